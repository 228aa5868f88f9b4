#!/bin/bash
# run-all.sh: install what is missing, build, and run the whole suite
# twice: a normal build (warnings are errors when CI is set) and an
# ASan+UBSan build; then, with clang, a third build (build-fuzz,
# OMK_FUZZ) runs only the fuzz/ tests: each libFuzzer target for 20 s on
# its seed corpus; last, the integration tests again in the normal build
# with omkapture under valgrind memcheck. Exits non-zero if anything fails.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

sh packaging/deps.sh || exit 1

status=0
run() {
	local dir=$1 type=$2
	echo "== build $dir ($type)"
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null || return 1
	cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1 || { cat "$dir/build.log"; return 1; }
	echo "== test $dir ($type)"
	(cd "$dir" && ctest --output-on-failure -j"$jobs" -LE valgrind --timeout 600)
}
# The libFuzzer targets (tests/fuzz/): clang only, so skipped without it
# (packaging/deps.sh installs it). Only their tests run in this build.
fuzz() {
	local dir=build-fuzz clang
	if ! clang=$(command -v clang); then
		echo "== $dir: no clang: fuzzing skipped"
		return 0
	fi
	echo "== build $dir (clang, OMK_FUZZ=ON)"
	cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$clang" -DOMK_FUZZ=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || return 1
	cmake --build "$dir" --target fuzz -j"$jobs" >"$dir/build.log" 2>&1 ||
		{ cat "$dir/build.log"; return 1; }
	echo "== fuzz $dir"
	(cd "$dir" && ctest --output-on-failure -j"$jobs" -R '^fuzz/' --timeout 600)
}
# valgrind memcheck (issue 7): the integration tests again in the normal
# build (build-test, OMK_VALGRIND=ON), every omkapture under memcheck, then
# valgrind/check on the logs: no memory error, no definite or indirect leak.
# Skipped without valgrind (packaging/deps.sh installs it).
memcheck() {
	local dir=build-test
	if ! command -v valgrind >/dev/null; then
		echo "== $dir: no valgrind: memcheck skipped"
		return 0
	fi
	echo "== memcheck $dir (valgrind, OMK_VALGRIND=ON)"
	cmake -S . -B "$dir" -DOMK_VALGRIND=ON >/dev/null || return 1
	cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1 || { cat "$dir/build.log"; return 1; }
	local rc=0
	(cd "$dir" && ctest --output-on-failure -j"$jobs" -L valgrind --timeout 900) || rc=1
	# The summary (processes, errors, leaked bytes per test), also when all passed.
	python3 tests/valgrind_check.py "$dir/valgrind" | sed -n '/^== valgrind memcheck/,$p'
	return $rc
}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run build-test RelWithDebInfo || status=1
run build-asan Asan || status=1
fuzz || status=1
memcheck || status=1
if [ $status = 0 ]; then echo "run-all: all tests passed (normal and ASan+UBSan builds, fuzzing, valgrind)"; else echo "run-all: FAILED"; fi
exit $status
