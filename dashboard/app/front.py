"""The authenticating front of a dashboard reachable beyond this machine (``loadwatch dashboard --host``).

Streamlit listens on loopback only, on a free port; this front, a Tornado server, serves the address the
runner gave, over TLS, and checks the password before any byte reaches Streamlit:

* a login page (``/_loadwatch/login``) and, once the password is given, a session cookie signed with
  HMAC-SHA256 by Tornado (``secure``, ``httponly``, ``samesite=strict``; its key is drawn at each start,
  so a restart logs every browser out);
* every other request, HTTP or websocket, is refused without that cookie (an HTTP page is sent to the
  login page, anything else gets 401) before its body is read; with it, the request is passed to
  Streamlit (HTTP through Tornado's client, the websocket through Tornado's websocket client);
* a websocket from another Origin is refused (a web page elsewhere cannot drive the dashboard);
* a request body is capped at the import's own file size limit (``loadwatch.ingest.sources.Limits``), larger
  uploads are cut off, and a client that has not logged in can send no body at all;
* wrong passwords wait ``WRONG_PASSWORD_DELAY_S`` and, after ``MAX_FAILED_LOGINS`` from one address in
  ``FAILED_LOGIN_WINDOW_S``, that address is refused until the window has passed; every failure is logged
  (the address, never the password);
* TLS with the runner's certificate (``--tls-cert``/``--tls-key``) or a self-signed one generated once
  with ``cryptography`` and kept beside the store (key 0600 in a 0700 folder).

Every request passed on carries ``X-Loadwatch-Front`` with a secret drawn at start and given to the
Streamlit child in ``$LOADWATCH_FRONT_TOKEN``: the app shows nothing to a session that lacks it
(``loadwatch.dashboard.app.auth``), so a client on this machine cannot go around the front to Streamlit's port.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import hmac
import html
import ipaddress
import logging
import os
import secrets
import signal
import ssl
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import tornado.httpclient
import tornado.httpserver
import tornado.httputil
import tornado.web
import tornado.websocket

log = logging.getLogger("loadwatch.front")

#: The session cookie's name.
COOKIE_NAME = "loadwatch_session"
#: The login page's path (beside Streamlit's own paths, never one of them).
LOGIN_PATH = "/_loadwatch/login"
#: Days a login lasts in one browser (the phone stays logged in for a training week).
SESSION_DAYS = 7
#: Shortest password accepted [characters].
MIN_PASSWORD_CHARS = 8
#: Seconds every wrong password waits before its answer (without holding up anyone else).
WRONG_PASSWORD_DELAY_S = 1.0
#: Wrong passwords one client address may give in ``FAILED_LOGIN_WINDOW_S`` before it is refused.
MAX_FAILED_LOGINS = 5
#: Wrong passwords from all addresses together in ``FAILED_LOGIN_WINDOW_S`` before every login is refused
#: (one machine can speak from many addresses, e.g. IPv6 temporary ones); a browser already logged in is
#: not affected.
MAX_FAILED_LOGINS_ALL = 20
#: Seconds over which wrong passwords are counted [s].
FAILED_LOGIN_WINDOW_S = 300.0
#: Largest body a client that has not logged in may send (the login form) [bytes].
LOGIN_BODY_BYTES = 16 * 1024
#: Room for the multipart wrapping around an uploaded file [bytes].
MULTIPART_OVERHEAD_BYTES = 1024 * 1024
#: Largest websocket message a browser may send (Streamlit's BackMsgs are small) [bytes].
BROWSER_MESSAGE_BYTES = 16 * 1024 * 1024
#: Largest websocket message Streamlit may send the browser (a chart of years of data) [bytes].
STREAMLIT_MESSAGE_BYTES = 512 * 1024 * 1024
#: Header carrying the front's secret to Streamlit, and the environment variable holding it there.
FRONT_HEADER = "X-Loadwatch-Front"
FRONT_TOKEN_ENV = "LOADWATCH_FRONT_TOKEN"
#: Hop-by-hop headers (RFC 9110 §7.6.1), never passed on.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
               "transfer-encoding", "upgrade", "proxy-connection"}
#: Headers the websocket client sets itself.
_WS_OWN = {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol",
           "host", "origin", "content-length"}


def check_password_strength(password: str) -> None:
    """ValueError in plain words when ``password`` is too short to be shared beyond this machine."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"the dashboard's password must have at least {MIN_PASSWORD_CHARS} characters "
                         f"(this one has {len(password)}): anyone on the network can try to guess it")


