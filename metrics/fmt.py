"""One voice: how every face (dashboard, command line, reports) says a number, a date, a code and a
missing value.

Pure functions, no streamlit, no I/O.  Internal names (``rest_of_day``, ``hazard_ratio_ci_low``,
``return_to_run``) never reach a person: :func:`words` turns any code loadwatch stores or computes into
plain words, and :data:`MISSING` stands for a value that is not there.

* distances: :func:`distance` ("12.3 km" / "7.6 mi"), caps rounded down (:func:`loadwatch.metrics.units`);
* paces: :func:`pace` ("5:30 /km", m:ss);
* durations: :func:`duration` ("45 min", "1 h 05 min");
* dates: :func:`day` ("Mon 17 Aug 2026"), :func:`day_range`;
* percentages and plain numbers: :func:`pct`, :func:`number`;
* codes: :func:`words` (timings, locations, symptoms, rules, phases, sports, surfaces, severities,
  intensity groups, spike categories, import outcomes, session kinds, a cohort's concern levels).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from decimal import ROUND_HALF_UP, Decimal

from loadwatch.ingest.painlog import DEFAULT_TIMING_NO_RUN, LOCATION_LABELS, SYMPTOM_LABELS, TIMING_LABELS
from loadwatch.metrics import thresholds as th
from loadwatch.metrics.rules import RULE_METRICS
from loadwatch.metrics.units import format_distance, format_duration, format_pace

#: What a face shows for a value that is not there (an en dash, never "None", "nan" or 0).
MISSING = "–"

#: Plain words for every code a face may meet, by vocabulary.  Keys are the stored/computed codes.
VOCABULARY: dict[str, dict[str, str]] = {
    "timing": {k: v.lower() if k != "during" else "during the run" for k, v in TIMING_LABELS.items()},
    "timing_group": {"morning": "next-morning pain", "run": "pain during and after runs"},
    "location": {k: v.lower() for k, v in LOCATION_LABELS.items()},
    "symptom": {k: v[0].lower() + v[1:] for k, v in SYMPTOM_LABELS.items()},
    "rule": {
        "session_spike": "single-run spike",
        "pain_during_run": "pain with running",
        "pain_without_run": "back pain",
        "step_overrun": "above your step's limits",
        "pain_not_settled": "pain not settled by morning",
        "pain_rising": "pain rising week on week",
        "pain_persistent": "persistent pain",
        "red_flag_emergency": "emergency symptoms",
        "red_flag_urgent": "symptoms to see a clinician about",
        "weekly_change": "weekly change",
        "acwr": "acute:chronic workload ratio",
        "monotony": "training monotony",
        "personal": "your own rule",
        "phase": "where you are in your training",
        "check_in": "how is your back today?",
    },
    "phase": {
        "normal": "normal training",
        "hold": "hold steady",
        "reduce": "cut back",
        "stop": "stop running for now",
        "return_to_run": "return to running",
        "rebuild": "rebuild after a break",
        "see_clinician": "see a clinician",
        "emergency": "urgent care now",
    },
    "concern": {
        "emergency": "urgent care now",
        "see_clinician": "see a clinician",
        "stop": "stopped running",
        "red": "cut back",
        "spike": "recent spike",
        "amber": "caution",
        "rebuild": "rebuilding",
        "normal": "normal training",
    },
    "severity": {
        "info": "for information",
        "amber": "caution",
        "red": "cut back",
        "see_clinician": "see a clinician",
        "emergency": "urgent care",
    },
    "status": {
        "green": "on track",
        "amber": "caution",
        "red": "cut back",
        "see_clinician": "see a clinician",
        "emergency": "urgent care",
    },
    "sport": {
        "running": "run",
        "cycling": "ride",
        "swimming": "swim",
        "walking": "walk",
        "hiking": "hike",
        "elliptical": "elliptical",
        "fitness_equipment": "gym equipment",
        "training": "training",
        "generic": "activity",
        "other": "activity",
        "unknown": "activity",
    },
    "surface": {
        "road": "road",
        "trail": "trail",
        "track": "track",
        "treadmill": "treadmill",
        "grass": "grass",
        "unknown": "surface not known",
    },
    "intensity": {
        "very_easy": "very easy",
        "easy": "easy",
        "moderate": "moderate",
        "hard": "hard",
        "unknown": "no heart rate",
    },
    "spike": {
        "none": "no spike",
        "small": "small spike",
        "moderate": "moderate spike",
        "large": "large spike",
    },
    "outcome": {
        "imported": "imported",
        "duplicate": "already in your store",
        "replaced": "replaced an earlier copy",
        "skipped": "skipped",
        "failed": "could not be read",
    },
    "session": {
        "strength": "strength",
        "core": "core",
        "pilates": "Pilates",
        "yoga": "yoga",
        "mobility": "mobility",
        "cycling": "cycling",
        "swimming": "swimming",
        "elliptical": "elliptical",
        "walking": "walking",
        "deep_water_running": "deep-water running",
        "other": "other",
    },
}


def is_missing(value) -> bool:
    """True for None, NaN, NaT, pd.NA and non-finite floats."""
    if value is None:
        return True
    pd = sys.modules.get("pandas")  # no pandas loaded: the value is no pandas or NumPy missing marker
    if pd is not None:
        try:
            if pd.isna(value):
                return True
        except (TypeError, ValueError):
            return False
    if isinstance(value, float):
        return not math.isfinite(value)
    return False


def words(code, vocabulary: str | None = None) -> str:
    """Plain words for a code: ``words("rest_of_day", "timing") -> "later in the day"``.

    ``vocabulary`` names one of :data:`VOCABULARY`; without it every vocabulary is searched.  Personal
    rules (``personal:7``) read "your own rule 7".  An unknown code is de-underscored rather than shown
    raw (``foo_bar`` -> ``foo bar``); a missing one gives :data:`MISSING`."""
    if is_missing(code) or code == "":
        return MISSING
    code = str(code)
    if code.startswith("personal:"):
        return f"your own rule {code.split(':', 1)[1]}"
    tables = [VOCABULARY[vocabulary]] if vocabulary else list(VOCABULARY.values())
    for table in tables:
        if code in table:
            return table[code]
    return code.replace("_", " ")


#: A plan's status in words where its phase says more than its colour: a stopped runner is not told
#: "cut back", a returning one not "caution".
PHASE_STATUS_WORDS: dict[str, str] = {
    "stop": "stop running for now",
    "return_to_run": "returning to running, step by step",
    "rebuild": "rebuilding after a break, step by step",
}


def phase_status_words(plan: dict | None) -> str | None:
    """The phase's own words for the plan's status where they say more than its colour (never under a red
    flag, whose status is the instruction); None otherwise."""
    plan = plan or {}
    if plan.get("status") in ("see_clinician", "emergency"):
        return None
    return PHASE_STATUS_WORDS.get(plan.get("phase"))


def plan_status(plan: dict | None) -> str:
    """The plan's status in words (``status`` vocabulary, or the phase's own words where it says more)."""
    return phase_status_words(plan) or words((plan or {}).get("status") or "green", "status")


def plan_items(plan: dict, units: str = "km", *, strong=str, cap: bool = True) -> list[str]:
    """The plan's figures for the next 7 days as the faces list them: the week's and the longest run's caps
    (``cap=True``: rounded down, as a limit), the runs, the intensity and the surface, each present only
    when the plan has it; ``strong`` marks a figure (the dashboard's ``**bold**``)."""
    items = []
    if plan.get("max_week_km") is not None:
        items.append(f"Total for the next 7 days: at most {strong(distance(plan['max_week_km'], units, cap=cap))}")
    if plan.get("max_run_km") is not None:
        items.append(f"Longest single run: at most {strong(distance(plan['max_run_km'], units, cap=cap))}")
    if plan.get("runs"):
        items.append(f"Runs: about {strong(str(plan['runs']))}")
    for key in ("intensity", "surface"):
        if plan.get(key):
            items.append(f"{key.capitalize()}: {words(plan[key], key)}")
    return items

#: How every date picker on the dashboard writes a date (Streamlit's ``date_input`` format): one format
#: on every page, ISO 8601, which reads the same to a runner in London and one in New York.
DATE_INPUT_FORMAT = "YYYY-MM-DD"


def _timestamp(value):
    """A datetime from a date, datetime, Timestamp or ISO string: pandas' ``Timestamp`` once pandas is
    loaded, else the standard library's (the light commands never import pandas, issue 21); a string
    ``fromisoformat`` cannot read goes to pandas."""
    pd = sys.modules.get("pandas")
    if pd is None:
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                pass
        import pandas as pd
    return pd.Timestamp(value)


def day(value) -> str:
    """``Mon 17 Aug 2026`` from a date, datetime, Timestamp or ISO string; missing gives :data:`MISSING`."""
    if is_missing(value) or value == "":
        return MISSING
    d = _timestamp(value)
    return f"{d:%a} {d.day} {d:%b %Y}"


def day_time(value) -> str:
    """``Mon 17 Aug 2026 07:30`` (local wall-clock time)."""
    if is_missing(value) or value == "":
        return MISSING
    d = _timestamp(value)
    return f"{day(d)} {d:%H:%M}"


def day_range(start, end) -> str:
    """``Mon 3 Aug – Sun 16 Aug 2026`` (years shown once when both are in the same year)."""
    if is_missing(start) or is_missing(end):
        return MISSING
    a, b = _timestamp(start), _timestamp(end)
    left = f"{a:%a} {a.day} {a:%b}" + ("" if a.year == b.year else f" {a.year}")
    return f"{left} – {day(b)}"


#: A history whose last run is at least this many days before today says so on every page (one line).
STALE_HISTORY_DAYS = 28


def stale_history(last_run, today, *, where: str = "on the Import page") -> str | None:
    """The one line every face shows when the runner's last run is long past: "Your last run was on Sat 25
    May 2026, 28 weeks ago: import newer runs on the Import page to see your recent weeks."  None when
    the last run is recent (under :data:`STALE_HISTORY_DAYS` days) or there is none."""
    if is_missing(last_run) or is_missing(today):
        return None
    days = (_timestamp(today).date() - _timestamp(last_run).date()).days
    if days < STALE_HISTORY_DAYS:
        return None
    weeks = days // 7
    return (f"Your last run was on {day(last_run)}, {count(weeks, 'week')} ago: import newer runs {where} "
            "to see your recent weeks.")


def distance(km, units: str = "km", *, cap: bool = False, decimals: int = 1) -> str:
    """``12.3 km`` / ``7.6 mi`` (``cap=True``: rounded down as a limit); missing gives :data:`MISSING`."""
    text = format_distance(km, units, cap=cap, decimals=decimals)
    return MISSING if text == "-" else text


def elevation(metres, units: str = "km") -> str:
    """A climb or descent: ``123 m``, or ``404 ft`` for a runner in miles; missing gives :data:`MISSING`."""
    from loadwatch.metrics.units import M_PER_FT

    if is_missing(metres):
        return MISSING
    return number(float(metres) / M_PER_FT, 0, "ft") if units == "mi" else number(metres, 0, "m")


def pace(s_per_km, units: str = "km") -> str:
    """``5:30 /km`` / ``8:51 /mi`` from seconds per km; missing gives :data:`MISSING`."""
    text = format_pace(s_per_km, units)
    return MISSING if text == "-" else text


def duration(minutes) -> str:
    """``45 min`` / ``1 h 05 min``; missing gives :data:`MISSING`."""
    text = format_duration(minutes)
    return MISSING if text == "-" else text


def number(value, decimals: int = 0, unit: str = "") -> str:
    """A plain number (trailing zeros dropped) with an optional unit; missing gives :data:`MISSING`."""
    if is_missing(value):
        return MISSING
    text = f"{float(value):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def pct(value, decimals: int = 0, *, signed: bool = False) -> str:
    """``12%`` (``signed=True``: ``+12%`` / ``−5%``); missing gives :data:`MISSING`."""
    if is_missing(value):
        return MISSING
    v = float(value)
    text = f"{abs(v):.{decimals}f}%"
    if signed:
        return ("+" if v > 0 else "−" if v < 0 else "") + text
    return ("−" if v < 0 else "") + text


def signed(value, decimals: int = 1) -> str:
    """A change with its sign, written as :func:`pct` writes one: ``+2``, ``−1.5``, ``0``; missing gives
    :data:`MISSING`."""
    if is_missing(value):
        return MISSING
    v = float(value)
    text = number(abs(v), decimals)
    return ("+" if v > 0 and text != "0" else "−" if v < 0 and text != "0" else "") + text


def evidence(text) -> str:
    """An evidence line as a report prints it: ``Strong evidence: Frandsen et al. ...`` for a rule's own line
    (:meth:`loadwatch.metrics.thresholds.Evidence.line`, which names its strength), ``Evidence: ...`` for
    any other text, never "Evidence: strong evidence"; empty for none."""
    text = str(text or "").strip()
    if not text:
        return ""
    head = text.split(":", 1)[0].strip().lower()
    if head.endswith("evidence"):
        return text[0].upper() + text[1:]
    return f"Evidence: {text}"


def score(value) -> str:
    """A pain score: ``4/10``; missing gives :data:`MISSING`."""
    if is_missing(value):
        return MISSING
    return f"{int(value)}/10"


def unit_label(units: str) -> str:
    """``kilometres`` / ``miles``."""
    return {"km": "kilometres", "mi": "miles"}.get(units, units)


_CODED_REASON = re.compile(r"^([a-z][a-z0-9_]*(?::[0-9]+)?) \(([a-z_]+)\): ")


_CODED_HEAD = re.compile(r"^([a-z][a-z0-9_]*(?::[0-9]+)?): ")


def reason(text: str) -> str:
    """A plan reason in plain words, the one wording of every face: the ``rule (severity): `` prefix
    (``session_spike (amber): ...``) becomes ``single-run spike (caution): ...``, a bare rule code before
    the colon (``personal:3: ...``) becomes ``your own rule 3: ...``; other text (``cutback: ...``) is kept."""
    m = _CODED_REASON.match(text)
    if m:
        return f"{words(m[1], 'rule')} ({words(m[2], 'severity')}): {text[m.end():]}"
    m = _CODED_HEAD.match(text)
    if m and (m[1].partition(":")[0] == "personal" or m[1] in VOCABULARY["rule"]):
        return f"{words(m[1], 'rule')}: {text[m.end():]}"
    return text


def threshold(metric: str, value, units: str = "km", *, unit: str = "") -> str:
    """A personal rule's threshold (or the value it measured), kept in the metric's own unit, as the
    runner reads it: ``32 km`` / ``19.9 mi``, ``20%``, ``1.50``, ``1 h 30 min``, ``2 runs``, ``400 m``.
    ``unit`` stands in for a metric :data:`loadwatch.metrics.rules.RULE_METRICS` does not know; missing gives
    :data:`MISSING`."""
    meta = RULE_METRICS.get(str(metric))
    unit = meta.unit if meta is not None else unit
    if is_missing(value):
        return MISSING
    match unit:
        case "km":
            return distance(value, units)
        case "%":
            return f"{number(value, 1)}%"
        case "ratio":
            return number(value, 2)  # a threshold as the runner typed it: 1.5
        case "min":
            return duration(value)
        case "runs":
            return count(round(float(value)), "run")
    return number(value, 1, unit)


def pain_band(score) -> str | None:
    """The traffic-light band of a pain score: ``green`` (0-3), ``amber`` (4-5) or ``red`` (above 5);
    None for a missing score.  Every face colours pain from this one banding."""
    if is_missing(score):
        return None
    if float(score) <= th.PAIN_GREEN_MAX:
        return "green"
    return "amber" if float(score) <= th.PAIN_AMBER_MAX else "red"


# --- care messages (SCIENCE.md sections 10 and 11) --------------------------------------------------

EMERGENCY_CARE_MESSAGE = (
    "Seek urgent medical care now (A&E / emergency services). The symptoms you logged can come from "
    "pressure on the nerves at the base of the spine, which needs to be checked straight away. "
    "Do not run until a doctor has seen you."
)
URGENT_CARE_MESSAGE = (
    "See a doctor or physiotherapist within days about the symptoms you logged. "
    "Until then, loadwatch gives no training plan."
)
PERSISTENT_CARE_MESSAGE = (
    "Your back has hurt at most of your check-ins for more than three weeks: book a physiotherapist or doctor. "
    "Pain that lasts is common and usually treatable, and a professional can help you run again."
)
REFERRAL_HOLD = "Your plan holds where it is until then: no next step, and no limit rises."
ASSESSED_HINT = ("Once a clinician has seen you, record it (\"I have seen a clinician\" on the Pain log page, "
                 "or loadwatch pain assessed --date YYYY-MM-DD).")


def care_message(symptoms, since, latest=None, *, emergency: bool) -> str:
    """The care message of a red flag, the one wording of every face: what was logged and when, what to
    do (:data:`EMERGENCY_CARE_MESSAGE` / :data:`URGENT_CARE_MESSAGE`) and how the warning closes."""
    latest = since if latest is None else latest
    logged = "; ".join(SYMPTOM_LABELS.get(s, s).lower() for s in symptoms)
    when = f"on {day(since)}" + (f", latest {day(latest)}" if latest != since else "")
    care = EMERGENCY_CARE_MESSAGE if emergency else URGENT_CARE_MESSAGE
    return f"You logged: {logged} ({when}). {care} {ASSESSED_HINT}"


def pain_timing(timing: str, at_local, *, run_day=None, ran: bool | None = None) -> str:
    """When a pain entry hurt, in words: ``during the run``; linked to a run, with the run's own day (``right
    after your run on Sat 5 Dec 2026``, ``the morning after your run on Sat 5 Dec 2026``); later in a day
    without a run (``ran=False``), ``later in the day (no run that day)``."""
    if not is_missing(run_day):
        run = f"your run on {day(run_day)}"
        before = _timestamp(run_day).date() < _timestamp(at_local).date()
        return {"during": f"during {run}", "after": f"right after {run}",
                "rest_of_day": f"later on the day of {run}",
                "next_morning": f"the morning after {run}" if before else f"in the morning of {run}",
                }.get(timing, f"{words(timing, 'timing')} ({run})")
    if ran is False and timing == DEFAULT_TIMING_NO_RUN:
        return f"{words(timing, 'timing')} (no run that day)"
    return words(timing, "timing")


def pain_logged(value, timing: str, at_local, *, run_day=None, ran: bool | None = None) -> str:
    """A pain entry as the command line confirms it: ``4/10 right after the run on Sun 6 Dec 2026 12:00``;
    linked to a run, the run's own day (``5/10 the morning after your run on Sat 5 Dec 2026 (logged for Sun 6
    Dec 2026 07:00)``, ``4/10 right after your run on Sun 6 Dec 2026 (logged at 12:00)``); logged without a
    timing on a day without a run (``ran=False``), ``3/10 on Sun 6 Dec 2026 20:00, a day without a run``."""
    when = day_time(at_local)
    if not is_missing(run_day):
        same_day = _timestamp(run_day).date() == _timestamp(at_local).date()
        logged = f"at {_timestamp(at_local):%H:%M}" if same_day else f"for {when}"
        return f"{score(value)} {pain_timing(timing, at_local, run_day=run_day)} (logged {logged})"
    if ran is False and timing == DEFAULT_TIMING_NO_RUN:
        return f"{score(value)} on {when}, a day without a run"
    return f"{score(value)} {words(timing, 'timing')} on {when}"


def run_link_refused(activity_id, run_day, entry_day, timing: str) -> str:
    """Why a pain entry cannot be linked to a run (``ingest.painlog.RunLinkError``'s fields), naming the run's
    own day."""
    allowed = ("a run of its own day or of the day before" if timing == "next_morning"
               else "a run of its own day (a next-morning entry: also the day before)")
    return (f"run {str(activity_id)[:8]} was on {day(run_day)}, but this pain entry is for {day(entry_day)}: an "
            f"entry can be linked to {allowed}. Link the run of that day, or change the entry's date.")


def symptom_care(symptoms, when) -> list[tuple[str, str]]:
    """(severity, message) for red-flag symptoms ticked on a new pain entry dated ``when``, before it is
    saved: the emergency signs first (``emergency``), then the see-within-days ones (``see_clinician``),
    in the detector's own words (:func:`care_message`).  Empty when no symptom is a red flag."""
    symptoms = tuple(dict.fromkeys(symptoms or ()))
    emergency = [s for s in symptoms if s in th.EMERGENCY_SYMPTOMS]
    urgent = [s for s in symptoms if s in th.URGENT_SYMPTOMS]
    out = []
    if emergency:
        out.append(("emergency", care_message(emergency, when, emergency=True)))
    if urgent:
        out.append(("see_clinician", care_message(urgent, when, emergency=False)))
    return out


def correction_words(changed: dict, units: str = "km") -> list[str]:
    """What a correction to an activity changed, in words (the store's ``changed``: ``distance_km``,
    ``sport``, ``surface``, ``confirmed``, ``rpe``, ``name``, ``shoe``), for the command line and the
    dashboard alike."""
    done = []
    for key, value in (changed or {}).items():
        if key == "distance_km":
            done.append(f"distance {distance(value, units, decimals=2)}")
        elif key in ("sport", "surface"):
            done.append(f"{key} {words(value, key)}")
        elif key == "confirmed":
            done.append("confirmed as right")
        elif key == "rpe":
            done.append(f"RPE {number(value, 1)}")
        elif key == "name":
            done.append(f'name "{value}"' if value else "name cleared")
        elif key == "shoe":
            done.append("no shoe" if value is None else f"shoe {value}")
        else:
            done.append(f"{key} {value}")
    return done


#: Characters that act on a terminal or reorder text instead of showing: C0 (ESC, carriage return,
#: newline...), DEL, C1, and the bidirectional overrides and isolates ("Trojan source").
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: What Markdown (CommonMark, GitHub's tables and strikethrough, Streamlit's ``:red[...]``, ``:material/x:``
#: and ``$`` maths) reads as syntax anywhere in a line: escaped.  Without ``[``, ``]`` and ``<`` no link,
#: image or HTML can form, so ``.`` and ``(`` are left as they are (names stay readable in raw text).
_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>!|~$&]|:(?=[A-Za-z]))")
#: What starts a block (heading, quote, list, setext underline) at the start of the text.
_MARKDOWN_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")


