/*
 * qcow2 (QEMU docs/interop/qcow2.txt), versions 2 and 3: the active L1/L2
 * tables, zero clusters, compressed clusters (deflate, zstd), extended L2
 * entries (32 subclusters per cluster) and the backing file as the parent
 * layer.  All fields are big-endian.  Refcounts and snapshots are not
 * needed to read the current state and are ignored; external data files
 * and encrypted images are refused with a message naming them.
 *
 * The same file recognises the image formats of the QEMU family that
 * bootsweep does not read (qcow version 1, QED, VDI, Parallels, ...), so
 * that they are refused by name instead of being read as raw disks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "formats/common/bytes.h"
#include "formats/cont/cont.h"
#include "formats/qcow2/clcache.h"
#include "formats/qcow2/qcow2.h"

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */
#define QCOW2_V2_HDR 72u
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21      /* 2 MiB, as QEMU */
#define QCOW2_MAX_L1_BYTES (32u << 20) /* QEMU's QCOW_MAX_L1_SIZE */
#define QCOW2_MAX_BACKING 1023u	       /* QEMU refuses longer names */
#define QCOW2_MAX_SIZE (1ull << 56)    /* 64 PiB; offsets are 56 bits */
#define QCOW2_MAX_EXTENSIONS 256
#define QCOW2_L2_SLOTS 16

/* Incompatible feature bits (qcow2.txt, header bytes 72-79). */
#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPR (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN 0x1full

/* Header extension types. */
#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_EXT_FDE 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u

/* L1 and standard L2 entries (qcow2.txt "Cluster mapping"). */
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull /* bits 9-55 */
#define QCOW2_COPIED (1ull << 63)
#define QCOW2_COMPRESSED (1ull << 62)
#define QCOW2_ZERO 1ull

enum unit_kind {
	U_UNALLOC,
	U_ZERO,
	U_DATA,
	U_COMP
};

struct qcow2 {
	const struct bsw_src *src;
	uint64_t fsize;
	uint32_t version;
	unsigned cluster_bits;
	uint64_t cs;   /* cluster size */
	uint64_t size; /* virtual size */
	uint32_t l1_size;
	uint64_t *l1; /* host order, masked offsets */
	bool ext_l2;
	unsigned entry_bytes; /* 8, or 16 with extended L2 */
	uint64_t l2_entries;  /* entries per L2 table */
	unsigned unit_bits;   /* cluster, or subcluster (cs / 32) */
	bool has_backing;
	int compression;	/* 0 deflate, 1 zstd */
	struct bsw_tblcache l2; /* L2 tables, least recently used replaced */
	/* compressed clusters */
	uint8_t *cbuf; /* compressed input, 2 clusters + 512 */
	struct bsw_clcache cc;
	struct bsw_inflate z;
	ZSTD_DCtx *zd;
	struct bsw_budget mem;
};

/*
 * Formats bootsweep recognises but does not read.  Each returns its name
 * when buf (the first 512 bytes) carries its signature.
 */
const char *bsw_qcow2_unread_name(const uint8_t *b, size_t n)
{
	if (n >= 8 && get_be32(b) == QCOW2_MAGIC && get_be32(b + 4) == 1)
		return "qcow version 1 (QEMU's original format)";
	if (n >= 4 && !memcmp(b, "QED\0", 4))
		return "QED (QEMU enhanced disk)";
	if (n >= 0x44 && get_le32(b + 0x40) == 0xbeda107fu)
		return "VDI (VirtualBox disk image)";
	if (n >= 16 && (!memcmp(b, "WithoutFreeSpace", 16) || !memcmp(b, "WithouFreSpacExt", 16)))
		return "Parallels disk image";
	if (n >= 21 && !memcmp(b, "Bochs Virtual HD Image", 21))
		return "Bochs disk image";
	if (n >= 6 && !memcmp(b, "LUKS\xba\xbe", 6))
		return "LUKS-encrypted volume";
	if (n >= 4 && !memcmp(b, "COWD", 4))
		return "VMFS sparse extent (ESX -delta.vmdk)";
	if (n >= 8 && get_le64(b) == 0x00000000cafebabeull)
		return "SESparse extent (ESX -sesparse.vmdk)";
	return NULL;
}

