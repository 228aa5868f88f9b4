#!/usr/bin/env python3
"""Hardening (issue 7, items 3-6): hostile input, secrets, TLS and files.

    python3 tests/e2e_hardening.py --omkapture build/plugin/omkapture [--keep]
        [--only CASE[,CASE...]]

Every case has its own temp dir, spool, random token and mock Kapture on
127.0.0.1; servers the mock cannot play (a TLS front end, a redirect, a
1 GB answer, an answer that never ends, a slowloris) run in this process,
also on 127.0.0.1. Nothing leaves the host: 192.0.2.1 (TEST-NET) appears
only in configs that must be refused before any connection.

Hostile input
  long-line   10 MB lines (one hides an alert past the cut, one ends at EOF
              without a newline): handled within 10 s, counted as truncated,
              the hidden alert is not ticketed; templates rendering ${line}
              several times give exactly title_max characters ("…"),
              details_max bytes ("\\n…[truncated]") and field_max bytes per
              field ("…[truncated]"), and the mock accepts them.
  bytes       NUL bytes and invalid UTF-8 (stray, overlong, surrogate,
              cut sequences): every byte becomes U+FFFD, the mock (strict
              UTF-8 JSON) creates each ticket; counters nul_bytes/invalid_utf8.
  json        JSON nested 30000 deep, unterminated nesting, 3000 keys, \\u
              escapes (NUL, lone surrogate), and a 10 MB JSON line with
              100000 keys (max_line = 16m): bounded time, the alerts ticketed,
              json_errors counted, no crash.
  backtrack   `match = ^(a+)+$` against "aaa...ab" (31 bytes and 20001
              bytes), 50 times in --omprog mode: every line answered OK at
              once, one rate-limited warning naming the rule's file:line,
              regex_limit = 50, and the next line "aaaa" is ticketed.
  network     side by side: a 1 GB answer with Content-Length and one
              chunked, and a header line that never ends (cut, retried,
              omkapture's peak RSS under 100 MB); a 200 whose JSON body
              (under HTTP_MAX_RESPONSE) is nested 500000 deep (omkapture
              survives it and retries); an answer whose body never ends and a
              slowloris (one byte a second): each attempt ends at [kapture]
              timeout (+5 s at most), the request stays spooled and is
              retried, and in --omprog mode lines keep being answered (and
              ticketed) while the transfers hang.
Secrets
  secrets     a random token through --check (-v), --dry-run -v, --test
              [--json], a pipe run with -v, SIGUSR1, SIGHUP, an auth refusal
              and a rejected request (.why), --omprog, ticket (and --dry-run),
              spool, --spool-status, --retry-failed, the state file, the
              [stats] prometheus_file, and KAPTURE_TOKEN from the environment:
              the token is in no output and in no file under the temp dir but
              the token file; the mock got it in every Authorization header
              and nowhere else; a running omkapture's /proc/PID/cmdline and
              /proc/PID/environ do not hold it (also when it came from
              KAPTURE_TOKEN, which omkapture unsetenv()s), core dumps are off
              (limits: 0); SIGHUP still reloads when the token came from
              KAPTURE_TOKEN.
  token-file  a world-readable token file is refused (exact message; exit 1
              for --check, run and ticket), accepted with a warning under
              allow_readable_token = yes; group-readable warns; a symlinked
              token file is refused.
TLS
  tls         self-signed certificates made with `openssl req` at test time, a
              TLS front end in this process before the mock: with ca_file ->
              created (TLS 1.3, and TLS 1.2 against a 1.2-only server);
              without ca_file -> "SSL certificate problem: self-signed
              certificate", the request stays spooled (retried, never
              failed/) and goes once ca_file is set; a certificate for
              other.example -> host name mismatch, spooled; a TLS 1.1-only
              server -> refused even with an OpenSSL config that allows TLS 1.0
              (so the refusal is omkapture's minimum), which `openssl
              s_client -tls1_1` shows.
  redirect    302 and 307 with Location at the mock: not followed (the mock
              records nothing), not retried, moved to failed/ with the reason.
  http-url    http:// to a non-loopback host: --check, run, --omprog and
              ticket exit 1 with the exact message; allow_insecure_http = yes
              accepts it; loopback spellings pass, look-alikes do not;
              credentials in the URL and other schemes are refused.
Files
  files       spool/, failed/, tmp/ 0700; requests, .why, state, lock 0600;
              symlinks planted for the spool dir, failed/, tmp/, a request
              file, the state file and the prometheus file are refused or
              replaced, never followed (the victims stay as they were; the
              planted request is sent once it is a regular file).
  unprivileged  (root only) omkapture as `nobody` via setpriv with a spool
              it owns: tickets delivered, files owned by nobody, the process
              not dumpable (/proc/PID/environ unreadable to nobody); a spool
              dir owned by another user is refused with the exact message,
              both ways, and in --omprog mode as the start-up reply.

Exit 0 if every check passed, else 1.
"""

import base64
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import MockKapture, wait_for  # noqa: E402

MB = 1024 * 1024
ENV = {"TZ": "UTC"}
RUN_TIMEOUT = 60
# What hostile input may take at most (longer under valgrind, see mocklib).
BOUND = 10 * mocklib.TIME_SCALE
# How much sooner than [kapture] timeout a transfer may end as the server
# sees it: curl's clock starts before the server accepts (slow under valgrind).
EARLY = 0.5 * mocklib.TIME_SCALE
SHUTDOWN = 2                      # [spool] shutdown_timeout, seconds
HTTP_MAX_RESPONSE = 1024 * 1024   # plugin/http.h
ADD_PATH = mocklib.ADD_PATH

KNOBS = {"timeout": "3s", "connect_timeout": "1s", "retry_max": "2s",
         "auth_retry": "1s"}
if mocklib.VALGRIND:    # a TLS handshake alone can take seconds there
    KNOBS.update(timeout="%gs" % (3 * mocklib.TIME_SCALE),
                 connect_timeout="%gs" % mocklib.TIME_SCALE)

RULES = (
    "[alert]\n"
    "match = ALERT (?<tag>\\S+) (?<id>\\d+)\n"
    "title = Alert ${tag} #${id}\n"
    "details = ${line}\n"
    "email = ops@example.com\n"
    "due = +4h\n"
    "field.queue = Infra\n"
    "\n"
    "# Templates that render far more than the caps allow.\n"
    "[huge]\n"
    "match = ^HUGE (?<id>\\d+) (?<rest>.*)$\n"
    "key = ${id}\n"
    "title = ${line}\n"
    "details = ${line}${line}\n"
    "field.big = ${rest}${rest}\n"
    "field.nested.list[0].x = ${line}\n"
    "\n"
    "# Catastrophic backtracking on \"aaa...ab\".\n"
    "[backtrack]\n"
    "match = ^(a+)+$\n"
    "title = Backtrack ${1}\n"
)
BACKTRACK_LINE = RULES.split("\n").index("[backtrack]") + 1


# -- small helpers ----------------------------------------------------------

def alert(tag, i):
    return ("ALERT %s %d\n" % (tag, i)).encode()


def req_names(spool, sub="spool"):
    try:
        return sorted(n for n in os.listdir(os.path.join(spool, sub))
                      if n.endswith(".req"))
    except FileNotFoundError:
        return []


def body_obj(body):
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict):
        return body[0]
    return body if isinstance(body, dict) else None


def ref_of(rec):
    obj = body_obj(rec.get("body"))
    return obj.get("omkapture_ref") if obj else None


def titles(mock):
    return sorted(body_obj(r["body"])["title"] for r in mock.successes())


def stats_lines(text):
    """The counters lines (SIGUSR1, or at exit) in stderr text, parsed."""
    out = []
    for ln in text.splitlines():
        if ln.startswith("{") and '"lines"' in ln:
            try:
                out.append(json.loads(ln))
            except ValueError:
                pass
    return out


