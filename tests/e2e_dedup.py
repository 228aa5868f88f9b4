#!/usr/bin/env python3
"""Integration test of dedup, thresholds and the storm guard (issue 4)
against the mock Kapture.

    python3 tests/e2e_dedup.py --omkapture build/plugin/omkapture [--keep]
        [--only CASE[,CASE...]]

No case sleeps to let dedup time pass. Time moves with the injected clock,
OMKAPTURE_NOW=@FILE (omkapture reads epoch seconds from FILE at every clock
call: the test rewrites it, then polls for the effect), or with
`[dedup] clock = event` and timestamped RFC 3164 lines (TZ=UTC). A helper
has handled the lines written to it once its SIGUSR1 counters say so
("lines"); that is how a case knows a line was seen before it moves time.

  burst        1000 lines of one error (two clock values 2 minutes apart)
               -> exactly 1 ticket; its details render ${count},
               ${first_seen}, ${last_seen} and ${key} as at firing time
               (1, the first line's time, key "disk|sda1"); past suppress
               the burst is logged as over (1000 matches, 999 after its
               ticket, its ref) and counted (bursts_ended, repeats).
  threshold    `3 in 10m`, key ${host}: 2 matches -> nothing; the 3rd
               within the window -> one ticket with count 3, first_seen
               the oldest match still in the window (also when an older
               one fell out); a 3rd match after the window and matches
               spread wider than the window never fire; a match after the
               ticket is suppressed.
  threshold-large  `1500 in 1h`: nothing at 1200 matches, one ticket with
               count 1500 at the 1500th.
  renotify     suppress 10m, renotify 1h, a match every 5 min: a second
               ticket at 1h, none before or after; the first burst is
               logged as over (12 matches, 11 after its ticket).
  comment      on_repeat = comment: past suppress exactly one update
               request, [{"ticket_id": <the id the mock returned>,
               "comment": "omkapture: repeated 4 more times ... \nLast: <msg>",
               "sub_status": "P"}]. comment-down: the same while Kapture
               answers 503: ticket and comment are spooled before it
               recovers; then the comment reaches the id the mock gave.
  comment-long rsyslog JSON lines with a 9 KB message: the comment's
               "Last:" is the message, not raw JSON; repeat-ticket-long:
               the summary ticket is rendered against the message (host).
  comment-restart  Kapture down across restarts: run 1 spools the ticket,
               run 2 (past suppress) the comment, run 3 (Kapture back)
               sends both, the comment with the ticket's new id.
  repeat-ticket on_repeat = ticket: one summary ticket "Repeated 4 times:
               <title>", details starting with the sentence then the
               rule's details, the rule's email and fields; no update.
  storm        max_tickets = 60/1h, 5000 distinct alerts of two rules
               within a minute, then the clock past storm_quiet: exactly 61
               requests: the first 60 alerts and one summary "omkapture
               storm guard: 4940 tickets held back" naming each rule, its
               count and 20 of its held keys; email from [defaults].
  restart      the issue's acceptance: 100000 lines of one error in two
               pipe runs of 50000 (state saved at EOF, loaded at start),
               on_repeat = comment: 1 ticket after each run; past suppress
               exactly 1 comment (100000 matches, 99999 repeats, the last
               line) on that ticket's id: from a third run (restart), from
               a live process whose clock moves (restart-live), and with
               clock = event (restart-event: the event clock resumes from
               the state and runs on at wall speed).
  sighup       lines stream into a helper while the rules file gains
               rules and SIGHUP comes 5 times: the ongoing burst gets no
               second ticket; a broken rules file on SIGHUP keeps the
               running rules (stderr says so, with file:line; the added
               rule still tickets), the process keeps running, exit 0.
               sighup-omprog: the same in --omprog mode, every line OK.
               sighup-settings: a kept rule's burst goes on under its new
               suppress; a removed rule's keys are forgotten.
  replay       clock = event: one timestamped log (RFC 3164, RFC 5424,
               rsyslog and journal JSON; keys, a threshold, a renotify,
               bursts that end inside the log, comments and a repeat
               ticket) fed to a live helper 1-3 lines at a time and in one
               go to a fresh helper: identical ticket bodies (title,
               details, due date, omkapture_ref) and comments.
  evict        max_keys = 100, 150 distinct keys: one warning naming
               max_keys; the evicted first key fires again when it
               recurs, the newest one does not. evict-over: bursts that
               are over make room first (no warning, nothing evicted).
  corrupt      garbage in DIR/state (and a damaged record in a real one):
               moved aside to state.corrupt-*, a warning, exit 0, the line
               is ticketed, and the new state works (next run suppresses).
  dry-run      --dry-run -v: one "dedup: ... suppressed" line per
               suppressed match (exactly 9), one "below threshold" line per
               pending match, one ticket on stdout, no state file, nothing
               sent. dry-run-event: a burst ending inside the input prints
               its comment ("kind":"comment") and its summary ticket.
Every case also checks that its random API token appears neither in any
output nor in any file under the spool dir.

Knobs that keep it fast: timeout 2s, connect_timeout 1s, retry_max 2s,
shutdown_timeout 2s (10s where a run must deliver many). Exit 0 if every
check passed, else 1.
"""

import calendar
import json
import os
import re
import signal
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import MockKapture, wait_for, write_omkapture_config  # noqa: E402

T0 = calendar.timegm((2026, 11, 28, 1, 0, 0))    # 2026-11-28 01:00:00 UTC
RUN_TIMEOUT = 60          # any single omkapture run; a hang is a failure
WAIT = 10                 # polling for an effect (seconds)

KAPTURE_KNOBS = {"timeout": "2s", "connect_timeout": "1s", "retry_max": "2s",
                 "concurrency": "4"}


# -- lines and times ------------------------------------------------------

def stamp(t):
    """RFC 3164 timestamp of epoch t (UTC): "Nov 28 01:00:00"."""
    g = time.gmtime(t)
    return "%s %2d %02d:%02d:%02d" % (
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
         "Nov", "Dec")[g.tm_mon - 1], g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec)


