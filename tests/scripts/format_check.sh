#!/bin/bash
# Every C file (*.c, *.h) under formats/ scanner/ datasets/ bench/ tests/
# equals clang-format's output with the tree's .clang-format.  Prints each
# differing file with the start of its diff and exits 1; exits 77 (skip)
# without clang-format (.ci/setup installs it; BSW_STRICT makes that a
# failure).  clang-format 14 (Debian 12) is preferred: other versions
# format some constructs differently.
#   bash tests/scripts/format_check.sh [--fix]   (--fix rewrites the files)
set -u
SRC=${BSW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SRC" || exit 1
CF=
for c in clang-format-14 clang-format; do
	command -v $c >/dev/null && { CF=$c; break; }
done
if [ -z "$CF" ]; then
	echo "SKIP: clang-format not installed (bash .ci/setup installs it)"
	[ -n "${BSW_STRICT:-}" ] && exit 1
	exit 77
fi
[ -f .clang-format ] || { echo "FAIL: no .clang-format in $SRC"; exit 1; }
fix=0
[ "${1:-}" = --fix ] && fix=1
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files 'formats/*.[ch]' 'scanner/*.[ch]' 'datasets/*.[ch]' \
				      'bench/*.[ch]' 'tests/*.[ch]')
else
	mapfile -t files < <(find formats scanner datasets bench tests -name '*.[ch]' | LC_ALL=C sort)
fi
[ ${#files[@]} -gt 0 ] || { echo "FAIL: no C files found under $SRC"; exit 1; }
bad=0 lines=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	if [ $fix = 1 ]; then
		"$CF" -i --style=file "$f" || { echo "FAIL: $CF $f"; exit 1; }
		continue
	fi
	if ! "$CF" --style=file "$f" > "$tmp"; then
		echo "FAIL: $CF failed on $f"; exit 1
	fi
	if ! d=$(diff -u "$f" "$tmp"); then
		n=$(grep -c '^-[^-]' <<< "$d")
		bad=$((bad + 1)) lines=$((lines + n))
		echo "== $f: $n line(s) differ"
		[ $bad -le 5 ] && head -n 20 <<< "$d"
	fi
done
[ $fix = 1 ] && { echo "formatted ${#files[@]} files with $($CF --version)"; exit 0; }
if [ $bad -gt 0 ]; then
	echo "FAIL: $bad of ${#files[@]} files ($lines lines) differ from $($CF --version | head -n 1)"
	echo "(bash tests/scripts/format_check.sh --fix rewrites them)"
	exit 1
fi
echo "ok   ${#files[@]} C files match .clang-format ($($CF --version | head -n 1))"
