"""Who may call what: every route but the public ones needs a session;
the areas take any staff role, the audit trail only an admin."""
import pytest

from ldap_server import users_with_role
from servers import AUDIT, LOGIN, LOGOUT, ME, SESSION_COOKIE, assert_problem

ROLES = ("caseworker", "provider", "supervisor", "admin")
CHECK = "/api/v1/areas/clinics/check"
VALID = {"fields": {"urgency": "routine", "service_category": "dental", "reason": "toothache"}}


@pytest.fixture(scope="module")
def tokens(staff_korpud):
    """role -> a token of one of the demo users with that role."""
    return {role: staff_korpud.sign_in(users_with_role(role)[0]) for role in ROLES}


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/api/v1/areas", None),
    ("POST", CHECK, VALID),
    ("GET", ME, None),
    ("POST", LOGOUT, None),
    ("GET", AUDIT, None),
    ("GET", AUDIT + "?limit=1", None),
])
def test_routes_need_a_session(staff_korpud, method, path, body):
    r = staff_korpud.request(method, path, json_body=body, token=False)
    doc = assert_problem(r, 401)
    assert "sign in" in doc["detail"], doc
    # A well-formed token that names no session is no better.
    r = staff_korpud.request(method, path, json_body=body, token="Q" * 43)
    assert_problem(r, 401)
    r = staff_korpud.request(method, path, json_body=body, token=False,
                             headers={"Cookie": "%s=%s" % (SESSION_COOKIE, "Q" * 43)})
    assert_problem(r, 401)


@pytest.mark.parametrize("path", ["/health", "/ready", "/api/v1/openapi.json"])
def test_public_routes_need_none(staff_korpud, path):
    assert staff_korpud.get(path, token=False).status == 200


def test_login_is_public(staff_korpud):
    r = staff_korpud.post(LOGIN, json_body={"username": "nosuch", "password": "x"}, token=False)
    assert_problem(r, 401, detail_contains="unknown user name or wrong password")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_areas(staff_korpud, tokens, role):
    r = staff_korpud.get("/api/v1/areas", token=tokens[role])
    assert r.status == 200, r.body
    assert isinstance(r.body, list) and len(r.body) == 5
    r = staff_korpud.post(CHECK, json_body=VALID, token=tokens[role])
    assert r.status == 200 and r.body == {"valid": True}, r.body
    r = staff_korpud.get(ME, token=tokens[role])
    assert r.status == 200 and r.body["roles"] == [role], r.body


@pytest.mark.parametrize("role", ["caseworker", "provider", "supervisor"])
def test_audit_is_admin_only(staff_korpud, tokens, role):
    r = staff_korpud.get(AUDIT, token=tokens[role])
    assert_problem(r, 403)
    # Refused before the query is looked at.
    assert_problem(staff_korpud.get(AUDIT + "?limit=banana", token=tokens[role]), 403)


def test_admin_reads_the_audit(staff_korpud, tokens):
    r = staff_korpud.get(AUDIT, token=tokens["admin"])
    assert r.status == 200, r.body
    assert isinstance(r.body.get("items"), list) and "next_cursor" in r.body, r.body
