#!/usr/bin/env python3
"""Integration test of the packages: build them with CPack, look inside,
run what they install.

    python3 tests/e2e_package.py --build-dir build --version 0.1.0 \\
        --omkapture build/plugin/omkapture [--keep] [--only CASE[,CASE...]]

First `cpack -G DEB` (from the build dir's CPackConfig.cmake, into the temp
dir) makes the .deb. Exit 77 (skipped) without cpack or dpkg-deb.
Cases:
  contents      `dpkg-deb -c`: every file the package must hold (the binary,
                the config, every rules/*.rules, the rsyslog snippet, the
                journal unit and its script, README, copyright, every
                packaging/man page), owners and modes (/var/lib/omkapture
                0700), and nothing else.
  control       `dpkg-deb -I`/`-e`: name, version, architecture, Depends
                (libpcre2-8-0, libyajl2, libcurl4, libvectorscan5 exactly
                when the binary links libhs), conffiles = every file in /etc.
  check         extracted with `dpkg-deb -x`: the config has the system paths
                and no token; the extracted binary's --check passes on it
                (paths moved into the scratch root), and with -r rules.d.
  rsyslog       the snippet is the README's "rsyslog" block, line for line;
                `rsyslogd -N1` accepts it (binary path moved into the scratch
                root) when rsyslogd is installed.
  unit          the unit's settings; `systemd-analyze verify` finds nothing
                in it (when installed).
  journal       the extracted omkapture-journal script with the extracted
                binary, a fake journalctl (as systemd 252's: -f after a cursor
                shows 10 entries without --no-tail, -n 0 skips the backlog,
                --cursor-file read and never written, a damaged cursor is an
                error) and the mock, fed journalctl -o json lines (captured
                ones with binary MESSAGE arrays among them: tests/e2e_journal.py).
                First start: --lines=0, old entries raise no tickets. Running:
                each alert ticketed, binary ones with the decoded message
                (exact title and details); the entry with omkapture's own _PID
                is not (own_lines 1 via SIGUSR1); SIGHUP reaches omkapture; the
                cursor file (0600) follows. A stop (SIGTERM, SIGINT) while
                entries flow, 12 more while stopped, a start with --no-tail
                --after-cursor (no --cursor-file for journalctl): every alert
                exactly once. SIGKILL to omkapture, the script and journalctl
                while entries flow, a start: none lost, duplicates only after
                the saved cursor (or in flight), with their twin's
                omkapture_ref. journalctl killed: exit 3, cursor unmoved,
                nothing left running. A damaged cursor file is moved to .bad
                (start from the end). A bad config: exit 1 at once, journalctl
                gone too.
  rpm           `cpack -G RPM` and `rpm -qlvp`/`--configfiles`/`--requires`
                (skipped without rpmbuild).
  install       only with CI set, as root, with no omkapture package
                installed: `dpkg -i`, /usr/bin/omkapture --check on
                /etc/omkapture/omkapture.conf, `dpkg --purge`, nothing left.
Exit 0 if every check passed, else 1.
"""

import argparse
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import (EXIT_SKIP, MockKapture, omkapture_env, read_text,  # noqa: E402
                     run_cases, wait_for, write_omkapture_config)
from e2e_journal import (CAPTURED, CAPTURED_TICKETS, RULES, Journal,  # noqa: E402
                         cursor_index, file_mode, stats_line, tickets)

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "pkg-test-token"
ARGS = None          # our own options (--build-dir, --version)
PKG = {}             # what before() built: "deb", "root"


def run(cmd, timeout=300, **kw):
    """subprocess.run with text output; (rc, stdout, stderr)."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    return p.returncode, p.stdout, p.stderr


def cpack(gen, out):
    """Build one package with the build dir's CPack config; its path or None."""
    cmd = [ARGS.cpack, "--config", os.path.join(ARGS.build_dir, "CPackConfig.cmake"),
           "-G", gen, "-B", out]
    rc, o, e = run(cmd, timeout=500)
    ext = {"DEB": "deb", "RPM": "rpm"}[gen]
    found = glob.glob(os.path.join(out, "*." + ext))
    if rc != 0 or len(found) != 1:
        print("cpack -G %s failed (%s):\n%s%s" % (gen, rc, o, e))
        return None
    print("built %s" % found[0])
    return found[0]


def rules_sources():
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(SRC, "rules", "*.rules")))


def man_sources():
    """{package path: source} for every packaging/man page."""
    out = {}
    for sec in ("1", "5"):
        for p in glob.glob(os.path.join(SRC, "packaging", "man", "*." + sec)):
            out["/usr/share/man/man%s/%s" % (sec, os.path.basename(p))] = p
    return out


