/*
 * The image writer's front end: shared file helpers, the block sources
 * (a raw file, a list of extents, two raw files compared), and reading the
 * identity of a differencing child's parent.  The container layouts live in
 * imgwrite_vhd.c and imgwrite_vhdx.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets/imgwrite/imgw_int.h"
#include "formats/common/bytes.h"
#include "formats/common/crc.h"

int imgw_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Reads len bytes; past the end of the file the rest is zero-filled. */
int imgw_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			memset(p, 0, len);
			return 0;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

void *imgw_alloc(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, IMGW_ALIGN, len ? len : IMGW_ALIGN))
		return NULL;
	memset(p, 0, len);
	return p;
}

bool imgw_is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t acc = 0;
	size_t i = 0;

	/* Word-wise: this runs over every byte of multi-GB inputs. */
	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		acc |= w;
		if ((i & 4095) == 4088 && acc)
			return false;
	}
	for (; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

int imgw_create(const char *out)
{
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	return fd < 0 ? -errno : fd;
}

int imgw_finish(int fd, uint64_t size)
{
	int rc = 0;

	if (ftruncate(fd, (off_t)size))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

/*
 * Deterministic GUIDs: the seed id mixed with the use number through
 * CRC-32C, marked as an RFC 4122 version-4 style GUID so that readers that
 * look at the variant bits are content.
 */
void imgw_guid(const struct bsw_imgw_opts *o, unsigned n, uint8_t g[16])
{
	uint8_t seed[24];

	memcpy(seed, o->id, 16);
	put_le32(seed + 16, o->timestamp);
	put_le32(seed + 20, n);
	for (int i = 0; i < 4; i++) {
		seed[0] ^= (uint8_t)i;
		put_le32(g + 4 * i, bsw_crc32c((uint32_t)i * 0x9e3779b9u, seed, sizeof(seed)));
	}
	g[7] = (uint8_t)((g[7] & 0x0f) | 0x40);
	g[8] = (uint8_t)((g[8] & 0x3f) | 0x80);
}

void imgw_guid_str(const uint8_t g[16], char s[39])
{
	snprintf(s, 39, "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", get_le32(g),
		 get_le16(g + 4), get_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14],
		 g[15]);
}

int imgw_utf16(const char *s, uint8_t *out, size_t cap, bool big_endian)
{
	size_t n = 0;

	/* Paths here are ASCII; anything else is passed through as Latin-1. */
	for (; *s; s++) {
		uint8_t c = (uint8_t)*s;

		if (n + 2 > cap)
			return -ENAMETOOLONG;
		out[n + (big_endian ? 1 : 0)] = c;
		out[n + (big_endian ? 0 : 1)] = 0;
		n += 2;
	}
	return (int)n;
}

/* VHD footer (VHD spec, "Hard Disk Footer Format"), big-endian. */
static int read_vhd_parent(int fd, uint64_t fsize, struct imgw_parent *p)
{
	uint8_t f[512];
	uint32_t type;
	int rc;

	if (fsize < 512)
		return -EINVAL;
	rc = imgw_pread_all(fd, f, 512, fsize - 512);
	if (rc)
		return rc;
	if (memcmp(f, "conectix", 8))
		return -EINVAL;
	type = get_be32(f + 60);
	if (type == 2)
		p->fmt = BSW_IMG_VHD_FIXED;
	else if (type == 3 || type == 4)
		p->fmt = BSW_IMG_VHD_DYNAMIC;
	else
		return -EINVAL;
	p->size = get_be64(f + 48);
	memcpy(p->vhd_id, f + 68, 16);
	p->vhd_timestamp = get_be32(f + 24);
	return 0;
}

/* VHDX (MS-VHDX 2.2): the active header is the valid one with the higher
 * sequence number; the size and sector size come from the metadata. */
static int read_vhdx_parent(int fd, uint64_t fsize, struct imgw_parent *p)
{
	static const uint8_t g_meta[16] = { 0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
					    0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e };
	static const uint8_t g_vsize[16] = { 0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48,
					     0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8 };
	static const uint8_t g_lss[16] = { 0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47,
					   0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f };
	uint8_t *b = imgw_alloc(64 * 1024);
	uint64_t best_seq = 0, moff = 0;
	bool have = false, have_size = false;
	uint32_t mlen = 0, n;
	int rc = -EINVAL;

	if (!b)
		return -ENOMEM;
	p->fmt = BSW_IMG_VHDX_DYNAMIC;
	p->vhdx_lss = 512;
	for (int i = 0; i < 2; i++) {
		uint32_t crc;

		if (imgw_pread_all(fd, b, 4096, (uint64_t)(i + 1) * 65536))
			goto out;
		if (memcmp(b, "head", 4))
			continue;
		crc = get_le32(b + 4);
		memset(b + 4, 0, 4);
		if (bsw_crc32c(0, b, 4096) != crc)
			continue;
		if (!have || get_le64(b + 8) > best_seq) {
			best_seq = get_le64(b + 8);
			memcpy(p->vhdx_data_guid, b + 32, 16);
			have = true;
		}
	}
	if (!have)
		goto out;
	if (imgw_pread_all(fd, b, 65536, 192 * 1024) || memcmp(b, "regi", 4))
		goto out;
	n = get_le32(b + 8);
	for (uint32_t i = 0; i < n && i < 2047; i++) {
		const uint8_t *e = b + 16 + 32 * i;

		if (!memcmp(e, g_meta, 16)) {
			moff = get_le64(e + 16);
			mlen = get_le32(e + 24);
		}
	}
	if (!moff || mlen < 65536 || !bsw_range_ok(moff, 65536, fsize))
		goto out;
	if (imgw_pread_all(fd, b, 65536, moff) || memcmp(b, "metadata", 8))
		goto out;
	n = get_le16(b + 10);
	for (uint32_t i = 0; i < n && i < 2047; i++) {
		const uint8_t *e = b + 32 + 32 * i;
		uint32_t o = get_le32(e + 16);
		uint8_t v[8];

		if (o >= mlen || mlen - o < 8)
			continue;
		if (!memcmp(e, g_vsize, 16)) {
			if (imgw_pread_all(fd, v, 8, moff + o))
				goto out;
			p->size = get_le64(v);
			have_size = true;
		} else if (!memcmp(e, g_lss, 16)) {
			if (imgw_pread_all(fd, v, 4, moff + o))
				goto out;
			p->vhdx_lss = get_le32(v);
		}
	}
	rc = have_size ? 0 : -EINVAL;
out:
	free(b);
	return rc;
}

int imgw_read_parent(const char *path, struct imgw_parent *p)
{
	struct stat st;
	char sig[8];
	int fd, rc;

	memset(p, 0, sizeof(*p));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		goto out;
	}
	rc = imgw_pread_all(fd, sig, 8, 0);
	if (rc)
		goto out;
	if (!memcmp(sig, "vhdxfile", 8))
		rc = read_vhdx_parent(fd, (uint64_t)st.st_size, p);
	else
		rc = read_vhd_parent(fd, (uint64_t)st.st_size, p);
out:
	close(fd);
	return rc;
}

