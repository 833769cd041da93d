/*
 * Registry hives for mkfleet: a minimal hive of our own (base block, one
 * hive bin, root key and its security cell; regf specification by
 * M. Suhanov), filled with hivex, and new-format transaction logs (HvLE
 * entries with Marvin32 hashes) written by us for the dirty-hive scenarios.
 */
#include <errno.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/common/bytes.h"
#include "mkfleet.h"

#define HV_DEPTH 24
#define HV_COMPACT_OVER (16 << 20) /* bytes: compact hives bigger than this */

/*
 * Fills set many values on one key, then move to a sibling: the key path
 * last resolved is cached level by level (hivex node handles are cell
 * offsets, stable while keys and values are added), so only the levels
 * that changed are looked up; hivex_node_get_child walks every sibling.
 */
struct hv {
	hive_h *h;
	char tmp[512];
	unsigned depth;
	char name[HV_DEPTH][256];
	hive_node_h nh[HV_DEPTH];
};

static void put32(uint8_t *p, uint32_t v)
{
	put_le32(p, v);
}

static uint32_t base_checksum(const uint8_t *b)
{
	uint32_t x = 0;

	for (int i = 0; i < 508; i += 4)
		x ^= get_le32(b + i);
	if (x == 0xffffffff)
		x = 0xfffffffe;
	else if (x == 0)
		x = 1;
	return x;
}

/* A hive with only its root key: 4 KiB base block + one 4 KiB bin. */
static void minimal_hive(uint8_t *h, const char *rootname)
{
	uint8_t *b = h, *bin = h + 4096, *nk, *sk;
	size_t nl = strlen(rootname);
	uint32_t nk_off = 0x20, sk_off, nk_size, sk_size;
	/* self-relative SD: revision 1, control SE_SELF_RELATIVE, no owner/DACL */
	static const uint8_t sd[20] = { 1, 0, 0x00, 0x80 };

	memset(h, 0, 8192);
	memcpy(b, "regf", 4);
	put32(b + 4, 1);
	put32(b + 8, 1);
	put32(b + 20, 1); /* major */
	put32(b + 24, 5); /* minor */
	put32(b + 28, 0); /* primary file */
	put32(b + 32, 1); /* direct memory load */
	put32(b + 36, nk_off);
	put32(b + 40, 4096); /* hive bins data size */
	put32(b + 44, 1);
	for (size_t i = 0; i < nl && i < 31; i++)
		b[48 + 2 * i] = rootname[i];
	put32(b + 508, base_checksum(b));

	memcpy(bin, "hbin", 4);
	put32(bin + 4, 0);
	put32(bin + 8, 4096);

	nk_size = (4 + 76 + nl + 7) & ~7u;
	sk_off = nk_off + nk_size;
	sk_size = (4 + 20 + sizeof(sd) + 7) & ~7u;
	nk = bin + nk_off;
	put32(nk, -(int32_t)nk_size);
	memcpy(nk + 4, "nk", 2);
	nk[6] = 0x2c;			/* HIVE_ENTRY | NO_DELETE | COMP_NAME */
	put32(nk + 4 + 28, 0xffffffff); /* subkeys list */
	put32(nk + 4 + 32, 0xffffffff);
	put32(nk + 4 + 40, 0xffffffff); /* values list */
	put32(nk + 4 + 44, sk_off);
	put32(nk + 4 + 48, 0xffffffff); /* class name */
	put_le16(nk + 4 + 72, nl);
	memcpy(nk + 4 + 76, rootname, nl);

	sk = bin + sk_off;
	put32(sk, -(int32_t)sk_size);
	memcpy(sk + 4, "sk", 2);
	put32(sk + 4 + 4, sk_off); /* flink: itself */
	put32(sk + 4 + 8, sk_off); /* blink */
	put32(sk + 4 + 12, 1);	   /* reference count */
	put32(sk + 4 + 16, sizeof(sd));
	memcpy(sk + 4 + 20, sd, sizeof(sd));

	/* the rest of the bin is one free cell */
	put32(bin + sk_off + sk_size, 4096 - (sk_off + sk_size));
}

struct hv *hv_new(const char *workdir, const char *rootname)
{
	static unsigned serial;
	struct hv *v = calloc(1, sizeof(*v));
	uint8_t h[8192];

