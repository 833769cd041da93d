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

#include "formats/common/bytes.h"
#include "formats/common/crc.h"
#include "formats/cont/cont.h"
#include "t_helpers.h"

#define MiB	(1024u * 1024)
#define FSIZE	(7 * MiB)
#define LOG	(1 * MiB)
#define META	(2 * MiB)
#define BAT	(3 * MiB)
#define VSIZE	(4 * MiB)
#define CR	4096u		/* chunk ratio: 2^23 * 512 / 1 MiB */

static uint8_t *img, *orig;

static const uint8_t G_BAT[16] = { 0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42,
	0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08 };
static const uint8_t G_META[16] = { 0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
	0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e };
static const uint8_t G_FILEPARAM[16] = { 0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d,
	0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b };
static const uint8_t G_VSIZE[16] = { 0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48,
	0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8 };
static const uint8_t G_LSS[16] = { 0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47,
	0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f };
static const uint8_t G_PSS[16] = { 0xc7, 0x48, 0xa3, 0xcd, 0x5d, 0x44, 0x71, 0x44,
	0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56 };
static const uint8_t G_PLOC[16] = { 0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45,
	0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c };
static const uint8_t LOGGUID[16] = { 0x10, 0x9e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };

static void put64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static void crc_at(uint8_t *p, size_t len, size_t at)
{
	put_le32(p + at, 0);
	put_le32(p + at, bsw_crc32c(0, p, len));
}

/* 2.2.2 header: i = 0 or 1, seq, DataWriteGuid byte, log on or off */
static void header(int i, uint64_t seq, uint8_t dwg, bool log)
{
	uint8_t *h = img + (i ? 128 : 64) * 1024;

	memset(h, 0, 4096);
	memcpy(h, "head", 4);
	put64(h + 8, seq);
	memset(h + 16, 0xf0, 16);
	memset(h + 32, dwg, 16);
	if (log)
		memcpy(h + 48, LOGGUID, 16);
	put_le16(h + 66, 1);
	put_le32(h + 68, 1 * MiB);
	put64(h + 72, LOG);
	crc_at(h, 4096, 4);
}

static void regions(void)
{
	for (int i = 0; i < 2; i++) {
		uint8_t *r = img + (i ? 256 : 192) * 1024;

		memset(r, 0, 64 * 1024);
		memcpy(r, "regi", 4);
		put_le32(r + 8, 2);
		memcpy(r + 16, G_BAT, 16);
		put64(r + 32, BAT);
		put_le32(r + 40, 1 * MiB);
		put_le32(r + 44, 1);
		memcpy(r + 48, G_META, 16);
		put64(r + 64, META);
		put_le32(r + 72, 1 * MiB);
		put_le32(r + 76, 1);
		crc_at(r, 64 * 1024, 4);
	}
}

static void meta_item(int k, const uint8_t *guid, uint32_t off, uint32_t len)
{
	uint8_t *e = img + META + 32 + 32 * k;

	memcpy(e, guid, 16);
	put_le32(e + 16, off);
	put_le32(e + 20, len);
	put_le16(img + META + 10, k + 1);
}

/* UTF-16LE of an ASCII string at p; returns its byte length. */
static uint16_t u16(uint8_t *p, const char *s)
{
	uint16_t n = 0;

	for (; *s; s++, n += 2)
		put_le16(p + n, *s);
	return n;
}

static void parent_locator(uint32_t at)
{
	static const char *kv[][2] = {
		{ "parent_linkage", "{01020304-0506-0708-090a-0b0c0d0e0f10}" },
		{ "relative_path", "..\\base.vhdx" },
		{ "absolute_win32_path", "C:\\VMs\\base.vhdx" },
	};
	uint8_t *p = img + META + at;
	uint32_t o = 20 + 12 * 3;

	put_le16(p + 18, 3);
	for (int i = 0; i < 3; i++) {
		uint8_t *e = p + 20 + 12 * i;
		uint16_t kl = u16(p + o, kv[i][0]), vl;

		put_le32(e, o);
		put_le16(e + 8, kl);
		o += kl;
		vl = u16(p + o, kv[i][1]);
		put_le32(e + 4, o);
		put_le16(e + 10, vl);
		o += vl;
	}
	meta_item(4, G_PLOC, at, o);
}

static uint64_t bat_ent(unsigned state, uint64_t off)
{
	return state | (off / MiB) << 20;
}

/*
 * A dynamic disk: block 0 at 4 MiB (present), 1 not present, 2 zero,
 * 3 at 5 MiB; 6-7 MiB unreferenced (0x77) for the log to allocate.
 * diff: has-parent, block 0 partially present with its sector bitmap at
 * 5 MiB (sectors 0-7 present), block 3 not present.
 */
