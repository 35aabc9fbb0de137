"""``coalition depots check | licence``: check depots' stock against the storage rules and
compute the licences a layout allows."""

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
    ProfileOverride,
    ScenarioOpt,
    _console,
    _depots,
    _flag,
    _fmt_kg,
    _network,
    _with_ledger,
    _write,
)

if TYPE_CHECKING:
    from rich.console import Console

    from coalition.depots.rules import CheckReport, StorehouseReport
    from coalition.depots.schemas import Depot


def check_cmd(
    scenario: ScenarioOpt = None,
    depot: DepotOpt = None,
    profile: ProfileOverride = None,
    as_json: JsonOpt = False,
    ledger: LedgerOpt = False,
    database_url: LedgerDbOpt = None,
) -> None:
    """Check every storehouse: NEQ by HD vs licence, mixing, Q-D. Exit 1 when a rule is broken."""
    from coalition.depots.rules import check_network
    from coalition.depots.schemas import DepotNetwork

    sc, network = _network(scenario)
    chosen = _depots(network, depot, profile)
    stock = list(network.stock if depot is None else network.stock_of(chosen[0]))
    items, lots = network.items, network.lots
    if ledger:
        held, cat = _with_ledger(network, chosen, database_url)
        stock += held
        items, lots = cat.items, cat.lots
    net = DepotNetwork.model_construct(
        items=items, lots=lots, depots=tuple(chosen), stock=tuple(stock), note=network.note
    )
    report: CheckReport = check_network(net)
    from coalition.depots.licence import compute_licences

    hub_ids = {h.id for h in sc.hubs} | {r.id for r in sc.rear_nodes}
    warnings = [
        f"depot {d.id}: hub '{d.hub}' is not a hub or rear node of the scenario"
        for d in chosen
        if hub_ids and d.hub not in hub_ids
    ]
    # licence review: an issued limit the layout cannot support (see `coalition depots licence`)
    warnings += [f"{lic.storehouse}: {note}" for d in chosen for lic in compute_licences(d) for note in lic.notes]
    # Say what the verdict covers: without --ledger it is the scenario's declared stock only,
    # and stock received through the custody ledger is not in it.
    basis = (
        "scenario stock lines and the custody ledger's holdings"
        if ledger
        else "scenario stock lines only; the custody ledger's holdings are not included (add --ledger)"
    )
    if as_json:
        out = report.as_dict()
        out["warnings"] = warnings
        out["stock_basis"] = "scenario+ledger" if ledger else "scenario-only"
        typer.echo(json.dumps(out, indent=2, default=str))
    else:
        con = _console()
        for d in chosen:
            _print_depot(con, report, d)
        for w in warnings:
            con.print(f"[yellow]warning[/] {w}")
        errs = len(report.errors)
        con.print(
            f"{'[green]compliant[/]' if not errs else f'[red]{errs} rule(s) broken[/]'}; "
            f"{len(report.unverified)} unverified default(s) used (see docs/storage-rules.md)"
        )
        con.print(f"stock checked: {basis}", highlight=False)
    raise typer.Exit(0 if report.compliant else 1)


def _print_depot(con: Console, report: CheckReport, d: Depot) -> None:
    """The table of depot ``d`` and each storehouse's findings."""
    con.print(_depot_table(report, d))
    for r in (r for r in report.storehouses if r.depot == d.id):
        for f in r.findings:
            colour = "red" if f.is_error else "yellow"
            con.print(
                f"  [{colour}]{f.severity.value}[/] {r.storehouse} {f.rule}: {f.message}"
                + (f" — {_flag(f.unverified)}" if f.unverified else ""),
                highlight=False,
            )
        if r.unverified:
            con.print(f"  {r.storehouse}: {_flag(r.unverified)}", highlight=False)


def _depot_table(report: CheckReport, d: Depot) -> Table:
    """One row per storehouse of depot ``d``: its figures and verdicts."""
    t = Table(title=f"{d.name} — {d.id} at {d.hub} (profile {d.profile}){' — ILLUSTRATIVE' if d.illustrative else ''}")
    for c in (
        "storehouse",
        "kind",
        "NEQ by HD (kg)",
        "as HD (Q-D)",
        "licence (kg)",
        "pallets",
        "mixing",
        "Q-D",
        "status",
    ):
        t.add_column(c)
    for r in (r for r in report.storehouses if r.depot == d.id):
        t.add_row(*_storehouse_row(r))
    return t


