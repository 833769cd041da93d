/* libFuzzer target: a BCD store (hive load, then objects and elements). */
#include <stdint.h>

#include "formats/bcd/bcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_hive *h;
	struct bsw_bcd b;
	struct bsw_bcd_device dv;

	bsw_bcd_parse_device(data, size, &dv);
	if (bsw_hive_load(&h, data, size, NULL, 0, NULL))
		return 0;
	if (bsw_hive_root(h))
		bsw_bcd_parse(h, &b);
	bsw_hive_free(h);
	return 0;
}
