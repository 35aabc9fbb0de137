"""CONTRIBUTING.md's package map is a contract: this test reads it and checks the source.

* every package in ``src/coalition/`` has exactly one line;
* every import from one package into another is listed under that package's ``may import``;
* in every package except the interfaces and ``store``, only the modules listed under
  ``state in`` import SQLAlchemy or ``coalition.store`` (everything else is pure logic);
* every module the recipes name exists.
"""

from __future__ import annotations

import ast
import importlib
import re
from functools import lru_cache
from pathlib import Path

import pytest

import coalition
from importscan import runtime_nodes

SRC = Path(coalition.__file__).resolve().parent
GUIDE = SRC.parent.parent / "CONTRIBUTING.md"
LINE = re.compile(r"^- \*\*(?P<pkg>\w+)\*\* — (?P<what>.+?) · may import: (?P<deps>[\w, ]+?)"
                  r"(?: · state in: (?P<state>[\w, ]+))?\s*$")
INTERFACES = {"api", "dashboard", "cli"}
SINGLE = {"errors", "settings", "geo"}  # top-level modules, described in prose


@lru_cache(maxsize=1)
def package_map() -> dict[str, tuple[set[str], set[str]]]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Package map", 1)[1].split("\n## ", 1)[0]
    out: dict[str, tuple[set[str], set[str]]] = {}
    for line in section.splitlines():
        if not line.startswith("- **"):
            continue
        m = LINE.match(line)
        assert m, f"CONTRIBUTING.md package-map line does not parse: {line!r}"
        assert m["pkg"] not in out, f"{m['pkg']} has two lines"
        split = lambda s: {x.strip() for x in (s or "").split(",") if x.strip()}  # noqa: E731
        out[m["pkg"]] = (split(m["deps"]), split(m["state"]))
    return out


def _runtime_imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return names


def _packages() -> list[str]:
    return sorted(p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def test_every_package_has_one_line() -> None:
    assert set(package_map()) == set(_packages())


@pytest.mark.parametrize("pkg", _packages())
def test_imports_follow_the_map(pkg: str) -> None:
    allowed, _ = package_map()[pkg]
    assert allowed <= set(_packages()) | SINGLE, f"{pkg}: map names unknown packages"
    bad = set()
    for path in (SRC / pkg).rglob("*.py"):
        for name in _runtime_imports(path):
            if not name.startswith("coalition.") or name == "coalition.__version__":
                continue
            target = name.split(".")[1]
            if target != pkg and target not in allowed:
                bad.add(f"{path.relative_to(SRC)} imports {name}")
    assert not bad, sorted(bad)


@pytest.mark.parametrize("pkg", sorted(set(_packages()) - INTERFACES - {"store"}))
def test_only_state_modules_touch_the_database(pkg: str) -> None:
    _, state = package_map()[pkg]
    bad = []
    for path in sorted((SRC / pkg).glob("*.py")):
        touches = any(n == "sqlalchemy" or n.startswith(("sqlalchemy.", "coalition.store"))
                      for n in _runtime_imports(path))
        if touches and path.stem not in state:
            bad.append(path.stem)
    assert not bad, f"{pkg}: pure modules import the database layer: {bad} (or list them under 'state in')"
    missing = [s for s in state if not (SRC / pkg / f"{s}.py").exists()]
    assert not missing, f"{pkg}: 'state in' names missing modules {missing}"


def test_recipes_name_real_code() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for dotted in sorted(set(re.findall(r"`(coalition(?:\.\w+)+)`", text))):
        parts = dotted.split(".")
        for cut in range(len(parts), 1, -1):  # longest importable prefix, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
            break
        else:
            pytest.fail(f"CONTRIBUTING.md names {dotted}, which does not exist")
    for rel in sorted(set(re.findall(r"`(src/coalition/[\w/.-]+|tests/[\w/.-]+)`", text))):
        assert (SRC.parent.parent / rel).exists(), f"CONTRIBUTING.md names {rel}, which does not exist"
