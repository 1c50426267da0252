#!/usr/bin/env bash
# make bench: builds the benchmark programs of bench/ into build/bench/,
# runs them, prints a report and writes it to bench/RESULTS.md. Benchmarks
# never fail the build: they print what they measured.
#
# Every figure is the median of RUNS runs (min-max beside it); when two
# configurations are compared they run alternately (A B A B ...) in
# separate processes and the ratio is taken within each round, so that a
# noisy machine slows both alike.
#
# Environment: BENCH_RUNS (default 5), BENCH_SWEEP_RUNS (default 3),
# LDMEMO_SO and LDMEMO_BIN (default build/libldmemo.so and build/ldmemo),
# BENCH_QUICK=1 (fewer calls, for a smoke test; not for the results file).
# `scripts/bench.sh sweep` runs the working-set sweep alone (bench/SWEEP.md),
# `scripts/bench.sh nss` the struct results against nscd (bench/NSS.md).
set -uo pipefail
mode=${1:-all}

root=$(cd "$(dirname "$0")/.." && pwd)
B=$root/build/bench
SO=${LDMEMO_SO:-$root/build/libldmemo.so}
LDMEMO=${LDMEMO_BIN:-$root/build/ldmemo}
RUNS=${BENCH_RUNS:-5}
# The hit path runs more rounds: in a few processes in ten the memory
# layout (4K aliasing between stack and table, most likely) costs a fast
# hit 1 to 2 ns, and five rounds can catch three of them.
HIT_RUNS=$((RUNS * 2 - 1))
CALLS=10000000
FILL=1000000
TRACE=1000000
[ "${BENCH_QUICK:-0}" = 1 ] && { CALLS=1000000; FILL=100000; TRACE=100000; }
CC=${CC:-gcc}
CF="-O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE"
report=$(mktemp)
trap 'rm -f "$report"; rm -rf "$B/tmp"' EXIT
mkdir -p "$B/tmp"
T=$B/tmp

say() { printf '%s\n' "$*" | tee -a "$report"; }
die() { echo "bench: $*" >&2; exit 1; }

# ---- helpers -----------------------------------------------------------------

# med VALUES...: "median (min-max)"; the median of an even count is the
# mean of the middle two.
med() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "n/a"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s (%s-%s)", fmt(m), fmt(v[1]), fmt(v[NR]) }
	function fmt(x) { return (x >= 100 || x <= -100) ? sprintf("%.0f", x) : sprintf("%.3g", x) }'
}
# median VALUES...: the median alone.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
# field NAME LINE: the value of NAME=... in a line of key=value pairs.
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | cut -d, -f1; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.3f", a / b }'; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
# now_ms: wall clock in milliseconds (bash 5's EPOCHREALTIME).
now_ms() { awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t * 1000 }'; }

shim() { env LD_PRELOAD="$SO" LDMEMO_LOG=error "$@"; }

# ---- build -------------------------------------------------------------------

build() {
	set -e
	mkdir -p "$B"
	$CC $CF -fPIC -shared -o "$B/libbenchfn.so" "$root/bench/benchfn.c"
	$CC $CF -fPIC -shared -o "$B/libwrap_direct.so" "$root/bench/wrap_direct.c" -ldl
	$CC $CF -fPIC -shared -o "$B/libwrap_uthash.so" "$root/bench/wrap_uthash.c" -ldl -lpthread
	local rp='-Wl,-rpath,$ORIGIN'
	$CC $CF -o "$B/hit" "$root/bench/hit.c" -L"$B" -lbenchfn "$rp" -lpthread
	$CC $CF -o "$B/evict" "$root/bench/evict.c" -L"$B" -lbenchfn "$rp" -lm
	$CC $CF -o "$B/fill" "$root/bench/fill.c" -L"$B" -lbenchfn "$rp"
	$CC $CF -o "$B/startup" "$root/bench/startup.c"
	$CC $CF -o "$B/nss" "$root/bench/nss.c" -L"$B" -lbenchfn "$rp"
	# The large programs take a while to compile: only when missing or
	# when the generator changed. Two halves build in parallel.
	local n
	[ "$mode" != all ] && { set +e; return 0; }
	for n in 12500 50000 200000; do
		if [ ! -x "$B/many$n" ] || [ "$root/bench/genmany.sh" -nt "$B/many$n" ]; then
			echo "bench: compiling a program with $n functions..." >&2
			"$root/bench/genmany.sh" "$n" >"$B/many$n.c"
			$CC -O0 -DPART=0 -c -o "$B/many$n-0.o" "$B/many$n.c" &
			$CC -O0 -DPART=1 -c -o "$B/many$n-1.o" "$B/many$n.c"
			wait
			$CC -o "$B/many$n" "$B/many$n-0.o" "$B/many$n-1.o"
			rm -f "$B/many$n-0.o" "$B/many$n-1.o"
		fi
	done
	set +e
}
build || die "building the benchmark programs failed"
[ -f "$SO" ] && [ -x "$LDMEMO" ] || die "$SO or $LDMEMO is missing: run make all"
# Measure private copies: a rebuild of build/ during the run must not
# change the binaries under test. The command finds the shim beside it.
cp "$SO" "$T/libldmemo.so" && cp "$LDMEMO" "$T/ldmemo" || die "cannot copy the shim"
shim_src=$SO
SO=$T/libldmemo.so LDMEMO=$T/ldmemo

# ---- 9. ldmemo profile on real programs (its own function: `scripts/bench.sh
# profile` runs it alone and prints it, without writing bench/RESULTS.md) ------

# prof_row LABEL PROGRAM...: plain, under `ldmemo profile`, and with the
# config the profile wrote, alternating; the sections it recommended.
prof_row() {
	local label=$1
	shift
	local pl=() pr=() ov=() lm=() sp=() same=identical t0 t1 t2 t3 secs
	for ((r = 0; r < RUNS; r++)); do
		t0=$(now_ms)
		"$@" >"$T/plain.out" 2>/dev/null
		t1=$(now_ms)
		"$LDMEMO" profile -o "$T/prof.conf" -- "$@" >"$T/prof.out" 2>/dev/null
		t2=$(now_ms)
		LDMEMO_LOG=error "$LDMEMO" -c "$T/prof.conf" -- "$@" >"$T/memo.out" 2>/dev/null
		t3=$(now_ms)
		cmp -s "$T/plain.out" "$T/prof.out" || same=DIFFERENT
		cmp -s "$T/plain.out" "$T/memo.out" || same=DIFFERENT
		pl+=("$(sub "$t1" "$t0")") pr+=("$(sub "$t2" "$t1")") lm+=("$(sub "$t3" "$t2")")
		ov+=("$(div "$(sub "$t2" "$t1")" "$(sub "$t1" "$t0")")")
		sp+=("$(div "$(sub "$t1" "$t0")" "$(sub "$t3" "$t2")")")
	done
	secs=$(sed -n 's/^\[cache \(.*\)\]$/\1/p' "$T/prof.conf" | tr '\n' ' ')
	say "| $label | $(med "${pl[@]}") | $(med "${pr[@]}") | $(med "${ov[@]}")x | ${secs:-none} | $(med "${lm[@]}") | $(med "${sp[@]}")x | $same |"
}

# adapt_row LABEL CONFIG PROGRAM...: plain against CONFIG, alternating;
# speed = plain / with CONFIG (above 1: faster).
adapt_row() {
	local label=$1 conf=$2
	shift 2
	local pl=() lm=() sp=() same=identical t0 t1 t2
	for ((r = 0; r < RUNS; r++)); do
		t0=$(now_ms)
		"$@" >"$T/plain.out" 2>/dev/null
		t1=$(now_ms)
		LDMEMO_LOG=error "$LDMEMO" -c "$conf" -- "$@" >"$T/memo.out" 2>/dev/null
		t2=$(now_ms)
		cmp -s "$T/plain.out" "$T/memo.out" || same=DIFFERENT
		pl+=("$(sub "$t1" "$t0")") lm+=("$(sub "$t2" "$t1")")
		sp+=("$(div "$(sub "$t1" "$t0")" "$(sub "$t2" "$t1")")")
	done
	say "| $label | $(med "${pl[@]}") | $(med "${lm[@]}") | $(med "${sp[@]}")x | $same |"
}

