/*
 * Boot-path checks (WINDOWS-EVIDENCE.md section 4): the system partition
 * (ESP on GPT, active partition on MBR), the BCD store and its default
 * loader, the boot manager, the core files, Select, the boot-start drivers,
 * the class filters and the NLS files.  Each failure is UNBOOT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/bcd/bcd.h"
#include "formats/common/bytes.h"
#include "formats/fat/fat.h"
#include "formats/pe/pe.h"
#include "scanner/checks/bootfiles.h"
#include "scanner/checks/triage.h"

#define MAX_BCD_BYTES (64u << 20)

/* Where the boot manager and the BCD live. */
struct syspart {
	const struct bsw_part *p;
	struct bsw_src src;
	struct bsw_src_window win;
	struct bsw_fat *fat;   /* FAT system partition */
	struct bsw_ntfs *ntfs; /* NTFS system partition */
	bool own_ntfs;	       /* opened here (not the Windows volume) */
};

static int sp_read(struct bsw_tctx *t, struct syspart *sp, const char *path, uint8_t **data,
		   size_t *len, size_t max)
{
	struct bsw_fat_ent e;
	int r;

	if (sp->ntfs)
		return bsw_tctx_read(t, sp->ntfs, path, data, len, max);
	r = bsw_fat_lookup(sp->fat, path, &e);
	if (r)
		return r;
	if (e.is_dir)
		return -EISDIR;
	if (e.size > max)
		return -EFBIG;
	bsw_mem_acquire(e.size);
	r = bsw_fat_read_all(sp->fat, &e, data, len, max);
	if (r)
		bsw_mem_release(e.size);
	return r;
}

/*
 * BOOT-MGR: exists, non-empty, and an MZ header (only the MS-DOS header is
 * asked for) unless stub_ok: \bootmgr starts with a 16-bit stub, not
 * always MZ.
 */
static const char *mz_check(struct bsw_tctx *t, struct syspart *sp, const char *path, bool stub_ok)
{
	struct bsw_pe pe;
	uint8_t *d;
	size_t len;
	const char *why = NULL;
	int r = sp_read(t, sp, path, &d, &len, 64u << 20);

	if (r == -ENOENT || r == -ENOTDIR)
		return "missing";
	if (r == -EISDIR)
		return "a directory";
	if (r)
		return "unreadable";
	if (!len)
		why = "empty (0 bytes)";
	else if (!stub_ok && bsw_pe_parse(d, len, &pe) == BSW_PE_NO_MZ)
		why = bsw_pe_status_str(BSW_PE_NO_MZ);
	bsw_tctx_free(d, len);
	return why;
}

static bool find_syspart(struct bsw_tctx *t, struct syspart *sp)
{
	unsigned i, n = bsw_disk_nr_parts(t->d);
	const char *scheme = bsw_disk_scheme(t->d);

	memset(sp, 0, sizeof(*sp));
	for (i = 0; i < n; i++) {
		const struct bsw_part *p = bsw_disk_part(t->d, i);

		if ((t->uefi && p->esp) || (!t->uefi && p->active)) {
			sp->p = p;
			return true;
		}
	}
	/* an MBR disk with an ESP (type 0xEF) boots by UEFI */
	for (i = 0; !t->uefi && i < n; i++) {
		const struct bsw_part *p = bsw_disk_part(t->d, i);

		if (p->esp) {
			sp->p = p;
			t->uefi = true;
			return true;
		}
	}
	BSW_REPORT(t->fx, PR_BOOT_0_NO_SYSPART,
		   .str = !strcmp(scheme, "gpt") ? "GPT disk without an EFI system partition" :
			  !strcmp(scheme, "mbr") ? "MBR disk without an active partition" :
						   "no partition table");
	return false;
}

