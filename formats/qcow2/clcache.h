/*
 * What the two sparse formats with compressed clusters (qcow2, VMDK) share:
 * the cache of their metadata tables, the inflate stream, and the cache of
 * decompressed clusters.
 *
 * The cluster cache (bsw_clcache) holds decompressed clusters (qcow2
 * compressed clusters, VMDK stream-optimized grains) that a container's
 * map can hand out as BSW_CEXT_MEM extents.
 *
 * Lifetime: scanner/disk.c maps up to 256 extents of a request before it
 * copies any of them, so a pointer handed out must survive the next 255
 * map calls.  The cache is least-recently-used with more slots than that
 * (BSW_CLCACHE_SLOTS), so a slot used in the current batch is never the
 * one evicted.  Slots are separate allocations with a gap, so two slots
 * are never adjacent in memory (disk.c merges MEM extents that are).
 * Slots are allocated on first use and charged to the layer's budget.
 */
#ifndef BSW_CLCACHE_H
#define BSW_CLCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "formats/common/budget.h"
#include "formats/common/src.h"

/*
 * Metadata tables (qcow2 L2 tables, VMDK grain tables) read whole from the
 * file and kept least-recently-used in a few slots.  Slots are allocated
 * on first use; the caller charges slots * bytes to its budget at open.
 * A zeroed struct may be freed.
 */
#define BSW_TBLCACHE_SLOTS 32

struct bsw_tblcache {
	const struct bsw_src *src;
	size_t bytes;	/* one table */
	unsigned slots; /* used of BSW_TBLCACHE_SLOTS */
	uint64_t clock;
	uint8_t *buf[BSW_TBLCACHE_SLOTS];
	uint64_t off[BSW_TBLCACHE_SLOTS];  /* file offset of the table held */
	uint64_t used[BSW_TBLCACHE_SLOTS]; /* clock at last use; 0 = none held */
};

void bsw_tblcache_init(struct bsw_tblcache *t, const struct bsw_src *src, unsigned slots,
		       size_t bytes);
/*
 * The table at file offset off, read on a miss into an empty or the least
 * recently used slot: 0 and *out (valid until the next call), or -errno.
 */
int bsw_tblcache_get(struct bsw_tblcache *t, uint64_t off, const uint8_t **out);
void bsw_tblcache_free(struct bsw_tblcache *t);

/* A zlib inflate stream made on first use and reset for each cluster. */
struct bsw_inflate {
	z_stream zs;
	bool ready;
};

/*
 * Start inflating in_len bytes at in into out_len bytes at out; wbits as
 * zlib's inflateInit2 (15: zlib header, -15: raw deflate).  The caller
 * then calls inflate(&z->zs, ...).  0, -ENOMEM or -EIO.
 */
int bsw_inflate_start(struct bsw_inflate *z, int wbits, const uint8_t *in, size_t in_len,
		      uint8_t *out, size_t out_len);
/* Free the stream; a zeroed or never-started one is fine. */
void bsw_inflate_end(struct bsw_inflate *z);

#define BSW_CLCACHE_SLOTS 320
#define BSW_CLCACHE_BATCH 256 /* MAP_BATCH in scanner/disk.c */

struct bsw_clcache {
	uint32_t unit; /* bytes in one slot */
	unsigned nr;   /* slots allocated */
	uint64_t clock;
	struct bsw_budget *mem;
	uint8_t *buf[BSW_CLCACHE_SLOTS];
	uint64_t key[BSW_CLCACHE_SLOTS];
	uint64_t used[BSW_CLCACHE_SLOTS]; /* clock at last use; 0 = empty */
};

void bsw_clcache_init(struct bsw_clcache *c, uint32_t unit, struct bsw_budget *mem);

/* The slot holding key (marked used), or NULL. */
uint8_t *bsw_clcache_get(struct bsw_clcache *c, uint64_t key);

/*
 * A slot to fill for key (a new one, or the least recently used); NULL
 * with *rc = -ENOMEM or -EFBIG (budget).  If the fill fails, call
 * bsw_clcache_drop() so the slot is not found under key.
 */
uint8_t *bsw_clcache_put(struct bsw_clcache *c, uint64_t key, int *rc);
void bsw_clcache_drop(struct bsw_clcache *c, uint64_t key);

/* Free every slot and return its charge. */
void bsw_clcache_free(struct bsw_clcache *c);

#endif /* BSW_CLCACHE_H */
