"""The service directory over HTTP: organizations, data-sharing
agreements and providers, validated on write (API.md, Directory)."""
import pytest

from casework import (WEEKDAYS, days_from_today, make_org, make_provider, provider_body,
                      unique)
from servers import assert_problem


def test_admin_creates_an_organization_and_everyone_signed_in_reads_it(case_korpud):
    k = case_korpud
    org = make_org(k, kind="agency", region="ganja")
    assert org["kind"] == "agency" and org["region"] == "ganja"
    assert org["agreement"] is None and org["created_by"] == "equliyev"
    for token in (k.staff.caseworker, k.staff.clinic, k.staff.supervisor):
        r = k.get("/api/v1/organizations/%s" % org["id"], token=token)
        assert r.status == 200 and r.body == org


@pytest.mark.parametrize("who", ["caseworker", "supervisor", "clinic"])
def test_only_an_admin_creates_organizations(case_korpud, who):
    k = case_korpud
    r = k.post("/api/v1/organizations", json_body={"name": unique("X"), "kind": "ngo",
                                                   "region": "baku"},
               token=getattr(k.staff, who))
    assert_problem(r, 403)


def test_organization_names_are_unique_however_they_are_typed(case_korpud):
    k = case_korpud
    name = unique("Qaçqınlara Yardım İctimai Birliyi")
    make_org(k, name=name)
    r = k.post("/api/v1/organizations", json_body={"name": name.upper(), "kind": "ngo",
                                                   "region": "baku"}, token=k.staff.admin)
    assert_problem(r, 409)
    assert "name" in r.body["detail"]


@pytest.mark.parametrize("body,field", [
    ({"kind": "ngo", "region": "baku"}, "name"),
    ({"name": "A", "kind": "church", "region": "baku"}, "kind"),
    ({"name": "A", "kind": "ngo", "region": "mars"}, "region"),
    ({"name": "A", "kind": "ngo", "region": "baku", "colour": "red"}, "colour"),
    ({"name": "A\u0007", "kind": "ngo", "region": "baku"}, "name"),
])
def test_a_bad_organization_is_422_naming_the_field(case_korpud, body, field):
    r = case_korpud.post("/api/v1/organizations", json_body=body,
                         token=case_korpud.staff.admin)
    assert_problem(r, 422)
    assert field in [e["field"] for e in r.body["errors"]], r.body


def test_agreement_is_recorded_with_who_and_when(case_korpud):
    k = case_korpud
    org = make_org(k, agreement_areas=["clinics", "housing"])
    a = org["agreement"]
    assert a["areas"] == ["clinics", "housing"] and a["recorded_by"] == "equliyev"
    assert a["valid_from"] == days_from_today(-30) and a["recorded_at"]


@pytest.mark.parametrize("body,field", [
    ({"valid_from": "2026-01-01", "valid_to": "2025-01-01", "areas": ["clinics"]}, "valid_to"),
    ({"valid_from": "2026-02-30", "valid_to": "2027-01-01", "areas": ["clinics"]}, "valid_from"),
    ({"valid_from": "2026-01-01", "valid_to": "2027-01-01", "areas": ["astrology"]}, "areas[0]"),
    ({"valid_from": "2026-01-01", "valid_to": "2027-01-01"}, "areas"),
])
def test_a_bad_agreement_is_422(case_korpud, body, field):
    k = case_korpud
    org = make_org(k)
    r = k.request("PUT", "/api/v1/organizations/%s/agreement" % org["id"], json_body=body,
                  token=k.staff.admin)
    assert_problem(r, 422)
    assert field in [e["field"] for e in r.body["errors"]], r.body


def test_unknown_organization_is_404(case_korpud):
    k = case_korpud
    for path in ("/api/v1/organizations/0000000000zzzzzzzz", "/api/v1/organizations/nonsense"):
        assert_problem(k.get(path, token=k.staff.admin), 404)


def test_organizations_list_pages_with_a_cursor(case_korpud):
    k = case_korpud
    ids = {make_org(k)["id"] for _ in range(5)}
    seen, cursor = [], None
    while True:
        r = k.get("/api/v1/organizations?limit=2" + ("&cursor=" + cursor if cursor else ""),
                  token=k.staff.caseworker)
        assert r.status == 200 and len(r.body["items"]) <= 2
        seen += [o["id"] for o in r.body["items"]]
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
    assert ids <= set(seen) and len(seen) == len(set(seen)) and seen == sorted(seen)


def test_provider_is_created_with_defaults_and_read_back(case_korpud):
    k = case_korpud
    org = make_org(k)
    body = {"name": unique("Poliklinika"), "area": "clinics", "organization": org["id"],
            "region": "baku", "hours": [WEEKDAYS]}
    r = k.post("/api/v1/providers", json_body=body, token=k.staff.admin)
    assert r.status == 201, r.body
    p = r.body
    assert p["timezone"] == "Asia/Baku" and p["slot_minutes"] == 30 and p["capacity"] == 1
    assert p["id"].endswith(".baku")
    assert k.get("/api/v1/providers/%s" % p["id"], token=k.staff.caseworker).body == p


