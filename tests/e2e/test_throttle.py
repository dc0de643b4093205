"""Failed sign-ins are counted per user name and per client address
(sessions.max_failures, max_failures_per_address within lockout_s); past
the limit the name or address is locked out (429 with Retry-After), even
for the right password, each lockout twice as long as the one before."""
import time

import pytest

from ldap_server import DEMO_USERS
from servers import assert_problem, wait_for

LEYLA = "lmammadova"
LEYLA_PASSWORD = DEMO_USERS[LEYLA]["password"]


def retry_after(r):
    """The 429's Retry-After, checked: whole seconds, at least 1."""
    assert_problem(r, 429)
    value = r.header("Retry-After")
    assert value is not None and value.isdigit() and int(value) >= 1, value
    return int(value)


def fail(k, name, times=1):
    for _ in range(times):
        r = k.login(name, "not-the-password")
        assert r.status == 401, (name, r.status, r.body)


def wait_unlocked(k, name, password, timeout):
    """Polls with name until the lockout is over; returns the 200 answer
    (a 429 meanwhile is not a failure: it is not counted)."""
    def signed_in():
        r = k.login(name, password)
        assert r.status in (200, 429), (r.status, r.body)
        return r if r.status == 200 else None
    return wait_for(signed_in, timeout, interval=0.2, what="the lockout of %s to end" % name)


def test_lockout_after_max_failures_then_the_window_passes(make_korpud):
    k = make_korpud(conf={"sessions": {"max_failures": 3, "lockout_s": 2,
                                       "max_failures_per_address": 100}})
    fail(k, LEYLA, 2)
    assert k.sign_in(LEYLA)         # under the limit: the right password still works
    fail(k, LEYLA, 3)               # a success cleared the count: three more lock
    t_locked = time.monotonic()
    r = k.login(LEYLA, LEYLA_PASSWORD)
    secs = retry_after(r)
    assert secs <= 2, secs
    assert "token" not in r.body and not r.headers.get_all("Set-Cookie")
    # The lock is per user name (any case), not per person typing.
    assert retry_after(k.login(LEYLA.upper(), LEYLA_PASSWORD)) >= 1
    assert k.sign_in("raliyev")
    r = wait_unlocked(k, LEYLA, LEYLA_PASSWORD, timeout=6.0)
    waited = time.monotonic() - t_locked
    assert waited >= 1.0, "the lockout ended after %.2f s (lockout_s is 2)" % waited
    assert r.body["user"]["uid"] == LEYLA


def test_answers_while_locked_out_are_quick(make_korpud):
    """A 429 needs no directory and no floor."""
    k = make_korpud(conf={"sessions": {"max_failures": 1, "lockout_s": 30}})
    fail(k, LEYLA)
    t = time.monotonic()
    retry_after(k.login(LEYLA, "whatever"))
    assert time.monotonic() - t < 0.25


def test_second_lockout_is_longer(make_korpud):
    k = make_korpud(conf={"sessions": {"max_failures": 3, "lockout_s": 2, "lockout_max_s": 60,
                                       "max_failures_per_address": 100}})
    fail(k, LEYLA, 3)
    first = retry_after(k.login(LEYLA, LEYLA_PASSWORD))
    wait_unlocked(k, LEYLA, LEYLA_PASSWORD, timeout=6.0)
    fail(k, LEYLA, 3)
    second = retry_after(k.login(LEYLA, LEYLA_PASSWORD))
    assert first <= 2 and second > first, (first, second)
    assert second >= 3, second      # 4 s: twice lockout_s


def test_lockout_is_capped_by_lockout_max_s(make_korpud):
    k = make_korpud(conf={"sessions": {"max_failures": 1, "lockout_s": 1, "lockout_max_s": 1,
                                       "max_failures_per_address": 100}})
    fail(k, LEYLA)
    assert retry_after(k.login(LEYLA, LEYLA_PASSWORD)) == 1
    wait_unlocked(k, LEYLA, LEYLA_PASSWORD, timeout=5.0)
    fail(k, LEYLA)
    assert retry_after(k.login(LEYLA, LEYLA_PASSWORD)) == 1


def test_lockout_per_address(make_korpud):
    k = make_korpud(conf={"sessions": {"max_failures": 5, "max_failures_per_address": 4,
                                       "lockout_s": 30}})
    for name in ("nosuch1", "nosuch2", "raliyev", "nhuseynova"):
        fail(k, name)
    # A name never tried before, and a right password, from that address.
    assert retry_after(k.login("nosuch5", "x")) >= 1
    assert retry_after(k.login(LEYLA, LEYLA_PASSWORD)) >= 1


def test_failures_are_counted_in_redis_for_every_instance(make_korpud):
    """Two korpuds on one Redis count together."""
    conf = {"sessions": {"max_failures": 2, "lockout_s": 30, "max_failures_per_address": 100}}
    a = make_korpud(name="a", conf=conf)
    b = make_korpud(name="b", conf=conf)
    fail(a, LEYLA)
    fail(b, LEYLA)
    assert retry_after(a.login(LEYLA, LEYLA_PASSWORD)) >= 1
    assert retry_after(b.login(LEYLA, LEYLA_PASSWORD)) >= 1


def test_lockout_covers_spelling_variants_of_the_name(make_korpud):
    k = make_korpud(conf={"sessions": {"max_failures": 2, "lockout_s": 30,
                                       "max_failures_per_address": 100}})
    fail(k, LEYLA, 2)
    assert retry_after(k.login(LEYLA, LEYLA_PASSWORD)) >= 1
    for variant in (" " + LEYLA, LEYLA + " ", "  " + LEYLA.upper()):
        r = k.login(variant, LEYLA_PASSWORD)
        assert r.status == 429, "%r signed in during the lockout of %r: %s %r" % (
            variant, LEYLA, r.status, r.body)
