/*
 * Volume tests of the NTFS reader on tests/images/ntfs/win.img.xz (a
 * Windows-shaped volume made by mkwin.sh): the namespace, hard links,
 * streams, compressed and sparse contents; then corruption injected into an
 * in-memory copy (torn records, boot sectors, records 0-3, parent loops, an
 * attribute list with name offset 0x1C, the dirty flag, a missing index
 * entry, cross-linked clusters) must give the catalogue codes, no crash.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <wimlib.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"
#include "formats/ntfs/ntfs_wof.h"
#include "scanner/checks/bootfiles.h"
#include "t_helpers.h"
#include "ntfs_img.h"

struct opened {
	uint8_t *copy;
	struct bsw_src src;
	struct bsw_src_mem mem;
	struct bsw_fx *fx;
	struct bsw_ntfs *v;
	int ret;
};

static void vopen(struct opened *o, uint8_t *data)
{
	struct bsw_ntfs_opts opts = { .run_checks = true,
				      .critical = bsw_boot_files,
				      .nr_critical = bsw_nr_boot_files };

	bsw_src_mem_init(&o->src, &o->mem, data, img_len);
	bsw_fx_create(&o->fx);
	o->ret = bsw_ntfs_open(&o->v, &o->src, o->fx, &opts);
}

static void vclose(struct opened *o)
{
	bsw_ntfs_close(o->v);
	bsw_fx_destroy(o->fx);
	free(o->copy);
	memset(o, 0, sizeof(*o));
}

static uint8_t *fresh(void)
{
	uint8_t *c = malloc(img_len);

	memcpy(c, img, img_len);
	return c;
}

static void dump(struct bsw_fx *fx)
{
	size_t i;
	char msg[512];

	for (i = 0; i < bsw_fx_count(fx); i++) {
		const struct bsw_finding *f = bsw_fx_get(fx, i);

		bsw_finding_message(f, msg, sizeof(msg));
		fprintf(stderr, "  finding %s: %s\n", bsw_problem_info(f->problem)->code, msg);
	}
}

static int names_cb(void *arg, uint64_t parent, const char *name, unsigned ns)
{
	unsigned *n = arg;

	if (!strcasecmp(name, "shell32.dll"))
		(*n)++;
	return 0;
}

static int dir_cb(void *arg, uint64_t child, const char *name)
{
	unsigned *n = arg;

	(*n)++;
	return 0;
}

static void test_clean(void)
{
	struct opened o = { 0 };
	struct bsw_ntfs_stat st;
	uint64_t rec, rec2;
	uint8_t *data;
	size_t len, i;
	unsigned n = 0;
	char path[512];

	vopen(&o, img);
	CHECK(o.ret == 0, "open clean: %d", o.ret);
	if (o.ret)
		return;
	CHECK(bsw_fx_worst(o.fx) <= BSW_SEV_INFO, "clean volume has no warnings");
	if (bsw_fx_worst(o.fx) > BSW_SEV_INFO)
		dump(o.fx);
	CHECK(bsw_ntfs_cluster_size(o.v) == 4096 && bsw_ntfs_record_size(o.v) == 1024, "geometry");
	CHECK(!bsw_ntfs_lookup(o.v, "\\Windows\\System32\\ntoskrnl.exe", &rec), "lookup");
	CHECK(!bsw_ntfs_lookup(o.v, "/WINDOWS/system32/NTOSKRNL.EXE", &rec2) && rec == rec2,
	      "case-insensitive lookup with / separators");
	CHECK(bsw_ntfs_lookup(o.v, "\\Windows\\System32\\nope.exe", &rec2) == -ENOENT,
	      "missing file");
	CHECK(!bsw_ntfs_stat(o.v, rec, &st) && st.size == 300000 && st.link_count == 1,
	      "ntoskrnl stat");
	CHECK(!bsw_ntfs_path(o.v, rec, path, sizeof(path)) &&
		      !strcmp(path, "\\Windows\\System32\\ntoskrnl.exe"),
	      "path %s", path);
	CHECK(bsw_ntfs_path(o.v, rec, path, 10) == -ENAMETOOLONG, "short buffer");
	CHECK(!bsw_ntfs_read_all(o.v, rec, NULL, &data, &len, 1 << 20) && len == 300000 &&
		      data[0] == 'M' && data[1] == 'Z' && !memcmp(data + 2, "ntoskrnl.exe 1\n", 15),
	      "ntoskrnl content");
	free(data);
	CHECK(bsw_ntfs_read_all(o.v, rec, NULL, &data, &len, 1000) == -EFBIG, "max");
	/* hard link: one record, two names */
	CHECK(!bsw_ntfs_lookup(o.v, "\\Windows\\System32\\shell32.dll", &rec) &&
		      !bsw_ntfs_lookup(o.v, "\\Windows\\WinSxS\\amd64_shell_1\\shell32.dll",
				       &rec2) &&
		      rec == rec2,
	      "hard link resolves to one record");
	CHECK(!bsw_ntfs_stat(o.v, rec, &st) && st.link_count == 2 && st.nr_names == 2,
	      "link count %u names %u", st.link_count, st.nr_names);
	bsw_ntfs_names(o.v, rec, names_cb, &n);
	CHECK(n == 2, "names lists both links (%u)", n);
	/* readdir */
	n = 0;
	bsw_ntfs_lookup(o.v, "\\Users\\Public\\Documents", &rec);
	bsw_ntfs_readdir(o.v, rec, dir_cb, &n);
	CHECK(n == 301, "Documents holds 301 entries (%u)", n);
	/* named stream */
	CHECK(!bsw_ntfs_lookup(o.v, "\\Users\\Public\\Documents\\ads.txt", &rec) &&
		      !bsw_ntfs_read_all(o.v, rec, "Zone.Identifier", &data, &len, 4096) &&
		      len == 15 && !memcmp(data, "[ZoneTransfer]\n", 15),
	      "ADS content");
	free(data);
	/* LZNT1-compressed file equals `seq 1 30000` */
	CHECK(!bsw_ntfs_lookup(o.v, "\\Users\\Public\\packed\\numbers.txt", &rec) &&
		      !bsw_ntfs_stat(o.v, rec, &st) && (st.rflags & BSW_NTFS_R_COMPRESSED),
	      "compressed flag");
	if (!bsw_ntfs_read_all(o.v, rec, NULL, &data, &len, 1 << 20)) {
		char *exp = malloc(200000);
		size_t el = 0;

		for (i = 1; i <= 30000; i++)
			el += (size_t)sprintf(exp + el, "%zu\n", i);
		CHECK(len == el && !memcmp(exp, data, el), "decompressed content");
		free(exp);
		free(data);
	} else {
		CHECK(0, "read compressed file");
	}
	/* sparse: data at block 0 and 1000, zeros between */
	CHECK(!bsw_ntfs_lookup(o.v, "\\Users\\Public\\sparse.bin", &rec) &&
		      !bsw_ntfs_read_all(o.v, rec, NULL, &data, &len, 8 << 20) &&
		      len == 4096 * 1001 && data[0] == '1' && data[4096 * 500] == 0 &&
		      data[4096 * 1000] == '1',
	      "sparse file");
	free(data);
	vclose(&o);
}

