#!/bin/bash
# Issue 11 "same answers": the JSONL of a sweep with sharing (the default)
# and with --no-share must be identical apart from timings, bytes read and
# the cache counters, on fleets that exercise what sharing could get wrong:
#   - a base and differencing children (mkfleet --children, VHDX), whose
#     scenarios change hives, MFT records and WinSxS files in the child;
#   - a chain of depth 3 (qcow2: base <- child <- grandchild, each layer
#     with bytes of its own written over the Windows volume);
#   - a family whose parent is itself damaged (children of a disk with a
#     torn kernel record and of one with a corrupt SYSTEM hive);
#   - the same sweep run twice in one process order: base first and
#     children first (--from lists in both orders).
# It also checks that sharing happened (cache hits > 0) and that the
# children read fewer bytes with sharing than without.
set -euo pipefail
BIN=${BSW_BIN:?}
MKFLEET=${BSW_BINDIR:?}/datasets/mkfleet
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

"$MKFLEET" --out "$W/fam" --scale small --children 12 --format vhdx \
	--scenarios clean,hive-dirty-good-logs,kernel-torn,half-rollback,pending-xml,system-corrupt-nolog,driver-missing > /dev/null
"$MKFLEET" --out "$W/dmg" --scale small --format raw \
	--scenarios kernel-torn,system-corrupt-nolog,clean > /dev/null
mkdir -p "$W/chain"
# depth 3 over a clean disk, and children of the damaged disks
qemu-img convert -q -f raw -O qcow2 "$W/dmg/clean.img" "$W/chain/base.qcow2"
qemu-img create -q -f qcow2 -F qcow2 -b base.qcow2 "$W/chain/child.qcow2"
qemu-io -f qcow2 -c 'write -P 0x5a 40M 64k' "$W/chain/child.qcow2" > /dev/null
qemu-img create -q -f qcow2 -F qcow2 -b child.qcow2 "$W/chain/grandchild.qcow2"
qemu-io -f qcow2 -c 'write -P 0xa5 48M 64k' "$W/chain/grandchild.qcow2" > /dev/null
for d in kernel-torn system-corrupt-nolog; do
	qemu-img convert -q -f raw -O qcow2 "$W/dmg/$d.img" "$W/chain/$d-base.qcow2"
	for i in 1 2 3; do
		qemu-img create -q -f qcow2 -F qcow2 -b "$d-base.qcow2" "$W/chain/$d-c$i.qcow2"
	done
	qemu-io -f qcow2 -c 'write -P 0x33 44M 4k' "$W/chain/$d-c2.qcow2" > /dev/null
done

find "$W/fam" "$W/chain" -type f \( -name '*.vhdx' -o -name '*.qcow2' \) | sort > "$W/list"
sort -r "$W/list" > "$W/list.rev"

"$BIN" scan -q -j2 --no-share --from "$W/list" -o "$W/off.jsonl" || [ $? -lt 8 ]
"$BIN" scan -q -j2 --from "$W/list" -o "$W/on.jsonl" --stats-json "$W/on.stats" || [ $? -lt 8 ]
"$BIN" scan -q -j1 --from "$W/list.rev" -o "$W/rev.jsonl" || [ $? -lt 8 ]

python3 "$(dirname "$0")/compare.py" "$W/off.jsonl" "$W/on.jsonl" "$W/rev.jsonl" "$W/on.stats" \
	--kids /fam/child
