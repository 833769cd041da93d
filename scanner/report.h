/*
 * The report module (scanner/report.c): one place renders every JSON
 * object bootsweep writes, with one field naming scheme and the schema and
 * version members (docs/cli.md, "JSON schema").
 */
#ifndef BSW_REPORT_H
#define BSW_REPORT_H

#include <stdio.h>

#include "formats/common/finding.h"

/*
 * JSON string escaping shared by all output code: s (NULL writes "") as a
 * quoted JSON string.  Bytes that are not well-formed UTF-8 are written as
 * lone low surrogates \udc80-\udcff (Python's surrogateescape), so any
 * file or key name survives a round trip.  A NUL is written \u0000: a NUL
 * byte within bsw_json_strn's n bytes, and the pair C0 80 by which decoded
 * registry names keep a NUL code unit (modified UTF-8, regf.h).
 */
void bsw_json_str(FILE *out, const char *s);
void bsw_json_strn(FILE *out, const char *s, size_t n);

/* Write f as one JSON object (no newline). */
void bsw_finding_json(const struct bsw_finding *f, FILE *out);

struct bsw_tctx;
struct bsw_triage_result;

/*
 * The result line of one disk (scan): verdict, findings, chain,
 * partitions, identity, store counts, timings and provenance, as one JSON
 * object without newline.  Also writes the inventory/rules members (and
 * sets t->rule_bits).
 */
void bsw_report_disk_json(FILE *o, struct bsw_tctx *t, const char *path,
			  const struct bsw_triage_result *res,
			  const char **codes, unsigned nr_codes);

#endif /* BSW_REPORT_H */
