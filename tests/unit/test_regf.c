/*
 * formats/regf unit tests: a hive built here cell by cell (queries, the
 * checksum special cases, one corruption per check, caps and cycles, log
 * replay in both formats), then the yarp acceptance hives from the corpus
 * (replayed logs must export exactly like Windows' recovered hives).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/common/bytes.h"
#include "formats/regf/regf_export.h"
#include "formats/regf/regf_int.h"
#include "formats/common/finding.h"

static int fails;

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

/* ---- a hive builder ---- */

#define BINS (40960u)

struct hb {
	uint8_t buf[4096 + BINS];
	uint32_t top; /* next free offset in the bins data */
	uint32_t root, sk, child, grandchild;
	uint32_t vlist, vk_dword, vk_big, db;
};

static uint8_t *at(struct hb *b, uint32_t off)
{
	return b->buf + 4096 + off;
}

static uint32_t cell(struct hb *b, uint32_t datalen)
{
	uint32_t sz = (datalen + 4 + 7) & ~7u, off = b->top;

	put_le32(at(b, off), (uint32_t) - (int32_t)sz);
	memset(at(b, off) + 4, 0, sz - 4);
	b->top += sz;
	return off;
}

static uint32_t nk(struct hb *b, const char *name, uint32_t parent, uint16_t flags)
{
	uint32_t o = cell(b, 76 + strlen(name));
	uint8_t *p = at(b, o) + 4;

	memcpy(p, "nk", 2);
	put_le16(p + 2, flags | BSW_NK_COMP_NAME);
	put_le32(p + 16, parent);
	put_le32(p + 28, BSW_REGF_NONE);
	put_le32(p + 40, BSW_REGF_NONE);
	put_le32(p + 44, b->sk);
	put_le32(p + 48, BSW_REGF_NONE);
	put_le16(p + 72, (uint16_t)strlen(name));
	memcpy(p + 76, name, strlen(name));
	return o;
}

static uint32_t vk(struct hb *b, const char *name, uint32_t type, const void *data, uint32_t len)
{
	uint32_t o = cell(b, 20 + strlen(name)), d;
	uint8_t *p;

	if (len > 4) {
		d = cell(b, len);
		memcpy(at(b, d) + 4, data, len);
	}
	p = at(b, o) + 4;
	memcpy(p, "vk", 2);
	put_le16(p + 2, (uint16_t)strlen(name));
	if (len <= 4) {
		put_le32(p + 4, len | 0x80000000u);
		memcpy(p + 8, data, len);
	} else {
		put_le32(p + 4, len);
		put_le32(p + 8, d);
	}
	put_le32(p + 12, type);
	put_le16(p + 16, BSW_VK_COMP_NAME);
	memcpy(p + 20, name, strlen(name));
	return o;
}

static void fix_base(uint8_t *base)
{
	put_le32(base + 508, bsw_regf_checksum(base));
}

static void build(struct hb *b)
{
	uint8_t *base = b->buf, *p;
	uint32_t list, vals[6], q = 0;
	static uint8_t big[20000];
	uint16_t u16s[] = { 'a', 'b', 0, 'c', 0, 0 };
	uint16_t sz[] = { 'h', 'i', 0 };
	uint64_t qw = 0x1122334455667788ull;
	uint32_t dw = 0x12345678, seg[2];

	memset(b, 0, sizeof(*b));
	memcpy(base, "regf", 4);
	put_le32(base + 4, 7);
	put_le32(base + 8, 7);
	put_le32(base + 20, 1);
	put_le32(base + 24, 5);
	put_le32(base + 32, 1);
	put_le32(base + 40, BINS);
	put_le32(base + 44, 1);
	memcpy(at(b, 0), "hbin", 4);
	put_le32(at(b, 0) + 8, BINS);
	b->top = 32;

	/* The security cell: a ring of one, used by three keys. */
	b->sk = cell(b, 20 + 20);
	p = at(b, b->sk) + 4;
	memcpy(p, "sk", 2);
	put_le32(p + 4, b->sk);
	put_le32(p + 8, b->sk);
	put_le32(p + 12, 3);
	put_le32(p + 16, 20);

	b->root = nk(b, "ROOT", 0, BSW_NK_HIVE_ENTRY);
	b->child = nk(b, "Select", b->root, 0);
	b->grandchild = nk(b, "Deeper", b->child, 0);
	put_le32(base + 36, b->root);

	/* root -> lf [Select]; Select -> lh [Deeper] */
	list = cell(b, 4 + 8);
	memcpy(at(b, list) + 4, "lf", 2);
	put_le16(at(b, list) + 6, 1);
	put_le32(at(b, list) + 8, b->child);
	memcpy(at(b, list) + 12, "Sele", 4);
	put_le32(at(b, b->root) + 4 + 20, 1);
	put_le32(at(b, b->root) + 4 + 28, list);
	list = cell(b, 4 + 8);
	memcpy(at(b, list) + 4, "lh", 2);
	put_le16(at(b, list) + 6, 1);
	put_le32(at(b, list) + 8, b->grandchild);
	{
		uint32_t hsh = 0;

		for (const char *c = "DEEPER"; *c; c++)
			hsh = 37 * hsh + (uint8_t)*c;
		put_le32(at(b, list) + 12, hsh);
	}
	put_le32(at(b, b->child) + 4 + 20, 1);
	put_le32(at(b, b->child) + 4 + 28, list);

	/* Values of Select. */
	vals[q++] = b->vk_dword = vk(b, "Default", BSW_REG_DWORD, &dw, 4);
	vals[q++] = vk(b, "Name", BSW_REG_SZ, sz, sizeof(sz));
	vals[q++] = vk(b, "Multi", BSW_REG_MULTI_SZ, u16s, sizeof(u16s));
	vals[q++] = vk(b, "Q", BSW_REG_QWORD, &qw, 8);
	vals[q++] = vk(b, "", BSW_REG_BINARY, "xy", 2);
	/* Big data: db with two segments (spec: Big data). */
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	seg[0] = cell(b, BSW_REGF_SEG_MAX);
	memcpy(at(b, seg[0]) + 4, big, BSW_REGF_SEG_MAX);
	seg[1] = cell(b, sizeof(big) - BSW_REGF_SEG_MAX);
	memcpy(at(b, seg[1]) + 4, big + BSW_REGF_SEG_MAX, sizeof(big) - BSW_REGF_SEG_MAX);
	list = cell(b, 8);
	put_le32(at(b, list) + 4, seg[0]);
	put_le32(at(b, list) + 8, seg[1]);
	b->db = cell(b, 8);
	memcpy(at(b, b->db) + 4, "db", 2);
	put_le16(at(b, b->db) + 6, 2);
	put_le32(at(b, b->db) + 8, list);
	b->vk_big = vals[q++] = cell(b, 20 + 3);
	p = at(b, b->vk_big) + 4;
	memcpy(p, "vk", 2);
	put_le16(p + 2, 3);
	put_le32(p + 4, sizeof(big));
	put_le32(p + 8, b->db);
	put_le32(p + 12, BSW_REG_BINARY);
	put_le16(p + 16, BSW_VK_COMP_NAME);
	memcpy(p + 20, "Big", 3);

	b->vlist = cell(b, 4 * q);
	for (uint32_t i = 0; i < q; i++)
		put_le32(at(b, b->vlist) + 4 + 4 * i, vals[i]);
	put_le32(at(b, b->child) + 4 + 36, q);
	put_le32(at(b, b->child) + 4 + 40, b->vlist);

	/* The rest of the bin is one free cell. */
	put_le32(at(b, b->top), BINS - b->top);
	fix_base(base);
}

