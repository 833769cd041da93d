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

#include <xxhash.h>

#include "formats/common/bytes.h"
#include "formats/common/vec.h"
#include "formats/ntfs/ntfs_internal.h"

struct keyer {
	XXH3_state_t *st;
	uint64_t tok; /* the first layer seen: the entry's owner */
	bool ok;
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
		if (n == 0 || !tok || ++guard > (1u << 20)) {
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

/* Metadata and run origins of one stream; -ENOENT if it does not exist. */
static int key_stream(struct bsw_ntfs *v, struct keyer *k, uint64_t rec, uint32_t type,
		      const char *name)
{
	struct ntfs_stream fs;
	uint64_t cl = v->bs.cluster;
	unsigned i;
	int ret;

	ret = bsw_ntfs_load_stream(v, rec, type, name, &fs);
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
		      uint64_t *tok)
{
	struct keyer k = { .ok = true };
	XXH128_hash_t h;
	int ret;

	*tok = 0;
	memset(key, 0, 16);
	if (!v->src->origin)
		return 0;
	if (rec >= v->nr_recs || !(v->recs[rec].rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	k.st = XXH3_createState();
	if (!k.st)
		return -ENOMEM;
	XXH3_128bits_reset(k.st);
	put64(&k, v->bs.cluster);
	put64(&k, v->recs[rec].size);
	put64(&k, v->recs[rec].rflags);
	if (!stream && (v->recs[rec].rflags & BSW_NTFS_R_WOF)) {
		ret = key_stream(v, &k, rec, NTFS_AT_REPARSE, NULL);
		if (!ret)
			ret = key_stream(v, &k, rec, NTFS_AT_DATA, "WofCompressedData");
	} else {
		ret = key_stream(v, &k, rec, NTFS_AT_DATA, stream ? stream : "");
	}
	/* a resident file's bytes are in the hash; its owner is the layer
	 * of its MFT record */
	if (!ret && k.ok && !k.tok) {
		uint64_t rs = v->bs.rec_size, voff = 0;
		unsigned i;

		for (i = 0; i < v->mft_runs.nr; i++) {
			const struct bsw_ntfs_run *r = &v->mft_runs.r[i];
			uint64_t cl = v->bs.cluster, vcn = rec * rs / cl;

			if (vcn >= r->vcn && vcn - r->vcn < r->len && r->lcn != NTFS_LCN_HOLE) {
				voff = (r->lcn + (vcn - r->vcn)) * cl + (rec * rs) % cl;
				break;
			}
		}
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
	XXH3_freeState(k.st);
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
