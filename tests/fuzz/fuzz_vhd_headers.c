/*
 * libFuzzer target: VHD footer, dynamic header, parent locators and BAT
 * (VHD specification: footer, dynamic disk header, BAT).  The first input
 * byte picks a dynamic or differencing template (tests/unit/vhd_build.h);
 * the rest is XORed onto the footer (also copied to offset 0), the dynamic
 * header, then the BAT, locator and first block bitmap.  Checksums are
 * recomputed while the cookies survive, so mutants reach the field checks.
 */
#include "../unit/vhd_build.h"
#include "cont_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_src src;
	struct bsw_src_mem m;
	uint8_t *f = img + FSIZE - 512, *dh = img + 512;

	make_dyn(size && (data[0] & 1) ? 4 : 3);
	for (size_t i = 1; i < size && i < 1 + 512 + 1024 + 2048; i++) {
		size_t k = i - 1;

		if (k < 512)
			f[k] ^= data[i];
		else if (k < 512 + 1024)
			dh[k - 512] ^= data[i];
		else
			img[BAT_OFF + (k - 512 - 1024)] ^= data[i];
	}
	if (!memcmp(dh, "cxsparse", 8))
		put_be32(dh + 36, csum(dh, 1024, 36));
	if (!memcmp(f, "conectix", 8))
		put_be32(f + 64, csum(f, 512, 64));
	memcpy(img, f, 512);
	bsw_src_mem_init(&src, &m, img, FSIZE);
	cont_walk(&bsw_vhd_ops, &src);
	return 0;
}