def upload_limit_bytes() -> int:
    """The largest request body passed to Streamlit: the import's own limit for one file, plus the
    multipart wrapping [bytes]."""
    from loadwatch.ingest.sources import DEFAULT_LIMITS

    return DEFAULT_LIMITS.max_file_bytes + MULTIPART_OVERHEAD_BYTES


@dataclass
class FailedLogins:
    """Wrong passwords per client address and from all addresses together, over a sliding window
    (``clock`` in seconds)."""

    max_failures: int = MAX_FAILED_LOGINS
    max_failures_all: int = MAX_FAILED_LOGINS_ALL
    window_s: float = FAILED_LOGIN_WINDOW_S
    clock: object = time.monotonic
    _seen: dict = field(default_factory=dict)
    _all: collections.deque = field(default_factory=collections.deque)

    def _trim(self, times: collections.deque) -> collections.deque:
        now = self.clock()
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def _wait_s(self, times: collections.deque, limit: int) -> float:
        if len(self._trim(times)) < limit:
            return 0.0
        return max(0.0, times[-limit] + self.window_s - self.clock())

    def blocked_for_s(self, address: str) -> float:
        """Seconds until ``address`` may try again (0 when it may now)."""
        mine = self._seen.get(address, collections.deque())
        return max(self._wait_s(mine, self.max_failures), self._wait_s(self._all, self.max_failures_all))

    def add(self, address: str) -> int:
        """Count a wrong password; returns how many ``address`` gave in the window."""
        times = self._trim(self._seen.setdefault(address, collections.deque()))
        times.append(self.clock())
        self._trim(self._all).append(self.clock())
        return len(times)

    def clear(self, address: str) -> None:
        self._seen.pop(address, None)


@dataclass(frozen=True)
class FrontConfig:
    password: str
    upstream_port: int
    token: str
    upload_limit_bytes: int
    cookie_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))


class _Base(tornado.web.RequestHandler):
    @property
    def front(self) -> FrontConfig:
        return self.settings["front"]

    def logged_in(self) -> bool:
        value = self.get_signed_cookie(COOKIE_NAME, max_age_days=SESSION_DAYS)
        return value == b"1"

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        # "same-origin", not "no-referrer": under no-referrer a browser sends "Origin: null" with its own forms
        self.set_header("Referrer-Policy", "same-origin")

    def same_origin(self, origin: str | None) -> bool:
        """True when ``origin`` is this front's own (scheme and host as the browser reached it)."""
        if not origin:
            return True  # not a browser's cross-site request (browsers always send it on those)
        parsed = urllib.parse.urlsplit(origin)
        return parsed.scheme == self.request.protocol and parsed.netloc.lower() == self.request.host.lower()


