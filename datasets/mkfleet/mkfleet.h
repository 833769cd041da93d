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
	const char *class; /* clean, dirty-rollback, unbootable, unassessable */
	const char *codes[3];
	const char *what;     /* what is injected (docs/scenarios.md) */
	const char *rules[3]; /* ids of rules/incidents.yaml that must match (docs/rules.md) */
};

extern const struct scenario mk_scenarios[];
extern const unsigned mk_nr_scenarios;

/* --churn: what each differencing child changes after the snapshot (churn.c) */
enum mk_churn {
	MK_CHURN_LIGHT, /* a new file, a changed file, one DEFAULT value */
	MK_CHURN_BOOT,	/* one Windows boot: hives and logs, $LogFile, MFT, pagefile */
	MK_CHURN_PATCH, /* boot + a cumulative update's WinSxS components */
};

struct mkopts {
	const char *out;
	unsigned scale;	    /* components: small 300, medium 3000, realistic 10000 */
	unsigned hive_fill; /* filler keys per big hive */
	unsigned files;	    /* bulk files (MFT records) */
	uint64_t seed;
	bool mbr; /* BIOS/MBR variant */
	enum mk_churn churn;
};

/* A WinSxS component: folder name, payload file and body, manifest. */
struct mk_component {
	char keyform[200];
	char file[64];
	uint8_t *body;
	size_t len;
	char *manifest;
	size_t mlen;
};

/*
 * Component i of the store at version 10.0.20348.rev, its body from
 * body_seed (mkfleet.c); the base's components are (i, 100 + i, seed).
 */
void mk_component(const struct mkopts *o, unsigned i, unsigned rev, uint64_t body_seed,
		  struct mk_component *k);
/* One registry value to write: key path, value name, type, data. */
typedef int (*mk_val_fn)(void *arg, const char *key, const char *name, uint32_t type, const void *d,
			 size_t len);
/*
 * The COMPONENTS values of component i, in the order make_components
 * writes them (S256H, identity, c! deployments; the Deployments key).
 */
int mk_component_values(const struct mkopts *o, const struct mk_component *k, unsigned i,
			bool bad_s256h, mk_val_fn fn, void *arg);

/* --- hive.c: hives built with hivex from a minimal hive of our own --- */
struct hv;
struct hv *hv_new(const char *workdir, const char *rootname);
/* key path with '\'; created as needed */
int hv_dword(struct hv *h, const char *key, const char *name, uint32_t v);
int hv_sz(struct hv *h, const char *key, const char *name, const char *s, int type);
int hv_multi(struct hv *h, const char *key, const char *name, const char *const *v, int n);
int hv_bin(struct hv *h, const char *key, const char *name, const void *d, size_t len);
int hv_key(struct hv *h, const char *key);
int hv_raw(struct hv *h, const char *key, const char *name, uint32_t type, const void *d,
	   size_t len);
/* write the hive to path; frees h */
int hv_commit(struct hv *h, const char *path);
/* dirty the hive at path and write new-format logs that repair it */
int hv_make_dirty_with_log(const char *path, const char *log1, bool corrupt_log);
uint32_t hv_checksum(const uint8_t *base);	    /* base block XOR-32 */
uint64_t hv_marvin32(const uint8_t *p, size_t len); /* log entry hash */

/* --- hivedit.c: a hive edited in memory as Windows writes it, with logs --- */
struct rh;
struct rh_out {
	uint8_t *primary; /* the primary file after the session */
	size_t plen;
	uint8_t *log[2]; /* .LOG1, .LOG2 (NULL: no entries) */
	size_t loglen[2];
};
struct rh *rh_open(const uint8_t *d, size_t len, uint64_t stamp); /* NULL: refused */
void rh_free(struct rh *r);
void rh_set_stamp(struct rh *r, uint64_t stamp); /* FILETIME of key writes */
uint32_t rh_root(const struct rh *r);
int rh_key(struct rh *r, const char *path, bool create, uint32_t *out);
int rh_add_keys(struct rh *r, uint32_t key, const char *const *names, unsigned n, uint32_t *out);
int rh_set(struct rh *r, uint32_t key, const char *name, uint32_t type, const void *d, size_t len);
int rh_get(struct rh *r, uint32_t key, const char *name, uint32_t *type, void *buf, size_t *len);
int rh_flush(struct rh *r); /* pages touched since the last flush: one log entry */
unsigned rh_entries(const struct rh *r);
int rh_finish(struct rh *r, bool reconciled, uint64_t ft, unsigned rotate, struct rh_out *o);
void rh_out_free(struct rh_out *o);

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
/* Rewrite an existing file from old to d: only the 4 KiB pages that differ. */
int vol_patch(struct vol *v, const char *path, const uint8_t *old, size_t oldlen, const uint8_t *d,
	      size_t len);

/* --- wof.c: WOF (CompactOS) files: reparse point + WofCompressedData --- */
/* alg: 0 XPRESS4K, 1 LZX, 2 XPRESS8K, 3 XPRESS16K; chunks by wimlib */
int vol_write_wof(struct vol *v, const char *path, const void *d, size_t len, unsigned alg);

/* --- cow.c: a copy-on-write NTFS device over a raw disk's partition --- */
struct cow;
struct bsw_imgw_extent;
struct cow *cow_new(const char *raw, uint64_t start, uint64_t size);
struct vol *cow_mount(struct cow *c); /* close with vol_close() */
int cow_extents(struct cow *c, struct bsw_imgw_extent **out, size_t *nr);
/* Read or write the partition's bytes through the overlay (unmounted). */
int cow_rw(struct cow *c, uint64_t off, void *buf, size_t len, bool write);
void cow_free(struct cow *c);

/* --- churn.c: a child's session after the snapshot (--churn boot|patch) --- */
struct churn;
struct churn_res {
	bool lived;	 /* the session ran (the scenario can be mounted) */
	bool running;	 /* captured running: logs and hives not reconciled */
	bool pending;	 /* patch: the update waits for a reboot (pending.xml) */
	bool hive_dirty; /* a hive left unreconciled (REG-DIRTY) */
	unsigned hives;	 /* hives written */
	unsigned cu_ubr; /* patch: the update's build revision */
	unsigned new_components;
	unsigned mft_updated; /* records whose $STANDARD_INFORMATION changed */
	uint64_t pagefile_written;
	char kb[16];
};
/* Session of child i: sets the clock to its start.  NULL on no memory. */
struct churn *churn_begin(const struct mkopts *o, const struct scenario *sc, unsigned i);
int churn_live(struct churn *ch, struct vol *v);	 /* mounted: files and hives */
int churn_raw(struct churn *ch, struct cow *c);		 /* unmounted: MFT, $LogFile */
void churn_end(struct churn *ch, struct churn_res *res); /* frees ch */

/* --- util --- */
void mk_clock_set(int64_t unix_s); /* the libraries' clock; 0: the fixed instant */
uint64_t mk_rand(uint64_t *s);
void mk_fill(uint8_t *p, size_t n, uint64_t seed);
uint8_t *mk_pe(size_t size, const char *tag, uint64_t seed);
int mk_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mk_write_file(const char *path, const void *d, size_t len);
uint8_t *mk_read_file(const char *path, size_t *len);

#endif
