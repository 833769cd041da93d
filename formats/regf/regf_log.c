/*
 * Log replay, the pass between the two halves of pass 0 (it runs only for
 * a dirty hive), in memory only (the primary copy in h->buf).
 * Old format: base block + "DIRT" bitmap + 512-byte dirty pages.
 * New format (Windows 8.1+): base block + HvLE log entries with Marvin32
 * hashes.  Rules: msuhanov/regf spec, "Format of transaction log files",
 * "Dirty state of a hive" and "Multiple transaction log files".
 *
 * tests:    each log's base block ("regf", checksum, type 1/2 or 6, bins
 *           size, old format: equal sequence numbers); new-format entries
 *           (HvLE, size, bins size, Hash-1 and Hash-2, page references
 *           inside the entry and the hive, sequence numbers without a gap);
 *           old-format DIRT bitmap and its pages present.
 * stops:    never: an unrecoverable hive is still verified as it is.
 * collects: h->buf and h->len rewritten by the replay (base block from a
 *           log when the primary's checksum is wrong; sequence numbers,
 *           bins size and KTM flag from the last entry applied); r->base
 *           decoded again from the result; h->ktm; h->state RECOVERED or
 *           UNRECOVERABLE.  Findings: REG-DIRTY, REG-LOG (ids 0x0403NN:
 *           the log findings kept the pass byte they were given first).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/regf/regf_int.h"

static inline uint32_t rotl32(uint32_t x, unsigned r)
{
	return (x << r) | (x >> (32 - r));
}

#define MARVIN_MIX(lo, hi)                                                                         \
	do {                                                                                       \
		hi ^= lo;                                                                          \
		lo = rotl32(lo, 20);                                                               \
		lo += hi;                                                                          \
		hi = rotl32(hi, 9);                                                                \
		hi ^= lo;                                                                          \
		lo = rotl32(lo, 27);                                                               \
		lo += hi;                                                                          \
		hi = rotl32(hi, 19);                                                               \
	} while (0)

/*
 * Marvin32 (Microsoft's seeded 32-bit-block hash, as published with .NET
 * Core): two 32-bit lanes, each 4-byte block added to the low lane then
 * mixed; the tail padded with 0x80; two final mixes.
 */
uint64_t bsw_regf_marvin32(uint64_t seed, const uint8_t *d, size_t len)
{
	uint32_t lo = (uint32_t)seed, hi = (uint32_t)(seed >> 32), fin;
	size_t i = 0;

	for (; len - i >= 4; i += 4) {
		lo += get_le32(d + i);
		MARVIN_MIX(lo, hi);
	}
	switch (len - i) {
	case 0: fin = 0x80; break;
	case 1: fin = 0x8000u | d[i]; break;
	case 2: fin = 0x800000u | get_le16(d + i); break;
	default:
		fin = 0x80000000u | d[i] | ((uint32_t)d[i + 1] << 8) | ((uint32_t)d[i + 2] << 16);
		break;
	}
	lo += fin;
	MARVIN_MIX(lo, hi);
	MARVIN_MIX(lo, hi);
	return ((uint64_t)hi << 32) | lo;
}

struct logv {
	const struct bsw_buf *b;
	struct bsw_regf_base base;
	bool valid;
	bool newfmt;
	const char *why;
};

static const char *lname(const struct logv *l)
{
	return l->b->name ? l->b->name : "log";
}

/* Spec: old format base block, note 2; new format base block. */
static void classify(struct logv *l)
{
	l->valid = false;
	if (!l->b->len) {
		l->why = "empty";
		return;
	}
	if (!bsw_regf_parse_base(l->b->data, l->b->len, &l->base)) {
		l->why = "no regf base block";
		return;
	}
	if (!l->base.sum_ok) {
		l->why = "base block checksum is wrong";
		return;
	}
	if (l->base.type == 6) {
		l->newfmt = true;
	} else if (l->base.type == 1 || l->base.type == 2) {
		l->newfmt = false;
		if (l->base.seq1 != l->base.seq2) {
			l->why = "sequence numbers differ (log write was interrupted)";
			return;
		}
	} else {
		l->why = "file type is not a transaction log (1, 2 or 6)";
		return;
	}
	if (!l->base.bins || (l->base.bins & 4095) || l->base.bins > BSW_MAX_REGF_BINS) {
		l->why = "hive bins data size is invalid";
		return;
	}
	l->valid = true;
}

