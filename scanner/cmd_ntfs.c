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

/*
 * Open image and its NTFS volume.  want 0 = choose.  Returns 0, or an exit
 * status bit (BSW_EXIT_OPERR) with a message on stderr.
 */
static int vol_open(struct vol *x, const char *image, unsigned want,
		    struct bsw_fx *fx, bool checks)
{
	struct bsw_ntfs_opts o = { .run_checks = checks };
	char err[512];
	unsigned i, n, cand[64], nc = 0;
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
		cand[nc++] = want - 1;
	} else {
		for (i = 0; i < n && nc < 64; i++)
			if (bsw_disk_part(x->d, i)->fs == BSW_FS_NTFS)
				cand[nc++] = i;
		/*
		 * A volume whose primary boot sector is damaged is not typed
		 * NTFS by the partition layer: try the untyped ones too, the
		 * reader falls back to the backup boot sector.
		 */
		for (i = 0; i < n && nc < 64; i++) {
			const struct bsw_part *p = bsw_disk_part(x->d, i);

			if (!p->esp && (p->fs == BSW_FS_UNKNOWN ||
					p->fs == BSW_FS_ZERO || p->fs == BSW_FS_OTHER))
				cand[nc++] = i;
		}
	}
	if (!nc && !n && want <= 1) {
		/*
		 * Nothing recognised at all: maybe a bare volume whose boot
		 * sector is damaged; the reader tries the backup.
		 */
		char *prev = fx ? bsw_fx_push_scope(fx, "part1:ntfs") : NULL;

		x->src = *bsw_disk_src(x->d);
		ret = bsw_ntfs_open(&x->v, &x->src, fx, &o);
		if (fx)
			bsw_fx_restore_scope(fx, prev);
		if (!ret) {
			x->part = 1;
			return 0;
		}
	}
	if (!nc) {
		fprintf(stderr, "bootsweep: %s: no NTFS volume\n", image);
		goto fail;
	}
	pick = -1;
	for (i = 0; i < nc && nc > 1; i++) {
		const struct bsw_part *p = bsw_disk_part(x->d, cand[i]);
		struct bsw_ntfs_opts q = { 0 };
		uint64_t rec;

		bsw_disk_part_src(x->d, p, &x->src, &x->win);
		if (bsw_ntfs_open(&x->v, &x->src, NULL, &q))
			continue;
		if (pick < 0)
			pick = (int)i;
		if (!bsw_ntfs_lookup(x->v, "\\Windows", &rec)) {
			pick = (int)i;
			bsw_ntfs_close(x->v);
			x->v = NULL;
			break;
		}
		bsw_ntfs_close(x->v);
		x->v = NULL;
	}
	if (nc == 1)
		pick = 0;
	if (pick >= 0) {
		const struct bsw_part *p = bsw_disk_part(x->d, cand[pick]);
		char *prev = NULL, scope[32];

		snprintf(scope, sizeof(scope), "part%u:ntfs", p->index);
		if (fx)
			prev = bsw_fx_push_scope(fx, scope);
		bsw_disk_part_src(x->d, p, &x->src, &x->win);
		ret = bsw_ntfs_open(&x->v, &x->src, fx, &o);
		if (fx)
			bsw_fx_restore_scope(fx, prev);
		if (!ret) {
			x->part = p->index;
			return 0;
		}
	}
	fprintf(stderr, "bootsweep: %s: cannot open an NTFS volume (%s)\n",
		image, ret ? strerror(-ret) : "none found");
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