int imgw_make_loc(const char *parent, const char *rel, struct imgw_loc *l)
{
	char *rp = realpath(parent, NULL);
	size_t n;

	if (!rp)
		return -errno;
	n = strlen(rp);
	if (n + 3 > sizeof(l->abs)) {
		free(rp);
		return -ENAMETOOLONG;
	}
	/* Windows form of the absolute path; readers here strip the drive. */
	l->abs[0] = 'C';
	l->abs[1] = ':';
	for (size_t i = 0; i <= n; i++)
		l->abs[2 + i] = rp[i] == '/' ? '\\' : rp[i];
	free(rp);
	l->rel = rel;
	return 0;
}

static int write_fmt(const char *out, enum bsw_imgfmt fmt, const struct imgw_bsrc *bs,
		     const struct bsw_imgw_opts *o, const struct imgw_parent *par,
		     const struct imgw_loc *loc)
{
	switch (fmt) {
	case BSW_IMG_VHD_FIXED:
	case BSW_IMG_VHD_DYNAMIC: return imgw_vhd_write(out, fmt, bs, o, par, loc);
	case BSW_IMG_VHDX_FIXED:
	case BSW_IMG_VHDX_DYNAMIC: return imgw_vhdx_write(out, fmt, bs, o, par, loc);
	default: return -EINVAL;
	}
}

/*
 * True when [off, off+len) of fd is a hole (no data per SEEK_DATA), so it
 * reads as zeros without reading: sparse multi-GB raws convert at the speed
 * of their data.  False when unsure (no SEEK_DATA support).
 */
