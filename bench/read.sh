#!/bin/bash
# Read-engine benchmark: bench_read (bsw_disk_read over io_uring) against
# fio (io_uring, 1 MiB, depth 16) on the same dynamic VHD and VHDX files,
# page cache warm and, when caches can be dropped, O_DIRECT cold; each with
# the disk's read-ahead ("ra") and without it ("nora", --no-readahead).
# The issue-11 row is "one disk --direct vs fio O_DIRECT": direct, ra.
#
#   bash bench/read.sh [SIZE_GiB (default 3)] [REPS (default 5)]
#   BSW_BENCH_CHUNKS="1M 4M 8M" bash bench/read.sh ...   (bench_read chunk
#   sizes to try; default 8M)
#
# Builds into build-bench (-DBSW_BENCH=ON, Release), makes a SIZE GiB raw
# with a non-zero pattern in 7 of every 8 blocks, converts it with mkimage,
# deletes the raw, measures, prints medians and ratios, and deletes its
# files.  Needs: cmake, fio, awk.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$SRC/build-bench
GIB=${1:-3}
REPS=${2:-5}
CHUNKS=${BSW_BENCH_CHUNKS:-8M}
W=${BSW_BENCH_DIR:-$B/read-bench}
SHA=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
export BSW_GIT_SHA=$SHA

cmake -S "$SRC" -B "$B" -DBSW_BENCH=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j2 --target bench_read mkimage >/dev/null
BR=$B/bench/bench_read
MK=$B/datasets/mkimage

mkdir -p "$W"
trap 'rm -rf "$W"' EXIT
cd "$W"

# The raw: a repeating text pattern, then one 2 MiB-aligned 2 MiB hole in
# every 16 MiB, so that 1 block in 8 stays zero (unallocated in the dynamic
# images, read as zeros without I/O by the engine).
echo "making a ${GIB} GiB raw" >&2
{ yes "bootsweep read bench $SHA" || true; } | head -c $((GIB << 30)) > disk.raw
for ((m = 14; m < GIB * 1024; m += 16)); do
	fallocate -p -o $((m << 20)) -l $((2 << 20)) disk.raw
done
"$MK" --from-raw disk.raw --out disk.vhd --format vhd-dynamic
"$MK" --from-raw disk.raw --out disk.vhdx --format vhdx-dynamic
rm -f disk.raw
sync

can_drop=0
if echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then can_drop=1; fi
drop() { if [ $can_drop = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# fio over the container file: bytes/s.  --invalidate=0: fio otherwise
# drops the file's cached pages first and the "warm" run reads the disk.
fio_run() {	# file direct
	fio --name=seq --filename="$1" --readonly --invalidate=0 --ioengine=io_uring --rw=read \
	    --bs=1M --iodepth=16 --iomem_align=4096 --direct="$2" \
	    --output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' '{ print $7 * 1024 }'	# field 7: read bandwidth, KiB/s
}

# bench_read: prints "virtual_Bps file_Bps"
br_run() {	# file chunk extra-args...
	local f=$1 c=$2
	shift 2
	"$BR" "$f" --chunk $c --depth 16 "$@" |
		sed -n 's/.*"bytes":\([0-9]*\),"file_bytes":\([0-9]*\),"seconds":\([0-9.]*\).*/\1 \2 \3/p' |
		awk '{ printf "%.0f %.0f\n", $1 / $3, $2 / $3 }'
}

declare -A R
for img in disk.vhd disk.vhdx; do
	for mode in warm direct; do
		[ $mode = direct ] && [ $can_drop = 0 ] && continue
		d=0
		args=()
		if [ $mode = direct ]; then d=1; args=(--direct); fi
		if [ $mode = warm ]; then cat $img > /dev/null; fi
		: > fio.txt
		for c in $CHUNKS; do for v in ra nora; do : > brv.$c.$v.txt; : > brf.$c.$v.txt; done; done
		# Interleaved, so that noise from other users hits all alike.
		for ((i = 0; i < REPS; i++)); do
			if [ $mode = direct ]; then drop; fi
			fio_run $img $d >> fio.txt
			for c in $CHUNKS; do
				for v in ra nora; do
					va=()
					[ $v = ra ] || va=(--no-readahead)
					if [ $mode = direct ]; then drop; fi
					read -r bv bf < <(br_run $img $c "${args[@]}" "${va[@]}")
					echo "$bv" >> brv.$c.$v.txt
					echo "$bf" >> brf.$c.$v.txt
				done
			done
		done
		R[$img.$mode.fio]=$(median < fio.txt)
		for c in $CHUNKS; do
			for v in ra nora; do
				R[$img.$mode.$c.$v.brv]=$(median < brv.$c.$v.txt)
				R[$img.$mode.$c.$v.brf]=$(median < brf.$c.$v.txt)
			done
		done
	done
done

printf '%-10s %-7s %-6s %-5s %9s %12s %12s %8s\n' image mode chunk ra fio_GB/s engine_file engine_virt ratio
for img in disk.vhd disk.vhdx; do
	for mode in warm direct; do
		[ -n "${R[$img.$mode.fio]:-}" ] || continue
		for c in $CHUNKS; do
			for v in ra nora; do
				fio_v=${R[$img.$mode.fio]} brf=${R[$img.$mode.$c.$v.brf]} brv=${R[$img.$mode.$c.$v.brv]}
				awk -v i=$img -v m=$mode -v k=$c -v ra=$v -v a="$fio_v" -v b="$brf" -v bv="$brv" 'BEGIN {
					printf "%-10s %-7s %-6s %-5s %9.3f %12.3f %12.3f %8.3f\n", i, m, k, ra, a/1e9, b/1e9, bv/1e9, b/a }'
				printf '{"bench":"read","sha":"%s","image":"%s","mode":"%s","chunk":"%s","readahead":%s,"GiB":%s,"reps":%s,"fio_Bps":%s,"engine_file_Bps":%s,"engine_virtual_Bps":%s}\n' \
					"$SHA" $img $mode $c "$([ $v = ra ] && echo true || echo false)" $GIB $REPS "$fio_v" "$brf" "$brv" >> "$B/bench-read.jsonl"
			done
		done
	done
done
# the issue-11 row: one disk, --direct, with read-ahead, vs fio O_DIRECT
for img in disk.vhd disk.vhdx; do
	[ -n "${R[$img.direct.fio]:-}" ] || continue
	for c in $CHUNKS; do
		awk -v i=$img -v k=$c -v a="${R[$img.direct.fio]}" -v b="${R[$img.direct.$c.ra.brf]}" -v n="${R[$img.direct.$c.nora.brf]}" 'BEGIN {
			printf "one disk --direct vs fio O_DIRECT (%s, chunk %s): %.3f (without read-ahead %.3f)\n", i, k, b/a, n/a }'
	done
done
echo "(medians of $REPS; ratio = engine file bytes/s / fio bytes/s; JSON lines appended to $B/bench-read.jsonl)"
[ $can_drop = 1 ] || echo "note: cannot drop caches here; O_DIRECT runs skipped"
