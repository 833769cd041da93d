#!/bin/bash
# Hostile inputs: a directory of garbage, empty and truncated images, a
# FIFO and a directory named like images (tests run as root, so chmod 000
# cannot make a file unreadable: these stand in for it), a differencing
# child whose parent is missing in the middle of its chain.  Every input
# gets its own line and the sweep completes.  Then --resume: a torn last
# line is dropped, the remaining disks are appended, and the final set of
# lines equals a one-shot scan.  Finally SIGINT stops a sweep with bit 32.
set -u
BIN=${BSW_BIN:?}
SRC=${BSW_SRCDIR:?}
OUT=${BSW_BINDIR:?}/triage-bad
MKIMAGE=${BSW_BINDIR}/datasets/mkimage
ACC=${BSW_BINDIR}/triage-disks/raw	# read only (fixture triage_disks)
if [ ! -f "$ACC/clean.img" ]; then
	echo "note: no $ACC/clean.img (fixture triage_disks skipped): the cases made from it are left out"
	[ -n "${BSW_STRICT:-}" ] && { echo "FAIL: BSW_STRICT: every case must run"; exit 1; }
fi
rm -rf "$OUT"
mkdir -p "$OUT/in/sub"
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

head -c 1000000 /dev/urandom > "$OUT/in/garbage.raw"
head -c 700 /dev/urandom > "$OUT/in/sub/tiny.vhd"
: > "$OUT/in/empty.img"
: > "$OUT/in/empty.vhdx"
printf 'conectix' > "$OUT/in/footer-only.vhd"
mkfifo "$OUT/in/fifo.vhd"
mkdir "$OUT/in/dir.vhdx"
truncate -s 64M "$OUT/in/zero.img"
echo "not an image" > "$OUT/in/readme.txt"	# not an image name: skipped
n=8
if [ -f "$ACC/clean.img" ]; then
	head -c $(( $(stat -c %s "$ACC/clean.img") / 2 )) "$ACC/clean.img" > "$OUT/in/truncated.img"
	n=$((n + 1))
	if command -v qemu-img >/dev/null; then
		qemu-img convert -O vhdx "$ACC/clean.img" "$OUT/vhdx-full.vhdx"
		head -c 3000000 "$OUT/vhdx-full.vhdx" > "$OUT/in/truncated.vhdx"
		rm -f "$OUT/vhdx-full.vhdx"
		n=$((n + 1))
	fi
	if [ -x "$MKIMAGE" ]; then
		# base <- mid <- child, then mid goes missing
		truncate -s 80M "$OUT/base.raw"
		dd if="$ACC/clean.img" of="$OUT/base.raw" conv=notrunc status=none
		cp "$OUT/base.raw" "$OUT/child.raw"
		"$MKIMAGE" --from-raw "$OUT/base.raw" --out "$OUT/in/chain-base.vhdx" --format vhdx-dynamic &&
		"$MKIMAGE" --diff --parent "$OUT/in/chain-base.vhdx" --locator chain-base.vhdx \
			--base-raw "$OUT/base.raw" --child-raw "$OUT/child.raw" --out "$OUT/in/chain-mid.vhdx" &&
		"$MKIMAGE" --diff --parent "$OUT/in/chain-mid.vhdx" --locator chain-mid.vhdx \
			--base-raw "$OUT/base.raw" --child-raw "$OUT/child.raw" --out "$OUT/in/chain-child.vhdx" &&
		rm -f "$OUT/in/chain-mid.vhdx" && n=$((n + 2)) || echo "note: mkimage could not build the chain"
		rm -f "$OUT/base.raw" "$OUT/child.raw"
	fi
fi
CORPUS_DIFF=${BSW_CORPUS:-/nonexistent}/dfvfs/test_data/fat-differential.vhd
extra=()
[ -f "$CORPUS_DIFF" ] && extra=("$CORPUS_DIFF") && n=$((n + 1))

