/*
 * NTFS pass 1: the sequential $MFT scan (WINDOWS-EVIDENCE.md 1.2, 1.3, 1.6).
 *
 * Records 0-3 of $MFT and of $MFTMirr are judged first (fixups, header,
 * in use, record number); a damaged $MFT copy with a good mirror copy is
 * replaced by the mirror for the whole run (the mirror pass reports it).
 * The $MFT runlist comes from record 0, following its $ATTRIBUTE_LIST into
 * extension records when the $MFT is fragmented.  Then the whole $MFT is
 * read in BSW_NTFS_CHUNK pieces (one pread per contiguous piece), each
 * chunk's records are parsed in parallel (parse_one: pure), written to a
 * compact form (form_record) and merged serially from it (merge_unit).
 * With opts.share, a chunk works in units of BSW_NTFS_SHARE_UNIT: a unit
 * whose every byte comes from a shared layer is looked up by its key
 * (bsw_ntfs_recs_key) before the chunk is read and, when kept by another
 * volume, merged from the kept form without being read or parsed; the
 * other units are read and parsed, and the forms of the shareable ones
 * handed to the share (docs/sharing.md, "MFT records").
 *
 * Tests: record 0 usable in one copy, with an unnamed non-resident $DATA
 * (NTFS-META fatal); the runlist covering the $MFT size, and read errors
 * (NTFS-META); the record count against max_records and the memory budget
 * (NTFS-META cap); per record: fixups (torn), header, attribute walk,
 * record number, $DATA sizes (kept as issues, reported with their paths by
 * the damage pass); the runlists of in-use records against the volume and
 * their VCN range (NTFS-REC run).
 *
 * Collects: v->mft_runs, v->nr_recs, v->mirr_use/mirr_raw/head_bad (the
 * mirror copies used), one struct ntfs_rsum per record (flags, sizes,
 * sequence, base record, reparse tag), every $FILE_NAME as a struct
 * ntfs_name with its UTF-16LE units in v->pool, v->issues (torn or
 * corrupt records), and with opts.run_checks the computed cluster bitmap
 * v->cbmap with the cross-links v->xlink (clusters claimed twice).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/vec.h"
#include "formats/ntfs/ntfs_internal.h"

static int add_issue(struct bsw_ntfs *v, uint64_t rec, const char *why, unsigned stride)
{
	/* past 65536 damaged records, enough evidence: the rows cap anyway */
	if (bsw_vec_reserve(&v->issues, &v->alloc_issues, v->nr_issues + 1, sizeof(*v->issues),
			    65536))
		return v->nr_issues < 65536 ? -ENOMEM : 0;
	v->issues[v->nr_issues++] = (struct ntfs_issue){ rec, why, stride };
	return 0;
}

/*
 * Keep one name of rec: the parent reference and namespace of its
 * $FILE_NAME, and its nlen UTF-16LE units, which go to the pool as they
 * are on disk.  0, -ENOMEM, or -E2BIG when the names or the pool reach
 * their cap (v->max_names, v->max_pool: the memory budget).
 */
static int add_name(struct bsw_ntfs *v, uint64_t rec, uint64_t pref, uint8_t ns,
		    const uint8_t *units, uint8_t nlen)
{
	int ret;

	ret = bsw_vec_reserve(&v->names, &v->alloc_names, v->nr_names + 1, sizeof(*v->names),
			      v->max_names);
	if (!ret)
		ret = bsw_vec_reserve(&v->pool, &v->alloc_pool, v->pool_len + nlen,
				      sizeof(*v->pool), v->max_pool);
	if (ret)
		return ret;
	memcpy(v->pool + v->pool_len, units, 2u * nlen);
	v->names[v->nr_names++] = (struct ntfs_name){
		.rec = rec,
		.parent = NTFS_MREF_REC(pref),
		.pseq = NTFS_MREF_SEQ(pref),
		.off = (uint32_t)v->pool_len,
		.len = nlen,
		.ns = ns,
	};
	v->pool_len += nlen;
	return 0;
}

/* What the parallel part found in one record. */
struct rparse {
	uint16_t fn_off[BSW_NTFS_FN_INLINE];
	uint16_t fn_len[BSW_NTFS_FN_INLINE];
	uint16_t nr_off[BSW_NTFS_NR_INLINE]; /* non-resident attributes */
	uint8_t nr_fn, nr_nr;
	uint8_t state; /* 0 unused, 1 ok, 2 torn, 3 bad */
	bool fn_more, nr_more;
	unsigned stride;
	const char *why;
};

/*
 * Parse one raw record in place (fixups applied to buf).  Pure: writes only
 * *s and *p, so records of a chunk parse in parallel.
 */