static int grow(struct bsw_hive *h, uint32_t bins)
{
	size_t want = BSW_REGF_BASE_SIZE + (size_t)bins;
	uint8_t *n;

	if (want <= h->len)
		return 0;
	n = realloc(h->buf, want);
	if (!n)
		return -ENOMEM;
	memset(n + h->len, 0, want - h->len);
	h->buf = n;
	h->len = want;
	return 0;
}

/*
 * New bins can only come from log pages: a hive may grow by at most the
 * log's size (bounds the memory a hostile log can make us allocate).
 */
static size_t growth_cap(const struct bsw_hive *h, size_t loglen)
{
	return h->len - BSW_REGF_BASE_SIZE + ((loglen + 4095) & ~(size_t)4095);
}

/* Replace the primary's base block with the log's copy (first 512 bytes). */
static void recover_base(struct bsw_hive *h, const struct logv *l)
{
	memcpy(h->buf, l->b->data, 512);
	put_le32(h->buf + 28, 0);
}

static void finish_base(struct bsw_hive *h, uint32_t seq, uint32_t bins)
{
	put_le32(h->buf + 4, seq);
	put_le32(h->buf + 8, seq);
	put_le32(h->buf + 40, bins);
	put_le32(h->buf + 508, bsw_regf_checksum(h->buf));
	/* A hive can shrink: the image ends with its last bin. */
	if (BSW_REGF_BASE_SIZE + (size_t)bins < h->len)
		h->len = BSW_REGF_BASE_SIZE + (size_t)bins;
}

/*
 * Old format: DIRT at 512, one bit per 512-byte page of the hive bins data,
 * dirty pages from the next 512-byte boundary in bit order.
 */
static int replay_old(struct bsw_hive *h, struct logv *l, unsigned *pages, const char **why)
{
	const uint8_t *d = l->b->data;
	size_t len = l->b->len, bmbytes = l->base.bins / 4096, p;
	uint32_t bins = l->base.bins;
	int rc;

	if (len < 516 || memcmp(d + 512, "DIRT", 4)) {
		*why = "no DIRT dirty vector at offset 512";
		return 0;
	}
	if (bins > growth_cap(h, len)) {
		*why = "hive bins data size grows past what the log can fill";
		return 0;
	}
	if (516 + bmbytes > len) {
		*why = "dirty vector bitmap extends past the end of the log";
		return 0;
	}
	p = (516 + bmbytes + 511) & ~(size_t)511;
	/* First pass: all pages present?  Apply nothing from a short log. */
	{
		size_t need = 0;

		for (size_t i = 0; i < bmbytes; i++)
			need += (size_t)__builtin_popcount(d[516 + i]);
		if (p + need * 512 > len) {
			*why = "log holds fewer dirty pages than its bitmap marks";
			return 0;
		}
	}
	rc = grow(h, bins);
	if (rc)
		return rc;
	for (size_t i = 0; i < bmbytes * 8; i++) {
		if (!(d[516 + i / 8] & (1u << (i % 8))))
			continue;
		memcpy(h->buf + BSW_REGF_BASE_SIZE + i * 512, d + p, 512);
		p += 512;
		(*pages)++;
	}
	finish_base(h, l->base.seq1, bins);
	return 1;
}

/*
 * New format entries from offset 512 (spec: Log entries, notes 1-11).
 * Applies entries with sequence number *expect, *expect + 1, ... and stops
 * at the first invalid entry or gap.  Returns the entries applied or -ENOMEM.
 */
