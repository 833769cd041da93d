#!/bin/bash
# Accuracy over datasets/mkfleet's reference fleet (--scenarios all), raw and
# VHDX, and a fleet of differencing children over one base: every verdict
# equals truth.jsonl's class, every truth code is reported, no faulty disk
# is called clean; -j1 and -j2 agree; no image changes (size, mtime and
# ctime: any write would move ctime; the fleets are too large to hash
# every run, tests/triage/accuracy.sh compares SHA-256).  Skipped (77) when
# mkfleet is not built.
set -u
BIN=${BSW_BIN:?}
SRC=${BSW_SRCDIR:?}
MKFLEET=${BSW_BINDIR:?}/datasets/mkfleet
OUT=${BSW_BINDIR}/triage-fleet
[ -x "$MKFLEET" ] || { echo "mkfleet not built"; exit 77; }
fail=0
stamp=$(stat -c %Y "$MKFLEET")
if [ ! -f "$OUT/stamp" ] || [ "$(cat "$OUT/stamp")" != "$stamp" ]; then
	rm -rf "$OUT"
	mkdir -p "$OUT"
	"$MKFLEET" --out "$OUT/raw" --scale small --seed 1 --scenarios all --format raw \
		>"$OUT/mkfleet-raw.log" 2>&1 ||
		{ echo "FAIL: mkfleet (raw fleet) exited $?"; tail -5 "$OUT/mkfleet-raw.log"; exit 1; }
	want=$("$MKFLEET" --list | wc -l)
	got=$(wc -l < "$OUT/raw/truth.jsonl")
	[ "$want" = "$got" ] || { echo "FAIL: $want scenarios listed, $got disks made"; exit 1; }
	# the VHDX fleet: the same disks converted (dynamic VHDX, as Hyper-V makes)
	mkdir -p "$OUT/vhdx"
	: > "$OUT/vhdx/truth.jsonl"
	while read -r line; do
		img=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["image"])' "$line")
		qemu-img convert -O vhdx "$OUT/raw/$img" "$OUT/vhdx/${img%.*}.vhdx" || continue
		echo "$line" | sed "s/\"$img\"/\"${img%.*}.vhdx\"/" >> "$OUT/vhdx/truth.jsonl"
	done < "$OUT/raw/truth.jsonl"
	"$MKFLEET" --out "$OUT/children" --scale small --seed 2 --scenarios clean,pending-xml,driver-missing \
		--format vhdx --children 12 >"$OUT/mkfleet-children.log" 2>&1 ||
		{ echo "FAIL: mkfleet --children exited $?"; exit 1; }
	echo "$stamp" > "$OUT/stamp"
fi
# bytes_read of a family's disks depends on which disk first read a shared
# result (docs/sharing.md): compared only where nothing is shared
strip() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l); o.pop("timings_ms", None); o.pop("scan_start", None)
    if len(o.get("chain", [])) > 1 or "/children/" in o["image"]: o.pop("bytes_read", None)
    print(json.dumps(o, sort_keys=True))' "$1" | sort; }
for part in raw vhdx children; do
	d=$OUT/$part
	[ -s "$d/truth.jsonl" ] || { echo "FAIL: no $part fleet"; fail=1; continue; }
	find "$d" -type f \( -name '*.img' -o -name '*.vhd' -o -name '*.vhdx' -o -name '*.raw' \) -print0 |
		sort -z | xargs -0 stat -c "%n %s %Y %Z" > "$OUT/$part.sha.before"
	"$BIN" scan "$d" -j2 -o "$OUT/$part-j2.jsonl" --quiet
	echo "== $part: $(wc -l < "$d/truth.jsonl") disks in truth"
	# truth lists the disks it describes; parents of children are scanned
	# too and carry their own truth lines when mkfleet writes them
	python3 "$SRC/tests/triage/check_truth.py" "$d/truth.jsonl" "$OUT/$part-j2.jsonl" || fail=1
	[ $part = vhdx ] || "$BIN" scan "$d" -j1 -o "$OUT/$part-j1.jsonl" --quiet
	[ $part = vhdx ] || cmp -s <(strip "$OUT/$part-j1.jsonl") <(strip "$OUT/$part-j2.jsonl") ||
		{ echo "FAIL: $part: -j1 and -j2 differ"; fail=1; }
	find "$d" -type f \( -name '*.img' -o -name '*.vhd' -o -name '*.vhdx' -o -name '*.raw' \) -print0 |
		sort -z | xargs -0 stat -c "%n %s %Y %Z" > "$OUT/$part.sha.after"
	cmp -s "$OUT/$part.sha.before" "$OUT/$part.sha.after" || { echo "FAIL: $part: an image changed"; fail=1; }
