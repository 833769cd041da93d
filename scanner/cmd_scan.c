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
#include <limits.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scanner/checks/triage.h"
#include "scanner/cmds.h"
#include "scanner/out.h"
#include "scanner/results.h"
#include "scanner/rules.h"
#include "scanner/shard.h"
#include "scanner/walk_layout.h"
#include "scanner/report.h"
#include "scanner/family.h"
#include "scanner/pcache.h"
#include "scanner/share.h"

#define DEFAULT_MAX_DEPTH 64
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
	static const char *ext[] = { ".vhd",   ".vhdx", ".raw",	  ".img",  ".bin",
				     ".avhdx", ".avhd", ".qcow2", ".qcow", ".vmdk" };
	size_t l = strlen(n), i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t e = strlen(ext[i]);

		if (l > e && !strcasecmp(n + l - e, ext[i]))
			return true;
	}
	return false;
}

/*
 * What the walk could not look into.  Each is reported on stderr and gets
 * an error line in the results (the sweep is incomplete: bit 8), never a
 * silent gap: a sweep that says "every disk clean" has seen every disk.
 */
struct walk {
	struct list *imgs;
	struct list skip_path, skip_why; /* in walk order */
	unsigned max_depth;
};

static int skip(struct walk *w, const char *path, const char *why)
{
	char *canon = realpath(path, NULL); /* named as images are */
	int r = list_add(&w->skip_path, canon ? canon : path);

	free(canon);
	if (!r)
		r = list_add(&w->skip_why, why);
	fprintf(stderr, "bootsweep: %s: not swept: %s\n", path, why);
	return r;
}

/*
 * Directories are searched recursively, in name order (byte order, so the
 * same on every machine), symlinks to directories not followed.
 */