static void inject_torn(const char *path, const char *code, enum bsw_problem want)
{
	struct opened o = { 0 };
	uint64_t rec, off;

	vopen(&o, img);
	if (o.ret || bsw_ntfs_lookup(o.v, path, &rec)) {
		CHECK(0, "setup %s", path);
		vclose(&o);
		return;
	}
	off = rec_off(o.v, rec);
	vclose(&o);
	o.copy = fresh();
	o.copy[off + 1022] ^= 0xFF; /* stride 1 no longer ends with the USN */
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, want) == 1 && bsw_fx_has_code(o.fx, code),
	      "torn %s gives %s", path, code);
	vclose(&o);
}

static void test_boot_sectors(void)
{
	struct opened o = { 0 };
	uint64_t rec;

	o.copy = fresh();
	memset(o.copy, 0, 512);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, PR_NTFS_0_BPB_BAD) == 1 &&
		      !bsw_ntfs_lookup(o.v, "\\Windows\\System32\\hal.dll", &rec),
	      "primary zeroed: NTFS-BPB, volume read through the backup");
	vclose(&o);
	o.copy = fresh();
	memset(o.copy, 0, 512);
	memset(o.copy + img_len - 512, 0, 512);
	vopen(&o, o.copy);
	CHECK(o.ret < 0 && bsw_fx_nr(o.fx, PR_NTFS_0_BPB_BOTH) == 1, "both boot sectors");
	vclose(&o);
	o.copy = fresh();
	o.copy[img_len - 512 + 0x48] ^= 1; /* serial differs */
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && bsw_fx_has_code(o.fx, "NTFS-BPB2") &&
		      !bsw_fx_has_code(o.fx, "NTFS-BPB"),
	      "backup differs");
	vclose(&o);
}

static void test_mft_head(void)
{
	struct opened o = { 0 };
	uint64_t off, rec;
	unsigned i;

	vopen(&o, img);
	off = rec_off(o.v, 0);
	vclose(&o);
	o.copy = fresh();
	for (i = 0; i < 4; i++)
		memset(o.copy + off + i * 1024 + 100, 0x5A, 1000);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, PR_NTFS_2_MFT_HEAD) == 1 &&
		      !bsw_fx_has_code(o.fx, "NTFS-FIXUP") &&
		      !bsw_ntfs_lookup(o.v, "\\Windows\\System32\\config\\SYSTEM", &rec),
	      "records 0-3 torn: NTFS-MIRR, read through the mirror");
	if (o.v)
		CHECK(bsw_ntfs_nr_records(o.v) > 300, "whole MFT still read");
	vclose(&o);
}

/* Edit record rec of a fresh copy through fn (fixups undone and redone). */
static uint8_t *edit_rec(uint64_t rec, void (*fn)(uint8_t *r, void *arg), void *arg)
{
	struct opened o = { 0 };
	uint8_t *c;
	uint64_t off;
	unsigned bad;

	vopen(&o, img);
	off = rec_off(o.v, rec);
	vclose(&o);
	c = fresh();
	bsw_ntfs_fixup(c + off, 1024, &bad);
	fn(c + off, arg);
	protect(c + off, 1024);
	return c;
}

static void set_parent(uint8_t *r, void *arg)
{
	uint32_t a = find_attr(r, 0x30);

	if (a)
		put_le64(r + a + get_le16(r + a + 0x14), *(uint64_t *)arg);
}

static void test_loop(void)
{
	struct opened o = { 0 };
	uint64_t sys32, drivers, ref, rec;
	char path[512];

	vopen(&o, img);
	bsw_ntfs_lookup(o.v, "\\Windows\\System32", &sys32);
	bsw_ntfs_lookup(o.v, "\\Windows\\System32\\drivers", &drivers);
	bsw_ntfs_lookup(o.v, "\\Windows\\System32\\drivers\\disk.sys", &rec);
	ref = drivers | ((uint64_t)o.v->recs[drivers].seq << 48);
	vclose(&o);
	o.copy = edit_rec(sys32, set_parent, &ref); /* System32 under drivers */
	vopen(&o, o.copy);
	CHECK(o.ret == 0, "opens with a parent loop");
	if (!o.ret) {
		CHECK(bsw_ntfs_path(o.v, rec, path, sizeof(path)) == -ELOOP, "path loops");
		CHECK(bsw_ntfs_lookup(o.v, "\\Windows\\System32\\hal.dll", &rec) == -ENOENT,
		      "System32 detached");
		CHECK(bsw_fx_has_code(o.fx, "NTFS-REC"), "loop reported");
	}
	vclose(&o);
}

/* Insert a resident $ATTRIBUTE_LIST (one entry, name offset 0x1C) after
 * $STANDARD_INFORMATION. */
static void add_alist(uint8_t *r, void *arg)
{
	uint32_t used = get_le32(r + 0x18), at = find_attr(r, 0x10), len = 24 + 32;

	at += get_le32(r + at + 4);
	memmove(r + at + len, r + at, used - at);
	memset(r + at, 0, len);
	put_le32(r + at, 0x20);
	put_le32(r + at + 4, len);
	put_le32(r + at + 0x10, 32);
	put_le16(r + at + 0x14, 24);
	put_le32(r + at + 24, 0x10); /* entry: $STANDARD_INFORMATION */
	put_le16(r + at + 24 + 4, 32);
	r[at + 24 + 7] = *(uint8_t *)arg; /* name offset */
	put_le64(r + at + 24 + 16, 11 | ((uint64_t)get_le16(r + 0x10) << 48));
	put_le32(r + 0x18, used + len);
}

static void test_attrlist(void)
{
	struct opened o = { 0 };
	uint8_t no = 0x1C;

	o.copy = edit_rec(11, add_alist, &no);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, PR_NTFS_1_ATTRLIST_1C) == 1 &&
		      bsw_fx_has_code(o.fx, "NTFS-ATTRLIST"),
	      "attribute list name offset 0x1C");
	if (o.ret || !bsw_fx_has_code(o.fx, "NTFS-ATTRLIST"))
		dump(o.fx);
	vclose(&o);
	no = 0x1A;
	o.copy = edit_rec(11, add_alist, &no);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && !bsw_fx_has_code(o.fx, "NTFS-ATTRLIST"), "0x1A is fine");
	vclose(&o);
}

