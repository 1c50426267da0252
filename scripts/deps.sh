#!/usr/bin/env bash
# Installs the Debian packages ldmemo builds, tests and demonstrates with.
# As root it runs apt-get; otherwise it prints the command and stops.
set -euo pipefail

pkgs=(
	build-essential binutils pkg-config
	libelf-dev libdw-dev libzydis-dev uthash-dev libxxhash-dev libhiredis-dev
	libcriterion-dev libcrypt-dev
	clang libclang-rt-14-dev valgrind
	clang-format clang-tidy cppcheck
	redis-server
	libmemcached-dev memcached
	libsqlite3-dev sqlite3 gawk groff-base python3 python3-prometheus-client
	gnuplot-nox
	nscd # the benchmark starts its own in a private mount namespace (bench/nscd.sh)
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "ldmemo: missing packages: ${missing[*]}" >&2
	echo "ldmemo: run as root: apt-get update && $cmd" >&2
	exit 1
fi
echo "ldmemo: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
$cmd >/dev/null
