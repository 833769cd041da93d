/*
 * bootsweep info IMAGE... [--json] [--direct]: containers, chain, partitions.
 * bootsweep cat IMAGE: the virtual disk's bytes to stdout (parents and the
 * VHDX log applied); with --path, an NTFS file instead (cmd_ntfs.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/common/src.h"
#include "scanner/checks/identity.h"
#include "scanner/cmds.h"
#include "scanner/disk.h"
#include "formats/common/finding.h"
#include "scanner/report.h"

static void info_usage(FILE *f)
{
	fputs("usage: bootsweep info IMAGE... [--json] [--direct] [--check]\n"
	      "The container, its chain of parents, the partitions and filesystems of each\n"
	      "image; --check adds the NTFS volume checks (as bootsweep check).\n",
	      f);
}

int bsw_cmd_info(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "direct", no_argument, NULL, 'D' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bsw_disk_opts o = { 0 };
	bool json = false, check = false;
	int ret = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'J': json = true; break;
		case 'D': o.direct = true; break;
		case 'C': check = true; break;
		case 'h': info_usage(stdout); return BSW_EXIT_OK;
		default: info_usage(stderr); return BSW_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		info_usage(stderr);
		return BSW_EXIT_USAGE;
	}
	if (check) {
		/* the same images through check, with --json if given */
		char **cv = calloc((size_t)(argc - optind) + 3, sizeof(*cv));
		int cn = 0;

		if (!cv)
			return BSW_EXIT_OPERR;
		cv[cn++] = (char *)"check";
		if (json)
			cv[cn++] = (char *)"--json";
		cv[cn++] = (char *)"--";
		for (int i = optind; i < argc; i++)
			cv[cn++] = argv[i];
		ret = bsw_cmd_check(cn, cv);
		free(cv);
		return ret;
	}
	for (int i = optind; i < argc; i++) {
		struct bsw_report_identity id = { 0 };
		struct bsw_report_info r;
		struct bsw_disk_ioerr ioe;
		struct bsw_disk *d;
		struct bsw_fx *fx;
		char err[512];
		int rc;

		if (bsw_fx_create(&fx))
			return BSW_EXIT_OPERR;
		rc = bsw_disk_open(&d, argv[i], &o, fx, err, sizeof(err));
		if (rc) {
			const char *why = err[0] ? err : strerror(-rc);

			fprintf(stderr, "bootsweep: %s: %s\n", argv[i], why);
			if (json) {
				bsw_fx_finish(fx);
				bsw_report_info_json(
					stdout, &(struct bsw_report_info){
							.image = argv[i], .error = why, .fx = fx });
			}
			ret |= BSW_EXIT_OPERR;
			bsw_fx_destroy(fx);
			continue;
		}
		if (bsw_disk_io_error(d, &ioe)) {
			/* bytes that could not be read: not findings about them */
			bsw_fx_drop_after(fx, ioe.tick);
			fprintf(stderr, "bootsweep: %s: I/O error: %s\n", argv[i],
				bsw_disk_ioerr_str(&ioe, err, sizeof(err)));
			ret |= BSW_EXIT_OPERR;
		}
		bsw_fx_finish(fx);
		bsw_identity_disk(d, &id);
		r = (struct bsw_report_info){ .image = argv[i], .d = d, .id = &id, .fx = fx };
		if (json)
			bsw_report_info_json(stdout, &r);
		else
			bsw_report_info_text(stdout, &r);
		bsw_disk_close(d);
		bsw_fx_destroy(fx);
	}
	return ret;
}

static void cat_usage(FILE *f)
{
	fputs("usage: bootsweep cat IMAGE [--direct] > disk.raw\n"
	      "       bootsweep cat IMAGE --path PATH [--partition N] [--stream NAME] > file\n"
	      "The virtual disk's bytes (parents and a pending VHDX log applied), or one file\n"
	      "of its NTFS volume.\n",
	      f);
}

int bsw_cmd_cat(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "direct", no_argument, NULL, 'D' },
		{ "path", required_argument, NULL, 'P' },
		{ "partition", required_argument, NULL, 'N' },
		{ "stream", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *img = NULL;
	struct bsw_disk_opts o = { 0 };
	struct bsw_disk *d;
	struct bsw_fx *fx;
	char err[512];
	uint8_t *buf;
	const size_t chunk = 8u << 20;
	int rc, ret = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'D': o.direct = true; break;
		case 'P':
		case 'N':
		case 'S': return bsw_cmd_ntfs_cat(argc, argv);
		case 'h': cat_usage(stdout); return BSW_EXIT_OK;
		default: cat_usage(stderr); return BSW_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cat_usage(stderr);
		return BSW_EXIT_USAGE;
	}
	img = argv[optind];
	if (isatty(STDOUT_FILENO)) {
		fprintf(stderr, "bootsweep cat: refusing to write a disk image to a terminal\n");
		return BSW_EXIT_USAGE;
	}
	if (bsw_fx_create(&fx))
		return BSW_EXIT_OPERR;
	rc = bsw_disk_open(&d, img, &o, fx, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bootsweep: %s: %s\n", img, err[0] ? err : strerror(-rc));
		bsw_fx_destroy(fx);
		return BSW_EXIT_OPERR;
	}
	buf = bsw_alloc_aligned(chunk);
	if (!buf) {
		ret = BSW_EXIT_OPERR;
		goto out;
	}
	for (uint64_t off = 0, size = bsw_disk_size(d); off < size;) {
		size_t n = size - off < chunk ? size - off : chunk;

		rc = bsw_disk_read(d, buf, n, off);
		if (rc) {
			struct bsw_disk_ioerr ioe;

			if (bsw_disk_io_error(d, &ioe))
				fprintf(stderr, "bootsweep: %s: I/O error: %s\n", img,
					bsw_disk_ioerr_str(&ioe, err, sizeof(err)));
			else
				fprintf(stderr, "bootsweep: %s: read at %llu: %s\n", img,
					(unsigned long long)off, strerror(-rc));
			ret = BSW_EXIT_OPERR;
			break;
		}
		if (fwrite(buf, 1, n, stdout) != n) {
			fprintf(stderr, "bootsweep cat: write error: %s\n", strerror(errno));
			ret = BSW_EXIT_OPERR;
			break;
		}
		off += n;
	}
	free(buf);
out:
	if (fflush(stdout))
		ret = BSW_EXIT_OPERR;
	bsw_disk_close(d);
	bsw_fx_destroy(fx);
	return ret;
}
