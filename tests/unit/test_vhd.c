/*
 * VHD built in memory: fixed, dynamic and differencing disks mapped
 * extent by extent, parent locators, and each kind of damage the open
 * must either report (checksums) or refuse with a precise message.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/cont/cont.h"
#include "t_helpers.h"

#include "vhd_build.h"

static int open_img(void **h, struct bsw_cont_info *ci, struct bsw_fx **fx, char *err, size_t len,
		    size_t fsize)
{
	static struct bsw_src src;
	static struct bsw_src_mem m;

	memset(ci, 0, sizeof(*ci));
	bsw_src_mem_init(&src, &m, img, fsize);
	if (bsw_fx_create(fx))
		return -ENOMEM;
	err[0] = 0;
	if (!bsw_vhd_ops.probe(&src))
		return -EINVAL;
	return bsw_vhd_ops.open(h, &src, NULL, *fx, ci, err, len);
}

static void test_dynamic(void)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	struct bsw_cext e;
	char err[256];
	void *h;

	make_dyn(3);
	T_CHECK(open_img(&h, &ci, &fx, err, sizeof(err), FSIZE) == 0, "open: %s", err);
	T_CHECK(!strcmp(ci.format, "vhd") && !strcmp(ci.subformat, "dynamic") &&
			ci.virtual_size == VSIZE && ci.block_size == BLK && !ci.has_parent,
		"info %s %s", ci.format, ci.subformat);
	T_CHECK(bsw_fx_count(fx) == 0, "findings %zu", bsw_fx_count(fx));
	T_CHECK(bsw_vhd_ops.map(h, 100, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
			e.poff == DATA0 + 512 + 100 && e.len == BLK - 100,
		"block 0 data");
	T_CHECK(bsw_vhd_ops.map(h, BLK, VSIZE, &e) == 0 && e.kind == BSW_CEXT_ZERO && e.len == BLK,
		"block 1 zero");
	T_CHECK(bsw_vhd_ops.map(h, 2 * BLK, 10, &e) == 0 && e.kind == BSW_CEXT_DATA &&
			e.poff == DATA0 + SPAN + 512 && e.len == 10,
		"block 2 short");
	T_CHECK(bsw_vhd_ops.map(h, VSIZE, 1, &e) != 0, "map past the end fails");
	bsw_vhd_ops.close(h);
	bsw_cont_info_free(&ci);
	bsw_fx_destroy(fx);
}

static void test_diff(void)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	struct bsw_cext e;
	char err[256];
	void *h;

	make_dyn(4);
	T_CHECK(open_img(&h, &ci, &fx, err, sizeof(err), FSIZE) == 0, "open: %s", err);
	T_CHECK(!strcmp(ci.subformat, "differencing") && ci.has_parent && ci.parent_id_valid &&
			ci.parent_id[0] == 0xa7,
		"diff info");
	T_CHECK(ci.nr_locators == 2 && !strcmp(ci.locator[0], ".\\par.vhd") &&
			!strcmp(ci.locator_kind[0], "relative") && !strcmp(ci.locator[1], "par") &&
			!strcmp(ci.locator_kind[1], "name"),
		"locators %u %s", ci.nr_locators, ci.nr_locators ? ci.locator[0] : "");
	/* sectors 0-1 of block 0 here, 2-7 in the parent */
	T_CHECK(bsw_vhd_ops.map(h, 0, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA && e.len == 1024,
		"present run %llu", (unsigned long long)e.len);
	T_CHECK(bsw_vhd_ops.map(h, 1024, VSIZE, &e) == 0 && e.kind == BSW_CEXT_PARENT &&
			e.len == BLK - 1024,
		"parent run %llu", (unsigned long long)e.len);
	T_CHECK(bsw_vhd_ops.map(h, 600, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
			e.len == 424 && e.poff == DATA0 + 512 + 600,
		"unaligned start");
	T_CHECK(bsw_vhd_ops.map(h, BLK, VSIZE, &e) == 0 && e.kind == BSW_CEXT_PARENT &&
			e.len == BLK,
		"unallocated block -> parent");
	T_CHECK(bsw_vhd_ops.map(h, 2 * BLK + 512, VSIZE, &e) == 0 && e.kind == BSW_CEXT_PARENT,
		"block 2 sector 1 bit clear");
	T_CHECK(bsw_vhd_ops.map(h, 2 * BLK, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
			e.len == 512,
		"block 2 sector 0");
	bsw_vhd_ops.close(h);
	bsw_cont_info_free(&ci);
	bsw_fx_destroy(fx);
}

/* Open must fail with rc < 0 and an error containing want. */
static void expect_fail(const char *what, const char *want, size_t fsize)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	char err[256];
	void *h;
	int rc = open_img(&h, &ci, &fx, err, sizeof(err), fsize);

	T_CHECK(rc < 0 && strstr(err, want), "%s: rc %d err '%s'", what, rc, err);
	if (!rc) {
		bsw_vhd_ops.close(h);
		bsw_cont_info_free(&ci);
	}
	bsw_fx_destroy(fx);
}

static void expect_finding(const char *what, enum bsw_problem p)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	char err[256];
	void *h;
	int rc = open_img(&h, &ci, &fx, err, sizeof(err), FSIZE);

	T_CHECK(rc == 0 && bsw_fx_nr(fx, p) == 1, "%s: rc %d err '%s'", what, rc, err);
	if (!rc) {
		bsw_vhd_ops.close(h);
		bsw_cont_info_free(&ci);
	}
	bsw_fx_destroy(fx);
}

