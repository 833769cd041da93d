/*
 * --churn boot|patch: what a differencing child's own session changes
 * after the snapshot, beyond the light change of mkfleet.c's child_life
 * (docs/datasets.md, "Change profiles").  Written through the child's
 * copy-on-write device (cow.c): files and hives through libntfs-3g while
 * mounted (churn_live), then MFT records and $LogFile pages as raw bytes
 * (churn_raw), because libntfs-3g keeps neither an LSN nor a log.
 *
 * boot: one Windows session (WINDOWS-EVIDENCE.md 2.3, 1.2, 1.5):
 *  - SYSTEM, SOFTWARE and DEFAULT written by hivedit.c as the kernel's
 *    hive writer leaves them: several flushes, each a new-format log entry
 *    in .LOG1 (then .LOG2 when the kernel switched logs); at a clean
 *    shutdown the primaries are reconciled (sequence numbers equal), in a
 *    child captured running they are not (REG-DIRTY, replayed from the
 *    logs);
 *  - pagefile.sys allocated in full at its size, a share of its pages
 *    written (Windows Internals: page file space is written only when a
 *    page is paged out), PagingFiles and ExistingPageFiles in SYSTEM;
 *  - about 1% of the in-use MFT records (in runs of 1-8 neighbours) get
 *    new $STANDARD_INFORMATION times, the LSN of the log record that
 *    changed them and a new update sequence number (fixups redone);
 *  - $LogFile: both restart pages and the log record pages of those
 *    updates (UpdateResidentValue redo/undo records); version 1.1 with
 *    the clean flag after a shutdown, 2.0 with the NTFS client open when
 *    captured running (NTFS-LOGCLEAN).
 * patch: boot, plus a cumulative update: new WinSxS components (folder,
 * payload, manifest with its SHA-256 DigestValue), their COMPONENTS keys
 * as make_components writes them, the package in CBS, its .mum, a
 * Sessions.xml session and the new UBR; or, in one child in four, the
 * update staged and waiting for the reboot: pending.xml with the
 * PendingXmlIdentifier in COMPONENTS (the pending-xml scenario's markers,
 * SVC-PXML), the projections into System32 still to be made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h> /* before ntfs-3g's headers: their struct timespec test */
#include <time.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/runlist.h>
#include <ntfs-3g/volume.h>

#include "formats/common/bytes.h"
#include "mkfleet.h"

#define PG 4096u
#define BASE_SHUTDOWN 1783512000LL /* the base's ShutdownTime: 2026-07-08T12:00:00Z */
#define CS "ControlSet001"
#define CBS "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing"
#define CONFIG "Windows/System32/config/"
#define MAX_LOG_RUNS 64
#define REG_SZ_T 1
#define REG_EXPAND_T 2
#define REG_BINARY_T 3
#define REG_DWORD_T 4
#define REG_MULTI_T 7

struct churn {
	const struct mkopts *o;
	const struct scenario *sc;
	unsigned i;
	uint64_t s;	/* the child's random stream */
	int64_t t0, t1; /* session start and end (Unix time) */
	struct churn_res res;
	/* patch */
	struct mk_component *comp;
	unsigned ncomp;
	char pkg[160], pxid[40];
	/* the key last resolved by rv() */
	struct rh *kc_rh;
	char kc_path[600];
	uint32_t kc_off;
	/* for churn_raw: what the mounted volume told */
	uint64_t *rec, *rec_off;
	unsigned nrec;
	struct {
		int64_t vcn, lcn, len;
	} lrun[MAX_LOG_RUNS];
	unsigned nlrun;
	uint64_t log_size;
	uint32_t cluster, recsize;
};

static uint64_t rnd(struct churn *ch)
{
	return mk_rand(&ch->s);
}

static uint64_t ft(int64_t unix_s)
{
	return (uint64_t)(unix_s + 11644473600LL) * 10000000ULL;
}

static size_t pagefile_size(const struct mkopts *o)
{
	return (o->scale >= 10000 ? 512 : o->scale >= 3000 ? 128 : 16) * MiB;
}

struct churn *churn_begin(const struct mkopts *o, const struct scenario *sc, unsigned i)
{
	struct churn *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->o = o;
	ch->sc = sc;
	ch->i = i;
	ch->s = (o->seed << 20) ^ (0x5eed0000ull + i);
	/* booted 1-48 h after the base's shutdown, up 10 min to 6 h */
	ch->t0 = BASE_SHUTDOWN + 3600 + (int64_t)(rnd(ch) % (47 * 3600));
	ch->t1 = ch->t0 + 600 + (int64_t)(rnd(ch) % (6 * 3600 - 600));
	/* one child in four captured running; in patch, another in four pending */
	ch->res.running = i % 4 == 3;
	ch->res.pending = o->churn == MK_CHURN_PATCH && i % 4 == 1 && !strcmp(sc->class, "clean");
	mk_clock_set(ch->t0);
	return ch;
}

/* ---- registry values ---------------------------------------------------------- */

/* Set a value at key path (created as needed); the last key is cached. */
static int rv(struct churn *ch, struct rh *r, const char *key, const char *name, uint32_t type,
	      const void *d, size_t len)
{
	if (ch->kc_rh != r || strcmp(ch->kc_path, key)) {
		if (rh_key(r, key, true, &ch->kc_off))
			return -1;
		ch->kc_rh = r;
		snprintf(ch->kc_path, sizeof(ch->kc_path), "%s", key);
	}
	return rh_set(r, ch->kc_off, name, type, d, len);
}

static int rv_cb(void *arg, const char *key, const char *name, uint32_t type, const void *d,
		 size_t len)
{
	struct churn *ch = arg;

	return rv(ch, ch->kc_rh, key, name, type, d, len);
}

static int rv_dword(struct churn *ch, struct rh *r, const char *key, const char *name, uint32_t x)
{
	uint8_t b[4];

	put_le32(b, x);
	return rv(ch, r, key, name, REG_DWORD_T, b, 4);
}

