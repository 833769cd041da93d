/*
 * VHDX writer after [MS-VHDX] v7: file type identifier (2.1), two headers
 * with CRC-32C and sequence numbers (2.2.2), two region table copies
 * (2.2.3), the log (2.3; empty, or one pending entry), the metadata region
 * (2.6: file parameters, virtual disk size, virtual disk id, logical and
 * physical sector size, parent locator) and the BAT (2.5) with payload
 * blocks and, for differencing images, sector bitmap blocks per chunk.
 *
 * File layout (all regions 1 MiB aligned):
 *   0      file type identifier      64 KiB  header 1      128 KiB header 2
 *   192KiB region table 1            256 KiB region table 2
 *   1 MiB  log (1 MiB)               2 MiB   metadata (1 MiB)
 *   3 MiB  BAT (rounded up to 1 MiB), then payload and bitmap blocks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/imgwrite/imgw_int.h"
#include "formats/common/bytes.h"
#include "formats/common/crc.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)
#define VHDX_LOG_OFF (1 * MiB)
#define VHDX_LOG_LEN (1 * MiB)
#define VHDX_META_OFF (2 * MiB)
#define VHDX_META_LEN (1 * MiB)
#define VHDX_BAT_OFF (3 * MiB)
#define VHDX_DEF_BLOCK (2u * IMGW_MiB)
#define VHDX_LSS 512u
#define VHDX_PSS 4096u

/* BAT entry states (2.5.1) */
#define PB_NOT_PRESENT 0
#define PB_FULLY_PRESENT 6
#define PB_PARTIALLY_PRESENT 7
#define SB_PRESENT 6

/* Fixed GUIDs of the spec, in their textual form. */
#define G_BAT "2DC27766-F623-4200-9D64-115E9BFD4A08"
#define G_META "8B7CA206-4790-4B9A-B8FE-575F050F886E"
#define G_FILEPARAM "CAA16737-FA36-4D43-B3B6-33F0AA44E76B"
#define G_VSIZE "2FA54224-CD1B-4876-B211-5DBED83BF4B8"
#define G_PAGE83 "BECA12AB-B2E6-4523-93EF-C309E000C746"
#define G_LSS "8141BF1D-A96F-4709-BA47-F233A8FAAB5F"
#define G_PSS "CDA348C7-445D-4471-9CC9-E9885251C556"
#define G_PLOC "A8D35F2D-B30B-454D-ABF7-D3D84834AB0C"
#define G_PLOC_TYPE "B04AEFB7-D19E-4A81-B789-25B8E9445913"

/* Textual GUID -> the on-disk mixed-endian form. */
static void guid_bytes(const char *s, uint8_t *g)
{
	unsigned a, b, c, d[8];

	sscanf(s, "%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &a, &b, &c, &d[0], &d[1], &d[2], &d[3],
	       &d[4], &d[5], &d[6], &d[7]);
	put_le32(g, a);
	put_le16(g + 4, (uint16_t)b);
	put_le16(g + 6, (uint16_t)c);
	for (int i = 0; i < 8; i++)
		g[8 + i] = (uint8_t)d[i];
}

struct vhdx_w {
	int fd;
	const struct imgw_bsrc *bs;
	const struct bsw_imgw_opts *o;
	const struct imgw_parent *par;
	const struct imgw_loc *loc;
	bool fixed;
	uint32_t block, cr; /* block size, chunk ratio */
	uint64_t nblk, nchunk, nbat, bat_len, next;
	uint64_t *bat;
	uint8_t file_guid[16], data_guid[16], log_guid[16];
	/* pending-log bookkeeping */
	bool have_first, have_last;
	uint64_t last_blk;
	uint64_t sec_voff, sec_foff;
	uint8_t *sec_true; /* 4 KiB: the true bytes of that sector */
};

static uint64_t bat_index(const struct vhdx_w *w, uint64_t blk)
{
	return blk + blk / w->cr;
}

static int write_ident(struct vhdx_w *w)
{
	uint8_t b[4096] = { 0 };
	int n;

	memcpy(b, "vhdxfile", 8);
	n = imgw_utf16("bootsweep imgwrite", b + 8, 512, false);
	return n < 0 ? n : imgw_pwrite_all(w->fd, b, sizeof(b), 0);
}

