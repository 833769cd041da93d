/*
 * Per-disk triage: open a disk, find the Windows volume, load its hives,
 * run the boot-path, servicing and WinSxS checks, classify, and render one
 * JSON line.  Used by `bootsweep scan` (scanner/cmd_scan.c); the checks
 * themselves live in scanner/checks/{boot,servicing,sxs}.c and use only the
 * module APIs (scanner/disk.h, formats/ntfs/ntfs.h, formats/regf/regf.h).
 */
#ifndef BSW_TRIAGE_H
#define BSW_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/ntfs/ntfs.h"
#include "formats/regf/regf.h"
#include "scanner/disk.h"
#include "formats/common/finding.h"
#include "formats/common/sha.h"

#define BSW_MAX_HIVE_BYTES (512u << 20) /* a hive or log read whole */
#define BSW_MAX_MANIFEST_BYTES (8u << 20)
#define BSW_MAX_MANIFESTS 400000u
#define BSW_MAX_SERVICES 8192u
#define BSW_MAX_PACKAGES 100000u
#define BSW_MAX_BOOTFILES 1024u

struct bsw_rules;
struct bsw_inv;
struct bsw_share_ent;

struct bsw_triage_opts {
	uint64_t max_bytes; /* per-disk read budget; 0 = none */
	unsigned timeout_s; /* per-disk time limit; 0 = none */
	bool no_store;	    /* skip hashing projected WinSxS files */
	bool no_ntfs3g;	    /* skip libntfs-3g's mount-time verdict */
	/* run that verdict as "SELF ntfs3g-verdict ..." in a child process
	 * (scan passes /proc/self/exe); NULL: in this process */
	const char *ntfs3g_self;
	uint64_t mem_cap;	       /* per-disk memory for container tables; 0 = default */
	const char *scan_start;	       /* the sweep's start, ISO 8601 UTC, in every line */
	const struct bsw_rules *rules; /* scan --rules/--query (scanner/rules.h); NULL: none */
	bool inventory;		       /* scan --inventory: the "inventory" member */
	bool no_share;		       /* scan --no-share: every disk on its own */
};

/* How much of the component store could be verified. */
struct bsw_store_counts {
	uint64_t manifests, plain, dcm, bad, s256h_checked, s256h_bad;
	uint64_t files_checked, files_ok, files_bad, files_missing, files_cached, files_nodigest,
		links_bad;
};

struct bsw_triage_result {
	enum bsw_verdict verdict;
	int error; /* -errno when the image could not be opened */
	char errmsg[256];
	char *json; /* the output line without newline (malloc) */
	uint64_t bytes_read;
	uint64_t ms_total;
	struct bsw_store_counts store;
	int rule_bits; /* exit bits of the rules matched (scanner/rules.h) */
};

/* Triage one image; findings go to fx (created by the caller).  0 or -ENOMEM. */
int bsw_triage_disk(const char *path, const struct bsw_triage_opts *o, struct bsw_fx *fx,
		    struct bsw_triage_result *res);
void bsw_triage_result_free(struct bsw_triage_result *res);

/*
 * Classification (scanner/classify.c, docs/classifier.md).  Returns the
 * verdict; *codes gets a malloc'd array of the distinct codes that decided
 * it (sorted), *nr their count.
 */
enum bsw_verdict bsw_classify(const struct bsw_fx *fx, const char ***codes, unsigned *nr);

/*
 * libntfs-3g's mount-time verdict on the volume [start, start+size) of
 * image, run by "self ntfs3g-verdict" in a child process that is killed
 * after timeout_s; its PR_NTFS3G_* findings go to fx, a crash, hang or
 * failure of the child is PR_NTFS3G_F0_CHILD.  Returns the number of
 * findings taken from the child, or -errno if it could not be started.
 * (scanner/checks/ntfs3g_child.c)
 */
int bsw_ntfs3g_isolated(const char *self, const char *image, uint64_t start, uint64_t size,
			unsigned timeout_s, struct bsw_fx *fx);
/*
 * The child's output (NUL-terminated, modified in place) turned into
 * findings: PR_NTFS3G_* rows only, at most 64; anything else gives one
 * PR_NTFS3G_F0_CHILD.  Returns the number of rows taken.
 */
