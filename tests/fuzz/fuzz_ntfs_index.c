/* libFuzzer target: index entries of an INDX block or an INDEX_ROOT value. */
#include <stdlib.h>
#include <string.h>

#include "formats/ntfs/ntfs_internal.h"

static int count(void *arg, uint64_t mref, const uint8_t *key, uint32_t klen, uint16_t flags,
		 uint64_t sub)
{
	unsigned *n = arg;
	uint32_t i, sum = 0;

	for (i = 0; i < klen; i++) /* touch every key byte: bounds */
		sum += key[i];
	*n += 1 + (sum & 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;
	unsigned n = 0;
	uint8_t *p;

	if (size < 2)
		return 0;
	p = malloc(size);
	if (!p)
		return 0;
	memcpy(p, data, size);
	if (size >= 512 && !memcmp(p, "INDX", 4))
		bsw_ntfs_parse_indx(p, size & ~(size_t)511, count, &n, &why);
	else
		bsw_ntfs_parse_index_root(p, size, NULL, count, &n, &why);
	free(p);
	return 0;
}
