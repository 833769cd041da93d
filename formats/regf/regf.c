/*
 * Registry hive loading: the pass table and its driver, and what every
 * pass shares (cell access, names, structural findings).
 *
 * A load runs the passes of regf_passes[] in order, e2fsck style
 * (e2fsck_passes[] in e2fsck/e2fsck.c): each pass reads what the earlier
 * ones collected (struct bsw_regf_run, struct bsw_hive) and adds its own;
 * the driver stops after a pass that set r->stop, or on -ENOMEM.  The
 * head comment of each pass file lists the tests it applies and the data
 * it collects.  Every check cites the msuhanov/regf specification
 * ("Windows registry file format specification.md", sections named).
 * A problem is a finding, never an error return.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/utf8.h"
#include "formats/regf/regf_int.h"

/*
 * The order is Windows' own: the base block says whether the hive is
 * dirty; a dirty hive is recovered from its logs before anything else is
 * read (and the logs may replace the base block itself); only then are the
 * base block's fields, the bins and the tree of the result verified.
 */
static const struct bsw_regf_pass regf_passes[] = {
	{ "0 base block", bsw_regf_pass0_base },
	{ "log replay", bsw_regf_pass_replay },
	{ "0 base block fields", bsw_regf_pass0_fields },
	{ "1 hive bins and cells", bsw_regf_pass1_bins },
	{ "2 key tree", bsw_regf_pass2_tree },
	{ "3 accounting", bsw_regf_pass3_account },
	{ NULL, NULL },
};

void bsw_regf_bad(struct bsw_hive *h, enum bsw_problem p, struct bsw_fctx c)
{
	c.damage = true;
	h->corrupt = true;
	bsw_report(h->fx, p, &c);
}

const uint8_t *bsw_regf_cell(const struct bsw_hive *h, uint32_t off, uint32_t *size)
{
	const uint8_t *p;
	int32_t sz;

	if (!h->alloc || off >= h->bins || (off & 7) || !bsw_regf_bit(h->alloc, off))
		return NULL;
	p = h->buf + BSW_REGF_BASE_SIZE + off;
	sz = (int32_t)get_le32(p);
	/* The bins pass only marks cells whose size is sane and in the bin. */
	*size = (uint32_t)(-(int64_t)sz) - 4;
	return p + 4;
}

/*
 * Names: "compressed" = Latin-1 (extended ASCII), else UTF-16LE.  A NUL
 * is kept as C0 80 (regf.h) in both; a character that does not fit ends
 * the name, as in bsw_utf16le_to_utf8().
 */
void bsw_regf_name(const uint8_t *p, size_t n, bool ascii, char *out, size_t outlen)
{
	size_t o = 0;

	if (!outlen)
		return;
	if (!ascii) {
		bsw_utf16le_to_utf8(p, n / 2, out, outlen, BSW_U16_KEEP_NUL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char t[4];
		size_t k;

		if (p[i] && p[i] < 0x80) { /* ASCII: a byte each */
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)p[i];
			continue;
		}
		if (p[i]) {
			k = bsw_utf8_put(t, p[i]);
		} else {
			t[0] = (char)0xC0;
			t[1] = (char)0x80;
			k = 2;
		}
		if (o + k >= outlen)
			break;
		memcpy(out + o, t, k);
		o += k;
	}
	out[o] = 0;
}

const char *bsw_hive_state_name(enum bsw_hive_state s)
{
	switch (s) {
	case BSW_HIVE_CLEAN: return "clean";
	case BSW_HIVE_RECOVERED: return "dirty and recovered";
	case BSW_HIVE_UNRECOVERABLE: return "unrecoverable";
	case BSW_HIVE_CORRUPT: return "corrupt";
	case BSW_HIVE_NOT_A_HIVE: return "not a hive";
	}
	return "?";
}

/* own: primary's buffer (malloc) when the hive may keep it, else NULL. */
static int hive_load(struct bsw_hive **out, const uint8_t *primary, uint8_t *own, size_t len,
		     const struct bsw_buf *logs, unsigned nr_logs, struct bsw_fx *fx)
{
	struct bsw_regf_run r = {
		.primary = primary,
		.own = own,
		.len = len,
		.logs = logs,
		.nr_logs = nr_logs,
	};
	int rc = 0;

	*out = NULL;
	r.h = calloc(1, sizeof(*r.h));
	if (!r.h) {
		free(own);
		return -ENOMEM;
	}
	r.h->fx = fx;
	for (const struct bsw_regf_pass *p = regf_passes; p->run; p++) {
		rc = p->run(&r);
		if (rc || r.stop)
			break;
	}
	free(r.own); /* a pass that stopped early may leave it */
	free(r.sk);
	if (rc) {
		bsw_hive_free(r.h);
		return rc;
	}
	/* Any structural finding: corrupt, unless nothing could be replayed
	 * (that says more) or it is not a hive at all. */
	if (r.h->corrupt && r.h->state != BSW_HIVE_UNRECOVERABLE &&
	    r.h->state != BSW_HIVE_NOT_A_HIVE)
		r.h->state = BSW_HIVE_CORRUPT;
	*out = r.h;
	return 0;
}

int bsw_hive_load(struct bsw_hive **out, const uint8_t *primary, size_t len,
		  const struct bsw_buf *logs, unsigned nr_logs, struct bsw_fx *fx)
{
	return hive_load(out, primary, NULL, len, logs, nr_logs, fx);
}

int bsw_hive_load_take(struct bsw_hive **out, uint8_t *primary, size_t len,
		       const struct bsw_buf *logs, unsigned nr_logs, struct bsw_fx *fx)
{
	return hive_load(out, primary, primary, len, logs, nr_logs, fx);
}

void bsw_hive_free(struct bsw_hive *h)
{
	if (!h)
		return;
	if (!h->borrowed) {
		free(h->buf);
		free(h->alloc);
	}
	free(h->seen);
	for (unsigned i = 0; i < BSW_REGF_KIDX_NR; i++)
		free(h->kidx[i].slot);
	free(h);
}

int bsw_hive_clone(const struct bsw_hive *src, struct bsw_hive **out)
{
	struct bsw_hive *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return -ENOMEM;
	/* everything read-only of the origin; its own cache, scratch, no collector */
	*h = *src;
	memset(h->kidx, 0, sizeof(h->kidx));
	h->kidx_next = 0;
	h->seen = NULL;
	h->fx = NULL;
	h->borrowed = true;
	if (src->seen) {
		h->seen = calloc(bsw_regf_words(h->bins), sizeof(uint64_t));
		if (!h->seen) {
			free(h);
			return -ENOMEM;
		}
	}
	*out = h;
	return 0;
}

enum bsw_hive_state bsw_hive_state(const struct bsw_hive *h)
{
	return h->state;
}

const uint8_t *bsw_hive_data(const struct bsw_hive *h, size_t *len)
{
	*len = h->len;
	return h->buf;
}

bool bsw_hive_ktm_pending(const struct bsw_hive *h)
{
	return h->ktm;
}
