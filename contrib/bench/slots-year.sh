#!/usr/bin/env bash
# contrib/bench/slots-year.sh: shows that GET /api/v1/providers/{id}/slots
# costs what the range asked for costs, not what the provider holds.
#
# Builds nothing: runs build/plain (or $KORPU_BUILD). Starts its own Redis
# (contrib/redis/korpu-redis.conf: appendfsync always), slapd (the demo
# directory, contrib/ldap/slapd.sh) and korpud on free 127.0.0.1 ports, all
# in a temporary directory; then slots_year.py, through the HTTP API only,
# makes two providers open every day 08:00-20:00 in Asia/Baku (30-minute
# slots, one place each), fills the next 365 days of one with N bookings
# (concurrent POST /api/v1/appointments), checks the year's free places,
# and measures GET .../slots for 1, 7, 31 and 92 days on both providers:
# with wrk (-t1, DURATION seconds a row) when installed, else with
# REQUESTS sequential requests from Python. Prints a table.
#
#   slots-year.sh [--quick] [-n|--bookings N] [-r|--requests R]
#                 [-d|--duration S] [-c|--connections C]
#                 [--tool auto|wrk|python] [--workers W]
#
#   --bookings N     appointments in the year (default 5000, at most 8760)
#   --requests R     requests a row with the Python loop (default 1000)
#   --duration S     seconds a row with wrk (default 5)
#   --connections C  wrk's connections (default 1: latency, one at a time)
#   --tool T         wrk, python, or auto (wrk if installed)
#   --workers W      concurrent connections filling the year (default 16)
#   --quick          a smoke test: N=200, R=50, S=1 (other options given win)
#
# Every process it starts and its temporary directory are gone when it
# exits, also on Ctrl-C or SIGTERM. Env: KORPU_BUILD, TMPDIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/contrib/bench
prog=slots-year.sh

die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
usage() { sed -n '/^#   slots-year.sh/,/^#   --quick/s/^# \{0,1\}//p' "$0" >&2; exit 2; }

bookings=5000 requests=1000 duration=5 connections=1 tool=auto workers=16
for arg in "$@"; do	# --quick first, so that the options given with it win
	[ "$arg" != --quick ] || { bookings=200 requests=50 duration=1; }
done
while [ $# -gt 0 ]; do
	case $1 in
	--quick) ;;
	-n | --bookings) [ $# -ge 2 ] || usage; bookings=$2; shift ;;
	-r | --requests) [ $# -ge 2 ] || usage; requests=$2; shift ;;
	-d | --duration) [ $# -ge 2 ] || usage; duration=$2; shift ;;
	-c | --connections) [ $# -ge 2 ] || usage; connections=$2; shift ;;
	--tool) [ $# -ge 2 ] || usage; tool=$2; shift ;;
	--workers) [ $# -ge 2 ] || usage; workers=$2; shift ;;
	-h | --help) usage ;;
	*) printf '%s: unknown argument: %s\n' "$prog" "$1" >&2; usage ;;
	esac
	shift
done
for v in "$bookings" "$requests" "$duration" "$connections" "$workers"; do
	[[ $v =~ ^[0-9]+$ ]] || die "not a number: $v"
done
[ "$bookings" -le 8760 ] || die "--bookings: at most 8760 (24 slots a day, 365 days, one place each)"
case $tool in auto | wrk | python) ;; *) die "--tool: auto, wrk or python, not $tool" ;; esac