static void test_damage(void)
{
	uint8_t *f = img + FSIZE - 512, *dh = img + 512;

	/* footer checksum wrong, copy at 0 good: warning, copy used */
	make_dyn(3);
	f[100] ^= 1;
	expect_finding("footer csum", PR_1_VHD_FOOTER_CSUM);
	/* a valid copy at offset 0 that differs from the footer */
	make_dyn(3);
	img[100] ^= 1;
	seal(img, NULL);
	expect_finding("footer copy differs", PR_1_VHD_FOOTER_MISMATCH);
	/* dynamic header checksum wrong */
	make_dyn(3);
	dh[100] ^= 1;
	expect_finding("dynhdr csum", PR_1_VHD_DYNHDR_CSUM);
	/* BAT entry past EOF */
	make_dyn(3);
	put_be32(img + BAT_OFF + 12, 0x7ffffff0);
	seal(f, dh);
	expect_fail("bat past eof", "BAT entry 3 points past end of file at offset", FSIZE);
	/* two blocks overlapping */
	make_dyn(3);
	put_be32(img + BAT_OFF + 4, DATA0 / 512 + 1);
	expect_fail("bat overlap", "overlap", FSIZE);
	/* a block on top of the BAT */
	make_dyn(3);
	put_be32(img + BAT_OFF + 4, BAT_OFF / 512);
	expect_fail("bat on bat", "overlaps the BAT", FSIZE);
	/* a petabyte virtual size */
	make_dyn(3);
	put_be64(f + 48, 1ull << 50);
	seal(f, NULL);
	memcpy(img, f, 512);
	expect_fail("petabyte", "virtual size", FSIZE);
	/* BAT too short for the size */
	make_dyn(3);
	put_be32(dh + 28, 1);
	seal(f, dh);
	expect_fail("short bat", "fewer than the virtual size", FSIZE);
	/* BAT offset past EOF */
	make_dyn(3);
	put_be64(dh + 16, 1ull << 40);
	seal(f, dh);
	expect_fail("bat offset", "lies past the end", FSIZE);
	/* block size not a power of two */
	make_dyn(3);
	put_be32(dh + 32, 3000);
	seal(f, dh);
	expect_fail("block size", "block size", FSIZE);
	/* no cxsparse */
	make_dyn(3);
	dh[0] = 'X';
	expect_fail("cxsparse", "cxsparse", FSIZE);
	/* unknown disk type */
	make_dyn(3);
	put_be32(f + 60, 7);
	seal(f, NULL);
	memcpy(img, f, 512);
	expect_fail("type", "disk type 7", FSIZE);
	/* fixed disk larger than its file */
	memset(img, 0, sizeof(img));
	memcpy(f, "conectix", 8);
	put_be64(f + 48, 1 << 20);
	put_be32(f + 60, 2);
	seal(f, NULL);
	expect_fail("fixed size", "fixed VHD claims", FSIZE);
	/* both footers unusable */
	make_dyn(3);
	memset(f, 0, 8);
	img[0] = 0;
	{
		struct bsw_src src;
		struct bsw_src_mem m;

		bsw_src_mem_init(&src, &m, img, FSIZE);
		T_CHECK(!bsw_vhd_ops.probe(&src), "no cookie anywhere: not a VHD");
	}
}

#define VFIX 8192u

