/*
 * Per-disk triage (docs/classifier.md): container and partitions, the
 * unassessable decisions (DISK-EMPTY, DISK-ENCRYPTED, DISK-NOTWIN,
 * DISK-UNREADABLE), the Windows volume (NTFS checks on), its hives with
 * their logs, then the boot-path, servicing and WinSxS checks; classify;
 * render one JSON line while the disk is still open.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "formats/bcd/bcd.h"
#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_lib.h"
#include "formats/part/part.h"
#include "scanner/checks/triage.h"
#include "scanner/cmds.h"
#include "scanner/report.h"

uint64_t bsw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool bsw_tctx_over(struct bsw_tctx *t)
{
	if (t->limited)
		return true;
	/* an I/O error stops the disk like a FATAL finding: what follows
	 * could only judge bytes that were not read (DISK-IO at the end) */
	if (t->d && bsw_disk_io_error(t->d, NULL))
		return true;
	/* SIGINT does not stop a disk in flight: its line is finished */
	if (t->o->timeout_s &&
	    bsw_now_ms() - t->t0_ms > (uint64_t)t->o->timeout_s * 1000) {
		BSW_REPORT(t->fx, PR_0_LIMIT_TIME, .n = t->o->timeout_s);
		t->limited = true;
	} else if (t->o->max_bytes && t->d &&
		   bsw_disk_bytes_read(t->d) >= t->o->max_bytes) {
		BSW_REPORT(t->fx, PR_0_LIMIT_BYTES, .n = (int64_t)t->o->max_bytes);
		t->limited = true;
	}
	return t->limited;
}

