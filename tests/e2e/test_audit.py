"""The audit trail: every sign-in attempt, sign-out and audit read is a
record in the file audit.jsonl (hash-chained: contrib/audit-verify) and in
the Redis stream korpu:audit:{audit}, which GET /api/v1/audit (admin)
reads back newest first, filtered and paged."""
import hashlib
import json
import subprocess
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from conftest import shared_korpud
from ldap_server import DEMO_USERS
from servers import AUDIT, LOGOUT, REPO, assert_problem

VERIFY = REPO / "contrib" / "audit-verify"
STREAM = "korpu:audit:{audit}"
ZERO = "0" * 64
ADMIN = "equliyev"
LEYLA = "lmammadova"
RECORD_KEYS = {"at", "actor", "action", "outcome", "roles", "organization", "request_id",
               "address", "prev", "objects"}


def rid(tag):
    return "%s-%s" % (tag, uuid.uuid4().hex[:12])


def audit_verify(path):
    p = subprocess.run(["/usr/bin/python3", str(VERIFY), str(path)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout.strip(), p.stderr


def sha(line):
    return hashlib.sha256(line).hexdigest()


def iso_ms(ms):
    return datetime.fromtimestamp(ms / 1000.0, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        "%03dZ" % (ms % 1000)


def id_ms(entry_id):
    return int(entry_id.split("-")[0])


def id_key(entry_id):
    a, b = entry_id.split("-")
    return int(a), int(b)


@pytest.fixture(scope="module")
def trail(tmp_path_factory, slapd):
    """A korpud that saw: an admin's and a caseworker's sign-in, two wrong
    passwords (a lockout), a throttled attempt, a sign-in without a role,
    a sign-out and an unknown user, in that order, each with a request id
    of ours. expected: (actor, action, outcome, request id), oldest first."""
    with shared_korpud(tmp_path_factory.mktemp("audit"), slapd,
                       conf={"sessions": {"max_failures": 2, "lockout_s": 60}}) as k:
        expected = []

        def step(actor, action, outcome, status, call, tag):
            r_id = rid(tag)
            r = call({"X-Request-Id": r_id})
            assert r.status == status, (tag, r.status, r.body)
            assert r.header("X-Request-Id") == r_id
            expected.append((actor, action, outcome, r_id))
            return r

        leyla_pw = DEMO_USERS[LEYLA]["password"]
        admin = step(ADMIN, "login", "success", 200,
                     lambda h: k.login(ADMIN, DEMO_USERS[ADMIN]["password"], headers=h), "in")
        leyla = step(LEYLA, "login", "success", 200,
                     lambda h: k.login(LEYLA, leyla_pw, headers=h), "in")
        step(LEYLA, "login", "denied", 401, lambda h: k.login(LEYLA, "wrong-1", headers=h), "bad")
        step(LEYLA, "login", "denied", 401, lambda h: k.login(LEYLA, "wrong-2", headers=h), "bad")
        # Throttled before the directory was asked: the name is unverified.
        step("(unknown user)", "login", "throttled", 429,
             lambda h: k.login(LEYLA, leyla_pw, headers=h), "thr")
        step("snasirova", "login", "no_role", 403,
             lambda h: k.login("snasirova", DEMO_USERS["snasirova"]["password"], headers=h), "nr")
        step(LEYLA, "logout", "success", 204,
             lambda h: k.post(LOGOUT, token=leyla.body["token"], headers=h), "out")
        # A name the directory does not know is not recorded as typed (it may
        # be a password typed into the wrong field), only as a short hash.
        step("(unknown user)", "login", "denied", 401,
             lambda h: k.login("nosuch", "x", headers=h), "bad")
        yield SimpleNamespace(k=k, admin=admin.body["token"], expected=expected)


def read_audit(t, query="", status=200, **kw):
    r = t.k.get(AUDIT + query, token=t.admin, **kw)
    if status == 200:
        assert r.status == 200, (query, r.status, r.body)
        assert r.header("Content-Type", "").startswith("application/json")
        assert set(r.body) == {"items", "next_cursor"}, r.body
    return r


def summary(items):
    return [(i["actor"], i["action"], i["outcome"], i["request_id"]) for i in items]


# ---- the file ---------------------------------------------------------------

def test_audit_file_records_every_attempt_and_verifies(trail):
    n = len(trail.expected)
    everything = trail.k.wait_audit_lines(n)
    # Later lines, if other tests ran first, are their reads of the trail.
    assert all(json.loads(x)["action"] == "audit.read" for x in everything[n:]), everything[n:]
    lines = everything[:n]
    records = [json.loads(x) for x in lines]
    assert [(r["actor"], r["action"], r["outcome"], r["request_id"]) for r in records] == \
        trail.expected
    for rec, line in zip(records, lines):
        assert set(rec) == RECORD_KEYS, rec
        assert rec["address"] == "127.0.0.1", rec
        assert rec["at"].endswith("Z") and datetime.fromisoformat(rec["at"].replace("Z", "+00:00"))
        assert b"wrong-1" not in line and b"leyla-demo" not in line
    assert records[0]["roles"] == ["admin"] and records[0]["organization"] == "org-migration"
    assert records[6]["roles"] == ["caseworker"], records[6]     # the logout
    # The chain: the first record starts it, each one names the one before.
    assert records[0]["prev"] == ZERO
    for before, rec in zip(lines, records[1:]):
        assert rec["prev"] == sha(before)
    rc, out, err = audit_verify(trail.k.audit_path)
    assert (rc, out) == (0, "ok: %d records" % len(trail.k.audit_lines())), (rc, out, err)


def test_redis_stream_holds_the_same_records(trail):
    n = len(trail.expected)
    lines = trail.k.wait_audit_lines(n)[:n]
    entries = trail.k.redis_server.call("XRANGE", STREAM, "-", "+")[:n]
    assert len(entries) == n
    for (entry_id, fields), line in zip(entries, lines):
        f = dict(zip(fields[::2], fields[1::2]))
        assert f[b"record"] == line
        assert f[b"hash"].decode() == sha(line)


def edited_copy(tmp_path, lines, name, change):
    out = list(lines)
    change(out)
    p = tmp_path / name
    p.write_bytes(b"".join(x + b"\n" for x in out))
    return p


def test_audit_verify_catches_edits(trail, tmp_path):
    n = len(trail.expected)
    lines = trail.k.wait_audit_lines(n)[:n]
    assert b'"outcome":"denied"' in lines[2]
    intact = edited_copy(tmp_path, lines, "intact.jsonl", lambda ls: None)
    assert audit_verify(intact)[:2] == (0, "ok: %d records" % n)

    def flip(ls):       # line 3: a failed sign-in made to look successful
        ls[2] = ls[2].replace(b'"outcome":"denied"', b'"outcome":"success"')
    rc, out, _ = audit_verify(edited_copy(tmp_path, lines, "edited.jsonl", flip))
    assert rc == 1 and out.startswith("line 4:"), out

    def drop(ls):       # line 4 removed: line 5 becomes line 4
        del ls[3]
    rc, out, _ = audit_verify(edited_copy(tmp_path, lines, "dropped.jsonl", drop))
    assert rc == 1 and out.startswith("line 4:"), out

    def insert(ls):
        ls.insert(5, ls[4])
    rc, out, _ = audit_verify(edited_copy(tmp_path, lines, "inserted.jsonl", insert))
    assert rc == 1 and out.startswith("line 6:"), out

    def reorder(ls):
        ls[1], ls[2] = ls[2], ls[1]
    rc, out, _ = audit_verify(edited_copy(tmp_path, lines, "reordered.jsonl", reorder))
    assert rc == 1 and out.startswith("line 2:"), out

    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"".join(x + b"\n" for x in lines)[:-10])
    rc, out, _ = audit_verify(cut)
    assert rc == 1 and out.startswith("line %d:" % n), out


# ---- GET /api/v1/audit ---------------------------------------------------------

def test_audit_lists_newest_first(trail):
    r_id = rid("read")
    r = read_audit(trail, headers={"X-Request-Id": r_id})
    items = r.body["items"]
    # The read itself is recorded first, then everything before it.
    assert summary(items[:1]) == [(ADMIN, "audit.read", "success", r_id)], items[:1]
    older = [i for i in items[1:] if i["action"] != "audit.read"]
    assert summary(older) == list(reversed(trail.expected)), summary(items)
    ids = [i["id"] for i in items]
    assert all(isinstance(x, str) and x for x in ids)
    assert [id_key(x) for x in ids] == sorted((id_key(x) for x in ids), reverse=True), ids
    assert len(set(ids)) == len(ids)
    assert r.body["next_cursor"] is None
    for i in items:
        assert RECORD_KEYS <= set(i), i


def test_audit_filters_by_actor(trail):
    items = read_audit(trail, "?actor=" + LEYLA).body["items"]
    mine = [e for e in reversed(trail.expected) if e[0] == LEYLA]
    assert summary(items) == mine, summary(items)
    assert read_audit(trail, "?actor=nobody-at-all").body == {"items": [], "next_cursor": None}
    admin_reads = read_audit(trail, "?actor=" + ADMIN).body["items"]
    assert admin_reads and all(i["actor"] == ADMIN for i in admin_reads)
    assert {i["action"] for i in admin_reads} == {"login", "audit.read"}
    # No record names a client yet.
    assert read_audit(trail, "?client_id=c-1").body == {"items": [], "next_cursor": None}
    # Filtered pages join up to the unpaged answer.
    seen, cursor = [], None
    for _ in range(20):
        r = read_audit(trail, "?actor=%s&limit=2%s" % (LEYLA, "&cursor=" + cursor if cursor else ""))
        seen.extend(summary(r.body["items"]))
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
    assert seen == mine, seen


def test_audit_pages_with_a_cursor(trail):
    everything = read_audit(trail).body["items"]
    seen, pages, cursor = [], 0, None
    while True:
        r = read_audit(trail, "?limit=2" + ("&cursor=" + cursor if cursor else ""))
        page = r.body["items"]
        pages += 1
        assert len(page) <= 2, page
        assert page or r.body["next_cursor"] is None, r.body
        seen.extend(i["id"] for i in page)
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor == page[-1]["id"], r.body
        assert pages < 50, "paging does not end"
    assert len(seen) == len(set(seen)), "a page repeated an entry: %s" % seen
    # The first page led with its own read; from there on, what the full
    # read saw, in the same order.
    assert seen[1:] == [i["id"] for i in everything], (seen, everything)
    assert pages >= len(everything) // 2


def test_audit_filters_by_time(trail):
    everything = read_audit(trail).body["items"]
    older = everything[1:]
    # Stream ids are milliseconds: from/to select by them.
    pivot = older[len(older) // 2]
    ms = id_ms(pivot["id"])
    known = {i["id"] for i in older}
    newer_part = read_audit(trail, "?from=" + iso_ms(ms)).body["items"]
    got = [i["id"] for i in newer_part if i["id"] in known]     # not the reads since
    assert got == [i["id"] for i in older if id_ms(i["id"]) >= ms], (got, older)
    assert all(id_ms(i["id"]) >= ms for i in newer_part), newer_part
    older_part = read_audit(trail, "?to=" + iso_ms(ms)).body["items"]
    assert [i["id"] for i in older_part] == [i["id"] for i in older if id_ms(i["id"]) <= ms]
    assert read_audit(trail, "?to=2000-01-01").body == {"items": [], "next_cursor": None}
    assert len(read_audit(trail, "?from=2000-01-01&limit=500").body["items"]) >= len(everything)
    both = read_audit(trail, "?from=%s&to=%s" % (iso_ms(ms), iso_ms(ms))).body["items"]
    assert pivot["id"] in [i["id"] for i in both]
    assert all(id_ms(i["id"]) == ms for i in both), both


def test_a_date_alone_covers_the_whole_day(trail):
    """from=D&to=D is that whole (UTC) day, not the instant at its start."""
    import datetime
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    items = read_audit(trail, "?from=%s&to=%s&limit=500" % (today, today)).body["items"]
    assert len(items) >= len(trail.expected), items


@pytest.mark.parametrize("query,param", [
    ("from=1969-12-31", "from"), ("to=1960-01-01T00:00:00Z", "to"),
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"), ("limit=", "limit"),
    ("limit=-1", "limit"), ("limit=2x", "limit"),
    ("from=yesterday", "from"), ("from=2026-13-01", "from"), ("from=2026-02-30T10:00:00Z", "from"),
    ("to=banana", "to"), ("to=2026-01-01T25:00:00Z", "to"),
    ("cursor=abc", "cursor"), ("cursor=12-", "cursor"), ("cursor=-1", "cursor"),
    ("cursor=1-2-3", "cursor"), ("cursor=", "cursor"),
])
def test_audit_refuses_bad_parameters(trail, query, param):
    r = read_audit(trail, "?" + query, status=400)
    body = assert_problem(r, 400)
    fields = [e.get("field") for e in body.get("errors", [])]
    assert fields == [param], body


# ---- across restarts -----------------------------------------------------------

def test_chain_continues_across_a_restart(make_korpud):
    k = make_korpud()
    k.sign_in(LEYLA)
    assert k.login(LEYLA, "wrong").status == 401
    before = k.wait_audit_lines(2)
    assert len(before) == 2
    k.stop()
    k.start()
    k.wait_ready(200, timeout=10.0)
    k.sign_in(ADMIN)
    after = k.wait_audit_lines(3)
    assert len(after) == 3 and after[:2] == before
    assert json.loads(after[2])["prev"] == sha(before[1])
    rc, out, err = audit_verify(k.audit_path)
    assert (rc, out) == (0, "ok: 3 records"), (rc, out, err)


def test_korpud_refuses_an_audit_file_with_a_torn_last_line(make_korpud):
    k = make_korpud()
    k.sign_in(LEYLA)
    k.wait_audit_lines(1)
    k.stop()
    with open(k.audit_path, "ab") as f:
        f.write(b'{"at":"2026-01-01T00:00:00.000Z","actor":"x"')      # no newline
    k.expect_exit_code = None
    k.start(wait=False)
    rc = k.wait(15.0)
    assert rc not in (None, 0), "korpud started on a torn audit file:\n%s" % k.log_text()
    assert "audit.file" in k.log_text() and "audit-verify" in k.log_text(), k.log_text()[-2000:]


def test_unknown_names_are_not_recorded(trail):
    """A failed sign-in for a name the directory does not know records
    "(unknown user)" and nothing of the name (people type passwords into
    the name field, and even a hash of one can be reversed by guessing)."""
    lines = [x.decode() if isinstance(x, bytes) else x
             for x in trail.k.wait_audit_lines(len(trail.expected))]
    unknown = [json.loads(x) for x in lines
               if json.loads(x)["actor"] == "(unknown user)" and json.loads(x)["outcome"] == "denied"]
    assert unknown, lines
    assert unknown[-1]["objects"] == {}, unknown[-1]
    assert not any("nosuch" in x for x in lines)
