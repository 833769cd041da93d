/*
 * A small JSON reader (RFC 8259) for bootsweep's result files; see json.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/utf8.h"
#include "formats/common/vec.h"
#include "scanner/json.h"
#include "scanner/report.h"

#define MAX_ITEMS (1u << 22) /* members of one array or object */

struct p {
	const char *s, *end;
	const char *err; /* position of the first problem */
};

static void ws(struct p *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static int bad(struct p *p)
{
	if (!p->err)
		p->err = p->s;
	return -EINVAL;
}

static int hex4(const char *s, const char *end, unsigned *v)
{
	*v = 0;
	if (end - s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = s[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*v |= (unsigned)((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	return 0;
}

/* A string at p->s (at the opening quote) into a new buffer. */
static int str(struct p *p, char **out, size_t *olen)
{
	const char *s = ++p->s, *q;
	char *buf, *o;
	size_t n = 0;

	/* find the closing quote first: the output is never longer */
	for (q = s; q < p->end && *q != '"'; q++) {
		if ((unsigned char)*q < 0x20)
			return p->s = q, bad(p);
		if (*q == '\\')
			q++;
	}
	if (q >= p->end)
		return bad(p);
	buf = o = malloc((size_t)(q - s) + 1);
	if (!buf)
		return -ENOMEM;
	while (s < q) {
		unsigned c, d;

		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (hex4(s, q, &c))
				goto fail;
			s += 4;
			if (c == 0) {
				*o++ = (char)0xC0;
				*o++ = (char)0x80;
			} else if (c >= 0xDC80 && c <= 0xDCFF) {
				*o++ = (char)(c - 0xDC00);
			} else if (c >= 0xD800 && c < 0xDC00 && q - s >= 6 && s[0] == '\\' &&
				   s[1] == 'u' && !hex4(s + 2, q, &d) && d >= 0xDC00 &&
				   d < 0xE000) {
				s += 6;
				o += bsw_utf8_put(o, 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00));
			} else if (c >= 0xD800 && c < 0xE000) {
				goto fail; /* a lone surrogate: no character, no byte */
			} else {
				o += bsw_utf8_put(o, c);
			}
			break;
		default: goto fail;
		}
	}
	*o = 0;
	n = (size_t)(o - buf);
	*out = buf;
	*olen = n;
	p->s = q + 1;
	return 0;
fail:
	free(buf);
	p->s = s;
	return bad(p);
}

int bsw_json_string(const char *s, const char *end, char **out, size_t *len, const char **next)
{
	struct p p = { .s = s, .end = end };
	int r;

	if (s >= end || *s != '"')
		return -EINVAL;
	r = str(&p, out, len);
	if (!r && next)
		*next = p.s;
	return r;
}

static int value(struct p *p, struct bsw_jval *v, unsigned depth);

/* Append item (and key, in an object); cap: items[] and keys[] allocated. */
static int push(struct bsw_jval *v, size_t cap[2], struct bsw_jval *item, char *key)
{
	int r;

	r = bsw_vec_reserve(&v->items, &cap[0], v->len + 1, sizeof(*v->items), MAX_ITEMS);
	if (!r && v->type == BSW_J_OBJ)
		r = bsw_vec_reserve(&v->keys, &cap[1], v->len + 1, sizeof(*v->keys), MAX_ITEMS);
	if (r)
		return r;
	v->items[v->len] = *item;
	if (v->type == BSW_J_OBJ)
		v->keys[v->len] = key;
	v->len++;
	return 0;
}

static int container(struct p *p, struct bsw_jval *v, unsigned depth, bool obj)
{
	char close = obj ? '}' : ']';
	size_t cap[2] = { 0, 0 };
	int r;

	v->type = obj ? BSW_J_OBJ : BSW_J_ARR;
	p->s++;
	ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		return 0;
	}
	for (;;) {
		struct bsw_jval item = { 0 };
		char *key = NULL;
		size_t klen;

		ws(p);
		if (obj) {
			if (p->s >= p->end || *p->s != '"')
				return bad(p);
			r = str(p, &key, &klen);
			if (r)
				return r;
			ws(p);
			if (p->s >= p->end || *p->s != ':') {
				free(key);
				return bad(p);
			}
			p->s++;
		}
		r = value(p, &item, depth + 1);
		if (!r)
			r = push(v, cap, &item, key);
		if (r) {
			free(key);
			bsw_json_free(&item);
			return r;
		}
		ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == close) {
			p->s++;
			return 0;
		}
		return bad(p);
	}
}

static int number(struct p *p, struct bsw_jval *v)
{
	const char *s = p->s;
	char tmp[64];
	size_t n;

	if (s < p->end && *s == '-')
		s++;
	if (s >= p->end || *s < '0' || *s > '9')
		return bad(p);
	if (*s == '0')
		s++;
	else
		while (s < p->end && *s >= '0' && *s <= '9')
			s++;
	if (s < p->end && *s == '.') {
		s++;
		if (s >= p->end || *s < '0' || *s > '9')
			return p->s = s, bad(p);
		while (s < p->end && *s >= '0' && *s <= '9')
			s++;
	}
	if (s < p->end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < p->end && (*s == '+' || *s == '-'))
			s++;
		if (s >= p->end || *s < '0' || *s > '9')
			return p->s = s, bad(p);
		while (s < p->end && *s >= '0' && *s <= '9')
			s++;
	}
	n = (size_t)(s - p->s);
	if (n >= sizeof(tmp))
		return bad(p);
	memcpy(tmp, p->s, n);
	tmp[n] = 0;
	v->type = BSW_J_NUM;
	v->num = strtod(tmp, NULL);
	p->s = s;
	return 0;
}

