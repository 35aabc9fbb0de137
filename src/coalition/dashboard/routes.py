"""Dashboard pages: server-rendered HTML over the same services and scoping as the API.

Every page resolves the signed-in principal from the session cookie and reads records only
through :func:`coalition.auth.scope.restrict` (via the API's helpers), so the dashboard cannot
show what the API would refuse. Forms that change state are POSTs with a CSRF token.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import select
from starlette.background import BackgroundTask

from coalition.api.deps import Ctx, Db
from coalition.api.models import PlanJob
from coalition.api.routers.common import current_scenario, scoped
from coalition.auth.rules import has_permission
from coalition.auth.schemas import Principal
from coalition.auth.service import AuthenticationFailed, record_audit
from coalition.dashboard import views
from coalition.dashboard.security import (
    LoginRequired,
    check_csrf,
    csrf_token,
    session_principal,
    sign_in,
)
from coalition.errors import InputError, NotFoundError, Problem

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

router = APIRouter(include_in_schema=False)

NAV = (("map", "/map", "Map"), ("gaps", "/gaps", "Gaps"), ("plan", "/plan", "Plan"),
       ("depots", "/depots", "Depots"), ("ledger", "/ledger", "Ledger"),
       ("audit", "/audit", "Audit"))


def page_ctx(request: Request, db: Db) -> Ctx:
    principal = session_principal(request, db)
    return Ctx(principal=principal, db=db, request_id=request.scope.get("request_id", ""),
               state=request.app.state.coalition)


Page = Annotated[Ctx, Depends(page_ctx)]


def render(request: Request, ctx: Ctx | None, template: str, active: str = "",
           status_code: int = 200, **data: Any) -> HTMLResponse:
    scenario_name, illustrative = "", True
    if ctx is not None:
        try:
            _sid, sc = current_scenario(ctx, None)
            scenario_name, illustrative = sc.name, sc.illustrative
        except NotFoundError:
            pass
    nav = [n for n in NAV if n[0] != "audit"
           or (ctx is not None and has_permission(ctx.principal, "audit.view"))]
    return TEMPLATES.TemplateResponse(
        request, template,
        {"nav": nav, "active": active, "me": ctx.principal if ctx else None,
         "csrf": csrf_token(request), "scenario_name": scenario_name,
         "illustrative": illustrative, **data},
        status_code=status_code,
    )


# ---------------------------------------------------------------------------------------------
# Sign-in
# ---------------------------------------------------------------------------------------------


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(Path(__file__).resolve().parent / "static" / "favicon.svg",
                        media_type="image/svg+xml")


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/map", status_code=303)


@router.get("/login")
def login_page(request: Request, reason: str = "") -> HTMLResponse:
    return render(request, None, "login.html", reason=reason[:100])


@router.post("/login")
def login(request: Request, db: Db, token: Annotated[str, Form(max_length=300)] = "",
          csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, csrf)
    try:
        principal = sign_in(request, db, token)
    except AuthenticationFailed as exc:
        return render(request, None, "login.html", status_code=401,
                      error=f"Sign-in failed: {exc}.")
    record_audit(db, principal=principal, request_id=request.scope.get("request_id", ""),
                 action="sign-in", object_type="session", object_id=str(principal.token_id),
                 note="dashboard")
    return RedirectResponse("/map", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# ---------------------------------------------------------------------------------------------
# Map and hubs
# ---------------------------------------------------------------------------------------------


@router.get("/map")
def map_page(request: Request, ctx: Page) -> HTMLResponse:
    sid, sc = current_scenario(ctx, None)
    hubs = scoped(ctx, "hub.view", sid, lambda h: h.id).filter(sc.hubs)
    visible = sc.model_copy(update={"hubs": tuple(hubs)})
    job = _latest_plan(ctx)
    fill = None
    if job is not None and job.scenario_id == sid:
        from coalition.api.routers.plans import plan_for_reader

        fill = views.hub_fill(plan_for_reader(ctx, job)["fill"])
    return render(request, ctx, "map.html", "map", map=views.map_model(visible, fill),
                  scenario=sc, job=job if fill is not None else None)


def _latest_plan(ctx: Ctx, option: str | None = None) -> PlanJob | None:
    query = select(PlanJob).where(PlanJob.status == "done").order_by(PlanJob.id.desc())
    if option:
        query = query.where(PlanJob.option == option)
    return ctx.db.scalars(query.limit(1)).first()


@router.get("/hubs/{hub_id}")
def hub_page(request: Request, ctx: Page, hub_id: str) -> HTMLResponse:
    sid, sc = current_scenario(ctx, None)
    hub = scoped(ctx, "hub.view", sid, lambda h: h.id).get(sc.hubs, lambda h: h.id, hub_id)
    requirements = scoped(ctx, "requirement.view", sid, lambda r: r.id).filter(
        r for r in sc.requirements if r.hub == hub_id)
    corridors = [c for c in sc.corridors if c.hub == hub_id]
    job = _latest_plan(ctx)
    lines: list[dict[str, Any]] = []
    gaps: list[dict[str, Any]] = []
    if job is not None:
        from coalition.api.routers.plans import plan_for_reader

        plan = plan_for_reader(ctx, job)
        lines = [u for u in plan["unit_lines"] if u["hub"] == hub_id]
        gaps = [g for g in plan["gaps"] if g["place"] == hub_id]
    depots = []
    try:
        from coalition.api.routers.depots import visible_depots

        depots = [d for d in visible_depots(ctx, sid, sc) if d.hub == hub_id]
    except ImportError:
        pass
    return render(request, ctx, "hub.html", "map", hub=hub, requirements=requirements,
                  corridors=corridors, lines=lines, gaps=gaps, job=job, depots=depots,
                  capabilities={c.code: c.name for c in sc.capabilities})


# ---------------------------------------------------------------------------------------------
# Gaps and plans
# ---------------------------------------------------------------------------------------------


def _assumptions(ceasefire: str, us_backstop: str, other: str = "") -> list[str]:
    """The form's fields as NAME=VALUE assumptions (the same text as ``--assume``)."""
    out = []
    if ceasefire:
        out.append(f"ceasefire={ceasefire}")
    if us_backstop in ("true", "false"):
        out.append(f"us_backstop={us_backstop}")
    for part in other.replace(";", ",").split(","):
        part = part.strip().replace(" ", "")
        if part and not part.startswith(("ceasefire=", "us_backstop=")):
            out.append(part)
    return out


