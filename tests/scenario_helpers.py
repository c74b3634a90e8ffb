"""A runner at the command line: generated watch files, pain check-ins and clinician assessments through the
real ``loadwatch`` CLI (``loadwatch.dashboard.cli.main.main``), and the plan read back as JSON and as text.

Used by the episode scenarios (issue 11).  Runs are small FIT files from ``loadwatch.ingest.synth`` (no GPS, no heart
rate: a 1 Hz distance channel is all the load needs), written in a batch and imported with one ``import``
call so a scenario stays fast.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest.synth import SynthRun, fit_bytes

#: The phases SCIENCE.md §13 names, spelled out here so a renamed phase in the product fails the tests.
PHASES = ("normal", "hold", "reduce", "stop", "return_to_run", "rebuild", "see_clinician", "emergency")
#: Phases that must never show a training number (§11, §13).
NO_NUMBERS = ("stop", "see_clinician", "emergency")

#: A distance figure in text output: "12 km", "7.5 mi", "≤ 3 km", "5km".
DISTANCE_RE = re.compile(r"\d+(?:[.,]\d+)?\s?(?:km|mi|miles?|kilometres?|kilometers?)\b", re.IGNORECASE)


def day(d: date) -> str:
    return d.isoformat()


@dataclass
class Runner:
    """One runner with their own store under ``folder``."""

    folder: Path
    units: str = "km"
    files: list[tuple[date, float]] = field(default_factory=list)
    _seed: int = 0
    _pending: list[Path] = field(default_factory=list)

    def __post_init__(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db = self.folder / "loadwatch.sqlite3"
        self.run_dir = self.folder / "runs"
        self.run_dir.mkdir(exist_ok=True)
        if not self.db.exists():
            self.cli("settings", "set", "timezone", "UTC")
            if self.units != "km":
                self.cli("settings", "set", "units", self.units)

    def clone(self, folder: Path) -> Runner:
        """Another runner with a copy of this one's store (a history imported once, lived many ways)."""
        folder.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):  # a WAL store may hold recent writes beside the main file
            src = Path(f"{self.db}{suffix}")
            if src.exists():
                shutil.copyfile(src, folder / f"loadwatch.sqlite3{suffix}")
        return Runner(folder, units=self.units, files=list(self.files), _seed=self._seed)

    # --- the command line ----------------------------------------------------------------------------
    def cli(self, *argv: str, expect: int = 0) -> str:
        """Run ``loadwatch argv --db <store>``; the printed text (stdout)."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*argv, "--db", str(self.db)])
        assert code == expect, f"loadwatch {' '.join(argv)} -> {code}\n{out.getvalue()}\n{err.getvalue()}"
        return out.getvalue()

    def report(self, as_of: date) -> dict:
        return json.loads(self.cli("report", "--json", "--as-of", day(as_of)))

    def check(self, as_of: date) -> dict:
        return json.loads(self.cli("alerts", "check", "--json", "--as-of", day(as_of)))

    def report_text(self, as_of: date) -> str:
        return self.cli("report", "--as-of", day(as_of))

    def check_text(self, as_of: date) -> str:
        return self.cli("alerts", "check", "--as-of", day(as_of))

    def plan(self, as_of: date) -> dict:
        return self.report(as_of)["plan"]

    # --- what the runner does ------------------------------------------------------------------------
    def pain(self, on: date, score: int, timing: str = "after", *symptoms: str, at: str | None = None) -> str:
        argv = ["pain", "add", "--date", day(on), "--score", str(score), "--timing", timing]
        if at is None:
            at = {"next_morning": "07:30", "during": "08:00", "after": "09:00", "rest_of_day": "20:00"}[timing]
        argv += ["--time", at]
        for s in symptoms:
            argv += ["--symptom", s]
        return self.cli(*argv)

    def assessed(self, on: date, note: str = "", *, at: str | None = None, cleared: bool = False,
                 return_step: int | None = None, max_week: str | None = None, max_run: str | None = None,
                 max_pain: int | None = None) -> str:
        """``loadwatch pain assessed``: a visit on ``on`` (at ``at``, HH:MM), with the clinician's decision
        when given (``max_week``/``max_run`` as the CLI takes them: "20" km or "12mi")."""
        argv = ["pain", "assessed", "--date", day(on)]
        if at:
            argv += ["--time", at]
        if cleared:
            argv.append("--cleared")
        if return_step:
            argv += ["--return-step", str(return_step)]
        if max_week:
            argv += ["--max-week-km", max_week]
        if max_run:
            argv += ["--max-run-km", max_run]
        if max_pain is not None:
            argv += ["--max-pain", str(max_pain)]
        if note:
            argv += ["--note", note]
        return self.cli(*argv)

    def add_runs(self, runs) -> None:
        """Write FIT files for ``runs`` ((date, km) or (date, km, sub_sport)); imported by :meth:`sync`."""
        for r in runs:
            d, km = r[0], float(r[1])
            sub = r[2] if len(r) > 2 else "street"
            if km <= 0:
                continue
            self._seed += 1
            start = datetime(d.year, d.month, d.day, 7, 0, tzinfo=UTC)
            run = SynthRun(start_utc=start, duration_s=max(int(km * 330), 60), distance_m=km * 1000,
                           sub_sport=sub, heart_rate_bpm=None, cadence_spm=None, with_gps=False, seed=self._seed)
            path = self.run_dir / f"run-{d.isoformat()}-{self._seed}.fit"
            path.write_bytes(fit_bytes(run))
            self._pending.append(path)
            self.files.append((d, km))

    def sync(self) -> str:
        """Import the files written since the last import (one ``import`` call)."""
        if not self._pending:
            return ""
        paths, self._pending = [str(p) for p in self._pending], []
        out = self.cli("import", *paths, "--workers", "0")
        assert f"Imported {len(paths)}," in out, out
        return out

    def run(self, runs) -> str:
        self.add_runs(runs)
        return self.sync()


def weeks_of_runs(monday: date, weeks: int, easy_km: float, long_km: float, *, sub: str = "street"):
    """Tuesday and Thursday easy runs and a Sunday long run, for ``weeks`` weeks from ``monday``."""
    out = []
    for w in range(weeks):
        m = monday + timedelta(days=7 * w)
        out += [(m + timedelta(days=1), easy_km, sub), (m + timedelta(days=3), easy_km, sub),
                (m + timedelta(days=6), long_km, sub)]
    return out


def numbers_in(text: str) -> list[str]:
    """Distance figures in a text face."""
    return DISTANCE_RE.findall(text)


def units_in(text: str) -> set[str]:
    """The units of the distance figures in a text face: {"km"}, {"mi"}..."""
    out = set()
    for m in DISTANCE_RE.finditer(text):
        unit = m.group(0).lstrip("0123456789.,").strip().lower()
        out.add("mi" if unit.startswith("mi") else "km")
    return out


def training_numbers(payload: dict) -> dict:
    """The plan's training numbers (non-null) in a report / alerts-check payload."""
    plan = payload.get("plan") or {}
    return {k: plan[k] for k in ("max_week_km", "max_run_km") if plan.get(k) is not None}


