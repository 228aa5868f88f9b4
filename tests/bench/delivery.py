#!/usr/bin/env python3
"""Delivery benchmark for omkapture (issue 3: durable spool + concurrent sender).

    python3 tests/bench/delivery.py --omkapture build/plugin/omkapture
        [--requests 1000] [--latency-ms 50] [--concurrency 1,4,16]
        [--lines 2000] [--bulk-lines 100000] [--repeat 3]
        [--backlog 5000] [--tmpdir DIR] [--no-tmpfs] [--no-up]
        [--skip-drain] [--skip-accept] [--keep]

Not a test: it prints figures (tests/bench/README.md has them). Everything
runs in one temporary directory against the mock Kapture server on
127.0.0.1; the API token is random, lives in a 0600 file, is never printed,
and every log and output the script collected is checked for it.

The mock is tests/mock_kapture.py (through tests/mocklib.py). Part 1 first
measures what it serves to a threaded keep-alive Python client at
concurrency 1 and at the highest --concurrency, so a figure capped by the
mock rather than by omkapture shows up as such.

Part 1, drain throughput. --requests ticket requests are spooled once:
omkapture in pipe mode over that many distinct alert lines (one dedup key
each) while the mock answers 503 to everything, [spool] shutdown_timeout =
1s, so it exits leaving them in DIR/spool/. For each --concurrency the spool
dir is copied, the mock answers after --latency-ms, and omkapture starts
with the copy, stdin empty and shutdown_timeout = 600s: it delivers
everything and exits. Timed from start to exit. Checked: the mock received
exactly one request per spooled request, each a created ticket carrying
one of the spooled refs, and spool/ and failed/ are empty afterwards. Also
shown: the mock's in-flight count (sampled every 50 ms) and when the first
and last answers went out.

Part 2, the cost of accepting a line, in pipe mode (stdin from a file,
stdout to /dev/null). Each figure is wall(N lines) - wall(empty input) of
the same command, median of --repeat runs, a fresh spool each run:
  non-alert    --bulk-lines lines no rule matches
  dry-run      --bulk-lines alert lines with --dry-run: the whole pipeline
               and the JSON request, no spool
  spool        --lines alert lines, Kapture down (a closed 127.0.0.1 port):
               each line becomes a spool file, fsync'd, plus a directory fsync
  spool/tmpfs  the same with the spool on /dev/shm, where fsync is a no-op:
               the rest of the file work, without the disk
Then --lines lines through --omprog one at a time (write a line, read its
reply), the per-line latency rsyslog sees: median, p99, max; Kapture down,
plus two rows with Kapture up (mock latency --latency-ms, concurrency 16),
where the sender works in the same loop while lines arrive: with an empty
spool, and with --backlog requests already waiting (Kapture coming back
after an outage).

Exit status: 0 when every correctness check passed (met speed-up target or
not), 1 when one failed, 2 on usage errors.
"""

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from mocklib import ADD_PATH, MockKapture, omkapture_env  # noqa: E402


RULES = r"""# benchmark rule: every line "BENCH ALERT id=N ..." is one ticket
[bench-alert]
match    = ^BENCH ALERT id=(?<id>\d+) (?<what>.*)$
title    = Bench alert ${id} on ${host}: ${what}
details  = ${raw}
email    = bench@example.com
due      = +1h
suppress = 0
field.queue = Bench
"""

# Ids are distinct, so every line has its own dedup key (no suppression and
# no per-key ordering between requests).
ALERT = ("Nov 27 10:00:00 bench-host app[4242]: BENCH ALERT id=%07d "
         "disk /dev/sdb1 on bench-host reports I/O error at sector %d\n")
NOISE = ("Nov 27 10:00:00 bench-host app[4242]: BENCH NOISE id=%07d "
         "request served in 12 ms from 192.0.2.%d status 200 bytes 5120\n")

SPEEDUP_TARGET = 10.0          # issue 3: concurrency 16 >= 10x concurrency 1
DRAIN_TIMEOUT = 900            # s, one drain run at most


class BenchError(Exception):
    pass


# -- small helpers -------------------------------------------------------------

def fmt_rate(x):
    return "%.0f" % x if x >= 100 else "%.1f" % x


