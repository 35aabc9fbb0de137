"""``coalition depots qd | rules | mix``: look up the storage rules themselves: the
quantity-distance a quantity needs, the rule book's records, and whether kinds of ammunition may
be stored together."""

from __future__ import annotations

import json
import math
from typing import Annotated

import typer
from rich.table import Table

from coalition.cli.depots_ctx import JsonOpt, _console
from coalition.errors import InputError, Problem


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


def register(depots: typer.Typer) -> None:
    """Add this module's commands to the ``coalition depots`` group (in help order)."""
    depots.command("qd")(qd_cmd)
    depots.command("rules")(rules_cmd)
    depots.command("mix")(mix_cmd)
