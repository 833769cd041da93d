/*
 * VMDK (VMware, "Virtual Disk Format 1.1"): the text descriptor, and hosted
 * sparse extents (header, grain directory, grain tables, grains), as
 * written by VMware Workstation/Fusion and qemu-img: monolithicSparse,
 * streamOptimized (deflate-compressed grains behind markers, the header
 * copy in a footer) and the -s00N extents of split disks.  Sparse header
 * fields are little-endian.
 *
 * ESX's formats that are not plain bytes (VMFS sparse "COWD" -delta files,
 * SESparse, raw device maps) are recognised and refused by name.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "formats/common/bytes.h"
#include "formats/common/vec.h"
#include "formats/cont/cont.h"
#include "formats/qcow2/clcache.h"
#include "formats/vmdk/vmdk.h"

#define VMDK_MAGIC 0x564d444bu	    /* "KDMV" little-endian */
#define VMDK_COWD_MAGIC 0x44574f43u /* "COWD": ESX VMFS sparse */
#define VMDK_SESPARSE_MAGIC 0x00000000cafebabeull
#define VMDK_SECTOR 512u
#define VMDK_GD_AT_END 0xffffffffffffffffull
#define VMDK_FLAG_NL_TEST (1u << 0)
#define VMDK_FLAG_ZERO_GRAIN (1u << 2)
#define VMDK_FLAG_COMPRESSED (1u << 16)
#define VMDK_FLAG_MARKERS (1u << 17)
#define VMDK_MARKER_EOS 0
#define VMDK_MARKER_FOOTER 3
#define VMDK_MAX_GRAIN 65536u /* sectors: 32 MiB */
#define VMDK_MAX_CGRAIN 4096u /* compressed grains: 2 MiB */
#define VMDK_MAX_GTES 4096u
#define VMDK_MAX_CAPACITY (1ull << 47) /* sectors: 64 PiB */
#define VMDK_MAX_DESC_SECTORS 2048u    /* embedded descriptor: 1 MiB */
#define VMDK_GT_SLOTS 32

struct vmdk {
	const struct bsw_src *src;
	uint64_t fsize;
	uint64_t size;	 /* virtual bytes of this extent */
	uint64_t gbytes; /* grain size in bytes */
	uint32_t gtes;	 /* entries per grain table */
	uint64_t nr_gd;
	uint32_t *gd; /* host order; 0 = no table */
	bool compressed, zero_grain, has_parent;
	struct bsw_tblcache gt; /* grain tables, least recently used replaced */
	uint8_t *cbuf;		/* one compressed grain with its marker */
	uint64_t cbuf_len;
	struct bsw_clcache cc;
	struct bsw_inflate z;
	struct bsw_budget mem;
};

/* ---- descriptor ------------------------------------------------------ */

void bsw_vmdk_desc_free(struct bsw_vmdk_desc *d)
{
	for (unsigned i = 0; i < d->nr; i++)
		free(d->ext[i].file);
	free(d->ext);
	free(d->parent_hint);
	memset(d, 0, sizeof(*d));
}

/* Trim spaces and a pair of quotes; returns the start, writes the end. */
static char *unquote(char *s, char **end)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e - s >= 2 && *s == '"' && e[-1] == '"') {
		s++;
		e--;
	}
	*e = 0;
	if (end)
		*end = e;
	return s;
}

static bool parse_u64(const char *s, int base, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	return !errno && !*end;
}

