#!/usr/bin/env bash
# EIO in one WinSxS manifest (raw disk): the WinSxS stage cannot read it.
# Unassessable with DISK-IO, never SXS-MFMT ("not well-formed XML:
# unreadable") or SXS-*; the same disk without the fault is clean.
. "$(dirname "$0")/lib.sh"
. "$BSW_SRCDIR/tests/hostile/eio_common.inc"
gen "$W/d" --scenarios clean --format raw
img=$W/d/clean.img
s=$(( $(part_start "$img") / 512 ))
man=$(fls -o "$s" -p -r "$img" | awk -F'\t' '/Manifests\/.*\.manifest$/ { print $2; exit }')
[ -n "$man" ] || { fail "no manifest listed"; finish; }
off=$(file_off "$img" "/$man") || { fail "cannot locate $man"; finish; }
ok "$man at byte $off"
ff_mount "$W/d"
expect_clean clean.img
ff_mount "$W/d" --eio "clean.img:$off:4096"
scan_ff clean.img
expect_io clean.img 0 EIO "$off" 4096
finish
