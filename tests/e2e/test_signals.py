"""SIGHUP reloads (or refuses to), SIGTERM drains and exits 0."""
import json
import re
import signal
import socket
import threading
import time

from servers import assert_problem, wait_for

CHECK = "/api/v1/areas/clinics/check"
VALID = {"fields": {"urgency": "routine", "service_category": "dental", "reason": "toothache"}}
USER = "lmammadova"     # a caseworker of the demo directory


def padded(size):
    text = json.dumps(VALID).encode()
    return text + b" " * (size - len(text))


def refuses_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return False
    except (ConnectionRefusedError, ConnectionResetError):
        # A reset: the connection was queued on the listener as it closed.
        return True


# ---- SIGHUP ---------------------------------------------------------------

def test_sighup_with_a_broken_config_keeps_the_running_one(make_korpud):
    k = make_korpud(conf={"limits": {"body_max": 4096}})
    k.auth_token = k.sign_in(USER)
    text = k.config_text().replace("  body_max = 4096;", "  body_max = 4096;\n  bodymax = 1;")
    k.write_config(text)
    bad_line = text.splitlines().index("  bodymax = 1;") + 1
    mark = k.log_mark()
    k.send_signal(signal.SIGHUP)
    m = k.wait_log(r"reload refused: (\S+):(\d+): (.*)", start=mark)
    assert m.group(1) == str(k.conf_path) and int(m.group(2)) == bad_line, m.group(0)
    assert "bodymax" in m.group(3)
    assert "configuration reloaded" not in k.log_text()[mark:]
    assert k.running()
    assert k.get("/health").status == 200
    r = k.get("/api/v1/areas")
    assert r.status == 200 and len(r.body) == 5
    assert k.get("/ready").status == 200
    # The old limit still applies.
    r = k.post(CHECK, body=padded(4096), headers={"Content-Type": "application/json"})
    assert r.status == 200, r.body


def test_sighup_applies_a_valid_change(make_korpud):
    k = make_korpud(conf={"limits": {"body_max": 8192}})
    k.auth_token = k.sign_in(USER)
    body = padded(3000)
    r = k.post(CHECK, body=body, headers={"Content-Type": "application/json"})
    assert r.status == 200, r.body
    k.update_config({"limits": {"body_max": 2048}})
    mark = k.log_mark()
    k.send_signal(signal.SIGHUP)
    k.wait_log(r"reload: configuration reloaded from %s" % re.escape(str(k.conf_path)), start=mark)
    r = k.post(CHECK, body=body, headers={"Content-Type": "application/json"})
    doc = assert_problem(r, 413)
    assert "2048" in doc["detail"], doc
    assert k.post(CHECK, json_body=VALID).status == 200
    assert k.get("/ready").status == 200


def test_sighup_with_a_broken_plugin_file_is_refused(make_korpud):
    k = make_korpud()
    k.auth_token = k.sign_in(USER)
    (k.dir / "plugins.d" / "schools.conf").write_text("# schools\nmin_age = 99;\n")
    mark = k.log_mark()
    k.send_signal(signal.SIGHUP)
    m = k.wait_log(r"reload refused: (\S+):(\d+): (.*)", start=mark)
    assert m.group(1).endswith("plugins.d/schools.conf") and m.group(2) == "2", m.group(0)
    assert k.get("/api/v1/areas").status == 200


def test_sighup_storm_is_survived(make_korpud):
    """SIGHUPs faster than reloads finish are coalesced, never lost: the
    last one is followed by a reload."""
    k = make_korpud()
    k.auth_token = k.sign_in(USER)
    mark = k.log_mark()
    for _ in range(25):
        k.send_signal(signal.SIGHUP)
    k.wait_log(r"reload: configuration reloaded", start=mark)
    assert k.get("/health").status == 200
    k.update_config({"limits": {"body_max": 1024}})
    k.send_signal(signal.SIGHUP)

    def applied():
        r = k.post(CHECK, body=padded(1500), headers={"Content-Type": "application/json"})
        return r.status == 413
    wait_for(applied, 5.0, what="the last reload to apply")
    assert k.get("/ready").status == 200


def test_sigterm_right_after_sighup_exits_0(make_korpud):
    k = make_korpud()
    k.send_signal(signal.SIGHUP)
    k.send_signal(signal.SIGTERM)
    assert k.wait(10.0) == 0, k.log_text()


# ---- SIGTERM --------------------------------------------------------------

