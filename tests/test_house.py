"""The house holds its shape (issue #23, STYLE.md "Where the house goes next").

Read from the code itself, so a change that breaks the shape fails here rather than in the next
person's head:

* data flows one way: ingest never imports metrics or the faces; metrics never imports the faces,
  streamlit, a database driver or ingest's store, importer and readers (it may read ingest's vocabulary:
  label tables, the settings dataclass);
* faces in rooms: the command line may start the app, the app and the command line may write reports,
  and every face may use the pipelines and the shared pieces at ``dashboard/``'s top; never the other way
  (a report never imports the app, the app never imports the command line, a pipeline never a face);
* no import circle between modules, counting imports inside functions (an import inside a function is
  still an arrow);
* no module imports another module's ``_private`` name;
* the store is a facade over its table modules (``ingest/store.py`` under 300 lines);
* no function over radon complexity 30 without a comment saying why;
* installed under one name: ``import loadwatch.metrics`` works, ``import metrics`` does not.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("ingest", "metrics", "dashboard")
#: the rooms of dashboard/, each allowed to import only the rooms after it in its entry
ROOMS_MAY_IMPORT = {
    "loadwatch.dashboard.cli": ("loadwatch.dashboard.app", "loadwatch.dashboard.report", "loadwatch.dashboard.pipelines"),
    "loadwatch.dashboard.app": ("loadwatch.dashboard.report", "loadwatch.dashboard.pipelines"),
    "loadwatch.dashboard.report": ("loadwatch.dashboard.pipelines",),
    "loadwatch.dashboard.pipelines": (),
}
#: what metrics (pure) must never import: the faces, the drawing and database libraries, ingest's I/O
METRICS_NEVER = ("loadwatch.dashboard", "streamlit", "altair", "sqlite3", "fitdecode", "gpxpy", "lxml",
                 "loadwatch.ingest.store", "loadwatch.ingest.importer", "loadwatch.ingest.sources",
                 "loadwatch.ingest.fit_reader", "loadwatch.ingest.gpx_reader", "loadwatch.ingest.tcx_reader")
MAX_COMPLEXITY = 30


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return "loadwatch." + ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))}


def _resolve(name: str, level: int, here: str, is_package: bool) -> str:
    if level == 0:
        return name
    base = here.split(".") if is_package else here.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


@cache
def imports() -> dict[str, list[tuple[str, str | None, int]]]:
    """module -> [(imported module, imported name or None, line)] at any depth of the file."""
    mods = modules()
    out: dict[str, list[tuple[str, str | None, int]]] = {}
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found: list[tuple[str, str | None, int]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(a.name, None, node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                src = _resolve(node.module or "", node.level, mod, path.name == "__init__.py")
                for a in node.names:
                    if f"{src}.{a.name}" in mods:  # `from package import module`
                        found.append((f"{src}.{a.name}", None, node.lineno))
                    else:
                        found.append((src, a.name, node.lineno))
        out[mod] = found
    return out


def _project_edges() -> dict[str, set[str]]:
    mods = modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for mod, found in imports().items():
        for target, _name, _line in found:
            # importing a.b.c runs a/__init__ and a/b/__init__ too, but those are empty markers here;
            # the arrow is to the module named
            if target in mods and target != mod:
                edges[mod].add(target)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    comps: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in list(modules()):
        if v not in index:
            visit(v)
    return comps


def test_no_import_circle_counting_imports_inside_functions():
    assert _cycles(_project_edges()) == []


def test_the_cycle_finder_finds_a_circle():
    """The check above can fail: a made-up circle a -> b -> c -> a is found."""
    found = _cycles({"loadwatch.ingest.store": {"loadwatch.ingest.rebuild"},
                     "loadwatch.ingest.rebuild": {"loadwatch.ingest.sources"},
                     "loadwatch.ingest.sources": {"loadwatch.ingest.store"}})
    assert found == [["loadwatch.ingest.rebuild", "loadwatch.ingest.sources", "loadwatch.ingest.store"]]


def test_no_module_imports_another_modules_private_name():
    mods = modules()
    private = []
    for mod, found in imports().items():
        for target, name, line in found:
            if target in mods and target != mod and name and name.startswith("_") and not name.startswith("__"):
                private.append(f"{mods[mod].relative_to(REPO)}:{line} imports {target}.{name}")
    assert private == []


def _room(mod: str) -> str | None:
    return next((r for r in ROOMS_MAY_IMPORT if mod == r or mod.startswith(r + ".")), None)


def test_data_flows_one_way():
    wrong = []
    for mod, found in imports().items():
        for target, _name, line in found:
            where = f"{modules()[mod].relative_to(REPO)}:{line} imports {target}"
            if mod.startswith("loadwatch.ingest") and target.startswith(("loadwatch.metrics", "loadwatch.dashboard")):
                wrong.append(where)
            if mod.startswith("loadwatch.metrics") and any(target == n or target.startswith(n + ".")
                                                           for n in METRICS_NEVER):
                wrong.append(where)
            own = _room(mod)
            other = _room(target)
            if own and other != own and other and other not in ROOMS_MAY_IMPORT[own]:
                wrong.append(where + " (against the rooms' order)")
            if own is None and mod.startswith("loadwatch.dashboard.") and other:
                wrong.append(where + " (a shared piece of dashboard/ reaching into a room)")
    assert wrong == []


def test_the_store_is_a_facade():
    lines = (REPO / "ingest" / "store.py").read_text(encoding="utf-8").count("\n")
    assert lines < 300, f"ingest/store.py has {lines} lines: its tables belong in their own modules"


def _why_comment(path: Path, lineno: int) -> bool:
    """A comment on the def line, or within the three lines above it, that says why."""
    src = path.read_text(encoding="utf-8").splitlines()
    near = src[max(0, lineno - 4): lineno]
    return any("complexity" in line.lower() and "#" in line for line in near)


def test_no_function_over_complexity_30_without_a_why():
    from radon.complexity import cc_visit

    over = []
    for path in modules().values():
        for block in cc_visit(path.read_text(encoding="utf-8")):
            for item in [block, *getattr(block, "methods", [])]:
                if item.complexity > MAX_COMPLEXITY and not _why_comment(path, item.lineno):
                    over.append(f"{path.relative_to(REPO)}:{item.lineno} {item.name} {item.complexity}")
    assert over == []


@pytest.mark.parametrize("statement, works", [("import loadwatch.metrics, loadwatch.ingest, loadwatch.dashboard", True),
                                              ("import metrics", False), ("import ingest", False),
                                              ("import dashboard", False)])
def test_installed_under_one_name(tmp_path, statement, works):
    """From any folder (the repository's own included, where the bare folders are on the path)."""
    for cwd in (tmp_path, REPO):
        done = subprocess.run([sys.executable, "-c", statement], cwd=cwd, capture_output=True, text=True, timeout=60)
        assert (done.returncode == 0) is works, (cwd, done.stderr[-400:])
        if not works:
            assert "ModuleNotFoundError" in done.stderr or "import loadwatch." in done.stderr
