#!/usr/bin/env python3
"""Integration test: several omkapture instances sharing one spool directory.

    python3 tests/e2e_spool_share.py --omkapture build/plugin/omkapture [--keep]
        [--only CASE[,CASE...]]

rsyslog runs one omprog helper per action worker, all with the same config,
so they share one [spool] dir: a request is claimed with flock() before it
is sent, and requests of one dedup key go in order. Cases (each with its
own temp dir, spool and mock; the mock answers after 100 ms, so requests
overlap):
  share       two pipe-mode instances, one config, concurrency 4, 100
              distinct alerts each, plus 20 tickets of one dedup key
              (`key = fixed`, `suppress = 0`) fed to instance A: every ticket
              reaches the mock exactly once (by omkapture_ref and by title),
              the one-key tickets in line order, the spool ends empty, both
              exit 0, and the instances' own logs agree on who sent what.
  leftovers   instance A runs while the mock answers 503 to everything: its
              requests wait in the spool, and at EOF it exits 0 after
              shutdown_timeout, leaving them there. The mock recovers;
              instance B (no input, stdin kept open) delivers A's requests
              exactly once, the one-key ones in line order.
  key-across  the one-key order across instances: A spools request 1 of key
              'fixed' and Kapture answers it 429 (Retry-After: 2); 40 ms
              later B spools request 2 of the same key. Request 2 must wait
              while the older request 1 is in the spool, so the mock must
              create "order 001" before "order 002".
In every case the random API token appears in no stdout, stderr or spool
file. Exit 0 if every check passed, else 1.
"""

import contextlib
import os
import re
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import Helper, MockKapture, write_omkapture_config  # noqa: E402

NOW = 1764237600                     # 2025-11-27 10:00:00 UTC
ENV = {"OMKAPTURE_NOW": str(NOW), "TZ": "UTC"}
LATENCY_MS = 100
N_ALERTS = 100                       # per instance
N_ORDER = 20                         # tickets of the one fixed key
DELIVER_TIMEOUT = 30                 # seconds for the spool to drain
EXIT_TIMEOUT = 20                    # seconds for an instance to exit at EOF

RULES = (
    "# Every line is a ticket, all of one dedup key: they must arrive in order.\n"
    "[order]\n"
    "match = ORDER seq=(?<seq>\\d+)\n"
    "key = fixed\n"
    "suppress = 0\n"
    "title = order ${seq}\n"
    "details = ${line}\n"
    "\n"
    "# One key per line (the default key: rule name + every capture).\n"
    "[alert]\n"
    "match = ALERT inst=(?<inst>\\w+) n=(?<n>\\d+)\n"
    "title = alert ${inst}-${n}\n"
    "details = ${line}\n"
    "email = ops@example.com\n"
    "due = +4h\n"
)

# Knobs that keep the test fast; shutdown_timeout is set per case.
EXTRA = (
    "\n[kapture]\n"
    "timeout = 2s\n"
    "connect_timeout = 1s\n"
    "retry_max = 2s\n"
    "auth_retry = 1s\n"
    "concurrency = 4\n"
)


def extra_conf(shutdown_timeout):
    # write_omkapture_config already wrote [spool] dir; a second [spool]
    # section adds keys to it.
    return EXTRA + "\n[spool]\nshutdown_timeout = %s\n" % shutdown_timeout


def spool_files(spool, sub):
    try:
        return sorted(os.listdir(os.path.join(spool, sub)))
    except FileNotFoundError:
        return ["(missing %s/)" % sub]


def order_lines(inst, n):
    return ["ORDER seq=%03d from=%s" % (i, inst) for i in range(1, n + 1)]


def alert_lines(inst, n):
    return ["ALERT inst=%s n=%03d" % (inst, i) for i in range(1, n + 1)]