/* One extent line: ACCESS SECTORS TYPE ["FILE" [OFFSET]] (spec 4, "Extent Descriptions"). */
static int parse_extent(struct bsw_vmdk_desc *d, char *line, unsigned ln, char *err, size_t errlen)
{
	char *p = line, *tok[3], *file = NULL, *q;
	struct bsw_vmdk_extent *x;
	uint64_t sectors, offset = 0;

	for (int i = 0; i < 3; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		tok[i] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
	}
	if (!parse_u64(tok[1], 10, &sectors) || sectors == 0 || sectors > VMDK_MAX_CAPACITY)
		return bsw_cont_err(
			err, errlen, -EINVAL,
			"VMDK descriptor line %u: extent size '%.40s' is not a sector count", ln,
			tok[1]);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"') {
		file = ++p;
		q = strchr(p, '"');
		if (!q)
			return bsw_cont_err(err, errlen, -EINVAL,
					    "VMDK descriptor line %u: unterminated file name", ln);
		*q = 0;
		p = q + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && (!parse_u64(p, 10, &offset) || offset > VMDK_MAX_CAPACITY))
			return bsw_cont_err(
				err, errlen, -EINVAL,
				"VMDK descriptor line %u: extent offset '%.40s' is not a sector number",
				ln, p);
	}
	if (d->nr >= BSW_VMDK_MAX_EXTENTS)
		return bsw_cont_err(err, errlen, -EINVAL,
				    "VMDK descriptor names more than %u extents",
				    BSW_VMDK_MAX_EXTENTS);
	if (!strcmp(tok[2], "VMFSSPARSE"))
		return bsw_cont_err(
			err, errlen, -ENOTSUP,
			"VMDK extent '%.200s' is a VMFS sparse extent (ESX -delta.vmdk, \"COWD\"), a format bootsweep recognises but does not read",
			file ? file : "");
	if (!strcmp(tok[2], "SESPARSE"))
		return bsw_cont_err(
			err, errlen, -ENOTSUP,
			"VMDK extent '%.200s' is an SESparse extent (ESX -sesparse.vmdk), a format bootsweep recognises but does not read",
			file ? file : "");
	if (!strcmp(tok[2], "VMFSRDM") || !strcmp(tok[2], "VMFSRAW"))
		return bsw_cont_err(
			err, errlen, -ENOTSUP,
			"VMDK extent '%.200s' is a raw device mapping (%s): the data is on a LUN, not in a file",
			file ? file : "", tok[2]);
	if (strcmp(tok[2], "FLAT") && strcmp(tok[2], "VMFS") && strcmp(tok[2], "SPARSE") &&
	    strcmp(tok[2], "ZERO"))
		return bsw_cont_err(err, errlen, -ENOTSUP,
				    "VMDK descriptor line %u: extent type '%.40s' is unknown", ln,
				    tok[2]);
	if (strcmp(tok[2], "ZERO") && (!file || !*file || strlen(file) > 1024))
		return bsw_cont_err(
			err, errlen, -EINVAL,
			"VMDK descriptor line %u: %s extent without a file name (or one over 1024 bytes)",
			ln, tok[2]);
	if (d->sectors + sectors > VMDK_MAX_CAPACITY)
		return bsw_cont_err(err, errlen, -EINVAL,
				    "VMDK descriptor extents add up to more than 64 PiB");
	if (bsw_vec_reserve(&d->ext, &d->alloc, d->nr + 1, sizeof(*d->ext), BSW_VMDK_MAX_EXTENTS))
		return -ENOMEM;
	x = &d->ext[d->nr];
	memset(x, 0, sizeof(*x));
	x->type = !strcmp(tok[2], "SPARSE") ? BSW_VMDK_EXT_SPARSE :
		  !strcmp(tok[2], "ZERO")   ? BSW_VMDK_EXT_ZERO :
					      BSW_VMDK_EXT_FLAT;
	x->sectors = sectors;
	x->offset = offset;
	if (x->type != BSW_VMDK_EXT_ZERO) {
		x->file = strdup(file);
		if (!x->file)
			return -ENOMEM;
	}
	d->nr++;
	d->sectors += sectors;
	return 0;
}

