"""korpud without -f: it detaches, and its exit status says whether it
serves; and its log lines on syslog, with their levels and request ids.

syslog(3) always writes to /dev/log. The syslog tests give korpud a /dev
of its own (a private mount namespace: unshare(1), as root), holding
null, zero, random, urandom and a log socket the test reads; the
machine's /dev is never touched."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from servers import korpud_env, sanitizer_problems, under_valgrind, wait_for, wrapper

# LOG_DAEMON (3 << 3) plus the level.
PRI = {"error": 27, "warning": 28, "info": 30, "debug": 31}

PRIVATE_DEV = r"""
set -e
t=$1; shift
mkdir "$t/dev"
mount -t tmpfs -o mode=755 tmpfs "$t/dev"
for n in null zero random urandom; do
	touch "$t/dev/$n"
	mount --bind "/dev/$n" "$t/dev/$n"
done
ln -s "$t/log.sock" "$t/dev/log"
mount --rbind "$t/dev" /dev
exec "$@"
"""


@pytest.fixture
def short_dir():
    """A folder with a short path: a unix socket's path must fit 108 bytes."""
    d = tempfile.mkdtemp(prefix="kd", dir="/tmp")
    yield Path(d)
    subprocess.run(["umount", "-R", "-q", os.path.join(d, "dev")], check=False,
                   stderr=subprocess.DEVNULL)
    shutil.rmtree(d, ignore_errors=True)


def private_dev_prefix(d):
    """The command prefix that runs a program with d's private /dev, or a
    skip when this machine allows no mount namespace."""
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace here (unshare -m: %s)" % probe.stderr.strip())
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", PRIVATE_DEV, "sh", str(d)]


class Syslog:
    """The datagrams syslog(3) sends to the socket at path."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.lines = []

    def close(self):
        self.sock.close()

    def _drain(self, wait):
        self.sock.settimeout(wait)
        try:
            while True:
                self.lines.append(self.sock.recv(65536).decode(errors="replace"))
                self.sock.settimeout(0)
        except (BlockingIOError, socket.timeout):
            pass

    def wait_for(self, pattern, timeout=10.0):
        """The first line matching pattern (waiting for it)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                if rx.search(line):
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no syslog line matching %r; got:\n%s"
                                     % (pattern, "\n".join(self.lines[-30:])))
            self._drain(min(left, 0.2))


def sanitizer_env(d):
    """korpud's environment, with sanitizer reports written to files in
    d: a detached korpud has no stderr."""
    env = korpud_env()
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        env[name] = "%s:log_path=%s" % (env.get(name, ""), d / name.split("_")[0].lower())
    return env


def detached_argv(k, d):
    """korpud (under the suite's wrapper, whose reports go to a file in
    d) without -f."""
    w = wrapper()
    if under_valgrind():
        w = w + ["--log-file=%s" % (d / "valgrind.%p")]
    return w + [str(k.binary), "-c", str(k.conf_path)]


def reports_in(d):
    found = []
    for f in d.glob("*"):
        if f.name.startswith(("asan", "ubsan", "valgrind")) and f.is_file():
            text = f.read_text(errors="replace")
            if sanitizer_problems(text):
                found.append("%s:\n%s" % (f.name, text[-3000:]))
    return found


