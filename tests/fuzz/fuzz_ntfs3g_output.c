/*
 * Fuzz target: the parent's parser of the libntfs-3g child's output
 * (scanner/checks/ntfs3g_child.c).  Whatever the child prints, only
 * PR_NTFS3G_* rows may come out of it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/checks/triage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_fx *fx = NULL;
	char *buf;

	if (size > (64u << 10) || bsw_fx_create(&fx))
		return 0;
	buf = malloc(size + 1);
	if (buf) {
		memcpy(buf, data, size);
		buf[size] = 0;
		bsw_ntfs3g_parse_output(buf, fx);
		for (size_t i = 0; i < bsw_fx_count(fx); i++)
			if (strncmp(bsw_problem_info(bsw_fx_get(fx, i)->problem)->name,
				    "PR_NTFS3G_", 10))
				abort();
		free(buf);
	}
	bsw_fx_destroy(fx);
	return 0;
}
