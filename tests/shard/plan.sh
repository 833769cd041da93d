#!/bin/bash
# scan --shard/--plan and merge on one machine (docs/cli.md "Parts"):
# plans are the same whatever the directory order or the list order, keep
# families together and cover the store; the Slurm and Kubernetes rules
# pick the same parts as --shard; merge of the parts equals a single
# sweep; merge names missing parts and images, torn, overlong and foreign
# lines, and parts of another plan or other options.
set -uo pipefail
. "$BSW_SRCDIR/tests/shard/lib.sh"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1

make_store "$W/gen"
# the same store at one path, written twice in opposite orders (another
# directory order; the second copy sparser: other st_blocks)
copy() {	# copy forward|reverse
	local d f order=cat opt=
	[ "$1" = reverse ] && order="sort -r" && opt=--sparse=always
	rm -rf "$W/one/store"
	for d in $(ls "$W/gen" | $order); do
		mkdir -p "$W/one/store/$d"
		for f in $(ls "$W/gen/$d" | $order); do cp $opt "$W/gen/$d/$f" "$W/one/store/$d/$f"; done
	done
}

note "plans: the same whatever the folder's directory order"
for o in forward reverse; do
	copy $o
	for n in 1 2 3 4 5 7; do
		(cd "$W/one" && "$BIN" scan --plan --shards $n store > "$W/plan.$o.$n" 2> /dev/null) || fail "plan $n"
	done
done
for n in 1 2 3 4 5 7; do
	cp "$W/plan.reverse.$n" "$W/plan1.$n"
	cmp -s "$W/plan.forward.$n" "$W/plan.reverse.$n" ||
		{ diff "$W/plan.forward.$n" "$W/plan.reverse.$n"; fail "plan for $n parts depends on directory order"; }
done
cat "$W/plan1.4"

note "plans: a --from list in any order gives the same parts"
(cd "$W/one" && find store -name '*.vhd*' -o -name '*.img' | shuf > "$W/list")
(cd "$W/one" && "$BIN" scan --plan --shards 4 --from "$W/list" > "$W/plan3.4" 2> /dev/null) || fail "plan --from"
cmp -s "$W/plan1.4" "$W/plan3.4" || { diff "$W/plan1.4" "$W/plan3.4"; fail "plan depends on list order"; }

note "plans: every disk in exactly one part, every family whole"
python3 - "$W/one/store" "$W"/plan1.* <<'PY' || fail "plan coverage"
import json, os, sys, re
store = sys.argv[1]
truth = {}
for d in ("a", "b", "solo"):
    for l in open(os.path.join(store, d, "truth.jsonl")):
        o = json.loads(l)
        truth[f"store/{d}/{o['image']}"] = f"store/{d}/{o['parent']}" if o.get("parent") else None
for p in sys.argv[2:]:
    part, where = None, {}
    for l in open(p):
        m = re.match(r"# part (\d+)/(\d+)", l)
        if m:
            part = int(m.group(1))
        elif not l.startswith("#"):
            img = re.sub(r"^.*/(store/)", r"\1", l.strip())
            if img in where:
                sys.exit(f"{p}: {img} in two parts")
            where[img] = part
    bases = {v for v in truth.values() if v}
    every = set(truth) | bases
    if set(where) != every:
        sys.exit(f"{p}: plan holds {sorted(set(where) ^ every)} wrongly")
    for img, parent in truth.items():
        if parent and where[img] != where[parent]:
            sys.exit(f"{p}: {img} in part {where[img]}, its base in {where[parent]}")
print("coverage ok:", len(sys.argv) - 2, "plans")
PY

