/*
 * BCD store: objects, types and the elements the boot path needs.  The
 * element binary of a partition device follows WINDOWS-EVIDENCE.md 4.1
 * (88 bytes: 16-byte zero GUID, u32 type at 16, u32 length at 24, partition
 * id at 32, u32 scheme at 52, disk id at 56).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/bcd/bcd.h"
#include "formats/common/bytes.h"

/* Device element offsets (see above). */
#define DEV_TYPE 16u
#define DEV_LEN 24u
#define DEV_PART_ID 32u /* GPT partition GUID, or MBR offset (u64) */
#define DEV_SCHEME 52u
#define DEV_DISK_ID 56u	 /* GPT disk GUID, or MBR signature (u32) */
#define DEV_PART_LEN 72u /* through the disk id */

void bsw_bcd_guid_str(const uint8_t g[16], char *buf, size_t len)
{
	snprintf(buf, len, "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", get_le32(g),
		 get_le16(g + 4), get_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14],
		 g[15]);
}

void bsw_bcd_parse_device(const uint8_t *d, size_t len, struct bsw_bcd_device *dev)
{
	memset(dev, 0, sizeof(*dev));
	dev->present = true;
	if (len < 24)
		return;
	dev->type = get_le32(d + DEV_TYPE);
	if (dev->type != BSW_BCD_DEV_PARTITION) {
		/* other kinds (boot, ramdisk, locate) are not checked further */
		dev->valid = true;
		return;
	}
	if (len < DEV_PART_LEN || get_le32(d + DEV_LEN) < 0x48 - 16 ||
	    !bsw_range_ok(16, get_le32(d + DEV_LEN), len))
		return;
	dev->scheme = get_le32(d + DEV_SCHEME);
	if (dev->scheme == BSW_BCD_PART_GPT) {
		memcpy(dev->part_guid, d + DEV_PART_ID, 16);
		memcpy(dev->disk_guid, d + DEV_DISK_ID, 16);
	} else if (dev->scheme == BSW_BCD_PART_MBR) {
		dev->part_offset = get_le64(d + DEV_PART_ID);
		dev->disk_signature = get_le32(d + DEV_DISK_ID);
	} else {
		return;
	}
	dev->valid = true;
}

static int elem_sz(struct bsw_hive *h, const char *obj, uint32_t id, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), "Objects\\%s\\Elements\\%08X", obj, id);
	buf[0] = 0;
	return bsw_hive_get_sz(h, path, "Element", buf, len);
}

static void elem_dev(struct bsw_hive *h, const char *obj, uint32_t id, struct bsw_bcd_device *dev)
{
	char path[128];
	struct bsw_hval v = { 0 };

	memset(dev, 0, sizeof(*dev));
	snprintf(path, sizeof(path), "Objects\\%s\\Elements\\%08X", obj, id);
	if (bsw_hive_get_raw(h, path, "Element", &v))
		return;
	bsw_bcd_parse_device(v.data, v.len, dev);
	bsw_hval_free(&v);
}

static void read_obj(struct bsw_hive *h, const char *guid, struct bsw_bcd_obj *o)
{
	char path[128];

	memset(o, 0, sizeof(*o));
	snprintf(path, sizeof(path), "Objects\\%s\\Description", guid);
	if (bsw_hive_get_dword(h, path, "Type", &o->type) == -ENOENT) {
		bsw_hkey k;

		snprintf(path, sizeof(path), "Objects\\%s", guid);
		if (bsw_hive_key(h, bsw_hive_root(h), path, &k))
			return;
	}
	o->present = true;
	snprintf(o->guid, sizeof(o->guid), "%s", guid);
	elem_sz(h, guid, BSW_BCDE_APP_PATH, o->path, sizeof(o->path));
	elem_sz(h, guid, BSW_BCDE_SYSTEMROOT, o->sysroot, sizeof(o->sysroot));
	elem_sz(h, guid, BSW_BCDE_DESCRIPTION, o->desc, sizeof(o->desc));
	elem_dev(h, guid, BSW_BCDE_APP_DEVICE, &o->dev);
	elem_dev(h, guid, BSW_BCDE_OS_DEVICE, &o->osdev);
}

struct walk {
	struct bsw_hive *h;
	struct bsw_bcd *b;
};

static int obj_fn(void *arg, bsw_hkey k, const char *name)
{
	struct walk *w = arg;
	char path[160];
	uint32_t type = 0;

	if (++w->b->nr_objects > BSW_MAX_BCD_OBJECTS)
		return 1;
	if (strlen(name) >= 40)
		return 0;
	snprintf(path, sizeof(path), "Objects\\%s\\Description", name);
	if (bsw_hive_get_dword(w->h, path, "Type", &type))
		return 0;
	if (type == BSW_BCD_TYPE_LOADER) {
		if (!w->b->nr_loaders++)
			read_obj(w->h, name, &w->b->first_loader);
	}
	return 0;
}

int bsw_bcd_parse(struct bsw_hive *h, struct bsw_bcd *b)
{
	struct walk w = { h, b };
	bsw_hkey root, objs;

	memset(b, 0, sizeof(*b));
	root = bsw_hive_root(h);
	if (!root || bsw_hive_key(h, root, "Objects", &objs))
		return -ENOENT;
	b->has_objects = true;
	bsw_hive_subkeys(h, objs, obj_fn, &w);
	read_obj(h, BSW_BCD_GUID_BOOTMGR, &b->bootmgr);
	if (b->bootmgr.present)
		elem_sz(h, BSW_BCD_GUID_BOOTMGR, BSW_BCDE_DEFAULT, b->default_guid,
			sizeof(b->default_guid));
	if (b->default_guid[0])
		read_obj(h, b->default_guid, &b->def);
	return 0;
}
