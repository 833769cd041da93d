/*
 * scanner/rules.c: the glob matcher (cases and its bound on a pathological
 * pattern), the one-line condition language, and rule evaluation against a
 * made-up environment: exists:false, any/all, registry comparisons
 * (numbers, versions, strings), package states and KB tokens, file tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scanner/rules.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);                    \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

/* ---- a fake disk --------------------------------------------------------- */
static const struct {
	const char *id;
	uint32_t st;
} pkgs[] = {
	{ "Package_for_KB5034441~31bf3856ad364e35~amd64~~19041.3920.1.1", 0x65 },
	{ "Package_for_KB50344410~31bf3856ad364e35~amd64~~1.0", 0x70 },
	{ "Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.4000.1.1", 0xFFFFFF90 },
};

static int f_packages(void *ctx, bsw_rpkg_fn fn, void *arg)
{
	for (size_t i = 0; i < sizeof(pkgs) / sizeof(pkgs[0]); i++)
		if (fn(arg, pkgs[i].id, pkgs[i].st))
			break;
	return 0;
}

static int f_files(void *ctx, const char *glob, unsigned need, bsw_rfile_fn fn, void *arg)
{
	struct bsw_rfile a = {
		.path = "\\Windows\\System32\\drivers\\CrowdStrike\\C-00000291-0-1.sys",
		.size = 4096,
		.have_zero = true,
		.all_zero = true,
		.have_mtime = true,
		.mtime = 1721363400
	};
	struct bsw_rfile b = { .path = "\\Windows\\System32\\drivers\\disk.sys",
			       .size = 9216,
			       .have_zero = true,
			       .all_zero = false,
			       .have_pe_version = true,
			       .pe_version = (10ull << 48) | (0ull << 32) | (20348ull << 16) | 2849,
			       .have_mtime = true,
			       .mtime = 1700000000 };

	if (bsw_glob_match(glob, a.path) && fn(arg, &a))
		return 0;
	if (bsw_glob_match(glob, b.path))
		fn(arg, &b);
	return 0;
}

static int f_reg(void *ctx, const char *hive, const char *key, const char *value,
		 struct bsw_hval *out)
{
	static const uint8_t ubr[4] = { 0xC7, 0x1D, 0, 0 }; /* 7623 */
	static const char ver[] =
		"1\0000\0.\0000\0.\0001\0009\0000\0004\0001\0.\0003\0008\0000\0003\0\0";

	if (strcmp(hive, "SOFTWARE") || strcmp(key, "Microsoft\\Windows NT\\CurrentVersion"))
		return -ENOENT;
	if (!value)
		return 0;
	if (!strcmp(value, "UBR")) {
		out->type = 4;
		out->data = malloc(4);
		memcpy(out->data, ubr, 4);
		out->len = 4;
		return 0;
	}
	if (!strcmp(value, "WinREVersion")) {
		out->type = 1;
		out->len = sizeof(ver) - 1;
		out->data = malloc(out->len);
		memcpy(out->data, ver, out->len);
		return 0;
	}
	return -ENOENT;
}

static bool f_code(void *ctx, const char *c)
{
	return !strcmp(c, "BOOT-DRV");
}

/* The ids a rule text matches on the fake disk, comma-joined into out. */
static int matches(const char *yaml, char *out, size_t len)
{
	struct bsw_rules *rs = NULL;
	struct bsw_renv env = { .files = f_files,
				.reg = f_reg,
				.packages = f_packages,
				.has_code = f_code,
				.now = 1783512000 };
	char err[512], *buf = NULL;
	size_t blen = 0;
	FILE *m;
	int bits;

	if (bsw_rules_parse(&rs, yaml, strlen(yaml), "t.yaml", err, sizeof(err))) {
		fprintf(stderr, "parse: %s\n", err);
		bsw_rules_free(rs);
		return -1;
	}
	m = open_memstream(&buf, &blen);
	bits = bsw_rules_eval_json(rs, &env, m);
	fclose(m);
	out[0] = 0;
	for (char *p = buf; (p = strstr(p, "{\"id\":\""));) {
		char *e;

		p += 7;
		e = strchr(p, '"');
		snprintf(out + strlen(out), len - strlen(out), "%s%.*s", out[0] ? "," : "",
			 (int)(e - p), p);
	}
	free(buf);
	bsw_rules_free(rs);
	return bits;
}

