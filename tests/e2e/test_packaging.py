"""What the build and the shipped files promise: configure names the
missing Debian package, plugins export only their descriptor, the shipped
Redis settings are the durable ones, and the README's demo command brings
up Redis and korpud and takes them down again."""
import os
import re
import signal
import subprocess

import pytest

import servers
from servers import AREAS, REPO, free_port, http_request, plugin_dir


def test_configure_names_the_missing_debian_package(tmp_path):
    # An empty pkg-config search path: every library looks missing.
    env = dict(os.environ, PKG_CONFIG_LIBDIR=str(tmp_path / "nothing"), PKG_CONFIG_PATH="")
    p = subprocess.run([str(REPO / "configure"), "-q"], cwd=str(tmp_path), env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0
    assert re.search(r"libevent >= 2\.1 not found: install the Debian package libevent-dev",
                     p.stderr), p.stderr[-2000:]


@pytest.mark.parametrize("area", AREAS)
def test_plugin_exports_only_its_descriptor(area):
    p = subprocess.run(["nm", "-D", "--defined-only", str(plugin_dir() / ("%s.so" % area))],
                       capture_output=True, text=True, check=True)
    symbols = [line.split()[-1] for line in p.stdout.splitlines() if line.strip()]
    assert symbols == ["korpu_plugin"], symbols


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
