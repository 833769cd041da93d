/*
 * Registry hive loading and verification: base block, every hive bin and
 * cell, and the key tree (keys, subkey lists, values, big data, security
 * cells, class names).  Every check cites the msuhanov/regf specification
 * ("Windows registry file format specification.md", sections named below).
 * A problem is a finding, never an error return.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/src.h"
#include "formats/regf/regf_int.h"

/* Base block: XOR-32 of the first 508 bytes, 0 -> 1 and -1 -> -2 (note 2). */
uint32_t bsw_regf_checksum(const uint8_t *b)
{
	uint32_t c = 0;

	for (unsigned i = 0; i < 508; i += 4)
		c ^= get_le32(b + i);
	if (c == 0xFFFFFFFFu)
		c = 0xFFFFFFFEu;
	else if (c == 0)
		c = 1;
	return c;
}

bool bsw_regf_parse_base(const uint8_t *b, size_t len, struct bsw_regf_base *o)
{
	memset(o, 0, sizeof(*o));
	if (len < 512 || memcmp(b, "regf", 4))
		return false;
	o->seq1 = get_le32(b + 4);
	o->seq2 = get_le32(b + 8);
	o->written = get_le64(b + 12);
	o->major = get_le32(b + 20);
	o->minor = get_le32(b + 24);
	o->type = get_le32(b + 28);
	o->format = get_le32(b + 32);
	o->root = get_le32(b + 36);
	o->bins = get_le32(b + 40);
	o->cluster = get_le32(b + 44);
	o->flags = get_le32(b + 144);
	o->checksum = get_le32(b + 508);
	o->sum_ok = bsw_regf_checksum(b) == o->checksum;
	return true;
}

/* A structural problem: the caller's verdict_if_bad decides its weight. */
static void bad(struct bsw_hive *h, enum bsw_problem p, struct bsw_fctx c)
{
	if (h->vib != BSW_V_NONE) {
		c.verdict = h->vib;
		c.severity_override = BSW_SEV_ERROR;
	}
	h->corrupt = true;
	bsw_report(h->fx, p, &c);
}

const uint8_t *bsw_regf_cell(const struct bsw_hive *h, uint32_t off,
			     uint32_t *size)
{
	const uint8_t *p;
	int32_t sz;

	if (!h->alloc || off >= h->bins || (off & 7) || !bsw_regf_bit(h->alloc, off))
		return NULL;
	p = h->buf + BSW_REGF_BASE_SIZE + off;
	sz = (int32_t)get_le32(p);
	/* The bins pass only marks cells whose size is sane and in the bin. */
	*size = (uint32_t)(-(int64_t)sz) - 4;
	return p + 4;
}