bench_profile() {
	export LDMEMO_KNOWN_DIR=$root/config/known
	say "## 9. ldmemo profile on real programs"
	say ""
	say "Each program plain, under \`ldmemo profile -o FILE\` and with the FILE that profile wrote, run as written; alternating, wall ms of the whole process. Overhead = profile / plain, speed-up = plain / with FILE, per round. Output: the program's output plain, under profile and with FILE compared byte for byte."
	say ""
	say "| program | plain ms | profile ms | profile overhead | sections written | with FILE ms | speed-up | output |"
	say "|---|---|---|---|---|---|---|---|"
	local crypt='my $s = q($y$j9T$F5Jx5fExrKuJdvnkXuDyx1$); my $n = 0;
for my $i (1 .. 40) { my $h = crypt("secret" . ($i % 4), $s); $n++ if $h eq crypt("secret1", $s) && $i % 4 == 1; print "$i $h\n"; }
print "$n\n";'
	prof_row "perl crypt(), 80 calls, 4 passwords, yescrypt" perl -e "$crypt"
	if [ "$(id -u)" = 0 ]; then
		rm -rf "$T/ftree" && mkdir -p "$T/ftree"
		(cd "$T/ftree" && seq 1 3000 | xargs touch) && chown -R 54321:54321 "$T/ftree"
		prof_row "find -printf '%u %g', 3,000 files of uid 54321 (not in /etc/passwd)" find "$T/ftree" -printf '%u %g\n'
	else
		say "| find -printf '%u %g' | needs root to give files an unknown owner: skipped | | | | | | |"
	fi
	[ -f "$T/access.log" ] ||
		awk 'BEGIN { t = 1700000000; for (i = 0; i < 300000; i++) { if (i % 50 == 0) t += i % 7; printf "%d GET /item/%d 200\n", t, i % 977 } }' >"$T/access.log"
	prof_row "gawk strftime(), 300,000 lines" gawk '{ print strftime("%Y-%m-%d %H:%M:%S", $1), $2, $3 }' "$T/access.log"
	local math='BEGIN { for (i = 0; i < 1000000; i++) s += log(i % 1000 + 1) + exp((i % 500) / 100); printf "%.6f\n", s }'
	prof_row "gawk log()/exp(), 1,000,000 iterations" gawk "$math"
	say ""
	say "The math script with a config that names log and exp anyway (adaptive = on, the default, against off): speed = plain / with the config."
	say ""
	printf '[cache log]\nsignature = f64 log(f64 x)\nttl = never\n\n[cache exp]\nsignature = f64 exp(f64 x)\nttl = never\n' >"$T/logexp.conf"
	{ printf '[global]\nadaptive = off\n\n'; cat "$T/logexp.conf"; } >"$T/logexp-off.conf"
	say "| configuration | plain ms | with config ms | speed | output |"
	say "|---|---|---|---|---|"
	adapt_row "log, exp; adaptive = on" "$T/logexp.conf" gawk "$math"
	adapt_row "log, exp; adaptive = off" "$T/logexp-off.conf" gawk "$math"
	say ""
}
if [ "${1:-}" = profile ]; then
	bench_profile
	exit 0
fi

# ---- header ------------------------------------------------------------------

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
say "# ldmemo benchmarks"
say ""
say "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
say "- machine: $(nproc) CPUs, $cpu, $(uname -r)"
say "- commit: $commit$dirty; shim measured: $shim_src"
say "- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "- method: each figure is the median of $RUNS runs, (min-max) beside it; compared configurations run alternately in separate processes and ratios are taken within each round."
say ""

# ---- working-set sweep (issue 18) ----------------------------------------------
# Every hit shape at 64 to 1,000,000 hot keys, against the two anchors in
# the same round; `scripts/bench.sh sweep` runs this section alone. Writes
# bench/sweep.png (gnuplot) and, in $T/losses, the goals ldmemo misses,
# which go to the top of the results file.

SWEEP_KEYS=(64 256 1000 10000 100000 1000000)
SWEEP_RUNS=${BENCH_SWEEP_RUNS:-3}
SWEEP_CALLS=4000000
[ "${BENCH_QUICK:-0}" = 1 ] && SWEEP_CALLS=400000

# sweep_ns SYSTEM FN NKEYS: ns per hit of one run.
# Every system of the sweep runs on one CPU (SWEEP_CPU, default 0): on a
# VM whose vCPUs run at different speeds (here one was 1.6x slower than
# the other, by turns, for a plain call too), a ratio of two runs on
# different vCPUs measured the host.
# (taskset runs under the preload too; it calls none of the functions.)
sweep_ns() {
	local run=("$B/hit" "$2" $SWEEP_CALLS "$3" 1 shared)
	command -v taskset >/dev/null && run=(taskset -c "${SWEEP_CPU:-0}" "${run[@]}")
	case $1 in
	if-memo) field ns_per_call "$(env LD_PRELOAD="$B/libwrap_direct.so" "${run[@]}")" ;;
	uthash) field ns_per_call "$(env LD_PRELOAD="$B/libwrap_uthash.so" "${run[@]}")" ;;
	ldmemo) field ns_per_call "$(shim LDMEMO_CONFIG="$root/bench/sweep.conf" "${run[@]}")" ;;
	ldmemo-5m) field ns_per_call "$(shim LDMEMO_CONFIG="$root/bench/sweep-ttl.conf" "${run[@]}")" ;;
	esac
}

# sweep_lose TEXT: one goal missed.
sweep_lose() { printf -- '- %s\n' "$*" >>"$T/losses"; }
# sweep_check WHAT VALUE OP LIMIT: record a loss unless VALUE OP LIMIT.
sweep_check() {
	awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !((op == "<=") ? v <= l : v >= l) }' ||
		sweep_lose "$1: $2 (goal $3 $4)"
}