static int walk(struct walk *w, const char *dir, unsigned depth)
{
	struct list names = { 0 };
	struct dirent *de;
	DIR *d;
	size_t i, from;
	int r = 0;

	if (depth > w->max_depth) {
		char why[80];

		snprintf(why, sizeof(why), "folder deeper than --max-depth %u", w->max_depth);
		return skip(w, dir, why);
	}
	d = opendir(dir);
	if (!d) {
		char why[160];

		snprintf(why, sizeof(why), "folder not read: %s", strerror(errno));
		return skip(w, dir, why);
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				char why[160];

				snprintf(why, sizeof(why), "folder listing failed: %s",
					 strerror(errno));
				r = skip(w, dir, why);
			}
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = list_add(&names, de->d_name);
		if (r)
			break;
	}
	closedir(d);
	if (names.nr)
		qsort(names.v, names.nr, sizeof(*names.v), cmp_str);
	from = w->imgs->nr;
	for (i = 0; i < names.nr && !r; i++) {
		struct stat st;
		char *p;

		if (asprintf(&p, "%s/%s", dir, names.v[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		if (strlen(p) >= PATH_MAX) {
			char why[80];

			snprintf(why, sizeof(why), "path longer than PATH_MAX (%d bytes)",
				 PATH_MAX - 1);
			r = skip(w, p, why);
		} else if (lstat(p, &st)) {
			r = skip(w, p, strerror(errno));
		} else if (S_ISDIR(st.st_mode) && !image_name(names.v[i])) {
			r = walk(w, p, depth + 1);
		} else if (image_name(names.v[i])) {
			r = list_add(w->imgs, p); /* odd file types get an error line */
		}
		free(p);
	}
	list_free(&names);
	/* Hyper-V checkpoints and VMDK extent files: each chain once */
	if (!r)
		w->imgs->nr = bsw_walk_collapse(w->imgs->v, from, w->imgs->nr);
	return r;
}

static int add_path(struct walk *w, const char *p)
{
	struct stat st;

	if (!stat(p, &st) && S_ISDIR(st.st_mode) && !image_name(p))
		return walk(w, p, 0);
	return list_add(w->imgs, p);
}

/*
 * Every image under its canonical path (realpath: "dir/", "./dir" and a
 * symlink are one disk), each once, in the order first given.  A path that
 * does not resolve stays as given (it gets an error line).  0 or -ENOMEM.
 */
struct ipath {
	const char *p;
	size_t i;
};

static int cmp_ipath(const void *a, const void *b)
{
	const struct ipath *x = a, *y = b;
	int c = strcmp(x->p, y->p);

	return c ? c : (x->i < y->i ? -1 : x->i > y->i);
}

static int canonical(struct list *l)
{
	struct ipath *s;
	bool *drop;
	size_t i, o;

	for (i = 0; i < l->nr; i++) {
		char *r = realpath(l->v[i], NULL);

		if (r) {
			free(l->v[i]);
			l->v[i] = r;
		} else if (errno == ENOMEM) {
			return -ENOMEM;
		}
	}
	if (l->nr < 2)
		return 0;
	s = malloc(l->nr * sizeof(*s));
	drop = calloc(l->nr, sizeof(*drop));
	if (!s || !drop) {
		free(s);
		free(drop);
		return -ENOMEM;
	}
	for (i = 0; i < l->nr; i++)
		s[i] = (struct ipath){ l->v[i], i };
	qsort(s, l->nr, sizeof(*s), cmp_ipath);
	for (i = 1; i < l->nr; i++)
		if (!strcmp(s[i].p, s[i - 1].p))
			drop[s[i].i] = true; /* a later spelling of the same disk */
	for (i = 0, o = 0; i < l->nr; i++) {
		if (drop[i])
			free(l->v[i]);
		else
			l->v[o++] = l->v[i];
	}
	l->nr = o;
	free(s);
	free(drop);
	return 0;
}

static int read_list(struct walk *w, const char *from)
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
			r = add_path(w, line);
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	return r;
}

struct stats {
	uint64_t nr[BSW_V_UNASSESS + 1], errors, bytes, done;
	uint64_t prior[BSW_V_UNASSESS + 1], prior_errors; /* lines already in -o */
	struct code_count {
		char *code;
		uint64_t n;
	} codes[256];
	unsigned nr_codes;
	struct {
		char *img;
		uint64_t ms;
	} slow[5];
};

/*
 * The verdict a result line records (BSW_V_*, -1 if none) and whether it
 * carries an "error" (which the renderer puts right after "decided_by").
 */
static int line_verdict(const char *line, bool *error)
{
	const char *d = strstr(line, ",\"verdict\":\"");
	int v = -1;

	*error = false;
	if (!d)
		return -1;
	d += 12;
	for (int i = BSW_V_NONE; i <= BSW_V_UNASSESS; i++) {
		const char *n = bsw_verdict_name((enum bsw_verdict)i);

		if (!strncmp(d, n, strlen(n)) && d[strlen(n)] == '"')
			v = i;
	}
	d = strstr(d, ",\"decided_by\":[");
	d = d ? strchr(d, ']') : NULL;
	*error = d && !strncmp(d + 1, ",\"error\":", 9);
	return v;
}

static int verdict_bit(int v)
{
	return v == BSW_V_UNASSESS ? BSW_EXIT_UNASSESS :
	       v == BSW_V_ROLLBACK ? BSW_EXIT_ROLLBACK :
	       v == BSW_V_UNBOOT   ? BSW_EXIT_UNBOOT :
				     0;
}

/*
 * --resume: the images already in the output, and (*bits) the exit status
 * their lines stand for, so that a resumed sweep's status covers the whole
 * file.  bsw_out_open() has checked that it is a bootsweep JSONL and cut a
 * torn last line; any other line that is not a result means the file is
 * not ours to extend, and nothing in it is rewritten.
 */
static int resume_read(const char *path, struct list *done, int *bits, struct stats *st)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, nr = 0;
	ssize_t n;
	int r = 0;

	if (!fp)
		return errno == ENOENT ? 0 : -errno;
	while ((n = getline(&line, &cap, fp)) > 0) {
		char *img;

		nr++;
		if (line[n - 1] != '\n')
			break; /* torn: bsw_out_open() cut it */
		img = bsw_out_line_image(line, (size_t)n - 1);
		if (!img) {
			fprintf(stderr,
				"bootsweep: %s: line %zu is not a result line; "
				"not resuming into it\n",
				path, nr);
			r = -EINVAL;
			break;
		}
		r = list_add(done, img);
		free(img);
		if (r)
			break;
		{
			bool error;
			int v = line_verdict(line, &error);

			*bits |= verdict_bit(v) | (error ? BSW_EXIT_OPERR : 0);
			*bits |= bsw_rules_line_bits(line, (size_t)n - 1);
			if (v >= 0)
				st->prior[v]++;
			st->prior_errors += error;
		}
	}
	if (!r && ferror(fp))
		r = -EIO;
	free(line);
	fclose(fp);
	return r;
}

