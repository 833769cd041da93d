/*
 * WinSxS documents with expat.  Namespace prefixes are ignored (elements are
 * matched on their local name), which is how the shipped manifests mix the
 * asm.v3, asmv2 and xmldsig vocabularies (WINDOWS-EVIDENCE.md 5).  Every
 * document is capped in bytes and elements; a cap stops the parser.
 */
#include <errno.h>
#include <expat.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/common/bytes.h"
#include "formats/common/vec.h"
#include "formats/sxs/sxs.h"

enum bsw_sxs_kind bsw_sxs_kind(const uint8_t *d, size_t len)
{
	size_t i = 0;

	if (!len)
		return BSW_SXS_EMPTY;
	if (len >= 4 && !memcmp(d, "DCM\x01", 4))
		return BSW_SXS_DCM;
	if (bsw_sxs_container_sig(d, len))
		return BSW_SXS_OTHER_DC;
	if (len >= 2 && ((d[0] == 0xFF && d[1] == 0xFE) || (d[0] == 0xFE && d[1] == 0xFF)))
		return BSW_SXS_XML;
	if (len >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF)
		i = 3;
	while (i < len && i < 4096 && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	return i < len && d[i] == '<' ? BSW_SXS_XML : BSW_SXS_UNKNOWN;
}

const char *bsw_sxs_container_sig(const uint8_t *d, size_t len)
{
	static const char *sigs[] = { "DCN", "DCM", "DCS", "DCD", "DCH", "DCX" };
	unsigned i;

	if (len < 4 || d[3] != 0x01)
		return NULL;
	for (i = 0; i < BSW_ARRAY_SIZE(sigs); i++)
		if (!memcmp(d, sigs[i], 3))
			return sigs[i];
	return NULL;
}

static const char *local(const char *n)
{
	const char *c = strrchr(n, ':');

	return c ? c + 1 : n;
}

static const char *attr(const char **a, const char *name)
{
	for (; a && a[0]; a += 2)
		if (!strcasecmp(local(a[0]), name))
			return a[1];
	return NULL;
}

static void cpy(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s ? s : "");
}

int bsw_base64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i], v;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=')
			break;
		else if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		else
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -EINVAL;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (int)o;
}

/*
 * Common parser driver: caps elements, tracks the depth, runs one buffer.
 * Each parser's context starts with its struct xp, so the handlers' user
 * data is also the struct xp.
 */
struct xp {
	XML_Parser p;
	unsigned elems;
	int depth; /* of the element open now (the root is 1) */
	bool capped;
};

/* At every start tag: false (the parser stopped) past the element cap. */
static bool enter_elem(struct xp *x)
{
	x->depth++;
	if (++x->elems > BSW_MAX_SXS_ELEMS) {
		x->capped = true;
		XML_StopParser(x->p, XML_FALSE);
		return false;
	}
	return true;
}

/* At every end tag (an end handler itself, or called last by one). */
static void leave_elem(void *ud, const char *el)
{
	struct xp *x = ud;

	x->depth--;
}

/*
 * Parse the document d with one expat parser: ud is the handlers'
 * context, x the struct xp inside it (its parser is set while this runs);
 * text may be NULL.  0, -ENOMEM, or -EINVAL with *why.
 */
static int run(struct xp *x, void *ud, XML_StartElementHandler start, XML_EndElementHandler end,
	       XML_CharacterDataHandler text, const uint8_t *d, size_t len, const char **why)
{
	int r = 0;

	if (len > BSW_MAX_SXS_XML) {
		*why = "document larger than the parser's cap";
		return -EINVAL;
	}
	x->p = XML_ParserCreate(NULL);
	if (!x->p)
		return -ENOMEM;
	XML_SetUserData(x->p, ud);
	XML_SetElementHandler(x->p, start, end);
	if (text)
		XML_SetCharacterDataHandler(x->p, text);
	if (XML_Parse(x->p, (const char *)d, (int)len, XML_TRUE) == XML_STATUS_ERROR) {
		*why = x->capped ? "too many elements" : XML_ErrorString(XML_GetErrorCode(x->p));
		r = -EINVAL;
	}
	XML_ParserFree(x->p);
	x->p = NULL;
	return r;
}