def vm_hwm_kb(pid):
    """Peak resident set size of a live process (kB), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmHWM:"):
                    return int(ln.split()[1])
    except OSError:
        pass
    return None


def show(label, rc, out, err):
    print("--- %s: rc=%s, stdout %d bytes, stderr:\n%s" % (
        label, rc, len(out), err.decode("utf-8", "replace")[-2500:] or "(empty)"))
    if out:
        print("--- %s stdout:\n%s" % (label, out.decode("utf-8", "replace")[-1500:]))


def q(s):
    return re.escape(s)


class Mock(MockKapture):
    """MockKapture whose record reader skips a last line still being written."""

    def requests(self):
        try:
            with open(self.record_path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            return []
        return [json.loads(ln) for ln in text.split("\n")[:-1] if ln.strip()]


class Helper(mocklib.Helper):
    """mocklib.Helper with the pid, a label, and its stderr as bytes."""

    def __init__(self, argv, env, label):
        super().__init__(argv[0], argv[1:], dict(ENV, **(env or {})), label)
        self.label = label
        self.rc = None

    @property
    def pid(self):
        return self.proc.pid

    def stderr_bytes(self):
        with self.lock:
            return bytes(self.err)

    def finish(self, timeout):
        """Close stdin and wait; returns (rc, seconds)."""
        t0 = time.monotonic()
        self.close_stdin()
        self.rc = self.wait(timeout)
        secs = time.monotonic() - t0
        show(self.label, self.rc, self.stdout_bytes(), self.stderr_bytes())
        return self.rc, secs

    def stats(self, timeout=5):
        """SIGUSR1, then the new counters line (None if none came)."""
        n = len(stats_lines(self.stderr_text()))
        os.kill(self.pid, signal.SIGUSR1)
        got = wait_for(lambda: len(stats_lines(self.stderr_text())) > n, timeout)
        return stats_lines(self.stderr_text())[-1] if got else None


class Case:
    """A temp dir, a random token, (optionally) a mock, configs, and every
    output of every omkapture run (for the token checks)."""

    def __init__(self, omk, base, name, mock=True, mock_faults=None):
        self.omk = omk
        self.name = name
        self.d = os.path.join(base, name)
        os.mkdir(self.d)
        self.token = "tok-" + os.urandom(16).hex()
        self.mock = (Mock(self.d, token=self.token, shape="array", quiet=True,
                          **(mock_faults or {})) if mock else None)
        self.helpers = []
        self.texts = []

    def __enter__(self):
        if self.mock:
            self.mock.start()
        return self

    def __exit__(self, *exc):
        for h in self.helpers:
            try:
                h.kill()
            except Exception as e:   # noqa: BLE001 - the others must go too
                print("cleanup of %s: %s" % (h.label, e))
        if self.mock:
            self.mock.stop()
        return False

    def path(self, *parts):
        return os.path.join(self.d, *parts)

    def conf(self, name="omkapture", url=None, kapture=None, spool=None,
             extra="", token_file=True, rules=RULES, spool_dir=None):
        """Write NAME.conf, NAME.token (0600), NAME.rules; returns the conf
        path. The spool is NAME.spool unless spool_dir says otherwise."""
        tok = self.path(name + ".token")
        fd = os.open(tok, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.token + "\n")
        os.chmod(tok, 0o600)
        rules_file = self.path(name + ".rules")
        with open(rules_file, "w") as f:
            f.write(rules)
        spool_path = spool_dir or self.path(name + ".spool")
        k = {"url": url or self.mock.url}
        if token_file:
            k["token_file"] = tok
        k.update(KNOBS)
        k.update(kapture or {})
        s = {"dir": spool_path, "shutdown_timeout": "%ds" % SHUTDOWN}
        s.update(spool or {})
        text = ("[kapture]\n" +
                "".join("%s = %s\n" % kv for kv in k.items() if kv[1] is not None) +
                "\n[spool]\n" + "".join("%s = %s\n" % kv for kv in s.items()) +
                "\n[rules]\npath = %s\n" % rules_file + extra)
        conf = self.path(name + ".conf")
        with open(conf, "w") as f:
            f.write(text)
        return conf

    def spool(self, name="omkapture"):
        return self.path(name + ".spool")

    def run(self, label, args, stdin=b"", timeout=RUN_TIMEOUT, env=None, argv0=None):
        t0 = time.monotonic()
        rc, out, err = mocklib.run_omkapture(argv0 or self.omk, list(args), stdin,
                                             dict(ENV, **(env or {})), timeout)
        secs = time.monotonic() - t0
        show(label, rc, out, err)
        self.texts += [(label + " stdout", out), (label + " stderr", err)]
        return rc, out, err, secs

    def helper(self, label, args, env=None, prefix=()):
        h = Helper(list(prefix) + [self.omk] + list(args), env, label)
        self.helpers.append(h)
        return h

    def keep(self, h):
        self.texts += [(h.label + " stdout", h.stdout_bytes()),
                       (h.label + " stderr", h.stderr_bytes())]

    def no_token(self, checks, extra_ok=()):
        """The token (and its base64) is in no output and in no file under
        the case dir except the token files."""
        for needle, what in ((self.token.encode(), "token"),
                             (base64.b64encode(self.token.encode()), "base64 token")):
            leaked = [label for label, data in self.texts if needle in data]
            checks.check(not leaked, "%s: the %s appears in no output (%d outputs)"
                         % (self.name, what, len(self.texts)), leaked)
            hits = [p for p in mocklib.files_containing(self.d, needle)
                    if not p.endswith(".token") and p not in extra_ok]
            checks.check(not hits, "%s: the %s is in no file under the case dir "
                         "but the token file" % (self.name, what), hits)


# -- servers the mock cannot play -----------------------------------------

def read_request(conn, rec):
    """One HTTP request from conn (rec["buf"] keeps what follows it):
    (head text, body bytes), or None at EOF."""
    buf = rec.setdefault("buf", b"")
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            rec["buf"] = buf
            return None
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    n = int(m.group(1)) if m else 0
    while len(rest) < n:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    rec["buf"] = rest[n:]
    text = head.decode("latin-1")
    rec.setdefault("requests", []).append(text)
    body = rest[:n]
    try:
        rec.setdefault("refs", []).append(body_obj(json.loads(body)).get("omkapture_ref"))
    except (ValueError, AttributeError):
        rec.setdefault("refs", []).append(None)
    return text, body


def client_gone(conn, wait):
    """Wait up to `wait` s; True if the client closed (or reset) meanwhile."""
    try:
        r, _, _ = select.select([conn], [], [], wait)
        if r:
            return conn.recv(4096) == b""
    except OSError:
        return True
    return False


class RawServer:
    """A TCP (or TLS) server on 127.0.0.1: each connection runs
    handler(server, conn, rec) in a thread of its own. rec, one per
    connection in self.conns: accepted/closed (monotonic), sent (bytes the
    handler wrote), requests (heads), refs, tls (version), error."""

    def __init__(self, handler, tls=None, name="raw"):
        self.handler, self.tls, self.name = handler, tls, name
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.conns = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)
        return False

    def url(self, host="127.0.0.1", path=ADD_PATH):
        return "%s://%s:%d%s" % ("https" if self.tls else "http", host, self.port, path)

    def _accept(self):
        while not self.stop_ev.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            rec = {"accepted": time.monotonic(), "closed": None, "sent": 0,
                   "error": None, "tls": None}
            with self.lock:
                self.conns.append(rec)
            threading.Thread(target=self._serve, args=(conn, rec), daemon=True).start()

    def _serve(self, conn, rec):
        try:
            conn.settimeout(30)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
                rec["tls"] = conn.version()
            self.handler(self, conn, rec)
        except (OSError, ValueError) as e:
            rec["error"] = "%s: %s" % (type(e).__name__, e)
        finally:
            rec["closed"] = time.monotonic()
            try:
                conn.close()
            except OSError:
                pass

    def records(self):
        with self.lock:
            return [dict(r) for r in self.conns]

    def finished(self):
        return [r for r in self.records() if r["closed"] is not None]


def h_proxy(target_port):
    """Forward the (TLS-terminated) connection to the plain mock."""
    def handler(srv, conn, rec):
        up = socket.create_connection(("127.0.0.1", target_port), timeout=30)
        try:
            while not srv.stop_ev.is_set():
                if isinstance(conn, ssl.SSLSocket) and conn.pending():
                    ready = [conn]
                else:
                    ready, _, _ = select.select([conn, up], [], [], 0.5)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is conn else conn).sendall(data)
                    if s is conn:
                        rec["sent"] += len(data)
        finally:
            up.close()
    return handler


def h_redirect(location):
    """Answer every request with a redirect (status from the path) to location."""
    def handler(srv, conn, rec):
        while True:
            req = read_request(conn, rec)
            if req is None:
                return
            status = 307 if "/r307/" in req[0].split("\r\n", 1)[0] else 302
            body = b"<html><body>Moved</body></html>\n"
            conn.sendall(b"HTTP/1.1 %d %s\r\nLocation: %s\r\nContent-Type: text/html\r\n"
                         b"Content-Length: %d\r\n\r\n%s"
                         % (status, b"Found" if status == 302 else b"Temporary Redirect",
                            location.encode(), len(body), body))
    return handler


GIB = 1024 * MB
PAD = b"a" * 65536


def h_big(chunked):
    """A 200 whose JSON body is 1 GiB, with Content-Length or chunked,
    streamed from one 64 KiB block (nothing near 1 GiB is allocated)."""
    def handler(srv, conn, rec):
        if read_request(conn, rec) is None:
            return
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        head += (b"Transfer-Encoding: chunked\r\n\r\n" if chunked else
                 b"Content-Length: %d\r\n\r\n" % GIB)
        conn.sendall(head)
        first = b'{"status":"success","ticket_id":"1","pad":"'
        block = first + PAD[len(first):]
        left = GIB
        while left > 0 and not srv.stop_ev.is_set():
            data = block if left == GIB else PAD
            conn.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            rec["sent"] += len(data)
            left -= len(data)
    return handler


def h_big_header(srv, conn, rec):
    """A status line, then one header line that never ends."""
    if read_request(conn, rec) is None:
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: ")
    while rec["sent"] < GIB and not srv.stop_ev.is_set():
        conn.sendall(PAD)
        rec["sent"] += len(PAD)


DEEP = 500000


def h_deep(srv, conn, rec):
    """A 200 whose body (under HTTP_MAX_RESPONSE) is JSON nested DEEP levels."""
    while read_request(conn, rec) is not None:
        body = b"[" * DEEP + b"]" * DEEP
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        rec["sent"] += len(body)


def h_endless(srv, conn, rec):
    """Headers, then a body that never ends: a 1-byte chunk every 0.25 s."""
    if read_request(conn, rec) is None:
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n")
    while not srv.stop_ev.is_set():
        if client_gone(conn, 0.25):
            return
        conn.sendall(b"1\r\n \r\n")
        rec["sent"] += 1


def h_slowloris(srv, conn, rec):
    """Read the request, then answer one byte a second."""
    if read_request(conn, rec) is None:
        return
    answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
              b"Content-Length: 40\r\n\r\n" + b" " * 40)
    for i in range(len(answer)):
        conn.sendall(answer[i:i + 1])
        rec["sent"] += 1
        if client_gone(conn, 1.0) or srv.stop_ev.is_set():
            return


# -- TLS material ------------------------------------------------------------

def make_cert(d, name, cn, san):
    """A self-signed EC certificate (also its own CA) via the openssl CLI."""
    cert, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=" + san],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def server_ctx(cert, key, minv=None, maxv=None, weak=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if weak:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        if minv is not None:
            ctx.minimum_version = minv
        if maxv is not None:
            ctx.maximum_version = maxv
    ctx.load_cert_chain(cert, key)
    return ctx


# An OpenSSL config that lets any client of this OpenSSL speak TLS 1.0 and
# 1.1 (Debian's default security level forbids them): with it, only
# omkapture's own minimum (CURL_SSLVERSION_TLSv1_2) stands in the way.
WEAK_OPENSSL_CONF = """\
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = TLSv1
CipherString = DEFAULT:@SECLEVEL=0
"""


# -- hostile input -----------------------------------------------------------

def case_long_line(checks, omk, base):
    name = "long-line"
    with Case(omk, base, name) as c:
        conf = c.conf()
        x = b"x" * (5 * MB)
        line1 = b"HUGE 1 " + x + b" ALERT hidden 9 " + x + b"\n"
        line3 = b"HUGE 3 " + b"z" * (10 * MB)        # no newline at EOF
        stdin = line1 + alert("after", 2) + line3
        rc, out, err, secs = c.run(name, ["-c", conf], stdin)
        checks.equal(rc, 0, "%s: two 10 MB lines -> exit 0" % name)
        checks.check(secs < BOUND, "%s: handled within %g s (%.2fs)" % (name, BOUND, secs))
        st = stats_lines(err.decode("utf-8", "replace"))
        got = {k: st[-1].get(k) for k in ("lines", "truncated", "tickets")} if st else None
        checks.equal(got, {"lines": 3, "truncated": 2, "tickets": 3},
                     "%s: the exit counters: 3 lines, 2 truncated, 3 tickets" % name)
        checks.equal(titles(c.mock) and sorted(t[:7] for t in titles(c.mock)),
                     ["Alert a", "HUGE 1 ", "HUGE 3 "],
                     "%s: the mock created exactly the HUGE 1, HUGE 3 and 'after' "
                     "tickets (the alert hidden past the cut is not one)" % name)
        checks.equal(len(c.mock.requests()), 3, "%s: 3 requests in all" % name)
        by_id = {}
        for r in c.mock.successes():
            o = body_obj(r["body"])
            by_id[o["title"][:6]] = o
        o = by_id.get("HUGE 1")
        if not checks.check(o is not None, "%s: the HUGE 1 ticket is there" % name):
            return
        line = ("HUGE 1 " + "x" * (5 * MB))[:64 * 1024]     # cut at max_line 64k
        rest = line[len("HUGE 1 "):]
        checks.equal((len(o["title"]), o["title"]), (255, line[:254] + "…"),
                     "%s: title = 254 characters of the line + \"…\" (title_max 255)" % name)
        want = line[:65536 - len("\n…[truncated]".encode())] + "\n…[truncated]"
        checks.check(o["ticket_details"] == want,
                     "%s: ticket_details = exactly 65536 bytes ending \"\\n…[truncated]\" "
                     "(details_max 64k; ${line} twice)" % name,
                     "got %d bytes, ends %r" % (len(o["ticket_details"].encode()),
                                                o["ticket_details"][-20:]))
        cut = "…[truncated]"
        checks.equal(o.get("big"), rest[:4096 - len(cut.encode())] + cut,
                     "%s: field.big = exactly 4096 bytes ending \"…[truncated]\" "
                     "(field_max 4k)" % name)
        nested = ((o.get("nested") or {}).get("list") or [{}])[0].get("x")
        checks.equal(nested, line[:4096 - len(cut.encode())] + cut,
                     "%s: the nested field is capped the same way" % name)
        o3 = by_id.get("HUGE 3")
        checks.check(o3 and o3["title"] == ("HUGE 3 " + "z" * 300)[:254] + "…",
                     "%s: the 10 MB last line without a newline is cut and ticketed" % name)
        c.no_token(checks)


def case_bytes(checks, omk, base):
    name = "bytes"
    lines = [
        (b"ALERT n\x00ul 1\n", "Alert n\ufffdul #1"),
        (b"ALERT bad\xff\xfeutf 2\n", "Alert bad\ufffd\ufffdutf #2"),
        (b"ALERT ov\xc0\xafer 3\n", "Alert ov\ufffd\ufffder #3"),
        (b"ALERT sur\xed\xa0\x80 4\n", "Alert sur\ufffd\ufffd\ufffd #4"),
        (b"ALERT cut\xe2\x82 5\n", "Alert cut\ufffd\ufffd #5"),
        (b"\x00\x00ALERT nulstart 6\x00\n", "Alert nulstart #6"),
        (b"\x00\x00\x00\xff\xff\n", None),
    ]
    with Case(omk, base, name) as c:
        conf = c.conf()
        rc, out, err, secs = c.run(name, ["-c", conf, "-v"], b"".join(l for l, _ in lines))
        checks.equal(rc, 0, "%s: exit 0" % name)
        checks.equal(titles(c.mock), sorted(t for _, t in lines if t),
                     "%s: the mock (strict UTF-8 JSON) created every ticket, each bad "
                     "byte a U+FFFD" % name)
        checks.equal([r["result"] for r in c.mock.requests()], ["success"] * 6,
                     "%s: 6 requests, all accepted" % name)
        st = stats_lines(err.decode("utf-8", "replace"))
        got = {k: st[-1].get(k) for k in ("lines", "nul_bytes", "invalid_utf8")} if st else None
        checks.equal(got, {"lines": 7, "nul_bytes": 3, "invalid_utf8": 5},
                     "%s: counters: 7 lines, 3 with NUL bytes, 5 with invalid UTF-8" % name)
        c.no_token(checks)


def case_json(checks, omk, base):
    name = "json"
    wide = {"msg": "ALERT wide 4"}
    wide.update(("k%d" % i, i) for i in range(3000))
    lines = [
        '{"msg":"ALERT deep 1","x":' + "[" * 30000 + "]" * 30000 + "}",
        '{"msg":"ALERT deep 2","x":' + '{"a":' * 20000 + "1" + "}" * 20000 + "}",
        "[" * 60000,
        '{"a":' * 10000,
        json.dumps(wide),
        '{"msg":"ALERT esc 5 \\u0000 \\ud800\\udfff x","hostname":"h"}',
        '{"msg":"ALERT trailing 6"} garbage',
    ]
    with Case(omk, base, name) as c:
        conf = c.conf()
        stdin = "\n".join(lines).encode() + b"\n"
        rc, out, err, secs = c.run(name, ["-c", conf, "-v"], stdin)
        checks.equal(rc, 0, "%s: exit 0" % name)
        checks.check(secs < BOUND, "%s: within %g s (%.2fs)" % (name, BOUND, secs))
        got = sorted(t.split(" #")[0] for t in titles(c.mock))
        checks.equal(got, ["Alert deep", "Alert deep", "Alert esc", "Alert trailing",
                           "Alert wide"],
                     "%s: deep (as plain text), wide, escaped and trailing-garbage "
                     "alerts are ticketed" % name)
        esc = [body_obj(r["body"]) for r in c.mock.successes()
               if body_obj(r["body"])["title"].startswith("Alert esc")]
        checks.check(esc and "\x00" not in esc[0]["ticket_details"],
                     "%s: an escaped NUL does not reach the request raw" % name,
                     esc and esc[0]["ticket_details"])
        st = stats_lines(err.decode("utf-8", "replace"))
        got = {k: st[-1].get(k) for k in ("lines", "truncated", "json_errors")} if st else None
        checks.equal(got, {"lines": 7, "truncated": 1, "json_errors": 4},
                     "%s: counters: 7 lines, 1 truncated, 4 JSON errors (too deep, cut, "
                     "unterminated, trailing garbage; a line of '[' is plain text)" % name)

        # A 10 MB JSON line with 100000 keys, max_line raised to 16m.
        big = {"msg": "ALERT huge 7", "hostname": "h1", "pad": "p" * (8 * MB)}
        big.update(("f%d" % i, "v%d" % i) for i in range(100000))
        data = json.dumps(big).encode() + b"\n"
        conf2 = c.conf("big", extra="\n[input]\nmax_line = 16m\n")
        rc, out, err, secs = c.run(name + "-10MB", ["-c", conf2, "-v"], data)
        checks.equal(rc, 0, "%s: a %.1f MB JSON line with 100000 keys -> exit 0"
                     % (name, len(data) / MB))
        checks.check(secs < BOUND, "%s: ... within %g s (%.2fs)" % (name, BOUND, secs))
        checks.check("Alert huge #7" in titles(c.mock),
                     "%s: ... and its alert is ticketed" % name, titles(c.mock))
        st = stats_lines(err.decode("utf-8", "replace"))
        got = {k: st[-1].get(k) for k in ("lines", "truncated", "json_errors")} if st else None
        checks.equal(got, {"lines": 1, "truncated": 0, "json_errors": 0},
                     "%s: ... decoded as JSON, not cut" % name)
        c.no_token(checks)


def case_backtrack(checks, omk, base):
    name = "backtrack"
    n = 50
    with Case(omk, base, name) as c:
        conf = c.conf()
        h = c.helper(name, ["-c", conf, "--omprog"])
        checks.equal(h.reply(10), "OK", "%s: start-up OK" % name)
        t0 = time.monotonic()
        replies, slowest = [], 0.0
        for i in range(n):
            line = ("a" * (30 if i % 2 == 0 else 20000)) + "b"
            t1 = time.monotonic()
            replies.append(h.ask(line))
            slowest = max(slowest, time.monotonic() - t1)
        secs = time.monotonic() - t0
        checks.equal(replies, ["OK"] * n, "%s: each of %d crafted lines answered OK" % (name, n))
        checks.check(secs < BOUND and slowest < BOUND / 5,
                     "%s: bounded: %d lines in %.2fs, slowest %.3fs" % (name, n, secs, slowest))
        checks.equal(h.ask("aaaa"), "OK", "%s: the next line is answered" % name)
        ok = wait_for(lambda: len(c.mock.successes()) >= 1, 10)
        checks.check(ok, "%s: ... and ticketed" % name)
        checks.equal(titles(c.mock), ["Backtrack aaaa"], "%s: exactly one ticket, "
                     "\"Backtrack aaaa\"" % name)
        st = h.stats()
        got = {k: st.get(k) for k in ("lines", "regex_limit", "tickets")} if st else None
        checks.equal(got, {"lines": n + 1, "regex_limit": n, "tickets": 1},
                     "%s: counters: %d lines, regex_limit %d, 1 ticket" % (name, n + 1, n))
        rc, _ = h.finish(10)
        c.keep(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        err = h.stderr_text()
        warn = re.findall(r"^omkapture\[\d+\]: warning: (.*regex gave up.*)$", err, re.M)
        want = ("%s:%d: rule [backtrack]: regex gave up on a line of 31 bytes (match limit "
                "exceeded); the rule does not match it (1 such line since the last warning)"
                % (c.path("omkapture.rules"), BACKTRACK_LINE))
        checks.equal(warn, [want], "%s: one warning (rate-limited) naming the rule's "
                     "file:line" % name)
        c.no_token(checks)


# -- the network: huge, endless and slow answers ----------------------------

def net_case(checks, omk, base, name, handler, timeout_s=3, omprog=False, body=None):
    """Common frame: a RawServer, a config pointing at it, a helper."""
    with Case(omk, base, name, mock=False) as c, RawServer(handler, name=name) as srv:
        conf = c.conf(url=srv.url(), kapture={"timeout": "%ds" % timeout_s})
        args = ["-c", conf] + (["--omprog"] if omprog else [])
        h = c.helper(name, args)
        body(checks, c, srv, h, name)
        rc, secs = h.finish(SHUTDOWN + 15)
        c.keep(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        checks.check(secs <= SHUTDOWN + 5, "%s: ... within shutdown_timeout + 5 s (%.2fs), "
                     "abandoning what hangs" % (name, secs))
        c.no_token(checks)


def big_body(chunked):
    def body(checks, c, srv, h, name):
        h.send(alert("big", 1))
        ok = wait_for(lambda: len(srv.finished()) >= 2, 20)
        checks.check(ok, "%s: the cut answer is retried (%d connections)"
                     % (name, len(srv.records())))
        hwm = vm_hwm_kb(h.pid)
        recs = srv.finished()
        print("%s: peak RSS %s kB; bytes sent per connection: %s"
              % (name, hwm, [r["sent"] for r in recs]))
        checks.check(hwm is not None and hwm < 100 * 1024,
                     "%s: omkapture's peak RSS stays under 100 MB (%s kB)" % (name, hwm))
        checks.check(recs and all(r["sent"] < 64 * MB for r in recs),
                     "%s: every answer was cut long before 1 GiB (sent: %s)"
                     % (name, [r["sent"] for r in recs]))
        checks.equal((len(req_names(c.spool())), req_names(c.spool(), "failed")),
                     (1, []), "%s: the request stays spooled (retry), not failed/" % name)
        err = h.stderr_text()
        say = ("network: response larger than %d bytes" % HTTP_MAX_RESPONSE if chunked
               else "network: Maximum file size exceeded")
        checks.check("rule [alert]: Kapture unavailable (%s); 1 request waiting in the "
                     "spool" % say in err, "%s: stderr says \"Kapture unavailable (%s)\""
                     % (name, say), err[-600:])
    return body


def big_header_body(checks, c, srv, h, name):
    h.send(alert("header", 1))
    ok = wait_for(lambda: len(srv.finished()) >= 2, 20)
    checks.check(ok, "%s: the endless header is cut and the request retried (%d "
                 "connections)" % (name, len(srv.records())))
    hwm = vm_hwm_kb(h.pid)
    recs = srv.finished()
    print("%s: peak RSS %s kB; bytes sent per connection: %s"
          % (name, hwm, [r["sent"] for r in recs]))
    checks.check(hwm is not None and hwm < 100 * 1024,
                 "%s: omkapture's peak RSS stays under 100 MB (%s kB)" % (name, hwm))
    checks.check(recs and all(r["sent"] < 64 * MB for r in recs),
                 "%s: every header was cut long before 1 GiB" % name)
    checks.equal((len(req_names(c.spool())), req_names(c.spool(), "failed")),
                 (1, []), "%s: the request stays spooled (retry), not failed/" % name)
    # libcurl 7.88 calls a header over its 100 KiB limit "Out of memory".
    checks.check(re.search(r"Kapture unavailable \(network: ([^)]*header[^)]*|Out of "
                           r"memory)\)", h.stderr_text()),
                 "%s: stderr gives curl's reason (header too large, or \"Out of memory\")"
                 % name, h.stderr_text()[-600:])


def deep_body(checks, c, srv, h, name):
    def nreq():
        return sum(len(r.get("requests", [])) for r in srv.records())

    h.send(alert("deep", 1))
    # The retry may reuse the kept-alive connection: count requests.
    wait_for(lambda: nreq() >= 2 or h.proc.poll() is not None, 20)
    time.sleep(0.5)
    checks.equal(h.proc.poll(), None, "%s: omkapture survives a %d-deep JSON answer of "
                 "%.2f MB (under HTTP_MAX_RESPONSE)" % (name, DEEP, 2 * DEEP / MB))
    checks.check(nreq() >= 2, "%s: ... and retries the request (%d requests)"
                 % (name, nreq()))
    checks.equal((len(req_names(c.spool())), req_names(c.spool(), "failed")),
                 (1, []), "%s: the request stays spooled (retry), not failed/" % name)
    checks.check("rule [alert]: Kapture unavailable (HTTP 200 with a body that is not a JSON "
                 "object)" in h.stderr_text(), "%s: stderr: \"Kapture unavailable (HTTP 200 "
                 "with a body that is not a JSON object)\"" % name, h.stderr_text()[-600:])


def endless_body(checks, c, srv, h, name):
    h.send(alert("endless", 1))
    ok = wait_for(lambda: len(srv.finished()) >= 2, 20)
    recs = srv.records()
    checks.check(ok, "%s: the endless answer is given up and retried (%d connections)"
                 % (name, len(recs)))
    if recs and recs[0]["closed"]:
        dur = recs[0]["closed"] - recs[0]["accepted"]
        checks.check(3 - EARLY <= dur <= 3 + 5, "%s: the first attempt ended at [kapture] timeout "
                     "3s (+5 s at most): %.2fs" % (name, dur))
    checks.equal((len(req_names(c.spool())), req_names(c.spool(), "failed")),
                 (1, []), "%s: the request stays spooled for retry" % name)
    refs = [r.get("refs", [None])[0] for r in recs]
    checks.check(len(refs) >= 2 and len(set(refs)) == 1 and refs[0],
                 "%s: the retries carry the same request (ref %s)" % (name, refs[:1]))
    err = h.stderr_text()
    checks.check(re.search(r"Kapture unavailable \(network: Operation timed out after 3\d\d\d "
                           r"milliseconds with \d+ bytes received\)", err),
                 "%s: stderr says the transfer timed out after ~3000 ms" % name, err[-600:])


def slowloris_body(checks, c, srv, h, name):
    checks.equal(h.reply(10), "OK", "%s: start-up OK" % name)
    t0 = time.monotonic()
    checks.equal(h.ask(alert("slow", 1).decode().strip()), "OK",
                 "%s: the alert is spooled: OK" % name)
    wait_for(lambda: srv.records(), 5)
    # While the transfer hangs (it gets a byte a second), lines go on.
    lat, replies = [], []
    for i in range(9):
        line = "chatter %d" % i if i != 4 else alert("slow", 2).decode().strip()
        t1 = time.monotonic()
        replies.append(h.ask(line))
        lat.append(time.monotonic() - t1)
        time.sleep(0.25)
    hanging = [r for r in srv.records() if r["closed"] is None]
    checks.equal(replies, ["OK"] * 9, "%s: 9 more lines answered OK while the transfer "
                 "hangs" % name)
    checks.check(max(lat) < 1.0, "%s: ... each within 1 s (slowest %.3fs)" % (name, max(lat)))
    checks.check(hanging, "%s: ... and a transfer was still hanging then (%.1fs in)"
                 % (name, time.monotonic() - t0))
    st = h.stats()
    got = {k: st.get(k) for k in ("lines", "tickets", "sent")} if st else None
    checks.equal(got, {"lines": 10, "tickets": 2, "sent": 0},
                 "%s: SIGUSR1 meanwhile: 10 lines handled, 2 tickets spooled, 0 sent" % name)
    recs = srv.records()
    ref1 = (recs[0].get("refs") or [None])[0] if recs else None

    def retried():
        rs = srv.records()
        return rs[0]["closed"] and sum(1 for r in rs if (r.get("refs") or [None])[0] == ref1) >= 2
    ok = ref1 and wait_for(retried, 25)
    recs = srv.records()
    first = recs[0] if recs else {}
    checks.check(ok, "%s: the slow request was given up and retried (%d connections)"
                 % (name, len(recs)))
    if first.get("closed"):
        dur = first["closed"] - first["accepted"]
        checks.check(4 - EARLY <= dur <= 4 + 5, "%s: its first attempt ended at [kapture] timeout "
                     "4s (+5 s at most): %.2fs, %d bytes of answer" % (name, dur, first["sent"]))
    checks.equal((len(req_names(c.spool())), req_names(c.spool(), "failed")),
                 (2, []), "%s: both requests stay spooled" % name)
    err = h.stderr_text()
    checks.check(re.search(r"Kapture unavailable \(network: Operation timed out after 4\d\d\d "
                           r"milliseconds with \d+ (out of 40 )?bytes received\)", err),
                 "%s: stderr says the transfer timed out after ~4000 ms" % name, err[-600:])
    st = h.stats()
    checks.check(st and st.get("lines") == 10 and st.get("retried", 0) >= 1,
                 "%s: counters afterwards: retried >= 1" % name, st)


class _PerThreadStdout:
    """sys.stdout stand-in: threads that registered a buffer write there."""

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


def parallel(checks, jobs):
    """Run (name, fn) side by side; each one's log printed whole when done."""
    real = sys.stdout
    out = _PerThreadStdout(real)
    lock = threading.Lock()

    def one(name, fn):
        out.local.buf = []
        t0 = time.monotonic()
        try:
            fn()
        except Exception as e:   # noqa: BLE001
            import traceback
            out.write(traceback.format_exc())
            checks.check(False, "%s raised %s: %s" % (name, type(e).__name__, e))
        finally:
            text, out.local.buf = "".join(out.local.buf), None
            with lock:
                real.write("\n---- %s (%.1fs)\n%s" % (name, time.monotonic() - t0, text))
                real.flush()

    threads = [threading.Thread(target=one, args=j) for j in jobs]
    sys.stdout = out
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.stdout = real


