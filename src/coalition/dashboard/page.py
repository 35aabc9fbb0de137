"""What every dashboard page shares: the templates, the navigation, the page context of the
signed-in principal (a :data:`Page` dependency), the current scenario and scope, and
:func:`render`.

Every page resolves the signed-in principal from the session cookie and reads records only
through the same domain query functions as the API (scope by
:func:`coalition.auth.scope.restrict`, derived data by :mod:`coalition.planner.releasability`),
so the dashboard cannot show what the API would refuse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from coalition.auth.rules import has_permission
from coalition.auth.scope import Scope, restrict
from coalition.dashboard.context import Db
from coalition.dashboard.context import PageCtx as Ctx
from coalition.dashboard.i18n import LANGUAGES, N_, request_lang
from coalition.dashboard.labels import word
from coalition.dashboard.security import (
    csrf_token,
    session_principal,
)
from coalition.errors import NotFoundError
from coalition.planner import runs
from coalition.planner.runs import PlanRun
from coalition.planner.visible import visible_plan
from coalition.scenario import store
from coalition.scenario.rules import ScenarioState

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))


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


def _other_assumptions(other: str) -> list[str]:
    """A free-text assumptions box as NAME=VALUE assumptions: split on ``,`` or ``;``, spaces
    removed, every one kept (a form without its own ceasefire/US backstop fields takes them here)."""
    return [p for part in other.replace(";", ",").split(",") if (p := part.strip().replace(" ", ""))]


def _assumptions(ceasefire: str, us_backstop: str, other: str = "") -> list[str]:
    """The plan form's fields as NAME=VALUE assumptions (the same text as ``--assume``); the
    form's own ceasefire and US backstop fields stand for those names, so the free text box's
    ``ceasefire=``/``us_backstop=`` are not taken from it."""
    out = []
    if ceasefire:
        out.append(f"ceasefire={ceasefire}")
    if us_backstop in ("true", "false"):
        out.append(f"us_backstop={us_backstop}")
    out += [p for p in _other_assumptions(other) if not p.startswith(("ceasefire=", "us_backstop="))]
    return out


def _own_field_problems(other: str, tr: Callable[..., str]) -> list[str]:
    """A ``ceasefire=``/``us_backstop=`` typed in the plan form's other assumptions box, refused
    (that form sets them with its own fields, which :func:`_assumptions` takes instead): one
    problem each, naming the field, so nothing typed is dropped unseen."""
    fields = {"ceasefire": tr("ceasefire (C-day)"), "us_backstop": tr("US backstop")}
    return [
        tr(
            "'%(value)s' in the other assumptions: set it with the '%(field)s' field instead.",
            value=a,
            field=fields[a.partition("=")[0]],
        )
        for a in _other_assumptions(other)
        if a.partition("=")[0] in fields
    ]


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


def _latest_plan(ctx: Ctx, option: str | None = None) -> PlanRun | None:
    return runs.latest_done(ctx.db, option=option)
