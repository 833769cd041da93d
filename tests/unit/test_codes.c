/*
 * Every catalogue code of the finding table has its meaning, next step and
 * source in scanner/problems/codes.def (shown by report, scan's summary and
 * docs/findings.md), and codes.def names no code the table lacks.
 */
#include <stdio.h>
#include <string.h>

#include "formats/common/finding.h"
#include "scanner/results.h"

int main(void)
{
	int fails = 0;

	for (unsigned p = 0; p < BSW_PROBLEM_COUNT; p++) {
		const struct bsw_problem_info *pi = bsw_problem_info(p);
		const struct bsw_code_info *ci = bsw_code_info(pi->code);

		if (!ci) {
			printf("FAIL %s (%s) has no row in codes.def\n", pi->code, pi->name);
			fails++;
		} else if (strlen(ci->meaning) < 20 || strlen(ci->next) < 10 ||
			   strlen(ci->source) < 5) {
			printf("FAIL %s: meaning, next step or source too short\n", pi->code);
			fails++;
		}
	}
	for (size_t i = 0; i < bsw_code_count(); i++) {
		const struct bsw_code_info *ci = bsw_code_at(i);
		unsigned p;

		for (p = 0; p < BSW_PROBLEM_COUNT; p++)
			if (!strcmp(bsw_problem_info(p)->code, ci->code))
				break;
		if (p == BSW_PROBLEM_COUNT) {
			printf("FAIL codes.def row %s: no finding has this code\n", ci->code);
			fails++;
		}
	}
	printf("%s (%zu codes)\n", fails ? "FAILED" : "ok   test_codes", bsw_code_count());
	return fails ? 1 : 0;
}
