/*
 * VMDK (VMware Virtual Disk Format 1.1): the descriptor, and hosted sparse
 * extents (monolithicSparse, streamOptimized, the -s00N files of split
 * disks).  bsw_vmdk_ops (formats/cont/cont.h) opens single-file disks; a
 * descriptor file that names other files is parsed here and its extent
 * files are opened by the disk layer (scanner/disk_extents.c), which maps
 * each sparse extent through bsw_vmdk_extent_open() and bsw_vmdk_ops.map.
 */
#ifndef BSW_VMDK_H
#define BSW_VMDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/cont/cont.h"

#define BSW_VMDK_MAX_EXTENTS 4096      /* a 8 TiB twoGbMaxExtent disk */
#define BSW_VMDK_MAX_DESC (1u << 20)   /* descriptor text, bytes */
#define BSW_VMDK_NO_PARENT 0xffffffffu /* parentCID of a base disk */

enum bsw_vmdk_ext_type {
	BSW_VMDK_EXT_FLAT,   /* FLAT, VMFS: the guest bytes as they are */
	BSW_VMDK_EXT_SPARSE, /* SPARSE: a hosted sparse extent file */
	BSW_VMDK_EXT_ZERO,   /* ZERO: no file, reads as zeros */
};

struct bsw_vmdk_extent {
	enum bsw_vmdk_ext_type type;
	uint64_t sectors; /* virtual sectors this extent holds */
	uint64_t offset;  /* FLAT: first sector in the file */
	char *file;	  /* as written, relative to the descriptor; NULL for ZERO */
};

struct bsw_vmdk_desc {
	char create_type[64];
	uint32_t cid, parent_cid; /* parent_cid BSW_VMDK_NO_PARENT: a base */
	char *parent_hint;	  /* parentFileNameHint, or NULL */
	unsigned nr;
	struct bsw_vmdk_extent *ext;
	size_t alloc;	  /* ext[] allocated */
	uint64_t sectors; /* sum over the extents */
};

/*
 * Parse descriptor text (len bytes; stops at a NUL).  0, or -errno with a
 * reason in err: unknown or unreadable extent types (VMFSSPARSE,
 * SESPARSE, raw device maps) are refused by name here.  Free with
 * bsw_vmdk_desc_free() on success.
 */
int bsw_vmdk_desc_parse(const char *text, size_t len, struct bsw_vmdk_desc *d, char *err,
			size_t errlen);
void bsw_vmdk_desc_free(struct bsw_vmdk_desc *d);

/* 1 if src is a text descriptor file (not a sparse extent). */
int bsw_vmdk_is_descriptor(const struct bsw_src *src);

/*
 * Read a whole descriptor file into a new NUL-terminated buffer (*text,
 * free()).  0 or -errno with a reason.
 */
int bsw_vmdk_read_descriptor(const struct bsw_src *src, char **text, char *err, size_t errlen);
/* Read and parse the descriptor file src into d (bsw_vmdk_desc_free()). */
int bsw_vmdk_load_descriptor(const struct bsw_src *src, struct bsw_vmdk_desc *d, char *err,
			     size_t errlen);

/*
 * Open one hosted sparse extent of a descriptor disk: the header must say
 * `sectors` of capacity.  Unallocated grains map to BSW_CEXT_PARENT when
 * has_parent, else to zeros.  Map with bsw_vmdk_ops.map, close with
 * bsw_vmdk_ops.close.  0 or -errno with a reason in err.
 */
int bsw_vmdk_extent_open(void **h, const struct bsw_src *src, const struct bsw_cont_opts *o,
			 struct bsw_fx *fx, uint64_t sectors, bool has_parent, char *err,
			 size_t errlen);

/* The disk-wide fields of a descriptor into info (format, ids, parent). */
int bsw_vmdk_desc_info(const struct bsw_vmdk_desc *d, struct bsw_cont_info *info, char *err,
		       size_t errlen);

#endif /* BSW_VMDK_H */
