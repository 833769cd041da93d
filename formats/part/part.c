/* MBR and GPT partition tables; filesystem signatures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/utf8.h"
#include "formats/common/bytes.h"
#include "formats/common/crc.h"
#include "formats/cont/cont.h"
#include "formats/part/part.h"

#define MAX_EBR 128	     /* logical partitions followed at most */
#define MAX_GPT_ENTRIES 1024 /* a larger array is not a real table */

static const uint8_t G_ESP[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
				   0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const uint8_t G_MSR[16] = { 0x16, 0xe3, 0xc9, 0xe3, 0x5c, 0x0b, 0xb8, 0x4d,
				   0x81, 0x7d, 0xf9, 0x2d, 0xf0, 0x02, 0x15, 0xae };
static const uint8_t G_BDP[16] = { 0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
				   0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7 };
static const uint8_t G_WRE[16] = { 0xa4, 0xbb, 0x94, 0xde, 0xd1, 0x06, 0x40, 0x4d,
				   0xa1, 0x6a, 0xbf, 0xd5, 0x01, 0x79, 0xd6, 0xac };
static const uint8_t G_LINUX[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
				     0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };

const char *bsw_gpt_type_name(const uint8_t *g)
{
	if (!memcmp(g, G_ESP, 16))
		return "EFI System";
	if (!memcmp(g, G_MSR, 16))
		return "Microsoft reserved";
	if (!memcmp(g, G_BDP, 16))
		return "Microsoft basic data";
	if (!memcmp(g, G_WRE, 16))
		return "Windows recovery";
	if (!memcmp(g, G_LINUX, 16))
		return "Linux filesystem";
	return NULL;
}

void bsw_guid_str(const uint8_t *g, char *out)
{
	snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", get_le32(g),
		 get_le16(g + 4), get_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14],
		 g[15]);
}

static bool pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

enum bsw_fs bsw_fs_probe(const uint8_t *s)
{
	unsigned bps = get_le16(s + 11), spc = s[13];
	static const uint8_t zero[512];

	if (!memcmp(s + 3, "NTFS    ", 8))
		return BSW_FS_NTFS;
	if (!memcmp(s + 3, "-FVE-FS-", 8))
		return BSW_FS_BITLOCKER;
	if (!memcmp(s + 3, "EXFAT   ", 8))
		return BSW_FS_EXFAT;
	if (!memcmp(s, zero, 512))
		return BSW_FS_ZERO;
	if ((!memcmp(s + 54, "FAT1", 4) || !memcmp(s + 82, "FAT32   ", 8)) && bps >= 512 &&
	    bps <= 4096 && pow2(bps) && pow2(spc))
		return BSW_FS_FAT;
	return BSW_FS_OTHER;
}

/*
 * Superblocks past the first sector (magic offsets from the partition
 * start): ext2/3/4 s_magic 0xEF53 (LE) at 1024 + 0x38, XFS sb_magicnum
 * "XFSB" at 0, btrfs "_BHRfS_M" at 64 KiB + 0x40.
 */
#define EXT_MAGIC_OFF (1024u + 0x38u)
#define EXT_MAGIC 0xEF53u
#define BTRFS_MAGIC_OFF ((64u << 10) + 0x40u)

enum bsw_fs bsw_fs_probe_area(const uint8_t *b, size_t len)
{
	if (bsw_range_ok(EXT_MAGIC_OFF, 2, len) && get_le16(b + EXT_MAGIC_OFF) == EXT_MAGIC)
		return BSW_FS_EXT;
	if (len >= 4 && !memcmp(b, "XFSB", 4))
		return BSW_FS_XFS;
	if (bsw_range_ok(BTRFS_MAGIC_OFF, 8, len) && !memcmp(b + BTRFS_MAGIC_OFF, "_BHRfS_M", 8))
		return BSW_FS_BTRFS;
	if (len < 512)
		return BSW_FS_UNKNOWN;
	return bsw_fs_probe(b);
}