static char scan_start[32]; /* ISO 8601 UTC, set once before the sweep */
/*
 * Set by SIGINT and by a failed write; read by every worker before it
 * starts a disk.  Atomic: workers and the handler touch it concurrently.
 */
static volatile sig_atomic_t interrupted;
static atomic_int stop_flag;

static void on_sigint(int sig)
{
	interrupted = 1;
	atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
}

static void stats_add(struct stats *s, const char *img, const struct bsw_triage_result *res,
		      const struct bsw_fx *fx)
{
	size_t i;
	unsigned j;

	s->done++;
	s->nr[res->verdict]++;
	if (res->error)
		s->errors++;
	s->bytes += res->bytes_read;
	/* disks per code: a code counts once per disk, however many findings
	 * (and whichever checker) reported it */
	for (i = 0; i < bsw_fx_count(fx); i++) {
		const char *c = bsw_problem_info(bsw_fx_get(fx, i)->problem)->code;
		size_t k;

		for (k = 0; k < i; k++)
			if (!strcmp(bsw_problem_info(bsw_fx_get(fx, k)->problem)->code, c))
				break;
		if (k < i)
			continue; /* this disk already counted for c */
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
			memmove(&s->slow[j + 1], &s->slow[j], (4 - j) * sizeof(s->slow[0]));
			s->slow[j].img = strdup(img);
			s->slow[j].ms = res->ms_total;
			break;
		}
	}
}

/*
 * Progress on stderr, from a thread of its own: twice a second, from the
 * bytes the disk layer has read (so a long disk moves the line too), with
 * the rate and an ETA; one line that fits the terminal, redrawn in place
 * (a line per update when stderr is not a terminal and --progress asked).
 */
struct progress {
	pthread_t th;
	pthread_mutex_t lock; /* guards st (with the omp critical section) */
	pthread_cond_t cond;
	bool stop, started, tty;
	const struct stats *st;
	size_t total;
	uint64_t t0, bytes0;
};

static void hms(char *b, size_t n, double s)
{
	unsigned long t = s > 0 && s < 1e9 ? (unsigned long)(s + 0.5) : 0;

	snprintf(b, n, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
}

static void progress_draw(struct progress *p)
{
	struct winsize ws;
	uint64_t done, nr[BSW_V_UNASSESS + 1], bytes = bsw_disk_bytes_total() - p->bytes0;
	double el = (double)(bsw_now_ms() - p->t0) / 1000.0, rate, eta;
	char line[512], e[32];
	int cols = 80, n;

	pthread_mutex_lock(&p->lock);
	done = p->st->done;
	memcpy(nr, p->st->nr, sizeof(nr));
	pthread_mutex_unlock(&p->lock);
	if (p->tty && !ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) && ws.ws_col >= 20)
		cols = ws.ws_col;
	rate = el > 0 ? (double)bytes / el : 0;
	eta = done && done < p->total ? el / (double)done * (double)(p->total - done) : 0;
	if (done && done < p->total)
		hms(e, sizeof(e), eta);
	else
		snprintf(e, sizeof(e), done ? "0:00:00" : "?");
	n = snprintf(line, sizeof(line),
		     "%" PRIu64 "/%zu disks  clean %" PRIu64 "  rollback %" PRIu64
		     "  unbootable %" PRIu64 "  unassessable %" PRIu64
		     "  %.2f GB  %.0f MB/s  ETA %s",
		     done, p->total, nr[BSW_V_NONE], nr[BSW_V_ROLLBACK], nr[BSW_V_UNBOOT],
		     nr[BSW_V_UNASSESS], (double)bytes / 1e9, rate / 1e6, e);
	if (p->tty && n >= cols) /* too wide: the counts and the rate, then cut */
		n = snprintf(line, sizeof(line), "%" PRIu64 "/%zu  %.2f GB  %.0f MB/s  ETA %s",
			     done, p->total, (double)bytes / 1e9, rate / 1e6, e);
	if (p->tty && n >= cols)
		line[cols - 1] = 0;
	if (p->tty)
		fprintf(stderr, "\r%s\033[K", line);
	else
		fprintf(stderr, "%s\n", line);
}

static void *progress_main(void *arg)
{
	struct progress *p = arg;
	struct timespec ts;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->lock);
		progress_draw(p);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void progress_start(struct progress *p, const struct stats *st, size_t total, uint64_t t0,
			   bool on, bool tty)
{
	p->st = st;
	p->total = total;
	p->t0 = t0;
	p->tty = tty;
	p->bytes0 = bsw_disk_bytes_total();
	p->started = on && !pthread_create(&p->th, NULL, progress_main, p);
}