static int replay_new(struct bsw_hive *h, struct logv *l, uint32_t *expect, uint32_t *bins,
		      unsigned *pages, uint32_t *flags)
{
	const uint8_t *d = l->b->data;
	size_t len = l->b->len, off = 512;
	int applied = 0;
	unsigned n = 0;

	while (off + 40 <= len && n++ < BSW_MAX_REGF_LOG_ENTRIES) {
		const uint8_t *e = d + off;
		uint32_t size = get_le32(e + 4), seq = get_le32(e + 12);
		uint32_t eb = get_le32(e + 16), np = get_le32(e + 20);
		const char *stop = NULL;
		size_t dp;

		if (memcmp(e, "HvLE", 4))
			break; /* end of entries (remnants are normal) */
		if (size < 40 || (size & 511) || size > len - off)
			stop = "entry size is invalid";
		else if (!eb || (eb & 4095) || eb > BSW_MAX_REGF_BINS)
			stop = "hive bins data size is not a multiple of 4096";
		else if (eb > growth_cap(h, len))
			stop = "hive bins data size grows past what the log can fill";
		else if (bsw_regf_marvin32(BSW_REGF_MARVIN_SEED, e + 40, size - 40) !=
			 get_le64(e + 24))
			stop = "Hash-1 (Marvin32 of the pages) mismatch";
		else if (bsw_regf_marvin32(BSW_REGF_MARVIN_SEED, e, 32) != get_le64(e + 32))
			stop = "Hash-2 (Marvin32 of the header) mismatch";
		else if ((uint64_t)np * 8 > size - 40)
			stop = "dirty page count exceeds the entry";
		if (stop) {
			bsw_report(h->fx, PR_REGF_3_LOG_STOP,
				   &(struct bsw_fctx){
					   .str = lname(l), .n = n - 1, .off = off, .str2 = stop });
			break;
		}
		if (seq < *expect) { /* already applied to the primary */
			off += size;
			continue;
		}
		if (seq != *expect)
			break;
		/* Validate every page before changing anything. */
		dp = 40 + (size_t)np * 8;
		for (uint32_t i = 0; i < np && !stop; i++) {
			uint32_t po = get_le32(e + 40 + 8 * i);
			uint32_t ps = get_le32(e + 44 + 8 * i);

			if ((uint64_t)po + ps > eb || ps > size - dp)
				stop = "dirty page lies outside the hive or the entry";
			else
				dp += ps;
		}
		if (stop) {
			bsw_report(h->fx, PR_REGF_3_LOG_STOP,
				   &(struct bsw_fctx){
					   .str = lname(l), .n = n - 1, .off = off, .str2 = stop });
			break;
		}
		if (grow(h, eb))
			return -ENOMEM;
		dp = 40 + (size_t)np * 8;
		for (uint32_t i = 0; i < np; i++) {
			uint32_t po = get_le32(e + 40 + 8 * i);
			uint32_t ps = get_le32(e + 44 + 8 * i);

			memcpy(h->buf + BSW_REGF_BASE_SIZE + po, e + dp, ps);
			dp += ps;
			(*pages)++;
		}
		*bins = eb;
		*flags = get_le32(e + 8) & 1;
		(*expect)++;
		applied++;
		off += size;
	}
	return applied;
}

/* Dirty and nothing replayed: the hive as Windows would load it is lost. */
static void unrecoverable(struct bsw_hive *h, const char *why, const char *logwhy)
{
	bsw_report(h->fx, PR_REGF_3_UNRECOVERABLE,
		   &(struct bsw_fctx){ .str = why, .str2 = logwhy, .damage = true });
}

/*
 * Replay logs into h->buf (the primary copy); pb: the primary's base
 * block.  Returns 1 if recovered, 0 if unrecoverable, -ENOMEM.
 */