def proc_pids_running(binary, conf_path):
    """pids of processes whose command line names binary and conf_path
    (zombies left out)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and str(binary).encode() in argv and str(conf_path).encode() in argv:
            pids.append(int(entry.name))
    return pids


def session_of(pid):
    return int(Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[3])


def kill_leftovers(k):
    """A detached korpud is nobody's child: a failed test must not leave
    it running."""
    for pid in proc_pids_running(k.binary, k.conf_path):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_daemon(pid, binary, conf_path, timeout=20.0):
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: pid not in proc_pids_running(binary, conf_path), timeout,
             what="the detached korpud to exit after SIGTERM")


def test_without_f_it_detaches_once_it_serves(make_korpud, short_dir):
    k = make_korpud(start=False)
    k.write_config()
    try:
        shell = subprocess.run(detached_argv(k, short_dir), capture_output=True, text=True,
                               env=sanitizer_env(short_dir), stdin=subprocess.DEVNULL, timeout=60)
        # (capture_output returned: the daemon holds neither stdout nor stderr.)
        assert shell.returncode == 0, shell.stderr
        pids = proc_pids_running(k.binary, k.conf_path)
        assert len(pids) == 1, pids
        pid = pids[0]
        assert session_of(pid) == pid, "the daemon leads a session of its own"
        assert k.get("/health").status == 200      # it was listening before the shell returned
        k.wait_ready(200, timeout=10.0)
        stop_daemon(pid, k.binary, k.conf_path)
    finally:
        kill_leftovers(k)
    assert reports_in(short_dir) == []


def test_without_f_a_failed_start_exits_1_with_the_reason(make_korpud, short_dir):
    k = make_korpud(start=False)
    k.write_config()
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", k.port))
    taken.listen(1)
    try:
        shell = subprocess.run(detached_argv(k, short_dir), capture_output=True, text=True,
                               env=sanitizer_env(short_dir), stdin=subprocess.DEVNULL,
                               timeout=60)
    finally:
        taken.close()
        kill_leftovers(k)
    assert shell.returncode == 1, (shell.returncode, shell.stderr)
    assert "127.0.0.1:%d" % k.port in shell.stderr, shell.stderr
    assert "cannot start" in shell.stderr, shell.stderr
    assert proc_pids_running(k.binary, k.conf_path) == []
    assert reports_in(short_dir) == []


def test_syslog_lines_carry_their_level_and_request_id(make_korpud, short_dir):
    prefix = private_dev_prefix(short_dir)
    log = Syslog(short_dir / "log.sock")
    k = make_korpud(start=False, conf={"log": {"target": "syslog", "level": "info"}})
    k.write_config()
    out = open(k.log_path, "ab")
    proc = subprocess.Popen(prefix + wrapper() + [str(k.binary), "-f", "-c", str(k.conf_path)],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                            env=korpud_env(), start_new_session=True)
    try:
        started = log.wait_for(r"korpud \S+ started", timeout=30.0)
        assert started.startswith("<%d>" % PRI["info"]), started
        assert re.search(r"\bkorpud\[%d\]: " % proc.pid, started), started

        k.wait_ready(200, timeout=10.0)
        assert k.get("/api/v1/no-such-thing", headers={"X-Request-Id": "sys-log-42"}).status == 404
        line = log.wait_for(r"req=sys-log-42\b")
        assert line.startswith("<%d>" % PRI["info"]), line
        assert "/api/v1/no-such-thing" in line and "404" in line, line

        # A refused reload is logged as an error.
        k.conf_path.write_text(k.conf_path.read_text() + "\nno_such_key = 1;\n")
        os.kill(proc.pid, signal.SIGHUP)
        refused = log.wait_for(r"no_such_key")
        assert refused.startswith("<%d>" % PRI["error"]), refused
        assert k.get("/health").status == 200

        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        log.wait_for(r"korpud stopped")
        assert not [x for x in log.lines if x.startswith("<%d>" % PRI["debug"])], \
            "debug lines at log.level info"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.close()
        log.close()
    assert sanitizer_problems(k.log_text()) == [], k.log_text()[-3000:]


def test_a_detached_korpud_logs_to_syslog(make_korpud, short_dir):
    """log.target = "stderr" cannot hold once korpud has let go of its
    terminal: it logs to syslog instead."""
    prefix = private_dev_prefix(short_dir)
    log = Syslog(short_dir / "log.sock")
    k = make_korpud(start=False, conf={"log": {"target": "stderr"}})
    k.write_config()
    try:
        shell = subprocess.run(prefix + detached_argv(k, short_dir), capture_output=True,
                               text=True, env=sanitizer_env(short_dir),
                               stdin=subprocess.DEVNULL, timeout=60)
        assert shell.returncode == 0, shell.stderr
        assert shell.stderr == "", shell.stderr
        pids = proc_pids_running(k.binary, k.conf_path)
        assert len(pids) == 1, pids
        started = log.wait_for(r"korpud\[%d\]: .*korpud \S+ started" % pids[0])
        assert started.startswith("<%d>" % PRI["info"]), started
        stop_daemon(pids[0], k.binary, k.conf_path)
        log.wait_for(r"korpud stopped")
    finally:
        log.close()
        kill_leftovers(k)
    assert reports_in(short_dir) == []
