"""What a principal may see of sustainment (query functions: principal + session).

The sustainment of a finished plan run is computed from the reader's view of that plan (the
releasability policy of derived data, :mod:`coalition.planner.releasability`): the unit lines of
the pledges it may see, on the scenario as it may know it. So no demand, days of supply, legal
Class V days or medical time is ever summed over a pledge the reader may not see, and no
difference between two answers can recover one (the canary test crawls these routes). A partial
view says so (``redacted``, ``basis``): its figures cover the visible force only, e.g. a hub may
show as uncovered where a Role 2 the reader cannot see would cover it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy.orm import Session

from coalition.auth.schemas import Principal

SECTIONS = ("demand", "dos", "class_v", "medical")

# Reports already made, per cache owner (the app's scenario cache), run and reader view: a
# finished run's plan and its revision never change, so neither does the report of one view
# (the map, the sustainment page and the API's four sections ask for the same one). Values
# are shared: callers read them and never change them.
_REPORTS: OrderedDict[tuple[Any, ...], tuple[object, dict[str, Any]]] = OrderedDict()
_REPORTS_LOCK = threading.Lock()
_REPORTS_SIZE = 64


def visible_sustainment(session: Session, principal: Principal, run: Any, cache: Any = None) -> dict[str, Any]:
    """The sustainment report (``coalition sustain --json``) of a finished run, for this reader."""
    from coalition.planner import releasability
    from coalition.planner.visible import visible_plan
    from coalition.scenario import store
    from coalition.sustain.demand import plan_view
    from coalition.sustain.service import build_report, condition_holds

    plan = visible_plan(session, principal, run, cache=cache)  # checks the role and the run
    state = store.state_at(session, scenario_id=run.scenario_id, revision=run.revision, cache=cache)
    view = releasability.reader_view(principal, state)
    key = (id(cache), int(run.id), str(run.finished_at), run.reused_from, view)
    if cache is not None:
        with _REPORTS_LOCK:
            hit = _REPORTS.get(key)
            if hit is not None and hit[0] is cache:
                _REPORTS.move_to_end(key)
                return hit[1]
    sc = releasability.visible_scenario(state.scenario, view)
    pv = plan_view(plan, file=f"plan {run.id}")
    holds = None
    if plan.get("c_day"):
        from datetime import date

        from coalition.conditions.engine import parse_assumptions

        texts = [a for a in plan.get("assumptions", []) if "=" in a]
        holds = condition_holds(sc, parse_assumptions(texts) if texts else (), date.fromisoformat(plan["c_day"]))
    body = build_report(sc, pv, holds=holds).to_json()
    body["redacted"] = not view.complete
    body["basis"] = "all pledges" if view.complete else releasability.BASIS
    body["plan"] = int(run.id)
    if cache is not None:
        with _REPORTS_LOCK:
            _REPORTS[key] = (cache, body)
            while len(_REPORTS) > _REPORTS_SIZE:
                _REPORTS.popitem(last=False)
    return body


def section(body: dict[str, Any], name: str) -> dict[str, Any]:
    """One section of the report, with the header every section carries."""
    head = {
        k: body[k]
        for k in ("plan", "scenario", "option", "illustrative", "horizon_days", "c_day", "redacted", "basis", "flags")
    }
    if name == "demand":
        return {
            **head,
            "assumed": body["assumed"],
            "units": body["units"],
            "factor_sources": body["factor_sources"],
            "hubs": [
                {
                    "hub": h["hub"],
                    "name": h["name"],
                    "region": h["region"],
                    "resupply_peak_t_per_day": h["resupply_peak_t_per_day"],
                    "corridor_capacity_into_hub_t_per_day": h["corridor_capacity_into_hub_t_per_day"],
                    "ranges": h["ranges"],
                }
                for h in body["hubs"]
            ],
        }
    if name == "dos":
        return {**head, "hubs": [{"hub": h["hub"], "stock": h["stock"]} for h in body["hubs"]]}
    if name == "class_v":
        keys = (
            "legal_class_v_days",
            "limiting_hd",
            "limiting",
            "raise_by",
            "method",
            "notes",
            "class_v_target_days",
            "class_v_target_is_legal",
        )
        return {
            **head,
            "hubs": [{"hub": h["hub"], **{k: h[k] for k in keys}} for h in body["hubs"]],
            "depots": [
                {k: d[k] for k in ("place", "depots", "legal_class_v_days", "limiting_hd", "limiting", "raise_by")}
                for d in body["depots"]
            ],
        }
    if name == "medical":
        return {**head, **body["medical"]}
    raise KeyError(name)
