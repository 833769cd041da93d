/*
 * NTFS paths pass: every in-use base record from 16 on must reach the
 * root through the parent references of its path name.
 *
 * Tests: a chain that loops or is deeper than BSW_NTFS_MAX_DEPTH
 * (NTFS-REC path loop).  A chain that ends at a missing parent is an
 * orphan, not a loop, and passes.
 *
 * Collects: nothing (its per-record memo is freed at the end).
 */
#include <stdlib.h>

#include "formats/ntfs/ntfs_internal.h"

/*
 * Walk each record's chain up to the root, remembering per record whether
 * its chain is known good (1) or bad (2), so the whole walk is linear in
 * the number of records even when a forged volume chains them all in one
 * line.
 */
int bsw_ntfs_pass_paths(struct bsw_ntfs *v)
{
	uint64_t r, path[BSW_NTFS_MAX_DEPTH];
	uint8_t *st = calloc(v->nr_recs, 1);

	if (!st)
		return 0;
	for (r = 16; r < v->nr_recs; r++) {
		const struct ntfs_rsum *s = &v->recs[r];
		uint64_t cur = r;
		unsigned d = 0, k;
		uint8_t verdict = 1;

		if (!(s->rflags & BSW_NTFS_R_INUSE) || s->base || !s->nr_names || st[r])
			continue;
		for (;;) {
			const struct ntfs_name *n;

			if (cur == NTFS_ROOT_REC || cur >= v->nr_recs)
				break;
			if (st[cur]) {
				verdict = st[cur];
				break;
			}
			for (k = 0; k < d && path[k] != cur; k++)
				;
			if (k < d || d == BSW_NTFS_MAX_DEPTH) {
				verdict = 2; /* a loop, or deeper than the cap */
				break;
			}
			n = bsw_ntfs_main_name(v, cur);
			if (!n)
				break; /* an orphan, not a loop */
			path[d++] = cur;
			cur = n->parent;
		}
		for (k = 0; k < d; k++)
			st[path[k]] = verdict;
		if (verdict == 2)
			BSW_REPORT(v->fx, PR_NTFS_1_PATH_LOOP, .rec = r);
	}
	free(st);
	return 0;
}