static void progress_stop(struct progress *p)
{
	if (!p->started)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->th, NULL);
	progress_draw(p);
	if (p->tty)
		fputc('\n', stderr);
}

/* most disks first, then by code: the same order on every run */
static int cmp_code(const void *a, const void *b)
{
	const struct code_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->code, y->code);
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
	/* the whole output: this run's disks and those already in it */
	if (skipped)
		fprintf(stderr, "  the whole output file:\n");
	fprintf(stderr,
		"  %-14s %8" PRIu64 "\n  %-14s %8" PRIu64 "\n  %-14s %8" PRIu64
		"\n  %-14s %8" PRIu64 "\n",
		"clean", s->nr[BSW_V_NONE] + s->prior[BSW_V_NONE], "dirty-rollback",
		s->nr[BSW_V_ROLLBACK] + s->prior[BSW_V_ROLLBACK], "unbootable",
		s->nr[BSW_V_UNBOOT] + s->prior[BSW_V_UNBOOT], "unassessable",
		s->nr[BSW_V_UNASSESS] + s->prior[BSW_V_UNASSESS]);
	if (s->errors + s->prior_errors)
		fprintf(stderr, "  %-14s %8" PRIu64 "\n", "errors", s->errors + s->prior_errors);
	qsort(s->codes, s->nr_codes, sizeof(s->codes[0]), cmp_code);
	if (s->nr_codes)
		fprintf(stderr, "  top findings (disks%s):\n", skipped ? " swept in this run" : "");
	for (j = 0; j < s->nr_codes && j < 10; j++) {
		const struct bsw_code_info *ci = bsw_code_info(s->codes[j].code);

		fprintf(stderr, "    %-16s %8" PRIu64 "\n", s->codes[j].code, s->codes[j].n);
		if (ci && j < 5) /* what to do, for the five most common */
			fprintf(stderr, "      next: %s\n", ci->next);
	}
	if (s->slow[0].img)
		fprintf(stderr, "  slowest disks:\n");
	for (j = 0; j < 5 && s->slow[j].img; j++)
		fprintf(stderr, "    %8" PRIu64 " ms  %s\n", s->slow[j].ms, s->slow[j].img);
	if (bsw_share_enabled()) {
		struct bsw_share_stats ss;

		bsw_share_stats(&ss);
		fprintf(stderr,
			"  shared across layers: %" PRIu64 " hits, %" PRIu64
			" misses (%.1f%% hit), %" PRIu64
			" layers evicted, peak %.2f GB of %.2f GB\n",
			ss.hits, ss.misses,
			ss.hits + ss.misses ? 100.0 * ss.hits / (ss.hits + ss.misses) : 0.0,
			ss.evictions, ss.peak / 1e9, ss.cap / 1e9);
		if (ss.cache_on)
			fprintf(stderr,
				"  kept across sweeps (--cache): %" PRIu64
				" results read from %" PRIu64 " files, %" PRIu64
				" written to %" PRIu64 " files; %" PRIu64 " stale, %" PRIu64
				" corrupt; %" PRIu64 " verified, %" PRIu64 " mismatched\n",
				ss.pc_loaded, ss.pc_files_loaded, ss.pc_saved, ss.pc_files_saved,
				ss.pc_stale, ss.pc_corrupt, ss.pc_verified, ss.pc_mismatched);
	}
}

/*
 * The default of --share-mem: a quarter of the memory, at most 4 GiB, so
 * that the cache, the workers' buffers and the page cache fit together.
 */
static uint64_t default_share_mem(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t q = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz / 4 : 0;

	return q && q < (4ull << 30) ? q : 4ull << 30;
}

