"""servers.py - real redis-server and korpud processes for the end-to-end tests.

Everything a test starts lives in its own temporary folder and listens on
127.0.0.1 only, on a port picked at random in 20000-32767 (below the
kernel's ephemeral range) and checked free by binding it. Every process is
recorded by pid as it starts and stopped by that pid (TERM, then KILL):
kill_all() is the last resort the conftest runs at the end of the session.

With KORPU_REDIS_CLUSTER=1 in the environment every RedisServer runs in
cluster mode, one node holding all 16384 hash slots (tests/run.sh runs the
plain end-to-end suite so): Redis then refuses any command or script whose
declared keys hash to two slots (CROSSSLOT), which checks korpu's key
schema (docs/redis-keys.md) with every request the suite makes (and the
conftest fails a test whose korpud logged such a refusal). A cluster-mode
master takes 2 s to accept commands, so in that mode a few are started
ahead (SPARES). A RedisServer(unixsocket=True) listens on a unix socket
in a temporary folder only (no TCP port).

Korpud(..., ldap=slapd) points korpud at a directory (ldap_server.Slapd);
Korpud.sign_in() and Korpud.auth_token make authenticated requests (staff
sign-in, POST /api/v1/login, then Authorization: Bearer TOKEN).

Standard library only.
"""
import atexit
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import namedtuple
from pathlib import Path

import ldap_server

REPO = Path(__file__).resolve().parents[2]

# Lines a sanitizer writes when it found something.
SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "runtime error:",
    "LeakSanitizer",
    "SUMMARY: UndefinedBehaviorSanitizer",
)

SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
    "UBSAN_OPTIONS": "print_stacktrace=1",
}

AREAS = ("employment", "schools", "clinics", "housing", "integration")

# The directory timeouts korpud is configured with (Korpud(ldap=...)):
# a sign-in gives up after their sum (503).
LDAP_CONNECT_TIMEOUT_MS = 500
LDAP_OP_TIMEOUT_MS = 1000

LOGIN = "/api/v1/login"
LOGOUT = "/api/v1/logout"
ME = "/api/v1/me"
AUDIT = "/api/v1/audit"
SESSION_COOKIE = "korpu_session"

# limits.body_max of the shared API instance (conftest's api_korpud): small,
# so a 413 is cheap to reach.
API_BODY_MAX = 2048


def build_dir():
    """The build dir under test: $KORPU_BUILD, or <repo>/build/plain."""
    return Path(os.environ.get("KORPU_BUILD") or REPO / "build" / "plain").resolve()


def korpud_binary(build=None):
    return (build or build_dir()) / "core" / "korpud"


def plugin_dir(build=None):
    return (build or build_dir()) / "plugins" / ".libs"


def plugins_for_tests_dir(build=None):
    return (build or build_dir()) / "tests" / "plugins" / ".libs"


def sanitizer_problems(text):
    """The sanitizer markers found in text (empty when clean)."""
    found = [m for m in SANITIZER_MARKERS if m in text]
    # valgrind (see wrapper()) prefixes each of its reports with ==PID==.
    if re.search(r"^==\d+== ", text, re.M):
        found.append("valgrind report")
    return found


# What Redis in cluster mode answers a command or script whose keys hash
# to two slots (Redis 7.0).
CROSS_SLOT_MARKERS = ("CROSSSLOT", "do not hash to the same slot")


def cross_slot_refusals(text):
    """The lines of text (korpud's log) that carry such an answer."""
    return [line for line in text.splitlines() if any(m in line for m in CROSS_SLOT_MARKERS)]


def wrapper():
    """$KORPU_E2E_WRAPPER: a command korpud runs under (tests/run.sh runs
    part of the suite under valgrind this way), or nothing."""
    return (os.environ.get("KORPU_E2E_WRAPPER") or "").split()


def under_valgrind():
    return any("valgrind" in w for w in wrapper())


def slack(plain, valgrind):
    """A time bound: plain for a native korpud, valgrind when korpud runs
    under valgrind (10-30x slower CPU; timers keep wall-clock time)."""
    return valgrind if under_valgrind() else plain


