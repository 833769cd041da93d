/*
 * Pass 2: the key tree (spec: Key node; Index leaf, Fast leaf, Hash leaf,
 * Index root; Key value; Big data; Key security), an iterative depth-first
 * walk from the root over the cells pass 1 marked allocated.
 *
 * tests:    the root is an allocated nk (KEY_HIVE_ENTRY flag: info); per
 *           key: nk signature and name inside the cell, parent field = the
 *           key that lists it; subkey lists (li/lf/lh, ri of leaves, no ri
 *           in ri, counts inside the cell, entries allocated nk cells with
 *           their names inside, total = the key's subkey count; order of
 *           ASCII names and lf/lh hints: warnings); value list (allocated,
 *           large enough for its count), each vk (signature, name inside),
 *           its data (resident <= 4 bytes, data cell large enough, big data
 *           "db" with an allocated segment list and segments that hold the
 *           size); the security cell (allocated "sk", descriptor inside);
 *           the class name cell.  A key listed twice (shared subtree or
 *           cycle) is a finding and is not followed (h->seen); caps: depth
 *           512, 2^24 keys.
 * stops:    when the root is unusable, or memory ran out mid-walk (the
 *           accounting of pass 3 needs the whole tree).
 * collects: r->sk, every security cell a key uses with the number of keys
 *           using it; h->root = 0 when the root is unusable.
 *
 * The subkey list reader (collect(), subkeys()) is also the queries' one,
 * through bsw_regf_subkey_list(), so that they follow exactly the lists
 * this pass verified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/regf/regf_int.h"

struct walk {
	struct bsw_hive *h;
	struct bsw_regf_run *r; /* r->sk: the security cells used, for pass 3 */
	uint32_t *stack_nk;	/* keys on the current path, for messages */
	unsigned depth;
	uint64_t keys;
	bool oom;
};

static void key_path(struct walk *w, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (unsigned i = 1; i < w->depth && o + 2 < len; i++) {
		uint32_t sz;
		const uint8_t *c = bsw_regf_cell(w->h, w->stack_nk[i], &sz);
		size_t nl;

		if (!c)
			break;
		nl = get_le16(c + 72);
		if (76 + nl > sz)
			nl = 0;
		buf[o++] = '\\';
		bsw_regf_name(c + 76, nl, get_le16(c + 2) & BSW_NK_COMP_NAME, buf + o, len - o);
		o += strlen(buf + o);
	}
	if (!o && len > 1) {
		buf[0] = '\\';
		buf[1] = 0;
	}
}

static void key_bad(struct walk *w, enum bsw_problem p, uint32_t cell, const char *what, uint64_t n)
{
	char path[512];

	key_path(w, path, sizeof(path));
	bsw_regf_bad(w->h, p,
		     (struct bsw_fctx){ .cell = cell, .str = what, .str2 = path, .n = (int64_t)n });
}

/* A key-level warning that does not make the hive corrupt. */
static void key_bad_soft(struct walk *w, enum bsw_problem p, uint32_t cell, const char *what,
			 uint64_t n)
{
	char path[512];

	key_path(w, path, sizeof(path));
	bsw_report(w->h->fx, p,
		   &(struct bsw_fctx){ .cell = cell, .str = what, .str2 = path, .n = (int64_t)n });
}

/* Count one more key using security cell off (open addressing on r->sk). */
static bool sk_count(struct walk *w, uint32_t off)
{
	struct bsw_regf_run *r = w->r;
	size_t i;

	if (r->sk_nr * 2 >= r->sk_cap) {
		size_t nc = r->sk_cap ? r->sk_cap * 2 : 256;
		struct bsw_regf_sk *n = calloc(nc, sizeof(*n));

		if (!n) {
			w->oom = true;
			return false;
		}
		for (i = 0; i < r->sk_cap; i++) {
			size_t j;

			if (!r->sk[i].off)
				continue;
			for (j = (r->sk[i].off >> 3) * 2654435761u & (nc - 1); n[j].off;
			     j = (j + 1) & (nc - 1))
				;
			n[j] = r->sk[i];
		}
		free(r->sk);
		r->sk = n;
		r->sk_cap = nc;
	}
	for (i = (off >> 3) * 2654435761u & (r->sk_cap - 1); r->sk[i].off;
	     i = (i + 1) & (r->sk_cap - 1)) {
		if (r->sk[i].off == off) {
			r->sk[i].refs++;
			return true;
		}
	}
	r->sk[i].off = off;
	r->sk[i].refs = 1;
	r->sk_nr++;
	return true;
}

