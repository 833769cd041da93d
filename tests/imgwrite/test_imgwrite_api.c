/*
 * The image writer's C API: differencing children from extent lists
 * (overlaps: the later extent wins), read back through the scanner's own
 * disk layer; argument errors; deterministic output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets/imgwrite/imgwrite.h"
#include "scanner/disk.h"
#include "formats/common/finding.h"

#define SZ (16u << 20)

static int fails;

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);               \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static char dir[512];

static const char *p(const char *name)
{
	static char buf[4][600];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static int write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(b, 1, n, f) == n;

	if (f)
		fclose(f);
	return ok ? 0 : -1;
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(len ? (size_t)len : 1);
	if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*n = (size_t)len;
	return b;
}

/* The virtual disk of path through bsw_disk_*, compared with want. */
static int same_as(const char *path, const uint8_t *want)
{
	struct bsw_disk_opts o = { 0 };
	struct bsw_disk *d;
	struct bsw_fx *fx;
	char err[512];
	uint8_t *got;
	int rc;

	if (bsw_fx_create(&fx))
		return 0;
	rc = bsw_disk_open(&d, path, &o, fx, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "open %s: %s\n", path, err);
		bsw_fx_destroy(fx);
		return 0;
	}
	got = malloc(SZ);
	rc = got && bsw_disk_size(d) == SZ && !bsw_disk_read(d, got, SZ, 0) &&
	     !memcmp(got, want, SZ);
	free(got);
	bsw_disk_close(d);
	bsw_fx_destroy(fx);
	return rc;
}

static void chain(enum bsw_imgfmt fmt, const char *ext, const uint8_t *base)
{
	struct bsw_imgw_opts o = { .timestamp = 1234 };
	uint8_t *want = malloc(SZ), *a = malloc(64 << 10), *b = malloc(4096);
	char n0[64], n1[64], n2[64], loc[80];
	struct bsw_imgw_extent e[3];
	size_t la, lb;
	uint8_t *fa, *fb;

	snprintf(n0, sizeof(n0), "L0.%s", ext);
	snprintf(n1, sizeof(n1), "L1.%s", ext);
	snprintf(n2, sizeof(n2), "L2.%s", ext);
	memset(a, 0xa1, 64 << 10);
	memset(b, 0xb2, 4096);
	memcpy(want, base, SZ);

	o.id[0] = 1;
	CHECK(bsw_imgw_from_raw(p("base.raw"), p(n0), fmt, &o) == 0);
	CHECK(same_as(p(n0), want));

	/* Child 1: 64 KiB at 1 MiB + 512, then 4 KiB over its middle (wins),
	 * and a zero-length extent (ignored). */
	e[0] = (struct bsw_imgw_extent){ (1 << 20) + 512, 64 << 10, a };
	e[1] = (struct bsw_imgw_extent){ (1 << 20) + 8192, 4096, b };
	e[2] = (struct bsw_imgw_extent){ 5 << 20, 0, NULL };
	memcpy(want + (1 << 20) + 512, a, 64 << 10);
	memcpy(want + (1 << 20) + 8192, b, 4096);
	o.id[0] = 2;
	snprintf(loc, sizeof(loc), ".\\%s", n0);
	CHECK(bsw_imgw_diff(p(n0), loc, p(n1), e, 3, &o) == 0);
	CHECK(same_as(p(n1), want));

	/* Child 2: a whole block (2 MiB at 4 MiB) and the last sector. */
	{
		uint8_t *blk = malloc(2 << 20);

		memset(blk, 0x3c, 2 << 20);
		e[0] = (struct bsw_imgw_extent){ 4 << 20, 2 << 20, blk };
		e[1] = (struct bsw_imgw_extent){ SZ - 512, 512, b };
		memcpy(want + (4 << 20), blk, 2 << 20);
		memcpy(want + SZ - 512, b, 512);
		o.id[0] = 3;
		CHECK(bsw_imgw_diff(p(n1), n1, p(n2), e, 2, &o) == 0);
		CHECK(same_as(p(n2), want));
		/* Determinism: the same call gives the same bytes. */
		CHECK(bsw_imgw_diff(p(n1), n1, p("again"), e, 2, &o) == 0);
		fa = slurp(p(n2), &la);
		fb = slurp(p("again"), &lb);
		CHECK(fa && fb && la == lb && !memcmp(fa, fb, la));
		free(fa);
		free(fb);
		free(blk);
	}

	/* Errors: unaligned extent, data missing, no parent, empty locator. */
	e[0] = (struct bsw_imgw_extent){ 100, 512, b };
	CHECK(bsw_imgw_diff(p(n1), n1, p("bad"), e, 1, &o) == -EINVAL);
	e[0] = (struct bsw_imgw_extent){ 0, 512, NULL };
	CHECK(bsw_imgw_diff(p(n1), n1, p("bad"), e, 1, &o) == -EINVAL);
	e[0] = (struct bsw_imgw_extent){ 0, 512, b };
	CHECK(bsw_imgw_diff(p("nonexistent"), n1, p("bad"), e, 1, &o) == -ENOENT);
	CHECK(bsw_imgw_diff(p(n1), "", p("bad"), e, 1, &o) == -EINVAL);
	/* An extent past the parent's end. */
	e[0] = (struct bsw_imgw_extent){ SZ, 512, b };
	CHECK(bsw_imgw_diff(p(n1), n1, p("bad"), e, 1, &o) == -EINVAL);
	e[0] = (struct bsw_imgw_extent){ 0, 512, b };
	/* A parent that is not an image at all. */
	CHECK(bsw_imgw_diff(p("base.raw"), "base.raw", p("bad"), e, 1, &o) == -EINVAL);

	free(want);
	free(a);
	free(b);
}

