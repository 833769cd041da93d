/*
 * VHD (Virtual Hard Disk Image Format Specification, Microsoft, 2006):
 * fixed, dynamic and differencing disks.  All fields are big-endian.
 *
 * The footer (512 bytes) sits at the end of the file; dynamic and
 * differencing disks keep a copy at offset 0 and a dynamic header (1024
 * bytes) pointing at the BAT.  Each block is a sector bitmap (one bit per
 * 512-byte sector, MSB first, padded to 512 bytes) followed by the data.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/utf8.h"
#include "formats/common/bytes.h"
#include "formats/cont/cont.h"

#define VHD_SECTOR 512u
#define VHD_TYPE_FIXED 2
#define VHD_TYPE_DYNAMIC 3
#define VHD_TYPE_DIFF 4
#define VHD_BAT_UNUSED 0xffffffffu
#define VHD_MAX_BLOCK (256u << 20)   /* larger blocks are not VHD */
#define VHD_MAX_LOCATOR 4096u	     /* bytes of one parent path */
#define VHD_MAX_SIZE (2040ull << 30) /* spec limit: 2040 GiB */

struct vhd {
	const struct bsw_src *src;
	int type;
	uint64_t size;	       /* virtual size */
	uint32_t block;	       /* block size */
	uint32_t bitmap_bytes; /* per-block bitmap, 512-aligned */
	uint32_t nr_entries;
	uint32_t *bat;	       /* host-order sector numbers */
	uint8_t **bitmaps;     /* differencing only, loaded lazily */
	uint32_t nr_cached;    /* bitmaps held now */
	struct bsw_budget mem; /* BAT + pointer array + cached bitmaps */
};

/* One's complement of the byte sum, with the checksum field taken as 0. */
static uint32_t vhd_checksum(const uint8_t *p, size_t len, size_t csum_off)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		if (i < csum_off || i >= csum_off + 4)
			sum += p[i];
	return ~sum;
}