/* Value data reference of a vk (spec: Key value, Data size; Big data). */
static void check_vk_data(struct walk *w, uint32_t v, const uint8_t *vk)
{
	struct bsw_hive *h = w->h;
	uint32_t dsize = get_le32(vk + 4), doff = get_le32(vk + 8);
	uint32_t sz, len = dsize & 0x7FFFFFFFu;
	const uint8_t *d;

	if (dsize & 0x80000000u) {
		if (len > 4)
			key_bad(w, PR_REGF_2_KEY, v, "resident value data longer than 4 bytes",
				len);
		return;
	}
	if (!len)
		return;
	d = bsw_regf_cell(h, doff, &sz);
	if (!d) {
		key_bad(w, PR_REGF_2_REF, doff, "value data offset is not an allocated cell", v);
		return;
	}
	if (h->minor > 3 && len > BSW_REGF_SEG_MAX && sz >= 8 && !memcmp(d, "db", 2)) {
		uint32_t nseg = get_le16(d + 2), loff = get_le32(d + 4);
		uint32_t lsz, total = 0;
		const uint8_t *l = bsw_regf_cell(h, loff, &lsz);

		if (!l || (uint64_t)nseg * 4 > lsz || nseg > BSW_MAX_REGF_SEGS) {
			key_bad(w, PR_REGF_2_REF, loff,
				"big data segment list is not an allocated cell of the right size",
				nseg);
			return;
		}
		for (uint32_t i = 0; i < nseg; i++) {
			uint32_t s = get_le32(l + 4 * i), ssz;

			if (!bsw_regf_cell(h, s, &ssz)) {
				key_bad(w, PR_REGF_2_REF, s,
					"big data segment is not an allocated cell", i);
				return;
			}
			total += ssz < BSW_REGF_SEG_MAX ? ssz : BSW_REGF_SEG_MAX;
		}
		if (total < len)
			key_bad(w, PR_REGF_2_KEY, v,
				"big data segments hold less than the value size", len);
		return;
	}
	if (sz < len)
		key_bad(w, PR_REGF_2_KEY, doff, "value data cell is smaller than the value size",
			len);
}

static void check_values(struct walk *w, uint32_t k, const uint8_t *nk)
{
	struct bsw_hive *h = w->h;
	uint32_t n = get_le32(nk + 36), loff = get_le32(nk + 40), lsz;
	const uint8_t *l;

	if (!n)
		return;
	if (n > BSW_MAX_REGF_VALUES) {
		key_bad(w, PR_REGF_2_KEY, k, "implausible number of values", n);
		return;
	}
	l = bsw_regf_cell(h, loff, &lsz);
	if (!l || (uint64_t)n * 4 > lsz) {
		key_bad(w, PR_REGF_2_REF, loff,
			"value list is not an allocated cell large enough for its count", n);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = get_le32(l + 4 * i), vsz;
		const uint8_t *vk = bsw_regf_cell(h, v, &vsz);

		if (!vk || vsz < 20 || memcmp(vk, "vk", 2)) {
			key_bad(w, PR_REGF_2_REF, v, "value list entry is not an allocated vk cell",
				i);
			continue;
		}
		if (20u + get_le16(vk + 2) > vsz) {
			key_bad(w, PR_REGF_2_KEY, v, "value name extends past its cell",
				get_le16(vk + 2));
			continue;
		}
		check_vk_data(w, v, vk);
	}
}

