#!/bin/bash
# qcow2 and VMDK end to end (issue 14).  Images made by qemu-img in every
# subformat read back byte for byte as `qemu-img convert -O raw` reads them,
# and as libyal's qcowmount/vmdkmount read them where those read the
# format; backing chains (depth 3, relative and absolute, a raw base, a
# VMDK parent with its CID check) read as qemu reads them; a missing parent,
# a loop, encryption, an external data file and the formats bootsweep does
# not read fail with a message naming them (never read as raw); the
# directory walk sweeps a Hyper-V VM with checkpoints once and a VMDK
# descriptor disk once; the corpus qcow2 files read as their raw copies; a
# generated Windows fleet classifies the same through qcow2 and VMDK as raw.
set -u
B=${BSW_BIN:?}
C=${BSW_CORPUS:?}
W=${BSW_BINDIR:?}/t-containers-qcow2-vmdk
MKIMAGE=$BSW_BINDIR/datasets/mkimage
MKFLEET=$BSW_BINDIR/datasets/mkfleet
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
need() { command -v "$1" >/dev/null || { echo "skip: $1 missing"; exit 77; }; }
need qemu-img; need qemu-io; need sfdisk; need python3

# --- a GPT disk with data patterns and random bytes -----------------------
truncate -s 96M raw.img
printf 'label: gpt\n,16M,U\n,,L\n' | sfdisk -q raw.img || exit 1
qemu-io -f raw -c 'write -P 0xab 20M 1M' -c 'write -P 0x11 40M 3M' \
	-c 'write -P 0x5a 95M 512' -c 'write -P 0x33 50M 4k' raw.img >/dev/null
python3 - <<'EOF'
import random
r = random.Random(14)
with open('raw.img', 'r+b') as f:
    for i in range(120):
        off = r.randrange(17 << 20, 94 << 20) & ~511
        f.seek(off)
        f.write(r.randbytes(r.randrange(1, 200000)))
EOF

check_cat() {	# check_cat IMAGE FMT WHAT: bootsweep cat == raw.img == qemu-img
	local img=$1 fmt=$2 what=$3
	if ! "$B" cat "$img" > out.raw 2> err.txt; then
		bad "cat $what: exit $? $(head -c 300 err.txt)"; return
	fi
	cmp -s out.raw raw.img && ok "cat $what equals the raw disk" || bad "cat $what differs from the raw disk"
	qemu-img convert -f "$fmt" -O raw "$img" q.raw
	cmp -s out.raw q.raw && ok "cat $what equals qemu-img convert -O raw" || bad "cat $what != qemu-img"
}

mounted_cmp() {	# mounted_cmp TOOL IMAGE FILE WHAT: libyal's FUSE view vs bootsweep
	local tool=$1 img=$2 file=$3 what=$4
	command -v "$tool" >/dev/null && [ -c /dev/fuse ] || { echo "skip $tool: not available"; return; }
	mkdir -p mnt
	timeout 120 "$tool" "$img" mnt >/dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 50); do [ -e "mnt/$file" ] && break; sleep 0.1; done
	if [ -e "mnt/$file" ]; then
		"$B" cat "$img" | cmp -s - "mnt/$file" && ok "$what: bootsweep cat equals $tool" || bad "$what: bootsweep != $tool"
	else
		echo "note $what: $tool does not read it"
	fi
	fusermount -u mnt 2>/dev/null || fusermount3 -u mnt 2>/dev/null || umount mnt 2>/dev/null
	kill $pid 2>/dev/null; wait $pid 2>/dev/null
}

# --- qcow2 in every layout qemu writes ----------------------------------
i=0
for spec in "compat=0.10" "compat=1.1" "compat=1.1,cluster_size=4096" \
	    "compat=1.1,cluster_size=2M" "extended_l2=on" \
	    "extended_l2=on,cluster_size=2M" "compat=1.1,-c" "compat=0.10,-c" \
	    "compression_type=zstd,-c" "compression_type=zstd,cluster_size=512,-c"; do
	i=$((i + 1))
	opts=${spec%,-c}
	c=; [ "$opts" != "$spec" ] && c=-c
	img=q$i.qcow2
	qemu-img convert $c -f raw -O qcow2 -o "$opts" raw.img "$img" || { bad "qemu-img qcow2 $spec"; continue; }
	check_cat "$img" qcow2 "qcow2 $spec"
	case $spec in
	*zstd*|*extended_l2*) ;;	# libqcow 20201213 reads neither
	*) mounted_cmp qcowmount "$img" qcow1 "qcow2 $spec" ;;
	esac
