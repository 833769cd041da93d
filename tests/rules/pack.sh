#!/bin/bash
# The rule pack against mkfleet's rule scenarios (issue 16): every rule id
# truth.jsonl names for a disk matches, and no other; the verdicts still
# equal truth's class; the exit status carries bit 64 (a rule matched) and
# the verdict bits rules imply; --inventory lists packages in every CBS
# state and the boot-start drivers with size and SHA-256; `query` answers
# from the results (and says when they carry no inventory); --resume keeps
# the rule bits of the lines already written.
set -u
BIN=${BSW_BIN:?}
SRC=${BSW_SRCDIR:?}
MK=${BSW_BINDIR:?}/datasets/mkfleet
OUT=${BSW_BINDIR}/rules-pack
PACK=$SRC/rules/incidents.yaml
[ -x "$MK" ] || { echo "mkfleet not built"; exit 77; }
command -v python3 >/dev/null || { echo "missing python3"; exit 77; }
fail=0
bad() { echo "FAIL: $*"; fail=1; }

SC=clean,mbr-clean,pending-xml,pending-xml-no-id,pkg-partial,pkg-negative,driver-empty,crowdstrike-cf291-zero,crowdstrike-cf291-window,crowdstrike-cf291-good,pkg-each-state,pending-xml-fresh,driver-zero-filled,winre-unpatched,winre-patched,kb5074109-build
if [ ! -f "$OUT/fleet/truth.jsonl" ] || [ "$MK" -nt "$OUT/fleet/truth.jsonl" ]; then
	rm -rf "$OUT"
	mkdir -p "$OUT"
	"$MK" --out "$OUT/fleet" --seed 16 --scenarios $SC > "$OUT/mkfleet.log" 2>&1 ||
		{ cat "$OUT/mkfleet.log"; echo "mkfleet failed"; exit 1; }
