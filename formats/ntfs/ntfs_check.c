/*
 * NTFS pass 2: volume checks on what pass 1 collected.
 * Tests: $MFTMirr against $MFT records 0-3 (NTFS-MIRR), $Volume flags
 * (NTFS-VOLFLAG), $LogFile restart pages (NTFS-LOGSTRUCT, NTFS-LOGCLEAN),
 * \hiberfil.sys (NTFS-HIBER), $Bitmap against the clusters in-use records
 * claim (NTFS-BMAPX), system file plausibility (NTFS-META), and the $I30
 * index of each directory on the boot path (NTFS-META).
 * Rules: ../shared/docs/WINDOWS-EVIDENCE.md sections 1.3-1.6.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"

/* ---- 1.3 $MFT vs $MFTMirr ---- */

static void check_mirror(struct bsw_ntfs *v)
{
	uint32_t rs = v->bs.rec_size;
	struct ntfs_stream fs;
	uint8_t *a = NULL, *b = NULL;
	unsigned i, bad;

	if (!bsw_ntfs_load_stream(v, 1, NTFS_AT_DATA, NULL, &fs)) {
		/* ntfs_mftmirr_load: first run LCN = boot sector's mirror LCN */
		if (!fs.resident && fs.runs.nr && fs.runs.r[0].lcn != v->bs.mirr_lcn)
			BSW_REPORT(v->fx, PR_NTFS_2_MIRR_LCN, .rec = 1,
				   .n = (int64_t)fs.runs.r[0].lcn,
				   .n2 = (int64_t)v->bs.mirr_lcn);
		bsw_ntfs_stream_free(&fs);
	}
	if (v->used_mirror)
		BSW_REPORT(v->fx, PR_NTFS_2_MFT_HEAD, .rec = v->head_bad,
			   .str = v->head_why);
	a = bsw_alloc_aligned(rs);
	b = bsw_alloc_aligned(rs);
	if (!a || !b)
		goto out;
	for (i = 0; i < 4; i++) {
		struct bsw_ntfs_rhdr ha, hb;
		const char *wa = NULL, *wb = NULL;
		int ra, rb;

		if (v->mirr_use & (1u << i))
			continue;	/* already reported as NTFS_2_MFT_HEAD */
		if (bsw_ntfs_vol_read(v, a, rs, v->bs.mft_lcn * v->bs.cluster + i * rs))
			continue;
		memcpy(b, v->mirr_raw + i * rs, rs);
		ra = bsw_ntfs_fixup(a, rs, &bad);
		rb = bsw_ntfs_fixup(b, rs, &bad);
		if (ra || bsw_ntfs_parse_rhdr(a, rs, rs, &ha, &wa))
			continue;	/* the $MFT copy is bad: pass 1 said so */
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
}

/* ---- 1.4 $Volume flags ---- */

static void check_volflags(struct bsw_ntfs *v)
{
	struct ntfs_stream fs;
	uint8_t val[16];
	uint16_t fl;
	char s[128] = "";

	if (bsw_ntfs_load_stream(v, 3, NTFS_AT_VOLUME_INFO, NULL, &fs)) {
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 3, .str = "$Volume",
			   .str2 = "no $VOLUME_INFORMATION attribute");
		return;
	}
	if (!fs.resident || fs.res_len < 12) {
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 3, .str = "$Volume",
			   .str2 = "$VOLUME_INFORMATION not resident or too short");
		bsw_ntfs_stream_free(&fs);
		return;
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
}

/* ---- 1.5 $LogFile restart pages ---- */

