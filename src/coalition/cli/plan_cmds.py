"""`coalition plan` (the main job) and `coalition scenario generate` (thin).

`coalition plan` shows, for a scenario and its force options under assumptions:

1. which nations' pledges activate once a ceasefire holds (an ILLUSTRATIVE C-day is assumed,
   and said, when none is known or given);
2. per force option, the force generated against its requirements and the named gaps with
   their reasons (the gap picture of :mod:`coalition.forcegen`);
3. per force option, the optimised plan (HiGHS, live progress): unit lines, rotations, fill,
   explained gaps, KPIs; with ``--out DIR`` the plan as JSON, CSV and XLSX and the gap report.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.rule import Rule

from coalition.cli.stored import SCENARIO_HELP, DbOpt, TokenOpt

if TYPE_CHECKING:
    from coalition.forcegen.schemas import ActivationPicture, GapPicture
    from coalition.planner.schemas import Plan, PlanOptions, Progress
    from coalition.planner.service import CDay
    from coalition.scenario.schemas import Assumption, Scenario

PlanScenario = Annotated[
    Path | None,
    typer.Option("--scenario", "-s", help=SCENARIO_HELP, show_default=False),
]


def plan(
    ctx: typer.Context,
    scenario: PlanScenario = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="force option id (repeatable; default: every option)", show_default=False),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="date YYYY-MM-DD of the activation picture; also the illustrative "
            "C-day when no ceasefire date is known or assumed",
            show_default=False,
        ),
    ] = None,
    assume: Annotated[
        list[str] | None,
        typer.Option(
            "--assume",
            "-a",
            help="NAME=VALUE (a date, true or false); repeatable, e.g. "
            "--assume ceasefire=2026-06-01 --assume us_backstop=true",
            show_default=False,
        ),
    ] = None,
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit",
            min=0.01,
            help="wall-clock seconds per force option for the "
            "whole plan: building the model, the greedy baseline, solving, "
            "interpretation, explanations, the independent check and writing its "
            "files (--out, --json); at most this plus 2%. If the model cannot be "
            "built in time the plan assigns nothing and says so; see "
            "docs/planner/solver.md",
        ),
    ] = 20.0,
    seed: Annotated[int, typer.Option("--seed", help="solver random seed (same seed, same plan)")] = 0,
    period_days: Annotated[int, typer.Option("--period-days", help="planning period length", min=1)] = 28,
    json_file: Annotated[
        Path | None,
        typer.Option(
            "--json", help="write every plan as JSON to FILE (schema: docs/planner/plan-json.md)", show_default=False
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="folder for plan JSON, CSV, XLSX and gap-report JSON", show_default=False),
    ] = None,
    live: Annotated[bool, typer.Option("--live/--no-live", help="live solver progress display")] = True,
    show_units: Annotated[int, typer.Option("--show-units", help="unit lines shown per option", min=0)] = 15,
) -> None:
    """Activation, force generation and gaps, and the optimised time-phased plan.

    `coalition plan check SCENARIO PLAN.json` checks a written plan independently."""
    if ctx.invoked_subcommand is not None:
        return
    from coalition.cli.stored import load_any
    from coalition.forcegen.inputs import resolve_inputs
    from coalition.planner.schemas import PlanOptions
    from coalition.planner.service import resolve_c_day

    console = _console()
    sc = load_any(scenario)
    assumptions, _engine, day = resolve_inputs(sc, assume, at, option or ())
    at_date = day if at is not None else None
    options_ids = list(dict.fromkeys(option or [o.id for o in sc.force_options]))
    cday, effective = resolve_c_day(sc, assumptions, at_date)

    _print_header(console, sc, cday)

    look = at_date or cday.day
    picture = _show_activation(console, sc, look, effective)

    plan_opts = PlanOptions(time_limit=time_limit, seed=seed, period_days=period_days)
    session = _PlanSession(
        console,
        sc,
        look,
        effective,
        picture,
        assumptions,
        at_date,
        plan_opts,
        live,
        show_units,
        out,
        json_file,
        {"flag": False},
    )
    plans, written = _plan_all(session, options_ids)

    # outputs (written per option, inside its time budget, by finish above)
    if json_file is not None and plans:
        console.print(f"plan JSON written to {json_file}")
    if out is not None:
        console.print(f"{len(written)} files written to {out}/ (plan JSON, CSV, XLSX, gap report)")


@dataclass(frozen=True)
class _PlanSession:
    """What every force option's plan in one ``coalition plan`` shares."""

    console: Console
    sc: Scenario
    look: date
    effective: tuple[Assumption, ...]
    picture: ActivationPicture
    assumptions: tuple[Assumption, ...]
    at_date: date | None
    plan_opts: PlanOptions
    live: bool
    show_units: int
    out: Path | None
    json_file: Path | None
    stop: dict[str, bool]


