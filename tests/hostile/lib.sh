# Sourced by every tests/hostile/*.sh case.  Gives:
#   $B   the bootsweep binary        $MK  mkimage (may be missing)
#   $W   this case's empty work folder (cwd)
#   ok MSG / fail MSG / skip MSG, and finish (exit status of the case)
#   expect_rc WANT CMD...    run CMD, fail unless its exit status is WANT
#   peak_rss_kb CMD...       run CMD under /usr/bin/time, print max RSS (KiB)
set -u
B=${BSW_BIN:?}
MK=${BSW_BINDIR:?}/datasets/mkimage
case_name=$(basename "$0" .sh)
W=${BSW_BINDIR}/t-hostile-$case_name
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
nfail=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; nfail=$((nfail + 1)); }
skip() { echo "skip $*"; exit 77; }
finish() { [ "$nfail" -eq 0 ] || { echo "$nfail failure(s)"; exit 1; }; exit 0; }
expect_rc() {
	local want=$1; shift
	"$@"; local rc=$?
	if [ "$rc" -eq "$want" ]; then ok "exit $rc: $*"; else fail "exit $rc (want $want): $*"; fi
}
peak_rss_kb() {
	/usr/bin/time -f '%M' -o "$W/.rss" "$@" >/dev/null 2>&1
	cat "$W/.rss" | tail -n 1
}

# expect_giant_refused GIANT CLEAN CAP: `scan --mem-cap CAP GIANT CLEAN`
# finishes (exit 1, or 9: the giant could not be opened), one line each:
# GIANT unassessable over the memory cap, CLEAN clean; peak RSS under
# CAP + 256 MiB (the giant cases of hostile_vhd_huge_bat, _vhdx_huge_bat).
expect_giant_refused() {
	local giant=$1 clean=$2 cap=$3 rc kb lim
	"$B" scan --mem-cap "$cap" "$giant" "$clean" > out.jsonl 2> err.txt
	rc=$?
	cat out.jsonl err.txt
	case $rc in
	1|9) ok "exit $rc (the giant unassessable, the sweep finished)" ;;
	*) fail "exit $rc (want 1 or 9)" ;;
	esac
	python3 - "$(basename "$giant")" "$(basename "$clean")" <<'PY' &&
import json, sys
lines = [json.loads(l) for l in open('out.jsonl')]
by = {l['image'].split('/')[-1]: l for l in lines}
assert len(lines) == 2, lines
g, c = by[sys.argv[1]], by[sys.argv[2]]
assert g['verdict'] == 'unassessable', g
assert 'memory cap' in json.dumps(g), g
assert c['verdict'] == 'clean', c
PY
		ok "one line each: giant unassessable (memory cap), clean assessed" || fail "wrong lines"
	kb=$(peak_rss_kb "$B" scan --mem-cap "$cap" "$giant" "$clean")
	lim=$(( (cap + 256) * 1024 ))
	if [ "${kb:-0}" -gt 0 ] && [ "$kb" -lt $lim ]; then ok "peak RSS $kb KiB < $lim KiB"
	else fail "peak RSS $kb KiB (limit $lim KiB)"; fi
}
