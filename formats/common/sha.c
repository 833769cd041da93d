/*
 * SHA-256/SHA-1 through OpenSSL EVP (see sha.h).  This is the only file
 * that sees OpenSSL's digest types.
 */
#include "formats/common/sha.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <openssl/evp.h>

struct bsw_sha {
	EVP_MD_CTX *c;
};

/*
 * Fetched once: under OpenSSL 3 EVP_sha256() makes every init do an
 * implicit fetch (a lock and a provider lookup), which costs more than
 * hashing a small buffer.  If the fetch fails the legacy getters still
 * work, only slower.
 */
static EVP_MD *md_sha1, *md_sha256;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
/*
 * One context per thread for bsw_sha_buf, kept between calls: EVP_Digest
 * makes and frees a context (and the provider's) for every buffer, which
 * on the small files of a WinSxS store (most under 16 KiB) costs 5-25% of
 * the hashing itself.  Freed at thread exit.
 */
static pthread_key_t ctx_key;
static bool ctx_key_ok;

static void ctx_free(void *p)
{
	EVP_MD_CTX_free(p);
}

static void md_init(void)
{
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	ctx_key_ok = pthread_key_create(&ctx_key, ctx_free) == 0;
}

static const EVP_MD *md_of(int alg)
{
	pthread_once(&md_once, md_init);
	switch (alg) {
	case BSW_SHA1: return md_sha1 ? md_sha1 : EVP_sha1();
	case BSW_SHA256: return md_sha256 ? md_sha256 : EVP_sha256();
	}
	return NULL;
}

unsigned int bsw_sha_len(int alg)
{
	return alg == BSW_SHA1 ? 20 : alg == BSW_SHA256 ? 32 : 0;
}

int bsw_sha_buf(int alg, const void *d, size_t len, uint8_t out[BSW_SHA_MAX])
{
	const EVP_MD *md = md_of(alg);
	EVP_MD_CTX *c = NULL;
	unsigned int n = 0;

	if (!md)
		return -EINVAL;
	if (ctx_key_ok) {
		c = pthread_getspecific(ctx_key);
		if (!c && (c = EVP_MD_CTX_new()) && pthread_setspecific(ctx_key, c)) {
			EVP_MD_CTX_free(c);
			c = NULL;
		}
	}
	if (!c) /* no key or no memory: the one-shot call still works */
		return EVP_Digest(d, len, out, &n, md, NULL) ? (int)n : -EINVAL;
	/* re-initialising with the same digest reuses the provider's context */
	if (!EVP_DigestInit_ex(c, md, NULL) || !EVP_DigestUpdate(c, d, len) ||
	    !EVP_DigestFinal_ex(c, out, &n))
		return -EINVAL;
	return (int)n;
}

int bsw_sha_create(struct bsw_sha **out, int alg)
{
	const EVP_MD *md = md_of(alg);
	struct bsw_sha *s;

	*out = NULL;
	if (!md)
		return -EINVAL;
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->c = EVP_MD_CTX_new();
	if (!s->c) {
		free(s);
		return -ENOMEM;
	}
	if (!EVP_DigestInit_ex(s->c, md, NULL)) {
		bsw_sha_destroy(s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

int bsw_sha_update(struct bsw_sha *s, const void *d, size_t len)
{
	return EVP_DigestUpdate(s->c, d, len) ? 0 : -EINVAL;
}

int bsw_sha_final(struct bsw_sha *s, uint8_t out[BSW_SHA_MAX])
{
	unsigned int n = 0;

	if (!EVP_DigestFinal_ex(s->c, out, &n))
		return -EINVAL;
	return (int)n;
}

void bsw_sha_destroy(struct bsw_sha *s)
{
	if (!s)
		return;
	EVP_MD_CTX_free(s->c);
	free(s);
}
