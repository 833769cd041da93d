#!/bin/bash
# Compare bootsweep's NTFS reader with The Sleuth Kit on real volumes of the
# corpus: every allocated path (fls -r -p) with its record number, the link
# count (istat), and the content hash of every regular file (icat vs
# bootsweep cat).  Volumes are decompressed into the build tree.
set -u
BIN=${BSW_BIN:?}
C=${BSW_CORPUS:?}
W=${BSW_BINDIR:?}/ntfs-cmp
mkdir -p "$W"
command -v fls >/dev/null || exit 77
fail=0 tested=0

unpack() {	# unpack NAME SRC: decompress SRC once into $W/NAME
	local out=$W/$1 src=$C/$2
	[ -f "$src" ] || return 1
	[ -s "$out" ] && return 0
	case "$src" in
	*.xz) xz -dc "$src" > "$out.tmp" ;;
	*.gz) gzip -dc "$src" > "$out.tmp" ;;
	*) cp "$src" "$out.tmp" ;;
	esac && mv "$out.tmp" "$out"
}

check_vol() {	# check_vol NAME [SECTOR_OFFSET PARTITION]
	local img=$W/$1 name=$1 o=() p=()
	[ $# -ge 3 ] && { o=(-o "$2"); p=(--partition "$3"); }
	# fls: allocated entries; ADS lines fold into their file; no orphans
	fls -r -p "${o[@]}" "$img" 2>/dev/null | grep -v '^[^ ]* \*' |
		grep -v '\$OrphanFiles' |
		sed -E 's/^[^ ]+ ([0-9]+)-[0-9]+-[0-9]+:\t/\1\t/; s/:[^\/]*$//' |
		sort -u > "$W/$name.fls"
	"$BIN" ls "$img" "${p[@]}" -R > "$W/$name.ls" || { echo "$name: ls failed"; fail=1; return; }
	awk -F'\t' '{p=$6; gsub(/\\/,"/",p); sub(/^\//,"",p); print $1"\t"p}' \
		"$W/$name.ls" | sort -u > "$W/$name.bs"
	if ! diff "$W/$name.fls" "$W/$name.bs" > "$W/$name.diff"; then
		echo "$name: paths differ from fls:"; head -20 "$W/$name.diff"; fail=1
	fi
	# link counts and contents of regular files (first 80)
	local n=0 rec seq fl size links path
	while IFS=$'\t' read -r rec seq fl size links path; do
		[ "${fl:0:1}" = d ] && continue
		n=$((n + 1)); [ $n -gt 80 ] && break
		local tl
		tl=$(istat "${o[@]}" "$img" "$rec" 2>/dev/null | sed -n 's/^Links: //p')
		if [ -n "$tl" ] && [ "$tl" != "$links" ]; then
			echo "$name: $path: links $links, istat says $tl"; fail=1
		fi
		[ "$rec" -lt 16 ] && continue	# metafiles: icat picks other streams
		local a b
		a=$(icat "${o[@]}" "$img" "$rec" 2>/dev/null | sha256sum | cut -c1-64)
		b=$("$BIN" cat "$img" "${p[@]}" --path "$path" 2>/dev/null | sha256sum | cut -c1-64)
		if [ "$a" != "$b" ]; then
			echo "$name: $path (record $rec, size $size): content differs from icat"; fail=1
		fi
		tested=$((tested + 1))
	done < "$W/$name.ls"
	echo "$name: $(wc -l < "$W/$name.bs") paths match fls; files hashed so far: $tested"
}

vols=0
unpack vr1.raw velociraptor/derived/test.ntfs.dd.raw.xz && { check_vol vr1.raw; vols=$((vols+1)); }
unpack vr2.raw velociraptor/derived/partition_image.raw.xz && { check_vol vr2.raw; vols=$((vols+1)); }
unpack f4k.raw dfir_ntfs/test_data/file_4k.bin && { check_vol f4k.raw; vols=$((vols+1)); }
unpack ntfs3.raw dfir_ntfs/test_data/ntfs3.raw.gz && { check_vol ntfs3.raw; vols=$((vols+1)); }
unpack ntfs3al.raw dfir_ntfs/test_data/ntfs3_attrlist.raw.gz && { check_vol ntfs3al.raw; vols=$((vols+1)); }
unpack tfs1.raw ntfs-rs/testdata/testfs1 && { check_vol tfs1.raw; vols=$((vols+1)); }
unpack dfvfs.raw dfvfs/derived/windows_volume.raw.xz && { check_vol dfvfs.raw; vols=$((vols+1)); }
# an MBR disk (btrfs, ext4, exFAT, NTFS): partition 4, chosen explicitly
unpack multi.raw debian-forensics-samples/fs.multiple.xz && { check_vol multi.raw 391168 4; vols=$((vols+1)); }
# ... and chosen automatically (the only NTFS volume)
if [ -s "$W/multi.raw" ]; then
	"$BIN" ls "$W/multi.raw" -R | cmp -s - "$W/multi.raw.ls" ||
		{ echo "multi.raw: automatic volume choice lists differently"; fail=1; }
fi
[ $vols -eq 0 ] && exit 77
[ $tested -gt 0 ] || { echo "no file was compared"; exit 1; }
exit $fail