static struct bsw_fx *fx;

/* Load under damage weight w (the caller's policy, bsw_fx_set_damage). */
static struct bsw_hive *load(const uint8_t *d, size_t len, const struct bsw_buf *logs, unsigned n,
			     enum bsw_verdict w)
{
	struct bsw_hive *h;

	bsw_fx_destroy(fx);
	CHECK(bsw_fx_create(&fx) == 0);
	bsw_fx_set_damage(fx, w);
	CHECK(bsw_hive_load(&h, d, len, logs, n, fx) == 0);
	bsw_fx_finish(fx);
	return h;
}

static void dump(void)
{
	char m[512];

	for (size_t i = 0; i < bsw_fx_count(fx); i++) {
		bsw_finding_message(bsw_fx_get(fx, i), m, sizeof(m));
		fprintf(stderr, "    finding: %s %s\n",
			bsw_problem_info(bsw_fx_get(fx, i)->problem)->code, m);
	}
}

/* Load a copy of the built hive, expect a state and a code. */
static void expect(const struct hb *b, enum bsw_hive_state st, const char *code, const char *what)
{
	struct bsw_hive *h = load(b->buf, sizeof(b->buf), NULL, 0, BSW_V_UNBOOT);

	if (bsw_hive_state(h) != st || (code && !bsw_fx_has_code(fx, code))) {
		fprintf(stderr, "%s: state %s, expected %s with %s\n", what,
			bsw_hive_state_name(bsw_hive_state(h)), bsw_hive_state_name(st),
			code ? code : "-");
		dump();
		fails++;
	}
	bsw_hive_free(h);
}

static void test_queries(void)
{
	static struct hb b;
	struct bsw_hive *h;
	struct bsw_hval v;
	char s[64], *multi;
	unsigned n;
	uint32_t dw;
	uint64_t qw;
	bsw_hkey k;

	build(&b);
	h = load(b.buf, sizeof(b.buf), NULL, 0, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_CLEAN);
	if (bsw_fx_count(fx))
		dump();
	CHECK(bsw_fx_count(fx) == 0);
	CHECK(bsw_hive_root(h) == b.root);
	CHECK(bsw_hive_key(h, b.root, "select\\DEEPER", &k) == 0 && k == b.grandchild);
	CHECK(bsw_hive_key(h, b.root, "Select\\Nope", &k) == -ENOENT);
	CHECK(bsw_hive_key(h, b.root, "", &k) == 0 && k == b.root);
	CHECK(bsw_hive_key_name(h, b.child, s, sizeof(s)) == 0 && !strcmp(s, "Select"));
	CHECK(bsw_hive_get_dword(h, "Select", "default", &dw) == 0 && dw == 0x12345678);
	CHECK(bsw_hive_get_dword(h, "Select", "Name", &dw) == -EINVAL);
	CHECK(bsw_hive_get_dword(h, "Select", "Absent", &dw) == -ENOENT);
	CHECK(bsw_hive_get_qword(h, "Select", "Q", &qw) == 0 && qw == 0x1122334455667788ull);
	CHECK(bsw_hive_get_sz(h, "Select", "Name", s, sizeof(s)) == 0 && !strcmp(s, "hi"));
	CHECK(bsw_hive_get_multi_sz(h, "Select", "Multi", &multi, &n) == 0);
	CHECK(n == 2 && !strcmp(multi, "ab") && !strcmp(multi + 3, "c") && multi[5] == 0);
	free(multi);
	CHECK(bsw_hive_get_raw(h, "Select", NULL, &v) == 0 && v.len == 2 &&
	      !memcmp(v.data, "xy", 2));
	bsw_hval_free(&v);
	CHECK(bsw_hive_get_raw(h, "Select", "Big", &v) == 0 && v.len == 20000);
	CHECK(v.data && v.data[16344] == (uint8_t)(16344 * 7) &&
	      v.data[19999] == (uint8_t)(19999 * 7));
	bsw_hval_free(&v);
	bsw_hive_free(h);
}

static void test_checksum_special(void)
{
	static struct hb b;
	uint32_t c;

	/* Make the XOR of the first 127 words 0, then 0xFFFFFFFF (note 2). */
	for (int want = 0; want < 2; want++) {
		build(&b);
		put_le32(b.buf + 200, 0);
		c = 0;
		for (unsigned i = 0; i < 508; i += 4)
			c ^= get_le32(b.buf + i);
		put_le32(b.buf + 200, c ^ (want ? 0xFFFFFFFFu : 0));
		CHECK(bsw_regf_checksum(b.buf) == (want ? 0xFFFFFFFEu : 1u));
		fix_base(b.buf);
		expect(&b, BSW_HIVE_CLEAN, NULL, "checksum special case");
	}
}

