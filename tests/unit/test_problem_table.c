/*
 * Self-check of the finding table (e2fsck's verify_problem_table, extended):
 * ids unique; the id's format byte matches the name's format; every
 * placeholder in a message is known; codes are non-empty catalogue-style
 * strings; severities and verdicts in range; message rendering substitutes.
 */
#include <ctype.h>
#include <string.h>

#include "formats/common/finding.h"
#include "tests/unit/t_helpers.h"

static const struct { const char *prefix; unsigned ff; } fmt_bytes[] = {
	{ "PR_0_", 0x00 }, { "PR_VHD_", 0x01 }, { "PR_VHDX_", 0x02 },
	{ "PR_NTFS", 0x03 }, { "PR_REG", 0x04 }, { "PR_PART_", 0x05 },
	{ "PR_DISK_", 0x06 }, { "PR_RAW_", 0x06 }, { "PR_FAT_", 0x07 },
	{ "PR_BCD_", 0x08 }, { "PR_BOOT_", 0x08 }, { "PR_SVC_", 0x09 },
	{ "PR_SXS_", 0x0A },
};

static const char *const placeholders[] = { "off", "lba", "rec", "cell", "n",
	"n2", "xn", "xn2", "str", "str2" };

int main(void)
{
	for (unsigned i = 0; i < BSW_PROBLEM_COUNT; i++) {
		const struct bsw_problem_info *a = bsw_problem_info(i);
		const char *m;

		T_CHECK(a && a->name && a->code && a->message, "row %u incomplete", i);
		if (!a || !a->name || !a->code || !a->message)
			continue;
		for (unsigned j = i + 1; j < BSW_PROBLEM_COUNT; j++)
			T_CHECK(bsw_problem_info(j)->id != a->id,
				"%s and %s share id 0x%06x", a->name,
				bsw_problem_info(j)->name, a->id);
		for (size_t k = 0; k < (sizeof(fmt_bytes) / sizeof(fmt_bytes[0])); k++)
			if (!strncmp(a->name, fmt_bytes[k].prefix, strlen(fmt_bytes[k].prefix)))
				T_CHECK((a->id >> 16) == fmt_bytes[k].ff,
					"%s: id 0x%06x not in format 0x%02x", a->name,
					a->id, fmt_bytes[k].ff);
		T_CHECK(strlen(a->code) >= 3, "%s: empty code", a->name);
		for (const char *c = a->code; *c; c++)
			T_CHECK(isupper((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-',
				"%s: code '%s' not of the catalogue form", a->name, a->code);
		T_CHECK(a->severity <= BSW_SEV_FATAL, "%s: severity", a->name);
		T_CHECK(a->verdict <= BSW_V_UNASSESS, "%s: verdict", a->name);
		for (m = strchr(a->message, '{'); m; m = strchr(m + 1, '{')) {
			const char *e = strchr(m, '}');
			int known = 0;

			T_CHECK(e != NULL, "%s: unterminated placeholder", a->name);
			if (!e)
				break;
			for (size_t k = 0; k < (sizeof(placeholders) / sizeof(placeholders[0])); k++)
				if ((size_t)(e - m - 1) == strlen(placeholders[k]) &&
				    !strncmp(m + 1, placeholders[k], e - m - 1))
					known = 1;
			T_CHECK(known, "%s: unknown placeholder in '%s'", a->name, a->message);
		}
	}

	/* Rendering, suppression and ordering through a collector. */
	struct bsw_fx *fx;
	char buf[256];

	T_CHECK(bsw_fx_create(&fx) == 0, "fx");
	BSW_REPORT(fx, PR_0_DISK_ENCRYPTED, .n = 3, .str = "-FVE-FS-");
	BSW_REPORT(fx, PR_0_IMAGE_UNREADABLE, .str = "boom");
	for (int i = 0; i < 5; i++)
		BSW_REPORT(fx, PR_0_LIMIT_TIME, .n = 60);
	bsw_fx_finish(fx);
	T_CHECK(bsw_fx_nr(fx, PR_0_LIMIT_TIME) == 5, "count");
	T_CHECK(bsw_fx_has_code(fx, "DISK-ENCRYPTED"), "has code");
	T_CHECK(bsw_fx_stopped(fx), "FATAL stops");
	/* 1 + 1 + 1 (max_count 1) + 1 suppressed notice */
	T_CHECK(bsw_fx_count(fx) == 4, "count %zu", bsw_fx_count(fx));
	for (size_t i = 0; i < bsw_fx_count(fx); i++) {
		const struct bsw_finding *f = bsw_fx_get(fx, i);

		if (f->problem == PR_0_DISK_ENCRYPTED) {
			bsw_finding_message(f, buf, sizeof(buf));
			T_CHECK(!strcmp(buf, "partition 3 is BitLocker-encrypted (-FVE-FS-); its contents cannot be checked"),
				"message '%s'", buf);
		}
		if (f->problem == PR_0_SUPPRESSED)
			T_CHECK(f->n == 4, "suppressed %lld", (long long)f->n);
		if (i)
			T_CHECK(strcmp(bsw_problem_info(bsw_fx_get(fx, i - 1)->problem)->code,
				       bsw_problem_info(f->problem)->code) <= 0, "sorted");
	}
	bsw_fx_destroy(fx);
	return T_DONE();
}
