/*
 * Pass 0: the base block (spec: Base block; Dirty state of a hive).
 *
 * Runs twice, around the log replay (regf_log.c):
 *
 * bsw_regf_pass0_base, before the replay:
 *   tests:   "CREG" (Windows 9x, another format) and "regf" signatures;
 *            at least the 4 KiB base block; checksum (XOR-32 of the first
 *            127 u32, 0 -> 1, -1 -> -2) and primary = secondary sequence
 *            number, which together say whether the hive is dirty.
 *   stops:   not a hive, or shorter than the base block.
 *   collects: the hive's copy (h->buf, h->len: base block + hive bins data
 *            as the base block says, capped at 1 GiB, zero past the end of
 *            the file); r->base, the decoded base block; h->dirty and
 *            r->why (why it is dirty); h->ktm; h->state CLEAN when not
 *            dirty (the replay pass sets it otherwise).
 *
 * bsw_regf_pass0_fields, after the replay, on the base block in force:
 *   tests:   major 1, minor 3..6 (1..2 tolerated, info), file type 0
 *            (1/2/6 = a log), file format 1, hive bins data size a
 *            non-zero multiple of 4096 within the cap, root cell offset
 *            8-aligned inside it, clustering factor 1 (info); a clean file
 *            shorter than base block + bins size; the KTM flag (info).
 *   stops:   a field that makes the hive unusable (no bins pass on it).
 *   collects: nothing more.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/src.h"
#include "formats/regf/regf_int.h"

/* Base block: XOR-32 of the first 508 bytes, 0 -> 1 and -1 -> -2 (note 2). */
uint32_t bsw_regf_checksum(const uint8_t *b)
{
	uint32_t c = 0;

	for (unsigned i = 0; i < 508; i += 4)
		c ^= get_le32(b + i);
	if (c == 0xFFFFFFFFu)
		c = 0xFFFFFFFEu;
	else if (c == 0)
		c = 1;
	return c;
}

bool bsw_regf_parse_base(const uint8_t *b, size_t len, struct bsw_regf_base *o)
{
	memset(o, 0, sizeof(*o));
	if (len < 512 || memcmp(b, "regf", 4))
		return false;
	o->seq1 = get_le32(b + 4);
	o->seq2 = get_le32(b + 8);
	o->written = get_le64(b + 12);
	o->major = get_le32(b + 20);
	o->minor = get_le32(b + 24);
	o->type = get_le32(b + 28);
	o->format = get_le32(b + 32);
	o->root = get_le32(b + 36);
	o->bins = get_le32(b + 40);
	o->cluster = get_le32(b + 44);
	o->flags = get_le32(b + 144);
	o->checksum = get_le32(b + 508);
	o->sum_ok = bsw_regf_checksum(b) == o->checksum;
	return true;
}

int bsw_regf_pass0_base(struct bsw_regf_run *r)
{
	struct bsw_hive *h = r->h;
	const uint8_t *primary = r->primary;
	struct bsw_regf_base *b = &r->base;
	size_t len = r->len, want;

	if (len >= 4 && !memcmp(primary, "CREG", 4)) {
		bsw_regf_bad(h, PR_REGF_0_CREG, (struct bsw_fctx){ 0 });
		h->state = BSW_HIVE_NOT_A_HIVE;
		r->stop = true;
		return 0;
	}
	if (len < 4 || memcmp(primary, "regf", 4)) {
		bsw_regf_bad(h, PR_REGF_0_NOT_HIVE,
			     (struct bsw_fctx){ .str = "no \"regf\" signature" });
		h->state = BSW_HIVE_NOT_A_HIVE;
		r->stop = true;
		return 0;
	}
	if (len < BSW_REGF_BASE_SIZE) {
		bsw_regf_bad(h, PR_REGF_0_TRUNC,
			     (struct bsw_fctx){ .n = BSW_REGF_BASE_SIZE, .n2 = (int64_t)len });
		h->state = BSW_HIVE_CORRUPT;
		r->stop = true;
		return 0;
	}
	bsw_regf_parse_base(primary, len, b);
	/* The copy: base block + hive bins data as the base block says. */
	want = len & ~(size_t)4095;
	if (b->sum_ok && b->bins && !(b->bins & 4095) && b->bins <= BSW_MAX_REGF_BINS)
		want = BSW_REGF_BASE_SIZE + (size_t)b->bins;
	if (want > BSW_REGF_BASE_SIZE + (size_t)BSW_MAX_REGF_BINS)
		want = BSW_REGF_BASE_SIZE + (size_t)BSW_MAX_REGF_BINS;
	if (r->own && want <= len) {
		h->buf = r->own; /* the file image is the hive's copy */
		r->own = NULL;
	} else {
		h->buf = bsw_alloc_aligned(want);
		if (!h->buf)
			return -ENOMEM;
		memcpy(h->buf, primary, want < len ? want : len);
		if (want > len)
			memset(h->buf + len, 0, want - len);
		free(r->own);
		r->own = NULL;
	}
	r->primary = h->buf; /* same base block; own may be gone */
	h->len = want;
	h->ktm = b->flags & 1;

	h->dirty = !b->sum_ok || b->seq1 != b->seq2;
	if (!h->dirty)
		h->state = BSW_HIVE_CLEAN;
	else if (!b->sum_ok)
		snprintf(r->why, sizeof(r->why), "base block checksum 0x%x, expected 0x%x",
			 b->checksum, bsw_regf_checksum(h->buf));
	else
		snprintf(r->why, sizeof(r->why), "sequence numbers %u and %u differ", b->seq1,
			 b->seq2);
	return 0;
}

