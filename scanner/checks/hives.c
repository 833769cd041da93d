/*
 * The registry hives of the Windows volume: one loader for a hive and its
 * logs (used by the hives stage and by the boot stage for the BCD), and
 * the hives stage itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/checks/triage.h"

struct bsw_hive *bsw_tctx_load_hive(struct bsw_tctx *t, const char *name,
				    uint8_t *prim, size_t len,
				    const struct bsw_buf *logs, unsigned nr,
				    enum bsw_verdict vbad)
{
	struct bsw_hive *h = NULL;
	enum bsw_verdict pw;
	char scope[64];
	char *prev;

	snprintf(scope, sizeof(scope), "hive:%s", name);
	prev = bsw_fx_push_scope(t->fx, scope);
	pw = bsw_fx_set_damage(t->fx, vbad);
	if (bsw_hive_load_take(&h, prim, len, logs, nr, t->fx))
		h = NULL;
	bsw_fx_set_damage(t->fx, pw);
	bsw_fx_restore_scope(t->fx, prev);
	return h;
}

/* bsw_hive_read_fn over \Windows\System32\config of the Windows volume. */
static int config_read(void *ctx, const char *name, size_t max,
		       uint8_t **data, size_t *len)
{
	struct bsw_tctx *t = ctx;
	char path[160];

	snprintf(path, sizeof(path), "\\Windows\\System32\\config\\%s", name);
	return bsw_tctx_read(t, t->v, path, data, len, max);
}

static void config_release(void *ctx, size_t len)
{
	(void)ctx;
	bsw_mem_release(len);
}

/* A hive of \Windows\System32\config with its .LOG1/.LOG2, if present. */
static struct bsw_hive *hive_ntfs(struct bsw_tctx *t, const char *name,
				  enum bsw_verdict vbad, const char **why)
{
	char scope[64];
	const struct bsw_hive_files hf = {
		.name = name, .max = BSW_MAX_HIVE_BYTES, .scope = scope,
		.read = config_read, .release = config_release, .ctx = t,
	};
	struct bsw_hive *h;
	enum bsw_verdict pw;
	int r, failed;

	snprintf(scope, sizeof(scope), "hive:%s", name);
	pw = bsw_fx_set_damage(t->fx, vbad);
	r = bsw_hive_load_files(&h, &hf, t->fx, &failed);
	bsw_fx_set_damage(t->fx, pw);
	*why = !r ? NULL : failed < 0 ? "out of memory" :
	       r == -ENOENT ? "missing" : r == -EFBIG ? "too large" :
	       "unreadable";
	return r ? NULL : h;
}

static bool hive_usable(struct bsw_hive *h)
{
	return h && bsw_hive_root(h) &&
	       (bsw_hive_state(h) == BSW_HIVE_CLEAN ||
		bsw_hive_state(h) == BSW_HIVE_RECOVERED);
}

static void read_control_set(struct bsw_tctx *t)
{
	uint32_t def = 0;

	snprintf(t->cs, sizeof(t->cs), "ControlSet001");
	if (hive_usable(t->system) &&
	    !bsw_hive_get_dword(t->system, "Select", "Default", &def) &&
	    def > 0 && def < 1000)
		snprintf(t->cs, sizeof(t->cs), "ControlSet%03u", def);
}

/*
 * Stage "hives": SYSTEM, SOFTWARE and COMPONENTS from
 * \Windows\System32\config with their .LOG1/.LOG2, as Windows would
 * see them at boot (formats/regf replays the logs).  A damaged SYSTEM or
 * SOFTWARE hive makes the disk unbootable, a damaged COMPONENTS hive a
 * rollback: that weight is decided here, not by the parser.  Collects
 * t->system, t->software, t->components (only when usable) and t->cs, the
 * current control set, for the later stages.
 */
void bsw_stage_hives(struct bsw_tctx *t)
{
	const char *why;

	t->system = hive_ntfs(t, "SYSTEM", BSW_V_UNBOOT, &why);
	if (!t->system)
		BSW_REPORT(t->fx, PR_BOOT_2_HIVE_MISSING,
			   .str = "\\Windows\\System32\\config\\SYSTEM", .str2 = why);
	if (!bsw_tctx_over(t)) {
		t->software = hive_ntfs(t, "SOFTWARE", BSW_V_UNBOOT, &why);
		if (!t->software)
			BSW_REPORT(t->fx, PR_BOOT_2_HIVE_MISSING,
				   .str = "\\Windows\\System32\\config\\SOFTWARE",
				   .str2 = why);
	}
	if (!bsw_tctx_over(t)) {
		t->components = hive_ntfs(t, "COMPONENTS", BSW_V_ROLLBACK, &why);
		if (!t->components)
			BSW_REPORT(t->fx, PR_SVC_1_COMPONENTS_MISSING, .str = why);
	}
	if (!hive_usable(t->system)) {
		bsw_hive_free(t->system);
		t->system = NULL;
	}
	if (!hive_usable(t->software)) {
		bsw_hive_free(t->software);
		t->software = NULL;
	}
	if (!hive_usable(t->components)) {
		bsw_hive_free(t->components);
		t->components = NULL;
	}
	read_control_set(t);
}
