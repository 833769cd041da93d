/*
 * Internals shared by the VHD and VHDX writers: file helpers, the block
 * source abstraction (what the child or the raw image holds per block),
 * and reading a parent's identity.
 */
#ifndef BSW_IMGW_INT_H
#define BSW_IMGW_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datasets/imgwrite/imgwrite.h"

#define IMGW_SECTOR 512u
#define IMGW_MiB (1024u * 1024u)
#define IMGW_MAX_SIZE (64ull << 40) /* 64 TiB: VHDX's own limit */
#define IMGW_MAX_PATH 4096u
#define IMGW_ALIGN 4096u

/* What a block holds. */
enum imgw_blk {
	IMGW_BLK_ABSENT,  /* nothing: unallocated / read from the parent */
	IMGW_BLK_FULL,	  /* every sector present */
	IMGW_BLK_PARTIAL, /* only the sectors flagged in present[] */
};

/*
 * A producer of block contents.  get() fills buf (len bytes, zeros where
 * absent) for virtual range [voff, voff+len) and, for a partial block,
 * present[i] = 1 for each 512-byte sector i that the image holds.
 * Returns an enum imgw_blk or -errno.
 */
struct imgw_bsrc {
	int (*get)(void *ctx, uint64_t voff, uint32_t len, uint8_t *buf, uint8_t *present);
	void *ctx;
	uint64_t size; /* virtual size in bytes */
	bool diff;     /* a differencing child: absent = parent */
};

/* The parent of a differencing child as read from its file. */
struct imgw_parent {
	enum bsw_imgfmt fmt;	    /* BSW_IMG_VHD_* or BSW_IMG_VHDX_* */
	uint64_t size;		    /* virtual size */
	uint8_t vhd_id[16];	    /* VHD footer unique id */
	uint32_t vhd_timestamp;	    /* VHD footer timestamp */
	uint8_t vhdx_data_guid[16]; /* VHDX active header DataWriteGuid */
	uint32_t vhdx_lss;	    /* VHDX logical sector size */
};

/* Both locator forms of a parent, as Windows records them. */
struct imgw_loc {
	const char *rel;	 /* as given, '\' separators */
	char abs[IMGW_MAX_PATH]; /* "C:\dir\parent.vhdx" from realpath */
};

int imgw_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
int imgw_pread_all(int fd, void *buf, size_t len, uint64_t off);
void *imgw_alloc(size_t len); /* page-aligned, zeroed; free() it */
bool imgw_is_zero(const void *buf, size_t len);
int imgw_create(const char *out);	/* O_WRONLY|O_CREAT|O_TRUNC fd or -errno */
int imgw_finish(int fd, uint64_t size); /* ftruncate, fsync-free close */

/* The nth GUID derived from the options' seed (n distinguishes uses). */
void imgw_guid(const struct bsw_imgw_opts *o, unsigned n, uint8_t g[16]);
/* "{xxxxxxxx-xxxx-...}" in the textual form Windows uses (lower case). */
void imgw_guid_str(const uint8_t g[16], char s[39]);
/* UTF-8 (ASCII expected) to UTF-16; returns bytes written or -EINVAL. */
int imgw_utf16(const char *s, uint8_t *out, size_t cap, bool big_endian);

int imgw_read_parent(const char *path, struct imgw_parent *p);
int imgw_make_loc(const char *parent, const char *rel, struct imgw_loc *l);

int imgw_vhd_write(const char *out, enum bsw_imgfmt fmt, const struct imgw_bsrc *bs,
		   const struct bsw_imgw_opts *o, const struct imgw_parent *par,
		   const struct imgw_loc *loc);
int imgw_vhdx_write(const char *out, enum bsw_imgfmt fmt, const struct imgw_bsrc *bs,
		    const struct bsw_imgw_opts *o, const struct imgw_parent *par,
		    const struct imgw_loc *loc);

#endif /* BSW_IMGW_INT_H */
