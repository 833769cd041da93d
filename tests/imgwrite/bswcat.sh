# bootsweep cat of every kind of image the writer makes must equal the raw
# it was made from: fixed/dynamic VHD and VHDX, 3-level differencing chains
# (relative locators across folders, and the absolute locator when the
# relative one no longer resolves), and VHDX with a pending log (replayed
# in memory by bootsweep).  Skips while `bootsweep cat` is not implemented.
. "$BSW_SRCDIR/tests/imgwrite/lib.sh"
need qemu-io
[ -x "$BSW" ] || { echo "SKIP: no bootsweep binary"; exit 77; }
scratch bswcat

out=$("$BSW" cat /dev/null 2>&1)
if echo "$out" | grep -qi "not implemented"; then
	echo "SKIP: bootsweep cat is not implemented yet"
	exit 77
fi

check() {	# image expected-raw
	if "$BSW" cat "$1" > got.raw 2> err.txt && cmp -s got.raw "$2"; then
		ok "bootsweep cat $1 == $2"
	else
		fail "bootsweep cat $1 != $2 ($(head -c 300 err.txt))"
	fi
	rm -f got.raw
}

mkraw base.raw 64M "0x5a 0 3M" "0x11 20M 512" "0x33 31M 2M" "0x77 63M 1M"
mkraw odd.raw $((50 * 1048576 + 3072)) "0xc3 1M 64K" "0x99 $((50 * 1048576)) 3072"
for raw in base.raw odd.raw; do
	for f in vhd-fixed vhd-dynamic vhdx-fixed vhdx-dynamic; do
		"$MKIMAGE" --from-raw $raw --out ${raw%.raw}.$f --format $f &&
			check ${raw%.raw}.$f $raw || fail "mkimage $raw $f"
	done
done

cp --sparse=always base.raw c1.raw
qemu-io -f raw -c "write -P 0xa1 1M 512" -c "write -P 0xa2 10M 3M" \
	-c "write -P 0 63M 4K" c1.raw >/dev/null
cp --sparse=always c1.raw c2.raw
qemu-io -f raw -c "write -P 0xb1 1536K 1536" -c "write -P 0xb2 2M 2M" \
	-c "write -P 0xb3 $((40 * 1048576 + 512)) 512" c2.raw >/dev/null

for x in vhd vhdx; do
	mkdir -p $x/a $x/b
	"$MKIMAGE" --from-raw base.raw --out $x/L0.$x --format $x-dynamic
	"$MKIMAGE" --diff --parent $x/L0.$x --locator "..\\L0.$x" --base-raw base.raw \
		--child-raw c1.raw --out $x/a/L1.$x
	"$MKIMAGE" --diff --parent $x/a/L1.$x --locator "..\\a\\L1.$x" --base-raw c1.raw \
		--child-raw c2.raw --out $x/b/L2.$x
	check $x/L0.$x base.raw
	check $x/a/L1.$x c1.raw
	check $x/b/L2.$x c2.raw
	# Move the top child away: its relative locator no longer resolves,
	# the absolute one (C:\...\a\L1) still does.
	mkdir -p $x/elsewhere/deep
	cp --sparse=always $x/b/L2.$x $x/elsewhere/deep/L2.$x
	check $x/elsewhere/deep/L2.$x c2.raw
	"$BSW" info $x/elsewhere/deep/L2.$x > info.txt 2>&1
	grep -q "found by absolute locator" info.txt && ok "$x: absolute locator used" ||
		fail "$x: absolute locator not used: $(cat info.txt)"
	grep -q "identity mismatch\|identity does not match" info.txt &&
		fail "$x: identity mismatch: $(cat info.txt)"
	[ "$(grep -c 'identity matches' info.txt)" = 2 ] && ok "$x: identities match" ||
		fail "$x: identities: $(cat info.txt)"
done

# Pending logs: bootsweep replays them in memory.
for f in vhdx-dynamic vhdx-fixed; do
	"$MKIMAGE" --from-raw base.raw --out log.$f --format $f --pending-log >/dev/null &&
		check log.$f base.raw || fail "mkimage $f --pending-log"
done
"$MKIMAGE" --diff --parent vhdx/a/L1.vhdx --locator "vhdx\\a\\L1.vhdx" --base-raw c1.raw \
	--child-raw c2.raw --out logdiff.vhdx --pending-log >/dev/null &&
	check logdiff.vhdx c2.raw || fail "mkimage --diff --pending-log"
finish