static void check_key_fields(struct walk *w, uint32_t k, const uint8_t *nk, uint32_t sz,
			     uint32_t parent)
{
	struct bsw_hive *h = w->h;
	uint32_t skoff = get_le32(nk + 44), coff = get_le32(nk + 48);
	uint32_t clen = get_le16(nk + 74), ssz, csz;
	const uint8_t *sk;

	if (parent && get_le32(nk + 16) != parent)
		key_bad(w, PR_REGF_2_KEY, k, "parent field does not point at the key that lists it",
			get_le32(nk + 16));
	sk = bsw_regf_cell(h, skoff, &ssz);
	if (!sk || ssz < 20 || memcmp(sk, "sk", 2)) {
		key_bad(w, PR_REGF_2_REF, skoff, "security offset is not an allocated sk cell", k);
	} else {
		if (20u + get_le32(sk + 16) > ssz)
			key_bad(w, PR_REGF_2_KEY, skoff,
				"security descriptor extends past its cell", get_le32(sk + 16));
		sk_count(w, skoff);
	}
	if (clen && coff != BSW_REGF_NONE) {
		if (!bsw_regf_cell(h, coff, &csz) || csz < clen)
			key_bad(w, PR_REGF_2_REF, coff,
				"class name is not an allocated cell of its length", clen);
	}
	check_values(w, k, nk);
}

/*
 * Name hints of fast/hash leaves (spec: Fast leaf, Hash leaf): lf keeps the
 * first 4 characters, lh 37*h + upper-case character.  Checked for ASCII
 * names only; returns true when the stored value is right (or unchecked).
 */