def fmt(t):
    """omkapture's time format (${first_seen} etc.) of epoch t, UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def line(t, host, prog, msg):
    return ("%s %s %s: %s\n" % (stamp(t), host, prog, msg)).encode()


def disk(t, n, dev="sda1", host="web1"):
    return line(t, host, "kernel", "I/O error on %s sector %d" % (dev, n))


DISK_RULE = (
    "[disk]\n"
    "match = I/O error on (?<dev>\\S+)\n"
    "title = Disk error on ${dev} at ${host}\n"
    "details = ${count} matches since ${first_seen} (last ${last_seen}) key ${key}\\n"
    "Last: ${line}\n"
    "email = storage@example.com\n"
    "field.queue = Storage\n"
)


def repeat_sentence(more, count, first, last):
    return ("omkapture: repeated %d more time%s after the ticket was opened "
            "(%d match%s from %s to %s)." % (more, "" if more == 1 else "s", count,
                                               "" if count == 1 else "es", fmt(first),
                                               fmt(last)))


def body_obj(body):
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict):
        return body[0]
    return body if isinstance(body, dict) else None


# -- the mock, a case, a helper ---------------------------------------------

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

    def ok(self, kind="add"):
        """Bodies (the object) of the successful requests of a kind."""
        return [body_obj(r["body"]) for r in self.successes(kind)]


def sections(**secs):
    """INI text of extra sections: name -> {key: value}."""
    out = ""
    for name, kv in secs.items():
        if kv:
            out += "\n[%s]\n" % name + "".join("%s = %s\n" % x for x in kv.items())
    return out


def sigcgt(pid):
    """The set of signals pid catches (from /proc), or None."""
    if mocklib.VALGRIND:    # SigCgt shows valgrind's own handlers at once
        return mocklib.valgrind_caught(pid)
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("SigCgt:"):
                    mask = int(ln.split()[1], 16)
                    return {s for s in range(1, 65) if mask >> (s - 1) & 1}
    except (OSError, ValueError):
        return None
    return None


class Case:
    """A temp dir, a random token, a mock, a clock file and a config."""

    def __init__(self, omk, base, name, rules, mock_faults=None, kapture=None,
                 spool=None, dedup=None, limits=None, defaults=None, wall=T0):
        self.omk = omk
        self.name = name
        self.d = os.path.join(base, name)
        os.mkdir(self.d)
        self.token = "tok-" + os.urandom(12).hex()
        self.mock = Mock(self.d, token=self.token, shape="array", quiet=True,
                         **(mock_faults or {}))
        self.rules = rules
        self.extra = (kapture, spool, dedup, limits, defaults)
        self.clock = os.path.join(self.d, "now")
        self.set_time(wall)
        self.env = {"TZ": "UTC", "OMKAPTURE_NOW": "@" + self.clock}
        self.helpers = []
        self.texts = []

    @property
    def spool(self):
        return os.path.join(self.d, "omkapture.spool")

    @property
    def state(self):
        return os.path.join(self.spool, "state")

    @property
    def rules_file(self):
        return os.path.join(self.d, "omkapture.rules", "test.rules")

    def __enter__(self):
        self.mock.start()
        kapture, spool, dedup, limits, defaults = self.extra
        try:
            extra = sections(
                kapture=dict(KAPTURE_KNOBS, update_url=self.mock.update_url,
                             **(kapture or {})),
                spool=dict({"shutdown_timeout": "2s"}, **(spool or {})),
                dedup=dedup, limits=limits, defaults=defaults)
            self.conf = write_omkapture_config(self.d, self.mock.url, self.token,
                                               self.rules, extra=extra)
            os.chmod(self.spool, 0o700)
        except BaseException:
            self.mock.stop()
            raise
        return self

    def __exit__(self, *exc):
        for h in self.helpers:
            try:
                h.kill()
            except Exception as e:   # noqa: BLE001 - the others must stop too
                print("cleanup of %s: %s" % (h.name, e))
        self.mock.stop()
        return False

    def set_time(self, t):
        """Move omkapture's clock: the file is replaced whole (rename), so a
        read never sees it half written."""
        tmp = self.clock + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % t)
        os.rename(tmp, self.clock)

    def write_rules(self, text):
        tmp = self.rules_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.rules_file)

    def run(self, label, args=(), stdin=b"", timeout=RUN_TIMEOUT, conf=None):
        """One omkapture run (pipe mode unless args say otherwise)."""
        t0 = time.monotonic()
        rc, out, err = mocklib.run_omkapture(self.omk, ["-c", conf or self.conf] +
                                             list(args), stdin, self.env, timeout)
        show(label, rc, out, err, time.monotonic() - t0)
        self.texts += [(label + " stdout", out), (label + " stderr", err)]
        return rc, out, err

    def helper(self, label, args=()):
        h = mocklib.Helper(self.omk, ["-c", self.conf] + list(args), env=self.env,
                           name=label)
        self.helpers.append(h)
        # Signals before the handlers are in place would kill it.
        wait_for(lambda: h.proc.poll() is not None or
                 {signal.SIGHUP, signal.SIGUSR1} <= (sigcgt(h.proc.pid) or set()), WAIT)
        return h

    def finish(self, h, timeout=20):
        """Close stdin, wait for the exit status (None: killed)."""
        h.close_stdin()
        rc = h.wait(timeout)
        err = h.stderr_text().encode()
        show(h.name, rc, h.stdout_bytes(), err)
        self.texts += [(h.name + " stdout", h.stdout_bytes()), (h.name + " stderr", err)]
        return rc

    def check_token(self, checks):
        tok = self.token.encode()
        for h in self.helpers:
            self.texts += [(h.name + " stdout", h.stdout_bytes()),
                           (h.name + " stderr", h.stderr_text().encode())]
        leaked = sorted(set(label for label, data in self.texts if tok in data))
        checks.check(not leaked, "%s: the token appears in no output" % self.name, leaked)
        hits = mocklib.files_containing(self.spool, tok)
        checks.check(not hits, "%s: the token is in no file under the spool dir" % self.name,
                     hits)
        checks.check(not any(r.get("token_in_request") for r in self.mock.requests()),
                     "%s: no request carried the token outside the header" % self.name)

    def req_files(self, sub="spool"):
        try:
            return sorted(n for n in os.listdir(os.path.join(self.spool, sub))
                          if n.endswith(".req"))
        except FileNotFoundError:
            return []


def show(label, rc, out, err, secs=None):
    print("--- %s: rc=%s%s, stdout %d bytes, stderr:\n%s" % (
        label, rc, "" if secs is None else " (%.2fs)" % secs, len(out),
        err.decode("utf-8", "replace")[-2000:] or "(empty)"))


COUNTER_RE = re.compile(r'^\{.*"lines":', re.M)


def counter_lines(h):
    return [ln for ln in h.stderr_text().split("\n") if COUNTER_RE.match(ln)]


def counters(h, lines=None, timeout=WAIT):
    """SIGUSR1 the helper until its counters show at least `lines` lines
    handled (any, if None); returns the last counters (dict), {} if none."""
    deadline = time.monotonic() + timeout
    last = {}
    while True:
        n0 = len(counter_lines(h))
        if h.proc.poll() is not None:
            return last
        os.kill(h.proc.pid, signal.SIGUSR1)
        if wait_for(lambda: len(counter_lines(h)) > n0, 5):
            try:
                last = json.loads(counter_lines(h)[-1])
            except ValueError:
                last = {}
        if lines is None or last.get("lines", -1) >= lines or time.monotonic() > deadline:
            return last


def feed_at(c, h, t, data, total):
    """Move the clock to t, write data, and wait until the helper has
    handled `total` lines in all; returns its counters."""
    c.set_time(t)
    h.send(data)
    return counters(h, total)


def sub(d, keys):
    return {k: d.get(k) for k in keys}


# -- cases ----------------------------------------------------------------

def case_burst(checks, omk, base):
    name = "burst"
    with Case(omk, base, name, DISK_RULE) as c:
        h = c.helper("helper")
        cnt = feed_at(c, h, T0, b"".join(disk(T0, i) for i in range(500)), 500)
        checks.equal(sub(cnt, ("lines", "tickets", "suppressed")),
                     {"lines": 500, "tickets": 1, "suppressed": 499},
                     "%s: 500 lines at T0: 1 ticket, 499 suppressed" % name)
        cnt = feed_at(c, h, T0 + 120, b"".join(disk(T0 + 120, i) for i in range(500, 1000)),
                      1000)
        checks.equal(sub(cnt, ("lines", "tickets", "suppressed", "keys")),
                     {"lines": 1000, "tickets": 1, "suppressed": 999, "keys": 1},
                     "%s: 500 more 2 minutes later: still 1 ticket, 999 suppressed" % name)
        ok = wait_for(lambda: len(c.mock.ok()) >= 1 and not c.req_files(), WAIT)
        checks.check(ok, "%s: the ticket was delivered" % name)
        tickets = c.mock.ok()
        ref = tickets[0].get("omkapture_ref") if tickets else None
        checks.equal(tickets, [{
            "title": "Disk error on sda1 at web1",
            "ticket_details": "1 matches since %s (last %s) key disk|sda1\n"
                              "Last: I/O error on sda1 sector 0" % (fmt(T0), fmt(T0)),
            "email_id": "storage@example.com", "queue": "Storage",
            "omkapture_ref": ref}],
            "%s: exactly 1 ticket; details rendered at firing time (count 1, first and "
            "last seen = the first line's time, default key rule|capture)" % name)
        checks.check(isinstance(ref, str) and re.fullmatch(r"[0-9a-f]{16}", ref or ""),
                     "%s: the ticket carries a 16-hex-digit omkapture_ref" % name, ref)

        # The burst ends once quiet for suppress (10m): logged, counted.
        c.set_time(T0 + 120 + 605)
        over = ("burst over, 1000 matches from %s to %s, 999 after its ticket (ref %s)"
                % (fmt(T0), fmt(T0 + 120), ref))
        checks.check(h.wait_stderr(over, WAIT), "%s: past suppress stderr says %r"
                     % (name, over), h.stderr_text()[-1500:])
        cnt = counters(h)
        checks.equal(sub(cnt, ("bursts_ended", "repeats", "comments", "repeat_tickets")),
                     {"bursts_ended": 1, "repeats": 999, "comments": 0, "repeat_tickets": 0},
                     "%s: counters: bursts_ended 1, repeats 999, no on_repeat action" % name)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        checks.equal([(r["kind"], r["result"]) for r in c.mock.requests()],
                     [("add", "success")], "%s: the mock received exactly 1 request" % name)
        checks.equal(h.stdout_bytes(), b"", "%s: nothing on stdout" % name)
        c.check_token(checks)


THRESHOLD_RULE = (
    "[thr]\n"
    "match = login failure for (?<user>\\S+)\n"
    "key = ${host}\n"
    "threshold = 3 in 10m\n"
    "title = Login failures on ${host}\n"
    "details = ${count} failures from ${first_seen} to ${last_seen} (${key})\n"
)


def case_threshold(checks, omk, base):
    name = "threshold"
    # (seconds after T0, host). a: 2 in the window, a 3rd after it; b: the
    # 3rd within 10m (599 s after the 1st), then one more; c: every 6 min,
    # never 3 within 10m.
    # d: 0, 300, 700, 800: the 3rd within 10m is at 800, and the window
    # then starts at 300 (0 fell out).
    steps = [(0, "a"), (0, "b"), (0, "c"), (0, "d"), (60, "a"), (240, "b"), (300, "d"),
             (360, "c"), (599, "b"), (650, "b"), (700, "a"), (700, "d"), (720, "c"),
             (800, "d"), (1080, "c"), (1440, "c")]
    with Case(omk, base, name, THRESHOLD_RULE) as c:
        h = c.helper("helper")
        seen = []
        for i, (off, host) in enumerate(steps):
            cnt = feed_at(c, h, T0 + off,
                          line(T0 + off, host, "sshd", "login failure for root"), i + 1)
            seen.append((off, host, cnt.get("tickets")))
        want = [(off, host, (off, host) >= (599, "b") and 1 + ((off, host) >= (800, "d")))
                for off, host in steps]
        want = [(off, host, int(n)) for off, host, n in want]
        checks.equal(seen, want, "%s: tickets spooled after each line: none until the 3rd "
                     "match of b within 10m, the next at d's 3rd within 10m" % name)
        checks.equal(sub(cnt, ("lines", "tickets", "pending", "suppressed")),
                     {"lines": len(steps), "tickets": 2, "pending": 13, "suppressed": 1},
                     "%s: counters: 13 matches below the threshold, 1 suppressed" % name)
        ok = wait_for(lambda: len(c.mock.ok()) >= 2 and not c.req_files(), WAIT)
        checks.check(ok, "%s: the tickets were delivered" % name)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        got = sorted((b.get("title"), b.get("ticket_details")) for b in c.mock.ok())
        checks.equal(got, [("Login failures on b", "3 failures from %s to %s (b)"
                            % (fmt(T0), fmt(T0 + 599))),
                           ("Login failures on d", "3 failures from %s to %s (d)"
                            % (fmt(T0 + 300), fmt(T0 + 800)))],
                     "%s: exactly 2 tickets, for b and d, count 3 from the oldest match "
                     "still in the window; none for a or c" % name)
        checks.equal(len(c.mock.requests()), 2, "%s: the mock received 2 requests" % name)
        c.check_token(checks)


def case_threshold_large(checks, omk, base):
    """threshold = 1000 in 1h (the largest N): nothing at the 999th match
    within the hour, one ticket with count 1000 at the 1000th. N = 1001 is a
    load error naming file:line (dedup keeps a time per match)."""
    name = "threshold-large"
    rules = THRESHOLD_RULE.replace("3 in 10m", "1000 in 1h")
    with Case(omk, base, name, rules) as c:
        h = c.helper("helper")
        fail = b"".join(line(T0, "h1", "sshd", "login failure for root") for _ in range(111))
        cnt = feed_at(c, h, T0, fail * 9, 999)
        checks.equal(sub(cnt, ("lines", "tickets")), {"lines": 999, "tickets": 0},
                     "%s: 999 matches of 1000: no ticket yet" % name)
        cnt = feed_at(c, h, T0 + 60, line(T0 + 60, "h1", "sshd", "login failure for root"),
                      1000)
        checks.equal(sub(cnt, ("lines", "tickets")), {"lines": 1000, "tickets": 1},
                     "%s: the 1000th match fires" % name)
        wait_for(lambda: c.mock.ok() and not c.req_files(), WAIT)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        checks.equal([b.get("ticket_details") for b in c.mock.ok()],
                     ["1000 failures from %s to %s (h1)" % (fmt(T0), fmt(T0 + 60))],
                     "%s: exactly 1 ticket, count 1000" % name)
        c.write_rules(THRESHOLD_RULE.replace("3 in 10m", "1001 in 1h"))
        rc, out, err = c.run("check-1001", ["--check"])
        checks.equal(rc, 1, "%s: threshold = 1001 in 1h: --check exits 1" % name)
        checks.check(b"test.rules:4: error: [thr] threshold: N must be 1..1000, not 1001"
                     in err, "%s: the error names file:line and the limit" % name, err[-400:])
        c.check_token(checks)


def case_renotify(checks, omk, base):
    name = "renotify"
    rules = ("[flap]\n"
             "match = service (?<svc>\\S+) is flapping\n"
             "suppress = 10m\n"
             "renotify = 1h\n"
             "title = Flapping ${svc} on ${host}\n"
             "details = ${count} since ${first_seen}\n")
    with Case(omk, base, name, rules) as c:
        h = c.helper("helper")
        offs = list(range(0, 3900 + 1, 300))       # 0, 5m, ..., 55m, 60m, 65m
        seen = []
        for i, off in enumerate(offs):
            cnt = feed_at(c, h, T0 + off,
                          line(T0 + off, "lb1", "monit", "service nginx is flapping"), i + 1)
            seen.append(cnt.get("tickets"))
        checks.equal(seen, [1] * 12 + [2, 2], "%s: a second ticket at 1h (renotify), "
                     "none before or after" % name)
        ok = wait_for(lambda: len(c.mock.ok()) >= 2 and not c.req_files(), WAIT)
        checks.check(ok, "%s: both tickets delivered" % name)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        bodies = c.mock.ok()
        got = sorted((b["title"], b["ticket_details"]) for b in bodies)
        checks.equal(got, [("Flapping nginx on lb1", "1 since %s" % fmt(T0)),
                           ("Flapping nginx on lb1", "1 since %s" % fmt(T0 + 3600))],
                     "%s: exactly 2 tickets, the second a fresh burst at 1h" % name)
        refs = [b.get("omkapture_ref") for b in bodies]
        checks.check(len(set(refs)) == 2, "%s: the two tickets have different refs" % name,
                     refs)
        first = [b.get("omkapture_ref") for b in bodies
                 if b["ticket_details"].endswith(fmt(T0))]
        over = ("burst over, 12 matches from %s to %s, 11 after its ticket (ref %s)"
                % (fmt(T0), fmt(T0 + 3300), first[0] if first else "?"))
        checks.check(over in h.stderr_text(), "%s: stderr says %r" % (name, over))
        checks.equal(len(c.mock.requests()), 2, "%s: the mock received 2 requests" % name)
        c.check_token(checks)


COMMENT_RULE = DISK_RULE + "on_repeat = comment\n"


def case_comment(checks, omk, base):
    name = "comment"
    with Case(omk, base, name, COMMENT_RULE) as c:
        h = c.helper("helper")
        feed_at(c, h, T0, disk(T0, 0), 1)
        ok = wait_for(lambda: c.mock.successes(), WAIT)
        checks.check(ok, "%s: the ticket was created" % name)
        tid = ok[0]["ticket_id"] if ok else None
        for i in range(1, 5):
            feed_at(c, h, T0 + 60 * i, disk(T0 + 60 * i, i), i + 1)
        checks.equal(len(c.mock.requests()), 1, "%s: no request while the burst goes on"
                     % name)
        c.set_time(T0 + 240 + 605)
        ok = wait_for(lambda: c.mock.successes("update"), WAIT)
        checks.check(ok, "%s: past suppress a comment was sent" % name)
        cnt = counters(h)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        updates = [r for r in c.mock.requests() if r["kind"] == "update"]
        checks.equal([r["body"] for r in updates], [[{
            "ticket_id": tid,
            "comment": repeat_sentence(4, 5, T0, T0 + 240) +
            "\nLast: I/O error on sda1 sector 4",
            "sub_status": "P"}]],
            "%s: exactly one update request, on the ticket's id, with the exact comment"
            % name)
        checks.equal([(r["kind"], r["result"]) for r in c.mock.requests()],
                     [("add", "success"), ("update", "success")],
                     "%s: the mock received 1 ticket then 1 comment" % name)
        checks.equal(sub(cnt, ("comments", "bursts_ended", "repeats")),
                     {"comments": 1, "bursts_ended": 1, "repeats": 4},
                     "%s: counters: comments 1, bursts_ended 1, repeats 4" % name)
        c.check_token(checks)

    # Kapture down while the ticket is spooled; the burst ends before it
    # recovers: the comment, spooled without an id, gets the ticket's.
    name = "comment-down"
    with Case(omk, base, name, COMMENT_RULE,
              mock_faults={"fault": "503", "fail_next": -1}) as c:
        h = c.helper("helper")
        feed_at(c, h, T0, disk(T0, 0), 1)
        ok = wait_for(lambda: c.req_files() and c.mock.requests(), WAIT)
        checks.check(ok, "%s: the ticket is spooled and was tried (503)" % name)
        feed_at(c, h, T0 + 30, disk(T0 + 30, 1) + disk(T0 + 30, 2), 3)
        c.set_time(T0 + 30 + 605)
        cnt = wait_for(lambda: (lambda d: d if d.get("comments") == 1 else None)(
            counters(h)), WAIT)
        checks.check(cnt, "%s: past suppress the comment is spooled while Kapture is down"
                     % name, counters(h))
        checks.equal(len(c.req_files()), 2, "%s: ticket and comment wait in spool/" % name)
        checks.equal(c.mock.successes() + c.mock.successes("update"), [],
                     "%s: nothing succeeded during the outage" % name)
        c.mock.configure(fail_next=0)
        ok = wait_for(lambda: c.mock.successes("update") and not c.req_files(), 15)
        checks.check(ok, "%s: after recovery the comment was sent" % name)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        reqs = c.mock.requests()
        adds = [r for r in reqs if r["kind"] == "add" and r["result"] == "success"]
        ups = [r for r in reqs if r["kind"] == "update"]
        checks.equal(len(adds), 1, "%s: the ticket was created once" % name)
        tid = adds[0]["ticket_id"] if adds else None
        checks.equal([(r["result"], r["body"]) for r in ups], [("success", [{
            "ticket_id": tid,
            "comment": repeat_sentence(2, 3, T0, T0 + 30) +
            "\nLast: I/O error on sda1 sector 2",
            "sub_status": "P"}])],
            "%s: exactly one update request, naming the id the mock gave the ticket"
            % name)
        checks.check(adds and ups and ups[0]["n"] > adds[0]["n"],
                     "%s: the comment went after its ticket was created" % name)
        checks.equal(c.req_files("failed"), [], "%s: nothing in failed/" % name)
        c.check_token(checks)


def case_comment_long(checks, omk, base):
    """on_repeat = comment when the lines are rsyslog JSON (%jsonmesg%, what
    the omprog action sends) with a 9 KB message: "Last:" is the message
    (cut to fit 8 KB, ending in an ellipsis), never raw JSON."""
    name = "comment-long"
    pad = "x" * 9000

    def jline(t, n):
        return (json.dumps({"msg": "I/O error on sda1 sector %d %s" % (n, pad),
                            "hostname": "web1", "syslogtag": "kernel:",
                            "programname": "kernel",
                            "timereported": time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                                          time.gmtime(t))}) + "\n").encode()

    with Case(omk, base, name, COMMENT_RULE) as c:
        h = c.helper("helper")
        for i in range(3):
            feed_at(c, h, T0 + 60 * i, jline(T0 + 60 * i, i), i + 1)
        c.set_time(T0 + 120 + 605)
        ok = wait_for(lambda: c.mock.successes("update"), WAIT)
        checks.check(ok, "%s: past suppress a comment was sent" % name)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        adds = c.mock.successes()
        tid = adds[0]["ticket_id"] if adds else None
        checks.equal([b.get("title") for b in c.mock.ok()], ["Disk error on sda1 at web1"],
                     "%s: one ticket" % name)
        ups = [body_obj(r["body"]) for r in c.mock.requests() if r["kind"] == "update"]
        checks.equal([u.get("ticket_id") for u in ups], [tid],
                     "%s: one comment, on the ticket's id" % name)
        com = ups[0].get("comment", "") if len(ups) == 1 else ""
        head = repeat_sentence(2, 3, T0, T0 + 120) + "\nLast: "
        last = com[len(head):] if com.startswith(head) else None
        # A line over 8 KB is kept as RFC 5424 with as much of the message
        # as fits, ending in "…": what is shown is the message.
        checks.check(last is not None and len(last) >= 1000 and last.endswith("…") and
                     ("I/O error on sda1 sector 2 " + pad).startswith(last[:-1]),
                     "%s: the comment is the sentence, then \"Last: \" and the last line's "
                     "message (not its raw JSON)" % name, repr(com[:240]))
        c.check_token(checks)

    # on_repeat = ticket: the summary is rendered against that last line.
    name = "repeat-ticket-long"
    rules = DISK_RULE.replace("details = ${count} matches since ${first_seen} (last "
                              "${last_seen}) key ${key}\\nLast: ${line}",
                              "details = ${line}") + "on_repeat = ticket\n"
    with Case(omk, base, name, rules) as c:
        h = c.helper("helper")
        for i in range(3):
            feed_at(c, h, T0 + 60 * i, jline(T0 + 60 * i, i), i + 1)
        c.set_time(T0 + 120 + 605)
        ok = wait_for(lambda: len(c.mock.ok()) >= 2, WAIT)
        checks.check(ok, "%s: past suppress a summary ticket was sent" % name)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        bodies = c.mock.ok()
        checks.equal([b.get("title") for b in bodies],
                     ["Disk error on sda1 at web1", "Repeated 2 times: Disk error on sda1 at "
                      "web1"], "%s: the summary's title has the line's host, like the "
                      "ticket's" % name)
        det = bodies[1].get("ticket_details", "") if len(bodies) == 2 else ""
        checks.check('"msg"' not in det and "I/O error on sda1 sector 2 xxx" in det,
                     "%s: its details show the message, not raw JSON" % name, repr(det[:240]))
        c.check_token(checks)


def case_comment_restart(checks, omk, base):
    """Kapture down across restarts: run 1 spools the ticket, run 2 (past
    suppress) spools the comment before any id is known, run 3 (Kapture
    back) creates the ticket and fills its id into the comment."""
    name = "comment-restart"
    with Case(omk, base, name, COMMENT_RULE,
              mock_faults={"fault": "503", "fail_next": -1}) as c:
        rc, _, _ = c.run("run1", [], disk(T0, 0) + disk(T0, 1) + disk(T0, 2))
        checks.equal(rc, 0, "%s: run 1 (Kapture down) exits 0" % name)
        checks.equal(len(c.req_files()), 1, "%s: the ticket waits in spool/" % name)
        c.set_time(T0 + 605)
        rc, _, _ = c.run("run2", [], b"")
        checks.equal(rc, 0, "%s: run 2 (past suppress, Kapture down) exits 0" % name)
        checks.equal(len(c.req_files()), 2, "%s: ticket and comment wait in spool/" % name)
        c.mock.configure(fail_next=0)
        c.set_time(T0 + 610)
        rc, _, _ = c.run("run3", [], b"")
        checks.equal(rc, 0, "%s: run 3 (Kapture back) exits 0" % name)
        reqs = c.mock.requests()
        adds = [r for r in reqs if r["kind"] == "add" and r["result"] == "success"]
        ups = [r for r in reqs if r["kind"] == "update"]
        checks.equal(len(adds), 1, "%s: the ticket was created once" % name)
        tid = adds[0]["ticket_id"] if adds else None
        checks.equal([(r["result"], r["body"]) for r in ups], [("success", [{
            "ticket_id": tid,
            "comment": repeat_sentence(2, 3, T0, T0) +
            "\nLast: I/O error on sda1 sector 2",
            "sub_status": "P"}])],
            "%s: exactly one update request, naming the id the mock gave the ticket"
            % name)
        checks.equal(c.req_files(), [], "%s: spool/ is empty" % name)
        checks.equal(c.req_files("failed"), [], "%s: nothing in failed/" % name)
        c.check_token(checks)


def case_repeat_ticket(checks, omk, base):
    name = "repeat-ticket"
    rules = DISK_RULE.replace("details = ${count} matches since ${first_seen} (last "
                              "${last_seen}) key ${key}\\nLast: ${line}",
                              "details = Device ${dev}: ${line}") + "on_repeat = ticket\n"
    with Case(omk, base, name, rules) as c:
        h = c.helper("helper")
        for i in range(5):
            feed_at(c, h, T0 + 60 * i, disk(T0 + 60 * i, i), i + 1)
        c.set_time(T0 + 240 + 605)
        ok = wait_for(lambda: len(c.mock.ok()) >= 2 and not c.req_files(), WAIT)
        checks.check(ok, "%s: past suppress a second ticket was sent" % name)
        cnt = counters(h)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        bodies = c.mock.ok()
        checks.equal(len(c.mock.requests()), 2, "%s: the mock received exactly 2 requests"
                     % name)
        checks.equal([b.get("title") for b in bodies],
                     ["Disk error on sda1 at web1", "Repeated 4 times: Disk error on sda1 "
                      "at web1"], "%s: the ticket, then one summary \"Repeated 4 times: "
                      "<title>\"" % name)
        if len(bodies) == 2:
            first, summ = bodies
            sentence = repeat_sentence(4, 5, T0, T0 + 240)
            det = summ.get("ticket_details", "")
            checks.check(det.startswith(sentence),
                         "%s: the summary's details start with the sentence" % name,
                         "want prefix: %r\n got: %r" % (sentence, det))
            checks.check(det.endswith("Device sda1: I/O error on sda1 sector 4") and
                         det[len(sentence):-len("Device sda1: I/O error on sda1 sector 4")]
                         .strip() == "",
                         "%s: ... then the rule's details rendered against the last line"
                         % name, det)
            checks.equal(sub(summ, ("email_id", "queue")),
                         {"email_id": "storage@example.com", "queue": "Storage"},
                         "%s: the summary has the rule's email and fields" % name)
            checks.check(summ.get("omkapture_ref") and
                         summ.get("omkapture_ref") != first.get("omkapture_ref"),
                         "%s: the summary has its own ref" % name)
            checks.equal(first.get("ticket_details"), "Device sda1: I/O error on sda1 sector 0",
                         "%s: the first ticket's details are the rule's" % name)
        checks.equal(sub(cnt, ("repeat_tickets", "comments", "repeats")),
                     {"repeat_tickets": 1, "comments": 0, "repeats": 4},
                     "%s: counters: repeat_tickets 1" % name)
        c.check_token(checks)


def case_storm(checks, omk, base):
    name = "storm"
    rules = ("[alert]\n"
             "match = ALERT (?<id>\\d+)\n"
             "title = Alert ${id} on ${host}\n"
             "details = ${line}\n"
             "\n"
             "[disk]\n"
             "match = DISK (?<id>\\d+) failing\n"
             "title = Disk ${id} on ${host}\n")
    n, chunks = 5000, 10

    def alert(i):
        # Every 5th alert is of the second rule: 4000 + 1000 distinct keys.
        return "DISK %d failing" % i if i % 5 == 4 else "ALERT %d" % i

    def title(i):
        return ("Disk %d on web1" if i % 5 == 4 else "Alert %d on web1") % i

    with Case(omk, base, name, rules, limits={"max_tickets": "60/1h"},
              defaults={"email": "noc@example.com"}) as c:
        h = c.helper("helper")
        per = n // chunks
        for k in range(chunks):
            t = T0 + 6 * k                      # 5000 alerts within 54 s
            cnt = feed_at(c, h, t, b"".join(line(t, "web1", "app", alert(i))
                                            for i in range(k * per, (k + 1) * per)),
                          (k + 1) * per)
        checks.equal(sub(cnt, ("lines", "tickets", "held")),
                     {"lines": n, "tickets": 60, "held": n - 60},
                     "%s: 5000 alerts in a minute: 60 tickets, 4940 held back" % name)
        ok = wait_for(lambda: len(c.mock.ok()) >= 60 and not c.req_files(), 20)
        checks.check(ok, "%s: the 60 tickets were delivered" % name)
        checks.equal(len(c.mock.requests()), 60, "%s: no summary while the storm goes on"
                     % name)
        c.set_time(T0 + 54 + 305)               # quiet for storm_quiet (5m)
        ok = wait_for(lambda: len(c.mock.ok()) >= 61 and not c.req_files(), WAIT)
        checks.check(ok, "%s: after storm_quiet a summary was sent" % name)
        cnt = counters(h)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        reqs = c.mock.requests()
        checks.equal(len(reqs), 61, "%s: 61 requests in total (60 + 1 summary)" % name)
        bodies = c.mock.ok()
        titles = [b.get("title") for b in bodies]
        summ = [b for b in bodies if b.get("title", "").startswith("omkapture storm")]
        checks.equal(sorted(t for t in titles if not t.startswith("omkapture storm")),
                     sorted(title(i) for i in range(60)),
                     "%s: the tickets are the first 60 alerts" % name)
        checks.equal([b.get("title") for b in summ],
                     ["omkapture storm guard: 4940 tickets held back"],
                     "%s: one summary titled \"omkapture storm guard: 4940 tickets held "
                     "back\"" % name)
        if summ:
            det = summ[0].get("ticket_details", "")
            for rule, held in (("alert", 4000 - 48), ("disk", 1000 - 12)):
                checks.check(re.search(r"\[%s\]\D*%d held back" % (rule, held), det),
                             "%s: the details say [%s] held back %d" % (name, rule, held), det)
                ids = [int(k) for k in re.findall(r'"%s\|(\d+)"' % rule, det)]
                checks.check(len(set(ids)) == 20 and
                             all(60 <= i < n and (i % 5 == 4) == (rule == "disk")
                                 for i in ids),
                             "%s: the details list 20 of [%s]'s held keys" % (name, rule),
                             ids)
            checks.equal(summ[0].get("email_id"), "noc@example.com",
                         "%s: the summary's email comes from [defaults]" % name)
        checks.equal(sub(cnt, ("storm_summaries", "held")),
                     {"storm_summaries": 1, "held": 4940},
                     "%s: counters: storm_summaries 1" % name)
        checks.check("storm guard" in h.stderr_text(),
                     "%s: stderr says the storm guard holds tickets back" % name)
        c.check_token(checks)


def restart_runs(checks, c, name, t1, t2, event=False):
    """Runs 1 and 2 of the acceptance: 50000 lines of one error each (at
    t1, then t2), pipe mode: EOF saves the state, the start loads it.
    Returns the ticket's id."""
    half = 50000
    lines = [line(t1, "web1", "kernel", "I/O error on sda1 seq %d" % i) for i in range(half)]
    if not event:
        c.set_time(t1)
    rc, out, err = c.run("run1", [], b"".join(lines))
    checks.equal(rc, 0, "%s: run 1 (50000 lines, EOF) exits 0" % name)
    adds = c.mock.successes()
    checks.equal(len(adds), 1, "%s: exactly 1 ticket after run 1" % name)
    checks.check(os.path.isfile(c.state), "%s: run 1 left %s" % (name, c.state))
    if os.path.isfile(c.state):
        checks.equal(oct(os.stat(c.state).st_mode & 0o777), "0o600",
                     "%s: the state file is 0600" % name)
    lines = [line(t2, "web1", "kernel", "I/O error on sda1 seq %d" % i)
             for i in range(half, 2 * half)]
    if not event:
        c.set_time(t2)
    rc, out, err = c.run("run2", [], b"".join(lines))
    checks.equal(rc, 0, "%s: run 2 (50000 more lines, a minute later) exits 0" % name)
    checks.equal(len(c.mock.requests()), 1, "%s: still exactly 1 ticket (1 request) "
                 "after the restart" % name)
    return adds[0]["ticket_id"] if adds else None


