/*
 * Parsed $MFT records shared across the disks of a sweep (docs/sharing.md,
 * "MFT records"): the NTFS reader's share callbacks (formats/ntfs/ntfs.h,
 * struct bsw_ntfs_share) over the sweep's cache (scanner/share.h, kind
 * BSW_SHARE_MFT).  A layer is worth keeping records for when some disk
 * of the sweep reads it as a parent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/checks/triage.h"
#include "scanner/pcache.h"
#include "scanner/share.h"

static bool mft_shareable(void *ctx, uint64_t tok)
{
	return bsw_share_is_parent(tok);
}

static void *mft_get(void *ctx, uint64_t tok, const uint8_t key[16], const void **val, size_t *len)
{
	struct bsw_share_ent *e = bsw_share_get(tok, BSW_SHARE_MFT, key, 16);

	if (e)
		*val = bsw_share_val(e, len);
	return e;
}

static int64_t mft_get_copy(void *ctx, uint64_t tok, const uint8_t key[16], void *out, size_t len)
{
	return bsw_share_get_copy(tok, BSW_SHARE_MFT, key, 16, out, len);
}

static void mft_put(void *ctx, void *ref)
{
	bsw_share_unref(ref);
}

static void mft_keep(void *ctx, uint64_t tok, const uint8_t key[16], void *val, size_t len)
{
	/* handed over: the cache frees it when it evicts it; refused, here */
	if (!bsw_share_insert(tok, BSW_SHARE_MFT, key, 16, val, len, free, NULL))
		free(val);
}

static const struct bsw_ntfs_share mft_share = {
	.shareable = mft_shareable,
	.get = mft_get,
	.put = mft_put,
	.keep = mft_keep,
	.get_copy = mft_get_copy,
};

const struct bsw_ntfs_share *bsw_tctx_mft_share(const struct bsw_tctx *t)
{
	/* the rule of bsw_tctx_share_key: a layer of this disk is a parent
	 * (sharing on, no --no-share), and the running stage declares it */
	if (!t->can_share || !t->stage || !(t->stage->share & (1u << BSW_SHARE_MFT)))
		return NULL;
	return &mft_share;
}

const struct bsw_ntfs_share *bsw_tctx_rec_share(const struct bsw_tctx *t)
{
	return t->can_share ? &mft_share : NULL;
}

/*
 * Across runs (scan --cache, pcache.h): a kept form as the NTFS reader's
 * portable bytes (bsw_ntfs_kept_export), read back through its checks
 * (bsw_ntfs_kept_import: the bytes are hostile).
 */
static void mft_save(const void *val, size_t vlen, struct bsw_pc_buf *b)
{
	uint8_t *out;
	size_t olen;

	/* a file record's stream description is portable as it is */
	if (!bsw_ntfs_stream_kept_check(val, vlen)) {
		bsw_pc_put(b, val, vlen);
		return;
	}
	if (bsw_ntfs_kept_export(val, vlen, &out, &olen)) {
		b->err = true; /* not kept across runs */
		return;
	}
	bsw_pc_put(b, out, olen);
	free(out);
}

static int mft_load(struct bsw_pc_rd *r, void **val, size_t *vlen, void (**free_fn)(void *))
{
	size_t n = (size_t)(r->end - r->p);
	const uint8_t *p = bsw_pc_get(r, n);

	if (!p)
		return -EINVAL;
	if (!bsw_ntfs_stream_kept_check(p, n)) {
		*val = malloc(n);
		if (!*val)
			return -ENOMEM;
		memcpy(*val, p, n);
		*vlen = n;
	} else if (bsw_ntfs_kept_import(p, n, val, vlen)) {
		return -EINVAL;
	}
	*free_fn = free;
	return 0;
}

void bsw_tctx_share_codecs(void)
{
	static const struct bsw_share_codec mft = { mft_save, mft_load };

	bsw_pcache_codec(BSW_SHARE_MFT, &mft);
	bsw_sxs_share_codecs();
}