static void base_bad(struct bsw_hive *h, const char *field, uint32_t v, const char *want)
{
	bsw_regf_bad(h, PR_REGF_0_BASE_BAD,
		     (struct bsw_fctx){ .str = field, .n = v, .str2 = want });
}

/* Fields that make the hive unusable when wrong; returns false if any. */
static bool check_base(struct bsw_hive *h, const struct bsw_regf_base *b)
{
	bool ok = true;

	if (b->major != 1) {
		base_bad(h, "major version", b->major, "expected 1");
		ok = false;
	}
	if (b->minor < 3 || b->minor > 6) {
		if (b->minor < 1 || b->minor > 6) {
			base_bad(h, "minor version", b->minor, "expected 3 to 6");
			ok = false;
		} else {
			bsw_report(h->fx, PR_REGF_0_BASE_ODD,
				   &(struct bsw_fctx){ .str = "minor version",
						       .n = b->minor,
						       .str2 = "NT 3.x format" });
		}
	}
	if (b->type != 0) {
		base_bad(h, "file type", b->type,
			 b->type == 1 || b->type == 2 || b->type == 6 ?
				 "this is a transaction log, not a primary file" :
				 "expected 0 (primary file)");
		ok = false;
	}
	if (b->format != 1) {
		base_bad(h, "file format", b->format, "expected 1 (direct memory load)");
		ok = false;
	}
	if (!b->bins || (b->bins & 4095) || b->bins > BSW_MAX_REGF_BINS) {
		base_bad(h, "hive bins data size", b->bins,
			 "must be a non-zero multiple of 4096 within the cap");
		ok = false;
	} else if (b->root >= b->bins || (b->root & 7)) {
		base_bad(h, "root cell offset", b->root,
			 "must be 8-aligned inside the hive bins data");
		ok = false;
	}
	if (b->cluster != 1)
		bsw_report(h->fx, PR_REGF_0_BASE_ODD,
			   &(struct bsw_fctx){ .str = "clustering factor",
					       .n = b->cluster,
					       .str2 = "expected 1" });
	return ok;
}

int bsw_regf_pass0_fields(struct bsw_regf_run *r)
{
	struct bsw_hive *h = r->h;
	const struct bsw_regf_base *b = &r->base;
	bool ok = check_base(h, b);

	/* a dirty hive's size is the replay's business */
	if (!h->dirty && BSW_REGF_BASE_SIZE + (uint64_t)b->bins > r->len &&
	    b->bins <= BSW_MAX_REGF_BINS)
		bsw_regf_bad(h, PR_REGF_0_TRUNC,
			     (struct bsw_fctx){ .n = BSW_REGF_BASE_SIZE + (int64_t)b->bins,
						.n2 = (int64_t)r->len });
	if (h->ktm)
		bsw_report(h->fx, PR_REGF_0_KTM, &(struct bsw_fctx){ 0 });
	if (!ok)
		r->stop = true;
	return 0;
}
