/*
 * Pure NTFS parsers: boot sector, multi-sector fixups, MFT record header,
 * attribute walk, runlists, $LogFile restart pages and index entries.
 * Each takes a buffer and a length and does no I/O; corruption comes back
 * as -EINVAL with a static reason in *why.  Layouts and rules:
 * ../shared/docs/WINDOWS-EVIDENCE.md section 1 (cited as "1.x" below).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/vec.h"
#include "formats/ntfs/ntfs_internal.h"

#define FAIL(msg)                                                                                  \
	do {                                                                                       \
		if (why)                                                                           \
			*why = (msg);                                                              \
		return -EINVAL;                                                                    \
	} while (0)

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* Size in bytes from a clusters-per-record/index byte (1.1): c > 0 is a
 * cluster count, 0xE1..0xF7 is 2^-c bytes. */
static uint32_t size_from_cpr(uint8_t c, uint32_t cluster)
{
	if (c >= 1 && c <= 64 && is_pow2(c))
		return (uint64_t)c * cluster > (1u << 24) ? 0 : c * cluster;
	if (c >= 0xE1 && c <= 0xF7)
		return 1u << (256 - c);
	return 0;
}

int bsw_ntfs_parse_boot(const uint8_t *b, size_t len, struct bsw_ntfs_boot *bs, const char **why)
{
	uint32_t spc;
	uint8_t s;

	memset(bs, 0, sizeof(*bs));
	if (len < 512)
		FAIL("short boot sector");
	if (memcmp(b + 3, "NTFS    ", 8))
		FAIL("OEM id is not \"NTFS    \"");
	bs->bps = get_le16(b + 0x0B);
	if (bs->bps < 256 || bs->bps > 4096 || !is_pow2(bs->bps))
		FAIL("bytes per sector not a power of 2 in [256,4096]");
	s = b[0x0D];
	if (s >= 1 && s <= 128 && is_pow2(s))
		spc = s;
	else if (s >= 240 && s <= 253)
		spc = 1u << (256 - s);
	else
		FAIL("sectors per cluster invalid");
	if ((uint64_t)spc * bs->bps > (2u << 20))
		FAIL("cluster larger than 2 MiB");
	bs->cluster = spc * bs->bps;
	/* fields that FAT uses must be zero on NTFS (ntfs-3g bootsect.c) */
	if (get_le16(b + 0x0E) || b[0x10] || get_le16(b + 0x11) || get_le16(b + 0x13) ||
	    get_le16(b + 0x16) || get_le32(b + 0x20))
		FAIL("FAT fields (reserved, fats, root, sectors, spf, large) not zero");
	bs->rec_size = size_from_cpr(b[0x40], bs->cluster);
	if (bs->rec_size < 512 || bs->rec_size > 65536)
		FAIL("clusters per MFT record invalid");
	bs->idx_size = size_from_cpr(b[0x44], bs->cluster);
	if (bs->idx_size < 512 || bs->idx_size > (1u << 21))
		FAIL("clusters per index block invalid");
	bs->nr_sectors = get_le64(b + 0x28);
	/* keep every byte offset of the volume below 2^62 */
	if (!bs->nr_sectors || bs->nr_sectors > (UINT64_MAX >> 2) / bs->bps)
		FAIL("number of sectors invalid");
	bs->nr_clusters = bs->nr_sectors / spc;
	bs->mft_lcn = get_le64(b + 0x30);
	bs->mirr_lcn = get_le64(b + 0x38);
	if (!bs->mft_lcn || !bs->mirr_lcn || bs->mft_lcn == bs->mirr_lcn)
		FAIL("MFT or MFTMirr LCN zero or equal");
	if (bs->mft_lcn >= bs->nr_clusters || bs->mirr_lcn >= bs->nr_clusters)
		FAIL("MFT or MFTMirr LCN beyond the volume");
	bs->serial = get_le64(b + 0x48);
	return 0;
}

