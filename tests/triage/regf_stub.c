/*
 * Temporary stand-in for formats/regf while its sources have not landed:
 * tests/cmake/triage.cmake adds this file to bsw_core only when
 * formats/regf/ holds no .c file, so the scanner links.  Every hive loads
 * as "not a hive"; no lookups succeed.
 */
#include <errno.h>
#include <stdlib.h>

#include "formats/regf/regf.h"

struct bsw_hive {
	int unused;
};

int bsw_hive_load(struct bsw_hive **out, const uint8_t *primary, size_t len,
		  const struct bsw_buf *logs, unsigned nr_logs,
		  enum bsw_verdict verdict_if_bad, struct bsw_fx *fx)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void bsw_hive_free(struct bsw_hive *h) { free(h); }
enum bsw_hive_state bsw_hive_state(const struct bsw_hive *h) { return BSW_HIVE_NOT_A_HIVE; }
const char *bsw_hive_state_name(enum bsw_hive_state s) { return "not-a-hive"; }
const uint8_t *bsw_hive_data(const struct bsw_hive *h, size_t *len) { *len = 0; return NULL; }
bsw_hkey bsw_hive_root(struct bsw_hive *h) { return 0; }
int bsw_hive_key(struct bsw_hive *h, bsw_hkey from, const char *path, bsw_hkey *out) { return -ENOENT; }
int bsw_hive_key_name(struct bsw_hive *h, bsw_hkey k, char *buf, size_t len) { return -ENOENT; }
int bsw_hive_subkeys(struct bsw_hive *h, bsw_hkey k, bsw_hive_key_fn fn, void *arg) { return 0; }
int bsw_hive_values(struct bsw_hive *h, bsw_hkey k, bsw_hive_val_fn fn, void *arg) { return 0; }
int bsw_hive_value(struct bsw_hive *h, bsw_hkey k, const char *name, struct bsw_hval *v) { return -ENOENT; }
int bsw_hive_get_dword(struct bsw_hive *h, const char *keypath, const char *name, uint32_t *out) { return -ENOENT; }
int bsw_hive_get_qword(struct bsw_hive *h, const char *keypath, const char *name, uint64_t *out) { return -ENOENT; }
int bsw_hive_get_sz(struct bsw_hive *h, const char *keypath, const char *name, char *buf, size_t len) { return -ENOENT; }
int bsw_hive_get_multi_sz(struct bsw_hive *h, const char *keypath, const char *name, char **out, unsigned *count) { return -ENOENT; }
int bsw_hive_get_raw(struct bsw_hive *h, const char *keypath, const char *name, struct bsw_hval *v) { return -ENOENT; }
void bsw_hval_free(struct bsw_hval *v) { if (v) { free(v->data); v->data = NULL; } }
bool bsw_hive_ktm_pending(const struct bsw_hive *h) { return false; }
