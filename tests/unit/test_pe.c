/*
 * PE headers (formats/pe): hand-made images (PE32+, PE32), each way to be
 * wrong (no MZ, e_lfanew past the end, huge, "negative", no signature,
 * truncated COFF and optional headers, a bad optional header), the status
 * strings the checks print, and the VS_VERSIONINFO lookup.  Then a
 * differential run: the checks' verdicts before this module (the byte
 * tests that were in scanner/checks/tctx.c and inventory.c, kept below as
 * the oracle) against the parser's, on generated near-PE buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/pe/pe.h"
#include "t_helpers.h"

#define LFA 0x80u

/* A PE32+ image header: MZ, e_lfanew = LFA, COFF, a 0xF0-byte optional header. */
static size_t make_pe(uint8_t *b, size_t cap, uint16_t magic)
{
	size_t len = LFA + 24 + 0xF0;

	memset(b, 0, cap);
	b[0] = 'M';
	b[1] = 'Z';
	put_le32(b + 0x3C, LFA);
	memcpy(b + LFA, "PE\0\0", 4);
	put_le16(b + LFA + 4, 0x8664);	   /* AMD64 */
	put_le16(b + LFA + 6, 7);	   /* sections */
	put_le32(b + LFA + 8, 0x5f3e2a10); /* TimeDateStamp */
	put_le16(b + LFA + 20, 0xF0);	   /* SizeOfOptionalHeader */
	put_le16(b + LFA + 22, 0x0022);	   /* EXECUTABLE | LARGE_ADDRESS_AWARE */
	put_le16(b + LFA + 24, magic);
	put_le32(b + LFA + 24 + 56, 0x00a3c000); /* SizeOfImage */
	put_le16(b + LFA + 24 + 68, 1);		 /* NATIVE */
	return len;
}

