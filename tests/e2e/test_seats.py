"""School places (issue: scheduling, seat model): a place per school year
and grade at a school, taken atomically with an intake appointment; one
school place per client and year; never more places than the school has.
No place left (issue 6): the referral joins the school's waitlist for the
grade and year, and a place that frees up is offered to the first waiting."""
import datetime
import threading
import time

from casework import daily, days_from_today, give_consent, make_client, make_org, \
    make_referral, provider_body
from servers import RedisClient, assert_problem, http_request, wait_for

YEAR = "2027/2028"


def school_org(k):
    if not hasattr(k, "school_org"):
        k.school_org = make_org(k, agreement_areas=["schools"])
    return k.school_org


def school(k, places=25, org=None, **kw):
    body = provider_body(org or school_org(k), area="schools", hours=[daily("09:00", "12:00")],
                         seats=[{"school_year": YEAR, "grade": 1, "places": places},
                                {"school_year": YEAR, "grade": 5, "places": places}], **kw)
    r = k.post("/api/v1/providers", json_body=body, token=k.staff.admin)
    assert r.status == 201, r.body
    return r.body


def pupil(k):
    c = make_client(k, birth_date="2016-05-01")
    give_consent(k, c, "schools")
    return c


def take(k, p, c, grade=5, **kw):
    body = {"provider_id": p["id"], "client_id": c["id"], "school_year": YEAR, "grade": grade}
    body.update(kw)
    return k.post("/api/v1/seats", json_body=body, token=k.staff.caseworker)


def counts(k, p):
    r = k.get("/api/v1/providers/%s/seats" % p["id"], token=k.staff.caseworker)
    assert r.status == 200, r.body
    return {(e["school_year"], e["grade"]): (e["places"], e["taken"], e["remaining"])
            for e in r.body}


def intake(k, p, day=4, i=0):
    d = days_from_today(day)
    return k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (p["id"], d, d),
                 token=k.staff.caseworker).body[i]["start"]


def test_a_place_with_an_intake_appointment(case_korpud):
    k = case_korpud
    p = school(k)
    c = pupil(k)
    start = intake(k, p)
    r = take(k, p, c, intake_start=start)
    assert r.status == 201, r.body
    seat = r.body
    assert seat["status"] == "taken" and seat["grade"] == 5 and seat["school_year"] == YEAR
    assert seat["intake"]["start"] == start and seat["intake"]["client_id"] == c["id"]
    assert seat["intake_appointment_id"] == seat["intake"]["id"]
    assert counts(k, p)[(YEAR, 5)] == (25, 1, 24)
    assert counts(k, p)[(YEAR, 1)] == (25, 0, 25)
    assert k.get("/api/v1/seats/%s" % seat["id"], token=k.staff.caseworker).body["id"] == seat["id"]
    r = k.get("/api/v1/seats?client_id=%s" % c["id"], token=k.staff.caseworker)
    assert [s["id"] for s in r.body["items"]] == [seat["id"]]


def test_one_school_place_per_client_and_year(case_korpud):
    k = case_korpud
    p, other = school(k), school(k)
    c = pupil(k)
    assert take(k, p, c).status == 201
    r = take(k, other, c, grade=1)
    assert_problem(r, 409)
    assert "already has a school place" in r.body["detail"]
    assert counts(k, other)[(YEAR, 1)][1] == 0


def test_no_place_left_is_409_and_an_intake_is_not_kept(case_korpud):
    k = case_korpud
    p = school(k, places=1)
    assert take(k, p, pupil(k)).status == 201
    c = pupil(k)
    r = take(k, p, c, intake_start=intake(k, p, i=1))
    assert_problem(r, 409)
    assert "no places left" in r.body["detail"]
    r = k.get("/api/v1/appointments?client_id=%s" % c["id"], token=k.staff.caseworker)
    assert r.body["items"] == []          # all or nothing: no intake without the place


