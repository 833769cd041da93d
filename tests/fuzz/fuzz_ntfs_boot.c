/* libFuzzer target: NTFS boot sector parser (pass 0). */
#include <stddef.h>
#include <stdint.h>

#include "formats/ntfs/ntfs_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_ntfs_boot bs;
	const char *why;

	bsw_ntfs_parse_boot(data, size, &bs, &why);
	return 0;
}
