#!/usr/bin/env python3
"""Matching benchmark for omkapture (issue 5, item 4): omkapture vs SEC vs wc -l.

    python3 tests/bench/matching.py --omkapture build/plugin/omkapture
        [--sec /usr/bin/sec] [--lines 1000000] [--sec-lines 100000]
        [--json-lines N] [--check-lines 30000] [--repeat 3] [--seed 1]
        [--engines naive] [--program-filters few|all|none] [--rsyslog [--rsyslog-messages 100000] [--rsyslog-repeat 5]]
        [--wait-idle] [--tmpdir DIR] [--keep]

Builds nothing. In one temporary directory it generates a corpus
(gen_corpus.py: --lines RFC 3164 lines and --json-lines rsyslog %jsonmesg%
lines of the same events, under 1 % of them alerts) and ~300 alert rules
(gen_rules.py, for omkapture and as equivalent SEC Single rules), then:

1. Checks, on the first --check-lines plain lines: SEC (action=write) and
   omkapture --test --json give the same hits per rule, and SEC and
   omkapture --dry-run (the --check rule variant: one ticket per match
   holding ${raw}) the same (rule, line) pairs; every --engines engine
   agrees with the default engine per rule.
2. Times, side by side, median of --repeat runs (SEC: one run):
     wc -l                              the I/O floor
     omkapture --test                   default engine (the prefilter)
     omkapture --test --engine E        for each of --engines (n/a if refused)
     omkapture --test, JSON input
     SEC --notail                       on the first --sec-lines lines
     omkapture --dry-run, JSON input    the whole pipeline, tickets to a file
     omkapture --dry-run, plain input
   Each omkapture row shows its peak RSS (wait4 ru_maxrss). The full-size
   runs are checked too: same hits per rule in plain and JSON input and for
   every engine.
3. With --rsyslog: a real rsyslogd (imtcp on 127.0.0.1, port file, omprog
   action with confirmMessages="on", one worker) feeds --rsyslog-messages
   lines, none of which matches a rule, to (a) `omkapture --omprog` with the
   same rules and (b) helpers that only answer OK (C when cc exists, and
   Python), each with rsyslog's default dequeue batch and with
   queue.dequeueBatchSize="1" (the README's setting). Timed from the first
   sent line until the helper has written all its replies (its wchar in
   /proc/PID/io: 3 bytes per "OK\\n"), after one warm-up message.

Everything stays in the temp dir and on 127.0.0.1; the [kapture] url is a
closed 127.0.0.1 port and the token a random 0600 file (never printed).
Exit status: 0 when every check passed (targets met or not), 1 when a
check failed, 2 on usage errors.
"""

import argparse
import collections
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_corpus  # noqa: E402
import gen_rules  # noqa: E402

FAILED = []


def check(ok, what, detail="", quiet=False):
    if quiet and ok:
        return ok
    print("  %s %s%s" % ("ok  " if ok else "FAIL", what, ("\n       " + detail) if (detail and not ok) else ""))
    if not ok:
        FAILED.append(what)
    return ok


def human(n):
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if n >= div:
            return "%.2f%s" % (n / div, unit)
    return "%.0f" % n


# Peak RSS. Not wait4()'s ru_maxrss of a child of this process: Linux carries
# the RSS high-water mark of the pre-exec image into it, and a child
# vfork()ed by Python starts with this Python process's memory (75 MiB
# here, not omkapture's). GNU time forks from a small process, so its %M is
# the program's own; without it, /proc/PID/status VmHWM is polled.
TIME_BIN = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def vmhwm(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_timed(argv, stdin_path, stdout_path, env=None):
    """Run argv with stdin from a file; return (wall s, cpu s, peak RSS KiB, rc, stderr)."""
    rssf = None
    if TIME_BIN:
        fd, rssf = tempfile.mkstemp(prefix="rss-")
        os.close(fd)
        argv = [TIME_BIN, "-f", "%M", "-o", rssf] + list(argv)
    with open(stdin_path, "rb") as fin, open(stdout_path, "wb") as fout:
        errf = tempfile.TemporaryFile()
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=fin, stdout=fout, stderr=errf, env=env)
        rss = 0
        if rssf:
            _, status, ru = os.wait4(p.pid, 0)
        else:
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                rss = max(rss, vmhwm(p.pid))
                time.sleep(0.005)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        err = errf.read().decode("utf-8", "replace")
        errf.close()
    if rssf:
        with open(rssf) as f:
            nums = [int(x) for x in f.read().split() if x.isdigit()]
        os.unlink(rssf)
        rss = nums[-1] if nums else 0
    return wall, ru.ru_utime + ru.ru_stime, rss, p.returncode, err


