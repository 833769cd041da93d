#!/bin/bash
# Registry hive benchmark: full verification MB/s (bench_regf, one core) of a
# hive >= 50 MiB against hivex and libregf walks of the same file, in one run;
# then log replay time of a dirty hive with real logs.
#   bench/regf.sh BUILD_DIR [HIVE] [REPS]
# BUILD_DIR must be configured with -DBSW_BENCH=ON.  Without HIVE a synthetic
# 64 MiB hive is generated (bench_regf --make).  Prints a markdown section.
set -eu
B=${1:?usage: bench/regf.sh BUILD_DIR [HIVE] [REPS]}
HIVE=${2:-}
REPS=${3:-5}
BENCH=$B/bench/bench_regf
BIN=$B/bootsweep
CORPUS=${BSW_CORPUS:-$(dirname "$0")/../../shared/corpus}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ -z "$HIVE" ]; then
	HIVE=$TMP/big.hive
	"$BENCH" --make "$HIVE" 64 >&2
fi
MB=$(( $(stat -c %s "$HIVE") / 1048576 ))

# median wall seconds of REPS runs of "$@" (output discarded)
med() {
	local r=$1; shift
	local ts=()
	for _ in $(seq "$r"); do
		local t0 t1
		t0=$(date +%s.%N)
		"$@" > /dev/null 2>&1 || true
		t1=$(date +%s.%N)
		ts+=("$(echo "$t1 - $t0" | bc)")
	done
	printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f\n", a[int((NR+1)/2)]}'
}

own=$("$BENCH" --reps "$REPS" "$HIVE")
own_s=$(echo "$own" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
own_s=$(echo "$own_s" | awk '{printf "%.4f", $1 / 1000}')
cli_s=$(med "$REPS" "$BIN" hive "$HIVE")
hxexp_s=$(med 3 "$BIN" hive "$HIVE" --hivex-export)
ownexp_s=$(med 3 "$BIN" hive "$HIVE" --export)
hivexml_s=$(med 3 hivexml "$HIVE")
# hivexsh walk: cd into every key and list its values (script made from our
# export's key lines).
"$BIN" hive "$HIVE" --export | sed -n 's/^\[\(.*\)\]$/cd \1\nlsval/p' > "$TMP/walk.hivexsh"
hivexsh_s=$(med 1 hivexsh -f "$TMP/walk.hivexsh" "$HIVE")
# hivexregedit --export (Perl over the hivex library): the issue's anchor.
if command -v hivexregedit >/dev/null; then
	hxre_s=$(med 1 hivexregedit --export "$HIVE" '\')
else
	hxre_s=""
fi
# libregf's regfexport is slow (about 2 minutes for 64 MiB here): one run.
regfexport_s=$(med 1 regfexport "$HIVE")

ratio() { echo "scale=1; $1 / $2" | bc; }

echo "### Registry hives (bench/regf.sh, $(date -u +%Y-%m-%d), $(nproc) cores shared)"
echo
echo "Hive: $HIVE ($MB MiB).  Median of $REPS runs (3 for exports, 1 for regfexport)."
echo
echo "| what | command | median s | vs bsw verify |"
echo "|---|---|---|---|"
echo "| bsw verify (in memory, 1 core) | bench_regf --reps $REPS HIVE | $own_s | 1 |"
echo "| bsw hive CLI (read + verify) | bootsweep hive HIVE | $cli_s | $(ratio "$cli_s" "$own_s") |"
echo "| bsw export, own reader | bootsweep hive HIVE --export | $ownexp_s | $(ratio "$ownexp_s" "$own_s") |"
echo "| hivex export (library, our emitter) | bootsweep hive HIVE --hivex-export | $hxexp_s | $(ratio "$hxexp_s" "$own_s") |"
echo "| hivex full walk | hivexml HIVE | $hivexml_s | $(ratio "$hivexml_s" "$own_s") |"
[ -z "$hxre_s" ] || echo "| hivexregedit export | hivexregedit --export HIVE '\\' | $hxre_s | $(ratio "$hxre_s" "$own_s") |"
echo "| hivexsh walk ($(grep -c '^cd' "$TMP/walk.hivexsh") keys: cd + lsval) | hivexsh -f walk HIVE | $hivexsh_s | $(ratio "$hivexsh_s" "$own_s") |"
echo "| libregf | regfexport HIVE | $regfexport_s | $(ratio "$regfexport_s" "$own_s") |"
echo
echo "bench_regf: $own"

# Log replay: regipy's UsrClass.dat (2.8 MB, 14 new-format entries in 2 logs).
R=$CORPUS/regipy/regipy_tests/data
if [ -f "$R/UsrClass.dat.xz" ]; then
	for f in UsrClass.dat UsrClass.dat.LOG1 UsrClass.dat.LOG2; do
		xz -dc "$R/$f.xz" > "$TMP/$f"
	done
	echo
	echo "Replay: $("$BENCH" --reps "$REPS" "$TMP/UsrClass.dat" "$TMP/UsrClass.dat.LOG1" "$TMP/UsrClass.dat.LOG2")"
	echo "Same hive, logs ignored: $("$BENCH" --reps "$REPS" "$TMP/UsrClass.dat")"
fi

# Replay of a realistic SYSTEM hive: regipy's SYSTEM (11 MiB) with every
# bin zeroed in the primary and all pages in a new-format .LOG1 (1 MiB
# entries), the worst case of a full-hive log; the result must export like
# the original.
if [ -f "$R/SYSTEM.xz" ]; then
	xz -dc "$R/SYSTEM.xz" > "$TMP/SYSTEM"
	mkdir "$TMP/dirty"
	"$BENCH" --make-dirty "$TMP/SYSTEM" "$TMP/dirty" > /dev/null
	echo "Full replay: $("$BENCH" --reps "$REPS" "$TMP/dirty/hive" "$TMP/dirty/hive.LOG1")"
	if cmp -s <("$BIN" hive "$TMP/dirty/hive" --export) <("$BIN" hive "$TMP/SYSTEM" --export); then
		echo "(replayed SYSTEM exports identically to the original)"
	else
		echo "(MISMATCH: replayed SYSTEM differs from the original)"
	fi
fi