#define HDR "version: 1\nrules:\n"
#define R(id, cond)                                                                                                        \
	"  - id: " id                                                                                                      \
	"\n    description: d\n    source: https://e.org\n    label: l\n    severity: low\n    conditions:\n      - " cond \
	"\n"

int main(void)
{
	char got[512], err[256];
	struct bsw_rules *rs = NULL;
	struct timespec t0, t1;
	char *s;
	int bits;

	/* globs */
	CHECK(bsw_glob_match("C-00000291*.sys", "c-00000291-00000000-00000032.SYS"));
	CHECK(!bsw_glob_match("C-00000291*.sys", "C-00000290-1.sys"));
	CHECK(bsw_glob_match("*", ""));
	CHECK(bsw_glob_match("a?c", "abc") && !bsw_glob_match("a?c", "ac"));
	CHECK(bsw_glob_match("*a*b", "xxaxxb") && !bsw_glob_match("*a*b", "xxaxxbx"));
	CHECK(!bsw_glob_match("abc", "ab") && !bsw_glob_match("ab", "abc"));
	/* 16 stars against 100 KB that almost match: bounded, no backtracking blow-up */
	s = malloc(100001);
	memset(s, 'a', 100000);
	s[100000] = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(!bsw_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", s));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2000);
	free(s);

	/* the one-line language */
	CHECK(!bsw_rules_add_query(&rs, "pkg:KB5034441=partially-installed and code:BOOT-DRV", err,
				   sizeof(err)));
	CHECK(bsw_rules_add_query(&rs, "kb:1", err, sizeof(err)) == -EINVAL); /* one query only */
	bsw_rules_free(rs);
	rs = NULL;
	CHECK(bsw_rules_add_query(&rs, "pkg:x=sideways", err, sizeof(err)) == -EINVAL &&
	      strstr(err, "state"));
	CHECK(bsw_rules_add_query(&rs, "kb:abc", err, sizeof(err)) == -EINVAL);
	CHECK(bsw_rules_add_query(&rs, "file:relative", err, sizeof(err)) == -EINVAL);
	CHECK(bsw_rules_add_query(&rs, "reg:NTUSER\\x", err, sizeof(err)) == -EINVAL);
	CHECK(bsw_rules_count(rs) == 0);
	bsw_rules_free(rs);
	rs = NULL;
	CHECK(!bsw_rules_add_query(&rs, "reg:SYSTEM\\Select\\\\Default=1", err, sizeof(err)));
	CHECK(bsw_rules_need_registry(rs));
	bsw_rules_free(rs);

	/* evaluation */
	bits = matches(HDR R("kb", "package: { kb: 5034441, state: partially-installed }") R(
			       "kb-token", "package: { kb: 503444, state: installed }")
			       R("lcu-failed",
				 "package: { name: 'package_for_rollupfix*', state: [failed] }")
				       R("kb-absent", "package: { kb: 5077181, exists: false }")
					       R("kb-not-absent",
						 "package: { kb: 5034441, exists: false }"),
		       got, sizeof(got));
	CHECK(!strcmp(got, "kb,lcu-failed,kb-absent"));
	CHECK(bits == BSW_EXIT_RULE);
	matches(HDR R("ubr",
		      "registry: { hive: SOFTWARE, key: 'Microsoft\\Windows NT\\CurrentVersion', value: UBR, equals: '7623' }")
			R("ubr-min",
			  "registry: { hive: SOFTWARE, key: 'Microsoft\\Windows NT\\CurrentVersion', value: UBR, min: '7624' }")
				R("winre",
				  "registry: { hive: SOFTWARE, key: 'Microsoft\\Windows NT\\CurrentVersion', value: WinREVersion, version_below: 10.0.19041.3920 }")
					R("winre-ok",
					  "registry: { hive: SOFTWARE, key: 'Microsoft\\Windows NT\\CurrentVersion', value: WinREVersion, version_min: 10.0.19041.3920 }")
						R("winre-glob",
						  "registry: { hive: SOFTWARE, key: 'Microsoft\\Windows NT\\CurrentVersion', value: WinREVersion, glob: '10.0.19041.*' }")
							R("nokey",
							  "registry: { hive: SYSTEM, key: x, exists: false }"),
		got, sizeof(got));
	CHECK(!strcmp(got, "ubr,winre,winre-glob,nokey"));
	bits = matches(
		HDR R("cs-zero", "file: { path: '\\Windows\\System32\\drivers\\CrowdStrike\\C-00000291*.sys', size_min: 1, all_zero: true }") "    verdict: unbootable\n" R(
			"cs-window",
			"file: { path: '\\Windows\\System32\\drivers\\CrowdStrike\\C-00000291*.sys', mtime_min: 2024-07-19T04:09:00Z, mtime_max: 2024-07-19T05:26:59Z }")
			R("cs-after",
			  "file: { path: '\\Windows\\System32\\drivers\\CrowdStrike\\C-00000291*.sys', mtime_min: 2024-07-19T05:27:00Z }")
				R("ver",
				  "file: { path: '\\Windows\\*\\drivers\\*.sys', pe_version_min: 10.0.20348.2849, pe_version_below: 10.0.20348.2850 }")
					R("old",
					  "file: { path: '\\Windows\\System32\\drivers\\disk.sys', age_days_min: 365 }")
						R("gone",
						  "file: { path: '\\Windows\\System32\\drivers\\nothere.sys', exists: false }")
							R("any",
							  "any: [ {finding: {code: NOPE}}, {finding: {code: BOOT-DRV}} ]")
								R("all",
								  "all: [ {finding: {code: NOPE}}, {finding: {code: BOOT-DRV}} ]"),
		got, sizeof(got));
	CHECK(!strcmp(got, "cs-zero,cs-window,ver,old,gone,any"));
	{
		/* evidence: a failed all: inside any: leaves nothing behind */
		struct bsw_rules *r2 = NULL;
		struct bsw_renv env = { .files = f_files,
					.reg = f_reg,
					.packages = f_packages,
					.has_code = f_code,
					.now = 1783512000 };
		static const char y[] = HDR R(
			"ev",
			"any: [ {all: [ {finding: {code: BOOT-DRV}}, {finding: {code: NOPE}} ]}, {package: {kb: 5034441}} ]");
		char *buf = NULL;
		size_t blen = 0;
		FILE *m;

		CHECK(!bsw_rules_parse(&r2, y, sizeof(y) - 1, "t", err, sizeof(err)));
		m = open_memstream(&buf, &blen);
		bsw_rules_eval_json(r2, &env, m);
		fclose(m);
		CHECK(strstr(buf, "KB5034441") && !strstr(buf, "BOOT-DRV"));
		free(buf);
		bsw_rules_free(r2);
	}
	CHECK(bits == (BSW_EXIT_RULE | 4));
	{
		static const char l1[] =
			"{\"image\":\"x\",\"rules\":[{\"id\":\"a\",\"implies\":\"dirty-rollback\"}]}";
		static const char l2[] = "{\"image\":\"x\",\"rules\":[]}";

		CHECK(bsw_rules_line_bits(l1, sizeof(l1) - 1) == (BSW_EXIT_RULE | 2));
		CHECK(bsw_rules_line_bits(l2, sizeof(l2) - 1) == 0);
	}
	CHECK(!strcmp(bsw_pkg_state_name(0xFFFFFFC0), "failed") &&
	      !strcmp(bsw_pkg_state_name(0x65), "partially-installed"));
	if (fails)
		fprintf(stderr, "test_rules: %d failures\n", fails);
	else
		printf("test_rules: PASS\n");
	return fails ? 1 : 0;
}
