#!/usr/bin/env bash
# The "against nscd" measurements of scripts/bench.sh, run inside a
# private mount namespace (unshare -m) so that neither the machine's
# name-service configuration nor its processes see them:
#   - /etc/nsswitch.conf is replaced by one that says `files` for passwd
#     and group, so the plain calls go through glibc's files backend;
#   - /var/run/nscd is replaced by an empty directory, where the nscd this
#     script starts puts its socket; it is stopped by its PID at the end.
#
#   unshare -m --propagation private bench/nscd.sh NSS SO CONF RUNS CALLS FILES_CALLS
#
# NSS is the bench/nss.c driver, SO the shim, CONF bench/nss.conf. Prints
# one line per measurement: `KIND BACKEND ns_per_call` with BACKEND files,
# nscd, ldmemo-files (the shim, no nscd running) or ldmemo-nscd (the shim
# in front of the running nscd); the nscd and ldmemo-nscd runs alternate,
# RUNS rounds. KINDS (environment): the bench/nss.c kinds to run, by
# default pwnam pwuid grgid unknown.
set -euo pipefail
nss=$1 so=$2 conf=$3 runs=$4 calls=$5 fcalls=$6
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

printf 'passwd: files\ngroup: files\nshadow: files\n' >"$tmp/nsswitch.conf"
mount --bind "$tmp/nsswitch.conf" /etc/nsswitch.conf
mkdir -p "$tmp/run" /var/run/nscd
mount --bind "$tmp/run" /var/run/nscd
cat >"$tmp/nscd.conf" <<'EOF'
	debug-level		0
	paranoia		no
	enable-cache		passwd		yes
	positive-time-to-live	passwd		600
	negative-time-to-live	passwd		600
	check-files		passwd		yes
	persistent		passwd		no
	shared			passwd		yes
	enable-cache		group		yes
	positive-time-to-live	group		600
	negative-time-to-live	group		600
	check-files		group		yes
	persistent		group		no
	shared			group		yes
	enable-cache		hosts		no
	enable-cache		services	no
	enable-cache		netgroup	no
EOF

kinds=(${KINDS:-pwnam pwuid grgid unknown})
ns() { "$@" | sed -n 's/^ns_per_call=\([^ ]*\).*/\1/p'; }
memo() { env LD_PRELOAD="$so" LDMEMO_CONFIG="$conf" LDMEMO_LOG=error "$@"; }

for k in "${kinds[@]}"; do
	echo "$k files $(ns "$nss" "$k" "$fcalls")"
	echo "$k ldmemo-files $(ns memo "$nss" "$k" "$calls")"
done

/usr/sbin/nscd -F -f "$tmp/nscd.conf" &
pid=$!
for _ in $(seq 100); do [ -S /var/run/nscd/socket ] && break; sleep 0.05; done
[ -S /var/run/nscd/socket ] || { echo "nscd did not start" >&2; exit 1; }
for ((r = 0; r < runs; r++)); do
	for k in "${kinds[@]}"; do
		echo "$k nscd $(ns "$nss" "$k" "$calls")"
		echo "$k ldmemo-nscd $(ns memo "$nss" "$k" "$calls")"
	done
done