static void check_logfile(struct bsw_ntfs *v)
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
		return;
	}
	pg = malloc(1u << 16);
	if (!pg)
		goto out;
	/* the second page sits at the system page size the first one names */
	if (bsw_ntfs_stream_pread(v, &fs, pg, 512, 0) == 512) {
		uint32_t m = get_le32(pg), s = get_le32(pg + 0x10);

		if ((m == NTFS_MAGIC_RSTR || m == NTFS_MAGIC_CHKD) &&
		    s >= 512 && s <= (1u << 16) && !(s & (s - 1)))
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
			BSW_REPORT(v->fx, PR_NTFS_2_LOG_STRUCT, .rec = 2, .off = off,
				   .str = why);
		}
	}
	if (st[0] == 0 || st[1] == 0) {
		/* the newer page rules (ntfs_check_logfile) */
		const struct bsw_ntfs_rstr *c = st[0] == 0 ? &r[0] : &r[1];

		if (st[0] == 0 && st[1] == 0 && r[1].current_lsn > r[0].current_lsn)
			c = &r[1];
		if (c->in_use_list != 0xFFFF && !(c->flags & 0x0002)) {
			snprintf(msg, sizeof(msg),
				 "log clients in use and the clean flag is not set (version %d.%d, current LSN %llu)",
				 c->major, c->minor,
				 (unsigned long long)c->current_lsn);
			BSW_REPORT(v->fx, PR_NTFS_2_LOG_UNCLEAN, .rec = 2, .str = msg);
		} else if (c->major == 2) {
			BSW_REPORT(v->fx, PR_NTFS_2_LOG_UNCLEAN, .rec = 2,
				   .str = "version 2.0: the volume was not cleanly dismounted (still mounted, fast startup or crash)");
		}
	}
out:
	free(pg);
	bsw_ntfs_stream_free(&fs);
}

/* ---- hiberfil.sys (1.5, ntfs_volume_check_hiberfile) ---- */

static void check_hiber(struct bsw_ntfs *v)
{
	uint8_t b[4];
	uint64_t rec;
	char sig[5];

	if (bsw_ntfs_lookup(v, "\\hiberfil.sys", &rec))
		return;
	if (bsw_ntfs_read(v, rec, NULL, b, 4, 0) != 4)
		return;
	if (strncasecmp((const char *)b, "hibr", 4))
		return;
	memcpy(sig, b, 4);
	sig[4] = 0;
	BSW_REPORT(v->fx, PR_NTFS_2_HIBER, .rec = rec, .str = sig);
}

/* ---- 1.6 $Bitmap against the computed bitmap; system files ---- */

static void check_bitmap(struct bsw_ntfs *v)
{
	struct ntfs_stream fs;
	uint64_t need = (v->bs.nr_clusters + 7) / 8, off, run_start = 0, run_len = 0;
	uint8_t *buf;
	unsigned i, reported = 0;
	char label[512];

	for (i = 0; i < v->nr_xlink; i++) {
		uint64_t rec = v->xlink[i].rec;
		uint64_t base = rec < v->nr_recs && v->recs[rec].base ?
				v->recs[rec].base : rec;
		bool boot = bsw_ntfs_is_boot_file(v, base);

		bsw_ntfs_rec_label(v, base, label, sizeof(label));
		BSW_REPORT(v->fx, boot ? PR_NTFS_2_BMAP_XLINK_BOOT : PR_NTFS_2_BMAP_XLINK,
			   .rec = base, .n = (int64_t)v->xlink[i].lcn,
			   .n2 = (int64_t)v->xlink[i].len, .str = label);
	}
	if (bsw_ntfs_load_stream(v, 6, NTFS_AT_DATA, NULL, &fs)) {
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 6, .str = "$Bitmap",
			   .str2 = "no $DATA");
		return;
	}
	if (fs.size < need) {
		/* ntfs3 ntfs_fill_super: "$Bitmap is corrupted" */
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 6, .str = "$Bitmap",
			   .str2 = "smaller than one bit per cluster");
		bsw_ntfs_stream_free(&fs);
		return;
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
}

