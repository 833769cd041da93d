/*
 * Inventory and rules of one disk (docs/rules.md): what the checks walked
 * anyway is noted as they walk it (CBS packages from servicing.c's package
 * walk, boot-start drivers from boot.c's Services walk, the BCD from
 * boot.c's store), then, while the disk is still open, rendered as the
 * "inventory" member (scan --inventory) and handed to the rules as their
 * environment: files by glob on the Windows volume, registry values of
 * the loaded hives (logs replayed), packages, findings.
 *
 * Nothing here reports a finding: the disk's findings are final before the
 * line is rendered.  Reads go through the same byte and memory budgets.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "formats/bcd/bcd.h"
#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h" /* pure record parsers, for $STANDARD_INFORMATION */
#include "formats/pe/pe.h"
#include "scanner/checks/triage.h"
#include "scanner/rules.h"
#include "scanner/report.h"

#define CBS "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing"
#define INV_MAX_FILE (64u << 20) /* larger files: size only */
#define INV_MAX_BCD 64u
#define FILETIME_UNIX 116444736000000000ULL

struct inv_pkg {
	char *id;
	uint32_t state;
};

struct inv_drv {
	char *svc, *path;
};

struct inv_bcd {
	char guid[40], desc[128], path[260];
	uint32_t type;
};

struct bsw_inv {
	struct inv_pkg *pkg;
	unsigned nr_pkg, cap_pkg;
	bool pkg_walked;
	struct inv_drv *drv;
	unsigned nr_drv, cap_drv;
	struct inv_bcd bcd[INV_MAX_BCD];
	unsigned nr_bcd;
	char bcd_default[40];
	bool bcd_seen;
	/* rendered by bsw_inv_collect() while the volume is readable */
	bool collected;
	char *inv_text, *rules_text;
	size_t inv_len, rules_len;
	int bits;
};

static struct bsw_inv *inv_get(struct bsw_tctx *t)
{
	if (!t->o->inventory && !t->o->rules)
		return NULL;
	if (!t->inv)
		t->inv = calloc(1, sizeof(*t->inv));
	return t->inv;
}

/* Room for one more element in *arr (nr used of *cap); false on ENOMEM. */
static bool grow(void **arr, unsigned nr, unsigned *cap, size_t elem)
{
	unsigned nc;
	void *n;

	if (nr < *cap)
		return true;
	nc = *cap ? *cap * 2 : 64;
	n = realloc(*arr, (size_t)nc * elem);
	if (!n)
		return false;
	*arr = n;
	*cap = nc;
	return true;
}

void bsw_inv_note_pkg(struct bsw_tctx *t, const char *name, uint32_t state)
{
	struct bsw_inv *iv = inv_get(t);

	if (!iv)
		return;
	iv->pkg_walked = true;
	if (!grow((void **)&iv->pkg, iv->nr_pkg, &iv->cap_pkg, sizeof(*iv->pkg)))
		return;
	iv->pkg[iv->nr_pkg].id = strdup(name);
	if (iv->pkg[iv->nr_pkg].id)
		iv->pkg[iv->nr_pkg++].state = state;
}

void bsw_inv_note_driver(struct bsw_tctx *t, const char *svc, const char *path)
{
	struct bsw_inv *iv = inv_get(t);

	if (!iv || iv->nr_drv >= BSW_MAX_SERVICES ||
	    !grow((void **)&iv->drv, iv->nr_drv, &iv->cap_drv, sizeof(*iv->drv)))
		return;
	iv->drv[iv->nr_drv].svc = strdup(svc);
	iv->drv[iv->nr_drv].path = strdup(path);
	if (iv->drv[iv->nr_drv].svc && iv->drv[iv->nr_drv].path) {
		iv->nr_drv++;
	} else {
		free(iv->drv[iv->nr_drv].svc);
		free(iv->drv[iv->nr_drv].path);
	}
}

struct bcd_walk {
	struct bsw_hive *h;
	struct bsw_inv *iv;
};

