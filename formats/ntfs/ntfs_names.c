/*
 * NTFS names pass: the namespace, built from the $FILE_NAME parent
 * references the records pass collected; no index B-tree is walked on the
 * hot path.  Then the lookups on it (paths, names, directory listings) and
 * which records are critical.
 *
 * Tests: $UpCase (record 10) is 131072 bytes, readable and folds ASCII
 * (NTFS-META upcase; a built-in ASCII/Latin-1 folding is used otherwise).
 *
 * Collects: extension records folded into their base records (sizes,
 * compression, sparse, reparse flags); v->names sorted by record with each
 * record's first_name/nr_names; v->upcase; v->upool (the name pool folded
 * through it); v->kids, the index of children sorted by (parent, folded
 * name) - DOS-only names, self references, and stale parent references
 * (sequence mismatch) left out.  Lookups are binary searches in v->kids.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xxhash.h>

#include "formats/common/bytes.h"
#include "formats/common/utf8.h"
#include "formats/common/vec.h"
#include "formats/ntfs/ntfs_internal.h"

static inline uint16_t up(const struct bsw_ntfs *v, uint16_t c)
{
	return v->upcase ? v->upcase[c] : bsw_ntfs_fold_builtin(c);
}

/* Compare two names already folded through $UpCase (v->upool). */
static inline int rawcmp(const uint16_t *a, size_t al, const uint16_t *b, size_t bl)
{
	size_t i = 0, n = BSW_MIN(al, bl);

	/* names in a directory share long prefixes (amd64_microsoft-windows-):
	 * skip equal units four at a time */
	for (; i + 4 <= n; i += 4) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			break;
	}
	for (; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return al < bl ? -1 : al > bl;
}

static int name_rec_cmp(const void *a, const void *b)
{
	const struct ntfs_name *x = a, *y = b;

	if (x->rec != y->rec)
		return x->rec < y->rec ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * The kids sort.  A child name sorts by (parent, folded name, record).  A
 * volume has hundreds of thousands of names and every disk of a family
 * sorts its own (the namespace is per disk), so the sort works on keys
 * that compare as integers: the parent, and the first four folded units
 * packed big-endian (zero past the end: a shorter name sorts first, as in
 * rawcmp).  Only keys equal in both go on to the whole names.  A merge
 * sort, so that no order of names, however chosen, costs more than
 * n log n.
 */
struct kid_key {
	uint64_t parent, head;
	uint32_t idx;
};

static uint64_t kid_head(const uint16_t *u, size_t len)
{
	uint64_t h = 0;
	size_t i;

	for (i = 0; i < 4; i++)
		h = h << 16 | (i < len ? u[i] : 0);
	return h;
}

static inline bool kid_less(const struct bsw_ntfs *v, const struct kid_key *a,
			    const struct kid_key *b)
{
	const struct ntfs_name *x, *y;
	int c;

	if (a->parent != b->parent)
		return a->parent < b->parent;
	if (a->head != b->head)
		return a->head < b->head;
	x = &v->names[a->idx];
	y = &v->names[b->idx];
	if (x->len >= 4 && y->len >= 4) /* equal heads: the first four are equal */
		c = rawcmp(v->upool + x->off + 4, x->len - 4u, v->upool + y->off + 4, y->len - 4u);
	else
		c = rawcmp(v->upool + x->off, x->len, v->upool + y->off, y->len);
	if (c)
		return c < 0;
	return x->rec < y->rec;
}

/* Bottom-up merge sort of k[0..n) with tmp[n]; the result is in k. */
static void kid_sort(const struct bsw_ntfs *v, struct kid_key *k, struct kid_key *tmp, size_t n)
{
	struct kid_key *src = k, *dst = tmp, *t;
	size_t w, lo;

	for (lo = 1; lo < n; lo++) { /* runs of 8 by insertion first */
		struct kid_key x = k[lo];
		size_t j = lo;

		if (lo % 8 == 0)
			continue;
		while (j % 8 && kid_less(v, &x, &k[j - 1])) {
			k[j] = k[j - 1];
			j--;
		}
		k[j] = x;
	}
	for (w = 8; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			size_t mid = BSW_MIN(lo + w, n), hi = BSW_MIN(lo + 2 * w, n);
			size_t i = lo, j = mid, o = lo;

			if (mid == hi || !kid_less(v, &src[mid], &src[mid - 1])) {
				memcpy(dst + lo, src + lo, (hi - lo) * sizeof(*src));
				continue;
			}
			while (i < mid && j < hi)
				dst[o++] = kid_less(v, &src[j], &src[i]) ? src[j++] : src[i++];
			while (i < mid)
				dst[o++] = src[i++];
			while (j < hi)
				dst[o++] = src[j++];
		}
		t = src;
		src = dst;
		dst = t;
	}
	if (src != k)
		memcpy(k, src, n * sizeof(*k));
}

