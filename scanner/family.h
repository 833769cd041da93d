/*
 * The families of a sweep: a base image and the differencing children
 * that read it.  scan sweeps a family's disks one after another so that
 * the results shared from the base (scanner/share.h) are used while they
 * are in the cache, and marks every parent layer before the sweep, so that
 * a base swept before its children already keeps its results for them.
 */
#ifndef BSW_FAMILY_H
#define BSW_FAMILY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <stdatomic.h>

struct bsw_disk;
struct bsw_fx;

/* realpath(p), or a copy of p where it has none; NULL when out of memory. */
char *bsw_family_canon(const char *p);

/*
 * One image's chain opened for its headers only (the container and the
 * partition table), as family order and the shard plan read it.
 */
struct bsw_family_probe {
	struct bsw_disk *d; /* NULL when the chain did not open */
	struct bsw_fx *fx;
	struct stat st; /* stat() of the path, when st_ok */
	bool st_ok;
};

/*
 * Open path's chain with the given container memory cap (0: the default).
 * A path that is not a regular file or block device is not opened (a FIFO
 * would block).  0 with p->d set, or -1 (p->d NULL; p->st as stat() said).
 * bsw_family_probe_close() in both cases.
 */
int bsw_family_probe_open(struct bsw_family_probe *p, const char *path, uint64_t mem_cap);
void bsw_family_probe_close(struct bsw_family_probe *p);

/*
 * Reorder the n image paths of v by family: by the canonical path of the
 * chain's root layer, parents before children (fewer layers first), then
 * by path; mark each parent layer for sharing.  An image that does not
 * open (or whose container tables pass a small probe cap) keeps a family
 * of its own.  Once *stop is set, the images not yet probed keep their
 * order, after the others.  0 or -ENOMEM (v unchanged).
 */
int bsw_family_order(char **v, size_t n, const atomic_int *stop);

#endif /* BSW_FAMILY_H */
