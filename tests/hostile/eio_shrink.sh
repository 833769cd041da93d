#!/usr/bin/env bash
# A file that shrank after it was opened: stat still gives the full size,
# reads end early.  A short read inside the size seen at open is an I/O
# error (DISK-IO "short read ... shrank"), not a corrupt volume; raw and
# VHDX.  Each disk without the fault is clean.
. "$(dirname "$0")/lib.sh"
. "$BSW_SRCDIR/tests/hostile/eio_common.inc"

gen "$W/r" --scenarios clean --format raw
size=$(stat -c %s "$W/r/clean.img")
cut=$((size * 2 / 3 / 4096 * 4096))
ff_mount "$W/r"
expect_clean clean.img
ff_mount "$W/r" --shrink "clean.img:$cut"
scan_ff clean.img
expect_io clean.img 0 EIO "$cut" $((size - cut)) "shrank"
grep -q "was $size bytes when opened" "$W/clean.img.json" &&
	ok "size at open named" || fail "size at open not named: $(head -c 400 "$W/clean.img.json")"

gen "$W/x" --scenarios clean --format vhdx
size=$(stat -c %s "$W/x/clean.vhdx")
cut=$((size / 2 / 4096 * 4096))
ff_mount "$W/x"
expect_clean clean.vhdx
ff_mount "$W/x" --shrink "clean.vhdx:$cut"
scan_ff clean.vhdx
expect_io clean.vhdx 0 EIO "$cut" $((size - cut)) "shrank"
finish
