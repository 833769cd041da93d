/*
 * bootsweep: read Windows OS disks offline and say, for each, whether it is
 * clean, dirty-rollback or unbootable.  This file only dispatches to the
 * subcommands; it is the one place allowed to exit.
 */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "scanner/cmds.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "scan", bsw_cmd_scan,
	  "scan PATH... [-o FILE] [--resume] [-j N]: sweep disks, JSON Lines out" },
	{ "report", bsw_cmd_report,
	  "report RESULTS.jsonl... [-o FILE] [--format html|csv|table]: the fleet for people" },
	{ "query", bsw_cmd_query,
	  "query COND RESULTS.jsonl... [--json]: which disks of a sweep match a condition (pkg:KB5034441...)" },
	{ "diff", bsw_cmd_diff,
	  "diff OLD.jsonl NEW.jsonl [--json]: what changed between two sweeps" },
	{ "merge", bsw_cmd_merge,
	  "merge OUT PART... [--partial]: join the parts of a sweep (scan --shard) into one JSONL" },
	{ "info", bsw_cmd_info,
	  "info IMAGE... [--json] [--direct] [--check]: containers, chain, partitions" },
	{ "cat", bsw_cmd_cat,
	  "cat IMAGE [--path P [--partition N] [--stream S]]: virtual disk or file bytes to stdout" },
	{ "ls", bsw_cmd_ls, "ls IMAGE [PATH] [--partition N] [-R]: list an NTFS directory" },
	{ "check", bsw_cmd_check, "check IMAGE... [--partition N] [--json]: NTFS volume checks" },
	{ "hive", bsw_cmd_hive,
	  "hive FILE [--log F]... [--export|--recovered OUT]: verify a hive" },
	{ "ntfs3g-verdict", bsw_cmd_ntfs3g_verdict,
	  "ntfs3g-verdict IMAGE START SIZE: libntfs-3g's mount-time verdict (scan runs it as a child)" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bootsweep COMMAND [ARGS]    (bootsweep help COMMAND, bootsweep --version)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].help);
	fprintf(out, "\nexit status: bitmask; 1 unassessable, 2 dirty-rollback, "
		     "4 unbootable/errors,\n8 operational error, 16 usage, "
		     "32 interrupted (see docs/cli.md)\n");
}

/*
 * Every command's results on standard output are only delivered once the
 * stream is flushed and closed without error (gnulib's close_stdout): a
 * full disk or a closed pipe is an operational error, never a silent loss.
 */
static int close_stdout(int ret)
{
	bool failed = ferror(stdout);
	int e = 0;

	if (fclose(stdout) == EOF) {
		failed = true;
		e = errno;
	}
	if (failed) {
		if (e)
			fprintf(stderr, "bootsweep: write error on standard output: %s\n",
				strerror(e));
		else
			fprintf(stderr, "bootsweep: write error on standard output\n");
		ret |= BSW_EXIT_OPERR;
	}
	return ret;
}

int main(int argc, char **argv)
{
	/*
	 * A sweep allocates the same large arrays (record summaries, names,
	 * the name pool, sort keys: ~100 MB on a realistic volume) for every
	 * disk.  glibc would hand each back to the kernel (mmap'd chunks, heap
	 * trimming) and the next disk would fault every page in again, zeroed:
	 * 15-20% of a differencing child's CPU.  Keep them for reuse instead;
	 * the memory a sweep may take is bounded elsewhere (--mem-cap, --share-mem).
	 */
	mallopt(M_MMAP_THRESHOLD, 256 << 20);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	if (argc < 2) {
		usage(stderr);
		return BSW_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		usage(stdout);
		return close_stdout(0);
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("bootsweep %s\n", bsw_version);
		return close_stdout(0);
	}
	if (!strcmp(argv[1], "help")) {
		/* "bootsweep help CMD" is "bootsweep CMD --help" */
		char *hv[] = { argv[2], (char *)"--help", NULL };

		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[2], commands[i].name))
				return close_stdout(commands[i].fn(2, hv));
		fprintf(stderr, "bootsweep: no command '%s'\n", argv[2]);
		usage(stderr);
		return BSW_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return close_stdout(commands[i].fn(argc - 1, argv + 1));
	fprintf(stderr, "bootsweep: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return BSW_EXIT_USAGE;
}
