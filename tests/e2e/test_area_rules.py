"""The area plugins' own rules, through HTTP (issue: service-area plugins):
what each area refuses and how it tells the caseworker."""
import datetime

import pytest

from casework import (REFERRAL_FIELDS, give_consent, make_client, make_org, make_provider,
                      referral_body)
from servers import assert_problem


def years_ago(years, days=0):
    t = datetime.date.today()
    try:
        d = t.replace(year=t.year - years)
    except ValueError:              # 29 February
        d = t.replace(year=t.year - years, day=28)
    return (d + datetime.timedelta(days=days)).isoformat()


def refer(k, area, org, client_kw=None, fields=None):
    provider = make_provider(k, org, area=area)
    client = make_client(k, **(client_kw or {}))
    give_consent(k, client, area)
    return k.post("/api/v1/referrals", json_body=referral_body(
        client, provider, fields=fields if fields is not None else REFERRAL_FIELDS[area]),
        token=k.staff.caseworker)


def fields_of(r):
    return {e["field"]: e["message"] for e in r.body.get("errors", [])}


def test_an_emergency_is_refused_with_the_number_to_call(case_korpud):
    k = case_korpud
    r = refer(k, "clinics", k.orgs["clinic"],
              fields=dict(REFERRAL_FIELDS["clinics"], urgency="emergency"))
    assert_problem(r, 422)
    msg = fields_of(r)["fields.urgency"]
    assert "call 103 now" in msg and "stay with the client" in msg
    assert refer(k, "clinics", k.orgs["clinic"],
                 fields=dict(REFERRAL_FIELDS["clinics"], urgency="urgent")).status == 201


def test_the_emergency_number_and_procedure_come_from_the_areas_file(make_korpud):
    from conftest import Staff
    k = make_korpud(conf={"regions": ["baku"]}, plugin_confs={"clinics": (
        'emergency_number = "112";\n'
        'emergency_procedure = "Call 112 and tell the duty officer at reception.";\n')})
    k.staff = Staff(k)
    org = make_org(k, directory_name="org-clinic", agreement_areas=["clinics"])
    r = refer(k, "clinics", org, fields=dict(REFERRAL_FIELDS["clinics"], urgency="emergency"))
    assert_problem(r, 422)
    assert "call 112 now. Call 112 and tell the duty officer" in fields_of(r)["fields.urgency"]


@pytest.mark.parametrize("birth,ok", [
    (years_ago(15), True),                  # fifteen today
    (years_ago(15, days=1), False),         # fifteen tomorrow
    (years_ago(40), True),
])
def test_employment_takes_clients_of_working_age(case_korpud, birth, ok):
    k = case_korpud
    r = refer(k, "employment", k.orgs["employment"], client_kw={"birth_date": birth})
    if ok:
        assert r.status == 201, r.body
    else:
        assert_problem(r, 422)
        assert "from 15" in fields_of(r)["client.birth_date"]


@pytest.mark.parametrize("permit,ok", [
    ("holds_permit", True), ("not_required", True), ("applied", False), ("none", False)])
def test_employment_needs_a_permit_or_a_status_that_allows_work(case_korpud, permit, ok):
    k = case_korpud
    r = refer(k, "employment", k.orgs["employment"],
              fields=dict(REFERRAL_FIELDS["employment"], work_permit_status=permit))
    if ok:
        assert r.status == 201, r.body
    else:
        assert_problem(r, 422)
        assert "fields.work_permit_status" in fields_of(r)


def test_which_permits_allow_work_is_configured(make_korpud):
    from conftest import Staff
    k = make_korpud(conf={"regions": ["baku"]}, plugin_confs={"employment": (
        'permits_allowing_work = [ "not_required", "holds_permit", "applied" ];\n')})
    k.staff = Staff(k)
    org = make_org(k, directory_name="org-employment", agreement_areas=["employment"])
    r = refer(k, "employment", org,
              fields=dict(REFERRAL_FIELDS["employment"], work_permit_status="applied"))
    assert r.status == 201, r.body


def cutoff():
    t = datetime.date.today()
    c = datetime.date(t.year, 9, 1)
    return c if t <= c else datetime.date(t.year + 1, 9, 1)


def born_before_cutoff(years, days=0):
    c = cutoff()
    return (c.replace(year=c.year - years) + datetime.timedelta(days=days)).isoformat()


@pytest.mark.parametrize("birth,ok", [
    (born_before_cutoff(6), True),             # six on the cut-off day
    (born_before_cutoff(6, days=1), False),    # a day too young
    (born_before_cutoff(17), True),            # still seventeen that day
    (born_before_cutoff(18), False),           # eighteen: too old
])
def test_schools_take_children_of_school_age_on_the_cut_off_date(case_korpud, birth, ok):
    k = case_korpud
    if not hasattr(k, "schools_org"):
        k.schools_org = make_org(k, agreement_areas=["schools"])
    r = refer(k, "schools", k.schools_org, client_kw={"birth_date": birth})
    if ok:
        assert r.status == 201, r.body
    else:
        assert_problem(r, 422)
        assert cutoff().isoformat() in fields_of(r)["client.birth_date"]


