"""`coalition sustain` (thin): demand, days of supply, legal Class V days, medical coverage and
enablers-first checks of one force option's plan.

The plan is the one `coalition plan` gives for the same arguments (computed here), or the plan
of the option in ``--plan FILE`` (``coalition plan --json`` or ``plan-<option>.json``). With
``--inventory`` the Class V on hand comes from the custody inventory in the configured store
(``COALITION_DATABASE_URL``); otherwise from the scenario. Bad input: every problem, exit 2,
nothing written.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from coalition.cli import context
from coalition.errors import InputError, Problem

ScenarioOpt = Annotated[
    Path | None,
    typer.Option(
        "--scenario",
        "-s",
        help="scenario folder, .yaml/.json file or .xlsx (default: embedded paris-2026)",
        show_default=False,
    ),
]


def _atomic(path: Path, data: bytes) -> None:
    from coalition.planner.export import _atomic_write

    _atomic_write(path, data)


def _csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([["" if v is None else v for v in r] for r in rows])
    return buf.getvalue().encode("utf-8")


def _xlsx_bytes(tables: dict[str, tuple[list[str], list[list[Any]]]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    if wb.active is not None:  # the default empty sheet
        wb.remove(wb.active)
    for name, (header, rows) in tables.items():
        ws = wb.create_sheet(name[:31])
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for r in rows:
            ws.append(["" if v is None else (str(v) if isinstance(v, bool) else v) for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _targets(json_file: str | None, csv_dir: Path | None, xlsx: Path | None) -> None:
    problems = []
    for opt, p in (("--json", None if json_file in (None, "-") else Path(json_file)), ("--xlsx", xlsx)):
        if p is not None and not p.parent.exists():
            problems.append(
                Problem(f"folder {str(p.parent)!r} does not exist", field=opt, hint="give a file in an existing folder")
            )
    if csv_dir is not None and csv_dir.exists() and not csv_dir.is_dir():
        problems.append(Problem("not a folder", file=str(csv_dir), field="--csv"))
    if problems:
        raise InputError(problems)


def _hub_table(shown: list[dict[str, Any]]) -> Table:
    """Per hub at its peak day range: demand by class, resupply, corridors, days of supply."""
    t = Table(
        title="Per hub at its peak day range (t or m³ per day; resupply after host-nation support, "
        "against the corridors into the hub, which deployment and rotation share; DOS on hand)",
        show_lines=False,
    )
    for col in (
        "hub",
        "days",
        "pers.",
        "I t",
        "water m³",
        "III(B) m³",
        "V t",
        "resupply t",
        "corridors t",
        "lowest DOS",
        "runs out",
        "legal Cl.V days",
        "limited by",
    ):
        t.add_column(col, justify="left" if col in ("hub", "limited by", "runs out") else "right")
    for h in sorted(shown, key=lambda h: h["hub"]):
        peak = max(h["ranges"], key=lambda r: r["personnel"])
        c = peak["classes"]

        def fmt(v: float | None, nd: int = 1) -> str:
            return "unknown" if v is None else f"{v:,.{nd}f}"

        doses = [(s["dos_on_hand"], s["class"]) for s in h["stock"] if s["dos_on_hand"] is not None]
        low = min(doses) if doses else None
        outs = [(s["runs_out_day"], s["class"]) for s in h["stock"] if s["runs_out_day"] is not None]
        first = min(outs) if outs else None
        cv = h["legal_class_v_days"]
        t.add_row(
            h["hub"],
            f"{peak['start_day']}-{peak['end_day']}",
            f"{peak['personnel']:,}",
            fmt(c["I"]["demand_t"]),
            fmt(c["water"]["demand_m3"]),
            fmt(c["III(B)"]["demand_m3"]),
            fmt(c["V"]["demand_t"], 2),
            fmt(h["resupply_peak_t_per_day"]),
            "none"
            if h["corridor_capacity_into_hub_t_per_day"] is None
            else f"{h['corridor_capacity_into_hub_t_per_day']:,.0f}",
            "—" if low is None else f"{low[0]:.1f} ({low[1]})",
            "—" if first is None else f"D+{first[0]} ({first[1]})",
            "unknown" if cv is None else f"{cv:,.1f}",
            h["limiting"] or h["method"],
        )
    return t


def _print_medical(console: Console, m: dict[str, Any], show_hubs: int) -> None:
    """Medical coverage (10-1-2) and the first uncovered hub-day ranges."""

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.1f}%"

    constrained = [u for u in m["uncovered"] if u["constrained"]]
    console.print(
        f"Medical (10-1-2): {pct(m['share_within_1h'])} of personnel-days within 1 h of Role 1, "
        f"{pct(m['share_within_2h'])} within 2 h of Role 2; {len(constrained)} manoeuvre/training "
        f"hub-day ranges uncovered, {len(m['uncovered']) - len(constrained)} other",
        highlight=False,
    )
    by_hub: dict[str, list[dict[str, Any]]] = {}
    for u in constrained:
        by_hub.setdefault(u["hub"], []).append(u)
    for hub, us in list(by_hub.items())[:show_hubs]:
        days = sum(u["end_day"] - u["start_day"] + 1 for u in us)
        console.print(
            f"  uncovered {hub}: {days} hub-days in {len(us)} ranges, first D+{us[0]['start_day']}.."
            f"D+{us[0]['end_day']}: {us[0]['reason']} (all in the JSON)",
            highlight=False,
        )


def _render(console: Console, rep: Any, j: dict[str, Any], show_hubs: int = 30) -> None:
    a = j["assumed"]
    console.print(
        f"[bold]Sustainment of option '{j['option']}'[/] — climate {a['climate']}, ration cycle "
        f"{a['ration_cycle']}, activity {a['activity']}" + (" — ILLUSTRATIVE scenario" if j["illustrative"] else ""),
        highlight=False,
    )
    shown = sorted(j["hubs"], key=lambda h: -max(r["personnel"] for r in h["ranges"]))[:show_hubs]
    t = _hub_table(shown)
    console.print(t)
    if len(j["hubs"]) > len(shown):
        console.print(f"({len(j['hubs']) - len(shown)} smaller hubs not shown; --show-hubs N, or the JSON)")
    _print_medical(console, j["medical"], show_hubs)
    f = j.get("fill")
    if f:

        def p(v: float | None) -> str:
            return "n/a" if v is None else f"{100 * v:.1f}%"

        e, t = f["by_priority"]["essential"], f["total"]
        console.print(
            f"Fill, two measures (docs/sustainment.md §7): at {f['at']} (D+{f['at_day']}) the pledges fill "
            f"{p(t['static_fill'])} of the units (essential lines filled {e['lines_filled']}/{e['lines']}); "
            f"the plan has {p(t['static_fill_plan'])} present that day and covers "
            f"{p(t['time_weighted_coverage'])} of the unit-days over the horizon "
            f"(essential {p(e['time_weighted_coverage'])})",
            highlight=False,
        )
    illegal = [h for h in j["hubs"] if h["class_v_target_is_legal"] is False]
    if illegal:
        console.print(
            "[yellow]Class V target DOS above what the depot licences allow:[/] "
            + ", ".join(
                f"{h['hub']} (target {h['class_v_target_days']:g} d, legal {h['legal_class_v_days']:g} d)"
                for h in illegal[:show_hubs]
            ),
            highlight=False,
        )
    for v in j["precedence"]:
        console.print(f"[yellow]precedence[/] {v['message']}", highlight=False)
    if j["flags"]:
        console.print(
            "Figures depend on: "
            + "; ".join(j["flags"][:8])
            + (f" (+{len(j['flags']) - 8} more in the JSON)" if len(j["flags"]) > 8 else ""),
            highlight=False,
        )


def sustain(
    option: Annotated[str, typer.Option("--option", "-o", help="force option id")],
    scenario: ScenarioOpt = None,
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan", help="read the plan from FILE (coalition plan --json) instead of planning", show_default=False
        ),
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="date YYYY-MM-DD (as coalition plan)", show_default=False)
    ] = None,
    assume: Annotated[
        list[str] | None,
        typer.Option("--assume", "-a", help="NAME=VALUE (a date, true or false); repeatable", show_default=False),
    ] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="solver seconds when planning", min=0.01)] = 20.0,
    seed: Annotated[int, typer.Option("--seed", help="solver random seed when planning")] = 0,
    period_days: Annotated[int, typer.Option("--period-days", help="planning period length when planning", min=1)] = 28,
    inventory: Annotated[
        bool, typer.Option("--inventory/--no-inventory", help="Class V on hand from the custody inventory of the store")
    ] = False,
    json_file: Annotated[
        str | None, typer.Option("--json", help="write the report as JSON to FILE ('-' = stdout)", show_default=False)
    ] = None,
    csv_dir: Annotated[
        Path | None, typer.Option("--csv", help="write the report's tables as CSV into DIR", show_default=False)
    ] = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="write the report's tables as one workbook", show_default=False)
    ] = None,
    fill: Annotated[
        bool,
        typer.Option(
            "--fill/--no-fill",
            help="also the two fill measures side by side (runs the gap picture at the activation date)",
        ),
    ] = False,
    show_hubs: Annotated[
        int, typer.Option("--show-hubs", help="hubs shown in the table (all are in the JSON)", min=0)
    ] = 30,
) -> None:
    """Daily demand per hub and class, days of supply, legal Class V days, 10-1-2 medical coverage."""
    from coalition.cli.gaps_cmds import _fail

    console = Console(stderr=json_file == "-")
    try:
        _run(
            console,
            option,
            scenario,
            plan_file,
            at,
            assume,
            (time_limit, seed, period_days),
            inventory,
            json_file,
            csv_dir,
            xlsx,
            (fill, show_hubs),
        )
    except InputError as err:
        _fail(err)


def _run(
    console: Console,
    option: str,
    scenario: Path | None,
    plan_file: Path | None,
    at: str | None,
    assume: list[str] | None,
    planning: tuple[float, int, int],
    inventory: bool,
    json_file: str | None,
    csv_dir: Path | None,
    xlsx: Path | None,
    show: tuple[bool, int],
) -> None:
    from coalition.forcegen.inputs import resolve_inputs
    from coalition.planner.service import check_option, resolve_c_day
    from coalition.scenario.service import load_scenario
    from coalition.sustain.report import report_tables
    from coalition.sustain.service import build_report, condition_holds, plan_for, read_plan_file

    _targets(json_file, csv_dir, xlsx)
    sc = load_scenario(scenario)
    check_option(sc, option)
    assumptions, _engine, day = resolve_inputs(sc, assume, at, [option])
    at_date = day if at is not None else None
    cday, effective = resolve_c_day(sc, assumptions, at_date)
    if plan_file is not None:
        view = read_plan_file(plan_file, option)
    else:
        time_limit, seed, period_days = planning
        view, _ = plan_for(
            sc, option, assumptions=assumptions, at=at_date, time_limit=time_limit, seed=seed, period_days=period_days
        )
    on_hand = None
    if inventory:
        on_hand = _inventory(sc, console)
    rep = build_report(sc, view, on_hand=on_hand, holds=condition_holds(sc, effective, cday.day))
    j = rep.to_json()
    if show[0]:
        j["fill"] = _fill(sc, option, view, at_date or cday.day, cday.day, effective)
    tables = report_tables(rep, j)
    if json_file is not None:
        _write_json(json_file, j, console)
    if csv_dir is not None:
        csv_dir.mkdir(parents=True, exist_ok=True)
        for name, (header, rows) in tables.items():
            _atomic(csv_dir / f"sustain-{name}-{option}.csv", _csv_bytes(header, rows))
        console.print(f"wrote {len(tables)} CSV files to {csv_dir}/")
    if xlsx is not None:
        _atomic(xlsx, _xlsx_bytes(tables))
        console.print(f"wrote {xlsx}")
    _render(console, rep, j, show[1])


def _write_json(target: str, payload: dict[str, Any], console: Console) -> None:
    """Pretty JSON for a small report; compact for a large one (the standard library pretty-prints
    in pure Python: seconds for an L-size plan, against a fraction of one for compact)."""
    import json

    big = len(payload.get("hubs", ())) > 30
    text = json.dumps(payload, ensure_ascii=False, **({"separators": (",", ":")} if big else {"indent": 2}))
    if target == "-":
        typer.echo(text)
        return
    _atomic(Path(target), (text + "\n").encode("utf-8"))
    console.print(f"wrote {target}")


def _fill(sc: Any, option: str, view: Any, look: Any, c_day: Any, effective: Any) -> dict[str, Any]:
    """The two fill measures side by side: the gap picture at ``look`` and the plan."""
    from coalition.forcegen.gaps import gap_picture
    from coalition.sustain.fill import fill_measures

    gap = gap_picture(sc, option, look, effective)
    m = fill_measures(
        sc.requirements_of(option), gap.lines, view.lines, at_day=(look - c_day).days, horizon_days=view.horizon_days
    )
    return {"at": look.isoformat(), **m.to_json()}


def _inventory(sc: Any, console: Console) -> Any:
    from sqlalchemy.exc import SQLAlchemyError

    from coalition.store.db import make_engine, session_factory
    from coalition.sustain.service import inventory_on_hand

    url = context.settings().database_url
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            from coalition.ledger.sample import ledger_network

            on_hand, unknown = inventory_on_hand(session, sc, ledger_network(sc.depots).catalogue)
    except SQLAlchemyError as exc:
        raise InputError(
            [
                Problem(
                    f"cannot read the custody inventory ({type(exc).__name__})",
                    field="--inventory",
                    hint=f"store {url}: is it migrated and does it hold a ledger? "
                    "(or drop --inventory to use the scenario's stock)",
                )
            ]
        ) from None
    finally:
        engine.dispose()
    for u in unknown:
        console.print(f"[yellow]not counted:[/] {u}", highlight=False)
    return on_hand


def register(app: typer.Typer) -> None:
    app.command("sustain")(sustain)
