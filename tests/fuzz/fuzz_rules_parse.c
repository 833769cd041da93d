/*
 * Rule files (scanner/rules.c) come from whoever hands them to a sweep:
 * any bytes parse into rules or are refused with a reason, without a
 * leak, a read past the end or unbounded work.  Inputs whose first byte is
 * '!' are also tried as a one-line condition (scan --query, query).  What
 * parses is evaluated against an empty environment, and its JSON output
 * must parse back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/json.h"
#include "scanner/rules.h"

static int no_files(void *ctx, const char *glob, unsigned need, bsw_rfile_fn fn, void *arg)
{
	struct bsw_rfile f = { .path = "\\Windows\\x.sys", .size = 1, .have_zero = true };

	(void)bsw_glob_match(glob, f.path);
	return fn(arg, &f) < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_rules *rs = NULL;
	struct bsw_renv env = { .files = no_files, .now = 1 };
	char err[512];
	char *buf = NULL;
	size_t blen = 0;
	int r;

	if (size && data[0] == '!') {
		char *q = malloc(size);

		if (!q)
			return 0;
		memcpy(q, data + 1, size - 1);
		q[size - 1] = 0;
		r = bsw_rules_add_query(&rs, q, err, sizeof(err));
		free(q);
	} else {
		r = bsw_rules_parse(&rs, (const char *)data, size, "fuzz", err, sizeof(err));
	}
	if (r && !err[0] && r != -12)
		abort(); /* every refusal says why */
	if (!r) {
		FILE *m = open_memstream(&buf, &blen);

		if (m) {
			struct bsw_jval v;
			size_t where;

			bsw_rules_eval_json(rs, &env, m);
			fclose(m);
			if (bsw_json_parse(buf, blen, &v, &where))
				abort(); /* the rules member must be JSON */
			bsw_json_free(&v);
			free(buf);
		}
	}
	bsw_rules_free(rs);
	return 0;
}
