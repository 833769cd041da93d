/*
 * libFuzzer target: the VHDX metadata region (MS-VHDX 2.6).  The first
 * input byte picks a dynamic or differencing (parent locator) template;
 * bytes 1..4096 are XORed onto the metadata table, the next 4096 onto the
 * items at 64 KiB.
 */
#include "vhdx_tmpl.h"
#include "cont_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int k = size && (data[0] & 1) ? TMPL_DIFF : TMPL_DYN;
	struct bsw_src src;
	struct bsw_src_mem m;

	if (!tmpl_work(k))
		return 0;
	for (size_t i = 1; i < size && i < 1 + 2 * 4096; i++) {
		size_t at = i - 1 < 4096 ? i - 1 : 64 * 1024 + (i - 1 - 4096);

		img[META + at] ^= data[i];
	}
	bsw_src_mem_init(&src, &m, img, FSIZE);
	cont_walk(&bsw_vhdx_ops, &src);
	tmpl_restore(k, META, 4096);
	tmpl_restore(k, META + 64 * 1024, 4096);
	return 0;
}