static bool footer_ok(const uint8_t *f)
{
	return memcmp(f, "conectix", 8) == 0 && vhd_checksum(f, 512, 64) == get_be32(f + 64);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int vhd_probe(const struct bsw_src *src)
{
	uint8_t b[512];

	if (src->size < 512 || bsw_src_read_full(src, b, 512, src->size - 512))
		return 0;
	if (memcmp(b, "conectix", 8) == 0)
		return 1;
	/* Damaged or 511-byte trailing footer: try the copy at offset 0. */
	if (bsw_src_read_full(src, b, 512, 0))
		return 0;
	return memcmp(b, "conectix", 8) == 0;
}

static int read_locators(struct vhd *v, const uint8_t *dh, struct bsw_cont_info *info)
{
	for (int i = 0; i < 8; i++) {
		const uint8_t *e = dh + 576 + 24 * i;
		uint32_t code = get_be32(e), dlen = get_be32(e + 8);
		uint64_t doff = get_be64(e + 16);
		const char *kind;
		uint8_t *buf;

		if (code == 0x57327275) /* "W2ru" */
			kind = "relative";
		else if (code == 0x57326b75 || /* "W2ku" */
			 code == 0x4d616358)   /* "MacX": UTF-8 file URL */
			kind = "absolute";
		else
			continue;
		if (dlen == 0 || dlen > VHD_MAX_LOCATOR ||
		    !bsw_range_ok(doff, dlen, v->src->size) ||
		    info->nr_locators >= BSW_CONT_MAX_LOCATORS)
			continue;
		buf = malloc(dlen);
		if (!buf)
			return -ENOMEM;
		if (bsw_src_read_full(v->src, buf, dlen, doff) == 0) {
			char *s;

			if (code == 0x4d616358) {
				/* "file://host/path" -> "/path" (no %-decoding) */
				size_t skip = 0;

				if (dlen > 7 && !memcmp(buf, "file://", 7)) {
					skip = 7;
					while (skip < dlen && buf[skip] != '/')
						skip++;
				}
				s = strndup((char *)buf + skip, dlen - skip);
			} else {
				s = bsw_utf16le_dup(buf, dlen / 2, BSW_U16_STOP_NUL);
			}
			if (!s) {
				free(buf);
				return -ENOMEM;
			}
			info->locator[info->nr_locators] = s;
			info->locator_kind[info->nr_locators++] = kind;
		}
		free(buf);
	}
	/* The parent's Unicode name (UTF-16 big-endian), for the last resort. */
	if (info->nr_locators < BSW_CONT_MAX_LOCATORS) {
		uint8_t le[512];
		char *s;

		for (int i = 0; i < 512; i += 2) {
			le[i] = dh[64 + i + 1];
			le[i + 1] = dh[64 + i];
		}
		s = bsw_utf16le_dup(le, 256, BSW_U16_STOP_NUL);
		if (!s)
			return -ENOMEM;
		if (!s[0]) {
			free(s);
			return 0;
		}
		info->locator[info->nr_locators] = s;
		info->locator_kind[info->nr_locators++] = "name";
	}
	return 0;
}

static int vhd_open(void **h, const struct bsw_src *src, const struct bsw_cont_opts *o,
		    struct bsw_fx *fx, struct bsw_cont_info *info, char *err, size_t errlen)
{
	uint8_t foot[512], head[512], dh[1024];
	struct vhd *v;
	uint64_t fsize = src->size, bat_off, bat_len, need;
	uint32_t *sorted;
	int rc;

	if (fsize < 512)
		return bsw_cont_err(err, errlen, -EINVAL,
				    "file of %llu bytes is too small for a VHD",
				    (unsigned long long)fsize);
	rc = bsw_src_read_full(src, foot, 512, fsize - 512);
	if (rc)
		return bsw_cont_err(err, errlen, rc, "cannot read VHD footer");
	if (!footer_ok(foot)) {
		uint32_t want = get_be32(foot + 64), got = vhd_checksum(foot, 512, 64);
		bool cookie = !memcmp(foot, "conectix", 8);

		/* The copy at offset 0 (dynamic disks) if it is whole. */
		if (fsize >= 1024 && !bsw_src_read_full(src, head, 512, 0) && footer_ok(head)) {
			BSW_REPORT(fx, PR_1_VHD_FOOTER_CSUM, .n = want, .n2 = got,
				   .off = fsize - 512, .str = "the copy at offset 0 was used");
			memcpy(foot, head, 512);
		} else if (cookie) {
			/*
			 * Some writers store a wrong checksum over sane fields;
			 * Windows and libvhdi still open such files.
			 */
			BSW_REPORT(fx, PR_1_VHD_FOOTER_CSUM, .n = want, .n2 = got,
				   .off = fsize - 512,
				   .str = "no valid copy exists; the footer was used as it is");
		} else {
			return bsw_cont_err(
				err, errlen, -EINVAL,
				"no VHD footer at offset %llu (no 'conectix' cookie) and no valid copy at offset 0",
				(unsigned long long)(fsize - 512));
		}
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->src = src;
	bsw_budget_init(&v->mem, o ? o->mem_cap : 0);
	v->type = get_be32(foot + 60);
	v->size = get_be64(foot + 48);
	memcpy(info->id, foot + 68, 16);
	info->format = "vhd";
	info->logical_sector = info->physical_sector = VHD_SECTOR;
	info->virtual_size = v->size;
	if (v->size == 0 || v->size > VHD_MAX_SIZE || v->size % VHD_SECTOR) {
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"VHD virtual size %llu is invalid (0, not a multiple of 512, or above 2040 GiB)",
			(unsigned long long)v->size);
		goto fail;
	}
	if (v->type == VHD_TYPE_FIXED) {
		info->subformat = "fixed";
		if (v->size > fsize - 512) {
			rc = bsw_cont_err(
				err, errlen, -EINVAL,
				"fixed VHD claims %llu bytes but the file holds %llu before its footer",
				(unsigned long long)v->size, (unsigned long long)(fsize - 512));
			goto fail;
		}
		*h = v;
		return 0;
	}
	if (v->type != VHD_TYPE_DYNAMIC && v->type != VHD_TYPE_DIFF) {
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"VHD disk type %d is not fixed (2), dynamic (3) or differencing (4)",
			v->type);
		goto fail;
	}
	info->subformat = v->type == VHD_TYPE_DIFF ? "differencing" : "dynamic";
	/* The copy at offset 0 must equal the footer (spec: "Hard Disk Footer"). */
	if (fsize >= 1024 && !bsw_src_read_full(src, head, 512, 0) && footer_ok(head) &&
	    memcmp(head, foot, 512))
		BSW_REPORT(fx, PR_1_VHD_FOOTER_MISMATCH, .off = 0);
	{
		uint64_t doff = get_be64(foot + 16);

		if (!bsw_range_ok(doff, 1024, fsize)) {
			rc = bsw_cont_err(err, errlen, -EINVAL,
					  "VHD dynamic header offset %llu is outside the file",
					  (unsigned long long)doff);
			goto fail;
		}
		rc = bsw_src_read_full(src, dh, 1024, doff);
		if (rc) {
			bsw_cont_err(err, errlen, rc, "cannot read VHD dynamic header");
			goto fail;
		}
		if (memcmp(dh, "cxsparse", 8)) {
			rc = bsw_cont_err(err, errlen, -EINVAL,
					  "VHD dynamic header at %llu has no cxsparse cookie",
					  (unsigned long long)doff);
			goto fail;
		}
		if (vhd_checksum(dh, 1024, 36) != get_be32(dh + 36))
			BSW_REPORT(fx, PR_1_VHD_DYNHDR_CSUM, .n = get_be32(dh + 36),
				   .n2 = vhd_checksum(dh, 1024, 36), .off = doff);
	}
	v->block = get_be32(dh + 32);
	v->nr_entries = get_be32(dh + 28);
	bat_off = get_be64(dh + 16);
	if (v->block < VHD_SECTOR || v->block > VHD_MAX_BLOCK || (v->block & (v->block - 1))) {
		rc = bsw_cont_err(err, errlen, -EINVAL,
				  "VHD block size %u is not a power of two between 512 and 256 MiB",
				  v->block);
		goto fail;
	}
	info->block_size = v->block;
	if ((uint64_t)v->nr_entries * v->block < v->size) {
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"VHD BAT has %u entries of %u bytes, fewer than the virtual size %llu needs",
			v->nr_entries, v->block, (unsigned long long)v->size);
		goto fail;
	}
	/* Only the entries the virtual size needs are used. */
	v->nr_entries = (v->size + v->block - 1) / v->block;
	bat_len = (uint64_t)v->nr_entries * 4;
	if (!bsw_range_ok(bat_off, bat_len, fsize)) {
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"VHD BAT (%llu bytes at offset %llu) lies past the end of the %llu-byte file",
			(unsigned long long)bat_len, (unsigned long long)bat_off,
			(unsigned long long)fsize);
		goto fail;
	}
	v->bitmap_bytes = ((v->block / VHD_SECTOR + 7) / 8 + VHD_SECTOR - 1) & ~(VHD_SECTOR - 1);
	/*
	 * Memory, charged before anything is allocated: the BAT, the sorted
	 * copy used once for the overlap check, and for a differencing disk
	 * the bitmap pointers plus room for one cached bitmap.  The BAT is
	 * kept whole (not paged) because open validates every entry against
	 * the file and the others; a real BAT is small (2 TiB in 2 MiB blocks
	 * is 4 MiB), and one that does not fit the cap refuses the disk.
	 */
	need = bat_len * 2;
	if (v->type == VHD_TYPE_DIFF)
		need += (uint64_t)v->nr_entries * sizeof(*v->bitmaps) + v->bitmap_bytes;
	if (!bsw_budget_fits(&v->mem, need)) {
		rc = bsw_cont_err(
			err, errlen, -EFBIG,
			"VHD BAT of %u entries (%u-byte blocks for %llu bytes) needs %llu bytes of memory, above the per-disk memory cap of %llu bytes",
			v->nr_entries, v->block, (unsigned long long)v->size,
			(unsigned long long)need, (unsigned long long)v->mem.cap);
		goto fail;
	}
	bsw_budget_take(&v->mem, bat_len);
	v->bat = malloc(bat_len);
	sorted = malloc(bat_len + 1);
	if (!v->bat || !sorted) {
		free(sorted);
		rc = -ENOMEM;
		goto fail;
	}
	rc = bsw_src_read_full(src, v->bat, bat_len, bat_off);
	if (rc) {
		free(sorted);
		bsw_cont_err(err, errlen, rc, "cannot read VHD BAT");
		goto fail;
	}
	/* Every allocated block inside the file, none overlapping another. */
	{
		uint64_t span = v->bitmap_bytes + (uint64_t)v->block;
		uint32_t n = 0;

		/* sorted[] holds sector numbers: span in sectors fits 32 bits. */

		for (uint32_t i = 0; i < v->nr_entries; i++) {
			uint32_t e = get_be32((uint8_t *)&v->bat[i]);
			uint64_t poff = (uint64_t)e * VHD_SECTOR;

			v->bat[i] = e;
			if (e == VHD_BAT_UNUSED)
				continue;
			/* The last block may be cut at the footer. */
			if (!bsw_range_ok(poff, v->bitmap_bytes, fsize) ||
			    poff + span > fsize + v->block) {
				free(sorted);
				rc = bsw_cont_err(
					err, errlen, -EINVAL,
					"VHD BAT entry %u points past end of file at offset %llu (file is %llu bytes)",
					i, (unsigned long long)poff, (unsigned long long)fsize);
				goto fail;
			}
			if (poff < bat_off + bat_len && poff + span > bat_off) {
				free(sorted);
				rc = bsw_cont_err(err, errlen, -EINVAL,
						  "VHD BAT entry %u (offset %llu) overlaps the BAT",
						  i, (unsigned long long)poff);
				goto fail;
			}
			sorted[n++] = e;
		}
		qsort(sorted, n, sizeof(*sorted), cmp_u32);
		for (uint32_t i = 1; i < n; i++)
			if ((uint64_t)sorted[i] * VHD_SECTOR <
			    (uint64_t)sorted[i - 1] * VHD_SECTOR + span) {
				uint64_t a = (uint64_t)sorted[i - 1] * VHD_SECTOR;
				uint64_t b = (uint64_t)sorted[i] * VHD_SECTOR;

				free(sorted);
				rc = bsw_cont_err(
					err, errlen, -EINVAL,
					"VHD blocks at offsets %llu and %llu overlap (block span %llu)",
					(unsigned long long)a, (unsigned long long)b,
					(unsigned long long)span);
				goto fail;
			}
		free(sorted);
	}
	if (v->type == VHD_TYPE_DIFF) {
		info->has_parent = true;
		info->parent_id_valid = true;
		memcpy(info->parent_id, dh + 40, 16);
		bsw_budget_take(&v->mem, (uint64_t)v->nr_entries * sizeof(*v->bitmaps));
		v->bitmaps = calloc(v->nr_entries, sizeof(*v->bitmaps));
		if (!v->bitmaps) {
			rc = -ENOMEM;
			goto fail;
		}
		rc = read_locators(v, dh, info);
		if (rc)
			goto fail;
	}
	*h = v;
	return 0;
