"""Tests mirror modules: every module under ``src/coalition`` is imported by some test file.

A module no ``tests/**/test_*.py`` imports (``import coalition.x.y``, ``from coalition.x.y import
...`` or ``from coalition.x import y``, outside ``if TYPE_CHECKING:``) must be listed in
``tests/mirror_allowlist.txt`` with its kind and a one-line reason:

* ``glue`` — no logic at all: the module has no branch (``if``, loop, ``try``, ``match``,
  conditional expression, ``and``/``or``, comprehension); checked here, so the list cannot call
  a module with logic glue;
* ``migration`` — an Alembic script under ``store/migrations`` (run by ``tests/store``).

A module with logic has no place here: it needs a test module that imports it and calls its
logic directly (tests that drive it only from outside, over HTTP or through the CLI runner, are
not enough).

A package ``__init__`` that holds only a docstring, imports and ``__all__`` needs no entry. The
list fails when an entry is stale: the module is gone, or a test imports it now.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

import coalition
from importscan import runtime_nodes

SRC = Path(coalition.__file__).resolve().parent
TESTS = Path(__file__).resolve().parent
ALLOWLIST = TESTS / "mirror_allowlist.txt"
KINDS = ("glue", "migration")
BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.IfExp, ast.BoolOp, ast.comprehension, ast.Match)


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _reexport_only(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "__all__"
        ):
            continue
        return False
    return True


@lru_cache(maxsize=1)
def modules() -> dict[str, Path]:
    """Every module of the package that needs a test, by dotted name."""
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "__init__.py" and _reexport_only(ast.parse(path.read_text("utf-8"))):
            continue
        out[_name(path)] = path
    return out


def imported_names(tree: ast.AST) -> set[str]:
    """Dotted names a test file imports at run time (``from a import b`` gives ``a`` and
    ``a.b``: ``b`` may be a module)."""
    names: set[str] = set()
    for node in runtime_nodes(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


@lru_cache(maxsize=1)
def importers() -> dict[str, list[str]]:
    """Module name -> the test files that import it."""
    out: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        rel = str(path.relative_to(TESTS))
        for name in imported_names(ast.parse(path.read_text("utf-8"))):
            out.setdefault(name, []).append(rel)
    return out


@lru_cache(maxsize=1)
def allowlist() -> dict[str, tuple[str, str]]:
    """Module name -> (kind, reason), read from ``mirror_allowlist.txt``."""
    out: dict[str, tuple[str, str]] = {}
    for no, raw in enumerate(ALLOWLIST.read_text("utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        where = f"{ALLOWLIST.name}:{no}"
        assert len(parts) == 3, f"{where}: want 'module kind reason', got {raw!r}"
        name, kind, reason = parts
        assert kind in KINDS, f"{where}: kind {kind!r} is not one of {KINDS}"
        assert len(reason.split()) >= 3, f"{where}: {name} needs a reason, not {reason!r}"
        assert name not in out, f"{where}: {name} is listed twice"
        out[name] = (kind, reason)
    return out


def branch_count(path: Path) -> int:
    return sum(isinstance(n, BRANCHES) for n in ast.walk(ast.parse(path.read_text("utf-8"))))


def test_every_module_is_imported_by_a_test_or_listed() -> None:
    missing = sorted(set(modules()) - set(importers()) - set(allowlist()))
    assert not missing, (
        f"no test imports these modules; add tests/<pkg>/test_<module>.py (or, for a module "
        f"without logic, a 'glue' line in {ALLOWLIST.name}): {missing}"
    )


def test_no_allowlisted_module_is_stale() -> None:
    gone = sorted(set(allowlist()) - set(modules()))
    assert not gone, f"{ALLOWLIST.name} lists modules that do not exist (or need no entry): {gone}"
    covered = {m: importers()[m] for m in allowlist() if m in importers()}
    assert not covered, f"a test imports these now; remove them from {ALLOWLIST.name}: {covered}"


@pytest.mark.parametrize("name", sorted(m for m, (k, _r) in allowlist().items() if k == "glue"))
def test_glue_has_no_logic(name: str) -> None:
    path = modules().get(name)
    if path is None:
        pytest.skip("stale entry (reported by test_no_allowlisted_module_is_stale)")
    n = branch_count(path)
    assert n == 0, f"{name} has {n} branches: it has logic, so it needs a test module, not 'glue'"


def test_migrations_are_alembic_scripts() -> None:
    bad = [
        m for m, (k, _r) in allowlist().items() if k == "migration" and not m.startswith("coalition.store.migrations.")
    ]
    assert not bad, f"only Alembic scripts under store/migrations are 'migration': {bad}"


def test_the_scanner_sees_each_import_form() -> None:
    tree = ast.parse(
        "import coalition.a.b\n"
        "from coalition.c.d import thing\n"
        "from coalition.e import f\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import coalition.hidden\n"
        "from .local import x\n"
    )
    names = imported_names(tree)
    assert {"coalition.a.b", "coalition.c.d", "coalition.e.f"} <= names
    assert "coalition.hidden" not in names and not any("local" in n for n in names)
