#!/bin/bash
# Results kept across sweeps (scan --cache, issue 11 item 6, docs/sharing.md
# "Across runs"): the nightly sweep of a store whose base did not change.
# A first sweep with --cache DIR checks the base and the older children
# (all of them when NEW is every child: a base is kept for only when some
# disk of the sweep reads it as a parent); then the NEW newest children
# are swept alone (the base only as their
# parent, as a --resume of the store would), in turn without and with the
# cache, page cache dropped before each sweep (DROP=0: not dropped).
# Prints medians of REPS: wall time, bytes read, the cache's counters, and
# whether the answers were the same.
#
#   bash bench/cache.sh DIR [NEW (default: every child)] [REPS (default 3)] [JOBS (default 2)]
#
# DIR: mkfleet --children N output (base.* and child*).  Needs root to drop
# caches.  BIN defaults to build/bootsweep.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:?usage: bench/cache.sh DIR [NEW] [REPS] [JOBS]}
REPS=${3:-3}
JOBS=${4:-2}
BIN=${BIN:-$SRC/build/bootsweep}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

drop() { [ "${DROP:-1}" = 0 ] || { sync; echo 3 > /proc/sys/vm/drop_caches; }; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

find -L "$DIR" -maxdepth 1 -type f -name 'child*' \( -name '*.vhdx' -o -name '*.vhd' -o -name '*.qcow2' \) |
	sort > "$W/kids"
base=$(find -L "$DIR" -maxdepth 1 -type f -name 'base.*' | head -1)
nk=$(wc -l < "$W/kids")
NEW=${2:-$nk}
[ -n "$base" ] && [ "$nk" -gt 0 ] && [ "$NEW" -le "$nk" ] || { echo "want a base and children in $DIR"; exit 1; }
tail -n "$NEW" "$W/kids" > "$W/new"
{ echo "$base"; head -n $((nk - NEW)) "$W/kids"; } > "$W/old"
[ "$NEW" -lt "$nk" ] || cat "$W/kids" >> "$W/old"

# the first sweep: the base (and the older children), results kept
"$BIN" scan --from "$W/old" -j "$JOBS" -q -o /dev/null --cache "$W/cache" || [ $? -lt 8 ]

sweep() { # TAG, then scan options
	local tag=$1 t0 t1
	shift
	drop
	t0=$(date +%s.%N)
	"$BIN" scan --from "$W/new" -j "$JOBS" -q -o "$W/$tag.jsonl" --stats-json "$W/$tag.stats" \
		"$@" || [ $? -lt 8 ]
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc >> "$W/$tag.wall"
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["bytes_read"])' \
		"$W/$tag.stats" >> "$W/$tag.bytes"
}
for ((i = 0; i < REPS; i++)); do
	sweep nocache
	sweep cache --cache "$W/cache"
done
python3 - "$W/nocache.jsonl" "$W/cache.jsonl" <<'PY'
import json, sys
vol = {"timings_ms", "bytes_read", "scan_start"}
def load(p):
    return {o["image"]: {k: v for k, v in o.items() if k not in vol} for o in map(json.loads, open(p))}
a, b = load(sys.argv[1]), load(sys.argv[2])
print("same answers with and without --cache:", "yes" if a == b and a else "NO", f"({len(a)} disks)")
PY
python3 -c 'import json,sys; print("cache counters (last):", json.dumps(json.load(open(sys.argv[1]))["cache"]))' \
	"$W/cache.stats"
for tag in nocache cache; do
	printf '%-8s %d new children of %s, -j%s, medians of %d: %.1f s, %.1f MB read\n' "$tag" "$NEW" \
		"$(basename "$base")" "$JOBS" "$REPS" "$(median < "$W/$tag.wall")" \
		"$(median < "$W/$tag.bytes" | awk '{print $1/1e6}')"
done
