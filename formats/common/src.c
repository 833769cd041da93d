/* Memory and window sources, and the exact-read helper. */
#include "formats/common/src.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int64_t mem_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct bsw_src_mem *m = ctx;

	if (off >= m->len)
		return 0;
	if (len > m->len - off)
		len = m->len - off;
	memcpy(buf, m->data + off, len);
	return (int64_t)len;
}

void bsw_src_mem_init(struct bsw_src *src, struct bsw_src_mem *mem, const void *data, size_t len)
{
	mem->data = data;
	mem->len = len;
	src->pread = mem_pread;
	src->ctx = mem;
	src->size = len;
	src->name = "memory";
}

static int64_t win_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct bsw_src_window *w = ctx;
	uint64_t pos;

	if (__builtin_add_overflow(w->start, off, &pos))
		return -EINVAL;
	return w->parent->pread(w->parent->ctx, buf, len, pos);
}

static int64_t win_origin(void *ctx, uint64_t off, uint64_t len, uint64_t *tok, uint64_t *poff)
{
	struct bsw_src_window *w = ctx;
	uint64_t pos;

	if (__builtin_add_overflow(w->start, off, &pos))
		return -EINVAL;
	return w->parent->origin(w->parent->ctx, pos, len, tok, poff);
}

void bsw_src_window_init(struct bsw_src *src, struct bsw_src_window *win,
			 const struct bsw_src *parent, uint64_t start, uint64_t len)
{
	win->parent = parent;
	win->start = start;
	src->pread = win_pread;
	src->origin = parent->origin ? win_origin : NULL;
	src->ctx = win;
	if (start > parent->size)
		len = 0;
	else if (len > parent->size - start)
		len = parent->size - start;
	src->size = len;
	src->name = parent->name;
}

int bsw_src_read_full(const struct bsw_src *src, void *buf, size_t len, uint64_t off)
{
	int64_t r;

	if (off > src->size || len > src->size - off)
		return -EIO;
	r = src->pread(src->ctx, buf, len, off);
	if (r < 0)
		return (int)r;
	return (size_t)r == len ? 0 : -EIO;
}

/*
 * Buffers of BSW_BIG_BUF or more (hives, large files) are aligned on 2 MiB
 * and advised as huge pages: on this kind of VM a 4 KiB page fault with
 * its zeroing costs microseconds, and a 137 MB hive read into fresh memory
 * spent most of its time faulting.  Smaller ones are page-aligned (an
 * unaligned read buffer costs a factor of five in the page-cache copy).
 */
#define BSW_BIG_BUF (4u << 20)
#define BSW_HUGE_PAGE (2u << 20)

void *bsw_alloc_aligned(size_t len)
{
	size_t align = len >= BSW_BIG_BUF ? BSW_HUGE_PAGE : 4096;
	void *p = NULL;

	if (posix_memalign(&p, align, len ? len : 1))
		return NULL;
	if (align == BSW_HUGE_PAGE)
		madvise(p, len & ~(size_t)(BSW_HUGE_PAGE - 1), MADV_HUGEPAGE);
	return p;
}
