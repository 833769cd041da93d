/*
 * libFuzzer target: a whole volume from memory through bsw_ntfs_open with
 * every check, then lookups, a directory listing and file reads.
 */
#include <stdlib.h>

#include "formats/ntfs/ntfs.h"
#include "scanner/checks/bootfiles.h"

static int child(void *arg, uint64_t rec, const char *name)
{
	struct bsw_ntfs *v = arg;
	uint8_t buf[512];

	bsw_ntfs_read(v, rec, NULL, buf, sizeof(buf), 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_ntfs_opts o = { .run_checks = true,
				   .max_records = 1u << 16,
				   .critical = bsw_boot_files,
				   .nr_critical = bsw_nr_boot_files };
	struct bsw_src src;
	struct bsw_src_mem mem;
	struct bsw_ntfs *v;
	struct bsw_fx *fx;
	uint64_t rec;
	uint8_t *d;
	size_t len;
	char path[256];

	if (bsw_fx_create(&fx))
		return 0;
	bsw_src_mem_init(&src, &mem, data, size);
	if (!bsw_ntfs_open(&v, &src, fx, &o)) {
		bsw_ntfs_readdir(v, 5, child, v);
		if (!bsw_ntfs_lookup(v, "\\Windows\\System32\\config\\SYSTEM", &rec) &&
		    !bsw_ntfs_read_all(v, rec, NULL, &d, &len, 1 << 20))
			free(d);
		for (rec = 0; rec < 64 && rec < bsw_ntfs_nr_records(v); rec++)
			bsw_ntfs_path(v, rec, path, sizeof(path));
		bsw_ntfs_close(v);
	}
	bsw_fx_destroy(fx);
	return 0;
}
