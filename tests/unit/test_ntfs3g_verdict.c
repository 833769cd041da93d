/*
 * libntfs-3g binding: (1) read-only proof: mounting, walking, hashing and
 * the verdict through the binding leave a corpus volume copy, a made
 * volume and its VHDX conversion byte-identical with the same mtime/ctime;
 * (2) the mount-time verdict on faults injected into a made volume (dirty
 * flag, hiberfil.sys, zeroed boot sector, $MFTMirr mismatch, $LogFile
 * restart pages destroyed) gives the expected rows, and libntfs-3g's log
 * lands in the finding, not on stderr.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs.h"
#include "formats/ntfs/ntfs_lib.h"
#include "scanner/checks/bootfiles.h"
#include "scanner/disk.h"
#include "t_helpers.h"
#include "test_ntfs3g_mkvol.h"

static char work[512];

struct fstate {
	uint8_t sha[32];
	struct timespec mtime, ctime;
	off_t size;
};

static int fstate(const char *path, struct fstate *s)
{
	uint8_t *buf = malloc(1 << 20);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int l = 32;
	struct stat st;
	FILE *f;
	size_t n;

	if (!buf || !md || stat(path, &st) || !(f = fopen(path, "rb"))) {
		free(buf);
		EVP_MD_CTX_free(md);
		return -1;
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, 1 << 20, f)) > 0)
		EVP_DigestUpdate(md, buf, n);
	fclose(f);
	EVP_DigestFinal_ex(md, s->sha, &l);
	EVP_MD_CTX_free(md);
	free(buf);
	s->mtime = st.st_mtim;
	s->ctime = st.st_ctim;
	s->size = st.st_size;
	return 0;
}

static int count_ent(void *arg, const struct bsw_ntfs3g_ent *e)
{
	(*(unsigned *)arg)++;
	return 0;
}

/* Everything the binding does, on every NTFS volume of the image. */
static void exercise(const char *path)
{
	struct bsw_disk_opts o = { 0 };
	struct bsw_disk *d = NULL;
	char err[256];
	unsigned i, vols = 0;

	T_CHECK(bsw_disk_open(&d, path, &o, NULL, err, sizeof(err)) == 0, "%s: %s", path, err);
	if (!d)
		return;
	for (i = 0; i < bsw_disk_nr_parts(d); i++) {
		const struct bsw_part *p = bsw_disk_part(d, i);
		struct bsw_src src;
		struct bsw_src_window win;
		struct bsw_ntfs3g *v = NULL;
		struct bsw_fx *fx = NULL;
		unsigned n = 0;
		uint64_t rec;
		uint8_t *data;
		size_t len;

		if (p->fs != BSW_FS_NTFS)
			continue;
		vols++;
		bsw_disk_part_src(d, p, &src, &win);
		bsw_fx_create(&fx);
		T_CHECK(bsw_ntfs3g_verdict(&src, fx) >= 0, "%s verdict", path);
		bsw_fx_destroy(fx);
		if (bsw_ntfs3g_open(&v, &src, NULL)) {
			T_CHECK(0, "%s: mount", path);
			continue;
		}
		T_CHECK(bsw_ntfs3g_walk(v, true, count_ent, &n) == 0 && n > 10, "%s: walk %u", path,
			n);
		T_CHECK(bsw_ntfs3g_lookup(v, "\\$MFT", &rec) == 0 && rec == 0, "%s: lookup $MFT",
			path);
		T_CHECK(bsw_ntfs3g_read_all(v, 3, &data, &len, 1 << 20) == 0, "%s: read $Volume",
			path);
		free(data);
		bsw_ntfs3g_close(v);
	}
	T_CHECK(vols > 0, "%s: no NTFS volume", path);
	bsw_disk_close(d);
}

static void ro_proof(const char *path)
{
	struct fstate a, b;

	if (fstate(path, &a)) {
		T_CHECK(0, "cannot hash %s", path);
		return;
	}
	sleep(0);
	exercise(path);
	T_CHECK(fstate(path, &b) == 0, "rehash %s", path);
	T_CHECK(!memcmp(a.sha, b.sha, 32), "%s: content changed", path);
	T_CHECK(a.size == b.size, "%s: size changed", path);
	T_CHECK(a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec,
		"%s: mtime changed", path);
	T_CHECK(a.ctime.tv_sec == b.ctime.tv_sec && a.ctime.tv_nsec == b.ctime.tv_nsec,
		"%s: ctime changed", path);
	printf("read-only proof: %s unchanged (sha256, size, mtime, ctime)\n", path);
}

static uint8_t *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(*len);
	if (b && fread(b, 1, *len, f) != *len) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

/*
 * Run the verdict on a memory image with stderr captured; returns the
 * collector and checks libntfs-3g printed nothing.
 */