def check_restart_comment(checks, c, name, tid):
    reqs = c.mock.requests()
    checks.equal([(r["kind"], r["result"]) for r in reqs],
                 [("add", "success"), ("update", "success")],
                 "%s: in all 1 ticket and 1 comment" % name)
    checks.equal([r["body"] for r in reqs if r["kind"] == "update"], [[{
        "ticket_id": tid,
        "comment": repeat_sentence(99999, 100000, T0, T0 + 60) +
        "\nLast: I/O error on sda1 seq 99999",
        "sub_status": "P"}]],
        "%s: the comment: 100000 matches, 99999 repeats, the last line, on the "
        "ticket's id" % name)


def case_restart(checks, omk, base):
    # The third phase as a third run.
    name = "restart"
    with Case(omk, base, name, COMMENT_RULE) as c:
        tid = restart_runs(checks, c, name, T0, T0 + 60)
        c.set_time(T0 + 60 + 605)
        rc, out, err = c.run("run3", [], b"")
        checks.equal(rc, 0, "%s: run 3 (past suppress, no input) exits 0" % name)
        check_restart_comment(checks, c, name, tid)
        c.check_token(checks)

    # The third phase as a live process whose clock moves.
    name = "restart-live"
    with Case(omk, base, name, COMMENT_RULE) as c:
        tid = restart_runs(checks, c, name, T0, T0 + 60)
        h = c.helper("live")
        counters(h)
        c.set_time(T0 + 60 + 605)
        ok = wait_for(lambda: c.mock.successes("update"), WAIT)
        checks.check(ok, "%s: the live process sent the comment once past suppress" % name)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        check_restart_comment(checks, c, name, tid)
        c.check_token(checks)

    # clock = event: the runs' lines carry their times; the event clock
    # resumes from the state and runs on at wall speed in a live process.
    name = "restart-event"
    wall = T0 + 7200
    with Case(omk, base, name, COMMENT_RULE, dedup={"clock": "event"}, wall=wall) as c:
        tid = restart_runs(checks, c, name, T0, T0 + 60, event=True)
        h = c.helper("live")
        # Its loop runs (so the state is loaded and the event clock set
        # from it) before the wall clock moves.
        counters(h)
        c.set_time(wall + 605)
        ok = wait_for(lambda: c.mock.successes("update"), WAIT)
        checks.check(ok, "%s: a live process sent the comment once the wall clock moved "
                     "past suppress" % name)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        check_restart_comment(checks, c, name, tid)
        c.check_token(checks)


