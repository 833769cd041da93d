#!/bin/bash
# qcow2 and VMDK read throughput (issue 14), page cache warm:
#   1. `bootsweep cat IMG > /dev/null` against `qemu-img convert` of the
#      same image into QEMU's null-co block driver (qemu-img cannot write to
#      /dev/null: "Cannot grow device files"), for qcow2 (64 KiB clusters),
#      zlib-compressed qcow2, VMDK monolithicSparse and streamOptimized made
#      from one raw disk of SIZE MiB (half random, a quarter patterns, a
#      quarter zeros);
#   2. `bootsweep scan` of a realistic generated Windows disk (mkfleet
#      --scale realistic, one scenario) as raw and converted to qcow2.
# Prints one JSON line per pair with the medians of REPS runs (after one
# warm-up) and the ratio bootsweep/other (time, lower is better; the
# throughput ratio is its inverse).
#
#   bash bench/containers_qcow2_vmdk.sh [SIZE_MIB (default 2048)] [REPS (default 5)]
#
# BIN defaults to build/bootsweep, MKFLEET to build/datasets/mkfleet.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
SIZE=${1:-2048}
REPS=${2:-5}
BIN=${BIN:-$SRC/build/bootsweep}
MKFLEET=${MKFLEET:-$SRC/build/datasets/mkfleet}
W=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$W"' EXIT
SHA=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
command -v qemu-img >/dev/null || { echo "qemu-img missing"; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
wall() {	# wall CMD...: seconds of one run, output discarded
	local t0 t1
	t0=$(date +%s.%N)
	"$@" > /dev/null 2>&1 || true
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}
pair() {	# pair NAME BYTES -- A... -- B...: alternate A and B, medians and ratio
	local name=$1 bytes=$2 a=() b=() i
	shift 3
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	"${a[@]}" > /dev/null 2>&1 || true	# warm-up (page cache)
	"${b[@]}" > /dev/null 2>&1 || true
	: > "$W/a.t"; : > "$W/b.t"
	for ((i = 0; i < REPS; i++)); do
		wall "${a[@]}" >> "$W/a.t"
		wall "${b[@]}" >> "$W/b.t"
	done
	local ma mb
	ma=$(median < "$W/a.t")
	mb=$(median < "$W/b.t")
	printf '{"bench":"containers_qcow2_vmdk","git":"%s","case":"%s","bytes":%s,"reps":%s,"bootsweep_s":%s,"other_s":%s,"time_ratio":%.3f,"bootsweep_MBps":%.0f,"other_MBps":%.0f}\n' \
		"$SHA" "$name" "$bytes" "$REPS" "$ma" "$mb" "$(echo "$ma / $mb" | bc -l)" \
		"$(echo "$bytes / $ma / 1000000" | bc -l)" "$(echo "$bytes / $mb / 1000000" | bc -l)"
}
catimg() { "$BIN" cat "$1"; }

# --- 1. one raw disk in four containers ---------------------------------
if [ ! -f "$W/disk.raw" ]; then
	python3 - "$W/disk.raw" "$SIZE" <<'EOF'
import os, random, sys
path, mib = sys.argv[1], int(sys.argv[2])
r = random.Random(14)
chunk = 1 << 20
with open(path, 'wb') as f:
    for i in range(mib):
        k = i % 4
        if k < 2:
            f.write(r.randbytes(chunk))
        elif k == 2:
            f.write(bytes([i & 255, (i >> 8) & 255]) * (chunk // 2))
        else:
            f.write(bytes(chunk))
EOF
	qemu-img convert -f raw -O qcow2 "$W/disk.raw" "$W/disk.qcow2"
	qemu-img convert -c -f raw -O qcow2 "$W/disk.raw" "$W/disk-z.qcow2"
	qemu-img convert -f raw -O vmdk "$W/disk.raw" "$W/disk.vmdk"
	qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$W/disk.raw" "$W/disk-s.vmdk"
fi
bytes=$((SIZE << 20))
for img in disk.qcow2 disk-z.qcow2 disk.vmdk disk-s.vmdk; do
	pair "cat $img vs qemu-img convert" "$bytes" -- catimg "$W/$img" -- \
		qemu-img convert -n --target-image-opts "$W/$img" "driver=null-co,size=$bytes"
done

# --- 2. a realistic Windows disk: scan through qcow2 vs raw ----------------
if [ -x "$MKFLEET" ]; then
	if [ ! -d "$W/fleet" ]; then
		"$MKFLEET" --out "$W/fleet" --scale realistic --scenarios clean --format raw > /dev/null
		qemu-img convert -f raw -O qcow2 "$W/fleet/clean.img" "$W/clean.qcow2"
	fi
	rb=$(stat -c %s "$W/fleet/clean.img")
	pair "scan qcow2 vs scan raw (realistic disk)" "$rb" -- \
		"$BIN" scan "$W/clean.qcow2" -q -o "$W/q.jsonl" -- \
		"$BIN" scan "$W/fleet/clean.img" -q -o "$W/r.jsonl"
fi
