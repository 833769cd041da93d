/* Fuzz target: a whole hive image, bins, cells and the key tree verified. */
#include <stddef.h>
#include <stdint.h>

#include "formats/regf/regf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_fx *fx = NULL;
	struct bsw_hive *h;

	if (bsw_fx_create(&fx))
		return 0;
	bsw_fx_set_damage(fx, BSW_V_ROLLBACK);
	if (bsw_hive_load(&h, data, size, NULL, 0, fx) == 0)
		bsw_hive_free(h);
	bsw_fx_destroy(fx);
	return 0;
}
