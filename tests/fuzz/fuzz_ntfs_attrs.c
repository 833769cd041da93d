/*
 * libFuzzer target: the attribute walk of one (fixed-up) MFT record, with
 * every non-resident attribute's runlist decoded, as pass 1 does.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/ntfs/ntfs_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_ntfs_rhdr h;
	struct bsw_ntfs_attr a;
	struct bsw_ntfs_runs rl = { 0 };
	const char *why;
	uint32_t pos, prev = 0;
	unsigned n = 0;

	if (size < 1024 || bsw_ntfs_parse_rhdr(data, 1024, 1024, &h, &why))
		return 0;
	pos = h.attrs_off;
	while (n++ < BSW_NTFS_MAX_ATTRS &&
	       bsw_ntfs_attr_next(data, h.used, &pos, &prev, &a, &why) > 0) {
		if (!a.nonres)
			continue;
		rl.nr = 0;
		bsw_ntfs_parse_runs(data + a.runs_off, a.runs_len, a.lowest_vcn, 1ull << 32, &rl,
				    &why);
	}
	bsw_ntfs_runs_free(&rl);
	return 0;
}