# --- living through days -----------------------------------------------------------------------------
#: "longest ... 5 km", "longest run ≤ 2.3 mi", "Safe longest run: 13 km": a run cap in a text face.
LONGEST_RE = re.compile(r"longest[^0-9\n]{0,25}?(\d+(?:\.\d+)?)\s?(km|mi)\b", re.IGNORECASE)
KM_PER_MI = 1.609344


def longest_caps_km(text: str) -> list[float]:
    """Every run cap a text face shows ("longest ... X km/mi"), in km."""
    return [float(v) * (KM_PER_MI if u.lower() == "mi" else 1.0) for v, u in LONGEST_RE.findall(text)]


def spike_alerts(payload: dict) -> list[dict]:
    return [a for a in payload.get("alerts") or [] if a.get("rule") == "session_spike"]


class Life:
    """A runner living day by day: check-ins each morning, runs as the plan allows, the plan read each
    evening (``alerts check --json --as-of``), as a runner who follows it to its caps would.

    The runner plans a 7-day block from the evening's plan: three runs (days 1, 3 and 6 of the block, a rest
    day between them, the long run last, when the 30-day window has dropped the most), the long run at
    ``max_run_km`` and the others sharing what the week cap leaves (never above the run cap).  A new block
    starts when the phase or step changes or the block is over.  No running while the plan gives no number.
    """

    def __init__(self, runner: Runner, day0: date):
        self.r = runner
        self.day = day0  # the next day to live
        self.schedule: dict[date, float] = {}
        self.block: tuple | None = None  # (start, phase, step)
        self.days: list[dict] = []  # {"day", "report", "ran_km"}
        self.last: dict | None = None

    @property
    def plan(self) -> dict:
        return (self.last or {}).get("plan") or {}

    def plan_block(self, d: date) -> None:
        plan = self.plan
        self.block = (d, plan.get("phase"), plan.get("step"))
        self.schedule = {}
        week, run = plan.get("max_week_km"), plan.get("max_run_km")
        if week is None or run is None or plan.get("stop_running"):
            return
        long_km = math.floor(min(run, week) * 10 + 1e-9) / 10
        easy = math.floor(min(run, max(week - long_km, 0) / 2) * 10 + 1e-9) / 10
        for offset, km in ((1, easy), (3, easy), (6, long_km)):
            if km >= 0.5:
                self.schedule[d + timedelta(days=offset)] = km

    def live(self, days: int, *, morning=None, after=None, until=None, check=None) -> list[dict]:
        """Live ``days`` days (or until ``until(day_record)`` is true).  ``morning(d, life)`` and
        ``after(d, km, life)`` give the check-in scores (None: nothing logged).  ``check(day_record)`` runs
        extra assertions every evening.  Returns the day records lived."""
        lived = []
        for _ in range(days):
            d = self.day
            if morning is not None and (s := morning(d, self)) is not None:
                self.r.pain(d, s, "next_morning")
            ran = None
            km = self.schedule.get(d)
            plan = self.plan
            if km and plan.get("max_run_km") is not None and not plan.get("stop_running"):
                ran = min(km, plan["max_run_km"])
                self.r.run([(d, ran)])
                if after is not None and (s := after(d, ran, self)) is not None:
                    self.r.pain(d, s, "after")
            rep = self.r.check(d)  # `alerts check --json`: the alerts, the plan, the phases
            rec = {"day": d, "report": rep, "plan": rep["plan"], "ran_km": ran}
            assert_day_invariants(rec)
            if check is not None:
                check(rec)
            self.days.append(rec)
            lived.append(rec)
            self.last = rep
            p = rep["plan"]
            if self.block is None or (p.get("phase"), p.get("step")) != self.block[1:] or (
                    d - self.block[0]).days >= 7:
                self.plan_block(d)
            self.day = d + timedelta(days=1)
            if until is not None and until(rec):
                break
        return lived

    def longest_km(self, d: date, days: int) -> float:
        """The longest run of the ``days`` days ending ``d`` (0 without one)."""
        return max([km for when, km in self.r.files if 0 <= (d - when).days < days] or [0.0])


def assert_day_invariants(rec: dict) -> None:
    """What every day of every scenario must show, whatever happened."""
    plan, d = rec["plan"], rec["day"]
    assert plan.get("phase") in PHASES, (d, plan.get("phase"))
    if plan["phase"] in NO_NUMBERS:
        assert plan.get("max_week_km") is None and plan.get("max_run_km") is None, (d, plan)
    if plan["phase"] in ("stop", "emergency"):
        assert plan.get("stop_running") is True, (d, plan)
    assert not spike_alerts(rec["report"]), (d, spike_alerts(rec["report"]))


def segments(records: list[dict]) -> list[tuple[str, int | None, date, date]]:
    """(phase, step, first day, last day) runs of the lived days."""
    out: list[list] = []
    for rec in records:
        key = (rec["plan"]["phase"], rec["plan"].get("step"))
        if out and tuple(out[-1][:2]) == key:
            out[-1][3] = rec["day"]
        else:
            out.append([key[0], key[1], rec["day"], rec["day"]])
    return [tuple(s) for s in out]
