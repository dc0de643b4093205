"""Referrals over HTTP (API.md, Referrals; Events for partner systems): a
caseworker refers a client who consented to the area, to a provider whose
organization has a data-sharing agreement valid today for it; the area's
field table checks the form; without a provider, routing picks the least
loaded eligible one in the client's region. Only the legal moves of the
state machine land, each by the right role, each recorded in the history
and told to partners as an event without personal data; korpud itself
expires a referral left unanswered past its deadline, once, whatever
restarts or how many instances."""
import datetime
import json
import socket
import time
import types

import pytest

from casework import (REFERRAL_FIELDS, days_from_today, give_consent, make_client, make_org,
                      make_provider, make_referral, referral_body, unique)
from conftest import CASE_REGIONS, UNTHROTTLED
from servers import (RedisClient, assert_problem, parse_raw_response, read_until_close,
                     wait_for)

REFERRALS = "/api/v1/referrals"
STATES = ["sent", "accepted", "declined", "scheduled", "completed", "no_show", "cancelled",
          "expired"]
# Every move a person may make: (from, to) -> who makes it here.
LEGAL = {
    ("sent", "accepted"): "clinic",
    ("sent", "declined"): "clinic",
    ("sent", "cancelled"): "caseworker",
    ("accepted", "scheduled"): "clinic",
    ("accepted", "cancelled"): "caseworker",
    ("scheduled", "completed"): "clinic",
    ("scheduled", "no_show"): "clinic",
    ("scheduled", "cancelled"): "caseworker",
}
# How each state is reached from sent, by legal moves ("expired": korpud's).
PATHS = {
    "sent": [], "accepted": ["accepted"], "declined": ["declined"],
    "scheduled": ["accepted", "scheduled"], "completed": ["accepted", "scheduled", "completed"],
    "no_show": ["accepted", "scheduled", "no_show"], "cancelled": ["cancelled"],
    "expired": ["expired"],
}
UIDS = {"caseworker": "lmammadova", "caseworker2": "raliyev", "clinic": "arzayeva",
        "employment": "thasanov", "housing": "kabbasov", "admin": "equliyev",
        "supervisor": "nhuseynova"}
# What a provider's staff see of a client (client-view.c): the base, and
# per area a few more members.
PROVIDER_BASE = {"id", "given_name", "family_name", "birth_date", "sex", "languages",
                 "needs_interpreter", "household_id", "region"}


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def now_ms():
    return int(time.time() * 1000)


def get(k, ref, who="caseworker"):
    return k.get("%s/%s" % (REFERRALS, ref["id"]), token=getattr(k.staff, who))


def read(k, ref):
    r = get(k, ref)
    assert r.status == 200, (r.status, r.body)
    return r.body


def move(k, ref, to, who, note=None):
    body = {"to": to}
    if note is not None:
        body["note"] = note
    return k.post("%s/%s/transition" % (REFERRALS, ref["id"]), json_body=body,
                  token=getattr(k.staff, who))


def moved(k, ref, to, who=None, note=None):
    who = who or LEGAL[(ref["status"], to)]
    if to == "declined" and note is None:
        note = "No capacity this month"
    r = move(k, ref, to, who, note)
    assert r.status == 200, (ref["status"], to, who, r.status, r.body)
    assert r.body["status"] == to
    return r.body


def expire(k, ref):
    """Moves ref's answer deadline into the past and waits for korpud to
    expire it."""
    with RedisClient(k.redis_port) as rc:
        rc.call("ZADD", "korpu:{r:%s}:deadlines" % ref["region"], now_ms() - 60000, ref["id"])
    return wait_for(lambda: (lambda b: b if b["status"] == "expired" else None)(read(k, ref)),
                    6.0, interval=0.1, what="%s to expire" % ref["id"])


def reach(k, ref, state):
    """ref, moved by legal moves (or expiry) into state."""
    for to in PATHS[state]:
        ref = expire(k, ref) if to == "expired" else moved(k, ref, to)
    assert ref["status"] == state
    return ref


def list_all(k, query, who="caseworker", limit=500):
    """Every referral GET /referrals?query lists, page by page."""
    ids, cursor = [], None
    for _ in range(200):
        q = "%s?limit=%d%s%s" % (REFERRALS, limit, "&" + query if query else "",
                                 "&cursor=" + cursor if cursor else "")
        r = k.get(q, token=getattr(k.staff, who))
        assert r.status == 200, (q, r.status, r.body)
        assert len(r.body["items"]) <= limit
        ids += [x["id"] for x in r.body["items"]]
        cursor = r.body["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the list did not end")


def events(k, area, ref_id=None):
    """Entries of korpu:events:{area} (for ref_id only, when given), each a
    dict of its fields plus "_entry", the stream entry id."""
    with RedisClient(k.redis_port) as rc:
        entries = rc.call("XRANGE", "korpu:events:{%s}" % area, "-", "+")
    out = []
    for entry_id, flat in entries or []:
        d = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
        d["_entry"] = entry_id.decode()
        if ref_id is None or d.get("id") == ref_id:
            out.append(d)
    return out


def event_types(k, area, ref_id):
    return [e["type"] for e in events(k, area, ref_id)]


def wait_events(k, area, ref_id, want, timeout=5.0):
    """Waits until ref_id's events in area's stream are exactly want."""
    try:
        wait_for(lambda: event_types(k, area, ref_id) == want, timeout, interval=0.05,
                 what="events %s of %s" % (want, ref_id))
    except AssertionError:
        raise AssertionError("events of %s: %r, wanted %r"
                             % (ref_id, event_types(k, area, ref_id), want))
    return events(k, area, ref_id)