/* A read that failed on the byte budget is a limit, not corruption. */
static void note_budget(struct bsw_tctx *t, int r)
{
	if (r == -EFBIG && t->o->max_bytes && !t->limited &&
	    bsw_disk_bytes_read(t->d) + (1u << 20) >= t->o->max_bytes) {
		BSW_REPORT(t->fx, PR_0_LIMIT_BYTES, .n = (int64_t)t->o->max_bytes);
		t->limited = true;
	}
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

void bsw_tctx_add_bootfile(struct bsw_tctx *t, const char *path)
{
	char **nb;
	char *c;

	if (t->nr_bootfiles >= BSW_MAX_BOOTFILES ||
	    bsw_tctx_is_bootfile(t, path))
		return;
	nb = realloc(t->bootfiles, (t->nr_bootfiles + 1) * sizeof(*nb));
	if (!nb)
		return;
	t->bootfiles = nb;
	c = strdup(path);
	if (!c)
		return;
	lower(c);
	t->bootfiles[t->nr_bootfiles++] = c;
}

bool bsw_tctx_is_bootfile(const struct bsw_tctx *t, const char *path)
{
	unsigned i;

	for (i = 0; i < t->nr_bootfiles; i++)
		if (!strcasecmp(t->bootfiles[i], path))
			return true;
	return false;
}

const char *bsw_check_file(struct bsw_tctx *t, const char *path, bool pe,
			   uint64_t *recp)
{
	struct bsw_ntfs_stat st;
	uint8_t hdr[1024];
	uint64_t rec;
	int64_t n;
	uint32_t lfa;

	if (bsw_ntfs_lookup(t->v, path, &rec))
		return "missing";
	if (recp)
		*recp = rec;
	if (bsw_ntfs_stat(t->v, rec, &st))
		return "missing (record not in use)";
	if (st.rflags & BSW_NTFS_R_TORN)
		return "in a torn MFT record (update sequence mismatch)";
	if (st.rflags & BSW_NTFS_R_BAD)
		return "in a corrupt MFT record";
	if (st.rflags & BSW_NTFS_R_DIR)
		return "a directory";
	/* WOF-compressed (CompactOS) files are read through the decoder of
	 * their WofCompressedData stream like any other file */
	if (!st.size)
		return "empty (0 bytes)";
	if (!pe)
		return NULL;
	n = bsw_ntfs_read(t->v, rec, NULL, hdr, sizeof(hdr), 0);
	if (n == -EOPNOTSUPP) {
		/* cannot tell whether it is a PE: say so, do not guess */
		BSW_REPORT(t->fx, PR_SXS_2_UNDECODED, .str = path, .rec = rec,
			   .str2 = "EFS encryption, a WOF provider or algorithm other than the file provider's XPRESS 4K/8K/16K and LZX, or an unsupported compression unit");
		return NULL;
	}
	if (n < 0) {
		note_budget(t, (int)n);
		return "unreadable";
	}
	if (n < 64 || hdr[0] != 'M' || hdr[1] != 'Z')
		return "not a PE image (no MZ header)";
	/* e_lfanew points at "PE\0\0" (PE/COFF spec 3.1) */
	lfa = get_le32(hdr + 60);
	if (lfa + 4 <= (uint64_t)n && memcmp(hdr + lfa, "PE\0\0", 4))
		return "not a PE image (no PE signature)";
	return NULL;
}

/* Read a whole file of the Windows volume under the memory budget. */
int bsw_tctx_read(struct bsw_tctx *t, struct bsw_ntfs *v, const char *path,
		  uint8_t **data, size_t *len, size_t max)
{
	struct bsw_ntfs_stat st;
	uint64_t rec;
	int r;

	*data = NULL;
	*len = 0;
	if (bsw_ntfs_lookup(v, path, &rec))
		return -ENOENT;
	if (bsw_ntfs_stat(v, rec, &st))
		return -ENOENT;
	if (st.size > max)
		return -EFBIG;
	bsw_mem_acquire(st.size);
	r = bsw_ntfs_read_all(v, rec, NULL, data, len, max);
	if (r) {
		bsw_mem_release(st.size);
		note_budget(t, r);
		return r;
	}
	if (*len != st.size) {
		bsw_mem_release(st.size);
		bsw_mem_acquire(*len);
	}
	return 0;
}

void bsw_tctx_free(uint8_t *data, size_t len)
{
	if (!data)
		return;
	free(data);
	bsw_mem_release(len);
}

struct bsw_hive *bsw_tctx_load_hive(struct bsw_tctx *t, const char *name,
				    uint8_t *prim, size_t len,
				    const struct bsw_buf *logs, unsigned nr,
				    enum bsw_verdict vbad)
{
	struct bsw_hive *h = NULL;
	enum bsw_verdict pw;
	char scope[64];
	char *prev;

	snprintf(scope, sizeof(scope), "hive:%s", name);
	prev = bsw_fx_push_scope(t->fx, scope);
	pw = bsw_fx_set_damage(t->fx, vbad);
	if (bsw_hive_load_take(&h, prim, len, logs, nr, t->fx))
		h = NULL;
	bsw_fx_set_damage(t->fx, pw);
	bsw_fx_restore_scope(t->fx, prev);
	return h;
}

/* bsw_hive_read_fn over \Windows\System32\config of the Windows volume. */
static int config_read(void *ctx, const char *name, size_t max,
		       uint8_t **data, size_t *len)
{
	struct bsw_tctx *t = ctx;
	char path[160];

	snprintf(path, sizeof(path), "\\Windows\\System32\\config\\%s", name);
	return bsw_tctx_read(t, t->v, path, data, len, max);
}

static void config_release(void *ctx, size_t len)
{
	(void)ctx;
	bsw_mem_release(len);
}

/* A hive of \Windows\System32\config with its .LOG1/.LOG2, if present. */
static struct bsw_hive *hive_ntfs(struct bsw_tctx *t, const char *name,
				  enum bsw_verdict vbad, const char **why)
{
	char scope[64];
	const struct bsw_hive_files hf = {
		.name = name, .max = BSW_MAX_HIVE_BYTES, .scope = scope,
		.read = config_read, .release = config_release, .ctx = t,
	};
	struct bsw_hive *h;
	enum bsw_verdict pw;
	int r, failed;

	snprintf(scope, sizeof(scope), "hive:%s", name);
	pw = bsw_fx_set_damage(t->fx, vbad);
	r = bsw_hive_load_files(&h, &hf, t->fx, &failed);
	bsw_fx_set_damage(t->fx, pw);
	*why = !r ? NULL : failed < 0 ? "out of memory" :
	       r == -ENOENT ? "missing" : r == -EFBIG ? "too large" :
	       "unreadable";
	return r ? NULL : h;
}

static bool hive_usable(struct bsw_hive *h)
{
	return h && bsw_hive_root(h) &&
	       (bsw_hive_state(h) == BSW_HIVE_CLEAN ||
		bsw_hive_state(h) == BSW_HIVE_RECOVERED);
}

static const uint8_t gpt_basic_data[16] = {
	0xA2, 0xA0, 0xD0, 0xEB, 0xE5, 0xB9, 0x33, 0x44,
	0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99, 0xC7 };

/* A partition that may hold NTFS even if its boot sector is damaged. */
static bool ntfs_candidate(const struct bsw_part *p)
{
	if (p->fs == BSW_FS_NTFS)
		return true;
	if (p->fs != BSW_FS_OTHER && p->fs != BSW_FS_UNKNOWN &&
	    p->fs != BSW_FS_ZERO)
		return false;
	if (!strcmp(p->scheme, "gpt"))
		return !memcmp(p->type_guid, gpt_basic_data, 16);
	if (!strcmp(p->scheme, "mbr"))
		return p->mbr_type == 0x07;
	return p->fs != BSW_FS_ZERO;
}

/*
 * A partition NTFS could not open: is it a damaged NTFS volume (its boot
 * sectors gone, the rest there) rather than an empty partition or another
 * filesystem?  Not another filesystem's signature in the first 128 KiB
 * (ext2/3/4 magic at 1080, XFS at 0, btrfs at 64 KiB), and not all zeros at
 * 64 points spread over the partition.
 */
static bool plausible_ntfs(struct bsw_tctx *t, const struct bsw_part *p)
{
	uint8_t *b;
	unsigned i, j;
	bool data = false;

	if (p->fs == BSW_FS_OTHER || p->size < (1u << 20))
		return false;
	b = malloc(128 * 1024);
	if (!b)
		return false;
	if (!bsw_disk_read(t->d, b, 128 * 1024, p->start)) {
		if ((b[1080] == 0x53 && b[1081] == 0xEF) || !memcmp(b, "XFSB", 4) ||
		    !memcmp(b + 65536 + 64, "_BHRfS_M", 8)) {
			free(b);
			return false;
		}
	}
	for (i = 1; i <= 64 && !data; i++) {
		uint64_t off = p->start + (p->size / 65 * i & ~(uint64_t)4095);

		if (bsw_disk_read(t->d, b, 4096, off))
			continue;
		for (j = 0; j < 4096; j++)
			if (b[j]) {
				data = true;
				break;
			}
	}
	free(b);
	return data;
}

struct timings {
	uint64_t open, ntfs, hives, boot, servicing, sxs;
};

/*
 * libntfs-3g's mount-time verdict on the volume chosen as Windows' (or kept
 * as the broken evidence), as INFO/WARN rows beside bootsweep's own: they
 * never decide the verdict.  Run once per disk, not on every NTFS
 * candidate, and (from scan) in a child process, so that a crash or hang
 * of libntfs-3g on a hostile volume costs one finding, not the sweep.
 */
#define NTFS3G_TIMEOUT_S 60

static void second_opinion(struct bsw_tctx *t, const struct bsw_part *p,
			   const struct bsw_src *wsrc, struct bsw_fx *pfx)
{
	unsigned tmo = NTFS3G_TIMEOUT_S;
	uint64_t spent;
	int r;

	if (t->o->no_ntfs3g || bsw_tctx_over(t))
		return;
	if (!t->o->ntfs3g_self) {
		bsw_ntfs3g_verdict(wsrc, pfx);
		return;
	}
	if (t->o->timeout_s) {
		/* at most half of what is left, so a hanging libntfs-3g
		 * leaves bootsweep's own checks the time to finish */
		spent = (bsw_now_ms() - t->t0_ms) / 1000;
		if (spent + 2 < t->o->timeout_s)
			tmo = BSW_MIN(tmo, (t->o->timeout_s - (unsigned)spent) / 2);
		else
			tmo = 1;
	}
	r = bsw_ntfs3g_isolated(t->o->ntfs3g_self, bsw_disk_path(t->d),
				p->start, p->size, tmo, pfx);
	if (r < 0) {
		char why[96];

		snprintf(why, sizeof(why), "its child process could not be started (%s)",
			 strerror(-r));
		BSW_REPORT(pfx, PR_NTFS3G_F0_CHILD, .str = why);
	}
}

static void find_windows(struct bsw_tctx *t, struct bsw_src *wsrc,
			 struct bsw_src_window *wwin, bool *had_ntfs,
			 struct bsw_fx **broken)
{
	unsigned i, n = bsw_disk_nr_parts(t->d);
	uint64_t rec;

	*had_ntfs = false;
	*broken = NULL;
	for (i = 0; i < n && !t->v; i++) {
		const struct bsw_part *p = bsw_disk_part(t->d, i);
		struct bsw_ntfs_opts no = { .run_checks = true, .mem_cap = t->o->mem_cap };
		struct bsw_fx *pfx = NULL;
		struct bsw_ntfs *v = NULL;
		char scope[32];
		int r;

		if (!ntfs_candidate(p) || bsw_tctx_over(t))
			continue;
		if (bsw_fx_create(&pfx))
			return;
		snprintf(scope, sizeof(scope), "part%u:ntfs", p->index);
		free(bsw_fx_push_scope(pfx, scope));
		bsw_disk_part_src(t->d, p, wsrc, wwin);
		r = bsw_ntfs_open(&v, wsrc, pfx, &no);
		if (bsw_disk_io_error(t->d, NULL)) {
			/* keep what was found before the error (the ticks
			 * sort it out); no second opinion: libntfs-3g would
			 * read the same failing bytes */
			bsw_fx_merge(t->fx, pfx);
			bsw_fx_destroy(pfx);
			if (v)
				bsw_ntfs_close(v);
			return;
		}
		if (!r)
			*had_ntfs = true;
		if (!r && !bsw_ntfs_lookup(v, "\\Windows\\System32\\config\\SYSTEM",
					   &rec)) {
			second_opinion(t, p, wsrc, pfx);
			t->v = v;
			t->wp = p;
			bsw_fx_merge(t->fx, pfx);
			bsw_fx_destroy(pfx);
			return;
		}
		if (v)
			bsw_ntfs_close(v);
		note_budget(t, r);
		/* a volume that NTFS cannot open at all, with an unbootable
		 * finding, is the likely Windows volume: keep its evidence */
		if (r && bsw_fx_count(pfx) && !*broken && !t->limited &&
		    plausible_ntfs(t, p)) {
			second_opinion(t, p, wsrc, pfx);
			*broken = pfx;
			continue;
		}
		bsw_fx_destroy(pfx);
	}
}

/* FILETIME (100 ns since 1601) or Unix seconds as ISO 8601 UTC; false if absurd. */
static bool iso_time(int64_t unix_s, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)unix_s;

	if (unix_s <= 0 || unix_s > 32503680000LL || !gmtime_r(&tt, &tm))
		return false;
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return true;
}

