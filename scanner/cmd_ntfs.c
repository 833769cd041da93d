/*
 * bootsweep ls / cat --path / check: the NTFS subcommands on top of
 * bsw_disk (containers, partitions) and bootsweep's own NTFS reader.
 * A volume is chosen by --partition N (1-based, bsw_disk_part order), else
 * the only NTFS volume, else the one holding \Windows.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/ntfs/ntfs.h"
#include "scanner/checks/bootfiles.h"
#include "scanner/cmds.h"
#include "scanner/disk.h"
#include "scanner/report.h"

struct vol {
	struct bsw_disk *d;
	struct bsw_src src;
	struct bsw_src_window win;
	struct bsw_ntfs *v;
	unsigned part;
};

static void vol_close(struct vol *x)
{
	bsw_ntfs_close(x->v);
	bsw_disk_close(x->d);
	memset(x, 0, sizeof(*x));
}

/* GPT type GUIDs as stored on disk (mixed-endian) */
static const uint8_t guid_basic[16] = {
	0xA2, 0xA0, 0xD0, 0xEB, 0xE5, 0xB9, 0x33, 0x44,
	0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99, 0xC7,
};
static const uint8_t guid_msr[16] = {
	0x16, 0xE3, 0xC9, 0xE3, 0x5C, 0x0B, 0xB8, 0x4D,
	0x81, 0x7D, 0xF9, 0x2D, 0xF0, 0x02, 0x15, 0xAE,
};

/* A partition meant to hold NTFS: GPT basic data or MBR type 0x07. */
static bool meant_for_ntfs(const struct bsw_part *p)
{
	if (!strcmp(p->scheme, "gpt"))
		return !memcmp(p->type_guid, guid_basic, 16);
	return !strcmp(p->scheme, "mbr") && p->mbr_type == 0x07;
}

/* Open partition p (NULL: the whole disk) into x->v, findings to fx. */
static int try_open(struct vol *x, const struct bsw_part *p, struct bsw_fx *fx,
		    const struct bsw_ntfs_opts *o)
{
	char *prev = NULL, scope[32];
	int ret;

	snprintf(scope, sizeof(scope), "part%u:ntfs", p ? p->index : 1);
	if (p)
		bsw_disk_part_src(x->d, p, &x->src, &x->win);
	else
		x->src = *bsw_disk_src(x->d);
	if (fx)
		prev = bsw_fx_push_scope(fx, scope);
	ret = bsw_ntfs_open(&x->v, &x->src, fx, o);
	if (fx)
		bsw_fx_restore_scope(fx, prev);
	if (!ret)
		x->part = p ? p->index : 1;
	return ret;
}

/*
 * Among candidate partitions cand[0..nc), open quietly and pick the one
 * holding \Windows (else the first that opens); -1 if none opens.
 */
static int pick_quietly(struct vol *x, const unsigned *cand, unsigned nc)
{
	struct bsw_ntfs_opts q = { 0 };
	int pick = -1;
	unsigned i;
	uint64_t rec;

	for (i = 0; i < nc; i++) {
		bool win;

		if (try_open(x, bsw_disk_part(x->d, cand[i]), NULL, &q))
			continue;
		win = !bsw_ntfs_lookup(x->v, "\\Windows", &rec);
		bsw_ntfs_close(x->v);
		x->v = NULL;
		if (pick < 0 || win)
			pick = (int)i;
		if (win)
			break;
	}
	return pick;
}

/*
 * Open image and its NTFS volume.  want 0 = choose: the NTFS-typed
 * volumes first, then untyped ones (a volume whose primary boot sector is
 * damaged is not typed NTFS by the partition layer), preferring the one
 * holding \Windows; a disk with no partition table at all is tried as a
 * bare volume.  When nothing opens, the first NTFS-typed partition - or a
 * partition whose type says NTFS - is opened once more with the collector,
 * so that the findings say why.  Returns 0, or BSW_EXIT_OPERR with a
 * message on stderr.
 */
