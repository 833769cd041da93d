/*
 * libntfs-3g binding: a read-only ntfs_device over a struct bsw_src, a tree
 * walk, lookups, file reads, and libntfs-3g's mount-time verdict as
 * findings.  See ntfs_lib.h for the API and the threading rule.
 *
 * libntfs-3g does its own bounds checking; what this file adds is that its
 * device can never write (EROFS), that every loop of ours is capped, that
 * the directory walk detects cycles, and that libntfs-3g's log goes into
 * findings instead of stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/layout.h>
#include <ntfs-3g/logfile.h>
#include <ntfs-3g/logging.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

#include "formats/common/sha.h"
#include "formats/common/vec.h"
#include "formats/ntfs/ntfs_lib.h"

#define BSW_NTFS3G_CHUNK (1u << 20)   /* read/hash granule */
#define BSW_NTFS3G_DIR_MAX (1u << 20) /* entries kept per directory */

struct bsw_ntfs3g {
	ntfs_volume *vol;
	struct ntfs_device *dev;
	char log[BSW_NTFS3G_LOG_MAX];
	size_t log_len;
};

/* The device's private data: the source and the read(2)-style position. */
struct n3_dev {
	const struct bsw_src *src;
	int64_t pos;
};

/*
 * libntfs-3g has one global log handler: the mutex serializes every entry
 * point, and cap_to says whose log buffer the handler fills right now.
 * Recursive, so a walk callback may call back into the binding.
 */
static pthread_mutex_t n3_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_once_t n3_once = PTHREAD_ONCE_INIT;
static struct bsw_ntfs3g *cap_to;

static void n3_append(struct bsw_ntfs3g *v, const char *s)
{
	size_t room;

	if (!v || v->log_len + 1 >= sizeof(v->log))
		return;
	room = sizeof(v->log) - v->log_len;
	/* one line per message, newlines folded so it fits a finding */
	for (; *s && room > 1; s++) {
		char c = *s == '\n' || *s == '\r' ? ' ' : *s;

		if (c == ' ' && v->log_len && v->log[v->log_len - 1] == ' ')
			continue;
		v->log[v->log_len++] = c;
		room--;
	}
	/* no trailing blank: messages end in a newline */
	while (v->log_len && v->log[v->log_len - 1] == ' ')
		v->log_len--;
	v->log[v->log_len] = '\0';
}

/*
 * libntfs-3g's log handler: format and args are its printf-style message.
 * The format attribute says so to the compiler, which then checks the
 * vsnprintf below as a forwarded format (-Wformat-nonliteral) instead of
 * an arbitrary string.
 */
static int n3_log_handler(const char *function, const char *file, int line, u32 level, void *data,
			  const char *format, va_list args) __attribute__((format(printf, 6, 0)));

static int n3_log_handler(const char *function, const char *file, int line, u32 level, void *data,
			  const char *format, va_list args)
{
	char msg[512];
	int saved = errno;

	if (!cap_to)
		return 0;
	vsnprintf(msg, sizeof(msg), format, args);
	if (cap_to->log_len)
		n3_append(cap_to, "; ");
	n3_append(cap_to, msg);
	if (level & NTFS_LOG_LEVEL_PERROR) {
		n3_append(cap_to, ": ");
		n3_append(cap_to, strerror(saved));
	}
	errno = saved;
	return 0;
}

static void n3_init(void)
{
	ntfs_log_set_handler(n3_log_handler);
	/* what a user of ntfs-3g would see; no debug or progress chatter */
	ntfs_log_clear_levels(~0u);
	ntfs_log_set_levels(NTFS_LOG_LEVEL_INFO | NTFS_LOG_LEVEL_WARNING | NTFS_LOG_LEVEL_ERROR |
			    NTFS_LOG_LEVEL_PERROR | NTFS_LOG_LEVEL_CRITICAL);
}

static void n3_enter(struct bsw_ntfs3g *v, struct bsw_ntfs3g **prev)
{
	pthread_once(&n3_once, n3_init);
	pthread_mutex_lock(&n3_lock);
	*prev = cap_to;
	cap_to = v;
}

static void n3_leave(struct bsw_ntfs3g *prev)
{
	cap_to = prev;
	pthread_mutex_unlock(&n3_lock);
}

/* ---- device operations over a bsw_src ---- */