@pytest.mark.parametrize("change,field", [
    ({"area": "astrology"}, "area"),
    ({"region": "mars"}, "region"),
    ({"timezone": "Europe/Atlantis"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"hours": [{"days": ["mo"], "open": "13:00", "close": "09:00"}]}, "hours[0].close"),
    ({"hours": [{"days": ["mo"], "open": "25:00", "close": "26:00"}]}, "hours[0].open"),
    ({"hours": [{"days": ["xx"], "open": "09:00", "close": "12:00"}]}, "hours[0].days[0]"),
    ({"hours": [{"days": ["mo", "tu"], "open": "09:00", "close": "13:00"},
                {"days": ["tu"], "open": "12:00", "close": "15:00"}]}, "hours[1].days[0]"),
    ({"closed": ["2026-13-01"]}, "closed[0]"),
    ({"slot_minutes": 0}, "slot_minutes"),
    ({"capacity": "many"}, "capacity"),
    ({"languages": ["Azerbaijani"]}, "languages[0]"),
    ({"organization": "0000000000zzzzzzzz"}, "organization"),
])
def test_a_bad_provider_is_422_naming_the_field(case_korpud, change, field):
    k = case_korpud
    org = make_org(k)
    r = k.post("/api/v1/providers", json_body=provider_body(org, **change), token=k.staff.admin)
    assert_problem(r, 422)
    assert field in [e["field"] for e in r.body["errors"]], r.body


def test_berlin_is_a_zone_and_adjacent_rules_do_not_overlap(case_korpud):
    k = case_korpud
    org = make_org(k)
    p = make_provider(k, org, timezone="Europe/Berlin",
                      hours=[{"days": ["mo"], "open": "09:00", "close": "12:00"},
                             {"days": ["mo"], "open": "12:00", "close": "16:00"}])
    assert p["timezone"] == "Europe/Berlin"


def test_providers_filter_by_area_region_and_language(case_korpud):
    k = case_korpud
    org = make_org(k)
    a = make_provider(k, org, area="housing", region="ganja", languages=["ar", "fa"])
    b = make_provider(k, org, area="housing", region="baku", languages=["ru"])
    r = k.get("/api/v1/providers?area=housing&region=ganja&limit=500", token=k.staff.caseworker)
    ids = [p["id"] for p in r.body["items"]]
    assert a["id"] in ids and b["id"] not in ids
    r = k.get("/api/v1/providers?area=housing&language=fa&limit=500", token=k.staff.caseworker)
    ids = [p["id"] for p in r.body["items"]]
    assert a["id"] in ids and b["id"] not in ids
    assert_problem(k.get("/api/v1/providers?area=astrology", token=k.staff.caseworker), 400)
    assert_problem(k.get("/api/v1/providers?colour=red", token=k.staff.caseworker), 400)


def test_providers_list_pages_across_regions(case_korpud):
    k = case_korpud
    org = make_org(k)
    made = [make_provider(k, org, area="integration", region=reg)["id"]
            for reg in ("baku", "ganja", "baku", "ganja")]
    seen, cursor = [], None
    for _ in range(50):
        r = k.get("/api/v1/providers?area=integration&limit=1" +
                  ("&cursor=" + cursor if cursor else ""), token=k.staff.caseworker)
        assert r.status == 200, r.body
        seen += [p["id"] for p in r.body["items"]]
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
    assert set(made) <= set(seen) and len(seen) == len(set(seen))
    assert_problem(k.get("/api/v1/providers?cursor=@mars", token=k.staff.caseworker), 400)


def test_a_provider_sees_only_its_own_organizations_providers(case_korpud):
    k = case_korpud
    own = k.orgs["clinic"]
    other = make_org(k)
    mine = make_provider(k, own)
    theirs = make_provider(k, other)
    assert k.get("/api/v1/providers/%s" % mine["id"], token=k.staff.clinic).status == 200
    assert_problem(k.get("/api/v1/providers/%s" % theirs["id"], token=k.staff.clinic), 404)
    r = k.get("/api/v1/providers?limit=500", token=k.staff.clinic)
    ids = [p["id"] for p in r.body["items"]]
    assert mine["id"] in ids and theirs["id"] not in ids
    # another organization's staff see neither
    assert_problem(k.get("/api/v1/providers/%s" % mine["id"], token=k.staff.employment), 404)


def test_capacity_follows_the_areas_booking_model(case_korpud):
    """slot: one client a slot; session: a group, 12 places unless said."""
    k = case_korpud
    org = make_org(k)
    r = k.post("/api/v1/providers", json_body=provider_body(org, area="clinics", capacity=3),
               token=k.staff.admin)
    assert_problem(r, 422)
    assert r.body["errors"][0]["field"] == "capacity"
    body = provider_body(org, area="integration")
    del body["capacity"]
    r = k.post("/api/v1/providers", json_body=body, token=k.staff.admin)
    assert r.status == 201 and r.body["capacity"] == 12, r.body
    clinic = make_provider(k, org, area="clinics")
    r = k.request("PATCH", "/api/v1/providers/%s" % clinic["id"], json_body={"capacity": 2},
                  token=k.staff.admin)
    assert_problem(r, 422)
