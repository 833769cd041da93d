/*
 * A file's share key (ntfs.h, bsw_ntfs_file_key): what bsw_ntfs_read of a
 * file returns is a function of its stream's metadata (size, flags,
 * runlist, resident bytes), of the bytes its runs point to, and for a WOF
 * file of its reparse point and its WofCompressedData stream.  The key is
 * a hash of that metadata and of where each run's bytes come from (the
 * layer file and offset, bsw_src.origin), so two disks that read a file
 * from the same bytes of the same parent layer get the same key, and a
 * disk whose copy differs in one byte of metadata or one cluster's origin
 * gets another.  A byte that comes from nowhere shareable (the source has
 * no origin, zeros, memory) makes the file unshareable.
 *
 * The same idea keys a unit of MFT records for the records pass
 * (bsw_ntfs_recs_key, below).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack: no allocation per key */
#include <xxhash.h>

#include "formats/common/bytes.h"
#include "formats/common/vec.h"
#include "formats/ntfs/ntfs_internal.h"

struct keyer {
	XXH3_state_t *st;
	uint64_t tok; /* the first layer seen: the entry's owner */
	bool ok;
	/* non-NULL: every piece must come from a layer it shares */
	const struct bsw_ntfs_share *only;
};

static void put64(struct keyer *k, uint64_t x)
{
	XXH3_128bits_update(k->st, &x, sizeof(x));
}

/* Where [off, off+len) of the volume comes from, piece by piece. */
static int key_range(struct bsw_ntfs *v, struct keyer *k, uint64_t off, uint64_t len)
{
	unsigned guard = 0;

	while (len && k->ok) {
		uint64_t tok = 0, poff = 0;
		int64_t n = v->src->origin(v->src->ctx, off, len, &tok, &poff);

		if (n < 0)
			return (int)n;
		if (n == 0 || !tok || ++guard > (1u << 20) ||
		    (k->only && !k->only->shareable(k->only->ctx, tok))) {
			k->ok = false; /* past the end, unshareable, or too scattered */
			break;
		}
		if (!k->tok)
			k->tok = tok;
		put64(k, tok);
		put64(k, poff);
		put64(k, (uint64_t)n);
		off += (uint64_t)n;
		len -= (uint64_t)n > len ? len : (uint64_t)n;
	}
	return 0;
}

/* Where record rec lies in the volume (0: in no run of $MFT). */
static uint64_t rec_voff(const struct bsw_ntfs *v, uint64_t rec)
{
	uint64_t rs = v->bs.rec_size, cl = v->bs.cluster, vcn = rec * rs / cl;
	unsigned i;

	for (i = 0; i < v->mft_runs.nr; i++) {
		const struct bsw_ntfs_run *r = &v->mft_runs.r[i];

		if (vcn >= r->vcn && vcn - r->vcn < r->len && r->lcn != NTFS_LCN_HOLE)
			return (r->lcn + (vcn - r->vcn)) * cl + (rec * rs) % cl;
	}
	return 0;
}

/*
 * Stream descriptions kept by the origin of their record.  What
 * bsw_ntfs_load_stream finds (sizes, flags, resident bytes, runlist) is a
 * function of the record's bytes, of its number and of the volume's
 * geometry, unless pieces come through an $ATTRIBUTE_LIST from other
 * records: those are never kept.  Keying a family's files would otherwise
 * read every file's record again on every disk (20,000 reads of 1 KiB for
 * a realistic WinSxS).  The key, like bsw_ntfs_recs_key's, is a hash of
 * all that and of the origin of every byte of the record; it is kept only
 * when every byte comes from a layer the caller shares.
 */
#define STREAM_MAGIC 0x314d5453u /* "STM1", little-endian */
#define STREAM_HDR 40		 /* bytes before the resident bytes */
#define STREAM_RUN 24		 /* vcn, lcn, len */
#define STREAM_MAX_RES 65536u	 /* a resident value fits in a record */