def terminal_text(value) -> str:
    """Text from outside (a file or archive member's name, a runner id, a message quoting one) as a
    terminal may print it: bytes that were not UTF-8 (kept by Python as lone surrogates) become "\ufffd",
    and control characters are removed, so an ANSI escape in a name cannot move the cursor, clear a
    line or colour the screen."""
    text = str(value)
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", text)


def markdown_text(value) -> str:
    """Text from outside as literal Markdown: :func:`terminal_text`, then Markdown's marks escaped, so a
    file named ``![x](http://host/)`` is shown as written and never makes the page fetch anything."""
    text = _MARKDOWN.sub(r"\\\1", terminal_text(value))
    # "12. a.fit" must not become a numbered list: the escape goes before the "." (after the digits)
    return _MARKDOWN_START.sub(lambda m: m[1] + (m[2] + "\\" if m[2][0].isdigit() else "\\" + m[2]), text, count=1)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 file`` / ``3 files`` (``plural`` for irregular nouns: ``count(2, "entry", "entries")``)."""
    n = int(n)
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


_NUMBER_WORDS = ("none", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                 "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
                 "twenty")


def count_words(n: int, noun: str | None = None, plural: str | None = None) -> str:
    """A count as a person says it: "none", "one" ... "twenty", then digits with thousands separators;
    with a ``noun``, "one run" / "two runs" (``plural`` for irregular nouns)."""
    n = int(n)
    said = _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else f"{n:,}"
    if noun is None:
        return said
    return f"{said} {noun if n == 1 else (plural or noun + 's')}"


def clock(seconds) -> str:
    """An elapsed time as a stopwatch shows it: ``1:02:03`` / ``42:05``; missing gives :data:`MISSING`."""
    if is_missing(seconds):
        return MISSING
    total = int(round(float(seconds)))
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def pace_clock(s_per_unit) -> str:
    """A pace already in seconds per km or mile as ``m:ss`` (for chart axes and tables that carry the
    unit in their heading); missing gives :data:`MISSING`."""
    if is_missing(s_per_unit) or float(s_per_unit) <= 0:
        return MISSING
    total = int(round(float(s_per_unit)))
    return f"{total // 60}:{total % 60:02d}"


#: Decimals of a figure in ``loadwatch report --json`` (``metrics.report.JSON_DECIMALS``): the terminal and the
#: physio report print a ratio from the JSON, the dashboard from the unrounded frame.
RATIO_STORED_DECIMALS = 3


def ratio(value, decimals: int = 2) -> str:
    """A dimensionless ratio (ACWR, monotony) with all its decimals, so a column of them lines up and every
    face prints the same figure (``1.20``, never ``1.2`` beside it); missing gives :data:`MISSING`.  Rounded
    half up from its :data:`RATIO_STORED_DECIMALS` decimals, so the JSON's 1.115 and the frame's 1.1152 both
    read ``1.12`` (a float's own rounding of 1.115 gives 1.11)."""
    if is_missing(value):
        return MISSING
    stored = Decimal(repr(round(float(value), RATIO_STORED_DECIMALS)))
    return str(stored.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def times(value, decimals: int = 2) -> str:
    """A rate ratio: ``1.64 times``; missing gives :data:`MISSING`."""
    return MISSING if is_missing(value) else f"{float(value):.{decimals}f} times"


def yes_no(value) -> str:
    return MISSING if is_missing(value) else ("yes" if bool(value) else "no")


VOCABULARY["pain_field"] = {"at_local": "date and time", "score": "pain score", "timing": "timing",
                             "location": "where it hurts", "note": "note", "symptoms": "symptoms",
                             "activity_id": "linked run"}
VOCABULARY["op"] = {">": "above", ">=": "at or above", "<": "below", "<=": "at or below"}


def word_list(codes, vocabulary: str | None = None) -> str:
    """``numbness in one leg; loss of bladder control`` from a list of codes; empty gives :data:`MISSING`."""
    if codes is None or isinstance(codes, float) and is_missing(codes):
        return MISSING
    items = [words(c, vocabulary) for c in codes]
    return "; ".join(items) if items else MISSING


#: Plain labels for the numbers behind an alert (``Alert.values`` keys) and how to say each value.
#: Keys ending in ``_id``/``_ids`` and the unit/scope bookkeeping are left out; unknown keys are
#: de-underscored and formatted by their unit suffix.
ALERT_VALUES: dict[str, tuple[str, str]] = {
    "distance_km": ("distance", "km"),
    "longest_30d_km": ("longest run in the 30 days before", "km"),
    "spike_pct": ("longer than that by", "pct"),
    "category": ("size of the spike", "spike"),
    "hazard_ratio": ("injury rate in the study, against runs without a spike", "times"),
    "safe_longest_km": ("safe longest run for now", "km_cap"),
    "max_spike_pct": ("spike allowed over the 30-day longest", "pct"),
    "score": ("pain score", "score"),
    "timing": ("when", "timing"),
    "green_max": ("fine up to", "score"),
    "amber_max": ("acceptable up to", "score"),
    "baseline_score": ("your usual morning pain", "score_f"),
    "margin": ("rise that counts", "points"),
    "mean_score_7d": ("average pain, last 7 days", "score_f"),
    "mean_score_prev_7d": ("average pain, the 7 days before", "score_f"),
    "pain_days": ("days with pain", "days"),
    "span_days": ("days looked at", "days"),
    "pain_day_frac": ("share of days with pain", "frac"),
    "min_days": ("days with pain that count", "days"),
    "pain_checkin_frac": ("share of check-ins with pain", "frac"),
    "timing_group": ("pain compared", "timing_group"),
    "pain_checkin_frac_min": ("share of check-ins with pain that counts", "frac"),
    "symptoms": ("symptoms", "symptom_list"),
    "lookback_days": ("looked back over", "days"),
    "acwr": ("acute:chronic workload ratio", "ratio"),
    "acwr_danger": ("level often called high", "ratio"),
    "monotony": ("training monotony", "ratio"),
    "monotony_info": ("level often called high", "ratio"),
    "change_pct": ("change on the week before", "signed_pct"),
    "change_info_pct": ("change often called large", "pct"),
    "metric": ("measure", "metric"),
    "op": ("rule", "op"),
    "partial_week": ("week still in progress", "yes_no"),
    "phase": ("phase", "phase"),
    "since": ("since", "day"),
    "step": ("step", "plain"),
    "steps": ("steps in all", "plain"),
    "cap_km": ("the limit it was above", "km_cap"),
    "kind": ("what was above the limit", "overrun"),
    "times": ("times in the last 14 days", "plain"),
}
VOCABULARY["overrun"] = {"run": "one run", "week": "the week's running"}
ALERT_SKIP = {"unit", "scope", "hazard_ratio_ci_low", "hazard_ratio_ci_high", "threshold", "value", "entry_kind"}


def alert_value(key: str, value, units: str = "km") -> str:
    """One number behind an alert in words (``"safe_longest_km", 13.2`` -> ``13 km``)."""
    kind = ALERT_VALUES.get(key, (None, None))[1]
    if kind is None:
        kind = ("km" if key.endswith("_km") else "pct" if key.endswith("_pct") else
                "days" if key.endswith("_days") else "min" if key.endswith("_min") else "plain")
    if is_missing(value) if not isinstance(value, list | tuple) else False:
        return MISSING
    match kind:
        case "km":
            return distance(value, units)
        case "km_cap":
            return distance(value, units, cap=True)
        case "pct":
            return pct(value)
        case "signed_pct":
            return pct(value, signed=True)
        case "frac":
            return pct(float(value) * 100)
        case "score":
            return score(value)
        case "score_f":
            return f"{number(value, 1)}/10"
        case "points":
            return number(value, 1, "points")
        case "days":
            return number(value, 0, "days")
        case "min":
            return duration(value)
        case "ratio":
            return ratio(value)
        case "times":
            return times(value)
        case "yes_no":
            return yes_no(value)
        case "symptom_list":
            return word_list(value, "symptom")
        case "metric":
            meta = RULE_METRICS.get(str(value))
            return meta.label if meta is not None else words(value)
        case "timing" | "timing_group" | "spike" | "op" | "phase" | "overrun":
            return words(value, kind)
        case "day":
            return day(value)
    if isinstance(value, float):
        return number(value, 2)
    return words(value) if isinstance(value, str) else str(value)


def alert_facts(values: dict | None, units: str = "km") -> list[tuple[str, str]]:
    """The numbers behind an alert as (label, value) rows in plain words and the runner's units: a
    small labelled table for every face.  Entry ids and bookkeeping are left out; a study's rate ratio
    carries its 95% confidence interval; a personal rule shows its measured value against its threshold."""
    values = dict(values or {})
    rows: list[tuple[str, str]] = []
    for key, value in values.items():
        if key.endswith(("_id", "_ids")) or key in ALERT_SKIP:
            continue
        label = ALERT_VALUES.get(key, (key.replace("_", " "), None))[0]
        text = alert_value(key, value, units)
        if key == "hazard_ratio" and not is_missing(values.get("hazard_ratio_ci_low")):
            text += (f" (95% confidence interval {float(values['hazard_ratio_ci_low']):.2f}–"
                     f"{float(values.get('hazard_ratio_ci_high')):.2f})")
        rows.append((label, text))
    if "metric" in values and "value" in values:
        rows.append(("your value", threshold(values.get("metric"), values.get("value"), units, unit=values.get("unit", ""))))
        rows.append(("your threshold", threshold(values.get("metric"), values.get("threshold"), units, unit=values.get("unit", ""))))
    return rows
