/*
 * The virtual disk: an image and its chain of parents, opened read-only.
 *
 * Each layer's container format maps virtual ranges to extents of its own
 * file; this file resolves "ask the parent" down the chain and turns the
 * resulting file extents into one batch of io_uring reads.  Every byte of
 * an image, headers included, is read through the thread's ring.
 */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/common/bytes.h"
#include "formats/cont/cont.h"
#include "formats/part/part.h"
#include "scanner/disk.h"
#include "scanner/share.h"
#include "scanner/disk_extents.h"
#include "scanner/ring.h"

#define DEFAULT_MAX_CHAIN 64
#define MAP_BATCH 256 /* extents per read batch */

/*
 * Read-ahead.  A read of at least RA_MIN_READ bytes that starts where the
 * previous read ended is a sequential stream (the $MFT in chunks, a large
 * file streamed, bench_read); the disk then keeps a window of up to
 * RA_SLOTS * RA_SLOT bytes after it in flight, so that the device works
 * while the caller parses.  Each slot is a page-aligned buffer with a ring
 * of its own (bsw_ring_start / bsw_ring_finish); the window starts at twice
 * the read and doubles on every read served from it.  A read served from a
 * slot is copied out of it; only the bytes delivered count in bytes_read,
 * so bytes read ahead past the end of a stream are read but not counted.
 * A slot whose read failed or came back short is dropped and the range is
 * read again on the plain path, which reports the error: read-ahead never
 * reports anything itself.  Small and random reads never start it.
 */
#define RA_SLOTS 2
#define RA_SLOT (8u << 20)
#define RA_MIN_READ (256u << 10)
#define RA_EXT 64 /* extents per slot; a more fragmented range is cut short */

struct ra_slot {
	struct bsw_ring *ring;
	uint8_t *buf;
	uint64_t off, len; /* the virtual range it holds */
	bool valid;	   /* holds [off, off+len), or will once finished */
	bool busy;	   /* reads in flight */
	unsigned nx, ns;
	struct bsw_dext ext[RA_EXT];
	struct bsw_rseg seg[RA_EXT];
};

static void ra_free(struct bsw_disk *d);

struct bsw_disk;

struct fsrc {
	struct bsw_disk *d;
	int fd;
	unsigned idx;	   /* layer index (the one it will have) */
	const char *path;  /* the layer's path (heap, stable) */
	uint64_t size;	   /* file size at open */
	struct fsrc *next; /* extent files: bsw_disk.xfiles */
};

struct layer {
	char *path;
	int fd, dfd;
	const struct bsw_cont_ops *ops;
	void *h;
	struct bsw_cont_info ci;
	struct bsw_layer_info li;
	struct fsrc fctx;
	struct bsw_src src;
	char *found_by, *locator;
	struct bsw_disk_xt *xt; /* a VMDK descriptor's extent files (disk_extents.c) */
	int64_t mtime_ns;	/* with dev, ino, size and the container id: its share token */
	bool blockdev;		/* content may change under the same identity: never shared */
	uint64_t tok;		/* bsw_share_layer(), set on first use */
	bool marked;		/* bsw_share_set_parent() done */
};

struct bsw_disk {
	struct layer *L;
	unsigned nr, cap;
	struct bsw_part_table pt;
	struct bsw_src vsrc;
	uint64_t bytes, max_bytes;
	bool direct;
	struct bsw_disk_ioerr ioe; /* the first I/O error (sticky) */
	/* every extent file of the open layers (VMDK descriptors): an I/O
	   error names that file and judges a short read by its size */
	struct fsrc *xfiles;
	uint64_t mem_cap;   /* bsw_disk_opts.mem_cap, for the container opens */
	struct ra_slot *ra; /* RA_SLOTS slots, allocated when a stream starts */
	uint64_t ra_next;   /* where the last read ended */
	uint64_t ra_win;    /* bytes kept ahead of a stream (0: no stream) */
	bool ra_off;	    /* read-ahead unavailable (no io_uring, no memory) */
};

static const struct bsw_cont_ops *const formats[] = {
	&bsw_vhdx_ops, &bsw_vhd_ops, &bsw_qcow2_ops,
	&bsw_vmdk_ops, &bsw_raw_ops, /* raw last: always matches */
};

/*
 * Record the disk's first I/O error (later ones add nothing: the first is
 * where the bytes stopped being trustworthy).  Returns err.
 */
static int io_fail(struct bsw_disk *d, unsigned layer, const char *path, uint64_t foff,
		   uint64_t voff, uint64_t fsize, int err, bool short_read)
{
	struct bsw_disk_ioerr *e = &d->ioe;

	if (e->err)
		return err;
	e->err = err ? err : -EIO;
	e->short_read = short_read;
	e->layer = layer;
	snprintf(e->path, sizeof(e->path), "%s", path ? path : "?");
	e->file_off = foff;
	e->disk_off = voff;
	e->file_size = fsize;
	e->tick = bsw_fx_tick();
	return err;
}

/*
 * A read of [off, off+len) failed with *err.  Find the first 4 KiB piece of
 * it that fails on its own (a drive fails a whole multi-sector request for
 * one bad sector, FUSE and device-mapper fail a whole request), so that
 * the finding names the bad bytes, not the start of a 1 MiB read.  At most
 * LOCATE_MAX pieces are tried; if none fails (a transient error), the
 * start is returned.  *err gets the piece's errno.
 */
