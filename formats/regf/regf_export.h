/*
 * .reg text export of a hive in the style of `hivexregedit --export`
 * (Windows Registry Editor Version 5.00; keys sorted by name; values as
 * dword:/hex:/hex(N): forms).  Two producers share the emitter: our own
 * reader (regf_export.c) and hivex (regf_hivex.c), so tests can compare
 * them byte for byte.  Output goes to a memory buffer (formats do no I/O).
 */
#ifndef BSW_REGF_EXPORT_H
#define BSW_REGF_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "formats/regf/regf.h"

struct bsw_sbuf {
	char *p;
	size_t len, cap;
	int err; /* -ENOMEM once an append failed */
};

void bsw_sbuf_free(struct bsw_sbuf *s);
void bsw_sbuf_add(struct bsw_sbuf *s, const char *t, size_t n);
void bsw_sbuf_printf(struct bsw_sbuf *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The emitter: header, "[\path]" line, one value line. */
void bsw_regf_emit_header(struct bsw_sbuf *s);
void bsw_regf_emit_key(struct bsw_sbuf *s, const char *path);
void bsw_regf_emit_value(struct bsw_sbuf *s, const char *name, uint32_t type, const uint8_t *data,
			 size_t len);

/* Export with our reader; 0 or -errno (-EIO: no usable root). */
int bsw_regf_export(struct bsw_hive *h, struct bsw_sbuf *out);

/*
 * Export with hivex from a hive image in memory (memfd, no temp file).
 * 0, -EINVAL if hivex refuses the hive, or -errno.
 */
int bsw_regf_hivex_export(const uint8_t *data, size_t len, struct bsw_sbuf *out);

#endif /* BSW_REGF_EXPORT_H */
