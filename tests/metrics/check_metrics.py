#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Check etmem's metrics text with real Prometheus tooling.

Usage: check_metrics.py [--promtool PATH] [--require NAME...] PATH...
PATH is a metrics file, a directory of *.prom files, or - (standard input).

Each text is parsed by python3-prometheus-client's parser (the reference
Python implementation of the text format), then checked for what the
parser tolerates but a scraper does not: every family has HELP and TYPE
and appears once, no series appears twice, names are etmem_*, counters end
in _total and nothing else does. With --promtool, `promtool check metrics`
(Debian's prometheus package) must pass it too. --require names families
that must be present. Prints one line per text and "N passed, N failed".
"""
import argparse
import os
import re
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

NAME = re.compile(r"^etmem_[a-z0-9_]*[a-z0-9]$")


def lint(text):
    errors = []
    seen_help, seen_type = set(), {}
    for line in text.splitlines():
        m = re.match(r"^# (HELP|TYPE) (\S+) ?(.*)$", line)
        if not m:
            continue
        kind, name, rest = m.groups()
        target = seen_help if kind == "HELP" else seen_type
        if name in target:
            errors.append(f"{kind} of {name} twice: its samples are split")
        if kind == "HELP":
            seen_help.add(name)
            if not rest.strip():
                errors.append(f"{name}: empty HELP")
        else:
            seen_type[name] = rest
    for name, typ in seen_type.items():
        if name not in seen_help:
            errors.append(f"{name}: TYPE without HELP")
        if not NAME.match(name):
            errors.append(f"{name}: not an etmem_ snake_case name")
        if typ == "counter" and not name.endswith("_total"):
            errors.append(f"{name}: a counter must end in _total")
        if typ != "counter" and name.endswith("_total"):
            errors.append(f"{name}: only counters end in _total")
    return errors, seen_type


def check(text, promtool, required):
    errors, types = lint(text)
    series = set()
    families = 0
    try:
        for fam in text_string_to_metric_families(text):
            families += 1
            for s in fam.samples:
                key = (s.name, tuple(sorted(s.labels.items())))
                if key in series:
                    errors.append(f"series {s.name}{dict(s.labels)} twice")
                series.add(key)
                if s.value != s.value:
                    errors.append(f"{s.name}: NaN")
    except Exception as e:  # the parser's own refusals: ValueError and friends
        errors.append(f"prometheus_client cannot parse it: {e!r}")
    if not families:
        errors.append("no metric family")
    for name in required:
        if name not in types:
            errors.append(f"required family {name} missing")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
        if r.returncode != 0:
            errors.append(f"promtool check metrics: {(r.stdout + r.stderr).decode().strip()}")
    return errors


def inputs(paths):
    for p in paths:
        if p == "-":
            yield "<stdin>", sys.stdin.read()
        elif os.path.isdir(p):
            names = sorted(n for n in os.listdir(p) if n.endswith(".prom"))
            if not names:
                yield p, None
            for n in names:
                with open(os.path.join(p, n), encoding="utf-8") as f:
                    yield os.path.join(p, n), f.read()
        else:
            with open(p, encoding="utf-8") as f:
                yield p, f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--promtool")
    ap.add_argument("--require", action="append", default=[])
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    if args.promtool and not os.access(args.promtool, os.X_OK):
        print(f"FAIL: promtool {args.promtool} is not there (scripts/install-deps.sh installs it)")
        return 1
    passed = failed = 0
    for name, text in inputs(args.paths):
        errors = ["no metrics files"] if text is None else check(text, args.promtool, args.require)
        if errors:
            failed += 1
            print(f"FAIL: {name}")
            for e in errors[:20]:
                print(f"  {e}")
        else:
            passed += 1
            print(f"ok: {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
