/*
 * Result files read back (see results.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/finding.h"
#include "formats/common/vec.h"
#include "scanner/results.h"

static const struct bsw_code_info code_table[] = {
#define CODE(c, m, n, s) { c, m, n, s },
#include "scanner/problems/codes.def"
#undef CODE
};

const struct bsw_code_info *bsw_code_info(const char *code)
{
	for (size_t i = 0; i < sizeof(code_table) / sizeof(code_table[0]); i++)
		if (!strcmp(code_table[i].code, code))
			return &code_table[i];
	return NULL;
}

size_t bsw_code_count(void)
{
	return sizeof(code_table) / sizeof(code_table[0]);
}

const struct bsw_code_info *bsw_code_at(size_t i)
{
	return i < bsw_code_count() ? &code_table[i] : NULL;
}

/* the verdicts of result lines are the classifier's, in the same order */
_Static_assert(BSW_R_CLEAN == (int)BSW_V_NONE && BSW_R_UNASSESS == (int)BSW_V_UNASSESS,
	       "enum bsw_rverdict follows enum bsw_verdict");

const char *bsw_rverdict_name(enum bsw_rverdict v)
{
	return (unsigned)v < BSW_R_NR ? bsw_verdict_name((enum bsw_verdict)v) : "?";
}

int bsw_rverdict_parse(const char *s)
{
	for (int i = 0; i < BSW_R_NR; i++)
		if (!strcmp(s, bsw_verdict_name((enum bsw_verdict)i)))
			return i;
	return -1;
}

