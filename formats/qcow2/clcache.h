/*
 * A cache of decompressed clusters (qcow2 compressed clusters, VMDK
 * stream-optimized grains) that a container's map can hand out as
 * BSW_CEXT_MEM extents.
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

#include <stdint.h>

#include "formats/common/budget.h"

#define BSW_CLCACHE_SLOTS 320
#define BSW_CLCACHE_BATCH 256	/* MAP_BATCH in scanner/disk.c */

struct bsw_clcache {
	uint32_t unit;			/* bytes in one slot */
	unsigned nr;			/* slots allocated */
	uint64_t clock;
	struct bsw_budget *mem;
	uint8_t *buf[BSW_CLCACHE_SLOTS];
	uint64_t key[BSW_CLCACHE_SLOTS];
	uint64_t used[BSW_CLCACHE_SLOTS];	/* clock at last use; 0 = empty */
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
