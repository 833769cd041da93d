/* libFuzzer target: $LogFile restart page (fixups, then header and area). */
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_ntfs_rstr r;
	const char *why;
	unsigned bad;
	uint8_t *p;
	size_t len = size < 4096 ? size : 4096;

	if (len < 512)
		return 0;
	len &= ~(size_t)511;
	p = malloc(len);
	if (!p)
		return 0;
	memcpy(p, data, len);
	if (bsw_ntfs_fixup(p, len, &bad) >= 0)
		bsw_ntfs_parse_restart(p, len, &r, &why);
	free(p);
	return 0;
}