/* --stats-json FILE: the sweep's counters (scanner/report.c renders them). */
static int write_stats(const char *path, const struct stats *s, uint64_t t0)
{
	struct bsw_report_stats rs = {
		.disks = s->done,
		.errors = s->errors,
		.bytes_read = s->bytes,
		.wall_ms = bsw_now_ms() - t0,
	};
	struct bsw_share_stats ss = { 0 };
	FILE *f = fopen(path, "w");
	int r;

	if (!f)
		return -1;
	memcpy(rs.verdicts, s->nr, sizeof(rs.verdicts));
	bsw_share_stats(&ss);
	rs.share_on = ss.cap != 0;
	rs.hits = ss.hits;
	rs.misses = ss.misses;
	rs.inserts = ss.inserts;
	rs.evictions = ss.evictions;
	rs.share_bytes = ss.bytes;
	rs.share_peak = ss.peak;
	rs.share_cap = ss.cap;
	rs.layers = ss.layers;
	rs.cache_on = ss.cache_on;
	rs.cache[0] = ss.pc_files_loaded;
	rs.cache[1] = ss.pc_loaded;
	rs.cache[2] = ss.pc_files_saved;
	rs.cache[3] = ss.pc_saved;
	rs.cache[4] = ss.pc_stale;
	rs.cache[5] = ss.pc_corrupt;
	rs.cache[6] = ss.pc_verified;
	rs.cache[7] = ss.pc_mismatched;
	rs.cache[8] = ss.pc_errors;
	bsw_report_stats_json(f, &rs);
	fputc('\n', f);
	r = ferror(f);
	if (fclose(f) || r)
		return -1;
	return 0;
}

/*
 * A size: a plain number is in unit (bytes or MiB, as the option says); a
 * K, M, G or T suffix (optionally followed by "iB" or "B") is binary.
 * Rejects an empty number, a sign, trailing junk, zero when !zero_ok, and
 * anything that overflows 64 bits.
 */
static int parse_size(const char *s, uint64_t unit, bool zero_ok, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *e;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno)
		return -ERANGE;
	switch (toupper((unsigned char)*e)) {
	case 0: break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return -EINVAL;
	}
	if (*e) {
		e++;
		if (!strcasecmp(e, "iB") || !strcasecmp(e, "B"))
			e += strlen(e);
		if (*e)
			return -EINVAL;
		unit = 1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	v <<= shift;
	if (unit > 1 && v > UINT64_MAX / unit)
		return -ERANGE;
	v *= unit;
	if (!v && !zero_ok)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A whole number in [lo, hi]; 0 or -EINVAL. */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	unsigned long v;
	char *e;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno || *e || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bootsweep scan PATH... [-o FILE] [--resume] [--from FILE|-] [-j N]\n"
		"       [--mem-cap SIZE] [--disk-timeout S] [--max-bytes SIZE] [--max-depth N]\n"
		"       [--quiet] [--progress] [--only nonclean] [--no-store] [--no-ntfs3g]\n"
		"       [--shard I/N | --shards N] [--plan]   (a part of the store: docs/cli.md)\n"
		"       [--inventory] [--rules FILE]... [--query COND]\n"
		"       [--no-share | --share-mem SIZE] [--stats-json FILE]\n"
		"       [--cache DIR [--verify-cache[=N]]]   (results kept across sweeps)\n"
		"SIZE: a number with K, M, G or T (binary units); --mem-cap without a\n"
		"unit is in MiB, --share-mem too, --max-bytes in bytes.\n");
}

static int bad_arg(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "bootsweep scan: %s '%s': %s\n", opt, val, why);
	usage(stderr);
	return BSW_EXIT_USAGE;
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

static char *error_line(const char *img, const char *why, struct bsw_triage_result *res,
			struct bsw_fx *fx)
{
	const char *code = bsw_problem_info(PR_0_IMAGE_UNREADABLE)->code;
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
		/* a disk line (bootsweep.disk/1) without the members of an opened disk */
		bsw_report_disk_json(m, &(struct bsw_report_disk){
						.image = img,
						.verdict = res->verdict,
						.decided_by = &code,
						.nr_decided_by = 1,
						.error = why,
						.fx = fx,
						.scan_start = scan_start[0] ? scan_start : NULL,
					});
		fclose(m);
	}
	return buf;
}

