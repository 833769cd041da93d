#!/bin/bash
# WOF (CompactOS) end to end (issue 14 item 5): mkfleet's `compactos` disk
# stores the boot path and some projected WinSxS files as WOF files (reparse
# point 0x80000017 + a WofCompressedData stream whose chunks wimlib's
# compressors made).  Each reads back through `bootsweep cat` equal to the
# same file of the plain twin `clean`; The Sleuth Kit sees the reparse point
# and the stream, and the stream's layout is checked here byte by byte; each
# of the four algorithms is used; `scan` judges compactos as it judges clean
# and hashes the WOF files.  Broken copies must show up: a damaged chunk
# (the file no longer hashes) and an unknown algorithm (NTFS-UNDECODED).
set -u
B=${BSW_BIN:?}
MK=${BSW_BINDIR:?}/datasets/mkfleet
W=${BSW_BINDIR}/t-wof
[ -x "$MK" ] || { echo "skip: mkfleet not built"; exit 77; }
for t in mmls fsstat istat icat python3 mkfs.vfat mcopy sha256sum; do
	command -v $t >/dev/null || { echo "skip: $t missing"; exit 77; }
done
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

MKFLEET_WOF_VERBOSE=1 "$MK" --out f --scale small --scenarios clean,compactos --format raw \
	> mk.log 2>&1 || { cat mk.log; echo "FAIL mkfleet"; exit 1; }
C=f/compactos.img
P=f/clean.img
grep -q '"scenario":"compactos","class":"clean","codes":\[\]' f/truth.jsonl &&
	ok "truth: compactos is clean, no codes" || bad "truth: $(grep compactos f/truth.jsonl)"

# the Windows partition: the last one mmls lists (ESP, MSR, Windows)
OFF=$(mmls "$C" | awk '$2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { o = $3 + 0 } END { print o }')
fsstat -o "$OFF" "$C" 2>/dev/null | grep -q NTFS || { bad "no NTFS at sector $OFF"; exit 1; }

# the WOF files as bootsweep lists them (flag w); every name of every record
"$B" ls "$C" '\Windows' -R > ls.txt || bad "ls exit $?"
awk -F'\t' 'substr($3, 4, 1) == "w"' ls.txt > wof.txt
nw=$(wc -l < wof.txt)
[ "$nw" -ge 30 ] && ok "bootsweep ls: $nw WOF names" || bad "bootsweep ls: only $nw WOF names"
for f in '\Windows\System32\ntoskrnl.exe' '\Windows\System32\hal.dll' \
	 '\Windows\System32\winload.efi' '\Windows\System32\ci.dll' \
	 '\Windows\System32\drivers\disk.sys' '\Windows\System32\shell32.dll'; do
	P="$f" awk -F'\t' '$6 == ENVIRON["P"] { f = 1 } END { exit !f }' wof.txt ||
		bad "$f is not a WOF file"
done
awk -F'\t' '$6 ~ /\\WinSxS\\amd64_/' wof.txt | grep -q . && ok "projected WinSxS copies are WOF files" ||
	bad "no WOF file under WinSxS"
"$B" ls "$P" '\Windows' -R | awk -F'\t' 'substr($3, 4, 1) == "w"' | grep -q . &&
	bad "the plain twin has WOF files"

# contents: each WOF name reads back as the twin's file (sha256, size)
n=0; same=0
while IFS=$'\t' read -r rec seq fl size links path; do
	n=$((n + 1))
	a=$("$B" cat "$C" --path "$path" | sha256sum)
	b=$("$B" cat "$P" --path "$path" | sha256sum)
	if [ "$a" = "$b" ] && [ "${a%% *}" != "$(printf '' | sha256sum | cut -d' ' -f1)" ]; then
		same=$((same + 1))
	else
		bad "cat $path differs from the plain twin"
	fi
done < wof.txt
[ "$n" = "$same" ] && ok "bootsweep cat: $same WOF names equal the plain twin's bytes"

# on disk: The Sleuth Kit's view of each WOF record, and the raw attributes
mkdir -p raw
cut -f1,4,6 wof.txt | sort -u -t$'\t' -k1,1n > recs.txt
while IFS=$'\t' read -r rec size path; do
	istat -o "$OFF" "$C" "$rec" > raw/$rec.istat || { bad "istat $rec"; continue; }
	rp=$(sed -n 's/^Type: \$REPARSE_POINT (\([0-9]*-[0-9]*\)).*/\1/p' raw/$rec.istat)
	ws=$(sed -n 's/^Type: \$DATA (\([0-9]*-[0-9]*\)) *Name: WofCompressedData.*/\1/p' raw/$rec.istat)
	if [ -z "$rp" ] || [ -z "$ws" ]; then
		bad "istat $rec ($path): no \$REPARSE_POINT or no WofCompressedData stream"
		continue
	fi
	icat -o "$OFF" "$C" "$rec-$rp" > raw/$rec.rp
	icat -o "$OFF" "$C" "$rec-$ws" > raw/$rec.ws
	"$B" cat "$P" --path "$path" > raw/$rec.plain
