/*
 * Shared by the structure-focused container fuzz targets: open src with
 * ops, walk the virtual disk in at most 64 extents (map must progress),
 * close.  Findings are collected and dropped.
 */
#ifndef BSW_CONT_WALK_H
#define BSW_CONT_WALK_H

#include <stdlib.h>

#include "formats/cont/cont.h"

static void cont_walk(const struct bsw_cont_ops *ops, const struct bsw_src *src)
{
	struct bsw_cont_info ci = { 0 };
	struct bsw_fx *fx;
	char err[256];
	void *h;

	if (ops->probe(src) <= 0 || bsw_fx_create(&fx))
		return;
	if (ops->open(&h, src, NULL, fx, &ci, err, sizeof(err)) == 0) {
		uint64_t off = 0, step = ci.virtual_size / 64 + 1;

		for (int k = 0; k < 64 && off < ci.virtual_size; k++) {
			struct bsw_cext e;

			if (ops->map(h, off, ci.virtual_size - off, &e))
				break;
			if (e.len == 0)
				abort(); /* map must make progress */
			if (e.kind == BSW_CEXT_MEM && e.mem)
				(void)*(volatile const uint8_t *)(e.mem + e.len - 1);
			off += e.len > step ? e.len : step;
		}
		ops->close(h);
		bsw_cont_info_free(&ci);
	}
	bsw_fx_destroy(fx);
}

#endif
