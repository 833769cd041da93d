#!/bin/bash
# Accuracy over the scenario catalogue: small Windows-shaped disks made by
# mkdisk.py (raw, and VHDX copies made by qemu-img) in triage-disks/, which
# the fixture tests/triage/disks.sh makes (mkfleet's fleet is judged the
# same way by tests/triage/fleet.sh).  Every verdict must equal truth.jsonl's
# class and every truth code be reported; no faulty disk may be clean.
# Also: -j1 and -j2 give the same lines, and no image is modified.
set -u
BIN=${BSW_BIN:?}
SRC=${BSW_SRCDIR:?}
D=${BSW_BINDIR:?}/triage-disks	# made by tests/triage/disks.sh (fixture triage_disks)
OUT=${BSW_BINDIR}/triage-accuracy
[ -s "$D/truth.jsonl" ] || { echo "no disks in $D (the triage_disks fixture did not run or skipped)"; [ -n "${BSW_STRICT:-}" ] && exit 1; exit 77; }
rm -rf "$OUT"
mkdir -p "$OUT"

find "$D/raw" "$D/vhdx" -type f \( -name '*.img' -o -name '*.vhdx' \) -print0 | sort -z |
	xargs -0 stat -c '%n %Y' > "$OUT/mtime.before"
find "$D/raw" "$D/vhdx" -type f \( -name '*.img' -o -name '*.vhdx' \) -print0 | sort -z |
	xargs -0 sha256sum > "$OUT/sha.before"

fail=0
"$BIN" scan "$D/raw" "$D/vhdx" -j2 -o "$OUT/results-j2.jsonl" --quiet
rc=$?
[ $((rc & 8)) = 0 ] || { echo "operational error bit set (rc $rc)"; fail=1; }
[ $((rc & 7)) = 7 ] || { echo "exit bits $rc: want unassessable|rollback|unbootable"; fail=1; }
python3 "$SRC/tests/triage/check_truth.py" "$D/truth.jsonl" "$OUT/results-j2.jsonl" || fail=1

"$BIN" scan "$D/raw" "$D/vhdx" -j1 -o "$OUT/results-j1.jsonl" --quiet
strip() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l); o.pop("timings_ms", None); o.pop("scan_start", None); print(json.dumps(o, sort_keys=True))' "$1" | sort; }
if ! cmp -s <(strip "$OUT/results-j1.jsonl") <(strip "$OUT/results-j2.jsonl"); then
	echo "FAIL: -j1 and -j2 outputs differ"; diff <(strip "$OUT/results-j1.jsonl") <(strip "$OUT/results-j2.jsonl") | head -5; fail=1
fi

find "$D/raw" "$D/vhdx" -type f \( -name '*.img' -o -name '*.vhdx' \) -print0 | sort -z |
	xargs -0 stat -c '%n %Y' > "$OUT/mtime.after"
find "$D/raw" "$D/vhdx" -type f \( -name '*.img' -o -name '*.vhdx' \) -print0 | sort -z |
	xargs -0 sha256sum > "$OUT/sha.after"
cmp -s "$OUT/sha.before" "$OUT/sha.after" || { echo "FAIL: an image's SHA-256 changed"; fail=1; }
cmp -s "$OUT/mtime.before" "$OUT/mtime.after" || { echo "FAIL: an image's mtime changed"; fail=1; }
[ $fail = 0 ] && echo "accuracy: PASS ($(wc -l < "$D/truth.jsonl") disks)"
exit $fail
