#!/usr/bin/env python3
"""Scale-out: edge rsyslogd -> TCP -> two central rsyslogd running omkapture,
each dedup key routed to one central node with fmhash.

    python3 tests/e2e_scaleout.py --omkapture build/plugin/omkapture
        [--hosts 20] [--repeats 50] [--repeats2 150] [--outage 4] [--timeout 90] [--keep]
        [--rsyslogd PATH]

Exit 0 on success, 1 on failure, 77 (skip) when rsyslogd or one of the
modules it needs (imtcp, omprog, fmhash) is missing. Runs as any user;
everything listens on 127.0.0.1 ephemeral ports.

Topology (README "Scale-out"; the test checks that the README shows the
edge and central configs it runs, up to addresses, ports, paths, comments
and the test-only lines):

    test --TCP--> edge rsyslogd --omfwd TCP--> central A: rsyslogd + omprog omkapture
                  hash64mod($hostname, 2)  \\-> central B: rsyslogd + omprog omkapture
                                                  both -> one mock Kapture

The rule's dedup key is ${host}, so the edge hashes $hostname: every line of
one host reaches the same central node, whose omkapture alone deduplicates
it. Each node's rule sets field.node = A or B, so each ticket at the mock
says which node created it. The edge also writes "HOST NODE" per alert to
routes.log (test only), so the test knows where each key must go.

1. HOSTS hosts x REPEATS alerts, interleaved: exactly one ticket per host;
   every host's lines all reached one node only (each central's helper.stdin),
   the node the edge chose, which also created its ticket; both nodes used;
   every alert reached a helper (nothing lost).
2. Central B is stopped (SIGTERM, helper gone) and a second batch with new
   hosts (HOSTS x REPEATS2) is sent: A's keys become tickets while B is
   down; B's wait in the edge's queue, more than it keeps in memory, so the
   queue goes to disk (no ticket, edge action suspended). B restarts on the
   same port (same spool, same rsyslog work dir) and the edge's backlog
   floods it: all of B's new keys arrive, one ticket each, every alert of
   the batch reached its node, and each central ran one helper at a time.

An alert may reach a helper twice (rsyslog is at-least-once; a disk-assisted
queue re-sends one message when it switches mode): that is reported, not
failed, since it reaches the same node and its dedup absorbs it.

Central B is stopped while idle, between batches: plain TCP syslog can lose
what is in flight when a receiver dies mid-stream (the sender's kernel had
accepted it); RELP (imrelp/omrelp) closes that gap. See README "Scale-out".
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import Checks, MockKapture, Rsyslogd, read_text, wait_for  # noqa: E402

NODES = ("A", "B")

# Per node: the same rule, with field.node saying who created the ticket.
RULES = (
    "[service-alert]\n"
    "match = ALERT (?<what>\\S+) seq=\\d+\n"
    "title = Alert on ${host}\n"
    "details = ${line}\n"
    "email = ops@example.com\n"
    "key = ${host}\n"
    "field.node = %s\n"
)
# The storm guard is per node; keep it out of the way of 2 x HOSTS tickets.
OMK_EXTRA = "\n[limits]\nmax_tickets = 1000/1h\n"

# The central action's queue (mocklib.RSYSLOG_CONF has the rest: imtcp on
# 127.0.0.1, severity <= 3 to omprog): the reference action (README
# "rsyslog"), with one worker so one helper runs and never idles out, and
# timeoutShutdown longer than closeTimeout (see e2e_rsyslog.py); and two
# settings a central node needs (measured with 60 hosts x 100 alerts):
# - forceSingleInstance: once a disk-assisted queue spills to disk, rsyslog
#   starts a second helper for its disk worker, and two omkapture processes
#   each deduplicate half of a key's lines: two tickets per key;
# - queue.size: the default 1000 is a cap on messages in the queue, memory
#   and disk alike; when a backlog (an edge draining after an outage) hits
#   it, rsyslog blocks its input 2 s per message (timeoutEnqueue) and then
#   discards it (impstats: discarded.full).
CENTRAL_ACTION = ['forceSingleInstance="on"',
                  'queue.type="LinkedList" queue.filename="omkapture_q"',
                  'queue.size="100000"',
                  'queue.saveOnShutdown="on" queue.maxDiskSpace="100m"',
                  'queue.dequeueBatchSize="1" queue.workerThreads="1"',
                  'queue.timeoutWorkerThreadShutdown="-1" queue.timeoutShutdown="15000"',
                  'action.resumeRetryCount="-1" action.resumeInterval="2"']

# As in e2e_rsyslog.py: tee what rsyslog and the helper exchange.
HELPER_SH = """\
#!/bin/bash
echo $$ >> {d}/helper.pids
/usr/bin/tee -a {d}/helper.stdin | {omk} --omprog -c {conf} 2>>{d}/helper.err \\
    | /usr/bin/tee -a {d}/helper.stdout
