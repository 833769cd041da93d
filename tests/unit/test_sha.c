/*
 * formats/common/sha.c: the program's one SHA-256/SHA-1 entry point.
 * Known answers (the FIPS 180-4 examples), a digest fed in uneven pieces
 * against the one-shot digest, and refusal of an unknown algorithm.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/sha.h"
#include "t_helpers.h"

static void hex(const uint8_t *d, int n, char *out)
{
	for (int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void known(int alg, const char *msg, const char *want)
{
	uint8_t dig[BSW_SHA_MAX];
	char h[2 * BSW_SHA_MAX + 1] = "";
	int n = bsw_sha_buf(alg, msg, strlen(msg), dig);

	T_CHECK(n == (int)bsw_sha_len(alg), "alg %d \"%s\": length %d", alg, msg, n);
	if (n > 0)
		hex(dig, n, h);
	T_CHECK(!strcmp(h, want), "alg %d \"%s\": %s, want %s", alg, msg, h, want);
}

/* The same bytes in uneven pieces give the one-shot digest. */
static void pieces(int alg)
{
	static uint8_t buf[100000];
	uint8_t one[BSW_SHA_MAX], many[BSW_SHA_MAX];
	struct bsw_sha *s;
	size_t off = 0, step = 1;
	int n;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 11);
	n = bsw_sha_buf(alg, buf, sizeof(buf), one);
	T_CHECK(bsw_sha_create(&s, alg) == 0 && s, "create alg %d", alg);
	if (!s)
		return;
	while (off < sizeof(buf)) {
		size_t k = step < sizeof(buf) - off ? step : sizeof(buf) - off;

		T_CHECK(bsw_sha_update(s, buf + off, k) == 0, "update");
		off += k;
		step = step * 3 + 1;
	}
	T_CHECK(bsw_sha_update(s, buf, 0) == 0, "empty update");
	T_CHECK(bsw_sha_final(s, many) == n, "final length");
	T_CHECK(!memcmp(one, many, (size_t)n), "alg %d: pieces differ from one shot", alg);
	bsw_sha_destroy(s);
}

int main(void)
{
	struct bsw_sha *s = (struct bsw_sha *)1;
	uint8_t dig[BSW_SHA_MAX];

	known(BSW_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	known(BSW_SHA256, "abc",
	      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	known(BSW_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	known(BSW_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
	known(BSW_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	pieces(BSW_SHA256);
	pieces(BSW_SHA1);

	T_CHECK(bsw_sha_len(0) == 0 && bsw_sha_len(3) == 0, "unknown alg has a length");
	T_CHECK(bsw_sha_buf(0, "abc", 3, dig) == -EINVAL, "alg 0 accepted");
	T_CHECK(bsw_sha_buf(5, "abc", 3, dig) == -EINVAL, "alg 5 accepted");
	T_CHECK(bsw_sha_create(&s, 7) == -EINVAL && !s, "create alg 7");
	bsw_sha_destroy(NULL);
	return T_DONE();
}
