/*
 * The report module (scanner/report.c): one place renders every object
 * bootsweep writes about a disk, a finding, a chain layer and a partition,
 * as JSON and as text, from plain data, with one field naming scheme and
 * the "schema" and "version" members in every top-level JSON object
 * (docs/cli.md, "JSON output"; docs/schema/).
 *
 * It renders; it does not collect.  Nothing here reads a disk, queries a
 * hive or knows the checks' context: the callers fill the structures
 * below (the identity of a scanned disk comes from the checks,
 * scanner/checks/identity.c).
 */
#ifndef BSW_REPORT_H
#define BSW_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/common/finding.h"

/* The "schema" member of each top-level object (docs/schema/NAME.schema.json). */
#define BSW_SCHEMA_DISK "bootsweep.disk/1"   /* scan: one line per disk */
#define BSW_SCHEMA_INFO "bootsweep.info/1"   /* info --json: one per image */
#define BSW_SCHEMA_CHECK "bootsweep.check/1" /* check --json: one per image */
#define BSW_SCHEMA_HIVE "bootsweep.hive/1"   /* hive --json */
#define BSW_SCHEMA_STATS "bootsweep.stats/1" /* scan --stats-json */
#define BSW_SCHEMA_QUERY "bootsweep.query/1" /* query --json: one per matching disk */

/*
 * JSON string escaping shared by all output code: s (NULL writes "") as a
 * quoted JSON string.  Bytes that are not well-formed UTF-8 are written as
 * lone low surrogates \udc80-\udcff (Python's surrogateescape), so any
 * file or key name survives a round trip.  A NUL is written \u0000: a NUL
 * byte within bsw_json_strn's n bytes, and the pair C0 80 by which decoded
 * registry names keep a NUL code unit (modified UTF-8, regf.h).
 */
void bsw_json_str(FILE *out, const char *s);
void bsw_json_strn(FILE *out, const char *s, size_t n);

/* ---- a finding ---- */

/* Write f as one JSON object (no newline). */
void bsw_finding_json(const struct bsw_finding *f, FILE *out);

/*
 * The text line of a finding, the same in every command (check, info,
 * hive): "WHERE: SEVERITY CODE SCOPE: MESSAGE\n", WHERE being the image or
 * file the command was given and SCOPE "-" when the finding has none.
 */
void bsw_finding_text(FILE *out, const char *where, const struct bsw_finding *f);

/* ---- a scanned disk (scan) ---- */

struct bsw_disk;

/*
 * Who a disk is (the "image_size", "image_mtime", "identity" and "windows"
 * members); only what was found is written.  Identity strings are empty
 * when absent, a registry value has its have_ flag (it may be an empty
 * string), a time is 0 when not found (and left out when absurd).
 */
struct bsw_report_identity {
	bool have_file; /* the image file could be stat'ed */
	int64_t image_size;
	int64_t image_mtime;	/* Unix seconds */
	char container_id[40];	/* the container's own id (not all zeros) */
	char disk_guid[40];	/* GPT */
	char mbr_signature[16]; /* MBR: "0x%08x" */
	bool windows;		/* SOFTWARE or SYSTEM was loaded */
	bool have_product, have_edition, have_build, have_display_version, have_ubr,
		have_computer_name;
	char product[256], edition[256], build[256], display_version[256];
	uint32_t ubr;
	int64_t install_date; /* Unix seconds */
	char computer_name[256];
	int64_t last_shutdown; /* Unix seconds */
};

/* How much of the WinSxS store was verified (the "store" member). */
struct bsw_report_store {
	uint64_t manifests, plain, dcm_not_verifiable, bad, s256h_checked, s256h_bad, files_checked,
		files_ok, files_bad, files_missing, files_no_digest, links_bad;
};

/* One member of "timings_ms" (milliseconds). */
struct bsw_report_timing {
	const char *name;
	uint64_t ms;
};

/*
 * The result line of one disk.  A member whose data is NULL is left out:
 * scan's error line for a path that was never opened has only image,
 * verdict, decided_by, error, findings, empty chain and partitions,
 * bytes_read and the provenance.
 */
