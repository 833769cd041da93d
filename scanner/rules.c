/*
 * Rules (docs/rules.md): rule files read with libyaml, the one-line
 * condition language of `query` and `scan --query`, a bounded glob
 * matcher, and the evaluation of a rule set against an environment
 * (a live disk or a result line) into the "rules" member of a result.
 *
 * A rule file is hostile input like an image: its size, the number of
 * YAML events, the nesting, string and glob lengths and the number of
 * rules and conditions are capped; YAML aliases are refused (a document
 * graph walked repeatedly is a billion-laughs bomb); unknown keys are
 * errors, so a typo never silently widens a rule.  There are no regexes:
 * globs of '*' and '?' are matched in O(pattern x text) without recursion.
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <yaml.h>

#include "formats/common/bytes.h"
#include "formats/common/vec.h"
#include "scanner/cmds.h"
#include "scanner/json.h"
#include "formats/common/finding.h"
#include "scanner/report.h"
#include "scanner/rules.h"

#define MAX_EVIDENCE 16u /* evidence strings of one match */

enum ckind {
	C_FILE,
	C_REG,
	C_PKG,
	C_FINDING,
	C_ANY,
	C_ALL,
	C_RULE,
	C_VERDICT
};

enum regop {
	R_EXISTS,
	R_EQ,
	R_NE,
	R_MIN,
	R_MAX,
	R_VER_MIN,
	R_VER_BELOW,
	R_GLOB
};

struct cond {
	enum ckind kind;
	int exists; /* 1 must exist/match, 0 must not */
	char *glob; /* file path, package identity, code, rule id */
	/* file */
	unsigned need;
	bool has_size_min, has_size_max;
	uint64_t size_min, size_max;
	bool has_sha;
	uint8_t sha[32];
	int all_zero; /* -1 any, 0 not all zero, 1 all zero */
	bool has_ver_min, has_ver_below;
	uint64_t ver_min, ver_below;
	bool has_link_min, has_link_max, has_mtime_min, has_mtime_max;
	int64_t link_min, link_max, mtime_min, mtime_max;
	bool has_age;
	uint32_t age_days;
	/* registry */
	char *hive, *key, *value;
	enum regop op;
	char *sval;
	uint64_t nval;
	/* package */
	uint32_t kb;
	uint32_t states[16];
	unsigned nr_states;
	/* groups */
	struct cond *sub;
	unsigned nr_sub;
};

struct rule {
	char *id, *description, *source, *label, *severity, *verdict;
	struct cond all; /* C_ALL of the rule's conditions */
};

struct bsw_rules {
	struct rule *r;
	size_t nr, alloc;
};

/* The rules of the files, and one more: a --query condition. */
#define MAX_RULES_ALL (BSW_RULES_MAX_RULES + 1u)

/* ---- globs ----------------------------------------------------------------- */

static int fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * The classic two-pointer matcher: on a mismatch after a '*', retry one
 * character later from that star.  Each retry moves the text pointer, so
 * the work is at most |pat| x |s| steps, and there is no recursion.
 */
bool bsw_glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*pat == '*') {
			star = ++pat;
			resume = s;
			continue;
		}
		if (*pat && (*pat == '?' || fold((unsigned char)*pat) == fold((unsigned char)*s))) {
			pat++;
			s++;
			continue;
		}
		if (!star)
			return false;
		pat = star;
		s = ++resume;
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}

/* ---- package states (WINDOWS-EVIDENCE.md 3.2, CbsApi.h CbsState) ----------- */

static const struct {
	uint32_t v;
	const char *name;
} pkg_states[] = {
	{ 0x00, "absent" },	{ 0x05, "uninstall-pending" }, { 0x10, "resolving" },
	{ 0x20, "resolved" },	{ 0x30, "staging" },	       { 0x40, "staged" },
	{ 0x50, "superseded" }, { 0x60, "install-pending" },   { 0x65, "partially-installed" },
	{ 0x70, "installed" },	{ 0x80, "permanent" },
};

const char *bsw_pkg_state_name(uint32_t s)
{
	for (size_t i = 0; i < BSW_ARRAY_SIZE(pkg_states); i++)
		if (pkg_states[i].v == s)
			return pkg_states[i].name;
	/* -32 Resolved, -64 Staged, -112 Installed, -128 Permanent: broken */
	if (s & 0x80000000u)
		return "failed";
	return "unknown";
}

/* A state name (or "failed", any negative state) into *out; -EINVAL. */
static int state_parse(const char *s, uint32_t *out)
{
	for (size_t i = 0; i < BSW_ARRAY_SIZE(pkg_states); i++)
		if (!strcasecmp(s, pkg_states[i].name)) {
			*out = pkg_states[i].v;
			return 0;
		}
	if (!strcasecmp(s, "failed")) {
		*out = 0x80000000u; /* any negative state */
		return 0;
	}
	return -EINVAL;
}

static bool state_in(const struct cond *c, uint32_t st)
{
	if (!c->nr_states)
		return true;
	for (unsigned i = 0; i < c->nr_states; i++) {
		if (c->states[i] == 0x80000000u ? (st & 0x80000000u) != 0 : c->states[i] == st)
			return true;
	}
	return false;
}

/* "KB5034441" as a token of a package identity (not KB50344410). */
static bool has_kb(const char *id, uint32_t kb)
{
	char tok[24];
	size_t n = (size_t)snprintf(tok, sizeof(tok), "kb%" PRIu32, kb);
	const char *p;

	for (p = id; *p; p++) {
		if (strncasecmp(p, tok, n))
			continue;
		if (p > id && isalnum((unsigned char)p[-1]))
			continue;
		if (isdigit((unsigned char)p[n]))
			continue;
		return true;
	}
	return false;
}

/* ---- scalars ------------------------------------------------------------- */

/* "10.0.19041.3920" (1 to 4 fields, each <= 65535) into a.b.c.d */
static int version_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned f = 0;

	while (f < 4) {
		char *e;
		unsigned long x;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		errno = 0;
		x = strtoul(s, &e, 10);
		if (errno || x > 65535)
			return -EINVAL;
		v = v << 16 | x;
		f++;
		s = e;
		if (!*s)
			break;
		if (*s != '.')
			return -EINVAL;
		s++;
	}
	if (*s)
		return -EINVAL;
	*out = v << (16 * (4 - f));
	return 0;
}

static void version_str(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", (unsigned)(v >> 48), (unsigned)(v >> 32 & 0xFFFF),
		 (unsigned)(v >> 16 & 0xFFFF), (unsigned)(v & 0xFFFF));
}