def test_an_invalid_area_setting_stops_korpud_t_with_file_and_line(make_korpud):
    from servers import run_korpud
    k = make_korpud(start=False, plugin_confs={"employment": (
        '# employment\npermits_allowing_work = [ "whenever" ];\n')})
    p = run_korpud(["-t", "-c", str(k.write_config())])
    assert p.returncode == 1
    assert "employment.conf:2" in p.stderr and "whenever" in p.stderr, p.stderr


# ---- clinics: urgent referrals are escalated, interpreters come by themselves

def escalation_jobs(k, ref):
    from servers import RedisClient
    with RedisClient(k.redis_port) as rc:
        got = rc.call("ZRANGE", "korpu:{r:baku}:jobs", "0", "-1", "WITHSCORES")
    return {m.decode(): int(float(s)) for m, s in zip(got[::2], got[1::2])
            if m.decode() == "escalate:" + ref["id"]}


def notified(k, type_, id_):
    from servers import RedisClient
    with RedisClient(k.redis_port) as rc:
        entries = rc.call("XRANGE", "korpu:notify:{notify}", "-", "+")
    return [e for e in entries
            if dict(zip(e[1][::2], e[1][1::2]))[b"type"].decode() == type_ and
            dict(zip(e[1][::2], e[1][1::2]))[b"id"].decode() == id_]


def make_due(k, ref):
    import time
    from servers import RedisClient
    with RedisClient(k.redis_port) as rc:
        rc.call("ZADD", "korpu:{r:baku}:jobs", str(int(time.time() * 1000) - 1000),
                "escalate:" + ref["id"])


def test_an_urgent_clinic_referral_not_booked_in_time_is_escalated_once(case_korpud):
    import time
    from servers import wait_for
    k = case_korpud
    r = refer(k, "clinics", k.orgs["clinic"],
              fields=dict(REFERRAL_FIELDS["clinics"], urgency="urgent"))
    assert r.status == 201, r.body
    ref = r.body
    (due,) = escalation_jobs(k, ref).values()
    created = datetime.datetime.fromisoformat(ref["created_at"].replace("Z", "+00:00"))
    assert abs(due / 1000 - created.timestamp() - 48 * 3600) < 5
    make_due(k, ref)
    wait_for(lambda: notified(k, "referral.escalated", ref["id"]) or None, 5.0,
             what="the escalation")
    time.sleep(1.2)
    assert len(notified(k, "referral.escalated", ref["id"])) == 1
    got = k.get("/api/v1/referrals/%s" % ref["id"], token=k.staff.caseworker).body
    assert got["status"] == "sent" and got["escalated_at"]
    assert "escalated" in got["history"][-1]["note"]


def test_a_routine_referral_is_never_escalated_and_a_scheduled_one_is_not(case_korpud):
    import time
    k = case_korpud
    r = refer(k, "clinics", k.orgs["clinic"])
    assert r.status == 201 and escalation_jobs(k, r.body) == {}
    r = refer(k, "clinics", k.orgs["clinic"],
              fields=dict(REFERRAL_FIELDS["clinics"], urgency="urgent"))
    ref = r.body
    for to in ("accepted", "scheduled"):
        who = k.staff.clinic
        assert k.post("/api/v1/referrals/%s/transition" % ref["id"], json_body={"to": to},
                      token=who).status == 200
    make_due(k, ref)
    deadline = time.time() + 3
    while escalation_jobs(k, ref) and time.time() < deadline:
        time.sleep(0.1)
    assert escalation_jobs(k, ref) == {}
    assert notified(k, "referral.escalated", ref["id"]) == []


def test_a_client_who_needs_an_interpreter_gets_one_at_the_clinic(case_korpud):
    from casework import daily, days_from_today, make_interpreter
    k = case_korpud
    p = make_provider(k, k.orgs["clinic"], area="clinics", hours=[daily("09:00", "12:00")])
    d = days_from_today(4)
    starts = [s["start"] for s in k.get("/api/v1/providers/%s/slots?from=%s&to=%s"
                                        % (p["id"], d, d), token=k.staff.caseworker).body]
    needs = make_client(k, languages=["ps", "fa"], needs_interpreter=True)
    give_consent(k, needs, "clinics")
    r = k.post("/api/v1/appointments", json_body={"provider_id": p["id"],
                                                  "client_id": needs["id"], "start": starts[0]},
               token=k.staff.caseworker)
    assert_problem(r, 409)                       # no Pashto interpreter yet
    assert "ps interpreter" in r.body["detail"]
    interp = make_interpreter(k, ("ps",))
    r = k.post("/api/v1/appointments", json_body={"provider_id": p["id"],
                                                  "client_id": needs["id"], "start": starts[0]},
               token=k.staff.caseworker)
    assert r.status == 201, r.body
    assert r.body["interpreter_language"] == "ps" and r.body["interpreter_id"] == interp["id"]
    plain = make_client(k)
    give_consent(k, plain, "clinics")
    r = k.post("/api/v1/appointments", json_body={"provider_id": p["id"],
                                                  "client_id": plain["id"], "start": starts[1]},
               token=k.staff.caseworker)
    assert r.status == 201 and r.body["interpreter_id"] is None