/*
 * The kept form, little-endian (it is also what scan --cache writes):
 *	u32 magic, u32 runs, u32 resident length, u16 attribute flags,
 *	u8 resident, u8 compression unit shift, u64 size, alloc, init,
 *	the resident bytes, then per run u64 vcn, lcn, len.
 * Runs as bsw_ntfs_load_stream leaves them: sorted by vcn, not
 * overlapping, none empty.
 */
int bsw_ntfs_stream_kept_check(const uint8_t *p, size_t len)
{
	uint32_t nr, res, i;
	uint64_t next = 0;

	if (len < STREAM_HDR || get_le32(p) != STREAM_MAGIC)
		return -EINVAL;
	nr = get_le32(p + 4);
	res = get_le32(p + 8);
	if (nr > BSW_NTFS_MAX_RUNS || res > STREAM_MAX_RES || p[14] > 1 ||
	    len != STREAM_HDR + (size_t)res + (size_t)nr * STREAM_RUN || (p[14] && nr))
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		const uint8_t *r = p + STREAM_HDR + res + (size_t)i * STREAM_RUN;
		uint64_t vcn = get_le64(r), rl = get_le64(r + 16);

		if (vcn < next || !rl || rl > UINT64_MAX - vcn)
			return -EINVAL;
		next = vcn + rl;
	}
	return 0;
}

static int stream_key(struct bsw_ntfs *v, const struct bsw_ntfs_share *sh, uint64_t rec,
		      uint32_t type, const char *name, uint8_t key[16], uint64_t *tok)
{
	static const char tag[] = "bsw-ntfs-stream/1";
	uint64_t rs = v->bs.rec_size, off = rec_voff(v, rec);
	struct keyer k = { .ok = true, .only = sh };
	XXH3_state_t st;
	XXH128_hash_t h;

	*tok = 0;
	if (!off || rec < 16) /* the system files: read where the mirror may serve */
		return -ENOENT;
	XXH3_INITSTATE(&st);
	k.st = &st;
	XXH3_128bits_reset(k.st);
	XXH3_128bits_update(k.st, tag, sizeof(tag));
	put64(&k, rs);
	put64(&k, v->bs.cluster);
	put64(&k, v->bs.nr_clusters);
	put64(&k, rec);
	put64(&k, type);
	XXH3_128bits_update(k.st, name, strlen(name) + 1);
	if (key_range(v, &k, off, rs) < 0) /* the origin failed: not shared */
		k.ok = false;
	if (k.ok) {
		h = XXH3_128bits_digest(k.st);
		memcpy(key, &h.low64, 8);
		memcpy(key + 8, &h.high64, 8);
		*tok = k.tok;
	}
	return k.ok ? 0 : -ENOENT;
}

/* A kept description back into fs; -EINVAL if val is not one of ours. */
static int stream_unkeep(const struct bsw_ntfs *v, const uint8_t *val, size_t len, uint64_t rec,
			 uint32_t type, const char *name, struct ntfs_stream *fs)
{
	uint32_t nr, res, i;
	const uint8_t *rp;

	if (bsw_ntfs_stream_kept_check(val, len))
		return -EINVAL;
	nr = get_le32(val + 4);
	res = get_le32(val + 8);
	if (res > v->bs.rec_size)
		return -EINVAL;
	memset(fs, 0, sizeof(*fs));
	fs->rec = rec;
	fs->type = type;
	snprintf(fs->name, sizeof(fs->name), "%s", name);
	fs->aflags = get_le16(val + 12);
	fs->resident = val[14];
	fs->cu_shift = val[15];
	fs->size = get_le64(val + 16);
	fs->alloc = get_le64(val + 24);
	fs->init = get_le64(val + 32);
	if (fs->resident) {
		fs->res = malloc(res ? res : 1);
		if (!fs->res)
			return -ENOMEM;
		memcpy(fs->res, val + STREAM_HDR, res);
		fs->res_len = res;
	}
	if (nr) {
		fs->runs.r = malloc((size_t)nr * sizeof(*fs->runs.r));
		if (!fs->runs.r) {
			bsw_ntfs_stream_free(fs);
			return -ENOMEM;
		}
		rp = val + STREAM_HDR + res;
		for (i = 0; i < nr; i++, rp += STREAM_RUN)
			fs->runs.r[i] = (struct bsw_ntfs_run){ .vcn = get_le64(rp),
							       .lcn = get_le64(rp + 8),
							       .len = get_le64(rp + 16) };
		fs->runs.nr = fs->runs.alloc = nr;
	}
	fs->valid = true;
	return 0;
}