done < recs.txt

# the layout, checked independently of bootsweep's decoder: reparse data,
# the chunk table, stored sizes; chunk k is raw exactly when its stored
# size is its plain size, and raw chunks equal the plain bytes
python3 - recs.txt raw <<'PY' > layout.txt || bad "WOF layout: $(tail -3 layout.txt)"
import struct, sys, os
names = {0: "XPRESS4K", 1: "LZX", 2: "XPRESS8K", 3: "XPRESS16K"}
cs = {0: 4096, 1: 32768, 2: 8192, 3: 16384}
stat = {a: [0, 0, 0, 0] for a in names}	# files, chunks, compressed, multi-chunk files
bad = 0
for line in open(sys.argv[1]):
    rec, size, path = line.rstrip("\n").split("\t")
    d = os.path.join(sys.argv[2], rec)
    if not os.path.exists(d + ".rp"):
        continue
    rp, ws, plain = (open(d + x, "rb").read() for x in (".rp", ".ws", ".plain"))
    tag, dlen, res, ver, prov, fver, alg = struct.unpack("<IHHIIII", rp[:24])
    if (len(rp), tag, dlen, ver, prov, fver) != (24, 0x80000017, 16, 1, 2, 1) or alg not in names:
        print("bad reparse point", path, rp.hex()); bad = 1; continue
    size = int(size); c = cs[alg]; n = (size + c - 1) // c; tbl = 4 * (n - 1)
    ends = list(struct.unpack("<%dI" % (n - 1), ws[:tbl])) + [len(ws) - tbl]
    if len(plain) != size:
        print("plain size", path); bad = 1; continue
    st = stat[alg]; st[0] += 1; st[3] += n > 1
    start = 0
    for k, end in enumerate(ends):
        p = min(c, size - k * c)
        if end < start or end - start > p:
            print("chunk", k, "of", path, "stored", start, end, "plain", p); bad = 1; break
        if end - start == p:
            if ws[tbl + start:tbl + end] != plain[k * c:k * c + p]:
                print("raw chunk", k, "of", path, "differs"); bad = 1
        else:
            st[2] += 1
        st[1] += 1; start = end
for a, (f, ch, z, m) in stat.items():
    print("%-9s %3d files (%d of several chunks), %4d chunks, %4d compressed" % (names[a], f, m, ch, z))
    if not f or not z or not m:
        print("algorithm", names[a], "not exercised"); bad = 1
sys.exit(bad)
PY
[ -s layout.txt ] && sed 's/^/     /' layout.txt
grep -q "not exercised\|bad\|differs\|chunk " layout.txt || ok "WOF layout: reparse data, chunk tables and raw chunks right, every algorithm used"

# scan: compactos judged as clean is, with its WOF files hashed
"$B" scan f -o scan.jsonl --quiet
python3 - scan.jsonl <<'PY' > scan.txt && ok "scan: $(cat scan.txt)" || bad "scan: $(cat scan.txt)"
import json, sys
r = {}
for l in open(sys.argv[1]):
    o = json.loads(l); r[o["image"].rsplit("/", 1)[-1]] = o
a, b = r["compactos.img"], r["clean.img"]
codes = lambda o: sorted({f.get("code") for f in o.get("findings", [])})
assert a["verdict"] == b["verdict"] == "clean", (a["verdict"], b["verdict"])
assert a["decided_by"] == b["decided_by"], (a["decided_by"], b["decided_by"])
assert "NTFS-UNDECODED" not in json.dumps(a), "NTFS-UNDECODED reported"
assert codes(a) == codes(b), (codes(a), codes(b))
sa, sb = a["store"], b["store"]
for k in ("files_checked", "files_ok", "files_bad", "files_missing", "files_no_digest", "links_bad"):
    assert sa[k] == sb[k], (k, sa[k], sb[k])
assert sa["files_ok"] >= 300 and sa["files_bad"] == 0, sa
print("verdict %s, decided_by %s, store files_ok %d = the twin's" % (a["verdict"], a["decided_by"], sa["files_ok"]))
PY

