/*
 * A VHDX built in memory after [MS-VHDX], shared by the unit test and the
 * VHDX fuzz targets: make() lays out headers, region tables, metadata, BAT
 * and payload in img (FSIZE bytes, caller-allocated); log_with_bat_update()
 * writes a two-entry active log sequence plus a stale entry.
 */
#ifndef BSW_VHDX_BUILD_H
#define BSW_VHDX_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/crc.h"

#define MiB (1024u * 1024)
#define FSIZE (7 * MiB)
#define LOG (1 * MiB)
#define META (2 * MiB)
#define BAT (3 * MiB)
#define VSIZE (4 * MiB)
#define CR 4096u /* chunk ratio: 2^23 * 512 / 1 MiB */

static uint8_t *img;

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

static inline void put64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline void crc_at(uint8_t *p, size_t len, size_t at)
{
	put_le32(p + at, 0);
	put_le32(p + at, bsw_crc32c(0, p, len));
}

/* 2.2.2 header: i = 0 or 1, seq, DataWriteGuid byte, log on or off */
static inline void header(int i, uint64_t seq, uint8_t dwg, bool log)
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

static inline void regions(void)
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

static inline void meta_item(int k, const uint8_t *guid, uint32_t off, uint32_t len)
{
	uint8_t *e = img + META + 32 + 32 * k;

	memcpy(e, guid, 16);
	put_le32(e + 16, off);
	put_le32(e + 20, len);
	put_le16(img + META + 10, k + 1);
}

/* UTF-16LE of an ASCII string at p; returns its byte length. */
static inline uint16_t u16(uint8_t *p, const char *s)
{
	uint16_t n = 0;

	for (; *s; s++, n += 2)
		put_le16(p + n, *s);
	return n;
}

static inline void parent_locator(uint32_t at)
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

static inline uint64_t bat_ent(unsigned state, uint64_t off)
{
	return state | (off / MiB) << 20;
}

/*
 * A dynamic disk: block 0 at 4 MiB (present), 1 not present, 2 zero,
 * 3 at 5 MiB; 6-7 MiB unreferenced (0x77) for the log to allocate.
 * diff: has-parent, block 0 partially present with its sector bitmap at
 * 5 MiB (sectors 0-7 present), block 3 not present.
 */
static inline void make(bool diff, bool log)
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
static inline uint32_t log_entry(uint32_t lo, uint64_t seq, uint32_t tail, unsigned n,
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
		memset(d + 4, pat[i] ^ 0xff, 4); /* trailing bytes */
		memset(d + 8, pat[i] ^ 0x0f, 8); /* leading bytes */
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
static inline void log_with_bat_update(void)
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

#endif
