#!/bin/bash
# run-long.sh: the long fuzzing run (issue 7: each target >= 10 minutes
# with no crash, leak or timeout). Runs every libFuzzer target (or those
# named) for SECONDS each, one after another or two at a time, and prints
# per target: executions, exec/s, corpus size, coverage (cov/ft from
# libFuzzer's last status line), peak RSS and the verdict.
#
#   tests/fuzz/run-long.sh [-t SECONDS] [-j 1|2] [-b BUILD_DIR] [-o OUT_DIR]
#                          [TARGET...]
#
#   -t  seconds per target (default 600)
#   -j  targets run at once (default 1; 2 uses both cores of a CI box)
#   -b  the OMK_FUZZ build (default build-fuzz, as tests/run-all.sh makes):
#         CC=clang cmake -S . -B build-fuzz -DOMK_FUZZ=ON
#         cmake --build build-fuzz --target fuzz -j2
#   -o  where corpora, logs and findings go (default /tmp/omk-fuzz-DATE);
#       OUT_DIR/TARGET/corpus starts as a copy of the seeds and keeps what
#       the run found (tests/fuzz/corpus is never written), OUT_DIR/TARGET/
#       log is libFuzzer's output, OUT_DIR/TARGET/crash-* etc. a finding,
#       OUT_DIR/summary.md the table.
#
# Exit status 0 if every target ran its time with no finding, 1 if not.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=600 jobs=1 build=$top/build-fuzz out=
while getopts t:j:b:o:h opt; do
	case $opt in
	t) secs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	b) build=$OPTARG ;;
	o) out=$OPTARG ;;
	*) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
out=${out:-/tmp/omk-fuzz-$(date +%Y%m%d-%H%M%S)}
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for src in "$here"/fuzz_*.c; do
		targets+=("$(basename "$src" .c)")
	done
fi
for t in "${targets[@]}"; do
	if [ ! -x "$build/tests/fuzz/$t" ]; then
		echo "run-long: $build/tests/fuzz/$t is missing: build with" \
			"CC=clang cmake -S . -B $build -DOMK_FUZZ=ON &&" \
			"cmake --build $build --target fuzz" >&2
		exit 2
	fi
done
mkdir -p "$out" || exit 2

if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && ! command -v llvm-symbolizer >/dev/null &&
	[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
	export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

# fuzz TARGET: one run; its exit status in OUT/TARGET/rc.
fuzz() {
	local t=$1 d=$out/$1
	rm -rf "$d"
	mkdir -p "$d/corpus"
	cp -R "$here/corpus/$t/." "$d/corpus/"
	echo "run-long: $t for ${secs}s ($d/log)"
	"$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -dict="$here/$t.dict" -print_final_stats=1 \
		-artifact_prefix="$d/" "$d/corpus" >"$d/log" 2>&1
	echo $? >"$d/rc"
}

# The value of libFuzzer's "name: value" in its last status line.
status_field() {
	grep -E '^#[0-9]+' "$1" | tail -n 1 | sed -n "s/.* $2: \([^ ]*\).*/\1/p"
}
stat_field() {
	sed -n "s/^stat::$2: *//p" "$1" | tail -n 1
}

# verdict TARGET: ok, or what libFuzzer stopped on.
verdict() {
	local d=$out/$1 rc
	rc=$(cat "$d/rc" 2>/dev/null || echo "?")
	if [ "$rc" = 0 ] && ! ls "$d"/crash-* "$d"/leak-* "$d"/timeout-* \
		"$d"/oom-* >/dev/null 2>&1; then
		echo ok
	elif grep -q 'ERROR: LeakSanitizer' "$d/log"; then
		echo "LEAK"
	elif grep -q 'ALARM: working on the last Unit' "$d/log" ||
		ls "$d"/timeout-* >/dev/null 2>&1; then
		echo "TIMEOUT"
	elif grep -q 'out-of-memory' "$d/log"; then
		echo "OOM"
	else
		echo "CRASH (exit $rc)"
	fi
}

start=$(date +%s)
running=0
for t in "${targets[@]}"; do
	if [ "$jobs" -gt 1 ]; then
		if [ $running -ge "$jobs" ]; then
			wait -n
			running=$((running - 1))
		fi
		fuzz "$t" &
		running=$((running + 1))
	else
		fuzz "$t"
	fi
done
wait

status=0
{
	echo "omkapture fuzzing: ${secs}s per target, $jobs at a time," \
		"$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs," \
		"$(clang --version 2>/dev/null | head -n 1)"
	echo
	echo "| target | executions | exec/s | corpus (inputs/size) | cov | ft | peak RSS MB | seconds | result |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for t in "${targets[@]}"; do
		log=$out/$t/log
		v=$(verdict "$t")
		[ "$v" = ok ] || status=1
		runs=$(stat_field "$log" number_of_executed_units)
		eps=$(stat_field "$log" average_exec_per_sec)
		rss=$(stat_field "$log" peak_rss_mb)
		took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
		echo "| $t | ${runs:-?} | ${eps:-?} | $(status_field "$log" corp) |" \
			"$(status_field "$log" cov) | $(status_field "$log" ft) |" \
			"${rss:-?} | ${took:-?} | $v |"
	done
	echo
	echo "Wall time: $(($(date +%s) - start))s. Logs, corpora and findings: $out"
} | tee "$out/summary.md"
for t in "${targets[@]}"; do
	for f in "$out/$t"/crash-* "$out/$t"/leak-* "$out/$t"/timeout-* "$out/$t"/oom-*; do
		[ -f "$f" ] || continue
		echo
		echo "== $t: $f ($(wc -c <"$f") bytes); reproduce: $build/tests/fuzz/$t $f"
		grep -m1 -E 'ERROR:|runtime error|ALARM|deadly signal|out-of-memory' "$out/$t/log"
		grep -E '^ +#[0-9]+ ' "$out/$t/log" | head -n 8
	done
done
exit $status
