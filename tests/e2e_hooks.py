#!/usr/bin/env python3
"""Integration test of the monitoring hooks (packaging/hooks/) against the
mock Kapture: each hook runs `omkapture ticket`, and the mock must receive
exactly the request the hook documents.

    python3 tests/e2e_hooks.py --omkapture build/plugin/omkapture [--keep]
        [--only CASE[,CASE...]]

Every case has its own temp dir, token file, spool and mock on 127.0.0.1.
The hooks find omkapture through OMKAPTURE_BIN, set to a wrapper that
records each argv (so the checks see what reached the command line) and
then execs the binary; the config comes through OMKAPTURE_CONF. The clock
is pinned (OMKAPTURE_NOW=1795773600 = 2026-11-27 10:00:00, TZ=UTC), so due
dates are exact: +4h is 14:00:00, +1d the 28th at 10:00:00.

  static        the scripts are executable; `sh -n` (and shellcheck -s sh,
                when installed) pass; the receiver compiles; every hook
                answers --help with exit 0; the systemd unit runs the
                receiver from /usr/lib/omkapture on 127.0.0.1:9095.
  nagios-env    NAGIOS_* macros (service CRITICAL, escaped long output,
                contact email) and ICINGA_* (host DOWN): exact bodies,
                source nagios / icinga, due +4h.
  nagios-args   options (WARNING: due +1d; --field; --source; an empty
                --due-critical), positional arguments, the README's Nagios
                command_line run through /bin/sh as Nagios does.
  nagios-skip   RECOVERY, ACKNOWLEDGEMENT and a re-notification (number 2)
                open nothing (exit 0, stderr says so, omkapture not run);
                --types PROBLEM,RECOVERY and --renotify do.
  zabbix        SENDTO SUBJECT MESSAGE: title, details (a 48 KiB message,
                via stdin), email_id; --due/--field after them; empty
                SENDTO and SUBJECT.
  monit         MONIT_* variables: exact body; a recovery event is skipped,
                --all tickets it; without MONIT_* exit 2.
  hostile       quotes, $(...), backticks, $VARS, newlines, tabs, a leading
                dash, globs, backslashes and UTF-8 in every value of every
                hook arrive verbatim (and no $(...) ran).
  exit-status   the hooks exit with omkapture's status (a wrapper exiting 42;
                "failed": 3; a missing config: 1), 0 with "ticket spooled"
                when Kapture is down; a missing omkapture is 127; defaults:
                -c /etc/omkapture/omkapture.conf, omkapture from PATH.
  alertmanager  the receiver: 2 firing + 1 resolved -> 200 and exactly 2
                tickets; the same payload again -> 200, no ticket; one of two
                rejected -> 500, the retry tickets only that one; Kapture
                down (503, no --wait) -> spooled, 200, delivered by a later
                omkapture run; 413 oversized, 400 invalid JSON or no alerts,
                411 no Content-Length, 401 without the bearer token; a ticket
                command over --timeout -> 500; SIGTERM -> exit 0.
Every case checks that its random token appears in no output, no recorded
argv and no spool file. Exit 0 if every check passed, else 1.
"""

import http.client
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import MockKapture, wait_for, write_omkapture_config  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
HOOKS = os.path.join(os.path.dirname(HERE), "packaging", "hooks")
NAGIOS = os.path.join(HOOKS, "omkapture-nagios")
ZABBIX = os.path.join(HOOKS, "omkapture-zabbix")
MONIT = os.path.join(HOOKS, "omkapture-monit")
ALERTMANAGER = os.path.join(HOOKS, "omkapture-alertmanager")
HOOKS_README = os.path.join(HOOKS, "README.md")

NOW = 1795773600                       # 2026-11-27 10:00:00 UTC
DUE_4H = "2026-11-27 14:00:00"
DUE_1H = "2026-11-27 11:00:00"
DUE_1D = "2026-11-28 10:00:00"
RUN_TIMEOUT = 30

RULES = "[unused]\nmatch = ^never matches this$\ntitle = unused\n"
# Short network timeouts: a faulty mock must not stall a case.
CONF_EXTRA = "\n[kapture]\ntimeout = 3s\nconnect_timeout = 1s\nretry_max = 1s\n"

# A value no shell may touch: quotes of both kinds, command substitution
# (which would create CANARY), backticks, variables, a newline, a tab, a
# leading dash, glob characters, backslashes, shell operators, UTF-8.
HOSTILE = ("-x it's \"quoted\" $(touch {canary}) `touch {canary}` $HOME ${{PATH}}\n"
           "line 2\twith a tab; * ? [a] | & < > \\n \\\\ \\t ünïcødé ✓ 日本語 🚨")

# omkapture's stand-in: records its argv (NUL-separated, one file a run),
# then exits OMK_WRAP_EXIT, sleeps (OMK_WRAP_SLEEP) or execs omkapture.
WRAPPER = """#!/bin/sh
f=$(mktemp "$OMK_ARGV_DIR/argv.XXXXXX") && printf '%s\\0' "$@" >"$f"
[ -z "${{OMK_WRAP_EXIT:-}}" ] || exit "$OMK_WRAP_EXIT"
[ -z "${{OMK_WRAP_SLEEP:-}}" ] || exec sleep "$OMK_WRAP_SLEEP"
exec {omk} "$@"
"""


# -- requests at the mock ------------------------------------------------

