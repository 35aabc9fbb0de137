"""Plan downloads and comparison over a reader's view (pure): the workbook holds the view's
tables and nothing withheld; lines are matched across runs by unit, requirement, rotation."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from coalition.planner.workbook import compare, plan_xlsx, unit_lines_csv


def _line(uln: str, unit: str, req: str, hub: str = "A", arrival: int = 10, rot: int = 1) -> dict:
    return {"uln": uln, "nation": "GBR", "pledge": "GBR-1", "unit": unit, "requirement": req,
            "hub": hub, "corridor": "C1", "arrival_day": arrival, "tour_start_day": arrival,
            "tour_end_day": arrival + 182, "rotation": rot}


def test_compare_matches_lines_across_runs_not_by_uln() -> None:
    a = {"kpis": {"coverage_pct": 60.0, "shortfall_unit_days": 900.0},
         "unit_lines": [_line("S1-0001", "u1", "R1"), _line("S1-0002", "u2", "R1"),
                        _line("S1-0003", "u3", "R2")], "gaps": [{"requirement": "R2"}]}
    b = {"kpis": {"coverage_pct": 75.5, "shortfall_unit_days": 300.0},
         "unit_lines": [_line("S2-0001", "u1", "R1"), _line("S2-0002", "u2", "R1", hub="B"),
                        _line("S2-0003", "u4", "R3")], "gaps": []}
    cmp = compare(a, b)
    assert cmp.coverage == (60.0, 75.5) and cmp.shortfall == (900.0, 300.0)
    assert {(c.unit, c.what) for c in cmp.changes} == {("u2", "moved"), ("u3", "removed"),
                                                       ("u4", "added")}
    assert cmp.unchanged == 1  # u1: same place and days, though its ULN differs
    assert cmp.gaps == (1, 0)


def test_withheld_totals_stay_withheld() -> None:
    redacted = {"redacted": True, "withheld": ["kpis"], "unit_lines": [_line("X", "u1", "R1")]}
    cmp = compare(redacted, redacted)
    assert cmp.coverage == (None, None) and cmp.changes == ()
    book = load_workbook(io.BytesIO(plan_xlsx(redacted)))
    summary = {r[0]: r[1] for r in book["summary"].iter_rows(values_only=True)}
    assert summary["redacted"] is True and summary["withheld"] == "kpis"
    assert not any(str(k).startswith("kpi.") for k in summary)


def test_workbook_and_csv_hold_every_line_of_the_view() -> None:
    plan = {"option": "small", "kpis": {"coverage_pct": 50.0},
            "unit_lines": [_line(f"S-{i:04d}", f"u{i}", "R1") for i in range(250)],
            "gaps": [{"requirement": "R1", "reasons": [{"code": "no-pledge"}]}]}
    book = load_workbook(io.BytesIO(plan_xlsx(plan)))
    assert book.sheetnames[:3] == ["summary", "unit_lines", "gaps"]
    rows = list(book["unit_lines"].iter_rows(values_only=True))
    assert rows[0][0] == "uln" and len(rows) == 251
    assert '"no-pledge"' in str(list(book["gaps"].iter_rows(values_only=True))[1])
    text = unit_lines_csv(plan).decode()
    assert text.splitlines()[0].startswith("uln,") and len(text.splitlines()) == 251
