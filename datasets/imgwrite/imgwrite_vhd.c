/*
 * VHD writer: fixed (data + footer), dynamic and differencing (footer copy,
 * dynamic header, parent locators, BAT, blocks of sector bitmap + data,
 * footer).  Field offsets follow the "Virtual Hard Disk Image Format
 * Specification" v1.0 (Microsoft, 2006): footer ("Hard Disk Footer
 * Format"), dynamic disk header ("Dynamic Disk Header Format") and the
 * block layout ("Block Allocation Table and Data Blocks").  All fields are
 * big-endian.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/imgwrite/imgw_int.h"
#include "formats/common/bytes.h"

#define VHD_DEF_BLOCK (2u * IMGW_MiB)
/*
 * "win " (Hyper-V): qemu and others trust the footer's current size only
 * for the creators they know, and take the CHS product (smaller) for the rest.
 */
#define VHD_CREATOR "win "

static void put_be16(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* One's complement of the byte sum, the checksum field counted as zero. */
static uint32_t vhd_checksum(const uint8_t *b, size_t len, size_t csum_off)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		if (i < csum_off || i >= csum_off + 4)
			sum += b[i];
	return ~sum;
}

/* CHS from the size, the algorithm of the spec's appendix. */
static void vhd_geometry(uint64_t size, uint8_t *g)
{
	uint64_t ts = size / IMGW_SECTOR, cth;
	uint32_t spt, heads;

	if (ts > 65535ull * 16 * 255)
		ts = 65535ull * 16 * 255;
	if (ts >= 65535ull * 16 * 63) {
		spt = 255;
		heads = 16;
		cth = ts / spt;
	} else {
		spt = 17;
		cth = ts / spt;
		heads = (uint32_t)((cth + 1023) / 1024);
		if (heads < 4)
			heads = 4;
		if (cth >= heads * 1024ull || heads > 16) {
			spt = 31;
			heads = 16;
			cth = ts / spt;
		}
		if (cth >= heads * 1024ull) {
			spt = 63;
			heads = 16;
			cth = ts / spt;
		}
	}
	put_be16(g, (uint16_t)(cth / heads));
	g[2] = (uint8_t)heads;
	g[3] = (uint8_t)spt;
}

static void vhd_footer(uint8_t *f, uint64_t size, uint32_t type, const struct bsw_imgw_opts *o)
{
	memset(f, 0, 512);
	memcpy(f, "conectix", 8);
	put_be32(f + 8, 2);			   /* features: reserved bit set */
	put_be32(f + 12, 0x00010000);		   /* format version 1.0 */
	put_be64(f + 16, type == 2 ? ~0ull : 512); /* data offset */
	put_be32(f + 24, o->timestamp);
	memcpy(f + 28, VHD_CREATOR, 4);
	put_be32(f + 32, 0x00010000); /* creator version */
	memcpy(f + 36, "Wi2k", 4);    /* creator host OS */
	put_be64(f + 40, size);	      /* original size */
	put_be64(f + 48, size);	      /* current size */
	vhd_geometry(size, f + 56);
	put_be32(f + 60, type);
	memcpy(f + 68, o->id, 16);
	put_be32(f + 64, vhd_checksum(f, 512, 64));
}

static int vhd_fixed(int fd, const struct imgw_bsrc *bs, const struct bsw_imgw_opts *o)
{
	const uint32_t chunk = 8 * IMGW_MiB;
	uint8_t *buf = imgw_alloc(chunk);
	uint8_t f[512];
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (uint64_t off = 0; off < bs->size && !rc; off += chunk) {
		uint32_t n = (uint32_t)BSW_MIN((uint64_t)chunk, bs->size - off);

		rc = bs->get(bs->ctx, off, n, buf, NULL);
		/* Zero chunks stay holes: the file is sparse. */
		if (rc == IMGW_BLK_FULL)
			rc = imgw_pwrite_all(fd, buf, n, off);
		else if (rc > 0)
			rc = 0;
	}
	free(buf);
	if (rc)
		return rc;
	vhd_footer(f, bs->size, 2, o);
	return imgw_pwrite_all(fd, f, 512, bs->size);
}

/* Locator data: UTF-16LE path padded to 512 bytes, at *pos. */
static int vhd_locator(int fd, uint8_t *entry, const char *code, const char *path, uint64_t *pos)
{
	uint8_t buf[2 * IMGW_MAX_PATH];
	int n = imgw_utf16(path, buf, sizeof(buf), false);
	uint32_t space;
	int rc;

	if (n <= 0)
		return n < 0 ? n : -EINVAL;
	space = ((uint32_t)n + 511) & ~511u;
	rc = imgw_pwrite_all(fd, buf, (size_t)n, *pos);
	if (rc)
		return rc;
	memcpy(entry, code, 4);
	/* Windows records the space in bytes (the spec says sectors). */
	put_be32(entry + 4, space);
	put_be32(entry + 8, (uint32_t)n);
	put_be64(entry + 16, *pos);
	*pos += space;
	return 0;
}

