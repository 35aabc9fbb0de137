"""coalition.cli.scenario_cmds' shared pieces: one scenario given once, the problems table, exit
2 on bad input, the illustrative banner. The commands run through tests/scenario/test_cli.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from rich.console import Console

from coalition.cli.scenario_cmds import _pick, fail, illustrative_banner, problems_table
from coalition.errors import InputError, Problem
from coalition.scenario.service import load_scenario


def test_a_scenario_is_given_as_argument_or_option_not_two_different_ones() -> None:
    a, b = Path("a"), Path("b")
    assert _pick(a, None) == a and _pick(None, b) == b and _pick(a, a) == a and _pick(None, None) is None
    with pytest.raises(InputError) as err:
        _pick(a, b)
    assert err.value.problems[0].field == "--scenario"


def _text(renderable: object) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


def test_the_problems_table_has_one_row_per_problem_with_its_place() -> None:
    problems = [
        Problem("bad units", file="pledges.csv", row=4, field="units", hint="1..50"),
        Problem("odd name", severity="warning"),
    ]
    text = _text(problems_table(problems, "2 problem(s)"))
    assert "pledges.csv" in text and "bad units" in text and "1..50" in text and "warn" in text
    assert text.count("error") == 1


def test_fail_prints_every_problem_and_exits_2() -> None:
    console = Console(width=200, record=True)
    with pytest.raises(typer.Exit) as ex:
        fail(InputError([Problem("first"), Problem("second", field="x")]), console)
    assert ex.value.exit_code == 2
    out = console.export_text()
    assert "first" in out and "second" in out and "2 problem(s)" in out


def test_the_banner_says_illustrative_when_it_is() -> None:
    sc = load_scenario()
    assert sc.illustrative and "ILLUSTRATIVE scenario" in illustrative_banner(sc)
    assert illustrative_banner(sc.model_copy(update={"illustrative": False})) == f"scenario '{sc.id}'"