	if (!v)
		return NULL;
	snprintf(v->tmp, sizeof(v->tmp), "%s/hive-%u-%d.tmp", workdir, serial++, getpid());
	minimal_hive(h, rootname);
	if (mk_write_file(v->tmp, h, sizeof(h)))
		goto fail;
	v->h = hivex_open(v->tmp, HIVEX_OPEN_WRITE);
	if (!v->h) {
		fprintf(stderr, "mkfleet: hivex cannot open our minimal hive: %s\n",
			strerror(errno));
		goto fail;
	}
	return v;
fail:
	unlink(v->tmp);
	free(v);
	return NULL;
}

static hive_node_h node(struct hv *v, const char *key)
{
	hive_node_h n = hivex_root(v->h);
	char buf[1024], *save = NULL, *tok;
	unsigned lvl = 0;
	bool same = true;

	snprintf(buf, sizeof(buf), "%s", key);
	for (tok = strtok_r(buf, "\\", &save); tok; tok = strtok_r(NULL, "\\", &save), lvl++) {
		hive_node_h c;

		if (same && lvl < v->depth && !strcmp(v->name[lvl], tok)) {
			n = v->nh[lvl];
			continue;
		}
		same = false;
		errno = 0;
		c = hivex_node_get_child(v->h, n, tok);
		if (!c && errno) {
			fprintf(stderr, "mkfleet: hivex: cannot look up %s: %s\n", key,
				strerror(errno));
			return 0;
		}
		if (!c)
			c = hivex_node_add_child(v->h, n, tok);
		if (!c) {
			fprintf(stderr, "mkfleet: hivex: cannot add key %s: %s\n", key,
				strerror(errno));
			return 0;
		}
		n = c;
		if (lvl < HV_DEPTH && strlen(tok) < sizeof(v->name[0]) && v->depth >= lvl) {
			snprintf(v->name[lvl], sizeof(v->name[0]), "%s", tok);
			v->nh[lvl] = n;
			v->depth = lvl + 1;
		} else if (v->depth > lvl) {
			v->depth = lvl;
		}
	}
	return n;
}

static int set(struct hv *v, const char *key, const char *name, int type, const void *d, size_t len)
{
	hive_node_h n = node(v, key);
	hive_set_value val = { .key = (char *)name, .t = type, .len = len, .value = (char *)d };

	if (!n)
		return -1;
	if (hivex_node_set_value(v->h, n, &val, 0)) {
		fprintf(stderr, "mkfleet: hivex: cannot set %s\\%s: %s\n", key, name,
			strerror(errno));
		return -1;
	}
	return 0;
}

int hv_raw(struct hv *v, const char *key, const char *name, uint32_t type, const void *d,
	   size_t len)
{
	return set(v, key, name, (int)type, d, len);
}

int hv_key(struct hv *v, const char *key)
{
	return node(v, key) ? 0 : -1;
}

int hv_dword(struct hv *v, const char *key, const char *name, uint32_t x)
{
	uint8_t b[4];

	put_le32(b, x);
	return set(v, key, name, hive_t_REG_DWORD, b, 4);
}

static size_t to_utf16(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	for (; *s && n + 2 <= max; s++) {
		out[n++] = (uint8_t)*s;
		out[n++] = 0;
	}
	return n;
}

int hv_sz(struct hv *v, const char *key, const char *name, const char *s, int type)
{
	uint8_t b[2048];
	size_t n = to_utf16(s, b, sizeof(b) - 2);

	b[n++] = 0;
	b[n++] = 0;
	return set(v, key, name, type ? type : hive_t_REG_SZ, b, n);
}

int hv_multi(struct hv *v, const char *key, const char *name, const char *const *s, int cnt)
{
	uint8_t b[4096];
	size_t n = 0;

	for (int i = 0; i < cnt; i++) {
		n += to_utf16(s[i], b + n, sizeof(b) - n - 4);
		b[n++] = 0;
		b[n++] = 0;
	}
	b[n++] = 0;
	b[n++] = 0;
	return set(v, key, name, hive_t_REG_MULTI_SZ, b, n);
}

int hv_bin(struct hv *v, const char *key, const char *name, const void *d, size_t len)
{
	return set(v, key, name, hive_t_REG_BINARY, d, len);
}

/* ---- compaction of big hives ------------------------------------------------
 * hivex reallocates a parent's subkey list on every insert and never reuses
 * the freed cell: a flat list of 10,000 keys leaves ~400 MB of free cells.
 * A big hive is therefore rewritten, read back through hivex, with every
 * cell allocated once (regf layout: M. Suhanov's "Windows registry file
 * format specification", sections hbin, nk, lh, vk, sk).
 */
