/*
 * The families of a sweep: a base image and the differencing children
 * that read it.  scan sweeps a family's disks one after another so that
 * the results shared from the base (scanner/share.h) are used while they
 * are in the cache, and marks every parent layer before the sweep, so that
 * a base swept before its children already keeps its results for them.
 */
#ifndef BSW_FAMILY_H
#define BSW_FAMILY_H

#include <stddef.h>

#include <stdatomic.h>

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