static void set_dirty(uint8_t *r, void *arg)
{
	uint32_t a = find_attr(r, 0x70);

	if (a)
		r[a + get_le16(r + a + 0x14) + 10] |= 1;
}

static void test_dirty(void)
{
	struct opened o = { 0 };

	o.copy = edit_rec(3, set_dirty, NULL);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, PR_NTFS_2_VOLFLAG) == 1 &&
		      bsw_fx_worst(o.fx) <= BSW_SEV_WARN,
	      "dirty flag: NTFS-VOLFLAG info");
	vclose(&o);
}

/* Rename the "Windows" entry of the root index: \Windows loses its entry. */
static void test_index_missing(void)
{
	struct opened o = { 0 };
	struct ntfs_stream fs;
	static const uint8_t w16[] = { 'W', 0, 'i', 0, 'n', 0, 'd', 0, 'o', 0, 'w', 0, 's', 0 };
	uint64_t start = 0, len = 0;
	size_t i;
	bool done = false;

	vopen(&o, img);
	if (!bsw_ntfs_load_stream(o.v, 5, NTFS_AT_INDEX_ALLOC, "$I30", &fs)) {
		start = fs.runs.r[0].lcn * 4096;
		len = fs.runs.r[0].len * 4096;
		bsw_ntfs_stream_free(&fs);
	}
	vclose(&o);
	CHECK(len, "root has an index allocation");
	o.copy = fresh();
	for (i = start; i + sizeof(w16) < start + len; i++) {
		if (!memcmp(o.copy + i, w16, sizeof(w16)) && (i % 512) < 480) {
			o.copy[i] = 'Q';
			done = true;
			break;
		}
	}
	CHECK(done, "found the entry");
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, PR_NTFS_2_I30_MISSING) >= 1,
	      "missing index entry for \\Windows");
	vclose(&o);
}

/* Point hal.dll's first run at ntoskrnl's clusters. */
static void test_crosslink(void)
{
	struct opened o = { 0 };
	struct ntfs_stream fs;
	uint64_t hal, krnl_lcn = 0, off;
	unsigned bad;

	vopen(&o, img);
	bsw_ntfs_lookup(o.v, "\\Windows\\System32\\hal.dll", &hal);
	{
		uint64_t k;

		bsw_ntfs_lookup(o.v, "\\Windows\\System32\\ntoskrnl.exe", &k);
		if (!bsw_ntfs_load_stream(o.v, k, NTFS_AT_DATA, NULL, &fs)) {
			krnl_lcn = fs.runs.r[0].lcn;
			bsw_ntfs_stream_free(&fs);
		}
	}
	off = rec_off(o.v, hal);
	vclose(&o);
	o.copy = fresh();
	bsw_ntfs_fixup(o.copy + off, 1024, &bad);
	{
		uint8_t *r = o.copy + off;
		uint32_t a = find_attr(r, 0x80);
		uint8_t *rl = r + a + get_le16(r + a + 0x20);
		unsigned lb = rl[0] & 0xF, ob = rl[0] >> 4, k;

		for (k = 0; k < ob; k++)
			rl[1 + lb + k] = (uint8_t)(krnl_lcn >> (8 * k));
		CHECK(ob >= 2 && !(rl[lb + ob] & 0x80), "run offset fits");
	}
	protect(o.copy + off, 1024);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, PR_NTFS_2_BMAP_XLINK_BOOT) >= 1,
	      "boot file cross-linked: NTFS-BMAPX unbootable");
	if (o.ret == 0 && !bsw_fx_nr(o.fx, PR_NTFS_2_BMAP_XLINK_BOOT))
		dump(o.fx);
	vclose(&o);
}

/* Append an attribute (already laid out) before the end marker. */
static void append_attr(uint8_t *r, const uint8_t *a, uint32_t len)
{
	uint32_t used = get_le32(r + 0x18), end = used - 8;

	while (get_le32(r + end) != 0xFFFFFFFF && end > 0x38)
		end -= 8;
	memmove(r + end + len, r + end, used - end);
	memcpy(r + end, a, len);
	put_le32(r + 0x18, used + len);
}

/*
 * Turn f7.txt into a WOF file: unnamed $DATA of 8 bytes, a named stream
 * "WofCompressedData" holding one XPRESS4K chunk of "abababab", and the
 * reparse point (tag 0x80000017, provider 2, algorithm 0).
 */
static void make_wof(uint8_t *r, void *arg)
{
	static const char nm[] = "WofCompressedData";
	uint8_t a[512];
	uint32_t d = find_attr(r, 0x80), n = (uint32_t)strlen(nm), len, k;

	put_le32(r + d + 0x10, 8); /* unnamed data: 8 bytes */
	/* named $DATA: header 24, name at 24, value 8-aligned after it */
	memset(a, 0, sizeof(a));
	len = 24 + ((2 * n + 7) & ~7u) + 264;
	put_le32(a, 0x80);
	put_le32(a + 4, len);
	a[9] = (uint8_t)n;
	put_le16(a + 0xA, 24);
	put_le16(a + 0xE, 9);
	for (k = 0; k < n; k++)
		put_le16(a + 24 + 2 * k, (uint16_t)nm[k]);
	put_le32(a + 0x10, 260);
	put_le16(a + 0x14, (uint16_t)(24 + ((2 * n + 7) & ~7u)));
	{
		uint8_t *v = a + get_le16(a + 0x14);

		v[0x61 / 2] |= 1 << 4;
		v[0x62 / 2] |= 2;
		v[275 / 2] |= 2 << 4;
		v[257] = 0x58;
	}
	append_attr(r, a, len);
	/* $REPARSE_POINT */
	memset(a, 0, sizeof(a));
	put_le32(a, 0xC0);
	put_le32(a + 4, 48);
	put_le32(a + 0x10, 24);
	put_le16(a + 0x14, 24);
	put_le16(a + 0xE, 10);
	put_le32(a + 24, 0x80000017);
	put_le16(a + 24 + 4, 16);
	put_le32(a + 24 + 8, 1);
	put_le32(a + 24 + 12, 2);
	put_le32(a + 24 + 16, 1);
	put_le32(a + 24 + 20, arg ? *(const uint32_t *)arg : 0); /* algorithm */
	append_attr(r, a, 48);
}