/* run() for pending.xml and Sessions.xml, which are plain XML or nothing. */
static int run_plain(struct xp *x, void *ud, XML_StartElementHandler start,
		     XML_EndElementHandler end, const uint8_t *d, size_t len, const char **why)
{
	*why = "";
	if (bsw_sxs_kind(d, len) != BSW_SXS_XML) {
		*why = len ? "not XML" : "empty file";
		return -EINVAL;
	}
	return run(x, ud, start, end, NULL, d, len, why);
}

/* ---- manifests ---- */

struct mctx {
	struct xp x;
	struct bsw_sxs_manifest *m;
	int file_depth; /* depth of the open <file>, -1 if none */
	bool in_digest, identity_done;
	char text[128];
	size_t text_len;
	bool text_over;
	size_t alloc; /* files[] allocated */
};
_Static_assert(offsetof(struct mctx, x) == 0, "user data is the struct xp");

static void m_start(void *ud, const char *el, const char **a)
{
	struct mctx *c = ud;
	const char *n = local(el);

	if (!enter_elem(&c->x))
		return;
	/* the manifest's own identity is the first assemblyIdentity at depth 2
	 * (dependencies carry their own, deeper down) */
	if (!strcmp(n, "assemblyIdentity") && !c->identity_done && c->x.depth == 2) {
		cpy(c->m->name, sizeof(c->m->name), attr(a, "name"));
		cpy(c->m->version, sizeof(c->m->version), attr(a, "version"));
		cpy(c->m->arch, sizeof(c->m->arch), attr(a, "processorArchitecture"));
		cpy(c->m->language, sizeof(c->m->language), attr(a, "language"));
		cpy(c->m->token, sizeof(c->m->token), attr(a, "publicKeyToken"));
		c->identity_done = true;
	} else if (!strcmp(n, "file") && c->file_depth < 0) {
		struct bsw_sxs_file *f;

		c->m->nr_files_seen++;
		if (c->m->nr_files >= BSW_MAX_SXS_FILES)
			return;
		if (bsw_vec_reserve(&c->m->files, &c->alloc, c->m->nr_files + 1,
				    sizeof(*c->m->files), BSW_MAX_SXS_FILES)) {
			XML_StopParser(c->x.p, XML_FALSE);
			return;
		}
		f = &c->m->files[c->m->nr_files++];
		memset(f, 0, sizeof(*f));
		cpy(f->name, sizeof(f->name), attr(a, "name"));
		cpy(f->dest, sizeof(f->dest), attr(a, "destinationPath"));
		c->file_depth = c->x.depth;
	} else if (c->file_depth >= 0 && c->m->nr_files) {
		struct bsw_sxs_file *f = &c->m->files[c->m->nr_files - 1];

		if (!strcmp(n, "DigestMethod")) {
			const char *alg = attr(a, "Algorithm");

			if (alg && strstr(alg, "sha256"))
				f->alg = BSW_SXS_ALG_SHA256;
			else if (alg && strstr(alg, "sha1"))
				f->alg = BSW_SXS_ALG_SHA1;
		} else if (!strcmp(n, "DigestValue")) {
			c->in_digest = true;
			c->text_len = 0;
			c->text_over = false;
		}
	}
}

static void m_end(void *ud, const char *el)
{
	struct mctx *c = ud;
	const char *n = local(el);

	if (c->in_digest && !strcmp(n, "DigestValue") && c->m->nr_files) {
		struct bsw_sxs_file *f = &c->m->files[c->m->nr_files - 1];
		int r = c->text_over ? -EINVAL :
				       bsw_base64_decode(c->text, c->text_len, f->digest,
							 sizeof(f->digest));

		f->digest_len = r > 0 ? (unsigned)r : 0;
		c->in_digest = false;
	}
	if (c->file_depth == c->x.depth)
		c->file_depth = -1;
	leave_elem(ud, el);
}

