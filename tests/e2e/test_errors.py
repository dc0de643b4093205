"""Every error is an RFC 9457 problem document, including the ones
libevent answers before korpud routes the request."""
import json
import socket
import threading

import pytest

from servers import API_BODY_MAX, assert_problem, parse_raw_response, raw_exchange, read_until_close

CHECK = "/api/v1/areas/clinics/check"
VALID = {"fields": {"urgency": "routine", "service_category": "dental", "reason": "toothache"}}


def padded_json(size):
    """A valid check body of exactly size bytes (JSON allows trailing
    white space)."""
    text = json.dumps(VALID).encode()
    assert len(text) <= size
    return text + b" " * (size - len(text))


@pytest.mark.parametrize("path", [
    "/nope", "/health/", "/api/v1/areas/", "/api/v1", "/api/v1/areas/clinics",
    "/api/v1/areas/clinics/check/", "//health", "/HEALTH",
])
def test_unknown_route_is_404(api_korpud, path):
    r = api_korpud.get(path)
    assert_problem(r, 404)
    assert r.header("X-Request-Id")


@pytest.mark.parametrize("method,path,allow", [
    ("POST", "/health", "GET"),
    ("DELETE", "/ready", "GET"),
    ("PUT", "/api/v1/areas", "GET"),
    ("GET", CHECK, "POST"),
    ("PATCH", CHECK, "POST"),
])
def test_wrong_method_is_405_with_allow(api_korpud, method, path, allow):
    r = api_korpud.request(method, path, body=b"" if method != "GET" else None)
    assert_problem(r, 405)
    allowed = [m.strip() for m in (r.header("Allow") or "").split(",")]
    assert allow in allowed, r.header("Allow")
    assert method not in allowed


@pytest.mark.parametrize("ctype", ["text/plain", None, "application/x-www-form-urlencoded",
                                   "application/json; charset=latin-1"])
