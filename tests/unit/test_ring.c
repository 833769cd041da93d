/*
 * The read engine: batched reads land the right bytes in the right buffers
 * whatever the order, merging, splitting and alignment; reads past EOF are
 * short; a bad descriptor fails its own segment only; O_DIRECT segments
 * that are aligned use the direct descriptor and unaligned ones fall back;
 * a batch started on two rings at once finishes right on both, and a ring
 * refuses a second started batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/common/src.h"
#include "scanner/ring.h"
#include "tests/unit/t_helpers.h"

#define FILE_SIZE (9u << 20 | 1234u) /* not a multiple of anything */

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)((off * 2654435761u) >> 13);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int check_seg(const struct bsw_rseg *s)
{
	const uint8_t *b = s->buf;
	size_t expect = s->off >= FILE_SIZE ?
				0 :
				(s->len < FILE_SIZE - s->off ? s->len : FILE_SIZE - s->off);

	if (s->res != (int64_t)expect)
		return 0;
	for (size_t i = 0; i < expect; i++)
		if (b[i] != pattern(s->off + i))
			return 0;
	return 1;
}

static void run_batch(struct bsw_ring *r, int fd, int dfd, uint64_t seed, unsigned nr,
		      int contiguous)
{
	struct bsw_rseg segs[64];
	uint8_t *arena = bsw_alloc_aligned(16u << 20);
	size_t used = 0;
	uint64_t off = rnd(&seed) % FILE_SIZE;

	for (unsigned i = 0; i < nr; i++) {
		size_t len = 1 + rnd(&seed) % (600u << 10);

		if ((rnd(&seed) & 3) == 0)
			len = (len + 4095) & ~(size_t)4095;
		if (!contiguous) {
			off = rnd(&seed) % (FILE_SIZE + 8192);
			if ((rnd(&seed) & 3) == 0)
				off &= ~(uint64_t)4095;
			used = (used + 4095) & ~(size_t)4095;
		}
		segs[i] = (struct bsw_rseg){
			.fd = fd, .dfd = dfd, .off = off, .len = len, .buf = arena + used
		};
		used += len;
		off += len;
	}
	/* Reverse order for the contiguous case: the engine must sort. */
	if (contiguous)
		for (unsigned i = 0; i < nr / 2; i++) {
			struct bsw_rseg t = segs[i];

			segs[i] = segs[nr - 1 - i];
			segs[nr - 1 - i] = t;
		}
	T_CHECK(bsw_ring_readv(r, segs, nr) == 0, "readv failed");
	for (unsigned i = 0; i < nr; i++)
		T_CHECK(check_seg(&segs[i]), "segment %u (off %llu len %zu res %lld) wrong", i,
			(unsigned long long)segs[i].off, segs[i].len, (long long)segs[i].res);
	free(arena);
}

/* Two rings with a batch each in flight, finished in the other order. */
static void two_rings(int fd, int dfd)
{
	struct bsw_ring_opts o = { .depth = 4, .max_io = 64 << 10 };
	struct bsw_ring *a, *b;
	struct bsw_rseg sa[3], sb[2], extra;
	uint8_t *arena = bsw_alloc_aligned(8u << 20);

	if (!arena || bsw_ring_create(&a, &o) || bsw_ring_create(&b, &o)) {
		T_CHECK(0, "setup");
		free(arena);
		return;
	}
	/* more pieces than the depth: finish must submit the rest */
	sa[0] = (struct bsw_rseg){ .fd = fd, .dfd = dfd, .off = 0, .len = 1 << 20, .buf = arena };
	sa[1] = (struct bsw_rseg){
		.fd = fd, .dfd = -1, .off = 4099, .len = 777, .buf = arena + (1 << 20)
	};
	sa[2] = (struct bsw_rseg){
		.fd = fd, .dfd = -1, .off = FILE_SIZE - 100, .len = 4096, .buf = arena + (2 << 20)
	};
	sb[0] = (struct bsw_rseg){
		.fd = fd, .dfd = dfd, .off = 8 << 20, .len = 1 << 20, .buf = arena + (3 << 20)
	};
	sb[1] = (struct bsw_rseg){
		.fd = fd, .dfd = -1, .off = 12345, .len = 3 << 20, .buf = arena + (4 << 20)
	};
	T_CHECK(bsw_ring_start(a, sa, 3) == 0 && bsw_ring_busy(a), "start a");
	T_CHECK(bsw_ring_start(b, sb, 2) == 0, "start b");
	extra = sb[0];
	T_CHECK(bsw_ring_start(a, &extra, 1) == -EBUSY, "a second batch is refused");
	T_CHECK(bsw_ring_finish(b) == 0 && !bsw_ring_busy(b), "finish b");
	T_CHECK(bsw_ring_finish(a) == 0, "finish a");
	for (unsigned i = 0; i < 3; i++)
		T_CHECK(check_seg(&sa[i]), "a segment %u res %lld", i, (long long)sa[i].res);
	for (unsigned i = 0; i < 2; i++)
		T_CHECK(check_seg(&sb[i]), "b segment %u res %lld", i, (long long)sb[i].res);
	T_CHECK(bsw_ring_finish(a) == 0, "finish without a batch");
	/* destroy with a batch started: it is finished first */
	T_CHECK(bsw_ring_start(a, sa, 3) == 0, "start again");
	bsw_ring_destroy(a);
	T_CHECK(check_seg(&sa[0]), "finished by destroy");
	bsw_ring_destroy(b);
	free(arena);
}