def rcall(k, *args):
    with RedisClient(k.redis_port) as rc:
        return rc.call(*args)


def outbox_len(k, region="baku"):
    return rcall(k, "XLEN", "korpu:{r:%s}:outbox" % region)


def stream_len(k, area):
    return rcall(k, "XLEN", "korpu:events:{%s}" % area)


def load_of(k, provider):
    v = rcall(k, "ZSCORE", "korpu:{r:%s}:load:%s" % (provider["region"], provider["area"]),
              provider["id"])
    return None if v is None else float(v)


def consenting_client(k, areas=("clinics",), region="baku", **kw):
    client = make_client(k, region=region, **kw)
    for area in areas:
        give_consent(k, client, area)
    return client


def clinic(k, region="baku"):
    """A provider of the demo clinic staff's organization."""
    return make_provider(k, k.orgs["clinic"], area="clinics", region=region)


def set_agreement(k, org, valid_from, valid_to, areas):
    r = k.request("PUT", "/api/v1/organizations/%s/agreement" % org["id"],
                  json_body={"valid_from": valid_from, "valid_to": valid_to,
                             "areas": list(areas)}, token=k.staff.admin)
    assert r.status == 200, (r.status, r.body)
    return r.body


# ---- making a referral -----------------------------------------------------

def test_a_referral_is_created_sent_with_its_first_history_entry(case_korpud):
    k = case_korpud
    provider = clinic(k)
    client = consenting_client(k)
    body = referral_body(client, provider, priority="urgent", reason="Tibbi müayinə lazımdır")
    before = now_utc()
    r = k.post(REFERRALS, json_body=body, token=k.staff.caseworker)
    assert r.status == 201, r.body
    ref = r.body
    assert ref["status"] == "sent" and ref["id"].endswith(".baku") and ref["region"] == "baku"
    assert ref["client_id"] == client["id"] and ref["area"] == "clinics"
    assert ref["provider_id"] == provider["id"]
    assert ref["organization"] == k.orgs["clinic"]["id"] == provider["organization"]
    assert ref["priority"] == "urgent" and ref["reason"] == "Tibbi müayinə lazımdır"
    assert ref["fields"] == REFERRAL_FIELDS["clinics"]
    assert ref["created_by"] == UIDS["caseworker"]
    assert ref["history"] == [{"from": None, "to": "sent", "at": ref["created_at"],
                               "actor": UIDS["caseworker"], "note": None}]
    created = parse_time(ref["created_at"])
    deadline = parse_time(ref["deadline_at"])
    assert before - datetime.timedelta(seconds=2) <= created <= now_utc()
    assert deadline > now_utc()
    # plugins.d/clinics.conf: answer_deadline_hours = 24
    assert deadline - created == datetime.timedelta(hours=24)
    assert load_of(k, provider) == 1
    # the caseworker (and a supervisor) read it back with the whole client record
    full_client = k.get("/api/v1/clients/%s" % client["id"], token=k.staff.caseworker).body
    for who in ("caseworker", "caseworker2", "supervisor"):
        got = get(k, ref, who)
        assert got.status == 200, got.body
        assert got.body.pop("client") == full_client
        assert got.body == ref


def test_an_area_without_its_own_deadline_uses_the_referrals_default(case_korpud):
    k = case_korpud
    provider = make_provider(k, k.orgs["housing"], area="housing")
    client = consenting_client(k, areas=["housing"])
    ref = make_referral(k, client, provider)
    assert ref["organization"] == k.orgs["housing"]["id"]
    # housing.conf sets no answer_deadline_hours: referrals.answer_deadline_hours (72)
    assert (parse_time(ref["deadline_at"]) - parse_time(ref["created_at"])
            == datetime.timedelta(hours=72))


@pytest.mark.parametrize("area,staff,org,extra", [
    ("clinics", "clinic", "clinic", {"phone", "vulnerabilities"}),
    ("housing", "housing", "housing", {"phone", "vulnerabilities"}),
    ("employment", "employment", "employment", {"phone"}),
    ("schools", "clinic", "clinic", set()),
    ("integration", "clinic", "clinic", {"phone"}),
])
def test_a_providers_staff_see_only_what_their_area_needs_of_the_client(
        case_korpud, area, staff, org, extra):
    k = case_korpud
    if area in ("schools", "integration"):
        # the demo clinic staff's organization also runs these services here
        set_agreement(k, k.orgs["clinic"], days_from_today(-30), days_from_today(365),
                      ["clinics", "schools", "integration"])
    provider = make_provider(k, k.orgs[org], area=area)
    school_age = {"birth_date": "2015-05-01"} if area == "schools" else {}
    client = consenting_client(k, areas=[area], vulnerabilities=["single_parent"], **school_age)
    ref = make_referral(k, client, provider)
    r = get(k, ref, staff)
    assert r.status == 200, r.body
    seen = r.body.pop("client")
    assert set(seen) == PROVIDER_BASE | extra, sorted(seen)
    full = k.get("/api/v1/clients/%s" % client["id"], token=k.staff.caseworker).body
    assert seen == {member: full[member] for member in PROVIDER_BASE | extra}
    for hidden in ("registration_no", "consent", "phone" if not extra else "created_by",
                   "created_by"):
        assert hidden not in seen
    assert r.body == ref
    # the caseworker's view of the same referral is the whole record
    assert "registration_no" in get(k, ref).body["client"]