#define LOCATE_PIECE 4096u
#define LOCATE_MAX 512u

static uint64_t locate_fault(int fd, uint64_t off, uint64_t len, int *err)
{
	struct bsw_ring *r = bsw_ring_thread();
	uint8_t *b;
	uint64_t p = off, end = off + len;

	if (!r || *err == -ENOMEM || !(b = bsw_alloc_aligned(LOCATE_PIECE)))
		return off;
	for (unsigned i = 0; p < end && i < LOCATE_MAX; i++) {
		uint64_t next = (p / LOCATE_PIECE + 1) * LOCATE_PIECE;
		size_t n = (size_t)(BSW_MIN(next, end) - p);
		int64_t got = bsw_ring_pread(r, fd, b, n, p);

		if (got < 0) {
			*err = (int)got;
			free(b);
			return p;
		}
		if ((uint64_t)got < n)
			break; /* end of file: not this piece's fault */
		p += n;
	}
	free(b);
	return off;
}

/*
 * A layer's own file as a bsw_src: what the container formats read their
 * headers and tables through while the chain is opened.  Short only past
 * the file's size at open; a file that ends earlier than that (it shrank
 * since) is an I/O error, like EIO.
 */
/* Bytes read by every disk of the process, for the sweep's progress line. */
static _Atomic uint64_t bytes_total;

uint64_t bsw_disk_bytes_total(void)
{
	return atomic_load_explicit(&bytes_total, memory_order_relaxed);
}

static int64_t file_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct fsrc *f = ctx;
	struct bsw_ring *r = bsw_ring_thread();
	struct bsw_rseg s = { .fd = f->fd, .dfd = -1, .off = off, .len = len, .buf = buf };
	uint64_t want;

	if (!r)
		return io_fail(f->d, f->idx, f->path, off, BSW_DISK_NO_OFF, f->size, -ENOMEM,
			       false);
	if (f->d->max_bytes && f->d->bytes + len > f->d->max_bytes)
		return -EFBIG;
	bsw_ring_readv(r, &s, 1);
	if (s.res < 0) {
		int err = (int)s.res;
		uint64_t at = off + s.done;

		if (!f->d->ioe.err) /* only the first one is named */
			at = locate_fault(f->fd, at, len - s.done, &err);

		return io_fail(f->d, f->idx, f->path, at, BSW_DISK_NO_OFF, f->size, err, false);
	}
	f->d->bytes += (uint64_t)s.res;
	atomic_fetch_add_explicit(&bytes_total, (uint64_t)s.res, memory_order_relaxed);
	want = off >= f->size ? 0 : BSW_MIN((uint64_t)len, f->size - off);
	if ((uint64_t)s.res < want)
		return io_fail(f->d, f->idx, f->path, off + (uint64_t)s.res, BSW_DISK_NO_OFF,
			       f->size, -EIO, true);
	return s.res;
}

/*
 * Open one more file of the layer being opened (an extent file named by a
 * VMDK descriptor): read-only, and read through the ring like the layer's
 * own file.  For bsw_disk_xt_open().
 */
static int open_xfile(void *ctx, const char *path, struct bsw_xfile *f, char *err, size_t errlen)
{
	struct bsw_disk *d = ctx;
	struct fsrc *fs;
	struct stat st;

	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return bsw_cont_err(err, errlen, -errno, "cannot open VMDK extent %s: %s", path,
				    strerror(errno));
	if (fstat(f->fd, &st) || !S_ISREG(st.st_mode)) {
		close(f->fd);
		return bsw_cont_err(err, errlen, -EINVAL, "VMDK extent %s is not a regular file",
				    path);
	}
	f->dfd = d->direct ? open(path, O_RDONLY | O_DIRECT | O_CLOEXEC) : -1;
	f->path = strdup(path);
	fs = calloc(1, sizeof(*fs));
	if (!f->path || !fs) {
		free(fs);
		free(f->path);
		f->path = NULL;
		if (f->dfd >= 0)
			close(f->dfd);
		close(f->fd);
		return -ENOMEM;
	}
	*fs = (struct fsrc){
		.d = d, .fd = f->fd, .idx = d->nr, .path = f->path, .size = (uint64_t)st.st_size
	};
	f->priv = fs;
	fs->next = d->xfiles;
	d->xfiles = fs;
	f->size = (uint64_t)st.st_size;
	f->src = (struct bsw_src){
		.pread = file_pread, .ctx = fs, .size = (uint64_t)st.st_size, .name = f->path
	};
	return 0;
}

