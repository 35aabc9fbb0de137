"""coalition.cli.sustain_cmds' writers: CSV and XLSX bytes, and output targets checked before
any work. The command runs through tests/cli/test_sustain_cmd.py."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from coalition.cli.sustain_cmds import _csv_bytes, _targets, _xlsx_bytes
from coalition.errors import InputError


def test_csv_has_the_header_and_empty_cells_for_none() -> None:
    data = _csv_bytes(["hub", "days", "note"], [["H1", 3.5, None], ["H2", 0, "a,b"]])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows == [["hub", "days", "note"], ["H1", "3.5", ""], ["H2", "0", "a,b"]]


def test_xlsx_has_one_sheet_per_table_with_bold_frozen_headers() -> None:
    long_name = "a-table-name-longer-than-thirty-one-characters"
    data = _xlsx_bytes({"hubs": (["hub", "ok"], [["H1", True], ["H2", None]]), long_name: (["x"], [[1]])})
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["hubs", long_name[:31]]
    ws = wb["hubs"]
    assert [[c.value for c in r] for r in ws.iter_rows()] == [["hub", "ok"], ["H1", "True"], ["H2", None]]
    assert ws["A1"].font.bold and ws.freeze_panes == "A2"


def test_output_targets_are_checked_together_before_work(tmp_path: Path) -> None:
    _targets(None, None, None)
    _targets("-", tmp_path, tmp_path / "out.xlsx")
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(InputError) as err:
        _targets(str(tmp_path / "no" / "s.json"), afile, tmp_path / "no" / "s.xlsx")
    assert [p.field for p in err.value.problems] == ["--json", "--xlsx", "--csv"]
