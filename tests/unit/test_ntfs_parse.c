/*
 * Unit tests of the pure NTFS parsers: boot sector, fixups, record header
 * and attribute walk, runlists (good and malformed), LZNT1 vectors built by
 * hand, $LogFile restart pages and index entries.
 */
#include <errno.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/utf8.h"
#include "formats/ntfs/ntfs_internal.h"
#include "t_helpers.h"

static void make_boot(uint8_t *b)
{
	memset(b, 0, 512);
	b[0] = 0xEB;
	b[1] = 0x52;
	b[2] = 0x90;
	memcpy(b + 3, "NTFS    ", 8);
	put_le16(b + 0x0B, 512);
	b[0x0D] = 8; /* 4 KiB clusters */
	b[0x15] = 0xF8;
	put_le64(b + 0x28, 2 * 1024 * 1024 - 1); /* ~1 GiB */
	put_le64(b + 0x30, 4);
	put_le64(b + 0x38, 2);
	b[0x40] = 0xF6; /* 2^10 = 1024-byte records */
	b[0x44] = 1;	/* 1 cluster per index block */
	put_le64(b + 0x48, 0x1122334455667788ull);
	b[510] = 0x55;
	b[511] = 0xAA;
}

static void test_boot(void)
{
	uint8_t b[512];
	struct bsw_ntfs_boot bs;
	const char *why = NULL;

	make_boot(b);
	T_CHECK(!bsw_ntfs_parse_boot(b, 512, &bs, &why), "valid boot: %s", why);
	T_CHECK(bs.cluster == 4096 && bs.rec_size == 1024 && bs.idx_size == 4096,
		"geometry %u %u %u", bs.cluster, bs.rec_size, bs.idx_size);
	T_CHECK(bs.mft_lcn == 4 && bs.mirr_lcn == 2 && bs.serial == 0x1122334455667788ull, "lcns");
	make_boot(b);
	b[3] = 'X';
	T_CHECK(bsw_ntfs_parse_boot(b, 512, &bs, &why) == -EINVAL, "bad oem");
	make_boot(b);
	put_le16(b + 0x0B, 3000);
	T_CHECK(bsw_ntfs_parse_boot(b, 512, &bs, &why) == -EINVAL, "bad bps");
	make_boot(b);
	b[0x0D] = 3;
	T_CHECK(bsw_ntfs_parse_boot(b, 512, &bs, &why) == -EINVAL, "bad spc");
	make_boot(b);
	b[0x0D] = 0xF4; /* 2^12 sectors: 2 MiB clusters, allowed */
	T_CHECK(!bsw_ntfs_parse_boot(b, 512, &bs, &why) && bs.cluster == (2u << 20),
		"negative spc form: %s", why);
	make_boot(b);
	b[0x10] = 2; /* FAT count */
	T_CHECK(bsw_ntfs_parse_boot(b, 512, &bs, &why) == -EINVAL, "fats");
	make_boot(b);
	put_le64(b + 0x38, 4);
	T_CHECK(bsw_ntfs_parse_boot(b, 512, &bs, &why) == -EINVAL, "mft == mirr");
	make_boot(b);
	put_le64(b + 0x30, 1ull << 40);
	T_CHECK(bsw_ntfs_parse_boot(b, 512, &bs, &why) == -EINVAL, "mft beyond");
	make_boot(b);
	b[0x40] = 0x10; /* 16 clusters: 64 KiB records allowed */
	T_CHECK(!bsw_ntfs_parse_boot(b, 512, &bs, &why), "64K record");
	b[0x40] = 3;
	T_CHECK(bsw_ntfs_parse_boot(b, 512, &bs, &why) == -EINVAL, "cpr 3");
	T_CHECK(bsw_ntfs_parse_boot(b, 100, &bs, &why) == -EINVAL, "short");
}

