#!/bin/bash
# Issue 11 "same answers" against changes made by other tools.  Children
# of one clean disk, each with 1-4 seeded writes (a byte pattern or
# zeros, 1 byte to 64 KiB) where sharing could go wrong: $MFT records
# (some inside a record's attributes, its fixups intact), directory index
# blocks, hive base blocks and bins, manifests and PE files, all found by
# their signatures in the base:
#   - qcow2 overlays made by qemu-img, written by qemu-io, clusters of
#     512 bytes to 64 KiB, some stacked on others (depth up to 4);
#   - VHD and VHDX differencing children made by mkimage --diff from a
#     written copy of the raw disk: a child holds exactly the 512-byte
#     sectors that changed, so a record or a hive page can be half the
#     child's and half the parent's.
# The plan comes from a fixed seed (BSW_SEED replays another).  The JSONL
# with sharing (parents first; children first at -j1; under a 1 MiB cache
# cap that evicts layers while disks use them) must equal the JSONL
# without, apart from timings, bytes read and the cache counters.
set -euo pipefail
BIN=${BSW_BIN:?}
MKFLEET=${BSW_BINDIR:?}/datasets/mkfleet
MKIMAGE=${BSW_BINDIR:?}/datasets/mkimage
SEED=${BSW_SEED:-20261202}
N=${BSW_CHILDREN:-24}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

"$MKFLEET" --out "$W/src" --scale small --format raw --scenarios clean > /dev/null
mkdir -p "$W/fam"
qemu-img convert -q -f raw -O qcow2 "$W/src/clean.img" "$W/fam/base.qcow2"

# the plan: one line per child, "child parent cluster_size write;write;..."
python3 - "$W/src/clean.img" "$SEED" "$N" "$W/plan.raw" > "$W/plan" <<'PY'
import random, sys
img, seed, n, raw_plan = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
NR_DIFF = 8
data = open(img, "rb").read()
sigs = (b"FILE0", b"INDX", b"regf", b"hbin", b"<?xml", b"MZ")
where = {s: [] for s in sigs}
for off in range(0, len(data), 1024):  # MFT records are 1 KiB apart
    head = data[off:off + 8]
    for s in sigs:
        if head.startswith(s) and (s == b"FILE0" or off % 4096 == 0):
            where[s].append(off)
kinds = [s for s in sigs if where[s]]
if len(kinds) < 5:
    sys.exit(f"the base has too few targets: {[(s, len(where[s])) for s in sigs]}")
rnd = random.Random(seed)
for i in range(n):
    parent = "base.qcow2"
    if i >= 4 and rnd.random() < 0.3:
        parent = "c%03d.qcow2" % rnd.randrange(i)
    writes = []
    for _ in range(rnd.randint(1, 4)):
        kind = rnd.choice(kinds)
        off = rnd.choice(where[kind])
        if kind == b"FILE0" and rnd.random() < 0.5:
            # inside the record's attributes, its fixups left intact: the
            # record stays valid and says something else (a size, a run)
            at = rnd.randrange(0x38, 0x3f0) & ~7
            if at % 512 > 496:
                at -= 16
            pat = "-P 0x%02x" % rnd.randrange(256)
            writes.append(f"write {pat} {off + at} {rnd.choice([1, 2, 4, 8])}")
            continue
        off += rnd.choice([0, 0, 512, 1024, rnd.randrange(512) * 8])
        length = rnd.choice([8, 64, 512, 4096, 65536])
        pat = rnd.choice(["-z", "-P 0x00", "-P 0xff", "-P 0x%02x" % rnd.randrange(256)])
        if pat == "-z":  # a zero write is whole sectors
            off -= off % 512
            length = max(512, length - length % 512)
        writes.append(f"write {pat} {off} {length}")
    # small clusters split MFT records and hive pages between the layers
    print("c%03d.qcow2" % i, parent, rnd.choice([512, 4096, 65536]), ";".join(writes))
    if i < NR_DIFF:  # and a VHD and a VHDX child with the same writes
        with open(raw_plan, "a") as f:
            print("c%03d" % i, ";".join(writes), file=f)
PY
while read -r child parent cluster writes; do
	qemu-img create -q -f qcow2 -F qcow2 -b "$parent" -o cluster_size="$cluster" "$W/fam/$child"
	args=()
	IFS=';' read -ra ws <<< "$writes"
	for w in "${ws[@]}"; do
		args+=(-c "$w")
	done
	qemu-io -f qcow2 "${args[@]}" "$W/fam/$child" > /dev/null
done < "$W/plan"

# VHD and VHDX children: the writes applied to a copy of the raw disk,
# then the sectors that differ written as a child of the base
for x in vhd vhdx; do
	mkdir -p "$W/fam/$x"
	"$MKIMAGE" --from-raw "$W/src/clean.img" --out "$W/fam/$x/base.$x" --format $x-dynamic
	while read -r child writes; do
		cp --sparse=always "$W/src/clean.img" "$W/child.raw"
		python3 - "$W/child.raw" "$writes" <<'PY'
import sys
path, writes = sys.argv[1], sys.argv[2]
with open(path, "r+b") as f:
    for w in writes.split(";"):
        _, pat, *rest = w.split()
        if pat == "-z":
            byte, (off, length) = 0, rest
        else:
            byte, (off, length) = int(rest[0], 16), rest[1:]
        f.seek(int(off))
        f.write(bytes([byte]) * int(length))
PY
		(cd "$W/fam/$x" && "$MKIMAGE" --diff --parent base.$x --locator ".\\base.$x" \
			--base-raw "$W/src/clean.img" --child-raw "$W/child.raw" --out "$child.$x")
	done < "$W/plan.raw"
done
rm -f "$W/child.raw"

find "$W/fam" \( -name '*.qcow2' -o -name '*.vhd' -o -name '*.vhdx' \) | sort > "$W/list"
sort -r "$W/list" > "$W/list.rev"
"$BIN" scan -q -j2 --no-share --from "$W/list" -o "$W/off.jsonl" || [ $? -lt 8 ]
"$BIN" scan -q -j2 --from "$W/list" -o "$W/on.jsonl" --stats-json "$W/on.stats" || [ $? -lt 8 ]
"$BIN" scan -q -j1 --from "$W/list.rev" -o "$W/rev.jsonl" || [ $? -lt 8 ]
# a cap far below the family's results: layers evicted while in use
"$BIN" scan -q -j2 --share-mem 1 --from "$W/list" -o "$W/small.jsonl" \
	--stats-json "$W/small.stats" || [ $? -lt 8 ]

python3 "$(dirname "$0")/compare.py" "$W/off.jsonl" "$W/on.jsonl" "$W/rev.jsonl" "$W/on.stats" \
	--kids /c0 --small "$W/small.jsonl" "$W/small.stats" || {
	echo "seed $SEED; the plan (qcow2: child parent cluster writes; VHD/VHDX: child writes):"
	cat "$W/plan" "$W/plan.raw"
	exit 1
}