def test_another_organizations_staff_neither_see_nor_move_a_referral(case_korpud):
    k = case_korpud
    provider = clinic(k)
    client = consenting_client(k)
    ref = make_referral(k, client, provider)
    for who in ("employment", "housing"):
        assert_problem(get(k, ref, who), 404)
        for to, note in (("accepted", None), ("declined", "no"), ("cancelled", None)):
            assert_problem(move(k, ref, to, who, note), 404)
        assert ref["id"] not in list_all(k, "", who)
        assert list_all(k, "client_id=" + client["id"], who) == []
        assert list_all(k, "provider_id=" + provider["id"], who) == []
    after = read(k, ref)
    assert after["status"] == "sent" and len(after["history"]) == 1
    # the organization's own staff do see it
    assert get(k, ref, "clinic").status == 200
    assert list_all(k, "client_id=" + client["id"], "clinic") == [ref["id"]]


@pytest.mark.parametrize("who", ["clinic", "supervisor", "admin"])
def test_only_a_caseworker_makes_referrals(case_korpud, who):
    k = case_korpud
    client = consenting_client(k)
    r = k.post(REFERRALS, json_body=referral_body(client, clinic(k)),
               token=getattr(k.staff, who))
    assert_problem(r, 403)
    assert list_all(k, "client_id=" + client["id"]) == []


def test_unknown_referrals_are_404(case_korpud):
    k = case_korpud
    for rid in ("0000000000zzzzzzzz.baku", "0000000000zzzzzzzz.mars", "nonsense"):
        assert_problem(k.get("%s/%s" % (REFERRALS, rid), token=k.staff.caseworker), 404)
        assert_problem(k.post("%s/%s/transition" % (REFERRALS, rid),
                              json_body={"to": "cancelled"}, token=k.staff.caseworker), 404)


# ---- consent, validation ---------------------------------------------------

@pytest.mark.parametrize("consents,fields", [
    ({}, {"consent.service", "consent.share"}),
    ({"clinics": (True, False)}, {"consent.share"}),
    ({"clinics": (False, True)}, {"consent.service"}),
    ({"clinics": (False, False)}, {"consent.service", "consent.share"}),
    ({"housing": (True, True)}, {"consent.service", "consent.share"}),
])
def test_without_consent_to_service_and_sharing_there_is_no_referral(case_korpud, consents,
                                                                     fields):
    k = case_korpud
    client = make_client(k)
    for area, (service, share) in consents.items():
        give_consent(k, client, area, service=service, share=share)
    r = k.post(REFERRALS, json_body=referral_body(client, clinic(k)), token=k.staff.caseworker)
    assert_problem(r, 422)
    assert {e["field"] for e in r.body["errors"]} == fields, r.body
    assert list_all(k, "client_id=" + client["id"]) == []


def test_consent_withdrawn_stops_the_next_referral(case_korpud):
    k = case_korpud
    provider = clinic(k)
    client = consenting_client(k)
    make_referral(k, client, provider)
    give_consent(k, client, "clinics", service=True, share=False)
    r = k.post(REFERRALS, json_body=referral_body(client, provider), token=k.staff.caseworker)
    assert_problem(r, 422)
    assert [e["field"] for e in r.body["errors"]] == ["consent.share"]
    assert len(list_all(k, "client_id=" + client["id"])) == 1


def without(d, key):
    d = dict(d)
    d.pop(key)
    return d


CLINIC_FIELDS = REFERRAL_FIELDS["clinics"]


@pytest.mark.parametrize("area,change,field", [
    ("clinics", {"area": "astrology"}, "area"),
    ("clinics", {"area": 7}, "area"),
    ("clinics", {"reason": None}, "reason"),
    ("clinics", {"reason": "   "}, "reason"),
    ("clinics", {"reason": "x" * 2001}, "reason"),
    ("clinics", {"priority": "whenever"}, "priority"),
    ("clinics", {"colour": "red"}, "colour"),
    ("clinics", {"fields": []}, "fields"),
    ("clinics", {"fields": without(CLINIC_FIELDS, "urgency")}, "fields.urgency"),
    ("clinics", {"fields": without(CLINIC_FIELDS, "reason")}, "fields.reason"),
    ("clinics", {"fields": dict(CLINIC_FIELDS, reason="")}, "fields.reason"),
    ("clinics", {"fields": dict(CLINIC_FIELDS, reason="x" * 301)}, "fields.reason"),
    ("clinics", {"fields": dict(CLINIC_FIELDS, service_category="cardiology")},
     "fields.service_category"),
    ("clinics", {"fields": dict(CLINIC_FIELDS, urgency=1)}, "fields.urgency"),
    ("clinics", {"fields": dict(CLINIC_FIELDS, colour="red")}, "fields.colour"),
    ("clinics", {"fields": None}, "fields.urgency"),
    ("housing", {"fields": dict(REFERRAL_FIELDS["housing"], household_size=0)},
     "fields.household_size"),
    ("housing", {"fields": dict(REFERRAL_FIELDS["housing"], household_size="3")},
     "fields.household_size"),
    ("housing", {"fields": dict(REFERRAL_FIELDS["housing"], accessibility_needs="yes")},
     "fields.accessibility_needs"),
    ("schools", {"fields": dict(REFERRAL_FIELDS["schools"], last_grade_completed=13)},
     "fields.last_grade_completed"),
    ("schools", {"fields": without(REFERRAL_FIELDS["schools"], "documents_available")},
     "fields.documents_available"),
    ("employment", {"fields": dict(REFERRAL_FIELDS["employment"], available_from="2026-02-30")},
     "fields.available_from"),
    ("employment", {"fields": dict(REFERRAL_FIELDS["employment"], work_permit_status="maybe")},
     "fields.work_permit_status"),
    ("integration", {"fields": dict(REFERRAL_FIELDS["integration"], current_level="C2")},
     "fields.current_level"),
])
def test_a_bad_referral_is_422_naming_the_field(case_korpud, area, change, field):
    k = case_korpud
    client = consenting_client(k, areas=[area])
    body = referral_body(client, area=area)
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    r = k.post(REFERRALS, json_body=body, token=k.staff.caseworker)
    assert_problem(r, 422)
    named = [e["field"] for e in r.body["errors"]]
    assert field in named and len(named) == len(set(named)), r.body
    assert list_all(k, "client_id=" + client["id"]) == []


