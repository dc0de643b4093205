"""ldap_server.py - korpu's demo directory in a real slapd, for the
end-to-end tests.

Slapd(workdir) runs contrib/ldap/slapd.sh: the demo directory
(contrib/ldap/demo.ldif, suffix dc=korpu,dc=example) loaded into a private
slapd that listens on 127.0.0.1 only, on a free port in 20000-32767 (the
script picks it), all its files in workdir. slapd runs in its own session
(it is not a child of the test process); it is recorded by pid and start
time and stopped by that pid (SIGTERM, then SIGKILL). kill_all() stops every
Slapd still running; it also runs at exit.

    from ldap_server import Slapd, DEMO_USERS, user_dn
    slapd = Slapd(tmp_path / "ldap").start()
    slapd.uri, slapd.port, slapd.pid, slapd.service_secret_path
    slapd.simple_bind(user_dn("lmammadova"), "leyla-demo-2026")  # -> (0, "")
    slapd.sigstop(); slapd.sigcont(); slapd.restart(); slapd.stop()

korpud_ldap_conf(slapd) gives the `ldap` settings that point a korpud at it
(for servers.Korpud(conf={"ldap": ...})).

Standard library only.
"""
import atexit
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "contrib" / "ldap" / "slapd.sh"
LDIF = REPO / "contrib" / "ldap" / "demo.ldif"

SUFFIX = "dc=korpu,dc=example"
BASE_DN = "ou=people," + SUFFIX                 # korpud's ldap.base_dn
GROUPS_DN = "ou=groups," + SUFFIX
SERVICE_DN = "cn=korpu,ou=services," + SUFFIX   # korpud's ldap.bind_dn
SERVICE_PASSWORD = "korpu-service-demo"         # what service.secret holds
ROOT_DN = "cn=admin," + SUFFIX                  # the directory manager
ROOT_PASSWORD = "korpu-admin-demo"
USER_FILTER = "(uid=%s)"
ORGANIZATION_ATTRIBUTE = "o"

# korpud's ldap.roles: role -> group DN (groupOfNames, member = user DNs).
GROUP_DNS = {
    "caseworker": "cn=caseworkers," + GROUPS_DN,
    "provider": "cn=providers," + GROUPS_DN,
    "supervisor": "cn=supervisors," + GROUPS_DN,
    "admin": "cn=admins," + GROUPS_DN,
}

# The people of demo.ldif (keep the two in step): uid -> password, name (cn),
# role (the one group they are in; None: in no korpu group), organization
# (their `o`) and, for providers, areas (their businessCategory values: the
# areas they work in; staff of the migration service work in all).
DEMO_USERS = {
    "lmammadova": {"password": "leyla-demo-2026", "name": "Leyla Məmmədova",
                   "role": "caseworker", "organization": "org-migration"},
    "raliyev": {"password": "rashad-demo-2026", "name": "Rəşad Əliyev",
                "role": "caseworker", "organization": "org-migration"},
    "nhuseynova": {"password": "nigar-demo-2026", "name": "Nigar Hüseynova",
                   "role": "supervisor", "organization": "org-migration"},
    "equliyev": {"password": "elchin-demo-2026", "name": "Elçin Quliyev",
                 "role": "admin", "organization": "org-migration"},
    "snasirova": {"password": "sabina-demo-2026", "name": "Səbinə Nəsirova",
                  "role": None, "organization": "org-migration"},
    "thasanov": {"password": "tural-demo-2026", "name": "Tural Həsənov",
                 "role": "provider", "organization": "org-employment",
                 "areas": ["employment"]},
    "gismayilova": {"password": "gunay-demo-2026", "name": "Günay İsmayılova",
                    "role": "provider", "organization": "org-employment",
                    "areas": ["employment"]},
    "arzayeva": {"password": "aynur-demo-2026", "name": "Aynur Rzayeva",
                 "role": "provider", "organization": "org-clinic",
                 "areas": ["clinics"]},
    "nkapanadze": {"password": "nino-demo-2026", "name": "Nino Kapanadze",
                   "role": "provider", "organization": "org-clinic",
                   "areas": ["clinics"]},
    "kabbasov": {"password": "kamran-demo-2026", "name": "Kamran Abbasov",
                 "role": "provider", "organization": "org-housing",
                 "areas": ["housing"]},
    "dkarimova": {"password": "dilnoza-demo-2026", "name": "Dilnoza Karimova",
                  "role": "provider", "organization": "org-housing",
                  "areas": ["housing"]},
}


