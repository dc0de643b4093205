#!/usr/bin/env bash
# install-deps.sh [build|demo|test]: installs the Debian 12 packages korpu
# needs for that purpose, and only those missing. Needs root (or sudo).
# For `test` also Debian's chromium, node and npm (Debian's nodejs and npm
# only when no node or npm is on PATH), then the browser tests' npm
# packages (tests/browser: playwright-core, pinned in package-lock.json)
# with `npm ci` when tests/browser/node_modules is missing or older than
# the lock file. No browser is ever downloaded: the tests drive
# /usr/bin/chromium.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

build=(autoconf automake libtool pkg-config make gcc libc6-dev
	libevent-dev libhiredis-dev libconfig-dev libldap2-dev libjansson-dev
	libical-dev libcmocka-dev libssl-dev zlib1g-dev)
run=(redis-server redis-tools slapd ldap-utils)
test=(python3 python3-pytest python3-icalendar valgrind clang libclang-rt-14-dev iproute2 curl openssl binutils chromium fonts-dejavu-core)

case "${1:-build}" in
	build) want=("${build[@]}") ;;
	demo) want=("${build[@]}" "${run[@]}" curl) ;;
	test) want=("${build[@]}" "${run[@]}" "${test[@]}")
		command -v node >/dev/null && command -v npm >/dev/null || want+=(nodejs npm) ;;
	*) echo "usage: $0 [build|demo|test]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	echo "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The browser tests' npm packages, from the committed lock file.
if [ "${1:-build}" = test ]; then
	browser="$root/tests/browser"
	if [ ! -d "$browser/node_modules" ] || [ "$browser/package-lock.json" -nt "$browser/node_modules" ]; then
		echo "installing npm packages of tests/browser (npm ci)"
		(cd "$browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
			--loglevel=error >/dev/null)
		touch "$browser/node_modules"	# npm ci's tree is as new as the lock file now
	fi
fi
