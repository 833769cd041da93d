#!/bin/bash
# Fleet sweep benchmark (issue 6): bootsweep scan over a directory of disks,
# page cache dropped before each run, against anchors measured in the same
# run:
#   - fio (io_uring, 1 MiB, depth 16) reading, from each image file, as
#     many bytes as bootsweep read from that disk (sequential from offset
#     0, all files in one group): the device's speed for the same volume;
#   - virt-inspector (libguestfs) on the first disk, once, when installed
#     (software emulation here: LIBGUESTFS_BACKEND_SETTINGS=force_tcg).
# Prints medians of REPS: wall time, disks/min, bytes read per disk, peak
# RSS, the throughput ratio to fio and the per-disk ratio to virt-inspector.
# On a directory of unrelated disks the fio ratio is issue 11's row
# "independent realistic disks vs fio reading the same bytes".
#
#   bash bench/fleet.sh DIR [REPS (default 3)] [JOBS (default 2)]
#   BIN_B=OTHER/bootsweep bash bench/fleet.sh ...   also sweeps with a second
#       binary in each repetition, in turn with BIN (A/B in one run; fio
#       reads BIN's byte counts)
#
# DIR: independent disks (mkfleet --scale realistic, one seed each) or a
# fleet of differencing children (mkfleet --children N).  Needs fio and
# root (drop_caches); BIN defaults to build/bootsweep.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:?usage: bench/fleet.sh DIR [REPS] [JOBS]}
REPS=${2:-3}
JOBS=${3:-2}
BIN=${BIN:-$SRC/build/bootsweep}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
SHA=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)

drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
secs() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'; }

find "$DIR" -maxdepth 1 -type f \( -name '*.img' -o -name '*.vhd' -o -name '*.vhdx' -o -name '*.raw' \) |
	sort > "$W/list"
n=$(wc -l < "$W/list")
[ "$n" -gt 0 ] || { echo "no images in $DIR"; exit 1; }

for ((i = 0; i < REPS; i++)); do
	if [ -n "${BIN_B:-}" ]; then
		drop
		/usr/bin/time -v "$BIN_B" scan --from "$W/list" -j "$JOBS" -q -o "$W/outb.jsonl" 2> "$W/timeb.txt" || true
		grep "Elapsed (wall" "$W/timeb.txt" | awk '{print $NF}' | secs >> "$W/b.wall"
		python3 -c 'import json,sys; print(sum(json.loads(l).get("bytes_read", 0) for l in open(sys.argv[1])))' \
			"$W/outb.jsonl" >> "$W/b.bytes"
	fi
	drop
	/usr/bin/time -v "$BIN" scan --from "$W/list" -j "$JOBS" -q -o "$W/out.jsonl" 2> "$W/time.txt" || true
	grep "Elapsed (wall" "$W/time.txt" | awk '{print $NF}' | secs >> "$W/bsw.wall"
	grep "Maximum resident" "$W/time.txt" | awk '{print $NF}' >> "$W/bsw.rss"
	# per image: bytes read (the fio job sizes), and the total
	python3 - "$W/out.jsonl" > "$W/bytes" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    print(o["image"], o.get("bytes_read", 0))
PY
	awk '{s += $2} END {print s}' "$W/bytes" >> "$W/bsw.bytes"
	# fio: the same number of bytes from each file (whole MiB, at least 1)
	{
		echo "[global]"
		echo "ioengine=io_uring"
		echo "rw=read"
		echo "bs=1M"
		echo "iodepth=16"
		echo "iomem_align=4096"
		echo "invalidate=0"
		echo "group_reporting"
		k=0
		while read -r img b; do
			fs=$(stat -c %s "$img")
			[ "$b" -le "$fs" ] || b=$fs	# a child reads its parents too
			mb=$(( b >> 20 ))
			[ $mb -gt 0 ] || mb=1
			echo "[f$k]"
			echo "filename=$img"
			echo "size=${mb}M"
			k=$((k + 1))
		done < "$W/bytes"
	} > "$W/fio.job"
	if [ "${BSW_BENCH_NO_FIO:-0}" = 1 ]; then continue; fi
	drop
	fio --readonly --output-format=json "$W/fio.job" > "$W/fio.json" 2>/dev/null
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]["read"]; print(j["io_bytes"] / (j["runtime"] / 1000.0))' \
		"$W/fio.json" >> "$W/fio.Bps"
