/*
 * Private declarations of bootsweep's NTFS reader, shared by its files:
 * the caps, the decoded on-disk structures and the pure parsers
 * (ntfs_parse.c, ntfs_lznt1.c), the volume handle, the pass table and the
 * passes (one file each, listed at the table in ntfs.c), the reading of
 * file data (ntfs_read.c, ntfs_lznt1.c, ntfs_wof.c) and the namespace
 * (ntfs_names.c).  On-disk layouts follow ../shared/docs/WINDOWS-EVIDENCE.md
 * section 1 and the libfsntfs "NTFS" format notes.
 */
#ifndef BSW_NTFS_INTERNAL_H
#define BSW_NTFS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs.h"

/* Caps on every on-disk list (STYLE.md section 3). */
#define BSW_NTFS_MAX_RECORDS (16u << 20)	/* default opts->max_records */
#define BSW_NTFS_MEM_CAP (1ull << 30)		/* default opts->mem_cap */
#define BSW_NTFS_MAX_ATTRS 256			/* attributes walked in one record */
#define BSW_NTFS_MAX_RUNS (1u << 20)		/* runs in one runlist */
#define BSW_NTFS_MAX_ALIST 4096			/* $ATTRIBUTE_LIST entries */
#define BSW_NTFS_MAX_EXT 512			/* extension records of one file */
#define BSW_NTFS_MAX_DEPTH 256			/* path components */
#define BSW_NTFS_MAX_INDEX (1u << 20)		/* index entries of one directory */
#define BSW_NTFS_MAX_BMAP_CLUSTERS (1ull << 31) /* computed bitmap cap */
#define BSW_NTFS_CHUNK (16u << 20)		/* bytes of $MFT per read */
#define BSW_NTFS_SHARE_UNIT (64u << 10)		/* bytes of $MFT per shared unit */
#define BSW_NTFS_FN_INLINE 6			/* $FILE_NAME offsets kept per record */
#define BSW_NTFS_NR_INLINE 4			/* non-resident attribute offsets kept */

/* Attribute type codes (libfsntfs "Attribute types") */
#define NTFS_AT_STD_INFO 0x10
#define NTFS_AT_ATTR_LIST 0x20
#define NTFS_AT_FILE_NAME 0x30
#define NTFS_AT_VOLUME_INFO 0x70
#define NTFS_AT_DATA 0x80
#define NTFS_AT_INDEX_ROOT 0x90
#define NTFS_AT_INDEX_ALLOC 0xA0
#define NTFS_AT_BITMAP 0xB0
#define NTFS_AT_REPARSE 0xC0
#define NTFS_AT_END 0xFFFFFFFFu

#define NTFS_MAGIC_FILE 0x454C4946u /* "FILE" */
#define NTFS_MAGIC_INDX 0x58444E49u /* "INDX" */
#define NTFS_MAGIC_RSTR 0x52545352u /* "RSTR" */
#define NTFS_MAGIC_CHKD 0x444B4843u /* "CHKD" */

#define NTFS_ROOT_REC 5 /* the root directory */

#define NTFS_MREF_REC(r) ((r)&0xFFFFFFFFFFFFull)
#define NTFS_MREF_SEQ(r) ((uint16_t)((r) >> 48))
#define NTFS_LCN_HOLE UINT64_MAX

#define NTFS_WOF_TAG 0x80000017u

/* Boot sector, decoded (WINDOWS-EVIDENCE.md 1.1). */
struct bsw_ntfs_boot {
	uint32_t bps;	   /* bytes per sector */
	uint32_t cluster;  /* bytes per cluster */
	uint32_t rec_size; /* bytes per MFT record */
	uint32_t idx_size; /* bytes per index block */
	uint64_t nr_sectors;
	uint64_t nr_clusters;
	uint64_t mft_lcn, mirr_lcn;
	uint64_t serial;
};

