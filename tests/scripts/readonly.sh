#!/bin/bash
# bootsweep never writes to an image: the bytes and modification times of
# every image (and of the corpus files read) are unchanged after every
# subcommand that reads them.  A VHDX with a pending log is included: the
# log is replayed in memory only.
set -u
B=${BSW_BIN:?}
C=${BSW_CORPUS:?}
W=${BSW_BINDIR:?}/t-readonly
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
command -v qemu-img >/dev/null || exit 77
truncate -s 32M raw.img
printf 'label: gpt\n,,L\n' | sfdisk -q raw.img
qemu-img convert -O vpc -o subformat=dynamic raw.img a.vhd
qemu-img convert -O vhdx raw.img a.vhdx
files=(raw.img a.vhd a.vhdx)
for f in "$C"/dfvfs/test_data/image-differential.vhd "$C"/dfvfs/test_data/image.vhd \
	 "$C"/yarp/hives_for_tests/NewDirtyHive1/NewDirtyHive; do
	[ -e "$f" ] && files+=("$f")
done
# a pending-log VHDX, if the project's writer is built
MK=${BSW_BINDIR}/datasets/mkimage
if [ -x "$MK" ] && "$MK" --from-raw raw.img --out log.vhdx --format vhdx-dynamic --pending-log 2>/dev/null; then
	files+=(log.vhdx)
fi
snap() { for f in "${files[@]}"; do stat -c '%n %s %Y %y' "$f"; sha256sum "$f"; done; }
snap > before.txt
sleep 1
for f in "${files[@]}"; do
	"$B" info "$f" >/dev/null 2>&1
	"$B" info --json "$f" >/dev/null 2>&1
	"$B" cat "$f" >/dev/null 2>&1
	"$B" ls "$f" >/dev/null 2>&1
	"$B" check "$f" >/dev/null 2>&1
	"$B" hive "$f" >/dev/null 2>&1
	"$B" scan "$f" >/dev/null 2>&1
done
snap > after.txt
if diff before.txt after.txt; then
	echo "ok   ${#files[@]} images unchanged (bytes and mtime) after info, cat, ls, check, hive, scan"
	exit 0
fi
echo "FAIL an image changed"
exit 1