/*
 * Undo the update sequence protection of a multi-sector record (1.2): the
 * last u16 of every 512-byte stride must equal the USN and is replaced
 * from the array.  Returns 0, 1 when some stride did not match (torn; the
 * matching strides are still fixed and *bad_stride is the first bad one),
 * or -EINVAL when the array itself is malformed.
 */
int bsw_ntfs_fixup(uint8_t *buf, size_t len, unsigned *bad_stride)
{
	uint16_t usa_ofs, usa_count, usn;
	unsigned i, n = (unsigned)(len / 512);
	int torn = 0;

	if (len < 512 || len % 512 || len > (1u << 22))
		return -EINVAL;
	usa_ofs = get_le16(buf + 4);
	usa_count = get_le16(buf + 6);
	if ((usa_ofs & 1) || usa_count != n + 1 || (uint32_t)usa_ofs + 2u * usa_count > 510)
		return -EINVAL;
	usn = get_le16(buf + usa_ofs);
	for (i = 0; i < n; i++) {
		uint8_t *end = buf + (size_t)i * 512 + 510;

		if (get_le16(end) != usn) {
			if (!torn && bad_stride)
				*bad_stride = i;
			torn = 1;
			continue;
		}
		memcpy(end, buf + usa_ofs + 2 * (i + 1), 2);
	}
	return torn;
}

int bsw_ntfs_parse_rhdr(const uint8_t *r, size_t len, uint32_t rec_size, struct bsw_ntfs_rhdr *h,
			const char **why)
{
	memset(h, 0, sizeof(*h));
	if (len < 48 || len < rec_size)
		FAIL("short record");
	h->magic = get_le32(r);
	h->usa_ofs = get_le16(r + 4);
	h->usa_count = get_le16(r + 6);
	h->seq = get_le16(r + 0x10);
	h->links = get_le16(r + 0x12);
	h->attrs_off = get_le16(r + 0x14);
	h->flags = get_le16(r + 0x16);
	h->used = get_le32(r + 0x18);
	h->alloc = get_le32(r + 0x1C);
	h->base = get_le64(r + 0x20);
	if (h->usa_ofs >= 0x30) {
		h->number = get_le32(r + 0x2C);
		h->has_number = true;
	}
	if (h->magic != NTFS_MAGIC_FILE)
		FAIL(h->magic == 0x44414142u ? "BAAD magic" : "no FILE magic");
	if (h->alloc != rec_size)
		FAIL("allocated size differs from the record size");
	if (h->used > rec_size || (h->used & 7))
		FAIL("bytes in use beyond the record or not 8-aligned");
	if ((h->attrs_off & 7) || h->attrs_off < (uint32_t)h->usa_ofs + 2u * h->usa_count ||
	    (uint32_t)h->attrs_off + 4 > h->used)
		FAIL("attribute offset invalid");
	return 0;
}

/*
 * Decode the attribute at *pos and advance (1.2, ntfs_mft_record_check):
 * returns 1 for an attribute, 0 at the end marker, -EINVAL if corrupt.
 * *prev_type enforces ascending type order.
 */
int bsw_ntfs_attr_next(const uint8_t *r, uint32_t used, uint32_t *pos, uint32_t *prev_type,
		       struct bsw_ntfs_attr *a, const char **why)
{
	const uint8_t *p;
	uint32_t o = *pos;