static void parse_one(uint32_t rs, uint64_t recno, uint8_t *r, struct ntfs_rsum *s,
		      struct rparse *p)
{
	struct bsw_ntfs_rhdr h;
	struct bsw_ntfs_attr a;
	uint32_t pos, prev = 0, magic = get_le32(r);
	unsigned n = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	memset(p, 0, sizeof(*p));
	if (magic == 0)
		return; /* never used */
	/* flags sit in the first stride, safe to read before fixups */
	s->seq = get_le16(r + 0x10);
	if (!(get_le16(r + 0x16) & 1))
		return;
	s->hflags = get_le16(r + 0x16);
	ret = bsw_ntfs_fixup(r, rs, &p->stride);
	if (ret < 0) {
		p->state = 3;
		p->why = "update sequence array invalid";
		return;
	}
	p->state = ret ? 2 : 1;
	if (ret)
		s->rflags |= BSW_NTFS_R_TORN;
	if (bsw_ntfs_parse_rhdr(r, rs, rs, &h, &p->why)) {
		p->state = 3;
		s->rflags |= BSW_NTFS_R_BAD;
		return;
	}
	s->rflags |= BSW_NTFS_R_INUSE;
	if (h.flags & 2)
		s->rflags |= BSW_NTFS_R_DIR;
	s->links = h.links;
	s->base = NTFS_MREF_REC(h.base);
	if (h.has_number && h.number != (uint32_t)recno && p->state == 1) {
		p->state = 3;
		p->why = "record number field does not match its position";
	}
	pos = h.attrs_off;
	while ((ret = bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &p->why)) > 0) {
		if (++n > BSW_NTFS_MAX_ATTRS) {
			ret = -EINVAL;
			p->why = "too many attributes";
			break;
		}
		if (a.nonres) {
			if (p->nr_nr < BSW_NTFS_NR_INLINE)
				p->nr_off[p->nr_nr++] = (uint16_t)a.off;
			else
				p->nr_more = true;
		}
		switch (a.type) {
		case NTFS_AT_STD_INFO:
			if (!a.nonres && a.val_len >= 0x24) {
				uint32_t fa = get_le32(r + a.val_off + 0x20);

				if (fa & 0x4000)
					s->rflags |= BSW_NTFS_R_ENCRYPTED;
			}
			break;
		case NTFS_AT_FILE_NAME:
			if (a.nonres || a.val_len < 0x42)
				break;
			s->nr_names++;
			if ((r[a.val_off + 0x41] & 3) != 2)
				s->nr_vis++;
			if (p->nr_fn < BSW_NTFS_FN_INLINE) {
				p->fn_off[p->nr_fn] = (uint16_t)a.val_off;
				p->fn_len[p->nr_fn++] = (uint16_t)a.val_len;
			} else {
				p->fn_more = true;
			}
			break;
		case NTFS_AT_DATA:
			/* sizes of the first extent (libfsntfs: allocated >= data >= initialized) */
			if (a.nonres && !a.lowest_vcn &&
			    (a.data_size > a.alloc_size || a.init_size > a.data_size) &&
			    p->state == 1) {
				p->state = 3;
				p->why =
					"$DATA sizes inconsistent (data > allocated or initialized > data)";
			}
			if (a.name_len)
				break;
			if (a.nonres && a.lowest_vcn)
				break;
			s->rflags |= NTFS_RS_HASDATA;
			s->size = a.nonres ? a.data_size : a.val_len;
			s->alloc = a.nonres ? a.alloc_size : a.val_len;
			if (a.flags & 0xFF)
				s->rflags |= BSW_NTFS_R_COMPRESSED;
			if (a.flags & 0x8000)
				s->rflags |= BSW_NTFS_R_SPARSE;
			if (a.flags & 0x4000)
				s->rflags |= BSW_NTFS_R_ENCRYPTED;
			break;
		case NTFS_AT_REPARSE:
			s->rflags |= BSW_NTFS_R_REPARSE;
			if (!a.nonres && a.val_len >= 4)
				s->reparse_tag = get_le32(r + a.val_off);
			if (s->reparse_tag == NTFS_WOF_TAG)
				s->rflags |= BSW_NTFS_R_WOF;
			break;
		}
	}
	if (ret < 0 && p->state != 3) {
		p->state = 3;
		s->rflags |= BSW_NTFS_R_BAD;
	}
}

