#!/usr/bin/env python3
"""Integration test of pipe mode and the `ticket` subcommand against the mock.

    python3 tests/e2e_pipe.py --omkapture build/plugin/omkapture [--keep]
        [--only CASE[,CASE...]]

Cases (each with its own temp dir, spool and mock):
  pipe-array    plain RFC 3164 / header-less / RFC 5424 lines, an rsyslog
                %jsonmesg% line, a journal JSON line, non-matching lines and
                a duplicate: exactly the expected request bodies, array shape.
  pipe-object   `body = object` in the config: bodies are bare objects.
  wrong-token   the mock rejects the token: stderr says "Invalid Auth Key",
                the token is never printed.
  ticket        `omkapture ticket --title ...` sends one exact request.
The clock is pinned (OMKAPTURE_NOW=1764237600 = 2025-11-27 10:00:00 UTC,
TZ=UTC), so due dates are exact. Exit 0 if every check passed, else 1.
"""

import functools
import json
import os
import re
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import MockKapture, run_omkapture, write_omkapture_config  # noqa: E402

NOW = 1764237600
ENV = {"OMKAPTURE_NOW": str(NOW), "TZ": "UTC"}
DUE = "2025-11-27 14:00:00"          # NOW + 4h in UTC
RUN_TIMEOUT = 60

RULES = (
    "# test rule\n"
    "[disk-full]\n"
    "match = No space left on device on (?<dev>\\S+)\n"
    "title = Disk full on ${host}: ${dev}\n"
    "details = ${line}\n"
    "email = ops@example.com\n"
    "due = +4h\n"
    "field.queue = Infra\n"
)


def ticket(host, dev, msg):
    """The request object the disk-full rule must produce (sans omkapture_ref)."""
    return {"title": "Disk full on %s: %s" % (host, dev), "ticket_details": msg,
            "due_date": DUE, "email_id": "ops@example.com", "queue": "Infra"}


def rsyslog_json(msg, host, program="kernel", sev="3"):
    """A line as rsyslog's %jsonmesg% writes it (spacing, \\/ escapes, nulls,
    and the space rsyslog keeps in front of an RFC 3164 msg)."""
    raw = "<%d>Nov 27 10:00:04 %s %s: %s" % (8 + int(sev), host, program, msg)
    fields = [("msg", " " + msg), ("rawmsg", raw),
              ("timereported", "2025-11-27T10:00:04+00:00"), ("hostname", host),
              ("syslogtag", program + ":"), ("inputname", "imtcp"),
              ("fromhost", "localhost"), ("fromhost-ip", "127.0.0.1"),
              ("pri", str(8 + int(sev))), ("syslogfacility", "1"),
              ("syslogseverity", sev), ("timegenerated", "2025-11-27T10:00:04.5+00:00"),
              ("programname", program), ("protocol-version", "0"),
              ("structured-data", "-"), ("app-name", program), ("procid", "-"),
              ("msgid", "-")]
    body = ", ".join("%s: %s" % (json.dumps(k), json.dumps(v).replace("/", "\\/"))
                     for k, v in fields)
    return "{ " + body + ', "uuid": null, "$!": null }'


def journal_json(msg, host, ident="kernel", prio="3"):
    return json.dumps({"__CURSOR": "s=abc;i=1", "__REALTIME_TIMESTAMP": "1764237600000000",
                       "__MONOTONIC_TIMESTAMP": "123456", "_BOOT_ID": "0" * 32,
                       "PRIORITY": prio, "SYSLOG_FACILITY": "0",
                       "SYSLOG_IDENTIFIER": ident, "_TRANSPORT": "kernel",
                       "_HOSTNAME": host, "MESSAGE": msg})


