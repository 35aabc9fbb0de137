"""Rich renderers: what a planner reads in the terminal, and the shared input resolution."""

from __future__ import annotations

from datetime import date

import pytest
from rich.console import Console

from coalition.errors import InputError
from coalition.forcegen.activation import activation
from coalition.forcegen.gaps import gap_picture
from coalition.forcegen.inputs import parse_at, parse_min_state, resolve_inputs
from coalition.forcegen.render import render_activation, render_gaps
from coalition.scenario.schemas import Assumption, ConditionDef, Event, PledgeState

from .builders import line, pledge, scenario

CONDS = (ConditionDef(name="ceasefire"), ConditionDef(name="us_backstop"))
S = scenario(
    conditions=CONDS,
    timeline=(Event(on=date(2026, 1, 6), condition="us_backstop", value=False),),
    pledges=(pledge("GBR-1", condition="ceasefire", units=2), pledge("DEU-1", nation="DEU", condition="all(ceasefire, us_backstop)")),
    requirements=(line("L1", quantity=3), line("L2", capability="eng", hub="east")),
)
CEASE = (Assumption(condition="ceasefire", on=date(2026, 6, 1)),)


def text_of(fn, *args, **kw) -> str:
    console = Console(record=True, width=200)
    fn(console, *args, **kw)
    return console.export_text()


def test_activation_render_names_nations_and_reasons() -> None:
    pic = activation(S, date(2026, 6, 1), CEASE)
    out = text_of(render_activation, pic, explain=True)
    assert "ILLUSTRATIVE scenario" in out
    assert "C-day 2026-06-01, D+0" in out and "assumed: ceasefire=2026-06-01" in out
    assert "1 active, 1 inactive" in out
    assert "us_backstop" in out  # held back by
    assert "us_backstop = false" in out and "set false on 2026-01-06" in out  # explanation tree
    only = text_of(render_activation, pic, only=frozenset({"GBR-1"}))
    assert "GBR-1" in only and "DEU-1 " not in only


def test_gap_render_lines_matrix_reasons() -> None:
    g = gap_picture(S, "opt", date(2026, 6, 1), CEASE)
    out = text_of(render_gaps, g)
    assert "Option 'opt' (Option): 2/4 units" in out
    assert "Fill rate:" in out and "│ inf_bn     │ 2/3  │" in out
    assert "L1 inf_bn at west from D+30 (important): 1 of 3 unit(s) short" in out
    assert "inactive:us_backstop" in out and "no-pledge" in out
    short = text_of(render_gaps, g, max_reasons=1, header=False)
    assert "more (see --json)" in short and "ILLUSTRATIVE" not in short


def test_gap_render_when_all_filled() -> None:
    s = scenario(pledges=(pledge(units=5),), requirements=(line(quantity=2),))
    out = text_of(render_gaps, gap_picture(s, "opt", date(2026, 6, 1)))
    assert "No gaps: every line is filled." in out


def test_resolve_inputs_defaults_and_problems() -> None:
    assumptions, engine, day = resolve_inputs(S, ["ceasefire=2026-06-01"], None)
    assert day == date(2026, 6, 1) and assumptions == CEASE
    _, _, day2 = resolve_inputs(S, [], "2026-07-04")
    assert day2 == date(2026, 7, 4)
    with pytest.raises(InputError) as info:
        resolve_inputs(S, ["ceasfire=true", "us_backstop=perhaps", "ceasefire=true", "ceasefire=false"], "tomorrow", ["optx"])
    fields = [p.field for p in info.value.problems]
    assert fields.count("--assume") == 3 and "--at" in fields and "--option" in fields
    assert parse_at(None) is None
    assert parse_min_state("committed") is PledgeState.COMMITTED
    with pytest.raises(InputError):
        parse_min_state("withdrawn")


def test_activation_render_baseline_column() -> None:
    after = activation(S, date(2026, 6, 1), CEASE)
    before = activation(S, date(2026, 6, 1), ())
    out = text_of(render_activation, after, baseline=before, baseline_label="gained", pledges=False)
    assert "gained" in out
    gbr_row = next(line for line in out.splitlines() if line.startswith("│ GBR"))
    assert "+1" in gbr_row