fi
rm -f "$OUT"/*.jsonl

"$BIN" scan "$OUT/fleet" --rules "$PACK" --inventory -j2 -q -o "$OUT/res.jsonl"
rc=$?
[ $((rc & 64)) = 64 ] || bad "exit $rc: bit 64 (a rule matched) missing"
[ $((rc & 8)) = 0 ] || bad "exit $rc: operational error bit"
[ $((rc & 6)) = 6 ] || bad "exit $rc: want the rollback and unbootable bits"

PACK=$PACK python3 - "$OUT/fleet/truth.jsonl" "$OUT/res.jsonl" <<'PY' || fail=1
import json, os, sys
truth = {json.loads(l)["image"]: json.loads(l) for l in open(sys.argv[1]) if l.strip()}
res = {os.path.basename(json.loads(l)["image"]): json.loads(l) for l in open(sys.argv[2]) if l.strip()}
fail = 0
checked = 0
for img, t in sorted(truth.items()):
    r = res.get(img)
    if r is None:
        print("MISSING", img); fail += 1; continue
    if "rules" not in r:
        print("NO rules MEMBER", img); fail += 1; continue
    want = sorted(t["rules"]); got = sorted(m["id"] for m in r["rules"])
    if want != got:
        print("RULES %-28s want %s got %s" % (img, want, got)); fail += 1
    if r["verdict"] != t["class"]:
        print("VERDICT %-28s want %s got %s" % (img, t["class"], r["verdict"])); fail += 1
    for m in r["rules"]:
        if not m.get("evidence") or not m.get("label") or not m.get("source", "").startswith("http"):
            print("MATCH WITHOUT EVIDENCE/LABEL/SOURCE", img, m); fail += 1
    checked += 1
# every shipped rule is exercised by at least one disk
ids = {i for t in truth.values() for i in t["rules"]}
import re
pack = open(os.environ["PACK"]).read()
shipped = set(re.findall(r"(?m)^  - id: (\S+)", pack))
if shipped - ids:
    print("SHIPPED RULES NO SCENARIO EXERCISES:", sorted(shipped - ids)); fail += 1
# the inventory
e = res["pkg-each-state.img"]["inventory"]
states = {p["state"] for p in e["packages"]}
need = {"absent", "uninstall-pending", "resolving", "resolved", "staging", "staged", "superseded",
        "install-pending", "partially-installed", "installed", "permanent", "failed"}
if need - states:
    print("INVENTORY states missing:", sorted(need - states)); fail += 1
for name in ("clean.img", "driver-zero-filled.img"):
    inv = res[name]["inventory"]
    drv = {d["service"]: d for d in inv["boot_drivers"]}
    if len(drv) < 10 or any(len(d.get("sha256", "")) != 64 for d in drv.values()):
        print("INVENTORY boot drivers incomplete", name, len(drv)); fail += 1
    if inv["bcd"] is None or not any(b.get("default") for b in inv["bcd"]):
        print("INVENTORY no default BCD entry", name); fail += 1
z = {d["service"]: d for d in res["driver-zero-filled.img"]["inventory"]["boot_drivers"]}
if z["disk"].get("all_zero") is not True or z["disk"].get("size") != 9216 or z["acpi"].get("all_zero") is not False:
    print("INVENTORY zero-filled disk.sys not seen:", z["disk"], z["acpi"]); fail += 1
if res["empty-disk.img" if "empty-disk.img" in res else "clean.img"].get("inventory", 0) == 0:
    print("INVENTORY member missing"); fail += 1
print("rules: %d disks checked, %d failures" % (checked, fail))
sys.exit(1 if fail else 0)
PY

# without --rules: no "rules" member, no bit 64
"$BIN" scan "$OUT/fleet/clean.img" "$OUT/fleet/crowdstrike-cf291-zero.img" -q -o "$OUT/plain.jsonl"
rc=$?
[ $((rc & 64)) = 0 ] || bad "bit 64 without --rules (exit $rc)"
grep -q '"rules"' "$OUT/plain.jsonl" && bad "a rules member without --rules"
grep -q '"inventory"' "$OUT/plain.jsonl" && bad "an inventory member without --inventory"

# query on the results
q() { "$BIN" query "$@" 2>"$OUT/q.err"; }
got=$(q 'pkg:*=partially-installed' "$OUT/res.jsonl" | xargs -n1 basename | sort | tr '\n' ' ')
[ "$got" = "pkg-each-state.img pkg-partial.img " ] || bad "query partially-installed: '$got'"
got=$(q 'kb:5040003' "$OUT/res.jsonl" | wc -l)
[ "$got" -ge 15 ] || bad "query kb:5040003 (installed everywhere): $got disks"
got=$(q 'kb:5040003=failed' "$OUT/res.jsonl" | xargs -n1 basename | sort | tr '\n' ' ')
[ "$got" = "pkg-negative.img " ] || bad "query kb:5040003=failed: '$got'"
got=$(q 'pkg:KB5040014=failed' "$OUT/res.jsonl" | xargs -n1 basename | tr '\n' ' ')
[ "$got" = "pkg-each-state.img " ] || bad "query pkg:KB5040014=failed: '$got'"
got=$(q 'file:\Windows\System32\drivers\*.sys,zero and verdict:unbootable' "$OUT/res.jsonl" | xargs -n1 basename | sort | tr '\n' ' ')
[ "$got" = "driver-empty.img driver-zero-filled.img " ] || bad "query file zero: '$got'"
got=$(q 'rule:crowdstrike-cf291-zero' "$OUT/res.jsonl" --json | python3 -c 'import json,sys; print([json.loads(l)["image"].split("/")[-1] for l in sys.stdin])')
[ "$got" = "['crowdstrike-cf291-zero.img']" ] || bad "query rule: $got"
got=$(q 'code:BOOT-DRV and !rule:boot-driver-zero-filled' "$OUT/res.jsonl" | xargs -n1 basename | tr '\n' ' ')
[ "$got" = "driver-empty.img " ] || bad "query code and !rule: '$got'"
q 'kb:99999999' "$OUT/res.jsonl" >/dev/null; rc=$?
[ $rc = 1 ] || bad "query with no match: exit $rc, want 1"
# results without inventory: the error says so
q 'pkg:KB5040003' "$OUT/plain.jsonl" >/dev/null; rc=$?
[ $((rc & 8)) = 8 ] && grep -q 'scan --inventory' "$OUT/q.err" || bad "query without inventory: exit $rc, $(cat "$OUT/q.err")"
q 'reg:SYSTEM\Select\\Default=1' "$OUT/res.jsonl" >/dev/null; rc=$?
[ $rc = 16 ] && grep -q 'scan --query' "$OUT/q.err" || bad "query reg: exit $rc, $(cat "$OUT/q.err")"
q 'pkg:' "$OUT/res.jsonl" >/dev/null; [ $? = 16 ] || bad "query 'pkg:' not a usage error"
q 'foo:bar' "$OUT/res.jsonl" >/dev/null; [ $? = 16 ] || bad "query 'foo:bar' not a usage error"

# scan --query: the same language on the disks (a registry term)
"$BIN" scan "$OUT/fleet/winre-unpatched.img" "$OUT/fleet/clean.img" -q -o "$OUT/sq.jsonl" \
	--query 'reg:SOFTWARE\Microsoft\Windows NT\CurrentVersion\\WinREVersion=10.0.19041.3803'
rc=$?
[ $((rc & 64)) = 64 ] || bad "scan --query: exit $rc"
python3 -c '
import json, sys
r = {json.loads(l)["image"].split("/")[-1]: [m["id"] for m in json.loads(l)["rules"]] for l in open(sys.argv[1])}
assert r == {"winre-unpatched.img": ["query"], "clean.img": []}, r' "$OUT/sq.jsonl" || bad "scan --query matches"

# --resume: the rule bits of lines already written count
head -1 "$OUT/res.jsonl" > /dev/null
grep '"id":"boot-driver-zero-filled"' "$OUT/res.jsonl" > "$OUT/resume.jsonl"
"$BIN" scan "$OUT/fleet/driver-zero-filled.img" "$OUT/fleet/clean.img" --rules "$PACK" -q --resume -o "$OUT/resume.jsonl"
rc=$?
[ $((rc & 68)) = 68 ] || bad "--resume lost the rule bits of the line already there (exit $rc)"
[ "$(wc -l < "$OUT/resume.jsonl")" = 2 ] || bad "--resume: $(wc -l < "$OUT/resume.jsonl") lines"

# -j1 and -j2 give the same rules and inventory
"$BIN" scan "$OUT/fleet" --rules "$PACK" --inventory -j1 -q -o "$OUT/res1.jsonl"
strip() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l); print(json.dumps([o["image"], o.get("rules"), o.get("inventory")], sort_keys=True))' "$1" | sort; }
cmp -s <(strip "$OUT/res.jsonl") <(strip "$OUT/res1.jsonl") || bad "-j1 and -j2 rules/inventory differ"

# the report groups the matches by rule, with the disks each affects
"$BIN" report "$OUT/res.jsonl" -o "$OUT/report.html" || bad "report failed"
python3 - "$OUT/res.jsonl" "$OUT/report.html" <<'PY' || bad "report: rule counts differ from the lines"
import collections, json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
want = collections.Counter(m["id"] for r in rows for m in {x["id"]: x for x in (r.get("rules") or [])}.values())
page = open(sys.argv[2]).read()
got = {m.group(1): int(m.group(2)) for m in re.finditer(r"id='rc-([^']+)'>(\d+)<", page)}
assert got == dict(want), (got, dict(want))
print("report: %d rules grouped, disks per rule as in the lines" % len(got))
PY

[ $fail = 0 ] && echo "rules pack: PASS"
exit $fail
