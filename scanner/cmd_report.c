/*
 * bootsweep report RESULTS.jsonl... [-o FILE] [--format html|csv|table]
 *                  [--verdict V]... [--code C]... [--baseline OLD.jsonl]
 *
 * The fleet for the people who act on it: disks per verdict, findings
 * ranked by the disks they affect (with meaning and next step), families
 * and their verdict mix, cost per disk, every disk that is not clean with
 * its findings, and where the numbers come from.  The HTML page is one
 * self-contained file: inline CSS, SVG charts drawn here, a few lines of
 * script for sorting and filtering, nothing fetched (docs/cli.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "formats/common/utf8.h"
#include "formats/common/vec.h"
#include "scanner/cmds.h"
#include "formats/common/finding.h"
#include "scanner/results.h"

/* ---- the numbers every format shows ---- */

struct code_row {
	const char *code;
	size_t disks;
	size_t by_verdict[BSW_R_NR];
};

struct family_row {
	const char *family;
	size_t disks;
	size_t by_verdict[BSW_R_NR];
};

/* A rule of a --rules sweep, with the disks it matched (indexes into r->d). */
struct rule_row {
	const struct bsw_jval *rule; /* the first match's object: label, source... */
	const char *id;
	size_t *disks, nr, alloc;
};

/*
 * Distinct finding codes and rule ids of a fleet: the catalogue has a few
 * hundred codes and a rules file at most BSW_RULES_MAX_RULES rules, so
 * more means the input is not bootsweep's; it is refused, not tabled.
 */
#define REPORT_MAX_CODES 65536u
#define REPORT_MAX_RULES 65536u

struct fleet {
	const struct bsw_results *r;
	struct rule_row *rules;
	size_t nr_rules, alloc_rules;
	size_t by_verdict[BSW_R_NR];
	struct code_row *codes;
	size_t nr_codes, alloc_codes;
	struct family_row *fams;
	size_t nr_fams;
	size_t *slow; /* disk indexes, slowest first */
	uint64_t bytes, ms;
};

static int cmp_code_row(const void *a, const void *b)
{
	const struct code_row *x = a, *y = b;

	if (x->disks != y->disks)
		return x->disks < y->disks ? 1 : -1;
	return strcmp(x->code, y->code);
}

static int cmp_fam_name(const void *a, const void *b)
{
	return strcmp(((const struct family_row *)a)->family,
		      ((const struct family_row *)b)->family);
}

static const struct bsw_results *slow_r;

static int cmp_slow(const void *a, const void *b)
{
	const struct bsw_rdisk *x = &slow_r->d[*(const size_t *)a];
	const struct bsw_rdisk *y = &slow_r->d[*(const size_t *)b];

	if (x->ms_total != y->ms_total)
		return x->ms_total < y->ms_total ? 1 : -1;
	return strcmp(x->image, y->image);
}

/* Room for row need-1 of a fleet table of at most max rows; says when that is past max. */
static int table_reserve(void *rows, size_t *alloc, size_t need, size_t esz, size_t max,
			 const char *what)
{
	int e = bsw_vec_reserve(rows, alloc, need, esz, max);

	if (e == -E2BIG)
		fprintf(stderr, "bootsweep report: more than %zu distinct %s\n", max, what);
	return e;
}

static int fleet_build(struct fleet *f, const struct bsw_results *r)
{
	size_t i, j;

	memset(f, 0, sizeof(*f));
	f->r = r;
	f->slow = calloc(r->nr + 1, sizeof(*f->slow));
	f->fams = calloc(r->nr + 1, sizeof(*f->fams));
	if (!f->slow || !f->fams)
		return -ENOMEM;
	for (i = 0; i < r->nr; i++) {
		const struct bsw_rdisk *d = &r->d[i];

		f->by_verdict[d->verdict]++;
		f->bytes += d->bytes_read;
		f->ms += d->ms_total;
		f->slow[i] = i;
		for (j = 0; j < d->nr_codes; j++) {
			size_t k;

			for (k = 0; k < f->nr_codes; k++)
				if (!strcmp(f->codes[k].code, d->codes[j]))
					break;
			if (k == f->nr_codes) {
				int e = table_reserve(&f->codes, &f->alloc_codes, k + 1,
						      sizeof(*f->codes), REPORT_MAX_CODES,
						      "finding codes");

				if (e)
					return e;
				memset(&f->codes[k], 0, sizeof(f->codes[k]));
				f->codes[k].code = d->codes[j];
				f->nr_codes++;
			}
			f->codes[k].disks++;
			f->codes[k].by_verdict[d->verdict]++;
		}
		f->fams[i].family = d->family;
	}
	/* families: sort the names, then fold equal runs */
	qsort(f->fams, r->nr, sizeof(*f->fams), cmp_fam_name);
	for (i = 0, j = 0; i < r->nr; i++)
		if (!j || strcmp(f->fams[j - 1].family, f->fams[i].family))
			f->fams[j++].family = f->fams[i].family;
	f->nr_fams = j;
	for (i = 0; i < f->nr_fams; i++)
		f->fams[i].disks = 0;
	for (i = 0; i < r->nr; i++) {
		struct family_row key = { .family = r->d[i].family }, *fr;

		fr = bsearch(&key, f->fams, f->nr_fams, sizeof(key), cmp_fam_name);
		if (fr) {
			fr->disks++;
			fr->by_verdict[r->d[i].verdict]++;
		}
	}
	if (f->nr_codes)
		qsort(f->codes, f->nr_codes, sizeof(*f->codes), cmp_code_row);
	slow_r = r;
	if (r->nr)
		qsort(f->slow, r->nr, sizeof(*f->slow), cmp_slow);
	return 0;
}

