"""Plugins korpud must refuse at start: a wrong ABI, a failing init, a
missing file, a library without the descriptor symbol. korpud exits non-zero quickly, naming the plugin and why,
and never starts serving."""
import os
import re
import socket
import time

import pytest

from servers import AREAS, Korpud, plugin_dir, plugins_for_tests_dir, run_korpud

TEST_PLUGINS = ("wrong_abi", "init_fails", "newer_minor", "no_descriptor")


@pytest.fixture(scope="module")
def abi():
    p = run_korpud(["-V"])
    m = re.search(r"plugin ABI (\d+)\.(\d+)", p.stdout)
    assert m, p.stdout
    return int(m.group(1)), int(m.group(2))


@pytest.fixture
def mixed_plugin_dir(tmp_path):
    """The five real plugins and the test plugins in one folder."""
    d = tmp_path / "plugins"
    d.mkdir()
    for name in AREAS:
        os.symlink(plugin_dir() / ("%s.so" % name), d / ("%s.so" % name))
    for name in TEST_PLUGINS:
        src = plugins_for_tests_dir() / ("%s.so" % name)
        if not src.exists():
            pytest.fail("%s is missing: run `make check` in %s first"
                        % (src, plugins_for_tests_dir().parents[2]))
        os.symlink(src, d / ("%s.so" % name))
    return d


def start_refused(make_korpud, plugins_dir, extra, plugin_confs=None, timeout=10.0):
    """Starts korpud with extra enabled after the five areas; returns
    (exit code, seconds it took, its output)."""
    k = make_korpud(redis_port=1, start=False, plugins_dir=plugins_dir,
                    plugin_confs=plugin_confs or {},
                    conf={"plugins": {"enabled": list(AREAS) + [extra]}})
    k.expect_exit_code = None       # checked here, not at teardown
    t = time.monotonic()
    k.start(wait=False)
    rc = k.wait(timeout)
    took = time.monotonic() - t
    assert rc is not None, "korpud kept running with plugin %s:\n%s" % (extra, k.log_text())
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", k.port), timeout=1).close()
    return rc, took, k.log_text()


def test_wrong_abi_plugin_is_refused(make_korpud, mixed_plugin_dir, abi):
    rc, took, out = start_refused(make_korpud, mixed_plugin_dir, "wrong_abi")
    assert rc != 0, out
    assert took < 5.0
    assert "wrong_abi" in out, out
    major, minor = abi
    line = next((ln for ln in out.splitlines() if "wrong_abi" in ln), "")
    assert "%d.0" % (major + 1) in line, out       # the plugin's ABI
    assert "%d.%d" % (major, minor) in line, out   # korpud's ABI


def test_newer_minor_plugin_is_refused(make_korpud, mixed_plugin_dir, abi):
    rc, took, out = start_refused(make_korpud, mixed_plugin_dir, "newer_minor")
    assert rc != 0, out
    major, minor = abi
    line = next((ln for ln in out.splitlines() if "newer_minor" in ln), "")
    assert "%d.%d" % (major, minor + 1) in line and "%d.%d" % (major, minor) in line, out


def test_failing_init_is_refused_with_its_reason(make_korpud, mixed_plugin_dir):
    rc, took, out = start_refused(make_korpud, mixed_plugin_dir, "init_fails",
                                  plugin_confs={"init_fails": 'reason = "partner down";\n'})
    assert rc != 0, out
    assert took < 5.0
    line = next((ln for ln in out.splitlines() if "init_fails" in ln and "partner down" in ln), None)
    assert line, "the init's reason is not reported with the plugin's name:\n%s" % out
    assert "listening on" not in out, out


def test_missing_plugin_file_is_refused(make_korpud, mixed_plugin_dir):
    rc, took, out = start_refused(make_korpud, mixed_plugin_dir, "nosuch")
    assert rc != 0, out
    assert took < 5.0
    line = next((ln for ln in out.splitlines() if "nosuch" in ln), "")
    assert "nosuch.so" in line and ("cannot" in line or "No such file" in line), out


def test_library_without_the_descriptor_is_refused(make_korpud, mixed_plugin_dir):
    rc, took, out = start_refused(make_korpud, mixed_plugin_dir, "no_descriptor")
    assert rc != 0, out
    assert took < 5.0
    line = next((ln for ln in out.splitlines() if "no_descriptor.so" in ln), "")
    assert "no korpu_plugin symbol" in line, out


def test_check_mode_refuses_a_wrong_abi_plugin(tmp_path, mixed_plugin_dir, abi):
    k = Korpud(tmp_path / "k", 6379, plugins_dir=mixed_plugin_dir,
               conf={"plugins": {"enabled": list(AREAS) + ["wrong_abi"]}})
    p = run_korpud(["-t", "-c", str(k.write_config())])
    assert p.returncode == 1, p.stdout
    assert "wrong_abi" in p.stderr and "%d.0" % (abi[0] + 1) in p.stderr, p.stderr
