"""Reminders (issue: scheduling): configured lead times put a reminder
on the notification stream (korpu:notify:{notify}) exactly once per
appointment, across restarts and instances; a cancel withdraws them and
a reschedule moves them. Due work is a sorted set of jobs per region."""
import time

from casework import daily, days_from_today, give_consent, make_client, make_provider
from servers import RedisClient, wait_for

JOBS = "korpu:{r:baku}:jobs"
NOTIFY = "korpu:notify:{notify}"


def book(k, p, day=3, index=0, client=None):
    client = client or make_client(k)
    give_consent(k, client, "clinics")
    d = days_from_today(day)
    start = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (p["id"], d, d),
                  token=k.staff.caseworker).body[index]["start"]
    r = k.post("/api/v1/appointments", json_body={"provider_id": p["id"],
                                                  "client_id": client["id"], "start": start},
               token=k.staff.caseworker)
    assert r.status == 201, r.body
    return r.body


def jobs_of(k, appt):
    with RedisClient(k.redis_port) as rc:
        got = rc.call("ZRANGE", JOBS, "0", "-1", "WITHSCORES")
    pairs = zip(got[::2], got[1::2])
    return {m.decode(): int(float(s)) for m, s in pairs
            if m.decode().startswith("remind:%s:" % appt["id"])}


def due_now(k, members):
    with RedisClient(k.redis_port) as rc:
        for m in members:
            rc.call("ZADD", JOBS, str(int(time.time() * 1000) - 1000), m)


def reminders_of(k, appt):
    with RedisClient(k.redis_port) as rc:
        entries = rc.call("XRANGE", NOTIFY, "-", "+")
    out = []
    for _, fields in entries:
        f = dict(zip(fields[::2], fields[1::2]))
        if f[b"id"].decode() == appt["id"]:
            out.append({k.decode(): v.decode() for k, v in f.items()})
    return out


def epoch_ms(rfc3339):
    import datetime
    return int(datetime.datetime.fromisoformat(rfc3339).timestamp() * 1000)


def clinic(k):
    return make_provider(k, k.orgs["clinic"], area="clinics", hours=[daily("09:00", "12:00")])


def test_a_booking_sets_one_job_per_lead_time(case_korpud):
    k = case_korpud
    a = book(k, clinic(k))
    start = epoch_ms(a["start"])
    assert sorted(jobs_of(k, a).values()) == [start - 86400000, start - 7200000]


def test_a_due_reminder_is_sent_once_to_the_notification_stream(case_korpud):
    k = case_korpud
    a = book(k, clinic(k))
    due_now(k, jobs_of(k, a))
    wait_for(lambda: len(reminders_of(k, a)) == 2 or None, 5.0, what="two reminders")
    time.sleep(1.2)                       # more ticks change nothing
    got = reminders_of(k, a)
    assert len(got) == 2 and jobs_of(k, a) == {}
    assert {g["type"] for g in got} == {"appointment.reminder"}
    assert got[0]["area"] == "clinics" and got[0]["provider_id"] == a["provider_id"]
    assert "stream" not in got[0] and "client" not in " ".join(got[0])


def test_cancel_withdraws_and_reschedule_moves_the_reminders(case_korpud):
    k = case_korpud
    p = clinic(k)
    a = book(k, p)
    r = k.post("/api/v1/appointments/%s/cancel" % a["id"], json_body={"reason": "no longer"},
               token=k.staff.caseworker)
    assert r.status == 200 and jobs_of(k, a) == {}
    b = book(k, p, index=1)
    d = days_from_today(4)
    later = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (p["id"], d, d),
                  token=k.staff.caseworker).body[2]["start"]
    r = k.post("/api/v1/appointments/%s/reschedule" % b["id"], json_body={"start": later},
               token=k.staff.caseworker)
    assert r.status == 200, r.body
    assert sorted(jobs_of(k, b).values()) == [epoch_ms(later) - 86400000,
                                             epoch_ms(later) - 7200000]


def test_a_stale_reminder_of_a_moved_appointment_sends_nothing(case_korpud):
    """A job left for an old start (as if a reschedule raced it) is dropped."""
    k = case_korpud
    a = book(k, clinic(k))
    stale = "remind:%s:%d:%d" % (a["id"], epoch_ms(a["start"]) - 3600000, 7200000)
    due_now(k, [stale])
    wait_for(lambda: stale not in jobs_of(k, a) or None, 5.0, what="the stale job to go")
    assert reminders_of(k, a) == []


def test_no_reminder_for_a_lead_time_already_past(case_korpud):
    k = case_korpud
    p = make_provider(k, k.orgs["clinic"], area="clinics",
                      hours=[daily("00:00", "24:00")], slot_minutes=60)
    d = days_from_today(0), days_from_today(1)
    slots = k.get("/api/v1/providers/%s/slots?from=%s&to=%s" % (p["id"], d[0], d[1]),
                  token=k.staff.caseworker).body
    soon = [s for s in slots if epoch_ms(s["start"]) - time.time() * 1000 > 3 * 3600000][0]
    c = make_client(k)
    give_consent(k, c, "clinics")
    r = k.post("/api/v1/appointments", json_body={"provider_id": p["id"], "client_id": c["id"],
                                                  "start": soon["start"]},
               token=k.staff.caseworker)
    assert r.status == 201
    leads = sorted(epoch_ms(r.body["start"]) - v for v in jobs_of(k, r.body).values())
    assert 7200000 in leads
    assert (86400000 in leads) == (epoch_ms(soon["start"]) - time.time() * 1000 > 86400000)


def test_reminders_fire_once_across_a_restart_with_two_instances(make_korpud):
    import casework
    from conftest import Staff
    k = make_korpud(name="first", conf={"regions": ["baku", "ganja"],
                                        "appointments": {"reminders": ["24h", "2h", "30m"]}})
    k.staff = Staff(k)
    k.orgs = {"clinic": casework.make_org(k, directory_name="org-clinic",
                                          agreement_areas=["clinics"])}
    a = book(k, clinic(k))
    assert len(jobs_of(k, a)) == 3
    k.stop()
    due_now(k, jobs_of(k, a))
    conf = {"regions": ["baku", "ganja"], "appointments": {"reminders": ["24h", "2h", "30m"]}}
    for name in ("a", "b"):
        make_korpud(name=name, conf=conf)
    wait_for(lambda: len(reminders_of(k, a)) >= 3 or None, 10.0, what="three reminders")
    time.sleep(1.5)
    assert len(reminders_of(k, a)) == 3 and jobs_of(k, a) == {}


def test_a_bad_lead_time_is_a_config_error(make_korpud):
    from servers import run_korpud
    k = make_korpud(start=False, conf={"appointments": {"reminders": ["24h", "soon"]}})
    p = run_korpud(["-t", "-c", str(k.write_config())])
    assert p.returncode == 1
    assert "appointments.reminders" in p.stderr and "soon" in p.stderr, p.stderr
