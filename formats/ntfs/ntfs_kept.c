/*
 * Kept forms of $MFT records across processes (ntfs.h, bsw_ntfs_kept_export
 * and _import; scan --cache, docs/sharing.md "Across runs").
 *
 * A kept form (ntfs_records.c) is made for the process that made it: its
 * header and record summaries are host structs, and a damaged record's
 * reason is a pointer to one of the parsers' static strings.  The portable
 * form, all integers little-endian:
 *
 *	u32 record size, u64 first record, u64 count;
 *	each record summary: u64 base, size, alloc; u32 reparse tag,
 *	    first name; u16 seq, links, rflags, hflags, names, visible names;
 *	the entries as in the kept form, except that a reason is
 *	    u8 length and its bytes instead of a pointer.
 *
 * Import reads hostile bytes (a cache file anyone with write access to the
 * cache directory could have made): every count and length is checked
 * against what is left, each entry against the grammar merge_unit reads,
 * and a reason becomes a pointer into a table of this process's own (a
 * bounded number of distinct strings, never freed).  The record summaries
 * carry what a record's bytes could say anyway: the passes after the
 * records pass check them as they check a parsed record's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/vec.h"
#include "formats/ntfs/ntfs_internal.h"

#define MAX_UNIT_RECS 65536u
#define MAX_REASONS 256u
#define MAX_REASON 200u
#define RSUM_BYTES 44u

struct wr {
	uint8_t *b;
	size_t len, alloc;
	bool bad;
};

static void put(struct wr *w, const void *p, size_t n)
{
	if (w->bad || bsw_vec_reserve(&w->b, &w->alloc, w->len + n, 1, SIZE_MAX / 2)) {
		w->bad = true;
		return;
	}
	if (n)
		memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void put_le(struct wr *w, uint64_t x, unsigned n)
{
	uint8_t t[8];
	unsigned i;

	for (i = 0; i < n; i++)
		t[i] = (uint8_t)(x >> (8 * i));
	put(w, t, n);
}

/* Copy n bytes from d to w (what both forms hold alike). */
static const uint8_t *copy(struct ntfs_rd *d, struct wr *w, size_t n)
{
	const uint8_t *p = ntfs_rd_bytes(d, n);

	if (p)
		put(w, p, n);
	return p;
}

static uint64_t copy_le(struct ntfs_rd *d, struct wr *w, unsigned n)
{
	uint64_t x = ntfs_rd_le(d, n);

	if (!d->bad)
		put_le(w, x, n);
	return x;
}

/* ---- reasons: this process's copies, for as long as it runs ---- */

static pthread_mutex_t reasons_lock = PTHREAD_MUTEX_INITIALIZER;
static char reasons[MAX_REASONS][MAX_REASON + 1];
static unsigned nr_reasons;

static const char *intern(const uint8_t *s, size_t n)
{
	const char *r = NULL;
	unsigned i;

	if (!n || n > MAX_REASON || memchr(s, 0, n))
		return NULL;
	pthread_mutex_lock(&reasons_lock);
	for (i = 0; i < nr_reasons && !r; i++)
		if (strlen(reasons[i]) == n && !memcmp(reasons[i], s, n))
			r = reasons[i];
	if (!r && nr_reasons < MAX_REASONS) {
		memcpy(reasons[nr_reasons], s, n);
		reasons[nr_reasons][n] = 0;
		r = reasons[nr_reasons++];
	}
	pthread_mutex_unlock(&reasons_lock);
	return r;
}

/*
 * The entries after the summaries, from d to w.  export: reasons from
 * pointers to strings; else the other way, checking the grammar.
 */
static int entries(struct ntfs_rd *d, struct wr *w, uint64_t cnt, bool export)
{
	uint64_t prev = 0;
	bool first = true;
	unsigned n, i;

	while (d->p < d->end && !d->bad && !w->bad) {
		uint64_t k = copy_le(d, w, 4);
		unsigned state = (unsigned)copy_le(d, w, 1);

		/* one entry per record, in record order (form_record) */
		if (d->bad || k >= cnt || (!first && k <= prev) || state < 1 || state > 3)
			return -EINVAL;
		first = false;
		prev = k;
		if (state == 2) {
			copy_le(d, w, 4);
		} else if (state == 3 && export) {
			const char *s = (const char *)(uintptr_t)ntfs_rd_le(d, 8);
			size_t sl = s ? strlen(s) : 0;

			if (!s || !sl || sl > MAX_REASON)
				return -EINVAL;
			put_le(w, sl, 1);
			put(w, s, sl);
		} else if (state == 3) {
			size_t sl = (size_t)ntfs_rd_le(d, 1);
			const uint8_t *s = ntfs_rd_bytes(d, sl);
			const char *r = s ? intern(s, sl) : NULL;

			if (!r)
				return -EINVAL;
			put_le(w, (uint64_t)(uintptr_t)r, 8);
		}
		n = (unsigned)copy_le(d, w, 2); /* names: parent, namespace, units */
		for (i = 0; i < n && !d->bad; i++) {
			copy(d, w, 9);
			copy(d, w, 2 * (size_t)copy_le(d, w, 1));
		}
		n = (unsigned)copy_le(d, w, 2); /* runs: type, VCN range, mapping pairs */
		for (i = 0; i < n && !d->bad; i++) {
			copy(d, w, 20);
			copy(d, w, (size_t)copy_le(d, w, 4));
		}
	}
	return d->bad || w->bad ? -EINVAL : 0;
}

