/*
 * Partition tables: MBR (with extended and logical partitions) and GPT
 * (UEFI 2.10 section 5.3: header and entry-array CRCs, backup header),
 * and the filesystem signature of a partition's first sector (or of its
 * first 128 KiB, where other filesystems keep their superblocks).
 */
#ifndef BSW_PART_H
#define BSW_PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/common/src.h"
#include "formats/common/finding.h"

#define BSW_MAX_PARTS 128

enum bsw_fs {
	BSW_FS_UNKNOWN = 0,
	BSW_FS_NTFS,
	BSW_FS_FAT,	  /* FAT12/16/32 */
	BSW_FS_BITLOCKER, /* "-FVE-FS-" */
	BSW_FS_EXFAT,
	BSW_FS_ZERO, /* first sector all zeros */
	BSW_FS_OTHER,
	/* found only by bsw_fs_probe_area: a table's partitions carry the
	 * first sector's kind (OTHER for these) */
	BSW_FS_EXT, /* ext2/3/4 */
	BSW_FS_XFS,
	BSW_FS_BTRFS,
};

/* The bytes of a partition's start that bsw_fs_probe_area looks at. */
#define BSW_FS_PROBE_AREA (128u << 10)

struct bsw_part {
	unsigned index;	       /* 1-based, in the order info lists them */
	const char *scheme;    /* "mbr", "gpt", or "none" (bare volume) */
	uint64_t start, size;  /* bytes */
	uint8_t mbr_type;      /* MBR partition type byte */
	bool active;	       /* MBR boot flag */
	bool logical;	       /* inside an extended partition */
	uint8_t type_guid[16]; /* GPT */
	uint8_t part_guid[16]; /* GPT */
	char name[80];	       /* GPT name in UTF-8 */
	enum bsw_fs fs;
	bool esp; /* GPT ESP type, or MBR type 0xEF */
};

struct bsw_part_table {
	const char *scheme; /* "mbr", "gpt", "none" */
	unsigned nr;
	struct bsw_part part[BSW_MAX_PARTS];
	uint8_t disk_guid[16]; /* GPT */
	uint32_t mbr_signature;
	uint32_t sector; /* sector size the table was found with */
	bool gpt_backup_used;
	bool gpt_broken; /* protective MBR, both GPTs damaged */
};

/* Parse the table of src (a whole disk); findings go to fx.  0 or -errno. */
int bsw_part_parse(const struct bsw_src *src, uint32_t sector, struct bsw_part_table *t,
		   struct bsw_fx *fx);

/* What filesystem the first sector s (512 bytes) holds. */
enum bsw_fs bsw_fs_probe(const uint8_t *s);

/*
 * What filesystem the first len bytes b of a partition hold (len up to
 * BSW_FS_PROBE_AREA; a shorter buffer is probed as far as it goes): an
 * ext2/3/4, XFS or btrfs superblock, else bsw_fs_probe of the first sector
 * (BSW_FS_UNKNOWN when len < 512).  The superblocks win over the first
 * sector: ext does not use its first KiB (the boot block), so a stale boot
 * sector may stay in front of its superblock.
 */
enum bsw_fs bsw_fs_probe_area(const uint8_t *b, size_t len);

/* A filesystem other than NTFS: a known signature that is not NTFS's
 * (an all-zero first sector, OTHER and UNKNOWN are not signatures). */
bool bsw_fs_is_foreign(enum bsw_fs fs);

/* A filesystem kind's short name ("ntfs", "ext", ...), a static string. */
const char *bsw_fs_name(enum bsw_fs fs);

/* GPT type GUID (stored form) to a short name, or NULL. */
const char *bsw_gpt_type_name(const uint8_t *guid);

/* Format a stored GUID as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (37 bytes). */
void bsw_guid_str(const uint8_t *g, char *out);

#endif /* BSW_PART_H */
