/*
 * Shared results kept across sweeps (scan --cache DIR; docs/sharing.md,
 * "Across runs").  One file per layer in DIR, written whole (temporary
 * file, fsync, rename) and checked whole when read: a checksum, a header
 * that repeats the layer's identity, and entries that each kind's codec
 * decodes as hostile input.  A file that fails any check is ignored, with
 * a warning, and counted.
 *
 * scanner/share.c calls this; the codecs (how a kind's value becomes bytes
 * and back) are registered by the stages that own the values.
 */
#ifndef BSW_PCACHE_H
#define BSW_PCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scanner/share.h"

/*
 * Bumped whenever a codec's bytes or the meaning of a kept value change:
 * files of another schema are ignored (counted stale), never decoded.
 */
#define BSW_PCACHE_SCHEMA 1u

/* The identity of a layer file, as bsw_share_layer() was given it. */
struct bsw_pc_id {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	uint8_t id[16];
};

/* ---- bytes for the codecs: little-endian, every read bounds-checked ---- */

struct bsw_pc_buf {
	uint8_t *p;
	size_t len, alloc;
	bool err; /* out of memory: the buffer is not to be used */
};
void bsw_pc_put(struct bsw_pc_buf *b, const void *d, size_t n);
void bsw_pc_put_le(struct bsw_pc_buf *b, uint64_t x, unsigned n); /* n of 1, 2, 4, 8 */
void bsw_pc_put_str(struct bsw_pc_buf *b, const char *s);	  /* u16 length, bytes */

struct bsw_pc_rd {
	const uint8_t *p, *end;
	bool bad; /* a read ran past the end or a value was out of range */
};
uint64_t bsw_pc_get_le(struct bsw_pc_rd *r, unsigned n);
const uint8_t *bsw_pc_get(struct bsw_pc_rd *r, size_t n); /* NULL (and bad) past the end */
/* A string put by bsw_pc_put_str into dst[cap]: bad if it does not fit or holds a NUL. */
void bsw_pc_get_str(struct bsw_pc_rd *r, char *dst, size_t cap);

/*
 * How a kind's values are kept across runs.  save appends the value's
 * bytes; two values are equal when their saved bytes are (--verify-cache
 * compares them so).  load decodes hostile bytes (the whole of r, which it
 * must consume) into a value handed to bsw_share_insert with free_fn; on
 * any inconsistency it frees what it made and returns -EINVAL.
 */
struct bsw_share_codec {
	void (*save)(const void *val, size_t vlen, struct bsw_pc_buf *b);
	int (*load)(struct bsw_pc_rd *r, void **val, size_t *vlen, void (**free_fn)(void *));
};
void bsw_pcache_codec(enum bsw_share_kind kind, const struct bsw_share_codec *c);
const struct bsw_share_codec *bsw_pcache_codec_of(enum bsw_share_kind kind);

/*
 * Use DIR (created 0700 if missing; refused if another user may write it).
 * verify_every: with --verify-cache, 1 in that many loaded entries is
 * recomputed before use (0: none).  0, or -errno with err filled.
 */
int bsw_pcache_open(const char *dir, unsigned verify_every, char *err, size_t elen);
void bsw_pcache_close(void);
bool bsw_pcache_on(void);
unsigned bsw_pcache_verify_every(void);

/*
 * Read the file of layer id and call add() for each entry, after the whole
 * file was checked (nothing is added from a bad file).  add takes the
 * value over (it frees it with free_fn when it does not keep it).
 * max: the most bytes the file may have.  Returns the entries added.
 */
typedef void (*bsw_pc_add_fn)(void *ctx, enum bsw_share_kind kind, const uint8_t *key, size_t klen,
			      void *val, size_t vlen, void (*free_fn)(void *));
size_t bsw_pcache_load(const struct bsw_pc_id *id, uint64_t max, bsw_pc_add_fn add, void *ctx);

/* A file being made: entries added one by one, then written whole. */
struct bsw_pc_file;
struct bsw_pc_file *bsw_pcache_begin(const struct bsw_pc_id *id);
void bsw_pcache_add(struct bsw_pc_file *f, enum bsw_share_kind kind, const void *key, size_t klen,
		    const void *val, size_t vlen);
int bsw_pcache_commit(struct bsw_pc_file *f); /* frees f; 0 or -errno */

/* A kept value differs from the recomputed one (--verify-cache). */
void bsw_pcache_mismatch(const struct bsw_pc_id *id, enum bsw_share_kind kind);
void bsw_pcache_verified(void);

struct bsw_pc_stats {
	uint64_t files_loaded, loaded; /* files read whole, their entries */
	uint64_t files_saved, saved;   /* files written, their entries */
	uint64_t stale;		       /* a file of another identity or schema */
	uint64_t corrupt;	       /* a file that failed a check */
	uint64_t verified, mismatched; /* --verify-cache: entries recomputed */
	uint64_t errors;	       /* a file that could not be written */
};
void bsw_pcache_stats(struct bsw_pc_stats *s);

#endif /* BSW_PCACHE_H */
