"""Placement of an incoming consignment into a depot: upload the consignment CSV, review the
proposal (the optimiser against the first-fit baseline, both through the safety gate), accept
it. The same domain functions as ``coalition depots place`` and the API; only depot officers
(``depot.place``) of the depot's nation, or HQ, are offered the page."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from coalition.dashboard.context import PageCtx
from coalition.dashboard.i18n import request_lang
from coalition.dashboard.page import Page, _state, render
from coalition.dashboard.security import check_csrf
from coalition.errors import InputError

if TYPE_CHECKING:
    from coalition.depots.schemas import StockLine
    from coalition.ledger.schemas import AppendResult, Submitted

router = APIRouter(include_in_schema=False)
MAX_CSV = 2_000_000


def _depot(ctx: PageCtx, depot_id: str) -> tuple[Any, Any]:
    from coalition.depots.queries import depot_scope

    _sid, state = _state(ctx)
    d = depot_scope(ctx.principal, state, "depot.place").get(state.scenario.depots.depots, lambda x: x.id, depot_id)
    return state.scenario, d


def holdings(ctx: PageCtx, sc: Any, d: Any) -> tuple[list[Any], list[Any], Any]:
    """The depot's stock now: scenario stock lines, the ledger's held lots, the catalogue."""
    from coalition.inventory.safety import depot_stock
    from coalition.ledger.sample import ledger_network

    stock = depot_stock(ctx.db, ledger_network(sc.depots), d)
    return stock.scenario, stock.ledger, stock.catalogue


def signing(ctx: PageCtx, sc: Any) -> Any:
    """Keys, pinned trust and the depot safety gate for an append from a page."""
    from coalition.errors import ConflictError
    from coalition.inventory.safety import depot_safety
    from coalition.ledger.custody import Signing
    from coalition.ledger.keys import KeyRing
    from coalition.ledger.queries import pinned_trust
    from coalition.ledger.sample import ledger_network

    settings = ctx.state.settings
    if not settings.demo_keystore.is_dir():
        raise ConflictError("the custody ledger has no keys yet; run `coalition ledger init` first")
    return Signing(
        keyring=KeyRing.load(settings.demo_keystore, settings.demo_passphrase),
        trust=pinned_trust(settings),
        safety=depot_safety(ctx.db, ledger_network(sc.depots)),
    )


def fingerprint(lines: list[Any]) -> str:
    """A short digest of a depot's stock: a proposal made on other stock is stale."""
    rows = sorted((x.storehouse, x.lot, int(x.quantity)) for x in lines)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:32]


def _problems(exc: InputError) -> list[str]:
    out = []
    for p in exc.problems:
        where = ", ".join(x for x in (p.file and f"{p.file}", p.row and f"row {p.row}", p.field and f"{p.field}") if x)
        out.append((f"{where}: " if where else "") + p.message + (f" ({p.hint})" if p.hint else ""))
    return out


def _page(request: Request, ctx: PageCtx, d: Any, status_code: int = 200, /, **data: Any) -> HTMLResponse:
    sc = _state(ctx)[1].scenario
    scenario, ledger, _cat = holdings(ctx, sc, d)
    return render(
        request,
        ctx,
        "placement.html",
        "depots",
        status_code=status_code,
        depot=d,
        **{
            "problems": [],
            "result": None,
            "order": None,
            "consignment": "",
            "method": "optimise",
            "manifest": "",
            "origin": "",
            "errors": {},
            "stale": False,
            "appended": None,
            "basis": "",
            "stock": stock_rows(scenario, ledger),
            **data,
        },
    )


def stock_rows(scenario: list[Any], ledger: list[Any]) -> list[dict[str, Any]]:
    """The depot's stock as table rows (storehouse, lot, quantity, where the figure comes from)."""
    rows = [{"storehouse": x.storehouse, "lot": x.lot, "quantity": x.quantity, "source": "scenario"} for x in scenario]
    rows += [{"storehouse": x.storehouse, "lot": x.lot, "quantity": x.quantity, "source": "ledger"} for x in ledger]
    return sorted(rows, key=lambda r: (r["storehouse"], r["lot"], r["source"]))