/* $UpCase (record 10): 65536 UTF-16 units (1.6); else the built-in folding. */
static void load_upcase(struct bsw_ntfs *v)
{
	struct ntfs_stream fs;
	const char *why = NULL;
	uint8_t *raw;
	unsigned i;

	v->upcase = malloc(65536 * sizeof(uint16_t));
	raw = malloc(131072);
	if (!v->upcase || !raw) {
		free(v->upcase);
		free(raw);
		v->upcase = NULL;
		return;
	}
	if (bsw_ntfs_load_stream(v, 10, NTFS_AT_DATA, NULL, &fs))
		why = "no $DATA";
	else if (fs.size != 131072)
		why = "size is not 131072 bytes";
	else if (bsw_ntfs_stream_pread(v, &fs, raw, 131072, 0) != 131072)
		why = "unreadable";
	if (!why) {
		for (i = 0; i < 65536; i++)
			v->upcase[i] = get_le16(raw + 2 * i);
		if (v->upcase['a'] != 'A' || v->upcase['z'] != 'Z' || v->upcase['A'] != 'A' ||
		    v->upcase['0'] != '0')
			why = "ASCII letters do not fold";
	}
	if (fs.valid)
		bsw_ntfs_stream_free(&fs);
	free(raw);
	if (why) {
		BSW_REPORT(v->fx, PR_NTFS_1_UPCASE_BAD, .rec = 10, .str = why);
		for (i = 0; i < 65536; i++)
			v->upcase[i] = bsw_ntfs_fold_builtin((uint16_t)i);
		v->upcase_builtin = true;
	}
}

/* Whether name n makes its record a child of n->parent in the namespace. */
static bool is_kid(const struct bsw_ntfs *v, const struct ntfs_name *n)
{
	if (n->ns == 2 || n->rec == n->parent || n->parent >= v->nr_recs)
		return false;
	if (!(v->recs[n->parent].rflags & BSW_NTFS_R_INUSE))
		return false;
	/* a stale parent reference (old sequence) is not a child */
	return !n->pseq || n->pseq == v->recs[n->parent].seq;
}

/*
 * Fold the name pool through $UpCase into v->upool.  Every disk of a
 * family folds its own pool (hundreds of thousands of names, millions of
 * units), and nearly all of it is ASCII: when the table folds ASCII as
 * the built-in folding does (a to z, nothing else), blocks of eight ASCII
 * units fold at once with vector arithmetic, and only blocks with another
 * unit go through the table.
 */
#define FOLD_BLOCK 8 /* units: one 16-byte vector */

typedef uint16_t fold_vec __attribute__((vector_size(16)));

static bool folds_ascii(const struct bsw_ntfs *v)
{
	unsigned c;

	for (c = 0; v->upcase && c < 0x80; c++)
		if (v->upcase[c] != (c - 'a' < 26u ? c - 32 : c))
			return false;
	return true;
}

