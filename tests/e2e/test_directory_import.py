"""The directory import: an Open Referral HSDS dataset into organizations
and providers, over HTTP (POST /api/v1/directory/import, admin) and from
the command line (korpud -c CONF -i FILE [-a AREA] [-r REGION]).
core/hsds-map.h holds the mapping rules, core/directory-import.c the
storage (idempotent by HSDS id, adopting an organization of the same name)."""
import copy
import itertools
import json
import os
import re
import subprocess
import time

import pytest

import servers
from casework import days_from_today, make_org, unique
from conftest import Staff
from servers import REPO, RedisClient, assert_problem, wait_for

IMPORT = "/api/v1/directory/import"
FIXTURES = REPO / "tests" / "fixtures" / "hsds"
WEEKDAYS = ["mo", "tu", "we", "th", "fr"]

# tests/fixtures/hsds: the HSDS 3.0 worked example (one organization, one
# service at one location), in two shapes that map the same.
EX_ORG = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
EX_SAL = "e94c9f38-1e8f-4564-91d4-d53501ab1765"
EX_SCHEDULE = "48102e86-bb50-41c4-8f1e-e269368c41d1"

# Keys that change whatever the directory does: the audit trail, sessions,
# Idempotency-Keys, sign-in throttling and the event relay's lock.
VOLATILE = ("korpu:audit:", "korpu:session:", "korpu:idem:", "korpu:{auth}:")

_seq = itertools.count(1)


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


def import_path(area=None, region=None, extra=""):
    q = []
    if area:
        q.append("default_area=" + area)
    if region:
        q.append("default_region=" + region)
    if extra:
        q.append(extra)
    return IMPORT + ("?" + "&".join(q) if q else "")


def post_import(k, dataset, area=None, region=None, token=None, raw=None, extra="",
                timeout=15.0):
    body = raw if raw is not None else json.dumps(dataset, ensure_ascii=False).encode()
    return k.post(import_path(area, region, extra), body=body,
                  headers={"Content-Type": "application/json"},
                  token=token or k.staff.admin, timeout=timeout)


def imported(k, dataset, area=None, region=None):
    r = post_import(k, dataset, area, region)
    assert r.status == 200, (r.status, r.body)
    assert set(r.body) == {"organizations", "providers", "skipped", "warnings"}, r.body
    return r.body


def counts(created=0, updated=0, unchanged=0):
    return {"created": created, "updated": updated, "unchanged": unchanged}


def listed(entries):
    """{(table, id): reason} of a report's skipped or warnings."""
    out = {}
    for e in entries:
        assert set(e) == {"table", "id", "reason"}, e
        assert isinstance(e["reason"], str) and e["reason"], e
        out[(e["table"], e["id"])] = e["reason"]
    assert len(out) == len(entries), entries
    return out


def all_items(k, path, token=None):
    """Every item of a paged list."""
    items, cursor = [], None
    for _ in range(100):
        sep = "&" if "?" in path else "?"
        r = k.get(path + sep + "limit=500" + ("&cursor=" + cursor if cursor else ""),
                  token=token or k.staff.admin)
        assert r.status == 200, (r.status, r.body)
        items += r.body["items"]
        cursor = r.body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("%s does not end" % path)


def providers_from(k, source_ids):
    """{HSDS id: provider} of the imported providers with those source ids."""
    return {p["source"]["id"]: p for p in all_items(k, "/api/v1/providers")
            if (p.get("source") or {}).get("dataset") == "hsds"
            and p["source"]["id"] in source_ids}


def orgs_named(k, name):
    fold = name.casefold()
    return [o for o in all_items(k, "/api/v1/organizations") if o["name"].casefold() == fold]


def redis_dump(port):
    """Every korpu:* key but the VOLATILE ones: {key: (type, contents, persistent)}."""
    out = {}
    with RedisClient(port) as c:
        cursor, keys = b"0", set()
        while True:
            cursor, batch = c.call("SCAN", cursor, "MATCH", "korpu:*", "COUNT", "1000")
            keys.update(batch)
            if cursor == b"0":
                break
        for key in sorted(keys):
            name = key.decode()
            if name.startswith(VOLATILE) or name.endswith(":outbox:lock"):
                continue
            kind = c.call("TYPE", key)
            if kind == "string":
                value = c.call("GET", key)
            elif kind == "hash":
                flat = c.call("HGETALL", key)
                value = sorted(zip(flat[::2], flat[1::2]))
            elif kind == "zset":
                value = c.call("ZRANGE", key, "0", "-1", "WITHSCORES")
            elif kind == "set":
                value = sorted(c.call("SMEMBERS", key))
            elif kind == "list":
                value = c.call("LRANGE", key, "0", "-1")
            elif kind == "stream":
                value = c.call("XRANGE", key, "-", "+")
            else:
                value = None
            out[name] = (kind, value, c.call("PTTL", key) == -1)
    return out


# ---- a hand-written tabular dataset ------------------------------------

