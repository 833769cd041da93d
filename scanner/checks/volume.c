/*
 * Stages "disk" and "volume" (docs/classifier.md): is there anything on
 * the disk (DISK-EMPTY, DISK-NOTWIN without a partition table), and which
 * NTFS volume holds Windows (\Windows\System32\config\SYSTEM).  When
 * none does, the disk is decided here: DISK-ENCRYPTED where a BitLocker
 * volume may be Windows, the evidence of a volume NTFS cannot open, or
 * DISK-NOTWIN.
 *
 * Collects for later stages: t->v (the Windows volume, read through
 * t->wsrc), t->wp (its partition), t->uefi, and t->evidence (the damaged
 * volume kept as the evidence when there is no Windows volume).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/part/part.h"
#include "scanner/checks/bootfiles.h"
#include "scanner/checks/triage.h"

static const uint8_t gpt_basic_data[16] = { 0xA2, 0xA0, 0xD0, 0xEB, 0xE5, 0xB9, 0x33, 0x44,
					    0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99, 0xC7 };

/* A partition that may hold NTFS even if its boot sector is damaged. */
static bool ntfs_candidate(const struct bsw_part *p)
{
	if (p->fs == BSW_FS_NTFS)
		return true;
	if (p->fs != BSW_FS_OTHER && p->fs != BSW_FS_UNKNOWN && p->fs != BSW_FS_ZERO)
		return false;
	if (!strcmp(p->scheme, "gpt"))
		return !memcmp(p->type_guid, gpt_basic_data, 16);
	if (!strcmp(p->scheme, "mbr"))
		return p->mbr_type == 0x07;
	return p->fs != BSW_FS_ZERO;
}

/*
 * A partition NTFS could not open: is it a damaged NTFS volume (its boot
 * sectors gone, the rest there) rather than an empty partition or another
 * filesystem?  Not another filesystem's signature in the first 128 KiB
 * (bsw_fs_probe_area: ext2/3/4, XFS, btrfs, FAT, exFAT, BitLocker), and
 * not all zeros at 64 points spread over the partition.
 */
static bool plausible_ntfs(struct bsw_tctx *t, const struct bsw_part *p)
{
	uint8_t *b;
	unsigned i, j;
	bool data = false;

	if (p->fs == BSW_FS_OTHER || p->size < (1u << 20))
		return false;
	b = malloc(BSW_FS_PROBE_AREA);
	if (!b)
		return false;
	if (!bsw_disk_read(t->d, b, BSW_FS_PROBE_AREA, p->start) &&
	    bsw_fs_is_foreign(bsw_fs_probe_area(b, BSW_FS_PROBE_AREA))) {
		free(b);
		return false;
	}
	for (i = 1; i <= 64 && !data; i++) {
		uint64_t off = p->start + (p->size / 65 * i & ~(uint64_t)4095);

		if (bsw_disk_read(t->d, b, 4096, off))
			continue;
		for (j = 0; j < 4096; j++)
			if (b[j]) {
				data = true;
				break;
			}
	}
	free(b);
	return data;
}

static void find_windows(struct bsw_tctx *t, bool *had_ntfs, struct bsw_fx **broken,
			 const struct bsw_part **bpart)
{
	unsigned i, n = bsw_disk_nr_parts(t->d);
	uint64_t rec;

	*had_ntfs = false;
	*broken = NULL;
	*bpart = NULL;
	for (i = 0; i < n && !t->v; i++) {
		const struct bsw_part *p = bsw_disk_part(t->d, i);
		struct bsw_ntfs_opts no = { .run_checks = true,
					    .mem_cap = t->o->mem_cap,
					    .critical = bsw_boot_files,
					    .nr_critical = bsw_nr_boot_files,
					    .share = bsw_tctx_mft_share(t) };
		struct bsw_fx *pfx = NULL;
		struct bsw_ntfs *v = NULL;
		char scope[32];
		int r;

		if (!ntfs_candidate(p) || bsw_tctx_over(t))
			continue;
		if (bsw_fx_create(&pfx))
			return;
		snprintf(scope, sizeof(scope), "part%u:ntfs", p->index);
		free(bsw_fx_push_scope(pfx, scope));
		bsw_disk_part_src(t->d, p, &t->wsrc, &t->wwin);
		r = bsw_ntfs_open(&v, &t->wsrc, pfx, &no);
		if (bsw_disk_io_error(t->d, NULL)) {
			/* keep what was found before the error (the ticks
			 * sort it out); no second opinion: libntfs-3g would
			 * read the same failing bytes */
			bsw_fx_merge(t->fx, pfx);
			bsw_fx_destroy(pfx);
			if (v)
				bsw_ntfs_close(v);
			return;
		}
		if (!r)
			*had_ntfs = true;
		if (!r && !bsw_ntfs_lookup(v, "\\Windows\\System32\\config\\SYSTEM", &rec)) {
			t->v = v;
			t->wp = p;
			bsw_fx_merge(t->fx, pfx);
			bsw_fx_destroy(pfx);
			return;
		}
		if (v)
			bsw_ntfs_close(v);
		bsw_tctx_note_budget(t, r);
		/* a volume that NTFS cannot open at all, with an unbootable
		 * finding, is the likely Windows volume: keep its evidence */
		if (r && bsw_fx_count(pfx) && !*broken && !t->limited && plausible_ntfs(t, p)) {
			*broken = pfx;
			*bpart = p;
			continue;
		}
		bsw_fx_destroy(pfx);
	}
}

