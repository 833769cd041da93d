/*
 * FAT12/16/32 reader (read-only).  References are to fatgen103
 * ("Microsoft Extensible Firmware Initiative FAT32 File System
 * Specification", 2000).  Every on-disk number is range-checked before use;
 * chains are walked at most nr_clusters steps, so a loop ends as -ELOOP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/common/utf8.h"
#include "formats/common/bytes.h"
#include "formats/fat/fat.h"

struct bsw_fat {
	const struct bsw_src *src;
	struct bsw_fx *fx;
	struct bsw_fat_bpb b;
	uint8_t *fat; /* first FAT copy */
	size_t fat_len;
	uint64_t bytes_read;
};

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int bsw_fat_parse_bpb(const uint8_t *s, size_t len, uint64_t vol_size, struct bsw_fat_bpb *b,
		      const char **why)
{
	uint32_t root_secs, data_secs;
	uint64_t t;

	memset(b, 0, sizeof(*b));
	if (len < 512) {
		*why = "boot sector shorter than 512 bytes";
		return -EINVAL;
	}
	/* s3.1: jump instruction EB xx 90 or E9 xx xx */
	if (!(s[0] == 0xEB && s[2] == 0x90) && s[0] != 0xE9) {
		*why = "no jump instruction";
		return -EINVAL;
	}
	b->bytes_per_sector = get_le16(s + 11);
	b->sectors_per_cluster = s[13];
	b->reserved = get_le16(s + 14);
	b->nr_fats = s[16];
	b->root_entries = get_le16(s + 17);
	b->total_sectors = get_le16(s + 19);
	if (!b->total_sectors)
		b->total_sectors = get_le32(s + 32);
	b->fat_sectors = get_le16(s + 22);
	if (!b->fat_sectors)
		b->fat_sectors = get_le32(s + 36);
	if (!pow2(b->bytes_per_sector) || b->bytes_per_sector < 512 || b->bytes_per_sector > 4096) {
		*why = "bytes per sector not 512..4096";
		return -EINVAL;
	}
	if (!pow2(b->sectors_per_cluster)) {
		*why = "sectors per cluster not a power of two";
		return -EINVAL;
	}
	if (!b->reserved) {
		*why = "no reserved sectors";
		return -EINVAL;
	}
	if (b->nr_fats < 1 || b->nr_fats > 4) {
		*why = "number of FATs not 1..4";
		return -EINVAL;
	}
	if (!b->fat_sectors || !b->total_sectors) {
		*why = "FAT size or total sectors is zero";
		return -EINVAL;
	}
	b->cluster_size = (uint64_t)b->bytes_per_sector * b->sectors_per_cluster;
	if (b->cluster_size > (1u << 21)) {
		*why = "cluster larger than 2 MiB";
		return -EINVAL;
	}
	/* s3.5: root directory sectors, then count clusters to find the type */
	root_secs = (b->root_entries * 32 + b->bytes_per_sector - 1) / b->bytes_per_sector;
	t = (uint64_t)b->reserved + (uint64_t)b->nr_fats * b->fat_sectors + root_secs;
	if (t >= b->total_sectors) {
		*why = "metadata larger than the volume";
		return -EINVAL;
	}
	data_secs = b->total_sectors - (uint32_t)t;
	b->nr_clusters = data_secs / b->sectors_per_cluster;
	if (b->nr_clusters < 4085)
		b->type = 12;
	else if (b->nr_clusters < 65525)
		b->type = 16;
	else
		b->type = 32;
	if (b->type == 32) {
		if (b->root_entries) {
			*why = "FAT32 with a fixed root directory";
			return -EINVAL;
		}
		b->root_cluster = get_le32(s + 44);
		if (b->root_cluster < 2 || b->root_cluster >= b->nr_clusters + 2) {
			*why = "FAT32 root cluster out of range";
			return -EINVAL;
		}
		b->serial = get_le32(s + 67);
	} else {
		if (!b->root_entries) {
			*why = "FAT12/16 without root directory entries";
			return -EINVAL;
		}
		b->serial = get_le32(s + 39);
	}
	b->fat_off = (uint64_t)b->reserved * b->bytes_per_sector;
	b->root_off = b->fat_off + (uint64_t)b->nr_fats * b->fat_sectors * b->bytes_per_sector;
	b->data_off = b->root_off + (uint64_t)root_secs * b->bytes_per_sector;
	/* the FAT must be able to hold an entry for every cluster (s4) */
	if ((uint64_t)b->fat_sectors * b->bytes_per_sector * 8 <
	    (uint64_t)(b->nr_clusters + 2) * b->type) {
		*why = "FAT too small for the cluster count";
		return -EINVAL;
	}
	if (vol_size && b->data_off > vol_size) {
		*why = "data area starts past the end of the partition";
		return -EINVAL;
	}
	return 0;
}

