#!/bin/bash
# Fixture setup (CTest FIXTURES_SETUP triage_disks): the scenario disks of
# tests/triage/mkdisk.py in $BSW_BINDIR/triage-disks, raw and VHDX copies of
# a few (dynamic, as Hyper-V makes them), and truth.jsonl over both.
# Readers (triage_accuracy, triage_badinput) only read this folder and write
# in folders of their own, so they may run side by side under ctest -j.
# Made again when mkdisk.py is newer than the folder; built in a temporary
# folder and renamed, so a reader never sees half a set.
# No root and no FUSE: mkdisk.py writes NTFS through libntfs-3g.
set -u
SRC=${BSW_SRCDIR:?}
OUT=${BSW_BINDIR:?}/triage-disks
skip() {
	echo "SKIP: $*"
	# .ci/test sets BSW_STRICT: there, a missing tool is a failure.
	[ -n "${BSW_STRICT:-}" ] && exit 1
	exit 77
}
for t in hivexsh sgdisk mkntfs ntfsinfo mkfs.vfat mcopy mmd qemu-img python3; do
	command -v $t >/dev/null || skip "missing $t (bash .ci/setup installs it)"
done
[ -f "${BSW_CORPUS:-}/hivex/images/minimal" ] || skip "corpus hivex/images/minimal missing"
python3 -c 'import ctypes.util, sys; sys.exit(not ctypes.util.find_library("ntfs-3g"))' ||
	skip "libntfs-3g not found"

if [ -f "$OUT/truth.jsonl" ] && [ "$OUT/truth.jsonl" -nt "$SRC/tests/triage/mkdisk.py" ]; then
	echo "triage-disks: up to date ($(wc -l < "$OUT/truth.jsonl") disks)"
	exit 0
fi
T=$OUT.tmp.$$
rm -rf "$T"
trap 'rm -rf "$T"' EXIT
# hivexsh keeps a history file in $HOME
HOME=$T python3 "$SRC/tests/triage/mkdisk.py" "$T/raw" || { echo "FAIL: mkdisk.py exited $?"; exit 1; }
# mkdisk.py writes every byte of the volumes: make the zero ranges holes
# again (same content; 35 disks take about a quarter of the space)
command -v fallocate >/dev/null && for f in "$T"/raw/*.img; do fallocate --dig-holes "$f"; done
mkdir -p "$T/vhdx"
: > "$T/vhdx/truth.jsonl"
for sc in clean pending-xml half-rollback winload-missing bcd-bad-path; do
	qemu-img convert -O vhdx "$T/raw/$sc.img" "$T/vhdx/$sc.vhdx" || { echo "FAIL: qemu-img $sc"; exit 1; }
	grep "\"$sc.img\"" "$T/raw/truth.jsonl" | sed "s/$sc.img/$sc.vhdx/" >> "$T/vhdx/truth.jsonl"
done
cat "$T/raw/truth.jsonl" "$T/vhdx/truth.jsonl" > "$T/truth.jsonl"
rm -f "$T/.hivexsh"
rm -rf "$OUT"
mv "$T" "$OUT"
echo "triage-disks: made $(wc -l < "$OUT/truth.jsonl") disks"