static void stream_keep(const struct bsw_ntfs_share *sh, uint64_t tok, const uint8_t key[16],
			const struct ntfs_stream *fs)
{
	size_t res = fs->resident ? fs->res_len : 0, nr = fs->resident ? 0 : fs->runs.nr, i;
	size_t len = STREAM_HDR + res + nr * STREAM_RUN;
	uint8_t *val, *rp;

	if (res > STREAM_MAX_RES || nr > BSW_NTFS_MAX_RUNS || !(val = malloc(len)))
		return;
	put_le32(val, STREAM_MAGIC);
	put_le32(val + 4, (uint32_t)nr);
	put_le32(val + 8, (uint32_t)res);
	put_le16(val + 12, fs->aflags);
	val[14] = fs->resident;
	val[15] = fs->cu_shift;
	put_le64(val + 16, fs->size);
	put_le64(val + 24, fs->alloc);
	put_le64(val + 32, fs->init);
	if (res)
		memcpy(val + STREAM_HDR, fs->res, res);
	for (i = 0, rp = val + STREAM_HDR + res; i < nr; i++, rp += STREAM_RUN) {
		put_le64(rp, fs->runs.r[i].vcn);
		put_le64(rp + 8, fs->runs.r[i].lcn);
		put_le64(rp + 16, fs->runs.r[i].len);
	}
	/* a form the check refuses is not kept (it would never be used) */
	if (bsw_ntfs_stream_kept_check(val, len)) {
		free(val);
		return;
	}
	sh->keep(sh->ctx, tok, key, val, len);
}

/* bsw_ntfs_load_stream, through sh's kept descriptions when it can. */
static int load_stream(struct bsw_ntfs *v, const struct bsw_ntfs_share *sh, uint64_t rec,
		       uint32_t type, const char *name, struct ntfs_stream *fs)
{
	const void *val;
	uint8_t key[16];
	uint64_t tok;
	size_t len;
	void *ref;
	int ret;

	if (!sh || stream_key(v, sh, rec, type, name, key, &tok))
		return bsw_ntfs_load_stream(v, rec, type, name, fs);
	ref = NULL;
	if (sh->get_copy) { /* most descriptions are a few runs: one lock */
		uint8_t buf[1024];
		int64_t n = sh->get_copy(sh->ctx, tok, key, buf, sizeof(buf));

		if (n > (int64_t)sizeof(buf))
			ref = sh->get(sh->ctx, tok, key, &val, &len);
		else if (n >= 0 &&
			 (ret = stream_unkeep(v, buf, (size_t)n, rec, type, name, fs)) != -EINVAL)
			return ret;
	} else {
		ref = sh->get(sh->ctx, tok, key, &val, &len);
	}
	if (ref) {
		ret = stream_unkeep(v, val, len, rec, type, name, fs);
		sh->put(sh->ctx, ref);
		if (ret != -EINVAL)
			return ret;
	}
	ret = bsw_ntfs_load_stream(v, rec, type, name, fs);
	if (!ret && !fs->ext && (!fs->resident || fs->res_len <= v->bs.rec_size))
		stream_keep(sh, tok, key, fs);
	return ret;
}