sweep_section() {
	: >"$T/losses"
	say "## Working-set sweep"
	say ""
	say "ns per hit, medians of $SWEEP_RUNS rounds, $SWEEP_CALLS calls cycling over the hot keys, 1 thread (every key called three times before: the fast table grows for keys that come back), every run on CPU ${SWEEP_CPU:-0} (taskset). if-memo and uthash+mutex are the wrappers of section 1; ldmemo runs bench/sweep.conf (ttl = never, room for 2,000,000 entries), ldmemo 5m bench/sweep-ttl.conf (the default ttl). h's strings are 16 to 64 bytes. Ratios are taken within each round. Goals (issue 18): 1,000 and 10,000 keys of f and g at most 3x if-memo and at most half of uthash; 100,000 keys at most 2/3 of uthash, 1,000,000 no more than uthash; h and u at most half of uthash at 64, 1,000 and 10,000 keys; the default ttl at most 1.5x ttl = never."
	say ""
	say "| function | hot keys | if-memo | uthash+mutex | ldmemo | ldmemo 5m | ldmemo / if-memo | ldmemo / uthash | 5m / never |"
	say "|---|---|---|---|---|---|---|---|---|"
	local fn n r a b c d rd ru rt sig
	: >"$T/sweep.dat"
	for fn in f g h u; do
		case $fn in
		f) sig='long f(long)' ;;
		g) sig='double g(double)' ;;
		h) sig='long h(const char *)' ;;
		u) sig='int u(long, out[64])' ;;
		esac
		for n in "${SWEEP_KEYS[@]}"; do
			local D=() U=() L=() M=() RD=() RU=() RT=()
			for ((r = 0; r < SWEEP_RUNS; r++)); do
				a=$(sweep_ns if-memo $fn $n)
				b=$(sweep_ns uthash $fn $n)
				c=$(sweep_ns ldmemo $fn $n)
				d=$(sweep_ns ldmemo-5m $fn $n)
				D+=("$a") U+=("$b") L+=("$c") M+=("$d")
				RD+=("$(div "$c" "$a")") RU+=("$(div "$c" "$b")") RT+=("$(div "$d" "$c")")
			done
			say "| \`$sig\` | $n | $(med "${D[@]}") | $(med "${U[@]}") | $(med "${L[@]}") | $(med "${M[@]}") | $(med "${RD[@]}") | $(med "${RU[@]}") | $(med "${RT[@]}") |"
			echo "$fn $n $(median "${D[@]}") $(median "${U[@]}") $(median "${L[@]}") $(median "${M[@]}")" >>"$T/sweep.dat"
			rd=$(median "${RD[@]}") ru=$(median "${RU[@]}") rt=$(median "${RT[@]}")
			case $fn:$n in
			[fg]:1000 | [fg]:10000)
				sweep_check "\`$sig\`, $n keys, ldmemo / if-memo" "$rd" "<=" 3
				sweep_check "\`$sig\`, $n keys, ldmemo / uthash" "$ru" "<=" 0.5 ;;
			[fg]:100000) sweep_check "\`$sig\`, $n keys, ldmemo / uthash" "$ru" "<=" 0.667 ;;
			[fg]:1000000) sweep_check "\`$sig\`, $n keys, ldmemo / uthash" "$ru" "<=" 1 ;;
			[hu]:64 | [hu]:1000 | [hu]:10000)
				sweep_check "\`$sig\`, $n keys, ldmemo / uthash" "$ru" "<=" 0.5 ;;
			esac
			sweep_check "\`$sig\`, $n keys, ttl 5m / never" "$rt" "<=" 1.5
		done
	done
	say ""

	# Two threads on the same 10,000 keys against one.
	local one=() two=() sc=()
	for ((r = 0; r < SWEEP_RUNS; r++)); do
		a=$(field mcalls_per_s "$(shim LDMEMO_CONFIG="$root/bench/sweep.conf" "$B/hit" f $SWEEP_CALLS 10000 1 shared)")
		b=$(field mcalls_per_s "$(shim LDMEMO_CONFIG="$root/bench/sweep.conf" "$B/hit" f $SWEEP_CALLS 10000 2 shared)")
		one+=("$a") two+=("$b") sc+=("$(div "$b" "$a")")
	done
	say "Two threads hitting the same 10,000 keys of \`long f(long)\` (million hits per second, all threads; goal: scaling >= 1.9 on a machine with two idle cores):"
	say ""
	say "| 1 thread | 2 threads, shared keys | scaling |"
	say "|---|---|---|"
	say "| $(med "${one[@]}") | $(med "${two[@]}") | $(med "${sc[@]}") |"
	say ""
	sweep_check "2 threads on 10,000 shared keys, scaling" "$(median "${sc[@]}")" ">=" 1.9

	# Misses: ttl = 0 (nothing stored) over 64 keys, and misses that store
	# (bench/fill.c, every call a new key), each minus the plain call. A
	# store of a million new keys is mostly memory: first touches of pages
	# and cache misses, which uthash+mutex's fill, in the same round, pays
	# too.
	local z=() zs=() st=() sts=() ut=() uts=()
	for ((r = 0; r < SWEEP_RUNS; r++)); do
		a=$(field ns_per_call "$("$B/hit" f $SWEEP_CALLS 64 1 shared)")
		b=$(field ns_per_call "$(shim LDMEMO_CONFIG="$root/bench/miss.conf" "$B/hit" f $SWEEP_CALLS 64 1 shared)")
		z+=("$b") zs+=("$(sub "$b" "$a")")
		c=$(field ns_per_call "$("$B/fill" $FILL)")
		d=$(field ns_per_call "$(shim LDMEMO_CONFIG="$root/bench/mem.conf" "$B/fill" $FILL)")
		e=$(field ns_per_call "$(env LD_PRELOAD="$B/libwrap_uthash.so" "$B/fill" $FILL)")
		st+=("$d") sts+=("$(sub "$d" "$c")") ut+=("$e") uts+=("$(sub "$e" "$c")")
	done
	say "Misses of \`long f(long)\`, ns added to the plain call (goals: at most 50 with ttl = 0, at most 150 for a miss that stores):"
	say ""
	say "| miss | ns per call | ns added |"
	say "|---|---|---|"
	say "| ttl = 0, nothing stored (bench/miss.conf) | $(med "${z[@]}") | $(med "${zs[@]}") |"
	say "| stores a new key ($FILL keys, bench/mem.conf) | $(med "${st[@]}") | $(med "${sts[@]}") |"
	say "| uthash+mutex, stores a new key ($FILL keys) | $(med "${ut[@]}") | $(med "${uts[@]}") |"
	say ""
	sweep_check "miss at ttl = 0, ns added" "$(median "${zs[@]}")" "<=" 50
	sweep_check "miss that stores, ns added" "$(median "${sts[@]}")" "<=" 150

	if command -v gnuplot >/dev/null; then
		sweep_plot && say "Plot: bench/sweep.png (ns per hit against hot keys, log-log, one panel per function)." && say ""
	else
		say "gnuplot is not installed (make deps): no plot." && say ""
	fi
}

# sweep_plot: bench/sweep.png from $T/sweep.dat.
sweep_plot() {
	local fn
	for fn in f g h u; do awk -v f=$fn '$1 == f' "$T/sweep.dat" >"$T/sweep-$fn.dat"; done
	gnuplot <<-PLOT
		set terminal pngcairo size 1200,900 noenhanced
		set output "$root/bench/sweep.png"
		set multiplot layout 2,2 title "ns per hit against hot keys ($commit)"
		set logscale xy
		set xlabel "hot keys"
		set ylabel "ns per hit"
		set key top left
		set grid
		do for [fn in "f g h u"] {
			set title fn eq "f" ? "long f(long)" : fn eq "g" ? "double g(double)" : fn eq "h" ? "long h(const char *), 16-64 B" : "int u(long, out[64])"
			file = sprintf("$T/sweep-%s.dat", fn)
			plot file using 2:3 with linespoints title "if-memo", \
			     file using 2:4 with linespoints title "uthash+mutex", \
			     file using 2:5 with linespoints title "ldmemo", \
			     file using 2:6 with linespoints title "ldmemo, ttl 5m"
		}
		unset multiplot
	PLOT
}

# sweep_summary: the losses, for the top of the results file.
sweep_summary() {
	if [ -s "$T/losses" ]; then
		echo "**Where ldmemo loses** (working-set sweep, goals of issue 18):"
		echo ""
		cat "$T/losses"
	else
		echo "**Where ldmemo loses**: nowhere in the working-set sweep (every goal of issue 18 met in this run)."
	fi
	echo ""
}

# ---- 11. Config parsing by section count (issue 16) ---------------------------
# config_section: lm_config_parse on 16k, 32k and 200k sections
# (bench/config_parse.c), and /bin/true under the shim with a 16k-section
# config of the same mix (a quarter [type], half [cache], a quarter
# [invalidate]), none of whose functions exist.
config_section() {
	say "## 11. Config parsing by section count"
	say ""
	$CC $CF -I"$root" -o "$B/config_parse" "$root/bench/config_parse.c" \
		"$root/build/libconfig.a" || { say "building bench/config_parse.c failed: skipped."; return; }
	local ns=(16000 32000 200000) n r out t0 t1
	[ "${BENCH_QUICK:-0}" = 1 ] && ns=(16000 32000)
	say "| sections | parse, s | /bin/true under the shim, s |"
	say "|---|---|---|"
	for n in "${ns[@]}"; do
		local parse=() run=()
		awk -v n="$n" 'BEGIN { q = int(n / 4)
			for (i = 0; i < n; i++) { j = i % q
				if (i < q) printf "[type t_%d]\nfields = i32 a, i64 b\n\n", j
				else if (i < 3 * q) printf "[cache f_%d]\nsignature = static t_%d *f_%d(i32 x)\n\n", i, j, i
				else printf "[invalidate g_%d]\nsignature = void g_%d(i32 x)\ndrop = f_%d(x)\n\n", i, i, q + j } }' \
			>"$T/sections.conf"
		for ((r = 0; r < RUNS; r++)); do
			out=$("$B/config_parse" "$n") && parse+=("$(field seconds "$out")")
			if [ "$n" = 16000 ]; then
				t0=$(now_ms)
				env LD_PRELOAD="$SO" LDMEMO_CONFIG="$T/sections.conf" LDMEMO_LOG=quiet /bin/true
				t1=$(now_ms)
				run+=("$(div "$(sub "$t1" "$t0")" 1000)")
			fi
		done
		say "| $n | $(med "${parse[@]}") | $([ "$n" = 16000 ] && med "${run[@]}" || echo -) |"
	done
	say ""
	say "Medians of $RUNS runs (min-max). Before issue 16 the parse was quadratic (16k: 0.42 s, 32k: 2.1 s, 200k: over 20 s) and /bin/true with 16k sections took 128 s."
	say ""
}