static int cmp_rule_row(const void *a, const void *b)
{
	const struct rule_row *x = a, *y = b;

	if (x->nr != y->nr)
		return x->nr < y->nr ? 1 : -1;
	return strcmp(x->id, y->id);
}

/* Rules matched (the "rules" member of --rules sweeps), by disks affected. */
static int fleet_rules(struct fleet *f)
{
	const struct bsw_results *r = f->r;

	for (size_t i = 0; i < r->nr; i++) {
		const struct bsw_jval *rs = bsw_jget(&r->d[i].line, "rules");

		for (size_t k = 0; rs && rs->type == BSW_J_ARR && k < rs->len; k++) {
			const char *id = bsw_jstr(&rs->items[k], "id", NULL);
			struct rule_row *rr = NULL;
			int e;

			if (!id)
				continue;
			for (size_t j = 0; j < f->nr_rules; j++)
				if (!strcmp(f->rules[j].id, id))
					rr = &f->rules[j];
			if (!rr) {
				e = table_reserve(&f->rules, &f->alloc_rules, f->nr_rules + 1,
						  sizeof(*f->rules), REPORT_MAX_RULES, "rules");
				if (e)
					return e;
				rr = &f->rules[f->nr_rules++];
				*rr = (struct rule_row){ .rule = &rs->items[k], .id = id };
			}
			if (rr->nr && rr->disks[rr->nr - 1] == i)
				continue; /* a disk counts once per rule */
			/* each disk once: never more than r->nr */
			e = bsw_vec_reserve(&rr->disks, &rr->alloc, rr->nr + 1, sizeof(*rr->disks),
					    r->nr);
			if (e)
				return e;
			rr->disks[rr->nr++] = i;
		}
	}
	if (f->nr_rules)
		qsort(f->rules, f->nr_rules, sizeof(*f->rules), cmp_rule_row);
	return 0;
}

static void fleet_free(struct fleet *f)
{
	for (size_t i = 0; i < f->nr_rules; i++)
		free(f->rules[i].disks);
	free(f->rules);
	free(f->codes);
	free(f->fams);
	free(f->slow);
}

/* ---- text output helpers ---- */

void bsw_html_text(FILE *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), i = 0;

	while (i < n) {
		size_t k;

		switch (p[i]) {
		case '&':
			fputs("&amp;", o);
			i++;
			continue;
		case '<':
			fputs("&lt;", o);
			i++;
			continue;
		case '>':
			fputs("&gt;", o);
			i++;
			continue;
		case '"':
			fputs("&quot;", o);
			i++;
			continue;
		case '\'':
			fputs("&#39;", o);
			i++;
			continue;
		}
		if (p[i] == 0xC0 && p[i + 1] == 0x80) {
			fputs("\\x00", o);
			i += 2;
			continue;
		}
		k = bsw_utf8_seq(p + i, n - i);
		if (!k || (k == 1 && p[i] < 0x20 && p[i] != '\t')) {
			fputs("\xEF\xBF\xBD", o); /* U+FFFD */
			i++;
			continue;
		}
		fwrite(p + i, 1, k, o);
		i += k;
	}
}

/* s as a CSV field (RFC 4180). */
static void csv(FILE *o, const char *s)
{
	fputc('"', o);
	for (s = s ? s : ""; *s; s++) {
		if (*s == '"')
			fputc('"', o);
		fputc(*s, o);
	}
	fputc('"', o);
}

static const char *const vcolor[BSW_R_NR] = { "#2e7d32", "#e69500", "#c62828", "#757575" };

static void human_bytes(char *b, size_t n, uint64_t v)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double x = (double)v;
	int i = 0;

	while (x >= 1024 && i < 4) {
		x /= 1024;
		i++;
	}
	snprintf(b, n, i ? "%.1f %s" : "%.0f %s", x, u[i]);
}

/* ---- SVG charts (drawn here, as systemd-analyze plot does) ---- */

