#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""The checker is no rubber stamp: every document in tests/json/bad/ must be
refused, each for its own reason, while the schema itself is valid."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_json  # noqa: E402
import jsonschema  # noqa: E402

BAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad")

with open(check_json.DEFAULT_SCHEMA, "rb") as f:
    schema = check_json.parse(f.read())
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
validator = cls(schema)
passed = failed = 0
for name in sorted(os.listdir(BAD)):
    with open(os.path.join(BAD, name), "rb") as f:
        errors = check_json.check(validator, f.read(), None)
    if errors:
        passed += 1
        print(f"ok: {name} refused: {errors[0]}")
    else:
        failed += 1
        print(f"FAIL: {name} accepted")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
