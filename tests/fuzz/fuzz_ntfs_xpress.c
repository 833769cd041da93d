/* libFuzzer target: the XPRESS Huffman decoder (WOF chunks), 16 KiB out. */
#include <stdlib.h>

#include "formats/ntfs/ntfs_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out;
	size_t want;

	if (size < 2)
		return 0;
	/* first byte: output size in 64-byte steps, as a WOF chunk would be */
	want = ((size_t)data[0] + 1) * 64;
	out = malloc(want);
	if (!out)
		return 0;
	bsw_ntfs_xpress_huff(data + 1, size - 1, out, want);
	free(out);
	return 0;
}
