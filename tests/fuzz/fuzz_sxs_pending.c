/* libFuzzer target: pending.xml and Sessions.xml parsing, folder names. */
#include <stdint.h>
#include <string.h>

#include "formats/sxs/sxs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_sxs_pending p;
	struct bsw_sxs_sessions s;
	struct bsw_sxs_folder f;
	const char *why;
	char name[256];

	bsw_sxs_parse_pending(data, size, &p, &why);
	bsw_sxs_parse_sessions(data, size, &s, &why);
	if (size < sizeof(name)) {
		memcpy(name, data, size);
		name[size] = 0;
		bsw_sxs_folder_parse(name, &f);
	}
	return 0;
}