static void test_wof(void)
{
	struct opened o = { 0 };
	struct bsw_ntfs_stat st;
	uint64_t rec;
	uint8_t buf[16];

	vopen(&o, img);
	bsw_ntfs_lookup(o.v, "\\Users\\Public\\Documents\\f7.txt", &rec);
	vclose(&o);
	o.copy = edit_rec(rec, make_wof, NULL);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && !bsw_ntfs_stat(o.v, rec, &st) && (st.rflags & BSW_NTFS_R_WOF) &&
		      st.reparse_tag == 0x80000017 && st.size == 8,
	      "WOF flags and size");
	if (!o.ret)
		CHECK(bsw_ntfs_read(o.v, rec, NULL, buf, sizeof(buf), 0) == 8 &&
			      !memcmp(buf, "abababab", 8),
		      "WOF XPRESS4K content");
	if (!o.ret)
		CHECK(bsw_ntfs_read(o.v, rec, NULL, buf, 4, 5) == 3 && !memcmp(buf, "bab", 3),
		      "WOF read at an offset");
	vclose(&o);

	/* algorithm 1 (LZX, 32 KiB chunks) is decoded too (wimlib, ntfs_wof.c;
	 * real LZX chunks: test_ntfs_wof): these bytes are XPRESS, so as LZX
	 * they are a corrupt chunk, refused (-EIO), never read as data */
	{
		static const uint32_t lzx = 1;

		o.copy = edit_rec(rec, make_wof, (void *)&lzx);
		vopen(&o, o.copy);
		CHECK(o.ret == 0 && bsw_ntfs_read(o.v, rec, NULL, buf, sizeof(buf), 0) == -EIO,
		      "WOF LZX decoded: a chunk that is not LZX fails with -EIO");
		vclose(&o);
	}
}

/*
 * ---- compressed boot files ----
 *
 * ntoskrnl.exe (300,000 bytes, "MZ" first) is rewritten in place the way
 * Windows leaves a compressed file: as a WOF (CompactOS) file - a sparse
 * unnamed $DATA of the plain size, a non-resident "WofCompressedData"
 * stream of chunks wimlib's compressors made (XPRESS4K and LZX), the WOF
 * reparse point - and as an LZNT1-compressed $DATA (16-cluster units,
 * each stored in fewer clusters followed by a sparse run).  Either way
 * bsw_ntfs_stat must give the plain size and bsw_ntfs_read the plain
 * bytes (the checks read the size and the PE header through them), the
 * volume checks must find nothing, and only a format not decoded (an
 * unknown WOF algorithm, a compression unit over 16 MiB) gives -EOPNOTSUPP.
 */

struct kfile {
	uint64_t rec;
	uint8_t *plain; /* the file's plain bytes */
	size_t len;
	uint64_t lcn[128]; /* its data clusters, in VCN order */
	unsigned nr;
};

static int kfile_get(struct kfile *k)
{
	struct opened o = { 0 };
	struct ntfs_stream fs;
	size_t i;
	uint64_t c;
	int ret = -1;

	memset(k, 0, sizeof(*k));
	vopen(&o, img);
	if (o.ret || bsw_ntfs_lookup(o.v, "\\Windows\\System32\\ntoskrnl.exe", &k->rec) ||
	    bsw_ntfs_read_all(o.v, k->rec, NULL, &k->plain, &k->len, 1 << 20))
		goto out;
	if (bsw_ntfs_load_stream(o.v, k->rec, NTFS_AT_DATA, NULL, &fs))
		goto out;
	for (i = 0; i < fs.runs.nr; i++)
		for (c = 0; c < fs.runs.r[i].len && k->nr < BSW_ARRAY_SIZE(k->lcn); c++)
			k->lcn[k->nr++] = fs.runs.r[i].lcn + c;
	bsw_ntfs_stream_free(&fs);
	ret = (uint64_t)k->nr * 4096 >= k->len && k->len > 2 * 32768 ? 0 : -1;
out:
	vclose(&o);
	return ret;
}

/* Write data (len bytes) into the clusters lcn[0..) of image copy c. */
static void put_clusters(uint8_t *c, const uint64_t *lcn, const uint8_t *data, size_t len)
{
	size_t i;

	for (i = 0; i * 4096 < len; i++) {
		size_t n = BSW_MIN((size_t)4096, len - i * 4096);

		memset(c + lcn[i] * 4096, 0, 4096);
		memcpy(c + lcn[i] * 4096, data + i * 4096, n);
	}
}

/* A runlist under construction (mapping pairs, 1.2). */
struct rl_enc {
	uint8_t b[512];
	size_t n;
	int64_t prev; /* LCN of the previous allocated run */
};

static unsigned le_bytes(uint64_t v)
{
	unsigned n = 1;

	while (n < 8 && (v >> (8 * n)))
		n++;
	return n;
}

static unsigned sle_bytes(int64_t v)
{
	unsigned n = 1;

	while (n < 8 && (v < -(INT64_C(1) << (8 * n - 1)) || v >= (INT64_C(1) << (8 * n - 1))))
		n++;
	return n;
}

/* Append a run of len clusters at lcn (or a sparse one, lcn < 0). */
static void rl_put(struct rl_enc *e, int64_t lcn, uint64_t len)
{
	unsigned lb = le_bytes(len), ob = 0, k;
	int64_t d = 0;

	if (lcn >= 0) {
		d = lcn - e->prev;
		ob = sle_bytes(d);
		e->prev = lcn;
	}
	e->b[e->n++] = (uint8_t)(lb | ob << 4);
	for (k = 0; k < lb; k++)
		e->b[e->n++] = (uint8_t)(len >> (8 * k));
	for (k = 0; k < ob; k++)
		e->b[e->n++] = (uint8_t)((uint64_t)d >> (8 * k));
}

/* Append lcn[0..cnt) as runs, merging contiguous clusters. */
static void rl_put_clusters(struct rl_enc *e, const uint64_t *lcn, unsigned cnt)
{
	unsigned i = 0, j;

	while (i < cnt) {
		for (j = i + 1; j < cnt && lcn[j] == lcn[j - 1] + 1; j++)
			;
		rl_put(e, (int64_t)lcn[i], j - i);
		i = j;
	}
}

/* Replace the attribute at offset at of record r by a (len bytes). */
static void replace_attr(uint8_t *r, uint32_t at, const uint8_t *a, uint32_t len)
{
	uint32_t used = get_le32(r + 0x18), old = get_le32(r + at + 4);

	memmove(r + at + len, r + at + old, used - at - old);
	memcpy(r + at, a, len);
	put_le32(r + 0x18, used - old + len);
}