done
python3 - "$W/out.jsonl" <<'PY' > "$W/verdicts"
import collections, json, sys
c = collections.Counter(json.loads(l)["verdict"] for l in open(sys.argv[1]))
print(" ".join("%s %d" % kv for kv in sorted(c.items())))
PY

wall=$(median < "$W/bsw.wall")
rss=$(median < "$W/bsw.rss")
bytes=$(median < "$W/bsw.bytes")
fio=0
[ ! -f "$W/fio.Bps" ] || fio=$(median < "$W/fio.Bps")
printf 'fleet %s: %d disks (%s), -j%s, medians of %d, page cache dropped before each run\n' \
	"$DIR" "$n" "$(cat "$W/verdicts")" "$JOBS" "$REPS"
awk -v w="$wall" -v n="$n" -v b="$bytes" -v r="$rss" -v f="$fio" 'BEGIN {
	printf "bootsweep: %.1f s, %.0f disks/min, %.1f MB read per disk, %.2f GB/s, peak RSS %.0f MiB\n",
		w, n / w * 60, b / n / 1e6, b / w / 1e9, r / 1024
	if (f > 0)
		printf "fio (io_uring, same bytes per file): %.2f GB/s; ratio bootsweep/fio %.2f\n",
			f / 1e9, (b / w) / f
	if (f > 0)
		printf "independent realistic disks vs fio reading the same bytes: %.2f (when DIR holds unrelated disks)\n",
			(b / w) / f
}'
if [ -n "${BIN_B:-}" ]; then
	wb=$(median < "$W/b.wall")
	bb=$(median < "$W/b.bytes")
	awk -v w="$wb" -v b="$bb" -v n="$n" -v f="$fio" -v wa="$wall" -v bin="$BIN_B" 'BEGIN {
		printf "BIN_B (%s): %.1f s, %.1f MB read per disk, %.2f GB/s", bin, w, b / n / 1e6, b / w / 1e9
		if (f > 0)
			printf "; ratio to fio %.2f", (b / w) / f
		printf "; wall BIN_B / BIN %.2f\n", w / wa
	}'
fi
tag="\"bench\":\"fleet\",\"sha\":\"$SHA\",\"dir\":\"$DIR\",\"disks\":$n,\"jobs\":$JOBS,\"reps\":$REPS"
vi=""
if command -v virt-inspector >/dev/null && [ "${BSW_BENCH_NO_GUESTFS:-0}" = 0 ]; then
	first=$(head -1 "$W/list")
	drop
	t0=$(date +%s.%N)
	LIBGUESTFS_BACKEND_SETTINGS=force_tcg virt-inspector -a "$first" > "$W/vi.xml" 2> "$W/vi.err" || true
	t1=$(date +%s.%N)
	drop
	t2=$(date +%s.%N)
	"$BIN" scan "$first" -j1 -q -o "$W/one.jsonl" || true
	t3=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v os="$(grep -c '<operatingsystem>' "$W/vi.xml" || true)" 'BEGIN {
		printf "virt-inspector (TCG) on the first disk: %.1f s (%s operating system(s) found); bootsweep on it: %.2f s; ratio %.0fx\n",
			b - a, os, d - c, (b - a) / (d - c) }'
	vi=$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN { printf ",\"virt_inspector_s\":%.2f,\"bootsweep_one_s\":%.3f", b - a, d - c }')
fi
printf '{%s,"wall_s":%s,"bytes":%s,"peak_rss_kib":%s,"fio_Bps":%s%s}\n' "$tag" "$wall" "$bytes" "$rss" "$fio" "$vi" \
	>> "$SRC/build/bench-fleet.jsonl"