static int n3_open(struct ntfs_device *dev, int flags)
{
	if ((flags & O_ACCMODE) != O_RDONLY) {
		errno = EROFS;
		return -1;
	}
	if (NDevOpen(dev)) {
		errno = EBUSY;
		return -1;
	}
	((struct n3_dev *)dev->d_private)->pos = 0;
	NDevSetOpen(dev);
	NDevSetReadOnly(dev);
	return 0;
}

static int n3_close(struct ntfs_device *dev)
{
	if (!NDevOpen(dev)) {
		errno = EBADF;
		return -1;
	}
	NDevClearOpen(dev);
	return 0;
}

static s64 n3_seek(struct ntfs_device *dev, s64 offset, int whence)
{
	struct n3_dev *d = dev->d_private;
	s64 base;

	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = d->pos; break;
	case SEEK_END: base = (s64)d->src->size; break;
	default: errno = EINVAL; return -1;
	}
	if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0) {
		errno = EINVAL;
		return -1;
	}
	d->pos = base + offset;
	return d->pos;
}

static s64 n3_pread(struct ntfs_device *dev, void *buf, s64 count, s64 offset)
{
	struct n3_dev *d = dev->d_private;
	const struct bsw_src *src = d->src;
	s64 done = 0;

	if (count < 0 || offset < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)offset >= src->size)
		return 0;
	if ((uint64_t)count > src->size - (uint64_t)offset)
		count = (s64)(src->size - (uint64_t)offset);
	/* each pass moves forward or ends: the loop runs at most count times */
	while (done < count) {
		int64_t r = src->pread(src->ctx, (char *)buf + done, (size_t)(count - done),
				       (uint64_t)(offset + done));
		if (r < 0) {
			if (done)
				break;
			errno = (int)-r;
			return -1;
		}
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

static s64 n3_read(struct ntfs_device *dev, void *buf, s64 count)
{
	struct n3_dev *d = dev->d_private;
	s64 r = n3_pread(dev, buf, count, d->pos);

	if (r > 0)
		d->pos += r;
	return r;
}

static s64 n3_write(struct ntfs_device *dev, const void *buf, s64 count)
{
	errno = EROFS;
	return -1;
}

static s64 n3_pwrite(struct ntfs_device *dev, const void *buf, s64 count, s64 offset)
{
	errno = EROFS;
	return -1;
}

static int n3_sync(struct ntfs_device *dev)
{
	errno = EROFS;
	return -1;
}

static int n3_stat(struct ntfs_device *dev, struct stat *st)
{
	struct n3_dev *d = dev->d_private;

	memset(st, 0, sizeof(*st));
	/* a regular file: libntfs-3g then takes the size from st_size */
	st->st_mode = S_IFREG | 0444;
	st->st_size = (off_t)d->src->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((d->src->size + 511) / 512);
	return 0;
}

static int n3_ioctl(struct ntfs_device *dev, unsigned long request, void *argp)
{
	errno = ENOTTY;
	return -1;
}

static struct ntfs_device_operations n3_ops = {
	.open = n3_open,
	.close = n3_close,
	.seek = n3_seek,
	.read = n3_read,
	.write = n3_write,
	.pread = n3_pread,
	.pwrite = n3_pwrite,
	.sync = n3_sync,
	.stat = n3_stat,
	.ioctl = n3_ioctl,
};

/* Free a device that ntfs_device_mount() refused (it leaves it to us). */
static void n3_dev_free(struct ntfs_device *dev)
{
	void *priv;

	if (!dev)
		return;
	priv = dev->d_private;
	if (NDevOpen(dev))
		NDevClearOpen(dev);
	ntfs_device_free(dev);
	free(priv);
}

static int n3_mount(struct bsw_ntfs3g *v, const struct bsw_src *src)
{
	struct n3_dev *d;
	int err;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->src = src;
	v->dev = ntfs_device_alloc(src->name ? src->name : "bsw-src", 0, &n3_ops, d);
	if (!v->dev) {
		free(d);
		return -ENOMEM;
	}
	/* read-only and no recovery: libntfs-3g never replays or resets */
	v->vol = ntfs_device_mount(v->dev, NTFS_MNT_RDONLY);
	if (!v->vol) {
		err = errno ? errno : EIO;
		n3_dev_free(v->dev);
		v->dev = NULL;
		return -err;
	}
	return 0;
}

static void n3_free(struct bsw_ntfs3g *v)
{
	void *priv;

	if (!v)
		return;
	if (v->vol) {
		priv = v->dev->d_private;
		ntfs_umount(v->vol, FALSE); /* frees the device too */
		free(priv);
	}
	free(v);
}

int bsw_ntfs3g_open(struct bsw_ntfs3g **out, const struct bsw_src *vol, struct bsw_fx *fx)
{
	struct bsw_ntfs3g *v, *prev;
	int r;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	n3_enter(v, &prev);
	r = n3_mount(v, vol);
	n3_leave(prev);
	if (r < 0) {
		BSW_REPORT(fx, PR_NTFS3G_F0_MOUNT, .n = -r, .str = strerror(-r), .str2 = v->log);
		free(v);
		return r;
	}
	*out = v;
	return 0;
}

void bsw_ntfs3g_close(struct bsw_ntfs3g *v)
{
	struct bsw_ntfs3g *prev;

	if (!v)
		return;
	n3_enter(v, &prev);
	n3_free(v);
	n3_leave(prev);
}

const char *bsw_ntfs3g_log(const struct bsw_ntfs3g *v)
{
	return v ? v->log : "";
}

/* ---- reading ---- */

/*
 * Read or hash the unnamed $DATA of ni.  With out set, fills it with up to
 * max bytes (the caller sized it); with md set, hashes.  0 or -errno.
 */
static int n3_data(ntfs_inode *ni, uint64_t *size, uint8_t *out, size_t max, struct bsw_sha *md)
{
	ntfs_attr *na;
	uint8_t *buf = NULL;
	s64 pos = 0;
	int r = 0;

	na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na) {
		*size = 0;
		return errno == ENOENT ? -ENOENT : -(errno ? errno : EIO);
	}
	/*
	 * With no unnamed $DATA the lookup can land on a named one ($Secure's
	 * $SDS): that is not the file's content.
	 */
	if (na->name_len) {
		ntfs_attr_close(na);
		*size = 0;
		return -ENOENT;
	}
	*size = na->data_size < 0 ? 0 : (uint64_t)na->data_size;
	if (out && *size > max) {
		r = -EFBIG;
		goto out;
	}
	if (!out && !md)
		goto out;
	if (md) {
		buf = malloc(BSW_NTFS3G_CHUNK);
		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
	}
	/* pos strictly grows; a short or failed read ends the loop */
	while ((uint64_t)pos < *size) {
		s64 want = (s64)(*size - (uint64_t)pos);
		s64 got;

		if (want > BSW_NTFS3G_CHUNK)
			want = BSW_NTFS3G_CHUNK;
		got = ntfs_attr_pread(na, pos, want, out ? out + pos : buf);
		if (got <= 0) {
			r = got < 0 ? -(errno ? errno : EIO) : -EIO;
			break;
		}
		if (md)
			bsw_sha_update(md, buf, (size_t)got);
		pos += got;
	}
out:
	free(buf);
	ntfs_attr_close(na);
	return r;
}

