/*
 * Key and value lookups on a loaded (and possibly recovered) hive.  Only
 * cells the verifier marked allocated are followed, so queries on a corrupt
 * hive see the parts that are intact and return -EIO where a list breaks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/common/bytes.h"
#include "formats/regf/regf_int.h"

bsw_hkey bsw_hive_root(struct bsw_hive *h)
{
	uint32_t sz;
	const uint8_t *nk;

	if (!h || h->state == BSW_HIVE_NOT_A_HIVE || !h->root)
		return 0;
	nk = bsw_regf_cell(h, h->root, &sz);
	if (!nk || sz < 76 || memcmp(nk, "nk", 2))
		return 0;
	return h->root;
}

static const uint8_t *nk_cell(struct bsw_hive *h, bsw_hkey k, uint32_t *sz)
{
	const uint8_t *nk = bsw_regf_cell(h, k, sz);

	if (!nk || *sz < 76 || memcmp(nk, "nk", 2) || 76u + get_le16(nk + 72) > *sz)
		return NULL;
	return nk;
}

int bsw_hive_key_name(struct bsw_hive *h, bsw_hkey k, char *buf, size_t len)
{
	uint32_t sz;
	const uint8_t *nk = nk_cell(h, k, &sz);

	if (!nk)
		return -EIO;
	if (!len)
		return -EINVAL;
	bsw_regf_name(nk + 76, get_le16(nk + 72), get_le16(nk + 2) & BSW_NK_COMP_NAME, buf, len);
	return 0;
}

int bsw_hive_subkeys(struct bsw_hive *h, bsw_hkey k, bsw_hive_key_fn fn, void *arg)
{
	uint32_t *kids;
	int n = bsw_regf_subkey_list(h, k, &kids), rc = 0;
	char *name;

	if (n < 0)
		return n;
	name = malloc(BSW_MAX_REGF_NAME);
	if (!name) {
		free(kids);
		return -ENOMEM;
	}
	for (int i = 0; i < n && !rc; i++) {
		if (bsw_hive_key_name(h, kids[i], name, BSW_MAX_REGF_NAME))
			continue;
		rc = fn(arg, kids[i], name);
	}
	free(name);
	free(kids);
	return rc;
}

/* Case-insensitive compare of one path component (ASCII folding). */
static bool name_eq(const char *a, const char *b, size_t blen)
{
	return strlen(a) == blen && !strncasecmp(a, b, blen);
}

/* FNV-1a of a name with ASCII case folded, as name_eq() compares. */
static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h = (h ^ c) * 0x100000001b3ull;
	}
	return h;
}

/* The name index of key k if it has one. */
static struct bsw_regf_kidx *kidx_find(struct bsw_hive *h, bsw_hkey k)
{
	for (unsigned i = 0; i < BSW_REGF_KIDX_NR; i++)
		if (h->kidx[i].key == k && (h->kidx[i].slot || h->kidx[i].linear))
			return &h->kidx[i];
	return NULL;
}

/*
 * Build the name index of key k from its subkey list kids[0..n), replacing
 * the oldest index.  NULL when there is no memory: the caller then searches
 * the list.  Subkeys go in in list order, so a probe meets equal names in
 * the order a linear search would.  A list too long, or whose names pile up
 * on one slot (a hostile hive repeating a name), is marked linear instead:
 * no entry ever sits more than BSW_REGF_KIDX_PROBE slots from its home, so
 * building and every lookup stay linear in time.
 */
