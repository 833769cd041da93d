/*
 * NTFS pass 1: the sequential $MFT scan (WINDOWS-EVIDENCE.md 1.2, 1.3, 1.6).
 *
 * Records 0-3 of $MFT and of $MFTMirr are judged first (fixups, header,
 * in use, record number); a damaged $MFT copy with a good mirror copy is
 * replaced by the mirror for the whole run (the mirror pass reports it).
 * The $MFT runlist comes from record 0, following its $ATTRIBUTE_LIST into
 * extension records when the $MFT is fragmented.  Then the whole $MFT is
 * read in BSW_NTFS_CHUNK pieces (one pread per contiguous piece), each
 * chunk's records are parsed in parallel (parse_one: pure) and merged
 * serially (merge_one).
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

static int add_issue(struct bsw_ntfs *v, uint64_t rec, const char *why,
		     unsigned stride)
{
	/* past 65536 damaged records, enough evidence: the rows cap anyway */
	if (bsw_vec_reserve(&v->issues, &v->alloc_issues, v->nr_issues + 1,
			    sizeof(*v->issues), 65536))
		return v->nr_issues < 65536 ? -ENOMEM : 0;
	v->issues[v->nr_issues++] = (struct ntfs_issue){ rec, why, stride };
	return 0;
}

/*
 * Keep one $FILE_NAME value (fn, fn_len bytes) as a name of rec.  Its
 * UTF-16LE units go to the pool as they are on disk.  0, -ENOMEM, or
 * -E2BIG when the names or the pool reach their cap (v->max_names,
 * v->max_pool: the memory budget).
 */
static int add_name(struct bsw_ntfs *v, uint64_t rec, const uint8_t *fn,
		    uint32_t fn_len)
{
	uint8_t nlen;
	int ret;

	if (fn_len < 0x42)
		return 0;
	nlen = fn[0x40];
	if (0x42u + 2u * nlen > fn_len || !nlen)
		return 0;
	ret = bsw_vec_reserve(&v->names, &v->alloc_names, v->nr_names + 1,
			      sizeof(*v->names), v->max_names);
	if (!ret)
		ret = bsw_vec_reserve(&v->pool, &v->alloc_pool, v->pool_len + nlen,
				      sizeof(*v->pool), v->max_pool);
	if (ret)
		return ret;
	memcpy(v->pool + v->pool_len, fn + 0x42, 2u * nlen);
	v->names[v->nr_names++] = (struct ntfs_name){
		.rec = rec,
		.parent = NTFS_MREF_REC(get_le64(fn)),
		.pseq = NTFS_MREF_SEQ(get_le64(fn)),
		.off = (uint32_t)v->pool_len,
		.len = nlen,
		.ns = fn[0x41] & 3,
	};
	v->pool_len += nlen;
	return 0;
}

/* What the parallel part found in one record. */
struct rparse {
	uint16_t fn_off[BSW_NTFS_FN_INLINE];
	uint16_t fn_len[BSW_NTFS_FN_INLINE];
	uint8_t nr_fn;
	uint8_t state;		/* 0 unused, 1 ok, 2 torn, 3 bad */
	bool fn_more;
	unsigned stride;
	const char *why;
};

/*
 * Parse one raw record in place (fixups applied to buf).  Pure: writes only
 * *s and *p, so records of a chunk parse in parallel.
 */