class Mock(MockKapture):
    """MockKapture whose record reader skips a last line still being
    written."""

    def requests(self):
        try:
            with open(self.record_path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            return []
        return [json.loads(ln) for ln in text.split("\n")[:-1] if ln.strip()]


def body_obj(rec):
    b = rec.get("body")
    if isinstance(b, list) and len(b) == 1 and isinstance(b[0], dict):
        return dict(b[0])
    return None


def strip_ref(checks, name, obj):
    """obj without omkapture_ref, checking that is 16 lowercase hex digits."""
    ref = obj.pop("omkapture_ref", None)
    checks.check(isinstance(ref, str) and re.fullmatch(r"[0-9a-f]{16}", ref),
                 "%s: omkapture_ref is 16 lowercase hex digits" % name, ref)
    return obj


def new_tickets(checks, name, mock, n0, want_n):
    """The ticket objects (refs checked and removed) of the requests the
    mock received since n0, checking there are want_n, all successful."""
    new = mock.requests()[n0:]
    checks.equal(len(new), want_n, "%s: the mock received %d request%s" % (
        name, want_n, "" if want_n == 1 else "s"))
    bad = [r.get("message") for r in new if r["kind"] != "add" or r["result"] != "success"]
    checks.check(not bad, "%s: each a successful add-ticket request" % name, bad)
    objs = []
    for r in new:
        o = body_obj(r)
        checks.check(o is not None, "%s: body is an array of one object" % name,
                     r.get("raw", "")[:300])
        if o is not None:
            objs.append(strip_ref(checks, name, o))
    return objs


TITLE_MAX = 255     # [limits] title_max's default: longer titles end in "…"


def capped(want):
    """want with its title cut as omkapture cuts it (title_max characters,
    the last one an ellipsis), as for any rule's ticket."""
    t = want.get("title")
    if isinstance(t, str) and len(t) > TITLE_MAX:
        want = dict(want, title=t[:TITLE_MAX - 1] + "…")
    return want


def one_ticket(checks, name, mock, n0, want):
    """Exactly one new request since n0, and its body is `want` plus a ref."""
    objs = new_tickets(checks, name, mock, n0, 1)
    if len(objs) == 1:
        checks.equal(objs[0], capped(want), "%s: exact request body" % name)


# -- a case ----------------------------------------------------------------

class Case:
    """A temp dir, a random token, a mock, a config and the argv-recording
    wrapper for one case."""

    def __init__(self, omk, base, name, mock_faults=None):
        self.omk = omk
        self.name = name
        self.d = os.path.join(base, name)
        os.mkdir(self.d)
        self.token = "hook-" + os.urandom(12).hex()
        self.mock = Mock(self.d, token=self.token, shape="array", quiet=True,
                         **(mock_faults or {}))
        self.argv_dir = os.path.join(self.d, "argv")
        os.mkdir(self.argv_dir)
        self.bin_dir = os.path.join(self.d, "bin")
        os.mkdir(self.bin_dir)
        self.wrapper = os.path.join(self.bin_dir, "omkapture")
        with open(self.wrapper, "w") as f:
            f.write(WRAPPER.format(omk=shlex.quote(omk)))
        os.chmod(self.wrapper, 0o755)
        self.canary = os.path.join(self.d, "CANARY")
        self.texts = []         # (label, bytes) of every output, for the token check
        self.procs = []

    def __enter__(self):
        self.mock.start()
        try:
            self.conf = write_omkapture_config(self.d, self.mock.url, self.token, RULES,
                                               extra=CONF_EXTRA)
        except BaseException:
            self.mock.stop()
            raise
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.mock.stop()
        return False

    @property
    def spool(self):
        return os.path.join(self.d, "omkapture.spool")

    def env(self, extra=None):
        """The hooks' environment: no NAGIOS_/ICINGA_/MONIT_ from ours, the
        pinned clock, OMKAPTURE_BIN = the wrapper, OMKAPTURE_CONF."""
        env = {k: v for k, v in mocklib.omkapture_env().items()
               if not k.startswith(("NAGIOS_", "ICINGA_", "MONIT_"))}
        env.update({"TZ": "UTC", "OMKAPTURE_NOW": str(NOW), "OMKAPTURE_BIN": self.wrapper,
                    "OMKAPTURE_CONF": self.conf, "OMK_ARGV_DIR": self.argv_dir})
        for k, v in (extra or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def run(self, label, argv, env=None, stdin=b"", timeout=RUN_TIMEOUT):
        """Run a hook; (rc, stdout, stderr). rc None if it had to be killed."""
        t0 = time.monotonic()
        p = subprocess.run(argv, input=stdin, capture_output=True, env=self.env(env),
                           timeout=timeout, cwd=self.d)
        secs = time.monotonic() - t0
        print("--- %s: rc=%s in %.2fs%s%s" % (
            label, p.returncode, secs,
            "\n    stdout: " + p.stdout.decode("utf-8", "replace")[-1500:].rstrip()
            if p.stdout else "",
            "\n    stderr: " + p.stderr.decode("utf-8", "replace")[-1500:].rstrip()
            if p.stderr else ""))
        self.texts += [(label + " stdout", p.stdout), (label + " stderr", p.stderr)]
        return p.returncode, p.stdout, p.stderr

    def argvs(self, clear=True):
        """Every argv the wrapper recorded (lists of str); clears them."""
        out = []
        for n in sorted(os.listdir(self.argv_dir)):
            p = os.path.join(self.argv_dir, n)
            with open(p, "rb") as f:
                data = f.read()
            self.texts.append(("argv " + n, data))
            out.append([a.decode("utf-8", "surrogateescape") for a in data.split(b"\0")[:-1]])
            if clear:
                os.unlink(p)
        return out

    def check_argv(self, checks, label, n=1, conf=None):
        """The wrapper ran n times, each as `-c CONF ticket ...`; returns them."""
        av = self.argvs()
        checks.equal(len(av), n, "%s: omkapture ran %d time%s" % (label, n,
                                                                   "" if n == 1 else "s"))
        conf = conf or self.conf
        bad = [a[:4] for a in av if a[:3] != ["-c", conf, "ticket"]]
        checks.check(not bad, "%s: as `omkapture -c $OMKAPTURE_CONF ticket ...`" % label, bad)
        return av

    def check_token(self, checks, extra_texts=()):
        tok = self.token.encode()
        self.argvs()
        leaked = [label for label, data in list(self.texts) + list(extra_texts) if tok in data]
        checks.check(not leaked, "%s: the token appears in no output and no argv" % self.name,
                     leaked)
        hits = mocklib.files_containing(self.spool, tok)
        checks.check(not hits, "%s: the token is in no file under the spool dir" % self.name,
                     hits)

    def check_canary(self, checks):
        checks.check(not os.path.exists(self.canary),
                     "%s: no $(...) or backtick in a value was run" % self.name)


# -- the files themselves ---------------------------------------------------

def case_static(checks, omk, base):
    name = "static"
    import py_compile
    import shutil
    for path in (NAGIOS, ZABBIX, MONIT, ALERTMANAGER):
        checks.check(os.access(path, os.X_OK), "%s: %s is executable" % (
            name, os.path.basename(path)))
    for path in (NAGIOS, ZABBIX, MONIT):
        with open(path, encoding="utf-8") as f:
            first = f.readline()
        checks.equal(first, "#!/bin/sh\n", "%s: %s is a /bin/sh script" % (
            name, os.path.basename(path)))
        p = subprocess.run(["sh", "-n", path], capture_output=True, text=True)
        checks.check(p.returncode == 0, "%s: sh -n %s" % (name, os.path.basename(path)),
                     p.stderr)
    sc = shutil.which("shellcheck")
    if sc:
        p = subprocess.run([sc, "-s", "sh", NAGIOS, ZABBIX, MONIT], capture_output=True,
                           text=True)
        checks.check(p.returncode == 0, "%s: shellcheck -s sh is clean" % name, p.stdout)
    else:
        print("(shellcheck not installed: not run)")
    try:
        py_compile.compile(ALERTMANAGER, cfile=os.path.join(base, "am.pyc"), doraise=True)
        ok, why = True, ""
    except py_compile.PyCompileError as e:
        ok, why = False, str(e)
    checks.check(ok, "%s: omkapture-alertmanager compiles" % name, why)
    for path in (NAGIOS, ZABBIX, MONIT, ALERTMANAGER):
        p = subprocess.run([path, "--help"], capture_output=True, timeout=30,
                           env=mocklib.omkapture_env())
        checks.check(p.returncode == 0 and b"usage" in p.stdout.lower(),
                     "%s: %s --help" % (name, os.path.basename(path)), p.stderr)
    with open(os.path.join(HOOKS, "omkapture-alertmanager.service"), encoding="utf-8") as f:
        unit = f.read()
    checks.check(re.search(r"^ExecStart=/usr/lib/omkapture/omkapture-alertmanager "
                           r"--listen 127\.0\.0\.1:9095$", unit, re.M),
                 "%s: the unit's ExecStart" % name)
    checks.check(re.search(r"^Environment=OMKAPTURE_CONF=/etc/omkapture/omkapture\.conf$",
                           unit, re.M), "%s: the unit's OMKAPTURE_CONF" % name)


# -- Nagios / Icinga -------------------------------------------------------

def case_nagios_env(checks, omk, base):
    name = "nagios-env"
    with Case(omk, base, name) as c:
        env = {
            "NAGIOS_NOTIFICATIONTYPE": "PROBLEM",
            "NAGIOS_HOSTNAME": "web1",
            "NAGIOS_HOSTADDRESS": "192.0.2.10",
            "NAGIOS_SERVICEDESC": "disk /",
            "NAGIOS_SERVICESTATE": "CRITICAL",
            "NAGIOS_SERVICEOUTPUT": "DISK CRITICAL - free space: / 512 MB (3% inode=91%):",
            # Nagios's escaping: \n a newline, \\ a backslash.
            "NAGIOS_LONGSERVICEOUTPUT": "/ 15872 MB used\\n/var 2 GB free\\nC:\\\\temp",
            "NAGIOS_LONGDATETIME": "Fri Nov 27 10:00:00 UTC 2026",
            "NAGIOS_CONTACTEMAIL": "noc@example.com",
            "NAGIOS_SERVICENOTIFICATIONNUMBER": "1",
            # A host notification's macros, which a service one ignores.
            "NAGIOS_HOSTSTATE": "UP", "NAGIOS_HOSTOUTPUT": "PING OK",
        }
        n0 = len(c.mock.requests())
        rc, out, err = c.run(name, [NAGIOS], env)
        checks.equal(rc, 0, "%s: exit 0" % name)
        checks.check(re.search(rb"^ticket \d+ created$", out, re.M),
                     "%s: omkapture's \"ticket N created\" on stdout" % name, out)
        c.check_argv(checks, name)
        one_ticket(checks, name, c.mock, n0, {
            "title": "PROBLEM: disk / on web1 is CRITICAL",
            "ticket_details": "Notification: PROBLEM\nHost: web1 (192.0.2.10)\n"
                              "Service: disk /\nState: CRITICAL\n"
                              "Date: Fri Nov 27 10:00:00 UTC 2026\n\n"
                              "DISK CRITICAL - free space: / 512 MB (3% inode=91%):\n"
                              "/ 15872 MB used\n/var 2 GB free\nC:\\temp",
            "due_date": DUE_4H,
            "email_id": "noc@example.com",
            "source": "nagios", "alert_host": "web1", "alert_service": "disk /",
            "alert_state": "CRITICAL", "alert_notification_type": "PROBLEM"})

        # Icinga 1.x: ICINGA_* macros, a host notification.
        label = name + " icinga1-host"
        env = {
            "ICINGA_NOTIFICATIONTYPE": "PROBLEM",
            "ICINGA_HOSTNAME": "db1",
            "ICINGA_HOSTADDRESS": "db1",
            "ICINGA_HOSTSTATE": "DOWN",
            "ICINGA_HOSTOUTPUT": "CRITICAL - Host Unreachable (192.0.2.20)",
            "ICINGA_LONGHOSTOUTPUT": "",
            "ICINGA_LONGDATETIME": "Fri Nov 27 10:00:00 UTC 2026",
            "ICINGA_NOTIFICATIONAUTHOR": "",
            "ICINGA_HOSTNOTIFICATIONNUMBER": "1",
        }
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [NAGIOS], env)
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        one_ticket(checks, label, c.mock, n0, {
            "title": "PROBLEM: host db1 is DOWN",
            "ticket_details": "Notification: PROBLEM\nHost: db1\nState: DOWN\n"
                              "Date: Fri Nov 27 10:00:00 UTC 2026\n\n"
                              "CRITICAL - Host Unreachable (192.0.2.20)",
            "due_date": DUE_4H,
            "source": "icinga", "alert_host": "db1", "alert_state": "DOWN",
            "alert_notification_type": "PROBLEM"})
        c.check_token(checks)


def readme_command_lines():
    """command_name -> command_line of the README's Nagios commands."""
    with open(HOOKS_README, encoding="utf-8") as f:
        text = f.read()
    cmds = {}
    for block in re.findall(r"define command \{(.*?)\n\}", text, re.S):
        nm = re.search(r"^\s*command_name\s+(\S+)", block, re.M)
        cl = re.search(r"^\s*command_line\s+(.+)$", block, re.M)
        if nm and cl:
            cmds[nm.group(1)] = cl.group(1).strip()
    return cmds


def nagios_expand(command_line, macros):
    """The command line as Nagios runs it: each $MACRO$ replaced by its
    value, with the default illegal_macro_output_chars removed from output
    macros."""
    illegal = "`~$&|'\"<>"
    output_macros = {"SERVICEOUTPUT", "LONGSERVICEOUTPUT", "HOSTOUTPUT", "LONGHOSTOUTPUT",
                     "NOTIFICATIONAUTHOR", "NOTIFICATIONCOMMENT"}

    def sub(m):
        v = macros.get(m.group(1), "")
        if m.group(1) in output_macros:
            v = "".join(ch for ch in v if ch not in illegal)
        return v
    return re.sub(r"\$([A-Z]+)\$", sub, command_line)


def case_nagios_args(checks, omk, base):
    name = "nagios-args"
    with Case(omk, base, name) as c:
        # Icinga 2 style options: WARNING -> +1d, a --field, --source.
        label = name + " options"
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [
            NAGIOS, "--source", "icinga", "--type", "PROBLEM", "--host", "app2",
            "--address", "198.51.100.7", "--service", "HTTP",
            "--state", "WARNING", "--output", "HTTP WARNING: HTTP/1.1 503 - 0.2 second response",
            "--date", "2026-11-27 10:00:00 +0000", "--email", "web@example.com",
            "--field", "queue=Web", "--field", "category.level1=Outage"])
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        one_ticket(checks, label, c.mock, n0, {
            "title": "PROBLEM: HTTP on app2 is WARNING",
            "ticket_details": "Notification: PROBLEM\nHost: app2 (198.51.100.7)\n"
                              "Service: HTTP\nState: WARNING\nDate: 2026-11-27 10:00:00 +0000"
                              "\n\nHTTP WARNING: HTTP/1.1 503 - 0.2 second response",
            "due_date": DUE_1D, "email_id": "web@example.com",
            "queue": "Web", "category": {"level1": "Outage"},
            "source": "icinga", "alert_host": "app2", "alert_service": "HTTP",
            "alert_state": "WARNING", "alert_notification_type": "PROBLEM"})

        # Positional: TYPE HOST SERVICE STATE OUTPUT LONGOUTPUT DATE; an
        # empty --due-critical means no due date; a --field replaces ours;
        # a long output argument is not unescaped without --nagios-escapes.
        label = name + " positional"
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [
            NAGIOS, "--due-critical=", "--field", "source=nagios-prod", "PROBLEM", "web1",
            "Load", "CRITICAL", "CRITICAL - load average: 31.2, 20.1, 9.8",
            "top: java 780%\\nmysqld 150%", "Fri Nov 27 10:00:00 UTC 2026"])
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        one_ticket(checks, label, c.mock, n0, {
            "title": "PROBLEM: Load on web1 is CRITICAL",
            "ticket_details": "Notification: PROBLEM\nHost: web1\nService: Load\n"
                              "State: CRITICAL\nDate: Fri Nov 27 10:00:00 UTC 2026\n\n"
                              "CRITICAL - load average: 31.2, 20.1, 9.8\n"
                              "top: java 780%\\nmysqld 150%",
            "source": "nagios-prod", "alert_host": "web1", "alert_service": "Load",
            "alert_state": "CRITICAL", "alert_notification_type": "PROBLEM"})

        # The README's command lines, expanded and run through /bin/sh as
        # Nagios does (OMKAPTURE_CONF comes from the README's env prefix,
        # which names a system path: point it at ours).
        cmds = readme_command_lines()
        checks.equal(sorted(cmds), ["notify-host-by-kapture", "notify-service-by-kapture"],
                     "%s: the README defines the two Nagios commands" % name)
        for cmd_name, macros, want in [
                ("notify-service-by-kapture", {
                    "NOTIFICATIONTYPE": "PROBLEM", "SERVICENOTIFICATIONNUMBER": "1",
                    "HOSTNAME": "web1", "HOSTADDRESS": "192.0.2.10", "SERVICEDESC": "disk /",
                    "SERVICESTATE": "CRITICAL",
                    "SERVICEOUTPUT": "DISK CRITICAL - free space: / 512 MB (3%) <'ok'> & $5",
                    "LONGSERVICEOUTPUT": "part 1\\npart \"2\"\\nC:\\\\temp",
                    "LONGDATETIME": "Fri Nov 27 10:00:00 UTC 2026",
                    "NOTIFICATIONAUTHOR": "", "NOTIFICATIONCOMMENT": "",
                    "CONTACTEMAIL": "noc@example.com"},
                 {"title": "PROBLEM: disk / on web1 is CRITICAL",
                  "ticket_details": "Notification: PROBLEM\nHost: web1 (192.0.2.10)\n"
                                    "Service: disk /\nState: CRITICAL\n"
                                    "Date: Fri Nov 27 10:00:00 UTC 2026\n\n"
                                    "DISK CRITICAL - free space: / 512 MB (3%) ok  5\n"
                                    "part 1\npart 2\nC:\\temp",
                  "due_date": DUE_4H, "email_id": "noc@example.com", "queue": "Infra",
                  "source": "nagios", "alert_host": "web1", "alert_service": "disk /",
                  "alert_state": "CRITICAL", "alert_notification_type": "PROBLEM"}),
                ("notify-host-by-kapture", {
                    "NOTIFICATIONTYPE": "PROBLEM", "HOSTNOTIFICATIONNUMBER": "1",
                    "HOSTNAME": "db1", "HOSTADDRESS": "192.0.2.20", "HOSTSTATE": "DOWN",
                    "HOSTOUTPUT": "CRITICAL - Host Unreachable (192.0.2.20)",
                    "LONGHOSTOUTPUT": "", "LONGDATETIME": "Fri Nov 27 10:00:00 UTC 2026",
                    "NOTIFICATIONAUTHOR": "", "NOTIFICATIONCOMMENT": "",
                    "CONTACTEMAIL": "noc@example.com"},
                 {"title": "PROBLEM: host db1 is DOWN",
                  "ticket_details": "Notification: PROBLEM\nHost: db1 (192.0.2.20)\n"
                                    "State: DOWN\nDate: Fri Nov 27 10:00:00 UTC 2026\n\n"
                                    "CRITICAL - Host Unreachable (192.0.2.20)",
                  "due_date": DUE_4H, "email_id": "noc@example.com", "queue": "Infra",
                  "source": "nagios", "alert_host": "db1", "alert_state": "DOWN",
                  "alert_notification_type": "PROBLEM"})]:
            label = "%s README %s" % (name, cmd_name)
            line = cmds.get(cmd_name)
            if line is None:
                continue
            line = line.replace("/usr/lib/omkapture/omkapture-nagios", shlex.quote(NAGIOS))
            line = re.sub(r"OMKAPTURE_CONF=\S+", "OMKAPTURE_CONF=" + shlex.quote(c.conf), line)
            n0 = len(c.mock.requests())
            rc, out, err = c.run(label, ["/bin/sh", "-c", nagios_expand(line, macros)])
            checks.equal(rc, 0, "%s: exit 0" % label)
            c.check_argv(checks, label)
            one_ticket(checks, label, c.mock, n0, want)
        c.check_token(checks)


