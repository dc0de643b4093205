#!/usr/bin/env bash
# contrib/bench/run.sh: measures korpud against the bare booking server of
# ../shared/bench/ceiling, in one run on this machine, with wrk on loopback.
#
#   ceiling POST /book   one JSON parse + one EVALSHA (the least a booking costs)
#   korpud  GET /api/v1/me  a signed-in request: session lookup (one EVALSHA),
#                        role check, JSON answer, access log
#   korpud  GET /ready   one EVALSHA (the directory probe is cached for 1 s)
#   ceiling GET /health  and korpud GET /health: the HTTP path alone
#
# Both servers use one Redis started here with korpu's shipped settings
# (appendfsync always). Each case runs RUNS times for DURATION seconds; the
# median is reported, and korpud's rate as a ratio of the ceiling's, since
# absolute figures drift between machines. Bounded: it stops by itself.
# Env: DURATION (default 10), RUNS (3), CONNECTIONS (64), CEILING (folder).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ceiling=${CEILING:-$root/../shared/bench/ceiling}
duration=${DURATION:-10}
runs=${RUNS:-3}
conns=${CONNECTIONS:-64}
out="$root/build/bench"

command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
[ -x "$root/build/plain/core/korpud" ] || { echo "build first: ./tests/run.sh or make in build/plain" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/redis" "$out/plugins.d" "$out/web"
cc -O2 -o "$out/ceiling-server" "$ceiling/ceiling-server.c" \
	$(pkg-config --cflags --libs libevent jansson hiredis)

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		ss -Htan "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}
redis_port=$(free_port) ceiling_port=$(free_port) korpud_port=$(free_port)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT

redis-server "$root/contrib/redis/korpu-redis.conf" --port "$redis_port" --bind 127.0.0.1 \
	--dir "$out/redis" --save '' --logfile "$out/redis/log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

"$out/ceiling-server" "$ceiling_port" "$redis_port" "$ceiling/book_slot.lua" 2>"$out/ceiling.log" &
pids+=($!)
ldap_uri=$("$root/contrib/ldap/slapd.sh" start "$out/ldap")
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true;
	"$root/contrib/ldap/slapd.sh" stop "$out/ldap" >/dev/null 2>&1 || true' EXIT

cp "$root/conf/plugins.d/"*.conf "$out/plugins.d/"
sed -e "s|@plugindir@|$root/build/plain/plugins/.libs|" -e "s|@webdir@|$out/web|" -e "s|@auditfile@|$out/audit.jsonl|" \
	-e "s|\"127.0.0.1:8080\"|\"127.0.0.1:$korpud_port\"|" -e "s|port = 6379;|port = $redis_port;|" \
	-e 's|connections_max = 1024;|connections_max = 4096;|' \
	-e "s|ldap://127.0.0.1:389|$ldap_uri|" -e "s|\"ldap.secret\"|\"ldap/service.secret\"|" \
	"$root/conf/korpud.conf.in" > "$out/korpud.conf"
"$root/build/plain/core/korpud" -f -c "$out/korpud.conf" 2>"$out/korpud.log" &
pids+=($!)
for port in $ceiling_port $korpud_port; do
	for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
done

# run NAME URL [wrk args]: median requests/s and p99 of RUNS runs
run() {
	local name=$1 url=$2
	shift 2
	local rates=() p99s=()
	for i in $(seq "$runs"); do
		wrk -t1 -c"$conns" -d"${duration}s" --latency "$@" "$url" > "$out/$name.$i.txt"
		rates+=("$(awk '/^Requests\/sec/ {print $2}' "$out/$name.$i.txt")")
		p99s+=("$(awk '$1 == "99%" {print $2}' "$out/$name.$i.txt")")
	done
	local median
	median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
	printf '%-22s %10.0f req/s   p99 %s\n' "$name" "$median" "$(printf '%s ' "${p99s[@]}")"
	echo "$median" > "$out/$name.median"
}

echo "wrk -t1 -c$conns, ${duration}s x $runs runs, median; Redis appendfsync always"
token=$(curl -fsS -H 'Content-Type: application/json' \
	-d '{"username":"lmammadova","password":"leyla-demo-2026"}' \
	"http://127.0.0.1:$korpud_port/api/v1/login" | sed -e 's/.*"token":"\([^"]*\)".*/\1/')
run ceiling-book "http://127.0.0.1:$ceiling_port/book" -s "$ceiling/post-book.lua"
run korpud-me "http://127.0.0.1:$korpud_port/api/v1/me" -H "Authorization: Bearer $token"
run korpud-ready "http://127.0.0.1:$korpud_port/ready"
run ceiling-health "http://127.0.0.1:$ceiling_port/health"
run korpud-health "http://127.0.0.1:$korpud_port/health"
awk -v a="$(cat "$out/korpud-me.median")" -v b="$(cat "$out/ceiling-book.median")" \
	'BEGIN { printf "korpud /api/v1/me vs ceiling /book: %.2f\n", a / b }'
awk -v a="$(cat "$out/korpud-ready.median")" -v b="$(cat "$out/ceiling-book.median")" \
	'BEGIN { printf "korpud /ready vs ceiling /book:   %.2f\n", a / b }'
awk -v a="$(cat "$out/korpud-health.median")" -v b="$(cat "$out/ceiling-health.median")" \
	'BEGIN { printf "korpud /health vs ceiling /health: %.2f\n", a / b }'
