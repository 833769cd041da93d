#!/bin/bash
# Cost of rules (issue 16): bootsweep scan over DIR without rules, and with
# the whole shipped pack (rules/incidents.yaml) plus --inventory, in turn
# (A B A B ..., after one warm-up of each, page cache warm), so both see
# the same machine.  Prints the median wall time of each, the ratio of the
# medians and the median of the pairwise ratios; the issue's bound is 1.05.
#
#   bash bench/rules.sh DIR [PAIRS (default 5)] [JOBS (default 2)]
#
# DIR: e.g. mkfleet --out DIR --scale realistic --format vhdx --children 8.
# BIN defaults to build/bootsweep.  Needs GNU time (/usr/bin/time).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:?usage: bench/rules.sh DIR [PAIRS] [JOBS]}
PAIRS=${2:-5}
JOBS=${3:-2}
BIN=${BIN:-$SRC/build/bootsweep}
PACK=${PACK:-$SRC/rules/incidents.yaml}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
SHA=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
run() {	# LABEL ARGS...: one sweep, its wall seconds appended to $W/LABEL
	local l=$1
	shift
	/usr/bin/time -f %e -o "$W/t" "$BIN" scan "$DIR" -j "$JOBS" -q -o "$W/$l.jsonl" "$@" || true
	cat "$W/t" >> "$W/$l"
}
run warm
run warm --rules "$PACK" --inventory
: > "$W/warm"
for ((i = 0; i < PAIRS; i++)); do
	run plain
	run rules --rules "$PACK" --inventory
	paste -d' ' <(tail -1 "$W/plain") <(tail -1 "$W/rules") | awk '{print $2 / $1}' >> "$W/ratio"
done
n=$(wc -l < "$W/plain.jsonl")
m=$(grep -c '"rules":\[{' "$W/rules.jsonl" || true)
a=$(median < "$W/plain")
b=$(median < "$W/rules")
r=$(median < "$W/ratio")
printf '{"bench":"rules","sha":"%s","disks":%s,"disks_matched":%s,"pairs":%s,"jobs":%s,"plain_s":%s,"rules_s":%s,"ratio_of_medians":%.4f,"median_ratio":%.4f}\n' \
	"$SHA" "$n" "$m" "$PAIRS" "$JOBS" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {print b / a}')" "$r"