def case_network(checks, omk, base):
    parallel(checks, [
        ("big-length", lambda: net_case(checks, omk, base, "big-length", h_big(False),
                                        body=big_body(False))),
        ("big-chunked", lambda: net_case(checks, omk, base, "big-chunked", h_big(True),
                                         body=big_body(True))),
        ("big-header", lambda: net_case(checks, omk, base, "big-header", h_big_header,
                                        body=big_header_body)),
        ("deep-response", lambda: net_case(checks, omk, base, "deep-response", h_deep,
                                           body=deep_body)),
        ("endless", lambda: net_case(checks, omk, base, "endless", h_endless,
                                     body=endless_body)),
        ("slowloris", lambda: net_case(checks, omk, base, "slowloris", h_slowloris,
                                       timeout_s=4, omprog=True, body=slowloris_body)),
    ])


# -- TLS ------------------------------------------------------------------------

def case_tls(checks, omk, base):
    name = "tls"
    if shutil.which("openssl") is None:
        checks.check(False, "%s: the openssl command is required (packaging/deps.sh)" % name)
        return
    with Case(omk, base, name) as c:
        good_crt, good_key = make_cert(c.d, "localhost", "localhost",
                                       "DNS:localhost,IP:127.0.0.1")
        other_crt, other_key = make_cert(c.d, "other", "other.example", "DNS:other.example")
        weak_conf = c.path("weak-openssl.cnf")
        with open(weak_conf, "w") as f:
            f.write(WEAK_OPENSSL_CONF)
        mock_port = c.mock.port
        proxy = h_proxy(mock_port)
        V = ssl.TLSVersion
        with RawServer(proxy, server_ctx(good_crt, good_key), "good") as good, \
                RawServer(proxy, server_ctx(other_crt, other_key), "other") as other, \
                RawServer(proxy, server_ctx(good_crt, good_key, V.TLSv1_1, V.TLSv1_1,
                                            weak=True), "tls11") as tls11, \
                RawServer(proxy, server_ctx(good_crt, good_key, None, V.TLSv1_2),
                          "tls12") as tls12:

            def ticket(label, conf, env=None):
                n0 = len(c.mock.requests())
                rc, out, err, _ = c.run(label, ["-c", conf, "ticket", "--title",
                                                "TLS " + label], env=env)
                return rc, out.decode("utf-8", "replace"), err, c.mock.requests()[n0:]

            def spooled(label, conf, rc, out, new, why, srv):
                sp = c.spool(label)
                names = req_names(sp)
                want = ("ticket spooled as %s/spool/%s: Kapture unavailable (network: %s); "
                        "the running omkapture will deliver it\n"
                        % (sp, names[0] if names else "?", why))
                checks.equal(rc, 0, "%s/%s: `ticket` exits 0 (spooled)" % (name, label))
                if isinstance(why, str):
                    checks.equal(out, want, "%s/%s: it says exactly why" % (name, label))
                else:
                    checks.check(why.search(out), "%s/%s: it says why (%s)"
                                 % (name, label, why.pattern), out)
                checks.equal((len(names), req_names(sp, "failed")), (1, []),
                             "%s/%s: the request stays in spool/, not failed/" % (name, label))
                checks.equal(new, [], "%s/%s: nothing reached the mock" % (name, label))
                recs = srv.finished()
                checks.check(recs and all(r["sent"] == 0 for r in recs),
                             "%s/%s: not one byte of the request was sent over TLS"
                             % (name, label), [(r["tls"], r["sent"]) for r in recs])
                if label != "mismatch":
                    # (curl checks the host name after the handshake.)
                    checks.check(recs and all(r["tls"] is None and r["error"] for r in recs),
                                 "%s/%s: the handshake failed at the server" % (name, label),
                                 [r["error"] for r in recs])

            # With ca_file: created, over TLS 1.3.
            conf = c.conf("ca", url=good.url("localhost"), kapture={"ca_file": good_crt})
            rc, out, err, new = ticket("ca", conf)
            checks.equal(rc, 0, "%s/ca: with ca_file `ticket` exits 0" % name)
            checks.check(re.fullmatch(r"ticket \d+ created\n", out),
                         "%s/ca: \"ticket N created\"" % name, out)
            checks.equal([(r["result"], r["auth_ok"]) for r in new], [("success", True)],
                         "%s/ca: one request at the mock, created, token accepted" % name)
            checks.equal([r["tls"] for r in good.records()], ["TLSv1.3"],
                         "%s/ca: over TLS 1.3" % name)

            # Without ca_file: refused, spooled, retried; goes once fixed.
            conf = c.conf("noca", url=good.url("localhost"))
            n_good = len(good.records())
            rc, out, err, new = ticket("noca", conf)
            spooled("noca", conf, rc, out, new,
                    "SSL certificate problem: self-signed certificate", _Since(good, n_good))
            rc, out, err, _ = c.run("noca-helper", ["-c", conf], alert("tls", 1))
            checks.equal(rc, 0, "%s/noca: a helper run exits 0" % name)
            checks.check(b"Kapture unavailable (network: SSL certificate problem: "
                         b"self-signed certificate)" in err,
                         "%s/noca: the helper retries and logs the TLS error" % name)
            checks.equal((len(req_names(c.spool("noca"))), req_names(c.spool("noca"), "failed"),
                          len(c.mock.requests())), (2, [], 1),
                         "%s/noca: both requests stay spooled, none failed, none sent" % name)
            fixed = c.conf("noca-fixed", url=good.url("localhost"),
                           kapture={"ca_file": good_crt}, spool_dir=c.spool("noca"))
            rc, out, err, _ = c.run("noca-fixed", ["-c", fixed], b"")
            checks.equal(rc, 0, "%s/noca: with ca_file set, the next run exits 0" % name)
            checks.equal((len(c.mock.successes()), req_names(c.spool("noca"))), (3, []),
                         "%s/noca: ... and delivers both spooled requests" % name)

            # A certificate for another name, trusted: refused.
            conf = c.conf("mismatch", url=other.url("localhost"), kapture={"ca_file": other_crt})
            rc, out, err, new = ticket("mismatch", conf)
            spooled("mismatch", conf, rc, out, new,
                    "SSL: no alternative certificate subject name matches target host "
                    "name 'localhost'", _Since(other, 0))

            # TLS 1.1 only: refused even where OpenSSL's policy allows it.
            ctl = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % tls11.port,
                                  "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0",
                                  "-servername", "localhost"],
                                 input=b"", capture_output=True, timeout=20,
                                 env=dict(os.environ, OPENSSL_CONF=weak_conf))
            ctl_out = ctl.stdout.decode("utf-8", "replace")
            checks.check(ctl.returncode == 0 and re.search(r"Protocol\s*:\s*TLSv1\.1", ctl_out),
                         "%s/tls11: control: `openssl s_client -tls1_1` under the weak "
                         "OpenSSL config does connect with TLS 1.1" % name,
                         ctl_out[-800:] + ctl.stderr.decode("utf-8", "replace")[-400:])
            curl = shutil.which("curl")
            if curl:
                # The stronger control, where curl(1) is installed: libcurl
                # itself, asked for TLS 1.0 or later, gets TLS 1.1 here.
                ctl = subprocess.run([curl, "-sS", "--tlsv1.0", "--cacert", good_crt,
                                      "-o", "/dev/null", "-w", "%{http_code}",
                                      tls11.url("localhost", "/_mock/stats")],
                                     capture_output=True, timeout=20,
                                     env=dict(mocklib.omkapture_env(),
                                              OPENSSL_CONF=weak_conf))
                checks.check(ctl.returncode == 0 and ctl.stdout == b"200",
                             "%s/tls11: control: `curl --tlsv1.0` (libcurl without "
                             "omkapture's minimum) gets through to the mock" % name,
                             ctl.stdout + ctl.stderr)
            n11 = len(tls11.records())
            conf = c.conf("tls11", url=tls11.url("localhost"), kapture={"ca_file": good_crt})
            rc, out, err, new = ticket("tls11", conf, env={"OPENSSL_CONF": weak_conf})
            spooled("tls11", conf, rc, out, new,
                    re.compile(r"network: [^)]*(unsupported protocol|protocol version|"
                               r"no protocols available)"), _Since(tls11, n11))

            # A TLS 1.2-only server: fine.
            conf = c.conf("tls12", url=tls12.url("localhost"), kapture={"ca_file": good_crt})
            rc, out, err, new = ticket("tls12", conf)
            checks.check(rc == 0 and re.fullmatch(r"ticket \d+ created\n", out),
                         "%s/tls12: a TLS 1.2 server is accepted" % name, out)
            checks.equal([r["tls"] for r in tls12.records()], ["TLSv1.2"],
                         "%s/tls12: ... over TLS 1.2" % name)
        c.no_token(checks)


