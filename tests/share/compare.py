#!/usr/bin/env python3
"""Issue 11 "same answers": compare the JSONL of a sweep without sharing
(OFF) with sweeps with it (ON, and REV: children first), apart from
timings, bytes read and the cache counters; require cache hits in ON's
--stats-json, and with --kids SUBSTR, that the disks whose path holds
SUBSTR read fewer bytes with sharing than without.

    compare.py OFF.jsonl ON.jsonl REV.jsonl ON.stats [--kids SUBSTR]
               [--small SMALL.jsonl SMALL.stats]

--small: one more sweep, with a cache cap far below the family's results
(--share-mem 1): the same answers, and some layers evicted.
"""
import json
import sys

VOLATILE = {"timings_ms", "bytes_read", "scan_start", "share"}


def load(path):
    d = {}
    for line in open(path):
        o = json.loads(line)
        d[o["image"]] = o
    return d


def main(argv):
    kids_sub = small = None
    if "--kids" in argv:
        i = argv.index("--kids")
        kids_sub = argv[i + 1]
        del argv[i:i + 2]
    if "--small" in argv:
        i = argv.index("--small")
        small = argv[i + 1:i + 3]
        del argv[i:i + 3]
    off, on, rev = (load(p) for p in argv[1:4])
    bad = 0
    sweeps = [("sharing", on), ("sharing, children first", rev)]
    if small:
        sweeps.append(("sharing under a small cap", load(small[0])))
        evicted = json.load(open(small[1])).get("share", {}).get("evictions", 0)
        print("small cap: evictions", evicted)
        if evicted <= 0:
            print("the small cap evicted nothing: the test would prove nothing")
            bad += 1
    for name, other in sweeps:
        if set(off) != set(other):
            print(f"{name}: not the same disks")
            bad += 1
            continue
        for img in sorted(off):
            a = {k: v for k, v in off[img].items() if k not in VOLATILE}
            b = {k: v for k, v in other[img].items() if k not in VOLATILE}
            if a != b:
                bad += 1
                print(f"{name}: {img} differs:")
                for k in sorted(set(a) | set(b)):
                    if a.get(k) != b.get(k):
                        print(f"   {k}: {json.dumps(a.get(k))[:400]}\n"
                              f"   -> {json.dumps(b.get(k))[:400]}")
    share = json.load(open(argv[4])).get("share", {})
    print("share stats:", json.dumps(share))
    if share.get("hits", 0) <= 0:
        print("no cache hit: nothing was shared")
        bad += 1
    if kids_sub is not None:
        kids = [i for i in off if kids_sub in i]
        b_off = sum(off[i].get("bytes_read", 0) for i in kids)
        b_on = sum(on[i].get("bytes_read", 0) for i in kids)
        print(f"children: {len(kids)}, bytes read without sharing {b_off}, with {b_on}")
        if not kids or b_on >= b_off:
            print("sharing did not reduce the children's reads")
            bad += 1
    verd = {}
    for o in off.values():
        verd[o["verdict"]] = verd.get(o["verdict"], 0) + 1
    print("verdicts:", verd, "disks:", len(off))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
