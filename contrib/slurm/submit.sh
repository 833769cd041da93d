#!/bin/bash
# Submit a store sweep as a Slurm job array and its merge job.
#
#   submit.sh [-n PARTS] [-o OUTDIR] [-t TASKS] [-- SBATCH_ARGS...] STORE...
#
#   -n PARTS   parts (array tasks), default 16
#   -o OUTDIR  output folder on a shared filesystem, default ./bootsweep-<date>
#   -t TASKS   only these array indices (e.g. 3 or 3,7): rerun failed parts
#              into an existing OUTDIR; they complete with --resume
#   -m         do not submit the merge job
#   -P         plan once, here (OUTDIR/plan.txt), and hand it to the tasks
#              (BSW_PLAN): tasks skip opening every image's headers, which
#              matters from ~10,000 disks (docs/scaling.md)
# Environment passed to the tasks: BSW_BIN, BSW_SCAN_ARGS, BSW_MEM_CAP.
# Extra sbatch options (partition, account, QOS) go in SBATCH_ARGS, e.g.
#   submit.sh -n 64 -o /scratch/sweep1 -- -p batch -A ops /store
# Prints the array job id and the merge job id.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
parts=16 out="" tasks="" merge=1 plan=0 extra=()
while getopts "n:o:t:mPh" o; do
	case $o in
	n) parts=$OPTARG ;;
	o) out=$OPTARG ;;
	t) tasks=$OPTARG ;;
	m) merge=0 ;;
	P) plan=1 ;;
	*) sed -n '2,19p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ "${1:-}" = "--" ]; then shift; fi
while [ $# -gt 0 ] && [ "$1" != "--" ] && [[ "$1" == -* ]]; do extra+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "submit.sh: no STORE given" >&2; exit 2; }
[[ "$parts" =~ ^[0-9]+$ ]] && [ "$parts" -ge 1 ] || { echo "submit.sh: -n wants a count" >&2; exit 2; }
out=${out:-$PWD/bootsweep-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out/logs" "$out/parts"
out=$(cd "$out" && pwd)
if [ -z "$tasks" ] && compgen -G "$out/parts/*.part.json" > /dev/null; then
	echo "submit.sh: $out already holds parts; use a new -o, or -t I to rerun part I" >&2
	exit 2
fi
store=()
for s in "$@"; do store+=("$(realpath -e "$s")"); done
array=${tasks:-0-$((parts - 1))}
if [ "$plan" = 1 ]; then
	# a rerun keeps the plan its parts were made with
	if [ -z "$tasks" ] || [ ! -s "$out/plan.txt" ]; then
		"${BSW_BIN:-bootsweep}" scan --plan --shards "$parts" "${store[@]}" > "$out/plan.txt.tmp" &&
			mv "$out/plan.txt.tmp" "$out/plan.txt" || { echo "submit.sh: planning failed" >&2; exit 1; }
	fi
	export BSW_PLAN=$out/plan.txt
	head -1 "$BSW_PLAN"
fi
# BSW_SHARDS: the task id is the part (0..N-1), so that a rerun of task 3
# alone (-t 3, an array of one task) still sweeps part 3 of N.
job=$(BSW_STORE="${store[*]}" BSW_OUT="$out" BSW_SHARDS="$parts" \
	sbatch --parsable --array="$array" --export=ALL \
	--output="$out/logs/part-%a.log" "${extra[@]}" "$HERE/bootsweep-part.sbatch")
job=${job%%;*}
echo "array job $job: $parts parts of ${store[*]} -> $out/parts (logs: $out/logs)"
if [ "$merge" = 1 ]; then
	mjob=$(BSW_OUT="$out" sbatch --parsable --export=ALL \
		--dependency="afterok:$job" --kill-on-invalid-dep=yes \
		--output="$out/logs/merge.log" "${extra[@]}" "$HERE/bootsweep-merge.sbatch")
	echo "merge job ${mjob%%;*}: after every task succeeded -> $out/bootsweep.jsonl"
fi
