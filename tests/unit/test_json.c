/*
 * scanner/json.c, the reader of result files: what it accepts, what it
 * refuses (and where), its caps, and that it gives back the bytes
 * bsw_json_str wrote.  And the report module (scanner/report.c) from plain
 * data: scan's error line byte for byte, the identity members, the text
 * line of a finding, and documents that parse with "schema" and "version".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/cmds.h"
#include "scanner/json.h"
#include "formats/common/finding.h"
#include "scanner/report.h"

static int fails;

#define CHECK(c, ...)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static int parse(const char *s, struct bsw_jval *v, size_t *where)
{
	return bsw_json_parse(s, strlen(s), v, where);
}

/* what one of the report's renderers writes, as a string (free it) */
#define RENDER(buf, call)                                                                          \
	do {                                                                                       \
		size_t len_ = 0;                                                                   \
		FILE *o = open_memstream(&(buf), &len_);                                           \
		if (!o)                                                                            \
			abort();                                                                   \
		call;                                                                              \
		fclose(o);                                                                         \
	} while (0)

static void test_report(void)
{
	const char *codes[] = { "DISK-UNREADABLE" };
	struct bsw_report_identity id = {
		.have_file = true,
		.image_size = 4096,
		.image_mtime = 1700000000,
		.disk_guid = "4dccc148-ba8b-4c1e-afbb-f4d4829d7ad0",
		.mbr_signature = "0x12345678", /* not written: the disk is GPT */
		.windows = true,
		.have_product = true,
		.product = "",
		.have_ubr = true,
		.ubr = 7,
		.install_date = -5, /* absurd: left out */
		.last_shutdown = 1783512000,
	};
	struct bsw_report_disk r = { 0 };
	struct bsw_report_hive h = { 0 };
	struct bsw_fx *fx;
	char *buf = NULL, want[1024];
	struct bsw_jval v;

	if (bsw_fx_create(&fx))
		abort();
	BSW_REPORT(fx, PR_0_IMAGE_UNREADABLE, .str = "not a regular file");
	bsw_fx_finish(fx);

	/* scan's error line: a disk line with only the members it has */
	r.image = "/s/x.vhd";
	r.verdict = BSW_V_UNASSESS;
	r.decided_by = codes;
	r.nr_decided_by = 1;
	r.error = "not a regular file";
	r.fx = fx;
	r.scan_start = "2026-12-01T00:00:00Z";
	RENDER(buf, bsw_report_disk_json(o, &r));
	snprintf(
		want, sizeof(want),
		"{\"image\":\"/s/x.vhd\",\"verdict\":\"unassessable\",\"decided_by\":[\"DISK-UNREADABLE\"],"
		"\"error\":\"not a regular file\",\"findings\":[{\"code\":\"DISK-UNREADABLE\","
		"\"name\":\"PR_0_IMAGE_UNREADABLE\",\"id\":\"0x000002\",\"severity\":\"fatal\","
		"\"implies\":\"unassessable\",\"message\":\"image cannot be read: not a regular file\","
		"\"str\":\"not a regular file\"}],\"chain\":[],\"partitions\":[],\"bytes_read\":0,"
		"\"schema\":\"bootsweep.disk/1\",\"version\":\"%s\",\"scan_start\":\"2026-12-01T00:00:00Z\"}",
		bsw_version);
	CHECK(!strcmp(buf, want), "error line:\n%s\nwant\n%s", buf, want);
	free(buf);

	/* the identity: only what was found; an empty value found is written */
	r.id = &id;
	r.scan_start = NULL;
	RENDER(buf, bsw_report_disk_json(o, &r));
	CHECK(strstr(buf, ",\"bytes_read\":0,\"schema\"") && !strstr(buf, "scan_start") &&
		      !strstr(buf, "timings_ms") && !strstr(buf, "store"),
	      "members left out: %s", buf);
	CHECK(strstr(buf, ",\"image_size\":4096,\"image_mtime\":\"2023-11-14T22:13:20Z\","
			  "\"identity\":{\"disk_guid\":\"4dccc148-ba8b-4c1e-afbb-f4d4829d7ad0\"},"
			  "\"windows\":{\"product\":\"\",\"ubr\":7,"
			  "\"last_shutdown\":\"2026-07-08T12:00:00Z\"}"),
	      "identity: %s", buf);
	CHECK(!bsw_json_parse(buf, strlen(buf), &v, NULL), "disk line does not parse: %s", buf);
	bsw_json_free(&v);
	free(buf);

	/* one text line per finding, the same whichever command prints it */
	RENDER(buf, bsw_finding_text(o, "a.img", bsw_fx_get(fx, 0)));
	CHECK(!strcmp(buf,
		      "a.img: fatal DISK-UNREADABLE -: image cannot be read: not a regular file\n"),
	      "text line: %s", buf);
	free(buf);
	RENDER(buf, bsw_report_check_text(o, &(struct bsw_report_check){ .image = "a.img",
									 .state = BSW_CHECK_DAMAGED,
									 .fx = fx }));
	CHECK(!strcmp(buf,
		      "a.img: fatal DISK-UNREADABLE -: image cannot be read: not a regular file\n"
		      "a.img: damaged, 1 finding\n"),
	      "check text: %s", buf);
	free(buf);

	/* check and hive documents: image or file first, schema and version last */
	RENDER(buf, bsw_report_check_json(
			    o, &(struct bsw_report_check){
				       .image = "a.img", .state = BSW_CHECK_ENCRYPTED, .fx = fx }));
	snprintf(want, sizeof(want), "\"schema\":\"bootsweep.check/1\",\"version\":\"%s\"}\n",
		 bsw_version);
	CHECK(!strncmp(buf, "{\"image\":\"a.img\",\"state\":\"encrypted\",\"findings\":[{", 46) &&
		      strlen(buf) > strlen(want) && !strcmp(buf + strlen(buf) - strlen(want), want),
	      "check json: %s", buf);
	free(buf);
	h.file = "SYSTEM";
	h.state = "clean";
	RENDER(buf, bsw_report_hive_json(o, &h));
	snprintf(want, sizeof(want),
		 "{\"file\":\"SYSTEM\",\"state\":\"clean\",\"logs\":[],"
		 "\"findings\":[],\"schema\":\"bootsweep.hive/1\",\"version\":\"%s\"}\n",
		 bsw_version);
	CHECK(!strcmp(buf, want), "hive json: %s", buf);
	free(buf);
	h.logs_missing = true;
	h.state = "unrecoverable";
	RENDER(buf, bsw_report_hive_text(o, &h));
	CHECK(!strcmp(buf, "SYSTEM: dirty, logs not supplied\n"), "hive text: %s", buf);
	free(buf);
	bsw_fx_destroy(fx);
}

