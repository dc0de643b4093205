"""Appointments over HTTP (API.md, Appointments): slots computed from a
provider's weekly hours in its own time zone (across daylight saving),
minus the places booked; atomic booking of a place, the client's time and
an interpreter, so that concurrent requests never overbook; households in
consecutive slots, all or nothing; reschedule, cancel and attendance,
each moving the referral it was booked for and told to partners as an
event.

Every provider here is open every day, and dates are a few days ahead
(days_from_today), so nothing depends on the weekday. Interpreters are
shared by a region, per language: each test that books one uses a
language code of its own."""
import datetime
import json
import socket
import time

import pytest

import casework
from casework import (days_from_today, daily, give_consent, make_client, make_clients,
                      make_interpreter, make_org, make_provider, make_referral)
from conftest import CASE_REGIONS, UNTHROTTLED, Staff, shared_korpud
from servers import (RedisClient, assert_problem, parse_raw_response, read_until_close,
                     wait_for)

APPTS = "/api/v1/appointments"
BAKU = "+04:00"
UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def k(tmp_path_factory, slapd):
    """case_korpud's instance (regions baku and ganja, the demo staff's
    organizations with agreements), plus organizations with agreements for
    integration and schools, and room for the 200 connections of the
    booking races (the tests' default connections_max is 64)."""
    conf = {"regions": CASE_REGIONS, "sessions": UNTHROTTLED,
            "limits": {"connections_max": 400}}
    with shared_korpud(tmp_path_factory.mktemp("appointments"), slapd, conf=conf) as k:
        k.staff = Staff(k)
        k.orgs = {
            area_org: make_org(k, name=casework.unique("Demo " + area_org),
                               directory_name="org-" + area_org, agreement_areas=[area])
            for area_org, area in (("clinic", "clinics"), ("employment", "employment"),
                                   ("housing", "housing"))}
        k.orgs["integration"] = make_org(k, agreement_areas=["integration"])
        k.orgs["schools"] = make_org(k, agreement_areas=["schools"])
        yield k


# ---- helpers ---------------------------------------------------------------

def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def utc(s):
    """An RFC 3339 time as an aware datetime in UTC, for comparing instants."""
    return parse_time(s).astimezone(UTC)


def at(date, hhmm, offset=BAKU):
    return "%sT%s:00%s" % (date, hhmm, offset)


def clinic(k, **kw):
    """A clinic of the demo clinic staff's organization, open 09:00-13:00
    every day, 30-minute slots, one client a slot."""
    kw.setdefault("hours", [daily()])
    return make_provider(k, k.orgs["clinic"], area="clinics", **kw)


def session(k, capacity, **kw):
    """An integration course provider (session model): capacity places a slot."""
    kw.setdefault("hours", [daily()])
    return make_provider(k, k.orgs["integration"], area="integration", capacity=capacity, **kw)


def consenting(k, areas=("clinics",), region="baku", **kw):
    c = make_client(k, region=region, **kw)
    for area in areas:
        give_consent(k, c, area)
    return c


def slots_answer(k, provider, frm, to=None, who="caseworker"):
    return k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (provider["id"], frm, to or frm),
                 token=getattr(k.staff, who))


def slots(k, provider, frm, to=None, who="caseworker"):
    r = slots_answer(k, provider, frm, to, who)
    assert r.status == 200, (r.status, r.body)
    assert isinstance(r.body, list), r.body
    return r.body


def starts(k, provider, frm, to=None):
    return [s["start"] for s in slots(k, provider, frm, to)]


def remaining(k, provider, start):
    """remaining of the slot at start (0: not listed, i.e. full)."""
    for s in slots(k, provider, start[:10]):
        if s["start"] == start:
            return s["remaining"]
    return 0


def book_body(provider, client, start, **kw):
    body = {"provider_id": provider["id"], "client_id": client["id"], "start": start}
    body.update(kw)
    return body


def book(k, provider, client, start, who="caseworker", **kw):
    return k.post(APPTS, json_body=book_body(provider, client, start, **kw),
                  token=getattr(k.staff, who))


def booked(k, provider, client, start, **kw):
    r = book(k, provider, client, start, **kw)
    assert r.status == 201, (r.status, r.body)
    return r.body


def get_appt(k, appt, who="caseworker"):
    r = k.get("%s/%s" % (APPTS, appt["id"]), token=getattr(k.staff, who))
    assert r.status == 200, (r.status, r.body)
    return r.body


def act(k, appt, what, body, who="caseworker"):
    return k.post("%s/%s/%s" % (APPTS, appt["id"], what), json_body=body,
                  token=getattr(k.staff, who))


def appts_of(k, query, who="caseworker"):
    """Every appointment GET /appointments?query lists (page by page)."""
    items, cursor = [], None
    for _ in range(100):
        r = k.get("%s?%s%s" % (APPTS, query, "&cursor=" + cursor if cursor else ""),
                  token=getattr(k.staff, who))
        assert r.status == 200, (query, r.status, r.body)
        items += r.body["items"]
        cursor = r.body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the list did not end")


def referral_get(k, ref):
    r = k.get("/api/v1/referrals/%s" % ref["id"], token=k.staff.caseworker)
    assert r.status == 200, (r.status, r.body)
    return r.body


def referral_move(k, ref, to, who="clinic"):
    r = k.post("/api/v1/referrals/%s/transition" % ref["id"], json_body={"to": to},
               token=getattr(k.staff, who))
    assert r.status == 200, (r.status, r.body)
    return r.body