static int replay(struct bsw_hive *h, const struct bsw_regf_base *pb, const struct bsw_buf *logs,
		  unsigned nr_logs, const char *why)
{
	struct logv lv[8];
	unsigned n = nr_logs < 8 ? nr_logs : 8, nvalid = 0, pages = 0;
	char used[160] = "";
	int total = 0;

	for (unsigned i = 0; i < n; i++) {
		lv[i] = (struct logv){ .b = &logs[i] };
		classify(&lv[i]);
		if (!lv[i].valid && logs[i].len)
			bsw_report(h->fx, PR_REGF_3_LOG_BAD,
				   &(struct bsw_fctx){ .str = lname(&lv[i]), .str2 = lv[i].why });
		nvalid += lv[i].valid;
	}
	if (!nvalid) {
		unrecoverable(h, why, n ? "no valid transaction log" : "no transaction log given");
		return 0;
	}

	/* New format: earlier entries first (by the logs' sequence numbers). */
	{
		struct logv *nl[8];
		unsigned nn = 0;
		uint32_t expect, bins = 0, flags = pb->flags & 1;

		for (unsigned i = 0; i < n; i++)
			if (lv[i].valid && lv[i].newfmt)
				nl[nn++] = &lv[i];
		for (unsigned i = 1; i < nn; i++)
			for (unsigned j = i; j && nl[j]->base.seq1 < nl[j - 1]->base.seq1; j--) {
				struct logv *t = nl[j];

				nl[j] = nl[j - 1];
				nl[j - 1] = t;
			}
		if (nn && !pb->sum_ok) {
			/* Note 6 / dual logs: only the latest log, base from it. */
			nl[0] = nl[nn - 1];
			nn = 1;
			recover_base(h, nl[0]);
			expect = nl[0]->base.seq1;
		} else {
			/*
			 * Note 7: the first entry must carry the log's primary
			 * sequence number, not less than the primary's
			 * secondary one (Windows may skip numbers between
			 * flushes of the primary).
			 */
			expect = pb->seq2;
			if (nn && nl[0]->base.seq1 > expect)
				expect = nl[0]->base.seq1;
		}
		for (unsigned i = 0; i < nn; i++) {
			int r = replay_new(h, nl[i], &expect, &bins, &pages, &flags);

			if (r < 0)
				return r;
			if (r) {
				size_t o = strlen(used);

				snprintf(used + o, sizeof(used) - o, "%s%s", o ? " + " : "",
					 lname(nl[i]));
			}
			total += r;
		}
		if (total) {
			uint32_t fl = get_le32(h->buf + 144);

			put_le32(h->buf + 144, (fl & ~1u) | flags);
			finish_base(h, expect - 1, bins);
		}
	}

	/*
	 * Old format: logs whose Last written timestamp matches the primary's
	 * (or the first bin's when the base block is bad) first, then the
	 * higher sequence number; the next one is tried when a replay is
	 * refused (Windows 8 and later also fall back to .LOG2).
	 */
	if (!total) {
		uint64_t ts = pb->sum_ok ? pb->written :
					   (h->len >= 4096 + 32 ? get_le64(h->buf + 4096 + 20) : 0);
		bool tried[8] = { false };

		for (unsigned round = 0; round < n && !total; round++) {
			struct logv *best = NULL;
			unsigned bi = 0;
			const char *w2 = NULL;
			int r;

			for (unsigned i = 0; i < n; i++) {
				bool m, bm;

				if (tried[i] || !lv[i].valid || lv[i].newfmt)
					continue;
				m = lv[i].base.written == ts;
				bm = best && best->base.written == ts;
				if (!best || (m && !bm) ||
				    (m == bm && lv[i].base.seq1 > best->base.seq1)) {
					best = &lv[i];
					bi = i;
				}
			}
			if (!best)
				break;
			tried[bi] = true;
			if (!pb->sum_ok)
				recover_base(h, best);
			r = replay_old(h, best, &pages, &w2);
			if (r < 0)
				return r;
			if (!r) {
				bsw_report(h->fx, PR_REGF_3_LOG_BAD,
					   &(struct bsw_fctx){ .str = lname(best), .str2 = w2 });
			} else {
				total = 1;
				snprintf(used, sizeof(used), "%s", lname(best));
			}
		}
	}
	if (!total) {
		unrecoverable(h, why, "no log entry applies to this hive");
		return 0;
	}
	bsw_report(h->fx, PR_REGF_0_DIRTY,
		   &(struct bsw_fctx){ .str = why, .str2 = used, .n = total, .n2 = pages });
	return 1;
}

int bsw_regf_pass_replay(struct bsw_regf_run *r)
{
	struct bsw_hive *h = r->h;
	int rc;

	if (!h->dirty)
		return 0;
	rc = replay(h, &r->base, r->logs, r->nr_logs, r->why);
	if (rc < 0)
		return rc;
	h->state = rc ? BSW_HIVE_RECOVERED : BSW_HIVE_UNRECOVERABLE;
	bsw_regf_parse_base(h->buf, h->len, &r->base);
	h->ktm = r->base.flags & 1;
	return 0;
}
