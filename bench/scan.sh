#!/bin/bash
# Hashing rates and a fleet sweep.
#   1. bench_hash (per core) beside `openssl speed -evp sha256` and `xxhsum -b`;
#   2. the fleet sweep: 1,000 differencing children over one realistic base
#      made by datasets/mkfleet when it is built (else the triage scenario
#      disks, repeated); wall time, disks/min, bytes read per disk, peak RSS
#      (/usr/bin/time -v).
# Usage: [SCALE=small|medium|realistic] bench/scan.sh [BUILD_DIR] [N_CHILDREN]
# (BUILD_DIR configured with -DBSW_BENCH=ON for bench_hash)
set -u
B=${1:-build}
N=${2:-1000}
BIN=$B/bootsweep
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$B/bench-scan
mkdir -p "$OUT"

echo "== hashing, one core =="
if [ -x "$B/bench/bench_hash" ]; then "$B/bench/bench_hash" 256; else echo "(build with -DBSW_BENCH=ON for bench_hash)"; fi
echo "-- openssl speed -evp sha256 (anchor) --"
openssl speed -seconds 1 -evp sha256 2>/dev/null | tail -2
echo "-- xxhsum -b (anchor) --"
if command -v xxhsum >/dev/null; then xxhsum -b -i1 2>&1 | tr '\r' '\n' | grep '#'; else echo "(xxhsum not installed)"; fi

echo "== fleet sweep =="
fleet=$OUT/fleet
if [ -x "$B/datasets/mkfleet" ]; then
	if [ ! -f "$fleet/truth.jsonl" ] || [ "$(wc -l < "$fleet/truth.jsonl")" != "$N" ]; then
		rm -rf "$fleet"
		"$B/datasets/mkfleet" --out "$fleet" --scale "${SCALE:-small}" --seed 1 \
			--scenarios clean,pending-xml,driver-missing,half-rollback --format vhdx --children "$N" >/dev/null
	fi
	list=$OUT/list
	find "$fleet" -type f \( -name '*.vhdx' -o -name '*.vhd' -o -name '*.img' -o -name '*.raw' \) | sort > "$list"
else
	acc=$B/triage-accuracy/raw
	[ -d "$acc" ] || python3 "$SRC/tests/triage/mkdisk.py" "$acc" >/dev/null
	list=$OUT/list
	: > "$list"
	for i in $(seq 1 "$N"); do ls "$acc"/*.img; done | head -n "$N" > "$list"
	echo "(mkfleet not built: sweeping $N entries over the triage scenario disks instead)"
fi
n=$(wc -l < "$list")
for j in 1 2; do
	rm -f "$OUT/results-j$j.jsonl"
	/usr/bin/time -v "$BIN" scan --from "$list" -j $j -o "$OUT/results-j$j.jsonl" --quiet 2> "$OUT/time-j$j.txt"
	wall=$(grep "Elapsed (wall" "$OUT/time-j$j.txt" | awk '{print $NF}')
	rss=$(grep "Maximum resident" "$OUT/time-j$j.txt" | awk '{print $NF}')
	python3 - "$OUT/results-j$j.jsonl" "$wall" "$rss" "$j" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
w = sys.argv[2].split(":")
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(w)))
br = sum(r.get("bytes_read", 0) for r in rows)
print("-j%s: %d disks in %.2f s = %.0f disks/min; %.2f MB read per disk; peak RSS %.1f MiB"
      % (sys.argv[4], len(rows), secs, len(rows) / secs * 60 if secs else 0,
         br / max(1, len(rows)) / 1e6, int(sys.argv[3]) / 1024))
PY
done
