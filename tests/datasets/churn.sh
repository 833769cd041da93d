#!/bin/bash
# mkfleet --churn light|boot|patch (issue 11): per profile a tiny VHDX fleet
# (small scale, a clean base, 4 children: child 3 captured running, child 1
# with a staged update under patch).  The children must differ from the
# base and from each other where the profile says so (hives and their logs,
# $LogFile restart pages, MFT records, the page file, the WinSxS store) and
# nowhere else; bootsweep's scan must match truth.jsonl (verdict, every
# listed code, and no finding truth does not expect); the same seed gives
# the same fleet.
set -u
MK=${BSW_BINDIR:?}/datasets/mkfleet
BIN=${BSW_BIN:?}
W=${BSW_BINDIR}/t-churn
[ -x "$MK" ] || { echo "mkfleet not built"; exit 77; }
for t in python3 mkfs.vfat mcopy; do
	command -v $t >/dev/null || { echo "skip: $t missing"; exit 77; }
done
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

for p in light boot patch; do
	if ! "$MK" --out $p --seed 5 --format vhdx --children 4 --scenarios clean --churn $p > $p.log 2>&1; then
		cat $p.log; bad "mkfleet --churn $p"; continue
	fi
	"$BIN" scan -q -j2 -o $p.scan.jsonl $p
	[ $(( $? & 8 )) = 0 ] || bad "scan of the $p fleet: operational error"
done
# scenarios under churn: a damaged or dirty hive is left as the scenario
# made it, a scenario that cannot be mounted gets no session; only the
# scan against truth is checked for these
MIX=hive-dirty-good-logs,system-dirty-badlog,kernel-torn,pending-xml-fresh,s256h-mismatch,driver-missing,compactos,crowdstrike-cf291-zero
if "$MK" --out mix --seed 6 --format vhdx --children 8 --scenarios $MIX --churn patch > mix.log 2>&1; then
	"$BIN" scan -q -j2 -o mix.scan.jsonl mix
else
	cat mix.log; bad "mkfleet --churn patch (scenarios)"
fi
[ $fail = 0 ] || exit 1
ok "four fleets generated and scanned"

# the same seed gives the same fleet (at the same path: children name the
# parent by an absolute path too)
mv boot boot.1
"$MK" --out boot --seed 5 --format vhdx --children 4 --scenarios clean --churn boot > boot.log 2>&1 || bad "mkfleet again"
(cd boot.1 && sha256sum *.vhdx truth.jsonl) > a.sum
(cd boot && sha256sum *.vhdx truth.jsonl) > b.sum
cmp -s a.sum b.sum && ok "--churn boot: same seed, byte-identical fleet" || bad "--churn boot is not reproducible"
rm -rf boot.1

BIN="$BIN" python3 - <<'PY' || fail=1
import hashlib, json, os, shutil, struct, subprocess, sys

BIN = os.environ["BIN"]
CFG = "\\Windows\\System32\\config\\"
fail = 0


def bad(msg):
    global fail
    print("FAIL", msg)
    fail += 1


def ok(msg):
    print("ok  ", msg)


def cat(img, path=None):
    cmd = [BIN, "cat", img] + (["--path", path] if path else [])
    r = subprocess.run(cmd, capture_output=True)
    return r.stdout if r.returncode == 0 else None


def seqs(h):
    return struct.unpack_from("<II", h, 4)


def hvle(log):
    """Sequence numbers of the HvLE entries of a new-format log."""
    out, off = [], 512
    while log and off + 40 <= len(log) and log[off:off + 4] == b"HvLE":
        out.append(struct.unpack_from("<I", log, off + 12)[0])
        off += struct.unpack_from("<I", log, off + 4)[0]
    return out


def unfix(p, size):
    usa, cnt = struct.unpack_from("<HH", p, 4)
    p = bytearray(p[:size])
    usn = p[usa:usa + 2]
    for i in range(1, cnt):
        if p[512 * i - 2:512 * i] != usn:
            return None
        p[512 * i - 2:512 * i] = p[usa + 2 * i:usa + 2 * i + 2]
    return bytes(p)