def head_lines(src, dst, n):
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        for i, line in enumerate(fi):
            if i >= n:
                break
            fo.write(line)


def wait_idle(pattern="delivery.py|ctest", every=10, limit=900):
    t0 = time.monotonic()
    while True:
        r = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
        pids = [p for p in r.stdout.split() if int(p) != os.getpid()]
        if not pids:
            print("machine idle (no %s) after %.0fs" % (pattern, time.monotonic() - t0))
            return True
        if time.monotonic() - t0 > limit:
            print("WARNING: still busy (%s) after %ds; going on" % (pattern, limit))
            return False
        time.sleep(every)


# ----------------------------------------------------------------------------- setup

def write_conf(d, name, rules_file, token):
    conf = os.path.join(d, name)
    with open(conf, "w") as f:
        f.write("[kapture]\n"
                "# a closed loopback port: nothing ever leaves 127.0.0.1\n"
                "url = http://127.0.0.1:9/add-ticket-from-other-source.html/v.2.0\n"
                "token_file = %s\n\n"
                "[spool]\ndir = %s\nshutdown_timeout = 1s\n\n"
                "[rules]\npath = %s\n" % (token, os.path.join(d, "spool-" + name), rules_file))
    return conf


def engine_supported(omk, conf, engine, d):
    empty = os.path.join(d, "empty")
    open(empty, "w").close()
    r = subprocess.run([omk, "-c", conf, "-q", "--test", "--engine", engine], stdin=open(empty),
                       capture_output=True, text=True)
    return r.returncode == 0, (r.stderr.strip().splitlines() or [""])[0]


def test_json(path):
    with open(path) as f:
        return json.load(f)


# ----------------------------------------------------------------------------- part 1: checks

def sec_cmd(sec, rules, inp, log):
    return [sec, "--conf=" + rules, "--input=" + inp, "--notail", "--bufsize=1", "--log=" + log,
            "--debug=3", "--nointevents"]


