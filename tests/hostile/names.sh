#!/bin/bash
# Names that are not UTF-8, or that hide a NUL.  A file name with Latin-1
# and stray bytes gives valid JSON whose "image", decoded with Python's
# surrogateescape, is the exact name, and --resume recognises it (no second
# line).  A registry key whose name holds a NUL (a known way to hide a key
# from regedit) keeps the whole name in `hive --export`.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
mkdir in
python3 -c '
import os
for n in [b"caf\xe9.img", b"stray\x80\xff.img", b"ok-\xc3\xa9.img", b"quote\"back\\slash\nnl.img"]:
    open(b"in/" + n, "wb").write(bytes(4096))'
"$B" scan in -o out.jsonl --quiet
rc=$?
[ "$rc" -eq 1 ] && ok "4 odd names swept, exit $rc" || fail "exit $rc"
python3 - out.jsonl <<'PY' && ok "valid JSON; each image decodes (surrogateescape) to the file's exact bytes" || fail "names"
import json, os, sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")                      # the file itself is strict UTF-8
rows = [json.loads(l) for l in raw.decode("utf-8").splitlines()]
got = sorted(os.fsencode(r["image"]) for r in rows)
want = sorted(os.path.realpath(b"in/" + n) for n in os.listdir(b"in"))
assert got == want, (got, want)
for r in rows:
    assert os.path.exists(os.fsencode(r["image"]))
PY
"$B" scan in -o out.jsonl --resume --quiet
[ "$(wc -l < out.jsonl)" = 4 ] && ok "--resume recognises every odd name" || fail "resume added lines: $(wc -l < out.jsonl)"

# a key name with a NUL inside, made from a corpus hive
H=${BSW_CORPUS:-/nonexistent}/yarp/hives_for_tests/NewDirtyHive1/RecoveredHive_Windows10
[ -f "$H" ] || { echo "note: corpus hive missing; NUL-name case not run"; finish; }
python3 - "$H" hidden.hive <<'PY' || fail "could not plant a NUL in a key name"
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
# the first ASCII-named (flag 0x20) key with a name of 6+ characters:
# its name becomes name[:3] + NUL + name[4:]
i = 4096
while True:
    i = b.find(b"nk", i)
    if i < 0:
        sys.exit(1)
    flags = struct.unpack_from("<H", b, i + 2)[0]
    nlen = struct.unpack_from("<H", b, i + 0x48)[0]
    name = bytes(b[i + 0x4C:i + 0x4C + nlen])
    if flags & 0x20 and 6 <= nlen < 64 and all(0x21 <= c < 0x7f and c != 0x5c for c in name) and not flags & 0x04:
        break
    i += 2
b[i + 0x4C + 3] = 0
open(sys.argv[2], "wb").write(b)
open("name.txt", "w").write(name[:3].decode() + "\\x00" + name[4:].decode())
PY
"$B" hive hidden.hive --no-logs --export > hidden.reg 2> /dev/null
want=$(cat name.txt)
grep -qF "$want" hidden.reg && ok "the export keeps the name with its NUL: $want" ||
	fail "export lacks '$want'"
finish
