#!/usr/bin/env python3
"""Validate exported FHIR R4 files strictly, independently of our Rust code.

    validate_fhir.py FILE...

A `.json` file holds one resource (our exports: a Bundle of type
`collection`); a `.ndjson` file holds one resource per line. Each resource is
parsed with the FHIR 4.0.1 models of `fhir.resources` 6.4.0 (pydantic 1),
which reject unknown elements, wrong types and missing required elements.
Exit 0 when every resource is valid, 1 when any is not (each failure printed
as FILE:LINE and the validator's message), 2 on bad usage.

The test script (scripts/fhir.sh) installs the models in a virtual
environment and exports GDPR_TEST_FHIR_VALIDATOR, a wrapper that runs this
file with that environment's Python.
"""
import json
import sys

from fhir.resources import construct_fhir_element


def check(resource, where, failures):
    if not isinstance(resource, dict) or "resourceType" not in resource:
        failures.append(f"{where}: not a FHIR resource (no resourceType)")
        return
    try:
        construct_fhir_element(resource["resourceType"], resource)
    except Exception as error:  # pydantic.ValidationError, KeyError, ...
        failures.append(f"{where}: {type(error).__name__}: {error}")


def validate(path, failures):
    count = 0
    if path.endswith(".ndjson"):
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    failures.append(f"{path}:{number}: empty line in NDJSON")
                    continue
                check(json.loads(line), f"{path}:{number}", failures)
                count += 1
    else:
        with open(path, encoding="utf-8") as handle:
            check(json.load(handle), f"{path}:1", failures)
        count += 1
    return count


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failures = []
    total = sum(validate(path, failures) for path in argv[1:])
    for failure in failures:
        print(failure)
    print(f"{total - len(failures)} valid, {len(failures)} invalid")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
