/*
 * Per-core hashing rates, measured in CPU time (so that other processes on
 * a shared machine slow the wall clock, not the figure):
 *
 *   - SHA-256 through bsw_sha_buf (what the WinSxS checks call: one call
 *     per file, from the read buffer) on the sizes WinSxS files have,
 *     4 KiB to 1 MiB, against `openssl speed -evp sha256 -bytes N` run on
 *     the same sizes in the same run, in turn with ours (openssl speed
 *     also divides by CPU user time unless given -elapsed); medians of
 *     REPS.  The "WinSxS mix" line is equal bytes of every size.
 *   - XXH3-64/128 (the sweep's content cache key), for scale.
 *
 * Usage: bench_hash [MiB per measurement (default 256)] [REPS (default 5)]
 *        BSW_BENCH_NO_OPENSSL=1 skips the anchor.
 *
 * Prints one row per size, the mix, and the JSON line
 * {"bench":"hash",...,"ratio_mix":R} on stdout.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "formats/common/sha.h"
#include "formats/common/src.h"

#define MAX_REPS 15

static const size_t sizes[] = { 4096, 16384, 65536, 262144, 1 << 20 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* bsw_sha_buf over reps buffers of n bytes: bytes per CPU second. */
static double sha_rate(const uint8_t *buf, size_t n, size_t total)
{
	size_t reps = total / n ? total / n : 1;
	uint8_t out[BSW_SHA_MAX];
	double t0 = cpu_now();

	/* four buffers in turn, so that not one stays in the L1 cache */
	for (size_t r = 0; r < reps; r++)
		bsw_sha_buf(BSW_SHA256, buf + (r & 3) * n, n, out);
	return reps * n / (cpu_now() - t0);
}

/* `openssl speed -evp sha256 -bytes n`: bytes per second (0: failed). */
static double openssl_rate(size_t n)
{
	char cmd[160], line[512];
	double k = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "openssl speed -seconds 1 -evp sha256 -bytes %zu 2>/dev/null",
		 n);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p))
		if (!strncmp(line, "sha256 ", 7))
			sscanf(line + 7, "%lfk", &k); /* the last row: 1000s of bytes/s */
	pclose(p);
	return k * 1000;
}

int main(int argc, char **argv)
{
	size_t total = (size_t)(argc > 1 ? atoi(argv[1]) : 256) << 20;
	unsigned reps = argc > 2 ? (unsigned)atoi(argv[2]) : 5;
	bool anchor = !getenv("BSW_BENCH_NO_OPENSSL");
	uint8_t *buf = bsw_alloc_aligned(4u << 20);
	double ours[NSIZES][MAX_REPS], ssl[NSIZES][MAX_REPS], mo[NSIZES], ma[NSIZES];
	double to = 0, ta = 0;
	volatile uint64_t sink = 0;
	unsigned i, r;

	if (!buf || !total)
		return 1;
	if (reps < 1)
		reps = 1;
	if (reps > MAX_REPS)
		reps = MAX_REPS;
	for (i = 0; i < (4u << 20); i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	/* in turn, so that a change of load hits both alike */
	for (r = 0; r < reps; r++)
		for (i = 0; i < NSIZES; i++) {
			ours[i][r] = sha_rate(buf, sizes[i], total);
			ssl[i][r] = anchor ? openssl_rate(sizes[i]) : 0;
		}
	printf("SHA-256 per core (CPU time), medians of %u: bsw_sha_buf vs openssl speed -evp sha256\n",
	       reps);
	printf("%-10s %14s %14s %8s\n", "size", "bsw MB/s", "openssl MB/s", "ratio");
	for (i = 0; i < NSIZES; i++) {
		mo[i] = median(ours[i], reps);
		ma[i] = median(ssl[i], reps);
		/* equal bytes of each size: time adds up as bytes / rate */
		to += 1 / mo[i];
		ta += ma[i] > 0 ? 1 / ma[i] : 0;
		printf("%-10zu %14.0f %14.0f %8.3f\n", sizes[i], mo[i] / 1e6, ma[i] / 1e6,
		       ma[i] > 0 ? mo[i] / ma[i] : 0);
	}
	printf("%-10s %14.0f %14.0f %8.3f\n", "WinSxS mix", NSIZES / to / 1e6,
	       ta > 0 ? NSIZES / ta / 1e6 : 0, ta > 0 ? ta / to : 0);

	printf("%-10s %14s %14s\n", "buffer", "xxh3-64 MB/s", "xxh3-128 MB/s");
	for (i = 0; i < NSIZES; i++) {
		size_t n = sizes[i], k = total / n, j;
		double t0, tx, tx2;

		t0 = cpu_now();
		for (j = 0; j < k; j++)
			sink += XXH3_64bits(buf, n);
		tx = cpu_now() - t0;
		t0 = cpu_now();
		for (j = 0; j < k; j++)
			sink += XXH3_128bits(buf, n).low64;
		tx2 = cpu_now() - t0;
		printf("%-10zu %14.0f %14.0f\n", n, k * n / tx / 1e6, k * n / tx2 / 1e6);
	}
	printf("{\"bench\":\"hash\",\"reps\":%u,\"MiB\":%zu,\"sha256_mix_Bps\":%.0f,"
	       "\"openssl_mix_Bps\":%.0f,\"ratio_mix\":%.3f}\n",
	       reps, total >> 20, NSIZES / to, ta > 0 ? NSIZES / ta : 0, ta > 0 ? ta / to : 0);
	free(buf);
	return (int)(sink & 0);
}
