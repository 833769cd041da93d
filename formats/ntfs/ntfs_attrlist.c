/*
 * NTFS attribute-list pass (WINDOWS-EVIDENCE.md 1.6): the $ATTRIBUTE_LIST
 * of records 0-31 (the system files), resident or not, is read again.
 *
 * Tests: every entry's name offset must be 0x1A; newer ntfs.sys refuses a
 * volume whose system files carry 0x1C (the Azure script's check):
 * NTFS-ATTRLIST.  The walk stops at an entry whose length is invalid.
 *
 * Collects: nothing.
 */
#include <stdlib.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"

int bsw_ntfs_pass_attrlist(struct bsw_ntfs *v)
{
	uint32_t rs = v->bs.rec_size;
	uint8_t *r = bsw_alloc_aligned(rs);
	uint64_t rec;

	if (!r)
		return 0;
	for (rec = 0; rec < 32 && rec < v->nr_recs; rec++) {
		struct bsw_ntfs_rhdr h;
		struct bsw_ntfs_attr a;
		uint32_t pos, prev = 0;
		unsigned n = 0;
		const char *why;

		if (!(v->recs[rec].rflags & BSW_NTFS_R_INUSE) ||
		    bsw_ntfs_read_rec(v, rec, r, NULL) < 0 ||
		    bsw_ntfs_parse_rhdr(r, rs, rs, &h, &why))
			continue;
		pos = h.attrs_off;
		while (n++ < BSW_NTFS_MAX_ATTRS &&
		       bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why) > 0) {
			uint8_t *al = NULL;
			size_t len, off;
			unsigned e = 0;

			if (a.type != NTFS_AT_ATTR_LIST)
				continue;
			if (!a.nonres) {
				al = r + a.val_off;
				len = a.val_len;
			} else {
				struct bsw_ntfs_runs rl = { 0 };

				len = (size_t)BSW_MIN(a.data_size, 1u << 20);
				al = malloc(len ? len : 1);
				if (!al ||
				    bsw_ntfs_parse_runs(r + a.runs_off, a.runs_len, 0,
							v->bs.nr_clusters, &rl, &why) ||
				    bsw_ntfs_runs_read(v, &rl, al, len, 0))
					len = 0;
				bsw_ntfs_runs_free(&rl);
			}
			for (off = 0; off + 26 <= len && e < BSW_NTFS_MAX_ALIST; e++) {
				uint16_t elen = get_le16(al + off + 4);

				if (al[off + 7] != 0x1A)
					BSW_REPORT(v->fx, PR_NTFS_1_ATTRLIST_1C, .rec = rec, .n = e,
						   .n2 = al[off + 7]);
				if (elen < 26 || (elen & 7) || off + elen > len)
					break;
				off += elen;
			}
			if (a.nonres)
				free(al);
		}
	}
	free(r);
	return 0;
}
