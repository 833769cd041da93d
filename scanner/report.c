/*
 * The report module: every rendering of bootsweep's objects (a disk, a
 * finding, a chain layer, a partition; the documents of scan, info, check
 * and hive), as JSON and as text, and the string escaping they share.
 *
 * One naming scheme (docs/cli.md, "JSON output"): scan's names are the
 * reference; an object is named by its first member ("image", or "file"
 * for a hive); "schema" and "version" close every top-level object; a flag
 * is written only when true ("esp":true); a GUID that is all zeros, a
 * string or a time that was not found is left out; sizes and offsets are
 * bytes.  A layer or partition has one form, which info extends with
 * detail members under the same names.
 *
 * Input is plain data: findings (struct bsw_fx), the disk's layer and
 * partition records read through bsw_disk's const getters (in memory, no
 * I/O), and the structs of report.h that the callers fill.  Nothing here
 * reads an image, queries a hive or sees the checks' context.
 */
#include "formats/common/utf8.h"
#include "formats/part/part.h"
#include "scanner/cmds.h"
#include "scanner/disk.h"
#include "scanner/report.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

void bsw_json_strn(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t i = 0, k;

	if (!s)
		n = 0;
	fputc('"', out);
	while (i < n) {
		switch (p[i]) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (p[i] < 0x20) {
				fprintf(out, "\\u%04x", p[i]);
				break;
			}
			if (p[i] == 0xC0 && i + 1 < n && p[i + 1] == 0x80) {
				/* a NUL kept inside a name (regf.h) */
				fputs("\\u0000", out);
				i += 2;
				continue;
			}
			k = bsw_utf8_seq(p + i, n - i);
			if (!k) {
				/* not UTF-8: the byte as a lone low surrogate,
				 * as Python's surrogateescape does */
				fprintf(out, "\\udc%02x", p[i]);
				break;
			}
			fwrite(p + i, 1, k, out);
			i += k;
			continue;
		}
		i++;
	}
	fputc('"', out);
}

void bsw_json_str(FILE *out, const char *s)
{
	bsw_json_strn(out, s, s ? strlen(s) : 0);
}

