/*
 * libFuzzer target: PE headers and the version resource (formats/pe), on
 * the input as a whole file and as the first KiB the file checks read.
 * Traps when a decoded field contradicts the status.
 */
#include <stddef.h>
#include <stdint.h>

#include "formats/pe/pe.h"

static void one(const uint8_t *data, size_t size)
{
	struct bsw_pe pe;
	uint64_t ver;
	enum bsw_pe_status st = bsw_pe_parse(data, size, &pe);

	if (st != pe.status || (st == BSW_PE_OK) != pe.have_opt ||
	    (pe.have_coff && (uint64_t)pe.e_lfanew + 24 > size) ||
	    (st == BSW_PE_OK) != !bsw_pe_status_str(st))
		__builtin_trap();
	bsw_pe_parse_version(data, size, &ver);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size);
	if (size > 1024)
		one(data, 1024);
	return 0;
}
