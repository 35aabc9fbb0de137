"""CLI: validate, schema, scenario init/info, export, import (through Typer's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from coalition.cli.main import app
from coalition.scenario.schemas import Scenario
from coalition.scenario.service import copy_embedded, load_scenario

from .helpers import edit_csv

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_validate_embedded_is_valid_and_says_illustrative() -> None:
    result = invoke("validate")
    assert result.exit_code == 0, result.output
    assert "valid:" in result.output and "ILLUSTRATIVE" in result.output
    assert "38 nations" in result.output


def test_validate_broken_copy_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    folder = copy_embedded(tmp_path / "broken")
    edit_csv(folder / "pledges.csv", 1, "nation", "GBX")  # unknown reference
    edit_csv(folder / "pledges.csv", 3, "units", "-2")  # negative number
    edit_csv(folder / "pledges.csv", 4, "id", "GBR-01")  # duplicate id
    edit_csv(folder / "pledges.csv", 5, "condition", "all(mnf_mandate, parlament.GBR)")
    edit_csv(folder / "hubs.csv", 3, "lat", "north")  # bad number (a hub with no depot: no knock-on problem)
    edit_csv(folder / "requirements.csv", 1, "hub", "UA-KIEV")
    result = invoke("validate", str(folder))
    assert result.exit_code == 2, result.output
    out = result.output
    for expected in ("GBX", "did you mean 'GBR'", "-2", "duplicate id 'GBR-01'",
                     "parlament.GBR", "parliament.GBR", "north", "UA-KIEV", "UA-KYIV",
                     "nothing was loaded"):
        assert expected in out, expected
    data = json.loads(invoke("validate", str(folder), "--json").output)
    assert data["valid"] is False and data["errors"] == 6
    places = {(p["file"], p["row"], p["field"]) for p in data["problems"]}
    assert places == {
        ("pledges.csv", 1, "nation"), ("pledges.csv", 3, "units"), ("pledges.csv", 4, "id"),
        ("pledges.csv", 5, "condition"), ("hubs.csv", 3, "lat"), ("requirements.csv", 1, "hub"),
    }


def test_validate_json_when_valid() -> None:
    result = invoke("validate", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["valid"] is True and data["illustrative"] is True
    assert data["summary"]["nations"] >= 35


def test_validate_strict_fails_on_warnings(tmp_path: Path) -> None:
    folder = copy_embedded(tmp_path / "s")
    edit_csv(folder / "pledges.csv", 1, "notice_days", "900")
    assert invoke("validate", "-s", str(folder)).exit_code == 0
    assert invoke("validate", "-s", str(folder), "--strict").exit_code == 2


def test_schema_prints_the_json_schema(tmp_path: Path) -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema == Scenario.model_json_schema()
    assert "pledges" in schema["properties"] and "Pledge" in schema["$defs"]
    assert invoke("schema", "--out", str(tmp_path / "s.json")).exit_code == 0
    assert json.loads((tmp_path / "s.json").read_text()) == schema


def test_init_writes_an_editable_copy_and_refuses_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    result = invoke("scenario", "init", str(target))
    assert result.exit_code == 0, result.output
    assert load_scenario(target) == load_scenario()
    edit_csv(target / "pledges.csv", 1, "units", "7")
    again = invoke("scenario", "init", str(target))
    assert again.exit_code == 2 and "not empty" in again.output
    assert load_scenario(target).pledges[0].units == 7  # untouched
    (target / "instruments.csv").write_text("id,kind,title,parties\n")  # a stale table file
    (target / "my-notes.txt").write_text("keep me")
    forced = invoke("scenario", "init", str(target), "--force")
    assert forced.exit_code == 0
    assert load_scenario(target) == load_scenario()
    assert (target / "my-notes.txt").read_text() == "keep me"


def test_export_and_import_round_trip(tmp_path: Path) -> None:
    book = tmp_path / "paris.xlsx"
    result = invoke("export", "--xlsx", str(book), "--json", str(tmp_path / "p.json"))
    assert result.exit_code == 0, result.output
    assert "illustrative" in result.output
    assert invoke("import", str(book), str(tmp_path / "back")).exit_code == 0
    assert load_scenario(tmp_path / "back") == load_scenario() == load_scenario(tmp_path / "p.json")


def test_export_of_a_broken_scenario_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    folder = copy_embedded(tmp_path / "b")
    edit_csv(folder / "hubs.csv", 1, "country", "ua")
    result = invoke("export", str(folder), "--xlsx", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2 and "hubs.csv" in result.output
    assert not (tmp_path / "x.xlsx").exists()
    assert invoke("export").exit_code == 2  # nothing to write


def test_info_summarises() -> None:
    result = invoke("scenario", "info")
    assert result.exit_code == 0
    assert "small" in result.output and "CC BY 4.0" in result.output
    assert "records by evidence" in result.output


def test_console_script_has_no_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = copy_embedded(tmp_path / "b")
    (folder / "scenario.yaml").write_text("id: [\n")
    proc = subprocess.run([sys.executable, "-m", "coalition.cli", "validate", str(folder)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "malformed YAML" in proc.stdout


def test_validate_accepts_a_workbook(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    book = tmp_path / "p.xlsx"
    assert invoke("export", "--xlsx", str(book)).exit_code == 0
    assert invoke("validate", str(book)).exit_code == 0
    wb = load_workbook(book)
    ws = wb["corridors"]
    header = [c.value for c in ws[1]]
    ws.cell(row=3, column=header.index("hub") + 1, value="UA-LVOV")
    wb.save(book)
    data = json.loads(invoke("validate", str(book), "--json").output)
    assert [(p["file"], p["row"], p["field"], p["hint"]) for p in data["problems"]] == [
        ("p.xlsx:corridors", 2, "hub", "did you mean 'UA-LVIV'?")]


def test_unwritable_target_is_a_clean_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where a folder is needed
    result = invoke("export", "--xlsx", str(blocker / "sub" / "p.xlsx"), "--folder", str(blocker / "f"))
    assert result.exit_code == 2 and "cannot write" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