static void test_headers(void)
{
	static uint8_t b[4096];
	struct bsw_pe pe;
	size_t len;

	len = make_pe(b, sizeof(b), BSW_PE_MAGIC_PE32P);
	T_CHECK(bsw_pe_parse(b, len, &pe) == BSW_PE_OK, "pe32+ %d", pe.status);
	T_CHECK(pe.e_lfanew == LFA && pe.have_coff && pe.have_opt, "pe32+ decoded");
	T_CHECK(pe.machine == 0x8664 && pe.nr_sections == 7 && pe.timestamp == 0x5f3e2a10 &&
			pe.opt_size == 0xF0 && pe.characteristics == 0x22,
		"coff fields");
	T_CHECK(pe.opt_magic == BSW_PE_MAGIC_PE32P && pe.size_of_image == 0x00a3c000 &&
			pe.subsystem == 1,
		"optional header fields");
	T_CHECK(bsw_pe_status_str(pe.status) == NULL, "ok has no reason");

	len = make_pe(b, sizeof(b), BSW_PE_MAGIC_PE32);
	T_CHECK(bsw_pe_parse(b, len, &pe) == BSW_PE_OK && pe.opt_magic == BSW_PE_MAGIC_PE32 &&
			pe.subsystem == 1,
		"pe32");

	/* no MZ: empty, one byte short of the DOS header, wrong magic */
	T_CHECK(bsw_pe_parse(b, 0, &pe) == BSW_PE_NO_MZ && !pe.have_coff, "empty");
	T_CHECK(bsw_pe_parse(b, 63, &pe) == BSW_PE_NO_MZ, "63 bytes");
	T_CHECK(bsw_pe_parse(b, 64, &pe) == BSW_PE_TRUNCATED, "DOS header only");
	b[0] = 'Z';
	b[1] = 'M';
	T_CHECK(bsw_pe_parse(b, len, &pe) == BSW_PE_NO_MZ && pe.e_lfanew == 0, "ZM");
	T_CHECK(!strcmp(bsw_pe_status_str(pe.status), "not a PE image (no MZ header)"),
		"no-MZ reason %s", bsw_pe_status_str(pe.status));

	/* e_lfanew: past the end, huge, "negative", wrapping in 32 bits */
	static const uint32_t far[] = { LFA + 24 + 0xF0, 0x10000,    0x7fffffff,
					0x80000000,	 0xfffffffc, 0xffffffff };
	for (unsigned i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
		make_pe(b, sizeof(b), BSW_PE_MAGIC_PE32P);
		put_le32(b + 0x3C, far[i]);
		T_CHECK(bsw_pe_parse(b, len, &pe) == BSW_PE_TRUNCATED && !pe.have_coff &&
				pe.e_lfanew == far[i],
			"e_lfanew %#x: %d", far[i], pe.status);
	}
	/* the signature's last byte past the end */
	make_pe(b, sizeof(b), BSW_PE_MAGIC_PE32P);
	T_CHECK(bsw_pe_parse(b, LFA + 3, &pe) == BSW_PE_TRUNCATED, "signature cut");
	/* signature there, COFF header cut one byte short */
	T_CHECK(bsw_pe_parse(b, LFA + 23, &pe) == BSW_PE_TRUNCATED && !pe.have_coff, "coff cut");
	/* COFF whole, optional header cut before Subsystem's last byte */
	T_CHECK(bsw_pe_parse(b, LFA + 24 + 69, &pe) == BSW_PE_TRUNCATED && pe.have_coff &&
			pe.timestamp == 0x5f3e2a10 && !pe.have_opt,
		"optional header cut");
	T_CHECK(bsw_pe_parse(b, LFA + 24 + 70, &pe) == BSW_PE_OK, "through Subsystem");

	/* no signature; e_lfanew at the DOS header itself */
	make_pe(b, sizeof(b), BSW_PE_MAGIC_PE32P);
	memcpy(b + LFA, "PX\0\0", 4);
	T_CHECK(bsw_pe_parse(b, len, &pe) == BSW_PE_NO_PE_SIG && !pe.have_coff, "PX");
	T_CHECK(!strcmp(bsw_pe_status_str(pe.status), "not a PE image (no PE signature)"),
		"no-signature reason %s", bsw_pe_status_str(pe.status));
	make_pe(b, sizeof(b), BSW_PE_MAGIC_PE32P);
	put_le32(b + 0x3C, 0);
	T_CHECK(bsw_pe_parse(b, len, &pe) == BSW_PE_NO_PE_SIG, "e_lfanew 0");
	/* a signature inside the DOS header, its COFF header overlapping it */
	make_pe(b, sizeof(b), BSW_PE_MAGIC_PE32P);
	memcpy(b + 2, "PE\0\0", 4);
	put_le32(b + 0x3C, 2);
	T_CHECK(bsw_pe_parse(b, 64, &pe) == BSW_PE_BAD_OPT && pe.have_coff && pe.opt_size == 0,
		"overlapping headers %d", pe.status);

	/* optional header: absent (an object file), too small, unknown magic */
	make_pe(b, sizeof(b), BSW_PE_MAGIC_PE32P);
	put_le16(b + LFA + 20, 0);
	T_CHECK(bsw_pe_parse(b, len, &pe) == BSW_PE_BAD_OPT && pe.have_coff && !pe.have_opt &&
			pe.timestamp == 0x5f3e2a10,
		"no optional header");
	put_le16(b + LFA + 20, 69);
	T_CHECK(bsw_pe_parse(b, len, &pe) == BSW_PE_BAD_OPT, "optional header too small");
	make_pe(b, sizeof(b), 0x107);
	T_CHECK(bsw_pe_parse(b, len, &pe) == BSW_PE_BAD_OPT && pe.opt_magic == 0x107 &&
			!pe.have_opt && pe.subsystem == 0,
		"ROM magic");
	T_CHECK(bsw_pe_status_str(BSW_PE_TRUNCATED) && bsw_pe_status_str(BSW_PE_BAD_OPT),
		"every failure has a reason");
}

/* Put the UTF-16LE key "VS_VERSION_INFO\0" at off; returns its end. */
static size_t put_key(uint8_t *b, size_t off)
{
	static const char key[] = "VS_VERSION_INFO";

	for (size_t i = 0; i < sizeof(key); i++) {
		b[off + 2 * i] = (uint8_t)key[i];
		b[off + 2 * i + 1] = 0;
	}
	return off + 2 * sizeof(key);
}