static int open_syspart(struct bsw_tctx *t, struct syspart *sp)
{
	const char *why = "";
	char msg[160];
	int r;

	if (sp->p == t->wp) {
		sp->ntfs = t->v;
		return 0;
	}
	bsw_disk_part_src(t->d, sp->p, &sp->src, &sp->win);
	if (sp->p->fs == BSW_FS_NTFS) {
		struct bsw_ntfs_opts no = { .run_checks = false, .mem_cap = t->o->mem_cap };

		r = bsw_ntfs_open(&sp->ntfs, &sp->src, NULL, &no);
		if (!r) {
			sp->own_ntfs = true;
			return 0;
		}
		why = "NTFS volume cannot be opened";
	} else {
		r = bsw_fat_open(&sp->fat, &sp->src, t->fx, &why);
		if (!r)
			return 0;
	}
	snprintf(msg, sizeof(msg), "%s", why);
	BSW_REPORT(t->fx, PR_FAT_0_BPB_BAD, .n = sp->p->index, .off = sp->p->start, .str = msg);
	return r;
}

static void close_syspart(struct syspart *sp)
{
	bsw_fat_close(sp->fat);
	if (sp->own_ntfs)
		bsw_ntfs_close(sp->ntfs);
}

/* bsw_hive_read_fn over the system partition (FAT or NTFS) */
struct bcd_reader {
	struct bsw_tctx *t;
	struct syspart *sp;
	const char *path; /* the primary */
};

static int bcd_read(void *ctx, const char *name, size_t max, uint8_t **data, size_t *len)
{
	struct bcd_reader *br = ctx;
	int r = sp_read(br->t, br->sp, name, data, len, max);

	/* an empty store is said as such, not loaded as a hive */
	if (!r && !*len && !strcmp(name, br->path)) {
		bsw_tctx_free(*data, *len);
		*data = NULL;
		return -ENODATA;
	}
	return r;
}

static void bcd_release(void *ctx, size_t len)
{
	(void)ctx;
	bsw_mem_release(len);
}

static struct bsw_hive *load_bcd(struct bsw_tctx *t, struct syspart *sp, const char *path)
{
	struct bcd_reader br = { .t = t, .sp = sp, .path = path };
	const struct bsw_hive_files hf = {
		.name = path,
		.max = MAX_BCD_BYTES,
		.scope = "hive:BCD",
		.read = bcd_read,
		.release = bcd_release,
		.ctx = &br,
	};
	struct bsw_hive *h;
	enum bsw_verdict pw;
	int r, failed;

	pw = bsw_fx_set_damage(t->fx, BSW_V_UNBOOT);
	r = bsw_hive_load_files(&h, &hf, t->fx, &failed);
	bsw_fx_set_damage(t->fx, pw);
	if (r == -ENOENT || r == -ENOTDIR) {
		BSW_REPORT(t->fx, PR_BOOT_1_BCD_MISSING, .str = path,
			   .str2 = sp->fat ? "FAT system" : "NTFS system");
		return NULL;
	}
	if (r) {
		BSW_REPORT(t->fx, PR_BOOT_1_BCD_UNREADABLE, .str = path,
			   .str2 = r == -ENODATA ? "empty (0 bytes)" :
				   r == -EFBIG	 ? "larger than 64 MiB" :
				   r == -EISDIR	 ? "a directory" :
						   "read error");
		return NULL;
	}
	if (!bsw_hive_root(h) ||
	    (bsw_hive_state(h) != BSW_HIVE_CLEAN && bsw_hive_state(h) != BSW_HIVE_RECOVERED)) {
		/* the hive module reported why; say what it means for boot */
		BSW_REPORT(t->fx, PR_BOOT_1_BCD_UNREADABLE, .str = path,
			   .str2 = bsw_hive_state_name(bsw_hive_state(h)));
		bsw_hive_free(h);
		h = NULL;
	}
	return h;
}

/* Does a partition device element name the Windows partition? */
static const char *device_mismatch(struct bsw_tctx *t, const struct bsw_bcd_device *dv)
{
	if (!dv->present)
		return "element missing";
	if (!dv->valid)
		return "element malformed";
	if (dv->type != BSW_BCD_DEV_PARTITION)
		return NULL; /* boot/locate forms: not checked */
	if (!strcmp(t->wp->scheme, "gpt")) {
		const uint8_t *dg = bsw_disk_gpt_guid(t->d);

		if (dv->scheme != BSW_BCD_PART_GPT)
			return "an MBR partition on a GPT disk";
		if (memcmp(dv->part_guid, t->wp->part_guid, 16))
			return "another partition GUID";
		if (dg && memcmp(dv->disk_guid, dg, 16))
			return "another disk GUID";
		return NULL;
	}
	if (!strcmp(t->wp->scheme, "mbr")) {
		if (dv->scheme != BSW_BCD_PART_MBR)
			return "a GPT partition on an MBR disk";
		if (dv->part_offset != t->wp->start)
			return "another partition offset";
		if (dv->disk_signature != bsw_disk_mbr_signature(t->d))
			return "another disk signature";
	}
	return NULL;
}