build=${KORPU_BUILD:-$root/build/plain}
case $build in /*) ;; *) build=$PWD/$build ;; esac
korpud=$build/core/korpud
[ -x "$korpud" ] || die "$korpud: not built (make in build/plain, or set KORPU_BUILD)"
for t in redis-server redis-cli curl ss /usr/bin/python3; do
	command -v "$t" >/dev/null || die "not found: $t (contrib/install-deps.sh demo)"
done

run=$(mktemp -d "${TMPDIR:-/tmp}/korpu-slots-year.XXXXXX")
pids=() helper=
# shellcheck disable=SC2317  # run by the trap
cleanup() {
	local rc=$? i pid
	trap - EXIT INT TERM
	set +e
	if [ -n "$helper" ] && kill -TERM "$helper" 2>/dev/null; then
		for _ in $(seq 50); do kill -0 "$helper" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$helper" 2>/dev/null
	fi
	# korpud first (it holds connections to the others), then Redis.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		pid=${pids[i]}
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	"$root/contrib/ldap/slapd.sh" stop "$run/ldap" >/dev/null 2>&1
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ]; then
		for f in korpud.log redis/redis.log ldap/slapd.log; do
			[ -s "$run/$f" ] || continue
			echo "--- $f (last lines)" >&2
			tail -n 15 "$run/$f" >&2
		done
	fi
	rm -rf -- "$run"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { ! ss -Htan "sport = :$1" | grep -q .; }
free_port() {	# a free port below the ephemeral range, other than $1
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 12000))
		[ "$p" != "${1:-}" ] && port_free "$p" && { echo "$p"; return; }
	done
	die "no free port in 20000-31999"
}
redis_port=$(free_port)
korpud_port=$(free_port "$redis_port")

mkdir -p "$run/redis" "$run/plugins.d" "$run/web"
redis-server "$root/contrib/redis/korpu-redis.conf" --port "$redis_port" --bind 127.0.0.1 \
	--dir "$run/redis" --logfile "$run/redis/redis.log" --save '' --daemonize no &
pids+=($!)
for _ in $(seq 100); do redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 || die "Redis did not start on 127.0.0.1:$redis_port"

ldap_uri=$("$root/contrib/ldap/slapd.sh" start "$run/ldap" 2>"$run/slapd.sh.err") ||
	{ cat "$run/slapd.sh.err" >&2; die "slapd did not start"; }
slapd_pid=$(tr -dc 0-9 <"$run/ldap/slapd.pid")

cp "$root/conf/plugins.d/"*.conf "$run/plugins.d/"
sed -e "s|@plugindir@|$build/plugins/.libs|" -e "s|@webdir@|$run/web|" -e "s|@auditfile@|$run/audit.jsonl|" \
	-e "s|\"127.0.0.1:8080\"|\"127.0.0.1:$korpud_port\"|" -e "s|port = 6379;|port = $redis_port;|" \
	-e "s|ldap://127.0.0.1:389|$ldap_uri|" -e "s|\"ldap.secret\"|\"ldap/service.secret\"|" \
	"$root/conf/korpud.conf.in" >"$run/korpud.conf"
"$korpud" -t -c "$run/korpud.conf" >"$run/korpud-t.out" 2>&1 ||
	{ cat "$run/korpud-t.out" >&2; die "korpud -t rejected $run/korpud.conf"; }
"$korpud" -f -c "$run/korpud.conf" 2>"$run/korpud.log" &
pids+=($!)
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$korpud_port/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$korpud_port/ready" >/dev/null 2>&1 || die "korpud did not get ready on 127.0.0.1:$korpud_port"

echo "started: redis 127.0.0.1:$redis_port (pid ${pids[0]}), slapd $ldap_uri (pid $slapd_pid)," \
	"korpud 127.0.0.1:$korpud_port (pid ${pids[1]}) $("$korpud" -V 2>/dev/null | head -n 1 || true)"
echo "run dir: $run (removed on exit)"

# In the background, so that a signal reaches the trap at once.
/usr/bin/python3 "$here/slots_year.py" "http://127.0.0.1:$korpud_port" --workdir "$run" \
	--bookings "$bookings" --requests "$requests" --duration "$duration" \
	--connections "$connections" --tool "$tool" --workers "$workers" --log "$run/korpud.log" &
helper=$!
rc=0
wait "$helper" || rc=$?
helper=
exit "$rc"
