#!/usr/bin/env bash
# make mutate: plants each bug of tests/mutate/mutants.txt, one at a time,
# in a scratch copy of the tree, rebuilds (only the mutated file compiles:
# the copy keeps the object files and their times), runs the suites that
# own the code and reports the mutant killed (a suite failed) or survived.
# Fails when a mutant survives or does not apply: its file is found by
# basename, and its line pattern must match exactly once, so a refactor
# that moves or changes the line shows up here rather than as a mutant
# silently not planted.
#
# Usage: scripts/mutate.sh [NAME...]   (default: every mutant)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
list=${MUTANTS:-tests/mutate/mutants.txt}
scratch=${MUTATE_DIR:-build/mutate}
jobs=${MUTATE_JOBS:-2}

# ---- the list: blocks of "key: value" lines, a blank line between ----------
names=() files=() ins=() afters=() withins=() lines=() seds=() suites=()
parse() {
	local name='' file='' in='' after='' within='' line='' sed='' suite='' k v
	flush() {
		[ -z "$name" ] && return 0
		if [ -z "$file" ] || [ -z "$line" ] || [ -z "$sed" ] || [ -z "$suite" ]; then
			echo "mutate: $list: mutant '$name' lacks file, line, sed or suites" >&2
			exit 2
		fi
		names+=("$name") files+=("$file") ins+=("$in") afters+=("$after") withins+=("${within:-10}")
		lines+=("$line") seds+=("$sed") suites+=("$suite")
		name='' file='' in='' after='' within='' line='' sed='' suite=''
	}
	while IFS= read -r l || [ -n "$l" ]; do
		case "$l" in
		'#'*) continue ;;
		'') flush; continue ;;
		esac
		k=${l%%:*} v=${l#*: }
		case "$k" in
		name) name=$v ;; file) file=$v ;; in) in=$v ;; after) after=$v ;; within) within=$v ;; line) line=$v ;;
		sed) sed=$v ;; suites) suite=$v ;;
		*) echo "mutate: $list: unknown field '$k' in '$l'" >&2; exit 2 ;;
		esac
	done <"$list"
	flush
}
parse

# The one tracked file named BASE (under the top folder IN, if given).
locate() {
	local hits
	hits=$(git ls-files ${2:+"$2/"} | awk -F/ -v b="$1" '$NF == b')
	if [ "$(printf '%s\n' "$hits" | grep -c .)" -ne 1 ]; then
		echo "no single tracked file named $1${2:+ under $2/}: ${hits:-none}" | tr '\n' ' ' >&2
		return 1
	fi
	printf '%s\n' "$hits"
}

# The number of the one line of FILE holding LINE (a fixed string); with
# AFTER (on exactly one line), the one among the WITHIN lines below it.
line_of() {
	local file=$1 after=$2 within=$3 pat=$4 from=0 n region
	region=$(cat "$file")
	if [ -n "$after" ]; then
		n=$(grep -cF -- "$after" "$file" || true)
		[ "$n" -eq 1 ] || { echo "'$after' matches $n lines of $file" >&2; return 1; }
		from=$(grep -nF -- "$after" "$file" | cut -d: -f1)
		region=$(tail -n +"$((from + 1))" "$file" | head -n "$within")
	fi
	n=$(printf '%s\n' "$region" | grep -cF -- "$pat" || true)
	[ "$n" -eq 1 ] || {
		echo "'$pat' matches $n lines of $file${after:+ in the $within below '$after'}" >&2
		return 1
	}
	echo $((from + $(printf '%s\n' "$region" | grep -nF -- "$pat" | cut -d: -f1)))
}

