#!/usr/bin/env bash
# Findings reported before an I/O error stay; only those after it go.
# kernel-torn (ntoskrnl.exe's MFT record torn: NTFS-FIXUP in the NTFS
# stage, BOOT-CORE in the boot stage) with EIO in a WinSxS manifest, read
# later by the WinSxS stage: unassessable, decided by DISK-IO, and both
# earlier findings still listed.  EIO on the first MiB instead (read before
# anything): DISK-IO alone.
. "$(dirname "$0")/lib.sh"
. "$BSW_SRCDIR/tests/hostile/eio_common.inc"
gen "$W/d" --scenarios kernel-torn --format raw
img=$W/d/kernel-torn.img
s=$(( $(part_start "$img") / 512 ))
man=$(fls -o "$s" -p -r "$img" | awk -F'\t' '/Manifests\/.*\.manifest$/ { print $2; exit }')
off=$(file_off "$img" "/$man") || { fail "cannot locate a manifest"; finish; }

ff_mount "$W/d"
scan_ff kernel-torn.img
codes() { python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).readline())
print(d["verdict"], ",".join(d["decided_by"]), ",".join(sorted(f["code"] for f in d["findings"])))' "$1"; }
got=$(codes "$W/kernel-torn.img.json")
[ "$got" = "unbootable BOOT-CORE,NTFS-FIXUP BOOT-CORE,NTFS-FIXUP" ] &&
	ok "without the fault: $got" || fail "without the fault: $got"

ff_mount "$W/d" --eio "kernel-torn.img:$off:4096"
scan_ff kernel-torn.img
got=$(codes "$W/kernel-torn.img.json")
[ "$got" = "unassessable DISK-IO BOOT-CORE,DISK-IO,NTFS-FIXUP" ] &&
	ok "EIO in a manifest: $got" || fail "EIO in a manifest: $got"
[ "$((rc & 9))" -eq 9 ] && ok "exit $rc" || fail "exit $rc, want bits 1 and 8"

ff_mount "$W/d" --eio "kernel-torn.img:0:1048576"
scan_ff kernel-torn.img
got=$(codes "$W/kernel-torn.img.json")
[ "$got" = "unassessable DISK-IO DISK-IO" ] &&
	ok "EIO on the first MiB: $got" || fail "EIO on the first MiB: $got"
finish
