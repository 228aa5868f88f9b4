#!/usr/bin/env python3
"""End-to-end: syslog over TCP -> real rsyslogd -> omprog -> omkapture -> mock Kapture.

    python3 tests/e2e_rsyslog.py --omkapture build/plugin/omkapture [-n 20] [--keep]
        [--timeout 30] [--rsyslogd PATH]

Exit 0 on success, 1 on failure, 77 (skip) when rsyslogd is not installed.
Runs as any user: rsyslogd gets a private config, work directory, pid file
and an ephemeral port on 127.0.0.1; nothing leaves the host.

omkapture runs under a wrapper script so the test sees exactly what
rsyslog and the helper exchanged:
    helper.stdin   every line rsyslog wrote to the helper
    helper.stdout  every reply the helper wrote (must be only "OK" lines)
    helper.err     the helper's stderr (its log)
    helper.exit    "exit STATUS" for each helper that ended
    helper.pids    the wrapper's pid, one per start
"""

import argparse
import json
import os
import re
import signal
import socket
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import Checks, MockKapture, Rsyslogd, read_text, wait_for  # noqa: E402

RULES = (
    "[disk-full]\n"
    "match = No space left on device on (?<dev>\\S+)\n"
    "title = Disk full on ${host}: ${dev}\n"
    "details = ${line}\n"
    "email = ops@example.com\n"
    "field.queue = Infra\n"
)

# The action's queue (mocklib.RSYSLOG_CONF has the rest): as the shipped
# snippet (omprog.md), but one in-memory worker so exactly one helper runs,
# which never idles out during the test. timeoutShutdown longer than
# closeTimeout: otherwise (default 10 ms) rsyslog cancels the worker while it
# waits for the helper to exit ("cooperative cancellation - some data may be
# lost").
ACTION = ['queue.type="LinkedList" queue.workerThreads="1"',
          'queue.timeoutWorkerThreadShutdown="-1" queue.timeoutShutdown="15000"',
          'action.resumeRetryCount="-1" action.resumeInterval="2"']

# bash, not sh: PIPESTATUS gives omkapture's own exit status. Absolute
# paths only: rsyslog execv()s this with its (possibly empty) environment.
HELPER_SH = """\
#!/bin/bash
echo $$ >> {d}/helper.pids
/usr/bin/tee -a {d}/helper.stdin | {omk} --omprog -c {conf} 2>>{d}/helper.err \\
    | /usr/bin/tee -a {d}/helper.stdout
echo "exit ${{PIPESTATUS[1]}}" >> {d}/helper.exit
"""

HOST = "web01"


