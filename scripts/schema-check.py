#!/usr/bin/env python3
"""Checks manifest files against Helios' JSON Schema: schema-check.py SCHEMA FILE...

Prints one JSON line per file: {"file": …, "errors": ["document N: path: message", …]}.
Needs the Debian packages python3-yaml and python3-jsonschema (make deps installs them).
"""
import json
import sys

import jsonschema
import yaml


def main():
    with open(sys.argv[1]) as handle:
        schema = json.load(handle)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sys.argv[2:]:
        errors = []
        try:
            with open(path) as handle:
                documents = [d for d in yaml.safe_load_all(handle) if d is not None]
        except yaml.YAMLError as error:
            documents = []
            errors.append("invalid YAML: %s" % str(error).split("\n")[0])
        for index, document in enumerate(documents):
            # YAML timestamps and other non-JSON scalars as the loader reads them: strings.
            document = json.loads(json.dumps(document, default=str))
            for error in validator.iter_errors(document):
                where = "/".join(str(part) for part in error.absolute_path) or "(document)"
                errors.append("document %d: %s: %s" % (index + 1, where, error.message))
        print(json.dumps({"file": path, "errors": errors}))


main()