def case_nagios_skip(checks, omk, base):
    name = "nagios-skip"
    with Case(omk, base, name) as c:
        svc = ["--host", "web1", "--service", "disk /", "--output", "DISK OK"]
        n0 = len(c.mock.requests())
        for ntype, state, extra, says in [
                ("RECOVERY", "OK", [],
                 b"omkapture-nagios: RECOVERY notification for disk / on web1: no ticket"),
                ("ACKNOWLEDGEMENT", "CRITICAL", ["--author", "alice", "--comment", "on it"],
                 b"omkapture-nagios: ACKNOWLEDGEMENT notification for disk / on web1: "
                 b"no ticket"),
                ("PROBLEM", "CRITICAL", ["--number", "2"],
                 b"omkapture-nagios: PROBLEM notification number 2 for disk / on web1: a "
                 b"re-notification, no ticket")]:
            label = "%s %s%s" % (name, ntype, " #2" if extra[:1] == ["--number"] else "")
            rc, out, err = c.run(label, [NAGIOS, "--type", ntype, "--state", state] +
                                 svc + extra)
            checks.equal(rc, 0, "%s: exit 0" % label)
            checks.check(says in err, "%s: stderr says no ticket" % label, err)
            checks.equal(c.argvs(), [], "%s: omkapture not run" % label)
        # The same through environment macros (a re-notification).
        label = name + " env #3"
        rc, out, err = c.run(label, [NAGIOS], {
            "NAGIOS_NOTIFICATIONTYPE": "PROBLEM", "NAGIOS_HOSTNAME": "web1",
            "NAGIOS_SERVICEDESC": "disk /", "NAGIOS_SERVICESTATE": "CRITICAL",
            "NAGIOS_SERVICENOTIFICATIONNUMBER": "3"})
        checks.equal(rc, 0, "%s: exit 0" % label)
        checks.check(b"re-notification, no ticket" in err, "%s: stderr says so" % label, err)
        checks.equal(c.argvs(), [], "%s: omkapture not run" % label)
        checks.equal(len(c.mock.requests()), n0, "%s: the mock received nothing" % name)

        label = name + " --types PROBLEM,RECOVERY"
        rc, out, err = c.run(label, [NAGIOS, "--types", "problem, recovery", "--type",
                                     "RECOVERY", "--state", "OK"] + svc)
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        one_ticket(checks, label, c.mock, n0, {
            "title": "RECOVERY: disk / on web1 is OK",
            "ticket_details": "Notification: RECOVERY\nHost: web1\nService: disk /\n"
                              "State: OK\n\nDISK OK",
            "due_date": DUE_1D, "source": "nagios", "alert_host": "web1",
            "alert_service": "disk /", "alert_state": "OK",
            "alert_notification_type": "RECOVERY"})

        label = name + " --renotify"
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [NAGIOS, "--renotify", "--number", "4", "--type",
                                     "PROBLEM", "--state", "CRITICAL"] + svc)
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        objs = new_tickets(checks, label, c.mock, n0, 1)
        checks.equal([o.get("title") for o in objs], ["PROBLEM: disk / on web1 is CRITICAL"],
                     "%s: re-notification number 4 ticketed" % label)

        # Usage errors: exit 2, omkapture not run.
        for label, argv in [(name + " no type", [NAGIOS, "--host", "web1"]),
                            (name + " bad option", [NAGIOS, "--bogus"]),
                            (name + " bad field", [NAGIOS, "-t", "PROBLEM", "-H", "h",
                                                   "--field", "novalue"])]:
            rc, out, err = c.run(label, argv)
            checks.equal(rc, 2, "%s: exit 2" % label)
            checks.equal(c.argvs(), [], "%s: omkapture not run" % label)
        c.check_token(checks)


