"""casework.py - building blocks for the case-work tests: organizations
with agreements, providers, clients, referrals, made over HTTP as an
admin or a caseworker would. Each returns the created object (the 201
body) and fails the test on any other answer."""
import datetime
import itertools
import os

_seq = itertools.count(1)


def unique(prefix):
    """A name no other call returns in this test run."""
    return "%s %d-%d" % (prefix, os.getpid(), next(_seq))


def today():
    return datetime.date.today().isoformat()


def days_from_today(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def created(r, what):
    assert r.status == 201, "%s: %s %r" % (what, r.status, r.body)
    return r.body


def make_org(k, name=None, kind="ngo", region="baku", directory_name=None,
             agreement_areas=None):
    body = {"name": name or unique("Org"), "kind": kind, "region": region}
    if directory_name:
        body["directory_name"] = directory_name
    org = created(k.post("/api/v1/organizations", json_body=body, token=k.staff.admin),
                  "organization")
    if agreement_areas:
        r = k.request("PUT", "/api/v1/organizations/%s/agreement" % org["id"],
                      json_body={"valid_from": days_from_today(-30),
                                 "valid_to": days_from_today(365),
                                 "areas": list(agreement_areas)},
                      token=k.staff.admin)
        assert r.status == 200, (r.status, r.body)
        org = r.body
    return org


WEEKDAYS = {"days": ["mo", "tu", "we", "th", "fr"], "open": "09:00", "close": "13:00"}


def provider_body(org, area="clinics", region="baku", **kw):
    body = {"name": unique("Provider"), "area": area, "organization": org["id"],
            "region": region, "address": "Nizami küç. 1", "languages": ["az", "ru"],
            "timezone": "Asia/Baku", "slot_minutes": 30, "capacity": 1,
            "hours": [WEEKDAYS], "closed": []}
    body.update(kw)
    return body


def make_provider(k, org, area="clinics", region="baku", **kw):
    return created(k.post("/api/v1/providers", json_body=provider_body(org, area, region, **kw),
                          token=k.staff.admin), "provider")


def client_body(region="baku", **kw):
    body = {"registration_no": "AZ-%d-%d" % (os.getpid(), next(_seq)),
            "given_name": "Ayşə", "family_name": "Məmmədova", "birth_date": "1990-04-12",
            "sex": "female", "languages": ["az", "ru"], "needs_interpreter": False,
            "phone": "+994 50 123 45 67", "region": region, "vulnerabilities": []}
    body.update(kw)
    return body


def make_client(k, region="baku", token=None, **kw):
    return created(k.post("/api/v1/clients", json_body=client_body(region, **kw),
                          token=token or k.staff.caseworker), "client")


def give_consent(k, client, area, service=True, share=True):
    r = k.request("PUT", "/api/v1/clients/%s/consent/%s" % (client["id"], area),
                  json_body={"service": service, "share": share}, token=k.staff.caseworker)
    assert r.status == 200, (r.status, r.body)
    return r.body


# Valid referral fields per area (each plugin's field table).
REFERRAL_FIELDS = {
    "clinics": {"urgency": "routine", "service_category": "general_practice",
                "reason": "Persistent cough for three weeks"},
    "employment": {"work_permit_status": "holds_permit", "education_level": "vocational"},
    "housing": {"household_size": 3, "shelter_type": "collective_centre"},
    "schools": {"last_grade_completed": 4, "instruction_language": "az",
                "documents_available": True},
    "integration": {"course_type": "language", "current_level": "A1",
                    "preferred_schedule": "evening"},
}


def referral_body(client, provider=None, area=None, fields=None, **kw):
    """A valid referral of client (to provider, whose area it takes,
    or routed when provider is None)."""
    area = area or (provider["area"] if provider else "clinics")
    body = {"client_id": client["id"], "area": area, "priority": "routine",
            "reason": "Needs to be seen",
            "fields": dict(REFERRAL_FIELDS[area] if fields is None else fields)}
    if provider is not None:
        body["provider_id"] = provider["id"]
    body.update(kw)
    return body


def make_referral(k, client, provider=None, area=None, fields=None, token=None, **kw):
    """POST /api/v1/referrals as the caseworker; the 201 body."""
    return created(k.post("/api/v1/referrals",
                          json_body=referral_body(client, provider, area, fields, **kw),
                          token=token or k.staff.caseworker), "referral")


# ---- scheduling ------------------------------------------------------------

EVERY_DAY = ["mo", "tu", "we", "th", "fr", "sa", "su"]


def daily(open_="09:00", close="13:00"):
    """One opening rule, every day of the week (tests never depend on
    the weekday)."""
    return {"days": list(EVERY_DAY), "open": open_, "close": close}


def interpreter_body(languages=("ar",), region="baku", **kw):
    body = {"name": unique("Interpreter"), "languages": list(languages), "region": region,
            "hours": [daily("00:00", "24:00")]}
    body.update(kw)
    return body


def make_interpreter(k, languages=("ar",), region="baku", **kw):
    """POST /api/v1/interpreters as the admin (on duty all day, every day,
    unless hours= says otherwise); the 201 body."""
    return created(k.post("/api/v1/interpreters",
                          json_body=interpreter_body(languages, region, **kw),
                          token=k.staff.admin), "interpreter")


def make_clients(k, n, areas=("clinics",), region="baku", workers=8, **kw):
    """n clients of region, each consenting to service and sharing for
    areas; made by a few threads at once (for the concurrency tests)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(_):
        c = make_client(k, region=region, **kw)
        for area in areas:
            give_consent(k, c, area)
        return c
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(n)))
