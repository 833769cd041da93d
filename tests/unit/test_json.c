/*
 * scanner/json.c, the reader of result files: what it accepts, what it
 * refuses (and where), its caps, and that it gives back the bytes
 * bsw_json_str wrote.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/json.h"
#include "formats/common/finding.h"
#include "scanner/report.h"

static int fails;

#define CHECK(c, ...) do { if (!(c)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
	printf(__VA_ARGS__); printf("\n"); fails++; } } while (0)

static int parse(const char *s, struct bsw_jval *v, size_t *where)
{
	return bsw_json_parse(s, strlen(s), v, where);
}

int main(void)
{
	static const char *const bad[] = {
		"", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "01", "-", "1.",
		"1e", "tru", "nul", "\"abc", "\"a\\x\"", "\"a\\u12\"", "\"tab\there\"", "{1:2}",
		"[1] x", "{\"a\":1}{", "\"\\", "+1", ".5", "NaN",
	};
	struct bsw_jval v;
	size_t where = 0;
	char *deep;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i], &v, &where);

		CHECK(r == -EINVAL, "accepted: %s", bad[i]);
		CHECK(where <= strlen(bad[i]), "%s: where %zu", bad[i], where);
	}
	CHECK(parse("{\"a\":1,}", &v, &where) == -EINVAL && where == 7, "trailing comma at %zu", where);

	CHECK(!parse(" {\"image\":\"d\\u00e9\\ud83d\\udcbe\\udce9\\u0000\",\"n\":-1.5e3,"
		     "\"t\":true,\"f\":false,\"z\":null,\"a\":[1,[2,{}],\"x\"]} ", &v, &where),
	      "valid object refused at %zu", where);
	CHECK(v.type == BSW_J_OBJ && v.len == 6, "object members");
	CHECK(!strcmp(bsw_jstr(&v, "image", ""), "d\xc3\xa9\xf0\x9f\x92\xbe\xe9\xc0\x80"),
	      "string escapes: %s", bsw_jstr(&v, "image", ""));
	CHECK(bsw_jnum(&v, "n", 0) == -1500.0, "number");
	CHECK(bsw_jget(&v, "t")->b && !bsw_jget(&v, "f")->b && bsw_jget(&v, "z")->type == BSW_J_NULL, "words");
	CHECK(bsw_jget(&v, "a")->len == 3 && bsw_jget(&v, "a")->items[1].items[1].type == BSW_J_OBJ, "nesting");
	CHECK(!bsw_jget(&v, "missing") && !strcmp(bsw_jstr(&v, "n", "def"), "def"), "type-checked getters");
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
	printf("%s\n", fails ? "FAILED" : "ok   test_json");
	return fails ? 1 : 0;
}