def part_checks(args, d, omk, sec, conf, conf_check, engines, plain):
    n = args.check_lines
    print("\n== 1. Checks on the first %d plain lines ==" % n)
    small = os.path.join(d, "check.log")
    head_lines(plain, small, n)
    out = os.path.join(d, "check-test.json")
    wall, _, _, rc, err = run_timed([omk, "-c", conf, "-q", "--test", "--json"], small, out)
    if not check(rc == 0, "omkapture --test --json exits 0", err):
        return
    omk_hits = test_json(out)["rules"]
    for e in engines:
        oe = os.path.join(d, "check-test-%s.json" % e)
        _, _, _, rc, err = run_timed([omk, "-c", conf, "-q", "--test", "--json", "--engine", e], small, oe)
        if check(rc == 0, "omkapture --test --engine %s exits 0" % e, err):
            h = test_json(oe)["rules"]
            diff = {k: (omk_hits.get(k), h.get(k)) for k in set(omk_hits) | set(h) if omk_hits.get(k) != h.get(k)}
            check(not diff, "--engine %s: same hits per rule as the default engine" % e, str(diff)[:800])
    dry = os.path.join(d, "check-dry.jsonl")
    _, _, _, rc, err = run_timed([omk, "-c", conf_check, "-q", "--dry-run"], small, dry)
    check(rc == 0, "omkapture --dry-run (check rules) exits 0", err)
    if sec is None:
        print("  (no SEC: skipping the SEC comparison)")
        return
    secout = os.path.join(d, "check-sec.out")
    secrules = os.path.join(d, "check.sec")
    gen_rules.write_sec(secrules, "write %s %%s $0" % secout)
    t0 = time.perf_counter()
    r = subprocess.run(sec_cmd(sec, secrules, small, os.path.join(d, "check-sec.log")),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    print("  SEC took %.1fs for %d lines" % (time.perf_counter() - t0, n))
    if not check(r.returncode == 0, "SEC exits 0", r.stderr[-2000:]):
        return
    sec_pairs = collections.Counter()
    if os.path.exists(secout):
        with open(secout, encoding="utf-8", errors="replace") as f:
            for line in f:
                name, raw = line.rstrip("\n").split(" ", 1)
                sec_pairs[(name, raw)] += 1
    sec_hits = collections.Counter()
    for (name, _), c in sec_pairs.items():
        sec_hits[name] += c
    diff = {k: (omk_hits.get(k, 0), sec_hits.get(k, 0)) for k in set(omk_hits) | set(sec_hits)
            if omk_hits.get(k, 0) != sec_hits.get(k, 0)}
    matched = test_json(out)["matched"]
    sec_lines = len({raw for (_, raw) in sec_pairs})
    check(not diff, "SEC and omkapture --test: same hits per rule (%d hits, %d rules hit; matched lines: "
          "omkapture %d, SEC %d)" % (sum(omk_hits.values()), sum(1 for v in omk_hits.values() if v), matched, sec_lines),
          "rule: (omkapture, SEC) %s" % str(diff)[:1500])
    check(matched == sec_lines, "same number of matched lines (%d)" % matched)
    omk_pairs = collections.Counter()
    with open(dry) as f:
        for line in f:
            t = json.loads(line)
            req = t["request"][0] if isinstance(t["request"], list) else t["request"]
            omk_pairs[(t["rule"], req["ticket_details"])] += 1
    only_o, only_s = omk_pairs - sec_pairs, sec_pairs - omk_pairs
    check(not only_o and not only_s, "SEC and omkapture --dry-run: the same (rule, line) pairs (%d)" % sum(omk_pairs.values()),
          "only omkapture: %s\n       only SEC: %s" % (list(only_o.items())[:3], list(only_s.items())[:3]))


# ----------------------------------------------------------------------------- part 2: timing

def timed_rows(args, d, omk, sec, conf, engines, plain, js, secrules):
    print("\n== 2. Throughput (median of %d runs; SEC one run) ==" % args.repeat)
    rows = []
    results = {}

    def bench(label, argv, inp, n, repeat, key=None, omkrow=True):
        walls, cpus, rss = [], [], 0
        out = os.path.join(d, "out-%s" % (key or re.sub(r"\W+", "_", label)))
        for _ in range(repeat):
            w, c, m, rc, err = run_timed(argv, inp, out)
            if rc != 0:
                check(False, "%s exits 0" % label, err[-1500:])
                rows.append((label, n, None, None, None, None))
                return None
            walls.append(w)
            cpus.append(c)
            rss = max(rss, m)
        w = statistics.median(walls)
        c = statistics.median(cpus)
        rows.append((label, n, w, c, n / w, rss if omkrow else None))
        results[key or label] = dict(wall=w, cpu=c, rate=n / w, rss=rss, out=out, walls=walls)
        print("  %-44s %8.3fs  %10s lines/s%s%s" % (label, w, human(n / w),
                                                    ("  (best %s)" % human(n / min(walls))) if repeat > 1 else "",
                                                    ("  peak RSS %.1f MiB" % (rss / 1024)) if omkrow else ""))
        return results[key or label]

    n, nj = args.lines, args.json_lines
    bench("wc -l (I/O floor)", ["wc", "-l"], plain, n, args.repeat, key="wc", omkrow=False)
    bench("omkapture --test (default engine)", [omk, "-c", conf, "-q", "--test", "--json"], plain, n, args.repeat,
          key="test")
    for e, ok in engines.items():
        if ok:
            bench("omkapture --test --engine %s" % e, [omk, "-c", conf, "-q", "--test", "--json", "--engine", e],
                  plain, n, args.repeat, key="test-" + e)
        else:
            rows.append(("omkapture --test --engine %s" % e, n, None, None, None, None))
            print("  %-44s n/a (the binary refuses --engine %s)" % ("omkapture --test --engine %s" % e, e))
    bench("omkapture --test, JSON input", [omk, "-c", conf, "-q", "--test", "--json"], js, nj, args.repeat,
          key="test-json")
    if sec is not None:
        prefix = os.path.join(d, "sec-prefix.log")
        ns = min(args.sec_lines, n)
        head_lines(plain, prefix, ns)
        bench("SEC %s --notail (first %d lines)" % (SEC_VERSION, ns),
              sec_cmd(sec, secrules, prefix, "/dev/null"), prefix, ns, 1, key="sec", omkrow=False)
    else:
        rows.append(("SEC", 0, None, None, None, None))
    bench("omkapture --dry-run, JSON input", [omk, "-c", conf, "-q", "--dry-run"], js, nj, args.repeat, key="dry-json")
    bench("omkapture --dry-run, plain input", [omk, "-c", conf, "-q", "--dry-run"], plain, n, args.repeat,
          key="dry-plain")
    return rows, results


def print_table(rows):
    print("\n%-46s %9s %9s %9s %12s %10s" % ("row", "lines", "wall s", "cpu s", "lines/s", "peak RSS"))
    for label, n, w, c, rate, rss in rows:
        if w is None:
            print("%-46s %9s %9s %9s %12s %10s" % (label, n or "", "n/a", "n/a", "n/a", ""))
        else:
            print("%-46s %9d %9.3f %9.3f %12s %10s" % (label, n, w, c, "{:,.0f}".format(rate),
                                                        "%.1f MiB" % (rss / 1024) if rss else ""))


def ratios_and_targets(args, results, engines):
    print("\nRatios and the issue's targets:")
    t = results.get("test")
    if not t:
        return
    wc = results.get("wc")
    if wc:
        print("  omkapture --test vs wc -l:        %.3f of the I/O floor (wc -l %s lines/s)" % (t["rate"] / wc["rate"],
                                                                                          human(wc["rate"])))
    sec = results.get("sec")
    sec_ratio = t["rate"] / sec["rate"] if sec else None
    if sec:
        print("  omkapture --test / SEC:           %.0fx" % sec_ratio)
    naive = results.get("test-naive")
    naive_ratio = t["rate"] / naive["rate"] if naive else None
    if naive:
        print("  default engine / naive:           %.1fx" % naive_ratio)
    for e in engines:
        r = results.get("test-" + e)
        if r and e != "naive":
            print("  default engine / %-16s %.1fx" % (e + ":", t["rate"] / r["rate"]))
    # the target is about omkapture as shipped: the default engine's rows
    rss = max(v["rss"] for k, v in results.items() if k in ("test", "test-json", "dry-json", "dry-plain"))
    other = {k[5:]: v["rss"] for k, v in results.items() if k.startswith("test-") and k != "test-json"}

    def tgt(ok, text):
        print("  [%s] %s" % ("met " if ok else ("MISS" if ok is not None else "n/a "), text))

    tgt(t["rate"] >= 1e6, "--test, plain, %d rules: >= 1,000,000 lines/s (measured %s)" % (len(gen_rules.RULES),
                                                                                         "{:,.0f}".format(t["rate"])))
    tgt(sec_ratio >= 300 if sec_ratio else None, ">= 300x SEC (measured %s)" % ("%.0fx" % sec_ratio if sec_ratio else "n/a"))
    tgt(naive_ratio >= 10 if naive_ratio else None, ">= 10x the naive engine (measured %s)" %
        ("%.1fx" % naive_ratio if naive_ratio else "n/a"))
    dj = results.get("dry-json")
    if dj:
        tgt(dj["rate"] >= 4e5, "--dry-run, rsyslog JSON: >= 400,000 lines/s (measured %s)" % "{:,.0f}".format(dj["rate"]))
    tgt(rss <= 32 * 1024, "peak RSS <= 32 MiB (highest default-engine row: %.1f MiB%s)"
        % (rss / 1024, "".join("; --engine %s %.1f MiB" % (e, m / 1024) for e, m in other.items())))


def full_size_checks(args, results, engines):
    print("\nChecks on the full-size runs:")
    t = results.get("test")
    if not t:
        return
    a = test_json(t["out"])
    check(a["lines"] == args.lines, "--test counted %d lines" % args.lines, "got %d" % a["lines"])
    rate = a["matched"] / max(a["lines"], 1)
    check(rate < 0.01, "under 1%% of the lines match a rule (%d of %d, %.2f%%; %d of %d rules hit)"
          % (a["matched"], a["lines"], 100 * rate, sum(1 for v in a["rules"].values() if v), len(a["rules"])))
    for e in engines:
        r = results.get("test-" + e)
        if r:
            b = test_json(r["out"])
            diff = {k: (a["rules"].get(k), b["rules"].get(k)) for k in a["rules"] if a["rules"].get(k) != b["rules"].get(k)}
            check(not diff and a["matched"] == b["matched"], "--engine %s: same hits per rule as the default" % e, str(diff)[:800])
    tj = results.get("test-json")
    if tj and args.json_lines == args.lines:
        b = test_json(tj["out"])
        diff = {k: (a["rules"].get(k), b["rules"].get(k)) for k in a["rules"] if a["rules"].get(k) != b["rules"].get(k)}
        check(not diff, "plain and rsyslog JSON input: same hits per rule",
              "rule: (plain, JSON) %s\n       (rsyslog's programname stops at '/': a rule with program = postfix/smtpd "
              "matches the plain line, not the same event in rsyslog JSON, whose programname is \"postfix\")"
              % str(diff)[:800])
    dj = results.get("dry-json")
    if dj:
        with open(dj["out"]) as f:
            nt = sum(1 for _ in f)
        print("  (--dry-run JSON printed %d tickets: dedup, thresholds and suppress hold the rest back)" % nt)


# ----------------------------------------------------------------------------- part 3: rsyslog omprog

RSYSLOG_CONF = """\
global(workDirectory="{d}/work" processInternalMessages="on")
main_queue(queue.size="{qsize}")
module(load="imtcp")
module(load="omprog")
template(name="omkapture_json" type="string" string="%jsonmesg%\\n")

input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{d}/imtcp.port" ruleset="bench")

ruleset(name="bench") {{
  action(type="omprog" name="helper" binary="{d}/helper.sh" template="omkapture_json"
         confirmMessages="on" confirmTimeout="30000" reportFailures="on"
         closeTimeout="10000" killUnresponsive="on"
         output="{d}/helper.err"
         queue.type="LinkedList" queue.size="{qsize}" queue.workerThreads="1"{batch}
         queue.timeoutWorkerThreadShutdown="-1" queue.timeoutShutdown="15000"
         action.resumeRetryCount="-1" action.resumeInterval="2")
}}

*.* action(type="omfile" file="{d}/rsyslog-internal.log")
"""

C_HELPER = r"""
#include <unistd.h>
/* omprog helper that only confirms: OK at start, OK per line. */
int main(void) {
    char buf[65536];
    ssize_t n, i;
    if (write(1, "OK\n", 3) != 3) return 1;
    while ((n = read(0, buf, sizeof buf)) > 0)
        for (i = 0; i < n; i++)
            if (buf[i] == '\n' && write(1, "OK\n", 3) != 3) return 1;
    return 0;
}
"""

PY_HELPER = """\
import sys
out = sys.stdout.buffer
out.write(b"OK\\n")
out.flush()
for _ in sys.stdin.buffer:
    out.write(b"OK\\n")
    out.flush()
"""


def proc_io(pid):
    try:
        with open("/proc/%d/io" % pid) as f:
            return {k: int(v) for k, v in (line.split(":") for line in f)}
    except (OSError, ValueError):
        return None


def proc_cpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def read_pid(path):
    try:
        with open(path) as f:
            t = f.read().strip()
        return int(t) if t.isdigit() else None
    except OSError:
        return None


def rsyslog_run(rsyslogd, base, label, helper_cmd, batch, messages, is_omk, timeout=600):
    d = os.path.join(base, re.sub(r"\W+", "_", label))
    os.makedirs(os.path.join(d, "work"))
    with open(os.path.join(d, "helper.sh"), "w") as f:
        f.write("#!/bin/sh\necho $$ > %s/helper.pid\nexec %s\n" % (d, helper_cmd))
    os.chmod(os.path.join(d, "helper.sh"), 0o755)
    rconf = os.path.join(d, "rsyslog.conf")
    with open(rconf, "w") as f:
        f.write(RSYSLOG_CONF.format(d=d, qsize=max(2 * len(messages), 10000),
                                    batch="" if batch is None else ' queue.dequeueBatchSize="%d"' % batch))
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    v = subprocess.run([rsyslogd, "-N1", "-f", rconf], capture_output=True, text=True, env=env)
    if not check(v.returncode == 0, "%s: rsyslogd -N1 accepts the config" % label, v.stdout + v.stderr, quiet=True):
        return None
    out = open(os.path.join(d, "rsyslogd.out"), "wb")
    proc = subprocess.Popen([rsyslogd, "-n", "-f", rconf, "-i", os.path.join(d, "rsyslogd.pid")],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
    res = None
    try:
        port = None
        t_end = time.monotonic() + 15
        while time.monotonic() < t_end and proc.poll() is None:
            port = read_pid(os.path.join(d, "imtcp.port"))
            if port:
                break
            time.sleep(0.02)
        if not check(bool(port), "%s: rsyslogd listens on 127.0.0.1" % label, quiet=True):
            return None
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        # warm-up: the helper starts with the first message
        s.sendall((messages[0] + "\n").encode())
        hp, t_end = None, time.monotonic() + 30
        while time.monotonic() < t_end:
            hp = hp or read_pid(os.path.join(d, "helper.pid"))
            io = proc_io(hp) if hp else None
            if io and io["wchar"] >= 6:
                break
            time.sleep(0.005)
        else:
            check(False, "%s: the helper started and answered the warm-up message" % label)
            return None
        base_w = io["wchar"]
        cpu0 = proc_cpu(hp)
        payload = "".join(m + "\n" for m in messages).encode()
        target = base_w + 3 * len(messages)
        sender = threading.Thread(target=s.sendall, args=(payload,), daemon=True)
        t0 = time.perf_counter()
        sender.start()
        last, t_last = base_w, time.monotonic()
        while True:
            io = proc_io(hp)
            if io is None:
                check(False, "%s: the helper kept running" % label)
                return None
            if io["wchar"] >= target:
                break
            if io["wchar"] != last:
                last, t_last = io["wchar"], time.monotonic()
            elif time.monotonic() - t_last > 20 or time.monotonic() - t_last > timeout:
                check(False, "%s: replies stopped at %d of %d" % (label, (io["wchar"] - base_w) // 3, len(messages)))
                return None
            time.sleep(0.002)
        wall = time.perf_counter() - t0
        cpu = proc_cpu(hp) - cpu0
        sender.join(10)
        s.close()
        stats = None
        if is_omk:
            os.kill(hp, signal.SIGUSR1)
            time.sleep(0.3)
            with open(os.path.join(d, "helper.err"), errors="replace") as f:
                for line in f:
                    if line.startswith("{") and '"lines"' in line:
                        stats = json.loads(line)
        res = dict(label=label, wall=wall, rate=len(messages) / wall, cpu_us=1e6 * cpu / len(messages),
                   wchar_extra=io["wchar"] - target, stats=stats, dir=d)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out.close()
    return res


def part_rsyslog(args, d, omk, conf, plain):
    print("\n== 3. Through a real rsyslogd omprog action ==")
    rsyslogd = args.rsyslogd or shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    if not os.access(rsyslogd, os.X_OK):
        print("  rsyslogd not found: skipped")
        return []
    if " " in d:
        print("  temp dir has a space (rsyslog splits binary= at spaces): skipped")
        return []
    n = args.rsyslog_messages
    # lines no rule matches: the check-rule dry-run names every matching line
    pool = os.path.join(d, "rs-pool.log")
    head_lines(plain, pool, min(args.lines, int(n * 1.05) + 1000))
    conf_check = os.path.join(d, "omkapture-check.conf")
    dry = os.path.join(d, "rs-pool-dry.jsonl")
    run_timed([omk, "-c", conf_check, "-q", "--dry-run"], pool, dry)
    matched = set()
    with open(dry) as f:
        for line in f:
            t = json.loads(line)
            req = t["request"][0] if isinstance(t["request"], list) else t["request"]
            matched.add(req["ticket_details"])
    with open(pool) as f:
        messages = [ln.rstrip("\n") for ln in f if ln.rstrip("\n") not in matched][:n]
    print("  %d messages (lines of the corpus no rule matches), %.0f bytes each on average"
          % (len(messages), sum(map(len, messages)) / max(len(messages), 1)))
    helpers = [("omkapture --omprog (%d rules)" % len(gen_rules.RULES), "%s --omprog -q -c %s" % (omk, conf), True)]
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc:
        src = os.path.join(d, "okhelper.c")
        with open(src, "w") as f:
            f.write(C_HELPER)
        r = subprocess.run([cc, "-O2", "-o", os.path.join(d, "okhelper"), src], capture_output=True, text=True)
        if r.returncode == 0:
            helpers.append(("trivial helper, C", os.path.join(d, "okhelper"), False))
    pyh = os.path.join(d, "okhelper.py")
    with open(pyh, "w") as f:
        f.write(PY_HELPER)
    helpers.append(("trivial helper, Python", "%s %s" % (sys.executable, pyh), False))
    results = []
    runs = collections.defaultdict(list)
    # round-robin, so a slow spell on the machine hits every row alike
    order = [(rep, batch, h) for rep in range(args.rsyslog_repeat) for batch in (None, 1) for h in helpers]
    for rep, batch, (label, cmd, is_omk) in order:
        full = "%s, batch %s" % (label, "default" if batch is None else batch)
        r = rsyslog_run(rsyslogd, os.path.join(d, "rsyslog%d" % rep), full, cmd, batch, messages, is_omk)
        if r is None:
            continue
        r["batch"], r["helper"] = batch, label
        runs[(label, batch)].append(r)
        if is_omk and r["stats"] is not None:
            st = r["stats"]
            check(st.get("lines") == len(messages) + 1 and st.get("matched") == 0 and st.get("json_errors") == 0,
                  "%s: omkapture read %d lines (warm-up + messages), all valid JSON, matched none"
                  % (full, len(messages) + 1),
                  json.dumps(st)[:400], quiet=True)
        elif is_omk:
            check(False, "%s: omkapture printed its counters on SIGUSR1" % full)
        print("  %-52s %8.3fs  %10s msg/s  helper CPU %.1f us/msg" % (full, r["wall"], human(r["rate"]), r["cpu_us"]))
    by = {}
    for k, rs in runs.items():
        med = sorted(rs, key=lambda r: r["rate"])[len(rs) // 2]
        by[k] = med
        results.append(med)
    if results:
        print("\n  median of %d runs each:" % args.rsyslog_repeat)
        print("  %-40s %14s %14s" % ("", "batch default", "batch 1"))
        for label, _, _ in helpers:
            cells = []
            for b in (None, 1):
                r = by.get((label, b))
                cells.append("{:,.0f} msg/s".format(r["rate"]) if r else "n/a")
            print("  %-40s %14s %14s" % (label, cells[0], cells[1]))
        omk_label = helpers[0][0]
        for b in (None, 1):
            o = by.get((omk_label, b))
            for label, _, _ in helpers[1:]:
                t = by.get((label, b))
                if o and t:
                    print("  batch %-7s omkapture / %-24s %.0f%%%s" % ("default" if b is None else b, label + ":",
                                                                     100 * o["rate"] / t["rate"],
                                                                     "  (target >= 80%)" if label == helpers[1][0] else ""))
    return results


SEC_VERSION = ""


def main():
    global SEC_VERSION
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--omkapture", required=True, help="the omkapture binary to measure")
    ap.add_argument("--sec", help="SEC to compare with (default: sec from PATH; apt-get install sec when root and missing)")
    ap.add_argument("--no-sec", action="store_true", help="leave SEC out")
    ap.add_argument("--lines", type=int, default=1000000, help="plain corpus lines (default 1000000)")
    ap.add_argument("--json-lines", type=int, help="rsyslog JSON corpus lines (default: --lines)")
    ap.add_argument("--sec-lines", type=int, default=100000, help="lines SEC is timed on (default 100000)")
    ap.add_argument("--check-lines", type=int, default=30000, help="lines of the SEC/omkapture check (default 30000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per omkapture/wc row, median shown (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    ap.add_argument("--engines", default="naive",
                    help="comma list of --engine values to time besides the default (default: naive)")
    ap.add_argument("--program-filters", choices=("few", "all", "none"), default="few",
                    help="rules with `program =`: few (default), all, none (see gen_rules.py)")
    ap.add_argument("--rsyslog", action="store_true", help="also measure through a real rsyslogd omprog action")
    ap.add_argument("--rsyslog-messages", type=int, default=100000, help="messages per rsyslog run (default 100000)")
    ap.add_argument("--rsyslog-repeat", type=int, default=5, help="runs per rsyslog row, median shown (default 5)")
    ap.add_argument("--rsyslogd", help="rsyslogd binary (default: from PATH or /usr/sbin)")
    ap.add_argument("--wait-idle", action="store_true",
                    help="first wait (up to 15 min) until pgrep -f 'delivery.py|ctest' finds nothing")
    ap.add_argument("--tmpdir", help="where the work dir goes (default $TMPDIR or /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir")
    args = ap.parse_args()
    if args.json_lines is None:
        args.json_lines = args.lines
    if min(args.lines, args.json_lines, args.sec_lines, args.check_lines, args.repeat, args.rsyslog_messages) < 1:
        ap.error("counts must be positive")
    omk = os.path.abspath(args.omkapture)
    if not os.access(omk, os.X_OK):
        ap.error("not executable: %s" % omk)

    sec = None
    if not args.no_sec:
        sec = args.sec or shutil.which("sec")
        if sec is None and os.geteuid() == 0 and shutil.which("apt-get"):
            print("installing SEC: apt-get install -y sec")
            subprocess.run(["apt-get", "install", "-y", "sec"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
                           stdout=subprocess.DEVNULL)
            sec = shutil.which("sec")
        if sec is None:
            print("SEC not found: its rows are n/a")
        else:
            r = subprocess.run([sec, "--version"], capture_output=True, text=True)
            m = re.search(r"SEC \(Simple Event Correlator\) (\S+)", r.stdout + r.stderr)
            SEC_VERSION = m.group(1) if m else "?"

    if args.wait_idle:
        wait_idle()

    os.environ["TZ"] = "UTC"
    d = tempfile.mkdtemp(prefix="omk-bench-matching-", dir=args.tmpdir)
    try:
        ver = subprocess.run([omk, "--version"], capture_output=True, text=True).stdout.strip()
        git = subprocess.run(["git", "-C", os.path.dirname(omk), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        print("omkapture: %s (%s)%s" % (omk, ver, (", tree at " + git) if git else ""))
        print("machine: %d CPUs, load average %s; work dir %s" % (os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg()), d))

        plain, js = os.path.join(d, "corpus.log"), os.path.join(d, "corpus.json")
        t0 = time.perf_counter()
        with open(plain, "w", buffering=1 << 20) as po:
            if args.json_lines == args.lines:
                with open(js, "w", buffering=1 << 20) as jo:
                    gen_corpus.generate(args.lines, args.seed, 0.006, po, jo)
            else:
                gen_corpus.generate(args.lines, args.seed, 0.006, po, None)
        if args.json_lines != args.lines:
            with open(js, "w", buffering=1 << 20) as jo:
                gen_corpus.generate(args.json_lines, args.seed, 0.006, None, jo)
        print("rules: %d (gen_rules.py), %d with `program =` (--program-filters %s)"
              % (len(gen_rules.RULES), sum(1 for r in gen_rules.RULES if gen_rules.program_of(r)), args.program_filters))
        print("corpus: %d plain lines (%.0f MB), %d JSON lines (%.0f MB), seed %d, generated in %.1fs"
              % (args.lines, os.path.getsize(plain) / 1e6, args.json_lines, os.path.getsize(js) / 1e6, args.seed,
                 time.perf_counter() - t0))

        gen_rules.PROGRAM_FILTERS = args.program_filters
        rules = os.path.join(d, "bench.rules")
        rules_check = os.path.join(d, "bench-check.rules")
        secrules = os.path.join(d, "bench.sec")
        gen_rules.write_omkapture(rules)
        gen_rules.write_omkapture(rules_check, check=True)
        gen_rules.write_sec(secrules, "none")
        token = os.path.join(d, "token")
        fd = os.open(token, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, (os.urandom(16).hex() + "\n").encode())
        os.close(fd)
        conf = write_conf(d, "omkapture.conf", rules, token)
        conf_check = write_conf(d, "omkapture-check.conf", rules_check, token)
        r = subprocess.run([omk, "-c", conf, "--check"], capture_output=True, text=True)
        if not check(r.returncode == 0, "omkapture --check accepts the %d rules" % len(gen_rules.RULES),
                     r.stdout + r.stderr):
            return 1
        for line in (r.stdout + r.stderr).splitlines():
            if "prefilter" in line.lower() or "cover" in line.lower():
                print("  --check: " + line.strip())

        engines = {}
        for e in [x for x in args.engines.split(",") if x]:
            ok, why = engine_supported(omk, conf, e, d)
            engines[e] = ok
            if not ok:
                print("  --engine %s refused: %s" % (e, why))
        usable = [e for e, ok in engines.items() if ok]

        part_checks(args, d, omk, sec, conf, conf_check, usable, plain)
        rows, results = timed_rows(args, d, omk, sec, conf, engines, plain, js, secrules)
        print_table(rows)
        ratios_and_targets(args, results, usable)
        full_size_checks(args, results, usable)
        if args.rsyslog:
            part_rsyslog(args, d, omk, conf, plain)
        print("\nload average at the end: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    finally:
        if args.keep or FAILED:
            print("work dir kept: %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    if FAILED:
        print("\n%d check(s) FAILED: %s" % (len(FAILED), "; ".join(FAILED)))
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