def test_concurrent_requests_never_exceed_the_places(case_korpud):
    k = case_korpud
    p = school(k, places=3)
    pupils = [pupil(k) for _ in range(20)]
    results = []

    def one(c):
        results.append(http_request(
            k.port, "POST", "/api/v1/seats", timeout=15,
            json_body={"provider_id": p["id"], "client_id": c["id"], "school_year": YEAR,
                       "grade": 1},
            headers={"Authorization": "Bearer " + k.staff.caseworker}))
    threads = [threading.Thread(target=one, args=(c,)) for c in pupils]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results).count(201) == 3, [r.status for r in results]
    assert {r.status for r in results} <= {201, 409}
    assert counts(k, p)[(YEAR, 1)] == (3, 3, 0)


def test_releasing_frees_the_place(case_korpud):
    k = case_korpud
    p = school(k, places=1)
    seat = take(k, p, pupil(k), grade=1).body
    r = k.post("/api/v1/seats/%s/release" % seat["id"], json_body={"reason": "moved city"},
               token=k.staff.caseworker)
    assert r.status == 200 and r.body["status"] == "released", r.body
    assert counts(k, p)[(YEAR, 1)] == (1, 0, 1)
    assert take(k, p, pupil(k), grade=1).status == 201
    assert_problem(k.post("/api/v1/seats/%s/release" % seat["id"], json_body={"reason": "x"},
                          token=k.staff.caseworker), 409)


def test_a_referral_must_be_accepted_before_its_school_place(case_korpud):
    """(No demo login belongs to a school, so accepting is not shown here.)"""
    k = case_korpud
    p = school(k)
    c = pupil(k)
    ref = make_referral(k, c, p)
    r = take(k, p, c, referral_id=ref["id"])
    assert_problem(r, 409)
    assert "accept" in r.body["detail"]
    other = pupil(k)
    r = take(k, p, other, referral_id=ref["id"])
    assert_problem(r, 422)
    assert r.body["errors"][0]["field"] == "referral_id"


def test_seat_requests_are_checked(case_korpud):
    k = case_korpud
    p = school(k)
    c = pupil(k)
    for change, field in [({"grade": 3}, "grade"), ({"school_year": "2027-2028"}, "school_year"),
                          ({"school_year": "2027/2029"}, "school_year"),
                          ({"grade": 13}, "grade"),
                          ({"intake_start": days_from_today(4)}, "intake_start")]:
        r = take(k, p, c, **change)
        assert_problem(r, 422)
        assert r.body["errors"][0]["field"] == field, (change, r.body)
    assert_problem(take(k, p, make_client(k)), 422)            # no consent
    clinic = provider_body(k.orgs["clinic"], area="clinics")
    cp = k.post("/api/v1/providers", json_body=clinic, token=k.staff.admin).body
    give_consent(k, c, "clinics")
    assert_problem(take(k, cp, c), 409)                        # not a school
    for token in (k.staff.clinic, k.staff.supervisor):
        assert_problem(k.post("/api/v1/seats", json_body={"provider_id": p["id"],
                                                          "client_id": c["id"],
                                                          "school_year": YEAR, "grade": 5},
                              token=token), 403)


def test_bad_seat_tables_are_refused(case_korpud):
    k = case_korpud
    for seats, why in [([{"school_year": "2027", "grade": 1, "places": 3}], "school_year"),
                       ([{"school_year": YEAR, "grade": 14, "places": 3}], "grade"),
                       ([{"school_year": YEAR, "grade": 1, "places": -1}], "places"),
                       ([{"school_year": YEAR, "grade": 1, "places": 3}] * 2, "repeats")]:
        body = provider_body(school_org(k), area="schools", seats=seats)
        r = k.post("/api/v1/providers", json_body=body, token=k.staff.admin)
        assert_problem(r, 422)
        assert why in r.body["errors"][0]["message"], r.body