	if (!bsw_range_ok(o, 4, used))
		FAIL("attributes run past bytes in use without an end marker");
	p = r + o;
	memset(a, 0, sizeof(*a));
	a->type = get_le32(p);
	if (a->type == NTFS_AT_END)
		return 0;
	if (!bsw_range_ok(o, 16, used))
		FAIL("attribute header past bytes in use");
	a->len = get_le32(p + 4);
	a->off = o;
	if (a->len < 16 || (a->len & 7) || !bsw_range_ok(o, a->len, used))
		FAIL("attribute length invalid");
	if (a->type < *prev_type)
		FAIL("attribute types not ascending");
	if (a->type & 0xF)
		FAIL("attribute type not a multiple of 0x10");
	a->nonres = p[8];
	a->name_len = p[9];
	a->name_off = get_le16(p + 0xA);
	a->flags = get_le16(p + 0xC);
	a->id = get_le16(p + 0xE);
	if (a->nonres > 1)
		FAIL("non-resident flag invalid");
	if (a->name_len && !bsw_range_ok(a->name_off, 2u * a->name_len, a->len))
		FAIL("attribute name outside the attribute");
	if (!a->nonres) {
		if (a->len < 24)
			FAIL("resident attribute too short");
		a->val_len = get_le32(p + 0x10);
		a->val_off = get_le16(p + 0x14);
		if (!bsw_range_ok(a->val_off, a->val_len, a->len))
			FAIL("resident value outside the attribute");
		a->val_off += o;
	} else {
		if (a->len < 64)
			FAIL("non-resident attribute too short");
		a->lowest_vcn = get_le64(p + 0x10);
		a->highest_vcn = get_le64(p + 0x18);
		a->runs_off = get_le16(p + 0x20);
		a->cu_shift = p[0x22];
		a->alloc_size = get_le64(p + 0x28);
		a->data_size = get_le64(p + 0x30);
		a->init_size = get_le64(p + 0x38);
		if (a->runs_off < 64 || a->runs_off > a->len)
			FAIL("runlist offset outside the attribute");
		if (a->highest_vcn + 1 < a->lowest_vcn || (a->lowest_vcn >> 62) ||
		    (a->highest_vcn >> 62 && a->highest_vcn != UINT64_MAX))
			FAIL("VCN range invalid");
		if ((a->alloc_size | a->data_size | a->init_size) >> 62)
			FAIL("attribute sizes invalid");
		if (a->cu_shift > 16)
			FAIL("compression unit invalid");
		a->runs_len = a->len - a->runs_off;
		a->runs_off += o;
	}
	*prev_type = a->type;
	*pos = o + a->len;
	return 1;
}

int bsw_ntfs_runs_add(struct bsw_ntfs_runs *rl, uint64_t vcn, uint64_t lcn, uint64_t len)
{
	int ret =
		bsw_vec_reserve(&rl->r, &rl->alloc, rl->nr + 1, sizeof(*rl->r), BSW_NTFS_MAX_RUNS);

	if (ret)
		return ret;
	rl->r[rl->nr++] = (struct bsw_ntfs_run){ vcn, lcn, len };
	return 0;
}

void bsw_ntfs_runs_free(struct bsw_ntfs_runs *rl)
{
	free(rl->r);
	memset(rl, 0, sizeof(*rl));
}

/*
 * Decode a mapping-pairs array (libfsntfs "The data runs"): a header byte
 * (low nibble length size, high nibble offset size), then the run length
 * and a signed LCN delta; offset size 0 is a sparse run; 0x00 ends it.
 * Appends to out; every allocated run must lie inside nr_clusters (when
 * non-zero).  0 or -EINVAL/-E2BIG/-ENOMEM.
 */
int bsw_ntfs_parse_runs(const uint8_t *p, size_t len, uint64_t start_vcn, uint64_t nr_clusters,
			struct bsw_ntfs_runs *out, const char **why)
{
	uint64_t vcn = start_vcn;
	int64_t lcn = 0;
	size_t i = 0;
	unsigned n = 0;