def leak_checking(build=None):
    """Would korpud's leaks show: an ASan build (LeakSanitizer) or a run
    under valgrind?"""
    if under_valgrind():
        return True
    try:
        return b"__asan_init" in korpud_binary(build).read_bytes()
    except OSError:
        return False


def korpud_env():
    env = dict(os.environ)
    env.update(SANITIZER_ENV)
    return env


# ---- processes ----------------------------------------------------------

_live = {}          # pid -> Popen: everything started and not yet reaped
_ports_given = set()


def _track(proc):
    _live[proc.pid] = proc
    return proc


def _reap(proc, timeout):
    """Waits for proc; returns its exit code or None on timeout."""
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    _live.pop(proc.pid, None)
    return rc


def terminate(proc, timeout=5.0, sig=signal.SIGTERM):
    """Stops proc by its pid: sig (and SIGCONT, in case it was stopped),
    then SIGKILL after timeout. Returns (exit code, killed)."""
    if proc.poll() is not None:
        _live.pop(proc.pid, None)
        return proc.returncode, False
    try:
        os.kill(proc.pid, sig)
        os.kill(proc.pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
    rc = _reap(proc, timeout)
    if rc is not None:
        return rc, False
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    rc = _reap(proc, 5.0)
    return rc, True


def kill_all():
    """Last resort: kills every process still recorded."""
    _drop_spares()
    for pid, proc in list(_live.items()):
        terminate(proc, timeout=2.0)


atexit.register(kill_all)


def port_is_free(port):
    """Nothing listens on (or is bound to) 127.0.0.1:port. Connections
    in TIME_WAIT do not count: the servers bind with SO_REUSEADDR too."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port():
    """A port in 20000-32767 that nothing is bound to, never handed out
    twice in one session."""
    for _ in range(500):
        port = random.randint(20000, 32767)
        if port in _ports_given:
            continue
        if port_is_free(port):
            _ports_given.add(port)
            return port
    raise RuntimeError("no free port found in 20000-32767")


def wait_for(predicate, timeout, interval=0.02, what="condition"):
    """Polls predicate until it returns a true value (returned) or the
    deadline passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---- Redis --------------------------------------------------------------

class RedisError(Exception):
    pass


class RedisClient:
    """A minimal RESP client over one socket (enough for PING, GET,
    SCRIPT FLUSH, AUTH). port: a TCP port on 127.0.0.1, or the path of a
    unix socket (a str or Path)."""

    def __init__(self, port, password=None, timeout=2.0):
        if isinstance(port, (str, Path)):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(str(port))
            except OSError:
                self.sock.close()
                raise
        else:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        if password is not None:
            self.call("AUTH", password)

    def close(self):
        try:
            self.file.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))
        return self._read()

    def _read(self):
        line = self.file.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("Redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RedisError("unexpected reply %r" % line)


def redis_cluster_mode():
    """$KORPU_REDIS_CLUSTER set (and not 0): RedisServers run in cluster
    mode unless told otherwise."""
    return os.environ.get("KORPU_REDIS_CLUSTER", "") not in ("", "0")


# Hash slots of a Redis Cluster; a cluster-mode RedisServer holds them all.
CLUSTER_SLOTS = 16384

# The longest unix socket path (sun_path is 108 bytes with its NUL).
_UNIX_PATH_MAX = 107


def _redis_argv(workdir, port, socket_path=None, bus_port=None, password=None):
    """redis-server's command line; it runs in workdir (its cwd too), so
    its files are named relative to it (see _take_spare)."""
    argv = ["redis-server", "--dir", str(workdir), "--port", str(port or 0),
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
            "--appendfsync", "always", "--pidfile", "redis.pid",
            "--logfile", "redis.log", "--daemonize", "no"]
    if socket_path is not None:
        argv += ["--unixsocket", str(socket_path), "--unixsocketperm", "700"]
    if bus_port is not None:
        argv += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--cluster-port", str(bus_port)]
    if password is not None:
        argv += ["--requirepass", password]
    return argv


def _spawn_redis(argv, workdir):
    return _track(subprocess.Popen(
        argv, cwd=str(workdir), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True))


# A cluster-mode master refuses commands (CLUSTERDOWN) for its first 2 s
# (Redis' CLUSTER_WRITABLE_DELAY), which would add 2 s to every test. In
# cluster mode (redis_cluster_mode()) a few plain cluster-mode servers are
# therefore started ahead, each in a temporary folder of its own, and given
# every slot at once (slots added after those 2 s would wait for the
# rejoin delay, up to 5 s more); a RedisServer's first start takes one,
# older than those 2 s by then, and moves its folder into place (see
# _take_spare). Ten: tests that start their own Redis take a few tenths of
# a second each, and a spare must be 2 s old when taken (the plain run
# took 225 s with two spares, 174 s with ten; standalone about 150 s).
SPARES = 10
_Spare = namedtuple("_Spare", "proc dir port bus_port")
_spares = []


def _add_spares():
    while len(_spares) < SPARES:
        d = Path(tempfile.mkdtemp(prefix="korpu-redis-"))
        port, bus_port = free_port(), free_port()
        sp = _Spare(_spawn_redis(_redis_argv(d, port, bus_port=bus_port), d), d, port, bus_port)
        deadline = time.monotonic() + 5.0
        while True:
            try:
                with RedisClient(port, timeout=0.5) as c:
                    c.call("CLUSTER", "ADDSLOTSRANGE", 0, CLUSTER_SLOTS - 1)
                _spares.append(sp)
                break
            except (OSError, RedisError):
                if sp.proc.poll() is not None or time.monotonic() >= deadline:
                    terminate(sp.proc, timeout=2.0)
                    shutil.rmtree(str(d), ignore_errors=True)
                    return      # no spares, then: each start waits itself
                time.sleep(0.02)


def _drop_spares():
    while _spares:
        sp = _spares.pop()
        terminate(sp.proc, timeout=2.0)
        shutil.rmtree(str(sp.dir), ignore_errors=True)


atexit.register(_drop_spares)


class RedisServer:
    """redis-server on 127.0.0.1:port, all its files in workdir.

    cluster: run in cluster mode, as the only node, holding every hash
    slot (default: redis_cluster_mode()). unixsocket: listen on a unix
    socket (self.socket_path, mode 700) in workdir (or, when that path
    would be too long, in a private folder under the system's temporary
    folder) and on no TCP port (self.port is None)."""

    def __init__(self, workdir, password=None, port=None, cluster=None, unixsocket=False):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.password = password
        self.cluster = redis_cluster_mode() if cluster is None else bool(cluster)
        self.socket_path = None
        if unixsocket:
            self.port = None
            self._port_may_change = False
            self.socket_path = self.dir / "redis.sock"
            if len(str(self.socket_path)) > _UNIX_PATH_MAX:
                short = Path(tempfile.mkdtemp(prefix="korpu-redis-"))
                atexit.register(shutil.rmtree, str(short), True)
                self.socket_path = short / "redis.sock"
        else:
            self.port = port or free_port()
            self._port_may_change = port is None    # until the first start
        # The cluster bus listens on a port of its own (default: port +
        # 10000, which may be outside 20000-32767 or taken).
        self.bus_port = free_port() if self.cluster else None
        self.proc = None
        self.logfile = self.dir / "redis.log"
        self.pidfile = self.dir / "redis.pid"
        self.nodes_conf = self.dir / "nodes.conf"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def address(self):
        """What RedisClient takes: the TCP port, or the socket's path."""
        return self.socket_path if self.socket_path is not None else self.port

    def _argv(self):
        return _redis_argv(self.dir, self.port, self.socket_path, self.bus_port, self.password)

    def start(self, timeout=10.0):
        """Starts redis-server and waits until PING answers (in cluster
        mode: until the cluster state is ok). The first start moves to
        other ports if these were taken meanwhile; later starts
        (restart()) keep them."""
        if self._take_spare(timeout):
            return self
        for attempt in range(4):
            try:
                return self._start(timeout)
            except RuntimeError as e:
                if not (self._port_may_change and "in use" in str(e)) or attempt == 3:
                    raise
                self.port = free_port()
                if self.cluster:
                    self.bus_port = free_port()

    def _take_spare(self, timeout):
        """The first start of a plain cluster-mode server in cluster mode:
        takes a spare started ahead (see SPARES), moving its folder to
        self.dir (a rename: the server's cwd follows, and it names its
        files relative to it). False when there is none to take, or it
        fails; the caller then starts one of its own."""
        global SPARES
        if not (self.cluster and redis_cluster_mode() and self.proc is None and
                self._port_may_change and self.password is None and
                self.socket_path is None) or any(self.dir.iterdir()):
            return False
        _add_spares()
        if not _spares:
            return False
        sp = _spares.pop(0)
        _add_spares()
        try:
            os.rename(str(sp.dir), str(self.dir))     # replaces the empty folder
        except OSError:     # (another file system: no spares from now on)
            SPARES = 0
            terminate(sp.proc, timeout=2.0)
            shutil.rmtree(str(sp.dir), ignore_errors=True)
            _drop_spares()
            return False
        self.port, self.bus_port, self.proc = sp.port, sp.bus_port, sp.proc
        try:
            self._await(time.monotonic() + timeout, 0)
        except RuntimeError:
            terminate(self.proc, timeout=2.0)
            self.proc = None
            self.port, self.bus_port = free_port(), free_port()
            for f in list(self.dir.iterdir()):
                if f.is_dir():
                    shutil.rmtree(str(f))
                else:
                    f.unlink()
            return False
        return True

    def _start(self, timeout):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log_start = len(self.log_text())
        self.proc = _spawn_redis(self._argv(), self.dir)
        return self._await(time.monotonic() + timeout, log_start)

    def _await(self, deadline, log_start):
        """Waits until the server answers PING (in cluster mode: until
        the cluster is ok)."""
        while not self._ours_answers():
            if self.proc.poll() is not None:
                _live.pop(self.proc.pid, None)
                raise RuntimeError("redis-server exited with %s:\n%s" % (
                    self.proc.returncode, self.log_text()[log_start:][-2000:]))
            if time.monotonic() >= deadline:
                terminate(self.proc)
                raise RuntimeError("redis-server did not answer PING in time\n%s"
                                   % self.log_text()[log_start:][-2000:])
            time.sleep(0.02)
        if self.cluster:
            self._cluster_up(deadline)
        self._port_may_change = False
        return self

    def cluster_info(self):
        """CLUSTER INFO as a dict of str."""
        text = self.call("CLUSTER", "INFO").decode()
        return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)

    def _cluster_up(self, deadline):
        """Makes this node hold every slot (a restart finds them in
        nodes.conf), then waits for cluster_state:ok: a master that just
        started waits 2 s before it says ok (Redis' CLUSTER_WRITABLE_DELAY),
        and refuses commands with CLUSTERDOWN until then."""
        if int(self.cluster_info().get("cluster_slots_assigned", "0")) == 0:
            self.call("CLUSTER", "ADDSLOTSRANGE", 0, CLUSTER_SLOTS - 1)
        last = {}
        while True:
            last = self.cluster_info()
            if last.get("cluster_state") == "ok":
                return
            if self.proc.poll() is not None or time.monotonic() >= deadline:
                terminate(self.proc)
                raise RuntimeError("redis-server's cluster state is not ok: %r\n%s"
                                   % (last, self.log_text()[-2000:]))
            time.sleep(0.05)

    def _ours_answers(self):
        """PING answered, by this redis-server (not another one that
        holds the port)?"""
        try:
            with RedisClient(self.address, self.password, timeout=0.5) as c:
                if c.call("PING") != "PONG":
                    return False
                info = c.call("INFO", "server").decode()
        except (OSError, RedisError):
            return False
        m = re.search(r"^process_id:(\d+)", info, re.M)
        if m and int(m.group(1)) != self.proc.pid:
            # Someone else's server: ours will fail to bind and exit.
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            return False
        return True

    def ping(self, timeout=0.5):
        try:
            with RedisClient(self.address, self.password, timeout=timeout) as c:
                return c.call("PING") == "PONG"
        except (OSError, RedisError):
            return False

    def client(self, timeout=2.0):
        return RedisClient(self.address, self.password, timeout=timeout)

    def call(self, *args):
        with self.client() as c:
            return c.call(*args)

    def log_text(self):
        try:
            return self.logfile.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5.0):
        if self.proc is None:
            return None
        rc, _ = terminate(self.proc, timeout)
        return rc

    def restart(self, timeout=10.0):
        """Stops and starts again on the same port and folder."""
        self.stop()
        return self.start(timeout)

    def sigstop(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def sigcont(self):
        os.kill(self.proc.pid, signal.SIGCONT)


# ---- korpud configuration ---------------------------------------------

def _render_value(v, indent):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[ " + ", ".join(_render_value(x, indent) for x in v) + " ]"
    if isinstance(v, dict):
        inner = render_libconfig(v, indent + 1)
        return "{\n" + inner + "  " * indent + "}"
    raise TypeError("cannot render %r" % (v,))


def render_libconfig(d, indent=0):
    """A dict as libconfig text, one setting per line (so a test can find
    a setting's line number)."""
    out = []
    for k, v in d.items():
        out.append("%s%s = %s;\n" % ("  " * indent, k, _render_value(v, indent)))
    return "".join(out)


def deep_merge(base, over):
    """over into a copy of base; a None value removes the key."""
    result = dict(base)
    for k, v in (over or {}).items():
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict) and isinstance(result.get(k), dict):
            result[k] = deep_merge(result[k], v)
        else:
            result[k] = v
    return result