def pipe_input():
    """(stdin bytes, expected objects). Every matching line has its own device,
    so every ticket has its own dedup key."""
    lines, want = [], []

    def add(line, host=None, dev=None, msg=None):
        lines.append(line)
        if host is not None:
            want.append(ticket(host, dev, msg))

    m = "EXT4-fs error: No space left on device on /dev/sda1"
    add("<11>Nov 27 10:00:01 web01 kernel: " + m, "web01", "/dev/sda1", m)
    m = "No space left on device on /dev/sdb1"
    add("Nov 27 10:00:02 db02 kernel: " + m, "db02", "/dev/sdb1", m)
    m = "No space left on device on /dev/sdc1"
    add("<11>1 2025-11-27T10:00:03Z app03 kernel - - - " + m, "app03", "/dev/sdc1", m)
    m = "write failed: No space left on device on /dev/sdd1"
    add(rsyslog_json(m, "web04"), "web04", "/dev/sdd1", m)
    m = "No space left on device on /dev/sde1"
    add(journal_json(m, "web05"), "web05", "/dev/sde1", m)
    m = "\u00e9criture impossible \u2014 No space left on device on /dev/sdf1"
    add("<11>Nov 27 10:00:06 web06 kernel: " + m, "web06", "/dev/sdf1", m)
    # Lines no rule matches.
    add("<13>Nov 27 10:00:07 web01 app: all good")
    add("hello world")
    add("")
    add(rsyslog_json("disk usage 42%", "web04"))
    add(journal_json("Started Daily apt upgrade.", "web05", ident="systemd", prio="6"))
    # The same event again: same key within the suppress window, no new ticket.
    add("<11>Nov 27 10:00:01 web01 kernel: "
        "EXT4-fs error: No space left on device on /dev/sda1")
    return ("\n".join(lines) + "\n").encode(), want


def compare_bodies(checks, name, reqs, want, shape):
    """Exact comparison of the received request bodies with `want` (order
    free: the sender may run requests concurrently)."""
    checks.equal(len(reqs), len(want), "%s: the mock received %d requests" % (name, len(want)))
    bad = [r for r in reqs if r["kind"] != "add" or r["result"] != "success"]
    checks.check(not bad, "%s: all were successful add-ticket requests" % name,
                 json.dumps([{k: r[k] for k in ("path", "status", "message", "raw")}
                             for r in bad[:3]], indent=1))
    objs = []
    for r in reqs:
        b = r["body"]
        if shape == "array":
            ok = isinstance(b, list) and len(b) == 1 and isinstance(b[0], dict)
            objs.append(b[0] if ok else None)
        else:
            ok = isinstance(b, dict)
            objs.append(b if ok else None)
        if not ok:
            checks.check(False, "%s: body is %s" % (name, "an array of one object"
                                                     if shape == "array" else "an object"),
                         r["raw"][:300])
    objs = [o for o in objs if o is not None]
    refs = [o.get("omkapture_ref") for o in objs]
    checks.check(all(isinstance(x, str) and re.fullmatch(r"[0-9a-f]{16}", x) for x in refs),
                 "%s: omkapture_ref is 16 lowercase hex chars" % name, refs)
    checks.check(len(set(refs)) == len(refs), "%s: omkapture_ref distinct per ticket" % name,
                 refs)
    # Multisets of canonical JSON texts: a duplicate ticket is "unexpected".
    got = Counter(json.dumps({k: v for k, v in o.items() if k != "omkapture_ref"},
                             sort_keys=True, ensure_ascii=False) for o in objs)
    exp = Counter(json.dumps(w, sort_keys=True, ensure_ascii=False) for w in want)
    missing = sorted((exp - got).elements())
    unexpected = sorted((got - exp).elements())
    checks.check(not missing and not unexpected, "%s: exactly the expected bodies" % name,
                 "missing:\n  %s\nunexpected:\n  %s" % ("\n  ".join(missing) or "-",
                                                         "\n  ".join(unexpected) or "-"))


def no_token(checks, name, token, out, err, spool):
    checks.check(token.encode() not in out and token.encode() not in err,
                 "%s: the token appears neither in stdout nor in stderr" % name)
    hits = mocklib.files_containing(spool, token.encode())
    checks.check(not hits, "%s: the token is not written into the spool" % name, hits)


def show(name, rc, out, err):
    print("--- %s: rc=%s, stdout %d bytes, stderr:\n%s" % (
        name, rc, len(out), err.decode("utf-8", "replace")[-3000:] or "(empty)"))
    if out:
        print("--- %s stdout:\n%s" % (name, out.decode("utf-8", "replace")[-2000:]))


def case_pipe(checks, omk, base, shape):
    name = "pipe-" + shape
    d = os.path.join(base, name)
    os.mkdir(d)
    token = "pipe-" + os.urandom(10).hex()
    with MockKapture(d, token=token, shape=shape) as mock:
        conf = write_omkapture_config(d, mock.url, token, RULES,
                                      body="object" if shape == "object" else None)
        if shape == "array":
            stdin, want = pipe_input()
        else:
            m = "No space left on device on /dev/vdz9"
            stdin, want = ("<11>Nov 27 10:00:01 web09 kernel: %s\n" % m).encode(), \
                [ticket("web09", "/dev/vdz9", m)]
        rc, out, err = run_omkapture(omk, ["-c", conf], stdin, ENV, RUN_TIMEOUT)
        show(name, rc, out, err)
        checks.equal(rc, 0, "%s: omkapture exits 0 at EOF" % name)
        compare_bodies(checks, name, mock.requests(), want, shape)
        no_token(checks, name, token, out, err, os.path.join(d, "omkapture.spool"))


