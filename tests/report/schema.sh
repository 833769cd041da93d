#!/bin/bash
# Every JSON object a command prints validates against its schema in
# docs/schema/ (Debian's python3-jsonschema, tests/scripts/validate_json.py):
# scan's lines (with --inventory and --rules, and the error lines of paths
# that cannot be opened), merge's output, info --json (an image that cannot
# be opened included), check --json (clean, damaged, encrypted, error),
# hive --json (clean, unrecoverable, not a hive) and diff --json.  The
# schemas refuse unknown members, so a renamed field fails (shown here for
# each schema).  And a finding has one text line and one JSON object,
# whichever command prints it (scanner/report.c).
set -u
B=${BSW_BIN:?}
SRC=${BSW_SRCDIR:?}
MF=${BSW_BINDIR:?}/datasets/mkfleet
W=${BSW_BINDIR}/t-schema
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
[ -x "$MF" ] || { echo "mkfleet not built"; exit 77; }
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
	{ echo "FAIL python3-jsonschema is not installed (.ci/setup installs it)"; exit 1; }
V() { /usr/bin/python3 "$SRC/tests/scripts/validate_json.py" "$@"; }
# valid SCHEMA FILE WHAT: the file holds objects and every one is valid
valid() {
	local out
	out=$(V "$1" "$2" 2>&1) && ok "$3: ${out##*: }" || { bad "$3"; printf '%s\n' "$out"; }
}
# refused SCHEMA FILE SED WHAT: the file, edited, must not validate
refused() {
	sed "$3" "$2" > edited.jsonl
	cmp -s "$2" edited.jsonl && { bad "$4: the edit changed nothing"; return; }
	V "$1" edited.jsonl > /dev/null 2>&1 && bad "$4: accepted" || ok "$4: refused"
}

"$MF" --out fleet --scale small --format raw \
	--scenarios clean,pending-xml,driver-missing,system-dirty-badlog,bitlocker,empty-disk,gpt-primary-damaged,mbr-clean \
	> /dev/null 2>&1 || { echo "mkfleet failed"; exit 1; }
"$MF" --out vfleet --scale small --format vhdx --children 1 --scenarios clean > /dev/null 2>&1 ||
	{ echo "mkfleet vhdx failed"; exit 1; }

V --schemas > s.txt 2>&1 && ok "docs/schema: every schema valid, every \$ref resolves" || { bad "schemas"; cat s.txt; }

# scan: results, error lines (a FIFO is not opened, a missing path), inventory, rules
mkfifo fifo.img
: > empty.img
"$B" scan fleet vfleet fifo.img missing.img empty.img -j2 -o r1.jsonl --quiet --stats-json stats.json
"$B" scan fleet vfleet -j2 --inventory --rules "$SRC/rules/incidents.yaml" --query code:BOOT-DRV \
	-o r2.jsonl --quiet
[ "$(grep -c '"error":"\(not a regular file or block device\|No such file or directory\|an empty file\)"' r1.jsonl)" = 3 ] ||
	bad "scan: no error lines for the FIFO, the missing path and the empty file"
grep -q '"inventory":{' r2.jsonl && grep -q '"rules":\[{' r2.jsonl || bad "scan: no inventory or matched rule"
valid bootsweep.disk/1 r1.jsonl "scan (error lines of a FIFO, a missing and an empty image included)"
valid bootsweep.disk/1 r2.jsonl "scan --inventory --rules --query"
refused bootsweep.disk/1 r1.jsonl 's/"identity_ok"/"identity_match"/' "disk line with a chain member renamed"
valid bootsweep.stats/1 stats.json "scan --stats-json"
refused bootsweep.stats/1 stats.json 's/"evictions"/"evicted"/' "stats with a share member renamed"
"$B" scan vfleet -j2 -o /dev/null --quiet --cache cachedir --stats-json stats-cache.json
grep -q '"cache":{' stats-cache.json || bad "scan --cache: no cache counters"
valid bootsweep.stats/1 stats-cache.json "scan --cache --stats-json"
refused bootsweep.stats/1 stats-cache.json 's/"mismatched"/"mismatches"/' "stats with a cache member renamed"
refused bootsweep.disk/1 r1.jsonl '0,/"computer_name"/s//"hostname"/' "disk line with a windows member renamed"