static void json_kv_str(FILE *o, bool *first, const char *k, const char *v)
{
	fprintf(o, "%s\"%s\":", *first ? "" : ",", k);
	bsw_json_str(o, v);
	*first = false;
}

/*
 * Who this disk is: the container's own id, the partition table's identity,
 * and the Windows installation's as its hives say (product, edition, build
 * and UBR, computer name, install date, last shutdown).  Only what was
 * found is written.
 */
static void json_identity(struct bsw_tctx *t, FILE *o, const char *path)
{
	static const char cv[] = "Microsoft\\Windows NT\\CurrentVersion";
	static const uint8_t zero[16];
	char buf[256], key[128];
	struct stat st;
	bool first = true;
	uint32_t dw;
	struct bsw_hval hv = { 0 };

	if (!stat(path, &st)) {
		fprintf(o, ",\"image_size\":%lld", (long long)st.st_size);
		if (iso_time(st.st_mtim.tv_sec, buf, sizeof(buf)))
			fprintf(o, ",\"image_mtime\":\"%s\"", buf);
	}
	fputs(",\"identity\":{", o);
	if (t->d && bsw_disk_nr_layers(t->d) &&
	    memcmp(bsw_disk_layer(t->d, 0)->id, zero, 16)) {
		bsw_guid_str(bsw_disk_layer(t->d, 0)->id, buf);
		json_kv_str(o, &first, "container_id", buf);
	}
	if (t->d && bsw_disk_gpt_guid(t->d)) {
		bsw_guid_str(bsw_disk_gpt_guid(t->d), buf);
		json_kv_str(o, &first, "disk_guid", buf);
	} else if (t->d && !strcmp(bsw_disk_scheme(t->d), "mbr")) {
		snprintf(buf, sizeof(buf), "0x%08" PRIx32, bsw_disk_mbr_signature(t->d));
		json_kv_str(o, &first, "mbr_signature", buf);
	}
	fputc('}', o);
	if (!t->software && !t->system)
		return;
	first = true;
	fputs(",\"windows\":{", o);
	if (t->software) {
		static const struct { const char *v, *k; } sz[] = {
			{ "ProductName", "product" }, { "EditionID", "edition" },
			{ "CurrentBuildNumber", "build" }, { "DisplayVersion", "display_version" },
		};

		for (size_t i = 0; i < sizeof(sz) / sizeof(sz[0]); i++)
			if (!bsw_hive_get_sz(t->software, cv, sz[i].v, buf, sizeof(buf)))
				json_kv_str(o, &first, sz[i].k, buf);
		if (!bsw_hive_get_dword(t->software, cv, "UBR", &dw)) {
			fprintf(o, "%s\"ubr\":%" PRIu32, first ? "" : ",", dw);
			first = false;
		}
		if (!bsw_hive_get_dword(t->software, cv, "InstallDate", &dw) &&
		    iso_time(dw, buf, sizeof(buf)))
			json_kv_str(o, &first, "install_date", buf);
	}
	if (t->system && t->cs[0]) {
		snprintf(key, sizeof(key), "%s\\Control\\ComputerName\\ComputerName", t->cs);
		if (!bsw_hive_get_sz(t->system, key, "ComputerName", buf, sizeof(buf)))
			json_kv_str(o, &first, "computer_name", buf);
		snprintf(key, sizeof(key), "%s\\Control\\Windows", t->cs);
		if (!bsw_hive_get_raw(t->system, key, "ShutdownTime", &hv) && hv.len == 8) {
			uint64_t ft = 0;

			for (int i = 7; i >= 0; i--)
				ft = ft << 8 | hv.data[i];
			/* FILETIME: 100 ns ticks since 1601-01-01 */
			if (ft > 116444736000000000ULL &&
			    iso_time((int64_t)((ft - 116444736000000000ULL) / 10000000ULL), buf, sizeof(buf)))
				json_kv_str(o, &first, "last_shutdown", buf);
		}
		bsw_hval_free(&hv);
	}
	fputc('}', o);
}