/* MFT record header (1.2). */
struct bsw_ntfs_rhdr {
	uint32_t magic;
	uint16_t usa_ofs, usa_count;
	uint16_t seq, links, attrs_off, flags;
	uint32_t used, alloc;
	uint64_t base;	 /* file reference of the base record, 0 if base */
	uint32_t number; /* 0x2C, NTFS 3.1+ only */
	bool has_number;
};

/* One attribute inside a record, decoded. Offsets are within the record. */
struct bsw_ntfs_attr {
	uint32_t type, len, off;
	uint8_t nonres, name_len;
	uint16_t name_off, flags, id;
	uint32_t val_off, val_len;	  /* resident */
	uint64_t lowest_vcn, highest_vcn; /* non-resident */
	uint64_t alloc_size, data_size, init_size;
	uint32_t runs_off, runs_len;
	uint8_t cu_shift;
};

struct bsw_ntfs_run {
	uint64_t vcn, lcn, len; /* lcn NTFS_LCN_HOLE: sparse */
};

/*
 * Reading a kept form (ntfs_records.c) or its portable bytes (ntfs_kept.c):
 * every read bounds-checked; a short form sets bad and reads as zeros.
 */
struct ntfs_rd {
	const uint8_t *p, *end;
	bool bad;
};

static inline const uint8_t *ntfs_rd_bytes(struct ntfs_rd *d, size_t n)
{
	const uint8_t *p = d->p;

	if (d->bad || (size_t)(d->end - d->p) < n) {
		d->bad = true;
		return NULL;
	}
	d->p += n;
	return p;
}

/* A little-endian integer of n bytes (1, 2, 4 or 8). */
static inline uint64_t ntfs_rd_le(struct ntfs_rd *d, unsigned n)
{
	const uint8_t *p = ntfs_rd_bytes(d, n);

	if (!p)
		return 0;
	return n == 1 ? p[0] : n == 2 ? get_le16(p) : n == 4 ? get_le32(p) : get_le64(p);
}

/* A growable runlist (bsw_vec_reserve, at most BSW_NTFS_MAX_RUNS runs). */
struct bsw_ntfs_runs {
	struct bsw_ntfs_run *r;
	size_t nr, alloc;
};

/* $LogFile restart page + area (1.5). */
struct bsw_ntfs_rstr {
	uint32_t magic;
	uint32_t sys_page, log_page;
	uint16_t ra_off;
	int16_t minor, major;
	uint64_t chkdsk_lsn, current_lsn;
	uint16_t clients, free_list, in_use_list, flags;
};

/* Pure parsers (ntfs_parse.c): no I/O, no globals. */
int bsw_ntfs_parse_boot(const uint8_t *b, size_t len, struct bsw_ntfs_boot *bs, const char **why);
int bsw_ntfs_fixup(uint8_t *buf, size_t len, unsigned *bad_stride);
int bsw_ntfs_parse_rhdr(const uint8_t *r, size_t len, uint32_t rec_size, struct bsw_ntfs_rhdr *h,
			const char **why);
int bsw_ntfs_attr_next(const uint8_t *r, uint32_t used, uint32_t *pos, uint32_t *prev_type,
		       struct bsw_ntfs_attr *a, const char **why);
int bsw_ntfs_parse_runs(const uint8_t *p, size_t len, uint64_t start_vcn, uint64_t nr_clusters,
			struct bsw_ntfs_runs *out, const char **why);
void bsw_ntfs_runs_free(struct bsw_ntfs_runs *rl);
int bsw_ntfs_runs_add(struct bsw_ntfs_runs *rl, uint64_t vcn, uint64_t lcn, uint64_t len);
int bsw_ntfs_parse_restart(const uint8_t *p, size_t len, struct bsw_ntfs_rstr *r, const char **why);

typedef int (*bsw_ntfs_ie_fn)(void *arg, uint64_t mref, const uint8_t *key, uint32_t key_len,
			      uint16_t flags, uint64_t sub_vcn);