static void make(bool diff, bool log)
{
	memset(img, 0, FSIZE);
	memcpy(img, "vhdxfile", 8);
	header(0, 1, 0x11, log);
	header(1, 2, 0x22, log);
	regions();
	memcpy(img + META, "metadata", 8);
	meta_item(0, G_FILEPARAM, 64 * 1024, 8);
	put_le32(img + META + 64 * 1024, 1 * MiB);
	put_le32(img + META + 64 * 1024 + 4, diff ? 2 : 0);
	meta_item(1, G_VSIZE, 64 * 1024 + 8, 8);
	put64(img + META + 64 * 1024 + 8, VSIZE);
	meta_item(2, G_LSS, 64 * 1024 + 16, 4);
	put_le32(img + META + 64 * 1024 + 16, 512);
	meta_item(3, G_PSS, 64 * 1024 + 20, 4);
	put_le32(img + META + 64 * 1024 + 20, 4096);
	if (diff)
		parent_locator(64 * 1024 + 64);
	memset(img + 4 * MiB, 0x44, MiB);
	memset(img + 6 * MiB, 0x77, MiB);
	if (diff) {
		put64(img + BAT, bat_ent(7, 4 * MiB));
		put64(img + BAT + 8 * CR, bat_ent(6, 5 * MiB));
		img[5 * MiB] = 0xff;
	} else {
		memset(img + 5 * MiB, 0x55, MiB);
		put64(img + BAT, bat_ent(6, 4 * MiB));
		put64(img + BAT + 16, bat_ent(2, 0));
		put64(img + BAT + 24, bat_ent(6, 5 * MiB));
	}
}

/*
 * A log entry at log offset lo: sequence seq, tail, n data descriptors
 * (writing sector-sized pieces dw[i] at file offsets fo[i] with byte pat[i])
 * and optionally a zero descriptor.  Returns the entry length.
 */
static uint32_t log_entry(uint32_t lo, uint64_t seq, uint32_t tail, unsigned n,
			  const uint64_t *fo, const uint8_t *pat, uint64_t zoff,
			  uint64_t zlen)
{
	uint8_t *h = img + LOG + lo;
	uint32_t nd = n + (zlen ? 1 : 0), len = 4096 + 4096 * n;

	memset(h, 0, len);
	memcpy(h, "loge", 4);
	put_le32(h + 8, len);
	put_le32(h + 12, tail);
	put64(h + 16, seq);
	put_le32(h + 24, nd);
	memcpy(h + 32, LOGGUID, 16);
	put64(h + 48, FSIZE);
	put64(h + 56, FSIZE);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *d = h + 64 + 32 * i, *s = h + 4096 + 4096 * i;

		memcpy(d, "desc", 4);
		memset(d + 4, pat[i] ^ 0xff, 4);	/* trailing bytes */
		memset(d + 8, pat[i] ^ 0x0f, 8);	/* leading bytes */
		put64(d + 16, fo[i]);
		put64(d + 24, seq);
		memcpy(s, "data", 4);
		put_le32(s + 4, (uint32_t)(seq >> 32));
		memset(s + 8, pat[i], 4084);
		put_le32(s + 4092, (uint32_t)seq);
	}
	if (zlen) {
		uint8_t *d = h + 64 + 32 * n;

		memcpy(d, "zero", 4);
		put64(d + 8, zlen);
		put64(d + 16, zoff);
		put64(d + 24, seq);
	}
	crc_at(h, len, 4);
	return len;
}

/* The BAT's first 4 KiB with block 1 made present at 6 MiB, as a log sector. */
static void log_with_bat_update(void)
{
	uint64_t fo[2] = { 4 * MiB + 8192, BAT };
	uint8_t pat[2] = { 0xa1, 0 };
	uint32_t l1, l2;

	/* entry A (seq 10): one data sector into block 0 */
	l1 = log_entry(0, 10, 0, 1, fo, pat, 0, 0);
	/* entry B (seq 11, tail = A): the new BAT sector, and zeros at 5 MiB */
	l2 = log_entry(l1, 11, 0, 1, fo + 1, pat + 1, 5 * MiB, 4096);
	{
		/* the data sector of B is the BAT page with entry 1 set */
		uint8_t *s = img + LOG + l1 + 4096, *d = img + LOG + l1 + 64;
		uint8_t page[4096];

		memcpy(page, img + BAT, 4096);
		put64(page + 8, bat_ent(6, 6 * MiB));
		memcpy(d + 8, page, 8);
		memcpy(s + 8, page + 8, 4084);
		memcpy(d + 4, page + 4092, 4);
		crc_at(img + LOG + l1, l2, 4);
	}
	/* an old entry (seq 5) further on: valid but not in the active sequence */
	{
		uint64_t old = 4 * MiB;
		uint8_t op = 0xee;

		log_entry(l1 + l2, 5, l1 + l2, 1, &old, &op, 0, 0);
	}
}

