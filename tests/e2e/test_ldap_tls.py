"""The directory over TLS: StartTLS with the CA korpud is told to trust
(ldap.starttls, ldap.ca_file) signs in; a CA that did not sign the
directory's certificate, or no StartTLS offered, refuses to sign in (503)
instead of falling back to plain text."""
from ldap_server import DEMO_USERS

LEYLA = "lmammadova"


def tls_conf(slapd, ca):
    return {"ldap": {"starttls": True, "ca_file": str(ca)}}


def test_starttls_with_the_right_ca_signs_in(make_slapd, make_korpud):
    s = make_slapd(tls=True)
    k = make_korpud(ldap=s, conf=tls_conf(s, s.ca_path))
    r = k.login(LEYLA, DEMO_USERS[LEYLA]["password"])
    assert r.status == 200, (r.status, r.body)
    assert r.body["user"]["uid"] == LEYLA


def test_starttls_with_another_ca_is_refused(make_slapd, make_korpud):
    s = make_slapd(tls=True)
    other = make_slapd(name="other", tls=True)     # a different private CA
    k = make_korpud(ldap=s, conf=tls_conf(s, other.ca_path), ready=False)
    k.wait_log(r"redis: connected and ready", timeout=10)
    r = k.login(LEYLA, DEMO_USERS[LEYLA]["password"])
    assert r.status == 503, (r.status, r.body)
    k.wait_log(r"StartTLS failed", timeout=5)


def test_starttls_required_but_not_offered_is_refused(make_slapd, make_korpud):
    s = make_slapd(tls=True)
    plain = make_slapd(name="plain")                # no certificate: no StartTLS
    k = make_korpud(ldap=plain, conf=tls_conf(plain, s.ca_path), ready=False)
    k.wait_log(r"redis: connected and ready", timeout=10)
    r = k.login(LEYLA, DEMO_USERS[LEYLA]["password"])
    assert r.status == 503, (r.status, r.body)