int main(void)
{
	char path[] = "/tmp/bsw_ring_XXXXXX";
	int fd = mkstemp(path), dfd, rofd;
	uint8_t *buf;
	struct bsw_ring *r;
	struct bsw_ring_opts o = { .depth = 8, .max_io = 128 << 10 };
	struct bsw_rseg bad[2];
	uint8_t small[100];

	if (fd < 0)
		return T_EXIT_SKIP;
	buf = malloc(FILE_SIZE);
	for (uint64_t i = 0; i < FILE_SIZE; i++)
		buf[i] = pattern(i);
	T_CHECK(write(fd, buf, FILE_SIZE) == (ssize_t)FILE_SIZE, "write");
	close(fd);
	free(buf);
	rofd = open(path, O_RDONLY);
	dfd = open(path, O_RDONLY | O_DIRECT); /* -1 on tmpfs: fine */

	T_CHECK(bsw_ring_create(&r, &o) == 0, "create");
	if (!bsw_ring_is_uring(r))
		fprintf(stderr, "note: io_uring unavailable, testing the pread fallback\n");
	for (uint64_t s = 1; s <= 12; s++) {
		run_batch(r, rofd, -1, s * 7919, 1 + s * 5 % 40, 0);
		run_batch(r, rofd, dfd, s * 104729, 1 + s * 3 % 40, 0);
		run_batch(r, rofd, dfd, s * 31337, 2 + s % 30, 1);
	}
	/* A segment on a bad descriptor fails alone. */
	bad[0] = (struct bsw_rseg){ .fd = rofd, .dfd = -1, .off = 10, .len = 50, .buf = small };
	bad[1] = (struct bsw_rseg){ .fd = 987, .dfd = -1, .off = 0, .len = 50, .buf = small + 50 };
	T_CHECK(bsw_ring_readv(r, bad, 2) == -EBADF, "bad fd not reported");
	T_CHECK(check_seg(&bad[0]), "good segment beside a bad one");
	T_CHECK(bad[1].res == -EBADF, "bad segment res %lld", (long long)bad[1].res);
	/* Single pread past EOF is short. */
	T_CHECK(bsw_ring_pread(r, rofd, small, 100, FILE_SIZE - 10) == 10, "short at EOF");
	T_CHECK(bsw_ring_pread(r, rofd, small, 100, FILE_SIZE + 10) == 0, "past EOF");
	T_CHECK(bsw_ring_bytes(r) > 0, "byte counter");
	bsw_ring_destroy(r);
	two_rings(rofd, dfd);

	/* The per-thread ring works and is reused. */
	T_CHECK(bsw_ring_thread() == bsw_ring_thread(), "thread ring reused");
	bsw_ring_thread_exit();

	close(rofd);
	if (dfd >= 0)
		close(dfd);
	unlink(path);
	return T_DONE();
}
