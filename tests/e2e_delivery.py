#!/usr/bin/env python3
"""Integration test of durable delivery (issue 3): the spool, the sender's
retries and back-off, and what the helper says about them.

    python3 tests/e2e_delivery.py --omkapture build/plugin/omkapture [--keep]
        [--only CASE[,CASE...]]

Every case has its own temp dir, spool and mock Kapture on 127.0.0.1 (no
traffic goes anywhere else) and asserts exact counts: every request body
carries a stable `omkapture_ref`, so "delivered exactly once" is "that ref
has exactly one successful request at the mock".

  outage      pipe mode, stdin kept open: 40 alerts while Kapture answers
              503; all 40 are in spool/ at once (reading never waits on the
              network); during a 4 s outage the helper only probes and idles;
              SIGUSR1 counts them; after recovery each of the 40 arrives
              exactly once; EOF -> exit 0.
  fault-*     429 (Retry-After 2 is honoured), hang (timeout -> retry),
              reset, 502 HTML page, 500: two faults each, every ticket
              exactly once, stderr names the reason.
  failed      "status":"failed": the request goes to failed/ with a .why,
              is not retried; `spool` / `--spool-status` list it;
              `spool --retry-failed` re-queues it; a next run delivers it.
  auth        "Invalid Auth Key": the hold is logged with the number waiting,
              requests stay spooled and go after auth_retry once accepted;
              with a wrong token and auth_retry = 60s, fixing the token file
              and SIGHUP delivers at once.
  omprog      --omprog: OK replies while Kapture is down; [spool] max = 5
              makes the 6th alert's reply "spool full" (other lines still OK);
              after the drain the refused line is accepted and ticketed.
  omprog-bytes  [spool] max_bytes refuses like max does.
  pipe-full   pipe mode at [spool] max: reading pauses, nothing is lost.
  same-key    three requests of one dedup key: during an outage only the
              oldest is tried; when Kapture comes back slow (0.7 s an answer)
              they are created one at a time, oldest first, each once, and
              the helper idles while it waits.
  shutdown    EOF (503) and SIGTERM (hang) with Kapture down: exit 0 within
              shutdown_timeout + 2 s, requests stay spooled (and `spool`
              lists them); a next run replays exactly them.
  resend-ref  the same line handled again a minute later (a re-send after a
              crash that lost the dedup state file) carries the same
              omkapture_ref.
  ticket      `ticket` while down: "ticket spooled as ..." (exit 0), the next
              run delivers it; `ticket --wait` through two 503s: created;
              "failed": exit 3, request in failed/; a second `ticket` with the
              same title while the first is still spooled; `ticket --wait`
              whose request another instance delivered.
  files       0700 dirs, 0600 files; a symlinked spool dir (or spool/ inside
              it) is refused: exit 3 and a clear error, in --omprog mode as
              the start-up reply.
Every case also checks that its random API token appears neither in stdout,
stderr nor in any file under the spool dir.

Timing knobs that keep it fast: timeout 2s, connect_timeout 1s, retry_max 2s,
auth_retry 1s, shutdown_timeout 2s. Exit 0 if every check passed, else 1.
"""

import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import MockKapture, wait_for, write_omkapture_config  # noqa: E402

ENV = {"TZ": "UTC"}
RUN_TIMEOUT = 30          # any single omkapture run; a hang is a failure, not a stall
SHUTDOWN_TIMEOUT = 2      # [spool] shutdown_timeout in seconds

RULES = (
    "[alert]\n"
    "match = ALERT (?<tag>\\S+) (?<id>\\d+)\n"
    "title = Alert ${tag} #${id} on ${host}\n"
    "details = ${line}\n"
    "email = ops@example.com\n"
    "due = +4h\n"
    "field.queue = Infra\n"
    "\n"
    "# Every match is a new ticket (suppress = 0s), all of one key per host:\n"
    "# several requests of one key wait in the spool together.\n"
    "[same-key]\n"
    "match = SAMEKEY (?<n>\\d+)\n"
    "key = ${host}\n"
    "suppress = 0s\n"
    "title = Same key ${n} on ${host}\n"
    "details = ${line}\n"
)

KAPTURE_KNOBS = {"timeout": "2s", "connect_timeout": "1s", "retry_max": "2s",
                 "auth_retry": "1s", "concurrency": "4"}
SPOOL_KNOBS = {"shutdown_timeout": "%ds" % SHUTDOWN_TIMEOUT}


