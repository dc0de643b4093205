"""The partners' example consumer of the event streams,
contrib/events-consumer/korpu-events: built with its own Makefile (with
ASan+UBSan when the build under test has them; run under
$KORPU_E2E_WRAPPER, i.e. valgrind, when that is set), run against a real
redis-server that the test fills with XADD.

What a partner relies on: a new group sees the events appended after it
was created, each printed once as a JSON line and acknowledged; entries
delivered but never acknowledged (our own after a crash, or a dead
consumer's once idle long enough) are handled; a handler that fails
leaves its entry pending; SIGTERM ends it cleanly; it reconnects when
Redis comes back; bad arguments are refused with a message."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

import servers
from servers import REPO, free_port, slack, wait_for

SRC = REPO / "contrib" / "events-consumer"
GROUP = "partner-org"


def key(area):
    return "korpu:events:{%s}" % area


def asan_build():
    try:
        return b"__asan_init" in servers.korpud_binary().read_bytes()
    except OSError:
        return False


@pytest.fixture(scope="module")
def consumer(tmp_path_factory):
    """The consumer, built out of the source folder with -Wall -Wextra."""
    out = tmp_path_factory.mktemp("events-consumer")
    cmd = ["make", "-C", str(SRC), "OUT=%s" % out]
    if asan_build() and not servers.under_valgrind():
        cmd.append("CFLAGS=-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "warning" not in (p.stdout + p.stderr).lower(), p.stdout + p.stderr
    assert "-Wall -Wextra" in p.stdout, p.stdout
    return out / "korpu-events"


def argv(binary, *args):
    return servers.wrapper() + [str(binary)] + [str(a) for a in args]


def check_stderr(err):
    found = servers.sanitizer_problems(err)
    assert not found, "%s in the consumer's stderr:\n%s" % (", ".join(found), err[-6000:])


def run(binary, *args, stdout=subprocess.PIPE, timeout=None):
    """Runs the consumer to its end: a CompletedProcess with text output."""
    timeout = timeout or slack(30, 120)
    proc = servers._track(subprocess.Popen(
        argv(binary, *args), stdin=subprocess.DEVNULL, stdout=stdout,
        stderr=subprocess.PIPE, env=servers.korpud_env(), start_new_session=True))
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        servers.terminate(proc, 1.0, signal.SIGKILL)
        raise AssertionError("korpu-events %s did not end within %d s" % (args, timeout))
    finally:
        servers._live.pop(proc.pid, None)
    err = err.decode(errors="replace")
    check_stderr(err)
    return subprocess.CompletedProcess(proc.args, proc.returncode,
                                       (out or b"").decode("utf-8"), err)


def consume(binary, redis, *areas, name="c1", extra=(), rc=0):
    """One pass (-1) of consumer `name` of GROUP: the events it printed."""
    p = run(binary, "-h", "127.0.0.1", "-p", redis.port, "-g", GROUP, "-c", name, "-1",
            *extra, *(areas or ("clinics",)))
    assert p.returncode == rc, "exit %s, wanted %s\n%s" % (p.returncode, rc, p.stderr)
    return [json.loads(line) for line in p.stdout.splitlines()]


def xadd(redis, area, type_, id_, provider_id="", event=None, **more):
    """Appends an event as korpud does; returns what the consumer prints."""
    fields = {"type": type_, "id": id_, "at": "2026-03-01T09:30:00.000Z", "area": area,
              "provider_id": provider_id, "event": event or "ev-%s-%s" % (type_, id_)}
    fields.update(more)
    args = [x for kv in fields.items() for x in kv]
    entry = redis.call("XADD", key(area), "*", *args).decode()
    return dict({"stream": key(area), "entry": entry}, **{
        k: fields.get(k) for k in ("type", "id", "at", "area", "provider_id", "event")})


def pending(redis, area, group=GROUP):
    return redis.call("XPENDING", key(area), group)[0]


# korpu-events reads all its areas with one XREADGROUP: against Redis Cluster
# (one slot per area's stream) it takes one area a process (its README).
ONE_AREA_IN_CLUSTER = pytest.mark.skipif(
    servers.redis_cluster_mode(),
    reason="several areas in one korpu-events are one cross-slot XREADGROUP; "
           "against Redis Cluster it reads one area a process (README)")


@ONE_AREA_IN_CLUSTER
def test_a_new_group_gets_later_events_once_and_acknowledges_them(consumer, redis):
    before = xadd(redis, "clinics", "referral.sent", "ref-0")
    assert consume(consumer, redis, "clinics", "housing") == []
    for area in ("clinics", "housing"):
        groups = redis.call("XINFO", "GROUPS", key(area))
        assert [g[1] for g in groups] == [GROUP.encode()], groups

    want = [xadd(redis, "clinics", "referral.sent", "ref-1", "prov-7"),
            xadd(redis, "housing", "referral.accepted", "ref-2", "prov-9"),
            xadd(redis, "clinics", "appointment.booked", "apt-3", "prov-7"),
            xadd(redis, "clinics", "referral.expired", "ref-4")]
    got = consume(consumer, redis, "clinics", "housing")
    # In order within a stream (two streams may hold the same entry id).
    for area in ("clinics", "housing"):
        assert [e for e in got if e["area"] == area] == [e for e in want if e["area"] == area]
    assert len(got) == len(want)
    assert before["entry"] not in [e["entry"] for e in got]
    assert pending(redis, "clinics") == 0 and pending(redis, "housing") == 0

    assert consume(consumer, redis, "clinics", "housing") == []
    assert consume(consumer, redis, "clinics", "housing", name="c2") == []


def test_json_lines_are_escaped_and_valid(consumer, redis):
    consume(consumer, redis)
    # (bytes stored, what the JSON line must decode to)
    pieces = [(b'quote" ', 'quote" '), (b"back\\slash ", "back\\slash "),
              (b"nl\ntab\tcr\r", "nl\ntab\tcr\r"), (b"\x01\x1f\x7f", "\x01\x1f\x7f"),
              ("é Gəncə 😀 ".encode(), "é Gəncə 😀 "),
              (b"\xff", "\ufffd"), (b"\xc0\xaf", "\ufffd\ufffd"),
              (b"\xed\xa0\x80", "\ufffd" * 3), (b"\xe2\x82x", "\ufffd\ufffdx")]
    raw = b"".join(p[0] for p in pieces)
    entry = redis.call("XADD", key("clinics"), "*", "type", "referral.sent", "id", raw,
                       "area", "clinics").decode()
    p = run(consumer, "-p", redis.port, "-g", GROUP, "-c", "c1", "-1", "clinics")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 1 and all(ch >= " " for ch in lines[0]), lines
    assert json.loads(lines[0]) == {
        "stream": key("clinics"), "entry": entry, "type": "referral.sent",
        "id": "".join(p[1] for p in pieces), "at": None, "area": "clinics",
        "provider_id": None, "event": None}


def test_own_unacknowledged_entries_come_first_after_a_crash(consumer, redis):
    consume(consumer, redis)
    first = xadd(redis, "clinics", "referral.sent", "ref-1")
    second = xadd(redis, "clinics", "referral.declined", "ref-1", "prov-2")
    # c1 was given the first entry and died before acknowledging it.
    got = redis.call("XREADGROUP", "GROUP", GROUP, "c1", "COUNT", 1, "STREAMS",
                     key("clinics"), ">")
    assert got[0][1][0][0].decode() == first["entry"]
    assert consume(consumer, redis, name="c1") == [first, second]
    assert pending(redis, "clinics") == 0


def test_a_dead_consumers_entries_are_claimed_once_idle(consumer, redis):
    consume(consumer, redis)
    ev = xadd(redis, "clinics", "referral.accepted", "ref-5", "prov-1")
    redis.call("XREADGROUP", "GROUP", GROUP, "dead", "STREAMS", key("clinics"), ">")
    # Not idle for the default minute yet: left to its consumer.
    assert consume(consumer, redis, name="c1") == []
    assert pending(redis, "clinics") == 1
    time.sleep(0.3)
    assert consume(consumer, redis, name="c1", extra=("-i", "200")) == [ev]
    assert pending(redis, "clinics") == 0


def test_a_failed_handler_leaves_the_entry_pending(consumer, redis):
    consume(consumer, redis)
    ev = xadd(redis, "clinics", "referral.sent", "ref-6")
    with open("/dev/full", "wb") as full:       # every write fails: ENOSPC
        p = run(consumer, "-p", redis.port, "-g", GROUP, "-c", "c1", "-1", "clinics",
                stdout=full)
    assert p.returncode == 1, p.stderr
    assert "the handler failed; its entry stays pending" in p.stderr, p.stderr
    assert pending(redis, "clinics") == 1
    assert consume(consumer, redis, name="c1") == [ev]
    assert pending(redis, "clinics") == 0


@pytest.mark.skipif(servers.redis_cluster_mode(),
                    reason="a Redis in cluster mode has database 0 only (SELECT is refused)")
def test_database_option(consumer, redis):
    consume(consumer, redis, extra=("-n", "3"))
    assert redis.call("EXISTS", key("clinics")) == 0
    with redis.client() as c:
        c.call("SELECT", 3)
        assert c.call("EXISTS", key("clinics")) == 1


def test_password_file(consumer, make_redis, tmp_path):
    secured = make_redis(password="pw-for-tests-only", name="secured")
    good, bad = tmp_path / "good.secret", tmp_path / "bad.secret"
    good.write_text("pw-for-tests-only\n")
    bad.write_text("not-the-password\n")
    for f in (good, bad):
        os.chmod(f, 0o600)
    assert consume(consumer, secured, extra=("-a", good)) == []
    ev = xadd(secured, "clinics", "referral.sent", "ref-7")
    assert consume(consumer, secured, extra=("-a", good)) == [ev]

    for extra in (("-a", bad), ()):
        p = run(consumer, "-p", secured.port, "-g", GROUP, "-c", "c1", "-1", *extra, "clinics")
        assert p.returncode == 1 and p.stdout == "", p
        assert re.search(r"WRONGPASS|NOAUTH", p.stderr), p.stderr
        assert "not-the-password" not in p.stderr


def test_the_readmes_acl_user_reads_its_area_only(consumer, make_redis, tmp_path):
    """The README's ACL line works, and a refusal that retrying cannot
    mend (NOPERM, WRONGPASS) ends even the endless mode with 1."""
    secured = make_redis(password="admin-pw", name="acl")
    readme = (SRC / "README.md").read_text()
    line = re.search(r"^    (ACL SETUSER partner-clinics .*)$", readme, re.M).group(1)
    assert secured.call(*line.replace(">PASSWORD", ">pw-clinics").split()) == "OK"
    secret = tmp_path / "clinics.secret"
    secret.write_text("pw-clinics\n")
    os.chmod(secret, 0o600)
    auth = ("-u", "partner-clinics", "-a", secret)
    assert consume(consumer, secured, extra=auth) == []
    ev = xadd(secured, "clinics", "referral.sent", "ref-10")
    assert consume(consumer, secured, extra=auth) == [ev]

    for args, refusal in ((auth + ("clinics", "housing"), "NOPERM"),
                          (("-u", "partner-clinics", "-a", tmp_path / "good.secret",
                            "clinics"), "WRONGPASS")):
        (tmp_path / "good.secret").write_text("admin-pw\n")
        r = Running(consumer, secured, tmp_path, *args)
        rc = servers._reap(r.proc, slack(10, 60))
        err = r.err.read_text()
        if rc is None:
            r.stop(5)
        assert rc == 1, err
        assert refusal in err and "retrying" not in err, err
        check_stderr(err)


class Running:
    """The consumer in its endless mode (args: options and areas), its
    stdout in a file."""

    def __init__(self, binary, redis, tmp_path, *args):
        self.out = tmp_path / "events.jsonl"
        self.err = tmp_path / "events.err"
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.proc = servers._track(subprocess.Popen(
                argv(binary, "-p", redis.port, "-g", GROUP, "-c", "c1", *args),
                stdin=subprocess.DEVNULL, stdout=o, stderr=e, env=servers.korpud_env(),
                start_new_session=True))

    def events(self):
        whole = self.out.read_bytes().decode().split("\n")[:-1]    # not a line being written
        return [json.loads(line) for line in whole]

    def wait_events(self, n, timeout):
        try:
            return wait_for(lambda: len(self.events()) >= n and self.events(), timeout,
                            interval=0.05, what="%d events" % n)
        except AssertionError:
            raise AssertionError("%d events, wanted %d; stderr:\n%s"
                                 % (len(self.events()), n, self.err.read_text()[-3000:]))

    def stop(self, timeout):
        rc, killed = servers.terminate(self.proc, timeout)
        err = self.err.read_text(errors="replace")
        assert not killed, "no exit within %s s of SIGTERM:\n%s" % (timeout, err[-3000:])
        check_stderr(err)
        return rc, err


def test_sigterm_ends_it_cleanly(consumer, redis, tmp_path):
    # (two areas are one cross-slot XREADGROUP against a cluster: one there)
    areas = ("schools",) if redis.cluster else ("clinics", "schools")
    r = Running(consumer, redis, tmp_path, *areas)
    try:
        wait_for(lambda: "connected" in r.err.read_text(), slack(10, 60), what="connected")
        ev = xadd(redis, "schools", "referral.sent", "ref-8")
        assert r.wait_events(1, slack(10, 30)) == [ev]
        time.sleep(0.5)                 # inside its next blocking read
    finally:
        # A read blocks up to 5 s; the batch it brings is handled first.
        started = time.monotonic()
        rc, err = r.stop(timeout=slack(10, 30))
    assert rc == 0, err
    assert time.monotonic() - started < slack(7, 30)
    assert pending(redis, "schools") == 0


def test_it_reconnects_when_redis_comes_back(consumer, redis, tmp_path):
    r = Running(consumer, redis, tmp_path, "clinics")
    try:
        wait_for(lambda: "connected" in r.err.read_text(), slack(10, 60), what="connected")
        first = xadd(redis, "clinics", "referral.sent", "ref-9")
        r.wait_events(1, slack(10, 30))
        redis.restart()
        second = xadd(redis, "clinics", "referral.accepted", "ref-9", "prov-3")
        assert r.wait_events(2, slack(20, 40)) == [first, second]
    finally:
        rc, err = r.stop(timeout=slack(10, 30))
    assert rc == 0, err
    assert "retrying in" in err and err.count("connected to 127.0.0.1") >= 2, err
    assert pending(redis, "clinics") == 0


def test_an_unreachable_redis_is_an_error(consumer):
    port = free_port()
    p = run(consumer, "-p", port, "-g", GROUP, "-c", "c1", "-1", "clinics")
    assert p.returncode == 1 and p.stdout == ""
    assert "cannot connect to 127.0.0.1:%d" % port in p.stderr, p.stderr


OK = ["-g", GROUP, "-c", "c1"]


@pytest.mark.parametrize("args, message", [
    ([], "-g GROUP and -c CONSUMER are required"),
    (["-g", GROUP, "clinics"], "-g GROUP and -c CONSUMER are required"),
    (OK, "name at least one AREA"),
    (OK + ["Clinics"], 'bad area name "Clinics"'),
    (OK + ["1clinics"], 'bad area name "1clinics"'),
    (OK + ["clin-ics"], 'bad area name "clin-ics"'),
    (OK + ["clinics", "a" * 33], "bad area name"),
    (OK + [""], 'bad area name ""'),
    (OK + ["clinics", "clinics"], "an AREA is named twice"),
    (["-g", "two words", "-c", "c1", "clinics"], "GROUP and CONSUMER are 1-64"),
    (["-g", GROUP, "-c", "c" * 65, "clinics"], "GROUP and CONSUMER are 1-64"),
    (["-p", "0"] + OK + ["clinics"], "-p port must be a number from 1 to 65535"),
    (["-p", "65536"] + OK + ["clinics"], "-p port must be a number"),
    (["-p", "63x"] + OK + ["clinics"], "-p port must be a number"),
    (["-n", "-1"] + OK + ["clinics"], "-n db must be a number"),
    (["-i", "0"] + OK + ["clinics"], "-i min-idle-ms must be a number"),
    (["-h", ""] + OK + ["clinics"], "-h needs a host"),
    (["-u", "partner"] + OK + ["clinics"], "-u needs -a passwordfile"),
    (["-a", "/nonexistent/secret"] + OK + ["clinics"], "cannot read the password file"),
    (["-x"] + OK + ["clinics"], "unknown option"),
])
def test_bad_arguments_are_refused(consumer, args, message):
    p = run(consumer, *args)
    assert p.returncode == 2, p
    assert message in p.stderr and "usage: korpu-events" in p.stderr, p.stderr
    assert p.stdout == ""
