#!/usr/bin/python3
"""slots_year.py - the client half of contrib/bench/slots-year.sh (which
starts Redis, slapd and korpud and runs this against them).

Through the HTTP API only, as the demo admin and a caseworker would:
makes an organization with an agreement for clinics, two providers open
every day 08:00-20:00 in Asia/Baku with 30-minute slots of one place
each (24 slots a day), clients consenting to the clinics area, and books
N appointments with one of the providers, spread at random over the next
365 days, by several connections at once. The other provider stays
empty. Then it checks the year through GET .../slots (the free places it
lists must be exactly the year's slots minus the N booked) and measures
GET /api/v1/providers/{id}/slots?from=&to= for ranges of 1, 7, 31 and 92
days on both providers: with wrk (-t1, for --duration seconds a row)
when it is installed, else with a loop of --requests sequential requests
on one kept-alive connection. Prints one table row per range and
provider, and the ratios that show what the latency follows.

    slots_year.py http://127.0.0.1:PORT --workdir DIR [--bookings N]
        [--requests R] [--duration S] [--connections C]
        [--tool auto|wrk|python] [--workers W]

Python standard library only; talks to 127.0.0.1 only."""
import argparse
import datetime
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import zoneinfo

ADMIN = ("equliyev", "elchin-demo-2026")
CASEWORKER = ("lmammadova", "leyla-demo-2026")
ZONE = "Asia/Baku"
OPEN, CLOSE, SLOT_MINUTES = 8, 20, 30
SLOTS_PER_DAY = (CLOSE - OPEN) * 60 // SLOT_MINUTES
DAYS = 365                      # the year filled: tomorrow and the 364 days after it
RANGES = (1, 7, 31, 92)         # days asked for per GET (the API takes at most 93)
BOOKINGS_PER_CLIENT = 50
EVERY_DAY = ["mo", "tu", "we", "th", "fr", "sa", "su"]


class Failed(Exception):
    pass


def say(*args):
    print(*args, flush=True)


