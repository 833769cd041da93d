#!/bin/bash
# The directory walk drops nothing silently.  A folder deeper than
# --max-depth (default 64), a path longer than PATH_MAX and a folder that
# cannot be read (tried as an unprivileged user: root reads everything)
# are each reported on stderr and as an error line, the exit status has
# bit 8, and every image after them is still swept.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
mkdir -p tree/a tree/z
head -c 4096 /dev/zero > tree/a/first.img
cp tree/a/first.img tree/z/last.img
# 70 nested folders, an image at depth 40 and one at depth 70
p=tree/deep
for i in $(seq 1 70); do
	p=$p/d
	[ "$i" = 40 ] && { mkdir -p "$p"; cp tree/a/first.img "$p/mid.img"; }
done
mkdir -p "$p" && cp tree/a/first.img "$p/bottom.img"
"$B" scan tree -o d1.jsonl --quiet 2> err1.txt
rc=$?
[ $((rc & 8)) = 8 ] && ok "depth 71 > 64: exit $rc has bit 8" || fail "deep tree: exit $rc"
grep -q "deeper than --max-depth 64" err1.txt && ok "the deep folder is named on stderr" || fail "stderr: $(head -c 300 err1.txt)"
python3 - d1.jsonl <<'PY' && ok "mid.img, first.img, last.img swept; the deep folder has an error line" || fail "deep tree lines"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = [r["image"].rsplit("/", 1)[-1] for r in rows]
assert "mid.img" in names and "first.img" in names and "last.img" in names, names
assert "bottom.img" not in names, names
err = [r for r in rows if "deeper than --max-depth" in r.get("error", "")]
assert len(err) == 1 and err[0]["verdict"] == "unassessable", rows
PY
"$B" scan tree --max-depth 80 -o d2.jsonl --quiet 2> /dev/null
rc=$?
grep -q bottom.img d2.jsonl && [ $((rc & 8)) = 0 ] && ok "--max-depth 80 finds the bottom image, exit $rc" ||
	fail "--max-depth 80: exit $rc"
expect_rc 16 "$B" scan tree --max-depth -3 --quiet

# a path over PATH_MAX (4096): 20 folders of 250 characters
long=long
n=$(printf 'x%.0s' $(seq 1 250))
rel=""
for i in $(seq 1 20); do rel="$rel/$n$i"; done
( mkdir -p "long$rel" 2>/dev/null && cd "long$rel" && head -c 4096 /dev/zero > far.img ) ||
	python3 -c '
import os, sys
os.makedirs("long", exist_ok=True); os.chdir("long")
for part in sys.argv[1].strip("/").split("/"):
    os.makedirs(part, exist_ok=True); os.chdir(part)
open("far.img", "wb").write(bytes(4096))' "$rel"
"$B" scan long --max-depth 100 -o l.jsonl --quiet 2> errl.txt
rc=$?
[ $((rc & 8)) = 8 ] && grep -q "longer than PATH_MAX" errl.txt && ok "a path over PATH_MAX is reported, exit $rc" ||
	fail "long path: exit $rc, $(head -c 200 errl.txt)"

# a folder the user cannot read, between readable ones
if command -v setpriv >/dev/null; then
	mkdir -p lock/a lock/m lock/z
	cp tree/a/first.img lock/a/ && cp tree/a/first.img lock/m/ && cp tree/a/first.img lock/z/
	chmod 755 "$W" lock lock/a lock/z && chmod 700 lock/m && chmod 644 lock/*/first.img
	chmod 777 "$W"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$B" scan lock -o "$W/k.jsonl" --quiet 2> errk.txt
	rc=$?
	[ $((rc & 8)) = 8 ] && ok "locked folder: exit $rc has bit 8" || fail "locked folder: exit $rc"
	grep -q "lock/m: not swept: folder not read: Permission denied" errk.txt && ok "the locked folder is named" ||
		fail "stderr: $(cat errk.txt)"
	grep -q '/lock/z/first.img"' k.jsonl && grep -q '/lock/a/first.img"' k.jsonl &&
		ok "images before and after the locked folder swept" || fail "images missing: $(cut -c1-60 k.jsonl)"
	grep -q '"image":"[^"]*/lock/m","verdict":"unassessable"' k.jsonl && ok "the locked folder has an error line" ||
		fail "no error line for lock/m"
else
	echo "note: setpriv missing; the locked-folder case is not run"
fi
finish