def handmade(u):
    """A tabular HSDS dataset whose ids start with u: two organizations
    that import (org-a: an NGO, org-b: a municipality) and one without a
    name; providers whose area comes from an attribute's value (P1), from a
    taxonomy term's code (P2) and from an attribute with no link_entity
    (P4), and whose region comes from the address (P1: region, P2: city);
    P3 names no korpu area, P5 belongs to the nameless organization, P6 is
    at an address in no configured region; schedule SC4 is monthly and
    language LG4 is no language code."""
    i = lambda s: u + s     # noqa: E731
    return {
        "organizations": [
            {"id": i("org-a"), "name": "Qaçqınlara Yardım Mərkəzi " + u,
             "legal_status": "Non-profit association"},
            {"id": i("org-b"), "name": "Gəncə Bələdiyyəsi " + u, "legal_status": "municipal"},
            {"id": i("org-c"), "description": "an organization without a name"},
        ],
        "locations": [
            {"id": i("loc-ganja"), "organization_id": i("org-a"), "name": "Ganja branch",
             "location_type": "physical"},
            {"id": i("loc-baku"), "organization_id": i("org-b"), "name": "Baku office"},
            {"id": i("loc-sumqayit"), "organization_id": i("org-a"), "name": "Sumqayit"},
        ],
        "addresses": [
            {"id": i("adr-postal"), "location_id": i("loc-ganja"), "address_1": "PO Box 7",
             "city": "Baku", "address_type": "postal"},
            {"id": i("adr-ganja"), "location_id": i("loc-ganja"), "address_1": "Atatürk pr. 12",
             "city": "Gəncə", "region": " GANJA ", "address_type": "physical"},
            {"id": i("adr-baku"), "location_id": i("loc-baku"), "address_1": "Nizami küç. 5",
             "address_2": "2-ci mərtəbə", "city": "Baku", "region": "Absheron",
             "state_province": "Absheron"},
            {"id": i("adr-sumqayit"), "location_id": i("loc-sumqayit"),
             "address_1": "Sülh küç. 3", "city": "Sumqayit", "region": "Absheron"},
        ],
        "services": [
            {"id": i("svc-clinic"), "organization_id": i("org-a"), "name": "Family clinic",
             "status": "active"},
            {"id": i("svc-jobs"), "organization_id": i("org-b"), "name": "Job centre"},
            {"id": i("svc-legal"), "organization_id": i("org-a"), "name": "Legal advice"},
            {"id": i("svc-shelter"), "organization_id": i("org-b"), "name": "Shelter"},
            {"id": i("svc-orphan"), "organization_id": i("org-c"), "name": "Orphan service"},
            {"id": i("svc-course"), "organization_id": i("org-a"), "name": "Language course"},
        ],
        "service_at_locations": [
            {"id": i("P1"), "service_id": i("svc-clinic"), "location_id": i("loc-ganja")},
            {"id": i("P2"), "service_id": i("svc-jobs"), "location_id": i("loc-baku")},
            {"id": i("P3"), "service_id": i("svc-legal"), "location_id": i("loc-ganja")},
            {"id": i("P4"), "service_id": i("svc-shelter"), "location_id": i("loc-baku")},
            {"id": i("P5"), "service_id": i("svc-orphan"), "location_id": i("loc-ganja")},
            {"id": i("P6"), "service_id": i("svc-course"), "location_id": i("loc-sumqayit")},
        ],
        "taxonomy_terms": [
            {"id": i("term-jobs"), "code": "EMPLOYMENT", "name": "Employment support",
             "taxonomy": "korpu"},
        ],
        "attributes": [
            {"id": i("at-1"), "link_id": i("svc-clinic"), "link_entity": "service",
             "value": " Clinics "},
            {"id": i("at-2"), "link_id": i("P2"), "link_entity": "service_at_location",
             "taxonomy_term_id": i("term-jobs")},
            {"id": i("at-3"), "link_id": i("svc-shelter"), "value": "housing"},
            {"id": i("at-4"), "link_id": i("svc-course"), "link_entity": "service",
             "value": "integration"},
            {"id": i("at-5"), "link_id": i("svc-legal"), "link_entity": "service",
             "value": "legal aid"},
        ],
        "schedules": [
            {"id": i("SC1"), "service_at_location_id": i("P1"), "freq": "WEEKLY",
             "byday": "MO,TU,WE,TH,FR", "opens_at": "09:00", "closes_at": "13:00"},
            {"id": i("SC2"), "service_at_location_id": i("P1"), "freq": "WEEKLY",
             "byday": "mo,we", "opens_at": "14:00:00+04:00", "closes_at": "17:30"},
            {"id": i("SC3"), "service_id": i("svc-jobs"), "byday": "SA", "opens_at": "10:00",
             "closes_at": "16:00"},
            {"id": i("SC4"), "service_at_location_id": i("P4"), "freq": "MONTHLY",
             "bymonthday": "1", "opens_at": "09:00", "closes_at": "12:00"},
        ],
        "languages": [
            {"id": i("LG1"), "service_id": i("svc-clinic"), "code": "az-Latn-AZ"},
            {"id": i("LG2"), "service_id": i("svc-clinic"), "code": "RU"},
            {"id": i("LG3"), "location_id": i("loc-ganja"), "code": "ru"},
            {"id": i("LG4"), "service_id": i("svc-jobs"), "code": "Azerbaijani"},
        ],
        "phones": [{"id": i("phone"), "service_id": i("svc-jobs"), "number": "+994 12 000"}],
    }


def uid():
    return "t%d-%d-" % (os.getpid(), next(_seq))


