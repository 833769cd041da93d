/*
 * UTF-8, once for the whole program: encoding a code point, and telling a
 * well-formed sequence from stray bytes (RFC 3629: no overlong forms, no
 * UTF-16 surrogates, nothing above U+10FFFF).
 */
#ifndef BSW_UTF8_H
#define BSW_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Write code point c (< 0x110000) as UTF-8 at o (room for 4); the bytes written. */
size_t bsw_utf8_put(char *o, uint32_t c);

/* Bytes of the well-formed UTF-8 sequence at p (n > 0 bytes there), 0 if none. */
size_t bsw_utf8_seq(const unsigned char *p, size_t n);

#endif /* BSW_UTF8_H */
