#!/usr/bin/env bash
# Runs each criterion test binary and closes with one line that sums them
# all, so a run that tested nothing cannot look green.
set -uo pipefail

passed=0 failed=0 status=0
for bin in "$@"; do
	echo "== ${bin##*/}"
	out=$("$bin" --jobs=2 2>&1)
	rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -1)
	if [ -z "$line" ]; then
		echo "${bin##*/}: no criterion summary (exit $rc)"
		failed=$((failed + 1)) status=1
		continue
	fi
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
	f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line")
	c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$line")
	passed=$((passed + p)) failed=$((failed + f + c))
	[ "$rc" -ne 0 ] && status=1
done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
