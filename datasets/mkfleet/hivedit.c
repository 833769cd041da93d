/*
 * A registry hive edited in memory the way Windows' own hive writer leaves
 * it, for the children of a churned fleet (churn.c):
 *
 *  - a cell comes from the first free cell large enough (split when the
 *    rest is a cell of its own), else from a new hive bin appended at the
 *    end; a replaced cell is freed in place (its size made positive);
 *  - a value keeps its data cell when the new data fits, a list grows by
 *    reallocation; subkey lists stay sorted with correct hints and hashes;
 *    a new key shares its parent's security cell (reference count + 1);
 *  - every 4 KiB page of the hive bins data that a change touches is
 *    recorded, and a flush turns the pages touched since the previous one
 *    into one new-format log entry (HvLE, Marvin32 hashes, sequence numbers
 *    counting up from the primary's secondary one);
 *  - the session ends reconciled (the primary holds everything, its
 *    sequence numbers equal) or unreconciled (the primary is as the
 *    session found it, its base block invalidated, and only the logs hold
 *    the session's changes, as after a crash or a live snapshot).
 *
 * Layout and rules: M. Suhanov, "Windows registry file format
 * specification" (base block, hive bin, cells, lists, key node, key value,
 * key security; new-format log entries; dirty state of a hive; multiple
 * transaction log files).  Big data values (over 16,344 bytes) are not
 * written.  A hive the editor cannot walk cleanly (a bad bin, a dirty base
 * block) is refused and left alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "mkfleet.h"

#define BASE 4096u
#define PG 4096u
#define NONE 0xFFFFFFFFu
#define MAX_VALUE 16344u /* larger needs a big data (db) cell */
#define MAX_CELL (1u << 24)

struct rh_free {
	uint32_t off, size;
};

struct rh_entry {
	uint8_t *d;
	size_t len;
	uint32_t seq, bins;
};

struct rh {
	uint8_t *b; /* base block + hive bins data */
	size_t len, cap;
	uint8_t *p0; /* the primary file as the session found it */
	size_t l0;
	uint8_t *dirty; /* per 4 KiB page of the bins data */
	size_t npages;
	struct rh_free *fr;
	size_t nfr, capfr;
	struct rh_entry *ent;
	unsigned nent, capent;
	uint32_t seq0;
	uint64_t stamp;
};

static uint32_t bins(const struct rh *r)
{
	return (uint32_t)(r->len - BASE);
}

/* A cell (its size field first) by offset from the start of the bins. */
static uint8_t *C(struct rh *r, uint32_t off)
{
	return r->b + BASE + off;
}

static void touch(struct rh *r, uint32_t off, size_t n)
{
	size_t p, last;

	if (!n)
		return;
	last = (off + n - 1) / PG;
	for (p = off / PG; p <= last && p < r->npages; p++)
		r->dirty[p] = 1;
}

/* An allocated cell of at least min data bytes, or NULL. */
static uint8_t *cell(struct rh *r, uint32_t off, uint32_t min)
{
	int32_t sz;

	if (off == NONE || (uint64_t)off + 4 > bins(r) || (off & 7))
		return NULL;
	sz = (int32_t)get_le32(C(r, off));
	if (sz >= 0 || (uint32_t)-sz < 4 + min || off + (uint32_t)-sz > bins(r))
		return NULL;
	return C(r, off) + 4;
}

static uint32_t cell_cap(struct rh *r, uint32_t off)
{
	return (uint32_t) - (int32_t)get_le32(C(r, off)) - 4;
}

static int add_free(struct rh *r, uint32_t off, uint32_t size)
{
	if (r->nfr == r->capfr) {
		size_t nc = r->capfr ? r->capfr * 2 : 256;
		struct rh_free *n = realloc(r->fr, nc * sizeof(*n));

		if (!n)
			return -1;
		r->fr = n;
		r->capfr = nc;
	}
	r->fr[r->nfr].off = off;
	r->fr[r->nfr].size = size;
	r->nfr++;
	return 0;
}

