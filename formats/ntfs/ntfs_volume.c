/*
 * NTFS $Volume pass (WINDOWS-EVIDENCE.md 1.4): the flags of
 * $VOLUME_INFORMATION in record 3.
 *
 * Tests: the attribute exists, is resident and holds the flags (NTFS-META
 * otherwise); the dirty, chkdsk-underway and modified-by-chkdsk flags
 * (NTFS-VOLFLAG, info).
 *
 * Collects: nothing.
 */
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"

int bsw_ntfs_pass_volume(struct bsw_ntfs *v)
{
	struct ntfs_stream fs;
	uint8_t val[16];
	uint16_t fl;
	char s[128] = "";

	if (bsw_ntfs_load_stream(v, 3, NTFS_AT_VOLUME_INFO, NULL, &fs)) {
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 3, .str = "$Volume",
			   .str2 = "no $VOLUME_INFORMATION attribute");
		return 0;
	}
	if (!fs.resident || fs.res_len < 12) {
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 3, .str = "$Volume",
			   .str2 = "$VOLUME_INFORMATION not resident or too short");
		bsw_ntfs_stream_free(&fs);
		return 0;
	}
	memcpy(val, fs.res, 12);
	bsw_ntfs_stream_free(&fs);
	fl = get_le16(val + 10);
	if (fl & 0x0001)
		strcat(s, "dirty; ");
	if (fl & 0x4000)
		strcat(s, "chkdsk underway; ");
	if (fl & 0x8000)
		strcat(s, "modified by chkdsk; ");
	if (s[0]) {
		s[strlen(s) - 2] = 0;
		BSW_REPORT(v->fx, PR_NTFS_2_VOLFLAG, .rec = 3, .n = fl, .str = s);
	}
	return 0;
}