static void json_disk(struct bsw_tctx *t, FILE *o, const char *path,
		      const struct bsw_triage_result *res,
		      const struct timings *tm, const char **codes,
		      unsigned nr_codes)
{
	const struct bsw_store_counts *s = &res->store;
	unsigned i;
	size_t k;

	fputs("{\"image\":", o);
	bsw_json_str(o, path);
	fprintf(o, ",\"verdict\":\"%s\",\"decided_by\":[",
		bsw_verdict_name(res->verdict));
	for (i = 0; i < nr_codes; i++) {
		if (i)
			fputc(',', o);
		bsw_json_str(o, codes[i]);
	}
	fputc(']', o);
	if (res->error) {
		fputs(",\"error\":", o);
		bsw_json_str(o, res->errmsg);
	}
	fputs(",\"findings\":[", o);
	for (k = 0; k < bsw_fx_count(t->fx); k++) {
		if (k)
			fputc(',', o);
		bsw_finding_json(bsw_fx_get(t->fx, k), o);
	}
	fputs("],\"chain\":[", o);
	for (i = 0; t->d && i < bsw_disk_nr_layers(t->d); i++) {
		const struct bsw_layer_info *l = bsw_disk_layer(t->d, i);

		if (i)
			fputc(',', o);
		fputs("{\"path\":", o);
		bsw_json_str(o, l->path);
		fputs(",\"format\":", o);
		bsw_json_str(o, l->format);
		fputs(",\"subformat\":", o);
		bsw_json_str(o, l->subformat);
		if (l->found_by) {
			fputs(",\"found_by\":", o);
			bsw_json_str(o, l->found_by);
		}
		if (i)
			fprintf(o, ",\"identity_ok\":%d", l->identity_ok);
		fputc('}', o);
	}
	fputs("],\"partitions\":[", o);
	for (i = 0; t->d && i < bsw_disk_nr_parts(t->d); i++) {
		const struct bsw_part *p = bsw_disk_part(t->d, i);

		if (i)
			fputc(',', o);
		fprintf(o, "{\"index\":%u,\"scheme\":\"%s\",\"start\":%" PRIu64
			",\"size\":%" PRIu64 ",\"fs\":\"%s\"%s%s%s}",
			p->index, p->scheme, p->start, p->size,
			bsw_fs_name(p->fs), p->esp ? ",\"esp\":true" : "",
			p->active ? ",\"active\":true" : "",
			p == t->wp ? ",\"windows\":true" : "");
	}
	fputc(']', o);
	if (t->wp)
		fprintf(o, ",\"windows_partition\":%u,\"boot\":\"%s\"",
			t->wp->index, t->uefi ? "uefi" : "bios");
	json_identity(t, o, path);
	t->rule_bits = bsw_inv_json(t, o);	/* --inventory, --rules */
	fprintf(o, ",\"store\":{\"manifests\":%" PRIu64 ",\"plain\":%" PRIu64
		",\"dcm_not_verifiable\":%" PRIu64 ",\"bad\":%" PRIu64
		",\"s256h_checked\":%" PRIu64 ",\"s256h_bad\":%" PRIu64
		",\"files_checked\":%" PRIu64 ",\"files_ok\":%" PRIu64
		",\"files_bad\":%" PRIu64 ",\"files_missing\":%" PRIu64
		",\"files_no_digest\":%" PRIu64 ",\"links_bad\":%" PRIu64 "}",
		s->manifests, s->plain, s->dcm, s->bad, s->s256h_checked,
		s->s256h_bad, s->files_checked, s->files_ok, s->files_bad,
		s->files_missing, s->files_nodigest, s->links_bad);
	fprintf(o, ",\"bytes_read\":%" PRIu64, res->bytes_read);
	fprintf(o, ",\"timings_ms\":{\"open\":%" PRIu64 ",\"ntfs\":%" PRIu64
		",\"hives\":%" PRIu64 ",\"boot\":%" PRIu64 ",\"servicing\":%"
		PRIu64 ",\"sxs\":%" PRIu64 ",\"total\":%" PRIu64 "}",
		tm->open, tm->ntfs, tm->hives, tm->boot, tm->servicing, tm->sxs,
		res->ms_total);
	/* provenance: which bootsweep, which sweep */
	fprintf(o, ",\"schema\":\"%s\",\"version\":\"%s\"", BSW_DISK_SCHEMA, bsw_version);
	if (t->o->scan_start)
		fprintf(o, ",\"scan_start\":\"%s\"", t->o->scan_start);
	fputc('}', o);
}

