/* libFuzzer target: FAT volume open, directory walk, lookup and file reads. */
#include <stdint.h>
#include <stdlib.h>

#include "formats/fat/fat.h"

struct walk {
	struct bsw_fat *f;
	unsigned depth, nr;
};

static int visit(void *arg, const struct bsw_fat_ent *e)
{
	struct walk *w = arg;
	uint8_t *d;
	size_t len;

	if (++w->nr > 256)
		return 1;
	if (e->is_dir && w->depth < 4) {
		w->depth++;
		bsw_fat_readdir(w->f, e, visit, w);
		w->depth--;
	} else if (!bsw_fat_read_all(w->f, e, &d, &len, 1 << 20)) {
		free(d);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_src src;
	struct bsw_src_mem mem;
	struct bsw_fat *f;
	struct bsw_fat_ent root, e;
	struct walk w = { 0 };
	const char *why;

	bsw_src_mem_init(&src, &mem, data, size);
	if (bsw_fat_open(&f, &src, NULL, &why))
		return 0;
	w.f = f;
	bsw_fat_root(f, &root);
	bsw_fat_readdir(f, &root, visit, &w);
	bsw_fat_lookup(f, "\\EFI\\Microsoft\\Boot\\BCD", &e);
	bsw_fat_close(f);
	return 0;
}