static int qcow2_probe(const struct bsw_src *src)
{
	uint8_t b[512] = { 0 };
	size_t n = BSW_MIN(src->size, sizeof(b));

	if (n < 8 || bsw_src_read_full(src, b, n, 0))
		return 0;
	if (get_be32(b) == QCOW2_MAGIC)
		return 1;
	/* VMware's own formats are named by the VMDK module. */
	if (!memcmp(b, "COWD", 4) || get_le64(b) == 0x00000000cafebabeull)
		return 0;
	return bsw_qcow2_unread_name(b, n) != NULL;
}

/* The header extensions: backing format, encryption, external data file. */
static int read_extensions(struct qcow2 *q, const uint8_t *c0, uint32_t start, uint64_t incompat,
			   char *err, size_t errlen)
{
	uint64_t pos = start;
	const uint64_t end = q->cs; /* extensions live in the first cluster */

	for (int i = 0; i < QCOW2_MAX_EXTENSIONS; i++) {
		uint32_t type, len;

		if (!bsw_range_ok(pos, 8, end))
			return bsw_cont_err(
				err, errlen, -EINVAL,
				"qcow2 header extension %d at offset %llu runs past the first cluster",
				i, (unsigned long long)pos);
		type = get_be32(c0 + pos);
		len = get_be32(c0 + pos + 4);
		if (type == QCOW2_EXT_END)
			return 0;
		if (!bsw_range_ok(pos + 8, len, end))
			return bsw_cont_err(
				err, errlen, -EINVAL,
				"qcow2 header extension 0x%08x (%u bytes at offset %llu) runs past the first cluster",
				type, len, (unsigned long long)pos);
		if (type == QCOW2_EXT_DATA_FILE && (incompat & QCOW2_INCOMPAT_DATA_FILE))
			return bsw_cont_err(
				err, errlen, -ENOTSUP,
				"qcow2 image keeps its guest data in an external data file ('%.*s'); bootsweep does not read external data files",
				(int)BSW_MIN(len, 200u), (const char *)c0 + pos + 8);
		pos += 8 + (((uint64_t)len + 7) & ~7ull);
	}
	return bsw_cont_err(err, errlen, -EINVAL, "qcow2 header has more than %d extensions",
			    QCOW2_MAX_EXTENSIONS);
}

static int qcow2_open(void **h, const struct bsw_src *src, const struct bsw_cont_opts *o,
		      struct bsw_fx *fx, struct bsw_cont_info *info, char *err, size_t errlen)
{
	uint8_t hdr[512] = { 0 };
	uint8_t *c0 = NULL;
	struct qcow2 *q;
	uint64_t incompat = 0, l1_off, l1_bytes, need_l1, per_l2, bf_off;
	uint32_t hdr_len = QCOW2_V2_HDR, bf_len, crypt;
	const char *foreign;
	int rc;

