/*
 * .reg export with bootsweep's own reader (see regf_export.h).  Keys and
 * values are sorted by their UTF-8 names (strcmp) so that the output does
 * not depend on list order; the walk is bounded by BSW_MAX_REGF_DEPTH and
 * the verifier's caps and skips keys already visited.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/vec.h"
#include "formats/regf/regf_export.h"
#include "formats/regf/regf_int.h"

void bsw_sbuf_free(struct bsw_sbuf *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

void bsw_sbuf_add(struct bsw_sbuf *s, const char *t, size_t n)
{
	if (s->err)
		return;
	/* no cap: the text is bounded by the hive, itself capped */
	if (bsw_vec_reserve(&s->p, &s->cap, s->len + n + 1, 1, 0)) {
		s->err = -ENOMEM;
		return;
	}
	memcpy(s->p + s->len, t, n);
	s->len += n;
	s->p[s->len] = 0;
}

void bsw_sbuf_printf(struct bsw_sbuf *s, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		bsw_sbuf_add(s, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void bsw_regf_emit_header(struct bsw_sbuf *s)
{
	bsw_sbuf_printf(s, "Windows Registry Editor Version 5.00\n\n");
}

/*
 * A name's bytes; a NUL kept in it (C0 80, regf.h) is written as the four
 * characters \x00, since .reg has no notation for it and dropping it would
 * show a hidden key under the name of its prefix.
 */
static void add_name_bytes(struct bsw_sbuf *s, const char *name, bool escape)
{
	for (const char *c = name; *c; c++) {
		if ((unsigned char)c[0] == 0xC0 && (unsigned char)c[1] == 0x80) {
			bsw_sbuf_add(s, "\\x00", 4);
			c++;
			continue;
		}
		if (escape && (*c == '"' || *c == '\\'))
			bsw_sbuf_add(s, "\\", 1);
		bsw_sbuf_add(s, c, 1);
	}
}

void bsw_regf_emit_key(struct bsw_sbuf *s, const char *path)
{
	bsw_sbuf_add(s, "[", 1);
	add_name_bytes(s, path, false);
	bsw_sbuf_add(s, "]\n", 2);
}

/* Value names: '"' and '\' escaped with a backslash, as regedit does. */
static void emit_name(struct bsw_sbuf *s, const char *name)
{
	if (!*name) {
		bsw_sbuf_add(s, "@=", 2);
		return;
	}
	bsw_sbuf_add(s, "\"", 1);
	add_name_bytes(s, name, true);
	bsw_sbuf_add(s, "\"=", 2);
}

void bsw_regf_emit_value(struct bsw_sbuf *s, const char *name, uint32_t type, const uint8_t *data,
			 size_t len)
{
	static const char hx[] = "0123456789abcdef";

	emit_name(s, name);
	if (type == BSW_REG_DWORD && len == 4) {
		bsw_sbuf_printf(s, "dword:%08x\n", get_le32(data));
		return;
	}
	if (type == BSW_REG_BINARY)
		bsw_sbuf_add(s, "hex:", 4);
	else
		bsw_sbuf_printf(s, "hex(%x):", type);
	for (size_t i = 0; i < len; i++) {
		char t[3] = { hx[data[i] >> 4], hx[data[i] & 15], ',' };

		bsw_sbuf_add(s, t, i + 1 < len ? 3 : 2);
	}
	bsw_sbuf_add(s, "\n", 1);
}

struct named {
	char *name;
	uint32_t off;
	struct bsw_hval v;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->off > y->off) - (x->off < y->off);
}

struct vec {
	struct named *a;
	size_t n, cap;
	int err;
};

/* Keys and values of one key: the verifier refuses longer lists. */
#define MAX_NAMED                                                                                  \
	(BSW_MAX_REGF_SUBKEYS > BSW_MAX_REGF_VALUES ? BSW_MAX_REGF_SUBKEYS : BSW_MAX_REGF_VALUES)

static int push(struct vec *v, uint32_t off, const char *name, const struct bsw_hval *val)
{
	if (bsw_vec_reserve(&v->a, &v->cap, v->n + 1, sizeof(*v->a), MAX_NAMED))
		return v->err = -ENOMEM;
	v->a[v->n].name = strdup(name);
	v->a[v->n].off = off;
	memset(&v->a[v->n].v, 0, sizeof(struct bsw_hval));
	if (!v->a[v->n].name)
		return v->err = -ENOMEM;
	if (val) {
		v->a[v->n].v.type = val->type;
		v->a[v->n].v.len = val->len;
		v->a[v->n].v.data = malloc(val->len + 1);
		if (!v->a[v->n].v.data) {
			free(v->a[v->n].name);
			return v->err = -ENOMEM;
		}
		memcpy(v->a[v->n].v.data, val->data, val->len);
	}
	v->n++;
	return 0;
}

static void vec_free(struct vec *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->a[i].name);
		bsw_hval_free(&v->a[i].v);
	}
	free(v->a);
	memset(v, 0, sizeof(*v));
}

static int key_cb(void *arg, bsw_hkey k, const char *name)
{
	return push(arg, k, name, NULL);
}

static int val_cb(void *arg, const char *name, const struct bsw_hval *v)
{
	return push(arg, 0, name, v);
}

static int export_key(struct bsw_hive *h, bsw_hkey k, char *path, size_t plen, unsigned depth,
		      struct bsw_sbuf *out)
{
	struct vec vals = { 0 }, kids = { 0 };
	size_t l = strlen(path);
	int rc;

	if (depth > BSW_MAX_REGF_DEPTH || bsw_regf_bit(h->seen, k))
		return 0;
	bsw_regf_setbit(h->seen, k);
	bsw_regf_emit_key(out, l ? path : "\\");
	rc = bsw_hive_values(h, k, val_cb, &vals);
	if (rc == -ENOMEM || vals.err) {
		vec_free(&vals);
		return -ENOMEM;
	}
	if (vals.n > 1)
		qsort(vals.a, vals.n, sizeof(*vals.a), cmp_named);
	for (size_t i = 0; i < vals.n; i++)
		bsw_regf_emit_value(out, vals.a[i].name, vals.a[i].v.type, vals.a[i].v.data,
				    vals.a[i].v.len);
	bsw_sbuf_add(out, "\n", 1);
	vec_free(&vals);
	rc = bsw_hive_subkeys(h, k, key_cb, &kids);
	if (rc == -ENOMEM || kids.err) {
		vec_free(&kids);
		return -ENOMEM;
	}
	if (kids.n > 1)
		qsort(kids.a, kids.n, sizeof(*kids.a), cmp_named);
	for (size_t i = 0; i < kids.n && !out->err; i++) {
		size_t nl = strlen(kids.a[i].name);

		if (l + 1 + nl + 1 > plen)
			continue; /* path too long to print: skipped */
		path[l] = '\\';
		memcpy(path + l + 1, kids.a[i].name, nl + 1);
		rc = export_key(h, kids.a[i].off, path, plen, depth + 1, out);
		path[l] = 0;
		if (rc)
			break;
	}
	vec_free(&kids);
	return rc ? rc : out->err;
}

int bsw_regf_export(struct bsw_hive *h, struct bsw_sbuf *out)
{
	bsw_hkey root = bsw_hive_root(h);
	char *path;
	int rc;

	if (!root)
		return -EIO;
	path = malloc(65536);
	if (!path)
		return -ENOMEM;
	path[0] = 0;
	memset(h->seen, 0, bsw_regf_words(h->bins) * sizeof(uint64_t));
	bsw_regf_emit_header(out);
	rc = export_key(h, root, path, 65536, 0, out);
	free(path);
	return rc;
}
