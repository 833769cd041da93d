#!/bin/bash
# contrib/kubernetes: the manifests validated against the Kubernetes API
# schemas (npm kubernetes-models, installed here into the build folder),
# then the plan Job's script, and the sweep Job's own pod script run as N
# local processes (reading that plan) with
# JOB_COMPLETION_INDEX=0..N-1 (N = the manifest's completions), all at
# once, and the merge Job's script after them: the merge must equal a
# single-process sweep of the same store.
set -uo pipefail
. "$BSW_SRCDIR/tests/shard/lib.sh"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

NM=$BINDIR/shard-npm
if [ ! -f "$NM/node_modules/kubernetes-models/package.json" ] || [ ! -d "$NM/node_modules/js-yaml" ]; then
	command -v npm > /dev/null || { echo "!!! SKIP: npm missing: cannot install the validator !!!"; exit 77; }
	note "installing kubernetes-models and js-yaml into $NM"
	mkdir -p "$NM"
	timeout 600 npm install --prefix "$NM" --no-audit --no-fund --silent \
		kubernetes-models@5.1.0 js-yaml@4.1.0 > "$W/npm.log" 2>&1 || {
		cat "$W/npm.log"
		echo "!!! SKIP: npm install failed (registry unreachable?) !!!"
		exit 77
	}
fi
note "schemas: kubernetes-models $(node -p "require('$NM/node_modules/kubernetes-models/package.json').version")"
node "$SRC/tests/shard/k8s-validate.mjs" "$NM/node_modules" "$SRC/contrib/kubernetes" "$W" ||
	fail "manifests"

make_store "$W/store"
N=$(cat "$W/shards")
RUN=$(cat "$W/run")
mkdir -p "$W/bin" "$W/results"
ln -s "$BIN" "$W/bin/bootsweep"
# the pods' scripts with the mounts moved here
[ -s "$W/plan-args.sh" ] || fail "no plan Job"
for s in plan sweep merge; do
	sed "s|/store|$W/store|g; s|/results|$W/results|g" "$W/$s-args.sh" > "$W/$s.sh"
done
note "the plan Job (plan once; the pods read it through BSW_PLAN)"
env PATH="$W/bin:$PATH" BSW_SHARDS=$N RUN=$RUN sh "$W/plan.sh" 2> "$W/plan.err" || { cat "$W/plan.err"; fail "plan Job"; }
[ -s "$W/results/$RUN/plan.txt" ] || fail "no plan.txt"
note "$N pods of the Indexed Job at once (JOB_COMPLETION_INDEX=0..$((N - 1)), BSW_SHARDS=$N)"
pids=()
for ((i = 0; i < N; i++)); do
	env PATH="$W/bin:$PATH" JOB_COMPLETION_INDEX=$i BSW_SHARDS=$N RUN=$RUN \
		BSW_MEM_CAP=1024 BSW_SCAN_ARGS= sh "$W/sweep.sh" > "$W/pod-$i.log" 2>&1 &
	pids+=($!)
done
for ((i = 0; i < N; i++)); do
	wait "${pids[$i]}" || { cat "$W/pod-$i.log"; fail "pod $i failed"; }
	grep -q "from JOB_COMPLETION_INDEX=$i, $N parts (BSW_SHARDS); plan from BSW_PLAN=" "$W/pod-$i.log" ||
		{ cat "$W/pod-$i.log"; fail "pod $i did not say its rule"; }
done
head -2 "$W/pod-0.log"
env PATH="$W/bin:$PATH" RUN=$RUN sh "$W/merge.sh" 2>&1 | tee "$W/merge.log"
grep -q "exit status" "$W/merge.log" || fail "merge script"
grep -q "complete" "$W/merge.log" || fail "merge incomplete"
"$BIN" scan -q "$W/store" -o "$W/single.jsonl"
same_results "$W/single.jsonl" "$W/results/$RUN/bootsweep.jsonl" || fail "merged != single sweep"
echo "PASS"