static void svg_verdicts(FILE *o, const struct fleet *f)
{
	size_t max = 1, v;

	for (v = 0; v < BSW_R_NR; v++)
		if (f->by_verdict[v] > max)
			max = f->by_verdict[v];
	fprintf(o,
		"<svg class=chart role=img aria-label='disks per verdict' width=520 height=%d "
		"viewBox='0 0 520 %d'>\n",
		30 * BSW_R_NR + 10, 30 * BSW_R_NR + 10);
	for (v = 0; v < BSW_R_NR; v++) {
		int w = (int)(330.0 * (double)f->by_verdict[v] / (double)max);

		fprintf(o,
			"<text x=0 y=%zu class=lbl>%s</text>"
			"<rect x=120 y=%zu width=%d height=20 fill='%s'><title>%s: %zu</title></rect>"
			"<text x=%d y=%zu class=num>%zu</text>\n",
			30 * v + 20, bsw_rverdict_name((enum bsw_rverdict)v), 30 * v + 5, w ? w : 1,
			vcolor[v], bsw_rverdict_name((enum bsw_rverdict)v), f->by_verdict[v],
			126 + w, 30 * v + 20, f->by_verdict[v]);
	}
	fputs("</svg>\n", o);
}

/* A histogram of one per-disk figure, in power-of-two bins. */
static void svg_hist(FILE *o, const struct bsw_results *r, bool bytes, const char *title)
{
	size_t bins[64] = { 0 }, max = 1;
	int lo = 63, hi = 0, b;
	char a[32], z[32];

	for (size_t i = 0; i < r->nr; i++) {
		uint64_t v = bytes ? r->d[i].bytes_read : r->d[i].ms_total;

		b = v ? 64 - __builtin_clzll(v) : 0;
		if (b > 63)
			b = 63;
		bins[b]++;
		if (b < lo)
			lo = b;
		if (b > hi)
			hi = b;
	}
	if (!r->nr)
		lo = hi = 0;
	for (b = lo; b <= hi; b++)
		if (bins[b] > max)
			max = bins[b];
	fprintf(o, "<svg class=chart role=img aria-label='%s' width=%d height=170>\n", title,
		40 * (hi - lo + 1) + 20);
	for (b = lo; b <= hi; b++) {
		int h = (int)(110.0 * (double)bins[b] / (double)max);
		uint64_t from = b ? 1ull << (b - 1) : 0, to = b ? (1ull << b) - 1 : 0;

		if (bytes) {
			human_bytes(a, sizeof(a), from);
			human_bytes(z, sizeof(z), to);
		} else {
			snprintf(a, sizeof(a), "%" PRIu64 " ms", from);
			snprintf(z, sizeof(z), "%" PRIu64 " ms", to);
		}
		fprintf(o,
			"<rect x=%d y=%d width=34 height=%d fill='#1565c0'><title>%s to %s: %zu disks"
			"</title></rect><text x=%d y=%d class=num>%zu</text>"
			"<text x=%d y=150 class=tick>%s</text>\n",
			10 + 40 * (b - lo), 125 - h, h ? h : 1, a, z, bins[b], 12 + 40 * (b - lo),
			120 - h, bins[b], 10 + 40 * (b - lo), a);
	}
	fputs("</svg>\n", o);
}

static void svg_mix(FILE *o, const size_t by[BSW_R_NR], size_t total)
{
	double x = 0;

	fputs("<svg width=160 height=14 class=mix>", o);
	for (int v = 0; v < BSW_R_NR; v++) {
		double w = total ? 160.0 * (double)by[v] / (double)total : 0;

		if (w > 0)
			fprintf(o,
				"<rect x=%.1f y=0 width=%.1f height=14 fill='%s'><title>%s: %zu</title></rect>",
				x, w, vcolor[v], bsw_rverdict_name((enum bsw_rverdict)v), by[v]);
		x += w;
	}
	fputs("</svg>", o);
}

/* ---- provenance: what the lines say about how they were made ---- */

static void distinct_field(const struct bsw_results *r, const char *key, char *out, size_t n)
{
	const char *seen[4];
	size_t ns = 0, more = 0, o = 0;

	out[0] = 0;
	for (size_t i = 0; i < r->nr; i++) {
		const char *v = bsw_jstr(&r->d[i].line, key, NULL);
		size_t k;

		if (!v)
			continue;
		for (k = 0; k < ns; k++)
			if (!strcmp(seen[k], v))
				break;
		if (k < ns)
			continue;
		if (ns < 4)
			seen[ns++] = v;
		else
			more++;
	}
	for (size_t k = 0; k < ns && o < n; k++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", k ? ", " : "", seen[k]);
	if (more && o < n)
		snprintf(out + o, n - o, " and %zu more", more);
	if (!ns)
		snprintf(out, n, "not recorded in the results");
}

/* ---- HTML ---- */

static const char page_css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}"
	"h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}"
	"table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:3px 6px;"
	"text-align:left;vertical-align:top}th{background:#f5f5f5;cursor:pointer;user-select:none}"
	"td.n,th.n{text-align:right}.chart text{font:12px sans-serif}.lbl{fill:#333}.num{fill:#000}"
	".tick{fill:#555;font-size:10px}.v-clean{color:#2e7d32}.v-dirty-rollback{color:#b36b00}"
	".v-unbootable{color:#c62828}.v-unassessable{color:#616161}code{font-size:12px}"
	".cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;"
	"padding:8px 14px;min-width:120px}.card b{font-size:22px;display:block}"
	"#filters{display:flex;gap:10px;flex-wrap:wrap;margin:8px 0}details summary{cursor:pointer}"
	"tr[hidden]{display:none}.muted{color:#666}td code{white-space:nowrap}"
	"td.src{word-break:break-all;font-size:12px;max-width:280px}";

