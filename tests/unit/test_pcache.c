/*
 * Shared results kept across sweeps (scanner/pcache.c, scan --cache): a
 * layer's file written and read back whole; another identity is stale; a
 * file cut at any length, or with any byte changed and its checksum made
 * right again (a forger with write access to DIR), is either refused or
 * decoded within bounds, never a crash; a directory others may write is
 * refused; and through share.c, a layer's file is read on its first
 * lookup, written at the flush, and --verify-cache catches a forged value.
 *
 * Also a tool for tests/share/cache.sh: "test_pcache forge FILE" inverts
 * the digest of every DIGEST entry of a cache file and reseals it;
 * "test_pcache forge FILE SEED" changes a byte of every MFT entry;
 * "test_pcache kinds FILE" lists the entries' kinds and sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "scanner/pcache.h"
#include "scanner/share.h"
#include "t_helpers.h"

#define HDR 72u

/* a test kind: a string, as FILECHECK is documented */
static void str_save(const void *val, size_t vlen, struct bsw_pc_buf *b)
{
	bsw_pc_put_str(b, val);
}

static int str_load(struct bsw_pc_rd *r, void **val, size_t *vlen, void (**free_fn)(void *))
{
	char s[256];

	bsw_pc_get_str(r, s, sizeof(s));
	if (r->bad)
		return -EINVAL;
	*val = strdup(s);
	if (!*val)
		return -ENOMEM;
	*vlen = strlen(s) + 1;
	*free_fn = free;
	return 0;
}

static const struct bsw_share_codec str_codec = { str_save, str_load };

static uint8_t *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *b = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET)) {
		b = malloc((size_t)n);
		if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
			free(b);
			b = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return b;
}

static int spit(const char *p, const uint8_t *b, size_t len)
{
	FILE *f = fopen(p, "wb");
	int r;

	if (!f)
		return -1;
	r = fwrite(b, 1, len, f) == len ? 0 : -1;
	return fclose(f) || r ? -1 : 0;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t x = 0;

	while (n--)
		x = x << 8 | p[n];
	return x;
}

static void reseal(uint8_t *b, size_t len)
{
	uint64_t s = XXH3_64bits(b, len - 8);
	unsigned i;

	for (i = 0; i < 8; i++)
		b[len - 8 + i] = (uint8_t)(s >> (8 * i));
}

/*
 * The tool: with seed 0, invert every DIGEST entry's digest; else change
 * one byte of every MFT entry's value, at a place drawn from seed; reseal.
 */
static int forge(const char *path, unsigned seed)
{
	size_t len = 0, at = HDR, n = 0;
	uint8_t *b = slurp(path, &len);
	uint64_t i, nr;

	if (!b || len < HDR + 8)
		return 2;
	nr = le(b + 64, 8);
	for (i = 0; i < nr && at + 9 <= len - 8; i++) {
		size_t klen = (size_t)le(b + at + 1, 4), vlen = (size_t)le(b + at + 5, 4);
		size_t v = at + 9 + klen, j;

		if (v + vlen > len - 8)
			break;
		if (!seed && b[at] == BSW_SHARE_DIGEST && vlen >= 32) {
			for (j = 0; j < 32; j++)
				b[v + j] ^= 0xff;
			n++;
		}
		if (seed && b[at] == BSW_SHARE_MFT && vlen) {
			seed = seed * 1103515245u + 12345u;
			b[v + (seed >> 8) % vlen] ^= (uint8_t)(1u << (seed >> 4) % 8);
			n++;
		}
		at = v + vlen;
	}
	reseal(b, len);
	if (spit(path, b, len))
		return 2;
	free(b);
	printf("forged %zu entries\n", n);
	return n ? 0 : 1;
}

/* The tool: the kinds of a cache file's entries, one JSON object each. */
static int kinds(const char *path)
{
	size_t len = 0, at = HDR;
	uint8_t *b = slurp(path, &len);
	uint64_t i, nr;

	if (!b || len < HDR + 8)
		return 2;
	nr = le(b + 64, 8);
	for (i = 0; i < nr && at + 9 <= len - 8; i++) {
		size_t klen = (size_t)le(b + at + 1, 4), vlen = (size_t)le(b + at + 5, 4);

		printf("{\"kind\":%u,\"key\":%zu,\"value\":%zu}\n", b[at], klen, vlen);
		at += 9 + klen + vlen;
	}
	free(b);
	return 0;
}

