"""Size limits of the source (CONTRIBUTING.md, "Lint"): no module in ``src/coalition`` over 800
lines and no function over 100 lines (``end_lineno - lineno + 1``, decorators excluded).

A function that is over the limit today is listed in ``KNOWN_LONG`` with its present length: it
may shrink but never grow, and once it is under the limit its entry must go (so the list only
ever gets shorter)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "coalition"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 100

#: "module path:qualified name" -> its length when the limit was introduced (to be split)
KNOWN_LONG: dict[str, int] = {
    "planner/colgen.py:relaxation": 109,
    "planner/engine.py:make_plan": 121,
    "planner/flowform.py:flow_form": 103,
    "planner/generator.py:generate": 216,
    "planner/medical.py:define_medical": 119,
}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, int]]:
    """(qualified name, length in lines) of every function, methods and nested ones included."""
    out: list[tuple[str, int]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + node.name
            out.append((name, (node.end_lineno or node.lineno) - node.lineno + 1))
            out += _functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            out += _functions(node, prefix + node.name + ".")
        else:
            out += _functions(node, prefix)
    return out


def _lengths() -> dict[str, int]:
    found: dict[str, int] = {}
    for path in _modules():
        rel = path.relative_to(SRC).as_posix()
        for name, n in _functions(ast.parse(path.read_text("utf-8"), filename=str(path))):
            found[f"{rel}:{name}"] = n
    return found


def test_no_module_is_over_the_line_limit() -> None:
    long = {
        path.relative_to(SRC).as_posix(): n
        for path in _modules()
        if (n := len(path.read_text("utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them along a real seam): {long}"


def test_no_function_is_over_the_line_limit() -> None:
    lengths = _lengths()
    new = {k: n for k, n in lengths.items() if n > MAX_FUNCTION_LINES and k not in KNOWN_LONG}
    grown = {k: (n, KNOWN_LONG[k]) for k, n in lengths.items() if k in KNOWN_LONG and n > KNOWN_LONG[k]}
    assert not new, f"functions over {MAX_FUNCTION_LINES} lines (split them into phases): {new}"
    assert not grown, f"listed long functions grew (now, listed): {grown}"


def test_the_known_long_list_only_names_functions_still_over_the_limit() -> None:
    lengths = _lengths()
    stale = sorted(k for k in KNOWN_LONG if lengths.get(k, 0) <= MAX_FUNCTION_LINES)
    assert not stale, f"remove these from KNOWN_LONG (gone or now under the limit): {stale}"


def test_the_measure_counts_what_it_says() -> None:
    tree = ast.parse("class A:\n    def m(self):\n        def inner():\n            pass\n        return 1\n")
    assert _functions(tree) == [("A.m", 4), ("A.m.inner", 2)]
