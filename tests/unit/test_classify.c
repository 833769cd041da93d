/*
 * The classifier: unassessable > unbootable > dirty-rollback > clean; crash-
 * consistent states alone stay clean; call-site verdict overrides count;
 * decided_by lists the distinct codes at the winning verdict, sorted.
 */
#include <string.h>
#include <stdlib.h>

#include "scanner/checks/triage.h"
#include "t_helpers.h"

static enum bsw_verdict run(struct bsw_fx *fx, const char *want_codes)
{
	const char **codes;
	unsigned nr, i;
	char buf[256] = "";
	enum bsw_verdict v;

	bsw_fx_finish(fx);
	v = bsw_classify(fx, &codes, &nr);
	for (i = 0; i < nr; i++) {
		if (i)
			strcat(buf, ",");
		strcat(buf, codes[i]);
	}
	T_CHECK(!strcmp(buf, want_codes), "decided_by '%s', want '%s'", buf, want_codes);
	free(codes);
	return v;
}

int main(void)
{
	struct bsw_fx *fx;

	bsw_fx_create(&fx);
	T_CHECK(run(fx, "") == BSW_V_NONE, "no findings: clean");
	bsw_fx_destroy(fx);

	/* crash-consistent states only: clean */
	bsw_fx_create(&fx);
	BSW_REPORT(fx, PR_NTFS_2_VOLFLAG, .n = 1, .str = "dirty");
	BSW_REPORT(fx, PR_NTFS_2_LOG_UNCLEAN, .str = "x");
	BSW_REPORT(fx, PR_SVC_1_WU);
	T_CHECK(run(fx, "") == BSW_V_NONE, "info findings: clean");
	bsw_fx_destroy(fx);

	bsw_fx_create(&fx);
	BSW_REPORT(fx, PR_SVC_0_PXML, .str = "id");
	BSW_REPORT(fx, PR_SVC_0_PXID_NOID);
	BSW_REPORT(fx, PR_NTFS_2_VOLFLAG, .n = 1);
	T_CHECK(run(fx, "SVC-PXID,SVC-PXML") == BSW_V_ROLLBACK, "rollback");
	bsw_fx_destroy(fx);

	bsw_fx_create(&fx);
	BSW_REPORT(fx, PR_SVC_1_CBSKEYS, .str = "RebootPending");
	BSW_REPORT(fx, PR_BOOT_2_DRV, .str = "disk", .str2 = "missing");
	BSW_REPORT(fx, PR_BOOT_2_DRV, .str = "stornvme", .str2 = "missing");
	T_CHECK(run(fx, "BOOT-DRV") == BSW_V_UNBOOT, "unbootable wins over rollback");
	bsw_fx_destroy(fx);

	bsw_fx_create(&fx);
	BSW_REPORT(fx, PR_BOOT_2_CORE, .str = "x", .str2 = "missing");
	BSW_REPORT(fx, PR_0_DISK_ENCRYPTED, .n = 2, .str = "-FVE-FS-");
	T_CHECK(run(fx, "DISK-ENCRYPTED") == BSW_V_UNASSESS, "unassessable wins");
	bsw_fx_destroy(fx);

	/* an override: an UNBOOT row reported as ROLLBACK counts as ROLLBACK */
	bsw_fx_create(&fx);
	BSW_REPORT(fx, PR_BOOT_2_CORE, .str = "x", .str2 = "y", .verdict = BSW_V_ROLLBACK);
	T_CHECK(run(fx, "BOOT-CORE") == BSW_V_ROLLBACK, "override");
	bsw_fx_destroy(fx);
	return T_DONE();
}
