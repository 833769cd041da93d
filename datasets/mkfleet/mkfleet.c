/*
 * mkfleet --out DIR [--scale small|medium|realistic] [--seed N]
 *         [--scenarios all|NAME,...] [--format raw|vhd|vhdx|qcow2|vmdk] [--children N]
 *         [--churn light|boot|patch]
 *
 * Writes Windows-like OS disks (GPT: ESP with the BCD and boot manager, MSR,
 * the Windows NTFS volume filled through libntfs-3g; or the BIOS/MBR
 * variant), one per scenario, and DIR/truth.jsonl with the expected class
 * and finding codes of each.  With --children N, one clean base and N
 * differencing children of it, the scenarios spread over the children.
 * qcow2 and VMDK disks are converted from the raw ones by qemu-img.  A child
 * holds only the clusters that differ from the base: an empty qcow2 over the
 * child's raw disk is rebased onto the base (`qemu-img rebase` compares the
 * two and copies what differs); a VMDK child is that qcow2 child's top layer
 * converted with `-B base.vmdk`.
 * --churn says what each child's own session changed after the snapshot:
 * light (a new file, a changed file, one registry value), boot (one Windows
 * boot: hives and their logs, $LogFile, MFT records, the page file) or
 * patch (boot and a cumulative update's WinSxS components): churn.c.
 * Same options and seed: byte-identical images.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <hivex.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/volume.h>
#include <ntfs-3g/dir.h>

#include "datasets/imgwrite/imgwrite.h"
#include "formats/common/bytes.h"
#include "formats/common/crc.h"
#include "mkfleet.h"

#define ESP_START (1 * MiB)
#define ESP_SIZE (36 * MiB) /* FAT32 needs 65,525 clusters */
#define MSR_SIZE (8 * MiB)
#define WIN_START (ESP_START + ESP_SIZE + MSR_SIZE)
#define BOOTMGR_GUID "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"
#define LOADER_GUID "{3b1a58a4-5a1e-11ef-9d5e-00155d000001}"
#define CS "ControlSet001"
#define CBS "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing"
#define PXID "916d3b8a1bd4d8019a0b00004413a00e"
#define MK_FIXED_TIME_S 1751932800 /* util.c pins the libraries' clock here too */

struct disk_ctx {
	const struct mkopts *o;
	const struct scenario *sc;
	const char *work;
	uint64_t seed;
	uint8_t disk_guid[16], esp_guid[16], msr_guid[16], win_guid[16];
	uint32_t mbr_sig;
	uint64_t win_size, disk_size;
	bool mbr;
	int64_t kernel_rec_off, logfile_off; /* inside the volume */
	int64_t rec_off[12];		     /* MFT records 0..11 */
};

static bool is(const struct disk_ctx *c, const char *name)
{
	return !strcmp(c->sc->name, name);
}

static void mkguid(uint8_t *g, uint64_t *s)
{
	uint64_t a = mk_rand(s), b = mk_rand(s);

	memcpy(g, &a, 8);
	memcpy(g + 8, &b, 8);
	g[7] = (g[7] & 0x0f) | 0x40; /* version 4, stored little-endian */
	g[8] = (g[8] & 0x3f) | 0x80;
}

static void sha256(const void *d, size_t n, uint8_t *out)
{
	unsigned len = 32;

	EVP_Digest(d, n, out, &len, EVP_sha256(), NULL);
}

static void b64(const uint8_t *d, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, d, n);
}

/* ---- the hives ------------------------------------------------------------ */

static const char *const boot_drivers[] = {
	"acpi", "pci",	    "vdrvroot", "partmgr", "volmgr",   "volsnap",  "mountmgr",
	"disk", "ntfs",	    "vmbus",	"storvsc", "stornvme", "storport", "fvevol",
	"CLFS", "Wdf01000", "msrpc",	"ksecdd",  "cng",      "mup",
};

/*
 * Sibling counts of real hives (a few hundred services, a few thousand CBS
 * packages).  hivex never reuses a freed cell and reallocates a parent's
 * subkey list on every insert, so a flat list of n keys leaves about
 * 4 n^2 bytes of free cells: the bulk of a big hive goes to grouped keys.
 */
static unsigned nr_services(const struct mkopts *o)
{
	unsigned n = 40 + o->hive_fill / 50;

	return n < 700 ? n : 700;
}

static unsigned nr_packages(const struct mkopts *o)
{
	unsigned n = 20 + o->hive_fill / 20;

	return n < 2500 ? n : 2500;
}

