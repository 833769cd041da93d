/*
 * The names pass and lookups (formats/ntfs/ntfs_names.c) on a volume built
 * in memory: a large directory whose names share a long prefix (it gets a
 * hash index), a small one (searched), names that fold alike (a forged
 * volume: the lowest record wins, as the sorted search finds it), DOS names
 * and stale parents (not children).  The same lookups on a twin volume
 * that may build no index must give the same records.  The folded pool
 * (ASCII blocks folded with arithmetic, others through the table) must be
 * the table's folding of every unit, names with Latin-1 letters included.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/finding.h"
#include "formats/ntfs/ntfs_internal.h"
#include "t_helpers.h"

#define NR_RECS 400
#define BIG 20	 /* \big: records 100-299, and 300 (a fold-alike of 107) */
#define SMALL 21 /* \small: records 30-32, and 33 (a fold-alike of 31) */

static int64_t no_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	return -EIO;
}

static const struct bsw_src nosrc = { .pread = no_read, .size = 1 << 20, .name = "none" };

static void add(struct bsw_ntfs *v, uint64_t rec, uint64_t parent, uint8_t ns, const char *s)
{
	size_t n = strlen(s), i;
	struct ntfs_name *nm;

	v->names = realloc(v->names, (v->nr_names + 1) * sizeof(*v->names));
	v->pool = realloc(v->pool, (v->pool_len + n) * sizeof(*v->pool));
	if (!v->names || !v->pool)
		abort();
	for (i = 0; i < n; i++)
		put_le16(v->pool + v->pool_len + i, (uint8_t)s[i]); /* Latin-1 */
	nm = &v->names[v->nr_names++];
	*nm = (struct ntfs_name){ .rec = rec,
				  .parent = parent,
				  .off = (uint32_t)v->pool_len,
				  .len = (uint8_t)n,
				  .ns = ns };
	v->pool_len += n;
}

static struct bsw_ntfs *build(struct bsw_fx *fx)
{
	struct bsw_ntfs *v = calloc(1, sizeof(*v));
	char name[64];
	uint64_t r;

	v->src = &nosrc;
	v->fx = fx;
	v->bs.rec_size = 1024;
	v->bs.cluster = 4096;
	v->nr_recs = NR_RECS;
	v->recs = calloc(NR_RECS, sizeof(*v->recs));
	for (r = 0; r < NR_RECS; r++) {
		v->recs[r].rflags = BSW_NTFS_R_INUSE;
		v->recs[r].seq = 1;
	}
	v->recs[22].rflags = 0; /* a deleted directory */
	/* names in record order, as the records pass adds them */
	add(v, BIG, NTFS_ROOT_REC, 1, "big");
	add(v, SMALL, NTFS_ROOT_REC, 1, "small");
	add(v, 30, SMALL, 1, "one");
	add(v, 31, SMALL, 1, "Two");
	add(v, 32, SMALL, 1, "three");
	add(v, 33, SMALL, 1, "TWO");
	add(v, 34, 22, 1, "orphan"); /* its parent is not in use */
	for (r = 100; r < 300; r++) {
		snprintf(name, sizeof(name), "amd64_microsoft-windows-component_%03u",
			 (unsigned)r - 100);
		add(v, r, BIG, 1, name);
		if (r % 10 == 0) { /* a DOS name is not a child */
			snprintf(name, sizeof(name), "AMD64_~%u", (unsigned)r);
			add(v, r, BIG, 2, name);
		}
	}
	add(v, 300, BIG, 3, "AMD64_MICROSOFT-WINDOWS-COMPONENT_007");
	/* Latin-1 letters (folded by the table) amid ASCII blocks */
	add(v, 302, SMALL, 1, "caf\xe9-na\xefve-r\xe9sum\xe9-\xff-long-enough-for-blocks-of-16");
	add(v, 301, BIG, 1, "stale");
	v->names[v->nr_names - 1].pseq = 9; /* BIG's sequence is 1 */
	return v;
}

static int lookup(struct bsw_ntfs *v, const char *path, uint64_t *rec)
{
	*rec = UINT64_MAX;
	return bsw_ntfs_lookup(v, path, rec);
}

