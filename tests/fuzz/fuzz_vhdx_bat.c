/*
 * libFuzzer target: the VHDX BAT (MS-VHDX 2.5) and, for differencing
 * disks, the sector bitmap.  The first input byte picks a dynamic or
 * differencing template; the rest is XORed onto the BAT region (payload
 * entries, and the sector bitmap entry at index 4096), and past 32 KiB + 64
 * onto the first sector bitmap block.
 */
#include "vhdx_tmpl.h"
#include "cont_walk.h"

#define BAT_SPAN (32 * 1024 + 64)
#define SBM_SPAN (16 * 1024 - 64)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int k = size && (data[0] & 1) ? TMPL_DIFF : TMPL_DYN;
	struct bsw_src src;
	struct bsw_src_mem m;

	if (!tmpl_work(k))
		return 0;
	for (size_t i = 1; i < size && i < 1 + BAT_SPAN + SBM_SPAN; i++) {
		size_t j = i - 1;

		if (j < BAT_SPAN)
			img[BAT + j] ^= data[i];
		else
			img[5 * MiB + (j - BAT_SPAN)] ^= data[i];
	}
	bsw_src_mem_init(&src, &m, img, FSIZE);
	cont_walk(&bsw_vhdx_ops, &src);
	tmpl_restore(k, BAT, BAT_SPAN);
	tmpl_restore(k, 5 * MiB, SBM_SPAN);
	return 0;
}
