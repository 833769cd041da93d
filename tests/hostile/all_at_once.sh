#!/bin/bash
# One sweep over every class of abuse at once: the giant VHD and VHDX whose
# tables would not fit (hostile_vhd_huge_bat, hostile_vhdx_huge_bat make
# them: a CTest fixture runs those first), the folder 71 deep and the
# non-UTF-8 names (hostile_walk, hostile_names), and a clean disk.  With
# --mem-cap 256M the peak RSS stays under the cap plus 256 MiB, no disk
# takes more than --disk-timeout, every input has exactly one valid line,
# and the exit status says what happened (1 unassessable, 8 incomplete).
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/time ] || skip "/usr/bin/time missing"
T=${BSW_BINDIR}
in=()
for f in "$T"/t-hostile-vhd_huge_bat/giant.vhd "$T"/t-hostile-vhdx_huge_bat/*.vhdx \
	 "$T"/t-hostile-vhd_huge_bat/fleet/clean.vhd; do
	[ -f "$f" ] && in+=("$f")
done
[ -d "$T/t-hostile-walk/tree" ] && in+=("$T/t-hostile-walk/tree")
[ -d "$T/t-hostile-names/in" ] && in+=("$T/t-hostile-names/in")
[ "${#in[@]}" -ge 4 ] || skip "the other hostile cases have not left their inputs (run the hostile label)"
CAP=256
/usr/bin/time -f '%M' -o rss.txt "$B" scan --mem-cap ${CAP}M --disk-timeout 60 -j2 -o out.jsonl --quiet "${in[@]}" 2> err.txt
rc=$?
rss=$(tail -n 1 rss.txt)
echo "inputs: ${in[*]}"
echo "exit $rc, peak RSS $rss KiB, $(wc -l < out.jsonl) lines"
[ $((rc & 1)) = 1 ] && [ $((rc & 8)) = 8 ] && [ "$rc" -lt 64 ] && ok "exit $rc: unassessable disks and an incomplete walk, no crash" ||
	fail "exit $rc"
[ "$rss" -lt $(((CAP + 256) * 1024)) ] && ok "peak RSS $rss KiB < --mem-cap + 256 MiB" || fail "peak RSS $rss KiB"
python3 - out.jsonl <<'PY' && ok "every input once, valid JSON, no disk over its time limit" || fail "lines"
import collections, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
c = collections.Counter(r["image"] for r in rows)
assert set(c.values()) == {1}, c.most_common(2)
assert any(r["image"].endswith("giant.vhd") and r["verdict"] == "unassessable" for r in rows)
assert any(r["image"].endswith("clean.vhd") and r["verdict"] == "clean" for r in rows)
assert any("deeper than --max-depth" in r.get("error", "") for r in rows)
assert all(r.get("timings_ms", {}).get("total", 0) <= 65000 for r in rows)
print("   %d lines, verdicts %s" % (len(rows), dict(collections.Counter(r["verdict"] for r in rows))))
PY
finish
