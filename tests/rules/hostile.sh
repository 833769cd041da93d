#!/bin/bash
# Hostile rule files (issue 16): each is refused with exit 16 and a reason
# naming the file (and line where there is one) before the sweep starts:
# nothing is written to -o, no disk is opened.  Also: several files load
# together, ids must be unique across them, and a pathological glob that
# is accepted is matched in bounded time.
set -u
BIN=${BSW_BIN:?}
SRC=${BSW_SRCDIR:?}
W=${BSW_BINDIR:?}/rules-hostile
rm -rf "$W"; mkdir -p "$W"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# a disk that exists (never opened: the rules are refused first)
IMG=$W/disk.img
head -c 1048576 /dev/zero > "$IMG"

hdr='version: 1
rules:'
rule() {	# rule ID CONDITION-YAML (one line, indented under conditions)
	printf '  - id: %s\n    description: d\n    source: https://example.org/s\n    label: l\n    severity: high\n    conditions:\n      - %s\n' "$1" "$2"
}
refuse() {	# NAME FILE EXPECTED-SUBSTRING
	local out="$W/$1.jsonl" rc t0 t1
	t0=$(date +%s%N)
	"$BIN" scan "$IMG" --rules "$2" -q -o "$out" 2> "$W/$1.err"
	rc=$?
	t1=$(date +%s%N)
	[ $rc = 16 ] || bad "$1: exit $rc, want 16"
	[ -e "$out" ] && bad "$1: the output was created"
	grep -q -- "$3" "$W/$1.err" || bad "$1: message '$(head -c 300 "$W/$1.err")' lacks '$3'"
	grep -q -- "$2" "$W/$1.err" || bad "$1: message does not name the file"
	[ $(( (t1 - t0) / 1000000 )) -lt 5000 ] || bad "$1: took $(( (t1 - t0) / 1000000 )) ms"
}

printf '%s\n  - id: [unclosed\n' "$hdr" > "$W/syntax.yaml";		refuse syntax "$W/syntax.yaml" 'YAML syntax'
# billion laughs: aliases are refused outright
{ echo 'a: &a ["x","x","x","x","x","x","x","x","x"]'; echo 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]';
  echo 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]'; echo 'd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]'; } > "$W/laughs.yaml"
