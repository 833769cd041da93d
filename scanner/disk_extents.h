/*
 * A chain layer made of several files: a VMDK descriptor and the extent
 * files it names (monolithicFlat, twoGbMaxExtentSparse/Flat, ESX "vmfs"
 * flat disks).  The descriptor is parsed by formats/vmdk; this file opens
 * the extent files (through a callback of scanner/disk.c, so every byte is
 * still read by the thread's ring) and maps a virtual range to the file
 * that serves it.
 */
#ifndef BSW_DISK_EXTENTS_H
#define BSW_DISK_EXTENTS_H

#include <stdint.h>

#include "formats/cont/cont.h"

/* One extent file, opened by the caller's opener. */
struct bsw_xfile {
	int fd, dfd; /* dfd: O_DIRECT twin or -1 */
	uint64_t size;
	struct bsw_src src; /* reads through the ring */
	void *priv;	    /* the opener's; freed with free() */
	char *path;	    /* heap */
};

/* Open path read-only into f; 0 or -errno with a reason in err. */
typedef int (*bsw_xfile_opener)(void *ctx, const char *path, struct bsw_xfile *f, char *err,
				size_t errlen);

struct bsw_disk_xt;

/*
 * If src (the file at path) is a VMDK descriptor: parse it, open every
 * extent file beside it with opener, fill ci (format, ids, parent
 * locator) and return 1 with *out set.  0: not a descriptor (nothing
 * done).  -errno with a reason in err: a descriptor that cannot be read
 * (an extent file missing, too small, of a refused type ...).
 */
int bsw_disk_xt_open(struct bsw_disk_xt **out, const struct bsw_src *src, const char *path,
		     bsw_xfile_opener opener, void *octx, uint64_t mem_cap, struct bsw_fx *fx,
		     struct bsw_cont_info *ci, char *err, size_t errlen);

/*
 * The extent at off (len > 0): like bsw_cont_ops.map, and for
 * BSW_CEXT_DATA the file that holds it in *fd / *dfd.
 */
int bsw_disk_xt_map(struct bsw_disk_xt *xt, uint64_t off, uint64_t len, struct bsw_cext *e, int *fd,
		    int *dfd);

/* The path of extent file i (ZERO extents have none), or NULL past the last. */
const char *bsw_disk_xt_file(const struct bsw_disk_xt *xt, unsigned i);

struct bsw_disk;
/*
 * Extent file i of chain layer li of an open disk (a VMDK descriptor's),
 * or NULL (no such file, or a layer of one file).  In scanner/disk.c.
 */
const char *bsw_disk_layer_file(const struct bsw_disk *d, unsigned li, unsigned i);

/* Close every extent file and free xt (NULL is fine). */
void bsw_disk_xt_close(struct bsw_disk_xt *xt);

#endif /* BSW_DISK_EXTENTS_H */