int bsw_ntfs_parse_index_header(const uint8_t *p, size_t len, bsw_ntfs_ie_fn fn, void *arg,
				const char **why);
int bsw_ntfs_parse_index_root(const uint8_t *p, size_t len, uint32_t *blk_size, bsw_ntfs_ie_fn fn,
			      void *arg, const char **why);
int bsw_ntfs_parse_indx(uint8_t *p, size_t len, bsw_ntfs_ie_fn fn, void *arg, const char **why);

int64_t bsw_ntfs_lznt1(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen);
int64_t bsw_ntfs_xpress_huff(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen);

uint16_t bsw_ntfs_fold_builtin(uint16_t c);

/* ---- the volume handle, shared by the passes and the read API ---- */

#define NTFS_RS_HASDATA 0x8000 /* internal rflags bit: unnamed $DATA vcn 0 seen */

/* Compact per-record summary (~48 bytes; names live in v->names). */
/* The start of a kept form of a unit of records (ntfs_records.c, ntfs_kept.c). */
#define KEPT_MAGIC 0x314B4D42u /* "BMK1": this layout */

struct kept_hdr {
	uint32_t magic, rec_size;
	uint64_t start, cnt;
};

struct ntfs_rsum {
	uint64_t base; /* base record of an extension record, else 0 */
	uint64_t size, alloc;
	uint32_t reparse_tag;
	uint32_t first_name; /* index into v->names once built */
	uint16_t seq, links, rflags, hflags;
	uint16_t nr_names; /* every $FILE_NAME, DOS names included */
	uint16_t nr_vis;   /* names other than DOS-only */
};

struct ntfs_name {
	uint64_t rec, parent; /* 48-bit record numbers */
	uint32_t off;	      /* UTF-16LE units into v->pool */
	uint16_t pseq;
	uint8_t len, ns;
};

/* A record-level problem seen by the records pass, reported once paths are known. */
struct ntfs_issue {
	uint64_t rec;
	const char *why; /* NULL: torn */
	unsigned stride;
};

/* One attribute stream, loaded for reading (ntfs_read.c). */
struct ntfs_stream {
	uint64_t rec;
	uint32_t type;
	char name[128];
	bool valid, resident;
	bool ext; /* pieces came through an $ATTRIBUTE_LIST (other records) */
	uint8_t *res;
	size_t res_len;
	struct bsw_ntfs_runs runs;
	uint64_t size, alloc, init;
	uint16_t aflags;
	uint8_t cu_shift;
	/* last decompressed compression unit (ntfs_lznt1.c) */
	uint8_t *cu_buf;
	uint64_t cu_index;
	bool cu_valid;
};

struct bsw_ntfs {
	const struct bsw_src *src;
	struct bsw_fx *fx;
	struct bsw_ntfs_opts o;
	uint64_t bytes_read;

	/* boot pass (ntfs_boot.c) */
	struct bsw_ntfs_boot bs;
	bool backup_boot; /* the backup boot sector was used */

	/* records pass (ntfs_records.c) */
	struct bsw_ntfs_runs mft_runs;
	uint64_t mft_size; /* $MFT data size */
	uint64_t nr_recs;
	struct ntfs_rsum *recs;
	bool used_mirror;  /* some of records 0-3 came from $MFTMirr */
	unsigned mirr_use; /* bit i: record i read from the mirror */
	uint8_t *mirr_raw; /* raw mirror records 0-3 (no fixup) */
	unsigned head_bad; /* first bad record among 0-3 */
	const char *head_why;
	struct ntfs_name *names;
	size_t nr_names, alloc_names, max_names;
	uint16_t *pool; /* UTF-16LE units of every name, as on disk */
	size_t pool_len, alloc_pool, max_pool;
	struct ntfs_issue *issues;
	size_t nr_issues, alloc_issues;
	uint8_t *cbmap; /* clusters claimed by in-use records */
	uint64_t cbmap_clusters;
	uint64_t cbmap_marked; /* clusters marked so far (budget) */
	struct {
		uint64_t rec, lcn, len;
	} xlink[64];
	unsigned nr_xlink;