static int open_layer(struct bsw_disk *d, const char *path, struct bsw_fx *fx, char *err,
		      size_t errlen)
{
	struct fsrc *xsave;
	char who[4096];
	struct layer *l;
	struct stat st;
	int rc;

	/*
	 * d->L is allocated once for the deepest chain allowed and never
	 * moves: a container handle keeps &l->src (read lazily in map, a VHD
	 * sector bitmap) and l->src.ctx points at l->fctx, so growing the
	 * array would leave the lower layers' handles pointing at freed memory.
	 */
	if (d->nr == d->cap)
		return bsw_cont_err(err, errlen, -ELOOP, "parent chain deeper than %u layers",
				    d->cap ? d->cap - 1 : 0);
	l = &d->L[d->nr];
	xsave = d->xfiles;
	memset(l, 0, sizeof(*l));
	l->fd = l->dfd = -1;
	/* messages name the layer; the image itself is named by the caller */
	if (d->nr)
		snprintf(who, sizeof(who), "parent layer %u (%.3900s): ", d->nr, path);
	else
		who[0] = 0;
	l->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (l->fd < 0)
		return bsw_cont_err(err, errlen, -errno, "%scannot open: %s", who, strerror(errno));
	if (fstat(l->fd, &st) || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		close(l->fd);
		return bsw_cont_err(err, errlen, -EINVAL, "%snot a regular file or block device",
				    who);
	}
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(l->fd, 0, SEEK_END);

		st.st_size = end < 0 ? 0 : end;
	}
	if (st.st_size == 0) {
		close(l->fd);
		return bsw_cont_err(err, errlen, -EINVAL, "%san empty file", who);
	}
	for (unsigned i = 0; i < d->nr; i++)
		if (d->L[i].li.dev == (uint64_t)st.st_dev &&
		    d->L[i].li.ino == (uint64_t)st.st_ino) {
			close(l->fd);
			return bsw_cont_err(err, errlen, -ELOOP,
					    "%sparent chain loops: it is already layer %u", who, i);
		}
	if (d->direct)
		l->dfd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	l->path = strdup(path);
	if (!l->path) {
		rc = -ENOMEM;
		goto fail;
	}
	l->fctx = (struct fsrc){
		.d = d, .fd = l->fd, .idx = d->nr, .path = l->path, .size = (uint64_t)st.st_size
	};
	l->src = (struct bsw_src){
		.pread = file_pread, .ctx = &l->fctx, .size = st.st_size, .name = l->path
	};
	l->li.dev = st.st_dev;
	l->li.ino = st.st_ino;
	l->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	l->blockdev = S_ISBLK(st.st_mode);
	l->li.file_size = st.st_size;
	/* a VMDK descriptor: a layer of several files (disk_extents.c) */
	rc = bsw_disk_xt_open(&l->xt, &l->src, l->path, open_xfile, d, d->mem_cap, fx, &l->ci, err,
			      errlen);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; !l->xt && i < BSW_ARRAY_SIZE(formats); i++) {
		if (formats[i]->probe(&l->src) <= 0)
			continue;
		err[0] = 0;
		rc = formats[i]->open(&l->h, &l->src,
				      &(const struct bsw_cont_opts){ .mem_cap = d->mem_cap }, fx,
				      &l->ci, err, errlen);
		if (rc) {
			if (!err[0])
				bsw_cont_err(err, errlen, rc, "%s: %s", formats[i]->name,
					     strerror(-rc));
			goto fail;
		}
		l->ops = formats[i];
		break;
	}
	l->li.path = l->path;
	l->li.format = l->ci.format;
	l->li.subformat = l->ci.subformat;
	l->li.virtual_size = l->ci.virtual_size;
	l->li.block_size = l->ci.block_size;
	l->li.logical_sector = l->ci.logical_sector;
	l->li.physical_sector = l->ci.physical_sector;
	l->li.log_replayed = l->ci.log_replayed;
	memcpy(l->li.id, l->ci.id, 16);
	l->li.identity_ok = -1;
	d->nr++;
	return 0;
fail:
	/* the failed layer's extent files are closed and freed */
	d->xfiles = xsave;
	if (l->dfd >= 0)
		close(l->dfd);
	close(l->fd);
	free(l->path);
	return rc;
}

/* Windows path as recorded -> a path to try here, or NULL. */
static char *locator_path(const char *child, const char *loc, const char *kind, bool basename_only)
{
	char *c = strdup(child), *dir, *s, *out = NULL;
	const char *p = loc;
	size_t n;

	if (!c)
		return NULL;
	dir = dirname(c);
	if (basename_only) {
		const char *b = loc;

		for (const char *q = loc; *q; q++)
			if (*q == '\\' || *q == '/' || *q == ':')
				b = q + 1;
		if (!*b)
			goto out;
		n = strlen(dir) + strlen(b) + 2;
		out = malloc(n);
		if (out)
			snprintf(out, n, "%s/%s", dir, b);
		goto out;
	}
	if (!strcmp(kind, "relative")) {
		while (p[0] == '.' && (p[1] == '\\' || p[1] == '/'))
			p += 2;
		n = strlen(dir) + strlen(p) + 2;
		out = malloc(n);
		if (out)
			snprintf(out, n, "%s/%s", dir, p);
	} else if (!strcmp(kind, "absolute")) {
		if (p[0] && p[1] == ':')
			p += 2;
		out = strdup(p);
	}
	if (out)
		for (s = out; *s; s++)
			if (*s == '\\')
				*s = '/';
out:
	free(c);
	return out;
}

