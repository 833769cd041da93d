#!/usr/bin/env python3
"""Encode the non-zero 4 KiB pages of an image as a sparse fuzz seed
(tests/fuzz/sparse_src.h), each page cut after its last non-zero byte so
seeds stay small.  Usage: mkseed_sparse.py IMAGE OUT"""
import struct, sys
d = open(sys.argv[1], 'rb').read()
mib = (len(d) + (1 << 20) - 1) >> 20
out = bytearray()
first = True
for p in range(0, len(d), 4096):
    page = d[p:p + 4096].rstrip(b'\0')
    if not page and not first:
        continue
    tag = (p // 4096) | ((min(mib, 255) << 24) if first else 0)
    out += struct.pack('<IH', tag, len(page)) + page
    first = False
open(sys.argv[2], 'wb').write(out)
