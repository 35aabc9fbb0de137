"""Placement of an incoming consignment into a depot: upload the consignment CSV, review the
proposal (the optimiser against the first-fit baseline, both through the safety gate), accept
it. The same domain functions as ``coalition depots place`` and the API; only depot officers
(``depot.place``) of the depot's nation, or HQ, are offered the page."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from coalition.dashboard.i18n import request_lang
from coalition.dashboard.routes import Page, _state, render
from coalition.dashboard.security import check_csrf
from coalition.errors import InputError

router = APIRouter(include_in_schema=False)
MAX_CSV = 2_000_000


def _depot(ctx: Any, depot_id: str) -> tuple[Any, Any]:
    from coalition.depots.queries import depot_scope

    _sid, state = _state(ctx)
    d = depot_scope(ctx.principal, state, "depot.place").get(
        state.scenario.depots.depots, lambda x: x.id, depot_id)
    return state.scenario, d


def _problems(exc: InputError) -> list[str]:
    out = []
    for p in exc.problems:
        where = ", ".join(x for x in (p.file and f"{p.file}", p.row and f"row {p.row}",
                                      p.field and f"{p.field}") if x)
        out.append((f"{where}: " if where else "") + p.message + (f" ({p.hint})" if p.hint else ""))
    return out


def _page(request: Request, ctx: Any, d: Any, status_code: int = 200, **data: Any) -> HTMLResponse:
    return render(request, ctx, "placement.html", "depots", status_code=status_code, depot=d,
                  **{"problems": [], "result": None, "order": None, "consignment": "",
                     "method": "optimise", **data})


@router.get("/depots/{depot_id}/placement")
def placement_form(request: Request, ctx: Page, depot_id: str) -> HTMLResponse:
    _sc, d = _depot(ctx, depot_id)
    return _page(request, ctx, d)


@router.post("/depots/{depot_id}/placement")
async def propose(request: Request, ctx: Page, depot_id: str,
                  consignment: Annotated[UploadFile, File()],
                  csrf: Annotated[str, Form(max_length=200)] = "",
                  method: Annotated[str, Form(max_length=16)] = "optimise") -> HTMLResponse:
    data = await consignment.read(MAX_CSV + 1)
    return _propose(request, ctx, depot_id, data, consignment.filename or "consignment.csv",
                    csrf, method)


def _propose(request: Request, ctx: Any, depot_id: str, data: bytes, name: str, csrf: str,
             method: str) -> HTMLResponse:
    from coalition.depots.gate import verify_placement
    from coalition.depots.io import decode_csv, parse_consignment
    from coalition.depots.placement import place

    check_csrf(request, csrf)
    sc, d = _depot(ctx, depot_id)
    tr = request_lang(request).gettext
    if method not in ("optimise", "first-fit"):
        method = "optimise"
    if len(data) > MAX_CSV:
        return _page(request, ctx, d, 413, problems=[tr("The file is larger than 2 MB.")])
    try:
        text = decode_csv(data, name)
        catalogue, incoming = parse_consignment(text, sc.depots.catalogue, name)
    except InputError as exc:
        return _page(request, ctx, d, 422, problems=_problems(exc), method=method)
    current = sc.depots.stock_of(d)
    result = place(d, catalogue, current, incoming, method=method, time_limit=10.0)
    errors = verify_placement(d, catalogue, current, result.lines())  # the gate, again
    if errors:
        result.placed = []
    ctx.audit("propose-placement", "depot", d.id, note="dashboard",
              after={"lines": [vars(x) for x in incoming], "placed": result.units_placed,
                     "refused": len(result.refused)})
    lines = [[p.storehouse, p.lot, p.quantity] for p in result.placed]
    return _page(request, ctx, d, result=result, consignment=text, method=method,
                 lines_json=json.dumps(lines), gate_errors=[f.message for f in errors])


@router.post("/depots/{depot_id}/placement/accept")
def accept_placement(request: Request, ctx: Page, depot_id: str,
                     consignment: Annotated[str, Form(max_length=MAX_CSV)],
                     lines: Annotated[str, Form(max_length=MAX_CSV)],
                     csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Accept the reviewed lines: re-checked against the consignment and the gate, now."""
    from coalition.depots.acceptance import accept
    from coalition.depots.io import parse_consignment

    check_csrf(request, csrf)
    sc, d = _depot(ctx, depot_id)
    tr = request_lang(request).gettext
    try:
        rows = json.loads(lines)
        proposed = [(str(h), str(lot), int(q)) for h, lot, q in rows]
    except (ValueError, TypeError):
        return _page(request, ctx, d, 422, problems=[tr("The proposal sent back is not readable; "
                                                        "upload the consignment again.")])
    try:
        catalogue, incoming = parse_consignment(consignment, sc.depots.catalogue)
        order = accept(d, catalogue, sc.depots.stock_of(d), incoming, proposed)
    except InputError as exc:
        return _page(request, ctx, d, 422, problems=_problems(exc), consignment=consignment)
    ctx.audit("accept-placement", "depot", d.id, note="dashboard",
              after={"lines": [x.model_dump() for x in order.lines]})
    return _page(request, ctx, d, order=order)