static struct bsw_regf_kidx *kidx_build(struct bsw_hive *h, bsw_hkey k, const uint32_t *kids,
					uint32_t n, char *name)
{
	struct bsw_regf_kidx *x;
	uint32_t slots = 1, i;

	x = &h->kidx[h->kidx_next++ % BSW_REGF_KIDX_NR];
	free(x->slot);
	x->slot = NULL;
	x->key = k;
	x->linear = true;
	if (n > BSW_REGF_KIDX_MAX)
		return x;
	while (slots < 2 * n)
		slots <<= 1;
	x->slot = calloc(slots, sizeof(*x->slot));
	if (!x->slot) {
		x->key = 0;
		return NULL;
	}
	x->mask = slots - 1;
	for (i = 0; i < n; i++) {
		uint64_t hh;
		uint32_t j, d = 0;

		if (!kids[i] || bsw_hive_key_name(h, kids[i], name, BSW_MAX_REGF_NAME))
			continue;
		hh = name_hash(name, strlen(name));
		for (j = (uint32_t)hh & x->mask; x->slot[j].cell; j = (j + 1) & x->mask)
			if (++d > BSW_REGF_KIDX_PROBE) {
				free(x->slot);
				x->slot = NULL;
				return x;
			}
		x->slot[j].hash = hh;
		x->slot[j].cell = kids[i];
	}
	x->linear = false;
	return x;
}

/* The subkey of cur named p[0..l): 0 if none, -errno on a broken list. */
static int64_t find_subkey(struct bsw_hive *h, bsw_hkey cur, const char *p, size_t l, char *name)
{
	struct bsw_regf_kidx *x = kidx_find(h, cur);
	uint32_t *kids = NULL;
	int64_t next = 0;
	int n = 0;

	if (!x || x->linear) {
		n = bsw_regf_subkey_list(h, cur, &kids);
		if (n < 0)
			return n;
		if (!x && (uint32_t)n >= BSW_REGF_KIDX_MIN)
			x = kidx_build(h, cur, kids, (uint32_t)n, name);
	}
	if (x && !x->linear) {
		uint64_t hh = name_hash(p, l);
		uint32_t j = (uint32_t)hh & x->mask;

		for (uint32_t d = 0; d <= BSW_REGF_KIDX_PROBE && x->slot[j].cell && !next;
		     d++, j = (j + 1) & x->mask)
			if (x->slot[j].hash == hh &&
			    !bsw_hive_key_name(h, x->slot[j].cell, name, BSW_MAX_REGF_NAME) &&
			    name_eq(name, p, l))
				next = x->slot[j].cell;
	} else {
		for (int i = 0; i < n && !next; i++)
			if (!bsw_hive_key_name(h, kids[i], name, BSW_MAX_REGF_NAME) &&
			    name_eq(name, p, l))
				next = kids[i];
	}
	free(kids);
	return next;
}

int bsw_hive_key(struct bsw_hive *h, bsw_hkey from, const char *path, bsw_hkey *out)
{
	bsw_hkey cur = from;
	char *name;
	const char *p = path ? path : "";
	unsigned depth = 0;

	if (!nk_cell(h, cur, &(uint32_t){ 0 }))
		return -EIO;
	name = malloc(BSW_MAX_REGF_NAME);
	if (!name)
		return -ENOMEM;
	while (*p && depth++ < BSW_MAX_REGF_DEPTH) {
		const char *e = strchr(p, '\\');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		int64_t next;

		if (!l) {
			p++;
			continue;
		}
		next = find_subkey(h, cur, p, l, name);
		if (next <= 0) {
			free(name);
			return next < 0 ? (int)next : -ENOENT;
		}
		cur = (bsw_hkey)next;
		p += l;
	}
	free(name);
	*out = cur;
	return 0;
}

