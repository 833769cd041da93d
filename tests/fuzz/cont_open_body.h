/*
 * Body of the container fuzz targets: open + map of BSW_FUZZ_OPS, on a
 * sparse image described by the input (tests/fuzz/sparse_src.h).  The
 * first byte after the record list is ignored; the format is probed as the
 * scanner probes it.
 */
#include <stdlib.h>

#include "formats/cont/cont.h"
#include "sparse_src.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct bsw_cont_ops *const ops[] = { &BSW_FUZZ_OPS };
	struct sparse sp;
	struct bsw_src src;

	sparse_init(&sp, &src, data, size);
	for (unsigned i = 0; i < 1; i++) {
		struct bsw_cont_info ci = { 0 };
		struct bsw_fx *fx;
		char err[256];
		void *h;

		if (ops[i]->probe(&src) <= 0)
			continue;
		if (bsw_fx_create(&fx))
			return 0;
		if (ops[i]->open(&h, &src, NULL, fx, &ci, err, sizeof(err)) == 0) {
			/* walk the whole disk in 64 extents at most */
			uint64_t off = 0, step = ci.virtual_size / 64 + 1;

			for (int k = 0; k < 64 && off < ci.virtual_size; k++) {
				struct bsw_cext e;

				if (ops[i]->map(h, off, ci.virtual_size - off, &e))
					break;
				if (e.len == 0)
					abort(); /* map must make progress */
				off += e.len > step ? e.len : step;
			}
			ops[i]->close(h);
			bsw_cont_info_free(&ci);
		}
		bsw_fx_destroy(fx);
		break;
	}
	return 0;
}