static int bcd_fn(void *arg, bsw_hkey k, const char *name)
{
	struct bcd_walk *w = arg;
	struct inv_bcd *e;
	char kp[128];

	if (w->iv->nr_bcd >= INV_MAX_BCD)
		return 1;
	e = &w->iv->bcd[w->iv->nr_bcd];
	memset(e, 0, sizeof(*e));
	snprintf(e->guid, sizeof(e->guid), "%s", name);
	snprintf(kp, sizeof(kp), "Objects\\%.40s\\Description", name);
	if (bsw_hive_get_dword(w->h, kp, "Type", &e->type))
		return 0;
	snprintf(kp, sizeof(kp), "Objects\\%.40s\\Elements\\12000004", name);
	bsw_hive_get_sz(w->h, kp, "Element", e->desc, sizeof(e->desc));
	snprintf(kp, sizeof(kp), "Objects\\%.40s\\Elements\\12000002", name);
	bsw_hive_get_sz(w->h, kp, "Element", e->path, sizeof(e->path));
	w->iv->nr_bcd++;
	return 0;
}

void bsw_inv_note_bcd(struct bsw_tctx *t, struct bsw_hive *bcd)
{
	struct bsw_inv *iv = inv_get(t);
	struct bcd_walk w = { .h = bcd, .iv = iv };
	struct bsw_bcd b;
	bsw_hkey k;

	if (!iv || !t->o->inventory)
		return;
	iv->bcd_seen = true;
	if (!bsw_bcd_parse(bcd, &b))
		snprintf(iv->bcd_default, sizeof(iv->bcd_default), "%s", b.default_guid);
	if (!bsw_hive_key(bcd, bsw_hive_root(bcd), "Objects", &k))
		bsw_hive_subkeys(bcd, k, bcd_fn, &w);
}

void bsw_inv_free(struct bsw_tctx *t)
{
	struct bsw_inv *iv = t->inv;

	if (!iv)
		return;
	for (unsigned i = 0; i < iv->nr_pkg; i++)
		free(iv->pkg[i].id);
	for (unsigned i = 0; i < iv->nr_drv; i++) {
		free(iv->drv[i].svc);
		free(iv->drv[i].path);
	}
	free(iv->pkg);
	free(iv->drv);
	free(iv->inv_text);
	free(iv->rules_text);
	free(iv);
	t->inv = NULL;
}

/* ---- what a file is ------------------------------------------------------ */

static void describe(const uint8_t *d, size_t n, unsigned need, struct bsw_rfile *f)
{
	struct bsw_pe pe;

	if (need & BSW_RF_SHA256)
		f->have_sha256 = bsw_sha_buf(BSW_SHA256, d, n, f->sha256) >= 0;
	if (need & BSW_RF_ZERO) {
		size_t i;

		for (i = 0; i < n && !d[i]; i++)
			;
		f->all_zero = i == n;
		f->have_zero = true;
	}
	if (need & BSW_RF_PE && bsw_pe_parse(d, n, &pe) != BSW_PE_NO_MZ) {
		/* the link time is the COFF header's; the version resource is
		 * looked for in any MZ file */
		if (pe.have_coff && pe.timestamp) {
			f->link_time = pe.timestamp;
			f->have_link_time = true;
		}
		f->have_pe_version = bsw_pe_parse_version(d, n, &f->pe_version);
	}
}

/*
 * $STANDARD_INFORMATION's modification time (NTFS: FILETIME at value +8),
 * read from the file's own MFT record through $MFT's data.
 */
static bool file_mtime(struct bsw_ntfs *v, uint64_t rec, int64_t *out)
{
	uint32_t rs = bsw_ntfs_record_size(v), pos, prev = 0;
	struct bsw_ntfs_rhdr h;
	struct bsw_ntfs_attr a;
	const char *why;
	unsigned bad;
	uint8_t *r;
	bool ok = false;
	int ret;

	if (rs < 512 || rs > 65536)
		return false;
	r = malloc(rs);
	if (!r)
		return false;
	if (bsw_ntfs_read(v, 0, NULL, r, rs, rec * rs) != (int64_t)rs ||
	    bsw_ntfs_fixup(r, rs, &bad) || bsw_ntfs_parse_rhdr(r, rs, rs, &h, &why))
		goto out;
	pos = h.attrs_off;
	while ((ret = bsw_ntfs_attr_next(r, h.used, &pos, &prev, &a, &why)) > 0) {
		if (a.type == NTFS_AT_STD_INFO && !a.nonres && a.val_len >= 16) {
			uint64_t ft = get_le64(r + a.val_off + 8);

			if (ft > FILETIME_UNIX) {
				*out = (int64_t)((ft - FILETIME_UNIX) / 10000000ULL);
				ok = true;
			}
			break;
		}
		pos = a.off + a.len;
		prev = a.type;
	}
out:
	free(r);
	return ok;
}