static int make_system(struct disk_ctx *c, const char *path)
{
	struct hv *h = hv_new(c->work, "ROOT");
	char key[256], img[256];
	const char *bootexec[] = { "autocheck autochk *" };
	const char *upper[] = { "partmgr" };
	int rc = 0;

	if (!h)
		return -1;
	rc |= hv_dword(h, "Select", "Current", 1);
	rc |= hv_dword(h, "Select", "Default", is(c, "select-bad") ? 3 : 1);
	rc |= hv_dword(h, "Select", "Failed", 0);
	rc |= hv_dword(h, "Select", "LastKnownGood", 1);
	for (size_t i = 0; i < BSW_ARRAY_SIZE(boot_drivers); i++) {
		snprintf(key, sizeof(key), CS "\\Services\\%s", boot_drivers[i]);
		snprintf(img, sizeof(img), "System32\\drivers\\%s.sys", boot_drivers[i]);
		rc |= hv_dword(h, key, "Start", 0);
		rc |= hv_dword(h, key, "Type", 1);
		rc |= hv_dword(h, key, "ErrorControl", 3);
		rc |= hv_sz(h, key, "Group", i < 3 ? "Boot Bus Extender" : "SCSI miniport", 0);
		rc |= hv_sz(h, key, "ImagePath", img, hive_t_REG_EXPAND_SZ);
	}
	for (unsigned i = 0; i < nr_services(c->o); i++) {
		snprintf(key, sizeof(key), CS "\\Services\\svc%04u", i);
		rc |= hv_dword(h, key, "Start", 3);
		rc |= hv_dword(h, key, "Type", 16);
		rc |= hv_sz(h, key, "ImagePath", "%SystemRoot%\\System32\\svchost.exe -k netsvcs",
			    hive_t_REG_EXPAND_SZ);
	}
	{
		/* 2026-07-08T12:00:00Z as a FILETIME, and a name per scenario */
		uint64_t ft = (1783512000ULL + 11644473600ULL) * 10000000ULL;
		uint8_t b[8];
		char cn[16];

		for (int i = 0; i < 8; i++)
			b[i] = (uint8_t)(ft >> (8 * i));
		rc |= hv_bin(h, CS "\\Control\\Windows", "ShutdownTime", b, sizeof(b));
		snprintf(cn, sizeof(cn), "BSW-%.11s", c->sc->name);
		for (char *p = cn; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		rc |= hv_sz(h, CS "\\Control\\ComputerName\\ComputerName", "ComputerName", cn, 0);
	}
	rc |= hv_sz(h, CS "\\Control\\Nls\\CodePage", "ACP", "1252", 0);
	rc |= hv_sz(h, CS "\\Control\\Nls\\CodePage", "OEMCP", "437", 0);
	rc |= hv_sz(h, CS "\\Control\\Nls\\CodePage", "1252", "c_1252.nls", 0);
	rc |= hv_sz(h, CS "\\Control\\Nls\\CodePage", "437", "c_437.nls", 0);
	rc |= hv_sz(h, CS "\\Control\\Nls\\Language", "Default", "0409", 0);
	rc |= hv_sz(h, CS "\\Control\\Nls\\Language", "0409", "l_intl.nls", 0);
	rc |= hv_multi(h, CS "\\Control\\Class\\{4d36e967-e325-11ce-bfc1-08002be10318}",
		       "UpperFilters", upper, 1);
	rc |= hv_multi(h, CS "\\Control\\Session Manager", "BootExecute", bootexec, 1);
	rc |= hv_key(h, CS "\\Control\\ServiceGroupOrder");
	rc |= hv_key(h, CS "\\Enum");
	if (rc) {
		hv_commit(h, path);
		return -1;
	}
	return hv_commit(h, path);
}

static const char *pkg_name(unsigned i, char *buf, size_t n)
{
	snprintf(buf, n, "Package_for_KB50%05u~31bf3856ad364e35~amd64~~20348.%u.1.0", 40000 + i,
		 100 + i);
	return buf;
}

/*
 * Rule-pack scenarios (rules/incidents.yaml): SOFTWARE values.  Packages
 * 4-14 of pkg-each-state take every CurrentState (WINDOWS-EVIDENCE.md 3.2).
 */
static int rules_software(struct disk_ctx *c, struct hv *h)
{
	static const uint32_t states[] = {
		0x00, 0x05, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x65, 0x80, 0xFFFFFF90,
	};
	const char *cv = "Microsoft\\Windows NT\\CurrentVersion";
	char key[512], name[256];
	int rc = 0;

	if (is(c, "pkg-each-state")) {
		for (unsigned i = 0; i < BSW_ARRAY_SIZE(states) && 4 + i < nr_packages(c->o); i++) {
			snprintf(key, sizeof(key), CBS "\\Packages\\%s",
				 pkg_name(4 + i, name, sizeof(name)));
			rc |= hv_dword(h, key, "CurrentState", states[i]);
		}
	}
	if (is(c, "winre-unpatched") || is(c, "winre-patched")) {
		rc |= hv_sz(h, cv, "CurrentBuildNumber", "19045", 0);
		rc |= hv_sz(h, cv, "WinREVersion",
			    is(c, "winre-patched") ? "10.0.19041.3920" : "10.0.19041.3803", 0);
	}
	if (is(c, "kb5074109-build")) {
		rc |= hv_sz(h, cv, "CurrentBuildNumber", "26100", 0);
		rc |= hv_dword(h, cv, "UBR", 7623);
	}
	return rc;
}

static int make_software(struct disk_ctx *c, const char *path)
{
	struct hv *h = hv_new(c->work, "ROOT");
	char key[512], name[256];
	unsigned npkg = nr_packages(c->o);
	int rc = 0;

	if (!h)
		return -1;
	rc |= hv_sz(h, "Microsoft\\Windows NT\\CurrentVersion", "ProductName",
		    "Windows Server 2022 Datacenter", 0);
	rc |= hv_sz(h, "Microsoft\\Windows NT\\CurrentVersion", "CurrentBuild", "20348", 0);
	/* the installation's identity, as bootsweep reports it per disk */
	rc |= hv_sz(h, "Microsoft\\Windows NT\\CurrentVersion", "CurrentBuildNumber", "20348", 0);
	rc |= hv_sz(h, "Microsoft\\Windows NT\\CurrentVersion", "EditionID", "ServerDatacenter", 0);
	rc |= hv_sz(h, "Microsoft\\Windows NT\\CurrentVersion", "DisplayVersion", "21H2", 0);
	rc |= hv_dword(h, "Microsoft\\Windows NT\\CurrentVersion", "UBR", 2849);
	rc |= hv_dword(h, "Microsoft\\Windows NT\\CurrentVersion", "InstallDate", 1704067200);
	rc |= hv_sz(h, CBS "\\Version", "10.0.20348.1", "10.0.20348.1", 0);
	for (unsigned i = 0; i < npkg; i++) {
		uint32_t st = 0x70;

		if (i == 3 && is(c, "pkg-partial"))
			st = 0x65;
		if (i == 3 && is(c, "pkg-negative"))
			st = 0xFFFFFF90;
		snprintf(key, sizeof(key), CBS "\\Packages\\%s", pkg_name(i, name, sizeof(name)));
		rc |= hv_dword(h, key, "CurrentState", st);
		rc |= hv_dword(h, key, "Visibility", 1);
		rc |= hv_sz(h, key, "InstallLocation", "\\\\?\\C:\\Windows\\servicing\\Packages",
			    0);
	}
	rc |= hv_key(h, CBS "\\SessionsPending");
	rc |= rules_software(c, h);
	if (is(c, "cbs-reboot-pending"))
		rc |= hv_key(h, CBS "\\RebootPending");
	if (is(c, "cbs-packages-pending"))
		rc |= hv_key(h, CBS "\\PackagesPending");
	if (is(c, "sessions-pending-incomplete")) {
		rc |= hv_dword(h, CBS "\\SessionsPending\\31000001_1234567", "Complete", 0);
		rc |= hv_dword(h, CBS "\\SessionsPending\\31000001_1234567", "LastCommittedPhase",
			       2);
	}
	rc |= hv_key(h, "Microsoft\\Windows\\CurrentVersion\\SideBySide\\Configuration");
	/* bulk: application and class registrations, as a real SOFTWARE has */
	for (unsigned i = 0; i < c->o->hive_fill; i++) {
		uint8_t blob[64];

		/*
		 * hivex inserts a subkey in time linear in its siblings: keep
		 * sibling lists short, as Windows' own Installer tree does.
		 */
		if (i < 2000)
			snprintf(key, sizeof(key), "Classes\\CLSID\\{%08x-1111-4222-8333-%012x}", i,
				 i * 7919u);
		else
			snprintf(
				key, sizeof(key),
				"Microsoft\\Windows\\CurrentVersion\\Installer\\UserData\\S-1-5-18\\Components\\%02X\\%04X\\{%08x-1111-4222-8333-%012x}",
				i % 251, (i / 251) % 97, i, i * 7919u);
		rc |= hv_sz(h, key, "", "Component object", 0);
		snprintf(key + strlen(key), sizeof(key) - strlen(key), "\\InprocServer32");
		rc |= hv_sz(h, key, "", "%SystemRoot%\\System32\\combase.dll",
			    hive_t_REG_EXPAND_SZ);
		mk_fill(blob, sizeof(blob), c->seed + i);
		rc |= hv_bin(h, key, "Data", blob, sizeof(blob));
		if (rc)
			break;
	}
	if (rc) {
		hv_commit(h, path);
		return -1;
	}
	return hv_commit(h, path);
}

#define MANIFEST_FMT                                                                                                                                                                                                                \
	"<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\r\n"                                                                                                                                                         \
	"<assembly xmlns=\"urn:schemas-microsoft-com:asm.v3\" manifestVersion=\"1.0\" copyright=\"Copyright (c) Microsoft Corporation. All Rights Reserved.\">\r\n"                                                                 \
	"  <assemblyIdentity name=\"Microsoft-Windows-%s\" version=\"10.0.20348.%u\" processorArchitecture=\"amd64\" language=\"neutral\" buildType=\"release\" publicKeyToken=\"31bf3856ad364e35\" versionScope=\"nonSxS\" />\r\n" \
	"  <file name=\"%s\" destinationPath=\"$(runtime.system32)\\\" sourceName=\"%s\" importPath=\"$(build.nttree)\\\" sourcePath=\".\\\">\r\n"                                                                                  \
	"    <securityDescriptor name=\"WRP_FILE_DEFAULT_SDDL\" />\r\n"                                                                                                                                                             \
	"    <asmv2:hash xmlns:asmv2=\"urn:schemas-microsoft-com:asm.v2\" xmlns:dsig=\"http://www.w3.org/2000/09/xmldsig#\">\r\n"                                                                                                   \
	"      <dsig:Transforms>\r\n        <dsig:Transform Algorithm=\"urn:schemas-microsoft-com:HashTransforms.Identity\" />\r\n      </dsig:Transforms>\r\n"                                                                     \
	"      <dsig:DigestMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha256\" />\r\n"                                                                                                                                    \
	"      <dsig:DigestValue>%s</dsig:DigestValue>\r\n"                                                                                                                                                                         \
	"    </asmv2:hash>\r\n  </file>\r\n</assembly>\r\n"

void mk_component(const struct mkopts *o, unsigned i, unsigned rev, uint64_t body_seed,
		  struct mk_component *k)
{
	uint8_t dig[32];
	char d64[64];
	char comp[64];

	if (i == 0) {
		snprintf(comp, sizeof(comp), "Shell32");
		snprintf(k->file, sizeof(k->file), "shell32.dll");
	} else {
		snprintf(comp, sizeof(comp), "Feature%05u", i);
		snprintf(k->file, sizeof(k->file), "feat%05u.dll", i);
	}
	snprintf(k->keyform, sizeof(k->keyform),
		 "amd64_microsoft-windows-%s_31bf3856ad364e35_10.0.20348.%u_none_%016llx", comp,
		 rev, (unsigned long long)(o->seed * 1000003ull + i));
	for (char *p = k->keyform; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 32;
	k->len = i == 0 ? 90000 : 2048 + (i % 7) * 512;
	k->body = mk_pe(k->len, k->file, body_seed);
	sha256(k->body, k->len, dig);
	b64(dig, 32, d64);
	k->mlen = sizeof(MANIFEST_FMT) + 512;
	k->manifest = malloc(k->mlen);
	k->mlen = snprintf(k->manifest, k->mlen, MANIFEST_FMT, comp, rev, k->file, k->file, d64);
}

static void make_component(struct disk_ctx *c, unsigned i, struct mk_component *k)
{
	mk_component(c->o, i, 100 + i, c->o->seed, k);
}

int mk_component_values(const struct mkopts *o, const struct mk_component *k, unsigned i,
			bool bad_s256h, mk_val_fn fn, void *arg)
{
	static const uint8_t one[4] = { 1, 0, 0, 0 }, empty[2] = { 0, 0 };
	uint8_t dig[32];
	char key[512];
	int rc = 0;

	sha256(k->manifest, k->mlen, dig);
	if (bad_s256h)
		dig[0] ^= 0xff;
	snprintf(key, sizeof(key), "DerivedData\\Components\\%s", k->keyform);
	rc |= fn(arg, key, "S256H", hive_t_REG_BINARY, dig, 32);
	rc |= fn(arg, key, "identity", hive_t_REG_BINARY, k->keyform, strlen(k->keyform));
	rc |= fn(arg, key,
		 "c!"
		 "10.0.20348",
		 hive_t_REG_DWORD, one, 4);
	/*
	 * Real components carry one "c!<deployment>" value per package
	 * that projects them (tens on a patched server): the bulk of a
	 * real COMPONENTS hive (realistic scale: 25 each, >= 50 MB).
	 */
	for (unsigned j = 0; j < o->hive_fill / 10000; j++) {
		char vn[320];

		snprintf(
			vn, sizeof(vn), "c!%.60s_31bf3856ad364e35_10.0.20348.%u_%016llx%s",
			k->keyform + 6, 100 + j,
			(unsigned long long)(o->seed * 7919ull + i * 131ull + j),
			"_microsoft-windows-servicingstack-package~31bf3856ad364e35~amd64~~10.0.20348");
		rc |= fn(arg, key, vn, hive_t_REG_BINARY, empty, 2);
	}
	snprintf(key, sizeof(key), "CanonicalData\\Deployments\\%.40s", k->keyform + 6);
	rc |= fn(arg, key, "installed", hive_t_REG_DWORD, one, 4);
	return rc;
}

static int hv_val(void *arg, const char *key, const char *name, uint32_t type, const void *d,
		  size_t len)
{
	return hv_raw(arg, key, name, type, d, len);
}

static int make_components(struct disk_ctx *c, const char *path, struct mk_component *k, unsigned n)
{
	struct hv *h = hv_new(c->work, "ROOT");
	int rc = 0;

	if (!h)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		rc |= mk_component_values(c->o, &k[i], i, i == 0 && is(c, "s256h-mismatch"), hv_val,
					  h);
		if (rc)
			break;
	}
	if (is(c, "pending-xml") || is(c, "pxid-no-pending-xml"))
		rc |= hv_bin(h, "", "PendingXmlIdentifier", u"" PXID, sizeof(u"" PXID) - 2);
	if (is(c, "components-execstate"))
		rc |= hv_dword(h, "", "ExecutionState", 1);
	rc |= hv_dword(h, "", "StoreDirty", 0);
	if (rc) {
		hv_commit(h, path);
		return -1;
	}
	return hv_commit(h, path);
}

static void device_blob(const struct disk_ctx *c, const uint8_t *part_guid, uint64_t part_off,
			uint8_t *b)
{
	memset(b, 0, 88);
	put_le32(b + 16, 6);
	put_le32(b + 24, 0x48);
	if (c->mbr) {
		put_le64(b + 32, part_off);
		put_le32(b + 52, 1);
		put_le32(b + 56, c->mbr_sig);
	} else {
		memcpy(b + 32, part_guid, 16);
		put_le32(b + 52, 0);
		memcpy(b + 56, c->disk_guid, 16);
	}
}

static int make_bcd(struct disk_ctx *c, const char *path)
{
	struct hv *h = hv_new(c->work, "ROOT");
	uint8_t dev[88], espdev[88];
	const char *order[] = { LOADER_GUID };
	const char *bm = "Objects\\" BOOTMGR_GUID, *ld = "Objects\\" LOADER_GUID;
	char k[256];
	int rc = 0;

	if (!h)
		return -1;
	device_blob(c, c->win_guid, WIN_START, dev);
	device_blob(c, c->esp_guid, ESP_START, espdev);
	rc |= hv_sz(h, "Description", "KeyName", "BCD00000000", 0);
	rc |= hv_dword(h, "Description", "System", 1);
	snprintf(k, sizeof(k), "%s\\Description", bm);
	rc |= hv_dword(h, k, "Type", 0x10100002);
	snprintf(k, sizeof(k), "%s\\Elements\\11000001", bm);
	rc |= hv_bin(h, k, "Element", c->mbr ? dev : espdev, 88);
	snprintf(k, sizeof(k), "%s\\Elements\\12000002", bm);
	rc |= hv_sz(h, k, "Element", c->mbr ? "\\bootmgr" : "\\EFI\\Microsoft\\Boot\\bootmgfw.efi",
		    0);
	snprintf(k, sizeof(k), "%s\\Elements\\23000003", bm);
	rc |= hv_sz(h, k, "Element", LOADER_GUID, 0);
	snprintf(k, sizeof(k), "%s\\Elements\\24000001", bm);
	rc |= hv_multi(h, k, "Element", order, 1);
	snprintf(k, sizeof(k), "%s\\Description", ld);
	rc |= hv_dword(h, k, "Type", 0x10200003);
	snprintf(k, sizeof(k), "%s\\Elements\\11000001", ld);
	rc |= hv_bin(h, k, "Element", dev, 88);
	snprintf(k, sizeof(k), "%s\\Elements\\21000001", ld);
	rc |= hv_bin(h, k, "Element", dev, 88);
	snprintf(k, sizeof(k), "%s\\Elements\\12000002", ld);
	rc |= hv_sz(h, k, "Element",
		    c->mbr		  ? "\\Windows\\system32\\winload.exe" :
		    is(c, "bcd-bad-path") ? "\\Windows\\system32\\winload.exe" :
					    "\\Windows\\system32\\winload.efi",
		    0);
	snprintf(k, sizeof(k), "%s\\Elements\\12000004", ld);
	rc |= hv_sz(h, k, "Element", "Windows Server", 0);
	snprintf(k, sizeof(k), "%s\\Elements\\22000002", ld);
	rc |= hv_sz(h, k, "Element", "\\Windows", 0);
	if (rc) {
		hv_commit(h, path);
		return -1;
	}
	return hv_commit(h, path);
}

static int make_plain_hive(struct disk_ctx *c, const char *path, const char *what)
{
	struct hv *h = hv_new(c->work, "ROOT");

	if (!h)
		return -1;
	hv_sz(h, what, "Created", "mkfleet", 0);
	return hv_commit(h, path);
}

/* ---- the NTFS volume ---------------------------------------------------- */

static int put_hive(struct vol *v, const char *name, const char *file, bool logs_from_files,
		    const char *work)
{
	char dst[256], src[512];
	size_t len;
	uint8_t *d = mk_read_file(file, &len);
	int rc;

	if (!d)
		return -1;
	snprintf(dst, sizeof(dst), "Windows/System32/config/%s", name);
	rc = vol_write(v, dst, d, len);
	free(d);
	for (int i = 1; i <= 2 && !rc; i++) {
		snprintf(dst, sizeof(dst), "Windows/System32/config/%s.LOG%d", name, i);
		snprintf(src, sizeof(src), "%s.LOG%d", file, i);
		d = logs_from_files ? mk_read_file(src, &len) : NULL;
		rc = vol_write(v, dst, d, d ? len : 0);
		free(d);
	}
	(void)work;
	return rc;
}

/* $STANDARD_INFORMATION times of a file (NTFS: 100 ns since 1601). */
static int set_times(struct vol *v, const char *path, int64_t unix_s)
{
	ntfs_inode *ni = ntfs_pathname_to_inode(vol_nv(v), NULL, path);
	ntfs_time t = cpu_to_sle64((unix_s + 11644473600LL) * 10000000LL);

	if (!ni)
		return -1;
	ni->creation_time = ni->last_data_change_time = t;
	ni->last_mft_change_time = ni->last_access_time = t;
	NInoSetDirty(ni);
	return ntfs_inode_close(ni) ? -1 : 0;
}

/*
 * Rule-pack scenarios (rules/incidents.yaml): files on the Windows volume.
 * Times: 2024-07-19T04:30:00Z is inside CrowdStrike's faulty window
 * (04:09-05:27 UTC), 05:30 after it; the last shutdown is 2026-07-08T12:00Z.
 */
static int rules_volume(struct disk_ctx *c, struct vol *v)
{
	static const char cf[] =
		"Windows/System32/drivers/CrowdStrike/C-00000291-00000000-00000032.sys";
	uint8_t *d;
	int rc = 0;

	if (is(c, "crowdstrike-cf291-zero") || is(c, "crowdstrike-cf291-window") ||
	    is(c, "crowdstrike-cf291-good")) {
		d = calloc(1, 40960);
		if (!d)
			return -1;
		if (!is(c, "crowdstrike-cf291-zero"))
			mk_fill(d, 40960, c->seed + 291);
		rc |= vol_write(v, cf, d, 40960);
		free(d);
		if (is(c, "crowdstrike-cf291-window"))
			rc |= set_times(
				v,
				"/Windows/System32/drivers/CrowdStrike/C-00000291-00000000-00000032.sys",
				1721363400); /* 2024-07-19T04:30:00Z */
		if (is(c, "crowdstrike-cf291-good"))
			rc |= set_times(
				v,
				"/Windows/System32/drivers/CrowdStrike/C-00000291-00000000-00000032.sys",
				1721367000); /* 2024-07-19T05:30:00Z */
	}
	if (is(c, "pending-xml-fresh")) {
		static const char x[] =
			"<?xml version='1.0' encoding='utf-8'?>\r\n<PendingTransaction Version=\"3.1\" WcpVersion=\"10.0.20348.1\" Identifier=\"" PXID
			"\"><Transactions/><ChangeList/><POQ postAction=\"reboot\"/><POQ/><InstallerQueue Length=\"0x0\"/></PendingTransaction>\r\n";

		rc |= vol_write(v, "Windows/WinSxS/pending.xml", x, sizeof(x) - 1);
		rc |= set_times(v, "/Windows/WinSxS/pending.xml",
				1783425600); /* 2026-07-07T12:00:00Z */
	}
	if (is(c, "driver-zero-filled")) {
		d = calloc(1, 9216);
		if (!d)
			return -1;
		rc |= vol_replace(v, "Windows/System32/drivers/disk.sys", d, 9216);
		free(d);
	}
	return rc;
}

/*
 * compactos: the WOF algorithm (0 XPRESS4K, 1 LZX, 2 XPRESS8K, 3 XPRESS16K)
 * of a boot-path file or WinSxS component i, or -1 to write it plain.
 */
static int compactos_alg(const struct disk_ctx *c, const char *name, int comp)
{
	static const struct {
		const char *n;
		int alg;
	} boot[] = {
		{ "ntoskrnl.exe", 1 }, { "hal.dll", 0 },     { "winload.efi", 2 },
		{ "ci.dll", 3 },       { "winload.exe", 1 }, { "kdcom.dll", 0 },
	};

	if (!is(c, "compactos"))
		return -1;
	if (comp >= 0) /* every fifth component, shell32 (0) in LZX */
		return comp % 5 ? -1 : (comp / 5 + 1) % 4;
	for (size_t i = 0; i < BSW_ARRAY_SIZE(boot); i++)
		if (!strcmp(boot[i].n, name))
			return boot[i].alg;
	for (size_t i = 0; i < BSW_ARRAY_SIZE(boot_drivers); i++)
		if (!strcmp(boot_drivers[i], name))
			return (int)(i % 4);
	return -1;
}

static int fill_volume(struct disk_ctx *c, const char *win)
{
	struct vol *v = vol_open(win);
	char hp[512], p[512];
	unsigned ncomp = c->o->scale;
	struct mk_component *k;
	int rc = 0;

	if (!v)
		return -1;
	if (is(c, "non-windows-ntfs")) {
		rc |= vol_write(v, "data/readme.txt", "not windows\n", 12);
		rc |= vol_mkdirs(v, "home/user");
		goto out;
	}
	k = calloc(ncomp, sizeof(*k));
	if (!k) {
		rc = -1;
		goto out;
	}
	for (unsigned i = 0; i < ncomp; i++)
		make_component(c, i, &k[i]);

	/* hives */
	snprintf(hp, sizeof(hp), "%s/SYSTEM", c->work);
	rc |= make_system(c, hp);
	snprintf(p, sizeof(p), "%s/SYSTEM.LOG1", c->work);
	unlink(p);
	if (is(c, "system-dirty-badlog"))
		rc |= hv_make_dirty_with_log(hp, p, true);
	if (is(c, "system-corrupt-nolog")) {
		size_t len;
		uint8_t *d = mk_read_file(hp, &len);

		if (d && len > 8192) {
			memcpy(d + 4096, "XXXX\xff\xff\xff\xff", 8);
			rc |= mk_write_file(hp, d, len);
		}
		free(d);
	}
	rc |= put_hive(v, "SYSTEM", hp, is(c, "system-dirty-badlog"), c->work);
	snprintf(hp, sizeof(hp), "%s/SOFTWARE", c->work);
	rc |= make_software(c, hp);
	snprintf(p, sizeof(p), "%s/SOFTWARE.LOG1", c->work);
	unlink(p);
	if (is(c, "hive-dirty-good-logs"))
		rc |= hv_make_dirty_with_log(hp, p, false);
	rc |= put_hive(v, "SOFTWARE", hp, is(c, "hive-dirty-good-logs"), c->work);
	snprintf(hp, sizeof(hp), "%s/COMPONENTS", c->work);
	rc |= make_components(c, hp, k, ncomp);
	rc |= put_hive(v, "COMPONENTS", hp, false, c->work);
	for (int i = 0; i < 3; i++) {
		static const char *const n[] = { "SAM", "SECURITY", "DEFAULT" };

		snprintf(hp, sizeof(hp), "%s/%s", c->work, n[i]);
		rc |= make_plain_hive(c, hp, n[i]);
		rc |= put_hive(v, n[i], hp, false, c->work);
	}
	if (rc)
		goto free_k;

	/* the boot path */
	{
		static const struct {
			const char *n;
			size_t size;
		} core[] = {
			{ "ntoskrnl.exe", 200000 },
			{ "hal.dll", 40000 },
			{ "ci.dll", 30000 },
			{ "winload.efi", 50000 },
			{ "winload.exe", 48000 },
			{ "kdcom.dll", 8000 },
			{ "c_1252.nls", 66082 },
			{ "c_437.nls", 66082 },
			{ "l_intl.nls", 2646 },
			{ "cmd.exe", 289792 }, /* what libguestfs looks for */
		};
		for (size_t i = 0; i < BSW_ARRAY_SIZE(core); i++) {
			uint8_t *d;

			if (is(c, "winload-missing") && !strcmp(core[i].n, "winload.efi"))
				continue;
			d = mk_pe(core[i].size, core[i].n, c->o->seed);
			snprintf(p, sizeof(p), "Windows/System32/%s", core[i].n);
			if (compactos_alg(c, core[i].n, -1) >= 0)
				rc |= vol_write_wof(v, p, d, core[i].size,
						    compactos_alg(c, core[i].n, -1));
			else
				rc |= vol_write(v, p, d, core[i].size);
			free(d);
		}
		for (size_t i = 0; i < BSW_ARRAY_SIZE(boot_drivers); i++) {
			size_t size = 8192 + i * 1024;
			uint8_t *d;

			if (is(c, "driver-missing") && !strcmp(boot_drivers[i], "stornvme"))
				continue;
			if (is(c, "driver-empty") && !strcmp(boot_drivers[i], "disk"))
				size = 0;
			d = mk_pe(size, boot_drivers[i], c->o->seed);
			snprintf(p, sizeof(p), "Windows/System32/drivers/%s.sys", boot_drivers[i]);
			if (compactos_alg(c, boot_drivers[i], -1) >= 0)
				rc |= vol_write_wof(v, p, d, size,
						    compactos_alg(c, boot_drivers[i], -1));
			else
				rc |= vol_write(v, p, d, size);
			free(d);
		}
		if (c->mbr) {
			uint8_t *d = mk_pe(400000, "bootmgr", c->o->seed);

			rc |= vol_write(v, "bootmgr", d, 400000);
			free(d);
		}
	}
	/* WinSxS: each component's folder and manifest; System32 hard links */
	for (unsigned i = 0; i < ncomp && !rc; i++) {
		char s[512];

		snprintf(p, sizeof(p), "Windows/WinSxS/%s/%s", k[i].keyform, k[i].file);
		if (compactos_alg(c, NULL, (int)i) >= 0) /* both names: one record */
			rc |= vol_write_wof(v, p, k[i].body, k[i].len,
					    compactos_alg(c, NULL, (int)i));
		else
			rc |= vol_write(v, p, k[i].body, k[i].len);
		snprintf(s, sizeof(s), "Windows/WinSxS/Manifests/%s.manifest", k[i].keyform);
		rc |= vol_write(v, s, k[i].manifest, k[i].mlen);
		snprintf(s, sizeof(s), "Windows/System32/%s", k[i].file);
		if (i == 0 && is(c, "half-rollback")) {
			uint8_t *old = mk_pe(k[i].len, "older shell32", c->o->seed);

			rc |= vol_write(v, s, old, k[i].len);
			free(old);
		} else {
			rc |= vol_link(v, p, s);
		}
	}
	rc |= vol_mkdirs(v, "Windows/WinSxS/Catalogs");
	rc |= vol_mkdirs(v, "Windows/WinSxS/Temp/PendingRenames");
	if (is(c, "pending-xml") || is(c, "pending-xml-no-id")) {
		char x[512];
		int n = snprintf(
			x, sizeof(x),
			"<?xml version='1.0' encoding='utf-8'?>\r\n<PendingTransaction Version=\"3.1\" WcpVersion=\"10.0.20348.1\" Identifier=\"%s\"><Transactions/><ChangeList/><POQ postAction=\"reboot\"/><POQ/><InstallerQueue Length=\"0x0\"/></PendingTransaction>\r\n",
			PXID);
		rc |= vol_write(v, "Windows/WinSxS/pending.xml", x, n);
	}
	/* servicing: package manifests and the session log */
	for (unsigned i = 0; i < nr_packages(c->o) && !rc; i++) {
		char name[256], x[1024];
		int n;

		pkg_name(i, name, sizeof(name));
		n = snprintf(
			x, sizeof(x),
			"<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\r\n<assembly xmlns=\"urn:schemas-microsoft-com:asm.v3\" manifestVersion=\"1.0\"><assemblyIdentity name=\"%.40s\" version=\"10.0.20348.%u\" language=\"neutral\" processorArchitecture=\"amd64\" publicKeyToken=\"31bf3856ad364e35\"/><package identifier=\"KB50%05u\" releaseType=\"Update\"/></assembly>\r\n",
			name, 100 + i, 40000 + i);
		snprintf(p, sizeof(p), "Windows/servicing/Packages/%s.mum", name);
		rc |= vol_write(v, p, x, n);
	}
	{
		const char *sx =
			"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Sessions Version=\"1.0\"><Session id=\"31000001_1\" version=\"1.0\" Status=\"0x0\" Complete=\"true\"><Tasks/><Actions/></Session></Sessions>\r\n";

		rc |= vol_write(v, "Windows/servicing/Sessions/Sessions.xml", sx, strlen(sx));
	}
	/* bulk content: program files (sparse bodies keep the host disk small) */
	for (unsigned i = 0; i < c->o->files && !rc; i++) {
		uint8_t hdr[512];

		mk_fill(hdr, sizeof(hdr), c->seed + 77 + i);
		snprintf(p, sizeof(p), "Program Files/App%04u/file%06u.dat", i / 500, i);
		rc |= i % 10 ? vol_write(v, p, hdr, sizeof(hdr)) :
			       vol_write_sparse(v, p, 1 * MiB, hdr, sizeof(hdr));
	}
	rc |= vol_write_sparse(v, "pagefile.sys", 16 * MiB, NULL, 0);
	rc |= rules_volume(c, v);
	if (!rc) {
		int64_t r = vol_record(v, "Windows/System32/ntoskrnl.exe");

		c->kernel_rec_off = r >= 0 ? vol_record_offset(v, r) : -1;
	}
free_k:
	for (unsigned i = 0; i < ncomp; i++) {
		free(k[i].body);
		free(k[i].manifest);
	}
	free(k);
out:
	for (int i = 0; i < 12; i++)
		c->rec_off[i] = vol_record_offset(v, i);
	if (is(c, "logfile-unclean")) {
		ntfs_volume *nv = vol_nv(v);
		ntfs_inode *ni = ntfs_inode_open(nv, FILE_LogFile);
		ntfs_attr *na = ni ? ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0) : NULL;
		LCN l = na ? ntfs_attr_vcn_to_lcn(na, 0) : -1;

		c->logfile_off = l >= 0 ? (l << nv->cluster_size_bits) : -1;
		if (na)
			ntfs_attr_close(na);
		if (ni)
			ntfs_inode_close(ni);
	}
	if (is(c, "ntfs-dirty-flag")) {
		ntfs_volume *nv = vol_nv(v);

		if (ntfs_volume_write_flags(nv, nv->flags | VOLUME_IS_DIRTY))
			rc = -1;
	}
	if (vol_close(v))
		rc = -1;
	return rc;
}

