"""One runner of a cohort: import into the runner's own store, report, and flatten into table rows.

Nothing here knows about Dask: :func:`process_runner` is a plain function that a Dask worker (or a test,
or a loop) calls with paths, and it returns small DataFrames.  It uses the single-runner product's own
functions - :func:`loadwatch.ingest.importer.import_paths` (one decoding process per runner, under the import's
per-file time and memory limits; Dask spreads the runners over the cores) and
:func:`loadwatch.metrics.report.build_report` - so there is no second implementation of any metric.

Incremental: a runner whose files (names, sizes, modification times) and report day are unchanged since
the last run is not touched at all (``skipped``); otherwise its files go through ``import_paths`` again,
whose content-hash check recognises every file already in the store without decoding it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loadwatch.ingest.runner_files import PAIN_CSV_NAME, SETTINGS_JSON_NAME
from loadwatch.metrics import fmt

#: Archives a runner may be given as (``ROOT/<runner id>.zip``).
ARCHIVE_SUFFIXES: tuple[str, ...] = (".zip",)
#: Weeks asked of the report: all of a runner's history (the report lists weeks from the first activity).
ALL_WEEKS: int = 100_000
#: Seconds one file may take to read before it is given up (``loadwatch import --timeout``'s default).
DEFAULT_TIMEOUT_S: float = 60.0
#: Largest pain.csv or settings.json read [bytes]: years of daily entries are well under 1 MB.
RUNNER_FILE_MAX_BYTES: int = 20 * 1024 * 1024
#: Red-flag rules of the detector (``metrics.detector.red_flags``).
RED_FLAG_RULES: tuple[str, ...] = ("red_flag_emergency", "red_flag_urgent")

#: Concern, most urgent first: the order of ``loadwatch cohort status``.  ``reduce`` counts as red and
#: ``hold`` as amber; ``rebuild`` covers the return-to-run and rebuild phases.
CONCERNS: tuple[str, ...] = ("emergency", "see_clinician", "stop", "red", "spike", "amber", "rebuild", "normal")

STATUS_COLUMNS: tuple[str, ...] = (
    "runner", "concern", "phase", "status", "latest_run_date", "latest_run_distance_km",
    "latest_run_spike_category", "week_distance_km", "avg_4_weeks_distance_km", "latest_pain_score",
    "latest_pain_date", "red_flags", "units", "as_of",
)
FILE_COLUMNS: tuple[str, ...] = ("runner", "name", "status", "reason", "activity_id")
ALERT_COLUMNS: tuple[str, ...] = ("runner", "as_of", "rule", "severity", "date", "activity_id", "message",
                                  "evidence", "alarm", "values")
PHASE_COLUMNS: tuple[str, ...] = ("runner", "date", "phase", "step", "steps", "reason")
#: The pain log up to the report's day, without notes or symptoms (the phases carry what symptoms decide):
#: what ``cohort analyse`` needs to find flare-ups (pain above 5).
PAIN_COLUMNS: tuple[str, ...] = ("runner", "at_local", "date", "score", "timing", "location")
#: A runner's weekly OSTRC answers, where the runner logged them (issue 25): ``ostrc.csv`` in the runner's
#: folder with the columns ``week_start`` (YYYY-MM-DD) and ``substantial`` (yes or no: a moderate or severe
#: reduction in training volume or performance, or unable to take part; Clarsen et al., BJSM 2020).
OSTRC_CSV_NAME = "ostrc.csv"
OSTRC_COLUMNS: tuple[str, ...] = ("runner", "week_start", "substantial")
_YES_NO = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}


@dataclass(frozen=True)
class RunnerSource:
    """One runner of the cohort: ``runner`` is the id (the folder's or archive's name without suffix)."""

    runner: str
    path: str  # a folder or an archive, absolute

    @property
    def is_archive(self) -> bool:
        return not os.path.isdir(self.path)


@dataclass
class RunnerResult:
    """What :func:`process_runner` sends back: ``skipped`` (nothing changed: the tables keep their
    rows), files ``decoded`` this time, and the runner's rows of each cohort table."""

    runner: str
    skipped: bool = False
    crashed: bool = False  # the task itself failed: the tables keep the runner's previous rows
    decoded: int = 0
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)


