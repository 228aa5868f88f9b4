#!/bin/bash
# make-seeds.sh OMKAPTURE: (re)write the seed corpora in corpus/ from the
# repository's own data, and the spool and state seeds from real files a
# run of OMKAPTURE (a normal build's plugin/omkapture) leaves behind.
#
#   fuzz_conf     rules/omkapture.conf, tests/cases/*/omkapture.conf, the
#                 README's example config
#   fuzz_rules    rules/*.rules, tests/cases/*/*.rules, the README's example
#                 rule, the rules below
#   fuzz_tmpl     every title/details/email/due/key/field.* value of those
#                 rule files, and a few using every variable
#   fuzz_input    the lines of rules/sample.log, tests/cases/*/input*,
#                 tests/rules/*.cases, one a file
#   fuzz_kapture  "STATUS" + body: the API's answers (tests/mock_kapture.py,
#                 tests/unit/test_kapture.c), proxies' pages, network errors
#   fuzz_spool    spool files (tickets, and comments awaiting their ticket's
#                 id) from runs against an address where nothing listens
#   fuzz_state    the state files of those runs (bursts, thresholds, the
#                 storm guard, queued on_repeat actions, awaited ids)
#
# Files are named by content (sha1), so a rerun adds what changed and
# keeps what is there, crash reproducers included. Needs python3.
set -euo pipefail
if [ $# != 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 path/to/omkapture" >&2
	exit 2
fi
omk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
corpus=$here/corpus
work=$(mktemp -d "${TMPDIR:-/tmp}/omk-seeds.XXXXXX")
trap 'rm -rf "$work"' EXIT

# seed TARGET < data: one corpus file named by its content.
seed() {
	local tmp=$work/seed.tmp sum
	cat >"$tmp"
	[ -s "$tmp" ] || return 0
	sum=$(sha1sum "$tmp" | cut -c1-40)
	mkdir -p "$corpus/$1"
	mv "$tmp" "$corpus/$1/$sum"
}

# --- config files
for f in "$top"/rules/omkapture.conf "$top"/tests/cases/*/omkapture.conf; do
	seed fuzz_conf <"$f"
done
# The README's config: the first ```ini block after "## Configuration".
awk '/^## Configuration/{s=1} s&&/^```ini/{b=1;next} b&&/^```/{exit} b' \
	"$top/README.md" | seed fuzz_conf

# --- rule files
for f in "$top"/rules/*.rules "$top"/tests/cases/*/*.rules; do
	seed fuzz_rules <"$f"
done
awk '/^## Rules/{s=1} s&&/^```ini/{b=1;next} b&&/^```/{exit} b' \
	"$top/README.md" | seed fuzz_rules

# The rules of the spool and state runs below (and of fuzz_state.c).
cat >"$work/state.rules" <<'RULES'
[disk-error]
match = ^disk (?<dev>\S+) failed
title = Disk ${dev} failed on ${host}
details = ${count} times since ${first_seen}\nLast: ${line}
key = ${host}/${dev}
suppress = 10m
on_repeat = comment
field.queue = Storage
field.issue_category_details[0].issue_category_1 = Disk

[login-failed]
match = ^login failed for (?<user>\S+)
title = Failed logins for ${user}
key = ${user}
threshold = 3 in 1m
suppress = 10m
on_repeat = ticket

[oom]
match = ^Out of memory: Killed process (?<pid>\d+)
title = OOM on ${host}
key = ${host}
suppress = 5m
renotify = 1h
RULES
seed fuzz_rules <"$work/state.rules"

# --- templates: every value of a template key, one a file
cat "$top"/rules/*.rules "$top"/tests/cases/*/*.rules "$work/state.rules" |
	python3 -c '
import hashlib, os, re, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
keys = re.compile(r"^(title|details|email|due|key|field\.[^=\s]+)\s*=\s?(.*)$")
for line in sys.stdin.read().splitlines():
    m = keys.match(line)
    if m and m.group(2).strip():
        data = m.group(2).strip().encode()
        with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
' "$corpus/fuzz_tmpl"
for t in \
	'${user} from ${ip} on ${host:-unknown host} port ${4}' \
	'${0}|${1}|${2}|${3}|${method}|${never:-none}|${9}' \
	'${line}\n${raw}\nhost ${host} program ${program}[${pid}] ${severity}.${facility}' \
	'Time: ${time} now ${now} rule ${rule} key ${key} count ${count} ${first_seen}..${last_seen}' \
	'${json.msg} ${json.hostname} ${json.nested} ${json.n} ${json.missing:-?} ${json.t}' \
	'tab\there \$literal \\backslash ${user:-${ip}} \x' \
	'unterminated ${user' '${nosuch}' '${json.}' '${}' '${10}' '${user:-}' \
	'caf\xc3\xa9 \xff\xfe ${user}'; do
	printf '%b' "${t//\\x/\\\\x}" | seed fuzz_tmpl
done
printf 'caf\xc3\xa9 \xff\xfe ${user}' | seed fuzz_tmpl

# --- input lines
{
	cat "$top/rules/sample.log" "$top"/tests/cases/*/input*
	grep -h -E '^(HIT|MISS) ' "$top"/tests/rules/*.cases | cut -f2-
} | python3 -c '
import hashlib, os, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for line in sys.stdin.buffer.read().split(b"\n"):
    if line.strip():
        with open(os.path.join(out, hashlib.sha1(line).hexdigest()), "wb") as f:
            f.write(line)
' "$corpus/fuzz_input"
# Shapes the files above lack: a journal byte-array MESSAGE, escapes,
# nested values, duplicates, invalid UTF-8, a bare RFC 5424 line.
for l in \
	'{"MESSAGE":[100,105,115,107,32,115,100,97,49,32,102,97,105,108,101,100],"_HOSTNAME":"h1","PRIORITY":"3","SYSLOG_FACILITY":"4","__REALTIME_TIMESTAMP":"1795773600000000","_PID":"12"}' \
	'{"msg":"tab\there \u00e9\ud83d\ude00 \"q\" \\ \/","hostname":"h\u0000x","syslogtag":"postfix/smtpd[12]:","severity":"err","facility":"mail","timereported":"2026-11-27T10:00:00.123456+05:30","x":{"a":[1,2.5e3,true,null,{"b":"c"}]}}' \
	'{"msg":"first","msg":"second","hostname":"","programname":"","procid":"-"}' \
	'{"MESSAGE":"half' \
	'<13>1 - - - - - -' \
	'<190>Nov 27 10:00:00 host prog: text' \
	'<0>1 2026-02-29T23:59:60Z host.example.com app 4242 MSGID [a@1 b="\]" c="x"][d@2] BOM'; do
	printf '%s' "$l" | seed fuzz_input
done
printf 'Nov 27 10:00:00 web1 kernel: disk \xff\xfe\xc0\x80 failed \x00 nul' | seed fuzz_input

# --- API answers: "STATUS" + body
while IFS= read -r r; do
	printf '%s' "$r" | seed fuzz_kapture
done <<'ANSWERS'
200{"ticket":{"id":5123,"type":"O","email":"","status":"P","ticketId":713516551148,"taskTitle":"T"},"Additional_details":{},"due_date":"2026-11-28 10:00:00","title":"T","customer_id":0,"ticket_id":713516551148,"Ticket Id":713516551148,"ticket_url":"","status":"success"}
200{"status":"success","message":"Ticket created","ticket_id":"T-1001"}
201{"status":"success","ticket_id":"9"}
200{"Message":"Ticket updated successfully","Status":"Success","ticket_id":"77"}
200{"ticket":{"id":5},"status":"success"}
200[{"status":"success","ticket_id":"77"}]
200[{"message":"title is missing","status":"failed"}]
200[]
200{"message":"Invalid Auth Key","status":"failed"}
200{"message":"token expired","status":"failed"}
200{"error":"due_date is invalid","status":"failed"}
200{"ok":true}
200<html><body>Service Unavailable</body></html>
200{"status":"success"
401{"message":"Unauthorized","status":"failed"}
403<html>Forbidden</html>
400{"message":"Invalid JSON","status":"failed"}
415{"Message":"Content-Type must be application/json","Status":"failed"}
408
429{"message":"Too many requests"}
500{"message":"Internal error \u00e9\n","status":"failed"}
502<html><head><title>502 Bad Gateway</title></head></html>
503{"message":"Server busy"}
301<html>Moved</html>
000
ANSWERS

# --- spool and state files from real runs
now=1795773600 # 2026-11-27 10:00:00 UTC
mkdir -p "$work/run/rules" "$work/run/spool"
cp "$work/state.rules" "$work/run/rules/state.rules"
cat >"$work/run/omkapture.conf" <<CONF
[kapture]
url = http://127.0.0.1:9/add-ticket-from-other-source.html/v.2.0
update_url = http://127.0.0.1:9/update-ticket-from-other-source.html/v.2.0
connect_timeout = 1s
timeout = 1s
retry_max = 1s
[spool]
dir = $work/run/spool
shutdown_timeout = 1s
[limits]
max_tickets = 4/1h
storm_quiet = 5m
[defaults]
email = noc@example.com
due = +1d
[rules]
path = rules
CONF
# run SECONDS-AFTER-NOW < lines: one pipe run at that (pinned) time.
run() {
	echo $((now + $1)) >"$work/run/now"
	TZ=UTC OMKAPTURE_NOW=@"$work/run/now" KAPTURE_TOKEN=fuzz-seed-token \
		"$omk" -q -c "$work/run/omkapture.conf" >/dev/null 2>&1 || true
	[ -f "$work/run/spool/state" ] && seed fuzz_state <"$work/run/spool/state"
	return 0
}
run 0 <<'LINES'
Nov 27 09:59:00 web1 kernel: disk sda1 failed
Nov 27 09:59:01 web1 kernel: disk sda1 failed
Nov 27 09:59:02 web2 kernel: disk sdb failed
Nov 27 09:59:03 auth1 login[7]: login failed for root
Nov 27 09:59:04 auth1 login[7]: login failed for root
{"msg":"login failed for admin","hostname":"auth2","programname":"login"}
{"MESSAGE":"Out of memory: Killed process 4242 (java)","_HOSTNAME":"app1","SYSLOG_IDENTIFIER":"kernel"}
Nov 27 09:59:05 web3 kernel: disk sdc failed
Nov 27 09:59:06 web4 kernel: disk sdd failed with a \ and a	tab
Nov 27 09:59:07 web5 kernel: disk sde failed
LINES
run 30 <<'LINES'
Nov 27 10:00:30 auth1 login[7]: login failed for root
Nov 27 10:00:31 web1 kernel: disk sda1 failed
Nov 27 10:00:32 app1 kernel: Out of memory: Killed process 4243 (java)
LINES
# Past suppress: bursts end, comments and a summary ticket are queued.
run 900 </dev/null
run 1000 <<'LINES'
Nov 27 10:16:40 web1 kernel: disk sda1 failed
LINES
for f in "$work"/run/spool/spool/*.req "$work"/run/spool/failed/*.req; do
	[ -f "$f" ] && seed fuzz_spool <"$f"
done
# Hand-made shapes: escapes in the header, a comment for a known ticket,
# an unknown header line (a newer version), head only.
printf 'omkapture-spool 1\nurl http://127.0.0.1/x\nrule r\\x5cx\nkey a\\x0ab\\x7f|\\x\nref 0123456789abcdef\nfuture-header yes\n\n[{"title":"t"}]' |
	seed fuzz_spool
printf 'omkapture-spool 1\nurl http://127.0.0.1/u\nrule disk-error\nkey web1/sda1\nref 00000000000000aa\nkind comment\nticket-ref 00000000000000ab\n\n[{"ticket_id":"omkapture-ticket-of:00000000000000ab","comment":"again","sub_status":"P"}]' |
	seed fuzz_spool
printf 'omkapture-spool 1\nurl u\nrule r\nkey k\nref r\n\n' | seed fuzz_spool

# A state with every record kind (tests/unit/test_dedup.c's STATE_BASE),
# as written and with this script's rule names (so its keys load).
state_base='omkapture-state 1
saved 1700000800
bucket 2.500000 1700000700
storm 1700000710 1700000711 2
storm-rule =r-none 2 1 0
storm-key =h1
storm-key =h\x202
key =r-none =k 1 1700000000 1700000010 1700000000 2 1 =ref1 =ID1 -
line =hello
key =r-thr =p 0 1700000720 1700000730 0 2 0 = - 1700000720,1700000730
end =r-comment =e =e1ref - 1 1700000000 1700000001 1700000000 2 1
line =e\x20line
await =aw1 - 1700000750
end-of-state 12'
printf '%s\n' "$state_base" | seed fuzz_state
printf '%s\n' "$state_base" | sed -e 's/=r-none/=oom/g' -e 's/=r-thr/=login-failed/g' \
	-e 's/=r-comment/=disk-error/g' | seed fuzz_state

for t in conf rules tmpl input kapture spool state; do
	printf '%-14s %s seeds\n' "fuzz_$t" "$(find "$corpus/fuzz_$t" -type f | wc -l)"
done
