/*
 * mkfleet: reference Windows OS disks with injected faults and ground truth.
 * A writer, never linked into bootsweep.
 */
#ifndef MKFLEET_H
#define MKFLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MiB (1ull << 20)

struct scenario {
	const char *name;
	const char *class;	/* clean, dirty-rollback, unbootable, unassessable */
	const char *codes[3];
	const char *what;	/* what is injected (docs/scenarios.md) */
	const char *rules[3];	/* ids of rules/incidents.yaml that must match (docs/rules.md) */
};

extern const struct scenario mk_scenarios[];
extern const unsigned mk_nr_scenarios;

struct mkopts {
	const char *out;
	unsigned scale;		/* components: small 300, medium 3000, realistic 10000 */
	unsigned hive_fill;	/* filler keys per big hive */
	unsigned files;		/* bulk files (MFT records) */
	uint64_t seed;
	bool mbr;		/* BIOS/MBR variant */
};

/* --- hive.c: hives built with hivex from a minimal hive of our own --- */
struct hv;
struct hv *hv_new(const char *workdir, const char *rootname);
/* key path with '\'; created as needed */
int hv_dword(struct hv *h, const char *key, const char *name, uint32_t v);
int hv_sz(struct hv *h, const char *key, const char *name, const char *s, int type);
int hv_multi(struct hv *h, const char *key, const char *name, const char *const *v, int n);
int hv_bin(struct hv *h, const char *key, const char *name, const void *d, size_t len);
int hv_key(struct hv *h, const char *key);
/* write the hive to path; frees h */
int hv_commit(struct hv *h, const char *path);
/* dirty the hive at path and write new-format logs that repair it */
int hv_make_dirty_with_log(const char *path, const char *log1, bool corrupt_log);

/* --- volume.c: the Windows NTFS volume, through libntfs-3g --- */
struct vol;
struct vol *vol_open(const char *path);
int vol_mkdirs(struct vol *v, const char *path);
int vol_write(struct vol *v, const char *path, const void *d, size_t len);
int vol_write_sparse(struct vol *v, const char *path, uint64_t size, const void *d, size_t len);
int vol_link(struct vol *v, const char *existing, const char *newpath);
int64_t vol_record(struct vol *v, const char *path);
/* byte offset of MFT record rec inside the volume */
int64_t vol_record_offset(struct vol *v, int64_t rec);
int vol_close(struct vol *v);

struct _ntfs_volume *vol_nv(struct vol *v);
struct vol *vol_wrap(struct _ntfs_volume *nv);
uint8_t *vol_read(struct vol *v, const char *path, size_t *len);
int vol_replace(struct vol *v, const char *path, const void *d, size_t len);

/* --- wof.c: WOF (CompactOS) files: reparse point + WofCompressedData --- */
/* alg: 0 XPRESS4K, 1 LZX, 2 XPRESS8K, 3 XPRESS16K; chunks by wimlib */
int vol_write_wof(struct vol *v, const char *path, const void *d, size_t len, unsigned alg);

/* --- cow.c: a copy-on-write NTFS device over a raw disk's partition --- */
struct cow;
struct bsw_imgw_extent;
struct cow *cow_new(const char *raw, uint64_t start, uint64_t size);
struct vol *cow_mount(struct cow *c);	/* close with vol_close() */
int cow_extents(struct cow *c, struct bsw_imgw_extent **out, size_t *nr);
void cow_free(struct cow *c);

/* --- util --- */
uint64_t mk_rand(uint64_t *s);
void mk_fill(uint8_t *p, size_t n, uint64_t seed);
uint8_t *mk_pe(size_t size, const char *tag, uint64_t seed);
int mk_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mk_write_file(const char *path, const void *d, size_t len);
uint8_t *mk_read_file(const char *path, size_t *len);

#endif
