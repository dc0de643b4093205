#!/usr/bin/env bash
# contrib/ldap/slapd.sh: runs korpu's demo directory (demo.ldif) in a private
# OpenLDAP slapd on 127.0.0.1, everything in one run directory.
#
#   slapd.sh start DIR [PORT] [--allow-anon-dn] [--stats] [--tls]
#       Makes DIR, renders DIR/slapd.conf from slapd.conf.in, checks it
#       (slaptest -u), loads demo.ldif into DIR/data (slapadd -q), writes
#       DIR/service.secret (the service account's password, mode 0600),
#       starts slapd on ldap://127.0.0.1:PORT/ and waits until it answers.
#       Prints the URI (ldap://127.0.0.1:PORT) on stdout, nothing else.
#       PORT: default a free one in 20000-32767 (below the kernel's
#       ephemeral range). --allow-anon-dn: `allow bind_anon_dn` (a DN with
#       an empty password binds as anonymous). --stats: loglevel stats.
#       --tls: makes a private CA and a certificate for 127.0.0.1 in DIR/tls
#       (ca.pem is the CA to trust) and offers StartTLS on the port.
#       DIR is rebuilt from scratch each time: the files this script owns
#       there (data/, slapd.conf, slapd.log, ...) are removed first; other
#       files are left alone. Refuses while a slapd of DIR still runs.
#   slapd.sh stop DIR
#       Stops the slapd whose pid is in DIR/slapd.pid: SIGTERM, then SIGKILL
#       after $KORPU_LDAP_STOP_TIMEOUT (5) seconds. Succeeds when none runs.
#   slapd.sh restart DIR
#       Stops it if it runs and starts it again on the same port with the
#       same configuration and data (no reload of the LDIF).
#   slapd.sh status DIR
#       Prints the URI and exits 0 if DIR's slapd runs; exits 3 if not.
#
# Files in DIR: slapd.conf, data/ (mdb), slapd.pid, slapd.args, slapd.log
# (slapd's own output: errors, or the stats log with --stats), service.secret,
# uri, port. slapd runs in the foreground of its own session (setsid) as the
# user who runs this script (root on the project's machines): no -u, so DIR
# needs no chown. It listens on 127.0.0.1 only.
#
# Environment: KORPU_LDAP_LDIF (another LDIF to load; default demo.ldif),
# KORPU_LDAP_START_TIMEOUT (15 s), KORPU_LDAP_STOP_TIMEOUT (5 s).
set -euo pipefail

PATH=$PATH:/usr/sbin:/sbin
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
template=$here/slapd.conf.in
ldif=${KORPU_LDAP_LDIF:-$here/demo.ldif}
schemadir=/etc/ldap/schema
moduledir=/usr/lib/ldap
service_password=korpu-service-demo
start_timeout=${KORPU_LDAP_START_TIMEOUT:-15}
stop_timeout=${KORPU_LDAP_STOP_TIMEOUT:-5}
# Files of a run directory that start removes before it rebuilds.
owned_files=(slapd.conf slapd.pid slapd.args slapd.log service.secret uri port)

prog=slapd.sh
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }

usage() {
	cat >&2 <<-EOF
	usage: $prog start DIR [PORT] [--allow-anon-dn] [--stats] [--tls]
	       $prog stop DIR
	       $prog restart DIR
	       $prog status DIR
	EOF
	exit 2
}