done

# libntfs-3g's second opinion rides along in the scan: its mount-time
# verdict agrees with bootsweep's on the dirty-flag and unclean-log disks,
# refuses the disk whose boot sectors are both gone, and --no-ntfs3g
# leaves it out.
n3() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    n = sorted(f["name"] for f in o["findings"] if f["name"].startswith("PR_NTFS3G_"))
    print(o["image"].rsplit("/", 1)[-1], ",".join(n) or "-")' "$1"; }
n3 "$OUT/raw-j2.jsonl" > "$OUT/ntfs3g.txt"
for want in "ntfs-dirty-flag.img PR_NTFS3G_F0_VOLFLAG" "logfile-unclean.img PR_NTFS3G_F0_LOG_UNCLEAN" \
	    "ntfs-boot-both-damaged.img PR_NTFS3G_F0_MOUNT" "clean.img -"; do
	grep -qx "$want" "$OUT/ntfs3g.txt" || { echo "FAIL: want '$want' in:"; cat "$OUT/ntfs3g.txt"; fail=1; }
done
"$BIN" scan "$OUT/raw/ntfs-dirty-flag.img" "$OUT/raw/logfile-unclean.img" --no-ntfs3g --quiet \
	-o "$OUT/no-ntfs3g.jsonl"
if n3 "$OUT/no-ntfs3g.jsonl" | grep -v ' -$'; then
	echo "FAIL: --no-ntfs3g still ran libntfs-3g"; fail=1
fi
[ "$(wc -l < "$OUT/no-ntfs3g.jsonl")" = 2 ] || { echo "FAIL: --no-ntfs3g: want 2 lines"; fail=1; }

# libntfs-3g runs in a child process: a child that crashes, hangs or prints
# rubbish costs one NTFS3G-CHILD finding on its disk, the other checks and
# disks go on, and nothing it prints is taken as another row.
H=$OUT/helpers
mkdir -p "$H"
printf '#!/bin/sh\nkill -SEGV $$\n' > "$H/crash"
printf '#!/bin/sh\nexec sleep 30\n' > "$H/hang"
printf '#!/bin/sh\nprintf "F\\t030101\\t0\\t0\\t=x\\t-\\nrubbish\\n"\n' > "$H/liar"
chmod +x "$H/crash" "$H/hang" "$H/liar"
for h in crash:'was killed by signal 11' hang:'gave no answer within 2 s' liar:'2 line(s)'; do
	BSW_NTFS3G_HELPER=$H/${h%%:*} "$BIN" scan "$OUT/raw/clean.img" "$OUT/raw/pending-xml.img" \
		--disk-timeout 4 --quiet -o "$OUT/child-${h%%:*}.jsonl"
	python3 - "$OUT/child-${h%%:*}.jsonl" "${h#*:}" "${h%%:*}" <<'PY' || fail=1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ok = len(lines) == 2
for o in lines:
    child = [f for f in o["findings"] if f["code"] == "NTFS3G-CHILD"]
    other = [f for f in o["findings"] if f["name"].startswith("PR_NTFS3G_") and f not in child]
    want = {"clean.img": "clean", "pending-xml.img": "dirty-rollback"}[o["image"].rsplit("/", 1)[-1]]
    if len(child) != 1 or sys.argv[2] not in child[0]["message"] or other or o["verdict"] != want \
            or any(f["code"] == "NTFS-META" for f in o["findings"]):
        ok = False
        print("FAIL: %s helper: %s %s %s" % (sys.argv[3], o["image"], o["verdict"],
              [f["message"] for f in o["findings"]]))
sys.exit(0 if ok else 1)
PY
done
exit $fail