def test_every_problem_of_the_form_is_reported_at_once(case_korpud):
    k = case_korpud
    client = consenting_client(k)
    body = referral_body(client, fields={"urgency": "someday", "colour": "red"})
    del body["reason"]
    r = k.post(REFERRALS, json_body=body, token=k.staff.caseworker)
    assert_problem(r, 422)
    assert {e["field"] for e in r.body["errors"]} >= {
        "reason", "fields.urgency", "fields.service_category", "fields.reason", "fields.colour"}


def test_a_client_id_that_is_not_a_client_is_422(case_korpud):
    k = case_korpud
    provider = clinic(k)
    for cid in ("nonsense", "0000000000zzzzzzzz.baku", "0000000000zzzzzzzz.mars",
                provider["id"], k.orgs["clinic"]["id"]):
        r = k.post(REFERRALS, json_body=referral_body({"id": cid}, provider),
                   token=k.staff.caseworker)
        assert_problem(r, 422)
        assert [e["field"] for e in r.body["errors"]] == ["client_id"], (cid, r.body)


def test_the_provider_must_take_the_area_in_the_clients_region(case_korpud):
    k = case_korpud
    client = consenting_client(k, areas=["clinics", "housing"])
    other_area = make_provider(k, k.orgs["housing"], area="housing")
    other_region = clinic(k, region="ganja")
    for provider_id in (other_area["id"], other_region["id"], "0000000000zzzzzzzz.baku",
                        "0000000000zzzzzzzz.mars", "nonsense"):
        body = referral_body(client, area="clinics", provider_id=provider_id)
        r = k.post(REFERRALS, json_body=body, token=k.staff.caseworker)
        assert_problem(r, 422)
        assert [e["field"] for e in r.body["errors"]] == ["provider_id"], (provider_id, r.body)
    # a client of ganja is not referred to baku either
    ganja_client = consenting_client(k, region="ganja")
    r = k.post(REFERRALS, json_body=referral_body(ganja_client, clinic(k)),
               token=k.staff.caseworker)
    assert_problem(r, 422)
    assert [e["field"] for e in r.body["errors"]] == ["provider_id"]
    assert list_all(k, "client_id=" + client["id"]) == []
    assert list_all(k, "client_id=" + ganja_client["id"]) == []
    assert load_of(k, other_region) == 0


# ---- the data-sharing agreement --------------------------------------------

def agreement_none(k, org):
    pass


def agreement_expired(k, org):
    set_agreement(k, org, days_from_today(-400), days_from_today(-2), ["clinics"])


def agreement_not_yet(k, org):
    set_agreement(k, org, days_from_today(2), days_from_today(400), ["clinics"])


def agreement_other_area(k, org):
    set_agreement(k, org, days_from_today(-30), days_from_today(365), ["housing", "schools"])


def quiet(k):
    """Waits until nothing is on its way to partners; returns the sizes
    that a change would grow."""
    wait_for(lambda: outbox_len(k, "baku") == 0 and outbox_len(k, "ganja") == 0, 5.0,
             interval=0.05, what="the outboxes to drain")
    return {"stream": stream_len(k, "clinics"),
            "referrals": rcall(k, "ZCARD", "korpu:{r:baku}:referrals"),
            "deadlines": rcall(k, "ZCARD", "korpu:{r:baku}:deadlines")}


@pytest.mark.parametrize("agreement,why", [
    (agreement_none, "has no data-sharing agreement"),
    (agreement_expired, "no data-sharing agreement valid today"),
    (agreement_not_yet, "no data-sharing agreement valid today"),
    (agreement_other_area, "does not cover this area"),
])
def test_no_referral_goes_to_an_organization_without_an_agreement(case_korpud, agreement, why):
    k = case_korpud
    org = make_org(k)
    agreement(k, org)
    provider = make_provider(k, org)
    client = consenting_client(k)
    before = quiet(k)
    r = k.post(REFERRALS, json_body=referral_body(client, provider), token=k.staff.caseworker)
    assert_problem(r, 409)
    assert why in r.body["detail"], r.body
    time.sleep(0.4)         # longer than a relay tick: a queued event would show
    assert quiet(k) == before
    assert list_all(k, "client_id=" + client["id"]) == []
    assert rcall(k, "ZCARD", "korpu:{r:baku}:referrals:client:%s" % client["id"]) == 0
    assert load_of(k, provider) == 0
    assert not [e for e in events(k, "clinics") if e["provider_id"] == provider["id"]]


# ---- routing ---------------------------------------------------------------

@pytest.fixture
def fresh(make_korpud):
    """A korpud of its own (regions baku and ganja), so that routing sees
    only the providers the test makes; staff signed in as on case_korpud."""
    k = make_korpud(conf={"regions": CASE_REGIONS, "sessions": UNTHROTTLED})
    k.staff = types.SimpleNamespace(**{who: k.sign_in(uid) for who, uid in UIDS.items()
                                       if who in ("admin", "caseworker", "clinic")})
    return k


def routed(k, client, area="clinics"):
    r = k.post(REFERRALS, json_body=referral_body(client, area=area), token=k.staff.caseworker)
    assert r.status == 201, r.body
    return r.body