/* A non-resident attribute header: type 0x80, name, runs, sizes. */
static uint32_t nonres_attr(uint8_t *a, const char *name, uint16_t flags, uint8_t cu_shift,
			    uint64_t vcns, uint64_t alloc, uint64_t size, const struct rl_enc *e)
{
	uint32_t hdr = flags & 1 ? 0x48 : 0x40, nlen = name ? (uint32_t)strlen(name) : 0;
	uint32_t roff = hdr + ((2 * nlen + 7) & ~7u), len = (roff + (uint32_t)e->n + 1 + 7) & ~7u,
		 k;

	memset(a, 0, len);
	put_le32(a, 0x80);
	put_le32(a + 4, len);
	a[8] = 1;
	a[9] = (uint8_t)nlen;
	put_le16(a + 0xA, (uint16_t)hdr);
	put_le16(a + 0xC, flags);
	put_le16(a + 0xE, 12);
	for (k = 0; k < nlen; k++)
		put_le16(a + hdr + 2 * k, (uint16_t)name[k]);
	put_le64(a + 0x18, vcns - 1);
	put_le16(a + 0x20, (uint16_t)roff);
	a[0x22] = cu_shift;
	put_le64(a + 0x28, alloc);
	put_le64(a + 0x30, size);
	put_le64(a + 0x38, size);
	memcpy(a + roff, e->b, e->n);
	return len;
}

struct wof_edit {
	const struct kfile *k;
	uint32_t alg;
	uint64_t slen; /* WofCompressedData bytes */
	unsigned sclusters;
};

/* ntoskrnl.exe as a WOF file (the stream's bytes are written separately). */
static void make_wof_krnl(uint8_t *r, void *arg)
{
	const struct wof_edit *w = arg;
	uint32_t d = find_attr(r, 0x80);
	struct rl_enc e = { .n = 0 };
	uint8_t a[1024];
	uint32_t len;

	/* the unnamed $DATA: one sparse run of the same clusters */
	rl_put(&e, -1, w->k->nr);
	len = nonres_attr(a, NULL, 0x8000, 0, w->k->nr, (uint64_t)w->k->nr * 4096, w->k->len, &e);
	put_le16(a + 0xE, get_le16(r + d + 0xE));
	replace_attr(r, d, a, len);
	/* WofCompressedData in the file's first clusters */
	e = (struct rl_enc){ .n = 0 };
	rl_put_clusters(&e, w->k->lcn, w->sclusters);
	len = nonres_attr(a, "WofCompressedData", 0, 0, w->sclusters, (uint64_t)w->sclusters * 4096,
			  w->slen, &e);
	append_attr(r, a, len);
	/* $REPARSE_POINT: WOF, provider 2 (file), the algorithm */
	memset(a, 0, 48);
	put_le32(a, 0xC0);
	put_le32(a + 4, 48);
	put_le32(a + 0x10, 24);
	put_le16(a + 0x14, 24);
	put_le16(a + 0xE, 13);
	put_le32(a + 24, 0x80000017);
	put_le16(a + 24 + 4, 16);
	put_le32(a + 24 + 8, 1);
	put_le32(a + 24 + 12, 2);
	put_le32(a + 24 + 16, 1);
	put_le32(a + 24 + 20, w->alg);
	append_attr(r, a, 48);
}

/* The WofCompressedData stream of k's plain bytes (malloc'd, *slen bytes). */
static uint8_t *wof_stream(const struct kfile *k, uint32_t alg, uint64_t *slen)
{
	struct wimlib_compressor *c = NULL;
	size_t chunk = bsw_ntfs_wof_chunk_size(alg > 3 ? 0 : alg);
	size_t nch = (k->len + chunk - 1) / chunk, tbl = (nch - 1) * 4, o, i;
	uint8_t *s = malloc(tbl + k->len);

	if (!s || wimlib_create_compressor(alg == 1 ? WIMLIB_COMPRESSION_TYPE_LZX :
						      WIMLIB_COMPRESSION_TYPE_XPRESS,
					   chunk, 0, &c)) {
		free(s);
		return NULL;
	}
	for (i = 0, o = tbl; i < nch; i++) {
		size_t n = BSW_MIN(chunk, k->len - i * chunk);
		size_t z = wimlib_compress(k->plain + i * chunk, n, s + o, n - 1, c);

		if (!z) { /* did not shrink: stored as is */
			memcpy(s + o, k->plain + i * chunk, n);
			z = n;
		}
		o += z;
		if (i + 1 < nch)
			put_le32(s + 4 * i, (uint32_t)(o - tbl));
	}
	wimlib_free_compressor(c);
	*slen = o;
	return s;
}

static void check_plain(struct opened *o, const struct kfile *k, const char *what)
{
	struct bsw_ntfs_stat st;
	uint8_t *data = NULL, buf[9000];
	size_t len = 0;

	CHECK(!bsw_ntfs_stat(o->v, k->rec, &st) && st.size == k->len,
	      "%s: stat gives the plain size (%llu)", what, (unsigned long long)st.size);
	CHECK(!bsw_ntfs_read_all(o->v, k->rec, NULL, &data, &len, 1 << 20) && len == k->len &&
		      !memcmp(data, k->plain, len) && data[0] == 'M' && data[1] == 'Z',
	      "%s: read_all gives the plain bytes, MZ first", what);
	free(data);
	/* across chunk and compression-unit boundaries, and the tail */
	CHECK(bsw_ntfs_read(o->v, k->rec, NULL, buf, sizeof(buf), 65536 - 4000) == sizeof(buf) &&
		      !memcmp(buf, k->plain + 65536 - 4000, sizeof(buf)),
	      "%s: read across units", what);
	CHECK(bsw_ntfs_read(o->v, k->rec, NULL, buf, sizeof(buf), k->len - 100) == 100 &&
		      !memcmp(buf, k->plain + k->len - 100, 100),
	      "%s: short read at the end", what);
	CHECK(bsw_fx_worst(o->fx) <= BSW_SEV_INFO, "%s: the volume checks find nothing", what);
	if (bsw_fx_worst(o->fx) > BSW_SEV_INFO)
		dump(o->fx);
}

static void test_wof_boot_file(const struct kfile *k, uint32_t alg, const char *what)
{
	struct opened o = { 0 };
	struct wof_edit w = { .k = k, .alg = alg };
	struct bsw_ntfs_stat st;
	uint8_t *s = wof_stream(k, alg, &w.slen), buf[16];

	CHECK(s && w.slen < k->len, "%s: the chunks shrink the file", what);
	if (!s)
		return;
	w.sclusters = (unsigned)((w.slen + 4095) / 4096);
	o.copy = edit_rec(k->rec, make_wof_krnl, &w);
	put_clusters(o.copy, k->lcn, s, w.slen);
	free(s);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && !bsw_ntfs_stat(o.v, k->rec, &st) && (st.rflags & BSW_NTFS_R_WOF) &&
		      (st.rflags & BSW_NTFS_R_SPARSE),
	      "%s: a WOF file", what);
	if (!o.ret)
		check_plain(&o, k, what);
	vclose(&o);

	/* an algorithm bootsweep does not know: refused, the size still right */
	w.alg = 7;
	o.copy = edit_rec(k->rec, make_wof_krnl, &w);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && !bsw_ntfs_stat(o.v, k->rec, &st) && st.size == k->len &&
		      bsw_ntfs_read(o.v, k->rec, NULL, buf, sizeof(buf), 0) == -EOPNOTSUPP,
	      "%s: unknown WOF algorithm gives -EOPNOTSUPP", what);
	vclose(&o);
}

