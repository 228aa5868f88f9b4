#!/usr/bin/env python3
"""Integration test: the spool's disk is full (ENOSPC): back-pressure, not loss.

    python3 tests/e2e_diskfull.py --omkapture build/plugin/omkapture [--keep]
        [--only CASE[,CASE...]]

Each case mounts a 512 KiB tmpfs as the [spool] dir and fills it with a
filler file until a write fails with ENOSPC. Needs root (or CAP_SYS_ADMIN)
for mount(8): without it the test exits 77 (skipped). The tmpfs is always
unmounted at the end.
Cases (each with its own temp dir, tmpfs and mock):
  omprog     --omprog, one line and one reply at a time: an alert line gets a
             non-OK reply naming "No space left on device" (twice: rsyslog
             re-sends it), a non-alert line still gets OK; once the filler is
             deleted the re-sent line gets OK. Every alert line sent produced
             exactly one ticket, and stdout held nothing but replies.
  pipe       pipe mode, stdin kept open: with the disk full the helper says
             "input paused" and creates nothing; after the filler is deleted
             it resumes and every ticket arrives exactly once.
  pipe-eof   pipe mode, stdin closed while the disk is full: the helper does
             not exit and drop the held line; once the filler is deleted it
             spools and delivers everything, then exits 0.
Always: nothing is left in DIR/tmp/ (nor DIR/spool/, DIR/failed/), and the
random API token appears in no stdout, stderr or spool file.
Exit 0 if every check passed, 77 if mounting is not permitted, else 1.
"""

import contextlib
import errno
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import Helper, MockKapture, write_omkapture_config  # noqa: E402

NOW = 1764237600                     # 2025-11-27 10:00:00 UTC
ENV = {"OMKAPTURE_NOW": str(NOW), "TZ": "UTC"}
TMPFS_SIZE = "512k"
REPLY_TIMEOUT = 10
DELIVER_TIMEOUT = 15
EXIT_TIMEOUT = 20
ENOSPC_TEXT = "No space left on device"

RULES = (
    "[alert]\n"
    "match = ALERT id=(?<id>\\S+)\n"
    "title = alert ${id}\n"
    "details = ${line}\n"
    "email = ops@example.com\n"
    "due = +4h\n"
)

EXTRA = (
    "\n[kapture]\n"
    "timeout = 2s\n"
    "connect_timeout = 1s\n"
    "retry_max = 2s\n"
    "auth_retry = 1s\n"
    "concurrency = 2\n"
    "\n[spool]\n"
    "shutdown_timeout = 2s\n"
)


class Skip(Exception):
    """No tmpfs can be mounted: before the cases, the test is skipped (77);
    in a case (after the probe's mount worked), that case fails."""


# -- the tmpfs --------------------------------------------------------------