_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>loadwatch</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 26rem; margin: 3rem auto; padding: 0 1rem; color: #222; }}
h1 {{ color: #1f6f8b; }} input, button {{ font-size: 1.1rem; width: 100%; padding: .6rem; margin: .4rem 0;
box-sizing: border-box; }} button {{ background: #1f6f8b; color: #fff; border: 0; border-radius: .3rem; }}
.error {{ color: #a00; }}
</style></head>
<body><h1>loadwatch</h1>
<p>This dashboard is shared beyond its own computer, so it asks for its password first.</p>
{message}
<form method="post" action="{action}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" autofocus required>
<button type="submit">Open the dashboard</button>
</form></body></html>
"""


class LoginHandler(_Base):
    def _page(self, message: str = "", status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        shown = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
        self.finish(_LOGIN_PAGE.format(message=shown, action=LOGIN_PATH))

    def get(self) -> None:
        self._page()

    async def post(self) -> None:
        address = self.request.remote_ip or "?"
        failures: FailedLogins = self.settings["failed_logins"]
        wait_s = failures.blocked_for_s(address)
        if wait_s > 0:
            log.warning("login refused: too many wrong passwords from %s", address)
            minutes = max(1, round(wait_s / 60))
            self._page(f"Too many wrong passwords. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
                       status=429)
            return
        if not self.same_origin(self.request.headers.get("Origin")):
            raise tornado.web.HTTPError(403)
        given = self.get_body_argument("password", default="")
        if hmac.compare_digest(given.encode("utf-8"), self.front.password.encode("utf-8")):
            failures.clear(address)
            self.set_signed_cookie(COOKIE_NAME, "1", expires_days=SESSION_DAYS, secure=True, httponly=True,
                                   samesite="Strict", path="/")
            log.info("login from %s", address)
            self.redirect("/")
            return
        count = failures.add(address)
        log.warning("wrong password from %s (%d in the last %d minutes)", address, count,
                    round(FAILED_LOGIN_WINDOW_S / 60))
        await asyncio.sleep(WRONG_PASSWORD_DELAY_S)
        self._page("That is not the password.", status=401)


@tornado.web.stream_request_body
class ProxyHandler(_Base):
    """Every HTTP request to Streamlit: refused before its body without the session cookie."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")

    def prepare(self) -> None:
        self._body = bytearray()
        if not self.logged_in():
            if self.request.method in ("GET", "HEAD") and not self.request.path.startswith("/_stcore/"):
                self.redirect(LOGIN_PATH)
                return
            raise tornado.web.HTTPError(401)
        if not self.same_origin(self.request.headers.get("Origin")):
            raise tornado.web.HTTPError(403)
        self.request.connection.set_max_body_size(self.front.upload_limit_bytes)

    def data_received(self, chunk: bytes) -> None:
        if not self._finished:
            self._body += chunk

    async def _pass_on(self) -> None:
        headers = tornado.httputil.HTTPHeaders()
        for name, value in self.request.headers.get_all():
            low = name.lower()
            if low in _HOP_BY_HOP or low in ("host", "content-length", FRONT_HEADER.lower()):
                continue
            if low == "cookie":
                value = _without_session_cookie(value)
                if not value:
                    continue
            if low == "origin":
                value = f"http://127.0.0.1:{self.front.upstream_port}"
            headers.add(name, value)
        headers[FRONT_HEADER] = self.front.token
        body = bytes(self._body) if self.request.method in ("POST", "PUT", "PATCH", "DELETE") else None
        request = tornado.httpclient.HTTPRequest(
            f"http://127.0.0.1:{self.front.upstream_port}{self.request.uri}", method=self.request.method,
            headers=headers, body=body, follow_redirects=False, decompress_response=False,
            allow_nonstandard_methods=True, request_timeout=600)
        response = await tornado.httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        if response.code == 599:
            raise tornado.web.HTTPError(502)
        self.set_status(response.code, response.reason)
        self.clear_header("Content-Type")
        passed: set[str] = set()
        for name, value in response.headers.get_all():
            low = name.lower()
            if low in _HOP_BY_HOP or low == "content-length":
                continue
            # Streamlit's Date, Server, Cache-Control... replace the front's own; Set-Cookie may repeat
            (self.add_header if low in passed else self.set_header)(name, value)
            passed.add(low)
        if response.body and self.request.method != "HEAD" and response.code not in (204, 304):
            self.write(response.body)
        await self.finish()

    get = head = post = put = delete = patch = options = _pass_on


def _without_session_cookie(header: str) -> str:
    """A Cookie header less the front's own session cookie (Streamlit never sees it)."""
    parts = [p.strip() for p in header.split(";")]
    return "; ".join(p for p in parts if p and p.split("=", 1)[0].strip() != COOKIE_NAME)


class StreamHandler(tornado.websocket.WebSocketHandler, _Base):
    """Streamlit's websocket, passed through once the session cookie and the Origin are right."""

    upstream: tornado.websocket.WebSocketClientConnection | None = None

    async def get(self, *args, **kwargs) -> None:
        if not self.logged_in():
            log.warning("websocket without a login from %s refused", self.request.remote_ip)
            self.set_status(401)
            self.finish()
            return
        await super().get(*args, **kwargs)

    def check_origin(self, origin: str) -> bool:
        return self.same_origin(origin)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return subprotocols[0] if subprotocols else None

    async def open(self, *args, **kwargs) -> None:
        headers = tornado.httputil.HTTPHeaders()
        for name, value in self.request.headers.get_all():
            low = name.lower()
            if low in _HOP_BY_HOP or low in _WS_OWN or low == FRONT_HEADER.lower():
                continue
            if low == "cookie":
                value = _without_session_cookie(value)
                if not value:
                    continue
            headers.add(name, value)
        headers[FRONT_HEADER] = self.front.token
        headers["Origin"] = f"http://127.0.0.1:{self.front.upstream_port}"
        protocols = [p.strip() for p in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",")
                     if p.strip()]
        request = tornado.httpclient.HTTPRequest(
            f"ws://127.0.0.1:{self.front.upstream_port}{self.request.uri}", headers=headers)
        try:
            self.upstream = await tornado.websocket.websocket_connect(
                request, subprotocols=protocols or None, max_message_size=STREAMLIT_MESSAGE_BYTES)
        except (OSError, tornado.httpclient.HTTPClientError, tornado.websocket.WebSocketError):
            self.close(1011, "the dashboard is not answering")
            return
        self._pump = asyncio.ensure_future(self._from_streamlit(self.upstream))  # kept: a task needs a holder

    async def _from_streamlit(self, upstream) -> None:
        while True:
            message = await upstream.read_message()
            if message is None:
                self.close()
                return
            try:
                await self.write_message(message, binary=isinstance(message, bytes))
            except tornado.websocket.WebSocketClosedError:
                upstream.close()
                return

    async def on_message(self, message) -> None:
        if self.upstream is None:
            return
        try:
            await self.upstream.write_message(message, binary=isinstance(message, bytes))
        except tornado.websocket.WebSocketClosedError:
            self.close()

    def on_close(self) -> None:
        if self.upstream is not None:
            self.upstream.close()


def make_app(config: FrontConfig, failed_logins: FailedLogins | None = None) -> tornado.web.Application:
    return tornado.web.Application(
        [(LOGIN_PATH, LoginHandler), (r"/_stcore/stream", StreamHandler), (r"/.*", ProxyHandler)],
        front=config, failed_logins=failed_logins or FailedLogins(), cookie_secret=config.cookie_secret,
        websocket_max_message_size=BROWSER_MESSAGE_BYTES, xheaders=False, compress_response=False)


def ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2 or later) with the runner's or the generated certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cannot use the certificate {cert} with the key {key}: {exc}") from exc
    return ctx


def self_signed_certificate(folder: Path, host: str) -> tuple[Path, Path]:
    """``(cert, key)`` in ``folder`` (made 0700): generated once (an EC P-256 key, 0600, and a
    certificate for this machine's name, ``host`` and loopback, valid 825 days) and kept, so that a
    phone asked once to trust it is not asked again at the next start."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    cert_path, key_path = folder / "loadwatch-cert.pem", folder / "loadwatch-key.pem"
    if cert_path.is_file() and key_path.is_file():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    import socket

    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    machine = socket.gethostname()  # this machine's own name, read locally (nothing is resolved)
    if machine and machine != "localhost":
        names.append(x509.DNSName(machine))
    for value in ("127.0.0.1", "::1", host.strip("[]")):
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            if value:
                names.append(x509.DNSName(value))
            continue
        if not ip.is_unspecified:
            names.append(x509.IPAddress(ip))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"loadwatch on {machine or 'this machine'}")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(list(dict.fromkeys(names))), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    fd = os.open(key_path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def serve(config: FrontConfig, host: str, port: int, tls: ssl.SSLContext,
          failed_logins: FailedLogins | None = None) -> tornado.httpserver.HTTPServer:
    """Listen on ``host:port`` (in the running asyncio loop); the caller runs the loop.  A body is
    refused beyond ``LOGIN_BODY_BYTES`` unless the handler raises the cap for a logged-in browser."""
    server = tornado.httpserver.HTTPServer(make_app(config, failed_logins), ssl_options=tls,
                                           max_body_size=LOGIN_BODY_BYTES,
                                           idle_connection_timeout=3600)
    try:
        server.listen(port, address=host.strip("[]") or None)
    except OSError as exc:
        raise ValueError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return server


async def _streamlit_healthy(proc: subprocess.Popen, port: int, stop: asyncio.Event, timeout_s: float) -> bool:
    """Wait until Streamlit answers its health check on loopback; False when it died, a stop was asked
    or ``timeout_s`` passed."""
    client = tornado.httpclient.AsyncHTTPClient()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stop.is_set() and proc.poll() is None:
        try:
            response = await client.fetch(f"http://127.0.0.1:{port}/_stcore/health", request_timeout=2,
                                           raise_error=False)
            if response.code == 200:
                return True
        except OSError:
            pass
        await asyncio.sleep(0.3)
    return False


async def run(proc: subprocess.Popen, config: FrontConfig, host: str, port: int, tls: ssl.SSLContext, *,
              on_ready, start_timeout_s: float = 180) -> int:
    """Serve the front once Streamlit (``proc``) is up, until SIGTERM/SIGINT (exit code 0/130) or
    Streamlit's end (1).  Nothing listens on ``host`` before Streamlit answers."""
    if not log.handlers:  # logins and wrong passwords on the command's stderr, with the time
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s loadwatch: %(message)s", "%Y-%m-%d %H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        logging.getLogger("tornado.access").setLevel(logging.ERROR)  # refusals are logged above, in words
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[int] = []

    def on_signal(sig: int) -> None:
        received.append(sig)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        if await _streamlit_healthy(proc, config.upstream_port, stop, start_timeout_s):
            server = serve(config, host, port, tls)
            on_ready()
            while not stop.is_set() and proc.poll() is None:
                try:
                    await asyncio.wait_for(stop.wait(), 0.5)
                except TimeoutError:
                    pass
            server.stop()
        elif not received:
            log.error("the dashboard's Streamlit did not start")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    if received:
        return 130 if received[0] == signal.SIGINT else 0
    return 1