/* A 1024-byte FILE record with USA at 0x30, attributes at 0x38. */
static uint32_t make_rec(uint8_t *r, uint32_t nr)
{
	uint32_t o = 0x38;

	memset(r, 0, 1024);
	memcpy(r, "FILE", 4);
	put_le16(r + 4, 0x30);
	put_le16(r + 6, 3);
	put_le16(r + 0x10, 7); /* seq */
	put_le16(r + 0x12, 1); /* links */
	put_le16(r + 0x14, 0x38);
	put_le16(r + 0x16, 1); /* in use */
	put_le32(r + 0x1C, 1024);
	put_le32(r + 0x2C, nr);
	/* $STANDARD_INFORMATION, resident, 48-byte value */
	put_le32(r + o, 0x10);
	put_le32(r + o + 4, 72);
	put_le32(r + o + 0x10, 48);
	put_le16(r + o + 0x14, 24);
	o += 72;
	/* $FILE_NAME "ab", parent 5 seq 5 */
	put_le32(r + o, 0x30);
	put_le32(r + o + 4, 24 + 0x48);
	put_le32(r + o + 0x10, 0x46);
	put_le16(r + o + 0x14, 24);
	put_le64(r + o + 24, 5 | (5ull << 48));
	r[o + 24 + 0x40] = 2;
	r[o + 24 + 0x41] = 1;
	put_le16(r + o + 24 + 0x42, 'a');
	put_le16(r + o + 24 + 0x44, 'b');
	o += 24 + 0x48;
	/* $DATA non-resident, one run of 0x18 clusters at 0x5634 */
	put_le32(r + o, 0x80);
	put_le32(r + o + 4, 72);
	r[o + 8] = 1;
	put_le64(r + o + 0x18, 0x17);
	put_le16(r + o + 0x20, 64);
	put_le64(r + o + 0x28, 0x18000);
	put_le64(r + o + 0x30, 0x17001);
	put_le64(r + o + 0x38, 0x17001);
	r[o + 64] = 0x21;
	r[o + 65] = 0x18;
	r[o + 66] = 0x34;
	r[o + 67] = 0x56;
	o += 72;
	put_le32(r + o, 0xFFFFFFFF);
	o += 8;
	put_le32(r + 0x18, o);
	return o;
}

/* Apply the update sequence protection the way a writer does. */
static void protect(uint8_t *r, size_t len, uint16_t usn)
{
	uint16_t ofs = get_le16(r + 4);
	size_t i;

	put_le16(r + ofs, usn);
	for (i = 0; i < len / 512; i++) {
		memcpy(r + ofs + 2 * (i + 1), r + i * 512 + 510, 2);
		put_le16(r + i * 512 + 510, usn);
	}
}