def _show_activation(
    console: Console, sc: Scenario, look: date, effective: tuple[Assumption, ...]
) -> ActivationPicture:
    """1. The activation picture once the ceasefire holds."""
    from coalition.forcegen.activation import activation
    from coalition.forcegen.render import render_activation

    picture = activation(sc, look, effective)
    console.print(Rule("Which pledges activate"))
    render_activation(console, picture, pledges=False)
    return picture


def _plan_all(s: _PlanSession, options_ids: list[str]) -> tuple[list[tuple[Plan, GapPicture]], list[Path]]:
    """Plan each option in turn; a first Ctrl-C stops the solve in progress (its best plan is
    kept) and skips the remaining options, a second one interrupts."""
    stop = s.stop

    def on_sigint(signum: int, frame: object) -> None:  # noqa: ARG001
        if stop["flag"]:
            raise KeyboardInterrupt
        stop["flag"] = True

    previous = signal.signal(signal.SIGINT, on_sigint)
    plans: list[tuple[Plan, GapPicture]] = []
    written: list[Path] = []
    try:
        for oid in options_ids:
            plans.append(_plan_one(s, oid, plans, written))
            if stop["flag"]:
                s.console.print("[yellow]interrupted: remaining options skipped[/]")
                break
    finally:
        signal.signal(signal.SIGINT, previous)
    return plans, written


def _plan_one(
    s: _PlanSession, oid: str, plans: list[tuple[Plan, GapPicture]], written: list[Path]
) -> tuple[Plan, GapPicture]:
    """Force generation, named gaps and the optimised plan of option ``oid`` (with live solver
    progress); its files are written inside its time budget."""
    from coalition.forcegen.gaps import gap_picture
    from coalition.forcegen.render import render_gaps
    from coalition.planner import export, render
    from coalition.planner.engine import PlanHooks
    from coalition.planner.service import plan_option

    # 2. force generation and named gaps (pledges as offered, before optimisation)
    s.console.print(Rule(f"Force option '{oid}': force generated and gaps"))
    gap = gap_picture(s.sc, oid, s.look, s.effective, picture=s.picture)
    render_gaps(s.console, gap, header=False, matrix=False, max_reasons=3)

    # 3. the optimised plan, with live solver progress
    s.console.print(Rule(f"Force option '{oid}': optimised plan"))
    display = (
        Live(
            render.progress_table(oid, None, s.plan_opts.time_limit),
            console=s.console,
            refresh_per_second=4,
            transient=True,
        )
        if s.live
        else None
    )

    def progress(p: Progress, _d: Live | None = display, _o: str = oid) -> None:
        if _d is not None:
            _d.update(render.progress_table(_o, p, s.plan_opts.time_limit))

    def finish(p: Plan, _gap: GapPicture = gap) -> None:
        # the option's files are written inside its time budget (--time-limit)
        written.extend(_write_option(p, _gap, s.out))
        if s.json_file is not None:  # the plan set so far, rewritten atomically
            export.write_json(export.PlanSet(plans=[q for q, _ in plans] + [p]), s.json_file)

    if display is not None:
        display.start()
    try:
        outcome, _ = plan_option(
            s.sc,
            oid,
            assumptions=s.assumptions,
            at=s.at_date,
            options=s.plan_opts,
            hooks=PlanHooks(
                progress=progress,
                should_stop=lambda: s.stop["flag"],
                finish=finish if (s.out is not None or s.json_file is not None) else None,
            ),
        )
    finally:
        if display is not None:
            display.stop()
    p = outcome.plan
    for part in render.full(p, unit_limit=s.show_units):
        s.console.print(part)
    return p, gap


def _console() -> Console:
    console = Console()
    if not console.is_terminal and console.width < 160:
        console = Console(width=160)  # files and pipes: room for the unit-line table
    return console