def restart(lf):
    p = unfix(lf[:4096], 4096)
    if p is None or p[:4] != b"RSTR":
        return None
    ra = p[0x30:]
    return {"ver": struct.unpack_from("<hh", p, 0x1A)[::-1],
            "lsn": struct.unpack_from("<Q", ra, 0)[0],
            "inuse": struct.unpack_from("<H", ra, 12)[0],
            "flags": struct.unpack_from("<H", ra, 14)[0]}


def records(mft):
    return [mft[o:o + 1024] for o in range(0, len(mft) - 1023, 1024)]


for prof in ("light", "boot", "patch", "mix"):
    truth = [json.loads(l) for l in open(f"{prof}/truth.jsonl")]
    scan = {os.path.basename(json.loads(l)["image"]): json.loads(l)
            for l in open(f"{prof}.scan.jsonl")}
    n0 = fail
    # --- the scan against the ground truth
    for t in truth:
        r = scan.get(t["image"])
        if r is None:
            bad(f"{prof}: {t['image']} not scanned")
            continue
        codes = {f["code"] for f in r["findings"]}
        if r["verdict"] != t["class"]:
            bad(f"{prof}: {t['image']} verdict {r['verdict']}, truth {t['class']}")
        if not set(t["codes"]) <= codes:
            bad(f"{prof}: {t['image']} misses {sorted(set(t['codes']) - codes)}")
        # (the mixed fleet's scenarios bring their own evidence, as without churn)
        if prof != "mix" and codes - set(t["codes"]) - {"SCAN-SUPPRESSED"}:
            bad(f"{prof}: {t['image']} unexpected {sorted(codes - set(t['codes']))}")
    if fail == n0:
        ok(f"{prof}: bootsweep scan matches truth.jsonl on {len(truth)} children" +
           ("" if prof == "mix" else ", no unexpected finding"))
    if prof == "mix":
        break

    base = f"{prof}/base.vhdx"
    B = {h: cat(base, CFG + h) for h in ("SYSTEM", "SOFTWARE", "DEFAULT", "COMPONENTS")}
    Blog = cat(base, "\\$LogFile")
    Bmft = records(cat(base, "\\$MFT"))
    Bpf = cat(base, "\\pagefile.sys")
    kids, n0 = [], fail
    for t in truth:
        img = f"{prof}/{t['image']}"
        C = {h: cat(img, CFG + h) for h in ("SYSTEM", "SOFTWARE", "DEFAULT", "COMPONENTS")}
        L = {h: cat(img, CFG + h + ".LOG1") for h in ("SYSTEM", "SOFTWARE", "DEFAULT")}
        lf, pf = cat(img, "\\$LogFile"), cat(img, "\\pagefile.sys")
        mft = records(cat(img, "\\$MFT"))
        kids.append((C, L, pf, hashlib.sha256(cat(img) or b"").hexdigest()))
        name = f"{prof}: {t['image']}"
        if prof == "light":
            if "churn" in t:
                bad(f"{name}: a light truth line carries churn fields")
            for h in ("SYSTEM", "SOFTWARE", "COMPONENTS"):
                if C[h] != B[h]:
                    bad(f"{name}: {h} differs from the base")
            if C["DEFAULT"] == B["DEFAULT"]:
                bad(f"{name}: DEFAULT (LastSession) not written")
            if lf != Blog or pf != Bpf:
                bad(f"{name}: $LogFile or pagefile.sys changed")
            continue
        running = t["session"] == "running"
        if t["session"] != ("running" if t["image"].startswith("child0003") else "shutdown"):
            bad(f"{name}: session {t['session']}")
        # hives: reconciled at a shutdown, dirty with the session in the logs when running
        for h in ("SYSTEM", "SOFTWARE", "DEFAULT"):
            s1, s2 = seqs(C[h])
            b1, b2 = seqs(B[h])
            ent = hvle(L[h])
            if not ent or ent[0] != b2 or L[h][28:32] != b"\x06\0\0\0":
                bad(f"{name}: {h}.LOG1 holds no new-format entries from the base's sequence number")
            if running and not (s1 == b2 + 1 and s2 == b2 and C[h][4096:] == B[h][4096:]):
                bad(f"{name}: {h} should be the base's primary, invalidated ({s1}, {s2})")
            if not running and not (s1 == s2 > b2 and C[h][4096:] != B[h][4096:]):
                bad(f"{name}: {h} not reconciled ({s1}, {s2})")
        # independent readers of the edited hives: libregf and hivex
        if not running:
            for h in ("SYSTEM", "SOFTWARE", "DEFAULT", "COMPONENTS"):
                f = f"{prof}.{t['image']}.{h}"
                open(f, "wb").write(C[h])
                for tool in (["regfinfo", f], ["hivexsh", "-d", f]):
                    if shutil.which(tool[0]) and subprocess.run(
                            tool, input=b"", capture_output=True).returncode:
                        bad(f"{name}: {tool[0]} rejects {h}")
                os.unlink(f)
        # $LogFile: empty in the base; 1.1 clean after a shutdown, 2.0 open when running
        rs = restart(lf)
        if Blog.strip(b"\xff") or rs is None:
            bad(f"{name}: base $LogFile not empty or child's restart page unreadable")
        elif running != (rs["ver"] == (2, 0) and rs["flags"] == 0) or \
                (not running and not (rs["ver"] == (1, 1) and rs["flags"] & 2)) or rs["inuse"] != 0:
            bad(f"{name}: restart page {rs}")
        # MFT: about 1% of the in-use records, fixups valid, LSNs from the log
        changed = [i for i, r in enumerate(mft) if i >= len(Bmft) or r != Bmft[i]]
        lsns = [struct.unpack_from("<Q", mft[i], 8)[0] for i in changed
                if unfix(mft[i], 1024) is not None and mft[i][:4] == b"FILE"]
        upd = t["mft_updated"]
        want = -(-sum(1 for i, r in enumerate(mft) if i >= 24 and r[:4] == b"FILE"
                      and struct.unpack_from("<H", r, 0x16)[0] & 1) // 100)
        if not (want * 9 // 10 <= upd <= want) or len(changed) < upd:
            bad(f"{name}: {upd} records updated, {want} wanted (1%), {len(changed)} differ")
        if len(lsns) != len(changed) or sum(1 for x in lsns if 0 < x <= rs["lsn"]) < upd:
            bad(f"{name}: changed records with bad fixups or LSNs outside the log")
        # the page file: allocated at its size, the written part as truth says
        if pf is None or len(pf) != len(Bpf) or pf == Bpf:
            bad(f"{name}: pagefile.sys not written")
        else:
            nz = sum(65536 for o in range(0, len(pf), 65536) if pf[o:o + 65536].strip(b"\0"))
            if nz != t["pagefile_written"]:
                bad(f"{name}: pagefile.sys has {nz} bytes written, truth {t['pagefile_written']}")
        # the update: the store grew by the new components, projected or pending
        r = scan[t["image"]]
        if prof == "patch":
            pend = t["pending_xml"]
            st = r["store"]
            px = cat(img, "\\Windows\\WinSxS\\pending.xml")
            if pend != t["image"].startswith("child0001"):
                bad(f"{name}: pending_xml {pend}")
            if st["manifests"] != 300 + t["new_components"] or st["s256h_checked"] != st["manifests"] \
                    or st["files_missing"] != (t["new_components"] if pend else 0):
                bad(f"{name}: store {st}")
            if pend and (px is None or px.count(b"<HardlinkFile ") != t["new_components"]):
                bad(f"{name}: pending.xml does not queue the {t['new_components']} projections")
            if not pend and (px is not None or r["windows"]["ubr"] != t["ubr"]):
                bad(f"{name}: installed update: pending.xml present or UBR {r['windows']['ubr']}")
            if C["COMPONENTS"] == B["COMPONENTS"]:
                bad(f"{name}: COMPONENTS unchanged")
        elif C["COMPONENTS"] != B["COMPONENTS"]:
            bad(f"{name}: boot changed COMPONENTS")
    # every child is its own: whole disks, and (boot, patch) hives and page files
    for i in range(len(kids)):
        for j in range(i + 1, len(kids)):
            a, b = kids[i], kids[j]
            if a[3] == b[3]:
                bad(f"{prof}: children {i} and {j} are the same disk")
            if prof != "light" and (a[1]["SYSTEM"] == b[1]["SYSTEM"] or a[2] == b[2]):
                bad(f"{prof}: children {i} and {j} share SYSTEM.LOG1 or pagefile.sys")
    if fail == n0:
        ok(f"{prof}: children differ from the base where the profile says and from each other")
sys.exit(1 if fail else 0)
PY
[ $fail = 0 ] && rm -rf "$W"
exit $fail
