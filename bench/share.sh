#!/bin/bash
# Sharing across layers (issue 11, docs/sharing.md): a fleet of
# differencing children swept with sharing (the default) and without
# (--no-share), in turn in the same run, page cache dropped before each
# sweep.  Prints medians of REPS: wall time, bytes read per child and per
# disk, peak RSS, the cache's hit rate and evictions, and the ratio
# no-share / share of the wall times, pair by pair.
#
#   bash bench/share.sh DIR [REPS (default 3)] [JOBS (default 2)] [SHARE_MEM]
#
# DIR: mkfleet --children N output (a base and its children), or several
# families side by side.  Needs root (drop_caches).  BIN defaults to
# build/bootsweep; EXTRA adds scan options to both sweeps.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:?usage: bench/share.sh DIR [REPS] [JOBS] [SHARE_MEM]}
REPS=${2:-3}
JOBS=${3:-2}
MEM=${4:-}
BIN=${BIN:-$SRC/build/bootsweep}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
secs() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'; }

find -L "$DIR" -type f \( -name '*.vhd' -o -name '*.vhdx' -o -name '*.qcow2' -o -name '*.img' \) | sort > "$W/list"
n=$(wc -l < "$W/list")
[ "$n" -gt 0 ] || { echo "no images in $DIR"; exit 1; }

sweep() {	# $1 tag, then scan options
	local tag=$1
	shift
	drop
	/usr/bin/time -v "$BIN" scan --from "$W/list" -j "$JOBS" -q -o "$W/$tag.jsonl" \
		--stats-json "$W/$tag.stats" ${EXTRA:-} "$@" 2> "$W/time.txt" || true
	grep "Elapsed (wall" "$W/time.txt" | awk '{print $NF}' | secs >> "$W/$tag.wall"
	grep "Maximum resident" "$W/time.txt" | awk '{print $NF}' >> "$W/$tag.rss"
	python3 - "$W/$tag.jsonl" "$W/$tag.stats" >> "$W/$tag.fig" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
kids = [o for o in lines if len(o.get("chain", [])) > 1]
st = json.load(open(sys.argv[2]))["share"]
tot = st["hits"] + st["misses"]
print(sum(o.get("bytes_read", 0) for o in lines) / max(len(lines), 1),
      sum(o.get("bytes_read", 0) for o in kids) / max(len(kids), 1),
      len(kids), 100.0 * st["hits"] / tot if tot else 0, st["evictions"], st["peak"])
PY
}

for ((i = 0; i < REPS; i++)); do
	if [ -n "$MEM" ]; then sweep share --share-mem "$MEM"; else sweep share; fi
	sweep noshare --no-share
done
# the answers must not depend on sharing
python3 - "$W/share.jsonl" "$W/noshare.jsonl" <<'PY'
import json, sys
vol = {"timings_ms", "bytes_read", "scan_start"}
def load(p):
    return {o["image"]: {k: v for k, v in o.items() if k not in vol}
            for o in map(json.loads, open(p))}
a, b = load(sys.argv[1]), load(sys.argv[2])
bad = [i for i in a if a[i] != b.get(i)]
print("same answers with and without sharing: %s (%d disks%s)" %
      ("yes" if not bad and len(a) == len(b) else "NO", len(a),
       "" if not bad else ", first difference: " + bad[0]))
PY
for tag in share noshare; do
	w=$(median < "$W/$tag.wall"); r=$(median < "$W/$tag.rss")
	per=$(awk '{print $1}' "$W/$tag.fig" | median); kid=$(awk '{print $2}' "$W/$tag.fig" | median)
	nk=$(awk 'NR==1{print $3}' "$W/$tag.fig"); hit=$(awk '{print $4}' "$W/$tag.fig" | median)
	ev=$(awk '{print $5}' "$W/$tag.fig" | median); pk=$(awk '{print $6}' "$W/$tag.fig" | median)
	printf '%-8s %d disks (%s children), -j%s, medians of %d: %.1f s, %.1f MB read per disk, %.1f MB per child, peak RSS %.0f MiB, hit rate %.1f%%, %s layers evicted, cache peak %.0f MiB\n' \
		"$tag" "$n" "$nk" "$JOBS" "$REPS" "$w" "$(echo "$per" | awk '{print $1/1e6}')" \
		"$(echo "$kid" | awk '{print $1/1e6}')" "$(echo "$r" | awk '{print $1/1024}')" "$hit" "$ev" \
		"$(echo "$pk" | awk '{print $1/1048576}')"
done
paste "$W/noshare.wall" "$W/share.wall" | awk '{print $1 / $2}' | median |
	awk '{printf "ratio no-share / share (wall, pair by pair, median): %.2f\n", $1}'