/* Walk the bins: every bin sound, every cell inside it; collect free cells. */
static int scan_bins(struct rh *r)
{
	uint32_t off = 0, n = bins(r);

	while (off < n) {
		uint8_t *h = C(r, off);
		uint32_t size, p;

		if (n - off < 32 || memcmp(h, "hbin", 4) || get_le32(h + 4) != off)
			return -1;
		size = get_le32(h + 8);
		if (size < PG || (size % PG) || size > n - off)
			return -1;
		for (p = off + 32; p < off + size;) {
			int32_t sz = (int32_t)get_le32(C(r, p));
			uint32_t a = sz < 0 ? (uint32_t)-sz : (uint32_t)sz;

			if (!sz || a < 8 || (a & 7) || a > off + size - p)
				return -1;
			if (sz > 0 && add_free(r, p, a))
				return -1;
			p += a;
		}
		off += size;
	}
	return 0;
}

struct rh *rh_open(const uint8_t *d, size_t len, uint64_t stamp)
{
	struct rh *r;
	uint32_t nb;

	if (len < 2 * BASE || memcmp(d, "regf", 4) || get_le32(d + 508) != hv_checksum(d) ||
	    get_le32(d + 4) != get_le32(d + 8))
		return NULL;
	nb = get_le32(d + 40);
	if (!nb || nb % PG || (uint64_t)nb + BASE > len)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->len = BASE + nb;
	r->cap = r->len + (1u << 20);
	r->b = malloc(r->cap);
	r->p0 = malloc(len);
	r->npages = nb / PG;
	r->dirty = calloc(r->npages + 1, 1);
	if (!r->b || !r->p0 || !r->dirty)
		goto fail;
	memcpy(r->b, d, r->len);
	memcpy(r->p0, d, len);
	r->l0 = len;
	r->seq0 = get_le32(d + 8);
	r->stamp = stamp;
	if (scan_bins(r) || !cell(r, get_le32(d + 36), 76) ||
	    memcmp(cell(r, get_le32(d + 36), 76), "nk", 2))
		goto fail;
	return r;
fail:
	rh_free(r);
	return NULL;
}

void rh_free(struct rh *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->nent; i++)
		free(r->ent[i].d);
	free(r->ent);
	free(r->fr);
	free(r->dirty);
	free(r->p0);
	free(r->b);
	free(r);
}

void rh_set_stamp(struct rh *r, uint64_t stamp)
{
	r->stamp = stamp;
}

uint32_t rh_root(const struct rh *r)
{
	return get_le32(r->b + 36);
}

/* A new hive bin at the end, big enough for a cell of n bytes. */
static int grow(struct rh *r, uint32_t n)
{
	uint32_t size = (n + 32 + PG - 1) / PG * PG, at = bins(r);
	uint8_t *h;

	if (r->len + size > r->cap) {
		size_t nc = r->cap * 2;
		uint8_t *nb;

		while (nc < r->len + size)
			nc *= 2;
		nb = realloc(r->b, nc);
		if (!nb)
			return -1;
		r->b = nb;
		r->cap = nc;
	}
	{
		uint8_t *nd = realloc(r->dirty, (at + size) / PG + 1);

		if (!nd)
			return -1;
		memset(nd + r->npages, 0, (at + size) / PG + 1 - r->npages);
		r->dirty = nd;
		r->npages = (at + size) / PG;
	}
	h = C(r, at);
	memset(h, 0, size);
	memcpy(h, "hbin", 4);
	put_le32(h + 4, at);
	put_le32(h + 8, size);
	put_le32(h + 32, size - 32); /* one free cell */
	r->len += size;
	put_le32(r->b + 40, bins(r));
	touch(r, at, size);
	return add_free(r, at + 32, size - 32);
}

/* A cell for n data bytes (zeroed): first fit, else a new bin. */
static uint32_t alloc(struct rh *r, uint32_t n)
{
	uint32_t need = (n + 4 + 7) & ~7u;

	if (n > MAX_CELL)
		return NONE;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < r->nfr; i++) {
			uint32_t off = r->fr[i].off, size = r->fr[i].size;

			if (size < need)
				continue;
			if (size - need >= 8) {
				r->fr[i].off += need;
				r->fr[i].size -= need;
				put_le32(C(r, off + need), size - need);
				touch(r, off + need, 4);
			} else {
				need = size;
				r->fr[i] = r->fr[--r->nfr];
			}
			memset(C(r, off), 0, need);
			put_le32(C(r, off), (uint32_t) - (int32_t)need);
			touch(r, off, need);
			return off;
		}
		if (pass || grow(r, need))
			break;
	}
	return NONE;
}

