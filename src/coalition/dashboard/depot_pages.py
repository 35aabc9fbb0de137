"""Dashboard pages of the depots: the list with each depot's status, a depot's Q-D map and its
licences."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from coalition.auth.rules import has_permission
from coalition.dashboard.context import PageCtx as Ctx
from coalition.dashboard.page import Page, _state, render
from coalition.depots.queries import depot_status, visible_depots

router = APIRouter(include_in_schema=False)


@router.get("/depots")
def depots_page(request: Request, ctx: Page) -> HTMLResponse:
    from coalition.dashboard.placements import holdings, stock_rows

    _sid, state = _state(ctx)
    rows = []
    for d in visible_depots(ctx.principal, state):
        scenario, ledger, catalogue = holdings(ctx, state.scenario, d)
        rows.append(
            {**depot_status(state.scenario, d, [*scenario, *ledger], catalogue), "stock": stock_rows(scenario, ledger)}
        )
        ctx.audit("view", "depot-check", d.id, note="dashboard")
    placeable: set[str] = set()
    if has_permission(ctx.principal, "depot.place"):
        from coalition.depots.queries import depot_scope

        place_scope = depot_scope(ctx.principal, state, "depot.place")
        placeable = {d.id for d in visible_depots(ctx.principal, state) if place_scope.permits(d)}
    return render(request, ctx, "depots.html", "depots", depots=rows, missing=False, placeable=placeable)


def _scoped_depot(ctx: Ctx, depot_id: str) -> tuple[Any, Any]:
    """The current scenario and one depot in the reader's scope (404 outside it, 403 without
    the role): the domain's scope, as the API applies it."""
    from coalition.depots.queries import depot_scope

    _sid, state = _state(ctx)
    d = depot_scope(ctx.principal, state).get(state.scenario.depots.depots, lambda x: x.id, depot_id)
    return state.scenario, d


@router.get("/depots/{depot_id}/map.svg")
def depot_map(ctx: Page, depot_id: str) -> Response:
    """The depot's Q-D map, the same drawing as `coalition depots map` (scoped like the API)."""
    from coalition.depots.map import depot_svg

    sc, d = _scoped_depot(ctx, depot_id)
    return Response(depot_svg(d, sc.depots.stock_of(d), sc.depots.catalogue), media_type="image/svg+xml")


@router.get("/depots/{depot_id}/licences.html")
def depot_licences(ctx: Page, depot_id: str) -> HTMLResponse:
    """The printable licence document, the same as `coalition depots licence --html` (scoped)."""
    from coalition.depots.licence import compute_licences, licence_html

    sc, d = _scoped_depot(ctx, depot_id)
    cat = sc.depots.catalogue
    held: dict[str, set[str]] = {}
    for line in sc.depots.stock_of(d):
        item = cat.item_of(line.lot)
        if item is not None:
            held.setdefault(line.storehouse, set()).add(item.cg)
    return HTMLResponse(licence_html(d, compute_licences(d), cgs={k: tuple(sorted(v)) for k, v in held.items()}))
