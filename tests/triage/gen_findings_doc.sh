#!/bin/bash
# Print docs/findings.md from formats/common/problems.def and scanner/problems/*.def:
# every finding row with its code, name, id, severity, implied verdict,
# message and the .def file it comes from.  Usage: gen_findings_doc.sh [SRCDIR]
set -eu
SRC=${1:-${BSW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf '#define PROBLEM(name, id, code, sev, verdict, flags, max, msg) @@ROW@@ code @@ #name @@ #id @@ #sev @@ #verdict @@ #flags @@ #max @@ msg @@END@@\n#include "formats/common/problems.def"\n#define CODE(c, m, n, s) @@CODE@@ c @@ m @@ n @@ s @@END@@\n#include "scanner/problems/codes.def"\n' > "$tmp"
cpp -I "$SRC" -x c "$tmp" | python3 -c "$(cat <<'PY'
import ast, re, sys

text = sys.stdin.read()
rows, cur, codes = [], "?", []
# follow cpp's line markers to know which .def each row came from
for m in re.finditer(r'^# \d+ "([^"]+)"[^\n]*$|@@ROW@@(.*?)@@END@@|@@CODE@@(.*?)@@END@@', text, re.M | re.S):
    if m.group(1):
        cur = m.group(1)
        continue
    if m.group(3):
        lit3 = lambda s: "".join(ast.literal_eval(x) for x in re.findall(r'"(?:[^"\\]|\\.)*"', s))
        codes.append([lit3(x) for x in m.group(3).split("@@")])
        continue
    f = [x.strip() for x in m.group(2).split("@@")]
    lit = lambda s: "".join(ast.literal_eval(x) for x in re.findall(r'"(?:[^"\\]|\\.)*"', s))
    src = re.sub(r"^.*?(formats/common/problems|scanner/problems)", r"\1", cur)
    rows.append((lit(f[0]), int(lit(f[2]), 16), lit(f[1]), {"warn": "warning"}.get(lit(f[3]).lower(), lit(f[3]).lower()),
                 lit(f[4]).lower(), lit(f[5]), lit(f[7]), src))
rows.sort()
names = {"none": "none (clean)", "rollback": "dirty-rollback", "unboot": "unbootable",
         "unassess": "unassessable"}
print("# Finding codes")
print()
print("Generated from `formats/common/problems.def` by `tests/triage/gen_findings_doc.sh`; the")
print("test `triage_findings_doc` fails when this file is out of date.  `code` is the")
print("catalogue code (`../shared/docs/WINDOWS-EVIDENCE.md`) used in JSON output and in")
print("ground truth; several rows may share a code.  `implies` is the verdict a finding")
print("implies on its own (a call site may override it, e.g. a corrupt COMPONENTS hive")
print("implies dirty-rollback where a corrupt SYSTEM hive implies unbootable).  The")
print("meaning is the message with its evidence placeholders ({off}, {rec}, {str}...).")
print()
print("| code | name | id | severity | implies | meaning (message) | source |")
print("|---|---|---|---|---|---|---|")
for code, pid, name, sev, ver, flags, msg, src in rows:
    m = msg.replace("|", "\\|")
    if "BSW_PF_DEPRECATED" in flags:
        m = "(retired) " + m
    print("| %s | %s | 0x%06X | %s | %s | %s | %s |" % (code, name, pid, sev,
          names.get(ver, ver), m, src))
print()
print("%d rows, %d codes." % (len(rows), len({r[0] for r in rows})))
print()
print("## What each code means and what to do")
print()
print("From `scanner/problems/codes.def` (one row per code; the test `test_codes` fails")
print("when a code has none).  The same text is in `bootsweep report` and scan's summary.")
print()
print("| code | meaning | next step | source |")
print("|---|---|---|---|")
for c, mean, nxt, src in sorted(codes):
    e = lambda x: x.replace("|", "\\|")
    print("| %s | %s | %s | %s |" % (c, e(mean), e(nxt), e(src)))
PY
)"