class Conn:
    """One kept-alive HTTP/1.1 connection to korpud."""

    def __init__(self, port, token=None):
        self.port = port
        self.token = token
        self.c = None

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None

    def raw(self, method, path, body=None):
        """(status, raw body bytes); one reconnect for a GET whose kept-alive
        connection was closed meanwhile."""
        headers = {"Host": "127.0.0.1"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        for attempt in (1, 2):
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.c.request(method, path, body=data, headers=headers)
                r = self.c.getresponse()
                raw = r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if method != "GET" or attempt == 2:
                    raise
                continue
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return r.status, raw
        raise AssertionError("not reached")

    def call(self, method, path, body=None):
        status, raw = self.raw(method, path, body)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def must(self, method, path, body=None, ok=(200, 201)):
        status, answer = self.call(method, path, body)
        if status not in ok:
            raise Failed("%s %s: %s %r" % (method, path, status, answer))
        return answer


def sign_in(port, user):
    c = Conn(port)
    answer = c.must("POST", "/api/v1/login", {"username": user[0], "password": user[1]})
    c.token = answer["token"]
    return c


def run_threads(n, work, items):
    """Runs work(conn_index, item) for every item on n threads at once;
    stops early (and re-raises) on the first failure or a signal."""
    it = iter(items)
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def loop(i):
        while not stop.is_set():
            with lock:
                item = next(it, None)
            if item is None:
                return
            try:
                work(i, item)
            except BaseException as e:  # noqa: BLE001 - handed to the main thread
                errors.append(e)
                stop.set()
                return
    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    finally:
        stop.set()
    if errors:
        raise errors[0]


# ---- the directory and the year of bookings --------------------------------

def setup(port, bookings, workers):
    admin = sign_in(port, ADMIN)
    worker = sign_in(port, CASEWORKER)
    today = datetime.datetime.now(zoneinfo.ZoneInfo(ZONE)).date()
    org = admin.must("POST", "/api/v1/organizations",
                     {"name": "Bench clinic %d" % os.getpid(), "kind": "government",
                      "region": "baku"})
    admin.must("PUT", "/api/v1/organizations/%s/agreement" % org["id"],
               {"valid_from": (today - datetime.timedelta(days=1)).isoformat(),
                "valid_to": (today + datetime.timedelta(days=DAYS + 30)).isoformat(),
                "areas": ["clinics"]})
    providers = {}
    for which in ("filled", "empty"):
        providers[which] = admin.must("POST", "/api/v1/providers", {
            "name": "Bench %s clinic %d" % (which, os.getpid()), "area": "clinics",
            "organization": org["id"], "region": "baku", "address": "Nizami küç. 1, Bakı",
            "languages": ["az", "ru"], "timezone": ZONE, "slot_minutes": SLOT_MINUTES,
            "capacity": 1, "closed": [],
            "hours": [{"days": EVERY_DAY, "open": "%02d:00" % OPEN,
                       "close": "%02d:00" % CLOSE}]})
    nclients = max(1, math.ceil(bookings / BOOKINGS_PER_CLIENT))
    clients = [None] * nclients
    conns = [Conn(port, worker.token) for _ in range(workers)]

    def make_client(i, n):
        c = conns[i]
        clients[n] = c.must("POST", "/api/v1/clients", {
            "registration_no": "BENCH-%d-%d" % (os.getpid(), n), "given_name": "Ayşə",
            "family_name": "Məmmədova", "birth_date": "1990-04-12", "sex": "female",
            "languages": ["az", "ru"], "needs_interpreter": False, "region": "baku",
            "phone": "+994 50 123 45 67", "vulnerabilities": []})
        c.must("PUT", "/api/v1/clients/%s/consent/clinics" % clients[n]["id"],
               {"service": True, "share": True})
    run_threads(min(workers, nclients), make_client, range(nclients))
    for c in conns:
        c.close()
    return admin, worker, today, providers, clients


def starts_of_year(today):
    """Every slot start of the year filled, as the API writes them."""
    zone = zoneinfo.ZoneInfo(ZONE)
    out = []
    for d in range(1, DAYS + 1):
        day = today + datetime.timedelta(days=d)
        for s in range(SLOTS_PER_DAY):
            t = datetime.datetime(day.year, day.month, day.day, OPEN, 0, tzinfo=zone) + \
                datetime.timedelta(minutes=SLOT_MINUTES * s)
            out.append(t.isoformat(timespec="seconds"))
    return out


def fill(port, token, provider, clients, starts, workers):
    conns = [Conn(port, token) for _ in range(workers)]
    done = [0]
    lock = threading.Lock()

    def book(i, job):
        n, start = job
        status, answer = conns[i].call("POST", "/api/v1/appointments", {
            "provider_id": provider["id"], "client_id": clients[n % len(clients)]["id"],
            "start": start})
        if status != 201:
            raise Failed("booking %s: %s %r" % (start, status, answer))
        with lock:
            done[0] += 1
    t0 = time.monotonic()
    try:
        run_threads(workers, book, enumerate(starts))
    finally:
        for c in conns:
            c.close()
    return done[0], time.monotonic() - t0


def slots_path(provider, first, days):
    to = first + datetime.timedelta(days=days - 1)
    return "/api/v1/providers/%s/slots?%s" % (provider["id"], urllib.parse.urlencode(
        {"from": first.isoformat(), "to": to.isoformat()}))


def free_in_year(conn, provider, today):
    """Free places GET .../slots lists over the year filled (93-day pages)."""
    free, d = 0, 1
    while d <= DAYS:
        days = min(93, DAYS - d + 1)
        free += len(conn.must("GET", slots_path(provider, today + datetime.timedelta(days=d),
                                                days)))
        d += days
    return free


# ---- measuring ------------------------------------------------------------

WRK_SCRIPT = """\
-- written by contrib/bench/slots_year.py: one machine-readable line
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("korpu-wrk requests=%d duration_us=%d status_errors=%d " ..
    "socket_errors=%d p50=%d p95=%d p99=%d max=%d\\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.max))
end
"""

_child = None       # the wrk running, stopped when a signal ends us


def measure_wrk(port, token, path, duration, connections, script):
    global _child
    argv = ["wrk", "-t1", "-c%d" % connections, "-d%ds" % duration, "--timeout", "10s",
            "-s", script, "-H", "Authorization: Bearer " + token,
            "http://127.0.0.1:%d%s" % (port, path)]
    _child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = _child.communicate(timeout=duration + 60)
    finally:
        if _child.poll() is None:
            _child.kill()
            _child.wait()
        rc, _child = _child.returncode, None
    m = re.search(r"^korpu-wrk (.*)$", out, re.M)
    if rc != 0 or m is None:
        raise Failed("wrk exited with %s:\n%s" % (rc, out))
    v = {k: int(x) for k, x in (kv.split("=") for kv in m.group(1).split())}
    if v["status_errors"] or v["socket_errors"] or v["requests"] == 0:
        raise Failed("wrk on %s: %s" % (path, m.group(0)))
    return {"requests": v["requests"], "rate": v["requests"] / (v["duration_us"] / 1e6),
            "p50": v["p50"] / 1e3, "p95": v["p95"] / 1e3, "p99": v["p99"] / 1e3}


def percentile(sorted_ms, q):
    """Nearest-rank percentile of an ascending list."""
    return sorted_ms[max(0, math.ceil(q / 100 * len(sorted_ms)) - 1)]


def measure_python(port, token, path, requests):
    c = Conn(port, token)
    times = []
    try:
        t0 = time.perf_counter()
        for _ in range(requests):
            t = time.perf_counter()
            status, raw = c.raw("GET", path)
            times.append((time.perf_counter() - t) * 1e3)
            if status != 200:
                raise Failed("GET %s: %s %r" % (path, status, raw[:300]))
        wall = time.perf_counter() - t0
    finally:
        c.close()
    times.sort()
    return {"requests": requests, "rate": requests / wall, "p50": percentile(times, 50),
            "p95": percentile(times, 95), "p99": percentile(times, 99)}


def handler_times(log, offset, provider):
    """korpud's own time (ms) for the slots requests of provider that its
    access log holds after offset: from reading the request to queueing
    the answer, so without the time the answer takes to reach the client."""
    pattern = re.compile(r'"GET /api/v1/providers/%s/slots\?\.\.\." 200 \d+ ([0-9.]+)ms$'
                         % re.escape(provider["id"]), re.M)
    with open(log, "rb") as fh:
        fh.seek(offset)
        text = fh.read().decode(errors="replace")
    return [float(t) for t in pattern.findall(text)]


def size(n):
    return "%.1f kB" % (n / 1000) if n >= 1000 else "%d B" % n


def ratios(what, v, filled):
    say("%s, %s vs empty, same range: %s" % (what, filled, ", ".join(
        "%d d %.2fx" % (d, v[d, "filled"] / v[d, "empty"]) for d in RANGES)))
    say("%s, 92 days vs 1 day, same provider: %.1fx (empty), %.1fx (%s)" % (
        what, v[92, "empty"] / v[1, "empty"], v[92, "filled"] / v[1, "filled"], filled))


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url")
    ap.add_argument("--workdir", required=True, help="where the wrk script is written")
    ap.add_argument("--bookings", type=int, default=5000)
    ap.add_argument("--requests", type=int, default=1000,
                    help="requests a row (the Python loop)")
    ap.add_argument("--duration", type=int, default=5, help="seconds a row (wrk)")
    ap.add_argument("--connections", type=int, default=1, help="wrk connections")
    ap.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    ap.add_argument("--workers", type=int, default=16, help="connections filling the year")
    ap.add_argument("--log", help="korpud's log (its access log gives the handler's time)")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/?", a.url)
    if m is None:
        raise SystemExit("slots_year.py: the URL must be http://127.0.0.1:PORT")
    port = int(m.group(1))
    if not 0 <= a.bookings <= DAYS * SLOTS_PER_DAY:
        raise SystemExit("slots_year.py: --bookings must be 0..%d (%d slots a day, %d days, "
                         "one place each)" % (DAYS * SLOTS_PER_DAY, SLOTS_PER_DAY, DAYS))
    if min(a.requests, a.duration, a.connections, a.workers) < 1:
        raise SystemExit("slots_year.py: --requests, --duration, --connections and --workers "
                         "must be at least 1")
    tool = a.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    elif tool == "wrk" and not shutil.which("wrk"):
        raise SystemExit("slots_year.py: --tool wrk, but wrk is not installed (apt-get install wrk)")
    script = os.path.join(a.workdir, "slots-year.lua")
    with open(script, "w") as fh:
        fh.write(WRK_SCRIPT)

    try:
        run(a, port, tool, script)
    except Failed as e:
        say("slots-year: FAILED: %s" % e)
        return 1
    return 0


def run(a, port, tool, script):
    t0 = time.monotonic()
    admin, worker, today, providers, clients = setup(port, a.bookings, a.workers)
    say("== made an organization, 2 providers (every day %02d:00-%02d:00 %s, %d-minute slots, "
        "capacity 1) and %d clients in %.1f s"
        % (OPEN, CLOSE, ZONE, SLOT_MINUTES, len(clients), time.monotonic() - t0))
    year = starts_of_year(today)
    starts = random.Random(2026).sample(year, a.bookings)
    say("== filling %s..%s with %d bookings over %d connections (POST /api/v1/appointments)"
        % (year[0][:10], year[-1][:10], a.bookings, a.workers))
    n, took = fill(port, worker.token, providers["filled"], clients, starts, a.workers)
    say("   booked %d in %.1f s (%.0f bookings/s)" % (n, took, n / took if took else 0))
    free = {w: free_in_year(worker, p, today) for w, p in providers.items()}
    total = DAYS * SLOTS_PER_DAY
    if free["filled"] != total - a.bookings or free["empty"] != total:
        raise Failed("GET slots lists %d free places on the filled provider (expected %d) "
                     "and %d on the empty one (expected %d)"
                     % (free["filled"], total - a.bookings, free["empty"], total))
    say("   checked: GET slots lists %d free places of %d in the year (filled), %d (empty)"
        % (free["filled"], total, free["empty"]))

    first = today + datetime.timedelta(days=1)
    if tool == "wrk":
        how = "wrk -t1 -c%d -d%ds a row" % (a.connections, a.duration)
    else:
        how = "%d sequential requests a row, one kept-alive connection (Python)" % a.requests
    say("== GET /api/v1/providers/{id}/slots?from=%s&to=... as a caseworker; %s"
        % (first.isoformat(), how))
    header = "%-8s %-14s %6s %5s %9s %9s %9s %9s %7s %8s" % (
        "range", "provider", "booked", "free", "answer", "median", "p95", "p99", "req/s",
        "korpud")
    say(header)
    say("-" * len(header))
    label = {"filled": "%d booked" % a.bookings, "empty": "empty"}
    medians, handler = {}, {}
    for days in RANGES:
        for which in ("empty", "filled"):
            path = slots_path(providers[which], first, days)
            status, raw = worker.raw("GET", path)
            if status != 200:
                raise Failed("GET %s: %s %r" % (path, status, raw[:300]))
            listed = len(json.loads(raw))
            for _ in range(20):     # warm up: the first answers pay for caches
                worker.raw("GET", path)
            offset = os.path.getsize(a.log) if a.log else 0
            if tool == "wrk":
                r = measure_wrk(port, worker.token, path, a.duration, a.connections, script)
            else:
                r = measure_python(port, worker.token, path, a.requests)
            medians[days, which] = r["p50"]
            times = handler_times(a.log, offset, providers[which]) if a.log else []
            handler[days, which] = sum(times) / len(times) if times else None
            say("%-8s %-14s %6d %5d %9s %6.2f ms %6.2f ms %6.2f ms %7.0f %8s" % (
                "%d day%s" % (days, "" if days == 1 else "s"), label[which],
                days * SLOTS_PER_DAY - listed, listed, size(len(raw)),
                r["p50"], r["p95"], r["p99"], r["rate"],
                "%.2f ms" % handler[days, which] if times else "-"))
    say("-" * len(header))
    say("median/p95/p99, req/s: at the client (%s); korpud: its own time a request, mean"
        % tool)
    say("(access log: reading the request to queueing the answer, no network)")
    ratios("client median", medians, label["filled"])
    if all(v for v in handler.values()):
        ratios("korpud's time", handler, label["filled"])
    for c in (admin, worker):
        c.close()       # idle for a while: korpud may have closed it
        c.call("POST", "/api/v1/logout")
        c.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        if _child is not None and _child.poll() is None:
            _child.kill()
            _child.wait()
