#!/usr/bin/env bash
# install-deps.sh [build|demo|test]: installs the Debian 12 packages korpu
# needs for that purpose, and only those missing. Needs root (or sudo).
set -euo pipefail

build=(autoconf automake libtool pkg-config make gcc libc6-dev
	libevent-dev libhiredis-dev libconfig-dev libldap2-dev libjansson-dev
	libical-dev libcmocka-dev libssl-dev)
run=(redis-server redis-tools slapd ldap-utils)
test=(python3 python3-pytest python3-icalendar valgrind clang libclang-rt-14-dev iproute2 curl openssl binutils)

case "${1:-build}" in
	build) want=("${build[@]}") ;;
	demo) want=("${build[@]}" "${run[@]}" curl) ;;
	test) want=("${build[@]}" "${run[@]}" "${test[@]}") ;;
	*) echo "usage: $0 [build|demo|test]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
