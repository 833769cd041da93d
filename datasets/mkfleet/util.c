/* Small helpers for mkfleet: deterministic bytes, PE files, files, commands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mkfleet.h"

/*
 * Determinism: libntfs-3g and hivex stamp what they write with the current
 * time.  These definitions in the executable take precedence over libc's
 * for the libraries (the executable is linked with --export-dynamic), so
 * every timestamp is the fixed instant below: 2025-07-08 00:00:00 UTC, or
 * the instant a child's session sets with mk_clock_set() while it runs.
 */
#define MK_FIXED_TIME 1751932800

/* The instant the clock shows: a child's session moves it (mk_clock_set). */
static time_t mk_now = MK_FIXED_TIME;

void mk_clock_set(int64_t unix_s)
{
	mk_now = unix_s ? (time_t)unix_s : MK_FIXED_TIME;
}

int clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE) {
		ts->tv_sec = mk_now;
		ts->tv_nsec = 0;
		return 0;
	}
	return syscall(SYS_clock_gettime, clk, ts);
}

int gettimeofday(struct timeval *tv, void *tz)
{
	(void)tz;
	tv->tv_sec = mk_now;
	tv->tv_usec = 0;
	return 0;
}

time_t time(time_t *t)
{
	if (t)
		*t = mk_now;
	return mk_now;
}

/*
 * The tools run as child processes (mkfs.vfat --invariant, mtools) take
 * their timestamps from SOURCE_DATE_EPOCH: the same fixed instant.
 */
__attribute__((constructor)) static void mk_fixed_env(void)
{
	setenv("SOURCE_DATE_EPOCH", "1751932800", 1);
	setenv("TZ", "UTC", 1);
	setenv("MTOOLS_SKIP_CHECK", "1", 1);
}

uint64_t mk_rand(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void mk_fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t s = seed;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t r = mk_rand(&s);

		memcpy(p + i, &r, n - i < 8 ? n - i : 8);
	}
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

/* A file with a minimal PE header (MZ, e_lfanew, "PE\0\0", COFF amd64). */
uint8_t *mk_pe(size_t size, const char *tag, uint64_t seed)
{
	uint8_t *p;

	if (size < 512)
		size = 512;
	p = malloc(size);
	if (!p)
		return NULL;
	mk_fill(p, size, seed ^ str_hash(tag));
	memset(p, 0, 512);
	p[0] = 'M';
	p[1] = 'Z';
	p[60] = 0x80; /* e_lfanew */
	memcpy(p + 0x80, "PE\0\0", 4);
	p[0x84] = 0x64; /* Machine: AMD64 (0x8664) */
	p[0x85] = 0x86;
	p[0x86] = 1;	/* one section */
	p[0x94] = 0xF0; /* SizeOfOptionalHeader: 240 (PE32+) */
	p[0x96] = 0x22; /* executable, large address aware */
	p[0x98] = 0x0B; /* optional header magic 0x20B: PE32+ */
	p[0x99] = 0x02;
	/* Subsystem: 1 native (drivers, kernel), 3 console (the rest), so that
	 * file(1) and libguestfs's inspection see an x86-64 PE32+ image */
	p[0x98 + 68] = strstr(tag, ".exe") || strstr(tag, ".dll") ? 3 : 1;
	snprintf((char *)p + 0x1C0, 64, "%s", tag); /* after the section table */
	return p;
}

int mk_run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc) {
		fprintf(stderr, "mkfleet: command failed (%d): %s\n", rc, cmd);
		return -1;
	}
	return 0;
}

int mk_write_file(const char *path, const void *d, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -errno;
	if (len && fwrite(d, 1, len, f) != len) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

uint8_t *mk_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc(n ? n : 1);
	if (p && n && fread(p, 1, n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	*len = n;
	return p;
}