# --- discovery -----------------------------------------------------------------------------------------

def discover(root: str | os.PathLike) -> list[RunnerSource]:
    """The runners under ``root``: every folder and every ``.zip`` directly inside it (hidden ones
    skipped), sorted by id.  Two entries with one id (``anna/`` and ``anna.zip``) are an error."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder (a cohort is a folder with one folder or archive per runner)")
    from loadwatch.ingest.sources import display_name

    found: dict[str, RunnerSource] = {}
    fence = root.resolve()
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        if not entry.resolve().is_relative_to(fence):
            continue  # a symlink out of the cohort folder is not a runner of it
        if entry.is_dir():
            runner = entry.name
        elif entry.suffix.lower() in ARCHIVE_SUFFIXES:
            runner = entry.name[: -len(entry.suffix)]
        else:
            continue
        runner = display_name(runner)  # the id is data (tables, store names): valid UTF-8
        if runner in found:
            raise ValueError(f"{root}: runner {runner!r} is given twice ({Path(found[runner].path).name} and "
                             f"{entry.name}); keep one")
        found[runner] = RunnerSource(runner, str(entry.resolve()))
    return [found[k] for k in sorted(found)]


def signature(source: RunnerSource) -> list[list]:
    """``[relative name, size, mtime_ns]`` of every file of the runner, sorted: unchanged means nothing to
    do."""
    path = Path(source.path)
    if source.is_archive:
        st = path.stat()
        return [[path.name, st.st_size, st.st_mtime_ns]]
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            full = Path(dirpath) / name
            try:
                st = full.stat()
            except OSError:
                continue
            out.append([full.relative_to(path).as_posix(), st.st_size, st.st_mtime_ns])
    return sorted(out)


def source_size(source: RunnerSource) -> int:
    """Bytes of the runner's files (biggest runners are sent first, so no worker is left with one
    big runner at the end)."""
    return sum(s for _n, s, _m in signature(source))


def _watch_paths(source: RunnerSource) -> list[Path]:
    """What goes to the importer: the archive, or the folder's entries except pain.csv and settings.json."""
    path = Path(source.path)
    if source.is_archive:
        return [path]
    return sorted(p for p in path.iterdir() if p.name not in (PAIN_CSV_NAME, SETTINGS_JSON_NAME, OSTRC_CSV_NAME)
                  and not p.name.startswith("."))


def warm_up() -> None:
    """Import what a task needs (readers, importer, metrics) so a worker's first runner does not pay for
    it; ``client.run(warm_up)`` after the cluster starts."""
    import loadwatch.ingest.fit_reader  # noqa: F401
    import loadwatch.ingest.gpx_reader  # noqa: F401
    import loadwatch.ingest.importer  # noqa: F401
    import loadwatch.ingest.sources  # noqa: F401
    import loadwatch.ingest.store  # noqa: F401
    import loadwatch.ingest.tcx_reader  # noqa: F401
    import loadwatch.metrics.report  # noqa: F401
    import loadwatch.metrics.spike  # noqa: F401


# --- state between runs --------------------------------------------------------------------------------

def store_path(out: str | os.PathLike, runner: str) -> Path:
    return Path(out) / "runners" / f"{runner}.sqlite3"


def _state_path(out, runner: str) -> Path:
    return Path(out) / "runners" / f"{runner}.state.json"


