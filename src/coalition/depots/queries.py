"""What a principal may see of depots (query functions: principal + stored state; no HTTP).

A depot's detail belongs to the nation that runs it (the lead nation of its hub, else the host
country; a rear node's country) and is released to HQ by default; a stored marking of the
scenario revision overrides that. The API's depot routes and the dashboard call these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coalition.auth.rules import Marking
from coalition.auth.schemas import HQ, Principal
from coalition.auth.scope import Scope, restrict
from coalition.depots.schemas import Catalogue, Depot, StockLine
from coalition.scenario.rules import ScenarioState
from coalition.scenario.schemas import Scenario


def depot_nation(sc: Scenario, depot: Depot) -> str:
    hub = sc.hub(depot.hub)
    if hub is not None:
        return hub.lead_nation or hub.host_nation
    rear = next((r for r in sc.rear_nodes if r.id == depot.hub), None)
    return rear.country if rear is not None else HQ


def depot_marking(state: ScenarioState, depot: Depot) -> Marking:
    return state.markings.get(("depot", depot.id)) or Marking(
        origin=depot_nation(state.scenario, depot), releasable_to=(HQ,)
    )


def depot_scope(principal: Principal, state: ScenarioState, action: str = "depot.view") -> Scope[Depot]:
    return restrict(principal, action, lambda d: depot_marking(state, d))


def visible_depots(principal: Principal, state: ScenarioState) -> list[Depot]:
    return depot_scope(principal, state).filter(state.scenario.depots.depots)


def depot_status(
    sc: Scenario, d: Depot, stock: Sequence[StockLine] | None = None, catalogue: Catalogue | None = None
) -> dict[str, Any]:
    """NEQ against licence by HD per storehouse, and the violations (the dashboard's view), of
    ``stock`` (default: the scenario's stock lines of the depot) under ``catalogue``."""
    from coalition.depots.rules import check_depot

    report = check_depot(
        d, sc.depots.stock_of(d) if stock is None else stock, sc.depots.catalogue if catalogue is None else catalogue
    )
    rows = []
    for r in report.storehouses:
        licence_neq = r.aggregate.licence_neq or {k: v for k, v in r.neq_by_hd.items() if v > 0}
        for hd, neq in sorted(licence_neq.items()):
            limit = (r.licensed or {}).get(hd) if r.licensed is not None else None
            pct = round(100 * neq / limit) if limit else None
            rows.append(
                {
                    "storehouse": r.storehouse,
                    "hd": hd,
                    "neq": neq,
                    "limit": limit,
                    "pct": pct,
                    "over": bool(limit is not None and neq > limit),
                    "bar": min(160, round(1.6 * pct)) if pct is not None else 0,
                }
            )
        if not licence_neq:
            rows.append(
                {"storehouse": r.storehouse, "hd": "—", "neq": 0.0, "limit": None, "pct": None, "over": False, "bar": 0}
            )
    violations = [f for f in report.findings if f.is_error]
    return {
        "id": d.id,
        "name": d.name,
        "hub": d.hub,
        "profile": d.profile,
        "rows": rows,
        "violations": violations,
        "unverified": list(report.unverified),
    }


__all__ = ["depot_marking", "depot_nation", "depot_scope", "depot_status", "visible_depots"]