def test_the_school_area_works_out_the_grade_of_a_referral(case_korpud):
    """The school is run by the demo clinic staff's organization here, so
    its staff can accept the referral."""
    import datetime
    k = case_korpud
    org = k.orgs["clinic"]
    r = k.request("PUT", "/api/v1/organizations/%s/agreement" % org["id"],
                  json_body={"valid_from": days_from_today(-30), "valid_to": days_from_today(365),
                             "areas": ["clinics", "schools"]}, token=k.staff.admin)
    assert r.status == 200, r.body
    p = school(k, org=org)
    today = datetime.date.today()
    cutoff = datetime.date(today.year if today <= datetime.date(today.year, 9, 1)
                           else today.year + 1, 9, 1)
    c = make_client(k, birth_date=cutoff.replace(year=cutoff.year - 10).isoformat())
    give_consent(k, c, "schools")
    ref = make_referral(k, c, p, fields={"last_grade_completed": 4, "instruction_language": "az",
                                         "documents_available": True})
    r = k.post("/api/v1/referrals/%s/transition" % ref["id"], json_body={"to": "accepted"},
               token=k.staff.clinic)
    assert r.status == 200, r.body
    body = {"provider_id": p["id"], "client_id": c["id"], "school_year": YEAR,
            "referral_id": ref["id"], "intake_start": intake(k, p, day=6)}
    r = k.post("/api/v1/seats", json_body=body, token=k.staff.caseworker)
    assert r.status == 201, r.body
    assert r.body["grade"] == 5                  # ten on the cut-off, four grades done
    got = k.get("/api/v1/referrals/%s" % ref["id"], token=k.staff.caseworker).body
    assert got["status"] == "scheduled"
    # without a referral the grade must be named
    other = pupil(k)
    r = k.post("/api/v1/seats", json_body={"provider_id": p["id"], "client_id": other["id"],
                                           "school_year": YEAR}, token=k.staff.caseworker)
    assert_problem(r, 422)
    assert r.body["errors"][0]["field"] == "grade"


# ---- no place left: the referral waits for one (issue 6, schools) ----------

WAITLIST = "/api/v1/waitlist"


def staffed_school(k, places=1):
    """A school run by the demo clinic staff's organization (no demo login
    belongs to a school), so that its staff can accept referrals."""
    org = k.orgs["clinic"]
    r = k.request("PUT", "/api/v1/organizations/%s/agreement" % org["id"],
                  json_body={"valid_from": days_from_today(-30), "valid_to": days_from_today(365),
                             "areas": ["clinics", "schools"]}, token=k.staff.admin)
    assert r.status == 200, r.body
    return school(k, places=places, org=org)


def accepted_referral(k, p, c):
    ref = make_referral(k, c, p)
    r = k.post("/api/v1/referrals/%s/transition" % ref["id"], json_body={"to": "accepted"},
               token=k.staff.clinic)
    assert r.status == 200, r.body
    return r.body


def waiting_pupil(k, p, grade=5):
    """A pupil with an accepted referral to p who finds no place left:
    (client, referral, waitlist entry)."""
    c = pupil(k)
    ref = accepted_referral(k, p, c)
    r = take(k, p, c, grade=grade, referral_id=ref["id"])
    assert r.status == 202, r.body
    return c, ref, r.body


def wait_entry(k, e):
    r = k.get("%s/%s" % (WAITLIST, e["id"]), token=k.staff.caseworker)
    assert r.status == 200, r.body
    return r.body


def wait_status_becomes(k, e, status, timeout=5.0):
    return wait_for(lambda: (lambda x: x if x["status"] == status else None)(wait_entry(k, e)),
                    timeout, what="entry %s to become %s" % (e["id"], status))


def release(k, seat, reason="moved away"):
    r = k.post("/api/v1/seats/%s/release" % seat["id"], json_body={"reason": reason},
               token=k.staff.caseworker)
    assert r.status == 200, r.body
    return r.body


def seat_jobs(k, e):
    with RedisClient(k.redis_port) as rc:
        return [m.decode() for m in rc.call("ZRANGE", "korpu:{r:baku}:jobs", "0", "-1")
                if m.decode().startswith("seatoffer:%s:" % e["id"])]


def lapse_seat_offer(k, e):
    """Moves the entry's lapse job to now (as if the hold time passed)."""
    members = seat_jobs(k, e)
    assert members, "no lapse job for %s" % e["id"]
    with RedisClient(k.redis_port) as rc:
        for m in members:
            rc.call("ZADD", "korpu:{r:baku}:jobs", str(int(time.time() * 1000) - 1000), m)


def events_of(k, type_):
    with RedisClient(k.redis_port) as rc:
        entries = rc.call("XRANGE", "korpu:events:{schools}", "-", "+")
    fields = [dict(zip(f[::2], f[1::2])) for _, f in entries]
    return [f[b"id"].decode() for f in fields if f[b"type"].decode() == type_]


