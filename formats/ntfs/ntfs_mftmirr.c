/*
 * NTFS mirror pass (WINDOWS-EVIDENCE.md 1.3): $MFTMirr against records 0-3
 * of $MFT, as ntfs-3g's ntfs_mftmirr_load compares them.
 *
 * Tests: the first run of $MFTMirr's data starts at the boot sector's
 * mirror LCN (NTFS-MIRR lcn); a damaged record among 0-3 of $MFT that
 * the records pass replaced by the mirror's good copy (NTFS-MIRR, error);
 * a mirror copy damaged while the $MFT copy is good (NTFS-MIRR torn); both
 * good but the bytes in use differ after fixup (NTFS-MIRR differ).
 *
 * Collects: nothing.  Reads records 0-3 of $MFT again (the records pass
 * kept only the mirror's copy, v->mirr_raw).
 */
#include <stdlib.h>
#include <string.h>

#include "formats/ntfs/ntfs_internal.h"

int bsw_ntfs_pass_mftmirr(struct bsw_ntfs *v)
{
	uint32_t rs = v->bs.rec_size;
	struct ntfs_stream fs;
	uint8_t *a = NULL, *b = NULL;
	unsigned i, bad;

	if (!bsw_ntfs_load_stream(v, 1, NTFS_AT_DATA, NULL, &fs)) {
		/* ntfs_mftmirr_load: first run LCN = boot sector's mirror LCN */
		if (!fs.resident && fs.runs.nr && fs.runs.r[0].lcn != v->bs.mirr_lcn)
			BSW_REPORT(v->fx, PR_NTFS_2_MIRR_LCN, .rec = 1,
				   .n = (int64_t)fs.runs.r[0].lcn, .n2 = (int64_t)v->bs.mirr_lcn);
		bsw_ntfs_stream_free(&fs);
	}
	if (v->used_mirror)
		BSW_REPORT(v->fx, PR_NTFS_2_MFT_HEAD, .rec = v->head_bad, .str = v->head_why);
	a = bsw_alloc_aligned(rs);
	b = bsw_alloc_aligned(rs);
	if (!a || !b)
		goto out;
	for (i = 0; i < 4; i++) {
		struct bsw_ntfs_rhdr ha, hb;
		const char *wa = NULL, *wb = NULL;
		int ra, rb;

		if (v->mirr_use & (1u << i))
			continue; /* already reported as NTFS_2_MFT_HEAD */
		if (bsw_ntfs_vol_read(v, a, rs, v->bs.mft_lcn * v->bs.cluster + i * rs))
			continue;
		memcpy(b, v->mirr_raw + i * rs, rs);
		ra = bsw_ntfs_fixup(a, rs, &bad);
		rb = bsw_ntfs_fixup(b, rs, &bad);
		if (ra || bsw_ntfs_parse_rhdr(a, rs, rs, &ha, &wa))
			continue; /* the $MFT copy is bad: the records pass said so */
		if (rb)
			wb = rb < 0 ? "update sequence array invalid" : "torn";
		else
			bsw_ntfs_parse_rhdr(b, rs, rs, &hb, &wb);
		if (wb) {
			BSW_REPORT(v->fx, PR_NTFS_2_MIRR_TORN, .rec = i, .str = wb);
			continue;
		}
		/* ntfs-3g compares bytes in use of the fixed-up records */
		if (ha.used != hb.used || memcmp(a, b, ha.used))
			BSW_REPORT(v->fx, PR_NTFS_2_MIRR_DIFF, .rec = i,
				   .str = "contents differ after fixup");
	}
out:
	free(a);
	free(b);
	return 0;
}