static void test_fixup_and_attrs(void)
{
	uint8_t r[1024], copy[1024];
	struct bsw_ntfs_rhdr h;
	struct bsw_ntfs_attr a;
	struct bsw_ntfs_runs rl = { 0 };
	const char *why = NULL;
	uint32_t pos, prev = 0;
	unsigned bad = 99, n = 0;
	int ret;

	make_rec(r, 42);
	r[510] = 0xAB;
	r[511] = 0xCD; /* data under the stride end */
	memcpy(copy, r, sizeof(r));
	protect(r, 1024, 0x0003);
	T_CHECK(get_le16(r + 510) == 3, "protected");
	T_CHECK(bsw_ntfs_fixup(r, 1024, &bad) == 0, "fixup ok");
	T_CHECK(!memcmp(r, copy + 0, 0x30) && r[510] == 0xAB && r[511] == 0xCD,
		"fixup restores the stride end");
	/* torn: second stride keeps an old USN */
	memcpy(r, copy, sizeof(r));
	protect(r, 1024, 0x0003);
	put_le16(r + 1022, 0x0002);
	T_CHECK(bsw_ntfs_fixup(r, 1024, &bad) == 1 && bad == 1, "torn stride 1 (%u)", bad);
	memcpy(r, copy, sizeof(r));
	protect(r, 1024, 3);
	put_le16(r + 6, 5);
	T_CHECK(bsw_ntfs_fixup(r, 1024, &bad) == -EINVAL, "usa_count");
	put_le16(r + 6, 3);
	put_le16(r + 4, 509);
	T_CHECK(bsw_ntfs_fixup(r, 1024, &bad) == -EINVAL, "odd usa_ofs");
	T_CHECK(bsw_ntfs_fixup(r, 1000, &bad) == -EINVAL, "len not multiple of 512");

	memcpy(r, copy, sizeof(r));
	T_CHECK(!bsw_ntfs_parse_rhdr(r, 1024, 1024, &h, &why), "rhdr: %s", why);
	T_CHECK(h.seq == 7 && h.links == 1 && h.has_number && h.number == 42, "rhdr fields");
	T_CHECK(bsw_ntfs_parse_rhdr(r, 1024, 4096, &h, &why) == -EINVAL, "alloc != rec size");
	bsw_ntfs_parse_rhdr(r, 1024, 1024, &h, &why);
	pos = h.attrs_off;
	while ((ret = bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why)) > 0) {
		n++;
		if (a.type == 0x80) {
			T_CHECK(a.nonres && a.data_size == 0x17001 && a.highest_vcn == 0x17,
				"data attr");
			T_CHECK(!bsw_ntfs_parse_runs(r + a.runs_off, a.runs_len, 0, 1u << 20, &rl,
						     &why),
				"runs: %s", why);
			T_CHECK(rl.nr == 1 && rl.r[0].lcn == 0x5634 && rl.r[0].len == 0x18,
				"run decoded");
		}
		if (a.type == 0x30)
			T_CHECK(a.val_len == 0x46 && get_le16(r + a.val_off + 0x42) == 'a',
				"file name value");
	}
	T_CHECK(ret == 0 && n == 3, "three attributes then end (%d, %u, %s)", ret, n, why);
	bsw_ntfs_runs_free(&rl);

	/* malformed walks */
	memcpy(r, copy, sizeof(r));
	put_le32(r + 0x38 + 4, 70); /* length not 8-aligned */
	pos = 0x38;
	prev = 0;
	T_CHECK(bsw_ntfs_attr_next(r, get_le32(r + 0x18), &pos, &prev, &a, &why) == -EINVAL,
		"unaligned length");
	memcpy(r, copy, sizeof(r));
	put_le32(r + 0x38, 0x90); /* first attribute 0x90, then 0x30 */
	pos = 0x38;
	prev = 0;
	bsw_ntfs_attr_next(r, get_le32(r + 0x18), &pos, &prev, &a, &why);
	T_CHECK(bsw_ntfs_attr_next(r, get_le32(r + 0x18), &pos, &prev, &a, &why) == -EINVAL,
		"types must ascend");
	memcpy(r, copy, sizeof(r));
	put_le32(r + 0x38 + 4, 0x4000); /* runs past bytes in use */
	pos = 0x38;
	prev = 0;
	T_CHECK(bsw_ntfs_attr_next(r, get_le32(r + 0x18), &pos, &prev, &a, &why) == -EINVAL,
		"length past used");
	memcpy(r, copy, sizeof(r));
	put_le32(r + get_le32(r + 0x18) - 8, 0); /* no end marker: type 0 < prev */
	pos = 0x38;
	prev = 0;
	while ((ret = bsw_ntfs_attr_next(r, get_le32(r + 0x18), &pos, &prev, &a, &why)) > 0)
		;
	T_CHECK(ret == -EINVAL, "missing end marker");
	memcpy(r, copy, sizeof(r));
	put_le16(r + 0x38 + 0x14, 60); /* resident value outside */
	pos = 0x38;
	prev = 0;
	T_CHECK(bsw_ntfs_attr_next(r, get_le32(r + 0x18), &pos, &prev, &a, &why) == -EINVAL,
		"resident value outside");
}

static void test_runs(void)
{
	struct bsw_ntfs_runs rl = { 0 };
	const char *why;
	/* 0x100 clusters at 0x1000, 0x10 sparse, 0x20 at 0x1000-0x10 = 0xFF0 */
	const uint8_t good[] = { 0x22, 0x00, 0x01, 0x00, 0x10, 0x01, 0x10, 0x11, 0x20, 0xF0, 0x00 };
	const uint8_t noterm[] = { 0x21, 0x10, 0x00, 0x10 };
	const uint8_t neg[] = { 0x11, 0x10, 0x80, 0x00 };
	const uint8_t beyond[] = { 0x31, 0x10, 0x00, 0x00, 0x10, 0x00 };
	const uint8_t zero_len[] = { 0x11, 0x00, 0x10, 0x00 };
	const uint8_t bad_hdr[] = { 0x90, 0x00 };
	const uint8_t trunc[] = { 0x44, 0x01 };

	T_CHECK(!bsw_ntfs_parse_runs(good, sizeof(good), 0, 1u << 20, &rl, &why), "good runs: %s",
		why);
	T_CHECK(rl.nr == 3, "3 runs (%zu)", rl.nr);
	if (rl.nr == 3) {
		T_CHECK(rl.r[0].vcn == 0 && rl.r[0].lcn == 0x1000 && rl.r[0].len == 0x100, "run 0");
		T_CHECK(rl.r[1].vcn == 0x100 && rl.r[1].lcn == NTFS_LCN_HOLE && rl.r[1].len == 0x10,
			"sparse run");
		T_CHECK(rl.r[2].vcn == 0x110 && rl.r[2].lcn == 0xFF0 && rl.r[2].len == 0x20,
			"negative delta run %llx", (unsigned long long)rl.r[2].lcn);
	}
	bsw_ntfs_runs_free(&rl);
	T_CHECK(bsw_ntfs_parse_runs(noterm, sizeof(noterm), 0, 1u << 20, &rl, &why) == -EINVAL,
		"unterminated");
	bsw_ntfs_runs_free(&rl);
	T_CHECK(bsw_ntfs_parse_runs(neg, sizeof(neg), 0, 1u << 20, &rl, &why) == -EINVAL,
		"negative LCN");
	bsw_ntfs_runs_free(&rl);
	T_CHECK(bsw_ntfs_parse_runs(beyond, sizeof(beyond), 0, 1u << 20, &rl, &why) == -EINVAL,
		"beyond the volume");
	bsw_ntfs_runs_free(&rl);
	T_CHECK(bsw_ntfs_parse_runs(zero_len, sizeof(zero_len), 0, 1u << 20, &rl, &why) == -EINVAL,
		"zero length");
	bsw_ntfs_runs_free(&rl);
	T_CHECK(bsw_ntfs_parse_runs(bad_hdr, sizeof(bad_hdr), 0, 1u << 20, &rl, &why) == -EINVAL,
		"length size 0");
	bsw_ntfs_runs_free(&rl);
	T_CHECK(bsw_ntfs_parse_runs(trunc, sizeof(trunc), 0, 1u << 20, &rl, &why) == -EINVAL,
		"truncated run");
	bsw_ntfs_runs_free(&rl);
}

