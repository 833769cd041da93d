#!/usr/bin/env bash
# EIO inside $MFT of the Windows volume (raw disk): the NTFS stage reads
# records that never arrive.  Unassessable with DISK-IO (layer 0, EIO), not
# NTFS-* corruption; the same disk without the fault is clean.
. "$(dirname "$0")/lib.sh"
. "$BSW_SRCDIR/tests/hostile/eio_common.inc"
gen "$W/d" --scenarios clean --format raw
img=$W/d/clean.img
ps=$(part_start "$img") && mft=$(file_off "$img" '/$MFT') || { fail "cannot locate \$MFT"; finish; }
ok "\$MFT at byte $mft (partition at $ps)"
ff_mount "$W/d"
expect_clean clean.img
# records 64-95 (past the system files: the volume opens, its records do not)
ff_mount "$W/d" --eio "clean.img:$((mft + 64 * 1024)):32768"
scan_ff clean.img
expect_io clean.img 0 EIO $((mft + 64 * 1024)) 32768
# the other commands: an I/O error is exit 8 with the offset, never NTFS-*
"$B" check "$W/mnt/clean.img" > "$W/check.out" 2> "$W/check.err"
rc=$?
if [ "$((rc & 8))" -ne 0 ] && [ "$((rc & 4))" -eq 0 ] && grep -q "I/O error" "$W/check.err" &&
   ! grep -q " NTFS-" "$W/check.out"; then
	ok "check: exit $rc, '$(head -c 120 "$W/check.err")'"
else
	fail "check: exit $rc, $(head -c 300 "$W/check.out" "$W/check.err")"
fi
"$B" cat "$W/mnt/clean.img" > /dev/null 2> "$W/cat.err"
rc=$?
[ "$rc" -eq 8 ] && grep -q "I/O error: EIO" "$W/cat.err" && ok "cat: exit 8, the offset named" ||
	fail "cat: exit $rc, $(cat "$W/cat.err")"
finish
