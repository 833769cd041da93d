/*
 * bootsweep query COND RESULTS.jsonl... : which disks of a finished sweep
 * match a condition (docs/rules.md, "The one-line form").  The condition
 * language is the rules' (scanner/rules.c); it is evaluated against each
 * result line: packages and boot-start driver files come from the line's
 * "inventory" (scan --inventory), codes from its findings, rule ids from
 * its "rules".  Registry conditions need the disk itself (scan --query).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "scanner/cmds.h"
#include "formats/common/finding.h"
#include "formats/common/bytes.h"
#include "scanner/report.h"
#include "scanner/results.h"
#include "scanner/rules.h"

struct qenv {
	const struct bsw_rdisk *d;
	const struct bsw_jval *inv; /* "inventory" of the line, or NULL */
};

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* the inventory of a line: -ENODATA when the sweep did not write one */
static int q_inv(struct qenv *e, const char *member, const struct bsw_jval **out)
{
	const struct bsw_jval *m;

	if (!e->inv)
		return -ENODATA;
	*out = NULL;
	if (e->inv->type != BSW_J_OBJ)
		return -ENOENT; /* null: no Windows volume, nothing to say */
	m = bsw_jget(e->inv, member);
	if (m && m->type == BSW_J_ARR)
		*out = m;
	return 0;
}

static int q_files(void *ctx, const char *glob, unsigned need, bsw_rfile_fn fn, void *arg)
{
	const struct bsw_jval *a;
	int r = q_inv(ctx, "boot_drivers", &a);

	if (r || !a)
		return r;
	for (size_t i = 0; i < a->len; i++) {
		const struct bsw_jval *it = &a->items[i];
		const char *path = bsw_jstr(it, "path", NULL), *s;
		const struct bsw_jval *z;
		struct bsw_rfile f = { 0 };

		if (!path || !bsw_glob_match(glob, path) || bsw_jget(it, "size") == NULL)
			continue; /* a missing driver: no file */
		f.path = path;
		f.size = (uint64_t)bsw_jnum(it, "size", 0);
		f.why = bsw_jstr(it, "error", NULL);
		s = bsw_jstr(it, "sha256", NULL);
		if (s && strlen(s) == 64) {
			for (int k = 0; k < 32; k++)
				f.sha256[k] =
					(uint8_t)(hexval(s[2 * k]) << 4 | hexval(s[2 * k + 1]));
			f.have_sha256 = true;
		}
		z = bsw_jget(it, "all_zero");
		if (z && z->type == BSW_J_BOOL) {
			f.have_zero = true;
			f.all_zero = z->b;
		}
		s = bsw_jstr(it, "pe_version", NULL);
		if (s) {
			unsigned a4[4];

			if (sscanf(s, "%u.%u.%u.%u", &a4[0], &a4[1], &a4[2], &a4[3]) == 4 &&
			    a4[0] < 65536 && a4[1] < 65536 && a4[2] < 65536 && a4[3] < 65536) {
				f.pe_version = (uint64_t)a4[0] << 48 | (uint64_t)a4[1] << 32 |
					       (uint64_t)a4[2] << 16 | a4[3];
				f.have_pe_version = true;
			}
		}
		s = bsw_jstr(it, "link_time", NULL);
		if (s) {
			struct tm tm = { 0 };
			const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);

			if (end && !*end) {
				f.link_time = (int64_t)timegm(&tm);
				f.have_link_time = true;
			}
		}
		(void)need;
		if (fn(arg, &f))
			break;
	}
	return 0;
}

static int q_packages(void *ctx, bsw_rpkg_fn fn, void *arg)
{
	const struct bsw_jval *a;
	int r = q_inv(ctx, "packages", &a);

	if (r || !a)
		return r;
	for (size_t i = 0; i < a->len; i++) {
		const char *id = bsw_jstr(&a->items[i], "identity", NULL);
		double st = bsw_jnum(&a->items[i], "state_code", -1);

		if (!id || st < 0 || st > 4294967295.0)
			continue;
		if (fn(arg, id, (uint32_t)st))
			break;
	}
	return 0;
}

static bool q_code(void *ctx, const char *code)
{
	struct qenv *e = ctx;

	return bsw_rdisk_has(e->d, code);
}

