#!/bin/bash
# NTFS peer benchmark: bootsweep's reader (bench_ntfs) and libntfs-3g through
# bootsweep's binding (bench_ntfs3g) beside fio (io_uring, the $MFT bytes),
# ntfsls -R (libntfs-3g's own tool), TSK fls -r -p and fsntfsinfo -H, on one
# realistic Windows volume (>= 300,000 MFT records) as raw, dynamic VHD and
# VHDX.  Medians of REPS runs with a warm page cache, then one cold run of
# each where /proc/sys/vm/drop_caches is writable.
#
# usage: bench/ntfs.sh BUILD_DIR [WORK_DIR]
#   BUILD_DIR  configured with -DBSW_BENCH=ON (bench_ntfs, bench_ntfs3g);
#              mkfleet is taken from BUILD_DIR/datasets or $MKFLEET
#   REPS=5 (env) repetitions; SKIP_SLOW=1 skips fsntfsinfo -H
set -u
B=${1:?usage: ntfs.sh BUILD_DIR [WORK_DIR]}
W=${2:-$B/bench-ntfs}
REPS=${REPS:-5}
MKFLEET=${MKFLEET:-$B/datasets/mkfleet}
mkdir -p "$W"
for t in "$B/bench/bench_ntfs" "$B/bench/bench_ntfs3g"; do
	[ -x "$t" ] || { echo "missing $t (configure with -DBSW_BENCH=ON)"; exit 1; }
done