static void test_corruptions(void)
{
	static struct hb b;
	struct bsw_hive *h;
	const struct bsw_finding *f;

	build(&b);
	memcpy(at(&b, 0), "hbix", 4);
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "hbin signature");

	build(&b);
	put_le32(at(&b, 0) + 4, 4096);
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "hbin offset field");

	build(&b);
	put_le32(at(&b, b.root), (uint32_t)-92);
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "cell size not 8-aligned");

	build(&b);
	put_le32(at(&b, b.vlist) + 4, b.top); /* value -> the free cell */
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "value in a free cell");

	build(&b);
	put_le32(at(&b, b.db) + 4 + 4, b.root + 8); /* not a cell start */
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "segment list inside a cell");

	build(&b);
	put_le16(at(&b, b.db) + 4 + 2, 1); /* one segment for 20000 bytes */
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "big data too short");

	/* A cycle: Deeper lists Select again (and Select lists Deeper). */
	build(&b);
	{
		uint32_t list = get_le32(at(&b, b.root) + 4 + 28);

		put_le32(at(&b, b.grandchild) + 4 + 20, 1);
		put_le32(at(&b, b.grandchild) + 4 + 28, list);
	}
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "key cycle");

	/* An index root inside an index root is refused. */
	build(&b);
	{
		uint32_t list = get_le32(at(&b, b.root) + 4 + 28);

		memcpy(at(&b, list) + 4, "ri", 2);
		put_le32(at(&b, list) + 8, list);
	}
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "ri in ri");

	build(&b);
	put_le32(at(&b, b.sk) + 4 + 12, 1); /* 3 keys use it */
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "sk reference count");

	build(&b);
	put_le32(at(&b, b.sk) + 4 + 4, b.root); /* flink -> nk */
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "sk flink");

	build(&b);
	put_le32(at(&b, b.child) + 4 + 20, 2); /* 2 subkeys claimed, 1 listed */
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "subkey count");

	/* A wrong lf hint: Windows' lookup may miss the key; a warning. */
	build(&b);
	{
		uint32_t list = get_le32(at(&b, b.root) + 4 + 28);

		memcpy(at(&b, list) + 12, "Selx", 4);
	}
	expect(&b, BSW_HIVE_CLEAN, "REG-HBIN", "lf hint");

	build(&b);
	put_le32(b.buf + 20, 2);
	fix_base(b.buf);
	expect(&b, BSW_HIVE_CORRUPT, "REG-BASE", "major version");

	build(&b);
	put_le32(b.buf + 36, 0x10); /* root -> inside the sk cell */
	fix_base(b.buf);
	expect(&b, BSW_HIVE_CORRUPT, "REG-HBIN", "root offset");

	build(&b);
	put_le32(b.buf + 144, 1);
	fix_base(b.buf);
	expect(&b, BSW_HIVE_CLEAN, "REG-KTM", "KTM flag");

	build(&b);
	memcpy(b.buf, "CREG", 4);
	expect(&b, BSW_HIVE_NOT_A_HIVE, "REG-BASE", "Win9x CREG");

	build(&b);
	put_le32(b.buf + 4, 8); /* dirty, no logs */
	fix_base(b.buf);
	expect(&b, BSW_HIVE_UNRECOVERABLE, "REG-LOG", "dirty without logs");

	/* The caller's damage weight decides a structural finding's. */
	build(&b);
	memcpy(at(&b, 0), "hbix", 4);
	h = load(b.buf, sizeof(b.buf), NULL, 0, BSW_V_ROLLBACK);
	f = bsw_fx_count(fx) ? bsw_fx_get(fx, 0) : NULL;
	CHECK(f && f->verdict == BSW_V_ROLLBACK && f->severity == BSW_SEV_ERROR);
	bsw_hive_free(h);
	h = load(b.buf, sizeof(b.buf), NULL, 0, BSW_V_NONE);
	f = bsw_fx_count(fx) ? bsw_fx_get(fx, 0) : NULL;
	CHECK(f && f->verdict == BSW_V_NONE && f->severity == BSW_SEV_WARN);
	bsw_hive_free(h);

	/* Every truncation of the hive loads without a crash. */
	build(&b);
	for (size_t len = 0; len < sizeof(b.buf); len += 509) {
		h = load(b.buf, len, NULL, 0, BSW_V_UNBOOT);
		CHECK(bsw_hive_state(h) != BSW_HIVE_CLEAN);
		bsw_hive_free(h);
	}
}

/*
 * A dirty hive (b rebuilt, dirty: primary sequence 8, secondary 7) and a
 * new-format log (into log, length returned) of one entry rewriting the
 * page holding vk "Default" to 0xCAFE0001 (b gets that state too).
 */
static size_t make_new_log(struct hb *b, struct hb *dirty, uint8_t *log, size_t cap)
{
	uint8_t *e = log + 512;
	uint32_t page, size;

	build(b);
	page = b->vk_dword & ~4095u;
	memcpy(dirty, b, sizeof(*b));
	put_le32(at(b, b->vk_dword) + 4 + 8, 0xCAFE0001);
	put_le32(dirty->buf + 4, 8); /* primary seq 8, secondary 7 */
	fix_base(dirty->buf);

	memset(log, 0, cap);
	memcpy(log, b->buf, 512);
	put_le32(log + 4, 7);
	put_le32(log + 8, 7);
	put_le32(log + 28, 6);
	fix_base(log);
	size = 40 + 8 + 4096;
	size = (size + 511) & ~511u;
	memcpy(e, "HvLE", 4);
	put_le32(e + 4, size);
	put_le32(e + 12, 7);
	put_le32(e + 16, BINS);
	put_le32(e + 20, 1);
	put_le32(e + 40, page);
	put_le32(e + 44, 4096);
	memcpy(e + 48, at(b, page), 4096);
	put_le64(e + 24, bsw_regf_marvin32(BSW_REGF_MARVIN_SEED, e + 40, size - 40));
	put_le64(e + 32, bsw_regf_marvin32(BSW_REGF_MARVIN_SEED, e, 32));
	return 512 + size;
}

