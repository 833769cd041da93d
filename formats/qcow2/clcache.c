/* The caches and the inflate stream shared by qcow2 and VMDK (clcache.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- metadata tables ---- */

void bsw_tblcache_init(struct bsw_tblcache *t, const struct bsw_src *src, unsigned slots,
		       size_t bytes)
{
	t->src = src;
	t->bytes = bytes;
	t->slots = slots < BSW_TBLCACHE_SLOTS ? slots : BSW_TBLCACHE_SLOTS;
	t->clock = 0;
}

int bsw_tblcache_get(struct bsw_tblcache *t, uint64_t off, const uint8_t **out)
{
	unsigned v = 0;
	int rc;

	for (unsigned i = 0; i < t->slots; i++) {
		if (t->buf[i] && t->used[i] && t->off[i] == off) {
			t->used[i] = ++t->clock;
			*out = t->buf[i];
			return 0;
		}
		/* an empty slot first, else the least recently used */
		if (t->buf[v] && (!t->buf[i] || t->used[i] < t->used[v]))
			v = i;
	}
	if (!t->buf[v]) {
		t->buf[v] = malloc(t->bytes); /* charged by the caller */
		if (!t->buf[v])
			return -ENOMEM;
	}
	/* a failed read leaves the slot holding nothing */
	t->used[v] = 0;
	rc = bsw_src_read_full(t->src, t->buf[v], t->bytes, off);
	if (rc)
		return rc;
	t->off[v] = off;
	t->used[v] = ++t->clock;
	*out = t->buf[v];
	return 0;
}

void bsw_tblcache_free(struct bsw_tblcache *t)
{
	for (unsigned i = 0; i < BSW_TBLCACHE_SLOTS; i++) {
		free(t->buf[i]);
		t->buf[i] = NULL;
		t->used[i] = 0;
	}
}

/* ---- inflate ---- */

int bsw_inflate_start(struct bsw_inflate *z, int wbits, const uint8_t *in, size_t in_len,
		      uint8_t *out, size_t out_len)
{
	if (!z->ready) {
		memset(&z->zs, 0, sizeof(z->zs));
		if (inflateInit2(&z->zs, wbits) != Z_OK)
			return -ENOMEM;
		z->ready = true;
	} else if (inflateReset(&z->zs) != Z_OK) {
		return -EIO;
	}
	z->zs.next_in = (Bytef *)in;
	z->zs.avail_in = (uInt)in_len;
	z->zs.next_out = out;
	z->zs.avail_out = (uInt)out_len;
	return 0;
}

void bsw_inflate_end(struct bsw_inflate *z)
{
	if (z->ready)
		inflateEnd(&z->zs);
	z->ready = false;
}
