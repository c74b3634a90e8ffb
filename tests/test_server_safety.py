"""Safety of the dashboard server: beyond loopback it needs a password (refuses to start without one,
asks for it before any page), the password never reaches a log, and SIGTERM / SIGINT stop Streamlit
and its children and free the port (a real process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from streamlit.testing.v1 import AppTest

from loadwatch.dashboard.app import auth
from loadwatch.dashboard.cli import cmd_app
from loadwatch.dashboard.cli.main import main
from tests.app_helpers import APP_PATH, no_exceptions, texts
from tests.conftest import REPO_ROOT
from tests.helpers import free_port, port_free, wait_healthy

SECRET = "correct horse battery staple"


@pytest.mark.parametrize("host,loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("10.0.0.5", False),
    ("my-laptop.local", False),
])
def test_loopback_addresses(host, loopback):
    assert cmd_app.is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_non_loopback_host_without_password_refuses_to_start(host, monkeypatch, capsys):
    monkeypatch.delenv("LOADWATCH_PASSWORD", raising=False)
    started = []
    monkeypatch.setattr(cmd_app.subprocess, "Popen", lambda *a, **k: started.append(a))
    assert main(["dashboard", "--host", host]) == 2
    err = capsys.readouterr().err
    assert "LOADWATCH_PASSWORD" in err and "--password-file" in err
    assert started == []  # nothing was bound


def test_password_file_and_environment_are_read(tmp_path, monkeypatch):
    from loadwatch.dashboard.cli.main import build_parser

    monkeypatch.delenv("LOADWATCH_PASSWORD", raising=False)
    f = tmp_path / "pw.txt"
    f.write_text(SECRET + "\nignored\n", encoding="utf-8")
    assert cmd_app.read_password(build_parser().parse_args(["dashboard", "--password-file", str(f)])) == SECRET
    assert cmd_app.read_password(build_parser().parse_args(["dashboard"])) is None
    monkeypatch.setenv("LOADWATCH_PASSWORD", "s3")
    assert cmd_app.read_password(build_parser().parse_args(["dashboard"])) == "s3"
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(ValueError, match="empty.txt is empty"):
        cmd_app.read_password(build_parser().parse_args(["dashboard", "--password-file",
                                                         str(tmp_path / "empty.txt")]))


def test_beyond_loopback_streamlit_listens_on_loopback_and_never_sees_the_password(tmp_path, monkeypatch,
                                                                                    capsys):
    """--host 0.0.0.0: Streamlit is started on a loopback port of its own, with the front's secret and
    without the password (on its command line, in its environment or in the output); the front serves
    the address over TLS."""
    from loadwatch.dashboard.app import front

    monkeypatch.setenv("LOADWATCH_PASSWORD", SECRET)
    seen = {}

    class FakeProc:
        pid = 999_999_999

    def fake_start(cmd, env, **kw):
        seen.update(cmd=cmd, env=env, kw=kw)
        return FakeProc()

    async def fake_run(proc, config, host, port, tls, *, on_ready):
        seen.update(config=config, host=host, port=port, tls=tls)
        on_ready()
        return 0

    monkeypatch.setattr(cmd_app, "start_child", fake_start)
    monkeypatch.setattr(cmd_app, "_stop", lambda proc: seen.setdefault("stopped", True))
    monkeypatch.setattr(front, "run", fake_run)
    assert main(["dashboard", "--host", "0.0.0.0", "--port", "8443", "--db", str(tmp_path / "s.sqlite3")]) == 0
    cmd, env = seen["cmd"], seen["env"]
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert int(cmd[cmd.index("--server.port") + 1]) == seen["config"].upstream_port != 8443
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 8443)
    assert SECRET not in " ".join(cmd) and SECRET not in " ".join(map(str, env.values()))
    assert "LOADWATCH_PASSWORD" not in env
    assert env[front.FRONT_TOKEN_ENV] == seen["config"].token and len(seen["config"].token) >= 32
    assert seen["config"].password == SECRET and seen["stopped"]
    # uploads: the import's own limit for one file, not Streamlit's 1 GB
    from loadwatch.ingest.sources import DEFAULT_LIMITS

    assert seen["config"].upload_limit_bytes == front.upload_limit_bytes() < 2 * DEFAULT_LIMITS.max_file_bytes
    assert int(cmd[cmd.index("--server.maxUploadSize") + 1]) * 1024 * 1024 >= seen["config"].upload_limit_bytes
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    assert "https://0.0.0.0:8443" in out.out and "password" in out.out
    assert "from your phone: https://<this computer's address on your network>:8443" in out.out
    # the self-signed certificate was made beside the store: its key private
    tls = tmp_path / "tls"
    assert (tls.stat().st_mode & 0o777) == 0o700
    assert ((tls / "loadwatch-key.pem").stat().st_mode & 0o777) == 0o600
    # on loopback there is no front and no password
    seen.clear()

    class Done:
        pid = 999_999_999

        def wait(self):
            return 0

    monkeypatch.setattr(cmd_app, "start_child", lambda cmd, env, **kw: seen.update(cmd=cmd, env=env) or Done())
    assert main(["dashboard", "--db", str(tmp_path / "s.sqlite3")]) == 0
    assert "LOADWATCH_PASSWORD" not in seen["env"] and front.FRONT_TOKEN_ENV not in seen["env"]


@pytest.mark.parametrize("password", ["a", "seven77"])
def test_short_password_is_refused_at_start(password, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOADWATCH_PASSWORD", password)
    started = []
    monkeypatch.setattr(cmd_app, "start_child", lambda *a, **k: started.append(a))
    assert main(["dashboard", "--host", "0.0.0.0", "--db", str(tmp_path / "s.sqlite3")]) == 2
    err = capsys.readouterr().err
    assert "at least 8 characters" in err
    if len(password) > 3:
        assert password not in err
    assert started == []


def test_tls_cert_needs_its_key(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOADWATCH_PASSWORD", SECRET)
    started = []
    monkeypatch.setattr(cmd_app, "start_child", lambda *a, **k: started.append(a))
    assert main(["dashboard", "--host", "0.0.0.0", "--tls-cert", str(tmp_path / "c.pem"),
                 "--db", str(tmp_path / "s.sqlite3")]) == 2
    assert "--tls-key" in capsys.readouterr().err and started == []


def test_password_comparison():
    assert auth.password_matches(SECRET, SECRET)
    assert not auth.password_matches(SECRET + " ", SECRET)
    assert not auth.password_matches("", SECRET)


def test_gate_shows_nothing_before_the_password(history, monkeypatch):
    monkeypatch.setenv("LOADWATCH_PASSWORD", SECRET)
    monkeypatch.setattr(auth, "WRONG_PASSWORD_DELAY_S", 0.0)
    at = AppTest.from_file(str(APP_PATH), default_timeout=90).run()
    no_exceptions(at)
    shown = texts(at)
    assert "asks for its password first" in shown
    assert not at.metric and not at.get("vega_lite_chart") and not at.dataframe
    assert "km" not in shown and "Amber" not in shown and "pain" not in shown.lower()
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert "That is not the password." in texts(at)
    assert not at.metric
    at.text_input[0].input(SECRET)
    at.button[0].click().run()
    no_exceptions(at)
    assert "This week" in [t.value for t in at.title]
    assert at.metric  # the runner's numbers, now
    assert SECRET not in texts(at)


def test_no_password_on_loopback(tmp_path, monkeypatch):
    monkeypatch.delenv("LOADWATCH_PASSWORD", raising=False)
    at = AppTest.from_file(str(APP_PATH), default_timeout=90).run()
    no_exceptions(at)
    assert "This week" in [t.value for t in at.title]


# --- stopping: a real process ------------------------------------------------------------------------------

def _start_dashboard(tmp_path, port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen([sys.executable, "-m", "loadwatch.dashboard.cli.main", "dashboard", "--db",
                             str(tmp_path / "s.sqlite3"), "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_all(procs) -> None:
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_signal_stops_the_server_and_its_children_and_frees_the_port(tmp_path, sig):
    """SIGTERM (a service manager) and SIGINT (Ctrl+C) stop the command within 3 s; SIGKILL cannot be
    caught, and the kernel itself ends Streamlit (PR_SET_PDEATHSIG): whichever, nothing is left running
    with init as its parent, listening on the port."""
    if sig == signal.SIGKILL and not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    port = free_port()
    proc = _start_dashboard(tmp_path, port)
    family = [psutil.Process(proc.pid)]
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        children = psutil.Process(proc.pid).children(recursive=True)
        family += children
        assert children, "streamlit runs as a child of the loadwatch command"
        assert not port_free(port)
        started = time.monotonic()
        os.kill(proc.pid, sig)  # only the command itself, as a service manager or Ctrl+C does
        code = proc.wait(timeout=30)
        took_s = time.monotonic() - started
        assert code == {signal.SIGTERM: 0, signal.SIGINT: 130, signal.SIGKILL: -signal.SIGKILL}[sig]
        if sig != signal.SIGKILL:
            # a stop is over within 3 s: Streamlit gets STOP_TIMEOUT_S to go, then it is killed
            assert took_s < 3.0, f"the dashboard took {took_s:.1f} s to stop"
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"left running: {alive}"
        deadline = time.monotonic() + 10
        while not port_free(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert port_free(port), f"port {port} still held"
    finally:
        _kill_all(family)


def test_child_asks_the_kernel_to_die_with_its_parent(tmp_path):
    """The mechanism alone, on a small child: its parent is SIGKILLed, the child goes too."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    pid_file = tmp_path / "child.pid"
    parent_code = (
        "import sys, time\n"
        "from loadwatch.dashboard.cli.cmd_app import start_child\n"
        "child = start_child([sys.executable, '-c', 'import time; time.sleep(120)'], env=None)\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", parent_code], cwd=REPO_ROOT,
                              env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    child = None
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and parent.poll() is None
            time.sleep(0.05)
        child = psutil.Process(int(pid_file.read_text()))
        assert child.ppid() == parent.pid and child.is_running()
        parent.kill()
        parent.wait(10)
        child.wait(timeout=10)  # raises TimeoutExpired if the kernel did not end it
    finally:
        parent.kill()
        parent.wait(10)
        if child is not None:
            _kill_all([child])


def test_the_session_check_finds_a_process_left_behind():
    """tests/conftest.py's end-of-session check sees a process of this session even once init has
    adopted it (its parent gone), by the mark in its environment."""
    from tests import conftest

    code = ("import subprocess, sys\n"
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],\n"
            "                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "print(p.pid, flush=True)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    orphan = psutil.Process(int(out.stdout.split()[0]))
    try:
        assert orphan.ppid() != os.getpid()  # not a descendant of this process any more
        assert orphan.pid in {p.pid for p in conftest._started_by_this_session()}
    finally:
        orphan.kill()
        orphan.wait(10)
