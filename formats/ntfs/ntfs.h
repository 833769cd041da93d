/*
 * bootsweep's own NTFS reader: open a volume from a bsw_src, stream the
 * whole $MFT, build the namespace from $FILE_NAME parent references, run the
 * volume checks, and read file contents.  Read-only; no I/O of its own.
 *
 * Threading: a volume belongs to one thread; record parsing inside
 * bsw_ntfs_open() may use OpenMP internally.
 */
#ifndef BSW_NTFS_H
#define BSW_NTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/common/src.h"
#include "formats/common/finding.h"

struct bsw_ntfs;

/*
 * Sharing parsed $MFT records between volumes that read the same bytes
 * (the differencing children of one base image; docs/sharing.md): the
 * caller's cache, as callbacks.  The records pass keys each unit of
 * records by where its bytes come from (bsw_src.origin of the volume's
 * source) and by everything else its parse depends on; a unit whose every
 * byte comes from layers the caller calls shareable is looked up, and on
 * a hit merged from the kept form without being read or parsed; on a miss
 * it is read, parsed, and its kept form handed to keep().  Everything
 * volume-wide (the namespace, the checks) is still computed per volume.
 * Thread-safe callbacks: volumes of other threads share the cache.
 */
struct bsw_ntfs_share {
	void *ctx;
	/* Is tok (a layer token, never 0) worth keeping results for? */
	bool (*shareable)(void *ctx, uint64_t tok);
	/*
	 * The value kept under (tok, key), or NULL.  On a hit *val and *len
	 * describe it (immutable) until put(ctx, ref) with the returned ref.
	 */
	void *(*get)(void *ctx, uint64_t tok, const uint8_t key[16], const void **val, size_t *len);
	void (*put)(void *ctx, void *ref);
	/*
	 * Keep val (len bytes from malloc) under (tok, key).  The callee owns
	 * val whether it keeps it or not (it frees it with free()).
	 */
	void (*keep)(void *ctx, uint64_t tok, const uint8_t key[16], void *val, size_t len);
	/*
	 * Optional: get() and put() in one, the value copied to out (at most
	 * len bytes); its whole length, or -1 on a miss.  For small values.
	 */
	int64_t (*get_copy)(void *ctx, uint64_t tok, const uint8_t key[16], void *out, size_t len);
	/* Bytes of $MFT per shared unit, whole records; 0 = BSW_NTFS_SHARE_UNIT (64 KiB). */
	uint32_t unit_bytes;
};

/*
 * A kept form (the values of struct bsw_ntfs_share) as bytes that mean the
 * same in another process (they hold no pointers), and back: the $MFT
 * records a scan keeps across runs (scan --cache).  export: 0 and *out
 * (malloc) or -errno.  import reads hostile bytes: 0 and a kept form in
 * *kept (malloc, free()), or -EINVAL when anything is out of bounds or
 * not as a form is written.
 */
int bsw_ntfs_kept_export(const void *kept, size_t len, uint8_t **out, size_t *olen);
int bsw_ntfs_kept_import(const uint8_t *p, size_t len, void **kept, size_t *klen);
/*
 * The other value the reader keeps under the same share: a file record's
 * stream description (bsw_ntfs_file_key), portable bytes as they are.
 * 0 if p is one, as written; -EINVAL otherwise.
 */
int bsw_ntfs_stream_kept_check(const uint8_t *p, size_t len);

struct bsw_ntfs_opts {
	uint64_t max_records; /* cap on MFT records parsed; 0 = 16M */
	bool run_checks;      /* run the volume checks (findings to fx) */
	/*
	 * Bytes the per-record state may take (record summaries, names,
	 * the cluster bitmap of the checks); 0 = 1 GiB.  A $MFT larger than
	 * that is parsed up to what fits, with the NTFS-META cap finding.
	 */
	uint64_t mem_cap;
	/*
	 * The files the volume cannot lose, as absolute paths
	 * ("\Windows\System32\ntoskrnl.exe"): the caller's policy (the
	 * scanner passes the Windows boot files).  Damage to one of them, to a
	 * directory on the way to one, or to records 0-15 is critical; the
	 * index ($I30) of each of those directories must name their critical
	 * children.  NULL/0: only records 0-15 are critical and no index is
	 * checked.  Read during bsw_ntfs_open() only.
	 */
	const char *const *critical;
	unsigned nr_critical;
	/* NULL: no sharing.  Read during bsw_ntfs_open() only. */
	const struct bsw_ntfs_share *share;
};

/* Per-record flags in bsw_ntfs_stat.rflags */
#define BSW_NTFS_R_INUSE 0x0001
#define BSW_NTFS_R_DIR 0x0002
#define BSW_NTFS_R_TORN 0x0004	     /* fixup failed (torn write) */
#define BSW_NTFS_R_BAD 0x0008	     /* header or attributes corrupt */
#define BSW_NTFS_R_COMPRESSED 0x0010 /* LZNT1 $DATA */
#define BSW_NTFS_R_SPARSE 0x0020
#define BSW_NTFS_R_WOF 0x0040 /* reparse tag 0x80000017 */
#define BSW_NTFS_R_ENCRYPTED 0x0080
#define BSW_NTFS_R_REPARSE 0x0100