int bsw_regf_vk_data(const struct bsw_hive *h, uint32_t v, struct bsw_hval *o)
{
	uint32_t sz, dsz;
	const uint8_t *vk = bsw_regf_cell(h, v, &sz), *d;
	uint32_t dsize, doff, len;

	memset(o, 0, sizeof(*o));
	if (!vk || sz < 20 || memcmp(vk, "vk", 2))
		return -EIO;
	dsize = get_le32(vk + 4);
	doff = get_le32(vk + 8);
	len = dsize & 0x7FFFFFFFu;
	o->type = get_le32(vk + 12);
	if (dsize & 0x80000000u) { /* resident: in the offset field */
		if (len > 4)
			len = 4;
		o->data = malloc(len + 1);
		if (!o->data)
			return -ENOMEM;
		memcpy(o->data, vk + 8, len);
		o->len = len;
		return 0;
	}
	if (!len) {
		o->data = malloc(1);
		return o->data ? 0 : -ENOMEM;
	}
	d = bsw_regf_cell(h, doff, &dsz);
	if (!d)
		return -EIO;
	if (h->minor > 3 && len > BSW_REGF_SEG_MAX && dsz >= 8 && !memcmp(d, "db", 2)) {
		uint32_t nseg = get_le16(d + 2), lsz;
		const uint8_t *l = bsw_regf_cell(h, get_le32(d + 4), &lsz);
		size_t got = 0;

		if (!l || (uint64_t)nseg * 4 > lsz || nseg > BSW_MAX_REGF_SEGS ||
		    (uint64_t)nseg * BSW_REGF_SEG_MAX < len)
			return -EIO;
		/*
		 * The segments must cover len before anything is allocated:
		 * the claimed size is up to 2 GiB, the hive holds far less.
		 */
		for (uint32_t i = 0; i < nseg && got < len; i++) {
			uint32_t ssz;

			if (!bsw_regf_cell(h, get_le32(l + 4 * i), &ssz))
				return -EIO;
			got += ssz < BSW_REGF_SEG_MAX ? ssz : BSW_REGF_SEG_MAX;
		}
		if (got < len)
			return -EIO;
		got = 0;
		o->data = malloc(len + 1);
		if (!o->data)
			return -ENOMEM;
		for (uint32_t i = 0; i < nseg && got < len; i++) {
			uint32_t ssz;
			const uint8_t *s = bsw_regf_cell(h, get_le32(l + 4 * i), &ssz);
			size_t take;

			if (!s) {
				bsw_hval_free(o);
				return -EIO;
			}
			take = ssz < BSW_REGF_SEG_MAX ? ssz : BSW_REGF_SEG_MAX;
			if (take > len - got)
				take = len - got;
			memcpy(o->data + got, s, take);
			got += take;
		}
		if (got < len) {
			bsw_hval_free(o);
			return -EIO;
		}
		o->len = len;
		return 0;
	}
	if (dsz < len)
		return -EIO;
	o->data = malloc(len + 1);
	if (!o->data)
		return -ENOMEM;
	memcpy(o->data, d, len);
	o->len = len;
	return 0;
}

void bsw_hval_free(struct bsw_hval *v)
{
	if (!v)
		return;
	free(v->data);
	v->data = NULL;
	v->len = 0;
}

/* Walk the value list of k; fn gets the vk offset and its UTF-8 name. */
typedef int (*vk_fn)(void *arg, uint32_t v, const char *name);

/* Key k's value list: *n entries at *l (n 0: none).  0 or -EIO. */
static int vk_list(struct bsw_hive *h, bsw_hkey k, const uint8_t **l, uint32_t *n)
{
	uint32_t sz, lsz;
	const uint8_t *nk = nk_cell(h, k, &sz);

	*n = 0;
	if (!nk)
		return -EIO;
	if (!get_le32(nk + 36))
		return 0;
	if (get_le32(nk + 36) > BSW_MAX_REGF_VALUES)
		return -EIO;
	*l = bsw_regf_cell(h, get_le32(nk + 40), &lsz);
	if (!*l || (uint64_t)get_le32(nk + 36) * 4 > lsz)
		return -EIO;
	*n = get_le32(nk + 36);
	return 0;
}

/* Entry i of a value list: the vk cell (*v its offset, *nl its name's length), or NULL. */
static const uint8_t *vk_at(struct bsw_hive *h, const uint8_t *l, uint32_t i, uint32_t *v,
			    uint32_t *nl)
{
	uint32_t vsz;
	const uint8_t *vk;

	*v = get_le32(l + 4 * i);
	vk = bsw_regf_cell(h, *v, &vsz);
	if (!vk || vsz < 20 || memcmp(vk, "vk", 2))
		return NULL;
	*nl = get_le16(vk + 2);
	return 20 + *nl > vsz ? NULL : vk;
}