static void check_meta(struct bsw_ntfs *v)
{
	struct ntfs_stream fs;
	uint8_t *ad = NULL;
	uint64_t r;
	static const char *const names[12] = {
		"$MFT", "$MFTMirr", "$LogFile", "$Volume", "$AttrDef", "\\",
		"$Bitmap", "$Boot", "$BadClus", "$Secure", "$UpCase", "$Extend",
	};

	for (r = 0; r < 12 && r < v->nr_recs; r++)
		if (!(v->recs[r].rflags & BSW_NTFS_R_INUSE) &&
		    !(r < 4 && (v->mirr_use & (1u << r))))
			BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = r, .str = names[r],
				   .str2 = "system file record not in use");
	if ((v->recs[5].rflags & BSW_NTFS_R_INUSE) &&
	    !(v->recs[5].rflags & BSW_NTFS_R_DIR))
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 5, .str = "\\",
			   .str2 = "root is not a directory");
	/* $AttrDef: 160-byte entries, the first $STANDARD_INFORMATION, types ascending */
	if (bsw_ntfs_load_stream(v, 4, NTFS_AT_DATA, NULL, &fs)) {
		BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 4, .str = "$AttrDef",
			   .str2 = "no $DATA");
		return;
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
				BSW_REPORT(v->fx, PR_NTFS_2_META, .rec = 4,
					   .str = "$AttrDef",
					   .str2 = "types not ascending multiples of 0x10");
				break;
			}
			prev = t;
		}
	}
	free(ad);
	bsw_ntfs_stream_free(&fs);
}

/* ---- $I30 of the directories on the boot path ---- */

struct ie {
	uint64_t mref;
	uint16_t name[255];
	uint8_t len, ns;
};

struct ie_set {
	struct ie *e;
	size_t nr, cap;
};

