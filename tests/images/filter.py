#!/usr/bin/env python3
"""Normalise bootsweep's output for the golden image tests (the part that
tests/filter.sed plays for e2fsprogs' tests/run_e2fsck).

Reads bootsweep's stdout on stdin and writes it with the volatile fields
fixed: timings_ms and scan_start are dropped, version and image_mtime
become placeholders, the work folder (argv[1]) in any string becomes "."
and the source tree (argv[2]) "@SRC@".  Each JSON line is printed indented, keys in bootsweep's own order, so
a change shows as a readable diff; other lines pass through.
Everything else (verdict, findings, offsets, bytes_read...) is kept:
bootsweep's output for a given image must not vary.
"""
import json
import os
import sys

DROP = ("timings_ms", "scan_start")
MASK = {"version": "<version>", "image_mtime": "<mtime>"}
# a case's `mask` file: more keys whose values vary with where the case runs
for k in os.environ.get("BSW_MASK", "").split():
    MASK[k] = "<masked>"
work = sys.argv[1] if len(sys.argv) > 1 else None
src = sys.argv[2] if len(sys.argv) > 2 else None


def norm(v):
    if isinstance(v, dict):
        return {k: MASK[k] if k in MASK else norm(x)
                for k, x in v.items() if k not in DROP}
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, str):
        if work:
            v = v.replace(work + "/", "./").replace(work, ".")
        if src:
            v = v.replace(src, "@SRC@")
    return v


for line in sys.stdin:
    line = line.rstrip("\n")
    try:
        o = json.loads(line)
    except ValueError:
        print(norm(line))
        continue
    print(json.dumps(norm(o), indent=1, ensure_ascii=False))