SIGHUP_RULES = [
    DISK_RULE,
    DISK_RULE + "\n[net]\nmatch = link (?<ifc>\\S+) is down\ntitle = Link ${ifc} down on "
    "${host}\n",
    DISK_RULE + "\n[net]\nmatch = link (?<ifc>\\S+) is down\ntitle = Link ${ifc} down on "
    "${host}\n\n[fan]\nmatch = fan (?<fan>\\d+) failed\ntitle = Fan ${fan} on ${host}\n",
]
BROKEN_RULES = SIGHUP_RULES[2] + "\n[broken]\nmatch = (unclosed\ntitle = x\n"


def case_sighup(checks, omk, base):
    name = "sighup"
    with Case(omk, base, name, SIGHUP_RULES[0]) as c:
        h = c.helper("helper")
        stop = threading.Event()
        inject = []
        lock = threading.Lock()
        sent = [0]

        def writer():
            i = 0
            try:
                while not stop.is_set():
                    with lock:
                        extra, inject[:] = list(inject), []
                    chunk = b"".join(disk(T0, i + j) for j in range(200))
                    h.send(chunk + b"".join(extra))
                    i += 200
                    sent[0] = i
                    time.sleep(0.005)       # pacing only: the clock is pinned
            except (BrokenPipeError, OSError, ValueError):
                pass

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        try:
            ok = wait_for(lambda: c.mock.successes(), WAIT)
            checks.check(ok, "%s: the burst's ticket was created" % name)
            reloads = []
            for k, rules in enumerate(SIGHUP_RULES[1:] + SIGHUP_RULES[2:] * 3):
                c.write_rules(rules)
                n0 = h.stderr_text().count("reloaded: ")
                before = counters(h).get("lines", 0)
                os.kill(h.proc.pid, signal.SIGHUP)
                got = wait_for(lambda: h.stderr_text().count("reloaded: ") > n0, WAIT)
                reloads.append(bool(got))
                after = counters(h, before + 1).get("lines", 0)
                checks.check(after > before, "%s: lines keep flowing around reload %d "
                             "(%d -> %d)" % (name, k + 1, before, after))
            checks.equal(reloads, [True] * 5, "%s: 5 SIGHUPs, 5 reloads" % name)
            checks.check(re.search(r"reloaded: 3 rules", h.stderr_text()),
                         "%s: stderr says \"reloaded: 3 rules\"" % name)
            cnt = counters(h)
            checks.equal(sub(cnt, ("tickets",)), {"tickets": 1},
                         "%s: after 5 reloads under load the burst still has 1 ticket (%s "
                         "lines)" % (name, cnt.get("lines")))
            # A broken rules file: the running set stays.
            c.write_rules(BROKEN_RULES)
            os.kill(h.proc.pid, signal.SIGHUP)
            said = h.wait_stderr("keeping the running configuration", WAIT)
            checks.check(said, "%s: a broken rules file: stderr says the running rules "
                         "are kept" % name, h.stderr_text()[-1500:])
            checks.check(re.search(r"test\.rules:\d+", h.stderr_text()),
                         "%s: ... and names the error's file:line" % name)
            before = counters(h).get("lines", 0)
            with lock:
                inject.append(line(T0, "sw1", "kernel", "link eth0 is down"))
            cnt = counters(h, before + 400)
            checks.check(h.proc.poll() is None and cnt.get("lines", 0) > before,
                         "%s: it keeps running and reading" % name)
            ok = wait_for(lambda: len(c.mock.ok()) >= 2, WAIT)
            checks.check(ok, "%s: the rule added by an earlier reload still tickets" % name)
        finally:
            stop.set()
            t.join(10)
        cnt = counters(h)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        titles = sorted(b.get("title") for b in c.mock.ok())
        checks.equal(titles, ["Disk error on sda1 at web1", "Link eth0 down on sw1"],
                     "%s: exactly 2 tickets: the burst's and the new rule's" % name)
        checks.equal(len(c.mock.requests()), 2, "%s: the mock received 2 requests" % name)
        print("%s: %d lines streamed, %s counted" % (name, sent[0], cnt.get("lines")))
        c.check_token(checks)


