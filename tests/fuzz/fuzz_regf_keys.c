/*
 * Fuzz target: key walk and value reads on whatever the verifier accepted
 * (the .reg export visits every key and value), plus path lookups.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "formats/regf/regf_export.h"

struct look {
	struct bsw_hive *h;
	bsw_hkey parent;
	unsigned nr;
};

/* Every subkey looked up again by name: drives the name index of keys
 * with many subkeys (and its give-up on piled-up names). */
static int look_up(void *arg, bsw_hkey k, const char *name)
{
	struct look *l = arg;
	bsw_hkey got;

	(void)k;
	if (++l->nr > 4096)
		return 1;
	(void)bsw_hive_key(l->h, l->parent, name, &got);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_fx *fx = NULL;
	struct bsw_hive *h;
	struct bsw_sbuf s = { 0 };
	char buf[256], *multi;
	unsigned n;
	uint32_t dw;
	bsw_hkey k;

	if (bsw_fx_create(&fx))
		return 0;
	if (bsw_hive_load(&h, data, size, NULL, 0, fx)) {
		bsw_fx_destroy(fx);
		return 0;
	}
	(void)bsw_regf_export(h, &s);
	bsw_sbuf_free(&s);
	if (bsw_hive_key(h, bsw_hive_root(h), "Select", &k) == 0)
		(void)bsw_hive_key_name(h, k, buf, sizeof(buf));
	(void)bsw_hive_get_dword(h, "Select", "Default", &dw);
	(void)bsw_hive_get_sz(h, "key_with_many_subkeys", "", buf, sizeof(buf));
	{
		struct look l = { .h = h, .parent = bsw_hive_root(h) };

		if (l.parent) {
			(void)bsw_hive_subkeys(h, l.parent, look_up, &l);
			if (bsw_hive_key(h, l.parent, "key_with_many_subkeys", &l.parent) == 0) {
				l.nr = 0;
				(void)bsw_hive_subkeys(h, l.parent, look_up, &l);
			}
		}
	}
	if (bsw_hive_get_multi_sz(h, "", "", &multi, &n) == 0)
		free(multi);
	bsw_hive_free(h);
	bsw_fx_destroy(fx);
	return 0;
}
