#!/bin/bash
# datasets/mkfleet judged by independent tools: qemu-img check, The Sleuth
# Kit (mmls, fsstat, fls, istat), ntfs-3g (ntfsinfo), hivex (hivexsh) and
# libregf (regfinfo) on the hives, libvhdi (vhdimount) on differencing
# children; ground truth is well formed; the same seed gives byte-identical
# images.
set -u
MK=${BSW_BINDIR:?}/datasets/mkfleet
W=${BSW_BINDIR}/t-datasets
[ -x "$MK" ] || { echo "mkfleet not built"; exit 77; }
for t in qemu-img mmls fsstat fls istat icat ntfsinfo hivexsh regfinfo mkfs.vfat mcopy; do
	command -v $t >/dev/null || { echo "skip: $t missing"; exit 77; }
done
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

SC=clean,mbr-clean,hive-dirty-good-logs,half-rollback,kernel-torn,system-dirty-badlog
"$MK" --out a --seed 7 --scenarios $SC || { echo "mkfleet failed"; exit 1; }
"$MK" --out b --seed 7 --scenarios $SC || exit 1
(cd a && sha256sum *.img truth.jsonl) > a.sum
(cd b && sha256sum *.img truth.jsonl) > b.sum
cmp -s a.sum b.sum && ok "same seed: byte-identical images ($(wc -l < a.sum) files)" || { bad "not reproducible"; diff a.sum b.sum; }
"$MK" --out c --seed 8 --scenarios clean || exit 1
cmp -s a/clean.img c/clean.img && bad "another seed gives the same disk" || ok "another seed gives another disk"

# truth.jsonl: one object per image, with the fields benchmark suites read
python3 - a/truth.jsonl <<'PY' && ok "truth.jsonl well formed" || bad "truth.jsonl"
import json, os, sys
n = 0
for l in open(sys.argv[1]):
    o = json.loads(l); n += 1
    assert {"image", "scenario", "class", "codes"} <= o.keys(), o
    assert o["class"] in ("clean", "dirty-rollback", "unbootable", "unassessable")
    assert os.path.exists(os.path.join(os.path.dirname(sys.argv[1]), o["image"]))
assert n == 6, n
PY

img=a/clean.img
mmls "$img" > mmls.txt 2>&1
grep -q "EFI system partition" mmls.txt && grep -q "Basic data partition" mmls.txt && grep -q "Microsoft reserved" mmls.txt \
	&& ok "mmls lists ESP, MSR and the Windows partition" || bad "mmls: $(cat mmls.txt)"
off=$(awk '/Basic data partition/ {print $3+0}' mmls.txt)
esp=$(awk '/EFI system partition/ {print $3+0}' mmls.txt)
fsstat -o "$off" "$img" | grep -q "File System Type: NTFS" && ok "fsstat: NTFS at sector $off" || bad "fsstat"
fls -r -p -o "$off" "$img" > fls.txt 2>/dev/null
for f in Windows/System32/config/SYSTEM Windows/System32/config/SOFTWARE.LOG1 Windows/System32/config/COMPONENTS \
	 Windows/System32/ntoskrnl.exe Windows/System32/winload.efi Windows/System32/drivers/stornvme.sys \
	 Windows/WinSxS/Manifests Windows/servicing/Sessions/Sessions.xml Windows/System32/c_1252.nls; do
	cut -f2 fls.txt | grep -qx "$f" || bad "fls misses $f"
done
ok "fls -r lists the Windows tree ($(wc -l < fls.txt) entries)"
fls -r -o "$esp" "$img" > flsesp.txt 2>/dev/null
grep -q "BCD" flsesp.txt && grep -qi "bootmgfw.efi" flsesp.txt && grep -qi "bootx64.efi" flsesp.txt \
	&& ok "ESP (FAT32) holds BCD, bootmgfw.efi, bootx64.efi" || bad "ESP content: $(cat flsesp.txt)"
dd if="$img" of=win.vol bs=512 skip="$off" count=$((96*2048)) status=none
ntfsinfo -m win.vol > ntfsinfo.txt 2>&1 && grep -q "Volume Name: Windows" ntfsinfo.txt \
	&& ok "ntfsinfo reads the volume" || bad "ntfsinfo: $(head -5 ntfsinfo.txt)"
# a projected file: one MFT record, two names (System32 and WinSxS)
inum() { awk -F'\t' -v f="$1" '$2 == f { split($1, a, " "); sub(":", "", a[2]); split(a[2], b, "-"); print b[1] }'; }
inode=$(inum Windows/System32/shell32.dll < fls.txt)
istat -o "$off" "$img" "$inode" > istat.txt
n=$(grep -c "^Name: " istat.txt); links=$(awk '/^Links:/ {print $2}' istat.txt)
[ "$links" = 2 ] && ok "shell32.dll: record $inode with $links links" || bad "istat links=$links: $(head -20 istat.txt)"
inode2=$(fls -r -p -o "$off" a/half-rollback.img | inum Windows/System32/shell32.dll)
links2=$(istat -o "$off" a/half-rollback.img "$inode2" | awk '/^Links:/ {print $2}')
[ "$links2" = 1 ] && ok "half-rollback: System32 copy is no longer a link" || bad "half-rollback links=$links2"
# every hive opens with hivex and libregf
for h in SYSTEM SOFTWARE COMPONENTS SAM SECURITY DEFAULT; do
	in=$(inum "Windows/System32/config/$h" < fls.txt)
	icat -o "$off" "$img" "$in" > "$h"
	hivexsh -d "$h" </dev/null >/dev/null 2>&1 || { printf 'ls\n' | hivexsh "$h" >/dev/null 2>&1; } || bad "hivexsh $h"
	regfinfo "$h" >/dev/null 2>&1 || bad "regfinfo $h"
