"""Clients, consent and households over HTTP (API.md, Clients): records
validated on write, one registration number per client however it is
typed (also under a burst of concurrent registrations), names in any
script found by prefix, consent kept with who and when, households of
one region, who may do what, and the audit trail of reads."""
import datetime
import re
import threading
import time
import urllib.parse

import pytest

from casework import client_body, days_from_today, give_consent, make_client, unique
from servers import RedisClient, assert_problem, wait_for

CLIENTS = "/api/v1/clients"
HOUSEHOLDS = "/api/v1/households"
UNKNOWN_IDS = ("0000000000zzzzzzzz.baku", "0000000000zzzzzzzz.mars", "nonsense")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def client_path(c, rest=""):
    return "%s/%s%s" % (CLIENTS, c["id"] if isinstance(c, dict) else c, rest)


def error_fields(r):
    return [e["field"] for e in r.body["errors"]]


def invalid(r, field):
    """r is a 422 whose errors name field."""
    assert_problem(r, 422)
    assert field in error_fields(r), r.body


def search(k, q, token=None, limit=500):
    """GET /clients?q=q: the ids found, in answer order."""
    r = k.get("%s?q=%s&limit=%d" % (CLIENTS, urllib.parse.quote(q), limit),
              token=token or k.staff.caseworker)
    assert r.status == 200, (q, r.status, r.body)
    assert r.body["next_cursor"] is None
    return [c["id"] for c in r.body["items"]]


def unique_regno():
    """A registration number no other test uses ("AZ-pid-n")."""
    return unique("AZ").replace(" ", "-")


def patch(k, c, body, token=None):
    return k.request("PATCH", client_path(c), json_body=body, token=token or k.staff.caseworker)


def put_consent(k, c, area, body, token=None):
    return k.request("PUT", client_path(c, "/consent/%s" % area), json_body=body,
                     token=token or k.staff.caseworker)