void bsw_finding_json(const struct bsw_finding *f, FILE *out)
{
	const struct bsw_problem_info *pi = bsw_problem_info(f->problem);
	char msg[1024];

	bsw_finding_message(f, msg, sizeof(msg));
	fputs("{\"code\":", out);
	bsw_json_str(out, pi->code);
	fputs(",\"name\":", out);
	bsw_json_str(out, pi->name);
	fprintf(out, ",\"id\":\"0x%06x\",\"severity\":\"%s\",\"implies\":\"%s\"", pi->id,
		bsw_severity_name(f->severity), bsw_verdict_name(f->verdict));
	fputs(",\"message\":", out);
	bsw_json_str(out, msg);
	if (f->scope) {
		fputs(",\"scope\":", out);
		bsw_json_str(out, f->scope);
	}
#define NUMF(field, fmt)                                                                           \
	if (f->field || strstr(pi->message, "{" #field "}"))                                       \
	fprintf(out, ",\"" #field "\":" fmt, f->field)
	NUMF(off, "%" PRIu64);
	NUMF(lba, "%" PRIu64);
	NUMF(rec, "%" PRIu64);
	NUMF(cell, "%" PRIu64);
	NUMF(n, "%" PRId64);
	NUMF(n2, "%" PRId64);
#undef NUMF
	if (f->str) {
		fputs(",\"str\":", out);
		bsw_json_str(out, f->str);
	}
	if (f->str2) {
		fputs(",\"str2\":", out);
		bsw_json_str(out, f->str2);
	}
	fputc('}', out);
}

void bsw_finding_text(FILE *out, const char *where, const struct bsw_finding *f)
{
	char msg[1024];

	bsw_finding_message(f, msg, sizeof(msg));
	fprintf(out, "%s: %s %s %s: %s\n", where, bsw_severity_name(f->severity),
		bsw_problem_info(f->problem)->code, f->scope ? f->scope : "-", msg);
}

static void findings_json(FILE *o, const struct bsw_fx *fx)
{
	size_t k;

	fputs("\"findings\":[", o);
	for (k = 0; fx && k < bsw_fx_count(fx); k++) {
		if (k)
			fputc(',', o);
		bsw_finding_json(bsw_fx_get(fx, k), o);
	}
	fputc(']', o);
}

static void findings_text(FILE *o, const char *where, const struct bsw_fx *fx)
{
	size_t k;

	for (k = 0; fx && k < bsw_fx_count(fx); k++)
		bsw_finding_text(o, where, bsw_fx_get(fx, k));
}

/* ",\"schema\":...,\"version\":..." : the last members of a top-level object */
static void provenance_json(FILE *o, const char *schema)
{
	fprintf(o, ",\"schema\":\"%s\",\"version\":\"%s\"", schema, bsw_version);
}

/* Unix seconds as ISO 8601 UTC; false if absurd (before 1970 or after 2999). */
static bool iso_time(int64_t unix_s, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)unix_s;

	if (unix_s <= 0 || unix_s > 32503680000LL || !gmtime_r(&tt, &tm))
		return false;
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return true;
}

static bool guid_is_zero(const uint8_t *g)
{
	static const uint8_t zero[16];

	return !memcmp(g, zero, 16);
}

static void json_kv_str(FILE *o, bool *first, const char *k, const char *v)
{
	fprintf(o, "%s\"%s\":", *first ? "" : ",", k);
	bsw_json_str(o, v);
	*first = false;
}

static void json_kv_time(FILE *o, bool *first, const char *k, int64_t t)
{
	char buf[32];

	if (iso_time(t, buf, sizeof(buf)))
		json_kv_str(o, first, k, buf);
}

/* ---- chain layers and partitions: one form each ---- */

/*
 * Layer i of d's chain.  scan writes the short form; info adds the detail
 * members (how the layer is built, the locator it was found by).
 */
static void layer_json(FILE *o, const struct bsw_disk *d, unsigned i, bool detail)
{
	const struct bsw_layer_info *l = bsw_disk_layer(d, i);
	char g[40];

	fputs("{\"path\":", o);
	bsw_json_str(o, l->path);
	fputs(",\"format\":", o);
	bsw_json_str(o, l->format);
	fputs(",\"subformat\":", o);
	bsw_json_str(o, l->subformat);
	if (l->found_by) {
		fputs(",\"found_by\":", o);
		bsw_json_str(o, l->found_by);
	}
	if (i)
		fprintf(o, ",\"identity_ok\":%d", l->identity_ok);
	if (detail) {
		if (i && l->locator) {
			fputs(",\"locator\":", o);
			bsw_json_str(o, l->locator);
		}
		if (!guid_is_zero(l->id)) {
			bsw_guid_str(l->id, g);
			fprintf(o, ",\"container_id\":\"%s\"", g);
		}
		fprintf(o,
			",\"virtual_size\":%" PRIu64 ",\"file_size\":%" PRIu64
			",\"block_size\":%" PRIu32 ",\"logical_sector\":%" PRIu32
			",\"physical_sector\":%" PRIu32 "%s",
			l->virtual_size, l->file_size, l->block_size, l->logical_sector,
			l->physical_sector, l->log_replayed ? ",\"log_replayed\":true" : "");
	}
	fputc('}', o);
}

static void chain_json(FILE *o, const struct bsw_disk *d, bool detail)
{
	unsigned i;

	fputs("\"chain\":[", o);
	for (i = 0; d && i < bsw_disk_nr_layers(d); i++) {
		if (i)
			fputc(',', o);
		layer_json(o, d, i, detail);
	}
	fputc(']', o);
}

static void part_json(FILE *o, const struct bsw_part *p, unsigned windows, bool detail)
{
	char g[40];

	fprintf(o,
		"{\"index\":%u,\"scheme\":\"%s\",\"start\":%" PRIu64 ",\"size\":%" PRIu64
		",\"fs\":\"%s\"%s%s%s",
		p->index, p->scheme, p->start, p->size, bsw_fs_name(p->fs),
		p->esp ? ",\"esp\":true" : "", p->active ? ",\"active\":true" : "",
		windows && p->index == windows ? ",\"windows\":true" : "");
	if (detail && !strcmp(p->scheme, "gpt")) {
		const char *tn = bsw_gpt_type_name(p->type_guid);

		bsw_guid_str(p->type_guid, g);
		fprintf(o, ",\"type_guid\":\"%s\",\"type\":", g);
		bsw_json_str(o, tn ? tn : "unknown");
		bsw_guid_str(p->part_guid, g);
		fprintf(o, ",\"guid\":\"%s\",\"name\":", g);
		bsw_json_str(o, p->name);
	} else if (detail && !strcmp(p->scheme, "mbr")) {
		fprintf(o, ",\"mbr_type\":\"0x%02x\"%s", p->mbr_type,
			p->logical ? ",\"logical\":true" : "");
	}
	fputc('}', o);
}

static void partitions_json(FILE *o, const struct bsw_disk *d, unsigned windows, bool detail)
{
	unsigned i;

	fputs("\"partitions\":[", o);
	for (i = 0; d && i < bsw_disk_nr_parts(d); i++) {
		if (i)
			fputc(',', o);
		part_json(o, bsw_disk_part(d, i), windows, detail);
	}
	fputc(']', o);
}

/*
 * The members a scan record and an info record share, each after a comma:
 * the error (when there is one), the findings, the chain and the
 * partitions (detail: info's fuller form).
 */
static void record_body_json(FILE *o, const char *error, const struct bsw_fx *fx,
			     const struct bsw_disk *d, unsigned windows, bool detail)
{
	if (error) {
		fputs(",\"error\":", o);
		bsw_json_str(o, error);
	}
	fputc(',', o);
	findings_json(o, fx);
	fputc(',', o);
	chain_json(o, d, detail);
	fputc(',', o);
	partitions_json(o, d, windows, detail);
}

/* ",\"identity\":{...}": the container's id, the partition table's. */
static void identity_json(FILE *o, const struct bsw_report_identity *id)
{
	bool first = true;

	fputs(",\"identity\":{", o);
	if (id->container_id[0])
		json_kv_str(o, &first, "container_id", id->container_id);
	if (id->disk_guid[0])
		json_kv_str(o, &first, "disk_guid", id->disk_guid);
	else if (id->mbr_signature[0])
		json_kv_str(o, &first, "mbr_signature", id->mbr_signature);
	fputc('}', o);
}

/* ",\"windows\":{...}": the installation as its hives say. */
static void windows_json(FILE *o, const struct bsw_report_identity *id)
{
	bool first = true;

	if (!id->windows)
		return;
	fputs(",\"windows\":{", o);
	if (id->have_product)
		json_kv_str(o, &first, "product", id->product);
	if (id->have_edition)
		json_kv_str(o, &first, "edition", id->edition);
	if (id->have_build)
		json_kv_str(o, &first, "build", id->build);
	if (id->have_display_version)
		json_kv_str(o, &first, "display_version", id->display_version);
	if (id->have_ubr) {
		fprintf(o, "%s\"ubr\":%" PRIu32, first ? "" : ",", id->ubr);
		first = false;
	}
	json_kv_time(o, &first, "install_date", id->install_date);
	if (id->have_computer_name)
		json_kv_str(o, &first, "computer_name", id->computer_name);
	json_kv_time(o, &first, "last_shutdown", id->last_shutdown);
	fputc('}', o);
}

/* ---- the result line of one disk (scan) ---- */

void bsw_report_disk_json(FILE *o, const struct bsw_report_disk *r)
{
	const struct bsw_report_store *s = r->store;
	char buf[32];
	unsigned i;

	fputs("{\"image\":", o);
	bsw_json_str(o, r->image);
	fprintf(o, ",\"verdict\":\"%s\",\"decided_by\":[", bsw_verdict_name(r->verdict));
	for (i = 0; i < r->nr_decided_by; i++) {
		if (i)
			fputc(',', o);
		bsw_json_str(o, r->decided_by[i]);
	}
	fputc(']', o);
	record_body_json(o, r->error, r->fx, r->d, r->windows_partition, false);
	if (r->windows_partition)
		fprintf(o, ",\"windows_partition\":%u,\"boot\":\"%s\"", r->windows_partition,
			r->uefi ? "uefi" : "bios");
	if (r->id) {
		if (r->id->have_file) {
			fprintf(o, ",\"image_size\":%" PRId64, r->id->image_size);
			if (iso_time(r->id->image_mtime, buf, sizeof(buf)))
				fprintf(o, ",\"image_mtime\":\"%s\"", buf);
		}
		identity_json(o, r->id);
		windows_json(o, r->id);
	}
	if (r->extra)
		r->extra(r->extra_arg, o); /* --inventory, --rules */
	if (s)
		fprintf(o,
			",\"store\":{\"manifests\":%" PRIu64 ",\"plain\":%" PRIu64
			",\"dcm_not_verifiable\":%" PRIu64 ",\"bad\":%" PRIu64
			",\"s256h_checked\":%" PRIu64 ",\"s256h_bad\":%" PRIu64
			",\"files_checked\":%" PRIu64 ",\"files_ok\":%" PRIu64
			",\"files_bad\":%" PRIu64 ",\"files_missing\":%" PRIu64
			",\"files_no_digest\":%" PRIu64 ",\"links_bad\":%" PRIu64 "}",
			s->manifests, s->plain, s->dcm_not_verifiable, s->bad, s->s256h_checked,
			s->s256h_bad, s->files_checked, s->files_ok, s->files_bad, s->files_missing,
			s->files_no_digest, s->links_bad);
	fprintf(o, ",\"bytes_read\":%" PRIu64, r->bytes_read);
	if (r->timings) {
		fputs(",\"timings_ms\":{", o);
		for (i = 0; i < r->nr_timings; i++)
			fprintf(o, "\"%s\":%" PRIu64 ",", r->timings[i].name, r->timings[i].ms);
		fprintf(o, "\"total\":%" PRIu64 "}", r->ms_total);
	}
	/* provenance: which bootsweep, which sweep */
	provenance_json(o, BSW_SCHEMA_DISK);
	if (r->scan_start)
		fprintf(o, ",\"scan_start\":\"%s\"", r->scan_start);
	fputc('}', o);
}

/* ---- info ---- */

void bsw_report_info_json(FILE *o, const struct bsw_report_info *r)
{
	const struct bsw_disk *d = r->d;

	fputs("{\"image\":", o);
	bsw_json_str(o, d ? bsw_disk_path(d) : r->image);
	record_body_json(o, r->error, r->fx, d, 0, true);
	if (d) {
		fprintf(o, ",\"virtual_size\":%" PRIu64 ",\"scheme\":\"%s\"%s", bsw_disk_size(d),
			bsw_disk_scheme(d),
			bsw_disk_gpt_backup_used(d) ? ",\"gpt_backup_used\":true" : "");
		if (r->id)
			identity_json(o, r->id);
		fprintf(o, ",\"bytes_read\":%" PRIu64, bsw_disk_bytes_read(d));
	}
	provenance_json(o, BSW_SCHEMA_INFO);
	fputs("}\n", o);
}

void bsw_report_info_text(FILE *o, const struct bsw_report_info *r)
{
	const struct bsw_disk *d = r->d;
	const char *scheme = bsw_disk_scheme(d);
	char g[40];
	unsigned i;

	fprintf(o, "%s: %" PRIu64 " bytes virtual\n", bsw_disk_path(d), bsw_disk_size(d));
	for (i = 0; i < bsw_disk_nr_layers(d); i++) {
		const struct bsw_layer_info *l = bsw_disk_layer(d, i);

		fprintf(o, "  layer %u: %s %s %s, virtual %" PRIu64 ", file %" PRIu64, i, l->path,
			l->format, l->subformat, l->virtual_size, l->file_size);
		if (l->block_size)
			fprintf(o, ", block %" PRIu32, l->block_size);
		fprintf(o, ", sectors %" PRIu32 "/%" PRIu32 "%s\n", l->logical_sector,
			l->physical_sector, l->log_replayed ? ", log replayed in memory" : "");
		if (i)
			fprintf(o, "    found by %s (\"%s\"), identity %s\n", l->found_by,
				l->locator,
				l->identity_ok == 1 ? "matches" :
				l->identity_ok == 0 ? "MISMATCH" :
						      "not checkable");
	}
	fprintf(o, "  partition table: %s", scheme);
	if (bsw_disk_gpt_guid(d)) {
		bsw_guid_str(bsw_disk_gpt_guid(d), g);
		fprintf(o, ", disk GUID %s", g);
		if (bsw_disk_gpt_backup_used(d))
			fputs(" (backup header used)", o);
	} else if (!strcmp(scheme, "mbr")) {
		fprintf(o, ", signature %08" PRIx32, bsw_disk_mbr_signature(d));
	}
	fputc('\n', o);
	for (i = 0; i < bsw_disk_nr_parts(d); i++) {
		const struct bsw_part *p = bsw_disk_part(d, i);

		fprintf(o, "  %2u  start %12" PRIu64 "  size %12" PRIu64 "  fs %-9s", p->index,
			p->start, p->size, bsw_fs_name(p->fs));
		if (!strcmp(p->scheme, "gpt")) {
			const char *tn = bsw_gpt_type_name(p->type_guid);

			if (tn) {
				fprintf(o, "  %s", tn);
			} else {
				bsw_guid_str(p->type_guid, g);
				fprintf(o, "  type %s", g);
			}
			if (p->name[0])
				fprintf(o, " \"%s\"", p->name);
		} else if (!strcmp(p->scheme, "mbr")) {
			fprintf(o, "  type 0x%02x%s%s", p->mbr_type, p->active ? " active" : "",
				p->logical ? " logical" : "");
		}
		fputc('\n', o);
	}
	findings_text(o, r->image, r->fx);
}

/* ---- check ---- */

static const char *const check_state_names[] = {
	[BSW_CHECK_CLEAN] = "clean",
	[BSW_CHECK_DAMAGED] = "damaged",
	[BSW_CHECK_ENCRYPTED] = "encrypted",
	[BSW_CHECK_ERROR] = "error",
};

void bsw_report_check_json(FILE *o, const struct bsw_report_check *r)
{
	fputs("{\"image\":", o);
	bsw_json_str(o, r->image);
	fprintf(o, ",\"state\":\"%s\",", check_state_names[r->state]);
	findings_json(o, r->fx);
	provenance_json(o, BSW_SCHEMA_CHECK);
	fputs("}\n", o);
}

void bsw_report_check_text(FILE *o, const struct bsw_report_check *r)
{
	size_t nf = r->fx ? bsw_fx_count(r->fx) : 0;

	findings_text(o, r->image, r->fx);
	switch (r->state) {
	case BSW_CHECK_CLEAN:
		/* e2fsck's one line for a clean volume */
		if (nf)
			fprintf(o, "%s: clean, %zu finding%s of no consequence\n", r->image, nf,
				nf == 1 ? "" : "s");
		else
			fprintf(o, "%s: clean, no findings\n", r->image);
		break;
	case BSW_CHECK_DAMAGED:
		fprintf(o, "%s: damaged, %zu finding%s\n", r->image, nf, nf == 1 ? "" : "s");
		break;
	case BSW_CHECK_ENCRYPTED: fprintf(o, "%s: encrypted, not checked\n", r->image); break;
	case BSW_CHECK_ERROR:
		fprintf(o, "%s: not checked (see the message above)\n", r->image);
		break;
	}
}

/* ---- hive ---- */

void bsw_report_hive_json(FILE *o, const struct bsw_report_hive *r)
{
	unsigned i;

	fputs("{\"file\":", o);
	bsw_json_str(o, r->file);
	fputs(",\"state\":", o);
	bsw_json_str(o, r->state);
	fprintf(o, "%s,\"logs\":[", r->ktm ? ",\"ktm\":true" : "");
	for (i = 0; i < r->nr_logs; i++) {
		if (i)
			fputc(',', o);
		bsw_json_str(o, r->logs[i]);
	}
	fputs("],", o);
	findings_json(o, r->fx);
	provenance_json(o, BSW_SCHEMA_HIVE);
	fputs("}\n", o);
}

void bsw_report_hive_text(FILE *o, const struct bsw_report_hive *r)
{
	fprintf(o, "%s: %s\n", r->file, r->logs_missing ? "dirty, logs not supplied" : r->state);
	findings_text(o, r->file, r->fx);
}

void bsw_report_stats_json(FILE *o, const struct bsw_report_stats *s)
{
	fprintf(o,
		"{\"disks\":%" PRIu64 ",\"verdicts\":{\"clean\":%" PRIu64
		",\"dirty-rollback\":%" PRIu64 ",\"unbootable\":%" PRIu64
		",\"unassessable\":%" PRIu64 "},\"errors\":%" PRIu64 ",\"bytes_read\":%" PRIu64
		",\"wall_ms\":%" PRIu64,
		s->disks, s->verdicts[BSW_V_NONE], s->verdicts[BSW_V_ROLLBACK],
		s->verdicts[BSW_V_UNBOOT], s->verdicts[BSW_V_UNASSESS], s->errors, s->bytes_read,
		s->wall_ms);
	fprintf(o,
		",\"share\":{\"enabled\":%s,\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
		",\"inserts\":%" PRIu64 ",\"evictions\":%" PRIu64 ",\"bytes\":%" PRIu64
		",\"peak\":%" PRIu64 ",\"cap\":%" PRIu64 ",\"layers\":%" PRIu64 "}",
		s->share_on ? "true" : "false", s->hits, s->misses, s->inserts, s->evictions,
		s->share_bytes, s->share_peak, s->share_cap, s->layers);
	if (s->cache_on) {
		static const char *const names[] = BSW_REPORT_CACHE_NAMES;
		unsigned i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			fprintf(o, "%s\"%s\":%" PRIu64, i ? "," : ",\"cache\":{", names[i],
				s->cache[i]);
		fputc('}', o);
	}
	fprintf(o, ",\"schema\":\"%s\",\"version\":\"%s\"}", BSW_SCHEMA_STATS, bsw_version);
}

void bsw_report_query_json(FILE *o, const char *image, const char *verdict,
			   const char *const *evidence, size_t nr)
{
	size_t i;

	fputs("{\"image\":", o);
	bsw_json_str(o, image);
	fputs(",\"verdict\":", o);
	bsw_json_str(o, verdict);
	fputs(",\"evidence\":[", o);
	for (i = 0; i < nr; i++) {
		if (i)
			fputc(',', o);
		bsw_json_str(o, evidence[i]);
	}
	fprintf(o, "],\"schema\":\"%s\",\"version\":\"%s\"}", BSW_SCHEMA_QUERY, bsw_version);
}
