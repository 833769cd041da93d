/*
 * VHDX ([MS-VHDX] v20160714): file identifier, two headers, two region
 * tables, metadata, BAT with payload and sector-bitmap entries, and the log.
 *
 * A non-empty log is replayed in memory (MS-VHDX 2.3.3): the active
 * sequence is found, its data and zero descriptors are applied to an
 * overlay of the file, and every later read of the file (headers, BAT,
 * metadata and payload) goes through that overlay.  The file itself is
 * never written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/utf8.h"
#include "formats/common/bytes.h"
#include "formats/common/crc.h"
#include "formats/cont/cont.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)
#define VHDX_HDR1 (64 * KiB)
#define VHDX_HDR2 (128 * KiB)
#define VHDX_RGN1 (192 * KiB)
#define VHDX_RGN2 (256 * KiB)
#define VHDX_MAX_LOG (256 * MiB) /* log bytes read into memory */
#define VHDX_MAX_OVERLAY                                                                           \
	8192u /* overlay pieces: insertion is linear, so cap the quadratic worst case */
#define VHDX_MAX_META (1 * MiB)
#define VHDX_MAX_SIZE (64ull << 40) /* 64 TiB, the format's limit */
#define VHDX_SBM_SLOTS 64u	    /* sector-bitmap cache: one block's bits per slot */

enum {
	PB_NOT_PRESENT = 0,
	PB_UNDEFINED = 1,
	PB_ZERO = 2,
	PB_UNMAPPED = 3,
	PB_FULLY_PRESENT = 6,
	PB_PARTIALLY_PRESENT = 7,
};

/* GUIDs as they are stored (first three fields little-endian). */
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

/* One piece of the replayed log: [off, off+len) of the file. */
struct piece {
	uint64_t off, len;
	const uint8_t *data; /* NULL: zeros */
};

struct lentry {
	uint64_t off, seq;
	uint32_t len, tail;
	uint8_t *data; /* the entry's len bytes (owned) */
};

struct vhdx {
	const struct bsw_src *file;
	struct bsw_src ov; /* the file seen through the overlay */
	struct piece *pc;
	unsigned nr_pc;
	struct lentry *lents; /* valid log entries: own what pieces point to */
	uint32_t nr_lents;
	uint64_t size;
	uint32_t block, lss, pss, chunk_ratio;
	bool has_parent, leave_alloc;
	uint64_t nr_bat;
	uint64_t *bat;
	uint64_t nr_chunks;
	/*
	 * Differencing disks: the sector-bitmap bits of one payload block
	 * (block / lss / 8 bytes, 32 B to 64 KiB) per slot, direct-mapped by
	 * block number and read on demand, so memory stays at most 64 slices
	 * however large the disk is.
	 */
	uint32_t sbm_slice;
	uint8_t *sbm;			  /* VHDX_SBM_SLOTS * sbm_slice bytes */
	uint64_t sbm_blk[VHDX_SBM_SLOTS]; /* block + 1 held by the slot; 0 = empty */
	struct bsw_budget mem;		  /* what this layer holds (opts->mem_cap) */
};

static bool crc_ok(uint8_t *p, size_t len, size_t csum_off)
{
	uint32_t want = get_le32(p + csum_off), got;

	put_le32(p + csum_off, 0);
	got = bsw_crc32c(0, p, len);
	put_le32(p + csum_off, want);
	return got == want;
}

static bool guid_zero(const uint8_t *g)
{
	static const uint8_t z[16];

	return memcmp(g, z, 16) == 0;
}

/* ---- the overlay ------------------------------------------------------ */

