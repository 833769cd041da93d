/*
 * PE/COFF image headers (Microsoft PE Format, sections 2-3): the MS-DOS
 * stub's "MZ" and e_lfanew, the "PE\0\0" signature, the COFF file header
 * and the first fields of the optional header; and the file version of a
 * VS_VERSIONINFO resource.  Pure: a pointer and a length in, a decoded
 * struct out, no I/O.  The checks decide what a status means for them
 * (a header read of the first KiB may end before the headers do).
 */
#ifndef BSW_PE_H
#define BSW_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Optional header magic (PE Format 3.4.1). */
#define BSW_PE_MAGIC_PE32 0x10bu
#define BSW_PE_MAGIC_PE32P 0x20bu

/* What bsw_pe_parse found wrong first; later fields are not decoded. */
enum bsw_pe_status {
	BSW_PE_OK = 0,	  /* headers through the optional header's subsystem */
	BSW_PE_NO_MZ,	  /* shorter than the 64-byte DOS header, or no "MZ" */
	BSW_PE_TRUNCATED, /* the buffer ends before the headers do */
	BSW_PE_NO_PE_SIG, /* e_lfanew does not point at "PE\0\0" */
	BSW_PE_BAD_OPT,	  /* optional header too small or of unknown magic */
};

struct bsw_pe {
	enum bsw_pe_status status;
	uint32_t e_lfanew; /* file offset of the PE signature */
	/* COFF file header (PE Format 3.3); set when have_coff */
	bool have_coff;
	uint16_t machine; /* IMAGE_FILE_MACHINE_* */
	uint16_t nr_sections;
	uint32_t timestamp;	  /* TimeDateStamp: link time, seconds since 1970 */
	uint16_t opt_size;	  /* SizeOfOptionalHeader */
	uint16_t characteristics; /* IMAGE_FILE_* flags */
	/* optional header (PE Format 3.4); opt_magic is set when the buffer
	 * holds it, the rest when have_opt */
	bool have_opt;
	uint16_t opt_magic; /* BSW_PE_MAGIC_PE32 or _PE32P */
	uint32_t size_of_image;
	uint16_t subsystem; /* IMAGE_SUBSYSTEM_* */
};

/*
 * Decode the headers of the PE image whose first len bytes are d.  Every
 * offset is checked against len.  Fills *pe (fields past the first problem
 * stay zero) and returns pe->status.
 */
enum bsw_pe_status bsw_pe_parse(const uint8_t *d, size_t len, struct bsw_pe *pe);

/*
 * What a status says, in the words of the boot and file checks' findings
 * ("not a PE image (no MZ header)", ...); NULL for BSW_PE_OK.  Static
 * strings.
 */
const char *bsw_pe_status_str(enum bsw_pe_status st);

/*
 * The file version (dwFileVersionMS << 32 | dwFileVersionLS) of the first
 * VS_FIXEDFILEINFO in d[0..len): the UTF-16LE key "VS_VERSION_INFO" and,
 * after padding to 32 bits, the signature 0xFEEF04BD.  Found by a search
 * of the bytes, not through the resource directory.  Returns true and sets
 * *ver when found.
 */
bool bsw_pe_parse_version(const uint8_t *d, size_t len, uint64_t *ver);

#endif /* BSW_PE_H */