static void release(struct rh *r, uint32_t off)
{
	int32_t sz = (int32_t)get_le32(C(r, off));

	if (sz >= 0)
		return;
	put_le32(C(r, off), (uint32_t)-sz);
	touch(r, off, 4);
	add_free(r, off, (uint32_t)-sz);
}

/* ---- names ----------------------------------------------------------------- */

static unsigned up(unsigned c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

/* Name of a key node or value as code units: n units, unit(i). */
struct nm {
	const uint8_t *p;
	unsigned n;
	bool ascii;
};

static struct nm nk_name(const uint8_t *nk)
{
	bool a = get_le16(nk + 2) & 0x20;

	return (struct nm){ nk + 76, get_le16(nk + 72) / (a ? 1u : 2u), a };
}

static struct nm vk_name(const uint8_t *vk)
{
	bool a = get_le16(vk + 16) & 1;

	return (struct nm){ vk + 20, get_le16(vk + 2) / (a ? 1u : 2u), a };
}

static unsigned unit(struct nm m, unsigned i)
{
	return m.ascii ? m.p[i] : get_le16(m.p + 2 * i);
}

/* Upper-case order of two names (spec: Index leaf). */
static int cmp_nm(struct nm a, struct nm b)
{
	for (unsigned i = 0; i < a.n || i < b.n; i++) {
		unsigned x, y;

		if (i >= a.n)
			return -1;
		if (i >= b.n)
			return 1;
		x = up(unit(a, i));
		y = up(unit(b, i));
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static struct nm str_nm(const char *s)
{
	return (struct nm){ (const uint8_t *)s, (unsigned)strlen(s), true };
}

/* lh: 37 * h + upper-case unit; lf: the first four units. */
static uint32_t hint(const uint8_t *nk, bool hash)
{
	struct nm m = nk_name(nk);
	uint32_t h = 0;
	uint8_t f[4] = { 0 };

	for (unsigned i = 0; i < m.n; i++) {
		h = 37 * h + up(unit(m, i));
		if (i < 4)
			f[i] = (uint8_t)unit(m, i);
	}
	return hash ? h : get_le32(f);
}

/* ---- subkeys ------------------------------------------------------------------ */

/* The nk offsets of a key's subkeys, in list order (ri flattened). */
static int children(struct rh *r, const uint8_t *nk, uint32_t **out, uint32_t *nr)
{
	uint32_t n = get_le32(nk + 20), list = get_le32(nk + 28), k = 0;
	uint32_t leaves[1024], nl = 0;
	const uint8_t *l;

	*out = NULL;
	*nr = 0;
	if (!n)
		return 0;
	l = cell(r, list, 4);
	if (!l)
		return -1;
	if (!memcmp(l, "ri", 2)) {
		nl = get_le16(l + 2);
		if (nl > 1024 || !cell(r, list, 4 + 4 * nl))
			return -1;
		for (uint32_t i = 0; i < nl; i++)
			leaves[i] = get_le32(l + 4 + 4 * i);
	} else {
		leaves[nl++] = list;
	}
	*out = malloc(sizeof(**out) * (n + 1));
	if (!*out)
		return -1;
	for (uint32_t i = 0; i < nl; i++) {
		const uint8_t *lf = cell(r, leaves[i], 4);
		uint32_t cnt, es;

		if (!lf)
			goto bad;
		cnt = get_le16(lf + 2);
		es = !memcmp(lf, "li", 2) ? 4 : 8;
		if ((memcmp(lf, "li", 2) && memcmp(lf, "lf", 2) && memcmp(lf, "lh", 2)) ||
		    !cell(r, leaves[i], 4 + es * cnt) || k + cnt > n)
			goto bad;
		for (uint32_t j = 0; j < cnt; j++)
			(*out)[k++] = get_le32(lf + 4 + es * j);
	}
	if (k != n)
		goto bad;
	*nr = k;
	return 0;
bad:
	free(*out);
	*out = NULL;
	return -1;
}

/* Binary search of a sorted array of nk offsets; the index where name is or goes. */
static uint32_t search(struct rh *r, const uint32_t *v, uint32_t n, struct nm name, bool *hit)
{
	uint32_t lo = 0, hi = n;

	*hit = false;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const uint8_t *c = cell(r, v[mid], 76);
		int o = c ? cmp_nm(nk_name(c), name) : -1;

		if (!o) {
			*hit = true;
			return mid;
		}
		if (o < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Subkey lists are sorted (spec: Index leaf; the editor keeps them so). */
static uint32_t find_child(struct rh *r, uint32_t key, const char *name)
{
	const uint8_t *nk = cell(r, key, 76);
	uint32_t *v, n, i, found = NONE;
	bool hit;

	if (!nk || children(r, nk, &v, &n))
		return NONE;
	i = search(r, v, n, str_nm(name), &hit);
	if (hit)
		found = v[i];
	free(v);
	return found;
}

static struct rh *sort_r;

static int by_name(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return cmp_nm(nk_name(cell(sort_r, x, 76)), nk_name(cell(sort_r, y, 76)));
}

/* A leaf (sig "lh", "lf" or "li") listing v[0..n). */
static uint32_t leaf(struct rh *r, const char *sig, const uint32_t *v, uint32_t n)
{
	uint32_t es = sig[1] == 'i' ? 4 : 8, off = alloc(r, 4 + es * n);
	uint8_t *l;

	if (off == NONE)
		return NONE;
	l = C(r, off) + 4;
	memcpy(l, sig, 2);
	put_le16(l + 2, n);
	for (uint32_t i = 0; i < n; i++) {
		put_le32(l + 4 + es * i, v[i]);
		if (es == 8)
			put_le32(l + 8 + es * i, hint(cell(r, v[i], 76), sig[1] == 'h'));
	}
	return off;
}

/*
 * Add n subkeys (names need not be sorted) under key; out[i] gets each
 * one's cell.  A name that exists already gives the existing key.  The
 * parent's list is rebuilt once: a leaf keeps its kind, an index root is
 * rebuilt as leaves of at most 512 keys.
 */
int rh_add_keys(struct rh *r, uint32_t key, const char *const *names, unsigned n, uint32_t *out)
{
	uint8_t *nk = cell(r, key, 76);
	uint32_t *old, nold, *all = NULL, nall = 0, list, sk, maxn;
	char sig[3] = "lh";
	unsigned added = 0;
	int rc = -1;

	if (!nk || children(r, nk, &old, &nold))
		return -1;
	all = malloc(sizeof(*all) * (nold + n + 1));
	if (!all)
		goto out;
	if (nold)
		memcpy(all, old, sizeof(*all) * nold);
	nall = nold;
	sk = get_le32(nk + 44);
	for (unsigned i = 0; i < n; i++) {
		size_t nl = strlen(names[i]);
		uint32_t c = NONE, off;
		uint8_t *k;
		bool hit;

		/* an existing key (sorted list), or one added earlier in this batch */
		c = search(r, old, nold, str_nm(names[i]), &hit);
		c = hit ? old[c] : NONE;
		for (unsigned j = 0; j < i && c == NONE; j++)
			if (!strcmp(names[j], names[i]))
				c = out[j];
		if (c != NONE) {
			out[i] = c;
			continue;
		}
		if (!nl || nl > 255)
			goto out;
		off = alloc(r, 76 + (uint32_t)nl);
		if (off == NONE)
			goto out;
		nk = cell(r, key, 76); /* the buffer may have moved */
		k = C(r, off) + 4;
		memcpy(k, "nk", 2);
		put_le16(k + 2, 0x20); /* KEY_COMP_NAME */
		put_le64(k + 4, r->stamp);
		put_le32(k + 16, key);
		put_le32(k + 28, NONE);
		put_le32(k + 32, NONE);
		put_le32(k + 40, NONE);
		put_le32(k + 44, sk);
		put_le32(k + 48, NONE);
		put_le16(k + 72, (uint16_t)nl);
		memcpy(k + 76, names[i], nl);
		all[nall++] = off;
		out[i] = off;
		added++;
	}
	if (!added) {
		rc = 0;
		goto out;
	}
	sort_r = r;
	qsort(all, nall, sizeof(*all), by_name);
	list = get_le32(nk + 28);
	if (nold) {
		const uint8_t *l = cell(r, list, 4);

		if (!memcmp(l, "ri", 2)) {
			uint32_t nl = get_le16(l + 2), leaves[1024];

			for (uint32_t i = 0; i < nl; i++)
				leaves[i] = get_le32(l + 4 + 4 * i);
			sig[1] = 'h';
			for (uint32_t i = 0; i < nl; i++) {
				const uint8_t *lf = cell(r, leaves[i], 4);

				if (lf)
					sig[1] = lf[1];
				release(r, leaves[i]);
			}
			release(r, list);
			list = NONE;
			{
				uint32_t nleaves = (nall + 511) / 512,
					 ri = alloc(r, 4 + 4 * nleaves);
				uint8_t *p;

				if (ri == NONE)
					goto out;
				for (uint32_t i = 0; i < nleaves; i++) {
					uint32_t from = i * 512,
						 cnt = nall - from < 512 ? nall - from : 512;
					uint32_t lo = leaf(r, sig, all + from, cnt);

					if (lo == NONE)
						goto out;
					p = C(r, ri) + 4;
					put_le32(p + 4 + 4 * i, lo);
				}
				p = C(r, ri) + 4;
				memcpy(p, "ri", 2);
				put_le16(p + 2, nleaves);
				list = ri;
			}
		} else {
			sig[0] = (char)l[0];
			sig[1] = (char)l[1];
			release(r, list);
			list = leaf(r, sig, all, nall);
		}
	} else {
		list = leaf(r, sig, all, nall);
	}
	if (list == NONE)
		goto out;
	nk = cell(r, key, 76);
	put_le32(nk + 20, nall);
	put_le32(nk + 28, list);
	put_le64(nk + 4, r->stamp);
	maxn = get_le32(nk + 52);
	for (unsigned i = 0; i < n; i++)
		if (2 * strlen(names[i]) > maxn)
			maxn = 2 * (uint32_t)strlen(names[i]);
	put_le32(nk + 52, maxn);
	touch(r, key, 4 + 76);
	{
		uint8_t *s = cell(r, sk, 16);

		if (s && !memcmp(s, "sk", 2)) {
			put_le32(s + 12, get_le32(s + 12) + added);
			touch(r, sk, 4 + 16);
		}
	}
	rc = 0;
out:
	free(old);
	free(all);
	return rc;
}

/* The key at path ('\'-separated, "" the root); created when create is set. */
int rh_key(struct rh *r, const char *path, bool create, uint32_t *out)
{
	char buf[1024], *save = NULL;
	uint32_t k = rh_root(r);

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *t = strtok_r(buf, "\\", &save); t; t = strtok_r(NULL, "\\", &save)) {
		uint32_t c = find_child(r, k, t);
		const char *one[1] = { t };

		if (c == NONE) {
			if (!create || rh_add_keys(r, k, one, 1, &c))
				return -1;
		}
		k = c;
	}
	*out = k;
	return 0;
}

/* ---- values ---------------------------------------------------------------- */

static uint32_t find_value(struct rh *r, const uint8_t *nk, const char *name, uint32_t *idx)
{
	uint32_t n = get_le32(nk + 36), l = get_le32(nk + 40);
	const uint8_t *lst;

	if (!n || !(lst = cell(r, l, 4 * n)))
		return NONE;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = get_le32(lst + 4 * i);
		const uint8_t *vk = cell(r, v, 20);

		if (vk && !memcmp(vk, "vk", 2) && !cmp_nm(vk_name(vk), str_nm(name))) {
			*idx = i;
			return v;
		}
	}
	return NONE;
}

/* Data of vk at v: in the cell's data field (4 bytes or less) or a cell of its own. */
static int put_data(struct rh *r, uint32_t v, const void *d, uint32_t len)
{
	uint8_t *vk = cell(r, v, 20);
	uint32_t size = get_le32(vk + 4), doff = get_le32(vk + 8);
	bool had = !(size & 0x80000000u) && (size & 0x7FFFFFFFu) && cell(r, doff, 0);

	if (len <= 4) {
		if (had)
			release(r, doff);
		vk = cell(r, v, 20);
		put_le32(vk + 4, len | 0x80000000u);
		memset(vk + 8, 0, 4);
		memcpy(vk + 8, d, len);
	} else if (had && cell_cap(r, doff) >= len) {
		memcpy(C(r, doff) + 4, d, len);
		touch(r, doff, 4 + len);
		put_le32(vk + 4, len);
	} else {
		uint32_t nd = alloc(r, len);

		if (nd == NONE)
			return -1;
		if (had)
			release(r, doff);
		memcpy(C(r, nd) + 4, d, len);
		vk = cell(r, v, 20);
		put_le32(vk + 4, len);
		put_le32(vk + 8, nd);
	}
	touch(r, v, 4 + 20);
	return 0;
}

int rh_set(struct rh *r, uint32_t key, const char *name, uint32_t type, const void *d, size_t len)
{
	uint8_t *nk = cell(r, key, 76), *vk;
	uint32_t idx, v, n, nl = (uint32_t)strlen(name);

	if (!nk || memcmp(nk, "nk", 2) || len > MAX_VALUE || nl > 255)
		return -1;
	v = find_value(r, nk, name, &idx);
	if (v == NONE) {
		uint32_t l = get_le32(nk + 40), nlist = l;

		n = get_le32(nk + 36);
		v = alloc(r, 20 + nl);
		if (v == NONE)
			return -1;
		vk = C(r, v) + 4;
		memcpy(vk, "vk", 2);
		put_le16(vk + 2, (uint16_t)nl);
		put_le32(vk + 4, 0x80000000u);
		put_le16(vk + 16, nl ? 1 : 0); /* name in ASCII */
		memcpy(vk + 20, name, nl);
		/* the list grows by doubling (Windows' lists are reallocated too) */
		if (!n || !cell(r, l, 4 * (n + 1))) {
			uint32_t cap = n < 4 ? 4 : 2 * n;

			nlist = alloc(r, 4 * cap);
			if (nlist == NONE)
				return -1;
			if (n)
				memcpy(C(r, nlist) + 4, C(r, l) + 4, 4 * n);
			if (n)
				release(r, l);
		}
		put_le32(C(r, nlist) + 4 + 4 * n, v);
		touch(r, nlist, 4 + 4 * (n + 1));
		nk = cell(r, key, 76);
		put_le32(nk + 36, n + 1);
		put_le32(nk + 40, nlist);
		if (2 * nl > get_le32(nk + 60))
			put_le32(nk + 60, 2 * nl);
	}
	if (put_data(r, v, d, (uint32_t)len))
		return -1;
	vk = cell(r, v, 20);
	put_le32(vk + 12, type);
	nk = cell(r, key, 76);
	if (len > get_le32(nk + 64))
		put_le32(nk + 64, (uint32_t)len);
	put_le64(nk + 4, r->stamp);
	touch(r, key, 4 + 76);
	return 0;
}

/* A value's data (at most *len bytes copied); *len gets its size. */
int rh_get(struct rh *r, uint32_t key, const char *name, uint32_t *type, void *buf, size_t *len)
{
	const uint8_t *nk = cell(r, key, 76), *vk, *d;
	uint32_t idx, v, size;

	if (!nk || (v = find_value(r, nk, name, &idx)) == NONE)
		return -1;
	vk = cell(r, v, 20);
	size = get_le32(vk + 4) & 0x7FFFFFFFu;
	if (get_le32(vk + 4) & 0x80000000u) {
		d = vk + 8;
		if (size > 4)
			return -1;
	} else if (!(d = cell(r, get_le32(vk + 8), size))) {
		return -1;
	}
	if (type)
		*type = get_le32(vk + 12);
	memcpy(buf, d, size < *len ? size : *len);
	*len = size;
	return 0;
}

/* ---- flushes and the end of the session ------------------------------------- */

/* The pages touched since the last flush become one log entry. */
int rh_flush(struct rh *r)
{
	uint32_t np = 0, nref = 0, seq = r->seq0 + r->nent;
	size_t len, o;
	uint8_t *e;

	for (size_t p = 0; p < r->npages; p++) {
		if (!r->dirty[p])
			continue;
		np++;
		if (!p || !r->dirty[p - 1])
			nref++;
	}
	if (!np)
		return 0;
	len = (40 + 8 * (size_t)nref + (size_t)np * PG + 511) & ~(size_t)511;
	e = calloc(1, len);
	if (!e)
		return -1;
	if (r->nent == r->capent) {
		unsigned nc = r->capent ? r->capent * 2 : 8;
		struct rh_entry *n = realloc(r->ent, nc * sizeof(*n));

		if (!n) {
			free(e);
			return -1;
		}
		r->ent = n;
		r->capent = nc;
	}
	memcpy(e, "HvLE", 4);
	put_le32(e + 4, (uint32_t)len);
	put_le32(e + 12, seq);
	put_le32(e + 16, bins(r));
	put_le32(e + 20, nref);
	/* contiguous dirty pages travel as one reference */
	o = 40 + 8 * (size_t)nref;
	nref = 0;
	for (size_t p = 0; p < r->npages;) {
		size_t q = p;

		if (!r->dirty[p]) {
			p++;
			continue;
		}
		while (q < r->npages && r->dirty[q])
			q++;
		put_le32(e + 40 + 8 * nref, (uint32_t)(p * PG));
		put_le32(e + 44 + 8 * nref, (uint32_t)((q - p) * PG));
		memcpy(e + o, C(r, (uint32_t)(p * PG)), (q - p) * PG);
		o += (q - p) * PG;
		memset(r->dirty + p, 0, q - p);
		nref++;
		p = q;
	}
	put_le64(e + 24, hv_marvin32(e + 40, len - 40));
	put_le64(e + 32, hv_marvin32(e, 32));
	r->ent[r->nent++] = (struct rh_entry){ .d = e, .len = len, .seq = seq, .bins = bins(r) };
	return 0;
}

unsigned rh_entries(const struct rh *r)
{
	return r->nent;
}

static int make_log(struct rh *r, unsigned from, unsigned to, uint8_t **out, size_t *len)
{
	size_t n = 512;
	uint8_t *l;

	*out = NULL;
	*len = 0;
	if (from >= to)
		return 0;
	for (unsigned i = from; i < to; i++)
		n += r->ent[i].len;
	l = calloc(1, n);
	if (!l)
		return -1;
	/* the log's base block: the primary's first sector, file type 6 */
	memcpy(l, r->b, 512);
	put_le32(l + 4, r->ent[from].seq);
	put_le32(l + 8, r->ent[from].seq);
	put_le32(l + 28, 6);
	put_le32(l + 40, r->ent[from].bins);
	put_le32(l + 508, hv_checksum(l));
	n = 512;
	for (unsigned i = from; i < to; i++) {
		memcpy(l + n, r->ent[i].d, r->ent[i].len);
		n += r->ent[i].len;
	}
	*out = l;
	*len = n;
	return 0;
}

/*
 * End the session.  reconciled: the primary gets every change and equal
 * sequence numbers one past the last entry; otherwise the primary keeps
 * the bytes the session found and only its base block changes (primary
 * sequence number one ahead: dirty).  Entries [0, rotate) go to .LOG1, the
 * rest to .LOG2 (the kernel switched logs).  ft: the last written time.
 */
int rh_finish(struct rh *r, bool reconciled, uint64_t ft, unsigned rotate, struct rh_out *o)
{
	uint8_t *p;
	size_t plen;

	memset(o, 0, sizeof(*o));
	if (rh_flush(r))
		return -1;
	if (rotate > r->nent)
		rotate = r->nent;
	/* the log base blocks copy the primary as it is in memory */
	put_le64(r->b + 12, ft);
	put_le32(r->b + 508, hv_checksum(r->b));
	if (make_log(r, 0, rotate, &o->log[0], &o->loglen[0]) ||
	    make_log(r, rotate, r->nent, &o->log[1], &o->loglen[1]))
		goto fail;
	plen = reconciled && r->len > r->l0 ? r->len : r->l0;
	p = malloc(plen);
	if (!p)
		goto fail;
	if (reconciled) {
		memcpy(p, r->b, r->len);
		if (plen > r->len)
			memcpy(p + r->len, r->p0 + r->len, plen - r->len);
		put_le32(p + 4, r->seq0 + r->nent);
		put_le32(p + 8, r->seq0 + r->nent);
		put_le64(p + BASE + 20, ft); /* the first bin keeps a copy */
	} else {
		memcpy(p, r->p0, plen);
		put_le32(p + 4, r->seq0 + 1);
		put_le32(p + 8, r->seq0);
	}
	put_le64(p + 12, ft);
	put_le32(p + 508, hv_checksum(p));
	o->primary = p;
	o->plen = plen;
	return 0;
fail:
	free(o->log[0]);
	free(o->log[1]);
	memset(o, 0, sizeof(*o));
	return -1;
}

void rh_out_free(struct rh_out *o)
{
	free(o->primary);
	free(o->log[0]);
	free(o->log[1]);
	memset(o, 0, sizeof(*o));
}
