/* libFuzzer target: MBR/GPT parsing on a sparse disk (tests/fuzz/sparse_src.h). */
#include "formats/part/part.h"
#include "sparse_src.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bsw_part_table t;
	struct sparse sp;
	struct bsw_src src;
	struct bsw_fx *fx;

	sparse_init(&sp, &src, data, size);
	if (bsw_fx_create(&fx))
		return 0;
	bsw_part_parse(&src, 512, &t, fx);
	bsw_fx_destroy(fx);
	return 0;
}