def rows(dataset, table, u, id_):
    """The row of table with id u + id_."""
    for row in dataset[table]:
        if row["id"] == u + id_:
            return row
    raise KeyError(id_)


# ---- the HSDS worked example -------------------------------------------

def test_the_hsds_example_imports_and_a_second_shape_of_it_changes_nothing(case_korpud):
    k = case_korpud
    rep = imported(k, fixture("tabular.json"), "clinics", "baku")
    assert rep["organizations"] == counts(created=1), rep
    assert rep["providers"] == counts(created=1), rep
    # Its one schedule repeats by count and bymonthday: not weekly hours.
    skipped = listed(rep["skipped"])
    assert list(skipped) == [("schedules", EX_SCHEDULE)], rep
    assert "count" in skipped[("schedules", EX_SCHEDULE)]
    warnings = listed(rep["warnings"])
    assert list(warnings) == [("service_at_location", EX_SAL)], rep
    assert "no usable opening hours" in warnings[("service_at_location", EX_SAL)]

    [org] = orgs_named(k, "Example Organization Inc.")
    assert org["kind"] == "ngo" and org["region"] == "baku"
    assert org["source"] == {"dataset": "hsds", "id": EX_ORG}
    assert org["agreement"] is None and org["created_by"] == "equliyev"
    # Everyone signed in reads it.
    r = k.get("/api/v1/organizations/%s" % org["id"], token=k.staff.caseworker)
    assert r.status == 200 and r.body == org

    ps = [p for p in all_items(k, "/api/v1/providers?area=clinics&region=baku",
                               token=k.staff.caseworker)
          if p.get("source") == {"dataset": "hsds", "id": EX_SAL}]
    assert len(ps) == 1, ps
    p = ps[0]
    assert p["name"] == "Community Counselling (MyCity Civic Center)"
    assert p["organization"] == org["id"]
    assert p["area"] == "clinics" and p["region"] == "baku"
    assert p["timezone"] == "Asia/Baku"
    assert p["address"] == "1-30 Main Street, MyVillage, MyCity"
    assert p["languages"] == ["ur"]
    assert p["hours"] == [] and p["closed"] == []
    assert p["slot_minutes"] == 30 and p["capacity"] == 1
    assert p["id"].endswith(".baku") and p["created_by"] == "equliyev"
    assert k.get("/api/v1/providers/%s" % p["id"], token=k.staff.admin).body == p
    # Default routing sees it.
    assert k.get("/api/v1/providers/%s" % p["id"], token=k.staff.caseworker).status == 200
    with RedisClient(k.redis_port) as c:
        assert c.call("ZSCORE", "korpu:{r:baku}:load:clinics", p["id"]) is not None
        assert c.call("ZSCORE", "korpu:{r:baku}:providers:area:clinics", p["id"]) is not None
        assert c.call("GET", "korpu:{r:baku}:hsds:provider:" + EX_SAL) == p["id"].encode()
        assert c.call("GET", "korpu:{dir}:hsds:org:" + EX_ORG) == org["id"].encode()

    # organization_full.json is the same data nested: nothing to change.
    before = redis_dump(k.redis_port)
    again = imported(k, fixture("organization_full.json"), "clinics", "baku")
    assert again["organizations"] == counts(unchanged=1), again
    assert again["providers"] == counts(unchanged=1), again
    assert again["skipped"] == rep["skipped"] and again["warnings"] == rep["warnings"]
    assert redis_dump(k.redis_port) == before
    assert orgs_named(k, "Example Organization Inc.") == [org]


# ---- idempotence, updates, adoption ------------------------------------

def test_importing_twice_changes_nothing(case_korpud):
    k = case_korpud
    u = uid()
    dataset = handmade(u)
    first = imported(k, dataset)
    assert first["organizations"] == counts(created=2), first
    assert first["providers"] == counts(created=3), first
    before = redis_dump(k.redis_port)
    assert any(key.startswith("korpu:{r:ganja}:provider:") for key in before)
    second = imported(k, dataset)
    assert second["organizations"] == counts(unchanged=2), second
    assert second["providers"] == counts(unchanged=3), second
    assert second["skipped"] == first["skipped"]
    assert second["warnings"] == first["warnings"]
    after = redis_dump(k.redis_port)
    changed = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
    assert not changed, changed
    # And once more, with the tables and rows in another order: still
    # nothing (but for schedules and languages, whose order is that of a
    # provider's hours and languages).
    shuffled = {t: v if t in ("schedules", "languages") else list(reversed(v))
                for t, v in reversed(list(dataset.items()))}
    third = imported(k, shuffled)
    assert third["organizations"] == counts(unchanged=2), third
    assert third["providers"] == counts(unchanged=3), third
    assert redis_dump(k.redis_port) == before


def test_an_import_sent_again_with_its_idempotency_key_is_replayed(case_korpud):
    k = case_korpud
    body = json.dumps(handmade(uid())).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": uid() + "import"}
    first = k.post(IMPORT, body=body, headers=headers, token=k.staff.admin)
    assert first.status == 200 and first.header("Idempotent-Replayed") is None, first.body
    assert first.body["providers"] == counts(created=3)
    again = k.post(IMPORT, body=body, headers=headers, token=k.staff.admin)
    assert again.status == 200 and again.header("Idempotent-Replayed") == "true"
    assert again.body == first.body     # the first answer, not "unchanged"