	for (;;) {
		uint8_t h, lb, ob;
		uint64_t rlen = 0;
		int64_t delta = 0;
		unsigned k;
		int ret;

		if (i >= len)
			FAIL("runlist not terminated");
		h = p[i++];
		if (!h)
			return 0;
		if (++n > BSW_NTFS_MAX_RUNS)
			return -E2BIG;
		lb = h & 0xF;
		ob = h >> 4;
		if (!lb || lb > 8 || ob > 8)
			FAIL("run header sizes invalid");
		if (!bsw_range_ok(i, (uint64_t)lb + ob, len))
			FAIL("run past the end of the attribute");
		for (k = 0; k < lb; k++)
			rlen |= (uint64_t)p[i + k] << (8 * k);
		i += lb;
		if (!rlen || rlen >> 62)
			FAIL("run length zero or negative");
		if (ob) {
			uint64_t u = 0;

			for (k = 0; k < ob; k++)
				u |= (uint64_t)p[i + k] << (8 * k);
			if (ob < 8 && (p[i + ob - 1] & 0x80))
				u |= ~0ull << (8 * ob); /* sign-extend */
			delta = (int64_t)u;
			i += ob;
			if (__builtin_add_overflow(lcn, delta, &lcn) || lcn < 0)
				FAIL("run LCN negative");
			if (nr_clusters &&
			    ((uint64_t)lcn >= nr_clusters || rlen > nr_clusters - (uint64_t)lcn))
				FAIL("run beyond the end of the volume");
		}
		if ((vcn + rlen) >> 62)
			FAIL("VCN overflow");
		ret = bsw_ntfs_runs_add(out, vcn, ob ? (uint64_t)lcn : NTFS_LCN_HOLE, rlen);
		if (ret)
			return ret;
		vcn += rlen;
	}
}

/*
 * $LogFile restart page (1.5, ntfs-3g logfile.c restart page and area
 * checks).  p holds the page with fixups applied (the caller does them).
 * Returns 0 valid, 1 empty (all 0xFF: a never-used log), -EINVAL.
 */
int bsw_ntfs_parse_restart(const uint8_t *p, size_t len, struct bsw_ntfs_rstr *r, const char **why)
{
	const uint8_t *ra;
	uint16_t usa_ofs, usa_count, ra_len, ca_off;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (len < 512)
		FAIL("short restart page");
	r->magic = get_le32(p);
	if (r->magic != NTFS_MAGIC_RSTR && r->magic != NTFS_MAGIC_CHKD) {
		for (i = 0; i < 512 && p[i] == 0xFF; i++)
			;
		if (i == 512)
			return 1;
		FAIL("magic is neither RSTR nor CHKD");
	}
	usa_ofs = get_le16(p + 4);
	usa_count = get_le16(p + 6);
	r->chkdsk_lsn = get_le64(p + 8);
	r->sys_page = get_le32(p + 0x10);
	r->log_page = get_le32(p + 0x14);
	r->ra_off = get_le16(p + 0x18);
	r->minor = (int16_t)get_le16(p + 0x1A);
	r->major = (int16_t)get_le16(p + 0x1C);
	if (r->sys_page < 512 || !is_pow2(r->sys_page) || r->sys_page > (1u << 16) ||
	    r->log_page < 512 || !is_pow2(r->log_page) || r->log_page > (1u << 16))
		FAIL("page sizes not powers of 2 >= 512");
	if (!((r->major == 1 && r->minor == 1) || (r->major == 2 && r->minor == 0)))
		FAIL("version is neither 1.1 nor 2.0");
	if (usa_count != 1 + r->sys_page / 512 || (usa_ofs & 1) ||
	    (uint32_t)usa_ofs + 2u * usa_count > 512)
		FAIL("update sequence array invalid");
	if ((r->ra_off & 7) || r->ra_off < (uint32_t)usa_ofs + 2u * usa_count ||
	    (uint32_t)r->ra_off + 0x30 > r->sys_page || r->ra_off + 0x30u > len)
		FAIL("restart area offset invalid");
	if (r->magic == NTFS_MAGIC_RSTR && r->chkdsk_lsn)
		FAIL("chkdsk LSN set in an RSTR page");
	ra = p + r->ra_off;
	r->current_lsn = get_le64(ra);
	r->clients = get_le16(ra + 8);
	r->free_list = get_le16(ra + 0xA);
	r->in_use_list = get_le16(ra + 0xC);
	r->flags = get_le16(ra + 0xE);
	ra_len = get_le16(ra + 0x14);
	ca_off = get_le16(ra + 0x16);
	if ((r->free_list != 0xFFFF && r->free_list >= r->clients) ||
	    (r->in_use_list != 0xFFFF && r->in_use_list >= r->clients))
		FAIL("client list index beyond the client count");
	if ((ca_off & 7) || (uint32_t)r->ra_off + ra_len > r->sys_page || ca_off > ra_len)
		FAIL("restart area length or client array offset invalid");
	if ((uint32_t)r->ra_off + ca_off + 160u * r->clients > r->sys_page)
		FAIL("client array beyond the restart page");
	return 0;
}

