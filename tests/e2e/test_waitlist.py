"""Waitlists and offers (API.md, Appointments; issue: scheduling): the
first waiting client by priority, then waiting time, is offered a place
that frees up, held for a configured time; an offer not taken in time
passes to the next; offers lapse once, across restarts and instances."""
import datetime
import time

from casework import (REFERRAL_FIELDS, daily, days_from_today, give_consent, make_client,
                      make_provider, make_referral)
from servers import RedisClient, assert_problem, slack, wait_for

WAITLIST = "/api/v1/waitlist"


def one_slot_provider(k, area="housing", day=5):
    """A provider with exactly one slot in the offer horizon: open 09:00-09:30
    every day, closed on every other day of the next two months."""
    closed = [days_from_today(d) for d in range(0, 70) if d != day]
    return make_provider(k, k.orgs["housing" if area == "housing" else "clinic"], area=area,
                         hours=[daily("09:00", "09:30")], closed=closed)


def client_for(k, area="housing"):
    c = make_client(k)
    give_consent(k, c, area)
    return c


def join(k, p, c, priority=0):
    """Joins c to p's waitlist. Housing scores entries from the referral
    (10 points a household member): a household of priority // 10 people
    stands in for priority there."""
    body = {"provider_id": p["id"], "client_id": c["id"], "priority": priority}
    if p["area"] == "housing":
        fields = dict(REFERRAL_FIELDS["housing"], household_size=max(1, priority // 10))
        body = {"provider_id": p["id"], "client_id": c["id"],
                "referral_id": make_referral(k, c, p, fields=fields)["id"]}
    r = k.post(WAITLIST, json_body=body, token=k.staff.caseworker)
    assert r.status == 201, r.body
    return r.body


def entry(k, e):
    r = k.get("%s/%s" % (WAITLIST, e["id"]), token=k.staff.caseworker)
    assert r.status == 200, r.body
    return r.body


def status_becomes(k, e, status, timeout=5.0):
    return wait_for(lambda: (lambda x: x if x["status"] == status else None)(entry(k, e)),
                    timeout, what="entry %s to become %s" % (e["id"], status))


def remaining(k, p, day=5):
    d = days_from_today(day)
    r = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (p["id"], d, d),
              token=k.staff.caseworker)
    assert r.status == 200
    return sum(s["remaining"] for s in r.body)


def lapse_now(k, e):
    """Moves the entry's lapse job to now (as if the hold time passed)."""
    with RedisClient(k.redis_port) as rc:
        key = "korpu:{r:baku}:jobs"
        members = [m.decode() for m in rc.call("ZRANGE", key, "0", "-1")
                   if m.decode().startswith("offer:%s:" % e["id"])]
        assert members, "no lapse job for %s" % e["id"]
        for m in members:
            rc.call("ZADD", key, str(int(time.time() * 1000) - 1000), m)


def jobs_of(k):
    with RedisClient(k.redis_port) as rc:
        return [m.decode() for m in rc.call("ZRANGE", "korpu:{r:baku}:jobs", "0", "-1")]


def events_of(k, area, type_):
    with RedisClient(k.redis_port) as rc:
        entries = rc.call("XRANGE", "korpu:events:{%s}" % area, "-", "+")
    out = []
    for _, fields in entries:
        f = dict(zip(fields[::2], fields[1::2]))
        if f[b"type"].decode() == type_:
            out.append(f[b"id"].decode())
    return out


def hold_of(e):
    """How long from now the entry's offer is held."""
    expires = datetime.datetime.fromisoformat(e["offer"]["expires_at"].replace("Z", "+00:00"))
    return expires - datetime.datetime.now(datetime.timezone.utc)


def test_a_free_place_is_offered_at_once_and_held(case_korpud):
    """clinics set no hold time of their own: appointments.offer_hold_minutes
    (120, the default) applies."""
    k = case_korpud
    p = one_slot_provider(k, area="clinics")
    assert remaining(k, p) == 1
    e = join(k, p, client_for(k, "clinics"), priority=10)
    e = status_becomes(k, e, "offered")
    assert e["offer"]["start"].startswith(days_from_today(5) + "T09:00:00")
    assert datetime.timedelta(minutes=115) < hold_of(e) <= datetime.timedelta(minutes=120)
    assert remaining(k, p) == 0           # held: nobody else gets it


def test_a_housing_offer_is_held_for_the_areas_offer_hold_hours(case_korpud):
    """housing holds an offered unit offer_hold_hours (72 in the shipped
    plugins.d/housing.conf), not appointments.offer_hold_minutes."""
    k = case_korpud
    p = one_slot_provider(k)
    e = status_becomes(k, join(k, p, client_for(k), priority=10), "offered")
    assert datetime.timedelta(hours=71, minutes=55) < hold_of(e) <= datetime.timedelta(hours=72)
    lapse_job = [m for m in jobs_of(k) if m.startswith("offer:%s:" % e["id"])]
    assert len(lapse_job) == 1
    with RedisClient(k.redis_port) as rc:
        due = int(rc.call("ZSCORE", "korpu:{r:baku}:jobs", lapse_job[0]))
    expires = datetime.datetime.fromisoformat(e["offer"]["expires_at"].replace("Z", "+00:00"))
    assert due == round(expires.timestamp() * 1000)   # the place passes on when it says


def test_offer_hold_hours_is_read_from_the_housing_conf_and_reloaded(make_korpud):
    import casework
    import signal
    from conftest import Staff
    k = make_korpud(conf={"regions": ["baku"]},
                    plugin_confs={"housing": "offer_hold_hours = 2;\n"})
    k.staff = Staff(k)
    k.orgs = {"housing": casework.make_org(k, directory_name="org-housing",
                                           agreement_areas=["housing"])}
    p = one_slot_provider(k)
    e = status_becomes(k, join(k, p, client_for(k), priority=10), "offered")
    assert datetime.timedelta(minutes=115) < hold_of(e) <= datetime.timedelta(hours=2)
    # a new hold time applies from the next offer after a reload
    (k.dir / "plugins.d" / "housing.conf").write_text("offer_hold_hours = 5;\n")
    mark = k.log_mark()
    k.send_signal(signal.SIGHUP)
    k.wait_log(r"reload: configuration reloaded", start=mark, timeout=slack(5.0, 30.0))
    r = k.post("%s/%s/decline" % (WAITLIST, e["id"]), json_body={}, token=k.staff.caseworker)
    assert r.status == 200, r.body
    e2 = status_becomes(k, join(k, p, client_for(k), priority=10), "offered")
    assert datetime.timedelta(hours=4, minutes=55) < hold_of(e2) <= datetime.timedelta(hours=5)


def test_priority_then_waiting_time_decide_who_is_offered_next(case_korpud):
    k = case_korpud
    p = one_slot_provider(k)
    a = join(k, p, client_for(k), priority=10)
    status_becomes(k, a, "offered")
    b = join(k, p, client_for(k), priority=10)      # waits first ...
    c = join(k, p, client_for(k), priority=50)      # ... but c has priority
    r = k.get(WAITLIST + "?provider_id=%s" % p["id"], token=k.staff.caseworker)
    waiting = [x["id"] for x in r.body["items"] if x["status"] == "waiting"]
    assert waiting == [c["id"], b["id"]]
    assert [x["position"] for x in r.body["items"] if x["status"] == "waiting"] == [1, 2]
    r = k.post("%s/%s/decline" % (WAITLIST, a["id"]), json_body={"reason": "too far"},
               token=k.staff.caseworker)
    assert r.status == 200 and r.body["status"] == "declined", r.body
    status_becomes(k, c, "offered")
    assert entry(k, b)["status"] == "waiting"
    # c lets the hold lapse: the place passes to b
    lapse_now(k, c)
    status_becomes(k, c, "lapsed")
    status_becomes(k, b, "offered")
    assert events_of(k, "housing", "waitlist.lapsed").count(c["id"]) == 1


def test_accepting_books_the_held_place(case_korpud):
    k = case_korpud
    p = one_slot_provider(k)
    c = client_for(k)
    e = status_becomes(k, join(k, p, c), "offered")
    r = k.post("%s/%s/accept" % (WAITLIST, e["id"]), json_body={}, token=k.staff.caseworker)
    assert r.status == 200, r.body
    assert r.body["status"] == "booked"
    appt = r.body["appointment"]
    assert appt["client_id"] == c["id"] and appt["start"] == e["offer"]["start"]
    assert r.body["appointment_id"] == appt["id"]
    assert remaining(k, p) == 0
    # no lapse job is left behind, and answering again is a conflict
    with RedisClient(k.redis_port) as rc:
        jobs = [m.decode() for m in rc.call("ZRANGE", "korpu:{r:baku}:jobs", "0", "-1")]
    assert not [m for m in jobs if m.startswith("offer:%s:" % e["id"])]
    assert_problem(k.post("%s/%s/accept" % (WAITLIST, e["id"]), json_body={},
                          token=k.staff.caseworker), 409)
    # cancelling frees the place again (nobody else waits)
    r = k.post("/api/v1/appointments/%s/cancel" % appt["id"], json_body={"reason": "moved"},
               token=k.staff.caseworker)
    assert r.status == 200
    assert remaining(k, p) == 1


def test_a_cancelled_booking_goes_to_the_waitlist(case_korpud):
    k = case_korpud
    p = one_slot_provider(k, area="clinics")
    first = client_for(k, "clinics")
    d = days_from_today(5)
    slot = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (p["id"], d, d),
                 token=k.staff.caseworker).body[0]["start"]
    r = k.post("/api/v1/appointments", json_body={"provider_id": p["id"],
                                                  "client_id": first["id"], "start": slot},
               token=k.staff.caseworker)
    assert r.status == 201, r.body
    waiting = join(k, p, client_for(k, "clinics"))
    time.sleep(0.3)
    assert entry(k, waiting)["status"] == "waiting"       # no place yet
    r = k.post("/api/v1/appointments/%s/cancel" % r.body["id"], json_body={"reason": "ill"},
               token=k.staff.caseworker)
    assert r.status == 200
    e = status_becomes(k, waiting, "offered")
    assert e["offer"]["start"] == slot


