"""The web client's files: served from web.root out of memory, revalidated
by ETag, gzipped for browsers that take it, re-read on SIGHUP, never
anything outside the root or of an unknown type; security headers on
every answer."""
import gzip
import re
import signal

import pytest

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def write_site(k):
    web = k.dir / "web"
    (web / "js").mkdir(exist_ok=True)
    (web / "index.html").write_text("<!doctype html><title>korpu</title><p>home</p>\n")
    (web / "js" / "app.js").write_text("export const x = 1;\n")
    (web / "js" / "big.js").write_text("// a comment that repeats\n" * 400)
    (web / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (web / "app.css").write_text("body{margin:0}\n")
    (web / "notes.md").write_text("never served: unknown type\n")
    (web / ".secret.js").write_text("never served: a dotfile\n")
    (k.dir / "outside.js").write_text("never served: outside the root\n")


@pytest.fixture
def site(make_korpud):
    k = make_korpud(start=False)
    write_site(k)
    k.start()
    return k


def test_index_and_assets_with_types(site):
    r = site.get("/", token=False)
    assert r.status == 200
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    assert b"<p>home</p>" in r.raw
    assert site.get("/index.html", token=False).raw == r.raw
    js = site.get("/js/app.js", token=False)
    assert js.status == 200 and js.header("Content-Type") == "text/javascript; charset=utf-8"
    assert js.raw == b"export const x = 1;\n"
    css = site.get("/app.css", token=False)
    assert css.header("Content-Type") == "text/css; charset=utf-8"


def test_head_gives_length_without_body(site):
    r = site.request("HEAD", "/js/app.js", token=False)
    assert r.status == 200 and r.raw == b""
    assert r.header("Content-Length") == str(len(b"export const x = 1;\n"))


def test_etag_revalidation(site):
    r = site.get("/js/app.js", token=False)
    etag = r.header("ETag")
    assert re.fullmatch(r'"[0-9a-f]{20}"', etag)
    assert r.header("Cache-Control") == "no-cache"
    again = site.get("/js/app.js", token=False, headers={"If-None-Match": etag})
    assert again.status == 304 and again.raw == b""
    assert site.get("/js/app.js", token=False,
                    headers={"If-None-Match": 'W/"nope", ' + etag}).status == 304
    other = site.get("/js/app.js", token=False, headers={"If-None-Match": '"0000"'})
    assert other.status == 200 and other.raw


@pytest.mark.parametrize("path", ["/notes.md", "/.secret.js", "/../outside.js",
                                  "/%2e%2e/outside.js", "/js/../../outside.js",
                                  "/js/", "/nothing.html", "/api/v1/nothing"])
def test_never_served(site, path):
    r = site.get(path, token=False)
    assert r.status == 404
    assert r.header("Content-Type") == "application/problem+json"


def test_only_get_and_head(site):
    r = site.post("/index.html", token=False, body=b"{}",
                  headers={"Content-Type": "application/json"})
    assert r.status == 404


@pytest.mark.parametrize("path", ["/", "/js/app.js", "/health", "/api/v1/me", "/nothing"])
def test_security_headers_on_every_answer(site, path):
    r = site.get(path, token=False)
    for name, value in SECURITY.items():
        assert r.header(name) == value, (path, name)
    csp = r.header("Content-Security-Policy")
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"      # no inline script, no eval
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp


def test_sighup_rereads_files(site):
    old = site.get("/js/app.js", token=False)
    (site.dir / "web" / "js" / "app.js").write_text("export const x = 2;\n")
    (site.dir / "web" / "new.css").write_text("p{color:#000}\n")
    assert site.get("/js/app.js", token=False).raw == old.raw      # read once, at load
    mark = site.log_mark()
    site.send_signal(signal.SIGHUP)
    site.wait_log(r"reload: configuration reloaded", start=mark)
    new = site.get("/js/app.js", token=False)
    assert new.raw == b"export const x = 2;\n"
    assert new.header("ETag") != old.header("ETag")
    assert site.get("/new.css", token=False).status == 200


def test_a_missing_web_root_stops_korpud_t_with_file_and_line(make_korpud):
    from servers import line_of, run_korpud
    k = make_korpud(start=False, conf={"web": {"root": "no-such-dir"}})
    text = k.config_text()
    p = run_korpud(["-t", "-c", str(k.write_config(text))])
    assert p.returncode == 1
    assert "korpud.conf:%d" % line_of(text, "no-such-dir") in p.stderr, p.stderr
    assert "web.root" in p.stderr


def test_text_is_gzipped_for_browsers_that_take_it(site):
    plain = site.get("/js/big.js", token=False)
    assert plain.header("Content-Encoding") is None
    assert plain.header("Vary") == "Accept-Encoding"
    r = site.get("/js/big.js", token=False, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert r.status == 200
    assert r.header("Content-Encoding") == "gzip"
    assert r.header("Vary") == "Accept-Encoding"
    assert len(r.raw) < len(plain.raw) // 5
    assert gzip.decompress(r.raw) == plain.raw
    assert r.header("ETag") != plain.header("ETag")              # a variant of its own
    again = site.get("/js/big.js", token=False, headers={"Accept-Encoding": "gzip",
                                                           "If-None-Match": r.header("ETag")})
    assert again.status == 304
    head = site.request("HEAD", "/js/big.js", token=False, headers={"Accept-Encoding": "gzip"})
    assert head.header("Content-Length") == str(len(r.raw)) and head.raw == b""


@pytest.mark.parametrize("accept", ["", "identity", "gzip;q=0", "deflate, br", "x-gzip2"])
def test_no_gzip_unless_asked(site, accept):
    r = site.get("/js/big.js", token=False, headers={"Accept-Encoding": accept} if accept else {})
    assert r.header("Content-Encoding") is None
    assert r.raw.startswith(b"// a comment")


def test_small_files_and_images_go_as_they_are(site):
    for path in ("/js/app.js", "/logo.png"):
        r = site.get(path, token=False, headers={"Accept-Encoding": "gzip"})
        assert r.status == 200 and r.header("Content-Encoding") is None, path
        assert r.header("Vary") is None, path
