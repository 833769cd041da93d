/*
 * Partition tables built in memory: GPT (intact, primary damaged, both
 * damaged, 4Kn), MBR with an extended chain (normal, looping, runaway
 * chain), bare volumes, and the filesystem signature probes (first sector,
 * first 128 KiB).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/crc.h"
#include "formats/part/part.h"
#include "t_helpers.h"

#include "gpt_build.h"

static int parse(struct bsw_part_table *t, struct bsw_fx **fx)
{
	struct bsw_src src;
	struct bsw_src_mem m;

	bsw_src_mem_init(&src, &m, disk, DISK);
	if (bsw_fx_create(fx))
		return -1;
	return bsw_part_parse(&src, 512, t, *fx);
}

static struct bsw_part_table t;

static void test_gpt(void)
{
	struct bsw_fx *fx;

	make_gpt(512);
	/* an NTFS boot sector in partition 2 */
	memcpy(disk + 4096 * 512 + 3, "NTFS    ", 8);
	T_CHECK(parse(&t, &fx) == 0, "gpt parse");
	T_CHECK(!strcmp(t.scheme, "gpt"), "scheme %s", t.scheme);
	T_CHECK(t.nr == 2, "nr %u", t.nr);
	T_CHECK(t.part[0].start == 2048 * 512 && t.part[0].size == 2048 * 512 && t.part[0].esp &&
			!strcmp(t.part[0].name, "EFI"),
		"esp");
	T_CHECK(t.part[1].index == 2 && t.part[1].fs == BSW_FS_NTFS, "fs %d", t.part[1].fs);
	T_CHECK(t.disk_guid[0] == 0x42, "disk guid");
	T_CHECK(bsw_fx_count(fx) == 0, "findings on a good GPT: %zu", bsw_fx_count(fx));
	bsw_fx_destroy(fx);

	/* primary header CRC broken: backup used, PART-GPT */
	disk[512 + 40] ^= 1;
	T_CHECK(parse(&t, &fx) == 0, "gpt parse");
	T_CHECK(t.gpt_backup_used && t.nr == 2 && t.part[1].start == 4096 * 512,
		"backup used %d nr %u", t.gpt_backup_used, t.nr);
	T_CHECK(bsw_fx_nr(fx, PR_5_GPT_BACKUP_USED) == 1 && bsw_fx_has_code(fx, "PART-GPT") &&
			!bsw_fx_has_code(fx, "BOOT-PART"),
		"PART-GPT finding");
	bsw_fx_destroy(fx);

	/* primary entry array broken (header fine) */
	disk[512 + 40] ^= 1;
	disk[2 * 512 + 130] ^= 0xff;
	T_CHECK(parse(&t, &fx) == 0 && t.gpt_backup_used && t.nr == 2, "array CRC -> backup");
	bsw_fx_destroy(fx);

	/* both broken: BOOT-PART, no partitions */
	memset(disk + DISK - 512, 0, 8);
	T_CHECK(parse(&t, &fx) == 0, "gpt parse");
	T_CHECK(t.gpt_broken && t.nr == 0, "both broken nr %u", t.nr);
	T_CHECK(bsw_fx_has_code(fx, "BOOT-PART") &&
			bsw_problem_info(PR_5_GPT_BOTH_BAD)->verdict == BSW_V_UNBOOT,
		"BOOT-PART unbootable");
	bsw_fx_destroy(fx);

	/* backup only damaged: primary used, warning */
	make_gpt(512);
	disk[DISK - 512 + 20] ^= 1;
	T_CHECK(parse(&t, &fx) == 0 && !t.gpt_backup_used && t.nr == 2, "primary used");
	T_CHECK(bsw_fx_nr(fx, PR_5_GPT_BACKUP_BAD) == 1, "backup bad reported");
	bsw_fx_destroy(fx);

	/* an entry past the last LBA: ignored and reported */
	make_gpt(512);
	put_le64x(disk + 2 * 512 + 128 + 40, 1ull << 40);
	put_le32(disk + 512 + 88, bsw_crc32(0, disk + 2 * 512, 128 * 128));
	put_le32(disk + 512 + 16, 0);
	put_le32(disk + 512 + 16, bsw_crc32(0, disk + 512, 92));
	T_CHECK(parse(&t, &fx) == 0 && t.nr == 1 && !t.gpt_backup_used &&
			bsw_fx_nr(fx, PR_5_GPT_ENTRY_RANGE) == 1,
		"entry range nr %u", t.nr);
	bsw_fx_destroy(fx);

	/* header naming an absurd entry count must not allocate it */
	make_gpt(512);
	put_le32(disk + 512 + 80, 0xffffffffu);
	put_le32(disk + 512 + 16, 0);
	put_le32(disk + 512 + 16, bsw_crc32(0, disk + 512, 92));
	T_CHECK(parse(&t, &fx) == 0 && t.gpt_backup_used, "huge entry count rejected");
	bsw_fx_destroy(fx);

	/* 4Kn disk */
	make_gpt(4096);
	T_CHECK(parse(&t, &fx) == 0, "4kn parse");
	T_CHECK(t.sector == 4096 && t.nr == 2 && t.part[0].start == 2048 * 512,
		"4kn sector %u nr %u", t.sector, t.nr);
	T_CHECK(bsw_fx_count(fx) == 0, "4kn: no findings from the 512-byte try (%zu)",
		bsw_fx_count(fx));
	bsw_fx_destroy(fx);
}

