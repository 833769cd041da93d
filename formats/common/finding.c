/*
 * The finding table (generated from problems.def) and the per-image
 * finding collector.  Findings are buffered per image and sorted before
 * they are emitted, so output is identical whatever the thread schedule.
 */
#include "formats/common/utf8.h"
#include "formats/common/finding.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SEV_INFO BSW_SEV_INFO
#define SEV_WARN BSW_SEV_WARN
#define SEV_ERROR BSW_SEV_ERROR
#define SEV_FATAL BSW_SEV_FATAL
#define V_NONE BSW_V_NONE
#define V_ROLLBACK BSW_V_ROLLBACK
#define V_UNBOOT BSW_V_UNBOOT
#define V_UNASSESS BSW_V_UNASSESS

static const struct bsw_problem_info problem_table[BSW_PROBLEM_COUNT] = {
#define PROBLEM(name_, id_, code_, sev_, verdict_, flags_, max_, msg_)                             \
	[name_] = { .name = #name_,                                                                \
		    .id = id_,                                                                     \
		    .code = code_,                                                                 \
		    .severity = SEV_##sev_,                                                        \
		    .verdict = V_##verdict_,                                                       \
		    .flags = flags_,                                                               \
		    .max_count = max_,                                                             \
		    .message = msg_ },
#include "formats/common/problems.def"
#undef PROBLEM
};

/* Hard cap on findings kept per image, whatever the per-row limits say. */
#define BSW_MAX_FINDINGS 100000

/* bsw_fx_tick(): advanced by every report of every thread */
static uint64_t fx_clock;

struct bsw_fx {
	struct bsw_finding *v;
	size_t nr, alloc;
	unsigned counts[BSW_PROBLEM_COUNT];
	unsigned seq;
	char *scope;
	enum bsw_severity worst;
	bool stopped;
	unsigned dropped;	 /* over BSW_MAX_FINDINGS */
	enum bsw_verdict damage; /* the weight of .damage findings (bsw_fx_set_damage) */
};

const struct bsw_problem_info *bsw_problem_info(enum bsw_problem p)
{
	if ((unsigned)p >= BSW_PROBLEM_COUNT)
		return NULL;
	return &problem_table[p];
}