def case_sighup_omprog(checks, omk, base):
    """The same in --omprog mode (rsyslog sends SIGHUP): every line is
    answered OK through 5 reloads and a failed one."""
    name = "sighup-omprog"
    with Case(omk, base, name, SIGHUP_RULES[0]) as c:
        h = c.helper("helper", ["--omprog"])
        checks.equal(h.reply(), "OK", "%s: the start-up reply is OK" % name)
        stop = threading.Event()
        replies = []

        def writer():
            i = 0
            while not stop.is_set():
                r = h.ask(disk(T0, i).decode().rstrip("\n"))
                if r is None:
                    break
                replies.append(r)
                i += 1

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        try:
            checks.check(wait_for(lambda: c.mock.successes(), WAIT),
                         "%s: the burst's ticket was created" % name)
            got = []
            for k in range(5):
                c.write_rules(SIGHUP_RULES[1 + k % 2])
                n0, r0 = h.stderr_text().count("reloaded: "), len(replies)
                os.kill(h.proc.pid, signal.SIGHUP)
                got.append(bool(wait_for(lambda: h.stderr_text().count("reloaded: ") > n0 and
                                         len(replies) > r0 + 100, WAIT)))
            checks.equal(got, [True] * 5, "%s: 5 reloads while lines keep being answered"
                         % name)
            c.write_rules(BROKEN_RULES)
            os.kill(h.proc.pid, signal.SIGHUP)
            checks.check(h.wait_stderr("keeping the running configuration", WAIT),
                         "%s: a broken rules file: the running rules are kept" % name)
            r0 = len(replies)
            checks.check(wait_for(lambda: len(replies) > r0 + 100, WAIT),
                         "%s: ... and lines are still answered" % name)
        finally:
            stop.set()
            t.join(10)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        checks.equal(dict(Counter(replies)), {"OK": len(replies)},
                     "%s: all %d lines answered OK" % (name, len(replies)))
        checks.equal(len(c.mock.requests()), 1, "%s: the burst has exactly 1 ticket" % name)
        c.check_token(checks)


