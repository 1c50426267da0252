#!/usr/bin/env bash
# Runs each criterion test binary and closes with one line that sums them
# all, so a run that tested nothing cannot look green. Output goes through a
# file, not a pipe: a test's orphaned child that never exits would otherwise
# hold the pipe open and the run would never end. A binary running longer
# than LM_TEST_TIMEOUT seconds (default 1200) is killed and counted failed.
set -uo pipefail

passed=0 failed=0 status=0 limit=${LM_TEST_TIMEOUT:-1200}
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT
for bin in "$@"; do
	echo "== ${bin##*/}"
	timeout --kill-after=10 "$limit" "$bin" --jobs=2 >"$log" 2>&1
	rc=$?
	cat "$log"
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "${bin##*/}: killed after $limit s"
	fi
	line=$(grep 'Synthesis:' "$log" | tail -1)
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