def _form_values(assumptions: list[str]) -> dict[str, str]:
    values = {"ceasefire": "", "us_backstop": "", "other": []}
    for a in assumptions:
        name, _, value = a.partition("=")
        if name in ("ceasefire", "us_backstop"):
            values[name] = value
        else:
            values["other"].append(a)  # type: ignore[union-attr]
    values["other"] = ", ".join(values["other"])  # type: ignore[arg-type]
    return values  # type: ignore[return-value]


@router.get("/gaps")
def gaps_page(
    request: Request, ctx: Page,
    option: Annotated[str, Query(max_length=64)] = "",
    ceasefire: Annotated[str, Query(max_length=10)] = "",
    us_backstop: Annotated[str, Query(max_length=5)] = "",
    other: Annotated[str, Query(max_length=400)] = "",
) -> HTMLResponse:
    sid, sc = current_scenario(ctx, None)
    option = option or (sc.force_options[0].id if sc.force_options else "")
    problems: list[str] = []
    if ceasefire:
        try:
            date.fromisoformat(ceasefire)
        except ValueError:
            problems.append(f"ceasefire date '{ceasefire}' is not a date (use YYYY-MM-DD)")
            ceasefire = ""
    wanted = _assumptions(ceasefire, us_backstop, other)
    picture = heat = None
    try:
        from coalition.api.routers.gaps import compute_gaps

        picture = compute_gaps(ctx, sid, sc, option, ceasefire or None, wanted)
        heat = views.heatmap_from_cells(picture["cells"])
    except InputError as exc:
        problems += [str(p) for p in exc.problems]
    job = _matching_plan(ctx, option, wanted)
    plan = plan_heat = None
    if job is not None:
        from coalition.api.routers.plans import plan_for_reader

        plan = plan_for_reader(ctx, job)
        plan_heat = views.heatmap_from_fill(plan["fill"])
    return render(request, ctx, "gaps.html", "gaps", scenario=sc, option=option,
                  plan_heat=plan_heat,
                  ceasefire=ceasefire, us_backstop=us_backstop, other=other,
                  assumptions=wanted,
                  picture=picture, job=job, plan=plan, heat=heat, problems=problems)


def _matching_plan(ctx: Ctx, option: str, assumptions: list[str]) -> PlanJob | None:
    jobs = ctx.db.scalars(select(PlanJob).where(PlanJob.option == option, PlanJob.status == "done")
                          .order_by(PlanJob.id.desc()).limit(50))
    for job in jobs:
        if sorted(job.assumptions) == sorted(assumptions):
            return job
    return None


