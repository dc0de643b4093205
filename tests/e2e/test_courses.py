"""Courses (issue: scheduling, session model): a provider's recurring
series of sessions, defined by an iCalendar recurrence rule (expanded
with libical), booked as a whole: every session at once or none."""
import threading

from casework import daily, days_from_today, give_consent, make_client, make_org, provider_body
from servers import RedisClient, assert_problem, http_request

COURSE = "/api/v1/appointments/course"


def integration_org(k):
    if not hasattr(k, "integration_org"):
        k.integration_org = make_org(k, agreement_areas=["integration"])
    return k.integration_org


def course(first_day=3, rrule="FREQ=DAILY;INTERVAL=2;COUNT=5", cid="a1-evening"):
    return {"id": cid, "title": "Azərbaycan dili A1, axşam", "first":
            days_from_today(first_day) + "T18:00", "rrule": rrule}


def make_course_provider(k, capacity=3, courses=None):
    body = provider_body(integration_org(k), area="integration", capacity=capacity,
                         slot_minutes=90, hours=[daily("18:00", "21:00")],
                         courses=courses if courses is not None else [course()])
    r = k.post("/api/v1/providers", json_body=body, token=k.staff.admin)
    assert r.status == 201, r.body
    return r.body


def learner(k):
    c = make_client(k)
    give_consent(k, c, "integration")
    return c


def book_course(k, p, c, cid="a1-evening", **kw):
    body = {"provider_id": p["id"], "client_id": c["id"], "course_id": cid}
    body.update(kw)
    return k.post(COURSE, json_body=body, token=k.staff.caseworker)


def remaining_at(k, p, day):
    d = days_from_today(day)
    r = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (p["id"], d, d),
              token=k.staff.caseworker)
    return {s["start"][11:16]: s["remaining"] for s in r.body}


def test_a_course_is_defined_by_a_recurrence_rule(case_korpud):
    k = case_korpud
    p = make_course_provider(k)
    assert p["courses"][0]["rrule"] == "FREQ=DAILY;INTERVAL=2;COUNT=5"
    for bad, why in [
        (course(rrule="FREQ=DAILY"), "COUNT or UNTIL"),
        (course(rrule="NONSENSE"), "recurrence rule"),
        (course(rrule="FREQ=HOURLY;COUNT=3"), "daily, weekly"),
        (dict(course(), first=days_from_today(3) + "T18:30"), "not one of the provider's slots"),
        (dict(course(), first="tomorrow"), "local date and time"),
        (dict(course(), id="A 1"), "id must be"),
        (dict(course(), colour="red"), "unknown member"),
        (course(rrule="FREQ=DAILY;COUNT=500"), "more than 200 sessions"),
    ]:
        body = provider_body(integration_org(k), area="integration", slot_minutes=90,
                             hours=[daily("18:00", "21:00")], courses=[bad])
        r = k.post("/api/v1/providers", json_body=body, token=k.staff.admin)
        assert_problem(r, 422)
        assert r.body["errors"][0]["field"] == "courses[0]", r.body
        assert why in r.body["errors"][0]["message"], (bad, r.body)
    body = provider_body(integration_org(k), area="integration", slot_minutes=90,
                         hours=[daily("18:00", "21:00")], courses=[course(), course()])
    r = k.post("/api/v1/providers", json_body=body, token=k.staff.admin)
    assert_problem(r, 422)
    assert "another course" in r.body["errors"][0]["message"]


def test_booking_a_course_books_every_session(case_korpud):
    k = case_korpud
    p = make_course_provider(k)
    c = learner(k)
    r = book_course(k, p, c)
    assert r.status == 201, r.body
    got = r.body["appointments"]
    assert [a["start"][:10] for a in got] == [days_from_today(d) for d in (3, 5, 7, 9, 11)]
    assert {a["start"][11:16] for a in got} == {"18:00"}
    assert {a["course_id"] for a in got} == {"a1-evening"} and {a["client_id"] for a in got} == {c["id"]}
    for d in (3, 5, 7, 9, 11):
        assert remaining_at(k, p, d)["18:00"] == 2
    assert remaining_at(k, p, 4).get("18:00") == 3      # not a course day
    assert_problem(book_course(k, p, c), 409)            # already in it


def test_a_full_session_stops_the_whole_course(case_korpud):
    k = case_korpud
    p = make_course_provider(k, capacity=1)
    d = days_from_today(7)
    start = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (p["id"], d, d),
                  token=k.staff.caseworker).body[0]["start"]
    taker = learner(k)
    r = k.post("/api/v1/appointments", json_body={"provider_id": p["id"],
                                                  "client_id": taker["id"], "start": start},
               token=k.staff.caseworker)
    assert r.status == 201
    c = learner(k)
    r = book_course(k, p, c)
    assert_problem(r, 409)
    r = k.get("/api/v1/appointments?client_id=%s" % c["id"], token=k.staff.caseworker)
    assert r.body["items"] == []
    assert remaining_at(k, p, 3)["18:00"] == 1


def test_a_client_busy_at_one_session_cannot_take_the_course(case_korpud):
    k = case_korpud
    p = make_course_provider(k)
    other = make_course_provider(k, courses=[])
    c = learner(k)
    d = days_from_today(5)
    start = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (other["id"], d, d),
                  token=k.staff.caseworker).body[0]["start"]
    assert k.post("/api/v1/appointments", json_body={"provider_id": other["id"],
                                                     "client_id": c["id"], "start": start},
                  token=k.staff.caseworker).status == 201
    r = book_course(k, p, c)
    assert_problem(r, 409)
    assert "client" in r.body["detail"]


def test_concurrent_course_bookings_fill_it_exactly(case_korpud):
    k = case_korpud
    p = make_course_provider(k, capacity=3)
    clients = [learner(k) for _ in range(12)]
    results = []
    body = lambda c: {"provider_id": p["id"], "client_id": c["id"], "course_id": "a1-evening"}

    def one(c):
        results.append(http_request(k.port, "POST", COURSE, json_body=body(c), timeout=15,
                                    headers={"Authorization": "Bearer " + k.staff.caseworker}))
    threads = [threading.Thread(target=one, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results).count(201) == 3, [r.status for r in results]
    assert {r.status for r in results} <= {201, 409}
    with RedisClient(k.redis_port) as rc:
        for d in (3, 5, 7, 9, 11):
            taken = rc.call("HVALS", "korpu:{r:baku}:taken:%s:%s" % (p["id"], days_from_today(d)))
            assert [int(x) for x in taken] == [3], (d, taken)


def test_course_requests_are_checked(case_korpud):
    k = case_korpud
    p = make_course_provider(k)
    c = learner(k)
    assert_problem(book_course(k, p, c, cid="b2-morning"), 422)
    r = k.post(COURSE, json_body={"provider_id": p["id"], "client_id": c["id"]},
               token=k.staff.caseworker)
    assert_problem(r, 422)
    assert r.body["errors"][0]["field"] == "course_id"
    assert_problem(book_course(k, p, make_client(k)), 422)     # no consent
    for token in (k.staff.supervisor, k.staff.clinic):
        assert_problem(k.post(COURSE, json_body={"provider_id": p["id"], "client_id": c["id"],
                                                 "course_id": "a1-evening"}, token=token), 403)