# -- Zabbix ----------------------------------------------------------------

ZABBIX_MESSAGE = (
    "Problem started at 10:00:00 on 2026.11.27\n"
    "Problem name: High CPU utilization (over 90% for 5m)\n"
    "Host: web1\n"
    "Severity: Warning\n"
    "Operational data: Current utilization: 97.3 %\n"
    "Original problem ID: 4711\n")


def case_zabbix(checks, omk, base):
    name = "zabbix"
    with Case(omk, base, name) as c:
        n0 = len(c.mock.requests())
        rc, out, err = c.run(name, [ZABBIX, "noc@example.com",
                                    "Problem: High CPU utilization (over 90% for 5m)",
                                    ZABBIX_MESSAGE, "--due", "+4h", "--field", "queue=NOC"])
        checks.equal(rc, 0, "%s: exit 0" % name)
        c.check_argv(checks, name)
        one_ticket(checks, name, c.mock, n0, {
            "title": "Problem: High CPU utilization (over 90% for 5m)",
            "ticket_details": ZABBIX_MESSAGE, "due_date": DUE_4H,
            "email_id": "noc@example.com", "queue": "NOC", "source": "zabbix"})

        # A long message with quotes: on stdin, byte for byte, not in argv.
        label = name + " 48k"
        big = "".join("line %05d: it's \"quoted\" and $(not run) `nor this`\n" % i
                      for i in range(800))
        big = big[:48 * 1024]
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [ZABBIX, "ops@example.com", "Problem: big", big,
                                     "--field=source=zabbix-eu", "--due=+1d"])
        checks.equal(rc, 0, "%s: exit 0" % label)
        av = c.check_argv(checks, label)
        checks.check(av and all("line 00001" not in a for a in av[0]),
                     "%s: the message is not on omkapture's command line" % label)
        one_ticket(checks, label, c.mock, n0, {
            "title": "Problem: big", "ticket_details": big, "due_date": DUE_1D,
            "email_id": "ops@example.com", "source": "zabbix-eu"})

        # Empty SENDTO: no email_id; empty SUBJECT: the message's first line.
        label = name + " empty sendto/subject"
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [ZABBIX, "", "", "\n  \nDisk full on db1\nmore"])
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        one_ticket(checks, label, c.mock, n0, {
            "title": "Disk full on db1", "ticket_details": "\n  \nDisk full on db1\nmore",
            "source": "zabbix"})

        for label, argv in [(name + " 2 args", [ZABBIX, "a", "b"]),
                            (name + " bad option", [ZABBIX, "a", "b", "c", "--bogus"])]:
            rc, out, err = c.run(label, argv)
            checks.equal(rc, 2, "%s: exit 2" % label)
            checks.equal(c.argvs(), [], "%s: omkapture not run" % label)
        c.check_token(checks)