# ---- housing: the waitlist is ordered by a score the caseworker can read

def test_housing_scores_its_waitlist_and_says_how(case_korpud):
    from casework import daily, days_from_today, make_referral
    k = case_korpud
    # a provider with no free place: everybody waits
    closed = [days_from_today(d) for d in range(0, 70)]
    p = make_provider(k, k.orgs["housing"], area="housing", hours=[daily("09:00", "09:30")],
                      closed=closed)

    def join(size, vulnerabilities=""):
        c = make_client(k)
        give_consent(k, c, "housing")
        fields = dict(REFERRAL_FIELDS["housing"], household_size=size,
                      vulnerabilities=vulnerabilities)
        ref = make_referral(k, c, p, fields=fields)
        r = k.post("/api/v1/waitlist", json_body={"provider_id": p["id"], "client_id": c["id"],
                                                  "referral_id": ref["id"]},
                   token=k.staff.caseworker)
        assert r.status == 201, r.body
        return r.body

    small = join(2)
    big = join(5)
    vulnerable = join(2, "disability, single_parent")
    assert small["priority"] == 20 and big["priority"] == 50 and vulnerable["priority"] == 70
    assert vulnerable["priority_per_day"] == 1
    assert vulnerable["priority_explained"] == (
        "household of 2: 20; 2 vulnerabilities: 50; 1 a day waited")
    r = k.get("/api/v1/waitlist?provider_id=%s" % p["id"], token=k.staff.caseworker)
    order = [(e["id"], e["position"], e["score"]) for e in r.body["items"]]
    assert order == [(vulnerable["id"], 1, 70), (big["id"], 2, 50), (small["id"], 3, 20)]
    got = k.get("/api/v1/waitlist/%s" % big["id"], token=k.staff.housing).body
    assert got["score"] == 50 and "household of 5: 50" in got["priority_explained"]


def test_housing_waitlist_needs_the_referral(case_korpud):
    from casework import daily
    k = case_korpud
    p = make_provider(k, k.orgs["housing"], area="housing", hours=[daily("09:00", "09:30")])
    c = make_client(k)
    give_consent(k, c, "housing")
    r = k.post("/api/v1/waitlist", json_body={"provider_id": p["id"], "client_id": c["id"],
                                              "priority": 90}, token=k.staff.caseworker)
    assert_problem(r, 422)
    assert fields_of(r).keys() == {"referral_id"}
    other = make_client(k)
    give_consent(k, other, "housing")
    from casework import make_referral
    ref = make_referral(k, other, p)
    r = k.post("/api/v1/waitlist", json_body={"provider_id": p["id"], "client_id": c["id"],
                                              "referral_id": ref["id"]}, token=k.staff.caseworker)
    assert_problem(r, 422)
    assert "not a referral of this client" in fields_of(r)["referral_id"]


# ---- employment: routed to the job centre that can see the client first

def test_employment_routes_to_the_soonest_free_slot(make_korpud):
    from conftest import Staff
    from casework import daily, days_from_today, make_referral
    k = make_korpud(conf={"regions": ["baku"]})
    k.staff = Staff(k)
    org = make_org(k, directory_name="org-employment", agreement_areas=["employment"])
    later = make_provider(k, org, area="employment", hours=[daily("09:00", "12:00")],
                          closed=[days_from_today(d) for d in range(0, 6)])
    sooner = make_provider(k, org, area="employment", hours=[daily("09:00", "12:00")],
                           closed=[days_from_today(0)])
    # "sooner" carries more open referrals: least-loaded routing would pick "later"
    for _ in range(2):
        c = make_client(k)
        give_consent(k, c, "employment")
        make_referral(k, c, sooner)
    c = make_client(k)
    give_consent(k, c, "employment")
    ref = make_referral(k, c, area="employment")
    assert ref["provider_id"] == sooner["id"]


def test_employment_routing_falls_back_to_the_least_loaded(make_korpud):
    from conftest import Staff
    from casework import daily, days_from_today, make_referral
    k = make_korpud(conf={"regions": ["baku"]})
    k.staff = Staff(k)
    org = make_org(k, directory_name="org-employment", agreement_areas=["employment"])
    closed = [days_from_today(d) for d in range(0, 20)]       # nothing within two weeks
    busy = make_provider(k, org, area="employment", hours=[daily()], closed=closed)
    idle = make_provider(k, org, area="employment", hours=[daily()], closed=closed)
    c = make_client(k)
    give_consent(k, c, "employment")
    make_referral(k, c, busy)
    c = make_client(k)
    give_consent(k, c, "employment")
    assert make_referral(k, c, area="employment")["provider_id"] == idle["id"]
