#!/bin/bash
# Containers end to end: images made by qemu-img (raw, VHD fixed/dynamic,
# VHDX fixed/dynamic) must read back byte for byte as qemu-img reads them;
# the real VHD/VHDX files of ../shared/corpus open, and the dfvfs
# differencing pair reads as libvhdi's vhdimount reads it; partition tables
# made by sfdisk (MBR with logical partitions, GPT) are listed, a damaged
# primary GPT is reported and the backup used; hostile images fail cleanly.
set -u
B=${BSW_BIN:?}
C=${BSW_CORPUS:?}
W=${BSW_BINDIR:?}/t-containers
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
need() { command -v "$1" >/dev/null || { echo "skip: $1 missing"; exit 77; }; }
need qemu-img; need qemu-io; need sfdisk

# --- a GPT disk with data patterns, in every format qemu writes ----------
truncate -s 64M raw.img
printf 'label: gpt\n,16M,U\n,,L\n' | sfdisk -q raw.img || exit 1
qemu-io -f raw -c 'write -P 0xab 20M 1M' -c 'write -P 0x11 40M 3M' \
	-c 'write -P 0x5a 63M 512' raw.img >/dev/null
i=0
for spec in "vpc subformat=fixed,force_size=on" "vpc subformat=dynamic,force_size=on" \
	    "vhdx subformat=fixed" "vhdx subformat=dynamic" \
	    "vhdx subformat=dynamic,block_size=1M,log_size=1M"; do
	set -- $spec
	i=$((i + 1))
	img=fmt$i.$1
	qemu-img convert -f raw -O "$1" -o "$2" raw.img "$img" || { bad "qemu-img $spec"; continue; }
	"$B" cat "$img" > out.raw || bad "cat $img exit $?"
	if cmp -s out.raw raw.img; then ok "cat $img ($spec) equals the raw disk"; else bad "cat $img differs"; fi
	qemu-img convert -f "$1" -O raw "$img" q.raw
	cmp -s out.raw q.raw && ok "cat $img equals qemu-img convert -O raw" || bad "cat $img != qemu"
done
"$B" info --json fmt2.vpc > info.json || bad "info --json exit"
grep -q '"format":"vhd","subformat":"dynamic"' info.json && ok "info says vhd dynamic" || bad "info format: $(cat info.json)"
grep -q '"scheme":"gpt"' info.json && grep -q '"type":"EFI System"' info.json && ok "info lists GPT partitions" || bad "info partitions"
"$B" info fmt3.vhdx | grep -q "vhdx fixed" && ok "vhdx fixed recognised" || bad "vhdx fixed"

# --- GPT damage: primary broken -> backup used; both broken -> BOOT-PART ---
cp raw.img gpt1.img
printf 'XXXXXXXX' | dd of=gpt1.img bs=1 seek=512 conv=notrunc status=none
"$B" info gpt1.img > gpt1.txt
grep -q "PART-GPT" gpt1.txt && grep -q "backup header used" gpt1.txt && grep -q " 2  start" gpt1.txt \
	&& ok "damaged primary GPT: backup used and reported" || bad "gpt1: $(cat gpt1.txt)"
cp gpt1.img gpt2.img
printf 'XXXXXXXX' | dd of=gpt2.img bs=1 seek=$((64*1024*1024-512)) conv=notrunc status=none
"$B" info gpt2.img | grep -q "BOOT-PART" && ok "both GPTs damaged: BOOT-PART" || bad "gpt2"

# --- MBR with an extended partition and logical partitions ---------------
truncate -s 64M mbr.img
printf 'label: dos\n,8M,7,*\n,,E\n,8M,7\n,8M,b\n' | sfdisk -q mbr.img || exit 1
"$B" info --json mbr.img > mbr.json
n=$(grep -o '"index":' mbr.json | wc -l)
grep -q '"logical":true' mbr.json && grep -q '"active":true' mbr.json && [ "$n" = 3 ] \
	&& ok "MBR: primary + 2 logical partitions listed" || bad "mbr: $(cat mbr.json)"
# a looping EBR chain must stop with a finding, not hang
cp mbr.img loop.img
python3 - <<'PY'
import struct
f=open('loop.img','r+b'); d=bytearray(f.read(512))
ext=struct.unpack_from('<I',d,446+16+8)[0]
f.seek(ext*512); e=bytearray(f.read(512))
struct.pack_into('<BBBBBBBBII',e,446+16,0,0,0,0,5,0,0,0,0,100)   # next EBR = itself
f.seek(ext*512); f.write(e)
PY
timeout 10 "$B" info loop.img > loop.txt; rc=$?
[ $rc -lt 124 ] && grep -q "PART-MBR" loop.txt && ok "looping EBR chain reported" || bad "ebr loop rc=$rc $(cat loop.txt)"