note "the rules: Slurm and Kubernetes give the parts of --shard"
cd "$W/one" || exit 1
for i in 0 1 2 3; do
	"$BIN" scan --plan --shard $i/4 store > "$W/r.shard" 2> /dev/null
	SLURM_ARRAY_TASK_ID=$((i + 1)) SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=4 SLURM_ARRAY_TASK_COUNT=4 \
		"$BIN" scan --plan store > "$W/r.slurm" 2> "$W/r.err" || fail "slurm rule"
	grep -q "SLURM_ARRAY_TASK_ID=$((i + 1)) as rank $i" "$W/r.err" || { cat "$W/r.err"; fail "rule not said"; }
	SLURM_ARRAY_TASK_ID=$((i * 2)) SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=6 SLURM_ARRAY_TASK_STEP=2 \
		"$BIN" scan --plan store > "$W/r.step" 2> /dev/null || fail "slurm step rule"
	SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_MIN=$i SLURM_ARRAY_TASK_MAX=$i SLURM_ARRAY_TASK_COUNT=1 BSW_SHARDS=4 \
		"$BIN" scan --plan store > "$W/r.rerun" 2> /dev/null || fail "slurm rerun rule"
	JOB_COMPLETION_INDEX=$i "$BIN" scan --plan --shards 4 store > "$W/r.k8s" 2> "$W/r.err" || fail "k8s rule"
	grep -q "JOB_COMPLETION_INDEX=$i, 4 parts (--shards)" "$W/r.err" || { cat "$W/r.err"; fail "k8s rule not said"; }
	for r in slurm step rerun k8s; do
		diff <(grep -v '^# part' "$W/r.shard") <(grep -v '^# part' "$W/r.$r") > /dev/null ||
			fail "part $i: rule $r differs from --shard $i/4"
	done
done

note "BSW_PLAN: a plan made once gives every task the same part and sidecar"
"$BIN" scan --plan --shards 4 store > "$W/plan.txt" 2> /dev/null || fail "plan file"
for i in 0 1 2 3; do
	BSW_PLAN=$W/plan.txt "$BIN" scan --plan --shard $i/4 store > "$W/r.file" 2> "$W/r.err" || { cat "$W/r.err"; fail "BSW_PLAN part $i"; }
	grep -q "plan from BSW_PLAN=" "$W/r.err" || fail "BSW_PLAN not said"
	"$BIN" scan --plan --shard $i/4 store > "$W/r.shard" 2> /dev/null
	diff <(grep -v '^# part' "$W/r.shard") <(grep -v '^# part' "$W/r.file") || fail "BSW_PLAN part $i differs"
done
mkdir -p "$W/pp"
BSW_PLAN=$W/plan.txt "$BIN" scan -q --shard 2/4 store -o "$W/pp/a.jsonl" 2> /dev/null
"$BIN" scan -q --shard 2/4 store -o "$W/pp/b.jsonl" 2> /dev/null
for f in a b; do sed 's/"rule":"[^"]*"//; s/"output":"[^"]*"//' "$W/pp/$f.jsonl.part.json" > "$W/pp/$f.side"; done
cmp -s "$W/pp/a.side" "$W/pp/b.side" || { diff "$W/pp/a.side" "$W/pp/b.side"; fail "BSW_PLAN sidecar differs"; }
BSW_PLAN=$W/plan.txt "$BIN" scan --plan --shard 1/4 store/a store/b > /dev/null 2> "$W/r.err"
[ $? -eq 8 ] && grep -q "in the plan, not in the store: .*store/solo/clean.img" "$W/r.err" || fail "a changed store is not refused"
BSW_PLAN=$W/plan.txt "$BIN" scan --plan --shard 1/3 store > /dev/null 2>&1
[ $? -eq 8 ] || fail "a plan of another N is not refused"
head -5 "$W/plan.txt" > "$W/torn.txt"
BSW_PLAN=$W/torn.txt "$BIN" scan --plan --shard 1/4 store > /dev/null 2>&1
[ $? -eq 8 ] || fail "a torn plan is not refused"
cd "$W/one" || exit 1

