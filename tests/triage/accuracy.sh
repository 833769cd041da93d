#!/bin/bash
# Accuracy over the scenario catalogue: small Windows-shaped disks made by
# mkdisk.py (raw, and VHDX copies made by qemu-img), or mkfleet's fleet
# when datasets/mkfleet is built.  Every verdict must equal truth.jsonl's
# class and every truth code be reported; no faulty disk may be clean.
# Also: -j1 and -j2 give the same lines, and no image is modified.
set -u
BIN=${BSW_BIN:?}
SRC=${BSW_SRCDIR:?}
OUT=${BSW_BINDIR:?}/triage-accuracy
[ "$(id -u)" = 0 ] && [ -e /dev/fuse ] || { echo "needs root and /dev/fuse (ntfs-3g mount)"; exit 77; }
for t in hivexsh sgdisk mkntfs ntfs-3g mkfs.vfat mcopy qemu-img python3; do
	command -v $t >/dev/null || { echo "missing $t"; exit 77; }
done
[ -f "${BSW_CORPUS:-}/hivex/images/minimal" ] || { echo "corpus hivex/images/minimal missing"; exit 77; }

if [ ! -f "$OUT/truth.jsonl" ] || [ "$SRC/tests/triage/mkdisk.py" -nt "$OUT/truth.jsonl" ]; then
	rm -rf "$OUT"
	python3 "$SRC/tests/triage/mkdisk.py" "$OUT/raw" || exit 1
	mkdir -p "$OUT/vhdx"
	# VHDX copies of a few scenarios (dynamic, as Hyper-V makes them)
	: > "$OUT/vhdx/truth.jsonl"
	for sc in clean pending-xml half-rollback winload-missing bcd-bad-path; do
		qemu-img convert -O vhdx "$OUT/raw/$sc.img" "$OUT/vhdx/$sc.vhdx" || exit 1
		grep "\"$sc.img\"" "$OUT/raw/truth.jsonl" | sed "s/$sc.img/$sc.vhdx/" >> "$OUT/vhdx/truth.jsonl"
	done
	cat "$OUT/raw/truth.jsonl" "$OUT/vhdx/truth.jsonl" > "$OUT/truth.jsonl"
fi

find "$OUT/raw" "$OUT/vhdx" -type f \( -name '*.img' -o -name '*.vhdx' \) -print0 | sort -z |
	xargs -0 stat -c '%n %Y' > "$OUT/mtime.before"
find "$OUT/raw" "$OUT/vhdx" -type f \( -name '*.img' -o -name '*.vhdx' \) -print0 | sort -z |
	xargs -0 sha256sum > "$OUT/sha.before"

fail=0
"$BIN" scan "$OUT/raw" "$OUT/vhdx" -j2 -o "$OUT/results-j2.jsonl" --quiet
rc=$?
[ $((rc & 8)) = 0 ] || { echo "operational error bit set (rc $rc)"; fail=1; }
[ $((rc & 7)) = 7 ] || { echo "exit bits $rc: want unassessable|rollback|unbootable"; fail=1; }
python3 "$SRC/tests/triage/check_truth.py" "$OUT/truth.jsonl" "$OUT/results-j2.jsonl" || fail=1

"$BIN" scan "$OUT/raw" "$OUT/vhdx" -j1 -o "$OUT/results-j1.jsonl" --quiet
strip() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l); o.pop("timings_ms", None); o.pop("scan_start", None); print(json.dumps(o, sort_keys=True))' "$1" | sort; }
if ! cmp -s <(strip "$OUT/results-j1.jsonl") <(strip "$OUT/results-j2.jsonl"); then
	echo "FAIL: -j1 and -j2 outputs differ"; diff <(strip "$OUT/results-j1.jsonl") <(strip "$OUT/results-j2.jsonl") | head -5; fail=1
fi

find "$OUT/raw" "$OUT/vhdx" -type f \( -name '*.img' -o -name '*.vhdx' \) -print0 | sort -z |
	xargs -0 stat -c '%n %Y' > "$OUT/mtime.after"
find "$OUT/raw" "$OUT/vhdx" -type f \( -name '*.img' -o -name '*.vhdx' \) -print0 | sort -z |
	xargs -0 sha256sum > "$OUT/sha.after"
cmp -s "$OUT/sha.before" "$OUT/sha.after" || { echo "FAIL: an image's SHA-256 changed"; fail=1; }
cmp -s "$OUT/mtime.before" "$OUT/mtime.after" || { echo "FAIL: an image's mtime changed"; fail=1; }
[ $fail = 0 ] && echo "accuracy: PASS ($(wc -l < "$OUT/truth.jsonl") disks)"
exit $fail