static int rv_ft(struct churn *ch, struct rh *r, const char *key, const char *name, int64_t t)
{
	uint8_t b[8];

	put_le64(b, ft(t));
	return rv(ch, r, key, name, REG_BINARY_T, b, 8);
}

/* REG_SZ / REG_EXPAND_SZ / REG_MULTI_SZ (one string) as UTF-16LE. */
static int rv_str(struct churn *ch, struct rh *r, const char *key, const char *name, uint32_t type,
		  const char *s)
{
	uint8_t b[1100];
	size_t n = 0;

	for (; *s && n + 6 < sizeof(b); s++) {
		b[n++] = (uint8_t)*s;
		b[n++] = 0;
	}
	b[n++] = 0;
	b[n++] = 0;
	if (type == REG_MULTI_T) {
		b[n++] = 0;
		b[n++] = 0;
	}
	return rv(ch, r, key, name, type, b, n);
}

/* The time of flush f of nf, inside the session. */
static int64_t flush_time(const struct churn *ch, unsigned f, unsigned nf)
{
	return ch->t0 + (ch->t1 - ch->t0) * (int64_t)(f + 1) / (int64_t)(nf + 1);
}

/* SYSTEM: paging files, a DHCP lease, BAM entries, the shutdown time. */
static int edit_system(struct churn *ch, struct rh *r, unsigned f, unsigned nf)
{
	static const char *const exe[] = {
		"svchost.exe",	     "lsass.exe",	  "services.exe",
		"wininit.exe",	     "smss.exe",	  "csrss.exe",
		"winlogon.exe",	     "spoolsv.exe",	  "MsMpEng.exe",
		"WmiPrvSE.exe",	     "taskhostw.exe",	  "conhost.exe",
		"dllhost.exe",	     "sihost.exe",	  "ctfmon.exe",
		"RuntimeBroker.exe", "TiWorker.exe",	  "TrustedInstaller.exe",
		"wuauclt.exe",	     "SearchIndexer.exe",
	};
	int64_t t = flush_time(ch, f, nf);
	char key[256], name[160];
	int rc = 0;

	if (f == 0) {
		uint64_t gs = ch->o->seed, g = mk_rand(&gs); /* the NIC: same in every clone */
		uint32_t ip = 0x0A000000u | (uint32_t)(rnd(ch) & 0xFFFFF);
		char a[32];

		rc |= rv_str(ch, r, CS "\\Control\\Session Manager\\Memory Management",
			     "PagingFiles", REG_MULTI_T, "?:\\pagefile.sys");
		rc |= rv_str(ch, r, CS "\\Control\\Session Manager\\Memory Management",
			     "ExistingPageFiles", REG_MULTI_T, "\\??\\C:\\pagefile.sys");
		snprintf(key, sizeof(key),
			 CS
			 "\\Services\\Tcpip\\Parameters\\Interfaces\\{%08x-%04x-%04x-%04x-%012llx}",
			 (unsigned)(g >> 32), (unsigned)(g >> 16) & 0xFFFF, (unsigned)g & 0xFFFF,
			 (unsigned)(g >> 48), (unsigned long long)(g & 0xFFFFFFFFFFFFull));
		rc |= rv_dword(ch, r, key, "EnableDHCP", 1);
		snprintf(a, sizeof(a), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
			 ip & 255);
		rc |= rv_str(ch, r, key, "DhcpIPAddress", REG_SZ_T, a);
		rc |= rv_str(ch, r, key, "DhcpSubnetMask", REG_SZ_T, "255.240.0.0");
		rc |= rv_str(ch, r, key, "DhcpServer", REG_SZ_T, "10.0.0.1");
		rc |= rv_dword(ch, r, key, "Lease", 86400);
		rc |= rv_dword(ch, r, key, "LeaseObtainedTime", (uint32_t)ch->t0);
		rc |= rv_dword(ch, r, key, "T1", (uint32_t)(ch->t0 + 43200));
		rc |= rv_dword(ch, r, key, "T2", (uint32_t)(ch->t0 + 75600));
		rc |= rv_dword(ch, r, key, "LeaseTerminatesTime", (uint32_t)(ch->t0 + 86400));
	}
	/* Background Activity Moderator: one entry per program that ran */
	for (unsigned k = 0, n = 2 + (unsigned)(rnd(ch) % 8); k < n; k++) {
		uint8_t b[24] = { 0 };

		put_le64(b, ft(t - (int64_t)(rnd(ch) % 600)));
		put_le32(b + 16, 2);
		snprintf(name, sizeof(name), "\\Device\\HarddiskVolume3\\Windows\\System32\\%s",
			 exe[rnd(ch) % BSW_ARRAY_SIZE(exe)]);
		rc |= rv(ch, r, CS "\\Services\\bam\\State\\UserSettings\\S-1-5-18", name,
			 REG_BINARY_T, b, sizeof(b));
	}
	if (f == nf - 1 && !ch->res.running)
		rc |= rv_ft(ch, r, CS "\\Control\\Windows", "ShutdownTime", ch->t1);
	return rc;
}

