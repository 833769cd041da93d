/*
 * The sweep's shared results (share.h): one hash table of entries keyed by
 * (layer, kind, key), each entry also on its layer's list so that a layer
 * is evicted whole, and a table of layers with their last use.  One mutex:
 * a lookup is a hash and a compare, far below the cost of the read it
 * saves.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "formats/common/vec.h"
#include "scanner/share.h"

#define SHARE_MAX_LAYERS (1u << 20)
#define SHARE_MAX_KEY 4096u

struct bsw_share_ent {
	struct bsw_share_ent *hnext; /* hash chain */
	struct bsw_share_ent *lnext; /* its layer's list */
	uint64_t layer;
	uint64_t h;
	enum bsw_share_kind kind;
	size_t klen, vlen, cost;
	void *val;
	void (*free_fn)(void *);
	unsigned refs;
	bool dead; /* evicted while referenced */
	uint8_t key[];
};

struct layer {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	uint8_t id[16];
	uint64_t last_use;
	uint64_t bytes;
	bool parent; /* some disk of the sweep reads it as a parent */
	struct bsw_share_ent *ents;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t cap; /* 0: off */
static struct bsw_share_ent **tab;
static size_t tab_size, nr_ents;
static struct layer *layers;
static size_t nr_layers, alloc_layers;
static uint64_t clock_use;
static struct bsw_share_stats st;

static void ent_free(struct bsw_share_ent *e)
{
	if (e->free_fn)
		e->free_fn(e->val);
	else
		free(e->val);
	free(e);
}

void bsw_share_init(uint64_t bytes)
{
	pthread_mutex_lock(&lock);
	cap = bytes;
	st.cap = bytes;
	pthread_mutex_unlock(&lock);
}

bool bsw_share_enabled(void)
{
	bool on;

	pthread_mutex_lock(&lock);
	on = cap != 0;
	pthread_mutex_unlock(&lock);
	return on;
}

void bsw_share_fini(void)
{
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < tab_size; i++) {
		struct bsw_share_ent *e = tab[i], *n;

		for (; e; e = n) {
			n = e->hnext;
			ent_free(e); /* references must be gone by now */
		}
	}
	free(tab);
	tab = NULL;
	tab_size = nr_ents = 0;
	free(layers);
	layers = NULL;
	nr_layers = alloc_layers = 0;
	cap = 0;
	st.bytes = 0;
	pthread_mutex_unlock(&lock);
}

uint64_t bsw_share_layer(uint64_t dev, uint64_t ino, uint64_t size, int64_t mtime_ns,
			 const uint8_t id[16])
{
	static const uint8_t zero[16];
	uint64_t tok = 0;
	size_t i;

	if (!id)
		id = zero;
	pthread_mutex_lock(&lock);
	/* a sweep has as many layers as files; a linear search over
	 * thousands is still cheap next to opening the file */
	for (i = 0; i < nr_layers; i++) {
		const struct layer *l = &layers[i];

		if (l->dev == dev && l->ino == ino && l->size == size && l->mtime_ns == mtime_ns &&
		    !memcmp(l->id, id, 16)) {
			tok = i + 1;
			goto out;
		}
	}
	if (!bsw_vec_reserve(&layers, &alloc_layers, nr_layers + 1, sizeof(*layers),
			     SHARE_MAX_LAYERS)) {
		struct layer *l = &layers[nr_layers++];

		memset(l, 0, sizeof(*l));
		l->dev = dev;
		l->ino = ino;
		l->size = size;
		l->mtime_ns = mtime_ns;
		memcpy(l->id, id, 16);
		tok = nr_layers;
		st.layers = nr_layers;
	}
out:
	pthread_mutex_unlock(&lock);
	return tok;
}

void bsw_share_set_parent(uint64_t tok)
{
	pthread_mutex_lock(&lock);
	if (tok && tok <= nr_layers)
		layers[tok - 1].parent = true;
	pthread_mutex_unlock(&lock);
}

bool bsw_share_is_parent(uint64_t tok)
{
	bool p = false;

	pthread_mutex_lock(&lock);
	if (cap && tok && tok <= nr_layers)
		p = layers[tok - 1].parent;
	pthread_mutex_unlock(&lock);
	return p;
}

static uint64_t key_hash(uint64_t layer, enum bsw_share_kind kind, const void *key, size_t klen)
{
	return XXH3_64bits_withSeed(key, klen, layer * 0x9E3779B97F4A7C15ull ^ (uint64_t)kind);
}

static struct bsw_share_ent *find(uint64_t layer, enum bsw_share_kind kind, const void *key,
				  size_t klen, uint64_t h)
{
	struct bsw_share_ent *e;

	if (!tab_size)
		return NULL;
	for (e = tab[h & (tab_size - 1)]; e; e = e->hnext)
		if (e->h == h && e->layer == layer && e->kind == kind && e->klen == klen &&
		    !memcmp(e->key, key, klen))
			return e;
	return NULL;
}

