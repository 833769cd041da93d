/*
 * A chain layer made of several files (disk_extents.h): a VMDK descriptor
 * and its extent files, laid end to end in the order the descriptor lists
 * them (VMware Virtual Disk Format 1.1, "Extent Descriptions").
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/common/bytes.h"
#include "formats/vmdk/vmdk.h"
#include "scanner/disk_extents.h"

struct xt_ext {
	enum bsw_vmdk_ext_type type;
	uint64_t vstart, vlen; /* bytes of the virtual disk */
	uint64_t foff;	       /* FLAT: byte offset in the file */
	struct bsw_xfile f;
	bool opened;
	void *sp; /* SPARSE: the extent's handle */
};

struct bsw_disk_xt {
	unsigned nr;
	struct xt_ext *x;
};

void bsw_disk_xt_close(struct bsw_disk_xt *xt)
{
	if (!xt)
		return;
	for (unsigned i = 0; i < xt->nr; i++) {
		struct xt_ext *x = &xt->x[i];

		if (x->sp)
			bsw_vmdk_ops.close(x->sp);
		if (x->opened) {
			if (x->f.dfd >= 0)
				close(x->f.dfd);
			close(x->f.fd);
		}
		free(x->f.priv);
		free(x->f.path);
	}
	free(xt->x);
	free(xt);
}

/*
 * Extent files are named relative to the descriptor; a name that climbs
 * out of its folder ("..") or is absolute would let a hostile descriptor
 * read any file on the machine as disk data.
 */
static bool name_ok(const char *n)
{
	const char *p = n;

	if (!*n || n[0] == '/' || n[0] == '\\' || strchr(n, ':'))
		return false;
	while (*p) {
		size_t l = strcspn(p, "/\\");

		if (l == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += l;
		if (*p)
			p++;
	}
	return true;
}

int bsw_disk_xt_open(struct bsw_disk_xt **out, const struct bsw_src *src, const char *path,
		     bsw_xfile_opener opener, void *octx, uint64_t mem_cap, struct bsw_fx *fx,
		     struct bsw_cont_info *ci, char *err, size_t errlen)
{
	struct bsw_vmdk_desc d;
	struct bsw_disk_xt *xt = NULL;
	char *dircopy = NULL;
	const char *dir;
	uint64_t v = 0;
	int rc;

	if (!bsw_vmdk_is_descriptor(src))
		return 0;
	rc = bsw_vmdk_load_descriptor(src, &d, err, errlen);
	if (rc)
		return rc;
	xt = calloc(1, sizeof(*xt));
	dircopy = strdup(path);
	if (xt)
		xt->x = calloc(d.nr, sizeof(*xt->x));
	if (!xt || !dircopy || !xt->x) {
		rc = -ENOMEM;
		goto fail;
	}
	dir = dirname(dircopy);
	for (unsigned i = 0; i < d.nr; i++) {
		const struct bsw_vmdk_extent *e = &d.ext[i];
		struct xt_ext *x = &xt->x[xt->nr++];
		char *p;

		x->type = e->type;
		x->vstart = v;
		x->vlen = e->sectors * 512;
		x->f.fd = x->f.dfd = -1;
		v += x->vlen;
		if (e->type == BSW_VMDK_EXT_ZERO)
			continue;
		if (!name_ok(e->file)) {
			rc = bsw_cont_err(
				err, errlen, -EINVAL,
				"VMDK extent %u names '%.200s': absolute, or outside the descriptor's folder",
				i, e->file);
			goto fail;
		}
		if (asprintf(&p, "%s/%s", dir, e->file) < 0) {
			rc = -ENOMEM;
			goto fail;
		}
		for (char *s = p; *s; s++)
			if (*s == '\\')
				*s = '/';
		rc = opener(octx, p, &x->f, err, errlen);
		free(p);
		if (rc)
			goto fail;
		x->opened = true;
		if (e->type == BSW_VMDK_EXT_FLAT) {
			x->foff = e->offset * 512;
			if (!bsw_range_ok(x->foff, x->vlen, x->f.size)) {
				rc = bsw_cont_err(
					err, errlen, -EINVAL,
					"VMDK flat extent %s holds %llu bytes, fewer than the %llu at offset %llu its descriptor line says",
					x->f.path, (unsigned long long)x->f.size,
					(unsigned long long)x->vlen, (unsigned long long)x->foff);
				goto fail;
			}
		} else {
			/* the layer's memory cap is shared by its extents */
			struct bsw_cont_opts o = {
				.mem_cap = BSW_MAX((mem_cap ? mem_cap : BSW_MEM_CAP_DEFAULT) / d.nr,
						   1),
			};
			char e2[384];

			rc = bsw_vmdk_extent_open(&x->sp, &x->f.src, &o, fx, e->sectors,
						  d.parent_cid != BSW_VMDK_NO_PARENT, e2,
						  sizeof(e2));
			if (rc) {
				bsw_cont_err(err, errlen, rc, "VMDK extent %s: %s", x->f.path,
					     e2[0] ? e2 : strerror(-rc));
				goto fail;
			}
		}
	}
	rc = bsw_vmdk_desc_info(&d, ci, err, errlen);
	if (rc)
		goto fail;
	ci->virtual_size = v;
	bsw_vmdk_desc_free(&d);
	free(dircopy);
	*out = xt;
	return 1;
fail:
	bsw_vmdk_desc_free(&d);
	free(dircopy);
	bsw_disk_xt_close(xt);
	return rc;
}

int bsw_disk_xt_map(struct bsw_disk_xt *xt, uint64_t off, uint64_t len, struct bsw_cext *e, int *fd,
		    int *dfd)
{
	unsigned lo = 0, hi = xt->nr;
	struct xt_ext *x;
	uint64_t rel;
	int rc;

	/* the last extent starting at or before off */
	while (hi - lo > 1) {
		unsigned mid = lo + (hi - lo) / 2;

		if (xt->x[mid].vstart <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (!xt->nr)
		return -EIO;
	x = &xt->x[lo];
	if (off < x->vstart || off - x->vstart >= x->vlen)
		return -EIO;
	rel = off - x->vstart;
	len = BSW_MIN(len, x->vlen - rel);
	switch (x->type) {
	case BSW_VMDK_EXT_ZERO:
		e->kind = BSW_CEXT_ZERO;
		e->len = len;
		return 0;
	case BSW_VMDK_EXT_FLAT:
		e->kind = BSW_CEXT_DATA;
		e->poff = x->foff + rel;
		e->len = len;
		break;
	case BSW_VMDK_EXT_SPARSE:
		rc = bsw_vmdk_ops.map(x->sp, rel, len, e);
		if (rc)
			return rc;
		break;
	}
	*fd = x->f.fd;
	*dfd = x->f.dfd;
	return 0;
}

const char *bsw_disk_xt_file(const struct bsw_disk_xt *xt, unsigned i)
{
	for (unsigned k = 0; xt && k < xt->nr; k++)
		if (xt->x[k].f.path && !i--)
			return xt->x[k].f.path;
	return NULL;
}
