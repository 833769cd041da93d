#!/usr/bin/env bash
# EIO in the parent of a differencing VHD: the data blocks of base.vhd.
# The child is unassessable with DISK-IO naming layer 1 and base.vhd (the
# file that failed), not the child; without the fault the child is clean.
. "$(dirname "$0")/lib.sh"
. "$BSW_SRCDIR/tests/hostile/eio_common.inc"
gen "$W/c" --scenarios clean --format vhd --children 1
child=$(cd "$W/c" && ls child0000-*.vhd) || { fail "no child"; finish; }
size=$(stat -c %s "$W/c/base.vhd")
# the middle half of the parent: data blocks, clear of its header, BAT
# and footer
lo=$((size / 4 / 4096 * 4096))
len=$((size / 2 / 4096 * 4096))
ff_mount "$W/c"
expect_clean "$child"
ff_mount "$W/c" --eio "base.vhd:$lo:$len"
scan_ff "$child"
expect_io "$child" 1 EIO "$lo" "$len" "base.vhd"
grep -q '"str2":"[^"]*/mnt/base.vhd"' "$W/$child.json" &&
	ok "the parent's path is the layer named" ||
	fail "layer path: $(head -c 500 "$W/$child.json")"
finish