static void test_fixed(void)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	struct bsw_cext e;
	char err[256];
	void *h;
	uint8_t *f = img + VFIX;

	memset(img, 0, sizeof(img));
	memcpy(f, "conectix", 8);
	put_be64(f + 16, ~0ull);
	put_be64(f + 48, VFIX);
	put_be32(f + 60, 2);
	seal(f, NULL);
	T_CHECK(open_img(&h, &ci, &fx, err, sizeof(err), VFIX + 512) == 0, "fixed: %s", err);
	T_CHECK(!strcmp(ci.subformat, "fixed") && ci.virtual_size == VFIX, "fixed info");
	T_CHECK(bsw_vhd_ops.map(h, 5, VFIX, &e) == 0 && e.kind == BSW_CEXT_DATA && e.poff == 5 &&
			e.len == VFIX - 5,
		"fixed map");
	bsw_vhd_ops.close(h);
	bsw_cont_info_free(&ci);
	bsw_fx_destroy(fx);
}

/* ---- hostile sizes: bounded memory (issue 15 item 1) --------------------- */

/*
 * A sparse file: the first 1536 bytes (footer copy + dynamic header) and
 * the footer are real, everything else reads as zeros, like an 8.5 GB
 * sparse file holding 8 KiB.  Counts the bytes read.
 */
struct giant {
	uint64_t size, nread;
	uint8_t head[1536], foot[512];
};

static int64_t giant_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct giant *g = ctx;

	if (off >= g->size)
		return 0;
	if (len > g->size - off)
		len = g->size - off;
	memset(buf, 0, len);
	if (off < sizeof(g->head))
		memcpy(buf, g->head + off, BSW_MIN(len, sizeof(g->head) - off));
	if (off + len > g->size - 512) {
		uint64_t a = BSW_MAX(off, g->size - 512);

		memcpy((uint8_t *)buf + (a - off), g->foot + (a - (g->size - 512)), off + len - a);
	}
	g->nread += len;
	return len;
}

static long max_rss_kb(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? 0 : ru.ru_maxrss;
}

/* make_dyn(3) with the virtual size, block size and entry count replaced. */
static void make_giant(struct giant *g, struct bsw_src *src, uint64_t vsize, uint32_t block,
		       uint32_t entries)
{
	uint8_t *f = img + FSIZE - 512, *dh = img + 512;

	make_dyn(3);
	put_be64(f + 40, vsize);
	put_be64(f + 48, vsize);
	put_be32(dh + 28, entries);
	put_be32(dh + 32, block);
	memcpy(img, f, 512);
	seal(img, dh);
	memcpy(f, img, 512);
	memset(g, 0, sizeof(*g));
	memcpy(g->head, img, sizeof(g->head));
	memcpy(g->foot, f, 512);
	/* the BAT (at 1536) as the header describes it, then the footer */
	g->size = BAT_OFF + (uint64_t)entries * 4 + 512;
	*src = (struct bsw_src){ .pread = giant_pread, .ctx = g, .size = g->size };
}

static int open_src(const struct bsw_src *src, uint64_t cap, void **h, struct bsw_cont_info *ci,
		    struct bsw_fx **fx, char *err, size_t len)
{
	struct bsw_cont_opts o = { .mem_cap = cap };

	memset(ci, 0, sizeof(*ci));
	err[0] = 0;
	if (bsw_fx_create(fx))
		return -ENOMEM;
	if (!bsw_vhd_ops.probe(src))
		return -EINVAL;
	return bsw_vhd_ops.open(h, src, &o, *fx, ci, err, len);
}

