/*
 * libFuzzer target: qcow2 header, extensions, backing name, L1, L2 and
 * extended L2 entries, compressed clusters (deflate, zstd), on a sparse
 * image described by the input (sparse_src.h).  Every byte of a memory
 * extent is read, so a pointer out of the decompressed-cluster cache that
 * is not valid for its length shows under ASan.
 */
#include <stdlib.h>

#include "formats/cont/cont.h"
#include "sparse_src.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_cont_info ci = { 0 };
	struct sparse sp;
	struct bsw_src src;
	struct bsw_fx *fx;
	/* a small cap, so the budget paths run too */
	struct bsw_cont_opts o = { .mem_cap = 64u << 20 };
	char err[256];
	void *h;

	sparse_init(&sp, &src, data, size);
	if (bsw_qcow2_ops.probe(&src) <= 0 || bsw_fx_create(&fx))
		return 0;
	if (bsw_qcow2_ops.open(&h, &src, &o, fx, &ci, err, sizeof(err)) == 0) {
		uint64_t off = 0, step = ci.virtual_size / 96 + 1;
		volatile uint8_t sink = 0;

		for (int k = 0; k < 128 && off < ci.virtual_size; k++) {
			struct bsw_cext e;

			if (bsw_qcow2_ops.map(h, off, ci.virtual_size - off, &e))
				break;
			if (e.len == 0 || e.len > ci.virtual_size - off)
				abort(); /* map must make progress, inside the disk */
			if (e.kind == BSW_CEXT_MEM)
				for (uint64_t i = 0; i < e.len; i += 61)
					sink ^= e.mem[i];
			/* the first 64 extents in a row, then jumps */
			off += (k < 64 || e.len > step) ? e.len : step;
		}
		(void)sink;
		bsw_qcow2_ops.close(h);
		bsw_cont_info_free(&ci);
	}
	bsw_fx_destroy(fx);
	return 0;
}
