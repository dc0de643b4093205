"""GET /ready against a real Redis: up, stopped, restarted, stalled,
script cache flushed, password protected; over a unix socket, in another
database; reconnecting with capped exponential backoff."""
import re
import time

import pytest

from servers import assert_problem, free_port, redis_cluster_mode, slack, wait_for

SCHEMA_KEY = "korpu:{meta}:schema"


def assert_unavailable(r):
    body = assert_problem(r, 503)
    assert "redis" in body["detail"].lower(), body
    retry = r.header("Retry-After")
    assert retry is not None and retry.isdigit() and int(retry) >= 1, retry
    return body


def test_ready_when_redis_is_up(korpud, redis):
    r = korpud.get("/ready")
    assert r.status == 200, r.body
    assert r.body == {"status": "ready", "checks": {"redis": "up", "ldap": "up"}}
    assert r.header("Content-Type", "").startswith("application/json")


def test_ready_stamps_the_data_schema(korpud, redis):
    assert korpud.get("/ready").status == 200
    assert redis.call("GET", SCHEMA_KEY) == b"1"


def test_ready_follows_redis_down_and_back(korpud, redis):
    pid = korpud.pid
    redis.stop()
    t0 = time.monotonic()

    def unavailable():
        r = korpud.get("/ready", timeout=3.0)
        return r if r.status == 503 else None
    r = wait_for(unavailable, 2.0, what="/ready 503 after Redis stopped")
    assert time.monotonic() - t0 < 2.0
    assert_unavailable(r)
    # While Redis is away every answer is prompt, and liveness is unaffected.
    for _ in range(3):
        t = time.monotonic()
        assert_unavailable(korpud.get("/ready", timeout=3.0))
        assert time.monotonic() - t < 1.0
    assert korpud.get("/health").status == 200

    redis.start()       # same port, same folder
    korpud.wait_ready(200, timeout=5.0)
    assert korpud.pid == pid and korpud.running(), "korpud restarted"
    korpud.wait_log(r"redis: connection lost")
    assert redis.call("GET", SCHEMA_KEY) == b"1"


def test_ready_never_hangs_on_a_stalled_redis(make_korpud, redis):
    timeout_ms = 500
    k = make_korpud(conf={"redis": {"command_timeout_ms": timeout_ms}})
    limit = timeout_ms / 1000.0 + 1.0
    redis.sigstop()
    try:
        for _ in range(4):
            t = time.monotonic()
            r = k.get("/ready", timeout=10.0)
            took = time.monotonic() - t
            assert took < limit, "/ready took %.2f s on a stalled Redis" % took
            assert_unavailable(r)
        assert k.get("/health", timeout=2.0).status == 200
        k.wait_log(r"no reply (from Redis )?within %d ms" % timeout_ms)
    finally:
        redis.sigcont()
    k.wait_ready(200, timeout=5.0)


def test_ready_survives_script_flush(korpud, redis):
    assert korpud.get("/ready").status == 200
    mark = korpud.log_mark()
    assert redis.call("SCRIPT", "FLUSH") == "OK"
    r = korpud.get("/ready")
    assert r.status == 200, r.body
    korpud.wait_log(r"redis: script schema was not cached; sending it again", start=mark)
    # The fallback cached the script again: no second resend.
    assert korpud.get("/ready").status == 200
    # (background work may resend its own scripts, e.g. apply: count schema's)
    assert korpud.log_text()[mark:].count("script schema was not cached") == 1
    assert redis.call("GET", SCHEMA_KEY) == b"1"


def test_redis_password_from_password_file(make_redis, make_korpud, tmp_path):
    password = "p4ss-w0rd with spaces"
    r = make_redis(password=password)
    secret = tmp_path / "redis.secret"
    secret.write_text(password + "\n")
    k = make_korpud(redis_port=r.port, ready=False,
                    conf={"redis": {"password_file": str(secret)}})
    k.wait_ready(200, timeout=5.0)
    assert r.call("GET", SCHEMA_KEY) == b"1"
    assert password not in k.log_text()


def test_redis_wrong_password_is_reported(make_redis, make_korpud, tmp_path):
    r = make_redis(password="the-right-one")
    secret = tmp_path / "redis.secret"
    secret.write_text("wrong-password-42\n")
    k = make_korpud(redis_port=r.port, ready=False,
                    conf={"redis": {"password_file": str(secret)}})

    def refused():
        resp = k.get("/ready")
        if resp.status == 503 and "refused" in resp.body.get("detail", ""):
            return resp
        return None
    resp = wait_for(refused, 5.0, what="/ready naming the refused handshake")
    body = assert_unavailable(resp)
    assert "WRONGPASS" in body["detail"] or "invalid" in body["detail"], body
    k.wait_log(r"redis: handshake refused")
    assert "wrong-password-42" not in k.log_text()
    assert "wrong-password-42" not in resp.raw.decode()


def test_ready_refuses_data_from_a_newer_korpud(korpud, redis):
    redis.call("SET", SCHEMA_KEY, "99")
    try:
        r = korpud.get("/ready")
        body = assert_unavailable(r)
        assert "99" in body["detail"] and "newer" in body["detail"], body
    finally:
        redis.call("SET", SCHEMA_KEY, "1")
    assert korpud.get("/ready").status == 200
    assert redis.call("GET", SCHEMA_KEY) == b"1"