	/* names pass (ntfs_names.c) */
	uint16_t *upool; /* pool folded through $UpCase (host order) */
	uint32_t *kids;	 /* name indexes sorted by (parent, name) */
	size_t nr_kids;
	uint32_t *dir_first; /* nr_recs + 1: index in kids of each record's first child */
	/* directories recently resolved by bsw_ntfs_lookup (path -> record) */
	struct {
		char path[512];
		uint64_t rec;
		bool valid;
	} dcache[8];
	unsigned dcache_next;
	/* hash indexes of the largest directories looked up (ntfs_names.c) */
	struct ntfs_dindex {
		uint64_t dir;
		uint32_t mask;
		uint32_t *slot; /* kids index + 1; 0: empty */
	} dindex[16];
	unsigned nr_dindex;
	uint16_t *upcase; /* 65536 entries */
	bool upcase_builtin;
	/* the critical records (opts.critical resolved), sorted; built on first use */
	uint64_t *crit;
	size_t nr_crit, alloc_crit;
	bool crit_ready;

	/* reading (ntfs_read.c, ntfs_wof.c) */
	struct ntfs_stream cache;
	/* the last WOF-compressed file read (bsw_ntfs_read) */
	struct {
		uint64_t rec;
		bool valid;
		uint32_t alg, chunk;
		uint64_t size, nchunks;
		struct ntfs_stream s; /* "WofCompressedData" */
		uint8_t *cbuf, *zbuf; /* decompressed / compressed chunk */
		uint64_t cidx;
		bool cvalid;
	} wof;
};

/*
 * ---- the passes ----
 *
 * bsw_ntfs_open() runs the rows of bsw_ntfs_passes[] (ntfs.c) in order.
 * A pass reads what earlier passes collected in the handle and adds its
 * own; it reports findings to v->fx.  It returns 0, or -errno when the
 * volume cannot be used at all (then it has reported why).  Rows flagged
 * NTFS_PASS_CHECK run only with opts.run_checks and come after the passes
 * that make the volume readable.  Each pass file opens with the tests it
 * applies and the data it collects.
 */
#define NTFS_PASS_CHECK 0x1 /* a check: only with opts.run_checks */

struct bsw_ntfs_pass {
	const char *name;
	int (*run)(struct bsw_ntfs *v);
	unsigned flags;
};

/* NULL-terminated, in the order they run. */
extern const struct bsw_ntfs_pass bsw_ntfs_passes[];

int bsw_ntfs_pass_boot(struct bsw_ntfs *v);	/* ntfs_boot.c */
int bsw_ntfs_pass_records(struct bsw_ntfs *v);	/* ntfs_records.c */
int bsw_ntfs_pass_names(struct bsw_ntfs *v);	/* ntfs_names.c */
int bsw_ntfs_pass_damage(struct bsw_ntfs *v);	/* ntfs_damage.c */
int bsw_ntfs_pass_attrlist(struct bsw_ntfs *v); /* ntfs_attrlist.c */
int bsw_ntfs_pass_paths(struct bsw_ntfs *v);	/* ntfs_paths.c */
int bsw_ntfs_pass_mftmirr(struct bsw_ntfs *v);	/* ntfs_mftmirr.c */
int bsw_ntfs_pass_volume(struct bsw_ntfs *v);	/* ntfs_volume.c */
int bsw_ntfs_pass_logfile(struct bsw_ntfs *v);	/* ntfs_logfile.c */
int bsw_ntfs_pass_hiberfil(struct bsw_ntfs *v); /* ntfs_hiberfil.c */
int bsw_ntfs_pass_bitmap(struct bsw_ntfs *v);	/* ntfs_bitmap.c */
int bsw_ntfs_pass_sysfiles(struct bsw_ntfs *v); /* ntfs_sysfiles.c */
int bsw_ntfs_pass_i30(struct bsw_ntfs *v);	/* ntfs_i30.c */

