"""One-way metrics (issue 23): the import graph of ``metrics/`` read from the source, imports inside
functions included (an import inside a function is still an arrow, STYLE.md).

* no circle;
* the walk daily -> weekly -> timeline (episodes) -> alerts (detector) -> plan -> advice -> report enters
  each room once: a lower room never reaches a higher one, directly or through another module;
* the helpers several rooms share (``loadwatch.metrics.calendar``, ``loadwatch.metrics.fmt``) sit below every room;
* no module of the project imports another module's ``_private`` name from ``metrics``.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

from tests.helpers import reachable

ROOT = Path(__file__).resolve().parents[1]
WALK = ("daily", "weekly", "episodes", "detector", "plan", "advice", "report")
BELOW = ("calendar", "fmt", "thresholds", "units", "rules")


def _module_of(path: Path) -> str:
    return "loadwatch." + ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every import in the file, wherever it stands (name None for ``import x``)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out += [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name, None) for a in node.names]
    return out


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted((ROOT / "metrics").glob("*.py")):
        me = path.stem
        deps = set()
        for module, name in _imports(path):
            if module == "loadwatch.metrics" and name and (ROOT / "metrics" / f"{name}.py").exists():
                deps.add(name)
            elif module.startswith("loadwatch.metrics."):
                deps.add(module.split(".")[2])
        graph[me] = deps - {me}
    return graph


_reach = reachable


def test_the_metrics_graph_has_no_circle():
    order = list(graphlib.TopologicalSorter(_graph()).static_order())  # raises CycleError on a circle
    assert set(WALK) <= set(order)


def test_the_walk_enters_each_room_once():
    graph = _graph()
    for i, room in enumerate(WALK):
        higher = set(WALK[i + 1:]) & _reach(graph, room)
        assert not higher, f"loadwatch.metrics.{room} reaches the higher room(s) {sorted(higher)}"


def test_shared_helpers_sit_below_every_room():
    graph = _graph()
    for helper in BELOW:
        assert not (_reach(graph, helper) & set(WALK)), helper
    assert graph["calendar"] == set()
    # the rooms that used to fetch their dates from the detector now read the calendar
    for room in ("training_sessions", "suggest", "plan", "advice", "rules", "episodes"):
        assert "calendar" in graph[room], room
    assert "detector" not in _reach(graph, "daily") | _reach(graph, "training_sessions") | _reach(graph, "suggest")


def test_no_module_imports_a_private_name_from_metrics():
    found = []
    for folder in ("metrics", "dashboard", "ingest", "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text())
            aliases = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    for a in node.names:
                        if node.module.startswith("loadwatch.metrics") and a.name.startswith("_"):
                            found.append((_module_of(path), f"{node.module}.{a.name}"))
                        if node.module == "loadwatch.metrics":
                            aliases[a.asname or a.name] = f"loadwatch.metrics.{a.name}"
                elif isinstance(node, ast.Import):
                    for a in node.names:
                        if a.name.startswith("loadwatch.metrics.") and a.asname:
                            aliases[a.asname] = a.name
            for node in ast.walk(tree):
                if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                        and node.value.id in aliases and node.attr.startswith("_")
                        and not node.attr.startswith("__") and aliases[node.value.id] != _module_of(path)):
                    found.append((_module_of(path), f"{aliases[node.value.id]}.{node.attr}"))
    assert found == []