/* ---- damage at the byte level -------------------------------------------- */

static int pread_all(int fd, void *b, size_t n, uint64_t off)
{
	return pread(fd, b, n, off) == (ssize_t)n ? 0 : -1;
}

static int pwrite_all(int fd, const void *b, size_t n, uint64_t off)
{
	return pwrite(fd, b, n, off) == (ssize_t)n ? 0 : -1;
}

/* Tear a record: the last two bytes of its first sector lose the USN. */
static int tear(int fd, uint64_t off)
{
	uint8_t b[2];

	if (pread_all(fd, b, 2, off + 510))
		return -1;
	b[0] ^= 0x5a;
	b[1] ^= 0xa5;
	return pwrite_all(fd, b, 2, off + 510);
}

/* Give record rec an $ATTRIBUTE_LIST whose entry has name offset 0x1C. */
static int attrlist_1c(int fd, uint64_t off)
{
	uint8_t r[1024], al[0x18 + 0x20];
	uint16_t usa = 0, usn, cnt, ao;
	uint32_t used, alen = sizeof(al);
	uint8_t *a;

	if (pread_all(fd, r, 1024, off) || memcmp(r, "FILE", 4))
		return -1;
	usa = get_le16(r + 4);
	cnt = get_le16(r + 6);
	usn = get_le16(r + usa);
	for (int i = 1; i < cnt && i <= 2; i++) /* undo fixups */
		memcpy(r + 512 * i - 2, r + usa + 2 * i, 2);
	used = get_le32(r + 0x18);
	ao = get_le16(r + 0x14);
	a = r + ao; /* first attribute: $STANDARD_INFORMATION */
	if (get_le32(a) != 0x10 || used + alen > 1024)
		return -1;
	a += get_le32(a + 4); /* insert after it */
	memmove(a + alen, a, r + used - a);
	memset(al, 0, sizeof(al));
	put_le32(al, 0x20); /* $ATTRIBUTE_LIST, resident */
	put_le32(al + 4, alen);
	put_le16(al + 0x0e, get_le16(r + 0x28)); /* instance */
	put_le32(al + 0x10, 0x20);		 /* value length */
	put_le16(al + 0x14, 0x18);		 /* value offset */
	put_le32(al + 0x18, 0x10);		 /* entry: $STANDARD_INFORMATION */
	put_le16(al + 0x18 + 4, 0x20);		 /* entry length */
	al[0x18 + 6] = 0;			 /* name length */
	al[0x18 + 7] = 0x1c;			 /* name offset: the buggy 0x1C */
	put_le64(al + 0x18 + 16, get_le32(r + 0x2c) | ((uint64_t)get_le16(r + 0x10) << 48));
	memcpy(a, al, alen);
	put_le32(r + 0x18, used + alen);
	put_le16(r + 0x28, get_le16(r + 0x28) + 1);
	for (int i = 1; i < cnt && i <= 2; i++) { /* redo fixups */
		memcpy(r + usa + 2 * i, r + 512 * i - 2, 2);
		put_le16(r + 512 * i - 2, usn);
	}
	return pwrite_all(fd, r, 1024, off);
}

