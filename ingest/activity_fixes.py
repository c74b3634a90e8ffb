"""What the store keeps about an activity beyond the file's own figures (issue 12): warnings, exclusion,
names and surfaces from archive metadata, the runner's corrections, routes.

The SQL and the functions live here; :class:`loadwatch.ingest.store.Store` keeps thin methods that delegate.

Columns added to ``activities`` by :func:`migrate`:

* derived from the file (re-derived by ``loadwatch rebuild``): ``warnings`` (JSON list of plain words),
  ``excluded_reason``, ``surface`` (what the file implies, e.g. a run without GPS: treadmill), ``route``
  (JSON list of up to :data:`ROUTE_POINTS` ``[lat, lon]``), ``rules_version`` (the
  :data:`RULES_VERSION` it was derived with; NULL = written by an older loadwatch);
* from archive metadata: ``name``, ``meta_sport``, ``meta_surface``;
* the runner's corrections (kept by rebuild, moved to the kept twin): ``sport_override``,
  ``distance_override_m``, ``name_override``, ``confirmed`` (the runner vouched for an excluded activity),
  plus the older ``surface_override`` and ``rpe``.

``route_surfaces`` holds the surfaces a runner set with ``--same-route``: applied to every run of that
route, past and future.
"""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pandas as pd

from loadwatch.ingest.canonical import as_block

#: Version of the derivation rules (readers + :mod:`ingest.plausible` + metadata).  Activities written
#: with an older version are offered a rebuild.
RULES_VERSION: int = 1

#: Points kept per activity to recognise a route.
ROUTE_POINTS: int = 64

#: Two runs share a route when they start within this distance [m] ...
SAME_START_M: float = 200.0
#: ... and this fraction of each track lies within :data:`ROUTE_NEAR_M` of the other.
SAME_ROUTE_SHARED_FRAC: float = 0.80
ROUTE_NEAR_M: float = 60.0

#: Columns the runner or an archive set, which follow a run to the twin that replaces it.  A run's pair of
#: shoes (issue 15) lives in its own table, ``activity_shoes``, and follows it the same way through
#: :func:`ingest.shoes.relink` / :func:`ingest.shoes.fold` wherever these columns are carried.
CARRIED_COLUMNS: list[str] = [
    "surface_override", "rpe", "sport_override", "distance_override_m", "name_override", "confirmed",
    "name", "meta_sport", "meta_surface",
]

#: The runner's own corrections (kept by a rebuild whatever the file says).
CORRECTION_COLUMNS: tuple[str, ...] = (
    "surface_override", "rpe", "sport_override", "distance_override_m", "name_override", "confirmed",
)

_NEW_COLUMNS = (
    ("warnings", "TEXT NOT NULL DEFAULT '[]'"),
    ("excluded_reason", "TEXT"),
    ("surface", "TEXT"),
    ("route", "TEXT"),
    ("rules_version", "INTEGER"),
    ("name", "TEXT"),
    ("meta_sport", "TEXT"),
    ("meta_surface", "TEXT"),
    ("sport_override", "TEXT"),
    ("distance_override_m", "REAL"),
    ("name_override", "TEXT"),
    ("confirmed", "INTEGER NOT NULL DEFAULT 0"),
)


def migrate(conn: sqlite3.Connection) -> None:
    """Schema step: the columns above and the ``route_surfaces`` table."""
    for name, decl in _NEW_COLUMNS:
        conn.execute(f"ALTER TABLE activities ADD COLUMN {name} {decl}")
    conn.execute(
        "CREATE TABLE route_surfaces (id INTEGER PRIMARY KEY AUTOINCREMENT, route TEXT NOT NULL,"
        " surface TEXT NOT NULL, created_at TEXT NOT NULL)")


# --- routes -----------------------------------------------------------------------------------------------

def route_of(samples) -> str | None:
    """Up to :data:`ROUTE_POINTS` GPS points evenly spread over the track, as JSON; None without GPS
    (``samples``: a frame or a :class:`~loadwatch.ingest.canonical.SampleBlock`)."""
    if samples is None or len(samples) == 0:
        return None
    block = as_block(samples)
    lat = block.column("lat_deg")
    lon = block.column("lon_deg")
    ok = np.isfinite(lat) & np.isfinite(lon)
    if ok.sum() < 2:
        return None
    idx = np.flatnonzero(ok)
    pick = idx[np.unique(np.linspace(0, len(idx) - 1, min(ROUTE_POINTS, len(idx))).round().astype(int))]
    return json.dumps([[round(float(lat[i]), 5), round(float(lon[i]), 5)] for i in pick])


