"""`coalition status` and `coalition gaps` through Typer's CliRunner, on real scenario files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coalition.cli.main import app
from coalition.scenario.schemas import ConditionDef, Event

from .builders import line, pledge, scenario

runner = CliRunner()


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    s = scenario(
        conditions=(ConditionDef(name="ceasefire"), ConditionDef(name="us_backstop")),
        timeline=(Event(on=date(2026, 1, 6), condition="us_backstop", value=False),),
        pledges=(
            pledge("GBR-1", nation="GBR", condition="ceasefire", units=2),
            pledge("DEU-1", nation="DEU", condition="all(ceasefire, us_backstop)"),
        ),
        requirements=(line("L1", quantity=3),),
    )
    path = tmp_path / "tiny.json"
    path.write_text(s.model_dump_json())
    return path


def run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_status_without_ceasefire_is_unknown(tiny: Path) -> None:
    r = run("status", "-s", str(tiny), "--at", "2026-07-01")
    assert r.exit_code == 0, r.output
    assert "C-day unknown" in r.output
    assert "unknown" in r.output and "GBR-1" in r.output


def test_status_json_to_stdout(tiny: Path) -> None:
    r = run("status", "-s", str(tiny), "--assume", "ceasefire=2026-06-01", "--json", "-")
    assert r.exit_code == 0, r.output
    js = json.loads(r.stdout)
    assert js["at"] == "2026-06-01"  # --at defaults to C-day
    assert js["c_day"] == "2026-06-01"
    by = {p["pledge"]: p for p in js["pledges"]}
    assert by["GBR-1"]["status"] == "active"
    assert by["DEU-1"]["code"] == "inactive:us_backstop"
    assert by["DEU-1"]["explanation"]["children"][1]["source"] == "event"


def test_status_explain_prints_tree(tiny: Path) -> None:
    r = run("status", "-s", str(tiny), "--assume", "ceasefire=2026-06-01", "--explain")
    assert r.exit_code == 0, r.output
    assert "us_backstop = false" in r.output and "set false on 2026-01-06" in r.output


def test_gaps_report_and_json_file(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "gaps.json"
    r = run("gaps", "-s", str(tiny), "--assume", "ceasefire=2026-06-01", "--json", str(out))
    assert r.exit_code == 0, r.output
    assert "L1" in r.output and "2/3" in r.output
    assert "inactive:us_backstop" in r.output and "quantity" in r.output
    js = json.loads(out.read_text())
    (opt,) = js["options"]
    assert opt["totals"]["filled_units"] == 2 and opt["totals"]["required_units"] == 3
    assert [x["code"] for x in opt["lines"][0]["reasons"]] == ["inactive:us_backstop", "quantity"]


def test_assume_false_overrides(tiny: Path) -> None:
    r = run("gaps", "-s", str(tiny), "--assume", "ceasefire=false", "--at", "2026-07-01", "--json", "-")
    js = json.loads(r.stdout)
    assert js["options"][0]["totals"]["filled_units"] == 0
    assert js["options"][0]["c_day"] is None


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--assume", "ceasefire=soon"], "not a date, true or false"),
        (["--assume", "ceasefire"], "expected NAME=VALUE"),
        (["--assume", "ceasfire=2026-06-01"], "did you mean 'ceasefire'"),
        (["--at", "2026-02-30"], "bad date"),
        (["--option", "optt"], "did you mean 'opt'"),
        (["--min-state", "signed"], "bad pledge state"),
    ],
)
@pytest.mark.parametrize("command", ["status", "gaps"])
def test_bad_input_exit_2_with_clear_message(tiny: Path, command: str, args: list[str], words: str) -> None:
    r = run(command, "-s", str(tiny), *args)
    assert r.exit_code == 2
    assert words in r.output
    assert "Traceback" not in r.output


def test_bad_json_target_writes_nothing(tiny: Path, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.json"
    r = run("gaps", "-s", str(tiny), "--json", str(target))
    assert r.exit_code == 2 and "does not exist" in r.output
    assert not target.exists()


def test_broken_scenario_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "name": "X", "pledges": [{"id": "p"}]}')
    r = run("gaps", "-s", str(bad))
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_embedded_scenario_gaps_and_status() -> None:
    r = run("gaps", "--assume", "ceasefire=2026-06-01", "--option", "small", "--max-reasons", "2")
    assert r.exit_code == 0, r.output
    assert "ILLUSTRATIVE" in r.output and "Gaps" in r.output
    r = run("status", "--assume", "ceasefire=2026-06-01", "--json", "-")
    assert r.exit_code == 0
    js = json.loads(r.stdout)
    assert js["illustrative"] is True and js["counts"]["active"] > 0


def test_status_option_limits_to_needed_capabilities(tmp_path: Path) -> None:
    s = scenario(
        pledges=(pledge("inf"), pledge("eng", capability="eng")),
        requirements=(line("L1"),),
    )
    path = tmp_path / "s.json"
    path.write_text(s.model_dump_json())
    r = run("status", "-s", str(path), "--option", "opt", "--json", "-")
    js = json.loads(r.stdout)
    assert [p["pledge"] for p in js["pledges"]] == ["inf"]
    assert js["counts"]["active"] == 1
