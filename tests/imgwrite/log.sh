# imgwrite --pending-log: a VHDX whose last BAT update and one data sector
# sit in a valid, unreplayed log (docs/imgwrite.md says what changes).
#  - qemu replays the log when it opens a copy read-write; the replayed
#    copy must equal the raw and pass qemu-img check;
#  - libvhdi ignores logs, so vhdimount shows the file as-is: the raw with
#    the last allocated block missing and one 4 KiB sector inverted;
#  - the bytes in the file are what mkimage's description says.
. "$BSW_SRCDIR/tests/imgwrite/lib.sh"
need qemu-img
need qemu-io
scratch log

num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2"; }
flag() { grep -q "\"$1\":true" "$2"; }

mkraw a.raw 64M "0x5a 0 3M" "0x11 20M 512" "0x77 62M 2M"

for f in vhdx-dynamic vhdx-fixed; do
	img=p.$f
	"$MKIMAGE" --from-raw a.raw --out $img --format $f --pending-log > $f.json ||
		{ fail "mkimage $f --pending-log"; continue; }
	cat $f.json
	flag has_bat $f.json && flag has_sector $f.json || fail "$f: log changes nothing"
	lo=$(num log_offset $f.json)
	bi=$(num bat_index $f.json)
	bv=$(num block_voff $f.json)
	bl=$(num block_len $f.json)
	sv=$(num sector_voff $f.json)
	sf=$(num sector_foff $f.json)
	# The last allocated block is the one at 62 MiB; the first non-zero
	# 4 KiB of the first allocated block is at 0.
	[ "$bv" = $((62 * 1048576)) ] && [ "$sv" = 0 ] && ok "$f: described changes" ||
		fail "$f: block_voff $bv sector_voff $sv"
	[ "$(dd if=$img bs=1 skip=$lo count=4 status=none)" = loge ] &&
		ok "$f: log entry at $lo" || fail "$f: no loge at $lo"
	# BAT at 3 MiB: the entry is PAYLOAD_BLOCK_NOT_PRESENT in the file.
	ent=$(od -An -tx8 -j $((3 * 1048576 + 8 * bi)) -N8 $img | tr -d ' ')
	[ "$ent" = 0000000000000000 ] && ok "$f: BAT entry $bi not present as-is" ||
		fail "$f: BAT entry $bi is $ent"
	# The file's sector is the raw's inverted.
	dd if=$img bs=4096 skip=$((sf / 4096)) count=1 status=none > sec.file
	dd if=a.raw bs=4096 skip=$((sv / 4096)) count=1 status=none |
		perl -0777 -pe '$_ = ~$_' > sec.inv
	cmp -s sec.file sec.inv && ok "$f: sector inverted in the file" ||
		fail "$f: sector at $sf is not the inverted raw"

	# Replayed by qemu (read-write open of a copy).
	cp --sparse=always $img replay.vhdx
	qemu-io -f vhdx -c "read 0 512" replay.vhdx >/dev/null 2>&1 ||
		fail "$f: qemu could not open/replay"
	qemu-img compare -q -f raw -F vhdx a.raw replay.vhdx && ok "$f: qemu replay == raw" ||
		fail "$f: qemu replay differs from raw"
	qemu-img check -q -f vhdx replay.vhdx && ok "$f: replayed copy checks" ||
		fail "$f: qemu-img check after replay"
	# qemu refuses to open it read-only as-is: the log is pending.
	qemu-img info -f vhdx $img >/dev/null 2>&1 &&
		fail "$f: qemu saw no pending log" || ok "$f: qemu sees a pending log"

	# As-is through libvhdi.
	cp --sparse=always a.raw asis.raw
	dd if=/dev/zero of=asis.raw bs=1M seek=$((bv / 1048576)) count=$((bl / 1048576)) \
		conv=notrunc status=none
	dd if=sec.inv of=asis.raw bs=4096 seek=$((sv / 4096)) conv=notrunc status=none
	if [ -c /dev/fuse ] && command -v vhdimount >/dev/null; then
		if vhdi_read $img view.raw; then
			cmp -s view.raw asis.raw && ok "$f: vhdimount (no replay) == as-is" ||
				fail "$f: vhdimount view differs from the as-is expectation"
		else
			echo "SKIP (mount part): vhdimount cannot mount here"
		fi
		rm -f view.raw
	fi
	cmp -s asis.raw a.raw && fail "$f: as-is equals the raw"

	mkdir -p again
	"$MKIMAGE" --from-raw a.raw --out again/$img --format $f --pending-log >/dev/null &&
		cmp -s $img again/$img && ok "$f: deterministic" || fail "$f: rewrite differs"
done
finish