# ---- 10. Host tier (issue 22) ----------------------------------------------------
# host_section: the host-wide tier (spec 11) against its anchors, in one
# run: a hit at the table (bench/host_get.c) and through the shim, nscd's
# shared-memory getpwnam hit (bench/nscd.sh), a Redis L2 hit through the
# shim, the function itself, and a loop of 1,000 short processes
# (bench/oneshot.c) with no cache, the host tier and Redis.
host_conf() { # FILE EXTRA-GLOBAL-LINES...
	local f=$1
	shift
	{
		printf '[global]\nttl = never\n'
		printf '%s\n' "$@"
		printf '[cache f]\nsignature = long f(long x)\n'
	} >"$f"
}
loop_field() { # OUTPUT MODE FIELD: a field of one mode's line of oneshot_loop
	printf '%s\n' "$1" | awk -v k="$2" -v f="$3=" '$1 == k { for (i = 2; i <= NF; i++) if (index($i, f) == 1) print substr($i, length(f) + 1) }'
}
host_section() {
	say "## 10. Host tier (shared = host)"
	say ""
	$CC $CF -I"$root" -o "$B/host_get" "$root/bench/host_get.c" "$root/build/libshim.a" \
		-lxxhash || { say "building bench/host_get.c failed: skipped."; return; }
	$CC $CF -o "$B/oneshot" "$root/bench/oneshot.c" || return
	$CC $CF -o "$B/oneshot_loop" "$root/bench/oneshot_loop.c" || return
	local ns="lmbench-hit-$$" hcalls=2000000 nproc=1000 port= rpid= i r
	[ "${BENCH_QUICK:-0}" = 1 ] && { hcalls=200000 nproc=100; }
	rm -f "/dev/shm/ldmemo-$(id -u)-$ns-l1" "/dev/shm/ldmemo-$(id -u)-lmbench-oneshot"
	# adaptive off: f is cheap enough that the bypass would step aside
	host_conf "$T/l1.conf" "adaptive = off"
	host_conf "$T/l1-host.conf" "adaptive = off" "shared = host" "namespace = $ns-l1"
	# the backend is a plugin beside the shim: beside its private copy too
	[ -f "$(dirname "$SO")/libldmemo-redis.so" ] ||
		cp "$(dirname "$shim_src")/libldmemo-redis.so" "$(dirname "$SO")/" 2>/dev/null
	if command -v redis-server >/dev/null; then
		port=$((20000 + RANDOM % 20000))
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
			--daemonize no >/dev/null & rpid=$!
		for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
		sed -e "s|^\[cache slow\]|backend = redis://127.0.0.1:$port\nl1_ttl = 1h\n[cache slow]|" \
			-e '/^shared = host/d' "$root/bench/oneshot.conf" >"$T/oneshot-redis.conf"
	fi
	# 1. per call
	local tab=() plain=() l1=() l1h=() pw=() lr=() opn=()
	for ((r = 0; r < RUNS; r++)); do
		out=$("$B/host_get" "$T" "$hcalls") || break
		tab+=("$(field f_ns "$out")") pw+=("$(field pw_ns "$out")") opn+=("$(field open_us "$out")")
		plain+=("$(field ns_per_call "$("$B/hit" f "$hcalls" 64 1 shared)")")
	done
	# An L1 hit, off and on alternating, 10x the calls and 3x the rounds: a
	# few ms per run were the machine's noise, not the tier's (issue 22).
	for ((r = 0; r < 3 * RUNS; r++)); do
		a=$(field ns_per_call "$(shim LDMEMO_CONFIG="$T/l1.conf" "$B/hit" f $((10 * hcalls)) 64 1 shared)")
		b=$(field ns_per_call "$(shim LDMEMO_CONFIG="$T/l1-host.conf" "$B/hit" f $((10 * hcalls)) 64 1 shared)")
		l1+=("$a") l1h+=("$b") lr+=("$(div "$b" "$a")")
	done
	rm -f "/dev/shm/ldmemo-$(id -u)-$ns-l1" # the shim's, in its own place
	rm -f "$T"/ldmemo-*
	local nscd_pw=()
	if command -v nscd >/dev/null || [ -x /usr/sbin/nscd ]; then
		mapfile -t nscd_pw < <(unshare -m --propagation private "$root/bench/nscd.sh" "$B/nss" "$SO" \
			"$root/bench/nss.conf" 3 "$hcalls" 10000 2>/dev/null |
			awk '$1 == "pwnam" && $2 == "nscd" { print $3 }')
	fi
	local nscd_med=n/a pw_ratio=n/a
	if [ ${#nscd_pw[@]} -gt 0 ]; then
		nscd_med=$(med "${nscd_pw[@]}")
		pw_ratio=$(div "$(median "${pw[@]}")" "$(median "${nscd_pw[@]}")")
	fi
	say "ns per call, medians of $RUNS runs (min-max). Table: lm_host_get alone (bench/host_get.c, 64 keys cycled; f's shape: an 8-byte key and a 16-byte value; getpwnam's: a 5-byte name and a 120-byte passwd copy). The function itself: bench/hit.c calling \`long f(long)\` over 64 keys with no shim. (A Redis L2 hit per call is in section 8's anchor, memcached, and in the process loop below: about 60 µs a round trip on this machine, issue 22.) nscd: getpwnam(\"root\") against a running nscd's shared memory (bench/nscd.sh, medians of 3 rounds). Goals: a host-tier hit <= 250 ns for f, <= 2x nscd's hit for getpwnam."
	say ""
	say "| | ns per call |"
	say "|---|---|"
	say "| host tier at the table, f's shape | $(med "${tab[@]}") |"
	say "| host tier at the table, getpwnam's shape | $(med "${pw[@]}") |"
	say "| nscd, getpwnam hit | $nscd_med |"
	say "| host tier (getpwnam's shape) / nscd (goal <= 2) | $pw_ratio |"
	say "| the function itself (f), no shim | $(med "${plain[@]}") |"
	say ""
	say "An L1 hit with the host tier on (\`long f(long)\`, 64 keys, the fast thunk; $((10 * hcalls)) calls a run, off and on alternating, medians of $((3 * RUNS)) pairs): $(med "${l1h[@]}") ns against $(med "${l1[@]}") ns with it off; ratio on / off $(med "${lr[@]}") (goal: not slower). Both take the same instructions per hit (callgrind: 60.6 a call of the loop, on and off); the thunk's one difference is where the copy epoch it loads lives (the mapping's header, one line no hit writes)."
	say ""
	# 2. a loop of short processes, timed by a C driver (bench/oneshot_loop.c),
	# the modes alternating process by process. The -n modes call nothing:
	# a process alone, with the shim's start-up, with slow() hooked, and with
	# the host tier opened as well; their differences are the breakdown.
	printf '[global]\n' >"$T/empty.conf"
	sed -e '/^shared = host/d' "$root/bench/oneshot.conf" >"$T/oneshot-l1.conf"
	local modes=("none:-:7" "host:$root/bench/oneshot.conf:7")
	[ -n "$port" ] && modes+=("redis:$T/oneshot-redis.conf:7")
	modes+=("spawn:-:-n" "startup:$T/empty.conf:-n" "hooked:$T/oneshot-l1.conf:-n"
		"opened:$root/bench/oneshot.conf:-n")
	local -A tot=() per=()
	local q1=() q2=() k out
	for ((r = 0; r < RUNS; r++)); do
		rm -f "/dev/shm/ldmemo-$(id -u)-lmbench-oneshot"
		[ -n "$port" ] && redis-cli -p "$port" flushall >/dev/null 2>&1
		out=$("$B/oneshot_loop" "$nproc" "$SO" "$B/oneshot" "${modes[@]}") || break
		for k in none host redis spawn startup hooked opened; do
			tot[$k]+="$(loop_field "$out" "$k" total_ms) "
			per[$k]+="$(loop_field "$out" "$k" median_us) "
		done
		q1+=("$(div "$(loop_field "$out" none total_ms)" "$(loop_field "$out" host total_ms)")")
		[ -n "$port" ] && q2+=("$(div "$(loop_field "$out" redis total_ms)" "$(loop_field "$out" host total_ms)")")
	done
	rm -f "/dev/shm/ldmemo-$(id -u)-lmbench-oneshot"
	[ -n "$rpid" ] && { kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; }
	# shellcheck disable=SC2086
	mt() { med ${tot[$1]}; }
	# shellcheck disable=SC2086
	mp() { med ${per[$1]}; }
	say "A loop of $nproc short processes: bench/oneshot.c calls \`long slow(long)\` once with the same argument and exits; slow() is about 40 ms of arithmetic, what a password hash (yescrypt, bcrypt at cost 10) or a database query costs, the kind of call worth keeping across processes. A C driver (bench/oneshot_loop.c) spawns each process with posix_spawn and reaps it, timing it from spawn to exit, the modes alternating process by process; ms in total, medians of $RUNS runs (min-max). Every run starts with an empty host tier and an empty Redis, so the first process fills them. Goals: host tier >= 5x faster than no cache, >= 3x faster than Redis."
	say ""
	say "| no cache | host tier | Redis (L2) | no cache / host tier (goal >= 5) | Redis / host tier (goal >= 3) |"
	say "|---|---|---|---|---|"
	say "| $(mt none) | $(mt host) | $( [ -n "$port" ] && mt redis || echo n/a) | $(med "${q1[@]}") | $( [ -n "$port" ] && med "${q2[@]}" || echo n/a) |"
	say ""
	say "Per process, µs, the median process of each run (medians of $RUNS runs): the -n rows call nothing, so their differences are what each layer costs a process."
	say ""
	say "| process | µs |"
	say "|---|---|"
	say "| spawn and exit alone (oneshot -n, no shim) | $(mp spawn) |"
	say "| + the shim's start-up, empty config | $(mp startup) |"
	say "| + slow() hooked (L1 only) | $(mp hooked) |"
	say "| + the host tier opened | $(mp opened) |"
	say "| a host-tier hit: the whole process (oneshot 7) | $(mp host) |"
	say "| Redis hit: the whole process | $( [ -n "$port" ] && mp redis || echo n/a) |"
	say "| no cache: the whole process, slow() run | $(mp none) |"
	say "| at the table: open a 64 MiB mapping, its checks and the first hit (bench/host_get.c, open_us) | $(med "${opn[@]}") |"
	say ""
}

# ---- 1b. struct results against nscd -----------------------------------------

# nscd_section: getpwnam, getpwuid, getgrgid and an unknown name through
# glibc's files backend, a running nscd and ldmemo (bench/nss.c,
# bench/nss.conf); bench/nscd.sh runs them in a private mount namespace.
nscd_section() {
	say "## 1b. Struct results: against nscd"
	say ""
	local calls=$((CALLS / 5)) fcalls=20000
	say "ns per call, $calls calls of one key in a loop, timed inside the driver (bench/nss.c; every cache filled before). files: glibc's files backend (a private /etc/nsswitch.conf saying \`files\`); nscd: the same process with an nscd running (started by bench/nscd.sh in a private mount namespace, shared-memory lookups, stopped by its PID afterwards); ldmemo: the shim with bench/nss.conf (\`static passwd* getpwnam(str name)\`, \`when = ret != NULL\`, negative_ttl = never) in front of that nscd. nscd and ldmemo alternate, medians of $RUNS rounds, ratio within each round; files and \`ldmemo, no nscd\` (the shim over the files backend) one run each ($fcalls calls for files). Goal: ldmemo / nscd <= 0.5."
	say ""
	if ! command -v nscd >/dev/null && [ ! -x /usr/sbin/nscd ]; then
		say "nscd is not installed (make deps): skipped."
		say ""
		return
	fi
	local out
	if ! out=$(unshare -m --propagation private "$root/bench/nscd.sh" "$B/nss" "$SO" \
		"$root/bench/nss.conf" "$RUNS" "$calls" "$fcalls" 2>&1); then
		say "could not run (a private mount namespace needs root): $(printf '%s' "$out" | tail -1)"
		say ""
		return
	fi
	say "| call | files | nscd | ldmemo | ldmemo / nscd (goal <= 0.5) | ldmemo, no nscd |"
	say "|---|---|---|---|---|---|"
	local k label fl nc lm ratios lf
	for k in pwnam pwuid grgid unknown; do
		case $k in
		pwnam) label='getpwnam("root")' ;;
		pwuid) label='getpwuid(0)' ;;
		grgid) label='getgrgid(0)' ;;
		unknown) label='getpwnam of an unknown name (NULL)' ;;
		esac
		fl=$(printf '%s\n' "$out" | awk -v k=$k '$1 == k && $2 == "files" { print $3 }')
		lf=$(printf '%s\n' "$out" | awk -v k=$k '$1 == k && $2 == "ldmemo-files" { print $3 }')
		mapfile -t nc < <(printf '%s\n' "$out" | awk -v k=$k '$1 == k && $2 == "nscd" { print $3 }')
		mapfile -t lm < <(printf '%s\n' "$out" | awk -v k=$k '$1 == k && $2 == "ldmemo-nscd" { print $3 }')
		ratios=()
		for ((r = 0; r < ${#nc[@]} && r < ${#lm[@]}; r++)); do ratios+=("$(div "${lm[r]}" "${nc[r]}")"); done
		say "| \`$label\` | $(med "$fl") | $(med "${nc[@]}") | $(med "${lm[@]}") | $(med "${ratios[@]}") | $(med "$lf") |"
	done
	say ""
	# A localtime hit against the scalar anchor, f's hit, in one process
	# kind each, alternating.
	local lt=() ff=() lr=()
	for ((r = 0; r < HIT_RUNS; r++)); do
		a=$(field ns_per_call "$(shim LDMEMO_CONFIG="$root/bench/nss.conf" "$B/nss" localtime "$calls")")
		b=$(field ns_per_call "$(shim LDMEMO_CONFIG="$root/bench/nss.conf" "$B/nss" f "$calls")")
		lt+=("$a") ff+=("$b") lr+=("$(div "$a" "$b")")
	done
	say "A \`static tm* localtime(buf(8) timep)\` hit against a \`long f(long)\` hit, same config, $HIT_RUNS alternating runs: localtime $(med "${lt[@]}") ns, f $(med "${ff[@]}") ns, ratio $(med "${lr[@]}") (goal <= 2)."
	say ""
	# Misses: a new key on every call, every result stored, against the
	# same calls without the shim. TZ is fixed: without it libc's
	# localtime looks at /etc/localtime on every call.
	local mc=200000 tz='CET-1CEST,M3.5.0,M10.5.0/3' pp=() ps=() pa=() tp=() ts=() ta=()
	for ((r = 0; r < RUNS; r++)); do
		a=$(field ns_per_call "$("$B/nss" pwnam-miss $mc)")
		b=$(field ns_per_call "$(shim LDMEMO_CONFIG="$root/bench/nss-miss.conf" "$B/nss" pwnam-miss $mc)")
		pp+=("$a") ps+=("$b") pa+=("$(sub "$b" "$a")")
		a=$(field ns_per_call "$(TZ=$tz "$B/nss" localtime-miss $mc)")
		b=$(field ns_per_call "$(TZ=$tz shim LDMEMO_CONFIG="$root/bench/nss-miss.conf" "$B/nss" localtime-miss $mc)")
		tp+=("$a") ts+=("$b") ta+=("$(sub "$b" "$a")")
	done
	say "Misses, a new key on every call and every result stored (bench/nss-miss.conf, adaptive = off), $mc calls, $RUNS alternating rounds, added = ldmemo minus plain within a round (goal <= 50 ns added): \`static passwd* nss_user(str name)\` (bench/nss.c, a getpwnam that answers at once) plain $(med "${pp[@]}") ns, ldmemo $(med "${ps[@]}") ns, added $(med "${pa[@]}") ns; \`localtime\` of one second later each call (TZ=$tz) plain $(med "${tp[@]}") ns, ldmemo $(med "${ts[@]}") ns, added $(med "${ta[@]}") ns."
	say ""
}

# `scripts/bench.sh nss`: the struct-result section alone (bench/NSS.md).
if [ "$mode" = nss ]; then
	: >"$report"
	say "# ldmemo benchmarks: struct results against nscd, alone"
	say ""
	say "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $commit$dirty; machine: $(nproc) CPUs, $cpu; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
	say ""
	nscd_section
	cp "$report" "$root/bench/NSS.md"
	echo "bench: written to bench/NSS.md" >&2
	exit 0
fi

# `scripts/bench.sh host`: the host-tier section alone, written between
# its markers in bench/RESULTS.md (added at the end when missing).
if [ "$mode" = host ]; then
	: >"$report"
	say "<!-- host tier: scripts/bench.sh host -->"
	say "The host tier section below comes from a run of that section alone (\`scripts/bench.sh host\`):"
	say ""
	say "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $commit$dirty; machine: $(nproc) CPUs, $cpu; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
	say ""
	host_section
	say "<!-- /host tier -->"
	res=$root/bench/RESULTS.md
	if grep -q '^<!-- host tier' "$res" 2>/dev/null; then
		awk -v f="$report" '/^<!-- host tier/ { while ((getline l < f) > 0) print l; skip = 1; next }
			/^<!-- \/host tier -->/ { skip = 0; next } !skip' "$res" >"$res.new" && mv "$res.new" "$res"
	else
		{ echo ""; cat "$report"; } >>"$res"
	fi
	echo "bench: the host-tier section written to bench/RESULTS.md" >&2
	exit 0
fi

if [ "$mode" = sweep ]; then
	: >"$report"
	say "# ldmemo benchmarks: the working-set sweep alone"
	say ""
	say "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $commit$dirty; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
	say ""
	sweep_section
	{ sweep_summary; cat "$report"; } >"$root/bench/SWEEP.md"
	echo "bench: written to bench/SWEEP.md and bench/sweep.png" >&2
	exit 0
fi

# ---- 1. hit path ---------------------------------------------------------------

say "## 1. Hit path"
say ""
say "ns per call, medians of $HIT_RUNS runs, $CALLS calls over 64 hot keys, 1 thread, timed inside the driver around the loop (every key was called once before). plain: no wrapper; if-memo: a hand-written LD_PRELOAD wrapper with a direct-mapped table, no TTL, no locks; uthash: a hand-written wrapper with uthash and a pthread mutex. ldmemo runs bench/hit.conf (ttl = never) or, where the row says so, bench/hit-ttl.conf (the default ttl = 5m, so that every hit also reads the clock). f and g are answered by the fast thunk (key and result in registers), h and u by the dispatcher."
say ""
say "| function | plain | if-memo | uthash+mutex | ldmemo | ldmemo / if-memo (goal <= 2) | uthash / ldmemo (goal >= 2) |"
say "|---|---|---|---|---|---|---|"
for row in f:never g:never f:5m g:5m h:never u:never; do
	fn=${row%%:*} ttl=${row#*:}
	hitconf=$root/bench/hit.conf
	[ "$ttl" = 5m ] && hitconf=$root/bench/hit-ttl.conf
	p=() d=() t=() l=() r1=() r2=()
	for ((r = 0; r < HIT_RUNS; r++)); do
		a=$(field ns_per_call "$("$B/hit" $fn $CALLS 64 1 shared)")
		b=$(field ns_per_call "$(env LD_PRELOAD="$B/libwrap_direct.so" "$B/hit" $fn $CALLS 64 1 shared)")
		c=$(field ns_per_call "$(env LD_PRELOAD="$B/libwrap_uthash.so" "$B/hit" $fn $CALLS 64 1 shared)")
		e=$(field ns_per_call "$(shim LDMEMO_CONFIG="$hitconf" "$B/hit" $fn $CALLS 64 1 shared)")
		p+=("$a") d+=("$b") t+=("$c") l+=("$e")
		r1+=("$(div "$e" "$b")") r2+=("$(div "$c" "$e")")
	done
	case $fn in
	f) sig='long f(long)' ;;
	g) sig='double g(double)' ;;
	h) sig='long h(const char *)' ;;
	u) sig='int u(long, char out[64])' ;;
	esac
	label="\`$sig\`"
	[ "$ttl" = 5m ] && label="$label, ttl 5m"
	say "| $label | $(med "${p[@]}") | $(med "${d[@]}") | $(med "${t[@]}") | $(med "${l[@]}") | $(med "${r1[@]}") | $(med "${r2[@]}") |"