# broken copies must show up: a damaged chunk, an unknown algorithm
# A WinSxS-only component (not on the boot path): its first chunk, which is
# compressed (the PE header), gets 64 bytes overwritten in its middle.
tgt=$(awk -F'\t' '$6 ~ /\\System32\\feat[0-9]+\.dll$/ { print $1 "\t" $6; exit }' wof.txt)
trec=${tgt%%$'\t'*}; tpath=${tgt#*$'\t'}
mkdir -p broken
cp --sparse=always "$C" broken/compactos.img
python3 - broken/compactos.img "$OFF" raw/$trec.istat raw/$trec.ws <<'PY' || bad "could not damage $tpath"
import re, sys
img, off, ist, ws = sys.argv[1], int(sys.argv[2]) * 512, open(sys.argv[3]).read(), open(sys.argv[4], "rb").read()
# istat: the cluster list follows the attribute's "Type:" line
m = re.search(r"^Type: \$DATA \(\d+-\d+\)\s+Name: WofCompressedData.*?\n((?:[\d ]+\n)+)", ist, re.M)
clusters = [int(x) for x in m.group(1).split()]
with open(img, "r+b") as f:
    # the stream starts in its first cluster; find the cluster size from the data itself
    for csz in (4096, 512, 1024, 2048, 8192, 16384, 32768, 65536):
        f.seek(off + clusters[0] * csz)
        if f.read(64) == ws[:64]:
            break
    else:
        sys.exit("stream not found on disk")
    f.seek(off + clusters[0] * csz + 200)
    f.write(bytes(64))
PY
if [ "$fail" = 0 ]; then
	a=$("$B" cat broken/compactos.img --path "$tpath" 2>/dev/null | sha256sum)
	b=$("$B" cat "$P" --path "$tpath" | sha256sum)
	[ "$a" != "$b" ] && ok "a damaged chunk: cat $tpath no longer gives the twin's bytes" ||
		bad "a damaged chunk went unnoticed by cat"
	"$B" scan broken -o broken.jsonl --quiet
	python3 - broken.jsonl scan.jsonl <<'PY' && ok "a damaged chunk: scan's files_ok drops by one" || bad "a damaged chunk: scan"
import json, sys
x = json.loads(open(sys.argv[1]).readline())
y = [json.loads(l) for l in open(sys.argv[2]) if "compactos" in l][0]
assert x["store"]["files_ok"] == y["store"]["files_ok"] - 1, (x["store"], y["store"])
PY
fi

# an unknown algorithm (7) in the reparse point of a boot-start driver:
# bootsweep must say it cannot decode it (NTFS-UNDECODED), not call it good
drec=$(awk -F'\t' '$6 == "\\Windows\\System32\\drivers\\disk.sys" { print $1 }' wof.txt)
istat -o "$OFF" "$C" 0 > mft.istat
cp --sparse=always "$C" broken/alg.img
python3 - broken/alg.img "$OFF" mft.istat "$drec" raw/$drec.rp <<'PY' || bad "could not patch the reparse point"
import re, sys
img, off, ist, rec, rp = sys.argv[1], int(sys.argv[2]) * 512, open(sys.argv[3]).read(), int(sys.argv[4]), open(sys.argv[5], "rb").read()
m = re.search(r"^Type: \$DATA \(128-\d+\)\s+Name: N/A.*?\n((?:[\d ]+\n)+)", ist, re.M)
clusters = [int(x) for x in m.group(1).split()]
with open(img, "r+b") as f:
    for csz in (4096, 512, 1024, 2048, 8192, 16384, 32768, 65536):
        f.seek(off + clusters[0] * csz)
        if f.read(4) == b"FILE":
            break
    else:
        sys.exit("no $MFT")
    per = csz // 1024
    pos = off + clusters[rec // per] * csz + (rec % per) * 1024 if per else None
    f.seek(pos); r = f.read(1024)
    i = r.find(rp)
    if r[:4] != b"FILE" or i < 0 or (i + 20) % 512 >= 508:
        sys.exit("reparse data not found in record %d" % rec)
    f.seek(pos + i + 20); f.write(b"\x07")
PY
"$B" scan broken/alg.img -o alg.jsonl --quiet
grep -q '"NTFS-UNDECODED"' alg.jsonl && grep -q 'drivers\\\\disk.sys' alg.jsonl &&
	ok "an unknown WOF algorithm: NTFS-UNDECODED for disk.sys" || bad "unknown algorithm: $(head -c 600 alg.jsonl)"

[ $fail = 0 ] && echo "wof: PASS"
exit $fail