def test_sigterm_when_idle_exits_0_promptly(korpud):
    assert korpud.get("/ready").status == 200
    t = time.monotonic()
    korpud.send_signal(signal.SIGTERM)
    rc = korpud.wait(5.0)
    took = time.monotonic() - t
    assert rc == 0, korpud.log_text()
    assert took < 2.0, "took %.2f s" % took
    log = korpud.log_text()
    assert "redis: connection closed" in log, log
    assert "korpud stopped" in log, log


def test_sigint_exits_0(korpud):
    korpud.send_signal(signal.SIGINT)
    assert korpud.wait(5.0) == 0, korpud.log_text()


def start_ready_in_thread(k, timeout=15.0):
    result = {}

    def go():
        try:
            result["response"] = k.get("/ready", timeout=timeout)
        except Exception as e:      # recorded and asserted on by the test
            result["error"] = e
    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t, result


def in_flight(k, mark):
    """Waits until korpud is serving the request (its access line is
    written only when it ends), by giving it the time to read it."""
    time.sleep(0.3)
    assert "GET /ready" not in k.log_text()[mark:], "the request ended before SIGTERM"


def test_sigterm_stops_accepting_and_exits_after_the_drain(make_korpud, redis):
    drain_ms = 4000
    k = make_korpud(conf={"redis": {"command_timeout_ms": 3000},
                          "limits": {"drain_ms": drain_ms}})
    redis.sigstop()
    try:
        mark = k.log_mark()
        thread, result = start_ready_in_thread(k)
        in_flight(k, mark)
        t0 = time.monotonic()
        k.send_signal(signal.SIGTERM)
        wait_for(lambda: refuses_connections(k.port), 1.0, what="new connections refused")
        k.wait_log(r"shutdown: no longer accepting; draining 1 request", start=mark)
        assert k.running(), "korpud did not wait for the request in flight"
    finally:
        redis.sigcont()
    rc = k.wait(drain_ms / 1000.0 + 2.0)
    assert rc == 0, k.log_text()
    assert time.monotonic() - t0 < drain_ms / 1000.0 + 1.0
    thread.join(5.0)
    k.wait_log(r'"GET /ready" (200|503) ', start=mark)
    assert "redis: connection closed" in k.log_text()


def test_sigterm_in_flight_request_gets_its_answer(make_korpud, redis):
    k = make_korpud(conf={"redis": {"command_timeout_ms": 3000},
                          "limits": {"drain_ms": 4000}})
    redis.sigstop()
    try:
        mark = k.log_mark()
        thread, result = start_ready_in_thread(k)
        in_flight(k, mark)
        k.send_signal(signal.SIGTERM)
        wait_for(lambda: refuses_connections(k.port), 1.0, what="new connections refused")
        time.sleep(0.1)
    finally:
        redis.sigcont()
    assert k.wait(6.0) == 0, k.log_text()
    thread.join(5.0)
    assert "error" not in result, "in-flight /ready got no HTTP answer: %r" % result.get("error")
    assert result["response"].status in (200, 503), result["response"]


def test_drain_time_bounds_the_wait(make_korpud, redis):
    """A request that outlives limits.drain_ms does not keep korpud up:
    it exits 0 after the drain time plus at most the Redis command
    timeout (closing Redis waits for replies owed)."""
    k = make_korpud(conf={"redis": {"command_timeout_ms": 1500},
                          "limits": {"drain_ms": 300}})
    redis.sigstop()
    try:
        mark = k.log_mark()
        thread, result = start_ready_in_thread(k)
        in_flight(k, mark)
        t0 = time.monotonic()
        k.send_signal(signal.SIGTERM)
        rc = k.wait(5.0)
        took = time.monotonic() - t0
    finally:
        redis.sigcont()
    assert rc == 0, k.log_text()
    assert took < 0.3 + 1.5 + 1.0, "took %.2f s" % took
    assert "still in flight after the drain time" in k.log_text()
    thread.join(5.0)


def test_second_sigterm_ends_the_drain(make_korpud, redis):
    k = make_korpud(conf={"redis": {"command_timeout_ms": 1000},
                          "limits": {"drain_ms": 20000}})
    redis.sigstop()
    try:
        mark = k.log_mark()
        thread, result = start_ready_in_thread(k)
        in_flight(k, mark)
        t0 = time.monotonic()
        k.send_signal(signal.SIGTERM)
        k.wait_log(r"shutdown: no longer accepting", start=mark)
        k.send_signal(signal.SIGTERM)
        rc = k.wait(5.0)
        took = time.monotonic() - t0
    finally:
        redis.sigcont()
    assert rc == 0, k.log_text()
    assert took < 3.0, "took %.2f s" % took
    assert "second signal" in k.log_text()
    thread.join(5.0)
