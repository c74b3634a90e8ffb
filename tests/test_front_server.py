"""``loadwatch dashboard`` behind its front, for real: Streamlit on a loopback port of its own, the front on
the address given (127.0.0.2 with the gate forced on: the code path of a non-loopback ``--host``, without
listening beyond this machine), with the runner's own certificate.

An unauthenticated client gets neither data nor memory nor a side effect through any endpoint; a
logged-in one gets the runner's pages; a client on this machine that goes around the front to
Streamlit's own port is shown nothing; and the dashboard's processes end with it."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from loadwatch.dashboard.app import front
from tests.app_helpers import copy_history
from tests.conftest import REPO_ROOT
from tests.test_e2e_pages import Server

pytestmark = pytest.mark.slow

SECRET = "a long passphrase for the phone"
HOST = "127.0.0.2"


def _tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             source: str = "127.0.0.1"):
    conn = http.client.HTTPSConnection(HOST, port, timeout=60, context=_tls(), source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def _rss_mb(pids: list[int]) -> float:
    return sum(psutil.Process(p).memory_info().rss for p in pids) / 1e6


class FrontServer(Server):
    """``loadwatch dashboard`` on HOST behind its front, with the runner's own certificate (here one made
    by the same generator, in a folder of its own)."""

    def __init__(self, tmp_path: Path, db: Path):
        self.pw_file = tmp_path / "password.txt"
        self.pw_file.write_text(SECRET + "\n")
        self.cert, self.key = front.self_signed_certificate(tmp_path / "own-cert", HOST)
        super().__init__(tmp_path, db, host=HOST, env_extra={"LOADWATCH_REQUIRE_PASSWORD": "1"},
                         args=("--password-file", str(self.pw_file), "--tls-cert", str(self.cert),
                               "--tls-key", str(self.key)))
        self.base = f"https://{HOST}:{self.port}"

    def wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the dashboard exited early:\n" + self.log.read_text()
            if "asks for the password first" in self.log.read_text():
                return
            time.sleep(0.3)
        raise AssertionError("the front did not start:\n" + self.log.read_text())

    def streamlit(self) -> psutil.Process:
        kids = [p for p in psutil.Process(self.proc.pid).children(recursive=True)
                if "streamlit_offline" in " ".join(p.cmdline())]
        assert len(kids) == 1, kids
        return kids[0]

    def streamlit_port(self) -> int:
        cmd = self.streamlit().cmdline()
        return int(cmd[cmd.index("--server.port") + 1])

    def probe(self, base: str, *, login: bool) -> dict:
        args = [base, "--password-file", str(self.pw_file)] if login else [base]
        done = subprocess.run([sys.executable, "-m", "tests.net_probe", *args], cwd=REPO_ROOT,
                              env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)), capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def served(tmp_path):
    db = copy_history(tmp_path / "history.sqlite3", tmp_path / "template")
    server = FrontServer(tmp_path, db)
    try:
        server.wait_ready()
        yield server, db
    finally:
        server.stop()


def _store_digest(db: Path) -> str:
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("pain", "activities", "rules")]
    finally:
        conn.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_unauthenticated_client_gets_no_data_no_memory_no_side_effect(served):
    server, db = served
    before = _store_digest(db)
    pids = [server.proc.pid, server.streamlit().pid]
    served_cert = ssl.get_server_certificate((HOST, server.port))
    assert ssl.PEM_cert_to_DER_cert(served_cert) == ssl.PEM_cert_to_DER_cert(server.cert.read_text())
    for method, path in [("GET", "/"), ("GET", "/pain"), ("GET", "/_stcore/health"), ("GET", "/_stcore/host-config"),
                         ("POST", "/_stcore/clear_cache"), ("GET", "/media/0123456789abcdef0123456789abcdef.csv"),
                         ("DELETE", "/_stcore/upload_file/s/f"), ("GET", "/_stcore/script-health-check")]:
        status, headers, body = _request(server.port, method, path)
        assert status in (302, 401), (method, path, status)
        if status == 302:
            assert headers["Location"] == front.LOGIN_PATH
        assert b"streamlit" not in body.lower() and b"km" not in body
    rss_before = _rss_mb(pids)
    # 4 x 64 MB uploads without a login, each announced and pushed as fast as the socket takes it
    for _ in range(4):
        raw = socket.create_connection((HOST, server.port), timeout=30)
        sock = _tls().wrap_socket(raw, server_hostname=HOST)
        size = 64 * 1024 * 1024
        sock.sendall(f"PUT /_stcore/upload_file/s/f HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: "
                     f"application/octet-stream\r\nContent-Length: {size}\r\n\r\n".encode())
        sent = 0
        chunk = b"z" * (1024 * 1024)
        try:
            while sent < size:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        sock.close()
        assert sent < size, "the front read a whole upload from a client that had not logged in"
    time.sleep(0.5)
    grown = _rss_mb(pids) - rss_before
    assert grown < 40, f"the dashboard grew by {grown:.0f} MB on uploads without a login"
    seen = server.probe(server.base, login=False)
    assert seen["session"]["opened"] is False and seen["session"].get("status") == 401, seen
    assert seen["health"] == 401, seen
    assert _store_digest(db) == before
    assert "websocket without a login" in server.log.read_text()


def test_logged_in_browser_gets_the_pages_and_streamlit_is_not_reachable_around_the_front(served):
    server, _ = served
    seen = server.probe(server.base, login=True)
    assert seen["logged_in"] and seen["health"] == 200 and seen["page"] == 200, seen
    assert seen["foreign_origin"]["opened"] is False and seen["rebinding"]["opened"] is False, seen
    texts = seen["session"]["texts"]
    assert seen["session"].get("finished") and "This week" in texts, seen
    assert not any("password" in t.lower() for t in texts)  # the front asked: the app does not ask again
    # Streamlit listens on loopback only, on a port of its own
    listening = {(c.laddr.ip, c.laddr.port) for c in server.streamlit().net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN}
    assert listening == {("127.0.0.1", server.streamlit_port())}, listening
    # a client of this machine that goes straight to Streamlit's port sees the refusal alone
    direct = server.probe(f"http://127.0.0.1:{server.streamlit_port()}", login=False)
    assert direct["session"].get("finished"), direct
    assert direct["session"]["texts"] == ["loadwatch", "This dashboard is reached through its login page only."]


def test_wrong_passwords_over_the_network_are_locked_out(served):
    server, _ = served
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": server.base}
    for i in range(front.MAX_FAILED_LOGINS):
        status, _, body = _request(server.port, "POST", front.LOGIN_PATH, f"password=guess{i}".encode(), form,
                                   source="127.0.0.9")
        assert status == 401 and b"That is not the password." in body
    status, _, body = _request(server.port, "POST", front.LOGIN_PATH,
                               f"password={SECRET.replace(' ', '+')}".encode(), form, source="127.0.0.9")
    assert status == 429 and b"Too many wrong passwords" in body
    # another address is not locked out by it
    status, headers, _ = _request(server.port, "POST", front.LOGIN_PATH,
                                  f"password={SECRET.replace(' ', '+')}".encode(), form, source="127.0.0.10")
    assert status == 302 and front.COOKIE_NAME in headers.get("Set-Cookie", "")
    log = server.log.read_text()
    assert log.count("wrong password from 127.0.0.9") == front.MAX_FAILED_LOGINS
    assert "guess" not in log and SECRET not in log


def test_sigkill_of_the_front_takes_streamlit_with_it(served):
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    server, _ = served
    streamlit = server.streamlit()
    server.proc.kill()
    server.proc.wait(10)
    streamlit.wait(timeout=10)  # TimeoutExpired if it outlived the command
