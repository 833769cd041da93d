/*
 * NTFS bitmap pass (WINDOWS-EVIDENCE.md 1.6): the clusters the in-use
 * records claim (the records pass's computed bitmap) against $Bitmap:
 * computed data against the disk, as e2fsck's pass 5 does.
 *
 * Tests: clusters claimed by two in-use records (NTFS-BMAPX; an error when
 * the record is critical); $Bitmap has data of at least one bit per
 * cluster (NTFS-META); clusters claimed by an in-use record but free in
 * $Bitmap, as runs, the first 16 (NTFS-BMAPX free).  Clusters marked in
 * $Bitmap but claimed by no record are not reported.
 *
 * Collects: nothing.
 */
#include <stdlib.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"

int bsw_ntfs_pass_bitmap(struct bsw_ntfs *v)
{
	struct ntfs_stream fs;
	uint64_t need = (v->bs.nr_clusters + 7) / 8, off, run_start = 0, run_len = 0;
	uint8_t *buf;
	unsigned i, reported = 0;
	char label[512];

	for (i = 0; i < v->nr_xlink; i++) {
		uint64_t rec = v->xlink[i].rec;
		uint64_t base = rec < v->nr_recs && v->recs[rec].base ? v->recs[rec].base : rec;
		bool boot = bsw_ntfs_is_critical(v, base);

		bsw_ntfs_rec_label(v, base, label, sizeof(label));
		BSW_REPORT(v->fx, boot ? PR_NTFS_2_BMAP_XLINK_BOOT : PR_NTFS_2_BMAP_XLINK,
			   .rec = base, .n = (int64_t)v->xlink[i].lcn,
			   .n2 = (int64_t)v->xlink[i].len, .str = label);
	}
	if (bsw_ntfs_load_stream(v, 6, NTFS_AT_DATA, NULL, &fs)) {
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 6, .str = "$Bitmap", .str2 = "no $DATA");
		return 0;
	}
	if (fs.size < need) {
		/* ntfs3 ntfs_fill_super: "$Bitmap is corrupted" */
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 6, .str = "$Bitmap",
			   .str2 = "smaller than one bit per cluster");
		bsw_ntfs_stream_free(&fs);
		return 0;
	}
	buf = malloc(1u << 20);
	if (!buf || !v->cbmap)
		goto out;
	/* used (claimed by an in-use record) but free on disk */
	for (off = 0; off < need && off < (v->cbmap_clusters + 7) / 8; off += 1u << 20) {
		size_t n = (size_t)BSW_MIN((uint64_t)1 << 20, need - off), k;

		if (bsw_ntfs_stream_pread(v, &fs, buf, n, off) != (int64_t)n)
			break;
		for (k = 0; k < n; k++) {
			uint8_t miss = v->cbmap[off + k] & (uint8_t)~buf[k];
			unsigned bit;

			if (!miss && !run_len)
				continue;
			for (bit = 0; bit < 8; bit++) {
				uint64_t c = (off + k) * 8 + bit;

				if (miss & (1u << bit)) {
					if (!run_len)
						run_start = c;
					run_len++;
				} else if (run_len) {
					if (reported++ < 16)
						BSW_REPORT(v->fx, PR_NTFS_2_BMAP_FREE,
							   .n = (int64_t)run_start,
							   .n2 = (int64_t)run_len,
							   .str = "in-use file");
					run_len = 0;
				}
			}
		}
	}
	if (run_len && reported < 16)
		BSW_REPORT(v->fx, PR_NTFS_2_BMAP_FREE, .n = (int64_t)run_start,
			   .n2 = (int64_t)run_len, .str = "in-use file");
out:
	free(buf);
	bsw_ntfs_stream_free(&fs);
	return 0;
}
