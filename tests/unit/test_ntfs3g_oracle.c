/*
 * Oracle test: libntfs-3g (through formats/ntfs/ntfs_lib.c) against
 * bootsweep's own NTFS reader (formats/ntfs/ntfs.h) on every NTFS volume of
 * the corpus, the NTFS reader's Windows-shaped test volume, and a volume
 * made here with mkntfs and filled through libntfs-3g (also read as VHD and
 * VHDX through the container layer).  Every path libntfs-3g lists must
 * resolve in bootsweep to the same record, with the same link count, size
 * and content SHA-256; every path bootsweep lists must be in libntfs-3g's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "formats/ntfs/ntfs.h"
#include "formats/ntfs/ntfs_lib.h"
#include "scanner/checks/bootfiles.h"
#include "scanner/disk.h"
#include "t_helpers.h"
#include "test_ntfs3g_mkvol.h"

#define MAX_SHOWN 15	      /* mismatches printed per volume */
#define HASH_MAX (256u << 20) /* files above this are not hashed */

static char work[512];

struct strv {
	char **s;
	size_t n, cap;
};

static void strv_add(struct strv *v, const char *s)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 1024;
		v->s = realloc(v->s, v->cap * sizeof(*v->s));
		if (!v->s)
			abort();
	}
	v->s[v->n++] = strdup(s);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strv_free(struct strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->s[i]);
	free(v->s);
}

struct cmp {
	const char *name;
	struct bsw_ntfs *bv;
	struct strv paths; /* "rec\tpath" from libntfs-3g */
	unsigned entries, hashed, skipped, bad;
};

