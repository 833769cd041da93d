/*
 * The results file of a sweep (see out.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "scanner/json.h"
#include "scanner/out.h"
#include "scanner/report.h"

#define CHECK_BYTES 65536 /* of the first line, for bsw_out_check_jsonl */

struct bsw_out {
	int fd;
	bool own;     /* fd opened here (not standard output) */
	bool regular; /* a regular file: torn writes are cut off */
	off_t good;   /* end of the last whole line */
	char name[4096];
};

static int out_err(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int out_err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int bsw_out_check_jsonl(int fd, char *err, size_t errlen)
{
	static const char head[] = "{\"image\":\"";
	char *buf = malloc(CHECK_BYTES + 1);
	ssize_t n;
	char *nl;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	n = pread(fd, buf, CHECK_BYTES, 0);
	if (n < 0) {
		rc = out_err(err, errlen, -errno, "cannot read it: %s", strerror(errno));
		goto out;
	}
	if (n == 0)
		goto out; /* empty: nothing to lose */
	buf[n] = 0;
	nl = memchr(buf, '\n', (size_t)n);
	if (nl)
		*nl = 0;
	if ((size_t)n < sizeof(head) - 1 || memcmp(buf, head, sizeof(head) - 1) ||
	    !strstr(buf, "\"verdict\":\""))
		rc = out_err(
			err, errlen, -EINVAL,
			"exists and is not a bootsweep JSONL (its first line is not a result)");
out:
	free(buf);
	return rc;
}

/* The end of the last whole line of fd (size st_size): 0 or past a '\n'. */
static off_t last_line_end(int fd, off_t size)
{
	char buf[4096];
	off_t end = size;

	while (end > 0) {
		size_t n = end > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)end;
		ssize_t r = pread(fd, buf, n, end - (off_t)n);

		if (r != (ssize_t)n)
			return -EIO;
		for (size_t i = n; i > 0; i--)
			if (buf[i - 1] == '\n')
				return end - (off_t)n + (off_t)i;
		end -= (off_t)n;
	}
	return 0;
}

/*
 * Checks on an output that exists, made through a read-only descriptor so
 * that an image named by mistake is never opened for writing.
 */
static int check_existing(const char *path, const struct stat *st, bool jsonl, char *const *inputs,
			  size_t nr, char *err, size_t errlen)
{
	int fd, rc;

	if (S_ISBLK(st->st_mode) || S_ISDIR(st->st_mode))
		return out_err(err, errlen, -EINVAL, "is a %s, not a results file",
			       S_ISBLK(st->st_mode) ? "block device" : "directory");
	for (size_t i = 0; i < nr; i++) {
		struct stat in;

		if (!stat(inputs[i], &in) && in.st_dev == st->st_dev && in.st_ino == st->st_ino)
			return out_err(err, errlen, -EINVAL, "is one of the images to sweep (%s)",
				       inputs[i]);
	}
	if (!jsonl || !S_ISREG(st->st_mode) || !st->st_size)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return out_err(err, errlen, -errno, "%s", strerror(errno));
	rc = bsw_out_check_jsonl(fd, err, errlen);
	close(fd);
	return rc;
}

int bsw_out_open(struct bsw_out **out, const char *path, bool append, char *const *inputs,
		 size_t nr, char *err, size_t errlen)
{
	struct bsw_out *o = calloc(1, sizeof(*o));
	struct stat st, before;
	bool existed = false;
	int rc;

	*out = NULL;
	if (!o)
		return out_err(err, errlen, -ENOMEM, "out of memory");
	o->fd = -1;
	if (!path || !strcmp(path, "-")) {
		o->fd = STDOUT_FILENO;
		snprintf(o->name, sizeof(o->name), "standard output");
	} else {
		snprintf(o->name, sizeof(o->name), "%s", path);
		if (!stat(path, &before)) {
			existed = true;
			rc = check_existing(path, &before, true, inputs, nr, err, errlen);
			if (rc)
				goto fail;
		}
		/* no O_TRUNC: nothing is cut before the checks have passed */
		o->fd = open(path,
			     (!existed || S_ISREG(before.st_mode) ? O_RDWR : O_WRONLY) | O_CREAT |
				     O_CLOEXEC | O_NOCTTY,
			     0644);
		if (o->fd < 0) {
			rc = out_err(err, errlen, -errno, "%s", strerror(errno));
			goto fail;
		}
		o->own = true;
	}
	if (fstat(o->fd, &st)) {
		rc = out_err(err, errlen, -errno, "%s", strerror(errno));
		goto fail;
	}
	if (o->own && existed && (st.st_dev != before.st_dev || st.st_ino != before.st_ino)) {
		rc = out_err(err, errlen, -EAGAIN, "was replaced while being opened");
		goto fail;
	}
	if (!o->own) {
		/* a redirection: the shell has opened it, only an image is refused */
		rc = check_existing(NULL, &st, false, inputs, nr, err, errlen);
		if (rc)
			goto fail;
	}
	o->regular = S_ISREG(st.st_mode);
	if (o->regular && o->own) {
		if (append) {
			o->good = last_line_end(o->fd, st.st_size);
			if (o->good < 0) {
				rc = out_err(err, errlen, (int)o->good,
					     "cannot read its last line");
				goto fail;
			}
		}
		/* a torn last line (or, without --resume, the old sweep) goes */
		if (o->good != st.st_size && ftruncate(o->fd, o->good)) {
			rc = out_err(err, errlen, -errno, "%s", strerror(errno));
			goto fail;
		}
		if (lseek(o->fd, o->good, SEEK_SET) < 0) {
			rc = out_err(err, errlen, -errno, "%s", strerror(errno));
			goto fail;
		}
	} else if (o->regular) {
		o->good = lseek(o->fd, 0, SEEK_CUR);
		if (o->good < 0)
			o->regular = false;
	}
	*out = o;
	return 0;
fail:
	if (o->own && o->fd >= 0)
		close(o->fd);
	free(o);
	return rc;
}

int bsw_out_line(struct bsw_out *o, const char *line, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)line, .iov_len = len },
		{ .iov_base = "\n", .iov_len = 1 },
	};
	struct iovec *v = iov;
	int cnt = 2, rc = 0;

	while (cnt) {
		ssize_t w = writev(o->fd, v, cnt);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			break;
		}
		while (cnt && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			cnt--;
		}
		if (cnt) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
	if (!rc) {
		o->good += (off_t)len + 1;
		return 0;
	}
	/* never leave a torn line: cut back to the last whole one */
	if (o->regular && !ftruncate(o->fd, o->good))
		lseek(o->fd, o->good, SEEK_SET);
	return rc;
}

int bsw_out_close(struct bsw_out *o)
{
	int rc = 0;

	if (!o)
		return 0;
	if (o->regular && fsync(o->fd) && errno != EINVAL && errno != EROFS)
		rc = -errno;
	if (o->own && close(o->fd) && !rc)
		rc = -errno;
	free(o);
	return rc;
}

const char *bsw_out_name(const struct bsw_out *o)
{
	return o->name;
}

char *bsw_out_line_image(const char *line, size_t len)
{
	static const char head[] = "{\"image\":";
	char *img;
	size_t n;

	if (len < sizeof(head) - 1 || memcmp(line, head, sizeof(head) - 1))
		return NULL;
	if (bsw_json_string(line + sizeof(head) - 1, line + len, &img, &n, NULL))
		return NULL;
	return img;
}