struct cw {
	uint8_t *b;	      /* the hive bins data (offset 0 = first hbin) */
	size_t len, cap, bin; /* bin: start of the current hive bin */
	uint32_t sk;	      /* the one security cell every key shares */
	uint32_t nkeys;
	uint64_t stamp;
	hive_h *h;
};

/* A cell of n bytes (size field included), 8-aligned, inside one hbin. */
static int64_t cw_alloc(struct cw *w, size_t n)
{
	size_t off;

	n = (n + 7) & ~(size_t)7;
	if (w->len == w->bin || w->len + n > w->bin + get_le32(w->b + w->bin + 8)) {
		size_t binsz = (n + 32 + 4095) & ~(size_t)4095;

		if (w->len > w->bin) { /* the rest of the bin: one free cell */
			size_t end = w->bin + get_le32(w->b + w->bin + 8);

			if (end > w->len)
				put_le32(w->b + w->len, end - w->len);
			w->len = end;
		}
		if (w->len + binsz > w->cap) {
			size_t cap = (w->cap ? w->cap * 2 : 1 << 20);
			uint8_t *nb;

			while (cap < w->len + binsz)
				cap *= 2;
			nb = realloc(w->b, cap);
			if (!nb)
				return -1;
			memset(nb + w->cap, 0, cap - w->cap);
			w->b = nb;
			w->cap = cap;
		}
		w->bin = w->len;
		memcpy(w->b + w->bin, "hbin", 4);
		put_le32(w->b + w->bin + 4, w->bin);
		put_le32(w->b + w->bin + 8, binsz);
		w->len += 32;
	}
	off = w->len;
	put_le32(w->b + off, -(int32_t)n);
	w->len += n;
	return off;
}

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((uint8_t)*s >= 0x80)
			return false;
	return true;
}

static int64_t cw_key(struct cw *w, hive_node_h node, uint32_t parent, int depth)
{
	char *name = hivex_node_name(w->h, node);
	hive_node_h *kids = NULL;
	hive_value_h *vals = NULL;
	size_t nl, nk_n = 0, nv = 0, maxsub = 0, maxvn = 0, maxvd = 0;
	int64_t nk = -1, vl = -1, sl = -1;

	if (!name || depth > 64 || !ascii(name) || (nl = strlen(name)) > 255)
		goto out;
	kids = hivex_node_children(w->h, node);
	vals = hivex_node_values(w->h, node);
	if (!kids || !vals)
		goto fail;
	while (kids[nk_n])
		nk_n++;
	while (vals[nv])
		nv++;
	nk = cw_alloc(w, 4 + 76 + nl);
	if (nk < 0)
		goto fail;
	w->nkeys++;
	/* values: vk cells, data cells, then the list */
	if (nv) {
		vl = cw_alloc(w, 4 + 4 * nv);
		if (vl < 0)
			goto fail;
	}
	for (size_t i = 0; i < nv; i++) {
		char *vn = hivex_value_key(w->h, vals[i]);
		hive_type t;
		size_t dl = 0, vnl;
		char *d = vn ? hivex_value_value(w->h, vals[i], &t, &dl) : NULL;
		int64_t vk = -1, dc = -1;

		if (!vn || !d || !ascii(vn) || (vnl = strlen(vn)) > 255 || dl > 16344) {
			free(vn);
			free(d);
			goto fail;
		}
		vk = cw_alloc(w, 4 + 20 + vnl);
		if (vk >= 0 && dl > 4)
			dc = cw_alloc(w, 4 + dl);
		if (vk < 0 || (dl > 4 && dc < 0)) {
			free(vn);
			free(d);
			goto fail;
		}
		{
			uint8_t *v = w->b + vk + 4;

			memcpy(v, "vk", 2);
			put_le16(v + 2, vnl);
			if (dl <= 4) {
				put_le32(v + 4, dl | 0x80000000u);
				memcpy(v + 8, d, dl);
			} else {
				put_le32(v + 4, dl);
				put_le32(v + 8, dc);
				memcpy(w->b + dc + 4, d, dl);
			}
			put_le32(v + 12, t);
			put_le16(v + 16, vnl ? 1 : 0); /* name in ASCII */
			memcpy(v + 20, vn, vnl);
		}
		put_le32(w->b + vl + 4 + 4 * i, vk);
		if (vnl * 2 > maxvn)
			maxvn = vnl * 2;
		if (dl > maxvd)
			maxvd = dl;
		free(vn);
		free(d);
	}
	/* subkeys, in hivex's (sorted) order, then their lh list */
	if (nk_n) {
		sl = cw_alloc(w, 4 + 4 + 8 * nk_n);
		if (sl < 0)
			goto fail;
		memcpy(w->b + sl + 4, "lh", 2);
		put_le16(w->b + sl + 6, nk_n);
	}
	for (size_t i = 0; i < nk_n; i++) {
		char *kn = hivex_node_name(w->h, kids[i]);
		int64_t c = kn ? cw_key(w, kids[i], nk, depth + 1) : -1;
		uint32_t hash = 0;

		if (c < 0) {
			free(kn);
			goto fail;
		}
		for (const char *p = kn; *p; p++)
			hash = hash * 37 + (uint8_t)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		put_le32(w->b + sl + 8 + 8 * i, c);
		put_le32(w->b + sl + 12 + 8 * i, hash);
		if (strlen(kn) * 2 > maxsub)
			maxsub = strlen(kn) * 2;
		free(kn);
	}
	{
		uint8_t *k = w->b + nk + 4;

		memcpy(k, "nk", 2);
		put_le16(k + 2, depth ? 0x20 : 0x2c); /* COMP_NAME (+ root flags) */
		put_le64(k + 4, w->stamp);
		put_le32(k + 16, depth ? parent : 0);
		put_le32(k + 20, nk_n);
		put_le32(k + 28, nk_n ? (uint32_t)sl : 0xffffffff);
		put_le32(k + 32, 0xffffffff);
		put_le32(k + 36, nv);
		put_le32(k + 40, nv ? (uint32_t)vl : 0xffffffff);
		put_le32(k + 44, w->sk);
		put_le32(k + 48, 0xffffffff);
		put_le32(k + 52, maxsub);
		put_le32(k + 60, maxvn);
		put_le32(k + 64, maxvd);
		put_le16(k + 72, nl);
		memcpy(k + 76, name, nl);
	}
	goto out;
fail:
	nk = -1;
out:
	free(name);
	free(kids);
	free(vals);
	return nk;
}