/*
 * LZNT1-compress one chunk of n <= 4096 bytes into out (room for
 * n + n / 8 + 4): greedy, the nearest longest match in the last 256
 * bytes.  Returns the bytes written, header included.
 */
static size_t lznt1_chunk(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t op = 2, pos = 0;

	while (pos < n) {
		size_t fl = op++;
		unsigned t;

		out[fl] = 0;
		for (t = 0; t < 8 && pos < n; t++) {
			size_t dbits = 4, i, best = 0, bdisp = 0, disp, maxlen, maxdisp;

			for (i = pos ? pos - 1 : 0; i >= 0x10; i >>= 1)
				dbits++;
			maxlen = (0xFFFFu >> dbits) + 3;
			maxdisp = BSW_MIN(BSW_MIN(pos, (size_t)256), (size_t)1 << (16 - dbits));
			for (disp = 1; disp <= maxdisp; disp++) {
				size_t l = 0;

				while (l < maxlen && pos + l < n &&
				       in[pos + l] == in[pos + l - disp])
					l++;
				if (l > best) {
					best = l;
					bdisp = disp;
				}
			}
			if (best >= 3) {
				put_le16(out + op,
					 (uint16_t)((bdisp - 1) << (16 - dbits) | (best - 3)));
				out[fl] |= (uint8_t)(1u << t);
				op += 2;
				pos += best;
			} else {
				out[op++] = in[pos++];
			}
		}
	}
	if (op - 2 >= n) { /* no gain: an uncompressed chunk */
		memcpy(out + 2, in, n);
		put_le16(out, (uint16_t)(0x3000 | (n - 1)));
		return n + 2;
	}
	put_le16(out, (uint16_t)(0xB000 | (op - 2 - 1)));
	return op;
}

struct lznt1_edit {
	struct rl_enc e;
	uint64_t vcns; /* whole units */
	unsigned used; /* clusters holding data */
	uint8_t cu_shift;
};

static void make_lznt1_krnl(uint8_t *r, void *arg)
{
	const struct lznt1_edit *l = arg;
	uint32_t d = find_attr(r, 0x80), len;
	uint8_t a[1024];

	len = nonres_attr(a, NULL, 0x0001, l->cu_shift, l->vcns, l->vcns * 4096,
			  get_le64(r + d + 0x30), &l->e);
	put_le64(a + 0x40, (uint64_t)l->used * 4096); /* compressed size */
	put_le16(a + 0xE, get_le16(r + d + 0xE));
	replace_attr(r, d, a, len);
}

static void test_lznt1_boot_file(const struct kfile *k)
{
	struct opened o = { 0 };
	struct lznt1_edit l = { .cu_shift = 4 };
	struct bsw_ntfs_stat st;
	size_t units = (k->len + 65535) / 65536, u, i, clen;
	size_t ubytes = 65536 + 65536 / 8 + 64; /* worst case of one unit */
	uint8_t *z = calloc(units, ubytes), buf[16];
	unsigned nc[16] = { 0 };
	bool shrunk = units <= BSW_ARRAY_SIZE(nc);

	if (!z) {
		CHECK(0, "lznt1: memory");
		return;
	}
	l.vcns = units * 16;
	for (u = 0; u < units && shrunk; u++) {
		size_t n = BSW_MIN((size_t)65536, k->len - u * 65536);

		for (i = 0, clen = 0; i < n; i += 4096)
			clen += lznt1_chunk(k->plain + u * 65536 + i, BSW_MIN((size_t)4096, n - i),
					    z + u * ubytes + clen);
		nc[u] = (unsigned)((clen + 4095) / 4096);
		if (nc[u] >= 16 || l.used + nc[u] > k->nr) {
			shrunk = false;
			break;
		}
		/* the unit's clusters, then a sparse run to the unit's end */
		rl_put_clusters(&l.e, k->lcn + l.used, nc[u]);
		rl_put(&l.e, -1, 16 - nc[u]);
		l.used += nc[u];
	}
	CHECK(shrunk && l.e.n < 256, "lznt1: every unit saves clusters (%u of %u used)", l.used,
	      k->nr);
	if (!shrunk) {
		free(z);
		return;
	}
	o.copy = edit_rec(k->rec, make_lznt1_krnl, &l);
	for (u = 0, i = 0; u < units; i += nc[u], u++)
		put_clusters(o.copy, k->lcn + i, z + u * ubytes, (size_t)nc[u] * 4096);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && !bsw_ntfs_stat(o.v, k->rec, &st) &&
		      (st.rflags & BSW_NTFS_R_COMPRESSED) && !(st.rflags & BSW_NTFS_R_WOF),
	      "lznt1: a compressed file");
	if (!o.ret)
		check_plain(&o, k, "lznt1");
	vclose(&o);

	/* 512-cluster units (2 MiB here): not decoded, refused; the size still right */
	l.cu_shift = 9;
	o.copy = edit_rec(k->rec, make_lznt1_krnl, &l);
	for (u = 0, i = 0; u < units; i += nc[u], u++)
		put_clusters(o.copy, k->lcn + i, z + u * ubytes, (size_t)nc[u] * 4096);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && !bsw_ntfs_stat(o.v, k->rec, &st) && st.size == k->len &&
		      bsw_ntfs_read(o.v, k->rec, NULL, buf, sizeof(buf), 0) == -EOPNOTSUPP,
	      "lznt1: compression units of 2^9 clusters give -EOPNOTSUPP");
	vclose(&o);
	free(z);
}

static void test_compressed_boot_files(void)
{
	struct kfile k;

	if (kfile_get(&k)) {
		CHECK(0, "compressed boot files: ntoskrnl.exe located");
		free(k.plain);
		return;
	}
	test_wof_boot_file(&k, 0, "WOF XPRESS4K");
	test_wof_boot_file(&k, 1, "WOF LZX");
	test_lznt1_boot_file(&k);
	free(k.plain);
}