selected=("$@")
want() {
	[ ${#selected[@]} -eq 0 ] && return 0
	local s
	for s in "${selected[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}

# ---- the base copy: the tree as it is, built once ------------------------
all_suites=$(printf '%s\n' "${suites[@]}" | tr ' ' '\n' | sort -u | tr '\n' ' ')
# Suite `diff` is the differential fuzzer replaying its corpus against the
# copy's shim (the fuzzer itself does not depend on the shim: built once).
# The shim and the command are rebuilt for every mutant: suites run both.
targets() {
	local s
	echo build/libldmemo.so build/ldmemo
	for s in $1; do [ "$s" = diff ] || echo "build/tests/test_$s"; done
}
fuzz_diff=$root/build/fuzz/fuzz/fuzz_diff
base=$scratch/base
rm -rf "$scratch"
mkdir -p "$base"
git ls-files -z | xargs -0 cp --parents -p -t "$base"
# The normal build's objects, not the other trees kept under build/.
if [ -d build ]; then
	mkdir -p "$base/build"
	tar -C build --exclude=./mutate --exclude="./${scratch#build/}" --exclude=./fuzz \
		--exclude=./asan --exclude=./tsan --exclude=./san-logs -cf - . |
		tar -C "$base/build" -xf -
fi
echo "mutate: building the base copy"
if ! make -C "$base" -s -j"$jobs" $(targets "$all_suites") fixtures >"$scratch/base.log" 2>&1; then
	echo "mutate: the unmutated tree does not build; see $scratch/base.log" >&2
	tail -30 "$scratch/base.log" >&2
	exit 1
fi
run_suites() {
	local dir=$1 s
	for s in $2; do
		if [ "$s" = diff ]; then
			(cd "$dir" && DIFF_SHIM=$PWD/build/libldmemo.so timeout 120 "$fuzz_diff" \
				-runs=0 "$root/tests/fuzz/corpus/diff") || return 1
		else
			(cd "$dir" && PWD=$PWD timeout 120 "build/tests/test_$s" -j"$jobs") ||
				{ echo "mutate: suite $s failed (exit $?; 124 is the 120 s timeout)"; return 1; }
		fi
	done
}
case " $all_suites " in
*" diff "*) scripts/fuzz.sh --build ;;
esac
if ! run_suites "$base" "$all_suites" >"$scratch/base-tests.log" 2>&1; then
	echo "mutate: the unmutated suites fail; see $scratch/base-tests.log" >&2
	# CI keeps only the output: the failures and the summaries go with it.
	grep -E '^\[(FAIL|----)\]|Synthesis|^mutate: suite|Timed out|signal' "$scratch/base-tests.log" | head -60 >&2
	exit 1
fi

# ---- one mutant at a time -------------------------------------------------
killed=0 survived=0 broken=0 start=$(date +%s)
work=$scratch/work
for i in "${!names[@]}"; do
	name=${names[$i]}
	want "$name" || continue
	t0=$(date +%s)
	rm -rf "$work"
	cp -a "$base" "$work"
	if ! rel=$(locate "${files[$i]}" "${ins[$i]}" 2>&1) ||
		! n=$(line_of "$work/$rel" "${afters[$i]}" "${withins[$i]}" "${lines[$i]}" 2>&1); then
		echo "mutate: $name: DOES NOT APPLY: ${rel:-}${n:-}"
		broken=$((broken + 1))
		continue
	fi
	cp -p "$work/$rel" "$scratch/orig"
	sed -i "${n}${seds[$i]}" "$work/$rel"
	if cmp -s "$scratch/orig" "$work/$rel"; then
		echo "mutate: $name: DOES NOT APPLY: '${seds[$i]}' changes nothing on line $n of $rel"
		broken=$((broken + 1))
		continue
	fi
	log=$scratch/$name.log
	diff -u "$scratch/orig" "$work/$rel" >"$log" || true
	if ! make -C "$work" -s -j"$jobs" $(targets "${suites[$i]}") >>"$log" 2>&1; then
		verdict="DOES NOT BUILD (a mutant must compile)"
		broken=$((broken + 1))
	elif run_suites "$work" "${suites[$i]}" >>"$log" 2>&1; then
		verdict="SURVIVED"
		survived=$((survived + 1))
	else
		verdict=killed
		killed=$((killed + 1))
	fi
	printf 'mutate: %-32s %-24s %s (%ds)\n' "$name" "$rel:$n" "$verdict" $(($(date +%s) - t0))
done
rm -rf "$work"
echo "mutate: $killed killed, $survived survived, $broken did not apply or build ($(($(date +%s) - start)) s; logs in $scratch)"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