/* sorting and filtering; the hash (#verdict=..&code=..&family=..&q=..) sets the filters */
static const char page_js[] =
	"(function(){\n"
	"var t=document.getElementById('disks'),rows=[].slice.call(t.tBodies[0].rows);\n"
	"var sv=document.getElementById('f-verdict'),sc=document.getElementById('f-code'),\n"
	"sf=document.getElementById('f-family'),sq=document.getElementById('f-text');\n"
	"function apply(){var n=0;rows.forEach(function(r){var ok=(!sv.value||r.dataset.verdict===sv.value)&&\n"
	"(!sc.value||(' '+r.dataset.codes+' ').indexOf(' '+sc.value+' ')>=0)&&\n"
	"(!sf.value||r.dataset.family===sf.value)&&\n"
	"(!sq.value||r.textContent.toLowerCase().indexOf(sq.value.toLowerCase())>=0);\n"
	"r.hidden=!ok;if(ok)n++;});document.getElementById('shown').textContent=n;}\n"
	"[sv,sc,sf].forEach(function(e){e.addEventListener('change',apply);});\n"
	"sq.addEventListener('input',apply);\n"
	"[].slice.call(t.tHead.rows[0].cells).forEach(function(th,i){th.addEventListener('click',function(){\n"
	"var num=th.classList.contains('n'),dir=th.dataset.dir==='1'?-1:1;th.dataset.dir=dir===1?'1':'-1';\n"
	"rows.sort(function(a,b){var x=a.cells[i].dataset.k||a.cells[i].textContent,\n"
	"y=b.cells[i].dataset.k||b.cells[i].textContent;if(num){x=+x;y=+y;}\n"
	"return x<y?-dir:x>y?dir:0;});rows.forEach(function(r){t.tBodies[0].appendChild(r);});});});\n"
	"var h=new URLSearchParams(location.hash.slice(1));\n"
	"if(h.get('verdict'))sv.value=h.get('verdict');if(h.get('code'))sc.value=h.get('code');\n"
	"if(h.get('family'))sf.value=h.get('family');if(h.get('q'))sq.value=h.get('q');apply();\n"
	"})();\n";

static void html_findings(FILE *o, const struct bsw_rdisk *d)
{
	const struct bsw_jval *fs = bsw_jget(&d->line, "findings");

	fprintf(o, "<details><summary>%zu finding%s</summary><ul>",
		fs && fs->type == BSW_J_ARR ? fs->len : 0,
		fs && fs->type == BSW_J_ARR && fs->len == 1 ? "" : "s");
	for (size_t i = 0; fs && fs->type == BSW_J_ARR && i < fs->len; i++) {
		const struct bsw_jval *f = &fs->items[i];

		fputs("<li><code>", o);
		bsw_html_text(o, bsw_jstr(f, "code", "?"));
		fputs("</code> ", o);
		bsw_html_text(o, bsw_jstr(f, "severity", ""));
		fputs(": ", o);
		bsw_html_text(o, bsw_jstr(f, "message", ""));
		if (bsw_jstr(f, "scope", NULL)) {
			fputs(" <span class=muted>(", o);
			bsw_html_text(o, bsw_jstr(f, "scope", NULL));
			fputs(")</span>", o);
		}
		fputs("</li>", o);
	}
	fputs("</ul></details>", o);
}