def user_dn(uid):
    return "uid=%s,%s" % (uid, BASE_DN)


def users_with_role(role):
    """The uids whose role is role (None: the users in no korpu group)."""
    return sorted(u for u, d in DEMO_USERS.items() if d["role"] == role)


# LDAP result codes the tests meet.
LDAP_SUCCESS = 0
LDAP_INVALID_CREDENTIALS = 49
LDAP_UNWILLING_TO_PERFORM = 53


class SlapdError(RuntimeError):
    pass


# ---- processes by pid ---------------------------------------------------

def _proc_stat(pid):
    """(state, start time) of pid from /proc, or None when there is no such
    process."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may hold spaces.
    fields = data[data.rindex(")") + 2:].split()
    return fields[0], int(fields[19])


def _is_alive(pid, starttime=None):
    """pid runs (not a zombie) and, given starttime, is still the same
    process (not a later one that got the same pid)."""
    st = _proc_stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return False
    return starttime is None or st[1] == starttime


def _wait_gone(pid, starttime, timeout):
    deadline = time.monotonic() + timeout
    while _is_alive(pid, starttime):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _stop_pid(pid, starttime, timeout):
    """SIGTERM (and SIGCONT, in case it was stopped), then SIGKILL after
    timeout. Returns True when TERM sufficed. Raises SlapdError when even
    SIGKILL did not end it."""
    if not _is_alive(pid, starttime):
        return True
    _kill(pid, signal.SIGTERM)
    _kill(pid, signal.SIGCONT)
    if _wait_gone(pid, starttime, timeout):
        return True
    if _is_alive(pid, starttime):
        _kill(pid, signal.SIGKILL)
    if not _wait_gone(pid, starttime, 5.0):
        raise SlapdError("slapd (pid %d) still runs after SIGKILL" % pid)
    return False


_running = set()    # Slapd instances started and not stopped


def kill_all():
    """Last resort: stops every Slapd still running (also run at exit)."""
    for s in list(_running):
        try:
            s.stop(timeout=2.0)
        except SlapdError:
            pass


atexit.register(kill_all)


# ---- a minimal LDAP client (simple bind only) ---------------------------

def _ber_len(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _ber(tag, content):
    return bytes([tag]) + _ber_len(len(content)) + content


def _read_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("slapd closed the connection")
        out += chunk
    return out


def _read_message(sock):
    head = _read_exact(sock, 2)
    if head[0] != 0x30:
        raise ConnectionError("not an LDAP message: %r" % head)
    n = head[1]
    if n & 0x80:
        n = int.from_bytes(_read_exact(sock, n & 0x7F), "big")
    return _read_exact(sock, n)


def _parse_tlv(data, pos):
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[pos:pos + k], "big")
        pos += k
    return tag, data[pos:pos + n], pos + n


def simple_bind(port, dn="", password="", timeout=2.0, host="127.0.0.1"):
    """One LDAPv3 simple bind on a new connection: (result code,
    diagnostic message). Raises OSError (socket.timeout included) when
    nothing answers."""
    bind = _ber(0x02, b"\x03") + _ber(0x04, dn.encode()) + _ber(0x80, password.encode())
    msg = _ber(0x30, _ber(0x02, b"\x01") + _ber(0x60, bind))
    # Closed without an unbind, so that this side closes first and the
    # TIME-WAIT lands on the client's port, not on slapd's.
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(msg)
        body = _read_message(sock)
    _, _, pos = _parse_tlv(body, 0)                 # messageID
    tag, resp, _ = _parse_tlv(body, pos)
    if tag != 0x61:
        raise ConnectionError("not a bind response: tag 0x%02x" % tag)
    _, code, pos = _parse_tlv(resp, 0)              # resultCode
    _, _, pos = _parse_tlv(resp, pos)               # matchedDN
    _, diag, _ = _parse_tlv(resp, pos)              # diagnosticMessage
    return int.from_bytes(code, "big"), diag.decode(errors="replace")


# ---- slapd --------------------------------------------------------------

class Slapd:
    """korpu's demo directory in a slapd of its own, files in workdir.

    allow_anon_dn: slapd accepts a DN with an empty password as an
    anonymous bind (`allow bind_anon_dn`), so a test can prove that korpud
    itself refuses empty passwords. stats: loglevel stats (slapd.log).
    port: a fixed port; by default slapd.sh picks a free one at the first
    start, and restart() keeps it.
    """

    def __init__(self, workdir, allow_anon_dn=False, stats=False, port=None, tls=False):
        self.dir = Path(workdir).resolve()
        self.allow_anon_dn = allow_anon_dn
        self.stats = stats
        self.tls = tls          # StartTLS with a private CA: ca_path
        self.port = port
        self.uri = None
        self.pid = None
        self._starttime = None
        self.service_secret_path = self.dir / "service.secret"
        self.log_path = self.dir / "slapd.log"
        self.conf_path = self.dir / "slapd.conf"
        self.pidfile = self.dir / "slapd.pid"

    def __repr__(self):
        return "<Slapd %s pid=%s dir=%s>" % (self.uri, self.pid, self.dir)

    def __enter__(self):
        return self.start() if not self.running() else self

    def __exit__(self, *exc):
        self.stop()

    # -- running the script

    def _script(self, args, timeout):
        argv = ["bash", str(SCRIPT)] + args
        env = dict(os.environ)
        env["KORPU_LDAP_START_TIMEOUT"] = str(int(max(1, timeout)))
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout + 30, env=env, start_new_session=True)
        except subprocess.TimeoutExpired as e:
            self._kill_stray()
            raise SlapdError("%s did not finish within %.0f s\n--- its stderr ---\n%s%s"
                             % (" ".join(argv), timeout + 30,
                                (e.stderr or b"").decode(errors="replace"), self._log_tail()))
        out = proc.stdout.decode(errors="replace")
        err = proc.stderr.decode(errors="replace")
        if proc.returncode != 0:
            self._kill_stray()
            # The script quotes slapd's own output when slapd failed.
            log = "" if str(self.log_path) in err else self._log_tail()
            raise SlapdError("%s failed with exit status %d\n--- its stderr ---\n%s%s"
                             % (" ".join(argv), proc.returncode, err, log))
        lines = out.split()
        if not lines or not lines[-1].startswith("ldap://127.0.0.1:"):
            self._kill_stray()
            raise SlapdError("%s printed no URI (stdout %r)\n--- its stderr ---\n%s"
                             % (" ".join(argv), out, err))
        return lines[-1]

    def _log_tail(self, n=3000):
        text = self.log_text()
        return "\n--- %s (last %d chars) ---\n%s" % (self.log_path, n, text[-n:]) if text else ""

    def _pidfile_pid(self):
        """The pid in slapd.pid if that is a live slapd of this workdir."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if not _is_alive(pid):
            return None
        try:
            comm = Path("/proc/%d/comm" % pid).read_text().strip()
            cmdline = Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")
        except OSError:
            return None
        if comm != "slapd" or str(self.conf_path).encode() not in cmdline:
            return None
        return pid

    def _adopt(self, uri):
        pid = self._pidfile_pid()
        if pid is None:
            raise SlapdError("slapd.sh reported %s but %s names no running slapd of %s%s"
                             % (uri, self.pidfile, self.dir, self._log_tail()))
        st = _proc_stat(pid)
        self.pid, self._starttime = pid, st[1]
        self.uri = uri
        self.port = int(uri.rsplit(":", 1)[1].rstrip("/"))
        _running.add(self)

    def _kill_stray(self):
        """After a failed or interrupted script: a slapd of this workdir
        that still runs is stopped."""
        pid = self._pidfile_pid()
        if pid is not None:
            st = _proc_stat(pid)
            _stop_pid(pid, st[1] if st else None, 2.0)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            if not _is_alive(self.pid, self._starttime):
                self._forget()
                raise SlapdError("slapd (pid %s) exited right after it started%s"
                                 % (self.pid, self._log_tail()))
            try:
                code, diag = simple_bind(self.port, SERVICE_DN, SERVICE_PASSWORD, timeout=1.0)
                if code == LDAP_SUCCESS:
                    return
                last = "bind as %s: result %d %s" % (SERVICE_DN, code, diag)
            except OSError as e:
                last = repr(e)
            if time.monotonic() >= deadline:
                self.stop()
                raise SlapdError("slapd on %s did not accept the service account within %.0f s "
                                 "(last: %s)%s" % (self.uri, timeout, last, self._log_tail()))
            time.sleep(0.05)

    # -- life cycle

    @property
    def ca_path(self):
        """The private CA that signed this slapd's certificate (with tls)."""
        return self.dir / "tls" / "ca.pem"

    def start(self, timeout=15.0):
        """slapd.sh start: a fresh demo directory (the workdir's earlier data
        is replaced), then waits until the service account can bind."""
        if self.running():
            raise SlapdError("%r already runs" % self)
        args = ["start", str(self.dir)]
        if self.port:
            args.append(str(self.port))
        if self.allow_anon_dn:
            args.append("--allow-anon-dn")
        if self.stats:
            args.append("--stats")
        if self.tls:
            args.append("--tls")
        uri = self._script(args, timeout)
        self._adopt(uri)
        self._wait_ready(timeout)
        return self

    def restart(self, timeout=15.0):
        """Stops slapd and starts it again on the same port with the same
        data (what was changed in the directory stays changed)."""
        self.stop()
        uri = self._script(["restart", str(self.dir)], timeout)
        self._adopt(uri)
        self._wait_ready(timeout)
        return self

    def _forget(self):
        _running.discard(self)
        self.pid = None
        self._starttime = None

    def stop(self, timeout=5.0):
        """Stops slapd by its pid: SIGTERM (with SIGCONT), then SIGKILL
        after timeout. Returns True when SIGTERM sufficed; a no-op (True)
        when it does not run. Never leaves it running."""
        if self.pid is None:
            self._kill_stray()
            return True
        try:
            clean = _stop_pid(self.pid, self._starttime, timeout)
        finally:
            if not _is_alive(self.pid, self._starttime):
                self._forget()
        if not clean:
            try:
                self.pidfile.unlink()
            except FileNotFoundError:
                pass
        return clean

    def running(self):
        return self.pid is not None and _is_alive(self.pid, self._starttime)

    def sigstop(self):
        """Freezes slapd (SIGSTOP): connections open, nothing answers."""
        os.kill(self.pid, signal.SIGSTOP)

    def sigcont(self):
        os.kill(self.pid, signal.SIGCONT)

    # -- probes

    def simple_bind(self, dn="", password="", timeout=2.0):
        """(result code, diagnostic) of a simple bind on a new connection."""
        return simple_bind(self.port, dn, password, timeout)

    def ping(self, timeout=0.5):
        """Does slapd answer an anonymous bind within timeout?"""
        try:
            return self.simple_bind(timeout=timeout)[0] == LDAP_SUCCESS
        except OSError:
            return False

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


def korpud_ldap_conf(slapd, **overrides):
    """korpud's `ldap` settings for this directory (a dict for
    servers.Korpud(conf={"ldap": ...})); overrides replace keys."""
    conf = {
        "uri": slapd.uri,
        "starttls": False,
        "bind_dn": SERVICE_DN,
        "bind_password_file": str(slapd.service_secret_path),
        "base_dn": BASE_DN,
        "user_filter": USER_FILTER,
        "organization_attribute": ORGANIZATION_ATTRIBUTE,
        "roles": dict(GROUP_DNS),
    }
    conf.update(overrides)
    return conf