def concurrently(calls):
    """Runs each call (a function of no arguments) on its own thread, all
    released at once; returns their results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = calls[i]()
        except Exception as e:     # the caller's assertions report it
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    return results


# ---- create, read, change ------------------------------------------------

def test_a_client_is_created_with_defaults_and_read_back(case_korpud):
    k = case_korpud
    body = {"registration_no": unique_regno(), "given_name": "Rəşad",
            "family_name": "Quliyev", "birth_date": "1985-07-01", "region": "baku"}
    r = k.post(CLIENTS, json_body=body, token=k.staff.caseworker)
    assert r.status == 201, r.body
    c = r.body
    assert re.fullmatch(r"[0-9a-z]{18}\.baku", c["id"]), c["id"]
    for key, value in body.items():
        assert c[key] == value, key
    assert c["languages"] == [] and c["vulnerabilities"] == []
    assert c["needs_interpreter"] is False and c["household_id"] is None
    assert c["consent"] == {} and c["phone"] is None and c["sex"] == "unknown"
    assert c["created_by"] == "lmammadova" and c["updated_by"] == "lmammadova"
    assert RFC3339.match(c["created_at"]), c["created_at"]
    r = k.get(client_path(c), token=k.staff.caseworker)
    assert r.status == 200 and r.body == c
    # another caseworker and a supervisor read the same record
    for token in (k.staff.caseworker2, k.staff.supervisor):
        assert k.get(client_path(c), token=token).body == c


def test_a_full_client_keeps_every_member(case_korpud):
    k = case_korpud
    body = client_body(region="ganja", languages=["az", "ru", "fa"], needs_interpreter=True,
                       vulnerabilities=["disability", "single_parent"], sex="male",
                       phone="+994 (12) 555-01-02")
    c = make_client(k, **body)
    assert c["id"].endswith(".ganja")
    assert {key: c[key] for key in body} == body
    assert k.get(client_path(c), token=k.staff.caseworker).body == c


def test_patch_changes_the_given_members_and_keeps_the_others(case_korpud):
    k = case_korpud
    c = make_client(k, phone="+994 50 111 22 33", languages=["az"])
    change = {"given_name": "Günay", "languages": ["az", "ar"], "needs_interpreter": True,
              "vulnerabilities": ["elderly"], "phone": None}
    r = patch(k, c, change, token=k.staff.caseworker2)
    assert r.status == 200, r.body
    p = r.body
    for key, value in change.items():
        assert p[key] == value, key
    assert p["phone"] is None
    for key in ("id", "registration_no", "family_name", "birth_date", "sex", "region",
                "household_id", "consent", "created_at", "created_by"):
        assert p[key] == c[key], key
    assert p["created_by"] == "lmammadova" and p["updated_by"] == "raliyev"
    assert p["updated_at"] >= c["updated_at"]
    assert k.get(client_path(c), token=k.staff.caseworker).body == p
    # an empty change changes nothing a caseworker wrote
    r = patch(k, c, {})
    assert r.status == 200 and r.body["given_name"] == "Günay" and r.body["phone"] is None


@pytest.mark.parametrize("change,field", [
    ({"registration_no": "AB#1"}, "registration_no"),
    ({"registration_no": None}, "registration_no"),
    ({"registration_no": ""}, "registration_no"),
    ({"region": "ganja"}, "region"),
    ({"region": "baku"}, "region"),
    ({"given_name": 5}, "given_name"),
    ({"given_name": None}, "given_name"),
    ({"given_name": "  "}, "given_name"),
    ({"needs_interpreter": "yes"}, "needs_interpreter"),
    ({"languages": "az"}, "languages"),
    ({"languages": ["az", "az"]}, "languages[1]"),
    ({"vulnerabilities": [1]}, "vulnerabilities[0]"),
    ({"birth_date": "12.04.1990"}, "birth_date"),
    ({"sex": "robot"}, "sex"),
    ({"phone": 994501234567}, "phone"),
    ({"household_id": "0000000000zzzzzzzz.baku"}, "household_id"),
    ({"consent": {}}, "consent"),
    ({"created_by": "someone"}, "created_by"),
])
def test_a_bad_patch_is_422_naming_the_field_and_changes_nothing(case_korpud, change, field):
    k = case_korpud
    c = make_client(k)
    invalid(patch(k, c, change), field)
    assert k.get(client_path(c), token=k.staff.caseworker).body == c


def test_concurrent_changes_of_one_client_are_all_kept(case_korpud):
    k = case_korpud
    c = make_client(k)
    changes = [{"given_name": "Elvin"}, {"family_name": "Kərimli"}, {"birth_date": "1979-03-08"},
               {"sex": "male"}, {"phone": None}, {"vulnerabilities": ["chronic_illness"]}]
    tokens = [k.staff.caseworker, k.staff.caseworker2]
    answers = concurrently([
        (lambda ch=ch, t=tokens[i % 2]: patch(k, c, ch, token=t))
        for i, ch in enumerate(changes)])
    assert [getattr(a, "status", a) for a in answers] == [200] * len(changes)
    got = k.get(client_path(c), token=k.staff.caseworker).body
    for ch in changes:
        for key, value in ch.items():
            assert got[key] == value, (key, got)
    assert got["registration_no"] == c["registration_no"] and got["languages"] == c["languages"]
    # the name index followed every change: the new name finds the client
    assert c["id"] in search(k, "elvin kərimli")


def test_patch_of_an_unknown_client_is_404(case_korpud):
    k = case_korpud
    for cid in UNKNOWN_IDS:
        assert_problem(patch(k, cid, {"given_name": "X"}), 404)


def test_get_of_an_unknown_client_is_404(case_korpud):
    k = case_korpud
    for cid in UNKNOWN_IDS:
        assert_problem(k.get(client_path(cid), token=k.staff.caseworker), 404)


@pytest.mark.parametrize("change,field", [
    ({"given_name": None}, "given_name"),
    ({"family_name": ""}, "family_name"),
    ({"birth_date": None}, "birth_date"),
    ({"registration_no": None}, "registration_no"),
    ({"region": None}, "region"),
    ({"birth_date": "2026-02-30"}, "birth_date"),
    ({"birth_date": "1899-12-31"}, "birth_date"),
    ({"birth_date": days_from_today(30)}, "birth_date"),
    ({"sex": "robot"}, "sex"),
    ({"phone": "call me"}, "phone"),
    ({"phone": "+994 50 12a 45 67"}, "phone"),
    ({"languages": ["Azerbaijani"]}, "languages[0]"),
    ({"languages": ["az", "AZ"]}, "languages[1]"),
    ({"languages": ["a"]}, "languages[0]"),
    ({"vulnerabilities": ["Needs Help!"]}, "vulnerabilities[0]"),
    ({"vulnerabilities": ["ok", "x y"]}, "vulnerabilities[1]"),
    ({"needs_interpreter": 1}, "needs_interpreter"),
    ({"colour": "red"}, "colour"),
    ({"given_name": "Ay\u0007şə"}, "given_name"),
    ({"family_name": "Məmmədova\n"}, "family_name"),
    ({"given_name": "Ay\u0085şə"}, "given_name"),
    ({"given_name": "A" * 101}, "given_name"),
    ({"given_name": "\u00a0"}, "given_name"),             # no-break space alone
    ({"family_name": "\u0640\u064e"}, "family_name"),     # tatweel and a fatha: no letter
    ({"region": "mars"}, "region"),
    ({"registration_no": "AB#1"}, "registration_no"),
    ({"registration_no": "--  -"}, "registration_no"),
    ({"registration_no": "AZ-№1"}, "registration_no"),
])
def test_a_bad_client_is_422_naming_the_field(case_korpud, change, field):
    """change: members to set on a good body (None: leave the member out)."""
    k = case_korpud
    body = client_body()
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    r = k.post(CLIENTS, json_body=body, token=k.staff.caseworker)
    invalid(r, field)
    # nothing was registered under the number
    if "registration_no" in body and "registration_no" not in change:
        assert search(k, body["registration_no"]) == []


def test_a_child_born_today_anywhere_can_be_registered(case_korpud):
    """"Today" is the latest date on Earth (UTC+14): a baby born in Baku
    just after midnight is born on a date UTC has not reached yet."""
    k = case_korpud
    latest = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=14))).date()
    body = client_body()
    body["birth_date"] = latest.isoformat()
    r = k.post(CLIENTS, json_body=body, token=k.staff.caseworker)
    assert r.status == 201, r.body
    body = client_body()
    body["birth_date"] = (latest + datetime.timedelta(days=1)).isoformat()
    invalid(k.post(CLIENTS, json_body=body, token=k.staff.caseworker), "birth_date")


def test_a_body_that_is_not_an_object_is_refused(case_korpud):
    k = case_korpud
    for body in ([], "client", 5):
        r = k.post(CLIENTS, json_body=body, token=k.staff.caseworker)
        assert r.status in (400, 422), (body, r.status, r.body)
        assert_problem(r, r.status)


# ---- one client per registration number ------------------------------------

def test_a_registration_number_is_taken_once_however_it_is_typed(case_korpud):
    k = case_korpud
    n = unique("").strip().replace("-", "")        # digits only, unique
    first = make_client(k, registration_no="AZ2026%s" % n)
    for typed in ("AZ2026%s" % n, "az-2026 %s" % n, "Az 2026-%s" % n, " AZ-2026-%s " % n):
        for region in ("baku", "ganja"):
            r = k.post(CLIENTS, json_body=client_body(region, registration_no=typed),
                       token=k.staff.caseworker2)
            assert_problem(r, 409)
            assert r.body["client_id"] == first["id"], (typed, r.body)
            assert "registration_no" in r.body["detail"]
    # the first client is untouched and is the only one found by the number
    assert k.get(client_path(first), token=k.staff.caseworker).body == first
    assert search(k, "az 2026-%s" % n) == [first["id"]]


def test_fifty_concurrent_registrations_of_one_number_make_one_client(case_korpud):
    k = case_korpud
    regno = unique_regno()
    bodies = [client_body("baku" if i % 2 else "ganja", registration_no=regno,
                          given_name="Paralel%d" % i) for i in range(50)]
    # each request on a connection of its own (http_request opens one per call)
    answers = concurrently([
        (lambda b=b: k.post(CLIENTS, json_body=b, token=k.staff.caseworker, timeout=20.0))
        for b in bodies])
    statuses = sorted(a.status if hasattr(a, "status") else repr(a) for a in answers)
    assert statuses.count(201) == 1 and statuses.count(409) == 49, statuses
    winner = next(a.body for a in answers if a.status == 201)
    for a in answers:
        if a.status == 409:
            assert_problem(a, 409)
            assert a.body["client_id"] == winner["id"], a.body
    r = k.get("%s?q=%s" % (CLIENTS, urllib.parse.quote(regno)), token=k.staff.caseworker)
    assert r.status == 200 and r.body["items"] == [winner]


def regno_key(typed):
    """The key of a registration number's claim (as korpud normalizes it)."""
    return "korpu:{reg}:regno:%s" % re.sub(r"[ -]", "", typed).upper()