note "usage errors (16)"
expect16() { "$@" > /dev/null 2>&1; rc=$?; [ $rc -eq 16 ] || fail "exit $rc, not 16: $*"; }
expect16 "$BIN" scan --shard 4/4 store -o x
expect16 "$BIN" scan --shard 1/0 store -o x
expect16 "$BIN" scan --shard a/b store -o x
expect16 "$BIN" scan --shards 4 store -o x
expect16 "$BIN" scan --shard 1/4 store
expect16 "$BIN" scan --plan store
expect16 env JOB_COMPLETION_INDEX=2 "$BIN" scan store -o x
expect16 env JOB_COMPLETION_INDEX=4 BSW_SHARDS=4 "$BIN" scan store -o x
expect16 env SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=9 SLURM_ARRAY_TASK_COUNT=3 "$BIN" scan store -o x
expect16 "$BIN" merge only-out
[ ! -e x ] || fail "a refused part wrote its output"

note "single sweep, then 4 parts and merge"
"$BIN" scan -q store -o "$W/single.jsonl"
single_rc=$?
mkdir -p "$W/parts"
for i in 0 1 2 3; do
	"$BIN" scan -q --shard $i/4 store -o "$W/parts/part-$i.jsonl" 2> /dev/null
	rc=$?
	(( rc & 56 )) && fail "part $i exit $rc"
	[ -s "$W/parts/part-$i.jsonl.part.json" ] || fail "no sidecar for part $i"
done
"$BIN" merge "$W/merged.jsonl" "$W/parts" 2> "$W/merge.err"
rc=$?
cat "$W/merge.err"
[ $rc -eq $single_rc ] || fail "merge exit $rc, single sweep $single_rc"
grep -q "13 disks in .*complete" "$W/merge.err" || fail "merge summary"
same_results "$W/single.jsonl" "$W/merged.jsonl" || fail "merged != single"
# parts named one by one, and through their sidecars, merge the same
"$BIN" merge -q "$W/m2.jsonl" "$W"/parts/part-{3,1,0,2}.jsonl.part.json; rc=$?
[ $rc -eq $single_rc ] && cmp -s "$W/merged.jsonl" "$W/m2.jsonl" || fail "merge by sidecar names"

bad_merge() {	# bad_merge WHAT PATTERN PARTS...: exit has bit 8, OUT not written, PATTERN said
	local what=$1 pat=$2
	shift 2
	rm -f "$W/bad.jsonl"
	"$BIN" merge -q "$W/bad.jsonl" "$@" 2> "$W/bad.err"
	local rc=$?
	sed 's/^/    /' "$W/bad.err"
	(( rc & 8 )) || fail "$what: exit $rc without bit 8"
	grep -q -- "$pat" "$W/bad.err" || fail "$what: '$pat' not said"
	[ ! -e "$W/bad.jsonl" ] || fail "$what: incomplete merge written"
	echo "ok: $what"
}
note "merge names what is missing or wrong"
cp -r "$W/parts" "$W/p"
rm "$W/p/part-2.jsonl" "$W/p/part-2.jsonl.part.json"
bad_merge "a missing part" "part 2/4 is missing" "$W/p"
"$BIN" merge -q --partial "$W/partial.jsonl" "$W/p" 2> /dev/null
[ "$(wc -l < "$W/partial.jsonl")" -eq 11 ] || fail "--partial"
cp "$W/parts"/part-2.* "$W/p/"
head -c 2500 "$W/parts/part-0.jsonl" > "$W/p/part-0.jsonl"
bad_merge "a killed part (torn line, images missing)" "torn last line" "$W/p"
grep -q 'missing: ".*store/a/' "$W/bad.err" || fail "the missing images are not named"
"$BIN" scan -q --no-store --shard 3/5 store -o "$W/p/part-0.jsonl" --resume 2> "$W/r.err" < /dev/null
grep -q "warning: .*part-0.jsonl.part.json is from another sweep (other options, another plan)" "$W/r.err" ||
	{ cat "$W/r.err"; fail "a part resumed over another sweep's output is not warned about"; }
