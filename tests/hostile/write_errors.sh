#!/bin/bash
# Write errors never lose results silently.  /dev/full as -o and as
# standard output: a message and bit 8, for scan and for the commands that
# print (info, ls, hive --export).  A filesystem that fills up mid-sweep:
# the sweep stops with a message and bit 8, the output holds whole lines
# only, and --resume on a disk with room completes it: every disk once.
. "$(dirname "$0")/lib.sh"
command -v sfdisk >/dev/null || skip "sfdisk missing"
truncate -s 16M a.img && printf 'label: gpt\n,,L\n' | sfdisk -q a.img
for cmd in "scan a.img -o /dev/full --quiet" "scan a.img --quiet" "info a.img" "info --json a.img"; do
	# shellcheck disable=SC2086
	"$B" $cmd > /dev/full 2> err.txt
	rc=$?
	if [ $((rc & 8)) = 8 ] && grep -qi "no space left\|write error" err.txt; then
		ok "$cmd > /dev/full: exit $rc, '$(head -c 80 err.txt | tr '\n' ' ')'"
	else
		fail "$cmd > /dev/full: exit $rc, stderr '$(cat err.txt)'"
	fi
done
H=${BSW_CORPUS:-/nonexistent}/yarp/hives_for_tests/NewDirtyHive1/RecoveredHive_Windows10
if [ -f "$H" ]; then
	"$B" hive "$H" --export --no-logs > /dev/full 2> err.txt
	rc=$?
	[ $((rc & 8)) = 8 ] && ok "hive --export > /dev/full: exit $rc" || fail "hive --export > /dev/full: exit $rc"
fi

# a filesystem that fills up in the middle of a sweep
mkdir -p small
if ! mount -t tmpfs -o size=12k tmpfs small 2>/dev/null; then
	echo "note: cannot mount a small tmpfs here; the mid-sweep ENOSPC case is not run"
	finish
fi
trap 'umount "$W/small" 2>/dev/null' EXIT
mkdir in
for i in $(seq -w 1 40); do ln a.img "in/d$i.img"; done
"$B" scan in -j2 -o small/out.jsonl --quiet 2> err.txt
rc=$?
n1=$(wc -l < small/out.jsonl)
[ $((rc & 8)) = 8 ] && ok "filesystem full: exit $rc has bit 8" || fail "filesystem full: exit $rc"
grep -q "No space left on device" err.txt && ok "the message names the error" || fail "stderr: $(cat err.txt)"
[ "$n1" -gt 0 ] && [ "$n1" -lt 40 ] && ok "$n1 of 40 lines written before the disk filled" || fail "$n1 lines"
[ -z "$(tail -c 1 small/out.jsonl | tr -d '\n')" ] && ok "the file ends with a whole line" || fail "torn last line"
python3 -c '
import json, sys
for l in open(sys.argv[1]): json.loads(l)' small/out.jsonl && ok "every line is valid JSON" || fail "a line is not JSON"
mount -o remount,size=1m small
"$B" scan in -j2 -o small/out.jsonl --resume --quiet
rc=$?
[ "$rc" -eq 1 ] && ok "resume on a disk with room: exit 1 (every disk unassessable: not Windows)" || fail "resume: exit $rc"
python3 - small/out.jsonl <<'PY' && ok "after resume: 40 disks, each exactly once" || fail "after resume: wrong set"
import json, sys, collections
c = collections.Counter(json.loads(l)["image"].split("/in/", 1)[-1] for l in open(sys.argv[1]))
want = {"d%02d.img" % i for i in range(1, 41)}
sys.exit(0 if set(c) == want and set(c.values()) == {1} else 1)
PY
finish
