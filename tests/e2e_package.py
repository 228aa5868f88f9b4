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
                binary, a fake journalctl (as systemd 252's: --cursor-file
                read, never written) and the mock: starts at the end, skips
                its own unit's lines, passes SIGHUP on, a stop drains and
                leaves the cursor on the last line, the next start resumes
                there (nothing lost, nothing twice, more than 10 at once), a
                journalctl that dies is a failure (exit 3), a damaged cursor
                file is set aside.
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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import (EXIT_SKIP, MockKapture, omkapture_env, read_text,  # noqa: E402
                     run_cases, wait_for, write_omkapture_config)

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
                 ("ProtectSystem", "strict"), ("ReadWritePaths", "/var/lib/omkapture"),
                 ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
                 ("WantedBy", "multi-user.target")]:
        c.check(v in settings.get(k, []), "unit: %s=%s" % (k, v), settings.get(k))
    with open(root("/usr/lib/omkapture/omkapture-journal"), encoding="utf-8") as f:
        script = f.read()
    c.check("journalctl -f -o json" in script.replace("$journalctl", "journalctl")
            and "--cursor-file=\"$cursor\"" in script
            and "/var/lib/omkapture/journal.cursor" in script
            and "/etc/omkapture/omkapture.conf" in script,
            "the script runs journalctl -f -o json --cursor-file=/var/lib/omkapture/"
            "journal.cursor | omkapture -c /etc/omkapture/omkapture.conf")
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
"""journalctl -f -o json [--no-tail|--lines=N] [--cursor-file=F], as systemd
252 does it, on the JSON lines of $FAKE_JOURNAL: the cursor file is read,
never written; with a cursor and no --no-tail, 10 entries, the rest only
once the journal grows. Its argv goes to $FAKE_JOURNAL.args, one line a run;
$FAKE_JOURNAL.ready is made once it is positioned."""
import json, os, re, sys, time
path = os.environ["FAKE_JOURNAL"]
args = sys.argv[1:]
with open(path + ".args", "a") as f:
    f.write(json.dumps(args) + "\n")
assert "-f" in args and "json" in args, args
lines = 10
cursor = None
for a in args:
    if a.startswith("--lines="):
        lines = int(a.split("=", 1)[1])
    if a.startswith("--cursor-file="):
        try:
            cursor = open(a.split("=", 1)[1]).read().strip() or None
        except FileNotFoundError:
            pass
def entries():
    with open(path) as f:
        return [l for l in f.read().splitlines() if l.strip()]
def cur(l):
    return json.loads(l)["__CURSOR"]
es = entries()
limit = None
if cursor is not None:
    if not re.fullmatch(r"s=[0-9a-f]+;i=[0-9a-f]+;b=[0-9a-f]+;m=[0-9a-f]+;t=[0-9a-f]+;x=[0-9a-f]+", cursor):
        sys.stderr.write("Failed to seek to cursor: Invalid argument\n")
        sys.exit(1)
    pos = next((i + 1 for i, l in enumerate(es) if cur(l) == cursor), 0)
    if "--no-tail" not in args:
        limit = 10
else:
    pos = max(0, len(es) - lines)
open(path + ".ready", "w").close()
out = sys.stdout
while True:
    es = entries()
    n = len(es)
    stop = n if limit is None else min(n, pos + limit)
    while pos < stop:
        out.write(es[pos] + "\n")
        pos += 1
    out.flush()
    while len(entries()) == n:
        time.sleep(0.05)
    limit = None