struct bsw_ntfs_stat {
	uint64_t rec; /* MFT record number */
	uint16_t seq;
	uint16_t link_count; /* from the record header */
	unsigned nr_names;   /* $FILE_NAME attributes, DOS-only names excluded */
	unsigned rflags;
	uint64_t size; /* unnamed $DATA data size */
	uint64_t alloc_size;
	uint32_t reparse_tag;
};

/*
 * Open a volume.  Reads the boot sector (falling back to the backup in the
 * last sector, and reporting it), the $MFT, and builds the namespace; with
 * o->run_checks also runs every volume check.  Corruption is reported to fx;
 * the return is -errno only when the volume cannot be used at all (then fx
 * says why).
 */
int bsw_ntfs_open(struct bsw_ntfs **out, const struct bsw_src *vol, struct bsw_fx *fx,
		  const struct bsw_ntfs_opts *o);
void bsw_ntfs_close(struct bsw_ntfs *v);

/* Geometry */
uint32_t bsw_ntfs_cluster_size(const struct bsw_ntfs *v);
uint32_t bsw_ntfs_record_size(const struct bsw_ntfs *v);
uint64_t bsw_ntfs_nr_records(const struct bsw_ntfs *v);
uint64_t bsw_ntfs_serial(const struct bsw_ntfs *v);

/*
 * Look up a path ("\Windows\System32\config\SYSTEM", case-insensitive by
 * $UpCase, '\' or '/' separators).  0 and *rec, or -ENOENT.
 */
int bsw_ntfs_lookup(struct bsw_ntfs *v, const char *path, uint64_t *rec);

/* Stat a record; 0 or -ENOENT (not in use / out of range). */
int bsw_ntfs_stat(struct bsw_ntfs *v, uint64_t rec, struct bsw_ntfs_stat *st);

/*
 * The full path of rec through its first WIN32 name into buf
 * ("\Windows\System32\ntoskrnl.exe"); 0, -ENOENT, -ELOOP or -ENAMETOOLONG.
 */
int bsw_ntfs_path(struct bsw_ntfs *v, uint64_t rec, char *buf, size_t len);

/*
 * Call fn for each name of rec (hard links): parent record, UTF-8 name,
 * namespace (0 POSIX, 1 WIN32, 2 DOS, 3 WIN32+DOS).  Stops when fn returns
 * non-zero and returns that value.
 */
typedef int (*bsw_ntfs_name_fn)(void *arg, uint64_t parent, const char *name, unsigned ns);
int bsw_ntfs_names(struct bsw_ntfs *v, uint64_t rec, bsw_ntfs_name_fn fn, void *arg);

/*
 * Call fn for each child of directory rec (from the namespace), in name
 * order: child record and UTF-8 name (DOS-only names skipped).
 */
typedef int (*bsw_ntfs_child_fn)(void *arg, uint64_t child, const char *name);
int bsw_ntfs_readdir(struct bsw_ntfs *v, uint64_t dir, bsw_ntfs_child_fn fn, void *arg);

/*
 * Read [off, off+len) of the unnamed $DATA of rec (stream NULL) or of the
 * named stream, decompressing LZNT1 and WOF (XPRESS4K/8K/16K, LZX): the
 * bytes are the file's plain contents, as bsw_ntfs_stat()'s size counts
 * them.  Returns bytes read (short at end of file) or -errno; -EOPNOTSUPP
 * only for a format not decoded (EFS encryption, an unknown WOF provider or
 * algorithm, compression units over 16 MiB), which the checks report.
 */
int64_t bsw_ntfs_read(struct bsw_ntfs *v, uint64_t rec, const char *stream, void *buf, size_t len,
		      uint64_t off);

/*
 * Read a whole file into a new buffer (malloc) if it is at most max bytes;
 * 0, -EFBIG, or -errno.
 */
int bsw_ntfs_read_all(struct bsw_ntfs *v, uint64_t rec, const char *stream, uint8_t **data,
		      size_t *len, size_t max);

/* Bytes of the volume read so far (MFT and file contents). */
uint64_t bsw_ntfs_bytes_read(const struct bsw_ntfs *v);

/*
 * The share key of a file's data (stream NULL: the unnamed $DATA, through
 * WOF if it is a WOF file): equal keys mean bsw_ntfs_read returns the
 * same bytes, because they come from the same bytes of the same layer
 * files (bsw_src.origin of the volume's source; ntfs_share.c).  *tok gets
 * the token of a layer the file's bytes come from (0, key zeroed: not
 * shareable).  0, -ENOENT, -ENOMEM or a read error of the MFT record.
 *
 * sh (NULL: none): where the description of the file's streams (sizes,
 * flags, runlist) is kept for the other volumes of a family.  A record
 * whose bytes all come from a layer sh->shareable() accepts is described
 * once and its description reused, without reading the record again.
 */
int bsw_ntfs_file_key(struct bsw_ntfs *v, uint64_t rec, const char *stream, uint8_t key[16],
		      uint64_t *tok, const struct bsw_ntfs_share *sh);

#endif /* BSW_NTFS_H */
