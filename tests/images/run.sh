#!/bin/bash
# Golden image tests, in e2fsprogs' tests/f_* manner (STYLE.md section 8).
#
#   bash tests/images/run.sh CASE_DIR
#
# CASE_DIR (tests/images/<fmt>_<case>/) holds
#   name     one line: what the case is
#   gen      a bash recipe run in an empty folder that makes the image(s)
#            there with the project's own writers ($MKFLEET, $MKIMAGE);
#            no image is kept in git.  Every *.img *.vhd *.vhdx *.qcow2
#            *.vmdk it leaves at the top of the folder is checked, in name
#            order, unless it writes their names, one a line, to `images`.
#   args     optional: more arguments for scan (e.g. --rules ...)
#   cmds     optional: the bootsweep commands run on each image, one a line
#            (default: scan); the image is appended, and args too for scan
#   mask     optional: more JSON keys whose values are masked, one a line
#            (e.g. bytes_read where a parent locator holds the absolute
#            path of the work folder)
#   jobs     optional: thread counts, e.g. "1 2 4": the determinism case.
#            All images are swept in one scan per count; the lines, sorted
#            by image, must be byte-identical between counts.
#   expect   the golden output: per image and command, the command, its
#            exit status and its output through filter.py
#
# Images are made once per recipe and writer build (kept under
# $BSW_BINDIR/t-images/<case>/img with the recipe's and the writers'
# SHA-256 as a stamp).  A difference prints a unified diff and fails.
# BSW_UPDATE_GOLDEN=1 writes the output to expect instead (review the diff
# with git before committing it).
set -u
case_dir=$(cd "${1:?usage: run.sh CASE_DIR}" && pwd)
case=$(basename "$case_dir")
BIN=${BSW_BIN:?}
BINDIR=${BSW_BINDIR:?}
HERE=$(cd "$(dirname "$0")" && pwd)
export MKFLEET=$BINDIR/datasets/mkfleet MKIMAGE=$BINDIR/datasets/mkimage
export BSW_SRCDIR=${BSW_SRCDIR:-$(cd "$HERE/../.." && pwd)}
W=$BINDIR/t-images/$case
skip() {
	echo "SKIP: $*"
	[ -n "${BSW_STRICT:-}" ] && exit 1	# .ci/test: nothing may skip
	exit 77
}
[ -f "$case_dir/name" ] && [ -f "$case_dir/gen" ] || { echo "FAIL: $case: no name or gen"; exit 1; }
[ -x "$MKFLEET" ] && [ -x "$MKIMAGE" ] || skip "datasets/mkfleet or mkimage not built"
echo "$case: $(head -n 1 "$case_dir/name")"

# 1. the image(s), made again when the recipe or a writer changed
stamp=$(cat "$case_dir/gen" "$MKFLEET" "$MKIMAGE" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$W/img/.stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$W/img" "$W/img.tmp"
	mkdir -p "$W/img.tmp"
	if ! (cd "$W/img.tmp" && bash -e "$case_dir/gen") > "$W/gen.log" 2>&1; then
		echo "FAIL: $case: gen exited non-zero"; tail -n 20 "$W/gen.log"; exit 1
	fi
	echo "$stamp" > "$W/img.tmp/.stamp"
	mv "$W/img.tmp" "$W/img"
fi
cd "$W/img" || exit 1
if [ -f images ]; then
	mapfile -t imgs < images
else
	mapfile -t imgs < <(ls | grep -E '\.(img|vhd|vhdx|qcow2|vmdk)$' | LC_ALL=C sort)
fi
[ ${#imgs[@]} -gt 0 ] || { echo "FAIL: $case: gen made no image"; exit 1; }
shown=()
[ -f "$case_dir/args" ] && read -r -a shown < "$case_dir/args"
# @SRC@ in args stands for the source tree (rule files); expect shows @SRC@
args=("${shown[@]//@SRC@/$BSW_SRCDIR}")
cmds=("scan")
[ -f "$case_dir/cmds" ] && mapfile -t cmds < <(grep -v '^#' "$case_dir/cmds" | grep .)

BSW_MASK=
[ -f "$case_dir/mask" ] && BSW_MASK=$(grep -v '^#' "$case_dir/mask" | tr '\n' ' ')
export BSW_MASK
filter() { python3 "$HERE/filter.py" "$W/img" "$BSW_SRCDIR"; }
out=$W/out
fail=0
: > "$out"
if [ -f "$case_dir/jobs" ]; then
	# 2a. determinism: one sweep per thread count, compared line by line
	# (scan writes lines as disks finish, so the order varies; each line
	# must not)
	read -r -a jobs < "$case_dir/jobs"
	first=
	for j in "${jobs[@]}"; do
		"$BIN" scan "${imgs[@]}" "${args[@]}" -j"$j" --quiet -o "$W/scan-j$j.jsonl" 2> "$W/stderr"
		echo "exit $?" > "$W/scan-j$j.txt"
		python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for o in sorted(rows, key=lambda o: o["image"]):
    print(json.dumps(o))' "$W/scan-j$j.jsonl" | filter >> "$W/scan-j$j.txt"
		if [ -z "$first" ]; then
			first=$j
			line=("\$ bootsweep scan" "${imgs[@]}" "${shown[@]}" "-jN")
			{ echo "${line[*]}"; cat "$W/scan-j$j.txt"; } >> "$out"
		elif ! cmp -s "$W/scan-j$first.txt" "$W/scan-j$j.txt"; then
			echo "FAIL: $case: -j$first and -j$j differ"
			diff -u "$W/scan-j$first.txt" "$W/scan-j$j.txt" | head -n 40
			fail=1
		fi
	done
else
	# 2b. each image through each command
	for img in "${imgs[@]}"; do
		for c in "${cmds[@]}"; do
			read -r -a cv <<< "$c"
			extra=()
			shownx=()
			if [ "${cv[0]}" = scan ]; then
				extra=("${args[@]}" -j1 --quiet -o -)
				shownx=("${shown[@]}" -j1 --quiet -o -)
			fi
			line=("\$ bootsweep" "${cv[@]}" "$img" "${shownx[@]}")
			echo "${line[*]}" >> "$out"
			"$BIN" "${cv[@]}" "$img" "${extra[@]}" > "$W/stdout" 2> "$W/stderr"
			echo "exit $?" >> "$out"
			filter < "$W/stdout" >> "$out"
		done
	done
fi

# 3. against the golden output
if [ -n "${BSW_UPDATE_GOLDEN:-}" ]; then
	cp "$out" "$case_dir/expect"
	echo "$case: expect written ($(wc -l < "$out") lines)"
	exit $fail
fi
if [ ! -f "$case_dir/expect" ]; then
	echo "FAIL: $case: no expect (make it with BSW_UPDATE_GOLDEN=1 and review it)"
	exit 1
fi
if ! cmp -s "$case_dir/expect" "$out"; then
	echo "FAIL: $case: output differs from expect (- expect, + got):"
	diff -u "$case_dir/expect" "$out" | head -n 80
	echo "(last stderr:)"; head -n 5 "$W/stderr"
	echo "(if the change is intended: BSW_UPDATE_GOLDEN=1 ctest -R images_$case, then review git diff)"
	exit 1
fi
[ $fail = 0 ] && echo "ok   $case: ${#imgs[@]} image(s), output equals expect"
exit $fail