def taken(k, provider, date):
    """The day's places-taken hash, {start ms: count}."""
    with RedisClient(k.redis_port) as rc:
        flat = rc.call("HGETALL", "korpu:{r:%s}:taken:%s:%s"
                       % (provider["region"], provider["id"], date)) or []
    return {int(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}


def event_types(k, area, obj_id):
    with RedisClient(k.redis_port) as rc:
        entries = rc.call("XRANGE", "korpu:events:{%s}" % area, "-", "+") or []
    out = []
    for _, flat in entries:
        d = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
        if d.get("id") == obj_id:
            out.append(d["type"])
    return out


def wait_events(k, area, obj_id, want, timeout=5.0):
    try:
        wait_for(lambda: event_types(k, area, obj_id) == want, timeout, interval=0.05,
                 what="events %s of %s" % (want, obj_id))
    except AssertionError:
        raise AssertionError("events of %s: %r, wanted %r"
                             % (obj_id, event_types(k, area, obj_id), want))


def raw_post(k, path, body, token):
    data = json.dumps(body).encode()
    return (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n%s" % (path.encode(), token.encode(), len(data), data))


def race(k, requests, timeout=20.0):
    """Sends every request (raw bytes) on a connection of its own at once:
    every connection is opened first, then each request is written. Returns
    [(status, body as JSON)] in the order given."""
    socks = [socket.create_connection(("127.0.0.1", k.port), timeout=10) for _ in requests]
    try:
        for s, req in zip(socks, requests):
            s.sendall(req)
        answers = [parse_raw_response(read_until_close(s, timeout)) for s in socks]
    finally:
        for s in socks:
            s.close()
    return [(status, json.loads(body) if body else None) for status, _, body in answers]


def race_bookings(k, provider, clients, start, **kw):
    return race(k, [raw_post(k, APPTS, book_body(provider, c, start, **kw), k.staff.caseworker)
                    for c in clients])


def statuses(answers):
    return sorted(status for status, _ in answers)


@pytest.fixture(scope="module")
def crowd(k):
    """200 clients of baku consenting to clinics and integration, for the
    races; each race books them at a date of its own."""
    return make_clients(k, 200, areas=("clinics", "integration"))


# ---- slots -----------------------------------------------------------------

def test_slots_are_the_hours_in_the_providers_zone_with_capacity_left(k):
    p = session(k, 3, hours=[daily("09:00", "11:00"), daily("14:00", "15:00")])
    d1, d2 = days_from_today(3), days_from_today(4)
    got = slots(k, p, d1, d2)
    times = ["09:00", "09:30", "10:00", "10:30", "14:00", "14:30"]
    assert [s["start"] for s in got] == [at(d, t) for d in (d1, d2) for t in times]
    for s in got:
        assert utc(s["end"]) - utc(s["start"]) == datetime.timedelta(minutes=30)
        assert s["end"].endswith(BAKU) and s["end"][:10] == s["start"][:10]
        assert s["remaining"] == 3
        assert set(s) == {"start", "end", "remaining"}
    assert got[0]["end"] == at(d1, "09:30")
    # one day is one day; 45-minute slots fill the hours without overrunning
    p45 = clinic(k, slot_minutes=45, hours=[daily("09:00", "11:00")])
    assert [(s["start"], s["end"], s["remaining"]) for s in slots(k, p45, d1)] == [
        (at(d1, "09:00"), at(d1, "09:45"), 1), (at(d1, "09:45"), at(d1, "10:30"), 1)]


def test_slots_in_another_zone_carry_its_offset(k):
    p = clinic(k, timezone="Asia/Tehran", hours=[daily("09:00", "10:00")])
    d = days_from_today(3)
    got = slots(k, p, d)
    assert [(s["start"], s["end"]) for s in got] == [
        (at(d, "09:00", "+03:30"), at(d, "09:30", "+03:30")),
        (at(d, "09:30", "+03:30"), at(d, "10:00", "+03:30"))]
    assert utc(got[0]["start"]).strftime("%H:%M") == "05:30"


def test_closed_dates_have_no_slots(k):
    d1, d2, d3 = days_from_today(3), days_from_today(4), days_from_today(5)
    p = clinic(k, hours=[daily("09:00", "10:00")], closed=[d2])
    assert starts(k, p, d1, d3) == [at(d1, "09:00"), at(d1, "09:30"),
                                    at(d3, "09:00"), at(d3, "09:30")]
    assert slots(k, p, d2) == []
    c = consenting(k)
    r = book(k, p, c, at(d2, "09:00"))
    assert_problem(r, 422)
    assert [e["field"] for e in r.body["errors"]] == ["start"]


def test_a_booking_lowers_remaining_and_a_full_slot_disappears(k):
    p = session(k, 2, hours=[daily("09:00", "10:00")])
    d = days_from_today(3)
    nine, half = at(d, "09:00"), at(d, "09:30")
    booked(k, p, consenting(k, areas=["integration"]), nine)
    assert [(s["start"], s["remaining"]) for s in slots(k, p, d)] == [(nine, 1), (half, 2)]
    booked(k, p, consenting(k, areas=["integration"]), nine)
    assert [(s["start"], s["remaining"]) for s in slots(k, p, d)] == [(half, 2)]
    r = book(k, p, consenting(k, areas=["integration"]), nine)
    assert_problem(r, 409, "full")
    # the count is per slot, on the provider's local day
    assert taken(k, p, d) == {int(utc(nine).timestamp() * 1000): 2}


@pytest.mark.parametrize("query", [
    "", "from=%(d)s", "to=%(d)s", "from=&to=", "from=%(d)s&to=tomorrow",
    "from=2027-02-30&to=2027-03-01", "from=2027-13-01&to=2027-13-02",
    "from=27-01-01&to=27-01-02", "from=%(d)sT09:00:00%%2B04:00&to=%(d)s",
    "from=%(d1)s&to=%(d)s", "from=%(d)s&to=%(d93)s", "from=%(d)s&to=%(d)s&foo=1",
])
def test_bad_slot_ranges_are_400(k, query):
    p = clinic(k)
    d = days_from_today(3)
    q = query % {"d": d, "d1": days_from_today(4), "d93": days_from_today(3 + 93)}
    r = k.get("/api/v1/providers/%s/slots?%s" % (p["id"], q), token=k.staff.caseworker)
    assert_problem(r, 400)


def test_a_range_of_92_days_is_the_longest(k):
    p = clinic(k, hours=[daily("09:00", "09:30")])
    got = slots(k, p, days_from_today(3), days_from_today(3 + 92))
    assert len(got) == 93
    assert [s["start"][:10] for s in got] == [days_from_today(3 + i) for i in range(93)]


def test_slots_of_an_unknown_provider_are_404(k):
    d = days_from_today(3)
    p = clinic(k)
    for pid in (consenting(k)["id"], "nope", p["id"].replace(".baku", ".ganja"),
                p["id"].replace(".baku", ".nowhere")):
        r = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (pid, d, d),
                  token=k.staff.caseworker)
        assert_problem(r, 404)


def test_another_organizations_staff_do_not_see_the_slots(k):
    p = clinic(k)
    d = days_from_today(3)
    assert_problem(slots_answer(k, p, d, who="employment"), 404)
    assert_problem(slots_answer(k, p, d, who="housing"), 404)
    assert len(slots(k, p, d, who="clinic")) == 8
    assert len(slots(k, p, d, who="supervisor")) == 8


def test_past_slots_are_not_offered(k):
    p = clinic(k, hours=[daily("00:00", "24:00")], slot_minutes=60)
    yesterday = days_from_today(-1)
    assert slots(k, p, yesterday) == []
    now = datetime.datetime.now(UTC)
    got = slots(k, p, yesterday, days_from_today(2))
    assert all(utc(s["start"]) > now for s in got)
    # the hours left of the day, and every hour of the days after
    assert 24 < len(got) <= 72
    assert utc(got[0]["start"]) - now <= datetime.timedelta(hours=1)


# ---- daylight saving -------------------------------------------------------

BERLIN = "Europe/Berlin"


def change_sunday(month):
    """The next last Sunday of month (3: summer time begins in the EU, 10: it
    ends) whose Saturday is at least three days ahead: 2027-03-28 and
    2027-10-31 when this was written."""
    first = datetime.date.today() + datetime.timedelta(days=3)
    for year in range(first.year, first.year + 3):
        last = datetime.date(year + (month == 12), month % 12 + 1, 1) - datetime.timedelta(days=1)
        sunday = last - datetime.timedelta(days=(last.weekday() + 1) % 7)
        if sunday - datetime.timedelta(days=1) >= first:
            return sunday
    raise AssertionError("no change day")


def around(sunday):
    return [(sunday + datetime.timedelta(days=n)).isoformat() for n in (-1, 0, 1)]


def test_slots_stay_at_local_time_across_daylight_saving(k):
    """Last Sundays of March and October: 09:00 in Berlin is 08:00 UTC in
    winter and 07:00 UTC in summer, on both sides of each change."""
    p = clinic(k, timezone=BERLIN, slot_minutes=60, hours=[daily("09:00", "10:00")])
    spring, autumn = around(change_sunday(3)), around(change_sunday(10))
    want = dict(zip(spring, ("+01:00", "+02:00", "+02:00")))
    want.update(zip(autumn, ("+02:00", "+01:00", "+01:00")))
    for days in (spring, autumn):
        got = slots(k, p, days[0], days[-1])
        assert [s["start"] for s in got] == [at(d, "09:00", want[d]) for d in days]
        for s in got:
            off = want[s["start"][:10]]
            assert s["end"] == at(s["start"][:10], "10:00", off)
            assert utc(s["start"]).hour == (8 if off == "+01:00" else 7)
            assert utc(s["end"]) - utc(s["start"]) == datetime.timedelta(hours=1)
    # booked by the time it shows, the appointment keeps it
    c = consenting(k)
    a = booked(k, p, c, at(spring[2], "09:00", "+02:00"))
    assert (a["start"], a["end"], a["timezone"]) == (
        at(spring[2], "09:00", "+02:00"), at(spring[2], "10:00", "+02:00"), BERLIN)
    a = booked(k, p, c, "%sT08:00:00Z" % spring[0])
    assert a["start"] == at(spring[0], "09:00", "+01:00")
    a = booked(k, p, c, "%sT07:00:00Z" % autumn[0])
    assert a["start"] == at(autumn[0], "09:00", "+02:00")
    assert_problem(book(k, p, consenting(k), "%sT08:00:00Z" % autumn[0]), 422)


def test_the_spring_gap_has_no_slots(k):
    p = clinic(k, timezone=BERLIN, hours=[daily("01:00", "04:00")])
    before, day, after = around(change_sunday(3))
    got = slots(k, p, day)
    assert [s["start"] for s in got] == [
        at(day, "01:00", "+01:00"), at(day, "01:30", "+01:00"),
        at(day, "03:00", "+02:00"), at(day, "03:30", "+02:00")]
    assert [utc(s["start"]).strftime("%H:%M") for s in got] == ["00:00", "00:30", "01:00",
                                                              "01:30"]
    assert all(utc(s["end"]) - utc(s["start"]) == datetime.timedelta(minutes=30) for s in got)
    assert len(slots(k, p, before)) == 6 and len(slots(k, p, after)) == 6
    # 02:30 does not happen that night
    r = book(k, p, consenting(k), at(day, "02:30", "+01:00"))   # = 03:30+02:00, a slot
    assert r.status == 201 and r.body["start"] == at(day, "03:30", "+02:00")


def test_the_autumn_repeat_gives_each_local_time_one_consistent_slot(k):
    """On the last Sunday of October 02:00-03:00 happens twice in Berlin:
    each slot's start and end name one instant each, with the offset in
    force then, so that the start shown books that slot."""
    p = clinic(k, timezone=BERLIN, hours=[daily("01:00", "04:00")])
    day = change_sunday(10).isoformat()
    got = slots(k, p, day)
    assert [s["start"][11:16] for s in got] == ["01:00", "01:30", "02:00", "02:30", "03:00",
                                                "03:30"]
    instants = [utc(s["start"]) for s in got]
    assert instants == sorted(set(instants))
    for s in got:
        assert utc(s["end"]) - utc(s["start"]) == datetime.timedelta(minutes=30)
        # the offset shown is the one in force at that instant
        local = utc(s["start"]).astimezone(datetime.timezone(
            parse_time(s["start"]).utcoffset()))
        assert local.strftime("%H:%M") == s["start"][11:16]
    for s in got:
        a = booked(k, p, consenting(k), s["start"])
        assert a["start"] == s["start"] and a["end"] == s["end"]
    assert slots(k, p, day) == []


# ---- booking ---------------------------------------------------------------

def test_a_booking_is_201_booked_with_its_times_and_history(k):
    p = clinic(k)
    c = consenting(k)
    d = days_from_today(3)
    r = book(k, p, c, at(d, "10:30"))
    assert r.status == 201, r.body
    a = r.body
    assert a["status"] == "booked" and a["sequence"] == 0
    assert (a["provider_id"], a["client_id"], a["area"], a["organization"], a["region"]) == (
        p["id"], c["id"], "clinics", k.orgs["clinic"]["id"], "baku")
    assert (a["start"], a["end"], a["timezone"]) == (at(d, "10:30"), at(d, "11:00"), "Asia/Baku")
    assert a["id"].endswith(".baku") and a["id"] != c["id"]
    assert a.get("interpreter_id") is None and a.get("referral_id") is None
    [h] = a["history"]
    assert h["status"] == "booked" and h["actor"] == "lmammadova"
    assert abs(parse_time(h["at"]) - datetime.datetime.now(UTC)) < datetime.timedelta(seconds=30)
    assert get_appt(k, a) == a
    assert get_appt(k, a, "clinic") == a
    assert get_appt(k, a, "supervisor") == a
    assert at(d, "10:30") not in starts(k, p, d)
    wait_events(k, "clinics", a["id"], ["appointment.booked"])


def test_a_start_in_utc_or_another_offset_is_the_same_slot(k):
    p = clinic(k)
    d = days_from_today(3)
    a = booked(k, p, consenting(k), "%sT05:00:00Z" % d)
    assert a["start"] == at(d, "09:00")
    a = booked(k, p, consenting(k), "%sT08:30:00+03:00" % d)
    assert a["start"] == at(d, "09:30")


@pytest.mark.parametrize("case,field", [
    ("a minute late", "start"),
    ("a minute early", "start"),
    ("before opening", "start"),
    ("in the past", "start"),
    ("a bare date", "start"),
    ("no offset", "start"),
    ("not a time", "start"),
    ("another region's client", "client_id"),
    ("no share consent", "client_id"),
    ("no consent at all", "client_id"),
    ("consent to another area", "client_id"),
    ("not a client", "client_id"),
    ("not a provider", "provider_id"),
    ("a bad language", "interpreter_language"),
    ("no start", "start"),
])
def test_a_booking_that_cannot_be_is_422_naming_the_field(k, case, field):
    p = clinic(k)
    d = days_from_today(3)
    c = consenting(k)
    start = at(d, "09:00")
    body = book_body(p, c, start)
    if case == "a minute late":
        body["start"] = at(d, "09:01")
    elif case == "a minute early":
        body["start"] = at(d, "09:29")
    elif case == "before opening":
        body["start"] = at(d, "08:30")
    elif case == "in the past":
        body["start"] = at(days_from_today(-1), "09:00")
    elif case == "a bare date":
        body["start"] = d
    elif case == "no offset":
        body["start"] = "%sT09:00:00" % d
    elif case == "not a time":
        body["start"] = "tomorrow at nine"
    elif case == "another region's client":
        body["client_id"] = consenting(k, region="ganja")["id"]
    elif case == "no share consent":
        c2 = make_client(k)
        give_consent(k, c2, "clinics", share=False)
        body["client_id"] = c2["id"]
    elif case == "no consent at all":
        body["client_id"] = make_client(k)["id"]
    elif case == "consent to another area":
        body["client_id"] = consenting(k, areas=["employment"])["id"]
    elif case == "not a client":
        body["client_id"] = p["id"]
    elif case == "not a provider":
        body["provider_id"] = c["id"]
    elif case == "a bad language":
        body["interpreter_language"] = "Arabic"
    elif case == "no start":
        del body["start"]
    r = k.post(APPTS, json_body=body, token=k.staff.caseworker)
    assert_problem(r, 422)
    assert [e["field"] for e in r.body["errors"]] == [field], r.body
    assert appts_of(k, "provider_id=%s" % p["id"]) == []
    assert remaining(k, p, start) == 1


@pytest.mark.parametrize("area,org", [("housing", "housing"), ("schools", "schools")])
def test_waitlist_and_seat_providers_are_not_booked_as_appointments(k, area, org):
    p = make_provider(k, k.orgs[org], area=area, hours=[daily()])
    c = consenting(k, areas=[area])
    r = book(k, p, c, at(days_from_today(3), "09:00"))
    body = assert_problem(r, 409)
    assert ("waitlist" if area == "housing" else "seat") in body["detail"]
    assert appts_of(k, "client_id=%s" % c["id"]) == []


@pytest.mark.parametrize("agreement", ["none", "another area", "expired"])
def test_no_booking_with_an_organization_without_an_agreement(k, agreement):
    org = make_org(k, agreement_areas=["employment"] if agreement == "another area" else None)
    if agreement == "expired":
        r = k.request("PUT", "/api/v1/organizations/%s/agreement" % org["id"],
                      json_body={"valid_from": days_from_today(-60),
                                 "valid_to": days_from_today(-1), "areas": ["clinics"]},
                      token=k.staff.admin)
        assert r.status == 200, r.body
    p = make_provider(k, org, area="clinics", hours=[daily()])
    c = consenting(k)
    r = book(k, p, c, at(days_from_today(3), "09:00"))
    assert_problem(r, 409, "provider_id")
    assert appts_of(k, "client_id=%s" % c["id"]) == []
    assert len(slots(k, p, days_from_today(3))) == 8


def test_a_booking_for_an_accepted_referral_schedules_it(k):
    p = clinic(k)
    c = consenting(k)
    ref = referral_move(k, make_referral(k, c, p), "accepted")
    d = days_from_today(3)
    a = booked(k, p, c, at(d, "09:00"), referral_id=ref["id"])
    assert a["referral_id"] == ref["id"]
    got = referral_get(k, ref)
    assert got["status"] == "scheduled"
    assert [(h["from"], h["to"], h["actor"]) for h in got["history"][1:]] == [
        ("sent", "accepted", "arzayeva"), ("accepted", "scheduled", "lmammadova")]
    wait_events(k, "clinics", ref["id"], ["referral.sent", "referral.accepted",
                                          "referral.scheduled"])
    # a second appointment for a scheduled referral leaves it scheduled
    a2 = booked(k, p, c, at(days_from_today(4), "09:00"), referral_id=ref["id"])
    assert a2["referral_id"] == ref["id"]
    got2 = referral_get(k, ref)
    assert got2["status"] == "scheduled" and len(got2["history"]) == len(got["history"])


def test_a_referral_not_yet_accepted_is_409(k):
    p = clinic(k)
    c = consenting(k)
    ref = make_referral(k, c, p)
    start = at(days_from_today(3), "09:00")
    assert_problem(book(k, p, c, start, referral_id=ref["id"]), 409, "sent")
    assert referral_get(k, ref)["status"] == "sent"
    r = k.post("/api/v1/referrals/%s/transition" % ref["id"], json_body={"to": "declined",
               "note": "No doctor this month"}, token=k.staff.clinic)
    assert r.status == 200, r.body
    assert_problem(book(k, p, c, start, referral_id=ref["id"]), 409, "declined")
    assert appts_of(k, "client_id=%s" % c["id"]) == []
    assert remaining(k, p, start) == 1


def test_another_clients_or_providers_referral_is_422(k):
    p, p2 = clinic(k), clinic(k)
    c, other = consenting(k), consenting(k)
    theirs = referral_move(k, make_referral(k, other, p), "accepted")
    elsewhere = referral_move(k, make_referral(k, c, p2), "accepted")
    start = at(days_from_today(3), "09:00")
    for ref in (theirs, elsewhere, {"id": c["id"]}, {"id": "nope"}):
        r = book(k, p, c, start, referral_id=ref["id"])
        assert_problem(r, 422)
        assert [e["field"] for e in r.body["errors"]] == ["referral_id"], r.body
    assert referral_get(k, theirs)["status"] == "accepted"
    assert referral_get(k, elsewhere)["status"] == "accepted"
    assert appts_of(k, "client_id=%s" % c["id"]) == []


def test_only_caseworkers_book(k):
    p = clinic(k)
    c = consenting(k)
    for who in ("clinic", "supervisor", "admin"):
        assert_problem(book(k, p, c, at(days_from_today(3), "09:00"), who=who), 403)
    assert appts_of(k, "client_id=%s" % c["id"]) == []


# ---- races -----------------------------------------------------------------

def test_200_concurrent_bookings_of_the_last_place_land_once(k, crowd):
    p = session(k, 3, hours=[daily("09:00", "10:00")])
    d = days_from_today(5)
    start = at(d, "09:00")
    for c in crowd[:2]:
        booked(k, p, c, start)
    t0 = time.monotonic()
    answers = race_bookings(k, p, crowd[2:] + [consenting(k, areas=["integration"]),
                                               consenting(k, areas=["integration"])], start)
    assert time.monotonic() - t0 < 10
    assert statuses(answers) == [201] + [409] * 199, answers
    for status, body in answers:
        if status == 409:
            assert "full" in body["detail"], body
    assert taken(k, p, d) == {int(utc(start).timestamp() * 1000): 3}
    assert starts(k, p, d) == [at(d, "09:30")]
    assert len(appts_of(k, "provider_id=%s" % p["id"])) == 3


def test_a_session_of_twelve_takes_exactly_twelve(k, crowd):
    p = session(k, 12, hours=[daily("09:00", "10:00")])
    d = days_from_today(6)
    start = at(d, "09:00")
    answers = race_bookings(k, p, crowd[:60], start)
    assert statuses(answers) == [201] * 12 + [409] * 48
    won = [b for s, b in answers if s == 201]
    assert len({b["client_id"] for b in won}) == 12 and len({b["id"] for b in won}) == 12
    assert {b["start"] for b in won} == {start}
    assert sorted(a["id"] for a in appts_of(k, "provider_id=%s" % p["id"])) == sorted(
        b["id"] for b in won)
    assert starts(k, p, d) == [at(d, "09:30")]


# ---- the client's time -----------------------------------------------------

def test_a_client_is_not_booked_twice_at_the_same_time(k):
    p1, p2 = clinic(k), make_provider(k, k.orgs["employment"], area="employment",
                                      hours=[daily()])
    c = consenting(k, areas=["clinics", "employment"])
    d = days_from_today(3)
    a = booked(k, p1, c, at(d, "09:00"))
    assert_problem(book(k, p2, c, at(d, "09:00")), 409, "client_id")
    # the same provider, a place still free (a session): the client is busy all the same
    s = session(k, 5)
    give_consent(k, c, "integration")
    assert_problem(book(k, s, c, at(d, "09:00")), 409, "client_id")
    assert remaining(k, p2, at(d, "09:00")) == 1 and remaining(k, s, at(d, "09:00")) == 5
    # the next slot is fine, and so is the same time once the first is cancelled
    booked(k, p2, c, at(d, "09:30"))
    assert act(k, a, "cancel", {"reason": "Client asked"}).status == 200
    booked(k, s, c, at(d, "09:00"))
    assert len(appts_of(k, "client_id=%s" % c["id"])) == 3


def test_overlapping_slots_of_different_lengths_are_double_bookings(k):
    """30-minute slots (09:00, 09:30, ...) against 45-minute ones (09:00,
    09:45, 10:30, ...): an overlap of any length is a conflict, touching
    ends are not."""
    p30 = clinic(k)
    p45 = make_provider(k, k.orgs["employment"], area="employment", slot_minutes=45,
                        hours=[daily()])
    d = days_from_today(3)
    c = consenting(k, areas=["clinics", "employment"])
    booked(k, p30, c, at(d, "09:30"))                       # 09:30-10:00
    for start in ("09:00", "09:45"):                         # 09:00-09:45, 09:45-10:30
        assert_problem(book(k, p45, c, at(d, start)), 409, "client_id")
    booked(k, p45, c, at(d, "10:30"))                       # 10:30-11:15
    assert_problem(book(k, p30, c, at(d, "11:00")), 409, "client_id")   # 11:00-11:30
    booked(k, p30, c, at(d, "10:00"))                       # 10:00-10:30: touches both
    booked(k, p30, c, at(d, "11:30"))                       # 11:30-12:00: after
    assert [a["start"] for a in appts_of(k, "client_id=%s" % c["id"])] == [
        at(d, "09:30"), at(d, "10:00"), at(d, "10:30"), at(d, "11:30")]


# ---- interpreters ----------------------------------------------------------

@pytest.mark.parametrize("change,field", [
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"languages": []}, "languages"),
    ({"languages": None}, "languages"),
    ({"languages": ["Arabic"]}, "languages[0]"),
    ({"languages": ["ar", "F"]}, "languages[1]"),
    ({"region": "tabriz"}, "region"),
    ({"region": None}, "region"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"hours": None}, "hours"),
    ({"hours": [{"days": ["mo"], "open": "13:00", "close": "09:00"}]}, "hours[0].close"),
    ({"hours": [{"days": ["xx"], "open": "09:00", "close": "13:00"}]}, "hours[0].days[0]"),
    ({"hours": [{"days": ["mo"], "open": "9", "close": "13:00"}]}, "hours[0].open"),
    ({"closed": ["2027-02-30"]}, "closed[0]"),
    ({"extra": 1}, "extra"),
])
def test_a_bad_interpreter_is_422_naming_the_field(k, change, field):
    body = casework.interpreter_body(("ps",))
    for key, v in change.items():
        if v is None:
            del body[key]
        else:
            body[key] = v
    r = k.post("/api/v1/interpreters", json_body=body, token=k.staff.admin)
    assert_problem(r, 422)
    assert field in [e["field"] for e in r.body["errors"]], r.body
    r = k.get("/api/v1/interpreters?language=ps", token=k.staff.admin)
    assert r.body["items"] == []


