"""Helpers for omkapture's Python tests (stdlib only).

    from mocklib import MockKapture, run_omkapture, tmpdir, write_omkapture_config

    with tmpdir() as d, MockKapture(d, token="s3cret", fault="503", fail_next=2) as m:
        write_omkapture_config(d, url=m.url, token="s3cret", rules=RULES)
        rc, out, err = run_omkapture(BIN, ["-c", d + "/omkapture.conf"], b"line\n")
        assert m.requests()[-1]["result"] == "success"

Also: Helper (omkapture as a long-running process), run_cases (the main()
of a test made of cases), and a private rsyslogd for the rsyslog tests
(Rsyslogd, write_rsyslog_files, RSYSLOG_CONF).

Set OMK_KEEP_TMP=1 to keep temporary directories for inspection, and
OMK_VALGRIND=1 to run every omkapture under valgrind memcheck (see
valgrind_wrapper; tests/valgrind_check.py reads the logs).
"""

import argparse
import contextlib
import json
import os
import queue
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
MOCK_SCRIPT = os.path.join(HERE, "mock_kapture.py")
ADD_PATH = "/add-ticket-from-other-source.html/v.2.0"
UPDATE_PATH = "/update-ticket-from-other-source.html/v.2.0"

# Exit status that tells ctest / automake "skipped".
EXIT_SKIP = 77


@contextlib.contextmanager
def tmpdir(prefix="omk-test-"):
    """A fresh temporary directory, removed afterwards unless OMK_KEEP_TMP=1."""
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        if os.environ.get("OMK_KEEP_TMP"):
            sys.stderr.write("keeping %s\n" % path)
        else:
            shutil.rmtree(path, ignore_errors=True)


