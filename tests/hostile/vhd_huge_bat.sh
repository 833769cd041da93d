#!/usr/bin/env bash
# A 2,040 GiB dynamic VHD with 1 KiB blocks: 2,139,095,040 BAT entries,
# an 8.5 GB sparse file holding 8 KiB.  Once, reading its BAT made `scan`
# allocate ~24 GB and get OOM-killed, losing every other disk's result.
# Now: `scan` of it plus a normal disk prints one line each, the giant
# unassessable with a memory-cap error, the normal one assessed, and the
# peak RSS stays under --mem-cap + 256 MiB.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
[ -x /usr/bin/time ] || skip "/usr/bin/time missing"
FLEET=${BSW_BINDIR}/datasets/mkfleet
[ -x "$FLEET" ] || skip "mkfleet not built"
CAP=512

python3 - <<'PY' || { fail "could not build the VHD"; finish; }
import struct
vsize = 2040 << 30
block = 1024
n = vsize // block                      # 2,139,095,040 entries
bat = 1536
size = bat + 4 * n + 512
def csum(b, at):
    return ~sum(b[i] for i in range(len(b)) if not at <= i < at + 4) & 0xffffffff
foot = bytearray(512)
foot[0:8] = b'conectix'
struct.pack_into('>IIQIIII', foot, 8, 2, 0x10000, 512, 0, 0x62737700, 0x10000, 0x5769326b)
struct.pack_into('>QQIII', foot, 40, vsize, vsize, 0xffff10ff, 3, 0)
foot[68:84] = bytes(range(1, 17))
struct.pack_into('>I', foot, 64, csum(foot, 64))
dh = bytearray(1024)
dh[0:8] = b'cxsparse'
struct.pack_into('>QQIII', dh, 8, 0xffffffffffffffff, bat, 0x10000, n, block)
struct.pack_into('>I', dh, 36, csum(dh, 36))
with open('giant.vhd', 'wb') as f:
    f.truncate(size)                    # sparse: the BAT is never written
    f.write(foot)
    f.write(dh)
    f.seek(size - 512)
    f.write(foot)
PY
"$FLEET" --out fleet --scale small --scenarios clean --format vhd >/dev/null 2>&1 ||
	{ fail "mkfleet failed"; finish; }
sz=$(stat -c %s giant.vhd) used=$(du -k giant.vhd | cut -f1)
echo "giant.vhd: $sz bytes, $used KiB on disk"
[ "$sz" -gt 8000000000 ] && ok "sparse giant of $sz bytes" || fail "giant is $sz bytes"

expect_giant_refused giant.vhd fleet/clean.vhd $CAP
finish
