/*
 * The plan of a sweep in parts (scanner/shard.h).  Every image's container
 * headers are opened (bsw_disk_open: headers, BAT, partition table; never
 * the volume's data) to find the chain's root, which names its family, and
 * the bytes its layers hold.  Families are sorted by (estimated bytes
 * descending, canonical key) and each goes to the least-loaded part, ties
 * to the lower index: the same store and N give the same parts on every
 * machine and whatever order the directory listing came in.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/common/sha.h"
#include "formats/common/vec.h"
#include "scanner/checks/triage.h"
#include "scanner/cmds.h"
#include "scanner/disk.h"
#include "scanner/family.h"
#include "scanner/shard.h"
#include "scanner/report.h"

#define MAX_BUILD_BYTES (512u << 20) /* an executable read whole to hash it */
#define MAX_PLAN_LINE 16384	     /* a line of a BSW_PLAN file */
#define MAX_PLAN_LIST 20	     /* differences named */
#define MAX_PLAN_IMAGES 10000000u    /* images (and families) of a BSW_PLAN file */

struct img {
	char *name;  /* as given (the "image" of its output line) */
	char *esc;   /* name as a JSON string, quotes included */
	char *canon; /* realpath, or name when that fails */
	char *root;  /* canonical path of the chain's root layer */
	struct lay {
		uint64_t dev, ino, bytes;
	} * lay;
	unsigned nr_lay;
	size_t fam; /* index into the family array */
};

struct fam {
	const char *key; /* root's canonical path (owned by an img) */
	uint64_t bytes;	 /* distinct layers' bytes + per-disk cost (shard.h) */
	size_t nr_img;
	long part;
};

struct plan {
	bool own_names;	 /* img[].name malloc'd here (a loaded plan) */
	struct img *img; /* sorted by (family key, canon, name) */
	size_t nr_img;
	struct fam *fam; /* sorted by (bytes desc, key) */
	size_t nr_fam;
	long count;
	uint64_t *part_bytes;
	size_t *part_img, *part_fam;
	uint64_t bytes;
	char store_digest[65], plan_digest[65];
};

int bsw_shard_opt(struct bsw_shard_opts *so, int opt, const char *arg)
{
	const char *given = arg;
	char *e;
	long i, n;

	so->seen = true;
	switch (opt) {
	case BSW_SHARD_OPT_SHARD:
		errno = 0;
		i = strtol(arg, &e, 10);
		if (e == arg || *e != '/' || errno || i < 0)
			goto bad;
		arg = e + 1;
		n = strtol(arg, &e, 10);
		if (e == arg || *e || errno || n < 1 || n > (long)BSW_SHARD_MAX_PARTS || i >= n)
			goto bad;
		so->index = i;
		so->count = n;
		return 0;
	case BSW_SHARD_OPT_SHARDS:
		errno = 0;
		n = strtol(arg, &e, 10);
		if (e == arg || *e || errno || n < 1 || n > (long)BSW_SHARD_MAX_PARTS) {
			fprintf(stderr, "bootsweep: --shards '%s': want a part count, 1 to %u\n",
				arg, BSW_SHARD_MAX_PARTS);
			return -EINVAL;
		}
		so->shards = n;
		return 0;
	case BSW_SHARD_OPT_PLAN: so->plan = true; return 0;
	}
	return -EINVAL;
bad:
	fprintf(stderr,
		"bootsweep: --shard '%s': want I/N, 0 <= I < N <= %u "
		"(I counts from 0)\n",
		given, BSW_SHARD_MAX_PARTS);
	return -EINVAL;
}

/* A decimal environment variable; 1 if set and valid, 0 unset, -EINVAL bad. */
static int env_num(const char *name, long *out)
{
	const char *s = getenv(name);
	char *e;

	if (!s || !*s)
		return 0;
	errno = 0;
	*out = strtol(s, &e, 10);
	if (e == s || *e || errno || *out < 0) {
		fprintf(stderr, "bootsweep: %s='%s' is not a number\n", name, s);
		return -EINVAL;
	}
	return 1;
}

/*
 * Which part this process sweeps.  *index -1: none (the whole list, or
 * with --plan every part).  rule gets the sentence said on stderr.
 * Returns 0 or -EINVAL (already explained).
 */
