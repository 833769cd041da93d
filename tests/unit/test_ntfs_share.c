/*
 * Parsed $MFT records shared between volumes (formats/ntfs/ntfs.h, struct
 * bsw_ntfs_share; scanner/checks/ntfs_share_glue.c over scanner/share.c).
 * tests/images/ntfs/win.img.xz is read through a memory source with an
 * origin op that says which "layer" serves each byte: a base layer, or a
 * child's own layer where the child changed bytes.  Every volume opened
 * with sharing must equal the same volume opened without it - findings
 * in report order and sorted, every record's stat, path and names, the
 * names, pool, kids, issues, summaries and computed bitmap - while a
 * volume whose units were kept reads far fewer bytes; a child's changed
 * units are read and parsed (its changes show), its other units are not;
 * units holding $MFTMirr copies, unshareable layers and a cache too small
 * for a form are never taken from the cache; the record and names caps
 * cut a kept volume where they cut it unshared.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"
#include "scanner/checks/bootfiles.h"
#include "scanner/checks/triage.h"
#include "scanner/share.h"
#include "t_helpers.h"
#include "ntfs_img.h"

/*
 * A volume in memory whose bytes come from layer base_tok at the same
 * offset, except the 512-byte sectors marked in own, which come from
 * own_tok (a child's own layer).  Counts the bytes read.
 */
struct layered {
	const uint8_t *data;
	size_t len;
	uint64_t base_tok, own_tok;
	const uint8_t *own; /* one byte per sector; NULL: none */
	uint64_t bytes_read;
};

static int64_t lay_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct layered *l = ctx;

	if (off >= l->len)
		return 0;
	if (len > l->len - off)
		len = l->len - off;
	memcpy(buf, l->data + off, len);
	l->bytes_read += len;
	return (int64_t)len;
}

static int64_t lay_origin(void *ctx, uint64_t off, uint64_t len, uint64_t *tok, uint64_t *poff)
{
	struct layered *l = ctx;
	uint64_t end, s;
	bool own;

	*tok = 0;
	*poff = 0;
	if (!len || off >= l->len)
		return 0;
	end = BSW_MIN(off + len, (uint64_t)l->len);
	own = l->own && l->own[off / 512];
	for (s = off / 512 + 1; s * 512 < end; s++)
		if ((l->own && l->own[s]) != own)
			break;
	end = BSW_MIN(end, s * 512);
	*tok = own ? l->own_tok : l->base_tok;
	*poff = off;
	return (int64_t)(end - off);
}

/* Counts what the reader asks of the share it is given. */
struct counting {
	struct bsw_ntfs_share sh;
	const struct bsw_ntfs_share *in;
	unsigned gets, hits, keeps;
};

static bool c_shareable(void *ctx, uint64_t tok)
{
	struct counting *c = ctx;

	return c->in->shareable(c->in->ctx, tok);
}

static void *c_get(void *ctx, uint64_t tok, const uint8_t key[16], const void **val, size_t *len)
{
	struct counting *c = ctx;
	void *ref = c->in->get(c->in->ctx, tok, key, val, len);

	c->gets++;
	c->hits += ref != NULL;
	return ref;
}

static void c_put(void *ctx, void *ref)
{
	struct counting *c = ctx;

	c->in->put(c->in->ctx, ref);
}

static void c_keep(void *ctx, uint64_t tok, const uint8_t key[16], void *val, size_t len)
{
	struct counting *c = ctx;

	c->keeps++;
	c->in->keep(c->in->ctx, tok, key, val, len);
}

static const struct bsw_ntfs_share *glue; /* the scanner's */

static void counting_init(struct counting *c, uint32_t unit_bytes)
{
	memset(c, 0, sizeof(*c));
	c->in = glue;
	c->sh = (struct bsw_ntfs_share){ .ctx = c,
					 .shareable = c_shareable,
					 .get = c_get,
					 .put = c_put,
					 .keep = c_keep,
					 .unit_bytes = unit_bytes };
}

struct opened {
	struct layered lay;
	struct bsw_src src;
	struct bsw_fx *fx;
	struct bsw_ntfs *v;
	int ret;
};

static void vopen(struct opened *o, const uint8_t *data, const uint8_t *own, uint64_t base_tok,
		  uint64_t own_tok, const struct bsw_ntfs_share *sh,
		  const struct bsw_ntfs_opts *extra)
{
	struct bsw_ntfs_opts opts = { .run_checks = true,
				      .critical = bsw_boot_files,
				      .nr_critical = bsw_nr_boot_files };

	if (extra)
		opts = *extra;
	opts.share = sh;
	memset(o, 0, sizeof(*o));
	o->lay = (struct layered){
		.data = data, .len = img_len, .base_tok = base_tok, .own_tok = own_tok, .own = own
	};
	o->src = (struct bsw_src){ .pread = lay_pread,
				   .origin = lay_origin,
				   .ctx = &o->lay,
				   .size = img_len,
				   .name = "mem" };
	bsw_fx_create(&o->fx);
	o->ret = bsw_ntfs_open(&o->v, &o->src, o->fx, &opts);
}