/* SOFTWARE: the reliability heartbeat, RAS tracing keys, the update's package. */
static int edit_software(struct churn *ch, struct rh *r, unsigned f, unsigned nf)
{
	static const char *const proc[] = {
		"svchost",  "lsass",   "spoolsv",  "MsMpEng",	"wuauclt",
		"TiWorker", "dllhost", "WmiPrvSE", "taskhostw", "explorer",
	};
	int rc = 0;

	rc |= rv_ft(ch, r, "Microsoft\\Windows\\CurrentVersion\\Reliability", "LastAliveStamp",
		    flush_time(ch, f, nf));
	if (f == 0) {
		char key[160];

		rc |= rv_dword(ch, r, "Microsoft\\Windows\\CurrentVersion\\Reliability",
			       "TimeStampInterval", 1);
		for (unsigned k = 0, n = 3 + (unsigned)(rnd(ch) % 6); k < n; k++) {
			const char *p = proc[(k + ch->i) % BSW_ARRAY_SIZE(proc)];

			for (int m = 0; m < 2; m++) {
				snprintf(key, sizeof(key), "Microsoft\\Tracing\\%s_%s", p,
					 m ? "RASMANCS" : "RASAPI32");
				rc |= rv_dword(ch, r, key, "EnableFileTracing", 0);
				rc |= rv_dword(ch, r, key, "EnableAutoFileTracing", 0);
				rc |= rv_dword(ch, r, key, "EnableConsoleTracing", 0);
				rc |= rv_dword(ch, r, key, "FileTracingMask", 0xFFFF0000u);
				rc |= rv_dword(ch, r, key, "ConsoleTracingMask", 0xFFFF0000u);
				rc |= rv_dword(ch, r, key, "MaxFileSize", 0x100000);
				rc |= rv_str(ch, r, key, "FileDirectory", REG_EXPAND_T,
					     "%windir%\\tracing");
			}
		}
	}
	if (f == nf - 1 && ch->comp && !ch->res.pending) {
		char key[300], loc[300], cb[16];
		uint32_t k, type;
		size_t len = sizeof(cb);

		/* the update, installed (CurrentState 0x70, WINDOWS-EVIDENCE.md 3.2) */
		snprintf(key, sizeof(key), CBS "\\Packages\\%s", ch->pkg);
		rc |= rv_dword(ch, r, key, "CurrentState", 0x70);
		rc |= rv_dword(ch, r, key, "Visibility", 1);
		rc |= rv_dword(ch, r, key, "InstallTimeHigh", (uint32_t)(ft(ch->t1) >> 32));
		rc |= rv_dword(ch, r, key, "InstallTimeLow", (uint32_t)ft(ch->t1));
		rc |= rv_str(ch, r, key, "InstallClient", REG_SZ_T, "WindowsUpdateAgent");
		snprintf(loc, sizeof(loc), "\\\\?\\C:\\Windows\\servicing\\Packages\\%s.mum",
			 ch->pkg);
		rc |= rv_str(ch, r, key, "InstallLocation", REG_SZ_T, loc);
		/* its build revision, unless the scenario runs another build */
		if (!rh_key(r, "Microsoft\\Windows NT\\CurrentVersion", false, &k) &&
		    !rh_get(r, k, "CurrentBuildNumber", &type, cb, &len) && len == 12 &&
		    !memcmp(cb,
			    "2\0"
			    "0\0"
			    "3\0"
			    "4\0"
			    "8\0\0",
			    12))
			rc |= rv_dword(ch, r, "Microsoft\\Windows NT\\CurrentVersion", "UBR",
				       ch->res.cu_ubr);
	}
	return rc;
}

/* DEFAULT: the light profile's value, and what the system account's session writes. */
static int edit_default(struct churn *ch, struct rh *r, unsigned f, unsigned nf)
{
	uint8_t b[80];
	int rc = 0;

	(void)nf;
	if (f == 0)
		rc |= rv_dword(ch, r, "BootsweepFleet", "LastSession", 0x60000000u + ch->i);
	memset(b, 0, sizeof(b));
	b[0] = 0x46; /* version, then a counter bumped per write */
	put_le32(b + 4, (uint32_t)(f + 1 + ch->i));
	put_le32(b + 8, 1);
	mk_fill(b + 16, 40, ch->s + f);
	rc |= rv(ch, r,
		 "Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections",
		 "DefaultConnectionSettings", REG_BINARY_T, b, 56);
	rc |= rv(ch, r,
		 "Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections",
		 "SavedLegacySettings", REG_BINARY_T, b, 56);
	return rc;
}

/* Add the update's components to a list under key, all at once. */
static int add_batch(struct churn *ch, struct rh *r, const char *key, bool deployments)
{
	const char **names = calloc(ch->ncomp, sizeof(*names));
	uint32_t *offs = calloc(ch->ncomp, sizeof(*offs)), parent;
	char(*buf)[48] = calloc(ch->ncomp, sizeof(*buf));
	int rc = -1;

	if (!names || !offs || !buf || rh_key(r, key, true, &parent))
		goto out;
	for (unsigned k = 0; k < ch->ncomp; k++) {
		if (deployments) {
			snprintf(buf[k], sizeof(buf[k]), "%.40s", ch->comp[k].keyform + 6);
			names[k] = buf[k];
		} else {
			names[k] = ch->comp[k].keyform;
		}
	}
	rc = rh_add_keys(r, parent, names, ch->ncomp, offs);
out:
	free(names);
	free(offs);
	free(buf);
	return rc;
}

/* COMPONENTS: the update's components; the pending transaction's identifier. */
static int edit_components(struct churn *ch, struct rh *r, unsigned f, unsigned nf)
{
	int rc = 0;

	(void)nf;
	if (f == 0) {
		rc |= add_batch(ch, r, "DerivedData\\Components", false);
		rc |= add_batch(ch, r, "CanonicalData\\Deployments", true);
		ch->kc_rh = r;
		ch->kc_path[0] = 0;
		for (unsigned k = 0; k < ch->ncomp && !rc; k++)
			rc |= mk_component_values(ch->o, &ch->comp[k], ch->o->scale + k, false,
						  rv_cb, ch);
	}
	if (f == 1 && ch->res.pending) {
		uint8_t u[80];
		size_t n = 0;

		/* UTF-16LE without its NUL, as make_components writes it */
		for (const char *p = ch->pxid; *p; p++) {
			u[n++] = (uint8_t)*p;
			u[n++] = 0;
		}
		rc |= rv(ch, r, "", "PendingXmlIdentifier", REG_BINARY_T, u, n);
	}
	return rc;
}

typedef int (*edit_fn)(struct churn *ch, struct rh *r, unsigned f, unsigned nf);

