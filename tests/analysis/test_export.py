"""XLSX export of analysis summaries: the file is opened with openpyxl and its cells checked."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from coalition.analysis.export import workbook
from coalition.cli.main import app
from coalition.scenario.service import save_scenario_file
from tests.analysis.factory import either_fills


def _sheet_rows(wb, name):
    return [list(r) for r in wb[name].iter_rows(values_only=True)]


def test_cli_xlsx_holds_every_table_of_the_json(tmp_path: Path):
    sc = tmp_path / "tiny.yaml"
    save_scenario_file(either_fills(0.5, 0.8), sc)
    xlsx, js = tmp_path / "mc.xlsx", tmp_path / "mc.json"
    res = CliRunner().invoke(app, ["analyse", "montecarlo", "-s", str(sc), "-o", "opt", "--exact",
                                   "--workers", "0", "--json", str(js), "--xlsx", str(xlsx)])
    assert res.exit_code == 0, res.output
    summary = json.loads(js.read_text())
    wb = load_workbook(xlsx)
    assert {"summary", "lines", "convergence.shortfall", "coverage.all.histogram"} <= set(wb.sheetnames)
    lines = _sheet_rows(wb, "lines")
    head = lines[0]
    [row] = lines[1:]
    cell = dict(zip(head, row))
    assert cell["line"] == "L1"
    for d in ("30", "60", "90"):  # the hand-computed 0.9 of either_fills(0.5, 0.8), se 0
        assert cell[f"by_day.{d}.p"] == summary["lines"][0]["by_day"][d]["p"] == 0.9
        assert cell[f"by_day.{d}.se"] == 0
    fields = dict((r[0], r[1]) for r in _sheet_rows(wb, "summary")[1:])
    assert fields["kind"] == "montecarlo" and fields["samples"] == 4 and fields["exact"] is True
    assert fields["releasability"] == summary["releasability"]
    hist = _sheet_rows(wb, "coverage.all.histogram")
    assert hist[0] == ["from", "to", "share"] and len(hist) == 11
    assert abs(sum(r[2] for r in hist[1:]) - 1.0) < 1e-9


def test_text_is_never_a_formula_and_nan_is_empty():
    data = workbook({"kind": "x", "warnings": ["=HYPERLINK(\"http://x\")"], "value": float("nan"),
                     "rows": [{"line": "=1+1", "p": float("inf"), "nested": {"a": 1}}]})
    wb = load_workbook(BytesIO(data))
    fields = dict((r[0], r[1]) for r in _sheet_rows(wb, "summary")[1:])
    assert fields["warnings"] == "=HYPERLINK(\"http://x\")"
    assert wb["summary"]["B3"].data_type == "s"
    assert fields["value"] is None
    rows = _sheet_rows(wb, "rows")
    assert rows[0] == ["line", "p", "nested.a"] and rows[1] == ["=1+1", None, 1]
    assert wb["rows"]["A2"].data_type == "s"


def test_cli_bad_xlsx_name_exit_2_before_any_work(tmp_path: Path):
    sc = tmp_path / "tiny.yaml"
    save_scenario_file(either_fills(0.5, 0.8), sc)
    res = CliRunner().invoke(app, ["analyse", "montecarlo", "-s", str(sc), "-o", "opt", "--exact",
                                   "--workers", "0", "--xlsx", str(tmp_path / "out.csv"),
                                   "--out", str(tmp_path / "run")])
    assert res.exit_code == 2 and "--xlsx" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "run").exists()
