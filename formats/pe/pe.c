/*
 * PE/COFF headers (Microsoft PE Format): offsets of the fields decoded here.
 *
 *   MS-DOS header (2.1)   0x00 "MZ"                 0x3C u32 e_lfanew
 *   signature (2.2)       e_lfanew: "PE\0\0"
 *   COFF header (3.3)     +0 u16 Machine            +2 u16 NumberOfSections
 *   (20 bytes, at         +4 u32 TimeDateStamp      +16 u16 SizeOfOptionalHeader
 *    e_lfanew + 4)        +18 u16 Characteristics
 *   optional header (3.4) +0 u16 Magic              +56 u32 SizeOfImage
 *   (at e_lfanew + 24)    +68 u16 Subsystem  (same offsets in PE32 and PE32+)
 */
#include <string.h> /* memmem: _GNU_SOURCE comes from CMake */

#include "formats/common/bytes.h"
#include "formats/pe/pe.h"

#define DOS_HDR_LEN 64u
#define DOS_LFANEW 0x3Cu
#define SIG_LEN 4u
#define COFF_LEN 20u
#define COFF_MACHINE 0u
#define COFF_NR_SECTIONS 2u
#define COFF_TIMESTAMP 4u
#define COFF_OPT_SIZE 16u
#define COFF_CHARACTERISTICS 18u
#define OPT_MAGIC 0u
#define OPT_SIZE_OF_IMAGE 56u
#define OPT_SUBSYSTEM 68u
#define OPT_MIN_LEN 70u /* through Subsystem */

#define FFI_SIGNATURE 0xFEEF04BDu /* VS_FIXEDFILEINFO.dwSignature */
#define FFI_FILE_VERSION_MS 8u
#define FFI_FILE_VERSION_LS 12u
#define FFI_MIN_LEN 16u

enum bsw_pe_status bsw_pe_parse(const uint8_t *d, size_t len, struct bsw_pe *pe)
{
	uint64_t coff, opt;

	memset(pe, 0, sizeof(*pe));
	if (len < DOS_HDR_LEN || d[0] != 'M' || d[1] != 'Z')
		return pe->status = BSW_PE_NO_MZ;
	pe->e_lfanew = get_le32(d + DOS_LFANEW);
	/* e_lfanew is any u32 on a hostile file: 64-bit sums cannot wrap */
	if (!bsw_range_ok(pe->e_lfanew, SIG_LEN, len))
		return pe->status = BSW_PE_TRUNCATED;
	if (memcmp(d + pe->e_lfanew, "PE\0\0", SIG_LEN))
		return pe->status = BSW_PE_NO_PE_SIG;
	coff = (uint64_t)pe->e_lfanew + SIG_LEN;
	if (!bsw_range_ok(coff, COFF_LEN, len))
		return pe->status = BSW_PE_TRUNCATED;
	pe->machine = get_le16(d + coff + COFF_MACHINE);
	pe->nr_sections = get_le16(d + coff + COFF_NR_SECTIONS);
	pe->timestamp = get_le32(d + coff + COFF_TIMESTAMP);
	pe->opt_size = get_le16(d + coff + COFF_OPT_SIZE);
	pe->characteristics = get_le16(d + coff + COFF_CHARACTERISTICS);
	pe->have_coff = true;
	opt = coff + COFF_LEN;
	if (pe->opt_size < OPT_MIN_LEN)
		return pe->status = BSW_PE_BAD_OPT;
	if (!bsw_range_ok(opt, OPT_MIN_LEN, len))
		return pe->status = BSW_PE_TRUNCATED;
	pe->opt_magic = get_le16(d + opt + OPT_MAGIC);
	if (pe->opt_magic != BSW_PE_MAGIC_PE32 && pe->opt_magic != BSW_PE_MAGIC_PE32P)
		return pe->status = BSW_PE_BAD_OPT;
	pe->size_of_image = get_le32(d + opt + OPT_SIZE_OF_IMAGE);
	pe->subsystem = get_le16(d + opt + OPT_SUBSYSTEM);
	pe->have_opt = true;
	return pe->status = BSW_PE_OK;
}

const char *bsw_pe_status_str(enum bsw_pe_status st)
{
	switch (st) {
	case BSW_PE_OK: return NULL;
	case BSW_PE_NO_MZ: return "not a PE image (no MZ header)";
	case BSW_PE_TRUNCATED: return "not a PE image (headers truncated)";
	case BSW_PE_NO_PE_SIG: return "not a PE image (no PE signature)";
	case BSW_PE_BAD_OPT: return "not a PE image (bad optional header)";
	}
	return "not a PE image";
}

bool bsw_pe_parse_version(const uint8_t *d, size_t len, uint64_t *ver)
{
	static const char key[] = "VS_VERSION_INFO";
	uint8_t u16[2 * sizeof(key)]; /* with its UTF-16 NUL */
	size_t i, at, ffi;
	const uint8_t *p;

	for (i = 0; i < sizeof(key); i++) {
		u16[2 * i] = (uint8_t)key[i];
		u16[2 * i + 1] = 0;
	}
	/* each try starts past the previous match: at most len / 2 tries */
	for (i = 0; i + sizeof(u16) <= len; i = at + 2) {
		p = memmem(d + i, len - i, u16, sizeof(u16));
		if (!p)
			return false;
		at = (size_t)(p - d);
		/* the value follows the key, aligned to 32 bits in the file */
		ffi = (at + sizeof(u16) + 3) & ~(size_t)3;
		if (bsw_range_ok(ffi, FFI_MIN_LEN, len) && get_le32(d + ffi) == FFI_SIGNATURE) {
			*ver = (uint64_t)get_le32(d + ffi + FFI_FILE_VERSION_MS) << 32 |
			       get_le32(d + ffi + FFI_FILE_VERSION_LS);
			return true;
		}
	}
	return false;
}