def _load_state(out, runner: str) -> dict:
    try:
        return json.loads(_state_path(out, runner).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_state(out, runner: str, state: dict) -> None:
    from loadwatch.ingest.private_files import write_private

    write_private(_state_path(out, runner), json.dumps(state))


# --- one runner ----------------------------------------------------------------------------------------

def process_runner(source: RunnerSource, out: str, as_of=None, have_rows: bool = False,
                   timeout_s: float = DEFAULT_TIMEOUT_S) -> RunnerResult:
    """Import one runner's files into ``out/runners/<id>.sqlite3`` and compute its table rows.

    ``as_of``: the report's day (a date or ISO string; default today in the runner's time zone).
    ``have_rows``: the cohort tables already hold this runner's rows, so an unchanged runner can be
    skipped.  ``timeout_s``: per-file reading limit [s]: files are decoded in one worker process under
    the import's time and memory limits, so a hostile file fails with its reason and the runner goes on.
    That process is the importer's kept one (a Dask worker has several threads, so the importer starts a
    fresh interpreter and keeps it idle between imports): the worker's next runner does not start another
    (``tests/test_cohort_decoders.py``; ``benchmarks/bench_cohort.py --fresh-decoders`` measures the cost).
    Never raises for a bad file: each one's outcome is in the ``files`` rows."""
    from loadwatch.ingest.importer import import_paths
    from loadwatch.ingest.store import Store
    from loadwatch.metrics.report import today_local

    runner = source.runner
    sig = signature(source)
    state = _load_state(out, runner)
    with Store(store_path(out, runner)) as store:
        wanted_day = (pd.Timestamp(as_of).date().isoformat() if as_of is not None
                      else today_local(store.settings().timezone).date().isoformat())
        if have_rows and state.get("signature") == sig and state.get("day") == wanted_day:
            return RunnerResult(runner, skipped=True)

        previous = state.get("files", {})
        files: dict[str, dict] = {}
        folder = None if source.is_archive else Path(source.path)
        if folder is not None:
            files.update(_sync_settings(store, folder / SETTINGS_JSON_NAME, runner, previous, state))
        outcomes = import_paths(store, _watch_paths(source), workers=1, timeout_s=timeout_s, within=folder)
        for o in outcomes:
            name = _relative_name(o.name, source)
            new = {"status": o.status, "reason": o.reason, "activity_id": o.activity_id}
            old = previous.get(name)
            # a file seen before comes back as a duplicate of itself: keep what happened the first time
            if (old is not None and o.status == "duplicate" and o.activity_id is not None
                    and old.get("activity_id") == o.activity_id):
                new = old
            files[name] = new
        if folder is not None:  # after the runs, so entries can link to them
            files.update(_sync_pain(store, folder / PAIN_CSV_NAME, runner, previous, state))
        tables = runner_tables(store, runner, as_of)
    ostrc_rows = pd.DataFrame(columns=list(OSTRC_COLUMNS))
    ostrc = _runner_file(folder / OSTRC_CSV_NAME) if folder is not None else None
    if isinstance(ostrc, ValueError):  # not a regular file inside the folder, or too big
        files[OSTRC_CSV_NAME] = {"status": "failed", "reason": ostrc.problem, "activity_id": None}
    elif ostrc is not None:
        try:
            ostrc_rows = read_ostrc_csv(ostrc, runner)
            files[OSTRC_CSV_NAME] = {"status": "imported", "activity_id": None,
                                     "reason": fmt.count(len(ostrc_rows), "OSTRC week")}
        except ValueError as exc:
            files[OSTRC_CSV_NAME] = {"status": "failed", "reason": str(exc), "activity_id": None}
    tables["ostrc"] = ostrc_rows
    state.update(signature=sig, day=tables["status"]["as_of"].iloc[0], files=files)
    _save_state(out, runner, state)
    tables["files"] = pd.DataFrame([{"runner": runner, "name": n, **v} for n, v in sorted(files.items())],
                                   columns=list(FILE_COLUMNS))
    failed = [(n, v["reason"]) for n, v in sorted(files.items()) if v["status"] == "failed"]
    return RunnerResult(runner, decoded=sum(o.decoded for o in outcomes), tables=tables, failed=failed)


def read_ostrc_csv(data: bytes, runner: str) -> pd.DataFrame:
    """A runner's ``ostrc.csv`` as rows of :data:`OSTRC_COLUMNS`; a ValueError saying which row is wrong
    and how."""
    import csv
    import io

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{OSTRC_CSV_NAME}: not a text file (UTF-8 expected)") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "week_start" not in fields or "substantial" not in fields:
        raise ValueError(f"{OSTRC_CSV_NAME}: the columns week_start and substantial are needed")
    rows = []
    for n, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        try:
            week = pd.Timestamp(row["week_start"]) if row["week_start"] else pd.NaT
            if pd.isna(week):
                raise ValueError
            week = week.date()
        except ValueError:
            raise ValueError(f"{OSTRC_CSV_NAME}: row {n}: week_start must be a day (YYYY-MM-DD), not "
                             f"{row['week_start']!r}") from None
        answer = _YES_NO.get(row["substantial"].lower())
        if answer is None:
            raise ValueError(f"{OSTRC_CSV_NAME}: row {n}: substantial must be yes or no, not {row['substantial']!r}")
        rows.append({"runner": runner, "week_start": week, "substantial": answer})
    return pd.DataFrame(rows, columns=list(OSTRC_COLUMNS))


def _relative_name(name: str, source: RunnerSource) -> str:
    """File names as the runner's folder shows them (``run.fit``, ``export.zip/a/run.fit``)."""
    from loadwatch.ingest.sources import display_name

    prefix = display_name(Path(source.path).name) + "/"  # as iter_sources shows it
    return name[len(prefix):] if not source.is_archive and name.startswith(prefix) else name


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _runner_file(path: Path):
    """The bytes of the runner's ``pain.csv`` or ``settings.json``; None when there is none; an
    :class:`IngestError` when it is not a regular file inside the runner's folder or is too big."""
    from loadwatch.ingest.errors import IngestError
    from loadwatch.ingest.sources import LINK_OUTSIDE, read_regular_file

    if not os.path.lexists(path):
        return None
    if not path.resolve().is_relative_to(path.parent.resolve()):
        return IngestError(path.name, LINK_OUTSIDE)
    try:
        return read_regular_file(path, path.name, max_bytes=RUNNER_FILE_MAX_BYTES)
    except IngestError as exc:
        return exc


def _file_row(status: str, reason: str) -> dict:
    return {"status": status, "reason": reason, "activity_id": None}


def _changed_runner_file(path: Path, hash_key: str, previous: dict, state: dict, parse):
    """A runner's ``pain.csv`` or ``settings.json`` read and parsed when it changed since the last run:
    ``(files row to keep as it is or None, parsed value, digest)``.  The row is ``{}`` without the file,
    the last run's row when the file is unchanged, a failed row (with the reason) when it cannot be read;
    ``state[hash_key]`` is forgotten when it does not parse, so the next run tries again."""
    from loadwatch.ingest.errors import IngestError

    name = path.name
    data = _runner_file(path)
    if data is None:
        return {}, None, None
    if isinstance(data, IngestError):
        return {name: _file_row("failed", data.problem)}, None, None
    digest = _digest(data)
    if state.get(hash_key) == digest and name in previous:
        return {name: previous[name]}, None, None
    try:
        return None, parse(data, name), digest
    except IngestError as exc:
        state.pop(hash_key, None)
        return {name: _file_row("failed", exc.problem)}, None, None


def _sync_settings(store, path: Path, runner: str, previous: dict, state: dict) -> dict:
    from loadwatch.ingest.runner_files import read_settings_json

    kept, values, digest = _changed_runner_file(path, "settings_hash", previous, state, read_settings_json)
    if kept is not None:
        return kept
    for key, value in values.items():
        store.set_setting(key, value)
    state["settings_hash"] = digest
    return {SETTINGS_JSON_NAME: _file_row("imported", fmt.count(len(values), "setting"))}


def _sync_pain(store, path: Path, runner: str, previous: dict, state: dict) -> dict:
    """The pain log is replaced by pain.csv whenever the file changes (old entries are soft-deleted, so
    the store's history keeps them).  A link to an activity the store does not hold, or to a run of a day
    the entry cannot be about (``ingest.painlog.check_link_day``), is dropped, and said so."""
    from dataclasses import replace

    from loadwatch.ingest.painlog import RunLinkError
    from loadwatch.ingest.runner_files import read_pain_csv

    kept, entries, digest = _changed_runner_file(path, "pain_hash", previous, state, read_pain_csv)
    if kept is not None:
        return kept
    known = set(store.activities()["id"].astype(str))
    unlinked = other_day = 0
    for pain_id in store.pain()["id"]:
        store.delete_pain(int(pain_id))
    for entry in entries:
        if entry.activity_id is not None and entry.activity_id not in known:
            entry = replace(entry, activity_id=None)
            unlinked += 1
        try:
            store.add_pain(entry)
        except RunLinkError:  # a log written before the store checked a link's day
            store.add_pain(replace(entry, activity_id=None))
            other_day += 1
    state["pain_hash"] = digest
    reason = fmt.count(len(entries), "pain entry", "pain entries")
    if unlinked:
        reason += (f"; {fmt.count(unlinked, 'entry', 'entries')} linked to a run that is not among the runner's "
                   "files (kept without the link)")
    if other_day:
        reason += (f"; {fmt.count(other_day, 'entry', 'entries')} linked to a run of another day (kept without "
                   "the link)")
    return {PAIN_CSV_NAME: _file_row("imported", reason)}


# --- table rows from the store, through the single-runner report --------------------------------------

def runner_tables(store, runner: str, as_of=None) -> dict[str, pd.DataFrame]:
    """The runner's rows of ``weeks``, ``runs``, ``alerts``, ``phases`` and ``status``: the store read
    once, then ``loadwatch report --json --weeks <all>`` (the very call ``report`` makes) and the
    report's own run table."""
    from loadwatch.dashboard.from_store import report_from_store, report_inputs
    from loadwatch.metrics.report import activities_until
    from loadwatch.metrics.spike import run_table

    # a cohort folder carries no assessments (pain.csv has none), but a store may: the report honours them
    inputs = report_inputs(store)
    acts, hist, pain, settings = inputs["activities"], inputs["hr_hist"], inputs["pain"], inputs["settings"]
    report = report_from_store(store, as_of=as_of, weeks=ALL_WEEKS, inputs=inputs)
    acts, hist, _day = activities_until(acts, hist, settings, report["as_of"])
    runs = run_table(acts, settings.timezone, hist, settings).reset_index()
    runs.insert(0, "runner", runner)
    return {
        "weeks": weeks_frame(report, runner),
        "runs": runs,
        "alerts": alerts_frame(report, runner),
        "phases": phases_frame(report, runner),
        "pain": pain_frame(pain, runner, report["as_of"]),
        "status": pd.DataFrame([status_row(report, pain, runner)], columns=list(STATUS_COLUMNS)),
    }


def flatten_week(week: dict) -> dict:
    """One ``report --json`` week as a flat row: ``surface_km`` -> ``surface_<s>_km``, ``intensity_min``
    -> ``intensity_<g>_min``; every other key as it is."""
    row = {}
    for key, value in week.items():
        if key == "surface_km":
            row.update({f"surface_{s}_km": v for s, v in value.items()})
        elif key == "intensity_min":
            row.update({f"intensity_{g}_min": v for g, v in value.items()})
        else:
            row[key] = value
    return row


def weeks_frame(report: dict, runner: str) -> pd.DataFrame:
    rows = [{"runner": runner, **flatten_week(w)} for w in report.get("weeks") or []]
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=["runner", "week_start"])
    frame["week_start"] = pd.to_datetime(frame["week_start"]).dt.date
    return frame