def test_an_entry_whose_referral_closed_is_withdrawn_not_offered(case_korpud):
    """A referral cancelled while its entry waits: when a place frees, that
    entry is taken off the queue as withdrawn (with why, and an event),
    and the place goes to the next entry instead."""
    k = case_korpud
    p = one_slot_provider(k, area="clinics")
    d = days_from_today(5)
    slot = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (p["id"], d, d),
                 token=k.staff.caseworker).body[0]["start"]
    r = k.post("/api/v1/appointments", json_body={"provider_id": p["id"],
                                                  "client_id": client_for(k, "clinics")["id"],
                                                  "start": slot},
               token=k.staff.caseworker)
    assert r.status == 201, r.body
    booking = r.body["id"]

    def join_referred(priority):
        c = client_for(k, "clinics")
        ref = make_referral(k, c, p)
        r = k.post(WAITLIST, json_body={"provider_id": p["id"], "client_id": c["id"],
                                        "referral_id": ref["id"], "priority": priority},
                   token=k.staff.caseworker)
        assert r.status == 201, r.body
        return r.body

    stale = join_referred(50)            # first in the queue
    second = join_referred(10)
    time.sleep(0.3)
    assert entry(k, stale)["status"] == "waiting" and entry(k, second)["status"] == "waiting"
    r = k.post("/api/v1/referrals/%s/transition" % stale["referral_id"],
               json_body={"to": "cancelled", "note": "moved away"}, token=k.staff.caseworker)
    assert r.status == 200, r.body
    r = k.post("/api/v1/appointments/%s/cancel" % booking, json_body={"reason": "ill"},
               token=k.staff.caseworker)
    assert r.status == 200
    e = status_becomes(k, second, "offered")
    assert e["offer"]["start"] == slot
    gone = entry(k, stale)
    assert gone["status"] == "withdrawn"
    assert gone["history"][-1]["note"] == "the referral is cancelled"
    assert stale["id"] in wait_for(lambda: events_of(k, "clinics", "waitlist.withdrawn"), 5.0,
                                   what="the waitlist.withdrawn event")
    # The entry is final: the client may join again.
    r = k.post(WAITLIST, json_body={"provider_id": p["id"], "client_id": stale["client_id"],
                                    "priority": 0}, token=k.staff.caseworker)
    assert r.status == 201, r.body