done
say ""
hitconf=$root/bench/hit.conf

nscd_section

# ---- 2. pass-through and miss overhead ------------------------------------------

say "## 2. Pass-through and miss overhead"
say ""
say "\`long f(long)\`, $CALLS calls over 64 keys. ttl = 0: every call is a miss that stores nothing (key built and hashed, store looked up, original called, result discarded); with coalescing on (the default) each miss also leaves a pending marker for concurrent callers of the key and removes it. LDMEMO_DISABLE=1: the shim loaded with the same config but inactive. Added = configuration minus plain, per round."
say ""
p=() m=() n=() x=() am=() an=() ax=()
for ((r = 0; r < RUNS; r++)); do
	a=$(field ns_per_call "$("$B/hit" f $CALLS 64 1 shared)")
	b=$(field ns_per_call "$(shim LDMEMO_CONFIG="$root/bench/miss.conf" "$B/hit" f $CALLS 64 1 shared)")
	c=$(field ns_per_call "$(shim LDMEMO_CONFIG="$root/bench/miss-nocoalesce.conf" "$B/hit" f $CALLS 64 1 shared)")
	d=$(field ns_per_call "$(shim LDMEMO_CONFIG="$hitconf" LDMEMO_DISABLE=1 "$B/hit" f $CALLS 64 1 shared)")
	p+=("$a") m+=("$b") n+=("$c") x+=("$d")
	am+=("$(sub "$b" "$a")") an+=("$(sub "$c" "$a")") ax+=("$(sub "$d" "$a")")