cp "$W/parts"/part-0.* "$W/p/"
head -c 2500 "$W/parts/part-0.jsonl" > "$W/p/part-0.jsonl"
note "rerun the part with --resume completes the store"
"$BIN" scan -q --resume --shard 0/4 store -o "$W/p/part-0.jsonl" 2> /dev/null
"$BIN" merge -q "$W/m3.jsonl" "$W/p" || [ $? -eq $single_rc ] || fail "merge after resume"
same_results "$W/single.jsonl" "$W/m3.jsonl" || fail "resumed merge != single"

cp "$W/parts/part-0.jsonl" "$W/p/part-0.jsonl"
sed -n 1p "$W/parts/part-1.jsonl" >> "$W/p/part-0.jsonl"
bad_merge "an image twice" "already merged from" "$W/p"
cp "$W/parts/part-0.jsonl" "$W/p/part-0.jsonl"
{ printf '{"image":"'; head -c $((17 << 20)) /dev/zero | tr '\0' 'x'; printf '"}\n'; } >> "$W/p/part-0.jsonl"
bad_merge "a 17 MiB line" "a line over 16 MiB" "$W/p"
cp "$W/parts/part-0.jsonl" "$W/p/part-0.jsonl"
sed -n 1p "$W/parts/part-1.jsonl" | sed 's/"image":"\([^"]*\)"/"image":"\1.gone"/' >> "$W/p/part-0.jsonl"
bad_merge "a result of another sweep (an image in no plan)" "in no part's plan" "$W/p"
cp "$W/parts/part-0.jsonl" "$W/p/part-0.jsonl"
sed -n 1p "$W/parts/part-1.jsonl" | sed 's/"image":"\([^"]*\)"/"image":"\1.gone","error":"x"/' >> "$W/p/part-0.jsonl"
sed -n 1p "$W/parts/part-2.jsonl" | sed 's/"image":"\([^"]*\)"/"image":"\1.gone","error":"x"/' >> "$W/p/part-3.jsonl"
sed -n 1p "$W/parts/part-2.jsonl" | sed 's/"image":"\([^"]*\)"/"image":"\1.gone","error":"x"/' >> "$W/p/part-0.jsonl"
"$BIN" merge "$W/x.jsonl" "$W/p" 2> "$W/x.err"; rc=$?
cat "$W/x.err"
(( rc & 8 )) && [ "$(wc -l < "$W/x.jsonl")" -eq 15 ] && grep -q "2 lines for paths in no part's plan" "$W/x.err" ||
	fail "error lines outside the plans (folders the walk could not enter) are not kept once: exit $rc"
cp "$W/parts/part-3.jsonl" "$W/p/part-3.jsonl"
cp "$W/parts/part-0.jsonl" "$W/p/part-0.jsonl"
echo 'garbage' >> "$W/p/part-0.jsonl"
bad_merge "a line that is not a result" "not a bootsweep result line" "$W/p"
cp "$W/parts/part-0.jsonl" "$W/p/part-0.jsonl"
"$BIN" scan -q --no-store --shard 3/4 store -o "$W/p/part-3.jsonl" 2> /dev/null
bad_merge "a part with other options" "options" "$W/p"
"$BIN" scan -q --shard 2/3 store -o "$W/p/part-3.jsonl" 2> /dev/null
bad_merge "a part of another plan" "part of another plan" "$W/p"
cp "$W/parts/part-3.jsonl" "$W/p/part-3.jsonl"
cp "$W/parts/part-3.jsonl.part.json" "$W/p/part-3.jsonl.part.json"
head -c 300 "$W/parts/part-1.jsonl.part.json" > "$W/p/part-1.jsonl.part.json"
bad_merge "a torn sidecar" "part-1.jsonl.part.json" "$W/p"
cp "$W/parts/part-1.jsonl.part.json" "$W/p/"
"$BIN" merge -q "$W/p/part-1.jsonl" "$W/p" > /dev/null 2>&1; rc=$?
[ $rc -eq 16 ] || fail "merge over a part: exit $rc"
"$BIN" merge -q "$W/m4.jsonl" "$W/p" || [ $? -eq $single_rc ] || fail "repaired parts"
echo "PASS"
