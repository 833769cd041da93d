#!/usr/bin/env python3
"""Compare scan output with truth.jsonl: every verdict must equal the truth
class, every truth code must be reported, and no faulty disk may be called
clean.  Prints precision and recall per verdict.  Exit 1 on any failure.

Usage: check_truth.py TRUTH.jsonl RESULTS.jsonl"""
import json, os, sys

truth = {}
for line in open(sys.argv[1]):
    if line.strip():
        t = json.loads(line)
        truth[os.path.basename(t["image"])] = t
res = {}
for line in open(sys.argv[2]):
    if line.strip():
        r = json.loads(line)
        res[os.path.basename(r["image"])] = r

fail = 0
classes = ["clean", "dirty-rollback", "unbootable", "unassessable"]
tp = {c: 0 for c in classes}
fp = {c: 0 for c in classes}
fn = {c: 0 for c in classes}
for img, t in sorted(truth.items()):
    r = res.get(img)
    if r is None:
        print("MISSING  %-40s no output line" % img)
        fail += 1
        continue
    got = r["verdict"]
    codes = {f["code"] for f in r.get("findings", [])}
    missing = [c for c in t.get("codes", []) if c not in codes]
    ok = got == t["class"] and not missing
    if got == t["class"]:
        tp[got] += 1
    else:
        fp[got] = fp.get(got, 0) + 1
        fn[t["class"]] += 1
    if got == "clean" and t["class"] != "clean":
        print("FAULTY-CALLED-CLEAN %s (%s)" % (img, t.get("scenario")))
    if not ok:
        fail += 1
        print("FAIL     %-40s %-28s want %-14s got %-14s missing %s; reported %s"
              % (img, t.get("scenario", ""), t["class"], got, missing, sorted(codes)))
for c in classes:
    p = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else 1.0
    rc = tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else 1.0
    print("%-15s precision %.3f recall %.3f (tp %d fp %d fn %d)" % (c, p, rc, tp[c], fp[c], fn[c]))
print("%d disks, %d failures" % (len(truth), fail))
sys.exit(1 if fail else 0)