	if (src->size < QCOW2_V2_HDR)
		return bsw_cont_err(err, errlen, -EINVAL,
				    "file of %llu bytes is too small for a qcow2 header",
				    (unsigned long long)src->size);
	rc = bsw_src_read_full(src, hdr, BSW_MIN(src->size, sizeof(hdr)), 0);
	if (rc)
		return bsw_cont_err(err, errlen, rc, "cannot read qcow2 header");
	foreign = bsw_qcow2_unread_name(hdr, BSW_MIN(src->size, sizeof(hdr)));
	if (foreign)
		return bsw_cont_err(err, errlen, -ENOTSUP,
				    "%s: a format bootsweep recognises but does not read", foreign);
	if (get_be32(hdr) != QCOW2_MAGIC)
		return bsw_cont_err(err, errlen, -EINVAL, "no qcow2 magic");
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->src = src;
	q->fsize = src->size;
	bsw_budget_init(&q->mem, o ? o->mem_cap : 0);
	q->version = get_be32(hdr + 4);
	q->cluster_bits = get_be32(hdr + 20);
	q->size = get_be64(hdr + 24);
	crypt = get_be32(hdr + 32);
	q->l1_size = get_be32(hdr + 36);
	l1_off = get_be64(hdr + 40);
	bf_off = get_be64(hdr + 8);
	bf_len = get_be32(hdr + 16);
	info->format = "qcow2";
	info->logical_sector = info->physical_sector = 512;
	if (q->version != 2 && q->version != 3) {
		rc = bsw_cont_err(err, errlen, -ENOTSUP, "qcow2 version %u is not 2 or 3",
				  q->version);
		goto fail;
	}
	info->subformat = q->version == 2 ? "v2" : "v3";
	if (q->cluster_bits < QCOW2_MIN_CLUSTER_BITS || q->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
		rc = bsw_cont_err(err, errlen, -EINVAL, "qcow2 cluster_bits %u is outside 9..21",
				  q->cluster_bits);
		goto fail;
	}
	q->cs = 1ull << q->cluster_bits;
	info->block_size = (uint32_t)q->cs;
	if (q->version == 3) {
		if (src->size < 104) {
			rc = bsw_cont_err(err, errlen, -EINVAL, "qcow2 v3 header is truncated");
			goto fail;
		}
		incompat = get_be64(hdr + 72);
		hdr_len = get_be32(hdr + 100);
		if (hdr_len < 104 || hdr_len > sizeof(hdr) || (hdr_len & 7)) {
			rc = bsw_cont_err(
				err, errlen, -EINVAL,
				"qcow2 v3 header_length %u is not a multiple of 8 between 104 and 512",
				hdr_len);
			goto fail;
		}
		if (incompat & ~QCOW2_INCOMPAT_KNOWN) {
			rc = bsw_cont_err(
				err, errlen, -ENOTSUP,
				"qcow2 image has unknown incompatible feature bits 0x%llx",
				(unsigned long long)(incompat & ~QCOW2_INCOMPAT_KNOWN));
			goto fail;
		}
		if (incompat & QCOW2_INCOMPAT_COMPR) {
			uint8_t t = hdr_len > 104 ? hdr[104] : 0;

			if (t > 1) {
				rc = bsw_cont_err(
					err, errlen, -ENOTSUP,
					"qcow2 compression type %u is neither zlib (0) nor zstd (1)",
					t);
				goto fail;
			}
			q->compression = t;
		}
		q->ext_l2 = incompat & QCOW2_INCOMPAT_EXTL2;
	}
	if (crypt == 1 || crypt == 2) {
		rc = bsw_cont_err(
			err, errlen, -ENOTSUP,
			"qcow2 image is encrypted (%s); its contents cannot be assessed without the key",
			crypt == 2 ? "LUKS" : "legacy AES");
		goto fail;
	}
	if (crypt) {
		rc = bsw_cont_err(err, errlen, -ENOTSUP, "qcow2 crypt_method %u is unknown", crypt);
		goto fail;
	}
	if (q->ext_l2 && q->cluster_bits < 14) {
		/* qcow2.txt: subclusters need clusters of at least 16 KiB */
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"qcow2 extended L2 entries need clusters of at least 16 KiB (cluster_bits %u)",
			q->cluster_bits);
		goto fail;
	}
	if (q->size == 0 || q->size > QCOW2_MAX_SIZE) {
		rc = bsw_cont_err(err, errlen, -EINVAL,
				  "qcow2 virtual size %llu is 0 or above 64 PiB",
				  (unsigned long long)q->size);
		goto fail;
	}
	info->virtual_size = q->size;
	q->entry_bytes = q->ext_l2 ? 16 : 8;
	q->l2_entries = q->cs / q->entry_bytes;
	q->unit_bits = q->ext_l2 ? q->cluster_bits - 5 : q->cluster_bits;
	info->subformat = q->ext_l2 ? "v3, extended L2" : info->subformat;

	/* The first cluster holds the header, its extensions, the backing name. */
	if (!bsw_budget_take(&q->mem, q->cs)) {
		rc = bsw_cont_err(
			err, errlen, -EFBIG,
			"qcow2 cluster of %llu bytes exceeds the per-disk memory cap of %llu bytes",
			(unsigned long long)q->cs, (unsigned long long)q->mem.cap);
		goto fail;
	}
	c0 = calloc(1, q->cs);
	if (!c0) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = bsw_src_read_full(src, c0, BSW_MIN(q->cs, src->size), 0);
	if (rc) {
		bsw_cont_err(err, errlen, rc, "cannot read the qcow2 header cluster");
		goto fail;
	}
	if (incompat & QCOW2_INCOMPAT_DATA_FILE) {
		/* the extension names the file; refuse even when it is absent */
		rc = read_extensions(q, c0, hdr_len, incompat, err, errlen);
		if (!rc)
			rc = bsw_cont_err(
				err, errlen, -ENOTSUP,
				"qcow2 image keeps its guest data in an external data file (not named); bootsweep does not read external data files");
		goto fail;
	}
	rc = read_extensions(q, c0, hdr_len, incompat, err, errlen);
	if (rc)
		goto fail;
	if (incompat & QCOW2_INCOMPAT_CORRUPT)
		BSW_REPORT(fx, PR_QCOW2_0_CORRUPT, .off = 72);
	if (incompat & QCOW2_INCOMPAT_DIRTY)
		BSW_REPORT(fx, PR_QCOW2_0_DIRTY, .off = 72);

	/* Backing file: a name in the first cluster (QEMU: at most 1023 bytes). */
	if (bf_off) {
		char *name;

		if (bf_len == 0 || bf_len > QCOW2_MAX_BACKING ||
		    !bsw_range_ok(bf_off, bf_len, q->cs) || bf_off < hdr_len) {
			rc = bsw_cont_err(
				err, errlen, -EINVAL,
				"qcow2 backing file name (%u bytes at offset %llu) is empty, longer than %u bytes or outside the header cluster",
				bf_len, (unsigned long long)bf_off, QCOW2_MAX_BACKING);
			goto fail;
		}
		if (memchr(c0 + bf_off, 0, bf_len)) {
			rc = bsw_cont_err(err, errlen, -EINVAL,
					  "qcow2 backing file name holds a NUL byte");
			goto fail;
		}
		name = strndup((const char *)c0 + bf_off, bf_len);
		if (!name) {
			rc = -ENOMEM;
			goto fail;
		}
		if (!strncmp(name, "json:", 5) || strstr(name, "://")) {
			rc = bsw_cont_err(
				err, errlen, -ENOTSUP,
				"qcow2 backing file '%.200s' is a QEMU protocol or JSON specification, not a file bootsweep can open",
				name);
			free(name);
			goto fail;
		}
		q->has_backing = true;
		info->has_parent = true;
		info->locator[0] = name;
		info->locator_kind[0] = name[0] == '/' ? "absolute" : "relative";
		info->nr_locators = 1;
	}

	/* L1: enough entries for the virtual size, inside the file, charged. */
	per_l2 = q->l2_entries << q->cluster_bits; /* bytes one L2 maps */
	need_l1 = (q->size + per_l2 - 1) / per_l2;
	if (q->l1_size < need_l1) {
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"qcow2 L1 table has %u entries, fewer than the %llu the virtual size %llu needs",
			q->l1_size, (unsigned long long)need_l1, (unsigned long long)q->size);
		goto fail;
	}
	q->l1_size = (uint32_t)need_l1; /* entries past the disk are never used */
	l1_bytes = (uint64_t)q->l1_size * 8;
	if (l1_bytes > QCOW2_MAX_L1_BYTES) {
		rc = bsw_cont_err(err, errlen, -EINVAL,
				  "qcow2 L1 table of %llu bytes exceeds 32 MiB",
				  (unsigned long long)l1_bytes);
		goto fail;
	}
	if ((l1_off & (q->cs - 1)) || l1_off < q->cs || !bsw_range_ok(l1_off, l1_bytes, q->fsize)) {
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"qcow2 L1 table (%llu bytes at offset %llu) is unaligned, in the header cluster or past the end of the %llu-byte file",
			(unsigned long long)l1_bytes, (unsigned long long)l1_off,
			(unsigned long long)q->fsize);
		goto fail;
	}
	if (!bsw_budget_take(&q->mem, l1_bytes + QCOW2_L2_SLOTS * q->cs)) {
		rc = bsw_cont_err(
			err, errlen, -EFBIG,
			"qcow2 L1 table (%llu bytes) and L2 cache (%u tables of %llu bytes) exceed the per-disk memory cap of %llu bytes",
			(unsigned long long)l1_bytes, QCOW2_L2_SLOTS, (unsigned long long)q->cs,
			(unsigned long long)q->mem.cap);
		goto fail;
	}
	q->l1 = malloc(l1_bytes);
	if (!q->l1) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = bsw_src_read_full(src, q->l1, l1_bytes, l1_off);
	if (rc) {
		bsw_cont_err(err, errlen, rc, "cannot read qcow2 L1 table");
		goto fail;
	}
	for (uint32_t i = 0; i < q->l1_size; i++) {
		uint64_t e = get_be64((uint8_t *)&q->l1[i]), l2 = e & QCOW2_OFFSET_MASK;

		q->l1[i] = l2;
		if (!l2)
			continue;
		/* qcow2.txt: L2 tables are cluster-aligned; never the header or L1 */
		if ((l2 & (q->cs - 1)) || l2 < q->cs || !bsw_range_ok(l2, q->cs, q->fsize) ||
		    (l2 < l1_off + l1_bytes && l2 + q->cs > l1_off)) {
			rc = bsw_cont_err(
				err, errlen, -EINVAL,
				"qcow2 L1 entry %u points to an L2 table at offset %llu that is unaligned, overlaps the header or the L1 table, or lies past the end of the %llu-byte file",
				i, (unsigned long long)l2, (unsigned long long)q->fsize);
			goto fail;
		}
	}
	bsw_tblcache_init(&q->l2, src, QCOW2_L2_SLOTS, q->cs);
	bsw_clcache_init(&q->cc, (uint32_t)q->cs, &q->mem);
	free(c0);
	bsw_budget_give(&q->mem, q->cs);
	*h = q;
	return 0;