def event_count(k, type_, id_):
    """How often the event reached the schools' stream (relayed from the
    outbox just after the change: waited for)."""
    wait_for(lambda: id_ in events_of(k, type_) or None, 5.0, what="%s %s" % (type_, id_))
    return events_of(k, type_).count(id_)


def test_no_place_left_puts_the_referral_on_the_waitlist(case_korpud):
    k = case_korpud
    p = staffed_school(k)
    assert take(k, p, pupil(k)).status == 201
    c = pupil(k)
    ref = accepted_referral(k, p, c)
    body = {"provider_id": p["id"], "client_id": c["id"], "school_year": YEAR, "grade": 5,
            "referral_id": ref["id"], "intake_start": intake(k, p, i=1)}
    key = {"Idempotency-Key": "seat-wait-%s" % c["id"]}
    r = k.post("/api/v1/seats", json_body=body, headers=key, token=k.staff.caseworker)
    assert r.status == 202, r.body
    e = r.body
    # a retry of the same request gets the same answer, and joins nothing more
    again = k.post("/api/v1/seats", json_body=body, headers=key, token=k.staff.caseworker)
    assert again.status == 202 and again.body["id"] == e["id"], again.body
    assert again.header("Idempotent-Replayed") == "true"
    assert e["kind"] == "seat" and e["status"] == "waiting", e
    assert (e["school_year"], e["grade"]) == (YEAR, 5)
    assert (e["client_id"], e["referral_id"], e["provider_id"]) == (c["id"], ref["id"], p["id"])
    assert e["offer"] is None and e["seat_id"] is None
    # nothing else was taken: no place, no intake, the referral still waits
    assert counts(k, p)[(YEAR, 5)] == (1, 1, 0)
    assert k.get("/api/v1/seats?client_id=%s" % c["id"],
                 token=k.staff.caseworker).body["items"] == []
    assert k.get("/api/v1/appointments?client_id=%s" % c["id"],
                 token=k.staff.caseworker).body["items"] == []
    assert k.get("/api/v1/referrals/%s" % ref["id"],
                 token=k.staff.caseworker).body["status"] == "accepted"
    # it is a waitlist entry like any other: read, listed with its place in the queue
    got = wait_entry(k, e)
    assert got["status"] == "waiting" and got["kind"] == "seat"
    r = k.get(WAITLIST + "?provider_id=%s" % p["id"], token=k.staff.caseworker)
    assert [(x["id"], x["position"]) for x in r.body["items"]] == [(e["id"], 1)]
    assert event_count(k, "waitlist.joined", e["id"]) == 1
    # taking again for the same referral: it already waits
    r = take(k, p, c, referral_id=ref["id"])
    assert_problem(r, 409)
    assert r.body["waitlist_id"] == e["id"]
    # a school keeps no appointment waitlist of its own
    r = k.post(WAITLIST, json_body={"provider_id": p["id"], "client_id": c["id"]},
               token=k.staff.caseworker)
    assert_problem(r, 409)
    assert "POST /api/v1/seats" in r.body["detail"]