static const char *basename_of(const char *p)
{
	const char *b = strrchr(p, '\\');

	return b ? b + 1 : p;
}

static void check_bcd(struct bsw_tctx *t, struct bsw_hive *h, const char *path, char *loader_path,
		      size_t lplen)
{
	struct bsw_bcd b;
	const struct bsw_bcd_obj *ld;
	const char *want = t->uefi ? "winload.efi" : "winload.exe";
	const char *why;
	char msg[400];
	size_t l;

	if (bsw_bcd_parse(h, &b)) {
		BSW_REPORT(t->fx, PR_BOOT_1_BCD_UNREADABLE, .str = path, .str2 = "no Objects key");
		return;
	}
	if (!b.bootmgr.present) {
		BSW_REPORT(t->fx, PR_BOOT_1_BCD_NO_BOOTMGR, .str = path,
			   .str2 = BSW_BCD_GUID_BOOTMGR);
		return;
	}
	if (!b.nr_loaders) {
		BSW_REPORT(t->fx, PR_BOOT_1_BCD_NO_LOADER, .str = path);
		return;
	}
	if (!b.default_guid[0] || !b.def.present || b.def.type != BSW_BCD_TYPE_LOADER) {
		BSW_REPORT(t->fx, PR_BOOT_1_BCD_DEFAULT,
			   .str = b.default_guid[0] ? b.default_guid : "(unset)",
			   .str2 = !b.default_guid[0] ? "element 23000003 missing" :
				   !b.def.present     ? "no such object" :
							"object is not a Windows Boot Loader");
		return;
	}
	ld = &b.def;
	if (strcasecmp(basename_of(ld->path), want)) {
		snprintf(msg, sizeof(msg), "application path is \"%s\", expected ...\\%s", ld->path,
			 want);
		BSW_REPORT(t->fx, PR_BOOT_1_BCD_PATH, .str = ld->guid, .str2 = msg);
	} else {
		snprintf(loader_path, lplen, "%s", ld->path);
	}
	why = device_mismatch(t, &ld->dev);
	if (why) {
		snprintf(msg, sizeof(msg), "device (11000001): %s", why);
		BSW_REPORT(t->fx, PR_BOOT_1_BCD_DEVICE, .str = ld->guid, .str2 = msg);
	}
	why = device_mismatch(t, &ld->osdev);
	if (why) {
		snprintf(msg, sizeof(msg), "osdevice (21000001): %s", why);
		BSW_REPORT(t->fx, PR_BOOT_1_BCD_DEVICE, .str = ld->guid, .str2 = msg);
	}
	l = strlen(ld->sysroot);
	if (!(l >= 8 && !strncasecmp(ld->sysroot, "\\Windows", 8) &&
	      (l == 8 || (l == 9 && ld->sysroot[8] == '\\'))))
		BSW_REPORT(t->fx, PR_BOOT_1_BCD_SYSROOT, .str = ld->guid, .str2 = ld->sysroot);
}

static void check_core(struct bsw_tctx *t, const char *loader_path)
{
	const char *const *core = bsw_boot_files;
	char wl[300];
	const char *why;
	unsigned i;

	for (i = 0; i < bsw_nr_core_boot_files; i++) {
		bsw_tctx_add_bootfile(t, core[i]);
		why = bsw_check_file(t, core[i], true, NULL);
		if (why)
			BSW_REPORT(t->fx, PR_BOOT_2_CORE, .str = core[i], .str2 = why);
	}
	snprintf(wl, sizeof(wl), "\\Windows\\System32\\%s",
		 t->uefi ? "winload.efi" : "winload.exe");
	bsw_tctx_add_bootfile(t, wl);
	why = bsw_check_file(t, wl, true, NULL);
	if (why)
		BSW_REPORT(t->fx, PR_BOOT_2_CORE, .str = wl, .str2 = why);
	if (loader_path[0] && strcasecmp(loader_path, wl)) {
		bsw_tctx_add_bootfile(t, loader_path);
		why = bsw_check_file(t, loader_path, true, NULL);
		if (why)
			BSW_REPORT(t->fx, PR_BOOT_2_CORE, .str = loader_path, .str2 = why);
	}
}

