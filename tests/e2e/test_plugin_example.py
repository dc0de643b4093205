"""contrib/plugin-example: the legal-aid plugin a partner builds out of
tree. korpu is installed into a temporary prefix (`make install
prefix=...`, as test_config.py does), the example is built with its own
Makefile against the *installed* korpu/plugin.h found through pkg-config,
and korpud loads it next to the five in-tree areas: the form schema, the
live check, a referral, the settings file (`korpud -t`, SIGHUP), and a
copy stamped with another ABI major, which korpud refuses at start."""
import datetime
import os
import re
import shutil
import signal
import subprocess

import pytest

from casework import give_consent, make_client, make_org, make_provider, referral_body
from conftest import UNTHROTTLED, Staff, check_all_exits
from servers import (AREAS, REPO, Korpud, RedisServer, assert_problem, build_dir, line_of,
                     plugin_dir, run_korpud, slack)

EXAMPLE = REPO / "contrib" / "plugin-example"
CONF_TEXT = (EXAMPLE / "legalaid.conf").read_text()
DUTY_PHONE = re.search(r'^duty_phone\s*=\s*"([^"]+)";', CONF_TEXT, re.M).group(1)
MIN_DAYS = int(re.search(r"^min_days_before_deadline\s*=\s*(\d+);", CONF_TEXT, re.M).group(1))
ENABLED = list(AREAS) + ["legalaid"]
CHECK = "/api/v1/areas/legalaid/check"


def day(n):
    """The date n days from today (korpud's local date: same machine, same TZ)."""
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def legal_fields(**kw):
    f = {"matter": "asylum", "deadline": day(30), "documents_available": True,
         "summary": "Appeal against a refused asylum application"}
    f.update(kw)
    return {k: v for k, v in f.items() if v is not None}


def errors_of(r):
    return {e["field"]: e["message"] for e in r.body.get("errors", [])}


def build_env():
    """The environment for compiling: nothing that could point the
    compiler or pkg-config at korpu's source tree behind our back."""
    env = dict(os.environ)
    for var in ("CPATH", "C_INCLUDE_PATH", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR",
                "CFLAGS", "CPPFLAGS", "LDFLAGS", "MAKEFLAGS", "MFLAGS"):
        env.pop(var, None)
    return env


def san_cflags():
    """The build's sanitizer flags (empty for a plain build): the plugin
    is built with them so an ASan korpud checks its code too."""
    m = re.search(r"^SAN_CFLAGS = (.*)$", (build_dir() / "Makefile").read_text(), re.M)
    return m.group(1).strip() if m else ""


def run(argv, **kw):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=build_env(), timeout=120, **kw)
    return p.returncode, p.stdout.decode(errors="replace")


# ---- install korpu, build the example against it ---------------------------

@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    """`make -C $KORPU_BUILD install prefix=<tmp>`, once per module."""
    prefix = tmp_path_factory.mktemp("prefix")
    rc, out = run(["make", "-s", "-C", str(build_dir()), "install", "prefix=%s" % prefix])
    assert rc == 0, "make install failed:\n%s" % out[-4000:]
    assert (prefix / "include/korpu/plugin.h").is_file()
    assert (prefix / "lib/pkgconfig/korpu-plugin.pc").is_file()
    return prefix


def pkg_config_path(prefix):
    return "PKG_CONFIG_PATH=%s" % (prefix / "lib" / "pkgconfig")


@pytest.fixture(scope="module")
def built(prefix, tmp_path_factory):
    """make -C contrib/plugin-example OUT=<tmp> PKG_CONFIG_PATH=<prefix>/lib/pkgconfig:
    (the folder holding legalaid.so, make's output)."""
    out = tmp_path_factory.mktemp("legalaid-build")
    argv = ["make", "-C", str(EXAMPLE), "OUT=%s" % out, pkg_config_path(prefix)]
    if san_cflags():
        argv.append("CFLAGS=-O1 -g %s" % san_cflags())
    rc, text = run(argv)
    assert rc == 0, "building the example failed:\n%s" % text[-4000:]
    assert (out / "legalaid.so").is_file(), text
    return out, text


