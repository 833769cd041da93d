/*
 * Who a disk is, collected for the report (scanner/checks/identity.c), and
 * the glue that hands the checks' results of one disk to the report module
 * as plain data (scanner/report.h).
 */
#ifndef BSW_IDENTITY_H
#define BSW_IDENTITY_H

#include <stdio.h>

#include "scanner/checks/triage.h"
#include "scanner/report.h"

/* The disk's own identity: container id, GPT disk GUID or MBR signature. */
void bsw_identity_disk(const struct bsw_disk *d, struct bsw_report_identity *id);

/*
 * All of it: the image file (size, mtime), the disk's identity (d may be
 * NULL) and the Windows installation as the loaded SOFTWARE and SYSTEM
 * hives say (product, edition, build, UBR, install date, computer name,
 * last shutdown).
 */
void bsw_identity_collect(struct bsw_tctx *t, const char *path, struct bsw_report_identity *id);

/*
 * scan's result line of the disk t checked (no newline): the findings,
 * chain, partitions, identity, store counts and timings given to
 * bsw_report_disk_json; the --inventory/--rules members are written by
 * bsw_inv_json through the report's callback (which sets t->rule_bits).
 */
void bsw_triage_render(FILE *o, struct bsw_tctx *t, const char *path,
		       const struct bsw_triage_result *res, const char **codes, unsigned nr_codes);

#endif /* BSW_IDENTITY_H */
