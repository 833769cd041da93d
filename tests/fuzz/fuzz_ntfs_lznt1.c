/* libFuzzer target: the LZNT1 decompressor, into a 64 KiB unit. */
#include <stdlib.h>

#include "formats/ntfs/ntfs_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = malloc(65536);

	if (!out)
		return 0;
	bsw_ntfs_lznt1(data, size, out, 65536);
	free(out);
	return 0;
}
