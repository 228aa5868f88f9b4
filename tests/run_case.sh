#!/bin/bash
# run_case.sh BINARY CASEDIR: run one data-driven case and diff its output.
#
# A case is a folder:
#   omkapture.conf   the config (or a file `config` naming another one)
#   *.rules          its rules (the config's [rules] path, usually ".")
#   input.log        stdin (or a file `input` naming another one)
#   mode             dry-run (default) | check | test | test-json
#   args             extra command-line arguments, one line
#   expected         the exact expected output: stdout for dry-run and
#                    test modes, stdout+stderr for check
#   expected.rc      the exit status (default 0)
# Runs from inside the case folder with TZ=UTC and a pinned clock.
# OMK_UPDATE_EXPECTED=1 writes the output to `expected` instead of
# comparing (then review the change with git diff).
set -u
bin=$(readlink -f "$1")
cd "$2" || exit 2
name=$(basename "$2")
config=omkapture.conf; [ -f config ] && config=$(cat config)
input=input.log; [ -f input ] && input=$(cat input)
mode=dry-run; [ -f mode ] && mode=$(cat mode)
args=(); [ -f args ] && read -ra args < args
want_rc=0; [ -f expected.rc ] && want_rc=$(cat expected.rc)
export TZ=UTC OMKAPTURE_NOW=1795773600
unset KAPTURE_TOKEN
out=$(mktemp); err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

case $mode in
dry-run)   "$bin" -c "$config" --dry-run "${args[@]}" <"$input" >"$out" 2>"$err" ;;
test)      "$bin" -c "$config" --test "${args[@]}" <"$input" >"$out" 2>"$err" ;;
test-json) "$bin" -c "$config" --test --json "${args[@]}" <"$input" >"$out" 2>"$err" ;;
check)     "$bin" -c "$config" --check "${args[@]}" </dev/null >"$out" 2>&1 ;;
*) echo "$name: unknown mode $mode"; exit 2 ;;
esac
rc=$?
if [ -n "${OMK_UPDATE_EXPECTED:-}" ]; then
	cp "$out" expected
	echo "$name: expected updated (exit status $rc)"
	exit 0
fi
fail=0
if [ "$rc" != "$want_rc" ]; then
	echo "$name: exit status $rc, expected $want_rc"
	fail=1
fi
if ! diff -u expected "$out"; then
	echo "$name: output differs from $2/expected (see diff above)"
	fail=1
fi
if [ $fail = 1 ] && [ -s "$err" ]; then
	echo "--- stderr:"; cat "$err"
fi
[ $fail = 0 ] && echo "$name: ok"
exit $fail
