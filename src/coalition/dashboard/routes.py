"""Dashboard pages: server-rendered HTML over the same services and scoping as the API.

Every page resolves the signed-in principal from the session cookie and reads records only
through the same domain query functions as the API (scope by
:func:`coalition.auth.scope.restrict`, derived data by :mod:`coalition.planner.releasability`),
so the dashboard cannot show what the API would refuse; its reads of restricted detail are
audited like the API's. Forms that change state are POSTs with a CSRF token.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask

from coalition.auth.rules import has_permission
from coalition.auth.schemas import Principal
from coalition.auth.scope import Scope, restrict
from coalition.auth.service import AuditChange, AuthenticationFailed, record_audit
from coalition.dashboard import fragments, views
from coalition.dashboard.context import Db
from coalition.dashboard.context import PageCtx as Ctx
from coalition.dashboard.i18n import LANGUAGES, N_, request_lang
from coalition.dashboard.labels import word
from coalition.dashboard.security import (
    LoginRequired,
    check_csrf,
    csrf_token,
    session_principal,
    sign_in,
    sign_out,
)
from coalition.depots.queries import depot_status, visible_depots
from coalition.errors import InputError, NotFoundError, Problem
from coalition.planner import runs
from coalition.planner.runs import PlanRun
from coalition.planner.visible import check_request, visible_gaps, visible_plan
from coalition.scenario import store
from coalition.scenario.rules import ScenarioState

_ASSUMPTION = re.compile(r"^[A-Za-z0-9_.\-]+=[A-Za-z0-9\-]+$")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

router = APIRouter(include_in_schema=False)

NAV = (
    ("map", "/map", N_("Map")),
    ("gaps", "/gaps", N_("Gaps")),
    ("plan", "/plan", N_("Plan")),
    ("depots", "/depots", N_("Depots")),
    ("ledger", "/ledger", N_("Ledger")),
    ("analysis", "/analysis", N_("Analyses")),
    ("pledges", "/pledges", N_("Pledges")),
    ("scenario", "/scenario", N_("Scenario")),
    ("inspector", "/inspector", N_("Accountability")),
    ("audit", "/audit", N_("Audit")),
)
NAV_NEEDS = {"audit": "audit.view", "inspector": "ledger.verify"}


def page_ctx(request: Request, db: Db) -> Ctx:
    principal = session_principal(request, db)
    return Ctx(
        principal=principal, db=db, request_id=request.scope.get("request_id", ""), state=request.app.state.coalition
    )


Page = Annotated[Ctx, Depends(page_ctx)]


def _state(ctx: Ctx) -> tuple[int, ScenarioState]:
    sid, _rev, state = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
    return sid, state


def current_scenario(ctx: Ctx, ref: None) -> tuple[int, Any]:
    sid, state = _state(ctx)
    return sid, state.scenario


def _scope(ctx: Ctx, action: str, state: ScenarioState) -> Scope[Any]:
    """The reader's scope for ``action`` over any kind of scenario record."""
    kind = action.partition(".")[0]
    return restrict(ctx.principal, action, lambda record: state.marking(kind, record))


def _plan(ctx: Ctx, run: PlanRun) -> dict[str, Any]:
    """The reader's view of a plan (an audited read, for the plan, gaps, map and hub pages)."""
    body = visible_plan(ctx.db, ctx.principal, run, cache=ctx.state.scenarios)
    ctx.audit("view", "plan", str(run.id), note="dashboard")
    return body


def _lang_links(request: Request) -> dict[str, str]:
    """This page in each language (the other query parameters kept)."""
    from urllib.parse import urlencode

    keep = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return {code: f"{request.url.path}?{urlencode([*keep, ('lang', code)])}" for code in LANGUAGES}


def _common(request: Request) -> dict[str, Any]:
    lang = request_lang(request)
    return {**lang.template_globals(), "lang_links": _lang_links(request), "word": word, "csrf": csrf_token(request)}


def render(
    request: Request, ctx: Ctx | None, template: str, active: str = "", status_code: int = 200, **data: Any
) -> HTMLResponse:
    scenario_name, illustrative = "", True
    if ctx is not None:
        try:
            _sid, sc = current_scenario(ctx, None)
            scenario_name, illustrative = sc.name, sc.illustrative
        except NotFoundError:
            pass
    nav = [
        n for n in NAV if n[0] not in NAV_NEEDS or (ctx is not None and has_permission(ctx.principal, NAV_NEEDS[n[0]]))
    ]
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            **_common(request),
            "nav": nav,
            "active": active,
            "me": ctx.principal if ctx else None,
            "scenario_name": scenario_name,
            "illustrative": illustrative,
            **data,
        },
        status_code=status_code,
    )


