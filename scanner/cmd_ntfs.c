/*
 * bootsweep ls / cat --path / check: the NTFS subcommands on top of
 * bsw_disk (containers, partitions) and bootsweep's own NTFS reader.
 * A volume is chosen by --partition N (1-based, bsw_disk_part order), else
 * the only NTFS volume, else the one holding \Windows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/ntfs/ntfs.h"
#include "scanner/cmds.h"
#include "scanner/disk.h"

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
static int try_open(struct vol *x, const struct bsw_part *p,
		    struct bsw_fx *fx, const struct bsw_ntfs_opts *o)
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
static int vol_open(struct vol *x, const char *image, unsigned want,
		    struct bsw_fx *fx, bool checks)
{
	struct bsw_ntfs_opts o = { .run_checks = checks };
	struct bsw_ntfs_opts q = { 0 };
	unsigned i, n, typed[64], untyped[64], nt = 0, nu = 0;
	char err[512];
	int ret = -ENOENT, pick;

	memset(x, 0, sizeof(*x));
	ret = bsw_disk_open(&x->d, image, NULL, fx, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "bootsweep: %s: %s\n", image,
			err[0] ? err : strerror(-ret));
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
			 (p->fs == BSW_FS_UNKNOWN || p->fs == BSW_FS_ZERO ||
			  p->fs == BSW_FS_OTHER))
			untyped[nu++] = i;
	}
	pick = pick_quietly(x, typed, nt);
	if (pick >= 0 && !try_open(x, bsw_disk_part(x->d, typed[pick]), fx, &o))
		return 0;
	pick = pick_quietly(x, untyped, nu);
	if (pick >= 0 && !try_open(x, bsw_disk_part(x->d, untyped[pick]), fx, &o))
		return 0;
	if (!n && !strcmp(bsw_disk_scheme(x->d), "none") &&
	    !try_open(x, NULL, NULL, &q)) {
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
	fprintf(stderr, "bootsweep: %s: %s\n", image,
		nt || nu || want ? "cannot open an NTFS volume" : "no NTFS volume");
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
	uint8_t *seen;		/* directories visited: loop guard */
	unsigned depth;
};

static void flag_str(unsigned f, char *s)
{
	static const struct { unsigned bit; char c; } m[] = {
		{ BSW_NTFS_R_DIR, 'd' }, { BSW_NTFS_R_COMPRESSED, 'c' },
		{ BSW_NTFS_R_SPARSE, 's' }, { BSW_NTFS_R_WOF, 'w' },
		{ BSW_NTFS_R_REPARSE, 'r' }, { BSW_NTFS_R_ENCRYPTED, 'e' },
		{ BSW_NTFS_R_TORN, 't' }, { BSW_NTFS_R_BAD, 'b' },
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
	printf("%" PRIu64 "\t%u\t%s\t%" PRIu64 "\t%u\t%s\n", child, st.seq, fl,
	       st.size, st.link_count, c->recurse ? path : name);
	if (c->recurse && (st.rflags & BSW_NTFS_R_DIR) && child != 5)
		ls_dir(c, child, path);
	free(path);
	return 0;
}

int bsw_cmd_ls(int argc, char **argv)
{
	const char *image = NULL, *path = "\\";
	unsigned part = 0;
	struct ls_ctx c = { 0 };
	struct vol x;
	uint64_t rec;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--partition") && i + 1 < argc) {
			if (!parse_part(argv[++i], &part))
				goto usage;
		} else if (!strcmp(argv[i], "-R")) {
			c.recurse = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			goto usage;
		} else if (!image) {
			image = argv[i];
		} else {
			path = argv[i];
		}
	}
	if (!image)
		goto usage;
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
			printf("%" PRIu64 "\t%u\t%s\t%" PRIu64 "\t%u\t%s\n", rec,
			       st.seq, fl, st.size, st.link_count, path);
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
usage:
	fprintf(stderr, "usage: bootsweep ls IMAGE [--partition N] [PATH] [-R]\n");
	return BSW_EXIT_USAGE;
}

/* ---------------- cat --path ---------------- */

int bsw_cmd_ntfs_cat(int argc, char **argv)
{
	const char *image = NULL, *path = NULL, *stream = NULL;
	unsigned part = 0;
	struct vol x;
	uint64_t rec, off = 0;
	uint8_t *buf;
	int i, ret = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--partition") && i + 1 < argc) {
			if (!parse_part(argv[++i], &part))
				goto usage;
		} else if (!strcmp(argv[i], "--path") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "--stream") && i + 1 < argc) {
			stream = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			goto usage;
		} else if (!image) {
			image = argv[i];
		} else {
			goto usage;
		}
	}
	if (!image || !path)
		goto usage;
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

int bsw_cmd_check(int argc, char **argv)
{
	bool json = false;
	unsigned part = 0;
	int i, rc = 0, nimg = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--partition") && i + 1 < argc) {
			if (!parse_part(argv[++i], &part))
				goto usage;
		} else if (argv[i][0] == '-' && argv[i][1])
			goto usage;
		else
			nimg++;
	}
	if (!nimg)
		goto usage;
	for (i = 1; i < argc; i++) {
		struct bsw_fx *fx;
		struct vol x;
		size_t k;
		int ret;

		if (!strcmp(argv[i], "--partition")) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			continue;
		if (bsw_fx_create(&fx)) {
			rc |= BSW_EXIT_OPERR;
			continue;
		}
		ret = vol_open(&x, argv[i], part, fx, true);
		rc |= ret;
		bsw_fx_finish(fx);
		for (k = 0; k < bsw_fx_count(fx); k++) {
			const struct bsw_finding *f = bsw_fx_get(fx, k);
			const struct bsw_problem_info *pi = bsw_problem_info(f->problem);
			char msg[1024];

			if (json) {
				bsw_finding_json(f, stdout);
				fputc('\n', stdout);
			} else {
				bsw_finding_message(f, msg, sizeof(msg));
				printf("%s: %s %s %s: %s\n", argv[i],
				       bsw_severity_name(f->severity), pi->code,
				       f->scope ? f->scope : "-", msg);
			}
			if (f->severity >= BSW_SEV_ERROR)
				rc |= BSW_EXIT_UNBOOT;
		}
		if (!ret)
			vol_close(&x);
		bsw_fx_destroy(fx);
	}
	return rc;
usage:
	fprintf(stderr, "usage: bootsweep check IMAGE... [--partition N] [--json]\n");
	return BSW_EXIT_USAGE;
}