class Tmpfs:
    """A small tmpfs mounted on path for a with-block; always unmounted."""

    def __init__(self, path, size=TMPFS_SIZE):
        self.path = path
        self.size = size
        self.mounted = False

    def __enter__(self):
        os.makedirs(self.path, exist_ok=True)
        if shutil.which("mount") is None:
            raise Skip("mount(8) not found")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % self.size,
                            "tmpfs", self.path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise Skip("cannot mount a tmpfs on %s (uid %d): %s" % (
                self.path, os.geteuid(),
                " ".join(r.stdout.decode("utf-8", "replace").split())))
        self.mounted = True
        return self

    def __exit__(self, *exc):
        self.umount()
        return False

    def umount(self):
        if not self.mounted:
            return
        r = subprocess.run(["umount", self.path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0:
            sys.stderr.write("umount %s: %s; lazy unmount\n" % (
                self.path, r.stdout.decode("utf-8", "replace").strip()))
            subprocess.run(["umount", "-l", self.path])
        self.mounted = False


def fill(path):
    """Write path until the file system refuses (ENOSPC); returns its size."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    total = 0
    try:
        for chunk in (65536, 4096, 512, 1):
            data = b"\0" * chunk
            while True:
                try:
                    n = os.write(fd, data)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
                total += n
                if n < chunk:
                    break
    finally:
        os.close(fd)
    return total


def disk_is_full(d):
    """True if a new small file cannot be written in d."""
    probe = os.path.join(d, "probe")
    try:
        with open(probe, "wb") as f:
            f.write(b"x" * 100)
            f.flush()
            os.fsync(f.fileno())
        return False
    except OSError as e:
        return e.errno == errno.ENOSPC
    finally:
        try:
            os.unlink(probe)
        except FileNotFoundError:
            pass


def listing(spool, sub):
    """The files in spool/SUB, without tmp/<pid>.lock (a live helper's
    marker, not data)."""
    try:
        return sorted(n for n in os.listdir(os.path.join(spool, sub))
                      if not n.endswith(".lock"))
    except FileNotFoundError:
        return ["(missing %s/)" % sub]


def show(h, rc):
    print("--- %s: rc=%s, stdout %d bytes, stderr:\n%s" % (
        h.name, rc, len(h.stdout_bytes()), h.stderr_text()[-4000:] or "(empty)"))


# -- checks shared by the cases ----------------------------------------------

def check_tickets(checks, name, mock, want_ids):
    """Each alert id in want_ids became exactly one ticket; nothing else."""
    ok = [r for r in mock.requests() if r["kind"] == "add" and r["result"] == "success"]
    objs = [r["body"][0] if isinstance(r["body"], list) and r["body"] else {} for r in ok]
    refs = Counter(o.get("omkapture_ref") for o in objs)
    dups = {k: v for k, v in refs.items() if v > 1}
    checks.check(not dups, "%s: no omkapture_ref was created twice" % name, dups)
    checks.equal(len(refs), len(want_ids),
                 "%s: %d distinct omkapture_ref values arrived" % (name, len(want_ids)))
    got = Counter(o.get("title") for o in objs)
    want = Counter("alert %s" % i for i in want_ids)
    checks.check(got == want, "%s: every alert line sent became exactly one ticket "
                 "(%d)" % (name, len(want_ids)),
                 "missing: %s\nduplicated/unexpected: %s" % (
                     sorted((want - got).elements()), sorted((got - want).elements())))
    leaks = [r["n"] for r in mock.requests() if r.get("token_in_request")]
    checks.check(not leaks, "%s: no request carried the token outside the auth header" % name,
                 "record entries: %s" % leaks[:10])
    bad = [r for r in mock.requests() if r["result"] != "success"]
    checks.check(not bad, "%s: the mock refused nothing" % name,
                 [(r["status"], r["message"]) for r in bad[:5]])


def check_dirs(checks, name, spool):
    checks.equal(listing(spool, "tmp"), [], "%s: nothing is left in tmp/" % name)
    checks.equal(listing(spool, "spool"), [], "%s: spool/ is empty" % name)
    checks.equal(listing(spool, "failed"), [], "%s: failed/ is empty" % name)


def no_token(checks, name, token, h, spool):
    checks.check(token.encode() not in h.stdout_bytes() and token not in h.stderr_text(),
                 "%s: the token appears neither in stdout nor in stderr" % name)
    hits = mocklib.files_containing(spool, token.encode())
    checks.check(not hits, "%s: the token is in no spool file" % name, hits)


def check_end(checks, name, h, mock, spool, token, want_ids):
    """After the helper exited: the tickets, the spool dirs, the token."""
    check_tickets(checks, name, mock, want_ids)
    check_dirs(checks, name, spool)
    no_token(checks, name, token, h, spool)


@contextlib.contextmanager
def tmpfs_case(base, name):
    """A case's dir, random token, mock and config, its spool dir a small
    tmpfs: yields (mock, conf, spool, filler path, token)."""
    d = os.path.join(base, name)
    os.mkdir(d)
    token = "%s-%s" % (name, os.urandom(12).hex())
    with MockKapture(d, token=token, shape="array", quiet=True) as mock:
        conf = write_omkapture_config(d, mock.url, token, RULES, extra=EXTRA)
        spool = os.path.join(d, "omkapture.spool")
        with Tmpfs(spool):
            yield mock, conf, spool, os.path.join(spool, "filler"), token


# -- cases ---------------------------------------------------------------------

def case_omprog(checks, omk, base):
    name = "omprog"
    sent = []     # alert ids that got OK
    with tmpfs_case(base, name) as (mock, conf, spool, filler, token):
        with Helper(omk, ["--omprog", "-c", conf], ENV, "omprog helper") as h:
            checks.equal(h.reply(), "OK", "%s: OK at start-up" % name)
            checks.equal(h.ask("ALERT id=before"), "OK",
                         "%s: an alert line with room on disk gets OK" % name)
            sent.append("before")
            checks.check(mocklib.wait_for(lambda: len(mock.successes()) == 1 and
                                          not listing(spool, "spool"), DELIVER_TIMEOUT),
                         "%s: its ticket is created and leaves the spool" % name)

            size = fill(filler)
            full = disk_is_full(spool)
            print("--- %s: filler of %d bytes; disk full: %s" % (name, size, full))
            checks.check(full, "%s: the tmpfs is full" % name)

            refused = []
            for attempt in (1, 2):
                r = h.ask("ALERT id=refused")
                refused.append(r)
                checks.check(r is not None and r != "OK" and ENOSPC_TEXT in r,
                             "%s: with the disk full an alert line gets a non-OK reply "
                             "naming \"%s\" (attempt %d)" % (name, ENOSPC_TEXT, attempt),
                             "reply: %r" % r)
                checks.equal(h.ask("nothing to see here %d" % attempt), "OK",
                             "%s: with the disk full a non-alert line still gets OK "
                             "(attempt %d)" % (name, attempt))
            print("--- %s: refusal reply: %r" % (name, refused[0]))
            checks.equal(listing(spool, "tmp"), [],
                         "%s: a refused write leaves nothing in tmp/" % name)
            checks.equal(listing(spool, "spool"), [],
                         "%s: a refused write leaves nothing in spool/" % name)
            time.sleep(0.5)
            checks.equal(len(mock.successes()), 1,
                         "%s: no ticket for the refused line yet" % name)

            os.unlink(filler)
            r = h.ask("ALERT id=refused")
            checks.equal(r, "OK", "%s: after the filler is deleted, the re-sent line "
                         "gets OK" % name)
            if r == "OK":
                sent.append("refused")
            checks.equal(h.ask("ALERT id=after"), "OK",
                         "%s: and a new alert line gets OK" % name)
            sent.append("after")
            delivered = mocklib.wait_for(
                lambda: len(mock.successes()) >= len(sent) and not listing(spool, "spool"),
                DELIVER_TIMEOUT)
            checks.check(delivered, "%s: the tickets are delivered" % name)
            time.sleep(0.3)   # a duplicate would show up now
            h.close_stdin()
            rc = h.wait(EXIT_TIMEOUT)
            extra_out = h.reply(timeout=0.1)
        show(h, rc)
        checks.equal(rc, 0, "%s: exits 0 at EOF" % name)
        checks.check(extra_out is None, "%s: no stray stdout after the replies" % name,
                     repr(extra_out))
        check_end(checks, name, h, mock, spool, token, ["before", "refused", "after"])


def pipe_lines(ids):
    out = []
    for i, x in enumerate(ids):
        out.append("ALERT id=%s" % x)
        if i % 3 == 0:
            out.append("routine message %d" % i)
    return ("\n".join(out) + "\n").encode()


def case_pipe(checks, omk, base, eof_while_full):
    name = "pipe-eof" if eof_while_full else "pipe"
    with tmpfs_case(base, name) as (mock, conf, spool, filler, token):
        with Helper(omk, ["-c", conf], ENV, "pipe helper") as h:
            first = ["p0"]
            h.send(pipe_lines(first))
            checks.check(mocklib.wait_for(lambda: len(mock.successes()) == 1 and
                                          not listing(spool, "spool"), DELIVER_TIMEOUT),
                         "%s: with room on disk the first ticket is delivered" % name)

            size = fill(filler)
            checks.check(disk_is_full(spool), "%s: the tmpfs is full (filler %d bytes)"
                         % (name, size))
            more = ["p%d" % i for i in range(1, 11)]
            h.send(pipe_lines(more))
            if eof_while_full:
                h.close_stdin()
            paused = h.wait_stderr("input paused", REPLY_TIMEOUT)
            checks.check(paused, "%s: stderr says \"input paused\"" % name)
            checks.check(ENOSPC_TEXT in h.stderr_text(),
                         "%s: stderr names \"%s\"" % (name, ENOSPC_TEXT))
            time.sleep(2.5)   # the held line is retried every second
            checks.check(h.proc.poll() is None,
                         "%s: the helper waits (still running) while the disk is full"
                         % name, "rc=%s" % h.proc.poll())
            checks.equal(len(mock.successes()), 1,
                         "%s: no new ticket while the disk is full" % name)
            checks.equal(listing(spool, "tmp"), [],
                         "%s: nothing is left in tmp/ while the disk is full" % name)

            os.unlink(filler)
            t0 = time.monotonic()
            delivered = mocklib.wait_for(
                lambda: len(mock.successes()) >= 1 + len(more) and
                not listing(spool, "spool"), DELIVER_TIMEOUT)
            print("--- %s: delivered %d tickets %.1fs after the filler went" % (
                name, len(mock.successes()) - 1, time.monotonic() - t0))
            checks.check(delivered, "%s: after the filler is deleted every ticket is "
                         "delivered" % name)
            checks.check("reading resumes" in h.stderr_text(),
                         "%s: stderr says reading resumes" % name)
            time.sleep(0.3)
            h.close_stdin()
            rc = h.wait(EXIT_TIMEOUT)
        show(h, rc)
        checks.equal(rc, 0, "%s: exits 0 at EOF" % name)
        checks.equal(h.stdout_bytes(), b"", "%s: nothing on stdout" % name)
        check_end(checks, name, h, mock, spool, token, first + more)


def probe_mount(base):
    """Can we mount at all? Skip (77) with the reason if not."""
    try:
        with Tmpfs(os.path.join(base, "probe")):
            pass
    except Skip as e:
        print("SKIP: %s; this test needs root (mount -t tmpfs)" % e)
        return mocklib.EXIT_SKIP
    return None


CASES = [("omprog", case_omprog),
         ("pipe", functools.partial(case_pipe, eof_while_full=False)),
         ("pipe-eof", functools.partial(case_pipe, eof_while_full=True))]


def main():
    # ctest (timeout) and ^C: unwind, so the with-blocks unmount.
    def on_term(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)
    return mocklib.run_cases("e2e_diskfull", "omk-e2e-diskfull-", CASES, doc=__doc__,
                             before=probe_mount)


if __name__ == "__main__":
    sys.exit(main())
