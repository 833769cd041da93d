/*
 * Registry hives (regf): verify the base block, every bin and cell and the
 * key tree; replay .LOG1/.LOG2 in memory as Windows does at boot; and look
 * up keys and values in the result.  Pure: works on buffers, no I/O.
 *
 * Threading: a hive belongs to one thread.
 */
#ifndef BSW_REGF_H
#define BSW_REGF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/common/finding.h"

struct bsw_hive;

enum bsw_hive_state {
	BSW_HIVE_CLEAN,		/* not dirty, structure verified */
	BSW_HIVE_RECOVERED,	/* dirty; the logs replayed cleanly */
	BSW_HIVE_UNRECOVERABLE, /* dirty and no usable log */
	BSW_HIVE_CORRUPT,	/* structure broken (after any replay) */
	BSW_HIVE_NOT_A_HIVE,	/* no "regf" (or another format: Win9x CREG) */
};

struct bsw_buf {
	const uint8_t *data;
	size_t len;
	const char *name; /* "SYSTEM.LOG1", for messages */
};

/*
 * Load a hive: copy primary into memory, verify it, replay the logs if it is
 * dirty, verify the result.  Findings go to fx (scope set by the caller).
 * The findings that say this hive is damaged (not a hive, corrupt,
 * unrecoverable) are marked .damage: what that weighs is the caller's, set
 * with bsw_fx_set_damage() around the call (BSW_V_UNBOOT for SYSTEM and
 * SOFTWARE, BSW_V_ROLLBACK for COMPONENTS; BSW_V_NONE leaves them WARN with
 * no verdict).  Returns 0 with *out set whatever the state (query it with
 * bsw_hive_state()), or -ENOMEM.
 */
int bsw_hive_load(struct bsw_hive **out, const uint8_t *primary, size_t len,
		  const struct bsw_buf *logs, unsigned nr_logs, struct bsw_fx *fx);
/*
 * The same, but primary (malloc'd, e.g. by bsw_ntfs_read_all) is handed
 * over: the hive keeps it as its copy when it is large enough, else frees
 * it.  The caller must not touch primary afterwards, whatever the result.
 */
int bsw_hive_load_take(struct bsw_hive **out, uint8_t *primary, size_t len,
		       const struct bsw_buf *logs, unsigned nr_logs, struct bsw_fx *fx);

/* Logs a load looks at, at most (more are ignored). */
#define BSW_HIVE_MAX_LOGS 8

/*
 * Read the whole file name into a malloc'd buffer (*data, *len) of at most
 * max bytes.  0, or -errno (-ENOENT: absent, -EFBIG: larger than max); on
 * error nothing is left allocated.
 */
typedef int (*bsw_hive_read_fn)(void *ctx, const char *name, size_t max, uint8_t **data,
				size_t *len);

/* A hive and its transaction logs, as files read through a callback. */
struct bsw_hive_files {
	const char *name;	 /* the primary, as read() takes it ("SYSTEM", a path) */
	const char *const *logs; /* log names; NULL: name.LOG1, name.LOG2 */
	unsigned nr_logs;	 /* entries of logs (BSW_HIVE_MAX_LOGS at most used) */
	bool logs_required;	 /* a log read() fails for fails the load (else skipped) */
	size_t max;		 /* size cap per file, handed to read() */
	const char *scope; /* finding scope of the load (not of the reads); NULL: the caller's */
	bsw_hive_read_fn read;
	/* Optional: len bytes from read() are no longer the loader's (freed,
	 * or kept by the hive): for the caller's memory budget. */
	void (*release)(void *ctx, size_t len);
	void *ctx;
};

/*
 * Read a hive and its logs through f->read, then bsw_hive_load_take() them
 * (the hive keeps the primary's buffer; the logs are freed).  Findings name
 * a log by its name after the last '/' or '\\'.  Returns 0 with *out set
 * (any state); the -errno of a failed read (of the primary, or of a log
 * when f->logs_required); or -ENOMEM.  *failed (may be NULL) is -1 when no
 * read failed, 0 for the primary, 1 + i for log i.  *out is NULL on error.
 */
int bsw_hive_load_files(struct bsw_hive **out, const struct bsw_hive_files *f, struct bsw_fx *fx,
			int *failed);
