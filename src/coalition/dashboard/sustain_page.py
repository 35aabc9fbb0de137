"""The sustainment page of a finished plan run: days of supply per hub and supply class over
time, legal Class V days per hub and what limits them, 10-1-2 medical coverage. Thin: the
report is :func:`coalition.sustain.views.visible_sustainment`, computed from the reader's view
of the plan (the releasability policy of derived data), exactly as ``/api/sustain`` serves it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from coalition.auth.rules import ALL, Marking
from coalition.auth.schemas import Principal
from coalition.auth.scope import Scope, restrict
from coalition.dashboard.charts import CHART_H, CHART_W, CLASS_WORDS, PAD, dos_charts
from coalition.dashboard.context import PageCtx
from coalition.dashboard.page import Page, render
from coalition.planner import runs
from coalition.sustain.views import section, visible_sustainment

router = APIRouter(include_in_schema=False)


def visible_run(principal: Principal, run: runs.PlanRun | None, job: int) -> runs.PlanRun:
    """Plan run ``job`` (``run``: the row stored under it, or None) if the reader may view
    plans: 403 without the role, 404 when there is no such run or it is not a plan (an
    analysis run's id is not a plan's). Every plan run is released to all: its figures are the
    reader's own view of it."""
    scope: Scope[runs.PlanRun] = restrict(
        principal, "plan.view", lambda r: Marking(origin=r.nation, releasable_to=(ALL,))
    )
    return scope.check(runs.run_of_kind(run), str(job))


def _run(ctx: PageCtx, job: int) -> runs.PlanRun:
    return visible_run(ctx.principal, ctx.db.get(runs.PlanRun, job), job)


def sustain_view(body: dict[str, Any]) -> dict[str, Any]:
    """The page's view of a sustainment report (:func:`visible_sustainment`'s body): the days
    of supply charts from the demand section, the stock, Class V and medical sections, and the
    hub names."""
    demand = section(body, "demand")
    return {
        "charts": dos_charts(demand),
        "dos": section(body, "dos")["hubs"],
        "class_v": section(body, "class_v"),
        "medical": section(body, "medical"),
        "names": {h["hub"]: h["name"] for h in demand["hubs"]},
        "class_words": CLASS_WORDS,
        "chart": {"w": CHART_W, "h": CHART_H, "pad": PAD},
    }


@router.get("/sustain")
def sustain_page(
    request: Request, ctx: Page, job: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> HTMLResponse:
    chosen = _run(ctx, job) if job else runs.latest_done(ctx.db)
    if chosen is None or chosen.status != "done":
        return render(request, ctx, "sustain.html", "plan", job=runs.summary(chosen) if chosen else None, body=None)
    body = visible_sustainment(ctx.db, ctx.principal, chosen, cache=ctx.state.scenarios)
    ctx.audit("view", "sustainment", str(chosen.id), note="dashboard")
    return render(request, ctx, "sustain.html", "plan", job=runs.summary(chosen), body=body, **sustain_view(body))
