/*
 * Work shared across the disks of a sweep (issue 11, docs/sharing.md).
 *
 * A fleet is mostly differencing children of a few base images: the bytes
 * a child reads from its parent are the same bytes every sibling reads.  A
 * result computed only from such bytes (a file's SHA-256, a parsed
 * manifest, a hive's verification, a block of parsed MFT records) is kept
 * here once, keyed by the layer that served the bytes and where in that
 * layer they lie, and reused by every disk that reads the same bytes from
 * the same layer.  What depends on more than bytes (paths, hard links, the
 * registry's view of a file) is never kept: each disk recomputes it.
 *
 * Layers are named by a token (bsw_share_layer()): a hash of the file's
 * device, inode, size and mtime plus the container's own id, so a file
 * that changed is a new layer, and the same file has the same token in
 * every run (keys hold tokens; scan --cache keeps them across runs).  Memory is capped; when an
 * insert would pass the cap, whole layers are evicted, least recently used
 * first (a family's entries go together, and come back together).
 *
 * Thread-safe: every call may come from any worker.
 */
#ifndef BSW_SHARE_H
#define BSW_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a cached value is; part of the key. */
enum bsw_share_kind {
	BSW_SHARE_DIGEST = 1, /* a file's SHA-256 (32 bytes) */
	BSW_SHARE_FILECHECK,  /* a boot file's check: reason string or "" */
	BSW_SHARE_MANIFEST,   /* a parsed WinSxS manifest */
	BSW_SHARE_HIVE,	      /* a hive with its logs, loaded and verified */
	BSW_SHARE_MFT,	      /* a block of parsed MFT records */
};

struct bsw_share_stats {
	uint64_t hits, misses, inserts, evictions; /* evictions: layers */
	uint64_t bytes, cap, peak;
	uint64_t layers;
	/* scan --cache (pcache.h): files and entries read and written */
	bool cache_on;
	uint64_t pc_files_loaded, pc_loaded, pc_files_saved, pc_saved;
	uint64_t pc_stale, pc_corrupt, pc_verified, pc_mismatched, pc_errors;
};

/* Turn sharing on with a memory cap in bytes (0: off).  Call before the sweep. */
void bsw_share_init(uint64_t cap);
/* Free everything (after the sweep); closes the --cache directory. */
void bsw_share_fini(void);
/* scan --cache: write the results of every layer that gained some (end of the sweep). */
void bsw_share_flush(void);
bool bsw_share_enabled(void);

/*
 * The token of a layer file: a hash of its identity, the same in every
 * run; 0 (never shared) when two identities of one sweep hash alike.
 * id: the container's own identity (VHDX DataWriteGuid, VHD unique id;
 * zeros if none).
 */
uint64_t bsw_share_layer(uint64_t dev, uint64_t ino, uint64_t size, int64_t mtime_ns,
			 const uint8_t id[16]);

/*
 * A layer is worth keeping results for only if some disk reads it as a
 * parent: the disk layer marks every parent it serves bytes from, and the
 * sweep marks, before it starts, the parents it found (so that a base
 * image swept before its children already keeps its results).  A disk's
 * own top layer is shared only when marked.
 */
void bsw_share_set_parent(uint64_t tok);
bool bsw_share_is_parent(uint64_t tok); /* false when sharing is off */

struct bsw_share_ent;

/*
 * Look up (layer, kind, key).  On a hit returns the entry with a reference
 * held (drop it with bsw_share_unref); NULL on a miss or when sharing is
 * off.  The value is immutable: never write to it.
 */
struct bsw_share_ent *bsw_share_get(uint64_t layer, enum bsw_share_kind kind, const void *key,
				    size_t klen);
const void *bsw_share_val(const struct bsw_share_ent *e, size_t *len);
void bsw_share_unref(struct bsw_share_ent *e);
/*
 * A lookup and a copy of the value under one lock, for small values that
 * are flat bytes (kept as copies, or handed over with free()): up to len
 * bytes go to out.  Returns the value's
 * whole length (more than len: out holds its start), or -1 on a miss
 * (and for a value with its own free function: use bsw_share_get).
 */
int64_t bsw_share_get_copy(uint64_t layer, enum bsw_share_kind kind, const void *key, size_t klen,
			   void *out, size_t len);

/*
 * Keep a value: copied from val (vlen bytes), or, with free_fn, val itself
 * is handed over (freed with free_fn(val) on eviction or fini; vlen then
 * counts what it holds).  A value that alone passes the cap, or a key
 * already kept, is not kept: false, and a handed-over val stays the
 * caller's.  With ref, a kept entry comes back with a reference held (so
 * that an eviction by another thread cannot free it under the caller).
 */
bool bsw_share_insert(uint64_t layer, enum bsw_share_kind kind, const void *key, size_t klen,
		      void *val, size_t vlen, void (*free_fn)(void *), struct bsw_share_ent **ref);

void bsw_share_stats(struct bsw_share_stats *s);

#endif /* BSW_SHARE_H */