def etc_files():
    return (["/etc/omkapture/omkapture.conf", "/etc/rsyslog.d/60-omkapture.conf.example"] +
            ["/etc/omkapture/rules.d/" + r for r in rules_sources()])


def expected_files():
    """{path: mode} of every regular file the package must hold."""
    files = {p: "-rw-r--r--" for p in etc_files()}
    files.update({
        "/usr/bin/omkapture": "-rwxr-xr-x",
        "/usr/lib/omkapture/omkapture-journal": "-rwxr-xr-x",
        "/usr/lib/systemd/system/omkapture-journal.service": "-rw-r--r--",
        "/usr/lib/omkapture/omkapture-nagios": "-rwxr-xr-x",
        "/usr/lib/omkapture/omkapture-zabbix": "-rwxr-xr-x",
        "/usr/lib/omkapture/omkapture-monit": "-rwxr-xr-x",
        "/usr/lib/omkapture/omkapture-alertmanager": "-rwxr-xr-x",
        "/usr/lib/systemd/system/omkapture-alertmanager.service": "-rw-r--r--",
        "/usr/share/doc/omkapture/README.hooks.md": "-rw-r--r--",
        "/usr/share/doc/omkapture/README.md": "-rw-r--r--",
        "/usr/share/doc/omkapture/copyright": "-rw-r--r--",
    })
    files.update({p: "-rw-r--r--" for p in man_sources()})
    return files