@pytest.fixture(scope="module")
def plugins_dir(built, tmp_path_factory):
    """korpud has one plugins.dir: the five in-tree plugins and legalaid.so."""
    d = tmp_path_factory.mktemp("plugins")
    for name in AREAS:
        shutil.copy2(plugin_dir() / ("%s.so" % name), d / ("%s.so" % name))
    shutil.copy2(built[0] / "legalaid.so", d / "legalaid.so")
    return d


def test_the_example_builds_against_the_installed_header(prefix, built):
    out, text = built
    includes = re.findall(r"(?:^|\s)-I\s*(\S+)", text)
    assert includes == [str(prefix / "include")], (includes, text)
    assert "-fvisibility=hidden" in text and "-shared" in text, text
    assert "warning:" not in text, text
    # What the compiler actually read: the installed header, never the tree's.
    deps = (out / "legalaid.d").read_text()
    assert str(prefix / "include/korpu/plugin.h") in deps, deps
    assert str(REPO / "include") not in deps, deps
    p = subprocess.run(["nm", "-D", "--defined-only", str(out / "legalaid.so")],
                       capture_output=True, text=True, check=True)
    symbols = [ln.split()[-1] for ln in p.stdout.splitlines() if ln.strip()]
    # (a sanitizer build adds its own, e.g. __odr_asan.korpu_plugin)
    assert [s for s in symbols if not s.startswith(("__odr_asan", "__asan", "__ubsan"))] \
        == ["korpu_plugin"], p.stdout


def test_install_goes_to_the_plugindir_of_the_pc_file(prefix, built, tmp_path):
    dest = tmp_path / "dest"
    rc, text = run(["make", "-C", str(EXAMPLE), "OUT=%s" % built[0], pkg_config_path(prefix),
                    "DESTDIR=%s" % dest, "install"])
    assert rc == 0, text
    assert (dest / str(prefix / "lib/korpu/plugins").lstrip("/") / "legalaid.so").is_file(), text


# ---- korpud with the example -----------------------------------------------

@pytest.fixture(scope="module")
def legalaid_korpud(tmp_path_factory, slapd, plugins_dir):
    """One korpud (and its Redis) with the five areas and legalaid, the
    shipped legalaid.conf, and a token per role (Staff)."""
    base = tmp_path_factory.mktemp("legalaid")
    r = RedisServer(base / "redis").start()
    k = Korpud(base / "korpud", r.port, plugins_dir=plugins_dir, ldap=slapd,
               plugin_confs={"legalaid": CONF_TEXT},
               conf={"regions": ["baku"], "sessions": UNTHROTTLED,
                     "plugins": {"enabled": ENABLED}})
    try:
        k.start()
        k.wait_ready(200, timeout=slack(10.0, 60.0))
        k.staff = Staff(k)
        k.auth_token = k.staff.caseworker
        yield k
    finally:
        try:
            check_all_exits([k])
        finally:
            r.stop()


def test_korpud_loads_the_example_and_it_logs_through_the_host(legalaid_korpud):
    log = legalaid_korpud.log_text()
    assert "plugin legalaid 1.0.0 loaded" in log, log[-3000:]
    assert "plugin legalaid: referrals need %d day(s) before a deadline; duty lawyer %s" \
        % (MIN_DAYS, DUTY_PHONE) in log, log[-3000:]


def test_areas_lists_legalaid_with_its_fields(legalaid_korpud):
    r = legalaid_korpud.get("/api/v1/areas")
    assert r.status == 200, r.body
    assert [a["name"] for a in r.body] == ENABLED, r.body
    area = r.body[-1]
    assert area["booking_model"] == "slot" and area["plugin_version"] == "1.0.0", area
    fields = {f["name"]: f for f in area["fields"]}
    assert list(fields) == ["matter", "deadline", "documents_available", "summary"], area
    assert fields["matter"]["type"] == "enum" and fields["matter"]["required"] is True
    assert fields["matter"]["enum"] == ["asylum", "residence", "family_reunification",
                                        "labour", "other"]
    assert fields["deadline"]["type"] == "date" and fields["deadline"]["required"] is False
    assert fields["documents_available"]["type"] == "boolean"
    assert fields["summary"]["type"] == "string"


