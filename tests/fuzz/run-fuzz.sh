#!/bin/bash
# run-fuzz.sh BINARY CORPUS DICT [SECONDS] [ARTIFACT_DIR]
#
# The CTest fuzz/NAME test: fuzz BINARY for SECONDS (default 20) on a copy
# of its seed corpus in a temporary directory (new inputs go there and are
# thrown away; the seeds in the source tree are never written), with its
# dictionary. Exits 0 when libFuzzer finishes with no crash, leak, timeout
# (an input taking more than 10 s) or out-of-memory (2 GB); otherwise
# non-zero, with the input that did it kept in ARTIFACT_DIR (default: the
# current directory) and printed here in hex, ready for the seed corpus.
set -u
if [ $# -lt 3 ]; then
	echo "usage: $0 BINARY CORPUS DICT [SECONDS] [ARTIFACT_DIR]" >&2
	exit 2
fi
bin=$1 corpus=$2 dict=$3 secs=${4:-20} artifacts=${5:-.}
name=$(basename "$bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/omk-$name.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
cp -R "$corpus/." "$work/" || exit 1
mkdir -p "$artifacts" || exit 1
rm -f "$artifacts/$name-"*

# Symbolized stack traces (Debian's llvm-14 has the symbolizer off PATH).
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && ! command -v llvm-symbolizer >/dev/null &&
	[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
	export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
# Leaks are failures (libFuzzer checks each input that leaks); keep the
# caller's other sanitizer options.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-dict="$dict" -print_final_stats=1 \
	-artifact_prefix="$artifacts/$name-" "$work"
rc=$?
if [ $rc != 0 ]; then
	for f in "$artifacts/$name-"*; do
		[ -f "$f" ] || continue
		echo "== $f ($(wc -c <"$f") bytes):"
		od -A d -t x1z -v "$f" | head -n 64
	done
	echo "$name: FAILED (libFuzzer exit $rc)"
fi
exit $rc