static int src_read(struct bsw_fat *f, void *buf, size_t len, uint64_t off)
{
	int r = bsw_src_read_full(f->src, buf, len, off);

	if (!r)
		f->bytes_read += len;
	return r;
}

int bsw_fat_open(struct bsw_fat **out, const struct bsw_src *src, struct bsw_fx *fx,
		 const char **why)
{
	uint8_t sec[512];
	struct bsw_fat *f;
	uint64_t flen;
	int r;

	*out = NULL;
	*why = "";
	if (src->size < 512) {
		*why = "partition smaller than a sector";
		return -EINVAL;
	}
	r = bsw_src_read_full(src, sec, sizeof(sec), 0);
	if (r) {
		*why = "boot sector unreadable";
		return r;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->src = src;
	f->fx = fx;
	f->bytes_read = 512;
	r = bsw_fat_parse_bpb(sec, sizeof(sec), src->size, &f->b, why);
	if (r)
		goto fail;
	/* only as much FAT as the clusters need, capped */
	/* +1: a FAT12 entry of the last cluster is read as a 16-bit word */
	flen = ((uint64_t)(f->b.nr_clusters + 2) * f->b.type + 7) / 8 + 1;
	flen = BSW_MIN(flen, (uint64_t)f->b.fat_sectors * f->b.bytes_per_sector);
	if (flen > BSW_MAX_FAT_BYTES) {
		*why = "FAT larger than the reader's cap";
		r = -EINVAL;
		goto fail;
	}
	/* the table is read from the partition: it cannot be larger */
	if (!bsw_range_ok(f->b.fat_off, flen, src->size)) {
		*why = "FAT extends past the end of the partition";
		r = -EINVAL;
		goto fail;
	}
	f->fat_len = (size_t)flen;
	f->fat = malloc(f->fat_len);
	if (!f->fat) {
		r = -ENOMEM;
		goto fail;
	}
	r = src_read(f, f->fat, f->fat_len, f->b.fat_off);
	if (r) {
		*why = "FAT unreadable";
		goto fail;
	}
	*out = f;
	return 0;
fail:
	bsw_fat_close(f);
	return r;
}

void bsw_fat_close(struct bsw_fat *f)
{
	if (!f)
		return;
	free(f->fat);
	free(f);
}

const struct bsw_fat_bpb *bsw_fat_bpb(const struct bsw_fat *f)
{
	return &f->b;
}

uint64_t bsw_fat_bytes_read(const struct bsw_fat *f)
{
	return f->bytes_read;
}

/* s4: the FAT entry of cluster c, masked to the type's width. */
static uint32_t fat_next(const struct bsw_fat *f, uint32_t c)
{
	uint64_t o;

	switch (f->b.type) {
	case 12:
		o = (uint64_t)c + c / 2;
		if (!bsw_range_ok(o, 2, f->fat_len))
			return 0xFFFFFFF7;
		return (c & 1) ? get_le16(f->fat + o) >> 4 : get_le16(f->fat + o) & 0xFFF;
	case 16:
		o = (uint64_t)c * 2;
		if (!bsw_range_ok(o, 2, f->fat_len))
			return 0xFFFFFFF7;
		return get_le16(f->fat + o);
	default:
		o = (uint64_t)c * 4;
		if (!bsw_range_ok(o, 4, f->fat_len))
			return 0xFFFFFFF7;
		return get_le32(f->fat + o) & 0x0FFFFFFF;
	}
}

static bool fat_is_eoc(const struct bsw_fat *f, uint32_t v)
{
	switch (f->b.type) {
	case 12: return v >= 0xFF8;
	case 16: return v >= 0xFFF8;
	default: return v >= 0x0FFFFFF8;
	}
}

static bool cluster_ok(const struct bsw_fat *f, uint32_t c)
{
	return c >= 2 && c < f->b.nr_clusters + 2;
}

static uint64_t cluster_off(const struct bsw_fat *f, uint32_t c)
{
	return f->b.data_off + (uint64_t)(c - 2) * f->b.cluster_size;
}

/*
 * Walk the chain from first, calling fn on each cluster.  Steps are capped
 * at the cluster count: a longer walk must revisit a cluster (a loop).
 * Returns 0 at end-of-chain, fn's non-zero value, -EIO or -ELOOP.
 */
typedef int (*chain_fn)(struct bsw_fat *f, void *arg, uint32_t c);

static int walk_chain(struct bsw_fat *f, uint32_t first, chain_fn fn, void *arg, uint32_t *bad)
{
	uint32_t c = first, steps = 0;
	uint8_t *seen;
	int r;

	/* one bit per cluster: a revisit is a loop (nr_clusters is capped by
	 * BSW_MAX_FAT_BYTES, so this is at most 8 MiB) */
	seen = calloc(f->b.nr_clusters / 8 + 1, 1);
	if (!seen)
		return -ENOMEM;
	for (;;) {
		if (!cluster_ok(f, c)) {
			*bad = c;
			r = -EIO;
			break;
		}
		if (++steps > f->b.nr_clusters || (seen[(c - 2) / 8] & (1u << ((c - 2) % 8)))) {
			*bad = c;
			r = -ELOOP;
			break;
		}
		seen[(c - 2) / 8] |= (uint8_t)(1u << ((c - 2) % 8));
		r = fn(f, arg, c);
		if (r)
			break;
		c = fat_next(f, c);
		if (fat_is_eoc(f, c)) {
			r = 0;
			break;
		}
	}
	free(seen);
	return r;
}

/*
 * A file's clusters are read in runs: consecutive clusters of the chain
 * that lie next to each other on disk (a file written at once, the usual
 * case) are one read instead of one per cluster.
 */
struct read_ctx {
	uint8_t *buf;
	uint64_t want, done;
	uint64_t run_off, run_len; /* clusters read by the next flush */
};

static int flush_run(struct bsw_fat *f, struct read_ctx *rc)
{
	int r;

	if (!rc->run_len)
		return 0;
	r = src_read(f, rc->buf + rc->done, (size_t)rc->run_len, rc->run_off);
	if (r)
		return r;
	rc->done += rc->run_len;
	rc->run_len = 0;
	return 0;
}

static int read_cluster(struct bsw_fat *f, void *arg, uint32_t c)
{
	struct read_ctx *rc = arg;
	uint64_t got = rc->done + rc->run_len;
	uint64_t n = BSW_MIN(f->b.cluster_size, rc->want - got), off = cluster_off(f, c);
	int r;

	if (!n)
		return 1; /* enough: the chain may be longer than the size */
	if (!bsw_range_ok(off, n, f->src->size))
		return -EIO;
	if (rc->run_len && off != rc->run_off + rc->run_len) {
		r = flush_run(f, rc);
		if (r)
			return r;
	}
	if (!rc->run_len)
		rc->run_off = off;
	rc->run_len += n;
	if (got + n < rc->want)
		return 0;
	r = flush_run(f, rc);
	return r ? r : 1;
}

static void report_chain(struct bsw_fat *f, const struct bsw_fat_ent *e, uint32_t bad, int r)
{
	BSW_REPORT(f->fx, PR_FAT_1_CHAIN_BAD, .str = e->name, .n = bad,
		   .str2 = r == -ELOOP ? "loop" : "cluster out of range or chain too short");
}

int bsw_fat_read_all(struct bsw_fat *f, const struct bsw_fat_ent *e, uint8_t **data, size_t *len,
		     size_t max)
{
	struct read_ctx rc = { 0 };
	uint32_t bad = 0;
	int r;

	*data = NULL;
	*len = 0;
	if (e->is_dir)
		return -EISDIR;
	if (e->size > max)
		return -EFBIG;
	/* no more than the data area can hold (the size is on-disk data) */
	if (e->size > (uint64_t)f->b.nr_clusters * f->b.cluster_size || e->size > f->src->size) {
		report_chain(f, e, e->first_cluster, -EIO);
		return -EIO;
	}
	rc.buf = bsw_alloc_aligned(e->size ? (size_t)e->size : 1);
	if (!rc.buf)
		return -ENOMEM;
	rc.want = e->size;
	if (e->size) {
		r = walk_chain(f, e->first_cluster, read_cluster, &rc, &bad);
		if (r == 1)
			r = 0;
		else if (r == 0)
			r = -EIO; /* chain ended before the size */
		if (r) {
			if (r == -EIO || r == -ELOOP)
				report_chain(f, e, bad, r);
			free(rc.buf);
			return r;
		}
	}
	*data = rc.buf;
	*len = e->size;
	return 0;
}

void bsw_fat_root(const struct bsw_fat *f, struct bsw_fat_ent *ent)
{
	memset(ent, 0, sizeof(*ent));
	strcpy(ent->name, "\\");
	ent->attr = 0x10;
	ent->is_dir = true;
	ent->is_root = true;
	ent->first_cluster = f->b.type == 32 ? f->b.root_cluster : 0;
}

/* Directory parsing state: carries long-name fragments across entries. */
struct dir_ctx {
	bsw_fat_dir_fn fn;
	void *arg;
	uint16_t lfn[20 * 13 + 1];
	unsigned lfn_nr;   /* fragments expected (order of the last) */
	unsigned lfn_next; /* next order expected, counting down */
	uint8_t lfn_sum;
	uint32_t nr;
	bool end;
	uint8_t *buf;
};

/* s7: checksum of the 11-byte short name. */
static uint8_t sfn_sum(const uint8_t *n)
{
	uint8_t s = 0;
	int i;

	for (i = 0; i < 11; i++)
		s = (uint8_t)(((s & 1) << 7) + (s >> 1) + n[i]);
	return s;
}

static void short_name(const uint8_t *d, char *out)
{
	int i, o = 0, e;

	for (e = 7; e >= 0 && d[e] == ' '; e--)
		;
	for (i = 0; i <= e; i++)
		out[o++] = (char)(i == 0 && d[0] == 0x05 ? 0xE5 : d[i]);
	for (e = 10; e >= 8 && d[e] == ' '; e--)
		;
	if (e >= 8) {
		out[o++] = '.';
		for (i = 8; i <= e; i++)
			out[o++] = (char)d[i];
	}
	out[o] = 0;
	/* non-ASCII OEM bytes are replaced: names we look up are ASCII */
	for (i = 0; i < o; i++)
		if ((unsigned char)out[i] >= 0x80 || (unsigned char)out[i] < 0x20)
			out[i] = '_';
}

/* One 32-byte directory entry (s6, s7).  1 = stop (end marker or fn). */
static int dir_entry(struct dir_ctx *dc, const uint8_t *d, int *ret)
{
	struct bsw_fat_ent e;
	unsigned ord, i;
	static const uint8_t lfn_off[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };

	if (d[0] == 0x00) {
		dc->end = true;
		return 1;
	}
	if (d[0] == 0xE5) {
		dc->lfn_nr = 0;
		return 0;
	}
	if ((d[11] & 0x3F) == 0x0F) {
		ord = d[0] & 0x1F;
		if (ord < 1 || ord > 20) {
			dc->lfn_nr = 0;
			return 0;
		}
		if (d[0] & 0x40) {
			dc->lfn_nr = ord;
			dc->lfn_next = ord;
			dc->lfn_sum = d[13];
			memset(dc->lfn, 0, sizeof(dc->lfn));
		} else if (!dc->lfn_nr || ord != dc->lfn_next || d[13] != dc->lfn_sum) {
			dc->lfn_nr = 0;
			return 0;
		}
		for (i = 0; i < 13; i++)
			dc->lfn[(ord - 1) * 13 + i] = get_le16(d + lfn_off[i]);
		dc->lfn_next = ord - 1;
		return 0;
	}
	memset(&e, 0, sizeof(e));
	e.attr = d[11];
	if (e.attr & 0x08) { /* volume label */
		dc->lfn_nr = 0;
		return 0;
	}
	short_name(d, e.short_name);
	/* NT's case bits (byte 12): 0x08 base, 0x10 extension in lower case */
	if (d[12] & 0x18) {
		char *dot = strchr(e.short_name, '.');
		char *q;

		for (q = e.short_name; *q; q++) {
			bool ext = dot && q > dot;

			if ((ext && (d[12] & 0x10)) || (!ext && q != dot && (d[12] & 0x08)))
				if (*q >= 'A' && *q <= 'Z')
					*q = (char)(*q - 'A' + 'a');
		}
	}
	if (dc->lfn_nr && dc->lfn_next == 0 && sfn_sum(d) == dc->lfn_sum) {
		for (i = 0; i < dc->lfn_nr * 13; i++)
			if (dc->lfn[i] == 0xFFFF)
				dc->lfn[i] = 0;
		/* lfn holds little-endian units as read (x86 hosts only, as the rest) */
		bsw_utf16le_to_utf8(dc->lfn, dc->lfn_nr * 13, e.name, sizeof(e.name),
				    BSW_U16_STOP_NUL);
	}
	dc->lfn_nr = 0;
	if (!e.name[0])
		strcpy(e.name, e.short_name);
	if (!strcmp(e.short_name, ".") || !strcmp(e.short_name, ".."))
		return 0;
	e.is_dir = e.attr & 0x10;
	e.first_cluster = get_le16(d + 26) | ((uint32_t)get_le16(d + 20) << 16);
	e.size = e.is_dir ? 0 : get_le32(d + 28);
	*ret = dc->fn(dc->arg, &e);
	return *ret ? 1 : 0;
}

static int dir_block(struct bsw_fat *f, struct dir_ctx *dc, uint64_t off, uint64_t len, int *ret)
{
	uint64_t i;
	int r;

	if (!bsw_range_ok(off, len, f->src->size))
		return -EIO;
	r = src_read(f, dc->buf, (size_t)len, off);
	if (r)
		return r;
	for (i = 0; i + 32 <= len; i += 32) {
		if (++dc->nr > BSW_MAX_FAT_DIRENTS)
			return -ELOOP;
		if (dir_entry(dc, dc->buf + i, ret))
			return 1;
	}
	return 0;
}

struct dir_chain_ctx {
	struct dir_ctx *dc;
	int *ret;
};

static int dir_cluster(struct bsw_fat *f, void *arg, uint32_t c)
{
	struct dir_chain_ctx *cc = arg;

	return dir_block(f, cc->dc, cluster_off(f, c), f->b.cluster_size, cc->ret);
}

int bsw_fat_readdir(struct bsw_fat *f, const struct bsw_fat_ent *dir, bsw_fat_dir_fn fn, void *arg)
{
	struct dir_ctx *dc;
	struct dir_chain_ctx cc;
	uint32_t bad = 0;
	int ret = 0, r;

	if (!dir->is_dir)
		return -ENOTDIR;
	dc = calloc(1, sizeof(*dc));
	if (!dc)
		return -ENOMEM;
	dc->fn = fn;
	dc->arg = arg;
	dc->buf = malloc(BSW_MAX(f->b.cluster_size, 32u * f->b.root_entries + 32));
	if (!dc->buf) {
		free(dc);
		return -ENOMEM;
	}
	if (dir->is_root && f->b.type != 32) {
		r = dir_block(f, dc, f->b.root_off, 32ull * f->b.root_entries, &ret);
	} else {
		cc.dc = dc;
		cc.ret = &ret;
		r = walk_chain(f, dir->first_cluster, dir_cluster, &cc, &bad);
		if (r == -ELOOP && dc->nr > BSW_MAX_FAT_DIRENTS)
			BSW_REPORT(f->fx, PR_FAT_1_DIR_LOOP, .str = dir->name,
				   .n = BSW_MAX_FAT_DIRENTS);
		else if (r == -EIO || r == -ELOOP)
			report_chain(f, dir, bad, r);
	}
	free(dc->buf);
	free(dc);
	if (r == 1)
		return ret;
	return r;
}

struct find_ctx {
	const char *name;
	size_t len;
	struct bsw_fat_ent *out;
};

/* ASCII case folding is what the names we look up need. */
static int find_fn(void *arg, const struct bsw_fat_ent *e)
{
	struct find_ctx *fc = arg;

	if ((strlen(e->name) == fc->len && !strncasecmp(e->name, fc->name, fc->len)) ||
	    (strlen(e->short_name) == fc->len && !strncasecmp(e->short_name, fc->name, fc->len))) {
		*fc->out = *e;
		return 1;
	}
	return 0;
}

int bsw_fat_lookup(struct bsw_fat *f, const char *path, struct bsw_fat_ent *ent)
{
	struct bsw_fat_ent cur, next;
	struct find_ctx fc;
	const char *p = path;
	unsigned depth = 0;
	int r;

	bsw_fat_root(f, &cur);
	for (;;) {
		while (*p == '\\' || *p == '/')
			p++;
		if (!*p)
			break;
		if (++depth > BSW_MAX_FAT_DEPTH)
			return -ENAMETOOLONG;
		fc.name = p;
		fc.len = strcspn(p, "\\/");
		fc.out = &next;
		if (!cur.is_dir)
			return -ENOTDIR;
		r = bsw_fat_readdir(f, &cur, find_fn, &fc);
		if (r < 0)
			return r;
		if (r != 1)
			return -ENOENT;
		cur = next;
		p += fc.len;
	}
	*ent = cur;
	return 0;
}