def test_interpreters_are_listed_by_language(k):
    a = make_interpreter(k, ("ku", "fa"))
    b = make_interpreter(k, ("ku",), region="ganja", timezone="Asia/Tehran")
    c = make_interpreter(k, ("fa",))
    assert a["timezone"] == "Asia/Baku" and b["timezone"] == "Asia/Tehran"
    assert a["id"].endswith(".baku") and b["id"].endswith(".ganja")
    r = k.get("/api/v1/interpreters?language=ku", token=k.staff.caseworker)
    assert r.status == 200, r.body
    assert sorted(x["id"] for x in r.body["items"]) == sorted([a["id"], b["id"]])
    assert k.get("/api/v1/interpreters?language=ku", token=k.staff.admin).body == r.body
    r = k.get("/api/v1/interpreters?language=ku&region=ganja", token=k.staff.supervisor)
    assert [x["id"] for x in r.body["items"]] == [b["id"]]
    r = k.get("/api/v1/interpreters?language=fa", token=k.staff.caseworker)
    assert sorted(x["id"] for x in r.body["items"]) == sorted([a["id"], c["id"]])
    for q in ("language=Kurdish", "language=k", "region=tabriz"):
        assert_problem(k.get("/api/v1/interpreters?" + q, token=k.staff.caseworker), 400)
    assert_problem(k.get("/api/v1/interpreters", token=k.staff.clinic), 403)
    assert_problem(k.post("/api/v1/interpreters", json_body=casework.interpreter_body(),
                          token=k.staff.caseworker), 403)