# 1. the volume: mkfleet's realistic clean Windows disk, its NTFS partition
#    copied out sparse (ntfsls, fls and fsntfsinfo take a bare volume)
VOL=$W/vol.raw
if [ ! -s "$VOL" ]; then
	img=$(ls "$W"/fleet/*.img "$W"/fleet/*.raw 2>/dev/null | head -1)
	if [ -z "$img" ]; then
		[ -x "$MKFLEET" ] || { echo "no mkfleet at $MKFLEET"; exit 1; }
		"$MKFLEET" --out "$W/fleet" --scale realistic --scenarios clean ||
			exit 1
		img=$(ls "$W"/fleet/*.img "$W"/fleet/*.raw 2>/dev/null | head -1)
	fi
	# the largest partition of type Microsoft basic data / NTFS
	read -r start size < <(sfdisk -J "$img" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
ss = t.get("sectorsize", 512)
p = max(t["partitions"], key=lambda p: p["size"])
print(p["start"] * ss, p["size"] * ss)')
	dd if="$img" of="$VOL.tmp" bs=4M iflag=skip_bytes,count_bytes \
		skip="$start" count="$size" conv=sparse status=none &&
		mv "$VOL.tmp" "$VOL" || exit 1
fi
[ -s "$W/vol.vhd" ] || qemu-img convert -f raw -O vpc -o subformat=dynamic "$VOL" "$W/vol.vhd"
[ -s "$W/vol.vhdx" ] || qemu-img convert -f raw -O vhdx "$VOL" "$W/vol.vhdx"

# $MFT position and length: BPB 0x30 (LCN), cluster size from 0x0B * 0x0D;
# length from the $MFT record's $DATA via ntfsinfo (data size)
bpb=$(od -An -tu1 -N 80 "$VOL" | tr -s ' \n' ' ')
set -- $bpb
bps=$(( ${12} + ${13} * 256 ))
spc=${14}
mftlcn=0
for i in 0 1 2 3 4 5 6 7; do
	eval b=\${$((49 + i))}
	mftlcn=$(( mftlcn + b * (1 << (8 * i)) ))
done
clus=$((bps * spc))
mftoff=$((mftlcn * clus))
mftlen=$(ntfsinfo -F '$MFT' "$VOL" 2>/dev/null |
	awk '/^Dumping attribute \$DATA/ {d = 1} d && /Data size:/ {print $3; exit}')
[ -n "$mftlen" ] || mftlen=$(( 320 << 20 ))
echo "volume $VOL: $(du -h --apparent-size "$VOL" | cut -f1) ($(du -h "$VOL" | cut -f1) on disk), cluster $clus, \$MFT at $mftoff, $mftlen bytes"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; }
COLD=0
drop && COLD=1

declare -A WARM CLD
run() {		# run NAME CMD...: median warm wall seconds of the process, then one cold run
	local name=$1; shift
	"$@" >/dev/null 2>&1	# warm up
	WARM[$name]=$(for i in $(seq "$REPS"); do secs "$@"; done | median)
	if [ $COLD = 1 ]; then drop; CLD[$name]=$(secs "$@"); else CLD[$name]=-; fi
	printf '%-28s warm %8.3f s   cold %s\n' "$name" "${WARM[$name]}" "${CLD[$name]}"
}

FIO=(fio --name=mft --filename="$VOL" --ioengine=io_uring --rw=read
	--bs=1M --iodepth=16 --offset="$mftoff" --size="$mftlen" --direct=0)
run fio-mft "${FIO[@]}"
# fio's own runtime (no process start-up, no file layout): the read anchor
WARM[fio-runtime]=$(for i in $(seq "$REPS"); do "${FIO[@]}" --output-format=json 2>/dev/null |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["jobs"][0]["read"]["runtime"] / 1000)'; done | median)
printf '%-28s warm %8.3f s   (fio runtime, %.0f MB/s)\n' fio-runtime "${WARM[fio-runtime]}" \
	"$(echo "$mftlen / ${WARM[fio-runtime]} / 1000000" | bc -l)"
# --mem-rounds 0: the process time is the open (MFT read + parse + namespace)
run bench_ntfs-raw "$B/bench/bench_ntfs" "$VOL" --mem-rounds 0
run bench_ntfs-raw-checks "$B/bench/bench_ntfs" "$VOL" --mem-rounds 0 --checks
run bench_ntfs-vhd "$B/bench/bench_ntfs" "$W/vol.vhd" --mem-rounds 0
run bench_ntfs-vhdx "$B/bench/bench_ntfs" "$W/vol.vhdx" --mem-rounds 0
run bench_ntfs3g-raw "$B/bench/bench_ntfs3g" "$VOL"
run bench_ntfs3g-vhdx "$B/bench/bench_ntfs3g" "$W/vol.vhdx"
run ntfs3g-verdict "$B/bench/bench_ntfs3g" "$VOL" --verdict
run ntfsls-R ntfsls -R -a "$VOL"
run ntfsls-R-l ntfsls -R -a -l "$VOL"
run fls-r-p fls -r -p "$VOL"
[ "${SKIP_SLOW:-0}" = 1 ] || run fsntfsinfo-H fsntfsinfo -H "$VOL"

echo "one run each, JSON:"
"$B/bench/bench_ntfs" "$VOL"
"$B/bench/bench_ntfs" "$W/vol.vhdx"
"$B/bench/bench_ntfs3g" "$VOL"
"$B/bench/bench_ntfs3g" "$VOL" --verdict
echo "names: ntfsls -R -a $(ntfsls -R -a "$VOL" 2>/dev/null | wc -l) lines, fls -r -p $(fls -r -p "$VOL" 2>/dev/null | wc -l) lines"

echo "ratios (warm; tool time / bench_ntfs-raw time):"
base=${WARM[bench_ntfs-raw]}
for k in fio-mft fio-runtime ntfs3g-verdict bench_ntfs-raw-checks bench_ntfs-vhd bench_ntfs-vhdx bench_ntfs3g-raw bench_ntfs3g-vhdx ntfsls-R ntfsls-R-l fls-r-p fsntfsinfo-H; do
	[ -n "${WARM[$k]:-}" ] || continue
	printf '  %-20s %8.2fx\n' "$k" "$(echo "${WARM[$k]} / $base" | bc -l)"
done
