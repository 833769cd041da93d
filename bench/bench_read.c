/*
 * bench_read: how fast the read engine delivers a whole virtual disk.
 * Reads IMAGE's virtual disk front to back through bsw_disk_open() and
 * bsw_disk_read() (so through the container layer and the thread's
 * io_uring) in --chunk sized calls into a page-aligned buffer, and prints
 * one JSON line.  bench/read.sh runs it beside fio on the same file.  The
 * calls make a sequential stream, so the disk's read-ahead keeps reads in
 * flight between them; --no-readahead turns it off (the engine before it).
 *
 *   bench_read IMAGE [--chunk N[K|M]] [--depth N] [--max-io N[K|M]]
 *                    [--direct] [--no-readahead] [--sha SHA] [--label TEXT]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scanner/disk.h"
#include "formats/common/finding.h"
#include "scanner/ring.h"

#define BENCH_MAX_CHUNK (256u << 20)

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	if (*end == 'K' || *end == 'k')
		v <<= 10;
	else if (*end == 'M' || *end == 'm')
		v <<= 20;
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_read IMAGE [--chunk N] [--depth N] [--max-io N] [--direct] [--no-readahead]\n"
		"                  [--sha SHA] [--label TEXT]\n");
	exit(16);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "chunk", required_argument, NULL, 'c' },
					    { "depth", required_argument, NULL, 'q' },
					    { "max-io", required_argument, NULL, 'm' },
					    { "direct", no_argument, NULL, 'D' },
					    { "no-readahead", no_argument, NULL, 'R' },
					    { "sha", required_argument, NULL, 's' },
					    { "label", required_argument, NULL, 'l' },
					    { 0 } };
	struct bsw_disk_opts dopt = { 0 };
	struct bsw_ring_opts ropt = { .depth = 16 };
	uint64_t chunk = 4u << 20, size, off;
	const char *sha = getenv("BSW_GIT_SHA"), *label = "";
	struct bsw_ring *r;
	struct bsw_disk *d;
	struct bsw_fx *fx;
	char err[512];
	uint8_t *buf;
	double t0, t1;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'c': chunk = parse_size(optarg); break;
		case 'q': ropt.depth = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'm': ropt.max_io = (unsigned)parse_size(optarg); break;
		case 'D': dopt.direct = true; break;
		case 'R': dopt.no_readahead = true; break;
		case 's': sha = optarg; break;
		case 'l': label = optarg; break;
		default: usage();
		}
	}
	if (optind + 1 != argc || chunk < 4096 || chunk > BENCH_MAX_CHUNK || chunk % 4096)
		usage();
	bsw_ring_set_defaults(&ropt);
	if (bsw_fx_create(&fx))
		return 8;
	rc = bsw_disk_open(&d, argv[optind], &dopt, fx, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bench_read: %s: %s\n", argv[optind], err);
		return 8;
	}
	/* Page-aligned: an unaligned buffer costs 5x on cached reads. */
	if (posix_memalign((void **)&buf, 4096, chunk)) {
		fprintf(stderr, "bench_read: out of memory\n");
		return 8;
	}
	size = bsw_disk_size(d);
	t0 = now();
	for (off = 0; off < size; off += chunk) {
		size_t n = (size_t)(size - off < chunk ? size - off : chunk);

		rc = bsw_disk_read(d, buf, n, off);
		if (rc) {
			fprintf(stderr, "bench_read: read at %" PRIu64 ": %s\n", off,
				strerror(-rc));
			return 8;
		}
		/* Touch the data so nothing can be optimised away. */
		buf[0] ^= buf[n - 1];
	}
	t1 = now();
	r = bsw_ring_thread();
	printf("{\"tool\":\"bench_read\",\"image\":\"%s\",\"label\":\"%s\","
	       "\"bytes\":%" PRIu64 ",\"file_bytes\":%" PRIu64 ",\"seconds\":%.6f,"
	       "\"GBps\":%.4f,\"sha\":\"%s\",\"chunk\":%" PRIu64 ",\"depth\":%u,"
	       "\"max_io\":%u,\"direct\":%s,\"readahead\":%s,\"uring\":%s,"
	       "\"requests\":%" PRIu64 "}\n",
	       argv[optind], label, size, bsw_disk_bytes_read(d), t1 - t0, size / (t1 - t0) / 1e9,
	       sha ? sha : "unknown", chunk, ropt.depth, ropt.max_io,
	       dopt.direct ? "true" : "false", dopt.no_readahead ? "false" : "true",
	       r && bsw_ring_is_uring(r) ? "true" : "false", r ? bsw_ring_requests(r) : 0);
	free(buf);
	bsw_disk_close(d);
	bsw_fx_destroy(fx);
	bsw_ring_thread_exit();
	return 0;
}