int bsw_vmdk_desc_parse(const char *text, size_t len, struct bsw_vmdk_desc *d, char *err,
			size_t errlen)
{
	char *buf, *line, *next;
	unsigned ln = 0;
	bool have_cid = false;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	d->parent_cid = BSW_VMDK_NO_PARENT;
	len = strnlen(text, BSW_MIN(len, (size_t)BSW_VMDK_MAX_DESC));
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len);
	buf[len] = 0;
	for (line = buf; line && !rc; line = next) {
		char *s, *eq;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		ln++;
		s = unquote(line, NULL);
		if (!*s || *s == '#')
			continue;
		if (!strncmp(s, "RW ", 3) || !strncmp(s, "RDONLY ", 7) ||
		    !strncmp(s, "NOACCESS ", 9) || !strncmp(s, "RW\t", 3)) {
			rc = parse_extent(d, s, ln, err, errlen);
			continue;
		}
		eq = strchr(s, '=');
		if (!eq)
			continue; /* not a key: ignored, as VMware does */
		*eq = 0;
		{
			char *k = unquote(s, NULL), *v = unquote(eq + 1, NULL);
			uint64_t n;

			if (!strcmp(k, "CID") || !strcmp(k, "parentCID")) {
				if (!parse_u64(v, 16, &n) || n > 0xffffffffu) {
					rc = bsw_cont_err(
						err, errlen, -EINVAL,
						"VMDK descriptor line %u: %s '%.40s' is not a 32-bit hex number",
						ln, k, v);
					break;
				}
				if (k[0] == 'C') {
					d->cid = (uint32_t)n;
					have_cid = true;
				} else {
					d->parent_cid = (uint32_t)n;
				}
			} else if (!strcmp(k, "createType")) {
				snprintf(d->create_type, sizeof(d->create_type), "%s", v);
			} else if (!strcmp(k, "parentFileNameHint")) {
				free(d->parent_hint);
				d->parent_hint = strndup(v, 4096);
				if (!d->parent_hint)
					rc = -ENOMEM;
			}
		}
	}
	free(buf);
	if (!rc && !d->nr)
		rc = bsw_cont_err(err, errlen, -EINVAL, "VMDK descriptor names no extent");
	if (!rc && !have_cid)
		d->cid = 0;
	if (!rc &&
	    (!strcmp(d->create_type, "vmfsSparse") || !strcmp(d->create_type, "seSparse") ||
	     !strcmp(d->create_type, "vmfsRDM") || !strcmp(d->create_type, "vmfsRaw") ||
	     !strcmp(d->create_type, "vmfsRawDeviceMap") ||
	     !strcmp(d->create_type, "vmfsPassthroughRawDeviceMap") ||
	     !strcmp(d->create_type, "fullDevice") || !strcmp(d->create_type, "partitionedDevice")))
		rc = bsw_cont_err(
			err, errlen, -ENOTSUP,
			"VMDK createType \"%s\" (ESX delta/SESparse or a raw device) is recognised but not read by bootsweep",
			d->create_type);
	if (!rc && d->parent_cid != BSW_VMDK_NO_PARENT && (!d->parent_hint || !*d->parent_hint))
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"VMDK descriptor records a parent (parentCID %08x) but no parentFileNameHint",
			d->parent_cid);
	if (rc)
		bsw_vmdk_desc_free(d);
	return rc;
}

int bsw_vmdk_desc_info(const struct bsw_vmdk_desc *d, struct bsw_cont_info *info, char *err,
		       size_t errlen)
{
	info->format = "vmdk";
	/* createType is matched against known names so info never holds hostile text */
	static const char *const types[] = { "monolithicSparse",
					     "streamOptimized",
					     "monolithicFlat",
					     "twoGbMaxExtentSparse",
					     "twoGbMaxExtentFlat",
					     "vmfs",
					     "vmfsThin",
					     "vmfsPreallocated",
					     "vmfsEagerZeroedThick",
					     "custom" };

	info->subformat = "vmdk";
	for (size_t i = 0; i < BSW_ARRAY_SIZE(types); i++)
		if (!strcmp(d->create_type, types[i]))
			info->subformat = types[i];
	info->logical_sector = info->physical_sector = VMDK_SECTOR;
	/* The CID (32 bits) stands in for the 16-byte identity, big-endian first. */
	memset(info->id, 0, 16);
	put_be32(info->id, d->cid);
	if (d->parent_cid != BSW_VMDK_NO_PARENT) {
		const char *h = d->parent_hint;
		bool abs = h[0] == '/' || h[0] == '\\' ||
			   (isalpha((unsigned char)h[0]) && h[1] == ':');

		info->has_parent = true;
		info->parent_id_valid = true;
		memset(info->parent_id, 0, 16);
		put_be32(info->parent_id, d->parent_cid);
		info->locator[0] = strdup(h);
		if (!info->locator[0])
			return -ENOMEM;
		info->locator_kind[0] = abs ? "absolute" : "relative";
		info->nr_locators = 1;
	}
	(void)err;
	(void)errlen;
	return 0;
}

