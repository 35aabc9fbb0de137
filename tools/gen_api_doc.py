"""Write docs/api.md from ``coalition.__all__`` and the docstrings of the names it exports.

Usage: ``python tools/gen_api_doc.py`` (rewrites docs/api.md) or ``--check`` (exit 1 if the page
is stale). ``tests/test_package.py`` runs the check, so the page and the surface cannot drift.
A dozen lines of our own instead of mkdocstrings: the page is one table and needs no site build.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import coalition

PAGE = Path(__file__).resolve().parent.parent / "docs" / "api.md"

HEAD = """# Library API

`import coalition` gives a Python user or a notebook the whole surface below; deeper modules are
internal and may change. Names load on first use, so importing the package stays cheap.
This page is generated from the docstrings by `tools/gen_api_doc.py`; do not edit it by hand.

```python
from datetime import date
import coalition

scenario = coalition.load_scenario()                       # embedded paris-2026
picture = coalition.gap_picture(scenario, "medium", date(2026, 9, 1))
outcome, cday = coalition.plan(scenario, "medium", options=coalition.PlanOptions(time_limit=30))
report = coalition.check_plan(scenario, outcome.plan)      # the independent plan checker
```

Every error raised on purpose derives from `coalition.CoalitionError`; bad input raises
`coalition.InputError` whose `problems` name the file, row and field.

| name | kind | defined in | what it does |
|---|---|---|---|
"""


def _kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    return "function"


def render() -> str:
    rows = []
    for name in coalition.__all__:
        if name == "__version__":
            continue
        obj = getattr(coalition, name)
        doc = " ".join((inspect.getdoc(obj) or "").split("\n\n")[0].split())
        where = f"{obj.__module__}.{obj.__qualname__}"
        cell = doc.replace("|", r"\|")
        rows.append(f"| `{name}` | {_kind(obj)} | `{where}` | {cell} |")
    return HEAD + "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE} is stale: run python tools/gen_api_doc.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