static int resolve(const struct bsw_shard_opts *so, long *index, long *count, char *rule,
		   size_t len)
{
	long id, cnt = 0, min = 0, max = 0, step = 1, n, given;
	const char *given_from;
	int has_cnt, has_min, has_max, has_step;

	*index = -1;
	*count = 0;
	if (so->index >= 0 && so->count > 0) {
		if (so->shards && so->shards != so->count) {
			fprintf(stderr, "bootsweep: --shard %ld/%ld and --shards %ld disagree\n",
				so->index, so->count, so->shards);
			return -EINVAL;
		}
		*index = so->index;
		*count = so->count;
		snprintf(rule, len, "--shard %ld/%ld", so->index, so->count);
		return 0;
	}
	/* a part count given outright: --shards N, else BSW_SHARDS */
	given = so->shards;
	given_from = "--shards";
	if (!given) {
		if (env_num("BSW_SHARDS", &given) < 0)
			return -EINVAL;
		given_from = "BSW_SHARDS";
	}
	if (given > (long)BSW_SHARD_MAX_PARTS) {
		fprintf(stderr, "bootsweep: %s=%ld: at most %u parts\n", given_from, given,
			BSW_SHARD_MAX_PARTS);
		return -EINVAL;
	}
	if (env_num("SLURM_ARRAY_TASK_ID", &id) == 1) {
		if (given) {
			/* the task id is the part: --array=0-(N-1), or any subset
			 * of it to rerun some parts */
			if (id >= given) {
				fprintf(stderr,
					"bootsweep: SLURM_ARRAY_TASK_ID=%ld is not a part of "
					"%s %ld (parts 0 to %ld)\n",
					id, given_from, given, given - 1);
				return -EINVAL;
			}
			*index = id;
			*count = given;
			snprintf(rule, len, "SLURM_ARRAY_TASK_ID=%ld as the part, %ld parts (%s)",
				 id, given, given_from);
			return 0;
		}
		/* sbatch --array=MIN-MAX[:STEP]: the part is the task's rank */
		if ((has_cnt = env_num("SLURM_ARRAY_TASK_COUNT", &cnt)) < 0 ||
		    (has_min = env_num("SLURM_ARRAY_TASK_MIN", &min)) < 0 ||
		    (has_max = env_num("SLURM_ARRAY_TASK_MAX", &max)) < 0 ||
		    (has_step = env_num("SLURM_ARRAY_TASK_STEP", &step)) < 0)
			return -EINVAL;
		if (!has_min)
			min = 0;
		if (!has_step || step < 1)
			step = 1;
		if (id < min || (id - min) % step) {
			fprintf(stderr,
				"bootsweep: SLURM_ARRAY_TASK_ID=%ld is not MIN + k*STEP "
				"(MIN %ld, STEP %ld); use --shard I/N or --shards N\n",
				id, min, step);
			return -EINVAL;
		}
		n = has_max && max >= min ? (max - min) / step + 1 : 0;
		if (!has_cnt)
			cnt = n;
		else if (n && n != cnt) {
			/* --array=1,5,9 style lists: the rank is not derivable */
			fprintf(stderr,
				"bootsweep: SLURM_ARRAY_TASK_COUNT=%ld but MIN..MAX:STEP "
				"spans %ld tasks (an irregular --array list?); use --shards N with "
				"task ids 0..N-1, or --shard I/N\n",
				cnt, n);
			return -EINVAL;
		}
		if (cnt < 1 || cnt > (long)BSW_SHARD_MAX_PARTS || (id - min) / step >= cnt) {
			fprintf(stderr,
				"bootsweep: cannot tell the part count from the Slurm array "
				"(SLURM_ARRAY_TASK_ID=%ld, COUNT/MIN/MAX unset or out of range); "
				"use --shards N or --shard I/N\n",
				id);
			return -EINVAL;
		}
		*index = (id - min) / step;
		*count = cnt;
		snprintf(rule, len,
			 "SLURM_ARRAY_TASK_ID=%ld as rank %ld of the array "
			 "(SLURM_ARRAY_TASK_MIN=%ld, STEP %ld, %ld tasks from SLURM_ARRAY_TASK_%s)",
			 id, *index, min, step, cnt, has_cnt ? "COUNT" : "MIN/MAX");
		return 0;
	}
	if (env_num("JOB_COMPLETION_INDEX", &id) == 1) {
		if (!given || id >= given) {
			fprintf(stderr,
				"bootsweep: JOB_COMPLETION_INDEX=%ld needs a part count "
				"above it: --shards N or BSW_SHARDS (the Job's completions)\n",
				id);
			return -EINVAL;
		}
		*index = id;
		*count = given;
		snprintf(rule, len, "JOB_COMPLETION_INDEX=%ld, %ld parts (%s)", id, given,
			 given_from);
		return 0;
	}
	if (given) {
		*count = given;
		snprintf(rule, len, "%s %ld", given_from, given);
	}
	return 0;
}