static void test_replay_built(void)
{
	static struct hb b, dirty;
	static uint8_t log[512 + 512 + 8192], old[512 + 512 + 512 * 80];
	uint32_t page, dw;
	struct bsw_buf lb = { log, 0, "built.LOG1" };
	struct bsw_hive *h;
	uint8_t *e = log + 512;

	lb.len = make_new_log(&b, &dirty, log, sizeof(log));
	page = b.vk_dword & ~4095u;

	h = load(dirty.buf, sizeof(dirty.buf), &lb, 1, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_RECOVERED);
	CHECK(bsw_fx_has_code(fx, "REG-DIRTY"));
	CHECK(bsw_hive_get_dword(h, "Select", "Default", &dw) == 0 && dw == 0xCAFE0001);
	bsw_hive_free(h);

	/* A bad Hash-1: nothing applies, the hive is unrecoverable. */
	e[48] ^= 1;
	h = load(dirty.buf, sizeof(dirty.buf), &lb, 1, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_UNRECOVERABLE);
	CHECK(bsw_fx_has_code(fx, "REG-LOG"));
	bsw_hive_free(h);
	e[48] ^= 1;

	/* A wrong primary checksum: the base block comes from the log. */
	put_le32(dirty.buf + 508, get_le32(dirty.buf + 508) ^ 0x55);
	h = load(dirty.buf, sizeof(dirty.buf), &lb, 1, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_RECOVERED);
	CHECK(bsw_hive_get_dword(h, "Select", "Default", &dw) == 0 && dw == 0xCAFE0001);
	bsw_hive_free(h);
	fix_base(dirty.buf);

	/* Old format: DIRT bitmap with the 8 bits of that 4 KiB page set. */
	memset(old, 0, sizeof(old));
	memcpy(old, b.buf, 512);
	put_le32(old + 4, 7);
	put_le32(old + 8, 7);
	put_le32(old + 28, 1);
	fix_base(old);
	memcpy(old + 512, "DIRT", 4);
	old[516 + page / 4096] = 0xFF;
	memcpy(old + 1024, at(&b, page), 4096);
	lb = (struct bsw_buf){ old, 1024 + 4096, "built.LOG" };
	h = load(dirty.buf, sizeof(dirty.buf), &lb, 1, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_RECOVERED);
	CHECK(bsw_hive_get_dword(h, "Select", "Default", &dw) == 0 && dw == 0xCAFE0001);
	bsw_hive_free(h);
	/* ... and a log shorter than its bitmap says is refused. */
	lb.len = 1024 + 2048;
	h = load(dirty.buf, sizeof(dirty.buf), &lb, 1, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_UNRECOVERABLE);
	bsw_hive_free(h);
	/* A refused first log falls back to the second (.LOG2). */
	{
		struct bsw_buf two[2] = { lb, { old, 1024 + 4096, "built.LOG2" } };

		h = load(dirty.buf, sizeof(dirty.buf), two, 2, BSW_V_UNBOOT);
		CHECK(bsw_hive_state(h) == BSW_HIVE_RECOVERED);
		CHECK(bsw_fx_has_code(fx, "REG-DIRTY") && bsw_fx_has_code(fx, "REG-LOG"));
		bsw_hive_free(h);
	}
}

/* ---- damage weight, stop rule, names, the hive-plus-logs loader ---- */

/* The rows that say "this hive is damaged": their weight is the caller's. */
static bool damage_row(enum bsw_problem p)
{
	static const enum bsw_problem rows[] = {
		PR_REGF_0_NOT_HIVE, PR_REGF_0_CREG, PR_REGF_0_BASE_BAD, PR_REGF_0_TRUNC,
		PR_REGF_1_HBIN,	    PR_REGF_1_CELL, PR_REGF_2_ROOT,	PR_REGF_2_REF,
		PR_REGF_2_KEY,	    PR_REGF_2_SK,   PR_REGF_2_CAP,	PR_REGF_3_UNRECOVERABLE,
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i] == p)
			return true;
	return false;
}

/*
 * Load buf under each weight: every damage finding gets the weight (and
 * ERROR) or, under NONE, its row's WARN and no verdict; every other finding
 * keeps its row's severity and verdict.  want: a damage row that must be
 * among the findings.
 */
static void check_weight(const uint8_t *buf, size_t len, enum bsw_problem want, const char *what)
{
	static const enum bsw_verdict w[] = { BSW_V_UNBOOT, BSW_V_ROLLBACK, BSW_V_NONE };

	for (unsigned i = 0; i < 3; i++) {
		struct bsw_hive *h = load(buf, len, NULL, 0, w[i]);
		bool seen = false;

		for (size_t j = 0; j < bsw_fx_count(fx); j++) {
			const struct bsw_finding *f = bsw_fx_get(fx, j);
			const struct bsw_problem_info *pi = bsw_problem_info(f->problem);
			bool ok;

			if (f->problem == PR_0_SUPPRESSED)
				continue;
			seen |= f->problem == want;
			if (damage_row(f->problem) && w[i] != BSW_V_NONE)
				ok = f->verdict == w[i] && f->severity == BSW_SEV_ERROR;
			else
				ok = f->verdict == pi->verdict && f->severity == pi->severity;
			if (!ok) {
				fprintf(stderr, "%s: weight %s: %s is %s/%s\n", what,
					bsw_verdict_name(w[i]), pi->name,
					bsw_verdict_name(f->verdict),
					bsw_severity_name(f->severity));
				fails++;
			}
		}
		if (!seen) {
			fprintf(stderr, "%s: %s not reported\n", what,
				bsw_problem_info(want)->name);
			dump();
			fails++;
		}
		bsw_hive_free(h);
	}
}

static void test_damage_weight(void)
{
	static struct hb b;

	build(&b);
	memcpy(b.buf, "CREG", 4);
	check_weight(b.buf, sizeof(b.buf), PR_REGF_0_CREG, "CREG");
	build(&b);
	memcpy(b.buf, "regx", 4);
	check_weight(b.buf, sizeof(b.buf), PR_REGF_0_NOT_HIVE, "no regf");
	build(&b);
	check_weight(b.buf, 4095, PR_REGF_0_TRUNC, "short base block");
	build(&b);
	check_weight(b.buf, sizeof(b.buf) - 4096, PR_REGF_0_TRUNC, "short bins");
	build(&b);
	put_le32(b.buf + 32, 2);  /* format */
	put_le32(b.buf + 144, 1); /* KTM: an info row, never weighted */
	put_le32(b.buf + 44, 2);  /* clustering factor: info */
	fix_base(b.buf);
	check_weight(b.buf, sizeof(b.buf), PR_REGF_0_BASE_BAD, "file format");
	build(&b);
	memcpy(at(&b, 0), "hbix", 4);
	check_weight(b.buf, sizeof(b.buf), PR_REGF_1_HBIN, "hbin signature");
	build(&b);
	put_le32(at(&b, b.root), (uint32_t)-92);
	check_weight(b.buf, sizeof(b.buf), PR_REGF_1_CELL, "cell size");
	build(&b);
	put_le32(b.buf + 36, 0x10);
	fix_base(b.buf);
	check_weight(b.buf, sizeof(b.buf), PR_REGF_2_ROOT, "root offset");
	build(&b);
	put_le32(at(&b, b.vlist) + 4, b.top);
	check_weight(b.buf, sizeof(b.buf), PR_REGF_2_REF, "value in a free cell");
	build(&b);
	put_le32(at(&b, b.child) + 4 + 20, 2);
	check_weight(b.buf, sizeof(b.buf), PR_REGF_2_KEY, "subkey count");
	build(&b);
	put_le32(at(&b, b.sk) + 4 + 12, 1);
	check_weight(b.buf, sizeof(b.buf), PR_REGF_2_SK, "sk reference count");
	build(&b);
	{ /* a wrong lf hint (warning) next to damage: only damage weighs */
		uint32_t list = get_le32(at(&b, b.root) + 4 + 28);

		memcpy(at(&b, list) + 12, "Selx", 4);
		put_le32(at(&b, b.sk) + 4 + 12, 1);
	}
	check_weight(b.buf, sizeof(b.buf), PR_REGF_2_SK, "sk count and lf hint");
	build(&b);
	put_le32(b.buf + 4, 8);
	fix_base(b.buf);
	check_weight(b.buf, sizeof(b.buf), PR_REGF_3_UNRECOVERABLE, "dirty, no logs");
}

