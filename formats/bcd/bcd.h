/*
 * BCD store interpretation on top of a loaded hive (formats/regf): the boot
 * manager object, its default loader, and the loader elements that decide
 * whether winload can be found.  Pure: decodes only; the boot checks
 * (scanner/checks/boot.c) turn the result into findings.
 *
 * Layout (WINDOWS-EVIDENCE.md 4.1): Objects\{GUID}\Description\Type and
 * Objects\{GUID}\Elements\<8 hex digits>\Element.
 */
#ifndef BSW_BCD_H
#define BSW_BCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/regf/regf.h"

#define BSW_BCD_GUID_BOOTMGR "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"
#define BSW_BCD_TYPE_BOOTMGR 0x10100002u
#define BSW_BCD_TYPE_LOADER 0x10200003u
#define BSW_MAX_BCD_OBJECTS 4096u /* objects looked at */

/* Element ids (BcdElementType, WINDOWS-EVIDENCE.md 4.1) */
#define BSW_BCDE_APP_DEVICE 0x11000001u
#define BSW_BCDE_APP_PATH 0x12000002u
#define BSW_BCDE_DESCRIPTION 0x12000004u
#define BSW_BCDE_OS_DEVICE 0x21000001u
#define BSW_BCDE_SYSTEMROOT 0x22000002u
#define BSW_BCDE_DEFAULT 0x23000003u

/* Device element kinds in the first u32 after the 16-byte GUID. */
#define BSW_BCD_DEV_BOOT 5u
#define BSW_BCD_DEV_PARTITION 6u

/* Partition table of a partition device. */
#define BSW_BCD_PART_GPT 0u
#define BSW_BCD_PART_MBR 1u

/* A device element, decoded; the partition fields only for a valid
 * BSW_BCD_DEV_PARTITION, and only those of its scheme. */
struct bsw_bcd_device {
	bool present;	 /* the element exists */
	bool valid;	 /* long enough and self-consistent */
	uint32_t type;	 /* the kind of device, BSW_BCD_DEV_* */
	uint32_t scheme; /* partition: BSW_BCD_PART_GPT or _MBR */
	/* BSW_BCD_PART_GPT: GUIDs in stored (GPT entry) byte order */
	uint8_t part_guid[16]; /* the partition's unique GUID */
	uint8_t disk_guid[16]; /* the disk GUID of the GPT header */
	/* BSW_BCD_PART_MBR */
	uint64_t part_offset;	 /* partition start on the disk, bytes */
	uint32_t disk_signature; /* MBR disk signature (MBR offset 440) */
};

struct bsw_bcd_obj {
	bool present;
	char guid[40]; /* "{...}" as the key is named */
	uint32_t type;
	char path[260];	   /* 12000002 */
	char sysroot[260]; /* 22000002 */
	char desc[128];	   /* 12000004 */
	struct bsw_bcd_device dev, osdev;
};

struct bsw_bcd {
	bool has_objects; /* Objects key present */
	unsigned nr_objects, nr_loaders;
	struct bsw_bcd_obj bootmgr;
	char default_guid[40];		 /* 23000003 of {bootmgr}, "" if unset */
	struct bsw_bcd_obj def;		 /* the default object (present if it exists) */
	struct bsw_bcd_obj first_loader; /* first loader seen, for messages */
};

/* Decode a device element (88 bytes for a partition) into *dev.  Pure. */
void bsw_bcd_parse_device(const uint8_t *d, size_t len, struct bsw_bcd_device *dev);

/*
 * Read the store from a loaded hive into *out.  0, or -ENOENT when the
 * hive has no Objects key; never fails on a missing element (the fields
 * stay empty) so the caller decides what is missing.
 */
int bsw_bcd_parse(struct bsw_hive *h, struct bsw_bcd *out);

/* Format a 16-byte GUID in mixed-endian Windows form, "{xxxxxxxx-...}". */
void bsw_bcd_guid_str(const uint8_t g[16], char *buf, size_t len);

#endif /* BSW_BCD_H */