def case_sighup_settings(checks, omk, base):
    """SIGHUP keeps the burst of a rule that still exists, under its new
    settings, and forgets the keys of a removed rule."""
    name = "sighup-settings"
    net = "\n[net]\nmatch = link (?<ifc>\\S+) is down\ntitle = Link ${ifc} down on ${host}\n"
    with Case(omk, base, name, DISK_RULE + net) as c:
        h = c.helper("helper")
        feed_at(c, h, T0, disk(T0, 0) + line(T0, "sw1", "kernel", "link eth0 is down"), 2)
        ok = wait_for(lambda: len(c.mock.ok()) >= 2, WAIT)
        checks.check(ok, "%s: two tickets, [disk] and [net]" % name)
        ref = [b.get("omkapture_ref") for b in c.mock.ok() if b["title"].startswith("Disk")]
        # [disk] now suppresses for 1m only; [net] is gone.
        c.write_rules(DISK_RULE + "suppress = 1m\n")
        os.kill(h.proc.pid, signal.SIGHUP)
        checks.check(h.wait_stderr("reloaded: 1 rule", WAIT),
                     "%s: reloaded with [net] removed" % name, h.stderr_text()[-800:])
        cnt = feed_at(c, h, T0 + 30, disk(T0 + 30, 1), 3)
        checks.equal(sub(cnt, ("tickets", "suppressed", "keys")),
                     {"tickets": 2, "suppressed": 1, "keys": 1},
                     "%s: the [disk] burst survived the reload (suppressed); [net]'s key "
                     "was dropped" % name)
        c.set_time(T0 + 30 + 65)
        over = ("burst over, 2 matches from %s to %s, 1 after its ticket (ref %s)"
                % (fmt(T0), fmt(T0 + 30), ref[0] if ref else "?"))
        checks.check(h.wait_stderr(over, WAIT), "%s: under the new suppress (1m) the burst "
                     "ends 65 s after its last match: %r" % (name, over),
                     h.stderr_text()[-800:])
        # [net] back: its old burst was forgotten, so it tickets again.
        c.write_rules(DISK_RULE + "suppress = 1m\n" + net)
        n0 = h.stderr_text().count("reloaded: ")
        os.kill(h.proc.pid, signal.SIGHUP)
        wait_for(lambda: h.stderr_text().count("reloaded: ") > n0, WAIT)
        feed_at(c, h, T0 + 100, line(T0 + 100, "sw1", "kernel", "link eth0 is down"), 4)
        ok = wait_for(lambda: len(c.mock.ok()) >= 3 and not c.req_files(), WAIT)
        rc = c.finish(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        checks.equal(sorted(b["title"] for b in c.mock.ok()),
                     ["Disk error on sda1 at web1", "Link eth0 down on sw1",
                      "Link eth0 down on sw1"],
                     "%s: a removed and re-added rule starts afresh (a second [net] ticket), "
                     "[disk] has one" % name)
        checks.equal(len(c.mock.requests()), 3, "%s: the mock received 3 requests" % name)
        c.check_token(checks)


REPLAY_RULES = (
    "[disk]\n"
    "match = I/O error on (?<dev>\\S+)\n"
    "suppress = 5m\n"
    "on_repeat = comment\n"
    "title = Disk ${dev} on ${host}\n"
    "details = ${count} since ${first_seen}: ${line}\n"
    "due = +4h\n"
    "\n"
    "[auth]\n"
    "match = Failed password for \\S+ from (?<ip>\\S+)\n"
    "key = ${ip}\n"
    "threshold = 3 in 5m\n"
    "suppress = 5m\n"
    "on_repeat = ticket\n"
    "title = Brute force from ${ip}\n"
    "details = ${count} failures ${first_seen}..${last_seen}\n"
    "\n"
    "[flap]\n"
    "match = service (?<svc>\\S+) is flapping\n"
    "suppress = 5m\n"
    "renotify = 10m\n"
    "title = Flapping ${svc}\n"
    "details = ${count} since ${first_seen} at ${time}\n"
    "\n"
    "[oom]\n"
    "match = Out of memory: Killed process \\d+ \\((?<proc>[^)]+)\\)\n"
    "title = OOM ${proc} on ${host}\n"
    "details = ${line}\n"
    "due = +1h\n"
)


def replay_log():
    ev = []
    for i, off in enumerate((0, 30, 60, 90, 120, 1200, 1230, 1260)):
        ev.append((off, "web1", "kernel", "I/O error on sda sector %d" % i))
    ev.append((600, "web2", "kernel", "I/O error on sdb sector 7"))
    for off in (60, 120, 180, 240, 300):
        ev.append((off, "bastion", "sshd", "Failed password for root from 203.0.113.5"))
    for off in (0, 400, 800):
        ev.append((off, "bastion", "sshd", "Failed password for admin from 198.51.100.7"))
    for off in range(0, 1441, 120):
        ev.append((off, "lb1", "monit", "service nginx is flapping"))
    ev += [(300, "db1", "kernel", "Out of memory: Killed process 4242 (postgres)"),
           (900, "app1", "kernel", "Out of memory: Killed process 777 (java)"),
           (1500, "db1", "kernel", "Out of memory: Killed process 4343 (postgres)"),
           (1800, "web1", "cron", "nothing to see here")]
    ev.sort(key=lambda e: e[0])    # stable: same-second lines keep their order
    out = []
    for off, host, prog, msg in ev:
        t = T0 + off
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
        if "Out of memory" in msg:      # journal JSON, microseconds
            out.append((json.dumps({"MESSAGE": msg, "_HOSTNAME": host,
                                    "SYSLOG_IDENTIFIER": prog,
                                    "__REALTIME_TIMESTAMP": str(t * 1000000 + 250000)})
                        + "\n").encode())
        elif "sdb" in msg:              # rsyslog JSON (%jsonmesg%)
            out.append((json.dumps({"msg": msg, "hostname": host, "programname": prog,
                                    "syslogtag": prog + ":",
                                    "timereported": iso + ".5+00:00"}) + "\n").encode())
        elif "198.51.100.7" in msg:     # RFC 5424
            out.append(("<38>1 %sZ %s %s 4711 - - %s\n" % (iso, host, prog, msg)).encode())
        else:                           # RFC 3164
            out.append(line(t, host, prog, msg))
    return out


REPLAY_TITLES = sorted(
    ["Disk sda on web1"] * 2 + ["Disk sdb on web2", "Brute force from 203.0.113.5",
                                "Repeated 2 times: Brute force from 203.0.113.5"] +
    ["Flapping nginx"] * 3 + ["OOM postgres on db1"] * 2 + ["OOM java on app1"])


def replay_result(c):
    """(sorted ticket tuples, sorted comment tuples) at c's mock; a comment
    names its ticket by that ticket's omkapture_ref."""
    reqs = c.mock.requests()
    adds = [r for r in reqs if r["kind"] == "add" and r["result"] == "success"]
    by_id = {r["ticket_id"]: body_obj(r["body"]).get("omkapture_ref") for r in adds}
    tickets = sorted(tuple(sorted(body_obj(r["body"]).items())) for r in adds)
    comments = sorted((by_id.get(body_obj(r["body"]).get("ticket_id"), "?"),
                       body_obj(r["body"]).get("comment"))
                      for r in reqs if r["kind"] == "update" and r["result"] == "success")
    return tickets, comments, reqs


def case_replay(checks, omk, base):
    name = "replay"
    log = replay_log()
    wall = T0 + 7200          # the wall clock, pinned: 03:00, after the log
    results = {}
    for mode in ("live", "one-go"):
        cname = "%s-%s" % (name, mode)
        with Case(omk, base, cname, REPLAY_RULES, dedup={"clock": "event"},
                  spool={"shutdown_timeout": "10s"}, wall=wall) as c:
            if mode == "live":
                h = c.helper("helper")
                i, k = 0, 0
                while i < len(log):
                    step = 1 + k % 3              # 1, 2, 3 lines at a time
                    h.send(b"".join(log[i:i + step]))
                    i = min(i + step, len(log))
                    k += 1
                    counters(h, i)
                ok = wait_for(lambda: len(c.mock.ok()) >= len(REPLAY_TITLES) and
                              len(c.mock.ok("update")) >= 2 and not c.req_files(), 15)
                checks.check(ok, "%s: the live helper delivered everything" % cname)
                rc = c.finish(h)
            else:
                rc, _, _ = c.run("one-go", [], b"".join(log))
            checks.equal(rc, 0, "%s: exit 0" % cname)
            tickets, comments, reqs = replay_result(c)
            checks.equal(sorted(dict(t)["title"] for t in tickets), REPLAY_TITLES,
                         "%s: the expected %d tickets" % (cname, len(REPLAY_TITLES)))
            checks.equal(len(comments), 2, "%s: 2 comments (the two bursts of sda)" % cname)
            checks.check(all(ref != "?" for ref, _ in comments),
                         "%s: each comment names a ticket it created" % cname, comments)
            checks.equal(len(reqs), len(REPLAY_TITLES) + 2,
                         "%s: no other request (no retries, no duplicates)" % cname)
            checks.equal(c.req_files("failed"), [], "%s: nothing in failed/" % cname)
            results[mode] = (tickets, comments)
            c.check_token(checks)
    if len(results) == 2:
        (t1, c1), (t2, c2) = results["live"], results["one-go"]
        checks.equal(t2, t1, "%s: one go gives the same ticket bodies (titles, details, due "
                     "dates, omkapture_refs) as the live run" % name)
        checks.equal(c2, c1, "%s: ... and the same comments on the same tickets" % name)
        disk = sorted((dict(t)["ticket_details"], dict(t).get("due_date"))
                      for t in t1 if dict(t)["title"] == "Disk sda on web1")
        checks.equal(disk, [("1 since %s: I/O error on sda sector 0" % fmt(T0),
                             fmt(T0 + 4 * 3600)),
                            ("1 since %s: I/O error on sda sector 5" % fmt(T0 + 1200),
                             fmt(T0 + 1200 + 4 * 3600))],
                     "%s: event times: first_seen and due dates count from the lines' own "
                     "times" % name)


def case_evict(checks, omk, base):
    name = "evict"
    rules = ("[job]\n"
             "match = job (?<job>\\S+) failed\n"
             "title = Job ${job} failed\n"
             "details = ${line}\n")
    with Case(omk, base, name, rules, dedup={"max_keys": "100"},
              spool={"shutdown_timeout": "10s"}) as c:
        data = b"".join(line(T0, "cron1", "cron", "job j%03d failed" % i)
                        for i in range(150))
        data += line(T0 + 1, "cron1", "cron", "job j000 failed (again)")
        data += line(T0 + 1, "cron1", "cron", "job j149 failed (again)")
        rc, out, err = c.run("run", ["-v"], data)
        checks.equal(rc, 0, "%s: exit 0" % name)
        warn = [ln for ln in err.decode("utf-8", "replace").split("\n")
                if "max_keys" in ln and "warning" in ln]
        checks.equal(len(warn), 1, "%s: one warning about max_keys (once a minute)" % name)
        titles = Counter(b.get("title") for b in c.mock.ok())
        want = Counter("Job j%03d failed" % i for i in range(150))
        want["Job j000 failed"] += 1
        checks.equal(titles, want, "%s: 151 tickets: every key once, the evicted j000 "
                     "again when it recurs, j149 (kept) not" % name)
        checks.equal(len(c.mock.requests()), 151, "%s: 151 requests" % name)
        stats = [json.loads(ln) for ln in err.decode().split("\n") if COUNTER_RE.match(ln)]
        if stats:
            checks.equal(sub(stats[-1], ("keys", "keys_evicted")),
                         {"keys": 100, "keys_evicted": 51},
                         "%s: counters at exit: 100 keys, 51 evicted" % name)
        c.check_token(checks)


def case_evict_over(checks, omk, base):
    """At max_keys, bursts that are over go first: no key is forgotten."""
    name = "evict-over"
    rules = ("[job]\n"
             "match = job (?<job>\\S+) failed\n"
             "title = Job ${job} failed\n"
             "suppress = 5m\n")
    with Case(omk, base, name, rules, dedup={"max_keys": "100", "clock": "event"},
              spool={"shutdown_timeout": "10s"}, wall=T0 + 7200) as c:
        data = b"".join(line(T0, "cron1", "cron", "job j%03d failed" % i) for i in range(100))
        data += b"".join(line(T0 + 400, "cron1", "cron", "job j%03d failed" % i)
                         for i in range(100, 150))
        data += line(T0 + 401, "cron1", "cron", "job j120 failed (again)")
        rc, out, err = c.run("run", ["-v"], data)
        checks.equal(rc, 0, "%s: exit 0" % name)
        text = err.decode("utf-8", "replace")
        checks.check("max_keys" not in text, "%s: no max_keys warning: the 100 bursts that "
                     "were over made room" % name)
        stats = [json.loads(ln) for ln in text.split("\n") if COUNTER_RE.match(ln)]
        checks.equal(sub(stats[-1] if stats else {}, ("keys", "keys_evicted", "tickets")),
                     {"keys": 50, "keys_evicted": 0, "tickets": 150},
                     "%s: counters at exit: 50 keys, none evicted, 150 tickets" % name)
        checks.equal(len(c.mock.ok()), 150, "%s: 150 tickets, j120's recurrence "
                     "suppressed" % name)
        c.check_token(checks)


def case_corrupt(checks, omk, base):
    name = "corrupt"
    for variant in ("garbage", "damaged-record"):
        cname = "%s-%s" % (name, variant)
        with Case(omk, base, cname, DISK_RULE) as c:
            if variant == "garbage":
                junk = b"\x00\xffnot a state file\n" + os.urandom(256)
            else:
                # A real state file, then a record that is not one.
                rc, _, _ = c.run("seed", [], disk(T0 - 3600, 0, dev="sdz"))
                with open(c.state, "rb") as f:
                    junk = f.read() + b"key ???\x01 garbage here\n"
                os.unlink(c.state)
                n_seed = len(c.mock.requests())
            with open(c.state, "wb") as f:
                f.write(junk)
            os.chmod(c.state, 0o600)
            before = len(c.mock.requests())
            rc, out, err = c.run("run1", [], disk(T0, 1))
            checks.equal(rc, 0, "%s: exit 0 with a damaged state file" % cname)
            aside = sorted(n for n in os.listdir(c.spool) if n.startswith("state.corrupt-"))
            checks.check(len(aside) == 1, "%s: the file was moved aside to state.corrupt-*"
                         % cname, os.listdir(c.spool))
            if aside:
                with open(os.path.join(c.spool, aside[0]), "rb") as f:
                    checks.check(f.read() == junk, "%s: ... unchanged" % cname)
                checks.check(re.search(r"warning: .*state.*%s" % re.escape(aside[0]),
                                       err.decode("utf-8", "replace")),
                             "%s: a warning names it" % cname)
            checks.equal(len(c.mock.requests()) - before, 1,
                         "%s: processing went on: the line was ticketed" % cname)
            checks.check(os.path.isfile(c.state), "%s: a new state file was written" % cname)
            c.set_time(T0 + 60)
            rc, out, err = c.run("run2", [], disk(T0 + 60, 2))
            checks.equal(rc, 0, "%s: the next run exits 0" % cname)
            checks.equal(len(c.mock.requests()) - before, 1,
                         "%s: ... and its new state suppresses the same key" % cname)
            if variant != "garbage":
                checks.equal(n_seed, 1, "%s: (the seeding run made its ticket)" % cname)
            c.check_token(checks)


def case_dry_run(checks, omk, base):
    name = "dry-run"
    with Case(omk, base, name, DISK_RULE + "\n" + THRESHOLD_RULE) as c:
        data = b"".join(disk(T0, i) for i in range(10))
        data += line(T0, "h1", "sshd", "login failure for root")
        data += line(T0, "h1", "sshd", "login failure for bob")
        rc, out, err = c.run("dry-run", ["--dry-run", "-v"], data)
        checks.equal(rc, 0, "%s: exit 0" % name)
        text = err.decode("utf-8", "replace")
        supp = re.findall(r'dedup: rule \[disk\] key "disk\|sda1": suppressed, (\d+) matches '
                          r'since ' + re.escape(fmt(T0)), text)
        checks.equal([int(x) for x in supp], list(range(2, 11)),
                     "%s: one \"suppressed\" line per suppressed match (9)" % name)
        checks.equal(len(re.findall(r"dedup: .*suppressed", text)), 9,
                     "%s: exactly 9 \"dedup: ... suppressed\" lines on stderr" % name)
        below = re.findall(r'dedup: rule \[thr\] key "h1": below threshold, (\d) of 3 within '
                           r'600s', text)
        checks.equal(below, ["1", "2"], "%s: one \"below threshold\" line per pending match"
                     % name)
        outl = [json.loads(ln) for ln in out.decode().split("\n") if ln.strip()]
        checks.equal([(o.get("rule"), o.get("key")) for o in outl], [("disk", "disk|sda1")],
                     "%s: one ticket on stdout" % name)
        checks.equal(sorted(n for n in os.listdir(c.spool) if n.startswith("state")), [],
                     "%s: no state file written" % name)
        checks.equal(c.req_files(), [], "%s: nothing spooled" % name)
        checks.equal(len(c.mock.requests()), 0, "%s: nothing sent" % name)
        c.check_token(checks)


def case_dry_run_event(checks, omk, base):
    """--dry-run with clock = event: a burst that ends inside the input
    shows its comment (kind "comment") and its summary ticket on stdout."""
    name = "dry-run-event"
    rules = COMMENT_RULE + "\n[fan]\nmatch = fan (?<n>\\d+) failed\ntitle = Fan ${n}\n" \
        "details = ${line}\non_repeat = ticket\n"
    with Case(omk, base, name, rules, dedup={"clock": "event"}, wall=T0 + 7200) as c:
        data = b"".join(disk(T0 + i, i) for i in range(3))
        data += b"".join(line(T0 + i, "web1", "kernel", "fan 2 failed") for i in range(3))
        data += line(T0 + 1200, "web1", "cron", "nothing to see")
        rc, out, err = c.run("dry-run", ["--dry-run", "-v"], data)
        checks.equal(rc, 0, "%s: exit 0" % name)
        outl = [json.loads(ln) for ln in out.decode().split("\n") if ln.strip()]
        checks.equal([(o.get("rule"), o.get("kind")) for o in outl],
                     [("disk", None), ("fan", None), ("disk", "comment"), ("fan", None)],
                     "%s: stdout: 2 tickets, then a comment and a summary ticket" % name)
        sentence = repeat_sentence(2, 3, T0, T0 + 2)
        if len(outl) == 4:
            com = body_obj(outl[2].get("request")) or {}
            checks.equal(com.get("comment"), sentence + "\nLast: I/O error on sda1 sector 2",
                         "%s: the comment's text" % name)
            summ = body_obj(outl[3].get("request")) or {}
            checks.equal(summ.get("title"), "Repeated 2 times: Fan 2",
                         "%s: the summary's title" % name)
            checks.check(summ.get("ticket_details", "").startswith(sentence),
                         "%s: the summary's details start with the sentence" % name, summ)
        checks.equal(len(re.findall(r"dedup: .*: suppressed", err.decode())), 4,
                     "%s: 4 \"suppressed\" lines (2 per burst)" % name)
        checks.equal(sorted(n for n in os.listdir(c.spool) if n.startswith("state")), [],
                     "%s: no state file written" % name)
        checks.equal(len(c.mock.requests()), 0, "%s: nothing sent" % name)
        c.check_token(checks)


CASES = [
    ("burst", case_burst),
    ("threshold", case_threshold),
    ("threshold-large", case_threshold_large),
    ("renotify", case_renotify),
    ("comment", case_comment),
    ("comment-long", case_comment_long),
    ("comment-restart", case_comment_restart),
    ("repeat-ticket", case_repeat_ticket),
    ("storm", case_storm),
    ("restart", case_restart),
    ("sighup", case_sighup),
    ("sighup-omprog", case_sighup_omprog),
    ("sighup-settings", case_sighup_settings),
    ("replay", case_replay),
    ("evict", case_evict),
    ("evict-over", case_evict_over),
    ("corrupt", case_corrupt),
    ("dry-run", case_dry_run),
    ("dry-run-event", case_dry_run_event),
]


if __name__ == "__main__":
    sys.exit(mocklib.run_cases("e2e_dedup", "omk-e2e-dedup-", CASES, doc=__doc__))