static int damage(struct disk_ctx *c, int fd, uint64_t vstart)
{
	uint8_t z[512] = { 0 };
	int rc = 0;

	if (is(c, "kernel-torn"))
		rc = c->kernel_rec_off < 0 ? -1 : tear(fd, vstart + c->kernel_rec_off);
	if (is(c, "mft-head-damaged"))
		for (int i = 0; i < 4 && !rc; i++)
			rc = tear(fd, vstart + c->rec_off[i]);
	if (is(c, "attrlist-1c"))
		rc = attrlist_1c(fd, vstart + c->rec_off[9]);
	if (is(c, "ntfs-boot-damaged") || is(c, "ntfs-boot-both-damaged"))
		rc |= pwrite_all(fd, z, 512, vstart);
	if (is(c, "ntfs-boot-both-damaged"))
		rc |= pwrite_all(fd, z, 512, vstart + c->win_size - 512);
	if (is(c, "bitlocker"))
		rc |= pwrite_all(fd, "-FVE-FS-", 8, vstart + 3);
	if (is(c, "logfile-unclean")) {
		/*
		 * mkntfs and libntfs-3g leave $LogFile empty (all 0xFF).  Write
		 * the two restart pages a crashed Windows 8+ system leaves:
		 * version 2.0, client "NTFS" in use, the clean flag clear
		 * (layout: ntfs-3g logfile.h RESTART_PAGE_HEADER, RESTART_AREA,
		 * LOG_CLIENT_RECORD).
		 */
		uint8_t pg[8192];

		if (c->logfile_off < 0)
			return -1;
		memset(pg, 0xff, sizeof(pg));
		for (int i = 0; i < 2; i++) {
			uint8_t *h = pg + 4096 * i, *ra = h + 0x30, *cl = ra + 0x30;
			uint16_t usn = 1;

			memset(h, 0, 4096);
			memcpy(h, "RSTR", 4);
			put_le16(h + 4, 0x1e);		/* usa offset */
			put_le16(h + 6, 9);		/* 1 + 4096 / 512 */
			put_le32(h + 0x10, 4096);	/* system page size */
			put_le32(h + 0x14, 4096);	/* log page size */
			put_le16(h + 0x18, 0x30);	/* restart area offset */
			put_le16(h + 0x1a, 0);		/* minor */
			put_le16(h + 0x1c, 2);		/* major */
			put_le64(ra, 0x1000 + i);	/* current LSN */
			put_le16(ra + 8, 1);		/* log clients */
			put_le16(ra + 10, 0xffff);	/* free list: empty */
			put_le16(ra + 12, 0);		/* in use: client 0 */
			put_le16(ra + 14, 0);		/* flags: not clean */
			put_le32(ra + 16, 44);		/* seq number bits */
			put_le16(ra + 20, 0x30 + 0xa0); /* restart area length */
			put_le16(ra + 22, 0x30);	/* client array offset */
			put_le64(ra + 24, 4 * MiB);	/* file size */
			put_le16(ra + 36, 0x30);	/* log record header length */
			put_le16(ra + 38, 0x40);	/* log page data offset */
			put_le16(cl + 16, 0xffff);	/* prev client */
			put_le16(cl + 18, 0xffff);	/* next client */
			put_le32(cl + 28, 8);		/* name length in bytes */
			memcpy(cl + 32, "N\0T\0F\0S\0", 8);
			/* update sequence: the USN at each sector's end, saved in the array */
			put_le16(h + 0x1e, usn);
			for (int sct = 1; sct <= 8; sct++) {
				memcpy(h + 0x1e + 2 * sct, h + 512 * sct - 2, 2);
				put_le16(h + 512 * sct - 2, usn);
			}
		}
		rc |= pwrite_all(fd, pg, sizeof(pg), vstart + c->logfile_off);
	}
	if (is(c, "gpt-primary-damaged") || is(c, "gpt-both-damaged"))
		rc |= pwrite_all(fd, "\xde\xad\xbe\xef", 4, 512 + 16);
	if (is(c, "gpt-both-damaged"))
		rc |= pwrite_all(fd, "\xde\xad\xbe\xef", 4, c->disk_size - 512 + 16);
	return rc;
}

