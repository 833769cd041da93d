/*
 * libFuzzer target: GPT (UEFI 2.10 5.3).  The input is XORed onto a valid
 * in-memory GPT disk (tests/unit/gpt_build.h): the protective MBR, the
 * primary header, its entry array, then the backup header.  The entry-array
 * and header CRCs are recomputed while the signatures survive, so mutants
 * reach the entry and range checks and the primary/backup choice.
 */
#include <stdlib.h>

#include "formats/part/part.h"
#include "../unit/gpt_build.h"

static void fix(uint32_t lba)
{
	uint8_t *h = disk + (uint64_t)lba * 512;
	uint64_t arr = get_le64(h + 72);
	uint64_t alen = (uint64_t)get_le32(h + 80) * get_le32(h + 84);
	uint32_t hs = get_le32(h + 12);

	if (memcmp(h, "EFI PART", 8))
		return;
	if (arr < DISK / 512 && alen <= DISK - arr * 512)
		put_le32(h + 88, bsw_crc32(0, disk + arr * 512, alen));
	if (hs >= 92 && hs <= 512) {
		put_le32(h + 16, 0);
		put_le32(h + 16, bsw_crc32(0, h, hs));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bsw_part_table t;
	struct bsw_src src;
	struct bsw_src_mem m;
	struct bsw_fx *fx;
	uint32_t last = DISK / 512 - 1;

	if (!disk && !(disk = malloc(DISK)))
		return 0;
	make_gpt(512);
	/* MBR, primary header, first 16 KiB of the array, backup header */
	for (size_t i = 0; i < size && i < 512 * 3 + 16384; i++) {
		size_t at = i < 512 * 2 + 16384 ? i : (size_t)last * 512 + (i - 1024 - 16384);

		disk[at] ^= data[i];
	}
	fix(1);
	fix(last);
	bsw_src_mem_init(&src, &m, disk, DISK);
	if (bsw_fx_create(&fx))
		return 0;
	bsw_part_parse(&src, 512, &t, fx);
	bsw_fx_destroy(fx);
	return 0;
}