/* stat + what need asks of one file; f->why says what could not be read. */
static void file_info(struct bsw_tctx *t, const char *path, uint64_t rec, unsigned need,
		      struct bsw_rfile *f)
{
	struct bsw_ntfs_stat st;
	uint8_t *d;
	size_t n;
	int r;

	memset(f, 0, sizeof(*f));
	f->path = path;
	if (bsw_ntfs_stat(t->v, rec, &st)) {
		f->why = "record not in use";
		return;
	}
	f->size = st.size;
	if (need & BSW_RF_TIMES)
		f->have_mtime = file_mtime(t->v, rec, &f->mtime);
	if (!(need & (BSW_RF_SHA256 | BSW_RF_ZERO | BSW_RF_PE)))
		return;
	if (st.size > INV_MAX_FILE) {
		f->why = "larger than 64 MiB (content not read)";
		return;
	}
	bsw_mem_acquire(st.size);
	r = bsw_ntfs_read_all(t->v, rec, NULL, &d, &n, INV_MAX_FILE);
	if (r) {
		bsw_mem_release(st.size);
		f->why = r == -EOPNOTSUPP ? "compressed or encrypted in a way not decoded" :
					    "unreadable";
		return;
	}
	describe(d, n, need, f);
	free(d);
	bsw_mem_release(st.size);
}

/* ---- the disk as a rule environment -------------------------------------- */

struct denv {
	struct bsw_tctx *t;
	bool vol_ok; /* t->v may be read (inside the checks) */
	unsigned visited;
};

struct gwalk {
	struct denv *e;
	char **comp; /* the glob's components */
	unsigned nr, depth;
	char path[1024];
	unsigned need;
	bsw_rfile_fn fn;
	void *arg;
	int stop;
};

static bool has_wild(const char *s)
{
	return strpbrk(s, "*?") != NULL;
}

static int glob_dir(struct gwalk *w, uint64_t dir, unsigned i);

struct child_arg {
	struct gwalk *w;
	unsigned i;
	size_t plen;
};

static int child_fn(void *arg, uint64_t child, const char *name)
{
	struct child_arg *c = arg;
	struct gwalk *w = c->w;

	if (++w->e->visited > BSW_RULES_MAX_WALK)
		return 1;
	if (!bsw_glob_match(w->comp[c->i], name))
		return 0;
	if (c->plen + 1 + strlen(name) + 1 > sizeof(w->path))
		return 0;
	w->path[c->plen] = '\\';
	strcpy(w->path + c->plen + 1, name);
	glob_dir(w, child, c->i + 1);
	w->path[c->plen] = 0;
	return w->stop;
}

/* Component i of the glob under directory dir (w->path names it). */
static int glob_dir(struct gwalk *w, uint64_t dir, unsigned i)
{
	struct bsw_ntfs_stat st;

	if (w->stop)
		return 0;
	if (i == w->nr) {
		struct bsw_rfile f;

		if (bsw_ntfs_stat(w->e->t->v, dir, &st) || (st.rflags & BSW_NTFS_R_DIR))
			return 0;
		file_info(w->e->t, w->path, dir, w->need, &f);
		w->stop = w->fn(w->arg, &f);
		return 0;
	}
	if (bsw_ntfs_stat(w->e->t->v, dir, &st) || !(st.rflags & BSW_NTFS_R_DIR))
		return 0;
	if (!has_wild(w->comp[i])) {
		size_t pl = strlen(w->path);
		uint64_t rec;

		if (pl + 1 + strlen(w->comp[i]) + 1 > sizeof(w->path))
			return 0;
		w->path[pl] = '\\';
		strcpy(w->path + pl + 1, w->comp[i]);
		if (!bsw_ntfs_lookup(w->e->t->v, w->path, &rec))
			glob_dir(w, rec, i + 1);
		w->path[pl] = 0;
		return 0;
	} else {
		struct child_arg c = { .w = w, .i = i, .plen = strlen(w->path) };

		bsw_ntfs_readdir(w->e->t->v, dir, child_fn, &c);
	}
	return 0;
}