static int do_open(void **h, struct bsw_cont_info *ci, struct bsw_fx **fx, char *err,
		   size_t len)
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
	return bsw_vhdx_ops.open(h, &src, *fx, ci, err, len);
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
		ci.physical_sector == 4096 && !ci.has_parent, "info %s", ci.subformat);
	T_CHECK(ci.id[0] == 0x22, "header 2 (higher sequence) used: id %02x", ci.id[0]);
	T_CHECK(bsw_fx_count(fx) == 0, "no findings: %zu", bsw_fx_count(fx));
	T_CHECK(bsw_vhdx_ops.map(h, 100, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
		e.poff == 4 * MiB + 100 && e.len == MiB - 100, "block 0");
	T_CHECK(bsw_vhdx_ops.map(h, MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_ZERO &&
		e.len == MiB, "block 1 not present -> zero");
	T_CHECK(bsw_vhdx_ops.map(h, 2 * MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_ZERO,
		"block 2 zero");
	T_CHECK(bsw_vhdx_ops.map(h, 3 * MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
		e.poff == 5 * MiB, "block 3");
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
		e.len == 4096 && e.mem, "log sector served from memory");
	if (e.kind == BSW_CEXT_MEM && e.mem)
		T_CHECK(e.mem[0] == (0xa1 ^ 0x0f) && e.mem[7] == (0xa1 ^ 0x0f) &&
			e.mem[8] == 0xa1 && e.mem[4091] == 0xa1 &&
			e.mem[4092] == (0xa1 ^ 0xff) && e.mem[4095] == (0xa1 ^ 0xff),
			"sector bytes");
	T_CHECK(bsw_vhdx_ops.map(h, 0, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
		e.len == 8192, "the old entry (seq 5) was not applied; data up to the sector");
	/* the BAT as the log left it: block 1 now at 6 MiB */
	T_CHECK(bsw_vhdx_ops.map(h, MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
		e.poff == 6 * MiB && e.len == MiB, "block 1 allocated by the log: kind %d", e.kind);
	T_CHECK(bsw_vhdx_ops.map(h, 3 * MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_ZERO &&
		e.len == 4096, "zero descriptor");
	T_CHECK(bsw_vhdx_ops.map(h, 3 * MiB + 4096, VSIZE, &e) == 0 &&
		e.kind == BSW_CEXT_DATA && e.poff == 5 * MiB + 4096, "after the zeros");
	T_CHECK(!memcmp(orig, img, FSIZE), "the image bytes were not modified");
	done(h, &ci, fx, rc);

	/* the head's entry corrupt: entry A alone is a valid sequence (head 10) */
	make(false, true);
	log_with_bat_update();
	img[LOG + 4096 + 4096 + 100] ^= 1;	/* inside entry B */
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
		bsw_fx_has_code(fx, "CONT-VHDX"), "empty log with a LogGuid: %s", err);
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
		!strcmp(ci.locator_kind[1], "absolute"), "locators %u", ci.nr_locators);
	T_CHECK(bsw_vhdx_ops.map(h, 0, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
		e.len == 4096 && e.poff == 4 * MiB, "sectors 0-7 here");
	T_CHECK(bsw_vhdx_ops.map(h, 4096, VSIZE, &e) == 0 && e.kind == BSW_CEXT_PARENT &&
		e.len == MiB - 4096, "rest of block 0 from the parent: %llu",
		(unsigned long long)e.len);
	T_CHECK(bsw_vhdx_ops.map(h, 1000, 10, &e) == 0 && e.kind == BSW_CEXT_DATA &&
		e.len == 10 && e.poff == 4 * MiB + 1000, "short unaligned");
	T_CHECK(bsw_vhdx_ops.map(h, 2 * MiB, VSIZE, &e) == 0 && e.kind == BSW_CEXT_PARENT,
		"not present -> parent");
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

int main(void)
{
	img = malloc(FSIZE);
	orig = malloc(FSIZE);
	if (!img || !orig)
		return T_EXIT_FAIL;
	test_dynamic();
	test_log();
	test_diff();
	test_damage();
	free(img);
	free(orig);
	return T_DONE();
}