'''

RULES = """[test-alert]
match = ^ALERT (?<id>\\S+)
title = alert ${id}
details = ${line}
"""


class Journal:
    """A JSON-lines fake journal; entries get cursors i=1, 2, ..."""

    def __init__(self, path):
        self.path = path
        self.n = 0
        open(path, "w").close()

    def cursor(self, i):
        return "s=0123abcd;i=%x;b=feedbeef;m=%x;t=%x;x=%x" % (i, i, 1700000000000000 + i, i)

    def add(self, message, unit="app.service"):
        self.n += 1
        entry = {"__CURSOR": self.cursor(self.n),
                 "__REALTIME_TIMESTAMP": str(1795773600000000 + self.n * 1000000),
                 "_HOSTNAME": "h1", "SYSLOG_IDENTIFIER": "app", "PRIORITY": "3",
                 "_SYSTEMD_UNIT": unit, "MESSAGE": message}
        with open(self.path, "a") as f:
            # Compact, as journalctl -o json writes it.
            f.write(json.dumps(entry, separators=(",", ":")) + "\n")
        return self.cursor(self.n)


def titles(mock):
    out = []
    for r in mock.successes():
        body = r.get("body")
        if isinstance(body, list) and body:
            body = body[0]
        out.append(body.get("title") if isinstance(body, dict) else None)
    return out


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
    with MockKapture(d, token=TOKEN) as m:
        conf = write_omkapture_config(d, url=m.url, token=TOKEN, rules=RULES)
        env = omkapture_env({
            "OMKAPTURE_CONF": conf, "OMKAPTURE_JOURNAL_CURSOR": cursor,
            "OMKAPTURE_BIN": root("/usr/bin/omkapture"),
            "JOURNALCTL": "%s %s" % (shlex.quote(sys.executable), shlex.quote(fake)),
            "OMKAPTURE_JOURNAL_SKIP_UNIT": "omkapture-journal.service",
            "RUNTIME_DIRECTORY": rundir, "FAKE_JOURNAL": journal.path})
        runs = []

        def start():
            os.makedirs(rundir, exist_ok=True)
            for p in (journal.path + ".ready",):
                if os.path.exists(p):
                    os.unlink(p)
            log = open(os.path.join(d, "run%d.log" % (len(runs) + 1)), "wb")
            p = subprocess.Popen(["sh", script], stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, env=env)
            runs.append((p, log))
            ok = wait_for(lambda: os.path.exists(journal.path + ".ready")
                          or p.poll() is not None, 15)
            c.check(ok and p.poll() is None, "run %d: the script runs and journalctl "
                    "follows" % len(runs), read_text(log.name))
            return p

        def stop(p, sig=signal.SIGTERM, want=0, what="a stop"):
            p.send_signal(sig)
            try:
                rc = p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = None
            c.equal(rc, want, "run %d: %s: exit %s" % (len(runs), what, want))
            return rc

        def last_args():
            with open(journal.path + ".args") as f:
                return json.loads(f.read().splitlines()[-1])

        journal.add("ALERT old1 before the first start")
        journal.add("nothing to see")
        p = start()
        c.check("--lines=0" in last_args() and "--no-tail" not in last_args(),
                "first start, no cursor file: --lines=0", last_args())
        for i in (1, 2):
            journal.add("ALERT a%d" % i)
        journal.add("nothing to see either")
        journal.add("ALERT self1 (omkapture's own log line)", unit="omkapture-journal.service")
        last = journal.add("ALERT a3")
        wait_for(lambda: len(m.successes()) >= 3, 20)
        time.sleep(0.5)
        c.equal(sorted(titles(m)), ["alert a1", "alert a2", "alert a3"],
                "run 1: a ticket for each new alert; none for the old one or the "
                "unit's own line")
        p.send_signal(signal.SIGHUP)
        c.check(wait_for(lambda: "reloaded" in read_text(runs[-1][1].name), 10),
                "run 1: SIGHUP reaches omkapture (reloaded)", read_text(runs[-1][1].name))
        stop(p)
        c.equal(read_text(cursor).strip(), last, "run 1: after the stop the cursor file "
                "names the last entry")
        c.check(not os.path.exists(cursor + ".tmp"), "no cursor temp file left")

        # Stopped: 12 alerts arrive. More than 10: journalctl -f would show
        # 10 and hold the rest back without --no-tail.
        for i in range(4, 16):
            last = journal.add("ALERT a%d" % i)
        p = start()
        c.check("--no-tail" in last_args(), "second start, with a cursor: --no-tail",
                last_args())
        wait_for(lambda: len(m.successes()) >= 15, 30)
        time.sleep(1)
        want = sorted("alert a%d" % i for i in range(1, 16))
        c.equal(sorted(titles(m)), want, "run 2: resumed after the cursor: the 12 "
                "new alerts, each once, none twice")
        stop(p, signal.SIGINT, what="SIGINT, a stop too")
        c.equal(read_text(cursor).strip(), last, "run 2: the cursor names the last entry")

        # journalctl dies: a failure (3), the cursor stays.
        p = start()
        jpid = wait_for(lambda: read_text(os.path.join(rundir, "journalctl.pid")).strip()
                        .isdigit() and int(read_text(os.path.join(rundir,
                                                                   "journalctl.pid"))), 10)
        c.check(jpid, "run 3: the script recorded journalctl's pid")
        if jpid:
            os.kill(jpid, signal.SIGKILL)
            try:
                rc = p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = None
            c.equal(rc, 3, "run 3: journalctl killed: the script exits 3 (restart)")
            c.check("without a stop" in read_text(runs[-1][1].name),
                    "run 3: and says why", read_text(runs[-1][1].name))
        else:
            stop(p)
        c.equal(read_text(cursor).strip(), last, "run 3: the cursor did not move")

        # A damaged cursor file: set aside, start from the end.
        with open(cursor, "w") as f:
            f.write("garbage\n")
        p = start()
        c.check("--lines=0" in last_args(), "damaged cursor file: --lines=0", last_args())
        c.equal(read_text(cursor + ".bad").strip(), "garbage",
                "damaged cursor file moved to .bad")
        stop(p)
        c.equal(len(m.successes()), 15, "no ticket more than the 15 alerts in all")

        # A bad config: omkapture exits 1 at once, and so does the script,
        # journalctl and all (it would otherwise wait for a journal line).
        bad = os.path.join(d, "bad.conf")
        with open(bad, "w") as f:
            f.write("[kapture]\nurl = nonsense\n")
        log = open(os.path.join(d, "run-bad.log"), "wb")
        runs.append((None, log))
        p = subprocess.Popen(["sh", script], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, env=dict(env, OMKAPTURE_CONF=bad))
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = None
        c.equal(rc, 1, "bad config: the script exits 1 (no restart) at once")
        jpid = read_text(os.path.join(rundir, "journalctl.pid")).strip()
        c.check(jpid.isdigit() and not mocklib.pid_alive(int(jpid)),
                "bad config: journalctl is gone too", jpid)
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
