#!/usr/bin/python3
"""demo-seed.py - fills a fresh korpu with a small demo directory and a
few clients, through the HTTP API, as its admin and a caseworker would.

    contrib/demo-seed.py http://127.0.0.1:8080

Organizations are tied to the demo LDAP directory's organizations
(contrib/ldap/demo.ldif) by directory_name, so the demo provider staff see
their own organization's referrals. Running it twice changes nothing: an
organization that exists (409) is looked up instead, and a provider or
client is only made for an organization or registration number that is
new. Talks to the given URL only; used by contrib/demo.sh."""
import json
import sys
import urllib.error
import urllib.request

ADMIN = ("equliyev", "elchin-demo-2026")
CASEWORKER = ("lmammadova", "leyla-demo-2026")

WEEKDAYS = ["mo", "tu", "we", "th", "fr"]
ORGS = [
    # name, kind, region, directory_name, areas
    ("Dövlət Məşğulluq Agentliyi", "agency", "baku", "org-employment", ["employment"]),
    ("Mərkəzi Poliklinika", "government", "baku", "org-clinic", ["clinics"]),
    ("Sığınacaq İctimai Birliyi", "ngo", "baku", "org-housing", ["housing"]),
    ("Bakı Təhsil İdarəsi", "government", "baku", None, ["schools"]),
    ("İnteqrasiya Mərkəzi", "ngo", "baku", None, ["integration"]),
]
PROVIDERS = [
    # organization directory/name index, area, name, address, languages, slot, capacity, hours
    (0, "employment", "Nəsimi Məşğulluq Mərkəzi", "Nizami küç. 12, Bakı", ["az", "ru", "en"], 30, 1,
     [{"days": WEEKDAYS, "open": "09:00", "close": "13:00"},
      {"days": WEEKDAYS, "open": "14:00", "close": "17:00"}]),
    (1, "clinics", "Poliklinika №5", "Füzuli küç. 40, Bakı", ["az", "ru"], 20, 1,
     [{"days": WEEKDAYS, "open": "08:30", "close": "16:30"}]),
    (2, "housing", "Sığınacaq qəbul məntəqəsi", "Atatürk pr. 3, Bakı", ["az", "ru", "ar", "fa"], 45, 1,
     [{"days": ["mo", "we", "fr"], "open": "10:00", "close": "15:00"}]),
    (3, "schools", "158 nömrəli məktəb", "Yasamal r., Bakı", ["az", "ru"], 30, 25,
     [{"days": WEEKDAYS, "open": "09:00", "close": "12:00"}]),
    (4, "integration", "Azərbaycan dili kursları", "Xətai r., Bakı", ["az", "ru", "en", "ar"], 90, 12,
     [{"days": ["tu", "th"], "open": "18:00", "close": "21:00"}]),
]
CLIENTS = [
    ("AZ-2026-000101", "Ahmad", "Karimi", "1988-03-14", "male", ["fa", "ru"], True, ["single_parent"]),
    ("AZ-2026-000102", "Mariam", "Karimi", "2016-09-02", "female", ["fa"], True, []),
    ("AZ-2026-000103", "Olena", "Kovalenko", "1979-11-30", "female", ["uk", "ru"], False, ["disability"]),
    ("AZ-2026-000104", "محمد", "العلي", "1995-06-21", "male", ["ar"], True, []),
]


class Api:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.token = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def sign_in(self, user):
        status, body = self.call("POST", "/api/v1/login", {"username": user[0], "password": user[1]})
        if status != 200:
            raise SystemExit("demo-seed: sign-in of %s failed: %s %r" % (user[0], status, body))
        self.token = body["token"]

    def must(self, method, path, body=None, ok=(200, 201)):
        status, answer = self.call(method, path, body)
        if status not in ok:
            raise SystemExit("demo-seed: %s %s: %s %r" % (method, path, status, answer))
        return status, answer


def all_items(api, path):
    items, cursor = [], None
    while True:
        _, page = api.must("GET", path + ("&" if "?" in path else "?") + "limit=500" +
                           ("&cursor=" + cursor if cursor else ""))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def seed_directory(api):
    existing = {o["name"]: o for o in all_items(api, "/api/v1/organizations")}
    orgs, new = [], []
    for name, kind, region, dirname, areas in ORGS:
        org = existing.get(name)
        if org is None:
            body = {"name": name, "kind": kind, "region": region}
            if dirname:
                body["directory_name"] = dirname
            _, org = api.must("POST", "/api/v1/organizations", body)
            api.must("PUT", "/api/v1/organizations/%s/agreement" % org["id"],
                     {"valid_from": "2026-01-01", "valid_to": "2030-12-31", "areas": areas})
            new.append(len(orgs))
        orgs.append(org)
    for i, area, name, address, languages, slot, capacity, hours in PROVIDERS:
        if i not in new:
            continue
        api.must("POST", "/api/v1/providers", {
            "name": name, "area": area, "organization": orgs[i]["id"], "region": "baku",
            "address": address, "languages": languages, "timezone": "Asia/Baku",
            "slot_minutes": slot, "capacity": capacity, "hours": hours, "closed": ["2026-12-31"]})
    return len(new)


def seed_clients(api):
    made = 0
    for regno, given, family, born, sex, languages, interpreter, vulnerabilities in CLIENTS:
        status, client = api.call("POST", "/api/v1/clients", {
            "registration_no": regno, "given_name": given, "family_name": family,
            "birth_date": born, "sex": sex, "languages": languages,
            "needs_interpreter": interpreter, "region": "baku",
            "vulnerabilities": vulnerabilities})
        if status == 409:
            continue
        if status != 201:
            raise SystemExit("demo-seed: client %s: %s %r" % (regno, status, client))
        made += 1
        for area in ("employment", "clinics", "housing", "schools", "integration"):
            api.must("PUT", "/api/v1/clients/%s/consent/%s" % (client["id"], area),
                     {"service": True, "share": True})
    return made


def main():
    if len(sys.argv) != 2 or not sys.argv[1].startswith("http://127.0.0.1:"):
        raise SystemExit("usage: demo-seed.py http://127.0.0.1:PORT")
    api = Api(sys.argv[1])
    api.sign_in(ADMIN)
    orgs = seed_directory(api)
    api.sign_in(CASEWORKER)
    clients = seed_clients(api)
    print("demo-seed: %d new organizations (with providers), %d new clients" % (orgs, clients))


if __name__ == "__main__":
    main()