/* The driver stops after a pass that leaves the later ones nothing sound. */
static void test_stop_rule(void)
{
	static struct hb b;
	struct bsw_hive *h;

	/* A base block field wrong: no bins pass, so no REG-HBIN. */
	build(&b);
	put_le32(b.buf + 20, 2);
	fix_base(b.buf);
	memcpy(at(&b, 0), "hbix", 4);
	h = load(b.buf, sizeof(b.buf), NULL, 0, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_CORRUPT);
	CHECK(bsw_fx_nr(fx, PR_REGF_0_BASE_BAD) == 1);
	CHECK(!bsw_fx_has_code(fx, "REG-HBIN"));
	CHECK(bsw_hive_root(h) == 0);
	bsw_hive_free(h);

	/* A bad root: no tree, so no accounting (the low sk count is moot). */
	build(&b);
	put_le32(b.buf + 36, 0x10);
	fix_base(b.buf);
	put_le32(at(&b, b.sk) + 4 + 12, 1);
	h = load(b.buf, sizeof(b.buf), NULL, 0, BSW_V_UNBOOT);
	CHECK(bsw_fx_nr(fx, PR_REGF_2_ROOT) == 1);
	CHECK(bsw_fx_nr(fx, PR_REGF_2_SK) == 0);
	bsw_hive_free(h);
	/* ... and with a good root, the same count is found by pass 3. */
	build(&b);
	put_le32(at(&b, b.sk) + 4 + 12, 1);
	h = load(b.buf, sizeof(b.buf), NULL, 0, BSW_V_UNBOOT);
	CHECK(bsw_fx_nr(fx, PR_REGF_2_SK) == 1);
	bsw_hive_free(h);

	/* Not a hive: pass 0 stops; the state stays "not a hive". */
	build(&b);
	memcpy(b.buf, "CREG", 4);
	h = load(b.buf, sizeof(b.buf), NULL, 0, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_NOT_A_HIVE && bsw_fx_count(fx) == 1);
	bsw_hive_free(h);

	/* Dirty without logs: still verified (the bins pass runs). */
	build(&b);
	put_le32(b.buf + 4, 8);
	fix_base(b.buf);
	memcpy(at(&b, 0), "hbix", 4);
	h = load(b.buf, sizeof(b.buf), NULL, 0, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_UNRECOVERABLE);
	CHECK(bsw_fx_nr(fx, PR_REGF_1_HBIN) == 1);
	bsw_hive_free(h);
}

static void test_names(void)
{
	/* UTF-16LE: "a", NUL, U+1F600 as a pair, a lone high surrogate, "z" */
	static const uint8_t u16[] = { 'a', 0, 0, 0, 0x3D, 0xD8, 0x00, 0xDE, 0x3D, 0xD8, 'z', 0 };
	static const char want16[] = "a\xC0\x80\xF0\x9F\x98\x80\xEF\xBF\xBDz";
	static const uint8_t l1[] = { 'K', 0xE9, 0, 'y' }; /* Latin-1 */
	static const char want1[] = "K\xC3\xA9\xC0\x80y";
	char out[64];

	bsw_regf_name(u16, sizeof(u16), false, out, sizeof(out));
	CHECK(!strcmp(out, want16));
	bsw_regf_name(u16, sizeof(u16) - 1, false, out, sizeof(out));
	CHECK(!strncmp(out, want16, strlen(want16) - 1) &&
	      strlen(out) == strlen(want16) - 1); /* odd byte ignored */
	bsw_regf_name(l1, sizeof(l1), true, out, sizeof(out));
	CHECK(!strcmp(out, want1));
	/* A character that does not fit ends the name, never split. */
	bsw_regf_name(u16, sizeof(u16), false, out, 6);
	CHECK(!strcmp(out, "a\xC0\x80"));
	bsw_regf_name(l1, sizeof(l1), true, out, 3);
	CHECK(!strcmp(out, "K"));
	bsw_regf_name(l1, sizeof(l1), true, out, 1);
	CHECK(out[0] == 0);
}

/* An in-memory volume for bsw_hive_load_files(). */
struct mvol {
	struct {
		const char *name;
		const uint8_t *d;
		size_t len;
		int err;
	} f[4];
	unsigned nf;
	char asked[8][64];
	unsigned nasked;
	size_t held;	 /* bytes read and not yet released */
	size_t oversize; /* make read() return this much more than it has */
};

static int mvol_read(void *ctx, const char *name, size_t max, uint8_t **d, size_t *len)
{
	struct mvol *v = ctx;

	if (v->nasked < 8)
		snprintf(v->asked[v->nasked++], 64, "%s", name);
	for (unsigned i = 0; i < v->nf; i++) {
		if (strcmp(v->f[i].name, name))
			continue;
		if (v->f[i].err)
			return v->f[i].err;
		if (v->f[i].len > max)
			return -EFBIG;
		*len = v->f[i].len + v->oversize;
		*d = calloc(1, *len ? *len : 1);
		if (!*d)
			return -ENOMEM;
		memcpy(*d, v->f[i].d, v->f[i].len);
		v->held += *len;
		return 0;
	}
	return -ENOENT;
}

static void mvol_release(void *ctx, size_t len)
{
	struct mvol *v = ctx;

	v->held -= len;
}