def test_an_edited_dataset_updates_the_provider_in_place(case_korpud):
    k = case_korpud
    u = uid()
    dataset = handmade(u)
    imported(k, dataset)
    old = providers_from(k, {u + "P1", u + "P2", u + "P4"})
    assert set(old) == {u + "P1", u + "P2", u + "P4"}
    edited = copy.deepcopy(dataset)
    rows(edited, "services", u, "svc-clinic")["name"] = "Family health centre"
    rows(edited, "schedules", u, "SC1")["closes_at"] = "12:30"
    rep = imported(k, edited)
    assert rep["providers"] == counts(updated=1, unchanged=2), rep
    assert rep["organizations"] == counts(unchanged=2), rep
    new = providers_from(k, set(old))
    p, q = old[u + "P1"], new[u + "P1"]
    assert q["id"] == p["id"] and q["created_at"] == p["created_at"]
    assert q["name"] == "Family health centre (Ganja branch)"
    assert q["hours"] == [{"days": WEEKDAYS, "open": "09:00", "close": "12:30"},
                          {"days": ["mo", "we"], "open": "14:00", "close": "17:30"}]
    assert {key: v for key, v in q.items() if key not in ("name", "hours")} == \
        {key: v for key, v in p.items() if key not in ("name", "hours")}
    assert new[u + "P2"] == old[u + "P2"] and new[u + "P4"] == old[u + "P4"]
    assert k.get("/api/v1/providers/%s" % p["id"], token=k.staff.admin).body == q
    # Still one provider per HSDS id, and one organization per name.
    assert len([x for x in all_items(k, "/api/v1/providers")
                if x.get("source", {}).get("id") == u + "P1"]) == 1
    assert len(orgs_named(k, rows(edited, "organizations", u, "org-a")["name"])) == 1
    # The edit imported again is no change.
    assert imported(k, edited)["providers"] == counts(unchanged=3)


def test_a_provider_keeps_its_area_and_region(case_korpud):
    """korpu keeps a provider's area and region (its id names the region):
    a dataset that moves a service at location to another of either
    reports it and leaves the provider as it was, never a second one."""
    k = case_korpud
    u = uid()
    dataset = handmade(u)
    imported(k, dataset)
    old = providers_from(k, {u + "P1", u + "P2"})
    before = redis_dump(k.redis_port)
    moved = copy.deepcopy(dataset)
    rows(moved, "attributes", u, "at-1")["value"] = "housing"              # P1's area
    rows(moved, "addresses", u, "adr-baku")["city"] = "Ganja"              # P2's region
    rows(moved, "addresses", u, "adr-baku")["address_1"] = "Yeni küç. 1"
    rep = imported(k, moved)
    assert rep["providers"] == counts(), rep
    # (org-b's region is that of its first provider: now ganja)
    assert rep["organizations"] == counts(updated=1, unchanged=1), rep
    skipped = listed(rep["skipped"])
    assert "area" in skipped[("service_at_location", u + "P1")], rep
    for p in ("P2", "P4"):
        reason = skipped[("service_at_location", u + p)]
        assert reason.startswith("its region changed: korpu has it in baku (%s)"
                                 % old[u + "P2"]["id"] if p == "P2" else
                                 "its region changed: korpu has it in baku"), reason
    after = redis_dump(k.redis_port)
    assert {key: v for key, v in after.items() if "{dir}" not in key} == \
        {key: v for key, v in before.items() if "{dir}" not in key}
    assert providers_from(k, {u + "P1", u + "P2"}) == old
    assert len([x for x in all_items(k, "/api/v1/providers")
                if x.get("source", {}).get("id") == u + "P2"]) == 1


def test_an_organization_entered_by_hand_is_adopted(case_korpud):
    k = case_korpud
    u = uid()
    dataset = handmade(u)
    name_a = rows(dataset, "organizations", u, "org-a")["name"]
    name_b = rows(dataset, "organizations", u, "org-b")["name"]
    # org-a entered as the dataset has it, but upper-case and with an
    # agreement; org-b as an agency, which the dataset calls a municipality.
    hand_a = make_org(k, name=name_a.upper(), kind="ngo", region="ganja",
                      agreement_areas=["clinics"])
    hand_b = make_org(k, name=name_b, kind="agency", region="baku")
    rep = imported(k, dataset)
    assert rep["organizations"]["created"] == 0, rep
    assert rep["organizations"]["unchanged"] + rep["organizations"]["updated"] == 2, rep
    assert rep["organizations"]["updated"] >= 1, rep     # org-b's kind
    assert rep["providers"] == counts(created=3), rep
    [a] = orgs_named(k, name_a)
    [b] = orgs_named(k, name_b)
    assert a["id"] == hand_a["id"] and b["id"] == hand_b["id"]
    assert a["agreement"] == hand_a["agreement"] and a["created_by"] == "equliyev"
    assert b["kind"] == "government" and b["region"] == "baku"
    ps = providers_from(k, {u + "P1", u + "P2", u + "P4"})
    assert ps[u + "P1"]["organization"] == hand_a["id"]
    assert ps[u + "P2"]["organization"] == hand_b["id"]
    assert ps[u + "P4"]["organization"] == hand_b["id"]
    # The adoption is remembered by HSDS id: the next import changes nothing.
    before = redis_dump(k.redis_port)
    again = imported(k, dataset)
    assert again["organizations"] == counts(unchanged=2), again
    assert again["providers"] == counts(unchanged=3), again
    assert redis_dump(k.redis_port) == before