def alerts_frame(report: dict, runner: str) -> pd.DataFrame:
    rows = [{"runner": runner, "as_of": report["as_of"], **{k: a.get(k) for k in ALERT_COLUMNS[2:-1]},
             "values": json.dumps(a.get("values") or {}, sort_keys=True)} for a in report.get("alerts") or []]
    return pd.DataFrame(rows, columns=list(ALERT_COLUMNS))


def phases_frame(report: dict, runner: str) -> pd.DataFrame:
    """One row per local day and runner from the report's phase segments (``report["phases"]``, issue
    11); an empty table with the columns when the report has none."""
    rows = []
    for seg in report.get("phases") or []:
        for day in pd.date_range(seg["start"], seg["end"], freq="D"):
            rows.append({"runner": runner, "date": day.date(), "phase": seg.get("phase"), "step": seg.get("step"),
                         "steps": seg.get("steps"), "reason": seg.get("reason")})
    return pd.DataFrame(rows, columns=list(PHASE_COLUMNS))


def pain_frame(pain: pd.DataFrame | None, runner: str, as_of) -> pd.DataFrame:
    """The runner's pain entries up to the local day ``as_of`` (deleted ones left out), one row each
    (:data:`PAIN_COLUMNS`): no note and no symptoms leave the runner's store this way."""
    if pain is None or not len(pain):
        return pd.DataFrame(columns=list(PAIN_COLUMNS))
    at = pd.to_datetime(pain["at_local"])
    keep = at < pd.Timestamp(as_of) + pd.Timedelta(days=1)
    if "deleted" in pain:
        keep &= ~pain["deleted"].astype(bool)
    rows = pain[keep.to_numpy()]
    at = pd.to_datetime(rows["at_local"])
    frame = pd.DataFrame({"runner": runner, "at_local": at.to_numpy(), "date": at.dt.date.to_numpy(),
                          "score": rows["score"].astype("int64").to_numpy(), "timing": rows["timing"].to_numpy(),
                          "location": rows["location"].to_numpy()}, columns=list(PAIN_COLUMNS))
    return frame.sort_values("at_local", kind="stable").reset_index(drop=True)