class _Since:
    """A RawServer's connections from the n-th on."""

    def __init__(self, srv, n):
        self.srv, self.n = srv, n

    def finished(self):
        return [r for r in self.srv.records()[self.n:] if r["closed"] is not None]


def case_redirect(checks, omk, base):
    name = "redirect"
    with Case(omk, base, name) as c, \
            RawServer(h_redirect(c.mock.url), name=name) as srv:
        for status in (302, 307):
            label = "r%d" % status
            conf = c.conf(label, url=srv.url(path="/%s%s" % (label, ADD_PATH)))
            n0 = len(srv.records())
            rc, out, err, secs = c.run(label, ["-c", conf], alert(label, 1))
            checks.equal(rc, 0, "%s/%d: exit 0" % (name, status))
            reqs = sum(len(r.get("requests", [])) for r in srv.records()[n0:])
            checks.equal(reqs, 1, "%s/%d: one request to the redirecting server "
                         "(not retried)" % (name, status))
            checks.equal(len(c.mock.requests()), 0, "%s/%d: the Location (the mock) got "
                         "nothing: not followed" % (name, status))
            sp = c.spool(label)
            failed = req_names(sp, "failed")
            checks.equal((req_names(sp), len(failed)), ([], 1),
                         "%s/%d: the request is in failed/" % (name, status))
            why = {}
            if failed:
                with open(os.path.join(sp, "failed", failed[0] + ".why")) as f:
                    why = json.load(f)
            msg = "HTTP %d redirect (not followed: fix [kapture] url)" % status
            checks.equal((why.get("status"), why.get("message")), (status, msg),
                         "%s/%d: the .why says so" % (name, status))
            checks.check(re.search(r"rule \[alert\]: Kapture rejected the ticket \(%s\); "
                                   r"moved to %s/failed/%s" % (q(msg), q(sp),
                                                             q(failed[0] if failed else "?")),
                                   err.decode()),
                         "%s/%d: stderr: \"Kapture rejected the ticket (%s); moved to "
                         ".../failed/...\"" % (name, status, msg))
        c.no_token(checks)


