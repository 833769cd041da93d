/*
 * A copy-on-write NTFS device for the children of a fleet: libntfs-3g
 * mounts the Windows partition of a raw disk read-write, but every write
 * lands in an in-memory overlay of 4 KiB blocks and the raw file is never
 * written.  After the child's own changes (a new file, a changed file, a
 * registry write) the overlay holds exactly the blocks that differ, which
 * become the child's extents.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/volume.h>

#include "datasets/imgwrite/imgwrite.h"
#include "mkfleet.h"

#define COW_BLK 4096u
#define COW_MAX_BLOCKS (1u << 18) /* 1 GiB of changes at most */

struct cow {
	int fd;		      /* the raw disk, opened read-only */
	uint64_t start, size; /* the partition in it */
	s64 pos;
	/* open addressing: block number + 1 (0 = empty) -> 4 KiB */
	uint64_t *key;
	uint8_t **blk;
	size_t cap, nr;
};

static size_t slot(const struct cow *c, uint64_t b)
{
	size_t i = (size_t)((b * 0x9E3779B97F4A7C15ull) >> 20) & (c->cap - 1);

	while (c->key[i] && c->key[i] != b + 1)
		i = (i + 1) & (c->cap - 1);
	return i;
}

static int grow(struct cow *c)
{
	struct cow n = *c;
	size_t i;

	n.cap = c->cap ? c->cap * 2 : 1024;
	n.key = calloc(n.cap, sizeof(*n.key));
	n.blk = calloc(n.cap, sizeof(*n.blk));
	if (!n.key || !n.blk) {
		free(n.key);
		free(n.blk);
		return -1;
	}
	for (i = 0; i < c->cap; i++)
		if (c->key[i]) {
			size_t j = slot(&n, c->key[i] - 1);

			n.key[j] = c->key[i];
			n.blk[j] = c->blk[i];
		}
	free(c->key);
	free(c->blk);
	c->key = n.key;
	c->blk = n.blk;
	c->cap = n.cap;
	return 0;
}

/* The block's bytes as the volume sees them now, into buf. */
static int get_block(struct cow *c, uint64_t b, uint8_t *buf)
{
	ssize_t r;

	if (c->cap) {
		size_t i = slot(c, b);

		if (c->key[i]) {
			memcpy(buf, c->blk[i], COW_BLK);
			return 0;
		}
	}
	r = pread(c->fd, buf, COW_BLK, (off_t)(c->start + b * COW_BLK));
	if (r < 0)
		return -1;
	memset(buf + r, 0, COW_BLK - (size_t)r);
	return 0;
}

static int put_block(struct cow *c, uint64_t b, const uint8_t *buf)
{
	size_t i;

	if ((c->nr + 1) * 2 > c->cap && grow(c))
		return -1;
	i = slot(c, b);
	if (!c->key[i]) {
		if (c->nr >= COW_MAX_BLOCKS) {
			errno = ENOSPC;
			return -1;
		}
		c->blk[i] = malloc(COW_BLK);
		if (!c->blk[i])
			return -1;
		c->key[i] = b + 1;
		c->nr++;
	}
	memcpy(c->blk[i], buf, COW_BLK);
	return 0;
}

static int cow_open(struct ntfs_device *dev, int flags)
{
	(void)flags;
	NDevSetOpen(dev);
	return 0;
}

static int cow_close(struct ntfs_device *dev)
{
	NDevClearOpen(dev);
	return 0;
}

static s64 cow_seek(struct ntfs_device *dev, s64 off, int whence)
{
	struct cow *c = dev->d_private;

	switch (whence) {
	case SEEK_SET: c->pos = off; break;
	case SEEK_CUR: c->pos += off; break;
	case SEEK_END: c->pos = (s64)c->size + off; break;
	default: errno = EINVAL; return -1;
	}
	return c->pos;
}

/*
 * One walk over the 4 KiB blocks of [off, off+count): a read copies out of
 * each block (rd), a write merges into it and stores it (wr).  Returns the
 * bytes moved, or -1 when nothing was.
 */
static s64 cow_io(struct cow *c, uint8_t *rd, const uint8_t *wr, s64 count, s64 off)
{
	uint8_t tmp[COW_BLK];
	s64 done = 0;

	while (done < count) {
		uint64_t p = (uint64_t)(off + done), b = p / COW_BLK;
		size_t in = (size_t)(p % COW_BLK);
		size_t n = COW_BLK - in;

		if ((s64)n > count - done)
			n = (size_t)(count - done);
		if (get_block(c, b, tmp))
			return done ? done : -1;
		if (rd) {
			memcpy(rd + done, tmp + in, n);
		} else {
			memcpy(tmp + in, wr + done, n);
			if (put_block(c, b, tmp))
				return done ? done : -1;
		}
		done += (s64)n;
	}
	return done;
}

