/*
 * The disk layer over real files: a qemu-made dynamic VHD parent and
 * differencing children written here by hand (qemu cannot write VHD
 * children).  Checks chain reads (whole disk and unaligned pieces against
 * the expected bytes), extent mapping per layer, how parents are found
 * (relative locator, drive-letter absolute path, basename fallback),
 * identity mismatch, self-loops, a missing parent, the read budget,
 * read-only opening, and the read-ahead of sequential streams (same bytes,
 * same byte count, and a file that shrinks under a read-ahead gives the
 * plain path's I/O error).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/common/bytes.h"
#include "scanner/disk.h"
#include "t_helpers.h"

#define VSIZE (4u << 20)
#define BLK (2u << 20)
#define NBLK (VSIZE / BLK)
#define BAT_OFF 1536u
#define LOC_OFF 2048u
#define BLK0 2560u /* child block 0: bitmap then data */
#define CFSIZE (BLK0 + 512 + BLK + 512)

static char dir[512];
static uint8_t *expect;
static uint8_t parent_uid[16];

static uint32_t csum(const uint8_t *p, size_t len, size_t at)
{
	uint32_t s = 0;

	for (size_t i = 0; i < len; i++)
		if (i < at || i >= at + 4)
			s += p[i];
	return ~s;
}

static int run(const char *cmd)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "cd '%s' && { %s; } >/dev/null 2>&1", dir, cmd);
	return system(buf);
}

