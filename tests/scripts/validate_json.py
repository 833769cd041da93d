#!/usr/bin/python3
"""Validate JSON Lines against bootsweep's schemas (docs/schema/*.schema.json)
with Debian's python3-jsonschema.

  validate_json.py SCHEMA_ID FILE...    every line of every FILE must be an
                                        object valid against SCHEMA_ID (such
                                        as bootsweep.disk/1)
  validate_json.py --schemas            every schema file is a valid schema
                                        of its draft and every $ref resolves

Prints the first errors and exits 1 otherwise (also when the FILEs hold no
object at all: a command that printed nothing has not been validated)."""
import glob
import json
import os
import sys

import jsonschema

here = os.path.dirname(os.path.abspath(__file__))
BASE = "https://schemas.bootsweep.invalid/"   # never fetched: all are in the store
schemas = {}
for p in sorted(glob.glob(os.path.join(here, "..", "..", "docs", "schema", "*.schema.json"))):
    s = json.load(open(p))
    schemas[s["$id"]] = s


def validator(sid):
    s = schemas[sid]
    cls = jsonschema.validators.validator_for(s)
    cls.check_schema(s)
    resolver = jsonschema.RefResolver(base_uri=sid, referrer=s, store=schemas)
    return cls(s, resolver=resolver)


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


if sys.argv[1:] == ["--schemas"]:
    bad = 0
    for sid, s in sorted(schemas.items()):
        v = validator(sid)
        for r in refs(s):
            try:
                v.resolver.resolve(r)
            except jsonschema.RefResolutionError as e:
                bad += 1
                print("%s: $ref %s does not resolve: %s" % (sid, r, e))
    print("%d schemas, %d unresolved references" % (len(schemas), bad))
    sys.exit(1 if bad or not schemas else 0)

if len(sys.argv) < 3:
    sys.exit(__doc__)
want = BASE + sys.argv[1]
if want not in schemas:
    sys.exit("no schema %s (have %s)" % (want, ", ".join(sorted(schemas))))
v = validator(want)
bad = n = 0
for path in sys.argv[2:]:
    for i, line in enumerate(open(path, encoding="utf-8", errors="surrogateescape"), 1):
        if not line.strip():
            continue
        n += 1
        try:
            obj = json.loads(line)
        except ValueError as e:
            bad += 1
            print("%s:%d: not JSON: %s" % (path, i, e))
            continue
        for e in v.iter_errors(obj):
            bad += 1
            if bad <= 5:
                print("%s:%d: %s at %s" % (path, i, e.message, "/".join(map(str, e.absolute_path))))
print("%s: %d objects, %d errors" % (want, n, bad))
sys.exit(1 if bad or not n else 0)