def _storehouse_row(r: StorehouseReport) -> tuple[str, ...]:
    """The table cells of one storehouse's report."""
    neq = ", ".join(f"{k}: {_fmt_kg(v)}" for k, v in r.neq_by_hd.items() if v > 0) or "empty"
    lic = (
        "none recorded"
        if r.licensed is None
        else (
            ", ".join(
                f"{k}: {_fmt_kg(q)}/{_fmt_kg(r.licensed.get(k, 0.0))}" for k, q in r.aggregate.licence_neq.items()
            )
            or "—"
        )
    )
    qd_errors = [f for f in r.findings if f.rule.startswith("qd.")]
    qd = (
        f"[red]{len(qd_errors)} too close[/]"
        if qd_errors
        else (
            f"ok; closest {r.tightest.other} {r.tightest.actual_m:,.0f}/{r.tightest.required_m:,.0f} m"
            if r.tightest and r.tightest.required_m
            else "ok"
        )
    )
    mix = "[green]ok[/]" if r.mixing_ok else f"[red]{sum(not p.allowed for p in r.mixing)} failing[/]"
    status = "[green]compliant[/]" if r.compliant else "[red]VIOLATION[/]"
    return (
        r.storehouse,
        r.kind,
        neq,
        r.aggregate.describe(),
        lic,
        f"{r.pallets:.0f}/{r.capacity}",
        mix,
        qd,
        status,
    )


def licence_cmd(
    scenario: ScenarioOpt = None,
    depot: DepotOpt = None,
    profile: ProfileOverride = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="printable licence sheets (markdown)")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="write the printable HTML licence document here")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Maximum NEQ per HD each storehouse may hold from its layout, with the controlling site."""
    from coalition.depots.licence import compute_licences, licence_html, licence_sheet

    _, network = _network(scenario)
    chosen = _depots(network, depot, profile)
    all_lic = [lic for d in chosen for lic in compute_licences(d)]
    if html is not None:
        cat = network.catalogue
        held: dict[str, set[str]] = {}
        for line in network.stock:
            item = cat.item_of(line.lot)
            if item is not None:
                held.setdefault(line.storehouse, set()).add(item.cg)
        docs = [
            licence_html(d, [x for x in all_lic if x.depot == d.id], cgs={k: tuple(sorted(v)) for k, v in held.items()})
            for d in chosen
        ]
        _write(html, docs[0] if len(docs) == 1 else "\n".join(docs))
        typer.echo(f"wrote {html} ({len(all_lic)} licence(s))")
        return
    if markdown:
        cat = network.catalogue
        for d in chosen:
            for lic in (x for x in all_lic if x.depot == d.id):
                cgs = sorted(
                    {
                        item.cg
                        for stock in network.stock
                        if stock.storehouse == lic.storehouse and (item := cat.item_of(stock.lot)) is not None
                    }
                )
                typer.echo(licence_sheet(d, lic, cgs=tuple(cgs)))
        return
    if as_json:
        typer.echo(json.dumps([lic.as_dict() for lic in all_lic], indent=2))
        return
    con = _console()
    for d in chosen:
        con.rule(
            f"Explosives limit licences — {d.name} ({d.id}, profile {d.profile})"
            + (" — ILLUSTRATIVE" if d.illustrative else "")
        )
        for lic in (x for x in all_lic if x.depot == d.id):
            t = Table(title=f"Storehouse {lic.storehouse} ({lic.kind})")
            for c in ("HD", "Q_max (kg)", "controlling site", "relation", "distance (m)", "issued (kg)", "basis"):
                t.add_column(c)
            for hd, ll in lic.lines.items():
                issued = "—" if lic.issued is None else _fmt_kg(lic.issued.get(hd, 0.0))
                basis = ", ".join(ll.basis) + (f" — {ll.note}" if ll.note else "")
                t.add_row(
                    hd,
                    _fmt_kg(ll.q_max_kg, limit=True),
                    ll.controlling or "—",
                    ll.relation or "—",
                    f"{ll.distance_m:,.1f}" if ll.distance_m is not None else "—",
                    issued,
                    basis,
                )
            if lic.heavy_case_1_1 is not None:
                h = lic.heavy_case_1_1
                t.add_row(
                    "1.1 heavy-case",
                    _fmt_kg(h.q_max_kg, limit=True),
                    h.controlling or "—",
                    h.relation or "—",
                    f"{h.distance_m:,.1f}" if h.distance_m is not None else "—",
                    "",
                    ", ".join(h.basis),
                )
            con.print(t)
            for n in lic.notes:
                con.print(f"  [yellow]warning[/] {n}")
            if lic.unverified:
                con.print(f"  {_flag(lic.unverified)}", highlight=False)
    con.print(
        "Each HD is computed in isolation (Q_max = (d/k)³, zero inside a fixed minimum); "
        "mixed storage is then limited by the aggregation rules (coalition depots check)."
    )


def register(depots: typer.Typer) -> None:
    """Add this module's commands to the ``coalition depots`` group (in help order)."""
    depots.command("check")(check_cmd)
    depots.command("licence")(licence_cmd)
