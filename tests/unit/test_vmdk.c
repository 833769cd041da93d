/*
 * VMDK on images built in memory from the Virtual Disk Format 1.1 spec:
 * a hosted sparse extent (header, embedded descriptor, grain directory and
 * tables, grains) mapped exactly, zeroed-grain entries, a child's
 * parentCID and parentFileNameHint; the descriptor parser (extent lines,
 * CID, refused extent types and createTypes); stream-optimized compressed
 * grains with markers and the footer; one damage per check (grain tables
 * and grains past the file, the newline test, grain sizes, capacities
 * whose directory cannot fit, compressed grains that expand too far or
 * end early, an empty embedded descriptor).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "formats/common/bytes.h"
#include "formats/cont/cont.h"
#include "formats/vmdk/vmdk.h"
#include "tests/unit/t_helpers.h"

#define S 512u
#define GRAIN 8u /* sectors */
#define CAP 64u	 /* sectors: 8 grains, 2 grain tables of 4 */

static uint8_t img[1 << 20];
static size_t img_len;

static const char *desc_base =
	"# Disk DescriptorFile\nversion=1\nCID=0badcafe\nparentCID=ffffffff\n"
	"createType=\"monolithicSparse\"\n\n# Extent description\n"
	"RW 64 SPARSE \"t.vmdk\"\n\nddb.adapterType = \"ide\"\n";

/* sector 0 header, 1 descriptor, 2 GD, 3-4 GTs, grains from sector 8 */
static void build(const char *desc, uint32_t flags)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "KDMV", 4);
	put_le32(img + 4, 1);
	put_le32(img + 8, flags | 1); /* newline test on */
	put_le64(img + 12, CAP);
	put_le64(img + 20, GRAIN);
	put_le64(img + 28, 1);
	put_le64(img + 36, 1);
	put_le32(img + 44, 4);
	put_le64(img + 56, 2);
	put_le64(img + 64, 8);
	img[73] = '\n';
	img[74] = ' ';
	img[75] = '\r';
	img[76] = '\n';
	if (flags & (1u << 16))
		put_le16(img + 77, 1);
	memcpy(img + S, desc, strlen(desc));
	put_le32(img + 2 * S, 3);     /* GD[0] -> GT at sector 3 */
	put_le32(img + 2 * S + 4, 4); /* GD[1] -> GT at sector 4 */
	img_len = 8 * S + 8 * GRAIN * S;
}

static void gte(unsigned g, uint32_t v)
{
	put_le32(img + (3 + g / 4) * S + 4 * (g % 4), v);
}

static int open_img(void **h, struct bsw_cont_info *ci, struct bsw_fx *fx, char *err)
{
	static struct bsw_src src;
	static struct bsw_src_mem mem;

	bsw_src_mem_init(&src, &mem, img, img_len);
	memset(ci, 0, sizeof(*ci));
	err[0] = 0;
	if (bsw_vmdk_ops.probe(&src) != 1)
		return -1000;
	return bsw_vmdk_ops.open(h, &src, NULL, fx, ci, err, 256);
}

/* A compressed grain at sector sec: marker (lba, size) + zlib stream. */
static void put_cgrain(uint32_t sec, uint64_t lba, uint8_t v, size_t bytes)
{
	uint8_t in[8 * GRAIN * S];
	uLongf n = 4 * GRAIN * S;

	memset(in, v, bytes);
	compress2(img + (uint64_t)sec * S + 12, &n, in, bytes, 6);
	put_le64(img + (uint64_t)sec * S, lba);
	put_le32(img + (uint64_t)sec * S + 8, (uint32_t)n);
}