def wait_for(predicate, timeout, interval=0.05):
    """Poll predicate() until it returns a truthy value or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class MockKapture:
    """Runs tests/mock_kapture.py as a subprocess for the life of a with-block.

    Keyword arguments other than token/shape/quiet are the mock's fault
    settings (latency_ms, fail_next, fault, retry_after, capitalize,
    first_ticket_id) and become its command-line options.
    """

    START_TIMEOUT = 10.0
    STOP_TIMEOUT = 10.0

    def __init__(self, tmpdir, token="test-token", shape="any", name="mock",
                 quiet=False, **faults):
        self.dir = tmpdir
        self.token = token
        self.port_file = os.path.join(tmpdir, name + ".port")
        self.record_path = os.path.join(tmpdir, name + ".record.jsonl")
        self.log_path = os.path.join(tmpdir, name + ".log")
        self.args = [sys.executable, MOCK_SCRIPT, "--port-file", self.port_file,
                     "--record", self.record_path, "--shape", shape]
        if quiet:
            self.args.append("--quiet")
        for key, value in faults.items():
            opt = "--" + key.replace("_", "-")
            if value is True:
                self.args.append(opt)
            elif value is not False and value is not None:
                self.args += [opt, str(value)]
        self.proc = None
        self.port = None

    # -- life cycle ------------------------------------------------------

    def start(self):
        for p in (self.port_file,):
            if os.path.exists(p):
                os.unlink(p)
        # The token goes through the environment, not argv (visible in ps).
        env = dict(os.environ, KAPTURE_TOKEN=self.token)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     env=env)

        def ready():
            if self.proc.poll() is not None:
                return True
            try:
                with open(self.port_file) as f:
                    text = f.read().strip()
                return text.isdigit() and text
            except FileNotFoundError:
                return False

        got = wait_for(ready, self.START_TIMEOUT)
        if self.proc.poll() is not None or not got:
            self.stop()
            raise RuntimeError("mock_kapture did not start:\n" + self.log())
        self.port = int(got)
        return self

    def stop(self):
        """SIGTERM, wait, SIGKILL after STOP_TIMEOUT. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(self.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- addresses -------------------------------------------------------

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def url(self):
        return self.base_url + ADD_PATH

    @property
    def update_url(self):
        return self.base_url + UPDATE_PATH

    # -- inspection and control ------------------------------------------

    def requests(self):
        """The record file's entries, parsed (everything the mock received)."""
        try:
            with open(self.record_path, encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def successes(self, kind="add"):
        return [r for r in self.requests()
                if r["kind"] == kind and r["result"] == "success"]

    def _control(self, method, path, obj=None):
        data = None if obj is None else json.dumps(obj).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        # No proxy: the mock is on 127.0.0.1 and nothing may leave the host.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as resp:
            return json.loads(resp.read())

    def configure(self, **kw):
        """Change fault settings at runtime; returns the new settings."""
        return self._control("POST", "/_mock/config", kw)["config"]

    def stats(self):
        return self._control("GET", "/_mock/stats")

    def requests_http(self):
        return self._control("GET", "/_mock/requests")

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def binary_from_args(args):
    """The --omkapture binary as an absolute path, or None (with a FAIL
    line) if it is not executable; --keep keeps temp directories."""
    omk = os.path.abspath(args.omkapture)
    if not os.access(omk, os.X_OK):
        print("FAIL: omkapture binary not found or not executable: %s" % omk)
        return None
    if args.keep:
        os.environ["OMK_KEEP_TMP"] = "1"
    if VALGRIND:
        return valgrind_wrapper(omk)
    return omk


# -- omkapture under valgrind (OMK_VALGRIND=1) -----------------------------

# With OMK_VALGRIND=1, binary_from_args hands out a wrapper script instead
# of the binary: every omkapture a test starts (run_omkapture, Helper, its
# own subprocess calls, rsyslogd's omprog, the hooks) runs under memcheck,
# one log per process, DIR/vg-PID-N.log, with DIR = OMK_VALGRIND_DIR (else
# a new temp dir, printed and kept). tests/valgrind_check.py DIR... checks
# the logs. OMK_VALGRIND_OPTS adds options (e.g. --track-origins=yes).
# TIME_SCALE (OMK_TIME_SCALE, default 10 under valgrind, else 1): how much
# longer tests should wait for omkapture where they wait with a timeout.
VALGRIND = os.environ.get("OMK_VALGRIND", "") not in ("", "0")
TIME_SCALE = float(os.environ.get("OMK_TIME_SCALE") or (10 if VALGRIND else 1))
VALGRIND_OPTIONS = [
    "--tool=memcheck", "--leak-check=full",
    "--show-leak-kinds=definite,indirect,possible",
    # A definite or indirect leak is an error (exit 99); "possible" is
    # reported, not failed (libcurl and OpenSSL keep pointers into blocks).
    "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
    "--track-fds=no", "--num-callers=40", "--child-silent-after-fork=yes",
    "--suppressions=" + os.path.join(HERE, "valgrind.supp")]


def valgrind_wrapper(omk):
    """Write (atomically: tests may run in parallel) DIR/bin/omkapture, a
    script that execs valgrind on omk (so the PID stays omkapture's), and
    return its path; None (with a FAIL line) without valgrind."""
    vg = shutil.which("valgrind")
    if vg is None:
        print("FAIL: OMK_VALGRIND is set but valgrind is not installed")
        return None
    logdir = os.environ.get("OMK_VALGRIND_DIR")
    if not logdir:
        logdir = os.environ["OMK_VALGRIND_DIR"] = tempfile.mkdtemp(prefix="omk-vg-")
    logdir = os.path.abspath(logdir)
    print("valgrind: logs in %s" % logdir, flush=True)
    bindir = os.path.join(logdir, "bin")
    os.makedirs(bindir, exist_ok=True)
    opts = VALGRIND_OPTIONS + shlex.split(os.environ.get("OMK_VALGRIND_OPTS", ""))
    # The next free DIR/vg-$$-N.log: PIDs wrap (pid_max may be 32768) and
    # valgrind truncates an existing log. Shell builtins only: rsyslogd
    # starts it with an empty environment.
    script = ("#!/bin/sh\n"
              "# Generated by tests/mocklib.py (OMK_VALGRIND=1).\n"
              "n=0\n"
              "while [ -e {log}-$$-$n.log ]; do n=$((n + 1)); done\n"
              "exec {vg} {opts} --log-file={log}-$$-$n.log {omk} \"$@\"\n").format(
                  log=shlex.quote(os.path.join(logdir, "vg")), vg=shlex.quote(vg),
                  opts=" ".join(shlex.quote(o) for o in opts), omk=shlex.quote(omk))
    wrapper = os.path.join(bindir, "omkapture")
    tmp = "%s.%d.tmp" % (wrapper, os.getpid())
    with open(tmp, "w") as f:
        f.write(script)
    os.chmod(tmp, 0o755)
    os.replace(tmp, wrapper)
    VALGRIND_TARGETS[wrapper] = omk
    return wrapper


VALGRIND_TARGETS = {}    # wrapper -> the binary it runs under valgrind


def argv_runs(argv, omk):
    """True if argv (/proc/PID/cmdline split at NULs, bytes) is a process
    of omk, a path from binary_from_args: argv[0] is omk, or, for a
    valgrind wrapper, valgrind's argv naming the wrapped binary."""
    if not argv:
        return False
    if argv[0] == os.fsencode(omk):
        return True
    target = VALGRIND_TARGETS.get(omk)
    return (target is not None and b"valgrind" in os.path.basename(argv[0])
            and os.fsencode(target) in argv[1:])


def valgrind_caught(pid):
    """Under valgrind, what /proc/PID/status SigCgt cannot tell (valgrind
    catches every signal itself from the start): all signals once omkapture
    holds its spool lock (SPOOL/tmp/PID.lock), which it takes just after
    installing its handlers (plugin/main.c), else the empty set."""
    lock = "/tmp/%d.lock" % pid
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)).endswith(lock):
                    return set(range(1, 65))
            except OSError:
                pass
    except OSError:
        return None
    return set()