/* A byte that can stand in descriptor text (ASCII text or UTF-8). */
static bool desc_byte(unsigned char c)
{
	return c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c != 0x7f);
}

int bsw_vmdk_is_descriptor(const struct bsw_src *src)
{
	char b[1024];
	size_t n = BSW_MIN(src->size, sizeof(b) - 1);

	if (src->size == 0 || src->size > BSW_VMDK_MAX_DESC || bsw_src_read_full(src, b, n, 0))
		return 0;
	/*
	 * Text, then NUL padding to a sector.  The padding is not always all
	 * NUL: qemu-img rewrites the CID in place on its first write (a
	 * random number printed with %x, so 1 to 8 digits) and writes back
	 * the whole buffer, so a shorter CID leaves the old text's last bytes
	 * after the new terminating NUL ("...\"\n\0\n\0...").  What follows
	 * the first NUL may therefore be NULs or stale text, never binary.
	 */
	for (size_t i = strnlen(b, n); i < n; i++)
		if (b[i] && !desc_byte((unsigned char)b[i]))
			return 0;
	b[n] = 0;
	return !strncmp(b, "# Disk DescriptorFile", 21) || strstr(b, "createType") != NULL;
}

int bsw_vmdk_read_descriptor(const struct bsw_src *src, char **text, char *err, size_t errlen)
{
	char *t;
	int rc;

	if (src->size == 0 || src->size > BSW_VMDK_MAX_DESC)
		return bsw_cont_err(err, errlen, -EINVAL,
				    "VMDK descriptor of %llu bytes is empty or above 1 MiB",
				    (unsigned long long)src->size);
	t = malloc(src->size + 1);
	if (!t)
		return -ENOMEM;
	rc = bsw_src_read_full(src, t, src->size, 0);
	if (rc) {
		free(t);
		return bsw_cont_err(err, errlen, rc, "cannot read the VMDK descriptor");
	}
	t[src->size] = 0;
	*text = t;
	return 0;
}

int bsw_vmdk_load_descriptor(const struct bsw_src *src, struct bsw_vmdk_desc *d, char *err,
			     size_t errlen)
{
	char *text = NULL;
	int rc = bsw_vmdk_read_descriptor(src, &text, err, errlen);

	if (rc)
		return rc;
	rc = bsw_vmdk_desc_parse(text, src->size, d, err, errlen);
	free(text);
	return rc;
}

/* ---- hosted sparse extents ------------------------------------------- */

/*
 * Header and grain directory of a hosted sparse extent (spec 5, "Hosted
 * Sparse Extent Header"); for streamOptimized (gdOffset = GD_AT_END) the
 * header copy in the footer (spec 6, "The Footer").  hdr receives the
 * header that was used.
 */