static int put_file(struct vol *v, const char *path, const void *d, size_t len)
{
	return vol_record(v, path) >= 0 ? vol_replace(v, path, d, len) : vol_write(v, path, d, len);
}

/*
 * A file the session wrote gets the session's times (libntfs-3g's data
 * writes leave them; its file creations already take the clock's).
 */
static int touch(struct churn *ch, struct vol *v, const char *path)
{
	ntfs_inode *ni = ntfs_pathname_to_inode(vol_nv(v), NULL, path);

	if (!ni)
		return -1;
	mk_clock_set(ch->t1);
	ntfs_inode_update_times(ni, NTFS_UPDATE_AMCTIME);
	mk_clock_set(ch->t0);
	return ntfs_inode_close(ni) ? -1 : 0;
}

/*
 * One hive's session: 2-5 flushes, each one log entry; entries go to
 * .LOG1, and in half the sessions the later ones to .LOG2.  A hive the
 * scenario damaged or left dirty is not touched.
 */
static int session(struct churn *ch, struct vol *v, const char *name, edit_fn edit)
{
	char path[160], lp[170];
	unsigned nf = 2 + (unsigned)(rnd(ch) % 4), rot;
	struct rh_out out = { 0 };
	struct rh *r;
	uint8_t *d;
	size_t len;
	int rc = 0;

	snprintf(path, sizeof(path), CONFIG "%s", name);
	d = vol_read(v, path, &len);
	if (!d)
		return -1;
	r = rh_open(d, len, ft(ch->t0));
	if (!r) {
		free(d);
		return 0;
	}
	ch->kc_rh = NULL;
	for (unsigned f = 0; f < nf && !rc; f++) {
		rh_set_stamp(r, ft(flush_time(ch, f, nf)));
		rc = edit(ch, r, f, nf);
		if (!rc)
			rc = rh_flush(r);
	}
	rot = rh_entries(r);
	if (rot >= 3 && rnd(ch) % 2)
		rot = 1 + (unsigned)(rnd(ch) % (rot - 1));
	if (!rc)
		rc = rh_finish(r, !ch->res.running, ft(ch->res.running ? ch->t0 : ch->t1), rot,
			       &out);
	if (!rc)
		rc = vol_patch(v, path, d, len, out.primary, out.plen);
	if (!rc)
		rc = touch(ch, v, path);
	for (int k = 0; k < 2 && !rc; k++) {
		if (!out.log[k])
			continue;
		snprintf(lp, sizeof(lp), "%s.LOG%d", path, k + 1);
		rc = put_file(v, lp, out.log[k], out.loglen[k]);
		if (!rc)
			rc = touch(ch, v, lp);
	}
	if (!rc) {
		ch->res.hives++;
		ch->res.hive_dirty |= ch->res.running;
	} else {
		fprintf(stderr, "mkfleet: child %u: session of %s failed\n", ch->i, name);
	}
	ch->kc_rh = NULL;
	rh_out_free(&out);
	rh_free(r);
	free(d);
	return rc;
}

/* ---- the page file -------------------------------------------------------------- */

/*
 * Allocate pagefile.sys in full at its size (a hole would be a sparse
 * page file, which Windows never has) and write 10-40% of it: runs of
 * 64 KiB to 1 MiB with gaps of up to 256 KiB, from the start of the file
 * (a model: page file space is written only when pages are paged out, and
 * one session's writes take a part of the file, not all of it).  Pages
 * never written keep the zeros of the free clusters they got, so only the
 * written runs differ from the base.
 */
static int pagefile(struct churn *ch, struct vol *v)
{
	size_t size = pagefile_size(ch->o), unit = 64 * 1024;
	unsigned pct = 10 + (unsigned)(rnd(ch) % 31);
	ntfs_inode *ni;
	ntfs_attr *na;
	uint8_t *buf = malloc(unit);
	int rc = 0;

	if (!buf)
		return -1;
	if (vol_record(v, "pagefile.sys") < 0 &&
	    vol_write_sparse(v, "pagefile.sys", size, NULL, 0)) {
		free(buf);
		return -1;
	}
	ni = ntfs_pathname_to_inode(vol_nv(v), NULL, "pagefile.sys");
	na = ni ? ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0) : NULL;
	if (!na || (na->data_size != (s64)size && ntfs_attr_truncate(na, (s64)size)))
		rc = -1;
	for (size_t off = 0, target = size / 100 * pct, run = 0, gap = 0; off < size && !rc;
	     off += unit) {
		bool w;

		if (!run && !gap && ch->res.pagefile_written < target) {
			run = 1 + (size_t)(rnd(ch) % 16);
			gap = (size_t)(rnd(ch) % 5);
		}
		w = run > 0;
		if (run)
			run--;
		else if (gap)
			gap--;
		if (w) {
			mk_fill(buf, unit, rnd(ch));
			ch->res.pagefile_written += unit;
		} else {
			memset(buf, 0, unit);
		}
		if (ntfs_attr_pwrite(na, (s64)off, (s64)unit, buf) != (s64)unit)
			rc = -1;
	}
	if (na)
		ntfs_attr_close(na);
	if (ni && ntfs_inode_close(ni))
		rc = -1;
	free(buf);
	if (!rc)
		rc = touch(ch, v, "pagefile.sys");
	if (rc)
		fprintf(stderr, "mkfleet: child %u: pagefile.sys: %s\n", ch->i, strerror(errno));
	return rc;
}

/* ---- the cumulative update ------------------------------------------------------ */

static void fmt_time(int64_t t, char *out, size_t n)
{
	time_t x = (time_t)t;
	struct tm tm;

	gmtime_r(&x, &tm);
	strftime(out, n, "%Y/%m/%d/%H:%M:%S", &tm);
}