# ---------------------------------------------------------------------------------------------
# Sign-in
# ---------------------------------------------------------------------------------------------


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(Path(__file__).resolve().parent / "static" / "favicon.svg", media_type="image/svg+xml")


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/map", status_code=303)


@router.get("/login")
def login_page(request: Request, reason: str = "") -> HTMLResponse:
    return render(request, None, "login.html", reason=reason[:100])


@router.post("/login")
def login(
    request: Request,
    db: Db,
    token: Annotated[str, Form(max_length=300)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        principal = sign_in(request, db, token)
    except AuthenticationFailed as exc:
        from coalition.auth.schemas import ANONYMOUS

        record_audit(
            db,
            principal=ANONYMOUS,
            request_id=request.scope.get("request_id", ""),
            change=AuditChange(
                action="sign-in-failed", object_type="session", object_id="dashboard", note=str(exc)[:200]
            ),
        )
        return render(
            request,
            None,
            "login.html",
            status_code=401,
            error=request_lang(request).gettext("Sign-in failed: %(why)s.", why=str(exc)),
        )
    record_audit(
        db,
        principal=principal,
        request_id=request.scope.get("request_id", ""),
        change=AuditChange(
            action="sign-in", object_type="session", object_id=str(principal.token_id), note="dashboard"
        ),
    )
    return RedirectResponse("/map", status_code=303)


@router.post("/logout")
def logout(request: Request, db: Db, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, csrf)
    sign_out(request, db)
    return RedirectResponse("/login", status_code=303)


# ---------------------------------------------------------------------------------------------
# Map and hubs
# ---------------------------------------------------------------------------------------------


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


def _latest_plan(ctx: Ctx, option: str | None = None) -> PlanRun | None:
    return runs.latest_done(ctx.db, option=option)


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
    values = {"ceasefire": "", "us_backstop": ""}
    other: list[str] = []
    for a in assumptions:
        name, _, value = a.partition("=")
        if name in ("ceasefire", "us_backstop"):
            values[name] = value
        else:
            other.append(a)
    values["other"] = ", ".join(other)
    return values


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


def _plan_view(
    request: Request,
    ctx: Ctx,
    job: int | None,
    *,
    form: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
    table: dict[str, Any] | None = None,
    label: dict[str, str] | None = None,
) -> HTMLResponse:
    from urllib.parse import urlencode

    from coalition.planner import naming

    _sid, sc = current_scenario(ctx, None)
    chosen = runs.get_run(ctx.db, job) if job else _latest_plan(ctx)
    plan = gantt = uln = gantt_svg = None
    args = table or {}
    links: dict[str, str | None] = {}
    sort_links: dict[str, str] = {}
    if chosen is not None and chosen.status == "done":
        plan = _plan(ctx, chosen)
        lang = request_lang(request)
        gantt, gantt_svg = fragments.gantt(
            TEMPLATES, lang.template_globals(), plan, chosen.id, plan.get("horizon_days") or sc.horizon_days, lang.code
        )
        uln = views.uln_table(
            plan["unit_lines"],
            q=args.get("q", ""),
            filters=args.get("filters", {}),
            sort=args.get("sort", "uln"),
            desc=args.get("desc", False),
            page=args.get("page", 1),
        )
        keep = {
            "job": chosen.id,
            "q": args.get("q", ""),
            **args.get("filters", {}),
            "sort": args.get("sort", "uln"),
            "dir": "desc" if args.get("desc") else "asc",
        }
        keep = {k: v for k, v in keep.items() if v}

        def link(**change: Any) -> str:
            return "/plan?" + urlencode({**keep, **change}) + "#lines"

        links = {
            "first": link(page=1) if uln.page > 2 else None,
            "prev": link(page=uln.page - 1) if uln.page > 1 else None,
            "next": link(page=uln.page + 1) if uln.page < uln.pages else None,
        }
        for key in views.ULN_COLUMNS:
            flip = key == args.get("sort", "uln") and not args.get("desc")
            sort_links[key] = link(sort=key, dir="desc" if flip else "asc", page=1)
    recent, _total = naming.list_plans(ctx.db, ctx.principal, offset=0, limit=8)
    if form is None:
        form = {
            **_form_values(chosen.assumptions if chosen else []),
            "option": chosen.option if chosen else "",
            "time_limit": "",
        }
    headers = [(k, request_lang(request).gettext(label)) for k, label in ULN_HEADERS]
    job_out = naming.labelled(ctx.principal, chosen, runs.queue_position(ctx.db, chosen)) if chosen else None
    return render(
        request,
        ctx,
        "plan.html",
        "plan",
        scenario=sc,
        status_code=status_code,
        job=job_out,
        plan=plan,
        gantt=gantt,
        gantt_svg=gantt_svg,
        table=uln,
        table_q=args.get("q", ""),
        table_filters=args.get("filters", {}),
        table_sort=args.get("sort", "uln"),
        table_desc=args.get("desc", False),
        page_links=links,
        sort_links=sort_links,
        uln_headers=headers,
        capabilities={c.code: c.name for c in sc.capabilities},
        recent=recent,
        form=form,
        problems=problems or [],
        others=[
            j
            for j in naming.list_plans(ctx.db, ctx.principal, offset=0, limit=20, status="done")[0]
            if chosen is not None and j["id"] != chosen.id
        ],
        may_run=has_permission(ctx.principal, "plan.run"),
        may_label=job_out is not None and naming.may_relabel(ctx.principal, job_out["nation"]),
        labellable={j["id"] for j in recent if naming.may_relabel(ctx.principal, j["nation"])},
        label=label or {"name": (job_out or {}).get("name") or "", "problem": ""},
    )


ULN_HEADERS = (
    ("uln", N_("ULN")),
    ("nation", N_("nation")),
    ("unit", N_("unit")),
    ("capability", N_("capability")),
    ("requirement", N_("requirement")),
    ("hub", N_("hub")),
    ("corridor", N_("corridor")),
    ("arrival_day", N_("arrival")),
    ("tour_start_day", N_("tour start")),
    ("tour_end_day", N_("tour end")),
    ("days_late", N_("days late")),
)


@dataclass(frozen=True)
class UlnTableQuery:
    """The plan page's unit-line table: search, filters, sort and page (query parameters)."""

    q: Annotated[str, Query(max_length=100)] = ""
    nation: Annotated[str, Query(max_length=64)] = ""
    hub: Annotated[str, Query(max_length=64)] = ""
    capability: Annotated[str, Query(max_length=64)] = ""
    sort: Annotated[str, Query(max_length=32)] = "uln"
    dir: Annotated[str, Query(max_length=4)] = "asc"
    page: Annotated[int, Query(ge=1, le=100_000)] = 1


@router.get("/plan")
def plan_page(
    request: Request,
    ctx: Page,
    query: Annotated[UlnTableQuery, Depends()],
    job: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    filters = {"nation": query.nation, "hub": query.hub, "capability": query.capability}
    table = {
        "q": query.q,
        "filters": {k: v for k, v in filters.items() if v},
        "sort": query.sort if query.sort in views.ULN_COLUMNS else "uln",
        "desc": query.dir == "desc",
        "page": query.page,
    }
    return _plan_view(request, ctx, job, table=table)


# ---------------------------------------------------------------------------------------------
# Depots, ledger, audit
# ---------------------------------------------------------------------------------------------


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


@router.get("/ledger")
def ledger_page(
    request: Request,
    ctx: Page,
    type: Annotated[str, Query(max_length=40)] = "",  # noqa: A002
    nation: Annotated[str, Query(max_length=3)] = "",
    ref: Annotated[str, Query(max_length=120)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """Ledger health, then the custody events the reader may see, newest first, 15 a page,
    filtered by event type, acting nation and reference (e.g. ``T:GBR``, a serial or a lot)."""
    from urllib.parse import urlencode

    from coalition.auth.rules import PUBLIC
    from coalition.ledger.queries import EventFilter, ledger_health, pinned_trust, visible_events

    restrict(ctx.principal, "checkpoint.view", lambda _r: PUBLIC)
    size = 15

    def events(offset: int, limit: int) -> dict[str, Any]:
        where = EventFilter(type=type or None, nation=nation.upper() or None, ref=ref or None)
        return visible_events(ctx.db, ctx.principal, offset=offset, limit=limit, where=where)

    total = events(0, 1)["total"]
    end = max(0, total - (page - 1) * size)
    shown = events(max(0, end - size), min(size, end))["items"] if end else []
    ctx.audit_read("custody-event", [e["seq"] for e in shown])
    keep = {k: v for k, v in (("type", type), ("nation", nation.upper()), ("ref", ref)) if v}
    pages = {
        "newer": f"/ledger?{urlencode({**keep, 'page': page - 1})}" if page > 1 else None,
        "older": f"/ledger?{urlencode({**keep, 'page': page + 1})}" if end - size > 0 else None,
    }
    return render(
        request,
        ctx,
        "ledger.html",
        "ledger",
        health=ledger_health(ctx.db, pinned_trust(ctx.state.settings)),
        events=list(reversed(shown)),
        visible=total,
        filters={"type": type, "nation": nation.upper(), "ref": ref},
        pages=pages,
    )


@dataclass(frozen=True)
class AuditFilters:
    """The audit page's filters (query parameters), in the order its links repeat them."""

    actor: Annotated[str, Query(max_length=64)] = ""
    nation: Annotated[str, Query(max_length=3)] = ""
    action: Annotated[str, Query(max_length=64)] = ""
    object_type: Annotated[str, Query(max_length=64)] = ""
    object_id: Annotated[str, Query(max_length=200)] = ""
    since: Annotated[str, Query(max_length=40)] = ""
    until: Annotated[str, Query(max_length=40)] = ""


@router.get("/audit")
def audit_page(
    request: Request,
    ctx: Page,
    query: Annotated[AuditFilters, Depends()],
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    """Every entry, newest first, 50 a page; filters by actor, nation, action, object, time."""
    from datetime import UTC, datetime

    from coalition.auth.queries import visible_audit

    def when(text: str, name: str) -> datetime | None:
        if not text:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise InputError(
                [
                    Problem(
                        request_lang(request).gettext("'%(value)s' is not a time (use 2026-12-01T09:00).", value=text),
                        field=name,
                    )
                ]
            ) from None
        return value if value.tzinfo else value.replace(tzinfo=UTC)  # the page speaks UTC

    filters = asdict(query)
    limit = 50
    body = visible_audit(
        ctx.db,
        ctx.principal,
        offset=offset,
        limit=limit,
        object_type=query.object_type or None,
        object_id=query.object_id or None,
        user_name=query.actor or None,
        action=query.action or None,
        nation=query.nation.upper() or None,
        since=when(query.since, "since"),
        until=when(query.until, "until"),
    )
    from urllib.parse import urlencode

    keep = {k: v for k, v in filters.items() if v}
    pages = {
        "prev": f"/audit?{urlencode({**keep, 'offset': max(0, offset - limit)})}" if offset > 0 else None,
        "next": f"/audit?{urlencode({**keep, 'offset': offset + limit})}" if offset + limit < body["total"] else None,
    }
    return render(
        request,
        ctx,
        "audit.html",
        "audit",
        entries=body["items"],
        total=body["total"],
        filters=filters,
        offset=offset,
        pages=pages,
    )


@router.get("/tokens")
def tokens_page(request: Request, ctx: Page) -> HTMLResponse:
    """The signed-in user's own tokens (admins manage others' through the API or the CLI)."""
    from coalition.auth import service as auth_service
    from coalition.auth.schemas import TokenOut

    user = auth_service.get_user(ctx.db, name=ctx.principal.name)
    rows = [TokenOut.model_validate(t).model_dump(mode="json") for t in auth_service.list_tokens(ctx.db, user=user)]
    return render(request, ctx, "tokens.html", "", tokens=rows, current=ctx.principal.token_id)


@router.post("/tokens/{token_id}/revoke")
def revoke_token_page(
    request: Request, ctx: Page, token_id: int, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    from coalition.auth import service as auth_service
    from coalition.auth.schemas import TokenOut
    from coalition.auth.tokens import descendants

    check_csrf(request, csrf)
    user = auth_service.get_user(ctx.db, name=ctx.principal.name)
    token = auth_service.revoke_token(ctx.db, user=user, token_id=token_id)
    ctx.audit(
        "revoke-token",
        "user",
        user.name,
        after={**TokenOut.model_validate(token).model_dump(mode="json"), "descendants": descendants(ctx.db, token_id)},
        note="dashboard",
    )
    return RedirectResponse("/tokens", status_code=303)


def login_redirect(request: Request, exc: Exception) -> RedirectResponse:
    """The handler of :class:`LoginRequired` (Starlette types a handler as taking any exception):
    to the sign-in page, with the reason when there is one."""
    reason = exc.reason if isinstance(exc, LoginRequired) else ""
    target = "/login" + (f"?reason={reason}" if reason else "")
    return RedirectResponse(target.replace(" ", "+"), status_code=303)


def html_error(request: Request, status: int, message: str) -> HTMLResponse:
    principal: Principal | None = None
    return TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {
            **_common(request),
            "nav": NAV,
            "active": "",
            "me": principal,
            "scenario_name": "",
            "illustrative": False,
            "status": status,
            "message": message,
        },
        status_code=status,
    )


_MOUNTED: list[bool] = []


def mount_pages() -> None:
    """Mount the other pages on this router, in this order (once; the app calls it). They live
    in their own modules, which import this module's helpers: mounting them when this module is
    imported made a page module impossible to import first (a circular import)."""
    if _MOUNTED:
        return
    from coalition.dashboard import (
        analysis_page,
        custody,
        inspector,
        placements,
        plans,
        pledges,
        scenario_page,
        sustain_page,
    )

    router.include_router(pledges.router)
    router.include_router(plans.router)
    router.include_router(inspector.router)
    router.include_router(placements.router)
    router.include_router(scenario_page.router)
    router.include_router(sustain_page.router)
    router.include_router(analysis_page.router)
    router.include_router(custody.router)
    _MOUNTED.append(True)