done
"$B" info --json q2.qcow2 > info.json || bad "info --json qcow2 exit"
grep -q '"format":"qcow2","subformat":"v3"' info.json && ok "info: qcow2 v3" || bad "info qcow2: $(head -c 300 info.json)"
"$B" info q1.qcow2 | grep -q "qcow2 v2" && ok "info: qcow2 v2" || bad "info qcow2 v2"
"$B" info q5.qcow2 | grep -q "extended L2" && ok "info: extended L2" || bad "info extended L2"
grep -q '"scheme":"gpt"' info.json && ok "qcow2: GPT partitions found" || bad "qcow2 partitions"

# --- VMDK in every subformat qemu writes ---------------------------------
for sub in monolithicSparse streamOptimized twoGbMaxExtentSparse twoGbMaxExtentFlat monolithicFlat; do
	img=v-$sub.vmdk
	qemu-img convert -f raw -O vmdk -o subformat=$sub raw.img "$img" || { bad "qemu-img vmdk $sub"; continue; }
	check_cat "$img" vmdk "vmdk $sub"
	mounted_cmp vmdkmount "$img" vmdk1 "vmdk $sub"
	"$B" info "$img" | grep -q "vmdk $sub" && ok "info: vmdk $sub" || bad "info vmdk $sub: $("$B" info "$img" 2>&1 | head -3)"
done

# --- chains -----------------------------------------------------------------
mkdir -p ch/sub
qemu-img convert -f raw -O qcow2 raw.img ch/base.qcow2
qemu-img create -q -f qcow2 -F qcow2 -b base.qcow2 ch/mid.qcow2
qemu-io -c 'write -P 0xc1 1M 3M' -c 'write -z 30M 2M' -c 'write -P 0xc2 95M 64k' ch/mid.qcow2 >/dev/null
qemu-img create -q -f qcow2 -F qcow2 -b "$W/ch/mid.qcow2" ch/sub/top.qcow2
qemu-io -c 'write -P 0xd1 2M 64k' -c 'write -P 0xd2 60M 1M' -c 'write -z 1M 4k' ch/sub/top.qcow2 >/dev/null
qemu-img convert -O raw ch/sub/top.qcow2 top.ref
"$B" cat ch/sub/top.qcow2 | cmp -s - top.ref && ok "qcow2 chain of depth 3 (relative and absolute backing names) equals qemu" || bad "qcow2 chain of 3"
"$B" info ch/sub/top.qcow2 > info.txt
grep -q "found by absolute locator" info.txt && grep -q "found by relative locator" info.txt &&
	ok "info names how each backing file was found" || bad "info chain: $(cat info.txt)"
# extended L2 child: subclusters allocated, zeroed and unallocated in one cluster
qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=128k -F qcow2 -b base.qcow2 ch/ext.qcow2
qemu-io -c 'write -P 0x5a 20M 8k' -c 'write -z 20M 4k' -c 'write -P 1 40M 3k' ch/ext.qcow2 >/dev/null
qemu-img convert -O raw ch/ext.qcow2 ext.ref
"$B" cat ch/ext.qcow2 | cmp -s - ext.ref && ok "extended-L2 child (subclusters over a backing file) equals qemu" || bad "extended-L2 child"
# a qcow2 child of a raw base
qemu-img create -q -f qcow2 -F raw -b ../raw.img ch/rawchild.qcow2
qemu-io -c 'write -P 0x77 5M 100k' ch/rawchild.qcow2 >/dev/null
qemu-img convert -O raw ch/rawchild.qcow2 rc.ref
"$B" cat ch/rawchild.qcow2 | cmp -s - rc.ref && ok "qcow2 child of a raw base equals qemu" || bad "qcow2 child of raw"
"$B" info --json ch/rawchild.qcow2 | grep -q '"format":"raw"' && ok "the raw base is a chain layer" || bad "raw base layer"
# VMDK child (parentFileNameHint, parentCID)
qemu-img convert -f raw -O vmdk raw.img ch/vbase.vmdk
qemu-img create -q -f vmdk -F vmdk -b vbase.vmdk ch/vchild.vmdk
qemu-io -f vmdk -c 'write -P 0x42 3M 1M' ch/vchild.vmdk >/dev/null
qemu-img convert -O raw ch/vchild.vmdk vc.ref
"$B" cat ch/vchild.vmdk | cmp -s - vc.ref && ok "VMDK child equals qemu" || bad "VMDK child"
"$B" info ch/vchild.vmdk | grep -q "identity matches" && ok "VMDK parentCID matches the parent's CID" || bad "VMDK CID check"
# the parent changed after the child was made: a new CID -> CONT-CHAIN
cp ch/vbase.vmdk ch/vbase2.vmdk
qemu-img create -q -f vmdk -F vmdk -b vbase2.vmdk ch/vchild2.vmdk
qemu-io -f vmdk -c 'write -P 0x43 7M 64k' ch/vbase2.vmdk >/dev/null	# qemu gives the parent a new CID
"$B" info ch/vchild2.vmdk | grep -q "MISMATCH" && ok "VMDK parentCID mismatch is reported" || bad "VMDK CID mismatch: $("$B" info ch/vchild2.vmdk 2>&1 | head -5)"
"$B" scan ch/vchild2.vmdk -o cid.jsonl >/dev/null 2>&1
grep -q '"CONT-CHAIN"' cid.jsonl && ok "scan reports CONT-CHAIN for the CID mismatch" || bad "CID mismatch not a finding: $(head -c 400 cid.jsonl)"
# missing parent, as VHD reports it
mv ch/mid.qcow2 ch/mid.away
"$B" cat ch/sub/top.qcow2 > /dev/null 2> err.txt; rc=$?
[ $((rc & 8)) -ne 0 ] && grep -q "parent of ch/sub/top.qcow2 not found (locators tried: $W/ch/mid.qcow2" err.txt &&
	ok "missing qcow2 backing file named" || bad "missing parent: rc $rc $(cat err.txt)"