static void read_control_set(struct bsw_tctx *t)
{
	uint32_t def = 0;

	snprintf(t->cs, sizeof(t->cs), "ControlSet001");
	if (hive_usable(t->system) &&
	    !bsw_hive_get_dword(t->system, "Select", "Default", &def) &&
	    def > 0 && def < 1000)
		snprintf(t->cs, sizeof(t->cs), "ControlSet%03u", def);
}

static bool all_zero_disk(struct bsw_disk *d)
{
	uint8_t buf[4096];
	uint64_t sz = bsw_disk_size(d);
	uint64_t offs[3] = { 0, sz / 2, sz > sizeof(buf) ? sz - sizeof(buf) : 0 };
	unsigned i, j;

	for (i = 0; i < 3; i++) {
		size_t n = (size_t)BSW_MIN((uint64_t)sizeof(buf), sz - offs[i]);

		offs[i] &= ~(uint64_t)511;
		if (!n || bsw_disk_read(d, buf, n, offs[i]))
			continue;
		for (j = 0; j < n; j++)
			if (buf[j])
				return false;
	}
	return true;
}

static void disk_checks(struct bsw_tctx *t, struct timings *tm)
{
	struct bsw_src wsrc;
	struct bsw_src_window wwin;
	struct bsw_fx *broken = NULL;
	unsigned i, n = bsw_disk_nr_parts(t->d), nr_enc = 0, nr_fs = 0;
	bool had_ntfs;
	const char *why;
	uint64_t ts;

	if (bsw_fx_stopped(t->fx) || bsw_disk_io_error(t->d, NULL))
		return;
	t->uefi = !strcmp(bsw_disk_scheme(t->d), "gpt");
	for (i = 0; i < n; i++) {
		const struct bsw_part *p = bsw_disk_part(t->d, i);

		if (p->fs == BSW_FS_BITLOCKER)
			nr_enc++;
		if (p->fs != BSW_FS_ZERO && p->fs != BSW_FS_UNKNOWN)
			nr_fs++;
	}
	if (!n || (!nr_fs && !strcmp(bsw_disk_scheme(t->d), "none"))) {
		if (all_zero_disk(t->d)) {
			BSW_REPORT(t->fx, PR_0_DISK_EMPTY);
			return;
		}
		if (!n) {
			BSW_REPORT(t->fx, PR_0_DISK_NOT_WINDOWS,
				   .str = "no partition table and no filesystem recognised");
			return;
		}
	}
	ts = bsw_now_ms();
	find_windows(t, &wsrc, &wwin, &had_ntfs, &broken);
	tm->ntfs = bsw_now_ms() - ts;
	/*
	 * An encrypted partition makes the disk unassessable only when it may
	 * be the Windows volume: a BitLocker data volume beside a readable
	 * Windows volume does not hide the boot path.
	 */
	for (i = 0; !t->v && i < n; i++) {
		const struct bsw_part *p = bsw_disk_part(t->d, i);

		if (p->fs == BSW_FS_BITLOCKER)
			BSW_REPORT(t->fx, PR_0_DISK_ENCRYPTED, .n = p->index,
				   .off = p->start, .str = "-FVE-FS-");
	}
	if (!t->v) {
		if (nr_enc) {
			bsw_fx_destroy(broken);
			return;
		}
		if (t->limited || bsw_disk_io_error(t->d, NULL)) {
			bsw_fx_destroy(broken);
			return;
		}
		if (broken) {
			bsw_fx_merge(t->fx, broken);
			bsw_fx_destroy(broken);
			return;
		}
		BSW_REPORT(t->fx, PR_0_DISK_NOT_WINDOWS,
			   .str = had_ntfs ? "no \\Windows\\System32\\config\\SYSTEM" :
			   "no NTFS volume");
		return;
	}
	bsw_fx_destroy(broken);
	if (bsw_fx_stopped(t->fx) || bsw_tctx_over(t))
		return;

	ts = bsw_now_ms();
	t->system = hive_ntfs(t, "SYSTEM", BSW_V_UNBOOT, &why);
	if (!t->system)
		BSW_REPORT(t->fx, PR_BOOT_2_HIVE_MISSING,
			   .str = "\\Windows\\System32\\config\\SYSTEM", .str2 = why);
	if (!bsw_tctx_over(t)) {
		t->software = hive_ntfs(t, "SOFTWARE", BSW_V_UNBOOT, &why);
		if (!t->software)
			BSW_REPORT(t->fx, PR_BOOT_2_HIVE_MISSING,
				   .str = "\\Windows\\System32\\config\\SOFTWARE",
				   .str2 = why);
	}
	if (!bsw_tctx_over(t)) {
		t->components = hive_ntfs(t, "COMPONENTS", BSW_V_ROLLBACK, &why);
		if (!t->components)
			BSW_REPORT(t->fx, PR_SVC_1_COMPONENTS_MISSING, .str = why);
	}
	if (!hive_usable(t->system)) {
		bsw_hive_free(t->system);
		t->system = NULL;
	}
	if (!hive_usable(t->software)) {
		bsw_hive_free(t->software);
		t->software = NULL;
	}
	if (!hive_usable(t->components)) {
		bsw_hive_free(t->components);
		t->components = NULL;
	}
	read_control_set(t);
	tm->hives = bsw_now_ms() - ts;

	ts = bsw_now_ms();
	if (!bsw_fx_stopped(t->fx) && !bsw_tctx_over(t))
		bsw_check_boot(t);
	tm->boot = bsw_now_ms() - ts;
	ts = bsw_now_ms();
	if (!bsw_fx_stopped(t->fx) && !bsw_tctx_over(t))
		bsw_check_servicing(t);
	tm->servicing = bsw_now_ms() - ts;
	ts = bsw_now_ms();
	if (!bsw_fx_stopped(t->fx) && !bsw_tctx_over(t))
		bsw_check_sxs(t);
	tm->sxs = bsw_now_ms() - ts;
	bsw_inv_collect(t);	/* while the volume's source is alive */
}

