/*
 * libFuzzer target: the two VHDX headers and region table 1 (MS-VHDX 2.2),
 * on the template with a pending log.  The input is XORed onto header 1,
 * header 2 and the first 4 KiB of region table 1 (4 KiB each); structures
 * that keep their signature get a valid CRC-32C again, so the fuzzer
 * reaches the fields behind the checksum.
 */
#include "vhdx_tmpl.h"
#include "cont_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t at[3] = { 64 * 1024, 128 * 1024, 192 * 1024 };
	struct bsw_src src;
	struct bsw_src_mem m;

	if (!tmpl_work(TMPL_LOG))
		return 0;
	for (size_t i = 0; i < size && i < 3 * 4096; i++)
		img[at[i / 4096] + i % 4096] ^= data[i];
	for (int k = 0; k < 2; k++)
		if (!memcmp(img + at[k], "head", 4))
			crc_at(img + at[k], 4096, 4);
	if (!memcmp(img + at[2], "regi", 4))
		crc_at(img + at[2], 64 * 1024, 4);
	bsw_src_mem_init(&src, &m, img, FSIZE);
	cont_walk(&bsw_vhdx_ops, &src);
	tmpl_restore(TMPL_LOG, at[0], 4096);
	tmpl_restore(TMPL_LOG, at[1], 4096);
	tmpl_restore(TMPL_LOG, at[2], 64 * 1024);
	return 0;
}