static int vol_open(struct vol *x, const char *image, unsigned want, struct bsw_fx *fx, bool checks)
{
	struct bsw_ntfs_opts o = { .run_checks = checks,
				   .critical = bsw_boot_files,
				   .nr_critical = bsw_nr_boot_files };
	struct bsw_ntfs_opts q = { 0 };
	struct bsw_disk_ioerr ioe;
	unsigned i, n, typed[64], untyped[64], nt = 0, nu = 0;
	char err[512];
	int ret = -ENOENT, pick;

	memset(x, 0, sizeof(*x));
	ret = bsw_disk_open(&x->d, image, NULL, fx, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "bootsweep: %s: %s\n", image, err[0] ? err : strerror(-ret));
		return BSW_EXIT_OPERR;
	}
	n = bsw_disk_nr_parts(x->d);
	if (want) {
		if (want > n) {
			fprintf(stderr, "bootsweep: %s: no partition %u\n", image, want);
			goto fail;
		}
		ret = try_open(x, bsw_disk_part(x->d, want - 1), fx, &o);
		if (!ret)
			return 0;
		goto nothing;
	}
	for (i = 0; i < n; i++) {
		const struct bsw_part *p = bsw_disk_part(x->d, i);

		if (p->fs == BSW_FS_NTFS && nt < 64)
			typed[nt++] = i;
		else if (!p->esp && nu < 64 && memcmp(p->type_guid, guid_msr, 16) &&
			 (p->fs == BSW_FS_UNKNOWN || p->fs == BSW_FS_ZERO || p->fs == BSW_FS_OTHER))
			untyped[nu++] = i;
	}
	pick = pick_quietly(x, typed, nt);
	if (pick >= 0 && !try_open(x, bsw_disk_part(x->d, typed[pick]), fx, &o))
		return 0;
	pick = pick_quietly(x, untyped, nu);
	if (pick >= 0 && !try_open(x, bsw_disk_part(x->d, untyped[pick]), fx, &o))
		return 0;
	if (!n && !strcmp(bsw_disk_scheme(x->d), "none") && !try_open(x, NULL, NULL, &q)) {
		/* a bare volume whose primary boot sector is damaged */
		bsw_ntfs_close(x->v);
		x->v = NULL;
		if (!try_open(x, NULL, fx, &o))
			return 0;
	}
	/* nothing opened: say why for the partition that should have */
	if (nt) {
		ret = try_open(x, bsw_disk_part(x->d, typed[0]), fx, &o);
	} else {
		for (i = 0; i < nu; i++)
			if (meant_for_ntfs(bsw_disk_part(x->d, untyped[i])))
				break;
		if (i < nu)
			ret = try_open(x, bsw_disk_part(x->d, untyped[i]), fx, &o);
	}
	if (!ret && x->v)
		return 0;
nothing:
	for (i = 0; i < n; i++)
		if (bsw_disk_part(x->d, i)->fs == BSW_FS_BITLOCKER && (!want || want == i + 1)) {
			fprintf(stderr,
				"bootsweep: %s: partition %u is encrypted (BitLocker); "
				"its volume cannot be checked\n",
				image, i + 1);
			vol_close(x);
			return BSW_EXIT_UNASSESS;
		}
	if (bsw_disk_io_error(x->d, &ioe)) {
		/* not a broken volume: bytes that could not be read */
		bsw_fx_drop_after(fx, ioe.tick);
		fprintf(stderr, "bootsweep: %s: I/O error: %s\n", image,
			bsw_disk_ioerr_str(&ioe, err, sizeof(err)));
	} else {
		fprintf(stderr, "bootsweep: %s: %s\n", image,
			nt || nu || want ? "cannot open an NTFS volume" : "no NTFS volume");
	}
fail:
	vol_close(x);
	return BSW_EXIT_OPERR;
}

static bool parse_part(const char *s, unsigned *out)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);

	if (!*s || *end || !n || n > 1024)
		return false;
	*out = (unsigned)n;
	return true;
}

/* ---------------- ls ---------------- */

struct ls_ctx {
	struct bsw_ntfs *v;
	const char *prefix;
	bool recurse;
	uint8_t *seen; /* directories visited: loop guard */
	unsigned depth;
};

static void flag_str(unsigned f, char *s)
{
	static const struct {
		unsigned bit;
		char c;
	} m[] = {
		{ BSW_NTFS_R_DIR, 'd' },     { BSW_NTFS_R_COMPRESSED, 'c' },
		{ BSW_NTFS_R_SPARSE, 's' },  { BSW_NTFS_R_WOF, 'w' },
		{ BSW_NTFS_R_REPARSE, 'r' }, { BSW_NTFS_R_ENCRYPTED, 'e' },
		{ BSW_NTFS_R_TORN, 't' },    { BSW_NTFS_R_BAD, 'b' },
	};
	unsigned i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		s[i] = (f & m[i].bit) ? m[i].c : '-';
	s[i] = 0;
}

static int ls_child(void *arg, uint64_t child, const char *name);