static int d_files(void *ctx, const char *glob, unsigned need, bsw_rfile_fn fn, void *arg)
{
	struct denv *e = ctx;
	struct gwalk w = { .e = e, .need = need, .fn = fn, .arg = arg };
	char *copy, *comp[64], *s, *save = NULL;
	uint64_t root;

	if (!e->t->v || !e->vol_ok)
		return -ENODATA; /* no (readable) Windows volume: cannot say */
	if (need & BSW_RF_BOOTDRV) {
		/* the boot-start drivers boot.c found, by their path */
		struct bsw_inv *iv = e->t->inv;

		for (unsigned i = 0; iv && i < iv->nr_drv; i++) {
			struct bsw_rfile f;
			uint64_t rec;

			if (!bsw_glob_match(glob, iv->drv[i].path) ||
			    bsw_ntfs_lookup(e->t->v, iv->drv[i].path, &rec))
				continue;
			file_info(e->t, iv->drv[i].path, rec, need, &f);
			if (fn(arg, &f))
				break;
		}
		return 0;
	}
	copy = strdup(glob);
	if (!copy)
		return -ENOMEM;
	for (s = strtok_r(copy, "\\/", &save); s && w.nr < 64; s = strtok_r(NULL, "\\/", &save))
		comp[w.nr++] = s;
	w.comp = comp;
	if (w.nr && !bsw_ntfs_lookup(e->t->v, "\\", &root))
		glob_dir(&w, root, 0);
	free(copy);
	return 0;
}

static struct bsw_hive *hive_by_name(struct bsw_tctx *t, const char *name)
{
	if (!strcasecmp(name, "SYSTEM"))
		return t->system;
	if (!strcasecmp(name, "SOFTWARE"))
		return t->software;
	if (!strcasecmp(name, "COMPONENTS"))
		return t->components;
	return NULL;
}

static int d_reg(void *ctx, const char *hive, const char *key, const char *value,
		 struct bsw_hval *out)
{
	struct denv *e = ctx;
	struct bsw_hive *h = hive_by_name(e->t, hive);
	char kp[1100];
	bsw_hkey k;

	if (!h)
		return -ENOENT; /* not there (or unusable): nothing in it exists */
	/* CurrentControlSet is the one Select\Default names */
	if (!strncasecmp(key, "CurrentControlSet", 17) && (!key[17] || key[17] == '\\'))
		snprintf(kp, sizeof(kp), "%s%s", e->t->cs, key + 17);
	else
		snprintf(kp, sizeof(kp), "%s", key);
	if (bsw_hive_key(h, bsw_hive_root(h), kp, &k))
		return -ENOENT;
	if (!value)
		return 0;
	return bsw_hive_value(h, k, value, out) ? -ENOENT : 0;
}

static int d_packages(void *ctx, bsw_rpkg_fn fn, void *arg)
{
	struct denv *e = ctx;
	struct bsw_inv *iv = e->t->inv;

	if (!e->t->software || !iv || !iv->pkg_walked)
		return e->t->software && !bsw_tctx_over(e->t) ? 0 : -ENODATA;
	for (unsigned i = 0; iv && i < iv->nr_pkg; i++)
		if (fn(arg, iv->pkg[i].id, iv->pkg[i].state))
			break;
	return 0;
}

static bool d_code(void *ctx, const char *code)
{
	struct denv *e = ctx;

	return bsw_fx_has_code(e->t->fx, code);
}