def test_one_interpreter_is_booked_once_at_a_time(k):
    interp = make_interpreter(k, ("ur",))
    p = session(k, 5)
    d = days_from_today(3)
    start = at(d, "09:00")
    first = booked(k, p, consenting(k, areas=["integration"]), start,
                   interpreter_language="ur")
    assert first["interpreter_id"] == interp["id"] and first["interpreter_language"] == "ur"
    r = book(k, p, consenting(k, areas=["integration"]), start, interpreter_language="ur")
    assert_problem(r, 409, "interpreter")
    assert remaining(k, p, start) == 4
    # at another provider, at an overlapping time, just the same
    p45 = make_provider(k, k.orgs["employment"], area="employment", slot_minutes=45,
                        hours=[daily()])
    r = book(k, p45, consenting(k, areas=["employment"]), start, interpreter_language="ur")
    assert_problem(r, 409, "interpreter")
    # the slot after is free for the interpreter; without one, this slot is too
    nxt = booked(k, p, consenting(k, areas=["integration"]), at(d, "09:30"),
                 interpreter_language="ur")
    assert nxt["interpreter_id"] == interp["id"]
    assert booked(k, p, consenting(k, areas=["integration"]), start).get(
        "interpreter_id") is None
    # a second interpreter of the language takes the next client
    other = make_interpreter(k, ("ur", "ar"))
    second = booked(k, p, consenting(k, areas=["integration"]), start,
                    interpreter_language="ur")
    assert second["interpreter_id"] == other["id"]
    assert_problem(book(k, p, consenting(k, areas=["integration"]), start,
                        interpreter_language="ur"), 409, "interpreter")


