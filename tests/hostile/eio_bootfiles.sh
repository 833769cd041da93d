#!/usr/bin/env bash
# EIO in the boot files' data (raw disk): winload.efi, then ntoskrnl.exe.
# Unassessable with DISK-IO, never BOOT-CORE "unreadable"; the same disk
# without the fault is clean.
. "$(dirname "$0")/lib.sh"
. "$BSW_SRCDIR/tests/hostile/eio_common.inc"
gen "$W/d" --scenarios clean --format raw
img=$W/d/clean.img
ff_mount "$W/d"
expect_clean clean.img
for f in winload.efi ntoskrnl.exe; do
	off=$(file_off "$img" "/Windows/System32/$f") || { fail "cannot locate $f"; continue; }
	ok "$f at byte $off"
	ff_mount "$W/d" --eio "clean.img:$off:4096"
	scan_ff clean.img
	cp "$W/clean.img.json" "$W/$f.json"
	expect_io "$f" 0 EIO "$off" 4096
done
finish
