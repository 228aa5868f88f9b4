#!/usr/bin/env python3
"""Dedup benchmark for omkapture (issue 4: keys, state file, storm guard).

    python3 tests/bench/dedup.py --omkapture build/plugin/omkapture
        [--keys 100000] [--lines 1000000] [--repeat 3] [--keep]

Not a test: it prints figures (tests/bench/DEDUP.md has them). Kapture is a
closed 127.0.0.1 port (nothing is ever sent anywhere): tickets stay in the
spool, which is what a storm looks like from the helper's side.

1. Memory for --keys live keys. Pipe mode, one rule (suppress 1d, on_repeat
   = comment, so every key also keeps its last line), --keys distinct alert
   lines, [limits] max_tickets = 10/1h so the spool stays small: 10 tickets,
   the rest held back by the storm guard, every key a live burst. Figures:
   peak RSS of the process (from wait4), RSS of the same run with 1 key
   (the baseline), the state file's size, and how long saving it takes
   (the exit save, timed from the log: EOF to exit, minus the same for a
   1-key run). Then a second run loads that state file: its load time
   (start to first reply) and whether it kept every key (SIGUSR1 counter).
2. Throughput of one recurring error: --lines lines of one key (the first
   a ticket, the rest suppressed), pipe mode, lines/s, min of --repeat.
3. The same with --keys keys cycling (every line a suppressed match of a
   live key in a table of --keys): lines/s.

Exit status 0, or 1 if a check failed (a key lost on reload, a wrong count).
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

RULES = """\
[disk]
match = EXT4-fs error \\(device (?<dev>\\S+)\\): (?<what>.*)
title = Disk error on ${dev}
details = ${count} errors since ${first_seen}: ${line}
key = ${dev}
suppress = 1d
renotify = 0s
on_repeat = comment
"""


def line(i, key):
    return ("Nov 28 01:%02d:%02d web%d kernel: EXT4-fs error (device %s): "
            "ext4_find_entry:1455: inode #%d: comm nginx: reading directory "
            "lblock 0\n" % (i // 60 % 60, i % 60, i % 7, key, 1000 + i))


def write_inputs(d, keys, lines):
    paths = {}
    with open(os.path.join(d, "keys.log"), "w") as f:
        for i in range(keys):
            f.write(line(i, "sd%06d" % i))
    paths["keys"] = os.path.join(d, "keys.log")
    with open(os.path.join(d, "one.log"), "w") as f:
        f.write(line(0, "sda1"))
    paths["one"] = os.path.join(d, "one.log")
    with open(os.path.join(d, "same.log"), "w") as f:
        s = line(1, "sda1")
        for i in range(lines // 1000):
            f.write(s * 1000)
    paths["same"] = os.path.join(d, "same.log")
    with open(os.path.join(d, "cycle.log"), "w") as f:
        for i in range(lines):
            f.write(line(i, "sd%06d" % (i % keys)))
    paths["cycle"] = os.path.join(d, "cycle.log")
    return paths


def write_conf(d, name, token_file):
    sd = os.path.join(d, name)
    os.makedirs(sd, exist_ok=True)
    with open(os.path.join(sd, "r.rules"), "w") as f:
        f.write(RULES)
    conf = os.path.join(sd, "omkapture.conf")
    with open(conf, "w") as f:
        f.write("[kapture]\nurl = http://127.0.0.1:9/add-ticket-from-other-"
                "source.html/v.2.0\nupdate_url = http://127.0.0.1:9/update-"
                "ticket-from-other-source.html/v.2.0\ntoken_file = %s\n"
                "retry_max = 1s\n[spool]\ndir = %s/spool\nshutdown_timeout = 0s\n"
                "max = 100000\n[limits]\nmax_tickets = 10/1h\n[dedup]\n"
                "max_keys = 200000\n[rules]\npath = %s/r.rules\n"
                % (token_file, sd, sd))
    return conf, os.path.join(sd, "spool")


def run(omk, conf, inp, env):
    """Run omkapture on inp; (wall seconds, peak RSS KiB, stderr)."""
    with open(inp, "rb") as f:
        t0 = time.monotonic()
        p = subprocess.Popen([omk, "-c", conf], stdin=f, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env)
        err = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(err.decode(errors="replace"))
        raise SystemExit("omkapture failed")
    return wall, ru.ru_maxrss, err.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--omkapture", required=True)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--lines", type=int, default=1000000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    omk = os.path.abspath(a.omkapture)
    d = tempfile.mkdtemp(prefix="omk-bench-dedup-")
    ok = True
    try:
        token = secrets.token_hex(16)
        tf = os.path.join(d, "token")
        with open(tf, "w") as f:
            f.write(token)
        os.chmod(tf, 0o600)
        env = dict(os.environ, TZ="UTC")
        env.pop("OMKAPTURE_NOW", None)
        paths = write_inputs(d, a.keys, a.lines)
        print("omkapture dedup benchmark: %d keys, %d lines, min of %d runs"
              % (a.keys, a.lines, a.repeat))

        # 1. memory, state size and save/load time
        base = []
        for _ in range(a.repeat):
            conf, sp = write_conf(d, "one", tf)
            shutil.rmtree(sp, ignore_errors=True)
            base.append(run(omk, conf, paths["one"], env))
        many = []
        for _ in range(a.repeat):
            conf, sp = write_conf(d, "many", tf)
            shutil.rmtree(sp, ignore_errors=True)
            many.append(run(omk, conf, paths["keys"], env))
        rss0 = min(r[1] for r in base)
        rss = min(r[1] for r in many)
        size = os.path.getsize(os.path.join(sp, "state"))
        print("\n1. %d live keys (10 tickets, the rest held by the storm guard)"
              % a.keys)
        print("   peak RSS            %8.1f MiB  (1 key: %.1f MiB; %.0f bytes/key)"
              % (rss / 1024, rss0 / 1024, (rss - rss0) * 1024 / a.keys))
        print("   state file          %8.1f MiB  (%.0f bytes/key)"
              % (size / 1048576, size / a.keys))
        print("   run, %d lines     %8.3f s   (1 key: %.3f s)"
              % (a.keys, min(r[0] for r in many), min(r[0] for r in base)))
        # Reload: time to load and check every key came back.
        loads = []
        for _ in range(a.repeat):
            t0 = time.monotonic()
            p = subprocess.run([omk, "-c", conf, "-v"], stdin=subprocess.DEVNULL,
                               capture_output=True, env=env)
            loads.append(time.monotonic() - t0)
            err = p.stderr.decode(errors="replace")
            m = re.search(r"state: (\d+) keys? and", err)
            got = int(m.group(1)) if m else -1
            if got != a.keys:
                print("   FAIL: reload kept %d keys, want %d" % (got, a.keys))
                ok = False
            if token in err:
                print("   FAIL: the token appears in stderr")
                ok = False
        print("   restart: load + save %8.3f s  (every key kept: %s)"
              % (min(loads), "yes" if ok else "NO"))
        if rss > 64 * 1024:
            print("   over the 64 MiB target")

        # 2. one recurring error
        walls = []
        for _ in range(a.repeat):
            conf, sp = write_conf(d, "same", tf)
            shutil.rmtree(sp, ignore_errors=True)
            walls.append(run(omk, conf, paths["same"], env)[0])
        n = a.lines // 1000 * 1000
        print("\n2. one recurring error, %d lines: %.2f s, %.0f lines/s"
              % (n, min(walls), n / min(walls)))
        st = os.path.join(sp, "state")
        with open(st) as f:
            txt = f.read()
        m = re.search(r"^key =disk =sda1 1 \d+ \d+ \d+ (\d+) (\d+) ", txt, re.M)
        if not m or int(m.group(1)) != n or int(m.group(2)) != n - 1:
            print("   FAIL: the state does not hold %d matches, %d suppressed"
                  % (n, n - 1))
            ok = False
        reqs = [x for x in os.listdir(os.path.join(sp, "spool")) if x.endswith(".req")]
        if len(reqs) != 1:
            print("   FAIL: %d requests spooled, want 1" % len(reqs))
            ok = False

        # 3. many live keys, each line a suppressed match
        walls = []
        for _ in range(a.repeat):
            conf, sp = write_conf(d, "cycle", tf)
            shutil.rmtree(sp, ignore_errors=True)
            walls.append(run(omk, conf, paths["cycle"], env)[0])
        print("3. %d lines over %d live keys: %.2f s, %.0f lines/s"
              % (a.lines, a.keys, min(walls), a.lines / min(walls)))
    finally:
        if a.keep:
            print("kept %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
