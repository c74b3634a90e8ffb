"""A demo history: a few months of one runner with back pain, written through the real import path.

:func:`write_demo` generates FIT files (and a few GPX files, as a Strava export gives them) with
:mod:`loadwatch.ingest.synth`, imports them with :func:`loadwatch.ingest.importer.import_files` - the same code a runner's own
files go through - and logs pain entries with :meth:`loadwatch.ingest.store.Store.add_pain`.

The story (16 weeks by default, ending in the week of ``today``): mostly road running, some trail and
treadmill, tempo runs with heart rate; two small flare-ups (pain 4) after the two biggest weeks; then a
long-run spike (19.2 km after a 30-day longest of 12 km) -> next-morning pain 6, pain 6 during a run,
a stop with cycling as cross-training, a walk-run return through the four steps inside their caps, and
last Sunday a slightly-too-long run (8 km after 7 km) so the spike rule shows in the current week.

Where the demo lives: the faces pass the separate demo store (``loadwatch.ingest.store.demo_db_path()``); that
file *is* the marker - a store is the demo when its path is the demo path.  Every pain note starts with
``[demo]`` as well.

Idempotent for the same ``today``: the files are byte-identical, so a second call reports duplicates,
and pain entries already present (same time, score and timing) are not added again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from loadwatch.ingest.painlog import PainEntry
from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes

DEMO_NOTE_PREFIX = "[demo]"
#: Demo runner's heart-rate settings (set only when the store has none).
DEMO_HR_MAX_BPM = 188
DEMO_HR_REST_BPM = 52

#: Pace [min/km] and heart rate [bpm] per kind of session.
KINDS = {
    "easy": (6.0, 128.0),
    "long": (6.25, 133.0),
    "tempo": (5.2, 166.0),
    "walkrun": (8.0, 112.0),
    "trail": (6.8, 130.0),
    "treadmill": (6.0, 127.0),
    "cycling": (60 / 25.0, 118.0),  # 25 km/h
}
SUB_SPORT = {"road": "street", "trail": "trail", "treadmill": "treadmill", "bike": "generic"}


#: The demo's pairs of shoes.
DEMO_ROAD_SHOE = "Road trainers (demo)"
DEMO_TRAIL_SHOE = "Trail shoes (demo)"


@dataclass(frozen=True)
class Session:
    week: int  # 0 = the oldest week
    weekday: int  # 0 = Monday
    kind: str
    km: float
    surface: str = "road"  # road | trail | treadmill | bike
    gpx: bool = False  # exported as GPX (no surface information) instead of FIT


@dataclass(frozen=True)
class Pain:
    week: int
    weekday: int
    hour: int
    score: int
    timing: str
    note: str
    link_run: bool = False  # link to the run of that day


#: The runner's pain log, one entry a line: story week, weekday (0 = Monday), hour, score (0-10), timing,
#: whether it is linked to that day's run, and the note.
_PAIN_LOG = """
week  day  hour  score  timing        run  note
   0    1    19      1  after         yes  a little stiff after the run
   2    6    18      1  after         yes  fine
   4    1    19      4  after         yes  lower back sore after the easy run
   4    2     7      2  next_morning  no   better this morning
   5    6    18      1  after         yes  ok
   7    1     8      4  during        yes  back ached from 5 km in
   7    2     7      1  next_morning  no   settled
   8    6    18      3  after         yes  long run felt heavy at the end
   9    0     7      6  next_morning  no   stiff and sore getting out of bed
   9    0    20      5  rest_of_day   no   built up during the working day
   9    2     8      6  during        yes  had to stop and walk home
   9    3     7      4  next_morning  no   easing
   9    5     7      3  next_morning  no   better; cycled yesterday without pain
   9    6     7      2  next_morning  no   walking without pain
  10    0     7      1  next_morning  no   walking without pain again
  10    1    19      2  after         yes  walk-run fine
  10    5    18      1  after         yes  trail felt good
  11    0     7      1  next_morning  no   a good week
      11   3   19     1  after         yes
      12   0    7     1  next_morning  no
      13   0    7     1  next_morning  no
      13   6   18     1  after         yes
      14   0    7     0  next_morning  no
  14    6    18      2  after         yes  a bit tired at the end of the long run