static bool all_zero_disk(struct bsw_disk *d)
{
	uint8_t buf[4096];
	uint64_t sz = bsw_disk_size(d);
	uint64_t offs[3] = { 0, sz / 2, sz > sizeof(buf) ? sz - sizeof(buf) : 0 };
	unsigned i, j;

	for (i = 0; i < 3; i++) {
		size_t n = (size_t)BSW_MIN((uint64_t)sizeof(buf), sz - offs[i]);

		offs[i] &= ~(uint64_t)511;
		if (!n || bsw_disk_read(d, buf, n, offs[i]))
			continue;
		for (j = 0; j < n; j++)
			if (buf[j])
				return false;
	}
	return true;
}

/* Stage "disk": a disk with nothing on it is decided before any volume. */
void bsw_stage_disk(struct bsw_tctx *t)
{
	unsigned i, n = bsw_disk_nr_parts(t->d), nr_fs = 0;

	t->uefi = !strcmp(bsw_disk_scheme(t->d), "gpt");
	for (i = 0; i < n; i++) {
		const struct bsw_part *p = bsw_disk_part(t->d, i);

		if (p->fs != BSW_FS_ZERO && p->fs != BSW_FS_UNKNOWN)
			nr_fs++;
	}
	if (n && (nr_fs || strcmp(bsw_disk_scheme(t->d), "none")))
		return;
	if (all_zero_disk(t->d)) {
		BSW_REPORT(t->fx, PR_0_DISK_EMPTY);
		t->decided = true;
	} else if (!n) {
		BSW_REPORT(t->fx, PR_0_DISK_NOT_WINDOWS,
			   .str = "no partition table and no filesystem recognised");
		t->decided = true;
	}
}

/* Stage "volume": the Windows volume, or the decision that there is none. */
void bsw_stage_volume(struct bsw_tctx *t)
{
	unsigned i, n = bsw_disk_nr_parts(t->d), nr_enc = 0;
	const struct bsw_part *bpart;
	struct bsw_fx *broken;
	bool had_ntfs;

	for (i = 0; i < n; i++)
		if (bsw_disk_part(t->d, i)->fs == BSW_FS_BITLOCKER)
			nr_enc++;
	find_windows(t, &had_ntfs, &broken, &bpart);
	if (t->v) {
		bsw_fx_destroy(broken);
		return;
	}
	t->decided = true;
	/*
	 * An encrypted partition makes the disk unassessable only when it may
	 * be the Windows volume: a BitLocker data volume beside a readable
	 * Windows volume does not hide the boot path.
	 */
	for (i = 0; i < n; i++) {
		const struct bsw_part *p = bsw_disk_part(t->d, i);

		if (p->fs == BSW_FS_BITLOCKER)
			BSW_REPORT(t->fx, PR_0_DISK_ENCRYPTED, .n = p->index, .off = p->start,
				   .str = "-FVE-FS-");
	}
	if (nr_enc || t->limited || bsw_disk_io_error(t->d, NULL)) {
		bsw_fx_destroy(broken);
		return;
	}
	if (broken) {
		bsw_fx_merge(t->fx, broken);
		bsw_fx_destroy(broken);
		t->evidence = bpart;
		return;
	}
	BSW_REPORT(t->fx, PR_0_DISK_NOT_WINDOWS,
		   .str = had_ntfs ? "no \\Windows\\System32\\config\\SYSTEM" : "no NTFS volume");
}