static void test_logfile(void)
{
	struct opened o = { 0 };
	struct ntfs_stream fs;
	uint64_t lo = 0;
	unsigned pg;

	vopen(&o, img);
	if (!bsw_ntfs_load_stream(o.v, 2, NTFS_AT_DATA, NULL, &fs)) {
		lo = fs.runs.r[0].lcn * 4096;
		bsw_ntfs_stream_free(&fs);
	}
	vclose(&o);
	/* mkntfs leaves the log empty (all 0xFF): write two restart pages
	 * (1.5) with a client in use and no clean flag: unclean (info) */
	CHECK(lo && o.copy == NULL, "log located");
	o.copy = fresh();
	for (pg = 0; pg < 2; pg++) {
		uint8_t *p = o.copy + lo + pg * 4096;

		memset(p, 0, 4096);
		memcpy(p, "RSTR", 4);
		put_le16(p + 4, 0x1E);
		put_le16(p + 6, 9);
		put_le32(p + 0x10, 4096);
		put_le32(p + 0x14, 4096);
		put_le16(p + 0x18, 0x30);
		put_le16(p + 0x1A, 1);
		put_le16(p + 0x1C, 1);
		put_le64(p + 0x30, 100 + pg); /* current LSN */
		put_le16(p + 0x38, 1);	      /* one client */
		put_le16(p + 0x3A, 0xFFFF);
		put_le16(p + 0x3C, 0); /* client 0 in use */
		put_le16(p + 0x3E, 0); /* not clean */
		put_le16(p + 0x44, 0x40 + 160);
		put_le16(p + 0x46, 0x40);
		put_le16(p + 0x1E, 1); /* USN */
		protect(p, 4096);
	}
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, PR_NTFS_2_LOG_UNCLEAN) == 1 &&
		      !bsw_fx_has_code(o.fx, "NTFS-LOGSTRUCT"),
	      "unclean log: NTFS-LOGCLEAN");
	vclose(&o);
	/* garbage in the first restart page: structure error */
	vopen(&o, img);
	vclose(&o);
	o.copy = fresh();
	memcpy(o.copy + lo, "RSTR", 4);
	memset(o.copy + lo + 8, 0x33, 64);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, PR_NTFS_2_LOG_STRUCT) == 1, "bad restart page");
	vclose(&o);
}

/*
 * Move f9.txt to the root as HIBERFIL.SYS (its $FILE_NAME rewritten) with
 * "hibr" as its first bytes: NTFS-HIBER (info).
 */
static void make_hiber(uint8_t *r, void *arg)
{
	static const char nm[] = "HIBERFIL.SYS";
	uint32_t fn = find_attr(r, 0x30), used = get_le32(r + 0x18);
	uint32_t old = get_le32(r + fn + 4), vo = get_le16(r + fn + 0x14);
	uint32_t nlen = (uint32_t)strlen(nm), vl = 0x42 + 2 * nlen;
	uint32_t len = (vo + vl + 7) & ~7u, d, k;

	memmove(r + fn + len, r + fn + old, used - fn - old);
	memset(r + fn + vo, 0, len - vo);
	put_le32(r + fn + 4, len);
	put_le32(r + fn + 0x10, vl);
	put_le64(r + fn + vo, 5 | (5ull << 48));
	r[fn + vo + 0x40] = (uint8_t)nlen;
	r[fn + vo + 0x41] = 3; /* WIN32+DOS */
	for (k = 0; k < nlen; k++)
		put_le16(r + fn + vo + 0x42 + 2 * k, (uint16_t)nm[k]);
	put_le32(r + 0x18, used - old + len);
	d = find_attr(r, 0x80);
	memcpy(r + d + get_le16(r + d + 0x14), "hibr", 4);
}

static void test_hiber(void)
{
	struct opened o = { 0 };
	uint64_t rec, r2;

	vopen(&o, img);
	bsw_ntfs_lookup(o.v, "\\Users\\Public\\Documents\\f9.txt", &rec);
	vclose(&o);
	o.copy = edit_rec(rec, make_hiber, NULL);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && !bsw_ntfs_lookup(o.v, "\\hiberfil.sys", &r2) && r2 == rec &&
		      bsw_fx_nr(o.fx, PR_NTFS_2_HIBER) == 1,
	      "hibernation file: NTFS-HIBER");
	vclose(&o);
}

static void grow_data(uint8_t *r, void *arg)
{
	uint32_t d = find_attr(r, 0x80);

	put_le64(r + d + 0x30, get_le64(r + d + 0x28) + 4096); /* data > alloc */
}

static void test_sizes(void)
{
	struct opened o = { 0 };
	uint64_t rec;

	vopen(&o, img);
	bsw_ntfs_lookup(o.v, "\\Windows\\System32\\hal.dll", &rec);
	vclose(&o);
	o.copy = edit_rec(rec, grow_data, NULL);
	vopen(&o, o.copy);
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, PR_NTFS_1_REC_CRIT) == 1,
	      "boot file with inconsistent sizes: NTFS-REC critical");
	vclose(&o);
}

static void test_cap(void)
{
	struct bsw_ntfs_opts opts = { .run_checks = true,
				      .max_records = 100,
				      .critical = bsw_boot_files,
				      .nr_critical = bsw_nr_boot_files };
	struct bsw_src src;
	struct bsw_src_mem mem;
	struct bsw_fx *fx;
	struct bsw_ntfs *v = NULL;
	uint64_t rec;

	bsw_src_mem_init(&src, &mem, img, img_len);
	bsw_fx_create(&fx);
	CHECK(!bsw_ntfs_open(&v, &src, fx, &opts) && bsw_ntfs_nr_records(v) == 100 &&
		      bsw_fx_nr(fx, PR_NTFS_1_MFT_CAP) == 1 &&
		      !bsw_ntfs_lookup(v, "\\Windows\\System32\\ntoskrnl.exe", &rec),
	      "max_records caps the scan");
	bsw_ntfs_close(v);
	bsw_fx_destroy(fx);
}

/*
 * The memory cap bounds the records parsed the same way: 40 KiB minus the
 * cluster bitmap leaves room for fewer records (~140 bytes charged each)
 * than the image's 393.
 */
static void test_mem_cap(void)
{
	struct bsw_ntfs_opts opts = { .run_checks = true,
				      .mem_cap = 40 * 1024,
				      .critical = bsw_boot_files,
				      .nr_critical = bsw_nr_boot_files };
	struct bsw_src src;
	struct bsw_src_mem mem;
	struct bsw_fx *fx;
	struct bsw_ntfs *v = NULL;
	uint64_t all = 0, capped = 0;

	bsw_src_mem_init(&src, &mem, img, img_len);
	bsw_fx_create(&fx);
	if (!bsw_ntfs_open(&v, &src, fx, NULL))
		all = bsw_ntfs_nr_records(v);
	bsw_ntfs_close(v);
	bsw_fx_destroy(fx);
	v = NULL;
	bsw_fx_create(&fx);
	CHECK(!bsw_ntfs_open(&v, &src, fx, &opts), "open with a 40 KiB cap");
	if (v)
		capped = bsw_ntfs_nr_records(v);
	CHECK(capped >= 16 && capped < all && capped * 100 <= 40 * 1024 &&
		      bsw_fx_nr(fx, PR_NTFS_1_MFT_CAP) == 1,
	      "mem_cap caps the records: %llu of %llu", (unsigned long long)capped,
	      (unsigned long long)all);
	bsw_ntfs_close(v);
	bsw_fx_destroy(fx);
}

