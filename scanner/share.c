/*
 * The sweep's shared results (share.h): one hash table of entries keyed by
 * (layer, kind, key), each entry also on its layer's list so that a layer
 * is evicted whole, and a table of layers with their last use.  One mutex:
 * a lookup is a hash and a compare, far below the cost of the read it
 * saves.  It is adaptive (spins a little before sleeping): the workers
 * take it tens of thousands of times per disk for a few hundred
 * nanoseconds each, and a futex sleep and wake-up for every collision
 * cost more than the lookups (a 61-disk sweep at -j2 made 1.2 million
 * futex calls with a plain mutex; 40,000-70,000 with this one adaptive,
 * the digest and memory locks too, and the parent memo below).
 *
 * With scan --cache (pcache.h), a parent layer's kept results are read
 * from its file the first time a disk looks one up, and the results of
 * every layer that gained some are written back when the sweep ends or
 * the layer is evicted.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "formats/common/vec.h"
#include "scanner/pcache.h"
#include "scanner/share.h"

#define SHARE_MAX_LAYERS (1u << 20)
#define SHARE_MAX_KEY 4096u
#define TOKEN_SEED 0x6273776c61796572ull /* "bswlayer" */

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
	bool dead;  /* evicted while referenced */
	bool disk;  /* read from the layer's file (--cache) */
	bool check; /* --verify-cache: recompute before the first use */
	uint8_t key[];
};

enum {
	PC_UNREAD,
	PC_READING,
	PC_READ
}; /* the layer's file (--cache) */

struct layer {
	uint64_t tok;
	struct bsw_pc_id id; /* dev, ino, size, mtime (ns), container id */
	uint64_t last_use;
	uint64_t bytes;
	bool parent; /* some disk of the sweep reads it as a parent */
	bool dirty;  /* holds results its file does not (--cache) */
	int pc;
	struct bsw_share_ent *ents;
};

static pthread_mutex_t lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static uint64_t cap; /* 0: off */
static struct bsw_share_ent **tab;
static size_t tab_size, nr_ents;
static struct layer *layers;
static size_t nr_layers, alloc_layers;
static uint32_t *by_tok; /* open addressing: index + 1 of a layer, 0 free */
static size_t by_tok_size;
static pthread_cond_t pc_cond = PTHREAD_COND_INITIALIZER;
static uint64_t clock_use;
static struct bsw_share_stats st;
/* bumped by bsw_share_init and _fini: what a thread remembers is stale */
static _Atomic uint64_t generation = 1;

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
	atomic_fetch_add_explicit(&generation, 1, memory_order_release);
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
	free(by_tok);
	by_tok = NULL;
	by_tok_size = 0;
	cap = 0;
	st.bytes = 0;
	atomic_fetch_add_explicit(&generation, 1, memory_order_release);
	pthread_mutex_unlock(&lock);
	bsw_pcache_close();
}

/* The layer of token tok, or NULL (under the lock). */
static struct layer *layer_of(uint64_t tok)
{
	size_t i;

	if (!tok || !by_tok_size)
		return NULL;
	for (i = tok & (by_tok_size - 1); by_tok[i]; i = (i + 1) & (by_tok_size - 1))
		if (layers[by_tok[i] - 1].tok == tok)
			return &layers[by_tok[i] - 1];
	return NULL;
}