static int ie_collect(void *arg, uint64_t mref, const uint8_t *key,
		      uint32_t klen, uint16_t flags, uint64_t sub)
{
	struct ie_set *s = arg;
	struct ie *e;
	unsigned i;

	if (klen < 0x42 || 0x42u + 2u * key[0x40] > klen)
		return 0;
	if (s->nr == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct ie *n;

		if (cap > BSW_NTFS_MAX_INDEX)
			return -E2BIG;
		n = realloc(s->e, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->e = n;
		s->cap = cap;
	}
	e = &s->e[s->nr++];
	e->mref = mref;
	e->len = key[0x40];
	e->ns = key[0x41] & 3;
	for (i = 0; i < e->len; i++)
		e->name[i] = get_le16(key + 0x42 + 2 * i);
	return 0;
}

/* Read every in-use entry of dir's $I30 into s; NULL or why it failed. */
static const char *read_i30(struct bsw_ntfs *v, uint64_t dir, struct ie_set *s)
{
	struct ntfs_stream root, alloc, bmp;
	const char *why = NULL;
	uint32_t bs = 0;
	uint8_t *blk = NULL, *bits = NULL;
	uint64_t nblk, i;
	int ret;

	if (bsw_ntfs_load_stream(v, dir, NTFS_AT_INDEX_ROOT, "$I30", &root))
		return "no $INDEX_ROOT";
	if (!root.resident) {
		bsw_ntfs_stream_free(&root);
		return "$INDEX_ROOT not resident";
	}
	ret = bsw_ntfs_parse_index_root(root.res, root.res_len, &bs, ie_collect,
					s, &why);
	bsw_ntfs_stream_free(&root);
	if (ret)
		return why ? why : "index root unreadable";
	if (bsw_ntfs_load_stream(v, dir, NTFS_AT_INDEX_ALLOC, "$I30", &alloc))
		return NULL;	/* small directory: the root holds it all */
	if (bs < 512 || bs > (1u << 16) || (bs & (bs - 1))) {
		why = "index block size invalid";
		goto out_alloc;
	}
	if (bsw_ntfs_load_stream(v, dir, NTFS_AT_BITMAP, "$I30", &bmp)) {
		why = "$INDEX_ALLOCATION without $BITMAP";
		goto out_alloc;
	}
	nblk = alloc.size / bs;
	if (nblk > BSW_NTFS_MAX_INDEX)
		nblk = BSW_NTFS_MAX_INDEX;
	bits = calloc(nblk / 8 + 1, 1);
	blk = malloc(bs);
	if (!bits || !blk) {
		why = "out of memory";
		goto out;
	}
	bsw_ntfs_stream_pread(v, &bmp, bits, (size_t)BSW_MIN(nblk / 8 + 1, bmp.size), 0);
	for (i = 0; i < nblk; i++) {
		if (!(bits[i / 8] & (1u << (i % 8))))
			continue;
		if (bsw_ntfs_stream_pread(v, &alloc, blk, bs, i * bs) != (int64_t)bs) {
			why = "index block unreadable";
			break;
		}
		if (bsw_ntfs_parse_indx(blk, bs, ie_collect, s, &why)) {
			if (!why)
				why = "index block invalid";
			break;
		}
	}
out:
	free(bits);
	free(blk);
	bsw_ntfs_stream_free(&bmp);
out_alloc:
	bsw_ntfs_stream_free(&alloc);
	return why;
}

static bool ie_name_eq(struct bsw_ntfs *v, const struct ie *e, const char *name)
{
	char tmp[1024];

	bsw_ntfs_utf16_to_utf8(e->name, e->len, tmp, sizeof(tmp));
	return !strcasecmp(tmp, name);
}

static void check_dir_index(struct bsw_ntfs *v, const char *dpath)
{
	struct ie_set s = { 0 };
	uint64_t dir, child;
	const char *why;
	size_t dl = strlen(dpath);
	unsigned i;
	char cpath[512];

	if (bsw_ntfs_lookup(v, dpath, &dir))
		return;
	why = read_i30(v, dir, &s);
	if (why) {
		BSW_REPORT(v->fx, PR_NTFS_2_I30_BAD, .rec = dir, .str = dpath,
			   .str2 = why);
		free(s.e);
		return;
	}
	/* the children that matter: boot files and boot-path directories */
	static const char *const subdirs[] = {
		"\\Windows", "\\Windows\\System32", "\\Windows\\System32\\drivers",
		"\\Windows\\System32\\config",
	};
	for (i = 0; i < bsw_ntfs_nr_boot_files() + BSW_ARRAY_SIZE(subdirs); i++) {
		const char *p = i < bsw_ntfs_nr_boot_files() ? bsw_ntfs_boot_file(i) :
				subdirs[i - bsw_ntfs_nr_boot_files()];
		const char *name;
		size_t k;
		bool found = false;

		/* is p a direct child of dpath? */
		if (!strcmp(dpath, "\\")) {
			if (strchr(p + 1, '\\'))
				continue;
			name = p + 1;
		} else {
			if (strncasecmp(p, dpath, dl) || p[dl] != '\\' ||
			    strchr(p + dl + 1, '\\'))
				continue;
			name = p + dl + 1;
		}
		snprintf(cpath, sizeof(cpath), "%s", p);
		for (k = 0; k < s.nr; k++) {
			const struct ie *e = &s.e[k];
			uint64_t er = NTFS_MREF_REC(e->mref);
			uint16_t es = NTFS_MREF_SEQ(e->mref);

			if (e->ns == 2 || !ie_name_eq(v, e, name))
				continue;
			found = true;
			if (er >= v->nr_recs || !(v->recs[er].rflags & BSW_NTFS_R_INUSE) ||
			    (es && es != v->recs[er].seq))
				BSW_REPORT(v->fx, PR_NTFS_2_I30_STALE, .rec = er,
					   .str = dpath, .str2 = name, .n = es,
					   .n2 = er < v->nr_recs ? v->recs[er].seq : 0);
			break;
		}
		if (!found && !bsw_ntfs_lookup(v, cpath, &child))
			BSW_REPORT(v->fx, PR_NTFS_2_I30_MISSING, .rec = child,
				   .str = dpath, .str2 = name);
	}
	free(s.e);
}

static void check_boot_indexes(struct bsw_ntfs *v)
{
	static const char *const dirs[] = {
		"\\", "\\Windows", "\\Windows\\System32",
		"\\Windows\\System32\\drivers", "\\Windows\\System32\\config",
	};
	unsigned i;

	for (i = 0; i < BSW_ARRAY_SIZE(dirs); i++)
		check_dir_index(v, dirs[i]);
}

void bsw_ntfs_pass2(struct bsw_ntfs *v)
{
	check_mirror(v);
	check_volflags(v);
	check_logfile(v);
	check_hiber(v);
	check_bitmap(v);
	check_meta(v);
	check_boot_indexes(v);
}
