#!/usr/bin/env bash
# EIO in the SYSTEM hive's data extent (raw disk): the hive stage cannot
# read it.  Unassessable with DISK-IO, never REG-* or BOOT-HIVE; the
# same disk without the fault is clean.
. "$(dirname "$0")/lib.sh"
. "$BSW_SRCDIR/tests/hostile/eio_common.inc"
gen "$W/d" --scenarios clean --format raw
img=$W/d/clean.img
off=$(file_off "$img" /Windows/System32/config/SYSTEM) || { fail "cannot locate SYSTEM"; finish; }
ok "SYSTEM's data at byte $off"
ff_mount "$W/d"
expect_clean clean.img
# one 4 KiB sector run in the middle of the first hive bin
ff_mount "$W/d" --eio "clean.img:$((off + 8192)):4096"
scan_ff clean.img
expect_io clean.img 0 EIO $((off + 8192)) 4096
grep -q "file offset $((off + 8192))" "$W/clean.img.json" &&
	ok "the offset named is the failing sector's" ||
	fail "offset $((off + 8192)) not named: $(head -c 300 "$W/clean.img.json")"
finish