static char *at(const char *name)
{
	static char p[4][600];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/*
 * Write a differencing child: sectors 8-15 of block 0 present (0xc5), the
 * rest from the parent.  loc_kind "W2ru"/"W2ku"; name is the parent's
 * Unicode name field (may be "").
 */
static int write_child(const char *file, const char *loc, uint32_t loc_kind, const uint8_t *puid,
		       const char *name)
{
	uint8_t *img = calloc(1, CFSIZE), *f, *dh;
	FILE *fp;
	size_t n;

	if (!img)
		return -1;
	f = img + CFSIZE - 512;
	dh = img + 512;
	memcpy(f, "conectix", 8);
	put_be32(f + 8, 2);
	put_be32(f + 12, 0x10000);
	put_be64(f + 16, 512);
	put_be64(f + 40, VSIZE);
	put_be64(f + 48, VSIZE);
	put_be32(f + 60, 4);
	memset(f + 68, 0x3c, 16);
	memcpy(dh, "cxsparse", 8);
	put_be64(dh + 8, ~0ull);
	put_be64(dh + 16, BAT_OFF);
	put_be32(dh + 24, 0x10000);
	put_be32(dh + 28, NBLK);
	put_be32(dh + 32, BLK);
	memcpy(dh + 40, puid, 16);
	for (size_t i = 0; name[i] && i < 255; i++)
		dh[64 + 2 * i + 1] = name[i];
	n = strlen(loc);
	put_be32(dh + 576, loc_kind);
	put_be32(dh + 576 + 4, 512);
	put_be64(dh + 576 + 16, LOC_OFF);
	if (loc_kind == 0x4d616358) { /* MacX: UTF-8 URL */
		put_be32(dh + 576 + 8, n);
		memcpy(img + LOC_OFF, loc, n);
	} else {
		put_be32(dh + 576 + 8, 2 * n);
		for (size_t i = 0; i < n; i++)
			put_le16(img + LOC_OFF + 2 * i, loc[i]);
	}
	put_be32(dh + 36, csum(dh, 1024, 36));
	for (unsigned i = 0; i < NBLK; i++)
		put_be32(img + BAT_OFF + 4 * i, 0xffffffffu);
	put_be32(img + BAT_OFF, BLK0 / 512);
	img[BLK0 + 1] = 0xff; /* sectors 8-15, MSB first */
	memset(img + BLK0 + 512 + 8 * 512, 0xc5, 8 * 512);
	put_be32(f + 64, csum(f, 512, 64));
	memcpy(img, f, 512);
	fp = fopen(file, "wb");
	if (!fp) {
		free(img);
		return -1;
	}
	n = fwrite(img, 1, CFSIZE, fp);
	free(img);
	return fclose(fp) || n != CFSIZE ? -1 : 0;
}

static int setup(void)
{
	FILE *fp;
	uint8_t foot[512];

	snprintf(dir, sizeof(dir), "%s/t-disk", BSW_BINDIR);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	if (run("command -v qemu-img && command -v qemu-io"))
		return 77;
	if (run("rm -f *.vhd p.raw && truncate -s 4M p.raw && "
		"qemu-io -f raw -c 'write -P 0x21 0 64k' -c 'write -P 0x42 3M 4k' p.raw && "
		"qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on p.raw par.vhd && "
		"mkdir -p sub"))
		return -1;
	expect = malloc(VSIZE);
	fp = fopen(at("p.raw"), "rb");
	if (!expect || !fp || fread(expect, 1, VSIZE, fp) != VSIZE)
		return -1;
	fclose(fp);
	memset(expect + 8 * 512, 0xc5, 8 * 512);
	fp = fopen(at("par.vhd"), "rb");
	if (!fp || fseek(fp, -512, SEEK_END) || fread(foot, 1, 512, fp) != 512)
		return -1;
	fclose(fp);
	memcpy(parent_uid, foot + 68, 16);
	return 0;
}

static bool direct; /* open with bsw_disk_opts.direct */

static int open_disk(struct bsw_disk **d, const char *file, struct bsw_fx **fx, uint64_t max_bytes,
		     char *err, size_t errlen)
{
	struct bsw_disk_opts o = { .max_bytes = max_bytes, .direct = direct };

	if (bsw_fx_create(fx))
		return -ENOMEM;
	return bsw_disk_open(d, file, &o, *fx, err, errlen);
}

static void test_chain(void)
{
	struct bsw_disk *d;
	struct bsw_fx *fx;
	char err[512];
	uint8_t *buf = malloc(VSIZE);
	struct bsw_dext ext[16];
	unsigned nr;
	int rc;

	T_CHECK(write_child(at("child.vhd"), ".\\par.vhd", 0x57327275, parent_uid, "par.vhd") == 0,
		"write child");
	rc = open_disk(&d, at("child.vhd"), &fx, 0, err, sizeof(err));
	T_CHECK(rc == 0, "open child: %s", err);
	if (rc || !buf) {
		bsw_fx_destroy(fx);
		free(buf);
		return;
	}
	T_CHECK(bsw_disk_nr_layers(d) == 2, "layers %u", bsw_disk_nr_layers(d));
	{
		const struct bsw_layer_info *l = bsw_disk_layer(d, 1);

		T_CHECK(l && !strcmp(l->found_by, "relative locator") && l->identity_ok == 1 &&
				!strcmp(l->subformat, "dynamic"),
			"layer 1 %s %d", l ? l->found_by : "-", l ? l->identity_ok : -2);
	}
	T_CHECK(!bsw_fx_has_code(fx, "CONT-CHAIN"), "no chain finding");
	T_CHECK(bsw_disk_size(d) == VSIZE, "size");
	T_CHECK(bsw_disk_read(d, buf, VSIZE, 0) == 0 && !memcmp(buf, expect, VSIZE),
		"whole chain read equals the expected bytes");
	/* unaligned pieces across child, parent and hole boundaries */
	{
		static const uint64_t offs[][2] = {
			{ 4000, 5000 },
			{ 1, 511 },
			{ 4095, 2 },
			{ 8191, 3 },
			{ 65535, 2 },
			{ 3 << 20, 4096 },
			{ (3 << 20) - 7, 9000 },
			{ VSIZE - 1, 1 },
			{ 2 * 1048576 - 100, 200 },
		};

		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			memset(buf, 0xee, offs[i][1]);
			T_CHECK(bsw_disk_read(d, buf, offs[i][1], offs[i][0]) == 0 &&
					!memcmp(buf, expect + offs[i][0], offs[i][1]),
				"read %llu+%llu", (unsigned long long)offs[i][0],
				(unsigned long long)offs[i][1]);
		}
	}
	T_CHECK(bsw_disk_read(d, buf, 2, VSIZE - 1) == -EIO, "read past the end");
	/* extents: parent 0-4095, child 4096-8191, parent 8192-65535, zeros */
	rc = bsw_disk_map(d, 0, 128 * 1024, ext, 16, &nr);
	T_CHECK(rc == 0 && nr >= 3, "map rc %d nr %u", rc, nr);
	if (!rc && nr >= 3) {
		T_CHECK(ext[0].kind == BSW_EXT_FILE && ext[0].layer == 1 && ext[0].voff == 0 &&
				ext[0].len == 4096,
			"ext0 kind %d layer %u len %llu", ext[0].kind, ext[0].layer,
			(unsigned long long)ext[0].len);
		T_CHECK(ext[1].kind == BSW_EXT_FILE && ext[1].layer == 0 && ext[1].voff == 4096 &&
				ext[1].len == 4096 && ext[1].poff == BLK0 + 512 + 4096,
			"ext1");
		T_CHECK(ext[2].kind == BSW_EXT_FILE && ext[2].layer == 1 && ext[2].voff == 8192,
			"ext2");
	}
	bsw_disk_close(d);
	bsw_fx_destroy(fx);

	/* the read budget */
	rc = open_disk(&d, at("child.vhd"), &fx, 1 << 20, err, sizeof(err));
	T_CHECK(rc == 0, "open: %s", err);
	if (!rc) {
		T_CHECK(bsw_disk_read(d, buf, VSIZE, 0) == -EFBIG, "budget -> -EFBIG");
		bsw_disk_close(d);
	}
	bsw_fx_destroy(fx);
	free(buf);
}

