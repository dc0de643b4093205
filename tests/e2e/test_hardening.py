"""Attacks and failure modes found in review, each closed in korpud and
kept closed here: guesses in parallel, lockouts dodged by another spelling
of the name, Redis refusing writes, libevent's own error pages on a reused
connection, control characters in logged paths, and the headers 401s and
drains owe the client."""
import concurrent.futures
import socket
import threading
import time

from ldap_server import DEMO_USERS
from servers import assert_problem, raw_exchange, read_until_close, wait_for

RASHAD = "raliyev"
RASHAD_PASSWORD = DEMO_USERS[RASHAD]["password"]
ME = "/api/v1/me"


def test_parallel_guesses_stop_at_the_failure_limit(make_korpud):
    """20 wrong passwords for one name at once, max_failures 5: at most 5
    reach the directory (401); the others are refused up front (429)."""
    k = make_korpud(conf={"sessions": {"max_failures": 5, "lockout_s": 60}})
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: k.login(RASHAD, "guess").status, range(20)))
    assert answers.count(401) <= 5, answers
    assert set(answers) <= {401, 429}, answers


def test_another_spelling_of_a_locked_name_learns_nothing(make_korpud):
    """Locked out as "raliyev", an attacker tries spellings the directory
    treats as the same name. The right password must not sign in, and
    must not answer differently from a wrong one."""
    k = make_korpud(conf={"sessions": {"max_failures": 3, "lockout_s": 60}})
    for _ in range(3):
        assert k.login(RASHAD, "guess").status == 401
    assert k.login(RASHAD, RASHAD_PASSWORD).status == 429
    for variant in ["\uff52\uff41\uff4c\uff49\uff59\uff45\uff56",   # fullwidth
                    "raliye\uff56", "RALIYEV", " raliyev ", "raliyev\u3000"]:
        right = k.login(variant, RASHAD_PASSWORD)
        wrong = k.login(variant, "another-guess")
        assert right.status != 200, (variant, right.body)
        assert (right.status, right.body) == (wrong.status, wrong.body), (variant, right, wrong)


def test_redis_refusing_writes_stops_sign_ins_and_keeps_sessions(make_korpud, redis):
    """A Redis that refuses writes (a read-only replica) must not let
    guesses through uncounted, and must not look like signed-out users."""
    k = make_korpud()
    token = k.sign_in(RASHAD)
    # A cluster node cannot be made a replica by hand (REPLICAOF is refused
    # in cluster mode): there the master refuses writes for want of a
    # replica (NOREPLICAS) instead of as one (READONLY).
    refuse, allow = ((("CONFIG", "SET", "min-replicas-to-write", "1"),),
                     (("CONFIG", "SET", "min-replicas-to-write", "0"),)) if redis.cluster else \
        ((("CONFIG", "SET", "replica-read-only", "yes"), ("REPLICAOF", "127.0.0.1", "1")),
         (("REPLICAOF", "NO", "ONE"),))
    with redis.client() as c:
        for cmd in refuse:
            c.call(*cmd)
    try:
        r = k.login(RASHAD, "guess")
        assert_problem(r, 503)
        r = k.get(ME, token=token)
        assert_problem(r, 503)
        assert r.header("Retry-After")
    finally:
        with redis.client() as c:
            for cmd in allow:
                c.call(*cmd)
    assert k.get(ME, token=token).status == 200


def test_401_names_the_scheme(make_korpud):
    k = make_korpud()
    r = k.get(ME, token=False)
    assert_problem(r, 401)
    assert r.header("WWW-Authenticate", "").startswith("Bearer"), r.headers


def test_error_pages_on_a_reused_connection_are_problems(make_korpud):
    """libevent's own 413, after a first answer on the same connection,
    still reaches the client as problem+json (not HTML)."""
    k = make_korpud(conf={"limits": {"body_max": 2048}})
    s = socket.create_connection(("127.0.0.1", k.port), timeout=5)
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while b'"ok"}' not in first:
            chunk = s.recv(4096)
            assert chunk, first
            first += chunk
        s.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 50000000\r\n\r\n")
        second = read_until_close(s, timeout=5)
    finally:
        s.close()
    assert b"413" in second.split(b"\r\n", 1)[0], second[:300]
    assert b"application/problem+json" in second and b"<HTML" not in second.upper(), second[:400]


def test_control_characters_in_paths_are_escaped_in_the_log(make_korpud):
    k = make_korpud()
    raw_exchange(k.port, b"GET /nothing\x1b[31mRED\x08 HTTP/1.1\r\nHost: x\r\n\r\n")
    k.wait_log(r"\"GET /nothing\\x1b\[31mRED\\x08\" 404", timeout=5)
    assert "\x1b" not in k.log_text()


def test_answers_during_the_drain_close_the_connection(make_korpud, redis):
    """After SIGTERM, a request on an already open connection is answered
    with Connection: close, so no client keeps the drain going."""
    import signal
    k = make_korpud(conf={"limits": {"drain_ms": 3000}})
    s = socket.create_connection(("127.0.0.1", k.port), timeout=5)
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200" in s.recv(4096)
        # Keep korpud busy so the drain lasts: a request waiting on a stopped Redis.
        redis.sigstop()
        t = threading.Thread(target=lambda: k.get("/ready", timeout=10))
        t.start()
        time.sleep(0.3)         # let it reach korpud (it is answered only later)
        k.send_signal(signal.SIGTERM)
        k.wait_log(r"shutdown: no longer accepting", timeout=5)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = read_until_close(s, timeout=5)
        assert b"Connection: close" in answer, answer[:300]
    finally:
        redis.sigcont()
        s.close()
        t.join(timeout=10)
