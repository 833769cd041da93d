/*
 * The NTFS volume tests' image and record edits (test_ntfs_vol.c,
 * test_ntfs_share.c): tests/images/ntfs/win.img.xz decompressed into
 * memory, a CHECK that counts (so that a run that checked nothing shows),
 * and the edits both make to a copy's MFT records.  Include after
 * t_helpers.h and formats/ntfs/ntfs_internal.h.
 */
#ifndef BSW_NTFS_IMG_H
#define BSW_NTFS_IMG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"

static int t_checks;
#define CHECK(...)                                                                                 \
	do {                                                                                       \
		t_checks++;                                                                        \
		T_CHECK(__VA_ARGS__);                                                              \
	} while (0)

static uint8_t *img;
static size_t img_len;

/*
 * win.img.xz into img/img_len, read from xz's output: no file in the
 * build tree, so tests that ctest runs at once share nothing.  0 or -1.
 */
static inline int ntfs_img_load(void)
{
	char cmd[1024];
	size_t cap = 0, n;
	uint8_t *p;
	FILE *f;
	int rc;

	snprintf(cmd, sizeof(cmd), "xz -dc '%s/tests/images/ntfs/win.img.xz'", BSW_SRCDIR);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	img_len = 0;
	for (;;) {
		if (img_len == cap) {
			cap = cap ? 2 * cap : 16u << 20;
			p = realloc(img, cap);
			if (!p) {
				pclose(f);
				return -1;
			}
			img = p;
		}
		n = fread(img + img_len, 1, cap - img_len, f);
		if (!n)
			break;
		img_len += n;
	}
	rc = ferror(f);
	return pclose(f) || rc || !img_len ? -1 : 0;
}

/* Byte offset of MFT record rec in the image (via the parsed runlist); 0 if none. */
static inline uint64_t rec_off(struct bsw_ntfs *v, uint64_t rec)
{
	uint64_t byte = rec * v->bs.rec_size, vcn = byte / v->bs.cluster;
	unsigned i;

	for (i = 0; i < v->mft_runs.nr; i++) {
		const struct bsw_ntfs_run *r = &v->mft_runs.r[i];

		if (vcn >= r->vcn && vcn < r->vcn + r->len)
			return (r->lcn + vcn - r->vcn) * v->bs.cluster + byte % v->bs.cluster;
	}
	return 0;
}

/* Re-protect a record after editing it fixed-up (same USN). */
static inline void protect(uint8_t *r, size_t len)
{
	uint16_t ofs = get_le16(r + 4), usn = get_le16(r + ofs);
	size_t i;

	for (i = 0; i < len / 512; i++) {
		memcpy(r + ofs + 2 * (i + 1), r + i * 512 + 510, 2);
		put_le16(r + i * 512 + 510, usn);
	}
}

/* Offset of the first attribute of type in a fixed-up 1 KiB record, or 0. */
static inline uint32_t find_attr(const uint8_t *r, uint32_t type)
{
	uint32_t pos = get_le16(r + 0x14);

	while (pos + 8 < 1024 && get_le32(r + pos) != 0xFFFFFFFF) {
		if (get_le32(r + pos) == type)
			return pos;
		if (!get_le32(r + pos + 4))
			break;
		pos += get_le32(r + pos + 4);
	}
	return 0;
}

/*
 * Give a fixed-up 1 KiB record a second, 200-character WIN32 $FILE_NAME
 * in parent (a file reference), its letters from the record number; a
 * record without the room is left as it is.
 */
static inline void add_long_name(uint8_t *r, uint64_t parent)
{
	uint32_t used = get_le32(r + 0x18), pos = get_le16(r + 0x14), len, k;
	uint8_t a[600];

	len = (24 + 0x42 + 2 * 200 + 7) & ~7u;
	memset(a, 0, sizeof(a));
	put_le32(a, 0x30);
	put_le32(a + 4, len);
	put_le32(a + 0x10, 0x42 + 2 * 200);
	put_le16(a + 0x14, 24);
	put_le16(a + 0xE, 14);
	put_le64(a + 24, parent);
	a[24 + 0x40] = 200;
	a[24 + 0x41] = 1; /* WIN32 */
	for (k = 0; k < 200; k++)
		put_le16(a + 24 + 0x42 + 2 * k, (uint16_t)('a' + (k + get_le32(r + 0x2C)) % 26));
	/* in type order: after every attribute of type <= 0x30 */
	while (get_le32(r + pos) <= 0x30 && get_le32(r + pos + 4))
		pos += get_le32(r + pos + 4);
	if (used + len > 1024)
		return;
	memmove(r + pos + len, r + pos, used - pos);
	memcpy(r + pos, a, len);
	put_le32(r + 0x18, used + len);
}

#endif /* BSW_NTFS_IMG_H */
