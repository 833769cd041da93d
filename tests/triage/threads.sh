#!/bin/bash
# The threaded paths, for the TSan tier (.ci/test --tier tsan) and as a
# determinism check of their own:
#  - scan's OpenMP loop over disks (and its progress thread, --progress) on
#    six small disks at -j1, -j2 and -j4: the same lines, byte for byte
#    (sorted by image: lines are written as disks finish);
#  - the NTFS reader's parallel $MFT parse (formats/ntfs/ntfs.c, taken at
#    8192 records or more, outside scan's own parallel loop) through
#    `check --json` and `info --json` of a medium disk (23,000 files) at
#    OMP_NUM_THREADS 1 and 2: identical output;
#  - the shard plan's parallel loop (scanner/shard.c): --plan at 1 and 2
#    threads gives the same parts.
# Disks are made once per mkfleet build in t-threads/.  Label slow: making
# the medium disk takes about a minute.
set -u
BIN=${BSW_BIN:?}
MKFLEET=${BSW_BINDIR:?}/datasets/mkfleet
W=${BSW_BINDIR}/t-threads
[ -x "$MKFLEET" ] || { echo "SKIP: mkfleet not built"; [ -n "${BSW_STRICT:-}" ] && exit 1; exit 77; }
fail=0
stamp=$(sha256sum < "$MKFLEET" | cut -d' ' -f1)
if [ "$(cat "$W/stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$W"
	mkdir -p "$W"
	"$MKFLEET" --out "$W/small" --scale small --seed 3 --format vhdx \
		--scenarios clean,compactos,pending-xml,half-rollback,kernel-torn,system-dirty-badlog \
		> "$W/mkfleet-small.log" 2>&1 || { echo "FAIL: mkfleet small"; tail -5 "$W/mkfleet-small.log"; exit 1; }
	"$MKFLEET" --out "$W/medium" --scale medium --seed 3 --format raw --scenarios kernel-torn \
		> "$W/mkfleet-medium.log" 2>&1 || { echo "FAIL: mkfleet medium"; tail -5 "$W/mkfleet-medium.log"; exit 1; }
	echo "$stamp" > "$W/stamp"
fi
norm() {	# sorted lines without the volatile fields
	python3 -c '
import json, sys
rows = []
for l in open(sys.argv[1]):
    o = json.loads(l)
    for k in ("timings_ms", "scan_start"):
        o.pop(k, None)
    rows.append(json.dumps(o, sort_keys=True))
print("\n".join(sorted(rows)))' "$1"
}

# 1. scan over disks
for j in 1 2 4; do
	"$BIN" scan "$W/small" -j$j --progress -o "$W/scan-j$j.jsonl" 2> "$W/scan-j$j.err"
	echo "exit $?" > "$W/scan-j$j.txt"
	norm "$W/scan-j$j.jsonl" >> "$W/scan-j$j.txt"
	[ "$(wc -l < "$W/scan-j$j.jsonl")" = 6 ] || { echo "FAIL: scan -j$j: want 6 lines"; fail=1; }
done
for j in 2 4; do
	cmp -s "$W/scan-j1.txt" "$W/scan-j$j.txt" && echo "ok   scan -j1 and -j$j agree" ||
		{ echo "FAIL: scan -j1 and -j$j differ"; diff "$W/scan-j1.txt" "$W/scan-j$j.txt" | head -5; fail=1; }
done

# 2. the parallel $MFT parse, outside scan
img=$W/medium/kernel-torn.img
for t in 1 2; do
	OMP_NUM_THREADS=$t "$BIN" check --json "$img" > "$W/check-t$t.json"
	echo "exit $?" >> "$W/check-t$t.json"
	OMP_NUM_THREADS=$t "$BIN" info --json "$img" > "$W/info-t$t.json"
	echo "exit $?" >> "$W/info-t$t.json"
done
grep -q '"NTFS-FIXUP"' "$W/check-t1.json" || { echo "FAIL: check: no NTFS-FIXUP on kernel-torn"; fail=1; }
for f in check info; do
	cmp -s "$W/$f-t1.json" "$W/$f-t2.json" && echo "ok   $f at 1 and 2 threads agree" ||
		{ echo "FAIL: $f at 1 and 2 threads differ"; fail=1; }
done
OMP_NUM_THREADS=2 "$BIN" scan "$img" "$W/small" -j2 -o "$W/scan-mixed.jsonl" --quiet
[ "$(wc -l < "$W/scan-mixed.jsonl")" = 7 ] || { echo "FAIL: scan of 7 disks: $(wc -l < "$W/scan-mixed.jsonl") lines"; fail=1; }

# 3. the shard plan
for t in 1 2; do
	OMP_NUM_THREADS=$t "$BIN" scan --plan --shards 3 "$W/small" "$img" > "$W/plan-t$t.txt"
	echo "exit $?" >> "$W/plan-t$t.txt"
done
grep -q '^exit 0$' "$W/plan-t1.txt" || { echo "FAIL: --plan exited non-zero"; tail -3 "$W/plan-t1.txt"; fail=1; }
cmp -s "$W/plan-t1.txt" "$W/plan-t2.txt" && echo "ok   --plan at 1 and 2 threads agree" ||
	{ echo "FAIL: --plan at 1 and 2 threads differ"; fail=1; }
exit $fail