static void html_report(FILE *o, const struct fleet *f, const struct bsw_rfilter *fl,
			const struct bsw_results *base)
{
	const struct bsw_results *r = f->r;
	char buf[512], t[64];
	time_t now = time(NULL);
	size_t i, nonclean = r->nr - f->by_verdict[BSW_R_CLEAN];

	strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	fprintf(o,
		"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
		"<meta name=viewport content='width=device-width'>"
		"<title>bootsweep report: %zu disks</title><style>%s</style></head><body>\n",
		r->nr, page_css);
	fprintf(o,
		"<h1>bootsweep fleet report</h1>\n<p class=muted>%zu disks from %zu result file%s; "
		"generated %s by bootsweep %s.</p>\n",
		r->nr, r->nr_files, r->nr_files == 1 ? "" : "s", t, bsw_version);

	fputs("<h2>The fleet at a glance</h2>\n<div class=cards>", o);
	fprintf(o, "<div class=card>disks<b id=n-total>%zu</b></div>", r->nr);
	for (int v = 0; v < BSW_R_NR; v++)
		fprintf(o, "<div class='card v-%s'>%s<b id='n-%s'>%zu</b></div>",
			bsw_rverdict_name((enum bsw_rverdict)v),
			bsw_rverdict_name((enum bsw_rverdict)v),
			bsw_rverdict_name((enum bsw_rverdict)v), f->by_verdict[v]);
	fputs("</div>\n", o);
	svg_verdicts(o, f);

	if (base)
		bsw_diff_html(o, base, r);

	fputs("<h2>Findings, by the disks they affect</h2>\n<table id=codes><thead><tr><th>code</th>"
	      "<th class=n>disks</th><th>verdicts</th><th>meaning</th><th>next step</th><th>source</th>"
	      "</tr></thead><tbody>\n",
	      o);
	for (i = 0; i < f->nr_codes; i++) {
		const struct code_row *c = &f->codes[i];
		const struct bsw_code_info *ci = bsw_code_info(c->code);

		fputs("<tr data-code='", o);
		bsw_html_text(o, c->code);
		fputs("'><td><code>", o);
		bsw_html_text(o, c->code);
		fprintf(o, "</code></td><td class=n id='fc-");
		bsw_html_text(o, c->code);
		fprintf(o, "'>%zu</td><td>", c->disks);
		svg_mix(o, c->by_verdict, c->disks);
		fputs("</td><td>", o);
		bsw_html_text(o, ci ? ci->meaning : "(no entry in the code table)");
		fputs("</td><td>", o);
		bsw_html_text(o, ci ? ci->next : "");
		fputs("</td><td class='muted src'>", o);
		bsw_html_text(o, ci ? ci->source : "");
		fputs("</td></tr>\n", o);
	}
	fputs("</tbody></table>\n", o);

	if (f->nr_rules) {
		fputs("<h2>Rules matched</h2>\n<table id=rules><thead><tr><th>rule</th><th class=n>disks</th>"
		      "<th>label</th><th>severity</th><th>implies</th><th>disks</th><th>source</th>"
		      "</tr></thead><tbody>\n",
		      o);
		for (i = 0; i < f->nr_rules; i++) {
			const struct rule_row *rr = &f->rules[i];

			fputs("<tr><td><code>", o);
			bsw_html_text(o, rr->id);
			fputs("</code></td><td class=n id='rc-", o);
			bsw_html_text(o, rr->id);
			fprintf(o, "'>%zu</td><td>", rr->nr);
			bsw_html_text(o, bsw_jstr(rr->rule, "label", ""));
			fputs("</td><td>", o);
			bsw_html_text(o, bsw_jstr(rr->rule, "severity", ""));
			fputs("</td><td>", o);
			bsw_html_text(o, bsw_jstr(rr->rule, "implies", "-"));
			fprintf(o, "</td><td><details><summary>%zu disk%s</summary>", rr->nr,
				rr->nr == 1 ? "" : "s");
			for (size_t k = 0; k < rr->nr; k++) {
				fputs(k ? "<br>" : "", o);
				bsw_html_text(o, f->r->d[rr->disks[k]].image);
			}
			fputs("</details></td><td class='muted src'>", o);
			bsw_html_text(o, bsw_jstr(rr->rule, "source", ""));
			fputs("</td></tr>\n", o);
		}
		fputs("</tbody></table>\n", o);
	}

	fputs("<h2>Families</h2>\n<p class=muted>A family is a base image and the differencing "
	      "children whose chains end in it; an independent disk is its own family.</p>\n"
	      "<table id=families><thead><tr><th>base</th><th class=n>disks</th>",
	      o);
	for (int v = 0; v < BSW_R_NR; v++)
		fprintf(o, "<th class=n>%s</th>", bsw_rverdict_name((enum bsw_rverdict)v));
	fputs("<th>mix</th></tr></thead><tbody>\n", o);
	for (i = 0; i < f->nr_fams; i++) {
		const struct family_row *fr = &f->fams[i];

		fputs("<tr><td>", o);
		bsw_html_text(o, fr->family);
		fprintf(o, "</td><td class=n>%zu</td>", fr->disks);
		for (int v = 0; v < BSW_R_NR; v++)
			fprintf(o, "<td class=n>%zu</td>", fr->by_verdict[v]);
		fputs("<td>", o);
		svg_mix(o, fr->by_verdict, fr->disks);
		fputs("</td></tr>\n", o);
	}
	fputs("</tbody></table>\n", o);

	human_bytes(buf, sizeof(buf), f->bytes);
	fprintf(o,
		"<h2>Cost per disk</h2>\n<p>%s read in all; %.1f s of checking in all "
		"(per-disk times add up across threads).</p>\n<h3>Time per disk</h3>\n",
		buf, (double)f->ms / 1000.0);
	svg_hist(o, r, false, "disks by checking time");
	fputs("<h3>Bytes read per disk</h3>\n", o);
	svg_hist(o, r, true, "disks by bytes read");
	fputs("<h3>Slowest disks</h3>\n<table id=slowest><thead><tr><th>disk</th><th class=n>ms</th>"
	      "<th class=n>bytes read</th><th>verdict</th></tr></thead><tbody>\n",
	      o);
	for (i = 0; i < r->nr && i < 10; i++) {
		const struct bsw_rdisk *d = &r->d[f->slow[i]];

		fputs("<tr><td>", o);
		bsw_html_text(o, d->image);
		fprintf(o,
			"</td><td class=n>%" PRIu64 "</td><td class=n>%" PRIu64
			"</td><td class='v-%s'>%s</td></tr>\n",
			d->ms_total, d->bytes_read, bsw_rverdict_name(d->verdict),
			bsw_rverdict_name(d->verdict));
	}
	fputs("</tbody></table>\n", o);

	fprintf(o,
		"<h2>Disks that are not clean (<span id=nonclean>%zu</span>)</h2>\n<div id=filters>"
		"<label>verdict <select id=f-verdict><option value=''>all</option>",
		nonclean);
	for (int v = 1; v < BSW_R_NR; v++)
		fprintf(o, "<option>%s</option>", bsw_rverdict_name((enum bsw_rverdict)v));
	fputs("</select></label><label>code <select id=f-code><option value=''>all</option>", o);
	for (i = 0; i < f->nr_codes; i++) {
		fputs("<option>", o);
		bsw_html_text(o, f->codes[i].code);
		fputs("</option>", o);
	}
	fputs("</select></label><label>family <select id=f-family><option value=''>all</option>",
	      o);
	for (i = 0; i < f->nr_fams; i++) {
		fputs("<option>", o);
		bsw_html_text(o, f->fams[i].family);
		fputs("</option>", o);
	}
	fputs("</select></label><label>text <input id=f-text type=search></label>"
	      "<span>showing <b id=shown></b></span></div>\n"
	      "<table id=disks><thead><tr><th>disk</th><th>verdict</th><th>decided by</th>"
	      "<th>family</th><th class=n>ms</th><th>findings</th></tr></thead><tbody>\n",
	      o);
	for (i = 0; i < r->nr; i++) {
		const struct bsw_rdisk *d = &r->d[i];
		const struct bsw_jval *db = bsw_jget(&d->line, "decided_by");

		if (d->verdict == BSW_R_CLEAN || !bsw_rfilter_match(fl, d))
			continue;
		fprintf(o, "<tr data-verdict='%s' data-codes='", bsw_rverdict_name(d->verdict));
		for (size_t k = 0; k < d->nr_codes; k++) {
			if (k)
				fputc(' ', o);
			bsw_html_text(o, d->codes[k]);
		}
		fputs("' data-family='", o);
		bsw_html_text(o, d->family);
		fputs("'><td>", o);
		bsw_html_text(o, d->image);
		fprintf(o, "</td><td class='v-%s'>%s</td><td>", bsw_rverdict_name(d->verdict),
			bsw_rverdict_name(d->verdict));
		for (size_t k = 0; db && db->type == BSW_J_ARR && k < db->len; k++) {
			if (k)
				fputs(", ", o);
			bsw_html_text(o, db->items[k].str);
		}
		if (d->error) {
			fputs("<br><span class=muted>error: ", o);
			bsw_html_text(o, d->error);
			fputs("</span>", o);
		}
		fputs("</td><td>", o);
		bsw_html_text(o, d->family);
		fprintf(o, "</td><td class=n>%" PRIu64 "</td><td>", d->ms_total);
		html_findings(o, d);
		fputs("</td></tr>\n", o);
	}
	fputs("</tbody></table>\n", o);

	fputs("<h2>Provenance</h2>\n<table id=provenance><tbody>\n", o);
	fputs("<tr><th>result files</th><td>", o);
	for (i = 0; i < r->nr_files; i++) {
		if (i)
			fputs("<br>", o);
		bsw_html_text(o, r->files[i]);
	}
	fputs("</td></tr>\n", o);
	distinct_field(r, "version", buf, sizeof(buf));
	fputs("<tr><th>swept by bootsweep</th><td>", o);
	bsw_html_text(o, buf);
	fputs("</td></tr>\n", o);
	distinct_field(r, "scan_start", buf, sizeof(buf));
	fputs("<tr><th>sweep started</th><td>", o);
	bsw_html_text(o, buf);
	fputs("</td></tr>\n", o);
	distinct_field(r, "options", buf, sizeof(buf));
	fputs("<tr><th>options</th><td>", o);
	bsw_html_text(o, buf);
	fprintf(o,
		"</td></tr>\n<tr><th>images</th><td id=p-images>%zu</td></tr>\n"
		"<tr><th>lines that were not results</th><td>%zu</td></tr>\n"
		"<tr><th>repeated images (the later line kept)</th><td>%zu</td></tr>\n",
		r->nr, r->bad_lines, r->dup_lines);
	fprintf(o, "<tr><th>unassessable</th><td>%zu disk%s<ul>", f->by_verdict[BSW_R_UNASSESS],
		f->by_verdict[BSW_R_UNASSESS] == 1 ? "" : "s");
	for (i = 0; i < r->nr; i++) {
		const struct bsw_rdisk *d = &r->d[i];
		const struct bsw_jval *db = bsw_jget(&d->line, "decided_by");

		if (d->verdict != BSW_R_UNASSESS)
			continue;
		fputs("<li>", o);
		bsw_html_text(o, d->image);
		fputs(": ", o);
		if (d->error)
			bsw_html_text(o, d->error);
		else
			for (size_t k = 0; db && db->type == BSW_J_ARR && k < db->len; k++) {
				const struct bsw_code_info *ci = bsw_code_info(db->items[k].str);

				if (k)
					fputs("; ", o);
				bsw_html_text(o, db->items[k].str);
				if (ci) {
					fputs(" (", o);
					bsw_html_text(o, ci->meaning);
					fputs(")", o);
				}
			}
		fputs("</li>", o);
	}
	fprintf(o, "</ul></td></tr>\n</tbody></table>\n<script>%s</script>\n</body></html>\n",
		page_js);
}