int main(void)
{
	static const char *const paths[] = {
		"\\big\\amd64_microsoft-windows-component_000",
		"\\big\\amd64_microsoft-windows-component_199",
		"\\BIG\\Amd64_Microsoft-Windows-Component_123",
		"\\big\\amd64_microsoft-windows-component_007",
		"/big/amd64_microsoft-windows-component_050",
		"\\big\\amd64_microsoft-windows-component_200",
		"\\big\\amd64_microsoft-windows-component_",
		"\\big\\AMD64_~110",
		"\\big\\stale",
		"\\small\\two",
		"\\small\\ONE",
		"\\small\\four",
		"\\small\\CAF\xc3\x89-NA\xc3\x8fVE-R\xc3\x89SUM\xc3\x89-\xc5\xb8-LONG-ENOUGH-FOR-BLOCKS-OF-16",
		"\\orphan",
		"\\big",
		"\\",
	};
	static const int64_t want[] = { 100, 299, 223, 107, 150, -1, -1,  -1,
					-1,  31,  30,  -1,  302, -1, BIG, NTFS_ROOT_REC };
	struct bsw_fx *fx1, *fx2;
	struct bsw_ntfs *a, *b;
	uint64_t ra, rb;
	unsigned i, ok = 0;

	bsw_fx_create(&fx1);
	bsw_fx_create(&fx2);
	a = build(fx1);
	b = build(fx2);
	/* b may build no index: every slot taken by a directory it never sees */
	b->nr_dindex = BSW_ARRAY_SIZE(b->dindex);
	for (i = 0; i < b->nr_dindex; i++)
		b->dindex[i].dir = UINT64_MAX;
	T_CHECK(!bsw_ntfs_pass_names(a) && !bsw_ntfs_pass_names(b), "names pass");
	T_CHECK(a->nr_kids == 2 + 5 + 200 + 1, "children: %zu (DOS, orphan, stale left out)",
		a->nr_kids);
	for (i = 0; i < a->pool_len; i++)
		if (a->upool[i] != bsw_ntfs_fold_builtin(get_le16(a->pool + i)))
			break;
	T_CHECK(i == a->pool_len, "pool folded as the table folds (unit %u of %zu)", i,
		a->pool_len);
	for (i = 0; i < BSW_ARRAY_SIZE(paths); i++) {
		int ea = lookup(a, paths[i], &ra), eb = lookup(b, paths[i], &rb);

		T_CHECK(ea == eb && ra == rb, "%s: %d/%lld indexed, %d/%lld searched", paths[i], ea,
			(long long)ra, eb, (long long)rb);
		T_CHECK(want[i] < 0 ? ea == -ENOENT : (!ea && ra == (uint64_t)want[i]),
			"%s: record %lld, want %lld", paths[i], ea ? -1LL : (long long)ra,
			(long long)want[i]);
		ok++;
	}
	/* twice, now from the directory cache */
	for (i = 0; i < BSW_ARRAY_SIZE(paths); i++) {
		int ea = lookup(a, paths[i], &ra);

		T_CHECK(want[i] < 0 ? ea == -ENOENT : (!ea && ra == (uint64_t)want[i]),
			"%s again: record %lld", paths[i], ea ? -1LL : (long long)ra);
	}
	T_CHECK(a->nr_dindex == 1 && a->dindex[0].dir == BIG, "one index, of \\big (%u)",
		a->nr_dindex);
	/* the kids of \big in name order */
	for (i = 1; i < 200; i++) {
		const struct ntfs_name *x = &a->names[a->kids[a->dir_first[BIG] + i - 1]];
		const struct ntfs_name *y = &a->names[a->kids[a->dir_first[BIG] + i]];

		if (x->rec + 1 != y->rec && !(x->rec == 107 && y->rec == 300) &&
		    !(x->rec == 300 && y->rec == 108))
			break;
	}
	T_CHECK(i == 200, "\\big sorted by name, the fold-alike after 107 (%u)", i);
	fprintf(stderr, "%u lookups compared\n", ok);
	bsw_ntfs_close(a);
	bsw_ntfs_close(b);
	bsw_fx_destroy(fx1);
	bsw_fx_destroy(fx2);
	return T_DONE();
}