fail:
	free(c0);
	bsw_cont_info_free(info);
	free(q->l1);
	free(q);
	return rc;
}

/*
 * Classify unit u of an L2 table (a cluster, or a subcluster with extended
 * L2): its kind, and for data its host offset, for compressed clusters the
 * raw L2 entry.  -EUCLEAN for entries the spec forbids.
 */
static int unit_at(const struct qcow2 *q, const uint8_t *l2, uint64_t u, enum unit_kind *kind,
		   uint64_t *host)
{
	uint64_t idx = q->ext_l2 ? u >> 5 : u;
	const uint8_t *p = l2 + idx * q->entry_bytes;
	uint64_t e = get_be64(p), off;

	if (e & QCOW2_COMPRESSED) {
		*kind = U_COMP;
		*host = e;
		return 0;
	}
	off = e & QCOW2_OFFSET_MASK;
	if (q->ext_l2) {
		uint64_t bm = get_be64(p + 8);
		unsigned j = u & 31;
		bool alloc = (bm >> j) & 1, zero = (bm >> (32 + j)) & 1;

		if (alloc && zero)
			return -EUCLEAN; /* qcow2.txt: both bits set is invalid */
		if (zero) {
			*kind = U_ZERO;
			return 0;
		}
		if (!alloc) {
			*kind = U_UNALLOC;
			return 0;
		}
		if (!off || (off & (q->cs - 1)))
			return -EUCLEAN; /* no host cluster, or an unaligned one */
		*kind = U_DATA;
		*host = off + ((uint64_t)j << q->unit_bits);
		return 0;
	}
	if (e & QCOW2_ZERO) {
		*kind = U_ZERO;
		return 0;
	}
	if (!off) {
		*kind = U_UNALLOC;
		return 0;
	}
	/* qcow2.txt: host clusters are cluster-aligned (QEMU: "corrupt") */
	if (off & (q->cs - 1))
		return -EUCLEAN;
	*kind = U_DATA;
	*host = off;
	return 0;
}

