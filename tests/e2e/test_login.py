"""Staff sign-in (POST /api/v1/login), the session it makes (GET
/api/v1/me with the bearer token or the cookie), sign-out (POST
/api/v1/logout) and the session's end (idle timeout, absolute lifetime),
against the demo directory in a real slapd."""
import hashlib
import re
import statistics
import threading
import time
from datetime import datetime, timezone

import pytest

from ldap_server import DEMO_USERS, user_dn, users_with_role
from servers import (AREAS, LOGIN, LOGOUT, ME, SESSION_COOKIE, assert_problem,
                     parse_set_cookie, set_cookies, wait_for)

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
LEYLA = "lmammadova"
LEYLA_PASSWORD = DEMO_USERS[LEYLA]["password"]
STAFF = sorted(u for u, d in DEMO_USERS.items() if d["role"])
NO_ROLE = users_with_role(None)
DEFAULT_LIFETIME_S = 43200      # servers.Korpud's sessions.lifetime_s
DENIED = "unknown user name or wrong password"


def session_cookie(resp):
    """(value, attributes) of the one korpu_session cookie resp sets."""
    cookies = [parse_set_cookie(v) for v in set_cookies(resp)]
    mine = [c for c in cookies if c[0] == SESSION_COOKIE]
    assert len(mine) == 1 and len(cookies) == 1, set_cookies(resp)
    return mine[0][1], mine[0][2]


def me(k, token=None, cookie=None):
    headers = {"Cookie": "%s=%s" % (SESSION_COOKIE, cookie)} if cookie else {}
    return k.get(ME, token=token or False, headers=headers)


def assert_denied(r):
    body = assert_problem(r, 401, detail_contains=DENIED)
    assert not set_cookies(r), set_cookies(r)
    assert "token" not in body
    return body


def timed_login(k, username, password):
    t = time.monotonic()
    r = k.login(username, password)
    return r, time.monotonic() - t


# ---- signing in ------------------------------------------------------------