static bool hint_ok(const uint8_t *lst, const uint8_t *nk, uint32_t stored)
{
	bool comp = get_le16(nk + 2) & BSW_NK_COMP_NAME;
	uint32_t n = get_le16(nk + 72) / (comp ? 1 : 2), h = 0;
	uint8_t hint[4] = { 0 };

	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = comp ? nk[76 + i] : get_le16(nk + 76 + 2 * i);

		if (c >= 0x80)
			return true;
		if (i < 4)
			hint[i] = (uint8_t)c;
		h = 37 * h + (c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	if (lst[1] == 'h')
		return h == stored;
	return get_le32(hint) == stored;
}

/*
 * Collect the nk offsets of a subkey list (spec: Index leaf, Fast leaf,
 * Hash leaf, Index root: an index root cannot point to another one).
 * With w set, problems are reported; the walk still uses what is valid.
 */
static int collect(const struct bsw_hive *h, struct walk *w, uint32_t list, uint32_t *out,
		   uint32_t cap, uint32_t *nr, bool nested)
{
	uint32_t sz, n, es;
	const uint8_t *c = bsw_regf_cell(h, list, &sz);
	int rc = 0;

	if (!c || sz < 4) {
		if (w)
			key_bad(w, PR_REGF_2_REF, list, "subkey list is not an allocated cell",
				nested);
		return -EIO;
	}
	n = get_le16(c + 2);
	if (!memcmp(c, "ri", 2)) {
		if (nested) {
			if (w)
				key_bad(w, PR_REGF_2_REF, list, "index root inside an index root",
					0);
			return -EIO;
		}
		if (4 + (uint64_t)n * 4 > sz) {
			if (w)
				key_bad(w, PR_REGF_2_REF, list, "index root count exceeds its cell",
					n);
			return -EIO;
		}
		for (uint32_t i = 0; i < n; i++) {
			int r = collect(h, w, get_le32(c + 4 + 4 * i), out, cap, nr, true);

			if (r == -ENOSPC)
				return r;
			if (r)
				rc = r;
		}
		return rc;
	}
	if (!memcmp(c, "li", 2))
		es = 4;
	else if (!memcmp(c, "lf", 2) || !memcmp(c, "lh", 2))
		es = 8;
	else {
		if (w)
			key_bad(w, PR_REGF_2_REF, list, "subkey list signature is not li/lf/lh/ri",
				get_le16(c));
		return -EIO;
	}
	if (4 + (uint64_t)n * es > sz) {
		if (w)
			key_bad(w, PR_REGF_2_REF, list, "subkey list count exceeds its cell", n);
		return -EIO;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = get_le32(c + 4 + es * i), ksz;
		const uint8_t *nk = bsw_regf_cell(h, k, &ksz);

		if (!nk || ksz < 76 || memcmp(nk, "nk", 2) || 76u + get_le16(nk + 72) > ksz) {
			if (w)
				key_bad(w, PR_REGF_2_REF, k,
					"subkey list entry is not an allocated nk cell", i);
			rc = -EIO;
			continue;
		}
		if (w && es == 8 && !hint_ok(c, nk, get_le32(c + 8 + es * i)))
			key_bad_soft(w, PR_REGF_2_HINT, k, c[1] == 'h' ? "lh" : "lf",
				     get_le32(c + 8 + es * i));
		if (*nr >= cap)
			return -ENOSPC;
		out[(*nr)++] = k;
	}
	return rc;
}

/*
 * Order of two key names for subkey lists: upper-case code units compared
 * (spec: Index leaf).  Returns <0, 0, >0, or 2 when either name has a
 * non-ASCII character (Windows' upcase table is not reproduced here).
 */
static int name_order(const uint8_t *a, const uint8_t *b)
{
	bool ca = get_le16(a + 2) & BSW_NK_COMP_NAME;
	bool cb = get_le16(b + 2) & BSW_NK_COMP_NAME;
	uint32_t la = get_le16(a + 72) / (ca ? 1 : 2);
	uint32_t lb = get_le16(b + 72) / (cb ? 1 : 2);

	for (uint32_t i = 0; i < la || i < lb; i++) {
		uint32_t x, y;

		if (i >= la)
			return -1;
		if (i >= lb)
			return 1;
		x = ca ? a[76 + i] : get_le16(a + 76 + 2 * i);
		y = cb ? b[76 + i] : get_le16(b + 76 + 2 * i);
		if (x >= 0x80 || y >= 0x80)
			return 2;
		if (x >= 'a' && x <= 'z')
			x -= 32;
		if (y >= 'a' && y <= 'z')
			y -= 32;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static void check_order(struct walk *w, const uint32_t *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		uint32_t s1, s2;
		const uint8_t *a = bsw_regf_cell(w->h, v[i - 1], &s1);
		const uint8_t *b = bsw_regf_cell(w->h, v[i], &s2);
		int o = name_order(a, b);

		if (o == 1 || o == 0) {
			char path[512], pair[160], n1[64], n2[64];

			bsw_regf_name(a + 76, get_le16(a + 72), get_le16(a + 2) & BSW_NK_COMP_NAME,
				      n1, sizeof(n1));
			bsw_regf_name(b + 76, get_le16(b + 72), get_le16(b + 2) & BSW_NK_COMP_NAME,
				      n2, sizeof(n2));
			snprintf(pair, sizeof(pair), "\"%s\" and \"%s\"", n1, n2);
			key_path(w, path, sizeof(path));
			bsw_report(w->h->fx, PR_REGF_2_ORDER,
				   &(struct bsw_fctx){ .cell = v[i], .str = pair, .str2 = path });
			return;
		}
	}
}

static int subkeys(const struct bsw_hive *h, struct walk *w, uint32_t k, const uint8_t *nk,
		   uint32_t **out, uint32_t *nr)
{
	uint32_t n = get_le32(nk + 20), list = get_le32(nk + 28);
	uint32_t *v;
	int rc;

	*out = NULL;
	*nr = 0;
	if (!n)
		return 0;
	if (n > BSW_MAX_REGF_SUBKEYS) {
		if (w)
			key_bad(w, PR_REGF_2_KEY, k, "implausible number of subkeys", n);
		return -EIO;
	}
	v = malloc(sizeof(*v) * n);
	if (!v)
		return -ENOMEM;
	rc = collect(h, w, list, v, n, nr, false);
	if (rc == -ENOSPC || (!rc && *nr != n)) {
		if (w)
			key_bad(w, PR_REGF_2_KEY, k,
				"number of subkeys differs from the subkey lists", n);
		rc = -EIO;
	}
	if (w && !rc)
		check_order(w, v, *nr);
	*out = v;
	return rc;
}

int bsw_regf_subkey_list(const struct bsw_hive *h, uint32_t k, uint32_t **out)
{
	uint32_t sz, nr;
	const uint8_t *nk = bsw_regf_cell(h, k, &sz);
	int rc;

	*out = NULL;
	if (!nk || sz < 76 || memcmp(nk, "nk", 2))
		return -EIO;
	rc = subkeys(h, NULL, k, nk, out, &nr);
	if (rc == -ENOMEM)
		return rc;
	return (int)nr;
}

struct frame {
	uint32_t nk;
	uint32_t *kids;
	uint32_t n, i;
};

int bsw_regf_pass2_tree(struct bsw_regf_run *r)
{
	struct bsw_hive *h = r->h;
	struct walk w = { .h = h, .r = r };
	struct frame *st;
	uint32_t sz;
	const uint8_t *nk = bsw_regf_cell(h, h->root, &sz);

	if (!nk || sz < 76 || memcmp(nk, "nk", 2) || 76u + get_le16(nk + 72) > sz) {
		bsw_regf_bad(h, PR_REGF_2_ROOT,
			     (struct bsw_fctx){ .cell = h->root,
						.str = "root cell is not an allocated key node" });
		h->root = 0;
		r->stop = true;
		return 0;
	}
	if (!(get_le16(nk + 2) & BSW_NK_HIVE_ENTRY))
		bsw_report(h->fx, PR_REGF_2_ROOT_FLAG, &(struct bsw_fctx){ .cell = h->root });
	st = calloc(BSW_MAX_REGF_DEPTH + 1, sizeof(*st));
	w.stack_nk = calloc(BSW_MAX_REGF_DEPTH + 1, sizeof(uint32_t));
	if (!st || !w.stack_nk) {
		free(st);
		free(w.stack_nk);
		r->stop = true; /* no walk: nothing to account for */
		return 0;
	}
	memset(h->seen, 0, bsw_regf_words(h->bins) * sizeof(uint64_t));
	bsw_regf_setbit(h->seen, h->root);
	w.depth = 1;
	w.stack_nk[0] = h->root;
	st[0].nk = h->root;
	check_key_fields(&w, h->root, nk, sz, 0);
	if (subkeys(h, &w, h->root, nk, &st[0].kids, &st[0].n) == -ENOMEM)
		w.oom = true;
	while (w.depth && !w.oom) {
		struct frame *f = &st[w.depth - 1];
		uint32_t k;

		if (f->i >= f->n) {
			free(f->kids);
			f->kids = NULL;
			w.depth--;
			continue;
		}
		k = f->kids[f->i++];
		if (bsw_regf_bit(h->seen, k)) {
			key_bad(&w, PR_REGF_2_REF, k,
				"key is listed twice (shared subtree or cycle)", f->nk);
			continue;
		}
		bsw_regf_setbit(h->seen, k);
		if (++w.keys > BSW_MAX_REGF_KEYS) {
			bsw_regf_bad(h, PR_REGF_2_CAP,
				     (struct bsw_fctx){ .str = "number of keys",
							.n = BSW_MAX_REGF_KEYS });
			break;
		}
		if (w.depth >= BSW_MAX_REGF_DEPTH) {
			bsw_regf_bad(
				h, PR_REGF_2_CAP,
				(struct bsw_fctx){ .str = "key depth", .n = BSW_MAX_REGF_DEPTH });
			continue;
		}
		nk = bsw_regf_cell(h, k, &sz); /* collect() checked it */
		w.stack_nk[w.depth] = k;
		st[w.depth] = (struct frame){ .nk = k };
		w.depth++;
		check_key_fields(&w, k, nk, sz, f->nk);
		if (subkeys(h, &w, k, nk, &st[w.depth - 1].kids, &st[w.depth - 1].n) == -ENOMEM)
			w.oom = true;
	}
	while (w.depth)
		free(st[--w.depth].kids);
	/* an incomplete walk would make every count look too high */
	if (w.oom)
		r->stop = true;
	free(st);
	free(w.stack_nk);
	return 0;
}