@pytest.mark.parametrize("days,ok", [
    (30, True),
    (None, True),               # no deadline: nothing to check
    (MIN_DAYS, True),           # exactly the minimum
    (MIN_DAYS - 1, False),      # a day too close
    (0, False),
])
def test_check_applies_the_deadline_rule(legalaid_korpud, days, ok):
    fields = legal_fields(deadline=None if days is None else day(days))
    r = legalaid_korpud.post(CHECK, json_body={"fields": fields})
    if ok:
        assert r.status == 200 and r.body == {"valid": True}, r.body
        return
    assert_problem(r, 422)
    errs = errors_of(r)
    assert list(errs) == ["fields.deadline"], r.body
    assert "call the duty lawyer at %s" % DUTY_PHONE in errs["fields.deadline"], errs
    assert "fewer than the %d" % MIN_DAYS in errs["fields.deadline"], errs


def test_check_says_when_the_deadline_has_passed(legalaid_korpud):
    r = legalaid_korpud.post(CHECK, json_body={"fields": legal_fields(deadline=day(-2))})
    assert_problem(r, 422)
    msg = errors_of(r)["fields.deadline"]
    assert "has passed" in msg and DUTY_PHONE in msg, msg


def test_korpud_checks_the_field_table_before_the_plugin(legalaid_korpud):
    r = legalaid_korpud.post(CHECK, json_body={"fields": legal_fields(
        matter="tax", deadline="2026-02-30", summary="x" * 301, documents_available=None)})
    assert_problem(r, 422)
    errs = errors_of(r)
    assert set(errs) == {"fields.matter", "fields.deadline", "fields.summary",
                         "fields.documents_available"}, errs
    assert "asylum" in errs["fields.matter"] and "YYYY-MM-DD" in errs["fields.deadline"]
    assert "300" in errs["fields.summary"]


def test_a_legal_aid_referral(legalaid_korpud):
    k = legalaid_korpud
    org = make_org(k, agreement_areas=["legalaid"])
    provider = make_provider(k, org, area="legalaid")
    client = make_client(k)
    give_consent(k, client, "legalaid")

    r = k.post("/api/v1/referrals", json_body=referral_body(client, provider,
               fields=legal_fields(deadline=day(MIN_DAYS + 10))), token=k.staff.caseworker)
    assert r.status == 201, r.body
    assert r.body["area"] == "legalaid" and r.body["provider_id"] == provider["id"], r.body

    r = k.post("/api/v1/referrals", json_body=referral_body(client, provider,
               fields=legal_fields(deadline=day(1))), token=k.staff.caseworker)
    assert_problem(r, 422)
    assert DUTY_PHONE in errors_of(r).get("fields.deadline", ""), r.body


def test_sighup_rereads_the_settings(make_korpud, plugins_dir):
    k = make_korpud(plugins_dir=plugins_dir, plugin_confs={"legalaid": CONF_TEXT},
                    conf={"plugins": {"enabled": ENABLED}})
    k.auth_token = k.sign_in(Staff.USERS["caseworker"])
    five = {"fields": legal_fields(deadline=day(5))}
    assert k.post(CHECK, json_body=five).status == 200
    (k.dir / "plugins.d" / "legalaid.conf").write_text(
        CONF_TEXT.replace("min_days_before_deadline = %d;" % MIN_DAYS,
                          "min_days_before_deadline = 7;")
                 .replace(DUTY_PHONE, "+994 12 555 02 20"))
    mark = k.log_mark()
    k.send_signal(signal.SIGHUP)
    k.wait_log(r"plugin legalaid: reconfigured: 7 day\(s\) before a deadline; "
               r"duty lawyer \+994 12 555 02 20", start=mark, timeout=slack(5.0, 30.0))
    r = k.post(CHECK, json_body=five)
    assert_problem(r, 422)
    assert "call the duty lawyer at +994 12 555 02 20" in errors_of(r)["fields.deadline"]


# ---- korpud -t ---------------------------------------------------------------

def check_config(tmp_path, plugins_dir, legalaid_conf):
    """korpud -t on a configuration enabling legalaid with legalaid_conf
    (None: no legalaid.conf at all)."""
    k = Korpud(tmp_path / "k", 6379, plugins_dir=plugins_dir,
               conf={"plugins": {"enabled": ENABLED}},
               plugin_confs={} if legalaid_conf is None else {"legalaid": legalaid_conf})
    return run_korpud(["-t", "-c", str(k.write_config())]), k.dir / "plugins.d" / "legalaid.conf"