static void m_text(void *ud, const char *s, int len)
{
	struct mctx *c = ud;

	if (!c->in_digest || len <= 0)
		return;
	if (c->text_len + (size_t)len >= sizeof(c->text)) {
		c->text_over = true;
		return;
	}
	memcpy(c->text + c->text_len, s, (size_t)len);
	c->text_len += (size_t)len;
}

void bsw_sxs_manifest_free(struct bsw_sxs_manifest *m)
{
	if (!m)
		return;
	free(m->files);
	free(m);
}

int bsw_sxs_parse_manifest(const uint8_t *d, size_t len, struct bsw_sxs_manifest **out,
			   const char **why)
{
	struct mctx c = { 0 };
	int r;

	*out = NULL;
	*why = "";
	switch (bsw_sxs_kind(d, len)) {
	case BSW_SXS_XML: break;
	case BSW_SXS_DCM:
	case BSW_SXS_OTHER_DC: *why = "compressed manifest"; return -EPROTO;
	case BSW_SXS_EMPTY: *why = "empty file"; return -EINVAL;
	default: *why = "not XML"; return -EINVAL;
	}
	c.m = calloc(1, sizeof(*c.m));
	if (!c.m)
		return -ENOMEM;
	c.file_depth = -1;
	r = run(&c.x, &c, m_start, m_end, m_text, d, len, why);
	if (r) {
		bsw_sxs_manifest_free(c.m);
		return r;
	}
	if (!c.identity_done) {
		*why = "no assemblyIdentity";
		bsw_sxs_manifest_free(c.m);
		return -EINVAL;
	}
	*out = c.m;
	return 0;
}