static int word(struct p *p, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, w, n))
		return bad(p);
	p->s += n;
	return 0;
}

static int value(struct p *p, struct bsw_jval *v, unsigned depth)
{
	memset(v, 0, sizeof(*v));
	if (depth > BSW_JSON_MAX_DEPTH)
		return bad(p);
	ws(p);
	if (p->s >= p->end)
		return bad(p);
	switch (*p->s) {
	case '{': return container(p, v, depth, true);
	case '[': return container(p, v, depth, false);
	case '"': v->type = BSW_J_STR; return str(p, &v->str, &v->len);
	case 't':
		v->type = BSW_J_BOOL;
		v->b = true;
		return word(p, "true");
	case 'f': v->type = BSW_J_BOOL; return word(p, "false");
	case 'n': return word(p, "null");
	default: return number(p, v);
	}
}

int bsw_json_parse(const char *text, size_t len, struct bsw_jval *out, size_t *where)
{
	struct p p = { .s = text, .end = text + len };
	int r = value(&p, out, 0);

	if (!r) {
		ws(&p);
		if (p.s != p.end)
			r = bad(&p);
	}
	if (r) {
		bsw_json_free(out);
		if (where)
			*where = (size_t)((p.err ? p.err : p.s) - text);
	}
	return r;
}

void bsw_json_free(struct bsw_jval *v)
{
	if (!v)
		return;
	if (v->type == BSW_J_ARR || v->type == BSW_J_OBJ) {
		for (size_t i = 0; i < v->len; i++) {
			bsw_json_free(&v->items[i]);
			if (v->keys)
				free(v->keys[i]);
		}
		free(v->items);
		free(v->keys);
	}
	free(v->str);
	memset(v, 0, sizeof(*v));
}

const struct bsw_jval *bsw_jget(const struct bsw_jval *o, const char *key)
{
	if (!o || o->type != BSW_J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->len; i++)
		if (!strcmp(o->keys[i], key))
			return &o->items[i];
	return NULL;
}

const char *bsw_jstr(const struct bsw_jval *o, const char *key, const char *def)
{
	const struct bsw_jval *v = bsw_jget(o, key);

	return v && v->type == BSW_J_STR ? v->str : def;
}

double bsw_jnum(const struct bsw_jval *o, const char *key, double def)
{
	const struct bsw_jval *v = bsw_jget(o, key);

	return v && v->type == BSW_J_NUM && isfinite(v->num) ? v->num : def;
}
