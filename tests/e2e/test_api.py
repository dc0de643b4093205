"""The service areas (GET /api/v1/areas, POST /api/v1/areas/{name}/check),
the regions (GET /api/v1/regions) and the OpenAPI document, on one shared korpud (signed in as a caseworker:
conftest's api_korpud)."""
import json

import pytest

from servers import AREAS, assert_problem

BOOKING_MODELS = {"employment": "slot", "schools": "seat", "clinics": "slot",
                  "housing": "waitlist", "integration": "session"}
FIELD_TYPES = {"string", "integer", "boolean", "date", "enum"}
VALID_CLINIC = {"urgency": "routine", "service_category": "dental", "reason": "toothache"}
CHECK = "/api/v1/areas/%s/check"


def test_regions_are_the_configured_ones(api_korpud):
    r = api_korpud.get("/api/v1/regions")
    assert r.status == 200 and r.body == ["main"]      # no `regions` set: the default
    assert api_korpud.get("/api/v1/regions", token=False).status == 401


def test_regions_follow_the_configuration(case_korpud):
    r = case_korpud.get("/api/v1/regions", token=case_korpud.staff.clinic)
    assert r.status == 200 and r.body == ["baku", "ganja"]


def test_areas_lists_the_five_areas(api_korpud):
    r = api_korpud.get("/api/v1/areas")
    assert r.status == 200
    assert r.header("Content-Type", "").startswith("application/json")
    assert isinstance(r.body, list)
    by_name = {a["name"]: a for a in r.body}
    assert sorted(by_name) == sorted(AREAS)
    assert len(r.body) == len(AREAS)
    for name, area in by_name.items():
        assert area["booking_model"] == BOOKING_MODELS[name], area
        assert isinstance(area["title"], str) and area["title"].strip(), area
        assert isinstance(area["plugin_version"], str) and area["plugin_version"], area
        fields = area["fields"]
        assert isinstance(fields, list) and fields, area
        names = [f["name"] for f in fields]
        assert len(set(names)) == len(names), names
        for f in fields:
            for key in ("name", "label", "type", "required"):
                assert key in f, (name, f)
            assert isinstance(f["name"], str) and f["name"], f
            assert isinstance(f["label"], str) and f["label"], f
            assert f["type"] in FIELD_TYPES, f
            assert isinstance(f["required"], bool), f
            if f["type"] == "enum":
                assert isinstance(f.get("enum"), list) and f["enum"], f
                assert all(isinstance(v, str) and v for v in f["enum"]), f
            else:
                assert "enum" not in f, f


def test_clinics_fields_are_as_declared(api_korpud):
    areas = {a["name"]: a for a in api_korpud.get("/api/v1/areas").body}
    fields = {f["name"]: f for f in areas["clinics"]["fields"]}
    assert set(VALID_CLINIC) <= set(fields)
    assert fields["urgency"]["type"] == "enum"
    assert "routine" in fields["urgency"]["enum"]
    assert "dental" in fields["service_category"]["enum"]
    assert fields["reason"]["type"] == "string" and fields["reason"]["required"] is True


def test_check_valid_clinic_fields(api_korpud):
    r = api_korpud.post(CHECK % "clinics", json_body={"fields": VALID_CLINIC})
    assert r.status == 200, r.body
    assert r.body == {"valid": True}


def test_check_accepts_json_with_charset(api_korpud):
    r = api_korpud.post(CHECK % "clinics", body=json.dumps({"fields": VALID_CLINIC}),
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 200, r.body


def test_check_wrong_fields_is_422_with_errors(api_korpud):
    r = api_korpud.post(CHECK % "clinics", json_body={
        "fields": {"urgency": "whenever", "service_category": "dental", "reason": "x"}})
    body = assert_problem(r, 422)
    errors = body.get("errors")
    assert isinstance(errors, list) and errors, body
    for e in errors:
        assert isinstance(e.get("field"), str) and isinstance(e.get("message"), str), e
    assert [e["field"] for e in errors] == ["fields.urgency"], errors


def test_check_reports_every_problem(api_korpud):
    r = api_korpud.post(CHECK % "clinics", json_body={
        "fields": {"urgency": 3, "unknown_field": "x"}})
    body = assert_problem(r, 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"fields.urgency", "fields.service_category", "fields.reason",
            "fields.unknown_field"} <= fields, body


@pytest.mark.parametrize("name", ["nosuch", "Clinics", "clinics2"])
def test_check_unknown_area_is_404(api_korpud, name):
    r = api_korpud.post(CHECK % name, json_body={"fields": VALID_CLINIC})
    assert_problem(r, 404)


@pytest.mark.parametrize("text", [
    "Diş ağrısı, həkimə müraciət lazımdır (Gülşən Əliyeva)",        # Azerbaijani
    "Зубная боль, нужен стоматолог — Алексей Щукин",                  # Russian
    "ألم في الأسنان، يحتاج إلى طبيب أسنان",                          # Arabic
], ids=["azerbaijani", "russian", "arabic"])
def test_check_utf8_text_is_valid(api_korpud, text):
    fields = dict(VALID_CLINIC, reason=text)
    raw = json.dumps({"fields": fields}, ensure_ascii=False).encode("utf-8")
    r = api_korpud.post(CHECK % "clinics", body=raw,
                        headers={"Content-Type": "application/json"})
    assert r.status == 200, r.body
    assert r.body == {"valid": True}
    # The same text \u-escaped is the same string.
    r = api_korpud.post(CHECK % "clinics", json_body={"fields": fields})
    assert r.status == 200, r.body


def test_check_invalid_utf8_is_400(api_korpud):
    raw = b'{"fields":{"urgency":"routine","service_category":"dental","reason":"\xc3\x28"}}'
    r = api_korpud.post(CHECK % "clinics", body=raw, headers={"Content-Type": "application/json"})
    assert_problem(r, 400)


def test_openapi_document(api_korpud):
    r = api_korpud.get("/api/v1/openapi.json")
    assert r.status == 200
    assert r.header("Content-Type", "").startswith("application/json")
    doc = r.body
    assert isinstance(doc, dict), r.raw[:200]
    assert isinstance(doc.get("openapi"), str) and doc["openapi"].startswith("3.1"), doc.get("openapi")
    paths = doc.get("paths", {})
    for p in ("/health", "/ready", "/api/v1/areas", "/api/v1/areas/{name}/check",
              "/api/v1/openapi.json", "/api/v1/login", "/api/v1/logout", "/api/v1/me",
              "/api/v1/audit"):
        assert p in paths, "openapi.json lacks %s (has %s)" % (p, sorted(paths))
    assert "get" in paths["/health"] and "get" in paths["/ready"]
    assert "post" in paths["/api/v1/areas/{name}/check"]
    assert "post" in paths["/api/v1/login"] and "post" in paths["/api/v1/logout"]
    assert "get" in paths["/api/v1/me"] and "get" in paths["/api/v1/audit"]
    # The public routes say so; the others need the bearer token or the cookie.
    assert paths["/api/v1/login"]["post"].get("security") == [], paths["/api/v1/login"]
    schemes = doc.get("components", {}).get("securitySchemes", {})
    assert schemes.get("bearer", {}).get("scheme") == "bearer", schemes
    assert schemes.get("cookie", {}).get("name") == "korpu_session", schemes