int bsw_sxs_expand(const char *dest, const char *name, char *out, size_t len)
{
	static const struct {
		const char *var, *path;
	} vars[] = {
		{ "$(runtime.system32)", "\\Windows\\System32" },
		{ "$(runtime.drivers)", "\\Windows\\System32\\drivers" },
		{ "$(runtime.wbem)", "\\Windows\\System32\\wbem" },
		{ "$(runtime.windows)", "\\Windows" },
		{ "$(runtime.fonts)", "\\Windows\\Fonts" },
		{ "$(runtime.inf)", "\\Windows\\INF" },
		{ "$(runtime.help)", "\\Windows\\Help" },
		{ "$(runtime.programfiles)", "\\Program Files" },
		{ "$(runtime.bootdrive)", "" },
		{ "$(runtime.systemdrive)", "" },
	};
	const char *rest = NULL, *base = NULL;
	unsigned i;
	int n;

	if (!dest || !dest[0])
		return -ENOENT; /* not projected outside WinSxS */
	for (i = 0; i < BSW_ARRAY_SIZE(vars); i++) {
		size_t vl = strlen(vars[i].var);

		if (!strncasecmp(dest, vars[i].var, vl)) {
			base = vars[i].path;
			rest = dest + vl;
			break;
		}
	}
	if (!base)
		return -ENOENT;
	while (*rest == '\\')
		rest++;
	n = snprintf(out, len, "%s%s%s%s%s", base, *rest ? "\\" : "", rest,
		     (*rest && rest[strlen(rest) - 1] == '\\') ? "" : "\\", name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	/* no ".." escapes and no empty names */
	if (strstr(out, "\\..\\") || !name[0])
		return -ENOENT;
	return 0;
}

bool bsw_sxs_folder_parse(const char *s, struct bsw_sxs_folder *f)
{
	/* the name part may itself hold '_': split three from the right and
	 * one from the left */
	const char *p[5];
	const char *e = s + strlen(s), *q;
	int i;

	memset(f, 0, sizeof(*f));
	q = strchr(s, '_');
	if (!q)
		return false;
	p[0] = q;
	for (i = 4, q = e; i >= 1; i--) {
		while (q > p[0] && q[-1] != '_')
			q--;
		if (q <= p[0] + 1)
			return false;
		p[i] = q - 1;
		q--;
	}
	/* p[0]: after arch; p[1]: after name; p[2]: token; p[3]: version; p[4]: lang */
	if ((size_t)(p[0] - s) >= sizeof(f->arch) || (size_t)(p[1] - p[0] - 1) >= sizeof(f->name) ||
	    (size_t)(p[2] - p[1] - 1) >= sizeof(f->token) ||
	    (size_t)(p[3] - p[2] - 1) >= sizeof(f->version) ||
	    (size_t)(p[4] - p[3] - 1) >= sizeof(f->lang) ||
	    (size_t)(e - p[4] - 1) >= sizeof(f->hash))
		return false;
	memcpy(f->arch, s, p[0] - s);
	memcpy(f->name, p[0] + 1, p[1] - p[0] - 1);
	memcpy(f->token, p[1] + 1, p[2] - p[1] - 1);
	memcpy(f->version, p[2] + 1, p[3] - p[2] - 1);
	memcpy(f->lang, p[3] + 1, p[4] - p[3] - 1);
	memcpy(f->hash, p[4] + 1, e - p[4] - 1);
	return f->arch[0] && f->name[0] && f->version[0] && f->hash[0];
}

/* ---- pending.xml ---- */

struct pctx {
	struct xp x;
	struct bsw_sxs_pending *p;
};
_Static_assert(offsetof(struct pctx, x) == 0, "user data is the struct xp");

static void p_start(void *ud, const char *el, const char **a)
{
	struct pctx *c = ud;
	const char *n = local(el);

	if (!enter_elem(&c->x))
		return;
	if (c->x.depth == 1 && !strcmp(n, "PendingTransaction")) {
		c->p->transaction = true;
		cpy(c->p->identifier, sizeof(c->p->identifier), attr(a, "Identifier"));
	} else if (c->x.depth == 3) {
		c->p->nr_actions++;
	}
}

int bsw_sxs_parse_pending(const uint8_t *d, size_t len, struct bsw_sxs_pending *p, const char **why)
{
	struct pctx c = { 0 };
	int r;

	memset(p, 0, sizeof(*p));
	c.p = p;
	r = run_plain(&c.x, &c, p_start, leave_elem, d, len, why);
	if (!r && !p->transaction) {
		*why = "no PendingTransaction root";
		r = -EINVAL;
	}
	return r;
}

/* ---- Sessions.xml ---- */

struct sctx {
	struct xp x;
	struct bsw_sxs_sessions *s;
};
_Static_assert(offsetof(struct sctx, x) == 0, "user data is the struct xp");

static void s_start(void *ud, const char *el, const char **a)
{
	struct sctx *c = ud;
	const char *v;

	if (!enter_elem(&c->x))
		return;
	if (strcmp(local(el), "Session"))
		return;
	c->s->nr_sessions++;
	cpy(c->s->last_id, sizeof(c->s->last_id), attr(a, "id"));
	v = attr(a, "Complete");
	c->s->last_has_complete = v != NULL;
	cpy(c->s->last_complete, sizeof(c->s->last_complete), v);
	v = attr(a, "Status");
	c->s->last_status_set = v != NULL;
	c->s->last_status = v ? strtoll(v, NULL, 0) : 0;
}

int bsw_sxs_parse_sessions(const uint8_t *d, size_t len, struct bsw_sxs_sessions *s,
			   const char **why)
{
	struct sctx c = { 0 };

	memset(s, 0, sizeof(*s));
	c.s = s;
	return run_plain(&c.x, &c, s_start, leave_elem, d, len, why);
}
