"""``coalition depots map | surveillance``: what a depot officer reads about a depot: its
quantity-distance map and the lots due for inspection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coalition.cli.depots_ctx import DepotOpt, JsonOpt, ScenarioOpt, _console, _depots, _network, _write
from coalition.errors import InputError, Problem


def map_cmd(
    depot: Annotated[str, typer.Option("--depot", "-d", help="the depot to draw")],
    out: Annotated[Path, typer.Option("--out", help="SVG file to write")],
    scenario: ScenarioOpt = None,
) -> None:
    """Draw the Q-D map of one depot as a standalone SVG: storehouses, exposed sites and each
    storehouse's required-distance arcs, violations in red."""
    from coalition.depots.map import depot_svg

    if out.suffix.lower() != ".svg":
        raise InputError([Problem(f"'{out.name}' is not an .svg file", field="--out", hint="e.g. --out depot.svg")])
    _, network = _network(scenario)
    target = _depots(network, depot)[0]
    _write(out, depot_svg(target, network.stock_of(target), network.catalogue))
    typer.echo(f"wrote {out}")


def surveillance_cmd(
    scenario: ScenarioOpt = None,
    depot: DepotOpt = None,
    today: Annotated[str | None, typer.Option("--today", help="the day to assess (YYYY-MM-DD; default: today)")] = None,
    within: Annotated[int, typer.Option("--within", help="days ahead that count as expiring", min=0, max=3650)] = 90,
    ledger_db: Annotated[
        str | None,
        typer.Option(
            "--ledger-db", help="custody ledger database URL: its lot suspensions count as suspended here too"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Lots overdue for inspection/proof, expiring or suspended. Exit 0 when none, 1 otherwise."""
    from datetime import date

    from coalition.depots.surveillance import surveillance

    try:
        day = date.fromisoformat(today) if today else date.today()
    except ValueError:
        raise InputError([Problem(f"'{today}' is not a date", field="--today", hint="YYYY-MM-DD")]) from None
    _, network = _network(scenario)
    chosen = _depots(network, depot)
    suspended: dict[str, str] = {}
    if ledger_db:
        from coalition.inventory.safety import ledger_suspensions
        from coalition.store.db import make_engine, session_factory, transaction

        engine = make_engine(ledger_db)
        try:
            with transaction(session_factory(engine)) as session:
                suspended = ledger_suspensions(session)
        finally:
            engine.dispose()
    report = surveillance(
        chosen, network.stock, network.catalogue, today=day, within_days=within, ledger_suspensions=suspended
    )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        con = _console()
        t = Table(title=f"Lot surveillance on {day.isoformat()} (expiring = within {within} days)")
        for c in ("lot", "item", "storehouses", "units", "last inspected", "next due", "expires", "status"):
            t.add_column(c, overflow="fold")
        for s in report.lots:
            colour = "red" if s.needs_action else ("yellow" if s.findings else "green")
            t.add_row(
                s.lot,
                s.item,
                ", ".join(s.storehouses),
                f"{s.units:,}",
                str(s.last_inspected or "—"),
                str(s.next_due or "—"),
                str(s.expires or "—"),
                f"[{colour}]{'; '.join(s.reasons) or 'ok'}[/]",
            )
        con.print(t)
        for s in report.action:
            con.print(f"[red]{s.lot}[/]: {'; '.join(s.reasons)}", highlight=False)
        con.print(
            f"{len(report.action)} lot(s) need action" if report.action else "[green]no lot is overdue or expiring[/]"
        )
    raise typer.Exit(1 if report.action else 0)


def register(depots: typer.Typer) -> None:
    """Add this module's commands to the ``coalition depots`` group (in help order)."""
    depots.command("map")(map_cmd)
    depots.command("surveillance")(surveillance_cmd)
