"""The layering, checked on the source (every import, also those inside functions):

* nothing imports ``coalition.cli`` (except the CLI itself);
* the dashboard imports nothing from ``coalition.api``: it calls domain query functions;
* domain and engine packages import no interface (api, dashboard, cli);
* interfaces do not import each other, except the two composition points named here.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import coalition

ROOT = Path(coalition.__file__).resolve().parent
INTERFACES = ("api", "dashboard", "cli")
# The only interface-to-interface edges: the app factory mounts the dashboard's router, and
# `coalition serve` starts the app.
COMPOSITION = {("api.app", "dashboard"), ("cli.serve_cmds", "api")}


@lru_cache(maxsize=1)
def imports() -> list[tuple[str, str, int]]:
    out = []
    for path in ROOT.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                if t.startswith("coalition."):
                    out.append((module, t[len("coalition."):], node.lineno))
    return out


def top(name: str) -> str:
    return name.split(".")[0]


def test_the_scan_sees_imports() -> None:
    edges = imports()
    assert ("api.routers.plans", "planner.runs", 18) in {(m, t, n) for m, t, n in edges} or any(
        m == "api.routers.plans" and t.startswith("planner") for m, t, _ in edges)
    assert len(edges) > 300


def test_nothing_imports_the_cli() -> None:
    bad = [(m, t, n) for m, t, n in imports() if top(t) == "cli" and top(m) != "cli"]
    assert not bad, bad


def test_dashboard_does_not_import_api_internals() -> None:
    bad = [(m, t, n) for m, t, n in imports() if top(m) == "dashboard" and top(t) == "api"]
    assert not bad, bad


def test_domain_and_engines_import_no_interface() -> None:
    bad = [(m, t, n) for m, t, n in imports()
           if top(m) not in INTERFACES and top(t) in INTERFACES]
    assert not bad, bad


def test_interfaces_do_not_import_each_other() -> None:
    bad = [(m, t, n) for m, t, n in imports()
           if top(m) in INTERFACES and top(t) in INTERFACES and top(m) != top(t)
           and (".".join(m.split(".")[:2]), top(t)) not in COMPOSITION]
    assert not bad, bad


def test_scenario_does_not_import_analysis() -> None:
    """The scenario package owns the uncertainty section (schema and validation); the analysis
    reads scenarios, never the other way round (issue 14: validation used to import it)."""
    bad = [(m, t, n) for m, t, n in imports() if top(m) == "scenario" and top(t) == "analysis"]
    assert not bad, bad