def _print_header(console: Console, sc: Scenario, cday: CDay) -> None:
    """The scenario's name, whether it is illustrative, and the C-day with why it is that day."""
    console.print(Rule(f"[bold]{sc.name}[/]"))
    if sc.illustrative:
        console.print(
            "[bold yellow]ILLUSTRATIVE scenario[/] — not an official plan. " + " ".join(sc.attribution), highlight=False
        )
    style = "bold yellow" if cday.illustrative else "bold"
    console.print(f"[{style}]C-day: {cday.day.isoformat()}[/] — {cday.why}", highlight=False)


def _write_option(p: Plan, gap: GapPicture, out: Path | None) -> list[Path]:
    """One option's files in ``out``: plan JSON, CSVs, XLSX and the gap report."""
    from coalition.planner import export

    if out is None:
        return []
    written = [export.write_json(p, out / f"plan-{p.option}.json")]
    written += export.write_csvs(p, out)
    written.append(export.write_xlsx(p, out / f"plan-{p.option}.xlsx"))
    report = {
        "schema_version": p.schema_version,
        "option": p.option,
        "force_generation": gap.to_json(explain=False),
        "plan_gaps": [g.model_dump(mode="json") for g in p.gaps],
    }
    path = out / f"gap-report-{p.option}.json"
    export._atomic_write(path, json.dumps(report, indent=2, ensure_ascii=False).encode())
    written.append(path)
    return written


def generate(
    size: Annotated[str, typer.Option("--size", help="S, M or L (see docs/planner/benchmarks.md)")] = "S",
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same scenario)")] = 0,
    folder: Annotated[Path, typer.Argument(help="new or empty folder to write the scenario to")] = Path("."),
) -> None:
    """Write a seeded SYNTHETIC scenario (S, M or L) in the normal scenario format."""
    from coalition.errors import InputError, Problem
    from coalition.planner.generator import SIZES
    from coalition.planner.generator import generate as gen
    from coalition.scenario.service import save_scenario

    if size.upper() not in SIZES:
        raise InputError([Problem(f"unknown size {size!r}", field="--size", hint="one of S, M, L")])
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(
            [Problem("folder exists and is not empty", file=str(folder), hint="give a new or empty folder")]
        )
    sc = gen(size, seed)
    save_scenario(sc, folder)
    typer.echo(
        f"wrote {sc.id} to {folder}: {len(sc.nations)} nations, {sum(p.units for p in sc.pledges)} units "
        f"in {len(sc.pledges)} pledges, {len(sc.hubs)} hubs, {len(sc.requirements)} requirement lines, "
        f"horizon {sc.horizon_days} days (SYNTHETIC data)"
    )


def check(
    scenario: Annotated[Path, typer.Argument(help="scenario folder or .yaml/.json file the plan was made from")],
    plan_file: Annotated[Path, typer.Argument(help="plan JSON: one plan or a plan set (coalition plan --json)")],
    as_json: Annotated[bool, typer.Option("--json", help="print the violations as JSON")] = False,
    limit: Annotated[int, typer.Option("--show", help="violations shown per plan", min=0)] = 30,
) -> None:
    """Check every hard rule of a plan, day by day, from the scenario (exit 0 = no violation, 1 = some)."""
    from pydantic import ValidationError

    from coalition.errors import InputError, Problem
    from coalition.planner.check import check_plans
    from coalition.planner.schemas import Plan
    from coalition.scenario.service import load_scenario

    sc = load_scenario(scenario)
    try:
        raw = json.loads(plan_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(
            [
                Problem(
                    f"cannot read plan JSON: {err}",
                    file=str(plan_file),
                    hint="a file written by coalition plan --json or --out",
                )
            ]
        ) from None
    items = raw.get("plans", [raw]) if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise InputError(
            [Problem("not a plan or plan set", file=str(plan_file), hint="an object with 'plans' or one plan object")]
        )
    plans = []
    for i, item in enumerate(items):
        try:
            plans.append(Plan.model_validate(item))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise InputError(
                [
                    Problem(
                        f"plan {i}: {first['msg']}",
                        file=str(plan_file),
                        field=where,
                        hint="a plan of schema docs/planner/plan-json.md",
                    )
                ]
            ) from None
    reports = check_plans(sc, plans)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "option": r.option,
                        "unit_lines": r.unit_lines,
                        "ok": r.ok,
                        "violations": [v.to_json() for v in r.violations],
                    }
                    for r in reports
                ],
                indent=2,
            )
        )
    else:
        console = Console()
        if not console.is_terminal and console.width < 160:
            console = Console(width=160)  # files and pipes: one violation per line
        for r in reports:
            if r.ok:
                console.print(f"[green]plan '{r.option}': no violation[/] ({r.unit_lines} unit lines checked)")
                continue
            counts = ", ".join(f"{k} {n}" for k, n in r.by_rule().items())
            console.print(f"[red]plan '{r.option}': {len(r.violations)} violation(s)[/]: {counts}", highlight=False)
            for v in r.violations[:limit]:
                console.print(f"  [bold]{v.rule}[/] {v.where}: {v.message}", highlight=False)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------