int bsw_ntfs_kept_export(const void *kept, size_t len, uint8_t **out, size_t *olen)
{
	struct ntfs_rd d = { kept, (const uint8_t *)kept + len, false };
	struct wr w = { 0 };
	struct kept_hdr h;
	uint64_t i;
	int ret;

	*out = NULL;
	*olen = 0;
	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, kept, sizeof(h));
	if (h.magic != KEPT_MAGIC || h.cnt > MAX_UNIT_RECS ||
	    (len - sizeof(h)) / sizeof(struct ntfs_rsum) < h.cnt)
		return -EINVAL;
	d.p += sizeof(h);
	put_le(&w, h.rec_size, 4);
	put_le(&w, h.start, 8);
	put_le(&w, h.cnt, 8);
	for (i = 0; i < h.cnt; i++) {
		struct ntfs_rsum s;

		memcpy(&s, ntfs_rd_bytes(&d, sizeof(s)), sizeof(s));
		put_le(&w, s.base, 8);
		put_le(&w, s.size, 8);
		put_le(&w, s.alloc, 8);
		put_le(&w, s.reparse_tag, 4);
		put_le(&w, s.first_name, 4);
		put_le(&w, s.seq, 2);
		put_le(&w, s.links, 2);
		put_le(&w, s.rflags, 2);
		put_le(&w, s.hflags, 2);
		put_le(&w, s.nr_names, 2);
		put_le(&w, s.nr_vis, 2);
	}
	ret = entries(&d, &w, h.cnt, true);
	if (ret) {
		free(w.b);
		return ret;
	}
	*out = w.b;
	*olen = w.len;
	return 0;
}

int bsw_ntfs_kept_import(const uint8_t *p, size_t len, void **kept, size_t *klen)
{
	struct ntfs_rd d = { p, p + len, false };
	struct wr w = { 0 };
	struct kept_hdr h = { .magic = KEPT_MAGIC };
	uint64_t i;
	size_t body;
	int ret;

	*kept = NULL;
	*klen = 0;
	h.rec_size = (uint32_t)ntfs_rd_le(&d, 4);
	h.start = ntfs_rd_le(&d, 8);
	h.cnt = ntfs_rd_le(&d, 8);
	/* record sizes are powers of two from 256 bytes to 64 KiB (ntfs_boot.c) */
	if (d.bad || h.rec_size < 256 || h.rec_size > 65536 || (h.rec_size & (h.rec_size - 1)) ||
	    !h.cnt || h.cnt > MAX_UNIT_RECS || (size_t)(d.end - d.p) / RSUM_BYTES < h.cnt)
		return -EINVAL;
	put(&w, &h, sizeof(h));
	for (i = 0; i < h.cnt; i++) {
		struct ntfs_rsum s;

		memset(&s, 0, sizeof(s));
		s.base = ntfs_rd_le(&d, 8);
		s.size = ntfs_rd_le(&d, 8);
		s.alloc = ntfs_rd_le(&d, 8);
		s.reparse_tag = (uint32_t)ntfs_rd_le(&d, 4);
		s.first_name = (uint32_t)ntfs_rd_le(&d, 4);
		s.seq = (uint16_t)ntfs_rd_le(&d, 2);
		s.links = (uint16_t)ntfs_rd_le(&d, 2);
		s.rflags = (uint16_t)ntfs_rd_le(&d, 2);
		s.hflags = (uint16_t)ntfs_rd_le(&d, 2);
		s.nr_names = (uint16_t)ntfs_rd_le(&d, 2);
		s.nr_vis = (uint16_t)ntfs_rd_le(&d, 2);
		put(&w, &s, sizeof(s));
	}
	body = w.len;
	ret = entries(&d, &w, h.cnt, false);
	/* as unit_merge keeps them: entries no larger than the unit's records */
	if (!ret && w.len - body > h.cnt * (uint64_t)h.rec_size)
		ret = -EINVAL;
	if (ret) {
		free(w.b);
		return ret;
	}
	*kept = w.b ? w.b : malloc(1);
	*klen = w.len;
	return *kept ? 0 : -ENOMEM;
}