/*
 * The merge works from a compact form of a unit of records, never from
 * their bytes, so that a unit kept by another volume that read the same
 * bytes (ntfs.h, struct bsw_ntfs_share) merges exactly as if it had been
 * read and parsed here.  After parse_one, the form holds, in record order,
 * one entry per record that is in use or damaged (state != 0):
 *
 *	u32 index in the unit, u8 state (1 ok, 2 torn, 3 bad);
 *	state 2: u32 bad stride; state 3: the reason, a pointer to one of
 *	    the parsers' static strings (the cache lives in this process);
 *	u16 count, then each name add_name keeps: u64 parent reference,
 *	    u8 namespace, u8 length, the UTF-16LE units as on disk;
 *	u16 count, then (state 1 only, and only when the bitmap is computed
 *	    or the form is kept) each non-resident attribute: u32 type,
 *	    u64 lowest VCN, u64 highest VCN, u32 length, the mapping pairs
 *	    as on disk (the runs are decoded when marked, as before).
 *
 * Each entry takes at most its record's size plus 17 bytes (names and
 * runlists lie in distinct attributes, each larger than what is kept of
 * it).  Integers are little-endian.  A kept form starts with struct
 * kept_hdr and the unit's record summaries, as host structs (the cache
 * belongs to this process).  ntfs_kept.c turns this form into bytes for
 * another process and back (scan --cache): a change here changes it too.
 */

struct form {
	uint8_t *b;
	size_t len, alloc, max;
};

static int form_put(struct form *f, const void *p, size_t n)
{
	if (bsw_vec_reserve(&f->b, &f->alloc, f->len + n, 1, f->max))
		return -ENOMEM;
	memcpy(f->b + f->len, p, n);
	f->len += n;
	return 0;
}

static int form_u16(struct form *f, uint16_t x)
{
	uint8_t b[2];

	put_le16(b, x);
	return form_put(f, b, 2);
}

static int form_u32(struct form *f, uint32_t x)
{
	uint8_t b[4];

	put_le32(b, x);
	return form_put(f, b, 4);
}

static int form_u64(struct form *f, uint64_t x)
{
	uint8_t b[8];

	put_le64(b, x);
	return form_put(f, b, 8);
}

/* One $FILE_NAME value (fn, fn_len bytes), if add_name would keep it. */
static int form_name(struct form *f, const uint8_t *fn, uint32_t fn_len, unsigned *nr)
{
	uint8_t nlen, hdr[2];
	int ret;

	if (fn_len < 0x42)
		return 0;
	nlen = fn[0x40];
	if (0x42u + 2u * nlen > fn_len || !nlen)
		return 0;
	hdr[0] = fn[0x41] & 3;
	hdr[1] = nlen;
	if ((ret = form_u64(f, get_le64(fn))) || (ret = form_put(f, hdr, 2)) ||
	    (ret = form_put(f, fn + 0x42, 2u * nlen)))
		return ret;
	(*nr)++;
	return 0;
}

/*
 * The entry of record k of a unit (r: its bytes after parse_one, s and p
 * what parse_one found).  runs: keep the runlists of a good record.
 */
static int form_record(struct bsw_ntfs *v, struct form *f, uint32_t k, const uint8_t *r,
		       const struct ntfs_rsum *s, const struct rparse *p, bool runs)
{
	struct bsw_ntfs_rhdr h;
	struct bsw_ntfs_attr a;
	uint32_t pos, prev;
	const char *why;
	unsigned nr = 0, n, i;
	size_t at;
	int ret;

	if (!p->state)
		return 0; /* never used or not in use: nothing to merge */
	if ((ret = form_u32(f, k)) || (ret = form_put(f, &p->state, 1)))
		return ret;
	if (p->state == 2)
		ret = form_u32(f, p->stride);
	else if (p->state == 3)
		ret = form_u64(f, (uint64_t)(uintptr_t)(p->why ? p->why : "corrupt"));
	if (ret)
		return ret;
	/* the names of a record in use (extension records name their base) */
	at = f->len;
	if ((ret = form_u16(f, 0)))
		return ret;
	if ((s->rflags & BSW_NTFS_R_INUSE) && !p->fn_more) {
		for (i = 0; i < p->nr_fn && !ret; i++)
			ret = form_name(f, r + p->fn_off[i], p->fn_len[i], &nr);
	} else if ((s->rflags & BSW_NTFS_R_INUSE) &&
		   !bsw_ntfs_parse_rhdr(r, v->bs.rec_size, v->bs.rec_size, &h, &why)) {
		pos = h.attrs_off;
		prev = 0;
		n = 0;
		while (!ret && n++ < BSW_NTFS_MAX_ATTRS &&
		       bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why) > 0)
			if (a.type == NTFS_AT_FILE_NAME && !a.nonres)
				ret = form_name(f, r + a.val_off, a.val_len, &nr);
	}
	if (ret)
		return ret;
	put_le16(f->b + at, (uint16_t)nr);
	/* the runlists of every non-resident attribute (computed bitmap) */
	at = f->len;
	nr = 0;
	if ((ret = form_u16(f, 0)))
		return ret;
	if (p->state == 1 && runs && !p->nr_more) {
		/* parse_one walked them (a good record walks to its end) */
		for (i = 0; i < p->nr_nr && !ret; i++) {
			const uint8_t *q = r + p->nr_off[i];
			uint32_t ro = get_le16(q + 0x20), len = get_le32(q + 4);

			if ((ret = form_u32(f, get_le32(q))) ||
			    (ret = form_u64(f, get_le64(q + 0x10))) ||
			    (ret = form_u64(f, get_le64(q + 0x18))) ||
			    (ret = form_u32(f, len - ro)) || (ret = form_put(f, q + ro, len - ro)))
				break;
			nr++;
		}
	} else if (p->state == 1 && runs &&
		   !bsw_ntfs_parse_rhdr(r, v->bs.rec_size, v->bs.rec_size, &h, &why)) {
		pos = h.attrs_off;
		prev = 0;
		n = 0;
		while (!ret && n++ < BSW_NTFS_MAX_ATTRS &&
		       bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why) > 0) {
			if (!a.nonres)
				continue;
			if ((ret = form_u32(f, a.type)) || (ret = form_u64(f, a.lowest_vcn)) ||
			    (ret = form_u64(f, a.highest_vcn)) || (ret = form_u32(f, a.runs_len)) ||
			    (ret = form_put(f, r + a.runs_off, a.runs_len)))
				break;
			nr++;
		}
	}
	if (ret)
		return ret;
	put_le16(f->b + at, (uint16_t)nr);
	return 0;
}

