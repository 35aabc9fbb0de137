"""CLI commands: ``coalition depots qd | mix | check | licence | place``.

Thin: parse options, call the pure depots functions, render Rich tables or JSON. Outputs that
depend on an unverified rule value (status U in the rulebook) say "unverified default" and name it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

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


depots_app = typer.Typer(
    help="Protected storage facilities: explosives safety rules, licences, safe placement.", no_args_is_help=True
)


def _qd_problems(
    hd: str | None, pes: str, face: str, es: str, es_face: str, es_type: str, profile: str, cg: str | None
) -> list[Problem]:
    """Every problem with the options of ``depots qd`` (each naming its option)."""
    from coalition.depots.rulebook import ECM_TYPES
    from coalition.depots.schemas import COMPATIBILITY_GROUPS, LEGAL_CODES, StorehouseKind

    problems: list[Problem] = []
    if hd is None:
        problems.append(Problem("--hd is required (or --function)", field="--hd", hint="1.1 1.2 1.3 1.4 1.5 1.6"))
    kinds = ["*", *(k.value for k in StorehouseKind)]
    for name, value, valid in (
        ("--pes", pes, kinds),
        ("--es", es, kinds),
        ("--face", face, ["*", "front", "side", "rear"]),
        ("--es-face", es_face, ["*", "front", "side", "rear"]),
        ("--es-type", es_type, list(ECM_TYPES)),
        ("--profile", profile, ["iatg", "us-desr"]),
    ):
        if value not in valid:
            problems.append(Problem(f"'{value}' is not valid", field=name, hint=f"valid: {', '.join(valid)}"))
    if face != "*" and pes != StorehouseKind.EARTH_COVERED.value:
        problems.append(
            Problem(
                f"--face {face} needs an earth-covered PES (--pes earth-covered); "
                f"a {pes if pes != '*' else 'PES of unspecified kind'} has no faces",
                field="--face",
                hint="drop --face, or give --pes earth-covered",
            )
        )
    if (es_face != "*" or es_type != "*") and es != StorehouseKind.EARTH_COVERED.value:
        problems.append(
            Problem(
                "--es-face and --es-type describe an earth-covered exposed storehouse",
                field="--es-face",
                hint="give --es earth-covered",
            )
        )
    if cg is not None:
        letter = cg.strip().upper()
        if letter not in COMPATIBILITY_GROUPS:
            problems.append(
                Problem(
                    f"'{cg}' is not a compatibility group",
                    field="--cg",
                    hint=f"valid: {' '.join(COMPATIBILITY_GROUPS)} (I, M, O, P, Q and R are not used)",
                )
            )
        elif hd in LEGAL_CODES and letter not in LEGAL_CODES[hd]:
            problems.append(
                Problem(
                    f"{hd}{letter} is not one of the 35 legal classification codes",
                    field="--cg",
                    hint=f"HD {hd} permits {', '.join(hd + c for c in LEGAL_CODES[hd])}",
                )
            )
    return problems


@depots_app.command("qd")
def qd_cmd(
    hd: Annotated[str | None, typer.Option("--hd", help="hazard division 1.1 .. 1.6")] = None,
    neq: Annotated[float, typer.Option("--neq", help="net explosive quantity, kg")] = 0.0,
    relation: Annotated[str, typer.Option("--relation", help="IMD, PBD, PTRD, IBD, VBD or IBD-LD")] = "IBD",
    pes: Annotated[
        str, typer.Option("--pes", help="PES kind: earth-covered, above-ground, open-stack, container, underground")
    ] = "*",
    face: Annotated[
        str, typer.Option("--face", help="earth-covered PES only: its face toward the ES (front, side, rear)")
    ] = "*",
    es: Annotated[str, typer.Option("--es", help="for IMD: the exposed storehouse kind")] = "*",
    es_face: Annotated[
        str, typer.Option("--es-face", help="for IMD to an earth-covered ES: its face toward the PES")
    ] = "*",
    es_type: Annotated[
        str, typer.Option("--es-type", help="for IMD to an earth-covered ES: 7-bar, 3-bar or undefined")
    ] = "*",
    traversed: Annotated[bool, typer.Option("--traversed", help="the pair is traversed")] = False,
    heavy_case: Annotated[bool, typer.Option("--heavy-case", help="heavy-case fragments")] = False,
    cg: Annotated[str | None, typer.Option("--cg", help="compatibility group (S makes 1.4 → 1.4S)")] = None,
    function: Annotated[
        str | None, typer.Option("--function", help="evaluate an unbound sourced function instead, e.g. iatg.curve.BD1")
    ] = None,
    profile: Annotated[str, typer.Option("--profile", help="rule profile: iatg or us-desr")] = "iatg",
    as_json: JsonOpt = False,
) -> None:
    """Required distance for one PES–ES relation, with its basis. Exit 2 for bad input, including
    an NEQ beyond every sourced rule (never a null distance)."""
    from coalition.depots.qd import curve_distance, required_distance
    from coalition.depots.rulebook import FT_TO_M, Siting, load_rulebook

    book = load_rulebook()
    if function is not None:
        curve = book.curves.get(function)
        if curve is None:
            raise InputError(
                [Problem(f"unknown function '{function}'", field="--function", hint=f"valid: {', '.join(book.curves)}")]
            )
        d = curve_distance(curve, neq)
        out = {
            "function": function,
            "neq_kg": neq,
            "exact_m": round(d, 3),
            "required_m": math.ceil(d - 1e-9),
            "status": curve.status.value,
            "source": curve.source,
        }
        typer.echo(
            json.dumps(out, indent=2)
            if as_json
            else f"{function}: {neq:,.0f} kg → {out['required_m']:,} m (exact {d:,.2f} m) [{curve.status.value}]"
        )
        return
    problems = _qd_problems(hd, pes, face, es, es_face, es_type, profile, cg)
    if problems or hd is None:
        raise InputError(problems)
    siting = Siting(pes_kind=pes, pes_face=face, es_kind=es, es_face=es_face, es_type=es_type, traversed=traversed)
    req = required_distance(
        hd, neq, relation.upper(), profile=profile, siting=siting, heavy_case=heavy_case, cg=cg, book=book
    )
    if not math.isfinite(req.required_m):
        raise InputError(
            [
                Problem(
                    req.notes[-1] if req.notes else f"no sourced rule covers {neq:,.0f} kg",
                    field="--neq",
                    hint="outside the validated range: no distance is given",
                )
            ]
        )
    if as_json:
        typer.echo(json.dumps(req.as_dict(), indent=2))
        return
    con = _console()
    t = Table(title=f"Q-D: HD {hd}, {neq:,.0f} kg NEQ, {req.relation} ({profile})", show_header=False)
    t.add_column("what")
    t.add_column("value")
    req_text = f"[bold]{req.required_m:,.0f} m[/]"
    if profile == "us-desr":
        req_text += f"  ({req.exact_m / FT_TO_M:,.1f} ft exact)"
    t.add_row("required distance", req_text)
    t.add_row("exact value", f"{req.exact_m:,.2f} m")
    t.add_row("formula", f"{req.formula} = {req.formula_m:,.2f} m ({req.rule})")
    t.add_row("minimum", f"{req.minimum_m:g} m ({req.minimum_rule})" if req.minimum_rule else "none")
    t.add_row("governs", req.governs)
    t.add_row("rounding", "up to the next whole metre (rounding.ceil-metre)")
    t.add_row("status", ", ".join(f"{k} [{v}]" for k, v in req.statuses.items()))
    for note in req.notes:
        t.add_row("note", note)
    if req.unverified:
        from coalition.depots.rulebook import short_value

        t.add_row("[yellow]unverified default[/]", "; ".join(short_value(book, u) for u in req.unverified))
    con.print(t)


@depots_app.command("rules")
def rules_cmd(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="print the markdown table of docs/storage-rules.md")
    ] = False,
    unverified: Annotated[bool, typer.Option("--unverified", help="only records with status U")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The rule table: every k-factor, minimum, aggregation rule and footnote with source and status."""
    from coalition.depots.rulebook import _value_text, load_rulebook, rulebook_markdown

    book = load_rulebook()
    if markdown:
        typer.echo(rulebook_markdown(book), nl=False)
        return
    recs = [r for r in book.all_records() if not unverified or r.status.value == "U"]
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "profile": getattr(r, "profile", "all"),
                        "rule": _value_text(r),
                        "status": r.status.value,
                        "source": r.source,
                    }
                    for r in recs
                ],
                indent=2,
            )
        )
        return
    t = Table(title="Explosives-safety rulebook (src/coalition/depots/data/rulebook.yaml)")
    for c in ("id", "profile", "rule and value", "status", "source"):
        t.add_column(c, overflow="fold")
    for r in recs:
        st = r.status.value
        t.add_row(r.id, getattr(r, "profile", "all"), _value_text(r), f"[yellow]{st}[/]" if st == "U" else st, r.source)
    _console().print(t)


