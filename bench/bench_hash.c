/*
 * Per-core hashing rates: SHA-256 through OpenSSL EVP (the path the WinSxS
 * checks use; SHA-NI where the CPU has it) and XXH3-64/128 (the sweep's
 * content cache key), over buffers of 4 KiB to 4 MiB.  bench/scan.sh prints
 * these beside `openssl speed -evp sha256` and `xxhsum -b`.
 *
 * Usage: bench_hash [MiB per measurement, default 512]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "formats/common/sha.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 65536, 1 << 20, 4 << 20 };
	size_t total = (size_t)(argc > 1 ? atoi(argv[1]) : 512) << 20;
	uint8_t *buf = malloc(4 << 20), out[32];
	volatile uint64_t sink = 0;
	unsigned i;

	if (!buf)
		return 1;
	for (i = 0; i < (4u << 20); i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	printf("%-10s %10s %12s %12s %12s\n", "buffer", "MiB", "sha256 MB/s", "xxh3-64 MB/s",
	       "xxh3-128 MB/s");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i], reps = total / n, r;
		double t0, ts, tx, tx2;

		t0 = now();
		for (r = 0; r < reps; r++)
			bsw_sha_buf(BSW_SHA256, buf, n, out); /* what the checks call */
		ts = now() - t0;
		t0 = now();
		for (r = 0; r < reps; r++)
			sink += XXH3_64bits(buf, n);
		tx = now() - t0;
		t0 = now();
		for (r = 0; r < reps; r++)
			sink += XXH3_128bits(buf, n).low64;
		tx2 = now() - t0;
		printf("%-10zu %10zu %12.0f %12.0f %12.0f\n", n, (reps * n) >> 20,
		       reps * n / ts / 1e6, reps * n / tx / 1e6, reps * n / tx2 / 1e6);
	}
	free(buf);
	return (int)(sink & 0) + (out[0] & 0);
}
