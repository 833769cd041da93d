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

/*
 * UTF-16LE to UTF-8, the one converter of the program (NTFS names, regf
 * names, FAT long names, GPT names, VHD/VHDX locators).  units: the
 * number of 16-bit units at p (read as little-endian bytes, any
 * alignment).  A valid surrogate pair becomes one 4-byte sequence; a lone
 * surrogate becomes U+FFFD.  A NUL unit is copied as the byte 0 unless
 * flags say otherwise.  The output is always NUL-terminated and never ends
 * inside a sequence: a character that does not fit ends the conversion.
 * Returns the bytes written (without the terminator).
 */
#define BSW_U16_STOP_NUL 0x1u /* a NUL unit ends the string */
#define BSW_U16_KEEP_NUL 0x2u /* a NUL unit is written as C0 80 (regf.h) */
size_t bsw_utf16le_to_utf8(const void *p, size_t units, char *out, size_t outlen, unsigned flags);
/* The same into a malloc'd string (3 bytes per unit and a NUL); NULL on ENOMEM. */
char *bsw_utf16le_dup(const void *p, size_t units, unsigned flags);

#endif /* BSW_UTF8_H */