int bsw_ntfs3g_parse_output(char *buf, struct bsw_fx *fx);

/* ---- memory budget for file buffers (scanner/hash.c) ---- */
void bsw_mem_set_cap(uint64_t bytes); /* 0 = no cap */
void bsw_mem_acquire(uint64_t bytes); /* blocks while over the cap */
void bsw_mem_release(uint64_t bytes);
uint64_t bsw_mem_peak(void);

/* ---- hashing: SHA in formats/common/sha.h, the cache in scanner/hash.c ---- */
/*
 * Process-wide cache: XXH3-128 of contents (+ size, alg) -> digest, so the
 * same bytes seen by many disks of a sweep are SHA-hashed once.
 */
bool bsw_hcache_get(const uint8_t key[16], uint64_t size, int alg, uint8_t out[32]);
void bsw_hcache_put(const uint8_t key[16], uint64_t size, int alg, const uint8_t dig[32]);
void bsw_xxh128(const void *d, size_t len, uint8_t out[16]);
uint64_t bsw_hcache_hits(void);

/* ---- the stage table (scanner/checks/stages.c, docs/adding-a-check.md) ---- */

/* the members of "timings_ms" (and "open", the container and partitions) */
enum bsw_timing {
	BSW_T_OPEN,
	BSW_T_NTFS,
	BSW_T_HIVES,
	BSW_T_BOOT,
	BSW_T_SERVICING,
	BSW_T_SXS,
	BSW_T_COUNT
};
extern const char *const bsw_timing_names[BSW_T_COUNT];

#define BSW_NEED_DISK 0x1u    /* the disk is open and not yet decided */
#define BSW_NEED_VOLUME 0x2u  /* t->v or t->evidence */
#define BSW_NEED_WINDOWS 0x4u /* t->v: the Windows volume */

#define BSW_STAGE_AFTER_STOP 0x1u /* runs after a FATAL finding or a limit too */

struct bsw_tctx;

struct bsw_stage {
	const char *name; /* "volume", "hives", ... */
	void (*run)(struct bsw_tctx *t);
	unsigned needs; /* BSW_NEED_*: what must exist */
	unsigned flags; /* BSW_STAGE_* */
	int timing;	/* enum bsw_timing it adds to; -1: none */
	unsigned share; /* 1u << enum bsw_share_kind: what results
					   it keeps for other disks (share.h) */
};

/* The stages in the order they run; *nr gets their count. */
const struct bsw_stage *bsw_stage_table(unsigned *nr);

/* ---- the shared state of the checks of one disk ---- */
struct bsw_tctx {
	const struct bsw_triage_opts *o;
	struct bsw_fx *fx;
	struct bsw_disk *d;
	struct bsw_ntfs *v;	   /* the Windows volume */
	const struct bsw_part *wp; /* its partition */
	struct bsw_src wsrc;	   /* what v reads: wp's window of the disk */
	struct bsw_src_window wwin;
	const struct bsw_part *evidence; /* no Windows volume: the damaged
					   NTFS volume whose findings decide */
	bool decided;			 /* the disk is classified: no volume stage */
	const struct bsw_stage *stage;	 /* the stage running */
	bool can_share;			 /* a layer of this disk is a parent */
	struct bsw_share_ent *refs[8];	 /* shared results in use (hive clones) */
	unsigned nr_refs;
	uint64_t ms[BSW_T_COUNT]; /* time per enum bsw_timing */
	struct bsw_hive *system, *software, *components;
	char cs[32]; /* "ControlSet001" */
	bool uefi;   /* GPT disk: UEFI boot */
	uint64_t t0_ms;
	bool limited; /* a SCAN-LIMIT was reported */
	struct bsw_store_counts *store;
	/* boot files (volume paths, lower case) for SXS-HASH severity */
	char **bootfiles;
	unsigned nr_bootfiles;
	struct bsw_inv *inv; /* inventory notes (checks/inventory.c) */
	int rule_bits;
};

uint64_t bsw_now_ms(void);
/* True (and reports SCAN-LIMIT once) when the disk's time or byte budget is spent. */
bool bsw_tctx_over(struct bsw_tctx *t);
/* A read that failed on the byte budget (r == -EFBIG) is a limit, not corruption. */
void bsw_tctx_note_budget(struct bsw_tctx *t, int r);
void bsw_tctx_add_bootfile(struct bsw_tctx *t, const char *path);
bool bsw_tctx_is_bootfile(const struct bsw_tctx *t, const char *path);