/* Write one result line; a write error stops the sweep (reported once). */
static void emit(struct bsw_out *out, const char *line, int *werr)
{
	int rc;

	if (*werr)
		return;
	rc = bsw_out_line(out, line, strlen(line));
	if (rc) {
		*werr = rc;
		atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
		fprintf(stderr,
			"bootsweep: %s: write error: %s; sweep stopped, "
			"the output holds whole lines only (complete it with --resume)\n",
			bsw_out_name(out), strerror(-rc));
	}
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
		{ "max-depth", required_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "progress", no_argument, NULL, 'P' },
		{ "only", required_argument, NULL, 'O' },
		{ "no-store", no_argument, NULL, 'S' },
		{ "no-ntfs3g", no_argument, NULL, 'N' },
		{ "shard", required_argument, NULL, BSW_SHARD_OPT_SHARD },
		{ "shards", required_argument, NULL, BSW_SHARD_OPT_SHARDS },
		{ "plan", no_argument, NULL, BSW_SHARD_OPT_PLAN },
		{ "rules", required_argument, NULL, 'R' },
		{ "query", required_argument, NULL, 'Q' },
		{ "inventory", no_argument, NULL, 'I' },
		{ "no-share", no_argument, NULL, 'n' },
		{ "share-mem", required_argument, NULL, 'H' },
		{ "stats-json", required_argument, NULL, 'J' },
		{ "cache", required_argument, NULL, 'C' },
		{ "verify-cache", optional_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bsw_shard_opts shard = { 0 };
	struct bsw_triage_opts topts = { 0 };
	struct list imgs = { 0 }, done = { 0 }, todo = { 0 };
	struct walk w = { .imgs = &imgs, .max_depth = DEFAULT_MAX_DEPTH };
	const char *outp = NULL;
	bool resume = false, quiet = false, tty, given = false, only_nonclean = false;
	int show_progress = -1; /* --progress 1, --quiet 0, else decided below */
	struct progress prog = { .lock = PTHREAD_MUTEX_INITIALIZER,
				 .cond = PTHREAD_COND_INITIALIZER };
	uint64_t mem_cap = 1024ull << 20, t0, share_mem = 0;
	bool share_set = false;
	const char *stats_path = NULL, *cache_dir = NULL;
	unsigned long verify_every = 0;
	unsigned long v;
	struct stats st = { 0 };
	struct sigaction sa = { 0 }, old;
	struct bsw_out *out = NULL;
	struct bsw_rules *rules = NULL;
	char err[512];
	int c, jobs = 0, ret = BSW_EXIT_OK, i, werr = 0, rc;
	size_t k;

	/* libntfs-3g runs in a child: this program again, or (for tests of
	 * a crashing or hanging child) BSW_NTFS3G_HELPER */
	topts.ntfs3g_self = getenv("BSW_NTFS3G_HELPER");
	if (!topts.ntfs3g_self || !*topts.ntfs3g_self)
		topts.ntfs3g_self = "/proc/self/exe";
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:j:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'o': outp = optarg; break;
		case 'r': resume = true; break;
		case 'f':
			given = true;
			if (read_list(&w, optarg) < 0) {
				ret = BSW_EXIT_USAGE;
				goto out;
			}
			break;
		case 'j':
			if (parse_uint(optarg, 1, 4096, &v)) {
				ret = bad_arg("-j", optarg, "want a number of threads, 1 to 4096");
				goto out;
			}
			jobs = (int)v;
			break;
		case 'm':
			if (parse_size(optarg, 1 << 20, false, &mem_cap)) {
				ret = bad_arg("--mem-cap", optarg,
					      "want a size above 0 (MiB, or with K/M/G/T)");
				goto out;
			}
			break;
		case 't':
			if (parse_uint(optarg, 0, 86400 * 7, &v)) {
				ret = bad_arg("--disk-timeout", optarg,
					      "want seconds, 0 (none) to 604800");
				goto out;
			}
			topts.timeout_s = (unsigned)v;
			break;
		case 'b':
			if (parse_size(optarg, 1, true, &topts.max_bytes)) {
				ret = bad_arg("--max-bytes", optarg,
					      "want a size (bytes, or with K/M/G/T)");
				goto out;
			}
			break;
		case 'D':
			if (parse_uint(optarg, 0, 4096, &v)) {
				ret = bad_arg("--max-depth", optarg, "want a depth, 0 to 4096");
				goto out;
			}
			w.max_depth = (unsigned)v;
			break;
		case 'q':
			quiet = true;
			show_progress = 0;
			break;
		case 'P': show_progress = 1; break;
		case 'O':
			if (strcmp(optarg, "nonclean")) {
				ret = bad_arg("--only", optarg, "want nonclean");
				goto out;
			}
			only_nonclean = true;
			break;
		case 'S': topts.no_store = true; break;
		case 'N': topts.no_ntfs3g = true; break;
		case 'I': topts.inventory = true; break;
		case 'n': topts.no_share = true; break;
		case 'H':
			if (parse_size(optarg, 1u << 20, true, &share_mem)) {
				ret = bad_arg("--share-mem", optarg,
					      "want a size such as 4G, or 0 to share nothing");
				goto out;
			}
			share_set = true;
			break;
		case 'J': stats_path = optarg; break;
		case 'C': cache_dir = optarg; break;
		case 'V':
			/* --verify-cache: 1 in 16 kept results recomputed; =1: all */
			verify_every = 16;
			if (optarg && (parse_uint(optarg, 1, 1u << 20, &verify_every))) {
				ret = bad_arg("--verify-cache", optarg,
					      "want N, to recompute 1 in N kept results");
				goto out;
			}
			break;
		case 'R':
		case 'Q':
			/* rule files are read whole and checked before the sweep */
			rc = c == 'R' ? bsw_rules_load(&rules, optarg, err, sizeof(err)) :
					bsw_rules_add_query(&rules, optarg, err, sizeof(err));
			if (rc) {
				fprintf(stderr, "bootsweep scan: %s: %s\n",
					c == 'R' ? "--rules" : "--query",
					rc == -ENOMEM ? "out of memory" : err);
				ret = BSW_EXIT_USAGE;
				goto out;
			}
			topts.rules = rules;
			break;
		case BSW_SHARD_OPT_SHARD:
		case BSW_SHARD_OPT_SHARDS:
		case BSW_SHARD_OPT_PLAN:
			if (bsw_shard_opt(&shard, c, optarg)) {
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
	given |= optind < argc;
	for (; optind < argc; optind++)
		if (add_path(&w, argv[optind]) < 0) {
			ret = BSW_EXIT_USAGE;
			goto out;
		}
	if (!imgs.nr && !w.skip_path.nr) {
		if (!given) {
			usage(stderr);
			ret = BSW_EXIT_USAGE;
		} else {
			fprintf(stderr,
				"bootsweep: no disk image in what was given (a disk "
				"image is a file named *.vhd, *.vhdx, *.avhd, *.avhdx, *.raw, "
				"*.img or *.bin, or a path named directly)\n");
			ret = BSW_EXIT_OPERR;
		}
		goto out;
	}
	if (canonical(&imgs)) {
		ret = BSW_EXIT_OPERR;
		goto out;
	}
	if (bsw_shard_apply(&shard, imgs.v, &imgs.nr, outp, &topts, &ret))
		goto out;
	if (resume && !outp) {
		fprintf(stderr, "bootsweep: --resume needs -o FILE\n");
		ret = BSW_EXIT_USAGE;
		goto out;
	}
	rc = bsw_out_open(&out, outp, resume, imgs.v, imgs.nr, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bootsweep: %s: %s; refusing to write results there\n",
			outp ? outp : "standard output", err);
		ret = rc == -EINVAL ? BSW_EXIT_USAGE : BSW_EXIT_OPERR;
		goto out;
	}
	if (resume && resume_read(outp, &done, &ret, &st) < 0) {
		fprintf(stderr, "bootsweep: %s: cannot resume\n", outp);
		ret = BSW_EXIT_OPERR;
		goto out;
	}
	if (done.nr)
		qsort(done.v, done.nr, sizeof(*done.v), cmp_str);
	for (k = 0; k < imgs.nr; k++) {
		if (done.nr && bsearch(&imgs.v[k], done.v, done.nr, sizeof(*done.v), cmp_str))
			continue;
		if (list_add(&todo, imgs.v[k])) {
			ret = BSW_EXIT_OPERR;
			goto out;
		}
	}
	bsw_mem_set_cap(mem_cap);
	topts.mem_cap = mem_cap;
	/* sharing across layers (docs/sharing.md): a family's disks together */
	if (!share_set)
		share_mem = default_share_mem();
	if (!share_mem)
		topts.no_share = true;
	if (cache_dir && topts.no_share) {
		ret = bad_arg("--cache", cache_dir, "keeps shared results: not with --no-share");
		goto out;
	}
	if (verify_every && !cache_dir) {
		ret = bad_arg("--verify-cache", "", "checks what --cache DIR kept: give --cache");
		goto out;
	}
	if (cache_dir) {
		if ((rc = bsw_pcache_open(cache_dir, (unsigned)verify_every, err, sizeof(err)))) {
			fprintf(stderr, "bootsweep scan: --cache %s: %s\n", cache_dir, err);
			ret = BSW_EXIT_OPERR;
			goto out;
		}
		bsw_tctx_share_codecs();
	}
	{
		time_t now = time(NULL);
		struct tm tmv;

		if (gmtime_r(&now, &tmv))
			strftime(scan_start, sizeof(scan_start), "%Y-%m-%dT%H:%M:%SZ", &tmv);
		topts.scan_start = scan_start;
	}
	/* before the family probe: an interrupt there must not be lost */
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	if (!topts.no_share) {
		bsw_share_init(share_mem);
		if (bsw_family_order(todo.v, todo.nr, &stop_flag)) {
			ret = BSW_EXIT_OPERR;
			sigaction(SIGINT, &old, NULL);
			goto out;
		}
	}
	/* progress: on a terminal, unless the results go to the same one */
	tty = isatty(STDERR_FILENO);
	if (show_progress < 0)
		show_progress = tty && !quiet && (outp || !isatty(STDOUT_FILENO));
	if (jobs > 0)
		omp_set_num_threads(jobs);
	t0 = bsw_now_ms();
	progress_start(&prog, &st, todo.nr, t0, show_progress > 0, tty);

	/* what the walk could not look into: one error line each */
	for (k = 0; k < w.skip_path.nr && !werr; k++) {
		struct bsw_triage_result res;
		struct bsw_fx *fx = NULL;
		char *line;

		if (done.nr &&
		    bsearch(&w.skip_path.v[k], done.v, done.nr, sizeof(*done.v), cmp_str))
			continue;
		if (bsw_fx_create(&fx))
			fx = NULL;
		line = error_line(w.skip_path.v[k], w.skip_why.v[k], &res, fx);
		if (line) {
			emit(out, line, &werr);
			if (!werr && fx)
				stats_add(&st, w.skip_path.v[k], &res, fx);
		}
		ret |= BSW_EXIT_OPERR;
		free(line);
		bsw_fx_destroy(fx);
	}

#pragma omp parallel for schedule(dynamic, 1)
	for (i = 0; i < (int)todo.nr; i++) {
		struct bsw_triage_result res;
		struct bsw_fx *fx = NULL;
		char why[128];
		char *line = NULL;

		if (atomic_load_explicit(&stop_flag, memory_order_relaxed))
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
			if (werr) {
				/* the output failed: this result is not recorded */
			} else if (line &&
				   !(atomic_load_explicit(&stop_flag, memory_order_relaxed) &&
				     !line[0])) {
				if (!only_nonclean || res.verdict != BSW_V_NONE || res.error)
					emit(out, line, &werr);
				if (!werr) {
					if (fx) {
						pthread_mutex_lock(&prog.lock);
						stats_add(&st, todo.v[i], &res, fx);
						pthread_mutex_unlock(&prog.lock);
					}
					if (res.verdict == BSW_V_UNASSESS)
						ret |= BSW_EXIT_UNASSESS;
					else if (res.verdict == BSW_V_ROLLBACK)
						ret |= BSW_EXIT_ROLLBACK;
					else if (res.verdict == BSW_V_UNBOOT)
						ret |= BSW_EXIT_UNBOOT;
					if (res.error)
						ret |= BSW_EXIT_OPERR;
					ret |= res.rule_bits;
				}
			} else if (!line) {
				ret |= BSW_EXIT_OPERR;
			}
		}
		free(line);
		bsw_fx_destroy(fx);
	}
	progress_stop(&prog);
	if (interrupted)
		ret |= BSW_EXIT_INTR;
	sigaction(SIGINT, &old, NULL);
	rc = bsw_out_close(out);
	out = NULL;
	if (rc && !werr) {
		fprintf(stderr, "bootsweep: %s: %s\n", outp ? outp : "standard output",
			strerror(-rc));
		werr = rc;
	}
	if (werr)
		ret |= BSW_EXIT_OPERR;
	bsw_share_flush(); /* --cache: what this sweep learnt, for the next */
	if (!quiet)
		summary(&st, t0, imgs.nr - todo.nr);
	if (stats_path && write_stats(stats_path, &st, t0)) {
		fprintf(stderr, "bootsweep: %s: cannot write the statistics: %s\n", stats_path,
			strerror(errno));
		ret |= BSW_EXIT_OPERR;
	}
out:
	bsw_share_fini();
	bsw_out_close(out);
	for (k = 0; k < 5; k++)
		free(st.slow[k].img);
	list_free(&imgs);
	list_free(&w.skip_path);
	list_free(&w.skip_why);
	list_free(&done);
	list_free(&todo);
	bsw_rules_free(rules);
	return ret;
}