/*
 * The disk had an I/O error (docs/classifier.md, "I/O errors"): the
 * findings reported after it may have been derived from bytes that never
 * arrived, so they go; those before it stay; one DISK-IO names the layer,
 * the offset and the errno, and the result carries the error (the
 * operational-error bit of scan's exit status).
 */
static void io_verdict(struct bsw_fx *fx, const struct bsw_disk_ioerr *e,
		       struct bsw_triage_result *res)
{
	static const char pfx[] = "I/O error: ";
	char *why = res->errmsg + sizeof(pfx) - 1;

	bsw_fx_drop_after(fx, e->tick);
	memcpy(res->errmsg, pfx, sizeof(pfx) - 1);
	bsw_disk_ioerr_str(e, why, sizeof(res->errmsg) - (sizeof(pfx) - 1));
	BSW_REPORT(fx, PR_0_DISK_IO, .n = e->layer, .n2 = -e->err,
		   .off = e->file_off, .str = why, .str2 = e->path);
	res->error = e->err;
}

int bsw_triage_disk(const char *path, const struct bsw_triage_opts *o,
		    struct bsw_fx *fx, struct bsw_triage_result *res)
{
	struct bsw_disk_ioerr ioe = { 0 };
	struct bsw_disk_opts dopts = { .max_bytes = o->max_bytes, .ioerr = &ioe,
				       .mem_cap = o->mem_cap };
	struct bsw_tctx t = { .o = o, .fx = fx };
	struct timings tm = { 0 };
	const char **codes = NULL;
	unsigned nr_codes = 0, i;
	char *buf = NULL;
	size_t blen = 0;
	FILE *mem;
	int r;

