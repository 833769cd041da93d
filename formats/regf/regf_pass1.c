/*
 * Pass 1: hive bins and cells (spec: Hive bin; Cell), the loop of hivex's
 * hivex_open: one sequential scan of the hive bins data.
 *
 * tests:    each bin: "hbin" signature, offset field = its position, size
 *           a non-zero multiple of 4096 (note 1) inside the bins size;
 *           each cell: size non-zero, a multiple of 8, inside its bin, and
 *           the cells fill the bin exactly.  A bad bin ends the scan: the
 *           bins after it are not trusted.
 * stops:    never: the tree is walked inside the extent verified.
 * collects: h->alloc, one bit per 8 bytes set at every allocated cell
 *           start (the only cells any later pass or query follows, through
 *           bsw_regf_cell()); h->bins, the extent verified; h->seen (zeroed,
 *           for the walks); h->root and h->minor from the base block.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/regf/regf_int.h"

static void verify_bins(struct bsw_hive *h, uint32_t bins)
{
	uint32_t off = 0;

	while (off < bins) {
		const uint8_t *b = h->buf + BSW_REGF_BASE_SIZE + off;
		uint32_t size, p, end;

		if (bins - off < BSW_REGF_HBIN_HDR) {
			bsw_regf_bad(
				h, PR_REGF_1_HBIN,
				(struct bsw_fctx){ .cell = off,
						   .str = "hive bins data ends inside a bin header",
						   .n = bins - off });
			break;
		}
		if (memcmp(b, "hbin", 4)) {
			bsw_regf_bad(h, PR_REGF_1_HBIN,
				     (struct bsw_fctx){ .cell = off,
							.str = "signature is not \"hbin\"",
							.n = get_le32(b) });
			break;
		}
		if (get_le32(b + 4) != off) {
			bsw_regf_bad(
				h, PR_REGF_1_HBIN,
				(struct bsw_fctx){
					.cell = off,
					.str = "offset field does not match the bin's position",
					.n = get_le32(b + 4) });
			break;
		}
		size = get_le32(b + 8);
		/* Note 1: a bin is a multiple of 4096 bytes. */
		if (size < 4096 || (size & 4095)) {
			bsw_regf_bad(
				h, PR_REGF_1_HBIN,
				(struct bsw_fctx){ .cell = off,
						   .str = "size is not a non-zero multiple of 4096",
						   .n = size });
			break;
		}
		if (size > bins - off) {
			bsw_regf_bad(h, PR_REGF_1_HBIN,
				     (struct bsw_fctx){
					     .cell = off,
					     .str = "bin extends past the hive bins data size",
					     .n = size });
			break;
		}
		end = off + size;
		/* Cells fill the bin without gaps; sizes are 8-aligned. */
		for (p = off + BSW_REGF_HBIN_HDR; p < end;) {
			int32_t sz = (int32_t)get_le32(h->buf + BSW_REGF_BASE_SIZE + p);
			uint32_t a = sz < 0 ? (uint32_t)(-(int64_t)sz) : (uint32_t)sz;

			if (sz == 0 || a < 8 || (a & 7) || a > end - p) {
				bsw_regf_bad(
					h, PR_REGF_1_CELL,
					(struct bsw_fctx){
						.cell = p,
						.str = a > end - p ?
							       "cell extends past its bin" :
							       "cell size is zero or not a multiple of 8",
						.n = (uint32_t)sz });
				break;
			}
			if (sz < 0)
				bsw_regf_setbit(h->alloc, p);
			p += a;
		}
		off = end;
	}
	h->bins = off < bins ? off : bins;
}

int bsw_regf_pass1_bins(struct bsw_regf_run *r)
{
	struct bsw_hive *h = r->h;
	uint32_t bins = get_le32(h->buf + 40);
	size_t words;

	/* the copy holds what the base block (or the replay) says, or less */
	if ((uint64_t)BSW_REGF_BASE_SIZE + bins > h->len)
		bins = (uint32_t)(h->len - BSW_REGF_BASE_SIZE);
	bins &= ~4095u;
	words = bsw_regf_words(bins);
	free(h->alloc);
	free(h->seen);
	h->alloc = calloc(words, sizeof(uint64_t));
	h->seen = calloc(words, sizeof(uint64_t));
	if (!h->alloc || !h->seen)
		return -ENOMEM;
	h->minor = get_le32(h->buf + 24);
	h->root = get_le32(h->buf + 36);
	h->bins = 0;
	verify_bins(h, bins);
	return 0;
}
