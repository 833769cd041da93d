/*
 * A virtual disk: an image file and its parents (raw, VHD, VHDX), with the
 * partition table read.  The container formats (formats/raw, vhd, vhdx)
 * translate virtual ranges into extents; this layer resolves extents
 * through the chain and reads them with the thread's ring.
 *
 * Threading: a disk belongs to the thread that opened it.
 */
#ifndef BSW_DISK_H
#define BSW_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/common/src.h"
#include "formats/part/part.h"
#include "formats/common/finding.h"

struct bsw_disk;
struct bsw_disk_ioerr;

struct bsw_disk_opts {
	bool direct;	    /* also open O_DIRECT and use it for aligned reads */
	unsigned max_chain; /* parents followed at most; 0 = 64 */
	uint64_t max_bytes; /* per-disk read budget; 0 = unlimited */
	/* if set: receives the disk's first I/O error, also when the open
	   fails (bsw_disk_io_error() needs an open disk) */
	struct bsw_disk_ioerr *ioerr;
	uint64_t mem_cap;  /* bytes a layer's container tables may hold; 0 = 1 GiB */
	bool no_readahead; /* no read-ahead of sequential streams (benchmarks: A/B) */
};

enum bsw_ext_kind {
	BSW_EXT_FILE, /* bytes at (fd, poff) of layer */
	BSW_EXT_ZERO, /* reads as zeros */
	BSW_EXT_MEM,  /* bytes held in memory (VHDX log overlay) */
};

/* One extent of the virtual disk, resolved through the chain. */
struct bsw_dext {
	enum bsw_ext_kind kind;
	uint64_t voff, len;
	unsigned layer;	    /* 0 = the image itself, 1 = its parent, ... */
	int fd, dfd;	    /* BSW_EXT_FILE */
	uint64_t poff;	    /* BSW_EXT_FILE: offset in that file */
	const uint8_t *mem; /* BSW_EXT_MEM */
};

/* One layer of the chain, for info and for sharing work between disks. */
struct bsw_layer_info {
	const char *path;      /* as opened */
	const char *format;    /* "raw", "vhd", "vhdx" */
	const char *subformat; /* "fixed", "dynamic", "differencing" */
	uint64_t virtual_size, file_size;
	uint32_t block_size; /* 0 for raw/fixed */
	uint32_t logical_sector, physical_sector;
	bool log_replayed; /* VHDX: a non-empty log was applied in memory */
	uint8_t id[16];	   /* VHD unique id / VHDX data-write GUID */
	/* how this layer was found from its child (NULL for layer 0) */
	const char *found_by; /* "relative locator", "absolute locator", ... */
	const char *locator;  /* the path string recorded in the child */
	int identity_ok;      /* 1 match, 0 mismatch, -1 not checkable */
	uint64_t dev, ino;    /* st_dev/st_ino: the same file shared by many disks */
};

/*
 * Open an image and its chain of parents read-only.  On failure returns
 * -errno and writes a precise reason into err ("BAT entry 17 points past
 * end of file at offset ..."); findings about the container go to fx.
 */
int bsw_disk_open(struct bsw_disk **out, const char *path, const struct bsw_disk_opts *o,
		  struct bsw_fx *fx, char *err, size_t errlen);
void bsw_disk_close(struct bsw_disk *d);

uint64_t bsw_disk_size(const struct bsw_disk *d);
const char *bsw_disk_path(const struct bsw_disk *d);

/*
 * Translate [off, off+len) into at most max extents in *ext (fewer if the
 * range ends); *nr gets the count.  Returns 0, or -errno.
 */
int bsw_disk_map(struct bsw_disk *d, uint64_t off, uint64_t len, struct bsw_dext *ext, unsigned max,
		 unsigned *nr);

/* Read [off, off+len) of the virtual disk; 0 or -errno.  Past the end: -EIO. */
int bsw_disk_read(struct bsw_disk *d, void *buf, size_t len, uint64_t off);

/* The whole virtual disk as a bsw_src (valid while d is open). */
const struct bsw_src *bsw_disk_src(struct bsw_disk *d);

/* Bytes read by all disks of this process so far (any thread). */
uint64_t bsw_disk_bytes_total(void);

unsigned bsw_disk_nr_layers(const struct bsw_disk *d);
/*
 * Layer i's token for sharing work across disks (scanner/share.h): its
 * file's identity; 0 if its bytes are never shared (a block device, a
 * multi-file VMDK layer).
 */
uint64_t bsw_disk_layer_token(struct bsw_disk *d, unsigned i);
const struct bsw_layer_info *bsw_disk_layer(const struct bsw_disk *d, unsigned i);

unsigned bsw_disk_nr_parts(const struct bsw_disk *d);
const struct bsw_part *bsw_disk_part(const struct bsw_disk *d, unsigned i);
/* "gpt", "mbr", "none" (bare filesystem or nothing) */
const char *bsw_disk_scheme(const struct bsw_disk *d);
const uint8_t *bsw_disk_gpt_guid(const struct bsw_disk *d); /* NULL if not GPT */
uint32_t bsw_disk_mbr_signature(const struct bsw_disk *d);
bool bsw_disk_gpt_backup_used(const struct bsw_disk *d); /* the primary GPT was damaged */

/* A source over partition p (window of bsw_disk_src); src and win are caller storage. */
void bsw_disk_part_src(struct bsw_disk *d, const struct bsw_part *p, struct bsw_src *src,
		       struct bsw_src_window *win);

/* Bytes this disk has read from files so far. */
uint64_t bsw_disk_bytes_read(const struct bsw_disk *d);

/*
 * The first read of a disk that failed: an operational error of that disk,
 * never evidence of corruption.  It is sticky: recorded once, by
 * bsw_disk_read, the disk's bsw_src, and the layer reads the container
 * formats make while the chain is opened.  A read that fails (-EIO from the
 * device, -ENOMEM, a ring failure) counts, and so does a short read of a
 * file extent that lies inside the file's size at open (the file shrank);
 * a read the container maps past the end of its file does not (that is a
 * corrupt container, judged by the format).
 */
struct bsw_disk_ioerr {
	int err;	    /* -errno; 0: no error */
	bool short_read;    /* the file ended early (err is -EIO) */
	unsigned layer;	    /* chain layer, 0 = the image itself */
	char path[512];	    /* that layer's path (truncated) */
	uint64_t file_off;  /* where in that file the read failed */
	uint64_t disk_off;  /* virtual-disk offset; BSW_DISK_NO_OFF when
				   the read was container metadata */
	uint64_t file_size; /* the file's size at open */
	uint64_t tick;	    /* bsw_fx_tick() when it happened */
};
#define BSW_DISK_NO_OFF UINT64_MAX

/* True if d had an I/O error; *e (may be NULL) gets the first one. */
bool bsw_disk_io_error(const struct bsw_disk *d, struct bsw_disk_ioerr *e);

/*
 * e as one line: "EIO (Input/output error) at file offset 62914560 of
 * layer 0 (a.vhdx), disk offset 61865984"; the short-read form says where
 * the file ended and its size at open.  Returns buf.
 */
char *bsw_disk_ioerr_str(const struct bsw_disk_ioerr *e, char *buf, size_t len);

#endif /* BSW_DISK_H */
