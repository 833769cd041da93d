/*
 * The container interface every image format implements (raw, VHD, VHDX).
 *
 * A container only translates virtual ranges into extents of its own file
 * (or "zero", or "ask the parent", or bytes held in memory).  It reads its
 * own metadata through a struct bsw_src and does no I/O of its own, so the
 * scanner decides how the bytes are fetched (io_uring, batched).
 */
#ifndef BSW_CONT_H
#define BSW_CONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/common/budget.h"
#include "formats/common/src.h"
#include "formats/common/finding.h"

enum bsw_cext_kind {
	BSW_CEXT_DATA,	 /* bytes at poff of this layer's file */
	BSW_CEXT_ZERO,	 /* reads as zeros */
	BSW_CEXT_PARENT, /* served by the parent (zeros if none) */
	BSW_CEXT_MEM,	 /* bytes at mem (VHDX log overlay) */
};

struct bsw_cext {
	enum bsw_cext_kind kind;
	uint64_t len;
	uint64_t poff;
	const uint8_t *mem;
};

#define BSW_CONT_MAX_LOCATORS 8

struct bsw_cont_info {
	const char *format;    /* "raw", "vhd", "vhdx" */
	const char *subformat; /* "fixed", "dynamic", "differencing" */
	uint64_t virtual_size;
	uint32_t block_size;
	uint32_t logical_sector, physical_sector;
	bool has_parent;
	bool log_replayed;
	uint8_t id[16]; /* VHD unique id, VHDX data-write GUID */
	bool parent_id_valid;
	uint8_t parent_id[16]; /* what the child records of its parent */
	unsigned nr_locators;
	char *locator[BSW_CONT_MAX_LOCATORS];		 /* UTF-8, as recorded */
	const char *locator_kind[BSW_CONT_MAX_LOCATORS]; /* "relative", "absolute" */
};

/*
 * What the caller allows a container to hold.  mem_cap bounds everything a
 * layer keeps in memory that is sized from its file (BAT, sector-bitmap
 * cache, replayed log, metadata copy); 0 means BSW_MEM_CAP_DEFAULT (1 GiB).
 * A layer whose tables would not fit fails open with -EFBIG and a message
 * naming the table, its size and the cap.
 */
struct bsw_cont_opts {
	uint64_t mem_cap; /* bytes */
};

struct bsw_cont_ops {
	const char *name;
	/* 1 if src looks like this format (cheap: signatures only). */
	int (*probe)(const struct bsw_src *src);
	/*
	 * 0 or -errno with err filled; findings about the file go to fx.
	 * o may be NULL (defaults).  -EFBIG: the layer's tables exceed o->mem_cap.
	 */
	int (*open)(void **h, const struct bsw_src *src, const struct bsw_cont_opts *o,
		    struct bsw_fx *fx, struct bsw_cont_info *info, char *err, size_t errlen);
	/* The extent at off, at most len long (len > 0, off < virtual size). */
	int (*map)(void *h, uint64_t off, uint64_t len, struct bsw_cext *e);
	void (*close)(void *h);
};

extern const struct bsw_cont_ops bsw_raw_ops;
extern const struct bsw_cont_ops bsw_vhd_ops;
extern const struct bsw_cont_ops bsw_vhdx_ops;
extern const struct bsw_cont_ops bsw_qcow2_ops, bsw_vmdk_ops;

void bsw_cont_info_free(struct bsw_cont_info *info);

/* Format a precise reason into err; returns rc. */
int bsw_cont_err(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * A cluster, grain or block cut short by the end of the file's data (end)
 * reads as zeros past it: a DATA extent at or past end becomes ZERO, one
 * that crosses end is cut there.  Other kinds are left alone.
 */
void bsw_cext_clip(struct bsw_cext *e, uint64_t end);

/* Sort helper for offsets. */
int bsw_cmp_u64(const void *a, const void *b);

#endif /* BSW_CONT_H */