static int update_files(struct churn *ch, struct vol *v)
{
	size_t cap = 4096 + (size_t)ch->ncomp * 400, xl = 0;
	char *x = malloc(cap), p[512], s[512];
	int rc = 0;

	if (!x)
		return -1;
	for (unsigned k = 0; k < ch->ncomp && !rc; k++) {
		const struct mk_component *c = &ch->comp[k];

		snprintf(p, sizeof(p), "Windows/WinSxS/%s/%s", c->keyform, c->file);
		rc |= vol_write(v, p, c->body, c->len);
		snprintf(s, sizeof(s), "Windows/WinSxS/Manifests/%s.manifest", c->keyform);
		rc |= vol_write(v, s, c->manifest, c->mlen);
		if (!ch->res.pending) {
			snprintf(s, sizeof(s), "Windows/System32/%s", c->file);
			rc |= vol_link(v, p, s);
		} else {
			/* what poqexec will do at the reboot (WindowsDowndate's HardlinkFile) */
			xl += (size_t)snprintf(
				x + xl, cap - xl,
				"<HardlinkFile source=\"\\??\\C:\\Windows\\WinSxS\\%s\\%s\" destination=\"\\??\\C:\\Windows\\System32\\%s\"/>",
				c->keyform, c->file, c->file);
		}
	}
	{
		char m[1024], path[300];
		int n = snprintf(
			m, sizeof(m),
			"<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\r\n<assembly xmlns=\"urn:schemas-microsoft-com:asm.v3\" manifestVersion=\"1.0\"><assemblyIdentity name=\"Package_for_RollupFix\" version=\"20348.%u.1.7\" language=\"neutral\" processorArchitecture=\"amd64\" publicKeyToken=\"31bf3856ad364e35\"/><package identifier=\"%s\" releaseType=\"Update\"/></assembly>\r\n",
			ch->res.cu_ubr, ch->res.kb);

		snprintf(path, sizeof(path), "Windows/servicing/Packages/%s.mum", ch->pkg);
		rc |= vol_write(v, path, m, (size_t)n);
	}
	if (ch->res.pending) {
		char *doc = malloc(xl + 1024);
		int n;

		if (!doc) {
			free(x);
			return -1;
		}
		/* the pending-xml scenario's document, its reboot queue filled */
		n = snprintf(
			doc, xl + 1024,
			"<?xml version='1.0' encoding='utf-8'?>\r\n<PendingTransaction Version=\"3.1\" WcpVersion=\"10.0.20348.1\" Identifier=\"%s\"><Transactions/><ChangeList/><POQ postAction=\"reboot\">%.*s</POQ><POQ/><InstallerQueue Length=\"0x0\"/></PendingTransaction>\r\n",
			ch->pxid, (int)xl, x);
		rc |= vol_write(v, "Windows/WinSxS/pending.xml", doc, (size_t)n);
		free(doc);
	} else {
		/* the servicing session that installed it (Sessions.xml, 3.1) */
		const char *path = "Windows/servicing/Sessions/Sessions.xml";
		size_t len;
		uint8_t *d = vol_read(v, path, &len);
		char a[32], b[32], sess[1024];
		char *end;
		int n;

		if (!d) {
			free(x);
			return -1;
		}
		fmt_time(ch->t0 + (ch->t1 - ch->t0) / 3, a, sizeof(a));
		fmt_time(ch->t1 - 60, b, sizeof(b));
		n = snprintf(
			sess, sizeof(sess),
			"<Session id=\"31000002_%u\" version=\"1.0\" Client=\"WindowsUpdateAgent\" Status=\"0x0\" Started=\"%s\" Complete=\"%s\"><Tasks><Phase seq=\"1\"><package id=\"%s\" name=\"%s\" targetState=\"Installed\" options=\"1\"/></Phase></Tasks><Actions/></Session>",
			(unsigned)(ch->t0 % 100000000), a, b, ch->pkg, ch->res.kb);
		{
			uint8_t *nd = realloc(d, len + (size_t)n + 1);

			if (nd) {
				d = nd;
				d[len] = 0;
			}
			end = nd ? strstr((char *)d, "</Sessions>") : NULL;
		}
		if (!end) {
			free(d);
			free(x);
			return -1;
		}
		memmove(end + n, end, (size_t)((char *)d + len - end));
		memcpy(end, sess, (size_t)n);
		rc |= vol_replace(v, path, d, len + (size_t)n);
		rc |= touch(ch, v, path);
		free(d);
	}
	free(x);
	return rc;
}

static int update_init(struct churn *ch)
{
	static const unsigned ubr[] = { 2966, 3091, 3207 };
	unsigned cu = (unsigned)(rnd(ch) % 3), n = ch->o->scale / 10;

	/* cumulative: a later update carries more components */
	ch->ncomp = n + cu * n / 2;
	ch->res.cu_ubr = ubr[cu];
	ch->res.new_components = ch->ncomp;
	snprintf(ch->res.kb, sizeof(ch->res.kb), "KB50%05u", 49001 + cu);
	snprintf(ch->pkg, sizeof(ch->pkg),
		 "Package_for_RollupFix~31bf3856ad364e35~amd64~~20348.%u.1.7", ubr[cu]);
	snprintf(ch->pxid, sizeof(ch->pxid), "%016llx%016llx", (unsigned long long)rnd(ch),
		 (unsigned long long)rnd(ch));
	ch->comp = calloc(ch->ncomp, sizeof(*ch->comp));
	if (!ch->comp)
		return -1;
	for (unsigned k = 0; k < ch->ncomp; k++)
		mk_component(ch->o, ch->o->scale + k, ubr[cu], ch->o->seed + ubr[cu], &ch->comp[k]);
	return 0;
}