/* ---- plain text and CSV ---- */

static void table_report(FILE *o, const struct fleet *f, const struct bsw_rfilter *fl)
{
	const struct bsw_results *r = f->r;
	char b[32];
	size_t i;

	fprintf(o, "bootsweep report: %zu disks from %zu result file%s\n\n", r->nr, r->nr_files,
		r->nr_files == 1 ? "" : "s");
	for (int v = 0; v < BSW_R_NR; v++)
		fprintf(o, "  %-16s %8zu\n", bsw_rverdict_name((enum bsw_rverdict)v),
			f->by_verdict[v]);
	fprintf(o, "\nfindings, by disks affected:\n");
	for (i = 0; i < f->nr_codes; i++) {
		const struct bsw_code_info *ci = bsw_code_info(f->codes[i].code);

		fprintf(o, "  %-16s %8zu  %s\n", f->codes[i].code, f->codes[i].disks,
			ci ? ci->meaning : "");
		if (ci)
			fprintf(o, "  %-16s %8s  next: %s\n", "", "", ci->next);
	}
	if (f->nr_rules)
		fprintf(o, "\nrules matched, by disks:\n");
	for (i = 0; i < f->nr_rules; i++)
		fprintf(o, "  %-32s %8zu  %s\n", f->rules[i].id, f->rules[i].nr,
			bsw_jstr(f->rules[i].rule, "label", ""));
	fprintf(o, "\nfamilies:\n");
	for (i = 0; i < f->nr_fams; i++) {
		const struct family_row *fr = &f->fams[i];

		fprintf(o,
			"  %6zu disks  clean %zu  rollback %zu  unbootable %zu  unassessable %zu  %s\n",
			fr->disks, fr->by_verdict[0], fr->by_verdict[1], fr->by_verdict[2],
			fr->by_verdict[3], fr->family);
	}
	human_bytes(b, sizeof(b), f->bytes);
	fprintf(o, "\ncost: %s read, %.1f s of checking; slowest:\n", b, (double)f->ms / 1000.0);
	for (i = 0; i < r->nr && i < 5; i++)
		fprintf(o, "  %8" PRIu64 " ms  %s\n", r->d[f->slow[i]].ms_total,
			r->d[f->slow[i]].image);
	fprintf(o, "\ndisks that are not clean:\n");
	for (i = 0; i < r->nr; i++) {
		const struct bsw_rdisk *d = &r->d[i];

		if (d->verdict == BSW_R_CLEAN || !bsw_rfilter_match(fl, d))
			continue;
		fprintf(o, "  %-14s %s", bsw_rverdict_name(d->verdict), d->image);
		for (size_t k = 0; k < d->nr_codes; k++)
			fprintf(o, "%s%s", k ? "," : "  ", d->codes[k]);
		if (d->error)
			fprintf(o, "  (error: %s)", d->error);
		fputc('\n', o);
	}
	if (r->bad_lines || r->dup_lines)
		fprintf(o,
			"\n%zu lines were not results; %zu repeated images (the later line kept)\n",
			r->bad_lines, r->dup_lines);
}

