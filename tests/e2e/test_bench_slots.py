"""contrib/bench/slots-year.sh, the slots-over-a-year benchmark, in its
--quick mode: it brings up its own Redis, slapd and korpud, books a year
through the API, prints its table of GET .../slots latencies per range,
and takes every process and its temporary directory down again, also
when interrupted (Ctrl-C). Speed is never asserted here: only that the
benchmark runs, checks what it booked, and cleans up."""
import os
import re
import signal
import subprocess
import time

import pytest

import servers
from servers import REPO

SCRIPT = REPO / "contrib" / "bench" / "slots-year.sh"
SLOTS_PER_DAY = 24          # 08:00-20:00, 30-minute slots
QUICK_BOOKINGS = 200

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("KORPU_E2E_WRAPPER")),
    reason="the benchmark runs its own korpud, not under the wrapper")

STARTED = re.compile(r"^started: redis 127\.0\.0\.1:(\d+) \(pid (\d+)\), "
                     r"slapd ldap://127\.0\.0\.1:(\d+) \(pid (\d+)\), "
                     r"korpud 127\.0\.0\.1:(\d+) \(pid (\d+)\)", re.M)
RUN_DIR = re.compile(r"^run dir: (\S+) ", re.M)


def start(tmp_path, *args):
    """The benchmark, in a process group of its own (as a terminal would
    run it), its temporary directory under tmp_path/tmp."""
    (tmp_path / "tmp").mkdir()
    env = dict(os.environ, KORPU_BUILD=str(servers.build_dir()), TMPDIR=str(tmp_path / "tmp"))
    out = tmp_path / "bench.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen([str(SCRIPT), *args], cwd=str(REPO), env=env, stdin=subprocess.DEVNULL,
                                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, out


def finish(proc, timeout):
    """Waits for the benchmark; past timeout, takes its group down and fails."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=20)
                break
            except subprocess.TimeoutExpired:
                continue
        pytest.fail("slots-year.sh did not end within %d s" % timeout)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def processes_mentioning(needles):
    """pid: command line of every live process whose command line holds
    one of needles."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(n in cmdline for n in needles) and alive(int(entry)):
            found[int(entry)] = cmdline
    return found


def assert_cleaned_up(text, tmp_path):
    """Every process the run started is gone, its ports are free and its
    temporary directory is removed."""
    m = STARTED.search(text)
    assert m, text[-3000:]
    redis_port, redis_pid, ldap_port, slapd_pid, korpud_port, korpud_pid = map(int, m.groups())
    run_dir = RUN_DIR.search(text).group(1)
    assert run_dir.startswith(str(tmp_path / "tmp")), run_dir
    # korpud and Redis were children of the script, slapd ran in a session
    # of its own: give the last of them a moment to be reaped.
    servers.wait_for(lambda: not any(alive(p) for p in (redis_pid, slapd_pid, korpud_pid)),
                     10, interval=0.1, what="the benchmark's servers to end")
    left = processes_mentioning([run_dir, "127.0.0.1:%d" % korpud_port,
                                 "127.0.0.1:%d" % redis_port, "127.0.0.1:%d" % ldap_port])
    assert not left, "left running: %r" % left
    for port in (redis_port, ldap_port, korpud_port):
        assert servers.port_is_free(port), "port %d still taken" % port
    assert not os.path.exists(run_dir), run_dir
    assert os.listdir(tmp_path / "tmp") == []


def test_quick_run_prints_the_table_and_cleans_up(tmp_path):
    proc, out = start(tmp_path, "--quick")
    rc = finish(proc, 600)
    text = out.read_text(errors="replace")
    assert rc == 0, text[-4000:]
    total = 365 * SLOTS_PER_DAY
    assert "checked: GET slots lists %d free places of %d in the year (filled), %d (empty)" % (
        total - QUICK_BOOKINGS, total, total) in text, text[-4000:]
    for days in (1, 7, 31, 92):
        rng = r"%d days?" % days
        row = r"\s+(\d+)\s+(\d+)\s+[0-9.]+ k?B\s+[0-9.]+ ms\s+[0-9.]+ ms\s+[0-9.]+ ms\s+\d+\s+"
        empty = re.search(r"^%s\s+empty%s" % (rng, row), text, re.M)
        assert empty, "no empty-provider row for %d days:\n%s" % (days, text[-4000:])
        assert (int(empty.group(1)), int(empty.group(2))) == (0, days * SLOTS_PER_DAY)
        filled = re.search(r"^%s\s+%d booked%s" % (rng, QUICK_BOOKINGS, row), text, re.M)
        assert filled, "no filled-provider row for %d days:\n%s" % (days, text[-4000:])
        assert int(filled.group(1)) + int(filled.group(2)) == days * SLOTS_PER_DAY
    assert "92 days vs 1 day, same provider" in text, text[-4000:]
    assert "FAILED" not in text and "Traceback" not in text, text[-4000:]
    assert_cleaned_up(text, tmp_path)


def test_ctrl_c_stops_everything(tmp_path):
    """Interrupted while measuring (wrk or the Python loop running), as a
    terminal's Ctrl-C does it: SIGINT to the whole process group."""
    proc, out = start(tmp_path, "--quick", "--duration", "30", "--requests", "100000")
    try:
        servers.wait_for(lambda: proc.poll() is not None or
                         b"GET /api/v1/providers/{id}/slots" in out.read_bytes(),
                         300, interval=0.1, what="the benchmark to start measuring")
        assert proc.poll() is None, out.read_text(errors="replace")[-4000:]
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)
    finally:
        rc = finish(proc, 60)
    text = out.read_text(errors="replace")
    assert rc == 130, (rc, text[-4000:])
    assert_cleaned_up(text, tmp_path)
