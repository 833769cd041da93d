/*
 * A sparse image for the container fuzz targets: the input is a list of
 * records [le32 page][le16 len][len bytes], each placing bytes at page*4096
 * of an otherwise zero image whose size is the last byte of the first
 * record's page field (in MiB, at least 1) -- so a small input can describe
 * the headers, tables and tail of a multi-MiB container.
 */
#ifndef BSW_SPARSE_SRC_H
#define BSW_SPARSE_SRC_H

#include <stdint.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/src.h"

#define SPARSE_MAX 256

struct sparse {
	unsigned nr;
	struct {
		uint64_t off;
		const uint8_t *p;
		size_t len;
	} r[SPARSE_MAX];
	uint64_t size;
};

static int64_t sparse_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct sparse *s = ctx;

	if (off >= s->size)
		return 0;
	if (len > s->size - off)
		len = s->size - off;
	memset(buf, 0, len);
	for (unsigned i = 0; i < s->nr; i++) {
		uint64_t a = s->r[i].off, b = a + s->r[i].len;
		uint64_t lo = a > off ? a : off, hi = b < off + len ? b : off + len;

		if (lo < hi)
			memcpy((uint8_t *)buf + (lo - off), s->r[i].p + (lo - a), hi - lo);
	}
	return len;
}

static void sparse_init(struct sparse *s, struct bsw_src *src, const uint8_t *d, size_t n)
{
	size_t i = 0;

	s->nr = 0;
	s->size = 1 << 20;
	while (i + 6 <= n && s->nr < SPARSE_MAX) {
		uint32_t page = get_le32(d + i);
		size_t len = get_le16(d + i + 4);

		i += 6;
		if (len > n - i)
			len = n - i;
		if (s->nr == 0 && (page >> 24))
			s->size = (uint64_t)(page >> 24) << 20;
		page &= 0xffffff;
		s->r[s->nr].off = (uint64_t)page * 4096;
		s->r[s->nr].p = d + i;
		s->r[s->nr].len = len;
		if (s->r[s->nr].off + len > s->size)
			s->size = s->r[s->nr].off + len;
		s->nr++;
		i += len;
	}
	*src = (struct bsw_src){ .pread = sparse_pread, .ctx = s, .size = s->size };
}

#endif