	memset(res, 0, sizeof(*res));
	t.store = &res->store;
	t.t0_ms = bsw_now_ms();
	r = bsw_disk_open(&t.d, path, &dopts, fx, res->errmsg,
			  sizeof(res->errmsg));
	tm.open = bsw_now_ms() - t.t0_ms;
	if (r && ioe.err) {
		/* the container or partition table could not be read */
		t.d = NULL;
		io_verdict(fx, &ioe, res);
	} else if (r) {
		res->error = r;
		if (!res->errmsg[0])
			snprintf(res->errmsg, sizeof(res->errmsg), "%s",
				 strerror(-r));
		BSW_REPORT(fx, PR_0_IMAGE_UNREADABLE, .str = res->errmsg);
		t.d = NULL;
	} else {
		disk_checks(&t, &tm);
		if (!t.limited)
			bsw_tctx_over(&t);	/* a budget hit in the last stage */
		res->bytes_read = bsw_disk_bytes_read(t.d);
		if (bsw_disk_io_error(t.d, &ioe))
			io_verdict(fx, &ioe, res);
	}
	bsw_fx_finish(fx);
	res->verdict = bsw_classify(fx, &codes, &nr_codes);
	res->ms_total = bsw_now_ms() - t.t0_ms;

	mem = open_memstream(&buf, &blen);
	if (mem) {
		json_disk(&t, mem, path, res, &tm, codes, nr_codes);
		fclose(mem);
		res->json = buf;
		res->rule_bits = t.rule_bits;
	}
	bsw_inv_free(&t);
	free(codes);
	bsw_hive_free(t.system);
	bsw_hive_free(t.software);
	bsw_hive_free(t.components);
	if (t.v)
		bsw_ntfs_close(t.v);
	if (t.d)
		bsw_disk_close(t.d);
	for (i = 0; i < t.nr_bootfiles; i++)
		free(t.bootfiles[i]);
	free(t.bootfiles);
	return res->json ? 0 : -ENOMEM;
}

void bsw_triage_result_free(struct bsw_triage_result *res)
{
	free(res->json);
	res->json = NULL;
}
