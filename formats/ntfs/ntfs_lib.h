/*
 * libntfs-3g as an independent second opinion on an NTFS volume.
 *
 * libntfs-3g reads the volume through a struct bsw_src (so VHD, VHDX and
 * chains go through bootsweep's container layer, no temporary file); its
 * device write/pwrite/sync always fail with EROFS.  This file and
 * ntfs_lib.c are the only scanner/format sources that include
 * <ntfs-3g/...>.
 *
 * Threading: libntfs-3g keeps global state (the log handler, the upcase
 * table cache and mount options).  Every entry point here takes one
 * process-wide mutex for the duration of the call, so several threads may
 * use the binding but only one of them works in libntfs-3g at a time; a
 * volume itself belongs to one thread.
 */
#ifndef BSW_NTFS_LIB_H
#define BSW_NTFS_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/common/src.h"
#include "formats/common/finding.h"

struct bsw_ntfs3g;

/* Caps: the walk never visits more entries nor descends deeper than this. */
#define BSW_NTFS3G_MAX_ENTRIES (16u << 20)
#define BSW_NTFS3G_MAX_DEPTH 256
#define BSW_NTFS3G_LOG_MAX 4096 /* bytes of libntfs-3g log kept */

/*
 * Mount vol read-only with libntfs-3g.  0, or -errno with the reason (and
 * libntfs-3g's own log lines) reported to fx as PR_NTFS3G_F0_MOUNT.  fx may
 * be NULL.  src must outlive the volume.
 */
int bsw_ntfs3g_open(struct bsw_ntfs3g **out, const struct bsw_src *vol, struct bsw_fx *fx);
void bsw_ntfs3g_close(struct bsw_ntfs3g *v);

/* The log lines libntfs-3g produced on this volume so far ("" if none). */
const char *bsw_ntfs3g_log(const struct bsw_ntfs3g *v);

/* One entry of the walk; pointers valid during the callback only. */
struct bsw_ntfs3g_ent {
	const char *path;    /* "\Windows\System32\ntdll.dll"; root is "\" */
	uint64_t rec;	     /* MFT record number */
	uint64_t size;	     /* unnamed $DATA data size (0 for a directory) */
	unsigned link_count; /* from the MFT record header */
	bool dir;
	bool has_sha;	    /* sha256 is set (walk asked for it, file read) */
	uint8_t sha256[32]; /* of the unnamed $DATA */
};

typedef int (*bsw_ntfs3g_walk_fn)(void *arg, const struct bsw_ntfs3g_ent *e);

/*
 * Visit every name of the tree below the root (depth first, every hard
 * link, DOS-only names and "." ".." skipped; metafiles in the root are
 * included), hashing the unnamed $DATA of regular files when hash is set.
 * Directories are descended once each (cycle guard by record number).
 * Stops when fn returns non-zero and returns that value; else 0 or -errno.
 */
int bsw_ntfs3g_walk(struct bsw_ntfs3g *v, bool hash, bsw_ntfs3g_walk_fn fn, void *arg);

/* Look a path up ('\' or '/' separators); 0 and *rec, or -ENOENT. */
int bsw_ntfs3g_lookup(struct bsw_ntfs3g *v, const char *path, uint64_t *rec);

/*
 * Read the whole unnamed $DATA of rec into a new buffer (malloc) when it is
 * at most max bytes; 0, -EFBIG or -errno.
 */
int bsw_ntfs3g_read_all(struct bsw_ntfs3g *v, uint64_t rec, uint8_t **data, size_t *len,
			size_t max);

/*
 * The mount-time verdict of libntfs-3g on vol, as findings in fx: mount
 * refused (with errno and libntfs-3g's messages, which include a $MFTMirr
 * mismatch), the volume dirty flag, $LogFile not clean or not valid, and a
 * hibernated Windows.  Evidence beside bootsweep's own checks: INFO/WARN
 * rows, verdict NONE.  Returns the number of findings reported, or -errno
 * when vol could not be examined at all.
 */
int bsw_ntfs3g_verdict(const struct bsw_src *vol, struct bsw_fx *fx);

#endif /* BSW_NTFS_LIB_H */
