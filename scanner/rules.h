/*
 * Rules: "which disks have X?" (docs/rules.md).  A rule file is YAML read
 * with libyaml; each rule has an id, a description, a public source, a
 * label, a severity, optionally the verdict it implies, and conditions on
 * files, registry values, CBS packages and findings.  The same conditions
 * come in a one-line form on the command line ("pkg:KB5034441",
 * `bootsweep query`, `scan --query`).
 *
 * A rule set is parsed and checked whole before a sweep starts; it is then
 * read-only and shared by every worker.  Conditions are evaluated against
 * an environment (struct bsw_renv): a live disk (scanner/checks/inventory.c)
 * or a result line (scanner/cmd_query.c).
 */
#ifndef BSW_RULES_H
#define BSW_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/regf/regf.h"

/* Caps on a rule file (every input is hostile). */
#define BSW_RULES_MAX_FILE (1u << 20) /* bytes of one rule file */
#define BSW_RULES_MAX_RULES 4096u
#define BSW_RULES_MAX_EVENTS 200000u /* YAML events of one file */
#define BSW_RULES_MAX_DEPTH 16u	     /* YAML nesting */
#define BSW_RULES_MAX_COND_DEPTH 4u  /* any:/all: groups inside groups */
#define BSW_RULES_MAX_CONDS 64u	     /* conditions of one rule */
#define BSW_RULES_MAX_GLOB 512u	     /* bytes of one glob */
#define BSW_RULES_MAX_STARS 16u	     /* '*' in one glob */
#define BSW_RULES_MAX_STR 1024u	     /* any other string */
#define BSW_RULES_MAX_WALK 200000u   /* directory entries one file glob visits */
#define BSW_RULES_MAX_MATCHES 256u   /* files one glob may match */

/* Exit bits of `scan --rules` (docs/rules.md, docs/cli.md). */
#define BSW_EXIT_RULE 64 /* at least one disk matched a rule */

struct bsw_rules;

/* CBS package states (WINDOWS-EVIDENCE.md 3.2); name for a CurrentState. */
const char *bsw_pkg_state_name(uint32_t state);

/*
 * Parse one rule file's text (name for messages) and add its rules to *rs
 * (created when *rs is NULL).  0, or -EINVAL with a one-line reason naming
 * the file, line and column in err; -ENOMEM.  On error *rs keeps the rules
 * added before.
 */
int bsw_rules_parse(struct bsw_rules **rs, const char *text, size_t len, const char *name,
		    char *err, size_t errlen);
/* Read and parse a rule file ("-" is not allowed: rules are files). */
int bsw_rules_load(struct bsw_rules **rs, const char *path, char *err, size_t errlen);
/*
 * Add a rule with id "query" made from a command-line condition
 * ("pkg:GLOB[=STATE]", "kb:N[=STATE]", "file:GLOB[,zero]", "code:CODE",
 * "reg:HIVE\KEY[\\VALUE][=DATA]", "rule:ID", "verdict:V"; several joined
 * by " and ").  0 or -EINVAL with a reason.
 */
int bsw_rules_add_query(struct bsw_rules **rs, const char *expr, char *err, size_t errlen);
void bsw_rules_free(struct bsw_rules *rs);
size_t bsw_rules_count(const struct bsw_rules *rs);

/* What a file condition asks for (so the environment reads only that). */
#define BSW_RF_SIZE 0x01
#define BSW_RF_SHA256 0x02
#define BSW_RF_ZERO 0x04
#define BSW_RF_PE 0x08	    /* PE version, link time */
#define BSW_RF_TIMES 0x10   /* $STANDARD_INFORMATION times */
#define BSW_RF_BOOTDRV 0x20 /* only boot-start drivers (Services Start=0) */

/* One file as the environment found it; have_* say what is known. */
struct bsw_rfile {
	const char *path;
	uint64_t size;
	bool have_sha256, have_zero, have_pe_version, have_link_time, have_mtime;
	uint8_t sha256[32];
	bool all_zero;
	uint64_t pe_version; /* a.b.c.d as 16-bit fields, a highest */
	int64_t link_time;   /* Unix seconds */
	int64_t mtime;	     /* Unix seconds */
	const char *why;     /* NULL, or why the content is unknown */
};

typedef int (*bsw_rfile_fn)(void *arg, const struct bsw_rfile *f);
typedef int (*bsw_rpkg_fn)(void *arg, const char *identity, uint32_t state);

/*
 * Where conditions are evaluated.  Each callback returns 0, or -ENODATA
 * when this environment cannot answer (a result line without inventory,
 * a hive that was not loaded): the rule then does not match, and query
 * names the missing data.
 */
struct bsw_renv {
	void *ctx;
	/* each file matching glob (case-insensitive), with what need asks */
	int (*files)(void *ctx, const char *glob, unsigned need, bsw_rfile_fn fn, void *arg);
	/* value of hive\key (value NULL: the key's existence): 0, -ENOENT */
	int (*reg)(void *ctx, const char *hive, const char *key, const char *value,
		   struct bsw_hval *out);
	int (*packages)(void *ctx, bsw_rpkg_fn fn, void *arg);
	bool (*has_code)(void *ctx, const char *code);
	bool (*has_rule)(void *ctx, const char *id); /* query only */
	const char *verdict;			     /* query only */
	int64_t now;				     /* reference time for age_days (Unix s) */
	int nodata;				     /* set when a callback returned -ENODATA */
	const char *nodata_what;
};

/*
 * Evaluate every rule on env and write the matches as a JSON array
 * (`[{"id":...,"label":...,"severity":...,"evidence":[...]}]`) to o.
 * Returns the exit bits the matches stand for (BSW_EXIT_RULE and the
 * verdict bits of matched rules' implied verdicts), 0 when none matched.
 */
int bsw_rules_eval_json(const struct bsw_rules *rs, struct bsw_renv *env, FILE *o);
/* Does the set (as parsed) hold a registry condition?  (query refuses) */
bool bsw_rules_need_registry(const struct bsw_rules *rs);

/* The exit bits a result line's "rules" stand for (scan --resume). */
int bsw_rules_line_bits(const char *line, size_t len);

/* Case-insensitive (ASCII) glob of '*' and '?', linear-time. */
bool bsw_glob_match(const char *pat, const char *s);

#endif /* BSW_RULES_H */
