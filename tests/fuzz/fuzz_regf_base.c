/* Fuzz target: regf base block decoding and checks (no logs). */
#include <stddef.h>
#include <stdint.h>

#include "formats/regf/regf_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_fx *fx = NULL;
	struct bsw_regf_base b;
	struct bsw_hive *h;

	if (bsw_fx_create(&fx))
		return 0;
	if (bsw_regf_parse_base(data, size, &b))
		(void)bsw_regf_checksum(data);
	/* Only the first 8 KiB matter here: the base block and a bin header. */
	bsw_fx_set_damage(fx, BSW_V_UNBOOT);
	if (bsw_hive_load(&h, data, size < 8192 ? size : 8192, NULL, 0, fx) == 0)
		bsw_hive_free(h);
	bsw_fx_destroy(fx);
	return 0;
}