static void ls_dir(struct ls_ctx *c, uint64_t dir, const char *prefix)
{
	struct ls_ctx sub = *c;

	if (dir < bsw_ntfs_nr_records(c->v)) {
		if (c->seen[dir / 8] & (1u << (dir % 8)))
			return;
		c->seen[dir / 8] |= 1u << (dir % 8);
	}
	sub.prefix = prefix;
	sub.depth = c->depth + 1;
	if (sub.depth > 256)
		return;
	bsw_ntfs_readdir(c->v, dir, ls_child, &sub);
}

static int ls_child(void *arg, uint64_t child, const char *name)
{
	struct ls_ctx *c = arg;
	struct bsw_ntfs_stat st;
	char fl[16], *path;
	size_t pl;

	if (bsw_ntfs_stat(c->v, child, &st))
		return 0;
	flag_str(st.rflags, fl);
	pl = strlen(c->prefix) + strlen(name) + 2;
	path = malloc(pl);
	if (!path)
		return -ENOMEM;
	snprintf(path, pl, "%s\\%s", c->prefix, name);
	printf("%" PRIu64 "\t%u\t%s\t%" PRIu64 "\t%u\t%s\n", child, st.seq, fl, st.size,
	       st.link_count, c->recurse ? path : name);
	if (c->recurse && (st.rflags & BSW_NTFS_R_DIR) && child != 5)
		ls_dir(c, child, path);
	free(path);
	return 0;
}

static void ls_usage(FILE *f)
{
	fputs("usage: bootsweep ls IMAGE [PATH] [--partition N] [-R]\n"
	      "List a directory of the image's NTFS volume (default \\), -R recursively.\n",
	      f);
}

int bsw_cmd_ls(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "partition", required_argument, NULL, 'N' },
		{ "recursive", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *image = NULL, *path = "\\";
	unsigned part = 0;
	struct ls_ctx c = { 0 };
	struct vol x;
	uint64_t rec;
	int ret, o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "Rh", lo, NULL)) != -1) {
		switch (o) {
		case 'N':
			if (!parse_part(optarg, &part)) {
				fprintf(stderr, "bootsweep ls: --partition '%s': want 1 to 1024\n",
					optarg);
				return BSW_EXIT_USAGE;
			}
			break;
		case 'R': c.recurse = true; break;
		case 'h': ls_usage(stdout); return BSW_EXIT_OK;
		default: ls_usage(stderr); return BSW_EXIT_USAGE;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		ls_usage(stderr);
		return BSW_EXIT_USAGE;
	}
	image = argv[optind];
	if (argc - optind == 2)
		path = argv[optind + 1];
	ret = vol_open(&x, image, part, NULL, false);
	if (ret)
		return ret;
	if (bsw_ntfs_lookup(x.v, path, &rec)) {
		fprintf(stderr, "bootsweep: %s: %s: not found\n", image, path);
		vol_close(&x);
		return BSW_EXIT_OPERR;
	}
	c.v = x.v;
	c.seen = calloc(bsw_ntfs_nr_records(x.v) / 8 + 1, 1);
	if (!c.seen) {
		vol_close(&x);
		return BSW_EXIT_OPERR;
	}
	{
		struct bsw_ntfs_stat st;

		if (!bsw_ntfs_stat(x.v, rec, &st) && !(st.rflags & BSW_NTFS_R_DIR)) {
			char fl[16];

			flag_str(st.rflags, fl);
			printf("%" PRIu64 "\t%u\t%s\t%" PRIu64 "\t%u\t%s\n", rec, st.seq, fl,
			       st.size, st.link_count, path);
		} else {
			char pfx[4096];

			if (bsw_ntfs_path(x.v, rec, pfx, sizeof(pfx)) || !strcmp(pfx, "\\"))
				pfx[0] = 0;
			ls_dir(&c, rec, pfx);
		}
	}
	free(c.seen);
	vol_close(&x);
	return 0;
}

/* ---------------- cat --path ---------------- */