/*
 * The names may take at most the memory budget: f1..f80.txt get a second
 * $FILE_NAME of 200 characters (hard links in Documents), 16,000 UTF-16
 * units more than the 56 KiB budget's name pool holds (a quarter of it)
 * while its records fit.  The scan stops at the record whose names no
 * longer fit, with the cap finding; what came before is intact.
 */
static void test_names_cap(void)
{
	struct bsw_ntfs_opts opts = { .run_checks = true,
				      .mem_cap = 56 * 1024,
				      .critical = bsw_boot_files,
				      .nr_critical = bsw_nr_boot_files };
	struct opened o = { 0 };
	uint64_t parent;
	uint64_t docs, off[80], krnl, rec, r, lowest = UINT64_MAX;
	unsigned i, bad;
	char path[64];

	vopen(&o, img);
	if (o.ret || bsw_ntfs_lookup(o.v, "\\Users\\Public\\Documents", &docs) ||
	    bsw_ntfs_lookup(o.v, "\\Windows\\System32\\ntoskrnl.exe", &krnl)) {
		CHECK(0, "names cap: setup");
		vclose(&o);
		return;
	}
	parent = docs | (uint64_t)o.v->recs[docs].seq << 48;
	for (i = 0; i < 80; i++) {
		snprintf(path, sizeof(path), "\\Users\\Public\\Documents\\f%u.txt", i + 1);
		off[i] = 0;
		if (bsw_ntfs_lookup(o.v, path, &r))
			continue;
		off[i] = rec_off(o.v, r);
		lowest = BSW_MIN(lowest, r);
	}
	vclose(&o);
	o.copy = fresh();
	for (i = 0; i < 80; i++) {
		if (!off[i])
			continue;
		bsw_ntfs_fixup(o.copy + off[i], 1024, &bad);
		add_long_name(o.copy + off[i], parent);
		protect(o.copy + off[i], 1024);
	}
	bsw_src_mem_init(&o.src, &o.mem, o.copy, img_len);
	bsw_fx_create(&o.fx);
	o.ret = bsw_ntfs_open(&o.v, &o.src, o.fx, &opts);
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, PR_NTFS_1_MFT_CAP) == 1,
	      "names past the budget: NTFS-META cap (%d)", o.ret);
	if (!o.ret) {
		CHECK(bsw_ntfs_nr_records(o.v) > lowest && bsw_ntfs_nr_records(o.v) < 393 &&
			      o.v->pool_len <= 56 * 1024 / 4,
		      "the scan stops inside the long names (%llu records, %zu units)",
		      (unsigned long long)bsw_ntfs_nr_records(o.v), o.v->pool_len);
		CHECK(!bsw_ntfs_lookup(o.v, "\\Windows\\System32\\ntoskrnl.exe", &rec) &&
			      rec == krnl,
		      "the records before it are intact");
	}
	/* the same volume with the default budget: every record, no cap */
	bsw_ntfs_close(o.v);
	bsw_fx_destroy(o.fx);
	opts.mem_cap = 0;
	bsw_fx_create(&o.fx);
	o.ret = bsw_ntfs_open(&o.v, &o.src, o.fx, &opts);
	CHECK(o.ret == 0 && bsw_ntfs_nr_records(o.v) == 393 &&
		      !bsw_fx_nr(o.fx, PR_NTFS_1_MFT_CAP) && bsw_fx_worst(o.fx) <= BSW_SEV_INFO,
	      "the default budget holds the long names");
	vclose(&o);
}

/*
 * The pass table: NULL-terminated, names unique, the passes that make the
 * volume readable before every check (the driver's stop rule relies on
 * it).  A collector stopped by an earlier FATAL finding does not stop this
 * volume's passes: the checks still run (the dirty flag is found).
 */
static void test_passes(void)
{
	const struct bsw_ntfs_pass *p, *q;
	struct opened o = { 0 };
	bool checks = false, order = true, unique = true;
	unsigned n = 0;

	for (p = bsw_ntfs_passes; p->name && n < 64; p++, n++) {
		if (p->flags & NTFS_PASS_CHECK)
			checks = true;
		else if (checks)
			order = false;
		for (q = bsw_ntfs_passes; q < p; q++)
			if (!strcmp(q->name, p->name))
				unique = false;
		if (!p->run)
			unique = false;
	}
	CHECK(n >= 3 && n < 64 && !bsw_ntfs_passes[n].run, "pass table NULL-terminated (%u rows)",
	      n);
	CHECK(order && unique && !(bsw_ntfs_passes[0].flags & NTFS_PASS_CHECK),
	      "reading passes first, names unique, each with a function");

	o.copy = edit_rec(3, set_dirty, NULL);
	bsw_src_mem_init(&o.src, &o.mem, o.copy, img_len);
	bsw_fx_create(&o.fx);
	BSW_REPORT(o.fx, PR_NTFS_0_BPB_BOTH, .str = "an earlier volume", .str2 = "-");
	CHECK(bsw_fx_stopped(o.fx), "collector stopped before the open");
	{
		struct bsw_ntfs_opts opts = { .run_checks = true };

		o.ret = bsw_ntfs_open(&o.v, &o.src, o.fx, &opts);
	}
	CHECK(o.ret == 0 && bsw_fx_nr(o.fx, PR_NTFS_2_VOLFLAG) == 1,
	      "an earlier FATAL finding does not stop this volume's checks");
	vclose(&o);
}

int main(void)
{
	if (ntfs_img_load()) {
		fprintf(stderr, "cannot unpack win.img.xz\n");
		return T_EXIT_SKIP;
	}
	test_passes();
	test_clean();
	inject_torn("\\Windows\\System32\\ntoskrnl.exe", "NTFS-FIXUP", PR_NTFS_1_FIXUP_CRIT);
	inject_torn("\\Users\\Public\\Documents\\f7.txt", "NTFS-FIXUP", PR_NTFS_1_FIXUP);
	inject_torn("\\$Extend", "NTFS-FIXUP", PR_NTFS_1_FIXUP_CRIT);
	inject_torn("\\Windows\\System32\\drivers", "NTFS-FIXUP", PR_NTFS_1_FIXUP_CRIT);
	test_boot_sectors();
	test_mft_head();
	test_loop();
	test_attrlist();
	test_dirty();
	test_index_missing();
	test_crosslink();
	test_wof();
	test_compressed_boot_files();
	test_logfile();
	test_hiber();
	test_sizes();
	test_cap();
	test_mem_cap();
	test_names_cap();
	free(img);
	fprintf(stderr, "%d checks, %d failed\n", t_checks, t_failures);
	return T_DONE();
}
