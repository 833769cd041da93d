/*
 * mkimage: the image writer from the command line.
 *
 *   mkimage --from-raw RAW --out OUT --format FMT [--block-size N]
 *           [--pending-log] [--id HEX32] [--timestamp N]
 *   mkimage --diff --parent P --locator REL --base-raw B --child-raw C
 *           --out OUT [--block-size N] [--id HEX32] [--timestamp N]
 *
 * FMT: raw, vhd-fixed, vhd-dynamic, vhdx-fixed, vhdx-dynamic.  Without
 * --id the id is derived from OUT's file name, so that every image of a
 * chain differs and rerunning gives the same bytes.  With --pending-log a
 * JSON line on stdout says what the log changes (docs/imgwrite.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/imgwrite/imgwrite.h"
#include "formats/common/crc.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: mkimage --from-raw RAW --out OUT --format raw|vhd-fixed|vhd-dynamic|vhdx-fixed|vhdx-dynamic\n"
		"               [--block-size N] [--pending-log] [--id HEX32] [--timestamp N]\n"
		"       mkimage --diff --parent P --locator REL --base-raw B --child-raw C --out OUT\n"
		"               [--block-size N] [--id HEX32] [--timestamp N]\n");
	exit(16);
}

static int parse_fmt(const char *s, enum bsw_imgfmt *f)
{
	static const struct {
		const char *name;
		enum bsw_imgfmt fmt;
	} t[] = {
		{ "raw", BSW_IMG_RAW },
		{ "vhd-fixed", BSW_IMG_VHD_FIXED },
		{ "vhd-dynamic", BSW_IMG_VHD_DYNAMIC },
		{ "vhdx-fixed", BSW_IMG_VHDX_FIXED },
		{ "vhdx-dynamic", BSW_IMG_VHDX_DYNAMIC },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(s, t[i].name)) {
			*f = t[i].fmt;
			return 0;
		}
	return -1;
}

static int parse_id(const char *s, uint8_t id[16])
{
	if (strlen(s) != 32)
		return -1;
	for (int i = 0; i < 16; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		id[i] = (uint8_t)v;
	}
	return 0;
}

/* A default id from the output's base name: stable, distinct per file. */
static void id_from_name(const char *out, uint8_t id[16])
{
	const char *b = strrchr(out, '/');
	uint32_t c;

	b = b ? b + 1 : out;
	c = bsw_crc32c(0, b, strlen(b));
	for (int i = 0; i < 4; i++) {
		c = bsw_crc32c(c, b, strlen(b));
		id[4 * i] = (uint8_t)c;
		id[4 * i + 1] = (uint8_t)(c >> 8);
		id[4 * i + 2] = (uint8_t)(c >> 16);
		id[4 * i + 3] = (uint8_t)(c >> 24);
	}
	id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
	id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "from-raw", required_argument, NULL, 'r' },
					    { "out", required_argument, NULL, 'o' },
					    { "format", required_argument, NULL, 'f' },
					    { "block-size", required_argument, NULL, 'b' },
					    { "pending-log", no_argument, NULL, 'L' },
					    { "diff", no_argument, NULL, 'd' },
					    { "parent", required_argument, NULL, 'p' },
					    { "locator", required_argument, NULL, 'l' },
					    { "base-raw", required_argument, NULL, 'B' },
					    { "child-raw", required_argument, NULL, 'C' },
					    { "id", required_argument, NULL, 'i' },
					    { "timestamp", required_argument, NULL, 't' },
					    { "help", no_argument, NULL, 'h' },
					    { 0 } };
	const char *raw = NULL, *out = NULL, *fmt_s = NULL, *parent = NULL;
	const char *loc = NULL, *base = NULL, *child = NULL;
	struct bsw_imgw_logdesc ld = { 0 };
	struct bsw_imgw_opts o = { 0 };
	enum bsw_imgfmt fmt = BSW_IMG_RAW;
	bool diff = false, have_id = false;
	int c, rc;

	o.timestamp = 0x2a000000; /* fixed: a date in 2022 */
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'r': raw = optarg; break;
		case 'o': out = optarg; break;
		case 'f': fmt_s = optarg; break;
		case 'b':
			o.block_size = (uint32_t)strtoul(optarg, &end, 0);
			if (*end == 'M' || *end == 'm')
				o.block_size <<= 20;
			else if (*end == 'K' || *end == 'k')
				o.block_size <<= 10;
			break;
		case 'L': o.vhdx_pending_log = true; break;
		case 'd': diff = true; break;
		case 'p': parent = optarg; break;
		case 'l': loc = optarg; break;
		case 'B': base = optarg; break;
		case 'C': child = optarg; break;
		case 'i':
			if (parse_id(optarg, o.id))
				usage();
			have_id = true;
			break;
		case 't': o.timestamp = (uint32_t)strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (!out || optind != argc)
		usage();
	if (!have_id)
		id_from_name(out, o.id);
	o.log_desc = &ld;
	if (diff) {
		if (!parent || !loc || !base || !child || raw || fmt_s)
			usage();
		rc = bsw_imgw_diff_raw(parent, loc, base, child, out, &o);
	} else {
		if (!raw || !fmt_s || parse_fmt(fmt_s, &fmt))
			usage();
		rc = bsw_imgw_from_raw(raw, out, fmt, &o);
	}
	if (rc) {
		fprintf(stderr, "mkimage: %s: %s\n", out, strerror(-rc));
		return 8;
	}
	if (ld.log_length)
		printf("{\"log_offset\":%" PRIu64 ",\"log_length\":%" PRIu64
		       ",\"has_bat\":%s,\"bat_index\":%" PRIu64 ",\"bat_sector_foff\":%" PRIu64
		       ",\"block_voff\":%" PRIu64 ",\"block_len\":%" PRIu64 ",\"has_sector\":%s"
		       ",\"sector_voff\":%" PRIu64 ",\"sector_foff\":%" PRIu64 "}\n",
		       ld.log_offset, ld.log_length, ld.has_bat ? "true" : "false", ld.bat_index,
		       ld.bat_sector_foff, ld.block_voff, ld.block_len,
		       ld.has_sector ? "true" : "false", ld.sector_voff, ld.sector_foff);
	return 0;
}