static int write_headers(struct vhdx_w *w)
{
	for (int i = 0; i < 2; i++) {
		uint8_t h[4096] = { 0 };
		int rc;

		memcpy(h, "head", 4);
		/* Header 2 is the newer one and so the active one. */
		put_le64(h + 8, (uint64_t)i + 1);
		memcpy(h + 16, w->file_guid, 16);
		memcpy(h + 32, w->data_guid, 16);
		if (i == 1)
			memcpy(h + 48, w->log_guid, 16);
		put_le16(h + 64, 0); /* log version */
		put_le16(h + 66, 1); /* version */
		put_le32(h + 68, (uint32_t)VHDX_LOG_LEN);
		put_le64(h + 72, VHDX_LOG_OFF);
		put_le32(h + 4, bsw_crc32c(0, h, sizeof(h)));
		rc = imgw_pwrite_all(w->fd, h, sizeof(h), (uint64_t)(i + 1) * 64 * KiB);
		if (rc)
			return rc;
	}
	return 0;
}

static int write_regions(struct vhdx_w *w)
{
	uint8_t *r = imgw_alloc(64 * KiB);
	int rc = 0;

	if (!r)
		return -ENOMEM;
	memcpy(r, "regi", 4);
	put_le32(r + 8, 2);
	guid_bytes(G_BAT, r + 16);
	put_le64(r + 32, VHDX_BAT_OFF);
	put_le32(r + 40, (uint32_t)w->bat_len);
	put_le32(r + 44, 1); /* required */
	guid_bytes(G_META, r + 48);
	put_le64(r + 64, VHDX_META_OFF);
	put_le32(r + 72, (uint32_t)VHDX_META_LEN);
	put_le32(r + 76, 1);
	put_le32(r + 4, bsw_crc32c(0, r, 64 * KiB));
	rc = imgw_pwrite_all(w->fd, r, 64 * KiB, 192 * KiB);
	if (!rc)
		rc = imgw_pwrite_all(w->fd, r, 64 * KiB, 256 * KiB);
	free(r);
	return rc;
}

/* One metadata table entry (2.6.1.2) and its item at *pos. */
static void meta_item(uint8_t *m, unsigned *n, uint32_t *pos, const char *guid, const void *data,
		      uint32_t len, uint32_t flags)
{
	uint8_t *e = m + 32 + 32 * *n;

	guid_bytes(guid, e);
	put_le32(e + 16, *pos);
	put_le32(e + 20, len);
	put_le32(e + 24, flags);
	memcpy(m + *pos, data, len);
	*pos += (len + 7) & ~7u;
	(*n)++;
}

/* The parent locator item (2.6.2.6): header, key/value entries, strings. */
static int parent_locator(struct vhdx_w *w, uint8_t *out, uint32_t cap, uint32_t *len)
{
	const char *keys[3] = { "parent_linkage", "relative_path", "absolute_win32_path" };
	char linkage[39];
	const char *vals[3];
	uint32_t pos = 20 + 12 * 3;

	imgw_guid_str(w->par->vhdx_data_guid, linkage);
	vals[0] = linkage;
	vals[1] = w->loc->rel;
	vals[2] = w->loc->abs;
	memset(out, 0, cap);
	guid_bytes(G_PLOC_TYPE, out);
	put_le16(out + 18, 3);
	for (int i = 0; i < 3; i++) {
		uint8_t *e = out + 20 + 12 * i;
		int kn, vn;

		kn = imgw_utf16(keys[i], out + pos, cap - pos, false);
		if (kn < 0)
			return kn;
		put_le32(e, pos);
		put_le16(e + 8, (uint16_t)kn);
		pos += (uint32_t)kn;
		vn = imgw_utf16(vals[i], out + pos, cap - pos, false);
		if (vn <= 0 || vn > 0xffff)
			return vn < 0 ? vn : -EINVAL;
		put_le32(e + 4, pos);
		put_le16(e + 10, (uint16_t)vn);
		pos += (uint32_t)vn;
	}
	*len = pos;
	return 0;
}