static int open_parent(struct bsw_disk *d, struct bsw_fx *fx, char *err, size_t errlen)
{
	const unsigned cidx = d->nr - 1;
	struct layer *child = &d->L[cidx];
	const struct bsw_cont_info *ci = &child->ci;
	char tried[512] = "", first_err[512] = "";
	size_t tl = 0;
	int rc, first_rc = 0;

	/* relative locators, then absolute ones, then basenames beside the child */
	for (int pass = 0; pass < 3; pass++) {
		for (unsigned i = 0; i < ci->nr_locators; i++) {
			const char *kind;
			char *cand;
			struct stat st;

			kind = ci->locator_kind[i];

			if ((pass == 0 && strcmp(kind, "relative")) ||
			    (pass == 1 && strcmp(kind, "absolute")))
				continue;
			cand = locator_path(child->path, ci->locator[i], kind, pass == 2);
			if (!cand)
				continue;
			if (stat(cand, &st)) {
				/* name each candidate once in the message */
				if (tl < sizeof(tried) - 1 && !strstr(tried, cand))
					tl += snprintf(tried + tl, sizeof(tried) - tl, "%s%s",
						       tl ? ", " : "", cand);
				free(cand);
				continue;
			}
			rc = open_layer(d, cand, fx, err, errlen);
			free(cand);
			/* open_layer may have moved d->L */
			child = &d->L[cidx];
			ci = &child->ci;
			if (rc == -ELOOP || rc == -ENOMEM)
				return rc;
			if (rc) {
				/* keep the first failure; a later locator may still work */
				if (!first_rc) {
					first_rc = rc;
					snprintf(first_err, sizeof(first_err), "%s", err);
				}
				continue;
			}
			{
				struct layer *par = &d->L[d->nr - 1];

				par->found_by = strdup(pass == 0 ? "relative locator" :
						       pass == 1 ? "absolute locator" :
						       !strcmp(kind, "name") ?
								   "parent name in child's folder" :
								   "basename in child's folder");
				par->locator = strdup(ci->locator[i]);
				par->li.found_by = par->found_by;
				par->li.locator = par->locator;
				if (ci->parent_id_valid) {
					par->li.identity_ok =
						!memcmp(ci->parent_id, par->ci.id, 16);
					if (!par->li.identity_ok)
						BSW_REPORT(fx, PR_6_CHAIN_IDENTITY,
							   .str = par->path, .n = d->nr - 1);
				}
				if (par->ci.virtual_size < child->ci.virtual_size)
					BSW_REPORT(fx, PR_6_CHAIN_SIZE, .str = par->path,
						   .n = par->ci.virtual_size,
						   .n2 = child->ci.virtual_size);
			}
			return 0;
		}
	}
	if (first_rc) {
		snprintf(err, errlen, "%s", first_err);
		return first_rc;
	}
	return bsw_cont_err(err, errlen, -ENOENT, "parent of %s not found (locators tried: %s)",
			    child->path, tl ? tried : "none recorded");
}

/*
 * The open failed: if a read failed first, that I/O error is the reason
 * (whatever the format made of the missing bytes), named in err and
 * returned; it also goes to o->ioerr.
 */
static int open_failed(struct bsw_disk *d, const struct bsw_disk_opts *o, int rc, char *err,
		       size_t errlen)
{
	if (!d->ioe.err)
		return rc;
	if (o && o->ioerr)
		*o->ioerr = d->ioe;
	bsw_disk_ioerr_str(&d->ioe, err, errlen);
	return d->ioe.err;
}

static int64_t disk_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct bsw_disk *d = ctx;
	uint64_t size = bsw_disk_size(d);
	int rc;

	if (off >= size)
		return 0;
	len = BSW_MIN(len, size - off);
	rc = bsw_disk_read(d, buf, len, off);
	return rc ? rc : (int64_t)len;
}

uint64_t bsw_disk_layer_token(struct bsw_disk *d, unsigned i)
{
	struct layer *l;

	if (i >= d->nr)
		return 0;
	l = &d->L[i];
	if (l->xt || l->blockdev)
		return 0;
	if (!l->tok)
		l->tok = bsw_share_layer(l->li.dev, l->li.ino, l->li.file_size, l->mtime_ns,
					 l->li.id);
	return l->tok;
}

/*
 * Which layer file serves the byte at off (bsw_src.origin): only plain
 * file extents of a one-file layer are shareable; zeros, memory (a
 * replayed VHDX log, a decompressed cluster) and multi-file VMDK layers
 * are not.
 */
static int64_t disk_origin(void *ctx, uint64_t off, uint64_t len, uint64_t *tok, uint64_t *poff)
{
	struct bsw_disk *d = ctx;
	struct bsw_dext ext;
	unsigned nr = 0;
	int rc;

	*tok = 0;
	*poff = 0;
	if (!len || off >= bsw_disk_size(d))
		return 0;
	rc = bsw_disk_map(d, off, len, &ext, 1, &nr);
	if (rc)
		return rc;
	if (!nr)
		return 0;
	if (ext.kind != BSW_EXT_FILE || ext.layer >= d->nr)
		return (int64_t)ext.len;
	*tok = bsw_disk_layer_token(d, ext.layer);
	if (ext.layer && *tok && !d->L[ext.layer].marked) {
		bsw_share_set_parent(*tok);
		d->L[ext.layer].marked = true;
	}
	*poff = ext.poff;
	return (int64_t)ext.len;
}

