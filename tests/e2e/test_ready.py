"""GET /ready against a real Redis: up, stopped, restarted, stalled,
script cache flushed, password protected."""
import time

from servers import assert_problem, wait_for

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
