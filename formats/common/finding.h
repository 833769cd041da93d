/*
 * Findings: what a check reports when an image is corrupt or in a notable
 * state.  A finding is never an error return: checks report and carry on.
 * The rows live in formats/common/problems.def (X-macro); this header gives the
 * enum, the finding context and the per-image collector (struct bsw_fx).
 *
 * Formats report through bsw_report(); fx may be NULL (fuzzing, unit tests
 * of pure parsers), in which case the report is dropped.
 */
#ifndef BSW_FINDING_H
#define BSW_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum bsw_severity {
	BSW_SEV_INFO,
	BSW_SEV_WARN,
	BSW_SEV_ERROR,
	BSW_SEV_FATAL
};

/* Ordered: a larger verdict wins when findings are combined. */
enum bsw_verdict {
	BSW_V_NONE = 0, /* no effect on the classification (clean) */
	BSW_V_ROLLBACK, /* dirty-rollback */
	BSW_V_UNBOOT,	/* unbootable */
	BSW_V_UNASSESS, /* unassessable */
};

#define BSW_PF_HEADER 0x1u     /* a pass banner, not a problem */
#define BSW_PF_DEPRECATED 0x2u /* retired: kept so the id is never reused */

enum bsw_problem {
#define PROBLEM(name, id, code, sev, verdict, flags, max, msg) name,
#include "formats/common/problems.def"
#undef PROBLEM
	BSW_PROBLEM_COUNT
};

struct bsw_problem_info {
	const char *name; /* "PR_NTFS_1_MFT_FIXUP_BAD" */
	uint32_t id;	  /* 0xFFPPNN */
	const char *code; /* catalogue code, "NTFS-FIXUP" */
	enum bsw_severity severity;
	enum bsw_verdict verdict;
	unsigned flags;
	unsigned max_count;
	const char *message;
};

/* The row of p; never NULL for p < BSW_PROBLEM_COUNT. */
const struct bsw_problem_info *bsw_problem_info(enum bsw_problem p);

/*
 * Finding context: the evidence bound to the message placeholders.  Unset
 * numeric fields are 0 and are printed only when the message names them or
 * they are non-zero.  Strings are copied by bsw_report().
 */
struct bsw_fctx {
	uint64_t off;			     /* {off}: byte offset (image, file or volume) */
	uint64_t lba;			     /* {lba} */
	uint64_t rec;			     /* {rec}: MFT record number */
	uint64_t cell;			     /* {cell}: hive cell offset */
	int64_t n, n2;			     /* {n} {n2} */
	const char *str;		     /* {str}: path, key, name */
	const char *str2;		     /* {str2} */
	enum bsw_verdict verdict;	     /* 0: the row's verdict; else an override */
	enum bsw_severity severity_override; /* used when verdict is set and this is non-zero */
	uint64_t tick;			     /* 0: now; a finding copied from another
				   collector keeps its original tick */
	bool damage;			     /* the object being parsed is damaged: its
				   weight is the caller's (bsw_fx_set_damage) */
};

/* One recorded finding (owned by its collector). */
struct bsw_finding {
	enum bsw_problem problem;
	enum bsw_verdict verdict;   /* effective verdict */
	enum bsw_severity severity; /* effective severity */
	uint64_t off, lba, rec, cell;
	int64_t n, n2;
	char *str, *str2;
	char *scope;   /* where: "part2:ntfs", "hive:SYSTEM"...; may be NULL */
	unsigned seq;  /* report order, the last sort key */
	uint64_t tick; /* when it was reported (bsw_fx_tick()) */
};

struct bsw_fx;

/* Create an empty collector; 0 or -ENOMEM. */
int bsw_fx_create(struct bsw_fx **out);
/* Free a collector and its findings; NULL is fine. */
void bsw_fx_destroy(struct bsw_fx *fx);

/*
 * Set the scope recorded with the findings that follow (copied); NULL
 * clears it.  Returns the previous scope, which the caller must free() or
 * hand back to bsw_fx_restore_scope().
 */
char *bsw_fx_push_scope(struct bsw_fx *fx, const char *scope);
void bsw_fx_restore_scope(struct bsw_fx *fx, char *prev);

/*
 * The weight of "damaged object" findings (bsw_fctx.damage) that follow:
 * a parser says that a structure is damaged, the check that asked for it
 * says what that means (a damaged SYSTEM hive is unbootable, a damaged
 * COMPONENTS hive a rollback).  v = BSW_V_NONE: such findings keep their
 * row's verdict and severity; otherwise they get v and ERROR.  Returns
 * the previous weight, to restore.
 */
enum bsw_verdict bsw_fx_set_damage(struct bsw_fx *fx, enum bsw_verdict v);

/* Record a finding.  fx may be NULL.  Thread: the collector's owner only. */
void bsw_report(struct bsw_fx *fx, enum bsw_problem p, const struct bsw_fctx *c);

#define BSW_REPORT(fx, p, ...) bsw_report((fx), (p), &(struct bsw_fctx){ __VA_ARGS__ })

/*
 * Add src's findings (not finished) to dst, with their scopes and ticks,
 * and src's counts of the findings it suppressed or could not keep, so
 * that dst's "suppressed" notices count them too.
 */
void bsw_fx_merge(struct bsw_fx *dst, const struct bsw_fx *src);
/*
 * The same for findings kept from another disk (a shared result): they are
 * reported now (this disk's clock), with their scopes.  src is not changed
 * and may be read by several threads at once.
 */
void bsw_fx_replay(struct bsw_fx *dst, const struct bsw_fx *src);

size_t bsw_fx_count(const struct bsw_fx *fx);
const struct bsw_finding *bsw_fx_get(const struct bsw_fx *fx, size_t i);
/* How many findings of problem p were reported (suppressed ones included). */
unsigned bsw_fx_nr(const struct bsw_fx *fx, enum bsw_problem p);
/* True if any finding carries catalogue code (e.g. "REG-LOG"). */
bool bsw_fx_has_code(const struct bsw_fx *fx, const char *code);
/* Highest severity reported so far (BSW_SEV_INFO if none). */
enum bsw_severity bsw_fx_worst(const struct bsw_fx *fx);
/* True once a FATAL finding was reported: stop checking this image. */
bool bsw_fx_stopped(const struct bsw_fx *fx);

/*
 * A process-wide clock that advances by one at every bsw_report(), in any
 * collector.  A finding's tick orders it against other events of the same
 * thread: the disk layer stamps its first I/O error with bsw_fx_tick(), and
 * the findings reported after that (which may have been derived from bytes
 * that never arrived) are then dropped with bsw_fx_drop_after().
 */
uint64_t bsw_fx_tick(void);
/*
 * Drop the findings whose tick is after tick (before bsw_fx_finish()); the
 * per-row counts, the worst severity and the stop flag are recomputed from
 * the findings kept.  Returns the number dropped.
 */
size_t bsw_fx_drop_after(struct bsw_fx *fx, uint64_t tick);

/*
 * Sort by (code, id, off, rec, cell, str, seq) so that output does not
 * depend on thread scheduling, and append the "suppressed" notices.
 */
void bsw_fx_finish(struct bsw_fx *fx);

/* Render the message of f with its placeholders into buf (always NUL-terminated). */
void bsw_finding_message(const struct bsw_finding *f, char *buf, size_t len);

const char *bsw_severity_name(enum bsw_severity s); /* "info" ... */
const char *bsw_verdict_name(enum bsw_verdict v);   /* "clean", "dirty-rollback", ... */

#endif /* BSW_FINDING_H */