static void test_lznt1(void)
{
	uint8_t out[8192], in[8192];
	int64_t n;
	size_t i, o;

	/* literals "abc" then a copy token: displacement 3, length 9 */
	const uint8_t v1[] = { 0x05, 0xB0, 0x08, 'a', 'b', 'c', 0x06, 0x20, 0, 0 };

	n = bsw_ntfs_lznt1(v1, sizeof(v1), out, sizeof(out));
	T_CHECK(n == 12 && !memcmp(out, "abcabcabcabc", 12), "abc vector (%lld)", (long long)n);

	/* 20 literals, then a copy at position 20 (5 displacement bits) */
	o = 2;
	in[o++] = 0;
	for (i = 0; i < 8; i++)
		in[o++] = (uint8_t)('A' + i);
	in[o++] = 0;
	for (i = 8; i < 16; i++)
		in[o++] = (uint8_t)('A' + i);
	in[o++] = 0x10;
	for (i = 16; i < 20; i++)
		in[o++] = (uint8_t)('A' + i);
	put_le16(in + o, (19u << 11) | 2); /* displacement 20, length 5 */
	o += 2;
	put_le16(in, (uint16_t)(0xB000 | (o - 2 - 1)));
	in[o++] = 0;
	in[o++] = 0;
	n = bsw_ntfs_lznt1(in, o, out, sizeof(out));
	T_CHECK(n == 25 && !memcmp(out, "ABCDEFGHIJKLMNOPQRSTABCDE", 25),
		"position-dependent split (%lld)", (long long)n);

	/* an uncompressed chunk followed by a compressed one */
	memset(in, 0, sizeof(in));
	put_le16(in, 0x3FFF); /* 4096 bytes stored */
	for (i = 0; i < 4096; i++)
		in[2 + i] = (uint8_t)i;
	memcpy(in + 4098, v1, sizeof(v1));
	n = bsw_ntfs_lznt1(in, 4098 + sizeof(v1), out, sizeof(out));
	T_CHECK(n == 4096 + 12 && out[4095] == 0xFF && !memcmp(out + 4096, "abcabc", 6),
		"stored + compressed chunk (%lld)", (long long)n);

	/* corrupt: copy before any literal; displacement beyond position */
	const uint8_t bad1[] = { 0x02, 0xB0, 0x01, 0x00, 0x00 };
	const uint8_t bad2[] = { 0x03, 0xB0, 0x02, 'a', 0x00, 0xF0 };
	const uint8_t bad3[] = { 0xFF, 0xBF, 0x00 }; /* chunk longer than input */

	T_CHECK(bsw_ntfs_lznt1(bad1, sizeof(bad1), out, sizeof(out)) < 0, "copy at 0");
	T_CHECK(bsw_ntfs_lznt1(bad2, sizeof(bad2), out, sizeof(out)) < 0, "displacement");
	T_CHECK(bsw_ntfs_lznt1(bad3, sizeof(bad3), out, sizeof(out)) < 0, "truncated");
	T_CHECK(bsw_ntfs_lznt1(v1, sizeof(v1), out, 5) < 0, "output bound");
}