def _note_fields(tr: Any, manifest: str, origin: str) -> dict[str, str]:
    """Inline errors of the consignment note's fields (the ledger's own rules)."""
    from pydantic import TypeAdapter, ValidationError

    from coalition.inventory.schemas import LocationText, Ref

    errors: dict[str, str] = {}
    for name, value, kind in (("manifest", manifest, Ref), ("origin", origin, LocationText)):
        try:
            TypeAdapter(kind).validate_python(value)
        except ValidationError:
            errors[name] = (
                tr(
                    "Give the consignment's reference: letters, digits and . _ : / -, "
                    "starting with a letter or digit (e.g. M-GBR-0042)."
                )
                if name == "manifest"
                else tr("Give where the consignment comes from (e.g. GBR-HOME-DEPOT).")
            )
    return errors


@router.get("/depots/{depot_id}/placement")
def placement_form(request: Request, ctx: Page, depot_id: str) -> HTMLResponse:
    _sc, d = _depot(ctx, depot_id)
    return _page(request, ctx, d)


@dataclass(frozen=True)
class ConsignmentNote:
    """The consignment's reference and where it comes from (form fields, as typed)."""

    manifest: Annotated[str, Form(max_length=200)] = ""
    origin: Annotated[str, Form(max_length=300)] = ""


Note = Annotated[ConsignmentNote, Depends()]