mv ch/mid.away ch/mid.qcow2
# a loop: a -> b -> a
qemu-img create -q -f qcow2 loopa.qcow2 16M; qemu-img create -q -f qcow2 -F qcow2 -b loopa.qcow2 loopb.qcow2
qemu-img rebase -q -u -f qcow2 -F qcow2 -b loopb.qcow2 loopa.qcow2
"$B" info loopa.qcow2 > /dev/null 2> err.txt; rc=$?
[ $((rc & 8)) -ne 0 ] && grep -q "loops" err.txt && ok "backing loop refused" || bad "loop: rc $rc $(cat err.txt)"

# --- refused by name, never read as raw -----------------------------------
refused() {	# refused IMAGE PATTERN WHAT
	"$B" info "$1" > /dev/null 2> err.txt; local rc=$?
	if [ $((rc & 8)) -ne 0 ] && grep -qi -- "$2" err.txt; then ok "$3 refused: $(head -c 160 err.txt)"
	else bad "$3: rc $rc $(head -c 300 err.txt)"; fi
}
qemu-img create -q -f qcow2 --object secret,id=s0,data=pw -o encrypt.format=luks,encrypt.key-secret=s0 luks.qcow2 16M &&
	refused luks.qcow2 "encrypted (LUKS)" "LUKS-encrypted qcow2"
qemu-img create -q -f qcow2 -o data_file=ext.data ext.qcow2 16M && refused ext.qcow2 "external data file ('ext.data')" "qcow2 with an external data file"
qemu-img create -q -f vdi x.vdi 16M && refused x.vdi "VDI" "VDI"
qemu-img create -q -f qed x.qed 16M && refused x.qed "QED" "QED"
qemu-img create -q -f qcow x.qcow 16M && refused x.qcow "qcow version 1" "qcow v1"
qemu-img create -q -f parallels x.hdd 16M && refused x.hdd "Parallels" "Parallels"
{ printf 'COWD'; head -c 2044 /dev/zero; } > esx-delta.vmdk && refused esx-delta.vmdk "VMFS sparse" "ESX -delta (COWD)"
{ printf '\xbe\xba\xfe\xca\0\0\0\0'; head -c 4088 /dev/zero; } > esx-sesparse.vmdk && refused esx-sesparse.vmdk "SESparse" "SESparse"
printf '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="vmfsSparse"\nRW 2048 VMFSSPARSE "esx-delta.vmdk"\n' > esx.vmdk
refused esx.vmdk "VMFS sparse extent" "ESX vmfsSparse descriptor"
printf '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2048 FLAT "../../../etc/passwd" 0\n' > escape.vmdk
refused escape.vmdk "outside the descriptor's folder" "extent outside the descriptor's folder"
printf '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 4096 FLAT "short-flat.vmdk" 0\n' > short.vmdk
head -c 1048576 /dev/zero > short-flat.vmdk; refused short.vmdk "fewer than" "flat extent shorter than its descriptor line"
qemu-img convert -f raw -O vmdk -o subformat=twoGbMaxExtentSparse raw.img split.vmdk
refused split-s001.vmdk "no embedded descriptor" "a split extent opened alone"
rm -f split-s001.vmdk; refused split.vmdk "cannot open VMDK extent" "split disk missing an extent file"