def test_no_interpreter_of_the_language_is_409(k):
    make_interpreter(k, ("hy",), region="ganja")     # another region's does not count
    p = clinic(k)
    c = consenting(k)
    start = at(days_from_today(3), "09:00")
    assert_problem(book(k, p, c, start, interpreter_language="hy"), 409, "hy")
    assert remaining(k, p, start) == 1
    assert appts_of(k, "client_id=%s" % c["id"]) == []


def test_an_interpreter_off_duty_is_never_picked(k):
    d = days_from_today(3)
    afternoon = make_interpreter(k, ("tk",), hours=[daily("13:00", "17:00")])
    closed = make_interpreter(k, ("tk",), closed=[d])
    make_interpreter(k, ("tk",), hours=[daily("09:00", "09:30")])  # ends before the slot does
    london = make_interpreter(k, ("tk",), timezone="Europe/London",  # Baku 12:00-21:00
                              hours=[daily("08:00", "17:00")])
    morning = make_interpreter(k, ("tk",), hours=[daily("08:00", "12:00")])
    p = session(k, 5, slot_minutes=45, hours=[daily("09:00", "15:00")])

    def take(start):
        return booked(k, p, consenting(k, areas=["integration"]), start,
                      interpreter_language="tk")["interpreter_id"]
    assert take(at(d, "09:00")) == morning["id"]
    assert_problem(book(k, p, consenting(k, areas=["integration"]), at(d, "09:00"),
                        interpreter_language="tk"), 409, "interpreter")
    # 13:30-14:15: the afternoon one and the one in London are on duty, no other
    assert {take(at(d, "13:30")), take(at(d, "13:30"))} == {afternoon["id"], london["id"]}
    assert_problem(book(k, p, consenting(k, areas=["integration"]), at(d, "13:30"),
                        interpreter_language="tk"), 409, "interpreter")
    # the day after, the one closed on d works the whole day
    d2 = days_from_today(4)
    assert {take(at(d2, "09:00")), take(at(d2, "09:00"))} == {closed["id"], morning["id"]}


def test_ten_concurrent_bookings_share_three_interpreters(k, crowd):
    interps = {make_interpreter(k, ("uz",))["id"] for _ in range(3)}
    p = session(k, 10)
    d = days_from_today(7)
    start = at(d, "09:00")
    answers = race_bookings(k, p, crowd[:10], start, interpreter_language="uz")
    assert statuses(answers) == [201] * 3 + [409] * 7, answers
    assert {b["interpreter_id"] for s, b in answers if s == 201} == interps
    for s, b in answers:
        if s == 409:
            assert "interpreter" in b["detail"], b
    assert remaining(k, p, start) == 7


# ---- households ------------------------------------------------------------

HOUSEHOLD = APPTS + "/household"


def household_body(provider, clients, start, **kw):
    body = {"provider_id": provider["id"], "client_ids": [c["id"] for c in clients],
            "start": start}
    body.update(kw)
    return body


def test_a_household_takes_consecutive_slots_with_one_interpreter(k):
    interps = [make_interpreter(k, ("ka",)) for _ in range(2)]
    p = clinic(k)
    members = [consenting(k) for _ in range(3)]
    r = k.post("/api/v1/households", json_body={"members": [m["id"] for m in members]},
               token=k.staff.caseworker)
    assert r.status == 201, r.body
    hh = r.body["id"]
    d = days_from_today(3)
    r = k.post(HOUSEHOLD, json_body=household_body(p, members, at(d, "09:30"),
                                                   interpreter_language="ka"),
               token=k.staff.caseworker)
    assert r.status == 201, r.body
    got = r.body["appointments"]
    assert [a["client_id"] for a in got] == [m["id"] for m in members]
    assert [(a["start"], a["end"]) for a in got] == [
        (at(d, "09:30"), at(d, "10:00")), (at(d, "10:00"), at(d, "10:30")),
        (at(d, "10:30"), at(d, "11:00"))]
    assert {a["interpreter_id"] for a in got} == {interps[0]["id"]}
    assert all(a["status"] == "booked" and a["household_id"] == hh for a in got)
    assert len({a["id"] for a in got}) == 3
    assert starts(k, p, d) == [at(d, t) for t in ("09:00", "11:00", "11:30", "12:00", "12:30")]
    for a in got:
        assert get_appt(k, a) == a
        wait_events(k, "clinics", a["id"], ["appointment.booked"])


