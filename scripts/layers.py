#!/usr/bin/env python3
"""make lint: fail on an #include edge that scripts/layers.txt does not allow.

Usage: layers.py FILE... (paths relative to the repository root)."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder(path):
    """The layer a project file belongs to: shim/<sub> (arch as one), or its top folder."""
    parts = path.split("/")
    if parts[0] == "shim" and len(parts) > 2:
        return "shim/" + parts[1]
    return parts[0]


def load_table():
    table = {}
    with open(os.path.join(ROOT, "scripts", "layers.txt")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                name, _, allowed = line.partition(":")
                table[name.strip()] = set(allowed.split())
    return table


def resolve(src, name):
    """Where the compiler finds NAME: the including file's folder, then -I. (the root)."""
    for base in (os.path.dirname(src), ""):
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(ROOT, cand)):
            return cand
    return None


def main(files):
    table = load_table()
    bad = 0
    for src in files:
        here = folder(src)
        if here not in table:
            continue
        with open(os.path.join(ROOT, src)) as f:
            text = f.read()
        for name in INCLUDE.findall(text):
            target = resolve(src, name)
            if target is None:
                continue
            there = folder(target)
            if there == here or there in table[here] or target in table[here]:
                continue
            print(f"{src}: #include \"{name}\": {here} may not depend on {there} "
                  f"(scripts/layers.txt)")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
