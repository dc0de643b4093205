"""What the build and the shipped files promise: configure names the
missing Debian package, warnings are on (errors with --enable-werror, as CI
builds), --enable-sanitizers means ASan and UBSan, plugins export only
their descriptor, the shipped
Redis settings are the durable ones, and the README's demo command brings
up Redis and korpud and takes them down again."""
import os
import re
import signal
import subprocess

import pytest

import servers
from servers import AREAS, REPO, free_port, http_request, plugin_dir


@pytest.mark.once
def test_configure_names_the_missing_debian_package(tmp_path):
    # An empty pkg-config search path: every library looks missing.
    env = dict(os.environ, PKG_CONFIG_LIBDIR=str(tmp_path / "nothing"), PKG_CONFIG_PATH="")
    p = subprocess.run([str(REPO / "configure"), "-q"], cwd=str(tmp_path), env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0
    assert re.search(r"libevent >= 2\.1 not found: install the Debian package libevent-dev",
                     p.stderr), p.stderr[-2000:]


# Compiles probe files with exactly the flags the configured Makefile
# gives korpu's own sources.
PROBE_MK = """include Makefile
probe.o: probe.c ; $(CC) $(DEFS) $(AM_CFLAGS) $(CFLAGS) -c probe.c -o probe.o
probe: probe.c ; $(CC) $(AM_CFLAGS) $(CFLAGS) $(LDFLAGS) probe.c -o probe
"""

# -Wall's unused variable, and a signed/unsigned comparison only -Wextra
# reports in C.
WARNS = "int probe(int a, unsigned b) { int unused; return a < b; }\n"

MISBEHAVES = r"""#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
	if (strcmp(argv[1], "heap") == 0) {
		volatile char *p = malloc((size_t)argc * 4);	/* a size known at run time only */
		p[argc * 4] = 1;
		printf("%d\n", p[argc * 4]);
		free((void *)p);
	} else {
		volatile int big = INT_MAX;
		printf("%d\n", big + argc);
	}
	return 0;
}
"""


def configure_probe(tmp_path, *flags, source):
    d = tmp_path / "build"
    d.mkdir()
    p = subprocess.run([str(REPO / "configure"), "-q"] + list(flags), cwd=str(d),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    (d / "probe.mk").write_text(PROBE_MK)
    (d / "probe.c").write_text(source)
    return d


def make_probe(d, target):
    return subprocess.run(["make", "-s", "-f", "probe.mk", target], cwd=str(d),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.once
def test_warnings_are_on_and_werror_makes_them_fail_the_build(tmp_path):
    d = configure_probe(tmp_path, "--enable-werror", source=WARNS)
    p = make_probe(d, "probe.o")
    assert p.returncode != 0, "a warning passed an --enable-werror build"
    assert "-Werror=unused-variable" in p.stderr, p.stderr
    assert "-Werror=sign-compare" in p.stderr, p.stderr


@pytest.mark.once
def test_warnings_without_werror_still_build(tmp_path):
    d = configure_probe(tmp_path, source=WARNS)
    p = make_probe(d, "probe.o")
    assert p.returncode == 0, p.stderr
    assert "-Wunused-variable" in p.stderr and "-Wsign-compare" in p.stderr, p.stderr


@pytest.mark.once
def test_ci_builds_with_werror_and_sanitizers():
    """.ci/run runs the README's test command, which configures every
    build with --enable-werror and one of them with --enable-sanitizers."""
    assert re.search(r"exec \./tests/run\.sh\s*$", (REPO / ".ci" / "run").read_text())
    run = (REPO / "tests" / "run.sh").read_text()
    assert re.search(r"configure -q --enable-werror", run), "run.sh builds without -Werror"
    assert "--enable-sanitizers" in run
    assert "./tests/run.sh" in (REPO / "README.md").read_text()


@pytest.mark.once
@pytest.mark.parametrize("misdeed, report", [
    ("heap", "AddressSanitizer: heap-buffer-overflow"),
    ("overflow", "runtime error: signed integer overflow"),
])
def test_enable_sanitizers_builds_with_asan_and_ubsan(tmp_path, misdeed, report):
    d = configure_probe(tmp_path, "--enable-sanitizers", source=MISBEHAVES)
    p = make_probe(d, "probe")
    assert p.returncode == 0, p.stderr
    run = subprocess.run([str(d / "probe"), misdeed], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    assert run.returncode != 0, "the misdeed went unnoticed"
    assert report in run.stderr, run.stderr[-2000:]


@pytest.mark.parametrize("area", AREAS)
def test_plugin_exports_only_its_descriptor(area):
    p = subprocess.run(["nm", "-D", "--defined-only", str(plugin_dir() / ("%s.so" % area))],
                       capture_output=True, text=True, check=True)
    symbols = [line.split()[-1] for line in p.stdout.splitlines() if line.strip()]
    assert symbols == ["korpu_plugin"], symbols


@pytest.mark.once
def test_shipped_redis_settings_are_durable(tmp_path):
    """contrib/redis/korpu-redis.conf, loaded by a real redis-server:
    appendonly yes, appendfsync always, maxmemory-policy noeviction."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", str(REPO / "contrib/redis/korpu-redis.conf"), "--port", str(port),
         "--bind", "127.0.0.1", "--dir", str(tmp_path), "--save", ""],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def pong():
        try:
            with servers.RedisClient(port, timeout=0.5) as c:
                return c.call("PING") == "PONG"
        except OSError:
            return False
    try:
        servers.wait_for(pong, 10, what="redis PING")
        with servers.RedisClient(port) as c:
            def get(name):
                return c.call("CONFIG", "GET", name)[1].decode()
            assert get("appendonly") == "yes"
            assert get("appendfsync") == "always"
            assert get("maxmemory-policy") == "noeviction"
            assert get("bind").split()[0] == "127.0.0.1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_demo_command_runs_and_cleans_up(tmp_path):
    """The README's demo command: starts Redis and korpud, prints the URL,
    answers /ready, serves the web client, and on SIGINT stops both."""
    if os.environ.get("KORPU_E2E_WRAPPER"):
        pytest.skip("the demo runs its own korpud, not under the wrapper")
    port = free_port()
    env = dict(os.environ, KORPU_DEMO_PORT=str(port))
    out = tmp_path / "demo.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen([str(REPO / "contrib/demo.sh")], cwd=str(REPO), env=env,
                                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        servers.wait_for(lambda: b"korpu demo is running" in out.read_bytes(), 300,
                         interval=0.2, what="the demo's banner")
        text = out.read_text()
        assert "http://127.0.0.1:%d/" % port in text, text
        r = http_request(port, "GET", "/ready")
        assert r.status == 200, r
        assert "web client: http://127.0.0.1:%d/" % port in text, text
        r = http_request(port, "GET", "/")
        assert r.status == 200 and r.raw == (REPO / "web" / "index.html").read_bytes(), r
        assert "demo-seed: 5 new organizations" in text, text
        # the seeded directory: the clinic's staff see their own provider
        r = http_request(port, "POST", "/api/v1/login",
                         json_body={"username": "arzayeva", "password": "aynur-demo-2026"})
        assert r.status == 200, r
        r = http_request(port, "GET", "/api/v1/providers",
                         headers={"Authorization": "Bearer " + r.body["token"]})
        assert [p["name"] for p in r.body["items"]] == ["Poliklinika №5"], r.body
        pids = [int(p) for p in re.findall(r"kill -HUP (\d+)", text)]
        assert pids, text
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        rc = proc.wait(timeout=30)
    assert rc == 0, out.read_text()[-2000:]
    assert servers.port_is_free(port), "korpud still listens after the demo stopped"
    for pid in pids:
        assert not os.path.exists("/proc/%d" % pid) or \
            "zombie" in open("/proc/%d/status" % pid).read().lower(), "korpud %d left behind" % pid