static void test_files_loader(void)
{
	static struct hb b, dirty;
	static uint8_t log[512 + 512 + 8192];
	size_t ll = make_new_log(&b, &dirty, log, sizeof(log));
	struct mvol v = { .nf = 2,
			  .f = { { "SYSTEM", dirty.buf, sizeof(dirty.buf), 0 },
				 { "SYSTEM.LOG2", log, ll, 0 } } };
	struct bsw_hive_files hf = {
		.name = "SYSTEM",
		.max = 1 << 20,
		.scope = "hive:SYSTEM",
		.read = mvol_read,
		.release = mvol_release,
		.ctx = &v,
	};
	const struct bsw_finding *f;
	struct bsw_hive *h;
	uint32_t dw;
	int failed;
	char *prev;

	/* Default names, in order; an absent .LOG1 is skipped. */
	bsw_fx_destroy(fx);
	CHECK(bsw_fx_create(&fx) == 0);
	prev = bsw_fx_push_scope(fx, "outer");
	CHECK(bsw_hive_load_files(&h, &hf, fx, &failed) == 0 && h && failed == -1);
	CHECK(v.nasked == 3 && !strcmp(v.asked[0], "SYSTEM") &&
	      !strcmp(v.asked[1], "SYSTEM.LOG1") && !strcmp(v.asked[2], "SYSTEM.LOG2"));
	CHECK(v.held == 0);
	CHECK(bsw_hive_state(h) == BSW_HIVE_RECOVERED);
	CHECK(bsw_hive_get_dword(h, "Select", "Default", &dw) == 0 && dw == 0xCAFE0001);
	bsw_hive_free(h);
	bsw_fx_finish(fx);
	f = bsw_fx_count(fx) == 1 ? bsw_fx_get(fx, 0) : NULL;
	CHECK(f && f->problem == PR_REGF_0_DIRTY && f->str2 && !strcmp(f->str2, "SYSTEM.LOG2"));
	CHECK(f && f->scope && !strcmp(f->scope, "hive:SYSTEM"));
	bsw_fx_restore_scope(fx, prev);

	/* The primary missing, unreadable, too large: its error, nothing held. */
	v.f[0].err = -ENOENT;
	v.nasked = 0;
	CHECK(bsw_hive_load_files(&h, &hf, NULL, &failed) == -ENOENT && !h && failed == 0 &&
	      v.nasked == 1 && v.held == 0);
	v.f[0].err = -EIO;
	CHECK(bsw_hive_load_files(&h, &hf, NULL, &failed) == -EIO && !h && failed == 0);
	v.f[0].err = 0;
	hf.max = 4096;
	CHECK(bsw_hive_load_files(&h, &hf, NULL, &failed) == -EFBIG && failed == 0);
	hf.max = 1 << 20;
	/* A reader that breaks the cap is refused, its buffer released. */
	v.oversize = 1;
	hf.max = sizeof(dirty.buf);
	CHECK(bsw_hive_load_files(&h, &hf, NULL, &failed) == -EFBIG && failed == 0 && v.held == 0);
	v.oversize = 0;
	hf.max = 1 << 20;

	/* Explicit names: findings name a log without its directory. */
	{
		const char *const paths[] = { "d/x/SYSTEM.LOG1", "\\EFI\\SYSTEM.LOG2" };

		v.f[1].name = paths[1];
		hf.logs = paths;
		hf.nr_logs = 2;
		hf.scope = NULL;
		bsw_fx_destroy(fx);
		CHECK(bsw_fx_create(&fx) == 0);
		CHECK(bsw_hive_load_files(&h, &hf, fx, &failed) == 0 && failed == -1);
		f = bsw_fx_count(fx) == 1 ? bsw_fx_get(fx, 0) : NULL;
		CHECK(f && f->str2 && !strcmp(f->str2, "SYSTEM.LOG2") && !f->scope);
		bsw_hive_free(h);
		/* Holes in the caller's list are skipped. */
		{
			const char *const holes[] = { NULL, paths[1], NULL };

			hf.logs = holes;
			hf.nr_logs = 3;
			CHECK(bsw_hive_load_files(&h, &hf, NULL, &failed) == 0 &&
			      bsw_hive_state(h) == BSW_HIVE_RECOVERED && v.held == 0);
			bsw_hive_free(h);
			hf.logs = paths;
			hf.nr_logs = 2;
		}
		/* ... and a required log that cannot be read fails the load. */
		hf.logs_required = true;
		CHECK(bsw_hive_load_files(&h, &hf, NULL, &failed) == -ENOENT && !h && failed == 1 &&
		      v.held == 0);
		v.f[1].err = -EIO;
		hf.logs = paths + 1;
		hf.nr_logs = 1;
		CHECK(bsw_hive_load_files(&h, &hf, NULL, &failed) == -EIO && failed == 1 &&
		      v.held == 0);
		v.f[1].err = 0;
		/* No logs at all (an empty list, not the default names). */
		hf.nr_logs = 0;
		v.nasked = 0;
		CHECK(bsw_hive_load_files(&h, &hf, NULL, &failed) == 0 && v.nasked == 1 &&
		      bsw_hive_state(h) == BSW_HIVE_UNRECOVERABLE);
		bsw_hive_free(h);
	}
	/* The damage weight the caller set applies to what the loader loads. */
	hf.logs = NULL;
	v.f[1].err = -EIO; /* an unreadable .LOG2, skipped */
	hf.logs_required = false;
	bsw_fx_destroy(fx);
	CHECK(bsw_fx_create(&fx) == 0);
	bsw_fx_set_damage(fx, BSW_V_ROLLBACK);
	CHECK(bsw_hive_load_files(&h, &hf, fx, &failed) == 0 && failed == -1);
	CHECK(bsw_hive_state(h) == BSW_HIVE_UNRECOVERABLE);
	f = bsw_fx_count(fx) ? bsw_fx_get(fx, 0) : NULL;
	CHECK(f && f->problem == PR_REGF_3_UNRECOVERABLE && f->verdict == BSW_V_ROLLBACK &&
	      f->severity == BSW_SEV_ERROR);
	CHECK(v.held == 0);
	bsw_hive_free(h);
}