def test_an_organization_renamed_to_a_taken_name_is_skipped_with_its_providers(case_korpud):
    k = case_korpud
    u = uid()
    dataset = handmade(u)
    imported(k, dataset)
    taken = make_org(k, name=unique("Taken name"), region="ganja")
    renamed = copy.deepcopy(dataset)
    rows(renamed, "organizations", u, "org-a")["name"] = taken["name"]
    before = redis_dump(k.redis_port)
    rep = imported(k, renamed)
    assert rep["organizations"] == counts(unchanged=1), rep
    assert rep["providers"] == counts(unchanged=2), rep
    skipped = listed(rep["skipped"])
    reason = skipped[("organizations", u + "org-a")]
    assert "name" in reason and "another" in reason, reason
    assert skipped[("service_at_location", u + "P1")] == "its organization was skipped"
    assert redis_dump(k.redis_port) == before
    assert orgs_named(k, taken["name"]) == [taken]


def test_two_organizations_of_one_name_do_not_take_turns(case_korpud):
    """korpu's organization names are unique (folded): a dataset with two
    organizations of one name cannot have both, and must not rewrite one
    korpu organization twice per import."""
    k = case_korpud
    u = uid()
    name = "Dup " + u
    dataset = {
        "organizations": [{"id": u + "o1", "name": name, "legal_status": "charity"},
                          {"id": u + "o2", "name": name.upper(), "legal_status": "ministry"}],
        "services": [{"id": u + "s1", "organization_id": u + "o1", "name": "One"},
                     {"id": u + "s2", "organization_id": u + "o2", "name": "Two"}],
        "locations": [{"id": u + "l1", "organization_id": u + "o1"},
                      {"id": u + "l2", "organization_id": u + "o2"}],
    }
    first = imported(k, dataset, "schools", "ganja")
    assert first["organizations"] == counts(created=1), first
    assert first["providers"] == counts(created=1), first
    skipped = listed(first["skipped"])
    assert "organization %so1 of this dataset has the same name" % u in \
        skipped[("organizations", u + "o2")], first
    # (the service's one-location provider, source_id SERVICE@LOCATION)
    assert skipped[("service_at_location", u + "s2@" + u + "l2")] == \
        "its organization was skipped", first
    [org] = orgs_named(k, name)
    assert org["name"] == name and org["kind"] == "ngo", org
    assert org["source"] == {"dataset": "hsds", "id": u + "o1"}
    before = redis_dump(k.redis_port)
    second = imported(k, dataset, "schools", "ganja")
    assert second["organizations"]["created"] == second["organizations"]["updated"] == 0, \
        (first, second)
    assert second["providers"]["created"] == second["providers"]["updated"] == 0, second
    assert second["skipped"] == first["skipped"]
    assert redis_dump(k.redis_port) == before
    assert orgs_named(k, name) == [org]


def test_many_providers_of_a_skipped_organization_are_skipped_one_by_one(case_korpud):
    """Rows skipped without a Redis round trip, one after the other (here
    the providers of an organization skipped for its name), are as many
    as a dataset under limits.import_max holds: korpud goes through them
    without growing its stack per row."""
    k = case_korpud
    u = uid()
    n = servers.slack(40000, 20000)     # (recursion overflowed 8 MiB at about 12000)
    dataset = {
        "organizations": [{"id": u + "o1", "name": "Many " + u},
                          {"id": u + "o2", "name": "MANY " + u}],
        "services": [{"id": u + "s", "organization_id": u + "o2", "name": "S"}],
        "locations": [{"id": u + "l", "organization_id": u + "o2"}],
        "service_at_location": [{"id": "%d" % i, "service_id": u + "s", "location_id": u + "l"}
                                for i in range(n)],
    }
    r = post_import(k, dataset, "clinics", "baku")
    assert r.status == 200, (r.status, r.body)
    assert r.body["providers"] == counts(), r.body["providers"]
    assert r.body["organizations"] == counts(created=1), r.body["organizations"]
    assert len(r.body["skipped"]) == n + 1
    assert all(e["reason"] == "its organization was skipped" for e in r.body["skipped"][1:])
    assert k.get("/health").status == 200


# ---- what each row becomes, and what is left out ----------------------