int bsw_disk_open(struct bsw_disk **out, const char *path, const struct bsw_disk_opts *o,
		  struct bsw_fx *fx, char *err, size_t errlen)
{
	struct bsw_disk *d = calloc(1, sizeof(*d));
	unsigned max_chain = o && o->max_chain ? o->max_chain : DEFAULT_MAX_CHAIN;
	int rc;

	if (!d)
		return -ENOMEM;
	err[0] = 0;
	if (max_chain > 4096)
		max_chain = 4096;
	d->cap = max_chain + 1;
	d->L = calloc(d->cap, sizeof(*d->L));
	if (!d->L) {
		free(d);
		return -ENOMEM;
	}
	d->direct = o && o->direct;
	d->max_bytes = o ? o->max_bytes : 0;
	d->mem_cap = o ? o->mem_cap : 0;
	d->ra_off = o && o->no_readahead;
	d->ra_next = UINT64_MAX; /* no stream before the first read */
	rc = open_layer(d, path, fx, err, errlen);
	while (!rc && d->L[d->nr - 1].ci.has_parent) {
		if (d->nr > max_chain) {
			rc = bsw_cont_err(err, errlen, -ELOOP, "parent chain deeper than %u layers",
					  max_chain);
			break;
		}
		rc = open_parent(d, fx, err, errlen);
	}
	if (rc) {
		rc = open_failed(d, o, rc, err, errlen);
		bsw_disk_close(d);
		return rc;
	}
	d->vsrc = (struct bsw_src){ .pread = disk_pread,
				    .origin = disk_origin,
				    .ctx = d,
				    .size = bsw_disk_size(d),
				    .name = d->L[0].path };
	rc = bsw_part_parse(&d->vsrc, d->L[0].ci.logical_sector, &d->pt, fx);
	if (rc) {
		bsw_cont_err(err, errlen, rc, "cannot read the partition table: %s", strerror(-rc));
		rc = open_failed(d, o, rc, err, errlen);
		bsw_disk_close(d);
		return rc;
	}
	if (o && o->ioerr)
		*o->ioerr = d->ioe;
	*out = d;
	return 0;
}

void bsw_disk_close(struct bsw_disk *d)
{
	if (!d)
		return;
	ra_free(d); /* before the files its reads are on */
	for (unsigned i = 0; i < d->nr; i++) {
		struct layer *l = &d->L[i];

		if (l->ops)
			l->ops->close(l->h);
		bsw_disk_xt_close(l->xt);
		bsw_cont_info_free(&l->ci);
		if (l->dfd >= 0)
			close(l->dfd);
		close(l->fd);
		free(l->path);
		free(l->found_by);
		free(l->locator);
	}
	free(d->L);
	free(d);
}

uint64_t bsw_disk_size(const struct bsw_disk *d)
{
	return d->L[0].ci.virtual_size;
}

const char *bsw_disk_path(const struct bsw_disk *d)
{
	return d->L[0].path;
}

/* The extent at off (len > 0), resolved through the chain. */
static int map_one(struct bsw_disk *d, uint64_t off, uint64_t len, struct bsw_dext *e)
{
	unsigned li = 0;

	e->voff = off;
	for (;;) {
		struct layer *l;
		struct bsw_cext ce = { 0 };
		int xfd = -1, xdfd = -1; /* xt layers: the extent's file */
		int rc;

		if (li >= d->nr) {
			e->kind = BSW_EXT_ZERO;
			e->len = len;
			return 0;
		}
		l = &d->L[li];
		if (off >= l->ci.virtual_size) { /* a smaller parent */
			e->kind = BSW_EXT_ZERO;
			e->len = len;
			return 0;
		}
		rc = l->xt ? bsw_disk_xt_map(l->xt, off, len, &ce, &xfd, &xdfd) :
			     l->ops->map(l->h, off, len, &ce);
		if (rc)
			return rc;
		if (ce.len == 0 || ce.len > len)
			return -EIO; /* a format bug; never loop */
		len = ce.len;
		switch (ce.kind) {
		case BSW_CEXT_PARENT: li++; continue;
		case BSW_CEXT_ZERO: e->kind = BSW_EXT_ZERO; break;
		case BSW_CEXT_MEM:
			e->kind = BSW_EXT_MEM;
			e->mem = ce.mem;
			break;
		case BSW_CEXT_DATA:
			e->kind = BSW_EXT_FILE;
			e->fd = l->xt ? xfd : l->fd;
			e->dfd = l->xt ? xdfd : l->dfd;
			e->poff = ce.poff;
			break;
		}
		e->layer = li;
		e->len = len;
		return 0;
	}
}

int bsw_disk_map(struct bsw_disk *d, uint64_t off, uint64_t len, struct bsw_dext *ext, unsigned max,
		 unsigned *nr)
{
	uint64_t size = bsw_disk_size(d);
	unsigned n = 0;

	*nr = 0;
	if (off > size || len > size - off)
		return -EIO;
	while (len && n < max) {
		struct bsw_dext e = { 0 };
		int rc = map_one(d, off, len, &e);

		if (rc)
			return rc;
		if (n) {
			struct bsw_dext *p = &ext[n - 1];

			if (p->kind == e.kind && p->layer == e.layer &&
			    ((e.kind == BSW_EXT_FILE && p->fd == e.fd &&
			      p->poff + p->len == e.poff) ||
			     e.kind == BSW_EXT_ZERO ||
			     (e.kind == BSW_EXT_MEM && p->mem + p->len == e.mem))) {
				p->len += e.len;
				goto next;
			}
		}
		ext[n++] = e;
next:
		off += e.len;
		len -= e.len;
	}
	*nr = n;
	return 0;
}

