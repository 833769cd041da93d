# imgwrite vs qemu-img: fixed and dynamic VHD and VHDX written by mkimage
# must read back as the raw they came from (qemu-img compare), pass
# qemu-img check (VHDX; qemu has no check for vpc), keep zero blocks
# unallocated, honour --block-size, and be byte-identical when rewritten.
. "$BSW_SRCDIR/tests/imgwrite/lib.sh"
need qemu-img
need qemu-io
scratch qemu

# 64 MiB: data at the start, a lone sector, a block straddling write, the end.
mkraw a.raw 64M "0x5a 0 3M" "0x11 20M 512" "0x33 31M 2M" "0x77 63M 1M"
# An odd size (not a block multiple), data in the last partial block.
mkraw b.raw $((50 * 1048576 + 3072)) "0xc3 1M 64K" "0x99 $((50 * 1048576)) 3072"

for raw in a.raw b.raw; do
	for f in vhd-fixed vhd-dynamic vhdx-fixed vhdx-dynamic; do
		case $f in vhdx*) q=vhdx ;; *) q=vpc ;; esac
		out=${raw%.raw}.$f
		if ! "$MKIMAGE" --from-raw $raw --out $out --format $f; then
			fail "mkimage $raw $f"; continue
		fi
		if qemu-img compare -q -f raw -F $q $raw $out; then
			ok "qemu-img compare $raw $f"
		else
			fail "qemu-img compare $raw $f"
		fi
		if [ $q = vhdx ]; then
			qemu-img check -q -f vhdx $out && ok "qemu-img check $out" ||
				fail "qemu-img check $out"
		fi
		# Same name elsewhere: the default id derives from the name.
		mkdir -p again
		"$MKIMAGE" --from-raw $raw --out again/$out --format $f &&
			cmp -s $out again/$out && ok "deterministic $out" ||
			fail "rewrite of $out differs"
		rm -f again/$out
	done
done

# Dynamic images allocate only non-zero blocks: a.raw has 4 MiB + 2 MiB +
# 2 MiB of blocks touched out of 64 MiB, so the files stay far below it.
for f in a.vhd-dynamic a.vhdx-dynamic; do
	sz=$(stat -c %s $f)
	[ "$sz" -lt $((24 * 1048576)) ] && ok "$f is $sz bytes (zero blocks unallocated)" ||
		fail "$f is $sz bytes: zero blocks were allocated"
done
# Fixed VHD: raw + 512-byte footer exactly.
[ "$(stat -c %s a.vhd-fixed)" -eq $((64 * 1048576 + 512)) ] && ok "fixed VHD size" ||
	fail "fixed VHD is $(stat -c %s a.vhd-fixed) bytes"
# The footer copy of a dynamic VHD equals its footer.
cmp -s <(head -c 512 a.vhd-dynamic) <(tail -c 512 a.vhd-dynamic) &&
	ok "VHD footer copy" || fail "VHD footer copy differs from the footer"

# Other block sizes.
for spec in "vhd-dynamic 512K vpc" "vhdx-dynamic 1M vhdx" "vhdx-dynamic 32M vhdx" "vhdx-fixed 8M vhdx"; do
	set -- $spec
	"$MKIMAGE" --from-raw a.raw --out bs.$1.$2 --format $1 --block-size $2 &&
		qemu-img compare -q -f raw -F $3 a.raw bs.$1.$2 &&
		ok "block size $2 ($1)" || fail "block size $2 ($1)"
	[ $3 = vhdx ] && { qemu-img check -q bs.$1.$2 || fail "qemu-img check bs.$1.$2"; }
	info=$(qemu-img info --output=json -f $3 bs.$1.$2)
	echo "$info" | grep -q "\"cluster-size\": $(numfmt --from=iec $2)" &&
		ok "cluster size $2 reported" || fail "qemu reports another block size for $2: $info"
done

# Hostile arguments: an unaligned raw and an invalid block size fail cleanly.
head -c 1000 /dev/zero > odd.raw
"$MKIMAGE" --from-raw odd.raw --out odd.vhd --format vhd-dynamic 2>/dev/null &&
	fail "a raw of 1000 bytes was accepted" || ok "unaligned raw refused"
"$MKIMAGE" --from-raw a.raw --out x.vhdx --format vhdx-dynamic --block-size 3M 2>/dev/null &&
	fail "block size 3M accepted" || ok "bad block size refused"
[ ! -e x.vhdx ] && ok "no output left behind on error" || fail "x.vhdx left behind"
finish