static int sparse_open(struct vmdk **out, const struct bsw_src *src, const struct bsw_cont_opts *o,
		       struct bsw_fx *fx, uint64_t expect, bool has_parent, uint8_t *hdr, char *err,
		       size_t errlen)
{
	struct vmdk *v;
	uint32_t flags, ver;
	uint64_t cap, grain, gd_sec, cover, gd_bytes;
	uint16_t calg;
	int rc;

	if (src->size < 512)
		return bsw_cont_err(err, errlen, -EINVAL,
				    "file of %llu bytes is too small for a VMDK sparse extent",
				    (unsigned long long)src->size);
	rc = bsw_src_read_full(src, hdr, 512, 0);
	if (rc)
		return bsw_cont_err(err, errlen, rc, "cannot read the VMDK sparse header");
	if (get_le32(hdr) != VMDK_MAGIC)
		return bsw_cont_err(err, errlen, -EINVAL, "no VMDK sparse magic (KDMV)");
	if (get_le64(hdr + 56) == VMDK_GD_AT_END) {
		uint8_t f[1536];

		if (src->size < 2048 || bsw_src_read_full(src, f, sizeof(f), src->size - sizeof(f)))
			return bsw_cont_err(
				err, errlen, -EINVAL,
				"VMDK stream-optimized extent has its grain directory at the end but no footer");
		/* footer marker, footer (a header copy), end-of-stream marker */
		if (get_le32(f + 8) != 0 || get_le32(f + 12) != VMDK_MARKER_FOOTER ||
		    get_le32(f + 512) != VMDK_MAGIC || get_le32(f + 1024 + 8) != 0 ||
		    get_le32(f + 1024 + 12) != VMDK_MARKER_EOS)
			return bsw_cont_err(
				err, errlen, -EINVAL,
				"VMDK stream-optimized extent: no footer marker, footer and end-of-stream marker in the last 1536 bytes");
		memcpy(hdr, f + 512, 512);
		if (get_le64(hdr + 56) == VMDK_GD_AT_END)
			return bsw_cont_err(
				err, errlen, -EINVAL,
				"VMDK footer does not say where the grain directory is");
	}
	ver = get_le32(hdr + 4);
	flags = get_le32(hdr + 8);
	cap = get_le64(hdr + 12);
	grain = get_le64(hdr + 20);
	gd_sec = get_le64(hdr + 56);
	calg = get_le16(hdr + 77);
	if (ver < 1 || ver > 3)
		return bsw_cont_err(err, errlen, -ENOTSUP,
				    "VMDK sparse version %u is not 1, 2 or 3", ver);
	/* spec 5: the four end-of-line characters detect a text-mode transfer */
	if ((flags & VMDK_FLAG_NL_TEST) &&
	    (hdr[73] != '\n' || hdr[74] != ' ' || hdr[75] != '\r' || hdr[76] != '\n'))
		return bsw_cont_err(
			err, errlen, -EINVAL,
			"VMDK sparse header fails its newline test: the file was corrupted by a text-mode transfer");
	if ((flags & VMDK_FLAG_COMPRESSED) && calg != 1)
		return bsw_cont_err(err, errlen, -ENOTSUP,
				    "VMDK compression algorithm %u is not deflate (1)", calg);
	if (!grain || (grain & (grain - 1)) ||
	    grain > ((flags & VMDK_FLAG_COMPRESSED) ? VMDK_MAX_CGRAIN : VMDK_MAX_GRAIN))
		return bsw_cont_err(err, errlen, -EINVAL,
				    "VMDK grain size %llu sectors is not a power of two up to %u",
				    (unsigned long long)grain,
				    (flags & VMDK_FLAG_COMPRESSED) ? VMDK_MAX_CGRAIN :
								     VMDK_MAX_GRAIN);
	if (!cap || cap > VMDK_MAX_CAPACITY)
		return bsw_cont_err(err, errlen, -EINVAL,
				    "VMDK capacity %llu sectors is 0 or above 64 PiB",
				    (unsigned long long)cap);
	if (expect && cap < expect)
		return bsw_cont_err(
			err, errlen, -EINVAL,
			"VMDK sparse extent holds %llu sectors, fewer than the %llu its descriptor line says",
			(unsigned long long)cap, (unsigned long long)expect);
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->src = src;
	v->fsize = src->size;
	bsw_budget_init(&v->mem, o ? o->mem_cap : 0);
	v->size = (expect ? expect : cap) * VMDK_SECTOR;
	v->gbytes = grain * VMDK_SECTOR;
	v->gtes = get_le32(hdr + 44);
	v->compressed = flags & VMDK_FLAG_COMPRESSED;
	v->zero_grain = flags & VMDK_FLAG_ZERO_GRAIN;
	v->has_parent = has_parent;
	if (v->gtes == 0 || v->gtes > VMDK_MAX_GTES) {
		rc = bsw_cont_err(err, errlen, -EINVAL, "VMDK numGTEsPerGT %u is outside 1..%u",
				  v->gtes, VMDK_MAX_GTES);
		goto fail;
	}
	cover = grain * v->gtes;
	v->nr_gd = (cap + cover - 1) / cover;
	gd_bytes = v->nr_gd * 4;
	if (gd_sec == 0 || gd_sec > (UINT64_MAX >> 9) ||
	    !bsw_range_ok(gd_sec * VMDK_SECTOR, gd_bytes, v->fsize)) {
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"VMDK grain directory (%llu entries at sector %llu) lies past the end of the %llu-byte file",
			(unsigned long long)v->nr_gd, (unsigned long long)gd_sec,
			(unsigned long long)v->fsize);
		goto fail;
	}
	if (!bsw_budget_take(&v->mem, gd_bytes + VMDK_GT_SLOTS * 4ull * v->gtes)) {
		rc = bsw_cont_err(
			err, errlen, -EFBIG,
			"VMDK grain directory (%llu bytes) and grain-table cache exceed the per-disk memory cap of %llu bytes",
			(unsigned long long)gd_bytes, (unsigned long long)v->mem.cap);
		goto fail;
	}
	v->gd = malloc(gd_bytes);
	if (!v->gd) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = bsw_src_read_full(src, v->gd, gd_bytes, gd_sec * VMDK_SECTOR);
	if (rc) {
		bsw_cont_err(err, errlen, rc, "cannot read the VMDK grain directory");
		goto fail;
	}
	for (uint64_t i = 0; i < v->nr_gd; i++) {
		uint32_t s = get_le32((uint8_t *)&v->gd[i]);

		v->gd[i] = s;
		/* a table is never in the header sector and lies inside the file */
		if (s && !bsw_range_ok((uint64_t)s * VMDK_SECTOR, 4ull * v->gtes, v->fsize)) {
			rc = bsw_cont_err(
				err, errlen, -EINVAL,
				"VMDK grain directory entry %llu points to a grain table at sector %u, past the end of the %llu-byte file",
				(unsigned long long)i, s, (unsigned long long)v->fsize);
			goto fail;
		}
	}
	if (hdr[72])
		BSW_REPORT(fx, PR_VMDK_0_UNCLEAN, .str = src->name ? src->name : "", .off = 72);
	bsw_tblcache_init(&v->gt, src, VMDK_GT_SLOTS, 4ull * v->gtes);
	bsw_clcache_init(&v->cc, (uint32_t)v->gbytes, &v->mem);
	*out = v;
	return 0;