static bool imgw_is_hole(int fd, uint64_t off, uint64_t len)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA);

	if (d < 0)
		return errno == ENXIO; /* no data at or after off */
	return (uint64_t)d >= off + len;
}

/* ---- from a raw file ---- */

struct raw_ctx {
	int fd;
};

static int raw_get(void *ctx, uint64_t voff, uint32_t len, uint8_t *buf, uint8_t *present)
{
	struct raw_ctx *r = ctx;
	int rc;

	if (imgw_is_hole(r->fd, voff, len)) {
		memset(buf, 0, len);
		return IMGW_BLK_ABSENT;
	}
	rc = imgw_pread_all(r->fd, buf, len, voff);

	if (rc)
		return rc;
	return imgw_is_zero(buf, len) ? IMGW_BLK_ABSENT : IMGW_BLK_FULL;
}

/* Raw output: a sparse copy. */
static int write_raw(const char *out, const struct imgw_bsrc *bs)
{
	uint8_t *buf = imgw_alloc(8 * IMGW_MiB);
	int fd, rc = 0;

	if (!buf)
		return -ENOMEM;
	fd = imgw_create(out);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	for (uint64_t off = 0; off < bs->size && !rc; off += 8 * IMGW_MiB) {
		uint32_t n = (uint32_t)BSW_MIN(8ull * IMGW_MiB, bs->size - off);

		rc = bs->get(bs->ctx, off, n, buf, NULL);
		if (rc == IMGW_BLK_FULL)
			rc = imgw_pwrite_all(fd, buf, n, off);
		else if (rc > 0)
			rc = 0;
	}
	free(buf);
	if (rc) {
		close(fd);
		return rc;
	}
	return imgw_finish(fd, bs->size);
}

int bsw_imgw_from_raw(const char *raw, const char *out, enum bsw_imgfmt fmt,
		      const struct bsw_imgw_opts *o)
{
	struct bsw_imgw_opts def = { 0 };
	struct raw_ctx rc_ = { .fd = -1 };
	struct imgw_bsrc bs = { .get = raw_get, .ctx = &rc_ };
	struct stat st;
	int rc;

	if (!o)
		o = &def;
	rc_.fd = open(raw, O_RDONLY | O_CLOEXEC);
	if (rc_.fd < 0)
		return -errno;
	if (fstat(rc_.fd, &st)) {
		rc = -errno;
		goto out;
	}
	bs.size = (uint64_t)st.st_size;
	if (bs.size == 0 || bs.size % IMGW_SECTOR || bs.size > IMGW_MAX_SIZE) {
		rc = -EINVAL;
		goto out;
	}
	if (fmt == BSW_IMG_RAW)
		rc = write_raw(out, &bs);
	else
		rc = write_fmt(out, fmt, &bs, o, NULL, NULL);
out:
	close(rc_.fd);
	return rc;
}

/* ---- a differencing child from extents ---- */

struct ext_ctx {
	const struct bsw_imgw_extent *ext;
	size_t nr;
};

static int ext_get(void *ctx, uint64_t voff, uint32_t len, uint8_t *buf, uint8_t *present)
{
	struct ext_ctx *x = ctx;
	uint32_t nsec = len / IMGW_SECTOR, have = 0;

	memset(buf, 0, len);
	memset(present, 0, nsec);
	/* In order, so that a later extent overwrites an earlier one. */
	for (size_t i = 0; i < x->nr; i++) {
		const struct bsw_imgw_extent *e = &x->ext[i];
		uint64_t a = BSW_MAX(e->voff, voff);
		uint64_t b = BSW_MIN(e->voff + e->len, voff + len);

		if (a >= b)
			continue;
		memcpy(buf + (a - voff), e->data + (a - e->voff), b - a);
		for (uint64_t s = (a - voff) / IMGW_SECTOR; s < (b - voff) / IMGW_SECTOR; s++)
			present[s] = 1;
	}
	for (uint32_t s = 0; s < nsec; s++)
		have += present[s];
	return have == 0 ? IMGW_BLK_ABSENT : have == nsec ? IMGW_BLK_FULL : IMGW_BLK_PARTIAL;
}

static int diff_common(const char *parent, const char *parent_locator, const char *out,
		       struct imgw_bsrc *bs, const struct bsw_imgw_opts *o, uint64_t min_size)
{
	struct bsw_imgw_opts def = { 0 };
	struct imgw_parent par;
	struct imgw_loc loc;
	int rc;