/* "2024-07-19T04:09:00Z" (or a date alone) into Unix seconds. */
static int time_parse(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	const char *e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);

	if (!e || *e) {
		memset(&tm, 0, sizeof(tm));
		e = strptime(s, "%Y-%m-%d", &tm);
		if (!e || *e)
			return -EINVAL;
	}
	*out = (int64_t)timegm(&tm);
	return 0;
}

static void time_str(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm))
		snprintf(buf, len, "%" PRId64, t);
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int u64_parse(const char *s, uint64_t *out)
{
	char *e;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &e, 0);
	return errno || *e ? -EINVAL : 0;
}

static int sha_parse(const char *s, uint8_t out[32])
{
	if (strlen(s) != 64)
		return -EINVAL;
	for (int i = 0; i < 32; i++) {
		unsigned x;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &x) != 1)
			return -EINVAL;
		out[i] = (uint8_t)x;
	}
	return 0;
}

/* A glob within the caps: length, '*' count, printable. */
static const char *glob_bad(const char *g)
{
	unsigned stars = 0;

	if (!*g)
		return "empty glob";
	if (strlen(g) > BSW_RULES_MAX_GLOB)
		return "glob longer than 512 bytes";
	for (const char *p = g; *p; p++) {
		if ((unsigned char)*p < 0x20)
			return "control character in glob";
		if (*p == '*' && ++stars > BSW_RULES_MAX_STARS)
			return "more than 16 '*' in one glob";
	}
	if (strstr(g, "**"))
		return "'**' is not supported (one '*' never crosses a '\\')";
	return NULL;
}

/* ---- freeing ------------------------------------------------------------- */

static void cond_free(struct cond *c)
{
	for (unsigned i = 0; i < c->nr_sub; i++)
		cond_free(&c->sub[i]);
	free(c->sub);
	free(c->glob);
	free(c->hive);
	free(c->key);
	free(c->value);
	free(c->sval);
}

static void rule_free(struct rule *r)
{
	free(r->id);
	free(r->description);
	free(r->source);
	free(r->label);
	free(r->severity);
	free(r->verdict);
	cond_free(&r->all);
}

void bsw_rules_free(struct bsw_rules *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nr; i++)
		rule_free(&rs->r[i]);
	free(rs->r);
	free(rs);
}

size_t bsw_rules_count(const struct bsw_rules *rs)
{
	return rs ? rs->nr : 0;
}

/* ---- the YAML reader ----------------------------------------------------- */

struct yctx {
	yaml_document_t *doc;
	const char *name;
	char *err;
	size_t errlen;
	unsigned nconds;
};

static int yerr(struct yctx *y, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int yerr(struct yctx *y, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		snprintf(y->err, y->errlen, "%s:%zu:%zu: %s", y->name, n->start_mark.line + 1,
			 n->start_mark.column + 1, msg);
	else
		snprintf(y->err, y->errlen, "%s: %s", y->name, msg);
	return -EINVAL;
}

static yaml_node_t *ynode(struct yctx *y, int id)
{
	return yaml_document_get_node(y->doc, id);
}

static const char *yscalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A scalar string of at most max bytes, copied into *out. */
static int ystr(struct yctx *y, yaml_node_t *n, const char *what, size_t max, char **out)
{
	const char *s = yscalar(n);

	if (!s)
		return yerr(y, n, "%s: want a string", what);
	if (strlen(s) > max)
		return yerr(y, n, "%s: longer than %zu bytes", what, max);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return yerr(y, n, "%s: control character", what);
	free(*out);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int ybool(struct yctx *y, yaml_node_t *n, const char *what, int *out)
{
	const char *s = yscalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "yes")))
		*out = 1;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no")))
		*out = 0;
	else
		return yerr(y, n, "%s: want true or false", what);
	return 0;
}

static int yu64(struct yctx *y, yaml_node_t *n, const char *what, uint64_t *out)
{
	const char *s = yscalar(n);

	if (!s || u64_parse(s, out))
		return yerr(y, n, "%s: want a whole number", what);
	return 0;
}

static int yver(struct yctx *y, yaml_node_t *n, const char *what, uint64_t *out)
{
	const char *s = yscalar(n);

	if (!s || version_parse(s, out))
		return yerr(y, n, "%s: want a version a.b.c.d", what);
	return 0;
}

static int ytime(struct yctx *y, yaml_node_t *n, const char *what, int64_t *out)
{
	const char *s = yscalar(n);

	if (!s || time_parse(s, out))
		return yerr(y, n, "%s: want a UTC time YYYY-MM-DDTHH:MM:SSZ", what);
	return 0;
}

#define FOR_PAIRS(y, map, pr)                                                                      \
	for (yaml_node_pair_t *pr = (map)->data.mapping.pairs.start;                               \
	     pr < (map)->data.mapping.pairs.top; pr++)

static int parse_conds(struct yctx *y, yaml_node_t *seq, struct cond *grp, unsigned depth);

/* The file tests that are one bound each: key, kind, field, flag, need. */
enum fkind {
	FK_U64,
	FK_VER,
	FK_TIME
};
static const struct {
	const char *key;
	enum fkind kind;
	size_t val, has;
	unsigned need;
} file_bounds[] = {
#define FB(k, kind, v, h, n)                                                                       \
	{                                                                                          \
		k, kind, offsetof(struct cond, v), offsetof(struct cond, h), n                     \
	}
	FB("size_min", FK_U64, size_min, has_size_min, BSW_RF_SIZE),
	FB("size_max", FK_U64, size_max, has_size_max, BSW_RF_SIZE),
	FB("pe_version_min", FK_VER, ver_min, has_ver_min, BSW_RF_PE),
	FB("pe_version_below", FK_VER, ver_below, has_ver_below, BSW_RF_PE),
	FB("link_time_min", FK_TIME, link_min, has_link_min, BSW_RF_PE),
	FB("link_time_max", FK_TIME, link_max, has_link_max, BSW_RF_PE),
	FB("mtime_min", FK_TIME, mtime_min, has_mtime_min, BSW_RF_TIMES),
	FB("mtime_max", FK_TIME, mtime_max, has_mtime_max, BSW_RF_TIMES),
#undef FB
};

/* One of file_bounds[]: 1 if k is none of them, else 0 or the error. */
static int file_bound(struct yctx *y, yaml_node_t *v, const char *k, struct cond *c)
{
	char what[40];

	for (size_t i = 0; i < BSW_ARRAY_SIZE(file_bounds); i++) {
		void *val = (char *)c + file_bounds[i].val;
		int r;

		if (strcmp(k, file_bounds[i].key))
			continue;
		snprintf(what, sizeof(what), "file.%s", k);
		r = file_bounds[i].kind == FK_U64 ? yu64(y, v, what, val) :
		    file_bounds[i].kind == FK_VER ? yver(y, v, what, val) :
						    ytime(y, v, what, val);
		*((bool *)((char *)c + file_bounds[i].has)) = true;
		c->need |= file_bounds[i].need;
		return r;
	}
	return 1;
}