def case_wrong_token(checks, omk, base):
    name = "wrong-token"
    d = os.path.join(base, name)
    os.mkdir(d)
    good, bad = "good-" + os.urandom(10).hex(), "bad-" + os.urandom(10).hex()
    with MockKapture(d, token=good, shape="array") as mock:
        conf = write_omkapture_config(d, mock.url, bad, RULES)
        stdin = b"<11>Nov 27 10:00:01 web01 kernel: No space left on device on vol7\n"
        rc, out, err = run_omkapture(omk, ["-c", conf], stdin, ENV, RUN_TIMEOUT)
        show(name, rc, out, err)
        checks.equal(rc, 0, "%s: exits 0 at EOF, the ticket kept in the spool" % name)
        reqs = mock.requests()
        # One attempt, then the auth hold (auth_retry, 5m by default)
        # outlasts the shutdown delivery: no hammering with a bad token.
        checks.equal(len(reqs), 1, "%s: exactly one attempt" % name)
        checks.check(reqs and all(not r["auth_ok"] and r["message"] == "Invalid Auth Key"
                                  for r in reqs),
                     "%s: the mock saw the request and rejected the token" % name,
                     "%d requests" % len(reqs))
        checks.check(b"Invalid Auth Key" in err,
                     "%s: stderr mentions \"Invalid Auth Key\"" % name)
        checks.check(b"Kapture refused the token" in err and b"1 request waiting" in err,
                     "%s: stderr says the token was refused and 1 request waits" % name)
        spool = os.path.join(d, "omkapture.spool")
        left = sorted(os.listdir(os.path.join(spool, "spool")))
        checks.check(len(left) == 1 and left[0].endswith(".req"),
                     "%s: the request stays in spool/ for a later retry" % name, left)
        no_token(checks, name, bad, out, err, spool)


def case_ticket(checks, omk, base):
    name = "ticket"
    d = os.path.join(base, name)
    os.mkdir(d)
    token = "tkt-" + os.urandom(10).hex()
    title, details = "Backup job failed on db01", "rc=2\nsee /var/log/backup.log"
    with MockKapture(d, token=token, shape="array") as mock:
        conf = write_omkapture_config(d, mock.url, token, RULES)
        args = ["-c", conf, "ticket", "--title", title, "--details", details,
                "--email", "dba@example.com", "--field", "queue=Infra"]
        rc, out, err = run_omkapture(omk, args, b"", ENV, RUN_TIMEOUT)
        show(name, rc, out, err)
        checks.equal(rc, 0, "%s: exits 0" % name)
        reqs = mock.requests()
        checks.equal(len(reqs), 1, "%s: exactly one request" % name)
        if len(reqs) == 1:
            r = reqs[0]
            checks.check(r["result"] == "success" and r["kind"] == "add",
                         "%s: the request succeeded" % name, r.get("message"))
            b = r["body"]
            ok = isinstance(b, list) and len(b) == 1 and isinstance(b[0], dict)
            checks.check(ok, "%s: body is an array of one object" % name, r["raw"][:300])
            if ok:
                o = dict(b[0])
                ref = o.pop("omkapture_ref", None)
                checks.check(isinstance(ref, str) and re.fullmatch(r"[0-9a-f]{16}", ref),
                             "%s: omkapture_ref is 16 lowercase hex chars" % name, ref)
                # No --due and no [defaults] due: the contract does not say
                # whether due_date is then absent or empty; accept both.
                due = o.pop("due_date", "")
                checks.check(due == "", "%s: no due_date without --due (got %r)" % (name, due))
                checks.equal(o, {"title": title, "ticket_details": details,
                                 "email_id": "dba@example.com", "queue": "Infra"},
                             "%s: exact request fields" % name)
        spool = os.path.join(d, "omkapture.spool")
        checks.equal(os.listdir(os.path.join(spool, "spool")), [],
                     "%s: nothing left in the spool once created" % name)
        no_token(checks, name, token, out, err, spool)


CASES = [("pipe-array", functools.partial(case_pipe, shape="array")),
         ("pipe-object", functools.partial(case_pipe, shape="object")),
         ("wrong-token", case_wrong_token),
         ("ticket", case_ticket)]


if __name__ == "__main__":
    sys.exit(mocklib.run_cases("e2e_pipe", "omk-e2e-pipe-", CASES, doc=__doc__))
