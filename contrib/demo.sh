#!/usr/bin/env bash
# contrib/demo.sh: builds korpu and runs a private demo stack on this
# machine: its own Redis (with korpu's durable settings), its own slapd
# holding the demo staff directory (contrib/ldap), and korpud, all on
# loopback, in build/demo. Prints where to look and the demo logins;
# Ctrl-C stops it all.
# On a fresh Debian 12 machine it first installs the packages it needs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run="$root/build/demo"
port=${KORPU_DEMO_PORT:-8080}

"$root/contrib/install-deps.sh" demo

echo "== building korpu (build/plain)"
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || ./autogen.sh >/dev/null
mkdir -p build/plain
(cd build/plain && { [ -f Makefile ] || ../../configure -q; } && make -s -j"$(nproc)" >/dev/null)

port_free() {
	! ss -Htan "sport = :$1" 2>/dev/null | grep -q .
}
free_port() {	# a free port below the ephemeral range
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 12000))
		port_free "$p" && { echo "$p"; return; }
	done
	return 1
}
port_free "$port" || port=$(free_port)
redis_port=$(free_port)

pids=()
cleanup() {
	local i pid
	# korpud first (it holds connections to the others), then the rest.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		pid=${pids[i]}
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	"$root/contrib/ldap/slapd.sh" stop "$run/ldap" >/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' INT TERM

rm -rf "$run"
mkdir -p "$run/redis" "$run/plugins.d"
cp conf/plugins.d/*.conf "$run/plugins.d/"

echo "== starting slapd with the demo directory"
ldap_uri=$("$root/contrib/ldap/slapd.sh" start "$run/ldap")

echo "== starting Redis on 127.0.0.1:$redis_port"
redis-server "$root/contrib/redis/korpu-redis.conf" --port "$redis_port" --bind 127.0.0.1 \
	--dir "$run/redis" --logfile "$run/redis/redis.log" --pidfile "$run/redis/redis.pid" \
	--save '' --daemonize no &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

sed -e "s|@plugindir@|$root/build/plain/plugins/.libs|" -e "s|@webdir@|$root/web|" -e "s|@auditfile@|$run/audit.jsonl|" \
	-e "s|\"127.0.0.1:8080\"|\"127.0.0.1:$port\"|" -e "s|port = 6379;|port = $redis_port;|" \
	-e "s|ldap://127.0.0.1:389|$ldap_uri|" -e "s|\"ldap.secret\"|\"ldap/service.secret\"|" \
	conf/korpud.conf.in > "$run/korpud.conf"
build/plain/core/korpud -t -c "$run/korpud.conf"

echo "== starting korpud on 127.0.0.1:$port (log: $run/korpud.log)"
build/plain/core/korpud -f -c "$run/korpud.conf" 2>"$run/korpud.log" &
pids+=($!)
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.1; done

echo "== seeding the demo directory and clients"
/usr/bin/python3 "$root/contrib/demo-seed.py" "http://127.0.0.1:$port"

cat <<MSG

korpu demo is running.
  web client: http://127.0.0.1:$port/   (sign in with a login below)
  API:        http://127.0.0.1:$port/api/v1/
  readiness:  http://127.0.0.1:$port/ready
  API spec:   http://127.0.0.1:$port/api/v1/openapi.json
  directory:  $ldap_uri (contrib/ldap/README.md)
  config:     $run/korpud.conf (edit, then: kill -HUP ${pids[1]})
  audit file: $run/audit.jsonl (check it: contrib/audit-verify $run/audit.jsonl)

  logins (user name / password):
    caseworkers    lmammadova / leyla-demo-2026     raliyev / rashad-demo-2026
    supervisor     nhuseynova / nigar-demo-2026
    admin          equliyev / elchin-demo-2026
    employment     thasanov / tural-demo-2026       (provider, org-employment)
    clinic         arzayeva / aynur-demo-2026       (provider, org-clinic)
    housing NGO    kabbasov / kamran-demo-2026      (provider, org-housing)

  try:
    curl -s -c /tmp/korpu.cookies -H 'Content-Type: application/json' \\
      -d '{"username":"lmammadova","password":"leyla-demo-2026"}' http://127.0.0.1:$port/api/v1/login
    curl -s -b /tmp/korpu.cookies http://127.0.0.1:$port/api/v1/areas
Ctrl-C stops korpud, slapd and Redis.
MSG
wait "${pids[1]}"