def test_a_clients_entries_are_listed_across_providers(case_korpud):
    k = case_korpud
    c = client_for(k, "clinics")
    here = one_slot_provider(k, area="clinics")
    there = one_slot_provider(k, area="clinics")
    mine = [join(k, here, c)["id"], join(k, there, c)["id"]]
    join(k, here, client_for(k, "clinics"))              # someone else's: not listed
    r = k.get(WAITLIST + "?client_id=" + c["id"], token=k.staff.caseworker)
    assert r.status == 200, r.body
    assert sorted(e["id"] for e in r.body["items"]) == sorted(mine)
    assert {e["provider_id"] for e in r.body["items"]} == {here["id"], there["id"]}
    # Paged.
    r1 = k.get(WAITLIST + "?limit=1&client_id=" + c["id"], token=k.staff.caseworker)
    assert r1.status == 200 and len(r1.body["items"]) == 1 and r1.body["next_cursor"]
    r2 = k.get(WAITLIST + "?limit=1&client_id=%s&cursor=%s" % (c["id"], r1.body["next_cursor"]),
               token=k.staff.caseworker)
    assert r2.status == 200
    assert {r1.body["items"][0]["id"], r2.body["items"][0]["id"]} == set(mine)
    # A provider's staff see their own organization's entries only.
    r = k.get(WAITLIST + "?client_id=" + c["id"], token=k.staff.housing)
    assert r.status == 200 and r.body["items"] == []
    assert_problem(k.get(WAITLIST + "?client_id=nope", token=k.staff.caseworker), 400)
    assert_problem(k.get(WAITLIST + "?client_id=%s&provider_id=%s" % (c["id"], here["id"]),
                         token=k.staff.caseworker), 400)