static void parse_one(uint32_t rs, uint64_t recno, uint8_t *r,
		      struct ntfs_rsum *s, struct rparse *p)
{
	struct bsw_ntfs_rhdr h;
	struct bsw_ntfs_attr a;
	uint32_t pos, prev = 0, magic = get_le32(r);
	unsigned n = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	memset(p, 0, sizeof(*p));
	if (magic == 0)
		return;		/* never used */
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
	while ((ret = bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a,
					 &p->why)) > 0) {
		if (++n > BSW_NTFS_MAX_ATTRS) {
			ret = -EINVAL;
			p->why = "too many attributes";
			break;
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
				p->why = "$DATA sizes inconsistent (data > allocated or initialized > data)";
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

/* Mark the clusters of every non-resident attribute of r (computed bitmap). */
static void mark_clusters(struct bsw_ntfs *v, uint64_t recno, const uint8_t *r)
{
	struct bsw_ntfs_rhdr h;
	struct bsw_ntfs_attr a;
	struct bsw_ntfs_runs rl = { 0 };
	uint32_t pos, prev = 0;
	const char *why;
	unsigned n = 0, i;
	char label[64];

	if (bsw_ntfs_parse_rhdr(r, v->bs.rec_size, v->bs.rec_size, &h, &why))
		return;
	pos = h.attrs_off;
	while (n++ < BSW_NTFS_MAX_ATTRS &&
	       bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why) > 0) {
		if (!a.nonres)
			continue;
		rl.nr = 0;
		if (bsw_ntfs_parse_runs(r + a.runs_off, a.runs_len, a.lowest_vcn,
					v->bs.nr_clusters, &rl, &why)) {
			snprintf(label, sizeof(label), "record %llu",
				 (unsigned long long)recno);
			BSW_REPORT(v->fx, PR_NTFS_1_RUN_BAD, .rec = recno,
				   .n = a.type, .str = why, .str2 = label);
			continue;
		}
		/* the runs must cover exactly lowest..highest VCN */
		if (rl.nr && rl.r[rl.nr - 1].vcn + rl.r[rl.nr - 1].len !=
			     a.highest_vcn + 1) {
			snprintf(label, sizeof(label), "record %llu",
				 (unsigned long long)recno);
			BSW_REPORT(v->fx, PR_NTFS_1_RUN_BAD, .rec = recno,
				   .n = a.type, .str = "runs do not end at the highest VCN",
				   .str2 = label);
		}
		for (i = 0; i < rl.nr && v->cbmap; i++) {
			uint64_t c, end, xl = 0;

			if (rl.r[i].lcn == NTFS_LCN_HOLE)
				continue;
			/*
			 * Budget: legitimate records never claim more than the
			 * volume, so more than twice its clusters means forged
			 * runs; stop the bitmap rather than loop for hours.
			 */
			v->cbmap_marked += rl.r[i].len;
			if (v->cbmap_marked > 2 * v->cbmap_clusters + (1u << 20)) {
				free(v->cbmap);
				v->cbmap = NULL;
				break;
			}
			end = rl.r[i].lcn + rl.r[i].len;
			if (end > v->cbmap_clusters)
				end = v->cbmap_clusters;
			for (c = rl.r[i].lcn; c < end; c++) {
				uint8_t bit = 1u << (c & 7);

				if (v->cbmap[c >> 3] & bit)
					xl++;
				v->cbmap[c >> 3] |= bit;
			}
			if (xl && v->nr_xlink < BSW_ARRAY_SIZE(v->xlink)) {
				v->xlink[v->nr_xlink].rec = recno;
				v->xlink[v->nr_xlink].lcn = rl.r[i].lcn;
				v->xlink[v->nr_xlink++].len = rl.r[i].len;
			}
		}
	}
	bsw_ntfs_runs_free(&rl);
}

/* Serial part for one record: names, extension bookkeeping, issues. */
static int merge_one(struct bsw_ntfs *v, uint64_t recno, uint8_t *r,
		     struct rparse *p)
{
	struct ntfs_rsum *s = &v->recs[recno];
	uint64_t owner = s->base ? s->base : recno;
	unsigned i;
	int ret;

	if (p->state == 2)
		ret = add_issue(v, recno, NULL, p->stride);
	else if (p->state == 3)
		ret = add_issue(v, recno, p->why ? p->why : "corrupt", 0);
	else
		ret = 0;
	if (ret || !(s->rflags & BSW_NTFS_R_INUSE))
		return ret;
	if (!p->fn_more) {
		for (i = 0; i < p->nr_fn; i++)
			if ((ret = add_name(v, owner, r + p->fn_off[i], p->fn_len[i])))
				return ret;
	} else {
		struct bsw_ntfs_rhdr h;
		struct bsw_ntfs_attr a;
		uint32_t pos, prev = 0;
		unsigned n = 0;
		const char *why;

		if (!bsw_ntfs_parse_rhdr(r, v->bs.rec_size, v->bs.rec_size, &h, &why)) {
			pos = h.attrs_off;
			while (n++ < BSW_NTFS_MAX_ATTRS &&
			       bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why) > 0)
				if (a.type == NTFS_AT_FILE_NAME && !a.nonres &&
				    (ret = add_name(v, owner, r + a.val_off, a.val_len)))
					return ret;
		}
	}
	if (p->state == 1 && v->cbmap)
		mark_clusters(v, recno, r);
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
		if ((ret = bsw_ntfs_parse_runs(r + a.runs_off, a.runs_len,
					       a.lowest_vcn, v->bs.nr_clusters,
					       &v->mft_runs, &why))) {
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
		v->mft_size = init;	/* records past init read as zeros */
	return 0;
}

int bsw_ntfs_pass_records(struct bsw_ntfs *v)
{
	uint32_t rs = v->bs.rec_size;
	uint64_t cs = v->bs.cluster, mapped = 0, nr, cap, start;
	uint8_t *buf = NULL;
	struct rparse *pr = NULL;
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
				(v->bs.nr_clusters + 7) / 8 : 0;
		uint64_t per_rec = sizeof(*v->recs) + sizeof(struct ntfs_name) +
				   sizeof(uint32_t) + 64;
		uint64_t by_mem = mem > bmap ? (mem - bmap) / per_rec : 0;

		if (by_mem < cap)
			cap = BSW_MAX(by_mem, 16);
		/*
		 * Names past about one per record are not charged above, but
		 * the names, and the pool with its folded copy, may each take
		 * at most the whole budget: a forged $MFT full of $FILE_NAMEs
		 * stops the scan there, as the record cap does.
		 */
		v->max_names = (size_t)BSW_MIN(mem / (sizeof(struct ntfs_name) +
					       sizeof(uint32_t)), (uint64_t)UINT32_MAX);
		v->max_pool = (size_t)BSW_MIN(mem / (2 * sizeof(uint16_t)),
					      (uint64_t)UINT32_MAX);
	}
	if (nr > cap) {
		BSW_REPORT(v->fx, PR_NTFS_1_MFT_CAP, .n = (int64_t)nr,
			   .n2 = (int64_t)cap);
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
	pr = calloc(per, sizeof(*pr));
	if (!v->recs || !pr) {
		ret = -ENOMEM;
		goto out;
	}
	if (v->o.run_checks && v->bs.nr_clusters <= BSW_NTFS_MAX_BMAP_CLUSTERS) {
		v->cbmap_clusters = v->bs.nr_clusters;
		v->cbmap = calloc((v->cbmap_clusters + 7) / 8, 1);
	}
	for (start = 0; start < nr; start += per) {
		uint64_t cnt = BSW_MIN((uint64_t)per, nr - start);
		long k;

		ret = bsw_ntfs_runs_read(v, &v->mft_runs, buf, cnt * rs, start * rs);
		if (ret && start >= 16) {
			/* a truncated image: keep what was read */
			BSW_REPORT(v->fx, PR_NTFS_1_MFT_RUNS, .n = (int64_t)start,
				   .str = "read error (image truncated?)");
			v->nr_recs = start;
			break;
		}
		if (ret) {
			BSW_REPORT(v->fx, PR_NTFS_1_MFT_UNREADABLE,
				   .str = "read error in the $MFT");
			goto out;
		}
		for (k = 0; start == 0 && k < 4; k++)
			if (v->mirr_use & (1u << k))
				memcpy(buf + k * rs, v->mirr_raw + k * rs, rs);
#pragma omp parallel for schedule(static) if (cnt >= 8192)
		for (k = 0; k < (long)cnt; k++)
			parse_one(rs, start + k, buf + (size_t)k * rs,
				  &v->recs[start + k], &pr[k]);
		for (k = 0; k < (long)cnt; k++) {
			size_t names0 = v->nr_names, pool0 = v->pool_len;
			size_t issues0 = v->nr_issues;

			ret = merge_one(v, start + k, buf + (size_t)k * rs, &pr[k]);
			if (ret != -E2BIG) {
				if (ret)
					goto out;
				continue;
			}
			/* the names reached their cap: keep the records before this one */
			v->nr_names = names0;
			v->pool_len = pool0;
			v->nr_issues = issues0;
			if (start + k < 16) {
				BSW_REPORT(v->fx, PR_NTFS_1_MFT_UNREADABLE,
					   .str = "the memory cap leaves no room for the names of records 0-15");
				ret = -EIO;
				goto out;
			}
			BSW_REPORT(v->fx, PR_NTFS_1_MFT_CAP, .n = (int64_t)nr,
				   .n2 = (int64_t)(start + k));
			v->nr_recs = start + k;
			ret = 0;
			goto out;
		}
	}
	ret = 0;
out:
	free(buf);
	free(pr);
	return ret;
}
