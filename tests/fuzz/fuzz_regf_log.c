/*
 * Fuzz target: transaction log replay.  The input is a log file (old or new
 * format) replayed against a fixed dirty primary made here: a minimal hive
 * whose sequence numbers differ, so every input goes through replay.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/regf/regf_int.h"

static uint8_t primary[8192];

static void make_primary(void)
{
	uint8_t *b = primary, *bin = primary + 4096;

	memcpy(b, "regf", 4);
	put_le32(b + 4, 2);
	put_le32(b + 8, 1);
	put_le32(b + 20, 1);
	put_le32(b + 24, 5);
	put_le32(b + 32, 1);
	put_le32(b + 36, 0x20);
	put_le32(b + 40, 4096);
	put_le32(b + 44, 1);
	put_le32(b + 508, bsw_regf_checksum(b));
	memcpy(bin, "hbin", 4);
	put_le32(bin + 8, 4096);
	put_le32(bin + 32, (uint32_t)-4064); /* one free-less big cell */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_fx *fx = NULL;
	struct bsw_buf logs[2];
	struct bsw_hive *h;
	size_t half = size / 2;

	if (bsw_fx_create(&fx))
		return 0;
	if (!primary[0])
		make_primary();
	/* Whole input as LOG1; its second half also as LOG2 (dual logs). */
	logs[0] = (struct bsw_buf){ data, size, "LOG1" };
	logs[1] = (struct bsw_buf){ data + half, size - half, "LOG2" };
	if (bsw_hive_load(&h, primary, sizeof(primary), logs, 2, NULL) == 0)
		bsw_hive_free(h);
	bsw_fx_destroy(fx);
	return 0;
}
