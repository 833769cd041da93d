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

#include "formats/common/bytes.h"
#include "scanner/checks/triage.h"
#include "scanner/share.h"

/* bsw_hive_read_fn over \Windows\System32\config of the Windows volume. */
static int config_read(void *ctx, const char *name, size_t max, uint8_t **data, size_t *len)
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

/*
 * A hive kept for the other disks of the sweep (share.h): the loaded hive,
 * which no disk queries (each queries its own clone, bsw_hive_clone), and
 * the findings its load reported, replayed into each disk that uses it.
 */
struct kept_hive {
	struct bsw_hive *h;
	struct bsw_fx *fx;
};

static void kept_hive_free(void *p)
{
	struct kept_hive *k = p;

	bsw_hive_free(k->h);
	bsw_fx_destroy(k->fx);
	free(k);
}

/* What a hive's load depends on: the bytes of the primary and its logs. */
struct hive_key {
	char name[32];
	uint64_t max;
	uint32_t vbad;
	struct bsw_share_key file[3]; /* primary, .LOG1, .LOG2 (zeros: absent) */
};

/*
 * The share key of hive name: the layer token of its primary, 0 when it
 * cannot be shared (a file of its own, missing, or sharing off).
 */
static uint64_t hive_key(struct bsw_tctx *t, const char *name, enum bsw_verdict vbad,
			 struct hive_key *k)
{
	static const char *const sfx[3] = { "", ".LOG1", ".LOG2" };
	char path[160];
	uint64_t tok = 0, rec;
	unsigned i;

	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->max = BSW_MAX_HIVE_BYTES;
	k->vbad = vbad;
	for (i = 0; i < 3; i++) {
		uint64_t ft;

		snprintf(path, sizeof(path), "\\Windows\\System32\\config\\%s%s", name, sfx[i]);
		if (bsw_ntfs_lookup(t->v, path, &rec)) {
			if (!i)
				return 0;
			continue; /* an absent log: zeros in the key */
		}
		ft = bsw_tctx_share_key(t, rec, BSW_SHARE_HIVE, 0, &k->file[i]);
		if (!ft)
			return 0;
		if (!i)
			tok = ft;
	}
	return tok;
}

/* A clone of a kept hive for this disk; the reference is the disk's. */
static struct bsw_hive *use_kept(struct bsw_tctx *t, struct bsw_share_ent *e, bool replay)
{
	const struct kept_hive *k = bsw_share_val(e, NULL);
	struct bsw_hive *h;

	if (t->nr_refs >= BSW_ARRAY_SIZE(t->refs) || bsw_hive_clone(k->h, &h)) {
		bsw_share_unref(e);
		return NULL;
	}
	if (replay)
		bsw_fx_replay(t->fx, k->fx);
	t->refs[t->nr_refs++] = e;
	return h;
}

/* A hive of \Windows\System32\config with its .LOG1/.LOG2, if present. */
static struct bsw_hive *hive_ntfs(struct bsw_tctx *t, const char *name, enum bsw_verdict vbad,
				  const char **why)
{
	char scope[64];
	const struct bsw_hive_files hf = {
		.name = name,
		.max = BSW_MAX_HIVE_BYTES,
		.scope = scope,
		.read = config_read,
		.release = config_release,
		.ctx = t,
	};
	struct bsw_share_ent *e = NULL;
	struct bsw_fx *lfx = t->fx;
	struct kept_hive *kept;
	struct hive_key key;
	struct bsw_hive *h;
	enum bsw_verdict pw;
	uint64_t tok;
	size_t len = 0;
	int r, failed;

	*why = NULL;
	tok = hive_key(t, name, vbad, &key);
	if (tok) {
		e = bsw_share_get(tok, BSW_SHARE_HIVE, &key, sizeof(key));
		if (e && (h = use_kept(t, e, true)))
			return h;
		/* load into a collector of its own, to keep its findings */
		if (bsw_fx_create(&lfx))
			lfx = t->fx;
	}
	snprintf(scope, sizeof(scope), "hive:%s", name);
	pw = bsw_fx_set_damage(lfx, vbad);
	r = bsw_hive_load_files(&h, &hf, lfx, &failed);
	bsw_fx_set_damage(lfx, pw);
	*why = !r	    ? NULL :
	       failed < 0   ? "out of memory" :
	       r == -ENOENT ? "missing" :
	       r == -EFBIG  ? "too large" :
			      "unreadable";
	if (lfx == t->fx)
		return r ? NULL : h;
	bsw_fx_merge(t->fx, lfx);
	/* only a load that saw every byte is worth keeping */
	if (r || t->limited || bsw_disk_io_error(t->d, NULL) || !(kept = malloc(sizeof(*kept)))) {
		bsw_fx_destroy(lfx);
		return r ? NULL : h;
	}
	kept->h = h;
	kept->fx = lfx;
	bsw_hive_data(h, &len);
	if (!bsw_share_insert(tok, BSW_SHARE_HIVE, &key, sizeof(key), kept,
			      sizeof(*kept) + len + len / 64 + 4096, kept_hive_free, &e)) {
		free(kept);
		bsw_fx_destroy(lfx);
		return h;
	}
	return use_kept(t, e, false);
}

static bool hive_usable(struct bsw_hive *h)
{
	return h && bsw_hive_root(h) &&
	       (bsw_hive_state(h) == BSW_HIVE_CLEAN || bsw_hive_state(h) == BSW_HIVE_RECOVERED);
}

static void read_control_set(struct bsw_tctx *t)
{
	uint32_t def = 0;

	snprintf(t->cs, sizeof(t->cs), "ControlSet001");
	if (hive_usable(t->system) && !bsw_hive_get_dword(t->system, "Select", "Default", &def) &&
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
				   .str = "\\Windows\\System32\\config\\SOFTWARE", .str2 = why);
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
