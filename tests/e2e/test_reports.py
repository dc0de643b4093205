"""The summary report (API.md, Reports; issue: web client, supervisor's
report): per area, referrals by status, median days from referral to first
appointment, attendance and no-show rates; JSON and CSV, from counters kept
as the data changes."""
import csv
import io

from casework import (daily, days_from_today, give_consent, make_client, make_org,
                      make_provider, make_referral)
from servers import assert_problem


def test_the_summary_counts_what_happened(make_korpud):
    from conftest import Staff
    k = make_korpud(conf={"regions": ["baku", "ganja"]})
    k.staff = Staff(k)
    org = make_org(k, directory_name="org-clinic", agreement_areas=["clinics"])
    p = make_provider(k, org, area="clinics", hours=[daily("09:00", "12:00")])
    refs, clients = [], []
    for _ in range(3):
        c = make_client(k)
        give_consent(k, c, "clinics")
        clients.append(c)
        refs.append(make_referral(k, c, p))
    appts = []
    for i, days in ((0, 2), (1, 4)):
        assert k.post("/api/v1/referrals/%s/transition" % refs[i]["id"],
                      json_body={"to": "accepted"}, token=k.staff.clinic).status == 200
        d = days_from_today(days)
        start = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (p["id"], d, d),
                      token=k.staff.caseworker).body[0]["start"]
        r = k.post("/api/v1/appointments", json_body={
            "provider_id": p["id"], "client_id": clients[i]["id"], "start": start,
            "referral_id": refs[i]["id"]}, token=k.staff.caseworker)
        assert r.status == 201, r.body
        appts.append(r.body)
    for a, status in zip(appts, ("fulfilled", "noshow")):
        r = k.post("/api/v1/appointments/%s/status" % a["id"], json_body={"status": status},
                   token=k.staff.clinic)
        assert r.status == 200, r.body
    assert k.post("/api/v1/referrals/%s/transition" % refs[2]["id"],
                  json_body={"to": "cancelled"}, token=k.staff.caseworker).status == 200

    q = "/api/v1/reports/summary?from=%s&to=%s" % (days_from_today(0), days_from_today(10))
    r = k.get(q, token=k.staff.supervisor)
    assert r.status == 200, r.body
    assert r.body["from"] == days_from_today(0) and r.body["to"] == days_from_today(10)
    by_area = {a["area"]: a for a in r.body["areas"]}
    assert set(by_area) == {"employment", "schools", "clinics", "housing", "integration"}
    clinics = by_area["clinics"]
    assert clinics["referrals"]["total"] == 3
    status = clinics["referrals"]["by_status"]
    assert (status["completed"], status["no_show"], status["cancelled"], status["sent"],
            status["scheduled"]) == (1, 1, 1, 0, 0)
    # whole days from each referral to its first appointment's start
    import datetime

    def t(x):
        return datetime.datetime.fromisoformat(x.replace("Z", "+00:00"))
    waits = sorted((t(a["start"]) - t(refs[i]["created_at"])).days for i, a in enumerate(appts))
    assert clinics["median_days_to_first_appointment"] == sum(waits) / 2
    assert clinics["appointments"] == {"booked": 2, "fulfilled": 1, "noshow": 1}
    assert clinics["attendance_rate"] == 0.5 and clinics["no_show_rate"] == 0.5
    housing = by_area["housing"]
    assert housing["referrals"]["total"] == 0 and housing["attendance_rate"] is None
    assert housing["median_days_to_first_appointment"] is None

    # the same as CSV
    r = k.get(q, token=k.staff.supervisor, headers={"Accept": "text/csv"})
    assert r.status == 200 and r.header("Content-Type").startswith("text/csv")
    assert "attachment" in r.header("Content-Disposition")
    rows = list(csv.DictReader(io.StringIO(r.raw.decode())))
    row = {x["area"]: x for x in rows}["clinics"]
    assert row["referrals"] == "3" and row["completed"] == "1" and row["no_show"] == "1"
    assert row["attendance_rate"] == "0.500" and row["fulfilled"] == "1"

    # a range before any of it holds nothing
    r = k.get("/api/v1/reports/summary?from=%s&to=%s" % (days_from_today(-40),
                                                          days_from_today(-35)),
              token=k.staff.supervisor)
    assert {a["area"]: a["referrals"]["total"] for a in r.body["areas"]}["clinics"] == 0


def test_the_report_is_the_supervisors_and_checks_its_range(case_korpud):
    k = case_korpud
    assert k.get("/api/v1/reports/summary", token=k.staff.supervisor).status == 200
    for who in ("caseworker", "clinic", "admin"):
        assert_problem(k.get("/api/v1/reports/summary", token=getattr(k.staff, who)), 403)
    for q in ("from=2026-13-01", "from=2027-01-02&to=2027-01-01", "from=2025-01-01&to=2026-06-01",
              "colour=red"):
        assert_problem(k.get("/api/v1/reports/summary?" + q, token=k.staff.supervisor), 400)
