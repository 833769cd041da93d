/*
 * The read engine: every byte bootsweep reads from an image file comes
 * through here.  One io_uring per thread (bsw_ring_thread()), many reads in
 * flight, adjacent reads merged, short reads resumed, -EAGAIN resubmitted,
 * and errors reported per segment.  The container layer only translates
 * virtual ranges into (fd, offset, length) segments; it never reads itself.
 */
#ifndef BSW_RING_H
#define BSW_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bsw_ring;

struct bsw_ring_opts {
	unsigned depth;	 /* SQ entries / reads in flight; 0 = 64 */
	unsigned max_io; /* largest single read in bytes; 0 = 1 MiB */
};

/* One segment of a batched read. */
struct bsw_rseg {
	int fd;	 /* buffered descriptor (O_RDONLY) */
	int dfd; /* O_DIRECT descriptor or -1; used when off, len
				   and buf are all 4096-aligned */
	uint64_t off;
	size_t len;
	void *buf;
	/*
	 * out: bytes read (< len only at end of file), or -errno when any
	 * byte of the segment could not be read (EIO from the device, a
	 * ring failure); a segment is never reported short because of an
	 * error.
	 */
	int64_t res;
	/* out: bytes valid from off; on error, where the read failed */
	uint64_t done;
};

/* Create a ring; 0 or -errno.  Falls back to plain setup flags on -EINVAL. */
int bsw_ring_create(struct bsw_ring **out, const struct bsw_ring_opts *o);
/* Destroy a ring; NULL is fine. */
void bsw_ring_destroy(struct bsw_ring *r);

/*
 * The calling thread's ring, created on first use with the process-wide
 * options (bsw_ring_set_defaults()).  NULL only if io_uring is unavailable
 * and the pread fallback could not be set up either.  Destroyed by
 * bsw_ring_thread_exit() or at thread exit.
 */
struct bsw_ring *bsw_ring_thread(void);
void bsw_ring_thread_exit(void);
void bsw_ring_set_defaults(const struct bsw_ring_opts *o);

/*
 * Read every segment, keeping up to depth reads in flight.  Segments may be
 * in any order; adjacent ones on the same fd with contiguous buffers are
 * merged; large ones are split at max_io.  Returns 0 if every segment
 * completed (possibly short at EOF), else the first -errno; each segment's
 * res and done say what happened to it.  When the ring itself fails
 * (submit or wait), every segment not yet complete gets that -errno: no
 * segment is ever reported read whose bytes did not arrive.
 */
int bsw_ring_readv(struct bsw_ring *r, struct bsw_rseg *segs, unsigned nr);

/*
 * The same in two halves, so that a caller can work while the reads are in
 * flight (the disk's read-ahead): bsw_ring_start submits as many pieces as
 * the depth allows and returns; bsw_ring_finish submits the rest, waits for
 * every one and returns what bsw_ring_readv would.  segs (and the buffers)
 * must stay valid until bsw_ring_finish returns.  A ring has at most one
 * batch started: -EBUSY otherwise (bsw_ring_readv included).  Without
 * io_uring the reads are done by bsw_ring_start.  bsw_ring_destroy finishes
 * a started batch first.
 */
int bsw_ring_start(struct bsw_ring *r, struct bsw_rseg *segs, unsigned nr);
int bsw_ring_finish(struct bsw_ring *r);
/* True between bsw_ring_start and bsw_ring_finish. */
bool bsw_ring_busy(const struct bsw_ring *r);
/*
 * True if the ring was abandoned with reads it could not get back (a
 * failed wait): the buffers of its last batch must never be freed.
 */
bool bsw_ring_retired(const struct bsw_ring *r);

/* One read through the ring: bytes read or -errno. */
int64_t bsw_ring_pread(struct bsw_ring *r, int fd, void *buf, size_t len, uint64_t off);

/*
 * True if the byte at off of fd is in the page cache: a one-byte read
 * that is refused rather than waits (RWF_NOWAIT).  A read-ahead skips
 * ranges the kernel already holds.  False on any error.
 */
bool bsw_ring_cached(int fd, uint64_t off);

/* Counters of this ring: bytes read, requests submitted. */
uint64_t bsw_ring_bytes(const struct bsw_ring *r);
uint64_t bsw_ring_requests(const struct bsw_ring *r);

/* True if the ring runs on io_uring (false: pread fallback). */
bool bsw_ring_is_uring(const struct bsw_ring *r);

#endif /* BSW_RING_H */
