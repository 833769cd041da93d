/*
 * Internals shared by the regf sources (not a public contract).
 * Layout facts: msuhanov/regf "Windows registry file format specification".
 */
#ifndef BSW_REGF_INT_H
#define BSW_REGF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/regf/regf.h"

#define BSW_REGF_BASE_SIZE 4096u
#define BSW_REGF_HBIN_HDR 32u
#define BSW_REGF_NONE 0xFFFFFFFFu
/* Largest hive bins data we hold in memory (real SOFTWARE hives: ~200 MB). */
#define BSW_MAX_REGF_BINS (1024u * 1024u * 1024u)
#define BSW_MAX_REGF_DEPTH 512u
#define BSW_MAX_REGF_KEYS (1u << 24)
#define BSW_MAX_REGF_SUBKEYS 0x100000u /* per key */
#define BSW_MAX_REGF_VALUES 0x100000u  /* per key */
#define BSW_MAX_REGF_SEGS 0x10000u     /* big data segments per value */
#define BSW_MAX_REGF_LOG_ENTRIES 0x100000u
#define BSW_MAX_REGF_NAME 0x10000u /* bytes of a UTF-8 name */
#define BSW_REGF_SEG_MAX 16344u

/* Key node flags (spec: Key node, Flags). */
#define BSW_NK_HIVE_ENTRY 0x0004u
#define BSW_NK_COMP_NAME 0x0020u
/* Value flags. */
#define BSW_VK_COMP_NAME 0x0001u

/*
 * Name index of one key with many subkeys (COMPONENTS\DerivedData\
 * Components holds one per component), so that a lookup there does not
 * decode every sibling's name (regf_query.c).  Open addressing; a slot
 * with cell 0 is empty.
 */
#define BSW_REGF_KIDX_MIN 64u	  /* subkeys from which a key is indexed */
#define BSW_REGF_KIDX_MAX 262144u /* more: searched linearly (8 MiB index) */
#define BSW_REGF_KIDX_PROBE 32u	  /* longest probe; longer: searched linearly */
#define BSW_REGF_KIDX_NR 4u	  /* keys indexed at once per hive */

struct bsw_regf_kidx {
	uint32_t key;  /* nk cell indexed; 0 = unused */
	uint32_t mask; /* slots - 1 */
	bool linear;   /* key not indexable (duplicate names, size) */
	struct bsw_regf_kslot {
		uint64_t hash; /* of the name, ASCII case folded */
		uint32_t cell;
	} * slot;
};

struct bsw_hive {
	uint8_t *buf; /* file image: base block + hive bins data */
	size_t len;
	uint32_t bins;	 /* verified extent of the hive bins data */
	uint64_t *alloc; /* bit per 8 bytes of bins: allocated cell start */
	uint64_t *seen;	 /* scratch bitmap for walks */
	enum bsw_hive_state state;
	struct bsw_fx *fx;
	uint32_t root;
	uint32_t minor;
	bool ktm;
	bool dirty;
	bool corrupt;  /* a structural finding was reported */
	bool borrowed; /* a clone: buf and alloc belong to its origin */
	struct bsw_regf_kidx kidx[BSW_REGF_KIDX_NR];
	unsigned kidx_next; /* round robin over kidx */
};

/* Base block decoded (spec: Base block). */
struct bsw_regf_base {
	uint32_t seq1, seq2;
	uint64_t written;
	uint32_t major, minor, type, format;
	uint32_t root, bins, cluster;
	uint32_t flags;
	uint32_t checksum;
	bool sum_ok;
};

uint32_t bsw_regf_checksum(const uint8_t *b);
/* Decode the first 512 bytes of b (len >= 512); false if no "regf". */
bool bsw_regf_parse_base(const uint8_t *b, size_t len, struct bsw_regf_base *o);

/* Marvin32 (seeded), as used by new-format log entries. */
uint64_t bsw_regf_marvin32(uint64_t seed, const uint8_t *d, size_t len);
/* The published bytes 82 EF 4D 88 7A 4E 55 C5 read as a big-endian 64-bit seed. */
#define BSW_REGF_MARVIN_SEED 0x82EF4D887A4E55C5ull

