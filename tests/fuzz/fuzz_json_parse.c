/*
 * The reader of result files (scanner/json.c): report, diff and merge read
 * JSONL that may come from anywhere.  Any input parses or is refused with
 * an offset inside it; nothing leaks or reads past the end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "scanner/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_jval v;
	size_t where = 0;

	if (!bsw_json_parse((const char *)data, size, &v, &where)) {
		(void)bsw_jstr(&v, "image", NULL);
		(void)bsw_jnum(&v, "bytes_read", 0);
		bsw_json_free(&v);
	} else if (where > size) {
		abort();
	}
	return 0;
}
