/*
 * bootsweep hive FILE [--log FILE]... [--no-logs] [--json] [--export]
 *                     [--hivex-export] [--recovered OUT]
 * Verify a registry hive, replay its transaction logs in memory (found
 * beside it by default: FILE.LOG1, FILE.LOG2, FILE.LOG, any case), print
 * the findings and the state; optionally export the recovered hive as .reg
 * text or write it to a new file.  The input is never written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/regf/regf.h"
#include "formats/regf/regf_export.h"
#include "scanner/cmds.h"
#include "formats/common/finding.h"
#include "scanner/report.h"

#define MAX_LOGS BSW_HIVE_MAX_LOGS
#define MAX_FILE (2048ull * 1024 * 1024)

/* bsw_hive_read_fn over files (the names are paths). */
static int slurp(void *ctx, const char *path, size_t max, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t o = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	(void)ctx;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return -EINVAL;
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (o < (size_t)st.st_size) {
		ssize_t r = read(fd, b + o, (size_t)st.st_size - o);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* EIO, or the file shrank since fstat: an I/O error,
			 * never a hive judged on bytes that were not read */
			int e = r < 0 ? errno : EIO;

			fprintf(stderr, "bootsweep hive: %s: I/O error: %s at offset %zu%s\n", path,
				strerror(e), o,
				r == 0 ? " (the file ended before its size at open)" : "");
			free(b);
			close(fd);
			return -e;
		}
		o += (size_t)r;
	}
	close(fd);
	*out = b;
	*len = o;
	return 0;
}

/* Logs beside the hive: NAME.LOG1, NAME.LOG2, NAME.LOG, case-insensitive. */
static unsigned find_logs(const char *file, char **paths, unsigned max)
{
	static const char *const ext[] = { ".LOG1", ".LOG2", ".LOG" };
	char *d1 = strdup(file), *d2 = strdup(file);
	const char *dir, *base;
	unsigned n = 0;
	DIR *d;

	if (!d1 || !d2)
		goto out;
	dir = dirname(d1);
	base = basename(d2);
	d = opendir(dir);
	if (!d)
		goto out;
	for (unsigned e = 0; e < 3 && n < max; e++) {
		struct dirent *de;
		size_t bl = strlen(base);

		rewinddir(d);
		while ((de = readdir(d)) && n < max) {
			if (strlen(de->d_name) != bl + strlen(ext[e]) ||
			    strncasecmp(de->d_name, base, bl) ||
			    strcasecmp(de->d_name + bl, ext[e]))
				continue;
			if (asprintf(&paths[n], "%s/%s", dir, de->d_name) > 0)
				n++;
			break;
		}
	}
	closedir(d);
out:
	free(d1);
	free(d2);
	return n;
}

static int write_new(const char *out, const char *in, const uint8_t *b, size_t len)
{
	struct stat so, si;
	size_t o = 0;
	int fd;

	if (!stat(out, &so)) {
		if (!stat(in, &si) && so.st_dev == si.st_dev && so.st_ino == si.st_ino)
			fprintf(stderr, "bootsweep hive: %s is the input\n", out);
		else
			fprintf(stderr, "bootsweep hive: %s exists; not overwritten\n", out);
		return -EEXIST;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (o < len) {
		ssize_t w = write(fd, b + o, len - o);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? -errno : -ENOSPC;

			close(fd);
			unlink(out); /* no half-written hive left behind */
			return e;
		}
		o += (size_t)w;
	}
	if (fsync(fd) || close(fd)) {
		int e = -errno;

		unlink(out);
		return e;
	}
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: bootsweep hive FILE [--log FILE]... [--no-logs] [--json]\n"
	      "       [--export | --hivex-export] [--recovered OUT]\n"
	      "Verify a registry hive and replay its transaction logs in memory (found beside\n"
	      "it by default: FILE.LOG1, FILE.LOG2, FILE.LOG, any case).  --export prints the\n"
	      "hive as seen after replay (.reg); --recovered writes it to a new file.\n",
	      f);
}