# `plan name` / `plan pin`: a stored plan run's name and pin (coalition.planner.naming)
# ---------------------------------------------------------------------------------------------

JobArg = Annotated[
    int, typer.Argument(metavar="JOB", help="the plan's job number (as in /plan?job=N)", min=1, max=2**31 - 1)
]


def _relabel(job: int, change: object, token: str | None, database_url: str | None) -> dict[str, object]:
    """Apply ``change`` (a naming.Relabel) as the token's user, through the same service,
    rules and audit as the API; any refusal is exit 2 with its message."""
    import uuid

    from coalition.cli.stored import _factory, _principal, _refuse
    from coalition.errors import CoalitionError
    from coalition.planner import naming
    from coalition.store.db import transaction

    assert isinstance(change, naming.Relabel)
    engine = None
    try:
        engine, factory = _factory(database_url)
        with transaction(factory) as db:
            principal = _principal(db, token)
            run = naming.relabel(db, principal, job, change, request_id=f"cli-{uuid.uuid4().hex[:16]}")
            return naming.labelled(principal, run)
    except CoalitionError as exc:
        _refuse(exc)
    finally:
        if engine is not None:
            engine.dispose()


def name_cmd(
    job: JobArg,
    text: Annotated[
        str | None, typer.Argument(metavar="TEXT", help="the name: 1 to 120 characters on one line", show_default=False)
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="remove the plan's name instead")] = False,
    token: TokenOpt = None,
    database_url: DbOpt = None,
) -> None:
    """Name a stored plan (read only by your nation and HQ); a planner of its nation, or HQ."""
    from coalition.cli.stored import _refuse
    from coalition.errors import InputError, Problem
    from coalition.planner import naming

    if clear == (text is not None):
        _refuse(InputError([Problem("give a name or --clear (not both)", field="TEXT", hint='e.g. "Commons vote"')]))
    try:
        name = None if clear else naming.clean_name(text or "", field="TEXT")
    except InputError as exc:
        _refuse(exc)
    out = _relabel(job, naming.Relabel(name=name), token, database_url)
    typer.echo(f"plan {job} is named {out['name']!r}" if name else f"plan {job} has no name")


def pin_cmd(
    job: JobArg,
    unpin: Annotated[bool, typer.Option("--unpin", help="unpin the plan instead")] = False,
    token: TokenOpt = None,
    database_url: DbOpt = None,
) -> None:
    """Pin a stored plan (pinned plans list first for everyone); a planner of its nation, or HQ."""
    from coalition.planner import naming

    _relabel(job, naming.Relabel(pinned=not unpin), token, database_url)
    typer.echo(f"plan {job} is {'unpinned' if unpin else 'pinned'}")


def register(app: typer.Typer) -> None:
    """Add `plan` (with `plan check`, `plan name`, `plan pin`) to the main app and `generate` to
    `coalition scenario`."""
    plan_app = typer.Typer(
        help="Plan force options; `plan check` checks a written plan; `plan name` and `plan pin` "
        "label a stored plan run.",
        invoke_without_command=True,
        no_args_is_help=False,
    )
    plan_app.callback(invoke_without_command=True)(plan)
    plan_app.command("check")(check)
    plan_app.command("name")(name_cmd)
    plan_app.command("pin")(pin_cmd)
    app.add_typer(plan_app, name="plan")
    from coalition.cli.scenario_cmds import scenario_app

    scenario_app.command("generate")(generate)