def ineligible_providers(k, area="clinics", region="baku"):
    """Providers of the area and region whose organizations may not get
    referrals of it (none, expired, future, another area's agreement)."""
    made = []
    for agreement in (agreement_none, agreement_expired, agreement_not_yet,
                      agreement_other_area):
        org = make_org(k)
        agreement(k, org)
        made.append(make_provider(k, org, area=area, region=region))
    return made


def test_routing_picks_the_least_loaded_provider_with_an_agreement(fresh):
    k = fresh
    # ineligible ones first: with no load they would sort before the others
    bad = ineligible_providers(k)
    bad_ganja = ineligible_providers(k, region="ganja")
    ok_org = make_org(k, directory_name="org-clinic", agreement_areas=["clinics"])
    a = make_provider(k, ok_org)
    b = make_provider(k, make_org(k, agreement_areas=["clinics"]))
    ganja_ok = make_provider(k, ok_org, region="ganja")
    elsewhere = make_provider(k, ok_org, area="housing")
    client = consenting_client(k)
    a1, a2 = make_referral(k, client, a), make_referral(k, client, a)
    # a holds 2 open referrals, b none: b gets the next two
    r1, r2 = routed(k, client), routed(k, client)
    assert r1["provider_id"] == r2["provider_id"] == b["id"]
    assert r1["organization"] == b["organization"]
    # a declines one (a: 1, b: 2): a gets the next
    moved(k, a1, "declined", "clinic")
    r3 = routed(k, client)
    assert r3["provider_id"] == a["id"] and r3["organization"] == ok_org["id"]
    # (a: 2, b: 2) the caseworker cancels one of b's: b gets the next
    moved(k, r1, "cancelled", "caseworker")
    assert routed(k, client)["provider_id"] == b["id"]
    # completing closes a referral too
    for to in ("accepted", "scheduled", "completed"):
        a2 = moved(k, a2, to)
    moved(k, r3, "cancelled", "caseworker")
    assert load_of(k, a) == 0 and load_of(k, b) == 2
    assert routed(k, client)["provider_id"] == a["id"]
    for p in bad + [ganja_ok, elsewhere]:
        assert load_of(k, p) == 0
        assert list_all(k, "provider_id=" + p["id"]) == []
    # a client of ganja goes to the provider of ganja
    ganja_client = consenting_client(k, region="ganja")
    r = routed(k, ganja_client)
    assert r["provider_id"] == ganja_ok["id"] and r["region"] == "ganja"
    assert all(load_of(k, p) == 0 for p in bad_ganja)


def test_routing_without_an_eligible_provider_is_409_and_queues_nothing(fresh):
    k = fresh
    ineligible_providers(k)
    make_provider(k, make_org(k, agreement_areas=["clinics"]), region="ganja")
    make_provider(k, make_org(k, agreement_areas=["clinics", "housing"]), area="housing")
    client = consenting_client(k, areas=["clinics", "integration"])
    for area in ("clinics", "integration"):     # integration: no provider at all
        r = k.post(REFERRALS, json_body=referral_body(client, area=area),
                   token=k.staff.caseworker)
        assert_problem(r, 409)
        assert "agreement" in r.body["detail"], r.body
    time.sleep(0.4)
    assert list_all(k, "") == []
    assert outbox_len(k) == 0 and stream_len(k, "clinics") == 0
    assert rcall(k, "ZCARD", "korpu:{r:baku}:deadlines") == 0


def test_routing_looks_past_many_providers_without_an_agreement(fresh):
    """More ineligible providers than routing reads in one go (20), all
    less loaded than the one eligible provider: it is still found."""
    k = fresh
    org = make_org(k)
    for _ in range(25):
        make_provider(k, org)
    good = make_provider(k, make_org(k, agreement_areas=["clinics"]))
    client = consenting_client(k)
    for n in range(2):
        r = routed(k, client)
        assert r["provider_id"] == good["id"]
    assert load_of(k, good) == 2


# ---- the state machine -----------------------------------------------------

LEGAL_BY = sorted((f, t, who) for (f, t), who in LEGAL.items()) + [
    ("accepted", "scheduled", "caseworker")]


@pytest.mark.parametrize("frm,to,who", LEGAL_BY, ids=["%s-%s-%s" % m for m in LEGAL_BY])
def test_every_legal_move_by_the_right_role_succeeds(case_korpud, frm, to, who):
    k = case_korpud
    provider = clinic(k)
    ref = reach(k, make_referral(k, consenting_client(k), provider), frm)
    note = "Seen by Dr. Əliyeva" if to != "declined" else "Bu ay yer yoxdur"
    before = now_utc()
    r = move(k, ref, to, who, note)
    assert r.status == 200, r.body
    after = r.body
    assert after["status"] == to and after["id"] == ref["id"]
    assert after["history"][:-1] == ref["history"]
    last = after["history"][-1]
    assert {key: last[key] for key in ("from", "to", "actor", "note")} == {
        "from": frm, "to": to, "actor": UIDS[who], "note": note}
    assert before - datetime.timedelta(seconds=2) <= parse_time(last["at"]) <= now_utc()
    assert after["updated_at"] == last["at"]
    got = read(k, ref)
    got.pop("client")
    assert got == after
    open_after = to in ("accepted", "scheduled")
    assert load_of(k, provider) == (1 if open_after else 0)


