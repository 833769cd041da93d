/*
 * Who a disk is, for its result line: the container's own id, the
 * partition table's identity, and the Windows installation as its hives
 * say.  Collected here, by the checks, into a plain struct
 * (struct bsw_report_identity) that scanner/report.c renders: the report
 * module never queries a hive.
 *
 * Also the glue from the checks of one disk (struct bsw_tctx) to the
 * report's plain description of its line (struct bsw_report_disk).
 */
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/common/bytes.h"
#include "scanner/checks/identity.h"

#define FILETIME_UNIX_EPOCH 116444736000000000ULL /* 1970 in 100 ns ticks since 1601 */

void bsw_identity_disk(const struct bsw_disk *d, struct bsw_report_identity *id)
{
	static const uint8_t zero[16];

	if (!d)
		return;
	if (bsw_disk_nr_layers(d) && memcmp(bsw_disk_layer(d, 0)->id, zero, 16))
		bsw_guid_str(bsw_disk_layer(d, 0)->id, id->container_id);
	if (bsw_disk_gpt_guid(d))
		bsw_guid_str(bsw_disk_gpt_guid(d), id->disk_guid);
	else if (!strcmp(bsw_disk_scheme(d), "mbr"))
		snprintf(id->mbr_signature, sizeof(id->mbr_signature), "0x%08" PRIx32,
			 bsw_disk_mbr_signature(d));
}

/* SOFTWARE's CurrentVersion: product, edition, build, UBR, install date. */
static void from_software(struct bsw_hive *sw, struct bsw_report_identity *id)
{
	static const char cv[] = "Microsoft\\Windows NT\\CurrentVersion";
	uint32_t dw;

	id->have_product =
		!bsw_hive_get_sz(sw, cv, "ProductName", id->product, sizeof(id->product));
	id->have_edition = !bsw_hive_get_sz(sw, cv, "EditionID", id->edition, sizeof(id->edition));
	id->have_build =
		!bsw_hive_get_sz(sw, cv, "CurrentBuildNumber", id->build, sizeof(id->build));
	id->have_display_version = !bsw_hive_get_sz(sw, cv, "DisplayVersion", id->display_version,
						    sizeof(id->display_version));
	id->have_ubr = !bsw_hive_get_dword(sw, cv, "UBR", &id->ubr);
	if (!bsw_hive_get_dword(sw, cv, "InstallDate", &dw))
		id->install_date = dw; /* Unix seconds */
}

/* SYSTEM's current control set: computer name, last shutdown. */
static void from_system(struct bsw_hive *sys, const char *cs, struct bsw_report_identity *id)
{
	struct bsw_hval hv = { 0 };
	char key[128];

	snprintf(key, sizeof(key), "%s\\Control\\ComputerName\\ComputerName", cs);
	id->have_computer_name = !bsw_hive_get_sz(sys, key, "ComputerName", id->computer_name,
						  sizeof(id->computer_name));
	snprintf(key, sizeof(key), "%s\\Control\\Windows", cs);
	if (!bsw_hive_get_raw(sys, key, "ShutdownTime", &hv) && hv.len == 8) {
		/* FILETIME: 100 ns ticks since 1601-01-01 */
		uint64_t ft = get_le64(hv.data);

		if (ft > FILETIME_UNIX_EPOCH)
			id->last_shutdown = (int64_t)((ft - FILETIME_UNIX_EPOCH) / 10000000ULL);
	}
	bsw_hval_free(&hv);
}

void bsw_identity_collect(struct bsw_tctx *t, const char *path, struct bsw_report_identity *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (!stat(path, &st)) {
		id->have_file = true;
		id->image_size = (int64_t)st.st_size;
		id->image_mtime = (int64_t)st.st_mtim.tv_sec;
	}
	bsw_identity_disk(t->d, id);
	id->windows = t->software || t->system;
	if (t->software)
		from_software(t->software, id);
	if (t->system && t->cs[0])
		from_system(t->system, t->cs, id);
}

/* the report's callback: the --inventory and --rules members */
static void inventory_members(void *arg, FILE *o)
{
	struct bsw_tctx *t = arg;

	t->rule_bits = bsw_inv_json(t, o);
}

void bsw_triage_render(FILE *o, struct bsw_tctx *t, const char *path,
		       const struct bsw_triage_result *res, const char **codes, unsigned nr_codes)
{
	const struct bsw_store_counts *s = &res->store;
	struct bsw_report_timing tm[BSW_T_COUNT];
	struct bsw_report_identity id;
	struct bsw_report_store store = {
		.manifests = s->manifests,
		.plain = s->plain,
		.dcm_not_verifiable = s->dcm,
		.bad = s->bad,
		.s256h_checked = s->s256h_checked,
		.s256h_bad = s->s256h_bad,
		.files_checked = s->files_checked,
		.files_ok = s->files_ok,
		.files_bad = s->files_bad,
		.files_missing = s->files_missing,
		.files_no_digest = s->files_nodigest,
		.links_bad = s->links_bad,
	};
	struct bsw_report_disk r = {
		.image = path,
		.verdict = res->verdict,
		.decided_by = codes,
		.nr_decided_by = nr_codes,
		.error = res->error ? res->errmsg : NULL,
		.fx = t->fx,
		.d = t->d,
		.windows_partition = t->wp ? t->wp->index : 0,
		.uefi = t->uefi,
		.id = &id,
		.extra = inventory_members,
		.extra_arg = t,
		.store = &store,
		.bytes_read = res->bytes_read,
		.timings = tm,
		.nr_timings = BSW_T_COUNT,
		.ms_total = res->ms_total,
		.scan_start = t->o->scan_start,
	};
	unsigned i;

	for (i = 0; i < BSW_T_COUNT; i++)
		tm[i] = (struct bsw_report_timing){ bsw_timing_names[i], t->ms[i] };
	bsw_identity_collect(t, path, &id);
	bsw_report_disk_json(o, &r);
}