def fs_type(path):
    """(type, device) of the filesystem holding path, from df -T."""
    try:
        out = subprocess.run(["df", "-T", "-P", path], capture_output=True,
                             text=True, timeout=10).stdout.splitlines()
        f = out[-1].split()
        return f[1], f[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?", "?"


def closed_port():
    """A 127.0.0.1 port nothing listens on (connect is refused at once)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def percentile(sorted_v, p):
    if not sorted_v:
        return float("nan")
    k = (len(sorted_v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_v) - 1)
    return sorted_v[lo] + (sorted_v[hi] - sorted_v[lo]) * (k - lo)


def spool_files(d):
    try:
        return sorted(n for n in os.listdir(os.path.join(d, "spool"))
                      if n.endswith(".req"))
    except FileNotFoundError:
        return []


def failed_files(d):
    try:
        return sorted(os.listdir(os.path.join(d, "failed")))
    except FileNotFoundError:
        return []


def spool_refs(d):
    """The ref header of every request waiting in spool dir d."""
    refs = []
    for n in spool_files(d):
        with open(os.path.join(d, "spool", n), "rb") as f:
            for line in f:
                if line.startswith(b"ref "):
                    refs.append(line[4:].strip().decode())
                    break
                if line == b"\n":
                    break
    return refs


class Bench:
    def __init__(self, args, work):
        self.args = args
        self.omk = args.omkapture
        self.work = work
        self.token = "bench-" + secrets.token_hex(16)
        self.token_file = os.path.join(work, "token")
        fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.token + "\n")
        self.rules_dir = os.path.join(work, "rules")
        os.makedirs(self.rules_dir)
        with open(os.path.join(self.rules_dir, "bench.rules"), "w") as f:
            f.write(RULES)
        self.logs = []             # every stderr/stdout file, checked for the token
        self.problems = []         # failed correctness checks
        self.nconf = 0

    # -- omkapture plumbing ----------------------------------------------------

    def conf(self, url, spool_dir, concurrency=4, shutdown="1s", retry_max="5m"):
        self.nconf += 1
        path = os.path.join(self.work, "omk-%03d.conf" % self.nconf)
        with open(path, "w") as f:
            f.write("\n".join([
                "[kapture]", "url = " + url, "token_file = " + self.token_file,
                "timeout = 30s", "connect_timeout = 10s",
                "concurrency = %d" % concurrency, "retry_max = " + retry_max, "",
                "[spool]", "dir = " + spool_dir, "max = 1000000",
                "max_bytes = 2000m", "shutdown_timeout = " + shutdown, "",
                "[rules]", "path = " + self.rules_dir, ""]))
        return path

    def log_path(self, tag):
        tag = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in tag)
        p = os.path.join(self.work, "log-%03d-%s.txt" % (len(self.logs), tag))
        self.logs.append(p)
        return p

    def run(self, args, stdin_path=None, stdout=subprocess.DEVNULL, tag="run",
            timeout=600):
        """Run omkapture to completion; returns (wall seconds, rc, stderr path)."""
        err_path = self.log_path(tag)
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        try:
            with open(err_path, "wb") as err:
                t0 = time.perf_counter()
                p = subprocess.Popen([self.omk] + args, stdin=stdin, stdout=stdout,
                                     stderr=err, env=omkapture_env())
                # A blocking wait: Popen.wait(timeout) polls with sleeps of up
                # to 50 ms, which would show up in the figures.
                killer = threading.Timer(timeout, p.kill)
                killer.start()
                try:
                    rc = p.wait()
                finally:
                    killer.cancel()
                t1 = time.perf_counter()
                if rc == -9:
                    rc = None
        finally:
            if stdin_path:
                stdin.close()
        return t1 - t0, rc, err_path

    def check(self, ok, what, detail=""):
        if not ok:
            self.problems.append(what + (": " + detail if detail else ""))
            print("  CHECK FAILED: %s %s" % (what, detail), flush=True)
        return ok

    def write_input(self, name, fmt, n, start=0):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            for i in range(start, start + n):
                f.write(fmt % (i, i % 250 + 1))
        return path

    def token_leaks(self):
        tok = self.token.encode()
        leaks = []
        for p in self.logs:
            try:
                with open(p, "rb") as f:
                    if tok in f.read():
                        leaks.append(p)
            except OSError:
                pass
        return leaks

    # -- part 1: drain throughput --------------------------------------------------

    def mock_capacity(self, mock, conc, nreq):
        """Requests/s the mock serves to `conc` keep-alive clients."""
        body_tmpl = json.dumps([{"title": "capacity probe %d", "ticket_details": "x",
                                 "email_id": "bench@example.com"}])
        headers = {"Authorization": "Basic " + self.token,
                   "Content-Type": "application/json"}
        counter = iter(range(nreq))
        lock = threading.Lock()
        bad = []

        def worker():
            c = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=30)
            try:
                while True:
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        return
                    c.request("POST", ADD_PATH, body=(body_tmpl % i).encode(),
                              headers=headers)
                    r = c.getresponse()
                    data = r.read()
                    if r.status != 200 or b'"success"' not in data:
                        bad.append(r.status)
            finally:
                c.close()

        threads = [threading.Thread(target=worker) for _ in range(conc)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        dt = time.perf_counter() - t0
        self.check(not bad, "mock capacity probe answered success", str(bad[:5]))
        return nreq / dt

    def make_spool(self, mock, n):
        """Spool n requests with omkapture while the mock answers 503."""
        mock.configure(latency_ms=0, fail_next=-1, fault="503")
        master = os.path.join(self.work, "master.spool")
        os.makedirs(master, mode=0o700)
        inp = self.write_input("drain-input.log", ALERT, n)
        conf = self.conf(mock.url, master, concurrency=16, shutdown="1s")
        dt, rc, err = self.run(["-c", conf], stdin_path=inp, tag="make-spool",
                               timeout=120)
        files = spool_files(master)
        self.check(rc == 0, "spooling run exit 0", "rc=%r, see %s" % (rc, err))
        if len(files) != n or failed_files(master):
            raise BenchError("spooling run left %d files in spool/ and %d in "
                             "failed/, want %d and 0 (log: %s)" % (
                                 len(files), len(failed_files(master)), n, err))
        refs = spool_refs(master)
        if len(set(refs)) != n:
            raise BenchError("spooled requests have %d distinct refs, want %d"
                             % (len(set(refs)), n))
        return master, set(refs), dt

    def drain_once(self, mock, master, refs, conc):
        d = os.path.join(self.work, "drain-c%d-%d.spool" % (conc, self.nconf))
        shutil.copytree(master, d, symlinks=True)
        conf = self.conf(mock.url, d, concurrency=conc, shutdown="600s")
        before = mock.stats()["requests"]
        # Sample the mock's in-flight count while omkapture drains.
        samples, stop = [], threading.Event()

        def sampler():
            while not stop.wait(0.05):
                try:
                    samples.append(mock.stats()["in_flight"])
                except Exception:       # noqa: BLE001 (best effort)
                    pass

        th = threading.Thread(target=sampler, daemon=True)
        th.start()
        t_start = time.time()
        try:
            dt, rc, err = self.run(["-c", conf], tag="drain-c%d" % conc,
                                   timeout=DRAIN_TIMEOUT)
        finally:
            stop.set()
            th.join()
        recs = [r for r in mock.requests() if r["n"] > before]
        ok = [r for r in recs if r["kind"] == "add" and r["result"] == "success"]
        got_refs = [((r.get("body") or [{}])[0] if isinstance(r.get("body"), list)
                     else (r.get("body") or {})).get("omkapture_ref") for r in ok]
        left, failed = spool_files(d), failed_files(d)
        self.check(rc == 0, "drain c=%d exit 0" % conc, "rc=%r, see %s" % (rc, err))
        self.check(len(recs) == len(refs) and len(ok) == len(refs),
                   "drain c=%d: mock got exactly %d successful tickets" % (conc, len(refs)),
                   "got %d requests, %d successful" % (len(recs), len(ok)))
        self.check(set(got_refs) == refs and len(got_refs) == len(set(got_refs)),
                   "drain c=%d: one ticket per spooled ref" % conc)
        self.check(not left and not failed, "drain c=%d: spool/ and failed/ empty" % conc,
                   "%d left, %d failed" % (len(left), len(failed)))
        # The mock stamps a record after its latency, just before answering.
        first = min(r["time"] for r in recs) - t_start if recs else float("nan")
        last = max(r["time"] for r in recs) - t_start if recs else float("nan")
        shutil.rmtree(d, ignore_errors=True)
        return {"conc": conc, "wall": dt, "rate": len(refs) / dt, "first": first, "last": last,
                "peak": max(samples) if samples else 0,
                "mean_inflight": statistics.mean(samples) if samples else 0.0,
                "ok": len(ok)}

    def part_drain(self):
        a = self.args
        print("== 1. drain throughput: %d spooled requests, mock latency %d ms ==" % (
            a.requests, a.latency_ms), flush=True)
        cmax = max(a.concurrency)
        ideal1 = 1000.0 / a.latency_ms if a.latency_ms else float("inf")
        print("mock capacity (threaded Python client, keep-alive, %d ms latency):" %
              a.latency_ms)
        with MockKapture(self.work, token=self.token, quiet=True, name="mock-cap",
                         latency_ms=a.latency_ms) as m:
            self.logs += [m.log_path, m.record_path]
            c1 = self.mock_capacity(m, 1, max(int(2 * ideal1), 20))
            cm = self.mock_capacity(m, cmax, max(cmax * 20, 200))
        print("  tests/mock_kapture.py  c=1: %5s req/s (ideal %s)  c=%d: %5s req/s "
              "(ideal %s)" % (fmt_rate(c1), fmt_rate(ideal1), cmax, fmt_rate(cm),
                              fmt_rate(cmax * ideal1)), flush=True)
        mock_limited = cm < 0.9 * cmax * ideal1
        if mock_limited:
            print("WARNING: the mock serves less than 90%% of the ideal rate at "
                  "concurrency %d: figures there are capped by the mock" % cmax)
        with MockKapture(self.work, token=self.token, quiet=True, name="mock-drain") as mock:
            self.logs.append(mock.log_path)
            self.logs.append(mock.record_path)
            master, refs, mk = self.make_spool(mock, a.requests)
            print("spooled %d requests in %.2fs (mock answering 503)" % (len(refs), mk))
            mock.configure(latency_ms=a.latency_ms, fail_next=0)
            results = []
            for c in a.concurrency:
                r = self.drain_once(mock, master, refs, c)
                results.append(r)
                print("  c=%-3d %7.2fs  %s tickets/s" % (c, r["wall"], fmt_rate(r["rate"])),
                      flush=True)
        base = next((r for r in results if r["conc"] == 1), results[0])
        print()
        print("%-11s %8s %10s %9s %8s %11s %8s %8s %7s" % (
            "concurrency", "wall s", "tickets/s", "speed-up", "ideal/s", "in-flight",
            "first s", "last s", "exit s"))
        for r in results:
            ideal_c = r["conc"] * 1000.0 / a.latency_ms if a.latency_ms else float("inf")
            print("%-11d %8.2f %10s %8.1fx %8s %5.1f/%-5d %8.2f %8.2f %7.2f" % (
                r["conc"], r["wall"], fmt_rate(r["rate"]), r["rate"] / base["rate"],
                fmt_rate(ideal_c), r["mean_inflight"], r["peak"], r["first"], r["last"],
                r["wall"] - r["last"]))
        print("(wall: omkapture start to exit; in-flight: mean/peak requests inside the "
              "mock, sampled every 50 ms;\n first/last s: first and last answer, seconds "
              "after start; exit s: last answer to exit)")
        r16 = next((r for r in results if r["conc"] == 16), None)
        if r16 is not None and base["conc"] == 1:
            sp = r16["rate"] / base["rate"]
            print("target (issue 3): concurrency 16 >= %.0fx concurrency 1: %.1fx -> %s%s" % (
                SPEEDUP_TARGET, sp, "MET" if sp >= SPEEDUP_TARGET else "NOT MET",
                " (mock-limited, see above)" if mock_limited and sp < SPEEDUP_TARGET else ""))
        print(flush=True)
        return results

    # -- part 2: accepting a line ------------------------------------------------------

    def pipe_case(self, name, parent, url, inp, empty, extra, nlines, expect_spooled):
        """Median over --repeat of wall(lines) - wall(empty input); a fresh
        spool under parent for every run."""
        net, walls = [], []
        safe = name.replace("/", "-")
        for i in range(self.args.repeat):
            times = {}
            for which, path in (("empty", empty), ("lines", inp)):
                d = os.path.join(parent, "acc-%s-%d-%s.spool" % (safe, i, which))
                conf = self.conf(url, d, shutdown="0s")
                dt, rc, err = self.run(["-c", conf] + extra, stdin_path=path,
                                       tag="%s-%s" % (safe, which))
                self.check(rc == 0, "%s (%s) exit 0" % (name, which),
                           "rc=%r, see %s" % (rc, err))
                if which == "lines" and expect_spooled is not None:
                    k = len(spool_files(d))
                    self.check(k == expect_spooled, "%s: %d requests spooled" % (
                        name, expect_spooled), "found %d" % k)
                times[which] = dt
                shutil.rmtree(d, ignore_errors=True)
            net.append(times["lines"] - times["empty"])
            walls.append(times["lines"])
        t = statistics.median(net)
        return {"name": name, "n": nlines, "us": t * 1e6 / nlines,
                "rate": nlines / t if t > 0 else float("inf"),
                "wall": statistics.median(walls), "fixed": statistics.median(walls) - t}

    def omprog_case(self, name, d, url, inp_path, expect_spooled=None, conc=4):
        """omkapture --omprog (spool dir d) fed one line at a time; per-line latency."""
        with open(inp_path, "rb") as f:
            lines = f.readlines()
        safe = "".join(ch if ch.isalnum() else "-" for ch in name)
        conf = self.conf(url, d, concurrency=conc, shutdown="0s")
        err_path = self.log_path("omprog-" + safe)
        out_path = self.log_path("omprog-%s-stdout" % safe)
        lat, replies = [], []
        with open(err_path, "wb") as err:
            p = subprocess.Popen([self.omk, "--omprog", "-c", conf], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=err, env=omkapture_env(),
                                 bufsize=0)
            try:
                first = p.stdout.readline()
                self.check(first == b"OK\n", "%s: omprog start-up OK" % name, repr(first))
                w, r, pc = p.stdin, p.stdout, time.perf_counter
                t_all = pc()
                for line in lines:
                    t0 = pc()
                    w.write(line)
                    rep = r.readline()
                    lat.append(pc() - t0)
                    replies.append(rep)
                    if rep != b"OK\n":
                        break
                t_all = pc() - t_all
                p.stdin.close()
                replies.append(p.stdout.read())
                rc = p.wait(120)
            except BaseException:
                p.kill()
                p.wait()
                raise
        with open(out_path, "wb") as f:
            f.write(first + b"".join(replies))
        nok = sum(1 for x in replies if x == b"OK\n")
        self.check(rc == 0, "%s: omprog exit 0" % name, "rc=%r, see %s" % (rc, err_path))
        self.check(nok == len(lines) and replies[-1] == b"",
                   "%s: exactly %d OK replies, nothing else" % (name, len(lines)),
                   "got %d OK, see %s" % (nok, out_path))
        if expect_spooled is not None:
            k = len(spool_files(d))
            self.check(k == expect_spooled, "%s: %d requests spooled" % (name, expect_spooled),
                       "found %d" % k)
        shutil.rmtree(d, ignore_errors=True)
        s = sorted(lat)
        return {"name": name, "median": statistics.median(s) * 1e6,
                "p99": percentile(s, 99) * 1e6, "max": s[-1] * 1e6,
                "rate": len(s) / t_all}

    def omprog_up(self, disk, alert, n):
        """--omprog rows with Kapture up (and slow), without and with a backlog:
        the sender works in the same loop while lines come in."""
        a, rows = self.args, []
        with MockKapture(self.work, token=self.token, quiet=True, name="mock-up",
                         latency_ms=a.latency_ms) as m:
            self.logs += [m.log_path, m.record_path]
            before = len(m.successes())
            r = self.omprog_case("spool, up", os.path.join(disk, "o4.spool"), m.url, alert,
                                 None, conc=16)
            r["sent"] = len(m.successes()) - before
            rows.append(r)
            if a.backlog > 0:
                # Kapture was away: a backlog waits in the spool when it comes back.
                d = os.path.join(disk, "o5.spool")
                m.configure(fail_next=-1, fault="503", latency_ms=0)
                inp = self.write_input("backlog.log", ALERT, a.backlog, start=10 ** 6)
                _, rc, err = self.run(["-c", self.conf(m.url, d, shutdown="0s")],
                                      stdin_path=inp, tag="backlog")
                k = len(spool_files(d))
                self.check(rc == 0 and k == a.backlog, "backlog of %d spooled" % a.backlog,
                           "rc=%r, %d spooled, see %s" % (rc, k, err))
                m.configure(fail_next=0, latency_ms=a.latency_ms)
                before = len(m.successes())
                r = self.omprog_case("spool, up, backlog %d" % a.backlog, d, m.url, alert,
                                     None, conc=16)
                r["sent"] = len(m.successes()) - before
                rows.append(r)
        return rows

    def part_accept(self):
        a = self.args
        n = a.lines
        down_url = "http://127.0.0.1:%d%s" % (closed_port(), ADD_PATH)
        disk = os.path.join(self.work, "accept")
        os.makedirs(disk)
        fs, dev = fs_type(disk)
        shm = None
        if not a.no_tmpfs and os.path.isdir("/dev/shm") and fs_type("/dev/shm")[0] == "tmpfs":
            shm = tempfile.mkdtemp(prefix="omk-bench-", dir="/dev/shm")
        print("== 2. cost of accepting a line ==")
        print("spool on %s: %s (%s)%s; Kapture down = %s, a closed port" % (
            disk, fs, dev, "; 'tmpfs' rows: %s (tmpfs)" % shm if shm else "",
            down_url.split("/add")[0]), flush=True)
        alert = self.write_input("accept-alert.log", ALERT, n)
        noise = self.write_input("accept-noise.log", NOISE, n)
        # Lines that never touch the disk cost microseconds: more of them, so
        # the difference to an empty run stands out from start-up noise.
        nb = max(n, a.bulk_lines)
        alert_b = self.write_input("accept-alert-bulk.log", ALERT, nb)
        noise_b = self.write_input("accept-noise-bulk.log", NOISE, nb)
        empty = os.path.join(self.work, "empty.log")
        open(empty, "w").close()
        try:
            rows = [
                self.pipe_case("non-alert", disk, down_url, noise_b, empty, [], nb, 0),
                self.pipe_case("dry-run", disk, down_url, alert_b, empty, ["--dry-run"], nb,
                               None),
                self.pipe_case("spool", disk, down_url, alert, empty, [], n, n),
            ]
            if shm:
                rows.append(self.pipe_case("spool/tmpfs", shm, down_url, alert, empty, [],
                                           n, n))
            # The dry run's output, once (not timed): one request per line.
            d = os.path.join(disk, "dry-verify.spool")
            out_path = self.log_path("dry-run-stdout")
            with open(out_path, "wb") as out:
                _, rc, _ = self.run(["-c", self.conf(down_url, d, shutdown="0s"),
                                     "--dry-run"], stdin_path=alert, stdout=out,
                                    tag="dry-verify")
            with open(out_path, "rb") as f:
                ndry = sum(1 for line in f if b'"request":' in line)
            self.check(rc == 0 and ndry == n, "dry-run prints %d requests" % n,
                       "rc=%r, %d lines" % (rc, ndry))

            print()
            print("pipe mode (stdin from a file, stdout to /dev/null), median of %d runs:"
                  % a.repeat)
            print("%-13s %7s %10s %10s %9s %9s" % ("input", "lines", "us/line", "lines/s",
                                                   "wall s", "fixed s"))
            for r in rows:
                print("%-13s %7d %10.2f %10s %9.3f %9.3f" % (
                    r["name"], r["n"], r["us"], fmt_rate(r["rate"]), r["wall"], r["fixed"]))
            print("(us/line, lines/s: from wall(lines) - wall(empty input); "
                  "fixed s: start-up + exit)")

            orows = [
                self.omprog_case("non-alert", os.path.join(disk, "o1.spool"), down_url,
                                 noise, 0),
                self.omprog_case("spool", os.path.join(disk, "o2.spool"), down_url, alert, n),
            ]
            if shm:
                orows.append(self.omprog_case("spool/tmpfs", os.path.join(shm, "o3.spool"),
                                              down_url, alert, n))
            if not a.no_up:
                orows += self.omprog_up(disk, alert, n)
            print()
            print("--omprog, one line at a time (latency: write the line -> read its reply):")
            print("%-22s %10s %10s %10s %10s" % ("input", "median us", "p99 us", "max us",
                                                 "lines/s"))
            for r in orows:
                print("%-22s %10.1f %10.1f %10.1f %10s%s" % (
                    r["name"], r["median"], r["p99"], r["max"], fmt_rate(r["rate"]),
                    "   (%d tickets created meanwhile)" % r["sent"] if "sent" in r else ""))
            print("(Kapture down, except 'up': the mock answers after %d ms, "
                  "concurrency 16; 'backlog': the spool already held that many "
                  "requests)" % a.latency_ms)
            print(flush=True)
        finally:
            if shm:
                shutil.rmtree(shm, ignore_errors=True)
        return rows, orows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--omkapture", required=True, help="the omkapture binary")
    p.add_argument("--requests", type=int, default=1000, help="spooled requests (part 1)")
    p.add_argument("--latency-ms", type=int, default=50, help="mock latency (part 1)")
    p.add_argument("--concurrency", default="1,4,16", help="comma list (part 1)")
    p.add_argument("--lines", type=int, default=2000, help="lines per run (part 2)")
    p.add_argument("--bulk-lines", type=int, default=100000,
                   help="lines for the pipe rows that do not spool (part 2)")
    p.add_argument("--repeat", type=int, default=3, help="pipe runs per row (part 2)")
    p.add_argument("--tmpdir", help="parent of the work dir (default: $TMPDIR or /tmp)")
    p.add_argument("--no-tmpfs", action="store_true", help="skip the /dev/shm rows")
    p.add_argument("--no-up", action="store_true",
                   help="skip the --omprog rows with Kapture up")
    p.add_argument("--backlog", type=int, default=5000,
                   help="requests already spooled for the last --omprog row (0: skip)")
    p.add_argument("--skip-drain", action="store_true")
    p.add_argument("--skip-accept", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the work dir")
    a = p.parse_args()
    try:
        a.concurrency = [int(x) for x in a.concurrency.split(",") if x.strip()]
    except ValueError:
        p.error("--concurrency: comma-separated integers")
    if (not a.concurrency or min(a.concurrency) < 1 or max(a.concurrency) > 256
            or a.requests < 1 or a.lines < 1 or a.repeat < 1 or a.latency_ms < 0):
        p.error("out of range")
    a.omkapture = os.path.abspath(a.omkapture)
    if not os.access(a.omkapture, os.X_OK):
        p.error("not executable: " + a.omkapture)

    work = tempfile.mkdtemp(prefix="omk-bench-", dir=a.tmpdir)
    os.chmod(work, 0o700)
    ver = subprocess.run([a.omkapture, "--version"], capture_output=True, text=True)
    print("omkapture bench: %s (%s); %d CPUs, load %.2f; Python %s; work dir %s" % (
        ver.stdout.strip(), a.omkapture, os.cpu_count() or 0, os.getloadavg()[0],
        sys.version.split()[0], work), flush=True)
    b = Bench(a, work)
    rc = 0
    try:
        if not a.skip_drain:
            b.part_drain()
        if not a.skip_accept:
            b.part_accept()
    except BenchError as e:
        b.problems.append(str(e))
        print("ERROR: %s" % e)
    finally:
        print("load average at the end: %.2f %.2f %.2f (other work on the machine "
              "skews the figures)" % os.getloadavg())
        leaks = b.token_leaks()
        if leaks:
            b.problems.append("token found in " + ", ".join(leaks))
        print("token in any collected log or output: %s" % ("YES: " + ", ".join(leaks)
                                                            if leaks else "no"))
        if b.problems:
            print("%d check(s) failed:" % len(b.problems))
            for x in b.problems:
                print("  - " + x)
            rc = 1
        else:
            print("all correctness checks passed")
        if a.keep or b.problems:
            print("work dir kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