int bsw_ntfs3g_read_all(struct bsw_ntfs3g *v, uint64_t rec, uint8_t **data, size_t *len, size_t max)
{
	struct bsw_ntfs3g *prev;
	ntfs_inode *ni;
	uint64_t size = 0;
	uint8_t *buf;
	int r;

	*data = NULL;
	*len = 0;
	n3_enter(v, &prev);
	ni = ntfs_inode_open(v->vol, (MFT_REF)rec);
	if (!ni) {
		r = -(errno ? errno : ENOENT);
		goto out;
	}
	r = n3_data(ni, &size, NULL, 0, NULL);
	if (r == -ENOENT) {
		r = 0;
		size = 0;
	}
	if (r < 0 || size > max) {
		if (!r)
			r = -EFBIG;
		goto close;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		r = -ENOMEM;
		goto close;
	}
	if (size)
		r = n3_data(ni, &size, buf, size, NULL);
	if (r < 0) {
		free(buf);
		goto close;
	}
	*data = buf;
	*len = size;
close:
	ntfs_inode_close(ni);
out:
	n3_leave(prev);
	return r;
}

int bsw_ntfs3g_lookup(struct bsw_ntfs3g *v, const char *path, uint64_t *rec)
{
	struct bsw_ntfs3g *prev;
	ntfs_inode *ni;
	char *p, *c;
	int r = 0;

	p = strdup(path);
	if (!p)
		return -ENOMEM;
	for (c = p; *c; c++)
		if (*c == '\\')
			*c = '/';
	n3_enter(v, &prev);
	ni = ntfs_pathname_to_inode(v->vol, NULL, p);
	if (!ni) {
		r = -ENOENT;
	} else {
		*rec = ni->mft_no;
		ntfs_inode_close(ni);
	}
	n3_leave(prev);
	free(p);
	return r;
}

