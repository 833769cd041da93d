/* libFuzzer target: MFT record fixups and header, as pass 1 applies them. */
#include <stdlib.h>
#include <string.h>

#include "formats/ntfs/ntfs_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_ntfs_rhdr h;
	const char *why;
	unsigned bad;
	uint8_t *r;
	size_t len = size & ~(size_t)511;

	if (!len || len > 65536)
		return 0;
	r = malloc(len);
	if (!r)
		return 0;
	memcpy(r, data, len);
	bsw_ntfs_fixup(r, len, &bad);
	bsw_ntfs_parse_rhdr(r, len, (uint32_t)len, &h, &why);
	free(r);
	return 0;
}
