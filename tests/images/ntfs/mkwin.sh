#!/bin/bash
# Make a small Windows-shaped NTFS volume (mkntfs + an ntfs-3g FUSE mount):
# the boot path directories, fake boot files, a hard link, an alternate
# stream, a compressed-looking tree of user files.  Usage: mkwin.sh OUT.img
# The committed win.img.xz was made with this script; tests use that copy
# so that they do not need FUSE.
set -eu
out=$1
mnt=$(mktemp -d)
rm -f "$out"
truncate -s 24M "$out"
mkntfs -F -f -q -L bsw-win "$out" >/dev/null 2>&1
ntfs-3g -o streams_interface=windows,compression "$out" "$mnt"
trap 'fusermount -u "$mnt" 2>/dev/null; rmdir "$mnt"' EXIT
mkdir -p "$mnt/Windows/System32/drivers" "$mnt/Windows/System32/config" \
	"$mnt/Windows/WinSxS/amd64_shell_1" "$mnt/Users/Public/Documents" \
	"$mnt/EFI/Microsoft/Boot"
pe() {	# pe FILE SIZE: an "MZ" file of SIZE bytes with varied content
	{ printf "MZ"; seq 1 1000000 | sed "s/^/$(basename "$1") /" | head -c $(($2 - 2)); } > "$1"
}
pe "$mnt/Windows/System32/ntoskrnl.exe" 300000
pe "$mnt/Windows/System32/hal.dll" 70000
pe "$mnt/Windows/System32/ci.dll" 50000
pe "$mnt/Windows/System32/winload.efi" 120000
pe "$mnt/Windows/System32/drivers/disk.sys" 9000
pe "$mnt/Windows/System32/drivers/ntfs.sys" 200000
pe "$mnt/Windows/System32/drivers/stornvme.sys" 500
pe "$mnt/bootmgr" 4000
pe "$mnt/Windows/WinSxS/amd64_shell_1/shell32.dll" 80000
ln "$mnt/Windows/WinSxS/amd64_shell_1/shell32.dll" "$mnt/Windows/System32/shell32.dll"
seq 1 20000 | head -c 65536 > "$mnt/Windows/System32/config/SYSTEM"
printf 'regf' | dd of="$mnt/Windows/System32/config/SYSTEM" conv=notrunc 2>/dev/null
seq 5 20000 | head -c 40000 > "$mnt/Windows/System32/config/SOFTWARE"
echo small > "$mnt/Windows/System32/tiny.txt"
echo 'stream data' > "$mnt/Users/Public/Documents/ads.txt"
echo "[ZoneTransfer]" > "$mnt/Users/Public/Documents/ads.txt:Zone.Identifier"
# a compressed directory (FILE_ATTRIBUTE_COMPRESSED): new files are LZNT1
mkdir "$mnt/Users/Public/packed"
python3 -c "import os,sys; os.setxattr(sys.argv[1], 'system.ntfs_attrib_be', bytes.fromhex('00000810'))" "$mnt/Users/Public/packed"
seq 1 30000 > "$mnt/Users/Public/packed/numbers.txt"
seq 1 300 > "$mnt/Users/Public/packed/small.txt"
for i in $(seq 1 300); do echo "file $i" > "$mnt/Users/Public/Documents/f$i.txt"; done
# a sparse file with data at both ends
seq 1 2000 | dd of="$mnt/Users/Public/sparse.bin" bs=4096 count=1 2>/dev/null
seq 1 2000 | dd of="$mnt/Users/Public/sparse.bin" bs=4096 count=1 seek=1000 2>/dev/null
sync