static int parse_file(struct yctx *y, yaml_node_t *m, struct cond *c)
{
	const char *why;
	int r = 0;

	c->kind = C_FILE;
	c->all_zero = -1;
	FOR_PAIRS(y, m, pr)
	{
		const char *k = yscalar(ynode(y, pr->key));
		yaml_node_t *v = ynode(y, pr->value);

		if (!k)
			return yerr(y, v, "file: keys are strings");
		if (!strcmp(k, "path")) {
			r = ystr(y, v, "file.path", BSW_RULES_MAX_GLOB, &c->glob);
		} else if (!strcmp(k, "boot_start")) {
			int b;

			r = ybool(y, v, "file.boot_start", &b);
			if (!r && b)
				c->need |= BSW_RF_BOOTDRV;
		} else if (!strcmp(k, "exists")) {
			r = ybool(y, v, "file.exists", &c->exists);
		} else if (!strcmp(k, "sha256")) {
			const char *sv = yscalar(v);

			if (!sv || sha_parse(sv, c->sha))
				return yerr(y, v, "file.sha256: want 64 hex digits");
			c->has_sha = true;
			c->need |= BSW_RF_SHA256;
		} else if (!strcmp(k, "all_zero")) {
			r = ybool(y, v, "file.all_zero", &c->all_zero);
			c->need |= BSW_RF_ZERO;
		} else if (!strcmp(k, "age_days_min")) {
			uint64_t d = 0;

			r = yu64(y, v, "file.age_days_min", &d);
			if (!r && d > 100000)
				return yerr(y, v, "file.age_days_min: at most 100000");
			c->age_days = (uint32_t)d;
			c->has_age = true;
			c->need |= BSW_RF_TIMES;
		} else if ((r = file_bound(y, v, k, c)) == 1) {
			return yerr(y, v, "file: unknown key '%s'", k);
		}
		if (r)
			return r;
	}
	if (!c->glob)
		return yerr(y, m, "file: 'path' is required");
	why = glob_bad(c->glob);
	if (why)
		return yerr(y, m, "file.path: %s", why);
	if (c->glob[0] != '\\')
		return yerr(y, m, "file.path: a volume path starts with '\\' (\\Windows\\...)");
	if (!c->exists && (c->need & ~BSW_RF_BOOTDRV))
		return yerr(y, m, "file: 'exists: false' takes no other test");
	return 0;
}

static const char *const hives[] = { "SYSTEM", "SOFTWARE", "COMPONENTS" };

static int parse_reg(struct yctx *y, yaml_node_t *m, struct cond *c)
{
	int r = 0, nops = 0;

	c->kind = C_REG;
	c->op = R_EXISTS;
	FOR_PAIRS(y, m, pr)
	{
		const char *k = yscalar(ynode(y, pr->key));
		yaml_node_t *v = ynode(y, pr->value);
		static const struct {
			const char *k;
			enum regop op;
		} ops[] = {
			{ "equals", R_EQ },
			{ "not_equals", R_NE },
			{ "min", R_MIN },
			{ "max", R_MAX },
			{ "version_min", R_VER_MIN },
			{ "version_below", R_VER_BELOW },
			{ "glob", R_GLOB },
		};
		bool done = false;

		if (!k)
			return yerr(y, v, "registry: keys are strings");
		if (!strcmp(k, "hive")) {
			r = ystr(y, v, "registry.hive", 32, &c->hive);
			done = true;
		} else if (!strcmp(k, "key")) {
			r = ystr(y, v, "registry.key", BSW_RULES_MAX_STR, &c->key);
			done = true;
		} else if (!strcmp(k, "value")) {
			r = ystr(y, v, "registry.value", 256, &c->value);
			done = true;
		} else if (!strcmp(k, "exists")) {
			r = ybool(y, v, "registry.exists", &c->exists);
			done = true;
		}
		for (size_t i = 0; !done && i < BSW_ARRAY_SIZE(ops); i++) {
			if (strcmp(k, ops[i].k))
				continue;
			done = true;
			nops++;
			c->op = ops[i].op;
			r = ystr(y, v, k, BSW_RULES_MAX_STR, &c->sval);
			if (r)
				break;
			if ((c->op == R_MIN || c->op == R_MAX) && u64_parse(c->sval, &c->nval))
				return yerr(y, v, "registry.%s: want a whole number", k);
			if ((c->op == R_VER_MIN || c->op == R_VER_BELOW) &&
			    version_parse(c->sval, &c->nval))
				return yerr(y, v, "registry.%s: want a version a.b.c.d", k);
			if (c->op == R_GLOB && glob_bad(c->sval))
				return yerr(y, v, "registry.glob: %s", glob_bad(c->sval));
		}
		if (!done)
			return yerr(y, v, "registry: unknown key '%s'", k);
		if (r)
			return r;
	}
	if (!c->hive || !c->key)
		return yerr(y, m, "registry: 'hive' and 'key' are required");
	if (nops > 1)
		return yerr(y, m, "registry: one comparison per condition");
	if (c->op != R_EXISTS && !c->value)
		return yerr(y, m, "registry: a comparison needs 'value'");
	if (c->op != R_EXISTS && !c->exists)
		return yerr(y, m, "registry: 'exists: false' takes no comparison");
	for (size_t i = 0; i < BSW_ARRAY_SIZE(hives); i++)
		if (!strcasecmp(c->hive, hives[i]))
			return 0;
	return yerr(y, m, "registry.hive: '%s' is not one of SYSTEM, SOFTWARE, COMPONENTS",
		    c->hive);
}

static int add_state(struct yctx *y, yaml_node_t *v, struct cond *c)
{
	const char *s = yscalar(v);
	uint32_t st;

	if (!s || state_parse(s, &st))
		return yerr(
			y, v,
			"package.state: want one of absent, uninstall-pending, resolving, resolved, staging, staged, superseded, install-pending, partially-installed, installed, permanent, failed");
	if (c->nr_states >= BSW_ARRAY_SIZE(c->states))
		return yerr(y, v, "package.state: at most 16 states");
	c->states[c->nr_states++] = st;
	return 0;
}

