/*
 * WinSxS component store: component manifests (XML, urn:schemas-microsoft-
 * com:asm.v3), the DCM\x01 compressed form (recognised, not decoded),
 * component folder names, \Windows\WinSxS\pending.xml and
 * \Windows\servicing\Sessions\Sessions.xml.  Pure: buffers in, structs out;
 * XML through expat.  WINDOWS-EVIDENCE.md sections 3.1 and 5.
 */
#ifndef BSW_SXS_H
#define BSW_SXS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BSW_MAX_SXS_FILES 4096u	    /* <file> elements kept per manifest */
#define BSW_MAX_SXS_ELEMS 1000000u  /* elements parsed per document */
#define BSW_MAX_SXS_XML (64u << 20) /* bytes of XML parsed */

enum bsw_sxs_kind {
	BSW_SXS_XML,	  /* '<' after optional BOM/whitespace, or UTF-16 BOM */
	BSW_SXS_DCM,	  /* "DCM\x01": PA30 delta against wcp.dll's base */
	BSW_SXS_OTHER_DC, /* DCN/DCS/DCD/DCH/DCX \x01 containers */
	BSW_SXS_EMPTY,
	BSW_SXS_UNKNOWN,
};

enum bsw_sxs_kind bsw_sxs_kind(const uint8_t *d, size_t len);

/* A payload-container signature (DCS\x01 ...) at the start of a file, or NULL. */
const char *bsw_sxs_container_sig(const uint8_t *d, size_t len);

enum bsw_sxs_alg {
	BSW_SXS_ALG_NONE,
	BSW_SXS_ALG_SHA1,
	BSW_SXS_ALG_SHA256
};

struct bsw_sxs_file {
	char name[256]; /* name= */
	char dest[256]; /* destinationPath= ("$(runtime.system32)\") */
	enum bsw_sxs_alg alg;
	uint8_t digest[32];
	unsigned digest_len; /* 0 if none or undecodable */
};

struct bsw_sxs_manifest {
	char name[256], version[64], arch[32], language[32], token[32];
	unsigned nr_files; /* kept (at most BSW_MAX_SXS_FILES) */
	unsigned nr_files_seen;
	struct bsw_sxs_file *files;
};

/*
 * Parse a plain XML manifest.  0 and *m (free with bsw_sxs_manifest_free),
 * -EPROTO for a DCM or other compressed form (not decoded), -EINVAL for
 * anything else (why says what), -ENOMEM.
 */
int bsw_sxs_parse_manifest(const uint8_t *d, size_t len, struct bsw_sxs_manifest **m,
			   const char **why);
void bsw_sxs_manifest_free(struct bsw_sxs_manifest *m);

/*
 * Expand destinationPath + name into a volume path ("\Windows\System32\
 * shell32.dll").  0, or -ENOENT for a variable we do not map.
 */
int bsw_sxs_expand(const char *dest, const char *name, char *out, size_t len);

/*
 * Split a component folder name <arch>_<name>_<token>_<version>_<lang>_<hash>
 * (WINDOWS-EVIDENCE.md 5).  true when it has that form.
 */
struct bsw_sxs_folder {
	char arch[32], name[128], token[32], version[64], lang[32], hash[32];
};
bool bsw_sxs_folder_parse(const char *s, struct bsw_sxs_folder *f);

struct bsw_sxs_pending {
	bool transaction;    /* root <PendingTransaction> */
	char identifier[80]; /* Identifier= */
	unsigned nr_actions; /* child elements under Transactions / POQ */
};
/* 0, or -EINVAL (not well-formed; why). */
int bsw_sxs_parse_pending(const uint8_t *d, size_t len, struct bsw_sxs_pending *p,
			  const char **why);

struct bsw_sxs_sessions {
	unsigned nr_sessions;
	char last_id[96];	/* id= of the last <Session> */
	bool last_has_complete; /* Complete= present */
	char last_complete[48];
	bool last_status_set;
	int64_t last_status; /* Status= */
};
int bsw_sxs_parse_sessions(const uint8_t *d, size_t len, struct bsw_sxs_sessions *s,
			   const char **why);

/* Decode base64 into out (at most cap bytes); bytes written or -EINVAL. */
int bsw_base64_decode(const char *s, size_t n, uint8_t *out, size_t cap);

#endif /* BSW_SXS_H */