static void csv_report(FILE *o, const struct fleet *f, const struct bsw_rfilter *fl)
{
	const struct bsw_results *r = f->r;

	fputs("image,family,verdict,decided_by,error,codes,bytes_read,ms_total\n", o);
	for (size_t i = 0; i < r->nr; i++) {
		const struct bsw_rdisk *d = &r->d[i];
		const struct bsw_jval *db = bsw_jget(&d->line, "decided_by");
		char *s = NULL;
		size_t n = 0;
		FILE *m;

		if (!bsw_rfilter_match(fl, d))
			continue;
		csv(o, d->image);
		fputc(',', o);
		csv(o, d->family);
		fprintf(o, ",%s,", bsw_rverdict_name(d->verdict));
		m = open_memstream(&s, &n);
		if (m) {
			for (size_t k = 0; db && db->type == BSW_J_ARR && k < db->len; k++)
				fprintf(m, "%s%s", k ? ";" : "",
					db->items[k].str ? db->items[k].str : "");
			fclose(m);
		}
		csv(o, s);
		free(s);
		fputc(',', o);
		csv(o, d->error);
		fputc(',', o);
		s = NULL;
		m = open_memstream(&s, &n);
		if (m) {
			for (size_t k = 0; k < d->nr_codes; k++)
				fprintf(m, "%s%s", k ? ";" : "", d->codes[k]);
			fclose(m);
		}
		csv(o, s);
		free(s);
		fprintf(o, ",%" PRIu64 ",%" PRIu64 "\n", d->bytes_read, d->ms_total);
	}
}