static char *json_token(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	bsw_json_str(m, s);
	if (fclose(m)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Bytes a layer holds: its file's size, capped.  A VHD/VHDX file's size is
 * its allocated blocks and metadata.  A raw file's st_blocks would say
 * more about a sparse raw, but it differs between copies of one file and
 * between filesystems (a `cp --sparse=always` copy of a test disk: 28,672
 * bytes less), and the plan must not; raw disks are large enough that the
 * cap decides anyway.
 */
static uint64_t layer_bytes(uint64_t file_size)
{
	return file_size < BSW_SHARD_LAYER_CAP ? file_size : BSW_SHARD_LAYER_CAP;
}

/*
 * Open one image's chain (headers only) and fill root and layers.  An
 * image that is not a regular file or block device is not opened (a FIFO
 * would block); one that does not open is a family of its own.
 * Returns 0 or -ENOMEM.
 */
static int probe(struct img *im)
{
	struct bsw_family_probe p;
	unsigned i, n;

	im->canon = bsw_family_canon(im->name);
	im->esc = json_token(im->name);
	if (!im->canon || !im->esc)
		return -ENOMEM;
	if (bsw_family_probe_open(&p, im->name, 0)) {
		im->root = strdup(im->canon);
		im->lay = calloc(1, sizeof(*im->lay));
		if (!im->root || !im->lay)
			return -ENOMEM;
		im->nr_lay = 1;
		if (p.st_ok && S_ISREG(p.st.st_mode)) {
			im->lay[0].dev = p.st.st_dev;
			im->lay[0].ino = p.st.st_ino;
			im->lay[0].bytes = layer_bytes((uint64_t)p.st.st_size);
		}
		return 0;
	}
	n = bsw_disk_nr_layers(p.d);
	im->lay = calloc(n ? n : 1, sizeof(*im->lay));
	if (!im->lay) {
		bsw_family_probe_close(&p);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct bsw_layer_info *li = bsw_disk_layer(p.d, i);

		im->lay[i].dev = li->dev;
		im->lay[i].ino = li->ino;
		im->lay[i].bytes = layer_bytes(li->file_size);
		if (i + 1 == n)
			im->root = bsw_family_canon(li->path ? li->path : im->name);
	}
	im->nr_lay = n;
	if (!im->root)
		im->root = strdup(im->canon);
	bsw_family_probe_close(&p);
	return im->root ? 0 : -ENOMEM;
}

static int cmp_img(const void *a, const void *b)
{
	const struct img *x = a, *y = b;
	int c = strcmp(x->root, y->root);

	if (!c)
		c = strcmp(x->canon, y->canon);
	return c ? c : strcmp(x->name, y->name);
}

static int cmp_fam(const void *a, const void *b)
{
	const struct fam *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int cmp_lay(const void *a, const void *b)
{
	const struct lay *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

static int cmp_by_esc(const void *a, const void *b)
{
	const struct img *x = *(const struct img *const *)a;
	const struct img *y = *(const struct img *const *)b;

	return strcmp(x->esc, y->esc);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* sha256 of the lines in v (sorted by the caller) into out (65 bytes). */
static int digest_lines(char **v, const long *tag, size_t n, char *out)
{
	char *buf = NULL;
	size_t len = 0, i;
	uint8_t md[32];
	FILE *m = open_memstream(&buf, &len);
	int r;

	if (!m)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (tag)
			fprintf(m, "%s\t%ld\n", v[i], tag[i]);
		else
			fprintf(m, "%s\n", v[i]);
	}
	if (fclose(m))
		return -ENOMEM;
	r = bsw_sha_buf(BSW_SHA256, buf, len, md);
	free(buf);
	if (r != 32)
		return -EINVAL;
	hex(md, 32, out);
	return 0;
}

/* Part a is lighter than part b: fewer bytes, or as many and a lower index. */
static bool lighter(long a, long b, const uint64_t *bytes)
{
	return bytes[a] < bytes[b] || (bytes[a] == bytes[b] && a < b);
}

/* Restore the heap of parts after the root's bytes grew. */
static void sift_down(long *h, size_t n, const uint64_t *bytes)
{
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m = i;
		long t;

		if (l < n && lighter(h[l], h[m], bytes))
			m = l;
		if (l + 1 < n && lighter(h[l + 1], h[m], bytes))
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* The store digest (image names) and the plan digest (name and part). */
static int plan_digests(struct plan *p)
{
	size_t i, nr = p->nr_img;
	char **esc = NULL;
	long *tag = NULL;
	int r;

	esc = malloc((nr ? nr : 1) * sizeof(*esc));
	tag = malloc((nr ? nr : 1) * sizeof(*tag));
	if (!esc || !tag) {
		r = -ENOMEM;
		goto out;
	}
	{
		struct img **by = malloc((nr ? nr : 1) * sizeof(*by));

		if (!by) {
			r = -ENOMEM;
			goto out;
		}
		for (i = 0; i < nr; i++)
			by[i] = &p->img[i];
		qsort(by, nr, sizeof(*by), cmp_by_esc);
		for (i = 0; i < nr; i++) {
			esc[i] = by[i]->esc;
			tag[i] = p->fam[by[i]->fam].part;
		}
		free(by);
	}
	r = digest_lines(esc, NULL, nr, p->store_digest);
	if (!r)
		r = digest_lines(esc, tag, nr, p->plan_digest);
out:
	free(esc);
	free(tag);
	return r;
}

static void plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->nr_img; i++) {
		if (p->own_names)
			free(p->img[i].name);
		free(p->img[i].esc);
		free(p->img[i].canon);
		free(p->img[i].root);
		free(p->img[i].lay);
	}
	free(p->img);
	free(p->fam);
	free(p->part_bytes);
	free(p->part_img);
	free(p->part_fam);
}

/* Group, estimate and assign; names point into v.  0 or -errno. */
static int plan_build(struct plan *p, char **v, size_t nr, long count)
{
	struct lay *all = NULL;
	size_t i, j, k, nl = 0;
	long *heap;
	int r = 0, nt;

	p->count = count;
	p->img = calloc(nr ? nr : 1, sizeof(*p->img));
	p->part_bytes = calloc(count, sizeof(*p->part_bytes));
	p->part_img = calloc(count, sizeof(*p->part_img));
	p->part_fam = calloc(count, sizeof(*p->part_fam));
	if (!p->img || !p->part_bytes || !p->part_img || !p->part_fam)
		return -ENOMEM;
	p->nr_img = nr;
	for (i = 0; i < nr; i++)
		p->img[i].name = v[i];

	/*
	 * Headers only; a disk belongs to the thread that opened it.  About
	 * 24 small reads an image, one after the other: waiting, not CPU, so
	 * at least 8 threads (101 cold VHDX children here: 1.1-1.2 s with 2,
	 * 0.7-0.9 s with 16).
	 */
	nt = omp_get_max_threads();
	if (nt < 8)
		nt = 8;
#pragma omp parallel for schedule(dynamic, 4) reduction(min : r) num_threads(nt)
	for (i = 0; i < nr; i++) {
		int e = probe(&p->img[i]);

		if (e < r)
			r = e;
	}
	if (r)
		return r;
	qsort(p->img, nr, sizeof(*p->img), cmp_img);
	/* a path given twice is one image (its output line would repeat) */
	for (i = 0, k = 0; i < nr; i++) {
		if (k && !strcmp(p->img[i].name, p->img[k - 1].name)) {
			free(p->img[i].esc);
			free(p->img[i].canon);
			free(p->img[i].root);
			free(p->img[i].lay);
			continue;
		}
		p->img[k++] = p->img[i];
	}
	p->nr_img = nr = k;

	/* families: runs of one root */
	p->fam = calloc(nr ? nr : 1, sizeof(*p->fam));
	if (!p->fam)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		if (!i || strcmp(p->img[i].root, p->img[i - 1].root)) {
			p->fam[p->nr_fam].key = p->img[i].root;
			p->nr_fam++;
		}
		p->img[i].fam = p->nr_fam - 1;
		p->fam[p->nr_fam - 1].nr_img++;
		p->fam[p->nr_fam - 1].bytes += BSW_SHARD_DISK_COST;
		nl += p->img[i].nr_lay;
	}

	/* each distinct layer file once per family: a base shared by 1,000
	 * children is read from the store once by the node that has them */
	all = malloc((nl ? nl : 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0, k = 0; i < p->nr_fam; i++) {
		size_t n = 0;

		for (; k < nr && p->img[k].fam == i; k++)
			for (j = 0; j < p->img[k].nr_lay; j++)
				all[n++] = p->img[k].lay[j];
		qsort(all, n, sizeof(*all), cmp_lay);
		for (j = 0; j < n; j++)
			if (!j || cmp_lay(&all[j], &all[j - 1]) || (!all[j].dev && !all[j].ino))
				p->fam[i].bytes += all[j].bytes;
	}
	free(all);

	/* the family index in img[] refers to the order before sorting fam[] */
	for (i = 0; i < p->nr_fam; i++)
		p->fam[i].part = (long)i; /* temporarily: the pre-sort index */
	qsort(p->fam, p->nr_fam, sizeof(*p->fam), cmp_fam);
	{
		size_t *where = malloc((p->nr_fam ? p->nr_fam : 1) * sizeof(*where));

		if (!where)
			return -ENOMEM;
		for (i = 0; i < p->nr_fam; i++)
			where[p->fam[i].part] = i;
		for (i = 0; i < nr; i++)
			p->img[i].fam = where[p->img[i].fam];
		free(where);
	}
	/*
	 * Greedy: the biggest family first, to the least-loaded part, ties
	 * to the lower index.  A binary heap of parts keyed by (bytes, index)
	 * keeps it O(F log N) for N up to BSW_SHARD_MAX_PARTS.
	 */
	heap = malloc(count * sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	for (i = 0; i < (size_t)count; i++)
		heap[i] = (long)i; /* all at 0 bytes: index order is a heap */
	for (i = 0; i < p->nr_fam; i++) {
		long best = heap[0];

		p->fam[i].part = best;
		p->part_bytes[best] += p->fam[i].bytes;
		p->part_img[best] += p->fam[i].nr_img;
		p->part_fam[best]++;
		p->bytes += p->fam[i].bytes;
		sift_down(heap, (size_t)count, p->part_bytes);
	}
	free(heap);

	r = plan_digests(p);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Say how the store v[0..nr) and the plan's images differ; true if they
 * are the same set.  Sorts copies of the pointers only.
 */
static bool same_images(const struct plan *p, char **v, size_t nr, const char *file)
{
	char **a = malloc((nr ? nr : 1) * sizeof(*a));
	char **b = malloc((p->nr_img ? p->nr_img : 1) * sizeof(*b));
	size_t i = 0, j = 0, said = 0;

	if (!a || !b) {
		free(a);
		free(b);
		return false;
	}
	memcpy(a, v, nr * sizeof(*a));
	for (j = 0; j < p->nr_img; j++)
		b[j] = p->img[j].name;
	qsort(a, nr, sizeof(*a), cmp_str);
	qsort(b, p->nr_img, sizeof(*b), cmp_str);
	j = 0;
	while (i < nr || j < p->nr_img) {
		int c = i == nr ? 1 : j == p->nr_img ? -1 : strcmp(a[i], b[j]);

		if (!c) {
			/* a path given twice is one image, as in a plan made here */
			while (i + 1 < nr && !strcmp(a[i + 1], a[i]))
				i++;
			i++;
			j++;
			continue;
		}
		if (said++ < MAX_PLAN_LIST)
			fprintf(stderr, "bootsweep: %s: %s %s\n", file,
				c < 0 ? "not in the plan:" : "in the plan, not in the store:",
				c < 0 ? a[i] : b[j]);
		if (c < 0)
			i++;
		else
			j++;
	}
	free(a);
	free(b);
	if (said)
		fprintf(stderr,
			"bootsweep: %s: %zu differences: the store changed since the "
			"plan was made (or other PATHs were given); make a new plan\n",
			file, said);
	return !said;
}

/*
 * A plan printed by `scan --plan --shards N` (every part), read back
 * instead of opening every image's headers: BSW_PLAN=FILE.  Images are
 * kept with the part and family the file gives them (an operator may have
 * moved a family by hand: the digests are computed from the file).
 * Returns 0, -EINVAL after saying why, or -errno.
 */
static int plan_load(struct plan *p, const char *file, char **v, size_t nr, long count)
{
	char line[MAX_PLAN_LINE];
	size_t cap_img = 0, cap_fam = 0, lineno = 0;
	long part = -1, n, q;
	bool header = false;
	FILE *f = fopen(file, "r");
	int r = 0;

	if (!f)
		return -errno;
	p->own_names = true;
	p->count = count;
	p->part_bytes = calloc(count, sizeof(*p->part_bytes));
	p->part_img = calloc(count, sizeof(*p->part_img));
	p->part_fam = calloc(count, sizeof(*p->part_fam));
	if (!p->part_bytes || !p->part_img || !p->part_fam) {
		r = -ENOMEM;
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		const char *e;
		uint64_t fb;
		double g;

		lineno++;
		if (!len || line[len - 1] != '\n') {
			fprintf(stderr, "bootsweep: %s:%zu: line too long or torn\n", file, lineno);
			r = -EINVAL;
			goto out;
		}
		line[--len] = 0;
		if (!strncmp(line, "# bootsweep plan: ", 18)) {
			e = strstr(line, " parts; ");
			while (e && e > line && e[-1] >= '0' && e[-1] <= '9')
				e--;
			if (header || !e || sscanf(e, "%ld parts;", &n) != 1 || n != count) {
				fprintf(stderr, "bootsweep: %s: a plan for %ld parts wanted\n",
					file, count);
				r = -EINVAL;
				goto out;
			}
			header = true;
		} else if (!strncmp(line, "# part ", 7)) {
			if (sscanf(line + 7, "%ld/%ld", &q, &n) != 2 || n != count ||
			    q != part + 1) {
				fprintf(stderr, "bootsweep: %s:%zu: part %ld/%ld wanted\n", file,
					lineno, part + 1, count);
				r = -EINVAL;
				goto out;
			}
			part = q;
		} else if (!strncmp(line, "# family ", 9)) {
			/* "# family KEY: N images, X GB": the key may hold ": " */
			char *c = strstr(line + 9, ": "), *last = NULL;
			struct fam *fm;

			for (; c; c = strstr(c + 2, ": "))
				last = c;
			if (part < 0 || !last ||
			    sscanf(last + 2, "%ld images, %lf GB, %" SCNu64 " bytes", &n, &g,
				   &fb) != 3) {
				fprintf(stderr, "bootsweep: %s:%zu: not a family line\n", file,
					lineno);
				r = -EINVAL;
				goto out;
			}
			r = bsw_vec_reserve(&p->fam, &cap_fam, p->nr_fam + 1, sizeof(*p->fam),
					    MAX_PLAN_IMAGES);
			if (r) {
				if (r == -E2BIG) {
					fprintf(stderr,
						"bootsweep: %s:%zu: more than %u families\n", file,
						lineno, MAX_PLAN_IMAGES);
					r = -EINVAL;
				}
				goto out;
			}
			*last = 0;
			fm = &p->fam[p->nr_fam++];
			memset(fm, 0, sizeof(*fm));
			fm->key = strdup(line + 9); /* freed through img root */
			fm->bytes = fb;
			fm->part = part;
			if (!fm->key) {
				r = -ENOMEM;
				goto out;
			}
			p->part_fam[part]++;
			p->part_bytes[part] += fm->bytes;
			p->bytes += fm->bytes;
		} else if (line[0] == '#' || !line[0]) {
			continue;
		} else {
			struct img *im;

			if (!p->nr_fam || p->nr_img >= MAX_PLAN_IMAGES) {
				fprintf(stderr, "bootsweep: %s:%zu: an image outside a family\n",
					file, lineno);
				r = -EINVAL;
				goto out;
			}
			r = bsw_vec_reserve(&p->img, &cap_img, p->nr_img + 1, sizeof(*p->img),
					    MAX_PLAN_IMAGES);
			if (r)
				goto out;
			im = &p->img[p->nr_img];
			memset(im, 0, sizeof(*im));
			im->fam = p->nr_fam - 1;
			im->name = strdup(line);
			im->esc = json_token(line);
			p->nr_img++;
			if (!im->name || !im->esc) {
				r = -ENOMEM;
				goto out;
			}
			if (!p->fam[im->fam].nr_img++) {
				/* the family's key is owned by its first image */
				im->root = (char *)p->fam[im->fam].key;
			}
			p->part_img[part]++;
		}
	}
	if (ferror(f)) {
		r = -EIO;
		goto out;
	}
	if (!header || part != count - 1) {
		fprintf(stderr,
			"bootsweep: %s: not a whole plan of %ld parts (scan --plan "
			"--shards %ld, every part)\n",
			file, count, count);
		r = -EINVAL;
		goto out;
	}
	if (!same_images(p, v, nr, file)) {
		r = -EINVAL;
		goto out;
	}
	{
		/* a name twice in the file would be swept twice */
		char **b = malloc((p->nr_img ? p->nr_img : 1) * sizeof(*b));
		size_t i;

		if (!b) {
			r = -ENOMEM;
			goto out;
		}
		for (i = 0; i < p->nr_img; i++)
			b[i] = p->img[i].name;
		qsort(b, p->nr_img, sizeof(*b), cmp_str);
		for (i = 1; i < p->nr_img && !r; i++)
			if (!strcmp(b[i], b[i - 1])) {
				fprintf(stderr, "bootsweep: %s: %s twice\n", file, b[i]);
				r = -EINVAL;
			}
		free(b);
		if (r)
			goto out;
	}
	r = plan_digests(p);
out:
	/* a family key not yet owned by an image (a family with no images) */
	if (p->fam) {
		size_t i;

		for (i = 0; i < p->nr_fam; i++)
			if (!p->fam[i].nr_img)
				free((char *)p->fam[i].key);
	}
	fclose(f);
	return r;
}

int bsw_shard_build_id(char *buf, size_t len)
{
	uint8_t md[32];
	char h[65];
	struct stat st;
	uint8_t *data;
	size_t got = 0;
	ssize_t n;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size <= 0 || st.st_size > MAX_BUILD_BYTES) {
		close(fd);
		return -EFBIG;
	}
	data = malloc(st.st_size);
	if (!data) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size && (n = read(fd, data + got, st.st_size - got)) > 0)
		got += n;
	close(fd);
	r = bsw_sha_buf(BSW_SHA256, data, got, md);
	free(data);
	if (r != 32)
		return -EINVAL;
	hex(md, 32, h);
	snprintf(buf, len, "sha256:%s", h);
	return 0;
}

static double gb(uint64_t b)
{
	return b / 1e9;
}

/* One part as a list `scan --from` reads back ('#' lines are comments). */
static void print_part(const struct plan *p, long q, const char *rule)
{
	size_t i, f = (size_t)-1;

	printf("# part %ld/%ld (%s): %zu families, %zu images, %.3f GB estimated\n", q, p->count,
	       rule, p->part_fam[q], p->part_img[q], gb(p->part_bytes[q]));
	for (i = 0; i < p->nr_img; i++) {
		const struct img *im = &p->img[i];

		if (p->fam[im->fam].part != q)
			continue;
		if (im->fam != f) {
			f = im->fam;
			printf("# family %s: %zu images, %.3f GB, %" PRIu64 " bytes\n",
			       p->fam[f].key, p->fam[f].nr_img, gb(p->fam[f].bytes),
			       p->fam[f].bytes);
		}
		printf("%s\n", im->name);
	}
}

/* A string or object field of a sidecar's first line, copied into buf. */
static bool hdr_field(const char *line, const char *key, char *buf, size_t len)
{
	char k[64];
	const char *v, *e;

	snprintf(k, sizeof(k), "\"%s\":", key);
	v = strstr(line, k);
	if (!v)
		return false;
	v += strlen(k);
	e = strchr(v + 1, *v == '{' ? '}' : '"');
	if (!e || (size_t)(e - v + 1) >= len)
		return false;
	memcpy(buf, v, e - v + 1);
	buf[e - v + 1] = 0;
	return true;
}

/*
 * A sidecar already at path from another sweep (another build, options or
 * plan): said, because with --resume the lines already in the output
 * would come from that sweep.  merge refuses lines for images in no plan,
 * but cannot tell a line's options.
 */
static void check_old_sidecar(const char *path, const char *id, const char *opts,
			      const char *plan_digest)
{
	char line[4096], a[128], b[256], c[80];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && hdr_field(line, "bootsweep", a, sizeof(a)) &&
	    hdr_field(line, "options", b, sizeof(b)) &&
	    hdr_field(line, "plan_digest", c, sizeof(c))) {
		char why[80] = "";

		if (strncmp(a + 1, id, strlen(id)))
			strcat(why, ", another bootsweep");
		if (strcmp(b, opts))
			strcat(why, ", other options");
		if (strncmp(c + 1, plan_digest, 64))
			strcat(why, ", another plan");
		if (why[0])
			fprintf(stderr,
				"bootsweep: warning: %s is from another sweep (%s); "
				"its output is replaced, or with --resume mixed with this one: "
				"use a new output folder for each sweep\n",
				path, why + 2);
	}
	fclose(f);
}

/*
 * outp.part.json, written whole to a temporary file and renamed: a part's
 * identity for merge (docs/cli.md "Parts").  The images are the JSON
 * strings exactly as the output lines carry them, one a line.
 */
static int write_sidecar(const struct plan *p, long q, const char *rule, const char *outp,
			 const struct bsw_triage_opts *t)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16], id[80], opts[160];
	size_t i, n = 0;
	FILE *f;
	int r;

	if (snprintf(path, sizeof(path), "%s%s", outp, BSW_SHARD_SUFFIX) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	r = bsw_shard_build_id(id, sizeof(id));
	if (r)
		return r;
	snprintf(opts, sizeof(opts),
		 "{\"no_store\":%s,\"no_ntfs3g\":%s,\"disk_timeout_s\":%u,"
		 "\"max_bytes\":%" PRIu64 "}",
		 t->no_store ? "true" : "false", t->no_ntfs3g ? "true" : "false", t->timeout_s,
		 t->max_bytes);
	check_old_sidecar(path, id, opts, p->plan_digest);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"{\"schema\":\"%s\",\"bootsweep\":\"%s\",\"options\":%s,"
		"\"index\":%ld,\"count\":%ld,\"rule\":",
		BSW_SHARD_SCHEMA, id, opts, q, p->count);
	bsw_json_str(f, rule);
	fputs(",\"output\":", f);
	bsw_json_str(f, outp);
	fprintf(f,
		",\"store_images\":%zu,\"store_families\":%zu,\"store_bytes\":%" PRIu64
		",\"store_digest\":\"%s\",\"plan_digest\":\"%s\",\"part_images\":%zu,"
		"\"part_families\":%zu,\"part_bytes\":%" PRIu64 ",\n\"images\":[",
		p->nr_img, p->nr_fam, p->bytes, p->store_digest, p->plan_digest, p->part_img[q],
		p->part_fam[q], p->part_bytes[q]);
	for (i = 0; i < p->nr_img; i++) {
		if (p->fam[p->img[i].fam].part != q)
			continue;
		fprintf(f, "\n%s%s", n++ ? "," : "", p->img[i].esc);
	}
	fputs("\n]}\n", f);
	if (fflush(f) || fsync(fileno(f)))
		r = -errno;
	if (fclose(f) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

bool bsw_shard_apply(const struct bsw_shard_opts *so, char **v, size_t *nr, const char *outp,
		     const struct bsw_triage_opts *topts, int *status)
{
	struct plan p = { 0 };
	char rule[512] = "", **keep = NULL;
	const char *plan_file;
	long index, count, q;
	size_t i, n = 0;
	int r;

	if (resolve(so, &index, &count, rule, sizeof(rule))) {
		*status = BSW_EXIT_USAGE;
		return true;
	}
	if (index < 0 && !so->plan) {
		if (!so->seen)
			return false; /* no part: the whole list */
		fprintf(stderr, "bootsweep: --shards N needs an index: --shard I/N, "
				"SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX\n");
		*status = BSW_EXIT_USAGE;
		return true;
	}
	if (index < 0 && !count) {
		fprintf(stderr,
			"bootsweep: --plan needs a part count: --shard I/N or --shards N\n");
		*status = BSW_EXIT_USAGE;
		return true;
	}
	if (!so->plan && (!outp || !strcmp(outp, "-"))) {
		fprintf(stderr,
			"bootsweep: part %ld/%ld (%s) needs -o FILE: its sidecar "
			"FILE%s goes beside it for merge (--shard 0/1 sweeps everything "
			"as one part)\n",
			index, count, rule, BSW_SHARD_SUFFIX);
		*status = BSW_EXIT_USAGE;
		return true;
	}
	plan_file = getenv("BSW_PLAN");
	if (plan_file && *plan_file) {
		r = plan_load(&p, plan_file, v, *nr, count);
		if (r) {
			if (r != -EINVAL)
				fprintf(stderr, "bootsweep: BSW_PLAN=%s: %s\n", plan_file,
					strerror(-r));
			*status = BSW_EXIT_OPERR;
			goto stop;
		}
		if (strlen(rule) + strlen(plan_file) + 24 < sizeof(rule))
			strcat(strcat(rule, "; plan from BSW_PLAN="), plan_file);
	} else {
		r = plan_build(&p, v, *nr, count);
		if (r) {
			fprintf(stderr, "bootsweep: planning the parts: %s\n", strerror(-r));
			*status = BSW_EXIT_OPERR;
			goto stop;
		}
	}
	if (so->plan) {
		printf("# bootsweep plan: %zu images, %zu families, %.3f GB estimated, "
		       "%ld parts; store %s, plan %s\n",
		       p.nr_img, p.nr_fam, gb(p.bytes), count, p.store_digest, p.plan_digest);
		for (q = 0; q < count; q++)
			if (index < 0 || q == index)
				print_part(&p, q, rule);
		if (index >= 0)
			fprintf(stderr, "bootsweep: part %ld/%ld from %s\n", index, count, rule);
		*status = fflush(stdout) ? BSW_EXIT_OPERR : BSW_EXIT_OK;
		goto stop;
	}
	fprintf(stderr,
		"bootsweep: part %ld/%ld from %s: %zu of %zu families, "
		"%zu of %zu images, %.3f of %.3f GB estimated\n",
		index, count, rule, p.part_fam[index], p.nr_fam, p.part_img[index], p.nr_img,
		gb(p.part_bytes[index]), gb(p.bytes));
	r = write_sidecar(&p, index, rule, outp, topts);
	if (r) {
		fprintf(stderr, "bootsweep: %s%s: %s\n", outp, BSW_SHARD_SUFFIX, strerror(-r));
		*status = BSW_EXIT_OPERR;
		goto stop;
	}
	/* this part's names, family by family, then the list replaced */
	keep = malloc((p.part_img[index] ? p.part_img[index] : 1) * sizeof(*keep));
	if (!keep)
		goto nomem;
	for (i = 0; i < p.nr_img; i++) {
		if (p.fam[p.img[i].fam].part != index)
			continue;
		keep[n] = strdup(p.img[i].name);
		if (!keep[n++])
			goto nomem;
	}
	plan_free(&p);
	for (i = 0; i < *nr; i++)
		free(v[i]);
	memcpy(v, keep, n * sizeof(*keep));
	*nr = n;
	free(keep);
	return false;
nomem:
	fprintf(stderr, "bootsweep: planning the parts: %s\n", strerror(ENOMEM));
	*status = BSW_EXIT_OPERR;
	while (keep && n)
		free(keep[--n]);
	free(keep);
stop:
	plan_free(&p);
	return true;
}