int bsw_fx_create(struct bsw_fx **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void finding_free(struct bsw_finding *f)
{
	free(f->str);
	free(f->str2);
	free(f->scope);
}

void bsw_fx_destroy(struct bsw_fx *fx)
{
	if (!fx)
		return;
	for (size_t i = 0; i < fx->nr; i++)
		finding_free(&fx->v[i]);
	free(fx->v);
	free(fx->scope);
	free(fx);
}

char *bsw_fx_push_scope(struct bsw_fx *fx, const char *scope)
{
	char *prev;

	if (!fx)
		return NULL;
	prev = fx->scope;
	fx->scope = scope ? strdup(scope) : NULL;
	return prev;
}

static void fx_copy(struct bsw_fx *dst, const struct bsw_fx *src, bool fresh);

void bsw_fx_merge(struct bsw_fx *dst, const struct bsw_fx *src)
{
	fx_copy(dst, src, false);
}

void bsw_fx_replay(struct bsw_fx *dst, const struct bsw_fx *src)
{
	fx_copy(dst, src, true);
}

static void fx_copy(struct bsw_fx *dst, const struct bsw_fx *src, bool fresh)
{
	unsigned copied[BSW_PROBLEM_COUNT] = { 0 };
	size_t i;

	if (!dst || !src)
		return;
	for (i = 0; i < src->nr; i++) {
		const struct bsw_finding *f = &src->v[i];
		struct bsw_fctx c = {
			.off = f->off,
			.lba = f->lba,
			.rec = f->rec,
			.cell = f->cell,
			.n = f->n,
			.n2 = f->n2,
			.str = f->str,
			.str2 = f->str2,
			.verdict = f->verdict,
			.severity_override = f->severity,
			/* before or after an I/O error of this disk; a
			   replayed finding is reported now */
			.tick = fresh ? 0 : f->tick,
		};
		char *prev;

		if (f->problem == PR_0_SUPPRESSED || f->problem == PR_0_FINDINGS_CAPPED)
			continue;
		prev = bsw_fx_push_scope(dst, f->scope);
		bsw_report(dst, f->problem, &c);
		bsw_fx_restore_scope(dst, prev);
		copied[f->problem]++;
	}
	/* what src counted but did not keep: its suppressed and capped ones */
	for (i = 0; i < BSW_PROBLEM_COUNT; i++)
		if (src->counts[i] > copied[i])
			dst->counts[i] += src->counts[i] - copied[i];
	dst->dropped += src->dropped;
	if (src->worst > dst->worst)
		dst->worst = src->worst;
	if (src->stopped)
		dst->stopped = true;
}

enum bsw_verdict bsw_fx_set_damage(struct bsw_fx *fx, enum bsw_verdict v)
{
	enum bsw_verdict prev;

	if (!fx)
		return BSW_V_NONE;
	prev = fx->damage;
	fx->damage = v;
	return prev;
}

void bsw_fx_restore_scope(struct bsw_fx *fx, char *prev)
{
	if (!fx) {
		free(prev);
		return;
	}
	free(fx->scope);
	fx->scope = prev;
}

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct bsw_finding *fx_append(struct bsw_fx *fx)
{
	/* room is kept for the notices of bsw_fx_finish() */
	if (fx->nr >= BSW_MAX_FINDINGS + BSW_PROBLEM_COUNT + 1)
		return NULL;
	if (fx->nr == fx->alloc) {
		size_t n = fx->alloc ? fx->alloc * 2 : 16;
		struct bsw_finding *v = realloc(fx->v, n * sizeof(*v));

		if (!v)
			return NULL;
		fx->v = v;
		fx->alloc = n;
	}
	memset(&fx->v[fx->nr], 0, sizeof(fx->v[0]));
	return &fx->v[fx->nr++];
}

void bsw_report(struct bsw_fx *fx, enum bsw_problem p, const struct bsw_fctx *c)
{
	const struct bsw_problem_info *pi = bsw_problem_info(p);
	struct bsw_finding *f;
	enum bsw_severity sev;
	uint64_t tick;

	if (!fx || !pi)
		return;
	tick = __atomic_add_fetch(&fx_clock, 1, __ATOMIC_RELAXED);
	fx->counts[p]++;
	if (c->damage && fx->damage != BSW_V_NONE && !c->verdict) {
		/* the caller's weight for a damaged object of this scope */
		struct bsw_fctx w = *c;

		w.verdict = fx->damage;
		w.severity_override = BSW_SEV_ERROR;
		w.damage = false;
		fx->counts[p]--;
		bsw_report(fx, p, &w);
		return;
	}
	sev = pi->severity;
	if (c->verdict && c->severity_override)
		sev = c->severity_override;
	if (sev > fx->worst)
		fx->worst = sev;
	if (sev == BSW_SEV_FATAL)
		fx->stopped = true;
	if (pi->max_count && fx->counts[p] > pi->max_count)
		return;
	if (fx->nr >= BSW_MAX_FINDINGS) {
		fx->dropped++;
		return;
	}
	f = fx_append(fx);
	if (!f)
		return;
	f->problem = p;
	f->verdict = c->verdict ? c->verdict : pi->verdict;
	f->severity = sev;
	f->off = c->off;
	f->lba = c->lba;
	f->rec = c->rec;
	f->cell = c->cell;
	f->n = c->n;
	f->n2 = c->n2;
	f->str = dup_opt(c->str);
	f->str2 = dup_opt(c->str2);
	f->scope = dup_opt(fx->scope);
	f->seq = fx->seq++;
	f->tick = c->tick ? c->tick : tick;
}

size_t bsw_fx_count(const struct bsw_fx *fx)
{
	return fx ? fx->nr : 0;
}

const struct bsw_finding *bsw_fx_get(const struct bsw_fx *fx, size_t i)
{
	return fx && i < fx->nr ? &fx->v[i] : NULL;
}

unsigned bsw_fx_nr(const struct bsw_fx *fx, enum bsw_problem p)
{
	return fx && (unsigned)p < BSW_PROBLEM_COUNT ? fx->counts[p] : 0;
}

bool bsw_fx_has_code(const struct bsw_fx *fx, const char *code)
{
	if (!fx)
		return false;
	for (size_t i = 0; i < fx->nr; i++)
		if (!strcmp(problem_table[fx->v[i].problem].code, code))
			return true;
	return false;
}

enum bsw_severity bsw_fx_worst(const struct bsw_fx *fx)
{
	return fx ? fx->worst : BSW_SEV_INFO;
}

bool bsw_fx_stopped(const struct bsw_fx *fx)
{
	return fx && fx->stopped;
}

uint64_t bsw_fx_tick(void)
{
	return __atomic_load_n(&fx_clock, __ATOMIC_RELAXED);
}

size_t bsw_fx_drop_after(struct bsw_fx *fx, uint64_t tick)
{
	size_t i, kept = 0, dropped;

	if (!fx)
		return 0;
	memset(fx->counts, 0, sizeof(fx->counts));
	fx->worst = BSW_SEV_INFO;
	fx->stopped = false;
	for (i = 0; i < fx->nr; i++) {
		struct bsw_finding *f = &fx->v[i];

		if (f->tick > tick) {
			finding_free(f);
			continue;
		}
		/* counts restart from what is kept: a "suppressed" notice
		 * for findings dropped here would count unread bytes */
		fx->counts[f->problem]++;
		if (f->severity > fx->worst)
			fx->worst = f->severity;
		if (f->severity == BSW_SEV_FATAL)
			fx->stopped = true;
		fx->v[kept++] = *f;
	}
	dropped = fx->nr - kept;
	fx->nr = kept;
	return dropped;
}

static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

#define CMP(a, b)                                                                                  \
	do {                                                                                       \
		if ((a) != (b))                                                                    \
			return (a) < (b) ? -1 : 1;                                                 \
	} while (0)

static int finding_cmp(const void *pa, const void *pb)
{
	const struct bsw_finding *a = pa, *b = pb;
	int r = strcmp(problem_table[a->problem].code, problem_table[b->problem].code);

	if (r)
		return r;
	CMP(problem_table[a->problem].id, problem_table[b->problem].id);
	if ((r = cmp_str(a->scope, b->scope)))
		return r;
	CMP(a->off, b->off);
	CMP(a->rec, b->rec);
	CMP(a->cell, b->cell);
	if ((r = cmp_str(a->str, b->str)))
		return r;
	CMP(a->seq, b->seq);
	return 0;
}

void bsw_fx_finish(struct bsw_fx *fx)
{
	if (!fx)
		return;
	for (unsigned p = 0; p < BSW_PROBLEM_COUNT; p++) {
		const struct bsw_problem_info *pi = &problem_table[p];
		struct bsw_finding *f;

		if (!pi->max_count || fx->counts[p] <= pi->max_count)
			continue;
		f = fx_append(fx);
		if (!f)
			break;
		f->problem = PR_0_SUPPRESSED;
		f->severity = BSW_SEV_INFO;
		f->n = fx->counts[p] - pi->max_count;
		f->str = strdup(pi->name);
		f->seq = fx->seq++;
	}
	if (fx->dropped) {
		struct bsw_finding *f = fx_append(fx);

		if (f) {
			f->problem = PR_0_FINDINGS_CAPPED;
			f->severity = BSW_SEV_INFO;
			f->n = fx->dropped;
			f->n2 = BSW_MAX_FINDINGS;
			f->seq = fx->seq++;
		}
	}
	if (fx->nr)
		qsort(fx->v, fx->nr, sizeof(fx->v[0]), finding_cmp);
}

void bsw_finding_message(const struct bsw_finding *f, char *buf, size_t len)
{
	const char *m = problem_table[f->problem].message;
	size_t o = 0;

	if (!len)
		return;
	while (*m && o + 1 < len) {
		char tmp[64];
		const char *val = NULL;

		if (*m == '{') {
			const char *e = strchr(m, '}');
			size_t k = e ? (size_t)(e - m - 1) : 0;

			if (e) {
#define KEY(s) (k == sizeof(s) - 1 && !memcmp(m + 1, s, k))
				if (KEY("off"))
					snprintf(tmp, sizeof(tmp), "0x%" PRIx64, f->off), val = tmp;
				else if (KEY("lba"))
					snprintf(tmp, sizeof(tmp), "%" PRIu64, f->lba), val = tmp;
				else if (KEY("rec"))
					snprintf(tmp, sizeof(tmp), "%" PRIu64, f->rec), val = tmp;
				else if (KEY("cell"))
					snprintf(tmp, sizeof(tmp), "0x%" PRIx64, f->cell),
						val = tmp;
				else if (KEY("n"))
					snprintf(tmp, sizeof(tmp), "%" PRId64, f->n), val = tmp;
				else if (KEY("n2"))
					snprintf(tmp, sizeof(tmp), "%" PRId64, f->n2), val = tmp;
				else if (KEY("xn"))
					snprintf(tmp, sizeof(tmp), "0x%" PRIx64, (uint64_t)f->n),
						val = tmp;
				else if (KEY("xn2"))
					snprintf(tmp, sizeof(tmp), "0x%" PRIx64, (uint64_t)f->n2),
						val = tmp;
				else if (KEY("str"))
					val = f->str ? f->str : "";
				else if (KEY("str2"))
					val = f->str2 ? f->str2 : "";
#undef KEY
			}
			if (val) {
				size_t vl = strlen(val);

				if (vl > len - 1 - o)
					vl = len - 1 - o;
				memcpy(buf + o, val, vl);
				o += vl;
				m = e + 1;
				continue;
			}
		}
		buf[o++] = *m++;
	}
	buf[o] = 0;
}

const char *bsw_severity_name(enum bsw_severity s)
{
	static const char *const n[] = { "info", "warning", "error", "fatal" };

	return (unsigned)s < 4 ? n[s] : "?";
}

const char *bsw_verdict_name(enum bsw_verdict v)
{
	static const char *const n[] = { "clean", "dirty-rollback", "unbootable", "unassessable" };

	return (unsigned)v < 4 ? n[v] : "?";
}