def regno_claim(k, typed):
    """The claim a registration number has in Redis ("ID|ms"), or None."""
    with RedisClient(k.redis_port) as c:
        v = c.call("GET", regno_key(typed))
    return v.decode() if v else None


def test_a_mistyped_registration_number_can_be_corrected(case_korpud):
    k = case_korpud
    old, new = unique_regno(), unique_regno()
    c = make_client(k, registration_no=old)
    r = patch(k, c, {"registration_no": new.lower().replace("-", " ")})
    assert r.status == 200, r.body
    assert r.body["registration_no"] == new.lower().replace("-", " ")
    assert k.get(client_path(c), token=k.staff.caseworker).body == r.body
    # Found by the new number only; the old one is free again.
    assert search(k, new) == [c["id"]]
    assert search(k, old) == []
    wait_for(lambda: regno_claim(k, old) is None, 5.0, what="the old number given back")
    assert regno_claim(k, new).startswith(c["id"] + "|")
    other = make_client(k, registration_no=old)
    assert search(k, old) == [other["id"]]
    # The same number typed another way is no change of number.
    r = patch(k, c, {"registration_no": new})
    assert r.status == 200 and r.body["registration_no"] == new
    assert search(k, new) == [c["id"]]
    # The change is audited.
    r = k.get("/api/v1/audit?client_id=%s" % c["id"], token=k.staff.admin)
    assert r.status == 200
    assert [e["action"] for e in r.body["items"]].count("client.update") >= 2, r.body


