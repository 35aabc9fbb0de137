"""Dashboard pages of the gaps and of starting a plan run from them."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from coalition.auth.rules import has_permission
from coalition.auth.scope import Scope, restrict
from coalition.auth.service import AuditChange, record_audit
from coalition.dashboard import views
from coalition.dashboard.i18n import request_lang
from coalition.dashboard.page import Page, _assumptions, _own_field_problems, _plan, _state, render
from coalition.dashboard.plan_page import _plan_view
from coalition.dashboard.security import (
    check_csrf,
)
from coalition.errors import InputError
from coalition.planner import runs
from coalition.planner.runs import PlanRun
from coalition.planner.visible import check_request, visible_gaps
from coalition.scenario import store

router = APIRouter(include_in_schema=False)


_ASSUMPTION = re.compile(r"^[A-Za-z0-9_.\-]+=[A-Za-z0-9\-]+$")


@router.get("/gaps")
def gaps_page(
    request: Request,
    ctx: Page,
    option: Annotated[str, Query(max_length=64)] = "",
    ceasefire: Annotated[str, Query(max_length=10)] = "",
    us_backstop: Annotated[str, Query(max_length=5)] = "",
    other: Annotated[str, Query(max_length=400)] = "",
) -> HTMLResponse:
    sid, state = _state(ctx)
    sc = state.scenario
    option = option or (sc.force_options[0].id if sc.force_options else "")
    problems: list[str] = []
    tr = request_lang(request).gettext
    if ceasefire:
        try:
            date.fromisoformat(ceasefire)
        except ValueError:
            problems.append(tr("The ceasefire date '%(value)s' is not a date (use YYYY-MM-DD).", value=ceasefire))
            ceasefire = ""
    if us_backstop not in ("", "true", "false"):
        problems.append(tr("The US backstop '%(value)s' must be true or false (or empty: unknown).", value=us_backstop))
        us_backstop = ""
    problems += _own_field_problems(other, tr)
    wanted = _assumptions(ceasefire, us_backstop, other)
    picture = heat = None
    try:
        # a miss is computed where the API computes it (the app's CPU pool, its time limit),
        # into the cache both share
        picture = visible_gaps(
            ctx.principal, state, option, ceasefire or None, wanted, compute=getattr(ctx.state, "gaps_compute", None)
        )
        heat = views.heatmap_from_cells(picture["cells"])
    except InputError as exc:
        problems += [str(p) for p in exc.problems]
    job = runs.latest_done(ctx.db, scenario_id=sid, option=option, assumptions=wanted)
    plan = plan_heat = None
    if job is not None:
        plan = _plan(ctx, job)
        plan_heat = views.heatmap_from_fill(plan["fill"])
    return render(
        request,
        ctx,
        "gaps.html",
        "gaps",
        scenario=sc,
        option=option,
        plan_heat=plan_heat,
        ceasefire=ceasefire,
        us_backstop=us_backstop,
        other=other,
        assumptions=wanted,
        picture=picture,
        job=job,
        plan=plan,
        heat=heat,
        problems=problems,
        capabilities={c.code: c.name for c in sc.capabilities},
        may_run=has_permission(ctx.principal, "plan.run"),
    )


@router.post("/plan/run")
def run_plan(
    request: Request,
    ctx: Page,
    option: Annotated[str, Form(max_length=64)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    ceasefire: Annotated[str, Form(max_length=10)] = "",
    us_backstop: Annotated[str, Form(max_length=5)] = "",
    other: Annotated[str, Form(max_length=400)] = "",
    time_limit: Annotated[str, Form(max_length=12)] = "20",
) -> Response:
    """Queue a plan run. Bad input comes back on the plan page, inline, with the form as the
    user filled it (no error page)."""
    from coalition.auth.rules import ALL, Marking

    check_csrf(request, csrf)
    tr = request_lang(request).gettext
    form = {
        "option": option,
        "ceasefire": ceasefire,
        "us_backstop": us_backstop,
        "other": other,
        "time_limit": time_limit,
    }
    scope: Scope[PlanRun] = restrict(
        ctx.principal, "plan.run", lambda r: Marking(origin=r.nation, releasable_to=(ALL,))
    )
    problems: list[str] = []
    try:
        limit = float(time_limit)
        if not 0 < limit <= 600:
            raise ValueError
    except ValueError:
        problems.append(
            tr("The solver time limit '%(value)s' must be a number of seconds from 1 to 600.", value=time_limit)
        )
        limit = 20.0
    if ceasefire:
        try:
            date.fromisoformat(ceasefire)
        except ValueError:
            problems.append(tr("The ceasefire date '%(value)s' is not a date (use YYYY-MM-DD).", value=ceasefire))
    problems += _own_field_problems(other, tr)
    assumptions = _assumptions(ceasefire, us_backstop, other)
    problems += [
        tr("The assumption '%(value)s' is not NAME=VALUE (for example parliament.GBR=true).", value=a)
        for a in assumptions
        if not _ASSUMPTION.fullmatch(a)
    ]
    sid, rev, state = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
    if not problems:
        try:
            check_request(state.scenario, option, assumptions)
        except InputError as exc:
            problems += [str(p) for p in exc.problems]
    if problems:
        return _plan_view(request, ctx, None, form=form, problems=problems, status_code=422)
    limit = min(limit, ctx.state.settings.plan_time_limit_max)
    job, reused = runs.queue_run(
        ctx.db,
        principal=ctx.principal,
        request=runs.RunRequest(
            scenario_id=sid,
            revision=rev,
            option=option,
            at=None,
            assumptions=assumptions,
            seed=0,
            options={"time_limit": limit},
        ),
    )
    if not reused:
        scope.verify_written(job, str(job.id))
        record_audit(
            ctx.db,
            principal=ctx.principal,
            request_id=ctx.request_id,
            change=AuditChange(action="create", object_type="plan", object_id=str(job.id), after=runs.summary(job)),
        )
    # Dispatched after the response, i.e. after the request's transaction committed the row.
    task = BackgroundTask(ctx.state.runs.dispatch) if ctx.state.runs is not None else None
    return RedirectResponse(f"/plan?job={job.id}", status_code=303, background=task)