def interleave(alerts, orders, noise):
    """alerts with an order line after every few, and some non-matching lines."""
    out, step = [], max(1, len(alerts) // max(1, len(orders)))
    oi = 0
    for i, a in enumerate(alerts):
        out.append(a)
        if (i + 1) % step == 0 and oi < len(orders):
            out.append(orders[oi])
            oi += 1
        if i % 10 == 0:
            out.append("%s: all quiet %d" % (noise, i))
    out += orders[oi:]
    return out


def check_delivery(checks, name, mock, want_alert_titles, want_order_titles):
    """Every expected ticket succeeded exactly once; one-key tickets in order."""
    reqs = mock.requests()
    ok = [r for r in reqs if r["kind"] == "add" and r["result"] == "success"]
    objs = []
    for r in ok:
        b = r["body"]
        objs.append(b[0] if isinstance(b, list) and len(b) == 1 and isinstance(b[0], dict)
                    else {})
    other = Counter((r["kind"], r["result"], r["status"]) for r in reqs
                    if not (r["kind"] == "add" and r["result"] == "success"))
    print("--- %s: mock received %d requests, %d successful; others: %s" % (
        name, len(reqs), len(ok), dict(other) or "-"))
    titles = [o.get("title") for o in objs]
    alerts = [o for o in objs if str(o.get("title", "")).startswith("alert ")]
    refs = Counter(o.get("omkapture_ref") for o in alerts)
    dup_refs = {k: v for k, v in refs.items() if v > 1}
    checks.check(not dup_refs, "%s: no omkapture_ref was created twice" % name,
                 "duplicated refs (ref: count): %s" % dup_refs)
    checks.equal(len(refs), len(want_alert_titles),
                 "%s: %d distinct omkapture_ref values arrived" % (name, len(want_alert_titles)))
    got_alerts = Counter(o.get("title") for o in alerts)
    want = Counter(want_alert_titles)
    missing = sorted((want - got_alerts).elements())
    extra = sorted((got_alerts - want).elements())
    checks.check(not missing and not extra,
                 "%s: each of the %d alerts arrived exactly once (by title)"
                 % (name, len(want_alert_titles)),
                 "missing (%d): %s\nduplicated/unexpected (%d): %s" % (
                     len(missing), missing[:20], len(extra), extra[:20]))
    orders = [t for t in titles if str(t).startswith("order ")]
    checks.equal(orders, want_order_titles,
                 "%s: the %d tickets of key 'fixed' arrived once each, in line order"
                 % (name, len(want_order_titles)))
    leaks = [r["n"] for r in mock.requests() if r.get("token_in_request")]
    checks.check(not leaks, "%s: no request carried the token outside the auth header" % name,
                 "record entries: %s" % leaks[:10])
    unknown = [t for t in titles if not str(t).startswith(("alert ", "order "))]
    checks.check(not unknown, "%s: no unexpected tickets" % name, unknown[:10])
    return ok


def sent_refs(stderr):
    """ref -> count of "ticket ... created (ref R)" log lines."""
    return Counter(re.findall(r"ticket \S+ created \(ref ([0-9a-f]{16})\)", stderr))


def no_token(checks, name, token, helpers, spool):
    leaked = [h.name for h in helpers
              if token.encode() in h.stdout_bytes() or token in h.stderr_text()]
    checks.check(not leaked, "%s: the token appears in no stdout or stderr" % name, leaked)
    hits = mocklib.files_containing(spool, token.encode())
    checks.check(not hits, "%s: the token is in no spool file" % name, hits)


def show(h, rc):
    err = h.stderr_text()
    lines = err.splitlines()
    if len(lines) > 40:
        err = "\n".join(lines[:15] + ["... (%d lines) ..." % (len(lines) - 30)] + lines[-15:])
    print("--- %s: rc=%s, stdout %d bytes, stderr:\n%s" % (
        h.name, rc, len(h.stdout_bytes()), err or "(empty)"))


def spool_empty(spool):
    return not os.listdir(os.path.join(spool, "spool"))


def check_dirs(checks, name, spool):
    checks.equal(spool_files(spool, "spool"), [], "%s: spool/ is empty" % name)
    checks.equal(spool_files(spool, "failed"), [], "%s: failed/ is empty" % name)
    checks.equal(spool_files(spool, "tmp"), [], "%s: tmp/ is empty" % name)


@contextlib.contextmanager
def shared_case(base, name, shutdown_timeout, **faults):
    """A case's dir, random token, mock (with these fault settings) and the
    config its instances share: yields (mock, conf, spool dir, token)."""
    d = os.path.join(base, name)
    os.mkdir(d)
    token = "%s-%s" % (name, os.urandom(12).hex())
    with MockKapture(d, token=token, shape="array", quiet=True, **faults) as mock:
        conf = write_omkapture_config(d, mock.url, token, RULES,
                                      extra=extra_conf(shutdown_timeout))
        yield mock, conf, os.path.join(d, "omkapture.spool"), token


def case_share(checks, omk, base):
    name = "share"
    with shared_case(base, name, "2s", latency_ms=LATENCY_MS) as (mock, conf, spool, token):
        with Helper(omk, ["-c", conf], ENV, "instance A") as a, \
                Helper(omk, ["-c", conf], ENV, "instance B") as b:
            a_alerts, b_alerts = alert_lines("a", N_ALERTS), alert_lines("b", N_ALERTS)
            orders = order_lines("a", N_ORDER)
            t0 = time.monotonic()
            # Both instances get their lines at the same time; stdin stays
            # open, so nothing is cut short by the shutdown timeout.
            a.send(("\n".join(interleave(a_alerts, orders, "a")) + "\n").encode())
            b.send(("\n".join(interleave(b_alerts, [], "b")) + "\n").encode())
            want_total = 2 * N_ALERTS + N_ORDER
            delivered = mocklib.wait_for(
                lambda: len(mock.successes()) >= want_total and spool_empty(spool),
                DELIVER_TIMEOUT, 0.1)
            print("--- %s: %s after %.1fs" % (name, "spool drained" if delivered
                                              else "spool NOT drained", time.monotonic() - t0))
            checks.check(delivered, "%s: all %d tickets delivered within %ds"
                         % (name, want_total, DELIVER_TIMEOUT),
                         "%d successes, spool: %s" % (len(mock.successes()),
                                                      spool_files(spool, "spool")[:10]))
            time.sleep(0.5)   # a duplicate would show up now
            a.close_stdin()
            b.close_stdin()
            rca, rcb = a.wait(EXIT_TIMEOUT), b.wait(EXIT_TIMEOUT)
        show(a, rca)
        show(b, rcb)
        checks.equal(rca, 0, "%s: instance A exits 0 at EOF" % name)
        checks.equal(rcb, 0, "%s: instance B exits 0 at EOF" % name)
        ok = check_delivery(checks, name, mock,
                            ["alert a-%03d" % i for i in range(1, N_ALERTS + 1)] +
                            ["alert b-%03d" % i for i in range(1, N_ALERTS + 1)],
                            ["order %03d" % i for i in range(1, N_ORDER + 1)])
        check_dirs(checks, name, spool)
        # The instances' own account: each success logged by exactly one.
        sa, sb = sent_refs(a.stderr_text()), sent_refs(b.stderr_text())
        both = sa + sb
        mock_refs = Counter(r["body"][0].get("omkapture_ref") for r in ok
                            if isinstance(r["body"], list) and r["body"])
        checks.check(both == mock_refs,
                     "%s: the instances logged exactly the tickets the mock created" % name,
                     "logged-not-created: %s\ncreated-not-logged: %s" % (
                         dict(both - mock_refs), dict(mock_refs - both)))
        a_refs = {r["body"][0]["omkapture_ref"] for r in ok
                  if r["body"][0].get("title", "").startswith("alert a-")}
        b_refs = {r["body"][0]["omkapture_ref"] for r in ok
                  if r["body"][0].get("title", "").startswith("alert b-")}
        print("--- %s: A sent %d of its own alerts and %d of B's; B sent %d of its own "
              "and %d of A's" % (name, len(set(sa) & a_refs), len(set(sa) & b_refs),
                                 len(set(sb) & b_refs), len(set(sb) & a_refs)))
        checks.check(set(sa) & b_refs or set(sb) & a_refs,
                     "%s: the spool really was shared (an instance sent the other's "
                     "requests)" % name)
        no_token(checks, name, token, [a, b], spool)


def case_leftovers(checks, omk, base):
    name = "leftovers"
    n_alerts, n_order = 30, 10
    with shared_case(base, name, "1s", latency_ms=LATENCY_MS, fail_next=-1,
                     fault="503") as (mock, conf, spool, token):
        with Helper(omk, ["-c", conf], ENV, "instance A (Kapture down)") as a:
            orders = order_lines("a", n_order)
            a.send(("\n".join(interleave(alert_lines("a", n_alerts), orders, "a")) + "\n")
                   .encode())
            a.close_stdin()
            t0 = time.monotonic()
            rca = a.wait(EXIT_TIMEOUT)
            print("--- %s: instance A exited after %.1fs" % (name, time.monotonic() - t0))
            left = spool_files(spool, "spool")
            checks.equal(rca, 0, "%s: instance A exits 0 at EOF with Kapture down" % name)
            checks.equal(len(left), n_alerts + n_order,
                         "%s: A left all its %d requests in the spool" % (name, n_alerts + n_order))
            checks.check("exiting with %d requests in the spool" % (n_alerts + n_order)
                         in a.stderr_text(),
                         "%s: A says how many requests it leaves in the spool" % name)
            tried = [r for r in mock.requests() if r["kind"] == "add"]
            checks.check(tried and all(r["status"] == 503 for r in tried),
                         "%s: A did try, and every attempt got 503" % name,
                         Counter(r["status"] for r in tried))
            no_success_yet = not mock.successes()
            mock.configure(fail_next=0)
            with Helper(omk, ["-c", conf], ENV, "instance B (Kapture back)") as b:
                t1 = time.monotonic()
                delivered = mocklib.wait_for(
                    lambda: len(mock.successes()) >= n_alerts + n_order and spool_empty(spool),
                    DELIVER_TIMEOUT, 0.1)
                print("--- %s: %s after %.1fs" % (name, "spool drained by B" if delivered else
                                                  "spool NOT drained", time.monotonic() - t1))
                # stdin open a few seconds
                time.sleep(max(0.0, 3.0 - (time.monotonic() - t1)))
                b.close_stdin()
                rcb = b.wait(EXIT_TIMEOUT)
        show(a, rca)
        show(b, rcb)
        checks.check(no_success_yet, "%s: nothing was created while the mock was down" % name)
        checks.check(delivered, "%s: B delivered A's requests within %ds"
                     % (name, DELIVER_TIMEOUT))
        checks.equal(rcb, 0, "%s: instance B exits 0 at EOF" % name)
        check_delivery(checks, name, mock,
                       ["alert a-%03d" % i for i in range(1, n_alerts + 1)],
                       ["order %03d" % i for i in range(1, n_order + 1)])
        check_dirs(checks, name, spool)
        no_token(checks, name, token, [a, b], spool)


def case_key_across(checks, omk, base):
    name = "key-across"
    with shared_case(base, name, "2s") as (mock, conf, spool, token):
        with Helper(omk, ["-c", conf], ENV, "instance A") as a, \
                Helper(omk, ["-c", conf], ENV, "instance B") as b:
            time.sleep(1.5)
            # B is busy (a ticket of its own): its index is fresh as of now.
            b.send(b"ALERT inst=b n=001\n")
            first = mocklib.wait_for(lambda: len(mock.successes()) >= 1, 10, 0.01)
            mock.configure(fail_next=1, fault="429", retry_after="2")
            a.send(b"ORDER seq=001 from=a\n")
            refused = mocklib.wait_for(
                lambda: any(r["status"] == 429 for r in mock.requests()), 10, 0.01)
            b.send(b"ORDER seq=002 from=b\n")
            delivered = mocklib.wait_for(
                lambda: len(mock.successes()) >= 3 and spool_empty(spool), 15, 0.05)
            a.close_stdin()
            b.close_stdin()
            rca, rcb = a.wait(EXIT_TIMEOUT), b.wait(EXIT_TIMEOUT)
        show(a, rca)
        show(b, rcb)
        seq = [(r["body"][0].get("title") if isinstance(r["body"], list) and r["body"]
                else None, r["status"]) for r in mock.requests()]
        print("--- %s: requests in arrival order: %s" % (name, seq))
        checks.check(first and refused and delivered,
                     "%s: the scenario ran (B's ticket created, A's request refused "
                     "with 429, everything delivered)" % name,
                     "first=%s refused=%s delivered=%s" % (bool(first), bool(refused),
                                                          bool(delivered)))
        checks.equal(rca, 0, "%s: instance A exits 0 at EOF" % name)
        checks.equal(rcb, 0, "%s: instance B exits 0 at EOF" % name)
        orders = [o for o, st in seq if str(o).startswith("order ") and st == 200]
        checks.equal(orders, ["order 001", "order 002"],
                     "%s: B's newer request of key 'fixed' waited for A's older one "
                     "(created in line order)" % name)
        no_token(checks, name, token, [a, b], spool)


CASES = [("share", case_share), ("leftovers", case_leftovers),
         ("key-across", case_key_across)]


if __name__ == "__main__":
    sys.exit(mocklib.run_cases("e2e_spool_share", "omk-e2e-share-", CASES, doc=__doc__))