/* Mark the clusters of one non-resident attribute of recno (computed bitmap). */
static void mark_runs(struct bsw_ntfs *v, uint64_t recno, uint32_t type, uint64_t lowest,
		      uint64_t highest, const uint8_t *runs, uint32_t runs_len,
		      struct bsw_ntfs_runs *rl)
{
	const char *why;
	char label[64];
	unsigned i;

	rl->nr = 0;
	if (bsw_ntfs_parse_runs(runs, runs_len, lowest, v->bs.nr_clusters, rl, &why)) {
		snprintf(label, sizeof(label), "record %llu", (unsigned long long)recno);
		BSW_REPORT(v->fx, PR_NTFS_1_RUN_BAD, .rec = recno, .n = type, .str = why,
			   .str2 = label);
		return;
	}
	/* the runs must cover exactly lowest..highest VCN */
	if (rl->nr && rl->r[rl->nr - 1].vcn + rl->r[rl->nr - 1].len != highest + 1) {
		snprintf(label, sizeof(label), "record %llu", (unsigned long long)recno);
		BSW_REPORT(v->fx, PR_NTFS_1_RUN_BAD, .rec = recno, .n = type,
			   .str = "runs do not end at the highest VCN", .str2 = label);
	}
	for (i = 0; i < rl->nr && v->cbmap; i++) {
		uint64_t c, end, xl = 0;

		if (rl->r[i].lcn == NTFS_LCN_HOLE)
			continue;
		/*
		 * Budget: legitimate records never claim more than the
		 * volume, so more than twice its clusters means forged
		 * runs; stop the bitmap rather than loop for hours.
		 */
		v->cbmap_marked += rl->r[i].len;
		if (v->cbmap_marked > 2 * v->cbmap_clusters + (1u << 20)) {
			free(v->cbmap);
			v->cbmap = NULL;
			break;
		}
		end = rl->r[i].lcn + rl->r[i].len;
		if (end > v->cbmap_clusters)
			end = v->cbmap_clusters;
		for (c = rl->r[i].lcn; c < end; c++) {
			uint8_t bit = 1u << (c & 7);

			if (v->cbmap[c >> 3] & bit)
				xl++;
			v->cbmap[c >> 3] |= bit;
		}
		if (xl && v->nr_xlink < BSW_ARRAY_SIZE(v->xlink)) {
			v->xlink[v->nr_xlink].rec = recno;
			v->xlink[v->nr_xlink].lcn = rl->r[i].lcn;
			v->xlink[v->nr_xlink++].len = rl->r[i].len;
		}
	}
}

/*
 * Serial part for one record, from its entry: its issue, its names (to
 * its base record when it is an extension), the clusters it claims.
 */
static int merge_one(struct bsw_ntfs *v, uint64_t recno, struct ntfs_rd *d,
		     struct bsw_ntfs_runs *rl)
{
	const struct ntfs_rsum *s = &v->recs[recno];
	uint64_t owner = s->base ? s->base : recno;
	unsigned state = (unsigned)ntfs_rd_le(d, 1), nr, i;
	bool mark;
	int ret = 0;