/* XPRESS Huffman vectors built by hand from MS-XCA 2.2 */
static void test_xpress(void)
{
	uint8_t in[300], out[64];
	int64_t n;

	/* 'a' len 1, 'b' len 2, symbol 275 (length 6, 1 offset bit) len 2:
	 * codes a=0 b=10 m=11; stream a b m(offset bit 0) = 010110... */
	memset(in, 0, sizeof(in));
	in[0x61 / 2] |= 1 << 4;
	in[0x62 / 2] |= 2;
	in[275 / 2] |= 2 << 4;
	in[256] = 0x00;
	in[257] = 0x58;
	n = bsw_ntfs_xpress_huff(in, 260, out, 8);
	T_CHECK(n == 8 && !memcmp(out, "abababab", 8), "xpress match (%lld)", (long long)n);

	/* 'a' len 1, symbol 271 (extended length, offset 1) len 1; extra
	 * length byte 10: 1 + 28 bytes of 'a' */
	memset(in, 0, sizeof(in));
	in[0x61 / 2] |= 1 << 4;
	in[271 / 2] |= 1 << 4;
	in[257] = 0x40;
	in[260] = 10;
	n = bsw_ntfs_xpress_huff(in, 261, out, 29);
	T_CHECK(n == 29 && out[0] == 'a' && out[28] == 'a' && out[14] == 'a',
		"xpress extended length (%lld)", (long long)n);
	/* over-subscribed table: three symbols of length 1 */
	memset(in, 0, sizeof(in));
	in[0] = 0x11;
	in[1] = 0x01;
	T_CHECK(bsw_ntfs_xpress_huff(in, 260, out, 8) < 0, "xpress: bad table");
	T_CHECK(bsw_ntfs_xpress_huff(in, 100, out, 8) < 0, "xpress: short input");
}

static void make_rstr(uint8_t *p)
{
	memset(p, 0, 4096);
	memcpy(p, "RSTR", 4);
	put_le16(p + 4, 0x1E);
	put_le16(p + 6, 9);
	put_le32(p + 0x10, 4096);
	put_le32(p + 0x14, 4096);
	put_le16(p + 0x18, 0x30);
	put_le16(p + 0x1A, 1);
	put_le16(p + 0x1C, 1);
	put_le64(p + 0x30, 0x1234);	/* current LSN */
	put_le16(p + 0x38, 1);		/* clients */
	put_le16(p + 0x3A, 0xFFFF);	/* free list */
	put_le16(p + 0x3C, 0);		/* in use: client 0 */
	put_le16(p + 0x3E, 2);		/* clean */
	put_le16(p + 0x44, 0x40 + 160); /* restart area length */
	put_le16(p + 0x46, 0x40);	/* client array offset */
}

static void test_restart(void)
{
	uint8_t p[4096];
	struct bsw_ntfs_rstr r;
	const char *why = NULL;

	make_rstr(p);
	T_CHECK(!bsw_ntfs_parse_restart(p, 4096, &r, &why), "rstr: %s", why);
	T_CHECK(r.current_lsn == 0x1234 && r.in_use_list == 0 && r.flags == 2 && r.major == 1 &&
			r.minor == 1,
		"rstr fields");
	put_le16(p + 0x1C, 3);
	T_CHECK(bsw_ntfs_parse_restart(p, 4096, &r, &why) == -EINVAL, "version 3.1");
	make_rstr(p);
	put_le16(p + 0x3C, 5);
	T_CHECK(bsw_ntfs_parse_restart(p, 4096, &r, &why) == -EINVAL, "in-use index");
	make_rstr(p);
	put_le32(p + 0x10, 3000);
	T_CHECK(bsw_ntfs_parse_restart(p, 4096, &r, &why) == -EINVAL, "page size");
	make_rstr(p);
	put_le64(p + 8, 77);
	T_CHECK(bsw_ntfs_parse_restart(p, 4096, &r, &why) == -EINVAL, "chkdsk lsn on RSTR");
	memcpy(p, "CHKD", 4);
	T_CHECK(!bsw_ntfs_parse_restart(p, 4096, &r, &why), "CHKD with lsn");
	memset(p, 0xFF, sizeof(p));
	T_CHECK(bsw_ntfs_parse_restart(p, 4096, &r, &why) == 1, "empty log");
	memset(p, 0x11, sizeof(p));
	T_CHECK(bsw_ntfs_parse_restart(p, 4096, &r, &why) == -EINVAL, "garbage");
}

