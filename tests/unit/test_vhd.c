/*
 * VHD built in memory: fixed, dynamic and differencing disks mapped
 * extent by extent, parent locators, and each kind of damage the open
 * must either report (checksums) or refuse with a precise message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/cont/cont.h"
#include "t_helpers.h"

#include "vhd_build.h"

static int open_img(void **h, struct bsw_cont_info *ci, struct bsw_fx **fx,
		    char *err, size_t len, size_t fsize)
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
		e.poff == DATA0 + 512 + 100 && e.len == BLK - 100, "block 0 data");
	T_CHECK(bsw_vhd_ops.map(h, BLK, VSIZE, &e) == 0 && e.kind == BSW_CEXT_ZERO &&
		e.len == BLK, "block 1 zero");
	T_CHECK(bsw_vhd_ops.map(h, 2 * BLK, 10, &e) == 0 && e.kind == BSW_CEXT_DATA &&
		e.poff == DATA0 + SPAN + 512 && e.len == 10, "block 2 short");
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
	T_CHECK(!strcmp(ci.subformat, "differencing") && ci.has_parent &&
		ci.parent_id_valid && ci.parent_id[0] == 0xa7, "diff info");
	T_CHECK(ci.nr_locators == 2 && !strcmp(ci.locator[0], ".\\par.vhd") &&
		!strcmp(ci.locator_kind[0], "relative") && !strcmp(ci.locator[1], "par") &&
		!strcmp(ci.locator_kind[1], "name"), "locators %u %s", ci.nr_locators,
		ci.nr_locators ? ci.locator[0] : "");
	/* sectors 0-1 of block 0 here, 2-7 in the parent */
	T_CHECK(bsw_vhd_ops.map(h, 0, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
		e.len == 1024, "present run %llu", (unsigned long long)e.len);
	T_CHECK(bsw_vhd_ops.map(h, 1024, VSIZE, &e) == 0 && e.kind == BSW_CEXT_PARENT &&
		e.len == BLK - 1024, "parent run %llu", (unsigned long long)e.len);
	T_CHECK(bsw_vhd_ops.map(h, 600, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
		e.len == 424 && e.poff == DATA0 + 512 + 600, "unaligned start");
	T_CHECK(bsw_vhd_ops.map(h, BLK, VSIZE, &e) == 0 && e.kind == BSW_CEXT_PARENT &&
		e.len == BLK, "unallocated block -> parent");
	T_CHECK(bsw_vhd_ops.map(h, 2 * BLK + 512, VSIZE, &e) == 0 &&
		e.kind == BSW_CEXT_PARENT, "block 2 sector 1 bit clear");
	T_CHECK(bsw_vhd_ops.map(h, 2 * BLK, VSIZE, &e) == 0 &&
		e.kind == BSW_CEXT_DATA && e.len == 512, "block 2 sector 0");
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
	T_CHECK(bsw_vhd_ops.map(h, 5, VFIX, &e) == 0 && e.kind == BSW_CEXT_DATA &&
		e.poff == 5 && e.len == VFIX - 5, "fixed map");
	bsw_vhd_ops.close(h);
	bsw_cont_info_free(&ci);
	bsw_fx_destroy(fx);
}

int main(void)
{
	test_dynamic();
	test_diff();
	test_fixed();
	test_damage();
	return T_DONE();
}
