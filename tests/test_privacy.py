"""Local-first, proven: nothing loadwatch does opens a connection off this machine.

A *network guard* wraps every way Python opens a connection or resolves a name (``socket.connect``,
``connect_ex``, ``sendto``, ``create_connection``, ``getaddrinfo``, ``gethostbyname``...).  Any attempt
to reach a non-loopback address is logged and refused *before* it reaches the network.  The guard runs
in-process (``network_guard()``) and, for child processes (import workers, the Streamlit server), as a
``sitecustomize.py`` on ``PYTHONPATH`` that every Python interpreter loads at start-up, logging to a
file.  Each test asserts the log is empty; self-tests prove the guard catches a deliberate connection
(to 192.0.2.1, TEST-NET-1, which is never reached because the guard refuses first).

Covered: importing files, folders and zips (in-process and through ``loadwatch import`` with its worker
processes), ``loadwatch report --json``, and a real dashboard session: ``loadwatch dashboard`` started
as a subprocess, its health endpoint and page fetched, and every page of the app run server-side over
Streamlit's websocket protocol, as a browser would.  Also: the server listens on 127.0.0.1 only, and
Streamlit's usage statistics are off in the app's own configuration and in the launch command.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import tomllib
import urllib.request
from pathlib import Path

import psutil
import pytest

from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes, tcx_bytes
from tests import fuzzlib as fz
from tests.helpers import free_port, wait_healthy

REPO = Path(__file__).resolve().parent.parent
TEST_NET = "192.0.2.1"  # RFC 5737 documentation address: never routed

# The guard, as source: exec'd in-process and written out as sitecustomize.py for child processes.
GUARD_SOURCE = textwrap.dedent('''
    import errno as _errno
    import ipaddress as _ipaddress
    import os as _os
    import socket as _socket
    import traceback as _traceback

    _LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}


    def _is_local_host(host):
        if host is None:
            return True
        if isinstance(host, (bytes, bytearray)):
            host = bytes(host).decode("ascii", "replace")
        host = str(host).strip("[]").split("%", 1)[0].lower()
        if host in _LOCAL_NAMES:
            return True
        try:
            ip = _ipaddress.ip_address(host)
        except ValueError:
            return False  # a host name other than localhost: resolving it may leave the machine
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.is_loopback or ip.is_unspecified


    def _is_local_address(family, address):
        if family not in (_socket.AF_INET, _socket.AF_INET6):
            return True  # AF_UNIX, AF_NETLINK...: never off the machine
        if isinstance(address, tuple) and address:
            return _is_local_host(address[0])
        return True


    def install(record):
        """Wrap socket functions; ``record(line)`` is called for each refused attempt.  Returns an
        ``uninstall()`` function."""
        saved = []

        def patch(owner, name, make):
            original = getattr(owner, name)
            saved.append((owner, name, original))
            setattr(owner, name, make(original))

        def refuse(kind, target):
            stack = "".join(_traceback.format_stack(limit=8)[:-2]).replace("\\n", " | ")
            record(f"pid={_os.getpid()} {kind} {target!r} :: {stack}")
            return OSError(_errno.ENETUNREACH, f"blocked by loadwatch privacy test: {kind} {target!r}")

        def wrap_connect(original):
            def connect(self, address):
                if not _is_local_address(self.family, address):
                    raise refuse("connect", address)
                return original(self, address)
            return connect

        def wrap_connect_ex(original):
            def connect_ex(self, address):
                if not _is_local_address(self.family, address):
                    refuse("connect_ex", address)
                    return _errno.ENETUNREACH
                return original(self, address)
            return connect_ex

        def wrap_sendto(original):
            def sendto(self, data, *args):
                address = args[-1] if args else None
                if address is not None and not _is_local_address(self.family, address):
                    raise refuse("sendto", address)
                return original(self, data, *args)
            return sendto

        def wrap_resolver(kind):
            def make(original):
                def resolve(host, *args, **kwargs):
                    if not _is_local_host(host):
                        err = refuse(kind, host)
                        raise _socket.gaierror(_socket.EAI_NONAME, str(err))
                    return original(host, *args, **kwargs)
                return resolve
            return make

        def wrap_create_connection(original):
            def create_connection(address, *args, **kwargs):
                if not _is_local_host(address[0]):
                    raise refuse("create_connection", address)
                return original(address, *args, **kwargs)
            return create_connection

        patch(_socket.socket, "connect", wrap_connect)
        patch(_socket.socket, "connect_ex", wrap_connect_ex)
        patch(_socket.socket, "sendto", wrap_sendto)
        patch(_socket, "create_connection", wrap_create_connection)
        for fn in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
            patch(_socket, fn, wrap_resolver(fn))

        def uninstall():
            for owner, name, original in reversed(saved):
                setattr(owner, name, original)

        return uninstall


    def _install_from_env():
        log_path = _os.environ.get("LOADWATCH_NET_LOG")
        if not log_path:
            return

        def record(line):
            with open(log_path, "a", encoding="utf-8") as fh:
                fh.write(line + "\\n")

        install(record)
        with open(log_path + ".pids", "a", encoding="utf-8") as fh:  # proof the guard loaded here
            fh.write(f"{_os.getpid()}\\n")
''')

SITECUSTOMIZE = GUARD_SOURCE + "\n_install_from_env()\n"


def _guard_module() -> dict:
    namespace: dict = {}
    exec(compile(GUARD_SOURCE, "<network guard>", "exec"), namespace)  # noqa: S102 - our own source above
    return namespace


@contextlib.contextmanager
def network_guard():
    """In-process guard: yields the list of refused attempts (empty = no outbound connection)."""
    attempts: list[str] = []
    uninstall = _guard_module()["install"](attempts.append)
    try:
        yield attempts
    finally:
        uninstall()


@pytest.fixture
def child_guard(tmp_path):
    """Environment for subprocesses with the guard loaded at start-up; ``.log()`` reads what it refused."""
    guard_dir = tmp_path / "netguard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "netguard.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(guard_dir), str(REPO), env.get("PYTHONPATH")) if p)
    env["LOADWATCH_NET_LOG"] = str(log)
    env.pop("LOADWATCH_DEMO", None)

    class Guard:
        def __init__(self):
            self.env = env
            self.dir = guard_dir

        def log(self) -> list[str]:
            return log.read_text(encoding="utf-8").splitlines() if log.exists() else []

        def guarded_pids(self) -> set[int]:
            """Pids of every process in which the guard was installed."""
            pids = Path(str(log) + ".pids")
            return {int(x) for x in pids.read_text(encoding="utf-8").split()} if pids.exists() else set()

    return Guard()


def _write_inputs(folder: Path) -> list[Path]:
    """A few generated watch files, a zip of them and a .gz, on disk."""
    import gzip
    from datetime import UTC, datetime

    folder.mkdir(parents=True, exist_ok=True)
    day = datetime(2024, 5, 6, 7, 0, tzinfo=UTC)
    runs = [SynthRun(start_utc=day.replace(day=6 + i), duration_s=600 + 60 * i, distance_m=2000.0 + 300 * i,
                     seed=i) for i in range(4)]
    (folder / "a.fit").write_bytes(fit_bytes(runs[0]))
    (folder / "b.gpx").write_bytes(gpx_bytes(runs[1]))
    (folder / "c.tcx.gz").write_bytes(gzip.compress(tcx_bytes(runs[2]), mtime=0))
    (folder / "export.zip").write_bytes(fz.make_zip([("activities/d.fit", fit_bytes(runs[3]))]))
    return sorted(folder.iterdir())


# ------------------------------------------------------------------------------ the guard itself


def test_guard_refuses_and_records_non_loopback_attempts():
    original = socket.socket.connect
    with network_guard() as attempts:
        with pytest.raises(OSError):
            socket.create_connection((TEST_NET, 80), timeout=1)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            with pytest.raises(OSError):
                s.connect((TEST_NET, 443))
            assert s.connect_ex((TEST_NET, 443)) == errno.ENETUNREACH
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            with pytest.raises(OSError):
                s.sendto(b"x", (TEST_NET, 53))
            with pytest.raises(OSError):
                s.connect(("8.8.8.8", 1))  # the trick Streamlit uses to find the machine's address
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("example.com", 443)
        with pytest.raises(OSError):
            urllib.request.urlopen("http://example.com/", timeout=1)  # noqa: S310 - refused by the guard
        if socket.has_ipv6:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
                with pytest.raises(OSError):
                    s.connect(("2001:db8::1", 80, 0, 0))
    assert len(attempts) >= 8, attempts
    assert any(TEST_NET in a for a in attempts)
    assert socket.socket.connect is original  # and it is gone afterwards


def test_guard_allows_loopback():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        with network_guard() as attempts:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass
            with socket.create_connection(("localhost", port), timeout=2):
                pass
            socket.getaddrinfo("localhost", port)
    assert attempts == []


def test_guard_in_child_processes(child_guard):
    """The sitecustomize guard loads in a fresh interpreter and logs a deliberate attempt."""
    code = (f"import socket\ntry:\n    socket.create_connection(({TEST_NET!r}, 80), timeout=1)\n"
            "except OSError as e:\n    print('refused', e)\n")
    out = subprocess.run([sys.executable, "-c", code], env=child_guard.env, capture_output=True, text=True,
                         timeout=60)
    assert "blocked by loadwatch privacy test" in out.stdout, out.stdout + out.stderr
    log = child_guard.log()
    assert len(log) == 1 and TEST_NET in log[0], log


# ------------------------------------------------------------------------------ import and report


@pytest.mark.slow
def test_import_and_report_make_no_connection(tmp_path, child_guard, monkeypatch):
    """``import_paths`` (with its worker processes) and ``build_report``, in-process, under the guard;
    the workers inherit the sitecustomize guard through the environment."""
    from loadwatch.ingest import importer
    from loadwatch.ingest.importer import import_paths
    from loadwatch.ingest.store import Store
    from loadwatch.metrics.report import build_report

    inputs = _write_inputs(tmp_path / "in")
    for key in ("PYTHONPATH", "LOADWATCH_NET_LOG"):
        monkeypatch.setenv(key, child_guard.env[key])
    # fresh worker interpreters, as in a threaded host (the dashboard): they load the guard themselves; a
    # fork (a single-threaded host) would inherit this process's guard and never say so, whatever test ran
    # before this one left running
    monkeypatch.setattr(importer, "_fork_is_safe", lambda: False)
    with network_guard() as attempts, Store(tmp_path / "store.sqlite3") as store:
        outcomes = import_paths(store, inputs, workers=2, timeout_s=60)
        statuses = [o.status for o in outcomes]
        report = build_report(store.activities(), store.hr_histograms(), store.pain(), store.rules(),
                              store.settings())
        json.dumps(report, allow_nan=False)
    assert statuses.count("imported") == 4, outcomes
    assert attempts == [], attempts
    assert child_guard.guarded_pids() - {os.getpid()}, "no worker process loaded the guard"
    assert child_guard.log() == [], child_guard.log()


@pytest.mark.slow
def test_cli_import_and_report_make_no_connection(tmp_path, child_guard):
    """``loadwatch import`` and ``loadwatch report --json`` as a runner runs them (separate processes,
    import workers included), every interpreter under the guard."""
    inputs = _write_inputs(tmp_path / "in")
    db = tmp_path / "cli.sqlite3"
    cli = [sys.executable, "-m", "loadwatch.dashboard.cli.main"]
    imp = subprocess.run([*cli, "import", *map(str, inputs), "--db", str(db)], env=child_guard.env,
                         capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert imp.returncode == 0, imp.stdout + imp.stderr
    rep = subprocess.run([*cli, "report", "--json", "--db", str(db)], env=child_guard.env,
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert json.loads(rep.stdout)["weeks"], rep.stdout[:500]
    assert len(child_guard.guarded_pids()) >= 2, child_guard.guarded_pids()
    assert child_guard.log() == [], child_guard.log()


# ------------------------------------------------------------------------------ the dashboard


def test_usage_stats_off_and_loopback_in_the_apps_own_config():
    config = tomllib.loads((REPO / "dashboard" / "app" / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["address"] == "127.0.0.1"


def test_launch_command_turns_usage_stats_off_and_binds_loopback():
    from loadwatch.dashboard.cli import cmd_app
    from loadwatch.dashboard.cli.main import build_parser

    args = build_parser().parse_args(["dashboard"])
    assert args.host == "127.0.0.1"
    cmd = cmd_app.streamlit_command(args.port, args.host)

    def flag(name: str) -> str:
        assert name in cmd, cmd
        return cmd[cmd.index(name) + 1]

    assert flag("--browser.gatherUsageStats") == "false"
    assert flag("--server.address") == "127.0.0.1"
    assert flag("--server.headless") == "true"  # never opens a browser or prompts for an e-mail address


def _non_loopback_ips() -> list[str]:
    ips = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family in (socket.AF_INET, socket.AF_INET6):
                ip = a.address.split("%", 1)[0]
                if not (ip.startswith("127.") or ip == "::1" or ip.startswith("fe80")):
                    ips.append(ip)
    return ips


async def _browse_every_page(port: int, timeout_s: float = 120.0) -> dict:
    """Open a Streamlit session over the websocket, as the browser does, and run every page.

    Returns {"config": NewSession.config, "pages": {url_path: exceptions shown}}.
    """
    import asyncio

    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ClientState_pb2 import ClientState
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    result: dict = {"config": None, "pages": {}}
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=None,
                                  origin=f"http://127.0.0.1:{port}") as ws:

        async def run(page_hash: str) -> tuple[list[str], list]:
            msg = BackMsg(rerun_script=ClientState(query_string="", page_script_hash=page_hash))
            await ws.send(msg.SerializeToString())
            errors: list[str] = []
            pages: list = []
            while True:
                raw = await asyncio.wait_for(ws.recv(), timeout=timeout_s)
                fwd = ForwardMsg()
                fwd.ParseFromString(raw)
                kind = fwd.WhichOneof("type")
                if kind == "new_session":
                    result["config"] = fwd.new_session.config
                elif kind == "navigation":
                    pages = list(fwd.navigation.app_pages)
                elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                    el = fwd.delta.new_element
                    if el.WhichOneof("type") == "exception":
                        errors.append(el.exception.message)
                elif kind == "script_finished":
                    return errors, pages

        errors, pages = await run("")
        result["pages"]["(default)"] = errors
        assert pages, "the app sent no navigation"
        for page in pages:
            errors, _ = await run(page.page_script_hash)
            result["pages"][page.url_pathname or page.page_name] = errors
    return result


@pytest.mark.slow
def test_dashboard_session_makes_no_connection_and_listens_on_loopback_only(tmp_path, child_guard):
    """``loadwatch dashboard`` under the guard: start-up, health check, the page, a websocket session
    running every page on a store with data; then: no refused attempt logged, every listening socket
    of the server on loopback, the machine's other addresses refuse the port, and the session's config
    tells the browser not to gather usage stats."""
    import asyncio

    from loadwatch.ingest.importer import import_paths
    from loadwatch.ingest.store import Store

    db = tmp_path / "dash.sqlite3"
    with Store(db) as store:
        import_paths(store, _write_inputs(tmp_path / "in"), workers=0)
    port = free_port()
    cmd = [sys.executable, "-m", "loadwatch.dashboard.cli.main", "dashboard", "--db", str(db), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=child_guard.env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:  # noqa: S310
            assert r.status == 200
            page = r.read().decode("utf-8", "replace")
        assert "<html" in page.lower()
        assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page), "the page loads from elsewhere"

        session = asyncio.run(_browse_every_page(port))
        assert session["config"] is not None
        assert session["config"].gather_usage_stats is False
        assert len(session["pages"]) >= 2, session["pages"]
        crashed = {p: e for p, e in session["pages"].items() if e}
        assert not crashed, f"pages showed exceptions: {crashed}"

        # every listening socket of the dashboard (the CLI and its Streamlit child) is on loopback
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        listening = [c for p in family
                     for c in getattr(p, "net_connections", getattr(p, "connections", None))(kind="inet")
                     if c.status == psutil.CONN_LISTEN]
        assert any(c.laddr.port == port for c in listening), listening
        assert all(c.laddr.ip in ("127.0.0.1", "::1") for c in listening), listening
        unguarded = {p.pid for p in family} - child_guard.guarded_pids()
        assert not unguarded, f"processes without the guard: {unguarded}"
        for ip in _non_loopback_ips():
            fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
            with socket.socket(fam, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                assert s.connect_ex((ip, port)) != 0, f"the dashboard answers on {ip}:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            out, _ = proc.communicate()
    log = child_guard.log()
    assert log == [], "outbound connection attempts:\n" + "\n".join(log) + "\n--- server output ---\n" + \
        out.decode("utf-8", "replace")[-3000:]
