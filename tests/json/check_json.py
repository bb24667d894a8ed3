#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Check etmem's JSON documents against docs/etmem-output.schema.json.

Usage: check_json.py [--schema FILE] [--kind KIND] PATH...
PATH is a document, a directory of *.json documents, or - (standard input).

Each document is parsed strictly (no NaN/Infinity, no duplicate member,
valid UTF-8, exactly one document), validated against the schema with
python3-jsonschema, and then checked for what a schema cannot say: every
table row has exactly the table's columns, in order; tasks are numbered
1, 2, ... within their engine. Prints one line per document and
"N passed, N failed"; exits 1 when any failed.
"""
import argparse
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, "..", "..", "docs", "etmem-output.schema.json")


def no_constant(name):
    raise ValueError(f"not JSON: {name}")


def no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate member {key!r}")
        obj[key] = value
    return obj


def parse(raw):
    text = raw.decode("utf-8")  # strict: invalid UTF-8 raises
    return json.loads(text, parse_constant=no_constant, object_pairs_hook=no_duplicates)


def semantic_errors(doc):
    errors = []
    if doc.get("kind") == "engine_command":
        for t in doc.get("tables", []):
            names = [c["name"] for c in t["columns"]]
            if len(set(names)) != len(names):
                errors.append(f"table {t['name']}: duplicate column names {names}")
            for i, row in enumerate(t["rows"]):
                if list(row.keys()) != names:
                    errors.append(f"table {t['name']} row {i}: keys {list(row.keys())} are not the columns {names}")
    if doc.get("kind") == "project_show":
        for p in doc.get("projects", []):
            for e in p["engines"]:
                numbers = [tk["number"] for tk in e["tasks"]]
                if numbers != list(range(1, len(numbers) + 1)):
                    errors.append(f"engine {e['name']}: task numbers {numbers}")
    return errors


def check(validator, raw, want_kind):
    try:
        doc = parse(raw)
    except (UnicodeDecodeError, ValueError) as e:
        return [f"not a strict JSON document: {e}"]
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
              for e in validator.iter_errors(doc)]
    if errors:
        return errors
    if want_kind and doc.get("kind") != want_kind:
        return [f"kind is {doc.get('kind')!r}, expected {want_kind!r}"]
    return semantic_errors(doc)


def inputs(paths):
    for p in paths:
        if p == "-":
            yield "<stdin>", sys.stdin.buffer.read()
        elif os.path.isdir(p):
            names = sorted(n for n in os.listdir(p) if n.endswith(".json"))
            if not names:
                yield p, None
            for n in names:
                with open(os.path.join(p, n), "rb") as f:
                    yield os.path.join(p, n), f.read()
        else:
            with open(p, "rb") as f:
                yield p, f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--kind", help="the kind every document must be")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    with open(args.schema, "rb") as f:
        schema = parse(f.read())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    passed = failed = 0
    for name, raw in inputs(args.paths):
        errors = ["no documents"] if raw is None else check(validator, raw, args.kind)
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