static void test_huge_bat(void)
{
	/* 2,040 GiB in 1 KiB blocks: 2,139,095,040 entries, an 8.5 GB BAT */
	uint64_t vsize = 2040ull << 30;
	uint32_t n = (uint32_t)(vsize / 1024);
	static struct giant g;
	struct bsw_src src;
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	char err[256];
	long rss0 = max_rss_kb();
	void *h;
	int rc;

	make_giant(&g, &src, vsize, 1024, n);
	T_CHECK(g.size > 8000000000ull, "the file is %llu bytes", (unsigned long long)g.size);
	rc = open_src(&src, 0, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == -EFBIG, "default cap: rc %d (%s)", rc, err);
	T_CHECK(strstr(err, "memory cap") && strstr(err, "2139095040"), "message: %s", err);
	T_CHECK(g.nread < 8192, "read %llu bytes before refusing", (unsigned long long)g.nread);
	if (!rc)
		bsw_vhd_ops.close(h);
	bsw_fx_destroy(fx);
	/* an explicit 512 MiB cap: the same */
	rc = open_src(&src, 512ull << 20, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == -EFBIG && strstr(err, "536870912"), "512 MiB cap: rc %d (%s)", rc, err);
	if (!rc)
		bsw_vhd_ops.close(h);
	bsw_fx_destroy(fx);
	T_CHECK(max_rss_kb() - rss0 < 64 * 1024, "peak RSS grew by %ld KiB", max_rss_kb() - rss0);

	/* 512-byte blocks: 4,278,190,080 entries, a 17 GB BAT */
	make_giant(&g, &src, vsize, 512, 0xffffffffu);
	g.nread = 0;
	rc = open_src(&src, 0, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == -EFBIG && strstr(err, "4278190080"), "tiny blocks: rc %d (%s)", rc, err);
	T_CHECK(g.nread < 8192, "tiny blocks: read %llu bytes", (unsigned long long)g.nread);
	if (!rc)
		bsw_vhd_ops.close(h);
	bsw_fx_destroy(fx);
	/* a table that does not cover the virtual size */
	make_giant(&g, &src, vsize, 1024, n - 1);
	rc = open_src(&src, 0, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == -EINVAL && strstr(err, "fewer than the virtual size"),
		"short count: rc %d (%s)", rc, err);
	if (!rc)
		bsw_vhd_ops.close(h);
	bsw_fx_destroy(fx);

	/* a BAT larger than the file is refused by the file, not the cap */
	make_giant(&g, &src, vsize, 1024, n);
	g.size = src.size = 1ull << 30;
	rc = open_src(&src, 0, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == -EINVAL && strstr(err, "past the end"), "BAT past EOF: rc %d (%s)", rc, err);
	if (!rc)
		bsw_vhd_ops.close(h);
	bsw_fx_destroy(fx);
}

/* The cap is exact: BAT + sorted copy (2 x 16 bytes) for make_dyn(3). */
static void test_cap_exact(void)
{
	static struct bsw_src src;
	static struct bsw_src_mem m;
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	char err[256];
	void *h;
	int rc;

	make_dyn(3);
	bsw_src_mem_init(&src, &m, img, FSIZE);
	rc = open_src(&src, 31, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == -EFBIG, "cap 31: rc %d (%s)", rc, err);
	if (!rc)
		bsw_vhd_ops.close(h);
	bsw_fx_destroy(fx);
	rc = open_src(&src, 32, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0, "cap 32: rc %d (%s)", rc, err);
	if (!rc) {
		bsw_vhd_ops.close(h);
		bsw_cont_info_free(&ci);
	}
	bsw_fx_destroy(fx);
}

/*
 * Differencing disk with room for one cached bitmap (BAT 16 + sorted 16 +
 * pointers 32 + bitmap 512 = 576 bytes): alternating blocks evict each
 * other, and every answer stays right.
 */
static void test_bitmap_cache(void)
{
	static struct bsw_src src;
	static struct bsw_src_mem m;
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	struct bsw_cext e;
	char err[256];
	void *h;
	int rc;

	make_dyn(4);
	bsw_src_mem_init(&src, &m, img, FSIZE);
	rc = open_src(&src, 575, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == -EFBIG, "cap 575: rc %d (%s)", rc, err);
	if (!rc) {
		bsw_vhd_ops.close(h);
		bsw_cont_info_free(&ci);
	}
	bsw_fx_destroy(fx);
	rc = open_src(&src, 576, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0, "cap 576: rc %d (%s)", rc, err);
	if (rc) {
		bsw_fx_destroy(fx);
		return;
	}
	for (int k = 0; k < 3; k++) {
		T_CHECK(bsw_vhd_ops.map(h, 0, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
				e.len == 1024,
			"round %d: block 0 present run %llu", k, (unsigned long long)e.len);
		T_CHECK(bsw_vhd_ops.map(h, 2 * BLK + 512, VSIZE, &e) == 0 &&
				e.kind == BSW_CEXT_PARENT,
			"round %d: block 2 sector 1", k);
		T_CHECK(bsw_vhd_ops.map(h, 2 * BLK, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
				e.len == 512,
			"round %d: block 2 sector 0", k);
	}
	bsw_vhd_ops.close(h);
	bsw_cont_info_free(&ci);
	bsw_fx_destroy(fx);
}

int main(void)
{
	test_huge_bat();
	test_cap_exact();
	test_bitmap_cache();
	test_dynamic();
	test_diff();
	test_fixed();
	test_damage();
	return T_DONE();
}