static void test_mbr(void)
{
	struct bsw_fx *fx;
	uint32_t ext = 4096;

	memset(disk, 0, DISK);
	mbr_entry(disk, 0, 0x80, 0x07, 2048, 2048);
	mbr_entry(disk, 1, 0, 0x0f, ext, 4096);
	/* EBR 1: logical at ext+1 (63 sectors), next EBR at ext+1024 */
	mbr_entry(disk + ext * 512, 0, 0, 0x0b, 1, 1000);
	mbr_entry(disk + ext * 512, 1, 0, 0x05, 1024, 2000);
	mbr_entry(disk + (ext + 1024) * 512, 0, 0, 0x07, 8, 500);
	put_le32(disk + 440, 0xdeadbeef);
	T_CHECK(parse(&t, &fx) == 0 && !strcmp(t.scheme, "mbr"), "mbr parse");
	T_CHECK(t.nr == 3, "nr %u", t.nr);
	T_CHECK(t.part[0].active && t.part[0].mbr_type == 7 && !t.part[0].logical, "primary");
	T_CHECK(t.part[1].logical && t.part[1].start == (uint64_t)(ext + 1) * 512 &&
			t.part[1].size == 1000 * 512,
		"logical 1 at %llu", (unsigned long long)t.part[1].start);
	T_CHECK(t.part[2].logical && t.part[2].start == (uint64_t)(ext + 1024 + 8) * 512 &&
			t.part[2].index == 3,
		"logical 2");
	T_CHECK(t.mbr_signature == 0xdeadbeef, "signature");
	T_CHECK(bsw_fx_count(fx) == 0, "no findings");
	bsw_fx_destroy(fx);

	/* second EBR points back at the first: a loop, reported, no hang */
	mbr_entry(disk + (ext + 1024) * 512, 1, 0, 0x05, 0, 100);
	T_CHECK(parse(&t, &fx) == 0 && t.nr == 3, "loop nr %u", t.nr);
	T_CHECK(bsw_fx_nr(fx, PR_5_MBR_LOOP) == 1, "loop reported");
	bsw_fx_destroy(fx);

	/* a chain longer than the cap: EBR k points to EBR k+1, 200 of them */
	memset(disk, 0, DISK);
	mbr_entry(disk, 0, 0, 0x05, ext, 10000);
	for (uint32_t k = 0; k < 200; k++) {
		uint8_t *e = disk + (ext + 4 * k) * 512;

		mbr_entry(e, 0, 0, 0x07, 1, 2);
		mbr_entry(e, 1, 0, 0x05, 4 * (k + 1), 4);
	}
	T_CHECK(parse(&t, &fx) == 0 && t.nr <= BSW_MAX_PARTS, "cap nr %u", t.nr);
	T_CHECK(bsw_fx_nr(fx, PR_5_MBR_LOOP) == 1 || t.nr == BSW_MAX_PARTS, "cap reported");
	bsw_fx_destroy(fx);

	/* partition past the end of the disk */
	memset(disk, 0, DISK);
	mbr_entry(disk, 0, 0, 0x07, 2048, 0x100000);
	T_CHECK(parse(&t, &fx) == 0 && bsw_fx_nr(fx, PR_5_MBR_RANGE) == 1, "range");
	bsw_fx_destroy(fx);
	/* overlapping primaries */
	mbr_entry(disk, 0, 0, 0x07, 2048, 2048);
	mbr_entry(disk, 1, 0, 0x07, 3000, 2048);
	T_CHECK(parse(&t, &fx) == 0 && bsw_fx_nr(fx, PR_5_PART_OVERLAP) == 1, "overlap");
	bsw_fx_destroy(fx);
}

