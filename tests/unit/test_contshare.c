/*
 * What the container formats share (formats/cont/cont.h,
 * formats/qcow2/clcache.h): bsw_cext_clip at the end of a truncated file;
 * the metadata-table cache (hits without a read, least recently used
 * replaced, a failed read holding nothing); the inflate stream restarted
 * cluster after cluster.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "formats/cont/cont.h"
#include "formats/qcow2/clcache.h"
#include "tests/unit/t_helpers.h"

#define TB 64 /* bytes of one table */

static uint8_t file[16 * TB];
static unsigned reads;
static bool fail_reads;

static int64_t counting_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	(void)ctx;
	reads++;
	if (fail_reads) {
		memset(buf, 0xEE, len); /* a failed read may leave anything */
		return -EIO;
	}
	if (off >= sizeof(file))
		return 0;
	if (len > sizeof(file) - off)
		len = sizeof(file) - off;
	memcpy(buf, file + off, len);
	return (int64_t)len;
}

static void test_clip(void)
{
	struct bsw_cext e;

	e = (struct bsw_cext){ .kind = BSW_CEXT_DATA, .poff = 100, .len = 50 };
	bsw_cext_clip(&e, 1000);
	T_CHECK(e.kind == BSW_CEXT_DATA && e.len == 50, "inside: untouched");
	bsw_cext_clip(&e, 120);
	T_CHECK(e.kind == BSW_CEXT_DATA && e.poff == 100 && e.len == 20, "crossing: cut, len %llu",
		(unsigned long long)e.len);
	bsw_cext_clip(&e, 100);
	T_CHECK(e.kind == BSW_CEXT_ZERO, "at the end: zeros");
	e = (struct bsw_cext){ .kind = BSW_CEXT_PARENT, .poff = 5000, .len = 50 };
	bsw_cext_clip(&e, 100);
	T_CHECK(e.kind == BSW_CEXT_PARENT && e.len == 50, "not data: untouched");
}

static void test_tblcache(void)
{
	struct bsw_src src = { .pread = counting_pread, .size = sizeof(file) };
	struct bsw_tblcache t;
	const uint8_t *p, *q;
	unsigned before;

	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = (uint8_t)(i / TB);
	bsw_tblcache_init(&t, &src, 3, TB);
	T_CHECK(bsw_tblcache_get(&t, 0, &p) == 0 && p[0] == 0 && p[TB - 1] == 0, "table 0");
	T_CHECK(bsw_tblcache_get(&t, TB, &q) == 0 && q[0] == 1, "table 1");
	before = reads;
	T_CHECK(bsw_tblcache_get(&t, 0, &p) == 0 && p[0] == 0 && reads == before,
		"hit without a read");
	T_CHECK(bsw_tblcache_get(&t, 2 * TB, &p) == 0 && p[0] == 2, "table 2: the third slot");
	/* table 1 is the least recently used: table 3 replaces it */
	T_CHECK(bsw_tblcache_get(&t, 3 * TB, &p) == 0 && p[0] == 3, "table 3");
	before = reads;
	T_CHECK(bsw_tblcache_get(&t, 0, &p) == 0 && p[0] == 0 && reads == before, "table 0 kept");
	T_CHECK(bsw_tblcache_get(&t, 2 * TB, &p) == 0 && p[0] == 2 && reads == before,
		"table 2 kept");
	T_CHECK(bsw_tblcache_get(&t, TB, &p) == 0 && p[0] == 1 && reads == before + 1,
		"table 1 was the one replaced");
	/* a failed read leaves nothing under its offset */
	fail_reads = true;
	T_CHECK(bsw_tblcache_get(&t, 5 * TB, &p) == -EIO, "read error passed up");
	fail_reads = false;
	for (unsigned k = 0; k < 3; k++)
		T_CHECK(bsw_tblcache_get(&t, k * TB, &p) == 0 && p[0] == k && p[TB - 1] == k,
			"table %u intact after a failed read", k);
	before = reads;
	T_CHECK(bsw_tblcache_get(&t, 5 * TB, &p) == 0 && p[0] == 5 && reads == before + 1,
		"a failed table is read again, not served from the cache");
	T_CHECK(bsw_tblcache_get(&t, 16 * TB, &p) < 0, "a table past the file refused");
	bsw_tblcache_free(&t);
	bsw_tblcache_free(&t); /* twice, and a zeroed one: fine */
}

static void test_inflate(void)
{
	struct bsw_inflate z = { 0 };
	uint8_t plain[1000], packed[1200], out[1000];

	for (int round = 0; round < 3; round++) {
		uLongf n = sizeof(packed);

		memset(plain, 'a' + round, sizeof(plain));
		T_CHECK(compress(packed, &n, plain, sizeof(plain)) == Z_OK, "compress");
		memset(out, 0, sizeof(out));
		T_CHECK(bsw_inflate_start(&z, 15, packed, n, out, sizeof(out)) == 0, "start %d",
			round);
		T_CHECK(inflate(&z.zs, Z_FINISH) == Z_STREAM_END && z.zs.avail_out == 0 &&
				!memcmp(out, plain, sizeof(out)),
			"round %d inflated", round);
	}
	bsw_inflate_end(&z);
	bsw_inflate_end(&z);
}

int main(void)
{
	test_clip();
	test_tblcache();
	test_inflate();
	return T_DONE();
}
