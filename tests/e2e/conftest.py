"""conftest.py - fixtures for korpu's end-to-end tests.

Each test gets its own redis-server and korpud (the `redis` and `korpud`
fixtures; `make_korpud` for custom configurations), all in the test's
tmp_path. Teardown stops every korpud with SIGTERM and checks that it
exited 0 and that its log holds no sanitizer report and no refusal of
keys of two hash slots (Redis in cluster mode); teardown runs when
the test failed too, and kill_all() at the end of the session kills
anything still recorded.

Staff sign in against the demo directory: one slapd for the whole session
(the `slapd` fixture, started when first needed), which every korpud of
make_korpud uses unless given ldap=; a test that stops, freezes or
restarts a slapd starts its own with `make_slapd`. korpud.sign_in(uid)
returns a token; korpud.auth_token makes it the default for requests.

Run: KORPU_BUILD=/work/main/build/plain /usr/bin/python3 -m pytest -q tests/e2e
(with KORPU_REDIS_CLUSTER=1, every redis-server runs in cluster mode: see
servers.py.)
"""
import contextlib

import pytest

import ldap_server
import servers
from ldap_server import Slapd
from servers import API_BODY_MAX, Korpud, RedisServer

# Who the shared API instance (api_korpud) is signed in as.
API_USER = "lmammadova"

# sessions settings under which failed sign-ins never lock anyone out.
UNTHROTTLED = {"max_failures": 1000, "max_failures_per_address": 100000}


def pytest_configure(config):
    # tests/run.sh runs the suite three times (plain, ASan+UBSan, valgrind);
    # a test of files or of the build alone, which runs no korpud, runs in
    # the plain run only (-m "not once" in the others).
    config.addinivalue_line("markers", "once: runs no korpud; the plain run is enough")
    build = servers.build_dir()
    binary = servers.korpud_binary(build)
    if not binary.exists():
        raise pytest.UsageError("%s does not exist: set KORPU_BUILD to a built build dir "
                                "(make -j2 && make check in it)" % binary)


def pytest_report_header(config):
    return "korpu build: %s; Redis: %s" % (
        servers.build_dir(),
        "cluster mode (KORPU_REDIS_CLUSTER)" if servers.redis_cluster_mode() else "standalone")


def pytest_sessionfinish(session, exitstatus):
    servers.kill_all()
    ldap_server.kill_all()


def check_korpud_exit(k):
    """Stops k if it still runs; fails unless it exited with the expected
    code and its log is free of sanitizer reports."""
    problems = []
    try:
        rc = k.stop(timeout=15.0)
    except AssertionError as e:
        rc = None
        problems.append(str(e))
    finally:
        k.close_log()
    log = k.log_text()
    if k.proc is not None and k.expect_exit_code is not None and rc != k.expect_exit_code:
        problems.append("korpud exited with %s, expected %s" % (rc, k.expect_exit_code))
    found = servers.sanitizer_problems(log)
    if found:
        problems.append("sanitizer report in korpud's log (%s)" % ", ".join(found))
    found = servers.cross_slot_refusals(log)
    if found:
        problems.append("Redis refused keys of two hash slots: %s" % found[0])
    if problems:
        pytest.fail("korpud teardown: %s\n--- %s (last 6000 chars) ---\n%s"
                    % ("; ".join(problems), k.log_path, log[-6000:]), pytrace=False)


@pytest.fixture
def make_redis(tmp_path):
    """Starts redis-servers: make_redis(password=None, name='redis',
    **RedisServer kwargs) (cluster, unixsocket)."""
    started = []

    def make(password=None, name="redis", **kw):
        r = RedisServer(tmp_path / name, password=password, **kw)
        started.append(r)
        return r.start()
    yield make
    for r in started:
        r.stop()


@pytest.fixture
def redis(make_redis):
    return make_redis()


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    """The demo directory, shared by every test that does not change it."""
    s = Slapd(tmp_path_factory.mktemp("slapd"))
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture
def make_slapd(tmp_path):
    """Starts slapds of the test's own: make_slapd(name='ldap', **Slapd
    kwargs) (allow_anon_dn, stats, port). Each is stopped (and continued,
    if frozen) at teardown."""
    started = []

    def make(name="ldap", **kw):
        s = Slapd(tmp_path / name, **kw)
        started.append(s)
        return s.start()
    yield make
    for s in started:
        s.stop()


