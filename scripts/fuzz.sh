#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets of tests/fuzz with clang under
# ASan+UBSan into build/fuzz and runs each from its seed corpus
# (tests/fuzz/corpus/TARGET) for a minute; --smoke: 10 s each, for CI;
# --build: builds them only. Target `diff` is the differential fuzzer
# (tests/fuzz/diff): it runs under the normal build's libldmemo.so.
# New inputs go to build/fuzz/corpus/TARGET (the seeds stay as they are);
# a crash leaves build/fuzz/crash-TARGET-* and fails the run: copy it into
# tests/fuzz/regress/TARGET/ so the hardening tests replay it from then on
# (diff: into its corpus).
# FUZZ_SECS overrides the time per target.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=60
[ "${1:-}" = --smoke ] && secs=10
secs=${FUZZ_SECS:-$secs}
targets=(config rules plan elf diff)
B=build/fuzz

command -v clang >/dev/null || { echo "fuzz: clang is missing (apt-get install clang)" >&2; exit 1; }
flags="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
make --no-print-directory -s build/libldmemo.so >/dev/null
CFLAGS="$flags" make --no-print-directory -s B=$B CC=clang \
	$(printf "$B/fuzz/fuzz_%s " "${targets[@]}") >/dev/null
[ "${1:-}" = --build ] && exit 0

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export DIFF_SHIM=$PWD/build/libldmemo.so
status=0
for t in "${targets[@]}"; do
	mkdir -p "$B/corpus/$t"
	start=$(date +%s)
	if "$B/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$B/crash-$t-" -print_final_stats=1 \
		"$B/corpus/$t" "tests/fuzz/corpus/$t" >"$B/fuzz-$t.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/fuzz-$t.log")
		echo "fuzz $t: ok, ${execs:-?} runs in $(($(date +%s) - start)) s"
	else
		echo "fuzz $t: FAILED; see $B/fuzz-$t.log and $B/crash-$t-*" >&2
		grep -E 'ERROR|SUMMARY|runtime error|^diff:' "$B/fuzz-$t.log" | head -5 >&2
		status=1
	fi
done
exit $status