def case_http_url(checks, omk, base):
    name = "http-url"
    with Case(omk, base, name, mock=False) as c:
        why_http = ("plain http:// is refused for non-loopback hosts (the token would "
                    "travel in clear); use https:// or set allow_insecure_http = yes")
        why_scheme = "URL must start with https:// (or http:// for a loopback test server)"
        why_cred = "URL must not carry credentials (use token_file)"
        refused = [
            ("url", "http://192.0.2.1/add-ticket-from-other-source.html/v.2.0", why_http),
            ("url", "http://127.0.0.1.evil.example/x", why_http),
            ("url", "http://localhost.example:8080/x", why_http),
            ("url", "http://0x7f000001/x", why_http),
            ("url", "ftp://127.0.0.1/x", why_scheme),
            ("url", "file:///etc/passwd", why_scheme),
            ("url", "https://user:pw@example.com/x", why_cred),
            ("update_url", "http://192.0.2.1/update-ticket-from-other-source.html/v.2.0",
             why_http),
        ]
        for i, (key, url, why) in enumerate(refused):
            label = "refused%d" % i
            if key == "url":
                conf = c.conf(label, url=url)
            else:
                conf = c.conf(label, url="https://acme.kapturecrm.com" + ADD_PATH,
                              kapture={key: url})
            line = 2 if key == "url" else _conf_line(conf, "update_url")
            want = "%s:%d: error: [kapture] %s \"%s\": %s\n1 error\n" % (conf, line, key, url, why)
            rc, out, err, _ = c.run(label, ["-c", conf, "--check"])
            checks.equal((rc, err.decode(), out), (1, want, b""),
                         "%s: --check refuses %s = %s with the exact message" % (name, key, url))
        # The same config in the other modes: exit 1, nothing attempted.
        conf = c.path("refused0.conf")
        url = refused[0][1]
        line = "%s:2: error: [kapture] url \"%s\": %s\n" % (conf, url, why_http)
        rc, out, err, _ = c.run("run", ["-c", conf], alert("x", 1))
        checks.equal((rc, err.decode()), (1, line), "%s: run mode: exit 1, the same message"
                     % name)
        rc, out, err, _ = c.run("ticket", ["-c", conf, "ticket", "--title", "x"])
        checks.equal((rc, err.decode(), out), (1, line, b""), "%s: ticket: exit 1, the same "
                     "message" % name)
        rc, out, err, _ = c.run("omprog", ["-c", conf, "--omprog"], alert("x", 1))
        checks.equal((rc, out), (1, b"omkapture: 1 config error, see the helper's log\n"),
                     "%s: --omprog: exit 1, the start-up reply says why" % name)
        checks.equal(req_names(c.spool("refused0")), [], "%s: nothing spooled" % name)
        # allow_insecure_http = yes takes it.
        conf = c.conf("insecure", url=url, kapture={"allow_insecure_http": "yes"})
        rc, out, err, _ = c.run("insecure", ["-c", conf, "--check"])
        checks.check(rc == 0 and ("url: %s;" % url).encode() in out,
                     "%s: with allow_insecure_http = yes --check accepts it" % name, out)
        # Loopback hosts (the test server) pass.
        for i, url in enumerate(["http://127.0.0.1:9/x", "http://localhost:9/x",
                                 "http://[::1]:9/x", "http://127.5.6.7/x",
                                 "https://192.0.2.1/x"]):
            conf = c.conf("ok%d" % i, url=url)
            rc, out, err, _ = c.run("ok%d" % i, ["-c", conf, "--check"])
            checks.check(rc == 0 and b"error" not in err,
                         "%s: --check accepts %s" % (name, url), err)
        c.no_token(checks)


