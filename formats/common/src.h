/*
 * struct bsw_src: how a format reads bytes without doing I/O itself.
 *
 * The scanner hands each parser a source whose pread goes through the one
 * read engine (scanner/ring.c) and the container layer; tests and fuzz
 * targets hand it a memory buffer (bsw_src_mem()).  A format never calls
 * open/pread/io_uring directly.
 */
#ifndef BSW_SRC_H
#define BSW_SRC_H

#include <stddef.h>
#include <stdint.h>

struct bsw_src {
	/*
	 * Read len bytes at off into buf.  Returns the number of bytes read,
	 * which is less than len only at the end of the source, or -errno.
	 * Must be safe to call from the thread that owns the source only.
	 */
	int64_t (*pread)(void *ctx, void *buf, size_t len, uint64_t off);
	void *ctx;
	/*
	 * Optional (NULL: no byte of the source is shared).  Where the bytes
	 * at off come from, so that work done on them can be shared with
	 * other sources that read the same bytes (scanner/share.h): *tok gets
	 * the token of the file that serves them (0: not shareable, e.g.
	 * zeros, memory, a replayed log), *poff their offset in that file.
	 * Returns how many bytes from off (at most len) come contiguously
	 * from there, 0 at the end of the source, or -errno.
	 */
	int64_t (*origin)(void *ctx, uint64_t off, uint64_t len, uint64_t *tok, uint64_t *poff);
	uint64_t size;	  /* bytes in the source */
	const char *name; /* for messages; may be NULL */
};

struct bsw_src_mem {
	const uint8_t *data;
	size_t len;
};

/* A source over a memory buffer; mem must outlive the source. */
void bsw_src_mem_init(struct bsw_src *src, struct bsw_src_mem *mem, const void *data, size_t len);

/*
 * A window [start, start+len) of another source (a partition of a disk).
 * win must outlive the returned source.
 */
struct bsw_src_window {
	const struct bsw_src *parent;
	uint64_t start;
};
void bsw_src_window_init(struct bsw_src *src, struct bsw_src_window *win,
			 const struct bsw_src *parent, uint64_t start, uint64_t len);

/* Read exactly len bytes at off; -EIO on a short read, -errno on error. */
int bsw_src_read_full(const struct bsw_src *src, void *buf, size_t len, uint64_t off);

/* Page-aligned allocation (4096) for read buffers; free with free(). */
void *bsw_alloc_aligned(size_t len);

#endif /* BSW_SRC_H */