timeout 120 "$BIN" scan "$OUT/in" "${extra[@]}" -j2 -o "$OUT/all.jsonl" --quiet
rc=$?
[ "$rc" -lt 64 ] || bad "scan crashed or timed out (rc $rc)"
lines=$(wc -l < "$OUT/all.jsonl")
[ "$lines" = "$n" ] && ok "$n inputs, $n lines" || bad "$n inputs but $lines lines"
python3 - "$OUT/all.jsonl" <<'PY' || fail=1
import json, sys
bad = 0
for l in open(sys.argv[1]):
    o = json.loads(l)
    img = o["image"].rsplit("/", 1)[-1]
    v = o["verdict"]
    codes = {f["code"] for f in o["findings"]}
    want_unassess = img in ("garbage.raw", "tiny.vhd", "empty.img", "empty.vhdx", "footer-only.vhd",
                            "fifo.vhd", "dir.vhdx", "zero.img", "truncated.vhdx", "fat-differential.vhd",
                            "chain-child.vhdx")
    if want_unassess and v != "unassessable":
        print("FAIL: %s: %s, want unassessable" % (img, v)); bad = 1
    if img == "zero.img" and "DISK-EMPTY" not in codes:
        print("FAIL: zero.img without DISK-EMPTY"); bad = 1
    if img in ("fifo.vhd", "dir.vhdx", "empty.img", "chain-child.vhdx") and "error" not in o:
        print("FAIL: %s has no error" % img); bad = 1
    if img == "truncated.img" and v == "clean":
        print("FAIL: truncated.img called clean"); bad = 1
    if img == "chain-base.vhdx" and v != "clean":
        print("FAIL: chain-base.vhdx is %s (%s)" % (v, sorted(codes))); bad = 1
    print("   %-22s %-14s %s" % (img, v, ",".join(sorted(codes))))
sys.exit(bad)
PY
[ $((rc & 8)) = 8 ] && ok "operational-error bit set" || bad "exit $rc lacks bit 8"

# --resume: keep 3 complete lines and half of the 4th, resume, compare sets
head -n 3 "$OUT/all.jsonl" > "$OUT/part.jsonl"
sed -n 4p "$OUT/all.jsonl" | head -c 50 >> "$OUT/part.jsonl"
timeout 120 "$BIN" scan "$OUT/in" "${extra[@]}" -j2 -o "$OUT/part.jsonl" --resume --quiet
strip() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l); o.pop("timings_ms", None); o.pop("scan_start", None); print(json.dumps(o, sort_keys=True))' "$1" | sort; }
if cmp -s <(strip "$OUT/all.jsonl") <(strip "$OUT/part.jsonl"); then
	ok "resume after a torn line gives the same set"
else
	bad "resume differs"; diff <(strip "$OUT/all.jsonl" | cut -c1-80) <(strip "$OUT/part.jsonl" | cut -c1-80) | head
fi
before=$(wc -l < "$OUT/part.jsonl")
timeout 60 "$BIN" scan "$OUT/in" "${extra[@]}" -o "$OUT/part.jsonl" --resume --quiet
[ "$(wc -l < "$OUT/part.jsonl")" = "$before" ] && ok "resume of a finished sweep adds nothing" ||
	bad "second resume added lines"

# per-disk byte budget: SCAN-LIMIT, unassessable, the sweep goes on
if [ -f "$ACC/clean.img" ]; then
	"$BIN" scan "$ACC/clean.img" "$ACC/pending-xml.img" --max-bytes 200K -o "$OUT/limit.jsonl" --quiet
	python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 2, rows
for o in rows:
    assert o["verdict"] == "unassessable" and "SCAN-LIMIT" in o["decided_by"], o["decided_by"]' "$OUT/limit.jsonl" &&
		ok "--max-bytes: SCAN-LIMIT on both disks" || bad "--max-bytes"
fi

# SIGINT: a sweep interrupted at once stops with bit 32
if [ -d "$ACC" ]; then
	# 3000 disks (hard links: one name each, as a path named twice is one disk)
	python3 -c '
import os, sys
os.makedirs(sys.argv[2], exist_ok=True)
with open(sys.argv[3], "w") as f:
    for i in range(3000):
        p = os.path.join(sys.argv[2], "c%04d.img" % i)
        os.link(sys.argv[1], p)
        f.write(p + "\n")' "$ACC/clean.img" "$OUT/many" "$OUT/many.list"
	"$BIN" scan --from "$OUT/many.list" -j1 -o "$OUT/int.jsonl" --quiet &
	pid=$!
	sleep 1
	kill -INT $pid
	wait $pid
	rc=$?
	[ $((rc & 32)) = 32 ] && ok "SIGINT: exit $rc has bit 32" || bad "SIGINT: exit $rc"
	[ "$(wc -l < "$OUT/int.jsonl")" -lt 3000 ] && ok "SIGINT stopped the sweep early" || bad "SIGINT did not stop the sweep"
	python3 -c '
import json, sys
for l in open(sys.argv[1]): json.loads(l)' "$OUT/int.jsonl" && ok "interrupted output has only complete lines" ||
		bad "interrupted output has a torn line"
fi
exit $fail