def test_a_household_is_booked_all_or_nothing(k):
    p = clinic(k)
    members = [consenting(k) for _ in range(3)]
    d = days_from_today(3)
    blocker = booked(k, p, consenting(k), at(d, "10:00"))      # the second slot from 09:30
    r = k.post(HOUSEHOLD, json_body=household_body(p, members, at(d, "09:30")),
               token=k.staff.caseworker)
    assert_problem(r, 409, "start")
    for m in members:
        assert appts_of(k, "client_id=%s" % m["id"]) == []
    assert [a["id"] for a in appts_of(k, "provider_id=%s" % p["id"])] == [blocker["id"]]
    assert remaining(k, p, at(d, "09:30")) == 1 and remaining(k, p, at(d, "10:30")) == 1
    # one member busy then stops them all too, naming the client
    busy = booked(k, clinic(k), members[1], at(d, "11:00"))  # where 10:30 puts them
    r = k.post(HOUSEHOLD, json_body=household_body(p, members, at(d, "10:30")),
               token=k.staff.caseworker)
    assert_problem(r, 409, "client")
    assert [a["id"] for a in appts_of(k, "client_id=%s" % members[1]["id"])] == [busy["id"]]
    for m in (members[0], members[2]):
        assert appts_of(k, "client_id=%s" % m["id"]) == []
    # and without an interpreter for all of them
    r = k.post(HOUSEHOLD, json_body=household_body(p, members, at(d, "11:00"),
                                                   interpreter_language="km"),
               token=k.staff.caseworker)
    assert_problem(r, 409, "interpreter")
    # too few slots left in the day is 422; a member without consent too
    r = k.post(HOUSEHOLD, json_body=household_body(p, members, at(d, "12:00")),
               token=k.staff.caseworker)
    assert_problem(r, 422)
    assert [e["field"] for e in r.body["errors"]] == ["start"]
    r = k.post(HOUSEHOLD, json_body=household_body(p, members[:2] + [make_client(k)],
                                                   at(d, "11:00")), token=k.staff.caseworker)
    assert_problem(r, 422)
    assert [e["field"] for e in r.body["errors"]] == ["client_ids[2]"]
    r = k.post(HOUSEHOLD, json_body=household_body(p, [], at(d, "11:00")),
               token=k.staff.caseworker)
    assert_problem(r, 422)
    assert appts_of(k, "client_id=%s" % members[0]["id"]) == []
    assert starts(k, p, d) == [at(d, t) for t in ("09:00", "09:30", "10:30", "11:00", "11:30",
                                                   "12:00", "12:30")]


def test_a_household_names_each_member_once(k):
    p = clinic(k)
    a, b = consenting(k), consenting(k)
    d = days_from_today(3)
    r = k.post(HOUSEHOLD, json_body=household_body(p, [a, b, a], at(d, "09:00")),
               token=k.staff.caseworker)
    assert_problem(r, 422)
    assert [e["field"] for e in r.body["errors"]] == ["client_ids[2]"]
    assert appts_of(k, "provider_id=%s" % p["id"]) == []