/* ---- corpus ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *b;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !(b = malloc(st.st_size + 1))) {
		close(fd);
		return NULL;
	}
	*len = (size_t)read(fd, b, st.st_size);
	close(fd);
	return b;
}

static char *export_file(const char *dir, const char *name, const char **logs,
			 enum bsw_hive_state *st)
{
	char p[1024];
	struct bsw_buf lb[2];
	uint8_t *d, *ld[2] = { 0 };
	size_t len, n = 0;
	struct bsw_hive *h;
	struct bsw_sbuf s = { 0 };

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	d = slurp(p, &len);
	if (!d)
		return NULL;
	for (; logs && logs[n]; n++) {
		snprintf(p, sizeof(p), "%s/%s", dir, logs[n]);
		ld[n] = slurp(p, &lb[n].len);
		lb[n].data = ld[n];
		lb[n].name = logs[n];
		if (!ld[n])
			lb[n].len = 0;
	}
	h = load(d, len, lb, (unsigned)n, BSW_V_UNBOOT);
	*st = bsw_hive_state(h);
	if (bsw_regf_export(h, &s))
		bsw_sbuf_free(&s);
	bsw_hive_free(h);
	free(d);
	free(ld[0]);
	free(ld[1]);
	return s.p;
}

static int test_corpus(void)
{
	const char *corpus = getenv("BSW_CORPUS") ? getenv("BSW_CORPUS") : BSW_CORPUS;
	char dir[1024];
	const char *nlogs[] = { "NewDirtyHive.LOG1", "NewDirtyHive.LOG2", NULL };
	const char *ologs[] = { "OldDirtyHive.LOG1", "OldDirtyHive.LOG2", NULL };
	const char *blogs[] = { "BadLogHive.LOG1", "BadLogHive.LOG2", NULL };
	enum bsw_hive_state st, st2;
	char *a, *b, *raw;

	snprintf(dir, sizeof(dir), "%s/yarp/hives_for_tests/NewDirtyHive1", corpus);
	if (access(dir, R_OK))
		return 77;
	a = export_file(dir, "NewDirtyHive", nlogs, &st);
	b = export_file(dir, "RecoveredHive_Windows10", NULL, &st2);
	raw = export_file(dir, "NewDirtyHive", NULL, &(enum bsw_hive_state){ 0 });
	CHECK(st == BSW_HIVE_RECOVERED && st2 == BSW_HIVE_CLEAN);
	CHECK(a && b && !strcmp(a, b));
	CHECK(raw && b && strcmp(raw, b)); /* the replay changed something */
	free(a);
	free(b);
	free(raw);

	snprintf(dir, sizeof(dir), "%s/yarp/hives_for_tests/OldDirtyHive", corpus);
	a = export_file(dir, "OldDirtyHive", ologs, &st);
	b = export_file(dir, "RecoveredHive_Windows7", NULL, &st2);
	raw = export_file(dir, "OldDirtyHive", NULL, &(enum bsw_hive_state){ 0 });
	CHECK(st == BSW_HIVE_RECOVERED && st2 == BSW_HIVE_CLEAN);
	CHECK(a && b && !strcmp(a, b));
	CHECK(raw && b && strcmp(raw, b));
	free(a);
	free(b);
	free(raw);

	snprintf(dir, sizeof(dir), "%s/yarp/hives_for_tests/BadLogHive1", corpus);
	a = export_file(dir, "BadLogHive", blogs, &st);
	CHECK(st == BSW_HIVE_UNRECOVERABLE && bsw_fx_has_code(fx, "REG-LOG"));
	free(a);

	/* Marvin32 against a hash Windows wrote (NewDirtyHive.LOG2 entry 0). */
	{
		size_t len;
		uint8_t *d;

		snprintf(dir, sizeof(dir),
			 "%s/yarp/hives_for_tests/NewDirtyHive1/NewDirtyHive.LOG2", corpus);
		d = slurp(dir, &len);
		CHECK(d && len > 1024);
		if (d && len > 1024) {
			uint32_t size = get_le32(d + 516);

			CHECK(size <= len - 512);
			if (size <= len - 512) {
				CHECK(bsw_regf_marvin32(BSW_REGF_MARVIN_SEED, d + 552, size - 40) ==
				      get_le64(d + 536));
				CHECK(bsw_regf_marvin32(BSW_REGF_MARVIN_SEED, d + 512, 32) ==
				      get_le64(d + 544));
			}
		}
		free(d);
	}
	return 0;
}

/*
 * Full-hive replay of a real SYSTEM (regipy's, 11 MiB, decompressed with
 * xz through a pipe): every bin zeroed in the primary, every page in a
 * new-format log of 1 MiB entries; the replay must give back the original.
 */
static void test_full_replay(const char *corpus)
{
	char cmd[1200];
	FILE *p;
	uint8_t *d = malloc(64u << 20), *prim, *log;
	size_t len = 0, bins, o = 512, r;
	uint32_t seq;
	struct bsw_hive *h;
	struct bsw_buf lb;
	struct bsw_sbuf a = { 0 }, b = { 0 };

	snprintf(cmd, sizeof(cmd), "xz -dc '%s/regipy/regipy_tests/data/SYSTEM.xz' 2>/dev/null",
		 corpus);
	p = d ? popen(cmd, "r") : NULL;
	if (!p) {
		free(d);
		return;
	}
	while (len < (64u << 20) && (r = fread(d + len, 1, (64u << 20) - len, p)) > 0)
		len += r;
	pclose(p);
	if (len < 8192 || memcmp(d, "regf", 4)) {
		fprintf(stderr, "regipy SYSTEM.xz not available: full replay skipped\n");
		free(d);
		return;
	}
	bins = get_le32(d + 40);
	CHECK(4096 + bins <= len);
	seq = get_le32(d + 8);
	prim = calloc(1, 4096 + bins);
	log = calloc(1, 512 + bins + (bins / (1u << 20) + 1) * 4096);
	CHECK(prim && log);
	memcpy(log, d, 512);
	put_le32(log + 4, seq);
	put_le32(log + 8, seq);
	put_le32(log + 28, 6);
	fix_base(log);
	for (size_t q = 0; q < bins; q += 1u << 20, seq++) {
		uint32_t n = (uint32_t)((bins - q < (1u << 20) ? bins - q : (1u << 20)) / 4096);
		uint32_t size = (40 + 8 * n + n * 4096 + 511) & ~511u;
		uint8_t *e = log + o;

		memcpy(e, "HvLE", 4);
		put_le32(e + 4, size);
		put_le32(e + 12, seq);
		put_le32(e + 16, (uint32_t)bins);
		put_le32(e + 20, n);
		for (uint32_t i = 0; i < n; i++) {
			put_le32(e + 40 + 8 * i, (uint32_t)(q + 4096 * i));
			put_le32(e + 44 + 8 * i, 4096);
		}
		memcpy(e + 40 + 8 * n, d + 4096 + q, (size_t)n * 4096);
		put_le64(e + 24, bsw_regf_marvin32(BSW_REGF_MARVIN_SEED, e + 40, size - 40));
		put_le64(e + 32, bsw_regf_marvin32(BSW_REGF_MARVIN_SEED, e, 32));
		o += size;
	}
	memcpy(prim, d, 4096);
	put_le32(prim + 4, get_le32(d + 8) + 1);
	fix_base(prim);

	h = load(d, len, NULL, 0, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_CLEAN);
	CHECK(bsw_regf_export(h, &a) == 0);
	bsw_hive_free(h);
	lb = (struct bsw_buf){ log, o, "SYSTEM.LOG1" };
	h = load(prim, 4096 + bins, &lb, 1, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_RECOVERED);
	CHECK(bsw_regf_export(h, &b) == 0);
	CHECK(a.p && b.p && a.len > 100000 && a.len == b.len && !memcmp(a.p, b.p, a.len));
	bsw_hive_free(h);
	/* Entry 3 of 12 damaged: entries 0-2 apply, the rest are lost. */
	log[512 + 3 * ((40 + 8 * 256 + 256 * 4096 + 511) & ~511u) + 100] ^= 0xFF;
	h = load(prim, 4096 + bins, &lb, 1, BSW_V_UNBOOT);
	CHECK(bsw_hive_state(h) == BSW_HIVE_CORRUPT);
	CHECK(bsw_fx_has_code(fx, "REG-LOG") && bsw_fx_has_code(fx, "REG-HBIN"));
	bsw_hive_free(h);
	bsw_sbuf_free(&a);
	bsw_sbuf_free(&b);
	free(d);
	free(prim);
	free(log);
}

