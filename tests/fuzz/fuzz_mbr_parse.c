/*
 * libFuzzer target: MBR with an extended partition (the EBR chain).  The
 * input is XORed onto a valid in-memory disk (tests/unit/gpt_build.h
 * helpers): the MBR, then the three EBRs of the chain in order, so mutants
 * produce loops, runaway chains, out-of-range and overlapping entries.
 */
#include <stdlib.h>

#include "formats/part/part.h"
#include "../unit/gpt_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bsw_part_table t;
	static const uint32_t sec[4] = { 0, 4096, 4096 + 1024, 4096 + 2048 };
	struct bsw_src src;
	struct bsw_src_mem m;
	struct bsw_fx *fx;

	if (!disk && !(disk = malloc(DISK)))
		return 0;
	memset(disk, 0, DISK);
	mbr_entry(disk, 0, 0x80, 0x07, 2048, 2048);
	mbr_entry(disk, 1, 0, 0x0f, 4096, 4096);
	for (int k = 1; k < 4; k++) {
		uint8_t *e = disk + (uint64_t)sec[k] * 512;

		mbr_entry(e, 0, 0, 0x07, 8, 500);
		if (k < 3)
			mbr_entry(e, 1, 0, 0x05, sec[k + 1] - 4096, 1000);
	}
	for (size_t i = 0; i < size && i < 4 * 512; i++)
		disk[(uint64_t)sec[i / 512] * 512 + i % 512] ^= data[i];
	bsw_src_mem_init(&src, &m, disk, DISK);
	if (bsw_fx_create(&fx))
		return 0;
	bsw_part_parse(&src, 512, &t, fx);
	bsw_fx_destroy(fx);
	return 0;
}
