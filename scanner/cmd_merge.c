/*
 * bootsweep merge OUT PART...: join the JSONL of a sweep's parts (scan
 * --shard, scanner/shard.h) into one file and one summary.  Each part's
 * sidecar PART.part.json says which images it was planned to hold and with
 * which build and options it ran; merge checks that every part of the plan
 * is there, that all agree, and that every planned image has exactly one
 * line, and names what is missing (docs/cli.md "Parts").
 *
 * Parts are hostile input: lines are bounded (MERGE_MAX_LINE), a torn last
 * line is reported and left out, and nothing is held in memory but the
 * image names and where each line sits; OUT is written by copying those
 * lines back from the parts, sorted by image, to OUT.tmp renamed over OUT.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/common/vec.h"
#include "scanner/cmds.h"
#include "scanner/results.h"
#include "scanner/shard.h"

#define MERGE_MAX_LINE (16u << 20) /* one disk's JSON line */
#define MERGE_MAX_HDR (64u << 10)  /* a sidecar's first line, an image line */
#define MERGE_MAX_IMAGES 10000000u
#define MERGE_MAX_INPUTS 1000000u
#define MERGE_MAX_CODES 4096u
#define MERGE_LIST 10	       /* images named per part */
#define MERGE_MAX_EXTRA 10000u /* error lines outside the plans (searched linearly) */

struct part {
	char *jsonl, *sidecar;
	bool ok; /* sidecar read and consistent */
	long index, count;
	size_t store_images, part_images, got;
	char build[80], store_digest[65], plan_digest[65];
	char *options, *rule;
	FILE *f; /* the JSONL, kept open to copy lines from */
};

struct want {
	char *esc;   /* the image as a JSON string, quotes included */
	size_t part; /* planned in parts[part] */
	size_t src;  /* found in parts[src] */
	uint64_t off;
	size_t len;
	unsigned found;
	bool extra; /* a line for an image outside every plan */
};

struct merge {
	struct part *parts;
	size_t nr_parts, cap_parts;
	struct want *w;
	size_t nr_w, cap_w;
	struct want *x; /* lines outside the plans (walk errors) */
	size_t nr_x, cap_x;
	unsigned problems;
	uint64_t verdicts[4], errors, torn, long_lines, bad_lines, dups;
	struct {
		char *code;
		uint64_t n;
	} codes[MERGE_MAX_CODES];
	unsigned nr_codes;
	int bits;
};

