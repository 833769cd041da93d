/*
 * Weak stand-ins for the hive API while formats/regf is being written:
 * tests/cmake/triage.cmake links this as a separate archive after
 * bsw_formats, so a function the real regf defines always wins and only the
 * ones it does not define yet resolve here (every lookup fails, hives load
 * as "not a hive").  Once regf is complete nothing is taken from here.
 */
#include <errno.h>
#include <stdlib.h>

#include "formats/regf/regf.h"

#define W __attribute__((weak))


W int bsw_hive_load(struct bsw_hive **out, const uint8_t *primary, size_t len,
		  const struct bsw_buf *logs, unsigned nr_logs,
		  enum bsw_verdict verdict_if_bad, struct bsw_fx *fx)
{
	/* any non-NULL handle: every query below fails */
	*out = (struct bsw_hive *)malloc(16);
	return *out ? 0 : -ENOMEM;
}

W void bsw_hive_free(struct bsw_hive *h) { free(h); }
W enum bsw_hive_state bsw_hive_state(const struct bsw_hive *h) { return BSW_HIVE_NOT_A_HIVE; }
const char *bsw_hive_state_name(enum bsw_hive_state s) { return "not-a-hive"; }
const uint8_t *bsw_hive_data(const struct bsw_hive *h, size_t *len) { *len = 0; return NULL; }
W bsw_hkey bsw_hive_root(struct bsw_hive *h) { return 0; }
W int bsw_hive_key(struct bsw_hive *h, bsw_hkey from, const char *path, bsw_hkey *out) { return -ENOENT; }
W int bsw_hive_key_name(struct bsw_hive *h, bsw_hkey k, char *buf, size_t len) { return -ENOENT; }
W int bsw_hive_subkeys(struct bsw_hive *h, bsw_hkey k, bsw_hive_key_fn fn, void *arg) { return 0; }
W int bsw_hive_values(struct bsw_hive *h, bsw_hkey k, bsw_hive_val_fn fn, void *arg) { return 0; }
W int bsw_hive_value(struct bsw_hive *h, bsw_hkey k, const char *name, struct bsw_hval *v) { return -ENOENT; }
W int bsw_hive_get_dword(struct bsw_hive *h, const char *keypath, const char *name, uint32_t *out) { return -ENOENT; }
W int bsw_hive_get_qword(struct bsw_hive *h, const char *keypath, const char *name, uint64_t *out) { return -ENOENT; }
W int bsw_hive_get_sz(struct bsw_hive *h, const char *keypath, const char *name, char *buf, size_t len) { return -ENOENT; }
W int bsw_hive_get_multi_sz(struct bsw_hive *h, const char *keypath, const char *name, char **out, unsigned *count) { return -ENOENT; }
W int bsw_hive_get_raw(struct bsw_hive *h, const char *keypath, const char *name, struct bsw_hval *v) { return -ENOENT; }
W void bsw_hval_free(struct bsw_hval *v) { if (v) { free(v->data); v->data = NULL; } }
W bool bsw_hive_ktm_pending(const struct bsw_hive *h) { return false; }