def test_changing_back_to_an_old_number_renews_its_claim(case_korpud):
    """A claim the client left behind on its old number (a give-back that
    failed long ago) is renewed when the client takes the number again,
    so nobody takes it over as stale meanwhile; the number it leaves is
    given back."""
    k = case_korpud
    a, b = unique_regno(), unique_regno()
    c = make_client(k, registration_no=a)
    assert patch(k, c, {"registration_no": b}).status == 200
    wait_for(lambda: regno_claim(k, a) is None, 5.0, what="the old number given back")
    with RedisClient(k.redis_port) as r:
        r.call("SET", regno_key(a), "%s|1000" % c["id"])
    assert regno_claim(k, a) == "%s|1000" % c["id"]
    t0 = time.time() * 1000
    r = patch(k, c, {"registration_no": a})
    assert r.status == 200, r.body
    claim = regno_claim(k, a)
    assert claim.startswith(c["id"] + "|") and int(claim.split("|")[1]) >= t0 - 1000, claim
    wait_for(lambda: regno_claim(k, b) is None, 5.0, what="the number left given back")
    assert search(k, a) == [c["id"]] and search(k, b) == []


def test_a_number_another_client_has_is_409_naming_it(case_korpud):
    k = case_korpud
    a = make_client(k)
    b = make_client(k, region="ganja")
    r = patch(k, b, {"registration_no": a["registration_no"].lower(), "phone": "+994 12 000"})
    assert_problem(r, 409)
    assert r.body["client_id"] == a["id"], r.body
    # Nothing of the change was stored, and both keep their numbers.
    assert k.get(client_path(b), token=k.staff.caseworker).body == b
    assert search(k, a["registration_no"]) == [a["id"]]
    assert search(k, b["registration_no"]) == [b["id"]]


def test_a_new_number_for_an_unknown_client_is_404_and_claims_nothing(case_korpud):
    k = case_korpud
    regno = unique_regno()
    for cid in UNKNOWN_IDS:
        assert_problem(patch(k, cid, {"registration_no": regno}), 404)
    time.sleep(0.2)
    assert regno_claim(k, regno) is None
    make_client(k, registration_no=regno)


def test_twenty_clients_racing_for_one_new_number_one_gets_it(case_korpud):
    k = case_korpud
    clients = [make_client(k, region="baku" if i % 2 else "ganja") for i in range(20)]
    regno = unique_regno()
    answers = concurrently([
        (lambda c=c: patch(k, c, {"registration_no": regno})) for c in clients])
    statuses = sorted(a.status if hasattr(a, "status") else repr(a) for a in answers)
    assert statuses.count(200) == 1 and statuses.count(409) == 19, statuses
    winner = next(c for c, a in zip(clients, answers) if a.status == 200)
    assert search(k, regno) == [winner["id"]]
    for c, a in zip(clients, answers):
        if a.status == 409:
            assert a.body["client_id"] == winner["id"], a.body
            assert k.get(client_path(c), token=k.staff.caseworker).body == c
            assert search(k, c["registration_no"]) == [c["id"]]


# ---- finding clients -------------------------------------------------------

NAMES = {
    # key: (given_name, family_name, queries that find it)
    "az1": ("Ramil", "Əliyev", ["əli", "ƏLİ", "Əli", "ƏLIYEV", "əliyev"]),
    "az2": ("İsmayıl", "Həsənov", ["ismayil", "ISMAYIL", "İsmayıl", "ismayıl", "İSMAYIL"]),
    "az3": ("Şəhla", "Göyçəli", ["şəh", "ŞƏHLA", "göyçə", "GÖYÇƏ"]),
    "az4": ("Çingiz", "Ağayev", ["çin", "ÇİNGİZ", "ağa", "AĞA"]),
    "az5": ("Üzeyir", "Hacıbəyli", ["üzey", "ÜZEYİR", "hacıbəy", "HACIBƏY", "hacibəy"]),
    "ru": ("Лейла", "Мамедова", ["мам", "МАМ", "Мамедова", "лей", "ЛЕЙЛА"]),
    "ar": ("محمد", "العلي", ["محم", "محمد", "مُحَمَّد", "العل", "العلی", "محمد العلی"]),
    "fa": ("فاطمه", "رضایی", ["فاط", "فاطمه", "رضای", "رضاي", "رضايي", "رضاىى"]),
    "fa2": ("کریم", "کاظمی", ["کری", "كري", "كريم", "كاظمي", "کاظمی"]),
}


@pytest.fixture(scope="module")
def named(case_korpud):
    """One client per NAMES entry, by key."""
    k = case_korpud
    return {key: make_client(k, given_name=g, family_name=f, region="ganja" if i % 2 else "baku")
            for i, (key, (g, f, _)) in enumerate(NAMES.items())}