static int parse_pkg(struct yctx *y, yaml_node_t *m, struct cond *c)
{
	int r = 0;

	c->kind = C_PKG;
	FOR_PAIRS(y, m, pr)
	{
		const char *k = yscalar(ynode(y, pr->key));
		yaml_node_t *v = ynode(y, pr->value);

		if (!k)
			return yerr(y, v, "package: keys are strings");
		if (!strcmp(k, "name")) {
			r = ystr(y, v, "package.name", BSW_RULES_MAX_GLOB, &c->glob);
			if (!r && glob_bad(c->glob))
				return yerr(y, v, "package.name: %s", glob_bad(c->glob));
		} else if (!strcmp(k, "kb")) {
			uint64_t kb = 0;

			r = yu64(y, v, "package.kb", &kb);
			if (!r && (kb == 0 || kb > 99999999))
				return yerr(y, v, "package.kb: want a KB number");
			c->kb = (uint32_t)kb;
		} else if (!strcmp(k, "state")) {
			if (v->type == YAML_SEQUENCE_NODE) {
				for (yaml_node_item_t *it = v->data.sequence.items.start;
				     it < v->data.sequence.items.top && !r; it++)
					r = add_state(y, ynode(y, *it), c);
			} else {
				r = add_state(y, v, c);
			}
		} else if (!strcmp(k, "exists")) {
			r = ybool(y, v, "package.exists", &c->exists);
		} else {
			return yerr(y, v, "package: unknown key '%s'", k);
		}
		if (r)
			return r;
	}
	if (!c->glob && !c->kb)
		return yerr(y, m, "package: 'name' or 'kb' is required");
	return 0;
}

static int parse_finding(struct yctx *y, yaml_node_t *m, struct cond *c)
{
	int r = 0;

	c->kind = C_FINDING;
	FOR_PAIRS(y, m, pr)
	{
		const char *k = yscalar(ynode(y, pr->key));
		yaml_node_t *v = ynode(y, pr->value);

		if (k && !strcmp(k, "code"))
			r = ystr(y, v, "finding.code", 64, &c->glob);
		else if (k && !strcmp(k, "exists"))
			r = ybool(y, v, "finding.exists", &c->exists);
		else
			return yerr(y, v, "finding: unknown key '%s'", k ? k : "?");
		if (r)
			return r;
	}
	if (!c->glob)
		return yerr(y, m, "finding: 'code' is required");
	return 0;
}

/* One item of a conditions list: a one-key mapping. */
static int parse_cond(struct yctx *y, yaml_node_t *n, struct cond *c, unsigned depth)
{
	yaml_node_pair_t *pr;
	const char *k;
	yaml_node_t *v;

	c->exists = 1;
	if (++y->nconds > BSW_RULES_MAX_CONDS)
		return yerr(y, n, "more than %u conditions in one rule", BSW_RULES_MAX_CONDS);
	if (n->type != YAML_MAPPING_NODE ||
	    n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
		return yerr(
			y, n,
			"a condition is a mapping with one key: file, registry, package, finding, any or all");
	pr = n->data.mapping.pairs.start;
	k = yscalar(ynode(y, pr->key));
	v = ynode(y, pr->value);
	if (!k)
		return yerr(y, n, "condition kind: want a string");
	if (!strcmp(k, "any") || !strcmp(k, "all")) {
		c->kind = !strcmp(k, "any") ? C_ANY : C_ALL;
		if (depth + 1 > BSW_RULES_MAX_COND_DEPTH)
			return yerr(y, n, "any/all nested deeper than %u",
				    BSW_RULES_MAX_COND_DEPTH);
		return parse_conds(y, v, c, depth + 1);
	}
	if (v->type != YAML_MAPPING_NODE)
		return yerr(y, v, "%s: want a mapping", k);
	if (!strcmp(k, "file"))
		return parse_file(y, v, c);
	if (!strcmp(k, "registry"))
		return parse_reg(y, v, c);
	if (!strcmp(k, "package"))
		return parse_pkg(y, v, c);
	if (!strcmp(k, "finding"))
		return parse_finding(y, v, c);
	return yerr(y, n,
		    "unknown condition kind '%s' (file, registry, package, finding, any, all)", k);
}

static int parse_conds(struct yctx *y, yaml_node_t *seq, struct cond *grp, unsigned depth)
{
	size_t n;

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return yerr(y, seq, "conditions: want a list");
	n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if (!n)
		return yerr(y, seq, "conditions: empty list (a rule must test something)");
	if (n > BSW_RULES_MAX_CONDS)
		return yerr(y, seq, "more than %u conditions", BSW_RULES_MAX_CONDS);
	grp->sub = calloc(n, sizeof(*grp->sub));
	if (!grp->sub)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int r;

		grp->nr_sub++;
		r = parse_cond(y, ynode(y, seq->data.sequence.items.start[i]), &grp->sub[i], depth);
		if (r)
			return r;
	}
	return 0;
}

static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

static const char *const severities[] = { "info", "low", "medium", "high", "critical" };
static const char *const verdicts[] = { "dirty-rollback", "unbootable", "unassessable" };

static bool in_list(const char *s, const char *const *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, l[i]))
			return true;
	return false;
}

static int parse_rule(struct yctx *y, struct bsw_rules *rs, yaml_node_t *m)
{
	struct rule *r = &rs->r[rs->nr];
	yaml_node_t *conds = NULL;
	int e = 0;

	memset(r, 0, sizeof(*r));
	rs->nr++; /* freed with the set on error */
	r->all.kind = C_ALL;
	r->all.exists = 1;
	y->nconds = 0;
	if (m->type != YAML_MAPPING_NODE)
		return yerr(
			y, m,
			"a rule is a mapping (id, description, source, label, severity, conditions)");
	FOR_PAIRS(y, m, pr)
	{
		const char *k = yscalar(ynode(y, pr->key));
		yaml_node_t *v = ynode(y, pr->value);

		if (!k)
			return yerr(y, v, "rule keys are strings");
		if (!strcmp(k, "id"))
			e = ystr(y, v, "id", 64, &r->id);
		else if (!strcmp(k, "description"))
			e = ystr(y, v, "description", 4096, &r->description);
		else if (!strcmp(k, "source"))
			e = ystr(y, v, "source", BSW_RULES_MAX_STR, &r->source);
		else if (!strcmp(k, "label"))
			e = ystr(y, v, "label", 200, &r->label);
		else if (!strcmp(k, "severity"))
			e = ystr(y, v, "severity", 16, &r->severity);
		else if (!strcmp(k, "verdict"))
			e = ystr(y, v, "verdict", 32, &r->verdict);
		else if (!strcmp(k, "conditions"))
			conds = v;
		else
			return yerr(y, v, "rule: unknown key '%s'", k);
		if (e)
			return e;
	}
	if (!r->id || !r->description || !r->source || !r->label || !r->severity || !conds)
		return yerr(
			y, m,
			"rule: id, description, source, label, severity and conditions are required");
	if (!id_ok(r->id))
		return yerr(y, m, "rule id '%s': 1 to 64 of A-Z a-z 0-9 . _ -", r->id);
	for (size_t i = 0; i + 1 < rs->nr; i++)
		if (!strcmp(rs->r[i].id, r->id))
			return yerr(y, m, "rule id '%s' defined twice", r->id);
	if (strncmp(r->source, "https://", 8) && strncmp(r->source, "http://", 7))
		return yerr(y, m, "rule '%s': source must be a http(s) URL", r->id);
	if (!in_list(r->severity, severities, BSW_ARRAY_SIZE(severities)))
		return yerr(y, m, "rule '%s': severity is one of info, low, medium, high, critical",
			    r->id);
	if (r->verdict && !in_list(r->verdict, verdicts, BSW_ARRAY_SIZE(verdicts)))
		return yerr(y, m,
			    "rule '%s': verdict is one of dirty-rollback, unbootable, unassessable",
			    r->id);
	return parse_conds(y, conds, &r->all, 0);
}

