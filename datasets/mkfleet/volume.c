/*
 * The Windows NTFS volume, filled through libntfs-3g's API (no FUSE mount):
 * directories, files, sparse files and hard links.  Paths use '/'.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

#include "mkfleet.h"

struct vol {
	ntfs_volume *nv;
};

struct vol *vol_open(const char *path)
{
	struct vol *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->nv = ntfs_mount(path, NTFS_MNT_NONE);
	if (!v->nv) {
		fprintf(stderr, "mkfleet: ntfs_mount %s: %s\n", path, strerror(errno));
		free(v);
		return NULL;
	}
	return v;
}

ntfs_volume *vol_nv(struct vol *v)
{
	return v->nv;
}

int vol_close(struct vol *v)
{
	int rc = ntfs_umount(v->nv, FALSE);

	free(v);
	return rc;
}

/* Split "a/b/c" into the parent inode (opened) and the last name. */
static ntfs_inode *parent_of(struct vol *v, const char *path, const char **leaf)
{
	char buf[1024];
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*leaf = path;
		return ntfs_inode_open(v->nv, FILE_root);
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)(slash - path), path);
	*leaf = slash + 1;
	return ntfs_pathname_to_inode(v->nv, NULL, buf);
}

static ntfs_inode *create(struct vol *v, const char *path, mode_t type)
{
	const char *leaf;
	ntfs_inode *dir = parent_of(v, path, &leaf), *ni;
	ntfschar *u = NULL;
	int ul;

	if (!dir)
		return NULL;
	ul = ntfs_mbstoucs(leaf, &u);
	if (ul <= 0) {
		ntfs_inode_close(dir);
		return NULL;
	}
	ni = ntfs_create(dir, const_cpu_to_le32(0), u, ul, type);
	free(u);
	ntfs_inode_close(dir);
	return ni;
}

int vol_mkdirs(struct vol *v, const char *path)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf;; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;
			ntfs_inode *ni;

			*p = 0;
			ni = ntfs_pathname_to_inode(v->nv, NULL, buf);
			if (!ni)
				ni = create(v, buf, S_IFDIR);
			if (!ni) {
				fprintf(stderr, "mkfleet: mkdir %s: %s\n", buf, strerror(errno));
				return -1;
			}
			ntfs_inode_close(ni);
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

static int write_at(ntfs_inode *ni, uint64_t off, const void *d, size_t len)
{
	ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	s64 w;

	if (!na)
		return -1;
	w = len ? ntfs_attr_pwrite(na, off, len, d) : 0;
	ntfs_attr_close(na);
	return w == (s64)len ? 0 : -1;
}