fail:
	bsw_cont_info_free(info);
	free(v->bat);
	free(v->bitmaps);
	free(v);
	return rc;
}

/* Drop every cached bitmap (the cache is refilled on demand). */
static void drop_bitmaps(struct vhd *v)
{
	for (uint32_t i = 0; i < v->nr_entries && v->nr_cached; i++)
		if (v->bitmaps[i]) {
			free(v->bitmaps[i]);
			v->bitmaps[i] = NULL;
			v->nr_cached--;
			bsw_budget_give(&v->mem, v->bitmap_bytes);
		}
}

static int vhd_map(void *h, uint64_t off, uint64_t len, struct bsw_cext *e)
{
	struct vhd *v = h;
	uint64_t blk, in, run;
	uint32_t ent;

	if (off >= v->size)
		return -EIO;
	len = BSW_MIN(len, v->size - off);
	if (v->type == VHD_TYPE_FIXED) {
		e->kind = BSW_CEXT_DATA;
		e->poff = off;
		e->len = len;
		return 0;
	}
	blk = off / v->block;
	in = off % v->block;
	run = BSW_MIN(len, v->block - in);
	ent = v->bat[blk];
	if (ent == VHD_BAT_UNUSED) {
		e->kind = v->type == VHD_TYPE_DIFF ? BSW_CEXT_PARENT : BSW_CEXT_ZERO;
		e->len = run;
		return 0;
	}
	e->poff = (uint64_t)ent * VHD_SECTOR + v->bitmap_bytes + in;
	if (v->type == VHD_TYPE_DYNAMIC) {
		/* Like qemu, an allocated block of a dynamic disk is all data. */
		e->kind = BSW_CEXT_DATA;
		e->len = run;
	} else {
		uint8_t *bm = v->bitmaps[blk];
		uint64_t s = in / VHD_SECTOR, end = (in + run + VHD_SECTOR - 1) / VHD_SECTOR;
		bool first;
		uint64_t i;

		if (!bm) {
			int rc;

			/* Over the cap: start the cache again (open left room for one). */
			if (!bsw_budget_fits(&v->mem, v->bitmap_bytes))
				drop_bitmaps(v);
			if (!bsw_budget_take(&v->mem, v->bitmap_bytes))
				return -EFBIG;
			bm = malloc(v->bitmap_bytes);
			if (!bm) {
				bsw_budget_give(&v->mem, v->bitmap_bytes);
				return -ENOMEM;
			}
			rc = bsw_src_read_full(v->src, bm, v->bitmap_bytes,
					       (uint64_t)ent * VHD_SECTOR);
			if (rc) {
				free(bm);
				bsw_budget_give(&v->mem, v->bitmap_bytes);
				return rc;
			}
			v->bitmaps[blk] = bm;
			v->nr_cached++;
		}
		first = bm[s / 8] & (0x80 >> (s % 8));
		/* Bit by bit to a byte boundary, then whole bytes. */
		for (i = s + 1; i < end;) {
			if (!(i % 8) && i + 8 <= end && bm[i / 8] == (first ? 0xff : 0x00)) {
				i += 8;
				continue;
			}
			if (!!(bm[i / 8] & (0x80 >> (i % 8))) != first)
				break;
			i++;
		}
		e->kind = first ? BSW_CEXT_DATA : BSW_CEXT_PARENT;
		e->len = BSW_MIN(run, i * VHD_SECTOR - in);
	}
	/* the file's data ends where the footer copy begins */
	bsw_cext_clip(e, v->src->size - 512);
	return 0;
}

static void vhd_close(void *h)
{
	struct vhd *v = h;

	if (v->bitmaps)
		for (uint32_t i = 0; i < v->nr_entries; i++)
			free(v->bitmaps[i]);
	free(v->bitmaps);
	free(v->bat);
	free(v);
}

const struct bsw_cont_ops bsw_vhd_ops = {
	.name = "vhd",
	.probe = vhd_probe,
	.open = vhd_open,
	.map = vhd_map,
	.close = vhd_close,
};
