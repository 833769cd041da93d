/*
 * The results file's string rules (formats/common/finding.c, scanner/out.c):
 * bsw_json_str writes any byte string as valid JSON (bytes that are not
 * UTF-8 as \udcXX, a NUL kept in a registry name as \u0000), Python's
 * strict JSON reader accepts it, and bsw_out_line_image gives the exact
 * bytes back.  Also: bsw_out_line never leaves a torn line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scanner/out.h"
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

/* {"image":<s>,"verdict":"clean"} for the bytes s[0..n) */
static char *line_of(const char *s, size_t n, size_t *len)
{
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);

	fputs("{\"image\":", m);
	bsw_json_strn(m, s, n);
	fputs(",\"verdict\":\"clean\"}", m);
	fclose(m);
	return buf;
}

static void roundtrip(const char *what, const char *s, size_t n, const char *want_json)
{
	size_t len;
	char *l = line_of(s, n, &len), *back;

	if (want_json)
		CHECK(strstr(l, want_json), "%s: %s lacks %s", what, l, want_json);
	back = bsw_out_line_image(l, len);
	CHECK(back, "%s: not decoded: %s", what, l);
	if (back && !memchr(s, 0, n))
		CHECK(strlen(back) == n && !memcmp(back, s, n), "%s: round trip changed it (%s)",
		      what, l);
	free(back);
	free(l);
}

int main(void)
{
	static const char *const cases[][3] = {
		{ "ascii", "plain/disk.vhdx", "\"plain/disk.vhdx\"" },
		{ "utf8", "d\xc3\xa9j\xc3\xa0/\xe2\x82\xac/\xf0\x9f\x92\xbe.vhd",
		  "\xf0\x9f\x92\xbe" },
		{ "latin1 byte", "caf\xe9.vhd", "caf\\udce9.vhd" },
		{ "lone continuation", "a\x80z", "a\\udc80z" },
		{ "overlong slash", "a\xc0\xafz", "a\\udcc0\\udcafz" },
		{ "utf-16 surrogate in utf-8", "a\xed\xa0\x80z", "a\\udced\\udca0\\udc80z" },
		{ "above U+10FFFF", "a\xf4\x90\x80\x80z", "a\\udcf4\\udc90\\udc80\\udc80z" },
		{ "truncated sequence at end", "a\xe2\x82", "a\\udce2\\udc82" },
		{ "quotes and controls", "q\"b\\s\n\t\x01", "q\\\"b\\\\s\\n\\t\\u0001" },
		{ "registry NUL (C0 80)", "Run\xc0\x80hidden", "Run\\u0000hidden" },
	};
	char err[256];
	unsigned seed = 1;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		roundtrip(cases[i][0], cases[i][1], strlen(cases[i][1]), cases[i][2]);

	/* random byte strings: always decodable back to the same bytes */
	for (int r = 0; r < 20000; r++) {
		char s[24];
		size_t n = 1 + (size_t)(rand_r(&seed) % (sizeof(s) - 1));

		for (size_t k = 0; k < n; k++) {
			s[k] = (char)(rand_r(&seed) & 0xff);
			if (!s[k])
				s[k] = 'x';
		}
		roundtrip("random", s, n, NULL);
		if (fails > 20)
			break;
	}

	/* a NUL byte inside bsw_json_strn's bytes stays, as \u0000 */
	{
		size_t len;
		char *l = line_of("a\0b", 3, &len);

		CHECK(strstr(l, "\"a\\u0000b\""), "embedded NUL: %s", l);
		free(l);
	}
	/* lines that are not results */
	CHECK(!bsw_out_line_image("{\"verdict\":\"clean\"}", 19), "no image member accepted");
	CHECK(!bsw_out_line_image("{\"image\":\"abc", 13), "unterminated string accepted");
	CHECK(!bsw_out_line_image("{\"image\":\"a\\udc", 15), "cut escape accepted");
	CHECK(!bsw_out_line_image("{\"image\":\"a\\ud800\"}", 19), "lone high surrogate accepted");

	/* the JSONL check, and whole lines only on a file that fills up */
	{
		char path[] = "/tmp/bsw-test-out-XXXXXX";
		int fd = mkstemp(path);
		struct bsw_out *o;

		CHECK(fd >= 0, "mkstemp");
		CHECK(write(fd, "not json\n", 9) == 9, "write");
		CHECK(bsw_out_check_jsonl(fd, err, sizeof(err)) == -EINVAL,
		      "foreign file accepted");
		close(fd);
		CHECK(bsw_out_open(&o, path, false, NULL, 0, err, sizeof(err)) == -EINVAL,
		      "bsw_out_open accepted a foreign file");
		fd = open(path, O_WRONLY | O_TRUNC);
		close(fd);
		CHECK(!bsw_out_open(&o, path, false, NULL, 0, err, sizeof(err)), "empty file: %s",
		      err);
		CHECK(!bsw_out_line(o, "{\"image\":\"x\",\"verdict\":\"clean\"}", 31),
		      "write a line");
		CHECK(!bsw_out_close(o), "close");
		fd = open(path, O_RDONLY);
		CHECK(!bsw_out_check_jsonl(fd, err, sizeof(err)), "our own file refused: %s", err);
		close(fd);
		/* a torn tail is cut by --resume's open */
		fd = open(path, O_WRONLY | O_APPEND);
		CHECK(write(fd, "{\"image\":\"y\",\"verd", 18) == 18, "write torn");
		close(fd);
		CHECK(!bsw_out_open(&o, path, true, NULL, 0, err, sizeof(err)), "resume open: %s",
		      err);
		CHECK(!bsw_out_line(o, "{\"image\":\"y\",\"verdict\":\"clean\"}", 31), "append");
		CHECK(!bsw_out_close(o), "close");
		{
			char buf[256] = "";
			int f2 = open(path, O_RDONLY);
			ssize_t n = read(f2, buf, sizeof(buf) - 1);

			close(f2);
			CHECK(n == 64 && !strcmp(buf, "{\"image\":\"x\",\"verdict\":\"clean\"}\n"
						      "{\"image\":\"y\",\"verdict\":\"clean\"}\n"),
			      "after resume: %zd bytes: %s", n, buf);
		}
		unlink(path);
	}
	/* /dev/full: the error comes back */
	{
		struct bsw_out *o;

		if (!bsw_out_open(&o, "/dev/full", false, NULL, 0, err, sizeof(err))) {
			CHECK(bsw_out_line(o, "{}", 2) == -ENOSPC, "/dev/full write did not fail");
			bsw_out_close(o);
		}
	}
	printf("%s\n", fails ? "FAILED" : "ok   test_out");
	return fails ? 1 : 0;
}
