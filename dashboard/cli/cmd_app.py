"""``loadwatch dashboard`` and ``loadwatch demo``.

``dashboard`` starts Streamlit on ``dashboard/app/main.py``, bound to 127.0.0.1 unless ``--host`` says
otherwise.  Streamlit reads ``.streamlit/config.toml`` only from the working directory, so the settings
of ``dashboard/app/.streamlit/config.toml`` are passed here as command-line flags as well (keep the two in
step).  The store reaches the app through ``$LOADWATCH_DB``; ``--demo`` uses the separate demo store
and writes the demo history into it when it is empty.

Beyond this machine a password is required: ``--host`` with an address other than loopback refuses to
start (exit 2) unless ``$LOADWATCH_PASSWORD`` or ``--password-file`` gives one of at least 8 characters.
Streamlit then listens on a free loopback port and the authenticating front (:mod:`loadwatch.dashboard.app.front`)
serves the address over TLS, checking the password before any request reaches Streamlit; the password
stays in this process (never in the child, on a command line or in a log).

Nothing outlives the command: SIGTERM and SIGINT stop Streamlit and every process it started (it runs in
a process group of its own) within ``STOP_TIMEOUT_S`` and free the port; on Linux the child also asks
the kernel to kill it when this process dies (``PR_SET_PDEATHSIG``), so a SIGKILL or a crash of the
command leaves no server behind.  Streamlit runs through :mod:`loadwatch.dashboard.app.streamlit_offline`, which
switches off its look-ups of this machine's addresses, and accepts websockets for loopback host names
only (``server.allowedHosts``: a page elsewhere cannot reach it through DNS rebinding).
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import signal
import subprocess
import sys
from pathlib import Path

from loadwatch.dashboard.app.serving import (  # noqa: F401  (named here too: tests and the front read them from this command)
    DEFAULT_HOST,
    DEFAULT_PORT,
    LOOPBACK_NAMES,
    MAX_UPLOAD_MB,
    PASSWORD_ENV,
    REQUIRE_PASSWORD_ENV,
    is_loopback,
)
from loadwatch.metrics import fmt

APP_PATH = Path(__file__).resolve().parent.parent / "app" / "main.py"
#: The cohort overview (``--cohort DIR``): a separate small app, so the runner's own app stays as it is.
COHORT_APP_PATH = APP_PATH.parent / "cohort_page.py"
#: Seconds Streamlit gets to stop after SIGTERM before it is killed: the whole command must be gone
#: within 3 s of a SIGTERM (a service manager's stop, a closed terminal).  Streamlit keeps nothing that
#: needs flushing (every store write is its own SQLite transaction), so SIGKILL loses nothing.
STOP_TIMEOUT_S = 1.5
#: ``prctl`` option: the signal the kernel sends this process when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1


def register(sub, add_db_option) -> None:
    p = sub.add_parser("dashboard", help="open the dashboard in your browser (http://127.0.0.1:8501)")
    add_db_option(p)
    p.add_argument("--demo", action="store_true",
                   help="show the demo history (a separate store; your own data is not touched)")
    p.add_argument("--cohort", metavar="DIR",
                   help="a coach's overview of a cohort (the --out folder of `loadwatch cohort import`), with a "
                        "read-only drill-down into each runner")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to listen on (default {DEFAULT_HOST}: this machine only; any other "
                        "address needs a password)")
    p.add_argument("--password-file", metavar="PATH", default=None,
                   help="file whose first line is the password the dashboard asks for (or set "
                        f"${PASSWORD_ENV}); required with a --host other than loopback")
    p.add_argument("--tls-cert", metavar="PATH", default=None,
                   help="beyond loopback: your own TLS certificate (PEM; default: a self-signed one, generated "
                        "once and kept beside the store)")
    p.add_argument("--tls-key", metavar="PATH", default=None, help="the private key of --tls-cert (PEM)")
    p.set_defaults(func=run_dashboard)

    d = sub.add_parser("demo", help="write the demo history into the demo store (or --db)")
    add_db_option(d)
    d.set_defaults(func=run_demo)


def streamlit_command(port: int, host: str = DEFAULT_HOST, app: Path = APP_PATH,
                      max_upload_mb: int = MAX_UPLOAD_MB) -> list[str]:
    """The ``streamlit run`` command line (flags mirror dashboard/app/.streamlit/config.toml), through
    :mod:`loadwatch.dashboard.app.streamlit_offline` (no look-up of this machine's addresses)."""
    allowed_hosts = []
    if is_loopback(host):
        for name in dict.fromkeys((*LOOPBACK_NAMES, host.strip().strip("[]"))):
            allowed_hosts += ["--server.allowedHosts", name]
    return [
        sys.executable, "-m", "loadwatch.dashboard.app.streamlit_offline", "run", str(app),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.maxUploadSize", str(max_upload_mb),
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
        "--theme.base", "light",
        "--theme.primaryColor", "#1f6f8b",
        *allowed_hosts,
    ]


def _write_demo(path: Path) -> dict | None:
    """Write the demo history into ``path`` unless it already holds activities; returns
    ``loadwatch.ingest.demo.write_demo``'s summary, or None when the store was not empty."""
    from loadwatch.ingest.demo import write_demo
    from loadwatch.ingest.store import Store

    with Store(path) as store:
        if not store.activities().empty:
            return None
        return write_demo(store)


def _demo_path(args) -> Path:
    from loadwatch.ingest.store import demo_db_path

    return Path(args.db) if args.db else Path(demo_db_path())


def run_demo(args) -> int:
    path = _demo_path(args)
    info = _write_demo(path)
    if info is None:
        print(f"{path} already holds activities; nothing written (delete the file to start the demo afresh)")
    else:
        print(f"wrote the demo history into {path}: {fmt.count(info['imported'], 'activity', 'activities')} from {info['files']} "
              f"generated files ({info['first_day']} to {info['last_day']}), {info['pain_added']} pain "
              f"entries, in {info['seconds']:.1f} s")
    print("show it with: loadwatch dashboard --demo" + (f" --db {path}" if args.db else ""))
    return 0


def read_password(args) -> str | None:
    """The password from ``--password-file`` (first line) or ``$LOADWATCH_PASSWORD``; None when neither
    gives a non-empty one.  A missing or unreadable file is a ValueError naming it."""
    if getattr(args, "password_file", None):
        path = Path(args.password_file)
        try:
            first = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(f"cannot read the password file {path}: {exc.strerror or exc}") from exc
        password = first[0].strip() if first else ""
        if not password:
            raise ValueError(f"the password file {path} is empty")
        return password
    password = os.environ.get(PASSWORD_ENV, "")
    return password or None


def die_with_parent():
    """A ``preexec_fn`` that makes the child ask the Linux kernel for SIGKILL when its parent (this
    process) dies, however it dies; None elsewhere.  libc is loaded here, before the fork, so the child
    only makes one system call.  A parent that died before the call is noticed (the child is re-parented)
    and the child exits at once."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # the running interpreter links libc, whose prctl this is
    parent = os.getpid()

    def ask_the_kernel() -> None:
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0 or os.getppid() != parent:
            os._exit(1)

    return ask_the_kernel


def start_child(cmd: list[str], env: dict | None, *, quiet: bool = False) -> subprocess.Popen:
    """Start a server process that ends with this one: a process group of its own (so stopping reaches
    every process it starts) and, on Linux, killed by the kernel when this process dies.  ``quiet``:
    its standard output (Streamlit's banner with its own loopback URL) is dropped; errors still show."""
    return subprocess.Popen(cmd, env=env, start_new_session=True, preexec_fn=die_with_parent(),
                            stdout=subprocess.DEVNULL if quiet else None)


def _stop(proc: subprocess.Popen) -> None:
    """Stop Streamlit and everything it started (its own process group): SIGTERM, then SIGKILL."""
    for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


class _StopSignal(Exception):
    """Raised by the SIGTERM/SIGINT handler: it leaves the blocking wait, and the stopping is done outside
    the handler (a ``Popen.wait`` inside a handler cannot reap the child while the interrupted wait holds
    its lock, which is how a stop used to take 17 s)."""


@contextlib.contextmanager
def _stopped_by_signals():
    """Within the block SIGTERM and SIGINT end it quietly; yields the list of the signals received."""
    received: list[int] = []

    def on_signal(signum, frame):
        received.append(signum)
        raise _StopSignal(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield received
    except (_StopSignal, KeyboardInterrupt):
        if not received:
            received.append(signal.SIGINT)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _supervise(proc: subprocess.Popen, serve) -> int:
    """Run ``serve()`` until the server ends or SIGTERM/SIGINT (exit code 0/130), then stop ``proc``
    whatever happened (an exception included)."""
    try:
        with _stopped_by_signals() as stopped_by:
            code = serve()
    finally:
        _stop(proc)
    if stopped_by:
        return 130 if stopped_by[0] == signal.SIGINT else 0
    return code


def _every_address(host: str) -> bool:
    """True for the addresses that mean "every interface" (0.0.0.0, ::)."""
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_unspecified
    except ValueError:
        return False


def _free_loopback_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((DEFAULT_HOST, 0))
        return s.getsockname()[1]


def _run_behind_front(args, env: dict, app: Path, password: str, shown: str, tls_folder: Path) -> int:
    """Beyond loopback: Streamlit on a free loopback port, the authenticating front
    (:mod:`loadwatch.dashboard.app.front`) on ``--host``/``--port``; the password stays in this process."""
    import asyncio
    import secrets

    from loadwatch.dashboard.app import front

    if args.tls_cert:
        cert, key, origin = Path(args.tls_cert), Path(args.tls_key), "your certificate"
    else:
        cert, key = front.self_signed_certificate(tls_folder, args.host)
        origin = f"a self-signed certificate ({cert})"
    tls = front.ssl_context(cert, key)
    config = front.FrontConfig(password=password, upstream_port=_free_loopback_port(),
                               token=secrets.token_urlsafe(32), upload_limit_bytes=front.upload_limit_bytes())
    env[front.FRONT_TOKEN_ENV] = config.token
    upload_mb = -(-config.upload_limit_bytes // (1024 * 1024))
    proc = start_child(streamlit_command(config.upstream_port, DEFAULT_HOST, app, max_upload_mb=upload_mb), env,
                       quiet=True)

    def ready() -> None:
        print(f"loadwatch dashboard on https://{args.host}:{args.port} ({shown}; TLS with {origin}); asks for "
              f"the password first; Ctrl+C stops it", flush=True)
        if _every_address(args.host):
            print(f"from your phone: https://<this computer's address on your network>:{args.port} (README: "
                  "\"From your phone\")", flush=True)

    return _supervise(proc, lambda: asyncio.run(front.run(proc, config, args.host, args.port, tls, on_ready=ready)))


def run_dashboard(args) -> int:
    from loadwatch.ingest.store import default_db_path

    env = dict(os.environ)
    env.pop(PASSWORD_ENV, None)
    gated = not is_loopback(args.host) or os.environ.get(REQUIRE_PASSWORD_ENV) == "1"
    if gated:
        password = read_password(args)
        if password is None:
            print(f"loadwatch: refusing to listen on {args.host}: beyond this machine the dashboard needs a "
                  f"password. Set {PASSWORD_ENV} or pass --password-file PATH (or keep the default "
                  f"--host {DEFAULT_HOST}).", file=sys.stderr)
            return 2
        from loadwatch.dashboard.app.front import check_password_strength

        try:
            check_password_strength(password)
        except ValueError as exc:
            print(f"loadwatch: refusing to listen on {args.host}: {exc}.", file=sys.stderr)
            return 2
        if bool(args.tls_cert) != bool(args.tls_key):
            print("loadwatch: --tls-cert and --tls-key go together (the certificate and its private key).",
                  file=sys.stderr)
            return 2
    app = APP_PATH
    if getattr(args, "cohort", None):
        cohort = Path(args.cohort).resolve()
        if not (cohort / "status.parquet").is_file():
            raise ValueError(f"{cohort}: no cohort here (run `loadwatch cohort import ROOT --out {args.cohort}` first)")
        env["LOADWATCH_COHORT"] = str(cohort)
        app = COHORT_APP_PATH
        path = Path(args.db) if args.db else Path(default_db_path())  # unused by the cohort page
    elif args.demo:
        path = _demo_path(args)
        info = _write_demo(path)
        if info is not None:
            print(f"wrote the demo history ({fmt.count(info['imported'], 'activity', 'activities')}) into {path}")
        env["LOADWATCH_DEMO"] = "1"
    else:
        path = Path(args.db) if args.db else Path(default_db_path())
        env.pop("LOADWATCH_DEMO", None)
    env["LOADWATCH_DB"] = str(Path(path).resolve())
    shown = f"cohort: {env['LOADWATCH_COHORT']}" if app == COHORT_APP_PATH else f"store: {env['LOADWATCH_DB']}"
    if gated:
        return _run_behind_front(args, env, app, password, shown, Path(path).resolve().parent / "tls")
    print(f"loadwatch dashboard on http://{args.host}:{args.port} ({shown}); Ctrl+C stops it", flush=True)
    # the signals that stop us are forwarded to Streamlit's group (a service manager sends SIGTERM, a
    # terminal SIGINT); a SIGKILL or a crash of this process reaches it through the kernel
    proc = start_child(streamlit_command(args.port, args.host, app), env)
    return _supervise(proc, proc.wait)
