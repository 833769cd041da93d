/*
 * The sweep's shared results (scanner/share.c): hits and misses, keys
 * that differ by layer, kind or bytes, whole-layer LRU eviction under the
 * cap, references that outlive an eviction, values handed over, and
 * concurrent use from several threads.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "scanner/share.h"
#include "t_helpers.h"

static int freed;

static void count_free(void *p)
{
	freed++;
	free(p);
}

static void *worker(void *arg)
{
	uint64_t layer = (uint64_t)(uintptr_t)arg;

	for (unsigned i = 0; i < 20000; i++) {
		uint32_t k = i % 500;
		struct bsw_share_ent *e = bsw_share_get(layer, BSW_SHARE_DIGEST, &k, sizeof(k));

		if (e) {
			size_t len;
			const uint32_t *v = bsw_share_val(e, &len);

			if (len != sizeof(k) || *v != k * 7)
				return (void *)1;
			bsw_share_unref(e);
		} else {
			uint32_t v = k * 7;

			bsw_share_insert(layer, BSW_SHARE_DIGEST, &k, sizeof(k), &v, sizeof(v),
					 NULL, NULL);
		}
	}
	return NULL;
}

int main(void)
{
	uint8_t id[16] = { 1 }, dig[32], out[32];
	struct bsw_share_stats s;
	struct bsw_share_ent *e;
	uint64_t a, b, c, a2;
	size_t len;
	char key[] = "extents:0-4096";

	/* off: nothing is kept, nothing is found */
	a = bsw_share_layer(1, 100, 4096, 7, id);
	T_CHECK(a != 0, "token");
	T_CHECK(!bsw_share_insert(a, BSW_SHARE_DIGEST, key, sizeof(key), dig, 32, NULL, NULL),
		"kept while off");
	T_CHECK(!bsw_share_get(a, BSW_SHARE_DIGEST, key, sizeof(key)), "found while off");

	bsw_share_init(64 * 1024);
	T_CHECK(bsw_share_layer(1, 100, 4096, 7, id) == a, "same file, same token");
	b = bsw_share_layer(1, 101, 4096, 7, id);
	a2 = bsw_share_layer(1, 100, 4096, 8, id); /* the file changed */
	T_CHECK(b != a && a2 != a, "other inode or mtime: other layer");

	memset(dig, 0xAB, sizeof(dig));
	T_CHECK(bsw_share_insert(a, BSW_SHARE_DIGEST, key, sizeof(key), dig, 32, NULL, NULL),
		"insert");
	memset(dig, 0, sizeof(dig)); /* the value was copied */
	e = bsw_share_get(a, BSW_SHARE_DIGEST, key, sizeof(key));
	T_CHECK(e != NULL, "hit");
	if (e) {
		memcpy(out, bsw_share_val(e, &len), 32);
		T_CHECK(len == 32 && out[0] == 0xAB && out[31] == 0xAB, "value");
		bsw_share_unref(e);
	}
	T_CHECK(!bsw_share_get(b, BSW_SHARE_DIGEST, key, sizeof(key)), "other layer must miss");
	T_CHECK(!bsw_share_get(a2, BSW_SHARE_DIGEST, key, sizeof(key)), "changed file must miss");
	T_CHECK(!bsw_share_get(a, BSW_SHARE_MANIFEST, key, sizeof(key)), "other kind must miss");
	key[0] = 'E';
	T_CHECK(!bsw_share_get(a, BSW_SHARE_DIGEST, key, sizeof(key)), "other key must miss");
	key[0] = 'e';
	T_CHECK(!bsw_share_get(0, BSW_SHARE_DIGEST, key, sizeof(key)), "layer 0 is never shared");

	/* eviction: fill layer b, then c; a (used last) survives, b goes */
	for (uint32_t i = 0; i < 40; i++) {
		uint8_t blob[1000] = { (uint8_t)i };

		bsw_share_insert(b, BSW_SHARE_MFT, &i, sizeof(i), blob, sizeof(blob), NULL, NULL);
	}
	e = bsw_share_get(a, BSW_SHARE_DIGEST, key, sizeof(key)); /* a is recent */
	T_CHECK(e != NULL, "a still there");
	c = bsw_share_layer(2, 5, 1, 1, NULL);
	for (uint32_t i = 0; i < 40; i++) {
		uint8_t blob[1000] = { (uint8_t)i };

		bsw_share_insert(c, BSW_SHARE_MFT, &i, sizeof(i), blob, sizeof(blob), NULL, NULL);
	}
	bsw_share_stats(&s);
	T_CHECK(s.bytes <= 64 * 1024, "over the cap: %llu", (unsigned long long)s.bytes);
	T_CHECK(s.evictions >= 1, "no eviction");
	{
		uint32_t i0 = 0;
		struct bsw_share_ent *x = bsw_share_get(b, BSW_SHARE_MFT, &i0, sizeof(i0));

		T_CHECK(!x, "b should have been evicted whole");
		bsw_share_unref(x);
	}
	/* a's entry was referenced during the evictions: still readable */
	if (e) {
		memcpy(out, bsw_share_val(e, &len), 32);
		T_CHECK(out[5] == 0xAB, "referenced value changed");
		bsw_share_unref(e);
	}

	/* a value larger than the cap is refused, and a handed-over one freed */
	{
		void *big = malloc(128 * 1024);
		uint32_t k = 1;

		struct bsw_share_ent *r;

		T_CHECK(!bsw_share_insert(a, BSW_SHARE_HIVE, &k, sizeof(k), big, 128 * 1024,
					  count_free, &r),
			"kept past the cap");
		T_CHECK(freed == 0 && !r, "a refused value is the caller's");
		count_free(big);
		big = malloc(100);
		T_CHECK(bsw_share_insert(a, BSW_SHARE_HIVE, &k, sizeof(k), big, 100, count_free,
					 &r),
			"insert object");
		T_CHECK(r && bsw_share_val(r, NULL) == big, "insert's reference");
		bsw_share_unref(r);
		T_CHECK(!bsw_share_insert(a, BSW_SHARE_HIVE, &k, sizeof(k), &k, 4, count_free,
					  NULL),
			"a key kept twice");
	}

	/* two threads on the same keys */
	{
		pthread_t th[2];
		void *r0, *r1;
		uint64_t d = bsw_share_layer(3, 3, 3, 3, NULL);

		pthread_create(&th[0], NULL, worker, (void *)(uintptr_t)d);
		pthread_create(&th[1], NULL, worker, (void *)(uintptr_t)d);
		pthread_join(th[0], &r0);
		pthread_join(th[1], &r1);
		T_CHECK(!r0 && !r1, "a thread saw a wrong value");
	}
	bsw_share_stats(&s);
	T_CHECK(s.hits > 0 && s.misses > 0 && s.inserts > 0, "counters");
	bsw_share_fini();
	T_CHECK(freed == 2, "fini frees handed-over values (%d)", freed);
	return T_DONE();
}