static size_t put_utf8(char *out, size_t o, size_t outlen, uint32_t c)
{
	char t[4];
	size_t n;

	if (c == 0) {
		/* U+0000 kept as C0 80 (modified UTF-8): a name hiding a
		 * NUL must not read as its prefix (regf.h) */
		t[0] = (char)0xC0;
		t[1] = (char)0x80;
		n = 2;
	} else if (c < 0x80) {
		t[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		t[0] = (char)(0xC0 | (c >> 6));
		t[1] = (char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		t[0] = (char)(0xE0 | (c >> 12));
		t[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		t[2] = (char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		t[0] = (char)(0xF0 | (c >> 18));
		t[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		t[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		t[3] = (char)(0x80 | (c & 0x3F));
		n = 4;
	}
	if (o + n >= outlen)
		return o;
	memcpy(out + o, t, n);
	return o + n;
}

/* Names: "compressed" = Latin-1 (extended ASCII), else UTF-16LE. */
void bsw_regf_name(const uint8_t *p, size_t n, bool ascii, char *out,
		   size_t outlen)
{
	size_t o = 0;

	if (!outlen)
		return;
	if (ascii) {
		for (size_t i = 0; i < n; i++)
			o = put_utf8(out, o, outlen, p[i]);
	} else {
		for (size_t i = 0; i + 1 < n; i += 2) {
			uint32_t c = get_le16(p + i);

			if (c >= 0xD800 && c < 0xDC00 && i + 3 < n) {
				uint32_t d = get_le16(p + i + 2);

				if (d >= 0xDC00 && d < 0xE000) {
					c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
					i += 2;
				} else {
					c = 0xFFFD;
				}
			} else if (c >= 0xD800 && c < 0xE000) {
				c = 0xFFFD;
			}
			o = put_utf8(out, o, outlen, c);
		}
	}
	out[o] = 0;
}

/* ---- pass 1: hive bins and cells (spec: Hive bin; Cell) ---- */

static void verify_bins(struct bsw_hive *h, uint32_t bins)
{
	uint32_t off = 0;

	while (off < bins) {
		const uint8_t *b = h->buf + BSW_REGF_BASE_SIZE + off;
		uint32_t size, p, end;

		if (bins - off < BSW_REGF_HBIN_HDR) {
			bad(h, PR_REGF_1_HBIN, (struct bsw_fctx){ .cell = off,
			    .str = "hive bins data ends inside a bin header",
			    .n = bins - off });
			break;
		}
		if (memcmp(b, "hbin", 4)) {
			bad(h, PR_REGF_1_HBIN, (struct bsw_fctx){ .cell = off,
			    .str = "signature is not \"hbin\"", .n = get_le32(b) });
			break;
		}
		if (get_le32(b + 4) != off) {
			bad(h, PR_REGF_1_HBIN, (struct bsw_fctx){ .cell = off,
			    .str = "offset field does not match the bin's position",
			    .n = get_le32(b + 4) });
			break;
		}
		size = get_le32(b + 8);
		/* Note 1: a bin is a multiple of 4096 bytes. */
		if (size < 4096 || (size & 4095)) {
			bad(h, PR_REGF_1_HBIN, (struct bsw_fctx){ .cell = off,
			    .str = "size is not a non-zero multiple of 4096",
			    .n = size });
			break;
		}
		if (size > bins - off) {
			bad(h, PR_REGF_1_HBIN, (struct bsw_fctx){ .cell = off,
			    .str = "bin extends past the hive bins data size",
			    .n = size });
			break;
		}
		end = off + size;
		/* Cells fill the bin without gaps; sizes are 8-aligned. */
		for (p = off + BSW_REGF_HBIN_HDR; p < end;) {
			int32_t sz = (int32_t)get_le32(h->buf + BSW_REGF_BASE_SIZE + p);
			uint32_t a = sz < 0 ? (uint32_t)(-(int64_t)sz) : (uint32_t)sz;

			if (sz == 0 || a < 8 || (a & 7) || a > end - p) {
				bad(h, PR_REGF_1_CELL, (struct bsw_fctx){ .cell = p,
				    .str = a > end - p ? "cell extends past its bin"
					 : "cell size is zero or not a multiple of 8",
				    .n = (uint32_t)sz });
				break;
			}
			if (sz < 0)
				bsw_regf_setbit(h->alloc, p);
			p += a;
		}
		off = end;
	}
	h->bins = off < bins ? off : bins;
}

/* ---- pass 2: key tree (spec: Key node, lists, Key value, Big data) ---- */

struct sk_ent {
	uint32_t off;
	uint32_t refs;
};

struct walk {
	struct bsw_hive *h;
	struct sk_ent *sk;	/* open addressing, off 0 = empty (0 is a bin header) */
	size_t sk_cap, sk_nr;
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
		bsw_regf_name(c + 76, nl, get_le16(c + 2) & BSW_NK_COMP_NAME,
			      buf + o, len - o);
		o += strlen(buf + o);
	}
	if (!o && len > 1) {
		buf[0] = '\\';
		buf[1] = 0;
	}
}

static void key_bad(struct walk *w, enum bsw_problem p, uint32_t cell,
		    const char *what, uint64_t n)
{
	char path[512];

	key_path(w, path, sizeof(path));
	bad(w->h, p, (struct bsw_fctx){ .cell = cell, .str = what,
	    .str2 = path, .n = (int64_t)n });
}

/* A key-level warning that does not make the hive corrupt. */
static void key_bad_soft(struct walk *w, enum bsw_problem p, uint32_t cell,
			 const char *what, uint64_t n)
{
	char path[512];

	key_path(w, path, sizeof(path));
	bsw_report(w->h->fx, p, &(struct bsw_fctx){ .cell = cell, .str = what,
		   .str2 = path, .n = (int64_t)n });
}

static bool sk_count(struct walk *w, uint32_t off)
{
	size_t i;

	if (w->sk_nr * 2 >= w->sk_cap) {
		size_t nc = w->sk_cap ? w->sk_cap * 2 : 256;
		struct sk_ent *n = calloc(nc, sizeof(*n));

		if (!n) {
			w->oom = true;
			return false;
		}
		for (i = 0; i < w->sk_cap; i++) {
			size_t j;

			if (!w->sk[i].off)
				continue;
			for (j = (w->sk[i].off >> 3) * 2654435761u & (nc - 1);
			     n[j].off; j = (j + 1) & (nc - 1))
				;
			n[j] = w->sk[i];
		}
		free(w->sk);
		w->sk = n;
		w->sk_cap = nc;
	}
	for (i = (off >> 3) * 2654435761u & (w->sk_cap - 1); w->sk[i].off;
	     i = (i + 1) & (w->sk_cap - 1)) {
		if (w->sk[i].off == off) {
			w->sk[i].refs++;
			return true;
		}
	}
	w->sk[i].off = off;
	w->sk[i].refs = 1;
	w->sk_nr++;
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
			key_bad(w, PR_REGF_2_KEY, v,
				"resident value data longer than 4 bytes", len);
		return;
	}
	if (!len)
		return;
	d = bsw_regf_cell(h, doff, &sz);
	if (!d) {
		key_bad(w, PR_REGF_2_REF, doff,
			"value data offset is not an allocated cell", v);
		return;
	}
	if (h->minor > 3 && len > BSW_REGF_SEG_MAX && sz >= 8 &&
	    !memcmp(d, "db", 2)) {
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
		key_bad(w, PR_REGF_2_KEY, doff,
			"value data cell is smaller than the value size", len);
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
			key_bad(w, PR_REGF_2_REF, v,
				"value list entry is not an allocated vk cell", i);
			continue;
		}
		if (20u + get_le16(vk + 2) > vsz) {
			key_bad(w, PR_REGF_2_KEY, v,
				"value name extends past its cell", get_le16(vk + 2));
			continue;
		}
		check_vk_data(w, v, vk);
	}
}

static void check_key_fields(struct walk *w, uint32_t k, const uint8_t *nk,
			     uint32_t sz, uint32_t parent)
{
	struct bsw_hive *h = w->h;
	uint32_t skoff = get_le32(nk + 44), coff = get_le32(nk + 48);
	uint32_t clen = get_le16(nk + 74), ssz, csz;
	const uint8_t *sk;

	if (parent && get_le32(nk + 16) != parent)
		key_bad(w, PR_REGF_2_KEY, k,
			"parent field does not point at the key that lists it",
			get_le32(nk + 16));
	sk = bsw_regf_cell(h, skoff, &ssz);
	if (!sk || ssz < 20 || memcmp(sk, "sk", 2)) {
		key_bad(w, PR_REGF_2_REF, skoff,
			"security offset is not an allocated sk cell", k);
	} else {
		if (20u + get_le32(sk + 16) > ssz)
			key_bad(w, PR_REGF_2_KEY, skoff,
				"security descriptor extends past its cell",
				get_le32(sk + 16));
		sk_count(w, skoff);
	}
	if (clen && coff != BSW_REGF_NONE) {
		if (!bsw_regf_cell(h, coff, &csz) || csz < clen)
			key_bad(w, PR_REGF_2_REF, coff,
				"class name is not an allocated cell of its length",
				clen);
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
static int collect(const struct bsw_hive *h, struct walk *w, uint32_t list,
		   uint32_t *out, uint32_t cap, uint32_t *nr, bool nested)
{
	uint32_t sz, n, es;
	const uint8_t *c = bsw_regf_cell(h, list, &sz);
	int rc = 0;

	if (!c || sz < 4) {
		if (w)
			key_bad(w, PR_REGF_2_REF, list,
				"subkey list is not an allocated cell", nested);
		return -EIO;
	}
	n = get_le16(c + 2);
	if (!memcmp(c, "ri", 2)) {
		if (nested) {
			if (w)
				key_bad(w, PR_REGF_2_REF, list,
					"index root inside an index root", 0);
			return -EIO;
		}
		if (4 + (uint64_t)n * 4 > sz) {
			if (w)
				key_bad(w, PR_REGF_2_REF, list,
					"index root count exceeds its cell", n);
			return -EIO;
		}
		for (uint32_t i = 0; i < n; i++) {
			int r = collect(h, w, get_le32(c + 4 + 4 * i), out, cap,
					nr, true);

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
			key_bad(w, PR_REGF_2_REF, list,
				"subkey list signature is not li/lf/lh/ri",
				get_le16(c));
		return -EIO;
	}
	if (4 + (uint64_t)n * es > sz) {
		if (w)
			key_bad(w, PR_REGF_2_REF, list,
				"subkey list count exceeds its cell", n);
		return -EIO;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = get_le32(c + 4 + es * i), ksz;
		const uint8_t *nk = bsw_regf_cell(h, k, &ksz);

		if (!nk || ksz < 76 || memcmp(nk, "nk", 2) ||
		    76u + get_le16(nk + 72) > ksz) {
			if (w)
				key_bad(w, PR_REGF_2_REF, k,
					"subkey list entry is not an allocated nk cell",
					i);
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

			bsw_regf_name(a + 76, get_le16(a + 72),
				      get_le16(a + 2) & BSW_NK_COMP_NAME, n1, sizeof(n1));
			bsw_regf_name(b + 76, get_le16(b + 72),
				      get_le16(b + 2) & BSW_NK_COMP_NAME, n2, sizeof(n2));
			snprintf(pair, sizeof(pair), "\"%s\" and \"%s\"", n1, n2);
			key_path(w, path, sizeof(path));
			bsw_report(w->h->fx, PR_REGF_2_ORDER, &(struct bsw_fctx){
				   .cell = v[i], .str = pair, .str2 = path });
			return;
		}
	}
}

static int subkeys(const struct bsw_hive *h, struct walk *w, uint32_t k,
		   const uint8_t *nk, uint32_t **out, uint32_t *nr)
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
				"number of subkeys differs from the subkey lists",
				n);
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

/* The security cells form one ring (spec: Key security, notes 2-4). */
static void check_sk(struct walk *w)
{
	struct bsw_hive *h = w->h;
	uint64_t *ring;
	uint32_t start = 0, cur, steps = 0;

	for (size_t i = 0; i < w->sk_cap; i++) {
		uint32_t sz;
		const uint8_t *sk;

		if (!w->sk[i].off)
			continue;
		sk = bsw_regf_cell(h, w->sk[i].off, &sz);
		if (!start)
			start = w->sk[i].off;
		/* A lower count lets Windows free a descriptor still in use. */
		if (sk && get_le32(sk + 12) < w->sk[i].refs)
			bad(h, PR_REGF_2_SK, (struct bsw_fctx){ .cell = w->sk[i].off,
			    .str = "reference count is lower than the keys using it",
			    .n = get_le32(sk + 12), .n2 = w->sk[i].refs });
	}
	if (!start)
		return;
	ring = calloc((h->bins / 8 + 63) / 64 + 1, sizeof(*ring));
	if (!ring) {
		w->oom = true;
		return;
	}
	cur = start;
	do {
		uint32_t sz, nsz, next;
		const uint8_t *sk = bsw_regf_cell(h, cur, &sz), *nx;

		bsw_regf_setbit(ring, cur);
		next = get_le32(sk + 4);
		nx = bsw_regf_cell(h, next, &nsz);
		if (!nx || nsz < 20 || memcmp(nx, "sk", 2)) {
			bad(h, PR_REGF_2_SK, (struct bsw_fctx){ .cell = cur,
			    .str = "flink is not an allocated sk cell",
			    .n = next, .n2 = 0 });
			break;
		}
		if (get_le32(nx + 8) != cur) {
			bad(h, PR_REGF_2_SK, (struct bsw_fctx){ .cell = next,
			    .str = "blink does not point back at the previous cell",
			    .n = get_le32(nx + 8), .n2 = cur });
			break;
		}
		if (next != start && bsw_regf_bit(ring, next)) {
			bad(h, PR_REGF_2_SK, (struct bsw_fctx){ .cell = next,
			    .str = "ring loops without returning to its start",
			    .n = next, .n2 = start });
			break;
		}
		cur = next;
	} while (cur != start && ++steps < h->bins / 8);
	/* Every referenced sk must be on the ring. */
	for (size_t i = 0; i < w->sk_cap; i++) {
		if (w->sk[i].off && !bsw_regf_bit(ring, w->sk[i].off) &&
		    cur == start) {
			bad(h, PR_REGF_2_SK, (struct bsw_fctx){ .cell = w->sk[i].off,
			    .str = "security cell is not on the ring",
			    .n = w->sk[i].refs, .n2 = 0 });
			break;
		}
	}
	free(ring);
}

static void verify_tree(struct bsw_hive *h)
{
	struct walk w = { .h = h };
	struct frame *st;
	uint32_t sz;
	const uint8_t *nk = bsw_regf_cell(h, h->root, &sz);

	if (!nk || sz < 76 || memcmp(nk, "nk", 2) || 76u + get_le16(nk + 72) > sz) {
		bad(h, PR_REGF_2_ROOT, (struct bsw_fctx){ .cell = h->root,
		    .str = "root cell is not an allocated key node" });
		h->root = 0;
		return;
	}
	if (!(get_le16(nk + 2) & BSW_NK_HIVE_ENTRY))
		bsw_report(h->fx, PR_REGF_2_ROOT_FLAG,
			   &(struct bsw_fctx){ .cell = h->root });
	st = calloc(BSW_MAX_REGF_DEPTH + 1, sizeof(*st));
	w.stack_nk = calloc(BSW_MAX_REGF_DEPTH + 1, sizeof(uint32_t));
	if (!st || !w.stack_nk) {
		free(st);
		free(w.stack_nk);
		return;
	}
	memset(h->seen, 0, ((h->bins / 8 + 63) / 64 + 1) * sizeof(uint64_t));
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
			bad(h, PR_REGF_2_CAP, (struct bsw_fctx){
			    .str = "number of keys", .n = BSW_MAX_REGF_KEYS });
			break;
		}
		if (w.depth >= BSW_MAX_REGF_DEPTH) {
			bad(h, PR_REGF_2_CAP, (struct bsw_fctx){
			    .str = "key depth", .n = BSW_MAX_REGF_DEPTH });
			continue;
		}
		nk = bsw_regf_cell(h, k, &sz);	/* collect() checked it */
		w.stack_nk[w.depth] = k;
		st[w.depth] = (struct frame){ .nk = k };
		w.depth++;
		check_key_fields(&w, k, nk, sz, f->nk);
		if (subkeys(h, &w, k, nk, &st[w.depth - 1].kids,
			    &st[w.depth - 1].n) == -ENOMEM)
			w.oom = true;
	}
	while (w.depth)
		free(st[--w.depth].kids);
	if (!w.oom)
		check_sk(&w);
	free(st);
	free(w.stack_nk);
	free(w.sk);
}

int bsw_regf_verify(struct bsw_hive *h)
{
	uint32_t bins = get_le32(h->buf + 40);
	size_t words;

	if ((uint64_t)BSW_REGF_BASE_SIZE + bins > h->len)
		bins = (uint32_t)(h->len - BSW_REGF_BASE_SIZE);
	bins &= ~4095u;
	words = (bins / 8 + 63) / 64 + 1;
	free(h->alloc);
	free(h->seen);
	h->alloc = calloc(words, sizeof(uint64_t));
	h->seen = calloc(words, sizeof(uint64_t));
	if (!h->alloc || !h->seen)
		return -ENOMEM;
	h->minor = get_le32(h->buf + 24);
	h->root = get_le32(h->buf + 36);
	h->bins = 0;
	verify_bins(h, bins);
	verify_tree(h);
	return 0;
}

/* ---- base block checks and load (spec: Base block; Dirty state) ---- */

static void base_bad(struct bsw_hive *h, const char *field, uint32_t v,
		     const char *want)
{
	bad(h, PR_REGF_0_BASE_BAD, (struct bsw_fctx){ .str = field, .n = v,
	    .str2 = want });
}

/* Fields that make the hive unusable when wrong; returns false if any. */
static bool check_base(struct bsw_hive *h, const struct bsw_regf_base *b,
		       size_t len)
{
	bool ok = true;

	if (b->major != 1) {
		base_bad(h, "major version", b->major, "expected 1");
		ok = false;
	}
	if (b->minor < 3 || b->minor > 6) {
		if (b->minor < 1 || b->minor > 6) {
			base_bad(h, "minor version", b->minor, "expected 3 to 6");
			ok = false;
		} else {
			bsw_report(h->fx, PR_REGF_0_BASE_ODD, &(struct bsw_fctx){
				   .str = "minor version", .n = b->minor,
				   .str2 = "NT 3.x format" });
		}
	}
	if (b->type != 0) {
		base_bad(h, "file type", b->type,
			 b->type == 1 || b->type == 2 || b->type == 6 ?
			 "this is a transaction log, not a primary file" :
			 "expected 0 (primary file)");
		ok = false;
	}
	if (b->format != 1) {
		base_bad(h, "file format", b->format, "expected 1 (direct memory load)");
		ok = false;
	}
	if (!b->bins || (b->bins & 4095) || b->bins > BSW_MAX_REGF_BINS) {
		base_bad(h, "hive bins data size", b->bins,
			 "must be a non-zero multiple of 4096 within the cap");
		ok = false;
	} else if (b->root >= b->bins || (b->root & 7)) {
		base_bad(h, "root cell offset", b->root,
			 "must be 8-aligned inside the hive bins data");
		ok = false;
	}
	if (b->cluster != 1)
		bsw_report(h->fx, PR_REGF_0_BASE_ODD, &(struct bsw_fctx){
			   .str = "clustering factor", .n = b->cluster,
			   .str2 = "expected 1" });
	(void)len;
	return ok;
}

const char *bsw_hive_state_name(enum bsw_hive_state s)
{
	switch (s) {
	case BSW_HIVE_CLEAN: return "clean";
	case BSW_HIVE_RECOVERED: return "dirty and recovered";
	case BSW_HIVE_UNRECOVERABLE: return "unrecoverable";
	case BSW_HIVE_CORRUPT: return "corrupt";
	case BSW_HIVE_NOT_A_HIVE: return "not a hive";
	}
	return "?";
}

static int hive_load(struct bsw_hive **out, const uint8_t *primary,
		     uint8_t *own, size_t len, const struct bsw_buf *logs,
		     unsigned nr_logs, enum bsw_verdict verdict_if_bad,
		     struct bsw_fx *fx);

int bsw_hive_load(struct bsw_hive **out, const uint8_t *primary, size_t len,
		  const struct bsw_buf *logs, unsigned nr_logs,
		  enum bsw_verdict verdict_if_bad, struct bsw_fx *fx)
{
	return hive_load(out, primary, NULL, len, logs, nr_logs,
			 verdict_if_bad, fx);
}

int bsw_hive_load_take(struct bsw_hive **out, uint8_t *primary, size_t len,
		       const struct bsw_buf *logs, unsigned nr_logs,
		       enum bsw_verdict verdict_if_bad, struct bsw_fx *fx)
{
	return hive_load(out, primary, primary, len, logs, nr_logs,
			 verdict_if_bad, fx);
}

/* own: primary's buffer (malloc) when the hive may keep it, else NULL. */
static int hive_load(struct bsw_hive **out, const uint8_t *primary,
		     uint8_t *own, size_t len, const struct bsw_buf *logs,
		     unsigned nr_logs, enum bsw_verdict verdict_if_bad,
		     struct bsw_fx *fx)
{
	struct bsw_hive *h = calloc(1, sizeof(*h));
	struct bsw_regf_base b;
	size_t want;
	bool base_ok;
	char why[96];

	*out = NULL;
	if (!h) {
		free(own);
		return -ENOMEM;
	}
	h->vib = verdict_if_bad;
	h->fx = fx;
	*out = h;
	if (len >= 4 && !memcmp(primary, "CREG", 4)) {
		bad(h, PR_REGF_0_CREG, (struct bsw_fctx){ 0 });
		h->state = BSW_HIVE_NOT_A_HIVE;
		free(own);
		return 0;
	}
	if (len < 4 || memcmp(primary, "regf", 4)) {
		bad(h, PR_REGF_0_NOT_HIVE, (struct bsw_fctx){
		    .str = "no \"regf\" signature" });
		h->state = BSW_HIVE_NOT_A_HIVE;
		free(own);
		return 0;
	}
	if (len < BSW_REGF_BASE_SIZE) {
		bad(h, PR_REGF_0_TRUNC, (struct bsw_fctx){
		    .n = BSW_REGF_BASE_SIZE, .n2 = (int64_t)len });
		h->state = BSW_HIVE_CORRUPT;
		free(own);
		return 0;
	}
	bsw_regf_parse_base(primary, len, &b);
	/* The copy: base block + hive bins data as the base block says. */
	want = len & ~(size_t)4095;
	if (b.sum_ok && b.bins && !(b.bins & 4095) && b.bins <= BSW_MAX_REGF_BINS)
		want = BSW_REGF_BASE_SIZE + (size_t)b.bins;
	if (want > BSW_REGF_BASE_SIZE + (size_t)BSW_MAX_REGF_BINS)
		want = BSW_REGF_BASE_SIZE + (size_t)BSW_MAX_REGF_BINS;
	if (own && want <= len) {
		h->buf = own;		/* the file image is the hive's copy */
		own = NULL;
	} else {
		h->buf = bsw_alloc_aligned(want);
		if (!h->buf) {
			free(own);
			free(h);
			*out = NULL;
			return -ENOMEM;
		}
		memcpy(h->buf, primary, want < len ? want : len);
		if (want > len)
			memset(h->buf + len, 0, want - len);
		free(own);
		own = NULL;
		primary = h->buf;	/* same base block; own may be gone */
	}
	h->len = want;
	h->ktm = b.flags & 1;

	h->dirty = !b.sum_ok || b.seq1 != b.seq2;
	if (h->dirty) {
		int r;

		if (!b.sum_ok)
			snprintf(why, sizeof(why), "base block checksum 0x%x, expected 0x%x",
				 b.checksum, bsw_regf_checksum(primary));
		else
			snprintf(why, sizeof(why), "sequence numbers %u and %u differ",
				 b.seq1, b.seq2);
		r = bsw_regf_replay(h, &b, logs, nr_logs, why);
		if (r < 0)
			goto nomem;
		h->state = r ? BSW_HIVE_RECOVERED : BSW_HIVE_UNRECOVERABLE;
		bsw_regf_parse_base(h->buf, h->len, &b);
		h->ktm = b.flags & 1;
	} else {
		h->state = BSW_HIVE_CLEAN;
	}
	base_ok = check_base(h, &b, len);
	if (!h->dirty && BSW_REGF_BASE_SIZE + (uint64_t)b.bins > len &&
	    b.bins <= BSW_MAX_REGF_BINS)
		bad(h, PR_REGF_0_TRUNC, (struct bsw_fctx){
		    .n = BSW_REGF_BASE_SIZE + (int64_t)b.bins, .n2 = (int64_t)len });
	if (h->ktm)
		bsw_report(fx, PR_REGF_0_KTM, &(struct bsw_fctx){ 0 });
	if (base_ok && bsw_regf_verify(h) == -ENOMEM)
		goto nomem;
	if (h->corrupt && h->state != BSW_HIVE_UNRECOVERABLE)
		h->state = BSW_HIVE_CORRUPT;
	return 0;
nomem:
	bsw_hive_free(h);
	*out = NULL;
	return -ENOMEM;
}

void bsw_hive_free(struct bsw_hive *h)
{
	if (!h)
		return;
	free(h->buf);
	free(h->alloc);
	free(h->seen);
	for (unsigned i = 0; i < BSW_REGF_KIDX_NR; i++)
		free(h->kidx[i].slot);
	free(h);
}

enum bsw_hive_state bsw_hive_state(const struct bsw_hive *h)
{
	return h->state;
}

const uint8_t *bsw_hive_data(const struct bsw_hive *h, size_t *len)
{
	*len = h->len;
	return h->buf;
}

bool bsw_hive_ktm_pending(const struct bsw_hive *h)
{
	return h->ktm;
}