static struct bsw_fx *verdict_mem(const char *what, const uint8_t *img, size_t len, int *ret)
{
	struct bsw_src src;
	struct bsw_src_mem mem;
	struct bsw_fx *fx = NULL;
	char errpath[600];
	struct stat st;
	int saved, fd;

	bsw_src_mem_init(&src, &mem, img, len);
	bsw_fx_create(&fx);
	snprintf(errpath, sizeof(errpath), "%s/stderr.txt", work);
	fflush(stderr);
	saved = dup(2);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	*ret = bsw_ntfs3g_verdict(&src, fx);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	T_CHECK(stat(errpath, &st) == 0 && st.st_size == 0,
		"%s: libntfs-3g wrote %lld bytes to stderr", what, (long long)st.st_size);
	bsw_fx_finish(fx);
	for (size_t i = 0; i < bsw_fx_count(fx); i++) {
		char msg[2048];

		bsw_finding_message(bsw_fx_get(fx, i), msg, sizeof(msg));
		printf("%s: %s %s\n", what, bsw_problem_info(bsw_fx_get(fx, i)->problem)->code,
		       msg);
	}
	return fx;
}

/* Does bootsweep's own reader report code on this image? */
static bool bsw_says(const uint8_t *img, size_t len, const char *code)
{
	struct bsw_ntfs_opts o = { .run_checks = true,
				   .critical = bsw_boot_files,
				   .nr_critical = bsw_nr_boot_files };
	struct bsw_src src;
	struct bsw_src_mem mem;
	struct bsw_fx *fx = NULL;
	struct bsw_ntfs *v = NULL;
	bool has;

	bsw_src_mem_init(&src, &mem, img, len);
	bsw_fx_create(&fx);
	if (!bsw_ntfs_open(&v, &src, fx, &o))
		bsw_ntfs_close(v);
	has = bsw_fx_has_code(fx, code);
	bsw_fx_destroy(fx);
	return has;
}

/* Modify a copy of the made volume through libntfs-3g (scratch only). */
static int mod_copy(const char *base, const char *out, int what)
{
	char cmd[1300];
	ntfs_volume *vol;
	int r = 0;

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", base, out);
	if (system(cmd))
		return -1;
	vol = ntfs_mount(out, 0);
	if (!vol)
		return -1;
	if (what == 0) {
		r = ntfs_volume_write_flags(vol, le16_to_cpu(VOLUME_IS_DIRTY));
	} else {
		ntfs_inode *root = ntfs_inode_open(vol, FILE_root);
		ntfs_inode *ni = root ? t_mk(root, "hiberfil.sys", S_IFREG) : NULL;
		ntfs_attr *na = ni ? ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0) : NULL;
		uint8_t page[8192] = { 'h', 'i', 'b', 'r' };

		r = na && ntfs_attr_pwrite(na, 0, sizeof(page), page) == (s64)sizeof(page) ? 0 : -1;
		if (na)
			ntfs_attr_close(na);
		r |= t_close(ni, root);
		r |= t_close(root, NULL);
	}
	if (ntfs_umount(vol, FALSE))
		r = -1;
	return r;
}