/*
 * First pass over the events: caps on their number and nesting, and no
 * aliases.  Only then is the document tree built (yaml_parser_load).
 */
static int prescan(struct yctx *y, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	unsigned depth = 0, n = 0;
	int r = 0;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		yaml_event_type_t t;

		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(y->err, y->errlen, "%s:%zu:%zu: YAML syntax: %s%s%s", y->name,
				 p.problem_mark.line + 1, p.problem_mark.column + 1,
				 p.problem ? p.problem : "error", p.context ? " " : "",
				 p.context ? p.context : "");
			r = -EINVAL;
			break;
		}
		t = ev.type;
		if (++n > BSW_RULES_MAX_EVENTS) {
			r = yerr(y, NULL, "more than %u YAML events", BSW_RULES_MAX_EVENTS);
		} else if (t == YAML_ALIAS_EVENT) {
			snprintf(y->err, y->errlen,
				 "%s:%zu:%zu: YAML aliases (*name) are not allowed in rule files",
				 y->name, ev.start_mark.line + 1, ev.start_mark.column + 1);
			r = -EINVAL;
		} else if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
			if (++depth > BSW_RULES_MAX_DEPTH) {
				snprintf(y->err, y->errlen,
					 "%s:%zu:%zu: nested deeper than %u levels", y->name,
					 ev.start_mark.line + 1, ev.start_mark.column + 1,
					 BSW_RULES_MAX_DEPTH);
				r = -EINVAL;
			}
		} else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		yaml_event_delete(&ev);
		if (r || t == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return r;
}

int bsw_rules_parse(struct bsw_rules **rsp, const char *text, size_t len, const char *name,
		    char *err, size_t errlen)
{
	struct yctx y = { .name = name, .err = err, .errlen = errlen };
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root, *rules = NULL;
	struct bsw_rules *rs = *rsp;
	int r;

	err[0] = 0;
	if (len > BSW_RULES_MAX_FILE)
		return yerr(&y, NULL, "larger than 1 MiB");
	if (memchr(text, 0, len))
		return yerr(&y, NULL, "a NUL byte: not a YAML text file");
	r = prescan(&y, text, len);
	if (r)
		return r;
	if (!rs) {
		rs = calloc(1, sizeof(*rs));
		if (!rs)
			return -ENOMEM;
		*rsp = rs;
	}
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		r = yerr(&y, NULL, "YAML: %s", p.problem ? p.problem : "cannot load");
		yaml_parser_delete(&p);
		return r;
	}
	yaml_parser_delete(&p);
	y.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		r = yerr(&y, root, "want a mapping with 'rules:' (a list of rules)");
		goto out;
	}
	FOR_PAIRS(&y, root, pr)
	{
		const char *k = yscalar(ynode(&y, pr->key));

		if (k && !strcmp(k, "rules")) {
			rules = ynode(&y, pr->value);
		} else if (k && !strcmp(k, "version")) {
			const char *v = yscalar(ynode(&y, pr->value));

			if (!v || strcmp(v, "1")) {
				r = yerr(&y, ynode(&y, pr->value),
					 "version: this bootsweep reads version 1");
				goto out;
			}
		} else {
			r = yerr(&y, ynode(&y, pr->key),
				 "unknown top-level key '%s' (version, rules)", k ? k : "?");
			goto out;
		}
	}
	if (!rules || rules->type != YAML_SEQUENCE_NODE) {
		r = yerr(&y, rules ? rules : root, "'rules:' must be a list");
		goto out;
	}
	for (yaml_node_item_t *it = rules->data.sequence.items.start;
	     it < rules->data.sequence.items.top; it++) {
		if (rs->nr >= BSW_RULES_MAX_RULES) {
			r = yerr(&y, rules, "more than %u rules", BSW_RULES_MAX_RULES);
			goto out;
		}
		r = bsw_vec_reserve(&rs->r, &rs->alloc, rs->nr + 1, sizeof(*rs->r), MAX_RULES_ALL);
		if (r)
			goto out;
		r = parse_rule(&y, rs, ynode(&y, *it));
		if (r) {
			/* the half-built rule goes; the earlier ones stay */
			rule_free(&rs->r[--rs->nr]);
			goto out;
		}
	}
out:
	yaml_document_delete(&doc);
	return r;
}

int bsw_rules_load(struct bsw_rules **rs, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	int r;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	buf = malloc(BSW_RULES_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, BSW_RULES_MAX_FILE + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		r = -EIO;
	} else if (n > BSW_RULES_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than 1 MiB", path);
		r = -EINVAL;
	} else {
		r = bsw_rules_parse(rs, buf, n, path, err, errlen);
	}
	free(buf);
	fclose(f);
	return r;
}

/* ---- the one-line condition language ------------------------------------- */

static int qerr(char *err, size_t len, const char *term, const char *why)
{
	snprintf(err, len, "condition '%s': %s", term, why);
	return -EINVAL;
}

/* "STATE" or "STATE|STATE" after '=' */
static int q_states(struct cond *c, char *s, char *err, size_t len, const char *term)
{
	for (char *tok = strtok(s, "|"); tok; tok = strtok(NULL, "|")) {
		uint32_t st;

		if (state_parse(tok, &st))
			return qerr(
				err, len, term,
				"unknown package state (installed, staged, partially-installed, install-pending, failed...)");
		if (c->nr_states >= BSW_ARRAY_SIZE(c->states))
			return qerr(err, len, term, "too many states");
		c->states[c->nr_states++] = st;
	}
	return 0;
}

