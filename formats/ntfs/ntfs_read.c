/*
 * Reading file data: volume bytes, MFT records and attribute streams.
 *
 * A stream (bsw_ntfs_load_stream) is an attribute of one type and name
 * gathered from its base record and, through its $ATTRIBUTE_LIST, from
 * every extension record holding a piece.  Its bytes come from the
 * resident value, or through its runlist: sparse runs and unmapped ranges
 * read as zeros, bytes past the initialized size read as zeros, one pread
 * per contiguous piece.  Compressed data goes to the compression files:
 * LZNT1 compression units (ntfs_lznt1.c) and WOF files (ntfs_wof.c).
 *
 * Not a pass: the passes and the public read API (bsw_ntfs_read,
 * bsw_ntfs_read_all) use it.  It tests nothing and reports nothing; a
 * runlist that makes no progress or a read error comes back as -errno.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/common/bytes.h"
#include "formats/common/utf8.h"
#include "formats/ntfs/ntfs_internal.h"

int bsw_ntfs_vol_read(struct bsw_ntfs *v, void *buf, size_t len, uint64_t off)
{
	int ret = bsw_src_read_full(v->src, buf, len, off);

	if (!ret)
		v->bytes_read += len;
	return ret;
}

static int run_cmp(const void *a, const void *b)
{
	const struct bsw_ntfs_run *x = a, *y = b;

	return x->vcn < y->vcn ? -1 : x->vcn > y->vcn;
}

void bsw_ntfs_runs_sort(struct bsw_ntfs_runs *rl)
{
	if (rl->nr)
		qsort(rl->r, rl->nr, sizeof(*rl->r), run_cmp);
}

long bsw_ntfs_run_find(const struct bsw_ntfs_runs *rl, uint64_t vcn)
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
int bsw_ntfs_runs_read(struct bsw_ntfs *v, const struct bsw_ntfs_runs *rl, uint8_t *buf, size_t len,
		       uint64_t off)
{
	uint64_t cs = v->bs.cluster;

	while (len) {
		uint64_t vcn = off / cs, in = off % cs, avail;
		long i = bsw_ntfs_run_find(rl, vcn);
		size_t n;
		int ret;

		if (i < 0) {
			/* zeros up to the next mapped run */
			uint64_t next = UINT64_MAX;
			unsigned k;

			for (k = 0; k < rl->nr; k++)
				if (rl->r[k].vcn > vcn && rl->r[k].vcn < next)
					next = rl->r[k].vcn;
			if (next == UINT64_MAX || !bsw_mul_ok(next, cs, &avail) || avail <= off)
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
			return -EIO; /* no progress: corrupt runs */
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
int bsw_ntfs_read_rec(struct bsw_ntfs *v, uint64_t rec, uint8_t *buf, unsigned *torn_stride)
{
	uint32_t rs = v->bs.rec_size;
	int ret;

	if (rec >= v->nr_recs && v->nr_recs)
		return -ENOENT;
	if (rec < 4 && (v->mirr_use & (1u << rec)))
		memcpy(buf, v->mirr_raw + rec * rs, rs);
	else if ((ret = bsw_ntfs_runs_read(v, &v->mft_runs, buf, rs, rec * rs)))
		return ret;
	ret = bsw_ntfs_fixup(buf, rs, torn_stride);
	return ret < 0 ? -EINVAL : ret;
}

void bsw_ntfs_stream_free(struct ntfs_stream *fs)
{
	free(fs->res);
	free(fs->cu_buf);
	bsw_ntfs_runs_free(&fs->runs);
	memset(fs, 0, sizeof(*fs));
}

static bool attr_name_is(const uint8_t *r, const struct bsw_ntfs_attr *a, const char *name)
{
	char tmp[512];

	if (!name || !*name)
		return a->name_len == 0;
	if (!a->name_len)
		return false;
	bsw_utf16le_to_utf8(r + a->off + a->name_off, a->name_len, tmp, sizeof(tmp), 0);
	return !strcasecmp(tmp, name);
}

/* Add one matching attribute piece (from record buffer r) to fs. */
static int stream_add_piece(struct bsw_ntfs *v, struct ntfs_stream *fs, const uint8_t *r,
			    const struct bsw_ntfs_attr *a)
{
	const char *why;

	if (!a->nonres) {
		if (fs->res || fs->runs.nr)
			return 0; /* a resident value comes alone */
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
	return bsw_ntfs_parse_runs(r + a->runs_off, a->runs_len, a->lowest_vcn, v->bs.nr_clusters,
				   &fs->runs, &why);
}

/* Collect the pieces of (type, name) in one record buffer. */
static int stream_scan_rec(struct bsw_ntfs *v, struct ntfs_stream *fs, const uint8_t *r,
			   uint64_t *alist_off)
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
int bsw_ntfs_load_stream(struct bsw_ntfs *v, uint64_t rec, uint32_t type, const char *name,
			 struct ntfs_stream *fs)
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

		fs->ext = true;
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
			if (!al ||
			    bsw_ntfs_parse_runs(r + a.runs_off, a.runs_len, 0, v->bs.nr_clusters,
						&rl, &why) ||
			    bsw_ntfs_runs_read(v, &rl, al, al_len, 0)) {
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
	bsw_ntfs_runs_sort(&fs->runs);
	fs->valid = true;
	ret = 0;
out:
	free(r);
	free(al);
	if (ret)
		bsw_ntfs_stream_free(fs);
	return ret;
}

int64_t bsw_ntfs_stream_pread(struct bsw_ntfs *v, struct ntfs_stream *fs, void *buf, size_t len,
			      uint64_t off)
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

			ret = bsw_ntfs_load_cu(v, fs, u);
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

		ret = bsw_ntfs_runs_read(v, &fs->runs, b, n, off);
		if (ret)
			return ret;
		done = n;
	}
	memset(b + done, 0, len - done);
	return (int64_t)len;
}

int64_t bsw_ntfs_read(struct bsw_ntfs *v, uint64_t rec, const char *stream, void *buf, size_t len,
		      uint64_t off)
{
	struct ntfs_stream *fs = &v->cache;
	const char *sn = stream ? stream : "";
	int ret;

	if (rec >= v->nr_recs || !(v->recs[rec].rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	if (!stream && (v->recs[rec].rflags & BSW_NTFS_R_WOF))
		return bsw_ntfs_wof_read(v, rec, buf, len, off);
	if (!fs->valid || fs->rec != rec || fs->type != NTFS_AT_DATA || strcmp(fs->name, sn)) {
		bsw_ntfs_stream_free(fs);
		ret = bsw_ntfs_load_stream(v, rec, NTFS_AT_DATA, sn, fs);
		if (ret)
			return ret;
	}
	if (fs->aflags & 0x4000)
		return -EOPNOTSUPP; /* EFS-encrypted */
	return bsw_ntfs_stream_pread(v, fs, buf, len, off);
}

int bsw_ntfs_read_all(struct bsw_ntfs *v, uint64_t rec, const char *stream, uint8_t **data,
		      size_t *len, size_t max)
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
