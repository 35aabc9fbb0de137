"""Depots, storehouses, licences, checks and placement proposals.

The depot package's pure functions do the work (``check_depot``, ``compute_licences``,
``place``), exactly as ``coalition depots check|licence|place``. A depot's detail belongs to the
nation that runs it (the lead nation of its hub, else the host country) and is released to HQ
by default; other nations see only what that nation released (see :mod:`coalition.auth.scope`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from coalition.api.deps import Context, Ctx, Paging, page
from coalition.api.responses import (
    DepotCheck,
    DepotOut,
    DepotSummary,
    LicenceList,
    Obj,
    Page,
    PlacementOut,
    StorehouseOut,
)
from coalition.api.routers.common import ScenarioRef, current_scenario, current_state
from coalition.auth.scope import Scope
from coalition.depots import queries
from coalition.depots.queries import depot_nation
from coalition.depots.schemas import Depot
from coalition.errors import InputError, NotFoundError, Problem, closest
from coalition.scenario.schemas import Scenario

router = APIRouter(prefix="/api", tags=["depots"])

Ident = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]


def depot_scope(ctx: Ctx, sid: int, sc: Scenario, action: str = "depot.view") -> Scope[Depot]:
    _sid, _rev, state = current_state(ctx, str(sid))
    return queries.depot_scope(ctx.principal, state, action)


def visible_depots(ctx: Ctx, sid: int, sc: Scenario) -> list[Depot]:
    return depot_scope(ctx, sid, sc).filter(sc.depots.depots)


def _get_depot(
    ctx: Ctx, ref: str | None, depot_id: str, action: str = "depot.view"
) -> tuple[int, Scenario, Depot, Scope[Depot]]:
    sid, sc = current_scenario(ctx, ref)
    scope = depot_scope(ctx, sid, sc, action)
    return sid, sc, scope.get(sc.depots.depots, lambda d: d.id, depot_id), scope


def _stock(ctx: Ctx, sc: Scenario, d: Depot) -> Any:
    """What the depot holds now: the scenario's stock lines and the custody ledger's held lots
    (the same holdings as the dashboard's depot pages and ``coalition depots check --ledger``)."""
    from coalition.inventory.safety import depot_stock
    from coalition.ledger.sample import ledger_network

    return depot_stock(ctx.db, ledger_network(sc.depots), d)


def _summary(sc: Scenario, d: Depot, scope: Scope[Depot]) -> dict[str, Any]:
    return {
        "id": d.id,
        "name": d.name,
        "hub": d.hub,
        "profile": d.profile,
        "nation": depot_nation(sc, d),
        "storehouses": len(d.storehouses),
        "exposed_sites": len(d.exposed_sites),
        "illustrative": d.illustrative,
        "marking": scope.marking_of(d).model_dump(mode="json"),
    }


@router.get("/depots", response_model=Page[DepotSummary], summary="Depots visible to you (paginated; filter by hub)")
def list_depots(
    ctx: Context, paging: Paging, hub: Annotated[str | None, Query(max_length=64)] = None, scenario: ScenarioRef = None
) -> Response:
    sid, sc = current_scenario(ctx, scenario)
    scope = depot_scope(ctx, sid, sc)
    items = [_summary(sc, d, scope) for d in scope.filter(sc.depots.depots) if hub is None or d.hub == hub]
    return page(items, paging)


@router.get("/depots/{depot_id}", response_model=DepotOut, summary="One depot with its layout (audited read)")
def get_depot(ctx: Context, depot_id: Ident, scenario: ScenarioRef = None) -> dict[str, Any]:
    sid, sc, d, scope = _get_depot(ctx, scenario, depot_id)
    ctx.audit("view", "depot", depot_id, note=f"scenario {sid}")
    return {**_summary(sc, d, scope), **d.model_dump(mode="json")}


@router.get(
    "/depots/{depot_id}/check",
    response_model=DepotCheck,
    summary="Safety check: NEQ by HD vs licence, mixing, quantity-distance (audited)",
)
def check(ctx: Context, depot_id: Ident, scenario: ScenarioRef = None) -> dict[str, Any]:
    from coalition.depots.rules import check_depot

    sid, sc, d, _scope = _get_depot(ctx, scenario, depot_id)
    stock = _stock(ctx, sc, d)
    report = check_depot(d, stock.lines, stock.catalogue)
    ctx.audit("view", "depot-check", depot_id, note=f"scenario {sid}")
    return {"depot": depot_id, **report.as_dict()}


@router.get("/depots/{depot_id}/licences", response_model=LicenceList, summary="Licences computed from the layout")
def licences(ctx: Context, depot_id: Ident, scenario: ScenarioRef = None) -> dict[str, Any]:
    from coalition.depots.licence import compute_licences

    _sid, _sc, d, _scope = _get_depot(ctx, scenario, depot_id)
    lic = compute_licences(d)
    return {"depot": depot_id, "items": [x.as_dict() for x in lic], "total": len(lic)}


@router.get("/storehouses", response_model=Page[Obj], summary="Storehouses of the depots visible to you")
def list_storehouses(
    ctx: Context,
    paging: Paging,
    depot: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    scenario: ScenarioRef = None,
) -> Response:
    sid, sc = current_scenario(ctx, scenario)
    items: list[dict[str, Any]] = []
    for d in visible_depots(ctx, sid, sc):
        if depot is not None and d.id != depot:
            continue
        for s in d.storehouses:
            if kind is None or s.kind.value == kind:
                items.append({"depot": d.id, **s.model_dump(mode="json")})
    return page(items, paging)


@router.get("/storehouses/{storehouse_id}", response_model=StorehouseOut, summary="One storehouse")
def get_storehouse(ctx: Context, storehouse_id: Ident, scenario: ScenarioRef = None) -> dict[str, Any]:
    sid, sc = current_scenario(ctx, scenario)
    owner = sc.depots.depot_of(storehouse_id)
    scope = depot_scope(ctx, sid, sc)
    if owner is None:
        raise NotFoundError(f"storehouse '{storehouse_id}' not found")
    if not scope.permits(owner):  # same answer, but the denied attempt is audited
        from coalition.auth.scope import OutOfScope

        raise OutOfScope("storehouse", storehouse_id)
    s = next(s for s in owner.storehouses if s.id == storehouse_id)
    return {"depot": owner.id, **s.model_dump(mode="json")}


class ConsignmentLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lot: str = Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    quantity: int = Field(ge=1, le=10_000_000)


class Consignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[ConsignmentLine] = Field(min_length=1, max_length=2000)
    method: str = Field(default="optimise", pattern="^(optimise|first-fit)$")
    time_limit: float = Field(default=10.0, gt=0, le=60)


@router.post(
    "/depots/{depot_id}/placements",
    response_model=PlacementOut,
    summary="Propose a safe placement of an incoming consignment (nothing is stored)",
)
def propose_placement(ctx: Context, depot_id: Ident, body: Consignment, scenario: ScenarioRef = None) -> dict[str, Any]:
    from coalition.depots.placement import place
    from coalition.depots.placement_state import Incoming

    sid, sc, d, _scope = _get_depot(ctx, scenario, depot_id, "depot.place")
    from coalition.depots.gate import verify_placement

    stock = _stock(ctx, sc, d)
    lots = {lot.id for lot in stock.catalogue.lots}
    problems = []
    first_row: dict[str, int] = {}
    for i, line in enumerate(body.lines):
        if line.lot not in lots:
            hint = closest(line.lot, lots)
            problems.append(
                Problem(
                    f"unknown lot '{line.lot}'",
                    row=i + 1,
                    field="lot",
                    hint=f"did you mean '{hint}'?" if hint else "no such lot in the catalogue",
                )
            )
        elif line.lot in first_row:
            problems.append(
                Problem(
                    f"lot '{line.lot}' is already given in row {first_row[line.lot]}",
                    row=i + 1,
                    field="lot",
                    hint="one line per lot; add the quantities",
                )
            )
        else:
            first_row[line.lot] = i + 1
    if problems:
        raise InputError(problems)
    current = stock.lines  # the scenario's stock lines and the ledger's holdings
    result = place(
        d,
        stock.catalogue,
        current,
        [Incoming(x.lot, x.quantity) for x in body.lines],
        method=body.method,
        time_limit=body.time_limit,
    )
    # the API re-checks the proposal itself through the safety gate before answering
    new_errors = verify_placement(d, stock.catalogue, current, result.lines())
    out = result.as_dict()
    if new_errors:
        out["placed"], out["units_placed"] = [], 0
    out["check_after"] = {"new_errors": [f.model_dump(mode="json") for f in new_errors]}
    ctx.audit(
        "propose-placement",
        "depot",
        depot_id,
        after={
            "lines": [x.model_dump() for x in body.lines],
            "placed": out["units_placed"],
            "refused": len(result.refused),
        },
        note=f"scenario {sid}",
    )
    return out
