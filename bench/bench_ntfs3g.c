/*
 * bench_ntfs3g IMAGE [--partition N] [--hash] [--verdict]
 * libntfs-3g through bootsweep's binding (formats/ntfs/ntfs_lib.c): mount
 * the volume read from IMAGE by the container layer (raw, VHD, VHDX), walk
 * the whole tree (optionally hashing every file).  One JSON line: names,
 * seconds, names_per_s, bytes_read.  With --verdict, only the mount-time
 * verdict (bsw_ntfs3g_verdict): seconds, findings, bytes_read.  Run by
 * bench/ntfs.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/ntfs/ntfs_lib.h"
#include "scanner/disk.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count(void *arg, const struct bsw_ntfs3g_ent *e)
{
	(*(uint64_t *)arg)++;
	return 0;
}

int main(int argc, char **argv)
{
	struct bsw_disk_opts o = { 0 };
	struct bsw_disk *d = NULL;
	struct bsw_ntfs3g *v = NULL;
	struct bsw_src src;
	struct bsw_src_window win;
	const struct bsw_part *p = NULL;
	unsigned want = 0, i;
	bool hash = false, verdict = false;
	uint64_t names = 0;
	char err[256] = "";
	double t0, t1;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_ntfs3g IMAGE [--partition N] [--hash]\n");
		return 16;
	}
	for (i = 2; i < (unsigned)argc; i++) {
		if (!strcmp(argv[i], "--hash"))
			hash = true;
		else if (!strcmp(argv[i], "--verdict"))
			verdict = true;
		else if (!strcmp(argv[i], "--partition") && i + 1 < (unsigned)argc)
			want = (unsigned)atoi(argv[++i]);
	}
	t0 = now();
	r = bsw_disk_open(&d, argv[1], &o, NULL, err, sizeof(err));
	if (r) {
		fprintf(stderr, "%s: %s\n", argv[1], err);
		return 8;
	}
	for (i = 0; i < bsw_disk_nr_parts(d); i++) {
		const struct bsw_part *q = bsw_disk_part(d, i);

		if (q->fs == BSW_FS_NTFS && (!want || q->index == want)) {
			p = q;
			break;
		}
	}
	if (!p) {
		fprintf(stderr, "%s: no NTFS volume\n", argv[1]);
		return 8;
	}
	bsw_disk_part_src(d, p, &src, &win);
	if (verdict) {
		struct bsw_fx *fx = NULL;

		bsw_fx_create(&fx);
		r = bsw_ntfs3g_verdict(&src, fx);
		t1 = now();
		printf("{\"tool\":\"bench_ntfs3g\",\"verdict\":%d,\"findings\":%zu,"
		       "\"seconds\":%.3f,\"bytes_read\":%llu}\n",
		       r, bsw_fx_count(fx), t1 - t0, (unsigned long long)bsw_disk_bytes_read(d));
		bsw_fx_destroy(fx);
		bsw_disk_close(d);
		return r < 0 ? 8 : 0;
	}
	r = bsw_ntfs3g_open(&v, &src, NULL);
	if (r) {
		fprintf(stderr, "libntfs-3g mount: %s\n", strerror(-r));
		return 8;
	}
	r = bsw_ntfs3g_walk(v, hash, count, &names);
	bsw_ntfs3g_close(v);
	t1 = now();
	printf("{\"tool\":\"bench_ntfs3g\",\"names\":%llu,\"seconds\":%.3f,"
	       "\"names_per_s\":%.0f,\"bytes_read\":%llu,\"hash\":%s,\"ret\":%d}\n",
	       (unsigned long long)names, t1 - t0, names / (t1 - t0),
	       (unsigned long long)bsw_disk_bytes_read(d), hash ? "true" : "false", r);
	bsw_disk_close(d);
	return r ? 8 : 0;
}
