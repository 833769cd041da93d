# Shared helpers of the image-writer tests (sourced).  Work happens in a
# scratch directory of the build tree; inputs are small sparse raws.
set -u
BIN=${BSW_BINDIR:-$PWD}
MKIMAGE=$BIN/datasets/mkimage
BSW=${BSW_BIN:-$BIN/bootsweep}
FAILS=0

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
need() { command -v "$1" >/dev/null || { echo "SKIP: $1 not installed"; exit 77; }; }

scratch() {
	W=$BIN/t-imgwrite-$1
	rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
}

# A raw disk of $2 bytes with data patterns (qemu-io writes, not mkimage).
mkraw() {
	local f=$1 size=$2
	shift 2
	truncate -s "$size" "$f" || exit 1
	local args=()
	for w in "$@"; do args+=(-c "write -P $w"); done
	[ ${#args[@]} -eq 0 ] || qemu-io -f raw "${args[@]}" "$f" >/dev/null || exit 1
}

# The whole virtual disk of a VHD/VHDX chain through vhdimount: the
# mount exposes every layer as vhdiN, the last one being the image itself.
vhdi_read() {
	local img=$1 out=$2 mnt
	mnt=$(mktemp -d "$W/mnt.XXXX")
	if ! timeout 30 vhdimount -X allow_root "$img" "$mnt" >/dev/null 2>&1; then
		rmdir "$mnt"
		return 2
	fi
	local last
	last=$(ls "$mnt" | sort -V | tail -1)
	cp --sparse=always "$mnt/$last" "$out"
	local rc=$?
	fusermount -u "$mnt" 2>/dev/null || umount "$mnt"
	rmdir "$mnt"
	return $rc
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS failure(s)"
		exit 1
	fi
	cd "$BIN" && rm -rf "$W"
	echo "all passed"
	exit 0
}