/* ---- the walk ---- */

struct n3_dent {
	char *name;
	uint64_t rec;
};

struct n3_dir {
	struct n3_dent *e;
	size_t n, alloc;
	uint64_t self;
	int err;
};

static int n3_filldir(void *arg, const ntfschar *name, const int name_len, const int name_type,
		      const s64 pos, const MFT_REF mref, const unsigned dt_type)
{
	struct n3_dir *d = arg;
	uint64_t rec = MREF(mref);
	char *s = NULL;

	if (name_type == FILE_NAME_DOS || rec == d->self)
		return 0;
	if (d->n >= BSW_NTFS3G_DIR_MAX) {
		d->err = -E2BIG;
		return -1;
	}
	if (ntfs_ucstombs(name, name_len, &s, 0) < 0 || !s)
		return 0; /* unconvertible name: not comparable anyway */
	if (!strcmp(s, ".") || !strcmp(s, "..")) {
		free(s);
		return 0;
	}
	/* below the cap (checked above), so a failure is ENOMEM */
	if (bsw_vec_reserve(&d->e, &d->alloc, d->n + 1, sizeof(*d->e), BSW_NTFS3G_DIR_MAX)) {
		free(s);
		d->err = -ENOMEM;
		return -1;
	}
	d->e[d->n].name = s;
	d->e[d->n].rec = rec;
	d->n++;
	return 0;
}

struct n3_walk {
	ntfs_volume *vol;
	bool hash;
	bsw_ntfs3g_walk_fn fn;
	void *arg;
	uint8_t *seen; /* directories entered, one bit per record */
	uint64_t nr_seen;
	uint64_t visited;
	char path[8192];
};

static bool n3_seen(struct n3_walk *w, uint64_t rec)
{
	bool was;

	if (rec >= w->nr_seen)
		return true; /* out of the $MFT: never descend */
	was = w->seen[rec >> 3] & (1u << (rec & 7));
	w->seen[rec >> 3] |= (uint8_t)(1u << (rec & 7));
	return was;
}

static int n3_walk_dir(struct n3_walk *w, uint64_t dir, size_t plen, int depth)
{
	struct n3_dir d = { .self = dir };
	ntfs_inode *ni;
	s64 pos = 0;
	int r = 0;
	size_t i;

	if (depth > BSW_NTFS3G_MAX_DEPTH)
		return 0;
	ni = ntfs_inode_open(w->vol, (MFT_REF)dir);
	if (!ni)
		return 0; /* libntfs-3g's log says why */
	ntfs_readdir(ni, &pos, &d, n3_filldir);
	ntfs_inode_close(ni);
	if (d.err == -ENOMEM)
		r = d.err;
	for (i = 0; i < d.n && !r; i++) {
		struct bsw_ntfs3g_ent e = { .rec = d.e[i].rec };
		size_t nl = strlen(d.e[i].name);
		ntfs_inode *ci;

		if (++w->visited > BSW_NTFS3G_MAX_ENTRIES) {
			r = -E2BIG;
			break;
		}
		if (plen + 1 + nl + 1 > sizeof(w->path))
			continue;
		w->path[plen] = '\\';
		memcpy(w->path + plen + 1, d.e[i].name, nl + 1);
		e.path = w->path;
		ci = ntfs_inode_open(w->vol, (MFT_REF)d.e[i].rec);
		if (!ci)
			continue;
		e.link_count = le16_to_cpu(ci->mrec->link_count);
		e.dir = !!(ci->mrec->flags & MFT_RECORD_IS_DIRECTORY);
		if (!e.dir) {
			struct bsw_sha *md = NULL;
			int dr;

			if (w->hash)
				bsw_sha_create(&md, BSW_SHA256);
			dr = n3_data(ci, &e.size, NULL, 0, md);
			if (md && !dr)
				e.has_sha = bsw_sha_final(md, e.sha256) == 32;
			bsw_sha_destroy(md);
		}
		ntfs_inode_close(ci);
		r = w->fn(w->arg, &e);
		if (r)
			break;
		/* each directory once: hard-linked or looping directories */
		if (e.dir && !n3_seen(w, e.rec))
			r = n3_walk_dir(w, e.rec, plen + 1 + nl, depth + 1);
	}
	for (i = 0; i < d.n; i++)
		free(d.e[i].name);
	free(d.e);
	w->path[plen] = '\0';
	return r;
}