static int index_grow(void)
{
	size_t n = by_tok_size ? by_tok_size * 2 : 256, i, j;
	uint32_t *t = calloc(n, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (i = 0; i < nr_layers; i++) {
		for (j = layers[i].tok & (n - 1); t[j]; j = (j + 1) & (n - 1))
			;
		t[j] = (uint32_t)(i + 1);
	}
	free(by_tok);
	by_tok = t;
	by_tok_size = n;
	return 0;
}

/*
 * A token is a hash of the identity, not a counter, because keys hold the
 * tokens of the layers their bytes come from (bsw_ntfs_file_key): a key
 * kept across runs (--cache) must mean the same bytes in the next sweep.
 */
static uint64_t token_of(const struct bsw_pc_id *id)
{
	uint8_t b[48];
	unsigned i;
	uint64_t h;

	for (i = 0; i < 8; i++) {
		b[i] = (uint8_t)(id->dev >> (8 * i));
		b[8 + i] = (uint8_t)(id->ino >> (8 * i));
		b[16 + i] = (uint8_t)(id->size >> (8 * i));
		b[24 + i] = (uint8_t)((uint64_t)id->mtime_ns >> (8 * i));
	}
	memcpy(b + 32, id->id, 16);
	h = XXH3_64bits_withSeed(b, sizeof(b), TOKEN_SEED);
	return h ? h : 1;
}

uint64_t bsw_share_layer(uint64_t dev, uint64_t ino, uint64_t size, int64_t mtime_ns,
			 const uint8_t id[16])
{
	struct bsw_pc_id want = { .dev = dev, .ino = ino, .size = size, .mtime_ns = mtime_ns };
	struct layer *l;
	uint64_t tok;

	if (id)
		memcpy(want.id, id, 16);
	tok = token_of(&want);
	pthread_mutex_lock(&lock);
	l = layer_of(tok);
	if (l) {
		/* two identities, one hash: the second is never shared */
		if (memcmp(&l->id, &want, sizeof(want)))
			tok = 0;
		goto out;
	}
	if ((nr_layers + 1) * 2 > by_tok_size && index_grow()) {
		tok = 0;
		goto out;
	}
	if (bsw_vec_reserve(&layers, &alloc_layers, nr_layers + 1, sizeof(*layers),
			    SHARE_MAX_LAYERS)) {
		tok = 0;
		goto out;
	}
	l = &layers[nr_layers++];
	memset(l, 0, sizeof(*l));
	l->tok = tok;
	l->id = want;
	st.layers = nr_layers;
	/* the index has room: it was grown above */
	{
		size_t i;

		for (i = tok & (by_tok_size - 1); by_tok[i]; i = (i + 1) & (by_tok_size - 1))
			;
		by_tok[i] = (uint32_t)nr_layers;
	}
out:
	pthread_mutex_unlock(&lock);
	return tok;
}

void bsw_share_set_parent(uint64_t tok)
{
	struct layer *l;

	pthread_mutex_lock(&lock);
	l = layer_of(tok);
	if (l)
		l->parent = true;
	pthread_mutex_unlock(&lock);
}

/*
 * Keying a child's files asks whether a layer is a parent for every piece
 * of every file: tens of thousands of times per disk, from every worker.
 * A layer once a parent stays one until the sweep ends (bsw_share_fini
 * starts a new generation), so each thread remembers the last parents it
 * was told of and asks under the lock only for the others.
 */
#define PARENT_MEMO 4

static __thread struct {
	uint64_t gen;
	uint64_t tok[PARENT_MEMO];
	unsigned next;
} memo;

bool bsw_share_is_parent(uint64_t tok)
{
	uint64_t gen = atomic_load_explicit(&generation, memory_order_acquire);
	struct layer *l;
	bool p = false;
	unsigned i;

	if (tok && memo.gen == gen)
		for (i = 0; i < PARENT_MEMO; i++)
			if (memo.tok[i] == tok)
				return true;
	pthread_mutex_lock(&lock);
	l = layer_of(tok);
	if (cap && l)
		p = l->parent;
	pthread_mutex_unlock(&lock);
	if (p) {
		if (memo.gen != gen) {
			memset(&memo, 0, sizeof(memo));
			memo.gen = gen;
		}
		memo.tok[memo.next++ % PARENT_MEMO] = tok;
	}
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

static void read_layer_file(uint64_t tok);

/* The entry under (layer, kind, key), counted as a hit or a miss; lock held. */
static struct bsw_share_ent *get_locked(uint64_t layer, enum bsw_share_kind kind, const void *key,
					size_t klen, uint64_t h)
{
	struct bsw_share_ent *e;
	struct layer *l;

	if (!cap)
		return NULL;
	l = layer_of(layer);
	/*
	 * --cache: the layer's file is read once, by the first disk that
	 * looks something up in it; the others wait for it rather than
	 * compute what it is about to bring.
	 */
	if (l && l->parent && l->pc == PC_UNREAD && bsw_pcache_on()) {
		l->pc = PC_READING;
		pthread_mutex_unlock(&lock);
		read_layer_file(layer);
		pthread_mutex_lock(&lock);
		l = layer_of(layer);
		l->pc = PC_READ;
		pthread_cond_broadcast(&pc_cond);
	}
	while (l && l->pc == PC_READING) {
		pthread_cond_wait(&pc_cond, &lock);
		l = layer_of(layer);
	}
	e = find(layer, kind, key, klen, h);
	/* --verify-cache: a sampled entry read from a file is a miss until
	 * the caller recomputes it and bsw_share_insert compares */
	if (e && e->check)
		e = NULL;
	if (e) {
		st.hits++;
		if (l)
			l->last_use = ++clock_use;
	} else {
		st.misses++;
	}
	return e;
}

struct bsw_share_ent *bsw_share_get(uint64_t layer, enum bsw_share_kind kind, const void *key,
				    size_t klen)
{
	struct bsw_share_ent *e;
	uint64_t h;

	if (!layer || klen > SHARE_MAX_KEY)
		return NULL;
	h = key_hash(layer, kind, key, klen);
	pthread_mutex_lock(&lock);
	e = get_locked(layer, kind, key, klen, h);
	if (e)
		e->refs++;
	pthread_mutex_unlock(&lock);
	return e;
}

int64_t bsw_share_get_copy(uint64_t layer, enum bsw_share_kind kind, const void *key, size_t klen,
			   void *out, size_t len)
{
	struct bsw_share_ent *e;
	int64_t n = -1;
	uint64_t h;

	if (!layer || klen > SHARE_MAX_KEY)
		return -1;
	h = key_hash(layer, kind, key, klen);
	pthread_mutex_lock(&lock);
	e = get_locked(layer, kind, key, klen, h);
	if (e && (!e->free_fn || e->free_fn == free)) { /* flat bytes */
		memcpy(out, e->val, e->vlen < len ? e->vlen : len);
		n = (int64_t)e->vlen;
	} else if (e) {
		st.hits--; /* not a plain copy: the caller asks again */
		st.misses++;
	}
	pthread_mutex_unlock(&lock);
	return n;
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

/* Take e out of the cache (off its layer's list already). */
static void drop(struct layer *l, struct bsw_share_ent *e)
{
	unlink_hash(e);
	st.bytes -= e->cost;
	l->bytes -= e->cost;
	if (e->refs)
		e->dead = true;
	else
		ent_free(e);
}

/* --cache: write the layer's results to its file (under the lock). */
static void save_layer(struct layer *l)
{
	struct bsw_pc_file *f;
	struct bsw_share_ent *e;

	if (!bsw_pcache_on() || !l->dirty || !l->parent)
		return;
	l->dirty = false;
	f = bsw_pcache_begin(&l->id);
	for (e = l->ents; e; e = e->lnext)
		bsw_pcache_add(f, e->kind, e->key, e->klen, e->val, e->vlen);
	bsw_pcache_commit(f);
}

/* Evict the least recently used layer other than keep; false if none. */
static bool evict_one(uint64_t keep)
{
	struct bsw_share_ent *e, *n;
	struct layer *victim = NULL;
	size_t i;

	for (i = 0; i < nr_layers; i++) {
		struct layer *l = &layers[i];

		/* a layer being read from its file is not to be taken from under it */
		if (!l->ents || l->tok == keep || l->pc == PC_READING)
			continue;
		if (!victim || l->last_use < victim->last_use)
			victim = l;
	}
	if (!victim)
		return false;
	save_layer(victim);
	for (e = victim->ents; e; e = n) {
		n = e->lnext;
		drop(victim, e);
	}
	victim->ents = NULL;
	victim->bytes = 0;
	/* its file (written above if it gained anything) can bring it back */
	if (victim->pc == PC_READ)
		victim->pc = PC_UNREAD;
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

/* Equal values save to equal bytes (pcache.h); false when they cannot be compared. */
static bool same_value(enum bsw_share_kind kind, const void *a, size_t alen, const void *b,
		       size_t blen)
{
	const struct bsw_share_codec *c = bsw_pcache_codec_of(kind);
	struct bsw_pc_buf x = { 0 }, y = { 0 };
	bool same;

	if (!c)
		return false;
	c->save(a, alen, &x);
	c->save(b, blen, &y);
	same = !x.err && !y.err && x.len == y.len && !memcmp(x.p, y.p, x.len);
	free(x.p);
	free(y.p);
	return same;
}

/*
 * --verify-cache: ex, read from the layer's file, was recomputed as val.
 * Equal: ex is trusted from now on.  Different: every result read from
 * the file is dropped (the file is not to be believed), and the layer is
 * written again at the end with what this sweep computes.
 */
static void verify(struct layer *l, struct bsw_share_ent *ex, const void *val, size_t vlen)
{
	struct bsw_share_ent **pp, *e;

	if (same_value(ex->kind, ex->val, ex->vlen, val, vlen)) {
		ex->check = false;
		bsw_pcache_verified();
		return;
	}
	bsw_pcache_mismatch(&l->id, ex->kind);
	for (pp = &l->ents; (e = *pp);) {
		if (!e->disk) {
			pp = &e->lnext;
			continue;
		}
		*pp = e->lnext;
		drop(l, e);
	}
	l->dirty = true;
}

static bool insert(uint64_t layer, enum bsw_share_kind kind, const void *key, size_t klen,
		   void *val, size_t vlen, void (*free_fn)(void *), struct bsw_share_ent **ref,
		   bool disk)
{
	struct bsw_share_ent *e, *ex;
	size_t cost = sizeof(*e) + klen + vlen;
	struct layer *l;
	bool kept = false;
	uint64_t h;
	unsigned every;

	if (ref)
		*ref = NULL;
	if (!layer || klen > SHARE_MAX_KEY)
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
	e->disk = disk;
	every = disk ? bsw_pcache_verify_every() : 0;
	/* a sample fixed by the key, so that a rerun checks the same ones */
	e->check = every && (h >> 32) % every == 0;
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
	l = layer_of(layer);
	if (!cap || cost > cap || !l)
		goto unlock;
	ex = find(layer, kind, key, klen, h);
	if (ex && ex->check && !disk)
		verify(l, ex, e->val, vlen);
	if (find(layer, kind, key, klen, h))
		goto unlock;
	while (st.bytes + cost > cap)
		if (!evict_one(layer))
			break;
	if (st.bytes + cost > cap)
		goto unlock;
	if (nr_ents + 1 > tab_size && grow_table())
		goto unlock;
	e->hnext = tab[h & (tab_size - 1)];
	tab[h & (tab_size - 1)] = e;
	e->lnext = l->ents;
	l->ents = e;
	l->bytes += cost;
	l->last_use = ++clock_use;
	/* only what its file can hold makes the layer worth writing again */
	if (!disk && bsw_pcache_codec_of(kind))
		l->dirty = true;
	nr_ents++;
	st.bytes += cost;
	if (st.bytes > st.peak)
		st.peak = st.bytes;
	if (!disk)
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

bool bsw_share_insert(uint64_t layer, enum bsw_share_kind kind, const void *key, size_t klen,
		      void *val, size_t vlen, void (*free_fn)(void *), struct bsw_share_ent **ref)
{
	return insert(layer, kind, key, klen, val, vlen, free_fn, ref, false);
}

static void add_read(void *ctx, enum bsw_share_kind kind, const uint8_t *key, size_t klen,
		     void *val, size_t vlen, void (*free_fn)(void *))
{
	uint64_t tok = *(const uint64_t *)ctx;

	if (!insert(tok, kind, key, klen, val, vlen, free_fn, NULL, true))
		free_fn(val);
}

/* Bring the layer's kept results from its file (not under the lock). */
static void read_layer_file(uint64_t tok)
{
	struct bsw_pc_id id;
	uint64_t max;

	pthread_mutex_lock(&lock);
	id = layer_of(tok)->id;
	max = cap;
	pthread_mutex_unlock(&lock);
	bsw_pcache_load(&id, max, add_read, &tok);
}

void bsw_share_flush(void)
{
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nr_layers; i++)
		save_layer(&layers[i]);
	pthread_mutex_unlock(&lock);
}

void bsw_share_stats(struct bsw_share_stats *s)
{
	struct bsw_pc_stats p;

	bsw_pcache_stats(&p);
	pthread_mutex_lock(&lock);
	*s = st;
	pthread_mutex_unlock(&lock);
	s->cache_on = bsw_pcache_on();
	s->pc_files_loaded = p.files_loaded;
	s->pc_loaded = p.loaded;
	s->pc_files_saved = p.files_saved;
	s->pc_saved = p.saved;
	s->pc_stale = p.stale;
	s->pc_corrupt = p.corrupt;
	s->pc_verified = p.verified;
	s->pc_mismatched = p.mismatched;
	s->pc_errors = p.errors;
}
