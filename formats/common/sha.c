/*
 * SHA-256/SHA-1 through OpenSSL EVP (see sha.h).  This is the only file
 * that sees OpenSSL's digest types.
 */
#include "formats/common/sha.h"

#include <errno.h>
#include <pthread.h>
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

static void md_init(void)
{
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
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
	unsigned int n = 0;

	if (!md || !EVP_Digest(d, len, out, &n, md, NULL))
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