def test_a_handmade_dataset_maps_areas_regions_and_hours_and_reports_the_rest(case_korpud):
    k = case_korpud
    u = uid()
    dataset = handmade(u)
    rep = imported(k, dataset)        # no default area or region
    assert rep["organizations"] == counts(created=2), rep
    assert rep["providers"] == counts(created=3), rep
    skipped = listed(rep["skipped"])
    assert set(skipped) == {
        ("organizations", u + "org-c"), ("services", u + "svc-orphan"),
        ("service_at_location", u + "P3"), ("service_at_location", u + "P5"),
        ("service_at_location", u + "P6"), ("schedules", u + "SC4"),
        ("languages", u + "LG4")}, rep["skipped"]
    assert "no name" in skipped[("organizations", u + "org-c")]
    assert skipped[("services", u + "svc-orphan")] == \
        "organization %sorg-c was skipped" % u
    assert skipped[("service_at_location", u + "P5")] == \
        "service %ssvc-orphan was skipped" % u
    assert skipped[("service_at_location", u + "P3")].startswith("no korpu service area")
    assert skipped[("service_at_location", u + "P6")].startswith("no korpu region")
    assert "MONTHLY" in skipped[("schedules", u + "SC4")] or \
        "freq" in skipped[("schedules", u + "SC4")], skipped[("schedules", u + "SC4")]
    assert "Azerbaijani" in skipped[("languages", u + "LG4")]
    warnings = listed(rep["warnings"])
    assert list(warnings) == [("service_at_location", u + "P4")], rep["warnings"]
    assert "no usable opening hours" in warnings[("service_at_location", u + "P4")]

    [a] = orgs_named(k, rows(dataset, "organizations", u, "org-a")["name"])
    [b] = orgs_named(k, rows(dataset, "organizations", u, "org-b")["name"])
    assert (a["kind"], a["region"]) == ("ngo", "ganja")
    assert (b["kind"], b["region"]) == ("government", "baku")
    assert a["source"] == {"dataset": "hsds", "id": u + "org-a"}

    ps = providers_from(k, {u + "P%d" % n for n in range(1, 7)})
    assert set(ps) == {u + "P1", u + "P2", u + "P4"}
    p1, p2, p4 = ps[u + "P1"], ps[u + "P2"], ps[u + "P4"]
    # P1: area from its service's attribute value, region from the
    # address's region (the physical address, not the postal one first).
    assert p1["name"] == "Family clinic (Ganja branch)"
    assert (p1["area"], p1["region"], p1["organization"]) == ("clinics", "ganja", a["id"])
    assert p1["id"].endswith(".ganja")
    assert p1["address"] == "Atatürk pr. 12, Gəncə"
    assert p1["languages"] == ["az", "ru"]
    assert p1["hours"] == [{"days": WEEKDAYS, "open": "09:00", "close": "13:00"},
                           {"days": ["mo", "we"], "open": "14:00", "close": "17:30"}]
    assert p1["timezone"] == "Asia/Baku" and p1["closed"] == []
    # P2: area from a taxonomy term's code, region from the city; hours
    # from its service's schedule.
    assert p2["name"] == "Job centre (Baku office)"
    assert (p2["area"], p2["region"], p2["organization"]) == ("employment", "baku", b["id"])
    assert p2["address"] == "Nizami küç. 5, 2-ci mərtəbə, Baku"
    assert p2["languages"] == []
    assert p2["hours"] == [{"days": ["sa"], "open": "10:00", "close": "16:00"}]
    # P4: area from an attribute without link_entity; imported without hours.
    assert (p4["area"], p4["region"], p4["hours"]) == ("housing", "baku", [])
    with RedisClient(k.redis_port) as c:
        for p in (p1, p2, p4):
            key = "korpu:{r:%s}:load:%s" % (p["region"], p["area"])
            assert c.call("ZSCORE", key, p["id"]) is not None, key
    # Filters of the providers list find them.
    r = k.get("/api/v1/providers?area=clinics&region=ganja&language=az&limit=500",
              token=k.staff.caseworker)
    assert p1["id"] in [x["id"] for x in r.body["items"]]

    # With defaults, the rows that lacked an area or a region import too.
    rep = imported(k, dataset, "integration", "baku")
    assert rep["providers"] == counts(created=2, unchanged=3), rep
    assert ("service_at_location", u + "P3") not in listed(rep["skipped"])
    ps = providers_from(k, {u + "P3", u + "P6"})
    assert (ps[u + "P3"]["area"], ps[u + "P3"]["region"]) == ("integration", "ganja")
    assert (ps[u + "P6"]["area"], ps[u + "P6"]["region"]) == ("integration", "baku")
    # Courses are sessions: a group, as a provider created by hand holds.
    assert ps[u + "P3"]["capacity"] == 12 and ps[u + "P6"]["capacity"] == 12
    assert p1["capacity"] == 1 and p2["capacity"] == 1 and p4["capacity"] == 1
    # HSDS says nothing of capacity: an administrator's outlives a re-import.
    r = k.request("PATCH", "/api/v1/providers/%s" % ps[u + "P3"]["id"],
                  json_body={"capacity": 20}, token=k.staff.admin)
    assert r.status == 200, r.body
    assert imported(k, dataset, "integration", "baku")["providers"] == counts(unchanged=5)
    assert providers_from(k, {u + "P3"})[u + "P3"]["capacity"] == 20


def test_hours_an_import_opens_are_offered_to_the_waitlist(case_korpud):
    """A re-import that gives a provider hours it had not offers the new
    places to those waiting, as a PATCH of its hours does."""
    from test_waitlist import client_for, entry, join, status_becomes
    k = case_korpud
    u = uid()
    dataset = handmade(u)
    imported(k, dataset)
    p4 = providers_from(k, {u + "P4"})[u + "P4"]       # housing in Baku, no hours
    [org] = orgs_named(k, rows(dataset, "organizations", u, "org-b")["name"])
    r = k.request("PUT", "/api/v1/organizations/%s/agreement" % org["id"],
                  json_body={"valid_from": days_from_today(-1), "valid_to": days_from_today(365),
                             "areas": ["housing"]}, token=k.staff.admin)
    assert r.status == 200, r.body
    e = join(k, p4, client_for(k))
    time.sleep(0.3)
    assert entry(k, e)["status"] == "waiting"
    edited = copy.deepcopy(dataset)
    edited["schedules"].append({"id": u + "SC9", "service_at_location_id": u + "P4",
                                "freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR,SA,SU",
                                "opens_at": "09:00", "closes_at": "17:00"})
    assert imported(k, edited)["providers"] == counts(updated=1, unchanged=2)
    assert status_becomes(k, e, "offered")["offer"]["start"]