/* ---- reading (ntfs_read.c): volume bytes, records, attribute streams ---- */

int bsw_ntfs_vol_read(struct bsw_ntfs *v, void *buf, size_t len, uint64_t off);
/* Index of the run holding vcn, or -1 (runs sorted by vcn). */
long bsw_ntfs_run_find(const struct bsw_ntfs_runs *rl, uint64_t vcn);
void bsw_ntfs_runs_sort(struct bsw_ntfs_runs *rl);
/* [off, off+len) of a non-resident stream; holes and unmapped ranges read as zeros. */
int bsw_ntfs_runs_read(struct bsw_ntfs *v, const struct bsw_ntfs_runs *rl, uint8_t *buf, size_t len,
		       uint64_t off);
int bsw_ntfs_read_rec(struct bsw_ntfs *v, uint64_t rec, uint8_t *buf, unsigned *torn_stride);
int bsw_ntfs_load_stream(struct bsw_ntfs *v, uint64_t rec, uint32_t type, const char *name,
			 struct ntfs_stream *fs);
void bsw_ntfs_stream_free(struct ntfs_stream *fs);
int64_t bsw_ntfs_stream_pread(struct bsw_ntfs *v, struct ntfs_stream *fs, void *buf, size_t len,
			      uint64_t off);

/* ---- sharing across volumes (ntfs_share.c) ---- */

/*
 * The share key of MFT records [start, start+cnt) under v->o.share: 1 with
 * key and *owner (the token of the layer serving their first byte) when
 * every byte of them comes from a layer the caller shares, 0 when they
 * must be read here (no share, unshareable bytes, records 0-3 taken from
 * $MFTMirr), or -errno from the source's origin op.
 */
int bsw_ntfs_recs_key(struct bsw_ntfs *v, uint64_t start, uint64_t cnt, uint8_t key[16],
		      uint64_t *owner);

/* ---- compression (ntfs_lznt1.c, ntfs_wof.c) ---- */

/* Decompress compression unit u of an LZNT1 stream into fs->cu_buf. */
int bsw_ntfs_load_cu(struct bsw_ntfs *v, struct ntfs_stream *fs, uint64_t u);
/* Plain bytes of the WOF-compressed file rec (its unnamed data). */
int64_t bsw_ntfs_wof_read(struct bsw_ntfs *v, uint64_t rec, uint8_t *buf, size_t len, uint64_t off);
void bsw_ntfs_wof_free(struct bsw_ntfs *v);

/* ---- the namespace (ntfs_names.c) ---- */

/* Names of records 0-11 (the system files), "\" for the root; NULL past them. */
const char *bsw_ntfs_sysfile_name(uint64_t rec);
/* The name used for paths: the first non-DOS name, else the first; NULL if none. */
const struct ntfs_name *bsw_ntfs_main_name(const struct bsw_ntfs *v, uint64_t rec);
const char *bsw_ntfs_rec_label(struct bsw_ntfs *v, uint64_t rec, char *buf, size_t len);
int bsw_ntfs_find_child(struct bsw_ntfs *v, uint64_t dir, const uint16_t *name, size_t len,
			uint64_t *rec);
/*
 * True when damage to rec is critical: records 0-15, a file named by
 * opts.critical, or a directory on the way to one.
 */
bool bsw_ntfs_is_critical(struct bsw_ntfs *v, uint64_t rec);
/*
 * Call fn for each directory on the way to the critical files: "\" first,
 * then each prefix of a critical path that ends before a '\', in the order
 * the list first reaches it, each once ("\Windows", "\Windows\System32",
 * ...).  Stops when fn returns non-zero and returns that value.
 */
int bsw_ntfs_crit_dirs(const struct bsw_ntfs *v, int (*fn)(void *arg, const char *dir), void *arg);

#endif /* BSW_NTFS_INTERNAL_H */