done
printf 'cd \\ControlSet001\\Services\\stornvme\nlsval\n' | hivexsh SYSTEM | grep -q '"Start"=dword:00000000' \
	&& ok "hives open with hivexsh and regfinfo; SYSTEM has the boot-start drivers" || bad "SYSTEM content"
bcd=$(fls -r -p -o "$esp" "$img" | inum EFI/Microsoft/Boot/BCD)
icat -o "$esp" "$img" "$bcd" > BCD
printf 'cd \\Objects\\{3b1a58a4-5a1e-11ef-9d5e-00155d000001}\\Elements\\12000002\nlsval\n' | hivexsh BCD | grep -q 'winload.efi' \
	&& ok "BCD opens with hivexsh; the loader path is winload.efi" || bad "BCD"
# the BIOS variant: MBR, active partition, \Boot\BCD and \bootmgr
mmls a/mbr-clean.img | grep -q "NTFS / exFAT (0x07)" && fls -r -p -o 92160 a/mbr-clean.img | cut -f2 | grep -qx "Boot/BCD" \
	&& ok "mbr-clean: MBR with NTFS and \\Boot\\BCD" || bad "mbr-clean"

# containers: vhd and vhdx fleets pass qemu-img check; children read like libvhdi reads them
"$MK" --out x --format vhdx --children 2 --scenarios pending-xml,kernel-torn || bad "vhdx children"
"$MK" --out v --format vhd --scenarios clean || bad "vhd fleet"
# (qemu-img has no checker for vpc and no differencing VHDX: the VHD is
# compared by content below, the children with libvhdi)
qemu-img check -f vhdx x/base.vhdx >/dev/null 2>&1 && ok "qemu-img check x/base.vhdx" || bad "qemu-img check x/base.vhdx"
qemu-img convert -f vpc -O raw v/clean.vhd v.raw && cmp -s v.raw <("$BSW_BIN" cat v/clean.vhd) && ok "vhd reads back the same through qemu and bootsweep" || bad "vhd content"
if command -v vhdimount >/dev/null && [ -e /dev/fuse ]; then
	mkdir -p m
	if timeout 30 vhdimount x/child0001-kernel-torn.vhdx m >/dev/null 2>&1; then
		last=$(ls m | sort -V | tail -1)	# vhdimount lists the parent first, the child last
		a=$(sha256sum < "m/$last"); umount m 2>/dev/null || fusermount -u m
		b=$("$BSW_BIN" cat x/child0001-kernel-torn.vhdx | sha256sum)
		[ "$a" = "$b" ] && ok "differencing VHDX child: bootsweep == vhdimount" || bad "child content differs from vhdimount"
	else
		echo "note: vhdimount could not mount (FUSE); child not cross-checked"
	fi
fi
# each child carries its own life after the snapshot, written through a
# copy-on-write device: a new file, a registry write into DEFAULT (read back
# with hivexsh), none of it in the base
log='\Users\Public\Documents\agent\child0000.log'
if "$BSW_BIN" cat x/child0000-pending-xml.vhdx --path "$log" > own.log 2>/dev/null && [ -s own.log ] &&
   ! "$BSW_BIN" cat x/base.vhdx --path "$log" >/dev/null 2>&1 &&
   "$BSW_BIN" cat x/child0000-pending-xml.vhdx --path '\Windows\System32\config\DEFAULT' > own.DEFAULT &&
   printf 'cd \\BootsweepFleet\nlsval\n' | hivexsh own.DEFAULT 2>/dev/null | grep -q '"LastSession"=dword:60000000'; then
	ok "child0000 has its own new file and registry write; the base has neither"
else
	bad "child's own changes"
fi
if command -v vhdimount >/dev/null && [ -e /dev/fuse ]; then
	mkdir -p m
	if timeout 30 vhdimount x/child0000-pending-xml.vhdx m >/dev/null 2>&1; then
		last=$(ls m | sort -V | tail -1)
		a=$(sha256sum < "m/$last"); umount m 2>/dev/null || fusermount -u m
		b=$("$BSW_BIN" cat x/child0000-pending-xml.vhdx | sha256sum)
		[ "$a" = "$b" ] && ok "child with its own changes: bootsweep == vhdimount" || bad "child0000 differs from vhdimount"
	fi
fi
# big hives are rewritten without free cells: forced on a small disk, the
# rewritten COMPONENTS must hold exactly what hivex wrote (hivexregedit
# exports compared) and open with regfinfo
if command -v hivexregedit >/dev/null && command -v ifind >/dev/null; then
	MKFLEET_COMPACT_ALL=1 "$MK" --out k --seed 7 --scenarios clean >/dev/null 2>&1 || bad "mkfleet (compaction forced)"
	for d in a k; do
		i=$(ifind -o 92160 -n Windows/System32/config/COMPONENTS "$d/clean.img")
		icat -o 92160 "$d/clean.img" "$i" > "$d.COMPONENTS"
		hivexregedit --export "$d.COMPONENTS" '\' > "$d.reg" 2>/dev/null
	done
	if [ -s a.reg ] && cmp -s a.reg k.reg && regfinfo k.COMPONENTS >/dev/null 2>&1 &&
	   [ "$(stat -c %s k.COMPONENTS)" -lt "$(stat -c %s a.COMPONENTS)" ]; then
		ok "compacted COMPONENTS: same content, $(stat -c %s k.COMPONENTS) bytes instead of $(stat -c %s a.COMPONENTS)"
	else
		bad "compacted COMPONENTS differs from hivex's"
	fi
fi
rm -f win.vol v.raw
exit $fail