static void expect_open(const char *what, const char *file, int want_rc, const char *want_err,
			const char *found_by, int identity)
{
	struct bsw_disk *d;
	struct bsw_fx *fx;
	char err[512];
	int rc = open_disk(&d, file, &fx, 0, err, sizeof(err));

	if (want_rc) {
		T_CHECK(rc == want_rc && strstr(err, want_err), "%s: rc %d err '%s'", what, rc,
			err);
	} else {
		T_CHECK(rc == 0, "%s: %s", what, err);
	}
	if (!rc) {
		const struct bsw_layer_info *l = bsw_disk_layer(d, 1);

		T_CHECK(l && !strcmp(l->found_by, found_by) && l->identity_ok == identity,
			"%s: found by %s identity %d", what, l ? l->found_by : "-",
			l ? l->identity_ok : -2);
		T_CHECK(identity || bsw_fx_has_code(fx, "CONT-CHAIN"), "%s: CONT-CHAIN", what);
		bsw_disk_close(d);
	}
	bsw_fx_destroy(fx);
}

static void test_find(void)
{
	static const uint8_t other[16] = { 1, 2, 3 };

	/* an absolute Windows path that does not exist here: basename beside the child */
	write_child(at("abs.vhd"), "C:\\VMs\\gone\\par.vhd", 0x57326b75, parent_uid, "");
	expect_open("absolute", at("abs.vhd"), 0, NULL, "basename in child's folder", 1);
	/* only the parent's name recorded */
	write_child(at("name.vhd"), "", 0, parent_uid, "par.vhd");
	expect_open("name", at("name.vhd"), 0, NULL, "parent name in child's folder", 1);
	/* a relative path into a folder, forward or back slashes */
	write_child(at("sub/c.vhd"), "..\\par.vhd", 0x57327275, parent_uid, "");
	expect_open("dotdot", at("sub/c.vhd"), 0, NULL, "relative locator", 1);
	/* a parent that is not the one the child records */
	write_child(at("wrong.vhd"), "par.vhd", 0x57327275, other, "");
	expect_open("identity", at("wrong.vhd"), 0, NULL, "relative locator", 0);
	/* a child naming itself */
	write_child(at("self.vhd"), "self.vhd", 0x57327275, parent_uid, "");
	expect_open("loop", at("self.vhd"), -ELOOP, "loops", NULL, 0);
	/* two children naming each other */
	write_child(at("ping.vhd"), "pong.vhd", 0x57327275, parent_uid, "");
	write_child(at("pong.vhd"), "ping.vhd", 0x57327275, parent_uid, "");
	expect_open("loop2", at("ping.vhd"), -ELOOP, "loops", NULL, 0);
	/* the relative locator names something unusable (a folder): the next way works */
	write_child(at("viadir.vhd"), "sub", 0x57327275, parent_uid, "par.vhd");
	expect_open("fallback", at("viadir.vhd"), 0, NULL, "parent name in child's folder", 1);
	/* ... and with no other way, that failure is the message */
	write_child(at("onlydir.vhd"), "sub", 0x57327275, parent_uid, "");
	expect_open("unusable", at("onlydir.vhd"), -EINVAL, "not a regular file", NULL, 0);
	/* a Mac OS X file URL (MacX) naming the parent's absolute path */
	{
		char url[700];

		snprintf(url, sizeof(url), "file://localhost%s", at("par.vhd"));
		if (strlen(url) < 480) /* the locator area is 512 bytes */
			write_child(at("sub/mac.vhd"), url, 0x4d616358, parent_uid, "");
		if (strlen(url) < 480)
			expect_open("macx", at("sub/mac.vhd"), 0, NULL, "absolute locator", 1);
	}
	/* a parent that is nowhere */
	write_child(at("orphan.vhd"), "nothere.vhd", 0x57327275, parent_uid, "");
	expect_open("missing", at("orphan.vhd"), -ENOENT, "parent of", NULL, 0);
	/* not an image at all, a directory, an empty file */
	expect_open("dir", dir, -EINVAL, "not a regular file", NULL, 0);
	run(": > empty.img");
	expect_open("empty", at("empty.img"), -EINVAL, "empty file", NULL, 0);
}

