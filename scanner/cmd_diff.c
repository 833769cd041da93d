/*
 * bootsweep diff OLD.jsonl NEW.jsonl [--json] [--verdict V]... [--code C]...
 *
 * What changed between two sweeps: disks whose verdict changed, findings
 * that appeared or cleared, disks that are new or gone.  Disks are matched
 * by identity: the container's own id when both lines carry one (so a
 * renamed or moved image is still the same disk), else the image path.
 * Exit status: 0 nothing changed, 1 something did, 8/16 as elsewhere.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/cmds.h"
#include "formats/common/finding.h"
#include "scanner/report.h"
#include "scanner/results.h"

enum change {
	SAME,
	VERDICT,
	FINDINGS,
	NEW,
	GONE
};

struct pair {
	const struct bsw_rdisk *a, *b; /* a: old (NULL if new), b: new (NULL if gone) */
	enum change ch;
};

struct keyed {
	const char *kind; /* "id" or "path" */
	const char *key;
	const struct bsw_rdisk *d;
};

static int cmp_keyed(const void *x, const void *y)
{
	const struct keyed *a = x, *b = y;
	int c = strcmp(a->kind, b->kind);

	return c ? c : strcmp(a->key, b->key);
}

/* Disks of r keyed by id where every disk carrying that id is alone with it. */
static struct keyed *keyed(const struct bsw_results *r, const struct bsw_results *other)
{
	struct keyed *k = calloc(r->nr + 1, sizeof(*k));

	if (!k)
		return NULL;
	for (size_t i = 0; i < r->nr; i++) {
		k[i].d = &r->d[i];
		k[i].kind = "path";
		k[i].key = r->d[i].image;
		/* ids are used only when both sweeps recorded them */
		if (r->d[i].key && other->nr && other->d[0].key) {
			k[i].kind = "id";
			k[i].key = r->d[i].key;
		}
	}
	qsort(k, r->nr, sizeof(*k), cmp_keyed);
	/* an id held by two disks (copied images) identifies neither */
	for (size_t i = 0; i + 1 < r->nr; i++)
		if (!cmp_keyed(&k[i], &k[i + 1]) && !strcmp(k[i].kind, "id")) {
			size_t j = i;

			while (j < r->nr && !cmp_keyed(&k[i], &k[j]))
				j++;
			for (size_t m = i; m < j; m++) {
				k[m].kind = "path";
				k[m].key = k[m].d->image;
			}
		}
	qsort(k, r->nr, sizeof(*k), cmp_keyed);
	return k;
}

static bool same_codes(const struct bsw_rdisk *a, const struct bsw_rdisk *b)
{
	if (a->nr_codes != b->nr_codes)
		return false;
	for (size_t i = 0; i < a->nr_codes; i++)
		if (strcmp(a->codes[i], b->codes[i]))
			return false;
	return true;
}

/* Pairs in a stable order (by key); *n gets their count. */
static struct pair *pairs(const struct bsw_results *a, const struct bsw_results *b, size_t *n)
{
	struct keyed *ka = keyed(a, b), *kb = keyed(b, a);
	struct pair *p = calloc(a->nr + b->nr + 1, sizeof(*p));
	size_t i = 0, j = 0, o = 0;

	if (!ka || !kb || !p) {
		free(ka);
		free(kb);
		free(p);
		return NULL;
	}
	while (i < a->nr || j < b->nr) {
		int c = i >= a->nr ? 1 : j >= b->nr ? -1 : cmp_keyed(&ka[i], &kb[j]);

		if (c < 0) {
			p[o++] = (struct pair){ .a = ka[i++].d, .ch = GONE };
		} else if (c > 0) {
			p[o++] = (struct pair){ .b = kb[j++].d, .ch = NEW };
		} else {
			struct pair q = { .a = ka[i++].d, .b = kb[j++].d, .ch = SAME };

			if (q.a->verdict != q.b->verdict)
				q.ch = VERDICT;
			else if (!same_codes(q.a, q.b))
				q.ch = FINDINGS;
			p[o++] = q;
		}
	}
	free(ka);
	free(kb);
	*n = o;
	return p;
}

static bool wanted(const struct pair *p, const struct bsw_rfilter *fl)
{
	if (!fl)
		return true;
	return (p->a && bsw_rfilter_match(fl, p->a)) || (p->b && bsw_rfilter_match(fl, p->b));
}