int bsw_cmd_ntfs_cat(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "partition", required_argument, NULL, 'N' },
		{ "path", required_argument, NULL, 'P' },
		{ "stream", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *image = NULL, *path = NULL, *stream = NULL;
	unsigned part = 0;
	struct vol x;
	uint64_t rec, off = 0;
	uint8_t *buf;
	int ret = 0, o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'N':
			if (!parse_part(optarg, &part))
				goto usage;
			break;
		case 'P': path = optarg; break;
		case 'S': stream = optarg; break;
		case 'h':
			printf("usage: bootsweep cat IMAGE --path PATH [--partition N] [--stream NAME]\n");
			return BSW_EXIT_OK;
		default: goto usage;
		}
	}
	if (argc - optind != 1 || !path)
		goto usage;
	image = argv[optind];
	ret = vol_open(&x, image, part, NULL, false);
	if (ret)
		return ret;
	if (bsw_ntfs_lookup(x.v, path, &rec)) {
		fprintf(stderr, "bootsweep: %s: %s: not found\n", image, path);
		vol_close(&x);
		return BSW_EXIT_OPERR;
	}
	buf = malloc(1 << 20);
	if (!buf) {
		vol_close(&x);
		return BSW_EXIT_OPERR;
	}
	for (;;) {
		int64_t n = bsw_ntfs_read(x.v, rec, stream, buf, 1 << 20, off);

		if (n < 0) {
			struct bsw_disk_ioerr ioe;
			char why[768];

			if (bsw_disk_io_error(x.d, &ioe))
				fprintf(stderr, "bootsweep: %s: %s: I/O error: %s\n", image, path,
					bsw_disk_ioerr_str(&ioe, why, sizeof(why)));
			else
				fprintf(stderr, "bootsweep: %s: %s: %s\n", image, path,
					strerror((int)-n));
			ret = BSW_EXIT_OPERR;
			break;
		}
		if (!n)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			ret = BSW_EXIT_OPERR;
			break;
		}
		off += (uint64_t)n;
	}
	free(buf);
	vol_close(&x);
	return ret;
usage:
	fprintf(stderr, "usage: bootsweep cat IMAGE --path PATH [--partition N] [--stream NAME]\n");
	return BSW_EXIT_USAGE;
}

/* ---------------- check ---------------- */

static void check_usage(FILE *f)
{
	fputs("usage: bootsweep check IMAGE... [--partition N] [--json]\n"
	      "NTFS volume checks: boot sector, every MFT record, $MFTMirr, $Volume,\n"
	      "$LogFile, $Bitmap.  Text: one line per finding, then one verdict line per\n"
	      "image; --json: one object per image.\n",
	      f);
}

int bsw_cmd_check(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "partition", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	unsigned part = 0;
	int i, rc = 0, o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'J': json = true; break;
		case 'N':
			if (!parse_part(optarg, &part)) {
				fprintf(stderr,
					"bootsweep check: --partition '%s': want 1 to 1024\n",
					optarg);
				return BSW_EXIT_USAGE;
			}
			break;
		case 'h': check_usage(stdout); return BSW_EXIT_OK;
		default: check_usage(stderr); return BSW_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		check_usage(stderr);
		return BSW_EXIT_USAGE;
	}
	for (i = optind; i < argc; i++) {
		struct bsw_report_check r;
		struct bsw_disk_ioerr ioe;
		struct bsw_fx *fx;
		struct vol x;
		char why[768];
		size_t k;
		int ret;
		bool opened;
		enum bsw_severity worst = BSW_SEV_INFO;

		if (bsw_fx_create(&fx)) {
			rc |= BSW_EXIT_OPERR;
			continue;
		}
		ret = vol_open(&x, argv[i], part, fx, true);
		rc |= ret;
		opened = !ret;
		if (!ret && bsw_disk_io_error(x.d, &ioe)) {
			bsw_fx_drop_after(fx, ioe.tick);
			fprintf(stderr, "bootsweep: %s: I/O error: %s\n", argv[i],
				bsw_disk_ioerr_str(&ioe, why, sizeof(why)));
			rc |= BSW_EXIT_OPERR;
			ret = BSW_EXIT_OPERR; /* the verdict line says "not checked" */
		}
		bsw_fx_finish(fx);
		for (k = 0; k < bsw_fx_count(fx); k++)
			if (bsw_fx_get(fx, k)->severity > worst)
				worst = bsw_fx_get(fx, k)->severity;
		if (worst >= BSW_SEV_ERROR)
			rc |= BSW_EXIT_UNBOOT;
		r = (struct bsw_report_check){
			.image = argv[i],
			.fx = fx,
			.state = ret == BSW_EXIT_UNASSESS ? BSW_CHECK_ENCRYPTED :
				 ret			  ? BSW_CHECK_ERROR :
				 worst >= BSW_SEV_ERROR	  ? BSW_CHECK_DAMAGED :
							    BSW_CHECK_CLEAN,
		};
		if (json)
			bsw_report_check_json(stdout, &r);
		else
			bsw_report_check_text(stdout, &r);
		if (opened)
			vol_close(&x);
		bsw_fx_destroy(fx);
	}
	return rc;
}