static size_t nr_added;

static void count_add(void *ctx, enum bsw_share_kind kind, const uint8_t *key, size_t klen,
		      void *val, size_t vlen, void (*free_fn)(void *))
{
	nr_added++;
	free_fn(val);
}

static size_t load(const struct bsw_pc_id *id)
{
	nr_added = 0;
	return bsw_pcache_load(id, 1u << 20, count_add, NULL) == nr_added ? nr_added : (size_t)-1;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/test_pcache.XXXXXX", path[512], err[256];
	struct bsw_pc_id id = { .dev = 7, .ino = 42, .size = 1 << 20, .mtime_ns = 123456789 };
	struct bsw_pc_id other = id;
	struct bsw_pc_stats ps;
	struct bsw_pc_file *f;
	uint8_t *good, *b;
	size_t len = 0, i, k;
	char name[64];

	if (argc == 3 && !strcmp(argv[1], "kinds"))
		return kinds(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "forge"))
		return forge(argv[2], argc > 3 ? (unsigned)atoi(argv[3]) : 0);
	if (!mkdtemp(dir))
		return T_EXIT_SKIP;
	snprintf(path, sizeof(path), "%s/c", dir);
	T_CHECK(!bsw_pcache_open(path, 0, err, sizeof(err)), "open: %s", err);
	bsw_pcache_codec(BSW_SHARE_FILECHECK, &str_codec);

	/* written whole, read back whole */
	f = bsw_pcache_begin(&id);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "value %zu", i);
		bsw_pcache_add(f, BSW_SHARE_FILECHECK, &i, sizeof(i), name, strlen(name) + 1);
	}
	bsw_pcache_add(f, BSW_SHARE_MFT, &i, sizeof(i), name, 4); /* no codec: not kept */
	T_CHECK(!bsw_pcache_commit(f), "commit");
	T_CHECK(load(&id) == 100, "read back %zu of 100", nr_added);
	other.mtime_ns++;
	T_CHECK(load(&other) == 0, "another mtime must be stale");
	other = id;
	other.id[3] = 1;
	T_CHECK(load(&other) == 0, "another container id must be stale");
	bsw_pcache_stats(&ps);
	T_CHECK(ps.stale == 2 && ps.corrupt == 0 && ps.files_loaded == 1 && ps.loaded == 100,
		"counters: stale %llu corrupt %llu", (unsigned long long)ps.stale,
		(unsigned long long)ps.corrupt);

	/* the one file there: damage it */
	{
		char cmd[600], file[520];
		FILE *p;

		snprintf(cmd, sizeof(cmd), "ls %s/*.bswc", path);
		p = popen(cmd, "r");
		file[0] = 0;
		if (p && fgets(file, sizeof(file), p))
			file[strcspn(file, "\n")] = 0;
		if (p)
			pclose(p);
		good = slurp(file, &len);
		T_CHECK(good && len > HDR + 8, "the layer's file (%s)", file);
		if (!good)
			return T_DONE();
		b = malloc(len);
		/* cut at every length: never read, counted corrupt */
		for (k = 0; k < len; k += k < HDR + 64 ? 1 : 7) {
			spit(file, good, k);
			T_CHECK(load(&id) == 0, "a file cut at %zu was used", k);
		}
		/* any one byte changed, checksum made right: refused or within bounds */
		for (k = 0; k < len - 8; k += k < 400 ? 1 : 5) {
			size_t n;

			memcpy(b, good, len);
			b[k] ^= k & 1 ? 0x80 : 0x01;
			reseal(b, len);
			spit(file, b, len);
			n = load(&id);
			T_CHECK(n == 0 || n == 100, "byte %zu: %zu entries (a partial file)", k, n);
		}
		/* a count past the end, a huge key length */
		memcpy(b, good, len);
		memset(b + 64, 0xff, 8);
		reseal(b, len);
		spit(file, b, len);
		T_CHECK(load(&id) == 0, "a forged count");
		memcpy(b, good, len);
		memset(b + HDR + 1, 0xff, 4);
		reseal(b, len);
		spit(file, b, len);
		T_CHECK(load(&id) == 0, "a forged key length");
		/* a flipped byte without a new checksum */
		memcpy(b, good, len);
		b[len / 2] ^= 0x10;
		spit(file, b, len);
		T_CHECK(load(&id) == 0, "a damaged file");
		bsw_pcache_stats(&ps);
		T_CHECK(ps.corrupt > len / 8, "corrupt files counted (%llu)",
			(unsigned long long)ps.corrupt);
		spit(file, good, len);
		free(b);
		free(good);
	}

	/* through the shared cache: read on the first lookup, --verify-cache */
	{
		struct bsw_share_stats ss;
		struct bsw_share_ent *e;
		uint64_t tok, key = 5;
		const char *v;

		bsw_pcache_close();
		T_CHECK(!bsw_pcache_open(path, 1, err, sizeof(err)), "open: %s", err);
		bsw_share_init(64u << 20);
		tok = bsw_share_layer(id.dev, id.ino, id.size, id.mtime_ns, id.id);
		T_CHECK(tok == bsw_share_layer(id.dev, id.ino, id.size, id.mtime_ns, NULL),
			"a token is the identity's");
		bsw_share_set_parent(tok);
		/* every entry is to be verified: a miss until recomputed */
		T_CHECK(!bsw_share_get(tok, BSW_SHARE_FILECHECK, &key, sizeof(key)),
			"a sampled entry must be recomputed first");
		T_CHECK(!bsw_share_insert(tok, BSW_SHARE_FILECHECK, &key, sizeof(key), "value 5", 8,
					  NULL, NULL),
			"the same value: the kept one stays");
		e = bsw_share_get(tok, BSW_SHARE_FILECHECK, &key, sizeof(key));
		v = e ? bsw_share_val(e, NULL) : NULL;
		T_CHECK(v && !strcmp(v, "value 5"), "verified entry");
		bsw_share_unref(e);
		/* a forged value: the recomputed one wins, the file's are dropped */
		key = 6;
		T_CHECK(bsw_share_insert(tok, BSW_SHARE_FILECHECK, &key, sizeof(key), "truth", 6,
					 NULL, NULL),
			"a mismatch keeps the recomputed value");
		e = bsw_share_get(tok, BSW_SHARE_FILECHECK, &key, sizeof(key));
		v = e ? bsw_share_val(e, NULL) : NULL;
		T_CHECK(v && !strcmp(v, "truth"), "the recomputed value is kept");
		bsw_share_unref(e);
		key = 5;
		T_CHECK(!bsw_share_get(tok, BSW_SHARE_FILECHECK, &key, sizeof(key)),
			"after a mismatch, nothing read from the file is used");
		bsw_share_flush();
		bsw_share_stats(&ss);
		T_CHECK(ss.pc_verified == 1 && ss.pc_mismatched == 1 && ss.pc_files_saved == 2,
			"verified %llu mismatched %llu saved files %llu",
			(unsigned long long)ss.pc_verified, (unsigned long long)ss.pc_mismatched,
			(unsigned long long)ss.pc_files_saved);
		bsw_share_fini(); /* closes the directory */
		/* the rewritten file holds the recomputed value only */
		T_CHECK(!bsw_pcache_open(path, 0, err, sizeof(err)), "open: %s", err);
		T_CHECK(load(&id) == 1, "rewritten with %zu entries, want 1", nr_added);
		bsw_pcache_close();
	}

	/* a directory another user may write is refused */
	chmod(path, 0777);
	T_CHECK(bsw_pcache_open(path, 0, err, sizeof(err)) == -EPERM, "a group-writable DIR");
	bsw_pcache_close();
	snprintf(name, sizeof(name), "rm -rf %s", dir);
	if (system(name))
		T_CHECK(0, "cleanup");
	return T_DONE();
}
