"""limits.connections_max: connections over the cap get a 503 problem
document, and closed connections are counted out."""
import socket
import time

from servers import assert_problem, parse_raw_response, read_until_close, wait_for


def test_connection_cap(make_korpud):
    cap = 3
    k = make_korpud(conf={"limits": {"connections_max": cap}})
    idle = [socket.create_connection(("127.0.0.1", k.port), timeout=5) for _ in range(cap)]
    try:
        # Let korpud accept (and count) all of them.
        time.sleep(0.2)
        extra = socket.create_connection(("127.0.0.1", k.port), timeout=5)
        try:
            data = read_until_close(extra, timeout=5)
        finally:
            extra.close()
        status, headers, body = parse_raw_response(data)
        doc = assert_problem((status, headers, body), 503)
        assert headers.get("retry-after", "").isdigit(), headers
        assert "connection" in doc["detail"], doc
        k.wait_log(r"http: refused a connection: %d open, connections_max is %d" % (cap + 1, cap))
        # The idle connections are still served.
        idle[0].sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = parse_raw_response(read_until_close(idle[0], timeout=5))
        assert status == 200, body
    finally:
        for s in idle:
            s.close()

    def healthy():
        try:
            return k.get("/health", timeout=2).status == 200
        except OSError:
            return False
    wait_for(healthy, 5.0, interval=0.05, what="/health 200 after closing the idle connections")
    # Counted out for good: the cap is whole again.
    again = [socket.create_connection(("127.0.0.1", k.port), timeout=5) for _ in range(cap - 1)]
    try:
        time.sleep(0.1)
        assert k.get("/health").status == 200
    finally:
        for s in again:
            s.close()


def test_refused_connections_do_not_leak_slots(make_korpud):
    """Many refused connections in a row leave the count where it was."""
    k = make_korpud(conf={"limits": {"connections_max": 2}})
    hold = socket.create_connection(("127.0.0.1", k.port), timeout=5)
    hold2 = socket.create_connection(("127.0.0.1", k.port), timeout=5)
    try:
        time.sleep(0.1)
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", k.port), timeout=5)
            try:
                status, _, _ = parse_raw_response(read_until_close(s, timeout=5))
            finally:
                s.close()
            assert status == 503
    finally:
        hold.close()
        hold2.close()

    def healthy():
        try:
            return k.get("/health", timeout=2).status == 200
        except OSError:
            return False
    wait_for(healthy, 5.0, interval=0.05, what="/health 200 again")
    a = socket.create_connection(("127.0.0.1", k.port), timeout=5)
    try:
        time.sleep(0.1)
        assert k.get("/health").status == 200
    finally:
        a.close()