int main(void)
{
	struct bsw_cont_info ci;
	struct bsw_vmdk_desc d;
	struct bsw_cext e;
	struct bsw_fx *fx;
	char err[256], text[512];
	void *h;
	int rc;

	T_CHECK(bsw_fx_create(&fx) == 0, "fx");

	/* --- monolithicSparse: data, unallocated, zeroed grains -------------- */
	build(desc_base, 1u << 2);
	gte(0, 8); /* grains 0 and 1 contiguous */
	gte(1, 16);
	gte(2, 0);  /* unallocated */
	gte(3, 1);  /* zeroed grain (flag bit 2) */
	gte(4, 40); /* second table, not contiguous */
	rc = open_img(&h, &ci, fx, err);
	T_CHECK(rc == 0, "open: %d %s", rc, err);
	if (!rc) {
		T_CHECK(!strcmp(ci.format, "vmdk") && !strcmp(ci.subformat, "monolithicSparse"),
			"format");
		T_CHECK(ci.virtual_size == CAP * S && !ci.has_parent, "size, no parent");
		T_CHECK(get_be32(ci.id) == 0x0badcafe, "CID as the identity");
		T_CHECK(bsw_vmdk_ops.map(h, 100, CAP * S, &e) == 0 && e.kind == BSW_CEXT_DATA &&
				e.poff == 8 * S + 100 && e.len == 2 * GRAIN * S - 100,
			"two contiguous grains");
		T_CHECK(bsw_vmdk_ops.map(h, 2 * GRAIN * S, CAP * S, &e) == 0 &&
				e.kind == BSW_CEXT_ZERO && e.len == GRAIN * S,
			"unallocated grain of a base reads zero");
		T_CHECK(bsw_vmdk_ops.map(h, 3 * GRAIN * S, CAP * S, &e) == 0 &&
				e.kind == BSW_CEXT_ZERO && e.len == GRAIN * S,
			"zeroed grain");
		T_CHECK(bsw_vmdk_ops.map(h, 4 * GRAIN * S + 1, 10, &e) == 0 &&
				e.kind == BSW_CEXT_DATA && e.poff == 40 * S + 1 && e.len == 10,
			"grain in the second table");
		T_CHECK(bsw_vmdk_ops.map(h, CAP * S, 1, &e) == -EIO, "past the end");
		bsw_vmdk_ops.close(h);
		bsw_cont_info_free(&ci);
	}

	/* --- a child: parentCID and parentFileNameHint ------------------------ */
	build("# Disk DescriptorFile\nversion=1\nCID=11112222\nparentCID=0badcafe\n"
	      "createType=\"monolithicSparse\"\nparentFileNameHint=\"C:\\VMs\\base.vmdk\"\n"
	      "RW 64 SPARSE \"c.vmdk\"\n",
	      0);
	rc = open_img(&h, &ci, fx, err);
	T_CHECK(rc == 0, "open child: %s", err);
	if (!rc) {
		T_CHECK(ci.has_parent && ci.parent_id_valid && get_be32(ci.parent_id) == 0x0badcafe,
			"parentCID recorded");
		T_CHECK(ci.nr_locators == 1 && !strcmp(ci.locator[0], "C:\\VMs\\base.vmdk") &&
				!strcmp(ci.locator_kind[0], "absolute"),
			"parent hint as an absolute locator");
		T_CHECK(bsw_vmdk_ops.map(h, 0, S, &e) == 0 && e.kind == BSW_CEXT_PARENT,
			"unallocated grain of a child -> parent");
		bsw_vmdk_ops.close(h);
		bsw_cont_info_free(&ci);
	}

	/* --- damage, one per check ------------------------------------------- */
#define EXPECT_OPEN(setup, want_rc, substr, what)                                                  \
	do {                                                                                       \
		build(desc_base, 0);                                                               \
		setup;                                                                             \
		rc = open_img(&h, &ci, fx, err);                                                   \
		T_CHECK(rc == (want_rc) && strstr(err, substr), "%s: rc %d err '%s'", what, rc,    \
			err);                                                                      \
		if (!rc) {                                                                         \
			bsw_vmdk_ops.close(h);                                                     \
			bsw_cont_info_free(&ci);                                                   \
		}                                                                                  \
	} while (0)
	EXPECT_OPEN(put_le32(img + 2 * S + 4, 100000), -EINVAL,
		    "grain directory entry 1 points to a grain table at sector 100000",
		    "grain table past the file");
	EXPECT_OPEN(put_le64(img + 56, 1ull << 40), -EINVAL, "grain directory",
		    "directory past the file");
	EXPECT_OPEN(put_le64(img + 12, 1ull << 40), -EINVAL, "grain directory",
		    "capacity whose directory cannot be in the file");
	EXPECT_OPEN(put_le64(img + 12, 1ull << 50), -EINVAL, "above 64 PiB", "absurd capacity");
	EXPECT_OPEN(put_le64(img + 20, 3), -EINVAL, "grain size 3", "grain not a power of two");
	EXPECT_OPEN(put_le64(img + 20, 1ull << 20), -EINVAL, "grain size", "huge grain");
	EXPECT_OPEN(put_le32(img + 44, 0), -EINVAL, "numGTEsPerGT 0", "empty grain tables");
	EXPECT_OPEN(img[75] = '\n', -EINVAL, "newline test", "text-mode transfer");
	EXPECT_OPEN(put_le32(img + 4, 9), -ENOTSUP, "version 9", "unknown version");
	EXPECT_OPEN(put_le64(img + 28, 0), -EINVAL, "one extent of a split disk", "no descriptor");
	EXPECT_OPEN(memset(img + S, 0, S), -EINVAL, "one extent of a split disk",
		    "empty embedded descriptor");
	EXPECT_OPEN(put_le64(img + 36, 100000), -EINVAL, "embedded descriptor",
		    "descriptor past the file");
	EXPECT_OPEN(memcpy(img, "COWD", 4), -ENOTSUP, "VMFS sparse", "COWD");
	EXPECT_OPEN(put_le64(img, 0xcafebabeull), -ENOTSUP, "SESparse", "SESparse");
	EXPECT_OPEN((void)0, 0, "", "the intact image opens");

	/* grains past the end of the file, or in the header sector */
	build(desc_base, 0);
	gte(0, 5000);
	gte(1, 0);
	rc = open_img(&h, &ci, fx, err);
	T_CHECK(rc == 0, "open: %s", err);
	if (!rc) {
		T_CHECK(bsw_vmdk_ops.map(h, 0, S, &e) == -EUCLEAN, "grain past the file refused");
		bsw_vmdk_ops.close(h);
		bsw_cont_info_free(&ci);
	}

	/* unclean shutdown is a finding */
	{
		struct bsw_fx *f2;

		build(desc_base, 0);
		img[72] = 1;
		T_CHECK(bsw_fx_create(&f2) == 0, "fx2");
		rc = open_img(&h, &ci, f2, err);
		if (!rc) {
			bsw_vmdk_ops.close(h);
			bsw_cont_info_free(&ci);
		}
		bsw_fx_finish(f2);
		T_CHECK(bsw_fx_nr(f2, PR_VMDK_0_UNCLEAN) == 1, "CONT-VMDK unclean shutdown");
		bsw_fx_destroy(f2);
	}

	/* --- streamOptimized: compressed grains, GD in the footer ------------ */
	build(desc_base, (1u << 16) | (1u << 17));
	put_cgrain(8, 0, 0x5a, GRAIN * S);
	gte(0, 8);
	put_cgrain(16, GRAIN, 0x6b, 2 * GRAIN * S); /* expands past its grain */
	gte(1, 16);
	put_cgrain(24, 2 * GRAIN, 0x7c, GRAIN * S / 2); /* ends early */
	gte(2, 24);
	put_cgrain(32, 3 * GRAIN, 0x01, GRAIN * S);
	put_le32(img + 32 * S + 8, 0x7fffffff); /* marker size absurd */
	gte(3, 32);
	gte(4, 100000); /* past the file */
	/* header says GD_AT_END; footer marker, footer, end-of-stream */
	{
		size_t end = 64 * S;

		put_le64(img + 56, ~0ull);
		put_le32(img + end + 12, 3);
		memcpy(img + end + S, img, S);
		put_le64(img + end + S + 56, 2);
		put_le32(img + end + 2 * S + 12, 0);
		img_len = end + 3 * S;
	}
	rc = open_img(&h, &ci, fx, err);
	T_CHECK(rc == 0, "open stream-optimized: %s", err);
	if (!rc) {
		rc = bsw_vmdk_ops.map(h, 7, CAP * S, &e);
		T_CHECK(rc == 0 && e.kind == BSW_CEXT_MEM && e.len == GRAIN * S - 7 &&
				e.mem[0] == 0x5a && e.mem[GRAIN * S - 8] == 0x5a,
			"compressed grain: %d", rc);
		T_CHECK(bsw_vmdk_ops.map(h, GRAIN * S, S, &e) == -EUCLEAN,
			"grain that expands too far refused");
		T_CHECK(bsw_vmdk_ops.map(h, 2 * GRAIN * S, S, &e) == -EUCLEAN,
			"grain that ends early refused");
		T_CHECK(bsw_vmdk_ops.map(h, 3 * GRAIN * S, S, &e) == -EUCLEAN,
			"absurd marker size refused");
		T_CHECK(bsw_vmdk_ops.map(h, 4 * GRAIN * S, S, &e) == -EUCLEAN,
			"compressed grain past the file refused");
		bsw_vmdk_ops.close(h);
		bsw_cont_info_free(&ci);
	}
	/* no footer where GD_AT_END says */
	img_len -= 512;
	rc = open_img(&h, &ci, fx, err);
	T_CHECK(rc == -EINVAL && strstr(err, "footer"), "missing footer: %d %s", rc, err);

	/*
	 * --- a descriptor file as qemu-img leaves it -------------------------
	 * qemu-img rewrites the CID in place on its first write and writes
	 * the whole buffer back: a CID with fewer hex digits than the one it
	 * replaces leaves the old text's tail after the new NUL.  Such a file
	 * was read as a 512-byte raw disk (the flaky containers_qcow2_vmdk).
	 */
	{
		static const char dtext[] =
			"# Disk DescriptorFile\nversion=1\nCID=f34d1c\nparentCID=ffffffff\n"
			"createType=\"twoGbMaxExtentFlat\"\n\n# Extent description\n"
			"RW 2048 FLAT \"s-f001.vmdk\" 0\n\nddb.toolsVersion = \"2147483647\"\n";
		static char dfile[512];
		struct bsw_src dsrc;
		struct bsw_src_mem dmem;

		memset(dfile, 0, sizeof(dfile));
		memcpy(dfile, dtext, strlen(dtext));
		/* the stale tail: old text was 2 bytes longer */
		dfile[strlen(dtext) + 1] = '\n';
		bsw_src_mem_init(&dsrc, &dmem, dfile, sizeof(dfile));
		T_CHECK(bsw_vmdk_is_descriptor(&dsrc) == 1,
			"descriptor with stale text after its NUL is a descriptor");
		rc = bsw_vmdk_load_descriptor(&dsrc, &d, err, sizeof(err));
		T_CHECK(rc == 0, "descriptor with stale text after its NUL parses: %s", err);
		if (!rc) {
			T_CHECK(d.nr == 1 && d.cid == 0xf34d1c && d.sectors == 2048 &&
					!strcmp(d.create_type, "twoGbMaxExtentFlat"),
				"the text up to the NUL is the descriptor");
			bsw_vmdk_desc_free(&d);
		}
		/* binary after the NUL: a disk whose first bytes look like text */
		dfile[strlen(dtext) + 1] = (char)0x80;
		dfile[strlen(dtext) + 2] = 0x01;
		T_CHECK(bsw_vmdk_is_descriptor(&dsrc) == 0,
			"text followed by binary is not a descriptor");
		memset(dfile + strlen(dtext), 0, sizeof(dfile) - strlen(dtext));
		T_CHECK(bsw_vmdk_is_descriptor(&dsrc) == 1,
			"text padded with NULs is a descriptor");
	}

	/* --- the descriptor parser ------------------------------------------ */
	snprintf(
		text, sizeof(text),
		"CID=1\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentFlat\"\n"
		"RW 4192256 FLAT \"a-f001.vmdk\" 0\nRW 100 FLAT \"a-f002.vmdk\" 7\nRDONLY 8 ZERO\n");
	rc = bsw_vmdk_desc_parse(text, strlen(text), &d, err, sizeof(err));
	T_CHECK(rc == 0, "parse split flat: %s", err);
	if (!rc) {
		T_CHECK(d.nr == 3 && d.sectors == 4192256 + 100 + 8, "three extents");
		T_CHECK(d.ext[1].type == BSW_VMDK_EXT_FLAT && d.ext[1].offset == 7 &&
				!strcmp(d.ext[1].file, "a-f002.vmdk"),
			"flat extent fields");
		T_CHECK(d.ext[2].type == BSW_VMDK_EXT_ZERO && !d.ext[2].file, "zero extent");
		bsw_vmdk_desc_free(&d);
	}
#define EXPECT_PARSE(t, want, substr, what)                                                        \
	do {                                                                                       \
		rc = bsw_vmdk_desc_parse(t, strlen(t), &d, err, sizeof(err));                      \
		T_CHECK(rc == (want) && strstr(err, substr), "%s: %d '%s'", what, rc, err);        \
		if (!rc)                                                                           \
			bsw_vmdk_desc_free(&d);                                                    \
	} while (0)
	EXPECT_PARSE("CID=1\n", -EINVAL, "no extent", "no extents");
	EXPECT_PARSE("CID=zz\nRW 1 FLAT \"a\"\n", -EINVAL, "not a 32-bit hex", "bad CID");
	EXPECT_PARSE("RW -1 FLAT \"a\"\n", -EINVAL, "not a sector count", "negative size");
	EXPECT_PARSE("RW 99999999999999999999 FLAT \"a\"\n", -EINVAL, "not a sector count",
		     "overflowing size");
	EXPECT_PARSE("RW 10 FLAT \"a\n", -EINVAL, "unterminated", "unterminated name");
	EXPECT_PARSE("RW 10 FLAT\n", -EINVAL, "without a file name", "flat without file");
	EXPECT_PARSE("RW 10 VMFSSPARSE \"x-delta.vmdk\"\n", -ENOTSUP, "VMFS sparse", "VMFSSPARSE");
	EXPECT_PARSE("RW 10 SESPARSE \"x-sesparse.vmdk\"\n", -ENOTSUP, "SESparse", "SESPARSE");
	EXPECT_PARSE("RW 10 VMFSRDM \"x-rdm.vmdk\"\n", -ENOTSUP, "raw device mapping", "RDM");
	EXPECT_PARSE("RW 10 WEIRD \"x\"\n", -ENOTSUP, "unknown", "unknown extent type");
	EXPECT_PARSE("createType=\"fullDevice\"\nRW 10 FLAT \"/dev/sda\"\n", -ENOTSUP, "fullDevice",
		     "device");
	EXPECT_PARSE("parentCID=12\nRW 10 SPARSE \"x\"\n", -EINVAL, "no parentFileNameHint",
		     "parent without hint");
	EXPECT_PARSE("RW 9223372036854775807 FLAT \"a\"\n", -EINVAL, "not a sector count",
		     "size above 64 PiB");
	{
		/* 4097 extents: over the cap */
		size_t cap = 4097 * 20 + 1, o = 0;
		char *big = malloc(cap);

		for (int i = 0; big && i < 4097; i++)
			o += snprintf(big + o, cap - o, "RW 1 FLAT \"x%04d\"\n", i);
		if (big) {
			EXPECT_PARSE(big, -EINVAL, "more than 4096 extents", "too many extents");
			free(big);
		}
	}

	bsw_fx_destroy(fx);
	return T_DONE();
}
