/*
 * The report module: every JSON rendering of bootsweep's objects (a disk,
 * a finding, a chain, a partition) and the string escaping they share.
 * Nothing else writes JSON (docs/architecture.md, "Output").
 */
#include "formats/common/utf8.h"
#include "scanner/report.h"

#include <inttypes.h>
#include <string.h>

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
