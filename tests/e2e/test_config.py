"""`korpud -t` and `korpud -V`: the installed sample configuration, and
broken configurations reported as FILE:LINE: message."""
import re
import subprocess

import pytest

from servers import (AREAS, REPO, Korpud, build_dir, korpud_env, line_of, run_korpud,
                     sanitizer_problems)


def check(conf_path, build=None):
    """korpud -t -c conf_path, after checking it left no sanitizer report."""
    p = run_korpud(["-t", "-c", str(conf_path)], build=build)
    found = sanitizer_problems(p.stdout + p.stderr)
    assert not found, "sanitizer report from korpud -t (%s):\n%s" % (found, p.stderr)
    return p


def run_korpud_installed(prefix, conf):
    """<prefix>/sbin/korpud -t -c conf."""
    p = subprocess.run([str(prefix / "sbin/korpud"), "-t", "-c", str(conf)],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=korpud_env(), timeout=30)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    assert not sanitizer_problems(out + err), err
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`make -C $KORPU_BUILD install prefix=<tmp>`, once per module."""
    prefix = tmp_path_factory.mktemp("prefix")
    p = subprocess.run(["make", "-s", "-C", str(build_dir()), "install", "prefix=%s" % prefix],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    assert p.returncode == 0, "make install failed:\n%s" % p.stdout.decode(errors="replace")[-4000:]
    return prefix


def test_install_puts_files_in_place(installed):
    for rel in ["sbin/korpud", "include/korpu/plugin.h", "lib/pkgconfig/korpu-plugin.pc",
                "etc/korpu/korpud.conf"] + \
               ["lib/korpu/plugins/%s.so" % a for a in AREAS] + \
               ["etc/korpu/plugins.d/%s.conf" % a for a in AREAS]:
        assert (installed / rel).is_file(), "%s was not installed" % rel
    pc = (installed / "lib/pkgconfig/korpu-plugin.pc").read_text()
    assert "Name: korpu-plugin" in pc and "Cflags:" in pc, pc
    assert "korpu_plugin" in (installed / "include/korpu/plugin.h").read_text()


def test_install_puts_the_whole_web_client_in_place(installed):
    """Every file of web/ is installed as it is (Makefile.am lists them:
    a file added to web/ but not there would be missing from installs)."""
    web = REPO / "web"
    files = [f for f in web.rglob("*") if f.is_file()]
    assert files
    for f in files:
        there = installed / "share/korpu/web" / f.relative_to(web)
        assert there.is_file(), "%s was not installed" % f.relative_to(REPO)
        assert there.read_bytes() == f.read_bytes(), there


def test_installed_sample_config_passes_check(installed):
    conf = installed / "etc/korpu/korpud.conf"
    secret = installed / "etc/korpu/ldap.secret"
    secret.write_text("a-directory-service-password\n")
    secret.chmod(0o600)
    p = run_korpud_installed(installed, conf)
    assert p.returncode == 0, "korpud -t refused the shipped configuration:\n%s%s" % (p.stdout, p.stderr)
    assert "configuration OK (5 plugins)" in p.stdout, p.stdout


def test_installed_binary_checks_a_config_using_installed_plugins(installed, tmp_path):
    """The installed korpud and plugins work together (config written
    like the shipped one, with the plugin dir of the install prefix)."""
    k = Korpud(tmp_path / "k", 6379, plugins_dir=installed / "lib/korpu/plugins")
    conf = k.write_config()
    p = run_korpud_installed(installed, conf)
    assert p.returncode == 0, p.stderr
    assert "configuration OK (5 plugins)" in p.stdout


def test_generated_config_passes_check(tmp_path):
    k = Korpud(tmp_path / "k", 6379)
    p = check(k.write_config())
    assert p.returncode == 0, p.stderr
    assert "configuration OK (5 plugins)" in p.stdout


# (setting line to replace, replacement, text of the bad line, words expected in the message)
BROKEN = {
    "unknown-key": ("  body_max = 65536;", "  body_max = 65536;\n  bodymax = 1;",
                    "  bodymax = 1;", ["unknown key", "limits.bodymax", "body_max"]),
    "wrong-type": ("  body_max = 65536;", '  body_max = "large";',
                   '  body_max = "large";', ["limits.body_max", "integer"]),
    "out-of-range": ("  connections_max = 64;", "  connections_max = 0;",
                     "  connections_max = 0;", ["limits.connections_max", "out of range"]),
    "syntax-error": ("  drain_ms = 3000;", "  drain_ms = 10 20;",
                     "  drain_ms = 10 20;", ["syntax error"]),
    "bad-choice": ('  level = "info";', '  level = "chatty";',
                   '  level = "chatty";', ["log.level", "chatty"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_config_names_file_and_line(tmp_path, case):
    old, new, bad_line, words = BROKEN[case]
    k = Korpud(tmp_path / "k", 6379)
    good = k.config_text()
    assert old in good
    text = good.replace(old, new, 1)
    conf = k.write_config(text)
    line = line_of(text, bad_line)
    p = check(conf)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    m = re.search(r"^korpud: %s:(\d+): (.*)$" % re.escape(str(conf)), p.stderr, re.M)
    assert m, "no FILE:LINE: message in:\n%s" % p.stderr
    assert int(m.group(1)) == line, "reported line %s, the bad setting is on line %d:\n%s" % (
        m.group(1), line, p.stderr)
    for w in words:
        assert w in m.group(2), (w, p.stderr)
    assert "configuration has 1 problem" in p.stderr, p.stderr


def test_every_problem_is_reported(tmp_path):
    k = Korpud(tmp_path / "k", 6379)
    text = k.config_text().replace("  connections_max = 64;", "  connections_max = 0;") \
        .replace('  level = "info";', '  level = "chatty";') \
        .replace("  drain_ms = 3000;", "  drain_ms = 3000;\n  drainms = 5;")
    conf = k.write_config(text)
    p = check(conf)
    assert p.returncode == 1
    lines = sorted(int(n) for n in re.findall(r"^korpud: %s:(\d+): " % re.escape(str(conf)),
                                               p.stderr, re.M))
    assert lines == sorted([line_of(text, "connections_max = 0"), line_of(text, '"chatty"'),
                            line_of(text, "drainms")]), p.stderr
    assert "configuration has 3 problems" in p.stderr


def test_bad_plugin_setting_names_plugin_file_and_line(tmp_path):
    schools = "# schools: tested\nmax_age = 17;\n\nmin_age = 99;\ncutoff = \"09-01\";\n"
    k = Korpud(tmp_path / "k", 6379, plugin_confs={"schools": schools})
    conf = k.write_config()
    p = check(conf)
    assert p.returncode == 1, (p.stdout, p.stderr)
    path = k.dir / "plugins.d" / "schools.conf"
    m = re.search(r"^korpud: %s:(\d+): (.*)$" % re.escape(str(path)), p.stderr, re.M)
    assert m, "schools.conf not named with a line:\n%s" % p.stderr
    assert int(m.group(1)) == line_of(schools, "min_age = 99"), p.stderr
    assert "min_age" in m.group(2) and "99" in m.group(2), p.stderr


def test_unknown_plugin_setting_is_refused(tmp_path):
    clinics = 'emergency_number = "103";\nslot_minute = 20;\n'
    k = Korpud(tmp_path / "k", 6379, plugin_confs={"clinics": clinics})
    p = check(k.write_config())
    assert p.returncode == 1
    path = k.dir / "plugins.d" / "clinics.conf"
    assert re.search(r"^korpud: %s:2: .*slot_minute" % re.escape(str(path)), p.stderr, re.M), p.stderr


def test_missing_config_file(tmp_path):
    p = check(tmp_path / "nope.conf")
    assert p.returncode == 1
    assert "nope.conf" in p.stderr


def test_version():
    p = run_korpud(["-V"])
    assert p.returncode == 0, p.stderr
    assert re.fullmatch(r"korpud \d+\.\d+\.\d+\S* \(plugin ABI \d+\.\d+\)\n", p.stdout), p.stdout
