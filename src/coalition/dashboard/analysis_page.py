"""The analysis page: submit a Monte Carlo or withdrawal run, follow it, and read its result as
the reader may see it - the fill-probability heatmap (requirement line x D+30/60/90) and the
tornado of N-1 withdrawal impact per nation. Thin: the service is :mod:`coalition.analysis.jobs`
(the API's), and what a reader sees is :mod:`coalition.analysis.releasability`'s answer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.background import BackgroundTask

from coalition.analysis import jobs
from coalition.auth.rules import has_permission
from coalition.dashboard.charts import mc_heatmap, tornado
from coalition.dashboard.context import PageCtx
from coalition.dashboard.i18n import request_lang
from coalition.dashboard.page import Page, _other_assumptions, _scope, _state, render
from coalition.dashboard.security import check_csrf
from coalition.errors import InputError
from coalition.planner import runs
from coalition.scenario.schemas import Requirement, Scenario

router = APIRouter(include_in_schema=False)
KINDS = ("montecarlo", "withdrawal")
Gettext = Callable[..., str]  # the reader's language: ``request_lang(request).gettext``
DEFAULT_FORM = {"analysis": "montecarlo", "option": "", "samples": "50", "quick": "on", "other": ""}


def line_labels(sc: Scenario, requirements: Iterable[Requirement]) -> dict[str, str]:
    """Each requirement line's label on the heatmap: its capability's name (the code when the
    scenario names none) and its hub, or its region when no hub is fixed."""
    caps = {c.code: c.name for c in sc.capabilities}
    return {
        r.id: " · ".join(x for x in (caps.get(r.capability, r.capability), r.hub or getattr(r, "region", None)) if x)
        for r in requirements
    }


def charts(result: dict[str, Any]) -> tuple[Any, Any]:
    """The chart of a finished result: (heatmap, None) for a Monte Carlo, (None, tornado bars)
    for a withdrawal run; another kind has neither (its figures are the API's and the CLI's)."""
    if result["kind"] == "montecarlo":
        return mc_heatmap(result), None
    if result["kind"] == "withdrawal":
        return None, tornado(result)
    return None, None


def run_request(form: dict[str, str], tr: Gettext) -> tuple[jobs.AnalysisRequest | None, list[str]]:
    """The run form as the service's request, or every problem with it (nothing is queued): the
    kind, a whole number of worlds, then the request's own limits (``field: message``). A
    withdrawal run is the single withdrawals (N-1, the tornado); pairs and Shapley belong on the
    CLI. ``other``: the fixed assumptions, every one kept - ``ceasefire=`` and ``us_backstop=``
    too, as this form has no fields of its own for them (the plan form has)."""
    problems: list[str] = []
    analysis, samples = form["analysis"], form["samples"]
    if analysis not in KINDS:
        problems.append(tr("Choose a Monte Carlo or a withdrawal analysis."))
    try:
        n = int(samples)
    except ValueError:
        problems.append(
            tr(
                "The number of worlds '%(value)s' must be a whole number from 1 to %(max)s.",
                value=samples,
                max=jobs.MAX_SAMPLES,
            )
        )
        n = 0
    if problems:
        return None, problems
    body: dict[str, Any] = {
        "analysis": analysis,
        "option": form["option"],
        "assumptions": _other_assumptions(form["other"]),
    }
    if analysis == "montecarlo":
        body.update(samples=n, quick=form["quick"] == "on")
    else:
        body.update(pairs=False, shapley=0)
    try:
        return jobs.AnalysisRequest(**body), []
    except ValidationError as exc:
        return None, [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]


def _view(
    request: Request,
    ctx: PageCtx,
    job: int | None,
    *,
    form: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _sid, state = _state(ctx)
    sc = state.scenario
    run = jobs.get_analysis(ctx.db, ctx.principal, job) if job else None
    result = heat = bars = None
    if run is not None and run.status == "done":
        result = jobs.visible_result(ctx.db, ctx.principal, run, cache=ctx.state.scenarios)
        ctx.audit("view", "analysis", str(run.id), note="dashboard")
        heat, bars = charts(result)
    lines = line_labels(sc, _scope(ctx, "requirement.view", state).filter(sc.requirements))
    recent, _total = jobs.list_analyses(ctx.db, ctx.principal, offset=0, limit=10)
    return render(
        request,
        ctx,
        "analysis.html",
        "analysis",
        status_code=status_code,
        run=jobs.view_of(run, runs.queue_position(ctx.db, run)) if run else None,
        result=result,
        heat=heat,
        bars=bars,
        lines=lines,
        recent=recent,
        options=[o.id for o in sc.force_options],
        problems=problems or [],
        form=form or DEFAULT_FORM,
        may_run=has_permission(ctx.principal, "plan.run"),
    )


@router.get("/analysis")
def analysis_page(
    request: Request, ctx: Page, job: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> HTMLResponse:
    return _view(request, ctx, job)


@router.post("/analysis/run")
def run_analysis(
    request: Request,
    ctx: Page,
    analysis: Annotated[str, Form(max_length=16)],
    option: Annotated[str, Form(max_length=64)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    samples: Annotated[str, Form(max_length=8)] = "50",
    quick: Annotated[str, Form(max_length=4)] = "",
    other: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Queue a run through the service; bad input comes back inline with the form as typed."""
    check_csrf(request, csrf)
    form = {"analysis": analysis, "option": option, "samples": samples, "quick": quick, "other": other}
    req, problems = run_request(form, request_lang(request).gettext)
    if req is not None:
        try:
            run, reused = jobs.queue_analysis(
                ctx.db,
                ctx.principal,
                req,
                scenario_ref=None,
                cache=ctx.state.scenarios,
                time_limit_max=ctx.state.settings.plan_time_limit_max,
            )
        except InputError as exc:
            problems += [str(p) for p in exc.problems]
    if problems:
        return _view(request, ctx, None, form=form, problems=problems, status_code=422)
    if not reused:
        ctx.audit("create", "analysis", str(run.id), after=jobs.view_of(run).model_dump(mode="json"), note="dashboard")
    task = BackgroundTask(ctx.state.runs.dispatch) if ctx.state.runs is not None else None
    return RedirectResponse(f"/analysis?job={run.id}", status_code=303, background=task)
