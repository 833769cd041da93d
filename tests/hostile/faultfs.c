/*
 * faultfs: a read-only FUSE passthrough of one folder that fails reads the
 * way a dying disk or a truncated file does, for tests/hostile/eio_*.sh.
 *
 *   faultfs [--eio NAME:START:LEN]... [--shrink NAME:SIZE] [--log FILE]
 *           BACKING MOUNTPOINT [fuse options, e.g. -f]
 *
 * --eio:    a read of NAME that touches [START, START+LEN) fails with EIO
 *           (the whole request, as a drive fails a multi-sector read that
 *           covers one bad sector).  Repeatable.
 * --shrink: NAME reads as if it ended at SIZE (short reads, then 0), while
 *           stat still reports its real size: a file that shrank after it
 *           was opened.
 * --log:    append one line per injected fault ("eio NAME OFF LEN").
 *
 * Files are opened with direct_io, so every read(2) of the client reaches
 * this process with its own offset and length (no page cache between them,
 * no readahead hiding or widening a fault).  Offsets are plain decimal or
 * 0x hex.  Nothing is ever written to the backing folder.
 */
#define FUSE_USE_VERSION 35

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FAULTS 64

struct fault {
	char name[256];	     /* path relative to the backing folder */
	uint64_t start, len; /* --eio */
	uint64_t size;	     /* --shrink */
	int shrink;
};

static struct fault faults[MAX_FAULTS];
static unsigned nr_faults;
static int backing = -1; /* dirfd of the backing folder */
static FILE *fault_log;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

/* "NAME:A[:B]" -> name, a, b (b optional when want_b is 0). */
static int parse_spec(char *spec, struct fault *f, int want_b)
{
	char *c2 = strrchr(spec, ':'), *c1;

	if (!c2)
		return -1;
	*c2 = 0;
	if (want_b) {
		c1 = strrchr(spec, ':');
		if (!c1)
			return -1;
		*c1 = 0;
		if (parse_u64(c1 + 1, &f->start) || parse_u64(c2 + 1, &f->len))
			return -1;
	} else if (parse_u64(c2 + 1, &f->size)) {
		return -1;
	}
	if (strlen(spec) >= sizeof(f->name))
		return -1;
	snprintf(f->name, sizeof(f->name), "%s", rel(spec));
	return 0;
}

static void log_fault(const char *what, const char *name, uint64_t off, uint64_t len)
{
	if (!fault_log)
		return;
	pthread_mutex_lock(&log_lock);
	fprintf(fault_log, "%s %s %" PRIu64 " %" PRIu64 "\n", what, name, off, len);
	fflush(fault_log);
	pthread_mutex_unlock(&log_lock);
}

static int ff_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	if (fstatat(backing, rel(path), st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	st->st_mode &= ~(mode_t)0222; /* read-only */
	return 0;
}

static int ff_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	int fd = openat(backing, rel(path), O_RDONLY | O_DIRECTORY);
	DIR *d;
	struct dirent *e;

	(void)off;
	(void)fi;
	(void)flags;
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d)))
		if (fill(buf, e->d_name, NULL, 0, 0))
			break;
	closedir(d);
	return 0;
}

static int ff_open(const char *path, struct fuse_file_info *fi)
{
	int fd;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	fd = openat(backing, rel(path), O_RDONLY);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	return 0;
}

static int ff_read(const char *path, char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
	const char *name = rel(path);
	uint64_t o = (uint64_t)off, end = o + len;
	ssize_t n;

	for (unsigned i = 0; i < nr_faults; i++) {
		const struct fault *f = &faults[i];

		if (strcmp(f->name, name))
			continue;
		if (f->shrink) {
			if (o >= f->size) {
				log_fault("short", name, o, 0);
				return 0;
			}
			if (end > f->size) {
				log_fault("short", name, o, f->size - o);
				len = (size_t)(f->size - o);
				end = f->size;
			}
		} else if (o < f->start + f->len && f->start < end) {
			log_fault("eio", name, o, len);
			return -EIO;
		}
	}
	n = pread((int)fi->fh, buf, len, off);
	return n < 0 ? -errno : (int)n;
}

static int ff_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close((int)fi->fh);
	return 0;
}

static void *ff_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->use_ino = 1;
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 0;
	cfg->direct_io = 1;
	return NULL;
}

static const struct fuse_operations ff_ops = {
	.init = ff_init,
	.getattr = ff_getattr,
	.readdir = ff_readdir,
	.open = ff_open,
	.read = ff_read,
	.release = ff_release,
};

static void usage(void)
{
	fprintf(stderr, "usage: faultfs [--eio NAME:START:LEN]... [--shrink NAME:SIZE] "
			"[--log FILE] BACKING MOUNTPOINT [fuse options]\n");
}

int main(int argc, char **argv)
{
	char **fargv = calloc((size_t)argc + 4, sizeof(*fargv));
	int fargc = 0, i;
	const char *dir = NULL;

	if (!fargv)
		return 1;
	fargv[fargc++] = argv[0];
	for (i = 1; i < argc; i++) {
		int is_eio = !strcmp(argv[i], "--eio");

		if ((is_eio || !strcmp(argv[i], "--shrink")) && i + 1 < argc) {
			struct fault *f = &faults[nr_faults];

			if (nr_faults == MAX_FAULTS || parse_spec(argv[++i], f, is_eio)) {
				usage();
				return 2;
			}
			f->shrink = !is_eio;
			nr_faults++;
		} else if (!strcmp(argv[i], "--log") && i + 1 < argc) {
			fault_log = fopen(argv[++i], "a");
			if (!fault_log) {
				perror(argv[i]);
				return 1;
			}
		} else if (!dir && argv[i][0] != '-') {
			dir = argv[i];
		} else {
			fargv[fargc++] = argv[i];
		}
	}
	if (!dir) {
		usage();
		return 2;
	}
	backing = open(dir, O_RDONLY | O_DIRECTORY);
	if (backing < 0) {
		perror(dir);
		return 1;
	}
	/* read-only whatever the caller passed */
	fargv[fargc++] = "-o";
	fargv[fargc++] = "ro";
	return fuse_main(fargc, fargv, &ff_ops, NULL);
}
