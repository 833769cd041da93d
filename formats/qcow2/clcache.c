/* The decompressed-cluster cache shared by qcow2 and VMDK (clcache.h). */
#include <errno.h>
#include <stdlib.h>

#include "formats/qcow2/clcache.h"

/* Bytes after each slot so that no two slots touch (see clcache.h). */
#define CLCACHE_GAP 64

void bsw_clcache_init(struct bsw_clcache *c, uint32_t unit, struct bsw_budget *mem)
{
	c->unit = unit;
	c->nr = 0;
	c->clock = 0;
	c->mem = mem;
}

uint8_t *bsw_clcache_get(struct bsw_clcache *c, uint64_t key)
{
	for (unsigned i = 0; i < c->nr; i++)
		if (c->used[i] && c->key[i] == key) {
			c->used[i] = ++c->clock;
			return c->buf[i];
		}
	return NULL;
}

uint8_t *bsw_clcache_put(struct bsw_clcache *c, uint64_t key, int *rc)
{
	unsigned v = 0;

	if (c->nr < BSW_CLCACHE_SLOTS) {
		uint64_t need = (uint64_t)c->unit + CLCACHE_GAP;

		if (!bsw_budget_take(c->mem, need)) {
			/*
			 * Evicting is safe only with more slots than one batch
			 * of extents can hold pointers to.
			 */
			if (c->nr < BSW_CLCACHE_BATCH + 1) {
				*rc = -EFBIG;
				return NULL;
			}
			goto evict;
		}
		c->buf[c->nr] = malloc(need);
		if (!c->buf[c->nr]) {
			bsw_budget_give(c->mem, need);
			*rc = -ENOMEM;
			return NULL;
		}
		v = c->nr++;
		goto fill;
	}
evict:
	for (unsigned i = 1; i < c->nr; i++)
		if (c->used[i] < c->used[v])
			v = i;
fill:
	c->key[v] = key;
	c->used[v] = ++c->clock;
	return c->buf[v];
}

void bsw_clcache_drop(struct bsw_clcache *c, uint64_t key)
{
	for (unsigned i = 0; i < c->nr; i++)
		if (c->used[i] && c->key[i] == key)
			c->used[i] = 0;
}

void bsw_clcache_free(struct bsw_clcache *c)
{
	for (unsigned i = 0; i < c->nr; i++) {
		free(c->buf[i]);
		bsw_budget_give(c->mem, (uint64_t)c->unit + CLCACHE_GAP);
	}
	c->nr = 0;
}
