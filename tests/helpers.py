"""Small helpers many test modules share (not a test module): the CLI runner, the store at ``$LOADWATCH_DB``,
and the environment, ports and health checks of the tests that start a real dashboard (on the test's frozen
day: ``server_env``).

Fixtures live in ``conftest.py``; these are plain functions, imported as ``from tests.helpers import cli``.
"""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import time
import urllib.request
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

#: The real-world files (``../shared/corpus`` beside the repository), found relative to this file.
CORPUS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def corpus_manifest() -> list[dict]:
    """Rows of ../shared/corpus/MANIFEST.tsv (empty when the corpus is absent)."""
    manifest = CORPUS_DIR / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Run ``loadwatch *argv`` in this process: (exit code, stdout, stderr)."""
    from loadwatch.dashboard.cli.main import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def open_store():
    """The store this test's faces read (``$LOADWATCH_DB``, a fresh file per test: see conftest)."""
    from loadwatch.ingest.store import Store

    return Store(Path(os.environ["LOADWATCH_DB"]))


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive of ``{member name: bytes}``, in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


REPO_ROOT = Path(__file__).resolve().parent.parent
#: The folder whose ``sitecustomize`` freezes the clock in every Python process of a server a test starts.
SERVER_CLOCK_DIR = Path(__file__).resolve().parent / "server_clock"
#: ``<ISO moment>@<time.monotonic() when named>``: the moment a test server's processes travel to.
SERVER_CLOCK_ENV = "LOADWATCH_SERVER_CLOCK"


def at_ten(day: date) -> datetime:
    """10:00 UTC on ``day``: the moment the clock travels to when a test is run "on" a day."""
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def server_env(day: date | None, **extra: str) -> dict[str, str]:
    """The environment of a dashboard (or any Python process) a test starts: this repository importable, no
    demo mode inherited, and, given ``day``, the clock of every Python process it starts (``loadwatch
    dashboard``, Streamlit, the import workers) frozen at 10:00 UTC on ``day`` and ticking on, as the test's
    own clock is (tests/server_clock/sitecustomize.py, with time-machine).  ``day=None`` keeps the real clock:
    only for a test that must (a browser's cookie jar checks a cookie's expiry on the real clock)."""
    env = dict(os.environ, **extra)
    env.pop("LOADWATCH_DEMO", None)
    env.pop(SERVER_CLOCK_ENV, None)
    env["PYTHONPATH"] = str(REPO_ROOT)
    if day is not None:
        env["PYTHONPATH"] = os.pathsep.join((str(SERVER_CLOCK_DIR), str(REPO_ROOT)))
        env[SERVER_CLOCK_ENV] = f"{at_ten(day).isoformat()}@{time.monotonic()!r}"
    return env


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """A new server could listen on the port (SO_REUSEADDR, as Streamlit's tornado sets: connections left in
    TIME_WAIT by the health checks do not count as holding it)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def wait_healthy(url: str, proc: subprocess.Popen, log: Path | None = None, timeout_s: float = 90) -> None:
    """Wait until the Streamlit server at ``url`` answers its health check; fail (with the server's log,
    when given) if it exits first or does not answer within ``timeout_s``."""
    said = (lambda: "\n" + log.read_text(errors="replace")) if log is not None else (lambda: "")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the dashboard exited early with {proc.returncode}{said()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200 and resp.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the dashboard did not answer its health check within {timeout_s} s{said()}")


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every node ``start`` reaches through ``graph`` (module -> the modules it imports), itself only if
    through a circle."""
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
