/*
 * bench_regf: registry hive verification and log replay speed.
 *   bench_regf --make OUT MB        write a synthetic hive of about MB MiB
 *                                   (keys, subkey lists, values, sk ring)
 *   bench_regf --make-dirty HIVE DIR
 *                                   write DIR/hive (bins zeroed, sequence
 *                                   numbers apart) and DIR/hive.LOG1, a
 *                                   new-format log of every page in 1 MiB
 *                                   entries: replay must rebuild HIVE
 *   bench_regf [--reps N] HIVE [LOG...]
 *                                   time bsw_hive_load (verify, and replay
 *                                   when dirty) on the in-memory file; print
 *                                   the median and MB/s (one core)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "formats/common/bytes.h"
#include "formats/regf/regf_int.h"
#include "formats/common/finding.h"

/* ---- generator: bins of 1 MiB, cells bump-allocated ---- */

#define GBIN (1u << 20)

struct gen {
	uint8_t *b; /* bins data */
	size_t cap;
	uint32_t top, bin_end;
	uint32_t sk;
};

static uint8_t *gat(struct gen *g, uint32_t off)
{
	return g->b + off;
}

static uint32_t gcell(struct gen *g, uint32_t len)
{
	uint32_t sz = (len + 4 + 7) & ~7u, off;

	if (g->top + sz > g->bin_end) {
		if (g->top < g->bin_end) /* the rest of the bin: free */
			put_le32(gat(g, g->top), g->bin_end - g->top);
		if ((size_t)g->bin_end + GBIN > g->cap) {
			fprintf(stderr, "generator: out of space\n");
			exit(1);
		}
		memcpy(gat(g, g->bin_end), "hbin", 4);
		put_le32(gat(g, g->bin_end) + 4, g->bin_end);
		put_le32(gat(g, g->bin_end) + 8, GBIN);
		g->top = g->bin_end + 32;
		g->bin_end += GBIN;
	}
	off = g->top;
	put_le32(gat(g, off), (uint32_t) - (int32_t)sz);
	g->top += sz;
	return off;
}

static uint32_t gnk(struct gen *g, const char *name, uint32_t parent, uint16_t flags)
{
	size_t nl = strlen(name);
	uint32_t o = gcell(g, 76 + nl);
	uint8_t *p = gat(g, o) + 4;

	memcpy(p, "nk", 2);
	put_le16(p + 2, flags | BSW_NK_COMP_NAME);
	put_le32(p + 16, parent);
	put_le32(p + 28, BSW_REGF_NONE);
	put_le32(p + 40, BSW_REGF_NONE);
	put_le32(p + 44, g->sk);
	put_le32(p + 48, BSW_REGF_NONE);
	put_le16(p + 72, (uint16_t)nl);
	memcpy(p + 76, name, nl);
	return o;
}

static uint32_t gvk(struct gen *g, const char *name, uint32_t type, const uint8_t *data,
		    uint32_t len)
{
	size_t nl = strlen(name);
	uint32_t d = 0, o;
	uint8_t *p;

	if (len > 4) {
		d = gcell(g, len);
		memcpy(gat(g, d) + 4, data, len);
	}
	o = gcell(g, 20 + nl);
	p = gat(g, o) + 4;
	memcpy(p, "vk", 2);
	put_le16(p + 2, (uint16_t)nl);
	put_le32(p + 4, len <= 4 ? (len | 0x80000000u) : len);
	if (len <= 4)
		memcpy(p + 8, data, len);
	else
		put_le32(p + 8, d);
	put_le32(p + 12, type);
	put_le16(p + 16, BSW_VK_COMP_NAME);
	memcpy(p + 20, name, nl);
	return o;
}

/* lh hash: 37 * h + upper(c) (spec: Hash leaf). */
static uint32_t lh_hash(const char *s)
{
	uint32_t h = 0;

	for (; *s; s++)
		h = 37 * h + (uint32_t)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s);
	return h;
}

static void set_subkeys(struct gen *g, uint32_t k, const uint32_t *kids, char (*names)[16],
			uint32_t n)
{
	uint32_t l = gcell(g, 4 + 8 * n);

	memcpy(gat(g, l) + 4, "lh", 2);
	put_le16(gat(g, l) + 6, (uint16_t)n);
	for (uint32_t i = 0; i < n; i++) {
		put_le32(gat(g, l) + 8 + 8 * i, kids[i]);
		put_le32(gat(g, l) + 12 + 8 * i, lh_hash(names[i]));
	}
	put_le32(gat(g, k) + 4 + 20, n);
	put_le32(gat(g, k) + 4 + 28, l);
}

