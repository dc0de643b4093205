"""The key schema against a Redis in cluster mode (docs/redis-keys.md).

tests/run.sh runs the plain end-to-end suite with KORPU_REDIS_CLUSTER=1:
every redis-server it starts is then a one-node cluster holding all 16384
hash slots (servers.RedisServer), and Redis refuses any command or script
whose keys hash to two slots. These tests show that this check is real
(a cluster-mode Redis started here, whatever the environment says), what
it sees (the keys a script declares in KEYS, every key of a multi-key
command or transaction), and that korpud's scripts give it every key they
touch: Redis 7.0 lets a script without flags (korpud's) reach undeclared
keys of other slots unchecked.
"""
import re

import pytest

import casework
from conftest import UNTHROTTLED, Staff
from servers import REPO, RedisError, wait_for

BAKU = "korpu:{r:baku}:client:0abc.baku"
BAKU_INDEX = "korpu:{r:baku}:clients"
GANJA = "korpu:{r:ganja}:client:0abc.ganja"

GET_BOTH = "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}"


@pytest.fixture
def cluster(make_redis):
    r = make_redis(cluster=True, name="cluster")
    info = r.cluster_info()
    assert info["cluster_state"] == "ok" and info["cluster_slots_assigned"] == "16384", info
    return r


@pytest.mark.once
def test_keys_of_one_tag_share_a_slot_and_of_two_tags_do_not(cluster):
    assert cluster.call("CLUSTER", "KEYSLOT", BAKU) == cluster.call("CLUSTER", "KEYSLOT",
                                                                     BAKU_INDEX)
    assert cluster.call("CLUSTER", "KEYSLOT", BAKU) != cluster.call("CLUSTER", "KEYSLOT", GANJA)


@pytest.mark.once
def test_a_script_declaring_keys_of_two_slots_is_refused(cluster):
    with pytest.raises(RedisError, match="^CROSSSLOT"):
        cluster.call("EVAL", GET_BOTH, 2, BAKU, GANJA)
    # the same script on keys of one tag runs
    cluster.call("SET", BAKU, "x")
    assert cluster.call("EVAL", GET_BOTH, 2, BAKU, BAKU_INDEX) == [b"x", None]


@pytest.mark.once
def test_multi_key_commands_and_transactions_of_two_slots_are_refused(cluster):
    with pytest.raises(RedisError, match="^CROSSSLOT"):
        cluster.call("MGET", BAKU, GANJA)
    with pytest.raises(RedisError, match="^CROSSSLOT"):
        cluster.call("DEL", BAKU, GANJA)
    with cluster.client() as c:
        assert c.call("MULTI") == "OK"
        assert c.call("SET", BAKU, "1") == "QUEUED"
        assert c.call("SET", GANJA, "1") == "QUEUED"
        with pytest.raises(RedisError, match="^CROSSSLOT"):
            c.call("EXEC")
    assert cluster.call("EXISTS", BAKU) == 0


@pytest.mark.once
def test_what_the_check_does_not_see(cluster):
    """A script with flags (a shebang line) is held to one slot for every
    key it touches; a script without flags, as korpud's are, only for the
    keys it declares: the next test makes sure korpud's declare them all."""
    reach = "redis.call('SET', '%s', '1') return redis.call('SET', '%s', '1')" % (BAKU, GANJA)
    with pytest.raises(RedisError, match="do not hash to the same slot"):
        cluster.call("EVAL", "#!lua\n" + reach, 0)
    assert cluster.call("EVAL", reach, 0) == "OK"


def _code(lua):
    """The script without its comments."""
    return "\n".join(line.split("--", 1)[0] for line in lua.splitlines())


@pytest.mark.once
@pytest.mark.parametrize("script", sorted(p.name for p in (REPO / "core" / "lua").glob("*.lua")))
def test_korpuds_scripts_touch_only_the_keys_they_declare(script):
    """No script names a key itself or takes one from ARGV: every key it
    touches comes from KEYS, so Redis checks them all (previous test)."""
    code = _code((REPO / "core" / "lua" / script).read_text())
    assert "KEYS[" in code, "%s declares no keys" % script
    assert not re.search(r"""["']korpu:""", code), "%s names a key itself" % script
    for m in re.finditer(r"redis\.p?call\(\s*'[A-Za-z]+'\s*,\s*([^,)]+)", code):
        first = m.group(1).strip()
        assert not first.startswith(("ARGV", "'", '"')), \
            "%s: %s takes its key from %s, not KEYS" % (script, m.group(0), first)


def test_korpud_works_against_a_cluster_mode_redis(cluster, make_korpud):
    """One of each kind of write korpud makes, against a cluster-mode Redis
    whatever KORPU_REDIS_CLUSTER says (the whole suite runs so in
    tests/run.sh's plain end-to-end run): sign-in (throttling under
    {auth}, a session under its own tag, the audit stream), an
    organization ({dir}), a client ({reg}, then its region), a provider
    and a referral (the region, its outbox, then the area's event stream)."""
    k = make_korpud(redis_port=cluster.port, ready=True,
                    conf={"regions": ["baku"], "sessions": UNTHROTTLED})
    k.staff = Staff(k)
    org = casework.make_org(k, directory_name="org-clinic", agreement_areas=["clinics"])
    provider = casework.make_provider(k, org)
    client = casework.make_client(k)
    casework.give_consent(k, client, "clinics")
    referral = casework.make_referral(k, client, provider)
    assert referral["status"] == "sent", referral
    r = k.get("/api/v1/referrals/%s" % referral["id"], token=k.staff.caseworker)
    assert r.status == 200, (r.status, r.body)
    assert cluster.call("XLEN", "korpu:audit:{audit}") > 0
    wait_for(lambda: cluster.call("XLEN", "korpu:events:{clinics}"), 10.0,
             what="the referral's event in korpu:events:{clinics}")
    assert "CROSSSLOT" not in k.log_text() and "same slot" not in k.log_text()