/* Metadata and run origins of one stream; -ENOENT if it does not exist. */
static int key_stream(struct bsw_ntfs *v, struct keyer *k, uint64_t rec, uint32_t type,
		      const char *name, const struct bsw_ntfs_share *sh)
{
	struct ntfs_stream fs;
	uint64_t cl = v->bs.cluster;
	unsigned i;
	int ret;

	ret = load_stream(v, sh, rec, type, name ? name : "", &fs);
	if (ret)
		return ret;
	put64(k, type);
	XXH3_128bits_update(k->st, fs.name, strlen(fs.name) + 1);
	put64(k, fs.size);
	put64(k, fs.alloc);
	put64(k, fs.init);
	put64(k, (uint64_t)fs.aflags << 8 | fs.cu_shift);
	put64(k, fs.resident);
	if (fs.resident) {
		put64(k, fs.res_len);
		if (fs.res_len)
			XXH3_128bits_update(k->st, fs.res, fs.res_len);
	} else {
		for (i = 0; i < fs.runs.nr && k->ok && !ret; i++) {
			const struct bsw_ntfs_run *r = &fs.runs.r[i];

			put64(k, r->vcn);
			put64(k, r->len);
			if (r->lcn == NTFS_LCN_HOLE) {
				put64(k, UINT64_MAX);
				continue;
			}
			if (r->lcn > UINT64_MAX / cl || r->len > UINT64_MAX / cl) {
				k->ok = false;
				break;
			}
			ret = key_range(v, k, r->lcn * cl, r->len * cl);
		}
	}
	bsw_ntfs_stream_free(&fs);
	return ret;
}

