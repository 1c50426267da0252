#!/usr/bin/env python3
"""Fail on a dependency that scripts/layers.txt does not allow.

Usage: layers.py FILE...            the #include edges of these sources (make lint)
       layers.py --objects B OBJ... the symbols these objects (built under B)
                                    use from each other (after each link)"""
import os
import re
import subprocess
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


# Functions the shim defines to interpose them: a call to them inside the
# shim is a call to libc's.
INTERPOSED = {"dlopen", "dlmopen", "dlclose", "sigaction", "signal", "bsd_signal", "sysv_signal"}


def source_of(build, obj):
    """The source an object was built from (B/x/y.o from x/y.c or x/y.S)."""
    stem = os.path.splitext(os.path.relpath(obj, build))[0]
    for ext in (".c", ".S"):
        if os.path.isfile(os.path.join(ROOT, stem + ext)):
            return stem + ext
    return stem + ".c"


def check_objects(build, objects):
    """A symbol an object uses must be defined in its own folder or one it may use."""
    table = load_table()
    where = {}
    uses = []
    for obj in objects:
        src = source_of(build, obj)
        home = folder(src)
        here = src if src in table else home
        out = subprocess.run(["nm", "--defined-only", obj], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRVW":
                where.setdefault(parts[2], folder(src))
        out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True,
                             check=True).stdout
        uses += [(obj, home, here, line.split()[-1]) for line in out.splitlines()
                 if line.strip()]
    bad = 0
    for obj, home, here, sym in uses:
        there = where.get(sym)
        if sym in INTERPOSED or there is None or there == home or there in table.get(here, ()):
            continue
        print(f"{obj}: uses {sym} of {there}: {here} may not depend on {there} "
              "(scripts/layers.txt)")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--objects"]:
        sys.exit(check_objects(sys.argv[2], sys.argv[3:]))
    sys.exit(main(sys.argv[1:]))