/*
 * Walk the entries of an INDEX_HEADER (libfsntfs "The index node header"):
 * entries start at +0 (u32, relative to the header) and end at +4.  fn is
 * called for each entry that carries a key.  0 or -EINVAL.
 */
int bsw_ntfs_parse_index_header(const uint8_t *p, size_t len, bsw_ntfs_ie_fn fn, void *arg,
				const char **why)
{
	uint32_t off, end;
	unsigned n = 0;

	if (len < 16)
		FAIL("index header truncated");
	off = get_le32(p);
	end = get_le32(p + 4);
	if (off < 16 || (off & 7) || end > len || off > end)
		FAIL("index entry offsets invalid");
	while (off < end) {
		const uint8_t *e = p + off;
		uint16_t elen, klen, flags;
		uint64_t sub = UINT64_MAX;
		int ret;

		if (++n > BSW_NTFS_MAX_INDEX)
			FAIL("too many index entries");
		if (!bsw_range_ok(off, 16, end))
			FAIL("index entry header truncated");
		elen = get_le16(e + 8);
		klen = get_le16(e + 10);
		flags = get_le16(e + 12);
		if (elen < 16 || (elen & 7) || !bsw_range_ok(off, elen, end))
			FAIL("index entry length invalid");
		if ((uint32_t)16 + klen > elen)
			FAIL("index key beyond its entry");
		if (flags & 1) {
			if (elen < 24 || 16u + klen > elen - 8u)
				FAIL("index entry too short for a subnode VCN");
			sub = get_le64(e + elen - 8);
		}
		if (klen && !(flags & 2) && fn) {
			ret = fn(arg, get_le64(e), e + 16, klen, flags, sub);
			if (ret)
				return ret;
		}
		if (flags & 2)
			return 0;
		off += elen;
	}
	FAIL("index node has no last entry");
}

/* INDEX_ROOT value: 0 attribute type, 8 block size, 16 INDEX_HEADER. */
int bsw_ntfs_parse_index_root(const uint8_t *p, size_t len, uint32_t *blk_size, bsw_ntfs_ie_fn fn,
			      void *arg, const char **why)
{
	if (len < 32)
		FAIL("INDEX_ROOT truncated");
	if (blk_size)
		*blk_size = get_le32(p + 8);
	return bsw_ntfs_parse_index_header(p + 16, len - 16, fn, arg, why);
}

/* One "INDX" block of INDEX_ALLOCATION: fixups, then the header at 0x18. */
int bsw_ntfs_parse_indx(uint8_t *p, size_t len, bsw_ntfs_ie_fn fn, void *arg, const char **why)
{
	unsigned bad = 0;
	int ret;

	if (len < 512 || get_le32(p) != NTFS_MAGIC_INDX)
		FAIL("INDX magic missing");
	ret = bsw_ntfs_fixup(p, len, &bad);
	if (ret < 0)
		FAIL("INDX update sequence array invalid");
	if (ret > 0)
		FAIL("INDX block torn (update sequence mismatch)");
	return bsw_ntfs_parse_index_header(p + 0x18, len - 0x18, fn, arg, why);
}

/* Fallback case folding when $UpCase is unusable: ASCII and Latin-1. */
uint16_t bsw_ntfs_fold_builtin(uint16_t c)
{
	if (c >= 'a' && c <= 'z')
		return c - 32;
	if (c >= 0xE0 && c <= 0xFE && c != 0xF7)
		return c - 32;
	if (c == 0xFF)
		return 0x178;
	return c;
}
