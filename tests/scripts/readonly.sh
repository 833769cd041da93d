#!/bin/bash
# bootsweep never writes to an image: the bytes and modification times of
# every image (and of the corpus files read) are unchanged after every
# subcommand that reads them.  A VHDX with a pending log is included: the
# log is replayed in memory only.  Every command's exit status is checked:
# the images are made by commands that must succeed, and each bootsweep
# subcommand must give the status it gives on that kind of input (a crash,
# a usage error or an unexpected operational error fails the test).
set -u
B=${BSW_BIN:?}
C=${BSW_CORPUS:?}
W=${BSW_BINDIR:?}/t-readonly
fail=0
must() {
	"$@" || { echo "FAIL: '$*' exited $?"; exit 1; }
}
for t in qemu-img sfdisk mkntfs; do
	command -v $t >/dev/null || { echo "SKIP: missing $t"; exit 77; }
done
must rm -rf "$W"
must mkdir -p "$W"
cd "$W" || exit 1

# A GPT disk with one NTFS partition (30 MiB at 1 MiB), so ls and check have
# a volume to read, and its VHD and VHDX copies.
must truncate -s 32M raw.img
printf 'label: gpt\nstart=2048,size=61440,type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n' > gpt.txt
must sfdisk -q raw.img < gpt.txt
must truncate -s 30M vol.ntfs
must mkntfs -F -f -q -p 2048 -H 255 -S 63 -L data vol.ntfs 2>/dev/null
must dd if=vol.ntfs of=raw.img bs=1M seek=1 conv=notrunc status=none
must rm vol.ntfs
must qemu-img convert -O vpc -o subformat=dynamic raw.img a.vhd
must qemu-img convert -O vhdx raw.img a.vhdx
# kind:file; the kind selects the expected statuses below
files=(disk:raw.img disk:a.vhd disk:a.vhdx)
for f in "$C"/dfvfs/test_data/image-differential.vhd "$C"/dfvfs/test_data/image.vhd; do
	[ -e "$f" ] && files+=("nontfs:$f")
done
f=$C/yarp/hives_for_tests/NewDirtyHive1/NewDirtyHive
[ -e "$f" ] && files+=("hive:$f")
# a pending-log VHDX, made by the project's writer (always built with the tree)
MK=${BSW_BINDIR}/datasets/mkimage
if [ -x "$MK" ]; then
	must "$MK" --from-raw raw.img --out log.vhdx --format vhdx-dynamic --pending-log >/dev/null
	files+=(disk:log.vhdx)
fi

# Expected exit status of each subcommand per kind (docs/cli.md: 1
# unassessable, 8 operational error).  scan gives 1: none of these holds
# Windows.  ls and check need an NTFS volume, hive a hive file.
want() {
	case "$1:$2" in
	*:info | *:info-json | *:cat) echo 0 ;;
	disk:ls | disk:check | disk:cat-path) echo 0 ;;
	nontfs:ls | nontfs:check | hive:ls | hive:check) echo 8 ;;
	hive:hive) echo 0 ;;
	disk:hive | nontfs:hive) echo 8 ;;
	*:scan) echo 1 ;;
	*) echo "?" ;;
	esac
}
run() {	# run KIND FILE NAME CMD...
	local kind=$1 f=$2 name=$3 rc
	shift 3
	"$B" "$@" >/dev/null 2>"$W/stderr"
	rc=$?
	if [ "$rc" != "$(want "$kind" "$name")" ]; then
		echo "FAIL: bootsweep $* exited $rc, want $(want "$kind" "$name")"
		head -3 "$W/stderr"
		fail=1
	fi
}

snap() {
	for kf in "${files[@]}"; do
		f=${kf#*:}
		stat -c '%n %s %Y %y' "$f" && sha256sum "$f" || echo "FAIL: stat/sha256sum $f"
	done
}
snap > before.txt
sleep 1
n=0
for kf in "${files[@]}"; do
	k=${kf%%:*} f=${kf#*:}
	run "$k" "$f" info info "$f"
	run "$k" "$f" info-json info --json "$f"
	run "$k" "$f" cat cat "$f"
	run "$k" "$f" ls ls "$f"
	run "$k" "$f" check check "$f"
	run "$k" "$f" hive hive "$f"
	run "$k" "$f" scan scan "$f" -o "$W/scan.jsonl"
	[ "$k" = disk ] && run "$k" "$f" cat-path cat "$f" --path '/$Boot'
	n=$((n + 1))
done
snap > after.txt
if ! diff before.txt after.txt; then
	echo "FAIL: an image changed"
	fail=1
fi
grep -q FAIL before.txt after.txt && fail=1
[ $fail = 0 ] && echo "ok   $n images unchanged (bytes and mtime) after info, cat, ls, check, hive, scan; every exit status as expected"
exit $fail