/* Insert [off, off+len) -> data, replacing what it covers. */
static int ov_put(struct vhdx *x, uint64_t off, uint64_t len, const uint8_t *data)
{
	struct piece *n;
	unsigned i, o = 0;

	if (x->nr_pc + 2 > VHDX_MAX_OVERLAY)
		return -E2BIG;
	n = malloc((x->nr_pc + 3) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (i = 0; i < x->nr_pc; i++) {
		struct piece p = x->pc[i];
		uint64_t pend = p.off + p.len, end = off + len;

		if (pend <= off || p.off >= end) {
			n[o++] = p;
			continue;
		}
		if (p.off < off) /* left remainder */
			n[o++] = (struct piece){ p.off, off - p.off, p.data };
		if (pend > end) /* right remainder */
			n[o++] = (struct piece){ end, pend - end,
						 p.data ? p.data + (end - p.off) : NULL };
	}
	n[o++] = (struct piece){ off, len, data };
	free(x->pc);
	x->pc = n;
	x->nr_pc = o;
	/* keep sorted (insertion: o is small in practice) */
	for (i = o - 1; i > 0 && x->pc[i - 1].off > x->pc[i].off; i--) {
		struct piece t = x->pc[i];

		x->pc[i] = x->pc[i - 1];
		x->pc[i - 1] = t;
	}
	return 0;
}

/* First piece ending after off, or nr_pc. */
static unsigned ov_find(const struct vhdx *x, uint64_t off)
{
	unsigned lo = 0, hi = x->nr_pc;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (x->pc[mid].off + x->pc[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int64_t ov_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct vhdx *x = ctx;
	int64_t r = x->file->pread(x->file->ctx, buf, len, off);

	if (r < 0)
		return r;
	for (unsigned i = ov_find(x, off); i < x->nr_pc; i++) {
		const struct piece *p = &x->pc[i];
		uint64_t s, e;

		if (p->off >= off + len)
			break;
		s = BSW_MAX(p->off, off);
		e = BSW_MIN(p->off + p->len, off + len);
		if (p->data)
			memcpy((uint8_t *)buf + (s - off), p->data + (s - p->off), e - s);
		else
			memset((uint8_t *)buf + (s - off), 0, e - s);
		if (e - off > (uint64_t)r)
			r = e - off; /* the log may extend the file */
	}
	return r;
}

/* ---- the log (MS-VHDX 2.3) ---------------------------------------------- */

/* Validate the entry h (have bytes read) found at log offset o; fills e. */
static bool log_entry_ok(uint8_t *h, uint32_t have, uint64_t o, const uint8_t *guid,
			 struct lentry *e)
{
	uint32_t len, nd;

	if (have < 4096 || memcmp(h, "loge", 4))
		return false;
	len = get_le32(h + 8);
	nd = get_le32(h + 24);
	if (len < 4096 || len % 4096 || len != have)
		return false;
	if (memcmp(h + 32, guid, 16))
		return false;
	if (64 + (uint64_t)nd * 32 > len)
		return false;
	if (!crc_ok(h, len, 4))
		return false;
	e->off = o;
	e->len = len;
	e->data = h;
	e->tail = get_le32(h + 12);
	e->seq = get_le64(h + 16);
	return e->seq != 0;
}

static int log_apply(struct vhdx *x, uint8_t *h, uint64_t fsize_cap)
{
	uint32_t nd = get_le32(h + 24);
	uint64_t dsec = ((64 + (uint64_t)nd * 32) + 4095) / 4096 * 4096;
	uint64_t seq = get_le64(h + 16);
	uint32_t len = get_le32(h + 8);
	int rc;

	for (uint32_t i = 0; i < nd; i++) {
		uint8_t *d = h + 64 + 32 * i;
		uint64_t foff = get_le64(d + 16);

		if (get_le64(d + 24) != seq)
			return -EINVAL;
		if (!memcmp(d, "zero", 4)) {
			uint64_t zl = get_le64(d + 8);

			if (zl % 4096 || foff % 4096 || zl > fsize_cap || foff > fsize_cap)
				return -EINVAL;
			rc = ov_put(x, foff, zl, NULL);
		} else if (!memcmp(d, "desc", 4)) {
			uint8_t *s = h + dsec;
			uint8_t *sec;

			if (dsec + 4096 > len || memcmp(s, "data", 4) ||
			    get_le32(s + 4) != (uint32_t)(seq >> 32) ||
			    get_le32(s + 4092) != (uint32_t)seq || foff % 4096 || foff > fsize_cap)
				return -EINVAL;
			/*
			 * The sector is rebuilt in place: 8 leading bytes from
			 * the descriptor, 4084 from the data sector, 4 trailing.
			 * The "data" signature and sequence words are overwritten,
			 * which is fine: this buffer is ours and read once.
			 */
			sec = s;
			memmove(sec + 8, s + 8, 4084); /* already in place */
			memcpy(sec, d + 8, 8);	       /* leading bytes */
			memcpy(sec + 4092, d + 4, 4);  /* trailing bytes */
			rc = ov_put(x, foff, 4096, sec);
			dsec += 4096;
		} else {
			return -EINVAL;
		}
		if (rc)
			return rc;
	}
	return 0;
}

#define VHDX_MAX_HEADS 16  /* candidate heads tried, highest first */
#define LOG_WIN (64 * KiB) /* scan window over the log */

/*
 * Find the active sequence (MS-VHDX 2.3.3) and apply it.  The log is
 * scanned once for valid entries (an entry's interior is skipped, so every
 * byte is checksummed at most once); the valid entry with the highest
 * sequence number is the head, and its tail field names the first entry of
 * the sequence, which must lead to the head through contiguous entries
 * with consecutive sequence numbers.  If it does not, the next-highest head
 * is tried (a capped number of times).  Returns the number of entries
 * applied, 0 if no valid sequence exists, or -errno.
 */
static int log_replay(struct vhdx *x, const uint8_t *hdr, struct bsw_fx *fx, uint64_t *head_seq)
{
	uint32_t loglen = get_le32(hdr + 68);
	uint64_t logoff = get_le64(hdr + 72);
	const uint8_t *guid = hdr + 48;
	struct lentry *ents = NULL;
	uint32_t *slot = NULL, n = 0, nslots;
	uint64_t below = UINT64_MAX;  /* heads tried have sequences >= this */
	uint64_t wstart = UINT64_MAX; /* log offset of the window */
	uint8_t *win = NULL;
	int rc;

	(void)fx;
	if (loglen == 0 || loglen % MiB || logoff % MiB || loglen > VHDX_MAX_LOG ||
	    !bsw_range_ok(logoff, loglen, x->file->size))
		return -EINVAL;
	nslots = loglen / 4096;
	/*
	 * The log is scanned through a 64 KiB window; each entry whose
	 * header looks valid is copied into its own buffer (and checksummed),
	 * charged to the budget, and kept if valid (the overlay points into
	 * it).  The scan tables are transient.
	 */
	if (!bsw_budget_fits(&x->mem, (uint64_t)nslots * (sizeof(*ents) + sizeof(*slot))))
		return -EFBIG;
	ents = calloc(nslots, sizeof(*ents));
	slot = malloc(nslots * sizeof(*slot));
	win = malloc(LOG_WIN);
	x->lents = ents;
	if (!ents || !slot || !win) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < nslots; i++)
		slot[i] = UINT32_MAX;
	for (uint64_t o = 0; o < loglen;) {
		struct lentry e;
		const uint8_t *peek;
		uint8_t *buf;
		uint32_t len;

		if (wstart == UINT64_MAX || o < wstart || o + 64 > wstart + LOG_WIN) {
			wstart = o;
			rc = bsw_src_read_full(x->file, win, BSW_MIN(LOG_WIN, loglen - o),
					       logoff + o);
			if (rc)
				goto out;
		}
		peek = win + (o - wstart);
		len = get_le32(peek + 8);
		if (memcmp(peek, "loge", 4) || memcmp(peek + 32, guid, 16) || len < 4096 ||
		    len % 4096 || o + len > loglen) {
			o += 4096;
			continue;
		}
		if (!bsw_budget_take(&x->mem, len)) {
			rc = -EFBIG;
			goto out;
		}
		buf = malloc(len);
		if (!buf) {
			bsw_budget_give(&x->mem, len);
			rc = -ENOMEM;
			goto out;
		}
		rc = bsw_src_read_full(x->file, buf, len, logoff + o);
		if (!rc && log_entry_ok(buf, len, o, guid, &e)) {
			slot[o / 4096] = n;
			ents[n++] = e;
			x->nr_lents = n;
			o += e.len;
			continue;
		}
		free(buf);
		bsw_budget_give(&x->mem, len);
		if (rc)
			goto out;
		o += 4096;
	}
	for (unsigned tries = 0; tries < VHDX_MAX_HEADS; tries++) {
		uint32_t h = UINT32_MAX, i, count = 1;
		uint64_t o;

		for (uint32_t k = 0; k < n; k++)
			if (ents[k].seq < below && (h == UINT32_MAX || ents[k].seq > ents[h].seq))
				h = k;
		if (h == UINT32_MAX)
			break;
		below = ents[h].seq;
		o = ents[h].tail;
		if (o % 4096 || o >= loglen || slot[o / 4096] == UINT32_MAX)
			continue;
		/* Walk tail -> head; at most n steps since sequences increase. */
		for (i = slot[o / 4096]; i != h; count++) {
			uint64_t nx = (ents[i].off + ents[i].len) % loglen;
			uint32_t j = slot[nx / 4096];

			if (count >= n || j == UINT32_MAX || ents[j].seq != ents[i].seq + 1)
				break;
			i = j;
		}
		if (i != h)
			continue;
		/* Apply from the tail to the head. */
		i = slot[ents[h].tail / 4096];
		for (uint32_t k = 0; k < count; k++) {
			rc = log_apply(x, ents[i].data, VHDX_MAX_SIZE);
			if (rc)
				goto out;
			if (k + 1 < count)
				i = slot[((ents[i].off + ents[i].len) % loglen) / 4096];
		}
		*head_seq = ents[h].seq;
		rc = (int)count;
		goto out;
	}
	rc = 0;
out:
	free(win);
	free(slot);
	return rc;
}

/* Drop the log copy (entries and the overlay pointing into them). */
static void log_free(struct vhdx *x)
{
	for (uint32_t i = 0; i < x->nr_lents; i++) {
		bsw_budget_give(&x->mem, x->lents[i].len);
		free(x->lents[i].data);
	}
	free(x->lents);
	x->lents = NULL;
	x->nr_lents = 0;
	free(x->pc);
	x->pc = NULL;
	x->nr_pc = 0;
}

/* ---- open --------------------------------------------------------------- */

static int vhdx_probe(const struct bsw_src *src)
{
	uint8_t b[8];

	return src->size >= 1 * MiB && !bsw_src_read_full(src, b, 8, 0) &&
	       !memcmp(b, "vhdxfile", 8);
}

static const char *header_problem(uint8_t *h)
{
	if (memcmp(h, "head", 4))
		return "no 'head' signature";
	if (!crc_ok(h, 4096, 4))
		return "CRC-32C mismatch";
	if (get_le16(h + 66) != 1)
		return "version is not 1";
	return NULL;
}

static int read_region(struct vhdx *x, struct bsw_fx *fx, uint8_t *rt, char *err, size_t errlen)
{
	static const uint64_t where[2] = { VHDX_RGN1, VHDX_RGN2 };
	const char *why[2] = { NULL, NULL };

	for (int i = 0; i < 2; i++) {
		if (bsw_src_read_full(&x->ov, rt, 64 * KiB, where[i])) {
			why[i] = "unreadable";
		} else if (memcmp(rt, "regi", 4)) {
			why[i] = "no 'regi' signature";
		} else if (!crc_ok(rt, 64 * KiB, 4)) {
			why[i] = "CRC-32C mismatch";
		} else if (get_le32(rt + 8) > 2047) {
			why[i] = "more than 2047 entries";
		} else {
			if (i == 1)
				BSW_REPORT(fx, PR_2_VHDX_REGION_BAD, .n = 1, .off = where[0],
					   .str = why[0]);
			return 0;
		}
	}
	return bsw_cont_err(err, errlen, -EINVAL, "both VHDX region tables are invalid (%s; %s)",
			    why[0], why[1]);
}

/* A file range in use: a block, or a structure (idx < 0). */
struct span {
	uint64_t off, len;
	int64_t idx;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *p = a, *q = b;

	return p->off < q->off ? -1 : p->off > q->off;
}

static const char *span_name(int64_t idx)
{
	return idx == -1 ? "the BAT region" :
	       idx == -2 ? "the metadata region" :
	       idx == -3 ? "the log" :
			   "another block";
}

/*
 * Allocated blocks must not overlap each other, the BAT, the metadata or
 * the log (MS-VHDX 2.2: regions and payload are disjoint 1 MiB-aligned
 * ranges); an image that breaks this cannot be read consistently.
 */
static bool bat_allocated(const struct vhdx *x, uint64_t i)
{
	unsigned st = x->bat[i] & 7;
	bool sb = (i % (x->chunk_ratio + 1)) == x->chunk_ratio;

	return (sb && st == 6) || (!sb && (st == PB_FULLY_PRESENT || st == PB_PARTIALLY_PRESENT));
}

static int check_overlaps(const struct vhdx *x, const uint8_t *hdr, uint64_t bat_off,
			  uint32_t bat_len, uint64_t meta_off, uint32_t meta_len, uint64_t nalloc,
			  char *err, size_t errlen)
{
	struct span *sp;
	uint64_t n = 0;
	int rc = 0;
	/* transient: one span per allocated block, charged against the cap */
	if (!bsw_budget_fits(&x->mem, (nalloc + 3) * sizeof(*sp)))
		return bsw_cont_err(
			err, errlen, -EFBIG,
			"VHDX overlap check of %llu allocated blocks needs %llu bytes of memory, above the per-disk memory cap of %llu bytes",
			(unsigned long long)nalloc,
			(unsigned long long)((nalloc + 3) * sizeof(*sp)),
			(unsigned long long)x->mem.cap);
	sp = malloc((nalloc + 3) * sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp[n++] = (struct span){ bat_off, bat_len, -1 };
	sp[n++] = (struct span){ meta_off, meta_len, -2 };
	if (get_le32(hdr + 68))
		sp[n++] = (struct span){ get_le64(hdr + 72), get_le32(hdr + 68), -3 };
	for (uint64_t i = 0; i < x->nr_bat && n < nalloc + 3; i++) {
		bool sb = (i % (x->chunk_ratio + 1)) == x->chunk_ratio;

		if (bat_allocated(x, i))
			sp[n++] = (struct span){ (x->bat[i] >> 20) * MiB, sb ? 1 * MiB : x->block,
						 (int64_t)i };
	}
	qsort(sp, n, sizeof(*sp), span_cmp);
	for (uint64_t i = 1; i < n; i++) {
		const struct span *a = &sp[i - 1], *b = &sp[i];

		if (b->off >= a->off + a->len)
			continue;
		if (a->idx < 0 && b->idx < 0)
			continue; /* regions among themselves: not ours to judge */
		if (b->idx < 0) {
			const struct span *t = a;

			a = b;
			b = t;
		}
		rc = bsw_cont_err(err, errlen, -EINVAL,
				  "VHDX BAT entry %lld (offset %llu) overlaps %s at offset %llu",
				  (long long)b->idx, (unsigned long long)b->off, span_name(a->idx),
				  (unsigned long long)a->off);
		break;
	}
	free(sp);
	return rc;
}

static int vhdx_open(void **h, const struct bsw_src *src, const struct bsw_cont_opts *opts,
		     struct bsw_fx *fx, struct bsw_cont_info *info, char *err, size_t errlen)
{
	uint8_t hd[2][4096], *hdr = NULL, *rt = NULL, *meta = NULL, *item = NULL;
	uint64_t bat_off = 0, meta_off = 0, fsize = src->size, nalloc = 0;
	uint32_t bat_len = 0, meta_len = 0;
	const char *why[2];
	struct vhdx *x;
	int rc;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->file = src;
	bsw_budget_init(&x->mem, opts ? opts->mem_cap : 0);
	x->ov = (struct bsw_src){ .pread = ov_pread, .ctx = x, .size = fsize, .name = src->name };
	info->format = "vhdx";
	for (int i = 0; i < 2; i++) {
		if (bsw_src_read_full(src, hd[i], 4096, i ? VHDX_HDR2 : VHDX_HDR1))
			why[i] = "unreadable";
		else
			why[i] = header_problem(hd[i]);
	}
	if (why[0] && why[1]) {
		rc = bsw_cont_err(err, errlen, -EINVAL,
				  "both VHDX headers are invalid (header 1: %s; header 2: %s)",
				  why[0], why[1]);
		goto fail;
	}
	if (why[0] || (!why[1] && get_le64(hd[1] + 8) > get_le64(hd[0] + 8)))
		hdr = hd[1];
	else
		hdr = hd[0];
	if (why[0] || why[1])
		BSW_REPORT(fx, PR_2_VHDX_HEADER_BAD, .n = why[0] ? 1 : 2,
			   .off = why[0] ? VHDX_HDR1 : VHDX_HDR2, .str = why[0] ? why[0] : why[1]);
	memcpy(info->id, hdr + 32, 16); /* DataWriteGuid */
	if (!guid_zero(hdr + 48)) {
		uint64_t seq = 0;

		rc = log_replay(x, hdr, fx, &seq);
		if (rc == -EFBIG) {
			rc = bsw_cont_err(
				err, errlen, -EFBIG,
				"VHDX log of %u bytes does not fit the per-disk memory cap of %llu bytes",
				get_le32(hdr + 68), (unsigned long long)x->mem.cap);
			goto fail;
		} else if (rc < 0 && rc != -ENOMEM) {
			/* A sequence that failed half-way is not applied at all. */
			log_free(x);
			BSW_REPORT(fx, PR_2_VHDX_LOG_BAD, .str = "log region invalid");
		} else if (rc == 0) {
			log_free(x);
			BSW_REPORT(fx, PR_2_VHDX_LOG_BAD, .str = "no valid entry");
		} else if (rc > 0) {
			info->log_replayed = true;
			BSW_REPORT(fx, PR_2_VHDX_LOG_REPLAYED, .n = rc, .n2 = seq);
		} else {
			goto fail;
		}
		/* The overlay may have extended the file. */
		for (unsigned i = 0; i < x->nr_pc; i++)
			x->ov.size = BSW_MAX(x->ov.size, x->pc[i].off + x->pc[i].len);
	}
	rt = malloc(64 * KiB);
	if (!rt) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = read_region(x, fx, rt, err, errlen);
	if (rc)
		goto fail;
	for (uint32_t i = 0, n = get_le32(rt + 8); i < n; i++) {
		const uint8_t *e = rt + 16 + 32 * i;

		if (!memcmp(e, G_BAT, 16)) {
			bat_off = get_le64(e + 16);
			bat_len = get_le32(e + 24);
		} else if (!memcmp(e, G_META, 16)) {
			meta_off = get_le64(e + 16);
			meta_len = get_le32(e + 24);
		} else if (get_le32(e + 28) & 1) {
			rc = bsw_cont_err(err, errlen, -ENOTSUP,
					  "VHDX region table holds an unknown required region");
			goto fail;
		}
	}
	if (!bat_len || !meta_len || meta_len > VHDX_MAX_META ||
	    !bsw_range_ok(bat_off, bat_len, x->ov.size) ||
	    !bsw_range_ok(meta_off, meta_len, x->ov.size)) {
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"VHDX BAT (%u bytes at %llu) or metadata region (%u bytes at %llu) is missing or past the end of the %llu-byte file",
			bat_len, (unsigned long long)bat_off, meta_len,
			(unsigned long long)meta_off, (unsigned long long)x->ov.size);
		goto fail;
	}
	/*
	 * Only the table (32 bytes per entry) and the items bootsweep uses
	 * are read, not the whole region: each item is read at its own size.
	 */
	{
		uint8_t th[32];

		if (meta_len < 64 * KiB || bsw_src_read_full(&x->ov, th, sizeof(th), meta_off) ||
		    memcmp(th, "metadata", 8) || get_le16(th + 10) > 2047) {
			rc = bsw_cont_err(err, errlen, -EINVAL,
					  "VHDX metadata table at %llu is invalid",
					  (unsigned long long)meta_off);
			goto fail;
		}
		meta = malloc(32 + 32 * (size_t)get_le16(th + 10));
		if (!meta) {
			rc = -ENOMEM;
			goto fail;
		}
		rc = bsw_src_read_full(&x->ov, meta, 32 + 32 * (size_t)get_le16(th + 10), meta_off);
		if (rc)
			goto fail;
	}
	{
		bool have_fp = false, have_vs = false;

		x->lss = x->pss = 512;
		for (uint32_t i = 0, n = get_le16(meta + 10); i < n; i++) {
			const uint8_t *e = meta + 32 + 32 * i;
			uint32_t o = get_le32(e + 16), l = get_le32(e + 20);
			uint8_t small[8];
			const uint8_t *d = small;
			uint32_t want = 0;

			if (!bsw_range_ok(o, l, meta_len) || (l && o < 64 * KiB)) {
				rc = bsw_cont_err(
					err, errlen, -EINVAL,
					"VHDX metadata item %u (offset %u, length %u) lies outside the metadata region",
					i, o, l);
				goto fail;
			}
			if (!memcmp(e, G_FILEPARAM, 16) || !memcmp(e, G_VSIZE, 16))
				want = 8;
			else if (!memcmp(e, G_LSS, 16) || !memcmp(e, G_PSS, 16))
				want = 4;
			if (want && l >= want &&
			    (rc = bsw_src_read_full(&x->ov, small, want, meta_off + o)))
				goto fail;
			if (!memcmp(e, G_PLOC, 16) && l >= 20) {
				free(item);
				item = malloc(l);
				if (!item) {
					rc = -ENOMEM;
					goto fail;
				}
				rc = bsw_src_read_full(&x->ov, item, l, meta_off + o);
				if (rc)
					goto fail;
				d = item;
			}
			if (!memcmp(e, G_FILEPARAM, 16) && l >= 8) {
				x->block = get_le32(d);
				x->has_parent = get_le32(d + 4) & 2;
				x->leave_alloc = get_le32(d + 4) & 1;
				have_fp = true;
			} else if (!memcmp(e, G_VSIZE, 16) && l >= 8) {
				x->size = get_le64(d);
				have_vs = true;
			} else if (!memcmp(e, G_LSS, 16) && l >= 4) {
				x->lss = get_le32(d);
			} else if (!memcmp(e, G_PSS, 16) && l >= 4) {
				x->pss = get_le32(d);
			} else if (!memcmp(e, G_PLOC, 16) && l >= 20) {
				uint16_t nkv = get_le16(d + 18);

				for (uint16_t k = 0; k < nkv && 20 + 12u * (k + 1) <= l; k++) {
					const uint8_t *kv = d + 20 + 12 * k;
					uint32_t ko = get_le32(kv), vo = get_le32(kv + 4);
					uint16_t kl = get_le16(kv + 8), vl = get_le16(kv + 10);
					char *key, *val;

					if (!bsw_range_ok(ko, kl, l) || !bsw_range_ok(vo, vl, l))
						continue;
					key = bsw_utf16le_dup(d + ko, kl / 2, BSW_U16_STOP_NUL);
					val = bsw_utf16le_dup(d + vo, vl / 2, BSW_U16_STOP_NUL);
					if (!key || !val) {
						free(key);
						free(val);
						rc = -ENOMEM;
						goto fail;
					}
					if (!strcmp(key, "parent_linkage")) {
						/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" */
						unsigned a, b, c, dd[8];

						if (sscanf(val,
							   "{%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x}",
							   &a, &b, &c, &dd[0], &dd[1], &dd[2],
							   &dd[3], &dd[4], &dd[5], &dd[6],
							   &dd[7]) == 11) {
							put_le32(info->parent_id, a);
							put_le16(info->parent_id + 4, b);
							put_le16(info->parent_id + 6, c);
							for (int j = 0; j < 8; j++)
								info->parent_id[8 + j] = dd[j];
							info->parent_id_valid = true;
						}
						free(val);
					} else if ((!strcmp(key, "relative_path") ||
						    !strcmp(key, "absolute_win32_path") ||
						    !strcmp(key, "volume_path")) &&
						   info->nr_locators < BSW_CONT_MAX_LOCATORS) {
						info->locator_kind[info->nr_locators] =
							key[0] == 'r' ? "relative" :
							key[0] == 'a' ? "absolute" :
									"volume";
						info->locator[info->nr_locators++] = val;
					} else {
						free(val);
					}
					free(key);
				}
			}
		}
		if (!have_fp || !have_vs) {
			rc = bsw_cont_err(err, errlen, -EINVAL, "VHDX metadata lacks the %s item",
					  have_fp ? "virtual disk size" : "file parameters");
			goto fail;
		}
	}
	if (x->block < 1 * MiB || x->block > 256 * MiB || (x->block & (x->block - 1)) ||
	    (x->lss != 512 && x->lss != 4096) || (x->pss != 512 && x->pss != 4096) ||
	    x->size == 0 || x->size > VHDX_MAX_SIZE || x->size % x->lss) {
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"VHDX parameters are invalid (block %u, logical sector %u, physical sector %u, size %llu)",
			x->block, x->lss, x->pss, (unsigned long long)x->size);
		goto fail;
	}
	x->chunk_ratio = (uint32_t)(((uint64_t)1 << 23) * x->lss / x->block);
	{
		uint64_t nblk = (x->size + x->block - 1) / x->block;

		x->nr_chunks = (nblk + x->chunk_ratio - 1) / x->chunk_ratio;
		if (x->has_parent)
			x->nr_bat = x->nr_chunks * (x->chunk_ratio + 1);
		else
			x->nr_bat = nblk + (nblk - 1) / x->chunk_ratio;
		if (x->nr_bat * 8 > bat_len) {
			rc = bsw_cont_err(
				err, errlen, -EINVAL,
				"VHDX BAT region of %u bytes cannot hold the %llu entries a %llu-byte disk needs",
				bat_len, (unsigned long long)x->nr_bat,
				(unsigned long long)x->size);
			goto fail;
		}
	}
	/*
	 * The BAT is kept whole: open checks every entry against the file
	 * and the others, and real BATs are small (64 TiB in 32 MiB blocks:
	 * 16 MiB).  It must fit the per-disk cap together with the sector
	 * bitmap cache; the overlap check's copy is charged when it is made.
	 */
	if (x->has_parent)
		x->sbm_slice = x->block / x->lss / 8;
	if (!bsw_budget_take(&x->mem, x->nr_bat * 8 + (uint64_t)VHDX_SBM_SLOTS * x->sbm_slice)) {
		rc = bsw_cont_err(
			err, errlen, -EFBIG,
			"VHDX BAT of %llu entries (%u-byte blocks for %llu bytes) needs %llu bytes of memory, above the per-disk memory cap of %llu bytes",
			(unsigned long long)x->nr_bat, x->block, (unsigned long long)x->size,
			(unsigned long long)(x->nr_bat * 8 +
					     (uint64_t)VHDX_SBM_SLOTS * x->sbm_slice),
			(unsigned long long)x->mem.cap);
		goto fail;
	}
	x->bat = malloc(x->nr_bat * 8);
	if (!x->bat) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = bsw_src_read_full(&x->ov, x->bat, x->nr_bat * 8, bat_off);
	if (rc)
		goto fail;
	for (uint64_t i = 0; i < x->nr_bat; i++) {
		uint64_t e = get_le64((uint8_t *)&x->bat[i]);
		unsigned st = e & 7;
		uint64_t poff = (e >> 20) * MiB;
		bool sb = (i % (x->chunk_ratio + 1)) == x->chunk_ratio;
		uint64_t need = sb ? 1 * MiB : x->block;

		x->bat[i] = e;
		if ((sb && st == 6) ||
		    (!sb && (st == PB_FULLY_PRESENT || st == PB_PARTIALLY_PRESENT))) {
			nalloc++;
			if (!bsw_range_ok(poff, need, x->ov.size) || poff < 1 * MiB) {
				rc = bsw_cont_err(
					err, errlen, -EINVAL,
					"VHDX BAT entry %llu points past end of file at offset %llu (file is %llu bytes)",
					(unsigned long long)i, (unsigned long long)poff,
					(unsigned long long)x->ov.size);
				goto fail;
			}
		}
	}
	rc = check_overlaps(x, hdr, bat_off, bat_len, meta_off, meta_len, nalloc, err, errlen);
	if (rc)
		goto fail;
	if (x->has_parent) {
		x->sbm = malloc((size_t)VHDX_SBM_SLOTS * x->sbm_slice);
		if (!x->sbm) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	info->subformat = x->has_parent ? "differencing" : "dynamic";
	/* "fixed": every payload block fully present and the file preallocated */
	if (!x->has_parent) {
		bool all = true;

		for (uint64_t i = 0; i < x->nr_bat && all; i++)
			if ((i % (x->chunk_ratio + 1)) != x->chunk_ratio &&
			    (x->bat[i] & 7) != PB_FULLY_PRESENT)
				all = false;
		if (all || x->leave_alloc)
			info->subformat = "fixed";
	}
	info->virtual_size = x->size;
	info->block_size = x->block;
	info->logical_sector = x->lss;
	info->physical_sector = x->pss;
	info->has_parent = x->has_parent;
	free(rt);
	free(meta);
	free(item);
	*h = x;
	return 0;
fail:
	bsw_cont_info_free(info);
	free(rt);
	free(meta);
	free(item);
	free(x->bat);
	free(x->sbm);
	log_free(x);
	free(x);
	return rc;
}

/* Resolve a file range through the overlay into e (DATA, ZERO or MEM). */
static void file_ext(struct vhdx *x, uint64_t poff, uint64_t len, struct bsw_cext *e)
{
	unsigned i = ov_find(x, poff);

	e->poff = poff;
	e->len = len;
	e->kind = BSW_CEXT_DATA;
	if (i < x->nr_pc) {
		const struct piece *p = &x->pc[i];

		if (p->off <= poff) {
			e->len = BSW_MIN(len, p->off + p->len - poff);
			e->kind = p->data ? BSW_CEXT_MEM : BSW_CEXT_ZERO;
			e->mem = p->data ? p->data + (poff - p->off) : NULL;
		} else if (p->off < poff + len) {
			e->len = p->off - poff;
		}
	}
}

static int vhdx_map(void *h, uint64_t off, uint64_t len, struct bsw_cext *e)
{
	struct vhdx *x = h;
	uint64_t blk, in, run, ent, poff;
	unsigned st;

	if (off >= x->size)
		return -EIO;
	len = BSW_MIN(len, x->size - off);
	blk = off / x->block;
	in = off % x->block;
	run = BSW_MIN(len, x->block - in);
	ent = x->bat[blk + blk / x->chunk_ratio];
	st = ent & 7;
	poff = (ent >> 20) * MiB + in;
	e->len = run;
	switch (st) {
	case PB_FULLY_PRESENT: file_ext(x, poff, run, e); return 0;
	case PB_PARTIALLY_PRESENT: {
		uint64_t chunk = blk / x->chunk_ratio;
		uint64_t sbe;
		uint8_t *bm;
		uint64_t s, end, i;
		unsigned slot = blk % VHDX_SBM_SLOTS;
		bool first;

		/*
		 * Only differencing disks have sector bitmap entries (MS-VHDX
		 * 2.5.1); a dynamic disk's BAT may end before this one.
		 */
		if (!x->has_parent) {
			e->kind = BSW_CEXT_ZERO;
			return 0;
		}
		sbe = x->bat[chunk * (x->chunk_ratio + 1) + x->chunk_ratio];
		if ((sbe & 7) != 6) {
			e->kind = BSW_CEXT_ZERO;
			return 0;
		}
		/*
		 * This block's bits: sbm_slice bytes at (blk % chunk_ratio) *
		 * sbm_slice in the chunk's 1 MiB bitmap block (chunk_ratio *
		 * block / lss bits = 2^23 exactly).
		 */
		bm = x->sbm + (size_t)slot * x->sbm_slice;
		if (x->sbm_blk[slot] != blk + 1) {
			int rc = bsw_src_read_full(&x->ov, bm, x->sbm_slice,
						   (sbe >> 20) * MiB +
							   (blk % x->chunk_ratio) * x->sbm_slice);

			if (rc) {
				x->sbm_blk[slot] = 0;
				return rc;
			}
			x->sbm_blk[slot] = blk + 1;
		}
		/* bit = sector within the block, LSB first */
		s = in / x->lss;
		end = (in + run + x->lss - 1) / x->lss;
		first = bm[s / 8] & (1u << (s % 8));
		/* Bit by bit to a byte boundary, then whole bytes. */
		for (i = s + 1; i < end;) {
			if (!(i % 8) && i + 8 <= end && bm[i / 8] == (first ? 0xff : 0x00)) {
				i += 8;
				continue;
			}
			if (!!(bm[i / 8] & (1u << (i % 8))) != first)
				break;
			i++;
		}
		run = BSW_MIN(run, (i - s) * x->lss - (off % x->lss));
		if (first)
			file_ext(x, poff, run, e);
		else {
			e->kind = BSW_CEXT_PARENT;
			e->len = run;
		}
		return 0;
	}
	case PB_NOT_PRESENT: e->kind = x->has_parent ? BSW_CEXT_PARENT : BSW_CEXT_ZERO; return 0;
	default: /* undefined, zero, unmapped */ e->kind = BSW_CEXT_ZERO; return 0;
	}
}

static void vhdx_close(void *h)
{
	struct vhdx *x = h;

	free(x->sbm);
	free(x->bat);
	log_free(x);
	free(x);
}

const struct bsw_cont_ops bsw_vhdx_ops = {
	.name = "vhdx",
	.probe = vhdx_probe,
	.open = vhdx_open,
	.map = vhdx_map,
	.close = vhdx_close,
};
