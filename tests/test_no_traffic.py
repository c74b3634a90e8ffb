"""No traffic leaves, seen from outside Python: ``loadwatch dashboard`` runs under ``strace -f``, which
records every ``connect``/``sendto``/``sendmsg`` system call of the command and of every process it
starts (Streamlit, import workers), whatever library makes it.  A client (``tests/net_probe.py``, a
process of its own, not traced) opens the page, a websocket from a foreign Origin, a DNS rebinding
attempt and a real session.  Then no traced call may name an address off this machine, DNS (port 53),
or the system resolver's socket.

Beyond loopback (``--host 0.0.0.0``, where Streamlit used to look up checkip.amazonaws.com and 8.8.8.8)
the dashboard runs in a network namespace of its own (``unshare -n``: only a loopback interface, so
listening on every address reaches nobody) and the client joins it (``nsenter``).  CI installs strace
(``.ci/run``) and sets ``LOADWATCH_REQUIRE_STRACE=1``: there these tests fail rather than skip.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO_ROOT
from tests.helpers import free_port

pytestmark = pytest.mark.slow

#: Addresses in strace's rendering of a socket address: inet_addr("1.2.3.4"), inet_pton(AF_INET6, "::1").
_INET = re.compile(r'(?:inet_addr\("(?P<v4>[^"]+)"\)|inet_pton\(AF_INET6,\s*"(?P<v6>[^"]+)")')
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
#: Unix sockets through which a name may be resolved on this machine's behalf.
_RESOLVER_SOCKETS = ("io.systemd.Resolve", "nscd")


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("LOADWATCH_REQUIRE_STRACE") == "1":
            pytest.fail(f"{tool} is required here (LOADWATCH_REQUIRE_STRACE=1); .ci/run installs it")
        pytest.skip(f"{tool} is absent (apt-get install strace)")
    return path


def _can_trace(strace: str) -> None:
    done = subprocess.run([strace, "-f", "-qq", "-e", "trace=connect", "true"], capture_output=True, text=True,
                          timeout=60)
    if done.returncode != 0:
        if os.environ.get("LOADWATCH_REQUIRE_STRACE") == "1":
            pytest.fail(f"strace cannot trace here: {done.stderr.strip()}")
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()}")


def leaving_calls(log_text: str) -> list[str]:
    """The traced calls that reach beyond this machine or ask for a name: a connect/sendto/sendmsg to an
    address that is neither loopback nor unspecified, anything to port 53, or a resolver's socket."""
    found = []
    for line in log_text.splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg)\(", line):
            continue
        if any(name in line for name in _RESOLVER_SOCKETS):
            found.append(line)
            continue
        ports = {int(p) for p in _PORT.findall(line)}
        if 53 in ports:
            found.append(line)
            continue
        for m in _INET.finditer(line):
            ip = ipaddress.ip_address(m.group("v4") or m.group("v6"))
            if getattr(ip, "ipv4_mapped", None) is not None:
                ip = ip.ipv4_mapped
            if not (ip.is_loopback or ip.is_unspecified):
                found.append(line)
                break
    return found


def test_leaving_calls_reads_straces_lines():
    """The log reader itself, on lines as strace writes them."""
    lines = [
        '12 connect(3, {sa_family=AF_INET, sin_port=htons(1), sin_addr=inet_addr("8.8.8.8")}, 16) = 0',
        '12 connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0',
        '12 sendto(5, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = 1',
        '12 connect(7, {sa_family=AF_UNIX, sun_path="/run/systemd/resolve/io.systemd.Resolve"}, 42) = 0',
        '12 connect(4, {sa_family=AF_INET, sin_port=htons(8501), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '12 connect(4, {sa_family=AF_INET6, sin6_port=htons(8501), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '12 connect(9, {sa_family=AF_UNIX, sun_path="/tmp/x.sock"}, 13) = 0',
        '12 sendto(3, "abc", 3, MSG_NOSIGNAL, NULL, 0) = 3',
    ]
    assert leaving_calls("\n".join(lines)) == lines[:4]


def test_a_grandchilds_attempt_is_caught(tmp_path):
    """The trace follows children of children, and the reader flags what they send (192.0.2.1 is
    TEST-NET-1, never routed: the datagram goes nowhere)."""
    strace = _need("strace")
    _can_trace(strace)
    log = tmp_path / "strace.log"
    inner = "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).connect(('192.0.2.1', 9))"
    outer = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {inner!r}], check=True)"
    subprocess.run([strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(log), "--",
                    sys.executable, "-c", outer], check=True, timeout=120)
    caught = leaving_calls(log.read_text())
    assert len(caught) == 1 and "192.0.2.1" in caught[0], log.read_text()[-2000:]


def _can_unshare() -> None:
    for tool in ("unshare", "nsenter", "ip"):
        _need(tool)
    done = subprocess.run([shutil.which("unshare"), "-n", "--", "sh", "-c", "ip link set lo up"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        if os.environ.get("LOADWATCH_REQUIRE_STRACE") == "1":
            pytest.fail(f"cannot make a network namespace here: {done.stderr.strip()}")
        pytest.skip(f"cannot make a network namespace here: {done.stderr.strip()}")


class Traced:
    """``loadwatch dashboard ARGS`` (or ``command``) under strace, in a network namespace of its own with
    ``netns`` (only a loopback interface: listening on every address reaches nobody outside)."""

    def __init__(self, tmp_path: Path, args: list[str], *, netns: bool = False, env_extra: dict | None = None,
                 command: list[str] | None = None, trace: bool = True):
        self.log = tmp_path / "strace.log"
        self.out = tmp_path / "server.out"
        self.netns = netns
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **(env_extra or {}))
        env.pop("LOADWATCH_DEMO", None)
        env.pop("LOADWATCH_PASSWORD", None)
        traced = command or [sys.executable, "-m", "loadwatch.dashboard.cli.main", "dashboard", *args]
        if trace:
            strace = _need("strace")
            _can_trace(strace)
            traced = [strace, "-f", "-qq", "-s", "128", "-e", "trace=bind,connect,sendto,sendmsg",
                      "-e", "signal=none", "-o", str(self.log), "--", *traced]
        if netns:
            _can_unshare()
            traced = [shutil.which("unshare"), "-n", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                      *traced]
        with self.out.open("w") as out:
            self.proc = subprocess.Popen(traced, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def client(self, *args: str) -> dict:
        cmd = [sys.executable, "-m", "tests.net_probe", *args]
        if self.netns:
            cmd = [shutil.which("nsenter"), "-t", str(self.proc.pid), "-n", "--", *cmd]
        done = subprocess.run(cmd, cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr + self.output()
        return json.loads(done.stdout.strip().splitlines()[-1])

    def wait_ready(self, base: str, timeout_s: float = 120) -> None:
        """Until the server answers the health check (from inside its namespace)."""
        code = ("import ssl, sys, urllib.request\n"
                "ctx = ssl._create_unverified_context()\n"
                "try:\n"
                f"    urllib.request.urlopen({base + '/_stcore/health'!r}, timeout=2, context=ctx)\n"
                "except urllib.error.HTTPError:\n"
                "    pass\n"
                "except OSError:\n"
                "    sys.exit(1)\n")
        cmd = [sys.executable, "-c", code]
        if self.netns:
            cmd = [shutil.which("nsenter"), "-t", str(self.proc.pid), "-n", "--", *cmd]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the dashboard exited early:\n" + self.output()
            if subprocess.run(cmd, capture_output=True, timeout=60).returncode == 0:
                return
            time.sleep(0.5)
        raise AssertionError("the dashboard did not answer:\n" + self.output())

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> str:
        """SIGTERM to the dashboard (strace's child); returns strace's log once every tracee is gone."""
        family = []
        with contextlib.suppress(psutil.Error):
            family = psutil.Process(self.proc.pid).children(recursive=True)
        dashboard = [p for p in family if "loadwatch.dashboard.cli.main" in " ".join(p.cmdline())] or family[:1]
        for p in dashboard[:1]:
            with contextlib.suppress(psutil.Error):
                p.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        for p in family:
            with contextlib.suppress(psutil.Error):
                p.kill()
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def _assert_nothing_left(log: str, seen: dict, output: str, port: int) -> None:
    # the trace followed the server: Streamlit's own bind of its port is in it
    assert re.search(rf"bind\(.*htons\({port}\)", log), "strace did not follow the server:\n" + log[-2000:]
    leaving = leaving_calls(log)
    assert not leaving, ("traffic for beyond this machine:\n" + "\n".join(leaving[:20])
                         + f"\n--- client saw: {seen}\n--- server output ---\n{output}")


def test_loopback_dashboard_sends_nothing_whatever_the_origin(tmp_path):
    """The default dashboard: a foreign web page's websocket and a DNS rebinding attempt are refused
    without any look-up (Streamlit used to fetch checkip.amazonaws.com to judge a foreign Origin), and a
    real session runs; strace saw no call for beyond this machine."""
    port = free_port()
    server = Traced(tmp_path, ["--db", str(tmp_path / "s.sqlite3"), "--port", str(port)])
    try:
        base = f"http://127.0.0.1:{port}"
        server.wait_ready(base)
        seen = server.client(base)
    finally:
        log = server.stop()
    assert seen["health"] == 200 and seen["page"] == 200, seen
    assert seen["foreign_origin"]["opened"] is False, seen
    assert seen["rebinding"]["opened"] is False, seen
    assert seen["session"].get("finished") is True, seen
    _assert_nothing_left(log, seen, server.output(), port)


def test_dashboard_beyond_loopback_sends_nothing_and_streamlit_stays_on_loopback(tmp_path):
    """``--host 0.0.0.0`` (where Streamlit used to fetch checkip.amazonaws.com and try 8.8.8.8 at start):
    the front serves every address, Streamlit listens on 127.0.0.1 only; a logged-in session runs, a
    foreign Origin and a rebinding attempt are refused; strace saw no call for beyond this machine."""
    port = free_port()
    pw = tmp_path / "password.txt"
    pw.write_text("a long passphrase for the phone\n")
    server = Traced(tmp_path, ["--db", str(tmp_path / "s.sqlite3"), "--host", "0.0.0.0", "--port", str(port),
                               "--password-file", str(pw)], netns=True)
    try:
        base = f"https://127.0.0.1:{port}"
        server.wait_ready(base)
        seen = server.client(base, "--password-file", str(pw))
        family = psutil.Process(server.proc.pid).children(recursive=True)
        streamlit = [p for p in family if "streamlit_offline" in " ".join(p.cmdline())]
        assert len(streamlit) == 1, family
        cmd = streamlit[0].cmdline()
        upstream_port = int(cmd[cmd.index("--server.port") + 1])
    finally:
        log = server.stop()
    # what was bound to which address, as strace saw it (psutil cannot see into the namespace)
    binds = {(int(p), m.group("v4") or m.group("v6")) for line in log.splitlines() if " bind(" in line
             for p in _PORT.findall(line) for m in _INET.finditer(line)}
    assert (port, "0.0.0.0") in binds, binds  # the front, on every address
    assert (upstream_port, "127.0.0.1") in binds, binds  # Streamlit, on loopback
    assert all(ip == "127.0.0.1" for p, ip in binds if p == upstream_port), binds
    assert seen["logged_in"] and seen["health"] == 200, seen
    assert seen["foreign_origin"]["opened"] is False and seen["rebinding"]["opened"] is False, seen
    assert seen["session"].get("finished") is True and "This week" in seen["session"]["texts"], seen
    _assert_nothing_left(log, seen, server.output(), port)


def test_streamlit_run_beyond_loopback_shows_only_a_refusal(tmp_path):
    """``streamlit run dashboard/app/main.py --server.address 0.0.0.0``, without loadwatch's command and its
    front: the app renders nothing but the refusal (in a network namespace, so it reaches nobody)."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "app" / "main.py"),
               "--server.address", "0.0.0.0", "--server.port", str(port), "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]
    server = Traced(tmp_path, [], netns=True, command=command, trace=False,
                    env_extra={"LOADWATCH_DB": str(tmp_path / "s.sqlite3")})
    try:
        base = f"http://127.0.0.1:{port}"
        server.wait_ready(base)
        seen = server.client(base)
    finally:
        server.stop()
    texts = seen["session"].get("texts")
    assert seen["session"].get("finished") and texts and texts[0] == "loadwatch", seen
    assert len(texts) == 2 and "without loadwatch's login in front of it" in texts[1], texts


def test_streamlit_offline_answers_unknown_and_refuses_a_streamlit_without_the_lookups(monkeypatch):
    """In-process: after ``disable_address_lookups`` a foreign Origin is judged without any attempt to
    reach the network (the guard of tests/test_privacy.py records none), and a Streamlit whose look-ups
    moved is refused rather than trusted."""
    from streamlit import config, net_util
    from streamlit.web.server import server_util

    from loadwatch.dashboard.app import streamlit_offline
    from tests.test_privacy import network_guard

    for name in streamlit_offline.LOOKUPS:  # restored after the test
        monkeypatch.setattr(net_util, name, getattr(net_util, name))
    monkeypatch.setattr(net_util, "_internal_ip", None)
    monkeypatch.setattr(net_util, "_external_ip", None)
    assert config.get_option("server.enableCORS") is True  # Streamlit's default: origins are checked
    streamlit_offline.disable_address_lookups()
    with network_guard() as attempts:
        assert net_util.get_internal_ip() is None and net_util.get_external_ip() is None
        assert server_util.is_url_from_allowed_origins("http://evil.example") is False
        assert server_util.is_url_from_allowed_origins("http://localhost:8501") is True
    assert attempts == []
    monkeypatch.delattr(net_util, "get_external_ip")
    with pytest.raises(RuntimeError, match="get_external_ip"):
        streamlit_offline.disable_address_lookups()