static int write_metadata(struct vhdx_w *w)
{
	uint8_t *m = imgw_alloc(VHDX_META_LEN), v[16];
	uint32_t pos = 64 * KiB, plen;
	unsigned n = 0;
	int rc = 0;

	if (!m)
		return -ENOMEM;
	memcpy(m, "metadata", 8);
	put_le32(v, w->block);
	/* LeaveBlocksAllocated for fixed disks, HasParent for children. */
	put_le32(v + 4, (w->fixed ? 1u : 0u) | (w->par ? 2u : 0u));
	meta_item(m, &n, &pos, G_FILEPARAM, v, 8, 4);
	put_le64(v, w->bs->size);
	meta_item(m, &n, &pos, G_VSIZE, v, 8, 6);
	imgw_guid(w->o, 4, v);
	meta_item(m, &n, &pos, G_PAGE83, v, 16, 6);
	put_le32(v, VHDX_LSS);
	meta_item(m, &n, &pos, G_LSS, v, 4, 6);
	put_le32(v, VHDX_PSS);
	meta_item(m, &n, &pos, G_PSS, v, 4, 6);
	if (w->par) {
		uint8_t *pl = malloc(64 * KiB);

		if (!pl) {
			free(m);
			return -ENOMEM;
		}
		rc = parent_locator(w, pl, 64 * KiB, &plen);
		if (!rc)
			meta_item(m, &n, &pos, G_PLOC, pl, plen, 4);
		free(pl);
	}
	put_le16(m + 10, (uint16_t)n);
	if (!rc)
		rc = imgw_pwrite_all(w->fd, m, VHDX_META_LEN, VHDX_META_OFF);
	free(m);
	return rc;
}

/* Writes len bytes of buf at foff, leaving all-zero MiBs as holes. */
static int write_sparse(int fd, const uint8_t *buf, uint64_t len, uint64_t foff)
{
	int rc = 0;

	for (uint64_t c = 0; c < len && !rc; c += MiB) {
		uint64_t n = BSW_MIN(MiB, len - c);

		if (!imgw_is_zero(buf + c, n))
			rc = imgw_pwrite_all(fd, buf + c, n, foff + c);
	}
	return rc;
}

/*
 * The pending log's second change: the first non-zero 4 KiB of the first
 * allocated block is stored inverted in the file and true in the log.
 */
static void note_first(struct vhdx_w *w, uint8_t *buf, uint32_t len, uint64_t voff, uint64_t foff)
{
	if (!w->o->vhdx_pending_log || w->have_first)
		return;
	for (uint32_t s = 0; s + 4096 <= len; s += 4096) {
		if (imgw_is_zero(buf + s, 4096))
			continue;
		memcpy(w->sec_true, buf + s, 4096);
		for (uint32_t i = 0; i < 4096; i++)
			buf[s + i] = (uint8_t)~buf[s + i];
		w->sec_voff = voff + s;
		w->sec_foff = foff + s;
		w->have_first = true;
		return;
	}
}