static void fold_pool(struct bsw_ntfs *v)
{
	size_t i = 0, n = v->pool_len, k;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (folds_ascii(v)) {
		const fold_vec hi = {
			0xff80, 0xff80, 0xff80, 0xff80, 0xff80, 0xff80, 0xff80, 0xff80
		};
		const fold_vec a = { 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a' };
		const fold_vec az = { 26, 26, 26, 26, 26, 26, 26, 26 };
		const fold_vec d = { 32, 32, 32, 32, 32, 32, 32, 32 };

		for (; i + FOLD_BLOCK <= n; i += FOLD_BLOCK) {
			fold_vec x, m, h;
			uint64_t w[2];

			memcpy(&x, v->pool + i, sizeof(x));
			h = x & hi;
			memcpy(w, &h, sizeof(w));
			if (w[0] | w[1]) { /* a unit past ASCII: the table */
				for (k = 0; k < FOLD_BLOCK; k++)
					v->upool[i + k] = up(v, v->pool[i + k]);
				continue;
			}
			m = (fold_vec)(x - a < az); /* all ones where a-z */
			x -= m & d;
			memcpy(v->upool + i, &x, sizeof(x));
		}
	}
#endif
	for (; i < n; i++)
		v->upool[i] = up(v, get_le16(v->pool + i));
}

int bsw_ntfs_pass_names(struct bsw_ntfs *v)
{
	struct kid_key *keys, *tmp;
	uint32_t *cur, most = 0;
	size_t i;
	uint64_t r;

	/* fold extension records into their bases; the name counts restart */
	for (r = 0; r < v->nr_recs; r++) {
		struct ntfs_rsum *s = &v->recs[r];

		s->nr_names = 0;
		s->nr_vis = 0;
		if (!s->base || !(s->rflags & BSW_NTFS_R_INUSE) || s->base >= v->nr_recs)
			continue;
		if (s->rflags & NTFS_RS_HASDATA) {
			v->recs[s->base].size = s->size;
			v->recs[s->base].alloc = s->alloc;
			v->recs[s->base].rflags |=
				s->rflags & (BSW_NTFS_R_COMPRESSED | BSW_NTFS_R_SPARSE);
		}
		v->recs[s->base].rflags |= s->rflags & (BSW_NTFS_R_REPARSE | BSW_NTFS_R_WOF);
		if (s->reparse_tag)
			v->recs[s->base].reparse_tag = s->reparse_tag;
	}
	/* the records pass adds names in record order: sort only if not */
	for (i = 1; i < v->nr_names; i++)
		if (name_rec_cmp(&v->names[i - 1], &v->names[i]) > 0)
			break;
	if (i < v->nr_names)
		qsort(v->names, v->nr_names, sizeof(*v->names), name_rec_cmp);
	for (i = v->nr_names; i-- > 0;) {
		struct ntfs_name *n = &v->names[i];

		if (n->rec >= v->nr_recs)
			continue;
		v->recs[n->rec].first_name = (uint32_t)i;
		v->recs[n->rec].nr_names++;
		if (n->ns != 2)
			v->recs[n->rec].nr_vis++;
	}
	load_upcase(v);
	v->upool = malloc((v->pool_len + 1) * sizeof(*v->upool));
	if (!v->upool)
		return -ENOMEM;
	fold_pool(v);
	v->kids = malloc((v->nr_names + 1) * sizeof(*v->kids));
	v->dir_first = calloc(v->nr_recs + 2, sizeof(*v->dir_first));
	cur = malloc((v->nr_recs + 1) * sizeof(*cur));
	if (!v->kids || !v->dir_first || !cur) {
		free(cur);
		return -ENOMEM;
	}
	/*
	 * Bucket the children by directory (a counting sort on the parent's
	 * record number), then sort each directory's names: most directories
	 * are small, no comparison crosses directories, and the sort keys
	 * need room for the largest directory only.
	 */
	for (i = 0; i < v->nr_names; i++)
		if (is_kid(v, &v->names[i]))
			v->dir_first[v->names[i].parent + 1]++;
	for (r = 0; r < v->nr_recs; r++) {
		most = BSW_MAX(most, v->dir_first[r + 1]);
		v->dir_first[r + 1] += v->dir_first[r];
		cur[r] = v->dir_first[r];
	}
	v->nr_kids = v->dir_first[v->nr_recs];
	for (i = 0; i < v->nr_names; i++)
		if (is_kid(v, &v->names[i]))
			v->kids[cur[v->names[i].parent]++] = (uint32_t)i;
	free(cur);
	keys = malloc((most + 1) * sizeof(*keys));
	tmp = malloc((most + 1) * sizeof(*tmp));
	if (!keys || !tmp) {
		free(keys);
		free(tmp);
		return -ENOMEM;
	}
	for (r = 0; r < v->nr_recs; r++) {
		uint32_t first = v->dir_first[r], n = v->dir_first[r + 1] - first, j;

		if (n < 2)
			continue;
		for (j = 0; j < n; j++) {
			const struct ntfs_name *nm = &v->names[v->kids[first + j]];

			keys[j] = (struct kid_key){ .parent = r,
						    .head = kid_head(v->upool + nm->off, nm->len),
						    .idx = v->kids[first + j] };
		}
		kid_sort(v, keys, tmp, n);
		for (j = 0; j < n; j++)
			v->kids[first + j] = keys[j].idx;
	}
	free(keys);
	free(tmp);
	memset(v->dcache, 0, sizeof(v->dcache));
	return 0;
}

/* First index in kids with parent >= dir. */
static size_t kids_lower(const struct bsw_ntfs *v, uint64_t dir)
{
	if (!v->dir_first)
		return 0;
	return v->dir_first[BSW_MIN(dir, v->nr_recs)];
}

/*
 * A directory with thousands of children (WinSxS, its Manifests, System32)
 * is looked up in tens of thousands of times per disk, and its names share
 * long prefixes: a hash of the folded name finds the child at once.  Built
 * on the first lookup, for at most BSW_ARRAY_SIZE(v->dindex) directories
 * of at most BSW_NTFS_MAX_INDEX children (a larger one is searched).
 * Among children with the same folded name (a damaged or forged volume)
 * the first in kids order is kept, the one the sorted search finds.
 */
#define DINDEX_MIN 64

static uint64_t name_hash(const uint16_t *u, size_t len)
{
	return XXH3_64bits(u, len * sizeof(*u));
}

static const struct ntfs_dindex *dindex_get(struct bsw_ntfs *v, uint64_t dir, size_t lo, size_t hi)
{
	struct ntfs_dindex *x;
	uint32_t size = 1;
	size_t k;
	unsigned i;

	for (i = 0; i < v->nr_dindex; i++)
		if (v->dindex[i].dir == dir)
			return &v->dindex[i];
	if (v->nr_dindex == BSW_ARRAY_SIZE(v->dindex) || hi - lo > BSW_NTFS_MAX_INDEX)
		return NULL;
	while (size < 2 * (hi - lo))
		size *= 2;
	x = &v->dindex[v->nr_dindex];
	x->slot = calloc(size, sizeof(*x->slot));
	if (!x->slot)
		return NULL;
	x->dir = dir;
	x->mask = size - 1;
	for (k = lo; k < hi; k++) {
		const struct ntfs_name *n = &v->names[v->kids[k]];
		const uint16_t *u = v->upool + n->off;
		uint32_t j = (uint32_t)name_hash(u, n->len) & x->mask;

		for (; x->slot[j]; j = (j + 1) & x->mask) {
			const struct ntfs_name *m = &v->names[v->kids[x->slot[j] - 1]];

			if (!rawcmp(v->upool + m->off, m->len, u, n->len))
				break; /* a duplicate: the first one stays */
		}
		if (!x->slot[j])
			x->slot[j] = (uint32_t)(k + 1);
	}
	v->nr_dindex++;
	return x;
}

int bsw_ntfs_find_child(struct bsw_ntfs *v, uint64_t dir, const uint16_t *uname, size_t len,
			uint64_t *rec)
{
	size_t lo = kids_lower(v, dir), end = kids_lower(v, dir + 1), hi = end, i;
	const struct ntfs_dindex *x = NULL;
	uint16_t name[255];

	if (len > BSW_ARRAY_SIZE(name))
		return -ENOENT;
	for (i = 0; i < len; i++)
		name[i] = up(v, uname[i]);

	if (hi - lo >= DINDEX_MIN)
		x = dindex_get(v, dir, lo, hi);
	if (x) {
		uint32_t j = (uint32_t)name_hash(name, len) & x->mask;

		/* at most half full: an empty slot ends every probe */
		for (; x->slot[j]; j = (j + 1) & x->mask) {
			const struct ntfs_name *n = &v->names[v->kids[x->slot[j] - 1]];

			if (!rawcmp(v->upool + n->off, n->len, name, len)) {
				*rec = n->rec;
				return 0;
			}
		}
		return -ENOENT;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ntfs_name *n = &v->names[v->kids[mid]];
		int c = rawcmp(v->upool + n->off, n->len, name, len);

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < end) {
		const struct ntfs_name *n = &v->names[v->kids[lo]];

		if (!rawcmp(v->upool + n->off, n->len, name, len)) {
			*rec = n->rec;
			return 0;
		}
	}
	return -ENOENT;
}

/* UTF-8 -> UTF-16 for path components; returns units or -EINVAL. */
static long utf8_to_16(const char *s, size_t n, uint16_t *out, size_t max)
{
	size_t i = 0, o = 0;

	while (i < n) {
		uint32_t c = (uint8_t)s[i];
		unsigned extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;

		if (i + extra >= n + (extra ? 0 : 1) && extra)
			return -EINVAL;
		if (extra) {
			c &= 0x3F >> extra;
			for (unsigned k = 1; k <= extra; k++)
				c = (c << 6) | ((uint8_t)s[i + k] & 0x3F);
		}
		i += extra + 1;
		if (c >= 0x10000) {
			if (o + 2 > max)
				return -EINVAL;
			c -= 0x10000;
			out[o++] = (uint16_t)(0xD800 + (c >> 10));
			out[o++] = (uint16_t)(0xDC00 + (c & 0x3FF));
		} else {
			if (o + 1 > max)
				return -EINVAL;
			out[o++] = (uint16_t)c;
		}
	}
	return (long)o;
}

/* Resolve path's components one by one from the directory cur. */
static int walk(struct bsw_ntfs *v, uint64_t cur, const char *path, size_t plen, uint64_t *rec)
{
	const char *end = path + plen;
	uint16_t u[256];
	unsigned depth = 0;

	while (path < end) {
		size_t n;
		long ul;

		while (path < end && (*path == '\\' || *path == '/'))
			path++;
		if (path == end)
			break;
		for (n = 0; path + n < end && path[n] != '\\' && path[n] != '/'; n++)
			;
		if (++depth > BSW_NTFS_MAX_DEPTH)
			return -ENOENT;
		ul = utf8_to_16(path, n, u, BSW_ARRAY_SIZE(u));
		if (ul <= 0 || bsw_ntfs_find_child(v, cur, u, (size_t)ul, &cur))
			return -ENOENT;
		path += n;
	}
	*rec = cur;
	return 0;
}

/* The last separator in path[0, len), or NULL. */
static const char *last_sep(const char *path, size_t len)
{
	while (len--)
		if (path[len] == '\\' || path[len] == '/')
			return path + len;
	return NULL;
}

/* The cached directory spelt path[0, len), or NULL. */
static const uint64_t *dcache_get(const struct bsw_ntfs *v, const char *path, size_t len)
{
	unsigned i;

	for (i = 0; i < BSW_ARRAY_SIZE(v->dcache); i++)
		if (v->dcache[i].valid && !strncmp(v->dcache[i].path, path, len) &&
		    !v->dcache[i].path[len])
			return &v->dcache[i].rec;
	return NULL;
}

static void dcache_put(struct bsw_ntfs *v, const char *path, size_t len, uint64_t rec)
{
	unsigned i = v->dcache_next++ % BSW_ARRAY_SIZE(v->dcache);

	memcpy(v->dcache[i].path, path, len);
	v->dcache[i].path[len] = 0;
	v->dcache[i].rec = rec;
	v->dcache[i].valid = true;
}

/*
 * The directory path[0, len): cached, or walked from its cached parent
 * (a WinSxS component's directory from \Windows\WinSxS), or from the root;
 * it and its parent are cached.
 */
static int lookup_dir(struct bsw_ntfs *v, const char *path, size_t len, uint64_t *dir)
{
	const uint64_t *hit = dcache_get(v, path, len);
	const char *ps;
	size_t plen;
	uint64_t parent;

	if (hit) {
		*dir = *hit;
		return 0;
	}
	ps = last_sep(path, len);
	plen = ps ? (size_t)(ps - path) : 0;
	if (!plen) {
		if (walk(v, NTFS_ROOT_REC, path, len, dir))
			return -ENOENT;
		dcache_put(v, path, len, *dir);
		return 0;
	}
	hit = dcache_get(v, path, plen);
	if (hit) {
		parent = *hit;
	} else {
		if (walk(v, NTFS_ROOT_REC, path, plen, &parent))
			return -ENOENT;
		dcache_put(v, path, plen, parent);
	}
	if (walk(v, parent, ps, len - plen, dir))
		return -ENOENT;
	dcache_put(v, path, len, *dir);
	return 0;
}

/*
 * A path's directory is resolved once for the many files looked up in it
 * (the WinSxS checks look up tens of thousands of files in a few hundred
 * directories): recent directories are kept by their exact spelling.
 * Another spelling of the same directory only misses the cache.
 */
int bsw_ntfs_lookup(struct bsw_ntfs *v, const char *path, uint64_t *rec)
{
	size_t plen = strlen(path);
	const char *slash = last_sep(path, plen);
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	uint64_t dir;

	if (!dlen || dlen >= sizeof(v->dcache[0].path) || !v->dir_first)
		return walk(v, NTFS_ROOT_REC, path, plen, rec);
	if (lookup_dir(v, path, dlen, &dir))
		return -ENOENT;
	return walk(v, dir, slash, plen - dlen, rec);
}

const struct ntfs_name *bsw_ntfs_main_name(const struct bsw_ntfs *v, uint64_t rec)
{
	const struct ntfs_rsum *s = &v->recs[rec];
	unsigned i;

	for (i = 0; i < s->nr_names; i++) {
		const struct ntfs_name *n = &v->names[s->first_name + i];

		if (n->ns != 2)
			return n;
	}
	return s->nr_names ? &v->names[s->first_name] : NULL;
}

int bsw_ntfs_path(struct bsw_ntfs *v, uint64_t rec, char *buf, size_t len)
{
	uint64_t chain[BSW_NTFS_MAX_DEPTH];
	unsigned d = 0, i, k;
	size_t o = 0;

	if (!len)
		return -ENAMETOOLONG;
	if (rec >= v->nr_recs || !(v->recs[rec].rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	while (rec != NTFS_ROOT_REC) {
		const struct ntfs_name *n = bsw_ntfs_main_name(v, rec);

		if (!n)
			return -ENOENT;
		/* cycle detection: the chain so far is the visited set */
		for (k = 0; k < d; k++)
			if (chain[k] == rec)
				return -ELOOP;
		if (d == BSW_NTFS_MAX_DEPTH)
			return -ELOOP;
		chain[d++] = rec;
		rec = n->parent;
		if (rec >= v->nr_recs)
			return -ENOENT;
	}
	if (!d) {
		if (len < 2)
			return -ENAMETOOLONG;
		strcpy(buf, "\\");
		return 0;
	}
	for (i = d; i-- > 0;) {
		const struct ntfs_name *n = bsw_ntfs_main_name(v, chain[i]);
		char tmp[1024];
		size_t tl = bsw_utf16le_to_utf8(v->pool + n->off, n->len, tmp, sizeof(tmp), 0);

		if (o + 1 + tl + 1 > len)
			return -ENAMETOOLONG;
		buf[o++] = '\\';
		memcpy(buf + o, tmp, tl);
		o += tl;
	}
	buf[o] = 0;
	return 0;
}

const char *bsw_ntfs_rec_label(struct bsw_ntfs *v, uint64_t rec, char *buf, size_t len)
{
	const char *meta = bsw_ntfs_sysfile_name(rec);

	if (meta) {
		snprintf(buf, len, "%s", meta);
		return buf;
	}
	if (!v->recs || bsw_ntfs_path(v, rec, buf, len))
		snprintf(buf, len, "record %llu", (unsigned long long)rec);
	return buf;
}

int bsw_ntfs_names(struct bsw_ntfs *v, uint64_t rec, bsw_ntfs_name_fn fn, void *arg)
{
	const struct ntfs_rsum *s;
	unsigned i;

	if (rec >= v->nr_recs || !(v->recs[rec].rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	s = &v->recs[rec];
	for (i = 0; i < s->nr_names; i++) {
		const struct ntfs_name *n = &v->names[s->first_name + i];
		char tmp[1024];
		int ret;

		bsw_utf16le_to_utf8(v->pool + n->off, n->len, tmp, sizeof(tmp), 0);
		ret = fn(arg, n->parent, tmp, n->ns);
		if (ret)
			return ret;
	}
	return 0;
}

int bsw_ntfs_readdir(struct bsw_ntfs *v, uint64_t dir, bsw_ntfs_child_fn fn, void *arg)
{
	size_t i, end;

	if (dir >= v->nr_recs || !(v->recs[dir].rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	end = kids_lower(v, dir + 1);
	for (i = kids_lower(v, dir); i < end; i++) {
		const struct ntfs_name *n = &v->names[v->kids[i]];
		char tmp[1024];
		int ret;

		bsw_utf16le_to_utf8(v->pool + n->off, n->len, tmp, sizeof(tmp), 0);
		ret = fn(arg, n->rec, tmp);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- the system files and the caller's critical files ---- */

static const char *const sysfiles[12] = {
	"$MFT",	   "$MFTMirr", "$LogFile", "$Volume", "$AttrDef", "\\",
	"$Bitmap", "$Boot",    "$BadClus", "$Secure", "$UpCase",  "$Extend",
};

const char *bsw_ntfs_sysfile_name(uint64_t rec)
{
	return rec < BSW_ARRAY_SIZE(sysfiles) ? sysfiles[rec] : NULL;
}

/* Does a path before entry j of the list reach the directory p[0..len)? */
static bool crit_dir_seen(const struct bsw_ntfs_opts *o, unsigned j, const char *p, size_t len)
{
	unsigned i;

	for (i = 0; i < j; i++) {
		const char *q = o->critical[i];

		if (q && !strncasecmp(q, p, len) && strlen(q) > len && q[len] == '\\')
			return true;
	}
	return false;
}

int bsw_ntfs_crit_dirs(const struct bsw_ntfs *v, int (*fn)(void *arg, const char *dir), void *arg)
{
	const struct bsw_ntfs_opts *o = &v->o;
	char dir[1024];
	unsigned j;
	size_t len;
	int ret;

	for (j = 0; j < o->nr_critical; j++) {
		const char *p = o->critical[j];

		if (!p || p[0] != '\\')
			continue; /* absolute paths only */
		/* each '\' ends the path of a directory, the first one the root's */
		for (len = 0; p[len] && len < sizeof(dir); len++) {
			if (p[len] != '\\' || crit_dir_seen(o, j, p, len))
				continue;
			if (len) {
				memcpy(dir, p, len);
				dir[len] = 0;
			} else {
				strcpy(dir, "\\");
			}
			ret = fn(arg, dir);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int crit_add(void *arg, const char *path)
{
	struct bsw_ntfs *v = arg;
	uint64_t rec;

	if (bsw_ntfs_lookup(v, path, &rec))
		return 0;
	if (bsw_vec_reserve(&v->crit, &v->alloc_crit, v->nr_crit + 1, sizeof(*v->crit), 0))
		return -ENOMEM;
	v->crit[v->nr_crit++] = rec;
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Resolve the critical files and the directories on their way once (the
 * namespace no longer changes); out of memory, those resolved so far.
 */
static void crit_build(struct bsw_ntfs *v)
{
	unsigned i;

	v->crit_ready = true;
	if (!bsw_ntfs_crit_dirs(v, crit_add, v))
		for (i = 0; i < v->o.nr_critical; i++)
			if (v->o.critical[i] && crit_add(v, v->o.critical[i]))
				break;
	if (v->nr_crit)
		qsort(v->crit, v->nr_crit, sizeof(*v->crit), u64_cmp);
}

bool bsw_ntfs_is_critical(struct bsw_ntfs *v, uint64_t rec)
{
	if (rec < 16)
		return true;
	if (!v->crit_ready)
		crit_build(v);
	return v->nr_crit && bsearch(&rec, v->crit, v->nr_crit, sizeof(*v->crit), u64_cmp);
}