static int q_term(struct cond *c, char *t, char *err, size_t len)
{
	char term[128], *arg = strchr(t, ':'), *eq;

	snprintf(term, sizeof(term), "%s", t);
	memset(c, 0, sizeof(*c));
	c->exists = 1;
	c->all_zero = -1;
	if (!arg)
		return qerr(err, len, term,
			    "want KIND:ARG (pkg:, kb:, file:, reg:, code:, rule:, verdict:)");
	*arg++ = 0;
	if (*t == '!') { /* "!pkg:X": must not match */
		c->exists = 0;
		t++;
	}
	if (!*arg)
		return qerr(err, len, term, "empty argument");
	if (!strcmp(t, "pkg") || !strcmp(t, "kb")) {
		c->kind = C_PKG;
		eq = strchr(arg, '=');
		if (eq) {
			*eq++ = 0;
			if (q_states(c, eq, err, len, term))
				return -EINVAL;
		}
		if (!strcmp(t, "kb") || !strncasecmp(arg, "KB", 2)) {
			uint64_t kb;
			const char *d = strncasecmp(arg, "KB", 2) ? arg : arg + 2;

			if (!u64_parse(d, &kb) && kb && kb <= 99999999) {
				c->kb = (uint32_t)kb;
				return 0;
			}
			if (!strcmp(t, "kb"))
				return qerr(err, len, term, "want a KB number");
		}
		if (glob_bad(arg))
			return qerr(err, len, term, glob_bad(arg));
		c->glob = strdup(arg);
		return c->glob ? 0 : -ENOMEM;
	}
	if (!strcmp(t, "file")) {
		char *opt = strchr(arg, ',');

		c->kind = C_FILE;
		if (opt) {
			*opt++ = 0;
			if (!strcmp(opt, "zero"))
				c->all_zero = 1;
			else if (!strcmp(opt, "nonzero"))
				c->all_zero = 0;
			else
				return qerr(err, len, term, "after ',': zero or nonzero");
			c->need |= BSW_RF_ZERO;
			if (!c->exists)
				return qerr(err, len, term, "'!file:' takes no ',zero'");
		}
		if (glob_bad(arg) || arg[0] != '\\')
			return qerr(err, len, term,
				    glob_bad(arg) ? glob_bad(arg) :
						    "a volume path starts with '\\'");
		c->glob = strdup(arg);
		return c->glob ? 0 : -ENOMEM;
	}
	if (!strcmp(t, "reg")) {
		char *k, *v;

		/* reg:HIVE\KEY\\VALUE[=DATA]  (a doubled backslash before the value) */
		c->kind = C_REG;
		c->op = R_EXISTS;
		eq = strchr(arg, '=');
		if (eq) {
			*eq++ = 0;
			c->op = R_EQ;
			c->sval = strdup(eq);
			if (!c->sval)
				return -ENOMEM;
		}
		k = strchr(arg, '\\');
		if (!k)
			return qerr(err, len, term, "want reg:HIVE\\KEY[\\\\VALUE][=DATA]");
		*k++ = 0;
		v = strstr(k, "\\\\");
		if (v) {
			*v = 0;
			v += 2;
			c->value = strdup(v);
			if (!c->value)
				return -ENOMEM;
		} else if (c->op == R_EQ) {
			return qerr(err, len, term, "'=DATA' needs a value name (KEY\\\\VALUE)");
		}
		c->hive = strdup(arg);
		c->key = strdup(k);
		if (!c->hive || !c->key)
			return -ENOMEM;
		for (size_t i = 0; i < BSW_ARRAY_SIZE(hives); i++)
			if (!strcasecmp(c->hive, hives[i]))
				return 0;
		return qerr(err, len, term, "hive is one of SYSTEM, SOFTWARE, COMPONENTS");
	}
	if (!strcmp(t, "code") || !strcmp(t, "rule") || !strcmp(t, "verdict")) {
		c->kind = !strcmp(t, "code") ? C_FINDING : !strcmp(t, "rule") ? C_RULE : C_VERDICT;
		if (strlen(arg) > 64)
			return qerr(err, len, term, "longer than 64 bytes");
		c->glob = strdup(arg);
		return c->glob ? 0 : -ENOMEM;
	}
	return qerr(err, len, term, "unknown kind (pkg, kb, file, reg, code, rule, verdict)");
}

int bsw_rules_add_query(struct bsw_rules **rsp, const char *expr, char *err, size_t errlen)
{
	struct bsw_rules *rs = *rsp;
	struct rule *r;
	char *copy, *p, *save = NULL;
	unsigned n = 0;
	int e = 0;

	err[0] = 0;
	if (strlen(expr) > 4096 || !*expr) {
		snprintf(err, errlen, "condition: empty or longer than 4096 bytes");
		return -EINVAL;
	}
	if (!rs) {
		rs = calloc(1, sizeof(*rs));
		if (!rs)
			return -ENOMEM;
		*rsp = rs;
	}
	for (size_t i = 0; i < rs->nr; i++)
		if (!strcmp(rs->r[i].id, "query")) {
			snprintf(err, errlen, "one query condition only (join terms with ' and ')");
			return -EINVAL;
		}
	if (bsw_vec_reserve(&rs->r, &rs->alloc, rs->nr + 1, sizeof(*rs->r), MAX_RULES_ALL))
		return -ENOMEM;
	r = &rs->r[rs->nr];
	memset(r, 0, sizeof(*r));
	r->all.kind = C_ALL;
	r->all.exists = 1;
	r->all.sub = calloc(BSW_RULES_MAX_CONDS, sizeof(*r->all.sub));
	copy = strdup(expr);
	r->id = strdup("query");
	r->label = strdup(expr);
	r->description = strdup("condition given on the command line");
	r->source = strdup("command line");
	r->severity = strdup("info");
	if (!r->all.sub || !copy || !r->id || !r->label || !r->description || !r->source ||
	    !r->severity) {
		e = -ENOMEM;
		goto out;
	}
	/* terms joined by " and " */
	for (p = copy; p && !e; n++) {
		char *next = strstr(p, " and ");

		if (next) {
			*next = 0;
			next += 5;
		}
		while (*p == ' ')
			p++;
		if (n >= BSW_RULES_MAX_CONDS) {
			snprintf(err, errlen, "more than %u terms", BSW_RULES_MAX_CONDS);
			e = -EINVAL;
			break;
		}
		r->all.nr_sub++;
		e = q_term(&r->all.sub[n], p, err, errlen);
		p = next;
	}
	(void)save;
out:
	free(copy);
	if (e) {
		rule_free(r);
		return e;
	}
	rs->nr++;
	return 0;
}

static bool cond_has(const struct cond *c, enum ckind k)
{
	if (c->kind == k)
		return true;
	for (unsigned i = 0; i < c->nr_sub; i++)
		if (cond_has(&c->sub[i], k))
			return true;
	return false;
}