def household_of(k, n, lang):
    make_interpreter(k, (lang,))
    p = session(k, 1, hours=[daily("08:00", "18:00")])
    members = [consenting(k, areas=["integration"]) for _ in range(n)]
    d = days_from_today(3)
    r = k.post(HOUSEHOLD, json_body=household_body(p, members, at(d, "08:00"),
                                                   interpreter_language=lang),
               token=k.staff.caseworker)
    assert r.status == 201, r.body
    got = r.body["appointments"]
    assert [a["client_id"] for a in got] == [m["id"] for m in members]
    assert [a["start"] for a in got] == [
        at(d, "%02d:%02d" % (8 + i // 2, 30 * (i % 2))) for i in range(n)]


def test_a_household_of_nine_is_booked_with_an_interpreter(k):
    household_of(k, 9, "sw")


def test_a_household_of_twenty_is_booked_with_an_interpreter(k):
    household_of(k, 20, "so")


# ---- reschedule ------------------------------------------------------------

def test_a_reschedule_moves_to_a_free_slot_and_frees_the_old_one(k):
    p = clinic(k)
    c = consenting(k)
    d, d2 = days_from_today(3), days_from_today(4)
    a = booked(k, p, c, at(d, "09:00"))
    r = act(k, a, "reschedule", {"start": at(d2, "11:30")})
    assert r.status == 200, r.body
    m = r.body
    assert (m["id"], m["status"], m["sequence"]) == (a["id"], "booked", 1)
    assert (m["start"], m["end"]) == (at(d2, "11:30"), at(d2, "12:00"))
    assert m["history"][0] == a["history"][0]
    last = m["history"][-1]
    assert len(m["history"]) == 2 and last["status"] == "booked"
    assert last["note"] == "moved from %s" % at(d, "09:00")
    assert last["actor"] == "lmammadova"
    assert get_appt(k, a) == m
    assert remaining(k, p, at(d, "09:00")) == 1 and remaining(k, p, at(d2, "11:30")) == 0
    assert taken(k, p, d) == {} and len(taken(k, p, d2)) == 1
    # the client's time moved too: the old one is free for them, the new one is not
    other = clinic(k)
    booked(k, other, c, at(d, "09:00"))
    assert_problem(book(k, other, c, at(d2, "11:30")), 409, "client_id")
    # moved twice, back again
    m2 = act(k, m, "reschedule", {"start": at(d, "09:30")}).body
    assert m2["sequence"] == 2 and m2["history"][-1]["note"] == "moved from %s" % at(d2, "11:30")
    assert [x["start"] for x in appts_of(k, "provider_id=%s" % p["id"])] == [at(d, "09:30")]
    wait_events(k, "clinics", a["id"], ["appointment.booked", "appointment.rescheduled",
                                        "appointment.rescheduled"])


def test_a_reschedule_into_a_full_slot_keeps_the_old_place(k):
    p = clinic(k)
    d = days_from_today(3)
    a = booked(k, p, consenting(k), at(d, "09:00"))
    full = booked(k, p, consenting(k), at(d, "10:00"))
    r = act(k, a, "reschedule", {"start": at(d, "10:00")})
    assert_problem(r, 409, "full")
    assert get_appt(k, a) == a
    assert get_appt(k, full) == full
    assert taken(k, p, d) == {int(utc(at(d, t)).timestamp() * 1000): 1
                              for t in ("09:00", "10:00")}
    assert at(d, "09:00") not in starts(k, p, d) and at(d, "10:00") not in starts(k, p, d)
    # and a move that would make the client overlap themselves elsewhere
    c = consenting(k)
    b = booked(k, p, c, at(d, "11:00"))
    booked(k, clinic(k), c, at(d, "12:00"))
    assert_problem(act(k, b, "reschedule", {"start": at(d, "12:00")}), 409, "client")
    assert get_appt(k, b) == b
    assert remaining(k, p, at(d, "12:00")) == 1 and remaining(k, p, at(d, "11:00")) == 0
    wait_events(k, "clinics", a["id"], ["appointment.booked"])


@pytest.mark.parametrize("start", ["a minute off", "in the past", "a bare date", "closed",
                                   "missing"])
def test_a_reschedule_to_no_slot_is_422(k, start):
    d = days_from_today(3)
    p = clinic(k, closed=[days_from_today(5)])
    a = booked(k, p, consenting(k), at(d, "09:00"))
    body = {"start": {"a minute off": at(d, "10:01"),
                      "in the past": at(days_from_today(-1), "10:00"),
                      "a bare date": days_from_today(4),
                      "closed": at(days_from_today(5), "10:00"),
                      "missing": None}[start]}
    if body["start"] is None:
        body = {}
    r = act(k, a, "reschedule", body)
    assert_problem(r, 422)
    assert [e["field"] for e in r.body["errors"]] == ["start"]
    assert get_appt(k, a) == a


def test_a_reschedule_keeps_the_interpreter_only_when_on_duty_and_free(k):
    interp = make_interpreter(k, ("ln",), hours=[daily("09:00", "10:00")])
    p = clinic(k)
    d = days_from_today(3)
    a = booked(k, p, consenting(k), at(d, "09:00"), interpreter_language="ln")
    assert a["interpreter_id"] == interp["id"]
    # 11:00 is outside the interpreter's hours
    assert_problem(act(k, a, "reschedule", {"start": at(d, "11:00")}), 409, "interpreter")
    assert get_appt(k, a) == a and remaining(k, p, at(d, "11:00")) == 1
    # at 09:30 the interpreter is with another client
    other = booked(k, clinic(k), consenting(k), at(d, "09:30"), interpreter_language="ln")
    assert other["interpreter_id"] == interp["id"]
    assert_problem(act(k, a, "reschedule", {"start": at(d, "09:30")}), 409, "interpreter")
    assert get_appt(k, a) == a
    assert act(k, other, "cancel", {"reason": "Client asked"}).status == 200
    r = act(k, a, "reschedule", {"start": at(d, "09:30")})
    assert r.status == 200, r.body
    assert r.body["start"] == at(d, "09:30") and r.body["interpreter_id"] == interp["id"]
    # 09:00 is free for the interpreter again, 09:30 is not
    b = booked(k, p, consenting(k), at(d, "09:00"), interpreter_language="ln")
    assert b["interpreter_id"] == interp["id"]
    assert_problem(book(k, clinic(k), consenting(k), at(d, "09:30"),
                        interpreter_language="ln"), 409, "interpreter")


def test_two_concurrent_reschedules_into_the_last_place_land_once(k):
    p = session(k, 2)
    d = days_from_today(3)
    target = at(d, "12:00")
    booked(k, p, consenting(k, areas=["integration"]), target)
    a = booked(k, p, consenting(k, areas=["integration"]), at(d, "09:00"))
    b = booked(k, p, consenting(k, areas=["integration"]), at(d, "10:00"))
    answers = race(k, [raw_post(k, "%s/%s/reschedule" % (APPTS, x["id"]), {"start": target},
                                k.staff.caseworker) for x in (a, b)])
    assert statuses(answers) == [200, 409], answers
    won = a if answers[0][0] == 200 else b
    lost = b if won is a else a
    assert get_appt(k, won)["start"] == target
    assert get_appt(k, lost) == lost
    assert remaining(k, p, target) == 0
    assert remaining(k, p, won["start"]) == 2 and remaining(k, p, lost["start"]) == 1
    assert sorted(taken(k, p, d).values()) == [1, 2]


def test_only_a_booked_appointment_is_moved_by_a_caseworker(k):
    p = clinic(k)
    d = days_from_today(3)
    a = booked(k, p, consenting(k), at(d, "09:00"))
    assert_problem(act(k, a, "reschedule", {"start": at(d, "10:00")}, who="clinic"), 403)
    assert_problem(act(k, a, "reschedule", {"start": at(d, "10:00")}, who="supervisor"), 403)
    assert act(k, a, "cancel", {"reason": "Moved away"}).status == 200
    assert_problem(act(k, a, "reschedule", {"start": at(d, "10:00")}), 409, "cancelled")
    assert remaining(k, p, at(d, "10:00")) == 1


# ---- cancel ----------------------------------------------------------------

def test_a_cancel_frees_the_place_once(k):
    p = clinic(k)
    c = consenting(k)
    d = days_from_today(3)
    start = at(d, "09:00")
    a = booked(k, p, c, start, interpreter_language=None)
    assert start not in starts(k, p, d)
    r = act(k, a, "cancel", {"reason": "Klient xəstədir"})
    assert r.status == 200, r.body
    x = r.body
    assert (x["status"], x["sequence"], x["start"]) == ("cancelled", 1, start)
    assert x["history"][-1]["status"] == "cancelled"
    assert x["history"][-1]["note"] == "Klient xəstədir"
    assert get_appt(k, a) == x
    assert remaining(k, p, start) == 1 and taken(k, p, d) == {}
    assert_problem(act(k, a, "cancel", {"reason": "again"}), 409, "cancelled")
    assert get_appt(k, a) == x
    assert remaining(k, p, start) == 1
    # the client is free then again
    booked(k, clinic(k), c, start)
    wait_events(k, "clinics", a["id"], ["appointment.booked", "appointment.cancelled"])


def test_a_cancel_needs_a_reason_and_the_right_organization(k):
    p = clinic(k)
    a = booked(k, p, consenting(k), at(days_from_today(3), "09:00"))
    r = act(k, a, "cancel", {})
    assert_problem(r, 422)
    assert [e["field"] for e in r.body["errors"]] == ["reason"]
    assert_problem(act(k, a, "cancel", {"reason": "x"}, who="employment"), 404)
    assert_problem(act(k, a, "cancel", {"reason": "x"}, who="supervisor"), 403)
    assert get_appt(k, a) == a
    r = act(k, a, "cancel", {"reason": "Doctor ill"}, who="clinic")
    assert r.status == 200 and r.body["history"][-1]["actor"] == "arzayeva"
    for bad in ("nope", a["id"].replace(".baku", ".ganja"), a["id"].replace(".baku", ".x")):
        assert_problem(k.post("%s/%s/cancel" % (APPTS, bad), json_body={"reason": "x"},
                              token=k.staff.caseworker), 404)


def test_after_a_cancel_twenty_concurrent_bookings_take_the_place_once(k, crowd):
    p = clinic(k)
    d = days_from_today(8)
    start = at(d, "09:00")
    a = booked(k, p, consenting(k), start)
    assert_problem(book(k, p, crowd[0], start), 409, "full")
    assert act(k, a, "cancel", {"reason": "Client asked"}).status == 200
    answers = race_bookings(k, p, crowd[:20], start)
    assert statuses(answers) == [201] + [409] * 19, answers
    assert remaining(k, p, start) == 0
    assert taken(k, p, d) == {int(utc(start).timestamp() * 1000): 1}


# ---- attendance ------------------------------------------------------------

def scheduled_referral(k, p, c, start):
    ref = referral_move(k, make_referral(k, c, p), "accepted")
    a = booked(k, p, c, start, referral_id=ref["id"])
    assert referral_get(k, ref)["status"] == "scheduled"
    return ref, a


def test_arrived_then_fulfilled_completes_the_referral(k):
    p = clinic(k)
    c = consenting(k)
    ref, a = scheduled_referral(k, p, c, at(days_from_today(3), "09:00"))
    r = act(k, a, "status", {"status": "arrived"}, who="clinic")
    assert r.status == 200, r.body
    assert (r.body["status"], r.body["sequence"]) == ("arrived", 1)
    assert referral_get(k, ref)["status"] == "scheduled"
    r = act(k, a, "status", {"status": "fulfilled"}, who="clinic")
    assert r.status == 200, r.body
    assert (r.body["status"], r.body["sequence"]) == ("fulfilled", 2)
    assert [(h["status"], h["actor"]) for h in r.body["history"]] == [
        ("booked", "lmammadova"), ("arrived", "arzayeva"), ("fulfilled", "arzayeva")]
    assert get_appt(k, a) == r.body
    got = referral_get(k, ref)
    assert got["status"] == "completed"
    assert (got["history"][-1]["from"], got["history"][-1]["actor"]) == ("scheduled", "arzayeva")
    wait_events(k, "clinics", a["id"], ["appointment.booked", "appointment.arrived",
                                        "appointment.fulfilled"])
    wait_events(k, "clinics", ref["id"], ["referral.sent", "referral.accepted",
                                          "referral.scheduled", "referral.completed"])
    # fulfilled is final
    for to in ("noshow", "arrived", "fulfilled"):
        assert_problem(act(k, a, "status", {"status": to}, who="clinic"), 409, "fulfilled")
    assert_problem(act(k, a, "cancel", {"reason": "late"}), 409)
    assert_problem(act(k, a, "reschedule", {"start": at(days_from_today(4), "09:00")}), 409)
    assert get_appt(k, a)["sequence"] == 2


def test_a_noshow_marks_the_referral_no_show(k):
    p = clinic(k)
    ref, a = scheduled_referral(k, p, consenting(k), at(days_from_today(3), "09:00"))
    r = act(k, a, "status", {"status": "noshow"}, who="clinic")
    assert r.status == 200 and r.body["status"] == "noshow"
    assert referral_get(k, ref)["status"] == "no_show"
    assert_problem(act(k, a, "status", {"status": "fulfilled"}, who="clinic"), 409)
    wait_events(k, "clinics", a["id"], ["appointment.booked", "appointment.noshow"])
    # without a referral, attendance is recorded all the same
    b = booked(k, p, consenting(k), at(days_from_today(3), "10:00"))
    r = act(k, b, "status", {"status": "fulfilled"}, who="clinic")
    assert r.status == 200 and r.body["status"] == "fulfilled"


def test_attendance_is_the_providers_staffs_to_mark(k):
    p = clinic(k)
    ref, a = scheduled_referral(k, p, consenting(k), at(days_from_today(3), "09:00"))
    for who, status in (("caseworker", 403), ("supervisor", 403), ("admin", 403),
                        ("employment", 404), ("housing", 404)):
        assert_problem(act(k, a, "status", {"status": "fulfilled"}, who=who), status)
    for body in ({"status": "done"}, {}, {"status": 1}):
        r = act(k, a, "status", body, who="clinic")
        assert_problem(r, 422)
        assert [e["field"] for e in r.body["errors"]] == ["status"]
    assert get_appt(k, a) == a
    assert referral_get(k, ref)["status"] == "scheduled"
    assert_problem(k.get("%s/%s" % (APPTS, a["id"]), token=k.staff.employment), 404)
    # a cancelled appointment is not attended
    assert act(k, a, "cancel", {"reason": "Client moved"}).status == 200
    assert_problem(act(k, a, "status", {"status": "arrived"}, who="clinic"), 409, "cancelled")


# ---- lists -----------------------------------------------------------------

def test_lists_filter_by_provider_client_and_time(k):
    p, p2 = clinic(k), clinic(k)
    c1, c2 = consenting(k), consenting(k)
    d1, d2, d3 = days_from_today(30), days_from_today(31), days_from_today(32)
    a1 = booked(k, p, c1, at(d1, "09:00"))
    a2 = booked(k, p, c2, at(d1, "11:00"))
    a3 = booked(k, p, c1, at(d2, "09:00"))
    a4 = booked(k, p2, c1, at(d3, "12:30"))

    def ids(query, who="caseworker"):
        return [a["id"] for a in appts_of(k, query, who)]
    assert ids("provider_id=%s" % p["id"]) == [a1["id"], a2["id"], a3["id"]]
    assert ids("client_id=%s" % c1["id"]) == [a1["id"], a3["id"], a4["id"]]
    assert ids("client_id=%s" % c2["id"], "supervisor") == [a2["id"]]
    assert ids("provider_id=%s&from=%s" % (p["id"], d2)) == [a3["id"]]
    assert ids("provider_id=%s&to=%s" % (p["id"], d1)) == [a1["id"], a2["id"]]
    assert ids("provider_id=%s&from=%sT10:00:00%%2B04:00&to=%sT09:00:00%%2B04:00"
               % (p["id"], d1, d2)) == [a2["id"]]        # to is exclusive
    assert ids("provider_id=%s&from=%sT07:00:00Z" % (p["id"], d1)) == [a2["id"], a3["id"]]
    assert ids("client_id=%s&provider_id=%s" % (c1["id"], p2["id"])) == [a4["id"]]
    assert ids("client_id=%s&provider_id=%s" % (c1["id"], p["id"])) == [a1["id"], a3["id"]]
    assert ids("provider_id=%s" % p["id"], "clinic") == [a1["id"], a2["id"], a3["id"]]
    assert ids("provider_id=%s" % p["id"], "employment") == []
    # cancelled ones stay listed, as cancelled
    act(k, a2, "cancel", {"reason": "x"})
    assert [a["status"] for a in appts_of(k, "provider_id=%s" % p["id"])] == [
        "booked", "cancelled", "booked"]


def test_a_providers_staff_see_their_organizations_appointments_without_a_filter(k):
    d = days_from_today(45)
    mine = booked(k, clinic(k), consenting(k), at(d, "09:00"))
    ganja = booked(k, clinic(k, region="ganja"), consenting(k, region="ganja"), at(d, "09:30"))
    theirs = booked(k, session(k, 3), consenting(k, areas=["integration"]), at(d, "09:00"))
    emp = booked(k, make_provider(k, k.orgs["employment"], area="employment",
                                  hours=[daily()]),
                 consenting(k, areas=["employment"]), at(d, "10:00"))
    q = "from=%s&to=%s&limit=500" % (d, d)
    got = appts_of(k, q, "clinic")
    assert [a["id"] for a in got] == [mine["id"], ganja["id"]]
    assert all(a["organization"] == k.orgs["clinic"]["id"] for a in got)
    assert [a["id"] for a in appts_of(k, q, "employment")] == [emp["id"]]
    assert appts_of(k, q, "housing") == []
    assert theirs["id"] not in [a["id"] for a in appts_of(k, "limit=500", "clinic")]
    for who in ("caseworker", "supervisor"):
        assert_problem(k.get("%s?%s" % (APPTS, q), token=getattr(k.staff, who)), 400)


def test_lists_page_with_a_cursor(k, crowd):
    p = session(k, 12)
    d = days_from_today(9)
    made = [booked(k, p, c, at(d, "09:00"))["id"] for c in crowd[:12]]
    made += [booked(k, p, c, at(d, "10:00"))["id"] for c in crowd[:3]]
    ganja = booked(k, clinic(k, region="ganja"), consenting(k, region="ganja"),
                   at(d, "09:00"))["id"]
    pages, cursor = [], None
    while True:
        r = k.get("%s?provider_id=%s&limit=5%s" % (APPTS, p["id"], "&cursor=" + cursor
                                                   if cursor else ""), token=k.staff.caseworker)
        assert r.status == 200, r.body
        pages.append([a["id"] for a in r.body["items"]])
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10
    assert [len(x) for x in pages] == [5, 5, 5]
    assert sorted(sum(pages, [])) == sorted(made)
    assert [a["id"] for a in appts_of(k, "provider_id=%s&limit=1" % p["id"])][-3:] == made[-3:]
    # a provider's staff page through every region
    q = "from=%s&to=%s&limit=%%d" % (d, d)
    mine = [a["id"] for a in appts_of(k, q % 500, "clinic")]
    assert ganja in mine
    assert [a["id"] for a in appts_of(k, q % 1, "clinic")] == mine
    assert [a["id"] for a in appts_of(k, q % 1, "employment")] == []
    theirs = [a["id"] for a in appts_of(k, "provider_id=%s&limit=2" % p["id"], "clinic")]
    assert theirs == []


@pytest.mark.parametrize("query", ["provider_id=nope", "client_id=x", "from=yesterday",
                                   "to=2027-02-30", "limit=0", "limit=501", "cursor=abc",
                                   "cursor=mars:0", "cursor=baku:-1", "cursor=baku:x",
                                   "status=booked"])
def test_a_bad_list_query_is_400(k, query):
    p = clinic(k)
    r = k.get("%s?provider_id=%s&%s" % (APPTS, p["id"], query) if "provider_id" not in query
              else "%s?%s" % (APPTS, query), token=k.staff.caseworker)
    assert_problem(r, 400)


def test_unknown_appointments_are_404(k):
    p = clinic(k)
    for aid in ("nope", p["id"], p["id"].replace(".baku", ".ganja"),
                p["id"].replace(".baku", ".mars")):
        assert_problem(k.get("%s/%s" % (APPTS, aid), token=k.staff.caseworker), 404)
        assert_problem(k.post("%s/%s/status" % (APPTS, aid), json_body={"status": "arrived"},
                              token=k.staff.clinic), 404)

