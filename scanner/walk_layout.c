/*
 * Hyper-V checkpoints and VMDK extent files in a directory walk
 * (walk_layout.h).
 *
 * Hyper-V keeps a VM's disk as base.vhdx plus one differencing .avhdx per
 * checkpoint, each the child of the one before; the VM runs on the newest
 * one.  The chain is read through that newest file only.  Branches left by
 * applying an older checkpoint are heads too: of the heads that share a
 * base, the newest (mtime) is the current state.  Which file is whose
 * parent comes from the containers (bsw_disk_open), never from names.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "formats/common/vec.h"
#include "scanner/disk.h"
#include "scanner/disk_extents.h"
#include "scanner/walk_layout.h"

#define COLLAPSE_MAX 4096 /* images of one folder examined at most */
/* files (layers, extent files) of those images remembered: 16 MiB */
#define COVERED_MAX (1u << 20)

struct id {
	uint64_t dev, ino;
};

struct cand {
	bool avhdx, open;
	struct id self, root;
	struct timespec mtime;
};

static bool ends_with(const char *s, const char *ext)
{
	size_t l = strlen(s), e = strlen(ext);

	return l > e && !strcasecmp(s + l - e, ext);
}

static bool id_in(const struct id *set, size_t n, struct id x)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].dev == x.dev && set[i].ino == x.ino)
			return true;
	return false;
}

static int add_id(struct id **set, size_t *n, size_t *cap, const char *path)
{
	struct stat st;

	if (!path || stat(path, &st))
		return 0;
	if (bsw_vec_reserve(set, cap, *n + 1, sizeof(**set), COVERED_MAX))
		return -1;
	(*set)[(*n)++] = (struct id){ st.st_dev, st.st_ino };
	return 0;
}

static bool newer(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec != b->tv_sec ? a->tv_sec > b->tv_sec : a->tv_nsec > b->tv_nsec;
}

size_t bsw_walk_collapse(char **v, size_t from, size_t nr)
{
	struct id *covered = NULL;
	size_t nc = 0, cap = 0, out = from;
	struct cand *c;
	bool any = false;

	if (nr <= from || nr - from > COLLAPSE_MAX)
		return nr;
	for (size_t i = from; i < nr; i++)
		if (ends_with(v[i], ".avhdx") || ends_with(v[i], ".avhd") ||
		    ends_with(v[i], ".vmdk"))
			any = true;
	if (!any)
		return nr;
	c = calloc(nr - from, sizeof(*c));
	if (!c)
		return nr;
	for (size_t i = from; i < nr; i++) {
		struct cand *k = &c[i - from];
		struct bsw_disk *d;
		struct bsw_fx *fx;
		struct stat st;
		char err[256];
		unsigned nl;

		k->avhdx = ends_with(v[i], ".avhdx") || ends_with(v[i], ".avhd");
		if (!k->avhdx && !ends_with(v[i], ".vmdk"))
			continue;
		if (stat(v[i], &st))
			continue;
		k->self = (struct id){ st.st_dev, st.st_ino };
		k->mtime = st.st_mtim;
		if (bsw_fx_create(&fx))
			continue;
		if (bsw_disk_open(&d, v[i], NULL, fx, err, sizeof(err))) {
			bsw_fx_destroy(fx);
			continue;
		}
		k->open = true;
		nl = bsw_disk_nr_layers(d);
		for (unsigned l = 0; l < nl; l++) {
			const char *f;

			/* a descriptor's extent files are never disks of their own */
			for (unsigned x = 0; (f = bsw_disk_layer_file(d, l, x)); x++)
				if (add_id(&covered, &nc, &cap, f))
					goto stop;
			/* below a checkpoint, every layer is part of that VM's chain */
			if (k->avhdx && l &&
			    add_id(&covered, &nc, &cap, bsw_disk_layer(d, l)->path))
				goto stop;
		}
		{
			const struct bsw_layer_info *r = bsw_disk_layer(d, nl - 1);

			k->root = (struct id){ r->dev, r->ino };
		}
stop:
		bsw_disk_close(d);
		bsw_fx_destroy(fx);
	}
	for (size_t i = from; i < nr; i++) {
		struct cand *k = &c[i - from];
		bool drop = false;

		struct stat st;

		if (!stat(v[i], &st))
			drop = id_in(covered, nc, (struct id){ st.st_dev, st.st_ino });
		/* of the checkpoint heads over one base, only the newest */
		if (!drop && k->avhdx && k->open)
			for (size_t j = from; j < nr && !drop; j++) {
				struct cand *o = &c[j - from];

				if (j == i || !o->avhdx || !o->open || o->root.dev != k->root.dev ||
				    o->root.ino != k->root.ino || id_in(covered, nc, o->self))
					continue;
				if (newer(&o->mtime, &k->mtime) ||
				    (!newer(&k->mtime, &o->mtime) && j > i))
					drop = true;
			}
		if (drop)
			free(v[i]);
		else
			v[out++] = v[i];
	}
	free(covered);
	free(c);
	return out;
}