def _conf_line(conf, key):
    with open(conf) as f:
        for i, ln in enumerate(f, 1):
            if ln.startswith(key + " ="):
                return i
    return 0


def case_token_file(checks, omk, base):
    name = "token-file"
    with Case(omk, base, name, mock=False) as c:
        url = "https://acme.kapturecrm.com" + ADD_PATH
        conf = c.conf(url=url)
        tok = c.path("omkapture.token")
        tline = _conf_line(conf, "token_file")
        os.chmod(tok, 0o644)
        want = ("%s:%d: error: [kapture] token_file %s is readable by every user: chmod 600 "
                "it (or set allow_readable_token = yes)\n" % (conf, tline, tok))
        rc, out, err, _ = c.run("0644", ["-c", conf, "--check"])
        checks.equal((rc, err.decode(), out), (1, want + "1 error\n", b""),
                     "%s: a 0644 token file: --check exit 1 with the exact message" % name)
        rc, out, err, _ = c.run("0644-run", ["-c", conf], alert("x", 1))
        checks.equal((rc, err.decode()), (1, want), "%s: ... run mode refuses it too" % name)
        rc, out, err, _ = c.run("0644-ticket", ["-c", conf, "ticket", "--title", "x"])
        checks.equal((rc, err.decode()), (1, want), "%s: ... and ticket" % name)
        conf2 = c.conf("allow", url=url, kapture={"allow_readable_token": "yes"})
        os.chmod(c.path("allow.token"), 0o644)
        rc, out, err, _ = c.run("0644-allowed", ["-c", conf2, "--check"])
        checks.equal((rc, err.decode()),
                     (0, "%s: warning: [kapture] token_file %s is readable by every user; "
                      "chmod 600 it\n" % (conf2, c.path("allow.token"))),
                     "%s: allow_readable_token = yes: accepted with a warning" % name)
        os.chmod(tok, 0o640)
        rc, out, err, _ = c.run("0640", ["-c", conf, "--check"])
        checks.equal((rc, err.decode()),
                     (0, "%s: warning: [kapture] token_file %s is readable by its group; "
                      "chmod 600 it\n" % (conf, tok)),
                     "%s: a 0640 token file: accepted with a warning" % name)
        os.chmod(tok, 0o600)
        rc, out, err, _ = c.run("0600", ["-c", conf, "--check"])
        checks.equal((rc, err.decode()), (0, ""), "%s: 0600: accepted, no warning" % name)
        # A symlinked token file (someone else's file, say) is not followed.
        conf3 = c.conf("link", url=url)
        os.unlink(c.path("link.token"))
        os.symlink(tok, c.path("link.token"))
        rc, out, err, _ = c.run("symlink", ["-c", conf3, "--check"])
        checks.equal((rc, err.decode()),
                     (1, "%s:%d: error: [kapture] token_file %s: cannot read: Too many levels "
                      "of symbolic links\n1 error\n" % (conf3, tline, c.path("link.token"))),
                     "%s: a symlinked token file is refused" % name)
        c.no_token(checks)


# -- secrets ------------------------------------------------------------------

