"""XLSX export of an analysis summary (openpyxl): every table of it, one sheet each.

* ``summary``: one row per scalar field (dotted path, e.g. ``shortfall.expected.mean``), lists of
  plain values joined; warnings, releasability and ``withheld`` included, so the workbook says
  what it is and what was left out.
* one sheet per list of records (``lines``, ``n_1``, ``n_2``, ``shapley``, ``first_wave``,
  ``boxes``, ``coverage.essential.histogram``, ``convergence.shortfall`` ...), one column per
  (dotted) field, in first-seen order.

Works on any summary shape, so a field added to a summary later is exported too, and on a
reader's redacted view exactly as on the full one (the API exports the view it would return).
Text is written as text, never as a formula (a line id or warning starting with ``=`` cannot
run in a spreadsheet); NaN and infinities become empty cells.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

Row = dict[str, Any]
MAX_SHEET = 31  # Excel's limit on sheet names


def _plain(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, int | str):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, list | tuple) and all(not isinstance(x, dict | list) for x in v):
        return ", ".join("" if x is None else str(x) for x in v)
    return json.dumps(v, ensure_ascii=False, allow_nan=False, default=str)


def _flat(prefix: str, v: Any, out: Row) -> None:
    if isinstance(v, dict):
        for k, x in v.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), x, out)
    else:
        out[prefix] = _plain(v)


def tables(summary: dict[str, Any]) -> tuple[list[tuple[str, Any]], dict[str, list[Row]]]:
    """(the scalar fields, the record lists by dotted path) of a summary."""
    scalars: list[tuple[str, Any]] = []
    sheets: dict[str, list[Row]] = {}

    def walk(path: str, v: Any) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(f"{path}.{k}" if path else str(k), x)
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            rows = []
            for x in v:
                r: Row = {}
                _flat("", x, r)
                rows.append(r)
            sheets[path] = rows
        else:
            scalars.append((path, _plain(v)))

    walk("", summary)
    return scalars, sheets


def _sheet_name(path: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", path)[:MAX_SHEET] or "table"
    name, i = base, 2
    while name.lower() in used:
        suffix = f"~{i}"
        name, i = base[: MAX_SHEET - len(suffix)] + suffix, i + 1
    used.add(name.lower())
    return name


def _write(ws: Worksheet, rows: Iterable[list[Any]]) -> None:
    for r, values in enumerate(rows, start=1):
        for c, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"  # text, never a formula


def workbook(summary: dict[str, Any]) -> bytes:
    """The XLSX file of ``summary``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

    scalars, sheets = tables(summary)
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook's one sheet
    ws.title = "summary"
    used = {"summary"}
    _write(ws, [["field", "value"], *([k, v] for k, v in scalars)])
    ws["A1"].font = ws["B1"].font = Font(bold=True)
    for path, rows in sheets.items():
        cols: list[str] = []
        for r in rows:
            cols += [k for k in r if k not in cols]
        sh = wb.create_sheet(_sheet_name(path, used))
        _write(sh, [cols, *([r.get(k) for k in cols] for r in rows)])
        for cell in sh[1]:
            cell.font = Font(bold=True)
        sh.freeze_panes = "A2"
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_xlsx(path: Path, summary: dict[str, Any]) -> None:
    """Write the workbook atomically (a temporary file, then renamed)."""
    from coalition.analysis.runner import _atomic_write

    data = workbook(summary)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: str) -> None:
        Path(tmp).write_bytes(data)

    _atomic_write(path, write)


__all__ = ["tables", "workbook", "write_xlsx"]
