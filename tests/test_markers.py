"""The pytest markers are a contract: each one declared in ``pyproject.toml`` is applied to at
least one test and described in CONTRIBUTING.md, and no test uses an undeclared one (a typo,
``@pytest.mark.slwo``, would otherwise select nothing silently)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from functools import lru_cache
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
BUILTIN = {"parametrize", "skip", "skipif", "xfail", "usefixtures", "filterwarnings"}


def declared() -> dict[str, str]:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    lines = conf["tool"]["pytest"]["ini_options"]["markers"]
    return {name.strip(): what.strip() for name, _, what in (m.partition(":") for m in lines)}


def marks_in(tree: ast.AST) -> set[str]:
    """Names used as ``pytest.mark.NAME`` (decorators, ``pytestmark``, ``add_marker``)."""
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "mark"
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "pytest"
    }


@lru_cache(maxsize=1)
def used() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("*.py")):
        if path == Path(__file__).resolve():
            continue
        for name in marks_in(ast.parse(path.read_text("utf-8"))) - BUILTIN:
            out.setdefault(name, []).append(str(path.relative_to(TESTS)))
    return out


def test_every_declared_marker_is_used() -> None:
    unused = sorted(set(declared()) - set(used()))
    assert not unused, f"declared in pyproject.toml but applied to no test: {unused}"


def test_every_used_marker_is_declared() -> None:
    unknown = {m: files for m, files in used().items() if m not in declared()}
    assert not unknown, f"used but not declared in pyproject.toml [tool.pytest.ini_options]: {unknown}"


@pytest.mark.parametrize("name", sorted(declared()))
def test_every_marker_is_documented(name: str) -> None:
    guide = (ROOT / "CONTRIBUTING.md").read_text("utf-8")
    assert f"`{name}`" in guide, f"CONTRIBUTING.md does not describe the `{name}` marker"


def test_the_scan_sees_decorators_and_add_marker() -> None:
    tree = ast.parse(
        "@pytest.mark.slow\ndef t(): ...\n"
        "pytestmark = [pytest.mark.browser]\n"
        "item.add_marker(pytest.mark.pg)\n"
        "mark.ignored\n"
    )
    assert marks_in(tree) == {"slow", "browser", "pg"}


def test_postgresql_cases_carry_the_pg_marker() -> None:
    """The hook in conftest.py marks the cases that need the server: ``-m pg`` selects exactly
    the ``[postgresql]`` case of each ``db_url`` test of a file, and nothing else."""
    target = "tests/store/test_migrate.py"
    tree = ast.parse((ROOT / target).read_text("utf-8"))
    db_tests = {
        f"{target}::{f.name}[postgresql]"
        for f in tree.body
        if isinstance(f, ast.FunctionDef) and f.name.startswith("test_") and any(a.arg == "db_url" for a in f.args.args)
    }
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", "pg", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    selected = {line for line in out.stdout.splitlines() if line.startswith(target)}
    assert db_tests and selected == db_tests, (selected, db_tests, out.stdout[-500:])