/* ---- what churn_raw needs: records to update, the $LogFile's runs ---------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int survey(struct churn *ch, struct vol *v)
{
	ntfs_volume *nv = vol_nv(v);
	int64_t nrec = nv->mft_na->data_size >> nv->mft_record_size_bits;
	int64_t blen = nv->mftbmp_na->data_size, inuse = 0, skip[2];
	uint8_t *bm = malloc((size_t)blen + 1), *taken = calloc((size_t)nrec / 8 + 1, 1);
	unsigned want, tries = 0;
	ntfs_inode *ni;
	ntfs_attr *na;
	int rc = -1;

	if (!bm || !taken || nrec <= 24 || ntfs_attr_pread(nv->mftbmp_na, 0, blen, bm) != blen)
		goto out;
	for (int64_t r = 24; r < nrec && r / 8 < blen; r++)
		inuse += (bm[r / 8] >> (r % 8)) & 1;
	/* times that scenarios and rules read stay as they are */
	skip[0] = vol_record(v, "Windows/WinSxS/pending.xml");
	skip[1] = vol_record(
		v, "Windows/System32/drivers/CrowdStrike/C-00000291-00000000-00000032.sys");
	want = (unsigned)((inuse + 99) / 100);
	ch->rec = calloc(want + 1, sizeof(*ch->rec));
	ch->rec_off = calloc(want + 1, sizeof(*ch->rec_off));
	if (!ch->rec || !ch->rec_off)
		goto out;
	/*
	 * Runs of 1-8 neighbouring records from random places (a model: files
	 * created together sit together in the MFT and are used together).
	 */
	while (ch->nrec < want && tries++ < 100 * want + 1000) {
		int64_t r = 24 + (int64_t)(rnd(ch) % (uint64_t)(nrec - 24));
		unsigned len = 1 + (unsigned)(rnd(ch) % 8);

		for (; len && r < nrec && ch->nrec < want; r++, len--) {
			if (r / 8 >= blen || !((bm[r / 8] >> (r % 8)) & 1) ||
			    ((taken[r / 8] >> (r % 8)) & 1) || r == skip[0] || r == skip[1])
				continue;
			taken[r / 8] |= (uint8_t)(1u << (r % 8));
			ch->rec[ch->nrec++] = (uint64_t)r;
		}
	}
	qsort(ch->rec, ch->nrec, sizeof(*ch->rec), cmp_u64);
	for (unsigned k = 0; k < ch->nrec; k++) {
		int64_t off = vol_record_offset(v, (int64_t)ch->rec[k]);

		if (off < 0)
			goto out;
		ch->rec_off[k] = (uint64_t)off;
	}
	ch->cluster = nv->cluster_size;
	ch->recsize = nv->mft_record_size;
	ni = ntfs_inode_open(nv, FILE_LogFile);
	na = ni ? ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0) : NULL;
	if (na && !ntfs_attr_map_whole_runlist(na)) {
		ch->log_size = (uint64_t)na->data_size;
		for (runlist_element *e = na->rl; e && e->length && ch->nlrun < MAX_LOG_RUNS; e++) {
			if (e->lcn < 0)
				continue;
			ch->lrun[ch->nlrun].vcn = e->vcn;
			ch->lrun[ch->nlrun].lcn = e->lcn;
			ch->lrun[ch->nlrun].len = e->length;
			ch->nlrun++;
		}
		rc = ch->nlrun ? 0 : -1;
	}
	if (na)
		ntfs_attr_close(na);
	if (ni)
		ntfs_inode_close(ni);
out:
	free(bm);
	free(taken);
	return rc;
}

int churn_live(struct churn *ch, struct vol *v)
{
	int rc = 0;

	ch->res.lived = true;
	if (ch->o->churn == MK_CHURN_PATCH)
		rc |= update_init(ch);
	rc |= pagefile(ch, v);
	if (!rc)
		rc = session(ch, v, "SYSTEM", edit_system);
	if (!rc)
		rc = session(ch, v, "SOFTWARE", edit_software);
	if (!rc)
		rc = session(ch, v, "DEFAULT", edit_default);
	if (!rc && ch->comp) {
		rc = update_files(ch, v);
		if (!rc)
			rc = session(ch, v, "COMPONENTS", edit_components);
	}
	if (!rc)
		rc = survey(ch, v);
	return rc;
}

/* ---- raw: MFT records and the $LogFile ------------------------------------------ */

/* Update sequence protection (WINDOWS-EVIDENCE.md 1.2) of a record or log page. */
static void mst_protect(uint8_t *p, uint16_t usn)
{
	uint16_t usa = get_le16(p + 4), cnt = get_le16(p + 6);

	put_le16(p + usa, usn);
	for (unsigned i = 1; i < cnt; i++) {
		memcpy(p + usa + 2 * i, p + 512 * i - 2, 2);
		put_le16(p + 512 * i - 2, usn);
	}
}

static int mst_unprotect(uint8_t *p, uint32_t size)
{
	uint16_t usa = get_le16(p + 4), cnt = get_le16(p + 6), usn;

	if (cnt != 1 + size / 512 || (usa & 1) || usa + 2u * cnt > 510)
		return -1;
	usn = get_le16(p + usa);
	for (unsigned i = 1; i < cnt; i++)
		if (get_le16(p + 512 * i - 2) != usn)
			return -1;
	for (unsigned i = 1; i < cnt; i++)
		memcpy(p + 512 * i - 2, p + usa + 2 * i, 2);
	return 0;
}

/*
 * The log record stream (ntfs-3g logfile.h RECORD_PAGE_HEADER, LOG_RECORD;
 * LSN = wrap count << file data bits | file offset / 8): records are
 * 8-aligned, one whose header would not fit in the page starts on the
 * next, one that does not fit continues at the next page's data offset.
 */
struct lfs {
	uint8_t *pg; /* record pages from the first one */
	struct lpage {
		uint64_t last_lsn, last_end_lsn;
		uint32_t flags;
		uint16_t next;
	} * meta;
	unsigned n, cap;       /* pages used, allocated */
	unsigned first, total; /* first record page, pages in the log */
	unsigned cur, po;
	unsigned data_bits;
	uint64_t wrap, first_lsn, last_lsn;
};