static void test_bare(void)
{
	struct bsw_fx *fx;
	uint8_t s[512];

	/* a bare NTFS volume: scheme none, one partition over the disk */
	memset(disk, 0, DISK);
	memcpy(disk + 3, "NTFS    ", 8);
	disk[510] = 0x55;
	disk[511] = 0xaa;
	T_CHECK(parse(&t, &fx) == 0 && !strcmp(t.scheme, "none") && t.nr == 1 &&
			t.part[0].size == DISK && t.part[0].fs == BSW_FS_NTFS,
		"bare ntfs");
	bsw_fx_destroy(fx);
	/* nothing at all */
	memset(disk, 0, 512);
	T_CHECK(parse(&t, &fx) == 0 && t.nr == 0 && !strcmp(t.scheme, "none"), "empty");
	bsw_fx_destroy(fx);

	memset(s, 0, sizeof(s));
	T_CHECK(bsw_fs_probe(s) == BSW_FS_ZERO, "zero");
	memcpy(s + 3, "-FVE-FS-", 8);
	T_CHECK(bsw_fs_probe(s) == BSW_FS_BITLOCKER, "bitlocker");
	memcpy(s + 3, "EXFAT   ", 8);
	T_CHECK(bsw_fs_probe(s) == BSW_FS_EXFAT, "exfat");
	memcpy(s + 3, "MSDOS5.0", 8);
	put_le16(s + 11, 512);
	s[13] = 8;
	memcpy(s + 82, "FAT32   ", 8);
	T_CHECK(bsw_fs_probe(s) == BSW_FS_FAT, "fat32");
	put_le16(s + 11, 500);
	T_CHECK(bsw_fs_probe(s) == BSW_FS_OTHER, "fat with bad bps");
	T_CHECK(!strcmp(bsw_fs_name(BSW_FS_NTFS), "ntfs"), "name");
	T_CHECK(!strcmp(bsw_gpt_type_name(ESP), "EFI System"), "type name");
	{
		char g[37];

		bsw_guid_str(ESP, g);
		T_CHECK(!strcmp(g, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"), "guid %s", g);
	}
}

/*
 * The probe over a partition's first 128 KiB: the superblocks further in
 * (ext2/3/4, XFS, btrfs), which win over the first sector, the first
 * sector's kinds, short buffers, and what counts as another filesystem.
 */
static void test_probe_area(void)
{
	uint8_t *a = calloc(1, BSW_FS_PROBE_AREA);

	if (!a) {
		T_CHECK(0, "calloc");
		return;
	}
	T_CHECK(bsw_fs_probe_area(a, BSW_FS_PROBE_AREA) == BSW_FS_ZERO, "zero");
	T_CHECK(bsw_fs_probe_area(a, 511) == BSW_FS_UNKNOWN, "short: unknown");
	T_CHECK(bsw_fs_probe_area(a, 0) == BSW_FS_UNKNOWN, "empty: unknown");
	memcpy(a + 3, "NTFS    ", 8);
	T_CHECK(bsw_fs_probe_area(a, BSW_FS_PROBE_AREA) == BSW_FS_NTFS, "ntfs");
	/* ext: s_magic at 1024 + 0x38, even behind an NTFS boot sector */
	put_le16(a + 1080, 0xEF53);
	T_CHECK(bsw_fs_probe_area(a, BSW_FS_PROBE_AREA) == BSW_FS_EXT, "ext");
	T_CHECK(bsw_fs_probe_area(a, 1082) == BSW_FS_EXT, "ext, just long enough");
	T_CHECK(bsw_fs_probe_area(a, 1081) == BSW_FS_NTFS, "ext magic cut: first sector");
	put_le16(a + 1080, 0x53EF);
	T_CHECK(bsw_fs_probe_area(a, BSW_FS_PROBE_AREA) == BSW_FS_NTFS, "ext magic byte order");
	memset(a, 0, 512);
	/* btrfs: "_BHRfS_M" at 64 KiB + 0x40 */
	memcpy(a + 65536 + 64, "_BHRfS_M", 8);
	T_CHECK(bsw_fs_probe_area(a, BSW_FS_PROBE_AREA) == BSW_FS_BTRFS, "btrfs");
	T_CHECK(bsw_fs_probe_area(a, 65536 + 71) == BSW_FS_ZERO, "btrfs magic cut");
	memset(a + 65536, 0, 128);
	memcpy(a, "XFSB", 4);
	T_CHECK(bsw_fs_probe_area(a, BSW_FS_PROBE_AREA) == BSW_FS_XFS, "xfs");
	T_CHECK(bsw_fs_probe_area(a, 4) == BSW_FS_XFS, "xfs in 4 bytes");
	T_CHECK(bsw_fs_probe_area(a, 3) == BSW_FS_UNKNOWN, "3 bytes");
	memset(a, 0, 512);
	memcpy(a + 3, "-FVE-FS-", 8);
	T_CHECK(bsw_fs_probe_area(a, 512) == BSW_FS_BITLOCKER, "first sector kinds");
	T_CHECK(!strcmp(bsw_fs_name(BSW_FS_EXT), "ext") &&
			!strcmp(bsw_fs_name(BSW_FS_XFS), "xfs") &&
			!strcmp(bsw_fs_name(BSW_FS_BTRFS), "btrfs"),
		"names");
	T_CHECK(bsw_fs_is_foreign(BSW_FS_EXT) && bsw_fs_is_foreign(BSW_FS_XFS) &&
			bsw_fs_is_foreign(BSW_FS_BTRFS) && bsw_fs_is_foreign(BSW_FS_FAT) &&
			bsw_fs_is_foreign(BSW_FS_EXFAT) && bsw_fs_is_foreign(BSW_FS_BITLOCKER),
		"foreign");
	T_CHECK(!bsw_fs_is_foreign(BSW_FS_NTFS) && !bsw_fs_is_foreign(BSW_FS_ZERO) &&
			!bsw_fs_is_foreign(BSW_FS_OTHER) && !bsw_fs_is_foreign(BSW_FS_UNKNOWN),
		"not foreign");
	free(a);
}

int main(void)
{
	disk = malloc(DISK);
	if (!disk)
		return T_EXIT_FAIL;
	test_gpt();
	test_mbr();
	test_bare();
	test_probe_area();
	free(disk);
	return T_DONE();
}