def test_korpud_t_accepts_the_shipped_conf(tmp_path, plugins_dir):
    p, _ = check_config(tmp_path, plugins_dir, CONF_TEXT)
    assert p.returncode == 0, p.stderr
    assert "configuration OK (6 plugins)" in p.stdout, p.stdout


@pytest.mark.parametrize("old,new,words", [
    ("min_days_before_deadline = 3;", "min_days_before_deadline = 365;",
     ["min_days_before_deadline", "365", "out of range"]),
    ("min_days_before_deadline = 3;", "min_days_before_deadline = \"three\";",
     ["min_days_before_deadline"]),
    ('duty_phone = "%s";' % DUTY_PHONE, 'duty_phone = "1";', ["duty_phone"]),
    ("min_days_before_deadline = 3;", "min_days_before_deadlines = 3;",
     ["min_days_before_deadlines", "did you mean"]),
])
def test_korpud_t_names_file_and_line_of_a_bad_setting(tmp_path, plugins_dir, old, new, words):
    assert old in CONF_TEXT
    text = CONF_TEXT.replace(old, new)
    p, conf = check_config(tmp_path, plugins_dir, text)
    assert p.returncode == 1, p.stdout + p.stderr
    where = "%s:%d:" % (conf, line_of(text, new))
    line = next((ln for ln in p.stderr.splitlines() if where in ln), None)
    assert line, "no error at %s:\n%s" % (where, p.stderr)
    for w in words:
        assert w in line, line


def test_korpud_t_requires_the_duty_phone(tmp_path, plugins_dir):
    p, conf = check_config(tmp_path, plugins_dir, None)
    assert p.returncode == 1, p.stdout
    assert str(conf) in p.stderr and "requires setting duty_phone" in p.stderr, p.stderr


# ---- the ABI stamp -------------------------------------------------------------

def test_a_copy_built_for_another_abi_major_is_refused(make_korpud, prefix, tmp_path):
    """The example's source with KORPU_PLUGIN_V1 replaced by a stamp of
    major + 1, built the same way: korpud names the file and both ABIs."""
    p = run_korpud(["-V"])
    major, minor = map(int, re.search(r"plugin ABI (\d+)\.(\d+)", p.stdout).groups())
    source = (EXAMPLE / "legalaid.c").read_text()
    assert "\tKORPU_PLUGIN_V1,\n" in source
    variant = tmp_path / "src" / "legalaid.c"
    variant.parent.mkdir()
    variant.write_text(source.replace("\tKORPU_PLUGIN_V1,\n",
                                      "\t.abi_major = KORPU_ABI_MAJOR + 1, .abi_minor = 0,\n"
                                      "\t.struct_size = sizeof(struct korpu_plugin),\n"))
    shutil.copy2(EXAMPLE / "Makefile", variant.parent / "Makefile")
    d = tmp_path / "plugins"
    d.mkdir()
    rc, text = run(["make", "-C", str(variant.parent), "OUT=%s" % d, pkg_config_path(prefix)]
                   + (["CFLAGS=-O1 -g %s" % san_cflags()] if san_cflags() else []))
    assert rc == 0, text
    for name in AREAS:
        os.symlink(plugin_dir() / ("%s.so" % name), d / ("%s.so" % name))

    k = make_korpud(redis_port=1, start=False, plugins_dir=d,
                    plugin_confs={"legalaid": CONF_TEXT}, conf={"plugins": {"enabled": ENABLED}})
    k.expect_exit_code = None       # checked here, not at teardown
    k.start(wait=False)
    rc = k.wait(slack(10.0, 60.0))
    out = k.log_text()
    assert rc is not None, "korpud kept running with a wrong-ABI legalaid:\n%s" % out
    assert rc != 0, out
    line = next((ln for ln in out.splitlines() if str(d / "legalaid.so") in ln), "")
    assert "plugin ABI %d.0" % (major + 1) in line, out
    assert "korpud's ABI %d.%d" % (major, minor) in line, out
    assert "rebuild the plugin" in line, out
    assert "listening on" not in out, out
