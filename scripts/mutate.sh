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
list=tests/mutate/mutants.txt
scratch=${MUTATE_DIR:-build/mutate}
jobs=${MUTATE_JOBS:-2}

# ---- the list: blocks of "key: value" lines, a blank line between ----------
names=() files=() afters=() lines=() seds=() suites=()
parse() {
	local name='' file='' after='' line='' sed='' suite='' k v
	flush() {
		[ -z "$name" ] && return 0
		if [ -z "$file" ] || [ -z "$line" ] || [ -z "$sed" ] || [ -z "$suite" ]; then
			echo "mutate: $list: mutant '$name' lacks file, line, sed or suites" >&2
			exit 2
		fi
		names+=("$name") files+=("$file") afters+=("$after") lines+=("$line")
		seds+=("$sed") suites+=("$suite")
		name='' file='' after='' line='' sed='' suite=''
	}
	while IFS= read -r l || [ -n "$l" ]; do
		case "$l" in
		'#'*) continue ;;
		'') flush; continue ;;
		esac
		k=${l%%:*} v=${l#*: }
		case "$k" in
		name) name=$v ;; file) file=$v ;; after) after=$v ;; line) line=$v ;;
		sed) sed=$v ;; suites) suite=$v ;;
		*) echo "mutate: $list: unknown field '$k' in '$l'" >&2; exit 2 ;;
		esac
	done <"$list"
	flush
}
parse

# The one tracked file named BASE.
locate() {
	local hits
	hits=$(git ls-files | awk -F/ -v b="$1" '$NF == b')
	if [ "$(printf '%s\n' "$hits" | grep -c .)" -ne 1 ]; then
		echo "no single tracked file named $1: ${hits:-none}" >&2
		return 1
	fi
	printf '%s\n' "$hits"
}

# The number of the one line of FILE holding LINE (a fixed string), counted
# after the one line holding AFTER when given.
line_of() {
	local file=$1 after=$2 pat=$3 from=0 n
	if [ -n "$after" ]; then
		n=$(grep -cF -- "$after" "$file" || true)
		[ "$n" -eq 1 ] || { echo "'$after' matches $n lines of $file" >&2; return 1; }
		from=$(grep -nF -- "$after" "$file" | cut -d: -f1)
	fi
	n=$(tail -n +"$((from + 1))" "$file" | grep -cF -- "$pat" || true)
	[ "$n" -eq 1 ] || { echo "'$pat' matches $n lines of $file${after:+ after '$after'}" >&2; return 1; }
	echo $((from + $(tail -n +"$((from + 1))" "$file" | grep -nF -- "$pat" | cut -d: -f1)))
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
targets() { local s; echo build/libldmemo.so; for s in $1; do echo "build/tests/test_$s"; done; }
base=$scratch/base
rm -rf "$scratch"
mkdir -p "$base"
git ls-files -z | xargs -0 cp --parents -p -t "$base"
[ -d build ] && cp -a build "$base/"
echo "mutate: building the base copy"
if ! make -C "$base" -s -j"$jobs" $(targets "$all_suites") fixtures >"$scratch/base.log" 2>&1; then
	echo "mutate: the unmutated tree does not build; see $scratch/base.log" >&2
	exit 1
fi
run_suites() {
	local dir=$1 s
	for s in $2; do
		(cd "$dir" && PWD=$PWD timeout 120 "build/tests/test_$s" -j"$jobs") || return 1
	done
}
if ! run_suites "$base" "$all_suites" >"$scratch/base-tests.log" 2>&1; then
	echo "mutate: the unmutated suites fail; see $scratch/base-tests.log" >&2
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
	if ! rel=$(cd "$work" && locate "${files[$i]}" 2>&1) ||
		! n=$(line_of "$work/$rel" "${afters[$i]}" "${lines[$i]}" 2>&1); then
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