def test_check_needs_json_content_type(api_korpud, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    r = api_korpud.post(CHECK, body=json.dumps(VALID).encode(), headers=headers)
    assert_problem(r, 415)


@pytest.mark.parametrize("body", [
    b'{"fields": {"urgency": ',
    b"{'fields': {}}",
    b"[]",
    b'[{"fields": {}}]',
    b'"fields"',
    b"42",
    b"",
    b'{"fields": {}, "fields": {}}',
], ids=["truncated", "single-quotes", "empty-array", "array", "string", "number",
        "empty", "duplicate-key"])
def test_bad_json_body_is_400(api_korpud, body):
    r = api_korpud.post(CHECK, body=body, headers={"Content-Type": "application/json"})
    assert_problem(r, 400)


def test_body_at_the_limit_passes_and_one_byte_over_is_413(api_korpud):
    r = api_korpud.post(CHECK, body=padded_json(API_BODY_MAX),
                        headers={"Content-Type": "application/json"})
    assert r.status == 200, r.body
    r = api_korpud.post(CHECK, body=padded_json(API_BODY_MAX + 1),
                        headers={"Content-Type": "application/json"})
    body = assert_problem(r, 413)
    assert str(API_BODY_MAX) in body["detail"], body


def test_body_over_limit_is_413_before_media_type(api_korpud):
    r = api_korpud.post(CHECK, body=b"x" * (API_BODY_MAX * 2), headers={"Content-Type": "text/plain"})
    assert_problem(r, 413)


def test_multi_megabyte_body_is_413_problem_json(api_korpud):
    """Over libevent's own limit libevent answers by itself (as HTML);
    korpud must still send a problem document."""
    size = 5 * 1024 * 1024
    s = socket.create_connection(("127.0.0.1", api_korpud.port), timeout=10)
    try:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % (CHECK.encode(), size))

        def send_body():
            chunk = b" " * 65536
            try:
                for _ in range(size // len(chunk)):
                    s.sendall(chunk)
            except OSError:
                pass        # the server answered and closed: expected
        t = threading.Thread(target=send_body, daemon=True)
        t.start()
        data = read_until_close(s, timeout=10)
        t.join(10)
    finally:
        s.close()
    status, headers, body = parse_raw_response(data)
    assert b"<HTML" not in data.upper(), data[:400]
    assert_problem((status, headers, body), 413)
    assert api_korpud.get("/health").status == 200


def test_multi_megabyte_body_via_http_client(api_korpud):
    """The same with a whole body sent by http.client: either the answer
    is a 413 problem document, or the server closed before the client got
    the body out (never an HTML page)."""
    try:
        r = api_korpud.post(CHECK, body=b" " * (3 * 1024 * 1024),
                            headers={"Content-Type": "application/json"}, timeout=10)
    except (BrokenPipeError, ConnectionResetError):
        return
    assert_problem(r, 413)


@pytest.mark.parametrize("data", [
    b"GARBAGE\r\n\r\n",
    b"GET /health HTTP/1.1\r\nThis header has no colon\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /health HTTP/1.1\r\nContent-Length: banana\r\n\r\n",
    b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
], ids=["garbage", "header-without-colon", "no-uri", "bad-content-length", "huge-header"])
def test_malformed_http_gets_problem_json(api_korpud, data):
    raw = raw_exchange(api_korpud.port, data, timeout=5)
    assert raw, "connection closed without an answer"
    assert b"<HTML" not in raw.upper(), raw[:400]
    status, headers, body = parse_raw_response(raw)
    assert 400 <= status < 500, raw[:400]
    assert_problem((status, headers, body), status)
    assert api_korpud.get("/health").status == 200


@pytest.mark.parametrize("method", [b"TRACE", b"CONNECT"])
def test_unsupported_method_is_a_proper_problem(api_korpud, method):
    raw = raw_exchange(api_korpud.port, method + b" /health HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
    assert b"<HTML" not in raw.upper(), raw[:400]
    status, headers, body = parse_raw_response(raw)
    assert status in (405, 501), raw[:300]
    doc = assert_problem((status, headers, body), status)
    assert doc["title"] == {405: "Method Not Allowed", 501: "Not Implemented"}[status], doc
    assert raw.startswith(b"HTTP/1.1 %d %s\r\n" % (status, doc["title"].encode())), raw[:60]


def test_deeply_nested_json_is_400(korpud):
    """Past jansson's depth limit: a 400, not a crash (the ASan build
    would report a stack overflow)."""
    korpud.auth_token = korpud.sign_in("lmammadova")
    deep = b"[" * 20000 + b"]" * 20000
    r = korpud.post(CHECK, body=b'{"fields":' + deep + b"}",
                    headers={"Content-Type": "application/json"})
    assert_problem(r, 400)
    assert korpud.get("/health").status == 200


def test_keep_alive_connection_serves_many_requests(api_korpud):
    """Errors answered by korpud leave the connection usable."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", api_korpud.port, timeout=5)
    try:
        for method, path, body, headers, status in [
                ("GET", "/health", None, {}, 200),
                ("GET", "/nope", None, {}, 404),
                ("POST", CHECK, b"x", {"Content-Type": "text/plain"}, 415),
                ("POST", CHECK, b"{", {"Content-Type": "application/json"}, 400),
                ("POST", CHECK, padded_json(API_BODY_MAX + 10), {"Content-Type": "application/json"}, 413),
                ("POST", CHECK, json.dumps(VALID).encode(), {"Content-Type": "application/json"}, 200),
                ("GET", "/api/v1/areas", None, {}, 200)]:
            headers = dict(headers, Authorization="Bearer " + api_korpud.auth_token)
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            r.read()
            assert r.status == status, (method, path, r.status)
            assert not r.will_close, (method, path)
    finally:
        c.close()


def test_head_response_has_no_body(api_korpud):
    s = socket.create_connection(("127.0.0.1", api_korpud.port), timeout=5)
    try:
        s.sendall(b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_until_close(s, timeout=2, whole_response=False)
    finally:
        s.close()
    head, sep, rest = data.partition(b"\r\n\r\n")
    assert sep and head.startswith(b"HTTP/1.1 200"), data[:300]
    assert rest.startswith(b"HTTP/1.1 200"), \
        "bytes after the HEAD response's headers: %r" % rest[:80]