/*
 * Keys with many subkeys are looked up through a name index: on real
 * hives, every subkey of every such key (its name with the case swapped)
 * must be found as a linear search finds it, and a name that is absent
 * must not be.
 */
struct kid_names {
	char **v;
	bsw_hkey *k;
	unsigned nr;
};

static int kid_add(void *arg, bsw_hkey k, const char *name)
{
	struct kid_names *kn = arg;

	if (kn->nr >= 100000)
		return 1;
	kn->v[kn->nr] = strdup(name);
	kn->k[kn->nr++] = k;
	return 0;
}

static void kidx_key(struct bsw_hive *h, bsw_hkey key, unsigned depth, unsigned *keys_indexed,
		     unsigned *lookups)
{
	struct kid_names kn = { .v = calloc(100000, sizeof(char *)),
				.k = calloc(100000, sizeof(bsw_hkey)) };
	char swapped[1024];

	if (!kn.v || !kn.k || depth > 64)
		goto out;
	bsw_hive_subkeys(h, key, kid_add, &kn);
	for (unsigned i = 0; i < kn.nr; i++)
		kidx_key(h, kn.k[i], depth + 1, keys_indexed, lookups);
	if (kn.nr < 64)
		goto out;
	(*keys_indexed)++;
	for (unsigned i = 0; i < kn.nr; i++) {
		size_t l = strlen(kn.v[i]);
		bsw_hkey got = 0, want = 0;

		if (l + 2 > sizeof(swapped) || strchr(kn.v[i], '\\'))
			continue;
		for (size_t j = 0; j <= l; j++) {
			char c = kn.v[i][j];

			swapped[j] = c >= 'a' && c <= 'z' ? c - 32 :
				     c >= 'A' && c <= 'Z' ? c + 32 :
							    c;
		}
		for (unsigned j = 0; j < kn.nr && !want; j++)
			if (!strcasecmp(kn.v[j], kn.v[i]))
				want = kn.k[j];
		CHECK(bsw_hive_key(h, key, swapped, &got) == 0 && got == want);
		(*lookups)++;
		memcpy(swapped + l, "~", 2);
		CHECK(bsw_hive_key(h, key, swapped, &got) == -ENOENT);
	}
out:
	for (unsigned i = 0; i < kn.nr; i++)
		free(kn.v[i]);
	free(kn.v);
	free(kn.k);
}

static void test_kidx(const char *corpus)
{
	const char *files[] = { "dfwinreg/test_data/UsrClass.dat",
				"plaso/test_data/NTUSER-WIN7.DAT" };
	unsigned keys = 0, lookups = 0;

	for (unsigned f = 0; f < 2; f++) {
		char path[1024];
		uint8_t *d;
		size_t len;
		struct bsw_hive *h;

		snprintf(path, sizeof(path), "%s/%s", corpus, files[f]);
		d = slurp(path, &len);
		if (!d) {
			CHECK(!"corpus hive missing");
			continue;
		}
		h = load(d, len, NULL, 0, BSW_V_UNBOOT);
		kidx_key(h, bsw_hive_root(h), 0, &keys, &lookups);
		bsw_hive_free(h);
		free(d);
	}
	fprintf(stderr, "name index: %u keys with >= 64 subkeys, %u lookups\n", keys, lookups);
	CHECK(keys >= 2 && lookups >= 500);
}

/*
 * A hostile list repeating one subkey 200 times: the name index gives up on
 * the pile-up (no quadratic build) and the lookups still answer as a linear
 * search does, the subkey after the duplicates included.
 */
static void test_kidx_hostile(void)
{
	static struct hb b;
	struct bsw_hive *h;
	uint32_t list, n = 201;
	bsw_hkey k = 0;

	build(&b);
	list = cell(&b, 4 + 4 * n);
	memcpy(at(&b, list) + 4, "li", 2);
	put_le16(at(&b, list) + 6, (uint16_t)n);
	for (uint32_t i = 0; i < n; i++)
		put_le32(at(&b, list) + 8 + 4 * i, i < n - 1 ? b.child : b.grandchild);
	put_le32(at(&b, b.root) + 4 + 20, n);
	put_le32(at(&b, b.root) + 4 + 28, list);
	put_le32(at(&b, b.top), BINS - b.top);
	fix_base(b.buf);
	h = load(b.buf, sizeof(b.buf), NULL, 0, BSW_V_UNBOOT);
	CHECK(bsw_hive_key(h, b.root, "select", &k) == 0 && k == b.child);
	CHECK(bsw_hive_key(h, b.root, "DEEPER", &k) == 0 && k == b.grandchild);
	CHECK(bsw_hive_key(h, b.root, "nope", &k) == -ENOENT);
	CHECK(h->kidx[0].key == b.root && h->kidx[0].linear && !h->kidx[0].slot);
	bsw_hive_free(h);
}

int main(void)
{
	int rc;

	test_queries();
	test_kidx_hostile();
	test_checksum_special();
	test_corruptions();
	test_replay_built();
	test_damage_weight();
	test_stop_rule();
	test_names();
	test_files_loader();
	rc = test_corpus();
	if (rc != 77) {
		test_full_replay(getenv("BSW_CORPUS") ? getenv("BSW_CORPUS") : BSW_CORPUS);
		test_kidx(getenv("BSW_CORPUS") ? getenv("BSW_CORPUS") : BSW_CORPUS);
	}
	bsw_fx_destroy(fx);
	if (fails) {
		fprintf(stderr, "%d checks failed\n", fails);
		return 1;
	}
	if (rc == 77)
		fprintf(stderr, "corpus missing: corpus part skipped\n");
	return 0;
}
