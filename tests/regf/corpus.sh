#!/bin/bash
# Every registry file in ../shared/corpus (found by its "regf"/"CREG" magic,
# plus regipy's .xz and dissect.regf's .gz hives decompressed into the build
# tree) goes through `bootsweep hive`: it must end with a state and exit 0
# (clean/recovered), 4 (with an error finding) or 8 (not a hive: the wrong
# file), never crash or hang.  For
# every hive we verify, our reader's .reg export must equal the export made
# through hivex from the same (recovered) image whenever hivex opens it.
set -u
BIN=${BSW_BIN:?}
CORPUS=${BSW_CORPUS:?}
WORK=${BSW_BINDIR:-.}/regf_corpus
[ -d "$CORPUS" ] || exit 77
rm -rf "$WORK"
mkdir -p "$WORK"
fail=0
n=0 ncmp=0 nrefused=0 nclean=0 nrec=0 nbad=0 nnul=0

# Decompressed copies (never in place).
for f in "$CORPUS"/regipy/regipy_tests/data/*.xz; do
	[ -f "$f" ] && xz -dc "$f" > "$WORK/$(basename "$f" .xz)"
done
[ -f "$CORPUS/dissect.regf/tests/_data/SYSTEM.gz" ] &&
	gzip -dc "$CORPUS/dissect.regf/tests/_data/SYSTEM.gz" > "$WORK/dissect_SYSTEM"

list=$WORK/list
: > "$list"
while IFS= read -r -d '' f; do
	m=$(head -c 4 "$f" 2>/dev/null | tr -d '\0')
	case "$m" in regf|CREG) echo "$f" >> "$list" ;; esac
done < <(find "$CORPUS" "$WORK" -type f -size -64M ! -name '*.xz' ! -name '*.gz' \
	! -name '*.bz2' ! -name '*.raw' ! -name '*.vhd*' ! -name '*.E01' -print0)

while IFS= read -r f; do
	n=$((n + 1))
	out=$(timeout 60 "$BIN" hive "$f" 2>&1)
	rc=$?
	state=$(printf '%s\n' "$out" | head -1 | sed 's/.*: //')
	case "$rc:$state" in
	0:clean) nclean=$((nclean + 1)) ;;
	0:"dirty and recovered") nrec=$((nrec + 1)) ;;
	4:corrupt|4:unrecoverable|4:"dirty, logs not supplied"|8:"not a hive")
		nbad=$((nbad + 1))
		if ! printf '%s\n' "$out" | grep -qF "$f: error "; then
			echo "FAIL: $f: state $state without an error finding"
			fail=1
		fi ;;
	*)
		echo "FAIL: $f: exit $rc, state '$state'"
		printf '%s\n' "$out" | head -5
		fail=1
		continue ;;
	esac
	[ "$rc" = 0 ] || continue
	timeout 60 "$BIN" hive "$f" --export > "$WORK/own.reg" 2>/dev/null || {
		echo "FAIL: $f: --export failed"; fail=1; continue; }
	if timeout 60 "$BIN" hive "$f" --hivex-export > "$WORK/hivex.reg" 2>/dev/null; then
		ncmp=$((ncmp + 1))
		# hivex's names end at a NUL code unit; ours keep it as \x00 (a name
		# hiding a NUL must not pass for its prefix): compare up to it
		python3 -c '
import re, sys
t = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(re.sub(rb"\\x00[^\\\]\"]*", b"", t))' "$WORK/own.reg" > "$WORK/own-nul.reg"
		if grep -q '\\x00' "$WORK/own.reg"; then
			nnul=$((nnul + 1))
		fi
		if ! cmp -s "$WORK/own-nul.reg" "$WORK/hivex.reg"; then
			echo "FAIL: $f: export differs from hivex's"
			diff "$WORK/own.reg" "$WORK/hivex.reg" | head -6
			fail=1
		fi
	else
		nrefused=$((nrefused + 1))
		echo "note: hivex refuses $f"
	fi
done < "$list"

# Specific expectations.
expect() {	# file state [grep pattern]
	local out
	out=$("$BIN" hive "$1" 2>&1)
	if ! printf '%s\n' "$out" | head -1 | grep -q ": $2\$"; then
		echo "FAIL: $1: expected $2"; printf '%s\n' "$out" | head -3; fail=1
	elif [ -n "${3:-}" ] && ! printf '%s\n' "$out" | grep -q -- "$3"; then
		echo "FAIL: $1: no '$3'"; printf '%s\n' "$out" | head -3; fail=1
	fi
}
Y=$CORPUS/yarp/hives_for_tests
expect "$Y/NewDirtyHive1/NewDirtyHive" "dirty and recovered" "REG-DIRTY"
expect "$Y/OldDirtyHive/OldDirtyHive" "dirty and recovered" "REG-DIRTY"
expect "$Y/BadLogHive1/BadLogHive" "unrecoverable" "REG-LOG"
"$BIN" hive --no-logs "$Y/NewDirtyHive1/NewDirtyHive" | head -1 | grep -q ': dirty, logs not supplied$' ||
	{ echo "FAIL: a dirty hive given no logs does not say so"; fail=1; }
expect "$Y/TruncatedHiveBin" "not a hive" "REG-BASE"
expect "$Y/TruncatedHive" "corrupt" "REG-BASE"
expect "$Y/BadListHive" "corrupt" "REG-HBIN"
expect "$Y/WrongOrderHive" "clean" "not in ascending"
expect "$Y/InvalidParentHive" "corrupt" "parent field"
[ -f "$CORPUS/dfwinreg/test_data/USER.DAT" ] &&
	expect "$CORPUS/dfwinreg/test_data/USER.DAT" "not a hive" "CREG"
if [ -f "$WORK/UsrClass.dat" ]; then
	expect "$WORK/UsrClass.dat" "dirty and recovered" "UsrClass.dat.LOG1 + UsrClass.dat.LOG2"
	expect "$WORK/corrupted_system_hive" "corrupt" "REG-HBIN"
fi

echo "hives: $n (clean $nclean, recovered $nrec, rejected $nbad); hivex cross-checked $ncmp ($nnul with a NUL kept in a name), hivex refused $nrefused"
[ "$nnul" -ge 1 ] || { echo "FAIL: no corpus hive with a NUL in a name was cross-checked"; fail=1; }
[ "$n" -ge 60 ] || { echo "FAIL: only $n hives found"; fail=1; }
exit $fail