bool bsw_fs_is_foreign(enum bsw_fs fs)
{
	switch (fs) {
	case BSW_FS_FAT:
	case BSW_FS_BITLOCKER:
	case BSW_FS_EXFAT:
	case BSW_FS_EXT:
	case BSW_FS_XFS:
	case BSW_FS_BTRFS: return true;
	case BSW_FS_UNKNOWN:
	case BSW_FS_NTFS:
	case BSW_FS_ZERO:
	case BSW_FS_OTHER: break;
	}
	return false;
}

const char *bsw_fs_name(enum bsw_fs fs)
{
	switch (fs) {
	case BSW_FS_NTFS: return "ntfs";
	case BSW_FS_FAT: return "fat";
	case BSW_FS_BITLOCKER: return "bitlocker";
	case BSW_FS_EXFAT: return "exfat";
	case BSW_FS_ZERO: return "zero";
	case BSW_FS_OTHER: return "other";
	case BSW_FS_EXT: return "ext";
	case BSW_FS_XFS: return "xfs";
	case BSW_FS_BTRFS: return "btrfs";
	default: return "unknown";
	}
}

static struct bsw_part *add(struct bsw_part_table *t, uint64_t start, uint64_t size)
{
	struct bsw_part *p;

	if (t->nr >= BSW_MAX_PARTS)
		return NULL;
	p = &t->part[t->nr++];
	memset(p, 0, sizeof(*p));
	p->index = t->nr;
	p->scheme = t->scheme;
	p->start = start;
	p->size = size;
	return p;
}

static bool is_ext(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

static int parse_mbr(const struct bsw_src *src, const uint8_t *mbr, uint32_t ss,
		     struct bsw_part_table *t, struct bsw_fx *fx)
{
	uint64_t disk_sectors = src->size / ss;
	uint8_t ebr[512];

	t->scheme = "mbr";
	t->mbr_signature = get_le32(mbr + 440);
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = mbr + 446 + 16 * i;
		uint8_t type = e[4];
		uint64_t lba = get_le32(e + 8), cnt = get_le32(e + 12);
		struct bsw_part *p;

		if (!type || !cnt)
			continue;
		if (lba + cnt > disk_sectors)
			BSW_REPORT(fx, PR_5_MBR_RANGE, .n = i + 1, .lba = lba, .n2 = cnt);
		if (is_ext(type)) {
			/* Walk the EBR chain: capped and loop-checked. */
			uint64_t ext = lba, cur = lba, seen[MAX_EBR];
			unsigned n = 0;

			for (;;) {
				const uint8_t *l, *nx;

				for (unsigned k = 0; k < n; k++)
					if (seen[k] == cur)
						goto loop;
				if (n >= MAX_EBR) {
loop:
					BSW_REPORT(fx, PR_5_MBR_LOOP, .n = MAX_EBR, .lba = cur);
					break;
				}
				seen[n++] = cur;
				if (cur >= disk_sectors ||
				    bsw_src_read_full(src, ebr, 512, cur * ss) ||
				    get_le16(ebr + 510) != 0xaa55)
					break;
				l = ebr + 446;
				nx = ebr + 462;
				if (l[4] && get_le32(l + 12)) {
					p = add(t, (cur + get_le32(l + 8)) * ss,
						(uint64_t)get_le32(l + 12) * ss);
					if (!p)
						break;
					p->mbr_type = l[4];
					p->active = l[0] == 0x80;
					p->logical = true;
					p->esp = l[4] == 0xef;
				}
				if (!is_ext(nx[4]) || !get_le32(nx + 12))
					break;
				cur = ext + get_le32(nx + 8);
			}
			continue;
		}
		p = add(t, lba * ss, cnt * ss);
		if (!p)
			break;
		p->mbr_type = type;
		p->active = e[0] == 0x80;
		p->esp = type == 0xef;
	}
	/* Primaries before logicals, as fdisk numbers them, is already the
	 * order of the loop except logicals of an early extended partition;
	 * keep the on-disk order and renumber. */
	for (unsigned i = 0; i < t->nr; i++)
		t->part[i].index = i + 1;
	return 0;
}