fail:
	free(v->gd);
	free(v);
	return rc;
}

int bsw_vmdk_extent_open(void **h, const struct bsw_src *src, const struct bsw_cont_opts *o,
			 struct bsw_fx *fx, uint64_t sectors, bool has_parent, char *err,
			 size_t errlen)
{
	uint8_t hdr[512];
	struct vmdk *v;
	int rc;

	if (!sectors)
		return bsw_cont_err(err, errlen, -EINVAL, "VMDK extent of 0 sectors");
	rc = sparse_open(&v, src, o, fx, sectors, has_parent, hdr, err, errlen);
	if (rc)
		return rc;
	*h = v;
	return 0;
}

static int vmdk_probe(const struct bsw_src *src)
{
	uint8_t b[8];

	if (src->size >= 8 && !bsw_src_read_full(src, b, 8, 0) &&
	    (get_le32(b) == VMDK_MAGIC || get_le32(b) == VMDK_COWD_MAGIC ||
	     get_le64(b) == VMDK_SESPARSE_MAGIC))
		return 1;
	return bsw_vmdk_is_descriptor(src);
}

static int vmdk_open(void **h, const struct bsw_src *src, const struct bsw_cont_opts *o,
		     struct bsw_fx *fx, struct bsw_cont_info *info, char *err, size_t errlen)
{
	struct bsw_vmdk_desc d;
	uint8_t hdr[512], b[8] = { 0 };
	uint64_t doff, dlen;
	struct vmdk *v;
	char *text = NULL;
	int rc;

