/*
 * The report module: every JSON rendering of bootsweep's objects (a disk,
 * a finding, a chain, a partition) and the string escaping they share.
 * Nothing else writes JSON (docs/architecture.md, "Output").
 */
#include "formats/common/utf8.h"
#include "formats/part/part.h"
#include "scanner/checks/triage.h"
#include "scanner/cmds.h"
#include "scanner/report.h"

#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
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
	fprintf(out, ",\"id\":\"0x%06x\",\"severity\":\"%s\",\"implies\":\"%s\"",
		pi->id, bsw_severity_name(f->severity),
		bsw_verdict_name(f->verdict));
	fputs(",\"message\":", out);
	bsw_json_str(out, msg);
	if (f->scope) {
		fputs(",\"scope\":", out);
		bsw_json_str(out, f->scope);
	}
#define NUMF(field, fmt) \
	if (f->field || strstr(pi->message, "{" #field "}")) \
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

/* ---- the result line of one disk (scan) ---- */

/* FILETIME (100 ns since 1601) or Unix seconds as ISO 8601 UTC; false if absurd. */
static bool iso_time(int64_t unix_s, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)unix_s;

	if (unix_s <= 0 || unix_s > 32503680000LL || !gmtime_r(&tt, &tm))
		return false;
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return true;
}

static void json_kv_str(FILE *o, bool *first, const char *k, const char *v)
{
	fprintf(o, "%s\"%s\":", *first ? "" : ",", k);
	bsw_json_str(o, v);
	*first = false;
}

/*
 * Who this disk is: the container's own id, the partition table's identity,
 * and the Windows installation's as its hives say (product, edition, build
 * and UBR, computer name, install date, last shutdown).  Only what was
 * found is written.
 */
static void json_identity(struct bsw_tctx *t, FILE *o, const char *path)
{
	static const char cv[] = "Microsoft\\Windows NT\\CurrentVersion";
	static const uint8_t zero[16];
	char buf[256], key[128];
	struct stat st;
	bool first = true;
	uint32_t dw;
	struct bsw_hval hv = { 0 };

	if (!stat(path, &st)) {
		fprintf(o, ",\"image_size\":%lld", (long long)st.st_size);
		if (iso_time(st.st_mtim.tv_sec, buf, sizeof(buf)))
			fprintf(o, ",\"image_mtime\":\"%s\"", buf);
	}
	fputs(",\"identity\":{", o);
	if (t->d && bsw_disk_nr_layers(t->d) &&
	    memcmp(bsw_disk_layer(t->d, 0)->id, zero, 16)) {
		bsw_guid_str(bsw_disk_layer(t->d, 0)->id, buf);
		json_kv_str(o, &first, "container_id", buf);
	}
	if (t->d && bsw_disk_gpt_guid(t->d)) {
		bsw_guid_str(bsw_disk_gpt_guid(t->d), buf);
		json_kv_str(o, &first, "disk_guid", buf);
	} else if (t->d && !strcmp(bsw_disk_scheme(t->d), "mbr")) {
		snprintf(buf, sizeof(buf), "0x%08" PRIx32, bsw_disk_mbr_signature(t->d));
		json_kv_str(o, &first, "mbr_signature", buf);
	}
	fputc('}', o);
	if (!t->software && !t->system)
		return;
	first = true;
	fputs(",\"windows\":{", o);
	if (t->software) {
		static const struct { const char *v, *k; } sz[] = {
			{ "ProductName", "product" }, { "EditionID", "edition" },
			{ "CurrentBuildNumber", "build" }, { "DisplayVersion", "display_version" },
		};

		for (size_t i = 0; i < sizeof(sz) / sizeof(sz[0]); i++)
			if (!bsw_hive_get_sz(t->software, cv, sz[i].v, buf, sizeof(buf)))
				json_kv_str(o, &first, sz[i].k, buf);
		if (!bsw_hive_get_dword(t->software, cv, "UBR", &dw)) {
			fprintf(o, "%s\"ubr\":%" PRIu32, first ? "" : ",", dw);
			first = false;
		}
		if (!bsw_hive_get_dword(t->software, cv, "InstallDate", &dw) &&
		    iso_time(dw, buf, sizeof(buf)))
			json_kv_str(o, &first, "install_date", buf);
	}
	if (t->system && t->cs[0]) {
		snprintf(key, sizeof(key), "%s\\Control\\ComputerName\\ComputerName", t->cs);
		if (!bsw_hive_get_sz(t->system, key, "ComputerName", buf, sizeof(buf)))
			json_kv_str(o, &first, "computer_name", buf);
		snprintf(key, sizeof(key), "%s\\Control\\Windows", t->cs);
		if (!bsw_hive_get_raw(t->system, key, "ShutdownTime", &hv) && hv.len == 8) {
			uint64_t ft = 0;

			for (int i = 7; i >= 0; i--)
				ft = ft << 8 | hv.data[i];
			/* FILETIME: 100 ns ticks since 1601-01-01 */
			if (ft > 116444736000000000ULL &&
			    iso_time((int64_t)((ft - 116444736000000000ULL) / 10000000ULL), buf, sizeof(buf)))
				json_kv_str(o, &first, "last_shutdown", buf);
		}
		bsw_hval_free(&hv);
	}
	fputc('}', o);
}

void bsw_report_disk_json(FILE *o, struct bsw_tctx *t, const char *path,
			  const struct bsw_triage_result *res,
			  const char **codes, unsigned nr_codes)
{
	const struct bsw_store_counts *s = &res->store;
	unsigned i;
	size_t k;

	fputs("{\"image\":", o);
	bsw_json_str(o, path);
	fprintf(o, ",\"verdict\":\"%s\",\"decided_by\":[",
		bsw_verdict_name(res->verdict));
	for (i = 0; i < nr_codes; i++) {
		if (i)
			fputc(',', o);
		bsw_json_str(o, codes[i]);
	}
	fputc(']', o);
	if (res->error) {
		fputs(",\"error\":", o);
		bsw_json_str(o, res->errmsg);
	}
	fputs(",\"findings\":[", o);
	for (k = 0; k < bsw_fx_count(t->fx); k++) {
		if (k)
			fputc(',', o);
		bsw_finding_json(bsw_fx_get(t->fx, k), o);
	}
	fputs("],\"chain\":[", o);
	for (i = 0; t->d && i < bsw_disk_nr_layers(t->d); i++) {
		const struct bsw_layer_info *l = bsw_disk_layer(t->d, i);

		if (i)
			fputc(',', o);
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
		fputc('}', o);
	}
	fputs("],\"partitions\":[", o);
	for (i = 0; t->d && i < bsw_disk_nr_parts(t->d); i++) {
		const struct bsw_part *p = bsw_disk_part(t->d, i);

		if (i)
			fputc(',', o);
		fprintf(o, "{\"index\":%u,\"scheme\":\"%s\",\"start\":%" PRIu64
			",\"size\":%" PRIu64 ",\"fs\":\"%s\"%s%s%s}",
			p->index, p->scheme, p->start, p->size,
			bsw_fs_name(p->fs), p->esp ? ",\"esp\":true" : "",
			p->active ? ",\"active\":true" : "",
			p == t->wp ? ",\"windows\":true" : "");
	}
	fputc(']', o);
	if (t->wp)
		fprintf(o, ",\"windows_partition\":%u,\"boot\":\"%s\"",
			t->wp->index, t->uefi ? "uefi" : "bios");
	json_identity(t, o, path);
	t->rule_bits = bsw_inv_json(t, o);	/* --inventory, --rules */
	fprintf(o, ",\"store\":{\"manifests\":%" PRIu64 ",\"plain\":%" PRIu64
		",\"dcm_not_verifiable\":%" PRIu64 ",\"bad\":%" PRIu64
		",\"s256h_checked\":%" PRIu64 ",\"s256h_bad\":%" PRIu64
		",\"files_checked\":%" PRIu64 ",\"files_ok\":%" PRIu64
		",\"files_bad\":%" PRIu64 ",\"files_missing\":%" PRIu64
		",\"files_no_digest\":%" PRIu64 ",\"links_bad\":%" PRIu64 "}",
		s->manifests, s->plain, s->dcm, s->bad, s->s256h_checked,
		s->s256h_bad, s->files_checked, s->files_ok, s->files_bad,
		s->files_missing, s->files_nodigest, s->links_bad);
	fprintf(o, ",\"bytes_read\":%" PRIu64, res->bytes_read);
	fputs(",\"timings_ms\":{", o);
	for (i = 0; i < BSW_T_COUNT; i++)
		fprintf(o, "\"%s\":%" PRIu64 ",", bsw_timing_names[i], t->ms[i]);
	fprintf(o, "\"total\":%" PRIu64 "}", res->ms_total);
	/* provenance: which bootsweep, which sweep */
	fprintf(o, ",\"schema\":\"%s\",\"version\":\"%s\"", BSW_DISK_SCHEMA, bsw_version);
	if (t->o->scan_start)
		fprintf(o, ",\"scan_start\":\"%s\"", t->o->scan_start);
	fputc('}', o);
}