def proc_read(pid, what):
    try:
        with open("/proc/%d/%s" % (pid, what), "rb") as f:
            return f.read()
    except OSError as e:
        return ("(unreadable: %s)" % e).encode()


def core_limit(pid):
    for ln in proc_read(pid, "limits").decode().splitlines():
        if ln.startswith("Max core file size"):
            return ln.split()[4:6]
    return None


def case_secrets(checks, omk, base):
    name = "secrets"
    with Case(omk, base, name, mock_faults={"fault": "failed", "fail_next": 1}) as c:
        prom = c.path("metrics", "omkapture.prom")
        os.mkdir(c.path("metrics"))
        extra = ("\n[stats]\nprometheus_file = %s\ninterval = 1s\n"
                 "\n[dedup]\nstate_interval = 1s\n" % prom)
        conf = c.conf(extra=extra)
        sp = c.spool()
        tok = c.token.encode()
        lines = alert("s", 1) + alert("s", 2) + b"aaaa\n"

        c.run("check", ["-c", conf, "--check"])
        c.run("check-v", ["-c", conf, "--check", "-v"])
        c.run("dry-run", ["-c", conf, "--dry-run", "-v"], lines)
        c.run("test", ["-c", conf, "--test"], lines)
        c.run("test-json", ["-c", conf, "--test", "--json"], lines)
        c.run("ticket-dry", ["-c", conf, "ticket", "--dry-run", "--title", "dry"])

        # The pipe helper, verbose: a rejection (.why), an auth refusal,
        # SIGUSR1, SIGHUP, the state and prometheus files.
        h = c.helper("helper", ["-c", conf, "-v"])
        h.send(alert("s", 1))
        wait_for(lambda: req_names(sp, "failed"), 10)
        c.mock.configure(fault="auth", fail_next=1)
        h.send(alert("s", 2))
        checks.check(h.wait_stderr("Kapture refused the token", 10),
                     "%s: an auth refusal was logged" % name)
        wait_for(lambda: len(c.mock.successes()) >= 1, 10)
        argv = proc_read(h.pid, "cmdline")
        environ = proc_read(h.pid, "environ")
        checks.check(tok not in argv, "%s: /proc/PID/cmdline does not hold the token" % name)
        checks.check(tok not in environ, "%s: /proc/PID/environ (token_file) does not hold "
                     "the token" % name)
        checks.equal(core_limit(h.pid), ["0", "0"], "%s: core dumps off: Max core file size "
                     "0 0 (token_file)" % name)
        h.stats()
        os.kill(h.pid, signal.SIGHUP)
        checks.check(h.wait_stderr("reloaded", 10), "%s: SIGHUP reloaded" % name)
        h.send(alert("s", 3))
        wait_for(lambda: len(c.mock.successes()) >= 2 and os.path.exists(prom), 10)
        h.stats()
        rc, _ = h.finish(SHUTDOWN + 10)
        c.keep(h)
        checks.equal(rc, 0, "%s: the helper exits 0" % name)
        checks.check(os.path.exists(os.path.join(sp, "state")), "%s: the state file was "
                     "written" % name)
        checks.check(os.path.exists(prom), "%s: the prometheus file was written" % name)
        whys = [n for n in os.listdir(os.path.join(sp, "failed")) if n.endswith(".why")]
        checks.equal(len(whys), 1, "%s: a .why was written" % name)

        # --omprog, ticket, the spool listing and re-queueing.
        h = c.helper("omprog", ["-c", conf, "--omprog", "-v"])
        h.reply(10)
        h.ask(alert("s", 4).decode().strip())
        h.finish(SHUTDOWN + 10)
        c.keep(h)
        c.run("ticket", ["-c", conf, "ticket", "-v", "--title", "by hand", "--details", "d"])
        c.run("spool", ["-c", conf, "spool"])
        c.run("spool-status", ["-c", conf, "--spool-status"])
        c.run("retry-failed", ["-c", conf, "spool", "--retry-failed"])
        c.run("replay", ["-c", conf, "-v"], b"")

        # KAPTURE_TOKEN from the environment instead of token_file.
        conf_env = c.conf("env", token_file=False, extra=extra.replace(
            "omkapture.prom", "env.prom"))
        h = c.helper("env-helper", ["-c", conf_env, "-v"], env={"KAPTURE_TOKEN": c.token})
        h.send(alert("env", 1))
        ok = wait_for(lambda: any(body_obj(r["body"])["title"] == "Alert env #1"
                                  for r in c.mock.successes()), 10)
        checks.check(ok, "%s: with KAPTURE_TOKEN in the environment the ticket is created"
                     % name)
        argv = proc_read(h.pid, "cmdline")
        environ = proc_read(h.pid, "environ")
        print("%s: /proc/%d/environ of the KAPTURE_TOKEN helper: %d bytes, KAPTURE_TOKEN= "
              "%s, the token %s" % (name, h.pid, len(environ),
                                    "present" if b"KAPTURE_TOKEN=" in environ else "absent",
                                    "VISIBLE" if tok in environ else "not visible"))
        checks.check(tok not in argv, "%s: /proc/PID/cmdline (KAPTURE_TOKEN) does not hold "
                     "the token" % name)
        if mocklib.VALGRIND:    # that block is valgrind's own, the client has a copy
            print("%s: under valgrind: /proc/PID/environ not checked" % name)
        else:
            checks.check(tok not in environ,
                         "%s: /proc/PID/environ (KAPTURE_TOKEN) does not show the token (the "
                         "initial environment block, which unsetenv() leaves as it was)" % name,
                         "KAPTURE_TOKEN=<the token> is still in the process's initial "
                         "environment block, readable by root (and ptrace-capable users)")
        checks.equal(core_limit(h.pid), ["0", "0"], "%s: core dumps off: Max core file size "
                     "0 0 (KAPTURE_TOKEN)" % name)
        h.stats()
        # SIGHUP: the reload must not lose the token it took from the
        # environment (which omkapture itself removed).
        os.kill(h.pid, signal.SIGHUP)
        wait_for(lambda: "reload" in h.stderr_text(), 5)
        err = h.stderr_text()
        checks.check("reloaded: 3 rules" in err and "reload failed" not in err,
                     "%s: SIGHUP reloads a helper whose token came from KAPTURE_TOKEN" % name,
                     "\n".join(ln for ln in err.splitlines() if "reload" in ln or
                                "token" in ln))
        h.send(alert("env", 2))
        ok = wait_for(lambda: any(body_obj(r["body"])["title"] == "Alert env #2"
                                  for r in c.mock.successes()), 10)
        checks.check(ok, "%s: ... and it still delivers afterwards" % name)
        rc, _ = h.finish(SHUTDOWN + 10)
        c.keep(h)
        checks.equal(rc, 0, "%s: the KAPTURE_TOKEN helper exits 0" % name)
        c.run("env-check", ["-c", conf_env, "--check"], env={"KAPTURE_TOKEN": c.token})

        # What the mock saw: the token in every Authorization header as
        # issued, never in a path or body.
        reqs = c.mock.requests()
        checks.check(reqs and all(r["auth_ok"] for r in reqs),
                     "%s: every one of the %d requests carried the token in "
                     "Authorization, as issued" % (name, len(reqs)),
                     [r["auth_error"] for r in reqs if not r["auth_ok"]])
        checks.check(not any(r["token_in_request"] for r in reqs),
                     "%s: no request carried it in its path or body" % name)
        checks.check(len(c.texts) >= 30, "%s: %d outputs collected" % (name, len(c.texts)))
        c.no_token(checks)


# -- files ----------------------------------------------------------------------

def mode(p):
    return oct(os.lstat(p).st_mode & 0o7777)