bool bsw_rules_need_registry(const struct bsw_rules *rs)
{
	for (size_t i = 0; rs && i < rs->nr; i++)
		if (cond_has(&rs->r[i].all, C_REG))
			return true;
	return false;
}

/* ---- evaluation ---------------------------------------------------------- */

struct ev {
	char *s[MAX_EVIDENCE];
	unsigned n;
};

static void ev_add(struct ev *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ev_add(struct ev *e, const char *fmt, ...)
{
	va_list ap;

	if (e->n >= MAX_EVIDENCE)
		return;
	va_start(ap, fmt);
	if (vasprintf(&e->s[e->n], fmt, ap) >= 0)
		e->n++;
	va_end(ap);
}

static void ev_truncate(struct ev *e, unsigned n)
{
	while (e->n > n)
		free(e->s[--e->n]);
}

static void ev_free(struct ev *e)
{
	ev_truncate(e, 0);
}

static void nodata(struct bsw_renv *env, int r, const char *what)
{
	if (r == -ENODATA) {
		env->nodata = 1;
		if (!env->nodata_what)
			env->nodata_what = what;
	}
}

struct fwalk {
	const struct cond *c;
	struct bsw_renv *env;
	struct ev *ev;
	unsigned seen, hits;
};

static int file_fn(void *arg, const struct bsw_rfile *f)
{
	struct fwalk *w = arg;
	const struct cond *c = w->c;
	char why[200] = "", buf[64];

	w->seen++;
	if (!c->exists)
		return 0;
	if (c->need & (BSW_RF_SHA256 | BSW_RF_ZERO | BSW_RF_PE) && f->why)
		return 0; /* content unknown: no match, never a guess */
	if (c->has_size_min && f->size < c->size_min)
		return 0;
	if (c->has_size_max && f->size > c->size_max)
		return 0;
	if (c->has_sha && (!f->have_sha256 || memcmp(f->sha256, c->sha, 32)))
		return 0;
	if (c->all_zero >= 0 && (!f->have_zero || f->all_zero != (c->all_zero == 1)))
		return 0;
	if ((c->has_ver_min || c->has_ver_below) && !f->have_pe_version)
		return 0;
	if (c->has_ver_min && f->pe_version < c->ver_min)
		return 0;
	if (c->has_ver_below && f->pe_version >= c->ver_below)
		return 0;
	if ((c->has_link_min || c->has_link_max) && !f->have_link_time)
		return 0;
	if (c->has_link_min && f->link_time < c->link_min)
		return 0;
	if (c->has_link_max && f->link_time > c->link_max)
		return 0;
	if ((c->has_mtime_min || c->has_mtime_max || c->has_age) && !f->have_mtime)
		return 0;
	if (c->has_mtime_min && f->mtime < c->mtime_min)
		return 0;
	if (c->has_mtime_max && f->mtime > c->mtime_max)
		return 0;
	if (c->has_age &&
	    (w->env->now <= 0 || f->mtime > w->env->now - (int64_t)c->age_days * 86400))
		return 0;
	w->hits++;
	snprintf(why, sizeof(why), "%" PRIu64 " bytes", f->size);
	if (c->all_zero == 1)
		strncat(why, ", all zeros", sizeof(why) - strlen(why) - 1);
	if (c->has_sha)
		strncat(why, ", SHA-256 matches", sizeof(why) - strlen(why) - 1);
	if (f->have_pe_version && (c->has_ver_min || c->has_ver_below)) {
		version_str(f->pe_version, buf, sizeof(buf));
		snprintf(why + strlen(why), sizeof(why) - strlen(why), ", version %s", buf);
	}
	if (f->have_link_time && (c->has_link_min || c->has_link_max)) {
		time_str(f->link_time, buf, sizeof(buf));
		snprintf(why + strlen(why), sizeof(why) - strlen(why), ", linked %s", buf);
	}
	if (f->have_mtime && (c->has_mtime_min || c->has_mtime_max || c->has_age)) {
		time_str(f->mtime, buf, sizeof(buf));
		snprintf(why + strlen(why), sizeof(why) - strlen(why), ", modified %s", buf);
		if (c->has_age)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 " (%" PRId64 " days before %s)", (w->env->now - f->mtime) / 86400,
				 "the disk's last shutdown or the sweep");
	}
	ev_add(w->ev, "%s: %s", f->path, why);
	return w->hits >= BSW_RULES_MAX_MATCHES;
}

static bool eval_file(const struct cond *c, struct bsw_renv *env, struct ev *ev)
{
	struct fwalk w = { .c = c, .env = env, .ev = ev };
	int r;

	if (!env->files) {
		nodata(env, -ENODATA, "files");
		return false;
	}
	r = env->files(env->ctx, c->glob, c->need, file_fn, &w);
	if (r < 0) {
		nodata(env, r, "inventory (files)");
		return false;
	}
	if (!c->exists) {
		if (w.seen)
			return false;
		ev_add(ev, "no file matches %s", c->glob);
		return true;
	}
	return w.hits > 0;
}

/* DWORD/QWORD as a number; strings as UTF-8 (REG_SZ from the hive API) */
static bool reg_num(const struct bsw_hval *v, uint64_t *out)
{
	if ((v->type == BSW_REG_DWORD && v->len >= 4) ||
	    (v->type == BSW_REG_QWORD && v->len >= 8)) {
		uint64_t x = 0;

		for (int i = (v->type == BSW_REG_QWORD ? 8 : 4) - 1; i >= 0; i--)
			x = x << 8 | v->data[i];
		*out = x;
		return true;
	}
	return false;
}

/* REG_SZ data (UTF-16LE) to printable ASCII/UTF-8 ('?' for the rest). */
static void reg_text(const struct bsw_hval *v, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < v->len && o + 1 < len; i += 2) {
		unsigned c = v->data[i] | v->data[i + 1] << 8;

		if (!c)
			break;
		out[o++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
	}
	out[o] = 0;
}

