/*
 * libFuzzer target: VHDX file identifier, headers and region tables
 * (MS-VHDX 2.1, 2.2).  The input is XORed onto header 1 (4 KiB), then
 * header 2, then region table 1 (first 4 KiB); each keeps a valid
 * CRC-32C while its signature survives, so mutants reach the field checks
 * and the choice between the copies.
 */
#include "../unit/vhdx_build.h"
#include "cont_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *buf;
	static const uint32_t at[3] = { 64 * 1024, 128 * 1024, 192 * 1024 };
	struct bsw_src src;
	struct bsw_src_mem m;

	if (!buf && !(buf = malloc(FSIZE)))
		return 0;
	img = buf;
	make(false, true);
	log_with_bat_update();
	for (size_t i = 0; i < size && i < 3 * 4096; i++)
		img[at[i / 4096] + i % 4096] ^= data[i];
	for (int k = 0; k < 2; k++)
		if (!memcmp(img + at[k], "head", 4))
			crc_at(img + at[k], 4096, 4);
	if (!memcmp(img + at[2], "regi", 4))
		crc_at(img + at[2], 64 * 1024, 4);
	bsw_src_mem_init(&src, &m, img, FSIZE);
	cont_walk(&bsw_vhdx_ops, &src);
	return 0;
}