/* ---- the disk ------------------------------------------------------------ */

static int copy_into(int fd, const char *src, uint64_t off)
{
	int in = open(src, O_RDONLY);
	static uint8_t buf[1 << 20];
	static const uint8_t zero[4096];
	uint64_t pos = 0;
	ssize_t n;

	if (in < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i += 4096) {
			size_t l = n - i < 4096 ? n - i : 4096;

			if (memcmp(buf + i, zero, l) && pwrite_all(fd, buf + i, l, off + pos + i)) {
				close(in);
				return -1;
			}
		}
		pos += n;
	}
	close(in);
	return n < 0 ? -1 : 0;
}

static void gpt_entry(uint8_t *e, const char *type, const uint8_t *guid, uint64_t first,
		      uint64_t last, const char *name)
{
	unsigned a, b, cc, d[8];

	sscanf(type, "%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &a, &b, &cc, &d[0], &d[1], &d[2],
	       &d[3], &d[4], &d[5], &d[6], &d[7]);
	put_le32(e, a);
	put_le16(e + 4, b);
	put_le16(e + 6, cc);
	for (int i = 0; i < 8; i++)
		e[8 + i] = d[i];
	memcpy(e + 16, guid, 16);
	put_le64(e + 32, first);
	put_le64(e + 40, last);
	for (int i = 0; name[i] && i < 36; i++)
		e[56 + 2 * i] = name[i];
}