def case_files(checks, omk, base):
    name = "files"
    with Case(omk, base, name, mock_faults={"fault": "failed", "fail_next": 1}) as c:
        conf = c.conf(extra="\n[dedup]\nstate_interval = 1s\n")
        sp = c.spool()
        os.makedirs(sp, 0o755)
        os.chmod(sp, 0o755)
        h = c.helper("helper", ["-c", conf])
        h.send(alert("f", 1))
        wait_for(lambda: req_names(sp, "failed"), 10)
        c.mock.configure(fault="503", fail_next=-1)
        h.send(alert("f", 2))
        wait_for(lambda: len(c.mock.requests()) >= 2, 10)
        time.sleep(1.2)         # a state save (state_interval 1s)
        locks = [n for n in os.listdir(os.path.join(sp, "tmp")) if n.endswith(".lock")]
        lock_modes = [mode(os.path.join(sp, "tmp", n)) for n in locks]
        rc, _ = h.finish(SHUTDOWN + 10)
        c.keep(h)
        checks.equal(rc, 0, "%s: exit 0" % name)
        checks.check(re.search(r"spool %s was mode 755; setting 0700" % q(sp), h.stderr_text()),
                     "%s: a 0755 spool dir is tightened, with a warning" % name)
        dirs = {s: mode(os.path.join(sp, s)) for s in (".", "spool", "failed", "tmp")}
        checks.equal(dirs, {s: "0o700" for s in dirs}, "%s: spool dirs are 0700" % name)
        files = {}
        for sub in ("spool", "failed"):
            for n in os.listdir(os.path.join(sp, sub)):
                files[sub + "/" + n.rsplit(".", 1)[1]] = mode(os.path.join(sp, sub, n))
        files["state"] = mode(os.path.join(sp, "state")) if os.path.exists(
            os.path.join(sp, "state")) else None
        checks.equal(files, {"spool/req": "0o600", "failed/req": "0o600",
                             "failed/why": "0o600", "state": "0o600"},
                     "%s: request, failed request, .why and state files are 0600" % name)
        checks.equal(lock_modes, ["0o600"], "%s: the instance lock in tmp/ is 0600" % name)

        # Symlinks planted where omkapture writes or reads.
        victim_dir = c.path("victim")
        os.mkdir(victim_dir, 0o700)
        for sub in ("failed", "tmp"):
            d2 = c.path("link-" + sub)
            os.mkdir(d2, 0o700)
            for s in ("spool", "failed", "tmp"):
                if s == sub:
                    os.symlink(victim_dir, os.path.join(d2, s))
                else:
                    os.mkdir(os.path.join(d2, s), 0o700)
            conf2 = c.conf("link-" + sub, spool_dir=d2)
            rc, out, err, _ = c.run("link-" + sub, ["-c", conf2], alert("l", 1))
            want = "spool %s/%s: is a symlink or not a directory: refusing to use it" % (d2, sub)
            checks.check(rc == 3 and want.encode() in err,
                         "%s: a symlinked %s/ -> exit 3, \"%s\"" % (name, sub, want))
        d3 = c.path("link-dir")
        os.symlink(victim_dir, d3)
        conf3 = c.conf("link-dir", spool_dir=d3)
        rc, out, err, _ = c.run("link-dir", ["-c", conf3], alert("l", 1))
        checks.check(rc == 3 and ("spool %s: is a symlink or not a directory: refusing to use "
                                  "it" % d3).encode() in err,
                     "%s: a symlinked spool dir -> exit 3" % name)
        checks.equal(os.listdir(victim_dir), [], "%s: nothing was written through a link"
                     % name)

        # A request file, the state file and the prometheus file as links.
        c.mock.configure(fail_next=0)
        victim_req = c.path("victim.req")
        src = os.path.join(sp, "spool", req_names(sp)[0])
        shutil.copy(src, victim_req)
        os.unlink(src)
        with open(victim_req, "rb") as f:
            victim_req_bytes = f.read()
        planted = os.path.join(sp, "spool", "0000000000001-0000001-00000001.req")
        os.symlink(victim_req, planted)
        victim_state = c.path("victim.state")
        with open(victim_state, "w") as f:
            f.write("not yours\n")
        os.unlink(os.path.join(sp, "state"))
        os.symlink(victim_state, os.path.join(sp, "state"))
        victim_prom = c.path("victim.prom")
        with open(victim_prom, "w") as f:
            f.write("not yours\n")
        prom = c.path("metrics.prom")
        os.symlink(victim_prom, prom)
        conf4 = c.conf("links", spool_dir=sp,
                       extra="\n[stats]\nprometheus_file = %s\n" % prom)
        n0 = len(c.mock.requests())
        rc, out, err, _ = c.run("links", ["-c", conf4], alert("l", 2))
        checks.equal(rc, 0, "%s: with planted links the run exits 0" % name)
        sent = [body_obj(r["body"])["title"] for r in c.mock.requests()[n0:]]
        checks.equal(sent, ["Alert l #2"], "%s: the linked request file is not sent (only "
                     "the new alert is)" % name)
        with open(victim_req, "rb") as f:
            checks.equal(f.read(), victim_req_bytes, "%s: the file a request link points "
                         "to is left alone" % name)
        with open(victim_state) as f:
            checks.equal(f.read(), "not yours\n", "%s: the file the state link points to "
                         "is left alone" % name)
        checks.check(not os.path.islink(os.path.join(sp, "state")) and
                     mode(os.path.join(sp, "state")) == "0o600",
                     "%s: the state link was replaced by a 0600 file" % name)
        with open(victim_prom) as f:
            checks.equal(f.read(), "not yours\n", "%s: the file the prometheus link points "
                         "to is left alone" % name)
        checks.check(not os.path.islink(prom), "%s: the prometheus link was replaced" % name)
        # Control: the same request as a regular file under that name is sent.
        os.unlink(planted)
        shutil.copy(victim_req, planted)
        n0 = len(c.mock.requests())
        rc, out, err, _ = c.run("control", ["-c", conf4], b"")
        sent = [body_obj(r["body"])["title"] for r in c.mock.requests()[n0:]
                if r["result"] == "success"]
        checks.check(rc == 0 and sent == ["Alert f #2"] and not req_names(sp),
                     "%s: control: as a regular file the same request is sent" % name, sent)
        c.no_token(checks)


# -- an unprivileged user -------------------------------------------------------

def case_unprivileged(checks, omk, base):
    name = "unprivileged"
    if os.geteuid() != 0:
        print("%s: not root: skipped" % name)
        return
    if mocklib.VALGRIND:    # as nobody, no access to the log dir or the build dir
        print("%s: under valgrind: skipped" % name)
        return
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        checks.check(False, "%s: setpriv (util-linux) is required as root" % name)
        return
    import pwd
    nobody = pwd.getpwnam("nobody")
    uid, gid = nobody.pw_uid, nobody.pw_gid
    as_nobody = [setpriv, "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups", "--"]
    os.chmod(base, 0o711)
    with Case(omk, base, name) as c:
        os.chmod(c.d, 0o711)
        # The binary where nobody can run it (the build dir may not be).
        bindir = c.path("bin")
        os.mkdir(bindir, 0o755)
        omk2 = os.path.join(bindir, "omkapture")
        shutil.copy2(omk, omk2)
        os.chmod(omk2, 0o755)
        conf = c.conf()
        sp = c.spool()
        os.mkdir(sp, 0o700)
        for p in (conf, c.path("omkapture.token"), c.path("omkapture.rules"), sp):
            os.chown(p, uid, gid)
        h = Helper(as_nobody + [omk2, "-c", conf], None, "nobody")
        c.helpers.append(h)
        h.send(alert("u", 1) + alert("u", 2))
        ok = wait_for(lambda: len(c.mock.successes()) >= 2, 10)
        checks.check(ok, "%s: as nobody, with a spool nobody owns: tickets delivered" % name)
        status = proc_read(h.pid, "status").decode()
        checks.check(re.search(r"^Uid:\s+%d\s+%d" % (uid, uid), status, re.M),
                     "%s: the process runs as uid %d" % (name, uid))
        st = os.stat("/proc/%d/environ" % h.pid)
        checks.equal(st.st_uid, 0, "%s: not dumpable: /proc/PID/environ belongs to root, "
                     "not to nobody" % name)
        peek = subprocess.run(as_nobody + ["cat", "/proc/%d/environ" % h.pid],
                              capture_output=True, timeout=10)
        checks.check(peek.returncode != 0 and b"Permission denied" in peek.stderr,
                     "%s: nobody itself cannot read the process's environ" % name,
                     peek.stderr)
        checks.equal(core_limit(h.pid), ["0", "0"], "%s: core dumps off" % name)
        rc, _ = h.finish(SHUTDOWN + 10)
        c.keep(h)
        checks.equal(rc, 0, "%s: EOF -> exit 0" % name)
        owners = {os.path.relpath(os.path.join(dp, n), sp): (os.lstat(os.path.join(dp, n)).st_uid,
                                                             mode(os.path.join(dp, n)))
                  for dp, dns, fns in os.walk(sp) for n in dns + fns}
        checks.check(owners and all(v[0] == uid for v in owners.values()),
                     "%s: everything in the spool belongs to nobody" % name, owners)
        checks.equal(owners.get("state"), (uid, "0o600"), "%s: the state file: nobody, 0600"
                     % name)

        # A spool dir owned by someone else, both ways.
        rc, out, err, _ = c.run("root-on-nobodys", ["-c", conf], alert("u", 3))
        want = ("spool %s is owned by uid %d, not by this user (uid 0): refusing to use it"
                % (sp, uid))
        checks.check(rc == 3 and re.search(r"^omkapture\[\d+\]: warning: %s$" % q(want),
                                           err.decode(), re.M),
                     "%s: root with nobody's spool dir: exit 3, \"%s\"" % (name, want))
        rc, out, err, _ = c.run("root-on-nobodys-omprog", ["-c", conf, "--omprog"],
                                alert("u", 3))
        checks.equal((rc, out.decode()), (3, want + "\n"),
                     "%s: ... in --omprog mode the start-up reply says so" % name)
        sp2 = c.path("roots.spool")
        os.mkdir(sp2, 0o755)
        conf2 = c.conf("roots", spool_dir=sp2)
        for p in (conf2, c.path("roots.token"), c.path("roots.rules")):
            os.chown(p, uid, gid)
        rc, out, err, _ = c.run("nobody-on-roots", as_nobody[1:] + [omk2, "-c", conf2],
                                alert("u", 4), argv0=setpriv)
        want = ("spool %s is owned by uid 0, not by this user (uid %d): refusing to use it"
                % (sp2, uid))
        checks.check(rc == 3 and want.encode() in err,
                     "%s: nobody with root's spool dir: exit 3, \"%s\"" % (name, want))
        checks.equal(os.listdir(sp2), [], "%s: ... nothing created in it" % name)
        checks.equal(len(c.mock.successes()), 2, "%s: no other ticket was sent" % name)
        c.no_token(checks)


CASES = [
    ("long-line", case_long_line),
    ("bytes", case_bytes),
    ("json", case_json),
    ("backtrack", case_backtrack),
    ("network", case_network),
    ("tls", case_tls),
    ("redirect", case_redirect),
    ("http-url", case_http_url),
    ("token-file", case_token_file),
    ("secrets", case_secrets),
    ("files", case_files),
    ("unprivileged", case_unprivileged),
]


if __name__ == "__main__":
    sys.exit(mocklib.run_cases("e2e_hardening", "omk-e2e-hardening-", CASES, doc=__doc__))
