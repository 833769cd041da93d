/*
 * bootsweep's NTFS reader: pass 0 (boot sector and its backup), pass 1
 * (the $MFT streamed in large chunks, records parsed in parallel into
 * compact summaries, names collected), the namespace built from $FILE_NAME
 * parent references, and the read API.  Pass 2 (volume checks) lives in
 * ntfs_check.c.  Pass 1 tests: fixups (NTFS-FIXUP), record header and
 * attribute walk (NTFS-REC), runlists against the volume, $ATTRIBUTE_LIST
 * name offsets in records 0-31 (NTFS-ATTRLIST).  It collects: per-record
 * summaries, names, the computed cluster bitmap and cross-links.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/common/bytes.h"
#include "formats/common/src.h"
#include "formats/ntfs/ntfs_internal.h"
#include "formats/ntfs/ntfs_wof.h"

#define ROOT_REC 5

static void wof_free(struct bsw_ntfs *v);

int bsw_ntfs_vol_read(struct bsw_ntfs *v, void *buf, size_t len, uint64_t off)
{
	int ret = bsw_src_read_full(v->src, buf, len, off);

	if (!ret)
		v->bytes_read += len;
	return ret;
}

/* ---------------- pass 0: boot sector ---------------- */

static int pass0(struct bsw_ntfs *v)
{
	uint8_t *pri = NULL, *bak = NULL;
	struct bsw_ntfs_boot bp, bb;
	const char *why_p = NULL, *why_b = NULL;
	uint64_t boff = 0;
	int rp, rb = -EINVAL, ret = 0;

	pri = malloc(4096);
	bak = malloc(4096);
	if (!pri || !bak) {
		ret = -ENOMEM;
		goto out;
	}
	if (v->src->size < 512 || bsw_ntfs_vol_read(v, pri, 512, 0)) {
		BSW_REPORT(v->fx, PR_NTFS_0_BPB_BOTH, .str = "volume too small",
			   .str2 = "not read");
		ret = -EIO;
		goto out;
	}
	rp = bsw_ntfs_parse_boot(pri, 512, &bp, &why_p);
	/*
	 * The backup lives in the last sector of the partition, just past the
	 * volume's sector count (1.1).  Without a valid primary the sector
	 * size is unknown: try the last 512 bytes of the source.
	 */
	if (!rp && bp.nr_sectors < UINT64_MAX / bp.bps &&
	    bp.nr_sectors * bp.bps + bp.bps <= v->src->size)
		boff = bp.nr_sectors * bp.bps;
	else if (!rp && v->src->size >= 512 &&
		 bp.nr_sectors <= (v->src->size - 512) / bp.bps)
		/* (divided, not multiplied: nr_sectors * bps can wrap) */
		boff = bp.nr_sectors * bp.bps;
	else
		boff = (v->src->size - 512) & ~511ull;
	if (boff && !bsw_ntfs_vol_read(v, bak, 512, boff))
		rb = bsw_ntfs_parse_boot(bak, 512, &bb, &why_b);
	else
		why_b = "beyond the end of the partition";
	if (rb && rp) {
		/*
		 * Without a usable primary the sector size is unknown: the
		 * backup is the last sector of the partition, 512 bytes or
		 * 4 KiB (4Kn disks) from its end.
		 */
		static const uint64_t back[] = { 512, 4096 };
		unsigned k;

		for (k = 0; k < BSW_ARRAY_SIZE(back) && rb; k++) {
			uint64_t alt;

			if (v->src->size < back[k])
				break;
			alt = (v->src->size - back[k]) & ~511ull;
			if (!bsw_ntfs_vol_read(v, bak, 512, alt) &&
			    !bsw_ntfs_parse_boot(bak, 512, &bb, NULL)) {
				rb = 0;
				boff = alt;
			}
		}
	}
	if (!rp) {
		v->bs = bp;
		if (rb)
			BSW_REPORT(v->fx, PR_NTFS_0_BPB2_BAD, .off = boff,
				   .str = why_b);
		else if (memcmp(pri, bak, 512))
			BSW_REPORT(v->fx, PR_NTFS_0_BPB2_DIFF, .off = boff);
	} else if (!rb) {
		v->bs = bb;
		v->backup_boot = true;
		BSW_REPORT(v->fx, PR_NTFS_0_BPB_BAD, .off = boff, .str = why_p);
	} else {
		BSW_REPORT(v->fx, PR_NTFS_0_BPB_BOTH, .str = why_p, .str2 = why_b);
		ret = -EINVAL;
	}
out:
	free(pri);
	free(bak);
	return ret;
}

/* ---------------- streams through runlists ---------------- */

static int run_cmp(const void *a, const void *b)
{
	const struct bsw_ntfs_run *x = a, *y = b;

	return x->vcn < y->vcn ? -1 : x->vcn > y->vcn;
}