# -- Monit -----------------------------------------------------------------

MONIT_ENV = {
    "MONIT_SERVICE": "nginx",
    "MONIT_EVENT": "Connection failed",
    "MONIT_DESCRIPTION": "failed protocol test [HTTP] at [localhost]:80 [TCP/IP] -- "
                         "HTTP: Error receiving data -- Resource temporarily unavailable",
    "MONIT_HOST": "web1",
    "MONIT_DATE": "Fri, 27 Nov 2026 10:00:00",
    "MONIT_PROCESS_PID": "1234",
    "MONIT_PROCESS_MEMORY": "20480",
    "MONIT_PROCESS_CHILDREN": "4",
    "MONIT_PROCESS_CPU_PERCENT": "0.5",
}


def case_monit(checks, omk, base):
    name = "monit"
    with Case(omk, base, name) as c:
        n0 = len(c.mock.requests())
        # As Monit runs `exec "/usr/lib/omkapture/omkapture-monit --due +4h --field queue=Web"`.
        rc, out, err = c.run(name, [MONIT, "--due", "+4h", "--field", "queue=Web"], MONIT_ENV)
        checks.equal(rc, 0, "%s: exit 0" % name)
        c.check_argv(checks, name)
        one_ticket(checks, name, c.mock, n0, {
            "title": "nginx on web1: Connection failed",
            "ticket_details": MONIT_ENV["MONIT_DESCRIPTION"] + "\n\nService: nginx\n"
                              "Event: Connection failed\nHost: web1\n"
                              "Date: Fri, 27 Nov 2026 10:00:00\nPID: 1234\n"
                              "Memory: 20480 kB\nChildren: 4\nCPU: 0.5%",
            "due_date": DUE_4H, "queue": "Web", "source": "monit", "alert_host": "web1",
            "alert_service": "nginx", "alert_event": "Connection failed"})

        label = name + " filesystem"
        env = {"MONIT_SERVICE": "rootfs", "MONIT_EVENT": "Resource limit matched",
               "MONIT_DESCRIPTION": "space usage 93.1% matches resource limit "
                                    "[space usage > 90.0%]",
               "MONIT_HOST": "db1", "MONIT_DATE": "Fri, 27 Nov 2026 10:00:00"}
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [MONIT, "--due", "+1h"], env)
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        one_ticket(checks, label, c.mock, n0, {
            "title": "rootfs on db1: Resource limit matched",
            "ticket_details": env["MONIT_DESCRIPTION"] + "\n\nService: rootfs\n"
                              "Event: Resource limit matched\nHost: db1\n"
                              "Date: Fri, 27 Nov 2026 10:00:00",
            "due_date": DUE_1H, "source": "monit", "alert_host": "db1",
            "alert_service": "rootfs", "alert_event": "Resource limit matched"})

        # A recovery: nothing, unless --all.
        label = name + " recovery"
        env = dict(MONIT_ENV, MONIT_EVENT="Connection succeeded",
                   MONIT_DESCRIPTION="connection succeeded to [localhost]:80")
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [MONIT], env)
        checks.equal(rc, 0, "%s: exit 0" % label)
        checks.check(b"is a recovery: no ticket" in err, "%s: stderr says so" % label, err)
        checks.equal(c.argvs(), [], "%s: omkapture not run" % label)
        checks.equal(len(c.mock.requests()), n0, "%s: the mock received nothing" % label)
        label = name + " recovery --all"
        rc, out, err = c.run(label, [MONIT, "--all"], env)
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        objs = new_tickets(checks, label, c.mock, n0, 1)
        checks.equal([o.get("title") for o in objs], ["nginx on web1: Connection succeeded"],
                     "%s: ticketed" % label)

        label = name + " not from monit"
        rc, out, err = c.run(label, [MONIT])
        checks.equal(rc, 2, "%s: exit 2" % label)
        checks.check(b"MONIT_SERVICE and MONIT_EVENT are not set" in err,
                     "%s: stderr says why" % label, err)
        checks.equal(c.argvs(), [], "%s: omkapture not run" % label)
        c.check_token(checks)


# -- hostile values --------------------------------------------------------