def test_joining_twice_is_a_conflict_and_bad_joins_are_refused(case_korpud):
    k = case_korpud
    p = one_slot_provider(k)
    c = client_for(k)
    first = join(k, p, c)
    r = k.post(WAITLIST, json_body={"provider_id": p["id"], "client_id": c["id"],
                                    "referral_id": first["referral_id"]},
               token=k.staff.caseworker)
    assert_problem(r, 409)
    assert r.body["waitlist_id"] == first["id"]
    for body, field in [
        ({"provider_id": p["id"], "client_id": c["id"], "priority": 101}, "priority"),
        ({"provider_id": p["id"]}, "client_id"),
        ({"provider_id": "0000000000zzzzzzzz.baku", "client_id": c["id"]}, "provider_id"),
        ({"provider_id": p["id"], "client_id": make_client(k)["id"]}, "client_id"),  # no consent
    ]:
        r = k.post(WAITLIST, json_body=body, token=k.staff.caseworker)
        assert_problem(r, 422)
        assert field in [e["field"] for e in r.body["errors"]], (body, r.body)
    assert_problem(k.post(WAITLIST, json_body={"provider_id": p["id"], "client_id": c["id"]},
                          token=k.staff.housing), 403)
    assert_problem(k.get(WAITLIST + "/%s" % first["id"], token=k.staff.employment), 404)
    assert k.get(WAITLIST + "/%s" % first["id"], token=k.staff.housing).status == 200
    assert_problem(k.get(WAITLIST, token=k.staff.caseworker), 400)