@router.post("/depots/{depot_id}/placement")
async def propose(
    request: Request,
    ctx: Page,
    depot_id: str,
    note: Note,
    consignment: Annotated[UploadFile | None, File()] = None,
    consignment_text: Annotated[str, Form(max_length=MAX_CSV)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    method: Annotated[str, Form(max_length=16)] = "optimise",
) -> HTMLResponse:
    data = await consignment.read(MAX_CSV + 1) if consignment is not None else b""
    name = (consignment.filename if consignment is not None else "") or "consignment.csv"
    if not data and consignment_text:
        data = consignment_text.encode("utf-8")
    check_csrf(request, csrf)
    return _propose(
        request,
        ctx,
        depot_id,
        data,
        name,
        {"method": method, "manifest": note.manifest.strip(), "origin": note.origin.strip()},
    )


def _propose(
    request: Request, ctx: PageCtx, depot_id: str, data: bytes, name: str, note: dict[str, str]
) -> HTMLResponse:
    from coalition.depots.gate import verify_placement
    from coalition.depots.io import decode_csv, parse_consignment
    from coalition.depots.placement import place

    sc, d = _depot(ctx, depot_id)
    tr = request_lang(request).gettext
    method = note["method"] if note["method"] in ("optimise", "first-fit") else "optimise"
    manifest, origin = note["manifest"], note["origin"]
    keep: dict[str, Any] = {"method": method, "manifest": manifest, "origin": origin}
    if len(data) > MAX_CSV:
        return _page(request, ctx, d, 413, problems=[tr("The file is larger than 2 MB.")], **keep)
    if not data:
        return _page(request, ctx, d, 422, errors={"consignment": tr("Choose a consignment file.")}, **keep)
    scenario, ledger, catalogue = holdings(ctx, sc, d)
    try:
        text = decode_csv(data, name)
        catalogue, incoming = parse_consignment(text, catalogue, name)
    except InputError as exc:
        return _page(request, ctx, d, 422, problems=_problems(exc), **keep)
    errors = _note_fields(tr, manifest, origin)
    if errors:
        return _page(request, ctx, d, 422, errors=errors, consignment=text, **keep)
    current = [*scenario, *ledger]
    result = place(d, catalogue, current, incoming, method=method, time_limit=10.0)
    gate = verify_placement(d, catalogue, current, result.lines())  # the gate, again
    if gate:
        result.placed = []
    ctx.audit(
        "propose-placement",
        "depot",
        d.id,
        note="dashboard",
        after={"lines": [vars(x) for x in incoming], "placed": result.units_placed, "refused": len(result.refused)},
    )
    lines = [[p.storehouse, p.lot, p.quantity] for p in result.placed]
    return _page(
        request,
        ctx,
        d,
        result=result,
        consignment=text,
        lines_json=json.dumps(lines),
        gate_errors=[f.message for f in gate],
        basis=fingerprint(current),
        **keep,
    )


@router.post("/depots/{depot_id}/placement/accept")
def accept_placement(
    request: Request,
    ctx: Page,
    depot_id: str,
    note: Note,
    consignment: Annotated[str, Form(max_length=MAX_CSV)],
    lines: Annotated[str, Form(max_length=MAX_CSV)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    basis: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Accept the reviewed lines: re-checked against the consignment, the depot's stock now and
    the gate, then recorded in the custody ledger (manifest, dispatch, receipt with the
    placement) through :func:`coalition.ledger.custody.receive_placement`."""
    from coalition.depots.acceptance import accept
    from coalition.depots.io import parse_consignment
    from coalition.errors import ConflictError
    from coalition.ledger.custody import manifest_events, receive_placement

    check_csrf(request, csrf)
    manifest, origin = note.manifest, note.origin
    sc, d = _depot(ctx, depot_id)
    tr = request_lang(request).gettext
    keep: dict[str, Any] = {"consignment": consignment, "manifest": manifest, "origin": origin}
    done = manifest_events(ctx.db, manifest) if manifest else []
    if done:  # a second submission of the same acceptance (or a reference used before)
        return _page(
            request,
            ctx,
            d,
            409,
            problems=[
                tr(
                    "Manifest %(manifest)s is already in the custody ledger (events %(first)s to "
                    "%(last)s): nothing was appended again.",
                    manifest=manifest,
                    first=done[0],
                    last=done[-1],
                )
            ],
            **keep,
        )
    try:
        rows = json.loads(lines)
        proposed = [(str(h), str(lot), int(q)) for h, lot, q in rows]
    except (ValueError, TypeError):
        return _page(
            request,
            ctx,
            d,
            422,
            problems=[tr("The proposal sent back is not readable; upload the consignment again.")],
            **keep,
        )
    scenario, ledger, catalogue = holdings(ctx, sc, d)
    current = [*scenario, *ledger]
    if basis != fingerprint(current):
        return _page(
            request,
            ctx,
            d,
            409,
            stale=True,
            problems=[
                tr(
                    "The depot's stock changed since this proposal was made: nothing was recorded. "
                    "Propose again with the same consignment."
                )
            ],
            **keep,
        )
    errors = _note_fields(tr, manifest, origin)
    if errors:
        return _page(request, ctx, d, 422, errors=errors, stale=True, **keep)
    try:
        catalogue, incoming = parse_consignment(consignment, catalogue)
        order = accept(d, catalogue, current, incoming, proposed)
        result, subs = receive_placement(
            ctx.db,
            ctx.principal,
            depot=d,
            catalogue=catalogue,
            lines=order.lines,
            manifest=manifest,
            origin=origin,
            signing=signing(ctx, sc),
        )
    except InputError as exc:
        ctx.db.rollback()
        return _page(request, ctx, d, 422, problems=_problems(exc), **keep)
    except ConflictError as exc:
        ctx.db.rollback()
        return _page(request, ctx, d, 409, problems=[str(exc)], **keep)
    _audit_acceptance(ctx, d.id, order.lines, result, subs, manifest)
    return _page(
        request, ctx, d, order=order, appended=(result.first_seq, result.last_seq), manifest=manifest, origin=origin
    )


def _audit_acceptance(
    ctx: PageCtx,
    depot_id: str,
    order_lines: Sequence[StockLine],
    result: AppendResult,
    subs: Sequence[Submitted],
    manifest: str,
) -> None:
    """Audit each appended custody event and the acceptance itself."""
    for seq, sub in zip(range(result.first_seq, result.last_seq + 1), subs, strict=True):
        ctx.audit(
            "append",
            "custody-event",
            str(seq),
            note="dashboard placement",
            after={"type": sub.type, "payload": sub.payload.model_dump(mode="json")},
        )
    ctx.audit(
        "accept-placement",
        "depot",
        depot_id,
        note="dashboard",
        after={
            "lines": [x.model_dump() for x in order_lines],
            "manifest": manifest,
            "seqs": [result.first_seq, result.last_seq],
        },
    )