static bool eval_reg(const struct cond *c, struct bsw_renv *env, struct ev *ev)
{
	struct bsw_hval v = { 0 };
	char text[512], shown[560];
	uint64_t num, want;
	bool isnum, ok = false;
	int r;

	if (!env->reg) {
		nodata(env, -ENODATA, "registry");
		return false;
	}
	r = env->reg(env->ctx, c->hive, c->key, c->value, &v);
	if (r == -ENODATA) {
		nodata(env, r, "registry");
		return false;
	}
	if (r) {
		bsw_hval_free(&v);
		if (c->exists)
			return false;
		ev_add(ev, "%s\\%s%s%s absent", c->hive, c->key, c->value ? " value " : "",
		       c->value ? c->value : "");
		return true;
	}
	if (!c->exists) {
		bsw_hval_free(&v);
		return false;
	}
	isnum = c->value && reg_num(&v, &num);
	text[0] = 0;
	if (c->value && !isnum)
		reg_text(&v, text, sizeof(text));
	if (isnum)
		snprintf(shown, sizeof(shown), "%" PRIu64, num);
	else
		snprintf(shown, sizeof(shown), "\"%s\"", text);
	switch (c->op) {
	case R_EXISTS: ok = true; break;
	case R_EQ:
	case R_NE:
		if (isnum)
			ok = !u64_parse(c->sval, &want) && want == num;
		else
			ok = !strcasecmp(text, c->sval);
		if (c->op == R_NE)
			ok = !ok;
		break;
	case R_MIN: ok = isnum && num >= c->nval; break;
	case R_MAX: ok = isnum && num <= c->nval; break;
	case R_VER_MIN:
	case R_VER_BELOW:
		if (!isnum && !version_parse(text, &num))
			ok = c->op == R_VER_MIN ? num >= c->nval : num < c->nval;
		break;
	case R_GLOB: ok = !isnum && bsw_glob_match(c->sval, text); break;
	}
	bsw_hval_free(&v);
	if (ok) {
		if (c->value)
			ev_add(ev, "%s\\%s value %s = %s", c->hive, c->key, c->value, shown);
		else
			ev_add(ev, "%s\\%s exists", c->hive, c->key);
	}
	return ok;
}

struct pwalk {
	const struct cond *c;
	struct ev *ev;
	unsigned hits;
};

static int pkg_fn(void *arg, const char *id, uint32_t st)
{
	struct pwalk *w = arg;
	const struct cond *c = w->c;

	if (c->kb && !has_kb(id, c->kb))
		return 0;
	if (c->glob && !bsw_glob_match(c->glob, id))
		return 0;
	if (!state_in(c, st))
		return 0;
	w->hits++;
	if (c->exists)
		ev_add(w->ev, "package %s is %s (CurrentState 0x%" PRIx32 ")", id,
		       bsw_pkg_state_name(st), st);
	return 0;
}

static bool eval_pkg(const struct cond *c, struct bsw_renv *env, struct ev *ev)
{
	struct pwalk w = { .c = c, .ev = ev };
	int r;

	if (!env->packages) {
		nodata(env, -ENODATA, "packages");
		return false;
	}
	r = env->packages(env->ctx, pkg_fn, &w);
	if (r < 0) {
		nodata(env, r, "inventory (packages)");
		return false;
	}
	if (!c->exists) {
		if (w.hits)
			return false;
		if (c->kb)
			ev_add(ev, "no package of KB%" PRIu32 "%s", c->kb,
			       c->nr_states ? " in that state" : "");
		else
			ev_add(ev, "no package matches %s%s", c->glob,
			       c->nr_states ? " in that state" : "");
		return true;
	}
	return w.hits > 0;
}

static bool eval(const struct cond *c, struct bsw_renv *env, struct ev *ev)
{
	bool ok;

	switch (c->kind) {
	case C_FILE: return eval_file(c, env, ev);
	case C_REG: return eval_reg(c, env, ev);
	case C_PKG: return eval_pkg(c, env, ev);
	case C_FINDING:
		ok = env->has_code && env->has_code(env->ctx, c->glob);
		if (ok == (c->exists == 1))
			ev_add(ev, "finding %s %s", c->glob, ok ? "present" : "absent");
		return ok == (c->exists == 1);
	case C_RULE:
		ok = env->has_rule && env->has_rule(env->ctx, c->glob);
		return ok == (c->exists == 1);
	case C_VERDICT:
		ok = env->verdict && !strcmp(env->verdict, c->glob);
		return ok == (c->exists == 1);
	case C_ANY: {
		bool any = false;

		/* every branch is evaluated, so the evidence names all that hold;
		 * a branch that fails leaves none of its partial evidence */
		for (unsigned i = 0; i < c->nr_sub; i++) {
			unsigned n0 = ev->n;

			if (eval(&c->sub[i], env, ev))
				any = true;
			else
				ev_truncate(ev, n0);
		}
		return any;
	}
	case C_ALL: {
		unsigned n0 = ev->n;

		for (unsigned i = 0; i < c->nr_sub; i++)
			if (!eval(&c->sub[i], env, ev)) {
				ev_truncate(ev, n0);
				return false;
			}
		return true;
	}
	}
	return false;
}

static int verdict_bit(const char *v)
{
	if (!v)
		return 0;
	if (!strcmp(v, "unbootable"))
		return BSW_EXIT_UNBOOT;
	if (!strcmp(v, "dirty-rollback"))
		return BSW_EXIT_ROLLBACK;
	if (!strcmp(v, "unassessable"))
		return BSW_EXIT_UNASSESS;
	return 0;
}

int bsw_rules_eval_json(const struct bsw_rules *rs, struct bsw_renv *env, FILE *o)
{
	int bits = 0;
	bool first = true;

	fputc('[', o);
	for (size_t i = 0; rs && i < rs->nr; i++) {
		const struct rule *r = &rs->r[i];
		struct ev ev = { 0 };

		if (!eval(&r->all, env, &ev)) {
			ev_free(&ev);
			continue;
		}
		bits |= BSW_EXIT_RULE | verdict_bit(r->verdict);
		fputs(first ? "{\"id\":" : ",{\"id\":", o);
		first = false;
		bsw_json_str(o, r->id);
		fputs(",\"label\":", o);
		bsw_json_str(o, r->label);
		fputs(",\"severity\":", o);
		bsw_json_str(o, r->severity);
		if (r->verdict) {
			fputs(",\"implies\":", o);
			bsw_json_str(o, r->verdict);
		}
		fputs(",\"source\":", o);
		bsw_json_str(o, r->source);
		fputs(",\"evidence\":[", o);
		for (unsigned k = 0; k < ev.n; k++) {
			if (k)
				fputc(',', o);
			bsw_json_str(o, ev.s[k]);
		}
		fputs("]}", o);
		ev_free(&ev);
	}
	fputc(']', o);
	return bits;
}

int bsw_rules_line_bits(const char *line, size_t len)
{
	struct bsw_jval v;
	const struct bsw_jval *a;
	size_t where;
	int bits = 0;

	if (!memmem(line, len, "\"rules\":[{", 10))
		return 0;
	if (bsw_json_parse(line, len, &v, &where))
		return 0;
	a = bsw_jget(&v, "rules");
	if (a && a->type == BSW_J_ARR) {
		for (size_t i = 0; i < a->len; i++) {
			bits |= BSW_EXIT_RULE;
			bits |= verdict_bit(bsw_jstr(&a->items[i], "implies", NULL));
		}
	}
	bsw_json_free(&v);
	return bits;
}