	if (!o)
		o = &def;
	if (!parent_locator || !*parent_locator)
		return -EINVAL;
	rc = imgw_read_parent(parent, &par);
	if (rc)
		return rc;
	rc = imgw_make_loc(parent, parent_locator, &loc);
	if (rc)
		return rc;
	if ((bs->size && bs->size != par.size) || par.size < min_size)
		return -EINVAL;
	bs->size = par.size;
	bs->diff = true;
	if (par.fmt == BSW_IMG_VHD_FIXED || par.fmt == BSW_IMG_VHD_DYNAMIC)
		return imgw_vhd_write(out, BSW_IMG_VHD_DYNAMIC, bs, o, &par, &loc);
	return imgw_vhdx_write(out, BSW_IMG_VHDX_DYNAMIC, bs, o, &par, &loc);
}

int bsw_imgw_diff(const char *parent, const char *parent_locator, const char *out,
		  const struct bsw_imgw_extent *ext, size_t nr_ext, const struct bsw_imgw_opts *o)
{
	struct ext_ctx x = { .ext = ext, .nr = nr_ext };
	struct imgw_bsrc bs = { .get = ext_get, .ctx = &x };
	uint64_t end = 0;

	if (nr_ext && !ext)
		return -EINVAL;
	for (size_t i = 0; i < nr_ext; i++) {
		if (ext[i].voff % IMGW_SECTOR || ext[i].len % IMGW_SECTOR ||
		    (ext[i].len && !ext[i].data) || ext[i].voff + ext[i].len < ext[i].voff)
			return -EINVAL;
		end = BSW_MAX(end, ext[i].voff + ext[i].len);
	}
	/* An extent past the parent's end has nowhere to go. */
	return diff_common(parent, parent_locator, out, &bs, o, end);
}

/* ---- a differencing child from two raw files ---- */

struct cmp_ctx {
	int base, child;
	uint8_t *tmp;
	uint32_t tmp_len;
};

static int cmp_get(void *ctx, uint64_t voff, uint32_t len, uint8_t *buf, uint8_t *present)
{
	struct cmp_ctx *c = ctx;
	uint32_t nsec = len / IMGW_SECTOR, have = 0;
	int rc;

	if (imgw_is_hole(c->base, voff, len) && imgw_is_hole(c->child, voff, len)) {
		memset(buf, 0, len);
		return IMGW_BLK_ABSENT;
	}
	if (len > c->tmp_len) {
		free(c->tmp);
		c->tmp = imgw_alloc(len);
		c->tmp_len = c->tmp ? len : 0;
		if (!c->tmp)
			return -ENOMEM;
	}
	rc = imgw_pread_all(c->child, buf, len, voff);
	if (!rc)
		rc = imgw_pread_all(c->base, c->tmp, len, voff);
	if (rc)
		return rc;
	for (uint32_t s = 0; s < nsec; s++) {
		uint32_t o = s * IMGW_SECTOR;

		present[s] = memcmp(buf + o, c->tmp + o, IMGW_SECTOR) != 0;
		if (!present[s])
			memset(buf + o, 0, IMGW_SECTOR);
		have += present[s];
	}
	return have == 0 ? IMGW_BLK_ABSENT : have == nsec ? IMGW_BLK_FULL : IMGW_BLK_PARTIAL;
}

int bsw_imgw_diff_raw(const char *parent, const char *parent_locator, const char *base_raw,
		      const char *child_raw, const char *out, const struct bsw_imgw_opts *o)
{
	struct cmp_ctx c = { .base = -1, .child = -1 };
	struct imgw_bsrc bs = { .get = cmp_get, .ctx = &c };
	struct stat sb, sc;
	int rc;

	c.base = open(base_raw, O_RDONLY | O_CLOEXEC);
	c.child = open(child_raw, O_RDONLY | O_CLOEXEC);
	if (c.base < 0 || c.child < 0) {
		rc = -errno;
		goto out;
	}
	if (fstat(c.base, &sb) || fstat(c.child, &sc)) {
		rc = -errno;
		goto out;
	}
	if (sb.st_size != sc.st_size) {
		rc = -EINVAL;
		goto out;
	}
	bs.size = (uint64_t)sb.st_size;
	rc = diff_common(parent, parent_locator, out, &bs, o, 0);
out:
	if (c.base >= 0)
		close(c.base);
	if (c.child >= 0)
		close(c.child);
	free(c.tmp);
	return rc;
}