@pytest.mark.parametrize("key", sorted(NAMES))
def test_names_round_trip_byte_for_byte(case_korpud, named, key):
    k = case_korpud
    given, family, _ = NAMES[key]
    c = named[key]
    r = k.get(client_path(c), token=k.staff.caseworker)
    assert r.status == 200
    assert r.body["given_name"] == given and r.body["family_name"] == family
    assert given.encode("utf-8") in r.raw and family.encode("utf-8") in r.raw


@pytest.mark.parametrize("key,query", [(key, q) for key in sorted(NAMES) for q in NAMES[key][2]])
def test_names_are_found_by_prefix_in_any_case_and_keyboard(case_korpud, named, key, query):
    assert named[key]["id"] in search(case_korpud, query)


def test_a_search_does_not_merge_different_letters(case_korpud, named):
    k = case_korpud
    # o/ö, c/ç, s/ş, g/ğ and e/ə tell different Azerbaijani letters apart
    assert named["az3"]["id"] not in search(k, "goyce")
    assert named["az3"]["id"] not in search(k, "sehla")
    assert named["az4"]["id"] not in search(k, "cingiz")
    assert named["az1"]["id"] not in search(k, "eli")
    # a prefix of something else finds nothing of these
    assert named["ru"]["id"] not in search(k, "мамк")


def test_search_by_given_family_and_family_given(case_korpud):
    k = case_korpud
    family = unique("Nəsibova").replace(" ", "")
    c = make_client(k, given_name="Səbinə", family_name=family, region="ganja")
    other = make_client(k, given_name="Səbinə", family_name="Başqa" + family)
    for q in ("Səbinə " + family, "səbinə " + family[:5], "SƏBİNƏ  " + family.upper(),
              family + " Səbinə", family.lower() + " səb", "  " + family + "\u00a0\u00a0s "):
        found = search(k, q)
        assert c["id"] in found and other["id"] not in found, (q, found)
    # the words must come in one of the two orders, from their starts
    assert c["id"] not in search(k, "binə " + family)


def test_the_exact_registration_number_comes_first(case_korpud):
    k = case_korpud
    regno = "KR" + unique("").strip().replace("-", "")
    # clients whose names start like the number come after it
    by_name = [make_client(k, given_name=regno + "x", family_name="Ad")["id"] for _ in range(2)]
    c = make_client(k, registration_no=regno, region="ganja")
    for q in (regno, regno.lower(), regno[:2] + "-" + regno[2:]):
        found = search(k, q)
        assert found[0] == c["id"], (q, found)
    assert set(by_name) <= set(search(k, regno))
    r = k.get("%s?q=%s&limit=1" % (CLIENTS, regno), token=k.staff.caseworker)
    assert [x["id"] for x in r.body["items"]] == [c["id"]]


def test_a_renamed_client_is_found_by_the_new_name_only(case_korpud):
    k = case_korpud
    old = unique("Köhnəad").replace(" ", "")
    new = unique("Yeniad").replace(" ", "")
    family = unique("Soyad").replace(" ", "")
    c = make_client(k, given_name=old, family_name=family)
    assert search(k, old) == [c["id"]]
    assert search(k, family + " " + old) == [c["id"]]
    r = patch(k, c, {"given_name": new})
    assert r.status == 200, r.body
    assert search(k, old) == [] and search(k, family + " " + old) == []
    assert search(k, new.upper()) == [c["id"]]
    assert search(k, new + " " + family) == [c["id"]]
    assert search(k, family + " " + new[:4]) == [c["id"]]
    # the family name, unchanged, still finds the client once
    assert search(k, family) == [c["id"]]
    # renaming the family name too
    r = patch(k, c, {"family_name": "Z" + family})
    assert r.status == 200
    assert search(k, family) == [] and search(k, "z" + family) == [c["id"]]


@pytest.mark.parametrize("query", ["q=%20%20", "q=%20%09%C2%A0", "q=%D9%80",
                                   "colour=red", "q=a&colour=red", "limit=0", "limit=501",
                                   "limit=many", "q=a&limit=0", "q=%FF", "cursor=@mars",
                                   "cursor=nonsense"])
def test_bad_search_parameters_are_400(case_korpud, query):
    k = case_korpud
    assert_problem(k.get("%s?%s" % (CLIENTS, query), token=k.staff.caseworker), 400)


