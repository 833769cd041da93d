/*
 * Result files read back: the JSON Lines of one or more sweeps, one entry
 * per disk, for `report` and `diff`.  Lines are parsed with scanner/json.c;
 * a line that is not a result is counted and named, never guessed at.
 */
#ifndef BSW_RESULTS_H
#define BSW_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scanner/json.h"

#define BSW_RESULTS_MAX_LINE (64u << 20) /* bytes of one result line */
/* result lines read (scan sweeps at most 10 million images: ten sweeps' worth) */
#define BSW_RESULTS_MAX_LINES 100000000u

enum bsw_rverdict {
	BSW_R_CLEAN,
	BSW_R_ROLLBACK,
	BSW_R_UNBOOT,
	BSW_R_UNASSESS,
	BSW_R_NR
};

struct bsw_rdisk {
	const char *image;  /* as swept */
	const char *family; /* the chain's last layer (the base), else image */
	const char *key;    /* identity for diff: "id:<...>" or "path:<image>" */
	enum bsw_rverdict verdict;
	const char *error; /* NULL if none */
	char **codes;	   /* distinct finding codes, sorted */
	size_t nr_codes;
	uint64_t bytes_read, ms_total;
	size_t seq;	      /* load order: of two lines of an image, the later wins */
	struct bsw_jval line; /* the whole parsed line */
};

struct bsw_results {
	struct bsw_rdisk *d;
	size_t nr;
	size_t bad_lines; /* lines that are not results */
	size_t dup_lines; /* the same image again: the later line kept */
	char **files;	  /* files read */
	size_t nr_files;
};

/*
 * One line of f, at most max bytes, into *buf (*alloc bytes, grown as
 * needed up to max + 1; NUL-terminated, the newline stripped).  Returns 0
 * at end of file, -ENOMEM, or 1 with *len, *nl (the line ended in a
 * newline; false for a torn last line) and *over (it was longer than max:
 * the rest was skipped).  Every JSONL reader of report, diff, query and
 * merge reads through this.
 */
int bsw_read_line(FILE *f, char **buf, size_t *alloc, size_t max, size_t *len, bool *nl,
		  bool *over);

/*
 * Read every line of each file (path "-": standard input) into r (zeroed by
 * the caller).  A line that is not a result is counted in bad_lines and
 * named on stderr.  0 or -errno (a file that cannot be read).
 */
int bsw_results_load(struct bsw_results *r, char *const *paths, size_t nr);
void bsw_results_free(struct bsw_results *r);

const char *bsw_rverdict_name(enum bsw_rverdict v);
/* -1 if s is not a verdict name */
int bsw_rverdict_parse(const char *s);
/* True if disk d carries finding code c. */
bool bsw_rdisk_has(const struct bsw_rdisk *d, const char *c);

/* Filters of report and diff: --verdict V (or "nonclean"), --code C. */
struct bsw_rfilter {
	unsigned verdicts; /* bitmask of 1 << enum bsw_rverdict; 0 = all */
	char **codes;	   /* any of them; none = all */
	size_t nr_codes, alloc_codes;
};
/* Add one --verdict ('V') or --code ('C') argument; -EINVAL for a bad verdict. */
int bsw_rfilter_arg(struct bsw_rfilter *fl, int opt, const char *arg);
bool bsw_rfilter_match(const struct bsw_rfilter *fl, const struct bsw_rdisk *d);
void bsw_rfilter_free(struct bsw_rfilter *fl);

/*
 * What changed from sweep a to sweep b, disks matched by identity (the
 * container's id when both lines carry one, else the image path):
 * verdict changes, findings that appeared or cleared, new and gone disks.
 * Text (bsw_diff_text), one JSON object (bsw_diff_json) or an HTML section
 * of the report (bsw_diff_html).  Return the number of differences.
 */
size_t bsw_diff_text(FILE *o, const struct bsw_results *a, const struct bsw_results *b,
		     const struct bsw_rfilter *fl);
size_t bsw_diff_json(FILE *o, const struct bsw_results *a, const struct bsw_results *b,
		     const struct bsw_rfilter *fl);
size_t bsw_diff_html(FILE *o, const struct bsw_results *a, const struct bsw_results *b);

/*
 * s as HTML text (report and diff pages): markup escaped, bytes that are not
 * UTF-8 as U+FFFD, a NUL kept in a registry name as \x00.
 */
void bsw_html_text(FILE *o, const char *s);

/* The meaning, next step and source of a catalogue code (codes.def); NULL if unknown. */
struct bsw_code_info {
	const char *code, *meaning, *next, *source;
};
const struct bsw_code_info *bsw_code_info(const char *code);
size_t bsw_code_count(void);
const struct bsw_code_info *bsw_code_at(size_t i);

#endif /* BSW_RESULTS_H */