static int make(const char *out, unsigned mb)
{
	struct gen g = { 0 };
	static char names[1000][16], cn[1000][16];
	static uint32_t kids[1000], ck[1000];
	uint8_t blob[3000], sz[64];
	uint32_t root, nkeys = 0;
	size_t target = (size_t)mb << 20;
	uint8_t base[4096] = { 0 };
	FILE *f;

	g.cap = target + (64u << 20);
	g.b = calloc(1, g.cap);
	if (!g.b)
		return 1;
	for (unsigned i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 31 + 7);
	for (unsigned i = 0; i < 20; i++)
		put_le16(sz + 2 * i, i < 19 ? 'a' + i : 0);
	g.sk = gcell(&g, 20 + 20);
	memcpy(gat(&g, g.sk) + 4, "sk", 2);
	put_le32(gat(&g, g.sk) + 8, g.sk);
	put_le32(gat(&g, g.sk) + 12, g.sk);
	put_le32(gat(&g, g.sk) + 20, 20);
	root = gnk(&g, "ROOT", 0, BSW_NK_HIVE_ENTRY);
	/* Up to 1000 top keys, each with up to 1000 subkeys, sorted names. */
	for (uint32_t t = 0; t < 1000 && g.top < target; t++) {
		uint32_t c = 0;

		snprintf(names[t], sizeof(names[t]), "K%04u", t);
		kids[t] = gnk(&g, names[t], root, 0);
		for (; c < 200 && g.top < target; c++) {
			uint32_t vl, v[4], dw = c;

			snprintf(cn[c], sizeof(cn[c]), "S%04u", c);
			ck[c] = gnk(&g, cn[c], kids[t], 0);
			v[0] = gvk(&g, "Start", BSW_REG_DWORD, (uint8_t *)&dw, 4);
			v[1] = gvk(&g, "ImagePath", BSW_REG_EXPAND_SZ, sz, 40);
			v[2] = gvk(&g, "Blob", BSW_REG_BINARY, blob, 1000 + (c * 37) % 2000);
			v[3] = gvk(&g, "Multi", BSW_REG_MULTI_SZ, sz, 40);
			vl = gcell(&g, 16);
			for (int i = 0; i < 4; i++)
				put_le32(gat(&g, vl) + 4 + 4 * i, v[i]);
			put_le32(gat(&g, ck[c]) + 4 + 36, 4);
			put_le32(gat(&g, ck[c]) + 4 + 40, vl);
			nkeys++;
		}
		set_subkeys(&g, kids[t], ck, cn, c);
		put_le32(gat(&g, g.sk) + 16, ++nkeys);
		if (g.top >= target) {
			set_subkeys(&g, root, kids, names, t + 1);
			break;
		}
		if (t == 999)
			set_subkeys(&g, root, kids, names, 1000);
	}
	put_le32(gat(&g, g.sk) + 16, nkeys + 1);
	if (g.top < g.bin_end)
		put_le32(gat(&g, g.top), g.bin_end - g.top);
	memcpy(base, "regf", 4);
	put_le32(base + 4, 1);
	put_le32(base + 8, 1);
	put_le32(base + 20, 1);
	put_le32(base + 24, 5);
	put_le32(base + 32, 1);
	put_le32(base + 36, root);
	put_le32(base + 40, g.bin_end);
	put_le32(base + 44, 1);
	put_le32(base + 508, bsw_regf_checksum(base));
	f = fopen(out, "wx");
	if (!f || fwrite(base, 1, 4096, f) != 4096 || fwrite(g.b, 1, g.bin_end, f) != g.bin_end ||
	    fclose(f)) {
		perror(out);
		return 1;
	}
	printf("made %s: %u keys, %.1f MiB\n", out, nkeys, (4096.0 + g.bin_end) / 1048576.0);
	free(g.b);
	return 0;
}

/* ---- timing ---- */

static int put_file(const char *dir, const char *name, const uint8_t *a, size_t alen)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "wx");
	if (!f || fwrite(a, 1, alen, f) != alen || fclose(f)) {
		perror(p);
		return 1;
	}
	return 0;
}

static uint8_t *slurp(const char *p, size_t *len);