static int lfs_page(struct lfs *l, unsigned p)
{
	if (p >= l->total - l->first)
		return -1;
	if (p >= l->cap) {
		unsigned nc = l->cap ? l->cap * 2 : 64;
		uint8_t *np = realloc(l->pg, (size_t)nc * PG);
		struct lpage *nm = realloc(l->meta, nc * sizeof(*nm));

		if (np)
			l->pg = np;
		if (nm)
			l->meta = nm;
		if (!np || !nm)
			return -1;
		memset(l->pg + (size_t)l->cap * PG, 0, (size_t)(nc - l->cap) * PG);
		memset(l->meta + l->cap, 0, (nc - l->cap) * sizeof(*nm));
		l->cap = nc;
	}
	if (p + 1 > l->n)
		l->n = p + 1;
	return 0;
}

static uint64_t lfs_lsn(const struct lfs *l)
{
	return (l->wrap << l->data_bits) | ((((uint64_t)l->first + l->cur) * PG + l->po) >> 3);
}

/* Append a record (LFS header + client data); its LSN, or 0 when the log is full. */
static uint64_t lfs_put(struct lfs *l, uint8_t *rec, unsigned len)
{
	uint64_t lsn;
	unsigned left = len, o = 0;

	if (PG - l->po < 0x30) {
		l->cur++;
		l->po = 0x40;
	}
	if (lfs_page(l, l->cur) || (len > PG - l->po && lfs_page(l, l->cur + 1)))
		return 0;
	lsn = lfs_lsn(l);
	put_le64(rec, lsn);
	put_le64(rec + 8, l->last_lsn);
	put_le16(rec + 0x28, len > PG - l->po ? 1 : 0); /* LOG_RECORD_MULTI_PAGE */
	while (left) {
		unsigned n = left < PG - l->po ? left : PG - l->po;

		memcpy(l->pg + (size_t)l->cur * PG + l->po, rec + o, n);
		l->meta[l->cur].last_lsn = lsn;
		o += n;
		left -= n;
		l->po += n;
		if (left) {
			l->meta[l->cur].next = PG;
			l->cur++;
			l->po = 0x40;
		}
	}
	l->po = (l->po + 7) & ~7u;
	l->meta[l->cur].last_end_lsn = lsn;
	l->meta[l->cur].flags |= 1; /* LOG_PAGE_LOG_RECORD_END */
	l->meta[l->cur].next = (uint16_t)(l->po < PG ? l->po : PG);
	if (!l->first_lsn)
		l->first_lsn = lsn;
	l->last_lsn = lsn;
	return lsn;
}

/* A volume offset for a $LogFile offset, through its runs; -1 outside. */
static int64_t log_voff(const struct churn *ch, uint64_t off)
{
	uint64_t vcn = off / ch->cluster;

	for (unsigned k = 0; k < ch->nlrun; k++)
		if ((int64_t)vcn >= ch->lrun[k].vcn &&
		    (int64_t)vcn < ch->lrun[k].vcn + ch->lrun[k].len)
			return (ch->lrun[k].lcn + ((int64_t)vcn - ch->lrun[k].vcn)) *
				       (int64_t)ch->cluster +
			       (int64_t)(off % ch->cluster);
	return -1;
}

static int log_write(struct churn *ch, struct cow *c, uint64_t off, uint8_t *page)
{
	for (unsigned o = 0; o < PG; o += 512) {
		int64_t vo = log_voff(ch, off + o);

		if (vo < 0 || cow_rw(c, (uint64_t)vo, page + o, 512, true))
			return -1;
	}
	return 0;
}

/* A restart page (logfile.h RESTART_PAGE_HEADER, RESTART_AREA, LOG_CLIENT_RECORD). */
static void restart_page(uint8_t *p, const struct churn *ch, const struct lfs *l, unsigned seq_bits,
			 uint32_t opens, uint16_t usn)
{
	bool clean = !ch->res.running;
	uint8_t *ra = p + 0x30, *cl = ra + 0x40;

	memset(p, 0, PG);
	memcpy(p, "RSTR", 4);
	put_le16(p + 4, 0x1E);
	put_le16(p + 6, 1 + PG / 512);
	put_le32(p + 0x10, PG);
	put_le32(p + 0x14, PG);
	put_le16(p + 0x18, 0x30);
	/* 2.0 while mounted, 1.1 after a clean dismount (1.5: dfir_ntfs samples) */
	put_le16(p + 0x1A, clean ? 1 : 0);
	put_le16(p + 0x1C, clean ? 1 : 2);
	put_le64(ra, l->last_lsn);
	put_le16(ra + 8, 1);
	put_le16(ra + 10, 0xFFFF);	       /* free list: empty */
	put_le16(ra + 12, 0);		       /* in use: the NTFS client, always open since XP */
	put_le16(ra + 14, clean ? 0x0002 : 0); /* RESTART_VOLUME_IS_CLEAN */
	put_le32(ra + 16, seq_bits);
	put_le16(ra + 20, 0x40 + 0xA0);
	put_le16(ra + 22, 0x40); /* client array, XP and later */
	put_le64(ra + 24, ch->log_size);
	put_le32(ra + 32, 0x68); /* client data of the record at current_lsn */
	put_le16(ra + 36, 0x30);
	put_le16(ra + 38, 0x40);
	put_le32(ra + 40, opens);
	put_le64(cl, l->first_lsn);
	put_le64(cl + 8, l->last_lsn);
	put_le16(cl + 16, 0xFFFF);
	put_le16(cl + 18, 0xFFFF);
	put_le32(cl + 28, 8);
	memcpy(cl + 32, "N\0T\0F\0S\0", 8);
	mst_protect(p, usn);
}