#define MISMATCH(c, ...)                                                                           \
	do {                                                                                       \
		if ((c)->bad++ < MAX_SHOWN) {                                                      \
			fprintf(stderr, "%s: ", (c)->name);                                        \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

static void sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned int l = 32;

	EVP_Digest(p, n, out, &l, EVP_sha256(), NULL);
}

static int on_ent(void *arg, const struct bsw_ntfs3g_ent *e)
{
	struct cmp *c = arg;
	struct bsw_ntfs_stat st;
	char line[8300];
	uint64_t rec;

	c->entries++;
	snprintf(line, sizeof(line), "%llu\t%s", (unsigned long long)e->rec, e->path);
	strv_add(&c->paths, line);
	if (bsw_ntfs_lookup(c->bv, e->path, &rec)) {
		MISMATCH(c, "%s (record %llu): bootsweep cannot find it", e->path,
			 (unsigned long long)e->rec);
		return 0;
	}
	if (rec != e->rec) {
		MISMATCH(c, "%s: record %llu, libntfs-3g says %llu", e->path,
			 (unsigned long long)rec, (unsigned long long)e->rec);
		return 0;
	}
	if (bsw_ntfs_stat(c->bv, rec, &st)) {
		MISMATCH(c, "%s: bootsweep cannot stat record %llu", e->path,
			 (unsigned long long)rec);
		return 0;
	}
	if (st.link_count != e->link_count)
		MISMATCH(c, "%s: link count %u, libntfs-3g says %u", e->path, st.link_count,
			 e->link_count);
	if (!!(st.rflags & BSW_NTFS_R_DIR) != e->dir)
		MISMATCH(c, "%s: directory flag differs", e->path);
	if (e->dir)
		return 0;
	if (st.size != e->size)
		MISMATCH(c, "%s: size %llu, libntfs-3g says %llu", e->path,
			 (unsigned long long)st.size, (unsigned long long)e->size);
	if (!e->has_sha || e->size > HASH_MAX) {
		c->skipped++;
		return 0;
	}
	{
		uint8_t *data = NULL, h[32];
		size_t len = 0;
		int r = bsw_ntfs_read_all(c->bv, rec, NULL, &data, &len, HASH_MAX);

		if (r == -EOPNOTSUPP) {
			c->skipped++;
		} else if (r) {
			MISMATCH(c, "%s: bootsweep cannot read it (%d)", e->path, r);
		} else {
			sha256(data, len, h);
			if (memcmp(h, e->sha256, 32))
				MISMATCH(c, "%s (record %llu, %zu bytes): content SHA-256 differs",
					 e->path, (unsigned long long)rec, len);
			else
				c->hashed++;
		}
		free(data);
	}
	return 0;
}

/* bootsweep's own tree, as "rec\tpath", every name, directories once. */
struct bwalk {
	struct bsw_ntfs *v;
	struct strv *out;
	uint8_t *seen;
	uint64_t nr;
	char path[8192];
	size_t plen;
	int depth;
};

static int on_child(void *arg, uint64_t child, const char *name)
{
	struct bwalk *w = arg;
	struct bsw_ntfs_stat st;
	char line[8300];
	size_t pl = w->plen, nl = strlen(name);

	if (child == 5 || pl + nl + 2 > sizeof(w->path))
		return 0;
	w->path[pl] = '\\';
	memcpy(w->path + pl + 1, name, nl + 1);
	snprintf(line, sizeof(line), "%llu\t%s", (unsigned long long)child, w->path);
	strv_add(w->out, line);
	if (!bsw_ntfs_stat(w->v, child, &st) && (st.rflags & BSW_NTFS_R_DIR) && child < w->nr &&
	    !(w->seen[child / 8] & (1u << (child % 8))) && w->depth < 256) {
		w->seen[child / 8] |= (uint8_t)(1u << (child % 8));
		w->plen = pl + 1 + nl;
		w->depth++;
		bsw_ntfs_readdir(w->v, child, on_child, w);
		w->depth--;
		w->plen = pl;
	}
	w->path[pl] = '\0';
	return 0;
}

/*
 * Names that bootsweep's namespace (built from $FILE_NAME parent references)
 * has and libntfs-3g's index walk has not, checked by hand with fls.
 */
static bool known_extra(const char *vol, const char *line)
{
	return !strncmp(vol, "dfir-ntfs3.raw", 14) && !strcmp(line, "28\t\\test\\1.txt");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void compare(const char *name, const struct bsw_src *src)
{
	double t0 = now(), t1, t2;
	struct bsw_ntfs_opts o = { .run_checks = true,
				   .critical = bsw_boot_files,
				   .nr_critical = bsw_nr_boot_files };
	struct bsw_fx *bfx = NULL;
	struct bsw_ntfs3g *gv = NULL;
	struct cmp c = { .name = name };
	struct strv mine = { 0 };
	struct bwalk w = { 0 };
	size_t i, j;
	int r;

	r = bsw_ntfs3g_open(&gv, src, NULL);
	T_CHECK(r == 0, "%s: libntfs-3g mount: %d", name, r);
	if (r)
		return;
	bsw_fx_create(&bfx);
	r = bsw_ntfs_open(&c.bv, src, bfx, &o);
	T_CHECK(r == 0, "%s: bsw_ntfs_open: %d", name, r);
	if (r) {
		bsw_fx_destroy(bfx);
		bsw_ntfs3g_close(gv);
		return;
	}
	t1 = now();
	r = bsw_ntfs3g_walk(gv, true, on_ent, &c);
	t2 = now();
	T_CHECK(r == 0, "%s: walk %d", name, r);
	T_CHECK(c.entries > 10, "%s: only %u entries", name, c.entries);

	w.v = c.bv;
	w.out = &mine;
	w.nr = bsw_ntfs_nr_records(c.bv);
	w.seen = calloc(w.nr / 8 + 1, 1);
	bsw_ntfs_readdir(c.bv, 5, on_child, &w);
	free(w.seen);

	/* both name sets must be equal */
	qsort(c.paths.s, c.paths.n, sizeof(char *), cmpstr);
	qsort(mine.s, mine.n, sizeof(char *), cmpstr);
	for (i = j = 0; i < c.paths.n || j < mine.n;) {
		int d = i == c.paths.n ? 1 : j == mine.n ? -1 : strcmp(c.paths.s[i], mine.s[j]);

		/* MISMATCH may not evaluate its arguments: step outside it */
		if (d == 0) {
			i++, j++;
		} else if (d < 0) {
			MISMATCH(&c, "only libntfs-3g lists %s", c.paths.s[i]);
			i++;
		} else if (known_extra(name, mine.s[j])) {
			printf("%s: only bootsweep lists %s (known: not in the parent index; fls marks the name deleted)\n",
			       name, mine.s[j]);
			j++;
		} else {
			MISMATCH(&c, "only bootsweep lists %s", mine.s[j]);
			j++;
		}
	}
	T_CHECK(c.bad == 0, "%s: %u mismatches", name, c.bad);
	printf("%s: %u names (bootsweep %zu), %u contents equal, %u not hashed, %u mismatches; open %.2fs, walk+compare %.2fs, total %.2fs\n",
	       name, c.entries, mine.n, c.hashed, c.skipped, c.bad, t1 - t0, t2 - t1, now() - t0);
	/* libntfs-3g's mount-time verdict on the same volume, for the log */
	{
		struct bsw_fx *fx = NULL;
		char msg[1024];

		if (!bsw_fx_create(&fx)) {
			r = bsw_ntfs3g_verdict(src, fx);
			T_CHECK(r >= 0, "%s: verdict %d", name, r);
			bsw_fx_finish(fx);
			for (i = 0; i < bsw_fx_count(fx); i++) {
				const struct bsw_finding *f = bsw_fx_get(fx, i);

				bsw_finding_message(f, msg, sizeof(msg));
				printf("%s: libntfs-3g verdict: %s %s\n", name,
				       bsw_problem_info(f->problem)->code, msg);
			}
			/* the same evidence, read twice, must agree */
			for (i = 0; i < 3; i++) {
				static const char *const same[] = { "NTFS-LOGCLEAN", "NTFS-VOLFLAG",
								    "NTFS-HIBER" };

				T_CHECK(bsw_fx_has_code(fx, same[i]) ==
						bsw_fx_has_code(bfx, same[i]),
					"%s: %s: libntfs-3g %d, bootsweep %d", name, same[i],
					bsw_fx_has_code(fx, same[i]),
					bsw_fx_has_code(bfx, same[i]));
			}
			bsw_fx_destroy(fx);
		}
	}
	bsw_fx_destroy(bfx);
	strv_free(&c.paths);
	strv_free(&mine);
	bsw_ntfs_close(c.bv);
	bsw_ntfs3g_close(gv);
}

/* Open an image through the container layer; compare each NTFS volume. */
static int compare_image(const char *label, const char *path)
{
	struct bsw_disk *d = NULL;
	struct bsw_disk_opts dopts = { 0 };
	char err[256] = "", name[256];
	unsigned i, vols = 0;
	int r;

	r = bsw_disk_open(&d, path, &dopts, NULL, err, sizeof(err));
	T_CHECK(r == 0, "%s: open %s: %d %s", label, path, r, err);
	if (r)
		return 0;
	for (i = 0; i < bsw_disk_nr_parts(d); i++) {
		const struct bsw_part *p = bsw_disk_part(d, i);
		struct bsw_src src;
		struct bsw_src_window win;

		if (p->fs != BSW_FS_NTFS)
			continue;
		bsw_disk_part_src(d, p, &src, &win);
		snprintf(name, sizeof(name), "%s#%u", label, p->index);
		compare(name, &src);
		vols++;
	}
	T_CHECK(vols > 0, "%s: no NTFS volume found", label);
	bsw_disk_close(d);
	return (int)vols;
}

/* Decompress a corpus file into the work dir once; path in out. */
static int unpack(const char *rel, const char *as, char *out, size_t len)
{
	char src[1024], cmd[6000];
	const char *corpus = getenv("BSW_CORPUS");
	struct stat st;
	size_t n;

	snprintf(src, sizeof(src), "%s/%s", corpus ? corpus : BSW_CORPUS, rel);
	snprintf(out, len, "%s/%s", work, as);
	if (stat(src, &st))
		return -1;
	if (!stat(out, &st) && st.st_size > 0)
		return 0;
	n = strlen(src);
	if (n > 3 && !strcmp(src + n - 3, ".xz"))
		snprintf(cmd, sizeof(cmd), "xz -dc '%s' > '%s.tmp' && mv '%s.tmp' '%s'", src, out,
			 out, out);
	else if (n > 3 && !strcmp(src + n - 3, ".gz"))
		snprintf(cmd, sizeof(cmd), "gzip -dc '%s' > '%s.tmp' && mv '%s.tmp' '%s'", src, out,
			 out, out);
	else
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, out);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	static const struct {
		const char *rel, *as;
	} vols[] = {
		{ "velociraptor/derived/test.ntfs.dd.raw.xz", "velo-test.raw" },
		{ "velociraptor/derived/partition_image.raw.xz", "velo-part.raw" },
		{ "dfir_ntfs/test_data/file_4k.bin", "dfir-4k.raw" },
		{ "dfir_ntfs/test_data/ntfs3.raw.gz", "dfir-ntfs3.raw" },
		{ "ntfs-rs/testdata/testfs1", "ntfsrs-testfs1.raw" },
		{ "dfvfs/derived/windows_volume.raw.xz", "dfvfs-win.raw" },
		{ "debian-forensics-samples/fs.multiple.xz", "multi.raw" },
	};
	char path[1024], cmd[4000];
	unsigned i, found = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(work, sizeof(work), "%s/ntfs3g", BSW_BINDIR);
	mkdir(work, 0755);

	for (i = 0; i < sizeof(vols) / sizeof(vols[0]); i++) {
		if (unpack(vols[i].rel, vols[i].as, path, sizeof(path))) {
			printf("%s: not in the corpus, skipped\n", vols[i].rel);
			continue;
		}
		found++;
		compare_image(vols[i].as, path);
	}

	/*
	 * mkfleet's small disks (GPT, ESP + Windows volume): the clean one, a
	 * broken hard link with changed content, a zero-length driver
	 */
	if (getenv("BSW_MKFLEET")) {
		static const char *const sc[] = { "clean", "half-rollback", "driver-empty" };

		snprintf(
			cmd, sizeof(cmd),
			"rm -rf '%s/fleet' && '%s' --out '%s/fleet' --scale small --scenarios clean,half-rollback,driver-empty >/dev/null",
			work, getenv("BSW_MKFLEET"), work);
		T_CHECK(system(cmd) == 0, "mkfleet failed");
		for (i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/fleet/%s.img", work, sc[i]);
			compare_image(sc[i], path);
		}
	} else {
		printf("mkfleet not built: generated disks skipped\n");
	}

	/* BSW_NTFS3G_IMAGE=path: compare one more image (by hand) */
	if (getenv("BSW_NTFS3G_IMAGE"))
		compare_image("extra", getenv("BSW_NTFS3G_IMAGE"));

	/* the NTFS reader's Windows-shaped volume */
	snprintf(path, sizeof(path), "%s/win.img", work);
	snprintf(cmd, sizeof(cmd), "xz -dc '%s/tests/images/ntfs/win.img.xz' > '%s'", BSW_SRCDIR,
		 path);
	if (!system(cmd))
		compare_image("win.img", path);

	/* a volume made here: raw, then as dynamic VHD and VHDX */
	snprintf(path, sizeof(path), "%s/made.raw", work);
	if (t_mkvol(path, 48u << 20, 1) == 0) {
		compare_image("made.raw", path);
		snprintf(
			cmd, sizeof(cmd),
			"qemu-img convert -f raw -O vpc -o subformat=dynamic '%s' '%s/made.vhd' && "
			"qemu-img convert -f raw -O vhdx '%s' '%s/made.vhdx'",
			path, work, path, work);
		if (!system(cmd)) {
			snprintf(path, sizeof(path), "%s/made.vhd", work);
			compare_image("made.vhd", path);
			snprintf(path, sizeof(path), "%s/made.vhdx", work);
			compare_image("made.vhdx", path);
		} else {
			printf("qemu-img unavailable: VHD/VHDX variants skipped\n");
		}
	} else {
		T_CHECK(0, "could not make the scratch volume");
	}
	if (!found)
		printf("no corpus volume found\n");
	return T_DONE();
}
