"""The web client's journeys in Debian's chromium (see conftest.py): the
caseworker's, the provider's, the language switch, validation errors at
their fields, correcting a client's details, the 503 state, markup in names, and accessibility."""
import os
import signal

from casework import (daily, days_from_today, give_consent, make_client, make_provider,
                      make_referral, unique)


def clinic(k, **kw):
    """A clinic of the demo clinic organization, open every day (so the
    next 7 days always hold free times), one client a slot."""
    return make_provider(k, k.orgs["clinic"], area="clinics", name=unique("Poliklinika"),
                         hours=[daily("08:00", "20:00")], **kw)


def client_with_consent(k, **kw):
    c = make_client(k, **kw)
    give_consent(k, c, "clinics")
    return c


def test_caseworker_journey(web_korpud, journey):
    p = clinic(web_korpud)
    n = unique("x").split()[-1]
    journey("caseworker", provider=p["id"], provider_name=p["name"],
            registration_no="AZ-WEB-" + n, given="Zəhra", family="Əliyeva-" + n)


def test_provider_journey(web_korpud, journey):
    p = clinic(web_korpud)
    n = unique("x").split()[-1]
    c = client_with_consent(web_korpud, given_name="Leyla", family_name="Qasımova-" + n)
    ref = make_referral(web_korpud, c, p, reason="Health check after arrival")
    c2 = client_with_consent(web_korpud, given_name="Orxan", family_name="Vəliyev-" + n)
    ref2 = make_referral(web_korpud, c2, p, reason="Tooth ache")
    journey("provider", referral=ref["id"], provider=p["id"],
            client_name="Leyla Qasımova-" + n, other_referral=ref2["id"],
            other_name="Orxan Vəliyev-" + n)


def test_waitlist_and_report(web_korpud, journey):
    """A housing referral joins the waitlist from the client page; the
    supervisor's report shows the day's referrals and downloads as CSV."""
    housing = make_provider(web_korpud, web_korpud.orgs["housing"], area="housing",
                            name=unique("Mənzil"), hours=[daily("08:00", "20:00")])
    c = make_client(web_korpud)
    give_consent(web_korpud, c, "housing")
    ref = make_referral(web_korpud, c, housing, reason="Family of four in a shelter")
    journey("waitlist", client=c["id"], referral=ref["id"], provider_name=housing["name"])


def test_language_switch(web_korpud, journey):
    journey("language")


def test_invalid_input_is_shown_at_its_field(web_korpud, journey):
    c = client_with_consent(web_korpud)
    journey("invalid", client=c["id"], registration_no="AZ-WEB-" + unique("x").split()[-1])


def test_a_client_s_details_are_corrected(web_korpud, journey):
    c = make_client(web_korpud, phone="+994 50 111 22 33", languages=["az"])
    other = make_client(web_korpud)
    n = unique("x").split()[-1]
    journey("edit", client=c["id"], other_regno=other["registration_no"],
            new_regno="AZ-FIX-" + n)


def test_unavailable_state(web_korpud, journey):
    pid = web_korpud.redis_server.pid
    try:
        journey("unavailable", redis_pid=pid)
    finally:
        os.kill(pid, signal.SIGCONT)        # whatever the journey did


def test_markup_in_names_is_text(web_korpud, journey):
    c = make_client(web_korpud, given_name='<img src=x onerror="window.__xss=1">',
                    family_name="<script>window.__xss=2</script>")
    rtl = make_client(web_korpud, given_name="مریم", family_name="رحیمی")
    journey("xss", client=c["id"], given=c["given_name"], family=c["family_name"],
            registration_no=c["registration_no"], rtl_client=rtl["id"], rtl_name="مریم رحیمی")


def test_access(web_korpud, journey):
    c = client_with_consent(web_korpud)
    journey("access", client=c["id"])


def test_a_whole_course_is_booked(web_korpud, journey):
    k = web_korpud
    org = k.orgs["clinic"]
    r = k.request("PUT", "/api/v1/organizations/%s/agreement" % org["id"],
                  json_body={"valid_from": days_from_today(-30), "valid_to": days_from_today(365),
                             "areas": ["clinics", "integration", "schools"]}, token=k.staff.admin)
    assert r.status == 200, r.body
    title = "Azərbaycan dili A1, axşam"
    p = make_provider(k, org, area="integration", name=unique("Kurs"), capacity=3,
                      slot_minutes=90, hours=[daily("18:00", "21:00")],
                      courses=[{"id": "a1-evening", "title": title,
                                "first": days_from_today(3) + "T18:00",
                                "rrule": "FREQ=DAILY;INTERVAL=2;COUNT=5"}])
    c = make_client(k)
    give_consent(k, c, "integration")
    ref = make_referral(k, c, p)
    r = k.post("/api/v1/referrals/%s/transition" % ref["id"], json_body={"to": "accepted"},
               token=k.staff.clinic)
    assert r.status == 200, r.body
    journey("course", client=c["id"], provider_name=p["name"], course_title=title, sessions=5)


def test_a_school_place_then_the_schools_waitlist(web_korpud, journey):
    """Grade 5 of the school has one place: the first child takes it with
    an intake appointment, the second child's referral waits for one."""
    import datetime
    k = web_korpud
    org = k.orgs["clinic"]
    r = k.request("PUT", "/api/v1/organizations/%s/agreement" % org["id"],
                  json_body={"valid_from": days_from_today(-30), "valid_to": days_from_today(365),
                             "areas": ["clinics", "integration", "schools"]}, token=k.staff.admin)
    assert r.status == 200, r.body
    p = make_provider(k, org, area="schools", name=unique("Məktəb"),
                      hours=[daily("09:00", "12:00")],
                      seats=[{"school_year": "2027/2028", "grade": 5, "places": 1}])
    today = datetime.date.today()
    cutoff = datetime.date(today.year if today <= datetime.date(today.year, 9, 1)
                           else today.year + 1, 9, 1)
    children = []
    for _ in range(2):
        c = make_client(k, birth_date=cutoff.replace(year=cutoff.year - 10).isoformat())
        give_consent(k, c, "schools")
        ref = make_referral(k, c, p, fields={"last_grade_completed": 4,
                                             "instruction_language": "az",
                                             "documents_available": True})
        r = k.post("/api/v1/referrals/%s/transition" % ref["id"], json_body={"to": "accepted"},
                   token=k.staff.clinic)
        assert r.status == 200, r.body
        children.append(c["id"])
    journey("school", first=children[0], second=children[1], school_name=p["name"])