/* ImagePath -> volume path (WINDOWS-EVIDENCE.md 4.2, wlregistry.c rules). */
static void image_path(const char *name, const char *ip, char *out, size_t len)
{
	const char *p = ip;

	if (!ip || !ip[0]) {
		snprintf(out, len, "\\Windows\\System32\\drivers\\%s.sys", name);
		return;
	}
	if (!strncasecmp(p, "\\??\\", 4))
		p += 4;
	if (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':')
		p += 2;
	if (!strncasecmp(p, "\\SystemRoot\\", 12))
		snprintf(out, len, "\\Windows\\%s", p + 12);
	else if (!strncasecmp(p, "%SystemRoot%\\", 13))
		snprintf(out, len, "\\Windows\\%s", p + 13);
	else if (!strncasecmp(p, "%windir%\\", 9))
		snprintf(out, len, "\\Windows\\%s", p + 9);
	else if (p[0] == '\\')
		snprintf(out, len, "%s", p);
	else
		snprintf(out, len, "\\Windows\\%s", p);
}

struct svc_walk {
	struct bsw_tctx *t;
	char base[64];
	unsigned nr;
};

static int svc_fn(void *arg, bsw_hkey k, const char *name)
{
	struct svc_walk *w = arg;
	struct bsw_tctx *t = w->t;
	char kp[400], ip[300], path[400], msg[480];
	uint32_t start, type = 1;
	const char *why;

	if (++w->nr > BSW_MAX_SERVICES || bsw_tctx_over(t))
		return 1;
	snprintf(kp, sizeof(kp), "%s\\%s", w->base, name);
	if (bsw_hive_get_dword(t->system, kp, "Start", &start) || start != 0)
		return 0;
	bsw_hive_get_dword(t->system, kp, "Type", &type);
	if (!(type & 0x3)) /* kernel (1) or file-system (2) drivers */
		return 0;
	if (bsw_hive_get_sz(t->system, kp, "ImagePath", ip, sizeof(ip)))
		ip[0] = 0;
	image_path(name, ip, path, sizeof(path));
	bsw_tctx_add_bootfile(t, path);
	bsw_inv_note_driver(t, name, path);
	why = bsw_check_file(t, path, true, NULL);
	if (why) {
		snprintf(msg, sizeof(msg), "%s is %s", path, why);
		BSW_REPORT(t->fx, PR_BOOT_2_DRV, .str = name, .str2 = msg);
	}
	return 0;
}

static void check_filters(struct bsw_tctx *t)
{
	static const char *const cls[] = {
		"{4d36e967-e325-11ce-bfc1-08002be10318}", /* DiskDrive */
		"{4d36e96a-e325-11ce-bfc1-08002be10318}", /* HDC */
		"{4d36e97b-e325-11ce-bfc1-08002be10318}", /* SCSIAdapter */
		"{4d36e97d-e325-11ce-bfc1-08002be10318}", /* System */
		"{71a27cdd-812a-11d0-bec7-08002be2092f}", /* Volume */
	};
	static const char *const val[] = { "UpperFilters", "LowerFilters" };
	unsigned i, j, k, cnt;

	for (i = 0; i < BSW_ARRAY_SIZE(cls); i++) {
		for (j = 0; j < 2; j++) {
			char kp[160], *ms = NULL, *s;

			snprintf(kp, sizeof(kp), "%s\\Control\\Class\\%s", t->cs, cls[i]);
			if (bsw_hive_get_multi_sz(t->system, kp, val[j], &ms, &cnt))
				continue;
			for (s = ms, k = 0; k < cnt && k < 64 && *s; s += strlen(s) + 1, k++) {
				char sk[400], ip[300], path[400], msg[480];
				const char *why;

				snprintf(sk, sizeof(sk), "%s\\Services\\%s", t->cs, s);
				if (bsw_hive_get_sz(t->system, sk, "ImagePath", ip, sizeof(ip)))
					ip[0] = 0;
				image_path(s, ip, path, sizeof(path));
				why = bsw_check_file(t, path, false, NULL);
				if (why) {
					snprintf(msg, sizeof(msg), "%s of class %s: %s is %s",
						 val[j], cls[i], path, why);
					BSW_REPORT(t->fx, PR_BOOT_2_FILT, .str = s, .str2 = msg);
				}
			}
			free(ms);
		}
	}
}

