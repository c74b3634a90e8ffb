"""``loadwatch dashboard`` and ``loadwatch demo``.

``dashboard`` starts Streamlit on ``dashboard/app.py``, bound to 127.0.0.1 unless ``--host`` says
otherwise.  Streamlit reads ``.streamlit/config.toml`` only from the working directory, so the settings
of ``dashboard/.streamlit/config.toml`` are passed here as command-line flags as well (keep the two in
step).  The store reaches the app through ``$LOADWATCH_DB``; ``--demo`` uses the separate demo store
and writes the demo history into it when it is empty.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

APP_PATH = Path(__file__).resolve().parent / "app.py"
#: The cohort overview (``--cohort DIR``): a separate small app, so the runner's own app stays as it is.
COHORT_APP_PATH = APP_PATH.parent / "cohort_page.py"
REPO_ROOT = APP_PATH.parent.parent
DEFAULT_PORT = 8501
DEFAULT_HOST = "127.0.0.1"
#: Largest upload the Import page accepts [MB] (``--server.maxUploadSize``): a Garmin "export your data"
#: zip of several years is a few hundred MB.
MAX_UPLOAD_MB = 1024


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
                   help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    p.set_defaults(func=run_dashboard)

    d = sub.add_parser("demo", help="write the demo history into the demo store (or --db)")
    add_db_option(d)
    d.set_defaults(func=run_demo)


def streamlit_command(port: int, host: str = DEFAULT_HOST, app: Path = APP_PATH) -> list[str]:
    """The ``streamlit run`` command line (flags mirror dashboard/.streamlit/config.toml)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.maxUploadSize", str(MAX_UPLOAD_MB),
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
        "--theme.base", "light",
        "--theme.primaryColor", "#1f6f8b",
    ]


def _write_demo(path: Path) -> dict | None:
    """Write the demo history into ``path`` unless it already holds activities; returns
    ``ingest.demo.write_demo``'s summary, or None when the store was not empty."""
    from ingest.demo import write_demo
    from ingest.store import Store

    with Store(path) as store:
        if not store.activities().empty:
            return None
        return write_demo(store)


def _demo_path(args) -> Path:
    from ingest.store import demo_db_path

    return Path(args.db) if args.db else Path(demo_db_path())


def run_demo(args) -> int:
    path = _demo_path(args)
    info = _write_demo(path)
    if info is None:
        print(f"{path} already holds activities; nothing written (delete the file to start the demo afresh)")
    else:
        print(f"wrote the demo history into {path}: {info['imported']} activities from {info['files']} "
              f"generated files ({info['first_day']} to {info['last_day']}), {info['pain_added']} pain "
              f"entries, in {info['seconds']:.1f} s")
    print("show it with: loadwatch dashboard --demo" + (f" --db {path}" if args.db else ""))
    return 0


def run_dashboard(args) -> int:
    from ingest.store import default_db_path

    env = dict(os.environ)
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
            print(f"wrote the demo history ({info['imported']} activities) into {path}")
        env["LOADWATCH_DEMO"] = "1"
    else:
        path = Path(args.db) if args.db else Path(default_db_path())
        env.pop("LOADWATCH_DEMO", None)
    env["LOADWATCH_DB"] = str(Path(path).resolve())
    # a plain checkout (not pip-installed) still imports `dashboard`, `ingest` and `metrics`
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    shown = f"cohort: {env['LOADWATCH_COHORT']}" if app == COHORT_APP_PATH else f"store: {env['LOADWATCH_DB']}"
    print(f"loadwatch dashboard on http://{args.host}:{args.port} ({shown}); Ctrl+C stops it")
    proc = subprocess.Popen(streamlit_command(args.port, args.host, app), env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 130
