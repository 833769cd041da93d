/*
 * Read-only FAT12/16/32 reader over a bsw_src: enough to read the EFI system
 * partition (\EFI\Microsoft\Boot\BCD, bootmgfw.efi) and a BIOS system
 * partition (\Boot\BCD, \bootmgr).  Pure: no I/O of its own.
 *
 * Layout: Microsoft "FAT: General Overview of On-Disk Format" (fatgen103),
 * sections 3 (BPB), 3.5 (FAT type determination), 4 (FAT), 6 (directory
 * entries), 7 (long names).
 *
 * Threading: a volume belongs to one thread.
 */
#ifndef BSW_FAT_H
#define BSW_FAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/common/src.h"
#include "formats/common/finding.h"

#define BSW_MAX_FAT_BYTES (32u << 20) /* FAT table kept in memory */
#define BSW_MAX_FAT_DIRENTS 65536u    /* fatgen103 s6: a directory's limit */
#define BSW_MAX_FAT_DEPTH 32u	      /* path components */

struct bsw_fat;

struct bsw_fat_ent {
	char name[260];		/* UTF-8: long name if valid, else 8.3 */
	char short_name[13];	/* "BOOTMGR", "BCD.LOG" */
	uint8_t attr;		/* 0x10 directory */
	uint32_t first_cluster; /* 0: empty file / FAT12/16 root */
	uint32_t size;
	bool is_dir;
	bool is_root;
};

/* Parsed boot sector (fatgen103 s3). */
struct bsw_fat_bpb {
	unsigned type; /* 12, 16 or 32 */
	uint32_t bytes_per_sector, sectors_per_cluster, reserved;
	uint32_t nr_fats, root_entries, total_sectors, fat_sectors;
	uint32_t root_cluster; /* FAT32 */
	uint32_t nr_clusters;  /* data clusters */
	uint64_t fat_off, root_off, data_off, cluster_size;
	uint32_t serial;
};

/*
 * Decode a boot sector (at least 512 bytes).  0, or -EINVAL with the reason
 * in why.  No findings: the caller decides what an invalid ESP means.
 */
int bsw_fat_parse_bpb(const uint8_t *sec, size_t len, uint64_t vol_size, struct bsw_fat_bpb *bpb,
		      const char **why);

/* Open a volume; 0, -EINVAL (not FAT: *why), -ENOMEM or -errno. */
int bsw_fat_open(struct bsw_fat **out, const struct bsw_src *src, struct bsw_fx *fx,
		 const char **why);
void bsw_fat_close(struct bsw_fat *f);
const struct bsw_fat_bpb *bsw_fat_bpb(const struct bsw_fat *f);

/* The root directory entry (synthetic). */
void bsw_fat_root(const struct bsw_fat *f, struct bsw_fat_ent *ent);

/*
 * Call fn for each live entry of directory dir ("." and ".." and volume
 * labels skipped).  Stops on non-zero and returns it; -EIO / -ELOOP when the
 * directory cannot be read completely (after the entries that could).
 */
typedef int (*bsw_fat_dir_fn)(void *arg, const struct bsw_fat_ent *ent);
int bsw_fat_readdir(struct bsw_fat *f, const struct bsw_fat_ent *dir, bsw_fat_dir_fn fn, void *arg);

/*
 * Look up "\EFI\Microsoft\Boot\BCD" (case-insensitive, '\' or '/'); 0 and
 * *ent, -ENOENT, -ENOTDIR, or -EIO/-ELOOP.
 */
int bsw_fat_lookup(struct bsw_fat *f, const char *path, struct bsw_fat_ent *ent);

/*
 * Read a whole file into a malloc'd buffer if it is at most max bytes;
 * 0, -EFBIG, -EIO (chain shorter than the size, or broken), -ELOOP.
 */
int bsw_fat_read_all(struct bsw_fat *f, const struct bsw_fat_ent *ent, uint8_t **data, size_t *len,
		     size_t max);

/* Bytes read through this volume so far. */
uint64_t bsw_fat_bytes_read(const struct bsw_fat *f);

#endif /* BSW_FAT_H */