# merge: the parts of a sharded sweep joined
"$B" scan fleet vfleet --shard 0/2 -o p0.jsonl --quiet
"$B" scan fleet vfleet --shard 1/2 -o p1.jsonl --quiet
"$B" merge m.jsonl p0.jsonl p1.jsonl --quiet
[ "$(wc -l < m.jsonl)" = "$(grep -c '"image":"[^"]*/[v]*fleet/' r1.jsonl)" ] ||
	bad "merge: $(wc -l < m.jsonl) lines"
valid bootsweep.disk/1 m.jsonl "merge"

# info --json: every image, one that does not exist, one that is empty
imgs="fleet/*.img vfleet/child0000-clean.vhdx vfleet/base.vhdx"
# shellcheck disable=SC2086
"$B" info --json $imgs missing.img empty.img > info.jsonl 2> /dev/null
[ "$(wc -l < info.jsonl)" = "$(echo $imgs missing.img empty.img | wc -w)" ] || bad "info --json: $(wc -l < info.jsonl) lines"
grep -q '"error":' info.jsonl || bad "info --json: no error object"
valid bootsweep.info/1 info.jsonl "info --json (an error object included)"
refused bootsweep.info/1 info.jsonl 's/"container_id"/"id"/' "info with a layer's container_id called id"
refused bootsweep.info/1 info.jsonl 's/"index":1,"scheme":"gpt"/"index":1/' "info with a partition's scheme missing"

# check --json: clean, damaged, encrypted, error
# shellcheck disable=SC2086
"$B" check --json $imgs missing.img > check.jsonl 2> /dev/null
"$B" info --check --json fleet/clean.img >> check.jsonl 2> /dev/null
for st in clean encrypted error; do
	grep -q "\"state\":\"$st\"" check.jsonl || bad "check --json: no $st object"
done
valid bootsweep.check/1 check.jsonl "check --json"
refused bootsweep.check/1 check.jsonl 's/"severity"/"level"/' "check with a finding's severity renamed"

# hive --json: clean, unrecoverable (a bad log), dirty without logs, not a hive
"$B" cat fleet/clean.img --path '\Windows\System32\config\SYSTEM' > SYSTEM
"$B" cat fleet/system-dirty-badlog.img --path '\Windows\System32\config\SYSTEM' > BAD
"$B" cat fleet/system-dirty-badlog.img --path '\Windows\System32\config\SYSTEM.LOG1' > BAD.LOG1
head -c 8192 /dev/zero > junk
for h in SYSTEM BAD junk; do "$B" hive --json "$h"; done > hive.jsonl 2> /dev/null
"$B" hive --json --no-logs BAD >> hive.jsonl 2> /dev/null
[ "$(wc -l < hive.jsonl)" = 4 ] && grep -q '"state":"unrecoverable","logs":\["[^"]*BAD.LOG1"\]' hive.jsonl &&
	grep -q '"state":"not a hive"' hive.jsonl || bad "hive --json: $(cut -c1-80 hive.jsonl)"
valid bootsweep.hive/1 hive.jsonl "hive --json"
refused bootsweep.hive/1 hive.jsonl 's/"logs"/"log_files"/' "hive with logs renamed"

# diff --json
"$B" diff r1.jsonl r2.jsonl --json > d.json
valid bootsweep.diff/1 d.json "diff --json"
# query: the disks of finished results (with inventory) matching a condition
"$B" query code:BOOT-DRV r2.jsonl --json > q.jsonl 2> /dev/null || true
[ -s q.jsonl ] || bad "query --json printed nothing"
valid bootsweep.query/1 q.jsonl "query --json"
refused bootsweep.query/1 q.jsonl 's/"evidence"/"why"/' "query line with a member renamed"

# every top-level object: "schema" and "version" last
python3 - r1.jsonl info.jsonl check.jsonl hive.jsonl <<'PY' && ok "every object ends with schema and version" || bad "schema/version"
import json, sys
for p in sys.argv[1:]:
    for l in open(p):
        k = list(json.loads(l))
        if k[-1] == "scan_start":
            k.pop()
        assert k[-2:] == ["schema", "version"], (p, k)
PY

# one finding, one text line and one JSON object, from every command
g=fleet/gpt-primary-damaged.img
"$B" info "$g" | grep ' PART-GPT ' > info.txt
"$B" check "$g" | grep ' PART-GPT ' > check.txt
[ "$(wc -l < info.txt)" = 1 ] && cmp -s info.txt check.txt && grep -q "^$g: warning PART-GPT -: primary GPT is damaged" info.txt &&
	ok "info and check print the same finding line: $(cut -c1-70 info.txt)..." ||
	bad "finding text differs: info '$(cat info.txt)' check '$(cat check.txt)'"
python3 - "$g" r1.jsonl info.jsonl check.jsonl <<'PY' && ok "scan, info --json and check --json give the same finding object" || bad "finding JSON differs"
import json, sys
img = sys.argv[1]
seen = []
for p in sys.argv[2:]:
    for l in open(p):
        if img in l:
            o = json.loads(l)
            seen.append([f for f in o["findings"] if f["code"] == "PART-GPT"])
assert len(seen) == 3 and seen[0] and seen[0] == seen[1] == seen[2], seen
PY
"$B" hive --no-logs BAD | sed -n 2p > hive.txt
grep -q "^BAD: error REG-HBIN -: " hive.txt && ok "hive prints findings the same way: $(cut -c1-60 hive.txt)..." ||
	bad "hive text: $(cat hive.txt)"
exit $fail