echo "exit ${{PIPESTATUS[1]}}" >> {d}/helper.exit
"""

# The edge: alerts (severity <= 3) go to the central node that owns their
# dedup key. One action (and one queue) per node, so a node that is down
# holds back only its own keys. Each queue keeps up to 1000 alerts in memory
# and the rest on disk (highWatermark); queue.size lifts rsyslog's default
# cap of 1000 messages per queue, memory and disk alike: with the default, a
# node down for a burst made the edge block its input and discard alerts
# (impstats discarded.full), while its disk queue stalled at ~500-800.
# {route_log} is the test's observation point.
EDGE_CONF = """\
global(workDirectory="{d}/rsyslog-work" processInternalMessages="on")
module(load="imtcp")
module(load="fmhash")

input(type="imtcp" address="127.0.0.1" port="0"
      listenPortFileName="{d}/imtcp.port" ruleset="edge")

ruleset(name="edge") {{
  if $syslogseverity <= 3 then {{
    # The rules' key is ${{host}}: hash what the key is made of.
    set $.node = hash64mod($hostname, 2);
{route_log}
    if $.node == 0 then {{
      action(type="omfwd" name="central-a" target="127.0.0.1" port="{port_a}"
             protocol="tcp" template="RSYSLOG_ForwardFormat"
             queue.type="LinkedList" queue.filename="fwd_central_a"
             queue.size="100000" queue.highWatermark="1000" queue.lowWatermark="500"
             queue.saveOnShutdown="on" queue.maxDiskSpace="1g"
             action.resumeRetryCount="-1" action.resumeInterval="1")
    }} else {{
      action(type="omfwd" name="central-b" target="127.0.0.1" port="{port_b}"
             protocol="tcp" template="RSYSLOG_ForwardFormat"
             queue.type="LinkedList" queue.filename="fwd_central_b"
             queue.size="100000" queue.highWatermark="1000" queue.lowWatermark="500"
             queue.saveOnShutdown="on" queue.maxDiskSpace="1g"
             action.resumeRetryCount="-1" action.resumeInterval="1")
    }}
  }}
}}

