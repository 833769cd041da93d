/*
 * The digest cache and the memory budget shared by the disks of a sweep.
 *
 * XXH3-128 keys a process-wide cache of SHA digests (computed by
 * formats/common/sha.c): the base layer shared by many differencing
 * children holds the same bytes for every child, so each distinct content
 * is SHA-hashed once per sweep.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "scanner/checks/triage.h"

void bsw_xxh128(const void *d, size_t len, uint8_t out[16])
{
	XXH128_hash_t h = XXH3_128bits(d, len);
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, h);
	memcpy(out, c.digest, 16);
}

/* Open-addressing table; when full, new entries are simply not cached. */
#define HC_SLOTS (1u << 16)

struct hc_ent {
	uint8_t key[16];
	uint64_t size;
	int alg; /* 0 = empty */
	uint8_t dig[32];
};

static struct hc_ent *hc;
static pthread_mutex_t hc_lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static uint64_t hc_hits;

static unsigned hc_slot(const uint8_t key[16], int alg)
{
	uint32_t h;

	memcpy(&h, key, 4);
	return (h ^ (uint32_t)alg * 0x9E3779B1u) & (HC_SLOTS - 1);
}

/*
 * The slot of (key, size, alg): the first of its 64 probes that holds it
 * or is empty (entries are never removed, so no later probe can hold it);
 * NULL if all 64 hold other contents.  Under hc_lock, hc allocated.
 */
static struct hc_ent *hc_find(const uint8_t key[16], uint64_t size, int alg)
{
	unsigned s = hc_slot(key, alg), i;

	for (i = 0; i < 64; i++) {
		struct hc_ent *e = &hc[(s + i) & (HC_SLOTS - 1)];

		if (!e->alg || (e->alg == alg && e->size == size && !memcmp(e->key, key, 16)))
			return e;
	}
	return NULL;
}

bool bsw_hcache_get(const uint8_t key[16], uint64_t size, int alg, uint8_t out[32])
{
	struct hc_ent *e = NULL;
	bool found;

	pthread_mutex_lock(&hc_lock);
	if (hc)
		e = hc_find(key, size, alg);
	found = e && e->alg;
	if (found) {
		memcpy(out, e->dig, 32);
		hc_hits++;
	}
	pthread_mutex_unlock(&hc_lock);
	return found;
}

void bsw_hcache_put(const uint8_t key[16], uint64_t size, int alg, const uint8_t dig[32])
{
	struct hc_ent *e = NULL;

	pthread_mutex_lock(&hc_lock);
	if (!hc)
		hc = calloc(HC_SLOTS, sizeof(*hc));
	if (hc)
		e = hc_find(key, size, alg);
	if (e) {
		memcpy(e->key, key, 16);
		e->size = size;
		e->alg = alg;
		memcpy(e->dig, dig, 32);
	}
	pthread_mutex_unlock(&hc_lock);
}

/* A counter read under the lock that guards it. */
static uint64_t read_locked(pthread_mutex_t *lock, const uint64_t *v)
{
	uint64_t n;

	pthread_mutex_lock(lock);
	n = *v;
	pthread_mutex_unlock(lock);
	return n;
}

uint64_t bsw_hcache_hits(void)
{
	return read_locked(&hc_lock, &hc_hits);
}

/* ---- memory budget: a counting semaphore on bytes ---- */

static pthread_mutex_t mem_lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static pthread_cond_t mem_cond = PTHREAD_COND_INITIALIZER;
static uint64_t mem_cap, mem_used, mem_peak;
/*
 * Bytes this thread holds.  A thread that already holds memory never
 * waits (it may overshoot the cap): waiting while holding could deadlock,
 * with itself or with another holder.  Only a thread about to start
 * holding waits for room.
 */
static __thread uint64_t mem_mine;

void bsw_mem_set_cap(uint64_t bytes)
{
	pthread_mutex_lock(&mem_lock);
	mem_cap = bytes;
	pthread_mutex_unlock(&mem_lock);
}

/*
 * What a request of bytes counts for: at most the cap, so that a request
 * larger than the cap waits until it is alone.  Acquire and release must
 * clamp alike or the books would not balance.  Under mem_lock.
 */
static uint64_t charged(uint64_t bytes)
{
	return mem_cap && bytes > mem_cap ? mem_cap : bytes;
}

void bsw_mem_acquire(uint64_t bytes)
{
	pthread_mutex_lock(&mem_lock);
	bytes = charged(bytes);
	while (mem_cap && !mem_mine && mem_used && mem_used + bytes > mem_cap)
		pthread_cond_wait(&mem_cond, &mem_lock);
	mem_used += bytes;
	mem_mine += bytes;
	if (mem_used > mem_peak)
		mem_peak = mem_used;
	pthread_mutex_unlock(&mem_lock);
}

void bsw_mem_release(uint64_t bytes)
{
	pthread_mutex_lock(&mem_lock);
	bytes = charged(bytes);
	mem_used = bytes > mem_used ? 0 : mem_used - bytes;
	mem_mine = bytes > mem_mine ? 0 : mem_mine - bytes;
	pthread_cond_broadcast(&mem_cond);
	pthread_mutex_unlock(&mem_lock);
}

uint64_t bsw_mem_peak(void)
{
	return read_locked(&mem_lock, &mem_peak);
}