done
say "| configuration | ns per call | ns added per call |"
say "|---|---|---|"
say "| plain | $(med "${p[@]}") | - |"
say "| ldmemo, ttl = 0 (always a miss) | $(med "${m[@]}") | $(med "${am[@]}") |"
say "| ldmemo, ttl = 0, coalesce = off | $(med "${n[@]}") | $(med "${an[@]}") |"
say "| ldmemo loaded, LDMEMO_DISABLE=1 | $(med "${x[@]}") | $(med "${ax[@]}") |"
say ""

# ---- 3. threads ----------------------------------------------------------------

say "## 3. Threads"
say ""
say "Hit throughput of \`long f(long)\` in million calls per second (all threads together), $CALLS calls per thread over 64 hot keys per thread; distinct: each thread its own keys; shared: the same keys. Scaling = 2T / 1T within a round (goal >= 1.8)."
say ""
say "| configuration | 1 thread | 2 threads, distinct | 2 threads, shared | scaling distinct | scaling shared |"
say "|---|---|---|---|---|---|"
for cfg in plain ldmemo; do
	o=() dd=() ss=() sd=() sh=()
	for ((r = 0; r < RUNS; r++)); do
		if [ $cfg = plain ]; then run=("$B/hit"); else run=(shim LDMEMO_CONFIG="$hitconf" "$B/hit"); fi
		a=$(field mcalls_per_s "$("${run[@]}" f $CALLS 64 1 shared)")
		b=$(field mcalls_per_s "$("${run[@]}" f $CALLS 64 2 distinct)")
		c=$(field mcalls_per_s "$("${run[@]}" f $CALLS 64 2 shared)")
		o+=("$a") dd+=("$b") ss+=("$c") sd+=("$(div "$b" "$a")") sh+=("$(div "$c" "$a")")
	done
	say "| $cfg | $(med "${o[@]}") | $(med "${dd[@]}") | $(med "${ss[@]}") | $(med "${sd[@]}") | $(med "${sh[@]}") |"
done
say ""

# ---- 4. start-up ---------------------------------------------------------------

say "## 4. Start-up"
say ""
say "Whole-process wall time (posix_spawn to waitpid) in microseconds, without and with the shim, alternating; $((RUNS * 8)) runs each for the small programs, $((RUNS * 2)) for the large ones. bench/startup.conf names ten functions of libc and libm (/bin/true does not load libm: those five stay unresolved); bench/many.conf ten of the large program's functions. Goal: under 2000 us added for /bin/true."
say ""
say "| program | plain | with the shim | added |"
say "|---|---|---|---|"
startup_row() { # LABEL RUNS CONFIG PROGRAM...
	local label=$1 n=$2 conf=$3
	shift 3
	local out
	out=$("$B/startup" "$n" "$SO" "$conf" "$@") || { say "| $label | failed | | |"; return; }
	local pl sh
	pl=$(field plain_us "$out")
	sh=$(field shim_us "$out")
	say "| $label | $(printf '%s' "$out" | tr ' ' '\n' | sed -n 's/^plain_us=\([^,]*\),\([^,]*\),\(.*\)/\1 (\2-\3)/p') | $(printf '%s' "$out" | tr ' ' '\n' | sed -n 's/^shim_us=\([^,]*\),\([^,]*\),\(.*\)/\1 (\2-\3)/p') | $(field added_us "$out") |"
}
: >"$T/empty.conf"
startup_row "/bin/true, empty config" $((RUNS * 8)) "$T/empty.conf" /bin/true
startup_row "/bin/true, 10 methods" $((RUNS * 8)) "$root/bench/startup.conf" /bin/true
startup_row "gawk 'BEGIN{}', 10 methods (libm loaded)" $((RUNS * 8)) "$root/bench/startup.conf" "$(command -v gawk)" 'BEGIN{}'
# The ten functions of the smaller program: the same ranks, scaled.
for k in 0 1 2 3 4 5 6 7 8 9; do
	i=$(printf '%05d' $((k * 12499 / 9)))
	printf '[cache fn_%s]\nsignature = long fn_%s(long x)\n' "$i" "$i"
