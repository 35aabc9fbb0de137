"""``coalition depots place``: safe placement of an incoming consignment into a depot's
storehouses (:func:`coalition.depots.placement.place`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from coalition.cli.depots_ctx import (
    DepotOpt,
    JsonOpt,
    LedgerDbOpt,
    LedgerOpt,
    ScenarioOpt,
    _console,
    _depots,
    _flag,
    _network,
    _with_ledger,
)
from coalition.errors import InputError, Problem

if TYPE_CHECKING:
    from coalition.depots.placement_state import PlacementResult
    from coalition.depots.rules import CheckReport
    from coalition.depots.schemas import Depot, Finding


def place_cmd(
    consignment: Annotated[
        Path, typer.Argument(help="consignment CSV: lot,item,quantity[,neq_kg,note] (UTF-8 or UTF-16)")
    ],
    scenario: ScenarioOpt = None,
    depot: DepotOpt = None,
    method: Annotated[str, typer.Option("--method", help="optimise or first-fit")] = "optimise",
    time_limit: Annotated[float, typer.Option("--time-limit", help="MIP time limit, s")] = 20.0,
    partial: Annotated[
        bool, typer.Option("--partial", help="keep the placeable part when some lots are refused")
    ] = False,
    override_unsurveyed: Annotated[
        str | None,
        typer.Option(
            "--override-unsurveyed",
            help="place into a depot with no surveyed exposed sites: give the reason and "
            "who decided (logged and recorded in the result)",
        ),
    ] = None,
    as_json: JsonOpt = False,
    ledger: LedgerOpt = False,
    database_url: LedgerDbOpt = None,
) -> None:
    """Place an incoming consignment safely; explain what cannot be placed.

    Exit 0 when everything is placed; 1 when anything is refused (then nothing is placed unless
    --partial); 2 for unreadable input."""
    import logging

    from coalition.depots.io import load_consignment
    from coalition.depots.placement import place
    from coalition.depots.rules import check_depot

    if method not in ("optimise", "first-fit"):
        raise InputError([Problem(f"unknown method '{method}'", field="--method", hint="optimise or first-fit")])
    _, network = _network(scenario)
    if depot is None and len(network.depots) > 1:
        raise InputError(
            [
                Problem(
                    f"the scenario has {len(network.depots)} depots: say which one receives the consignment",
                    field="--depot",
                    hint=f"--depot one of {', '.join(d.id for d in network.depots)}",
                )
            ]
        )
    target = _depots(network, depot)[0]
    base, current = network.catalogue, list(network.stock_of(target))
    if ledger:
        held, base = _with_ledger(network, [target], database_url)
        current += held
    catalogue, incoming = load_consignment(consignment, base)
    if override_unsurveyed:
        logging.basicConfig(level=logging.WARNING)
    result = place(
        target,
        catalogue,
        current,
        incoming,
        method=method,
        time_limit=time_limit,
        override_unsurveyed=override_unsurveyed,
    )
    refused = bool(result.refused)
    if refused and not partial:
        result.placed, result.units_placed, result.neq_placed_kg, result.lots_stored = [], 0, 0.0, 0.0
        result.notes.append(
            f"consignment refused: {len(result.refused)} lot(s) cannot be placed, so nothing is "
            "placed (use --partial to keep the placeable part)"
        )
    after = check_depot(target, list(current) + result.lines(), catalogue)
    before = check_depot(target, list(current), catalogue)
    new_errors = [f for f in after.errors if f not in before.errors]
    if as_json:
        out = result.as_dict()
        out["consignment_refused"] = refused and not partial
        out["check_after"] = {
            "new_errors": [f.model_dump(mode="json") for f in new_errors],
            "pre_existing_errors": len(before.errors),
            "unverified_defaults": list(after.unverified),
        }
        typer.echo(json.dumps(out, indent=2, default=str))
    else:
        _print_placement(target, result, len(incoming), new_errors, after)
    raise typer.Exit(1 if (refused or new_errors) else 0)


def _print_placement(
    target: Depot, result: PlacementResult, n_incoming: int, new_errors: list[Finding], after: CheckReport
) -> None:
    """The placed and refused lots, the notes, the figures against the first-fit baseline and the
    check of the resulting stock."""
    con = _console()
    t = Table(title=f"Placement into {target.name} ({target.id}) — {result.method}")
    for c in ("lot", "storehouse", "units", "NEQ (kg)", "pallets", "unverified defaults"):
        t.add_column(c, overflow="fold")
    for p in result.placed:
        t.add_row(
            p.lot,
            p.storehouse,
            f"{p.quantity:,}",
            f"{p.neq_kg:,.1f}",
            str(p.pallets),
            ", ".join(result.flags.get(p.storehouse, ())),
        )
    con.print(t)
    if result.refused:
        r = Table(title=f"Not placed ({len(result.refused)} lot(s))", title_style="red")
        for c in ("lot", "units", "rule", "why"):
            r.add_column(c, overflow="fold")
        for x in result.refused:
            r.add_row(x.lot, f"{x.quantity:,}", x.rule, x.reason)
        con.print(r)
    for note in result.notes:
        con.print(f"[yellow]{note}[/]", highlight=False)
    b = result.baseline
    con.print(
        f"lots stored {result.lots_stored:.2f}/{n_incoming}, storehouses touched {result.touched}, "
        f"handling {result.handling_pallet_m:,.0f} pallet-m"
        + (
            f"; first-fit baseline: {b.lots_stored:.2f} lots, {b.touched} touched, {b.handling_pallet_m:,.0f} pallet-m"
            if b
            else ""
        )
    )
    con.print(
        "[green]the resulting stock passes the check[/]"
        if not new_errors
        else f"[red]{len(new_errors)} new rule break(s) — this is a bug[/]"
    )
    if after.unverified:
        con.print(_flag(after.unverified), highlight=False)


def register(depots: typer.Typer) -> None:
    """Add this module's commands to the ``coalition depots`` group (in help order)."""
    depots.command("place")(place_cmd)
