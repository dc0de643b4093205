"""GET /metrics: the Prometheus text format, counted per route pattern
(never a client's id), for the addresses in metrics.allow only."""
import re
import signal

from servers import line_of, run_korpud

LINE = re.compile(r'^([a-z_:][a-z0-9_:]*)(\{([a-z_]+="[^"\\]*"(,[a-z_]+="[^"\\]*")*)\})? (\S+)$')


def scrape(k):
    r = k.get("/metrics", token=False)
    assert r.status == 200, r.body
    assert r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    return r.raw.decode()


def parse(text):
    """{(name, frozenset(labels)): value}, checking every line's form and
    that each metric has its HELP and TYPE first."""
    seen_type, out = set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            if line.startswith("# TYPE "):
                seen_type.add(line.split()[2])
            continue
        m = LINE.match(line)
        assert m, "not an exposition line: %r" % line
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in seen_type or base in seen_type, "no TYPE before %s" % name
        labels = frozenset(re.findall(r'([a-z_]+)="([^"]*)"', m.group(3) or ""))
        out[(name, labels)] = float(m.group(5))
    return out


def value(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_and_status(korpud):
    k = korpud
    for _ in range(3):
        assert k.get("/health", token=False).status == 200
    assert k.get("/", token=False).status == 200                   # a web file
    assert k.get("/nothing-here", token=False).status == 404       # no such web file
    assert k.get("/api/v1/nothing", token=False).status == 404     # no such route
    assert k.get("/api/v1/clients/01abcdefghjkmnpqrs.main", token=False).status == 401
    m = parse(scrape(k))
    assert value(m, "korpu_http_requests_total", method="GET", route="/health", status="200") >= 3
    assert value(m, "korpu_http_requests_total", method="GET", route="(web)", status="200") >= 1
    assert value(m, "korpu_http_requests_total", method="GET", route="(web)", status="404") >= 1
    assert value(m, "korpu_http_requests_total", method="GET", route="(none)", status="404") >= 1
    assert value(m, "korpu_http_requests_total", method="GET", route="/api/v1/clients/{id}",
                 status="401") == 1
    assert "01abcdefghjkmnpqrs" not in scrape(k)       # ids never become labels
    assert value(m, "korpu_redis_up") == 1
    assert value(m, "korpu_plugins_loaded") == 5
    assert value(m, "korpu_http_connections") >= 1
    assert any(n == "korpu_build_info" for n, _ in m)


def test_histograms_are_cumulative(korpud):
    k = korpud
    for _ in range(5):
        k.get("/health", token=False)
    m = parse(scrape(k))
    labels = {"method": "GET", "route": "/health"}
    buckets = sorted(((float("inf") if dict(l)["le"] == "+Inf" else float(dict(l)["le"])), v)
                     for (n, l), v in m.items()
                     if n == "korpu_http_request_duration_seconds_bucket"
                     and {k_: v_ for k_, v_ in l if k_ != "le"} == labels)
    assert len(buckets) == 11
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), counts
    assert counts[-1] == value(m, "korpu_http_request_duration_seconds_count", **labels) >= 5
    assert value(m, "korpu_http_request_duration_seconds_sum", **labels) > 0


def test_reloads_are_counted(korpud):
    k = korpud
    mark = k.log_mark()
    k.send_signal(signal.SIGHUP)
    k.wait_log(r"reload: configuration reloaded", start=mark)
    assert value(parse(scrape(k)), "korpu_config_reloads_total") == 1


def test_only_the_allowed_addresses_may_scrape(make_korpud):
    k = make_korpud(conf={"metrics": {"allow": ["10.9.8.7"]}})
    r = k.get("/metrics", token=False)
    assert r.status == 403
    assert r.header("Content-Type") == "application/problem+json"


def test_a_bad_allow_entry_stops_korpud_t_with_file_and_line(make_korpud):
    k = make_korpud(start=False, conf={"metrics": {"allow": ["localhost"]}})
    text = k.config_text()
    p = run_korpud(["-t", "-c", str(k.write_config(text))])
    assert p.returncode == 1
    assert "korpud.conf:%d" % line_of(text, "localhost") in p.stderr, p.stderr
