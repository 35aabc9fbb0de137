"""What every ``coalition depots`` command shares: the common options, the console, the depot
network of the scenario (optionally with the custody ledger's held lots), the depots an option
selects, and writing a result file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from coalition.errors import InputError, Problem, closest

if TYPE_CHECKING:
    from coalition.depots.schemas import Catalogue, Depot, DepotNetwork, StockLine
    from coalition.scenario.schemas import Scenario


ScenarioOpt = Annotated[
    Path | None,
    typer.Option("--scenario", "-s", help="scenario folder or file (default: the embedded paris-2026)"),
]


JsonOpt = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]


DepotOpt = Annotated[str | None, typer.Option("--depot", "-d", help="only this depot id")]


ProfileOverride = Annotated[
    str | None,
    typer.Option(
        "--profile", help="cross-check under another rule profile (iatg or us-desr) instead of each depot's own"
    ),
]


def _console() -> Console:
    return Console(width=160)


def _fmt_kg(v: float | None, *, limit: bool = False) -> str:
    """Whole kg; a limit is rounded down so a printed limit is never above the computed one."""
    if v is None:
        return "—"
    if math.isinf(v):
        return "∞"
    return f"{math.floor(v):,}" if limit else f"{v:,.0f}"


def _network(scenario: Path | None) -> tuple[Scenario, DepotNetwork]:
    from coalition.scenario.service import load_scenario

    sc = load_scenario(scenario)
    return sc, sc.depots


LedgerOpt = Annotated[
    bool,
    typer.Option(
        "--ledger",
        help="add the custody ledger's holdings in the depot's storehouses to the scenario's stock lines "
        "(as the dashboard and the API do); the database from --database-url / settings",
    ),
]


LedgerDbOpt = Annotated[
    str | None, typer.Option("--database-url", help="the ledger's database (with --ledger)", show_default=False)
]


def _with_ledger(
    network: DepotNetwork, depots: list[Depot], database_url: str | None
) -> tuple[list[StockLine], Catalogue]:
    """The ledger's held lots in ``depots`` and the catalogue extended by them
    (:func:`coalition.inventory.safety.depot_stock`, shared with the dashboard and the API)."""
    from coalition.cli.ledger_ctx import _ctx
    from coalition.depots.schemas import Catalogue
    from coalition.inventory.safety import depot_stock
    from coalition.ledger.sample import ledger_network
    from coalition.store.db import transaction

    ctx = _ctx(database_url, None)
    lines: list[StockLine] = []
    items = {i.id: i for i in network.items}
    lots = {lot.id: lot for lot in network.lots}
    with transaction(ctx.factory) as s:
        for d in depots:
            stock = depot_stock(s, ledger_network(network), d)
            lines += stock.ledger
            items.update({i.id: i for i in stock.catalogue.items if i.id not in items})
            lots.update({lot.id: lot for lot in stock.catalogue.lots if lot.id not in lots})
    return lines, Catalogue(items=tuple(items.values()), lots=tuple(lots.values()))


def _depots(network: DepotNetwork, depot: str | None, profile: str | None = None) -> list[Depot]:
    if profile is not None and profile not in ("iatg", "us-desr"):
        raise InputError([Problem(f"unknown rule profile '{profile}'", field="--profile", hint="iatg or us-desr")])
    if profile is not None:
        network = network.model_copy(
            update={"depots": tuple(d.model_copy(update={"profile": profile}) for d in network.depots)}
        )
    if not network.depots:
        raise InputError(
            [Problem("the scenario has no depots", field="depots", hint="add a depots.yaml to the scenario folder")]
        )
    if depot is None:
        return list(network.depots)
    found = network.depot(depot)
    if found is None:
        ids = [d.id for d in network.depots]
        hint = closest(depot, ids)
        raise InputError(
            [
                Problem(
                    f"unknown depot '{depot}'",
                    field="--depot",
                    hint=f"did you mean '{hint}'?" if hint else f"valid: {', '.join(ids)}",
                )
            ]
        )
    return [found]


def _flag(unverified: tuple[str, ...] | list[str]) -> str:
    """'unverified default: <record> = <value>, …' naming each unverified value used."""
    if not unverified:
        return ""
    from coalition.depots.rulebook import load_rulebook, short_value

    book = load_rulebook()
    return "[yellow]unverified default: " + "; ".join(short_value(book, u) for u in unverified) + "[/]"


def _write(path: Path, text: str) -> None:
    """Write a whole file or nothing (a temporary file renamed into place)."""
    import os
    import tempfile

    target = Path(path)
    if target.parent and not target.parent.exists():
        raise InputError([Problem(f"folder {target.parent} does not exist", field="--out", hint="an existing folder")])
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