/* The disk's "now": its last shutdown (SYSTEM ShutdownTime), else the sweep's. */
static int64_t disk_now(struct bsw_tctx *t)
{
	struct bsw_hval hv = { 0 };
	char key[96];
	int64_t now = (int64_t)time(NULL);

	if (t->system && t->cs[0]) {
		snprintf(key, sizeof(key), "%s\\Control\\Windows", t->cs);
		if (!bsw_hive_get_raw(t->system, key, "ShutdownTime", &hv) && hv.len == 8) {
			uint64_t ft = get_le64(hv.data);

			if (ft > FILETIME_UNIX)
				now = (int64_t)((ft - FILETIME_UNIX) / 10000000ULL);
		}
		bsw_hval_free(&hv);
	}
	return now;
}

/* ---- the inventory member ------------------------------------------------ */

static void hex(FILE *o, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(o, "%02x", d[i]);
}

/* "...~26100.7623.1.5" : the version after the last '~' as a.b.c.d */
static uint64_t id_version(const char *id)
{
	const char *p = strrchr(id, '~');
	uint64_t v = 0;
	unsigned f = 0;

	if (!p)
		return 0;
	for (p++; *p && f < 4; f++) {
		char *e;
		unsigned long x = strtoul(p, &e, 10);

		if (e == p || x > 65535)
			return 0;
		v = v << 16 | x;
		p = *e == '.' ? e + 1 : e;
		if (*e != '.')
			break;
	}
	return f < 4 ? v << (16 * (3 - f)) : v;
}

/* The newest installed package whose identity starts with prefix. */
static const char *newest(const struct bsw_inv *iv, const char *prefix)
{
	const char *best = NULL;
	uint64_t bv = 0;
	size_t n = strlen(prefix);

	for (unsigned i = 0; i < iv->nr_pkg; i++) {
		uint64_t v;

		if (strncasecmp(iv->pkg[i].id, prefix, n) ||
		    (iv->pkg[i].state != 0x70 && iv->pkg[i].state != 0x80))
			continue;
		v = id_version(iv->pkg[i].id);
		if (!best || v > bv) {
			best = iv->pkg[i].id;
			bv = v;
		}
	}
	return best;
}

