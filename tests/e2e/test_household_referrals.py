"""A household referred together (POST /api/v1/referrals/household): one
referral per member, to one provider, all or none."""
from casework import (REFERRAL_FIELDS, give_consent, make_client, make_provider)
from servers import RedisClient, assert_problem, wait_for

PATH = "/api/v1/referrals/household"


def household(k, n=3, region="baku", consent=("housing",)):
    members = [make_client(k, region=region) for _ in range(n)]
    for m in members:
        for area in consent:
            give_consent(k, m, area)
    r = k.post("/api/v1/households", json_body={"members": [m["id"] for m in members]},
               token=k.staff.caseworker)
    assert r.status == 201, r.body
    return r.body, members


def body(h, provider=None, area="housing", **kw):
    b = {"household_id": h["id"], "area": area, "priority": "urgent",
         "reason": "Family of three in a collective centre",
         "fields": REFERRAL_FIELDS.get(area, {})}
    if provider:
        b["provider_id"] = provider["id"]
    b.update(kw)
    return b


def referrals_of(k, client):
    r = k.get("/api/v1/referrals?client_id=%s" % client["id"], token=k.staff.caseworker)
    assert r.status == 200, r.body
    return r.body["items"]


def test_every_member_gets_a_referral_to_the_same_provider(case_korpud):
    k = case_korpud
    p = make_provider(k, k.orgs["housing"], area="housing")
    h, members = household(k)
    r = k.post(PATH, json_body=body(h, p), token=k.staff.caseworker)
    assert r.status == 201, r.body
    refs = r.body["referrals"]
    assert [x["client_id"] for x in refs] == [m["id"] for m in members]
    assert {x["provider_id"] for x in refs} == {p["id"]}
    assert all(x["household_id"] == h["id"] and x["status"] == "sent" and
               x["priority"] == "urgent" for x in refs)
    assert len({x["id"] for x in refs}) == 3
    for m, ref in zip(members, refs):
        assert [x["id"] for x in referrals_of(k, m)] == [ref["id"]]
    # the provider's staff see all three in their inbox
    r = k.get("/api/v1/referrals?provider_id=%s" % p["id"], token=k.staff.housing)
    assert {x["id"] for x in r.body["items"]} == {x["id"] for x in refs}

    def sent_events():
        with RedisClient(k.redis_port) as rc:
            entries = rc.call("XRANGE", "korpu:events:{housing}", "-", "+")
        ids = {dict(zip(e[1][::2], e[1][1::2]))[b"id"].decode() for e in entries}
        return ids >= {x["id"] for x in refs} or None
    wait_for(sent_events, 5.0, what="a referral.sent event per member")


def test_a_member_without_consent_stops_them_all(case_korpud):
    k = case_korpud
    p = make_provider(k, k.orgs["housing"], area="housing")
    h, members = household(k, consent=())
    for m in members[:2]:
        give_consent(k, m, "housing")
    give_consent(k, members[2], "housing", share=False)
    r = k.post(PATH, json_body=body(h, p), token=k.staff.caseworker)
    assert_problem(r, 422)
    assert [e["field"] for e in r.body["errors"]] == ["members[2].consent.share"]
    assert all(referrals_of(k, m) == [] for m in members)


def test_a_household_is_routed_once(case_korpud):
    k = case_korpud
    h, members = household(k, n=2, region="ganja")
    p = make_provider(k, k.orgs["housing"], area="housing", region="ganja")
    r = k.post(PATH, json_body=body(h), token=k.staff.caseworker)
    assert r.status == 201, r.body
    assert len({x["provider_id"] for x in r.body["referrals"]}) == 1
    assert r.body["referrals"][0]["region"] == "ganja"
    assert p["id"] in {x["provider_id"] for x in r.body["referrals"]} or \
        r.body["referrals"][0]["provider_id"].endswith(".ganja")


def test_household_referral_checks_the_form(case_korpud):
    k = case_korpud
    h, _ = household(k, n=2)
    cases = [
        ({"household_id": "0000000000zzzzzzzz.baku"}, None),
        ({"household_id": "nonsense"}, "household_id"),
        ({"area": "astrology"}, "area"),
        ({"reason": ""}, "reason"),
        ({"fields": {"household_size": "many"}}, "fields.household_size"),
        ({"client_id": h["members"][0]}, "client_id"),
    ]
    for change, field in cases:
        r = k.post(PATH, json_body=body(h, **change), token=k.staff.caseworker)
        assert_problem(r, 422)
        if field:
            assert field in [e["field"] for e in r.body["errors"]], (change, r.body)


def test_only_caseworkers_refer_households(case_korpud):
    k = case_korpud
    h, _ = household(k, n=2)
    for token in (k.staff.housing, k.staff.supervisor, k.staff.admin):
        assert_problem(k.post(PATH, json_body=body(h), token=token), 403)


def test_no_agreement_no_referrals(case_korpud):
    k = case_korpud
    p = make_provider(k, k.orgs["clinic"], area="housing")   # the clinic has no housing agreement
    h, members = household(k, n=2)
    r = k.post(PATH, json_body=body(h, p), token=k.staff.caseworker)
    assert_problem(r, 409)
    assert all(referrals_of(k, m) == [] for m in members)
