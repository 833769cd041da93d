/*
 * The read engine on io_uring.  Segments are sorted by (fd, offset), merged
 * where both the file ranges and the buffers are contiguous, split at
 * max_io, and kept up to depth in flight.  Short reads are resumed from
 * where they stopped; -EAGAIN and -EINTR are resubmitted.  When io_uring is
 * unavailable (old kernel, seccomp), the same contract is served by pread.
 *
 * This is the only file that includes liburing.
 */
#include "scanner/ring.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define RING_ALIGN 4096u
#define BSW_RING_MIN(a, b) ((a) < (b) ? (a) : (b))
/* reaps tried after the ring failed, to get back buffers still in flight */
#define RING_DRAIN_TRIES 1000

struct ring_req {
	struct bsw_rseg *seg;  /* owning segment (first of a merged run) */
	unsigned first, count; /* merged run: segs[first .. first+count) */
	int fd;
	uint8_t *buf;
	uint64_t off;
	size_t len, done; /* done: bytes completed so far */
	bool busy;
};

/*
 * A work item: a merged run of segments [first, first+count) of the sorted
 * order, read as one range.  Large runs are cut into max_io pieces by the
 * submit loop, which keeps 'pos' inside the run.
 */
struct run {
	unsigned first, count;
	int fd;
	uint64_t off;
	uint8_t *buf;
	size_t len;
	size_t issued;	 /* bytes handed to requests so far */
	size_t ok;	 /* bytes valid from 0: len, or less if a piece
				   stopped short (EOF or error) */
	size_t err_at;	 /* where the first failing piece stopped */
	size_t finished; /* bytes of pieces whose completion was reaped */
	int64_t err;
	bool eof;
};

/* The ring's one batch: started by bsw_ring_start, ended by bsw_ring_finish. */
struct batch {
	bool active;
	bool done;   /* served synchronously (pread fallback) */
	bool failed; /* the ring failed: no more submits or waits */
	struct bsw_rseg *segs;
	unsigned nr;
	struct bsw_rseg **order; /* segs sorted by (fd, off) */
	struct run *runs;
	unsigned nr_runs, next_run, inflight;
	int first_err;
};

struct bsw_ring {
	struct io_uring ring;
	bool uring;
	unsigned depth, max_io;
	struct ring_req *reqs;
	uint64_t bytes, requests;
	bool retired; /* io_uring abandoned with reads in flight */
	struct batch b;
};

static struct bsw_ring_opts ring_defaults = { .depth = 64, .max_io = 1u << 20 };
static pthread_key_t ring_key;
static pthread_once_t ring_key_once = PTHREAD_ONCE_INIT;

int bsw_ring_create(struct bsw_ring **out, const struct bsw_ring_opts *o)
{
	struct bsw_ring *r = calloc(1, sizeof(*r));
	struct io_uring_params p;
	int ret;

	if (!r)
		return -ENOMEM;
	r->depth = o && o->depth ? o->depth : ring_defaults.depth;
	r->max_io = o && o->max_io ? o->max_io : ring_defaults.max_io;
	if (r->depth > 4096)
		r->depth = 4096;
	r->reqs = calloc(r->depth, sizeof(*r->reqs));
	if (!r->reqs) {
		free(r);
		return -ENOMEM;
	}
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	ret = io_uring_queue_init_params(r->depth, &r->ring, &p);
	if (ret == -EINVAL) {
		/* Kernels before 6.1 know neither flag. */
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(r->depth, &r->ring, &p);
	}
	r->uring = ret == 0;
	*out = r;
	return 0;
}

void bsw_ring_destroy(struct bsw_ring *r)
{
	if (!r)
		return;
	bsw_ring_finish(r); /* no read may land in a buffer freed after this */
	if (r->retired)
		return; /* the kernel may still own its buffers */
	if (r->uring)
		io_uring_queue_exit(&r->ring);
	free(r->reqs);
	free(r);
}

static void ring_key_destroy(void *p)
{
	bsw_ring_destroy(p);
}

static void ring_key_init(void)
{
	pthread_key_create(&ring_key, ring_key_destroy);
}

void bsw_ring_set_defaults(const struct bsw_ring_opts *o)
{
	if (o->depth)
		ring_defaults.depth = o->depth;
	if (o->max_io)
		ring_defaults.max_io = o->max_io;
}

struct bsw_ring *bsw_ring_thread(void)
{
	struct bsw_ring *r;