def alert(tag, i, host="web01"):
    """One RFC 3164 alert line; (tag, i) is its dedup key, so distinct
    (tag, i) pairs are distinct tickets."""
    return ("<11>Nov 27 10:%02d:%02d %s app: ALERT %s %d\n"
            % (i // 60 % 60, i % 60, host, tag, i)).encode()


def samekey(i, host="web01"):
    return ("<11>Nov 27 11:00:%02d %s app: SAMEKEY %d\n" % (i % 60, host, i)).encode()


def cpu_seconds(pid):
    """User + system CPU time of a live process, from /proc; None if unknown."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def conf_extra(kapture=None, spool=None):
    """Config text appended after write_omkapture_config's sections (the
    INI reader lets a section be re-opened)."""
    k = dict(KAPTURE_KNOBS, **(kapture or {}))
    s = dict(SPOOL_KNOBS, **(spool or {}))
    return ("\n[kapture]\n" + "".join("%s = %s\n" % kv for kv in k.items()) +
            "\n[spool]\n" + "".join("%s = %s\n" % kv for kv in s.items()))


# -- the spool on disk ----------------------------------------------------

def spool_dir(d):
    return os.path.join(d, "omkapture.spool")


def req_names(d, sub="spool"):
    p = os.path.join(spool_dir(d), sub)
    try:
        return sorted(n for n in os.listdir(p) if n.endswith(".req"))
    except FileNotFoundError:
        return []


def parse_req(path):
    """(header dict, body bytes) of one spool file; raises on a bad file."""
    with open(path, "rb") as f:
        data = f.read()
    head, sep, body = data.partition(b"\n\n")
    if not sep:
        raise ValueError("%s: no empty line after the header" % path)
    lines = head.decode("utf-8").split("\n")
    if lines[0] != "omkapture-spool 1":
        raise ValueError("%s: first line %r" % (path, lines[0]))
    hdr = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(" ")
        hdr[k] = v
    return hdr, body


def body_obj(body):
    """The ticket object of a request body (array of one object, or object)."""
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict):
        return body[0]
    return body if isinstance(body, dict) else None


def spooled_refs(checks, name, d, sub="spool"):
    """Refs of the requests in spool/ (or failed/), checking each file's
    header ref equals its body's omkapture_ref."""
    refs, bad = [], []
    for n in req_names(d, sub):
        try:
            hdr, body = parse_req(os.path.join(spool_dir(d), sub, n))
            obj = body_obj(json.loads(body))
            if obj is None or obj.get("omkapture_ref") != hdr.get("ref"):
                bad.append(n)
            refs.append(hdr.get("ref"))
        except (OSError, ValueError) as e:
            bad.append("%s: %s" % (n, e))
    checks.check(not bad, "%s: every file in %s/ is a well-formed request whose "
                 "header ref is its body's omkapture_ref" % (name, sub), bad[:5])
    return refs


def ref_of(rec):
    obj = body_obj(rec.get("body"))
    return obj.get("omkapture_ref") if obj else None


def success_refs(mock):
    return Counter(ref_of(r) for r in mock.successes())


def expected_tickets(checks, name, mock, tag, n):
    """The mock created exactly the tickets of alert(tag, 0..n-1), each once."""
    succ = mock.successes()
    titles = sorted(body_obj(s["body"])["title"] for s in succ)
    checks.equal(titles, sorted("Alert %s #%d on web01" % (tag, i) for i in range(n)),
                 "%s: exactly the %d expected tickets" % (name, n))
    exactly_once(checks, name, mock, sorted(set(ref_of(s) for s in succ)))


def exactly_once(checks, name, mock, want_refs):
    """Every ref in want_refs succeeded exactly once, and nothing else did."""
    got = success_refs(mock)
    want = Counter(want_refs)
    dup = {r: n for r, n in got.items() if n > 1}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    checks.check(len(want) == len(want_refs) and not dup and not missing and not extra,
                 "%s: each of the %d tickets arrived exactly once" % (name, len(want)),
                 "duplicates: %s\nmissing: %s\nunexpected: %s\nwanted refs not distinct: %s"
                 % (dup, missing, extra, len(want) != len(want_refs)))


def no_token(checks, name, token, texts, d):
    tok = token.encode()
    leaked = [label for label, data in texts if tok in data]
    checks.check(not leaked, "%s: the token appears in no output" % name, leaked)
    hits = mocklib.files_containing(spool_dir(d), tok)
    checks.check(not hits, "%s: the token is in no file under the spool dir" % name, hits)


# -- running omkapture ----------------------------------------------------

class Helper:
    """omkapture as a long-running process: stdin a pipe we keep open,
    stderr to a file; stdout a pipe (read with reply()) in --omprog mode,
    else a file. (Not mocklib.Helper, which keeps output in memory: here
    every helper's output stays in its case dir, for --keep.)"""

    def __init__(self, omk, d, label, args, omprog=False, env=None):
        self.label = label
        self.err_path = os.path.join(d, label + ".stderr")
        self.out_path = os.path.join(d, label + ".stdout")
        self._err = open(self.err_path, "wb")
        self._out = None if omprog else open(self.out_path, "wb")
        self.outbuf = b""       # omprog: bytes read but not yet split
        self.outall = b""       # omprog: everything read from stdout
        self.proc = subprocess.Popen(
            [omk] + list(args) + (["--omprog"] if omprog else []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if omprog else self._out,
            stderr=self._err, env=mocklib.omkapture_env(dict(ENV, **(env or {}))))
        self.rc = None

    @property
    def pid(self):
        return self.proc.pid

    def feed(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self):
        if not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass

    def reply(self, timeout=5.0):
        """One omprog reply line (without the newline), or None on timeout/EOF.
        The timeout is multiplied by mocklib.TIME_SCALE (valgrind)."""
        deadline = time.monotonic() + timeout * mocklib.TIME_SCALE
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.outbuf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self.outbuf += chunk
            self.outall += chunk
        line, _, self.outbuf = self.outbuf.partition(b"\n")
        return line.decode("utf-8", "replace")

    def send(self, line, timeout=5.0):
        """Write one line and return (reply, seconds it took)."""
        t0 = time.monotonic()
        self.feed(line)
        r = self.reply(timeout)
        return r, time.monotonic() - t0

    def wait(self, timeout):
        """Exit status, or None after killing it when it outlived timeout."""
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.rc = None
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            rest = self.proc.stdout.read()
            self.outbuf += rest
            self.outall += rest
            self.proc.stdout.close()
        return self.rc

    def stop(self):
        """Make sure it is gone (cleanup after a failed check)."""
        self.close_stdin()
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait(10)
        self._err.close()
        if self._out:
            self._out.close()

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read()

    def stdout(self):
        if self._out is None:
            return self.outall
        self._out.flush()
        with open(self.out_path, "rb") as f:
            return f.read()


def run(omk, args, stdin=b"", timeout=RUN_TIMEOUT, env=None):
    """(rc, stdout, stderr, seconds); rc None if killed after timeout."""
    t0 = time.monotonic()
    rc, out, err = mocklib.run_omkapture(omk, args, stdin, dict(ENV, **(env or {})),
                                         timeout)
    return rc, out, err, time.monotonic() - t0


def show(label, rc, out, err):
    print("--- %s: rc=%s, stdout %d bytes, stderr:\n%s" % (
        label, rc, len(out), err.decode("utf-8", "replace")[-2500:] or "(empty)"))
    if out:
        print("--- %s stdout:\n%s" % (label, out.decode("utf-8", "replace")[-1500:]))


def show_helper(h):
    show(h.label, h.rc, h.stdout(), h.stderr())


class Mock(MockKapture):
    """MockKapture whose record reader skips a last line still being
    written (the mock appends while we poll)."""

    def requests(self):
        try:
            with open(self.record_path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            return []
        return [json.loads(ln) for ln in text.split("\n")[:-1] if ln.strip()]


class Case:
    """A temp dir, a random token, a mock and a config for one case."""

    def __init__(self, omk, base, name, mock_faults=None, kapture=None, spool=None):
        self.omk = omk
        self.name = name
        self.d = os.path.join(base, name)
        os.mkdir(self.d)
        self.token = "tok-" + os.urandom(12).hex()
        self.mock = Mock(self.d, token=self.token, shape="array", quiet=True,
                         **(mock_faults or {}))
        self.kapture, self.spool = kapture, spool
        self.helpers = []
        self.texts = []         # (label, bytes) of every output, for the token check

    def __enter__(self):
        self.mock.start()
        try:
            self.conf = write_omkapture_config(self.d, self.mock.url, self.token, RULES,
                                               extra=conf_extra(self.kapture, self.spool))
        except BaseException:
            self.mock.stop()
            raise
        return self

    def __exit__(self, *exc):
        for h in self.helpers:
            try:
                h.stop()
            except Exception as e:   # noqa: BLE001 - the others must stop too
                print("cleanup of %s: %s" % (h.label, e))
        self.mock.stop()
        return False

    def helper(self, label, args=(), omprog=False, env=None, conf=None):
        h = Helper(self.omk, self.d, label, ["-c", conf or self.conf] + list(args),
                   omprog, env)
        self.helpers.append(h)
        return h

    def finish(self, h, timeout):
        """Close stdin, wait, record its output; returns rc."""
        h.close_stdin()
        rc = h.wait(timeout)
        show_helper(h)
        self.texts += [(h.label + " stdout", h.stdout()), (h.label + " stderr", h.stderr())]
        return rc

    def run(self, label, args, stdin=b"", timeout=RUN_TIMEOUT, env=None, conf=None):
        rc, out, err, secs = run(self.omk, ["-c", conf or self.conf] + list(args),
                                 stdin, timeout, env)
        show(label, rc, out, err)
        self.texts += [(label + " stdout", out), (label + " stderr", err)]
        return rc, out, err, secs

    def check_token(self, checks):
        no_token(checks, self.name, self.token, self.texts, self.d)


# -- cases ----------------------------------------------------------------

def case_outage(checks, omk, base):
    name = "outage"
    n_alerts = 40
    with Case(omk, base, name, {"fault": "503", "fail_next": -1}) as c:
        h = c.helper("helper")
        t0 = time.monotonic()
        h.feed(b"".join(alert("out", i) for i in range(n_alerts)))
        spooled = wait_for(lambda: len(req_names(c.d)) >= n_alerts, 10)
        t_spooled = time.monotonic() - t0
        checks.check(spooled, "%s: all %d alerts are in spool/ (%.2fs after writing them)"
                     % (name, n_alerts, t_spooled), "%d files" % len(req_names(c.d)))
        checks.check(t_spooled < 5, "%s: spooling did not wait on the network "
                     "(%.2fs < 5s)" % (name, t_spooled))
        refs = spooled_refs(checks, name, c.d)
        checks.equal(len(set(refs)), n_alerts, "%s: %d distinct refs spooled" % (name, n_alerts))

        # The outage: only probes, one at a time after the first burst.
        n_start = len(c.mock.requests())
        cpu0 = cpu_seconds(h.pid)
        time.sleep(4.0)
        cpu1 = cpu_seconds(h.pid)
        reqs = c.mock.requests()
        if cpu0 is not None and cpu1 is not None:
            checks.check(cpu1 - cpu0 < 0.5, "%s: the helper idles while it waits (%.2fs CPU "
                         "in 4s)" % (name, cpu1 - cpu0))
        n_outage = len(reqs)
        checks.check(n_outage <= 16, "%s: during the ~4s outage the mock saw only %d requests "
                     "(<= 16: probes, not %d x attempts)" % (name, n_outage, n_alerts),
                     "%d at the start of the window" % n_start)
        checks.check(n_outage >= 2, "%s: the helper did probe during the outage (%d requests)"
                     % (name, n_outage))
        checks.check(all(r["status"] == 503 for r in reqs),
                     "%s: every request during the outage got 503" % name)
        checks.equal(len(req_names(c.d)), n_alerts,
                     "%s: still %d requests in spool/ during the outage" % (name, n_alerts))
        checks.equal(req_names(c.d, "failed"), [], "%s: nothing in failed/" % name)
        # SIGUSR1: the counters say the same.
        os.kill(h.pid, signal.SIGUSR1)
        stats = {}

        def usr1_line():
            for ln in h.stderr().splitlines():
                if ln.startswith(b"{") and b'"spooled"' in ln:
                    return ln
            return None
        ln = wait_for(usr1_line, 5)
        try:
            stats = json.loads(ln) if ln else {}
        except ValueError:
            checks.check(False, "%s: the SIGUSR1 line is JSON" % name, ln)
        checks.equal({k: stats.get(k) for k in ("spooled", "sent", "failed")},
                     {"spooled": n_alerts, "sent": 0, "failed": 0},
                     "%s: SIGUSR1 counters: %d spooled, 0 sent, 0 failed" % (name, n_alerts))
        checks.check(isinstance(stats.get("retried"), int) and stats["retried"] >= 1,
                     "%s: SIGUSR1 counters: retried >= 1" % name, stats.get("retried"))

        # Recovery.
        t_rec = time.monotonic()
        c.mock.configure(fail_next=0)
        wait_for(lambda: len(c.mock.successes()) >= n_alerts and not req_names(c.d), 20)
        print("%s: recovered in %.2fs" % (name, time.monotonic() - t_rec))
        time.sleep(0.3)       # a duplicate would show up now
        exactly_once(checks, name, c.mock, refs)
        checks.equal(req_names(c.d), [], "%s: spool/ is empty after recovery" % name)
        checks.equal(req_names(c.d, "failed"), [], "%s: failed/ is empty" % name)
        checks.check(h.proc.poll() is None, "%s: the helper is still running (stdin open)" % name)
        t_eof = time.monotonic()
        rc = c.finish(h, 10)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        checks.check(time.monotonic() - t_eof < 3, "%s: exits promptly at EOF with an "
                     "empty spool (%.2fs)" % (name, time.monotonic() - t_eof))
        err = h.stderr()
        checks.check(b"Kapture unavailable (HTTP 503" in err,
                     "%s: stderr says \"Kapture unavailable (HTTP 503 ...)\"" % name)
        checks.check(b"requests waiting in the spool" in err,
                     "%s: stderr says how many requests wait" % name)
        checks.equal(h.stdout(), b"", "%s: nothing on stdout in pipe mode" % name)
        c.check_token(checks)


# fault -> (mock settings, substring stderr must hold)
FAULTS = [
    ("429", {"fault": "429", "retry_after": "2"},
     b"Kapture unavailable (HTTP 429: Too Many Requests, Retry-After)"),
    ("hang", {"fault": "hang"}, b"Kapture unavailable (network: "),
    ("reset", {"fault": "reset"}, b"Kapture unavailable (network: "),
    ("502html", {"fault": "502html"}, b"Kapture unavailable (HTTP 502 (not JSON))"),
    ("500", {"fault": "500"}, b"Kapture unavailable (HTTP 500: injected fault 500)"),
]
FAULT_DETAIL = {"hang": re.compile(rb"network: [^)]*[Tt]imed? ?out"),
                "reset": re.compile(rb"network: [^)]*reset")}


def case_fault(checks, omk, base, fault, settings, says):
    """Three alerts, the first two requests faulted: each ticket once."""
    name = "fault-" + fault
    n_alerts, n_faults = 3, 2
    with Case(omk, base, name, dict(settings, fail_next=n_faults)) as c:
        h = c.helper("helper")
        h.feed(b"".join(alert(fault, i) for i in range(n_alerts)))
        wait_for(lambda: len(req_names(c.d)) >= n_alerts or len(c.mock.requests()) > 0, 10)
        ok = wait_for(lambda: len(c.mock.successes()) >= n_alerts and not req_names(c.d), 20)
        checks.check(ok, "%s: all %d tickets delivered" % (name, n_alerts))
        time.sleep(0.3)
        reqs = c.mock.requests()
        faulted = [r for r in reqs if r["fault"]]
        checks.equal(len(faulted), n_faults, "%s: the mock faulted %d requests" % (name, n_faults))
        refs = sorted(set(ref_of(r) for r in reqs))
        checks.equal(len(refs), n_alerts, "%s: %d distinct refs reached the mock" % (name, n_alerts))
        exactly_once(checks, name, c.mock, refs)
        # Each faulted request was retried (and then succeeded); nothing else
        # was sent twice.
        per_ref = Counter(ref_of(r) for r in reqs)
        want = Counter({r: 1 for r in refs})
        want.update(ref_of(r) for r in faulted)
        checks.equal(dict(per_ref), dict(want),
                     "%s: requests per ref = 1 + the faults it got" % name)
        if fault == "429":
            late = []
            for f in faulted:
                nxt = [r for r in reqs if ref_of(r) == ref_of(f) and r["n"] > f["n"]]
                gap = nxt[0]["time"] - f["time"] if nxt else None
                print("%s: ref %s retried %.3fs after its 429" % (name, ref_of(f), gap or -1))
                if gap is None or gap < 2.0 - 0.005:
                    late.append((ref_of(f), gap))
            checks.check(not late, "%s: each retry came >= 2s (Retry-After) after its 429"
                         % name, late)
        if fault == "hang":
            # curl gave up after timeout = 2s: the retry is >= 2s later.
            gaps = []
            for f in faulted:
                nxt = [r for r in reqs if ref_of(r) == ref_of(f) and r["n"] > f["n"]]
                gaps.append(nxt[0]["time"] - f["time"] if nxt else None)
            checks.check(all(g is not None and g >= 1.9 for g in gaps),
                         "%s: a hung request is retried after the 2s timeout" % name, gaps)
        rc = c.finish(h, 10)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        err = h.stderr()
        checks.check(says in err, "%s: stderr says %r" % (name, says.decode()))
        if fault in FAULT_DETAIL:
            checks.check(FAULT_DETAIL[fault].search(err),
                         "%s: stderr gives curl's reason (%s)" % (name, FAULT_DETAIL[fault].pattern))
        checks.equal(req_names(c.d), [], "%s: spool/ empty" % name)
        checks.equal(req_names(c.d, "failed"), [], "%s: failed/ empty" % name)
        c.check_token(checks)


class _PerThreadStdout:
    """sys.stdout stand-in: threads that registered a buffer write there
    (so side-by-side sub-cases do not interleave their logs)."""

    def __init__(self, real):
        self.real = real
        self.local = threading.local()

    def write(self, text):
        buf = getattr(self.local, "buf", None)
        if buf is None:
            return self.real.write(text)
        buf.append(text)
        return len(text)

    def flush(self):
        self.real.flush()


def case_faults(checks, omk, base):
    """The fault sub-cases are independent: run them side by side, each
    one's log printed whole when it is done."""
    real = sys.stdout
    out = _PerThreadStdout(real)
    lock = threading.Lock()

    def one(fault, settings, says):
        out.local.buf = []
        try:
            case_fault(checks, omk, base, fault, settings, says)
        except Exception as e:   # noqa: BLE001
            checks.check(False, "fault-%s raised %s: %s" % (fault, type(e).__name__, e))
        finally:
            text, out.local.buf = "".join(out.local.buf), None
            with lock:
                real.write(text)
                real.flush()

    threads = [threading.Thread(target=one, args=f) for f in FAULTS]
    sys.stdout = out
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.stdout = real


def case_failed(checks, omk, base):
    name = "failed"
    with Case(omk, base, name, {"fault": "failed", "fail_next": 1}) as c:
        h = c.helper("helper")
        h.feed(alert("rej", 1) + alert("rej", 2))
        ok = wait_for(lambda: len(c.mock.requests()) >= 2 and not req_names(c.d), 10)
        checks.check(ok, "%s: both requests were answered and left spool/" % name)
        time.sleep(1.5)        # a retry (which must not happen) would come now
        rc = c.finish(h, 10)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        reqs = c.mock.requests()
        rejected = [r for r in reqs if r["fault"] == "failed"]
        checks.equal(len(rejected), 1, "%s: the mock rejected one request" % name)
        checks.equal(len(reqs), 2, "%s: two requests in all: the rejected one is not retried"
                     % name)
        bad_ref = ref_of(rejected[0]) if rejected else None
        good = [ref_of(r) for r in reqs if r["result"] == "success"]
        checks.equal(len(good), 1, "%s: the other ticket was created" % name)
        failed = req_names(c.d, "failed")
        checks.equal(len(failed), 1, "%s: one request in failed/" % name)
        fail_refs = spooled_refs(checks, name, c.d, "failed")
        checks.equal(fail_refs, [bad_ref], "%s: failed/ holds the rejected request" % name)
        why = {}
        if failed:
            # The sidecar is the request's file name plus ".why".
            wpath = os.path.join(spool_dir(c.d), "failed", failed[0] + ".why")
            try:
                with open(wpath, encoding="utf-8") as f:
                    why = json.load(f)
            except (OSError, ValueError) as e:
                checks.check(False, "%s: %s.why is readable JSON" % (name, failed[0]), e)
        checks.equal({k: why.get(k) for k in ("status", "message", "rule", "ref")},
                     {"status": 200, "message": "internal error", "rule": "alert",
                      "ref": bad_ref}, "%s: the .why holds status, message, rule, ref" % name)
        checks.check(isinstance(why.get("time"), str) and
                     re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", why.get("time", "")),
                     "%s: the .why has a time" % name, why.get("time"))
        checks.check("internal error" in str(why.get("response")) and
                     "failed" in str(why.get("response")),
                     "%s: the .why holds Kapture's response" % name, why.get("response"))
        err = h.stderr()
        checks.check(b"Kapture rejected the ticket (HTTP 200: internal error)" in err and
                     b"/failed/" in err,
                     "%s: stderr says it was rejected and where it went" % name)

        # The listing, two spellings.
        rc1, out1, _, _ = c.run("spool", ["spool"])
        rc2, out2, _, _ = c.run("spool-status", ["--spool-status"])
        checks.equal((rc1, rc2), (0, 0), "%s: `spool` and `--spool-status` exit 0" % name)
        checks.equal(out1, out2, "%s: `spool` and `--spool-status` print the same" % name)
        text = out1.decode("utf-8", "replace")
        checks.check(re.search(r"spool \S+: 0 waiting", text),
                     "%s: the listing says 0 waiting" % name)
        checks.check(re.search(r"failed \S+/failed: 1\b", text),
                     "%s: the listing counts 1 failed" % name)
        checks.check(failed and failed[0] in text and ("ref %s" % bad_ref) in text and
                     "HTTP 200: internal error" in text,
                     "%s: the listing names the request, its ref and the reason" % name, text)

        # Re-queue, then a next run delivers it.
        rc, out, _, _ = c.run("retry-failed", ["spool", "--retry-failed"])
        checks.equal(rc, 0, "%s: `spool --retry-failed` exits 0" % name)
        checks.check(failed and ("re-queued %s" % failed[0]).encode() in out and
                     b"1 request re-queued" in out,
                     "%s: --retry-failed says what it re-queued" % name)
        checks.equal(req_names(c.d), failed, "%s: the request is back in spool/" % name)
        checks.equal(os.listdir(os.path.join(spool_dir(c.d), "failed")), [],
                     "%s: failed/ is empty (the .why went too)" % name)
        rc, out, err, secs = c.run("replay", [], b"")
        checks.equal(rc, 0, "%s: the next run exits 0" % name)
        exactly_once(checks, name, c.mock, good + [bad_ref])
        checks.equal(req_names(c.d), [], "%s: spool/ empty after the replay" % name)
        c.check_token(checks)


def case_auth(checks, omk, base):
    name = "auth"
    n_alerts = 3
    with Case(omk, base, name, {"fault": "auth", "fail_next": -1}) as c:
        h = c.helper("helper")
        h.feed(b"".join(alert("auth", i) for i in range(n_alerts)))
        said = wait_for(lambda: b"Kapture refused the token" in h.stderr(), 10)
        checks.check(said, "%s: stderr says \"Kapture refused the token\"" % name)
        time.sleep(1.5)
        err = h.stderr().decode("utf-8", "replace")
        checks.check(re.search(r"Kapture refused the token \(HTTP 200: Invalid Auth Key\): "
                               r"%d requests waiting in the spool" % n_alerts, err),
                     "%s: ... with the HTTP status, message and %d requests waiting"
                     % (name, n_alerts), err[-800:])
        checks.check("SIGHUP" in err, "%s: ... and says a SIGHUP picks up a fixed token" % name)
        checks.equal(len(req_names(c.d)), n_alerts,
                     "%s: the %d requests stay in spool/" % (name, n_alerts))
        checks.equal(req_names(c.d, "failed"), [], "%s: nothing in failed/" % name)
        reqs = c.mock.requests()
        checks.check(len(reqs) <= n_alerts + 4, "%s: while refused, only a few attempts (%d in "
                     "~2s with auth_retry = 1s)" % (name, len(reqs)))
        t_ok = time.monotonic()
        c.mock.configure(fail_next=0)
        ok = wait_for(lambda: len(c.mock.successes()) >= n_alerts and not req_names(c.d), 10)
        secs = time.monotonic() - t_ok
        checks.check(ok and secs < 5, "%s: accepted again -> delivered after auth_retry "
                     "(%.2fs)" % (name, secs))
        time.sleep(0.3)
        exactly_once(checks, name, c.mock, sorted(set(ref_of(r) for r in c.mock.requests())))
        rc = c.finish(h, 10)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        c.check_token(checks)

    # A wrong token and a long auth_retry: fixing the file + SIGHUP goes at once.
    name = "auth-sighup"
    with Case(omk, base, name, kapture={"auth_retry": "60s"}) as c:
        good = c.token
        bad = "bad-" + os.urandom(12).hex()
        tok_file = os.path.join(c.d, "omkapture.token")
        with open(tok_file, "w") as f:
            f.write(bad + "\n")
        h = c.helper("helper")
        h.feed(b"".join(alert("hup", i) for i in range(n_alerts)))
        said = wait_for(lambda: b"Kapture refused the token" in h.stderr(), 10)
        checks.check(said, "%s: stderr says \"Kapture refused the token\"" % name)
        checks.check(b"next try in 60s" in h.stderr(),
                     "%s: ... and that the next try is in 60s" % name)
        time.sleep(1.0)
        n_held = len(c.mock.requests())
        checks.check(0 < n_held <= n_alerts, "%s: during the hold no further attempts "
                     "(%d requests, all in the first burst)" % (name, n_held))
        checks.check(all(not r["auth_ok"] for r in c.mock.requests()),
                     "%s: the mock rejected the wrong token" % name)
        checks.equal(len(req_names(c.d)), n_alerts, "%s: requests stay spooled" % name)
        with open(tok_file, "w") as f:
            f.write(good + "\n")
        t_hup = time.monotonic()
        os.kill(h.pid, signal.SIGHUP)
        ok = wait_for(lambda: len(c.mock.successes()) >= n_alerts and not req_names(c.d), 15)
        secs = time.monotonic() - t_hup
        checks.check(ok and secs < 5, "%s: after fixing the token and SIGHUP all %d are "
                     "delivered at once (%.2fs, auth_retry is 60s)" % (name, n_alerts, secs))
        time.sleep(0.3)
        exactly_once(checks, name, c.mock, sorted(set(ref_of(r) for r in c.mock.requests())))
        rc = c.finish(h, 10)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        checks.check(b"reloaded" in h.stderr(), "%s: stderr says it reloaded" % name)
        c.check_token(checks)
        no_token(checks, name + " (wrong token)", bad, c.texts, c.d)


def case_omprog(checks, omk, base):
    name = "omprog"
    cap = 5
    # Kapture "down" as in hanging: a reply that waited on the network would
    # take the 2 s timeout.
    with Case(omk, base, name, {"fault": "hang", "fail_next": -1},
                  spool={"max": str(cap)}) as c:
        h = c.helper("helper", omprog=True)
        first = h.reply(10)
        checks.equal(first, "OK", "%s: start-up reply is OK" % name)
        replies, slow = [], []
        for i in range(cap):
            r, secs = h.send(alert("omp", i))
            replies.append(r)
            if secs > 1.5 * mocklib.TIME_SCALE:
                slow.append((i, round(secs, 2)))
        checks.equal(replies, ["OK"] * cap, "%s: with Kapture hanging the first %d alerts "
                     "get OK (spooled)" % (name, cap))
        checks.check(not slow, "%s: each OK came fast (< 1.5s while requests hang for the 2s "
                     "timeout: spooling does not wait on the network)" % name, slow)
        checks.equal(len(req_names(c.d)), cap, "%s: %d requests in spool/" % (name, cap))
        sends = 1 + cap   # replies so far, the start-up OK included
        # At the cap rsyslog is told to back off, but the alert is kept:
        # rsyslog 8.2302 drops the message it is retrying if it is stopped
        # then (rsyslog#5364).
        kept_line = alert("omp", cap)
        r, _ = h.send(kept_line)
        sends += 1
        checks.check(r is not None and r != "OK" and "spool full" in r and "is kept" in r,
                     "%s: the %dth alert gets a non-OK reply naming \"spool full\" and "
                     "saying the alert is kept" % (name, cap + 1), r)
        checks.check(r is not None and len(r) < 4095 and not r.startswith("."),
                     "%s: the refusal is a valid omprog reply" % name, r)
        checks.equal(len(req_names(c.d)), cap + 1, "%s: the refused alert is in spool/ "
                     "anyway (%d)" % (name, cap + 1))
        r, _ = h.send(kept_line)
        sends += 1
        checks.equal(r, "OK", "%s: rsyslog's re-send of the kept line gets OK" % name)
        checks.equal(len(req_names(c.d)), cap + 1, "%s: ... without a second request" % name)
        r, _ = h.send(b"<13>Nov 27 10:00:00 web01 app: all good\n")
        sends += 1
        checks.equal(r, "OK", "%s: a line no rule matches still gets OK" % name)
        r, _ = h.send(alert("omp", 0))
        sends += 1
        checks.equal(r, "OK", "%s: a repeat of a spooled alert (dedup) still gets OK" % name)
        # Up to twice the cap alerts are kept; past that, refused outright.
        i, odd = cap + 1, []
        while len(req_names(c.d)) < 2 * cap and i < 4 * cap:
            line = alert("omp", i)
            r1, _ = h.send(line)
            r2, _ = h.send(line)
            sends += 2
            if r1 is None or "is kept" not in r1 or r2 != "OK":
                odd.append((i, r1, r2))
            i += 1
        checks.check(not odd, "%s: alerts %d..%d are kept over the cap and their re-sends "
                     "get OK" % (name, cap + 1, i - 1), odd)
        refused_line = alert("omp", i)
        r, _ = h.send(refused_line)
        sends += 1
        checks.check(r is not None and "spool full" in r and "kept" not in r,
                     "%s: at twice the cap the alert is refused, not kept" % name, r)
        checks.equal(len(req_names(c.d)), 2 * cap, "%s: spool/ stops at %d" % (name, 2 * cap))
        n_tickets = i + 1

        c.mock.configure(fail_next=0)
        ok = wait_for(lambda: len(c.mock.successes()) >= n_tickets - 1 and not req_names(c.d), 15)
        checks.check(ok, "%s: after recovery the spool drains (%d tickets)" % (name, n_tickets - 1))
        r, _ = h.send(refused_line)
        sends += 1
        checks.equal(r, "OK", "%s: re-sent, the refused line gets OK" % name)
        ok = wait_for(lambda: len(c.mock.successes()) >= n_tickets and not req_names(c.d), 10)
        checks.check(ok, "%s: ... and its ticket arrives" % name)
        time.sleep(0.3)
        expected_tickets(checks, name, c.mock, "omp", n_tickets)
        rc = c.finish(h, 10)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        lines = h.outall.decode("utf-8", "replace").split("\n")
        checks.check(h.outall.endswith(b"\n") and len(lines) - 1 == sends and
                     all(ln == "OK" or "spool full" in ln for ln in lines[:-1]),
                     "%s: stdout holds only the %d protocol replies" % (name, sends),
                     h.outall.decode("utf-8", "replace"))
        c.check_token(checks)


def case_omprog_bytes(checks, omk, base):
    """[spool] max_bytes is a cap too."""
    name = "omprog-bytes"
    cap = 1500
    with Case(omk, base, name, {"fault": "hang", "fail_next": -1},
                  spool={"max_bytes": str(cap), "shutdown_timeout": "1s"}) as c:
        h = c.helper("helper", omprog=True)
        checks.equal(h.reply(10), "OK", "%s: start-up reply is OK" % name)
        replies = []
        for i in range(20):
            r, _ = h.send(alert("bytes", i))
            replies.append(r)
            if r != "OK":
                break
        sizes = [os.path.getsize(os.path.join(spool_dir(c.d), "spool", n))
                 for n in req_names(c.d)]
        checks.check(replies[-1] is not None and "spool full" in replies[-1] and
                     "max_bytes" in replies[-1] and "is kept" in replies[-1],
                     "%s: at the byte cap the reply is \"spool full ... max_bytes ...\" "
                     "and the alert is kept" % name, replies[-1])
        checks.check(len(sizes) >= 2 and len(sizes) == len(replies) and
                     sum(sizes[:-1]) <= cap < sum(sizes),
                     "%s: every line is spooled; the OK ones fit in %d bytes, the kept one "
                     "goes over" % (name, cap), "sizes %s, replies %s" % (sizes, replies))
        rc = c.finish(h, 10)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        c.check_token(checks)


def case_pipe_full(checks, omk, base):
    """Pipe mode has no upstream queue: at the cap it holds the line and
    stops reading, and loses nothing."""
    name = "pipe-full"
    cap, n_alerts = 5, 8
    with Case(omk, base, name, {"fault": "503", "fail_next": -1},
                  spool={"max": str(cap)}) as c:
        h = c.helper("helper")
        h.feed(b"".join(alert("full", i) for i in range(n_alerts)))
        wait_for(lambda: b"input paused" in h.stderr(), 10)
        time.sleep(1.0)
        checks.equal(len(req_names(c.d)), cap, "%s: spool/ holds %d (its max)" % (name, cap))
        err = h.stderr()
        checks.check(b"spool full" in err and b"input paused" in err,
                     "%s: stderr says the spool is full and input paused" % name)
        c.mock.configure(fail_next=0)
        ok = wait_for(lambda: len(c.mock.successes()) >= n_alerts and not req_names(c.d), 20)
        checks.check(ok, "%s: after recovery all %d alerts were delivered" % (name, n_alerts),
                     "%d successes" % len(c.mock.successes()))
        time.sleep(0.3)
        expected_tickets(checks, name, c.mock, "full", n_alerts)
        rc = c.finish(h, 10)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        c.check_token(checks)


def case_shutdown(checks, omk, base):
    n_alerts = 10
    limit = SHUTDOWN_TIMEOUT + 2
    # EOF while Kapture answers 503.
    name = "shutdown-eof"
    with Case(omk, base, name, {"fault": "503", "fail_next": -1}) as c:
        h = c.helper("helper")
        h.feed(b"".join(alert("eof", i) for i in range(n_alerts)))
        wait_for(lambda: len(req_names(c.d)) >= n_alerts, 10)
        t0 = time.monotonic()
        rc = c.finish(h, limit + 10)
        secs = time.monotonic() - t0
        checks.equal(rc, 0, "%s: EOF with Kapture down -> exit 0" % name)
        checks.check(secs <= limit, "%s: exits within shutdown_timeout + 2s (%.2fs <= %ds)"
                     % (name, secs, limit))
        checks.equal(len(req_names(c.d)), n_alerts, "%s: the %d requests stay in spool/"
                     % (name, n_alerts))
        checks.check(b"in the spool" in h.stderr() and b"next start" in h.stderr(),
                     "%s: stderr says they are sent at the next start" % name)
        refs = spooled_refs(checks, name, c.d)
        checks.equal(len(c.mock.successes()), 0, "%s: nothing was delivered" % name)
        rc, out, _, _ = c.run("spool", ["spool"])
        text = out.decode("utf-8", "replace")
        listed = [n for n in req_names(c.d) if re.search(r"^  %s  \d+s  rule alert  ref [0-9a-f]{16}"
                                                          % re.escape(n), text, re.M)]
        checks.check(rc == 0 and re.search(r"^spool \S+: %d waiting \(\d+ bytes, oldest \d+s old\)"
                                           % n_alerts, text, re.M) and
                     len(listed) == n_alerts and all("ref %s" % r in text for r in refs),
                     "%s: `spool` lists the %d waiting requests with age, rule and ref"
                     % (name, n_alerts), text)
        c.mock.configure(fail_next=0)
        rc, out, err, secs = c.run("replay", [], b"")
        checks.equal(rc, 0, "%s: a next run (empty stdin, Kapture up) exits 0" % name)
        exactly_once(checks, name, c.mock, refs)
        checks.equal(len(c.mock.successes()), n_alerts, "%s: exactly %d tickets" % (name, n_alerts))
        checks.equal(req_names(c.d), [], "%s: spool/ empty after the replay" % name)
        c.check_token(checks)

    # SIGTERM while requests hang (stdin still open): abandoned, not lost.
    name = "shutdown-term"
    with Case(omk, base, name, {"fault": "hang", "fail_next": -1},
                  kapture={"timeout": "30s"}) as c:
        h = c.helper("helper")
        h.feed(b"".join(alert("term", i) for i in range(n_alerts)))
        wait_for(lambda: len(req_names(c.d)) >= n_alerts and len(c.mock.requests()) > 0, 10)
        time.sleep(0.3)
        t0 = time.monotonic()
        h.proc.send_signal(signal.SIGTERM)
        rc = h.wait(limit + 10)
        secs = time.monotonic() - t0
        c.finish(h, 1)
        checks.equal(rc, 0, "%s: SIGTERM with requests in flight -> exit 0" % name)
        checks.check(secs <= limit, "%s: exits within shutdown_timeout + 2s (%.2fs <= %ds)"
                     % (name, secs, limit))
        checks.equal(len(req_names(c.d)), n_alerts, "%s: all %d requests stay in spool/"
                     % (name, n_alerts))
        refs = spooled_refs(checks, name, c.d)
        c.mock.configure(fail_next=0)
        rc, out, err, secs = c.run("replay", [], b"")
        checks.equal(rc, 0, "%s: a next run exits 0" % name)
        exactly_once(checks, name, c.mock, refs)
        checks.equal(req_names(c.d), [], "%s: spool/ empty after the replay" % name)
        c.check_token(checks)


def case_ticket(checks, omk, base):
    name = "ticket"
    with Case(omk, base, name, {"fault": "503", "fail_next": -1}) as c:
        # Kapture down: spooled, exit 0.
        rc, out, err, secs = c.run("ticket-down", ["ticket", "--title", "Backup failed on db1",
                                                   "--details", "rc=2"])
        checks.equal(rc, 0, "%s: with Kapture down `ticket` exits 0" % name)
        m = re.search(rb"^ticket spooled as (\S+/spool/(\S+\.req)): Kapture unavailable", out,
                      re.M)
        checks.check(m, "%s: it prints \"ticket spooled as .../spool/NAME.req: Kapture "
                     "unavailable ...\"" % name, out)
        checks.equal(req_names(c.d), [m.group(2).decode()] if m else ["?"],
                     "%s: that file is in spool/" % name)
        checks.check(secs < 5 * mocklib.TIME_SCALE, "%s: ... without waiting out a retry "
                     "(%.2fs)" % (name, secs))
        refs = spooled_refs(checks, name, c.d)

        # A second ticket with the same title while the first still waits.
        rc, out, err, secs = c.run("ticket-same-title", ["ticket", "--title",
                                                         "Backup failed on db1",
                                                         "--details", "rc=3"],
                                   timeout=4 * mocklib.TIME_SCALE)
        checks.equal(rc, 0, "%s: a second `ticket` with the same title while the first is "
                     "spooled exits 0 (not hang)" % name)
        checks.check(b"ticket spooled as" in out, "%s: ... and says it was spooled" % name, out)
        refs = spooled_refs(checks, name, c.d)

        # A later helper run delivers what waits.
        c.mock.configure(fail_next=0)
        rc, out, err, secs = c.run("helper-run", [], b"")
        checks.equal(rc, 0, "%s: a helper run delivers the spooled ticket(s)" % name)
        exactly_once(checks, name, c.mock, refs)
        checks.equal(req_names(c.d), [], "%s: spool/ empty" % name)
        titles = [body_obj(s["body"])["title"] for s in c.mock.successes()]
        checks.check(titles and all(t == "Backup failed on db1" for t in titles),
                     "%s: with the title given" % name, titles)

        # --wait through two 503s.
        n0 = len(c.mock.requests())
        c.mock.configure(fault="503", fail_next=2)
        rc, out, err, secs = c.run("ticket-wait", ["ticket", "--wait", "--title",
                                                   "Certificate expires"])
        checks.equal(rc, 0, "%s: `ticket --wait` through two 503s exits 0" % name)
        new = c.mock.requests()[n0:]
        succ = [r for r in new if r["result"] == "success"]
        checks.check(len(succ) == 1 and re.search(rb"^ticket %s created$" %
                                                   succ[0]["ticket_id"].encode(), out, re.M),
                     "%s: ... and prints \"ticket N created\" with Kapture's id" % name, out)
        checks.equal((len(new), len(set(ref_of(r) for r in new))), (3, 1),
                     "%s: ... after 3 attempts of one request" % name)
        checks.equal(req_names(c.d), [], "%s: spool/ empty" % name)

        # Rejected: exit 3, kept in failed/.
        n0 = len(c.mock.requests())
        c.mock.configure(fault="failed", fail_next=1)
        rc, out, err, secs = c.run("ticket-failed", ["ticket", "--title", "Rejected one"])
        checks.equal(rc, 3, "%s: a rejected ticket exits 3" % name)
        new = c.mock.requests()[n0:]
        checks.equal(len(new), 1, "%s: ... after one attempt" % name)
        checks.equal(spooled_refs(checks, name, c.d, "failed"), [ref_of(r) for r in new],
                     "%s: ... and the request is in failed/" % name)
        checks.check(b"Kapture rejected it (HTTP 200: internal error)" in err and
                     b"/failed/" in err, "%s: stderr says why and where it is" % name)
        checks.equal(req_names(c.d), [], "%s: spool/ empty" % name)
        c.check_token(checks)

    # --wait while another instance delivers the same request: it must
    # notice (the file is gone) instead of waiting forever. The other
    # instance's spool_done() is played here by removing the file.
    name = "ticket-wait-taken"
    with Case(omk, base, name, {"fault": "503", "fail_next": -1}) as c:
        c.texts = []
        proc = subprocess.Popen([omk, "-c", c.conf, "ticket", "--wait", "--title", "Taken"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=mocklib.omkapture_env(ENV))
        rc, out, err = None, b"", b""
        try:
            got = wait_for(lambda: len(c.mock.requests()) >= 1 and req_names(c.d), 10)
            names = req_names(c.d)
            if got and names:
                os.unlink(os.path.join(spool_dir(c.d), "spool", names[0]))
            c.mock.configure(fail_next=0)
            out, err = proc.communicate(timeout=5)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            if proc.poll() is None:
                proc.kill()
            out, err = proc.communicate() if rc is None else (out, err)
        show(name, rc, out, err)
        c.texts += [(name + " stdout", out), (name + " stderr", err)]
        checks.check(rc is not None, "%s: `ticket --wait` ends when its spooled request is "
                     "taken by another instance (rc=%s)" % (name, rc))
        c.check_token(checks)


def case_same_key(checks, omk, base):
    """Requests of one key go in order: a newer one waits while an older one
    is retried or in flight. Then Kapture is slow (0.7 s per answer): the
    helper must idle while it waits for the answer, not spin."""
    name = "same-key"
    n = 3
    latency = 0.7
    with Case(omk, base, name, {"fault": "503", "fail_next": -1}) as c:
        h = c.helper("helper")
        h.feed(b"".join(samekey(i) for i in range(1, n + 1)))
        ok = wait_for(lambda: len(req_names(c.d)) >= n, 10)
        checks.check(ok, "%s: %d requests of one key in spool/" % (name, n))
        time.sleep(1.5)
        titles = [body_obj(r["body"])["title"] for r in c.mock.requests()]
        checks.check(titles and all(t == "Same key 1 on web01" for t in titles),
                     "%s: during the outage only the oldest request of the key is tried "
                     "(%d attempts)" % (name, len(titles)), Counter(titles))
        # Recovery, slowly: one answer per 0.7 s, one request at a time.
        c.mock.configure(fail_next=0, latency_ms=int(latency * 1000))
        cpu0, t0 = cpu_seconds(h.pid), time.monotonic()
        ok = wait_for(lambda: len(c.mock.successes()) >= n and not req_names(c.d), 20)
        cpu1, secs = cpu_seconds(h.pid), time.monotonic() - t0
        checks.check(ok, "%s: after recovery all %d are delivered (%.1fs)" % (name, n, secs))
        if cpu0 is not None and cpu1 is not None:
            checks.check(cpu1 - cpu0 < 0.5, "%s: the helper idles while a request is in "
                         "flight and a newer one of its key waits (%.2fs CPU in %.1fs)"
                         % (name, cpu1 - cpu0, secs))
        checks.check(secs >= n * latency - 0.1, "%s: one at a time: %d answers of %.1fs took "
                     "%.1fs" % (name, n, latency, secs))
        time.sleep(0.3)
        reqs = c.mock.requests()
        want = ["Same key %d on web01" % i for i in range(1, n + 1)]
        succ = [body_obj(r["body"])["title"] for r in reqs if r["result"] == "success"]
        checks.equal(succ, want, "%s: delivered exactly once each, oldest first" % name)
        # In order: no request of the key was even sent before the older one
        # had been created.
        first_sent, done_at = {}, {}
        for r in reqs:
            t = body_obj(r["body"])["title"]
            first_sent.setdefault(t, r["n"])
            if r["result"] == "success":
                done_at[t] = r["n"]
        out_of_order = [(a, b) for a, b in zip(want, want[1:])
                        if a not in done_at or b not in first_sent or first_sent[b] < done_at[a]]
        checks.check(not out_of_order, "%s: a request is sent only after the older one of its "
                     "key was created" % name, out_of_order)
        rc = c.finish(h, 10)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        c.check_token(checks)


def case_resend_ref(checks, omk, base):
    """The same line handled again later (rsyslog re-sends an unconfirmed
    message after a helper crash) must carry the same omkapture_ref, or the
    duplicate cannot be recognised. The clock is pinned a minute apart."""
    name = "resend-ref"
    with Case(omk, base, name, {"fault": "503", "fail_next": -1},
                  spool={"shutdown_timeout": "1s"}) as c:
        line = alert("resend", 1)
        rc, _, _, _ = c.run("first-life", [], line, env={"OMKAPTURE_NOW": "1795773600"})
        checks.equal((rc, len(req_names(c.d))), (0, 1),
                     "%s: the first life spooled the line and exited 0" % name)
        c.mock.configure(fail_next=0)
        # A crash loses the dedup state saved after the line (the spool
        # file was already durable): the second life has none.
        os.unlink(os.path.join(spool_dir(c.d), "state"))
        rc, _, _, _ = c.run("second-life", [], line, env={"OMKAPTURE_NOW": "1795773660"})
        checks.equal(rc, 0, "%s: the second life exits 0" % name)
        succ = c.mock.successes()
        refs = [ref_of(r) for r in succ]
        checks.equal(len(succ), 2, "%s: both requests were delivered (at-least-once)" % name)
        checks.check(len(refs) == 2 and refs[0] == refs[1],
                     "%s: the re-sent line carries the same omkapture_ref" % name, refs)
        c.check_token(checks)


def case_files(checks, omk, base):
    name = "files"
    with Case(omk, base, name, {"fault": "failed", "fail_next": 1},
                  spool={"shutdown_timeout": "1s"}) as c:
        # The spool dir exists with 0755 (write_omkapture_config): tightened.
        os.chmod(spool_dir(c.d), 0o755)
        h = c.helper("helper")
        h.feed(alert("mode", 1))
        wait_for(lambda: req_names(c.d, "failed"), 10)
        c.mock.configure(fault="503", fail_next=-1)
        h.feed(alert("mode", 2))
        wait_for(lambda: len(c.mock.requests()) >= 2, 10)
        rc = c.finish(h, 10)
        checks.equal(rc, 0, "%s: exit 0" % name)
        checks.check(b"was mode 755; setting 0700" in h.stderr(),
                     "%s: a 0755 spool dir is tightened with a warning" % name)
        sd = spool_dir(c.d)
        modes = {}
        for sub in ("", "spool", "failed", "tmp"):
            modes[sub or "."] = oct(os.stat(os.path.join(sd, sub)).st_mode & 0o7777)
        checks.equal(modes, {".": "0o700", "spool": "0o700", "failed": "0o700",
                             "tmp": "0o700"}, "%s: spool dirs are 0700" % name)
        files = {}
        for sub in ("spool", "failed"):
            for n in os.listdir(os.path.join(sd, sub)):
                files[sub + "/" + n] = oct(os.stat(os.path.join(sd, sub, n)).st_mode & 0o7777)
        kinds = sorted(k.rsplit(".", 1)[1] + "@" + k.split("/")[0] for k in files)
        checks.equal(kinds, ["req@failed", "req@spool", "why@failed"],
                     "%s: one request spooled, one failed with its .why" % name)
        checks.check(files and all(m == "0o600" for m in files.values()),
                     "%s: spool files are 0600" % name, files)
        c.check_token(checks)

    # A symlinked spool dir, or a symlinked spool/ inside it: refused.
    for variant in ("dir", "sub"):
        name = "symlink-" + variant
        with Case(omk, base, name) as c:
            sd = spool_dir(c.d)
            real = os.path.join(c.d, "elsewhere")
            os.mkdir(real, 0o700)
            if variant == "dir":
                os.rmdir(sd)
                os.symlink(real, sd)
            else:
                os.chmod(sd, 0o700)
                os.symlink(real, os.path.join(sd, "spool"))
            rc, out, err, secs = c.run(name, [], alert("link", 1))
            checks.equal(rc, 3, "%s: a symlinked spool %s -> exit 3" % (name, variant))
            checks.check(re.search(rb"spool \S+: is a symlink or not a directory: refusing",
                                   err), "%s: stderr says it is a symlink and refused" % name)
            h = c.helper(name + "-omprog", omprog=True)
            r = h.reply(10)
            h.close_stdin()
            rc = h.wait(10)
            c.texts += [(h.label + " stdout", h.outall), (h.label + " stderr", h.stderr())]
            show(h.label, rc, h.outall, h.stderr())
            checks.check(r is not None and r != "OK" and "symlink" in r,
                         "%s: in --omprog mode the start-up reply names the problem" % name, r)
            checks.equal(rc, 3, "%s: ... and it exits 3" % name)
            checks.equal(os.listdir(real), [], "%s: nothing written through the link" % name)
            checks.equal(len(c.mock.requests()), 0, "%s: nothing sent" % name)
            c.check_token(checks)


CASES = [
    ("outage", case_outage),
    ("faults", case_faults),
    ("failed", case_failed),
    ("auth", case_auth),
    ("omprog", case_omprog),
    ("omprog-bytes", case_omprog_bytes),
    ("pipe-full", case_pipe_full),
    ("same-key", case_same_key),
    ("shutdown", case_shutdown),
    ("resend-ref", case_resend_ref),
    ("ticket", case_ticket),
    ("files", case_files),
]


if __name__ == "__main__":
    sys.exit(mocklib.run_cases("e2e_delivery", "omk-e2e-delivery-", CASES, doc=__doc__))