	if (state == 2)
		ret = add_issue(v, recno, NULL, (unsigned)ntfs_rd_le(d, 4));
	else if (state == 3)
		ret = add_issue(v, recno, (const char *)(uintptr_t)ntfs_rd_le(d, 8), 0);
	else if (state != 1)
		d->bad = true;
	if (d->bad)
		return -EIO;
	if (ret)
		return ret;
	nr = (unsigned)ntfs_rd_le(d, 2);
	for (i = 0; i < nr && !d->bad; i++) {
		uint64_t pref = ntfs_rd_le(d, 8);
		uint8_t ns = (uint8_t)ntfs_rd_le(d, 1), nlen = (uint8_t)ntfs_rd_le(d, 1);
		const uint8_t *units = ntfs_rd_bytes(d, 2u * nlen);

		if (units && (s->rflags & BSW_NTFS_R_INUSE) &&
		    (ret = add_name(v, owner, pref, ns, units, nlen)))
			return ret;
	}
	/* the bitmap may have been dropped by an earlier record's runs */
	mark = state == 1 && v->cbmap;
	nr = (unsigned)ntfs_rd_le(d, 2);
	for (i = 0; i < nr && !d->bad; i++) {
		uint32_t type = (uint32_t)ntfs_rd_le(d, 4);
		uint64_t lo = ntfs_rd_le(d, 8), hi = ntfs_rd_le(d, 8);
		uint32_t len = (uint32_t)ntfs_rd_le(d, 4);
		const uint8_t *runs = ntfs_rd_bytes(d, len);

		if (runs && mark)
			mark_runs(v, recno, type, lo, hi, runs, len, rl);
	}
	return d->bad ? -EIO : 0;
}

/*
 * Merge the entries (len bytes at p) of the unit of records [s, s+c), in
 * record order.  0, -errno, or -E2BIG with *at the record whose names
 * passed the cap (what it added is taken back).
 */
static int merge_unit(struct bsw_ntfs *v, uint64_t s, uint64_t c, const uint8_t *p, size_t len,
		      struct bsw_ntfs_runs *rl, uint64_t *at)
{
	struct ntfs_rd d = { p, p + len, false };
	int ret;