static void verdicts(const char *base)
{
	char path[700];
	uint8_t *img, *c;
	size_t len, l2;
	struct bsw_fx *fx;
	uint64_t clus, mirr, off;
	int ret, found;

	img = load(base, &len);
	if (!img) {
		T_CHECK(0, "load %s", base);
		return;
	}
	fx = verdict_mem("clean", img, len, &ret);
	T_CHECK(ret == 0 && bsw_fx_count(fx) == 0, "clean: %d findings", ret);
	T_CHECK(!bsw_says(img, len, "NTFS-VOLFLAG") && !bsw_says(img, len, "NTFS-LOGCLEAN"),
		"clean: bootsweep disagrees");
	bsw_fx_destroy(fx);

	/* dirty flag */
	snprintf(path, sizeof(path), "%s/v-dirty.raw", work);
	if (mod_copy(base, path, 0) == 0 && (c = load(path, &l2))) {
		fx = verdict_mem("dirty", c, l2, &ret);
		T_CHECK(bsw_fx_nr(fx, PR_NTFS3G_F0_VOLFLAG) == 1, "dirty: VOLFLAG");
		T_CHECK(bsw_says(c, l2, "NTFS-VOLFLAG"), "dirty: bootsweep disagrees");
		bsw_fx_destroy(fx);
		free(c);
	} else {
		T_CHECK(0, "could not make the dirty copy");
	}

	/* hibernated Windows */
	snprintf(path, sizeof(path), "%s/v-hiber.raw", work);
	if (mod_copy(base, path, 1) == 0 && (c = load(path, &l2))) {
		fx = verdict_mem("hiber", c, l2, &ret);
		T_CHECK(bsw_fx_nr(fx, PR_NTFS3G_F0_HIBER) == 1, "hiber: HIBER");
		T_CHECK(bsw_says(c, l2, "NTFS-HIBER"), "hiber: bootsweep disagrees");
		bsw_fx_destroy(fx);
		free(c);
	} else {
		T_CHECK(0, "could not make the hiberfil copy");
	}

	/* zeroed boot sector: libntfs-3g refuses, and says why */
	c = malloc(len);
	memcpy(c, img, len);
	memset(c, 0, 512);
	fx = verdict_mem("boot-zero", c, len, &ret);
	T_CHECK(ret == 1 && bsw_fx_nr(fx, PR_NTFS3G_F0_MOUNT) == 1, "boot-zero: MOUNT (%d)", ret);
	if (bsw_fx_count(fx))
		T_CHECK(bsw_fx_get(fx, 0)->str2 && bsw_fx_get(fx, 0)->str2[0],
			"boot-zero: libntfs-3g's log is in the finding");
	bsw_fx_destroy(fx);

	/* $MFTMirr record 0 differs from $MFT record 0 (BPB 0x38, 0x0B, 0x0D) */
	memcpy(c, img, len);
	clus = (uint64_t)get_le16(img + 0x0B) * img[0x0D];
	mirr = get_le64(img + 0x38) * clus;
	if (mirr + 1024 <= len) {
		c[mirr + 0x180] ^= 0x5A;
		fx = verdict_mem("mirr", c, len, &ret);
		T_CHECK(bsw_fx_nr(fx, PR_NTFS3G_F0_MIRR) == 1, "mirr: MIRR");
		T_CHECK(bsw_says(c, len, "NTFS-MIRR"), "mirr: bootsweep disagrees");
		bsw_fx_destroy(fx);
	}

	/*
	 * $LogFile neither empty (all 0xFF, as mkntfs leaves it) nor holding a
	 * restart page: garbage over its first two pages.  Where it lives comes
	 * from a read-only libntfs-3g mount of the test's own file.
	 */
	memcpy(c, img, len);
	found = 0;
	{
		ntfs_volume *vol = ntfs_mount(base, NTFS_MNT_RDONLY);
		ntfs_inode *ni = vol ? ntfs_inode_open(vol, FILE_LogFile) : NULL;
		ntfs_attr *na = ni ? ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0) : NULL;

		if (na && !ntfs_attr_map_whole_runlist(na) && na->rl && na->rl[0].lcn >= 0) {
			off = (uint64_t)na->rl[0].lcn * vol->cluster_size;
			if (off + 8192 <= len) {
				memset(c + off, 0x42, 8192);
				found = 1;
			}
		}
		if (na)
			ntfs_attr_close(na);
		if (ni)
			ntfs_inode_close(ni);
		if (vol)
			ntfs_umount(vol, FALSE);
	}
	T_CHECK(found == 1, "$LogFile not located");
	fx = verdict_mem("logfile", c, len, &ret);
	T_CHECK(bsw_fx_nr(fx, PR_NTFS3G_F0_LOG_BAD) == 1, "logfile: LOG_BAD");
	T_CHECK(bsw_says(c, len, "NTFS-LOGSTRUCT"), "logfile: bootsweep disagrees");
	bsw_fx_destroy(fx);
	free(c);
	free(img);
}

int main(void)
{
	char base[600], path[700], cmd[3000];
	const char *corpus = getenv("BSW_CORPUS");

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(work, sizeof(work), "%s/ntfs3g", BSW_BINDIR);
	mkdir(work, 0755);
	snprintf(base, sizeof(base), "%s/v-base.raw", work);
	if (t_mkvol(base, 16u << 20, 0)) {
		T_CHECK(0, "could not make %s", base);
		return T_DONE();
	}
	verdicts(base);

	/* read-only proof on a corpus copy, the made volume, and its VHDX */
	snprintf(path, sizeof(path), "%s/ro-testfs1.raw", work);
	snprintf(cmd, sizeof(cmd), "cp '%s/ntfs-rs/testdata/testfs1' '%s' && chmod 644 '%s'",
		 corpus ? corpus : BSW_CORPUS, path, path);
	if (!system(cmd))
		ro_proof(path);
	else
		printf("corpus testfs1 missing: that proof skipped\n");
	ro_proof(base);
	snprintf(path, sizeof(path), "%s/v-base.vhdx", work);
	snprintf(cmd, sizeof(cmd), "rm -f '%s' && qemu-img convert -f raw -O vhdx '%s' '%s'", path,
		 base, path);
	if (!system(cmd))
		ro_proof(path);
	return T_DONE();
}
