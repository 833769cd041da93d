#!/bin/bash
# Issue 11 item 6, results kept across sweeps (scan --cache DIR,
# docs/sharing.md "Across runs"), on a VHDX family (mkfleet --children):
#   1. a sweep with --cache writes the base's results; a second sweep reads
#      them (loaded > 0), gives the same JSONL as a sweep without --cache
#      (apart from timings, bytes read, counters) and reads fewer bytes;
#   2. a cut cache file and a damaged one are ignored with a warning, the
#      answers stay the same;
#   3. a layer whose mtime changed is not reused (stale), answers the same;
#   4. a forged file (every kept digest inverted, checksum made right) is
#      believed without --verify-cache (the trust model: the answers
#      change), is caught by --verify-cache=1 (the true answers, mismatches
#      counted) and by the default sample (mismatches counted), and is
#      rewritten so that the next sweep gives the true answers again;
#   5. a DIR that others may write is refused; --cache with --no-share too.
set -euo pipefail
BIN=${BSW_BIN:?}
MKFLEET=${BSW_BINDIR:?}/datasets/mkfleet
FORGE=${BSW_BINDIR}/tests/test_pcache
W=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT; echo "work: $W"
[ -x "$FORGE" ] || { echo "no $FORGE (build test_pcache)"; exit 77; }

"$MKFLEET" --out "$W/fam" --scale small --children 6 --format vhdx \
	--scenarios clean,hive-dirty-good-logs,kernel-torn > /dev/null

fail=0
scan() { # NAME ARGS...: scan the family at -j1 (bytes read do not depend on order)
	local n=$1
	shift
	"$BIN" scan -j1 -o "$W/$n.jsonl" --stats-json "$W/$n.stats" "$@" "$W/fam" \
		> /dev/null 2> "$W/$n.err" || [ $? -lt 8 ]
}
same() { # A B: the same answers
	python3 - "$W/$1.jsonl" "$W/$2.jsonl" <<'PY'
import json, sys
vol = {"timings_ms", "bytes_read", "scan_start"}
def load(p):
    return {o["image"]: {k: v for k, v in o.items() if k not in vol} for o in map(json.loads, open(p))}
a, b = load(sys.argv[1]), load(sys.argv[2])
bad = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
for k in bad[:3]:
    print("  differs:", k)
sys.exit(1 if bad or not a else 0)
PY
}
cst() { # NAME MEMBER: a member of the cache counters
	python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['cache'][sys.argv[2]])" \
		"$W/$1.stats" "$2"
}
bytes() {
	python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['bytes_read'])" "$W/$1.stats"
}
not() { ! "$@"; }
check() { # DESCRIPTION CONDITION...
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}

C="$W/cache"
scan ref
scan c1 --cache "$C"
scan c2 --cache "$C"
check "first sweep writes results" [ "$(cst c1 saved)" -gt 0 ]
check "second sweep reads them" [ "$(cst c2 loaded)" -gt 0 ]
check "second sweep writes nothing new" [ "$(cst c2 files_saved)" -eq 0 ]
check "same answers with --cache (1st)" same ref c1
check "same answers with --cache (2nd)" same ref c2
check "second sweep reads fewer bytes ($(bytes c2) < $(bytes ref))" \
	[ "$(bytes c2)" -lt "$(bytes ref)" ]
check "cache directory is 0700" [ "$(stat -c %a "$C")" = 700 ]

