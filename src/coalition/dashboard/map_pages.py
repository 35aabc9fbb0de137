"""Dashboard pages of the map and its hubs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from coalition.auth.rules import has_permission
from coalition.dashboard import views
from coalition.dashboard.context import PageCtx as Ctx
from coalition.dashboard.i18n import request_lang
from coalition.dashboard.page import Page, _latest_plan, _plan, _scope, _state, render
from coalition.depots.queries import visible_depots
from coalition.errors import InputError
from coalition.planner.runs import PlanRun

router = APIRouter(include_in_schema=False)


@router.get("/map")
def map_page(request: Request, ctx: Page) -> HTMLResponse:
    sid, state = _state(ctx)
    sc = state.scenario
    hubs = _scope(ctx, "hub.view", state).filter(sc.hubs)
    visible = sc.model_copy(update={"hubs": tuple(hubs)})
    job = _latest_plan(ctx)
    fill = medical = None
    if job is not None and job.scenario_id == sid:
        fill = views.hub_fill(_plan(ctx, job)["fill"])
        medical = _medical_layer(ctx, job)
    depots = visible_depots(ctx.principal, state) if has_permission(ctx.principal, "depot.view") else []
    return render(
        request,
        ctx,
        "map.html",
        "map",
        map=views.map_model(visible, fill, depots, country_name=request_lang(request).country),
        scenario=sc,
        job=job if fill is not None else None,
        medical=medical,
    )


def _medical_layer(ctx: Ctx, job: PlanRun) -> dict[str, list[dict[str, Any]]] | None:
    """The 10-1-2 layer of the map: uncovered hub-day ranges of the reader's view of the plan
    (``visible_sustainment``, as the sustainment page); None when the report cannot be made."""
    from coalition.dashboard.charts import medical_layer
    from coalition.sustain.views import visible_sustainment

    try:
        body = visible_sustainment(ctx.db, ctx.principal, job, cache=ctx.state.scenarios)
    except InputError:
        return None
    ctx.audit("view", "sustainment", str(job.id), note="dashboard map")
    return medical_layer(body["medical"])


@router.get("/hubs/{hub_id}")
def hub_page(request: Request, ctx: Page, hub_id: str) -> HTMLResponse:
    sid, state = _state(ctx)
    sc = state.scenario
    hub = _scope(ctx, "hub.view", state).get(sc.hubs, lambda h: h.id, hub_id)
    requirements = _scope(ctx, "requirement.view", state).filter(r for r in sc.requirements if r.hub == hub_id)
    corridors = [c for c in sc.corridors if c.hub == hub_id]
    job = _latest_plan(ctx)
    lines: list[dict[str, Any]] = []
    gaps: list[dict[str, Any]] = []
    if job is not None:
        plan = _plan(ctx, job)
        lines = [u for u in plan["unit_lines"] if u["hub"] == hub_id]
        gaps = [g for g in plan["gaps"] if g["place"] == hub_id]
    depots = [d for d in visible_depots(ctx.principal, state) if d.hub == hub_id]
    return render(
        request,
        ctx,
        "hub.html",
        "map",
        hub=hub,
        requirements=requirements,
        corridors=corridors,
        lines=lines,
        gaps=gaps,
        job=job,
        depots=depots,
        capabilities={c.code: c.name for c in sc.capabilities},
    )