int bsw_ntfs_file_key(struct bsw_ntfs *v, uint64_t rec, const char *stream, uint8_t key[16],
		      uint64_t *tok, const struct bsw_ntfs_share *sh)
{
	struct keyer k = { .ok = true };
	XXH3_state_t st;
	XXH128_hash_t h;
	int ret;

	*tok = 0;
	memset(key, 0, 16);
	if (!v->src->origin)
		return 0;
	if (rec >= v->nr_recs || !(v->recs[rec].rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	XXH3_INITSTATE(&st);
	k.st = &st;
	XXH3_128bits_reset(k.st);
	put64(&k, v->bs.cluster);
	put64(&k, v->recs[rec].size);
	put64(&k, v->recs[rec].rflags);
	if (!stream && (v->recs[rec].rflags & BSW_NTFS_R_WOF)) {
		ret = key_stream(v, &k, rec, NTFS_AT_REPARSE, NULL, sh);
		if (!ret)
			ret = key_stream(v, &k, rec, NTFS_AT_DATA, "WofCompressedData", sh);
	} else {
		ret = key_stream(v, &k, rec, NTFS_AT_DATA, stream ? stream : "", sh);
	}
	/* a resident file's bytes are in the hash; its owner is the layer
	 * of its MFT record */
	if (!ret && k.ok && !k.tok) {
		uint64_t rs = v->bs.rec_size, voff = rec_voff(v, rec);

		if (voff) {
			struct keyer k2 = { .ok = true, .st = k.st };

			ret = key_range(v, &k2, voff, rs);
			k.tok = k2.tok;
			k.ok = k2.ok;
		} else {
			k.ok = false;
		}
	}
	if (!ret && k.ok && k.tok) {
		h = XXH3_128bits_digest(k.st);
		memcpy(key, &h.low64, 8);
		memcpy(key + 8, &h.high64, 8);
		*tok = k.tok;
	}
	return ret;
}

/*
 * The share key of MFT records [start, start+cnt) (ntfs_internal.h): what
 * the records pass makes of them (their summaries, names, issues and the
 * runlists it marks) is a function of their bytes, of where they sit
 * (their numbers) and of the volume's geometry (record size, and the
 * cluster count that bounds their runlists), so the key is a hash of
 * those and of the origin of every byte, piece by piece (layer token,
 * offset in the layer file, length).  Bytes past the volume's source, in
 * a hole of the $MFT runlist, from a token the caller does not share, or
 * records 0-3 when some come from $MFTMirr, make the unit unshareable.
 */
#define RECS_KEY_VERSION 1 /* the kept form's layout (ntfs_records.c) */
#define RECS_KEY_MAX_PIECES 8192u

struct recs_keyer {
	uint64_t *m; /* the key material */
	size_t nr, alloc;
	uint64_t last_ok; /* the last token found shareable */
};

static int recs_put(struct recs_keyer *k, uint64_t a, uint64_t b, uint64_t c)
{
	if (bsw_vec_reserve(&k->m, &k->alloc, k->nr + 3, sizeof(*k->m),
			    3 * (RECS_KEY_MAX_PIECES + 4)))
		return -1;
	k->m[k->nr++] = a;
	k->m[k->nr++] = b;
	k->m[k->nr++] = c;
	return 0;
}

/* Origins of [off, off+len) of the volume; 1 shareable, 0 not, -errno. */
static int recs_range(struct bsw_ntfs *v, struct recs_keyer *k, uint64_t off, uint64_t len,
		      uint64_t *owner)
{
	const struct bsw_ntfs_share *sh = v->o.share;

	if (off > v->src->size || len > v->src->size - off)
		return 0; /* the read fails: say so there, not here */
	while (len) {
		uint64_t tok = 0, poff = 0;
		int64_t n = v->src->origin(v->src->ctx, off, len, &tok, &poff);

		if (n < 0)
			return (int)n;
		if (n == 0 || !tok)
			return 0;
		if (tok != k->last_ok) {
			if (!sh->shareable(sh->ctx, tok))
				return 0;
			k->last_ok = tok;
		}
		if ((uint64_t)n > len)
			n = (int64_t)len;
		if (!*owner)
			*owner = tok;
		if (recs_put(k, tok, poff, (uint64_t)n))
			return 0; /* too scattered to be worth it */
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 1;
}

int bsw_ntfs_recs_key(struct bsw_ntfs *v, uint64_t start, uint64_t cnt, uint8_t key[16],
		      uint64_t *owner)
{
	uint64_t rs = v->bs.rec_size, cs = v->bs.cluster, off, end;
	struct recs_keyer k = { 0 };
	XXH128_hash_t h;
	int ret = 0, rr;

	*owner = 0;
	memset(key, 0, 16);
	if (!v->o.share || !v->src->origin || !cnt)
		return 0;
	if (start < 4 && v->mirr_use)
		return 0;
	if (!bsw_mul_ok(start, rs, &off) || !bsw_mul_ok(start + cnt, rs, &end))
		return 0;
	if (recs_put(&k, RECS_KEY_VERSION, rs, cs) || recs_put(&k, v->bs.nr_clusters, start, cnt))
		goto out;
	while (off < end) {
		uint64_t vcn = off / cs, in = off % cs, n, voff;
		long i = bsw_ntfs_run_find(&v->mft_runs, vcn);
		const struct bsw_ntfs_run *r;

		if (i < 0)
			goto out;
		r = &v->mft_runs.r[i];
		if (r->lcn == NTFS_LCN_HOLE || !bsw_mul_ok(r->vcn + r->len - vcn, cs, &n) ||
		    !bsw_mul_ok(r->lcn + (vcn - r->vcn), cs, &voff) || n <= in ||
		    voff > UINT64_MAX - in)
			goto out;
		n = BSW_MIN(n - in, end - off);
		rr = recs_range(v, &k, voff + in, n, owner);
		if (rr <= 0) {
			ret = rr;
			goto out;
		}
		off += n;
	}
	h = XXH3_128bits(k.m, k.nr * sizeof(*k.m));
	memcpy(key, &h.low64, 8);
	memcpy(key + 8, &h.high64, 8);
	ret = 1;
out:
	free(k.m);
	if (ret <= 0)
		*owner = 0;
	return ret;
}