/* Read [off, off+len) now, through the thread's ring (the plain path). */
static int read_now(struct bsw_disk *d, void *buf, size_t len, uint64_t off)
{
	struct bsw_dext ext[MAP_BATCH];
	struct bsw_rseg seg[MAP_BATCH];
	unsigned sx[MAP_BATCH]; /* seg[k] reads ext[sx[k]] */
	struct bsw_ring *r = bsw_ring_thread();
	uint8_t *b = buf;

	if (!r)
		return io_fail(d, 0, d->L[0].path, 0, off, d->L[0].li.file_size, -ENOMEM, false);
	while (len) {
		unsigned n, ns = 0;
		uint64_t done = 0;
		int rc = bsw_disk_map(d, off, len, ext, MAP_BATCH, &n);

		if (rc)
			return rc;
		for (unsigned i = 0; i < n; i++) {
			uint8_t *p = b + (ext[i].voff - off);

			switch (ext[i].kind) {
			case BSW_EXT_ZERO: memset(p, 0, ext[i].len); break;
			case BSW_EXT_MEM: memcpy(p, ext[i].mem, ext[i].len); break;
			case BSW_EXT_FILE:
				sx[ns] = i;
				seg[ns++] = (struct bsw_rseg){ .fd = ext[i].fd,
							       .dfd = ext[i].dfd,
							       .off = ext[i].poff,
							       .len = ext[i].len,
							       .buf = p };
				break;
			}
			done += ext[i].len;
		}
		if (ns) {
			uint64_t want = 0;

			for (unsigned i = 0; i < ns; i++)
				want += seg[i].len;
			if (d->max_bytes && d->bytes + want > d->max_bytes)
				return -EFBIG;
			rc = bsw_ring_readv(r, seg, ns);
			for (unsigned i = 0; i < ns; i++) {
				const struct bsw_dext *e = &ext[sx[i]];
				const struct layer *l = &d->L[e->layer];
				const char *fpath = l->path;
				uint64_t fsize = l->li.file_size;

				/* an extent file of a descriptor layer */
				for (const struct fsrc *x = d->xfiles; seg[i].fd != l->fd && x;
				     x = x->next)
					if (x->fd == seg[i].fd) {
						fpath = x->path;
						fsize = x->size;
						break;
					}

				if (seg[i].res < 0) {
					int err = (int)seg[i].res;
					uint64_t at = seg[i].off + seg[i].done;

					if (!d->ioe.err)
						at = locate_fault(seg[i].fd, at,
								  seg[i].len - seg[i].done, &err);

					return io_fail(d, e->layer, fpath, at,
						       e->voff + (at - seg[i].off), fsize, err,
						       false);
				}
				if ((uint64_t)seg[i].res == seg[i].len)
					continue;
				/*
				 * Short: an extent inside the file's size at
				 * open means the file shrank under us (an I/O
				 * error); one the container maps past the end
				 * of its file is a corrupt container.
				 */
				if (seg[i].off + (uint64_t)seg[i].res < fsize)
					return io_fail(d, e->layer, fpath,
						       seg[i].off + (uint64_t)seg[i].res,
						       e->voff + (uint64_t)seg[i].res, fsize, -EIO,
						       true);
				return -EIO;
			}
			if (rc) /* never without a failed segment; be safe */
				return io_fail(d, ext[sx[0]].layer, d->L[ext[sx[0]].layer].path,
					       seg[0].off, ext[sx[0]].voff,
					       d->L[ext[sx[0]].layer].li.file_size, rc, false);
			d->bytes += want;
			atomic_fetch_add_explicit(&bytes_total, want, memory_order_relaxed);
		}
		b += done;
		off += done;
		len -= done;
	}
	return 0;
}

/* Wait for s's reads; a slot with any segment failed or short is dropped. */
static void ra_wait(struct ra_slot *s)
{
	if (!s->busy)
		return;
	s->busy = false;
	if (bsw_ring_finish(s->ring))
		s->valid = false;
	for (unsigned i = 0; s->valid && i < s->ns; i++)
		if (s->seg[i].res != (int64_t)s->seg[i].len)
			s->valid = false;
}

static void ra_drop(struct ra_slot *s)
{
	ra_wait(s);
	s->valid = false;
}

/*
 * Start reading [off, off+len) into s.  The range is cut at RA_EXT
 * extents; zeros and memory extents are filled at once.  False if nothing
 * was started (the slot stays free).
 */