	if (src->size >= 8 && bsw_src_read_full(src, b, 8, 0) == 0) {
		if (get_le32(b) == VMDK_COWD_MAGIC)
			return bsw_cont_err(
				err, errlen, -ENOTSUP,
				"VMFS sparse extent (ESX -delta.vmdk, \"COWD\"): a format bootsweep recognises but does not read");
		if (get_le64(b) == VMDK_SESPARSE_MAGIC)
			return bsw_cont_err(
				err, errlen, -ENOTSUP,
				"SESparse extent (ESX -sesparse.vmdk): a format bootsweep recognises but does not read");
	}
	if (get_le32(b) != VMDK_MAGIC) {
		/* A descriptor file: its extents are other files, opened by the disk layer. */
		rc = bsw_vmdk_load_descriptor(src, &d, err, errlen);
		if (rc)
			return rc;
		rc = bsw_cont_err(
			err, errlen, -ENOTSUP,
			"VMDK descriptor (%s, %u extents) names other files; it is opened through the disk layer",
			d.create_type, d.nr);
		bsw_vmdk_desc_free(&d);
		return rc;
	}
	rc = sparse_open(&v, src, o, fx, 0, false, hdr, err, errlen);
	if (rc)
		return rc;
	/* The embedded descriptor says whether there is a parent. */
	doff = get_le64(hdr + 28);
	dlen = get_le64(hdr + 36);
	if (!doff || !dlen) {
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"VMDK sparse extent has no embedded descriptor: it is one extent of a split disk; open the descriptor .vmdk that names it");
		goto fail;
	}
	if (dlen > VMDK_MAX_DESC_SECTORS || doff > (UINT64_MAX >> 9) ||
	    !bsw_range_ok(doff * VMDK_SECTOR, dlen * VMDK_SECTOR, src->size)) {
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"VMDK embedded descriptor (%llu sectors at sector %llu) is above 1 MiB or past the end of the file",
			(unsigned long long)dlen, (unsigned long long)doff);
		goto fail;
	}
	text = malloc(dlen * VMDK_SECTOR + 1);
	if (!text) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = bsw_src_read_full(src, text, dlen * VMDK_SECTOR, doff * VMDK_SECTOR);
	if (rc) {
		free(text);
		bsw_cont_err(err, errlen, rc, "cannot read the VMDK embedded descriptor");
		goto fail;
	}
	text[dlen * VMDK_SECTOR] = 0;
	if (!text[0]) {
		/* qemu-img leaves the descriptor area of split extents empty */
		free(text);
		rc = bsw_cont_err(
			err, errlen, -EINVAL,
			"VMDK sparse extent has no embedded descriptor: it is one extent of a split disk; open the descriptor .vmdk that names it");
		goto fail;
	}
	rc = bsw_vmdk_desc_parse(text, dlen * VMDK_SECTOR, &d, err, errlen);
	free(text);
	if (rc)
		goto fail;
	rc = bsw_vmdk_desc_info(&d, info, err, errlen);
	v->has_parent = info->has_parent;
	bsw_vmdk_desc_free(&d);
	if (rc)
		goto fail;
	info->virtual_size = v->size;
	info->block_size = (uint32_t)v->gbytes;
	*h = v;
	return 0;
fail:
	bsw_cont_info_free(info);
	free(v->gd);
	free(v);
	return rc;
}

/*
 * A compressed grain (spec 6, "Grain marker": lba, size, deflate data)
 * inflated into a cache slot.  need: bytes of the disk this grain covers.
 */
static int load_grain(struct vmdk *v, uint32_t sec, uint64_t need, uint8_t **out)
{
	uint64_t at = (uint64_t)sec * VMDK_SECTOR, size;
	uint8_t m[12], *dst;
	int rc = 0, zr;

	dst = bsw_clcache_get(&v->cc, sec);
	if (dst) {
		*out = dst;
		return 0;
	}
	if (!bsw_range_ok(at, 12, v->fsize))
		return -EUCLEAN;
	rc = bsw_src_read_full(v->src, m, 12, at);
	if (rc)
		return rc;
	size = get_le32(m + 8);
	/* deflate never grows data by more than a few bytes per 16 KiB */
	if (size == 0 || size > v->gbytes + v->gbytes / 8 + 1024 ||
	    !bsw_range_ok(at + 12, size, v->fsize))
		return -EUCLEAN;
	if (!v->cbuf) {
		v->cbuf_len = v->gbytes + v->gbytes / 8 + 1024;
		if (!bsw_budget_take(&v->mem, v->cbuf_len))
			return -EFBIG;
		v->cbuf = malloc(v->cbuf_len);
		if (!v->cbuf)
			return -ENOMEM;
	}
	rc = bsw_src_read_full(v->src, v->cbuf, size, at + 12);
	if (rc)
		return rc;
	dst = bsw_clcache_put(&v->cc, sec, &rc);
	if (!dst)
		return rc;
	/* zlib format (header and Adler-32), as inflateInit reads it */
	rc = bsw_inflate_start(&v->z, 15, v->cbuf, size, dst, v->gbytes);
	if (rc)
		goto bad;
	zr = inflate(&v->z.zs, Z_FINISH);
	/* A stream that does not end within one grain expands too far. */
	if (zr != Z_STREAM_END || v->gbytes - v->z.zs.avail_out < need) {
		rc = -EUCLEAN;
		goto bad;
	}
	memset(dst + (v->gbytes - v->z.zs.avail_out), 0, v->z.zs.avail_out);
	*out = dst;
	return 0;
bad:
	bsw_clcache_drop(&v->cc, sec);
	return rc;
}

