"""CLI commands `coalition status` and `coalition gaps` (thin).

Both load a scenario, parse ``--at`` and ``--assume``, call the pure force-generation logic and
render with :mod:`coalition.forcegen.render`. ``--json FILE`` writes the documented JSON shape
(``-`` for stdout, in which case nothing else goes to stdout). Bad input ends with a table of
every problem and exit status 2.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from coalition.cli.stored import SCENARIO_HELP
from coalition.errors import InputError, Problem
from coalition.forcegen.activation import activation
from coalition.forcegen.gaps import gap_picture
from coalition.forcegen.inputs import parse_at, parse_min_state, resolve_inputs
from coalition.forcegen.render import render_activation, render_gaps
from coalition.forcegen.schemas import JSON_VERSION, ForceGenOptions
from coalition.scenario.schemas import PledgeState, Scenario

ScenarioOpt = Annotated[
    Path | None,
    typer.Option("--scenario", "-s", help=SCENARIO_HELP, show_default=False),
]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", help="force option id (repeatable; default: every option)", show_default=False),
]
AtOpt = Annotated[
    str | None,
    typer.Option("--at", help="date YYYY-MM-DD (default: C-day if known or assumed, else today)", show_default=False),
]
AssumeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--assume",
        "-a",
        help="NAME=VALUE, VALUE a date (true from then), true or false; repeatable, "
        "e.g. --assume ceasefire=2026-06-01 --assume us_backstop=false",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    str | None,
    typer.Option("--json", help="write the result as JSON to FILE ('-' for stdout)", show_default=False),
]
StateOpt = Annotated[
    str,
    typer.Option(
        "--min-state",
        help="lowest pledge lifecycle state that counts: "
        + ", ".join(s.value for s in PledgeState if s is not PledgeState.WITHDRAWN),
    ),
]


# ---------------------------------------------------------------------------------------------
# Loading and writing (parsing of --at/--assume/--option: coalition.forcegen.inputs)
# ---------------------------------------------------------------------------------------------


def load(path: Path | None) -> Scenario:
    """Load a scenario: embedded (None), a folder/file, or a stored ``db:KEY[@REV]``."""
    from coalition.cli.stored import load_any

    return load_any(path)


def write_json(target: str, payload: object, console: Console) -> None:
    """Write JSON to a file atomically (temp file + rename), or to stdout for '-'."""
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    if target == "-":
        typer.echo(text)
        return
    path = Path(target)
    if path.parent and not path.parent.exists():
        raise InputError(
            [
                Problem(
                    f"folder {str(path.parent)!r} does not exist",
                    field="--json",
                    hint="give a file in an existing folder, or '-' for stdout",
                )
            ]
        )
    fd, tmp = tempfile.mkstemp(prefix=".coalition-", suffix=".json", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    console.print(f"wrote {path}")


def _fail(err: InputError) -> None:
    from coalition.cli.scenario_cmds import fail

    fail(err)


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def status(
    scenario: ScenarioOpt = None,
    option: OptionOpt = None,
    at: AtOpt = None,
    assume: AssumeOpt = None,
    explain: Annotated[bool, typer.Option("--explain", help="show each pledge's explanation tree")] = False,
    min_state: StateOpt = "offered",
    json_out: JsonOpt = None,
) -> None:
    """Every pledge at a date and why it is active or not (conditions, lifecycle, expiry)."""
    try:
        scen = load(scenario)
        assumptions, engine, day = resolve_inputs(scen, assume, at, option or ())
        opts = ForceGenOptions(min_state=parse_min_state(min_state))
        picture = activation(scen, day, assumptions, options=opts, engine=engine)
    except InputError as err:  # incl. a pledge condition that does not parse (unvalidated file)
        _fail(err)
        return
    if option:  # only the pledges of capabilities the option(s) need
        caps = {r.capability for o in option for r in scen.requirements_of(o)}
        picture = dataclasses.replace(picture, pledges=tuple(p for p in picture.pledges if p.capability in caps))
    to_stdout = json_out == "-"
    console = Console(stderr=to_stdout)
    if json_out is not None:
        payload = picture.to_json(explain=True)
        try:
            write_json(json_out, payload, console)
        except InputError as err:
            _fail(err)
        if to_stdout:
            return
    baseline = None
    if assumptions:  # the same date without the planner's assumptions, for the change column
        baseline = activation(scen, day, (), options=opts)
        if option:
            baseline = dataclasses.replace(baseline, pledges=tuple(p for p in baseline.pledges if p.capability in caps))
    render_activation(
        console, picture, pledges=True, explain=explain, baseline=baseline, baseline_label="gained by assumptions"
    )


def gaps(
    scenario: ScenarioOpt = None,
    option: OptionOpt = None,
    at: AtOpt = None,
    assume: AssumeOpt = None,
    min_state: StateOpt = "offered",
    request_day: Annotated[
        int, typer.Option("--request-day", help="day (from C-day) the activation order goes out")
    ] = 0,
    max_reasons: Annotated[
        int | None,
        typer.Option("--max-reasons", help="show at most N reasons per gap (all in --json)", show_default=False),
    ] = None,
    json_out: JsonOpt = None,
) -> None:
    """The gap report: fill of every requirement line, fill rates, and named gaps with reasons."""
    try:
        scen = load(scenario)
        options = list(option) if option else [o.id for o in scen.force_options]
        assumptions, engine, day = resolve_inputs(scen, assume, at, options)
        opts = ForceGenOptions(min_state=parse_min_state(min_state), request_day=request_day)
        if not options:
            raise InputError(
                [
                    Problem(
                        "the scenario has no force options",
                        field="force_options",
                        hint="add at least one force option with requirement lines",
                    )
                ]
            )
        picture = activation(scen, day, assumptions, options=opts, engine=engine)
        pictures = [gap_picture(scen, o, day, assumptions, options=opts, picture=picture) for o in options]
    except InputError as err:
        _fail(err)
        return
    to_stdout = json_out == "-"
    console = Console(stderr=to_stdout)
    if json_out is not None:
        payload = {
            "version": JSON_VERSION,
            "scenario": scen.id,
            "illustrative": scen.illustrative,
            "options": [g.to_json() for g in pictures],
        }
        try:
            write_json(json_out, payload, console)
        except InputError as err:
            _fail(err)
        if to_stdout:
            return
    for k, g in enumerate(pictures):
        render_gaps(console, g, max_reasons=max_reasons, header=k == 0)


def register(app: typer.Typer) -> None:
    """Add `status` and `gaps` to the main app."""
    app.command("status")(status)
    app.command("gaps")(gaps)


# parse_at / parse_min_state / resolve_inputs live in coalition.forcegen.inputs; re-exported here
# for callers that imported them from this module.
__all__ = ["gaps", "load", "parse_at", "parse_min_state", "register", "resolve_inputs", "status", "write_json"]