static int write_blocks(struct vhdx_w *w)
{
	const struct imgw_bsrc *bs = w->bs;
	uint32_t spb = w->block / VHDX_LSS;
	uint8_t *buf = imgw_alloc(w->block), *present = malloc(spb);
	uint8_t *sbm = bs->diff ? imgw_alloc(MiB) : NULL;
	int rc = 0;

	if (!buf || !present || (bs->diff && !sbm)) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint64_t c = 0; c < w->nchunk && !rc; c++) {
		bool partial = false;

		if (sbm)
			memset(sbm, 0, MiB);
		for (uint64_t k = 0; k < w->cr && !rc; k++) {
			uint64_t b = c * w->cr + k, voff, foff;
			uint32_t len;
			int kind;

			if (b >= w->nblk)
				break;
			voff = b * w->block;
			len = (uint32_t)BSW_MIN((uint64_t)w->block, bs->size - voff);
			kind = bs->get(bs->ctx, voff, len, buf, present);
			if (kind < 0) {
				rc = kind;
				break;
			}
			if (len < w->block)
				memset(buf + len, 0, w->block - len);
			if (w->fixed) {
				foff = w->next + b * w->block;
				w->bat[bat_index(w, b)] = foff | PB_FULLY_PRESENT;
			} else if (kind == IMGW_BLK_ABSENT) {
				continue;
			} else {
				foff = w->next;
				w->next += w->block;
				w->bat[bat_index(w, b)] =
					foff | (kind == IMGW_BLK_PARTIAL ? PB_PARTIALLY_PRESENT :
									   PB_FULLY_PRESENT);
			}
			if (kind == IMGW_BLK_PARTIAL) {
				/* One bit per logical sector, bit 0 first. */
				uint64_t bit0 = k * spb;

				for (uint32_t s = 0; s < len / VHDX_LSS; s++)
					if (present[s])
						sbm[(bit0 + s) / 8] |=
							(uint8_t)(1u << ((bit0 + s) % 8));
				partial = true;
			}
			if (kind != IMGW_BLK_ABSENT) {
				note_first(w, buf, len, voff, foff);
				w->last_blk = b;
				w->have_last = true;
			}
			rc = write_sparse(w->fd, buf, w->block, foff);
		}
		if (!rc && partial) {
			w->bat[c * (w->cr + 1) + w->cr] = w->next | SB_PRESENT;
			rc = imgw_pwrite_all(w->fd, sbm, MiB, w->next);
			w->next += MiB;
		}
	}
	if (w->fixed)
		w->next += w->nblk * w->block;
out:
	free(buf);
	free(present);
	free(sbm);
	return rc;
}

/* Serialise the BAT little-endian into out (bat_len bytes). */
static void bat_bytes(const struct vhdx_w *w, uint8_t *out)
{
	memset(out, 0, w->bat_len);
	for (uint64_t i = 0; i < w->nbat; i++)
		put_le64(out + 8 * i, w->bat[i]);
}

/* A data descriptor (2.3.1.3) and its data sector (2.3.1.4). */
static void log_desc(uint8_t *d, uint8_t *sec, const uint8_t *data, uint64_t foff, uint64_t seq)
{
	memcpy(d, "desc", 4);
	memcpy(d + 4, data + 4092, 4); /* trailing bytes */
	memcpy(d + 8, data, 8);	       /* leading bytes */
	put_le64(d + 16, foff);
	put_le64(d + 24, seq);
	memcpy(sec, "data", 4);
	put_le32(sec + 4, (uint32_t)(seq >> 32));
	memcpy(sec + 8, data + 8, 4084);
	put_le32(sec + 4092, (uint32_t)seq);
}

/*
 * One log entry (2.3.1) at the start of the log: the BAT sector that
 * publishes the last allocated block, and the true bytes of the sector
 * note_first() inverted.  In the file that BAT entry is left NOT_PRESENT.
 */
static int write_log(struct vhdx_w *w, uint8_t *batb)
{
	const uint64_t seq = 0x10;
	struct bsw_imgw_logdesc ld = { 0 };
	uint8_t *e;
	uint32_t nd = 0, elen;
	uint64_t bi = 0, bsec;
	int rc;

	ld.log_offset = VHDX_LOG_OFF;
	ld.log_length = VHDX_LOG_LEN;
	if (w->have_last) {
		bi = bat_index(w, w->last_blk);
		ld.has_bat = true;
		ld.bat_index = bi;
		ld.block_voff = w->last_blk * w->block;
		ld.block_len = BSW_MIN((uint64_t)w->block, w->bs->size - ld.block_voff);
	}
	bsec = (bi * 8) & ~4095ull;
	ld.bat_sector_foff = VHDX_BAT_OFF + bsec;
	if (w->have_first) {
		ld.has_sector = true;
		ld.sector_voff = w->sec_voff;
		ld.sector_foff = w->sec_foff;
	}
	nd = 1 + (w->have_first ? 1 : 0);
	elen = 4096 * (1 + nd);
	e = imgw_alloc(elen);
	if (!e)
		return -ENOMEM;
	memcpy(e, "loge", 4);
	put_le32(e + 8, elen);
	put_le32(e + 12, 0); /* tail: this entry */
	put_le64(e + 16, seq);
	put_le32(e + 24, nd);
	memcpy(e + 32, w->log_guid, 16);
	put_le64(e + 48, w->next); /* flushed file offset */
	put_le64(e + 56, w->next); /* last file offset */
	log_desc(e + 64, e + 4096, batb + bsec, ld.bat_sector_foff, seq);
	if (w->have_first)
		log_desc(e + 96, e + 8192, w->sec_true, w->sec_foff, seq);
	put_le32(e + 4, bsw_crc32c(0, e, elen));
	rc = imgw_pwrite_all(w->fd, e, elen, VHDX_LOG_OFF);
	free(e);
	if (rc)
		return rc;
	/* The file as-is: the BAT entry not yet published. */
	if (w->have_last)
		put_le64(batb + bi * 8, PB_NOT_PRESENT);
	if (w->o->log_desc)
		*w->o->log_desc = ld;
	return 0;
}

