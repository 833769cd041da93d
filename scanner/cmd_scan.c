/*
 * bootsweep scan: triage a fleet of disks, one JSON object per disk
 * (docs/cli.md).  Disks run in parallel (OpenMP, schedule(dynamic)); each
 * thread reads through its own ring.  Lines are written as disks finish;
 * each line depends only on its disk, so -j changes only the line order.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scanner/checks/triage.h"
#include "scanner/cmds.h"

#define MAX_WALK_DEPTH 32
#define MAX_IMAGES 10000000u

struct list {
	char **v;
	size_t nr, cap;
};

static int list_add(struct list *l, const char *s)
{
	if (l->nr >= MAX_IMAGES)
		return -E2BIG;
	if (l->nr == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		char **nv = realloc(l->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->nr] = strdup(s);
	if (!l->v[l->nr])
		return -ENOMEM;
	l->nr++;
	return 0;
}

static void list_free(struct list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		free(l->v[i]);
	free(l->v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool image_name(const char *n)
{
	static const char *ext[] = { ".vhd", ".vhdx", ".raw", ".img", ".bin" };
	size_t l = strlen(n), i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t e = strlen(ext[i]);

		if (l > e && !strcasecmp(n + l - e, ext[i]))
			return true;
	}
	return false;
}

/* Directories are searched recursively, in name order, symlinks not followed. */
static int walk(struct list *l, const char *dir, int depth)
{
	struct list names = { 0 };
	struct dirent *de;
	DIR *d;
	size_t i;
	int r = 0;

	if (depth > MAX_WALK_DEPTH)
		return 0;
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "bootsweep: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (list_add(&names, de->d_name))
			break;
	}
	closedir(d);
	if (names.nr)
		qsort(names.v, names.nr, sizeof(*names.v), cmp_str);
	for (i = 0; i < names.nr && !r; i++) {
		char p[4096];
		struct stat st;

		if (snprintf(p, sizeof(p), "%s/%s", dir, names.v[i]) >= (int)sizeof(p))
			continue;
		if (lstat(p, &st))
			continue;
		if (S_ISDIR(st.st_mode) && !image_name(names.v[i]))
			r = walk(l, p, depth + 1);
		else if (image_name(names.v[i]))
			r = list_add(l, p);	/* odd file types get an error line */
	}
	list_free(&names);
	return r < 0 && r != -ENOMEM ? 0 : r;
}

static int add_path(struct list *l, const char *p)
{
	struct stat st;

	if (!stat(p, &st) && S_ISDIR(st.st_mode) && !image_name(p))
		return walk(l, p, 0);
	return list_add(l, p);
}