@pytest.mark.parametrize("note", [None, "", "  \n\t"])
def test_a_decline_says_why(case_korpud, note):
    k = case_korpud
    ref = make_referral(k, consenting_client(k), clinic(k))
    body = {"to": "declined"} if note is None else {"to": "declined", "note": note}
    r = k.post("%s/%s/transition" % (REFERRALS, ref["id"]), json_body=body,
               token=k.staff.clinic)
    assert_problem(r, 422)
    assert [e["field"] for e in r.body["errors"]] == ["note"], r.body
    assert read(k, ref)["status"] == "sent"


@pytest.mark.parametrize("body,field", [
    ({"to": "archived"}, "to"),
    ({"to": "Accepted"}, "to"),
    ({"to": ""}, "to"),
    ({"note": "no target"}, "to"),
    ({"to": 3}, "to"),
    ({"to": "accepted", "note": 5}, "note"),
    ({"to": "accepted", "colour": "red"}, "colour"),
])
def test_a_bad_move_is_422(case_korpud, body, field):
    k = case_korpud
    ref = make_referral(k, consenting_client(k), clinic(k))
    r = k.post("%s/%s/transition" % (REFERRALS, ref["id"]), json_body=body,
               token=k.staff.clinic)
    assert_problem(r, 422)
    assert field in [e["field"] for e in r.body["errors"]], r.body
    assert read(k, ref)["status"] == "sent"


@pytest.fixture(scope="module")
def by_state(case_korpud):
    """One referral in each of the 8 states, reached by legal moves (and
    korpud's expiry); tests must not move them."""
    k = case_korpud
    provider = clinic(k)
    client = consenting_client(k)
    return {state: reach(k, make_referral(k, client, provider), state) for state in STATES}


ILLEGAL = [(f, t) for f in STATES for t in STATES if (f, t) not in LEGAL]


def test_the_illegal_moves_are_all_the_others():
    assert len(ILLEGAL) == 64 - 8 and ("sent", "expired") in ILLEGAL


@pytest.mark.parametrize("frm,to", ILLEGAL, ids=["%s-%s" % p for p in ILLEGAL])
def test_every_illegal_move_is_409(case_korpud, by_state, frm, to):
    k = case_korpud
    ref = by_state[frm]
    for who in ("caseworker", "clinic"):
        r = move(k, ref, to, who, note="trying anyway")
        assert_problem(r, 409)
        assert frm in r.body["detail"] and to in r.body["detail"], r.body
    got = read(k, ref)
    assert got["status"] == frm and got["history"] == ref["history"]


@pytest.mark.parametrize("frm,to,who", [
    ("sent", "accepted", "caseworker"),
    ("sent", "declined", "caseworker"),
    ("sent", "cancelled", "clinic"),
    ("accepted", "cancelled", "clinic"),
    ("scheduled", "cancelled", "clinic"),
    ("scheduled", "completed", "caseworker"),
    ("scheduled", "no_show", "caseworker"),
    ("sent", "accepted", "supervisor"),
    ("sent", "cancelled", "admin"),
])
def test_a_move_by_the_wrong_role_is_403(case_korpud, by_state, frm, to, who):
    k = case_korpud
    ref = by_state[frm]
    assert_problem(move(k, ref, to, who, note="because"), 403)
    got = read(k, ref)
    assert got["status"] == frm and got["history"] == ref["history"]


def test_the_history_records_every_move_in_order(case_korpud):
    k = case_korpud
    ref = make_referral(k, consenting_client(k), clinic(k))
    steps = [("accepted", "clinic", "Qəbul edildi"), ("scheduled", "caseworker", None),
             ("completed", "clinic", "Müalicə başladı")]
    for to, who, note in steps:
        time.sleep(0.005)
        ref = moved(k, ref, to, who, note)
    h = read(k, ref)["history"]
    assert [(e["from"], e["to"], e["actor"], e["note"]) for e in h] == [
        (None, "sent", UIDS["caseworker"], None),
        ("sent", "accepted", UIDS["clinic"], "Qəbul edildi"),
        ("accepted", "scheduled", UIDS["caseworker"], None),
        ("scheduled", "completed", UIDS["clinic"], "Müalicə başladı")]
    times = [parse_time(e["at"]) for e in h]
    assert times == sorted(times) and len(set(times)) == 4


def test_twenty_concurrent_accepts_land_once(case_korpud):
    """20 accepts of one referral reach korpud together (connections open
    first, then every request sent at once): one lands, 19 are 409."""
    k = case_korpud
    ref = make_referral(k, consenting_client(k), clinic(k))
    body = json.dumps({"to": "accepted"}).encode()
    request = (b"POST %s/%s/transition HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
               % (REFERRALS.encode(), ref["id"].encode(), k.staff.clinic.encode(),
                  len(body), body))
    socks = [socket.create_connection(("127.0.0.1", k.port), timeout=10) for _ in range(20)]
    try:
        for s in socks:
            s.sendall(request)
        answers = [parse_raw_response(read_until_close(s, 10.0)) for s in socks]
    finally:
        for s in socks:
            s.close()
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200] + [409] * 19, answers
    got = read(k, ref)
    assert got["status"] == "accepted" and [e["to"] for e in got["history"]] == [
        "sent", "accepted"]
    wait_events(k, "clinics", ref["id"], ["referral.sent", "referral.accepted"])
    time.sleep(0.3)
    assert event_types(k, "clinics", ref["id"]) == ["referral.sent", "referral.accepted"]


# ---- events for partners ---------------------------------------------------