/* Index of the run holding vcn, or -1 (runs sorted by vcn). */
static long run_find(const struct bsw_ntfs_runs *rl, uint64_t vcn)
{
	long lo = 0, hi = (long)rl->nr - 1;

	while (lo <= hi) {
		long mid = (lo + hi) / 2;
		const struct bsw_ntfs_run *r = &rl->r[mid];

		if (vcn < r->vcn)
			hi = mid - 1;
		else if (vcn - r->vcn >= r->len)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

/*
 * Read [off, off+len) of a non-resident stream through its runs: holes
 * and unmapped ranges read as zeros; one pread per contiguous piece.
 */
static int runs_read(struct bsw_ntfs *v, const struct bsw_ntfs_runs *rl,
		     uint8_t *buf, size_t len, uint64_t off)
{
	uint64_t cs = v->bs.cluster;

	while (len) {
		uint64_t vcn = off / cs, in = off % cs, avail;
		long i = run_find(rl, vcn);
		size_t n;
		int ret;

		if (i < 0) {
			/* zeros up to the next mapped run */
			uint64_t next = UINT64_MAX;
			unsigned k;

			for (k = 0; k < rl->nr; k++)
				if (rl->r[k].vcn > vcn && rl->r[k].vcn < next)
					next = rl->r[k].vcn;
			if (next == UINT64_MAX ||
			    !bsw_mul_ok(next, cs, &avail) || avail <= off)
				avail = len;
			else
				avail -= off;
			n = (size_t)BSW_MIN((uint64_t)len, avail);
			memset(buf, 0, n);
		} else {
			const struct bsw_ntfs_run *r = &rl->r[i];

			if (!bsw_mul_ok(r->vcn + r->len - vcn, cs, &avail))
				avail = len + in;
			avail -= in;
			n = (size_t)BSW_MIN((uint64_t)len, avail);
			if (r->lcn == NTFS_LCN_HOLE) {
				memset(buf, 0, n);
			} else {
				ret = bsw_ntfs_vol_read(v, buf, n,
					(r->lcn + (vcn - r->vcn)) * cs + in);
				if (ret)
					return ret;
			}
		}
		if (!n)
			return -EIO;	/* no progress: corrupt runs */
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * Read MFT record rec into buf (record size) with fixups applied.
 * Returns 0, 1 when torn (*torn_stride set), or -errno.
 */
int bsw_ntfs_read_rec(struct bsw_ntfs *v, uint64_t rec, uint8_t *buf,
		      unsigned *torn_stride)
{
	uint32_t rs = v->bs.rec_size;
	int ret;

	if (rec >= v->nr_recs && v->nr_recs)
		return -ENOENT;
	if (rec < 4 && (v->mirr_use & (1u << rec)))
		memcpy(buf, v->mirr_raw + rec * rs, rs);
	else if ((ret = runs_read(v, &v->mft_runs, buf, rs, rec * rs)))
		return ret;
	ret = bsw_ntfs_fixup(buf, rs, torn_stride);
	return ret < 0 ? -EINVAL : ret;
}

/* ---------------- attribute streams (file contents) ---------------- */

void bsw_ntfs_stream_free(struct ntfs_stream *fs)
{
	free(fs->res);
	free(fs->cu_buf);
	bsw_ntfs_runs_free(&fs->runs);
	memset(fs, 0, sizeof(*fs));
}

static bool attr_name_is(const uint8_t *r, const struct bsw_ntfs_attr *a,
			 const char *name)
{
	char tmp[512];
	uint16_t u[255];
	unsigned i;

	if (!name || !*name)
		return a->name_len == 0;
	if (!a->name_len)
		return false;
	for (i = 0; i < a->name_len; i++)
		u[i] = get_le16(r + a->off + a->name_off + 2 * i);
	bsw_ntfs_utf16_to_utf8(u, a->name_len, tmp, sizeof(tmp));
	return !strcasecmp(tmp, name);
}

/* Add one matching attribute piece (from record buffer r) to fs. */
static int stream_add_piece(struct bsw_ntfs *v, struct ntfs_stream *fs,
			    const uint8_t *r, const struct bsw_ntfs_attr *a)
{
	const char *why;

	if (!a->nonres) {
		if (fs->res || fs->runs.nr)
			return 0;	/* a resident value comes alone */
		fs->res = malloc(a->val_len ? a->val_len : 1);
		if (!fs->res)
			return -ENOMEM;
		memcpy(fs->res, r + a->val_off, a->val_len);
		fs->res_len = a->val_len;
		fs->resident = true;
		fs->size = fs->alloc = fs->init = a->val_len;
		return 0;
	}
	if (fs->resident)
		return 0;
	if (a->lowest_vcn == 0) {
		fs->size = a->data_size;
		fs->alloc = a->alloc_size;
		fs->init = BSW_MIN(a->init_size, a->data_size);
		fs->aflags = a->flags;
		fs->cu_shift = a->cu_shift;
	}
	return bsw_ntfs_parse_runs(r + a->runs_off, a->runs_len, a->lowest_vcn,
				   v->bs.nr_clusters, &fs->runs, &why);
}

/* Collect the pieces of (type, name) in one record buffer. */
static int stream_scan_rec(struct bsw_ntfs *v, struct ntfs_stream *fs,
			   const uint8_t *r, uint64_t *alist_off)
{
	struct bsw_ntfs_rhdr h;
	struct bsw_ntfs_attr a;
	uint32_t pos, prev = 0;
	unsigned n = 0;
	const char *why;
	int ret;

	if (bsw_ntfs_parse_rhdr(r, v->bs.rec_size, v->bs.rec_size, &h, &why))
		return -EINVAL;
	pos = h.attrs_off;
	while (n++ < BSW_NTFS_MAX_ATTRS &&
	       (ret = bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why)) > 0) {
		if (a.type == NTFS_AT_ATTR_LIST && alist_off)
			*alist_off = a.off;
		if (a.type == fs->type && attr_name_is(r, &a, fs->name)) {
			ret = stream_add_piece(v, fs, r, &a);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/*
 * Load stream (type, name) of record rec: the base record, and through its
 * $ATTRIBUTE_LIST every extension record holding a piece.  0 or -errno
 * (-ENOENT: no such stream).
 */
int bsw_ntfs_load_stream(struct bsw_ntfs *v, uint64_t rec, uint32_t type,
			 const char *name, struct ntfs_stream *fs)
{
	uint32_t rs = v->bs.rec_size;
	uint8_t *r = NULL, *al = NULL;
	uint64_t alist_off = UINT64_MAX;
	uint64_t ext[BSW_NTFS_MAX_EXT];
	unsigned nr_ext = 0, i;
	size_t al_len = 0;
	int ret;

	memset(fs, 0, sizeof(*fs));
	fs->rec = rec;
	fs->type = type;
	if (name)
		snprintf(fs->name, sizeof(fs->name), "%s", name);
	r = bsw_alloc_aligned(rs);
	if (!r)
		return -ENOMEM;
	ret = bsw_ntfs_read_rec(v, rec, r, NULL);
	if (ret < 0)
		goto out;
	ret = stream_scan_rec(v, fs, r, &alist_off);
	if (ret)
		goto out;
	if (alist_off != UINT64_MAX) {
		struct bsw_ntfs_attr a;
		struct bsw_ntfs_rhdr h;
		uint32_t pos = (uint32_t)alist_off, prev = 0;
		const char *why;
		size_t off;

		bsw_ntfs_parse_rhdr(r, rs, rs, &h, &why);
		if (bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why) <= 0)
			goto done;
		if (!a.nonres) {
			al_len = a.val_len;
			al = malloc(al_len ? al_len : 1);
			if (!al) {
				ret = -ENOMEM;
				goto out;
			}
			memcpy(al, r + a.val_off, al_len);
		} else {
			struct bsw_ntfs_runs rl = { 0 };

			al_len = (size_t)BSW_MIN(a.data_size, 1u << 20);
			al = malloc(al_len ? al_len : 1);
			if (!al || bsw_ntfs_parse_runs(r + a.runs_off, a.runs_len, 0,
					v->bs.nr_clusters, &rl, &why) ||
			    runs_read(v, &rl, al, al_len, 0)) {
				bsw_ntfs_runs_free(&rl);
				al_len = 0;
			}
			bsw_ntfs_runs_free(&rl);
		}
		/* entries: 0 type, 4 length, 8 lowest vcn, 16 mref (1.6) */
		for (off = 0; off + 26 <= al_len && nr_ext < BSW_NTFS_MAX_EXT;) {
			uint16_t elen = get_le16(al + off + 4);
			uint64_t er = NTFS_MREF_REC(get_le64(al + off + 16));
			unsigned k;

			if (elen < 26 || off + elen > al_len)
				break;
			if (get_le32(al + off) == type && er != rec) {
				for (k = 0; k < nr_ext && ext[k] != er; k++)
					;
				if (k == nr_ext)
					ext[nr_ext++] = er;
			}
			off += elen;
		}
		for (i = 0; i < nr_ext; i++) {
			struct bsw_ntfs_rhdr eh;
			const char *why2;

			if (bsw_ntfs_read_rec(v, ext[i], r, NULL) < 0)
				continue;
			/* the extension must point back at its base */
			if (bsw_ntfs_parse_rhdr(r, rs, rs, &eh, &why2) ||
			    NTFS_MREF_REC(eh.base) != rec)
				continue;
			ret = stream_scan_rec(v, fs, r, NULL);
			if (ret)
				goto out;
		}
	}
done:
	if (!fs->resident && !fs->runs.nr && !fs->size) {
		/* an empty non-resident stream still exists if we saw it */
		if (!fs->alloc && !fs->aflags && !fs->res) {
			ret = -ENOENT;
			goto out;
		}
	}
	if (fs->runs.nr)
		qsort(fs->runs.r, fs->runs.nr, sizeof(*fs->runs.r), run_cmp);
	fs->valid = true;
	ret = 0;
out:
	free(r);
	free(al);
	if (ret)
		bsw_ntfs_stream_free(fs);
	return ret;
}

/* Decompress compression unit u of an LZNT1 stream into fs->cu_buf. */
static int load_cu(struct bsw_ntfs *v, struct ntfs_stream *fs, uint64_t u)
{
	uint64_t cpu = 1ull << fs->cu_shift, vcn0 = u * cpu, alloc = 0, k;
	size_t cus = (size_t)(cpu * v->bs.cluster);
	uint8_t *tmp;
	int64_t n;
	int ret;

	if (fs->cu_valid && fs->cu_index == u)
		return 0;
	if (!fs->cu_buf && !(fs->cu_buf = malloc(cus)))
		return -ENOMEM;
	/* count allocated clusters of the unit (1.6 / libfsntfs compression) */
	for (k = 0; k < cpu; k++) {
		long i = run_find(&fs->runs, vcn0 + k);

		if (i >= 0 && fs->runs.r[i].lcn != NTFS_LCN_HOLE)
			alloc++;
	}
	if (alloc == cpu || alloc == 0) {
		ret = runs_read(v, &fs->runs, fs->cu_buf, cus, vcn0 * v->bs.cluster);
		if (ret)
			return ret;
	} else {
		size_t clen = (size_t)(alloc * v->bs.cluster);

		tmp = malloc(clen);
		if (!tmp)
			return -ENOMEM;
		ret = runs_read(v, &fs->runs, tmp, clen, vcn0 * v->bs.cluster);
		if (ret) {
			free(tmp);
			return ret;
		}
		n = bsw_ntfs_lznt1(tmp, clen, fs->cu_buf, cus);
		free(tmp);
		if (n < 0)
			return -EIO;
		memset(fs->cu_buf + n, 0, cus - (size_t)n);
	}
	fs->cu_index = u;
	fs->cu_valid = true;
	return 0;
}

int64_t bsw_ntfs_stream_pread(struct bsw_ntfs *v, struct ntfs_stream *fs,
			      void *buf, size_t len, uint64_t off)
{
	uint8_t *b = buf;
	size_t done = 0;
	int ret;

	if (off >= fs->size)
		return 0;
	len = (size_t)BSW_MIN((uint64_t)len, fs->size - off);
	if (fs->resident) {
		memcpy(buf, fs->res + off, len);
		return (int64_t)len;
	}
	if ((fs->aflags & 0xFF) && fs->cu_shift) {
		uint64_t cus = (uint64_t)v->bs.cluster << fs->cu_shift;

		if (fs->cu_shift > 8 || cus > (16u << 20))
			return -EOPNOTSUPP;
		while (done < len) {
			uint64_t p = off + done, u = p / cus, in = p % cus;
			size_t n = (size_t)BSW_MIN(cus - in, (uint64_t)(len - done));

			ret = load_cu(v, fs, u);
			if (ret)
				return ret;
			memcpy(b + done, fs->cu_buf + in, n);
			done += n;
		}
		return (int64_t)len;
	}
	/* beyond the initialized size the stream reads as zeros */
	if (off < fs->init) {
		size_t n = (size_t)BSW_MIN((uint64_t)len, fs->init - off);

		ret = runs_read(v, &fs->runs, b, n, off);
		if (ret)
			return ret;
		done = n;
	}
	memset(b + done, 0, len - done);
	return (int64_t)len;
}

/* ---------------- pass 1: the $MFT ---------------- */

static int add_issue(struct bsw_ntfs *v, uint64_t rec, const char *why,
		     unsigned stride)
{
	if (v->nr_issues == v->cap_issues) {
		size_t cap = v->cap_issues ? v->cap_issues * 2 : 64;
		struct ntfs_issue *n;

		if (v->cap_issues >= 65536)
			return 0;	/* enough evidence; the rows cap anyway */
		n = realloc(v->issues, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		v->issues = n;
		v->cap_issues = cap;
	}
	v->issues[v->nr_issues++] = (struct ntfs_issue){ rec, why, stride };
	return 0;
}

static int add_name(struct bsw_ntfs *v, uint64_t rec, const uint8_t *fn,
		    uint32_t fn_len)
{
	uint8_t nlen;
	unsigned i;

	if (fn_len < 0x42)
		return 0;
	nlen = fn[0x40];
	if (0x42u + 2u * nlen > fn_len || !nlen)
		return 0;
	if (v->nr_names == v->cap_names) {
		size_t cap = v->cap_names ? v->cap_names * 2 : 1024;
		struct ntfs_name *n = realloc(v->names, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->names = n;
		v->cap_names = cap;
	}
	if (v->pool_len + nlen > v->pool_cap) {
		size_t cap = v->pool_cap ? v->pool_cap * 2 : 16384;
		uint16_t *n;

		while (cap < v->pool_len + nlen)
			cap *= 2;
		n = realloc(v->pool, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		v->pool = n;
		v->pool_cap = cap;
	}
	for (i = 0; i < nlen; i++)
		v->pool[v->pool_len + i] = get_le16(fn + 0x42 + 2 * i);
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
	qsort(v->mft_runs.r, v->mft_runs.nr, sizeof(*v->mft_runs.r), run_cmp);
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

static int pass1(struct bsw_ntfs *v)
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

		ret = runs_read(v, &v->mft_runs, buf, cnt * rs, start * rs);
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
			ret = merge_one(v, start + k, buf + (size_t)k * rs, &pr[k]);
			if (ret)
				goto out;
		}
	}
	ret = 0;
out:
	free(buf);
	free(pr);
	return ret;
}

/* ---------------- namespace ---------------- */

static inline uint16_t up(const struct bsw_ntfs *v, uint16_t c)
{
	return v->upcase ? v->upcase[c] : bsw_ntfs_fold_builtin(c);
}

/* Compare two names already folded through $UpCase (v->upool). */
static inline int rawcmp(const uint16_t *a, size_t al, const uint16_t *b,
			 size_t bl)
{
	size_t i, n = BSW_MIN(al, bl);

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return al < bl ? -1 : al > bl;
}


static int name_rec_cmp(const void *a, const void *b)
{
	const struct ntfs_name *x = a, *y = b;

	if (x->rec != y->rec)
		return x->rec < y->rec ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* qsort_r comparator: volumes of different images sort in parallel threads */
static int kid_cmp(const void *a, const void *b, void *arg)
{
	const struct bsw_ntfs *sort_vol = arg;
	const struct ntfs_name *x = &sort_vol->names[*(const uint32_t *)a];
	const struct ntfs_name *y = &sort_vol->names[*(const uint32_t *)b];
	int c;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	c = rawcmp(sort_vol->upool + x->off, x->len,
		   sort_vol->upool + y->off, y->len);
	if (c)
		return c;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* $UpCase (record 10): 65536 UTF-16 units (1.6); else the built-in folding. */
static void load_upcase(struct bsw_ntfs *v)
{
	struct ntfs_stream fs;
	const char *why = NULL;
	uint8_t *raw;
	unsigned i;

	v->upcase = malloc(65536 * sizeof(uint16_t));
	raw = malloc(131072);
	if (!v->upcase || !raw) {
		free(v->upcase);
		free(raw);
		v->upcase = NULL;
		return;
	}
	if (bsw_ntfs_load_stream(v, 10, NTFS_AT_DATA, NULL, &fs))
		why = "no $DATA";
	else if (fs.size != 131072)
		why = "size is not 131072 bytes";
	else if (bsw_ntfs_stream_pread(v, &fs, raw, 131072, 0) != 131072)
		why = "unreadable";
	if (!why) {
		for (i = 0; i < 65536; i++)
			v->upcase[i] = get_le16(raw + 2 * i);
		if (v->upcase['a'] != 'A' || v->upcase['z'] != 'Z' ||
		    v->upcase['A'] != 'A' || v->upcase['0'] != '0')
			why = "ASCII letters do not fold";
	}
	if (fs.valid)
		bsw_ntfs_stream_free(&fs);
	free(raw);
	if (why) {
		BSW_REPORT(v->fx, PR_NTFS_1_UPCASE_BAD, .rec = 10, .str = why);
		for (i = 0; i < 65536; i++)
			v->upcase[i] = bsw_ntfs_fold_builtin((uint16_t)i);
		v->upcase_builtin = true;
	}
}

static int build_namespace(struct bsw_ntfs *v)
{
	size_t i;
	uint64_t r;

	/* fold extension records into their bases */
	for (r = 0; r < v->nr_recs; r++) {
		struct ntfs_rsum *s = &v->recs[r];

		if (!s->base || !(s->rflags & BSW_NTFS_R_INUSE) ||
		    s->base >= v->nr_recs)
			continue;
		if (s->rflags & NTFS_RS_HASDATA) {
			v->recs[s->base].size = s->size;
			v->recs[s->base].alloc = s->alloc;
			v->recs[s->base].rflags |= s->rflags &
				(BSW_NTFS_R_COMPRESSED | BSW_NTFS_R_SPARSE);
		}
		v->recs[s->base].rflags |= s->rflags & (BSW_NTFS_R_REPARSE | BSW_NTFS_R_WOF);
		if (s->reparse_tag)
			v->recs[s->base].reparse_tag = s->reparse_tag;
	}
	qsort(v->names, v->nr_names, sizeof(*v->names), name_rec_cmp);
	for (r = 0; r < v->nr_recs; r++) {
		v->recs[r].nr_names = 0;
		v->recs[r].nr_vis = 0;
	}
	for (i = v->nr_names; i-- > 0;) {
		struct ntfs_name *n = &v->names[i];

		if (n->rec >= v->nr_recs)
			continue;
		v->recs[n->rec].first_name = (uint32_t)i;
		v->recs[n->rec].nr_names++;
		if (n->ns != 2)
			v->recs[n->rec].nr_vis++;
	}
	load_upcase(v);
	v->upool = malloc((v->pool_len + 1) * sizeof(*v->upool));
	if (!v->upool)
		return -ENOMEM;
	for (i = 0; i < v->pool_len; i++)
		v->upool[i] = up(v, v->pool[i]);
	v->kids = malloc((v->nr_names + 1) * sizeof(*v->kids));
	if (!v->kids)
		return -ENOMEM;
	v->nr_kids = 0;
	for (i = 0; i < v->nr_names; i++) {
		const struct ntfs_name *n = &v->names[i];

		if (n->ns == 2 || n->rec == n->parent || n->parent >= v->nr_recs)
			continue;
		if (!(v->recs[n->parent].rflags & BSW_NTFS_R_INUSE))
			continue;
		/* a stale parent reference (old sequence) is not a child */
		if (n->pseq && n->pseq != v->recs[n->parent].seq)
			continue;
		v->kids[v->nr_kids++] = (uint32_t)i;
	}
	qsort_r(v->kids, v->nr_kids, sizeof(*v->kids), kid_cmp, v);
	return 0;
}

/* First index in kids with parent >= dir. */
static size_t kids_lower(const struct bsw_ntfs *v, uint64_t dir)
{
	size_t lo = 0, hi = v->nr_kids;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v->names[v->kids[mid]].parent < dir)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bsw_ntfs_find_child(struct bsw_ntfs *v, uint64_t dir, const uint16_t *uname,
			size_t len, uint64_t *rec)
{
	size_t lo = kids_lower(v, dir), hi = kids_lower(v, dir + 1), i;
	uint16_t name[255];

	if (len > BSW_ARRAY_SIZE(name))
		return -ENOENT;
	for (i = 0; i < len; i++)
		name[i] = up(v, uname[i]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ntfs_name *n = &v->names[v->kids[mid]];
		int c = rawcmp(v->upool + n->off, n->len, name, len);

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < kids_lower(v, dir + 1)) {
		const struct ntfs_name *n = &v->names[v->kids[lo]];

		if (!rawcmp(v->upool + n->off, n->len, name, len)) {
			*rec = n->rec;
			return 0;
		}
	}
	return -ENOENT;
}

/* UTF-8 -> UTF-16 for path components; returns units or -EINVAL. */
static long utf8_to_16(const char *s, size_t n, uint16_t *out, size_t max)
{
	size_t i = 0, o = 0;

	while (i < n) {
		uint32_t c = (uint8_t)s[i];
		unsigned extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;

		if (i + extra >= n + (extra ? 0 : 1) && extra)
			return -EINVAL;
		if (extra) {
			c &= 0x3F >> extra;
			for (unsigned k = 1; k <= extra; k++)
				c = (c << 6) | ((uint8_t)s[i + k] & 0x3F);
		}
		i += extra + 1;
		if (c >= 0x10000) {
			if (o + 2 > max)
				return -EINVAL;
			c -= 0x10000;
			out[o++] = (uint16_t)(0xD800 + (c >> 10));
			out[o++] = (uint16_t)(0xDC00 + (c & 0x3FF));
		} else {
			if (o + 1 > max)
				return -EINVAL;
			out[o++] = (uint16_t)c;
		}
	}
	return (long)o;
}

int bsw_ntfs_lookup(struct bsw_ntfs *v, const char *path, uint64_t *rec)
{
	uint64_t cur = ROOT_REC;
	uint16_t u[256];
	unsigned depth = 0;

	while (*path) {
		size_t n;
		long ul;

		while (*path == '\\' || *path == '/')
			path++;
		if (!*path)
			break;
		n = strcspn(path, "\\/");
		if (++depth > BSW_NTFS_MAX_DEPTH)
			return -ENOENT;
		ul = utf8_to_16(path, n, u, BSW_ARRAY_SIZE(u));
		if (ul <= 0 || bsw_ntfs_find_child(v, cur, u, (size_t)ul, &cur))
			return -ENOENT;
		path += n;
	}
	*rec = cur;
	return 0;
}

/* The name used for paths: the first non-DOS name. */
static const struct ntfs_name *main_name(const struct bsw_ntfs *v, uint64_t rec)
{
	const struct ntfs_rsum *s = &v->recs[rec];
	unsigned i;

	for (i = 0; i < s->nr_names; i++) {
		const struct ntfs_name *n = &v->names[s->first_name + i];

		if (n->ns != 2)
			return n;
	}
	return s->nr_names ? &v->names[s->first_name] : NULL;
}

int bsw_ntfs_path(struct bsw_ntfs *v, uint64_t rec, char *buf, size_t len)
{
	uint64_t chain[BSW_NTFS_MAX_DEPTH];
	unsigned d = 0, i, k;
	size_t o = 0;

	if (!len)
		return -ENAMETOOLONG;
	if (rec >= v->nr_recs || !(v->recs[rec].rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	while (rec != ROOT_REC) {
		const struct ntfs_name *n = main_name(v, rec);

		if (!n)
			return -ENOENT;
		/* cycle detection: the chain so far is the visited set */
		for (k = 0; k < d; k++)
			if (chain[k] == rec)
				return -ELOOP;
		if (d == BSW_NTFS_MAX_DEPTH)
			return -ELOOP;
		chain[d++] = rec;
		rec = n->parent;
		if (rec >= v->nr_recs)
			return -ENOENT;
	}
	if (!d) {
		if (len < 2)
			return -ENAMETOOLONG;
		strcpy(buf, "\\");
		return 0;
	}
	for (i = d; i-- > 0;) {
		const struct ntfs_name *n = main_name(v, chain[i]);
		char tmp[1024];
		size_t tl = bsw_ntfs_utf16_to_utf8(v->pool + n->off, n->len, tmp,
						   sizeof(tmp));

		if (o + 1 + tl + 1 > len)
			return -ENAMETOOLONG;
		buf[o++] = '\\';
		memcpy(buf + o, tmp, tl);
		o += tl;
	}
	buf[o] = 0;
	return 0;
}

const char *bsw_ntfs_rec_label(struct bsw_ntfs *v, uint64_t rec, char *buf,
			       size_t len)
{
	static const char *const meta[16] = {
		"$MFT", "$MFTMirr", "$LogFile", "$Volume", "$AttrDef", "\\",
		"$Bitmap", "$Boot", "$BadClus", "$Secure", "$UpCase", "$Extend",
	};

	if (rec < 16 && meta[rec]) {
		snprintf(buf, len, "%s", meta[rec]);
		return buf;
	}
	if (!v->recs || bsw_ntfs_path(v, rec, buf, len))
		snprintf(buf, len, "record %llu", (unsigned long long)rec);
	return buf;
}

/* ---------------- API ---------------- */

static const char *const boot_files[] = {
	"\\Windows\\System32\\ntoskrnl.exe", "\\Windows\\System32\\hal.dll",
	"\\Windows\\System32\\ci.dll", "\\Windows\\System32\\winload.efi",
	"\\Windows\\System32\\winload.exe", "\\Windows\\System32\\kdcom.dll",
	"\\Windows\\System32\\bootvid.dll", "\\Windows\\System32\\pshed.dll",
	"\\Windows\\System32\\config\\SYSTEM",
	"\\Windows\\System32\\config\\SOFTWARE",
	"\\Windows\\System32\\drivers\\ntfs.sys",
	"\\Windows\\System32\\drivers\\disk.sys",
	"\\Windows\\System32\\drivers\\partmgr.sys",
	"\\Windows\\System32\\drivers\\volmgr.sys",
	"\\Windows\\System32\\drivers\\volmgrx.sys",
	"\\Windows\\System32\\drivers\\mountmgr.sys",
	"\\Windows\\System32\\drivers\\classpnp.sys",
	"\\Windows\\System32\\drivers\\storport.sys",
	"\\Windows\\System32\\drivers\\stornvme.sys",
	"\\Windows\\System32\\drivers\\storahci.sys",
	"\\Windows\\System32\\drivers\\storvsc.sys",
	"\\Windows\\System32\\drivers\\vmbus.sys",
	"\\Windows\\System32\\drivers\\pci.sys",
	"\\Windows\\System32\\drivers\\acpi.sys",
	"\\Windows\\System32\\drivers\\cng.sys",
	"\\Windows\\System32\\drivers\\ksecdd.sys",
	"\\Windows\\System32\\drivers\\fltmgr.sys",
	"\\Windows\\System32\\drivers\\Wdf01000.sys",
	"\\Windows\\System32\\drivers\\volsnap.sys",
	"\\bootmgr",
};

/*
 * True when rec is one of the files Windows needs to boot, or a directory
 * on their path (records 0-15 included).
 */
bool bsw_ntfs_is_boot_file(struct bsw_ntfs *v, uint64_t rec)
{
	unsigned i;
	uint64_t r;

	static const char *const boot_dirs[] = {
		"\\Windows", "\\Windows\\System32", "\\Windows\\System32\\drivers",
		"\\Windows\\System32\\config",
	};

	if (rec < 16)
		return true;
	for (i = 0; i < BSW_ARRAY_SIZE(boot_dirs); i++)
		if (!bsw_ntfs_lookup(v, boot_dirs[i], &r) && r == rec)
			return true;
	for (i = 0; i < BSW_ARRAY_SIZE(boot_files); i++)
		if (!bsw_ntfs_lookup(v, boot_files[i], &r) && r == rec)
			return true;
	return false;
}

unsigned bsw_ntfs_nr_boot_files(void)
{
	return BSW_ARRAY_SIZE(boot_files);
}

const char *bsw_ntfs_boot_file(unsigned i)
{
	return i < BSW_ARRAY_SIZE(boot_files) ? boot_files[i] : NULL;
}

/* Report pass 1 record issues now that paths are known. */
static void report_issues(struct bsw_ntfs *v)
{
	size_t i;

	for (i = 0; i < v->nr_issues; i++) {
		const struct ntfs_issue *is = &v->issues[i];
		char label[512];
		bool crit;

		/* records 0-3 replaced from the mirror are reported by pass 2 */
		if (is->rec < 4 && (v->mirr_use & (1u << is->rec)))
			continue;
		crit = is->rec < 16 || bsw_ntfs_is_boot_file(v, is->rec);
		bsw_ntfs_rec_label(v, is->rec, label, sizeof(label));
		if (!is->why)
			BSW_REPORT(v->fx, crit ? PR_NTFS_1_FIXUP_CRIT : PR_NTFS_1_FIXUP,
				   .rec = is->rec, .n = is->stride, .str = label);
		else
			BSW_REPORT(v->fx, crit ? PR_NTFS_1_REC_CRIT : PR_NTFS_1_REC,
				   .rec = is->rec, .str = is->why, .str2 = label);
	}
}

/*
 * Parent-reference loops (NTFS-REC): walk each record's chain up to the
 * root, remembering per record whether its chain is known good (1) or bad
 * (2), so the whole walk is linear in the number of records even when a
 * forged volume chains them all in one line.
 */
static void check_paths(struct bsw_ntfs *v)
{
	uint64_t r, path[BSW_NTFS_MAX_DEPTH];
	uint8_t *st = calloc(v->nr_recs, 1);

	if (!st)
		return;
	for (r = 16; r < v->nr_recs; r++) {
		const struct ntfs_rsum *s = &v->recs[r];
		uint64_t cur = r;
		unsigned d = 0, k;
		uint8_t verdict = 1;

		if (!(s->rflags & BSW_NTFS_R_INUSE) || s->base || !s->nr_names ||
		    st[r])
			continue;
		for (;;) {
			const struct ntfs_name *n;

			if (cur == ROOT_REC || cur >= v->nr_recs)
				break;
			if (st[cur]) {
				verdict = st[cur];
				break;
			}
			for (k = 0; k < d && path[k] != cur; k++)
				;
			if (k < d || d == BSW_NTFS_MAX_DEPTH) {
				verdict = 2;	/* a loop, or deeper than the cap */
				break;
			}
			n = main_name(v, cur);
			if (!n)
				break;	/* an orphan, not a loop */
			path[d++] = cur;
			cur = n->parent;
		}
		for (k = 0; k < d; k++)
			st[path[k]] = verdict;
		if (verdict == 2)
			BSW_REPORT(v->fx, PR_NTFS_1_PATH_LOOP, .rec = r);
	}
	free(st);
}

/*
 * NTFS-ATTRLIST (1.6): name offset of every $ATTRIBUTE_LIST entry in
 * records 0-31 must be 0x1A.
 */
static void check_attrlists(struct bsw_ntfs *v)
{
	uint32_t rs = v->bs.rec_size;
	uint8_t *r = bsw_alloc_aligned(rs);
	uint64_t rec;

	if (!r)
		return;
	for (rec = 0; rec < 32 && rec < v->nr_recs; rec++) {
		struct bsw_ntfs_rhdr h;
		struct bsw_ntfs_attr a;
		uint32_t pos, prev = 0;
		unsigned n = 0;
		const char *why;

		if (!(v->recs[rec].rflags & BSW_NTFS_R_INUSE) ||
		    bsw_ntfs_read_rec(v, rec, r, NULL) < 0 ||
		    bsw_ntfs_parse_rhdr(r, rs, rs, &h, &why))
			continue;
		pos = h.attrs_off;
		while (n++ < BSW_NTFS_MAX_ATTRS &&
		       bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why) > 0) {
			uint8_t *al = NULL;
			size_t len, off;
			unsigned e = 0;

			if (a.type != NTFS_AT_ATTR_LIST)
				continue;
			if (!a.nonres) {
				al = r + a.val_off;
				len = a.val_len;
			} else {
				struct bsw_ntfs_runs rl = { 0 };

				len = (size_t)BSW_MIN(a.data_size, 1u << 20);
				al = malloc(len ? len : 1);
				if (!al || bsw_ntfs_parse_runs(r + a.runs_off,
						a.runs_len, 0, v->bs.nr_clusters,
						&rl, &why) ||
				    runs_read(v, &rl, al, len, 0))
					len = 0;
				bsw_ntfs_runs_free(&rl);
			}
			for (off = 0; off + 26 <= len && e < BSW_NTFS_MAX_ALIST; e++) {
				uint16_t elen = get_le16(al + off + 4);

				if (al[off + 7] != 0x1A)
					BSW_REPORT(v->fx, PR_NTFS_1_ATTRLIST_1C,
						   .rec = rec, .n = e,
						   .n2 = al[off + 7]);
				if (elen < 26 || (elen & 7) || off + elen > len)
					break;
				off += elen;
			}
			if (a.nonres)
				free(al);
		}
	}
	free(r);
}

int bsw_ntfs_open(struct bsw_ntfs **out, const struct bsw_src *vol,
		  struct bsw_fx *fx, const struct bsw_ntfs_opts *o)
{
	struct bsw_ntfs *v;
	int ret;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->src = vol;
	v->fx = fx;
	if (o)
		v->o = *o;
	ret = pass0(v);
	if (ret)
		goto err;
	ret = pass1(v);
	if (ret)
		goto err;
	ret = build_namespace(v);
	if (ret)
		goto err;
	if (v->o.run_checks) {
		report_issues(v);
		check_attrlists(v);
		check_paths(v);
		bsw_ntfs_pass2(v);
	}
	*out = v;
	return 0;
err:
	bsw_ntfs_close(v);
	return ret == -EINVAL ? -EINVAL : ret;
}

void bsw_ntfs_close(struct bsw_ntfs *v)
{
	if (!v)
		return;
	bsw_ntfs_stream_free(&v->cache);
	wof_free(v);
	bsw_ntfs_runs_free(&v->mft_runs);
	free(v->recs);
	free(v->mirr_raw);
	free(v->names);
	free(v->pool);
	free(v->upool);
	free(v->kids);
	free(v->upcase);
	free(v->issues);
	free(v->cbmap);
	free(v);
}

uint32_t bsw_ntfs_cluster_size(const struct bsw_ntfs *v)
{
	return v->bs.cluster;
}

uint32_t bsw_ntfs_record_size(const struct bsw_ntfs *v)
{
	return v->bs.rec_size;
}

uint64_t bsw_ntfs_nr_records(const struct bsw_ntfs *v)
{
	return v->nr_recs;
}

uint64_t bsw_ntfs_serial(const struct bsw_ntfs *v)
{
	return v->bs.serial;
}

uint64_t bsw_ntfs_bytes_read(const struct bsw_ntfs *v)
{
	return v->bytes_read;
}

int bsw_ntfs_stat(struct bsw_ntfs *v, uint64_t rec, struct bsw_ntfs_stat *st)
{
	const struct ntfs_rsum *s;

	if (rec >= v->nr_recs)
		return -ENOENT;
	s = &v->recs[rec];
	if (!(s->rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	memset(st, 0, sizeof(*st));
	st->rec = rec;
	st->seq = s->seq;
	st->link_count = s->links;
	st->nr_names = s->nr_vis;
	st->rflags = s->rflags & 0x1FF;
	st->size = s->size;
	st->alloc_size = s->alloc;
	st->reparse_tag = s->reparse_tag;
	return 0;
}

int bsw_ntfs_names(struct bsw_ntfs *v, uint64_t rec, bsw_ntfs_name_fn fn,
		   void *arg)
{
	const struct ntfs_rsum *s;
	unsigned i;

	if (rec >= v->nr_recs || !(v->recs[rec].rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	s = &v->recs[rec];
	for (i = 0; i < s->nr_names; i++) {
		const struct ntfs_name *n = &v->names[s->first_name + i];
		char tmp[1024];
		int ret;

		bsw_ntfs_utf16_to_utf8(v->pool + n->off, n->len, tmp, sizeof(tmp));
		ret = fn(arg, n->parent, tmp, n->ns);
		if (ret)
			return ret;
	}
	return 0;
}

int bsw_ntfs_readdir(struct bsw_ntfs *v, uint64_t dir, bsw_ntfs_child_fn fn,
		     void *arg)
{
	size_t i, end;

	if (dir >= v->nr_recs || !(v->recs[dir].rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	end = kids_lower(v, dir + 1);
	for (i = kids_lower(v, dir); i < end; i++) {
		const struct ntfs_name *n = &v->names[v->kids[i]];
		char tmp[1024];
		int ret;

		bsw_ntfs_utf16_to_utf8(v->pool + n->off, n->len, tmp, sizeof(tmp));
		ret = fn(arg, n->rec, tmp);
		if (ret)
			return ret;
	}
	return 0;
}

static void wof_free(struct bsw_ntfs *v)
{
	bsw_ntfs_stream_free(&v->wof.s);
	free(v->wof.cbuf);
	free(v->wof.zbuf);
	memset(&v->wof, 0, sizeof(v->wof));
}

/*
 * WOF (CompactOS) file: the reparse point names the algorithm (value +8
 * WOF_EXTERNAL_INFO {version, provider 2 = file}, +16 FILE_PROVIDER_
 * EXTERNAL_INFO_V1 {version, algorithm 0 XPRESS4K, 1 LZX, 2 XPRESS8K,
 * 3 XPRESS16K}); the data is the named stream "WofCompressedData": a table
 * of (chunks - 1) end offsets (u32, u64 when the file is 4 GiB or more)
 * relative to the end of the table, then the chunks; a chunk whose stored
 * size equals its plain size is stored raw (libfsntfs WOF notes).
 */
static int wof_open(struct bsw_ntfs *v, uint64_t rec)
{
	struct ntfs_stream rp;
	uint32_t prov, alg;
	int ret;

	if (v->wof.valid && v->wof.rec == rec)
		return 0;
	wof_free(v);
	ret = bsw_ntfs_load_stream(v, rec, NTFS_AT_REPARSE, NULL, &rp);
	if (ret)
		return ret;
	if (!rp.resident || rp.res_len < 24) {
		bsw_ntfs_stream_free(&rp);
		return -EINVAL;
	}
	prov = get_le32(rp.res + 12);
	alg = get_le32(rp.res + 20);
	bsw_ntfs_stream_free(&rp);
	if (prov != 2 || alg > 3)
		return -EOPNOTSUPP;
	v->wof.alg = alg;
	v->wof.chunk = bsw_ntfs_wof_chunk_size(alg);	/* LZX 32 KiB, XPRESS 4/8/16 KiB */
	v->wof.size = v->recs[rec].size;
	v->wof.nchunks = (v->wof.size + v->wof.chunk - 1) / v->wof.chunk;
	ret = bsw_ntfs_load_stream(v, rec, NTFS_AT_DATA, "WofCompressedData",
				   &v->wof.s);
	if (ret)
		return ret == -ENOENT ? -EINVAL : ret;
	v->wof.cbuf = malloc(v->wof.chunk);
	v->wof.zbuf = malloc(v->wof.chunk);
	if (!v->wof.cbuf || !v->wof.zbuf) {
		wof_free(v);
		return -ENOMEM;
	}
	v->wof.rec = rec;
	v->wof.valid = true;
	return 0;
}

static int wof_chunk(struct bsw_ntfs *v, uint64_t c)
{
	unsigned esz = v->wof.size >= (1ull << 32) ? 8 : 4;
	uint64_t tbl = (v->wof.nchunks - 1) * esz, start = 0, end;
	uint32_t plain = (uint32_t)BSW_MIN((uint64_t)v->wof.chunk,
					   v->wof.size - c * v->wof.chunk);
	uint8_t e[8];
	int64_t n;

	if (v->wof.cvalid && v->wof.cidx == c)
		return 0;
	if (c && bsw_ntfs_stream_pread(v, &v->wof.s, e, esz, (c - 1) * esz) == esz)
		start = esz == 8 ? get_le64(e) : get_le32(e);
	if (c + 1 < v->wof.nchunks) {
		if (bsw_ntfs_stream_pread(v, &v->wof.s, e, esz, c * esz) != esz)
			return -EIO;
		end = esz == 8 ? get_le64(e) : get_le32(e);
	} else {
		end = v->wof.s.size - tbl;
	}
	if (end < start || end - start > v->wof.chunk || tbl + end > v->wof.s.size)
		return -EIO;
	n = bsw_ntfs_stream_pread(v, &v->wof.s, v->wof.zbuf, (size_t)(end - start),
				  tbl + start);
	if (n != (int64_t)(end - start))
		return -EIO;
	if (end - start == plain)
		memcpy(v->wof.cbuf, v->wof.zbuf, plain);
	else if (bsw_ntfs_wof_decompress(v->wof.alg, v->wof.zbuf, (size_t)(end - start),
					 v->wof.cbuf, plain))	/* wimlib: ntfs_wof.c */
		return -EIO;
	v->wof.cidx = c;
	v->wof.cvalid = true;
	return 0;
}

static int64_t wof_read(struct bsw_ntfs *v, uint64_t rec, uint8_t *buf,
			size_t len, uint64_t off)
{
	size_t done = 0;
	int ret = wof_open(v, rec);

	if (ret)
		return ret;
	if (off >= v->wof.size)
		return 0;
	len = (size_t)BSW_MIN((uint64_t)len, v->wof.size - off);
	while (done < len) {
		uint64_t p = off + done, c = p / v->wof.chunk, in = p % v->wof.chunk;
		size_t n = (size_t)BSW_MIN((uint64_t)(v->wof.chunk - in),
					   (uint64_t)(len - done));

		ret = wof_chunk(v, c);
		if (ret)
			return ret;
		memcpy(buf + done, v->wof.cbuf + in, n);
		done += n;
	}
	return (int64_t)len;
}

int64_t bsw_ntfs_read(struct bsw_ntfs *v, uint64_t rec, const char *stream,
		      void *buf, size_t len, uint64_t off)
{
	struct ntfs_stream *fs = &v->cache;
	const char *sn = stream ? stream : "";
	int ret;

	if (rec >= v->nr_recs || !(v->recs[rec].rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	if (!stream && (v->recs[rec].rflags & BSW_NTFS_R_WOF))
		return wof_read(v, rec, buf, len, off);
	if (!fs->valid || fs->rec != rec || fs->type != NTFS_AT_DATA ||
	    strcmp(fs->name, sn)) {
		bsw_ntfs_stream_free(fs);
		ret = bsw_ntfs_load_stream(v, rec, NTFS_AT_DATA, sn, fs);
		if (ret)
			return ret;
	}
	if (fs->aflags & 0x4000)
		return -EOPNOTSUPP;	/* EFS-encrypted */
	return bsw_ntfs_stream_pread(v, fs, buf, len, off);
}

int bsw_ntfs_read_all(struct bsw_ntfs *v, uint64_t rec, const char *stream,
		      uint8_t **data, size_t *len, size_t max)
{
	struct bsw_ntfs_stat st;
	uint8_t *b;
	int64_t n;
	uint64_t size;

	*data = NULL;
	*len = 0;
	if (bsw_ntfs_stat(v, rec, &st))
		return -ENOENT;
	size = st.size;
	if (stream) {
		struct ntfs_stream fs;
		int ret = bsw_ntfs_load_stream(v, rec, NTFS_AT_DATA, stream, &fs);

		if (ret)
			return ret;
		size = fs.size;
		bsw_ntfs_stream_free(&fs);
	}
	if (size > max)
		return -EFBIG;
	b = bsw_alloc_aligned((size_t)size);
	if (!b)
		return -ENOMEM;
	n = size ? bsw_ntfs_read(v, rec, stream, b, (size_t)size, 0) : 0;
	if (n < 0) {
		free(b);
		return (int)n;
	}
	*data = b;
	*len = (size_t)n;
	return 0;
}