static int read_list(struct list *l, const char *from)
{
	FILE *fp = strcmp(from, "-") ? fopen(from, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r = 0;

	if (!fp) {
		fprintf(stderr, "bootsweep: %s: %s\n", from, strerror(errno));
		return -errno;
	}
	while (!r && (n = getline(&line, &cap, fp)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (n && line[0] != '#')
			r = add_path(l, line);
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	return r;
}

/* The "image" value of an output line (JSON string, escapes undone). */
static char *line_image(const char *s)
{
	const char *p = strstr(s, "{\"image\":\"");
	char *out, *o;

	if (p != s)
		return NULL;
	p += 10;
	out = o = malloc(strlen(p) + 1);
	if (!out)
		return NULL;
	while (*p && *p != '"') {
		if (*p == '\\' && p[1]) {
			p++;
			switch (*p) {
			case 'n': *o++ = '\n'; break;
			case 't': *o++ = '\t'; break;
			case 'r': *o++ = '\r'; break;
			case 'b': *o++ = '\b'; break;
			case 'f': *o++ = '\f'; break;
			case 'u': {
				unsigned v = 0;

				if (sscanf(p + 1, "%4x", &v) == 1 && v < 0x80) {
					*o++ = (char)v;
					p += 4;
				} else {
					*o++ = '?';
				}
				break;
			}
			default: *o++ = *p;
			}
			p++;
			continue;
		}
		*o++ = *p++;
	}
	*o = 0;
	if (*p != '"') {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * --resume: collect the images already in the output; a torn last line is
 * dropped by rewriting the complete lines to a temporary file and renaming
 * it over the output (the output file only; images are never written).
 */
static int resume_read(const char *path, struct list *done)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, tmp[4200];
	size_t cap = 0;
	ssize_t n;
	bool torn = false;
	FILE *w = NULL;
	int r = 0;

	if (!fp)
		return errno == ENOENT ? 0 : -errno;
	while ((n = getline(&line, &cap, fp)) > 0) {
		char *img;

		if (line[n - 1] != '\n') {
			torn = true;
			break;
		}
		img = line_image(line);
		if (!img) {
			torn = true;	/* an unparseable line: rewrite without it */
			continue;
		}
		r = list_add(done, img);
		free(img);
		if (r)
			break;
	}
	if (!r && torn) {
		snprintf(tmp, sizeof(tmp), "%s.resume-tmp", path);
		w = fopen(tmp, "w");
		if (!w) {
			r = -errno;
		} else {
			rewind(fp);
			while ((n = getline(&line, &cap, fp)) > 0) {
				char *img;

				if (line[n - 1] != '\n')
					break;
				img = line_image(line);
				if (!img)
					continue;
				free(img);
				fwrite(line, 1, (size_t)n, w);
			}
			if (fflush(w) || fsync(fileno(w)))
				r = -errno;
			fclose(w);
			if (!r && rename(tmp, path))
				r = -errno;
		}
	}
	free(line);
	fclose(fp);
	return r;
}

static volatile sig_atomic_t interrupted;
static volatile int stop_flag;

static void on_sigint(int sig)
{
	interrupted = 1;
	stop_flag = 1;
}

struct stats {
	uint64_t nr[BSW_V_UNASSESS + 1], errors, bytes, done;
	struct { char *code; uint64_t n; } codes[256];
	unsigned nr_codes;
	struct { char *img; uint64_t ms; } slow[5];
};

static void stats_add(struct stats *s, const char *img,
		      const struct bsw_triage_result *res,
		      const struct bsw_fx *fx)
{
	size_t i;
	unsigned j;

	s->done++;
	s->nr[res->verdict]++;
	if (res->error)
		s->errors++;
	s->bytes += res->bytes_read;
	for (i = 0; i < bsw_fx_count(fx); i++) {
		const char *c = bsw_problem_info(bsw_fx_get(fx, i)->problem)->code;

		for (j = 0; j < s->nr_codes; j++)
			if (!strcmp(s->codes[j].code, c))
				break;
		if (j == s->nr_codes && j < 256) {
			s->codes[j].code = (char *)c;
			s->codes[j].n = 0;
			s->nr_codes++;
		}
		if (j < s->nr_codes)
			s->codes[j].n++;
	}
	for (j = 0; j < 5; j++) {
		if (!s->slow[j].img || res->ms_total > s->slow[j].ms) {
			free(s->slow[4].img);
			memmove(&s->slow[j + 1], &s->slow[j],
				(4 - j) * sizeof(s->slow[0]));
			s->slow[j].img = strdup(img);
			s->slow[j].ms = res->ms_total;
			break;
		}
	}
}

static void progress(const struct stats *s, size_t total, uint64_t t0)
{
	double el = (bsw_now_ms() - t0) / 1000.0;
	double rate = el > 0 ? s->done / el : 0;
	double eta = rate > 0 ? (total - s->done) / rate : 0;

	fprintf(stderr,
		"\r%" PRIu64 "/%zu  clean %" PRIu64 "  rollback %" PRIu64
		"  unbootable %" PRIu64 "  unassessable %" PRIu64
		"  %.2f GB read  %.1f disks/s  ETA %.0fs   ",
		s->done, total, s->nr[BSW_V_NONE], s->nr[BSW_V_ROLLBACK],
		s->nr[BSW_V_UNBOOT], s->nr[BSW_V_UNASSESS], s->bytes / 1e9,
		rate, eta);
}

static int cmp_code(const void *a, const void *b)
{
	const uint64_t na = *(const uint64_t *)((const char *)a + sizeof(char *));
	const uint64_t nb = *(const uint64_t *)((const char *)b + sizeof(char *));

	return na < nb ? 1 : na > nb ? -1 : 0;
}

static void summary(struct stats *s, uint64_t t0, size_t skipped)
{
	double el = (bsw_now_ms() - t0) / 1000.0;
	unsigned j;

	fprintf(stderr, "\nbootsweep scan: %" PRIu64 " disks in %.1f s", s->done, el);
	if (skipped)
		fprintf(stderr, " (%zu already in the output)", skipped);
	fprintf(stderr, ", %.2f GB read, %" PRIu64 " file digests reused from the sweep cache\n",
		s->bytes / 1e9, bsw_hcache_hits());
	fprintf(stderr, "  %-14s %8" PRIu64 "\n  %-14s %8" PRIu64
		"\n  %-14s %8" PRIu64 "\n  %-14s %8" PRIu64 "\n",
		"clean", s->nr[BSW_V_NONE], "dirty-rollback",
		s->nr[BSW_V_ROLLBACK], "unbootable", s->nr[BSW_V_UNBOOT],
		"unassessable", s->nr[BSW_V_UNASSESS]);
	if (s->errors)
		fprintf(stderr, "  %-14s %8" PRIu64 "\n", "open errors", s->errors);
	qsort(s->codes, s->nr_codes, sizeof(s->codes[0]), cmp_code);
	if (s->nr_codes)
		fprintf(stderr, "  top findings:\n");
	for (j = 0; j < s->nr_codes && j < 10; j++)
		fprintf(stderr, "    %-16s %8" PRIu64 "\n", s->codes[j].code,
			s->codes[j].n);
	if (s->slow[0].img)
		fprintf(stderr, "  slowest disks:\n");
	for (j = 0; j < 5 && s->slow[j].img; j++)
		fprintf(stderr, "    %8" PRIu64 " ms  %s\n", s->slow[j].ms,
			s->slow[j].img);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *e;
	unsigned long long v = strtoull(s, &e, 10);

	if (e == s)
		return -EINVAL;
	switch (toupper((unsigned char)*e)) {
	case 0: break;
	case 'K': v <<= 10; break;
	case 'M': v <<= 20; break;
	case 'G': v <<= 30; break;
	case 'T': v <<= 40; break;
	default: return -EINVAL;
	}
	*out = v;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bootsweep scan PATH... [-o FILE] [--resume] [--from FILE|-] [-j N]\n"
		"       [--mem-cap MiB] [--disk-timeout S] [--max-bytes N[KMG]] [--quiet]\n"
		"       [--no-store] [--no-ntfs3g]\n");
}

/* One disk whose path is not a file we may open: an error line, no open. */
static bool not_openable(const char *p, char *why, size_t len)
{
	struct stat st;

	if (stat(p, &st)) {
		snprintf(why, len, "%s", strerror(errno));
		return true;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(why, len, "not a regular file or block device");
		return true;
	}
	return false;
}

static char *error_line(const char *img, const char *why,
			struct bsw_triage_result *res, struct bsw_fx *fx)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *m;

	memset(res, 0, sizeof(*res));
	res->verdict = BSW_V_UNASSESS;
	res->error = -EINVAL;
	snprintf(res->errmsg, sizeof(res->errmsg), "%s", why);
	if (!fx)
		return NULL;
	BSW_REPORT(fx, PR_0_IMAGE_UNREADABLE, .str = why);
	bsw_fx_finish(fx);
	m = open_memstream(&buf, &blen);
	if (m) {
		fputs("{\"image\":", m);
		bsw_json_str(m, img);
		fputs(",\"verdict\":\"unassessable\",\"decided_by\":[\"DISK-UNREADABLE\"],\"error\":", m);
		bsw_json_str(m, why);
		fputs(",\"findings\":[", m);
		bsw_finding_json(bsw_fx_get(fx, 0), m);
		fputs("],\"chain\":[],\"partitions\":[],\"bytes_read\":0}", m);
		fclose(m);
	}
	return buf;
}

int bsw_cmd_scan(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "resume", no_argument, NULL, 'r' },
		{ "from", required_argument, NULL, 'f' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "mem-cap", required_argument, NULL, 'm' },
		{ "disk-timeout", required_argument, NULL, 't' },
		{ "max-bytes", required_argument, NULL, 'b' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-store", no_argument, NULL, 'S' },
		{ "no-ntfs3g", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bsw_triage_opts topts = { .stop = &stop_flag };
	struct list imgs = { 0 }, done = { 0 }, todo = { 0 };
	const char *outp = NULL;
	bool resume = false, quiet = false, tty;
	uint64_t mem_cap = 1024, t0;
	struct stats st = { 0 };
	struct sigaction sa = { 0 }, old;
	int c, jobs = 0, ret = BSW_EXIT_OK, i;
	size_t k;
	FILE *out = stdout;

	/* libntfs-3g runs in a child: this program again, or (for tests of
	 * a crashing or hanging child) BSW_NTFS3G_HELPER */
	topts.ntfs3g_self = getenv("BSW_NTFS3G_HELPER");
	if (!topts.ntfs3g_self || !*topts.ntfs3g_self)
		topts.ntfs3g_self = "/proc/self/exe";
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:j:q", lo, NULL)) != -1) {
		switch (c) {
		case 'o': outp = optarg; break;
		case 'r': resume = true; break;
		case 'f':
			if (read_list(&imgs, optarg) < 0)
				return BSW_EXIT_USAGE;
			break;
		case 'j': jobs = atoi(optarg); break;
		case 'm':
			if (parse_size(optarg, &mem_cap)) {
				usage();
				return BSW_EXIT_USAGE;
			}
			break;
		case 't': topts.timeout_s = (unsigned)atoi(optarg); break;
		case 'b':
			if (parse_size(optarg, &topts.max_bytes)) {
				usage();
				return BSW_EXIT_USAGE;
			}
			break;
		case 'q': quiet = true; break;
		case 'S': topts.no_store = true; break;
		case 'N': topts.no_ntfs3g = true; break;
		default:
			usage();
			return c == 'h' ? BSW_EXIT_OK : BSW_EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++)
		if (add_path(&imgs, argv[optind]) < 0) {
			list_free(&imgs);
			return BSW_EXIT_USAGE;
		}
	if (!imgs.nr && optind == argc && argc <= 1) {
		usage();
		return BSW_EXIT_USAGE;
	}
	if (resume && !outp) {
		fprintf(stderr, "bootsweep: --resume needs -o FILE\n");
		list_free(&imgs);
		return BSW_EXIT_USAGE;
	}
	if (resume && resume_read(outp, &done) < 0) {
		fprintf(stderr, "bootsweep: %s: cannot resume\n", outp);
		list_free(&imgs);
		return BSW_EXIT_OPERR;
	}
	if (done.nr)
		qsort(done.v, done.nr, sizeof(*done.v), cmp_str);
	for (k = 0; k < imgs.nr; k++) {
		if (done.nr && bsearch(&imgs.v[k], done.v, done.nr,
				       sizeof(*done.v), cmp_str))
			continue;
		if (list_add(&todo, imgs.v[k])) {
			ret = BSW_EXIT_OPERR;
			goto out;
		}
	}
	if (outp) {
		out = fopen(outp, resume ? "a" : "w");
		if (!out) {
			fprintf(stderr, "bootsweep: %s: %s\n", outp, strerror(errno));
			ret = BSW_EXIT_OPERR;
			goto out;
		}
	}
	bsw_mem_set_cap(mem_cap << 20);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	tty = isatty(2) && !quiet;
	if (jobs > 0)
		omp_set_num_threads(jobs);
	t0 = bsw_now_ms();

#pragma omp parallel for schedule(dynamic, 1)
	for (i = 0; i < (int)todo.nr; i++) {
		struct bsw_triage_result res;
		struct bsw_fx *fx = NULL;
		char why[128];
		char *line = NULL;

		if (stop_flag)
			continue;
		if (not_openable(todo.v[i], why, sizeof(why))) {
			if (bsw_fx_create(&fx))
				fx = NULL;
			line = error_line(todo.v[i], why, &res, fx);
			res.json = line;
		} else if (!bsw_fx_create(&fx)) {
			if (!bsw_triage_disk(todo.v[i], &topts, fx, &res))
				line = res.json;
		}
#pragma omp critical(scan_out)
		{
			if (line && !(stop_flag && !line[0])) {
				fputs(line, out);
				fputc('\n', out);
				fflush(out);
				if (fx)
					stats_add(&st, todo.v[i], &res, fx);
				if (res.verdict == BSW_V_UNASSESS)
					ret |= BSW_EXIT_UNASSESS;
				else if (res.verdict == BSW_V_ROLLBACK)
					ret |= BSW_EXIT_ROLLBACK;
				else if (res.verdict == BSW_V_UNBOOT)
					ret |= BSW_EXIT_UNBOOT;
				if (res.error)
					ret |= BSW_EXIT_OPERR;
			} else if (!line) {
				ret |= BSW_EXIT_OPERR;
			}
			if (tty)
				progress(&st, todo.nr, t0);
		}
		free(line);
		bsw_fx_destroy(fx);
	}
	if (interrupted)
		ret |= BSW_EXIT_INTR;
	sigaction(SIGINT, &old, NULL);
	if (!quiet)
		summary(&st, t0, imgs.nr - todo.nr);
	if (out != stdout && fclose(out))
		ret |= BSW_EXIT_OPERR;
	else if (out == stdout)
		fflush(stdout);
out:
	for (k = 0; k < 5; k++)
		free(st.slow[k].img);
	list_free(&imgs);
	list_free(&done);
	list_free(&todo);
	return ret;
}