def test_every_move_is_one_event_for_partners_without_personal_data(case_korpud):
    k = case_korpud
    provider = clinic(k)
    given, family = unique("Gülnarə"), unique("Rəhimova")
    client = consenting_client(k, given_name=given, family_name=family,
                               phone="+994 55 765 43 21")
    paths = [["accepted", "scheduled", "completed"], ["accepted", "scheduled", "no_show"],
             ["accepted", "scheduled", "cancelled"], ["accepted", "cancelled"],
             ["declined"], ["cancelled"], []]
    made = []
    for path in paths:
        ref = make_referral(k, client, provider, reason="Ev ünvanı: Nizami küç. 5")
        for to in path:
            ref = moved(k, ref, to)
        made.append((ref, ["referral.sent"] + ["referral." + to for to in path]))
    personal = [given, family, client["registration_no"], client["phone"], client["id"],
                "Nizami", client["birth_date"]]
    for ref, want in made:
        got = wait_events(k, "clinics", ref["id"], want)
        for e in got:
            assert set(e) == {"type", "id", "at", "area", "provider_id", "event", "_entry"}, e
            assert e["area"] == "clinics" and e["provider_id"] == provider["id"]
            assert parse_time(e["at"]) <= now_utc()
            for value in e.values():
                for p in personal:
                    assert p not in value, (p, e)
    # at least once, and marked so that a repeat can be dropped: never two alike
    ids = [e["event"] for e in events(k, "clinics")]
    assert len(ids) == len(set(ids)) and all(ids)
    wait_for(lambda: outbox_len(k, "baku") == 0, 5.0, interval=0.05,
             what="the baku outbox to drain")
    # the relay does not copy an event twice
    time.sleep(0.3)
    for ref, want in made:
        assert event_types(k, "clinics", ref["id"]) == want


def test_events_go_to_their_areas_stream(case_korpud):
    k = case_korpud
    ref = make_referral(k, consenting_client(k, areas=["housing"]),
                        make_provider(k, k.orgs["housing"], area="housing"))
    moved(k, ref, "accepted", "housing")
    wait_events(k, "housing", ref["id"], ["referral.sent", "referral.accepted"])
    assert event_types(k, "clinics", ref["id"]) == []
    wait_for(lambda: outbox_len(k, "baku") == 0, 5.0, interval=0.05, what="outbox to drain")


# ---- lists -----------------------------------------------------------------

def test_lists_filter_by_area_status_provider_and_client(case_korpud):
    k = case_korpud
    p = clinic(k)
    h = make_provider(k, k.orgs["housing"], area="housing")
    client = consenting_client(k, areas=["clinics", "housing"])
    other = consenting_client(k)
    cl = [make_referral(k, client, p) for _ in range(4)]
    ho = make_referral(k, client, h)
    theirs = make_referral(k, other, p)
    cancelled = [moved(k, cl[0], "cancelled"), moved(k, cl[1], "cancelled")]
    accepted = moved(k, ho, "accepted", "housing")

    def ids(query, who="caseworker"):
        return sorted(list_all(k, query, who))

    def of(*refs):
        return sorted(r["id"] for r in refs)

    c = "client_id=" + client["id"]
    assert ids(c) == of(*cl, ho)
    assert ids(c + "&area=housing") == of(ho)
    assert ids(c + "&area=clinics") == of(*cl)
    assert ids(c + "&status=cancelled") == of(*cancelled)
    assert ids(c + "&status=sent&area=clinics") == of(cl[2], cl[3])
    assert ids(c + "&status=accepted") == of(accepted)
    assert ids(c + "&status=expired") == []
    assert ids("provider_id=" + p["id"]) == of(*cl, theirs)
    assert ids("provider_id=%s&client_id=%s" % (p["id"], other["id"])) == of(theirs)
    assert ids("provider_id=" + h["id"]) == of(ho)
    assert set(of(*cl, ho, theirs)) <= set(ids(""))
    assert set(of(*cancelled)) <= set(ids("status=cancelled"))
    assert set(of(ho)) <= set(ids("area=housing&status=accepted"))
    assert not set(of(*cl)) & set(ids("area=housing"))
    # each listed item is the stored referral, in its current state
    r = k.get(REFERRALS + "?" + c + "&status=cancelled", token=k.staff.caseworker)
    assert [x["history"][-1]["to"] for x in r.body["items"]] == ["cancelled", "cancelled"]
    assert "client" not in r.body["items"][0]
    # a provider's staff: their organization's only
    assert ids(c, "clinic") == of(*cl)
    assert ids(c, "housing") == of(ho)
    assert ids("provider_id=" + h["id"], "clinic") == []
    assert set(of(*cl, theirs)) <= set(ids("", "clinic"))
    assert ho["id"] not in ids("", "clinic")


def test_lists_page_with_a_cursor_without_repeats(case_korpud):
    k = case_korpud
    p = clinic(k)
    client = consenting_client(k)
    made = [make_referral(k, client, p)["id"] for _ in range(5)]
    make_referral(k, consenting_client(k, region="ganja"), clinic(k, region="ganja"))
    pages, cursor = [], None
    while True:
        r = k.get("%s?client_id=%s&limit=2%s" % (REFERRALS, client["id"],
                                                  "&cursor=" + cursor if cursor else ""),
                  token=k.staff.caseworker)
        assert r.status == 200, r.body
        pages.append([x["id"] for x in r.body["items"]])
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10
    assert [len(p_) for p_ in pages] == [2, 2, 1]
    seen = [i for p_ in pages for i in p_]
    assert seen == sorted(made)
    # across regions, over everything, small pages
    everything = list_all(k, "", limit=7)
    assert len(everything) == len(set(everything))
    assert set(made) <= set(everything)
    assert set(everything) == set(list_all(k, ""))
    assert {i.rsplit(".", 1)[1] for i in everything} == {"baku", "ganja"}