def omkapture_env(extra=None):
    """The environment for omkapture: ours minus anything that could leak in
    a token or pin the clock, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k != "KAPTURE_TOKEN" and not k.startswith("OMKAPTURE_")
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra or {})
    return env


def run_omkapture(binary, args, stdin_bytes=b"", env=None, timeout=60):
    """Run binary with args; returns (rc, stdout bytes, stderr bytes).

    env: extra variables on top of omkapture_env(). rc is None if the
    process had to be killed after `timeout` seconds.
    """
    proc = subprocess.Popen([binary] + list(args), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=omkapture_env(env))
    try:
        out, err = proc.communicate(stdin_bytes, timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out, err + b"\n[test harness: killed after %ds]\n" % timeout


def write_omkapture_config(d, url, token, rules, body=None, extra="", name="omkapture"):
    """Write d/NAME.conf, d/NAME.token (0600), d/NAME.rules/*.rules; the
    spool lives in d/NAME.spool. `rules` is the text of one rule file.
    Returns the config path."""
    token_file = os.path.join(d, name + ".token")
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    os.chmod(token_file, 0o600)
    rules_dir = os.path.join(d, name + ".rules")
    os.makedirs(rules_dir, exist_ok=True)
    with open(os.path.join(rules_dir, "test.rules"), "w") as f:
        f.write(rules)
    spool = os.path.join(d, name + ".spool")
    os.makedirs(spool, exist_ok=True)
    conf = os.path.join(d, name + ".conf")
    lines = ["[kapture]", "url = " + url, "token_file = " + token_file]
    if body:
        lines.append("body = " + body)
    lines += ["", "[spool]", "dir = " + spool, "", "[rules]", "path = " + rules_dir, ""]
    with open(conf, "w") as f:
        f.write("\n".join(lines) + extra)
    return conf


def files_containing(root, needle):
    """Paths of files under root whose bytes contain needle (bytes)."""
    hits = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            try:
                with open(p, "rb") as f:
                    if needle in f.read():
                        hits.append(p)
            except OSError:
                pass
    return hits


class Checks:
    """Collects named checks and prints a PASS/FAIL summary at the end."""

    def __init__(self, title):
        self.title = title
        self.results = []

    def check(self, ok, name, detail=""):
        self.results.append((bool(ok), name, detail))
        mark = "PASS" if ok else "FAIL"
        print("%s  %s%s" % (mark, name, "" if ok or not detail else "\n      " +
                            str(detail).replace("\n", "\n      ")), flush=True)
        return bool(ok)

    def equal(self, got, want, name):
        return self.check(got == want, name, "" if got == want else
                          "want: %r\n got: %r" % (want, got))

    @property
    def failed(self):
        return [r for r in self.results if not r[0]]

    def summary(self):
        n_fail = len(self.failed)
        print("\n== %s: %d checks, %d passed, %d failed ==" % (
            self.title, len(self.results), len(self.results) - n_fail, n_fail))
        for _, name, _ in self.failed:
            print("   FAILED: " + name)
        return 1 if n_fail or not self.results else 0


def read_text(path, limit=20000):
    """A file's text for diagnostics (the tail, if long); '' if missing."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "(missing: %s)" % path
    text = data.decode("utf-8", "replace")
    return text if len(text) <= limit else "...\n" + text[-limit:]


# -- omkapture as a long-running process ----------------------------------

class Helper:
    """omkapture with piped stdin, stdout and stderr. Threads read stdout and
    stderr as they come, so neither pipe can fill up and block it; stdout
    lines also queue up for reply(). As a with-block, killed at the end.

    env: extra variables on top of omkapture_env(); name: for messages.
    """

    REPLY_TIMEOUT = 10.0

    def __init__(self, binary, args, env=None, name="helper"):
        self.name = name
        self.proc = subprocess.Popen([binary] + list(args), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=omkapture_env(env))
        self.out = bytearray()
        self.err = bytearray()
        self.lines = queue.Queue()
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.out, self.lines),
                             daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.err, None),
                             daemon=True)]
        for t in self.threads:
            t.start()

    def _pump(self, f, sink, lines):
        while True:
            line = f.readline()
            if not line:
                break
            with self.lock:
                sink += line
            if lines is not None:
                lines.put(line)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def reply(self, timeout=REPLY_TIMEOUT):
        """The next stdout line without its newline, or None on timeout/EOF.
        The timeout is multiplied by TIME_SCALE (valgrind)."""
        try:
            return self.lines.get(timeout=timeout * TIME_SCALE).decode(
                "utf-8", "replace").rstrip("\n")
        except queue.Empty:
            return None

    def ask(self, line):
        """Send one line (str) and return the reply to it (--omprog)."""
        self.send(line.encode() + b"\n")
        return self.reply()

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def stderr_text(self):
        with self.lock:
            return bytes(self.err).decode("utf-8", "replace")

    def stdout_bytes(self):
        with self.lock:
            return bytes(self.out)

    def wait_stderr(self, text, timeout):
        return wait_for(lambda: text in self.stderr_text(), timeout)

    def wait(self, timeout):
        """Exit status, or None if it had to be killed after timeout."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        for t in self.threads:
            t.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.close_stdin()


# -- a test made of cases -------------------------------------------------

def run_cases(title, prefix, cases, argv=None, doc=None, before=None):
    """The main() of a test made of independent cases; returns its exit status.

    Parses --omkapture BINARY, --keep and --only NAME[,NAME...] from argv
    (default sys.argv[1:]; doc, the test's docstring, gives the description);
    runs each (name, case) of `cases` as case(checks, omk, base) in one temp
    dir (prefix), each under a header with its time; a case that raises is a
    failed check and does not stop the others. before(base), if given, runs
    first: a status other than None ends the test with it (e.g. EXIT_SKIP).
    Prints the Checks(title) summary."""
    ap = argparse.ArgumentParser(description=(doc or title).split("\n", 1)[0])
    ap.add_argument("--omkapture", required=True, help="path to the omkapture binary")
    ap.add_argument("--keep", action="store_true", help="keep the temp directory")
    ap.add_argument("--only", help="comma-separated case names (%s)"
                    % ", ".join(n for n, _ in cases))
    args = ap.parse_args(argv)
    omk = binary_from_args(args)
    if omk is None:
        return 1
    only = set(args.only.split(",")) if args.only else None
    checks = Checks(title)
    t_all = time.monotonic()
    with tmpdir(prefix) as base:
        print("temp dir: %s" % base)
        if before is not None:
            rc = before(base)
            if rc is not None:
                return rc
        for name, case in cases:
            if only and name not in only:
                continue
            t0 = time.monotonic()
            print("\n==== %s" % name, flush=True)
            try:
                case(checks, omk, base)
            except Exception as e:   # a broken case must not hide the others
                traceback.print_exc()
                checks.check(False, "%s raised %s: %s" % (name, type(e).__name__, e))
            print("==== %s: %.1fs" % (name, time.monotonic() - t0), flush=True)
    print("total %.1fs" % (time.monotonic() - t_all))
    return checks.summary()


# -- a private rsyslogd (the rsyslog tests) -------------------------------

# The rsyslog tests' config: syslog over TCP on 127.0.0.1 (an ephemeral port,
# written to DIR/imtcp.port); severity <= 3 goes to omkapture through the
# wrapper script DIR/helper.sh, with the settings of the shipped snippet
# (omprog.md); rsyslog's own messages go to DIR/rsyslog-internal.log.
# {action} is the rest of the action (its queue, its resume interval): each
# test says its own.
RSYSLOG_CONF = """\
global(workDirectory="{d}/rsyslog-work" processInternalMessages="on")
module(load="imtcp")
module(load="omprog")
template(name="omkapture_json" type="string" string="%jsonmesg%\\n")

input(type="imtcp" address="127.0.0.1" port="0"
      listenPortFileName="{d}/imtcp.port" ruleset="alerts")

ruleset(name="alerts") {{
  if $syslogseverity <= 3 then {{
    action(type="omprog" name="omkapture"
           binary="{d}/helper.sh"
           template="omkapture_json"
           confirmMessages="on" confirmTimeout="30000" reportFailures="on"
           closeTimeout="10000" killUnresponsive="on" hup.signal="HUP"
           output="{d}/omprog.out"
           {action})
  }}
}}

# rsyslog's own messages (processInternalMessages="on") go here.
*.* action(type="omfile" file="{d}/rsyslog-internal.log")
"""


def pid_listens(pid, port):
    """True if process pid holds a TCP socket listening on port (Linux
    /proc). Not just "something accepts on port": a daemon that could not
    bind it may run on without the listener while another process has it."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            col = row.split()
            if len(col) > 9 and col[3] == "0A" and int(col[1].rsplit(":", 1)[1], 16) == port:
                inodes.add("socket:[%s]" % col[9])
    if not inodes:
        return False
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in inodes:
                return True
        except OSError:
            pass
    return False


def send_lines(port, lines, host="127.0.0.1"):
    """Send lines (str, newline framing) over one TCP connection."""
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall("".join(line + "\n" for line in lines).encode())


def find_rsyslogd(explicit=None):
    """explicit, or rsyslogd from PATH or /usr/sbin, /sbin; None if none is
    executable."""
    candidates = [explicit] if explicit else [shutil.which("rsyslogd"),
                                              "/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
    for p in candidates:
        if p and os.access(p, os.X_OK):
            return p
    return None


def rsyslog_env():
    """rsyslogd (and so the helper) with an almost empty environment, as
    under systemd; sanitizer settings pass through for Asan builds."""
    return {k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")}


def write_rsyslog_files(d, helper_sh, omk, conf, action):
    """Write d/helper.sh from the wrapper template helper_sh ({d}, {omk} and
    {conf} filled in, shell-quoted), make d/rsyslog-work and write
    d/rsyslog.conf: RSYSLOG_CONF with `action`, a list of the action's
    further parameters (one line each). Returns the rsyslog.conf path."""
    helper = os.path.join(d, "helper.sh")
    with open(helper, "w") as f:
        f.write(helper_sh.format(d=shlex.quote(d), omk=shlex.quote(omk),
                                 conf=shlex.quote(conf)))
    os.chmod(helper, 0o755)
    os.makedirs(os.path.join(d, "rsyslog-work"), exist_ok=True)
    rconf = os.path.join(d, "rsyslog.conf")
    with open(rconf, "w") as f:
        f.write(RSYSLOG_CONF.format(d=d, action="\n           ".join(action)))
    return rconf


def check_rsyslog_conf(checks, rsyslogd, rconf, prefix=""):
    """The check that `rsyslogd -N1` accepts rconf (its output if not)."""
    v = subprocess.run([rsyslogd, "-N1", "-f", rconf], capture_output=True, text=True,
                       env=rsyslog_env(), timeout=30)
    return checks.check(v.returncode == 0, prefix + "rsyslogd -N1 accepts the config",
                        v.stdout + v.stderr)


class Rsyslogd:
    """One rsyslogd in the foreground on a private config and work dir;
    its stdout and stderr go to d/rsyslogd.out, a header line per start."""

    def __init__(self, binary, conf, d):
        self.binary, self.conf, self.d = binary, conf, d
        self.port_file = os.path.join(d, "imtcp.port")
        self.pidfile = os.path.join(d, "rsyslogd.pid")
        self.proc = None
        self.port = None
        self.starts = 0

    def start(self, port=None):
        """Start it and wait for its port file; True if it runs and listens.

        port: the config listens on this fixed port instead (a restart that
        must keep its address); rsyslog 8.2302 writes listenPortFileName
        only for port="0", so wait until it holds a listener on it (if the
        port is taken, 8.2302 logs "Could not create tcp listener" and runs
        on without it: then this returns False after 10 s)."""
        if port is not None:
            return self._start_fixed(port)
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self._popen()

        def port_from_file():
            if self.proc.poll() is not None:
                return -1
            try:
                with open(self.port_file) as f:
                    text = f.read().strip()
                return int(text) if text.isdigit() and int(text) > 0 else None
            except (FileNotFoundError, ValueError):
                return None

        self.port = wait_for(port_from_file, 10)
        return self.proc.poll() is None and bool(self.port) and self.port > 0

    def _popen(self):
        self.starts += 1
        with open(os.path.join(self.d, "rsyslogd.out"), "ab") as out:
            out.write(b"=== start %d ===\n" % self.starts)
            out.flush()
            self.proc = subprocess.Popen([self.binary, "-n", "-f", self.conf, "-i",
                                          self.pidfile],
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, env=rsyslog_env())

    def _start_fixed(self, port):
        self._popen()
        ok = wait_for(lambda: self.proc.poll() is not None or
                      pid_listens(self.proc.pid, port), 10)
        self.port = port if ok and self.proc.poll() is None else None
        return self.port is not None

    def terminate(self):
        """Send SIGTERM (once); returns the time it was sent."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return time.monotonic()

    def wait(self, t0, timeout=40):
        """Wait for the exit; returns (seconds since t0, exit status or None
        if it had to be killed)."""
        if self.proc is None:
            return 0.0, None
        try:
            self.proc.wait(max(0.0, t0 + timeout - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return time.monotonic() - t0, None
        return time.monotonic() - t0, self.proc.returncode

    def stop(self, timeout=40):
        """SIGTERM and wait; returns (seconds taken, exit status or None)."""
        return self.wait(self.terminate(), timeout)