int churn_raw(struct churn *ch, struct cow *c)
{
	struct lfs l = { 0 };
	unsigned fs_bits = 0, seq_bits, updated = 0;
	uint8_t rec[4096], lr[0x98];
	int rc = 0;

	if (!ch->res.lived)
		return 0;
	if (ch->recsize > sizeof(rec) || ch->cluster < 512 || ch->log_size < 64 * PG)
		return -1;
	for (uint64_t x = ch->log_size; x; x >>= 1)
		fs_bits++;
	seq_bits = 67 - fs_bits;
	l.data_bits = 64 - seq_bits;
	/* record pages after the restart pages and the tail copies: 4 (1.1), 0x22 (2.0) */
	l.first = ch->res.running ? 0x22 : 4;
	l.total = (unsigned)(ch->log_size / PG);
	l.po = 0x40;
	l.wrap = 1 + rnd(ch) % 4;
	if (l.total < l.first + 8 || lfs_page(&l, 0))
		return -1;
	for (unsigned k = 0; k < ch->nrec && !rc; k++) {
		uint64_t off = ch->rec_off[k], lsn;
		uint16_t ao, vo, usa, usn;
		uint8_t *a, *val, old[32], nw[32];
		int64_t t = ch->t0 + (ch->t1 - ch->t0) * (int64_t)(k + 1) / (int64_t)(ch->nrec + 1);

		if (cow_rw(c, off, rec, ch->recsize, false)) {
			rc = -1;
			break;
		}
		if (memcmp(rec, "FILE", 4) || mst_unprotect(rec, ch->recsize))
			continue;
		ao = get_le16(rec + 0x14);
		a = rec + ao;
		/* an in-use base record whose first attribute is a resident $SI */
		if (!(get_le16(rec + 0x16) & 1) || get_le64(rec + 0x20) ||
		    ao + 0x18u > ch->recsize || get_le32(a) != 0x10 || a[8] ||
		    (vo = get_le16(a + 0x14)) + 32u + ao > ch->recsize || get_le32(a + 0x10) < 0x30)
			continue;
		val = a + vo;
		memcpy(old, val, 32);
		memcpy(nw, val, 32);
		put_le64(nw + 16, ft(t)); /* MFT changed */
		if (rnd(ch) % 2) {
			put_le64(nw + 8, ft(t));  /* written */
			put_le64(nw + 24, ft(t)); /* read */
		}
		/* the log record: UpdateResidentValue on $MFT, redo new, undo old */
		memset(lr, 0, sizeof(lr));
		put_le32(lr + 0x18, 0x68); /* client data length */
		put_le32(lr + 0x20, 1);	   /* LOG_STANDARD */
		put_le32(lr + 0x24, 0x18); /* transaction table entry */
		put_le16(lr + 0x30, 0x07);
		put_le16(lr + 0x32, 0x07);
		put_le16(lr + 0x34, 0x28);
		put_le16(lr + 0x36, 32);
		put_le16(lr + 0x38, 0x48);
		put_le16(lr + 0x3A, 32);
		put_le16(lr + 0x3C, 0x18); /* open attribute: $MFT:$DATA */
		put_le16(lr + 0x3E, 1);
		put_le16(lr + 0x40, ao);
		put_le16(lr + 0x42, vo);
		put_le16(lr + 0x44, (uint16_t)((off % ch->cluster) / 512));
		put_le16(lr + 0x46, 2); /* ACTS_ON_MFT */
		put_le64(lr + 0x48, ch->rec[k] * ch->recsize / ch->cluster);
		put_le64(lr + 0x50, off / ch->cluster);
		memcpy(lr + 0x58, nw, 32);
		memcpy(lr + 0x78, old, 32);
		lsn = lfs_put(&l, lr, sizeof(lr));
		if (!lsn)
			break;
		memcpy(val, nw, 32);
		put_le64(rec + 8, lsn);
		usa = get_le16(rec + 4);
		usn = (uint16_t)(get_le16(rec + usa) + 1);
		if (!usn || usn == 0xFFFF)
			usn = 1;
		mst_protect(rec, usn);
		if (cow_rw(c, off, rec, ch->recsize, true)) {
			rc = -1;
			break;
		}
		updated++;
	}
	ch->res.mft_updated = updated;
	if (!rc && !l.last_lsn)
		rc = -1;
	/* the record pages, then both restart pages */
	for (unsigned p = 0; p < l.n && !rc; p++) {
		uint8_t *pg = l.pg + (size_t)p * PG;

		memcpy(pg, "RCRD", 4);
		put_le16(pg + 4, 0x28);
		put_le16(pg + 6, 1 + PG / 512);
		put_le64(pg + 8, l.meta[p].last_lsn);
		put_le32(pg + 0x10, l.meta[p].flags);
		put_le16(pg + 0x14, 1);
		put_le16(pg + 0x16, 1);
		put_le16(pg + 0x18, l.meta[p].next);
		put_le64(pg + 0x20, l.meta[p].last_end_lsn);
		mst_protect(pg, 1);
		rc = log_write(ch, c, ((uint64_t)l.first + p) * PG, pg);
	}
	if (!rc) {
		uint8_t rp[PG];
		uint32_t opens = (uint32_t)rnd(ch);

		for (unsigned k = 0; k < 2 && !rc; k++) {
			restart_page(rp, ch, &l, seq_bits, opens, (uint16_t)(1 + k));
			rc = log_write(ch, c, (uint64_t)k * PG, rp);
		}
	}
	free(l.pg);
	free(l.meta);
	if (rc)
		fprintf(stderr, "mkfleet: child %u: MFT and $LogFile update failed\n", ch->i);
	return rc;
}

void churn_end(struct churn *ch, struct churn_res *res)
{
	if (!ch)
		return;
	if (res)
		*res = ch->res;
	for (unsigned k = 0; ch->comp && k < ch->ncomp; k++) {
		free(ch->comp[k].body);
		free(ch->comp[k].manifest);
	}
	free(ch->comp);
	free(ch->rec);
	free(ch->rec_off);
	free(ch);
	mk_clock_set(0);
}