/* Rewrite the hive at path without free cells.  0, or -1 (path untouched). */
static int hv_compact(const char *path)
{
	static const uint8_t sd[20] = { 1, 0, 0x00, 0x80 };
	struct cw w = { 0 };
	uint8_t orig[4096], *out = NULL;
	int64_t sk, root;
	int rc = -1;
	FILE *f = fopen(path, "rb");

	/* the base block is kept; only the bins are rewritten */
	if (!f || fread(orig, 1, sizeof(orig), f) != sizeof(orig)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	w.h = hivex_open(path, 0);
	if (!w.h)
		goto done;
	/* 2025-07-08 00:00:00 UTC as a FILETIME: the pinned clock of util.c */
	w.stamp = (1751932800ull + 11644473600ull) * 10000000ull;
	sk = cw_alloc(&w, 4 + 20 + sizeof(sd));
	if (sk < 0)
		goto done;
	w.sk = sk;
	root = cw_key(&w, hivex_root(w.h), 0, 0);
	if (root < 0)
		goto done;
	{
		uint8_t *s = w.b + sk + 4;

		memcpy(s, "sk", 2);
		put_le32(s + 4, sk);
		put_le32(s + 8, sk);
		put_le32(s + 12, w.nkeys);
		put_le32(s + 16, sizeof(sd));
		memcpy(s + 20, sd, sizeof(sd));
	}
	{
		size_t end = w.bin + get_le32(w.b + w.bin + 8);

		if (end > w.len)
			put_le32(w.b + w.len, end - w.len);
		w.len = end;
	}
	out = malloc(4096 + w.len);
	if (!out)
		goto done;
	memcpy(out, orig, 4096);
	put_le32(out + 36, root);
	put_le32(out + 40, w.len);
	put_le32(out + 508, base_checksum(out));
	memcpy(out + 4096, w.b, w.len);
	rc = mk_write_file(path, out, 4096 + w.len);
done:
	if (w.h)
		hivex_close(w.h);
	free(out);
	free(w.b);
	return rc;
}

int hv_commit(struct hv *v, const char *path)
{
	int rc = hivex_commit(v->h, path, 0);
	struct stat st;

	if (rc)
		fprintf(stderr, "mkfleet: hivex_commit %s: %s\n", path, strerror(errno));
	hivex_close(v->h);
	unlink(v->tmp);
	free(v);
	/* big hives only: the small ones stay exactly as hivex wrote them */
	if (!rc && !stat(path, &st) &&
	    st.st_size > (getenv("MKFLEET_COMPACT_ALL") ? 0 : HV_COMPACT_OVER) && hv_compact(path))
		fprintf(stderr, "mkfleet: %s: not compacted (kept as hivex wrote it)\n", path);
	return rc;
}

/* ---- Marvin32 (the hash of new-format log entries) ---------------------- */

static uint32_t rotl(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static void mblock(uint32_t *s0, uint32_t *s1)
{
	*s1 ^= *s0;
	*s0 = rotl(*s0, 20);
	*s0 += *s1;
	*s1 = rotl(*s1, 9);
	*s1 ^= *s0;
	*s0 = rotl(*s0, 27);
	*s0 += *s1;
	*s1 = rotl(*s1, 19);
}

static uint64_t marvin32(const uint8_t *p, size_t len)
{
	const uint64_t seed = 0x82EF4D887A4E55C5ull;
	uint32_t s0 = (uint32_t)seed, s1 = (uint32_t)(seed >> 32), fin;

	for (; len >= 4; p += 4, len -= 4) {
		s0 += get_le32(p);
		mblock(&s0, &s1);
	}
	switch (len) {
	case 0: fin = 0x80; break;
	case 1: fin = 0x8000 | p[0]; break;
	case 2: fin = 0x800000 | get_le16(p); break;
	default: fin = 0x80000000u | ((uint32_t)p[2] << 16) | get_le16(p); break;
	}
	s0 += fin;
	mblock(&s0, &s1);
	mblock(&s0, &s1);
	return ((uint64_t)s1 << 32) | s0;
}

/*
 * Turn the committed hive at path into a dirty primary with a .LOG1 that
 * repairs it: the primary keeps its base block with the sequence numbers
 * of an interrupted write (seq1 = seq2 + 1) and loses the content of its
 * last pages (zeroed: the write that never reached the disk); one HvLE
 * entry in the log carries those pages.  With corrupt_log, the entry's
 * hash is wrong, so Windows cannot recover the hive.
 */
int hv_make_dirty_with_log(const char *path, const char *log1, bool corrupt_log)
{
	size_t len, bins, npages, first, elen;
	uint8_t *h = mk_read_file(path, &len), *log;
	uint32_t seq = 10;

	if (!h || len < 8192)
		return -1;
	bins = get_le32(h + 40);
	if (bins + 4096 > len) {
		free(h);
		return -1;
	}
	/* the dirty pages: the last quarter of the bins data (4 KiB pages) */
	npages = bins / 4096;
	first = npages - (npages + 3) / 4;
	elen = 40 + 8 * (npages - first) + (npages - first) * 4096;
	elen = (elen + 511) & ~(size_t)511;
	log = calloc(1, 512 + elen);
	if (!log) {
		free(h);
		return -1;
	}
	/* the log's base block: a copy of the primary's first sector, type 6 */
	memcpy(log, h, 512);
	put_le32(log + 4, seq);
	put_le32(log + 8, seq);
	put_le32(log + 28, 6);
	put_le32(log + 508, base_checksum(log));
	{
		uint8_t *e = log + 512, *ref = e + 40, *pg = ref + 8 * (npages - first);

		memcpy(e, "HvLE", 4);
		put_le32(e + 4, elen);
		put_le32(e + 8, 0);
		put_le32(e + 12, seq);
		put_le32(e + 16, bins);
		put_le32(e + 20, npages - first);
		for (size_t i = first; i < npages; i++) {
			put_le32(ref, i * 4096);
			put_le32(ref + 4, 4096);
			ref += 8;
			memcpy(pg, h + 4096 + i * 4096, 4096);
			pg += 4096;
		}
		put_le64(e + 24, marvin32(e + 40, elen - 40));
		put_le64(e + 32, marvin32(e, 32));
		if (corrupt_log)
			e[24] ^= 0x55;
	}
	/* the primary: interrupted write */
	put_le32(h + 4, seq + 1);
	put_le32(h + 8, seq);
	put_le32(h + 508, base_checksum(h));
	memset(h + 4096 + first * 4096, 0, (npages - first) * 4096);
	if (mk_write_file(path, h, len) || mk_write_file(log1, log, 512 + elen)) {
		free(h);
		free(log);
		return -1;
	}
	free(h);
	free(log);
	return 0;
}

/* For hivedit.c: the base block checksum and the log entries' hash. */
uint32_t hv_checksum(const uint8_t *base)
{
	return base_checksum(base);
}

uint64_t hv_marvin32(const uint8_t *p, size_t len)
{
	return marvin32(p, len);
}