static int vhd_dynamic(int fd, const struct imgw_bsrc *bs, const struct bsw_imgw_opts *o,
		       const struct imgw_parent *par, const struct imgw_loc *loc)
{
	uint32_t block = o->block_size ? o->block_size : VHD_DEF_BLOCK;
	uint32_t spb, bm_bytes, nent, *bat = NULL;
	uint64_t pos = 1536, bat_off, bat_len, end;
	uint8_t *buf = NULL, *bm = NULL, *present = NULL, f[512], dh[1024];
	int rc = 0;

	if (block < 4096 || block > 256 * IMGW_MiB || (block & (block - 1)))
		return -EINVAL;
	spb = block / IMGW_SECTOR;
	bm_bytes = ((spb + 7) / 8 + 511) & ~511u;
	if ((bs->size + block - 1) / block > 0xfffffffeull)
		return -EFBIG;
	nent = (uint32_t)((bs->size + block - 1) / block);

	memset(dh, 0, sizeof(dh));
	memcpy(dh, "cxsparse", 8);
	put_be64(dh + 8, ~0ull);
	put_be32(dh + 24, 0x00010000);
	put_be32(dh + 28, nent);
	put_be32(dh + 32, block);
	if (par) {
		uint8_t name[512];
		int n;

		memcpy(dh + 40, par->vhd_id, 16);
		put_be32(dh + 56, par->vhd_timestamp);
		/* The parent's name: the last component of the locator. */
		{
			const char *b = loc->rel;

			for (const char *q = loc->rel; *q; q++)
				if (*q == '\\' || *q == '/')
					b = q + 1;
			n = imgw_utf16(b, name, sizeof(name), true);
		}
		if (n < 0)
			return n;
		memcpy(dh + 64, name, (size_t)n);
		rc = vhd_locator(fd, dh + 576, "W2ru", loc->rel, &pos);
		if (!rc)
			rc = vhd_locator(fd, dh + 576 + 24, "W2ku", loc->abs, &pos);
		if (rc)
			return rc;
	}
	bat_off = pos;
	bat_len = ((uint64_t)nent * 4 + 511) & ~511ull;
	put_be64(dh + 16, bat_off);

	bat = malloc(bat_len);
	buf = imgw_alloc(block);
	bm = imgw_alloc(bm_bytes);
	present = malloc(spb);
	if (!bat || !buf || !bm || !present) {
		rc = -ENOMEM;
		goto out;
	}
	memset(bat, 0xff, bat_len);
	end = bat_off + bat_len;
	for (uint32_t i = 0; i < nent && !rc; i++) {
		uint64_t voff = (uint64_t)i * block, dpos;
		uint32_t len = (uint32_t)BSW_MIN((uint64_t)block, bs->size - voff);
		int kind = bs->get(bs->ctx, voff, len, buf, present);

		if (kind < 0) {
			rc = kind;
			break;
		}
		if (kind == IMGW_BLK_ABSENT)
			continue;
		if (len < block)
			memset(buf + len, 0, block - len);
		memset(bm, 0, bm_bytes);
		/* Bit 7 of byte 0 is the block's first sector. */
		for (uint32_t s = 0; s < len / IMGW_SECTOR; s++)
			if (kind == IMGW_BLK_FULL || present[s])
				bm[s / 8] |= (uint8_t)(0x80 >> (s % 8));
		if (!bs->diff)
			memset(bm, 0xff, (spb + 7) / 8);
		/* Place the data on a 4 KiB boundary, the bitmap just before. */
		dpos = (end + bm_bytes + IMGW_ALIGN - 1) & ~(uint64_t)(IMGW_ALIGN - 1);
		if ((dpos - bm_bytes) / IMGW_SECTOR > 0xfffffffeull) {
			rc = -EFBIG;
			break;
		}
		put_be32(&bat[i], (uint32_t)((dpos - bm_bytes) / IMGW_SECTOR));
		rc = imgw_pwrite_all(fd, bm, bm_bytes, dpos - bm_bytes);
		for (uint32_t c = 0; c < block && !rc; c += IMGW_MiB) {
			uint32_t n = BSW_MIN(IMGW_MiB, block - c);

			if (!imgw_is_zero(buf + c, n))
				rc = imgw_pwrite_all(fd, buf + c, n, dpos + c);
		}
		end = dpos + block;
	}
	if (rc)
		goto out;
	rc = imgw_pwrite_all(fd, bat, bat_len, bat_off);
	if (rc)
		goto out;
	put_be32(dh + 36, vhd_checksum(dh, sizeof(dh), 36));
	rc = imgw_pwrite_all(fd, dh, sizeof(dh), 512);
	if (rc)
		goto out;
	vhd_footer(f, bs->size, par ? 4 : 3, o);
	rc = imgw_pwrite_all(fd, f, 512, 0);
	if (!rc)
		rc = imgw_pwrite_all(fd, f, 512, end);
out:
	free(bat);
	free(buf);
	free(bm);
	free(present);
	return rc;
}

int imgw_vhd_write(const char *out, enum bsw_imgfmt fmt, const struct imgw_bsrc *bs,
		   const struct bsw_imgw_opts *o, const struct imgw_parent *par,
		   const struct imgw_loc *loc)
{
	uint64_t fsize;
	int fd, rc;

	if (bs->size == 0 || bs->size % IMGW_SECTOR || bs->size > (2040ull << 30))
		return -EINVAL;
	fd = imgw_create(out);
	if (fd < 0)
		return fd;
	if (fmt == BSW_IMG_VHD_FIXED && !par)
		rc = vhd_fixed(fd, bs, o);
	else
		rc = vhd_dynamic(fd, bs, o, par, loc);
	if (rc) {
		close(fd);
		unlink(out);
		return rc;
	}
	/* The footer is the last thing written: the file ends right after it. */
	fsize = (uint64_t)lseek(fd, 0, SEEK_END);
	return imgw_finish(fd, fsize);
}