def test_an_offer_lapses_once_after_a_restart_with_two_instances(make_korpud):
    import casework
    from conftest import Staff
    k = make_korpud(name="first", conf={"regions": ["baku", "ganja"]})
    k.staff = Staff(k)
    k.orgs = {"housing": casework.make_org(k, directory_name="org-housing",
                                           agreement_areas=["housing"])}
    p = one_slot_provider(k)
    a = status_becomes(k, join(k, p, client_for(k)), "offered")
    b = join(k, p, client_for(k))
    k.stop()
    lapse_now(k, a)
    others = [make_korpud(name=n, conf={"regions": ["baku", "ganja"]}) for n in ("a", "b")]
    o = others[0]
    o.staff = Staff(o)
    wait_for(lambda: entry(o, b)["status"] == "offered" or None, 10.0,
             what="the place to pass to the next entry")
    # (a relay lock the stopped korpud held lapses within 2 s)
    wait_for(lambda: events_of(o, "housing", "waitlist.lapsed") or None, 8.0,
             what="the waitlist.lapsed event")
    time.sleep(1.5)       # both instances have ticked more than once since
    assert events_of(o, "housing", "waitlist.lapsed").count(a["id"]) == 1
    assert entry(o, a)["status"] == "lapsed"
    assert len([h for h in entry(o, a)["history"] if h["status"] == "lapsed"]) == 1


def test_no_agreement_no_waitlist(case_korpud):
    """A waitlist entry sends the client's data to the provider's
    organization: it needs an agreement valid for the area, as a booking does."""
    k = case_korpud
    p = make_provider(k, k.orgs["housing"], area="clinics", hours=[daily("09:00", "10:00")])
    r = k.post(WAITLIST, json_body={"provider_id": p["id"],
                                    "client_id": client_for(k, "clinics")["id"]},
               token=k.staff.caseworker)
    assert_problem(r, 409)
    assert "agreement" in r.body["detail"]
    r = k.get(WAITLIST + "?provider_id=%s" % p["id"], token=k.staff.caseworker)
    assert r.body["items"] == []


def test_raising_capacity_offers_the_new_place(case_korpud):
    k = case_korpud
    p = one_slot_provider(k)
    first = status_becomes(k, join(k, p, client_for(k)), "offered")
    second = join(k, p, client_for(k))
    time.sleep(0.3)
    assert entry(k, second)["status"] == "waiting"
    r = k.request("PATCH", "/api/v1/providers/%s" % p["id"], json_body={"capacity": 2},
                  token=k.staff.admin)
    assert r.status == 200 and r.body["capacity"] == 2, r.body
    e = status_becomes(k, second, "offered")
    assert e["offer"]["start"] == first["offer"]["start"]


def test_two_racing_answers_to_one_offer_book_once(case_korpud):
    import threading
    k = case_korpud
    p = one_slot_provider(k)
    e = status_becomes(k, join(k, p, client_for(k)), "offered")
    results = []

    def accept():
        results.append(k.post("%s/%s/accept" % (WAITLIST, e["id"]), json_body={},
                              token=k.staff.caseworker).status)

    def decline():
        results.append(k.post("%s/%s/decline" % (WAITLIST, e["id"]), json_body={},
                              token=k.staff.caseworker).status)
    threads = [threading.Thread(target=accept) for _ in range(6)] + \
        [threading.Thread(target=decline) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(200) == 1, results
    assert set(results) <= {200, 409}, results
    final = entry(k, e)
    assert final["status"] in ("booked", "declined")
    assert remaining(k, p) == (0 if final["status"] == "booked" else 1)


def test_provider_changes_are_checked(case_korpud):
    k = case_korpud
    p = one_slot_provider(k)
    for body, field in [({"area": "clinics"}, "area"), ({"region": "ganja"}, "region"),
                        ({"capacity": 0}, "capacity"), ({"timezone": "Mars/Base"}, "timezone")]:
        r = k.request("PATCH", "/api/v1/providers/%s" % p["id"], json_body=body,
                      token=k.staff.admin)
        assert_problem(r, 422)
        assert r.body["errors"][0]["field"] == field, r.body
    r = k.request("PATCH", "/api/v1/providers/%s" % p["id"], json_body={"slot_minutes": 60},
                  token=k.staff.admin)
    assert_problem(r, 422)                     # 09:00-09:30 holds no 60-minute slot
    assert_problem(k.request("PATCH", "/api/v1/providers/%s" % p["id"],
                             json_body={"capacity": 3}, token=k.staff.caseworker), 403)
    r = k.request("PATCH", "/api/v1/providers/%s" % p["id"], json_body={"name": "Yeni ad"},
                  token=k.staff.admin)
    assert r.status == 200 and r.body["name"] == "Yeni ad" and r.body["area"] == "housing"
