/*
 * qcow2 container on images built in memory from qcow2.txt: data, zero,
 * unallocated and compressed (deflate, zstd) clusters mapped exactly;
 * extended L2 subclusters; the backing name as a locator; one damage per
 * check (L1 into the header or past the file, unaligned and out-of-file
 * L2 entries, compressed clusters past the end or expanding too far,
 * absurd sizes, the memory cap, unknown features, encryption, external
 * data files); the decompressed-cluster cache keeps 256 pointers valid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "formats/common/bytes.h"
#include "formats/cont/cont.h"
#include "tests/unit/t_helpers.h"

#define CB 9 /* 512-byte clusters: 64 L2 entries */
#define CS (1u << CB)
#define VSIZE (128u * CS) /* two L2 tables' worth */

static uint8_t img[1 << 21];
static size_t img_len;

/* Cluster layout: 0 header, 1 L1, 2 L2 (table 0), 3.. data. */
static void build(int version, bool ext_l2, int ctype)
{
	uint8_t *h = img;
	unsigned ent = ext_l2 ? 16 : 8;

	memset(img, 0, sizeof(img));
	put_be32(h, 0x514649fb);
	put_be32(h + 4, version);
	put_be32(h + 20, ext_l2 ? 14 : CB);
	put_be64(h + 24, VSIZE);
	put_be32(h + 36, 2); /* L1 entries */
	put_be64(h + 40, 1 * CS);
	if (version == 3) {
		put_be64(h + 72, (ext_l2 ? 1u << 4 : 0) | (ctype ? 1u << 3 : 0));
		put_be32(h + 96, 4);
		put_be32(h + 100, 112);
		h[104] = (uint8_t)ctype;
	}
	(void)ent;
	put_be64(img + CS, (1ull << 63) | 2 * CS); /* L1[0] -> L2 at cluster 2 */
	img_len = 8 * CS;
}

static void l2(unsigned i, uint64_t e)
{
	put_be64(img + 2 * CS + 8 * i, e);
}

static int open_img(void **h, struct bsw_cont_info *ci, struct bsw_fx *fx, uint64_t cap, char *err)
{
	static struct bsw_src src;
	static struct bsw_src_mem mem;
	struct bsw_cont_opts o = { .mem_cap = cap };

	bsw_src_mem_init(&src, &mem, img, img_len);
	memset(ci, 0, sizeof(*ci));
	err[0] = 0;
	if (bsw_qcow2_ops.probe(&src) != 1)
		return -1000;
	return bsw_qcow2_ops.open(h, &src, &o, fx, ci, err, 256);
}

/* Raw deflate of one cluster filled with byte v, at file offset off. */
static size_t put_deflate(uint64_t off, uint8_t v, size_t cluster)
{
	uint8_t in[16384];
	z_stream z = { 0 };
	size_t n;

	memset(in, v, cluster);
	for (size_t i = 0; i < cluster; i += 7)
		in[i] = (uint8_t)(i * 3);
	deflateInit2(&z, 9, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY);
	z.next_in = in;
	z.avail_in = cluster;
	z.next_out = img + off;
	z.avail_out = sizeof(img) - off;
	deflate(&z, Z_FINISH);
	n = z.total_out;
	deflateEnd(&z);
	return n;
}

static uint64_t comp_entry(uint64_t off, size_t clen, unsigned cb)
{
	unsigned x = 62 - (cb - 8);
	uint64_t nsec = (off + clen + 511) / 512 - off / 512;

	return (1ull << 62) | ((nsec - 1) << x) | off;
}

static void check_expected_cluster(const uint8_t *p, uint8_t v, size_t n, const char *what)
{
	bool same = true;

	for (size_t i = 0; i < n; i++)
		if (p[i] != ((i % 7) ? v : (uint8_t)(i * 3)))
			same = false;
	T_CHECK(same, "%s: decompressed bytes", what);
}