/* Disks the filter keeps that did not change. */
static size_t unchanged(const struct pair *p, size_t n, const struct bsw_rfilter *fl)
{
	size_t same = 0;

	for (size_t i = 0; i < n; i++)
		same += p[i].ch == SAME && wanted(&p[i], fl);
	return same;
}

/* Codes in x but not in y, each through fn. */
static void only_in(const struct bsw_rdisk *x, const struct bsw_rdisk *y,
		    void (*fn)(void *, const char *, bool), void *arg, bool first)
{
	for (size_t i = 0; x && i < x->nr_codes; i++)
		if (!y || !bsw_rdisk_has(y, x->codes[i])) {
			fn(arg, x->codes[i], first);
			first = false;
		}
}

static void put_text(void *o, const char *c, bool first)
{
	fprintf(o, "%s%s", first ? "" : " ", c);
}

static const char *const title[] = {
	[VERDICT] = "changed verdict",
	[FINDINGS] = "same verdict, findings changed",
	[NEW] = "new disks",
	[GONE] = "gone disks",
};

size_t bsw_diff_text(FILE *o, const struct bsw_results *a, const struct bsw_results *b,
		     const struct bsw_rfilter *fl)
{
	size_t n = 0, diffs = 0;
	struct pair *p = pairs(a, b, &n);

	if (!p)
		return (size_t)-1;
	for (enum change ch = VERDICT; ch <= GONE; ch++) {
		size_t cnt = 0;

		for (size_t i = 0; i < n; i++)
			cnt += p[i].ch == ch && wanted(&p[i], fl);
		fprintf(o, "%s: %zu\n", title[ch], cnt);
		diffs += cnt;
		for (size_t i = 0; i < n; i++) {
			const struct pair *q = &p[i];

			if (q->ch != ch || !wanted(q, fl))
				continue;
			if (ch == NEW || ch == GONE) {
				const struct bsw_rdisk *d = q->a ? q->a : q->b;

				fprintf(o, "  %-14s %s\n", bsw_rverdict_name(d->verdict), d->image);
				continue;
			}
			if (ch == VERDICT)
				fprintf(o, "  %s -> %s  %s", bsw_rverdict_name(q->a->verdict),
					bsw_rverdict_name(q->b->verdict), q->b->image);
			else
				fprintf(o, "  %s", q->b->image);
			if (strcmp(q->a->image, q->b->image))
				fprintf(o, " (was %s)", q->a->image);
			fputs("\n    appeared: ", o);
			only_in(q->b, q->a, put_text, o, true);
			fputs("\n    cleared:  ", o);
			only_in(q->a, q->b, put_text, o, true);
			fputc('\n', o);
		}
	}
	fprintf(o, "unchanged: %zu\n", unchanged(p, n, fl));
	free(p);
	return diffs;
}

static void put_json(void *o, const char *c, bool first)
{
	if (!first)
		fputc(',', o);
	bsw_json_str(o, c);
}

size_t bsw_diff_json(FILE *o, const struct bsw_results *a, const struct bsw_results *b,
		     const struct bsw_rfilter *fl)
{
	static const char *const key[] = {
		[VERDICT] = "changed",
		[FINDINGS] = "findings_changed",
		[NEW] = "new",
		[GONE] = "gone",
	};
	size_t n = 0, diffs = 0;
	struct pair *p = pairs(a, b, &n);

	if (!p)
		return (size_t)-1;
	fprintf(o, "{\"schema\":\"bootsweep.diff/1\",\"version\":\"%s\"", bsw_version);
	for (enum change ch = VERDICT; ch <= GONE; ch++) {
		bool first = true;

		fprintf(o, ",\"%s\":[", key[ch]);
		for (size_t i = 0; i < n; i++) {
			const struct pair *q = &p[i];
			const struct bsw_rdisk *d = q->b ? q->b : q->a;

			if (q->ch != ch || !wanted(q, fl))
				continue;
			diffs++;
			fputs(first ? "{\"image\":" : ",{\"image\":", o);
			first = false;
			bsw_json_str(o, d->image);
			if (q->a && q->b) {
				if (strcmp(q->a->image, q->b->image)) {
					fputs(",\"old_image\":", o);
					bsw_json_str(o, q->a->image);
				}
				fprintf(o,
					",\"old_verdict\":\"%s\",\"new_verdict\":\"%s\",\"appeared\":[",
					bsw_rverdict_name(q->a->verdict),
					bsw_rverdict_name(q->b->verdict));
				only_in(q->b, q->a, put_json, o, true);
				fputs("],\"cleared\":[", o);
				only_in(q->a, q->b, put_json, o, true);
				fputs("]}", o);
			} else {
				fprintf(o, ",\"verdict\":\"%s\"}", bsw_rverdict_name(d->verdict));
			}
		}
		fputc(']', o);
	}
	fprintf(o, ",\"unchanged\":%zu}\n", unchanged(p, n, fl));
	free(p);
	return diffs;
}

