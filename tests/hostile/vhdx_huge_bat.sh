#!/usr/bin/env bash
# A 64 TiB dynamic VHDX with 1 MiB blocks: 67,125,247 BAT entries (512 MiB
# of table) in a 4 GiB BAT region of a sparse file holding ~200 KiB.  With
# --mem-cap 256 the BAT does not fit the per-disk budget: `scan` of it plus
# a normal disk prints one line each, the giant unassessable with a
# memory-cap error, the normal one assessed, and the peak RSS stays under
# --mem-cap + 256 MiB.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
[ -x /usr/bin/time ] || skip "/usr/bin/time missing"
FLEET=${BSW_BINDIR}/datasets/mkfleet
[ -x "$FLEET" ] || skip "mkfleet not built"
CAP=256

python3 - <<'PY' || { fail "could not build the VHDX"; finish; }
import struct, uuid
MiB = 1 << 20
tab = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    tab.append(c)
def crc32c(b):
    c = 0xffffffff
    for x in b:
        c = tab[(c ^ x) & 0xff] ^ (c >> 8)
    return c ^ 0xffffffff
def seal(b):
    struct.pack_into('<I', b, 4, 0)
    struct.pack_into('<I', b, 4, crc32c(b))
g = lambda s: uuid.UUID(s).bytes_le
G_BAT, G_META = g('2dc27766-f623-4200-9d64-115e9bfd4a08'), g('8b7ca206-4790-4b9a-b8fe-575f050f886e')
G_FP, G_VS = g('caa16737-fa36-4d43-b3b6-33f0aa44e76b'), g('2fa54224-cd1b-4876-b211-5dbed83bf4b8')
G_LSS, G_PSS = g('8141bf1d-a96f-4709-ba47-f233a8faab5f'), g('cda348c7-445d-4471-9cc9-e9885251c556')
BAT, BATLEN, META = 3 * MiB, 0xfff00000, 2 * MiB
size = BAT + BATLEN
with open('giant.vhdx', 'wb') as f:
    f.truncate(size)
    f.write(b'vhdxfile')
    for i, at in enumerate((64 << 10, 128 << 10)):
        h = bytearray(4096)
        h[0:4] = b'head'
        struct.pack_into('<Q', h, 8, i + 1)
        h[16:32] = bytes([0x11] * 16)
        h[32:48] = bytes([0x22] * 16)
        struct.pack_into('<HHIQ', h, 64, 0, 1, MiB, MiB)
        seal(h)
        f.seek(at); f.write(h)
    r = bytearray(64 << 10)
    r[0:4] = b'regi'
    struct.pack_into('<I', r, 8, 2)
    r[16:32] = G_BAT; struct.pack_into('<QII', r, 32, BAT, BATLEN, 1)
    r[48:64] = G_META; struct.pack_into('<QII', r, 64, META, MiB, 1)
    seal(r)
    for at in (192 << 10, 256 << 10):
        f.seek(at); f.write(r)
    m = bytearray(128 << 10)
    m[0:8] = b'metadata'
    items = [(G_FP, struct.pack('<II', MiB, 0)), (G_VS, struct.pack('<Q', 64 << 40)),
             (G_LSS, struct.pack('<I', 512)), (G_PSS, struct.pack('<I', 4096))]
    struct.pack_into('<H', m, 10, len(items))
    off = 64 << 10
    for k, (guid, data) in enumerate(items):
        e = 32 + 32 * k
        m[e:e + 16] = guid
        struct.pack_into('<III', m, e + 16, off, len(data), 4)
        m[off:off + len(data)] = data
        off += 64
    f.seek(META); f.write(m)
PY
"$FLEET" --out fleet --scale small --scenarios clean --format vhdx >/dev/null 2>&1 ||
	{ fail "mkfleet failed"; finish; }
echo "giant.vhdx: $(stat -c %s giant.vhdx) bytes, $(du -k giant.vhdx | cut -f1) KiB on disk"

expect_giant_refused giant.vhdx fleet/clean.vhdx $CAP
finish