# ---- errors -------------------------------------------------------------

@pytest.mark.parametrize("body", [b"{", b"not json", b"", b'{"a": 1, "a": 2}'],
                         ids=["truncated", "text", "empty", "duplicate-key"])
def test_a_body_that_is_not_json_is_400(case_korpud, body):
    assert_problem(post_import(case_korpud, None, raw=body), 400)


@pytest.mark.parametrize("dataset", [{"hello": 1}, [], [1, 2], {"contents": []},
                                     {"id": "x", "code": "c", "parent_id": "p"}],
                         ids=["object", "empty-array", "numbers", "empty-list", "term"])
def test_json_that_is_not_an_hsds_dataset_is_422(case_korpud, dataset):
    k = case_korpud
    before = redis_dump(k.redis_port)
    assert_problem(post_import(k, dataset, "clinics", "baku"), 422)
    assert redis_dump(k.redis_port) == before


@pytest.mark.parametrize("query", [
    "default_area=astrology", "default_region=mars", "default_region=BAKU",
    "default_area=clinics&colour=red", "default_area=%ff"])
def test_bad_query_parameters_are_400(case_korpud, query):
    k = case_korpud
    r = k.post(IMPORT + "?" + query, body=json.dumps(handmade(uid())).encode(),
               headers={"Content-Type": "application/json"}, token=k.staff.admin)
    assert_problem(r, 400)


def test_a_body_that_is_not_declared_json_is_415(case_korpud):
    k = case_korpud
    r = k.post(IMPORT, body=json.dumps(handmade(uid())).encode(),
               headers={"Content-Type": "text/csv"}, token=k.staff.admin)
    assert_problem(r, 415)


@pytest.mark.parametrize("who", ["caseworker", "supervisor", "clinic"])
def test_only_an_admin_imports(case_korpud, who):
    k = case_korpud
    u = uid()
    r = post_import(k, handmade(u), token=getattr(k.staff, who))
    assert_problem(r, 403)
    assert providers_from(k, {u + "P1"}) == {}


def test_an_import_needs_a_session(case_korpud):
    r = case_korpud.post(IMPORT, body=b"{}", headers={"Content-Type": "application/json"},
                         token=False)
    assert_problem(r, 401)


def padded(dataset, size):
    """dataset as JSON of exactly size bytes (an ignored table pads it)."""
    dataset = dict(dataset, notes=[{"id": "pad", "text": ""}])
    base = len(json.dumps(dataset).encode())
    dataset["notes"][0]["text"] = "x" * (size - base)
    body = json.dumps(dataset).encode()
    assert len(body) == size
    return body


def test_the_import_takes_up_to_import_max_not_body_max(make_korpud):
    k = make_korpud(conf={"regions": ["baku", "ganja"],
                          "limits": {"body_max": 2048, "import_max": 65536}})
    k.staff = Staff(k)
    u = uid()
    r = post_import(k, None, raw=padded(handmade(u), 65536))
    assert r.status == 200, (r.status, r.body)
    assert r.body["providers"] == counts(created=3), r.body
    r = post_import(k, None, raw=padded(handmade(uid()), 65537))
    assert_problem(r, 413)
    r = post_import(k, None, raw=padded(handmade(uid()), 100000))
    assert_problem(r, 413)
    # Other routes keep body_max.
    r = k.post("/api/v1/organizations", body=padded({"name": "x"}, 4096),
               headers={"Content-Type": "application/json"}, token=k.staff.admin)
    assert_problem(r, 413)


def test_a_long_mapping_does_not_time_out_the_redis_commands_after_it(make_korpud):
    """Reading and mapping a big dataset keeps korpud busy for a while
    before the import's first Redis command; that command still gets its
    whole redis.command_timeout_ms (libevent's clock, cached at the start
    of the loop's turn, must not make it look overdue at once)."""
    timeout_ms = servers.slack(150, 2000)
    k = make_korpud(conf={"regions": ["baku", "ganja"],
                          "limits": {"import_max": 16 * 1024 * 1024},
                          "redis": {"command_timeout_ms": timeout_ms}})
    k.staff = Staff(k)
    u = uid()
    dataset = handmade(u)
    # Languages repeated: each row is read and checked, and none is
    # reported (a provider's languages have no duplicates), so the map
    # takes long and the report stays short.
    n = servers.slack(200000, 20000)
    dataset["languages"] += [{"id": "x%d" % i, "service_id": u + "svc-clinic", "code": "az"}
                             for i in range(n)]
    r = post_import(k, dataset, timeout=servers.slack(30, 300))
    assert r.status == 200, (r.status, r.body)
    assert r.body["providers"] == counts(created=3), r.body["providers"]
    assert len(r.body["skipped"]) == 7, r.body["skipped"]
    assert "redis: a command got no reply" not in k.log_text()
    # (Here that takes 400 ms, 900 ms under ASan: longer than the timeout,
    # or the test shows nothing.)
    [took] = re.findall(r'"POST /api/v1/directory/import" 200 \d+ ([\d.]+)ms', k.log_text())
    if not servers.under_valgrind():
        assert float(took) > timeout_ms, "the import was too quick (%s ms) to show anything" % took