/* Validate a GPT header at lba; on success *entries holds its array. */
static const char *gpt_read(const struct bsw_src *src, uint32_t ss, uint64_t lba, uint8_t *hdr,
			    uint8_t **entries)
{
	uint32_t hsize, crc, nent, esize;
	uint64_t elba, alen;
	uint8_t *arr;

	*entries = NULL;
	if (bsw_src_read_full(src, hdr, ss, lba * ss))
		return "unreadable";
	if (memcmp(hdr, "EFI PART", 8))
		return "no 'EFI PART' signature";
	hsize = get_le32(hdr + 12);
	if (hsize < 92 || hsize > ss)
		return "header size out of range";
	crc = get_le32(hdr + 16);
	put_le32(hdr + 16, 0);
	if (bsw_crc32(0, hdr, hsize) != crc) {
		put_le32(hdr + 16, crc);
		return "header CRC mismatch";
	}
	put_le32(hdr + 16, crc);
	if (get_le64(hdr + 24) != lba)
		return "header does not name its own LBA";
	nent = get_le32(hdr + 80);
	esize = get_le32(hdr + 84);
	elba = get_le64(hdr + 72);
	if (nent == 0 || nent > MAX_GPT_ENTRIES || esize < 128 || esize > 1024 || esize % 8)
		return "entry count or size out of range";
	alen = (uint64_t)nent * esize;
	if (!bsw_range_ok(elba * ss, alen, src->size) || elba > src->size / ss)
		return "entry array past the end of the disk";
	arr = malloc(alen);
	if (!arr)
		return "out of memory";
	if (bsw_src_read_full(src, arr, alen, elba * ss)) {
		free(arr);
		return "entry array unreadable";
	}
	if (bsw_crc32(0, arr, alen) != get_le32(hdr + 88)) {
		free(arr);
		return "entry array CRC mismatch";
	}
	*entries = arr;
	return NULL;
}

static int parse_gpt(const struct bsw_src *src, uint32_t ss, struct bsw_part_table *t,
		     struct bsw_fx *fx)
{
	uint8_t *hdr = malloc(ss), *bhdr = malloc(ss), *arr = NULL, *barr = NULL;
	uint64_t last = src->size / ss - 1;
	const char *why, *bwhy;
	uint8_t *use_hdr;

	if (!hdr || !bhdr) {
		free(hdr);
		free(bhdr);
		return -ENOMEM;
	}
	t->scheme = "gpt";
	why = gpt_read(src, ss, 1, hdr, &arr);
	/* The backup is where the primary says, else at the last LBA. */
	{
		uint64_t alt = why ? last : get_le64(hdr + 32);

		if (alt == 0 || alt > last)
			alt = last;
		bwhy = gpt_read(src, ss, alt, bhdr, &barr);
		if (bwhy && alt != last)
			bwhy = gpt_read(src, ss, last, bhdr, &barr);
		if (why && !bwhy) {
			t->gpt_backup_used = true;
			BSW_REPORT(fx, PR_5_GPT_BACKUP_USED, .str = why,
				   .lba = get_le64(bhdr + 24));
		} else if (!why && bwhy) {
			BSW_REPORT(fx, PR_5_GPT_BACKUP_BAD, .str = bwhy);
		}
	}
	if (why && bwhy) {
		t->gpt_broken = true;
		BSW_REPORT(fx, PR_5_GPT_BOTH_BAD, .str = why, .str2 = bwhy);
		goto out;
	}
	use_hdr = why ? bhdr : hdr;
	if (why) {
		arr = barr;
		barr = NULL;
	}
	memcpy(t->disk_guid, use_hdr + 56, 16);
	{
		uint32_t n = get_le32(use_hdr + 80), es = get_le32(use_hdr + 84);
		static const uint8_t zero[16];

		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *e = arr + (uint64_t)i * es;
			uint64_t s = get_le64(e + 32), l = get_le64(e + 40);
			struct bsw_part *p;
			char *name;

			if (!memcmp(e, zero, 16))
				continue;
			if (l < s || l > last) {
				BSW_REPORT(fx, PR_5_GPT_ENTRY_RANGE, .n = i + 1, .lba = s, .n2 = l);
				continue;
			}
			p = add(t, s * ss, (l - s + 1) * ss);
			if (!p)
				break;
			memcpy(p->type_guid, e, 16);
			memcpy(p->part_guid, e + 16, 16);
			name = bsw_utf16le_dup(e + 56, 36, BSW_U16_STOP_NUL);
			if (name) {
				snprintf(p->name, sizeof(p->name), "%s", name);
				free(name);
			}
			p->esp = !memcmp(e, G_ESP, 16);
		}
	}
