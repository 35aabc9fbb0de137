"""coalition.cli.plan_cmds' pieces: the header names C-day and why, and one option's files (plan
JSON, CSVs, XLSX, gap report) are written only with --out. ``coalition plan`` itself runs
through tests/cli/test_plan_cmd.py."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from rich.console import Console

from coalition.cli.plan_cmds import _print_header, _write_option
from coalition.forcegen.gaps import gap_picture
from coalition.planner.schemas import PlanOptions
from coalition.planner.service import CDay, plan_option
from planner.factory import pledge, requirement, scenario
from planner.test_check import CEASE, with_conditions

SC = with_conditions(scenario(pledges=[pledge("P1")], requirements=[requirement("L1")]))


def test_the_header_says_when_c_day_is_a_stand_in() -> None:
    for illustrative, style in ((True, "ILLUSTRATIVE"), (False, "")):
        console = Console(width=200, record=True)
        sc = SC.model_copy(update={"illustrative": illustrative, "attribution": ("made up for a test",)})
        _print_header(console, sc, CDay(date(2026, 6, 1), illustrative, "the ceasefire you assumed"))
        text = console.export_text()
        assert "C-day: 2026-06-01" in text and "the ceasefire you assumed" in text
        assert ("ILLUSTRATIVE scenario" in text) == illustrative and (style in text)


def test_an_options_files_are_written_with_out_and_nothing_without(tmp_path: Path) -> None:
    out, cday = plan_option(SC, "opt", assumptions=CEASE, options=PlanOptions(period_days=28, time_limit=10))
    gap = gap_picture(SC, "opt", cday.day, CEASE)
    assert _write_option(out.plan, gap, None) == []
    written = _write_option(out.plan, gap, tmp_path)
    names = {p.name for p in written}
    assert {"plan-opt.json", "plan-opt.xlsx", "gap-report-opt.json"} <= names
    assert all(p.exists() and p.parent == tmp_path for p in written)
    report = json.loads((tmp_path / "gap-report-opt.json").read_text("utf-8"))
    assert report["option"] == "opt" and report["schema_version"] == out.plan.schema_version
    assert {"force_generation", "plan_gaps"} <= set(report)
    assert json.loads((tmp_path / "plan-opt.json").read_text("utf-8"))["option"] == "opt"
