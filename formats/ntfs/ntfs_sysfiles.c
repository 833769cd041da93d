/*
 * NTFS system-files pass (WINDOWS-EVIDENCE.md 1.6): are the system files
 * (records 0-11) plausible?
 *
 * Tests: records 0-11 in use (those read from $MFTMirr count as in use);
 * the root (record 5) a directory; $AttrDef (record 4) between 1 and 100
 * entries of 160 bytes, the first $STANDARD_INFORMATION, the types
 * ascending multiples of 0x10.  Each failure is NTFS-META.
 *
 * Collects: nothing.
 */
#include <stdlib.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"

int bsw_ntfs_pass_sysfiles(struct bsw_ntfs *v)
{
	struct ntfs_stream fs;
	uint8_t *ad = NULL;
	uint64_t r;

	for (r = 0; r < 12 && r < v->nr_recs; r++)
		if (!(v->recs[r].rflags & BSW_NTFS_R_INUSE) &&
		    !(r < 4 && (v->mirr_use & (1u << r))))
			BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = r, .str = bsw_ntfs_sysfile_name(r),
				   .str2 = "system file record not in use");
	if ((v->recs[5].rflags & BSW_NTFS_R_INUSE) && !(v->recs[5].rflags & BSW_NTFS_R_DIR))
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 5, .str = "\\",
			   .str2 = "root is not a directory");
	/* $AttrDef: 160-byte entries, the first $STANDARD_INFORMATION, types ascending */
	if (bsw_ntfs_load_stream(v, 4, NTFS_AT_DATA, NULL, &fs)) {
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 4, .str = "$AttrDef", .str2 = "no $DATA");
		return 0;
	}
	if (fs.size < 160 || fs.size > 160 * 100) {
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 4, .str = "$AttrDef",
			   .str2 = "size not between 1 and 100 entries");
	} else if ((ad = malloc((size_t)fs.size)) &&
		   bsw_ntfs_stream_pread(v, &fs, ad, (size_t)fs.size, 0) == (int64_t)fs.size) {
		uint32_t prev = 0, t;
		size_t o;

		if (get_le32(ad + 0x80) != NTFS_AT_STD_INFO)
			BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 4, .str = "$AttrDef",
				   .str2 = "first entry is not $STANDARD_INFORMATION");
		for (o = 0; o + 160 <= fs.size; o += 160) {
			t = get_le32(ad + o + 0x80);
			if (!t)
				break;
			if (t <= prev || (t & 0xF)) {
				BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 4, .str = "$AttrDef",
					   .str2 = "types not ascending multiples of 0x10");
				break;
			}
			prev = t;
		}
	}
	free(ad);
	bsw_ntfs_stream_free(&fs);
	return 0;
}