static bool ra_start(struct bsw_disk *d, struct ra_slot *s, uint64_t off, uint64_t len)
{
	uint64_t got = 0;

	if (bsw_ring_retired(s->ring)) {
		/* the kernel may still write into s->buf: never again */
		d->ra_off = true;
		return false;
	}
	if (!s->buf && !(s->buf = bsw_alloc_aligned(RA_SLOT)))
		return false;
	if (!s->ring) {
		if (bsw_ring_create(&s->ring, NULL))
			return false;
		if (!bsw_ring_is_uring(s->ring)) {
			/* without io_uring a read-ahead would only read twice */
			d->ra_off = true;
			return false;
		}
	}
	if (bsw_disk_map(d, off, len, s->ext, RA_EXT, &s->nx) || !s->nx)
		return false;
	/*
	 * Buffered, and the range's last byte already cached (a warm run,
	 * or the kernel's own read-ahead got there): the plain read is a
	 * copy from the page cache, and a slot would only copy twice.
	 */
	for (unsigned i = s->nx; !d->direct && i-- > 0;)
		if (s->ext[i].kind == BSW_EXT_FILE) {
			if (bsw_ring_cached(s->ext[i].fd, s->ext[i].poff + s->ext[i].len - 1))
				return false;
			break;
		}
	s->ns = 0;
	for (unsigned i = 0; i < s->nx; i++) {
		const struct bsw_dext *e = &s->ext[i];
		uint8_t *p = s->buf + (e->voff - off);

		switch (e->kind) {
		case BSW_EXT_ZERO: memset(p, 0, e->len); break;
		case BSW_EXT_MEM: memcpy(p, e->mem, e->len); break;
		case BSW_EXT_FILE:
			s->seg[s->ns++] = (struct bsw_rseg){
				.fd = e->fd, .dfd = e->dfd, .off = e->poff, .len = e->len, .buf = p
			};
			break;
		}
		got += e->len;
	}
	s->off = off;
	s->len = got;
	s->valid = true;
	s->busy = s->ns && !bsw_ring_start(s->ring, s->seg, s->ns);
	if (s->ns && !s->busy)
		s->valid = false;
	return s->valid;
}

/* The slot holding the byte at off, or NULL. */
static struct ra_slot *ra_find(struct bsw_disk *d, uint64_t off)
{
	for (unsigned i = 0; d->ra && i < RA_SLOTS; i++) {
		struct ra_slot *s = &d->ra[i];

		if (s->valid && off >= s->off && off - s->off < s->len)
			return s;
	}
	return NULL;
}

/*
 * Serve the front of [off, off+len) from a slot: the bytes copied, 0 if no
 * slot holds off, or -EFBIG over the disk's read budget.  Only the file
 * bytes delivered are counted.
 */
static int64_t ra_take(struct bsw_disk *d, uint8_t *buf, size_t len, uint64_t off)
{
	struct ra_slot *s = ra_find(d, off);
	uint64_t n, fb = 0;

	if (!s)
		return 0;
	ra_wait(s);
	if (!s->valid)
		return 0;
	n = BSW_MIN((uint64_t)len, s->off + s->len - off);
	for (unsigned i = 0; i < s->nx; i++) {
		const struct bsw_dext *e = &s->ext[i];
		uint64_t a = BSW_MAX(e->voff, off), z = BSW_MIN(e->voff + e->len, off + n);

		if (e->kind == BSW_EXT_FILE && a < z)
			fb += z - a;
	}
	if (d->max_bytes && d->bytes + fb > d->max_bytes)
		return -EFBIG;
	memcpy(buf, s->buf + (off - s->off), n);
	d->bytes += fb;
	atomic_fetch_add_explicit(&bytes_total, fb, memory_order_relaxed);
	if (off + n == s->off + s->len)
		s->valid = false; /* used up: free for the next range */
	return (int64_t)n;
}

/*
 * After a read of [off, off+len): follow the stream.  Slots outside the
 * window after it are dropped; free slots are started on what follows the
 * window's last slot.
 */
static void ra_feed(struct bsw_disk *d, uint64_t off, uint64_t len, bool hit)
{
	uint64_t end = off + len, size = bsw_disk_size(d), ahead = end;
	bool seq = off == d->ra_next && (len >= RA_MIN_READ || (hit && d->ra_win));

	d->ra_next = end;
	if (!seq)
		d->ra_win = 0;
	else if (!d->ra_win)
		d->ra_win = BSW_MIN(2 * len, (uint64_t)RA_SLOTS * RA_SLOT);
	else if (hit)
		d->ra_win = BSW_MIN(2 * d->ra_win, (uint64_t)RA_SLOTS * RA_SLOT);
	if (d->ra_win && !d->ra && !d->ra_off && !(d->ra = calloc(RA_SLOTS, sizeof(*d->ra))))
		d->ra_off = true;
	if (!d->ra)
		return;
	for (unsigned i = 0; i < RA_SLOTS; i++) {
		struct ra_slot *s = &d->ra[i];

		/* keep what holds the stream's next bytes, or lies in its window */
		if (s->valid && (!d->ra_win || s->off + s->len <= end ||
				 (s->off > end && s->off - end >= d->ra_win)))
			ra_drop(s);
		/* no stream: give the memory back until the next one */
		if (!d->ra_win && s->buf && !bsw_ring_retired(s->ring)) {
			free(s->buf);
			s->buf = NULL;
		}
	}
	if (!d->ra_win || d->ra_off)
		return;
	/* the budget, if any, must cover the window too */
	if (d->max_bytes && d->bytes + d->ra_win > d->max_bytes)
		return;
	for (;;) {
		struct ra_slot *s = ra_find(d, ahead), *fr = NULL;
		uint64_t n;

		if (s) {
			ahead = s->off + s->len;
			continue;
		}
		if (ahead >= size || ahead - end >= d->ra_win)
			return;
		for (unsigned i = 0; i < RA_SLOTS && !fr; i++)
			if (!d->ra[i].valid)
				fr = &d->ra[i];
		if (!fr)
			return;
		n = BSW_MIN(BSW_MIN((uint64_t)RA_SLOT, d->ra_win - (ahead - end)), size - ahead);
		if (!ra_start(d, fr, ahead, n))
			return;
	}
}