static int vmdk_map(void *h, uint64_t off, uint64_t len, struct bsw_cext *e)
{
	struct vmdk *v = h;
	uint64_t g, gdi, in, run;
	uint32_t gti, gte, s;
	const uint8_t *gt;
	enum bsw_cext_kind unalloc = v->has_parent ? BSW_CEXT_PARENT : BSW_CEXT_ZERO;
	int rc;

	if (off >= v->size)
		return -EIO;
	len = BSW_MIN(len, v->size - off);
	g = off / v->gbytes;
	in = off % v->gbytes;
	gdi = g / v->gtes;
	gti = (uint32_t)(g % v->gtes);
	if (gdi >= v->nr_gd || !v->gd[gdi]) {
		uint64_t end = (gdi + 1) * v->gtes * v->gbytes;

		e->kind = unalloc;
		e->len = BSW_MIN(len, end - off);
		return 0;
	}
	/* the grain table's sector was checked at open */
	rc = bsw_tblcache_get(&v->gt, (uint64_t)v->gd[gdi] * VMDK_SECTOR, &gt);
	if (rc)
		return rc;
	gte = get_le32(gt + 4 * gti);
	if (gte && !(gte == 1 && v->zero_grain) && v->compressed) {
		uint8_t *d = NULL;

		rc = load_grain(v, gte, BSW_MIN(v->gbytes, v->size - g * v->gbytes), &d);
		if (rc)
			return rc;
		e->kind = BSW_CEXT_MEM;
		e->mem = d + in;
		e->len = BSW_MIN(len, v->gbytes - in);
		return 0;
	}
	if (gte > 1 || (gte == 1 && !v->zero_grain)) {
		/* a grain is never in the header sector and starts inside the file */
		if ((uint64_t)gte * VMDK_SECTOR >= v->fsize || gte == 0)
			return -EUCLEAN;
	}
	/* extend over following grains of the same kind in this table */
	run = v->gbytes - in;
	for (uint32_t i = gti + 1; i < v->gtes && run < len; i++) {
		s = get_le32(gt + 4 * i);
		if (gte == 0 || (gte == 1 && v->zero_grain)) {
			if (s != gte)
				break;
		} else if ((uint64_t)s !=
			   (uint64_t)gte + (uint64_t)(i - gti) * (v->gbytes / VMDK_SECTOR)) {
			break;
		}
		run += v->gbytes;
	}
	e->len = BSW_MIN(len, run);
	if (gte == 0) {
		e->kind = unalloc;
	} else if (gte == 1 && v->zero_grain) {
		e->kind = BSW_CEXT_ZERO;
	} else {
		e->kind = BSW_CEXT_DATA;
		e->poff = (uint64_t)gte * VMDK_SECTOR + in;
		bsw_cext_clip(e, v->fsize);
	}
	return 0;
}

static void vmdk_close(void *h)
{
	struct vmdk *v = h;

	bsw_tblcache_free(&v->gt);
	bsw_clcache_free(&v->cc);
	bsw_inflate_end(&v->z);
	free(v->cbuf);
	free(v->gd);
	free(v);
}

const struct bsw_cont_ops bsw_vmdk_ops = {
	.name = "vmdk",
	.probe = vmdk_probe,
	.open = vmdk_open,
	.map = vmdk_map,
	.close = vmdk_close,
};