static void vclose(struct opened *o)
{
	bsw_ntfs_close(o->v);
	bsw_fx_destroy(o->fx);
	memset(o, 0, sizeof(*o));
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool finding_eq(const struct bsw_finding *a, const struct bsw_finding *b)
{
	return a->problem == b->problem && a->verdict == b->verdict && a->severity == b->severity &&
	       a->off == b->off && a->lba == b->lba && a->rec == b->rec && a->cell == b->cell &&
	       a->n == b->n && a->n2 == b->n2 && str_eq(a->str, b->str) &&
	       str_eq(a->str2, b->str2) && str_eq(a->scope, b->scope) && a->seq == b->seq;
}

static unsigned findings_diff(struct bsw_fx *a, struct bsw_fx *b)
{
	size_t i;

	if (bsw_fx_count(a) != bsw_fx_count(b))
		return 1;
	for (i = 0; i < bsw_fx_count(a); i++)
		if (!finding_eq(bsw_fx_get(a, i), bsw_fx_get(b, i))) {
			char ma[512], mb[512];

			bsw_finding_message(bsw_fx_get(a, i), ma, sizeof(ma));
			bsw_finding_message(bsw_fx_get(b, i), mb, sizeof(mb));
			fprintf(stderr, "  finding %zu: %s (seq %u)\n   vs: %s (seq %u)\n", i, ma,
				bsw_fx_get(a, i)->seq, mb, bsw_fx_get(b, i)->seq);
			return 1;
		}
	return 0;
}

struct names_buf {
	char s[4096];
	size_t len;
};

static int names_cb(void *arg, uint64_t parent, const char *name, unsigned ns)
{
	struct names_buf *nb = arg;
	int n = snprintf(nb->s + nb->len, sizeof(nb->s) - nb->len, "%" PRIu64 ":%u:%s;", parent, ns,
			 name);

	if (n > 0 && (size_t)n < sizeof(nb->s) - nb->len)
		nb->len += (size_t)n;
	return 0;
}

/* What a scan can see of every record: stat, path and names. */
static unsigned records_diff(struct bsw_ntfs *a, struct bsw_ntfs *b)
{
	uint64_t r, n = bsw_ntfs_nr_records(a);
	unsigned bad = 0;

	if (n != bsw_ntfs_nr_records(b))
		return 1;
	for (r = 0; r < n; r++) {
		struct bsw_ntfs_stat sa, sb;
		struct names_buf na = { .len = 0 }, nb = { .len = 0 };
		char pa[1024], pb[1024];
		int ra, rb;

		memset(&sa, 0, sizeof(sa));
		memset(&sb, 0, sizeof(sb));
		ra = bsw_ntfs_stat(a, r, &sa);
		rb = bsw_ntfs_stat(b, r, &sb);
		if (ra != rb || memcmp(&sa, &sb, sizeof(sa)))
			bad++;
		pa[0] = pb[0] = 0;
		ra = bsw_ntfs_path(a, r, pa, sizeof(pa));
		rb = bsw_ntfs_path(b, r, pb, sizeof(pb));
		if (ra != rb || strcmp(pa, pb))
			bad++;
		na.s[0] = nb.s[0] = 0;
		ra = bsw_ntfs_names(a, r, names_cb, &na);
		rb = bsw_ntfs_names(b, r, names_cb, &nb);
		if (ra != rb || strcmp(na.s, nb.s))
			bad++;
	}
	return bad;
}

/* The records pass's and names pass's state, member by member. */
static unsigned state_diff(const struct bsw_ntfs *a, const struct bsw_ntfs *b)
{
	unsigned bad = 0;
	size_t i;

	bad += a->nr_recs != b->nr_recs || memcmp(a->recs, b->recs, a->nr_recs * sizeof(*a->recs));
	bad += a->nr_names != b->nr_names ||
	       memcmp(a->names, b->names, a->nr_names * sizeof(*a->names));
	bad += a->pool_len != b->pool_len ||
	       memcmp(a->pool, b->pool, a->pool_len * sizeof(*a->pool)) ||
	       memcmp(a->upool, b->upool, a->pool_len * sizeof(*a->upool));
	bad += a->nr_kids != b->nr_kids || memcmp(a->kids, b->kids, a->nr_kids * sizeof(*a->kids));
	bad += a->nr_issues != b->nr_issues;
	for (i = 0; i < a->nr_issues && i < b->nr_issues; i++)
		bad += a->issues[i].rec != b->issues[i].rec ||
		       !str_eq(a->issues[i].why, b->issues[i].why) ||
		       a->issues[i].stride != b->issues[i].stride;
	bad += !a->cbmap != !b->cbmap || a->cbmap_clusters != b->cbmap_clusters ||
	       a->cbmap_marked != b->cbmap_marked ||
	       (a->cbmap && memcmp(a->cbmap, b->cbmap, (a->cbmap_clusters + 7) / 8));
	bad += a->nr_xlink != b->nr_xlink ||
	       memcmp(a->xlink, b->xlink, a->nr_xlink * sizeof(a->xlink[0]));
	bad += a->mirr_use != b->mirr_use;
	return bad;
}

/* b (shared) must equal a (on its own) in everything a caller can see. */
static void same(struct opened *a, struct opened *b, const char *what)
{
	unsigned d;

	CHECK(a->ret == b->ret, "%s: open %d vs %d", what, a->ret, b->ret);
	CHECK(!findings_diff(a->fx, b->fx), "%s: findings in report order (%zu vs %zu)", what,
	      bsw_fx_count(a->fx), bsw_fx_count(b->fx));
	if (!a->ret && !b->ret) {
		d = records_diff(a->v, b->v);
		CHECK(!d, "%s: %u record stat/path/names differ", what, d);
		d = state_diff(a->v, b->v);
		CHECK(!d, "%s: %u members of the volume state differ", what, d);
	}
	/* sorted, on copies: a is compared again */
	{
		struct bsw_fx *ca = NULL, *cb = NULL;

		bsw_fx_create(&ca);
		bsw_fx_create(&cb);
		bsw_fx_merge(ca, a->fx);
		bsw_fx_merge(cb, b->fx);
		bsw_fx_finish(ca);
		bsw_fx_finish(cb);
		CHECK(!findings_diff(ca, cb), "%s: findings after bsw_fx_finish", what);
		bsw_fx_destroy(ca);
		bsw_fx_destroy(cb);
	}
}

static void mark_own(uint8_t *own, uint64_t off, uint64_t len)
{
	uint64_t s;

	for (s = off / 512; s * 512 < off + len; s++)
		own[s] = 1;
}

#define UNIT (16u << 10) /* 16 records a unit: many units in 393 records */

static uint64_t nr_units(struct bsw_ntfs *v)
{
	uint64_t u = UNIT / v->bs.rec_size;

	return (bsw_ntfs_nr_records(v) + u - 1) / u;
}

static uint64_t tok_base, tok_child, tok_mirr, tok_names, tok_nochk;

/* The base: kept by the first open, taken from the cache by the second. */
static void test_base(void)
{
	struct opened a, b, c;
	struct counting cnt;
	uint64_t units, mft;

	vopen(&a, img, NULL, tok_base, 0, NULL, NULL);
	CHECK(a.ret == 0, "base opens: %d", a.ret);
	if (a.ret)
		return;
	units = nr_units(a.v);
	mft = bsw_ntfs_nr_records(a.v) * bsw_ntfs_record_size(a.v);

	counting_init(&cnt, UNIT);
	vopen(&b, img, NULL, tok_base, 0, &cnt.sh, NULL);
	CHECK(cnt.gets == units && cnt.hits == 0 && cnt.keeps == units,
	      "first open: %u lookups, %u hits, %u kept of %" PRIu64 " units", cnt.gets, cnt.hits,
	      cnt.keeps, units);
	CHECK(b.lay.bytes_read == a.lay.bytes_read,
	      "first open reads as much (%" PRIu64 " vs %" PRIu64 ")", b.lay.bytes_read,
	      a.lay.bytes_read);
	same(&a, &b, "base, cache empty");
	vclose(&b);

	counting_init(&cnt, UNIT);
	vopen(&c, img, NULL, tok_base, 0, &cnt.sh, NULL);
	CHECK(cnt.gets == units && cnt.hits == units && cnt.keeps == 0,
	      "second open: %u lookups, %u hits, %u kept", cnt.gets, cnt.hits, cnt.keeps);
	CHECK(c.lay.bytes_read + mft * 9 / 10 <= a.lay.bytes_read,
	      "second open skips the $MFT: %" PRIu64 " bytes read, %" PRIu64
	      " unshared ($MFT %" PRIu64 ")",
	      c.lay.bytes_read, a.lay.bytes_read, mft);
	fprintf(stderr,
		"base: %" PRIu64 " bytes read alone, %" PRIu64
		" with the cache filled ($MFT %" PRIu64 " bytes, %" PRIu64 " units)\n",
		a.lay.bytes_read, c.lay.bytes_read, mft, units);
	same(&a, &c, "base, cache filled");
	vclose(&c);

	/* the scanner's own unit (1 MiB: the whole $MFT here) through the glue */
	vopen(&b, img, NULL, tok_base, 0, glue, NULL);
	vopen(&c, img, NULL, tok_base, 0, glue, NULL);
	same(&a, &c, "base, the glue's units");
	CHECK(c.lay.bytes_read + mft * 9 / 10 <= a.lay.bytes_read,
	      "the glue's units are kept and used (%" PRIu64 " bytes)", c.lay.bytes_read);
	vclose(&b);
	vclose(&c);

	/* a layer no disk reads as a parent is neither kept nor looked up */
	counting_init(&cnt, UNIT);
	vopen(&b, img, NULL, tok_child, 0, &cnt.sh, NULL);
	CHECK(cnt.gets == 0 && cnt.keeps == 0, "unshared layer: %u lookups", cnt.gets);
	same(&a, &b, "unshared layer");
	vclose(&b);
	vclose(&a);
}

/* Rename the file of record off's first $FILE_NAME "from" to "to" (same length). */
static bool rename_rec(uint8_t *r, const char *from, const char *to)
{
	uint32_t at = find_attr(r, 0x30), val, k, n = (uint32_t)strlen(from);

	if (!at)
		return false;
	val = at + get_le16(r + at + 0x14);
	if (r[val + 0x40] != n)
		return false;
	for (k = 0; k < n; k++)
		if (get_le16(r + val + 0x42 + 2 * k) != (uint8_t)from[k])
			return false;
	for (k = 0; k < n; k++)
		put_le16(r + val + 0x42 + 2 * k, (uint8_t)to[k]);
	return true;
}

/*
 * A child of the base that changed three records in its own layer: a torn
 * user file, a renamed file, hal.dll's runs pointing into ntoskrnl.exe.
 */
static void test_child(void)
{
	struct opened a, b, base;
	struct counting cnt;
	uint64_t ads, nums, hal, krnl, krnl_lcn = 0, off[3], rec, units, dirty = 0, j;
	uint8_t *copy, *own;
	unsigned bad, i;

	vopen(&base, img, NULL, tok_base, 0, NULL, NULL);
	if (base.ret || bsw_ntfs_lookup(base.v, "\\Users\\Public\\Documents\\f7.txt", &ads) ||
	    bsw_ntfs_lookup(base.v, "\\Users\\Public\\packed\\numbers.txt", &nums) ||
	    bsw_ntfs_lookup(base.v, "\\Windows\\System32\\hal.dll", &hal) ||
	    bsw_ntfs_lookup(base.v, "\\Windows\\System32\\ntoskrnl.exe", &krnl)) {
		CHECK(0, "child: setup");
		vclose(&base);
		return;
	}
	{
		struct ntfs_stream fs;

		if (!bsw_ntfs_load_stream(base.v, krnl, NTFS_AT_DATA, NULL, &fs)) {
			krnl_lcn = fs.runs.r[0].lcn;
			bsw_ntfs_stream_free(&fs);
		}
	}
	off[0] = rec_off(base.v, ads);
	off[1] = rec_off(base.v, nums);
	off[2] = rec_off(base.v, hal);
	units = nr_units(base.v);
	copy = malloc(img_len);
	own = calloc(img_len / 512 + 1, 1);
	memcpy(copy, img, img_len);
	copy[off[0] + 1022] ^= 0xFF; /* torn: stride 1 no longer ends with the USN */
	bsw_ntfs_fixup(copy + off[1], 1024, &bad);
	CHECK(rename_rec(copy + off[1], "numbers.txt", "numbars.txt"), "child: rename");
	protect(copy + off[1], 1024);
	bsw_ntfs_fixup(copy + off[2], 1024, &bad);
	{
		uint8_t *r = copy + off[2];
		uint32_t at = find_attr(r, 0x80);
		uint8_t *rl = r + at + get_le16(r + at + 0x20);
		unsigned lb = rl[0] & 0xF, ob = rl[0] >> 4, k;

		for (k = 0; k < ob; k++)
			rl[1 + lb + k] = (uint8_t)(krnl_lcn >> (8 * k));
		CHECK(at && ob >= 2 && !(rl[lb + ob] & 0x80), "child: run offset fits");
	}
	protect(copy + off[2], 1024);
	for (i = 0; i < 3; i++)
		mark_own(own, off[i], 1024);
	for (j = 0; j < units; j++) {
		uint64_t u = UNIT / 1024;
		bool d = (ads / u == j) || (nums / u == j) || (hal / u == j);

		dirty += d;
	}

	vopen(&a, copy, own, tok_base, tok_child, NULL, NULL);
	counting_init(&cnt, UNIT);
	vopen(&b, copy, own, tok_base, tok_child, &cnt.sh, NULL);
	CHECK(b.ret == 0 && bsw_fx_nr(b.fx, PR_NTFS_1_FIXUP) == 1 &&
		      bsw_fx_nr(b.fx, PR_NTFS_2_BMAP_XLINK_BOOT) >= 1,
	      "child: its torn record and cross-link are found");
	CHECK(b.ret == 0 && !bsw_ntfs_lookup(b.v, "\\Users\\Public\\packed\\numbars.txt", &rec) &&
		      rec == nums &&
		      bsw_ntfs_lookup(b.v, "\\Users\\Public\\packed\\numbers.txt", &rec) == -ENOENT,
	      "child: its rename shows");
	CHECK(!bsw_ntfs_lookup(base.v, "\\Users\\Public\\packed\\numbers.txt", &rec),
	      "base: keeps its name");
	CHECK(cnt.hits == units - dirty && cnt.keeps == 0 && cnt.gets == units - dirty,
	      "child: %u of %" PRIu64 " units from the cache (%" PRIu64 " changed), %u kept",
	      cnt.hits, units, dirty, cnt.keeps);
	CHECK(b.lay.bytes_read < a.lay.bytes_read, "child: reads less (%" PRIu64 " vs %" PRIu64 ")",
	      b.lay.bytes_read, a.lay.bytes_read);
	same(&a, &b, "child");
	vclose(&a);
	vclose(&b);
	vclose(&base);
	free(copy);
	free(own);
}

/*
 * Records 0-3 damaged in a base: read through $MFTMirr.  The units holding
 * them are never kept (the mirror's bytes are not in their key); the rest are.
 */
static void test_mirror(void)
{
	struct opened a, b, base;
	struct counting cnt;
	uint64_t off, units;
	uint8_t *copy;
	unsigned i;

	vopen(&base, img, NULL, tok_base, 0, NULL, NULL);
	if (base.ret) {
		CHECK(0, "mirror: setup");
		return;
	}
	off = rec_off(base.v, 0);
	units = nr_units(base.v);
	vclose(&base);
	copy = malloc(img_len);
	memcpy(copy, img, img_len);
	for (i = 0; i < 4; i++)
		memset(copy + off + i * 1024 + 100, 0x5A, 1000);
	vopen(&a, copy, NULL, tok_mirr, 0, NULL, NULL);
	CHECK(a.ret == 0 && bsw_fx_nr(a.fx, PR_NTFS_2_MFT_HEAD) == 1, "mirror: read through it");
	counting_init(&cnt, UNIT);
	vopen(&b, copy, NULL, tok_mirr, 0, &cnt.sh, NULL);
	same(&a, &b, "mirror, cache empty");
	CHECK(cnt.keeps == units - 1, "mirror: %u of %" PRIu64 " units kept", cnt.keeps, units);
	vclose(&b);
	counting_init(&cnt, UNIT);
	vopen(&b, copy, NULL, tok_mirr, 0, &cnt.sh, NULL);
	same(&a, &b, "mirror, cache filled");
	CHECK(cnt.hits == units - 1 && cnt.keeps == 0, "mirror: %u hits", cnt.hits);
	vclose(&b);
	vclose(&a);
	free(copy);
}

/* The record cap and the memory budget cut a kept volume where they cut it alone. */
static void test_caps(void)
{
	struct bsw_ntfs_opts o = { .run_checks = true,
				   .critical = bsw_boot_files,
				   .nr_critical = bsw_nr_boot_files };
	struct opened a, b;
	struct counting cnt;
	static const uint64_t caps[] = { 100, 24 };

	for (unsigned i = 0; i < 2; i++) {
		char what[64];

		o.max_records = caps[i];
		o.mem_cap = 0;
		vopen(&a, img, NULL, tok_base, 0, NULL, &o);
		counting_init(&cnt, UNIT);
		vopen(&b, img, NULL, tok_base, 0, &cnt.sh, &o);
		snprintf(what, sizeof(what), "max_records %" PRIu64, caps[i]);
		same(&a, &b, what);
		CHECK(bsw_fx_nr(b.fx, PR_NTFS_1_MFT_CAP) == 1 && cnt.hits > 0,
		      "%s: capped, %u units from the cache", what, cnt.hits);
		vclose(&a);
		vclose(&b);
	}
	o.max_records = 0;
	o.mem_cap = 40 * 1024;
	vopen(&a, img, NULL, tok_base, 0, NULL, &o);
	counting_init(&cnt, UNIT);
	vopen(&b, img, NULL, tok_base, 0, &cnt.sh, &o);
	same(&a, &b, "mem_cap 40 KiB");
	CHECK(cnt.hits > 0, "mem_cap: %u units from the cache", cnt.hits);
	vclose(&a);
	vclose(&b);
	/*
	 * run_checks off: no computed bitmap, the kept runlists are skipped;
	 * units kept by such a volume still carry them for one with checks.
	 */
	o.mem_cap = 0;
	o.run_checks = false;
	vopen(&a, img, NULL, tok_nochk, 0, NULL, &o);
	counting_init(&cnt, UNIT);
	vopen(&b, img, NULL, tok_nochk, 0, &cnt.sh, &o);
	same(&a, &b, "without checks, cache empty");
	CHECK(cnt.keeps == nr_units(b.v), "without checks: %u kept", cnt.keeps);
	vclose(&a);
	vclose(&b);
	counting_init(&cnt, UNIT);
	vopen(&b, img, NULL, tok_nochk, 0, &cnt.sh, &o);
	vopen(&a, img, NULL, tok_nochk, 0, NULL, &o);
	same(&a, &b, "without checks, cache filled");
	vclose(&a);
	vclose(&b);
	o.run_checks = true;
	vopen(&a, img, NULL, tok_nochk, 0, NULL, &o);
	counting_init(&cnt, UNIT);
	vopen(&b, img, NULL, tok_nochk, 0, &cnt.sh, &o);
	CHECK(cnt.hits == nr_units(b.v), "with checks from units kept without: %u hits", cnt.hits);
	same(&a, &b, "with checks from units kept without");
	vclose(&a);
	vclose(&b);
}

/* The names budget runs out inside a unit taken from the cache. */
static void test_names_cap(void)
{
	struct bsw_ntfs_opts o = { .run_checks = true,
				   .critical = bsw_boot_files,
				   .nr_critical = bsw_nr_boot_files };
	struct opened a, b, base;
	struct counting cnt;
	uint64_t docs, r;
	uint8_t *copy;
	unsigned i, bad;
	char path[64];

	vopen(&base, img, NULL, tok_base, 0, NULL, NULL);
	if (base.ret || bsw_ntfs_lookup(base.v, "\\Users\\Public\\Documents", &docs)) {
		CHECK(0, "names cap: setup");
		vclose(&base);
		return;
	}
	copy = malloc(img_len);
	memcpy(copy, img, img_len);
	for (i = 0; i < 80; i++) {
		uint64_t off;

		snprintf(path, sizeof(path), "\\Users\\Public\\Documents\\f%u.txt", i + 1);
		if (bsw_ntfs_lookup(base.v, path, &r))
			continue;
		off = rec_off(base.v, r);
		bsw_ntfs_fixup(copy + off, 1024, &bad);
		add_long_name(copy + off, docs | (uint64_t)base.v->recs[docs].seq << 48);
		protect(copy + off, 1024);
	}
	vclose(&base);
	/* kept at the default budget, then opened under 56 KiB */
	counting_init(&cnt, UNIT);
	vopen(&b, copy, NULL, tok_names, 0, &cnt.sh, NULL);
	vclose(&b);
	o.mem_cap = 56 * 1024;
	vopen(&a, copy, NULL, tok_names, 0, NULL, &o);
	counting_init(&cnt, UNIT);
	vopen(&b, copy, NULL, tok_names, 0, &cnt.sh, &o);
	CHECK(a.ret == 0 && bsw_fx_nr(a.fx, PR_NTFS_1_MFT_CAP) == 1,
	      "names cap: the budget cuts the names (%d)", a.ret);
	CHECK(cnt.hits > 0, "names cap: %u units from the cache", cnt.hits);
	same(&a, &b, "names cap");
	vclose(&a);
	vclose(&b);
	free(copy);
}

/* A cache too small for one form keeps nothing; the volume is the same. */
static void test_small_cache(void)
{
	struct opened a, b;
	struct counting cnt;
	uint64_t tok;

	bsw_share_fini();
	bsw_share_init(512);
	tok = bsw_share_layer(1, 100, img_len, 0, NULL);
	bsw_share_set_parent(tok);
	vopen(&a, img, NULL, tok, 0, NULL, NULL);
	counting_init(&cnt, UNIT);
	vopen(&b, img, NULL, tok, 0, &cnt.sh, NULL);
	vclose(&b);
	counting_init(&cnt, UNIT);
	vopen(&b, img, NULL, tok, 0, &cnt.sh, NULL);
	CHECK(cnt.hits == 0 && cnt.gets > 0, "small cache: %u hits", cnt.hits);
	same(&a, &b, "small cache");
	vclose(&a);
	vclose(&b);
}

/* A share whose every lookup finds a value that is not a stream's. */
static void *junk_get(void *ctx, uint64_t tok, const uint8_t key[16], const void **val, size_t *len)
{
	static const uint8_t junk[64] = { 'S', 'T', 'M', '1', 0xff, 0xff, 0xff, 0x7f };

	*val = junk;
	*len = sizeof(junk);
	return (void *)junk;
}

static void junk_put(void *ctx, void *ref)
{
}

static void junk_keep(void *ctx, uint64_t tok, const uint8_t key[16], void *val, size_t len)
{
	free(val);
}

/*
 * File keys through the kept descriptions of file records (ntfs_share.c):
 * a family's second volume keys its files without reading their records,
 * with the same keys as a volume that reads them; a child whose record or
 * data is its own gets its own key.
 */
static void test_streams(void)
{
	static const char *const files[] = { "\\Windows\\System32\\hal.dll",
					     "\\Windows\\System32\\ntoskrnl.exe",
					     "\\Windows\\System32\\config\\SYSTEM" };
	struct counting cnt, jc;
	const struct bsw_ntfs_share junk = { .ctx = &jc,
					     .shareable = c_shareable,
					     .get = junk_get,
					     .put = junk_put,
					     .keep = junk_keep };
	uint8_t key[3][16], k2[16], *copy, *own;
	uint64_t rec[3], tok, t2, before, hal_lcn = 0;
	struct opened a, b;
	unsigned i, bad;

	vopen(&a, img, NULL, tok_base, 0, NULL, NULL);
	for (i = 0; i < 3; i++)
		if (a.ret || bsw_ntfs_lookup(a.v, files[i], &rec[i]) ||
		    bsw_ntfs_file_key(a.v, rec[i], NULL, key[i], &tok, NULL) || tok != tok_base) {
			CHECK(0, "streams: setup (%s)", files[i]);
			vclose(&a);
			return;
		}
	{
		struct ntfs_stream fs;

		if (!bsw_ntfs_load_stream(a.v, rec[0], NTFS_AT_DATA, NULL, &fs)) {
			hal_lcn = fs.runs.nr ? fs.runs.r[0].lcn : 0;
			bsw_ntfs_stream_free(&fs);
		}
	}
	vclose(&a);

	/* first volume: reads the records and keeps their descriptions */
	counting_init(&jc, UNIT);
	counting_init(&cnt, UNIT);
	vopen(&a, img, NULL, tok_base, 0, NULL, NULL);
	for (i = 0; i < 3; i++) {
		CHECK(!bsw_ntfs_file_key(a.v, rec[i], NULL, k2, &tok, &cnt.sh) &&
			      !memcmp(k2, key[i], 16),
		      "streams: first key of %s as without sharing", files[i]);
	}
	CHECK(cnt.gets == 3 && cnt.keeps == 3, "streams: 3 looked up (%u), 3 kept (%u)", cnt.gets,
	      cnt.keeps);
	vclose(&a);

	/* second volume: the same keys, no record read */
	counting_init(&cnt, UNIT);
	vopen(&a, img, NULL, tok_base, 0, NULL, NULL);
	before = a.lay.bytes_read;
	for (i = 0; i < 3; i++)
		CHECK(!bsw_ntfs_file_key(a.v, rec[i], NULL, k2, &tok, &cnt.sh) &&
			      !memcmp(k2, key[i], 16) && tok == tok_base,
		      "streams: kept key of %s", files[i]);
	CHECK(cnt.hits == 3 && cnt.keeps == 0 && a.lay.bytes_read == before,
	      "streams: 3 hits (%u), nothing kept (%u), %" PRIu64 " bytes read", cnt.hits,
	      cnt.keeps, a.lay.bytes_read - before);
	/* a value that is not a description is not used */
	for (i = 0; i < 3; i++)
		CHECK(!bsw_ntfs_file_key(a.v, rec[i], NULL, k2, &tok, &junk) &&
			      !memcmp(k2, key[i], 16),
		      "streams: a forged value is not taken for %s", files[i]);

	/* the kept form's check: runs sorted, apart, not empty; lengths exact */
	{
		uint8_t f[40 + 2 * 24] = { 0 };

		put_le32(f, 0x314d5453);
		put_le32(f + 4, 2);
		put_le64(f + 40, 0);
		put_le64(f + 56, 4); /* vcn 0-3 */
		put_le64(f + 64, 4);
		put_le64(f + 80, 2); /* vcn 4-5 */
		CHECK(!bsw_ntfs_stream_kept_check(f, sizeof(f)), "streams: a good form passes");
		CHECK(bsw_ntfs_stream_kept_check(f, sizeof(f) - 1) == -EINVAL,
		      "streams: a short form is refused");
		put_le64(f + 64, 3); /* overlaps */
		CHECK(bsw_ntfs_stream_kept_check(f, sizeof(f)) == -EINVAL,
		      "streams: overlapping runs are refused");
		put_le64(f + 64, 4);
		put_le64(f + 80, 0); /* empty */
		CHECK(bsw_ntfs_stream_kept_check(f, sizeof(f)) == -EINVAL,
		      "streams: an empty run is refused");
		put_le64(f + 80, 2);
		f[14] = 1; /* resident with runs */
		CHECK(bsw_ntfs_stream_kept_check(f, sizeof(f)) == -EINVAL,
		      "streams: a resident form with runs is refused");
	}

	/* a child: hal.dll's record is its own (its data now at ntoskrnl's
	 * clusters), SYSTEM's first sector its own; ntoskrnl.exe untouched */
	copy = malloc(img_len);
	own = calloc(img_len / 512 + 1, 1);
	memcpy(copy, img, img_len);
	{
		uint64_t off = rec_off(a.v, rec[0]), krnl_lcn = 0;
		struct ntfs_stream fs;
		uint8_t *r = copy + off;
		uint32_t at;

		if (!bsw_ntfs_load_stream(a.v, rec[1], NTFS_AT_DATA, NULL, &fs)) {
			krnl_lcn = fs.runs.nr ? fs.runs.r[0].lcn : 0;
			bsw_ntfs_stream_free(&fs);
		}
		bsw_ntfs_fixup(r, 1024, &bad);
		at = find_attr(r, 0x80);
		if (at && krnl_lcn && hal_lcn) {
			uint8_t *rl = r + at + get_le16(r + at + 0x20);
			unsigned lb = rl[0] & 0xF, ob = rl[0] >> 4, k;

			for (k = 0; k < ob; k++)
				rl[1 + lb + k] = (uint8_t)(krnl_lcn >> (8 * k));
		}
		protect(r, 1024);
		mark_own(own, off, 1024);
		if (!bsw_ntfs_load_stream(a.v, rec[2], NTFS_AT_DATA, NULL, &fs)) {
			if (!fs.resident && fs.runs.nr && fs.runs.r[0].lcn != NTFS_LCN_HOLE)
				mark_own(own, fs.runs.r[0].lcn * a.v->bs.cluster, 512);
			CHECK(!fs.resident, "streams: SYSTEM is not resident");
			bsw_ntfs_stream_free(&fs);
		}
	}
	vclose(&a);
	vopen(&a, copy, own, tok_base, tok_child, NULL, NULL);
	vopen(&b, copy, own, tok_base, tok_child, NULL, NULL);
	counting_init(&cnt, UNIT);
	for (i = 0; i < 3; i++) {
		uint8_t k3[16];
		int r2, r3;

		r2 = bsw_ntfs_file_key(a.v, rec[i], NULL, k2, &tok, NULL);
		r3 = bsw_ntfs_file_key(b.v, rec[i], NULL, k3, &t2, &cnt.sh);
		CHECK(!r2 && !r3 && tok == t2 && !memcmp(k2, k3, 16),
		      "streams: child's key of %s as without sharing", files[i]);
		CHECK((i == 1) == !memcmp(k3, key[i], 16),
		      "streams: child's key of %s %s the base's", files[i],
		      i == 1 ? "is" : "is not");
	}
	CHECK(cnt.hits == 2 && cnt.keeps == 0,
	      "streams: child: 2 descriptions kept by the base (%u), its own not kept (%u)",
	      cnt.hits, cnt.keeps);
	vclose(&a);
	vclose(&b);
	free(copy);
	free(own);
}

int main(void)
{
	struct bsw_triage_opts topts = { 0 };
	struct bsw_stage stage = { .name = "volume", .share = 1u << BSW_SHARE_MFT };
	struct bsw_tctx t = { .o = &topts, .stage = &stage };
	struct bsw_share_stats st;

	if (ntfs_img_load()) {
		fprintf(stderr, "cannot load win.img\n");
		return T_EXIT_SKIP;
	}
	CHECK(!bsw_tctx_mft_share(&t), "no glue when the disk may not share");
	bsw_share_init(256u << 20);
	t.can_share = true;
	glue = bsw_tctx_mft_share(&t);
	CHECK(glue != NULL, "the glue when the stage declares MFT sharing");
	stage.share = 1u << BSW_SHARE_HIVE;
	CHECK(!bsw_tctx_mft_share(&t), "no glue when the stage does not declare it");
	stage.share = 1u << BSW_SHARE_MFT;
	if (!glue)
		return T_DONE();
	tok_base = bsw_share_layer(1, 1, img_len, 0, NULL);
	tok_child = bsw_share_layer(1, 2, img_len, 0, NULL);
	tok_mirr = bsw_share_layer(1, 3, img_len, 0, NULL);
	tok_names = bsw_share_layer(1, 4, img_len, 0, NULL);
	tok_nochk = bsw_share_layer(1, 5, img_len, 0, NULL);
	bsw_share_set_parent(tok_nochk);
	bsw_share_set_parent(tok_base);
	bsw_share_set_parent(tok_mirr);
	bsw_share_set_parent(tok_names);

	test_base();
	test_child();
	test_mirror();
	test_caps();
	test_names_cap();
	test_streams();
	bsw_share_stats(&st);
	fprintf(stderr,
		"cache: %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64 " kept, %" PRIu64
		" bytes\n",
		st.hits, st.misses, st.inserts, st.bytes);
	test_small_cache();
	bsw_share_fini();
	free(img);
	fprintf(stderr, "%d checks\n", t_checks);
	return T_DONE();
}
