#!/bin/bash
# `bootsweep hive` options: log discovery (any case), --log, --no-logs,
# --json, --recovered (refuses existing files and the input; the written
# hive is clean and exports like the replayed one), exit statuses.
set -u
BIN=${BSW_BIN:?}
CORPUS=${BSW_CORPUS:?}
Y=$CORPUS/yarp/hives_for_tests
W=${BSW_BINDIR:-.}/regf_cli
[ -d "$Y/NewDirtyHive1" ] || exit 77
rm -rf "$W"
mkdir -p "$W"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# Exit statuses.
"$BIN" hive >/dev/null 2>&1; [ $? = 16 ] || bad "no argument: not 16"
"$BIN" hive --bogus x >/dev/null 2>&1; [ $? = 16 ] || bad "unknown option: not 16"
"$BIN" hive "$W/absent" >/dev/null 2>&1; [ $? = 8 ] || bad "missing file: not 8"
"$BIN" hive "$Y/NewDirtyHive1/NewDirtyHive" >/dev/null; [ $? = 0 ] || bad "recovered: not 0"
"$BIN" hive --no-logs "$Y/NewDirtyHive1/NewDirtyHive" >/dev/null; [ $? = 4 ] || bad "--no-logs: not 4"
"$BIN" hive "$Y/BadLogHive1/BadLogHive" >/dev/null; [ $? = 4 ] || bad "bad log: not 4"

# Explicit --log, in any order: both logs recover like Windows.
D=$Y/NewDirtyHive1
"$BIN" hive "$D/RecoveredHive_Windows10" --export > "$W/truth.reg"
"$BIN" hive "$D/NewDirtyHive" --log "$D/NewDirtyHive.LOG2" --log "$D/NewDirtyHive.LOG1" \
	--export > "$W/both.reg"
cmp -s "$W/both.reg" "$W/truth.reg" || bad "--log LOG2 --log LOG1 differs from Windows' recovery"
"$BIN" hive "$D/NewDirtyHive" --log "$D/NewDirtyHive.LOG1" | head -1 |
	grep -q ': dirty and recovered$' || bad "--log LOG1 alone did not recover"

# JSON: one object; discovery is case-insensitive (AA with aa.log, aa.log1).
for d in 1 2 3 4; do
	f=$(ls "$Y/Discovery/$d" | grep -iv log | head -1)
	"$BIN" hive --json "$Y/Discovery/$d/$f" > "$W/d$d.json"
	python3 - "$W/d$d.json" "$d" <<'EOF' || bad "discovery $d"
import json, sys
o = json.load(open(sys.argv[1]))
want = {"1": 3, "2": 2, "3": 2, "4": 3}[sys.argv[2]]
assert o["state"] == "not a hive", o
assert len(o["logs"]) == want, (o["logs"], want)
assert all(f["code"] for f in o["findings"])
EOF
done

# --recovered: a new file only.
"$BIN" hive "$Y/NewDirtyHive1/NewDirtyHive" --recovered "$W/rec" >/dev/null || bad "--recovered failed"
"$BIN" hive --no-logs "$W/rec" | head -1 | grep -q ': clean$' || bad "recovered file is not clean"
"$BIN" hive --no-logs "$W/rec" --export > "$W/a.reg"
"$BIN" hive "$Y/NewDirtyHive1/RecoveredHive_Windows10" --export > "$W/b.reg"
cmp -s "$W/a.reg" "$W/b.reg" || bad "recovered file exports differently from Windows' recovery"
"$BIN" hive "$Y/NewDirtyHive1/NewDirtyHive" --recovered "$W/rec" >/dev/null 2>&1
[ $? = 8 ] || bad "--recovered over an existing file: not 8"
cp "$Y/OldDirtyHive/OldDirtyHive" "$W/in"
chmod u+w "$W/in"
sum=$(md5sum < "$W/in")
"$BIN" hive "$W/in" --no-logs --recovered "$W/in" >/dev/null 2>&1
[ $? -ge 8 ] || bad "--recovered onto the input: accepted"
[ "$(md5sum < "$W/in")" = "$sum" ] || bad "input was modified"

# The input and its logs are read-only to us: run on read-only copies.
exit $fail