static s64 cow_pread(struct ntfs_device *dev, void *buf, s64 count, s64 off)
{
	struct cow *c = dev->d_private;

	if (off < 0 || count < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)off >= c->size)
		return 0;
	if ((uint64_t)(off + count) > c->size)
		count = (s64)c->size - off;
	return cow_io(c, buf, NULL, count, off);
}

static s64 cow_pwrite(struct ntfs_device *dev, const void *buf, s64 count, s64 off)
{
	struct cow *c = dev->d_private;

	if (off < 0 || count < 0 || (uint64_t)(off + count) > c->size) {
		errno = EINVAL;
		return -1;
	}
	return cow_io(c, NULL, buf, count, off);
}

static s64 cow_read(struct ntfs_device *dev, void *buf, s64 count)
{
	struct cow *c = dev->d_private;
	s64 r = cow_pread(dev, buf, count, c->pos);

	if (r > 0)
		c->pos += r;
	return r;
}

static s64 cow_write(struct ntfs_device *dev, const void *buf, s64 count)
{
	struct cow *c = dev->d_private;
	s64 r = cow_pwrite(dev, buf, count, c->pos);

	if (r > 0)
		c->pos += r;
	return r;
}

static int cow_sync(struct ntfs_device *dev)
{
	(void)dev;
	return 0;
}

static int cow_stat(struct ntfs_device *dev, struct stat *st)
{
	struct cow *c = dev->d_private;

	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0644;
	st->st_size = (off_t)c->size;
	st->st_blksize = COW_BLK;
	return 0;
}

static int cow_ioctl(struct ntfs_device *dev, unsigned long req, void *arg)
{
	(void)dev, (void)req, (void)arg;
	errno = ENOTTY;
	return -1;
}

int cow_rw(struct cow *c, uint64_t off, void *buf, size_t len, bool write)
{
	if (off > c->size || len > c->size - off)
		return -1;
	return cow_io(c, write ? NULL : buf, write ? buf : NULL, (s64)len, (s64)off) == (s64)len ?
		       0 :
		       -1;
}

static struct ntfs_device_operations cow_ops = {
	.open = cow_open,
	.close = cow_close,
	.seek = cow_seek,
	.read = cow_read,
	.write = cow_write,
	.pread = cow_pread,
	.pwrite = cow_pwrite,
	.sync = cow_sync,
	.stat = cow_stat,
	.ioctl = cow_ioctl,
};

struct cow *cow_new(const char *raw, uint64_t start, uint64_t size)
{
	struct cow *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = open(raw, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		free(c);
		return NULL;
	}
	c->start = start;
	c->size = size;
	return c;
}

struct vol *cow_mount(struct cow *c)
{
	struct ntfs_device *dev = ntfs_device_alloc("mkfleet-cow", 0, &cow_ops, c);
	ntfs_volume *nv;

	if (!dev)
		return NULL;
	nv = ntfs_device_mount(dev, NTFS_MNT_NONE);
	if (!nv) {
		fprintf(stderr, "mkfleet: copy-on-write mount: %s\n", strerror(errno));
		ntfs_device_free(dev);
		return NULL;
	}
	return vol_wrap(nv);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The blocks that differ from the raw file, sorted, as disk extents (one
 * per block, data owned by the cow); *nr gets the count.  Blocks written
 * back with their old bytes are left out.
 */
int cow_extents(struct cow *c, struct bsw_imgw_extent **out, size_t *nr)
{
	uint64_t *keys = malloc((c->nr + 1) * sizeof(*keys));
	struct bsw_imgw_extent *e = calloc(c->nr + 1, sizeof(*e));
	uint8_t old[COW_BLK];
	size_t i, k = 0, n = 0;

	if (!keys || !e) {
		free(keys);
		free(e);
		return -1;
	}
	for (i = 0; i < c->cap; i++)
		if (c->key[i])
			keys[k++] = c->key[i] - 1;
	qsort(keys, k, sizeof(*keys), cmp_u64);
	for (i = 0; i < k; i++) {
		size_t s = slot(c, keys[i]);
		ssize_t r = pread(c->fd, old, COW_BLK, (off_t)(c->start + keys[i] * COW_BLK));

		if (r < 0)
			r = 0;
		memset(old + r, 0, COW_BLK - (size_t)r);
		if (!memcmp(old, c->blk[s], COW_BLK))
			continue;
		e[n].voff = c->start + keys[i] * COW_BLK;
		e[n].len = COW_BLK;
		e[n].data = c->blk[s];
		n++;
	}
	free(keys);
	*out = e;
	*nr = n;
	return 0;
}

void cow_free(struct cow *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->cap; i++)
		free(c->blk[i]);
	free(c->key);
	free(c->blk);
	close(c->fd);
	free(c);
}