def case_hostile(checks, omk, base):
    name = "hostile"
    with Case(omk, base, name) as c:
        h = HOSTILE.format(canary=c.canary)
        checks.check("\n" in h and "'" in h and '"' in h and "`" in h and "$(" in h,
                     "%s: the hostile value has newline, quotes, backticks, $()" % name)

        # Nagios, options (as Icinga 2 passes them: no shell).
        label = name + " nagios options"
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [
            NAGIOS, "--type", "PROBLEM", "--host", h, "--service", "S" + h,
            "--state", "CRITICAL", "--output", "O" + h, "--long-output", "L" + h,
            "--email", "e" + h, "--field", "x=F" + h])
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        one_ticket(checks, label, c.mock, n0, {
            "title": "PROBLEM: S%s on %s is CRITICAL" % (h, h),
            "ticket_details": "Notification: PROBLEM\nHost: %s\nService: S%s\n"
                              "State: CRITICAL\n\nO%s\nL%s" % (h, h, h, h),
            "due_date": DUE_4H, "email_id": "e" + h, "x": "F" + h,
            "source": "nagios", "alert_host": h, "alert_service": "S" + h,
            "alert_state": "CRITICAL", "alert_notification_type": "PROBLEM"})

        # Nagios, environment macros (the long output would be unescaped:
        # leave it out here, nagios-env tests that).
        label = name + " nagios env"
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [NAGIOS], {
            "NAGIOS_NOTIFICATIONTYPE": "PROBLEM", "NAGIOS_HOSTNAME": "H" + h,
            "NAGIOS_SERVICEDESC": "S" + h, "NAGIOS_SERVICESTATE": "WARNING",
            "NAGIOS_SERVICEOUTPUT": "O" + h, "NAGIOS_LONGDATETIME": "D" + h,
            "NAGIOS_NOTIFICATIONAUTHOR": "A" + h, "NAGIOS_NOTIFICATIONCOMMENT": "C" + h})
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        one_ticket(checks, label, c.mock, n0, {
            "title": "PROBLEM: S%s on H%s is WARNING" % (h, h),
            "ticket_details": "Notification: PROBLEM\nHost: H%s\nService: S%s\n"
                              "State: WARNING\nDate: D%s\nAuthor: A%s\nComment: C%s\n\nO%s"
                              % (h, h, h, h, h, h),
            "due_date": DUE_1D, "source": "nagios", "alert_host": "H" + h,
            "alert_service": "S" + h, "alert_state": "WARNING",
            "alert_notification_type": "PROBLEM"})

        # Zabbix.
        label = name + " zabbix"
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [ZABBIX, "T" + h, h, h + "\n", "--field", "q=F" + h])
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        one_ticket(checks, label, c.mock, n0, {
            "title": h, "ticket_details": h + "\n", "email_id": "T" + h,
            "q": "F" + h, "source": "zabbix"})

        # Monit.
        label = name + " monit"
        n0 = len(c.mock.requests())
        rc, out, err = c.run(label, [MONIT], {
            "MONIT_SERVICE": "S" + h, "MONIT_EVENT": "E" + h, "MONIT_DESCRIPTION": "D" + h,
            "MONIT_HOST": "H" + h})
        checks.equal(rc, 0, "%s: exit 0" % label)
        c.check_argv(checks, label)
        one_ticket(checks, label, c.mock, n0, {
            "title": "S%s on H%s: E%s" % (h, h, h),
            "ticket_details": "D%s\n\nService: S%s\nEvent: E%s\nHost: H%s" % (h, h, h, h),
            "source": "monit", "alert_host": "H" + h, "alert_service": "S" + h,
            "alert_event": "E" + h})

        # Alertmanager.
        label = name + " alertmanager"
        with Receiver(c, label) as r:
            n0 = len(c.mock.requests())
            alert = firing_alert("N" + h, "I" + h, "critical", "fp-hostile",
                                 summary="S" + h, description="D" + h, extra_label=h)
            status, answer = r.post(payload([alert]))
            checks.equal(status, 200, "%s: HTTP 200" % label)
            c.check_argv(checks, label)
            one_ticket(checks, label, c.mock, n0, {
                "title": "N%s on I%s (critical)" % (h, h),
                "ticket_details": "S%s\n\nD%s\n\nSeverity: critical\n"
                                  "Started: 2026-11-27T09:58:00.000Z\nFingerprint: fp-hostile\n"
                                  "Labels:\n  alertname=N%s\n  extra=%s\n  instance=I%s\n"
                                  "  job=node\n  severity=critical\n"
                                  "Source: http://prometheus:9090/graph?g0.expr=up\n"
                                  "Alertmanager: http://alertmanager:9093" % (h, h, h, h, h),
                "due_date": DUE_4H, "source": "alertmanager",
                "alert_fingerprint": "fp-hostile", "alert_name": "N" + h,
                "alert_severity": "critical", "alert_instance": "I" + h})
        c.check_canary(checks)
        c.check_token(checks)


# -- exit status -----------------------------------------------------------

