/*
 * libFuzzer target: the VHDX BAT (MS-VHDX 2.5) and, for differencing
 * disks, the sector bitmap.  The first input byte picks a dynamic or
 * differencing template; the rest is XORed onto the BAT region (payload
 * entries, and the sector bitmap entry at index 4096), and past 64 KiB onto
 * the first sector bitmap block.
 */
#include "../unit/vhdx_build.h"
#include "cont_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *buf;
	struct bsw_src src;
	struct bsw_src_mem m;
	bool diff = size && (data[0] & 1);

	if (!buf && !(buf = malloc(FSIZE)))
		return 0;
	img = buf;
	make(diff, false);
	for (size_t i = 1; i < size && i < 1 + 48 * 1024; i++) {
		size_t k = i - 1;

		if (k < 32 * 1024 + 64)
			img[BAT + k] ^= data[i];
		else
			img[5 * MiB + (k - 32 * 1024 - 64)] ^= data[i];
	}
	bsw_src_mem_init(&src, &m, img, FSIZE);
	cont_walk(&bsw_vhdx_ops, &src);
	return 0;
}
