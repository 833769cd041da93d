/*
 * The project's own image writer: VHD (fixed, dynamic, differencing) and
 * VHDX (fixed, dynamic, differencing, optionally with a pending log) from
 * raw data.  qemu-img cannot create differencing images, so the reference
 * fleets' children come from here; libvhdi (vhdimount) is the independent
 * reader that checks them.  Output is deterministic: ids and timestamps come
 * from the options.
 *
 * Only datasets/ uses this; the scanner never writes images.
 */
#ifndef BSW_IMGWRITE_H
#define BSW_IMGWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bsw_imgfmt {
	BSW_IMG_RAW,
	BSW_IMG_VHD_FIXED,
	BSW_IMG_VHD_DYNAMIC,
	BSW_IMG_VHDX_FIXED,
	BSW_IMG_VHDX_DYNAMIC,
};

struct bsw_imgw_logdesc;

struct bsw_imgw_opts {
	uint32_t block_size;		   /* 0: 2 MiB (VHD), 2 MiB (VHDX) */
	uint8_t id[16];			   /* VHD unique id / VHDX file/data-write GUIDs seed */
	uint32_t timestamp;		   /* VHD seconds since 2000-01-01; also seeds VHDX */
	bool vhdx_pending_log;		   /* VHDX: leave the last metadata/BAT update in
				   a non-empty log (as after a crash) */
	struct bsw_imgw_logdesc *log_desc; /* out, optional: what the
						   pending log changes */
};

/*
 * What a pending VHDX log changes (docs/imgwrite.md).  The log holds one
 * entry with up to two data descriptors:
 *  - the 4 KiB BAT sector holding the entry of the last allocated payload
 *    block (bat_index, virtual offset block_voff): in the file that entry
 *    is PAYLOAD_BLOCK_NOT_PRESENT (the block reads as zeros, or as the
 *    parent), in the log it is FULLY_PRESENT/PARTIALLY_PRESENT at its data;
 *  - the first non-zero 4 KiB of the first allocated payload block
 *    (virtual offset sector_voff, file offset sector_foff): in the file its
 *    bytes are inverted (~b), the log holds the true bytes.
 * Replayed, the image reads as the input; as-is it differs in those two
 * places.  has_bat/has_sector say which descriptors exist (an all-zero
 * input has neither).
 */
struct bsw_imgw_logdesc {
	bool has_bat, has_sector;
	uint64_t log_offset, log_length; /* log region in the file */
	uint64_t bat_index, bat_sector_foff, block_voff, block_len;
	uint64_t sector_voff, sector_foff;
};

/* One changed range of a differencing child: data for [voff, voff+len). */
struct bsw_imgw_extent {
	uint64_t voff;
	uint64_t len;
	const uint8_t *data;
};

/*
 * Convert the raw image at raw into fmt at out.  Blocks that are all zero
 * are left unallocated in dynamic formats.  0 or -errno.
 */
int bsw_imgw_from_raw(const char *raw, const char *out, enum bsw_imgfmt fmt,
		      const struct bsw_imgw_opts *o);

/*
 * Write a differencing child at out whose parent is the VHD or VHDX image
 * parent (the child gets the parent's format), holding exactly the given
 * extents (sector-aligned; overlapping extents: the later wins).  The
 * parent locators record parent_locator (a path relative to out's folder,
 * with '\' separators as Windows writes them, and an absolute form), and the
 * parent's identity (VHD unique id and timestamp / VHDX data-write GUID).
 * 0 or -errno.
 */
int bsw_imgw_diff(const char *parent, const char *parent_locator, const char *out,
		  const struct bsw_imgw_extent *ext, size_t nr_ext, const struct bsw_imgw_opts *o);

/*
 * Convenience: the extents where raw file child differs from raw file
 * base (same size), compared in 512-byte sectors, written as a child of
 * parent as bsw_imgw_diff() does.  0 or -errno.
 */
int bsw_imgw_diff_raw(const char *parent, const char *parent_locator, const char *base_raw,
		      const char *child_raw, const char *out, const struct bsw_imgw_opts *o);

#endif /* BSW_IMGWRITE_H */
