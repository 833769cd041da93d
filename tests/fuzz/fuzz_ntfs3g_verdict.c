/*
 * libFuzzer target: a volume from memory through libntfs-3g via bootsweep's
 * binding: the mount-time verdict, then a mount, a capped walk, a lookup
 * and a read.  Crashes here are crashes of libntfs-3g on hostile input
 * (it is not built with the sanitizers; only its calls into malloc are
 * seen) or of the binding.
 */
#include <stdlib.h>

#include "formats/ntfs/ntfs_lib.h"

static int count(void *arg, const struct bsw_ntfs3g_ent *e)
{
	/* a mutant can hold a huge tree: stop early */
	return ++*(unsigned *)arg >= 4096;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_src src;
	struct bsw_src_mem mem;
	struct bsw_ntfs3g *v = NULL;
	struct bsw_fx *fx;
	unsigned n = 0;
	uint64_t rec;
	uint8_t *d;
	size_t len;

	if (bsw_fx_create(&fx))
		return 0;
	bsw_src_mem_init(&src, &mem, data, size);
	bsw_ntfs3g_verdict(&src, fx);
	if (!bsw_ntfs3g_open(&v, &src, fx)) {
		bsw_ntfs3g_walk(v, false, count, &n);
		if (!bsw_ntfs3g_lookup(v, "\\$Volume", &rec) &&
		    !bsw_ntfs3g_read_all(v, rec, &d, &len, 1 << 20))
			free(d);
		bsw_ntfs3g_close(v);
	}
	bsw_fx_destroy(fx);
	return 0;
}