def syslog_lines(n):
    """(all lines to send, expected tickets). Distinct devices: distinct keys."""
    lines, want = [], []
    for i in range(1, n + 1):
        dev = "/dev/sdb%d" % i
        msg = "EXT4-fs error: No space left on device on %s" % dev
        # <11> = user.err: passes the "<= 3" filter.
        lines.append("<11>Nov 27 10:%02d:%02d %s kernel: %s" % (i // 60, i % 60, HOST, msg))
        want.append({"title": "Disk full on %s: %s" % (HOST, dev),
                     "ticket_details": msg,
                     "email_id": "ops@example.com", "queue": "Infra"})
        if i % 5 == 0:
            # Errors no rule matches: the helper must just acknowledge them.
            lines.append("<11>Nov 27 10:30:%02d %s app[42]: connection refused by db%d"
                         % (i % 60, HOST, i))
        if i % 7 == 0:
            # Severity 6: rsyslog's filter keeps it from the helper, though
            # the text matches.
            lines.append("<14>Nov 27 10:40:%02d %s kernel: No space left on device "
                         "on /dev/info%d" % (i % 60, HOST, i))
    return lines, want


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--omkapture", required=True, help="path to the omkapture binary")
    ap.add_argument("-n", type=int, default=20, help="matching lines to send (default 20)")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds to wait for the tickets (default 30)")
    ap.add_argument("--rsyslogd", help="rsyslogd to use (default: from PATH or /usr/sbin)")
    ap.add_argument("--keep", action="store_true", help="keep the temp directory")
    args = ap.parse_args()

    rsyslogd = mocklib.find_rsyslogd(args.rsyslogd)
    if not rsyslogd:
        print("SKIP: rsyslogd is not installed")
        return mocklib.EXIT_SKIP
    omk = mocklib.binary_from_args(args)
    if omk is None:
        return 1

    checks = Checks("e2e_rsyslog")
    with mocklib.tmpdir("omk-e2e-rsyslog-") as d:
        print("temp dir: %s" % d)
        if not checks.check(" " not in d, "temp dir path has no spaces "
                            "(rsyslog splits binary= at spaces)"):
            return checks.summary()
        token = "e2e-" + os.urandom(12).hex()
        with MockKapture(d, token=token, shape="array") as mock:
            ok = run(checks, d, omk, rsyslogd, mock, token, args)
            if not ok or checks.failed:
                dump_diagnostics(d, mock)
        if checks.failed and not args.keep:
            print("(re-run with --keep to inspect %s)" % d)
    return checks.summary()


def run(checks, d, omk, rsyslogd, mock, token, args):
    conf = mocklib.write_omkapture_config(
        d, url=mock.url, token=token, rules=RULES,
        extra="\n[limits]\nmax_tickets = %d/1h\n" % (args.n * 2) if args.n > 50 else "")
    rconf = mocklib.write_rsyslog_files(d, HELPER_SH, omk, conf, ACTION)

    # 1. The rsyslog config is valid.
    if not mocklib.check_rsyslog_conf(checks, rsyslogd, rconf):
        return False

    # 2. Start rsyslogd in the foreground; wait for its listening port.
    rs = Rsyslogd(rsyslogd, rconf, d)
    sent = {}
    try:
        return run_with_rsyslogd(checks, d, mock, args, rs, sent)
    finally:
        stop_rsyslogd(checks, rs)
        finish(checks, d, token, sent.get("to_helper"))


def run_with_rsyslogd(checks, d, mock, args, rs, sent):
    if not checks.check(rs.start(), "rsyslogd started and wrote its port file",
                        "rc=%s" % rs.proc.poll()):
        return False
    port = rs.port

    # 3. Send the lines over one TCP connection (newline framing).
    lines, want = syslog_lines(args.n)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall("".join(line + "\n" for line in lines).encode())
    to_helper = [line for line in lines if line.startswith("<11>")]
    # What rsyslog's jsonmesg "msg" holds for them: the text after "tag:".
    sent["to_helper"] = [line.split(":", 3)[3] for line in to_helper]
    print("sent %d lines (%d should reach the helper, %d should become tickets)"
          % (len(lines), len(to_helper), len(want)))

    # 4. Wait for the tickets, then a little longer to catch extras.
    t0 = time.monotonic()
    got = wait_for(lambda: len(mock.successes("add")) >= len(want), args.timeout, 0.1)
    print("mock has %d successful add-ticket requests after %.1fs"
          % (len(mock.successes("add")), time.monotonic() - t0))
    checks.check(got, "%d tickets arrived within %ds" % (len(want), args.timeout),
                 "got %d" % len(mock.successes("add")))
    time.sleep(1.5)

    reqs = mock.requests()
    checks.equal(len(reqs), len(want), "the mock received exactly %d requests" % len(want))
    bad = [r for r in reqs if r["kind"] != "add" or r["result"] != "success"]
    checks.check(not bad, "every request was a successful add-ticket",
                 json.dumps(bad[:5], indent=1))
    checks.check(all(r["auth_ok"] for r in reqs), "every request had the right token")
    checks.check(not any(r["token_in_request"] for r in reqs),
                 "no request body or path contains the token")

    bodies = [r["body"] for r in reqs]
    shapes_ok = all(isinstance(b, list) and len(b) == 1 and isinstance(b[0], dict)
                    for b in bodies)
    checks.check(shapes_ok, "every body is an array of one object (the default)")
    if not shapes_ok:
        return False
    objs = [b[0] for b in bodies]
    check_tickets(checks, objs, want)
    return True


def check_tickets(checks, objs, want):
    by_title = {}
    for o in objs:
        by_title.setdefault(o.get("title"), []).append(o)
    missing = [w["title"] for w in want if w["title"] not in by_title]
    dup = [t for t, v in by_title.items() if len(v) > 1]
    extra = [t for t in by_title if t not in {w["title"] for w in want}]
    checks.check(not missing and not dup and not extra,
                 "one ticket per matching line, right titles",
                 "missing=%s duplicated=%s unexpected=%s" % (missing[:5], dup[:5], extra[:5]))
    wrong = []
    for w in want:
        for o in by_title.get(w["title"], []):
            diff = {k: (v, o.get(k)) for k, v in w.items() if o.get(k) != v}
            if diff:
                wrong.append((w["title"], diff))
    detail = "\n".join("%s: %s" % (t, "; ".join("%s want %r got %r" % (k, a, b)
                                                  for k, (a, b) in diff.items()))
                       for t, diff in wrong[:5])
    if any("ticket_details" in diff and diff["ticket_details"][1] is not None
           and diff["ticket_details"][1].strip() == diff["ticket_details"][0]
           for _, diff in wrong):
        detail += ("\n(only surrounding whitespace differs: rsyslog's msg for RFC 3164 "
                   "keeps the space after 'tag:'; the design says ${line} is the same "
                   "message whatever the input)")
    checks.check(not wrong, "title, ticket_details, email_id and queue are exact", detail)
    refs = [o.get("omkapture_ref") for o in objs]
    checks.check(all(isinstance(r, str) and re.fullmatch(r"[0-9a-f]{16}", r) for r in refs),
                 "every request carries omkapture_ref (16 lowercase hex)", refs[:5])
    checks.check(len(set(refs)) == len(refs), "omkapture_ref differs per ticket")
    dues = [o.get("due_date") for o in objs if o.get("due_date")]
    checks.check(all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", x) for x in dues),
                 "due_date, where present, is yyyy-MM-dd HH:mm:ss", dues[:5])


def stop_rsyslogd(checks, rs):
    _, rc = rs.stop(30)
    if rc is None:
        checks.check(False, "rsyslogd exits within 30s of SIGTERM")
        return
    checks.check(True, "rsyslogd stopped (rc=%s)" % rc)


def finish(checks, d, token, expected_msgs):
    """After rsyslogd is gone: the helper exited, and spoke only the protocol."""
    pids = []
    for line in read_text(os.path.join(d, "helper.pids")).split():
        if line.isdigit():
            pids.append(int(line))
    checks.check(pids, "rsyslog started the helper")
    alive = lambda: [p for p in pids if mocklib.pid_alive(p)]  # noqa: E731
    wait_for(lambda: not alive(), 15, 0.1)
    left = alive()
    checks.check(not left, "the helper exited after rsyslogd closed its stdin", left)
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass

    exits = read_text(os.path.join(d, "helper.exit")).split("\n")
    exits = [e for e in exits if e.strip()]
    checks.check(exits and all(e == "exit 0" for e in exits),
                 "omkapture exited 0 (%d helper run(s))" % len(pids), exits)

    try:
        with open(os.path.join(d, "helper.stdin"), "rb") as f:
            stdin_lines = f.read().splitlines()
    except FileNotFoundError:
        stdin_lines = []
    try:
        with open(os.path.join(d, "helper.stdout"), "rb") as f:
            stdout = f.read()
    except FileNotFoundError:
        stdout = b""
    replies = stdout.split(b"\n")
    junk = [r for r in replies[:-1] if r != b"OK"] + ([replies[-1]] if replies[-1] else [])
    checks.check(not junk, "helper stdout holds nothing but 'OK' lines",
                 repr(stdout[:500]))
    n_ok = stdout.count(b"OK\n")
    checks.equal(n_ok, len(pids) + len(stdin_lines),
                 "one start-up OK per helper run + one OK per line rsyslog sent "
                 "(%d run(s), %d lines)" % (len(pids), len(stdin_lines)))
    checks.equal(len(pids), 1, "rsyslog started the helper exactly once")

    # With reportFailures="on", error replies, suspensions and helper
    # restarts show up in rsyslog's own log.
    rlog = read_text(os.path.join(d, "rsyslogd.out")) + \
        read_text(os.path.join(d, "rsyslog-internal.log"))
    trouble = [line for line in rlog.splitlines()
               if re.search(r"omprog|omkapture|suspend|may be lost|error", line, re.I)]
    checks.check(not trouble, "rsyslog logged no trouble with the action",
                 "\n".join(trouble[:10]))

    msgs = []
    for line in stdin_lines:
        try:
            msgs.append(json.loads(line).get("msg"))
        except ValueError:
            msgs.append(None)
    checks.check(len(set(msgs)) == len(msgs) and None not in msgs,
                 "rsyslog sent each message once (no re-sends after error replies)",
                 "%d lines, %d distinct" % (len(msgs), len(set(msgs))))

    if expected_msgs is not None:
        got, want = Counter(m for m in msgs if m is not None), Counter(expected_msgs)
        checks.check(got == want, "the helper got exactly the severity <= 3 messages sent",
                     "never got: %r\nextra: %r" % (sorted((want - got).elements())[:5],
                                                    sorted((got - want).elements())[:5]))

    for name in ("helper.stdout", "helper.err", "omprog.out"):
        text = read_text(os.path.join(d, name), limit=10 ** 9)
        checks.check(token not in text, "the token does not appear in %s" % name)
    spool_hits = mocklib.files_containing(os.path.join(d, "omkapture.spool"),
                                          token.encode())
    checks.check(not spool_hits, "the token is not written into the spool", spool_hits)


def dump_diagnostics(d, mock):
    for name in ("helper.err", "omprog.out", "rsyslogd.out", "rsyslog-internal.log",
                 "helper.stdout", "helper.exit"):
        print("\n----- %s -----\n%s" % (name, read_text(os.path.join(d, name), 8000)))
    print("\n----- mock log -----\n%s" % mock.log()[-4000:])


if __name__ == "__main__":
    sys.exit(main())
