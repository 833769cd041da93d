/*
 * libFuzzer target: VMDK sparse header, footer, embedded descriptor, grain
 * directory and tables, compressed grains with markers (sparse_src.h
 * image), and the descriptor parser on the input read as text.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/cont/cont.h"
#include "formats/vmdk/vmdk.h"
#include "sparse_src.h"

static void walk(void *h, uint64_t size)
{
	uint64_t off = 0, step = size / 96 + 1;
	volatile uint8_t sink = 0;

	for (int k = 0; k < 128 && off < size; k++) {
		struct bsw_cext e;

		if (bsw_vmdk_ops.map(h, off, size - off, &e))
			break;
		if (e.len == 0 || e.len > size - off)
			abort();
		if (e.kind == BSW_CEXT_MEM)
			for (uint64_t i = 0; i < e.len; i += 61)
				sink ^= e.mem[i];
		off += (k < 64 || e.len > step) ? e.len : step;
	}
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_cont_info ci = { 0 };
	struct bsw_vmdk_desc d;
	struct sparse sp;
	struct bsw_src src;
	struct bsw_fx *fx;
	struct bsw_cont_opts o = { .mem_cap = 64u << 20 };
	char err[256];
	void *h;

	if (bsw_vmdk_desc_parse((const char *)data, size, &d, err, sizeof(err)) == 0) {
		/* every extent line and the parent fields are usable */
		for (unsigned i = 0; i < d.nr; i++)
			if (!d.ext[i].sectors ||
			    (d.ext[i].type != BSW_VMDK_EXT_ZERO && !d.ext[i].file))
				abort();
		if (bsw_vmdk_desc_info(&d, &ci, err, sizeof(err)) == 0)
			bsw_cont_info_free(&ci);
		bsw_vmdk_desc_free(&d);
	}
	sparse_init(&sp, &src, data, size);
	if (bsw_fx_create(&fx))
		return 0;
	memset(&ci, 0, sizeof(ci));
	if (bsw_vmdk_ops.probe(&src) > 0 &&
	    bsw_vmdk_ops.open(&h, &src, &o, fx, &ci, err, sizeof(err)) == 0) {
		walk(h, ci.virtual_size);
		bsw_vmdk_ops.close(h);
		bsw_cont_info_free(&ci);
	}
	/* the same file as one extent of a split disk (no descriptor needed) */
	if (bsw_vmdk_extent_open(&h, &src, &o, fx, 2048, true, err, sizeof(err)) == 0) {
		walk(h, 2048 * 512);
		bsw_vmdk_ops.close(h);
	}
	bsw_fx_destroy(fx);
	return 0;
}