static void test_readonly(void)
{
	struct stat a, b;
	struct bsw_disk *d;
	struct bsw_fx *fx;
	char err[512];

	/* a read-only file opens (O_RDONLY) and its mtime is untouched */
	run("cp par.vhd ro.vhd && chmod 0444 ro.vhd && touch -d @1000000000 ro.vhd");
	stat(at("ro.vhd"), &a);
	if (!open_disk(&d, at("ro.vhd"), &fx, 0, err, sizeof(err))) {
		uint8_t *buf = malloc(VSIZE);

		T_CHECK(buf && bsw_disk_read(d, buf, VSIZE, 0) == 0, "read ro");
		free(buf);
		bsw_disk_close(d);
	} else {
		T_CHECK(0, "open read-only file: %s", err);
	}
	bsw_fx_destroy(fx);
	stat(at("ro.vhd"), &b);
	T_CHECK(a.st_mtime == b.st_mtime && a.st_size == b.st_size, "unchanged");
}

/*
 * A stream of 256 KiB reads (the read-ahead's trigger) over the chain: the
 * bytes are the expected ones, and bytes_read counts what was asked for,
 * exactly as one read of the whole disk does.  Then a read that jumps
 * back, and one in the middle of what was read ahead.  The disks are
 * opened with .direct: buffered, the read-ahead skips ranges the page cache
 * holds, and these files were just written.
 */