/* Compare [off, off+len) of path's virtual disk with want. */
static int range_is(const char *path, uint64_t off, size_t len, const uint8_t *want)
{
	struct bsw_disk_opts o = { 0 };
	struct bsw_disk *d;
	struct bsw_fx *fx;
	char err[512];
	uint8_t *got = malloc(len);
	int rc = 0;

	if (!got || bsw_fx_create(&fx)) {
		free(got);
		return 0;
	}
	if (!bsw_disk_open(&d, path, &o, fx, err, sizeof(err))) {
		rc = !bsw_disk_read(d, got, len, off) && !memcmp(got, want, len);
		bsw_disk_close(d);
	} else {
		fprintf(stderr, "open %s: %s\n", path, err);
	}
	bsw_fx_destroy(fx);
	free(got);
	return rc;
}

/*
 * A 6 GiB disk: VHDX sector bitmaps cover 4 GiB per chunk, so a child with
 * partial blocks on both sides of 4 GiB needs two sector bitmap blocks; VHD
 * BAT indexes pass 2048.  The raw is sparse, so this stays cheap.
 */
static void big(enum bsw_imgfmt fmt, const char *ext)
{
	const uint64_t size = 6ull << 30, at[3] = { 1 << 20, (4ull << 30) + 512, size - 4096 };
	struct bsw_imgw_opts o = { .timestamp = 99 };
	struct bsw_imgw_extent e[3];
	char n0[32], n1[32];
	uint8_t x[4096], zero[8192] = { 0 }, want[8192];
	int fd;

	snprintf(n0, sizeof(n0), "big0.%s", ext);
	snprintf(n1, sizeof(n1), "big1.%s", ext);
	fd = open(p("big.raw"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0);
	memset(x, 0x6b, sizeof(x));
	CHECK(pwrite(fd, x, sizeof(x), (off_t)(5ull << 30)) == (ssize_t)sizeof(x));
	close(fd);
	o.id[0] = 0x40;
	CHECK(bsw_imgw_from_raw(p("big.raw"), p(n0), fmt, &o) == 0);
	memset(x, 0x5e, sizeof(x));
	for (int i = 0; i < 3; i++)
		e[i] = (struct bsw_imgw_extent){ at[i], i == 2 ? 4096 : 512, x };
	o.id[0] = 0x41;
	CHECK(bsw_imgw_diff(p(n0), n0, p(n1), e, 3, &o) == 0);
	/* each change, with the parent's bytes around it */
	for (int i = 0; i < 2; i++) {
		memset(want, 0, sizeof(want));
		memset(want + 512, 0x5e, 512);
		CHECK(range_is(p(n1), at[i] - 512, 1536, want));
	}
	memset(want, 0x5e, 4096);
	CHECK(range_is(p(n1), size - 4096, 4096, want));
	memset(want, 0x6b, 4096);
	CHECK(range_is(p(n1), 5ull << 30, 4096, want));
	CHECK(range_is(p(n1), (5ull << 30) + 4096, 8192, zero));
	unlink(p("big.raw"));
	unlink(p(n0));
	unlink(p(n1));
}

int main(void)
{
	uint8_t *base = calloc(1, SZ);
	struct bsw_imgw_opts o = { 0 };

	snprintf(dir, sizeof(dir), "%s/t-imgwrite-api", BSW_BINDIR);
	mkdir(dir, 0755);
	for (size_t i = 0; i < (3u << 20); i++)
		base[i] = (uint8_t)(i * 7 + (i >> 12));
	memset(base + (9 << 20), 0x44, 1 << 20);
	if (write_file(p("base.raw"), base, SZ))
		return 1;

	chain(BSW_IMG_VHD_DYNAMIC, "vhd", base);
	chain(BSW_IMG_VHDX_DYNAMIC, "vhdx", base);
	big(BSW_IMG_VHD_DYNAMIC, "vhd");
	big(BSW_IMG_VHDX_DYNAMIC, "vhdx");

	/* diff_raw: sizes must match. */
	CHECK(write_file(p("small.raw"), base, SZ / 2) == 0);
	CHECK(bsw_imgw_diff_raw(p("L0.vhd"), "L0.vhd", p("base.raw"), p("small.raw"), p("bad"),
				&o) == -EINVAL);
	/* from_raw: a raw that is not whole sectors; an unknown format. */
	CHECK(write_file(p("odd.raw"), base, 1000) == 0);
	CHECK(bsw_imgw_from_raw(p("odd.raw"), p("bad"), BSW_IMG_VHD_DYNAMIC, &o) == -EINVAL);
	CHECK(bsw_imgw_from_raw(p("base.raw"), p("bad"), (enum bsw_imgfmt)99, &o) == -EINVAL);
	/* NULL options mean defaults. */
	CHECK(bsw_imgw_from_raw(p("base.raw"), p("def.vhdx"), BSW_IMG_VHDX_FIXED, NULL) == 0);
	CHECK(same_as(p("def.vhdx"), base));
	CHECK(bsw_imgw_from_raw(p("base.raw"), p("copy.raw"), BSW_IMG_RAW, NULL) == 0);
	CHECK(same_as(p("copy.raw"), base));

	free(base);
	if (!fails) {
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", dir);
	}
	printf("%s\n", fails ? "FAILED" : "ok");
	return fails ? 1 : 0;
}
