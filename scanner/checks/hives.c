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
	char scope[64];
	char *prev;

	snprintf(scope, sizeof(scope), "hive:%s", name);
	prev = bsw_fx_push_scope(t->fx, scope);
	if (bsw_hive_load_take(&h, prim, len, logs, nr, vbad, t->fx))
		h = NULL;
	bsw_fx_restore_scope(t->fx, prev);
	return h;
}

/* A hive of \Windows\System32\config with its .LOG1/.LOG2, if present. */
static struct bsw_hive *hive_ntfs(struct bsw_tctx *t, const char *name,
				  enum bsw_verdict vbad, const char **why)
{
	static const char *const sfx[2] = { ".LOG1", ".LOG2" };
	char path[160], lname[2][32];
	uint8_t *prim, *ld[2] = { NULL, NULL };
	size_t plen, ll[2] = { 0, 0 };
	struct bsw_buf logs[2];
	struct bsw_hive *h;
	unsigned nr = 0, i;
	int r;

	snprintf(path, sizeof(path), "\\Windows\\System32\\config\\%s", name);
	r = bsw_tctx_read(t, t->v, path, &prim, &plen, BSW_MAX_HIVE_BYTES);
	if (r) {
		*why = r == -ENOENT ? "missing" : r == -EFBIG ? "too large" :
		       "unreadable";
		return NULL;
	}
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "\\Windows\\System32\\config\\%s%s",
			 name, sfx[i]);
		if (bsw_tctx_read(t, t->v, path, &ld[i], &ll[i],
				  BSW_MAX_HIVE_BYTES))
			continue;
		snprintf(lname[i], sizeof(lname[i]), "%s%s", name, sfx[i]);
		logs[nr].data = ld[i];
		logs[nr].len = ll[i];
		logs[nr].name = lname[i];
		nr++;
	}
	/* the hive keeps prim as its copy (no second buffer of its size) */
	h = bsw_tctx_load_hive(t, name, prim, plen, logs, nr, vbad);
	bsw_mem_release(plen);
	for (i = 0; i < 2; i++)
		bsw_tctx_free(ld[i], ll[i]);
	*why = h ? NULL : "out of memory";
	return h;
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