	pthread_once(&ring_key_once, ring_key_init);
	r = pthread_getspecific(ring_key);
	if (!r && bsw_ring_create(&r, NULL) == 0)
		pthread_setspecific(ring_key, r);
	return r;
}

void bsw_ring_thread_exit(void)
{
	pthread_once(&ring_key_once, ring_key_init);
	bsw_ring_destroy(pthread_getspecific(ring_key));
	pthread_setspecific(ring_key, NULL);
}

uint64_t bsw_ring_bytes(const struct bsw_ring *r)
{
	return r ? r->bytes : 0;
}

uint64_t bsw_ring_requests(const struct bsw_ring *r)
{
	return r ? r->requests : 0;
}

bool bsw_ring_is_uring(const struct bsw_ring *r)
{
	return r && r->uring;
}

static bool aligned(uint64_t v)
{
	return (v & (RING_ALIGN - 1)) == 0;
}

static int seg_fd(const struct bsw_rseg *s)
{
	if (s->dfd >= 0 && aligned(s->off) && aligned(s->len) && aligned((uintptr_t)s->buf))
		return s->dfd;
	return s->fd;
}

static int cmp_seg_ptr(const void *a, const void *b)
{
	const struct bsw_rseg *x = *(struct bsw_rseg *const *)a;
	const struct bsw_rseg *y = *(struct bsw_rseg *const *)b;

	if (x->fd != y->fd)
		return x->fd < y->fd ? -1 : 1;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return 0;
}

/*
 * Distribute a finished run's result over its segments.  A segment that
 * reaches the point where the run stopped is short if the run stopped at
 * end of file, and failed (-errno) if it stopped on an error: a caller
 * must be able to tell "the file ends here" from "these bytes could not be
 * read", since only the first may be judged as corruption.
 */
static void run_finish(struct run *rn, struct bsw_rseg **order)
{
	size_t pos = 0;
	bool failed = rn->err && rn->err_at <= rn->ok;

	for (unsigned i = 0; i < rn->count; i++) {
		struct bsw_rseg *s = order[rn->first + i];
		size_t got = rn->ok > pos ? BSW_RING_MIN(rn->ok - pos, s->len) : 0;

		s->done = got;
		if (got == s->len)
			s->res = (int64_t)s->len;
		else if (failed)
			s->res = rn->err;
		else
			s->res = (int64_t)got;
		pos += s->len;
	}
}

static int readv_pread(struct bsw_ring *r, struct bsw_rseg *segs, unsigned nr)
{
	int first_err = 0;

	for (unsigned i = 0; i < nr; i++) {
		struct bsw_rseg *s = &segs[i];
		size_t done = 0;
		int err = 0;
		/* once O_DIRECT refuses a piece, the rest goes buffered */
		int fd = seg_fd(s);

		while (done < s->len) {
			ssize_t n = pread(fd, (uint8_t *)s->buf + done, s->len - done,
					  (off_t)(s->off + done));

			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n < 0 && fd != s->fd && errno == EINVAL) {
				/* O_DIRECT refused this range: buffered read. */
				fd = s->fd;
				continue;
			}
			if (n < 0) {
				err = errno ? -errno : -EIO;
				break;
			}
			if (n == 0)
				break;
			done += (size_t)n;
			r->requests++;
		}
		r->bytes += done;
		s->done = done;
		/* an error is never passed off as a short read */
		s->res = err ? err : (int64_t)done;
		if (err && !first_err)
			first_err = err;
	}
	return first_err;
}

/*
 * After a submit or wait failure: reap what is still in flight, so that no
 * read lands in a buffer the caller has since freed.  If the ring does not
 * give them back, it is retired (never reused, and not torn down while the
 * kernel may still write into those buffers) and this thread falls back to
 * pread.
 */
static void ring_drain(struct bsw_ring *r, unsigned *inflight)
{
	for (unsigned tries = 0; *inflight && tries < RING_DRAIN_TRIES; tries++) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		int ret = io_uring_submit_and_wait(&r->ring, 1);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			break;
		io_uring_for_each_cqe(&r->ring, head, cqe)
		{
			struct ring_req *q = io_uring_cqe_get_data(cqe);

			seen++;
			if (q && q->busy) {
				q->busy = false;
				(*inflight)--;
			}
		}
		io_uring_cq_advance(&r->ring, seen);
	}
	if (*inflight) {
		r->uring = false; /* leaked on purpose: see above */
		r->retired = true;
	}
	for (unsigned k = 0; k < r->depth; k++)
		r->reqs[k].busy = false;
}

