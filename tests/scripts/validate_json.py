#!/usr/bin/python3
"""Validate JSON Lines against bootsweep's schemas (docs/schema/*.schema.json)
with Debian's python3-jsonschema.  Usage: validate_json.py SCHEMA_ID FILE...
(SCHEMA_ID such as bootsweep.disk/1).  Every line of every FILE must be valid;
prints the first errors and exits 1 otherwise."""
import glob
import json
import os
import sys

import jsonschema

here = os.path.dirname(os.path.abspath(__file__))
schemas = {}
for p in glob.glob(os.path.join(here, "..", "..", "docs", "schema", "*.schema.json")):
    s = json.load(open(p))
    schemas[s["$id"]] = s
BASE = "https://schemas.bootsweep.invalid/"   # never fetched: all are in the store
want = BASE + sys.argv[1]
if want not in schemas:
    sys.exit("no schema %s (have %s)" % (want, ", ".join(sorted(schemas))))
cls = jsonschema.validators.validator_for(schemas[want])
cls.check_schema(schemas[want])
resolver = jsonschema.RefResolver(base_uri=want, referrer=schemas[want], store=schemas)
v = cls(schemas[want], resolver=resolver)
bad = n = 0
for path in sys.argv[2:]:
    for i, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        n += 1
        for e in v.iter_errors(json.loads(line)):
            bad += 1
            if bad <= 5:
                print("%s:%d: %s at %s" % (path, i, e.message, "/".join(map(str, e.absolute_path))))
print("%s: %d objects, %d errors" % (want, n, bad))
sys.exit(1 if bad or not n else 0)
