#!/usr/bin/env python3
"""Prints fields of an ldmemo JSON statistics dump (the last object in the
file): `jstat.py FILE FIELD...`, each FIELD either a top-level key
(`entries`, `bytes`) or METHOD.KEY (`f.hits`)."""
import json
import sys


def main():
    with open(sys.argv[1]) as fp:
        lines = [l for l in fp.read().splitlines() if l.strip()]
    dump = json.loads(lines[-1])
    methods = {m["name"]: m for m in dump.get("methods", [])}
    out = []
    for field in sys.argv[2:]:
        if "." in field:
            name, key = field.split(".", 1)
            out.append(str(methods.get(name, {}).get(key, "nan")))
        else:
            out.append(str(dump.get(field, "nan")))
    print(" ".join(out))


if __name__ == "__main__":
    main()
