/* Helpers shared by the container formats, and the raw format. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/cont/cont.h"

int bsw_cont_err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int bsw_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void bsw_cext_clip(struct bsw_cext *e, uint64_t end)
{
	if (e->kind != BSW_CEXT_DATA)
		return;
	if (e->poff >= end)
		e->kind = BSW_CEXT_ZERO;
	else if (e->len > end - e->poff)
		e->len = end - e->poff;
}

void bsw_cont_info_free(struct bsw_cont_info *info)
{
	for (unsigned i = 0; i < info->nr_locators; i++)
		free(info->locator[i]);
	info->nr_locators = 0;
}

/* raw: the file is the disk. */
struct raw {
	uint64_t size;
};

static int raw_probe(const struct bsw_src *src)
{
	(void)src;
	return 1;
}

static int raw_open(void **h, const struct bsw_src *src, const struct bsw_cont_opts *o,
		    struct bsw_fx *fx, struct bsw_cont_info *info, char *err, size_t errlen)
{
	struct raw *r;

	(void)o;
	(void)fx;
	if (src->size < 512)
		return bsw_cont_err(err, errlen, -EINVAL,
				    "file of %llu bytes is too small to be a disk image",
				    (unsigned long long)src->size);
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->size = src->size;
	info->format = "raw";
	info->subformat = "fixed";
	info->virtual_size = src->size;
	info->logical_sector = info->physical_sector = 512;
	*h = r;
	return 0;
}

static int raw_map(void *h, uint64_t off, uint64_t len, struct bsw_cext *e)
{
	struct raw *r = h;

	if (off >= r->size)
		return -EIO;
	e->kind = BSW_CEXT_DATA;
	e->poff = off;
	e->len = BSW_MIN(len, r->size - off);
	return 0;
}

static void raw_close(void *h)
{
	free(h);
}

const struct bsw_cont_ops bsw_raw_ops = {
	.name = "raw",
	.probe = raw_probe,
	.open = raw_open,
	.map = raw_map,
	.close = raw_close,
};
