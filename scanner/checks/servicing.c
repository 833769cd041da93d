/*
 * Servicing checks (WINDOWS-EVIDENCE.md section 3): pending.xml and
 * PendingXmlIdentifier, the COMPONENTS transaction values, the CBS keys,
 * SessionsPending, package states, Unserviceable, PoqexecCmdline,
 * PendingFileRenameOperations, Windows Update's RebootRequired and the
 * last session of Sessions.xml.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/common/bytes.h"
#include "formats/sxs/sxs.h"
#include "scanner/checks/triage.h"

#define CBS "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing"
#define MAX_XML_BYTES (64u << 20)

/* REG_BINARY UTF-16LE text (or plain bytes) as printable ASCII. */
static void ident_text(const struct bsw_hval *v, char *out, size_t len)
{
	size_t i, o = 0;
	bool u16 = v->len >= 2 && v->data[1] == 0;

	for (i = 0; i < v->len && o + 1 < len; i += u16 ? 2 : 1) {
		uint8_t c = v->data[i];

		if (!c)
			break;
		out[o++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
	}
	out[o] = 0;
}

static void check_pending(struct bsw_tctx *t)
{
	struct bsw_sxs_pending p;
	struct bsw_hval v = { 0 };
	char pxid[96] = "";
	bool has_id = false, has_xml = false;
	const char *why;
	uint8_t *d;
	size_t len;
	int r;

	if (t->components && !bsw_hive_get_raw(t->components, "", "PendingXmlIdentifier", &v)) {
		ident_text(&v, pxid, sizeof(pxid));
		has_id = v.len > 0;
		bsw_hval_free(&v);
	}
	r = bsw_tctx_read(t, t->v, "\\Windows\\WinSxS\\pending.xml", &d, &len, MAX_XML_BYTES);
	if (r != -ENOENT) {
		has_xml = true;
		if (r) {
			BSW_REPORT(t->fx, PR_SVC_0_PXML_BAD,
				   .str = r == -EFBIG ? "larger than 64 MiB" : "unreadable");
		} else if (bsw_sxs_parse_pending(d, len, &p, &why)) {
			BSW_REPORT(t->fx, PR_SVC_0_PXML_BAD, .str = why);
		} else {
			BSW_REPORT(t->fx, PR_SVC_0_PXML, .n = (int64_t)len,
				   .str = p.identifier[0] ? p.identifier : "(none)");
			if (has_id && p.identifier[0] && strcasecmp(p.identifier, pxid))
				BSW_REPORT(t->fx, PR_SVC_0_PXID_DIFF, .str = pxid,
					   .str2 = p.identifier);
		}
		bsw_tctx_free(d, len);
	}
	if (has_xml && !has_id && t->components)
		BSW_REPORT(t->fx, PR_SVC_0_PXID_NOID);
	if (!has_xml && has_id)
		BSW_REPORT(t->fx, PR_SVC_0_PXID_NOXML, .str = pxid);
}

/* COMPONENTS root values that record an interrupted transaction (3.3). */
static void check_compv(struct bsw_tctx *t)
{
	static const char *const names[] = {
		"ExecutionState",
		"NextQueueEntryIndex",
		"NextQueueEntryIndexBCDB",
		"AdvancedInstallersNeedResolving",
		"StoreDirty",
	};
	unsigned i;

	if (!t->components)
		return;
	for (i = 0; i < BSW_ARRAY_SIZE(names); i++) {
		struct bsw_hval v = { 0 };
		char msg[64];
		size_t j;
		bool set = false;
		uint64_t num = 0;

		if (bsw_hive_value(t->components, bsw_hive_root(t->components), names[i], &v))
			continue;
		for (j = 0; j < v.len; j++)
			if (v.data[j])
				set = true;
		if (v.len >= 4)
			num = get_le32(v.data);
		if (set) {
			if (v.type == BSW_REG_DWORD || v.type == BSW_REG_QWORD)
				snprintf(msg, sizeof(msg), "0x%llx", (unsigned long long)num);
			else
				snprintf(msg, sizeof(msg), "%zu bytes of type %u", v.len, v.type);
			BSW_REPORT(t->fx, PR_SVC_1_COMPV, .str = names[i], .str2 = msg,
				   .n = (int64_t)num);
		}
		bsw_hval_free(&v);
	}
}

/*
 * One walker for the CBS lists (SessionsPending, Packages): each subkey of
 * CBS\<list>, at most BSW_MAX_PACKAGES of them and none once the disk's
 * budget is spent, is handed to fn with its path from the hive's root.
 */
typedef void (*cbs_entry_fn)(struct bsw_tctx *t, const char *kp, const char *name);

struct cbs_walk {
	struct bsw_tctx *t;
	const char *list;
	cbs_entry_fn fn;
	unsigned nr;
};

static int cbs_step(void *arg, bsw_hkey k, const char *name)
{
	struct cbs_walk *w = arg;
	char kp[600];

	if (++w->nr > BSW_MAX_PACKAGES || bsw_tctx_over(w->t))
		return 1;
	snprintf(kp, sizeof(kp), CBS "\\%s\\%s", w->list, name);
	w->fn(w->t, kp, name);
	return 0;
}

static void walk_cbs(struct bsw_tctx *t, bsw_hkey root, const char *list, cbs_entry_fn fn)
{
	struct cbs_walk w = { .t = t, .list = list, .fn = fn };
	char kp[160];
	bsw_hkey k;

	snprintf(kp, sizeof(kp), CBS "\\%s", list);
	if (!bsw_hive_key(t->software, root, kp, &k))
		bsw_hive_subkeys(t->software, k, cbs_step, &w);
}

/* A pending session not marked Complete (3.2). */
static void check_session(struct bsw_tctx *t, const char *kp, const char *name)
{
	uint32_t complete = 0, phase = 0;

	if (!bsw_hive_get_dword(t->software, kp, "Complete", &complete) && complete == 1)
		return;
	bsw_hive_get_dword(t->software, kp, "LastCommittedPhase", &phase);
	BSW_REPORT(t->fx, PR_SVC_1_SESSPEND, .str = name, .n = phase);
}

/* CurrentState meanings (3.2, CbsApi.h CbsState). */
static const char *pkg_state_bad(uint32_t s)
{
	switch (s) {
	case 0x05: return "uninstall pending";
	case 0x60: return "install pending";
	case 0x10: return "resolving (in transition)";
	case 0x30: return "staging (in transition)";
	case 0x65: return "partially installed";
	}
	if (s & 0x80000000u)
		return "invalid (negative) state: the package is broken";
	return NULL;
}

static void check_package(struct bsw_tctx *t, const char *kp, const char *name)
{
	const char *why;
	uint32_t st;

	if (bsw_hive_get_dword(t->software, kp, "CurrentState", &st))
		return;
	bsw_inv_note_pkg(t, name, st);
	why = pkg_state_bad(st);
	if (why)
		BSW_REPORT(t->fx, PR_SVC_1_PKGSTATE, .str = name, .n = st, .str2 = why);
}

static void check_cbs(struct bsw_tctx *t)
{
	static const char *const keys[] = {
		"RebootPending",
		"PackagesPending",
		"RebootInProgress",
	};
	struct bsw_hval v = { 0 };
	bsw_hkey root, k;
	char *ms = NULL;
	unsigned i, cnt = 0;

	if (!t->software)
		return;
	root = bsw_hive_root(t->software);
	for (i = 0; i < BSW_ARRAY_SIZE(keys); i++) {
		char kp[160];

		snprintf(kp, sizeof(kp), CBS "\\%s", keys[i]);
		if (!bsw_hive_key(t->software, root, kp, &k))
			BSW_REPORT(t->fx, PR_SVC_1_CBSKEYS, .str = keys[i]);
	}
	walk_cbs(t, root, "SessionsPending", check_session);
	walk_cbs(t, root, "Packages", check_package);
	if (!bsw_hive_get_raw(t->software, CBS, "Unserviceable", &v)) {
		int64_t n = v.len >= 4 ? get_le32(v.data) : (v.len ? v.data[0] : 0);

		BSW_REPORT(t->fx, PR_SVC_1_UNSERV, .n = n);
		bsw_hval_free(&v);
	}
	if (!bsw_hive_get_multi_sz(t->software,
				   "Microsoft\\Windows\\CurrentVersion\\SideBySide\\Configuration",
				   "PoqexecCmdline", &ms, &cnt)) {
		if (cnt && ms[0])
			BSW_REPORT(t->fx, PR_SVC_1_POQ, .str = ms);
		free(ms);
	} else {
		char sz[512];

		if (!bsw_hive_get_sz(
			    t->software,
			    "Microsoft\\Windows\\CurrentVersion\\SideBySide\\Configuration",
			    "PoqexecCmdline", sz, sizeof(sz)) &&
		    sz[0])
			BSW_REPORT(t->fx, PR_SVC_1_POQ, .str = sz);
	}
	if (!bsw_hive_key(
		    t->software, root,
		    "Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired",
		    &k))
		BSW_REPORT(t->fx, PR_SVC_1_WU);
}

/* "\??\C:\Windows\x" -> "\Windows\x"; NULL if not on the system drive. */
static const char *nt_to_vol(const char *p)
{
	if (*p == '!')
		p++;
	if (!strncmp(p, "\\??\\", 4))
		p += 4;
	if (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':')
		p += 2;
	return p[0] == '\\' ? p : NULL;
}

static void check_pfro(struct bsw_tctx *t)
{
	static const char *const vals[] = { "PendingFileRenameOperations",
					    "PendingFileRenameOperations2" };
	char kp[128];
	unsigned i, j, cnt;

	if (!t->system)
		return;
	snprintf(kp, sizeof(kp), "%s\\Control\\Session Manager", t->cs);
	for (i = 0; i < 2; i++) {
		char *ms = NULL, *s, *src = NULL;

		if (bsw_hive_get_multi_sz(t->system, kp, vals[i], &ms, &cnt))
			continue;
		if (cnt) {
			BSW_REPORT(t->fx, PR_SVC_1_PFRO, .n = (cnt + 1) / 2, .str = ms,
				   .str2 = vals[i]);
		}
		/* pairs: source, destination ("" = delete) */
		for (s = ms, j = 0; j < cnt && j < 4096; s += strlen(s) + 1, j++) {
			const char *dv, *sv;

			if (!(j & 1)) {
				src = s;
				continue;
			}
			dv = nt_to_vol(s);
			sv = src ? nt_to_vol(src) : NULL;
			if (!dv || !sv || !bsw_tctx_is_bootfile(t, dv))
				continue;
			if (bsw_check_file(t, sv, false, NULL))
				BSW_REPORT(t->fx, PR_SVC_1_PFRO_BOOT, .str = dv, .str2 = sv);
		}
		free(ms);
	}
}

static void check_sessions_xml(struct bsw_tctx *t)
{
	struct bsw_sxs_sessions s;
	const char *why;
	char msg[96];
	uint8_t *d;
	size_t len;

	if (bsw_tctx_read(t, t->v, "\\Windows\\servicing\\Sessions\\Sessions.xml", &d, &len,
			  MAX_XML_BYTES))
		return;
	if (!bsw_sxs_parse_sessions(d, len, &s, &why) && s.nr_sessions) {
		if (s.last_status_set && s.last_status != 0)
			snprintf(msg, sizeof(msg), "Status 0x%llx",
				 (unsigned long long)s.last_status);
		else if (!s.last_has_complete)
			snprintf(msg, sizeof(msg), "no Complete time");
		else
			msg[0] = 0;
		if (msg[0])
			BSW_REPORT(t->fx, PR_SVC_1_SESSXML,
				   .str = s.last_id[0] ? s.last_id : "(no id)", .str2 = msg);
	}
	bsw_tctx_free(d, len);
}

void bsw_check_servicing(struct bsw_tctx *t)
{
	check_pending(t);
	check_compv(t);
	if (bsw_tctx_over(t))
		return;
	check_cbs(t);
	check_pfro(t);
	check_sessions_xml(t);
}