def readme_rsyslog_block():
    """The lines of the first code block under README's "## rsyslog"."""
    with open(os.path.join(SRC, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## rsyslog\n.*?^```[^\n]*\n(.*?)^```", text, re.S | re.M)
    return m.group(1).splitlines() if m else None


def snippet_body(path):
    """The snippet's lines after its leading comment block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    return lines


def root(*parts):
    return os.path.join(PKG["root"], *[p.lstrip("/") for p in parts])


def scratch_config(base):
    """The extracted config with its system paths moved into the scratch root."""
    with open(root("/etc/omkapture/omkapture.conf"), encoding="utf-8") as f:
        text = f.read()
    text = text.replace("path = /etc/omkapture/rules.d", "path = " + root("/etc/omkapture/rules.d"))
    text = text.replace("dir = /var/lib/omkapture", "dir = " + root("/var/lib/omkapture"))
    conf = os.path.join(base, "scratch.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(text)
    return conf


# -- cases ------------------------------------------------------------------

def case_contents(c, omk, base):
    rc, out, err = run(["dpkg-deb", "-c", PKG["deb"]])
    c.equal(rc, 0, "dpkg-deb -c runs")
    entries = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6:
            entries[f[5][1:].rstrip("/") or "/"] = (f[0], f[1])
    want = expected_files()
    for path, mode in sorted(want.items()):
        got = entries.get(path)
        c.check(got == (mode, "root/root"), "%s %s root/root" % (path, mode),
                "got %r" % (got,))
    files = {p for p, (m, _) in entries.items() if not m.startswith("d")}
    c.equal(sorted(files - set(want)), [], "no file beyond those")
    c.equal(entries.get("/var/lib/omkapture"), ("drwx------", "root/root"),
            "/var/lib/omkapture is drwx------ root/root")
    c.equal(entries.get("/etc/omkapture/rules.d"), ("drwxr-xr-x", "root/root"),
            "/etc/omkapture/rules.d is drwxr-xr-x root/root")
    c.check(len(rules_sources()) > 0, "rules/ has rule files (%d)" % len(rules_sources()))
    owners = {o for _, o in entries.values()}
    c.equal(owners, {"root/root"}, "everything is root's")


def case_control(c, omk, base):
    rc, info, err = run(["dpkg-deb", "-I", PKG["deb"]])
    c.equal(rc, 0, "dpkg-deb -I runs")
    print(info)
    fields = {}
    for key in ("Package", "Version", "Architecture", "Depends", "Maintainer"):
        _, v, _ = run(["dpkg-deb", "-f", PKG["deb"], key])
        fields[key] = v.strip()
    c.equal(fields["Package"], "omkapture", "Package: omkapture")
    c.equal(fields["Version"], ARGS.version, "Version: the project version")
    _, arch, _ = run(["dpkg", "--print-architecture"])
    c.equal(fields["Architecture"], arch.strip(), "Architecture: dpkg's")
    c.check(fields["Maintainer"], "Maintainer is set")
    deps = {d.strip().split()[0] for d in fields["Depends"].split(",") if d.strip()}
    for lib in ("libpcre2-8-0", "libyajl2", "libcurl4"):
        c.check(lib in deps, "Depends names %s" % lib, fields["Depends"])
    binary = root("/usr/bin/omkapture")
    if shutil.which("readelf"):
        _, dyn, _ = run(["readelf", "-d", binary])
        links_hs = "libhs.so" in dyn
        c.equal("libvectorscan5" in deps, links_hs,
                "Depends names libvectorscan5 exactly when the binary links libhs (%s)"
                % links_hs)
    ctl = os.path.join(base, "control")
    rc, _, err = run(["dpkg-deb", "-e", PKG["deb"], ctl])
    c.equal(rc, 0, "dpkg-deb -e runs")
    conffiles = read_text(os.path.join(ctl, "conffiles")).split()
    c.equal(sorted(conffiles), sorted(etc_files()), "conffiles: every file in /etc")
    scripts = [n for n in os.listdir(ctl) if n in ("preinst", "postinst", "prerm", "postrm")]
    c.equal(scripts, [], "no maintainer scripts")


def case_check(c, omk, base):
    conf_path = root("/etc/omkapture/omkapture.conf")
    with open(conf_path, encoding="utf-8") as f:
        conf = f.read()
    c.check(re.search(r"^\[rules\]\n(?:#.*\n)*path = /etc/omkapture/rules.d$", conf, re.M),
            "config: [rules] path = /etc/omkapture/rules.d")
    c.check(re.search(r"^\[spool\]\n(?:#.*\n)*dir = /var/lib/omkapture$", conf, re.M),
            "config: [spool] dir = /var/lib/omkapture")
    c.check(not re.search(r"^\s*token_file", conf, re.M), "config: token_file is commented out")
    c.check("# token_file = /etc/omkapture/token" in conf and
            "install -m 600 /dev/null /etc/omkapture/token" in conf,
            "config: says how to create /etc/omkapture/token 0600")
    env = omkapture_env()
    scratch = scratch_config(base)
    rc, out, err = run([root("/usr/bin/omkapture"), "-c", scratch, "--check"], env=env)
    print(out + err)
    c.equal(rc, 0, "extracted omkapture --check on the extracted config (paths moved): exit 0")
    n = len(rules_sources())
    c.check(re.search(r"\b\d+ rules? in %d files?\b" % n, out + err),
            "--check loaded all %d rule files" % n, out + err)
    rc, out, err = run([root("/usr/bin/omkapture"), "-c", conf_path, "-r",
                        root("/etc/omkapture/rules.d"), "--check"], env=env)
    c.equal(rc, 0, "extracted omkapture --check -r extracted rules.d: exit 0")
    c.equal(os.listdir(root("/var/lib/omkapture")), [], "--check left the spool dir empty")


def case_rsyslog(c, omk, base):
    snippet = root("/etc/rsyslog.d/60-omkapture.conf.example")
    block = readme_rsyslog_block()
    c.check(block, "README has an rsyslog code block")
    c.equal(snippet_body(snippet), block, "the snippet is the README's rsyslog block")
    c.equal(snippet_body(os.path.join(SRC, "packaging", "rsyslog",
                                      "60-omkapture.conf.example")), block,
            "packaging/rsyslog/60-omkapture.conf.example is the README's rsyslog block")
    rsyslogd = mocklib.find_rsyslogd()
    if rsyslogd is None:
        print("rsyslogd not installed: rsyslogd -N1 not run")
        return
    work = os.path.join(base, "rsyslog-work")
    os.makedirs(work, exist_ok=True)
    with open(snippet, encoding="utf-8") as f:
        text = f.read()
    binary = root("/usr/bin/omkapture")
    c.check("/usr/bin/omkapture --omprog" in text, "the snippet runs /usr/bin/omkapture --omprog")
    text = (text.replace("/usr/bin/omkapture", binary)
            .replace("/etc/omkapture/omkapture.conf", root("/etc/omkapture/omkapture.conf"))
            .replace("/var/log/omkapture.log", os.path.join(base, "omkapture.log")))
    rconf = os.path.join(base, "rsyslog.conf")
    with open(rconf, "w", encoding="utf-8") as f:
        f.write('global(workDirectory="%s")\n' % work + text)
    mocklib.check_rsyslog_conf(c, rsyslogd, rconf, "snippet: ")


def case_unit(c, omk, base):
    unit = root("/usr/lib/systemd/system/omkapture-journal.service")
    with open(unit, encoding="utf-8") as f:
        text = f.read()
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            k, v = line.split("=", 1)
            settings.setdefault(k.strip(), []).append(v.strip())
    for k, v in [("ExecStart", "/usr/lib/omkapture/omkapture-journal"),
                 ("KillMode", "mixed"), ("Restart", "on-failure"),
                 ("RestartPreventExitStatus", "1 2"),
                 ("ProtectSystem", "strict"), ("ReadWritePaths", "/var/lib/omkapture"),
                 ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
                 ("WantedBy", "multi-user.target")]:
        c.check(v in settings.get(k, []), "unit: %s=%s" % (k, v), settings.get(k))
    with open(root("/usr/lib/omkapture/omkapture-journal"), encoding="utf-8") as f:
        script = f.read()
    code = "\n".join(ln for ln in script.splitlines() if not ln.lstrip().startswith("#"))
    c.check("$journalctl -f -o json --all $from" in code and "from=--lines=0" in code
            and 'from="--no-tail --after-cursor=$c"' in code
            and '"$omk" -c "$conf" --cursor-file "$cursor" "$@"' in code
            and "--cursor-file=" not in code
            and "/var/lib/omkapture/journal.cursor" in code
            and "/etc/omkapture/omkapture.conf" in code,
            "the script runs journalctl -f -o json --all --no-tail --after-cursor=CURSOR "
            "(--lines=0 without one; no --cursor-file for journalctl) | omkapture -c "
            "/etc/omkapture/omkapture.conf --cursor-file /var/lib/omkapture/"
            "journal.cursor")
    c.check(not any("OMKAPTURE_JOURNAL_SKIP_UNIT" in v for v in settings.get("Environment", [])),
            "unit: no OMKAPTURE_JOURNAL_SKIP_UNIT (omkapture skips its own _PID)")
    sa = shutil.which("systemd-analyze")
    if sa is None:
        print("systemd-analyze not installed: unit not verified")
        return
    # verify wants ExecStart's program to exist: point it at the extracted one.
    vdir = os.path.join(base, "unit")
    os.makedirs(vdir, exist_ok=True)
    vunit = os.path.join(vdir, "omkapture-journal.service")
    with open(vunit, "w", encoding="utf-8") as f:
        f.write(text.replace("ExecStart=/usr/lib/omkapture/omkapture-journal",
                             "ExecStart=" + root("/usr/lib/omkapture/omkapture-journal")))
    rc, out, err = run([sa, "verify", "--man=no", vunit], timeout=60)
    c.check(rc == 0 and not (out + err).strip(), "systemd-analyze verify: nothing to say",
            "rc %s\n%s%s" % (rc, out, err))


# -- the journal script -----------------------------------------------------

FAKE_JOURNALCTL = r'''
"""journalctl -f -o json [--no-tail] [--lines=N|-n N] [--after-cursor=C]
[--cursor-file=F] as systemd 252's behaves, on $FAKE_JOURNAL: the lines
journalctl -o json prints, one entry a line, in journal order.
- No cursor: the last N entries (10 by default, all with --no-tail), then
  each new one.
- A cursor (--after-cursor, or the one in --cursor-file, which is read and
  never written in follow mode: systemd#26746): after that entry. -f alone
  prints 10 entries and the rest only once the journal grows; --no-tail all
  of them; -n 0 none of them (it skips all it missed).
- A cursor that is not one: "Failed to seek to cursor", exit 1.
Its argv goes to $FAKE_JOURNAL.args, one JSON line a run; $FAKE_JOURNAL.ready
is made once it is positioned. Unlike the real one it does not poll its
stdout for POLLHUP: it notices a reader that has gone only at its next
write (SIGPIPE), so the script must end it itself."""
import json, os, re, signal, sys, time
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
path = os.environ["FAKE_JOURNAL"]
args = sys.argv[1:]
with open(path + ".args", "a") as f:
    f.write(json.dumps(args) + "\n")
assert "-f" in args and "-o" in args and args[args.index("-o") + 1] == "json", args
lines = None
cursor = None
no_tail = False
i = 0
while i < len(args):
    a = args[i]
    if a.startswith("--lines="):
        lines = int(a.split("=", 1)[1])
    elif a in ("-n", "--lines"):
        i += 1
        lines = int(args[i])
    elif a.startswith("--after-cursor="):
        cursor = a.split("=", 1)[1]
    elif a == "--after-cursor":
        i += 1
        cursor = args[i]
    elif a.startswith("--cursor-file="):
        try:
            cursor = open(a.split("=", 1)[1]).read().strip() or None
        except FileNotFoundError:
            pass
    elif a == "--no-tail":
        no_tail = True
    i += 1

def read_entries(f):
    out = []
    while True:
        l = f.readline()
        if not l.endswith("\n"):
            f.seek(f.tell() - len(l))
            return out
        out.append(l)

src = open(path, encoding="utf-8", newline="\n")
es = read_entries(src)
limit = None
if cursor is not None:
    if not re.fullmatch(r"s=[0-9a-f]{32};i=[0-9a-f]+;b=[0-9a-f]{32};m=[0-9a-f]+;"
                        r"t=[0-9a-f]+;x=[0-9a-f]+", cursor):
        sys.stderr.write("Failed to seek to cursor: Invalid argument\n")
        sys.exit(1)
    curs = [json.loads(l)["__CURSOR"] for l in es]
    pos = curs.index(cursor) + 1 if cursor in curs else 0
    if lines == 0:
        pos = len(es)
    elif not no_tail:
        limit = 10
else:
    pos = 0 if no_tail else max(0, len(es) - (10 if lines is None else lines))
open(path + ".ready", "w").close()
out = sys.stdout
while True:
    stop = len(es) if limit is None else min(len(es), pos + limit)
    while pos < stop:
        out.write(es[pos])
        pos += 1
    out.flush()
    n = len(es)
    while True:
        es += read_entries(src)
        if len(es) > n:
            break
        time.sleep(0.02)
    limit = None
'''

def proc_children(pid):
    """[(pid, argv)] of the live (not zombie) children of pid, from /proc."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/cmdline" % name, "rb") as f:
                argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append((int(name), argv))
    return out


def procs_running(needle):
    """Pids of live processes whose command line holds needle."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmd = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        if needle in cmd and state != "Z":
            out.append(int(name))
    return out


class Writer(threading.Thread):
    """Appends "ALERT <tag>-<i>" entries to the journal every `every` seconds."""

    def __init__(self, journal, tag, n, every=0.005):
        super().__init__(daemon=True)
        self.journal, self.tag, self.n, self.every = journal, tag, n, every
        self.written = 0
        self.cursors = []

    def run(self):
        for i in range(self.n):
            self.cursors.append(self.journal.add("ALERT %s-%d" % (self.tag, i)))
            self.written += 1
            time.sleep(self.every)


def case_journal(c, omk, base):
    d = os.path.join(base, "journal")
    os.makedirs(d)
    fake = os.path.join(d, "fake_journalctl.py")
    with open(fake, "w") as f:
        f.write(FAKE_JOURNALCTL)
    journal = Journal(os.path.join(d, "journal.jsonl"))
    cursor = os.path.join(d, "journal.cursor")
    rundir = os.path.join(d, "run")
    script = root("/usr/lib/omkapture/omkapture-journal")
    omk_bin = root("/usr/bin/omkapture")
    with MockKapture(d, token=TOKEN) as m:
        conf = write_omkapture_config(d, url=m.url, token=TOKEN, rules=RULES)
        env = omkapture_env({
            "OMKAPTURE_CONF": conf, "OMKAPTURE_JOURNAL_CURSOR": cursor,
            "OMKAPTURE_BIN": omk_bin, "TZ": "UTC",
            "JOURNALCTL": "%s %s" % (shlex.quote(sys.executable), shlex.quote(fake)),
            "RUNTIME_DIRECTORY": rundir, "FAKE_JOURNAL": journal.path})
        runs = []

        def log_text():
            return read_text(runs[-1][1].name)

        def start():
            os.makedirs(rundir, exist_ok=True)
            if os.path.exists(journal.path + ".ready"):
                os.unlink(journal.path + ".ready")
            log = open(os.path.join(d, "run%d.log" % (len(runs) + 1)), "wb")
            p = subprocess.Popen(["sh", script], stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, env=env)
            runs.append((p, log))
            ok = wait_for(lambda: os.path.exists(journal.path + ".ready")
                          or p.poll() is not None, 15)
            c.check(ok and p.poll() is None, "run %d: the script runs and journalctl "
                    "follows" % len(runs), log_text())
            return p

        def child(p, needle):
            """The script's child whose argv holds needle: omkapture or journalctl."""
            got = wait_for(lambda: [pid for pid, argv in proc_children(p.pid)
                                    if any(needle in a for a in argv)], 10)
            return got[0] if got else None

        def wait_exit(p, timeout=30):
            try:
                return p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return None

        def stop(p, sig=signal.SIGTERM, want=0, what="a stop"):
            jpid = child(p, fake)
            p.send_signal(sig)
            rc = wait_exit(p)
            c.equal(rc, want, "run %d: %s: exit %s" % (len(runs), what, want))
            c.check(jpid is None or wait_for(lambda: not procs_running(fake), 5),
                    "run %d: journalctl is gone too" % len(runs), procs_running(fake))
            return rc

        def last_args():
            with open(journal.path + ".args") as f:
                return json.loads(f.read().splitlines()[-1])

        def saved():
            return read_text(cursor).strip()

        def counts():
            return Counter(t for t, _, _ in tickets(m))

        def wait_titles(names, timeout=30):
            return wait_for(lambda: all(counts()[n] >= 1 for n in names), timeout)

        # -- run 1: the first start follows from the end ----------------------
        journal.add("ALERT old-1 before the first start")
        journal.add("nothing to see")
        p = start()
        a = last_args()
        c.check("--lines=0" in a and "--no-tail" not in a and
                not any(x.startswith(("--after-cursor", "--cursor-file")) for x in a),
                "run 1, no cursor file: journalctl -f -o json --lines=0, without "
                "--cursor-file", a)
        opid = child(p, omk_bin)
        c.check(opid, "run 1: omkapture runs under the script",
                proc_children(p.pid))
        journal.add("ALERT a-1")
        journal.add("nothing to see either")
        for line in CAPTURED:
            journal.add_raw(line)
        journal.add("ALERT self-1 omkapture's own log line", pid=opid or 1,
                    unit="omkapture-journal.service", ident="omkapture-journal")
        journal.add(b"ALERT bin-\xff-2 \x1b[33mwarn\x1b[0m")
        last = journal.add("ALERT a-3")
        want1 = ["alert a-1", "alert bin-\ufffd-2", "alert a-3"] + \
            [t for t, _ in CAPTURED_TICKETS]
        wait_titles(want1, 20)
        time.sleep(0.5)
        c.equal(sorted(counts().items()), sorted((t, 1) for t in want1),
                "run 1: a ticket for each new alert, the captured binary ones "
                "too; none for the old one or omkapture's own entry")
        got = {t: det for t, det, _ in tickets(m)}
        for title, details in CAPTURED_TICKETS + [
                ("alert bin-\ufffd-2", "ALERT bin-\ufffd-2 \x1b[33mwarn\x1b[0m")]:
            c.equal((title, got.get(title)), (title, details),
                    "run 1: ticket %r has the decoded MESSAGE" % title)
        c.check(wait_for(lambda: saved() == last, 5), "run 1: while running, the "
                "cursor file soon names the last entry", saved())
        p.send_signal(signal.SIGUSR1)
        c.check(wait_for(lambda: (stats_line(log_text(), "own_lines") or {})
                         .get("own_lines") == 1, 10),
                "run 1: SIGUSR1 reaches omkapture: own_lines 1", log_text())
        p.send_signal(signal.SIGHUP)
        c.check(wait_for(lambda: "reloaded" in log_text(), 10),
                "run 1: SIGHUP reaches omkapture (reloaded)", log_text())
        stop(p)
        c.equal(saved(), last, "run 1: after the stop the cursor file names the "
                "last entry")
        c.equal(file_mode(cursor), 0o600, "run 1: the cursor file is 0600")
        c.equal(glob.glob(glob.escape(cursor) + ".*"), [], "run 1: no cursor temp "
                "file left")

        # -- a stop while entries flow, more while stopped, a start -----------
        p = start()
        a = last_args()
        c.check("--no-tail" in a and ("--after-cursor=" + last) in a and
                "--lines=0" not in a and
                not any(x.startswith("--cursor-file") for x in a),
                "run 2, with a cursor: --no-tail --after-cursor=CURSOR, without "
                "--cursor-file", a)
        w = Writer(journal, "s", 150)
        w.start()
        wait_for(lambda: w.written >= 50, 10)
        stop(p, signal.SIGINT, what="SIGINT while entries flow, a stop too")
        w.join(30)
        # 12 more while stopped: journalctl -f after a cursor would show 10
        # and hold the rest back without --no-tail.
        for i in range(12):
            last = journal.add("ALERT b-%d" % i)
        p = start()
        want2 = ["alert s-%d" % i for i in range(150)] + ["alert b-%d" % i for i in range(12)]
        c.check(wait_titles(want2), "run 3: every alert written around the stop "
                "is ticketed", sorted(set(want2) - set(counts())))
        time.sleep(1)
        twice = sorted(t for t, n in counts().items() if n != 1)
        c.equal(twice, [], "run 3: after a stop and a start, each alert exactly "
                "once (nothing lost, nothing twice)")
        c.check(wait_for(lambda: saved() == last, 5), "run 3: the cursor reaches "
                "the last entry", saved())

        # -- a crash while entries keep coming ---------------------------------
        opid = child(p, omk_bin)
        jpid = child(p, fake)
        w = Writer(journal, "k", 300)
        w.start()
        wait_for(lambda: w.written >= 150, 10)
        for pid in (opid, p.pid, jpid):   # as systemd would, the whole cgroup
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        crash_cursor = saved()
        rc = wait_exit(p)
        runs[-1][1].write(b"\n[test: SIGKILL to omkapture, the script, journalctl]\n")
        c.equal(rc, -signal.SIGKILL, "run 3: killed with SIGKILL")
        w.join(30)
        last = w.cursors[-1]
        crash_i = cursor_index(crash_cursor)
        c.check(crash_i is not None, "run 3: the cursor file still holds one "
                "cursor after SIGKILL", crash_cursor)
        p = start()
        c.check(("--after-cursor=" + crash_cursor) in last_args(),
                "run 4: starts after the cursor saved before the crash", last_args())
        want3 = ["alert k-%d" % i for i in range(300)]
        c.check(wait_titles(want3), "run 4: after the crash no alert is lost",
                sorted(set(want3) - set(counts())))
        time.sleep(1.5)
        index = {"alert k-%d" % i: cursor_index(cur) for i, cur in enumerate(w.cursors)}
        refs = {}
        for t, _, ref in tickets(m):
            refs.setdefault(t, set()).add(ref)
        dups = sorted((t for t in want3 if counts()[t] > 1), key=lambda t: index[t])
        c.check(all(len(refs[t]) == 1 for t in dups), "run 4: each alert ticketed "
                "twice carries the same omkapture_ref as its twin",
                [(t, refs[t]) for t in dups if len(refs[t]) != 1])
        # A duplicate comes from reading the journal again after the saved
        # cursor. The only others allowed are requests Kapture had taken just
        # as omkapture was killed (in flight: sent again from the spool).
        before = [t for t in dups if index[t] is not None and crash_i is not None
                  and index[t] <= crash_i]
        c.check(len(before) <= 4, "run 4: duplicates only after the saved cursor "
                "(or in flight at the kill, at most concurrency = 4): %d read again "
                "after it, %d before" % (len(dups) - len(before), len(before)),
                before)
        c.check(max(counts()[t] for t in want3) <= 2, "run 4: no alert more than "
                "twice")
        c.check(wait_for(lambda: saved() == last, 5), "run 4: the cursor reaches "
                "the last entry", saved())

        # -- journalctl dies: a failure (3), the cursor stays ----------------
        jpid = child(p, fake)
        c.check(jpid, "run 4: journalctl runs under the script", proc_children(p.pid))
        if jpid:
            os.kill(jpid, signal.SIGKILL)
            rc = wait_exit(p)
            c.equal(rc, 3, "run 4: journalctl killed: the script exits 3 (restart)")
            c.check("journalctl exited" in log_text(), "run 4: and says why",
                    log_text())
        else:
            stop(p)
        c.equal(saved(), last, "run 4: the cursor did not move")
        c.equal(procs_running(fake) + procs_running(cursor), [],
                "run 4: neither journalctl nor omkapture is left")

        # -- a damaged cursor file: set aside, start from the end -------------
        with open(cursor, "w") as f:
            f.write("garbage\n")
        journal.add("ALERT skipped-1 before a start without a cursor")
        p = start()
        c.check("--lines=0" in last_args(), "run 5, damaged cursor file: --lines=0",
                last_args())
        c.equal(read_text(cursor + ".bad").strip(), "garbage",
                "run 5: the damaged cursor file is moved to .bad")
        c.check("does not hold a journal cursor" in log_text(), "run 5: and says so",
                log_text())
        last = journal.add("ALERT c-1")
        c.check(wait_titles(["alert c-1"], 20), "run 5: a new alert is ticketed")
        stop(p)
        c.equal(saved(), last, "run 5: a new cursor file names the last entry")
        c.check("alert skipped-1" not in counts() and "alert old-1" not in counts()
                and "alert self-1" not in counts(),
                "no ticket for entries before a start from the end, nor for "
                "omkapture's own entry")

        # -- a bad config: omkapture exits 1 at once, and so does the script,
        # journalctl and all (it would otherwise wait for a journal line).
        bad = os.path.join(d, "bad.conf")
        with open(bad, "w") as f:
            f.write("[kapture]\nurl = nonsense\n")
        log = open(os.path.join(d, "run-bad.log"), "wb")
        runs.append((None, log))
        p = subprocess.Popen(["sh", script], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, env=dict(env, OMKAPTURE_CONF=bad))
        rc = wait_exit(p, 20)
        c.equal(rc, 1, "bad config: the script exits 1 (no restart) at once")
        c.check(wait_for(lambda: not procs_running(fake), 5),
                "bad config: journalctl is gone too", procs_running(fake))
    for _, log in runs:
        log.close()


# -- rpm, and a real install --------------------------------------------------

def case_rpm(c, omk, base):
    if shutil.which("rpmbuild") is None or shutil.which("rpm") is None:
        print("SKIP: rpmbuild not installed (packaging/deps.sh installs rpm where it can)")
        return
    rpm = cpack("RPM", os.path.join(base, "rpm"))
    if not c.check(rpm, "cpack -G RPM builds one .rpm"):
        return
    rc, out, err = run(["rpm", "-qlvp", rpm])
    c.equal(rc, 0, "rpm -qlvp runs")
    print(out)
    listed = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 9:
            listed[f[8]] = (f[0], f[2] + "/" + f[3])
    for path, mode in sorted(expected_files().items()):
        c.equal(listed.get(path), (mode, "root/root"), "rpm: %s %s" % (path, mode))
    c.equal(listed.get("/var/lib/omkapture"), ("drwx------", "root/root"),
            "rpm: /var/lib/omkapture drwx------")
    for shared in ("/var", "/var/lib", "/usr/lib/systemd/system", "/etc/rsyslog.d",
                   "/usr/share/man/man1"):
        c.check(shared not in listed, "rpm does not own %s" % shared)
    _, conf, _ = run(["rpm", "-qp", "--configfiles", rpm])
    c.equal(sorted(conf.split()), sorted(etc_files()), "rpm: %config = every file in /etc")
    _, reqs, _ = run(["rpm", "-qp", "--requires", rpm])
    reqs = {r.split()[0] for r in reqs.splitlines() if r.strip()}
    for r in ("pcre2", "yajl", "libcurl", "libpcre2-8.so.0()(64bit)", "libyajl.so.2()(64bit)",
              "libcurl.so.4()(64bit)"):
        c.check(r in reqs, "rpm requires %s" % r, sorted(reqs))
    _, ver, _ = run(["rpm", "-qp", "--qf", "%{NAME} %{VERSION}", rpm])
    c.equal(ver, "omkapture " + ARGS.version, "rpm: name and version")


def ci_enabled():
    v = os.environ.get("CI", "")
    return v not in ("", "false", "0")


def case_install(c, omk, base):
    if not ci_enabled() or os.geteuid() != 0:
        print("SKIP: a real dpkg -i runs only with CI set, as root (CI=%r, uid %d)"
              % (os.environ.get("CI"), os.geteuid()))
        return
    rc, out, _ = run(["dpkg-query", "-W", "-f", "${Status}", "omkapture"])
    if rc == 0 and "not-installed" not in out and out.strip():
        print("SKIP: an omkapture package is installed already (%s): left alone" % out)
        return
    if os.path.exists("/etc/omkapture") or os.path.exists("/usr/bin/omkapture"):
        print("SKIP: /etc/omkapture or /usr/bin/omkapture exists without the package: "
              "left alone")
        return
    try:
        rc, out, err = run(["dpkg", "-i", PKG["deb"]], timeout=300)
        if not c.equal(rc, 0, "dpkg -i installs the package"):
            print(out + err)
            return
        rc, out, err = run(["/usr/bin/omkapture", "-c", "/etc/omkapture/omkapture.conf",
                            "--check"], env=omkapture_env())
        print(out + err)
        c.equal(rc, 0, "installed: /usr/bin/omkapture -c /etc/omkapture/omkapture.conf "
                "--check: exit 0")
        st = os.stat("/var/lib/omkapture")
        c.equal((oct(st.st_mode & 0o777), st.st_uid), ("0o700", 0),
                "installed: /var/lib/omkapture 0700 root")
        sa = shutil.which("systemd-analyze")
        if sa:
            rc, out, err = run([sa, "verify", "--man=no", "omkapture-journal.service"],
                               timeout=60)
            c.check(rc == 0 and not (out + err).strip(),
                    "installed: systemd-analyze verify omkapture-journal.service: "
                    "nothing to say", "rc %s\n%s%s" % (rc, out, err))
    finally:
        rc, out, err = run(["dpkg", "--purge", "omkapture"], timeout=300)
        c.check(rc == 0, "dpkg --purge removes it", out + err)
    for p in ("/usr/bin/omkapture", "/etc/omkapture", "/var/lib/omkapture",
              "/usr/lib/omkapture", "/usr/lib/systemd/system/omkapture-journal.service",
              "/etc/rsyslog.d/60-omkapture.conf.example"):
        c.check(not os.path.exists(p), "purged: %s is gone" % p)


CASES = [("contents", case_contents), ("control", case_control), ("check", case_check),
         ("rsyslog", case_rsyslog), ("unit", case_unit), ("journal", case_journal),
         ("rpm", case_rpm), ("install", case_install)]


def before(base):
    """Build the .deb and extract it; EXIT_SKIP without the tools."""
    for tool in (ARGS.cpack, "dpkg-deb", "dpkg"):
        if shutil.which(tool) is None:
            print("SKIP: %s not installed" % tool)
            return EXIT_SKIP
    deb = cpack("DEB", os.path.join(base, "deb"))
    if deb is None:
        print("FAIL: cpack -G DEB did not make a package")
        return 1
    PKG["deb"] = deb
    PKG["root"] = os.path.join(base, "root")
    rc, out, err = run(["dpkg-deb", "-x", deb, PKG["root"]])
    if rc != 0:
        print("FAIL: dpkg-deb -x: %s%s" % (out, err))
        return 1
    return None


def main():
    global ARGS
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--cpack", default="cpack")
    ARGS, rest = ap.parse_known_args()
    ARGS.build_dir = os.path.abspath(ARGS.build_dir)
    return run_cases("package", "omk-pkg-", CASES, argv=rest, doc=__doc__, before=before)


if __name__ == "__main__":
    sys.exit(main())
