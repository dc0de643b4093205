"""iCalendar downloads (API.md, Appointments): RFC 5545 with the
provider's zone as a VTIMEZONE named by its plain IANA name, stable UIDs,
SEQUENCE bumped by a reschedule, STATUS:CANCELLED after a cancel. Parsed
with an independent parser (Debian's python3-icalendar)."""
import datetime

import icalendar

from casework import days_from_today, give_consent, make_client, make_provider
from servers import assert_problem

EVERY_DAY = [{"days": ["mo", "tu", "we", "th", "fr", "sa", "su"], "open": "09:00",
              "close": "12:00"}]


def slots(k, p, day):
    r = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (p["id"], day, day),
              token=k.staff.caseworker)
    assert r.status == 200, r.body
    return r.body


def book(k, p, start, client=None):
    client = client or make_client(k)
    give_consent(k, client, p["area"])
    r = k.post("/api/v1/appointments", json_body={"provider_id": p["id"],
                                                  "client_id": client["id"], "start": start},
               token=k.staff.caseworker)
    assert r.status == 201, r.body
    return r.body


def ics(k, path, token=None):
    r = k.get(path, token=token or k.staff.caseworker)
    assert r.status == 200, (r.status, r.raw[:300])
    assert r.header("Content-Type").startswith("text/calendar")
    return icalendar.Calendar.from_ical(r.raw), r.raw.decode()


def events(cal):
    return [c for c in cal.walk("VEVENT")]


def test_an_appointment_in_berlin_carries_its_zone(case_korpud):
    k = case_korpud
    p = make_provider(k, k.orgs["clinic"], area="clinics", timezone="Europe/Berlin",
                      hours=EVERY_DAY, address="Alexanderplatz 1, Berlin")
    day = days_from_today(5)
    a = book(k, p, slots(k, p, day)[1]["start"])
    cal, text = ics(k, "/api/v1/appointments/%s.ics" % a["id"])
    assert cal["VERSION"] == "2.0" and cal.get("PRODID")
    tzs = cal.walk("VTIMEZONE")
    assert [str(t["TZID"]) for t in tzs] == ["Europe/Berlin"]
    assert "freeassociation" not in text
    (ev,) = events(cal)
    start = ev.decoded("DTSTART")
    assert ev["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert (start.hour, start.minute) == (9, 30)
    assert start.date().isoformat() == day
    assert ev.decoded("DTEND") - start == datetime.timedelta(minutes=30)
    assert str(ev["UID"]) == a["id"] + "@korpu"
    assert int(ev["SEQUENCE"]) == 0 and str(ev["STATUS"]) == "CONFIRMED"
    assert str(ev["LOCATION"]) == "Alexanderplatz 1, Berlin"
    api_start = datetime.datetime.fromisoformat(a["start"])
    assert (api_start.hour, api_start.minute) == (9, 30)


def test_reschedule_bumps_sequence_and_cancel_marks_cancelled(case_korpud):
    k = case_korpud
    p = make_provider(k, k.orgs["clinic"], area="clinics", hours=EVERY_DAY)
    day = days_from_today(6)
    free = slots(k, p, day)
    a = book(k, p, free[0]["start"])
    r = k.post("/api/v1/appointments/%s/reschedule" % a["id"],
               json_body={"start": free[3]["start"]}, token=k.staff.caseworker)
    assert r.status == 200, r.body
    cal, _ = ics(k, "/api/v1/appointments/%s.ics" % a["id"])
    (ev,) = events(cal)
    assert int(ev["SEQUENCE"]) == 1 and str(ev["UID"]) == a["id"] + "@korpu"
    assert ev.decoded("DTSTART").hour == 10 and ev.decoded("DTSTART").minute == 30
    assert ev["DTSTART"].params["TZID"] == "Asia/Baku"
    r = k.post("/api/v1/appointments/%s/cancel" % a["id"], json_body={"reason": "moved away"},
               token=k.staff.caseworker)
    assert r.status == 200
    cal, _ = ics(k, "/api/v1/appointments/%s.ics" % a["id"])
    (ev,) = events(cal)
    assert str(ev["STATUS"]) == "CANCELLED" and int(ev["SEQUENCE"]) == 2


def test_the_provider_calendar_holds_its_appointments(case_korpud):
    k = case_korpud
    p = make_provider(k, k.orgs["clinic"], area="clinics", hours=EVERY_DAY)
    other = make_provider(k, k.orgs["clinic"], area="clinics", hours=EVERY_DAY)
    day = days_from_today(7)
    free = slots(k, p, day)
    mine = [book(k, p, free[i]["start"])["id"] for i in (0, 2, 4)]
    book(k, other, slots(k, other, day)[0]["start"])
    cal, _ = ics(k, "/api/v1/providers/%s/calendar.ics" % p["id"], token=k.staff.clinic)
    uids = sorted(str(e["UID"]) for e in events(cal))
    assert uids == sorted(i + "@korpu" for i in mine)
    assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["Asia/Baku"]
    # a range that ends before them holds none
    cal, _ = ics(k, "/api/v1/providers/%s/calendar.ics?to=%s" % (p["id"], days_from_today(1)))
    assert events(cal) == []


def test_no_client_names_in_calendars(case_korpud):
    k = case_korpud
    p = make_provider(k, k.orgs["clinic"], area="clinics", hours=EVERY_DAY)
    c = make_client(k, given_name="Zəhra", family_name="Quliyeva")
    a = book(k, p, slots(k, p, days_from_today(8))[0]["start"], client=c)
    _, text = ics(k, "/api/v1/appointments/%s.ics" % a["id"])
    assert "Zəhra" not in text and "Quliyeva" not in text and c["registration_no"] not in text


def test_calendars_follow_the_scoping_rules(case_korpud):
    k = case_korpud
    p = make_provider(k, k.orgs["clinic"], area="clinics", hours=EVERY_DAY)
    a = book(k, p, slots(k, p, days_from_today(9))[0]["start"])
    assert_problem(k.get("/api/v1/appointments/%s.ics" % a["id"], token=k.staff.employment), 404)
    assert_problem(k.get("/api/v1/providers/%s/calendar.ics" % p["id"],
                         token=k.staff.employment), 404)
    assert_problem(k.get("/api/v1/appointments/nonsense.ics", token=k.staff.caseworker), 404)
    assert_problem(k.get("/api/v1/providers/%s/calendar.ics?from=soon" % p["id"],
                         token=k.staff.caseworker), 400)