@depots_app.command("mix")
def mix_cmd(
    groups: Annotated[
        list[str],
        typer.Argument(help="compatibility groups (C D E) or codes (1.1D 1.4B); repeat L for different L items"),
    ],
    assert_: Annotated[
        list[str], typer.Option("--assert", help="footnote condition the plan asserts: fn1..fn4 (or 1..4)")
    ] = [],  # noqa: B006
    profile: Annotated[str, typer.Option("--profile", help="iatg or us-desr")] = "iatg",
    transport: Annotated[
        bool, typer.Option("--transport", help="use the UN transport table instead (comparison)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """May these groups share one storehouse? Exit 0 allowed, 1 not allowed."""
    from coalition.depots.mixing import check_set, parse_groups

    fns = []
    for a in assert_:
        fid = a if a.startswith("fn") else f"fn{a}"
        if fid not in ("fn1", "fn2", "fn3", "fn4"):
            raise InputError([Problem(f"unknown footnote '{a}'", field="--assert", hint="valid: fn1 fn2 fn3 fn4")])
        fns.append(fid)
    entries = parse_groups(groups)
    pairs = check_set(entries, frozenset(fns), profile=profile, table="transport" if transport else None)
    failing = [p for p in pairs if not p.allowed]
    allowed = not failing
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "allowed": allowed,
                    "groups": [e.label() for e in entries],
                    "asserted": fns,
                    "pairs": [p.as_dict() for p in pairs],
                    "failing": [p.as_dict() for p in failing],
                },
                indent=2,
            )
        )
    else:
        con = _console()
        t = Table(title=f"Mixing {' '.join(e.label() for e in entries)} ({'UN transport' if transport else profile})")
        for c in ("pair", "cell", "result", "reason"):
            t.add_column(c)
        for p in pairs:
            res = "[green]allowed[/]" if p.allowed else "[red]NOT allowed[/]"
            t.add_row(
                f"{p.a.label()} + {p.b.label()}",
                p.cell,
                res,
                p.reason + (" [yellow](unverified default)[/]" if p.unverified else ""),
            )
        con.print(t)
        con.print("[green]allowed[/]" if allowed else f"[red]not allowed[/]: {len(failing)} failing pair(s)")
    raise typer.Exit(0 if allowed else 1)


@depots_app.command("check")
def check_cmd(
    scenario: ScenarioOpt = None,
    depot: DepotOpt = None,
    profile: ProfileOverride = None,
    as_json: JsonOpt = False,
    ledger: LedgerOpt = False,
    database_url: LedgerDbOpt = None,
) -> None:
    """Check every storehouse: NEQ by HD vs licence, mixing, Q-D. Exit 1 when a rule is broken."""
    from coalition.depots.rules import CheckReport, check_network
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
            t = Table(
                title=f"{d.name} — {d.id} at {d.hub} (profile {d.profile}){' — ILLUSTRATIVE' if d.illustrative else ''}"
            )
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
                neq = ", ".join(f"{k}: {_fmt_kg(v)}" for k, v in r.neq_by_hd.items() if v > 0) or "empty"
                lic = (
                    "none recorded"
                    if r.licensed is None
                    else (
                        ", ".join(
                            f"{k}: {_fmt_kg(q)}/{_fmt_kg(r.licensed.get(k, 0.0))}"
                            for k, q in r.aggregate.licence_neq.items()
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
                t.add_row(
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
            con.print(t)
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
        for w in warnings:
            con.print(f"[yellow]warning[/] {w}")
        errs = len(report.errors)
        con.print(
            f"{'[green]compliant[/]' if not errs else f'[red]{errs} rule(s) broken[/]'}; "
            f"{len(report.unverified)} unverified default(s) used (see docs/storage-rules.md)"
        )
        con.print(f"stock checked: {basis}", highlight=False)
    raise typer.Exit(0 if report.compliant else 1)


@depots_app.command("licence")
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


@depots_app.command("place")
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
            f"lots stored {result.lots_stored:.2f}/{len(incoming)}, storehouses touched {result.touched}, "
            f"handling {result.handling_pallet_m:,.0f} pallet-m"
            + (
                f"; first-fit baseline: {b.lots_stored:.2f} lots, {b.touched} touched, "
                f"{b.handling_pallet_m:,.0f} pallet-m"
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
    raise typer.Exit(1 if (refused or new_errors) else 0)


@depots_app.command("map")
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


@depots_app.command("surveillance")
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


def register(app: typer.Typer) -> None:
    """Add the ``depots`` command group to the main app."""
    app.add_typer(depots_app, name="depots")