int main(void)
{
	static const char *const bad[] = {
		"",	 "{",	  "}",		"{\"a\"}",  "{\"a\":}",	  "{\"a\":1,}",
		"[1,]",	 "[1 2]", "01",		"-",	    "1.",	  "1e",
		"tru",	 "nul",	  "\"abc",	"\"a\\x\"", "\"a\\u12\"", "\"tab\there\"",
		"{1:2}", "[1] x", "{\"a\":1}{", "\"\\",	    "+1",	  ".5",
		"NaN",
	};
	struct bsw_jval v;
	size_t where = 0;
	char *deep;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i], &v, &where);

		CHECK(r == -EINVAL, "accepted: %s", bad[i]);
		CHECK(where <= strlen(bad[i]), "%s: where %zu", bad[i], where);
	}
	CHECK(parse("{\"a\":1,}", &v, &where) == -EINVAL && where == 7, "trailing comma at %zu",
	      where);

	CHECK(!parse(" {\"image\":\"d\\u00e9\\ud83d\\udcbe\\udce9\\u0000\",\"n\":-1.5e3,"
		     "\"t\":true,\"f\":false,\"z\":null,\"a\":[1,[2,{}],\"x\"]} ",
		     &v, &where),
	      "valid object refused at %zu", where);
	CHECK(v.type == BSW_J_OBJ && v.len == 6, "object members");
	CHECK(!strcmp(bsw_jstr(&v, "image", ""), "d\xc3\xa9\xf0\x9f\x92\xbe\xe9\xc0\x80"),
	      "string escapes: %s", bsw_jstr(&v, "image", ""));
	CHECK(bsw_jnum(&v, "n", 0) == -1500.0, "number");
	CHECK(bsw_jget(&v, "t")->b && !bsw_jget(&v, "f")->b &&
		      bsw_jget(&v, "z")->type == BSW_J_NULL,
	      "words");
	CHECK(bsw_jget(&v, "a")->len == 3 && bsw_jget(&v, "a")->items[1].items[1].type == BSW_J_OBJ,
	      "nesting");
	CHECK(!bsw_jget(&v, "missing") && !strcmp(bsw_jstr(&v, "n", "def"), "def"),
	      "type-checked getters");
	bsw_json_free(&v);

	/* depth cap: 32 levels parse, 200 do not (and do not recurse 200 deep) */
	deep = malloc(512);
	memset(deep, '[', 32);
	memset(deep + 32, ']', 32);
	deep[64] = 0;
	CHECK(!parse(deep, &v, NULL), "32 levels refused");
	bsw_json_free(&v);
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	deep[400] = 0;
	CHECK(parse(deep, &v, NULL) == -EINVAL, "200 levels accepted");
	free(deep);

	/* what bsw_json_str writes, the reader gives back byte for byte */
	{
		const char in[] = "caf\xe9 \"q\" \\ \n \x01 \xc0\x80 \xf0\x9f\x92\xbe";
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);

		bsw_json_str(m, in);
		fclose(m);
		CHECK(!bsw_json_parse(buf, len, &v, NULL), "own output refused: %s", buf);
		CHECK(v.type == BSW_J_STR && v.len == strlen(in) && !memcmp(v.str, in, v.len),
		      "round trip: %s", buf);
		bsw_json_free(&v);
		free(buf);
	}
	test_report();
	printf("%s\n", fails ? "FAILED" : "ok   test_json");
	return fails ? 1 : 0;
}