def test_the_list_without_q_pages_across_regions_without_repeats(case_korpud):
    k = case_korpud
    made = {make_client(k, region=reg)["id"] for reg in ("baku", "ganja", "baku", "ganja", "ganja")}
    seen, regions, cursor = [], set(), None
    for _ in range(200):
        r = k.get("%s?limit=3%s" % (CLIENTS, "&cursor=" + cursor if cursor else ""),
                  token=k.staff.supervisor)
        assert r.status == 200, r.body
        assert len(r.body["items"]) <= 3
        seen += [c["id"] for c in r.body["items"]]
        regions |= {c["region"] for c in r.body["items"]}
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
    assert cursor is None
    assert made <= set(seen) and len(seen) == len(set(seen))
    assert regions == {"baku", "ganja"}
    # all at once gives the same clients
    r = k.get("%s?limit=500" % CLIENTS, token=k.staff.caseworker)
    assert sorted(c["id"] for c in r.body["items"]) == sorted(seen)
    # an empty q is no q
    r = k.get("%s?q=&limit=500" % CLIENTS, token=k.staff.caseworker)
    assert r.status == 200 and made <= {c["id"] for c in r.body["items"]}


# ---- consent ---------------------------------------------------------------

def test_consent_is_recorded_with_who_and_when(case_korpud):
    k = case_korpud
    c = make_client(k)
    r = put_consent(k, c, "clinics", {"service": True, "share": False})
    assert r.status == 200, r.body
    first = r.body["consent"]["clinics"]
    assert first["service"] is True and first["share"] is False
    assert first["recorded_by"] == "lmammadova" and RFC3339.match(first["recorded_at"])
    assert r.body["consent_log"] == [dict(first, area="clinics")]
    # a later answer replaces the current one; the log keeps both, in order
    r = put_consent(k, c, "clinics", {"service": True, "share": True}, token=k.staff.caseworker2)
    assert r.status == 200
    now = r.body["consent"]["clinics"]
    assert now["share"] is True and now["recorded_by"] == "raliyev"
    assert [e["recorded_by"] for e in r.body["consent_log"]] == ["lmammadova", "raliyev"]
    assert r.body["consent_log"][0] == dict(first, area="clinics")
    # areas are separate
    give_consent(k, c, "housing", service=False, share=False)
    got = k.get(client_path(c), token=k.staff.caseworker).body
    assert set(got["consent"]) == {"clinics", "housing"}
    assert got["consent"]["clinics"] == now and got["consent"]["housing"]["service"] is False
    assert [e["area"] for e in got["consent_log"]] == ["clinics", "clinics", "housing"]
    assert got["updated_by"] == "lmammadova"
    # the rest of the client is as it was
    for key in ("given_name", "family_name", "registration_no", "phone", "languages"):
        assert got[key] == c[key]


def test_concurrent_consents_for_several_areas_are_all_kept(case_korpud):
    k = case_korpud
    c = make_client(k)
    areas = ["employment", "schools", "clinics", "housing", "integration"]
    answers = concurrently([
        (lambda a=a, i=i: put_consent(k, c, a, {"service": True, "share": i % 2 == 0}))
        for i, a in enumerate(areas)])
    assert [getattr(a, "status", a) for a in answers] == [200] * len(areas)
    got = k.get(client_path(c), token=k.staff.caseworker).body
    assert set(got["consent"]) == set(areas)
    for i, a in enumerate(areas):
        assert got["consent"][a]["share"] is (i % 2 == 0)
    assert sorted(e["area"] for e in got["consent_log"]) == sorted(areas)


def test_consent_for_an_unknown_area_is_404(case_korpud):
    k = case_korpud
    c = make_client(k)
    for area in ("astrology", "CLINICS", "clinics.x"):
        assert_problem(put_consent(k, c, area, {"service": True, "share": True}), 404)
    assert k.get(client_path(c), token=k.staff.caseworker).body["consent"] == {}


@pytest.mark.parametrize("body,field", [
    ({"service": "yes", "share": False}, "service"),
    ({"service": True}, "share"),
    ({"share": True}, "service"),
    ({"service": True, "share": None}, "share"),
    ({"service": True, "share": 1}, "share"),
    ({"service": True, "share": True, "until": "2027-01-01"}, "until"),
])
def test_a_bad_consent_is_422(case_korpud, body, field):
    k = case_korpud
    c = make_client(k)
    invalid(put_consent(k, c, "clinics", body), field)
    assert k.get(client_path(c), token=k.staff.caseworker).body == c


def test_consent_for_an_unknown_client_is_404(case_korpud):
    k = case_korpud
    for cid in UNKNOWN_IDS:
        assert_problem(put_consent(k, cid, "clinics", {"service": True, "share": True}), 404)


# ---- households -------------------------------------------------------------

def test_a_household_joins_its_members(case_korpud):
    k = case_korpud
    a, b = make_client(k, given_name="Ana"), make_client(k, given_name="Bala")
    r = k.post(HOUSEHOLDS, json_body={"members": [a["id"], b["id"]]}, token=k.staff.caseworker)
    assert r.status == 201, r.body
    h = r.body
    assert h["members"] == [a["id"], b["id"]] and h["id"].endswith(".baku")
    assert h["id"] != a["id"] and h["id"] != b["id"]
    r = k.get("%s/%s" % (HOUSEHOLDS, h["id"]), token=k.staff.caseworker)
    assert r.status == 200, r.body
    assert r.body["id"] == h["id"] and r.body["members"] == h["members"]
    assert [c["id"] for c in r.body["clients"]] == [a["id"], b["id"]]
    assert all(c["household_id"] == h["id"] for c in r.body["clients"])
    assert [c["given_name"] for c in r.body["clients"]] == ["Ana", "Bala"]
    for c in (a, b):
        got = k.get(client_path(c), token=k.staff.caseworker).body
        assert got["household_id"] == h["id"] and got["given_name"] == c["given_name"]
    # a supervisor reads it too
    assert k.get("%s/%s" % (HOUSEHOLDS, h["id"]), token=k.staff.supervisor).status == 200