@router.post("/plan/run")
def run_plan(
    request: Request, ctx: Page,
    option: Annotated[str, Form(max_length=64)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    ceasefire: Annotated[str, Form(max_length=10)] = "",
    us_backstop: Annotated[str, Form(max_length=5)] = "",
    other: Annotated[str, Form(max_length=400)] = "",
    time_limit: Annotated[float, Form(gt=0, le=600)] = 20.0,
) -> Response:
    from coalition.api.jobs import run_plan_job
    from coalition.api.routers.plans import PlanRequest, start_plan

    check_csrf(request, csrf)
    try:
        body = PlanRequest(option=option, assumptions=_assumptions(ceasefire, us_backstop, other),
                           time_limit=time_limit)
    except ValidationError as exc:
        raise InputError([Problem(e["msg"], field=".".join(str(x) for x in e["loc"]),
                                  hint="assumptions are NAME=VALUE, e.g. parliament.GBR=true")
                          for e in exc.errors()]) from None
    job = start_plan(ctx, body, None)
    # Queued after the response, i.e. after the request's transaction committed the job row.
    return RedirectResponse(f"/plan?job={job.id}", status_code=303,
                            background=BackgroundTask(ctx.state.jobs.submit, run_plan_job,
                                                      ctx.state, job.id))


@router.get("/plan")
def plan_page(request: Request, ctx: Page,
              job: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> HTMLResponse:
    from coalition.api.routers.plans import get_job, job_summary, plan_for_reader

    sid, sc = current_scenario(ctx, None)
    chosen = get_job(ctx, job) if job else _latest_plan(ctx)
    plan = gantt = None
    if chosen is not None and chosen.status == "done":
        plan = plan_for_reader(ctx, chosen)
        gantt = views.gantt(plan["unit_lines"], plan.get("horizon_days") or sc.horizon_days)
    recent = [job_summary(j) for j in ctx.db.scalars(
        select(PlanJob).order_by(PlanJob.id.desc()).limit(8))]
    return render(request, ctx, "plan.html", "plan", scenario=sc,
                  job=job_summary(chosen) if chosen else None, plan=plan, gantt=gantt,
                  recent=recent, form=_form_values(chosen.assumptions if chosen else []))


# ---------------------------------------------------------------------------------------------
# Depots, ledger, audit
# ---------------------------------------------------------------------------------------------


@router.get("/depots")
def depots_page(request: Request, ctx: Page) -> HTMLResponse:
    sid, sc = current_scenario(ctx, None)
    try:
        from coalition.api.routers.depots import depot_status, visible_depots
    except ImportError:
        return render(request, ctx, "depots.html", "depots", depots=[], missing=True)
    rows = [depot_status(ctx, sc, d) for d in visible_depots(ctx, sid, sc)]
    return render(request, ctx, "depots.html", "depots", depots=rows, missing=False)


@router.get("/depots/{depot_id}/map.svg")
def depot_map(ctx: Page, depot_id: str) -> Response:
    """The depot's Q-D map, the same drawing as `coalition depots map` (scoped like the API)."""
    from coalition.api.routers.depots import _get_depot
    from coalition.depots.map import depot_svg

    _sid, sc, d, _scope = _get_depot(ctx, None, depot_id)
    return Response(depot_svg(d, sc.depots.stock_of(d), sc.depots.catalogue), media_type="image/svg+xml")


@router.get("/depots/{depot_id}/licences.html")
def depot_licences(ctx: Page, depot_id: str) -> HTMLResponse:
    """The printable licence document, the same as `coalition depots licence --html` (scoped)."""
    from coalition.api.routers.depots import _get_depot
    from coalition.depots.licence import compute_licences, licence_html

    _sid, sc, d, _scope = _get_depot(ctx, None, depot_id)
    cat = sc.depots.catalogue
    held: dict[str, set[str]] = {}
    for line in sc.depots.stock_of(d):
        item = cat.item_of(line.lot)
        if item is not None:
            held.setdefault(line.storehouse, set()).add(item.cg)
    return HTMLResponse(licence_html(d, compute_licences(d), cgs={k: tuple(sorted(v)) for k, v in held.items()}))


@router.get("/ledger")
def ledger_page(request: Request, ctx: Page) -> HTMLResponse:
    try:
        from coalition.api.routers.ledger import ledger_health
    except ImportError:
        return render(request, ctx, "ledger.html", "ledger", health=None)
    from coalition.api.deps import PageParams
    from coalition.api.routers.ledger import list_events

    total = list_events(ctx, PageParams(offset=0, limit=1))["total"]
    recent = list_events(ctx, PageParams(offset=max(0, total - 15), limit=15))["items"]
    return render(request, ctx, "ledger.html", "ledger", health=ledger_health(ctx),
                  events=list(reversed(recent)), visible=total)


@router.get("/audit")
def audit_page(request: Request, ctx: Page) -> HTMLResponse:
    from coalition.api.routers.audit import list_audit
    from coalition.api.deps import PageParams

    body = list_audit(ctx, PageParams(offset=0, limit=100))
    return render(request, ctx, "audit.html", "audit", entries=body["items"], total=body["total"])


def login_redirect(request: Request, exc: LoginRequired) -> RedirectResponse:
    target = "/login" + (f"?reason={exc.reason}" if exc.reason else "")
    return RedirectResponse(target.replace(" ", "+"), status_code=303)


def html_error(request: Request, status: int, message: str) -> HTMLResponse:
    principal: Principal | None = None
    return TEMPLATES.TemplateResponse(
        request, "error.html",
        {"nav": NAV, "active": "", "me": principal, "csrf": csrf_token(request),
         "scenario_name": "", "illustrative": False, "status": status, "message": message},
        status_code=status,
    )
