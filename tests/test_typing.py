"""Strict typing (issue 17): ``mypy --strict src`` runs in ``make lint``; this holds the escapes.

* ``src/`` has at most :data:`CAP` ``# type: ignore`` comments;
* each names its error code(s) (``[code]``) and gives its reason on the same line
  (``# type: ignore[code]  # why``);
* untyped calls are allowed by the mypy configuration in one module only, the typed
  ``dask.distributed`` wrapper.
"""

from __future__ import annotations

import io
import re
import tokenize
import tomllib
from pathlib import Path

import coalition

SRC = Path(coalition.__file__).resolve().parent
PYPROJECT = SRC.parent.parent / "pyproject.toml"
CAP = 15
WRAPPER = "coalition.compute.dask"

IGNORE = re.compile(r"#\s*type:\s*ignore\b(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")
CODES = re.compile(r"^\[[a-z][a-z-]*(\s*,\s*[a-z][a-z-]*)*\]$")
REASON = re.compile(r"^\s+#\s*\w.{5,}")


def ignores(text: str, name: str = "<text>") -> list[tuple[str, int, str]]:
    """(file, line, comment) of every ``type: ignore`` comment of a Python source."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT and IGNORE.search(tok.string):
            out.append((name, tok.start[0], tok.string))
    return out


def faults(comment: str) -> list[str]:
    """What is wrong with one ``type: ignore`` comment (nothing when it is well formed)."""
    m = IGNORE.search(comment)
    assert m is not None
    bad = []
    if not m["codes"] or not CODES.match(m["codes"]):
        bad.append("names no error code")
    if not REASON.match(m["rest"]):
        bad.append("gives no reason on the same line")
    return bad


def src_ignores() -> list[tuple[str, int, str]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        out += ignores(path.read_text(encoding="utf-8"), str(path.relative_to(SRC.parent)))
    return out


def test_the_checks_see_bad_ignores() -> None:
    sample = (
        "x = f()  # type: ignore\n"
        "y = g()  # type: ignore[arg-type]\n"
        "z = h()  # type:ignore[no-untyped-call]  # highspy leaves it unannotated\n"
        "s = '# type: ignore'  # a string, not a comment\n"
        "w = k()  # type: ignore[]  # empty code list\n"
    )
    found = ignores(sample)
    assert [line for _, line, _ in found] == [1, 2, 3, 5]
    assert [faults(c) for _, _, c in found] == [
        ["names no error code", "gives no reason on the same line"],
        ["gives no reason on the same line"],
        [],
        ["names no error code"],
    ]


def test_type_ignores_are_few() -> None:
    found = src_ignores()
    assert len(found) <= CAP, f"{len(found)} type: ignore in src (at most {CAP}):\n" + "\n".join(
        f"{f}:{n}: {c}" for f, n, c in found
    )


def test_every_type_ignore_names_its_code_and_reason() -> None:
    bad = [f"{f}:{n}: {c} ({', '.join(faults(c))})" for f, n, c in src_ignores() if faults(c)]
    assert not bad, "\n".join(bad)


def test_untyped_calls_are_allowed_in_the_wrapper_only() -> None:
    mypy = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["mypy"]
    assert mypy["strict"] is True
    assert "disallow_untyped_calls" not in mypy and "untyped_calls_exclude" not in mypy
    loose = [o["module"] for o in mypy.get("overrides", []) if set(o) - {"module"}]
    assert loose == [WRAPPER], loose
    (override,) = [o for o in mypy["overrides"] if o["module"] == WRAPPER]
    assert override == {"module": WRAPPER, "disallow_untyped_calls": False}
    assert (SRC / "compute" / "dask.py").exists()