static void test_readahead(void)
{
	const size_t piece = 256u << 10;
	uint64_t whole, streamed, base;
	struct bsw_disk *d;
	struct bsw_fx *fx;
	char err[512];
	uint8_t *buf = malloc(VSIZE);
	int rc;

	if (!buf)
		return;
	direct = true;
	rc = open_disk(&d, at("child.vhd"), &fx, 0, err, sizeof(err));
	T_CHECK(rc == 0, "open child: %s", err);
	if (rc)
		goto out;
	base = bsw_disk_bytes_read(d);
	T_CHECK(bsw_disk_read(d, buf, VSIZE, 0) == 0, "whole read");
	whole = bsw_disk_bytes_read(d) - base;
	bsw_disk_close(d);
	bsw_fx_destroy(fx);
	fx = NULL;

	rc = open_disk(&d, at("child.vhd"), &fx, 0, err, sizeof(err));
	T_CHECK(rc == 0, "open child: %s", err);
	if (rc)
		goto out;
	base = bsw_disk_bytes_read(d);
	memset(buf, 0xee, VSIZE);
	for (uint64_t off = 0; off < VSIZE; off += piece)
		T_CHECK(bsw_disk_read(d, buf + off, piece, off) == 0, "stream read at %llu",
			(unsigned long long)off);
	T_CHECK(!memcmp(buf, expect, VSIZE), "streamed bytes equal the expected ones");
	streamed = bsw_disk_bytes_read(d) - base;
	T_CHECK(streamed == whole, "bytes_read streamed %llu, whole %llu",
		(unsigned long long)streamed, (unsigned long long)whole);
	/* back to the start, then into the middle of a range read ahead */
	for (uint64_t off = 0; off < 4 * piece; off += piece)
		T_CHECK(bsw_disk_read(d, buf, piece, off) == 0 && !memcmp(buf, expect + off, piece),
			"second stream at %llu", (unsigned long long)off);
	T_CHECK(bsw_disk_read(d, buf, 5000, 4 * piece + 12345) == 0 &&
			!memcmp(buf, expect + 4 * piece + 12345, 5000),
		"read inside the window");
	T_CHECK(!bsw_disk_io_error(d, NULL), "no I/O error");
	bsw_disk_close(d);
	bsw_fx_destroy(fx);
	fx = NULL;

	/* the parent alone, copied; it shrinks while a stream is read ahead */
	T_CHECK(run("cp par.vhd ra.vhd") == 0, "copy");
	rc = open_disk(&d, at("ra.vhd"), &fx, 0, err, sizeof(err));
	T_CHECK(rc == 0, "open ra.vhd: %s", err);
	if (rc)
		goto out;
	{
		struct bsw_dext e;
		struct bsw_disk_ioerr ioe;
		unsigned nr = 0;
		uint64_t off;

		rc = bsw_disk_map(d, 0, 1, &e, 1, &nr);
		T_CHECK(rc == 0 && nr == 1 && e.kind == BSW_EXT_FILE, "map block 0");
		/*
		 * The file is cut after the first read, before the stream
		 * starts: the slots read ahead over the cut come back short,
		 * are dropped, and the plain read reports the I/O error.  (The
		 * child's own sectors are in the first piece: not compared.)
		 */
		T_CHECK(bsw_disk_read(d, buf, piece, 0) == 0, "first read");
		T_CHECK(truncate(at("ra.vhd"), (off_t)(e.poff + 6 * piece)) == 0, "truncate");
		for (off = piece; off < 6 * piece; off += piece)
			T_CHECK(bsw_disk_read(d, buf, piece, off) == 0 &&
					!memcmp(buf, expect + off, piece),
				"before the cut at %llu", (unsigned long long)off);
		T_CHECK(bsw_disk_read(d, buf, piece, off) == -EIO, "read past the cut fails");
		T_CHECK(bsw_disk_io_error(d, &ioe) && ioe.short_read && ioe.layer == 0,
			"the cut is an I/O error (short read)");
	}
	bsw_disk_close(d);
out:
	direct = false;
	bsw_fx_destroy(fx);
	free(buf);
}

int main(void)
{
	int rc = setup();

	if (rc == 77)
		return T_EXIT_SKIP;
	if (rc) {
		fprintf(stderr, "setup failed\n");
		return T_EXIT_FAIL;
	}
	test_chain();
	test_find();
	test_readonly();
	test_readahead();
	free(expect);
	return T_DONE();
}