static void put_html(void *o, const char *c, bool first)
{
	fputs(first ? "<code>" : " <code>", o);
	bsw_html_text(o, c);
	fputs("</code>", o);
}

size_t bsw_diff_html(FILE *o, const struct bsw_results *a, const struct bsw_results *b)
{
	size_t n = 0, cnt[GONE + 1] = { 0 }, diffs = 0;
	struct pair *p = pairs(a, b, &n);

	if (!p)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++)
		cnt[p[i].ch]++;
	fprintf(o,
		"<h2>Since the baseline sweep</h2>\n<p><span id=d-changed>%zu</span> changed "
		"verdict, <span id=d-findings>%zu</span> changed findings, <span id=d-new>%zu</span> "
		"new, <span id=d-gone>%zu</span> gone, %zu unchanged.</p>\n<table id=diff><thead><tr>"
		"<th>disk</th><th>change</th><th>appeared</th><th>cleared</th></tr></thead><tbody>\n",
		cnt[VERDICT], cnt[FINDINGS], cnt[NEW], cnt[GONE], cnt[SAME]);
	for (size_t i = 0; i < n; i++) {
		const struct pair *q = &p[i];
		const struct bsw_rdisk *d = q->b ? q->b : q->a;

		if (q->ch == SAME)
			continue;
		diffs++;
		fputs("<tr><td>", o);
		bsw_html_text(o, d->image);
		fputs("</td><td>", o);
		if (q->ch == NEW)
			fprintf(o, "new, %s", bsw_rverdict_name(d->verdict));
		else if (q->ch == GONE)
			fprintf(o, "gone (was %s)", bsw_rverdict_name(d->verdict));
		else
			fprintf(o, "%s &rarr; %s", bsw_rverdict_name(q->a->verdict),
				bsw_rverdict_name(q->b->verdict));
		fputs("</td><td>", o);
		if (q->a && q->b)
			only_in(q->b, q->a, put_html, o, true);
		fputs("</td><td>", o);
		if (q->a && q->b)
			only_in(q->a, q->b, put_html, o, true);
		fputs("</td></tr>\n", o);
	}
	fputs("</tbody></table>\n", o);
	free(p);
	return diffs;
}

static void usage(FILE *f)
{
	fputs("usage: bootsweep diff OLD.jsonl NEW.jsonl [--json] [--verdict V]... [--code CODE]...\n"
	      "Disks whose verdict changed, findings that appeared or cleared, new and gone disks;\n"
	      "disks are matched by their container's id where both sweeps recorded it, else by\n"
	      "path.  Exit status: 0 nothing changed, 1 something did, 8 a file could not be read.\n",
	      f);
}

int bsw_cmd_diff(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "verdict", required_argument, NULL, 'V' },
		{ "code", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bsw_results a = { 0 }, b = { 0 };
	struct bsw_rfilter fl = { 0 };
	bool json = false;
	size_t d;
	int c, ret = BSW_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'J': json = true; break;
		case 'V':
		case 'C':
			if (bsw_rfilter_arg(&fl, c, optarg)) {
				fprintf(stderr,
					"bootsweep diff: --verdict '%s': want clean, dirty-rollback, "
					"unbootable, unassessable or nonclean\n",
					optarg);
				ret = BSW_EXIT_USAGE;
				goto out;
			}
			break;
		case 'h': usage(stdout); goto out;
		default:
			usage(stderr);
			ret = BSW_EXIT_USAGE;
			goto out;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		ret = BSW_EXIT_USAGE;
		goto out;
	}
	if (bsw_results_load(&a, argv + optind, 1) || bsw_results_load(&b, argv + optind + 1, 1)) {
		ret = BSW_EXIT_OPERR;
		goto out;
	}
	d = json ? bsw_diff_json(stdout, &a, &b, &fl) : bsw_diff_text(stdout, &a, &b, &fl);
	if (d == (size_t)-1)
		ret = BSW_EXIT_OPERR;
	else if (d)
		ret = 1;
	if (a.bad_lines || b.bad_lines)
		ret |= BSW_EXIT_OPERR;
out:
	bsw_rfilter_free(&fl);
	bsw_results_free(&a);
	bsw_results_free(&b);
	return ret;
}
