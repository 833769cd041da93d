/*
 * hivex access to a hive held in memory: the image is written to an
 * anonymous memfd (no temp file, nothing on disk) and hivex opens it via
 * /proc/self/fd/N.  The only file that includes <hivex.h>.  Used for the
 * export cross-check: the same emitter as our reader, so the two outputs
 * must be byte-identical on every hive hivex accepts.
 */
#include <errno.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "formats/regf/regf_export.h"
#include "formats/regf/regf_int.h"

struct hx_named {
	char *name;
	hive_node_h node;
};

static int cmp_hx(const void *a, const void *b)
{
	const struct hx_named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->node > y->node) - (x->node < y->node);
}

struct hx_val {
	char *name;
	hive_type type;
	char *data;
	size_t len;
	hive_value_h v;
};

static int cmp_hv(const void *a, const void *b)
{
	const struct hx_val *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->v > y->v) - (x->v < y->v);
}

static int hx_key(hive_h *hx, hive_node_h n, char *path, size_t plen, unsigned depth,
		  struct bsw_sbuf *out)
{
	hive_value_h *vals;
	hive_node_h *kids;
	size_t nv = 0, nk = 0, l = strlen(path);
	struct hx_val *va;
	struct hx_named *ka;
	int rc = 0;

	if (depth > BSW_MAX_REGF_DEPTH)
		return 0;
	bsw_regf_emit_key(out, l ? path : "\\");
	vals = hivex_node_values(hx, n);
	if (!vals)
		return -EIO;
	while (vals[nv])
		nv++;
	va = calloc(nv + 1, sizeof(*va));
	if (!va) {
		free(vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nv; i++) {
		va[i].v = vals[i];
		va[i].name = hivex_value_key(hx, vals[i]);
		va[i].data = hivex_value_value(hx, vals[i], &va[i].type, &va[i].len);
		if (!va[i].name || !va[i].data)
			rc = -EIO;
	}
	if (!rc) {
		qsort(va, nv, sizeof(*va), cmp_hv);
		for (size_t i = 0; i < nv; i++)
			bsw_regf_emit_value(out, va[i].name, va[i].type,
					    (const uint8_t *)va[i].data, va[i].len);
		bsw_sbuf_add(out, "\n", 1);
	}
	for (size_t i = 0; i < nv; i++) {
		free(va[i].name);
		free(va[i].data);
	}
	free(va);
	free(vals);
	if (rc)
		return rc;
	kids = hivex_node_children(hx, n);
	if (!kids)
		return -EIO;
	while (kids[nk])
		nk++;
	ka = calloc(nk + 1, sizeof(*ka));
	if (!ka) {
		free(kids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nk; i++) {
		ka[i].node = kids[i];
		ka[i].name = hivex_node_name(hx, kids[i]);
		if (!ka[i].name)
			rc = -EIO;
	}
	if (!rc)
		qsort(ka, nk, sizeof(*ka), cmp_hx);
	for (size_t i = 0; i < nk && !rc && !out->err; i++) {
		size_t nl = strlen(ka[i].name);

		if (l + 1 + nl + 1 > plen)
			continue;
		path[l] = '\\';
		memcpy(path + l + 1, ka[i].name, nl + 1);
		rc = hx_key(hx, ka[i].node, path, plen, depth + 1, out);
		path[l] = 0;
	}
	for (size_t i = 0; i < nk; i++)
		free(ka[i].name);
	free(ka);
	free(kids);
	return rc ? rc : out->err;
}

int bsw_regf_hivex_export(const uint8_t *data, size_t len, struct bsw_sbuf *out)
{
	char fdpath[64], *path;
	hive_h *hx;
	size_t o = 0;
	int fd, rc;

	fd = memfd_create("bsw-hive", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (o < len) {
		ssize_t w = write(fd, data + o, len - o);

		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			close(fd);
			return rc;
		}
		o += (size_t)w;
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	hx = hivex_open(fdpath, 0);
	close(fd); /* hivex holds its own descriptor/mapping */
	if (!hx)
		return -EINVAL;
	path = malloc(65536);
	if (!path) {
		hivex_close(hx);
		return -ENOMEM;
	}
	path[0] = 0;
	bsw_regf_emit_header(out);
	rc = hx_key(hx, hivex_root(hx), path, 65536, 0, out);
	free(path);
	hivex_close(hx);
	return rc;
}