static int make_file(struct vol *v, const char *path, ntfs_inode **out)
{
	char dir[1024];
	const char *slash = strrchr(path, '/');

	if (slash) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		if (vol_mkdirs(v, dir))
			return -1;
	}
	*out = create(v, path, S_IFREG);
	if (!*out) {
		fprintf(stderr, "mkfleet: create %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int vol_write(struct vol *v, const char *path, const void *d, size_t len)
{
	ntfs_inode *ni;
	int rc;

	if (make_file(v, path, &ni))
		return -1;
	rc = write_at(ni, 0, d, len);
	ntfs_inode_close(ni);
	if (rc)
		fprintf(stderr, "mkfleet: write %s: %s\n", path, strerror(errno));
	return rc;
}

/* A file of size bytes whose first len bytes are d; the rest is a hole. */
int vol_write_sparse(struct vol *v, const char *path, uint64_t size, const void *d, size_t len)
{
	ntfs_inode *ni;
	ntfs_attr *na;
	int rc = 0;

	if (make_file(v, path, &ni))
		return -1;
	if (len)
		rc = write_at(ni, 0, d, len);
	na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na || ntfs_attr_truncate(na, size))
		rc = -1;
	if (na)
		ntfs_attr_close(na);
	ntfs_inode_close(ni);
	return rc;
}

int vol_link(struct vol *v, const char *existing, const char *newpath)
{
	ntfs_inode *ni = ntfs_pathname_to_inode(v->nv, NULL, existing), *dir;
	const char *leaf;
	ntfschar *u = NULL;
	int ul, rc = -1;
	char d[1024];
	const char *slash = strrchr(newpath, '/');

	if (!ni)
		return -1;
	if (slash) {
		snprintf(d, sizeof(d), "%.*s", (int)(slash - newpath), newpath);
		vol_mkdirs(v, d);
	}
	dir = parent_of(v, newpath, &leaf);
	ul = ntfs_mbstoucs(leaf, &u);
	if (dir && ul > 0)
		rc = ntfs_link(ni, dir, u, ul);
	free(u);
	if (dir)
		ntfs_inode_close(dir);
	ntfs_inode_close(ni);
	if (rc)
		fprintf(stderr, "mkfleet: link %s -> %s: %s\n", newpath, existing, strerror(errno));
	return rc;
}

int64_t vol_record(struct vol *v, const char *path)
{
	ntfs_inode *ni = ntfs_pathname_to_inode(v->nv, NULL, path);
	int64_t r;

	if (!ni)
		return -1;
	r = ni->mft_no;
	ntfs_inode_close(ni);
	return r;
}

int64_t vol_record_offset(struct vol *v, int64_t rec)
{
	ntfs_volume *nv = v->nv;
	s64 vcn = (rec << nv->mft_record_size_bits) >> nv->cluster_size_bits;
	s64 in = (rec << nv->mft_record_size_bits) & (nv->cluster_size - 1);
	LCN lcn = ntfs_attr_vcn_to_lcn(nv->mft_na, vcn);

	if (lcn < 0)
		return -1;
	return (lcn << nv->cluster_size_bits) + in;
}

/* A volume mounted elsewhere (the copy-on-write device of cow.c). */
struct vol *vol_wrap(struct _ntfs_volume *nv)
{
	struct vol *v = calloc(1, sizeof(*v));

	if (!v) {
		ntfs_umount(nv, FALSE);
		return NULL;
	}
	v->nv = nv;
	return v;
}

static ntfs_attr *open_data(struct vol *v, const char *path, ntfs_inode **ni)
{
	ntfs_attr *na;

	*ni = ntfs_pathname_to_inode(v->nv, NULL, path);
	if (!*ni)
		return NULL;
	na = ntfs_attr_open(*ni, AT_DATA, AT_UNNAMED, 0);
	if (!na) {
		ntfs_inode_close(*ni);
		*ni = NULL;
	}
	return na;
}

/* The whole unnamed $DATA of an existing file (malloc), or NULL. */
uint8_t *vol_read(struct vol *v, const char *path, size_t *len)
{
	ntfs_inode *ni;
	ntfs_attr *na = open_data(v, path, &ni);
	uint8_t *d = NULL;

	if (!na)
		return NULL;
	if (na->data_size >= 0 && na->data_size <= (s64)(512 * MiB) &&
	    (d = malloc((size_t)na->data_size + 1)) &&
	    ntfs_attr_pread(na, 0, na->data_size, d) != na->data_size) {
		free(d);
		d = NULL;
	}
	if (d)
		*len = (size_t)na->data_size;
	ntfs_attr_close(na);
	ntfs_inode_close(ni);
	return d;
}

/* Replace an existing file's contents (truncate, then write). */
int vol_replace(struct vol *v, const char *path, const void *d, size_t len)
{
	ntfs_inode *ni;
	ntfs_attr *na = open_data(v, path, &ni);
	int rc = -1;

	if (!na) {
		fprintf(stderr, "mkfleet: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!ntfs_attr_truncate(na, (s64)len) &&
	    (!len || ntfs_attr_pwrite(na, 0, (s64)len, d) == (s64)len))
		rc = 0;
	ntfs_attr_close(na);
	ntfs_inode_close(ni);
	return rc;
}

/*
 * Rewrite an existing file whose contents were old as d, writing only the
 * 4 KiB pages that differ (and those past the old end), the way a hive
 * writer updates its file in place.
 */
int vol_patch(struct vol *v, const char *path, const uint8_t *old, size_t oldlen, const uint8_t *d,
	      size_t len)
{
	ntfs_inode *ni;
	ntfs_attr *na = open_data(v, path, &ni);
	int rc = 0;

	if (!na) {
		fprintf(stderr, "mkfleet: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (len < oldlen && ntfs_attr_truncate(na, (s64)len))
		rc = -1;
	for (size_t off = 0; off < len && !rc; off += 4096) {
		size_t n = len - off < 4096 ? len - off : 4096;

		if (off + n <= oldlen && !memcmp(old + off, d + off, n))
			continue;
		if (ntfs_attr_pwrite(na, (s64)off, (s64)n, d + off) != (s64)n)
			rc = -1;
	}
	ntfs_attr_close(na);
	ntfs_inode_close(ni);
	if (rc)
		fprintf(stderr, "mkfleet: patch %s: %s\n", path, strerror(errno));
	return rc;
}