def line_of(text, needle):
    """1-based number of the first line of text containing needle."""
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError("%r not found in:\n%s" % (needle, text))


# ---- HTTP ---------------------------------------------------------------

class Response(namedtuple("Response", "status headers body raw")):
    """status, headers (case-insensitive .get), body (parsed JSON when the
    Content-Type says JSON, else bytes), raw bytes."""

    def header(self, name, default=None):
        return self.headers.get(name, default)


def _parse_body(ctype, raw):
    if raw and "json" in (ctype or "").lower():
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return raw
    return raw


def http_request(port, method, path, body=None, json_body=None, headers=None,
                 timeout=5.0, host="127.0.0.1"):
    """One request on a fresh connection. body: raw bytes (sent as is,
    no Content-Type added); json_body: a value sent as application/json."""
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        headers.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        return Response(resp.status, resp.headers, _parse_body(resp.getheader("Content-Type"), raw), raw)
    finally:
        conn.close()


def raw_exchange(port, data, timeout=5.0, shutdown_write=False):
    """Sends raw bytes on a new connection and reads one response: until
    its Content-Length is in, the server closes, or timeout. Returns the
    bytes read."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if shutdown_write:
            s.shutdown(socket.SHUT_WR)
        return read_until_close(s, timeout)
    finally:
        s.close()


def _response_complete(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return m is not None and len(body) >= int(m.group(1))


def read_until_close(s, timeout=5.0, whole_response=True):
    """Reads from s until the server closes it, timeout, or (with
    whole_response) one complete response with a Content-Length is in."""
    chunks = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not b:
            break
        chunks.append(b)
        if whole_response and _response_complete(b"".join(chunks)):
            break
    return b"".join(chunks)


def parse_raw_response(data):
    """(status, headers with lower-case names, body) of one HTTP/1.x
    response in data."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError("no complete HTTP response head in %r" % data[:500])
    lines = head.decode("iso-8859-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        raise AssertionError("not an HTTP status line: %r" % lines[0])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = body[:int(headers["content-length"])]
    return int(m.group(1)), headers, body


def assert_problem(resp, status, detail_contains=None):
    """resp is an RFC 9457 problem document for status. resp is a
    Response or a (status, headers, body-bytes) triple from a raw socket."""
    if isinstance(resp, Response):
        got, ctype, body = resp.status, resp.header("Content-Type", ""), resp.body
    else:
        got, headers, raw = resp
        ctype = headers.get("content-type", "")
        body = _parse_body(ctype, raw)
    assert got == status, "status %s, wanted %s; body %r" % (got, status, body)
    assert ctype.split(";")[0].strip() == "application/problem+json", \
        "Content-Type %r, body %r" % (ctype, body)
    assert isinstance(body, dict), "body is not a JSON object: %r" % (body,)
    for key in ("type", "title", "status", "detail"):
        assert key in body, "problem lacks %r: %r" % (key, body)
    assert body["status"] == status, body
    assert isinstance(body["type"], str) and body["type"], body
    assert isinstance(body["title"], str) and body["title"], body
    assert isinstance(body["detail"], str), body
    if detail_contains is not None:
        assert detail_contains in body["detail"], body
    return body


def parse_set_cookie(value):
    """(name, value, attributes) of one Set-Cookie header value;
    attribute names lower-cased, a flag's value True."""
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for part in parts[1:]:
        if not part:
            continue
        k, eq, v = part.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name.strip(), val.strip(), attrs


def set_cookies(resp):
    """Every Set-Cookie header value of resp, in order."""
    return resp.headers.get_all("Set-Cookie") or []


# ---- korpud -------------------------------------------------------------

class StartError(Exception):
    def __init__(self, message, returncode=None, log=""):
        super().__init__(message)
        self.returncode = returncode
        self.log = log


class Korpud:
    """One korpud in workdir: korpud.conf, plugins.d, web/, ldap.secret and
    korpud.log (its stderr and stdout).

    conf: overrides deep-merged into the default configuration (a None
    value removes a key). plugin_confs: {name: text} written to plugins.d
    instead of (or besides) the shipped files. plugins_dir: where the .so
    files are (default: the build's plugins/.libs). ldap: an
    ldap_server.Slapd the default configuration signs staff in against
    (short timeouts: LDAP_CONNECT_TIMEOUT_MS, LDAP_OP_TIMEOUT_MS); without
    it the directory is an unreachable address.

    auth_token: when set, request() sends it as Authorization: Bearer
    unless the call passes token= (token=False: no Authorization).
    The audit file is audit.jsonl in workdir (audit.file's default).
    """

    def __init__(self, workdir, redis_port, conf=None, plugin_confs=None,
                 plugins_dir=None, build=None, ldap=None):
        self.build = Path(build) if build else build_dir()
        self.binary = korpud_binary(self.build)
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.redis_port = redis_port
        self.overrides = conf or {}
        self.plugin_confs = plugin_confs or {}
        self.plugins_dir = Path(plugins_dir) if plugins_dir else plugin_dir(self.build)
        self.conf_path = self.dir / "korpud.conf"
        self.log_path = self.dir / "korpud.log"
        self.port = None
        self.proc = None
        self.returncode = None
        self.expect_exit_code = 0      # what teardown accepts
        self.slapd = ldap
        self.auth_token = None
        self.audit_path = self.dir / "audit.jsonl"
        self._log_fh = None
        self._prepare_dir()

    # -- files

    def _prepare_dir(self):
        (self.dir / "web").mkdir(exist_ok=True)
        (self.dir / "web" / "index.html").write_text("<!doctype html><title>korpu</title>\n")
        pd = self.dir / "plugins.d"
        pd.mkdir(exist_ok=True)
        for f in sorted((REPO / "conf" / "plugins.d").glob("*.conf")):
            shutil.copy(f, pd / f.name)
        for name, text in self.plugin_confs.items():
            (pd / ("%s.conf" % name)).write_text(text)
        secret = self.dir / "ldap.secret"
        secret.write_text("not-a-real-password\n")
        os.chmod(secret, 0o600)

    def default_conf(self):
        if self.port is None:
            self.port = free_port()
        return {
            "listen": ["127.0.0.1:%d" % self.port],
            "log": {"level": "info", "target": "stderr"},
            "limits": {"body_max": 65536, "connections_max": 64,
                       "request_timeout_ms": 10000, "drain_ms": 3000},
            "redis": {"host": "127.0.0.1", "port": self.redis_port, "db": 0,
                      "connect_timeout_ms": 500, "command_timeout_ms": 2000,
                      "reconnect_min_ms": 50, "reconnect_max_ms": 500},
            "ldap": self._ldap_conf(),
            "sessions": {"idle_timeout_s": 1800, "lifetime_s": 43200,
                         "cookie_secure": False, "max_failures": 5, "lockout_s": 300},
            "web": {"root": "web"},
            "plugins": {"dir": str(self.plugins_dir), "conf_dir": "plugins.d",
                        "enabled": list(AREAS)},
        }

    def _ldap_conf(self):
        timeouts = {"connect_timeout_ms": LDAP_CONNECT_TIMEOUT_MS,
                    "op_timeout_ms": LDAP_OP_TIMEOUT_MS, "pool_size": 2}
        if self.slapd is not None:
            return ldap_server.korpud_ldap_conf(self.slapd, **timeouts)
        return dict(timeouts, **{
            "uri": "ldap://127.0.0.1:1",
            "starttls": False,
            "bind_dn": "cn=korpu,ou=services,dc=korpu,dc=example",
            "bind_password_file": "ldap.secret",
            "base_dn": "ou=people,dc=korpu,dc=example",
            "user_filter": "(uid=%s)",
            "organization_attribute": "o",
            "roles": {
                "caseworker": "cn=caseworkers,ou=groups,dc=korpu,dc=example",
                "provider": "cn=providers,ou=groups,dc=korpu,dc=example",
                "supervisor": "cn=supervisors,ou=groups,dc=korpu,dc=example",
                "admin": "cn=admins,ou=groups,dc=korpu,dc=example"}})

    def config_dict(self):
        return deep_merge(self.default_conf(), self.overrides)

    def config_text(self):
        return "# written by tests/e2e/servers.py\n" + render_libconfig(self.config_dict())

    def write_config(self, text=None):
        """Writes korpud.conf (the rendered configuration, or text) and
        returns its path."""
        self.conf_path.write_text(text if text is not None else self.config_text())
        return self.conf_path

    def update_config(self, overrides):
        """Merges overrides into this instance's and rewrites the file."""
        self.overrides = deep_merge(self.overrides, overrides)
        return self.write_config()

    # -- process

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, wait=True, timeout=20.0, attempts=4):
        """Starts `korpud -f -c korpud.conf`; with wait, until /health
        answers 200. Retries on another port when the port was taken."""
        for attempt in range(attempts):
            self.write_config()
            self._spawn()
            if not wait:
                return self
            try:
                self._wait_healthy(timeout)
                return self
            except StartError as e:
                if "cannot listen" in e.log and attempt + 1 < attempts:
                    self.port = None
                    continue
                raise
        return self

    def _spawn(self):
        self.returncode = None
        if self._log_fh:
            self._log_fh.close()
        self._log_fh = open(self.log_path, "ab")
        self.proc = _track(subprocess.Popen(
            wrapper() + [str(self.binary), "-f", "-c", str(self.conf_path)],
            cwd=str(self.dir), stdin=subprocess.DEVNULL, stdout=self._log_fh,
            stderr=subprocess.STDOUT, env=korpud_env(), start_new_session=True))

    def _wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                _live.pop(self.proc.pid, None)
                raise StartError("korpud exited with %s during start" % self.returncode,
                                 self.returncode, self.log_text())
            try:
                r = http_request(self.port, "GET", "/health", timeout=0.5)
                if r.status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() >= deadline:
                raise StartError("korpud did not answer /health within %.0f s" % timeout,
                                 None, self.log_text())
            time.sleep(0.02)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        """Waits for exit; returns the exit code, or None on timeout."""
        rc = _reap(self.proc, timeout)
        if rc is not None:
            self.returncode = rc
        return rc

    def stop(self, timeout=10.0):
        """SIGTERM and wait (then SIGKILL, reported as an AssertionError).
        Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            self.returncode = self.proc.returncode
            _live.pop(self.proc.pid, None)
            return self.returncode
        rc, killed = terminate(self.proc, timeout)
        self.returncode = rc
        if killed:
            raise AssertionError("korpud did not exit within %.0f s of SIGTERM; killed.\n%s"
                                 % (timeout, self.log_text()[-3000:]))
        return rc

    def close_log(self):
        if self._log_fh:
            self._log_fh.close()
            self._log_fh = None

    # -- log

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_lines(self):
        return self.log_text().splitlines()

    def wait_log(self, pattern, timeout=5.0, start=0):
        """Waits until the log (from character offset start) matches the
        regular expression pattern; returns the match."""
        rx = re.compile(pattern)

        def found():
            return rx.search(self.log_text(), start)
        try:
            return wait_for(found, timeout, what="log line /%s/" % pattern)
        except AssertionError:
            raise AssertionError("no log line matching /%s/ within %.1f s; log:\n%s"
                                 % (pattern, timeout, self.log_text()[-3000:]))

    def log_mark(self):
        """An offset for wait_log(start=...): only what is logged after now."""
        return len(self.log_text())

    # -- HTTP

    def request(self, method, path, token=None, **kw):
        """One request; token (default: auth_token; False: none) is sent
        as Authorization: Bearer unless headers hold an Authorization."""
        token = self.auth_token if token is None else token
        if token:
            headers = dict(kw.pop("headers", None) or {})
            headers.setdefault("Authorization", "Bearer " + token)
            kw["headers"] = headers
        return http_request(self.port, method, path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def login(self, username, password, headers=None, timeout=10.0, **kw):
        """POST /api/v1/login with {username, password}; the Response.
        No Authorization header is sent (a sign-in needs none)."""
        return self.post(LOGIN, json_body={"username": username, "password": password},
                         headers=headers, token=False, timeout=timeout, **kw)

    def sign_in(self, uid, password=None, **kw):
        """Signs a demo user in (password: ldap_server.DEMO_USERS's) and
        returns the token; fails the test unless the answer is 200."""
        if password is None:
            password = ldap_server.DEMO_USERS[uid]["password"]
        r = self.login(uid, password, **kw)
        assert r.status == 200, "sign-in of %s: %s %r" % (uid, r.status, r.body)
        return r.body["token"]

    def audit_lines(self):
        """The audit file's lines (bytes, without their newlines)."""
        try:
            return self.audit_path.read_bytes().splitlines()
        except FileNotFoundError:
            return []

    def wait_audit_lines(self, n, timeout=5.0):
        """Waits until the audit file holds at least n whole lines (a
        thread of korpud's writes it); returns them."""
        def enough():
            data = self.audit_path.read_bytes() if self.audit_path.exists() else b""
            lines = data.splitlines()
            return lines if len(lines) >= n and data.endswith(b"\n") else None
        try:
            return wait_for(enough, timeout, what="%d lines in %s" % (n, self.audit_path))
        except AssertionError:
            raise AssertionError("%s holds %d lines, not %d:\n%s" % (
                self.audit_path, len(self.audit_lines()), n,
                b"\n".join(self.audit_lines()).decode(errors="replace")[-3000:]))

    def wait_ready(self, status=200, timeout=5.0):
        """Polls GET /ready until it answers status; returns that answer."""
        last = []

        def check():
            try:
                r = self.get("/ready", timeout=3.0)
            except OSError as e:
                last[:] = [e]
                return None
            last[:] = [r]
            return r if r.status == status else None
        try:
            return wait_for(check, timeout, interval=0.05, what="/ready %d" % status)
        except AssertionError:
            raise AssertionError("/ready did not answer %d within %.1f s; last answer: %r\n%s"
                                 % (status, timeout, last[0] if last else None,
                                    self.log_text()[-2000:]))


def run_korpud(args, timeout=30.0, build=None):
    """Runs korpud with args (e.g. -t -c FILE) to completion:
    a CompletedProcess with text stdout and stderr."""
    proc = _track(subprocess.Popen(
        [str(korpud_binary(build))] + list(args), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=korpud_env(),
        start_new_session=True))
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        terminate(proc, 1.0, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError("korpud %s did not finish within %.0f s" % (" ".join(args), timeout))
    finally:
        _live.pop(proc.pid, None)
    return subprocess.CompletedProcess(proc.args, proc.returncode,
                                       out.decode(errors="replace"),
                                       err.decode(errors="replace"))
