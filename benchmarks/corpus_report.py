"""Every real file of ``../shared/corpus`` through the real import path, with the outcome of each.

Run: ``.venv/bin/python benchmarks/corpus_report.py`` (writes ``benchmarks/corpus_report.md``).

Three passes over the 138 files of the corpus (public test files of python-fitparse, fitdecode, Garmin's
FIT SDK, gpxpy and sports-lib, including their deliberately broken ones):

1. **Import**: the corpus is copied into a temporary folder and imported as one folder by
   :func:`loadwatch.ingest.importer.import_paths` into a temporary store, with worker processes and a per-file time
   limit, exactly as ``loadwatch import`` does.  Each file's outcome: imported, duplicate (same content
   or the same run as another file), skipped (not an activity) or failed (with the runner-facing reason).
2. **Read**: each file's bytes through :func:`loadwatch.ingest.sources.read_activity` in-process, timed, under an
   alarm; FIT files are also offered to the fast decoder (``loadwatch.ingest.fit_fast``) to say which decoder reads
   them (``fast``, or ``fitdecode`` with the reason the fast path declined).

3. **Damaged copies** (issue 17): every file that reads as an activity is damaged
   :data:`DAMAGED_COPIES` times the way real files get damaged (``tests/fuzzlib.damaged_copies``, the
   same recipes the fuzz tests use: cut short, or 1-200 junk bytes inserted, overwritten or deleted at
   5-98% of the file; derandomised) and read again.  The **salvage rate** (share of damaged copies that
   still read as an activity) and the share of the undamaged file's points kept are printed for FIT and
   for GPX/TCX side by side.

Counts: imported, duplicate, skipped, failed with a clear error, **crashes** (an exception other than
``IngestError``/``NotAnActivity``, an importer "internal error", or a worker process dying) and **hangs**
(over the time limit).  The last two must be zero; :func:`main` exits 1 otherwise.  The corpus files are
never copied into the repository; when the folder is absent the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CORPUS_DIR = REPO.parent / "shared" / "corpus"
REPORT_PATH = Path(__file__).resolve().parent / "corpus_report.md"

#: Per-file time limits [s].  The biggest corpus file (3.5 MB FIT) reads in about a second.
IMPORT_TIMEOUT_S: float = 60.0
READ_TIMEOUT_S: float = 30.0
#: Damaged copies made of each activity file (the damage kinds take turns).
DAMAGED_COPIES: int = 8


@dataclass
class FileResult:
    path: str  # corpus path (as in MANIFEST.tsv)
    kind: str = ""
    category: str = ""
    size_b: int = 0
    outcome: str = ""  # imported | duplicate | skipped | failed | missing
    reason: str = ""
    read: str = ""  # activity | not_an_activity | ingest_error | crash | hang
    read_detail: str = ""
    seconds: float = float("nan")
    decoder: str = ""
    crash: bool = False
    hang: bool = False
    #: What the file became in the store: "running / trail", "cycling"; its notes (partial, left out...)
    became: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict)


def manifest_rows(corpus: Path) -> list[dict]:
    with (corpus / "MANIFEST.tsv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _mirror(corpus: Path, rows: list[dict], into: Path) -> Path:
    """Copy every manifest file into ``into/corpus/<path>`` (a temporary folder, so names shown by the
    importer are ``corpus/<manifest path>`` and unique).  Copies, not symlinks: the importer follows no
    link out of the folder it is given (issue 22)."""
    root = into / "corpus"
    for row in rows:
        target = corpus / row["path"]
        copy = root / row["path"]
        copy.parent.mkdir(parents=True, exist_ok=True)
        if target.is_file():
            shutil.copyfile(target, copy)
    return root


class _Alarm(BaseException):  # noqa: N818  BaseException: a reader's ``except Exception`` cannot hide it
    pass


def _read_one(data: bytes, name: str, timeout_s: float) -> tuple[str, str, float]:
    """(read outcome, detail, seconds) for one file through read_activity, in-process."""
    from loadwatch.ingest.errors import IngestError, NotAnActivity
    from loadwatch.ingest.sources import read_activity

    def alarm(signum, frame):
        raise _Alarm

    old = signal.signal(signal.SIGALRM, alarm)
    prev_delay, prev_interval = signal.setitimer(signal.ITIMER_REAL, timeout_s)
    t0 = time.perf_counter()
    try:
        act = read_activity(data, name)
        s = act.summary
        detail = f"{s.sport}, {s.distance_m / 1000:.2f} km, {len(act.samples)} samples" + (
            ", partial" if s.partial else "")
        return "activity", detail, time.perf_counter() - t0
    except _Alarm:
        return "hang", f"over {timeout_s:g} s", time.perf_counter() - t0
    except NotAnActivity as exc:
        return "not_an_activity", exc.reason, time.perf_counter() - t0
    except IngestError as exc:
        return "ingest_error", exc.problem, time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - that is what this report is for
        return "crash", f"{type(exc).__name__}: {exc}", time.perf_counter() - t0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if prev_delay > 0:  # give back an outer alarm (pytest-timeout's) with the time it has left
            signal.setitimer(signal.ITIMER_REAL, max(prev_delay - (time.perf_counter() - t0), 0.001), prev_interval)


def _decoder(data: bytes, name: str) -> str:
    """Which decoder reads a FIT file: the fast path, or fitdecode (and why the fast path declined)."""
    from loadwatch.ingest import fit_fast
    from loadwatch.ingest.sources import gunzip

    if data[:2] == b"\x1f\x8b":
        data = gunzip(data, name)
    if len(data) < 12 or data[8:12] != b".FIT":
        return ""
    try:
        fit_fast.decode(data)
    except fit_fast.FastPathDeclined as exc:
        return f"fitdecode ({exc.reason})"
    except Exception as exc:  # noqa: BLE001 - a fast-path bug: read_fit falls back, but report it
        return f"fitdecode (fast path crashed: {type(exc).__name__}: {exc})"
    return "fast"


def run(corpus: Path = CORPUS_DIR, *, workers: int = 2, import_timeout_s: float = IMPORT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S) -> list[FileResult]:
    """Both passes over the corpus; one :class:`FileResult` per manifest row."""
    from loadwatch.ingest.importer import import_paths, timeout_message
    from loadwatch.ingest.store import Store

    rows = manifest_rows(corpus)
    results = {r["path"]: FileResult(r["path"], r["kind"], r["category"], int(r["bytes"] or 0)) for r in rows}
    with tempfile.TemporaryDirectory(prefix="loadwatch-corpus-") as tmp:
        root = _mirror(corpus, rows, Path(tmp))
        with Store(Path(tmp) / "corpus.sqlite3") as store:
            outcomes = import_paths(store, [root], workers=workers, timeout_s=import_timeout_s)
            became = _became(store)
            # a file imported first may have been replaced by a better twin later in the batch: the files
            # table holds where each file ended up
            final = {name: (outcome, activity_id, reason) for name, outcome, activity_id, reason in store._query(
                "SELECT file_name, outcome, activity_id, reason FROM files")}
    timeout_reason = timeout_message(import_timeout_s)
    for o in outcomes:
        path = o.name.removeprefix("corpus/")
        res = results.get(path)
        if res is None:  # a member of an archive, or a name the importer changed: keep it visible
            res = results.setdefault(path, FileResult(path, category="(not in manifest)"))
        res.outcome, res.reason = o.status, o.reason
        aid = o.activity_id
        if o.name in final and o.status == "imported" and final[o.name][0] == "duplicate":
            res.outcome, aid, res.reason = "duplicate", final[o.name][1], final[o.name][2]
        if aid in became:
            res.became, res.notes = became[aid]
        if o.status == "failed" and o.reason == timeout_reason:
            res.hang = True
        if o.status == "failed" and "internal error" in o.reason:
            res.crash = True
    for res in results.values():
        path = corpus / res.path
        if not res.outcome:
            res.outcome = "missing" if not path.is_file() else "not reported"
            res.crash = res.crash or path.is_file()  # a file the importer silently dropped is a bug
        if not path.is_file():
            continue
        data = path.read_bytes()
        name = Path(res.path).name
        res.read, res.read_detail, res.seconds = _read_one(data, name, read_timeout_s)
        res.crash = res.crash or res.read == "crash"
        res.hang = res.hang or res.read == "hang"
        if res.kind == "fit":
            res.decoder = _decoder(data, name)
    return sorted(results.values(), key=lambda r: r.path)


def _read_damaged(data: bytes, name: str, timeout_s: float) -> tuple[str, int, bool, bool]:
    """(outcome, samples kept, partial, with warnings) for one damaged copy; outcome as in
    :func:`_read_one`."""
    from loadwatch.ingest.errors import IngestError, NotAnActivity
    from loadwatch.ingest.sources import read_activity

    def alarm(signum, frame):
        raise _Alarm

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        act = read_activity(data, name)
        return "activity", len(act.samples), bool(act.summary.partial), bool(act.summary.warnings)
    except _Alarm:
        return "hang", 0, False, False
    except NotAnActivity:
        return "not_an_activity", 0, False, False
    except IngestError:
        return "ingest_error", 0, False, False
    except Exception:  # noqa: BLE001 - that is what this report is for
        return "crash", 0, False, False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def salvage(corpus: Path, results: list[FileResult], *, copies: int = DAMAGED_COPIES,
            read_timeout_s: float = READ_TIMEOUT_S) -> dict[str, dict]:
    """Damaged copies of every corpus file that reads as an activity, by family ("FIT", "GPX/TCX"):
    files, copies, salvaged (still an activity), partial and warned (of those, marked partial / with a
    plain-words warning), points
    kept (mean share of the undamaged file's samples), crashes, hangs, and the same by damage kind."""
    from loadwatch.ingest.sources import read_activity
    from tests.fuzzlib import DAMAGE_KINDS, damaged_copies

    out: dict[str, dict] = {}
    for i, res in enumerate(results):
        path = corpus / res.path
        if res.read != "activity" or res.kind not in ("fit", "gpx", "tcx") or not path.is_file():
            continue
        data = path.read_bytes()
        n_full = len(read_activity(data, res.path).samples)
        fam = out.setdefault("FIT" if res.kind == "fit" else "GPX/TCX", {
            "files": 0, "copies": 0, "salvaged": 0, "partial": 0, "warned": 0, "kept_share": 0.0, "crashes": 0, "hangs": 0,
            "by_kind": {k: [0, 0] for k in DAMAGE_KINDS}})
        fam["files"] += 1
        for kind, bad in damaged_copies(data, copies, seed=i):
            outcome, n, partial, warned = _read_damaged(bad, f"{kind}-{Path(res.path).name}", read_timeout_s)
            fam["copies"] += 1
            fam["by_kind"][kind][1] += 1
            fam["crashes"] += outcome == "crash"
            fam["hangs"] += outcome == "hang"
            if outcome == "activity":
                fam["salvaged"] += 1
                fam["partial"] += partial
                fam["warned"] += warned
                fam["by_kind"][kind][0] += 1
                fam["kept_share"] += min(n / n_full, 1.0) if n_full else 0.0
    return out


def _rate(num: int, den: int) -> str:
    return f"{num / den:.1%}" if den else "–"


def salvage_lines(stats: dict[str, dict]) -> list[str]:
    """The damaged-copies section of the report (empty without stats)."""
    if not stats:
        return []
    from tests.fuzzlib import DAMAGE_KINDS

    lines = [
        "## Damaged copies: salvage rates",
        "",
        f"Every file above that reads as an activity, damaged {DAMAGED_COPIES} times the way real files get",
        "damaged (`tests/fuzzlib.damaged_copies`, the fuzz tests' recipes: cut short, or 1-200 junk bytes",
        "inserted, overwritten or deleted at 5-98% of the file; derandomised), then read again by",
        "`read_activity`. *Salvaged*: the damaged copy still reads as an activity; *partial* / *warned*: of",
        "those, how many are marked `partial` / carry a plain-words warning (damage that only hit",
        "whitespace leaves a sound file); *points kept*: mean share of the undamaged file's points, over all",
        "damaged copies.",
        "",
        "| family | files | damaged copies | salvaged | **salvage rate** | partial | warned | points kept | "
        + " | ".join(f"{k}" for k in DAMAGE_KINDS) + " | crashes | hangs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(DAMAGE_KINDS) + "---:|---:|",
    ]
    for fam in sorted(stats, key=lambda f: f != "FIT"):
        s = stats[fam]
        kinds = " | ".join(_rate(*s["by_kind"][k]) for k in DAMAGE_KINDS)
        lines.append(f"| {fam} | {s['files']} | {s['copies']} | {s['salvaged']} | "
                     f"**{_rate(s['salvaged'], s['copies'])}** | {s['partial']} | {s['warned']} | "
                     f"{s['kept_share'] / s['copies']:.1%} | {kinds} | {s['crashes']} | {s['hangs']} |")
    lines.append("")
    return lines


def salvage_summary(stats: dict[str, dict]) -> str:
    """One line for the terminal: the salvage rate of each family."""
    return "salvage rate: " + ", ".join(
        f"{fam} {_rate(s['salvaged'], s['copies'])} ({s['salvaged']}/{s['copies']})"
        for fam, s in sorted(stats.items(), key=lambda kv: kv[0] != "FIT"))


def _became(store) -> dict[str, tuple[str, str]]:
    """Activity id -> (sport / surface as the store now says, plain-words notes)."""
    from loadwatch.metrics.surface import surfaces

    acts = store.activities()
    if acts.empty:
        return {}
    surface = surfaces(acts).tolist()
    out = {}
    for i, row in enumerate(acts.itertuples(index=False)):
        what = row.sport + (f" / {surface[i]}" if row.sport == "running" else "")
        notes = [f"left out: {row.excluded_reason}"] if row.excluded_reason else []
        notes += [w for w in row.warnings if not (row.excluded_reason and w.endswith(row.excluded_reason))]
        out[row.id] = (what, "; ".join(notes))
    return out


def counts(results: list[FileResult]) -> dict[str, int]:
    c = Counter(r.outcome for r in results)
    return {
        "files": len(results),
        "imported": c["imported"],
        "replaced": c["replaced"],
        "duplicate": c["duplicate"],
        "skipped": c["skipped"],
        "failed_clear_error": sum(1 for r in results if r.outcome == "failed" and not (r.crash or r.hang)),
        "crashes": sum(1 for r in results if r.crash),
        "hangs": sum(1 for r in results if r.hang),
        "fit_fast": sum(1 for r in results if r.decoder == "fast"),
        "fit_fitdecode": sum(1 for r in results if r.decoder.startswith("fitdecode")),
    }


def _cell(text: str, limit: int = 110) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(results: list[FileResult], totals: dict[str, int], *, elapsed_s: float,
           salvage_stats: dict[str, dict] | None = None) -> str:
    lines = [
        "# Corpus report",
        "",
        "Generated by `benchmarks/corpus_report.py` (re-run it to refresh this file). Every file of",
        "`../shared/corpus` (public test files of python-fitparse, fitdecode, Garmin's FIT SDK, gpxpy and",
        "sports-lib, deliberately broken ones included) imported as one folder by",
        f"`loadwatch.ingest.importer.import_paths` (2 worker processes, {IMPORT_TIMEOUT_S:g} s per-file limit) into a",
        f"temporary store, then read again in-process by `read_activity` under a {READ_TIMEOUT_S:g} s alarm",
        "(the *seconds* column). *Decoder*: which FIT decoder reads the file (the fast path declines what it",
        "cannot reproduce exactly and fitdecode reads it).",
        "",
        "**Outcome** is the importer's: *imported*; *replaced* (a better copy of a run already imported,",
        "e.g. the complete file of a damaged one); *duplicate* (the same bytes, or the same run already",
        "imported from another file: the corpus holds copies); *skipped* (a valid file that is not an",
        "activity: settings, workouts, routes...); *failed* with the reason the runner sees.",
        "**Sport / surface**: what the kept activity is in the store (for a duplicate: the run it is a copy",
        "of); surface for runs only. **Notes**: the plain-words warnings the runner sees (partial files, GPS",
        "jumps cut, heart rates out of range) and why an activity is left out of the load.",
        "",
        "## Counts",
        "",
        "| | files |",
        "|---|---:|",
        f"| files | {totals['files']} |",
        f"| imported | {totals['imported']} |",
        f"| replaced (a better copy of a run) | {totals['replaced']} |",
        f"| duplicate | {totals['duplicate']} |",
        f"| skipped (not an activity) | {totals['skipped']} |",
        f"| failed with a clear error | {totals['failed_clear_error']} |",
        f"| **crashes** (uncaught exception, internal error, worker died) | **{totals['crashes']}** |",
        f"| **hangs** (over the time limit) | **{totals['hangs']}** |",
        f"| FIT read by the fast decoder / by fitdecode | {totals['fit_fast']} / {totals['fit_fitdecode']} |",
        "",
        f"Whole run: {elapsed_s:.0f} s.",
        "",
        *salvage_lines(salvage_stats or {}),
        "## Files",
        "",
        "| file | kind | category | outcome | reason | sport / surface | notes | read | seconds | decoder |",
        "|---|---|---|---|---|---|---|---|---:|---|",
    ]
    for r in results:
        flag = " **CRASH**" if r.crash else (" **HANG**" if r.hang else "")
        read = r.read + (f": {r.read_detail}" if r.read_detail and r.read != "activity" else "")
        if r.read == "activity":
            read = f"activity ({r.read_detail})"
        secs = "" if r.seconds != r.seconds else f"{r.seconds:.2f}"
        lines.append(f"| `{_cell(r.path, 90)}` | {r.kind} | {_cell(r.category, 40)} | {r.outcome}{flag} | "
                     f"{_cell(r.reason)} | {_cell(r.became or '–', 40)} | {_cell(r.notes or '–', 160)} | "
                     f"{_cell(read, 90)} | {secs} | {_cell(r.decoder, 80)} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    parser.add_argument("--out", type=Path, default=REPORT_PATH)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not (args.corpus / "MANIFEST.tsv").is_file():
        print(f"corpus report: {args.corpus} is absent; nothing to do")
        return 0
    logging.basicConfig(level=logging.ERROR)
    os.environ.setdefault("LOADWATCH_DB", os.devnull)  # never the runner's own store
    t0 = time.perf_counter()
    results = run(args.corpus, workers=args.workers)
    totals = counts(results)
    stats = salvage(args.corpus, results)
    args.out.write_text(render(results, totals, elapsed_s=time.perf_counter() - t0, salvage_stats=stats),
                        encoding="utf-8")
    print(" ".join(f"{k}={v}" for k, v in totals.items()))
    print(salvage_summary(stats))
    print(f"wrote {args.out}")
    for r in results:
        if r.crash or r.hang:
            print(f"{'CRASH' if r.crash else 'HANG'} {r.path}: {r.reason or r.read_detail}", file=sys.stderr)
    damaged_bad = sum(s["crashes"] + s["hangs"] for s in stats.values())
    if damaged_bad:
        print(f"{damaged_bad} damaged copies crashed or hung", file=sys.stderr)
    return 1 if totals["crashes"] or totals["hangs"] or damaged_bad else 0


if __name__ == "__main__":
    sys.exit(main())
