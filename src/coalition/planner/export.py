"""Plan exports: JSON, CSV tables and one XLSX workbook. Files appear whole or not at all."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from coalition.planner.schemas import PLAN_SCHEMA_VERSION, Alternative, BindingReason, Plan


class PlanSet(BaseModel):
    """What ``coalition plan --json`` writes: one plan per force option."""

    schema_version: str = PLAN_SCHEMA_VERSION
    plans: list[Plan]


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _rows(models: Sequence[BaseModel]) -> tuple[list[str], list[list[object]]]:
    if not models:
        return [], []
    header = list(type(models[0]).model_fields)
    rows: list[list[object]] = []
    for m in models:
        d = m.model_dump(mode="json")
        rows.append([d[k] if not isinstance(d[k], list | dict) else json.dumps(d[k]) for k in header])
    return header, rows


def tables_of(plan: Plan) -> dict[str, tuple[list[str], list[list[object]]]]:
    """Every tabular part of a plan, flat: name -> (header, rows)."""
    gap_rows: list[list[object]] = []
    for g in plan.gaps:
        reasons: Sequence[BindingReason | None] = g.reasons or [None]
        for r in reasons:
            gap_rows.append(
                [
                    g.requirement,
                    g.capability,
                    g.place,
                    g.priority,
                    g.shortfall_unit_days,
                    g.late_unit_days,
                    g.first_short_day,
                    r.code if r else "",
                    r.constraint if r else "",
                    r.message if r else "",
                    r.count if r else "",
                    r.method if r else "",
                ]
            )
    alt_rows: list[list[object]] = []
    for a in plan.assignments:
        alternatives: Sequence[Alternative | None] = a.alternatives or [None]
        for alt in alternatives:
            alt_rows.append(
                [
                    a.uln,
                    a.pledge,
                    a.requirement,
                    a.why,
                    alt.pledge if alt else "",
                    alt.nation if alt else "",
                    alt.code if alt else "",
                    alt.why_not if alt else "",
                ]
            )
    k = plan.kpis.model_dump(mode="json")
    s = plan.solve.model_dump(mode="json")
    summary: list[list[object]] = [
        ["scenario", plan.scenario],
        ["option", plan.option],
        ["c_day", plan.c_day.isoformat() if plan.c_day else ""],
        ["c_day_assumed", plan.c_day_assumed],
        ["assumptions", "; ".join(plan.assumptions)],
        ["period_days", plan.period_days],
        ["horizon_days", plan.horizon_days],
        ["seed", plan.seed],
    ]
    summary += [[f"solve.{key}", val] for key, val in s.items()]
    summary += [[f"kpi.{key}", val] for key, val in k.items()]
    if plan.baseline:
        summary += [[f"greedy.{key}", val] for key, val in plan.baseline.model_dump().items()]
    summary += [["warning", w] for w in plan.warnings]
    return {
        "summary": (["field", "value"], summary),
        "unit_lines": _rows(plan.unit_lines),
        "rotations": _rows(plan.rotations),
        "fill": _rows(plan.fill),
        "gaps": (
            [
                "requirement",
                "capability",
                "place",
                "priority",
                "shortfall_unit_days",
                "late_unit_days",
                "first_short_day",
                "reason",
                "constraint",
                "message",
                "count",
                "method",
            ],
            gap_rows,
        ),
        "assignments": (
            ["uln", "pledge", "requirement", "why", "alternative", "alt_nation", "alt_code", "why_not"],
            alt_rows,
        ),
    }


def write_csvs(plan: Plan, folder: Path) -> list[Path]:
    out = []
    for name, (header, rows) in tables_of(plan).items():
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        if header:
            w.writerow(header)
        w.writerows(rows)
        path = folder / f"{name}-{plan.option}.csv"
        _atomic_write(path, buf.getvalue().encode("utf-8"))
        out.append(path)
    return out


def write_xlsx(plan: Plan, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    if wb.active is not None:  # a new Workbook's one empty sheet
        wb.remove(wb.active)
    for name, (header, rows) in tables_of(plan).items():
        ws = wb.create_sheet(name[:31])
        if header:
            ws.append(header)
            for cell in ws[1]:
                cell.font = Font(bold=True)
            ws.freeze_panes = "A2"
        for r in rows:
            ws.append(["" if v is None else v for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    _atomic_write(path, buf.getvalue())
    return path


def write_json(obj: BaseModel, path: Path) -> Path:
    _atomic_write(path, obj.model_dump_json(indent=2).encode("utf-8"))
    return path
