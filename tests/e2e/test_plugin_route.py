"""A plugin's route hook (tests/plugins/router.c) chooses the provider of
a referral made without one: at once, or later from a timer; declining
leaves it to korpud's default routing; a plugin that never answers, or
answers too late, gets default routing after referrals.route_timeout_ms,
and its late answer is ignored safely (ASan and valgrind watch)."""
import os
import time

import pytest

from casework import give_consent, make_client, make_org, make_provider, unique
from conftest import Staff
from servers import AREAS, plugin_dir, plugins_for_tests_dir

TIMEOUT_MS = 300


@pytest.fixture(scope="module")
def routed(tmp_path_factory, request):
    import conftest
    base = tmp_path_factory.mktemp("route")
    d = base / "plugins"
    d.mkdir()
    for name in AREAS:
        os.symlink(plugin_dir() / ("%s.so" % name), d / ("%s.so" % name))
    os.symlink(plugins_for_tests_dir() / "router.so", d / "router.so")
    conf = {"plugins": {"dir": str(d), "enabled": list(AREAS) + ["router"]},
            "referrals": {"route_timeout_ms": TIMEOUT_MS}, "sessions": conftest.UNTHROTTLED}
    slapd = request.getfixturevalue("slapd")
    with conftest.shared_korpud(base, slapd, conf=conf) as k:
        k.staff = Staff(k)
        org = make_org(k, region="main", agreement_areas=["router"])
        k.providers = [make_provider(k, org, area="router", region="main", name=unique("R"))
                       for _ in range(2)]
        yield k


def refer(k, mode, route_to=None):
    c = make_client(k, region="main")
    give_consent(k, c, "router")
    fields = {"mode": mode}
    if route_to:
        fields["route_to"] = route_to
    started = time.monotonic()
    r = k.post("/api/v1/referrals", json_body={"client_id": c["id"], "area": "router",
                                               "reason": "route me", "fields": fields},
               token=k.staff.caseworker)
    assert r.status == 201, r.body
    return r.body, time.monotonic() - started


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_plugin_chooses(routed, mode):
    for p in routed.providers:             # both: not what default routing happens to pick
        ref, _ = refer(routed, mode, p["id"])
        assert ref["provider_id"] == p["id"], (mode, ref)


def test_declining_leaves_it_to_default_routing(routed):
    ref, took = refer(routed, "decline")
    assert ref["provider_id"] in [p["id"] for p in routed.providers]
    assert took < TIMEOUT_MS / 1000.0 * 3


def test_a_plugin_that_never_answers_is_routed_by_default_after_the_timeout(routed):
    mark = routed.log_mark()
    ref, took = refer(routed, "never")
    assert ref["provider_id"] in [p["id"] for p in routed.providers]
    assert took >= TIMEOUT_MS / 1000.0
    routed.wait_log(r"plugin router: no route_done within referrals.route_timeout_ms", start=mark)


def test_a_late_answer_is_ignored(routed):
    mark = routed.log_mark()
    ref, _ = refer(routed, "late", routed.providers[0]["id"])
    assert ref["provider_id"] in [p["id"] for p in routed.providers]
    routed.wait_log(r"plugin router: route_done came after referrals.route_timeout_ms", start=mark,
                    timeout=5)
    assert routed.get("/health", token=False).status == 200
