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