# --- real containers from the corpus -------------------------------------
S=$C/debian-qemu-src/tests/qemu-iotests/sample_images
if [ -d "$S" ]; then
	for f in d2v-zerofilled.vhd iotest-dynamic-1G.vhdx; do
		bzcat "$S/$f.bz2" > "$f"
		# qemu writes a sparse raw; cmp against the stream (no hashing of 1 GiB)
		qemu-img convert -O raw "$f" q.raw
		"$B" cat "$f" | cmp -s - q.raw && ok "corpus $f reads as qemu reads it" || bad "corpus $f"
		rm -f q.raw
	done
	for f in hyperv2012r2-dynamic.vhd virtualpc-dynamic.vhd; do
		bzcat "$S/$f.bz2" > "$f"
		"$B" info "$f" | grep -q "136365211648 bytes" && ok "corpus $f opens (127 GiB virtual)" || bad "corpus $f"
	done
fi
T=$C/sleuthkit/test/data/image.vhd
if [ -f "$T" ]; then
	qemu-img convert -O raw "$T" q.raw
	"$B" cat "$T" | cmp -s - q.raw && ok "sleuthkit image.vhd reads as qemu reads it" || bad "sleuthkit image.vhd"
	rm -f q.raw
fi
D=$C/dfvfs/test_data
if [ -d "$D" ]; then
	"$B" info "$D/image-differential.vhd" > diff.txt
	grep -q "layer 1: .*image.vhd vhd dynamic" diff.txt && grep -q "identity matches" diff.txt \
		&& ok "dfvfs differencing child finds its parent, identity checked" || bad "dfvfs chain: $(cat diff.txt)"
	a=$("$B" cat "$D/image-differential.vhd" | sha256sum)
	if command -v vhdimount >/dev/null && [ -e /dev/fuse ] && mkdir -p mnt &&
	   timeout 20 vhdimount "$D/image-differential.vhd" mnt >/dev/null 2>&1; then
		last=$(ls mnt | sort -V | tail -1)	# vhdiN: N-1 parents first, the child last
		b=$(sha256sum < "mnt/$last"); umount mnt 2>/dev/null || fusermount -u mnt
		[ "$a" = "$b" ] && ok "dfvfs chain reads as vhdimount reads it" || bad "dfvfs chain content"
	else
		echo "note: vhdimount/FUSE unavailable; chain content compared with the parent only"
	fi
	"$B" info "$D/fat-differential.vhd" 2> fat.err; rc=$?
	[ $rc = 8 ] && grep -q "parent of .* not found" fat.err && ok "missing parent: clear error, exit 8" \
		|| bad "missing parent rc=$rc $(cat fat.err)"
fi

# --- hostile files: clean errors, never a crash ---------------------------
: > empty.img
printf 'conectix' > tiny.vhd
cp fmt2.vpc batbad.vpc
python3 - <<'PY'
import struct
f=open('batbad.vpc','r+b'); d=f.read()
foot=d[-512:]; do=struct.unpack('>Q',foot[16:24])[0]
dh=d[do:do+1024]; bat=struct.unpack('>Q',dh[16:24])[0]
f.seek(bat); f.write(struct.pack('>I',0x7ffffff0))
PY
cp fmt4.vhdx hdrbad.vhdx
printf 'XXXX' | dd of=hdrbad.vhdx bs=1 seek=$((64*1024)) conv=notrunc status=none
printf 'XXXX' | dd of=hdrbad.vhdx bs=1 seek=$((128*1024)) conv=notrunc status=none
mkdir adir
for f in empty.img tiny.vhd batbad.vpc hdrbad.vhdx adir nonexist.img; do
	timeout 10 "$B" info "$f" > /dev/null 2> err.txt; rc=$?
	if [ $rc = 8 ] && [ -s err.txt ]; then ok "hostile $f: exit 8, '$(head -c 90 err.txt)'"
	else bad "hostile $f rc=$rc"; fi
done
grep -q "BAT entry 0 points past end of file" <("$B" info batbad.vpc 2>&1) && ok "BAT error is precise" || bad "BAT message"
# one bad image does not stop the others
"$B" info empty.img fmt1.vpc 2>/dev/null | grep -q "fmt1.vpc" && ok "info goes on after a bad image" || bad "info stops"

# --- VHDX header 1 damaged: the other header is used -----------------------
cp fmt4.vhdx h1bad.vhdx
printf 'XXXX' | dd of=h1bad.vhdx bs=1 seek=$((64*1024+100)) conv=notrunc status=none
"$B" cat h1bad.vhdx > out.raw && cmp -s out.raw raw.img && "$B" info h1bad.vhdx | grep -q CONT-VHDX \
	&& ok "one damaged VHDX header: reported, the other used" || bad "vhdx header fallback"

# --- info --json: one valid JSON object per image, findings included -------
"$B" info --json gpt1.img empty.img fmt5.vhdx > all.json 2>/dev/null; rc=$?
python3 - all.json <<'PY' && [ $rc = 8 ] && ok "info --json: one object per image, findings, error line, exit 8" || bad "info --json rc=$rc $(cat all.json)"
import json, sys
L = [json.loads(l) for l in open(sys.argv[1])]
assert len(L) == 3, L
assert [f["code"] for f in L[0]["findings"]] == ["PART-GPT"], L[0]["findings"]
assert "empty file" in L[1]["error"], L[1]
c = L[2]["chain"][0]
assert c["format"] == "vhdx" and c["block_size"] == 1048576, c
assert L[2]["findings"] == [], L[2]
PY

rm -f out.raw q.raw
exit $fail