void bsw_hive_free(struct bsw_hive *h);
/*
 * A second handle on a loaded hive, for another thread: it reads src's
 * verified image and cell bitmap (never written after the load) and has
 * its own lookup cache and walk scratch.  src must outlive the clone and
 * is not changed by it.  0 or -ENOMEM.
 */
int bsw_hive_clone(const struct bsw_hive *src, struct bsw_hive **out);

enum bsw_hive_state bsw_hive_state(const struct bsw_hive *h);
const char *bsw_hive_state_name(enum bsw_hive_state s);

/* The hive as Windows would load it (after replay): whole file image. */
const uint8_t *bsw_hive_data(const struct bsw_hive *h, size_t *len);

/* Key handle: the cell offset of an nk cell; 0 is never a valid key. */
typedef uint32_t bsw_hkey;

/* Root key, or 0 if the hive is unusable. */
bsw_hkey bsw_hive_root(struct bsw_hive *h);

/*
 * Find a key by path relative to from ("Microsoft\\Windows\\CurrentVersion",
 * case-insensitive; '\\' separators; "" = from itself).  0 and *out, or
 * -ENOENT, -EIO (corrupt on the way).
 */
int bsw_hive_key(struct bsw_hive *h, bsw_hkey from, const char *path, bsw_hkey *out);

/*
 * Names of keys and values are UTF-8 in which a NUL code unit of the
 * on-disk name is kept as the pair C0 80 (modified UTF-8, as Java's):
 * "Run" and "Run<NUL>x" (a known way to hide a key from regedit) stay two
 * names, and the JSON writer prints it as \u0000, `hive --export` as \x00.
 */
/* Name of a key in UTF-8 into buf; 0 or -errno. */
int bsw_hive_key_name(struct bsw_hive *h, bsw_hkey k, char *buf, size_t len);

/* Call fn for each subkey (name in UTF-8); stop on non-zero, returned. */
typedef int (*bsw_hive_key_fn)(void *arg, bsw_hkey k, const char *name);
int bsw_hive_subkeys(struct bsw_hive *h, bsw_hkey k, bsw_hive_key_fn fn, void *arg);

/* Registry value types */
#define BSW_REG_NONE 0
#define BSW_REG_SZ 1
#define BSW_REG_EXPAND_SZ 2
#define BSW_REG_BINARY 3
#define BSW_REG_DWORD 4
#define BSW_REG_DWORD_BE 5
#define BSW_REG_LINK 6
#define BSW_REG_MULTI_SZ 7
#define BSW_REG_QWORD 11

struct bsw_hval {
	uint32_t type;
	uint8_t *data; /* malloc'd copy (big data assembled); caller frees */
	size_t len;
};

/* Call fn for each value of k (name in UTF-8, "" for the default value). */
typedef int (*bsw_hive_val_fn)(void *arg, const char *name, const struct bsw_hval *v);
int bsw_hive_values(struct bsw_hive *h, bsw_hkey k, bsw_hive_val_fn fn, void *arg);

/* Value name (NULL or "" = default) of key k: 0 and *v, -ENOENT, -EIO. */
int bsw_hive_value(struct bsw_hive *h, bsw_hkey k, const char *name, struct bsw_hval *v);

/* Typed helpers, by path from the root.  0, -ENOENT, -EINVAL (wrong type). */
int bsw_hive_get_dword(struct bsw_hive *h, const char *keypath, const char *name, uint32_t *out);
int bsw_hive_get_qword(struct bsw_hive *h, const char *keypath, const char *name, uint64_t *out);
/* REG_SZ / REG_EXPAND_SZ as UTF-8 (not expanded) into buf. */
int bsw_hive_get_sz(struct bsw_hive *h, const char *keypath, const char *name, char *buf,
		    size_t len);
/*
 * REG_MULTI_SZ as UTF-8 strings, each NUL-terminated, the list ended by an
 * empty string, into a malloc'd buffer (*out); *count gets the number.
 */
int bsw_hive_get_multi_sz(struct bsw_hive *h, const char *keypath, const char *name, char **out,
			  unsigned *count);
/* REG_BINARY (or any type) raw bytes: malloc'd into v. */
int bsw_hive_get_raw(struct bsw_hive *h, const char *keypath, const char *name, struct bsw_hval *v);

/* Free a value's data (NULL-safe). */
void bsw_hval_free(struct bsw_hval *v);

/* Base block flag 0x1: KTM transactions pending. */
bool bsw_hive_ktm_pending(const struct bsw_hive *h);

#endif /* BSW_REGF_H */
