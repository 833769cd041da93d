#!/usr/bin/env bash
# A hive whose value claims 2 GiB of big data ("db", regf 1.5) held in one
# 16 KiB segment.  The reader must check that the segments cover the size
# before it allocates: `hive --export` skips that value (the verifier
# reports it), exports the other one, and never asks for 2 GiB -- run
# under a 1 GiB address-space limit, an allocation sized from the claim
# would fail with ENOMEM and abort the export.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
python3 - <<'PY' || { fail "could not build the hive"; finish; }
import struct
BIN = 0x8000                     # one hive bin of 32 KiB
cells = bytearray()
def cell(payload):
    """Append an allocated cell; returns its offset in the bin area."""
    global cells
    off = 32 + len(cells)
    size = (4 + len(payload) + 7) & ~7
    cells += struct.pack('<i', -size) + payload + bytes(size - 4 - len(payload))
    return off
seg = cell(b'\xab' * 16344)                       # the one data segment
segl = cell(struct.pack('<I', seg))               # segment list
db = cell(b'db' + struct.pack('<HI', 1, segl))    # big data: 1 segment
vk_big = cell(b'vk' + struct.pack('<HIIIHH', 5, 0x7ffffff0, db, 3, 1, 0) + b'Giant')
vk_ok = cell(b'vk' + struct.pack('<HIIIHH', 2, 0x80000004, 0x1234, 4, 1, 0) + b'Ok')
vl = cell(struct.pack('<II', vk_big, vk_ok))
nk = b'nk' + struct.pack('<H', 0x2c) + bytes(8) + struct.pack(
    '<IIIIIIIIIIIIIIIHH', 0, 0xffffffff, 0, 0, 0xffffffff, 0xffffffff,
    2, vl, 0xffffffff, 0xffffffff, 0, 0, 10, 0x7ffffff0, 0, 4, 0) + b'ROOT'
root = cell(nk)
free = BIN - 32 - len(cells)
cells += struct.pack('<i', free) + bytes(free - 4)
hbin = b'hbin' + struct.pack('<II', 0, BIN) + bytes(20) + cells
base = bytearray(4096)
base[0:4] = b'regf'
struct.pack_into('<IIQIIIIIII', base, 4, 1, 1, 0, 1, 5, 0, 1, root, BIN, 1)
x = 0
for i in range(127):
    x ^= struct.unpack_from('<I', base, 4 * i)[0]
x = {0: 1, 0xffffffff: 0xfffffffe}.get(x, x)
struct.pack_into('<I', base, 508, x)
open('giant-value.hive', 'wb').write(bytes(base) + hbin)
PY
[ -s giant-value.hive ] || { fail "no hive"; finish; }

# ASan reserves terabytes of address space: the limit only works without it.
asan=0
ldd "$B" 2>/dev/null | grep -q libasan && asan=1
run() {
	if [ $asan -eq 0 ]; then (ulimit -v 1048576; "$B" "$@"); else "$B" "$@"; fi
}
run hive giant-value.hive --export > export.reg 2> export.err
rc=$?
cat export.err
# findings (the broken value) may set the finding bits, never the error bit 8
if [ $((rc & 8)) -eq 0 ] && [ $rc -lt 16 ]; then ok "export exit $rc (no operational error)"; else fail "export exit $rc"; fi
if grep -qi '"Ok"=dword:00001234' export.reg; then ok "the good value is exported"; else fail "the good value is missing: $(cat export.reg)"; fi
if grep -q '"Giant"' export.reg; then fail "the 2 GiB value was exported"; else ok "the 2 GiB value is skipped"; fi
if grep -qi 'cannot allocate\|out of memory' export.err; then fail "ENOMEM: the size was allocated before it was checked"; else ok "no allocation failure"; fi
run hive giant-value.hive > verify.out 2>&1
if grep -q 'big data segments hold less' verify.out; then ok "the verifier reports the value: $(grep -m1 'big data' verify.out)"; else fail "no finding about the value: $(cat verify.out)"; fi
kb=$(peak_rss_kb "$B" hive giant-value.hive --export)
if [ "${kb:-0}" -gt 0 ] && [ "$kb" -lt $((256 * 1024)) ]; then ok "peak RSS ${kb} KiB"; else fail "peak RSS ${kb} KiB"; fi
finish