out:
	free(hdr);
	free(bhdr);
	free(arr);
	free(barr);
	return 0;
}

/* 1 if the GPT only makes sense with 4096-byte sectors. */
static bool gpt_4kn(const struct bsw_src *src)
{
	struct bsw_part_table *t = malloc(sizeof(*t));
	struct bsw_fx *quiet;
	bool r = false;

	if (!t)
		return false;
	if (!bsw_fx_create(&quiet)) {
		memset(t, 0, sizeof(*t));
		if (!parse_gpt(src, 512, t, quiet) && t->gpt_broken) {
			memset(t, 0, sizeof(*t));
			r = !parse_gpt(src, 4096, t, quiet) && !t->gpt_broken;
		}
		bsw_fx_destroy(quiet);
	}
	free(t);
	return r;
}

int bsw_part_parse(const struct bsw_src *src, uint32_t sector, struct bsw_part_table *t,
		   struct bsw_fx *fx)
{
	uint8_t s0[512];
	bool prot = false;
	int rc;

	memset(t, 0, sizeof(*t));
	t->scheme = "none";
	if (sector != 512 && sector != 4096)
		sector = 512;
	t->sector = sector;
	if (src->size < 512)
		return 0;
	rc = bsw_src_read_full(src, s0, 512, 0);
	if (rc)
		return rc;
	/* A volume boot sector also ends in 55 AA: recognise it first. */
	{
		enum bsw_fs fs = bsw_fs_probe(s0);

		if (fs == BSW_FS_NTFS || fs == BSW_FS_BITLOCKER || fs == BSW_FS_EXFAT ||
		    fs == BSW_FS_FAT) {
			struct bsw_part *p = add(t, 0, src->size);

			p->fs = fs;
			return 0;
		}
	}
	if (get_le16(s0 + 510) != 0xaa55)
		return 0;
	for (int i = 0; i < 4; i++)
		if (s0[446 + 16 * i + 4] == 0xee)
			prot = true;
	if (prot) {
		/*
		 * A 4Kn disk has its GPT header in the second 4 KiB sector.
		 * Decide the sector size quietly first, so a 4Kn disk does not
		 * collect the "both GPTs damaged" finding of the 512-byte try.
		 */
		if (sector == 512 && src->size > 8 * 4096 && gpt_4kn(src))
			sector = 4096;
		t->sector = sector;
		rc = parse_gpt(src, sector, t, fx);
	} else {
		rc = parse_mbr(src, s0, sector, t, fx);
	}
	if (rc)
		return rc;
	/* Overlaps, and the filesystem of each partition. */
	for (unsigned i = 0; i < t->nr; i++) {
		struct bsw_part *p = &t->part[i];
		uint8_t b[512];

		p->scheme = t->scheme;
		for (unsigned j = i + 1; j < t->nr; j++) {
			struct bsw_part *q = &t->part[j];

			if (p->start < q->start + q->size && q->start < p->start + p->size)
				BSW_REPORT(fx, PR_5_PART_OVERLAP, .n = p->index, .n2 = q->index);
		}
		if (bsw_range_ok(p->start, 512, src->size) &&
		    !bsw_src_read_full(src, b, 512, p->start))
			p->fs = bsw_fs_probe(b);
	}
	return 0;
}