@pytest.mark.parametrize("query", [
    "status=lost", "status=SENT", "area=astrology", "limit=0", "limit=501", "limit=many",
    "cursor=nonsense", "cursor=@mars", "provider_id=nonsense", "client_id=x", "colour=red",
])
def test_a_bad_list_query_is_400(case_korpud, query):
    k = case_korpud
    assert_problem(k.get(REFERRALS + "?" + query, token=k.staff.caseworker), 400)


# ---- expiry ----------------------------------------------------------------

def expiry_setup(k):
    """Staff, an organization of the demo clinic staff with an agreement,
    a provider of it and a consenting client, on a korpud of its own."""
    k.staff = types.SimpleNamespace(**{who: k.sign_in(uid) for who, uid in UIDS.items()
                                       if who in ("admin", "caseworker", "clinic")})
    k.orgs = {"clinic": make_org(k, directory_name="org-clinic", agreement_areas=["clinics"])}
    return clinic(k), consenting_client(k)


def set_deadline(k, ref, ms):
    assert rcall(k, "ZADD", "korpu:{r:baku}:deadlines", ms, ref["id"]) in (0, 1)


def expired_entries(k, ref):
    return [e for e in read(k, ref)["history"] if e["to"] == "expired"]


CONF = {"regions": CASE_REGIONS, "sessions": UNTHROTTLED}


def test_an_unanswered_referral_expires_and_an_accepted_one_does_not(make_korpud):
    k = make_korpud(conf=CONF)
    provider, client = expiry_setup(k)
    sent = make_referral(k, client, provider)
    accepted = moved(k, make_referral(k, client, provider), "accepted", "clinic")
    assert rcall(k, "ZSCORE", "korpu:{r:baku}:deadlines", sent["id"]) is not None
    assert rcall(k, "ZSCORE", "korpu:{r:baku}:deadlines", accepted["id"]) is None
    past = now_ms() - 1000
    set_deadline(k, sent, past)
    set_deadline(k, accepted, past)
    got = wait_for(lambda: (lambda b: b if b["status"] == "expired" else None)(read(k, sent)),
                   6.0, interval=0.1, what="the referral to expire")
    last = got["history"][-1]
    assert len(got["history"]) == 2
    assert (last["from"], last["to"], last["actor"]) == ("sent", "expired", "korpu")
    assert last["note"] and parse_time(last["at"]) <= now_utc()
    # the accepted one: its stale deadline is dropped, and it stays accepted
    wait_for(lambda: rcall(k, "ZSCORE", "korpu:{r:baku}:deadlines", accepted["id"]) is None,
             5.0, interval=0.1, what="the stale deadline to go")
    still = read(k, accepted)
    assert still["status"] == "accepted" and len(still["history"]) == 2
    assert rcall(k, "ZCARD", "korpu:{r:baku}:deadlines") == 0
    assert load_of(k, provider) == 1
    # the caseworker finds it among the expired
    assert list_all(k, "status=expired") == [sent["id"]]
    assert list_all(k, "status=expired&client_id=" + client["id"]) == [sent["id"]]
    assert list_all(k, "status=expired", "clinic") == [sent["id"]]
    wait_events(k, "clinics", sent["id"], ["referral.sent", "referral.expired"])
    # an expired referral is answered no more
    assert_problem(move(k, got, "accepted", "clinic"), 409)
    time.sleep(1.3)         # another tick at least
    assert event_types(k, "clinics", sent["id"]) == ["referral.sent", "referral.expired"]
    assert event_types(k, "clinics", accepted["id"]) == ["referral.sent", "referral.accepted"]
    assert len(expired_entries(k, sent)) == 1
    assert outbox_len(k) == 0


def test_expiry_after_a_restart_lands_once_with_two_instances(make_korpud, redis):
    k = make_korpud(conf=CONF)
    provider, client = expiry_setup(k)
    refs = [make_referral(k, client, provider) for _ in range(6)]
    after_restart, raced = refs[:3], refs[3:]
    wait_for(lambda: outbox_len(k) == 0, 5.0, interval=0.05, what="outbox to drain")
    assert k.stop() == 0
    # deadlines passed while no korpud ran: they live in Redis
    for ref in after_restart:
        set_deadline(k, ref, now_ms() - 5000)
    a = make_korpud(name="a", conf=CONF, ready=False)
    b = make_korpud(name="b", conf=CONF, ready=False)
    for inst in (a, b):
        inst.wait_ready(200, timeout=10.0)
        inst.staff = k.staff            # sessions live in Redis

    def all_expired(which):
        return lambda: all(read(a, ref)["status"] == "expired" for ref in which)
    wait_for(all_expired(after_restart), 8.0, interval=0.1, what="the referrals to expire")
    # Both instances at once: Redis stands still while each ticks (every
    # second), so both read the same due referrals before either writes.
    for ref in raced:
        set_deadline(k, ref, now_ms() - 5000)
    redis.sigstop()
    try:
        time.sleep(1.2)
    finally:
        redis.sigcont()
    wait_for(all_expired(raced), 8.0, interval=0.1, what="the raced referrals to expire")
    time.sleep(1.3)         # both instances tick again
    for ref in refs:
        assert len(expired_entries(a, ref)) == 1, read(a, ref)["history"]
        assert read(b, ref)["history"] == read(a, ref)["history"]
        wait_events(a, "clinics", ref["id"], ["referral.sent", "referral.expired"])
    assert rcall(a, "ZCARD", "korpu:{r:baku}:deadlines") == 0
    assert load_of(a, provider) == 0
    wait_for(lambda: outbox_len(a) == 0, 5.0, interval=0.05, what="outbox to drain")
    assert sorted(list_all(b, "status=expired")) == sorted(r["id"] for r in refs)
