"""GET /health, request ids and the access log."""
import re
import uuid

ACCESS_LINE = r'(?m)req=%s 127\.0\.0\.1 "%s %s" %d \d+ [0-9.]+ms$'
GENERATED_ID = re.compile(r"[0-9a-f]{16}")


def test_health_answers_ok(korpud):
    r = korpud.get("/health")
    assert r.status == 200
    assert r.body == {"status": "ok"}
    assert r.header("Content-Type", "").startswith("application/json")
    rid = r.header("X-Request-Id")
    assert rid and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", rid), rid


def test_health_does_not_depend_on_redis(korpud, redis):
    redis.stop()
    r = korpud.get("/health")
    assert r.status == 200 and r.body == {"status": "ok"}


def test_generated_request_ids_differ(korpud):
    ids = {korpud.get("/health").header("X-Request-Id") for _ in range(5)}
    assert len(ids) == 5, ids
    for rid in ids:
        assert GENERATED_ID.fullmatch(rid), rid


def test_client_request_id_is_echoed_and_logged(korpud):
    rid = "e2e-" + uuid.uuid4().hex
    r = korpud.get("/health", headers={"X-Request-Id": rid})
    assert r.status == 200
    assert r.header("X-Request-Id") == rid
    korpud.wait_log(ACCESS_LINE % (re.escape(rid), "GET", "/health", 200))


def test_client_request_id_on_an_error_is_echoed(korpud):
    rid = "err-" + uuid.uuid4().hex[:12]
    r = korpud.get("/no/such/thing", headers={"X-Request-Id": rid})
    assert r.status == 404
    assert r.header("X-Request-Id") == rid
    korpud.wait_log(ACCESS_LINE % (re.escape(rid), "GET", "/no/such/thing", 404))


def test_unsafe_request_id_is_replaced(korpud):
    for bad in ("has space", "x" * 65, "<script>", "a;b", "ok\u00e9"):
        r = korpud.get("/health", headers={"X-Request-Id": bad.encode("utf-8").decode("latin-1")})
        assert r.status == 200
        rid = r.header("X-Request-Id")
        assert rid != bad and GENERATED_ID.fullmatch(rid), (bad, rid)
    log = korpud.log_text()
    assert "<script>" not in log and "has space" not in log and "x" * 65 not in log


def test_every_request_writes_one_access_log_line(korpud):
    """One line per request, whatever its outcome, naming method, path
    (without the query string) and status."""
    korpud.auth_token = korpud.sign_in("lmammadova")
    cases = [
        ("GET", "/health", None, {}, 200),
        ("GET", "/ready", None, {}, 200),
        ("GET", "/api/v1/areas", None, {}, 200),
        ("GET", "/nope", None, {}, 404),
        ("POST", "/health", None, {}, 405),
        ("POST", "/api/v1/areas/clinics/check", b"x", {"Content-Type": "text/plain"}, 415),
        ("POST", "/api/v1/areas/clinics/check", b"{", {"Content-Type": "application/json"}, 400),
        ("POST", "/api/v1/areas/clinics/check", b'{"fields":{}}',
         {"Content-Type": "application/json"}, 422),
        ("HEAD", "/health", None, {}, 200),
    ]
    sent = []
    for i, (method, path, body, headers, status) in enumerate(cases):
        rid = "acc-%d-%s" % (i, uuid.uuid4().hex[:8])
        h = dict(headers, **{"X-Request-Id": rid})
        r = korpud.request(method, path, body=body, headers=h)
        assert r.status == status, (method, path, r.status, r.body)
        sent.append((rid, method, path, status))
    qid = "acc-q-" + uuid.uuid4().hex[:8]
    assert korpud.get("/health?name=Aysel", headers={"X-Request-Id": qid}).status == 200
    for rid, method, path, status in sent:
        korpud.wait_log(ACCESS_LINE % (re.escape(rid), method, re.escape(path), status))
    korpud.wait_log(ACCESS_LINE % (re.escape(qid), "GET", re.escape("/health?..."), 200))
    lines = korpud.log_lines()
    for rid, method, path, status in sent:
        mine = [ln for ln in lines if "req=%s " % rid in ln]
        assert len(mine) == 1, (rid, mine)
    assert "Aysel" not in korpud.log_text(), "the query string reached the log"


def test_log_level_warning_drops_info_lines(make_korpud):
    """log.level = "warning": the access log (info) is not written, and a
    reload back to "info" brings it back without a restart."""
    import signal
    k = make_korpud(conf={"log": {"level": "warning"}})
    rid = "level-check-%s" % uuid.uuid4().hex[:8]
    assert k.get("/health", headers={"X-Request-Id": rid}).status == 200
    assert "req=%s" % rid not in k.log_text()
    k.overrides["log"] = {"level": "info"}
    k.write_config()
    k.send_signal(signal.SIGHUP)
    k.wait_log(r"configuration reloaded", timeout=5)
    rid2 = rid + "-after"
    assert k.get("/health", headers={"X-Request-Id": rid2}).status == 200
    k.wait_log(r"req=%s " % re.escape(rid2), timeout=5)


def test_client_address_behind_a_trusted_proxy(make_korpud):
    """limits.trusted_proxies: from such a peer, X-Forwarded-For names the
    client (access log, audit, per-address throttling); from any other
    peer the header is ignored, so nobody can claim another address."""
    k = make_korpud(name="direct")
    k.get("/health", headers={"X-Forwarded-For": "203.0.113.7", "X-Request-Id": "xff-direct"})
    k.wait_log(r"req=xff-direct 127\.0\.0\.1 ", timeout=5)
    p = make_korpud(name="proxied", conf={"limits": {"trusted_proxies": ["127.0.0.1"]}})
    p.get("/health", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7",
                              "X-Request-Id": "xff-proxied"})
    p.wait_log(r"req=xff-proxied 203\.0\.113\.7 ", timeout=5)