@pytest.fixture
def make_korpud(tmp_path, request, make_redis, make_slapd):
    """make_korpud(redis_port=None, start=True, ready=None, name='korpud',
    **Korpud kwargs). Without redis_port the `redis` fixture's server is
    used and, unless ready=False, /ready is awaited (korpud connects to
    Redis after it starts answering /health). Without ldap= the session's
    `slapd` is the directory. Depending on make_redis and make_slapd makes
    every korpud stop before the Redis and LDAP servers do."""
    made = []

    def make(redis_port=None, start=True, ready=None, name="korpud", **kw):
        if "ldap" not in kw:
            kw["ldap"] = request.getfixturevalue("slapd")
        if redis_port is None:
            redis_port = request.getfixturevalue("redis").port
            ready = True if ready is None else ready
        k = Korpud(tmp_path / name, redis_port, **kw)
        made.append(k)
        if start:
            k.start()
            if ready:
                k.wait_ready(200, timeout=10.0)
        return k
    yield make
    check_all_exits(made)


def check_all_exits(korpuds):
    errors = []
    for k in korpuds:
        try:
            check_korpud_exit(k)
        except BaseException as e:  # pytest.fail raises Failed (a BaseException)
            errors.append(e)
    if errors:
        raise errors[0]


@pytest.fixture
def korpud(make_korpud):
    """korpud with the default test configuration, on the `redis` server."""
    return make_korpud()


@contextlib.contextmanager
def shared_korpud(base, slapd, conf=None):
    """A korpud (and a Redis of its own, korpud.redis_server) in base, on
    the directory slapd, checked like the others when the block ends."""
    r = RedisServer(base / "redis").start()
    k = Korpud(base / "korpud", r.port, conf=conf, ldap=slapd)
    k.redis_server = r
    try:
        k.start()
        k.wait_ready(200, timeout=10.0)
        yield k
    finally:
        try:
            check_all_exits([k])
        finally:
            r.stop()


@pytest.fixture(scope="module")
def api_korpud(tmp_path_factory, slapd):
    """One korpud (and its Redis) shared by a module's read-only API
    tests, with limits.body_max = API_BODY_MAX, signed in as API_USER (a
    caseworker): its requests carry that token (auth_token). Checked like
    the others at the end of the module."""
    with shared_korpud(tmp_path_factory.mktemp("api"), slapd,
                       conf={"limits": {"body_max": API_BODY_MAX}}) as k:
        k.auth_token = k.sign_in(API_USER)
        yield k


@pytest.fixture(scope="module")
def staff_korpud(tmp_path_factory, slapd):
    """One korpud shared by a module's sign-in tests, on the session's
    directory, that never throttles (failures are not what those tests
    count). Tests must leave it as they found it (sign out what they
    end, change no setting)."""
    with shared_korpud(tmp_path_factory.mktemp("staff"), slapd,
                       conf={"sessions": UNTHROTTLED}) as k:
        yield k


# Regions of the case-work instance (case_korpud).
CASE_REGIONS = ["baku", "ganja"]


class Staff:
    """Tokens of the demo staff on one korpud, by role: staff.admin,
    staff.caseworker, staff.caseworker2, staff.supervisor, staff.clinic
    (provider, org-clinic), staff.employment (org-employment),
    staff.housing (org-housing). staff.call(who, method, path, ...)"""

    USERS = {"admin": "equliyev", "caseworker": "lmammadova", "caseworker2": "raliyev",
             "supervisor": "nhuseynova", "clinic": "arzayeva", "employment": "thasanov",
             "housing": "kabbasov"}

    def __init__(self, k):
        self.k = k
        for role, uid in self.USERS.items():
            setattr(self, role, k.sign_in(uid))


@pytest.fixture(scope="module")
def case_korpud(tmp_path_factory, slapd):
    """One korpud (and its Redis) for a module's case-work tests, with
    regions CASE_REGIONS and no sign-in throttling; case_korpud.staff
    holds a token per role (Staff), and case_korpud.orgs the organizations
    of the demo provider staff (clinic, employment, housing: tied by
    directory_name, with agreements for their areas). Tests create their
    own objects and must not depend on what other tests created."""
    import casework
    conf = {"regions": CASE_REGIONS, "sessions": UNTHROTTLED}
    with shared_korpud(tmp_path_factory.mktemp("case"), slapd, conf=conf) as k:
        k.staff = Staff(k)
        k.orgs = {
            area_org: casework.make_org(k, name=casework.unique("Demo " + area_org),
                                        directory_name="org-" + area_org,
                                        agreement_areas=[area])
            for area_org, area in (("clinic", "clinics"), ("employment", "employment"),
                                   ("housing", "housing"))}
        yield k
