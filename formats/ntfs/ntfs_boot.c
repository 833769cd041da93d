/*
 * NTFS pass 0: the boot sector and its backup (WINDOWS-EVIDENCE.md 1.1).
 *
 * Tests: the primary boot sector at offset 0 (OEM id, sector and cluster
 * sizes, FAT fields zero, record and index block sizes, sector count, $MFT
 * and $MFTMirr LCNs; bsw_ntfs_parse_boot), and the backup in the last
 * sector of the partition, just past the volume's sector count (without a
 * usable primary: the last 512 bytes or 4 KiB of the source).  Primary bad
 * and backup good: NTFS-BPB, the backup is used.  Both bad: NTFS-BPB
 * (fatal), the volume is not read.  Backup bad, missing or different from
 * the primary: NTFS-BPB2 (info).
 *
 * Collects: the geometry (v->bs: sector, cluster, record and index block
 * sizes, cluster count, $MFT and $MFTMirr LCNs, serial) every later pass
 * reads through, and v->backup_boot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"

int bsw_ntfs_pass_boot(struct bsw_ntfs *v)
{
	uint8_t *pri = NULL, *bak = NULL;
	struct bsw_ntfs_boot bp, bb;
	const char *why_p = NULL, *why_b = NULL;
	uint64_t boff = 0;
	int rp, rb = -EINVAL, ret = 0;

	pri = malloc(4096);
	bak = malloc(4096);
	if (!pri || !bak) {
		ret = -ENOMEM;
		goto out;
	}
	if (v->src->size < 512 || bsw_ntfs_vol_read(v, pri, 512, 0)) {
		BSW_REPORT(v->fx, PR_NTFS_0_BPB_BOTH, .str = "volume too small",
			   .str2 = "not read");
		ret = -EIO;
		goto out;
	}
	rp = bsw_ntfs_parse_boot(pri, 512, &bp, &why_p);
	/*
	 * The backup lives in the last sector of the partition, just past the
	 * volume's sector count (1.1).  Without a valid primary the sector
	 * size is unknown: try the last 512 bytes of the source.
	 */
	if (!rp && bp.nr_sectors < UINT64_MAX / bp.bps &&
	    bp.nr_sectors * bp.bps + bp.bps <= v->src->size)
		boff = bp.nr_sectors * bp.bps;
	else if (!rp && v->src->size >= 512 && bp.nr_sectors <= (v->src->size - 512) / bp.bps)
		/* (divided, not multiplied: nr_sectors * bps can wrap) */
		boff = bp.nr_sectors * bp.bps;
	else
		boff = (v->src->size - 512) & ~511ull;
	if (boff && !bsw_ntfs_vol_read(v, bak, 512, boff))
		rb = bsw_ntfs_parse_boot(bak, 512, &bb, &why_b);
	else
		why_b = "beyond the end of the partition";
	if (rb && rp) {
		/*
		 * Without a usable primary the sector size is unknown: the
		 * backup is the last sector of the partition, 512 bytes or
		 * 4 KiB (4Kn disks) from its end.
		 */
		static const uint64_t back[] = { 512, 4096 };
		unsigned k;

		for (k = 0; k < BSW_ARRAY_SIZE(back) && rb; k++) {
			uint64_t alt;

			if (v->src->size < back[k])
				break;
			alt = (v->src->size - back[k]) & ~511ull;
			if (!bsw_ntfs_vol_read(v, bak, 512, alt) &&
			    !bsw_ntfs_parse_boot(bak, 512, &bb, NULL)) {
				rb = 0;
				boff = alt;
			}
		}
	}
	if (!rp) {
		v->bs = bp;
		if (rb)
			BSW_REPORT(v->fx, PR_NTFS_0_BPB2_BAD, .off = boff, .str = why_b);
		else if (memcmp(pri, bak, 512))
			BSW_REPORT(v->fx, PR_NTFS_0_BPB2_DIFF, .off = boff);
	} else if (!rb) {
		v->bs = bb;
		v->backup_boot = true;
		BSW_REPORT(v->fx, PR_NTFS_0_BPB_BAD, .off = boff, .str = why_p);
	} else {
		BSW_REPORT(v->fx, PR_NTFS_0_BPB_BOTH, .str = why_p, .str2 = why_b);
		ret = -EINVAL;
	}
out:
	free(pri);
	free(bak);
	return ret;
}