struct bsw_report_disk {
	const char *image; /* canonical path; always the first member */
	enum bsw_verdict verdict;
	const char *const *decided_by; /* distinct codes, sorted */
	unsigned nr_decided_by;
	const char *error;	    /* operational error; NULL: none */
	const struct bsw_fx *fx;    /* the findings (bsw_fx_finish'ed) */
	const struct bsw_disk *d;   /* chain and partitions; NULL: not opened */
	unsigned windows_partition; /* its index; 0: none */
	bool uefi;		    /* "boot": uefi or bios */
	const struct bsw_report_identity *id;
	/* members written after "windows" (inventory, rules: scanner/checks/
	 * inventory.c), each starting with a comma; NULL: none */
	void (*extra)(void *arg, FILE *o);
	void *extra_arg;
	const struct bsw_report_store *store;
	uint64_t bytes_read;
	const struct bsw_report_timing *timings; /* NULL: no "timings_ms" */
	unsigned nr_timings;
	uint64_t ms_total;	/* "timings_ms"'s "total" */
	const char *scan_start; /* NULL: not written */
};

/* One JSON object, no newline. */
void bsw_report_disk_json(FILE *o, const struct bsw_report_disk *r);

/* ---- info: a container, its chain and partitions ---- */

struct bsw_report_info {
	const char *image;		      /* as given */
	const struct bsw_disk *d;	      /* NULL: could not be opened */
	const char *error;		      /* why not (d NULL) */
	const struct bsw_report_identity *id; /* "identity"; NULL: none */
	const struct bsw_fx *fx;	      /* the findings (bsw_fx_finish'ed) */
};

/* info --json: one object and a newline. */
void bsw_report_info_json(FILE *o, const struct bsw_report_info *r);
/* info: the disk as text, then its findings' lines (r->d must be set). */
void bsw_report_info_text(FILE *o, const struct bsw_report_info *r);

/* ---- check: the NTFS checks of one image ---- */

enum bsw_check_state {
	BSW_CHECK_CLEAN, /* no finding at ERROR or above */
	BSW_CHECK_DAMAGED,
	BSW_CHECK_ENCRYPTED, /* BitLocker: not checked */
	BSW_CHECK_ERROR,     /* not checked: the message went to stderr */
};

struct bsw_report_check {
	const char *image;
	enum bsw_check_state state;
	const struct bsw_fx *fx;
};

/* check --json: one object and a newline. */
void bsw_report_check_json(FILE *o, const struct bsw_report_check *r);
/* check: one line per finding, then the verdict line (e2fsck's). */
void bsw_report_check_text(FILE *o, const struct bsw_report_check *r);

/* ---- hive: one registry hive and its logs ---- */

struct bsw_report_hive {
	const char *file;
	const char *state; /* bsw_hive_state_name() */
	bool logs_missing; /* dirty and no log was supplied */
	bool ktm;	   /* a KTM transaction is pending */
	char *const *logs; /* the logs replayed, as given or found */
	unsigned nr_logs;
	const struct bsw_fx *fx;
};

/* hive --json: one object and a newline. */
void bsw_report_hive_json(FILE *o, const struct bsw_report_hive *r);
/* hive: the state line, then the findings' lines. */
void bsw_report_hive_text(FILE *o, const struct bsw_report_hive *r);

/* scan --stats-json: the counters of a sweep and of its shared cache. */
struct bsw_report_stats {
	uint64_t disks, verdicts[4], errors, bytes_read, wall_ms;
	bool share_on;
	uint64_t hits, misses, inserts, evictions, share_bytes, share_peak, share_cap, layers;
	/* scan --cache: the members of "cache", in BSW_REPORT_CACHE_NAMES' order */
	bool cache_on;
	uint64_t cache[9];
};
#define BSW_REPORT_CACHE_NAMES                                                                     \
	{                                                                                          \
		"files_loaded", "loaded", "files_saved", "saved", "stale", "corrupt", "verified",  \
			"mismatched", "errors"                                                     \
	}
void bsw_report_stats_json(FILE *o, const struct bsw_report_stats *s);

/* query --json: a matching disk, its verdict and the rule's evidence. */
void bsw_report_query_json(FILE *o, const char *image, const char *verdict,
			   const char *const *evidence, size_t nr);

#endif /* BSW_REPORT_H */
