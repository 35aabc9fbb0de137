"""Downloads of a plan as one reader sees it, and the comparison of two plans (pure).

Both take the reader's view of a plan (:func:`coalition.planner.visible.visible_plan`: the
stored plan cut by the releasability policy), never the stored plan, so a download or a
comparison holds exactly what the plan page shows that reader: lines of pledges released to
them, and coalition totals only when nothing is withheld.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

SHEETS = ("unit_lines", "gaps", "rotations", "fill", "assignments")


def _flat(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def _table(records: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    header: list[str] = []
    for r in records:
        header += [k for k in r if k not in header]
    return header, [[_flat(r.get(k)) for k in header] for r in records]


def summary_rows(plan: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["scenario", plan.get("scenario")],
        ["option", plan.get("option")],
        ["c_day", plan.get("c_day")],
        ["c_day_assumed", plan.get("c_day_assumed")],
        ["assumptions", "; ".join(plan.get("assumptions") or [])],
        ["redacted", plan.get("redacted", False)],
    ]
    rows += [[f"solve.{k}", _flat(v)] for k, v in (plan.get("solve") or {}).items()]
    rows += [[f"kpi.{k}", _flat(v)] for k, v in (plan.get("kpis") or {}).items()]
    if plan.get("redacted"):
        rows.append(["withheld", "; ".join(plan.get("withheld") or [])])
        rows.append(["basis", plan.get("basis", "")])
    rows += [["warning", w] for w in plan.get("warnings") or []]
    return rows


def plan_xlsx(plan: dict[str, Any]) -> bytes:
    """One workbook: a summary sheet, then one sheet per table of the reader's plan."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    if ws is None:  # a new Workbook always has one active sheet
        ws = wb.create_sheet()
    ws.title = "summary"
    ws.append(["field", "value"])
    for row in summary_rows(plan):
        ws.append(["" if v is None else v for v in row])
    for name in SHEETS:
        header, rows = _table(list(plan.get(name) or []))
        sheet = wb.create_sheet(name)
        if header:
            sheet.append(header)
            sheet.freeze_panes = "A2"
        for r in rows:
            sheet.append(["" if v is None else v for v in r])
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def unit_lines_csv(plan: dict[str, Any]) -> bytes:
    header, rows = _table(list(plan.get("unit_lines") or []))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


@dataclass(frozen=True)
class LineChange:
    unit: str
    requirement: str
    rotation: int
    what: str  # "added" (only in B), "removed" (only in A), "moved" (hub, corridor or days)
    a: dict[str, Any] | None
    b: dict[str, Any] | None


@dataclass(frozen=True)
class Comparison:
    coverage: tuple[float | None, float | None]  # per cent; None where withheld
    essential: tuple[float | None, float | None]
    shortfall: tuple[float | None, float | None]  # unit-days
    lines: tuple[int, int]
    gaps: tuple[int, int]
    changes: tuple[LineChange, ...]

    @property
    def unchanged(self) -> int:
        moved_or_removed = sum(1 for c in self.changes if c.what != "added")
        return self.lines[0] - moved_or_removed


MOVE_FIELDS = ("hub", "corridor", "arrival_day", "tour_start_day", "tour_end_day", "pledge")


def compare(a: dict[str, Any], b: dict[str, Any]) -> Comparison:
    """Two reader views side by side. Lines are matched by unit, requirement and rotation (ULNs
    are numbered per run, so they do not match across runs)."""

    def key(u: dict[str, Any]) -> tuple[str, str, int]:
        return (str(u.get("unit")), str(u.get("requirement")), int(u.get("rotation") or 1))

    la = {key(u): u for u in a.get("unit_lines") or []}
    lb = {key(u): u for u in b.get("unit_lines") or []}
    changes = []
    for k in sorted(set(la) | set(lb)):
        ua, ub = la.get(k), lb.get(k)
        if ua is None:
            changes.append(LineChange(*k, "added", None, ub))
        elif ub is None:
            changes.append(LineChange(*k, "removed", ua, None))
        elif any(ua.get(f) != ub.get(f) for f in MOVE_FIELDS):
            changes.append(LineChange(*k, "moved", ua, ub))

    def kpi(p: dict[str, Any], name: str) -> float | None:
        value = (p.get("kpis") or {}).get(name)
        return None if value is None else float(value)

    return Comparison(
        coverage=(kpi(a, "coverage_pct"), kpi(b, "coverage_pct")),
        essential=(kpi(a, "essential_coverage_pct"), kpi(b, "essential_coverage_pct")),
        shortfall=(kpi(a, "shortfall_unit_days"), kpi(b, "shortfall_unit_days")),
        lines=(len(la), len(lb)),
        gaps=(len(a.get("gaps") or []), len(b.get("gaps") or [])),
        changes=tuple(changes),
    )


__all__ = ["Comparison", "LineChange", "compare", "plan_xlsx", "unit_lines_csv"]
