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
 */
#include <errno.h>
#include <string.h>

#include <xxhash.h>

#include "formats/ntfs/ntfs_internal.h"

struct keyer {
	XXH3_state_t *st;
	uint64_t tok;		/* the first layer seen: the entry's owner */
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
			k->ok = false;	/* past the end, unshareable, or too scattered */
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
static int key_stream(struct bsw_ntfs *v, struct keyer *k, uint64_t rec,
		      uint32_t type, const char *name)
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

int bsw_ntfs_file_key(struct bsw_ntfs *v, uint64_t rec, const char *stream,
		      uint8_t key[16], uint64_t *tok)
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
