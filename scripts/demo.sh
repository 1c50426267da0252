#!/usr/bin/env bash
# make demo: ldmemo at work, first on an example user service over SQLite
# (examples/userdb), then on gawk, a program nobody here wrote. Each part runs
# the same work without and with ldmemo and prints both times, the speedup,
# whether the outputs are identical, and ldmemo's statistics. Every figure is
# measured in this run. Exits 1 when an output differs or a run fails.
# LDMEMO=PATH runs another ldmemo command (an installed one) instead of
# build/ldmemo.
set -euo pipefail
cd "$(dirname "$0")/.."

EX=build/examples
LDMEMO=${LDMEMO:-build/ldmemo}
USERS=20000
REQUESTS=200000
GAWK_LINES=300000

# A clean comparison: nothing preloaded and no ldmemo settings from outside.
unset LD_PRELOAD
for v in $(compgen -e); do
	case $v in LDMEMO_*) unset "$v" ;; esac
done

failed=0
took=0

now() { date +%s%N; }

# run_timed OUT ERR CMD...: runs CMD, stdout to OUT and stderr to ERR, and
# leaves its wall-clock time in ns in $took. Returns CMD's status.
run_timed() {
	local out=$1 err=$2 t0 rc=0
	shift 2
	t0=$(now)
	"$@" >"$out" 2>"$err" || rc=$?
	took=$(($(now) - t0))
	return $rc
}

# report BARE_NS MEMO_NS: the two times and the speedup.
report() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		printf "  without ldmemo  %6.2f s\n", a / 1e9
		printf "  with ldmemo     %6.2f s   speedup %.1fx\n", b / 1e9, a / b }'
}

# same BARE MEMO: prints whether the two outputs are identical.
same() {
	if cmp -s "$1" "$2"; then
		echo "  outputs identical: yes ($(wc -l <"$1") lines, byte for byte)"
	else
		echo "  outputs identical: NO"
		{ diff "$1" "$2" || true; } | head -n 6 | sed 's/^/    /'
		failed=1
	fi
}

# fail WHAT ERRFILE: a run that did not succeed.
fail() {
	echo "  $1 failed:" >&2
	sed 's/^/    /' "$2" | head -n 20 >&2
	exit 1
}

indent() { sed 's/^/  /' "$@"; }

# ---- Part 1: the user service ------------------------------------------------

make -s -f examples/examples.mk $EX/replay $EX/gen
if ! [ $EX/users.db -nt $EX/gen ] || ! [ $EX/requests.log -nt $EX/gen ]; then
	$EX/gen $EX/users.db $EX/requests.log $USERS $REQUESTS
fi
conf=examples/userdb/userdb.conf
"$LDMEMO" check -c $conf $EX/replay >$EX/check.txt 2>&1 || fail "ldmemo check -c $conf" $EX/check.txt

echo "== 1/2: a user service on SQLite (examples/userdb) =="
echo "  $EX/replay sends $(wc -l <$EX/requests.log) requests to libuserdb.so: $(awk '{ n[$1]++ } END {
	printf "get %d, name %d,\n  dept %d, update %d", n["get"], n["name"], n["dept"], n["update"] }' \
	$EX/requests.log). Each is a SQL query on $USERS users; popular users come up most."
echo "  ldmemo run: $LDMEMO -c $conf -s FILE -- $EX/replay LOG"
echo

# Each run starts from the same database: the log's updates change it.
cp $EX/users.db $EX/run.db
run_timed $EX/bare.out $EX/bare.err env USERDB_PATH=$EX/run.db $EX/replay $EX/requests.log ||
	fail "replay without ldmemo" $EX/bare.err
bare_ns=$took
cp $EX/users.db $EX/run.db
run_timed $EX/memo.out $EX/memo.err env USERDB_PATH=$EX/run.db \
	"$LDMEMO" -c $conf -s $EX/userdb.stats -- $EX/replay $EX/requests.log ||
	fail "replay with ldmemo" $EX/memo.err
memo_ns=$took

report $bare_ns $memo_ns
same $EX/bare.out $EX/memo.out

# Invalidation: the first rename in the log, and the next read of that user.
read -r upd_at upd_id upd_name < <(awk '$1 == "update" {
	id = $2; $1 = $2 = ""; sub(/^ +/, ""); print NR, id, $0; exit }' $EX/requests.log)
awk -v at="$upd_at" -v id="$upd_id" -v want="$upd_name" '
	function who(s) { sub(/^[a-z]+ [0-9]+: /, "", s); sub(/ <.*/, "", s); return s }
	($1 == "get" || $1 == "name") && $2 == id ":" {
		if (NR < at) { old = who($0) } else if (!n) { n = NR; got = who($0); line = $1 " " id } }
	END {
		printf "  invalidation: request %d renamed user %d %s-> \"%s\";\n",
			at, id, old == "" ? "" : "\"" old "\" ", want
		if (!n) { print "                no later request reads that user"; exit }
		printf "                request %d (%s) read \"%s\": %s\n", n, line, got,
			got == want ? "fresh, not the cached old name" : "STALE"
		exit got != want }' $EX/memo.out || failed=1
echo
indent $EX/userdb.stats
echo

# ---- Part 2: gawk --------------------------------------------------------------

log=$EX/access.log
if ! [ -s $log ] || [ "$(wc -l <$log)" -ne $GAWK_LINES ]; then
	# A busy server's log: about a hundred requests share each second.
	gawk -v n=$GAWK_LINES 'BEGIN { srand(1); t = 1700000000
		for (i = 0; i < n; i++) {
			if (rand() < 0.01) t++
			printf "%d GET /users/%d %d\n", t, int(rand() * 20000) + 1, rand() < 0.98 ? 200 : 404 } }' >$log
fi
conf=examples/gawk/localtime.conf
# shellcheck disable=SC2016 # gawk's own $1..$4
prog='{ print strftime("%Y-%m-%d %H:%M:%S", $1), $2, $3, $4 }'
"$LDMEMO" check -c $conf gawk >$EX/check.txt 2>&1 || fail "ldmemo check -c $conf gawk" $EX/check.txt

echo "== 2/2: gawk, a program nobody here wrote (examples/gawk) =="
echo "  gawk '$prog' over $GAWK_LINES log lines."
echo "  strftime() calls libc's localtime() once per line, and with TZ unset (as here)"
echo "  glibc stats /etc/localtime inside every localtime() call."
echo "  ldmemo run: $LDMEMO -v -c $conf -s FILE -- gawk ..."
echo

run_timed $EX/gawk-bare.out $EX/gawk-bare.err env -u TZ gawk "$prog" $log ||
	fail "gawk without ldmemo" $EX/gawk-bare.err
bare_ns=$took
run_timed $EX/gawk-memo.out $EX/gawk-memo.err env -u TZ \
	"$LDMEMO" -v -c $conf -s $EX/gawk.stats -- gawk "$prog" $log ||
	fail "gawk with ldmemo" $EX/gawk-memo.err
memo_ns=$took

report $bare_ns $memo_ns
same $EX/gawk-bare.out $EX/gawk-memo.out
hooked=$(grep -m1 ': localtime: ' $EX/gawk-memo.err | sed 's/^ldmemo\[[0-9]*\]: //' || true)
echo "  hooked (ldmemo -v): ${hooked:-NOT HOOKED}"
[ -n "$hooked" ] || failed=1
echo
indent $EX/gawk.stats

if [ $failed -ne 0 ]; then
	echo
	echo "demo: FAILED (see above)" >&2
fi
exit $failed