/*
 * Submit pieces of runs (each at most max_io) while slots are free.  A
 * piece records its run and its position.  Returns false if the ring
 * failed (b->first_err set).
 */
static bool batch_fill(struct bsw_ring *r, struct batch *b)
{
	unsigned queued = 0;

	while (b->inflight < r->depth && b->next_run < b->nr_runs) {
		struct run *rn = &b->runs[b->next_run];
		struct ring_req *q = NULL;
		struct io_uring_sqe *sqe;
		size_t piece;

		for (unsigned k = 0; k < r->depth; k++)
			if (!r->reqs[k].busy) {
				q = &r->reqs[k];
				break;
			}
		sqe = q ? io_uring_get_sqe(&r->ring) : NULL;
		if (!sqe)
			break;
		piece = rn->len - rn->issued;
		if (piece > r->max_io)
			piece = r->max_io;
		*q = (struct ring_req){ .first = b->next_run,
					.fd = rn->fd,
					.buf = rn->buf + rn->issued,
					.off = rn->off + rn->issued,
					.len = piece,
					.busy = true };
		io_uring_prep_read(sqe, q->fd, q->buf, (unsigned)piece, q->off);
		io_uring_sqe_set_data(sqe, q);
		rn->issued += piece;
		if (rn->issued == rn->len)
			b->next_run++;
		b->inflight++;
		queued++;
	}
	if (queued) {
		int ret = io_uring_submit(&r->ring);

		if (ret < 0 && ret != -EAGAIN && ret != -EINTR) {
			b->first_err = ret;
			return false;
		}
	}
	return true;
}

/* The piece q stopped at 'at' bytes into its run with error res. */
static void run_error(struct batch *b, struct run *rn, size_t at, int res)
{
	if (!rn->err || at < rn->err_at) {
		rn->err = res;
		rn->err_at = at;
	}
	if (!b->first_err)
		b->first_err = res;
}

/*
 * Wait for at least one completion and account for every one available:
 * completions may arrive out of order; a piece that stops short lowers its
 * run's valid length to where it stopped.  Returns false if the ring
 * failed (b->first_err set).
 */
static bool batch_reap(struct bsw_ring *r, struct batch *b)
{
	struct io_uring_cqe *cqe;
	unsigned seen = 0, head;
	int ret = io_uring_wait_cqe(&r->ring, &cqe);

	if (ret == -EINTR)
		return true;
	if (ret < 0) {
		b->first_err = ret;
		return false;
	}
	io_uring_for_each_cqe(&r->ring, head, cqe)
	{
		struct ring_req *q = io_uring_cqe_get_data(cqe);
		struct run *rn = &b->runs[q->first];
		int res = cqe->res;

		seen++;
		r->requests++;
		if (res == -EAGAIN || res == -EINTR ||
		    (res == -EINVAL && q->fd != b->order[rn->first]->fd)) {
			/* Retry; O_DIRECT refusals fall back to buffered. */
			struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

			if (res == -EINVAL)
				q->fd = b->order[rn->first]->fd;
			if (sqe) {
				io_uring_prep_read(sqe, q->fd, q->buf + q->done,
						   (unsigned)(q->len - q->done), q->off + q->done);
				io_uring_sqe_set_data(sqe, q);
				continue;
			}
			res = -EAGAIN;
		}
		if (res < 0) {
			run_error(b, rn, (size_t)(q->buf - rn->buf) + q->done, res);
		} else if (res == 0) {
			rn->eof = true;
		} else {
			q->done += (size_t)res;
			r->bytes += (uint64_t)res;
			if (q->done < q->len) {
				/* Short read: resume from where it stopped. */
				struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

				if (sqe) {
					io_uring_prep_read(sqe, q->fd, q->buf + q->done,
							   (unsigned)(q->len - q->done),
							   q->off + q->done);
					io_uring_sqe_set_data(sqe, q);
					continue;
				}
				/* no SQE to resume it: a failure, not EOF */
				run_error(b, rn, (size_t)(q->buf - rn->buf) + q->done, -EAGAIN);
			}
		}
		/* Piece finished: whole, short at EOF, or failed. */
		if (q->done < q->len) {
			size_t at = (size_t)(q->buf - rn->buf) + q->done;

			if (at < rn->ok)
				rn->ok = at;
		}
		rn->finished += q->len;
		q->busy = false;
		b->inflight--;
	}
	io_uring_cq_advance(&r->ring, seen);
	/* Resubmit anything the retries queued. */
	if (io_uring_sq_ready(&r->ring))
		io_uring_submit(&r->ring);
	return true;
}

