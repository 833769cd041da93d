# Shared by the shard tests: a small store of families and lone disks, and
# the comparison of a merged sweep with a single-process one.
BIN=${BSW_BIN:?BSW_BIN: the bootsweep binary}
BINDIR=${BSW_BINDIR:?BSW_BINDIR: the build folder}
SRC=${BSW_SRCDIR:?BSW_SRCDIR: the source folder}
MK=$BINDIR/datasets/mkfleet
fail() { echo "FAIL: $*"; exit 1; }
note() { echo "== $*"; }
[ -x "$BIN" ] || { echo "SKIP: no bootsweep binary"; exit 77; }
[ -x "$MK" ] || { echo "SKIP: mkfleet not built"; exit 77; }
for t in mkfs.vfat mcopy python3; do
	command -v $t > /dev/null || { echo "SKIP: $t missing (.ci/setup installs it)"; exit 77; }
done

# make_store DIR: a/ (VHDX base + 5 children), b/ (VHD base + 3 children),
# solo/ (3 raw disks): 5 families, 13 disks, every verdict but unassessable
make_store() {
	mkdir -p "$1"
	"$MK" --out "$1/a" --scale small --format vhdx --children 5 \
		--scenarios clean,pending-xml,kernel-torn --seed 1 > /dev/null 2>&1 || fail "mkfleet a"
	"$MK" --out "$1/b" --scale small --format vhd --children 3 \
		--scenarios clean,system-dirty-badlog --seed 2 > /dev/null 2>&1 || fail "mkfleet b"
	"$MK" --out "$1/solo" --scale small --format raw \
		--scenarios clean,pending-xml,mbr-clean --seed 3 > /dev/null 2>&1 || fail "mkfleet solo"
}

# same_results A B: the same disks with the same lines, timings aside
# (timings_ms, and scan_start: when the sweep began) and bytes_read: a
# family's disks read less when a sibling in the same process computed a
# shared result first (docs/sharing.md), so a part reads more than the
# single sweep did
same_results() {
	python3 - "$1" "$2" <<'PY'
import json, sys
def load(p):
    out = {}
    for n, l in enumerate(open(p, encoding="utf-8", errors="surrogateescape"), 1):
        o = json.loads(l)
        o.pop("timings_ms", None)
        o.pop("scan_start", None)
        o.pop("bytes_read", None)
        if o["image"] in out:
            sys.exit(f"{p}:{n}: {o['image']} twice")
        out[o["image"]] = o
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            print("differs:", k, "only in one" if (k in a) != (k in b) else "")
    sys.exit(f"{sys.argv[1]} and {sys.argv[2]} differ")
print(f"same {len(a)} disks, same lines apart from timings_ms, scan_start and bytes_read")
PY
}