def test_ready_recovers_from_a_killed_connection(korpud, redis):
    assert redis.call("CLIENT", "KILL", "TYPE", "normal") >= 1
    korpud.wait_log(r"redis: connection lost")
    korpud.wait_ready(200, timeout=5.0)


def test_ready_names_the_directory_when_it_is_down(make_slapd, make_korpud):
    """/ready checks the staff directory too (API.md: Redis and LDAP
    reachable): 503 naming ldap while slapd is stopped, 200 once it is back,
    with korpud never restarted."""
    s = make_slapd()
    k = make_korpud(ldap=s)
    s.stop()
    def down():
        r = k.get("/ready")
        return r if r.status == 503 else None
    r = wait_for(down, 10, interval=0.2, what="/ready 503")
    assert_problem(r, 503)
    assert r.body["detail"].startswith("ldap:"), r.body
    assert r.header("Retry-After")
    s.start()
    k.wait_ready(200, timeout=15.0)


def test_redis_over_a_unix_socket(make_redis, make_korpud):
    """redis.socket: korpud talks to a Redis that has no TCP port at all
    (the port korpud is also given has nothing behind it)."""
    r = make_redis(unixsocket=True)
    assert r.port is None
    k = make_korpud(redis_port=free_port(), ready=False,
                    conf={"redis": {"socket": str(r.socket_path)}})
    k.wait_ready(200, timeout=slack(5.0, 20.0))
    k.wait_log(r"redis: connected and ready \(%s, db 0\)" % re.escape(str(r.socket_path)))
    assert r.call("GET", SCHEMA_KEY) == b"1"
    # a write through the link: the sign-in's session
    token = k.sign_in("lmammadova")
    assert k.get("/api/v1/me", token=token).status == 200
    assert r.call("KEYS", "korpu:session:*"), "no session key written over the socket"


def test_redis_socket_that_is_not_there_is_reported(make_korpud, tmp_path):
    k = make_korpud(redis_port=free_port(), ready=False,
                    conf={"redis": {"socket": str(tmp_path / "nothing.sock")}})
    k.wait_log(r"redis: cannot connect: No such file or directory")
    body = assert_unavailable(k.get("/ready"))
    assert "cannot connect" in body["detail"], body


@pytest.mark.skipif(redis_cluster_mode(),
                    reason="a Redis in cluster mode has database 0 only (SELECT is refused)")
def test_redis_db_keeps_korpus_keys_in_that_database(make_korpud, redis):
    k = make_korpud(conf={"redis": {"db": 3}})
    k.wait_log(r"redis: connected and ready \(127\.0\.0\.1:%d, db 3\)" % redis.port)
    token = k.sign_in("lmammadova")
    assert k.get("/api/v1/me", token=token).status == 200
    with redis.client() as c:
        assert c.call("SELECT", 3) == "OK"
        assert c.call("GET", SCHEMA_KEY) == b"1"
        assert c.call("KEYS", "korpu:session:*"), "no session key in db 3"
    assert redis.call("KEYS", "*") == [], "korpud wrote to db 0"


def test_reconnects_back_off_doubling_up_to_the_cap(make_korpud, redis):
    """redis.reconnect_min_ms / reconnect_max_ms: after the connection is
    lost, attempts wait min, then twice as long each time, up to max (each
    with up to a quarter more of jitter). Redis stays away for 4 s.

    Without the cap (50, 100, 200, ... ms) attempts would start at about
    0.05, 0.15, 0.35, 0.75, 1.55, 3.15 s (later with jitter): 6 in those
    4 s, each logged delay past 200 ms too long. Without the doubling
    (every 50-62 ms) there would be about 70 attempts. Capped at 200 ms
    there are about 20, and korpud is ready at most about 250 ms after
    Redis is back. Every bound below leaves a wide margin on both sides;
    timers are real time under valgrind too."""
    min_ms, max_ms, down_s = 50, 200, 4.0
    k = make_korpud(conf={"log": {"level": "debug"},
                          "redis": {"reconnect_min_ms": min_ms, "reconnect_max_ms": max_ms}})
    mark = k.log_mark()
    redis.stop()
    stopped = time.monotonic()
    time.sleep(down_s)
    window = k.log_text()[mark:]
    redis.start()               # same port; in cluster mode ~2 s more until the cluster is ok
    back = time.monotonic()
    k.wait_ready(200, timeout=slack(10.0, 20.0))
    ready = time.monotonic()

    # What korpud says it waits: min, doubling, capped (the first delay
    # follows the lost connection, each further one a failed attempt).
    delays = [int(ms) for ms in re.findall(r"redis: next connection attempt in (\d+) ms",
                                           window)]
    assert len(delays) >= 5, window[-3000:]
    for i, ms in enumerate(delays):
        base = min(min_ms << min(i, 20), max_ms)
        assert base <= ms <= base + base // 4, \
            "attempt %d waited %d ms, not %d (+25%%): %r" % (i + 1, ms, base, delays)

    # What it does: attempts while Redis was away, and how soon it is back.
    attempts = len(re.findall(r"redis: cannot connect", window))
    assert 10 <= attempts <= 40, "%d attempts in %.0f s:\n%s" % (attempts, down_s, window[-3000:])
    assert ready - back < slack(3.0, 6.0), \
        "ready %.1f s after Redis was back (%.1f s after it stopped)" % (ready - back,
                                                                      ready - stopped)