# ---- the audit trail ----------------------------------------------------

def test_an_import_is_in_the_audit_trail(case_korpud):
    k = case_korpud
    u = uid()
    rep = imported(k, handmade(u))

    def record():
        r = k.get("/api/v1/audit?actor=equliyev&limit=500", token=k.staff.admin)
        assert r.status == 200, r.body
        for item in r.body["items"]:
            if item["action"] == "directory.import" and \
                    item["objects"] == {"organizations": rep["organizations"],
                                        "providers": rep["providers"]}:
                return item
        return None
    item = wait_for(record, 5.0, interval=0.05, what="a directory.import audit record")
    assert item["actor"] == "equliyev" and item["outcome"] == "ok"
    assert "admin" in item["roles"]
    # A refused import is no import.
    r = k.get("/api/v1/audit?actor=lmammadova&limit=500", token=k.staff.admin)
    assert all(i["action"] != "directory.import" for i in r.body["items"])


# ---- the command line -----------------------------------------------------

def run_cli(k, *args, timeout=None):
    """korpud -c CONF ARGS, as servers.py runs korpud (under
    $KORPU_E2E_WRAPPER too): a CompletedProcess with text output."""
    argv = servers.wrapper() + [str(k.binary), "-c", str(k.conf_path)] + [str(a) for a in args]
    p = subprocess.run(argv, cwd=str(k.dir), stdin=subprocess.DEVNULL, capture_output=True,
                       env=servers.korpud_env(), start_new_session=True,
                       timeout=timeout or servers.slack(30, 300))
    out = subprocess.CompletedProcess(p.args, p.returncode, p.stdout.decode(errors="replace"),
                                      p.stderr.decode(errors="replace"))
    found = servers.sanitizer_problems(out.stderr)
    assert not found, "korpud %s: %s\n%s" % (" ".join(map(str, args)), found, out.stderr)
    return out


def test_the_command_line_imports_into_the_same_redis(case_korpud, tmp_path):
    k = case_korpud
    u = uid()
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(handmade(u), ensure_ascii=False))
    p = run_cli(k, "-i", path, "-a", "clinics", "-r", "baku")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["organizations"] == counts(created=2), rep
    # The defaults take in P3 (no area) and P6 (no region).
    assert rep["providers"] == counts(created=5), rep
    assert ("service_at_location", u + "P3") not in listed(rep["skipped"])
    # The running korpud serves what the command line wrote.
    ps = providers_from(k, {u + "P%d" % n for n in range(1, 7)})
    assert set(ps) == {u + "P1", u + "P2", u + "P3", u + "P4", u + "P6"}
    assert (ps[u + "P3"]["area"], ps[u + "P3"]["region"]) == ("clinics", "ganja")
    assert (ps[u + "P6"]["area"], ps[u + "P6"]["region"]) == ("integration", "baku")
    assert ps[u + "P1"]["created_by"].startswith("korpud -i (")
    r = k.get("/api/v1/providers/%s" % ps[u + "P2"]["id"], token=k.staff.caseworker)
    assert r.status == 200 and r.body == ps[u + "P2"]
    # A second run changes nothing, and says so.
    before = redis_dump(k.redis_port)
    p = run_cli(k, "-i", path, "-a", "clinics", "-r", "baku")
    assert p.returncode == 0, p.stderr
    again = json.loads(p.stdout)
    assert again["organizations"] == counts(unchanged=2), again
    assert again["providers"] == counts(unchanged=5), again
    assert again["skipped"] == rep["skipped"] and again["warnings"] == rep["warnings"]
    assert redis_dump(k.redis_port) == before
    # And the API's import of the same data agrees.
    assert imported(k, handmade(u), "clinics", "baku")["providers"] == counts(unchanged=5)


def test_the_command_line_fails_with_a_message(case_korpud, tmp_path):
    k = case_korpud
    missing = tmp_path / "no-such-file.json"
    p = run_cli(k, "-i", missing)
    assert p.returncode == 1 and p.stdout == "", p
    assert "no-such-file.json" in p.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"organizations": [')
    p = run_cli(k, "-i", bad, "-r", "baku")
    assert p.returncode == 1 and p.stdout == "", p
    assert "bad.json" in p.stderr
    hello = tmp_path / "hello.json"
    hello.write_text('{"hello": 1}')
    p = run_cli(k, "-i", hello)
    assert p.returncode == 1 and p.stdout == "", p
    assert "import failed" in p.stderr
    good = tmp_path / "good.json"
    good.write_text(json.dumps(handmade(uid())))
    p = run_cli(k, "-i", good, "-a", "astrology")
    assert p.returncode == 1 and "astrology" in p.stderr, p
    p = run_cli(k, "-i", good, "-r", "mars")
    assert p.returncode == 1 and "mars" in p.stderr, p
    # -a or -r without -i is a usage error.
    for args in (("-a", "clinics"), ("-r", "baku")):
        p = run_cli(k, *args)
        assert p.returncode == 2 and p.stdout == "", p
        assert p.stderr.strip(), p