/* Decompress the cluster of L2 entry e into a cache slot. */
static int load_compressed(struct qcow2 *q, uint64_t e, uint8_t **out)
{
	unsigned x = 62 - (q->cluster_bits - 8);
	uint64_t coff = e & ((1ull << x) - 1);
	uint64_t nsec = ((e >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
	uint64_t clen = nsec * 512 - (coff & 511);
	uint64_t key = coff;
	uint8_t *dst;
	int rc = 0;

	dst = bsw_clcache_get(&q->cc, key);
	if (dst) {
		*out = dst;
		return 0;
	}
	/* The sector count is an upper bound; the file may end before it. */
	if (coff < q->cs || coff >= q->fsize)
		return -EUCLEAN;
	clen = BSW_MIN(clen, q->fsize - coff);
	if (!q->cbuf) {
		if (!bsw_budget_take(&q->mem, 2 * q->cs + 512))
			return -EFBIG;
		q->cbuf = malloc(2 * q->cs + 512);
		if (!q->cbuf)
			return -ENOMEM;
	}
	rc = bsw_src_read_full(q->src, q->cbuf, clen, coff);
	if (rc)
		return rc;
	dst = bsw_clcache_put(&q->cc, key, &rc);
	if (!dst)
		return rc;
	if (q->compression == 0) {
		/* raw deflate (no zlib header), window of 4 KiB as QEMU writes */
		int zr;

		rc = bsw_inflate_start(&q->z, -15, q->cbuf, clen, dst, q->cs);
		if (rc)
			goto bad;
		zr = inflate(&q->z.zs, Z_FINISH);
		/*
		 * The input is known only to the sector, so stopping with the
		 * output full (Z_BUF_ERROR, or Z_OK) is success as well.
		 */
		if (q->z.zs.avail_out != 0 ||
		    (zr != Z_STREAM_END && zr != Z_BUF_ERROR && zr != Z_OK)) {
			rc = -EUCLEAN;
			goto bad;
		}
	} else {
		ZSTD_inBuffer in = { q->cbuf, clen, 0 };
		ZSTD_outBuffer ob = { dst, q->cs, 0 };

		if (!q->zd) {
			q->zd = ZSTD_createDCtx();
			if (!q->zd) {
				rc = -ENOMEM;
				goto bad;
			}
			/* a frame may not ask for a window above 2 MiB */
			ZSTD_DCtx_setParameter(q->zd, ZSTD_d_windowLogMax, 21);
		}
		ZSTD_DCtx_reset(q->zd, ZSTD_reset_session_only);
		/*
		 * QEMU may write several frames; stop when the cluster is full.
		 * A call that moves neither buffer means the input ended early.
		 */
		while (ob.pos < ob.size) {
			size_t ip = in.pos, op = ob.pos;
			size_t zr = ZSTD_decompressStream(q->zd, &ob, &in);

			if (ZSTD_isError(zr) || (in.pos == ip && ob.pos == op)) {
				rc = -EUCLEAN;
				goto bad;
			}
		}
	}
	*out = dst;
	return 0;
bad:
	bsw_clcache_drop(&q->cc, key);
	return rc;
}

static int qcow2_map(void *h, uint64_t off, uint64_t len, struct bsw_cext *e)
{
	struct qcow2 *q = h;
	uint64_t ci, l1i, u, u_end, in, run;
	const uint8_t *l2;
	enum unit_kind kind, k2;
	uint64_t host = 0, h2 = 0, usize;
	int rc;

	if (off >= q->size)
		return -EIO;
	len = BSW_MIN(len, q->size - off);
	ci = off >> q->cluster_bits;
	l1i = ci / q->l2_entries;
	if (!q->l1[l1i]) {
		/* no L2 table: the whole range it would map is unallocated */
		uint64_t end = (l1i + 1) * q->l2_entries << q->cluster_bits;

		e->kind = q->has_backing ? BSW_CEXT_PARENT : BSW_CEXT_ZERO;
		e->len = BSW_MIN(len, end - off);
		return 0;
	}
	/* the L2 table's offset was validated at open */
	rc = bsw_tblcache_get(&q->l2, q->l1[l1i], &l2);
	if (rc)
		return rc;
	usize = 1ull << q->unit_bits;
	/* units are counted from the start of this L2 table */
	u = (off - ((l1i * q->l2_entries) << q->cluster_bits)) >> q->unit_bits;
	u_end = q->l2_entries << (q->cluster_bits - q->unit_bits);
	in = off & (usize - 1);
	rc = unit_at(q, l2, u, &kind, &host);
	if (rc)
		return rc;
	if (kind == U_COMP) {
		uint8_t *d = NULL;

		in = off & (q->cs - 1);
		rc = load_compressed(q, host, &d);
		if (rc)
			return rc;
		e->kind = BSW_CEXT_MEM;
		e->mem = d + in;
		e->len = BSW_MIN(len, q->cs - in);
		return 0;
	}
	/* data clusters never start in the header cluster or past the file */
	if (kind == U_DATA && (host < q->cs || host >= q->fsize))
		return -EUCLEAN;
	/* extend over following units of the same kind (data: contiguous) */
	run = usize - in;
	while (run < len && ++u < u_end) {
		rc = unit_at(q, l2, u, &k2, &h2);
		if (rc || k2 != kind)
			break;
		if (kind == U_DATA && h2 != host + in + run)
			break;
		run += usize;
	}
	e->len = BSW_MIN(len, run);
	switch (kind) {
	case U_ZERO: e->kind = BSW_CEXT_ZERO; break;
	case U_UNALLOC: e->kind = q->has_backing ? BSW_CEXT_PARENT : BSW_CEXT_ZERO; break;
	default:
		e->kind = BSW_CEXT_DATA;
		e->poff = host + in;
		bsw_cext_clip(e, q->fsize);
		break;
	}
	return 0;
}

static void qcow2_close(void *h)
{
	struct qcow2 *q = h;

	bsw_tblcache_free(&q->l2);
	bsw_clcache_free(&q->cc);
	bsw_inflate_end(&q->z);
	ZSTD_freeDCtx(q->zd);
	free(q->cbuf);
	free(q->l1);
	free(q);
}

const struct bsw_cont_ops bsw_qcow2_ops = {
	.name = "qcow2",
	.probe = qcow2_probe,
	.open = qcow2_open,
	.map = qcow2_map,
	.close = qcow2_close,
};
