"""The authenticating front (``dashboard/app/front.py``) in-process, in front of a small recording server
that stands in for Streamlit: what reaches "Streamlit" without a login (nothing), the cookie, the
headers passed on, the upload cap, the websocket and its Origin check, and the rate limit on wrong
passwords.  The front with the real Streamlit behind it, and a real browser, are in
``tests/test_front_server.py``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.parse
from pathlib import Path

import pytest
import tornado.httpclient
import tornado.httpserver
import tornado.web
import tornado.websocket

from loadwatch.dashboard.app import front
from tests.helpers import free_port

SECRET = "a long passphrase for the phone"
TOKEN = "front-secret-" + "x" * 32


class Upstream:
    """Stands in for Streamlit: records every request and websocket that reaches it."""

    def __init__(self):
        self.requests: list[dict] = []
        self.sockets: list[dict] = []

    def app(self) -> tornado.web.Application:
        upstream = self

        class Echo(tornado.websocket.WebSocketHandler):
            def select_subprotocol(self, subprotocols):
                return subprotocols[0] if subprotocols else None

            def open(self):
                upstream.sockets.append(dict(self.request.headers))

            def on_message(self, message):
                self.write_message(b"echo:" + (message if isinstance(message, bytes) else message.encode()),
                                   binary=True)

        class Record(tornado.web.RequestHandler):
            SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")

            def _record(self):
                upstream.requests.append({"method": self.request.method, "path": self.request.path,
                                          "headers": dict(self.request.headers), "body": len(self.request.body)})
                self.set_cookie("_streamlit_xsrf", "abc")
                self.write(f"upstream saw {len(self.request.body)} bytes")

            get = head = post = put = delete = _record

        return tornado.web.Application([(r"/_stcore/stream", Echo), (r"/.*", Record)])


@contextlib.asynccontextmanager
async def running(tmp_path: Path, *, upload_limit_bytes: int = 1024 * 1024, failed_logins=None):
    upstream = Upstream()
    up_port = free_port()
    up_server = tornado.httpserver.HTTPServer(upstream.app(), max_body_size=64 * 1024 * 1024)
    up_server.listen(up_port, address="127.0.0.1")
    cert, key = front.self_signed_certificate(tmp_path / "tls", "127.0.0.1")
    config = front.FrontConfig(password=SECRET, upstream_port=up_port, token=TOKEN,
                               upload_limit_bytes=upload_limit_bytes)
    port = free_port()
    server = front.serve(config, "127.0.0.1", port, front.ssl_context(cert, key), failed_logins)
    try:
        yield f"https://127.0.0.1:{port}", upstream
    finally:
        server.stop()
        up_server.stop()


async def fetch(url: str, method: str = "GET", *, body=None, headers=None):
    request = tornado.httpclient.HTTPRequest(url, method=method, body=body, headers=headers or {},
                                             validate_cert=False, follow_redirects=False,
                                             allow_nonstandard_methods=True, request_timeout=60)
    try:
        return await tornado.httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
    except (OSError, tornado.httpclient.HTTPClientError, tornado.iostream.StreamClosedError) as exc:
        return exc


async def login(base: str, password: str = SECRET, origin: str | None = None):
    body = urllib.parse.urlencode({"password": password})
    return await fetch(f"{base}{front.LOGIN_PATH}", "POST", body=body,
                       headers={"Origin": origin or base, "Content-Type": "application/x-www-form-urlencoded"})


def _cookie(response) -> str:
    return "; ".join(c.split(";", 1)[0] for c in response.headers.get_list("Set-Cookie"))


# Streamlit's endpoints, as the issue found them open: pages, /_stcore/*, uploads, media
ENDPOINTS = [
    ("GET", "/", None), ("GET", "/pain", None), ("GET", "/?demo=1", None),
    ("GET", "/_stcore/health", None), ("GET", "/_stcore/host-config", None),
    ("GET", "/_stcore/script-health-check", None), ("POST", "/_stcore/metrics", b"{}"),
    ("GET", "/media/0123456789abcdef.csv", None), ("GET", "/app/static/x.js", None),
    ("PUT", "/_stcore/upload_file/session/file-id", b"x" * (8 * 1024 * 1024)),
    ("DELETE", "/_stcore/upload_file/session/file-id", None),
    ("POST", "/_stcore/clear_cache", b""),
]


def test_without_a_login_nothing_reaches_streamlit(tmp_path):
    async def go():
        async with running(tmp_path) as (base, upstream):
            for method, path, body in ENDPOINTS:
                r = await fetch(base + path, method, body=body)
                code = getattr(r, "code", None)
                if code == 302:
                    assert r.headers["Location"] == front.LOGIN_PATH, (method, path)
                elif code is not None:
                    assert code == 401, (method, path, code)
                    assert b"upstream" not in (r.body or b"")
                # else: the connection was cut before the body (an upload without a login)
            ws = await _ws(base, cookie="", origin=base)
            assert isinstance(ws, tornado.httpclient.HTTPClientError) and ws.code == 401
            # a signed cookie from another key (another start, or forged) is worth nothing
            forged = tornado.web.create_signed_value(b"k" * 32, front.COOKIE_NAME, "1").decode()
            r = await fetch(base + "/_stcore/health", headers={"Cookie": f"{front.COOKIE_NAME}={forged}"})
            assert r.code == 401
            r = await fetch(base + "/_stcore/health", headers={"Cookie": f"{front.COOKIE_NAME}=1"})
            assert r.code == 401
            assert upstream.requests == [] and upstream.sockets == []
            # the login page is the front's own, and fetches nothing from elsewhere
            r = await fetch(base + front.LOGIN_PATH)
            page = r.body.decode()
            assert r.code == 200 and "asks for its password first" in page
            assert "http://" not in page and "https://" not in page and "src=" not in page

    asyncio.run(go())


def test_login_sets_a_signed_strict_cookie_and_passes_requests_on(tmp_path):
    async def go():
        async with running(tmp_path) as (base, upstream):
            r = await login(base)
            assert r.code == 302 and r.headers["Location"] == "/"
            set_cookie = r.headers["Set-Cookie"]
            for attribute in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
                assert attribute.lower() in set_cookie.lower(), set_cookie
            assert SECRET not in set_cookie
            cookie = _cookie(r)
            r = await fetch(base + "/_stcore/health?x=1", headers={"Cookie": cookie + "; _streamlit_xsrf=abc"})
            assert r.code == 200 and r.body == b"upstream saw 0 bytes"
            assert "_streamlit_xsrf=abc" in r.headers.get_list("Set-Cookie")[0]  # Streamlit's cookie comes back
            assert len(r.headers.get_list("Date")) == 1 and len(r.headers.get_list("Server")) == 1
            seen = upstream.requests[-1]
            assert seen["path"] == "/_stcore/health"
            assert seen["headers"][front.FRONT_HEADER] == TOKEN
            assert seen["headers"]["Cookie"] == "_streamlit_xsrf=abc"  # the session cookie stays with the front
            assert seen["headers"]["Host"].startswith("127.0.0.1:")
            # a wrong password: no cookie, a plain sentence
            r = await login(base, "not it at all", origin=base)
            assert r.code == 401 and "That is not the password." in r.body.decode()
            assert not r.headers.get_list("Set-Cookie")
            # a login form posted from another site is refused
            r = await login(base, SECRET, origin="https://evil.example")
            assert r.code == 403

    asyncio.run(go())


def test_uploads_are_capped_and_a_bigger_one_never_reaches_streamlit(tmp_path):
    async def go():
        async with running(tmp_path, upload_limit_bytes=1024 * 1024) as (base, upstream):
            cookie = _cookie(await login(base))
            url = base + "/_stcore/upload_file/session/file-id"
            r = await fetch(url, "PUT", body=b"y" * (512 * 1024), headers={"Cookie": cookie})
            assert r.code == 200 and upstream.requests[-1]["body"] == 512 * 1024
            n = len(upstream.requests)
            r = await fetch(url, "PUT", body=b"y" * (2 * 1024 * 1024), headers={"Cookie": cookie})
            assert getattr(r, "code", 400) in (400, 413, 599), r
            assert len(upstream.requests) == n

    asyncio.run(go())


def test_the_import_limit_is_the_upload_limit():
    from loadwatch.ingest.sources import DEFAULT_LIMITS

    assert front.upload_limit_bytes() == DEFAULT_LIMITS.max_file_bytes + front.MULTIPART_OVERHEAD_BYTES


async def _ws(base: str, *, cookie: str, origin: str):
    url = base.replace("https://", "wss://") + "/_stcore/stream"
    headers = {"Origin": origin}
    if cookie:
        headers["Cookie"] = cookie
    request = tornado.httpclient.HTTPRequest(url, headers=headers, validate_cert=False)
    try:
        return await tornado.websocket.websocket_connect(request, subprotocols=["streamlit", "xsrf-token"])
    except (tornado.httpclient.HTTPClientError, OSError) as exc:
        return exc


def test_websocket_is_passed_on_from_the_own_origin_only(tmp_path):
    async def go():
        async with running(tmp_path) as (base, upstream):
            cookie = _cookie(await login(base))
            foreign = await _ws(base, cookie=cookie, origin="https://evil.example")
            assert isinstance(foreign, tornado.httpclient.HTTPClientError) and foreign.code == 403
            assert upstream.sockets == []
            ws = await _ws(base, cookie=cookie, origin=base)
            assert ws.selected_subprotocol == "streamlit"
            await ws.write_message(b"hello", binary=True)
            assert await asyncio.wait_for(ws.read_message(), 10) == b"echo:hello"
            ws.close()
            seen = upstream.sockets[-1]
            assert seen[front.FRONT_HEADER] == TOKEN
            assert seen["Origin"] == "http://" + seen["Host"]  # Streamlit sees its own origin
            assert seen["Host"].startswith("127.0.0.1:")
            assert seen["Sec-Websocket-Protocol"] == "streamlit,xsrf-token"  # Streamlit's tokens ride here
            assert front.COOKIE_NAME not in seen.get("Cookie", "")

    asyncio.run(go())


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_wrong_passwords_are_rate_limited_per_address_and_logged(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(front, "WRONG_PASSWORD_DELAY_S", 0.0)
    clock = FakeClock()
    limits = front.FailedLogins(clock=clock)

    async def go():
        async with running(tmp_path, failed_logins=limits) as (base, upstream):
            for i in range(front.MAX_FAILED_LOGINS):
                r = await login(base, f"guess number {i}")
                assert r.code == 401
            r = await login(base)  # even the right password, while the address is locked out
            assert r.code == 429 and "Too many wrong passwords" in r.body.decode()
            assert not r.headers.get_list("Set-Cookie")
            assert limits.blocked_for_s("127.0.0.1") > 0 and limits.blocked_for_s("192.0.2.7") == 0
            clock.now += front.FAILED_LOGIN_WINDOW_S + 1
            r = await login(base)
            assert r.code == 302 and _cookie(r)

    front.log.propagate = True
    with caplog.at_level(logging.INFO, logger="loadwatch.front"):
        asyncio.run(go())
    logged = caplog.text
    assert logged.count("wrong password from 127.0.0.1") == front.MAX_FAILED_LOGINS
    assert "too many wrong passwords from 127.0.0.1" in logged and "login from 127.0.0.1" in logged
    assert "guess number" not in logged and SECRET not in logged


def test_failed_logins_window():
    clock = FakeClock()
    limits = front.FailedLogins(max_failures=3, max_failures_all=5, window_s=60, clock=clock)
    for _ in range(3):
        limits.add("10.0.0.2")
        clock.now += 10
    assert limits.blocked_for_s("10.0.0.2") == pytest.approx(30)
    assert limits.blocked_for_s("10.0.0.3") == 0
    clock.now += 31
    assert limits.blocked_for_s("10.0.0.2") == 0  # the first failure left the window
    limits.clear("10.0.0.2")
    assert limits.add("10.0.0.2") == 1
    # many addresses together: every login waits (one machine can speak from many IPv6 addresses)
    for i in range(4):
        limits.add(f"2001:db8::{i + 1}")
    assert limits.blocked_for_s("2001:db8::99") > 0 and limits.blocked_for_s("10.0.0.7") > 0
    clock.now += 61
    assert limits.blocked_for_s("10.0.0.7") == 0


def test_self_signed_certificate_is_kept_and_its_key_private(tmp_path):
    import ssl

    from cryptography import x509

    cert, key = front.self_signed_certificate(tmp_path / "tls", "192.168.1.20")
    assert (tmp_path / "tls").stat().st_mode & 0o777 == 0o700 and key.stat().st_mode & 0o777 == 0o600
    names = x509.load_pem_x509_certificate(cert.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} >= {"127.0.0.1", "192.168.1.20"}
    assert front.self_signed_certificate(tmp_path / "tls", "10.0.0.1") == (cert, key)  # kept, not remade
    assert cert.read_bytes() == cert.read_bytes()
    assert isinstance(front.ssl_context(cert, key), ssl.SSLContext)
    with pytest.raises(ValueError, match="cannot use the certificate"):
        front.ssl_context(cert, tmp_path / "missing-key.pem")