static int make_dirty(const char *hive, const char *dir)
{
	size_t len, bins, o = 512;
	uint8_t *d = slurp(hive, &len), *log, *prim;
	uint32_t seq;
	const uint32_t chunk = 1u << 20;

	if (len < 8192 || memcmp(d, "regf", 4))
		return 1;
	bins = get_le32(d + 40);
	if (4096 + bins > len)
		return 1;
	seq = get_le32(d + 8);
	/* Per entry: header, 8 bytes per page reference, padding to 512. */
	log = calloc(1, 512 + bins + (bins / chunk + 1) * 4096);
	prim = calloc(1, 4096 + bins);
	if (!log || !prim)
		return 1;
	/* Log base block: a copy, type 6, both sequence numbers = seq. */
	memcpy(log, d, 512);
	put_le32(log + 4, seq);
	put_le32(log + 8, seq);
	put_le32(log + 28, 6);
	put_le32(log + 508, bsw_regf_checksum(log));
	for (size_t p = 0; p < bins; p += chunk, seq++) {
		uint32_t n = (uint32_t)((bins - p < chunk ? bins - p : chunk) / 4096);
		uint32_t size = (40 + 8 * n + n * 4096 + 511) & ~511u;
		uint8_t *e = log + o;

		memcpy(e, "HvLE", 4);
		put_le32(e + 4, size);
		put_le32(e + 12, seq);
		put_le32(e + 16, (uint32_t)bins);
		put_le32(e + 20, n);
		for (uint32_t i = 0; i < n; i++) {
			put_le32(e + 40 + 8 * i, (uint32_t)(p + 4096 * i));
			put_le32(e + 44 + 8 * i, 4096);
		}
		memcpy(e + 40 + 8 * n, d + 4096 + p, (size_t)n * 4096);
		put_le64(e + 24, bsw_regf_marvin32(BSW_REGF_MARVIN_SEED, e + 40, size - 40));
		put_le64(e + 32, bsw_regf_marvin32(BSW_REGF_MARVIN_SEED, e, 32));
		o += size;
	}
	/* Primary: base block with seq1 = seq2 + 1, bins all zero. */
	memcpy(prim, d, 4096);
	put_le32(prim + 4, get_le32(d + 8) + 1);
	put_le32(prim + 508, bsw_regf_checksum(prim));
	if (put_file(dir, "hive", prim, 4096 + bins) || put_file(dir, "hive.LOG1", log, o))
		return 1;
	printf("made %s/hive (+ .LOG1: %zu bytes, %u entries)\n", dir, o, seq - get_le32(d + 8));
	free(d);
	free(log);
	free(prim);
	return 0;
}

static uint8_t *slurp(const char *p, size_t *len)
{
	struct stat st;
	uint8_t *b;
	int fd = open(p, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		perror(p);
		exit(1);
	}
	b = malloc(st.st_size + 1);
	if (!b || read(fd, b, st.st_size) != st.st_size) {
		perror(p);
		exit(1);
	}
	close(fd);
	*len = st.st_size;
	return b;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int reps = 5, a = 1;
	struct bsw_buf logs[4];
	unsigned nl = 0;
	double t[64];
	uint8_t *d;
	size_t len;
	enum bsw_hive_state st = BSW_HIVE_CLEAN;
	size_t nf = 0;

	if (argc == 4 && !strcmp(argv[1], "--make-dirty"))
		return make_dirty(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "--make"))
		return make(argv[2], (unsigned)atoi(argv[3]));
	if (argc > 2 && !strcmp(argv[1], "--reps")) {
		reps = atoi(argv[2]);
		a = 3;
	}
	if (reps < 1 || reps > 64 || a >= argc) {
		fprintf(stderr, "usage: bench_regf --make OUT MB | [--reps N] HIVE [LOG...]\n");
		return 16;
	}
	d = slurp(argv[a], &len);
	for (int i = a + 1; i < argc && nl < 4; i++, nl++) {
		logs[nl].data = slurp(argv[i], &logs[nl].len);
		logs[nl].name = argv[i];
	}
	for (int r = 0; r < reps; r++) {
		struct bsw_fx *fx;
		struct bsw_hive *h;
		double t0;

		if (bsw_fx_create(&fx))
			return 8;
		t0 = now();
		bsw_fx_set_damage(fx, BSW_V_UNBOOT);
		if (bsw_hive_load(&h, d, len, logs, nl, fx))
			return 8;
		t[r] = now() - t0;
		st = bsw_hive_state(h);
		nf = bsw_fx_count(fx);
		bsw_hive_free(h);
		bsw_fx_destroy(fx);
	}
	qsort(t, reps, sizeof(t[0]), cmpd);
	printf("%s: %.1f MiB, state %s, %zu findings, median %.1f ms over %d runs, %.0f MiB/s\n",
	       argv[a], len / 1048576.0, bsw_hive_state_name(st), nf, t[reps / 2] * 1e3, reps,
	       len / 1048576.0 / t[reps / 2]);
	free(d);
	for (unsigned i = 0; i < nl; i++)
		free((void *)logs[i].data);
	return 0;
}