/* A security cell a key uses, and how many keys do (pass 2 -> pass 3). */
struct bsw_regf_sk {
	uint32_t off; /* 0: empty slot (offset 0 is a bin header) */
	uint32_t refs;
};

/*
 * One load of a hive: its input and what each pass hands to the next
 * (the hive itself carries the results that outlive the load: the copy,
 * the cell bitmap, the root, the state).
 */
struct bsw_regf_run {
	struct bsw_hive *h;
	/* input of bsw_hive_load() */
	const uint8_t *primary;
	uint8_t *own; /* primary's buffer when the hive may keep it */
	size_t len;
	const struct bsw_buf *logs;
	unsigned nr_logs;
	/* pass 0 -> replay, base fields */
	struct bsw_regf_base base; /* the base block in force (replayed, once replayed) */
	char why[96];		   /* why the hive is dirty */
	/* pass 2 -> pass 3: security cells referenced (open addressing) */
	struct bsw_regf_sk *sk;
	size_t sk_cap, sk_nr;
	bool stop; /* set by a pass: the passes after it do not run */
};

/*
 * A pass of the verification (regf_passes[] in regf.c, run in order by
 * one driver).  Returns 0 or -ENOMEM; findings are reported, never
 * returned.  A pass sets r->stop when what it found leaves the later
 * passes nothing sound to work on.
 */
struct bsw_regf_pass {
	const char *name;
	int (*run)(struct bsw_regf_run *r);
};

int bsw_regf_pass0_base(struct bsw_regf_run *r);    /* regf_pass0.c */
int bsw_regf_pass_replay(struct bsw_regf_run *r);   /* regf_log.c */
int bsw_regf_pass0_fields(struct bsw_regf_run *r);  /* regf_pass0.c */
int bsw_regf_pass1_bins(struct bsw_regf_run *r);    /* regf_pass1.c */
int bsw_regf_pass2_tree(struct bsw_regf_run *r);    /* regf_pass2.c */
int bsw_regf_pass3_account(struct bsw_regf_run *r); /* regf_pass3.c */

/*
 * A structural finding: the object (this hive) is damaged.  Marks the
 * hive corrupt and reports p with .damage set, so that the weight the
 * caller gave damage (bsw_fx_set_damage) decides verdict and severity.
 */
void bsw_regf_bad(struct bsw_hive *h, enum bsw_problem p, struct bsw_fctx c);

/* Cell access on a verified hive: data after the size field, or NULL. */
const uint8_t *bsw_regf_cell(const struct bsw_hive *h, uint32_t off, uint32_t *size);
/*
 * Name of an nk or vk record as UTF-8 (Latin-1 or UTF-16LE source).  A NUL
 * code unit in the name is kept, as the pair C0 80 (see regf.h).
 */
void bsw_regf_name(const uint8_t *p, size_t n, bool ascii, char *out, size_t outlen);

/*
 * Subkeys of nk cell k: fills *out (malloc'd) with nk offsets; returns the
 * count or -errno (-EIO: a list is broken).  Reports nothing.
 */
int bsw_regf_subkey_list(const struct bsw_hive *h, uint32_t k, uint32_t **out);

/* Value data of vk cell v assembled into a malloc'd buffer. */
int bsw_regf_vk_data(const struct bsw_hive *h, uint32_t v, struct bsw_hval *o);

/* 64-bit words of a bitmap with one bit per 8 bytes of bins (and a spare). */
static inline size_t bsw_regf_words(uint32_t bins)
{
	return ((size_t)bins / 8 + 63) / 64 + 1;
}

static inline bool bsw_regf_bit(const uint64_t *m, uint32_t off)
{
	uint32_t i = off >> 3;

	return (m[i >> 6] >> (i & 63)) & 1;
}

static inline void bsw_regf_setbit(uint64_t *m, uint32_t off)
{
	uint32_t i = off >> 3;

	m[i >> 6] |= 1ull << (i & 63);
}

#endif /* BSW_REGF_INT_H */