def _points(route) -> np.ndarray | None:
    if not route:
        return None
    try:
        arr = np.asarray(json.loads(route), dtype="float64").reshape(-1, 2)
    except (ValueError, TypeError):
        return None
    return arr if len(arr) >= 2 else None


def _dist_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise distances [m] between points of ``a`` (n x 2) and ``b`` (m x 2) (equirectangular: routes
    are local)."""
    lat0 = np.radians(a[:, 0].mean())
    dy = (a[:, None, 0] - b[None, :, 0]) * 111_320.0
    dx = (a[:, None, 1] - b[None, :, 1]) * 111_320.0 * math.cos(lat0)
    return np.hypot(dx, dy)


def same_route(route_a, route_b) -> bool:
    """Both tracks start within :data:`SAME_START_M` and each has >= :data:`SAME_ROUTE_SHARED_FRAC` of
    its points within :data:`ROUTE_NEAR_M` of the other."""
    a, b = _points(route_a), _points(route_b)
    if a is None or b is None:
        return False
    if _dist_m(a[:1], b[:1])[0, 0] > SAME_START_M:
        return False
    d = _dist_m(a, b)
    shared_a = (d.min(axis=1) <= ROUTE_NEAR_M).mean()
    shared_b = (d.min(axis=0) <= ROUTE_NEAR_M).mean()
    return bool(min(shared_a, shared_b) >= SAME_ROUTE_SHARED_FRAC)


def route_surface(conn: sqlite3.Connection, route: str | None) -> str | None:
    """The surface the runner set for this route with ``--same-route`` (the latest), or None."""
    if not route:
        return None
    for saved, surface in conn.execute("SELECT route, surface FROM route_surfaces ORDER BY id DESC"):
        if same_route(route, saved):
            return surface
    return None


# --- reading -----------------------------------------------------------------------------------------------

def warnings_list(text) -> list[str]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def effective(frame: pd.DataFrame, default_surface: str | None = None) -> pd.DataFrame:
    """The activities frame as the runner means it: corrections and metadata applied.

    ``sport`` = the runner's > the archive's > the file's; ``distance_m`` = the runner's > the file's;
    ``name`` = the runner's > the archive's; ``surface_hint`` = the archive's > the file's > the
    runner's ``default_surface`` (for runs; ``loadwatch.metrics.surface`` puts the runner's override and the
    sub-sport first); ``excluded_reason`` is None once the runner confirmed or corrected the activity;
    ``warnings`` a list of str.  Internal columns are dropped.
    """
    out = frame.copy()
    out["sport_from_file"] = out["sport"]
    for col, over in (("sport", "meta_sport"), ("sport", "sport_override")):
        mask = out[over].notna()
        out.loc[mask, col] = out.loc[mask, over]
    dist = pd.to_numeric(out["distance_override_m"], errors="coerce")
    out["distance_corrected"] = dist.notna()
    out["distance_m"] = dist.where(dist.notna(), out["distance_m"]).astype("float64")
    out["name"] = out["name_override"].where(out["name_override"].notna(), out["name"])
    hint = out["meta_surface"].where(out["meta_surface"].notna(), out["surface"])
    if default_surface:
        hint = hint.where(hint.notna() | (out["sport"] != "running"), default_surface)
    out["surface_hint"] = hint.astype(object).where(hint.notna(), None)
    confirmed = out["confirmed"].fillna(0).astype(bool) | out["sport_override"].notna() | out["distance_corrected"]
    out["excluded_reason"] = out["excluded_reason"].where(~confirmed, None)
    out["excluded_reason"] = out["excluded_reason"].astype(object).where(out["excluded_reason"].notna(), None)
    out["name"] = out["name"].astype(object).where(out["name"].notna(), None)
    out["warnings"] = pd.Series([warnings_list(w) for w in out["warnings"]], index=out.index, dtype=object)
    out["corrected"] = (out["sport_override"].notna() | out["distance_corrected"] | out["name_override"].notna()
                        | out["surface_override"].notna() | out["confirmed"].fillna(0).astype(bool))
    return out.drop(columns=["meta_sport", "meta_surface", "sport_override", "distance_override_m", "name_override",
                             "surface", "route", "rules_version", "confirmed", "distance_corrected"])


# --- corrections -------------------------------------------------------------------------------------------

#: Longest distance a correction may set [km] (a typo guard, not a limit on ultras).
MAX_CORRECTED_KM: float = 1000.0


def correct(conn: sqlite3.Connection, activity_id: str, *, sports, surfaces, sport=None, surface=None,
            same_route=False, distance_km=None, rpe=None, name=None, confirm=False) -> dict:
    """Write the runner's corrections to one activity (inside the caller's transaction); see
    :meth:`loadwatch.ingest.store.Store.correct_activity`."""
    row = conn.execute("SELECT route, excluded_reason FROM activities WHERE id = ?", (activity_id,)).fetchone()
    if row is None:
        raise KeyError(f"no activity with id {activity_id}")
    route, excluded = row
    updates, changed = _corrections(sports=sports, surfaces=surfaces, sport=sport, surface=surface,
                                    distance_km=distance_km, rpe=rpe, name=name, confirm=confirm)
    if updates:
        conn.execute(f"UPDATE activities SET {', '.join(f'{k} = ?' for k in updates)} WHERE id = ?",
                     (*updates.values(), activity_id))
    others: list[str] = []
    if same_route:
        if surface is None:
            raise ValueError("--same-route applies a surface: give --surface too")
        if not route:
            raise ValueError("this activity has no GPS track, so its route cannot be recognised")
        others = _surface_same_route(conn, activity_id, route, updates["surface_override"])
    confirmed = bool(updates.get("confirmed")) or "sport_override" in updates or "distance_override_m" in updates
    still = None if confirmed else excluded
    if still and conn.execute("SELECT confirmed OR sport_override IS NOT NULL OR distance_override_m IS NOT NULL"
                              " FROM activities WHERE id = ?", (activity_id,)).fetchone()[0]:
        still = None
    return {"id": activity_id, "changed": changed, "same_route_ids": others, "excluded_reason": still}


def _corrections(*, sports, surfaces, sport, surface, distance_km, rpe, name, confirm) -> tuple[dict, dict]:
    """``(updates, changed)``: the activities columns to set and what the runner changed, in words the
    faces show back.  Raises :class:`ValueError` naming the value that is not allowed."""
    updates: dict = {}
    changed: dict = {}
    if sport is not None:
        updates["sport_override"] = changed["sport"] = _one_of(sport, sports, "sport")
    if surface is not None:
        text = _one_of(surface, surfaces, "surface")
        updates["surface_override"] = None if text == "unknown" else text
        changed["surface"] = text
    if distance_km is not None:
        km = _number(distance_km, lambda v: 0 < v <= MAX_CORRECTED_KM,
                     "distance must be a number of kilometres",
                     f"distance must be above 0 and at most {MAX_CORRECTED_KM:g} km")
        updates["distance_override_m"] = km * 1000.0
        changed["distance_km"] = km
    if rpe is not None:
        updates["rpe"] = changed["rpe"] = _number(rpe, lambda v: 0 <= v <= 10, "RPE must be a number from 0 to 10",
                                                  "RPE must be a number from 0 to 10")
    if name is not None:
        text = str(name).strip()
        updates["name_override"] = text or None
        changed["name"] = text
    if confirm:
        updates["confirmed"] = 1
        changed["confirmed"] = True
    return updates, changed


def _one_of(value, allowed, what: str) -> str:
    text = str(value).strip().lower()
    if text not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)} (got {value!r})")
    return text


def _number(value, ok, not_a_number: str, out_of_range: str) -> float:
    """``value`` as a finite float for which ``ok`` holds; else :class:`ValueError` with the message that
    fits, ending in what was given."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{not_a_number} (got {value!r})") from None
    if not (math.isfinite(number) and ok(number)):
        raise ValueError(f"{out_of_range} (got {value!r})")
    return number


def _surface_same_route(conn: sqlite3.Connection, activity_id: str, route: str, surface: str | None) -> list[str]:
    """Remember ``surface`` for ``route`` and set it on every other activity on the same route; their ids."""
    conn.execute("INSERT INTO route_surfaces (route, surface, created_at) VALUES (?, ?, datetime('now'))",
                 (route, surface or "unknown"))
    others = []
    for oid, oroute in conn.execute(
            "SELECT id, route FROM activities WHERE id != ? AND route IS NOT NULL", (activity_id,)).fetchall():
        if same_route_fn(route, oroute):
            conn.execute("UPDATE activities SET surface_override = ? WHERE id = ?", (surface, oid))
            others.append(oid)
    return others


same_route_fn = same_route
