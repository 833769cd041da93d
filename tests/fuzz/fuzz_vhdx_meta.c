/*
 * libFuzzer target: the VHDX metadata region (MS-VHDX 2.6): table, file
 * parameters, sizes and the parent locator key/value list.  The first
 * input byte picks a dynamic or differencing template; the rest is XORed
 * onto the metadata region from its start (table, then items at 64 KiB).
 */
#include "../unit/vhdx_build.h"
#include "cont_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *buf;
	struct bsw_src src;
	struct bsw_src_mem m;

	if (!buf && !(buf = malloc(FSIZE)))
		return 0;
	img = buf;
	make(size && (data[0] & 1), false);
	/* bytes 1..4096 onto the table, the rest onto the items */
	for (size_t i = 1; i < size && i < 1 + 2 * 4096; i++) {
		size_t at = i - 1 < 4096 ? i - 1 : 64 * 1024 + (i - 1 - 4096);

		img[META + at] ^= data[i];
	}
	bsw_src_mem_init(&src, &m, img, FSIZE);
	cont_walk(&bsw_vhdx_ops, &src);
	return 0;
}
