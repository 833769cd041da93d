/*
 * Self-check of the finding table (e2fsck's verify_problem_table, extended):
 * ids unique; every name has a known prefix, and the id's format and pass
 * bytes match the name's format and pass; every
 * placeholder in a message is known; codes are non-empty catalogue-style
 * strings; severities and verdicts in range; message rendering substitutes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/finding.h"
#include "tests/unit/t_helpers.h"

/*
 * Every name prefix in use, with the format byte FF of its ids (0xFFPPNN).
 * Names of the form PR_<FMT>_<PASS>_... carry the pass: PASS is the PP byte
 * in hex (PR_NTFS_1_* is 0x0301NN, PR_NTFS3G_F0_* is 0x03F0NN).  The older
 * container and scanner names PR_<FF>_<...> carry the format byte instead
 * and have one pass, 00.  A row whose prefix is not listed here fails: a new
 * format adds its line.
 */
static const struct {
	const char *prefix;
	unsigned ff;
	int has_pass; /* the name's next token is the pass */
} fmt_bytes[] = {
	{ "PR_0_", 0x00, 0 },	    { "PR_1_VHD_", 0x01, 0 }, { "PR_2_VHDX_", 0x02, 0 },
	{ "PR_5_GPT_", 0x05, 0 },   { "PR_5_MBR_", 0x05, 0 }, { "PR_5_PART_", 0x05, 0 },
	{ "PR_6_CHAIN_", 0x06, 0 }, { "PR_NTFS_", 0x03, 1 },  { "PR_NTFS3G_", 0x03, 1 },
	{ "PR_REGF_", 0x04, 1 },    { "PR_FAT_", 0x07, 1 },   { "PR_BOOT_", 0x08, 1 },
	{ "PR_SVC_", 0x09, 1 },	    { "PR_SXS_", 0x0A, 1 },   { "PR_QCOW2_", 0x0B, 1 },
	{ "PR_VMDK_", 0x0C, 1 },
};

/*
 * What is wrong with the name of row (name, id), or NULL.  The message is in
 * a static buffer.
 */
static const char *name_error(const char *name, uint32_t id)
{
	static char msg[256];
	unsigned ff = id >> 16, pp = (id >> 8) & 0xff, pass;
	size_t k, n = sizeof(fmt_bytes) / sizeof(fmt_bytes[0]), len;
	const char *p;

	for (k = 0; k < n; k++)
		if (!strncmp(name, fmt_bytes[k].prefix, strlen(fmt_bytes[k].prefix)))
			break;
	if (k == n) {
		snprintf(msg, sizeof(msg), "%s: unknown name prefix (add it to fmt_bytes[])", name);
		return msg;
	}
	if (ff != fmt_bytes[k].ff) {
		snprintf(msg, sizeof(msg), "%s: id 0x%06x not in format 0x%02x", name, id,
			 fmt_bytes[k].ff);
		return msg;
	}
	if (!fmt_bytes[k].has_pass) {
		if (pp == 0)
			return NULL;
		snprintf(msg, sizeof(msg), "%s: id 0x%06x: pass byte 0x%02x, want 0x00", name, id,
			 pp);
		return msg;
	}
	/* PR_<FMT>_<PASS>_<WHAT>: PASS is 1 or 2 upper-case hex digits */
	p = name + strlen(fmt_bytes[k].prefix);
	len = strspn(p, "0123456789ABCDEF");
	if (len < 1 || len > 2 || p[len] != '_' || !p[len + 1]) {
		snprintf(msg, sizeof(msg), "%s: no pass after %s (PR_<FMT>_<PASS>_...)", name,
			 fmt_bytes[k].prefix);
		return msg;
	}
	pass = (unsigned)strtoul(p, NULL, 16);
	if (pass != pp) {
		snprintf(msg, sizeof(msg),
			 "%s: id 0x%06x: pass byte 0x%02x, the name says pass %.*s", name, id, pp,
			 (int)len, p);
		return msg;
	}
	return NULL;
}

static const char *const placeholders[] = { "off", "lba", "rec", "cell", "n",
					    "n2",  "xn",  "xn2", "str",	 "str2" };

int main(void)
{
	/* The name check itself: it must refuse each kind of mismatch. */
	static const struct {
		const char *name;
		uint32_t id;
		int ok;
	} names[] = {
		{ "PR_NTFS_1_MFT_X", 0x030105, 1 }, { "PR_NTFS_2_MFT_X", 0x030105, 0 },
		{ "PR_NTFS3G_F0_X", 0x03F001, 1 },  { "PR_NTFS3G_F1_X", 0x03F001, 0 },
		{ "PR_REGF_1_X", 0x030101, 0 },	    { "PR_NEWFMT_0_X", 0x0D0001, 0 },
		{ "PR_1_VHD_X", 0x010001, 1 },	    { "PR_1_VHD_X", 0x010101, 0 },
		{ "PR_SVC_X", 0x090001, 0 },	    { "PR_SVC_0", 0x090001, 0 },
		{ "PR_SVC_123_X", 0x090001, 0 },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		T_CHECK((name_error(names[i].name, names[i].id) == NULL) == names[i].ok,
			"name_error(%s, 0x%06x) should %s it", names[i].name, names[i].id,
			names[i].ok ? "accept" : "refuse");

	for (unsigned i = 0; i < BSW_PROBLEM_COUNT; i++) {
		const struct bsw_problem_info *a = bsw_problem_info(i);
		const char *m;

		T_CHECK(a && a->name && a->code && a->message, "row %u incomplete", i);
		if (!a || !a->name || !a->code || !a->message)
			continue;
		for (unsigned j = i + 1; j < BSW_PROBLEM_COUNT; j++)
			T_CHECK(bsw_problem_info(j)->id != a->id, "%s and %s share id 0x%06x",
				a->name, bsw_problem_info(j)->name, a->id);
		m = name_error(a->name, a->id);
		T_CHECK(m == NULL, "%s", m);
		T_CHECK(strlen(a->code) >= 3, "%s: empty code", a->name);
		for (const char *c = a->code; *c; c++)
			T_CHECK(isupper((unsigned char)*c) || isdigit((unsigned char)*c) ||
					*c == '-',
				"%s: code '%s' not of the catalogue form", a->name, a->code);
		T_CHECK(a->severity <= BSW_SEV_FATAL, "%s: severity", a->name);
		T_CHECK(a->verdict <= BSW_V_UNASSESS, "%s: verdict", a->name);
		for (m = strchr(a->message, '{'); m; m = strchr(m + 1, '{')) {
			const char *e = strchr(m, '}');
			int known = 0;

			T_CHECK(e != NULL, "%s: unterminated placeholder", a->name);
			if (!e)
				break;
			for (size_t k = 0; k < (sizeof(placeholders) / sizeof(placeholders[0]));
			     k++)
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
			T_CHECK(!strcmp(buf,
					"partition 3 is BitLocker-encrypted (-FVE-FS-); its contents cannot be checked"),
				"message '%s'", buf);
		}
		if (f->problem == PR_0_SUPPRESSED)
			T_CHECK(f->n == 4, "suppressed %lld", (long long)f->n);
		if (i)
			T_CHECK(strcmp(bsw_problem_info(bsw_fx_get(fx, i - 1)->problem)->code,
				       bsw_problem_info(f->problem)->code) <= 0,
				"sorted");
	}
	bsw_fx_destroy(fx);
	return T_DONE();
}