static void nls_file(struct bsw_tctx *t, const char *key, const char *sel_val, const char *what)
{
	char kp[160], sel[64], file[128], path[200];
	const char *why;

	snprintf(kp, sizeof(kp), "%s\\Control\\Nls\\%s", t->cs, key);
	if (bsw_hive_get_sz(t->system, kp, sel_val, sel, sizeof(sel)) || !sel[0])
		return;
	if (bsw_hive_get_sz(t->system, kp, sel, file, sizeof(file)) || !file[0])
		return;
	if (strchr(file, '\\'))
		return;
	snprintf(path, sizeof(path), "\\Windows\\System32\\%s", file);
	bsw_tctx_add_bootfile(t, path);
	why = bsw_check_file(t, path, false, NULL);
	if (why) {
		char msg[200];

		snprintf(msg, sizeof(msg), "%s %s=%s: %s", what, sel_val, sel, why);
		BSW_REPORT(t->fx, PR_BOOT_2_NLS, .str = path, .str2 = msg);
	}
}

static void check_system(struct bsw_tctx *t)
{
	struct svc_walk w = { .t = t };
	uint32_t def = 0;
	bsw_hkey k, root;

	if (!t->system)
		return; /* the hive findings already say why */
	root = bsw_hive_root(t->system);
	if (bsw_hive_get_dword(t->system, "Select", "Default", &def)) {
		BSW_REPORT(t->fx, PR_BOOT_2_SELECT, .n = 0, .str = "Select\\Default",
			   .str2 = "is missing");
		return;
	}
	if (bsw_hive_key(t->system, root, t->cs, &k) || def == 0 || def >= 1000) {
		BSW_REPORT(t->fx, PR_BOOT_2_SELECT, .n = def, .str = t->cs,
			   .str2 = "does not exist");
		return;
	}
	snprintf(w.base, sizeof(w.base), "%s\\Services", t->cs);
	if (!bsw_hive_key(t->system, root, w.base, &k))
		bsw_hive_subkeys(t->system, k, svc_fn, &w);
	if (bsw_tctx_over(t))
		return;
	check_filters(t);
	nls_file(t, "CodePage", "ACP", "code page");
	nls_file(t, "CodePage", "OEMCP", "code page");
	nls_file(t, "Language", "Default", "language");
}

void bsw_check_boot(struct bsw_tctx *t)
{
	struct syspart sp;
	struct bsw_hive *bcd;
	char loader[300] = "";
	const char *bcdp, *why;

	if (find_syspart(t, &sp) && !open_syspart(t, &sp)) {
		bcdp = t->uefi ? "\\EFI\\Microsoft\\Boot\\BCD" : "\\Boot\\BCD";
		bcd = load_bcd(t, &sp, bcdp);
		if (bcd) {
			bsw_inv_note_bcd(t, bcd);
			check_bcd(t, bcd, bcdp, loader, sizeof(loader));
			bsw_hive_free(bcd);
		}
		if (t->uefi) {
			why = mz_check(t, &sp, "\\EFI\\Microsoft\\Boot\\bootmgfw.efi", false);
			if (why)
				BSW_REPORT(t->fx, PR_BOOT_2_MGR,
					   .str = "\\EFI\\Microsoft\\Boot\\bootmgfw.efi",
					   .str2 = why);
			why = mz_check(t, &sp, "\\EFI\\Boot\\bootx64.efi", false);
			if (why)
				BSW_REPORT(t->fx, PR_BOOT_2_MGR_FALLBACK,
					   .str = "\\EFI\\Boot\\bootx64.efi", .str2 = why);
		} else {
			why = mz_check(t, &sp, "\\bootmgr", true);
			if (why)
				BSW_REPORT(t->fx, PR_BOOT_2_MGR, .str = "\\bootmgr", .str2 = why);
		}
		close_syspart(&sp);
	}
	if (bsw_tctx_over(t))
		return;
	check_core(t, loader);
	if (!bsw_tctx_over(t))
		check_system(t);
}