static void usage(FILE *f)
{
	fputs("usage: bootsweep report RESULTS.jsonl... [-o FILE|-] [--format html|csv|table]\n"
	      "       [--verdict V]... [--code CODE]... [--baseline OLD.jsonl]\n"
	      "The fleet as one self-contained HTML page (default; -o report.html), or as CSV\n"
	      "(one row per disk) or a plain-text table.  V: clean, dirty-rollback, unbootable,\n"
	      "unassessable or nonclean; filters apply to the per-disk tables.  --baseline adds\n"
	      "what changed since an older sweep (as `bootsweep diff`).\n",
	      f);
}

int bsw_cmd_report(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'F' },
		{ "verdict", required_argument, NULL, 'V' },
		{ "code", required_argument, NULL, 'C' },
		{ "baseline", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bsw_results r = { 0 }, base = { 0 };
	struct bsw_rfilter fl = { 0 };
	struct fleet f = { 0 };
	const char *outp = NULL, *format = "html", *basep = NULL;
	FILE *o = stdout;
	char *tmp = NULL;
	int c, ret = BSW_EXIT_OK, fd = -1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': outp = optarg; break;
		case 'F':
			if (strcmp(optarg, "html") && strcmp(optarg, "csv") &&
			    strcmp(optarg, "table")) {
				fprintf(stderr,
					"bootsweep report: --format '%s': want html, csv or table\n",
					optarg);
				ret = BSW_EXIT_USAGE;
				goto out;
			}
			format = optarg;
			break;
		case 'V':
		case 'C':
			if (bsw_rfilter_arg(&fl, c, optarg)) {
				fprintf(stderr,
					"bootsweep report: --verdict '%s': want clean, dirty-rollback, "
					"unbootable, unassessable or nonclean\n",
					optarg);
				ret = BSW_EXIT_USAGE;
				goto out;
			}
			break;
		case 'B': basep = optarg; break;
		case 'h': usage(stdout); goto out;
		default:
			usage(stderr);
			ret = BSW_EXIT_USAGE;
			goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		ret = BSW_EXIT_USAGE;
		goto out;
	}
	if (bsw_results_load(&r, argv + optind, (size_t)(argc - optind)) ||
	    (basep && bsw_results_load(&base, (char *const *)&basep, 1))) {
		ret = BSW_EXIT_OPERR;
		goto out;
	}
	if (fleet_build(&f, &r) || fleet_rules(&f)) {
		ret = BSW_EXIT_OPERR;
		goto out;
	}
	if (outp && strcmp(outp, "-")) {
		/* never over a result file it reads; written whole, then renamed */
		struct stat so, si;

		for (int i = optind; i < argc; i++)
			if (!stat(outp, &so) && !stat(argv[i], &si) && so.st_dev == si.st_dev &&
			    so.st_ino == si.st_ino) {
				fprintf(stderr,
					"bootsweep report: %s is one of the result files read\n",
					outp);
				ret = BSW_EXIT_USAGE;
				goto out;
			}
		if (asprintf(&tmp, "%s.tmp-XXXXXX", outp) < 0) {
			tmp = NULL;
			ret = BSW_EXIT_OPERR;
			goto out;
		}
		fd = mkstemp(tmp);
		o = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!o) {
			fprintf(stderr, "bootsweep report: %s: %s\n", outp, strerror(errno));
			if (fd >= 0)
				close(fd);
			ret = BSW_EXIT_OPERR;
			goto out;
		}
		fchmod(fd, 0644);
	}
	if (!strcmp(format, "html"))
		html_report(o, &f, &fl, basep ? &base : NULL);
	else if (!strcmp(format, "csv"))
		csv_report(o, &f, &fl);
	else
		table_report(o, &f, &fl);
	if (o != stdout) {
		int werr = ferror(o) | (fflush(o) != 0) | (fsync(fileno(o)) != 0);
		int e = errno;

		werr |= fclose(o) != 0;
		if (werr || rename(tmp, outp)) {
			fprintf(stderr, "bootsweep report: %s: %s\n", outp,
				strerror(werr ? (e ? e : EIO) : errno));
			unlink(tmp);
			ret = BSW_EXIT_OPERR;
		}
		o = stdout;
	}
	if (r.bad_lines)
		ret |= BSW_EXIT_OPERR;
out:
	free(tmp);
	fleet_free(&f);
	bsw_rfilter_free(&fl);
	bsw_results_free(&r);
	bsw_results_free(&base);
	return ret;
}