done >"$T/many12500.conf"
startup_row "12,500 functions, 10 methods" $((RUNS * 2)) "$T/many12500.conf" "$B/many12500"
startup_row "50,000 functions, 10 methods" $((RUNS * 2)) "$root/bench/many.conf" "$B/many50000"
for k in 0 1 2 3 4 5 6 7 8 9; do
	i=$(printf '%05d' $((k * 199999 / 9)))
	printf '[cache fn_%s]\nsignature = long fn_%s(long x)\n' "$i" "$i"
done >"$T/many200000.conf"
startup_row "200,000 functions, 10 methods" $((RUNS * 2)) "$T/many200000.conf" "$B/many200000"
say ""
say "The generated programs' functions are not exported: the shim finds them in one pass over the program's .symtab. Added time from 12,500 to 200,000 functions grows with that pass; exported names (below) cost the same in any program."
say ""

# ---- 4b. start-up by program size ----------------------------------------------

say "## 4b. Start-up by program size"
say ""
say "Added time in ms: wall (median with the shim minus median without, $((RUNS * 8)) alternating runs each; node $((RUNS * 4))) and, in parentheses, CPU time (user + system of the child, same medians: a loaded machine inflates the wall time more). Programs from a few hundred symbols to node's 185,000. bench/startup1.conf: one libc method (labs); bench/startup10.conf: ten of libc and libm (a program without libm leaves seven unresolved, which sends the shim to the objects' .symtab); node's own row: PKCS5_PBKDF2_HMAC, exported by node itself. None of them is called while the program starts. Goals: node with one method <= 5 ms, /bin/true with ten <= 0.5 ms, gawk <= 1 ms."
say ""
say "Load before: $(uptime | sed 's/.*load average: //')."
say ""
say "| program | symbols (.dynsym + .symtab) | plain ms | empty config | 1 method | 10 methods |"
say "|---|---|---|---|---|---|"
# added_ms RUNS CONFIG PROGRAM...: "PLAIN ADDED(CPU)", in ms.
added_ms() {
	local n=$1 conf=$2 out
	shift 2
	out=$("$B/startup" "$n" "$SO" "$conf" "$@") || { echo "failed failed"; return; }
	awk -v p="$(field plain_us "$out")" -v a="$(field added_us "$out")" \
		-v c="$(field added_cpu_us "$out")" \
		'BEGIN { printf "%.2f %.2f(%.2f)\n", p / 1000, a / 1000, c / 1000 }'
}
nsyms() { # the number of symbol table entries of a program
	readelf -sW "$1" 2>/dev/null | grep -c '^ *[0-9]*:'
}
size_row() { # LABEL RUNS ONE-CONFIG PROGRAM...
	local label=$1 n=$2 one=$3 e o t p
	shift 3
	read -r p e < <(added_ms "$n" "$T/empty.conf" "$@")
	read -r _ o < <(added_ms "$n" "$one" "$@")
	read -r _ t < <(added_ms "$n" "$root/bench/startup10.conf" "$@")
	say "| $label | $(nsyms "$1") | $p | $e | $o | $t |"
}
size_row "/bin/true" $((RUNS * 8)) "$root/bench/startup1.conf" /bin/true
size_row "gawk 'BEGIN{}'" $((RUNS * 8)) "$root/bench/startup1.conf" "$(command -v gawk)" 'BEGIN{}'
py=$(readlink -f /usr/bin/python3 2>/dev/null || command -v python3)
size_row "python3 -c 0" $((RUNS * 8)) "$root/bench/startup1.conf" "$py" -c 0
if command -v node >/dev/null; then
	node=$(command -v node)
	size_row "node -e 0" $((RUNS * 4)) "$root/bench/startup1.conf" "$node" -e 0
	read -r p o < <(added_ms $((RUNS * 4)) "$root/bench/node-pbkdf2.conf" "$node" -e 0)
	say "| node -e 0, one method of its own (PKCS5_PBKDF2_HMAC) | | $p | | $o | |"
else
	say "| node | not installed: skipped | | | | |"
fi
say ""
say "Load after: $(uptime | sed 's/.*load average: //')."
say ""
say "Where the time goes (issue 19; /bin/true, CPU medians of 150 alternating runs at load 3-4, measured when the load-time dependencies were dropped): loading the shim used to load libelf (and libz), Zydis, libxxhash and libgcc_s, each 0.15-0.35 ms of wall time when preloaded alone; the process then made 3,069 relative relocations (16 without the shim), took 131 page faults (49) and 116 system calls (31), and an empty config added 2.6 ms of CPU. The shim now needs libc alone: xxHash is compiled in, libelf is opened only when a file must be read whole (\`ldmemo symbols\`, a did-you-mean), Zydis at the first detour, libgcc_s at the first unwinding through a thunk, and its relative relocations are packed (DT_RELR): an empty config adds 0.95 ms of CPU, 83 faults, 62 system calls. One method (labs, detour) adds 2.1-2.8 ms; with \`hook = got\` 1.4-1.6 ms: the detour's share (Zydis loaded and decoding, /proc/self/maps read twice and /proc/self/status three times, four mprotect) is 0.7-1.2 ms; the rest is the config, plan, store and statistics set-up, call/fast.c's dlopen of the vDSO, and, for a function shorter than a patch (labs), mapping libc's file to find the next symbol. Ten methods add about 0.8 ms more: seven names no object exports send the shim once over the .symtab of each object (mmap, one pass comparing with the wanted names); names exported are found through .gnu.hash in memory and open no file. Node with ten methods had the largest share of its own: the IFUNCs of libm (sin, cos, tan, expm1) were looked up by address in every object, from node's 185,000-entry .symtab on; an address outside an object's segments now reads no file (+12.7 -> +5.0 ms of CPU)."
say ""

# ---- 5. memory -----------------------------------------------------------------

say "## 5. Memory per entry"
say ""
say "$FILL distinct keys of \`long f(long)\` (bench/mem.conf: max_entries 2,000,000, nothing evicted). The store's own account (JSON \`bytes\` / \`entries\`) and the growth of VmRSS over the fill minus the same growth without the shim, per entry. Key 8 bytes, result 8 bytes: overhead = per entry - 16. Also the time per call of the fill, every call a miss that stores."
say ""
acc=() rss=() fns=() pns=()
for ((r = 0; r < RUNS; r++)); do
	pl=$("$B/fill" $FILL)
	rm -f "$T/mem.json"
	sh=$(shim LDMEMO_CONFIG="$root/bench/mem.conf" LDMEMO_STATS="$T/mem.json" LDMEMO_STATS_FORMAT=json "$B/fill" $FILL)
	read -r ent byt < <(python3 "$root/bench/jstat.py" "$T/mem.json" entries bytes 2>/dev/null || echo "0 0")
	grow_sh=$(($(field rss_after_kb "$sh") - $(field rss_before_kb "$sh")))
	grow_pl=$(($(field rss_after_kb "$pl") - $(field rss_before_kb "$pl")))
	acc+=("$(div "$byt" "$ent")")
	rss+=("$(div "$(((grow_sh - grow_pl) * 1024))" "$ent")")
	fns+=("$(field ns_per_call "$sh")") pns+=("$(field ns_per_call "$pl")")
done
a=$(median "${acc[@]}") b=$(median "${rss[@]}")
say "| measure | bytes per entry | overhead beyond key and value |"
say "|---|---|---|"
say "| store account (\`bytes\`/\`entries\`, entries = $ent) | $(med "${acc[@]}") | $(sub "$a" 16) |"
say "| VmRSS growth | $(med "${rss[@]}") | $(sub "$b" 16) |"
say ""
say "Fill: $(med "${fns[@]}") ns per call with ldmemo (miss + store), $(med "${pns[@]}") ns plain."
say ""