F=$(ls "$C"/*.bswc | head -1)
cp "$F" "$W/good.bswc"
truncate -s -11 "$F"
scan cut --cache "$C"
check "a cut file is warned about" grep -q "ignored" "$W/cut.err"
check "a cut file is counted corrupt" [ "$(cst cut corrupt)" -ge 1 ]
check "a cut file is not read" [ "$(cst cut loaded)" -eq 0 ]
check "same answers with a cut file" same ref cut
check "a cut file is written again" [ "$(cst cut files_saved)" -ge 1 ]
printf '\x55' | dd of="$F" bs=1 seek=$(($(stat -c %s "$F") / 2)) conv=notrunc 2> /dev/null
scan dmg --cache "$C"
check "a damaged file is counted corrupt" [ "$(cst dmg corrupt)" -ge 1 ]
check "same answers with a damaged file" same ref dmg

cp "$W/good.bswc" "$F"
touch -d '2001-01-01 00:00:00' "$W/fam/base.vhdx"
scan ref2 # the answers hold the image's mtime
scan touched --cache "$C"
check "a changed layer is stale" [ "$(cst touched stale)" -ge 1 ]
check "a changed layer is not reused" [ "$(cst touched loaded)" -eq 0 ]
check "same answers after a change" same ref2 touched
scan touched2 --cache "$C"
check "the changed layer's results are kept anew" [ "$(cst touched2 loaded)" -gt 0 ]

F=$(ls "$C"/*.bswc | head -1)
cp "$F" "$W/good.bswc"
"$FORGE" forge "$F" > /dev/null
scan forged --cache "$C"
check "a forged file is believed without --verify-cache (trust model)" \
	[ "$(cst forged loaded)" -gt 0 ]
check "... and changes the answers" not same ref2 forged
cp "$F" "$W/forged.bswc"
scan verify1 --cache "$C" --verify-cache=1
check "--verify-cache=1 counts mismatches" [ "$(cst verify1 mismatched)" -ge 1 ]
check "--verify-cache=1 gives the true answers" same ref2 verify1
check "--verify-cache warns" grep -q "differs from the recomputed" "$W/verify1.err"
scan after --cache "$C"
check "the rewritten file gives the true answers" same ref2 after
cp "$W/forged.bswc" "$F"
scan verify16 --cache "$C" --verify-cache
check "--verify-cache (1 in 16) catches a forged file" [ "$(cst verify16 mismatched)" -ge 1 ]
cp "$W/good.bswc" "$F"
scan verify_good --cache "$C" --verify-cache
check "--verify-cache on a good file: verified, no mismatch" \
	[ "$(cst verify_good verified)" -gt 0 -a "$(cst verify_good mismatched)" -eq 0 ]
check "same answers with --verify-cache" same ref2 verify_good
# every kept result recomputed: each kind's bytes survive the round trip
scan verify_all --cache "$C" --verify-cache=1
check "--verify-cache=1 on a good file: all $(cst verify_all loaded) verified, none differs" \
	[ "$(cst verify_all verified)" -eq "$(cst verify_all loaded)" -a "$(cst verify_all mismatched)" -eq 0 ]
check "the file holds parsed \$MFT records" grep -q '"kind":5' <("$FORGE" kinds "$F")

# forged $MFT records that pass the checksum: refused or merged, never a crash
for seed in 1 2 3 4 5; do
	cp "$W/good.bswc" "$F"
	"$FORGE" forge "$F" $seed > /dev/null
	rc=0
	"$BIN" scan -j2 -q -o "$W/mft$seed.jsonl" --cache "$C" "$W/fam" 2> "$W/mft$seed.err" || rc=$?
	check "forged \$MFT records, seed $seed: no crash (rc $rc)" [ "$rc" -lt 8 ]
	check "forged \$MFT records, seed $seed: every disk answered" \
		[ "$(wc -l < "$W/mft$seed.jsonl")" -eq 7 ]
done
cp "$W/good.bswc" "$F"

chmod 0777 "$C"
rc=0
"$BIN" scan -q --cache "$C" -o /dev/null "$W/fam" 2> "$W/perm.err" || rc=$?
check "a DIR others may write is refused (rc $rc)" [ "$rc" -ne 0 -a "$rc" -ge 8 ]
rc=0
"$BIN" scan -q --no-share --cache "$W/c3" -o /dev/null "$W/fam" 2> /dev/null || rc=$?
check "--cache with --no-share is refused (rc $rc)" [ "$rc" -ne 0 ]
exit $fail
