#!/usr/bin/env bash
# EIO from the block layer: a read-only loop device over a faultfs file
# (what a device-mapper "error" target or a failing drive gives: the kernel
# fails the bio, the ring gets -EIO).  Bytes 60-100 MB of a small clean raw
# disk fail: unassessable with DISK-IO naming the device and an offset in
# that range, exit bits 1 and 8; the device without the fault is clean.
. "$(dirname "$0")/lib.sh"
. "$BSW_SRCDIR/tests/hostile/eio_common.inc"
command -v losetup >/dev/null || skip "no losetup"
loopdev=
cleanup() {
	[ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null
	loopdev=
	ff_umount
}
trap cleanup EXIT
attach() {
	loopdev=$(losetup -f --show -r "$W/mnt/clean.img" 2>"$W/losetup.err") ||
		{ cat "$W/losetup.err"; skip "cannot attach a loop device here"; }
}
gen "$W/d" --scenarios clean --format raw

ff_mount "$W/d"
attach
"$B" scan --quiet "$loopdev" > "$W/dev.json"; rc=$?
if [ "$rc" -eq 0 ] && grep -q '"verdict":"clean","decided_by":\[\],"findings":\[\]' "$W/dev.json"; then
	ok "$loopdev without the fault: clean, exit 0"
else
	fail "$loopdev without the fault: exit $rc $(head -c 300 "$W/dev.json")"
fi
losetup -d "$loopdev"; loopdev=

lo=$((60 << 20)); len=$((40 << 20))
ff_mount "$W/d" --eio "clean.img:$lo:$len"
attach
"$B" scan --quiet "$loopdev" > "$W/dev.json" 2>"$W/dev.err"; rc=$?
expect_io dev 0 EIO "$lo" "$len" "$loopdev"
finish