int main(void)
{
	struct bsw_cont_info ci;
	struct bsw_cext e;
	struct bsw_fx *fx;
	char err[256];
	void *h;
	int rc;

	T_CHECK(bsw_fx_create(&fx) == 0, "fx");

	/* --- a v3 image: data, zero, unallocated, compressed ------------- */
	build(3, false, 0);
	l2(0, (1ull << 63) | 3 * CS);	  /* data, cluster 3 */
	l2(1, (1ull << 63) | 4 * CS);	  /* data, cluster 4: contiguous */
	l2(2, 1);			  /* zero */
	l2(3, 0);			  /* unallocated */
	l2(4, (1ull << 63) | 5 * CS | 1); /* preallocated zero */
	{
		size_t n = put_deflate(6 * CS + 100, 0x42, CS);

		l2(5, comp_entry(6 * CS + 100, n, CB));
	}
	rc = open_img(&h, &ci, fx, 0, err);
	T_CHECK(rc == 0, "open v3: %d %s", rc, err);
	if (!rc) {
		T_CHECK(!strcmp(ci.format, "qcow2") && !strcmp(ci.subformat, "v3"), "format");
		T_CHECK(ci.virtual_size == VSIZE && !ci.has_parent, "size/parent");
		T_CHECK(bsw_qcow2_ops.map(h, 10, VSIZE, &e) == 0 && e.kind == BSW_CEXT_DATA &&
				e.poff == 3 * CS + 10 && e.len == 2 * CS - 10,
			"two contiguous data clusters as one extent");
		T_CHECK(bsw_qcow2_ops.map(h, 2 * CS, VSIZE, &e) == 0 && e.kind == BSW_CEXT_ZERO &&
				e.len == CS,
			"zero cluster");
		T_CHECK(bsw_qcow2_ops.map(h, 3 * CS, VSIZE, &e) == 0 && e.kind == BSW_CEXT_ZERO &&
				e.len == CS,
			"unallocated without backing reads zero");
		T_CHECK(bsw_qcow2_ops.map(h, 4 * CS + 1, 5, &e) == 0 && e.kind == BSW_CEXT_ZERO &&
				e.len == 5,
			"preallocated zero cluster");
		rc = bsw_qcow2_ops.map(h, 5 * CS, VSIZE, &e);
		T_CHECK(rc == 0 && e.kind == BSW_CEXT_MEM && e.len == CS,
			"compressed -> memory: %d", rc);
		if (!rc && e.kind == BSW_CEXT_MEM)
			check_expected_cluster(e.mem, 0x42, CS, "deflate");
		T_CHECK(bsw_qcow2_ops.map(h, 6 * CS, 3 * CS, &e) == 0 && e.kind == BSW_CEXT_ZERO &&
				e.len == 3 * CS,
			"rest of table unallocated");
		T_CHECK(bsw_qcow2_ops.map(h, 64 * CS + 7, VSIZE, &e) == 0 &&
				e.kind == BSW_CEXT_ZERO && e.len == 64 * CS - 7,
			"no L2 table: up to the end of its range");
		T_CHECK(bsw_qcow2_ops.map(h, VSIZE, 1, &e) == -EIO, "past the end");
		bsw_qcow2_ops.close(h);
		bsw_cont_info_free(&ci);
	}

	/* --- hostile L2 entries are refused at map ---------------------- */
	build(3, false, 0);
	l2(0, (1ull << 63) |
		      (60ull * CS +
		       CS)); /* past the end (the unaligned case needs bigger clusters: below) */
	l2(1, (1ull << 63) | 0);		 /* the header cluster? offset 0 = unallocated */
	l2(2, (1ull << 63) | (uint64_t)60 * CS); /* past the 8-cluster file */
	{
		size_t n = put_deflate(6 * CS, 0x11, CS);

		l2(3, comp_entry(100 * CS, n, CB)); /* compressed past the end */
		/* compressed data that expands beyond a cluster: 2 clusters' worth */
		n = put_deflate(4 * CS, 0x22, 2 * CS);
		l2(4, comp_entry(4 * CS, n, CB));
		/* compressed data that ends early: a quarter cluster */
		n = put_deflate(5 * CS, 0x33, CS / 4);
		l2(5, comp_entry(5 * CS, n, CB));
		l2(6, comp_entry(7 * CS, 64, CB)); /* not deflate at all */
		memset(img + 7 * CS, 0xff, 64);
	}
	l2(7, (1ull << 63) | 1 * CS); /* points into... the L1 cluster: data cluster; allowed */
	rc = open_img(&h, &ci, fx, 0, err);
	T_CHECK(rc == 0, "open hostile-L2 image: %s", err);
	if (!rc) {
		T_CHECK(bsw_qcow2_ops.map(h, 0, CS, &e) == -EUCLEAN,
			"data cluster past the file refused (entry 0)");
		T_CHECK(bsw_qcow2_ops.map(h, 1 * CS, CS, &e) == 0 && e.kind == BSW_CEXT_ZERO,
			"offset 0 with flags only is unallocated");
		T_CHECK(bsw_qcow2_ops.map(h, 2 * CS, CS, &e) == -EUCLEAN,
			"data cluster past the file refused");
		T_CHECK(bsw_qcow2_ops.map(h, 3 * CS, CS, &e) == -EUCLEAN,
			"compressed cluster past the file refused");
		T_CHECK(bsw_qcow2_ops.map(h, 4 * CS, CS, &e) == 0 && e.kind == BSW_CEXT_MEM,
			"a stream longer than a cluster fills the cluster (the size is known only to the sector)");
		T_CHECK(bsw_qcow2_ops.map(h, 5 * CS, CS, &e) == -EUCLEAN,
			"compressed cluster that ends early refused");
		T_CHECK(bsw_qcow2_ops.map(h, 6 * CS, CS, &e) == -EUCLEAN,
			"garbage compressed data refused");
		bsw_qcow2_ops.close(h);
		bsw_cont_info_free(&ci);
	}

	/* --- zstd ---------------------------------------------------------- */
	build(3, false, 1);
	{
		uint8_t in[CS];
		size_t n;

		for (size_t i = 0; i < CS; i++)
			in[i] = (i % 7) ? 0x66 : (uint8_t)(i * 3);
		n = ZSTD_compress(img + 4 * CS, 2 * CS, in, CS, 3);
		T_CHECK(!ZSTD_isError(n), "zstd compress");
		l2(0, comp_entry(4 * CS, n, CB));
		/* two frames of half a cluster each, as a writer may emit */
		n = ZSTD_compress(img + 6 * CS, CS, in, CS / 2, 3);
		n += ZSTD_compress(img + 6 * CS + n, CS, in + CS / 2, CS / 2, 3);
		l2(1, comp_entry(6 * CS, n, CB));
	}
	rc = open_img(&h, &ci, fx, 0, err);
	T_CHECK(rc == 0, "open zstd: %s", err);
	if (!rc) {
		rc = bsw_qcow2_ops.map(h, 0, CS, &e);
		T_CHECK(rc == 0 && e.kind == BSW_CEXT_MEM, "zstd cluster: %d", rc);
		if (!rc)
			check_expected_cluster(e.mem, 0x66, CS, "zstd");
		rc = bsw_qcow2_ops.map(h, CS, CS, &e);
		T_CHECK(rc == 0 && e.kind == BSW_CEXT_MEM, "zstd cluster of two frames: %d", rc);
		bsw_qcow2_ops.close(h);
		bsw_cont_info_free(&ci);
	}

	/* --- extended L2: subclusters allocated, zero, unallocated --------- */
	{
		const uint64_t cs = 1u << 14, sc = cs / 32;

		img_len =
			8 * CS; /* header, L1 and L2 are at 512-byte clusters: rebuild for 16 KiB */
		memset(img, 0, sizeof(img));
		put_be32(img, 0x514649fb);
		put_be32(img + 4, 3);
		put_be32(img + 20, 14);
		put_be64(img + 24, 4 * cs);
		put_be32(img + 36, 1);
		put_be64(img + 40, cs);
		put_be64(img + 72, 1u << 4);
		put_be32(img + 96, 4);
		put_be32(img + 100, 112);
		put_be64(img + cs, 2 * cs);
		/* cluster 0: subclusters 0-3 allocated, 4 zero, rest unallocated */
		put_be64(img + 2 * cs, 3 * cs);
		put_be64(img + 2 * cs + 8, 0xfull | (1ull << (32 + 4)));
		/* cluster 1: a subcluster both allocated and zero: invalid */
		put_be64(img + 2 * cs + 16, 3 * cs);
		put_be64(img + 2 * cs + 24, 1ull | (1ull << 32));
		/* cluster 2: no host cluster but a subcluster marked allocated */
		put_be64(img + 2 * cs + 40, 1ull << 3);
		img_len = 4 * cs;
		static struct bsw_src src;
		static struct bsw_src_mem mem;

		bsw_src_mem_init(&src, &mem, img, img_len);
		memset(&ci, 0, sizeof(ci));
		rc = bsw_qcow2_ops.open(&h, &src, NULL, fx, &ci, err, sizeof(err));
		T_CHECK(rc == 0, "open extended L2: %s", err);
		if (!rc) {
			T_CHECK(!strcmp(ci.subformat, "v3, extended L2"), "subformat %s",
				ci.subformat);
			T_CHECK(bsw_qcow2_ops.map(h, 10, 4 * cs, &e) == 0 &&
					e.kind == BSW_CEXT_DATA && e.poff == 3 * cs + 10 &&
					e.len == 4 * sc - 10,
				"allocated subclusters 0-3");
			T_CHECK(bsw_qcow2_ops.map(h, 4 * sc, 4 * cs, &e) == 0 &&
					e.kind == BSW_CEXT_ZERO && e.len == sc,
				"zero subcluster 4");
			T_CHECK(bsw_qcow2_ops.map(h, 5 * sc, 4 * cs, &e) == 0 &&
					e.kind == BSW_CEXT_ZERO && e.len == 27 * sc,
				"unallocated subclusters 5-31 (no backing: zeros)");
			T_CHECK(bsw_qcow2_ops.map(h, cs, sc, &e) == -EUCLEAN,
				"allocated+zero subcluster refused");
			T_CHECK(bsw_qcow2_ops.map(h, 2 * cs + 3 * sc, sc, &e) == -EUCLEAN,
				"allocated subcluster without a host cluster refused");
			bsw_qcow2_ops.close(h);
			bsw_cont_info_free(&ci);
		}
	}

	/* --- backing file ------------------------------------------------- */
	build(3, false, 0);
	memcpy(img + 200, "../base/win.qcow2", 17);
	put_be64(img + 8, 200);
	put_be32(img + 16, 17);
	l2(0, 0);
	rc = open_img(&h, &ci, fx, 0, err);
	T_CHECK(rc == 0, "open with backing: %s", err);
	if (!rc) {
		T_CHECK(ci.has_parent && ci.nr_locators == 1 &&
				!strcmp(ci.locator[0], "../base/win.qcow2") &&
				!strcmp(ci.locator_kind[0], "relative"),
			"backing locator");
		T_CHECK(bsw_qcow2_ops.map(h, 0, CS, &e) == 0 && e.kind == BSW_CEXT_PARENT &&
				e.len == CS,
			"unallocated -> parent");
		T_CHECK(bsw_qcow2_ops.map(h, 64 * CS, CS, &e) == 0 && e.kind == BSW_CEXT_PARENT,
			"no L2 table -> parent");
		bsw_qcow2_ops.close(h);
		bsw_cont_info_free(&ci);
	}
	memcpy(img + 200, "/abs/win.qcow2\0\0\0", 17);
	put_be32(img + 16, 14);
	rc = open_img(&h, &ci, fx, 0, err);
	T_CHECK(rc == 0 && !strcmp(ci.locator_kind[0], "absolute"), "absolute backing name");
	if (!rc) {
		bsw_qcow2_ops.close(h);
		bsw_cont_info_free(&ci);
	}
	memcpy(img + 200, "json:{\"file\":1}", 15);
	put_be32(img + 16, 15);
	T_CHECK(open_img(&h, &ci, fx, 0, err) == -ENOTSUP && strstr(err, "JSON"),
		"json: backing refused: %s", err);
	put_be32(img + 16, 2000);
	T_CHECK(open_img(&h, &ci, fx, 0, err) == -EINVAL && strstr(err, "longer than 1023"),
		"long backing name: %s", err);
	put_be32(img + 16, 10);
	put_be64(img + 8, CS - 4);
	T_CHECK(open_img(&h, &ci, fx, 0, err) == -EINVAL, "backing name past the header cluster");

	/* --- one damage per open check ------------------------------------ */
#define EXPECT_OPEN(setup, want_rc, substr, what)                                                  \
	do {                                                                                       \
		build(3, false, 0);                                                                \
		setup;                                                                             \
		rc = open_img(&h, &ci, fx, 0, err);                                                \
		T_CHECK(rc == (want_rc) && strstr(err, substr), "%s: rc %d err '%s'", what, rc,    \
			err);                                                                      \
		if (!rc) {                                                                         \
			bsw_qcow2_ops.close(h);                                                    \
			bsw_cont_info_free(&ci);                                                   \
		}                                                                                  \
	} while (0)
	/* 4 KiB clusters: an L2 table and a data cluster that are not aligned */
	build(3, false, 0);
	put_be32(img + 20, 12);
	put_be64(img + 40, 4096);
	put_be64(img + 4096, 2 * 4096 + 512);
	img_len = 4 * 4096;
	rc = open_img(&h, &ci, fx, 0, err);
	T_CHECK(rc == -EINVAL &&
			strstr(err,
			       "L1 entry 0 points to an L2 table at offset 8704 that is unaligned"),
		"unaligned L2 table: %d %s", rc, err);
	put_be64(img + 4096, 2 * 4096);
	put_be64(img + 2 * 4096, 3 * 4096 + 512);
	put_be64(img + 2 * 4096 + 8, 0);
	rc = open_img(&h, &ci, fx, 0, err);
	T_CHECK(rc == 0, "4 KiB clusters: %s", err);
	if (!rc) {
		T_CHECK(bsw_qcow2_ops.map(h, 0, 4096, &e) == -EUCLEAN,
			"unaligned data cluster refused");
		bsw_qcow2_ops.close(h);
		bsw_cont_info_free(&ci);
	}
	EXPECT_OPEN(put_be64(img + CS, 100 * CS), -EINVAL, "past the end",
		    "L2 table past the file");
	EXPECT_OPEN(put_be64(img + CS, CS), -EINVAL, "overlaps the header or the L1 table",
		    "L2 table on the L1 table");
	EXPECT_OPEN(put_be64(img + 40, 0), -EINVAL, "L1 table", "L1 in the header");
	EXPECT_OPEN(put_be64(img + 40, 50 * CS), -EINVAL, "past the end", "L1 past the file");
	EXPECT_OPEN(put_be32(img + 36, 1), -EINVAL, "fewer than the 2",
		    "L1 too small for the size");
	EXPECT_OPEN(put_be64(img + 24, 1ull << 62), -EINVAL, "above 64 PiB", "huge virtual size");
	EXPECT_OPEN((put_be64(img + 24, 1ull << 40), put_be32(img + 36, 1u << 25)), -EINVAL,
		    "exceeds 32 MiB", "huge L1");
	EXPECT_OPEN(put_be32(img + 20, 30), -EINVAL, "cluster_bits 30", "huge clusters");
	EXPECT_OPEN(put_be32(img + 4, 4), -ENOTSUP, "version 4", "unknown version");
	EXPECT_OPEN(put_be64(img + 72, 1u << 7), -ENOTSUP, "unknown incompatible feature bits 0x80",
		    "unknown feature");
	EXPECT_OPEN(put_be32(img + 32, 2), -ENOTSUP, "encrypted (LUKS)", "LUKS");
	EXPECT_OPEN(put_be32(img + 32, 1), -ENOTSUP, "legacy AES", "AES");
	EXPECT_OPEN((put_be64(img + 72, 1u << 3), img[104] = 7), -ENOTSUP, "compression type 7",
		    "unknown compression");
	EXPECT_OPEN((put_be64(img + 72, 1u << 2), put_be32(img + 112, 0x44415441),
		     put_be32(img + 116, 8), memcpy(img + 120, "data.raw", 8)),
		    -ENOTSUP, "external data file ('data.raw')", "external data file");
	EXPECT_OPEN((put_be32(img + 112, 0x12345678), put_be32(img + 116, 0x7fffffff)), -EINVAL,
		    "runs past the first cluster", "header extension too long");
	EXPECT_OPEN(put_be32(img + 100, 4000), -EINVAL, "header_length 4000", "header length");
	EXPECT_OPEN(put_be32(img, 0x514649fb), 0, "", "an intact image opens");

	/* the memory cap: L1 + 16 L2 slots of 512 bytes do not fit in 4 KiB */
	build(3, false, 0);
	rc = open_img(&h, &ci, fx, 4096, err);
	T_CHECK(rc == -EFBIG && strstr(err, "memory cap of 4096"), "mem cap: %d %s", rc, err);

	/* corrupt and dirty bits are findings; the image still opens */
	build(3, false, 0);
	put_be64(img + 72, 3);
	{
		struct bsw_fx *f2;

		T_CHECK(bsw_fx_create(&f2) == 0, "fx2");
		rc = open_img(&h, &ci, f2, 0, err);
		T_CHECK(rc == 0, "corrupt-bit image opens read-only: %s", err);
		if (!rc) {
			bsw_qcow2_ops.close(h);
			bsw_cont_info_free(&ci);
		}
		bsw_fx_finish(f2);
		T_CHECK(bsw_fx_nr(f2, PR_QCOW2_0_CORRUPT) == 1 &&
				bsw_fx_nr(f2, PR_QCOW2_0_DIRTY) == 1,
			"CONT-QCOW2 corrupt and dirty findings");
		bsw_fx_destroy(f2);
	}

	/* QEMU-family formats that are not read are refused by name */
	memset(img, 0, sizeof(img));
	memcpy(img, "QED\0", 4);
	img_len = 4096;
	rc = open_img(&h, &ci, fx, 0, err);
	T_CHECK(rc == -ENOTSUP && strstr(err, "QED"), "QED: %d %s", rc, err);
	memset(img, 0, 512);
	put_le32(img + 0x40, 0xbeda107f);
	rc = open_img(&h, &ci, fx, 0, err);
	T_CHECK(rc == -ENOTSUP && strstr(err, "VDI"), "VDI: %d %s", rc, err);

	/*
	 * The cache lifetime: 300 compressed clusters mapped in a row; the
	 * last 256 pointers handed out must still hold their cluster's bytes
	 * (disk.c copies a batch of 256 extents after mapping them all).
	 */
	{
		static uint8_t big[2 * 1024 * 1024];
		const unsigned n = 300;
		const uint8_t *ptr[300];
		uint64_t pos = 8 * CS;
		struct bsw_src src;
		struct bsw_src_mem mem;

		/* 512 clusters of disk: L1 of 8, five L2 tables at clusters 3000.. */
		build(3, false, 0);
		put_be64(img + 24, 512 * CS);
		put_be32(img + 36, 8);
		memset(big, 0, sizeof(big));
		memcpy(big, img, 2 * CS);
		for (unsigned t = 0; t < 5; t++)
			put_be64(big + CS + 8 * t, (1ull << 63) | (uint64_t)(3000 + t) * CS);
		for (unsigned i = 0; i < n; i++) {
			uint8_t in[CS];
			z_stream z = { 0 };

			memset(in, (uint8_t)i, CS);
			in[0] = (uint8_t)(i >> 8);
			deflateInit2(&z, 1, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY);
			z.next_in = in;
			z.avail_in = CS;
			z.next_out = big + pos;
			z.avail_out = 4096;
			deflate(&z, Z_FINISH);
			put_be64(big + (uint64_t)(3000 + i / 64) * CS + 8 * (i % 64),
				 comp_entry(pos, z.total_out, CB));
			pos += z.total_out + 3;
			deflateEnd(&z);
		}
		bsw_src_mem_init(&src, &mem, big, 3005 * CS + CS);
		memset(&ci, 0, sizeof(ci));
		rc = bsw_qcow2_ops.open(&h, &src, NULL, fx, &ci, err, sizeof(err));
		T_CHECK(rc == 0, "open 300 compressed clusters: %s", err);
		if (!rc) {
			bool good = true;

			for (unsigned i = 0; i < n; i++) {
				rc = bsw_qcow2_ops.map(h, (uint64_t)i * CS, CS, &e);
				if (rc || e.kind != BSW_CEXT_MEM) {
					good = false;
					break;
				}
				ptr[i] = e.mem;
			}
			T_CHECK(good, "map 300 compressed clusters");
			for (unsigned i = n - 256; good && i < n; i++)
				if (ptr[i][0] != (uint8_t)(i >> 8) || ptr[i][CS - 1] != (uint8_t)i)
					good = false;
			T_CHECK(good,
				"the last 256 decompressed pointers still hold their clusters");
			bsw_qcow2_ops.close(h);
			bsw_cont_info_free(&ci);
		}
	}

	bsw_fx_destroy(fx);
	return T_DONE();
}
