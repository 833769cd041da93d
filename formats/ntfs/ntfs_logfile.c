/*
 * NTFS $LogFile pass (WINDOWS-EVIDENCE.md 1.5, ntfs-3g logfile.c): the two
 * restart pages of $LogFile (record 2); log records are not replayed.
 *
 * Tests: $LogFile has data; each restart page (the second at the system
 * page size the first names) is readable, its fixups hold and its header
 * and restart area are valid, or it is all 0xFF (an empty log): otherwise
 * NTFS-LOGSTRUCT.  On the newer valid page: clients in use without the
 * clean flag, or version 2.0 (not cleanly dismounted), is NTFS-LOGCLEAN.
 *
 * Collects: nothing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"

int bsw_ntfs_pass_logfile(struct bsw_ntfs *v)
{
	struct ntfs_stream fs;
	struct bsw_ntfs_rstr r[2];
	int st[2] = { -1, -1 };
	uint32_t sps = 4096;
	uint8_t *pg;
	unsigned i, bad;
	char msg[160];

	if (bsw_ntfs_load_stream(v, 2, NTFS_AT_DATA, NULL, &fs)) {
		BSW_REPORT(v->fx, PR_NTFS_2_LOG_STRUCT, .rec = 2, .off = 0,
			   .str = "$LogFile has no $DATA");
		return 0;
	}
	pg = malloc(1u << 16);
	if (!pg)
		goto out;
	/* the second page sits at the system page size the first one names */
	if (bsw_ntfs_stream_pread(v, &fs, pg, 512, 0) == 512) {
		uint32_t m = get_le32(pg), s = get_le32(pg + 0x10);

		if ((m == NTFS_MAGIC_RSTR || m == NTFS_MAGIC_CHKD) && s >= 512 && s <= (1u << 16) &&
		    !(s & (s - 1)))
			sps = s;
	}
	for (i = 0; i < 2; i++) {
		const char *why = NULL;
		uint64_t off = (uint64_t)i * sps;

		int64_t got = bsw_ntfs_stream_pread(v, &fs, pg, sps, off);

		if (got < 0) {
			why = "unreadable";
		} else if (got != (int64_t)sps) {
			why = "beyond the end of $LogFile";
		} else {
			uint32_t m = get_le32(pg);
			int fr = 0;

			if (m == NTFS_MAGIC_RSTR || m == NTFS_MAGIC_CHKD)
				fr = bsw_ntfs_fixup(pg, sps, &bad);
			if (fr < 0)
				why = "update sequence array invalid";
			else if (fr > 0)
				why = "torn (update sequence mismatch)";
			else
				st[i] = bsw_ntfs_parse_restart(pg, sps, &r[i], &why);
		}
		if (why) {
			st[i] = -1;
			BSW_REPORT(v->fx, PR_NTFS_2_LOG_STRUCT, .rec = 2, .off = off, .str = why);
		}
	}
	if (st[0] == 0 || st[1] == 0) {
		/* the newer page rules (ntfs_check_logfile) */
		const struct bsw_ntfs_rstr *c = st[0] == 0 ? &r[0] : &r[1];

		if (st[0] == 0 && st[1] == 0 && r[1].current_lsn > r[0].current_lsn)
			c = &r[1];
		if (c->in_use_list != 0xFFFF && !(c->flags & 0x0002)) {
			snprintf(
				msg, sizeof(msg),
				"log clients in use and the clean flag is not set (version %d.%d, current LSN %llu)",
				c->major, c->minor, (unsigned long long)c->current_lsn);
			BSW_REPORT(v->fx, PR_NTFS_2_LOG_UNCLEAN, .rec = 2, .str = msg);
		} else if (c->major == 2) {
			BSW_REPORT(
				v->fx, PR_NTFS_2_LOG_UNCLEAN, .rec = 2,
				.str = "version 2.0: the volume was not cleanly dismounted (still mounted, fast startup or crash)");
		}
	}
out:
	free(pg);
	bsw_ntfs_stream_free(&fs);
	return 0;
}