# rsyslog's own messages (processInternalMessages="on") go here.
*.* action(type="omfile" file="{d}/rsyslog-internal.log")
"""

ROUTE_LOG = """\
    # test only: where each alert was sent
    action(type="omfile" file="{d}/routes.log" template="route")"""
ROUTE_TEMPLATE = 'template(name="route" type="string" string="%hostname% %$.node%\\n")\n'

LINE_RE = re.compile(r"ALERT (\S+) seq=(\d+)")


def alert_lines(hosts, repeats, tag):
    """Interleaved: every host once, then every host again, REPEATS times;
    a severity-6 line now and then that the edge must not forward."""
    lines = []
    for r in range(repeats):
        for i, h in enumerate(hosts):
            lines.append("<11>Nov 27 10:%02d:%02d %s app[%d]: ALERT %s seq=%d"
                         % (r % 60, i % 60, h, 100 + i, tag, r))
        if r % 10 == 0:
            lines.append("<14>Nov 27 10:%02d:00 %s app[1]: ALERT info seq=%d"
                         % (r % 60, hosts[0], 10 ** 6 + r))
    return lines


class Central:
    """One central node: rsyslogd + omprog omkapture, in its own dir, with
    its own omkapture config (field.node) and spool."""

    def __init__(self, base, name, rsyslogd, omk, mock, token):
        self.name = name
        self.d = os.path.join(base, "central-" + name.lower())
        os.makedirs(self.d, exist_ok=True)
        self.conf = mocklib.write_omkapture_config(self.d, url=mock.url, token=token,
                                                   rules=RULES % name, extra=OMK_EXTRA)
        self.rconf = mocklib.write_rsyslog_files(self.d, HELPER_SH, omk, self.conf,
                                                 CENTRAL_ACTION)
        self.rs = Rsyslogd(rsyslogd, self.rconf, self.d)
        self.port = None

    def start(self):
        """First start: an ephemeral port. Later: the same port again (the
        edge's omfwd targets it), so the config is rewritten to it."""
        if self.port is None:
            ok = self.rs.start()
            self.port = self.rs.port if ok else None
            return ok
        with open(self.rconf) as f:
            text = f.read()
        with open(self.rconf, "w") as f:
            f.write(text.replace('port="0"', 'port="%d"' % self.port))
        return self.rs.start(port=self.port)

    def helper_hosts(self):
        """Counter of (hostname, tag, seq) of every line rsyslog wrote to
        this node's helper."""
        got = Counter()
        try:
            with open(os.path.join(self.d, "helper.stdin"), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return got
        for line in data.splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                got[("?", "?", line[:60])] += 1
                continue
            m = LINE_RE.search(obj.get("msg", ""))
            got[(obj.get("hostname"), m.group(1) if m else "?",
                 m.group(2) if m else obj.get("msg"))] += 1
        return got

    def helper_pids(self):
        return [int(x) for x in read_text(os.path.join(self.d, "helper.pids")).split()
                if x.isdigit()]

    def spool_files(self):
        out = []
        for sub in ("spool", "failed"):
            p = os.path.join(self.d, "omkapture.spool", sub)
            if os.path.isdir(p):
                out += [sub + "/" + n for n in os.listdir(p)]
        return out


def routes(edge_dir):
    """(list of (host, node) the edge logged, in order)."""
    out = []
    for line in read_text(os.path.join(edge_dir, "routes.log"), 10 ** 9).splitlines():
        parts = line.split()
        if len(parts) == 2:
            out.append((parts[0], parts[1]))
    return out


def tickets(mock):
    """{host: [node, ...]} of successful add-ticket requests."""
    by = defaultdict(list)
    for r in mock.successes("add"):
        b = r["body"]
        obj = b[0] if isinstance(b, list) and b else b
        m = re.fullmatch(r"Alert on (\S+)", obj.get("title", ""))
        by[m.group(1) if m else "?" + str(obj.get("title"))].append(obj.get("node"))
    return by


README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "README.md")


def normalized_conf(text):
    """An rsyslog config with what differs between the test and README
    "Scale-out" taken out: comments, the test's own lines (work directory,
    internal log, routes.log), addresses, ports, paths; whitespace collapsed."""
    text = "\n".join(x for x in text.splitlines() if not x.strip().startswith("#"))
    text = re.sub(r'global\([^)]*\)|template\(name="route"[^)]*\)|'
                  r'(\*\.\*\s*)?action\(type="omfile"[^)]*\)', "", text)
    text = re.sub(r'address="[^"]*"|listenPortFileName="[^"]*"', "", text)
    text = re.sub(r'\b(port|target|binary|output)="[^"]*"', r'\1="-"', text)
    return " ".join(text.split())


def check_readme(checks, edge_conf, central_conf):
    """README "Scale-out" shows the configs this test runs (normalized_conf)."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Scale-out\n(.*?)(?=^## )", text, re.S | re.M)
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", m.group(1) if m else "", re.S | re.M)
    readme_edge = [b for b in blocks if 'module(load="fmhash")' in b]
    readme_central = [b for b in blocks if 'module(load="omprog")' in b]
    for what, got, mine in (("edge", readme_edge, edge_conf),
                            ("central", readme_central, central_conf)):
        if not checks.check(got, 'README "Scale-out" has the %s config' % what):
            continue
        a, b = normalized_conf(got[0]), normalized_conf(mine)
        at = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]),
                  min(len(a), len(b)))
        checks.check(a == b, 'README "Scale-out": the %s config is the one this test runs'
                     % what, "README: ...%s\n  test: ...%s" % (a[max(0, at - 80):at + 80],
                                                              b[max(0, at - 80):at + 80]))


def modules_missing(rsyslogd, d):
    """'' if rsyslogd loads imtcp, omprog and fmhash, else its complaint."""
    conf = os.path.join(d, "modcheck.conf")
    with open(conf, "w") as f:
        f.write('module(load="imtcp")\nmodule(load="omprog")\nmodule(load="fmhash")\n'
                'input(type="imtcp" address="127.0.0.1" port="0")\n'
                'if hash64mod($hostname, 2) == 0 then action(type="omfile" '
                'file="/dev/null")\n')
    v = subprocess.run([rsyslogd, "-N1", "-f", conf], capture_output=True, text=True,
                       env=mocklib.rsyslog_env(), timeout=30)
    return "" if v.returncode == 0 else (v.stdout + v.stderr).strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--omkapture", required=True, help="path to the omkapture binary")
    ap.add_argument("--hosts", type=int, default=20, help="hosts (dedup keys) per batch")
    ap.add_argument("--repeats", type=int, default=50, help="alerts per host in batch 1")
    ap.add_argument("--timeout", type=float, default=90.0,
                    help="seconds to wait for each stage (default 90)")
    ap.add_argument("--repeats2", type=int, default=150,
                    help="alerts per host in batch 2 (default 150: B's share, about "
                    "half, is more than the edge keeps in memory)")
    ap.add_argument("--outage", type=float, default=4.0,
                    help="seconds central B stays down at least (default 4)")
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

    checks = Checks("e2e_scaleout")
    t_all = time.monotonic()
    with mocklib.tmpdir("omk-e2e-scaleout-") as base:
        print("temp dir: %s" % base)
        missing = modules_missing(rsyslogd, base)
        if missing and "could not load module" in missing.lower():
            print("SKIP: rsyslogd cannot load imtcp, omprog and fmhash:\n" + missing)
            return mocklib.EXIT_SKIP
        if not checks.check(not missing, "rsyslogd -N1 accepts imtcp, omprog and "
                            "hash64mod()", missing):
            return checks.summary()
        if not checks.check(" " not in base, "temp dir path has no spaces "
                            "(rsyslog splits binary= at spaces)"):
            return checks.summary()
        token = "scale-" + os.urandom(12).hex()
        with MockKapture(base, token=token, shape="array") as mock:
            centrals = {n: Central(base, n, rsyslogd, omk, mock, token) for n in NODES}
            edge_dir = os.path.join(base, "edge")
            os.makedirs(os.path.join(edge_dir, "rsyslog-work"), exist_ok=True)
            # Created here so that the edge is stopped even if run() raises.
            edge = Rsyslogd(rsyslogd, os.path.join(edge_dir, "rsyslog.conf"), edge_dir)
            try:
                run(checks, args, mock, centrals, edge)
            finally:
                stop_all(checks, edge, centrals)
            if checks.failed:
                dump_diagnostics(mock, centrals, edge_dir)
        if checks.failed and not args.keep:
            print("(re-run with --keep to inspect %s)" % base)
    print("total %.1fs" % (time.monotonic() - t_all))
    return checks.summary()


def run(checks, args, mock, centrals, edge):
    edge_dir, rsyslogd, rconf = edge.d, edge.binary, edge.conf
    a, b = centrals["A"], centrals["B"]
    for c in (a, b):
        if not (mocklib.check_rsyslog_conf(checks, rsyslogd, c.rconf, "central %s: " % c.name)
                and checks.check(c.start(), "central %s: rsyslogd started, listening on "
                                 "127.0.0.1:%s" % (c.name, c.port), "rc=%s" % c.rs.proc.poll())):
            return

    with open(rconf, "w") as f:
        f.write(ROUTE_TEMPLATE + EDGE_CONF.format(
            d=edge_dir, port_a=a.port, port_b=b.port,
            route_log=ROUTE_LOG.format(d=edge_dir)))
    if not mocklib.check_rsyslog_conf(checks, rsyslogd, rconf, "edge: "):
        return
    check_readme(checks, read_text(rconf, 10 ** 9), read_text(a.rconf, 10 ** 9))
    if not checks.check(edge.start(), "edge: rsyslogd started", "rc=%s" % edge.proc.poll()):
        return

    # -- batch 1: both nodes up ------------------------------------------
    hosts1 = ["web%02d" % i for i in range(1, args.hosts + 1)]
    lines1 = alert_lines(hosts1, args.repeats, "b1")
    n1 = len(hosts1) * args.repeats
    t0 = time.monotonic()
    mocklib.send_lines(edge.port, lines1)
    print("batch 1: sent %d lines (%d alerts: %d hosts x %d, interleaved)"
          % (len(lines1), n1, len(hosts1), args.repeats))

    def delivered():
        return sum(c.helper_hosts().total() for c in centrals.values())

    got = wait_for(lambda: len(tickets(mock)) >= len(hosts1) and delivered() >= n1,
                   args.timeout, 0.2)
    print("batch 1: %d tickets, %d lines at the helpers after %.1fs"
          % (len(tickets(mock)), delivered(), time.monotonic() - t0))
    checks.check(got, "batch 1: %d tickets and %d lines at the helpers within %ds"
                 % (len(hosts1), n1, args.timeout),
                 "tickets %d, lines %d" % (len(tickets(mock)), delivered()))
    settle(centrals, mock)
    route = check_batch(checks, "batch 1", edge_dir, centrals, mock, hosts1, args.repeats)
    used = set(route.values())
    checks.check(used == {"0", "1"}, "batch 1: fmhash spread the hosts over both nodes",
                 "nodes used: %s" % sorted(used))

    # -- batch 2: central B down while the batch is sent -----------------
    t_stop = time.monotonic()
    secs, rc = b.rs.stop(40)
    checks.check(rc is not None, "central B: rsyslogd stopped (rc=%s, %.1fs)" % (rc, secs))
    checks.check(wait_for(lambda: not [p for p in b.helper_pids() if mocklib.pid_alive(p)],
                          15, 0.1), "central B: its helper exited")
    hosts2 = ["db%02d" % i for i in range(1, args.hosts + 1)]
    rep2 = args.repeats2
    lines2 = alert_lines(hosts2, rep2, "b2")
    n_routes = len(routes(edge_dir))
    t0 = time.monotonic()
    mocklib.send_lines(edge.port, lines2)
    print("batch 2: central B down; sent %d lines (%d hosts x %d)"
          % (len(lines2), len(hosts2), rep2))

    # The edge decides each line's node at once; then A's share must get
    # through while B's waits.
    checks.check(wait_for(lambda: len(routes(edge_dir)) >= n_routes + len(hosts2) * rep2,
                          args.timeout, 0.1), "batch 2: the edge routed every alert")
    route2 = {h: n for h, n in routes(edge_dir)[n_routes:]}
    to_a = [h for h in hosts2 if route2.get(h) == "0"]
    to_b = [h for h in hosts2 if route2.get(h) == "1"]
    print("batch 2: %d hosts for A, %d for B (down)" % (len(to_a), len(to_b)))
    checks.check(to_b, "batch 2: some new keys belong to the stopped node B",
                 "all %d went to A: the outage tests nothing" % len(hosts2))
    # Past 1000 alerts for B (highWatermark) the edge's queue goes to disk.
    work = os.path.join(edge_dir, "rsyslog-work")
    if len(to_b) * rep2 > 1200:
        checks.check(wait_for(lambda: [n for n in os.listdir(work)
                                       if n.startswith("fwd_central_b.")], args.timeout, 0.1),
                     "batch 2: the edge's queue for B went to disk (%d alerts, 1000 in "
                     "memory)" % (len(to_b) * rep2), os.listdir(work))
    else:
        print("batch 2: only %d alerts for B: its queue stays in memory"
              % (len(to_b) * rep2))

    def a_lines2():
        return sum(n for (h, tag, _), n in a.helper_hosts().items() if tag == "b2")

    got = wait_for(lambda: all(h in tickets(mock) for h in to_a)
                   and a_lines2() >= len(to_a) * rep2, args.timeout, 0.2)
    checks.check(got, "batch 2: node A's %d keys became tickets while B was down"
                 % len(to_a), "tickets for: %s" % sorted(h for h in tickets(mock)
                                                        if h in to_a))
    # The edge logs the suspension of its action to B (first try after
    # B closed the connection).
    wait_for(lambda: "'central-b' suspended" in read_text(
        os.path.join(edge_dir, "rsyslog-internal.log")), 10, 0.2)
    early = sorted(h for h in tickets(mock) if h in to_b)
    checks.check(not early, "batch 2: no ticket for B's keys while B is down", early)
    edge_log = read_text(os.path.join(edge_dir, "rsyslog-internal.log"))
    susp = [x for x in edge_log.splitlines() if "'central-b'" in x]
    print("edge's internal log on central-b:\n  " + "\n  ".join(susp[:3]))
    checks.check(any("'central-b' suspended" in x for x in susp),
                 "batch 2: the edge suspended its action to B (and keeps its queue)",
                 edge_log[-2000:])
    checks.check(not [x for x in edge_log.splitlines() if "'central-a' suspended" in x],
                 "batch 2: the edge's action to A was never suspended")

    # Keep B down a little longer (a scenario length, not a wait for an
    # outcome): the edge retries the closed port every second meanwhile.
    time.sleep(max(0.0, args.outage - (time.monotonic() - t_stop)))
    early = sorted(h for h in tickets(mock) if h in to_b)
    checks.check(not early, "batch 2: still no ticket for B's keys after %.0fs down"
                 % (time.monotonic() - t_stop), early)

    # B back on the same port: the edge's queue drains into it.
    t_down = time.monotonic() - t_stop
    ok = b.start()
    for _ in range(4):
        # The freed port may be taken for a moment (it is in the ephemeral
        # range; a short-lived connection can get it as its local port).
        if ok:
            break
        b.rs.stop(10)
        print("central B: could not listen on %s again; retrying" % b.port)
        time.sleep(2)
        ok = b.start()
    checks.check(ok, "central B: restarted on 127.0.0.1:%s after %.1fs down"
                 % (b.port, t_down), "rc=%s" % b.rs.proc.poll())
    if not ok:
        return
    t1 = time.monotonic()
    n2 = len(hosts2) * rep2
    got = wait_for(lambda: all(h in tickets(mock) for h in hosts2)
                   and sum(n for c in centrals.values()
                           for (h, tag, _), n in c.helper_hosts().items()
                           if tag == "b2") >= n2, args.timeout, 0.2)
    print("batch 2: all tickets %.1fs after B's restart" % (time.monotonic() - t1))
    resumed = [x for x in read_text(os.path.join(edge_dir, "rsyslog-internal.log"))
               .splitlines() if "central-b" in x and "resumed" in x]
    print("edge's internal log: " + (resumed[0] if resumed else "(no 'resumed' line)"))
    checks.check(got, "batch 2: B's %d keys arrived after its restart" % len(to_b),
                 "missing: %s" % sorted(h for h in hosts2 if h not in tickets(mock)))
    settle(centrals, mock)
    check_batch(checks, "batch 2", edge_dir, centrals, mock, hosts2, rep2,
                first_route=n_routes)
    checks.equal(len(a.helper_pids()), 1, "central A: one helper, never a second one "
                 "(forceSingleInstance)")
    checks.equal(len(b.helper_pids()), 2, "central B: its helper ran twice (before and "
                 "after the outage), never two at once")

    # All of it, once more: one ticket per key over both batches.
    tk = tickets(mock)
    checks.equal(sorted(h for h, nodes in tk.items() for _ in nodes), sorted(hosts1 + hosts2),
                 "the mock holds exactly one ticket per key over both batches (%d)"
                 % len(hosts1 + hosts2))
    reqs = mock.requests()
    bad = [r for r in reqs if r["kind"] != "add" or r["result"] != "success"]
    checks.check(not bad, "every request at the mock was a successful add-ticket",
                 json.dumps(bad[:3]))


def settle(centrals, mock):
    """After the counts are reached, wait until nothing changes for 1.5 s,
    to catch late duplicates."""
    def snapshot():
        return (len(mock.requests()),
                tuple(c.helper_hosts().total() for c in centrals.values()))
    last, since = snapshot(), time.monotonic()
    deadline = since + 20
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = snapshot()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 1.5:
            return


def check_batch(checks, what, edge_dir, centrals, mock, hosts, repeats, first_route=0):
    """The exactly-once checks of one batch; returns {host: edge node}."""
    tag = "b1" if what == "batch 1" else "b2"
    node_name = {"0": "A", "1": "B"}
    # Where the edge sent each host: one node per host, every line logged.
    rts = routes(edge_dir)[first_route:]
    per_host = defaultdict(set)
    for h, n in rts:
        per_host[h].add(n)
    split = {h: sorted(n) for h, n in per_host.items() if len(n) > 1}
    checks.check(not split, "%s: the edge sent each host to one node" % what, split)
    checks.equal(Counter(h for h, _ in rts), Counter({h: repeats for h in hosts}),
                 "%s: the edge routed each host's %d alerts (and no severity-6 line)"
                 % (what, repeats))
    route = {h: min(n) for h, n in per_host.items()}

    # Where the lines arrived: each host at exactly one central, the one
    # the edge chose, every line at least once. A line twice is rsyslog's
    # at-least-once (one is re-sent when a disk-assisted queue switches
    # mode): it reaches the same node, whose dedup absorbs it, so it is
    # reported, not failed; the tickets below must still be one per key.
    seen_at = defaultdict(set)
    seqs = defaultdict(Counter)
    for c in centrals.values():
        for (h, t, seq), n in c.helper_hosts().items():
            if t != tag:
                continue
            seen_at[h].add(c.name)
            seqs[h][seq] += n
    dups = [(h, seq, n) for h, cnt in seqs.items() for seq, n in cnt.items() if n > 1]
    both = {h: sorted(v) for h, v in seen_at.items() if len(v) > 1}
    checks.check(not both, "%s: each host's lines reached one central node only" % what,
                 both)
    wrong = {h: (sorted(v), node_name.get(route.get(h))) for h, v in seen_at.items()
             if v != {node_name.get(route.get(h))}}
    checks.check(not wrong, "%s: ... the node the edge's hash chose" % what, wrong)
    checks.equal({h: len(seqs[h]) for h in sorted(set(seqs) | set(hosts))},
                 {h: repeats for h in sorted(hosts)},
                 "%s: every alert reached a helper (%d per host, nothing lost)"
                 % (what, repeats))
    if dups:
        print("%s: %d alert(s) reached a helper more than once (at-least-once): %s"
              % (what, len(dups), dups[:5]))

    # The tickets: one per host, created by the node that owns the key.
    tk = tickets(mock)
    mine = {h: v for h, v in tk.items() if h in hosts}
    checks.equal(sorted(mine), sorted(hosts), "%s: a ticket for every host" % what)
    many = {h: v for h, v in mine.items() if len(v) != 1}
    checks.check(not many, "%s: exactly one ticket per host (dedup per key, %d repeats)"
                 % (what, repeats), many)
    by = {h: v[0] for h, v in mine.items()}
    wrong = {h: (n, node_name.get(route.get(h))) for h, n in by.items()
             if n != node_name.get(route.get(h))}
    checks.check(not wrong, "%s: each ticket was created by the node its key hashes to"
                 % what, wrong)
    print("%s: node A %d hosts, node B %d hosts" % (
        what, sum(1 for n in by.values() if n == "A"),
        sum(1 for n in by.values() if n == "B")))
    return route


def stop_all(checks, edge, centrals):
    """Edge first (its queues are empty by now), then the centrals; every
    helper exits 0, every spool is empty."""
    if edge.proc is not None:
        _, rc = edge.stop(30)
        checks.check(rc is not None, "edge: rsyslogd exits within 30s of SIGTERM")
    for c in centrals.values():
        if c.rs.proc is None:
            continue
        _, rc = c.rs.stop(40)
        checks.check(rc is not None, "central %s: rsyslogd exits within 40s of SIGTERM"
                     % c.name)
        pids = c.helper_pids()
        left = wait_for(lambda: not [p for p in pids if mocklib.pid_alive(p)], 15, 0.1)
        checks.check(left, "central %s: helper(s) exited" % c.name)
        exits = [e for e in read_text(os.path.join(c.d, "helper.exit")).splitlines()
                 if e.strip()]
        checks.check(exits and all(e == "exit 0" for e in exits),
                     "central %s: omkapture exited 0 (%d run(s))" % (c.name, len(pids)),
                     exits)
        out = read_text(os.path.join(c.d, "helper.stdout"), 10 ** 9)
        checks.check(set(out.splitlines()) <= {"OK"},
                     "central %s: helper stdout holds only 'OK' lines" % c.name, out[:300])
        left_files = c.spool_files()
        checks.check(not left_files, "central %s: spool empty, nothing failed" % c.name,
                     left_files[:5])


def dump_diagnostics(mock, centrals, edge_dir):
    for c in centrals.values():
        for name in ("helper.err", "rsyslogd.out", "rsyslog-internal.log", "helper.exit"):
            print("\n----- central %s %s -----\n%s"
                  % (c.name, name, read_text(os.path.join(c.d, name), 4000)))
    for name in ("rsyslogd.out", "rsyslog-internal.log"):
        print("\n----- edge %s -----\n%s" % (name, read_text(os.path.join(edge_dir, name),
                                                             4000)))
    print("\n----- mock log -----\n%s" % mock.log()[-3000:])


if __name__ == "__main__":
    sys.exit(main())
