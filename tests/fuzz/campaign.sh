#!/usr/bin/env bash
# Fuzz campaign: run every libFuzzer target (or the ones named) one after
# the other on one core, each until it has done EXECS executions or SECS
# seconds, keep its working corpus, minimise it with -merge=1 into
# tests/fuzz/corpus/<target>/ (files of at most 64 KiB, at most 500 KB per
# target), and print one line per target:
#   target  executions  exec/s  cov  ft  crashes  committed-corpus
#
#   tests/fuzz/campaign.sh BUILD_DIR [EXECS] [SECS] [TARGET...]
#
# BUILD_DIR is a -DBSW_FUZZ=ON clang build.  Defaults: 10^7 executions,
# 1800 s.  Working state goes to $BSW_CAMPAIGN_DIR (default
# BUILD_DIR/campaign): work/<t>/ (the full corpus, reused by the next run),
# crashes/<t>/ (libFuzzer artifacts), logs/<t>.log, and summary.tsv.
# A crash does not end a target's run: the fuzzer is restarted (at most 5
# times) with what is left of its budget.  Exit status: 1 if any target
# crashed, else 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
bld=$(cd "${1:?usage: campaign.sh BUILD_DIR [EXECS] [SECS] [TARGET...]}" && pwd)
execs=${2:-10000000}
secs=${3:-1800}
shift 3 2>/dev/null || shift $#
corpus_src=${BSW_CORPUS:-$src/../shared/corpus}
out=${BSW_CAMPAIGN_DIR:-$bld/campaign}
max_file=65536
max_total=500000
mkdir -p "$out/work" "$out/crashes" "$out/logs"

if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in "$here"/fuzz_*.c; do
		t=$(basename "$f" .c); targets+=("${t#fuzz_}")
	done
fi

# Seeds of target $1 (tests/fuzz/seeds, the committed corpus, the .seeds list) into $2.
seed_dir() {
	local t=$1 d=$2 l
	mkdir -p "$d"
	for s in "$here/seeds/$t" "$here/corpus/$t"; do
		[ -d "$s" ] && find "$s" -maxdepth 1 -type f -exec cp -f {} "$d"/ \;
	done
	if [ -f "$here/$t.seeds" ]; then
		grep -v '^#' "$here/$t.seeds" | grep -v '^$' | while read -r l; do
			[ -f "$corpus_src/$l" ] && cp -f "$corpus_src/$l" "$d/seed_${l//\//_}"
		done
	fi
	return 0
}

stat_of() { grep -h "$1" "$2" | tail -n 1 | awk '{print $2}'; }

printf '%-16s %10s %8s %6s %7s %7s %9s\n' target executions exec/s cov ft crashes corpus
any_crash=0
for t in "${targets[@]}"; do
	bin=$bld/tests/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "$t: no binary $bin (build with -DBSW_FUZZ=ON)" >&2
		continue
	fi
	work=$out/work/$t seeds=$out/seeds/$t crashes=$out/crashes/$t log=$out/logs/$t.log
	rm -rf "$seeds"; seed_dir "$t" "$seeds"
	mkdir -p "$work" "$crashes"
	: > "$log"
	total=0 ncrash=0 t0=$(date +%s) cov=0 ft=0
	for round in 1 2 3 4 5 6; do
		left_s=$(( secs - ($(date +%s) - t0) ))
		left_n=$(( execs - total ))
		[ "$left_s" -le 0 ] || [ "$left_n" -le 0 ] && break
		"$bin" -runs="$left_n" -max_total_time="$left_s" -timeout=10 \
			-print_final_stats=1 -artifact_prefix="$crashes/" \
			"$work" "$seeds" > "$log.round" 2>&1
		rc=$?
		cat "$log.round" >> "$log"
		n=$(stat_of 'stat::number_of_executed_units' "$log.round")
		total=$(( total + ${n:-0} ))
		last=$(grep -E '^#[0-9]+.*cov: ' "$log.round" | tail -n 1)
		c=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
		f=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
		[ -n "$c" ] && [ "$c" -gt "$cov" ] && cov=$c
		[ -n "$f" ] && [ "$f" -gt "$ft" ] && ft=$f
		if [ $rc -eq 0 ]; then
			break
		fi
		ncrash=$(( ncrash + 1 ))
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*artifact_prefix|Test unit written)' "$log.round" | head -n 4 >&2
	done
	rm -f "$log.round"
	el=$(( $(date +%s) - t0 )); [ $el -gt 0 ] || el=1
	rate=$(( total / el ))
	[ $ncrash -gt 0 ] && any_crash=1
	# Minimise: only small files take part, then cap the total size.
	small=$out/small/$t merged=$out/merged/$t
	rm -rf "$small" "$merged"; mkdir -p "$small" "$merged"
	find "$work" "$seeds" -maxdepth 1 -type f -size -$((max_file + 1))c -exec cp -f {} "$small"/ \;
	"$bin" -merge=1 -timeout=10 "$merged" "$small" >> "$log" 2>&1
	sz=0
	dst=$here/corpus/$t
	rm -rf "$dst"; mkdir -p "$dst"
	while read -r size name; do
		[ $(( sz + size )) -gt $max_total ] && continue
		cp "$merged/$name" "$dst/$name"; sz=$(( sz + size ))
	done < <(find "$merged" -maxdepth 1 -type f -printf '%s %f\n' | sort -n)
	nfiles=$(find "$dst" -type f | wc -l)
	printf '%-16s %10s %8s %6s %7s %7s %4s/%-5s\n' "$t" "$total" "$rate" "$cov" "$ft" "$ncrash" "$nfiles" "$((sz / 1024))K"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$total" "$rate" "$cov" "$ft" "$ncrash" "$nfiles" "$sz" >> "$out/summary.tsv"
done
exit $any_crash
