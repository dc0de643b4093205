"""School places (issue: scheduling, seat model): a place per school year
and grade at a school, taken atomically with an intake appointment; one
school place per client and year; never more places than the school has."""
import threading

from casework import daily, days_from_today, give_consent, make_client, make_org, \
    make_referral, provider_body
from servers import assert_problem, http_request

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