# --- directory walk: Hyper-V checkpoints, VMDK extents ---------------------
if [ -x "$MKIMAGE" ]; then
	mkdir -p hv; head -c 8M raw.img > hv0.raw
	"$MKIMAGE" --from-raw hv0.raw --out hv/vm.vhdx --format vhdx-dynamic >/dev/null
	cp hv0.raw hv1.raw; printf AAAA | dd of=hv1.raw bs=1 seek=1000 conv=notrunc 2>/dev/null
	cp hv1.raw hv2.raw; printf BBBB | dd of=hv2.raw bs=1 seek=5000 conv=notrunc 2>/dev/null
	cp hv1.raw hv3.raw; printf CCCC | dd of=hv3.raw bs=1 seek=9000 conv=notrunc 2>/dev/null
	"$MKIMAGE" --diff --parent hv/vm.vhdx --locator vm.vhdx --base-raw hv0.raw --child-raw hv1.raw --out hv/vm_A1.avhdx >/dev/null
	"$MKIMAGE" --diff --parent hv/vm_A1.avhdx --locator vm_A1.avhdx --base-raw hv1.raw --child-raw hv2.raw --out hv/vm_B2.avhdx >/dev/null
	"$MKIMAGE" --diff --parent hv/vm_A1.avhdx --locator vm_A1.avhdx --base-raw hv1.raw --child-raw hv3.raw --out hv/vm_C3.avhdx >/dev/null
	touch -d '2021-01-01' hv/vm.vhdx hv/vm_A1.avhdx; touch -d '2022-01-01' hv/vm_C3.avhdx	# vm_B2: now
	head -c 8M raw.img > hv/other.vhd.img
	qemu-img convert -f raw -O vmdk -o subformat=twoGbMaxExtentFlat hv0.raw hv/vmw.vmdk
	qemu-img convert -f raw -O vmdk -o subformat=monolithicFlat hv0.raw hv/mf.vmdk
	"$B" scan hv -o hv.jsonl > /dev/null 2>&1
	got=$(python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["image"].split("/")[-1] for l in open("hv.jsonl"))))')
	[ "$got" = "mf.vmdk other.vhd.img vm_B2.avhdx vmw.vmdk" ] &&
		ok "walk: newest .avhdx only, its chain and the VMDK extent files not swept separately" ||
		bad "walk swept: $got"
	"$B" cat hv/vm_B2.avhdx | cmp -s - hv2.raw && ok "the newest checkpoint reads as its raw twin" || bad "checkpoint bytes"
else
	echo "skip walk: $MKIMAGE missing"
fi

# --- corpus qcow2 files against their raw copies ----------------------------
for pair in "dfvfs/test_data/windows_volume.qcow2 dfvfs/derived/windows_volume.raw.xz" \
	    "plaso/test_data/vsstest.qcow2 plaso/derived/vsstest.raw.xz"; do
	set -- $pair
	[ -f "$C/$1" ] && [ -f "$C/$2" ] || { echo "skip corpus $1"; continue; }
	xz -dc "$C/$2" > corpus.raw
	"$B" cat "$C/$1" | cmp -s - corpus.raw && ok "corpus $1 equals its raw copy" || bad "corpus $1"
	mounted_cmp qcowmount "$C/$1" qcow1 "corpus $1"
done

# --- hostile: L1 into the header, compressed cluster past EOF ---------------
cp q2.qcow2 h1.qcow2
python3 - <<'EOF'
import struct
with open('h1.qcow2', 'r+b') as f:
    h = f.read(72)
    l1 = struct.unpack('>Q', h[40:48])[0]
    f.seek(l1); f.write(struct.pack('>Q', 0x8000000000000200))     # L2 unaligned, in the header