int bsw_ntfs3g_walk(struct bsw_ntfs3g *v, bool hash, bsw_ntfs3g_walk_fn fn, void *arg)
{
	struct bsw_ntfs3g *prev;
	struct n3_walk *w;
	uint64_t nr;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	n3_enter(v, &prev);
	nr = (uint64_t)v->vol->mft_na->initialized_size >> v->vol->mft_record_size_bits;
	if (nr > BSW_NTFS3G_MAX_ENTRIES)
		nr = BSW_NTFS3G_MAX_ENTRIES;
	w->vol = v->vol;
	w->hash = hash;
	w->fn = fn;
	w->arg = arg;
	w->nr_seen = nr;
	w->seen = calloc(nr / 8 + 1, 1);
	if (!w->seen) {
		r = -ENOMEM;
		goto out;
	}
	n3_seen(w, FILE_root);
	r = n3_walk_dir(w, FILE_root, 0, 0);
out:
	n3_leave(prev);
	free(w->seen);
	free(w);
	return r;
}

/* ---- the mount-time verdict ---- */

/*
 * $LogFile: ntfs_check_logfile() validates both restart pages (LFS restart
 * page header and restart area, [MS-NTFS] has no public LFS spec; the
 * layout is libntfs-3g's logfile.h) and ntfs_is_logfile_clean() says
 * whether clients are still in use, i.e. the volume was not unmounted.
 */
static int n3_check_log(struct bsw_ntfs3g *v, struct bsw_fx *fx)
{
	RESTART_PAGE_HEADER *rp = NULL;
	ntfs_inode *ni;
	ntfs_attr *na;
	int n = 0;

	ni = ntfs_inode_open(v->vol, FILE_LogFile);
	if (!ni) {
		BSW_REPORT(fx, PR_NTFS3G_F0_LOG_BAD, .str = "cannot open $LogFile", .str2 = v->log);
		return 1;
	}
	na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na) {
		BSW_REPORT(fx, PR_NTFS3G_F0_LOG_BAD, .str = "no $DATA", .str2 = v->log);
		n = 1;
	} else if (!ntfs_check_logfile(na, &rp)) {
		BSW_REPORT(fx, PR_NTFS3G_F0_LOG_BAD, .str = "ntfs_check_logfile", .str2 = v->log);
		n = 1;
	} else if (!ntfs_is_logfile_clean(na, rp)) {
		BSW_REPORT(fx, PR_NTFS3G_F0_LOG_UNCLEAN, .str2 = v->log);
		n = 1;
	}
	free(rp);
	if (na)
		ntfs_attr_close(na);
	ntfs_inode_close(ni);
	return n;
}

int bsw_ntfs3g_verdict(const struct bsw_src *src, struct bsw_fx *fx)
{
	struct bsw_ntfs3g *v, *prev;
	int r, n = 0;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	n3_enter(v, &prev);
	r = n3_mount(v, src);
	if (r < 0) {
		/* the mount compares $MFT with $MFTMirr and says so */
		if (strstr(v->log, "$MFTMirr"))
			BSW_REPORT(fx, PR_NTFS3G_F0_MIRR, .n = -r, .str = strerror(-r),
				   .str2 = v->log);
		else
			BSW_REPORT(fx, PR_NTFS3G_F0_MOUNT, .n = -r, .str = strerror(-r),
				   .str2 = v->log);
		n3_leave(prev);
		free(v);
		return 1;
	}
	if (le16_to_cpu(v->vol->flags) & le16_to_cpu(VOLUME_IS_DIRTY)) {
		BSW_REPORT(fx, PR_NTFS3G_F0_VOLFLAG, .n = le16_to_cpu(v->vol->flags));
		n++;
	}
	v->log_len = 0;
	v->log[0] = '\0';
	n += n3_check_log(v, fx);
	/* returns -1/EPERM when hiberfil.sys holds a live hibernation image */
	v->log_len = 0;
	v->log[0] = '\0';
	if (ntfs_volume_check_hiberfile(v->vol, 1) < 0 && errno == EPERM) {
		BSW_REPORT(fx, PR_NTFS3G_F0_HIBER, .str2 = v->log);
		n++;
	}
	n3_free(v);
	n3_leave(prev);
	return n;
}