# ---- 6. eviction ---------------------------------------------------------------

say "## 6. Eviction: hit ratio against LRU"
say ""
space=100000
say "Traces of $TRACE calls of \`long f(long)\` over a key space of $space keys (seeded, identical for both): zipf = Zipf(0.99); scan = blocks of 4,000 Zipf(0.99) calls, each followed by a scan of 1,000 keys never seen again. ldmemo runs the real shim with max_entries = the cache size and ttl = never (hit ratio = hits / calls from its JSON statistics); LRU is simulated in the driver on the same trace. Deterministic: one run each."
say ""
say "| trace | cache size | LRU | ldmemo | ldmemo - LRU |"
say "|---|---|---|---|---|"
for trace in zipf scan; do
	for size in $((space / 1000)) $((space / 100)) $((space / 10)); do
		printf '[global]\nttl = never\nmax_entries = %d\n[cache f]\nsignature = long f(long x)\n' "$size" >"$T/evict.conf"
		rm -f "$T/evict.json"
		out=$(shim LDMEMO_CONFIG="$T/evict.conf" LDMEMO_STATS="$T/evict.json" LDMEMO_STATS_FORMAT=json "$B/evict" $trace $space "$size" "$TRACE")
		lru=$(field lru_hit_ratio "$out")
		read -r hits calls < <(python3 "$root/bench/jstat.py" "$T/evict.json" f.hits f.calls 2>/dev/null || echo "0 0")
		lm=$(div "$hits" "$calls")
		pct=$(awk -v s="$size" -v k="$space" 'BEGIN { printf "%g%%", 100 * s / k }')
		say "| $trace | $size ($pct) | $(awk -v v="$lru" 'BEGIN { printf "%.1f%%", 100 * v }') | $(awk -v v="$lm" 'BEGIN { printf "%.1f%%", 100 * v }') | $(awk -v a="$lm" -v b="$lru" 'BEGIN { printf "%+.1f points", 100 * (a - b) }') |"
	done
done
say ""

# ---- 7. real programs ------------------------------------------------------------

say "## 7. Real programs"
say ""
say "Wall time in ms of the whole program, plain and under \`ldmemo -c CONFIG\`, alternating; outputs compared byte for byte with \`cmp\`; hits from the JSON statistics of the last run."
say ""
say "| program | config | plain ms | ldmemo ms | speedup | output | hits / calls |"
say "|---|---|---|---|---|---|---|"
real_row() { # LABEL CONFIG METHOD PROGRAM...
	local label=$1 conf=$2 method=$3
	shift 3
	local pl=() lm=() sp=() same=identical t0 t1 t2
	for ((r = 0; r < RUNS; r++)); do
		t0=$(now_ms)
		"$@" >"$T/plain.out" 2>/dev/null
		t1=$(now_ms)
		rm -f "$T/real.json"
		LDMEMO_LOG=error "$LDMEMO" -c "$conf" -s "$T/real.json" -f json -- "$@" >"$T/memo.out" 2>/dev/null
		t2=$(now_ms)
		cmp -s "$T/plain.out" "$T/memo.out" || same=DIFFERENT
		pl+=("$(sub "$t1" "$t0")") lm+=("$(sub "$t2" "$t1")")
		sp+=("$(div "$(sub "$t1" "$t0")" "$(sub "$t2" "$t1")")")
	done
	local hc
	hc=$(python3 "$root/bench/jstat.py" "$T/real.json" "$method.hits" "$method.calls" 2>/dev/null | tr ' ' /)
	say "| $label | $(basename "$conf") | $(med "${pl[@]}") | $(med "${lm[@]}") | $(med "${sp[@]}")x | $same | $method: $hc |"
}
# 40 iterations of two crypt() calls each, 4 distinct passwords, yescrypt
# (about 15 ms a call).
crypt_prog='my $s = q($y$j9T$F5Jx5fExrKuJdvnkXuDyx1$); my $n = 0;
for my $i (1 .. 40) { my $h = crypt("secret" . ($i % 4), $s); $n++ if $h eq crypt("secret1", $s) && $i % 4 == 1; print "$i $h\n"; }
print "$n\n";'
real_row "perl crypt(), 80 calls, 4 passwords, yescrypt" "$root/bench/crypt.conf" crypt_r perl -e "$crypt_prog"
# A log of 300,000 lines over about 6,000 distinct seconds.
awk 'BEGIN { t = 1700000000; for (i = 0; i < 300000; i++) { if (i % 50 == 0) t += i % 7; printf "%d GET /item/%d 200\n", t, i % 977 } }' >"$T/access.log"
gawk_prog='{ print strftime("%Y-%m-%d %H:%M:%S", $1), $2, $3 }'
real_row "gawk strftime(), 300,000 lines" "$root/bench/gawk-localtime.conf" localtime gawk "$gawk_prog" "$T/access.log"
real_row "gawk strftime(), 300,000 lines" "$root/bench/gawk-strftime.conf" strftime gawk "$gawk_prog" "$T/access.log"
# One password hashed ten times (600,000 rounds of HMAC-SHA-256 each, as
# OWASP recommends): the first call computes, nine hit.
if command -v node >/dev/null; then
	real_row "node crypto.pbkdf2Sync, 10 calls, 1 password" "$root/bench/node-pbkdf2.conf" PKCS5_PBKDF2_HMAC node "$root/bench/pbkdf2.js"
else
	say "| node crypto.pbkdf2Sync | node is not installed: skipped | | | | | |"
fi
# find over files of a uid and gid not in /etc/passwd or /etc/group:
# every owner lookup is a negative result (chown needs root).
find_owners_row() {
	local tree=$T/owners n=2000
	mkdir -p "$tree"
	(cd "$tree" && seq -f 'f%05g' "$n" | xargs touch) &&
		chown -R 4242:4343 "$tree" 2>/dev/null &&
		! getent passwd 4242 >/dev/null && ! getent group 4343 >/dev/null || {
		say "| find -printf '%u %g', $n files of an unknown uid | needs root and uid 4242 unknown: skipped | | | | | |"
		return
	}
	real_row "find -printf '%u %g %p', $n files of an unknown uid and gid" \
		"$root/bench/find-owners.conf" getpwuid find "$tree" -printf '%u %g %p\n'
}
find_owners_row
say ""

# ---- 8. Shared tier: memcached (bench/l2_memcached.c) --------------------
say "## 8. Shared tier: an L2 hit against memcached"
say ""
if command -v memcached >/dev/null &&
	$CC $CF -I"$root" -rdynamic -o "$B/l2_memcached" "$root/bench/l2_memcached.c" \
		"$root/build/shim/tier/l2_memcached.o" "$root/build/libshim.a" \
		"$root/build/libsymtab.a" "$root/build/libconfig.a" \
		-lelf -lZydis -lZycore -lxxhash -lmemcached -ldl -lpthread; then
	mcport=$((20000 + RANDOM % 20000)) mcn=20000
	[ "${BENCH_QUICK:-0}" = 1 ] && mcn=2000
	memcached -p "$mcport" -l 127.0.0.1 -U 0 -u "$(id -un)" & mcpid=$!
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$mcport") 2>/dev/null && break; sleep 0.05; done
	l2=() plain=() ratio=()
	for ((r = 0; r < RUNS; r++)); do
		out=$("$B/l2_memcached" "$mcport" "$mcn") || continue
		l2+=("$(field l2_ns "$out")") plain+=("$(field plain_ns "$out")")
		ratio+=("$(div "$(field l2_ns "$out")" "$(field plain_ns "$out")")")
	done
	kill "$mcpid" 2>/dev/null; wait "$mcpid" 2>/dev/null
	say "| loopback, 64-byte value | lm_l2_get hit, ns | plain memcached_get, ns | ratio |"
	say "|---|---|---|---|"
	say "| $mcn calls | $(med "${l2[@]}") | $(med "${plain[@]}") | $(med "${ratio[@]}")x |"
else
	say "memcached or libmemcached-dev is not installed: skipped."
fi
say ""

host_section
config_section
bench_profile
sweep_section
# The losses go first: a reader sees where ldmemo is slower before any table.
{ head -n 1 "$report"; echo ""; sweep_summary; tail -n +3 "$report"; } >"$root/bench/RESULTS.md"
echo "bench: written to bench/RESULTS.md" >&2