/*
 * Check a file on the Windows volume: exists, non-empty, not torn, and
 * (pe) starts with a PE image.  NULL when fine, else a reason ("missing",
 * "empty (0 bytes)", ...).  *rec gets the record if found.
 */
const char *bsw_check_file(struct bsw_tctx *t, const char *path, bool pe, uint64_t *rec);

/*
 * Sharing (scanner/share.h, docs/sharing.md): the key under which the
 * running stage may keep or find a result of kind for file rec of the
 * Windows volume: the file's key (bsw_ntfs_file_key) and the extra bytes
 * xk (an algorithm, a size cap...).  Returns the layer token, 0 when the
 * result must be computed here and not kept (sharing off, the stage does
 * not declare kind, a byte of the file is the disk's own or unshareable).
 */
struct bsw_share_key {
	uint8_t file[16];
	uint32_t extra;
};
uint64_t bsw_tctx_share_key(struct bsw_tctx *t, uint64_t rec, unsigned kind, uint32_t extra,
			    struct bsw_share_key *key);
/*
 * The NTFS reader's share of parsed $MFT records for the running stage
 * (scanner/checks/ntfs_share_glue.c), or NULL when it must not share.
 */
const struct bsw_ntfs_share *bsw_tctx_mft_share(const struct bsw_tctx *t);
/*
 * The same cache for the descriptions of file records that keying a file
 * needs (bsw_ntfs_file_key): part of every kind a file key is made for,
 * so it goes with sharing itself (NULL when the disk does not share).
 */
const struct bsw_ntfs_share *bsw_tctx_rec_share(const struct bsw_tctx *t);
/*
 * Register how the stages' shared results are kept across runs (scan
 * --cache, scanner/pcache.h): $MFT records (ntfs_share_glue.c), and
 * digests and manifests (bsw_sxs_share_codecs, sxs.c).
 */
void bsw_tctx_share_codecs(void);
void bsw_sxs_share_codecs(void);

/* Whole-file reads under the memory budget; free with bsw_tctx_free. */
int bsw_tctx_read(struct bsw_tctx *t, struct bsw_ntfs *v, const char *path, uint8_t **data,
		  size_t *len, size_t max);
void bsw_tctx_free(uint8_t *data, size_t len);

/* the stages (each file's head says what it checks and collects) */
void bsw_stage_disk(struct bsw_tctx *t);      /* scanner/checks/volume.c */
void bsw_stage_volume(struct bsw_tctx *t);    /* scanner/checks/volume.c */
void bsw_stage_ntfs3g(struct bsw_tctx *t);    /* scanner/checks/ntfs3g_child.c */
void bsw_stage_hives(struct bsw_tctx *t);     /* scanner/checks/hives.c */
void bsw_check_boot(struct bsw_tctx *t);      /* scanner/checks/boot.c */
void bsw_check_servicing(struct bsw_tctx *t); /* scanner/checks/servicing.c */
void bsw_check_sxs(struct bsw_tctx *t);	      /* scanner/checks/sxs.c */

/*
 * Inventory (scanner/checks/inventory.c, docs/rules.md): the checks note
 * what they walk (no-ops unless --inventory or rules are on);
 * bsw_inv_collect() reads the files (the Windows volume's source lives only
 * as long as the checks); bsw_inv_json() then writes ",\"inventory\":{...}" and
 * ",\"rules\":[...]" and returns the rules' exit bits; bsw_inv_free()
 * after.
 */
void bsw_inv_note_pkg(struct bsw_tctx *t, const char *name, uint32_t state);
void bsw_inv_note_driver(struct bsw_tctx *t, const char *svc, const char *path);
void bsw_inv_note_bcd(struct bsw_tctx *t, struct bsw_hive *bcd);
void bsw_inv_collect(struct bsw_tctx *t); /* end of the checks, volume open */
int bsw_inv_json(struct bsw_tctx *t, FILE *o);
void bsw_inv_free(struct bsw_tctx *t);

#endif /* BSW_TRIAGE_H */
