/*
 * bench_ntfs IMAGE [--partition N] [--checks] [--mem-rounds K]
 * End-to-end bsw_ntfs_open() of a volume (through bsw_disk and the ring),
 * then the record parse rate from memory: the $MFT read once, and every
 * record fixed up and walked K times.  One JSON line: records, seconds,
 * records_per_s, bytes_read, mem_records_per_s.  bench/ntfs.sh (the
 * libntfs-3g engineer's) runs it beside ntfsls, fls and fsntfsinfo.
 */
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs.h"
#include "formats/ntfs/ntfs_internal.h"
#include "scanner/checks/bootfiles.h"
#include "scanner/disk.h"
#include "scanner/report.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Parse every record of an in-memory $MFT the way pass 1 does. */
static uint64_t parse_all(const uint8_t *mft, size_t len, uint32_t rs)
{
	uint64_t n = len / rs, ok = 0;
	long i;

#pragma omp parallel for reduction(+ : ok) schedule(static)
	for (i = 0; i < (long)n; i++) {
		uint8_t r[4096];
		struct bsw_ntfs_rhdr h;
		struct bsw_ntfs_attr a;
		const char *why;
		uint32_t pos, prev = 0;
		unsigned bad, k = 0;

		if (rs > sizeof(r))
			continue;
		memcpy(r, mft + (size_t)i * rs, rs);
		if (get_le32(r) != 0x454C4946u || bsw_ntfs_fixup(r, rs, &bad) ||
		    bsw_ntfs_parse_rhdr(r, rs, rs, &h, &why))
			continue;
		pos = h.attrs_off;
		while (k++ < BSW_NTFS_MAX_ATTRS &&
		       bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why) > 0)
			;
		ok++;
	}
	return ok;
}

int main(int argc, char **argv)
{
	const char *image = NULL;
	unsigned part = 0, rounds = 5, i;
	bool checks = false;
	struct bsw_disk *d;
	struct bsw_src src;
	struct bsw_src_window win;
	struct bsw_ntfs *v = NULL;
	struct bsw_ntfs_opts o = { 0 };
	char err[256];
	double t0, t1, mt = 0;
	uint8_t *mft = NULL;
	size_t mlen = 0;
	uint64_t parsed = 0, bytes = 0;
	int ret;

	for (i = 1; i < (unsigned)argc; i++) {
		if (!strcmp(argv[i], "--partition") && i + 1 < (unsigned)argc)
			part = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--checks"))
			checks = true;
		else if (!strcmp(argv[i], "--mem-rounds") && i + 1 < (unsigned)argc)
			rounds = (unsigned)atoi(argv[++i]);
		else
			image = argv[i];
	}
	if (!image) {
		fprintf(stderr,
			"usage: bench_ntfs IMAGE [--partition N] [--checks] [--mem-rounds K]\n");
		return 16;
	}
	t0 = now();
	ret = bsw_disk_open(&d, image, NULL, NULL, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "bench_ntfs: %s: %s\n", image, err);
		return 8;
	}
	o.run_checks = checks;
	o.critical = bsw_boot_files;
	o.nr_critical = bsw_nr_boot_files;
	for (i = 0; i < bsw_disk_nr_parts(d); i++) {
		const struct bsw_part *p = bsw_disk_part(d, i);

		if (part ? p->index != part : p->fs != BSW_FS_NTFS)
			continue;
		bsw_disk_part_src(d, p, &src, &win);
		if (!bsw_ntfs_open(&v, &src, NULL, &o)) {
			part = p->index;
			break;
		}
	}
	t1 = now();
	if (v)
		bytes = bsw_ntfs_bytes_read(v);
	if (!v) {
		fprintf(stderr, "bench_ntfs: %s: no NTFS volume opened\n", image);
		bsw_disk_close(d);
		return 8;
	}
	if (rounds && !bsw_ntfs_read_all(v, 0, NULL, &mft, &mlen, (size_t)1 << 31)) {
		double m0 = now();

		for (i = 0; i < rounds; i++)
			parsed += parse_all(mft, mlen, bsw_ntfs_record_size(v));
		mt = now() - m0;
	}
	fputs("{\"bench\":\"ntfs\",\"image\":", stdout);
	bsw_json_str(stdout, image);
	printf(",\"partition\":%u,\"checks\":%s,"
	       "\"records\":%llu,\"seconds\":%.6f,\"records_per_s\":%.0f,"
	       "\"bytes_read\":%llu,\"mem_records\":%llu,\"mem_seconds\":%.6f,"
	       "\"mem_records_per_s\":%.0f,\"threads\":%d}\n",
	       part, checks ? "true" : "false", (unsigned long long)bsw_ntfs_nr_records(v), t1 - t0,
	       bsw_ntfs_nr_records(v) / (t1 - t0), (unsigned long long)bytes,
	       (unsigned long long)parsed, mt, mt > 0 ? parsed / mt : 0.0, omp_get_max_threads());
	free(mft);
	bsw_ntfs_close(v);
	bsw_disk_close(d);
	return 0;
}
