/*
 * The classifier (docs/classifier.md): one verdict per disk from its
 * findings.
 *   unassessable  if any finding implies UNASSESS (encrypted, not Windows,
 *                 empty, unreadable, a scan limit);
 *   unbootable    else if any finding implies UNBOOT;
 *   dirty-rollback else if any implies ROLLBACK;
 *   clean         otherwise (crash-consistent states such as REG-DIRTY with
 *                 good logs, NTFS-LOGCLEAN, NTFS-VOLFLAG imply NONE).
 * The codes of the findings at the winning verdict are "decided_by".
 */
#include <stdlib.h>
#include <string.h>

#include "scanner/checks/triage.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

enum bsw_verdict bsw_classify(const struct bsw_fx *fx, const char ***codes, unsigned *nr)
{
	enum bsw_verdict v = BSW_V_NONE;
	size_t i, n = bsw_fx_count(fx);
	const char **out;
	unsigned k = 0, j;

	for (i = 0; i < n; i++) {
		const struct bsw_finding *f = bsw_fx_get(fx, i);

		if (f->verdict > v)
			v = f->verdict;
	}
	*codes = NULL;
	*nr = 0;
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out)
		return v;
	for (i = 0; i < n; i++) {
		const struct bsw_finding *f = bsw_fx_get(fx, i);
		const struct bsw_problem_info *pi = bsw_problem_info(f->problem);

		if (f->verdict != v || (pi->flags & BSW_PF_HEADER) || f->problem == PR_0_SUPPRESSED)
			continue;
		/* a clean disk is decided by the absence of problems */
		if (v == BSW_V_NONE)
			continue;
		for (j = 0; j < k; j++)
			if (!strcmp(out[j], pi->code))
				break;
		if (j == k)
			out[k++] = pi->code;
	}
	qsort(out, k, sizeof(*out), cmp_str);
	*codes = out;
	*nr = k;
	return v;
}