static void put_ffi(uint8_t *b, size_t off, uint32_t ms, uint32_t ls)
{
	put_le32(b + off, 0xFEEF04BD);
	put_le32(b + off + 4, 0x00010000);
	put_le32(b + off + 8, ms);
	put_le32(b + off + 12, ls);
}

static void test_version(void)
{
	static uint8_t b[4096];
	uint64_t ver = 0;
	size_t end;

	memset(b, 0, sizeof(b));
	T_CHECK(!bsw_pe_parse_version(b, sizeof(b), &ver), "no key");
	T_CHECK(!bsw_pe_parse_version(b, 0, &ver), "empty");
	/* 10.0.20348.2849 after a key that ends unaligned (0x102 + 32) */
	end = put_key(b, 0x102);
	put_ffi(b, (end + 3) & ~(size_t)3, 10u << 16, 20348u << 16 | 2849);
	T_CHECK(bsw_pe_parse_version(b, sizeof(b), &ver) &&
			ver == ((10ull << 48) | (20348ull << 16) | 2849),
		"version %#llx", (unsigned long long)ver);
	/* the structure cut one byte short: not found */
	T_CHECK(!bsw_pe_parse_version(b, ((end + 3) & ~(size_t)3) + 15, &ver), "cut ffi");
	/* the key cut: not found */
	T_CHECK(!bsw_pe_parse_version(b, end - 1, &ver), "cut key");
	/* a first key without the signature, a second with it */
	memset(b, 0, sizeof(b));
	put_key(b, 0x40);
	end = put_key(b, 0x400);
	put_ffi(b, end, 6u << 16 | 3, 9600u << 16 | 1);
	T_CHECK(bsw_pe_parse_version(b, sizeof(b), &ver) &&
			ver == ((6ull << 48) | (3ull << 32) | (9600ull << 16) | 1),
		"second key");
	/* a key at the very end of the buffer */
	memset(b, 0, sizeof(b));
	put_key(b, sizeof(b) - 32);
	T_CHECK(!bsw_pe_parse_version(b, sizeof(b), &ver), "key at the end");
}

/*
 * The oracle: the byte tests the checks made before formats/pe existed
 * (scanner/checks/tctx.c bsw_check_file's PE test, whose "lfa + 4" is
 * widened here to 64 bits as its wrap was an out-of-bounds read, and
 * scanner/checks/inventory.c's describe() and pe_version()).
 */
static const char *old_check_file(const uint8_t *hdr, size_t n)
{
	uint32_t lfa;

	if (n < 64 || hdr[0] != 'M' || hdr[1] != 'Z')
		return "not a PE image (no MZ header)";
	lfa = get_le32(hdr + 60);
	if ((uint64_t)lfa + 4 <= n && memcmp(hdr + lfa, "PE\0\0", 4))
		return "not a PE image (no PE signature)";
	return NULL;
}

static bool old_version(const uint8_t *d, size_t n, uint64_t *ver)
{
	static const char key[] = "VS_VERSION_INFO";
	uint8_t u16[32];
	size_t i;

	for (i = 0; i < 15; i++) {
		u16[2 * i] = (uint8_t)key[i];
		u16[2 * i + 1] = 0;
	}
	u16[30] = u16[31] = 0;
	for (i = 0; i + 32 <= n;) {
		const uint8_t *p = memmem(d + i, n - i, u16, 32);
		size_t off;

		if (!p)
			return false;
		off = (size_t)(p - d) + 32;
		off = (off + 3) & ~(size_t)3;
		if (off + 16 <= n && get_le32(d + off) == 0xFEEF04BDu) {
			*ver = (uint64_t)get_le32(d + off + 8) << 32 | get_le32(d + off + 12);
			return true;
		}
		i = (size_t)(p - d) + 2;
	}
	return false;
}

/* inventory's link time and version: (have_ts, ts, have_ver, ver) */
struct inv {
	bool have_ts, have_ver;
	uint32_t ts;
	uint64_t ver;
};