"""


def _pain_log() -> list[Pain]:
    """:data:`_PAIN_LOG` as :class:`Pain` entries."""
    entries = []
    for line in _PAIN_LOG.strip().splitlines()[1:]:
        week, weekday, hour, score, timing, run, *note = line.split(maxsplit=6)
        entries.append(Pain(int(week), int(weekday), int(hour), int(score), timing, " ".join(note),
                            link_run=run == "yes"))
    return entries


def _story() -> tuple[list[Session], list[Pain]]:
    S = Session
    sessions = [
        # weeks 0-2: steady build
        S(0, 1, "easy", 7), S(0, 3, "easy", 7, gpx=True), S(0, 6, "long", 10),
        S(1, 1, "easy", 7), S(1, 3, "tempo", 8), S(1, 6, "long", 11),
        S(2, 1, "easy", 8), S(2, 3, "tempo", 8), S(2, 6, "long", 12, gpx=True),
        # week 3: the biggest week so far (34 km) -> a small flare-up in week 4
        S(3, 1, "easy", 8), S(3, 2, "trail", 6, "trail"), S(3, 3, "tempo", 8), S(3, 6, "long", 12),
        S(4, 1, "easy", 6), S(4, 3, "easy", 7), S(4, 6, "long", 12),
        S(5, 1, "easy", 8, gpx=True), S(5, 3, "tempo", 8), S(5, 6, "long", 12),
        # week 6: 35 km -> another small flare-up in week 7
        S(6, 1, "easy", 8), S(6, 2, "trail", 6, "trail"), S(6, 3, "tempo", 9), S(6, 6, "long", 12),
        S(7, 1, "easy", 7), S(7, 3, "easy", 7), S(7, 6, "long", 12, gpx=True),
        # week 8: the long-run spike, 19.2 km after a 30-day longest of 12 km (+60%)
        S(8, 1, "easy", 8), S(8, 2, "treadmill", 5, "treadmill"), S(8, 3, "tempo", 8), S(8, 6, "long", 19.2),
        # week 9: pain; one short run hurts (6/10), then cross-training while stopped
        S(9, 2, "easy", 5), S(9, 4, "cycling", 18, "bike"), S(9, 6, "cycling", 25, "bike"),
        # week 10: return to running, step 1 (walking pain-free on Sunday and Monday): walk-run on soft
        # ground, inside the step's caps (about 10 km a week, runs up to 6.7 km)
        S(10, 1, "walkrun", 3, "treadmill"), S(10, 2, "cycling", 20, "bike"), S(10, 3, "walkrun", 3, "trail"),
        S(10, 5, "trail", 3.5, "trail"),
        # weeks 11-13: steps 2, 3 and 4, each inside its caps (and the spike cap of the runs it holds)
        S(11, 1, "trail", 5, "trail"), S(11, 3, "easy", 5), S(11, 6, "long", 6),
        S(12, 1, "easy", 6, gpx=True), S(12, 3, "trail", 6, "trail"), S(12, 6, "long", 6.5),
        S(13, 1, "easy", 7), S(13, 3, "easy", 7), S(13, 6, "long", 7),
        # week 14: back to normal; a long run of 8 km after a 30-day longest of 7 km (+14%: a small spike)
        S(14, 1, "easy", 7), S(14, 3, "trail", 6, "trail"), S(14, 6, "long", 8),
        # week 15: the current week (only the days up to today are written)
        S(15, 1, "easy", 6), S(15, 3, "easy", 6, "treadmill"),
    ]
    pain = _pain_log()
    return sessions, pain


def _local_tz(store) -> ZoneInfo:
    try:
        return ZoneInfo(store.settings().timezone)
    except Exception:  # noqa: BLE001 - an odd zone must not stop the demo
        return ZoneInfo("UTC")


def _synth(session: Session, day: date, tz: ZoneInfo, seed: int) -> tuple[str, bytes]:
    pace_min_km, hr = KINDS[session.kind]
    local = datetime(day.year, day.month, day.day, 7 if session.weekday < 5 else 8, 30, tzinfo=tz)
    start_utc = local.astimezone(ZoneInfo("UTC"))
    offset_s = int(local.utcoffset().total_seconds())
    cycling = session.surface == "bike"
    run = SynthRun(
        start_utc=start_utc, duration_s=int(round(session.km * pace_min_km * 60)), distance_m=session.km * 1000,
        sport="cycling" if cycling else "running", sub_sport=SUB_SPORT[session.surface], utc_offset_s=offset_s,
        heart_rate_bpm=hr, cadence_spm=None if cycling else 168.0, seed=seed,
        with_gps=session.surface != "treadmill",  # a treadmill run has no GPS track
        with_dynamics=not cycling and not session.gpx,
    )
    stem = f"demo-{day.isoformat()}-{'ride' if cycling else session.kind}"
    if session.gpx:
        return f"{stem}.gpx", gpx_bytes(run)
    return f"{stem}.fit", fit_bytes(run)


#: Weeks the demo's story spans.
STORY_WEEKS = 16


def write_demo(store, *, today: date | None = None, weeks: int = 16, workers: int = 0) -> dict:
    """Write the demo history into ``store`` (the demo store) for the ``weeks`` weeks ending in the week
    of ``today`` (default: today); sessions after ``today`` are left out.  ``weeks`` must be at least 16
    to hold the whole story (fewer keeps its most recent weeks).  ``workers``: decoding processes for
    the importer (0: in this process - the files are our own, and spawning workers costs more than it
    saves for 50 small files).

    Returns ``{"files", "imported", "duplicates", "failed", "pain_added", "first_day", "last_day",
    "seconds"}``.
    """
    from loadwatch.ingest.importer import import_files

    t0 = time.perf_counter()
    today = today or date.today()
    sessions, pains = _story()
    shift = max(0, STORY_WEEKS - weeks)
    first_monday = today - timedelta(days=today.weekday()) - timedelta(days=7 * (STORY_WEEKS - 1))

    def day_of(week: int, weekday: int) -> date:
        return first_monday + timedelta(days=7 * week + weekday)

    first_write = _set_up(store)
    told = [(i, s, day_of(s.week, s.weekday)) for i, s in enumerate(sessions) if s.week >= shift]
    told = [(i, s, day) for i, s, day in told if day <= today]
    files, day_of_file, trail_files = _session_files(told, _local_tz(store))
    outcomes = import_files(store, files, workers=workers)
    logged = 0
    if first_write:
        for o in outcomes:
            if o.activity_id and o.name in trail_files:
                store.set_activity_shoe(o.activity_id, DEMO_TRAIL_SHOE, source="default")
        if store.sessions().empty:
            for day in (day_of(week, 3) for week in range(shift, STORY_WEEKS)):
                if day <= today:
                    store.add_session(day, "core", 20, note=f"{DEMO_NOTE_PREFIX} plank and side-plank circuit")
                    logged += 1
    run_on_day = {day_of_file[o.name]: o.activity_id for o in outcomes if o.activity_id and o.name in day_of_file}
    counts = {"imported": 0, "duplicate": 0, "failed": 0, "skipped": 0}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    pains = [(p, day_of(p.week, p.weekday)) for p in pains if p.week >= shift]
    added = _add_pain(store, pains, today, run_on_day)
    days = [day for _, _, day in told]
    return {
        "files": len(files), "imported": counts["imported"], "duplicates": counts["duplicate"],
        "failed": counts["failed"] + counts["skipped"], "pain_added": added, "sessions_logged": logged,
        "first_day": min(days).isoformat() if days else None, "last_day": max(days).isoformat() if days else None,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def _set_up(store) -> bool:
    """The demo runner's heart rates (where unset) and, on the first write, two pairs of shoes (the road
    pair the default, so imported runs get it; trail runs are moved to the trail pair after the import).
    True when this is the first write (no shoes yet), so a second write_demo adds nothing."""
    settings = store.settings()
    if settings.hr_max is None:
        store.set_setting("hr_max", str(DEMO_HR_MAX_BPM))
    if settings.hr_rest is None:
        store.set_setting("hr_rest", str(DEMO_HR_REST_BPM))
    first_write = store.shoes().empty
    if first_write:
        store.add_shoe(DEMO_ROAD_SHOE, start_km=180, retire_km=800, default=True)
        store.add_shoe(DEMO_TRAIL_SHOE, start_km=60, retire_km=700)
    return first_write


def _session_files(told: list[tuple[int, Session, date]], tz: ZoneInfo
                   ) -> tuple[list[tuple[str, bytes]], dict[str, date], set[str]]:
    """The watch files of the sessions told (each with its place in the story and its day), the day of each run's file (rides are
    not runs) and the names of the trail runs' files."""
    files, day_of_file, trail_files = [], {}, set()
    for i, s, day in told:
        name, data = _synth(s, day, tz, seed=1000 + i)
        files.append((name, data))
        if s.surface != "bike":
            day_of_file[name] = day
        if s.surface == "trail":
            trail_files.add(name)
    return files, day_of_file, trail_files


def _add_pain(store, pains: list[tuple[Pain, date]], today: date, run_on_day: dict[date, str]) -> int:
    """Log the story's pain entries up to the end of ``today`` that the store does not hold yet; how many
    were added."""
    existing = store.pain()
    seen = {(pd_ts.to_pydatetime(), int(score), timing)
            for pd_ts, score, timing in zip(existing["at_local"], existing["score"], existing["timing"],
                                            strict=True)}
    end_of_today = datetime.combine(today, datetime.max.time())
    added = 0
    for p, day in pains:
        at = datetime(day.year, day.month, day.day, p.hour, 0)
        if at > end_of_today or (at, p.score, p.timing) in seen:
            continue
        store.add_pain(PainEntry(at_local=at, score=p.score, timing=p.timing, location="lower_back",
                                 activity_id=run_on_day.get(day) if p.link_run else None,
                                 note=f"{DEMO_NOTE_PREFIX} {p.note}".strip()))
        added += 1
    return added