def concern(phase: str | None, status: str | None, spike: bool) -> str:
    """Where a runner sorts in the coach's overview (:data:`CONCERNS`), from the plan's status, the
    episode phase (``plan["phase"]``) and whether the detector raised a spike alert."""
    if "emergency" in (phase, status):
        return "emergency"
    if "see_clinician" in (phase, status):
        return "see_clinician"
    if phase == "stop":
        return "stop"
    if status == "red" or phase == "reduce":
        return "red"
    if spike:
        return "spike"
    if status == "amber" or phase == "hold":
        return "amber"
    if phase in ("rebuild", "return_to_run"):
        return "rebuild"
    return "normal"


def status_row(report: dict, pain: pd.DataFrame | None, runner: str) -> dict:
    """The runner's row of ``cohort status`` (keys :data:`STATUS_COLUMNS`), read off the report: plan
    status and phase, latest run and its spike category, this week's distance and the mean of the 4
    whole weeks before it [km], the latest pain entry up to the report's day, and the symptoms of open
    red-flag alerts."""
    plan = report.get("plan") or {}
    alerts = report.get("alerts") or []
    latest = report.get("latest_run") or {}
    weeks = report.get("weeks") or []
    week_km = weeks[-1]["distance_km"] if weeks else None
    before = [w["distance_km"] for w in weeks[-5:-1] if w.get("distance_km") is not None]
    avg4 = sum(before) / len(before) if len(before) == 4 else None
    pain_score = pain_date = None
    if pain is not None and len(pain):
        day_end = pd.Timestamp(report["as_of"]) + pd.Timedelta(days=1)
        seen = pain[pd.to_datetime(pain["at_local"]) < day_end]
        if "deleted" in seen:
            seen = seen[~seen["deleted"].astype(bool)]
        if len(seen):
            last = seen.sort_values(["at_local", "id"]).iloc[-1]
            pain_score, pain_date = int(last["score"]), pd.Timestamp(last["at_local"]).date().isoformat()
    flags = []
    for a in alerts:
        if a.get("rule") in RED_FLAG_RULES:
            flags += [s for s in (a.get("values") or {}).get("symptoms", []) if s not in flags]
    phase = plan.get("phase")
    status = plan.get("status")
    spike = any(a.get("rule") == "session_spike" for a in alerts)
    return {
        "runner": runner,
        "concern": concern(phase, status, spike),
        "phase": phase,
        "status": status,
        "latest_run_date": latest.get("date"),
        "latest_run_distance_km": latest.get("distance_km"),
        "latest_run_spike_category": latest.get("spike_category"),
        "week_distance_km": week_km,
        "avg_4_weeks_distance_km": round(avg4, 3) if avg4 is not None else None,
        "latest_pain_score": pain_score,
        "latest_pain_date": pain_date,
        "red_flags": ";".join(flags),
        "units": report.get("units", "km"),
        "as_of": report["as_of"],
    }


def sort_by_concern(status: pd.DataFrame) -> pd.DataFrame:
    """Most urgent first (:data:`CONCERNS`), then by runner id."""
    rank = status["concern"].map({c: i for i, c in enumerate(CONCERNS)}).fillna(len(CONCERNS))
    return status.assign(_rank=rank).sort_values(["_rank", "runner"], kind="stable").drop(columns="_rank") \
        .reset_index(drop=True)