static void old_describe(const uint8_t *d, size_t n, struct inv *o)
{
	memset(o, 0, sizeof(*o));
	if (n >= 64 && d[0] == 'M' && d[1] == 'Z') {
		uint32_t lfa = get_le32(d + 60);

		if ((uint64_t)lfa + 12 <= n && !memcmp(d + lfa, "PE\0\0", 4)) {
			uint32_t ts = get_le32(d + lfa + 8);

			if (ts) {
				o->ts = ts;
				o->have_ts = true;
			}
		}
		o->have_ver = old_version(d, n, &o->ver);
	}
}

/* what the checks do now (tctx.c and inventory.c) */
static const char *new_check_file(const uint8_t *hdr, size_t n)
{
	struct bsw_pe pe;

	switch (bsw_pe_parse(hdr, n, &pe)) {
	case BSW_PE_NO_MZ:
	case BSW_PE_NO_PE_SIG: return bsw_pe_status_str(pe.status);
	default: return NULL;
	}
}

static void new_describe(const uint8_t *d, size_t n, struct inv *o)
{
	struct bsw_pe pe;

	memset(o, 0, sizeof(*o));
	if (bsw_pe_parse(d, n, &pe) != BSW_PE_NO_MZ) {
		if (pe.have_coff && pe.timestamp) {
			o->ts = pe.timestamp;
			o->have_ts = true;
		}
		o->have_ver = bsw_pe_parse_version(d, n, &o->ver);
	}
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_differential(void)
{
	static uint8_t b[1024];
	uint64_t s = 0x9e3779b97f4a7c15ull;
	unsigned i, diff_file = 0, diff_inv = 0, cut_coff = 0, ok = 0;

	for (i = 0; i < 200000; i++) {
		size_t n, len = make_pe(b, sizeof(b),
					rng(&s) & 1 ? BSW_PE_MAGIC_PE32P : BSW_PE_MAGIC_PE32);
		uint64_t r = rng(&s);
		struct inv a, c;
		const char *x, *y;

		if (r & 1)
			put_le32(b + 0x3C, (uint32_t)(rng(&s) % 1100));
		if (r & 2)
			put_le32(b + 0x3C, (uint32_t)rng(&s));
		if (r & 4)
			b[rng(&s) % 8] ^= (uint8_t)(1u << (rng(&s) % 8));
		if (r & 8)
			b[LFA + rng(&s) % 4] ^= (uint8_t)(1u << (rng(&s) % 8));
		if (r & 16) {
			size_t k = put_key(b, 0x100 + rng(&s) % 0x80);

			if (r & 32)
				put_ffi(b, (k + 3) & ~(size_t)3, (uint32_t)rng(&s),
					(uint32_t)rng(&s));
			len = sizeof(b);
		}
		if (r & 64)
			put_le32(b + LFA + 8, 0);
		n = r & 128 ? rng(&s) % (len + 1) : len;
		x = old_check_file(b, n);
		y = new_check_file(b, n);
		if (!x != !y || (x && strcmp(x, y)))
			diff_file++;
		old_describe(b, n, &a);
		new_describe(b, n, &c);
		if (memcmp(&a, &c, sizeof(a))) {
			uint32_t lfa = get_le32(b + 0x3C);

			/* the one case the parser reads differently: a file
			 * that ends inside its COFF header (after the
			 * timestamp) has no COFF header, so no link time */
			if (a.have_ts && !c.have_ts && (uint64_t)lfa + 24 > n)
				cut_coff++;
			else
				diff_inv++;
		}
		if (!x && a.have_ts)
			ok++;
	}
	printf("differential: %u inputs, %u with a link time; %u files cut inside the COFF header\n",
	       i, ok, cut_coff);
	T_CHECK(diff_file == 0, "bsw_check_file verdicts differ on %u inputs", diff_file);
	T_CHECK(diff_inv == 0, "inventory link time / version differ on %u inputs", diff_inv);
	T_CHECK(ok > 1000, "the generator reaches valid images (%u)", ok);
}

int main(void)
{
	test_headers();
	test_version();
	test_differential();
	return T_DONE();
}
