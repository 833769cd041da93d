/* libFuzzer target: component manifest parsing and path expansion. */
#include <stdint.h>

#include "formats/sxs/sxs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_sxs_manifest *m;
	const char *why;
	char path[512];
	unsigned i;

	if (bsw_sxs_parse_manifest(data, size, &m, &why))
		return 0;
	for (i = 0; i < m->nr_files; i++)
		bsw_sxs_expand(m->files[i].dest, m->files[i].name, path, sizeof(path));
	bsw_sxs_manifest_free(m);
	return 0;
}
