/*
 * VHDX built in memory after [MS-VHDX]: header choice by sequence number,
 * region table fallback, metadata, BAT states, differencing sector
 * bitmaps and parent locator, the log replayed as an in-memory overlay
 * (active sequence only, file untouched), and each kind of damage that
 * must be reported or refused with a precise message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "formats/common/bytes.h"
#include "formats/common/crc.h"
#include "formats/cont/cont.h"
#include "t_helpers.h"

#include "vhdx_build.h"

static uint8_t *orig;

static int do_open(void **h, struct bsw_cont_info *ci, struct bsw_fx **fx, char *err, size_t len)
{
	static struct bsw_src src;
	static struct bsw_src_mem m;

	memset(ci, 0, sizeof(*ci));
	bsw_src_mem_init(&src, &m, img, FSIZE);
	err[0] = 0;
	if (bsw_fx_create(fx))
		return -ENOMEM;
	if (!bsw_vhdx_ops.probe(&src))
		return -EINVAL;
	return bsw_vhdx_ops.open(h, &src, NULL, *fx, ci, err, len);
}

static void done(void *h, struct bsw_cont_info *ci, struct bsw_fx *fx, int rc)
{
	if (!rc) {
		bsw_vhdx_ops.close(h);
		bsw_cont_info_free(ci);
	}
	bsw_fx_destroy(fx);
}

static void test_dynamic(void)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	struct bsw_cext e;
	char err[256];
	void *h;
	int rc;

	make(false, false);
	rc = do_open(&h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0, "open: %s", err);
	if (rc)
		return done(h, &ci, fx, rc);
	T_CHECK(!strcmp(ci.subformat, "dynamic") && ci.virtual_size == VSIZE &&
			ci.block_size == MiB && ci.logical_sector == 512 &&
			ci.physical_sector == 4096 && !ci.has_parent,
		"info %s", ci.subformat);
	T_CHECK(ci.id[0] == 0x22, "header 2 (higher sequence) used: id %02x", ci.id[0]);
	T_CHECK(bsw_fx_count(fx) == 0, "no findings: %zu", bsw_fx_count(fx));
	T_CHECK(bsw_vhdx_ops.map(h, 100, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
			e.poff == 4 * MiB + 100 && e.len == MiB - 100,
		"block 0");
	T_CHECK(bsw_vhdx_ops.map(h, MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_ZERO && e.len == MiB,
		"block 1 not present -> zero");
	T_CHECK(bsw_vhdx_ops.map(h, 2 * MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_ZERO,
		"block 2 zero");
	T_CHECK(bsw_vhdx_ops.map(h, 3 * MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
			e.poff == 5 * MiB,
		"block 3");
	done(h, &ci, fx, rc);
}

static void test_log(void)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	struct bsw_cext e;
	char err[256];
	void *h;
	int rc;

	make(false, true);
	log_with_bat_update();
	memcpy(orig, img, FSIZE);
	rc = do_open(&h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0, "open with log: %s", err);
	if (rc)
		return done(h, &ci, fx, rc);
	T_CHECK(ci.log_replayed && bsw_fx_nr(fx, PR_2_VHDX_LOG_REPLAYED) == 1, "replayed");
	{
		const struct bsw_finding *f = bsw_fx_count(fx) ? bsw_fx_get(fx, 0) : NULL;
		char msg[256] = "";

		if (f)
			bsw_finding_message(f, msg, sizeof(msg));
		T_CHECK(strstr(msg, "2 pending entries (sequence 11)"), "message '%s'", msg);
	}
	/* the data sector: 8 leading bytes, 4084 from the sector, 4 trailing */
	T_CHECK(bsw_vhdx_ops.map(h, 8192, VSIZE, &e) == 0 && e.kind == BSW_CEXT_MEM &&
			e.len == 4096 && e.mem,
		"log sector served from memory");
	if (e.kind == BSW_CEXT_MEM && e.mem)
		T_CHECK(e.mem[0] == (0xa1 ^ 0x0f) && e.mem[7] == (0xa1 ^ 0x0f) &&
				e.mem[8] == 0xa1 && e.mem[4091] == 0xa1 &&
				e.mem[4092] == (0xa1 ^ 0xff) && e.mem[4095] == (0xa1 ^ 0xff),
			"sector bytes");
	T_CHECK(bsw_vhdx_ops.map(h, 0, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA && e.len == 8192,
		"the old entry (seq 5) was not applied; data up to the sector");
	/* the BAT as the log left it: block 1 now at 6 MiB */
	T_CHECK(bsw_vhdx_ops.map(h, MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
			e.poff == 6 * MiB && e.len == MiB,
		"block 1 allocated by the log: kind %d", e.kind);
	T_CHECK(bsw_vhdx_ops.map(h, 3 * MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_ZERO &&
			e.len == 4096,
		"zero descriptor");
	T_CHECK(bsw_vhdx_ops.map(h, 3 * MiB + 4096, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
			e.poff == 5 * MiB + 4096,
		"after the zeros");
	T_CHECK(!memcmp(orig, img, FSIZE), "the image bytes were not modified");
	done(h, &ci, fx, rc);

	/* the head's entry corrupt: entry A alone is a valid sequence (head 10) */
	make(false, true);
	log_with_bat_update();
	img[LOG + 4096 + 4096 + 100] ^= 1; /* inside entry B */
	rc = do_open(&h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0 && ci.log_replayed, "open: %s", err);
	if (!rc) {
		T_CHECK(bsw_vhdx_ops.map(h, MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_ZERO,
			"BAT update of the broken entry not applied");
		T_CHECK(bsw_vhdx_ops.map(h, 8192, VSIZE, &e) == 0 && e.kind == BSW_CEXT_MEM,
			"entry A applied");
	}
	done(h, &ci, fx, rc);

	/* no valid entry at all: reported, image read without the log */
	make(false, true);
	rc = do_open(&h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0 && !ci.log_replayed && bsw_fx_nr(fx, PR_2_VHDX_LOG_BAD) == 1 &&
			bsw_fx_has_code(fx, "CONT-VHDX"),
		"empty log with a LogGuid: %s", err);
	done(h, &ci, fx, rc);

	/* a log that points outside the file */
	make(false, true);
	put64(img + 128 * 1024 + 72, 100ull * MiB);
	crc_at(img + 128 * 1024, 4096, 4);
	put64(img + 64 * 1024 + 72, 100ull * MiB);
	crc_at(img + 64 * 1024, 4096, 4);
	rc = do_open(&h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0 && bsw_fx_nr(fx, PR_2_VHDX_LOG_BAD) == 1, "log past EOF: %s", err);
	done(h, &ci, fx, rc);
}

/* A log full of zero descriptors: the overlay cap stops it, quickly, unapplied. */
static void test_log_flood(void)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	struct bsw_cext e;
	char err[256];
	void *h;
	int rc;
	time_t t0 = time(NULL);

	make(false, true);
	for (uint32_t k = 0; k < 256; k++) {
		uint8_t *l = img + LOG + 4096 * k;
		uint64_t seq = 100 + k;

		memcpy(l, "loge", 4);
		put_le32(l + 8, 4096);
		put_le32(l + 12, 0);
		put64(l + 16, seq);
		put_le32(l + 24, 126);
		memcpy(l + 32, LOGGUID, 16);
		for (uint32_t i = 0; i < 126; i++) {
			uint8_t *d = l + 64 + 32 * i;

			memcpy(d, "zero", 4);
			put64(d + 8, 4096);
			put64(d + 16, (8ull << 20) + 8192ull * (k * 126 + i));
			put64(d + 24, seq);
		}
		crc_at(l, 4096, 4);
	}
	rc = do_open(&h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0 && bsw_fx_nr(fx, PR_2_VHDX_LOG_BAD) == 1 && !ci.log_replayed,
		"flooded log refused: rc %d %s", rc, err);
	if (!rc)
		T_CHECK(bsw_vhdx_ops.map(h, 0, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
				e.len == MiB,
			"no partial overlay left");
	T_CHECK(time(NULL) - t0 < 5, "took %ld s", (long)(time(NULL) - t0));
	done(h, &ci, fx, rc);
}

static void test_diff(void)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	struct bsw_cext e;
	char err[256];
	void *h;
	int rc;
	static const uint8_t want[16] = { 4, 3, 2, 1, 6, 5, 8, 7, 9, 10, 11, 12, 13, 14, 15, 16 };

	make(true, false);
	rc = do_open(&h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0, "open diff: %s", err);
	if (rc)
		return done(h, &ci, fx, rc);
	T_CHECK(!strcmp(ci.subformat, "differencing") && ci.has_parent, "diff");
	T_CHECK(ci.parent_id_valid && !memcmp(ci.parent_id, want, 16), "parent_linkage");
	T_CHECK(ci.nr_locators == 2 && !strcmp(ci.locator[0], "..\\base.vhdx") &&
			!strcmp(ci.locator_kind[0], "relative") &&
			!strcmp(ci.locator[1], "C:\\VMs\\base.vhdx") &&
			!strcmp(ci.locator_kind[1], "absolute"),
		"locators %u", ci.nr_locators);
	T_CHECK(bsw_vhdx_ops.map(h, 0, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
			e.len == 4096 && e.poff == 4 * MiB,
		"sectors 0-7 here");
	T_CHECK(bsw_vhdx_ops.map(h, 4096, VSIZE, &e) == 0 && e.kind == BSW_CEXT_PARENT &&
			e.len == MiB - 4096,
		"rest of block 0 from the parent: %llu", (unsigned long long)e.len);
	T_CHECK(bsw_vhdx_ops.map(h, 1000, 10, &e) == 0 && e.kind == BSW_CEXT_DATA && e.len == 10 &&
			e.poff == 4 * MiB + 1000,
		"short unaligned");
	T_CHECK(bsw_vhdx_ops.map(h, 2 * MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_PARENT,
		"not present -> parent");
	done(h, &ci, fx, rc);
}

/* 4096-byte logical sectors: chunk ratio 32768, one bitmap bit per 4 KiB. */
static void test_diff_4k(void)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	struct bsw_cext e;
	char err[256];
	void *h;
	int rc;

	make(true, false);
	put_le32(img + META + 64 * 1024 + 16, 4096);
	put64(img + BAT + 8 * CR, 0);
	put64(img + BAT + 8 * 32768, bat_ent(6, 5 * MiB));
	img[5 * MiB] = 0x03; /* sectors 0-1 (8 KiB) present */
	rc = do_open(&h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0 && ci.logical_sector == 4096, "open 4k diff: %s", err);
	if (rc)
		return done(h, &ci, fx, rc);
	T_CHECK(bsw_vhdx_ops.map(h, 0, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA && e.len == 8192,
		"4k: present run %llu", (unsigned long long)e.len);
	T_CHECK(bsw_vhdx_ops.map(h, 8192, VSIZE, &e) == 0 && e.kind == BSW_CEXT_PARENT &&
			e.len == MiB - 8192,
		"4k: parent run %llu", (unsigned long long)e.len);
	done(h, &ci, fx, rc);
	/* the same with a BAT region too small for 32769 entries */
	make(true, false);
	put_le32(img + META + 64 * 1024 + 16, 4096);
	put_le32(img + 192 * 1024 + 40, 128 * 1024);
	crc_at(img + 192 * 1024, 64 * 1024, 4);
	rc = do_open(&h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc < 0 && strstr(err, "cannot hold the 32769 entries"), "small BAT: %s", err);
	done(h, &ci, fx, rc);
}

static void expect_fail(const char *what, const char *want)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	char err[256];
	void *h;
	int rc = do_open(&h, &ci, &fx, err, sizeof(err));

	T_CHECK(rc < 0 && strstr(err, want), "%s: rc %d err '%s'", what, rc, err);
	done(h, &ci, fx, rc);
}

static void expect_finding(const char *what, enum bsw_problem p, uint8_t id0)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	char err[256];
	void *h;
	int rc = do_open(&h, &ci, &fx, err, sizeof(err));

	T_CHECK(rc == 0 && bsw_fx_nr(fx, p) == 1 && (!id0 || ci.id[0] == id0),
		"%s: rc %d err '%s' id %02x", what, rc, err, ci.id[0]);
	done(h, &ci, fx, rc);
}

static void test_damage(void)
{
	make(false, false);
	img[128 * 1024 + 200] ^= 1;
	expect_finding("header 2 bad -> header 1", PR_2_VHDX_HEADER_BAD, 0x11);
	img[64 * 1024 + 200] ^= 1;
	expect_fail("both headers", "both VHDX headers are invalid");
	make(false, false);
	img[192 * 1024 + 100] ^= 1;
	expect_finding("region table 1 bad", PR_2_VHDX_REGION_BAD, 0);
	img[256 * 1024 + 100] ^= 1;
	expect_fail("both region tables", "both VHDX region tables");
	make(false, false);
	put64(img + BAT + 24, bat_ent(6, 100 * MiB));
	expect_fail("BAT past EOF", "BAT entry 3 points past end of file at offset 104857600");
	make(false, false);
	put64(img + BAT + 24, bat_ent(6, 4 * MiB));
	expect_fail("blocks overlap", "BAT entry 3 (offset 4194304) overlaps another block");
	make(false, false);
	put64(img + BAT + 24, bat_ent(6, BAT));
	expect_fail("block on the BAT", "overlaps the BAT region");
	make(false, false);
	put64(img + BAT + 24, bat_ent(6, META));
	expect_fail("block on the metadata", "overlaps the metadata region");
	make(false, false);
	put64(img + BAT + 24, bat_ent(6, LOG));
	expect_fail("block on the log", "overlaps the log");
	make(false, false);
	put64(img + META + 64 * 1024 + 8, 1ull << 60);
	expect_fail("exabyte size", "parameters are invalid");
	make(false, false);
	put_le32(img + META + 64 * 1024, 3 * MiB);
	expect_fail("block size", "parameters are invalid");
	make(false, false);
	put_le16(img + META + 10, 1);
	expect_fail("no size item", "lacks the virtual disk size");
	make(false, false);
	put_le32(img + META + 32 + 16, 2 * MiB);
	expect_fail("item outside", "lies outside the metadata region");
	make(false, false);
	memset(img + META, 0, 8);
	expect_fail("metadata signature", "metadata table");
}

/* ---- hostile sizes: bounded memory (issue 15 item 1) --------------------- */

/* img (FSIZE bytes) followed by zeros up to size: a sparse file.  Counts reads. */
struct sparse_img {
	uint64_t size, nread;
};

static int64_t sparse_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct sparse_img *s = ctx;

	if (off >= s->size)
		return 0;
	if (len > s->size - off)
		len = s->size - off;
	memset(buf, 0, len);
	if (off < FSIZE)
		memcpy(buf, img + off, BSW_MIN(len, FSIZE - off));
	s->nread += len;
	return len;
}

static long max_rss_kb(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? 0 : ru.ru_maxrss;
}

static int open_capped(const struct bsw_src *src, uint64_t cap, void **h, struct bsw_cont_info *ci,
		       struct bsw_fx **fx, char *err, size_t len)
{
	struct bsw_cont_opts o = { .mem_cap = cap };

	memset(ci, 0, sizeof(*ci));
	err[0] = 0;
	if (bsw_fx_create(fx))
		return -ENOMEM;
	if (!bsw_vhdx_ops.probe(src))
		return -EINVAL;
	return bsw_vhdx_ops.open(h, src, &o, *fx, ci, err, len);
}

/*
 * 64 TiB in 1 MiB blocks: 67,125,247 BAT entries (512 MiB), in a BAT
 * region of 4 GiB - 1 MiB of a sparse 5 GiB file.
 */
static void test_huge_bat(void)
{
	struct sparse_img sp = { .size = 5ull << 30 };
	struct bsw_src src = { .pread = sparse_pread, .ctx = &sp, .size = sp.size };
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	char err[256];
	long rss0 = max_rss_kb();
	void *h;
	int rc;

	make(false, false);
	for (int i = 0; i < 2; i++) {
		uint8_t *r = img + (i ? 256 : 192) * 1024;

		put_le32(r + 40, 0xfff00000u);
		crc_at(r, 64 * 1024, 4);
	}
	put64(img + META + 64 * 1024 + 8, 64ull << 40);
	rc = open_capped(&src, 256ull << 20, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == -EFBIG && strstr(err, "67125247") && strstr(err, "memory cap"),
		"256 MiB cap: rc %d (%s)", rc, err);
	T_CHECK(sp.nread < 512 * 1024, "read %llu bytes before refusing",
		(unsigned long long)sp.nread);
	done(h, &ci, fx, rc);
	T_CHECK(max_rss_kb() - rss0 < 64 * 1024, "peak RSS grew by %ld KiB", max_rss_kb() - rss0);
	/* the same header in a file too small for the BAT it claims */
	sp.size = src.size = 1ull << 30;
	rc = open_capped(&src, 0, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == -EINVAL && strstr(err, "past the end"), "BAT past EOF: rc %d (%s)", rc, err);
	done(h, &ci, fx, rc);
	/* a BAT region too small for the claimed size */
	sp.size = src.size = 5ull << 30;
	for (int i = 0; i < 2; i++) {
		uint8_t *r = img + (i ? 256 : 192) * 1024;

		put_le32(r + 40, 256u << 20);
		crc_at(r, 64 * 1024, 4);
	}
	rc = open_capped(&src, 0, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == -EINVAL && strstr(err, "cannot hold"), "BAT region short: rc %d (%s)", rc,
		err);
	done(h, &ci, fx, rc);
}

/*
 * A pending log's valid entries are held in memory (the overlay points into
 * them): they must fit the cap too.  The template's three 8 KiB entries do
 * not fit 12 KiB (its scan tables, 9 KiB, do).
 */
static void test_log_cap(void)
{
	static struct bsw_src src;
	static struct bsw_src_mem m;
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	char err[256];
	void *h;
	int rc;

	make(false, true);
	log_with_bat_update();
	bsw_src_mem_init(&src, &m, img, FSIZE);
	rc = open_capped(&src, 12 * 1024, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == -EFBIG && strstr(err, "log"), "12 KiB cap: rc %d (%s)", rc, err);
	done(h, &ci, fx, rc);
	rc = open_capped(&src, 0, &h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0 && ci.log_replayed, "default cap: rc %d (%s)", rc, err);
	done(h, &ci, fx, rc);
}

/*
 * The sector-bitmap cache holds one block's bits per slot: block 1's bits
 * are 256 bytes into the chunk's bitmap (1 MiB blocks, 512-byte sectors).
 */
static void test_diff_slice(void)
{
	struct bsw_cont_info ci;
	struct bsw_fx *fx;
	struct bsw_cext e;
	char err[256];
	void *h;
	int rc;

	make(true, false);
	put64(img + BAT + 8, bat_ent(7, 6 * MiB));
	img[5 * MiB + 256] = 0x01; /* block 1: sector 0 here */
	rc = do_open(&h, &ci, &fx, err, sizeof(err));
	T_CHECK(rc == 0, "open: %s", err);
	if (rc)
		return done(h, &ci, fx, rc);
	for (int k = 0; k < 2; k++) {
		T_CHECK(bsw_vhdx_ops.map(h, MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
				e.len == 512 && e.poff == 6 * MiB,
			"block 1 sector 0: kind %d len %llu", e.kind, (unsigned long long)e.len);
		T_CHECK(bsw_vhdx_ops.map(h, MiB + 512, VSIZE, &e) == 0 &&
				e.kind == BSW_CEXT_PARENT && e.len == MiB - 512,
			"block 1 rest");
		T_CHECK(bsw_vhdx_ops.map(h, 0, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
				e.len == 4096,
			"block 0 sectors 0-7");
	}
	done(h, &ci, fx, rc);
}

int main(void)
{
	img = malloc(FSIZE);
	orig = malloc(FSIZE);
	if (!img || !orig)
		return T_EXIT_FAIL;
	test_dynamic();
	test_log();
	test_log_flood();
	test_diff();
	test_diff_4k();
	test_damage();
	test_huge_bat();
	test_log_cap();
	test_diff_slice();
	free(img);
	free(orig);
	return T_DONE();
}