def test_a_released_place_is_offered_to_the_first_waiting_and_accepted(case_korpud):
    k = case_korpud
    p = staffed_school(k)
    first = take(k, p, pupil(k)).body
    b, b_ref, b_wait = waiting_pupil(k, p)
    _, _, c_wait = waiting_pupil(k, p)
    release(k, first)
    e = wait_status_becomes(k, b_wait, "offered")
    assert (e["offer"]["school_year"], e["offer"]["grade"]) == (YEAR, 5)
    expires = datetime.datetime.fromisoformat(e["offer"]["expires_at"].replace("Z", "+00:00"))
    hold = expires - datetime.datetime.now(datetime.timezone.utc)
    # schools set no hold time of their own: appointments.offer_hold_minutes (120)
    assert datetime.timedelta(minutes=115) < hold <= datetime.timedelta(minutes=120)
    assert counts(k, p)[(YEAR, 5)] == (1, 1, 0)          # held for b: nobody else takes it
    assert_problem(take(k, p, pupil(k)), 409)
    r = k.get(WAITLIST + "?provider_id=%s" % p["id"], token=k.staff.caseworker)
    assert [(x["id"], x.get("position")) for x in r.body["items"]
            if x["status"] == "waiting"] == [(c_wait["id"], 1)]
    assert len(seat_jobs(k, e)) == 1
    # accepting makes the place b's, and the referral is scheduled
    r = k.post("%s/%s/accept" % (WAITLIST, e["id"]), json_body={}, token=k.staff.caseworker)
    assert r.status == 200, r.body
    assert r.body["status"] == "booked"
    seat = r.body["seat"]
    assert r.body["seat_id"] == seat["id"] and seat["status"] == "taken"
    assert (seat["client_id"], seat["grade"], seat["school_year"]) == (b["id"], 5, YEAR)
    assert seat["referral_id"] == b_ref["id"] and seat["waitlist_id"] == e["id"]
    assert counts(k, p)[(YEAR, 5)] == (1, 1, 0)          # the held place became b's
    assert k.get("/api/v1/seats?client_id=%s" % b["id"],
                 token=k.staff.caseworker).body["items"][0]["id"] == seat["id"]
    assert k.get("/api/v1/referrals/%s" % b_ref["id"],
                 token=k.staff.caseworker).body["status"] == "scheduled"
    assert seat_jobs(k, e) == []
    assert wait_entry(k, c_wait)["status"] == "waiting"
    assert_problem(k.post("%s/%s/accept" % (WAITLIST, e["id"]), json_body={},
                          token=k.staff.caseworker), 409)
    assert event_count(k, "seat.taken", seat["id"]) == 1
    # The place came without an intake: book it for the referral.
    r = k.post("/api/v1/appointments", json_body={"provider_id": p["id"], "client_id": b["id"],
                                                  "start": intake(k, p, day=5),
                                                  "referral_id": b_ref["id"]},
               token=k.staff.caseworker)
    assert r.status == 201, r.body
    assert r.body["referral_id"] == b_ref["id"]


def test_a_schools_appointment_is_only_a_taken_places_intake(case_korpud):
    k = case_korpud
    p = staffed_school(k)
    c = pupil(k)
    ref = accepted_referral(k, p, c)
    body = {"provider_id": p["id"], "client_id": c["id"], "start": intake(k, p, day=5)}
    r = k.post("/api/v1/appointments", json_body=body, token=k.staff.caseworker)
    assert_problem(r, 409)
    assert "POST /api/v1/seats" in r.body["detail"]
    r = k.post("/api/v1/appointments", json_body=dict(body, referral_id=ref["id"]),
               token=k.staff.caseworker)
    assert_problem(r, 409)                          # accepted, but no place taken yet
    assert "no school place is taken" in r.body["detail"]


def test_a_declined_or_lapsed_offer_passes_the_place_on(case_korpud):
    k = case_korpud
    p = staffed_school(k)
    first = take(k, p, pupil(k)).body
    _, _, b = waiting_pupil(k, p)
    _, _, c = waiting_pupil(k, p)
    release(k, first)
    wait_status_becomes(k, b, "offered")
    r = k.post("%s/%s/decline" % (WAITLIST, b["id"]), json_body={"reason": "a school nearer"},
               token=k.staff.caseworker)
    assert r.status == 200 and r.body["status"] == "declined", r.body
    assert seat_jobs(k, b) == []
    c = wait_status_becomes(k, c, "offered")
    assert counts(k, p)[(YEAR, 5)] == (1, 1, 0)
    lapse_seat_offer(k, c)
    wait_status_becomes(k, c, "lapsed")
    # nobody else waits: the place is free again
    wait_for(lambda: counts(k, p)[(YEAR, 5)] == (1, 0, 1) or None, 5.0, what="the place back")
    assert event_count(k, "waitlist.lapsed", c["id"]) == 1
    assert event_count(k, "waitlist.declined", b["id"]) == 1
    assert_problem(k.post("%s/%s/accept" % (WAITLIST, c["id"]), json_body={},
                          token=k.staff.caseworker), 409)


