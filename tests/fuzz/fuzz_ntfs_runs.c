/* libFuzzer target: the runlist (mapping pairs) decoder. */
#include "formats/ntfs/ntfs_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_ntfs_runs rl = { 0 };
	const char *why;

	/* first byte picks the volume size bound: 0 = unbounded */
	if (!size)
		return 0;
	bsw_ntfs_parse_runs(data + 1, size - 1, 0, data[0] ? (uint64_t)data[0] << 16 : 0, &rl,
			    &why);
	bsw_ntfs_runs_free(&rl);
	return 0;
}
