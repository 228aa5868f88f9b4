#!/bin/bash
# demo.sh [BINARY]: omkapture's main job, end to end, on this machine only.
#
# Starts the shipped mock Kapture server on a 127.0.0.1 ephemeral port,
# runs omkapture with the shipped rules (rules/) over the shipped sample
# log (rules/sample.log), and prints the tickets the mock received.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(readlink -f "${1:-$top/build/plugin/omkapture}")
[ -x "$bin" ] || { echo "demo: no binary at $bin (build first)" >&2; exit 3; }

work=$(mktemp -d)
mock_pid=""
cleanup() {
	[ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# A throw-away token, in a 0600 file: never on a command line.
umask 077
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/token"
KAPTURE_TOKEN=$(cat "$work/token") python3 "$top/tests/mock_kapture.py" \
	--port-file "$work/port" --record "$work/requests.jsonl" --quiet &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "demo: mock server did not start" >&2; exit 3; }
port=$(cat "$work/port")

# The shipped config, pointed at the mock and the shipped rules.
sed -e "s|^url = .*|url = http://127.0.0.1:$port/add-ticket-from-other-source.html/v.2.0|" \
    -e "s|^# token_file = .*|token_file = $work/token|" \
    -e "s|^path = .*|path = $top/rules|" \
    -e "s|^dir = .*|dir = $work/spool|" \
    "$top/rules/omkapture.conf" >"$work/omkapture.conf"

echo "== omkapture -c omkapture.conf < rules/sample.log  (mock Kapture on 127.0.0.1:$port)"
"$bin" -c "$work/omkapture.conf" <"$top/rules/sample.log"
echo
echo "== tickets the mock Kapture server created"
python3 - "$work/requests.jsonl" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("result") != "success":
        print("REJECTED:", r.get("status"), r.get("result"), r.get("raw"))
        continue
    n += 1
    body = r["body"][0] if isinstance(r["body"], list) else r["body"]
    print(f"ticket {r['ticket_id']}: {body['title']}")
    for k, v in body.items():
        if k != "title":
            print(f"    {k}: {json.dumps(v, ensure_ascii=False)}")
print(f"{n} tickets created")
PY