def test_a_household_lives_in_its_members_region(case_korpud):
    k = case_korpud
    ms = [make_client(k, region="ganja")["id"] for _ in range(3)]
    r = k.post(HOUSEHOLDS, json_body={"members": ms}, token=k.staff.caseworker)
    assert r.status == 201, r.body
    assert r.body["id"].endswith(".ganja") and r.body["members"] == ms


def test_a_client_is_in_one_household_only(case_korpud):
    k = case_korpud
    a, b, c = (make_client(k)["id"] for _ in range(3))
    r = k.post(HOUSEHOLDS, json_body={"members": [a, b]}, token=k.staff.caseworker)
    assert r.status == 201
    first = r.body["id"]
    for members, field in (([c, a], "members[1]"), ([b, c], "members[0]"), ([a, b], "members[0]")):
        invalid(k.post(HOUSEHOLDS, json_body={"members": members}, token=k.staff.caseworker),
                field)
    assert k.get(client_path(c), token=k.staff.caseworker).body["household_id"] is None
    assert k.get(client_path(a), token=k.staff.caseworker).body["household_id"] == first


def test_concurrent_households_never_share_a_member(case_korpud):
    k = case_korpud
    shared = make_client(k)["id"]
    others = [make_client(k)["id"] for _ in range(8)]
    answers = concurrently([
        (lambda o=o: k.post(HOUSEHOLDS, json_body={"members": [shared, o]},
                            token=k.staff.caseworker))
        for o in others])
    statuses = [getattr(a, "status", a) for a in answers]
    assert statuses.count(201) == 1, statuses
    assert all(s in (201, 409, 422) for s in statuses), statuses
    winner = next(a.body for a in answers if a.status == 201)
    for a in answers:
        if a.status != 201:
            assert_problem(a, a.status)
    assert k.get(client_path(shared), token=k.staff.caseworker).body["household_id"] == \
        winner["id"]
    for o in others:
        hid = k.get(client_path(o), token=k.staff.caseworker).body["household_id"]
        assert hid == (winner["id"] if o in winner["members"] else None), (o, hid)


def test_a_bad_household_is_422(case_korpud):
    k = case_korpud
    a, b = make_client(k)["id"], make_client(k)["id"]
    g = make_client(k, region="ganja")["id"]
    for body, field in (
            ({"members": [a, g]}, "members[1]"),                    # two regions
            ({"members": [a]}, "members"),                          # one member
            ({"members": []}, "members"),
            ({"members": [a, a]}, "members[1]"),                    # listed twice
            ({"members": [a, "0000000000zzzzzzzz.baku"]}, "members[1]"),   # not a client
            ({"members": [a, "0000000000zzzzzzzz.mars"]}, "members[1]"),
            ({"members": ["nonsense", a]}, "members[0]"),
            ({"members": [a, 5]}, "members[1]"),
            ({"members": a}, "members"),
            ({}, "members"),
            ({"members": [a, b], "name": "Family"}, "name")):
        invalid(k.post(HOUSEHOLDS, json_body=body, token=k.staff.caseworker), field)
    # none of them joined anything
    for cid in (a, b, g):
        assert k.get(client_path(cid), token=k.staff.caseworker).body["household_id"] is None


def test_an_unknown_household_is_404(case_korpud):
    k = case_korpud
    for hid in UNKNOWN_IDS:
        assert_problem(k.get("%s/%s" % (HOUSEHOLDS, hid), token=k.staff.caseworker), 404)
    # a client's id is not a household's
    c = make_client(k)
    assert_problem(k.get("%s/%s" % (HOUSEHOLDS, c["id"]), token=k.staff.caseworker), 404)


# ---- who may do what -------------------------------------------------------

@pytest.fixture(scope="module")
def household(case_korpud):
    k = case_korpud
    a, b = make_client(k), make_client(k)
    r = k.post(HOUSEHOLDS, json_body={"members": [a["id"], b["id"]]}, token=k.staff.caseworker)
    assert r.status == 201, r.body
    return k.get(client_path(a), token=k.staff.caseworker).body, r.body