EOF
refused h1.qcow2 "L1 entry 0 points to an L2 table at offset 512" "L1 entry pointing into the header"
cp q7.qcow2 h2.qcow2
python3 - <<'EOF'
import struct, os
size = os.path.getsize('h2.qcow2')
with open('h2.qcow2', 'r+b') as f:
    h = f.read(72)
    cb = struct.unpack('>I', h[20:24])[0]
    l1 = struct.unpack('>Q', h[40:48])[0]
    f.seek(l1); l2 = struct.unpack('>Q', f.read(8))[0] & 0x00fffffffffffe00
    f.seek(l2)
    for i in range(1 << (cb - 3)):
        e = struct.unpack('>Q', f.read(8))[0]
        if e & (1 << 62):       # first compressed cluster: move it past the end
            f.seek(l2 + 8 * i)
            f.write(struct.pack('>Q', (1 << 62) | (size + 4096)))
            break
EOF
"$B" cat h2.qcow2 > /dev/null 2> err.txt; rc=$?
[ $rc -ne 0 ] && ok "compressed cluster past the end of the file fails the read (rc $rc: $(head -c 120 err.txt))" || bad "h2 read as if valid"

# --- a generated Windows fleet classifies the same through qcow2 and VMDK ---
if [ -x "$MKFLEET" ]; then
	"$MKFLEET" --out fleet --scale small --scenarios clean,pending-xml --format raw > /dev/null 2>&1 || bad "mkfleet"
	mkdir -p fq fv fc
	for f in fleet/*.img; do
		n=$(basename "$f" .img)
		qemu-img convert -f raw -O qcow2 "$f" fq/$n.qcow2
		qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$f" fv/$n.vmdk
		qemu-img convert -c -f raw -O qcow2 -o compression_type=zstd "$f" fc/$n.qcow2
	done
	for d in fleet fq fv fc; do "$B" scan $d -o $d.jsonl > /dev/null 2>&1; done
	python3 - <<'EOF' && ok "fleet: raw, qcow2, VMDK stream-optimized and zstd qcow2 verdicts and codes equal (and as truth.jsonl says)" || bad "fleet verdicts differ"
import json, os, sys
def load(p):
    r = {}
    for l in open(p):
        o = json.loads(l)
        n = os.path.splitext(os.path.basename(o["image"]))[0]
        r[n] = (o.get("verdict"), sorted({f["code"] for f in o.get("findings", [])}))
    return r
truth = {os.path.splitext(json.loads(l)["image"])[0]: json.loads(l)["class"] for l in open("fleet/truth.jsonl")}
raw = load("fleet.jsonl")
ok = len(raw) == len(truth) >= 2
for n, c in truth.items():
    if raw.get(n, (None,))[0] != c:
        print("raw", n, raw.get(n), "truth", c); ok = False
for d in ("fq", "fv", "fc"):
    got = load(d + ".jsonl")
    if got != raw:
        print(d, got, "!=", raw); ok = False
sys.exit(0 if ok else 1)
EOF
	# mkfleet's own qcow2 and VMDK output, whole disks and children of a base
	for spec in "qcow2 0" "vmdk 0" "qcow2 4" "vmdk 3"; do
		set -- $spec
		out=mf-$1-$2
		args=(--out $out --scale small --scenarios clean,pending-xml --format $1)
		[ "$2" -gt 0 ] && args+=(--children $2)
		"$MKFLEET" "${args[@]}" > /dev/null 2>&1 || { bad "mkfleet ${args[*]}"; continue; }
		"$B" scan $out -o $out.jsonl > /dev/null 2>&1
		python3 - $out <<'EOF2' && ok "mkfleet --format $1 --children $2: verdicts and codes as truth.jsonl says" || bad "mkfleet $spec verdicts"
import json, sys
d = sys.argv[1]
truth = [json.loads(l) for l in open(d + "/truth.jsonl")]
got = {json.loads(l)["image"].split("/")[-1]: json.loads(l) for l in open(d + ".jsonl")}
ok = len(truth) >= 2
for t in truth:
    g = got.get(t["image"])
    if not g or g.get("verdict") != t["class"] or not set(t["codes"]) <= {f["code"] for f in g.get("findings", [])}:
        print(t["image"], t["class"], t["codes"], g and g.get("verdict")); ok = False
sys.exit(0 if ok else 1)
EOF2
		if [ "$2" -gt 0 ]; then
			c=$(ls $out/child0001-* 2>/dev/null | head -1)
			[ -n "$c" ] && [ $(stat -c %s "$c") -lt $(( $(stat -c %s $out/base.$1) / 2 )) ] &&
				ok "mkfleet $1 child holds only what differs from its base ($(stat -c %s "$c") bytes)" ||
				bad "mkfleet $1 child as big as its base"
		fi
	done
else
	echo "skip fleet: $MKFLEET missing"
fi

exit $fail
