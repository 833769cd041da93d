#!/usr/bin/env bash
# EIO on the partition table (raw disk: GPT header at LBA 1, then the whole
# first 1 MiB).  The disk cannot be opened: unassessable with DISK-IO and an
# error, not DISK-EMPTY, DISK-NOTWIN, PART-* or DISK-UNREADABLE.
. "$(dirname "$0")/lib.sh"
. "$BSW_SRCDIR/tests/hostile/eio_common.inc"
gen "$W/d" --scenarios clean --format raw
ff_mount "$W/d"
expect_clean clean.img
ff_mount "$W/d" --eio "clean.img:512:512"
scan_ff clean.img
expect_io clean.img 0 EIO 512 512
ff_mount "$W/d" --eio "clean.img:0:1048576"
scan_ff clean.img
expect_io clean.img 0 EIO 0 1048576
finish