bool bsw_rdisk_has(const struct bsw_rdisk *d, const char *c)
{
	for (size_t i = 0; i < d->nr_codes; i++)
		if (!strcmp(d->codes[i], c))
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int bsw_read_line(FILE *f, char **buf, size_t *alloc, size_t max, size_t *len, bool *nl, bool *over)
{
	size_t n = 0;
	bool any = false;
	int c;

	*nl = *over = false;
	while ((c = getc_unlocked(f)) != EOF) {
		any = true;
		if (c == '\n') {
			*nl = true;
			break;
		}
		if (n >= max) {
			*over = true;
			continue;
		}
		if (bsw_vec_reserve(buf, alloc, n + 1, 1, max + 1))
			return -ENOMEM;
		(*buf)[n++] = (char)c;
	}
	if (!any)
		return 0;
	if (bsw_vec_reserve(buf, alloc, n + 1, 1, max + 1))
		return -ENOMEM;
	(*buf)[n] = 0;
	*len = n;
	return 1;
}

static int fill(struct bsw_rdisk *d)
{
	const struct bsw_jval *l = &d->line, *f, *ch, *id;
	int v;

	d->image = bsw_jstr(l, "image", NULL);
	v = bsw_rverdict_parse(bsw_jstr(l, "verdict", ""));
	if (!d->image || v < 0)
		return -EINVAL;
	d->verdict = (enum bsw_rverdict)v;
	d->error = bsw_jstr(l, "error", NULL);
	d->bytes_read = (uint64_t)bsw_jnum(l, "bytes_read", 0);
	d->ms_total = (uint64_t)bsw_jnum(bsw_jget(l, "timings_ms"), "total", 0);
	ch = bsw_jget(l, "chain");
	d->family = d->image;
	if (ch && ch->type == BSW_J_ARR && ch->len > 1)
		d->family = bsw_jstr(&ch->items[ch->len - 1], "path", d->image);
	d->key = NULL;
	id = bsw_jget(l, "identity");
	if (id && bsw_jstr(id, "container_id", NULL))
		d->key = bsw_jstr(id, "container_id", NULL);
	f = bsw_jget(l, "findings");
	if (f && f->type == BSW_J_ARR && f->len) {
		d->codes = calloc(f->len, sizeof(*d->codes));
		if (!d->codes)
			return -ENOMEM;
		for (size_t i = 0; i < f->len; i++) {
			const char *c = bsw_jstr(&f->items[i], "code", NULL);

			if (c && strcmp(c, "SCAN-SUPPRESSED"))
				d->codes[d->nr_codes++] = (char *)c;
		}
		qsort(d->codes, d->nr_codes, sizeof(*d->codes), cmp_str);
		/* distinct */
		size_t o = 0;

		for (size_t i = 0; i < d->nr_codes; i++)
			if (!o || strcmp(d->codes[o - 1], d->codes[i]))
				d->codes[o++] = d->codes[i];
		d->nr_codes = o;
	}
	return 0;
}

static int cmp_disk_image(const void *a, const void *b)
{
	const struct bsw_rdisk *x = a, *y = b;
	int c = strcmp(x->image, y->image);

	/* equal images: the later line last */
	return c ? c : (x->seq < y->seq ? -1 : 1);
}

int bsw_results_load(struct bsw_results *r, char *const *paths, size_t nr)
{
	char *buf = NULL;
	size_t cap = 0, alloc_d = 0, alloc_files = 0, i, o;
	int rc = 0;

	for (i = 0; i < nr && !rc; i++) {
		FILE *f = strcmp(paths[i], "-") ? fopen(paths[i], "r") : stdin;
		size_t lineno = 0;

		if (!f) {
			rc = -errno;
			fprintf(stderr, "bootsweep: %s: %s\n", paths[i], strerror(errno));
			break;
		}
		/* one entry per path given: no cap beyond nr */
		rc = bsw_vec_reserve(&r->files, &alloc_files, r->nr_files + 1, sizeof(*r->files),
				     nr);
		if (!rc)
			r->files[r->nr_files++] = paths[i];
		while (!rc) {
			bool nl, over;
			size_t n;
			struct bsw_rdisk d = { 0 };
			size_t where = 0;
			int pr;

			pr = bsw_read_line(f, &buf, &cap, BSW_RESULTS_MAX_LINE, &n, &nl, &over);
			if (!pr)
				break;
			lineno++;
			if (pr < 0) {
				rc = pr;
				break;
			}
			if (over || !nl) {
				fprintf(stderr, "bootsweep: %s:%zu: %s; skipped\n", paths[i],
					lineno, over ? "line too long" : "torn last line");
				r->bad_lines++;
				continue;
			}
			if (!n)
				continue;
			pr = bsw_json_parse(buf, n, &d.line, &where);
			if (pr == -ENOMEM) {
				rc = pr;
				break;
			}
			if (pr || fill(&d)) {
				fprintf(stderr,
					"bootsweep: %s:%zu: not a result line (%s at byte %zu); skipped\n",
					paths[i], lineno,
					pr ? "invalid JSON" : "no image or verdict", where);
				free(d.codes);
				bsw_json_free(&d.line);
				r->bad_lines++;
				continue;
			}
			rc = bsw_vec_reserve(&r->d, &alloc_d, r->nr + 1, sizeof(*r->d),
					     BSW_RESULTS_MAX_LINES);
			if (rc) {
				if (rc == -E2BIG)
					fprintf(stderr,
						"bootsweep: %s:%zu: more than %u result lines\n",
						paths[i], lineno, BSW_RESULTS_MAX_LINES);
				free(d.codes);
				bsw_json_free(&d.line);
				break;
			}
			d.seq = r->nr;
			r->d[r->nr++] = d;
		}
		if (ferror(f) && !rc)
			rc = -EIO;
		if (f != stdin)
			fclose(f);
	}
	free(buf);
	if (rc)
		return rc;
	/* one entry per image: the last line wins (a later sweep or resume);
	 * the pointers into each line stay valid as entries move */
	if (r->nr)
		qsort(r->d, r->nr, sizeof(*r->d), cmp_disk_image);
	for (i = 0, o = 0; i < r->nr; i++) {
		if (i + 1 < r->nr && !strcmp(r->d[i].image, r->d[i + 1].image)) {
			free(r->d[i].codes);
			bsw_json_free(&r->d[i].line);
			r->dup_lines++;
			continue;
		}
		r->d[o++] = r->d[i];
	}
	r->nr = o;
	return 0;
}

void bsw_results_free(struct bsw_results *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		free(r->d[i].codes);
		bsw_json_free(&r->d[i].line);
	}
	free(r->d);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

int bsw_rfilter_arg(struct bsw_rfilter *fl, int opt, const char *arg)
{
	int v;

	if (opt == 'V') {
		if (!strcmp(arg, "nonclean")) {
			fl->verdicts |= ((1u << BSW_R_NR) - 1) & ~(1u << BSW_R_CLEAN);
			return 0;
		}
		v = bsw_rverdict_parse(arg);
		if (v < 0)
			return -EINVAL;
		fl->verdicts |= 1u << v;
		return 0;
	}
	/* one per --code argument: no cap beyond the command line's */
	if (bsw_vec_reserve(&fl->codes, &fl->alloc_codes, fl->nr_codes + 1, sizeof(*fl->codes), 0))
		return -ENOMEM;
	fl->codes[fl->nr_codes++] = (char *)arg;
	return 0;
}

bool bsw_rfilter_match(const struct bsw_rfilter *fl, const struct bsw_rdisk *d)
{
	if (fl->verdicts && !(fl->verdicts & (1u << d->verdict)))
		return false;
	for (size_t i = 0; i < fl->nr_codes; i++)
		if (bsw_rdisk_has(d, fl->codes[i]))
			return true;
	return !fl->nr_codes;
}

void bsw_rfilter_free(struct bsw_rfilter *fl)
{
	free(fl->codes);
	memset(fl, 0, sizeof(*fl));
}