static int each_vk(struct bsw_hive *h, bsw_hkey k, vk_fn fn, void *arg)
{
	const uint8_t *l = NULL;
	uint32_t n, rc = 0;
	char *name;
	int ret = vk_list(h, k, &l, &n);

	if (ret || !n)
		return ret;
	name = malloc(BSW_MAX_REGF_NAME);
	if (!name)
		return -ENOMEM;
	for (uint32_t i = 0; i < n && !rc; i++) {
		uint32_t v, nl;
		const uint8_t *vk = vk_at(h, l, i, &v, &nl);

		if (!vk)
			continue;
		bsw_regf_name(vk + 20, nl, get_le16(vk + 16) & BSW_VK_COMP_NAME, name,
			      BSW_MAX_REGF_NAME);
		rc = (uint32_t)fn(arg, v, name);
	}
	free(name);
	return (int)rc;
}

struct vals_arg {
	struct bsw_hive *h;
	bsw_hive_val_fn fn;
	void *arg;
};

static int vals_cb(void *arg, uint32_t v, const char *name)
{
	struct vals_arg *a = arg;
	struct bsw_hval hv;
	int rc = bsw_regf_vk_data(a->h, v, &hv);

	if (rc == -ENOMEM)
		return rc;
	if (rc)
		return 0; /* broken data: skipped (the verifier reports it) */
	rc = a->fn(a->arg, name, &hv);
	bsw_hval_free(&hv);
	return rc;
}

int bsw_hive_values(struct bsw_hive *h, bsw_hkey k, bsw_hive_val_fn fn, void *arg)
{
	struct vals_arg a = { h, fn, arg };

	return each_vk(h, k, vals_cb, &a);
}

struct find_arg {
	const char *name;
	uint32_t v;
};

static int find_cb(void *arg, uint32_t v, const char *name)
{
	struct find_arg *a = arg;

	if (strcasecmp(name, a->name))
		return 0;
	a->v = v;
	return 1;
}

static inline unsigned ascii_fold(unsigned c)
{
	return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
}

/*
 * Whether a stored value name (nl bytes at p, compressed or UTF-16LE) is
 * the ASCII name q, compared as find_cb compares the decoded name: only
 * ASCII, NUL-free stored names can equal an ASCII name.  Saves decoding
 * every value name of a key to find one (S256H of each of 10,000
 * components).
 */
static bool vk_name_is(const uint8_t *p, size_t nl, bool comp, const char *q, size_t ql)
{
	size_t i;

	if (comp) {
		if (nl != ql)
			return false;
		for (i = 0; i < ql; i++)
			if (!p[i] || p[i] >= 0x80 ||
			    ascii_fold(p[i]) != ascii_fold((unsigned char)q[i]))
				return false;
		return true;
	}
	if (nl / 2 != ql)
		return false;
	for (i = 0; i < ql; i++) {
		unsigned u = get_le16(p + 2 * i);

		if (!u || u >= 0x80 || ascii_fold(u) != ascii_fold((unsigned char)q[i]))
			return false;
	}
	return true;
}

/* each_vk with find_cb for an ASCII name, without decoding names. */
static int find_ascii(struct bsw_hive *h, bsw_hkey k, const char *q, uint32_t *out)
{
	const uint8_t *l = NULL;
	size_t ql = strlen(q);
	uint32_t n;
	int ret = vk_list(h, k, &l, &n);

	if (ret)
		return ret;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v, nl;
		const uint8_t *vk = vk_at(h, l, i, &v, &nl);

		if (vk && vk_name_is(vk + 20, nl, get_le16(vk + 16) & BSW_VK_COMP_NAME, q, ql)) {
			*out = v;
			return 1;
		}
	}
	return 0;
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