int bsw_ring_start(struct bsw_ring *r, struct bsw_rseg *segs, unsigned nr)
{
	struct batch *b = &r->b;
	unsigned i;

	if (b->active)
		return -EBUSY;
	*b = (struct batch){ .active = true, .segs = segs, .nr = nr };
	if (!nr)
		return 0;
	if (!r->uring) {
		b->first_err = readv_pread(r, segs, nr);
		b->done = true;
		return 0;
	}
	b->order = malloc(nr * sizeof(*b->order));
	b->runs = malloc(nr * sizeof(*b->runs));
	if (!b->order || !b->runs) {
		free(b->order);
		free(b->runs);
		b->order = NULL;
		b->runs = NULL;
		b->first_err = readv_pread(r, segs, nr);
		b->done = true;
		return 0;
	}
	for (i = 0; i < nr; i++) {
		b->order[i] = &segs[i];
		segs[i].res = 0;
		segs[i].done = 0;
	}
	qsort(b->order, nr, sizeof(*b->order), cmp_seg_ptr);

	/* Merge runs: same fd, contiguous file range and contiguous buffer. */
	for (i = 0; i < nr; i++) {
		struct bsw_rseg *s = b->order[i];
		struct run *p = b->nr_runs ? &b->runs[b->nr_runs - 1] : NULL;

		if (!s->len)
			continue;
		if (p && seg_fd(s) == p->fd && p->off + p->len == s->off &&
		    p->buf + p->len == (uint8_t *)s->buf && p->first + p->count == i) {
			p->len += s->len;
			p->count++;
			continue;
		}
		b->runs[b->nr_runs++] = (struct run){ .first = i,
						      .count = 1,
						      .fd = seg_fd(s),
						      .off = s->off,
						      .buf = s->buf,
						      .len = s->len,
						      .ok = SIZE_MAX,
						      .err_at = SIZE_MAX };
	}
	if (!batch_fill(r, b))
		b->failed = true;
	return 0;
}

int bsw_ring_finish(struct bsw_ring *r)
{
	struct batch *b = &r->b;
	int first_err;

	if (!b->active)
		return 0;
	if (b->done || !b->nr) {
		first_err = b->first_err;
		b->active = false;
		return first_err;
	}
	while (!b->failed && b->inflight) {
		if (!batch_reap(r, b) || !batch_fill(r, b))
			b->failed = true;
	}
	if (b->inflight)
		ring_drain(r, &b->inflight);
	for (unsigned i = 0; i < b->nr_runs; i++) {
		struct run *rn = &b->runs[i];

		if (rn->ok > rn->len)
			rn->ok = rn->len;
		/*
		 * The loop stopped on a ring failure before every piece of
		 * this run came back: none of its bytes can be trusted.
		 */
		if (rn->finished < rn->len) {
			rn->err = b->first_err ? b->first_err : -EIO;
			rn->err_at = 0;
			rn->ok = 0;
		}
		run_finish(rn, b->order);
	}
	first_err = b->first_err;
	free(b->order);
	free(b->runs);
	b->order = NULL;
	b->runs = NULL;
	b->active = false;
	return first_err;
}

bool bsw_ring_busy(const struct bsw_ring *r)
{
	return r && r->b.active;
}

bool bsw_ring_cached(int fd, uint64_t off)
{
	char c;
	struct iovec v = { .iov_base = &c, .iov_len = 1 };

	return preadv2(fd, &v, 1, (off_t)off, RWF_NOWAIT) == 1;
}

bool bsw_ring_retired(const struct bsw_ring *r)
{
	return r && r->retired;
}

int bsw_ring_readv(struct bsw_ring *r, struct bsw_rseg *segs, unsigned nr)
{
	int ret = bsw_ring_start(r, segs, nr);

	return ret ? ret : bsw_ring_finish(r);
}

int64_t bsw_ring_pread(struct bsw_ring *r, int fd, void *buf, size_t len, uint64_t off)
{
	struct bsw_rseg s = { .fd = fd, .dfd = -1, .off = off, .len = len, .buf = buf };
	int ret = bsw_ring_readv(r, &s, 1);

	return ret && s.res <= 0 ? ret : s.res;
}