static int count_ie(void *arg, uint64_t mref, const uint8_t *key, uint32_t klen, uint16_t flags,
		    uint64_t sub)
{
	unsigned *n = arg;

	if (klen >= 0x44 && key[0x40] == 2 && get_le16(key + 0x42) == 'a' &&
	    NTFS_MREF_REC(mref) == 64)
		(*n)++;
	return 0;
}

static void test_index(void)
{
	uint8_t ir[256];
	uint32_t bs = 0;
	unsigned n = 0;
	const char *why = NULL;
	uint8_t *h = ir + 16, *e;

	memset(ir, 0, sizeof(ir));
	put_le32(ir, 0x30);
	put_le32(ir + 8, 4096);
	put_le32(h, 16); /* entries offset */
	e = h + 16;
	put_le64(e, 64 | (1ull << 48));
	put_le16(e + 8, 16 + 0x48);
	put_le16(e + 10, 0x46);
	e[16 + 0x40] = 2;
	e[16 + 0x41] = 1;
	put_le16(e + 16 + 0x42, 'a');
	put_le16(e + 16 + 0x44, 'b');
	e += 16 + 0x48;
	put_le16(e + 8, 16);
	put_le16(e + 12, 2); /* last */
	put_le32(h + 4, (uint32_t)(e + 16 - h));
	put_le32(h + 8, (uint32_t)(e + 16 - h));
	T_CHECK(!bsw_ntfs_parse_index_root(ir, sizeof(ir), &bs, count_ie, &n, &why),
		"index root: %s", why);
	T_CHECK(n == 1 && bs == 4096, "one entry (%u), block size", n);
	put_le16(h + 16 + 8, 0x300); /* entry longer than the node */
	T_CHECK(bsw_ntfs_parse_index_root(ir, sizeof(ir), &bs, count_ie, &n, &why) == -EINVAL,
		"entry past the node");
	put_le16(h + 16 + 8, 16 + 0x48);
	put_le16(h + 16 + 10, 0x100); /* key longer than the entry */
	T_CHECK(bsw_ntfs_parse_index_root(ir, sizeof(ir), &bs, count_ie, &n, &why) == -EINVAL,
		"key past the entry");
	put_le16(h + 16 + 10, 0x46);
	put_le16(e + 12, 0); /* no last entry */
	T_CHECK(bsw_ntfs_parse_index_root(ir, sizeof(ir), &bs, count_ie, &n, &why) == -EINVAL,
		"no last entry");
}

/*
 * NTFS names go through the program's one converter (formats/common/utf8.h)
 * as the UTF-16LE bytes they are on disk: pairs joined, a lone surrogate
 * U+FFFD, output bounded and never cut inside a sequence.
 */
static void test_utf(void)
{
	static const uint8_t s[] = {
		'W',  0,    0xE9, 0,	0xAC, 0x20, /* W, e-acute, euro */
		0x3D, 0xD8, 0x00, 0xDE,		    /* U+1F600 as a pair */
		0x00, 0xD8,			    /* a lone high surrogate */
	};
	uint8_t odd[sizeof(s) + 1];
	char out[32], out2[32];
	size_t n;

	n = bsw_utf16le_to_utf8(s, 6, out, sizeof(out), 0);
	T_CHECK(n == 13 && !strcmp(out, "W\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBD"),
		"utf-16 to utf-8");
	memcpy(odd + 1, s, sizeof(s));
	n = bsw_utf16le_to_utf8(odd + 1, 6, out2, sizeof(out2), 0);
	T_CHECK(n == 13 && !strcmp(out, out2), "any alignment");
	n = bsw_utf16le_to_utf8(s, 6, out, 4, 0);
	T_CHECK(n == 3 && strlen(out) == 3, "bounded output ends before the euro sign");
	n = bsw_utf16le_to_utf8(s, 6, out, 8, 0);
	T_CHECK(n == 6 && !strcmp(out, "W\xC3\xA9\xE2\x82\xAC"),
		"a pair that does not fit is left out whole");
	T_CHECK(bsw_ntfs_fold_builtin('q') == 'Q' && bsw_ntfs_fold_builtin(0xE9) == 0xC9 &&
			bsw_ntfs_fold_builtin(0xF7) == 0xF7,
		"builtin folding");
}

int main(void)
{
	test_boot();
	test_fixup_and_attrs();
	test_runs();
	test_lznt1();
	test_xpress();
	test_restart();
	test_index();
	test_utf();
	return T_DONE();
}