refuse laughs "$W/laughs.yaml" 'aliases'
python3 -c 'print("rules: " + "[" * 5000 + "]" * 5000)' > "$W/deep.yaml";	refuse deep "$W/deep.yaml" 'nested deeper'
python3 -c 'print("rules:\n" + "- {a: 1}\n" * 300000)' > "$W/big.yaml";	refuse big "$W/big.yaml" 'larger than 1 MiB'
python3 -c 'print("rules: [" + "1," * 250000 + "1]")' > "$W/events.yaml";	refuse events "$W/events.yaml" 'YAML events'
{ echo "$hdr"; rule g "file: { path: '\\$(printf 'a%.0s' {1..600})' }"; } > "$W/glob.yaml";	refuse glob "$W/glob.yaml" 'longer than'
{ echo "$hdr"; rule s "file: { path: '\\$(printf '*a%.0s' {1..17})' }"; } > "$W/stars.yaml";	refuse stars "$W/stars.yaml" "more than 16"
{ echo "$hdr"; rule r "file: { path: '\\Windows\\**\\x.sys' }"; } > "$W/rec.yaml";	refuse rec "$W/rec.yaml" "'\*\*' is not supported"
{ echo "$hdr"; rule k "file: { path: '\\x', regex: 'a+' }"; } > "$W/key.yaml";	refuse key "$W/key.yaml" "unknown key 'regex'"
{ echo "$hdr"; rule h "registry: { hive: NTUSER, key: x }"; } > "$W/hive.yaml";	refuse hive "$W/hive.yaml" 'is not one of'
{ echo "$hdr"; rule p "package: { kb: 1, state: sideways }"; } > "$W/state.yaml";	refuse state "$W/state.yaml" 'package.state'
{ echo "$hdr"; rule v "file: { path: '\\x', pe_version_min: 1.2.3.99999 }"; } > "$W/ver.yaml";	refuse ver "$W/ver.yaml" 'version'
{ echo "$hdr"; rule t "file: { path: '\\x', mtime_min: yesterday }"; } > "$W/time.yaml";	refuse time "$W/time.yaml" 'UTC time'
{ echo "$hdr"; rule d1 "finding: { code: X }"; rule d1 "finding: { code: Y }"; } > "$W/dup.yaml";	refuse dup "$W/dup.yaml" 'defined twice'
{ echo "$hdr"; rule 'bad id' "finding: { code: X }"; } > "$W/id.yaml";	refuse id "$W/id.yaml" 'rule id'
{ echo "$hdr"; rule e "finding: { code: X }" | sed 's|https://example.org/s|file:///etc/passwd|'; } > "$W/src.yaml";	refuse src "$W/src.yaml" 'source must be'
{ echo "$hdr"; rule e "finding: { code: X }" | sed 's/severity: high/severity: apocalyptic/'; } > "$W/sev.yaml";	refuse sev "$W/sev.yaml" 'severity'
{ echo "$hdr"; rule e "finding: { code: X }" | sed '/source:/d'; } > "$W/nosrc.yaml";	refuse nosrc "$W/nosrc.yaml" 'required'
{ echo "$hdr"; printf '  - id: e\n    description: d\n    source: https://e.org\n    label: l\n    severity: low\n    conditions: []\n'; } > "$W/empty.yaml"
refuse empty "$W/empty.yaml" 'empty list'
{ echo "$hdr"; rule n "any: [ {any: [ {any: [ {any: [ {any: [ {finding: {code: X}} ]} ]} ]} ]} ]"; } > "$W/nest.yaml"
refuse nest "$W/nest.yaml" 'nested deeper than 4'
printf 'rules: []\n\0\n' > "$W/nul.yaml";				refuse nul "$W/nul.yaml" 'NUL'
printf 'version: 2\nrules: []\n' > "$W/v2.yaml";			refuse v2 "$W/v2.yaml" 'version 1'
refuse missing "$W/does-not-exist.yaml" 'No such file'
# the line and column of the problem
grep -q 'state.yaml:[0-9]*:[0-9]*:' "$W/state.err" || bad "no line:column in '$(cat "$W/state.err")'"

# --query is checked the same way
"$BIN" scan "$IMG" --query 'pkg:' -q -o "$W/q.jsonl" 2> "$W/q.err"; rc=$?
[ $rc = 16 ] && [ ! -e "$W/q.jsonl" ] || bad "--query 'pkg:': exit $rc"

# two files load together; an id twice across files is refused
{ echo "$hdr"; rule one "finding: { code: DISK-EMPTY }"; } > "$W/one.yaml"
{ echo "$hdr"; rule two "finding: { code: DISK-EMPTY, exists: false }"; } > "$W/two.yaml"
"$BIN" scan "$IMG" --rules "$W/one.yaml" --rules "$W/two.yaml" -q -o "$W/two.jsonl"; rc=$?
python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).readline())
assert [m["id"] for m in o["rules"]] == ["one"], o["rules"]' "$W/two.jsonl" || bad "two rule files: $(cat "$W/two.jsonl" | head -c 300)"
[ $((rc & 64)) = 64 ] || bad "two rule files: exit $rc"
"$BIN" scan "$IMG" --rules "$W/one.yaml" --rules "$W/one.yaml" -q -o "$W/dup2.jsonl" 2> "$W/dup2.err"; rc=$?
[ $rc = 16 ] && grep -q 'defined twice' "$W/dup2.err" || bad "the same id in two files: exit $rc"

# the shipped pack loads
"$BIN" scan "$IMG" --rules "$SRC/rules/incidents.yaml" -q -o "$W/pack.jsonl"; rc=$?
[ $((rc & 16)) = 0 ] || bad "the shipped pack is refused (exit $rc)"

[ $fail = 0 ] && echo "rules hostile: PASS"
exit $fail
