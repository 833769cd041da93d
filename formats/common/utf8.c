/*
 * UTF-8 encoding and validation (see utf8.h).
 */
#include "formats/common/utf8.h"

#include <stdlib.h>
#include <string.h>

size_t bsw_utf8_put(char *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xC0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xE0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	o[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

size_t bsw_utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned lo = 0x80, hi = 0xBF;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		len = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0; /* overlong */
	else if (p[0] == 0xED)
		hi = 0x9F; /* UTF-16 surrogates */
	else if (p[0] == 0xF0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xF4)
		hi = 0x8F; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

static uint32_t le16_at(const uint8_t *p, size_t i)
{
	return (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
}

size_t bsw_utf16le_to_utf8(const void *src, size_t units, char *out, size_t outlen, unsigned flags)
{
	const uint8_t *p = src;
	size_t i, o = 0;

	if (!outlen)
		return 0;
	for (i = 0; i < units; i++) {
		uint32_t c = le16_at(p, i);
		char tmp[4];
		size_t k;

		if (c && c < 0x80) { /* most names: ASCII, a byte each */
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
			continue;
		}
		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units && le16_at(p, i + 1) >= 0xDC00 &&
		    le16_at(p, i + 1) <= 0xDFFF) {
			c = 0x10000 + ((c - 0xD800) << 10) + (le16_at(p, i + 1) - 0xDC00);
			i++;
		} else if (c >= 0xD800 && c <= 0xDFFF) {
			c = 0xFFFD;
		}
		if (c == 0 && (flags & BSW_U16_STOP_NUL))
			break;
		if (c == 0 && (flags & BSW_U16_KEEP_NUL)) {
			tmp[0] = (char)0xC0;
			tmp[1] = (char)0x80;
			k = 2;
		} else {
			k = bsw_utf8_put(tmp, c);
		}
		if (o + k >= outlen)
			break;
		memcpy(out + o, tmp, k);
		o += k;
	}
	out[o] = 0;
	return o;
}

char *bsw_utf16le_dup(const void *p, size_t units, unsigned flags)
{
	size_t len = units * 3 + 1;
	char *s = malloc(len);

	if (s)
		bsw_utf16le_to_utf8(p, units, s, len, flags);
	return s;
}