@pytest.mark.parametrize("uid", STAFF)
def test_sign_in_answers_token_user_and_cookie(staff_korpud, uid):
    demo = DEMO_USERS[uid]
    before = time.time()
    r = staff_korpud.login(uid, demo["password"])
    assert r.status == 200, r.body
    assert r.header("Content-Type", "").startswith("application/json")
    assert set(r.body) == {"token", "expires_at", "user"}, r.body
    token = r.body["token"]
    assert isinstance(token, str) and TOKEN.fullmatch(token), token

    exp = r.body["expires_at"]
    assert RFC3339.fullmatch(exp), exp
    at = datetime.fromisoformat(exp.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp()
    assert before + DEFAULT_LIFETIME_S - 5 <= at <= time.time() + DEFAULT_LIFETIME_S + 5, exp

    user = r.body["user"]
    assert set(user) == {"uid", "name", "roles", "organization", "areas"}, user
    assert user["uid"] == uid
    assert user["name"] == demo["name"], user
    assert demo["name"].encode("utf-8") in r.raw, "the name is not sent as UTF-8: %r" % r.raw
    assert user["roles"] == [demo["role"]], user
    assert user["organization"] == demo["organization"], user
    # Staff of the migration service work in every area; a provider in
    # those its entry names (businessCategory), in korpud's order.
    assert user["areas"] == demo.get("areas", list(AREAS)), user

    value, attrs = session_cookie(r)
    assert value == token
    assert attrs.get("path") == "/", attrs
    assert attrs.get("httponly") is True, attrs
    assert attrs.get("samesite") == "Strict", attrs
    assert "secure" not in attrs, "Secure without sessions.cookie_secure: %r" % attrs
    assert attrs.get("max-age") == str(DEFAULT_LIFETIME_S), attrs

    by_bearer = me(staff_korpud, token=token)
    assert by_bearer.status == 200, by_bearer.body
    assert by_bearer.body == user
    by_cookie = me(staff_korpud, cookie=token)
    assert by_cookie.status == 200, by_cookie.body
    assert by_cookie.body == user
    # Among other cookies, in any position.
    r = staff_korpud.get(ME, token=False, headers={
        "Cookie": "theme=dark; %s=%s; lang=az" % (SESSION_COOKIE, token)})
    assert r.status == 200 and r.body == user, r.body
    assert staff_korpud.post(LOGOUT, token=token).status == 204


def test_secure_cookie_with_cookie_secure(make_korpud):
    k = make_korpud(conf={"sessions": {"cookie_secure": True}})
    r = k.login(LEYLA, LEYLA_PASSWORD)
    assert r.status == 200, r.body
    value, attrs = session_cookie(r)
    assert value == r.body["token"]
    assert attrs.get("secure") is True, attrs
    assert attrs.get("httponly") is True and attrs.get("samesite") == "Strict", attrs
    out = k.post(LOGOUT, token=value)
    assert out.status == 204
    _, attrs = session_cookie(out)
    assert attrs.get("secure") is True, attrs


@pytest.mark.parametrize("uid", NO_ROLE)
def test_account_in_no_korpu_group_is_403(staff_korpud, uid):
    r = staff_korpud.login(uid, DEMO_USERS[uid]["password"])
    body = assert_problem(r, 403)
    assert "token" not in body and not set_cookies(r), r.raw


def test_user_names_and_passwords_are_checked(staff_korpud):
    for body in ({"password": "x"}, {"username": "", "password": "x"},
                 {"username": LEYLA}, {"username": 7, "password": "x"},
                 {"username": LEYLA, "password": None},
                 {"username": "a" * 257, "password": "x"},
                 {"username": "lmam\tmadova", "password": "x"}):
        r = staff_korpud.post(LOGIN, json_body=body, token=False)
        doc = assert_problem(r, 422)
        assert doc.get("errors"), doc
        assert not set_cookies(r)
    r = staff_korpud.post(LOGIN, body=b"username=x&password=y", token=False,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(r, 415)


# ---- failed sign-ins look alike -------------------------------------------

def test_unknown_user_and_wrong_password_look_alike(staff_korpud):
    """Same status, same bytes, about the same time (the floor of ~300 ms):
    nothing tells an unknown name from a wrong password."""
    times = {"unknown": [], "wrong": [], "empty": []}
    bodies = {}
    for i in range(3):
        for kind, (name, password) in (("unknown", ("nosuch%d" % i, LEYLA_PASSWORD)),
                                       ("wrong", (LEYLA, "wrong-password-%d" % i)),
                                       ("empty", (LEYLA, ""))):
            r, took = timed_login(staff_korpud, name, password)
            assert_denied(r)
            assert r.header("Content-Type") == "application/problem+json", r.header("Content-Type")
            assert r.header("Retry-After") is None
            bodies.setdefault(kind, set()).add(r.raw)
            times[kind].append(took)
    assert len(bodies["unknown"]) == 1 and bodies["unknown"] == bodies["wrong"] == bodies["empty"], \
        bodies
    for kind, ts in times.items():
        assert min(ts) >= 0.25, "a %s sign-in failed after %.3f s (floor ~0.3 s)" % (kind, min(ts))
    med = {k: statistics.median(v) for k, v in times.items()}
    assert abs(med["unknown"] - med["wrong"]) < 0.15, med
    assert abs(med["empty"] - med["wrong"]) < 0.15, med


def test_empty_password_never_reaches_the_directory(make_slapd, make_korpud):
    """slapd here takes a DN with an empty password as an anonymous bind
    that succeeds; korpud must refuse the empty password itself, with no
    bind at all."""
    s = make_slapd(allow_anon_dn=True, stats=True)
    assert s.simple_bind(user_dn(LEYLA), "")[0] == 0, "slapd refuses DN+empty password"
    k = make_korpud(ldap=s, conf={"sessions": {"max_failures": 100}})
    bind_line = re.compile(r'BIND dn="%s" method=128' % re.escape(user_dn(LEYLA)), re.I)

    def binds(start):
        return len(bind_line.findall(s.log_text()[start:]))
    mark = len(s.log_text())
    empty = k.login(LEYLA, "")
    assert_denied(empty)
    # The check can see binds: a wrong password makes one (a later line,
    # so once it is in the log, any bind of the empty attempt is too).
    wrong = k.login(LEYLA, "not-her-password")
    assert_denied(wrong)
    assert wrong.raw == empty.raw
    wait_for(lambda: binds(mark) >= 1, 5.0, what="the wrong password's BIND in slapd.log")
    assert binds(mark) == 1, "the empty password reached slapd as a bind:\n%s" % s.log_text()[mark:]
    ok = k.login(LEYLA, LEYLA_PASSWORD)
    assert ok.status == 200, ok.body
    wait_for(lambda: binds(mark) == 2, 5.0, what="the right password's BIND in slapd.log")
    # Nor does a name with an empty password bind as anyone else.
    mark = len(s.log_text())
    assert_denied(k.login("*", ""))
    assert_denied(k.login("equliyev", ""))
    assert k.login(LEYLA, LEYLA_PASSWORD).status == 200
    wait_for(lambda: binds(mark) == 1, 5.0, what="the right password's BIND")
    any_bind = re.findall(r'BIND dn="([^"]*)" method=128', s.log_text()[mark:])
    assert any_bind == [user_dn(LEYLA)], any_bind


@pytest.mark.parametrize("name", [
    "lmammad*", "*", "lmammadova)(uid=*", "(uid=*)", "lmammadova\\", "\\2a",
    "*)(objectClass=*", "lmammadova)(|(uid=*", "lmammadov?", "l*a",
], ids=["prefix-star", "star", "close-paren-or", "whole-filter", "backslash", "escaped-star",
        "objectclass", "or-injection", "question", "inner-star"])
def test_filter_metacharacters_never_widen_the_search(staff_korpud, name):
    """With Leyla's real password: any name that only matches her entry as
    a filter pattern must be refused (401, never 200 nor 503)."""
    assert_denied(staff_korpud.login(name, LEYLA_PASSWORD))


def test_names_match_as_the_directory_does(staff_korpud):
    """The uid itself still signs in (the escaping changed nothing else)."""
    r = staff_korpud.login(LEYLA, LEYLA_PASSWORD)
    assert r.status == 200, r.body
    assert staff_korpud.post(LOGOUT, token=r.body["token"]).status == 204


@pytest.mark.parametrize("typed", ["LMAMMADOVA", " lmammadova "], ids=["upper", "spaces"])
def test_session_uid_is_the_directory_uid(staff_korpud, typed):
    r = staff_korpud.login(typed, LEYLA_PASSWORD)
    if r.status == 200:
        staff_korpud.post(LOGOUT, token=r.body["token"])
    assert r.status == 200, r.body
    assert r.body["user"]["uid"] == LEYLA, r.body["user"]


@pytest.mark.parametrize("raw", [
    b'{"username":"lmammadova\\u0000","password":"leyla-demo-2026"}',
    b'{"username":"lmammadova\\u0000x","password":"leyla-demo-2026"}',
    b'{"username":"lmammadova","password":"leyla-demo-2026\\u0000x"}',
    b'{"username":"lmammadova","password":"leyla-demo-2026\x00x"}',
    b'{"username":"lmammadova\x00","password":"leyla-demo-2026"}',
], ids=["nul-escape-end", "nul-escape-inside", "nul-in-password", "raw-nul-in-password",
        "raw-nul-in-name"])
def test_nul_in_name_or_password_never_signs_in(staff_korpud, raw):
    r = staff_korpud.post(LOGIN, body=raw, token=False,
                          headers={"Content-Type": "application/json"})
    assert r.status in (400, 401, 422), (r.status, r.body)
    assert_problem(r, r.status)
    assert not set_cookies(r)


def test_concurrent_sign_ins_each_get_their_own_answer(staff_korpud):
    """Many sign-ins at once (more than the LDAP workers), right and wrong
    passwords mixed: each answer belongs to its own request."""
    attempts = [(uid, DEMO_USERS[uid]["password"], 200) for uid in STAFF for _ in range(2)]
    attempts += [(uid, "wrong-" + uid, 401) for uid in STAFF[:4]]
    results = [None] * len(attempts)

    def go(i, uid, password):
        try:
            results[i] = staff_korpud.login(uid, password, timeout=30.0)
        except Exception as e:      # asserted on below
            results[i] = e
    threads = [threading.Thread(target=go, args=(i, u, p), daemon=True)
               for i, (u, p, _) in enumerate(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60.0)
    tokens = []
    for (uid, _, status), r in zip(attempts, results):
        assert not isinstance(r, Exception) and r is not None, (uid, r)
        assert r.status == status, (uid, r.status, r.body)
        if status == 200:
            assert r.body["user"]["uid"] == uid, (uid, r.body)
            tokens.append((uid, r.body["token"]))
    assert len({t for _, t in tokens}) == len(tokens)
    for uid, token in tokens:
        r = me(staff_korpud, token=token)
        assert r.status == 200 and r.body["uid"] == uid, (uid, r.body)
        assert staff_korpud.post(LOGOUT, token=token).status == 204


# ---- the session token -----------------------------------------------------

def test_sign_in_never_adopts_a_presented_cookie(staff_korpud):
    first = staff_korpud.sign_in(LEYLA)
    r = staff_korpud.login(LEYLA, LEYLA_PASSWORD,
                           headers={"Cookie": "%s=%s" % (SESSION_COOKIE, first)})
    assert r.status == 200, r.body
    second = r.body["token"]
    assert second != first
    assert session_cookie(r)[0] == second
    # A token someone made up (well-formed) is neither adopted nor valid.
    planted = "A" * 20 + "planted-by-someone" + "b" * 5
    assert TOKEN.fullmatch(planted)
    r = staff_korpud.login(LEYLA, LEYLA_PASSWORD, headers={
        "Cookie": "%s=%s" % (SESSION_COOKIE, planted), "Authorization": "Bearer " + planted})
    assert r.status == 200, r.body
    assert r.body["token"] not in (planted, first, second)
    assert_problem(me(staff_korpud, cookie=planted), 401)
    assert_problem(me(staff_korpud, token=planted), 401)
    for t in (first, second, r.body["token"]):
        assert me(staff_korpud, token=t).status == 200
        assert staff_korpud.post(LOGOUT, token=t).status == 204


def test_tokens_differ(staff_korpud):
    tokens = [staff_korpud.sign_in(LEYLA) for _ in range(5)]
    assert len(set(tokens)) == 5, tokens
    for t in tokens:
        assert staff_korpud.post(LOGOUT, token=t).status == 204


@pytest.mark.parametrize("header", [
    "Bearer ", "Bearer x", "Bearer " + "A" * 42, "Bearer " + "A" * 44, "Bearer " + "A" * 42 + "=",
    "Basic bG1hbW1hZG92YTpsZWlsYQ==", "Token " + "A" * 43,
])
def test_malformed_authorization_is_401(staff_korpud, header):
    r = staff_korpud.get(ME, token=False, headers={"Authorization": header})
    assert_problem(r, 401)


def test_tokens_and_passwords_stay_out_of_logs_and_redis(make_korpud, redis):
    k = make_korpud()
    mark = k.log_mark()
    r = k.login(LEYLA, LEYLA_PASSWORD)
    assert r.status == 200
    token = r.body["token"]
    assert me(k, token=token).status == 200
    assert me(k, cookie=token).status == 200
    assert k.get("/api/v1/areas", token=token).status == 200
    assert me(k, token=token[:-1] + ("A" if token[-1] != "A" else "B")).status == 401
    assert_denied(k.login(LEYLA, "a-wrong-passw0rd"))
    # In Redis the session is under the token's hash, never the token.
    key = "korpu:session:{%s}" % hashlib.sha256(token.encode()).hexdigest()
    assert redis.call("EXISTS", key) == 1
    dump = redis_dump(redis)
    for secret in (token, LEYLA_PASSWORD, "a-wrong-passw0rd"):
        assert secret.encode() not in dump, "%r is in Redis" % secret
    # Keys hold no user names (throttle keys use a hash).
    keys = b" ".join(redis.call("KEYS", "*"))
    assert LEYLA.encode() not in keys, keys
    assert k.post(LOGOUT, token=token).status == 204
    assert redis.call("EXISTS", key) == 0
    k.wait_log(r'"POST /api/v1/logout" 204', start=mark)
    k.stop()
    for where, text in (("korpud's log", k.log_text()),
                        ("the audit file", k.audit_path.read_text())):
        for secret in (token, LEYLA_PASSWORD, "a-wrong-passw0rd", token[:16]):
            assert secret not in text, "%r is in %s" % (secret, where)


def redis_dump(redis):
    """Every key and value in Redis, as one byte string."""
    out = []
    with redis.client() as c:
        for key in c.call("KEYS", "*"):
            out.append(key)
            kind = c.call("TYPE", key)
            if kind == "string":
                out.append(c.call("GET", key))
            elif kind == "hash":
                out.extend(c.call("HGETALL", key))
            elif kind == "stream":
                for _id, fields in c.call("XRANGE", key, "-", "+"):
                    out.extend(fields)
    return b"\n".join(v for v in out if isinstance(v, bytes))


def test_session_survives_a_korpud_restart(make_korpud):
    """Sessions live in Redis: a restarted korpud still knows them."""
    k = make_korpud()
    token = k.sign_in(LEYLA)
    k.stop()
    k.start()
    k.wait_ready(200, timeout=10.0)
    assert me(k, token=token).status == 200


# ---- signing out -----------------------------------------------------------

def test_logout_ends_the_session_at_once(staff_korpud):
    token = staff_korpud.sign_in(LEYLA)
    other = staff_korpud.sign_in(LEYLA)
    r = staff_korpud.post(LOGOUT, token=token)
    assert r.status == 204, r.body
    assert r.raw == b""
    value, attrs = session_cookie(r)
    assert value == "", value
    assert attrs.get("max-age") == "0", attrs
    assert attrs.get("path") == "/" and attrs.get("httponly") is True, attrs
    assert attrs.get("samesite") == "Strict", attrs
    assert_problem(me(staff_korpud, token=token), 401)
    assert_problem(me(staff_korpud, cookie=token), 401)
    assert_problem(staff_korpud.post(LOGOUT, token=token), 401)
    # Only that session ended.
    assert me(staff_korpud, token=other).status == 200
    # Signing out with the cookie works the same.
    r = staff_korpud.post(LOGOUT, token=False,
                          headers={"Cookie": "%s=%s" % (SESSION_COOKIE, other)})
    assert r.status == 204
    assert_problem(me(staff_korpud, token=other), 401)


def test_logout_without_a_session_is_401(staff_korpud):
    r = staff_korpud.post(LOGOUT, token=False)
    assert_problem(r, 401)
    assert not set_cookies(r)
    assert_problem(staff_korpud.post(LOGOUT, token="Z" * 43), 401)


# ---- the session's end -----------------------------------------------------

def test_session_ends_at_its_lifetime(make_korpud):
    """lifetime_s is absolute: using the session does not extend it."""
    k = make_korpud(conf={"sessions": {"lifetime_s": 2, "idle_timeout_s": 1800}})
    t0 = time.monotonic()
    r = k.login(LEYLA, LEYLA_PASSWORD)
    assert r.status == 200, r.body
    token = r.body["token"]
    assert session_cookie(r)[1].get("max-age") == "2"
    at = datetime.fromisoformat(r.body["expires_at"].replace("Z", "+00:00")).timestamp()
    assert time.time() - 1 <= at <= time.time() + 2.5, r.body["expires_at"]
    assert me(k, token=token).status == 200
    time.sleep(max(0.0, t0 + 0.5 - time.monotonic()))
    assert me(k, token=token).status == 200
    time.sleep(max(0.0, t0 + 2.5 - time.monotonic()))
    assert_problem(me(k, token=token), 401)


def test_session_ends_when_idle(make_korpud):
    """idle_timeout_s: each use extends it; unused that long, it is over
    (well before its lifetime)."""
    k = make_korpud(conf={"sessions": {"lifetime_s": 60, "idle_timeout_s": 1}})
    t0 = time.monotonic()
    token = k.sign_in(LEYLA)
    while time.monotonic() - t0 < 1.6:        # longer than the idle timeout, in use
        assert me(k, token=token).status == 200, "ended while in use"
        time.sleep(0.3)
    time.sleep(2.5)
    assert_problem(me(k, token=token), 401)