static void inv_json(struct bsw_tctx *t, FILE *o)
{
	struct bsw_inv *iv = t->inv;
	const char *s;

	fputs(",\"inventory\":{\"packages\":", o);
	if (!iv || !iv->pkg_walked) {
		fputs(t->software ? "[]" : "null", o);
	} else {
		fputc('[', o);
		for (unsigned i = 0; i < iv->nr_pkg; i++) {
			fputs(i ? ",{\"identity\":" : "{\"identity\":", o);
			bsw_json_str(o, iv->pkg[i].id);
			fprintf(o, ",\"state\":\"%s\",\"state_code\":%" PRIu32 "}",
				bsw_pkg_state_name(iv->pkg[i].state), iv->pkg[i].state);
		}
		fputc(']', o);
	}
	if (iv && (s = newest(iv, "Package_for_ServicingStack"))) {
		fputs(",\"servicing_stack\":", o);
		bsw_json_str(o, s);
	}
	if (iv && (s = newest(iv, "Package_for_RollupFix"))) {
		fputs(",\"lcu\":", o);
		bsw_json_str(o, s);
	}
	fputs(",\"boot_drivers\":[", o);
	for (unsigned i = 0; iv && i < iv->nr_drv; i++) {
		struct bsw_rfile f;
		uint64_t rec;
		char buf[64];

		fputs(i ? ",{\"service\":" : "{\"service\":", o);
		bsw_json_str(o, iv->drv[i].svc);
		fputs(",\"path\":", o);
		bsw_json_str(o, iv->drv[i].path);
		if (!t->v || bsw_ntfs_lookup(t->v, iv->drv[i].path, &rec)) {
			fputs(",\"error\":\"missing\"}", o);
			continue;
		}
		file_info(t, iv->drv[i].path, rec, BSW_RF_SHA256 | BSW_RF_ZERO | BSW_RF_PE, &f);
		fprintf(o, ",\"size\":%" PRIu64, f.size);
		if (f.have_sha256) {
			fputs(",\"sha256\":\"", o);
			hex(o, f.sha256, 32);
			fputc('"', o);
		}
		if (f.have_zero)
			fprintf(o, ",\"all_zero\":%s", f.all_zero ? "true" : "false");
		if (f.have_pe_version) {
			snprintf(buf, sizeof(buf), "%u.%u.%u.%u", (unsigned)(f.pe_version >> 48),
				 (unsigned)(f.pe_version >> 32 & 0xFFFF),
				 (unsigned)(f.pe_version >> 16 & 0xFFFF),
				 (unsigned)(f.pe_version & 0xFFFF));
			fprintf(o, ",\"pe_version\":\"%s\"", buf);
		}
		if (f.have_link_time) {
			struct tm tm;
			time_t tt = (time_t)f.link_time;

			if (gmtime_r(&tt, &tm)) {
				strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
				fprintf(o, ",\"link_time\":\"%s\"", buf);
			}
		}
		if (f.why) {
			fputs(",\"error\":", o);
			bsw_json_str(o, f.why);
		}
		fputc('}', o);
	}
	fputs("],\"bcd\":", o);
	if (!iv || !iv->bcd_seen) {
		fputs("null", o);
	} else {
		fputc('[', o);
		for (unsigned i = 0; i < iv->nr_bcd; i++) {
			const struct inv_bcd *b = &iv->bcd[i];

			fputs(i ? ",{\"guid\":" : "{\"guid\":", o);
			bsw_json_str(o, b->guid);
			fprintf(o, ",\"type\":\"0x%08" PRIx32 "\"", b->type);
			if (b->desc[0]) {
				fputs(",\"description\":", o);
				bsw_json_str(o, b->desc);
			}
			if (b->path[0]) {
				fputs(",\"path\":", o);
				bsw_json_str(o, b->path);
			}
			if (!strcasecmp(b->guid, iv->bcd_default))
				fputs(",\"default\":true", o);
			fputc('}', o);
		}
		fputc(']', o);
	}
	/* a time or byte limit cut the checks short: the lists may be partial */
	if (t->limited)
		fputs(",\"truncated\":true", o);
	fputc('}', o);
}

static int eval_rules(struct bsw_tctx *t, bool vol_ok, FILE *o)
{
	struct denv e = { .t = t, .vol_ok = vol_ok };
	struct bsw_renv env = {
		.ctx = &e,
		.files = d_files,
		.reg = d_reg,
		.packages = d_packages,
		.has_code = d_code,
	};

	env.now = disk_now(t);
	return bsw_rules_eval_json(t->o->rules, &env, o);
}

/*
 * The Windows volume reads through a source that lives only as long as the
 * checks (triage.c disk_checks), so files are read here, at their end, and
 * the two members are kept as text for the line.
 */
void bsw_inv_collect(struct bsw_tctx *t)
{
	struct bsw_inv *iv = inv_get(t);
	FILE *m;

	if (!iv)
		return;
	if (t->o->inventory && t->v) {
		m = open_memstream(&iv->inv_text, &iv->inv_len);
		if (m) {
			inv_json(t, m);
			fclose(m);
		}
	}
	if (t->o->rules) {
		m = open_memstream(&iv->rules_text, &iv->rules_len);
		if (m) {
			iv->bits = eval_rules(t, true, m);
			fclose(m);
		}
	}
	iv->collected = true;
}

int bsw_inv_json(struct bsw_tctx *t, FILE *o)
{
	struct bsw_inv *iv = t->inv;

	/* null: asked for, but there is no Windows volume to inventory */
	if (t->o->inventory) {
		if (iv && iv->inv_text)
			fwrite(iv->inv_text, 1, iv->inv_len, o);
		else
			fputs(",\"inventory\":null", o);
	}
	if (!t->o->rules)
		return 0;
	fputs(",\"rules\":", o);
	if (iv && iv->rules_text) {
		fwrite(iv->rules_text, 1, iv->rules_len, o);
		return iv->bits;
	}
	/* the checks stopped early: hives and findings only, no files */
	return eval_rules(t, false, o);
}