int bsw_cmd_hive(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "export", no_argument, NULL, 'E' },
		{ "hivex-export", no_argument, NULL, 'X' },
		{ "no-logs", no_argument, NULL, 'n' },
		{ "log", required_argument, NULL, 'l' },
		{ "recovered", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *recovered = NULL;
	char *logpath[MAX_LOGS] = { 0 };
	unsigned nlog = 0, nuser = 0;
	bool json = false, export = false, hxexport = false, nologs = false;
	struct bsw_hive *h = NULL;
	struct bsw_fx *fx = NULL;
	enum bsw_hive_state st;
	int ret = BSW_EXIT_OK, rc, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'J': json = true; break;
		case 'E': export = true; break;
		case 'X': hxexport = true; break;
		case 'n': nologs = true; break;
		case 'l':
			if (nuser >= MAX_LOGS) {
				fprintf(stderr, "bootsweep hive: at most %d --log\n", MAX_LOGS);
				goto usage_out;
			}
			logpath[nuser] = strdup(optarg);
			if (!logpath[nuser++]) {
				ret = BSW_EXIT_OPERR;
				goto out;
			}
			break;
		case 'r': recovered = optarg; break;
		case 'h': usage(stdout); goto out;
		default: usage(stderr); goto usage_out;
		}
	}
	if (argc - optind != 1 || (export && hxexport)) {
		usage(stderr);
		goto usage_out;
	}
	file = argv[optind];
	nlog = nuser;
	if (!nuser && !nologs)
		nlog = find_logs(file, logpath, MAX_LOGS);
	if (bsw_fx_create(&fx)) {
		fprintf(stderr, "bootsweep hive: out of memory\n");
		ret = BSW_EXIT_OPERR;
		goto out;
	}
	/* judged as a hive Windows needs to boot (SYSTEM, SOFTWARE) */
	bsw_fx_set_damage(fx, BSW_V_UNBOOT);
	{
		const struct bsw_hive_files hf = {
			.name = file,
			.logs = (const char *const *)logpath,
			.nr_logs = nlog,
			.logs_required = true,
			.max = MAX_FILE,
			.read = slurp,
		};
		int failed;

		rc = bsw_hive_load_files(&h, &hf, fx, &failed);
		if (rc) {
			if (failed < 0)
				fprintf(stderr, "bootsweep hive: out of memory\n");
			else
				fprintf(stderr, "bootsweep hive: %s: %s\n",
					failed ? logpath[failed - 1] : file, strerror(-rc));
			ret = BSW_EXIT_OPERR;
			goto out;
		}
	}
	st = bsw_hive_state(h);
	if (st == BSW_HIVE_NOT_A_HIVE)
		ret = BSW_EXIT_OPERR; /* not a hive: we were given the wrong file */
	else if (st != BSW_HIVE_CLEAN && st != BSW_HIVE_RECOVERED)
		ret = BSW_EXIT_UNBOOT;
	bsw_fx_finish(fx);
	if (export || hxexport) {
		struct bsw_sbuf s = { 0 };
		size_t hl;
		const uint8_t *hd = bsw_hive_data(h, &hl);

		rc = hxexport ? bsw_regf_hivex_export(hd, hl, &s) : bsw_regf_export(h, &s);
		if (rc) {
			fprintf(stderr, "bootsweep hive: %s: export failed: %s\n", file,
				strerror(-rc));
			ret |= rc == -ENOMEM ? BSW_EXIT_OPERR : BSW_EXIT_UNBOOT;
		} else {
			fwrite(s.p, 1, s.len, stdout);
		}
		bsw_sbuf_free(&s);
	} else {
		struct bsw_report_hive r = {
			.file = file,
			.state = bsw_hive_state_name(st),
			.logs_missing = st == BSW_HIVE_UNRECOVERABLE && !nlog,
			.ktm = bsw_hive_ktm_pending(h),
			.logs = logpath,
			.nr_logs = nlog,
			.fx = fx,
		};

		if (json)
			bsw_report_hive_json(stdout, &r);
		else
			bsw_report_hive_text(stdout, &r);
	}
	if (recovered) {
		size_t hl;
		const uint8_t *hd = bsw_hive_data(h, &hl);

		if ((st != BSW_HIVE_CLEAN && st != BSW_HIVE_RECOVERED) || !hd) {
			fprintf(stderr, "bootsweep hive: %s is %s; %s not written\n", file,
				st == BSW_HIVE_UNRECOVERABLE && !nlog ?
					"dirty and its logs were not supplied" :
					bsw_hive_state_name(st),
				recovered);
			ret |= BSW_EXIT_OPERR;
		} else if ((rc = write_new(recovered, file, hd, hl))) {
			if (rc != -EEXIST)
				fprintf(stderr, "bootsweep hive: %s: %s\n", recovered,
					strerror(-rc));
			ret |= BSW_EXIT_OPERR;
		}
	}
	goto out;
usage_out:
	ret = BSW_EXIT_USAGE;
out:
	bsw_hive_free(h);
	bsw_fx_destroy(fx);
	for (unsigned i = 0; i < MAX_LOGS; i++)
		free(logpath[i]);
	return ret;
}