need_tools() {
	local t missing=()
	for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
	[ ${#missing[@]} -eq 0 ] ||
		die "not found: ${missing[*]} (install the slapd and ldap-utils packages, e.g. contrib/install-deps.sh)"
}

# The absolute, physical path of an existing directory.
abs_dir() {
	[ -d "$1" ] || die "$1: no such directory"
	(cd "$1" && pwd -P)
}

# ---- processes ----------------------------------------------------------

# Is pid a live process (not a zombie)?
alive() {
	local state
	[ -r "/proc/$1/stat" ] || return 1
	state=$(sed -e 's/^.*) //' -e 's/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Prints the pid of the slapd that serves run dir $1, if one runs: the pid in
# $1/slapd.pid, alive, a slapd, started with $1/slapd.conf.
running_pid() {
	local dir=$1 pid cmdline
	[ -f "$dir/slapd.pid" ] || return 1
	pid=$(tr -dc 0-9 <"$dir/slapd.pid")
	[ -n "$pid" ] && alive "$pid" || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slapd ] || return 1
	cmdline=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	grep -qxF -- "$dir/slapd.conf" <<<"$cmdline" || return 1
	echo "$pid"
}

# Waits up to $2 seconds for pid $1 to end; fails if it still runs.
wait_gone() {
	local pid=$1 deadline=$((SECONDS + $2))
	while alive "$pid"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# Stops pid $1 (TERM, then KILL).
stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || true
	kill -CONT "$pid" 2>/dev/null || true	# in case it was SIGSTOPped
	wait_gone "$pid" "$stop_timeout" && return 0
	note "slapd (pid $pid) did not stop within ${stop_timeout}s of SIGTERM: sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	wait_gone "$pid" 5 || die "slapd (pid $pid) still runs after SIGKILL"
}

# ---- ports --------------------------------------------------------------

port_free() {
	local out
	out=$(ss -Htan "sport = :$1") || die "ss failed: cannot tell whether port $1 is free"
	[ -z "$out" ]
}

free_port() {
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 12768))
		if port_free "$p"; then echo "$p"; return 0; fi
	done
	die "no free port found in 20000-32767"
}

valid_port() {
	[[ $1 =~ ^[0-9]{1,5}$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]
}

# ---- starting slapd -----------------------------------------------------

# The last lines slapd wrote to run dir $1's slapd.log after line $2.
log_tail() {
	tail -n "+$(($2 + 1))" "$1/slapd.log" 2>/dev/null | tail -n 30 | sed 's/^/    /' >&2 || true
}

# Does the root DSE at URI $1 answer?
answers() {
	timeout 5 ldapsearch -H "$1" -x -o nettimeout=2 -s base -b "" -LLL 1.1 >/dev/null 2>&1
}

# Starts slapd for run dir $1 on port $2 and waits until it answers.
# Returns 0 when ready, 3 when the port turned out to be in use (so start
# may try another one); dies on any other failure.
launch() {
	local dir=$1 port=$2 uri="ldap://127.0.0.1:$2" dlevel=none pid rc deadline mark
	grep -qE '^loglevel[[:space:]]+stats' "$dir/slapd.conf" && dlevel=stats
	# No ss check here: after a stop the port still shows the old server's
	# TIME-WAIT connections, which do not keep slapd (SO_REUSEADDR) from
	# binding it. A port really in use shows as a bind error in the log.
	rm -f -- "$dir/slapd.pid" "$dir/slapd.args"
	mark=$(wc -l <"$dir/slapd.log" 2>/dev/null || echo 0)
	echo "== $(date '+%F %T') $prog: slapd on $uri/" >>"$dir/slapd.log"
	# In the foreground (-d) so that its output lands in slapd.log; in its
	# own session so that a terminal's or a test runner's signals miss it;
	# with no descriptor of ours beyond 0-2 (a caller reading our output
	# through a pipe must see it end when this script ends).
	(
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
		done
		exec setsid slapd -d "$dlevel" -h "$uri/" -f "$dir/slapd.conf" \
			</dev/null >>"$dir/slapd.log" 2>&1
	) &
	pid=$!
	deadline=$((SECONDS + start_timeout))
	while :; do
		if ! alive "$pid"; then
			rc=0
			wait "$pid" || rc=$?
			if tail -n "+$((mark + 1))" "$dir/slapd.log" | grep -q 'Address already in use'; then
				return 3
			fi
			note "slapd exited with status $rc during start; $dir/slapd.log:"
			log_tail "$dir" "$mark"
			exit 1
		fi
		if [ -s "$dir/slapd.pid" ] && answers "$uri"; then
			break
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			note "slapd (pid $pid) did not answer on $uri within ${start_timeout}s; stopping it. $dir/slapd.log:"
			log_tail "$dir" "$mark"
			stop_pid "$pid"
			exit 1
		fi
		sleep 0.05
	done
	[ "$(tr -dc 0-9 <"$dir/slapd.pid")" = "$pid" ] ||
		note "warning: $dir/slapd.pid holds $(cat "$dir/slapd.pid"), expected $pid"
	echo "$uri" >"$dir/uri"
	echo "$port" >"$dir/port"
	note "slapd (pid $pid) serves $dir on $uri"
	echo "$uri"
}

# make_tls DIR: a throwaway CA and a server certificate for 127.0.0.1.
make_tls() {
	local d=$1/tls out
	rm -rf -- "$d"
	mkdir -m 0700 -- "$d"
	out=$({
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=korpu demo CA" \
			-keyout "$d/ca.key" -out "$d/ca.pem" &&
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
			-keyout "$d/server.key" -out "$d/server.csr" &&
		printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$d/ext" &&
		openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -extfile "$d/ext" -out "$d/server.pem"
	} 2>&1) || die "cannot make the TLS certificates:
$out"
}

render() {
	local dir=$1 loglevel=$2 anon=$3 tls=${4:-no} allow tlsconf
	if [ "$anon" = yes ]; then
		allow='allow bind_anon_dn'
	else
		allow='# allow bind_anon_dn  (off: slapd.sh start ... --allow-anon-dn turns it on)'
	fi
	if [ "$tls" = yes ]; then
		tlsconf="TLSCACertificateFile @DIR@/tls/ca.pem\\nTLSCertificateFile @DIR@/tls/server.pem\\nTLSCertificateKeyFile @DIR@/tls/server.key"
	else
		tlsconf='# no TLS (slapd.sh start ... --tls offers StartTLS)'
	fi
	local e_dir
	e_dir=$(printf '%s' "$dir" | sed -e 's/[\\|&]/\\&/g')
	# Comment lines keep their placeholders (they document them).
	{
		echo "# Written by $prog from $template: edit that, not this."
		sed -e "/^[[:space:]]*#/!{
			s|@TLS@|$tlsconf|g
			s|@DIR@|$e_dir|g
			s|@SCHEMADIR@|$schemadir|g
			s|@MODULEDIR@|$moduledir|g
			s|@LOGLEVEL@|$loglevel|g
			s|@ALLOW_ANON_DN@|$allow|g
		}" "$template"
	} >"$dir/slapd.conf"
	! grep -n '^[^#]*@[A-Z_]*@' "$dir/slapd.conf" >&2 || die "$dir/slapd.conf: placeholders left (above)"
}

cmd_start() {
	local dir="" port="" anon=no loglevel=none tls=no arg out pid p rc=0
	for arg in "$@"; do
		case $arg in
		--allow-anon-dn) anon=yes ;;
		--stats) loglevel=stats ;;
		--tls) tls=yes ;;
		-h | --help) usage ;;
		-*) die "start: unknown option $arg" ;;
		*)
			if [ -z "$dir" ]; then dir=$arg
			elif [ -z "$port" ]; then port=$arg
			else die "start: too many arguments: $arg"
			fi ;;
		esac
	done
	[ -n "$dir" ] || usage
	[ -z "$port" ] || valid_port "$port" || die "start: PORT must be a number in 1-65535, not \"$port\""
	need_tools slapd slaptest slapadd ldapsearch ss setsid timeout
	[ -r "$template" ] || die "$template: missing"
	[ -r "$ldif" ] || die "$ldif: missing"

	mkdir -p -- "$dir" || die "cannot make $dir"
	dir=$(abs_dir "$dir")
	case $dir in
	*'"'* | *\\* | *$'\n'*) die "$dir: the run directory's path must not hold \", \\ or a newline (slapd.conf quoting)" ;;
	esac
	if pid=$(running_pid "$dir"); then
		die "a slapd (pid $pid) already runs for $dir on $(cat "$dir/uri" 2>/dev/null || echo '?'): run \`$0 stop $dir\` first"
	fi

	# Rebuild: remove what an earlier start left, and nothing else.
	rm -rf -- "$dir/data"
	for f in "${owned_files[@]}"; do rm -f -- "${dir:?}/$f"; done
	mkdir -m 0700 -- "$dir/data"
	[ "$tls" = no ] || make_tls "$dir"
	render "$dir" "$loglevel" "$anon" "$tls"

	out=$(slaptest -u -f "$dir/slapd.conf" 2>&1) ||
		die "slaptest -u rejected $dir/slapd.conf:
$out"
	out=$(slapadd -q -f "$dir/slapd.conf" -l "$ldif" 2>&1) ||
		die "slapadd -q could not load $ldif:
$out"
	(umask 077 && printf '%s\n' "$service_password" >"$dir/service.secret")
	chmod 0600 "$dir/service.secret"
	: >"$dir/slapd.log"

	for _ in 1 2 3 4 5; do
		if [ -n "$port" ]; then
			rc=0
			launch "$dir" "$port" || rc=$?
			[ "$rc" -ne 3 ] || die "port $port on 127.0.0.1 is in use"
			return 0
		fi
		p=$(free_port)
		rc=0
		launch "$dir" "$p" || rc=$?
		[ "$rc" -eq 3 ] || return 0
	done
	die "every port tried was taken meanwhile; try again or pass a PORT"
}

run_dir_arg() {
	[ $# -eq 1 ] || usage
	abs_dir "$1"
}

cmd_stop() {
	local dir pid
	[ $# -eq 1 ] || usage
	if [ ! -d "$1" ]; then
		note "$1: no such directory: nothing to stop"
		return 0
	fi
	dir=$(abs_dir "$1")
	if ! pid=$(running_pid "$dir"); then
		note "no slapd runs for $dir"
		rm -f -- "$dir/slapd.pid"
		return 0
	fi
	stop_pid "$pid"
	rm -f -- "$dir/slapd.pid"
	note "stopped slapd (pid $pid) of $dir"
}

cmd_restart() {
	local dir pid port rc=0
	dir=$(run_dir_arg "$@")
	if [ ! -f "$dir/slapd.conf" ] || [ ! -f "$dir/data/data.mdb" ] || [ ! -f "$dir/port" ]; then
		die "$dir holds no demo directory to restart (run \`$0 start $dir\` first)"
	fi
	need_tools slapd ldapsearch ss setsid timeout
	port=$(cat "$dir/port")
	valid_port "$port" || die "$dir/port: not a port: $port"
	if pid=$(running_pid "$dir"); then stop_pid "$pid"; fi
	launch "$dir" "$port" || rc=$?
	[ "$rc" -ne 3 ] || die "port $port on 127.0.0.1 is in use: cannot restart on it"
}

cmd_status() {
	local dir pid
	dir=$(run_dir_arg "$@")
	if pid=$(running_pid "$dir"); then
		note "slapd (pid $pid) runs for $dir"
		cat "$dir/uri"
		return 0
	fi
	note "no slapd runs for $dir"
	exit 3
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
restart) cmd_restart "$@" ;;
status) cmd_status "$@" ;;
-h | --help | help) usage ;;
*) note "unknown command: $cmd"; usage ;;
esac