int imgw_vhdx_write(const char *out, enum bsw_imgfmt fmt, const struct imgw_bsrc *bs,
		    const struct bsw_imgw_opts *o, const struct imgw_parent *par,
		    const struct imgw_loc *loc)
{
	struct vhdx_w w = { .bs = bs, .o = o, .par = par, .loc = loc };
	uint8_t *batb = NULL;
	int rc;

	w.block = o->block_size ? o->block_size : VHDX_DEF_BLOCK;
	w.fixed = fmt == BSW_IMG_VHDX_FIXED && !par;
	if (w.block < MiB || w.block > 256 * MiB || (w.block & (w.block - 1)))
		return -EINVAL;
	if (bs->size == 0 || bs->size % VHDX_LSS || bs->size > IMGW_MAX_SIZE)
		return -EINVAL;
	/* Children here use 512-byte sectors; so must the parent. */
	if (par && par->fmt == BSW_IMG_VHDX_DYNAMIC && par->vhdx_lss != VHDX_LSS)
		return -ENOTSUP;
	w.cr = (uint32_t)(((uint64_t)1 << 23) * VHDX_LSS / w.block);
	w.nblk = (bs->size + w.block - 1) / w.block;
	w.nchunk = (w.nblk + w.cr - 1) / w.cr;
	w.nbat = par ? w.nchunk * (w.cr + 1) : w.nblk + (w.nblk - 1) / w.cr;
	w.bat_len = (w.nbat * 8 + MiB - 1) & ~(MiB - 1);
	if (w.bat_len > 0xffffffffull)
		return -EFBIG;
	w.next = VHDX_BAT_OFF + w.bat_len;
	imgw_guid(o, 1, w.file_guid);
	imgw_guid(o, 2, w.data_guid);
	if (o->vhdx_pending_log)
		imgw_guid(o, 3, w.log_guid);
	if (o->log_desc)
		memset(o->log_desc, 0, sizeof(*o->log_desc));

	w.bat = calloc(w.nbat, sizeof(*w.bat));
	batb = imgw_alloc(w.bat_len);
	w.sec_true = imgw_alloc(4096);
	if (!w.bat || !batb || !w.sec_true) {
		rc = -ENOMEM;
		goto out_free;
	}
	w.fd = imgw_create(out);
	if (w.fd < 0) {
		rc = w.fd;
		goto out_free;
	}
	rc = write_blocks(&w);
	if (!rc) {
		bat_bytes(&w, batb);
		if (o->vhdx_pending_log)
			rc = write_log(&w, batb);
	}
	if (!rc)
		rc = imgw_pwrite_all(w.fd, batb, w.bat_len, VHDX_BAT_OFF);
	if (!rc)
		rc = write_metadata(&w);
	if (!rc)
		rc = write_regions(&w);
	if (!rc)
		rc = write_headers(&w);
	if (!rc)
		rc = write_ident(&w);
	if (rc) {
		close(w.fd);
		unlink(out);
	} else {
		rc = imgw_finish(w.fd, w.next);
	}
out_free:
	free(w.bat);
	free(batb);
	free(w.sec_true);
	return rc;
}