static int write_gpt(struct disk_ctx *c, int fd)
{
	uint64_t sectors = c->disk_size / 512, last = sectors - 1;
	uint8_t mbr[512] = { 0 }, hdr[512], *arr = calloc(128, 128);
	uint64_t esp_l = ESP_START / 512, msr_l = (ESP_START + ESP_SIZE) / 512,
		 win_l = WIN_START / 512;
	int rc = 0;

	if (!arr)
		return -1;
	/* protective MBR */
	mbr[446 + 4] = 0xee;
	put_le32(mbr + 446 + 8, 1);
	put_le32(mbr + 446 + 12, sectors - 1 > 0xffffffff ? 0xffffffff : sectors - 1);
	put_le16(mbr + 510, 0xaa55);
	rc |= pwrite_all(fd, mbr, 512, 0);
	gpt_entry(arr, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", c->esp_guid, esp_l,
		  esp_l + ESP_SIZE / 512 - 1, "EFI system partition");
	gpt_entry(arr + 128, "e3c9e316-0b5c-4db8-817d-f92df00215ae", c->msr_guid, msr_l,
		  msr_l + MSR_SIZE / 512 - 1, "Microsoft reserved partition");
	gpt_entry(arr + 256, "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", c->win_guid, win_l,
		  win_l + c->win_size / 512 - 1, "Basic data partition");
	for (int backup = 0; backup < 2; backup++) {
		uint64_t my = backup ? last : 1, alt = backup ? 1 : last;
		uint64_t arr_lba = backup ? last - 32 : 2;

		memset(hdr, 0, 512);
		memcpy(hdr, "EFI PART", 8);
		put_le32(hdr + 8, 0x00010000);
		put_le32(hdr + 12, 92);
		put_le64(hdr + 24, my);
		put_le64(hdr + 32, alt);
		put_le64(hdr + 40, 34);
		put_le64(hdr + 48, last - 33);
		memcpy(hdr + 56, c->disk_guid, 16);
		put_le64(hdr + 72, arr_lba);
		put_le32(hdr + 80, 128);
		put_le32(hdr + 84, 128);
		put_le32(hdr + 88, bsw_crc32(0, arr, 128 * 128));
		put_le32(hdr + 16, bsw_crc32(0, hdr, 92));
		rc |= pwrite_all(fd, hdr, 512, my * 512);
		rc |= pwrite_all(fd, arr, 128 * 128, arr_lba * 512);
	}
	free(arr);
	return rc;
}

static int write_mbr(struct disk_ctx *c, int fd)
{
	uint8_t mbr[512] = { 0 };

	put_le32(mbr + 440, c->mbr_sig);
	mbr[446] = 0x80;
	mbr[446 + 4] = 0x07;
	put_le32(mbr + 446 + 8, WIN_START / 512);
	put_le32(mbr + 446 + 12, c->win_size / 512);
	put_le16(mbr + 510, 0xaa55);
	return pwrite_all(fd, mbr, 512, 0);
}

static int make_esp(struct disk_ctx *c, const char *esp)
{
	char bcd[512], bm[512];
	uint8_t *d = mk_pe(1500000, "bootmgfw.efi", c->o->seed);
	int rc = 0;

	snprintf(bcd, sizeof(bcd), "%s/BCD", c->work);
	snprintf(bm, sizeof(bm), "%s/bootmgfw.efi", c->work);
	unlink(esp);
	rc |= mk_write_file(bm, d, 1500000);
	free(d);
	rc |= make_bcd(c, bcd);
	/* mcopy -m keeps these times: the fixed instant, for reproducibility */
	{
		struct timespec ts[2] = { { MK_FIXED_TIME_S, 0 }, { MK_FIXED_TIME_S, 0 } };

		utimensat(AT_FDCWD, bm, ts, 0);
		utimensat(AT_FDCWD, bcd, ts, 0);
	}
	rc |= mk_run("mkfs.vfat --invariant -C -F 32 -s 1 -i %08x -n SYSTEM '%s' %llu >/dev/null",
		     (unsigned)c->seed, esp, (unsigned long long)(ESP_SIZE / 1024));
	rc |= mk_run("mmd -i '%s' ::/EFI ::/EFI/Microsoft ::/EFI/Microsoft/Boot ::/EFI/Boot", esp);
	rc |= mk_run("mcopy -i '%s' '%s' ::/EFI/Microsoft/Boot/bootmgfw.efi", esp, bm);
	rc |= mk_run("mcopy -i '%s' '%s' ::/EFI/Boot/bootx64.efi", esp, bm);
	if (!is(c, "bcd-missing"))
		rc |= mk_run("mcopy -i '%s' '%s' ::/EFI/Microsoft/Boot/BCD", esp, bcd);
	return rc;
}

/* The Windows partition's size at this scale (build_raw and child_life). */
static uint64_t win_size(const struct mkopts *o)
{
	return (o->scale >= 10000 ? 4096 : o->scale >= 3000 ? 1024 : 96) * MiB;
}

