/*
 * Family order of a sweep (family.h).  Each image's chain is opened for
 * its headers only (the container and partition table: a few KiB).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/common/finding.h"
#include "scanner/disk.h"
#include "scanner/family.h"
#include "scanner/share.h"

struct member {
	char *path;	/* as given (owned by the caller's v) */
	char *root;	/* canonical path of the root layer */
	unsigned depth; /* layers in the chain */
};

char *bsw_family_canon(const char *p)
{
	char *r = realpath(p, NULL);

	return r ? r : strdup(p);
}

int bsw_family_probe_open(struct bsw_family_probe *p, const char *path, uint64_t mem_cap)
{
	struct bsw_disk_opts o = { .mem_cap = mem_cap };
	char err[256];

	memset(p, 0, sizeof(*p));
	p->st_ok = !stat(path, &p->st);
	/* only regular files and block devices: a FIFO would block */
	if (!p->st_ok || !(S_ISREG(p->st.st_mode) || S_ISBLK(p->st.st_mode)) ||
	    bsw_fx_create(&p->fx) || bsw_disk_open(&p->d, path, &o, p->fx, err, sizeof(err))) {
		bsw_family_probe_close(p);
		return -1;
	}
	return 0;
}

void bsw_family_probe_close(struct bsw_family_probe *p)
{
	bsw_disk_close(p->d);
	bsw_fx_destroy(p->fx);
	p->d = NULL;
	p->fx = NULL;
}

/*
 * The chain's headers only: a container whose tables need more than this
 * is swept on its own (its own scan applies --mem-cap and says why).
 */
#define PROBE_MEM_CAP (64ull << 20)

static int probe(struct member *m)
{
	struct bsw_family_probe p;
	unsigned i, n;

	m->depth = 1;
	if (bsw_family_probe_open(&p, m->path, PROBE_MEM_CAP)) {
		m->root = bsw_family_canon(m->path);
		return m->root ? 0 : -ENOMEM;
	}
	n = bsw_disk_nr_layers(p.d);
	m->depth = n;
	for (i = 1; i < n; i++)
		bsw_share_set_parent(bsw_disk_layer_token(p.d, i));
	m->root = bsw_family_canon(n ? bsw_disk_layer(p.d, n - 1)->path : m->path);
	bsw_family_probe_close(&p);
	return m->root ? 0 : -ENOMEM;
}

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = strcmp(x->root, y->root);

	if (c)
		return c;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return strcmp(x->path, y->path);
}

int bsw_family_order(char **v, size_t n, const atomic_int *stop)
{
	struct member *m;
	size_t i;
	int rc = 0;

	if (n < 2)
		return 0;
	m = calloc(n, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (i = 0; i < n && !rc; i++) {
		m[i].path = v[i];
		if (stop && atomic_load_explicit(stop, memory_order_relaxed))
			break;
		rc = probe(&m[i]);
	}
	if (!rc) {
		size_t probed = i;

		/* the rest, unprobed, keep their order after the families */
		for (; i < n; i++)
			m[i].path = v[i];
		qsort(m, probed, sizeof(*m), cmp_member);
		for (i = 0; i < n; i++)
			v[i] = m[i].path;
	}
	for (i = 0; i < n; i++)
		free(m[i].root);
	free(m);
	return rc;
}