int bsw_hive_value(struct bsw_hive *h, bsw_hkey k, const char *name, struct bsw_hval *v)
{
	struct find_arg a = { name ? name : "", 0 };
	/* a long name could pass the decoder's buffer: the general path */
	int rc = is_ascii(a.name) && strlen(a.name) < BSW_MAX_REGF_NAME / 4 ?
			 find_ascii(h, k, a.name, &a.v) :
			 each_vk(h, k, find_cb, &a);

	memset(v, 0, sizeof(*v));
	if (rc < 0)
		return rc;
	if (!a.v)
		return -ENOENT;
	return bsw_regf_vk_data(h, a.v, v);
}

int bsw_hive_get_raw(struct bsw_hive *h, const char *keypath, const char *name, struct bsw_hval *v)
{
	bsw_hkey root = bsw_hive_root(h), k;
	int rc;

	memset(v, 0, sizeof(*v));
	if (!root)
		return -EIO;
	rc = bsw_hive_key(h, root, keypath, &k);
	if (rc)
		return rc;
	return bsw_hive_value(h, k, name, v);
}

int bsw_hive_get_dword(struct bsw_hive *h, const char *keypath, const char *name, uint32_t *out)
{
	struct bsw_hval v;
	int rc = bsw_hive_get_raw(h, keypath, name, &v);

	if (rc)
		return rc;
	if ((v.type != BSW_REG_DWORD && v.type != BSW_REG_DWORD_BE) || v.len < 4)
		rc = -EINVAL;
	else
		*out = v.type == BSW_REG_DWORD ? get_le32(v.data) : get_be32(v.data);
	bsw_hval_free(&v);
	return rc;
}

int bsw_hive_get_qword(struct bsw_hive *h, const char *keypath, const char *name, uint64_t *out)
{
	struct bsw_hval v;
	int rc = bsw_hive_get_raw(h, keypath, name, &v);

	if (rc)
		return rc;
	if (v.type != BSW_REG_QWORD || v.len < 8)
		rc = -EINVAL;
	else
		*out = get_le64(v.data);
	bsw_hval_free(&v);
	return rc;
}

/* UTF-16LE (n bytes) to UTF-8, stopping at the first NUL character. */
static size_t u16_to_utf8(const uint8_t *p, size_t n, char *out, size_t len)
{
	size_t e = 0;

	while (e + 1 < n && get_le16(p + e))
		e += 2;
	bsw_regf_name(p, e, false, out, len);
	return e;
}

int bsw_hive_get_sz(struct bsw_hive *h, const char *keypath, const char *name, char *buf,
		    size_t len)
{
	struct bsw_hval v;
	int rc = bsw_hive_get_raw(h, keypath, name, &v);

	if (rc)
		return rc;
	if (v.type != BSW_REG_SZ && v.type != BSW_REG_EXPAND_SZ)
		rc = -EINVAL;
	else if (!len)
		rc = -EINVAL;
	else
		u16_to_utf8(v.data, v.len, buf, len);
	bsw_hval_free(&v);
	return rc;
}

int bsw_hive_get_multi_sz(struct bsw_hive *h, const char *keypath, const char *name, char **out,
			  unsigned *count)
{
	struct bsw_hval v;
	int rc = bsw_hive_get_raw(h, keypath, name, &v);
	size_t cap, o = 0, p = 0;
	char *r;

	*out = NULL;
	*count = 0;
	if (rc)
		return rc;
	if (v.type != BSW_REG_MULTI_SZ) {
		bsw_hval_free(&v);
		return -EINVAL;
	}
	/* Each UTF-16 unit gives at most 3 UTF-8 bytes. */
	cap = v.len / 2 * 3 + 2;
	r = malloc(cap);
	if (!r) {
		bsw_hval_free(&v);
		return -ENOMEM;
	}
	while (p + 1 < v.len) {
		size_t e = u16_to_utf8(v.data + p, v.len - p, r + o, cap - o - 1);

		if (!e)
			break; /* the empty string ends the list */
		o += strlen(r + o) + 1;
		(*count)++;
		p += e + 2;
	}
	r[o] = 0;
	*out = r;
	bsw_hval_free(&v);
	return 0;
}
