#!/usr/bin/env python3
"""Test the shipped rules (rules/*.rules) on realistic log lines.

    python3 tests/rules_test.py --omkapture build/plugin/omkapture [-v]
        [--only AREA[,AREA...]]

Each rules/AREA.rules has tests/rules/AREA.cases (format in its header):
  HIT RULE<TAB>LINE     LINE is matched by exactly RULE: alone with its own
                        file (-r rules/AREA.rules) and among all the shipped
                        rules (-r rules/, where first match wins across files),
                        with the prefilter and without (--engine naive)
  MISS RULE<TAB>LINE    a near-miss of RULE: no shipped rule matches LINE,
                        alone with its file or among all, either engine
  RENDER RULE<TAB>KEY[<TAB>TITLE]
                        RULE's first HIT line, fed as often as the rule's
                        threshold asks (once fewer: no ticket), makes one
                        --dry-run ticket with this dedup key (and exact
                        title); no "${" is left anywhere in the request
Every shipped rule needs at least 3 HIT lines, 2 MISS lines and a RENDER
line. Also `omkapture -c rules/omkapture.conf --check` must pass and the
literal prefilter must cover every rule.

Matching runs `--test --json` once per line (so a hit names its line). The
clock is pinned (OMKAPTURE_NOW, TZ=UTC). Exit 0 if every check passed, else 1.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES_DIR = os.path.join(TOP, "rules")
CASES_DIR = os.path.join(TOP, "tests", "rules")
SHIPPED_CONF = os.path.join(RULES_DIR, "omkapture.conf")
ENV = dict(os.environ, TZ="UTC", OMKAPTURE_NOW="1795773600")  # 2026-11-27 10:00 UTC
ENV.pop("KAPTURE_TOKEN", None)
MIN_HITS, MIN_MISSES = 3, 2
TIMEOUT = 30


class Failures:
    def __init__(self, verbose):
        self.items = []
        self.verbose = verbose
        self.checks = 0

    def check(self, ok, what):
        self.checks += 1
        if not ok:
            self.items.append(what)
            print("FAIL: " + what)
        elif self.verbose:
            print("ok: " + what.split("\n")[0])
        return ok


def rule_sections(path):
    """[(name, {key: value})] of a rules file, in file order (the INI subset
    rule files use: comments only at the start of a line)."""
    rules, cur = [], None
    for raw in open(path, encoding="utf-8"):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = re.fullmatch(r"\[([^\]]+)\]", line)
        if m:
            cur = {}
            rules.append((m.group(1), cur))
        elif cur is not None and "=" in line:
            k, v = line.split("=", 1)
            cur[k.strip()] = v.strip()
    return rules


def threshold_of(settings):
    m = re.match(r"(\d+)\s+in\s+", settings.get("threshold", ""))
    return int(m.group(1)) if m else 1


def parse_cases(path):
    """{"hit": [(rule, line, lineno)], "miss": [...], "render": {rule: (key, title)}}"""
    cases = {"hit": [], "miss": [], "render": {}}
    for n, raw in enumerate(open(path, encoding="utf-8"), 1):
        raw = raw.rstrip("\n")
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        head, sep, rest = raw.partition("\t")
        words = head.split()
        if not sep or len(words) != 2 or words[0] not in ("HIT", "MISS", "RENDER"):
            raise SystemExit("%s:%d: cannot parse: %r" % (path, n, raw))
        kind, rule = words[0].lower(), words[1]
        if kind == "render":
            parts = rest.split("\t")
            cases["render"][rule] = (parts[0], parts[1] if len(parts) > 1 else None, n)
        else:
            cases[kind].append((rule, rest, n))
    return cases


def run(binary, args, stdin):
    p = subprocess.run([binary] + args, input=stdin.encode("utf-8"),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=ENV, timeout=TIMEOUT)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def hits_of(binary, conf, rules_path, line, engine=None):
    extra = ["--engine", engine] if engine else []
    rc, out, err = run(binary, ["-c", conf, "-r", rules_path, "--test", "--json"] + extra, line + "\n")
    if rc != 0:
        return None, "exit %d: %s" % (rc, err.strip())
    doc = json.loads(out)
    hits = {r: n for r, n in doc["rules"].items() if n}
    if doc["matched"] != sum(hits.values()):
        return None, "matched %d but rule hits %r" % (doc["matched"], hits)
    return hits, None


def strings_in(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings_in(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings_in(x)


def tickets_of(binary, conf, rules_path, stdin):
    rc, out, err = run(binary, ["-c", conf, "-r", rules_path, "--dry-run"], stdin)
    if rc != 0:
        return None, "exit %d: %s" % (rc, err.strip())
    return [json.loads(x) for x in out.splitlines() if x.strip()], None


def write_config(tmp):
    """The shipped config with its own spool dir and no storm guard (so
    every render gets its ticket); rule paths come from -r."""
    text = open(SHIPPED_CONF, encoding="utf-8").read()
    text = re.sub(r"(?m)^dir = .*$", "dir = " + os.path.join(tmp, "spool"), text)
    text = re.sub(r"(?m)^max_tickets = .*$", "max_tickets = 0", text)
    conf = os.path.join(tmp, "omkapture.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(text)
    return conf


def check_shipped(binary, fail, nrules):
    rc, out, err = run(binary, ["-c", SHIPPED_CONF, "--check", "-v"], "")
    text = out + err
    fail.check(rc == 0, "--check of the shipped config and rules exits 0 (got %d)\n%s" % (rc, text))
    m = re.search(r"prefilter: literal covers (\d+) of (\d+) rules", text)
    fail.check(m is not None and m.group(1) == m.group(2) == str(nrules),
               "prefilter covers all %d shipped rules: %s" % (nrules, m.group(0) if m else text))


def check_area(binary, conf, area, fail):
    rules_file = os.path.join(RULES_DIR, area + ".rules")
    cases_file = os.path.join(CASES_DIR, area + ".cases")
    rules = rule_sections(rules_file)
    names = [r for r, _ in rules]
    cases = parse_cases(cases_file)
    where = os.path.relpath(cases_file, TOP)

    # Coverage: every rule has its hits, near-misses and render; no stray names.
    for name in names:
        nh = sum(1 for r, _, _ in cases["hit"] if r == name)
        nm = sum(1 for r, _, _ in cases["miss"] if r == name)
        fail.check(nh >= MIN_HITS, "%s: [%s] has %d HIT lines (want >= %d)" % (where, name, nh, MIN_HITS))
        fail.check(nm >= MIN_MISSES, "%s: [%s] has %d MISS lines (want >= %d)" % (where, name, nm, MIN_MISSES))
        fail.check(name in cases["render"], "%s: [%s] has a RENDER line" % (where, name))
    for r, _, n in cases["hit"] + cases["miss"]:
        fail.check(r in names, "%s:%d: rule [%s] is in %s.rules" % (where, n, r, area))
    for r, (_, _, n) in cases["render"].items():
        fail.check(r in names, "%s:%d: rule [%s] is in %s.rules" % (where, n, r, area))

    # Matching, alone with the file and among all shipped rules; and without
    # the prefilter (--engine naive), which must not change a thing.
    for rules_path, label, engine in ((rules_file, area + ".rules", None),
                                      (RULES_DIR, "all rules", None),
                                      (RULES_DIR, "all rules, --engine naive", "naive")):
        for r, line, n in cases["hit"]:
            hits, err = hits_of(binary, conf, rules_path, line, engine)
            fail.check(err is None and hits == {r: 1},
                       "%s:%d: HIT [%s] with %s: got %s\n    %s" % (where, n, r, label, err or hits, line))
        for r, line, n in cases["miss"]:
            hits, err = hits_of(binary, conf, rules_path, line, engine)
            fail.check(err is None and hits == {},
                       "%s:%d: MISS (near [%s]) with %s: got %s\n    %s" % (where, n, r, label, err or hits, line))

    # Rendering: threshold respected, then one sensible ticket.
    settings = dict(rules)
    for r, (key, title, n) in cases["render"].items():
        first = next((line for rr, line, _ in cases["hit"] if rr == r), None)
        if first is None or r not in settings:
            continue
        need = threshold_of(settings[r])
        if need > 1:
            got, err = tickets_of(binary, conf, rules_file, (first + "\n") * (need - 1))
            fail.check(err is None and got == [],
                       "%s:%d: [%s] %d of threshold %d lines make no ticket: got %s"
                       % (where, n, r, need - 1, need, err or got))
        got, err = tickets_of(binary, conf, rules_file, (first + "\n") * need)
        if fail.check(err is None and len(got) == 1 and got[0].get("rule") == r,
                      "%s:%d: [%s] %d line(s) make one ticket: got %s" % (where, n, r, need, err or got)):
            t = got[0]
            body = t["request"][0] if isinstance(t["request"], list) else t["request"]
            fail.check(t.get("key") == key, "%s:%d: [%s] key %r, want %r" % (where, n, r, t.get("key"), key))
            fail.check(body.get("title", "").strip() != "" and body["title"] == body["title"].strip()
                       and "  " not in body["title"],
                       "%s:%d: [%s] title is non-empty and tidy: %r" % (where, n, r, body.get("title")))
            if title is not None:
                fail.check(body.get("title") == title,
                           "%s:%d: [%s] title %r, want %r" % (where, n, r, body.get("title"), title))
            fail.check(body.get("ticket_details", "").strip() != "",
                       "%s:%d: [%s] ticket_details non-empty" % (where, n, r))
            left = [s for s in strings_in(t) if "${" in s]
            fail.check(not left, "%s:%d: [%s] no ${ left in the request: %r" % (where, n, r, left))
            fail.check(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", body.get("due_date", "")) is not None,
                       "%s:%d: [%s] due_date %r" % (where, n, r, body.get("due_date")))
    return len(names), len(cases["hit"]), len(cases["miss"]), len(cases["render"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--omkapture", required=True)
    ap.add_argument("--only", help="comma-separated areas (rules file stems)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    binary = os.path.abspath(a.omkapture)

    areas = sorted(f[:-len(".rules")] for f in os.listdir(RULES_DIR) if f.endswith(".rules"))
    fail = Failures(a.verbose)
    nrules = sum(len(rule_sections(os.path.join(RULES_DIR, x + ".rules"))) for x in areas)
    check_shipped(binary, fail, nrules)
    for area in areas:
        fail.check(os.path.exists(os.path.join(CASES_DIR, area + ".cases")),
                   "rules/%s.rules has tests/rules/%s.cases" % (area, area))
    if a.only:
        areas = [x for x in areas if x in a.only.split(",")]

    totals = [0, 0, 0, 0]
    with tempfile.TemporaryDirectory(prefix="omk-rules-") as tmp:
        conf = write_config(tmp)
        for area in areas:
            if not os.path.exists(os.path.join(CASES_DIR, area + ".cases")):
                continue
            counts = check_area(binary, conf, area, fail)
            print("%s: %d rules, %d hits, %d near-misses, %d renders"
                  % (area, counts[0], counts[1], counts[2], counts[3]))
            totals = [x + y for x, y in zip(totals, counts)]

    print("shipped-rules: %d rules, %d hit lines, %d near-miss lines, %d renders; "
          "%d checks, %d failed" % (totals[0], totals[1], totals[2], totals[3],
                                    fail.checks, len(fail.items)))
    return 1 if fail.items else 0


if __name__ == "__main__":
    sys.exit(main())
