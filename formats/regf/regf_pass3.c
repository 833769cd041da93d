/*
 * Pass 3: accounting, what pass 2 counted against what the hive says
 * (spec: Key security, notes 2-4), as e2fsck's pass 5 compares its own
 * bitmaps with the on-disk ones.
 *
 * tests:    each security cell's reference count is at least the number of
 *           keys using it (a lower count lets Windows free a descriptor
 *           still in use); the flink/blink ring through the security cells
 *           is consistent, closes on itself and holds every cell in use.
 *           (Per-key subkey and value counts are checked by pass 2, where
 *           the lists are read; free versus used space is not checked.)
 * stops:    it is the last pass.
 * collects: nothing.  Reads r->sk (pass 2) and h->alloc (pass 1).
 * Findings: PR_REGF_2_SK (0x040204: ids are permanent, and this check
 * was part of pass 2 when the id was given).
 */
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/regf/regf_int.h"

int bsw_regf_pass3_account(struct bsw_regf_run *r)
{
	struct bsw_hive *h = r->h;
	uint64_t *ring;
	uint32_t start = 0, cur, steps = 0;

	for (size_t i = 0; i < r->sk_cap; i++) {
		uint32_t sz;
		const uint8_t *sk;

		if (!r->sk[i].off)
			continue;
		sk = bsw_regf_cell(h, r->sk[i].off, &sz);
		if (!start)
			start = r->sk[i].off;
		/* A lower count lets Windows free a descriptor still in use. */
		if (sk && get_le32(sk + 12) < r->sk[i].refs)
			bsw_regf_bad(
				h, PR_REGF_2_SK,
				(struct bsw_fctx){
					.cell = r->sk[i].off,
					.str = "reference count is lower than the keys using it",
					.n = get_le32(sk + 12),
					.n2 = r->sk[i].refs });
	}
	if (!start)
		return 0;
	ring = calloc(bsw_regf_words(h->bins), sizeof(*ring));
	if (!ring)
		return 0; /* no memory: the ring goes unchecked */
	cur = start;
	do {
		uint32_t sz, nsz, next;
		const uint8_t *sk = bsw_regf_cell(h, cur, &sz), *nx;

		bsw_regf_setbit(ring, cur);
		next = get_le32(sk + 4);
		nx = bsw_regf_cell(h, next, &nsz);
		if (!nx || nsz < 20 || memcmp(nx, "sk", 2)) {
			bsw_regf_bad(h, PR_REGF_2_SK,
				     (struct bsw_fctx){ .cell = cur,
							.str = "flink is not an allocated sk cell",
							.n = next,
							.n2 = 0 });
			break;
		}
		if (get_le32(nx + 8) != cur) {
			bsw_regf_bad(
				h, PR_REGF_2_SK,
				(struct bsw_fctx){
					.cell = next,
					.str = "blink does not point back at the previous cell",
					.n = get_le32(nx + 8),
					.n2 = cur });
			break;
		}
		if (next != start && bsw_regf_bit(ring, next)) {
			bsw_regf_bad(h, PR_REGF_2_SK,
				     (struct bsw_fctx){
					     .cell = next,
					     .str = "ring loops without returning to its start",
					     .n = next,
					     .n2 = start });
			break;
		}
		cur = next;
	} while (cur != start && ++steps < h->bins / 8);
	/* Every referenced sk must be on the ring. */
	for (size_t i = 0; i < r->sk_cap; i++) {
		if (r->sk[i].off && !bsw_regf_bit(ring, r->sk[i].off) && cur == start) {
			bsw_regf_bad(h, PR_REGF_2_SK,
				     (struct bsw_fctx){ .cell = r->sk[i].off,
							.str = "security cell is not on the ring",
							.n = r->sk[i].refs,
							.n2 = 0 });
			break;
		}
	}
	free(ring);
	return 0;
}