static void problem(struct merge *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct merge *m, const char *fmt, ...)
{
	va_list ap;

	m->problems++;
	fputs("bootsweep merge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Length of the JSON string token at s (quotes included), 0 if none. */
static size_t token_len(const char *s)
{
	const char *p = s + 1;

	if (*s != '"')
		return 0;
	while (*p && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return 0;
		if (*p == '\\') {
			if (!p[1])
				return 0;
			p++;
		}
		p++;
	}
	return *p == '"' ? (size_t)(p - s + 1) : 0;
}

/*
 * The value of "key": in a line bootsweep wrote.  A key cannot match
 * inside a string value: there every quote is escaped.
 */
static const char *field(const char *line, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(line, k);
	return p ? p + strlen(k) : NULL;
}

static bool field_long(const char *line, const char *key, long *out)
{
	const char *p = field(line, key);
	char *e;

	if (!p)
		return false;
	errno = 0;
	*out = strtol(p, &e, 10);
	return e != p && !errno && *out >= 0;
}

/* A string field copied without its quotes (escapes kept) into buf. */
static bool field_str(const char *line, const char *key, char *buf, size_t len)
{
	const char *p = field(line, key);
	size_t n = p ? token_len(p) : 0;

	if (n < 2 || n - 2 >= len)
		return false;
	memcpy(buf, p + 1, n - 2);
	buf[n - 2] = 0;
	return true;
}

static char *field_dup(const char *line, const char *key, bool object)
{
	const char *p = field(line, key), *e;
	size_t n;
	char *s;

	if (!p)
		return NULL;
	if (object) {
		if (*p != '{' || !(e = strchr(p, '}')))
			return NULL;
		n = (size_t)(e - p + 1);
	} else {
		n = token_len(p);
		if (!n)
			return NULL;
	}
	s = strndup(p, n);
	return s;
}

static int want_add(struct want **v, size_t *nr, size_t *cap, const char *esc, size_t len,
		    size_t part)
{
	struct want *w;

	int r;

	r = bsw_vec_reserve(v, cap, *nr + 1, sizeof(**v), MERGE_MAX_IMAGES);
	if (r)
		return r;
	w = &(*v)[*nr];
	memset(w, 0, sizeof(*w));
	w->esc = strndup(esc, len);
	if (!w->esc)
		return -ENOMEM;
	w->part = part;
	(*nr)++;
	return 0;
}

/* Read parts[i]'s sidecar: header fields and the planned images. */
static int read_sidecar(struct merge *m, size_t i)
{
	struct part *p = &m->parts[i];
	char *line = NULL;
	size_t cap = 0, len, n = 0, tl;
	bool nl, over, end = false;
	long simg, pimg;
	FILE *f = fopen(p->sidecar, "r");
	int r;

	if (!f) {
		problem(m, "%s: %s (is %s the output of a part?)", p->sidecar, strerror(errno),
			p->jsonl);
		return 0;
	}
	r = bsw_read_line(f, &line, &cap, MERGE_MAX_HDR, &len, &nl, &over);
	if (r < 0)
		goto out;
	if (r == 0 || over || !nl ||
	    strncmp(line, "{\"schema\":\"" BSW_SHARD_SCHEMA "\"", 12 + strlen(BSW_SHARD_SCHEMA))) {
		problem(m, "%s: not a bootsweep part sidecar (schema %s)", p->sidecar,
			BSW_SHARD_SCHEMA);
		goto out;
	}
	p->options = field_dup(line, "options", true);
	p->rule = field_dup(line, "rule", false);
	if (!field_str(line, "bootsweep", p->build, sizeof(p->build)) ||
	    !field_str(line, "store_digest", p->store_digest, sizeof(p->store_digest)) ||
	    !field_str(line, "plan_digest", p->plan_digest, sizeof(p->plan_digest)) ||
	    !field_long(line, "index", &p->index) || !field_long(line, "count", &p->count) ||
	    !field_long(line, "store_images", &simg) || !field_long(line, "part_images", &pimg) ||
	    !p->options || !p->rule || p->count < 1 || p->count > (long)BSW_SHARD_MAX_PARTS ||
	    p->index >= p->count || (size_t)simg > MERGE_MAX_IMAGES || pimg > simg) {
		problem(m, "%s: a field is missing or out of range", p->sidecar);
		goto out;
	}
	p->store_images = (size_t)simg;
	p->part_images = (size_t)pimg;
	r = bsw_read_line(f, &line, &cap, MERGE_MAX_HDR, &len, &nl, &over);
	if (r <= 0 || strcmp(line, "\"images\":[")) {
		problem(m, "%s: no image list", p->sidecar);
		goto out;
	}
	while ((r = bsw_read_line(f, &line, &cap, MERGE_MAX_HDR, &len, &nl, &over)) > 0) {
		const char *s = line;

		if (!strcmp(line, "]}")) {
			end = nl;
			break;
		}
		if (n && *s == ',')
			s++;
		tl = token_len(s);
		if (over || !nl || !tl || s[tl] || n >= p->part_images) {
			problem(m, "%s: image list broken at entry %zu", p->sidecar, n + 1);
			goto out;
		}
		r = want_add(&m->w, &m->nr_w, &m->cap_w, s, tl, i);
		if (r < 0)
			goto out;
		n++;
	}
	if (r < 0)
		goto out;
	if (!end || n != p->part_images) {
		problem(m, "%s: image list torn (%zu of %zu images)", p->sidecar, n,
			p->part_images);
		goto out;
	}
	p->ok = true;
out:
	free(line);
	fclose(f);
	return r < 0 ? r : 0;
}

static int cmp_want(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	int c = strcmp(x->esc, y->esc);

	if (c)
		return c;
	return x->part < y->part ? -1 : x->part > y->part;
}

static void tally(struct merge *m, const char *line)
{
	static const char *vn[4] = { "clean", "unassessable", "dirty-rollback", "unbootable" };
	static const int vb[4] = { 0, BSW_EXIT_UNASSESS, BSW_EXIT_ROLLBACK, BSW_EXIT_UNBOOT };
	const char *p = field(line, "verdict");
	unsigned j;
	int k;

	for (k = 0; p && k < 4; k++)
		if (!strncmp(p, "\"", 1) && !strncmp(p + 1, vn[k], strlen(vn[k])) &&
		    p[1 + strlen(vn[k])] == '"') {
			m->verdicts[k]++;
			m->bits |= vb[k];
		}
	if (field(line, "error")) {
		m->errors++;
		m->bits |= BSW_EXIT_OPERR;
	}
	for (p = line; (p = strstr(p, "\"code\":\""));) {
		size_t n;

		p += 7;
		n = token_len(p);
		if (n < 2)
			break;
		for (j = 0; j < m->nr_codes; j++)
			if (strlen(m->codes[j].code) == n - 2 &&
			    !strncmp(m->codes[j].code, p + 1, n - 2))
				break;
		if (j == m->nr_codes && j < MERGE_MAX_CODES &&
		    (m->codes[j].code = strndup(p + 1, n - 2))) {
			m->codes[j].n = 0;
			m->nr_codes++;
		}
		if (j < m->nr_codes)
			m->codes[j].n++;
		p += n;
	}
}

struct key {
	const char *s;
	size_t n;
};

/* a token of n bytes against a want, in the order of strcmp */
static int cmp_key(const void *a, const void *b)
{
	const struct key *k = a;
	const struct want *w = b;
	int c = strncmp(k->s, w->esc, k->n);

	if (c)
		return c;
	return w->esc[k->n] ? -1 : 0;
}

/* Read parts[i]'s JSONL and match its lines to the planned images. */
static int read_part(struct merge *m, size_t i)
{
	struct part *p = &m->parts[i];
	char *line = NULL;
	size_t cap = 0, len, lineno = 0;
	bool nl, over;
	int r;

	p->f = fopen(p->jsonl, "r");
	if (!p->f) {
		problem(m,
			"part %ld/%ld: %s: %s: its %zu images are missing; "
			"rerun it (with --resume if it exists)",
			p->index, p->count, p->jsonl, strerror(errno), p->part_images);
		return 0;
	}
	for (;;) {
		off_t off = ftello(p->f);
		struct key key;
		struct want *w;
		size_t tl;

		r = bsw_read_line(p->f, &line, &cap, MERGE_MAX_LINE, &len, &nl, &over);
		if (r <= 0)
			break;
		lineno++;
		if (over) {
			m->long_lines++;
			problem(m, "%s:%zu: a line over %u MiB, left out", p->jsonl, lineno,
				MERGE_MAX_LINE >> 20);
			continue;
		}
		if (!nl) {
			m->torn++;
			problem(m,
				"%s: torn last line at byte %lld (%zu bytes, no newline), "
				"left out: rerun part %ld/%ld with --resume",
				p->jsonl, (long long)off, len, p->index, p->count);
			break;
		}
		if (strncmp(line, "{\"image\":", 9) || !(tl = token_len(line + 9))) {
			m->bad_lines++;
			problem(m, "%s:%zu: not a bootsweep result line, left out", p->jsonl,
				lineno);
			continue;
		}
		key.s = line + 9;
		key.n = tl;
		w = bsearch(&key, m->w, m->nr_w, sizeof(*m->w), cmp_key);
		if (!w) {
			/*
			 * An error line for a folder the walk could not enter:
			 * every part writes it; one is kept.  A result for an
			 * image in no plan is a line of another sweep (a part
			 * resumed into an old output): refused.
			 */
			size_t j;

			if (!field(line, "error")) {
				m->bad_lines++;
				problem(m,
					"%s:%zu: %.*s is in no part's plan: a line of another "
					"sweep? left out",
					p->jsonl, lineno, (int)tl, line + 9);
				continue;
			}
			if (m->nr_x >= MERGE_MAX_EXTRA) {
				if (!m->bad_lines++)
					problem(m,
						"%s:%zu: over %u error lines outside the plans, "
						"the rest left out",
						p->jsonl, lineno, MERGE_MAX_EXTRA);
				else
					m->problems++;
				continue;
			}
			for (j = 0; j < m->nr_x; j++)
				if (!strncmp(m->x[j].esc, line + 9, tl) && !m->x[j].esc[tl])
					break;
			if (j < m->nr_x)
				continue;
			r = want_add(&m->x, &m->nr_x, &m->cap_x, line + 9, tl, i);
			if (r < 0)
				break;
			w = &m->x[m->nr_x - 1];
			w->extra = true;
		} else if (w->found++) {
			m->dups++;
			problem(m,
				"%s:%zu: %.*s already merged from %s: a second line, "
				"left out",
				p->jsonl, lineno, (int)tl, line + 9, m->parts[w->src].jsonl);
			continue;
		} else if (w->part != i) {
			problem(m, "%s:%zu: %.*s was planned in part %ld, not %ld", p->jsonl,
				lineno, (int)tl, line + 9, m->parts[w->part].index, p->index);
		}
		w->src = i;
		w->off = (uint64_t)off;
		w->len = len;
		p->got++;
		tally(m, line);
	}
	free(line);
	if (r < 0)
		return r;
	if (ferror(p->f))
		problem(m, "%s: read error", p->jsonl);
	return 0;
}

static int add_input(struct merge *m, const char *arg)
{
	size_t n = strlen(arg), sl = strlen(BSW_SHARD_SUFFIX);
	struct part *p;
	int r;

	r = bsw_vec_reserve(&m->parts, &m->cap_parts, m->nr_parts + 1, sizeof(*m->parts),
			    MERGE_MAX_INPUTS);
	if (r)
		return r;
	p = &m->parts[m->nr_parts];
	memset(p, 0, sizeof(*p));
	/* PART or PART.part.json: either names the part */
	if (n > sl && !strcmp(arg + n - sl, BSW_SHARD_SUFFIX))
		p->jsonl = strndup(arg, n - sl);
	else
		p->jsonl = strdup(arg);
	if (!p->jsonl || asprintf(&p->sidecar, "%s%s", p->jsonl, BSW_SHARD_SUFFIX) < 0) {
		free(p->jsonl);
		return -ENOMEM;
	}
	m->nr_parts++;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder: every PART.part.json in it, in name order. */
static int add_dir(struct merge *m, const char *dir)
{
	size_t sl = strlen(BSW_SHARD_SUFFIX), nr = 0, cap = 0, i;
	char **names = NULL;
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char *s;

		if (n <= sl || strcmp(de->d_name + n - sl, BSW_SHARD_SUFFIX))
			continue;
		r = bsw_vec_reserve(&names, &cap, nr + 1, sizeof(*names), MERGE_MAX_INPUTS);
		if (r)
			break;
		if (asprintf(&s, "%s/%s", dir, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		names[nr++] = s;
	}
	closedir(d);
	if (nr)
		qsort(names, nr, sizeof(*names), cmp_name);
	for (i = 0; i < nr; i++) {
		if (!r)
			r = add_input(m, names[i]);
		free(names[i]);
	}
	free(names);
	return r;
}

/* qsort_r: part indexes into parts, good ones first, by index */
static int cmp_part_index(const void *a, const void *b, void *parts)
{
	const struct part *x = (const struct part *)parts + *(const size_t *)a;
	const struct part *y = (const struct part *)parts + *(const size_t *)b;

	if (x->ok != y->ok)
		return x->ok ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return strcmp(x->jsonl, y->jsonl);
}

static int cmp_code_n(const void *a, const void *b)
{
	const struct {
		char *code;
		uint64_t n;
	} *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->code, y->code);
}

/*
 * Check the sidecars against ref, the first readable one, and name every
 * part of the plan that is missing or given twice.  Returns 0 or -ENOMEM.
 */
static int check_parts(struct merge *m, const struct part *ref)
{
	long q, count = ref->count;
	size_t i, k = 0, listed = 0, *ord;

	for (i = 0; i < m->nr_parts; i++) {
		struct part *p = &m->parts[i];

		if (!p->ok || p == ref)
			continue;
		if (strcmp(p->build, ref->build)) {
			problem(m, "%s: made by bootsweep %s, %s by %s", p->sidecar, p->build,
				ref->sidecar, ref->build);
			p->ok = false;
		} else if (strcmp(p->options, ref->options)) {
			problem(m, "%s: options %s, %s has %s", p->sidecar, p->options,
				ref->sidecar, ref->options);
			p->ok = false;
		} else if (p->count != count || strcmp(p->store_digest, ref->store_digest) ||
			   strcmp(p->plan_digest, ref->plan_digest) ||
			   p->store_images != ref->store_images) {
			problem(m,
				"%s: part of another plan (%ld parts, %zu images, plan %.12s) "
				"than %s (%ld parts, %zu images, plan %.12s): the store or N changed "
				"between the parts",
				p->sidecar, p->count, p->store_images, p->plan_digest, ref->sidecar,
				count, ref->store_images, ref->plan_digest);
			p->ok = false;
		}
	}
	ord = malloc(m->nr_parts * sizeof(*ord));
	if (!ord)
		return -ENOMEM;
	for (i = 0; i < m->nr_parts; i++)
		ord[i] = i;
	qsort_r(ord, m->nr_parts, sizeof(*ord), cmp_part_index, m->parts);
	/* good parts first, by index: one pass finds gaps and repeats */
	for (q = 0; q < count; q++) {
		bool have = false;

		while (k < m->nr_parts && m->parts[ord[k]].ok && m->parts[ord[k]].index == q) {
			if (have) {
				problem(m, "part %ld/%ld given twice: %s and %s", q, count,
					m->parts[ord[k - 1]].jsonl, m->parts[ord[k]].jsonl);
				m->parts[ord[k]].ok = false;
			}
			have = true;
			k++;
		}
		if (!have && listed++ < 100)
			problem(m,
				"part %ld/%ld is missing (no usable sidecar for it among the inputs): "
				"run it (--shard %ld/%ld, Slurm array task %ld, "
				"JOB_COMPLETION_INDEX=%ld)",
				q, count, q, count, q, q);
		else if (!have)
			m->problems++;
	}
	if (listed > 100)
		fprintf(stderr, "bootsweep merge: ... %zu parts missing in all\n", listed);
	free(ord);
	return 0;
}

static int write_out(struct merge *m, const char *outp)
{
	char *tmp = NULL, *buf = NULL;
	size_t i, cap = 0;
	FILE *o;
	int r = 0;

	if (asprintf(&tmp, "%s.tmp", outp) < 0)
		return -ENOMEM;
	o = fopen(tmp, "w");
	if (!o) {
		r = -errno;
		free(tmp);
		return r;
	}
	for (i = 0; i < m->nr_w + m->nr_x && !r; i++) {
		struct want *w = i < m->nr_w ? &m->w[i] : &m->x[i - m->nr_w];
		FILE *f;

		if (!w->found && !w->extra)
			continue;
		f = m->parts[w->src].f;
		r = bsw_vec_reserve(&buf, &cap, w->len + 1, 1, MERGE_MAX_LINE + 1);
		if (r)
			break;
		if (pread(fileno(f), buf, w->len + 1, (off_t)w->off) != (ssize_t)(w->len + 1) ||
		    buf[w->len] != '\n') {
			r = -EIO; /* the part changed under us */
			break;
		}
		if (fwrite(buf, 1, w->len + 1, o) != w->len + 1)
			r = -errno;
	}
	free(buf);
	if (fflush(o) || fsync(fileno(o)))
		r = r ? r : -errno;
	if (fclose(o))
		r = r ? r : -errno;
	if (!r && rename(tmp, outp))
		r = -errno;
	if (r)
		unlink(tmp);
	free(tmp);
	return r;
}

static void summary(struct merge *m, FILE *f, const char *outp, bool complete, size_t expected,
		    size_t missing)
{
	unsigned j;

	qsort(m->codes, m->nr_codes, sizeof(m->codes[0]), cmp_code_n);
	fprintf(f,
		"bootsweep merge: %zu parts, %" PRIu64 " disks%s%s (%zu planned, "
		"%zu known missing)%s\n",
		m->nr_parts, m->verdicts[0] + m->verdicts[1] + m->verdicts[2] + m->verdicts[3],
		outp ? " in " : "", outp ? outp : "", expected, missing,
		complete ? ", complete" : ", INCOMPLETE");
	fprintf(f,
		"  %-14s %8" PRIu64 "\n  %-14s %8" PRIu64 "\n  %-14s %8" PRIu64
		"\n  %-14s %8" PRIu64 "\n",
		"clean", m->verdicts[0], "dirty-rollback", m->verdicts[2], "unbootable",
		m->verdicts[3], "unassessable", m->verdicts[1]);
	if (m->errors)
		fprintf(f, "  %-14s %8" PRIu64 "\n", "open errors", m->errors);
	if (m->nr_codes)
		fprintf(f, "  top findings:\n");
	for (j = 0; j < m->nr_codes && j < 10; j++)
		fprintf(f, "    %-16s %8" PRIu64 "\n", m->codes[j].code, m->codes[j].n);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bootsweep merge OUT PART... [--partial] [--quiet]\n"
		"  PART: a part's JSONL (its sidecar PART%s beside it), the sidecar\n"
		"        itself, or a folder holding the parts\n",
		BSW_SHARD_SUFFIX);
}

int bsw_cmd_merge(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "partial", no_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct merge *m = calloc(1, sizeof(*m));
	const struct part *ref = NULL;
	bool partial = false, quiet = false, complete;
	const char *outp;
	size_t i, j, missing = 0, expected = 0, *miss, *named;
	struct stat st;
	int c, r = 0, ret = BSW_EXIT_OK;

	if (!m)
		return BSW_EXIT_OPERR;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
		switch (c) {
		case 'p': partial = true; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); goto done;
		default:
			usage(stderr);
			ret = BSW_EXIT_USAGE;
			goto done;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		ret = BSW_EXIT_USAGE;
		goto done;
	}
	outp = argv[optind++];
	for (; optind < argc && !r; optind++) {
		if (!stat(argv[optind], &st) && S_ISDIR(st.st_mode))
			r = add_dir(m, argv[optind]);
		else
			r = add_input(m, argv[optind]);
		if (r)
			fprintf(stderr, "bootsweep merge: %s: %s\n", argv[optind], strerror(-r));
	}
	if (r || !m->nr_parts) {
		if (!m->nr_parts)
			fprintf(stderr, "bootsweep merge: no parts given\n");
		ret = BSW_EXIT_USAGE;
		goto done;
	}
	/* OUT must not be one of the inputs */
	{
		char *ro = realpath(outp, NULL);

		for (i = 0; ro && i < m->nr_parts; i++) {
			char *a = realpath(m->parts[i].jsonl, NULL);
			char *b = realpath(m->parts[i].sidecar, NULL);
			bool same = (a && !strcmp(a, ro)) || (b && !strcmp(b, ro));

			free(a);
			free(b);
			if (same) {
				fprintf(stderr,
					"bootsweep merge: %s is one of the parts; "
					"refusing to write the merge there\n",
					outp);
				free(ro);
				ret = BSW_EXIT_USAGE;
				goto done;
			}
		}
		free(ro);
	}

	for (i = 0; i < m->nr_parts && !r; i++)
		r = read_sidecar(m, i);
	for (i = 0; i < m->nr_parts && !ref; i++)
		if (m->parts[i].ok)
			ref = &m->parts[i];
	if (!r && !ref) {
		problem(m, "no readable part sidecar among %zu inputs", m->nr_parts);
		ret = BSW_EXIT_OPERR;
		goto done;
	}
	if (!r)
		r = check_parts(m, ref);
	if (r)
		goto operr;
	expected = ref->store_images;

	/* the planned images of the good parts, each planned once */
	for (i = 0, j = 0; i < m->nr_w; i++) {
		if (!m->parts[m->w[i].part].ok) {
			free(m->w[i].esc);
			continue;
		}
		m->w[j++] = m->w[i];
	}
	m->nr_w = j;
	qsort(m->w, m->nr_w, sizeof(*m->w), cmp_want);
	for (i = 1; i < m->nr_w; i++)
		if (!strcmp(m->w[i].esc, m->w[i - 1].esc))
			problem(m, "%s is planned in two parts (%s and %s)", m->w[i].esc,
				m->parts[m->w[i - 1].part].sidecar, m->parts[m->w[i].part].sidecar);

	for (i = 0; i < m->nr_parts && !r; i++)
		if (m->parts[i].ok)
			r = read_part(m, i);
	if (r)
		goto operr;

	/* what is missing, part by part: one pass counts, one names */
	miss = calloc(m->nr_parts, sizeof(*miss));
	named = calloc(m->nr_parts, sizeof(*named));
	if (!miss || !named) {
		free(miss);
		free(named);
		r = -ENOMEM;
		goto operr;
	}
	for (j = 0; j < m->nr_w; j++)
		if (!m->w[j].found && m->parts[m->w[j].part].f)
			miss[m->w[j].part]++;
	for (i = 0; i < m->nr_parts; i++) {
		struct part *p = &m->parts[i];

		if (!miss[i])
			continue;
		missing += miss[i];
		problem(m,
			"part %ld/%ld (%s): %zu of %zu images have no line; rerun this "
			"part with --resume (the same command and -o)",
			p->index, p->count, p->jsonl, miss[i], p->part_images);
	}
	for (j = 0; j < m->nr_w; j++) {
		size_t q = m->w[j].part;

		if (m->w[j].found || !miss[q] || named[q] >= MERGE_LIST)
			continue;
		fprintf(stderr, "  part %ld missing: %s\n", m->parts[q].index, m->w[j].esc);
		if (++named[q] == MERGE_LIST && miss[q] > MERGE_LIST)
			fprintf(stderr, "  part %ld: ... and %zu more\n", m->parts[q].index,
				miss[q] - MERGE_LIST);
	}
	free(miss);
	free(named);
	for (i = 0; i < m->nr_parts; i++)
		if (m->parts[i].ok && !m->parts[i].f)
			missing += m->parts[i].part_images;
	/* all parts there: their plans together must be the whole store */
	if (!m->problems && m->nr_w != expected)
		problem(m, "the parts plan %zu images, the store had %zu", m->nr_w, expected);
	if (m->nr_x) /* error lines already: bit 8 from tally() */
		fprintf(stderr,
			"bootsweep merge: %zu lines for paths in no part's plan "
			"(folders the walk could not enter?), kept once each\n",
			m->nr_x);

	complete = !m->problems;
	if (complete || partial) {
		r = write_out(m, outp);
		if (r) {
			fprintf(stderr, "bootsweep merge: %s: %s\n", outp, strerror(-r));
			ret |= BSW_EXIT_OPERR;
		}
	} else {
		fprintf(stderr,
			"bootsweep merge: %s not written: the merge is incomplete "
			"(--partial writes what there is)\n",
			outp);
	}
	if (!quiet)
		summary(m, stderr, complete || partial ? outp : NULL, complete, expected, missing);
	ret |= m->bits;
	if (!complete)
		ret |= BSW_EXIT_OPERR;
	goto done;
operr:
	fprintf(stderr, "bootsweep merge: %s\n", strerror(-r));
	ret = BSW_EXIT_OPERR;
done:
	if (m->parts)
		for (i = 0; i < m->nr_parts; i++) {
			free(m->parts[i].jsonl);
			free(m->parts[i].sidecar);
			free(m->parts[i].options);
			free(m->parts[i].rule);
			if (m->parts[i].f)
				fclose(m->parts[i].f);
		}
	for (i = 0; i < m->nr_w; i++)
		free(m->w[i].esc);
	for (i = 0; i < m->nr_x; i++)
		free(m->x[i].esc);
	for (i = 0; i < m->nr_codes; i++)
		free(m->codes[i].code);
	free(m->parts);
	free(m->w);
	free(m->x);
	free(m);
	return ret;
}