static void ra_free(struct bsw_disk *d)
{
	for (unsigned i = 0; d->ra && i < RA_SLOTS; i++) {
		struct ra_slot *s = &d->ra[i];

		ra_drop(s);
		/* a ring that lost reads in flight keeps its buffer: leaked */
		if (!bsw_ring_retired(s->ring))
			free(s->buf);
		bsw_ring_destroy(s->ring);
	}
	free(d->ra);
	d->ra = NULL;
}

int bsw_disk_read(struct bsw_disk *d, void *buf, size_t len, uint64_t off)
{
	uint64_t size = bsw_disk_size(d), at = off, left = len;
	uint8_t *b = buf;
	bool hit = false;
	int rc;

	if (off > size || len > size - off)
		return -EIO;
	if (!len)
		return 0; /* and the stream goes on */
	while (left) {
		int64_t n = ra_take(d, b, left, at);
		uint64_t plain = left;

		if (n < 0)
			return (int)n;
		if (n) {
			hit = true;
		} else {
			/* up to the next slot that holds part of the range */
			for (unsigned i = 0; d->ra && i < RA_SLOTS; i++) {
				const struct ra_slot *s = &d->ra[i];

				if (s->valid && s->off > at && s->off - at < plain)
					plain = s->off - at;
			}
			rc = read_now(d, b, plain, at);
			if (rc)
				return rc;
			n = (int64_t)plain;
		}
		b += n;
		at += (uint64_t)n;
		left -= (uint64_t)n;
	}
	ra_feed(d, off, len, hit);
	return 0;
}

const struct bsw_src *bsw_disk_src(struct bsw_disk *d)
{
	return &d->vsrc;
}

unsigned bsw_disk_nr_layers(const struct bsw_disk *d)
{
	return d->nr;
}

const struct bsw_layer_info *bsw_disk_layer(const struct bsw_disk *d, unsigned i)
{
	return i < d->nr ? &d->L[i].li : NULL;
}

const char *bsw_disk_layer_file(const struct bsw_disk *d, unsigned li, unsigned i)
{
	return li < d->nr ? bsw_disk_xt_file(d->L[li].xt, i) : NULL;
}

unsigned bsw_disk_nr_parts(const struct bsw_disk *d)
{
	return d->pt.nr;
}

const struct bsw_part *bsw_disk_part(const struct bsw_disk *d, unsigned i)
{
	return i < d->pt.nr ? &d->pt.part[i] : NULL;
}

const char *bsw_disk_scheme(const struct bsw_disk *d)
{
	return d->pt.scheme;
}

const uint8_t *bsw_disk_gpt_guid(const struct bsw_disk *d)
{
	return strcmp(d->pt.scheme, "gpt") ? NULL : d->pt.disk_guid;
}

uint32_t bsw_disk_mbr_signature(const struct bsw_disk *d)
{
	return d->pt.mbr_signature;
}

bool bsw_disk_gpt_backup_used(const struct bsw_disk *d)
{
	return d->pt.gpt_backup_used;
}

void bsw_disk_part_src(struct bsw_disk *d, const struct bsw_part *p, struct bsw_src *src,
		       struct bsw_src_window *win)
{
	uint64_t size = bsw_disk_size(d);
	uint64_t start = BSW_MIN(p->start, size);

	bsw_src_window_init(src, win, &d->vsrc, start, BSW_MIN(p->size, size - start));
}

uint64_t bsw_disk_bytes_read(const struct bsw_disk *d)
{
	return d->bytes;
}

bool bsw_disk_io_error(const struct bsw_disk *d, struct bsw_disk_ioerr *e)
{
	if (!d || !d->ioe.err)
		return false;
	if (e)
		*e = d->ioe;
	return true;
}

char *bsw_disk_ioerr_str(const struct bsw_disk_ioerr *e, char *buf, size_t len)
{
	const char *name = strerrorname_np(-e->err);
	char disk[64] = "", num[24];

	if (!len)
		return buf;
	if (!name) {
		snprintf(num, sizeof(num), "errno %d", -e->err);
		name = num;
	}
	if (e->disk_off != BSW_DISK_NO_OFF)
		snprintf(disk, sizeof(disk), ", disk offset %llu", (unsigned long long)e->disk_off);
	else
		snprintf(disk, sizeof(disk), ", container metadata");
	if (e->short_read)
		snprintf(buf, len,
			 "short read (%s): no data at file offset %llu of layer %u (%s)%s, "
			 "though the file was %llu bytes when opened (it shrank)",
			 name, (unsigned long long)e->file_off, e->layer, e->path, disk,
			 (unsigned long long)e->file_size);
	else
		snprintf(buf, len, "%s (%s) at file offset %llu of layer %u (%s)%s", name,
			 strerror(-e->err), (unsigned long long)e->file_off, e->layer, e->path,
			 disk);
	return buf;
}
