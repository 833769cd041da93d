/*
 * Replay driver for the libFuzzer targets when they are built without
 * libFuzzer (gcc, plain ctest).  Each argument is a file or a directory of
 * files; every file is fed to LLVMFuzzerTestOneInput as it is, then as
 * BSW_FUZZ_MUTANTS (default 64) deterministic mutants: byte flips, 0x00/0xFF
 * runs, little-endian field overwrites with extreme values, and truncations.
 * A missing argument is skipped (a corpus may be absent), but a run that fed
 * nothing at all fails, so a broken seed list cannot pass silently.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_FILE (64u << 20)

static unsigned long nr_inputs;

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void mutate(uint8_t *buf, size_t *size, uint64_t *s)
{
	size_t n = *size;
	unsigned kind = rng_next(s) % 6, i, k;
	static const uint32_t extremes[] = { 0,		 1,	     0x7fffffff, 0x80000000,
					     0xffffffff, 0xfffffffe, 0x1000,	 0x200 };

	if (n == 0)
		return;
	switch (kind) {
	case 0: /* flip a few bits */
		for (i = 0; i < 4; i++)
			buf[rng_next(s) % n] ^= 1u << (rng_next(s) % 8);
		break;
	case 1: /* overwrite an aligned 32-bit field */
	case 2: {
		size_t off = (rng_next(s) % n) & ~(size_t)3;
		uint32_t v = extremes[rng_next(s) % 8];

		for (k = 0; k < 4 && off + k < n; k++)
			buf[off + k] = (uint8_t)(v >> (8 * k));
		break;
	}
	case 3: { /* a run of 0x00 or 0xFF */
		size_t off = rng_next(s) % n, len = 1 + rng_next(s) % 64;

		if (len > n - off)
			len = n - off;
		memset(buf + off, (rng_next(s) & 1) ? 0xff : 0, len);
		break;
	}
	case 4: /* truncate */ *size = rng_next(s) % n; break;
	default: { /* copy one region over another */
		size_t a = rng_next(s) % n, b = rng_next(s) % n;
		size_t len = 1 + rng_next(s) % 512;

		if (len > n - a)
			len = n - a;
		if (len > n - b)
			len = n - b;
		memmove(buf + b, buf + a, len);
		break;
	}
	}
}

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *orig, *work;
	size_t size, wsize;
	long end;
	unsigned mutants = 64, m;
	const char *env = getenv("BSW_FUZZ_MUTANTS");
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	if (!f)
		return;
	if (fseek(f, 0, SEEK_END) || (end = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return;
	}
	size = (size_t)end > REPLAY_MAX_FILE ? REPLAY_MAX_FILE : (size_t)end;
	orig = malloc(size ? size : 1);
	work = malloc(size ? size : 1);
	if (!orig || !work || fread(orig, 1, size, f) != size) {
		fclose(f);
		free(orig);
		free(work);
		return;
	}
	fclose(f);
	if (env)
		mutants = (unsigned)strtoul(env, NULL, 0);
	for (const char *p = path; *p; p++)
		seed = (seed ^ (uint8_t)*p) * 0x100000001b3ull;

	memcpy(work, orig, size);
	LLVMFuzzerTestOneInput(work, size);
	nr_inputs++;
	for (m = 0; m < mutants; m++) {
		memcpy(work, orig, size);
		wsize = size;
		mutate(work, &wsize, &seed);
		if (m & 1)
			mutate(work, &wsize, &seed);
		LLVMFuzzerTestOneInput(work, wsize);
		nr_inputs++;
	}
	free(orig);
	free(work);
}

static void run_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char sub[4096];

	if (stat(path, &st))
		return;
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		run_path(sub);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		run_path(argv[i]);
	printf("replayed %lu inputs\n", nr_inputs);
	return nr_inputs ? 0 : 1;
}