struct bsw_share_ent *bsw_share_get(uint64_t layer, enum bsw_share_kind kind, const void *key,
				    size_t klen)
{
	struct bsw_share_ent *e;
	uint64_t h;

	if (!layer || layer > SHARE_MAX_LAYERS || klen > SHARE_MAX_KEY)
		return NULL;
	h = key_hash(layer, kind, key, klen);
	pthread_mutex_lock(&lock);
	if (!cap) {
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	e = find(layer, kind, key, klen, h);
	if (e) {
		e->refs++;
		st.hits++;
		if (layer <= nr_layers)
			layers[layer - 1].last_use = ++clock_use;
	} else {
		st.misses++;
	}
	pthread_mutex_unlock(&lock);
	return e;
}

const void *bsw_share_val(const struct bsw_share_ent *e, size_t *len)
{
	if (len)
		*len = e->vlen;
	return e->val;
}

void bsw_share_unref(struct bsw_share_ent *e)
{
	bool gone;

	if (!e)
		return;
	pthread_mutex_lock(&lock);
	gone = !--e->refs && e->dead;
	pthread_mutex_unlock(&lock);
	if (gone)
		ent_free(e);
}

static void unlink_hash(struct bsw_share_ent *e)
{
	struct bsw_share_ent **pp = &tab[e->h & (tab_size - 1)];

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			nr_ents--;
			return;
		}
}

/* Evict the least recently used layer other than keep; false if none. */
static bool evict_one(uint64_t keep)
{
	struct bsw_share_ent *e, *n;
	struct layer *victim = NULL;
	size_t i;

	for (i = 0; i < nr_layers; i++) {
		struct layer *l = &layers[i];

		if (!l->ents || i + 1 == keep)
			continue;
		if (!victim || l->last_use < victim->last_use)
			victim = l;
	}
	if (!victim)
		return false;
	for (e = victim->ents; e; e = n) {
		n = e->lnext;
		unlink_hash(e);
		st.bytes -= e->cost;
		if (e->refs)
			e->dead = true;
		else
			ent_free(e);
	}
	victim->ents = NULL;
	victim->bytes = 0;
	st.evictions++;
	return true;
}

static int grow_table(void)
{
	size_t nsize = tab_size ? tab_size * 2 : 1024, i;
	struct bsw_share_ent **nt = calloc(nsize, sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	for (i = 0; i < tab_size; i++) {
		struct bsw_share_ent *e = tab[i], *n;

		for (; e; e = n) {
			n = e->hnext;
			e->hnext = nt[e->h & (nsize - 1)];
			nt[e->h & (nsize - 1)] = e;
		}
	}
	free(tab);
	tab = nt;
	tab_size = nsize;
	return 0;
}

bool bsw_share_insert(uint64_t layer, enum bsw_share_kind kind, const void *key, size_t klen,
		      void *val, size_t vlen, void (*free_fn)(void *), struct bsw_share_ent **ref)
{
	struct bsw_share_ent *e;
	size_t cost = sizeof(*e) + klen + vlen;
	struct layer *l;
	bool kept = false;
	uint64_t h;

	if (ref)
		*ref = NULL;
	if (!layer || layer > SHARE_MAX_LAYERS || klen > SHARE_MAX_KEY)
		return false;
	h = key_hash(layer, kind, key, klen);
	e = malloc(sizeof(*e) + klen);
	if (!e)
		return false;
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, klen);
	e->layer = layer;
	e->kind = kind;
	e->klen = klen;
	e->h = h;
	e->vlen = vlen;
	e->cost = cost;
	e->free_fn = free_fn;
	if (free_fn) {
		e->val = val;
	} else {
		e->val = malloc(vlen ? vlen : 1);
		if (!e->val) {
			free(e);
			return false;
		}
		memcpy(e->val, val, vlen);
	}
	pthread_mutex_lock(&lock);
	if (!cap || cost > cap || layer > nr_layers || find(layer, kind, key, klen, h))
		goto unlock;
	while (st.bytes + cost > cap)
		if (!evict_one(layer))
			break;
	if (st.bytes + cost > cap)
		goto unlock;
	if (nr_ents + 1 > tab_size && grow_table())
		goto unlock;
	l = &layers[layer - 1];
	e->hnext = tab[h & (tab_size - 1)];
	tab[h & (tab_size - 1)] = e;
	e->lnext = l->ents;
	l->ents = e;
	l->bytes += cost;
	l->last_use = ++clock_use;
	nr_ents++;
	st.bytes += cost;
	if (st.bytes > st.peak)
		st.peak = st.bytes;
	st.inserts++;
	kept = true;
	if (ref) {
		e->refs++;
		*ref = e;
	}
unlock:
	pthread_mutex_unlock(&lock);
	if (!kept) {
		if (free_fn)
			free(e); /* val stays the caller's */
		else
			ent_free(e);
	}
	return kept;
}

void bsw_share_stats(struct bsw_share_stats *s)
{
	pthread_mutex_lock(&lock);
	*s = st;
	pthread_mutex_unlock(&lock);
}
