"""conftest.py - fixtures for korpu's browser tests.

Each test runs one journey: `node run-journey.mjs JOURNEY` drives Debian's
chromium (/usr/bin/chromium) through playwright-core (tests/browser's npm
packages, installed by `contrib/install-deps.sh test`) against a korpud
that serves the repository's web/ client. The servers are the end-to-end
tests' (tests/e2e: servers.py, ldap_server.py, the e2e conftest's slapd
fixture and shared_korpud), and objects are made through the API with
casework.py's builders.

    def test_something(web_korpud, journey):
        client = casework.make_client(web_korpud)
        journey("something", client=client["id"])

`journey(NAME, **ids)` hands the journey a JSON context on stdin:
base_url, users (ldap_server.DEMO_USERS: uid -> password, name, role...),
staff (role -> uid, as the e2e Staff), orgs (clinic, employment, housing
-> organization id), ids (the keyword arguments), screenshots (the
directory: $KORPU_SCREENSHOTS, else build/results/screenshots) and
timeout_ms (the journey's hard limit). It fails the test unless the
journey exits 0, with the journey's output (error, page console) in the
message, and checks that no browser of it is left running.

Run (after `contrib/install-deps.sh test` and a build):
    KORPU_BUILD=$PWD/build/plain /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/browser
"""
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
E2E = REPO / "tests" / "e2e"
WEB = REPO / "web"
RUNNER = HERE / "run-journey.mjs"
sys.path.insert(0, str(E2E))

import casework  # noqa: E402  (tests/e2e)
import ldap_server  # noqa: E402

# The e2e conftest under another module name (this file is `conftest`).
_spec = importlib.util.spec_from_file_location("korpu_e2e_conftest", E2E / "conftest.py")
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)

# Its hooks (the build must exist; every server is stopped at the end) and
# the session's demo directory.
pytest_configure = e2e.pytest_configure
pytest_report_header = e2e.pytest_report_header
pytest_sessionfinish = e2e.pytest_sessionfinish
slapd = e2e.slapd

# A journey's own limit (run-journey.mjs ends itself then); the test gives
# it JOURNEY_GRACE_S more before it kills the journey's process group.
JOURNEY_TIMEOUT_S = float(os.environ.get("KORPU_JOURNEY_TIMEOUT", "120"))
JOURNEY_GRACE_S = 30.0


def screenshot_dir():
    return Path(os.environ.get("KORPU_SCREENSHOTS") or REPO / "build" / "results" / "screenshots")


def _sigterm(signum, frame):
    # tests/run.sh's timeout sends SIGTERM: end like Ctrl-C, so that the
    # fixtures stop the journey, korpud, Redis and slapd on the way out.
    raise KeyboardInterrupt("SIGTERM")


signal.signal(signal.SIGTERM, _sigterm)


@pytest.fixture(scope="module")
def web_korpud(tmp_path_factory, slapd):
    """One korpud (and its Redis) per module, serving the repository's web/
    as its web root, with the regions of the case-work tests (baku,
    ganja), no sign-in throttling, a token per role in web_korpud.staff
    (e2e Staff) and the demo partner organizations with agreements in
    web_korpud.orgs (clinic, employment, housing), as case_korpud has
    them."""
    if not (WEB / "index.html").is_file():
        pytest.fail("%s/index.html does not exist: the browser tests need the web client" % WEB)
    conf = {"regions": e2e.CASE_REGIONS, "sessions": e2e.UNTHROTTLED,
            "web": {"root": str(WEB)}}
    with e2e.shared_korpud(tmp_path_factory.mktemp("web"), slapd, conf=conf) as k:
        k.staff = e2e.Staff(k)
        k.orgs = {
            org: casework.make_org(k, name=casework.unique("Demo " + org),
                                   directory_name="org-" + org, agreement_areas=[area])
            for org, area in (("clinic", "clinics"), ("employment", "employment"),
                              ("housing", "housing"))}
        yield k


def _stray_pids(marker):
    """Live processes whose command line holds marker (the journey's own
    temporary folder, in chromium's --user-data-dir)."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                if needle in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


def _kill_group(proc):
    """Ends the journey's process group: SIGTERM (node closes chromium),
    then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            pass


def _pgrp(pid):
    with open("/proc/%d/stat" % pid, "rb") as f:
        data = f.read().decode(errors="replace")
    return int(data[data.rindex(")") + 2:].split()[2])


def _kill_strays(marker):
    """Kills (SIGKILL) what of a journey still runs, with its process
    groups (chromium's helpers); returns their command lines."""
    left = []
    for pid in _stray_pids(marker):
        try:
            left.append(Path("/proc/%d/cmdline" % pid).read_bytes()
                        .replace(b"\0", b" ").decode(errors="replace")[:200])
            group = _pgrp(pid)
            if group != os.getpgrp():
                os.killpg(group, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + 5.0
    while _stray_pids(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture
def journey(web_korpud):
    """journey(NAME, timeout=JOURNEY_TIMEOUT_S, **ids): runs
    journeys/NAME.mjs against web_korpud; fails the test unless it passed."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: run contrib/install-deps.sh test")
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        pytest.fail("%s/node_modules lacks playwright-core: run contrib/install-deps.sh test" % HERE)

    def run(name, timeout=JOURNEY_TIMEOUT_S, **ids):
        # Short (chromium's singleton socket path, inside it, must fit a
        # sun_path) and of this journey alone.
        tmp = Path(tempfile.mkdtemp(prefix="korpu-journey-"))
        ctx = {
            "journey": name,
            "base_url": web_korpud.url,
            "users": ldap_server.DEMO_USERS,
            "staff": dict(e2e.Staff.USERS),
            "orgs": {k: v["id"] for k, v in web_korpud.orgs.items()},
            "ids": ids,
            "screenshots": str(screenshot_dir()),
            "timeout_ms": int(timeout * 1000),
        }
        # chromium's profile (TMPDIR) and its crash handler's files (HOME)
        # go to tmp, so the command line of every process of it names tmp.
        env = dict(os.environ, TMPDIR=str(tmp), HOME=str(tmp),
                   XDG_CONFIG_HOME=str(tmp / ".config"), XDG_CACHE_HOME=str(tmp / ".cache"),
                   PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1", NO_COLOR="1", FORCE_COLOR="0")
        proc = subprocess.Popen([node, str(RUNNER), name], cwd=str(HERE), env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = False
        try:
            output, _ = proc.communicate(json.dumps(ctx).encode(),
                                         timeout=timeout + JOURNEY_GRACE_S)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            if proc.poll() is None:
                _kill_group(proc)
            left = _kill_strays(str(tmp))
            shutil.rmtree(tmp, ignore_errors=True)
        if timed_out:
            output = proc.communicate()[0]     # what it printed (none of it is lost)
        text = output.decode(errors="replace")
        problems = []
        if timed_out:
            problems.append("journey %s did not end within %.0f s; its process group was killed"
                            % (name, timeout + JOURNEY_GRACE_S))
        elif proc.returncode != 0:
            problems.append("journey %s exited with %s" % (name, proc.returncode))
        if left:
            problems.append("left running after the journey (killed): %s" % "; ".join(left))
        if problems:
            pytest.fail("%s\n--- its output ---\n%s\n--- korpud (last 3000 chars) ---\n%s"
                        % ("\n".join(problems), text, web_korpud.log_text()[-3000:]),
                        pytrace=False)
        return text
    return run
