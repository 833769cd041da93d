/*
 * SHA-256 and SHA-1, once for the whole program: WinSxS digests, hive
 * S256H values, inventory hashes, libntfs-3g's file walk, shard digests.
 * All of it goes through OpenSSL EVP with the digest fetched once, so the
 * SHA-NI (or AVX2) code path is picked where the CPU has it.
 */
#ifndef BSW_SHA_H
#define BSW_SHA_H

#include <stddef.h>
#include <stdint.h>

/* Algorithm numbers; they also key the sweep's digest cache (hash.c). */
#define BSW_SHA1 1
#define BSW_SHA256 2
#define BSW_SHA_MAX 32 /* the longest digest, in bytes */

/* Digest length of alg in bytes: 20, 32, or 0 for an unknown alg. */
unsigned int bsw_sha_len(int alg);

/*
 * Digest of len bytes at d into out (room for BSW_SHA_MAX).  Thread-safe.
 * Returns the digest length, or -EINVAL (unknown alg, library failure).
 */
int bsw_sha_buf(int alg, const void *d, size_t len, uint8_t out[BSW_SHA_MAX]);

/*
 * The same over data that comes in pieces: create, update any number of
 * times, final once, destroy.  A handle belongs to one thread.
 */
struct bsw_sha;

/* A new digest of alg in *out.  0, -EINVAL (unknown alg) or -ENOMEM. */
int bsw_sha_create(struct bsw_sha **out, int alg);
/* Add len bytes at d.  0 or -EINVAL. */
int bsw_sha_update(struct bsw_sha *s, const void *d, size_t len);
/* The digest into out (room for BSW_SHA_MAX); its length or -EINVAL. */
int bsw_sha_final(struct bsw_sha *s, uint8_t out[BSW_SHA_MAX]);
/* Free s; NULL is fine. */
void bsw_sha_destroy(struct bsw_sha *s);

#endif /* BSW_SHA_H */