	while (d.p < d.end) {
		size_t names0 = v->nr_names, pool0 = v->pool_len;
		size_t issues0 = v->nr_issues;
		uint64_t k = ntfs_rd_le(&d, 4);

		if (d.bad || k >= c)
			return -EIO; /* not a form this file wrote */
		ret = merge_one(v, s + k, &d, rl);
		if (ret == -E2BIG) {
			v->nr_names = names0;
			v->pool_len = pool0;
			v->nr_issues = issues0;
			*at = s + k;
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* Why a raw copy of record i is unusable (fixups on a scratch copy), or NULL. */
static const char *rec_judge(const uint8_t *raw, uint32_t rs, unsigned i)
{
	uint8_t tmp[65536];
	struct bsw_ntfs_rhdr h;
	const char *why = NULL;
	unsigned bad;
	int ret;

	memcpy(tmp, raw, rs);
	ret = bsw_ntfs_fixup(tmp, rs, &bad);
	if (ret < 0)
		return "update sequence array invalid";
	if (ret > 0)
		return "torn (update sequence mismatch)";
	if (bsw_ntfs_parse_rhdr(tmp, rs, rs, &h, &why))
		return why;
	if (!(h.flags & 1))
		return "not in use";
	if (h.has_number && h.number != i)
		return "record number mismatch";
	return NULL;
}

/* Read $MFT record 0 (or the mirror's) and gather the $MFT runlist. */
static int load_mft_runs(struct bsw_ntfs *v, uint8_t *r)
{
	uint32_t rs = v->bs.rec_size;
	uint64_t cs = v->bs.cluster;
	struct bsw_ntfs_rhdr h;
	struct bsw_ntfs_attr a;
	uint32_t pos, prev = 0;
	const char *why = NULL, *mwhy = NULL;
	unsigned bad = 0, n = 0, i;
	uint64_t alist = UINT64_MAX, init = 0;
	int ret;

	/* the first records at mft_lcn; records 0-3 also at mirr_lcn (1.3) */
	v->mirr_raw = bsw_alloc_aligned(4 * (size_t)rs);
	if (!v->mirr_raw)
		return -ENOMEM;
	if (bsw_ntfs_vol_read(v, v->mirr_raw, 4 * (size_t)rs, v->bs.mirr_lcn * cs))
		memset(v->mirr_raw, 0, 4 * (size_t)rs);
	/*
	 * Judge records 0-3 of both copies; a damaged $MFT copy with a good
	 * mirror copy is replaced by the mirror for the rest of the run.
	 */
	if (bsw_ntfs_vol_read(v, r, 4 * (size_t)rs, v->bs.mft_lcn * cs))
		memset(r, 0, 4 * (size_t)rs);
	for (i = 0; i < 4; i++) {
		const char *mw = rec_judge(r + i * rs, rs, i);
		const char *bw = rec_judge(v->mirr_raw + i * rs, rs, i);

		if (mw && !bw) {
			v->mirr_use |= 1u << i;
			if (!v->used_mirror) {
				v->head_bad = i;
				v->head_why = mw;
			}
			v->used_mirror = true;
		}
		if (i == 0)
			why = mw;
		if (i == 0)
			mwhy = bw;
	}
	if (why && mwhy) {
		BSW_REPORT(v->fx, PR_NTFS_1_MFT_UNREADABLE, .str = why);
		return -EIO;
	}
	if (v->mirr_use & 1)
		memcpy(r, v->mirr_raw, rs);
	bsw_ntfs_fixup(r, rs, &bad);
	if (bsw_ntfs_parse_rhdr(r, rs, rs, &h, &why)) {
		BSW_REPORT(v->fx, PR_NTFS_1_MFT_UNREADABLE, .str = why);
		return -EIO;
	}
	pos = h.attrs_off;
	while (n++ < BSW_NTFS_MAX_ATTRS &&
	       (ret = bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why)) > 0) {
		if (a.type == NTFS_AT_ATTR_LIST)
			alist = a.off;
		if (a.type != NTFS_AT_DATA || a.name_len || !a.nonres)
			continue;
		if (!a.lowest_vcn) {
			v->mft_size = a.data_size;
			init = a.init_size;
		}
		if ((ret = bsw_ntfs_parse_runs(r + a.runs_off, a.runs_len, a.lowest_vcn,
					       v->bs.nr_clusters, &v->mft_runs, &why))) {
			BSW_REPORT(v->fx, PR_NTFS_1_MFT_UNREADABLE, .str = why);
			return -EIO;
		}
	}
	if (!v->mft_runs.nr || !v->mft_size) {
		BSW_REPORT(v->fx, PR_NTFS_1_MFT_UNREADABLE,
			   .str = "record 0 has no unnamed non-resident $DATA");
		return -EIO;
	}
	bsw_ntfs_runs_sort(&v->mft_runs);
	/* provisional record count so that extension records can be read */
	v->nr_recs = v->mft_size / rs;
	if (alist != UINT64_MAX) {
		/*
		 * Fragmented $MFT: the rest of its runlist sits in extension
		 * records named by the attribute list (1.6).  Load the full
		 * stream the generic way, which follows the list.
		 */
		struct ntfs_stream fs;

		ret = bsw_ntfs_load_stream(v, 0, NTFS_AT_DATA, NULL, &fs);
		if (!ret && fs.runs.nr > v->mft_runs.nr) {
			bsw_ntfs_runs_free(&v->mft_runs);
			v->mft_runs = fs.runs;
			fs.runs = (struct bsw_ntfs_runs){ 0 };
			v->mft_size = fs.size;
			init = fs.init;
		}
		if (!ret)
			bsw_ntfs_stream_free(&fs);
	}
	if (init && init < v->mft_size)
		v->mft_size = init; /* records past init read as zeros */
	return 0;
}

/*
 * A unit of records [s, s+c) of one chunk: looked up in the caller's
 * share before the chunk is read (kept: its kept form, under ref), else
 * read and parsed here, and its form kept under owner when it is
 * shareable.
 */
struct unit {
	uint64_t s, c;
	void *ref;
	const uint8_t *kept;
	size_t klen;
	uint64_t owner;
	uint8_t key[16];
};

static void unit_lookup(struct bsw_ntfs *v, struct unit *un)
{
	const struct bsw_ntfs_share *sh = v->o.share;
	struct kept_hdr h = { 0 };
	const void *val = NULL;
	uint64_t owner;
	size_t len = 0;

	un->ref = NULL;
	un->kept = NULL;
	un->klen = 0;
	un->owner = 0;
	if (!sh || bsw_ntfs_recs_key(v, un->s, un->c, un->key, &owner) != 1)
		return;
	un->ref = sh->get(sh->ctx, owner, un->key, &val, &len);
	if (un->ref && len >= sizeof(h))
		memcpy(&h, val, sizeof(h));
	/* the key says what the form holds; the header double-checks it */
	if (un->ref && len >= sizeof(h) + un->c * sizeof(*v->recs) && h.magic == KEPT_MAGIC &&
	    h.rec_size == v->bs.rec_size && h.start == un->s && h.cnt == un->c) {
		un->kept = val;
		un->klen = len;
		return;
	}
	if (un->ref)
		sh->put(sh->ctx, un->ref);
	un->ref = NULL;
	un->owner = owner;
}

static void units_put(struct bsw_ntfs *v, struct unit *un, size_t nu)
{
	const struct bsw_ntfs_share *sh = v->o.share;
	size_t j;

	for (j = 0; j < nu; j++) {
		if (un[j].ref)
			sh->put(sh->ctx, un[j].ref);
		un[j].ref = NULL;
		un[j].kept = NULL;
	}
}

/* Read the units of the chunk at start that were not kept: one read per run of them. */
static int read_units(struct bsw_ntfs *v, uint8_t *buf, uint64_t start, const struct unit *un,
		      size_t nu)
{
	uint32_t rs = v->bs.rec_size;
	size_t j = 0, first;
	int ret;

	while (j < nu) {
		if (un[j].kept) {
			j++;
			continue;
		}
		first = j;
		while (j < nu && !un[j].kept)
			j++;
		ret = bsw_ntfs_runs_read(v, &v->mft_runs, buf + (un[first].s - start) * rs,
					 (un[j - 1].s + un[j - 1].c - un[first].s) * rs,
					 un[first].s * rs);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Merge one unit: from its kept form, or (read and parsed: raw, pr) from
 * the form made here, which is then handed to the share when the unit is
 * shareable and its form not larger than its records.  merge_unit's returns.
 */
static int unit_merge(struct bsw_ntfs *v, struct unit *un, const uint8_t *raw,
		      const struct rparse *pr, struct form *f, struct bsw_ntfs_runs *rl,
		      uint64_t *at)
{
	const struct bsw_ntfs_share *sh = v->o.share;
	uint32_t rs = v->bs.rec_size;
	size_t sums = un->c * sizeof(*v->recs), body;
	struct kept_hdr h;
	uint64_t k;
	int ret = 0;

	if (un->kept) {
		memcpy(&v->recs[un->s], un->kept + sizeof(h), sums);
		return merge_unit(v, un->s, un->c, un->kept + sizeof(h) + sums,
				  un->klen - sizeof(h) - sums, rl, at);
	}
	f->len = 0;
	f->max = sizeof(h) + sums + un->c * ((size_t)rs + 17);
	if (un->owner) {
		h = (struct kept_hdr){
			.magic = KEPT_MAGIC, .rec_size = rs, .start = un->s, .cnt = un->c
		};
		if ((ret = form_put(f, &h, sizeof(h))) ||
		    (ret = form_put(f, &v->recs[un->s], sums)))
			return ret;
	}
	body = f->len;
	for (k = 0; k < un->c && !ret; k++)
		ret = form_record(v, f, (uint32_t)k, raw + k * rs, &v->recs[un->s + k], &pr[k],
				  un->owner || v->cbmap);
	if (ret)
		return ret;
	ret = merge_unit(v, un->s, un->c, f->b + body, f->len - body, rl, at);
	if (un->owner && f->len <= sizeof(h) + sums + un->c * rs) {
		uint8_t *val = realloc(f->b, f->len);

		if (val) {
			sh->keep(sh->ctx, un->owner, un->key, val, f->len);
			f->b = NULL;
			f->alloc = 0;
		}
	}
	return ret;
}

int bsw_ntfs_pass_records(struct bsw_ntfs *v)
{
	uint32_t rs = v->bs.rec_size;
	uint64_t cs = v->bs.cluster, mapped = 0, nr, cap, start;
	const struct bsw_ntfs_share *sh = v->o.share;
	struct bsw_ntfs_runs rl = { 0 };
	struct form f = { 0 };
	struct unit *units = NULL;
	uint8_t *buf = NULL;
	struct rparse *pr = NULL;
	uint64_t u;
	size_t per;
	unsigned i;
	int ret;

	buf = bsw_alloc_aligned(BSW_NTFS_CHUNK);
	if (!buf)
		return -ENOMEM;
	ret = load_mft_runs(v, buf);
	if (ret)
		goto out;
	/* how many records the runs really map, contiguous from VCN 0 */
	for (i = 0; i < v->mft_runs.nr; i++) {
		const struct bsw_ntfs_run *r = &v->mft_runs.r[i];

		if (r->vcn != mapped || r->lcn == NTFS_LCN_HOLE)
			break;
		mapped += r->len;
	}
	nr = v->mft_size / rs;
	if (mapped * cs / rs < nr) {
		BSW_REPORT(v->fx, PR_NTFS_1_MFT_RUNS, .n = (int64_t)(mapped * cs / rs),
			   .str = "runs do not cover the $MFT data size");
		nr = mapped * cs / rs;
	}
	/*
	 * Never trust the size field beyond what the volume - and the source
	 * really holding it - can hold: a forged boot sector must not make us
	 * allocate summaries for records that cannot exist.
	 */
	if (nr > v->bs.nr_clusters * cs / rs)
		nr = v->bs.nr_clusters * cs / rs;
	if (nr > v->src->size / rs)
		nr = v->src->size / rs;
	cap = v->o.max_records ? v->o.max_records : BSW_NTFS_MAX_RECORDS;
	{
		/*
		 * The memory budget: per record its summary, about one name
		 * and its share of the name pool and sort index; the cluster
		 * bitmap of the checks comes off the top.
		 */
		uint64_t mem = v->o.mem_cap ? v->o.mem_cap : BSW_NTFS_MEM_CAP;
		uint64_t bmap = v->o.run_checks && v->bs.nr_clusters <= BSW_NTFS_MAX_BMAP_CLUSTERS ?
					(v->bs.nr_clusters + 7) / 8 :
					0;
		uint64_t per_rec =
			sizeof(*v->recs) + sizeof(struct ntfs_name) + sizeof(uint32_t) + 64;
		uint64_t by_mem = mem > bmap ? (mem - bmap) / per_rec : 0;

		if (by_mem < cap)
			cap = BSW_MAX(by_mem, 16);
		/*
		 * Names past about one per record are not charged above, but
		 * the names, and the pool with its folded copy, may each take
		 * at most the whole budget: a forged $MFT full of $FILE_NAMEs
		 * stops the scan there, as the record cap does.
		 */
		v->max_names = (size_t)BSW_MIN(mem / (sizeof(struct ntfs_name) + sizeof(uint32_t)),
					       (uint64_t)UINT32_MAX);
		v->max_pool = (size_t)BSW_MIN(mem / (2 * sizeof(uint16_t)), (uint64_t)UINT32_MAX);
	}
	if (nr > cap) {
		BSW_REPORT(v->fx, PR_NTFS_1_MFT_CAP, .n = (int64_t)nr, .n2 = (int64_t)cap);
		nr = cap;
	}
	if (nr < 16) {
		BSW_REPORT(v->fx, PR_NTFS_1_MFT_UNREADABLE,
			   .str = "$MFT holds fewer than 16 records");
		ret = -EIO;
		goto out;
	}
	v->nr_recs = nr;
	v->recs = calloc(nr, sizeof(*v->recs));
	per = BSW_NTFS_CHUNK / rs;
	u = per;
	if (sh) {
		/* units shared on their own: a child's few changed
		 * records cost it their unit, not their chunk */
		u = BSW_MAX((sh->unit_bytes ? sh->unit_bytes : BSW_NTFS_SHARE_UNIT) / rs, 1u);
		u = BSW_MIN(u, per);
	}
	pr = calloc(per, sizeof(*pr));
	units = calloc((per + u - 1) / u, sizeof(*units));
	if (!v->recs || !pr || !units) {
		ret = -ENOMEM;
		goto out;
	}
	if (v->o.run_checks && v->bs.nr_clusters <= BSW_NTFS_MAX_BMAP_CLUSTERS) {
		v->cbmap_clusters = v->bs.nr_clusters;
		v->cbmap = calloc((v->cbmap_clusters + 7) / 8, 1);
	}
	for (start = 0; start < nr; start += per) {
		uint64_t cnt = BSW_MIN((uint64_t)per, nr - start), miss = 0, at;
		size_t nu = (size_t)((cnt + u - 1) / u), j;
		long k;

		for (j = 0; j < nu; j++) {
			units[j].s = start + j * u;
			units[j].c = BSW_MIN(u, start + cnt - units[j].s);
			unit_lookup(v, &units[j]);
			if (!units[j].kept)
				miss += units[j].c;
		}
		ret = read_units(v, buf, start, units, nu);
		if (ret && start >= 16) {
			/* a truncated image: keep what was read */
			units_put(v, units, nu);
			BSW_REPORT(v->fx, PR_NTFS_1_MFT_RUNS, .n = (int64_t)start,
				   .str = "read error (image truncated?)");
			v->nr_recs = start;
			break;
		}
		if (ret) {
			units_put(v, units, nu);
			BSW_REPORT(v->fx, PR_NTFS_1_MFT_UNREADABLE,
				   .str = "read error in the $MFT");
			goto out;
		}
		/* a unit holding a mirror copy is never kept (recs_key) */
		for (k = 0; start == 0 && k < 4; k++)
			if (v->mirr_use & (1u << k))
				memcpy(buf + k * rs, v->mirr_raw + k * rs, rs);
#pragma omp parallel for schedule(static) if (miss >= 8192)
		for (k = 0; k < (long)cnt; k++)
			if (!units[k / u].kept)
				parse_one(rs, start + k, buf + (size_t)k * rs, &v->recs[start + k],
					  &pr[k]);
		for (j = 0; j < nu; j++) {
			uint64_t off = units[j].s - start;

			ret = unit_merge(v, &units[j], buf + off * rs, pr + off, &f, &rl, &at);
			if (ret)
				break;
		}
		units_put(v, units, nu);
		if (ret != -E2BIG) {
			if (ret)
				goto out;
			continue;
		}
		/* the names reached their cap: keep the records before this one */
		if (at < 16) {
			BSW_REPORT(
				v->fx, PR_NTFS_1_MFT_UNREADABLE,
				.str = "the memory cap leaves no room for the names of records 0-15");
			ret = -EIO;
			goto out;
		}
		BSW_REPORT(v->fx, PR_NTFS_1_MFT_CAP, .n = (int64_t)nr, .n2 = (int64_t)at);
		v->nr_recs = at;
		ret = 0;
		goto out;
	}
	ret = 0;
out:
	free(buf);
	free(pr);
	free(units);
	free(f.b);
	bsw_ntfs_runs_free(&rl);
	return ret;
}
