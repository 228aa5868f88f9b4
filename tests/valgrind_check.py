#!/usr/bin/env python3
"""Check the memcheck logs of omkapture runs under valgrind (OMK_VALGRIND=1).

    valgrind_check.py DIR...          summary; exit 1 on any error or leak
    valgrind_check.py --clean DIR     remove DIR (before a run)

Reads every vg-*.log under each DIR (tests/mocklib.py writes one per
omkapture process, see valgrind_wrapper) and prints, per directory and in
total: processes, processes that did not finish (killed by a test: no leak
check), memory errors (contexts), and bytes definitely, indirectly and
possibly lost. Each error and each definite or indirect leak is printed
with its stack. Exit status 1 if there was any memory error, any definite
or indirect leak, a non-zero ERROR SUMMARY, or no log at all; 0 otherwise.
"possibly lost" is reported but does not fail.
"""

import argparse
import glob
import os
import re
import shutil
import sys

PREFIX = re.compile(r"^==(\d+)== ?(.*)$")
LEAK = re.compile(r"^([\d,]+) (?:\(([\d,]+) direct, ([\d,]+) indirect\) )?bytes in "
                  r"([\d,]+) blocks are (definitely|indirectly|possibly) lost")
SUMMARY = re.compile(r"^\s*(definitely|indirectly|possibly) lost: ([\d,]+) bytes")
ERRORS = re.compile(r"^ERROR SUMMARY: ([\d,]+) errors? from ([\d,]+) contexts?")
# Records that are not memory errors.
NOT_ERRORS = ("Warning:", "Process terminating with default action",
              "HEAP SUMMARY:", "Memcheck, a memory error detector")


def num(s):
    return int(s.replace(",", ""))


class Log:
    def __init__(self, path):
        self.path = path
        self.pid = None
        self.command = ""
        self.finished = False      # an ERROR SUMMARY line: it exited, leaks checked
        self.error_summary = 0
        self.errors = []           # non-leak error records (lists of lines)
        self.leaks = []            # (kind, bytes, record) definite/indirect
        self.lost = {"definitely": 0, "indirectly": 0, "possibly": 0}
        self.signal = None
        self.parse()

    def parse(self):
        with open(self.path, encoding="utf-8", errors="replace") as f:
            lines = []
            for raw in f:
                m = PREFIX.match(raw.rstrip("\n"))
                if m:
                    self.pid = self.pid or int(m.group(1))
                    lines.append(m.group(2))
        records, cur = [], []
        for line in lines:
            if line.strip():
                cur.append(line)
            elif cur:
                records.append(cur)
                cur = []
        if cur:
            records.append(cur)
        in_heap = False
        for i, rec in enumerate(records):
            first = rec[0].strip()
            for line in rec:
                if line.startswith("Command: "):
                    self.command = line[len("Command: "):]
                m = ERRORS.match(line)
                if m:
                    self.finished = True
                    self.error_summary = num(m.group(1))
                m = SUMMARY.match(line)
                if m:
                    self.lost[m.group(1)] = num(m.group(2))
            if i == 0 or first.startswith("Copyright") or first.startswith("Using Valgrind"):
                continue      # the header
            if first.startswith("HEAP SUMMARY:"):
                in_heap = True
            m = LEAK.match(first)
            if m:
                if m.group(5) in ("definitely", "indirectly"):
                    self.leaks.append((m.group(5), num(m.group(1)), rec))
                continue
            if first.startswith("Process terminating with default action of signal"):
                self.signal = first.split("signal", 1)[1].split("(")[1].split(")")[0]
            if in_heap or first.startswith(NOT_ERRORS) or ERRORS.match(first):
                continue
            self.errors.append(rec)

    @property
    def failed(self):
        return bool(self.errors or self.leaks or self.error_summary
                    or self.lost["definitely"] or self.lost["indirectly"])


def report(logs, out):
    """Append each failed log's errors and leaks (with stacks) to out."""
    for log in logs:
        if not log.failed:
            continue
        out.append("---- %s (pid %s): %s" % (log.path, log.pid, log.command))
        for rec in log.errors + [rec for _, _, rec in log.leaks]:
            out.extend("    " + line for line in rec)
            out.append("")
        if log.error_summary and not (log.errors or log.leaks):
            out.append("    ERROR SUMMARY: %d errors (see the log)" % log.error_summary)


def totals(logs):
    return {
        "processes": len(logs),
        "unfinished": sum(1 for x in logs if not x.finished),
        "errors": sum(len(x.errors) for x in logs),
        "definite": sum(x.lost["definitely"] for x in logs),
        "indirect": sum(x.lost["indirectly"] for x in logs),
        "possible": sum(x.lost["possibly"] for x in logs),
        "failed": sum(1 for x in logs if x.failed),
    }


def line(name, t):
    return ("%-24s %5d processes (%d unfinished), %d errors, leaked: %d definite, "
            "%d indirect, %d possible bytes%s" % (
                name, t["processes"], t["unfinished"], t["errors"], t["definite"],
                t["indirect"], t["possible"],
                ", %d failed" % t["failed"] if t["failed"] else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="+", metavar="DIR")
    ap.add_argument("--clean", action="store_true", help="remove the DIRs and exit")
    a = ap.parse_args()
    if a.clean:
        for d in a.dirs:
            shutil.rmtree(d, ignore_errors=True)
        return 0
    details, rows, every = [], [], []
    for d in a.dirs:
        # One row per directory holding logs (one per test), then the total.
        # A test that made the wrapper but ran no omkapture shows as 0.
        by_dir = {os.path.dirname(os.path.dirname(p)): [] for p in glob.glob(
            os.path.join(d, "**", "bin", "omkapture"), recursive=True)}
        for p in sorted(glob.glob(os.path.join(d, "**", "vg-*.log"), recursive=True)):
            by_dir.setdefault(os.path.dirname(p), []).append(Log(p))
        for sub, logs in sorted(by_dir.items()):
            rows.append(line(os.path.relpath(sub, d) if sub != d else os.path.basename(d),
                             totals(logs)))
            report(logs, details)
            every += logs
    if details:
        print("\n".join(details))
    print("== valgrind memcheck")
    for r in rows:
        print(r)
    t = totals(every)
    print(line("total", t))
    if not every:
        print("valgrind_check: FAIL: no valgrind log in %s" % " ".join(a.dirs))
        return 1
    if t["failed"]:
        print("valgrind_check: FAIL: %d processes with memory errors or leaks" % t["failed"])
        return 1
    print("valgrind_check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
