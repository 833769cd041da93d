/*
 * NTFS damage pass: the torn and corrupt records the records pass kept,
 * reported now that their paths are known (WINDOWS-EVIDENCE.md 1.2).
 *
 * Tests: none of its own.  Each issue is NTFS-FIXUP (torn: update
 * sequence mismatch) or NTFS-REC (header or attribute corruption), an
 * error when the record is critical (records 0-15, opts.critical and the
 * directories on their way: bsw_ntfs_is_critical), a warning otherwise.
 * Records 0-3 read from $MFTMirr are left to the mirror pass.
 *
 * Collects: nothing.
 */
#include "formats/ntfs/ntfs_internal.h"

int bsw_ntfs_pass_damage(struct bsw_ntfs *v)
{
	size_t i;

	for (i = 0; i < v->nr_issues; i++) {
		const struct ntfs_issue *is = &v->issues[i];
		char label[512];
		bool crit;

		/* records 0-3 replaced from the mirror: the mirror pass reports them */
		if (is->rec < 4 && (v->mirr_use & (1u << is->rec)))
			continue;
		crit = bsw_ntfs_is_critical(v, is->rec);
		bsw_ntfs_rec_label(v, is->rec, label, sizeof(label));
		if (!is->why)
			BSW_REPORT(v->fx, crit ? PR_NTFS_1_FIXUP_CRIT : PR_NTFS_1_FIXUP,
				   .rec = is->rec, .n = is->stride, .str = label);
		else
			BSW_REPORT(v->fx, crit ? PR_NTFS_1_REC_CRIT : PR_NTFS_1_REC, .rec = is->rec,
				   .str = is->why, .str2 = label);
	}
	return 0;
}