def test_a_waiting_referral_cancelled_is_withdrawn_and_the_place_passes_on(case_korpud):
    k = case_korpud
    p = staffed_school(k)
    first = take(k, p, pupil(k)).body
    _, ref_b, b = waiting_pupil(k, p)
    _, _, c = waiting_pupil(k, p)
    r = k.post("/api/v1/referrals/%s/transition" % ref_b["id"],
               json_body={"to": "cancelled", "note": "the family moved"}, token=k.staff.caseworker)
    assert r.status == 200, r.body
    release(k, first)
    wait_status_becomes(k, c, "offered")
    gone = wait_entry(k, b)
    assert gone["status"] == "withdrawn", gone
    assert gone["history"][-1]["note"] == "the referral is cancelled"
    assert counts(k, p)[(YEAR, 5)] == (1, 1, 0)     # one place, held for c alone
    assert event_count(k, "waitlist.withdrawn", b["id"]) == 1


def test_each_grade_and_year_has_its_own_waitlist(case_korpud):
    k = case_korpud
    p = staffed_school(k)
    fifth = take(k, p, pupil(k), grade=5).body
    first = take(k, p, pupil(k), grade=1).body
    _, _, waits_5 = waiting_pupil(k, p, grade=5)
    release(k, first)                    # a place in grade 1: not for grade 5's waitlist
    time.sleep(0.3)
    assert wait_entry(k, waits_5)["status"] == "waiting"
    assert counts(k, p)[(YEAR, 1)] == (1, 0, 1)
    # places added to grade 5 are offered as well
    seats = [{"school_year": YEAR, "grade": 1, "places": 1},
             {"school_year": YEAR, "grade": 5, "places": 2}]
    r = k.request("PATCH", "/api/v1/providers/%s" % p["id"], json_body={"seats": seats},
                  token=k.staff.admin)
    assert r.status == 200, r.body
    wait_status_becomes(k, waits_5, "offered")
    assert counts(k, p)[(YEAR, 5)] == (2, 2, 0)      # fifth's, and the one held
    assert k.get("/api/v1/seats/%s" % fifth["id"],
                 token=k.staff.caseworker).body["status"] == "taken"


def test_a_client_with_a_place_that_year_cannot_take_the_offer(case_korpud):
    k = case_korpud
    p, other = staffed_school(k), school(k)
    first = take(k, p, pupil(k)).body
    c, _, e = waiting_pupil(k, p)
    assert take(k, other, c).status == 201          # found a place elsewhere meanwhile
    release(k, first)
    wait_status_becomes(k, e, "offered")
    r = k.post("%s/%s/accept" % (WAITLIST, e["id"]), json_body={}, token=k.staff.caseworker)
    assert_problem(r, 409)
    assert "already has a school place" in r.body["detail"]
    assert wait_entry(k, e)["status"] == "offered"      # still theirs to decline
    # and a client who has a place that year does not join a waitlist
    d = pupil(k)
    ref = accepted_referral(k, p, d)
    assert take(k, other, d).status == 201
    r = take(k, p, d, referral_id=ref["id"])
    assert_problem(r, 409)
    assert "already has a school place" in r.body["detail"]


def test_concurrent_takes_and_releases_never_exceed_the_places(case_korpud):
    k = case_korpud
    p = staffed_school(k, places=3)
    pupils = [pupil(k) for _ in range(8)]
    refs = [accepted_referral(k, p, c) for c in pupils]
    results = []

    def one(c, ref):
        results.append(http_request(
            k.port, "POST", "/api/v1/seats", timeout=15,
            json_body={"provider_id": p["id"], "client_id": c["id"], "school_year": YEAR,
                       "grade": 5, "referral_id": ref["id"]},
            headers={"Authorization": "Bearer " + k.staff.caseworker}))
    threads = [threading.Thread(target=one, args=a) for a in zip(pupils, refs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in results)
    assert statuses == [201] * 3 + [202] * 5, statuses
    seats = [r.body for r in results if r.status == 201]
    waits = [r.body for r in results if r.status == 202]
    for s in seats:
        release(k, s)
    wait_for(lambda: sum(wait_entry(k, e)["status"] == "offered" for e in waits) == 3 or None,
             5.0, what="three offers")
    time.sleep(0.3)
    assert sum(wait_entry(k, e)["status"] == "offered" for e in waits) == 3
    assert counts(k, p)[(YEAR, 5)] == (3, 3, 0)