static bool q_rule(void *ctx, const char *id)
{
	struct qenv *e = ctx;
	const struct bsw_jval *a = bsw_jget(&e->d->line, "rules");

	for (size_t i = 0; a && a->type == BSW_J_ARR && i < a->len; i++) {
		const char *s = bsw_jstr(&a->items[i], "id", NULL);

		if (s && !strcmp(s, id))
			return true;
	}
	return false;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bootsweep query COND RESULTS.jsonl... [--json]\n"
		   "COND: pkg:GLOB[=STATE], kb:N[=STATE], file:GLOB[,zero|,nonzero],\n"
		   "      code:CODE, rule:ID, verdict:V; '!' before a term negates it;\n"
		   "      terms joined by ' and ' (docs/rules.md).  Package and file\n"
		   "      terms need results swept with scan --inventory.\n"
		   "exit: 0 a disk matched, 1 none, 8 data missing or unreadable, 16 usage\n");
}

int bsw_cmd_query(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bsw_results res = { 0 };
	struct bsw_rules *rs = NULL;
	bool json = false;
	size_t matched = 0, missing = 0;
	char err[512];
	int c, r, ret = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'J': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return BSW_EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr,
			"bootsweep query: want a condition and at least one results file\n");
		usage(stderr);
		return BSW_EXIT_USAGE;
	}
	r = bsw_rules_add_query(&rs, argv[optind], err, sizeof(err));
	if (r) {
		fprintf(stderr, "bootsweep query: %s\n", r == -ENOMEM ? "out of memory" : err);
		bsw_rules_free(rs);
		return r == -ENOMEM ? BSW_EXIT_OPERR : BSW_EXIT_USAGE;
	}
	if (bsw_rules_need_registry(rs)) {
		fprintf(stderr,
			"bootsweep query: registry conditions need the disks themselves: "
			"use bootsweep scan --query '%s' (results hold no registry)\n",
			argv[optind]);
		bsw_rules_free(rs);
		return BSW_EXIT_USAGE;
	}
	r = bsw_results_load(&res, argv + optind + 1, (size_t)(argc - optind - 1));
	if (r) {
		fprintf(stderr, "bootsweep query: cannot read the results: %s\n", strerror(-r));
		ret = BSW_EXIT_OPERR;
		goto out;
	}
	if (res.bad_lines)
		ret |= BSW_EXIT_OPERR;
	for (size_t i = 0; i < res.nr; i++) {
		const struct bsw_rdisk *d = &res.d[i];
		struct qenv qe = { .d = d, .inv = bsw_jget(&d->line, "inventory") };
		struct bsw_renv env = {
			.ctx = &qe,
			.files = q_files,
			.packages = q_packages,
			.has_code = q_code,
			.has_rule = q_rule,
			.verdict = bsw_rverdict_name(d->verdict),
		};
		char *buf = NULL;
		size_t blen = 0;
		FILE *m = open_memstream(&buf, &blen);
		int bits;

		if (!m) {
			ret |= BSW_EXIT_OPERR;
			break;
		}
		bits = bsw_rules_eval_json(rs, &env, m);
		fclose(m);
		if (env.nodata)
			missing++;
		if (bits) {
			struct bsw_jval v;
			size_t where;

			matched++;
			if (json) {
				/* the evidence of the one "query" match */
				const struct bsw_jval *e = NULL;
				const char *ev[64];
				size_t nev = 0;
				bool parsed = !bsw_json_parse(buf, blen, &v, &where);

				if (parsed && v.len)
					e = bsw_jget(&v.items[0], "evidence");
				for (size_t k = 0; e && e->type == BSW_J_ARR && k < e->len &&
						   nev < BSW_ARRAY_SIZE(ev);
				     k++)
					ev[nev++] = e->items[k].str;
				bsw_report_query_json(stdout, d->image,
						      bsw_rverdict_name(d->verdict), ev, nev);
				fputc('\n', stdout);
				if (parsed)
					bsw_json_free(&v);
			} else {
				printf("%s\n", d->image);
			}
		}
		free(buf);
	}
	if (missing) {
		fprintf(stderr,
			"bootsweep query: %zu of %zu disks have no inventory in their results line: "
			"package and file conditions need a sweep with scan --inventory%s\n",
			missing, res.nr,
			missing == res.nr ? "" : " (those disks were not counted)");
		ret |= BSW_EXIT_OPERR;
	}
	fprintf(stderr, "bootsweep query: %zu of %zu disks match\n", matched, res.nr);
	if (!matched && !(ret & BSW_EXIT_OPERR))
		ret |= 1;
out:
	bsw_results_free(&res);
	bsw_rules_free(rs);
	return ret;
}