/* Build one raw disk image at path. */
static int build_raw(const struct mkopts *o, const struct scenario *sc, uint64_t seed,
		     const char *work, const char *path)
{
	struct disk_ctx c = { .o = o,
			      .sc = sc,
			      .work = work,
			      .seed = seed,
			      .kernel_rec_off = -1,
			      .logfile_off = -1 };
	uint64_t s = seed;
	char win[512], esp[512];
	int fd, rc = 0;

	c.mbr = !strcmp(sc->name, "mbr-clean");
	mkguid(c.disk_guid, &s);
	mkguid(c.esp_guid, &s);
	mkguid(c.msr_guid, &s);
	mkguid(c.win_guid, &s);
	c.mbr_sig = (uint32_t)mk_rand(&s) | 1;
	c.win_size = win_size(o);
	c.disk_size = WIN_START + c.win_size + 1 * MiB;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, c.disk_size)) {
		fprintf(stderr, "mkfleet: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!strcmp(sc->name, "empty-disk"))
		goto out;
	snprintf(win, sizeof(win), "%s/win.img", work);
	snprintf(esp, sizeof(esp), "%s/esp.img", work);
	unlink(win);
	{
		int w = open(win, O_RDWR | O_CREAT | O_TRUNC, 0644);

		if (w < 0 || ftruncate(w, c.win_size)) {
			rc = -1;
		}
		if (w >= 0)
			close(w);
	}
	/* -T: fixed times, serial and GUIDs, so the volume is reproducible */
	rc |= mk_run(
		"mkntfs -F -f -q -T -s 512 -c 4096 -L Windows -p %llu -H 255 -S 63 '%s' >/dev/null 2>&1",
		(unsigned long long)(WIN_START / 512), win);
	if (!rc)
		rc = fill_volume(&c, win);
	if (c.mbr) {
		/* \Boot\BCD on the active NTFS partition: reopen and add it */
		char bcd[512];
		struct vol *v;
		size_t len;
		uint8_t *d;

		snprintf(bcd, sizeof(bcd), "%s/BCD", work);
		rc |= make_bcd(&c, bcd);
		v = vol_open(win);
		d = mk_read_file(bcd, &len);
		if (!v || !d || vol_write(v, "Boot/BCD", d, len))
			rc = -1;
		free(d);
		if (v)
			vol_close(v);
		rc |= write_mbr(&c, fd);
	} else {
		rc |= make_esp(&c, esp);
		rc |= write_gpt(&c, fd);
		rc |= copy_into(fd, esp, ESP_START);
	}
	rc |= copy_into(fd, win, WIN_START);
	if (!rc)
		rc = damage(&c, fd, WIN_START);
	unlink(win);
	unlink(esp);
out:
	if (close(fd))
		rc = -1;
	return rc;
}

/* ---- a child's own life after the snapshot --------------------------------- */

/*
 * Scenarios whose faults live in the volume's metadata or layout (torn or
 * damaged records, boot sectors, an unclean $LogFile, the dirty flag, a
 * foreign volume) are not mounted read-write: libntfs-3g would refuse them
 * or tidy them up, and the scenario would be gone.
 */
static bool child_may_live(const struct scenario *sc)
{
	static const char *const no[] = {
		"kernel-torn",
		"mft-head-damaged",
		"attrlist-1c",
		"ntfs-boot-damaged",
		"ntfs-boot-both-damaged",
		"logfile-unclean",
		"ntfs-dirty-flag",
		"bitlocker",
		"empty-disk",
		"non-windows-ntfs",
		"mbr-clean",
	};

	for (size_t i = 0; i < BSW_ARRAY_SIZE(no); i++)
		if (!strcmp(sc->name, no[i]))
			return false;
	return strcmp(sc->class, "unassessable") != 0;
}

/* A value written with hivex into the DEFAULT hive, as a user session would. */
static int child_registry(struct vol *v, const char *work, unsigned i)
{
	const char *path = "Windows/System32/config/DEFAULT";
	char tmp[1024];
	hive_h *h;
	hive_node_h root, k;
	uint32_t x = 0x60000000u + i;
	hive_set_value val = {
		.key = (char *)"LastSession", .t = hive_t_REG_DWORD, .len = 4, .value = (char *)&x
	};
	size_t len;
	uint8_t *d = vol_read(v, path, &len);
	int rc = -1;

	snprintf(tmp, sizeof(tmp), "%s/child-default.tmp", work);
	if (!d || mk_write_file(tmp, d, len)) {
		free(d);
		return -1;
	}
	free(d);
	d = NULL;
	h = hivex_open(tmp, HIVEX_OPEN_WRITE);
	if (h) {
		root = hivex_root(h);
		k = hivex_node_get_child(h, root, "BootsweepFleet");
		if (!k)
			k = hivex_node_add_child(h, root, "BootsweepFleet");
		if (k && !hivex_node_set_value(h, k, &val, 0) && !hivex_commit(h, NULL, 0))
			rc = 0;
		hivex_close(h);
	}
	if (!rc) {
		d = mk_read_file(tmp, &len);
		rc = d ? vol_replace(v, path, d, len) : -1;
	}
	free(d);
	unlink(tmp);
	return rc;
}

/*
 * The child's own changes, made through a copy-on-write device over raw's
 * Windows partition (raw is not written): a new log file, a changed
 * program file and a registry write, all from the child's number; with
 * --churn boot or patch, a whole session instead of the registry write
 * (churn.c, what it did in *res).  *ext gets the 4 KiB blocks that differ
 * from raw (data owned by *cow).
 */
static int child_life(const struct mkopts *o, const struct scenario *sc, const char *raw,
		      const char *work, unsigned i, struct cow **cowp, struct bsw_imgw_extent **ext,
		      size_t *nr, struct churn_res *res)
{
	uint64_t s = o->seed * 7919 + i;
	struct cow *c = cow_new(raw, WIN_START, win_size(o));
	struct churn *ch = NULL;
	struct vol *v;
	uint8_t *buf;
	size_t len;
	char p[256];
	int rc = 0;

	*cowp = c;
	*ext = NULL;
	*nr = 0;
	if (o->churn != MK_CHURN_LIGHT && !(ch = churn_begin(o, sc, i)))
		return -1;
	if (!c || !(v = cow_mount(c))) {
		churn_end(ch, NULL);
		return -1;
	}
	len = 16384 + (size_t)(mk_rand(&s) % 49152);
	buf = malloc(len);
	if (!buf) {
		vol_close(v);
		churn_end(ch, NULL);
		return -1;
	}
	mk_fill(buf, len, s);
	snprintf(p, sizeof(p), "Users/Public/Documents/agent/child%04u.log", i);
	rc |= vol_write(v, p, buf, len);
	if (o->files > 1)
		rc |= vol_replace(v, "Program Files/App0000/file000001.dat", buf, 512);
	if (ch)
		rc |= churn_live(ch, v);
	else
		rc |= child_registry(v, work, i);
	free(buf);
	if (vol_close(v))
		rc = -1;
	if (!rc && ch)
		rc = churn_raw(ch, c);
	churn_end(ch, res);
	if (!rc)
		rc = cow_extents(c, ext, nr);
	return rc;
}

/* Write the extents into raw (saving what was there into *saved), or put it back. */
static int patch_raw(const char *raw, const struct bsw_imgw_extent *e, size_t n, uint8_t **saved,
		     bool restore)
{
	int fd = open(raw, O_RDWR | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -1;
	if (!restore && !(*saved = malloc(n * 4096 + 1)))
		rc = -1;
	for (size_t k = 0; k < n && !rc; k++) {
		uint8_t *old = *saved + k * 4096;

		if (!restore && pread(fd, old, 4096, (off_t)e[k].voff) != 4096)
			rc = -1;
		else if (pwrite(fd, restore ? old : e[k].data, 4096, (off_t)e[k].voff) != 4096)
			rc = -1;
	}
	if (close(fd))
		rc = -1;
	return rc;
}

/* ---- the fleet ------------------------------------------------------------ */

static const struct scenario *find(const char *name)
{
	for (unsigned i = 0; i < mk_nr_scenarios; i++)
		if (!strcmp(mk_scenarios[i].name, name))
			return &mk_scenarios[i];
	return NULL;
}

static const char *const churn_names[] = { "light", "boot", "patch" };

/*
 * A truth line.  A churned child (cr) adds what its session left that
 * bootsweep must report: REG-DIRTY for hives left unreconciled,
 * NTFS-LOGCLEAN for a log left open, SVC-PXML (and dirty-rollback, as the
 * pending-xml scenario) for a staged update.
 */
static void truth(FILE *t, const char *image, const struct scenario *sc, const char *fmt,
		  const char *parent, uint64_t seed, enum mk_churn churn,
		  const struct churn_res *cr)
{
	const char *codes[8], *cls = sc->class;
	unsigned n = 0;

	for (int i = 0; i < 3 && sc->codes[i]; i++)
		codes[n++] = sc->codes[i];
	if (cr && cr->hive_dirty)
		codes[n++] = "REG-DIRTY";
	if (cr && cr->lived && cr->running)
		codes[n++] = "NTFS-LOGCLEAN";
	if (cr && cr->pending) {
		codes[n++] = "SVC-PXML";
		if (!strcmp(cls, "clean"))
			cls = "dirty-rollback";
	}
	fprintf(t, "{\"image\":\"%s\",\"scenario\":\"%s\",\"class\":\"%s\",\"codes\":[", image,
		sc->name, cls);
	for (unsigned i = 0, out = 0; i < n; i++) {
		bool dup = false;

		for (unsigned j = 0; j < i; j++)
			dup |= !strcmp(codes[j], codes[i]);
		if (!dup)
			fprintf(t, "%s\"%s\"", out++ ? "," : "", codes[i]);
	}
	fprintf(t, "],\"rules\":[");
	for (int i = 0; i < 3 && sc->rules[i]; i++)
		fprintf(t, "%s\"%s\"", i ? "," : "", sc->rules[i]);
	fprintf(t, "],\"format\":\"%s\"", fmt);
	if (parent)
		fprintf(t, ",\"parent\":\"%s\"", parent);
	if (churn != MK_CHURN_LIGHT && cr) {
		fprintf(t, ",\"churn\":\"%s\",\"session\":\"%s\"", churn_names[churn],
			!cr->lived  ? "none" :
			cr->running ? "running" :
				      "shutdown");
		if (cr->lived)
			fprintf(t, ",\"hives\":%u,\"mft_updated\":%u,\"pagefile_written\":%llu",
				cr->hives, cr->mft_updated,
				(unsigned long long)cr->pagefile_written);
		if (cr->lived && churn == MK_CHURN_PATCH)
			fprintf(t,
				",\"update\":\"%s\",\"ubr\":%u,\"new_components\":%u,"
				"\"pending_xml\":%s",
				cr->kb, cr->cu_ubr, cr->new_components,
				cr->pending ? "true" : "false");
	}
	fprintf(t, ",\"seed\":%llu}\n", (unsigned long long)seed);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: mkfleet --out DIR [--scale small|medium|realistic] [--seed N]\n"
		"               [--scenarios all|NAME,...] [--format raw|vhd|vhdx|qcow2|vmdk] [--children N]\n"
		"               [--churn light|boot|patch]\n"
		"       mkfleet --list\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "out", 1, 0, 'o' },    { "scale", 1, 0, 's' },
					    { "seed", 1, 0, 'S' },   { "scenarios", 1, 0, 'c' },
					    { "format", 1, 0, 'f' }, { "children", 1, 0, 'n' },
					    { "churn", 1, 0, 'C' },  { "list", 0, 0, 'l' },
					    { "help", 0, 0, 'h' },   { 0 } };
	struct mkopts o = { .scale = 300, .hive_fill = 200, .files = 600, .seed = 1 };
	const char *scen = "all", *fmt = "raw";
	const struct scenario *list[1024]; /* a name may repeat: it weighs the mix of children */
	unsigned nl = 0, children = 0;
	enum bsw_imgfmt ifmt = BSW_IMG_RAW;
	bool qemu; /* qcow2, vmdk: written by qemu-img */
	char work[512], path[1024];
	FILE *t;
	int ch, rc = 0;

	/* mkfs.vfat and mtools stamp what they write with this instant */
	setenv("SOURCE_DATE_EPOCH", "1751932800", 1);
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'o': o.out = optarg; break;
		case 'S': o.seed = strtoull(optarg, NULL, 0); break;
		case 'c': scen = optarg; break;
		case 'f': fmt = optarg; break;
		case 'n': children = strtoul(optarg, NULL, 0); break;
		case 'C':
			for (ch = 0; ch < 3 && strcmp(optarg, churn_names[ch]); ch++)
				;
			if (ch == 3) {
				usage();
				return 2;
			}
			o.churn = (enum mk_churn)ch;
			break;
		case 's':
			if (!strcmp(optarg, "small")) {
				o.scale = 300;
				o.hive_fill = 200;
				o.files = 600;
			} else if (!strcmp(optarg, "medium")) {
				o.scale = 3000;
				o.hive_fill = 20000;
				o.files = 20000;
			} else if (!strcmp(optarg, "realistic")) {
				o.scale = 10000;
				o.hive_fill = 250000;
				o.files = 280000;
			} else {
				usage();
				return 2;
			}
			break;
		case 'l':
			for (unsigned i = 0; i < mk_nr_scenarios; i++)
				printf("%-28s %-15s %s\n", mk_scenarios[i].name,
				       mk_scenarios[i].class, mk_scenarios[i].what);
			return 0;
		default: usage(); return ch == 'h' ? 0 : 2;
		}
	}
	if (!o.out) {
		usage();
		return 2;
	}
	if (!strcmp(fmt, "vhd"))
		ifmt = BSW_IMG_VHD_DYNAMIC;
	else if (!strcmp(fmt, "vhdx"))
		ifmt = BSW_IMG_VHDX_DYNAMIC;
	qemu = !strcmp(fmt, "qcow2") || !strcmp(fmt, "vmdk");
	if (ifmt == BSW_IMG_RAW && strcmp(fmt, "raw") && !qemu) {
		usage();
		return 2;
	}
	if (children && ifmt == BSW_IMG_RAW && !qemu) {
		fprintf(stderr, "mkfleet: --children needs --format vhd, vhdx, qcow2 or vmdk\n");
		return 2;
	}
	if (o.churn != MK_CHURN_LIGHT && !children) {
		fprintf(stderr, "mkfleet: --churn %s needs --children\n", churn_names[o.churn]);
		return 2;
	}
	if (!strcmp(scen, "all")) {
		for (unsigned i = 0; i < mk_nr_scenarios; i++)
			list[nl++] = &mk_scenarios[i];
	} else {
		char buf[32768], *save = NULL;

		snprintf(buf, sizeof(buf), "%s", scen);
		for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			const struct scenario *sc = find(tok);

			if (nl >= BSW_ARRAY_SIZE(list)) {
				fprintf(stderr, "mkfleet: more than %zu scenarios listed\n",
					BSW_ARRAY_SIZE(list));
				return 2;
			}
			if (!sc) {
				fprintf(stderr, "mkfleet: unknown scenario '%s' (see --list)\n",
					tok);
				return 2;
			}
			list[nl++] = sc;
		}
	}
	if (mkdir(o.out, 0755) && errno != EEXIST) {
		fprintf(stderr, "mkfleet: %s: %s\n", o.out, strerror(errno));
		return 1;
	}
	snprintf(work, sizeof(work), "%s/.work", o.out);
	mkdir(work, 0755);
	snprintf(path, sizeof(path), "%s/truth.jsonl", o.out);
	t = fopen(path, "w");
	if (!t)
		return 1;
	if (children) {
		/* one clean base, N children each carrying scenario i mod the list */
		char base_raw[1024], base[1024], child_raw[1024], name[256];
		const struct scenario *clean = find("clean");
		struct bsw_imgw_opts io = { 0 };

		snprintf(base_raw, sizeof(base_raw), "%s/base.raw", work);
		snprintf(base, sizeof(base), "%s/base.%s", o.out, fmt);
		rc = build_raw(&o, clean, o.seed, work, base_raw);
		io.timestamp = 0x30000000;
		memset(io.id, 0x11, 16);
		if (!rc && qemu)
			rc = mk_run("qemu-img convert -q -f raw -O %s '%s' '%s'", fmt, base_raw,
				    base);
		else if (!rc)
			rc = bsw_imgw_from_raw(base_raw, base, ifmt, &io);
		if (!rc && qemu && strcmp(fmt, "qcow2"))
			rc = mk_run("qemu-img convert -q -f raw -O qcow2 '%s' '%s/base.qcow2'",
				    base_raw, work);
		/*
		 * Each scenario's raw disk is built once, with the base's seed
		 * (so everything but the scenario is identical), and kept while
		 * the children are written; a clean child's raw is the base's.
		 * Every child is then its own diff against the base: its own
		 * identity, the blocks that differ.
		 */
		for (unsigned i = 0; i < children && !rc; i++) {
			const struct scenario *sc = list[i % nl];
			const char *craw = child_raw;
			struct bsw_imgw_extent *ext;
			struct churn_res cres = { 0 };
			struct cow *cw;
			size_t next;

			if (sc == clean) {
				craw = base_raw;
			} else {
				snprintf(child_raw, sizeof(child_raw), "%s/child-%u.raw", work,
					 i % nl);
				if (i < nl)
					rc = build_raw(&o, sc, o.seed, work, child_raw);
			}
			snprintf(name, sizeof(name), "child%04u-%s.%s", i, sc->name, fmt);
			snprintf(path, sizeof(path), "%s/%s", o.out, name);
			io.id[0] = i + 1;
			io.id[1] = i >> 8;
			/* the child's own changes since the snapshot */
			cw = NULL;
			ext = NULL;
			next = 0;
			if (!rc && child_may_live(sc))
				rc = child_life(&o, sc, craw, work, i, &cw, &ext, &next, &cres);
			if (!rc && qemu) {
				/* the child's bytes into a raw, then what differs from the base */
				uint8_t *saved = NULL;

				rc = patch_raw(craw, ext, next, &saved, false);
				if (!rc && !strcmp(fmt, "qcow2"))
					rc = mk_run(
						"qemu-img create -q -f qcow2 -F raw -b '.work/%s' '%s' && "
						"qemu-img rebase -q -f qcow2 -F qcow2 -b '%s' '%s'",
						strrchr(craw, '/') + 1, path,
						strrchr(base, '/') + 1, path);
				else if (!rc)
					rc = mk_run(
						"qemu-img create -q -f qcow2 -F raw -b '%s' '%s/child.qcow2' && "
						"qemu-img rebase -q -f qcow2 -F qcow2 -b base.qcow2 '%s/child.qcow2' && "
						"qemu-img convert -q -f qcow2 -O %s -B '%s' -F %s '%s/child.qcow2' '%s' && "
						"rm -f '%s/child.qcow2'",
						strrchr(craw, '/') + 1, work, work, fmt,
						strrchr(base, '/') + 1, fmt, work, path, work);
				if (saved && patch_raw(craw, ext, next, &saved, true))
					rc = -1;
				free(saved);
			} else if (!rc && craw == base_raw) {
				rc = bsw_imgw_diff(base, strrchr(base, '/') + 1, path, ext, next,
						   &io);
			} else if (!rc) {
				/* the scenario's raw with the child's changes in it */
				uint8_t *saved = NULL;

				rc = patch_raw(craw, ext, next, &saved, false);
				if (!rc)
					rc = bsw_imgw_diff_raw(base, strrchr(base, '/') + 1,
							       base_raw, craw, path, &io);
				if (saved && patch_raw(craw, ext, next, &saved, true))
					rc = -1;
				free(saved);
			}
			free(ext);
			cow_free(cw);
			if (rc)
				fprintf(stderr, "mkfleet: child %u (%s) failed\n", i, sc->name);
			if (!rc)
				truth(t, name, sc, fmt, strrchr(base, '/') + 1, o.seed, o.churn,
				      &cres);
		}
		for (unsigned k = 0; k < nl; k++) {
			snprintf(child_raw, sizeof(child_raw), "%s/child-%u.raw", work, k);
			unlink(child_raw);
		}
		unlink(base_raw);
	} else {
		for (unsigned i = 0; i < nl && !rc; i++) {
			char raw[1024], name[256];
			uint64_t seed = o.seed * 1000 + i;

			snprintf(name, sizeof(name), "%s.%s", list[i]->name,
				 ifmt == BSW_IMG_RAW && !qemu ? "img" : fmt);
			snprintf(raw, sizeof(raw), "%s/%s",
				 ifmt == BSW_IMG_RAW && !qemu ? o.out : work,
				 ifmt == BSW_IMG_RAW && !qemu ? name : "disk.raw");
			rc = build_raw(&o, list[i], seed, work, raw);
			if (!rc && qemu) {
				snprintf(path, sizeof(path), "%s/%s", o.out, name);
				rc = mk_run("qemu-img convert -q -f raw -O %s '%s' '%s'", fmt, raw,
					    path);
				unlink(raw);
			} else if (!rc && ifmt != BSW_IMG_RAW) {
				struct bsw_imgw_opts io = { .timestamp = 0x30000000 };

				memset(io.id, (int)(i + 1), 16);
				snprintf(path, sizeof(path), "%s/%s", o.out, name);
				rc = bsw_imgw_from_raw(raw, path, ifmt, &io);
				unlink(raw);
			}
			if (!rc)
				truth(t, name, list[i], fmt, NULL, seed, MK_CHURN_LIGHT, NULL);
			else
				fprintf(stderr, "mkfleet: scenario %s failed\n", list[i]->name);
		}
	}
	if (fclose(t))
		rc = -1;
	mk_run("rm -rf '%s'", work);
	return rc ? 1 : 0;
}