def client_calls(c, h):
    """Every client route: (method, path, body)."""
    return [
        ("GET", CLIENTS, None),
        ("GET", CLIENTS + "?q=" + urllib.parse.quote(c["family_name"]), None),
        ("GET", client_path(c), None),
        ("GET", "%s/%s" % (HOUSEHOLDS, h["id"]), None),
        ("POST", CLIENTS, client_body()),
        ("PATCH", client_path(c), {"given_name": "Dəyişən"}),
        ("PUT", client_path(c, "/consent/clinics"), {"service": True, "share": True}),
        ("POST", HOUSEHOLDS, {"members": [c["id"], c["id"]]}),
    ]


@pytest.mark.parametrize("who", ["clinic", "employment", "housing"])
def test_provider_staff_never_reach_clients(case_korpud, household, who):
    k = case_korpud
    c, h = household
    for method, path, body in client_calls(c, h):
        r = k.request(method, path, json_body=body, token=getattr(k.staff, who))
        assert_problem(r, 403)
    assert k.get(client_path(c), token=k.staff.caseworker).body == c


def test_a_supervisor_reads_clients_but_changes_nothing(case_korpud, household):
    k = case_korpud
    c, h = household
    for method, path, body in client_calls(c, h):
        r = k.request(method, path, json_body=body, token=k.staff.supervisor)
        if method == "GET":
            assert r.status == 200, (path, r.status, r.body)
        else:
            assert_problem(r, 403)
    assert k.get(client_path(c), token=k.staff.supervisor).body == c


def test_an_admin_does_not_read_clients(case_korpud, household):
    k = case_korpud
    c, h = household
    for method, path, body in client_calls(c, h):
        assert_problem(k.request(method, path, json_body=body, token=k.staff.admin), 403)


def test_without_a_session_it_is_401(case_korpud, household):
    k = case_korpud
    c, h = household
    for method, path, body in client_calls(c, h):
        assert_problem(k.request(method, path, json_body=body, token=False), 401)


# ---- audit ------------------------------------------------------------------

def audit_of(k, cid):
    r = k.get("/api/v1/audit?client_id=%s&limit=500" % cid, token=k.staff.admin)
    assert r.status == 200, r.body
    return r.body["items"]


def test_reads_and_changes_of_a_client_are_audited(case_korpud):
    k = case_korpud
    c = make_client(k)
    assert k.get(client_path(c), token=k.staff.caseworker).status == 200
    assert k.get(client_path(c), token=k.staff.supervisor).status == 200
    assert patch(k, c, {"phone": None}, token=k.staff.caseworker2).status == 200
    give_consent(k, c, "clinics")

    def complete():
        items = audit_of(k, c["id"])
        return items if len(items) >= 5 else None
    items = wait_for(complete, 5.0, what="five audit records of %s" % c["id"])
    assert all(i["objects"]["client_id"] == c["id"] for i in items)
    got = [(i["action"], i["actor"], i["outcome"]) for i in items]
    # newest first
    assert got == [("client.consent", "lmammadova", "ok"),
                   ("client.update", "raliyev", "ok"),
                   ("client.read", "nhuseynova", "ok"),
                   ("client.read", "lmammadova", "ok"),
                   ("client.create", "lmammadova", "ok")], got
    read = items[3]
    assert "caseworker" in read["roles"] and RFC3339.match(read["at"])
    # an unknown client's id has no record; a failed read is not a read
    assert_problem(k.get(client_path("0000000000zzzzzzzz.baku"), token=k.staff.caseworker), 404)
    assert audit_of(k, "0000000000zzzzzzzz.baku") == []


def test_a_refused_duplicate_is_audited_against_the_existing_client(case_korpud):
    k = case_korpud
    c = make_client(k)
    r = k.post(CLIENTS, json_body=client_body(registration_no=c["registration_no"]),
               token=k.staff.caseworker2)
    assert_problem(r, 409)

    def dup():
        return [i for i in audit_of(k, c["id"]) if i["outcome"] == "duplicate"]
    items = wait_for(dup, 5.0, what="the duplicate's audit record")
    assert items[0]["action"] == "client.create" and items[0]["actor"] == "raliyev"


def test_searches_lists_and_household_reads_are_in_the_clients_audit_trail(case_korpud):
    k = case_korpud
    a = make_client(k, given_name=unique("Audited").replace(" ", ""))
    b = make_client(k)
    assert k.get(CLIENTS + "?q=" + urllib.parse.quote(a["given_name"]), token=k.staff.caseworker).status == 200
    h = k.post("/api/v1/households", json_body={"members": [a["id"], b["id"]]},
               token=k.staff.caseworker)
    assert h.status == 201, h.body
    assert k.get("/api/v1/households/%s" % h.body["id"], token=k.staff.supervisor).status == 200

    def actions():
        got = {i["action"] for i in audit_of(k, a["id"])}
        return got if {"client.search", "household.create", "household.read"} <= got else None
    wait_for(actions, 5.0, what="search and household records of %s" % a["id"])