def case_exit_status(checks, omk, base):
    name = "exit-status"
    nagios = [NAGIOS, "-t", "PROBLEM", "-H", "web1", "-s", "disk /", "-S", "CRITICAL",
              "-o", "DISK CRITICAL"]
    zabbix = [ZABBIX, "noc@example.com", "Problem: disk", "disk full"]
    monit = [MONIT]
    monit_env = {"MONIT_SERVICE": "rootfs", "MONIT_EVENT": "Resource limit matched"}
    hooks = [("nagios", nagios, {}), ("zabbix", zabbix, {}), ("monit", monit, monit_env)]
    with Case(omk, base, name, {"fault": "failed", "fail_next": 0}) as c:
        for hook, argv, env in hooks:
            # Whatever omkapture exits with, the hook exits with.
            label = "%s %s wrapper 42" % (name, hook)
            rc, out, err = c.run(label, argv, dict(env, OMK_WRAP_EXIT="42"))
            checks.equal(rc, 42, "%s: the hook exits with omkapture's 42" % label)
            c.check_argv(checks, label)

            # Kapture rejects it: 3, the request in failed/.
            label = "%s %s rejected" % (name, hook)
            c.mock.configure(fault="failed", fail_next=1)
            n0 = len(c.mock.requests())
            rc, out, err = c.run(label, argv, env)
            checks.equal(rc, 3, "%s: exit 3" % label)
            checks.check(b"Kapture rejected it" in err, "%s: omkapture's reason on stderr"
                         % label, err)
            checks.equal(len(c.mock.requests()) - n0, 1, "%s: one attempt" % label)
            c.argvs()

            # Kapture down: spooled, 0.
            label = "%s %s Kapture down" % (name, hook)
            c.mock.configure(fault="503", fail_next=1)
            rc, out, err = c.run(label, argv, env)
            checks.equal(rc, 0, "%s: exit 0" % label)
            checks.check(re.search(rb"^ticket spooled as \S+/spool/\S+\.req: Kapture "
                                   rb"unavailable", out, re.M),
                         "%s: \"ticket spooled as ...\" on stdout" % label, out)
            c.argvs()

            # A config that is not there: 1.
            label = "%s %s no config" % (name, hook)
            missing = os.path.join(c.d, "missing.conf")
            rc, out, err = c.run(label, argv, dict(env, OMKAPTURE_CONF=missing))
            checks.equal(rc, 1, "%s: exit 1" % label)
            c.check_argv(checks, label, conf=missing)

            # No omkapture: 127, saying so.
            label = "%s %s no omkapture" % (name, hook)
            rc, out, err = c.run(label, argv, dict(env, OMKAPTURE_BIN=os.path.join(
                c.d, "nowhere", "omkapture")))
            checks.equal(rc, 127, "%s: exit 127" % label)
            checks.check(b"not found (set OMKAPTURE_BIN)" in err, "%s: stderr says so" % label,
                         err)

            # Defaults: /etc/omkapture/omkapture.conf, omkapture from PATH.
            label = "%s %s defaults" % (name, hook)
            rc, out, err = c.run(label, argv, dict(
                env, OMKAPTURE_BIN=None, OMKAPTURE_CONF=None, OMK_WRAP_EXIT="0",
                PATH=c.bin_dir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")))
            checks.equal(rc, 0, "%s: exit 0" % label)
            c.check_argv(checks, label, conf="/etc/omkapture/omkapture.conf")

        # The spooled requests: a later omkapture run delivers them.
        c.mock.configure(fail_next=0)
        spooled = os.listdir(os.path.join(c.spool, "spool"))
        checks.equal(len(spooled), 3, "%s: 3 requests waited in spool/" % name)
        n0 = len(c.mock.requests())
        rc, out, err = mocklib.run_omkapture(omk, ["-c", c.conf], b"",
                                             {"TZ": "UTC", "OMKAPTURE_NOW": str(NOW)})
        c.texts += [("drain stdout", out), ("drain stderr", err)]
        checks.equal(rc, 0, "%s: `omkapture -c CONF </dev/null` exits 0" % name)
        objs = new_tickets(checks, name + " drain", c.mock, n0, 3)
        checks.equal(sorted(o["source"] for o in objs), ["monit", "nagios", "zabbix"],
                     "%s: ... and delivered the three spooled tickets" % name)
        checks.equal(os.listdir(os.path.join(c.spool, "spool")), [],
                     "%s: spool/ empty" % name)
        c.check_token(checks)


# -- Alertmanager ----------------------------------------------------------

def firing_alert(alertname, instance, severity, fingerprint, summary="", description="",
                 status="firing", extra_label=None):
    labels = {"alertname": alertname, "instance": instance, "job": "node",
              "severity": severity}
    if extra_label is not None:
        labels["extra"] = extra_label
    ann = {}
    if summary:
        ann["summary"] = summary
    if description:
        ann["description"] = description
    return {"status": status, "labels": labels, "annotations": ann,
            "startsAt": "2026-11-27T09:58:00.000Z",
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing"
            else "2026-11-27T09:59:30.000Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
            "fingerprint": fingerprint}


def payload(alerts, status="firing"):
    return {"receiver": "kapture", "status": status, "alerts": alerts,
            "groupLabels": {"alertname": alerts[0]["labels"]["alertname"] if alerts else ""},
            "commonLabels": {"job": "node"}, "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093", "version": "4",
            "groupKey": "{}/{}:{alertname=\"x\"}", "truncatedAlerts": 0}


class Receiver:
    """omkapture-alertmanager on 127.0.0.1, an ephemeral port, stderr to a file."""

    def __init__(self, c, label, args=(), env=None):
        self.c = c
        self.label = label
        self.err_path = os.path.join(c.d, re.sub(r"\W+", "-", label) + ".receiver.log")
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, ALERTMANAGER, "--listen", "127.0.0.1:0"] + list(args),
            stdin=subprocess.DEVNULL, stdout=self._err, stderr=subprocess.STDOUT,
            env=c.env(env), cwd=c.d)
        c.procs.append(self.proc)
        got = wait_for(lambda: self.proc.poll() is not None or
                       re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log()), 10)
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log())
        if not got or not m:
            self.stop()
            raise RuntimeError("%s: the receiver did not start:\n%s" % (label, self.log()))
        self.port = int(m.group(1))
        self.rc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def log(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path="/alerts", body=None, headers=None, timeout=60):
        """(status, parsed JSON answer or text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        try:
            return resp.status, json.loads(data)
        except ValueError:
            return resp.status, data.decode("utf-8", "replace")

    def post(self, obj, headers=None, timeout=60):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        return self.request("POST", body=json.dumps(obj).encode(), headers=h, timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.rc = self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.rc = None
        else:
            self.rc = self.proc.returncode
        self._err.close()
        text = self.log()
        print("--- %s receiver log (rc=%s):\n%s" % (self.label, self.rc, text[-4000:]))
        self.c.texts.append((self.label + " receiver log", text.encode()))


def am_ticket(alertname, instance, severity, fp, summary, description, due):
    return {
        "title": "%s on %s (%s)" % (alertname, instance, severity),
        "ticket_details": "%s\n\n%s\n\nSeverity: %s\nStarted: 2026-11-27T09:58:00.000Z\n"
                          "Fingerprint: %s\nLabels:\n  alertname=%s\n  instance=%s\n"
                          "  job=node\n  severity=%s\n"
                          "Source: http://prometheus:9090/graph?g0.expr=up\n"
                          "Alertmanager: http://alertmanager:9093"
                          % (summary, description, severity, fp, alertname, instance,
                             severity),
        "due_date": due, "source": "alertmanager", "alert_fingerprint": fp,
        "alert_name": alertname, "alert_severity": severity, "alert_instance": instance}


def by_fp(objs):
    return {o.get("alert_fingerprint"): o for o in objs}


def case_alertmanager(checks, omk, base):
    name = "alertmanager"
    with Case(omk, base, name) as c:
        with Receiver(c, name) as r:
            status, text = r.request("GET", "/-/healthy")
            checks.equal((status, text), (200, "ok\n"), "%s: GET /-/healthy -> 200 ok" % name)

            # 2 firing + 1 resolved: 2 tickets, 200.
            label = name + " 2 firing 1 resolved"
            a1 = firing_alert("HighDiskUsage", "web1:9100", "critical", "3fa4c0e1d2b5a697",
                              "Disk / on web1 is 97% full",
                              "Filesystem /dev/vda1 has 3% free space left.")
            a2 = firing_alert("HighLoad", "web2:9100", "warning", "8e7d6c5b4a392817",
                              "Load on web2 is high", "load1 is 31.2 for 10 minutes.")
            a3 = firing_alert("InstanceDown", "db1:9100", "critical", "0011223344556677",
                              "db1 is down", "db1:9100 has been down for 5 minutes.",
                              status="resolved")
            n0 = len(c.mock.requests())
            status, answer = r.post(payload([a1, a2, a3]))
            checks.equal(status, 200, "%s: HTTP 200" % label)
            checks.equal(answer, {"status": "ok", "tickets": 2, "seen": 0, "resolved": 1,
                                  "skipped": 0, "failed": 0}, "%s: the answer" % label)
            c.check_argv(checks, label, n=2)
            objs = new_tickets(checks, label, c.mock, n0, 2)
            got = by_fp(objs)
            checks.equal(got.get("3fa4c0e1d2b5a697"), am_ticket(
                "HighDiskUsage", "web1:9100", "critical", "3fa4c0e1d2b5a697",
                "Disk / on web1 is 97% full", "Filesystem /dev/vda1 has 3% free space left.",
                DUE_4H), "%s: exact body of the critical alert (due +4h)" % label)
            checks.equal(got.get("8e7d6c5b4a392817"), am_ticket(
                "HighLoad", "web2:9100", "warning", "8e7d6c5b4a392817",
                "Load on web2 is high", "load1 is 31.2 for 10 minutes.", DUE_1D),
                "%s: exact body of the warning alert (due +1d)" % label)
            checks.check('alert 0011223344556677 "InstanceDown" is "resolved": no ticket'
                         in r.log(), "%s: the resolved alert is logged as skipped" % label)

            # The same notification again (a repeat): nothing new.
            label = name + " repeat"
            n0 = len(c.mock.requests())
            status, answer = r.post(payload([a1, a2, a3]))
            checks.equal((status, answer.get("seen"), answer.get("tickets")), (200, 2, 0),
                         "%s: HTTP 200, both remembered, no ticket" % label)
            checks.equal(len(c.mock.requests()), n0, "%s: the mock received nothing" % label)
            checks.equal(c.argvs(), [], "%s: omkapture not run" % label)

            # One of two rejected: 500; the retry tickets only that one.
            label = name + " one rejected"
            b1 = firing_alert("CertExpiry", "lb1:443", "warning", "aaaa000000000001",
                              "Certificate expires in 6 days", "CN=www.example.com")
            b2 = firing_alert("CertExpiry", "lb2:443", "warning", "aaaa000000000002",
                              "Certificate expires in 5 days", "CN=api.example.com")
            c.mock.configure(fault="failed", fail_next=1)
            n0 = len(c.mock.requests())
            status, answer = r.post(payload([b1, b2]))
            checks.equal(status, 500, "%s: HTTP 500 (Alertmanager retries)" % label)
            checks.equal((answer.get("tickets"), answer.get("failed")), (1, 1),
                         "%s: one ticket, one failure" % label)
            checks.check("FAILED: omkapture exited 3" in r.log(),
                         "%s: the failure is logged with omkapture's status" % label)
            new = c.mock.requests()[n0:]
            checks.equal([r_["result"] for r_ in new], ["failed", "success"],
                         "%s: first rejected, second created" % label)
            c.argvs()
            n1 = len(c.mock.requests())
            status, answer = r.post(payload([b1, b2]))
            checks.equal((status, answer.get("tickets"), answer.get("seen")), (200, 1, 1),
                         "%s: the retry: HTTP 200, 1 ticket, 1 remembered" % label)
            objs = new_tickets(checks, label + " retry", c.mock, n1, 1)
            checks.equal([o.get("alert_fingerprint") for o in objs], ["aaaa000000000001"],
                         "%s: the retry ticketed only the rejected alert" % label)
            c.argvs()

            # Kapture down, no --wait: spooled, exit 0, so 200; delivered later.
            label = name + " Kapture down"
            d1 = firing_alert("RaidDegraded", "stor1:9100", "critical", "bbbb000000000001",
                              "RAID md0 degraded", "1 of 2 disks failed.")
            c.mock.configure(fault="503", fail_next=-1)
            n0 = len(c.mock.requests())
            status, answer = r.post(payload([d1]))
            checks.equal((status, answer.get("tickets")), (200, 1),
                         "%s: HTTP 200: the ticket is spooled, durable" % label)
            checks.check(re.search(r"alert bbbb000000000001 .*ticket spooled as", r.log()),
                         "%s: the log says it was spooled" % label)
            checks.equal(len(os.listdir(os.path.join(c.spool, "spool"))), 1,
                         "%s: 1 request in spool/" % label)
            c.argvs()
            c.mock.configure(fault="503", fail_next=0)
            n0 = len(c.mock.requests())
            rc, out, err = mocklib.run_omkapture(omk, ["-c", c.conf], b"",
                                                 {"TZ": "UTC", "OMKAPTURE_NOW": str(NOW)})
            c.texts += [("drain stdout", out), ("drain stderr", err)]
            objs = new_tickets(checks, label + " drain", c.mock, n0, 1)
            checks.equal(objs[:1], [am_ticket(
                "RaidDegraded", "stor1:9100", "critical", "bbbb000000000001",
                "RAID md0 degraded", "1 of 2 disks failed.", DUE_4H)],
                "%s: a later omkapture run delivers it, exact body" % label)

            # Bad requests.
            label = name + " oversized"
            n0 = len(c.mock.requests())
            big = json.dumps(payload([a1])).encode()
            big = big[:-1] + b"," + b'"pad":"' + b"x" * (1024 * 1024) + b'"}'
            status, answer = r.request("POST", body=big,
                                       headers={"Content-Type": "application/json"})
            checks.equal(status, 413, "%s: a body over 1 MiB -> 413" % label)
            for lbl, body, want in [
                    ("invalid JSON", b'{"alerts": [', 400),
                    ("not a webhook", b'{"hello": "world"}', 400),
                    ("alerts not objects", b'{"alerts": [1, 2]}', 400),
                    ("labels not an object", b'{"alerts": [{"status": "firing", '
                                             b'"labels": "x"}]}', 400)]:
                status, answer = r.request("POST", body=body,
                                           headers={"Content-Type": "application/json"})
                checks.equal(status, want, "%s %s: -> %d" % (name, lbl, want))
            conn = http.client.HTTPConnection("127.0.0.1", r.port, timeout=10)
            conn.putrequest("POST", "/alerts")
            conn.putheader("Content-Type", "application/json")
            conn.endheaders()
            status = conn.getresponse().status
            conn.close()
            checks.equal(status, 411, "%s no Content-Length: -> 411" % name)
            checks.equal(len(c.mock.requests()), n0,
                         "%s bad requests: the mock received nothing" % name)
            checks.equal(c.argvs(), [], "%s bad requests: omkapture not run" % name)
        checks.equal(r.rc, 0, "%s: SIGTERM -> exit 0" % name)

        # A ticket command that outlives --timeout: stopped, 500.
        label = name + " timeout"
        with Receiver(c, label, ["--timeout", "1"], {"OMK_WRAP_SLEEP": "30"}) as r:
            t0 = time.monotonic()
            status, answer = r.post(payload([firing_alert(
                "Slow", "s1:9100", "warning", "cccc000000000001", "slow", "slow")]))
            secs = time.monotonic() - t0
            checks.equal(status, 500, "%s: HTTP 500" % label)
            checks.check(secs < 8, "%s: within the timeout plus a little (%.1fs)"
                         % (label, secs))
            checks.check("timed out after 1s" in r.log(), "%s: logged" % label)
            c.argvs()
            # Not remembered: a retry runs it again.
            status, answer = r.post(payload([firing_alert(
                "Slow", "s1:9100", "warning", "cccc000000000001", "slow", "slow")]))
            checks.equal((status, len(c.argvs())), (500, 1),
                         "%s: a retry runs the ticket command again" % label)

        # A bearer token, an email and a field from the receiver's options.
        label = name + " auth"
        secret = "bearer-" + os.urandom(8).hex()
        tf = os.path.join(c.d, "receiver.token")
        with open(tf, "w") as f:
            f.write(secret + "\n")
        with Receiver(c, label, ["--auth-token-file", tf, "--email", "noc@example.com",
                                 "--field", "queue=Monitoring",
                                 "--due-warning", ""]) as r:
            alert = firing_alert("DiskWillFill", "web3:9100", "warning", "dddd000000000001",
                                 "Disk / on web3 fills in 4h", "predict_linear says so")
            n0 = len(c.mock.requests())
            status, _ = r.post(payload([alert]))
            checks.equal(status, 401, "%s: no Authorization -> 401" % label)
            status, _ = r.post(payload([alert]), {"Authorization": "Bearer wrong"})
            checks.equal(status, 401, "%s: a wrong token -> 401" % label)
            checks.equal(len(c.mock.requests()), n0, "%s: nothing sent" % label)
            status, _ = r.post(payload([alert]), {"Authorization": "Bearer " + secret})
            checks.equal(status, 200, "%s: the right token -> 200" % label)
            c.check_argv(checks, label)
            want = am_ticket("DiskWillFill", "web3:9100", "warning", "dddd000000000001",
                             "Disk / on web3 fills in 4h", "predict_linear says so", None)
            del want["due_date"]
            want.update({"email_id": "noc@example.com", "queue": "Monitoring"})
            one_ticket(checks, label, c.mock, n0, want)
        c.check_token(checks)


CASES = [
    ("static", case_static),
    ("nagios-env", case_nagios_env),
    ("nagios-args", case_nagios_args),
    ("nagios-skip", case_nagios_skip),
    ("zabbix", case_zabbix),
    ("monit", case_monit),
    ("hostile", case_hostile),
    ("exit-status", case_exit_status),
    ("alertmanager", case_alertmanager),
]


if __name__ == "__main__":
    sys.exit(mocklib.run_cases("e2e_hooks", "omk-e2e-hooks-", CASES, doc=__doc__))
