#!/bin/bash
# kill -9 at random points of a 100-disk sweep with -o, 20 times, each run
# resuming the last; then a final --resume.  Afterwards every disk is in
# the file exactly once, every line is valid JSON, the lines equal a
# one-shot sweep's (timings aside), the final exit status is the one-shot
# sweep's (it covers the whole file), and no libntfs-3g child outlived its
# killed parent.
. "$(dirname "$0")/lib.sh"
MF=${BSW_BINDIR}/datasets/mkfleet
[ -x "$MF" ] || skip "mkfleet not built"
"$MF" --out fleet --scale small --scenarios clean,pending-xml,driver-missing,system-dirty-badlog \
	--format raw > /dev/null 2>&1 || { fail "mkfleet"; finish; }
mkdir disks
i=0
for f in fleet/*.img; do
	for k in $(seq 1 25); do ln "$f" "disks/$(basename "$f" .img)-$k.img"; i=$((i + 1)); done
done
[ "$i" = 100 ] || { fail "$i disks, want 100"; finish; }
"$B" scan disks -j2 -o ref.jsonl --quiet
ref_rc=$?
ok "one-shot sweep: exit $ref_rc, $(wc -l < ref.jsonl) lines"

RANDOM=4242
for k in $(seq 1 20); do
	"$B" scan disks -j2 -o out.jsonl --resume --quiet 2>/dev/null &
	pid=$!
	sleep "0.$(( RANDOM % 6 ))$(( RANDOM % 10 ))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
ok "20 kills at random points; $(wc -l < out.jsonl 2>/dev/null || echo 0) lines so far"
sleep 1
left=$(pgrep -f "ntfs3g-verdict $W" | wc -l)
[ "$left" = 0 ] && ok "no ntfs3g-verdict child outlived its parent" || fail "$left ntfs3g-verdict children left"
"$B" scan disks -j2 -o out.jsonl --resume --quiet
rc=$?
[ "$rc" = "$ref_rc" ] && ok "final --resume: exit $rc, the one-shot sweep's" || fail "final exit $rc, one-shot $ref_rc"
python3 - out.jsonl ref.jsonl <<'PY' && ok "100 disks exactly once, valid JSONL, same results as one shot" || fail "resumed file differs"
import json, sys, collections
def load(p):
    rows = [json.loads(l) for l in open(p)]
    for r in rows:
        r.pop("timings_ms", None); r.pop("scan_start", None)
    return rows
out, ref = load(sys.argv[1]), load(sys.argv[2])
c = collections.Counter(r["image"] for r in out)
assert len(c) == 100 and set(c.values()) == {1}, c.most_common(3)
key = lambda r: r["image"]
a = sorted((json.dumps(r, sort_keys=True) for r in out))
b = sorted((json.dumps(r, sort_keys=True) for r in ref))
if a != b:
    for x, y in zip(a, b):
        if x != y:
            print(x[:300]); print(y[:300]); break
    sys.exit(1)
PY
finish
