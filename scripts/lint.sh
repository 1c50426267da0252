#!/usr/bin/env bash
# make lint: the layering table, the format check, clang-tidy and cppcheck
# over the sources.
set -euo pipefail
[ $# -gt 0 ] || exit 0

echo "lint: layers"
python3 "$(dirname "$0")/layers.py" "$@"

echo "lint: clang-format"
clang-format --dry-run --Werror "$@"

echo "lint: clang-tidy"
srcs=()
for f in "$@"; do case "$f" in *.c) srcs+=("$f") ;; esac; done
clang-tidy --quiet "${srcs[@]}" -- -std=gnu11 -D_GNU_SOURCE -I. 2>/dev/null |
	{ grep -E 'warning:|error:' && exit 1 || true; }

echo "lint: cppcheck"
cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	--inline-suppr --suppress=missingIncludeSystem -D__x86_64__ -D__GNUC__ -I. "${srcs[@]}"
