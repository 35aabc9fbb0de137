"""The dashboard page of one plan run: its status, the plan and its unit-line table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from coalition.auth.rules import has_permission
from coalition.dashboard import fragments, views
from coalition.dashboard.context import PageCtx as Ctx
from coalition.dashboard.i18n import N_, request_lang
from coalition.dashboard.page import TEMPLATES, Page, _form_values, _latest_plan, _plan, current_scenario, render
from coalition.planner import runs

router = APIRouter(include_in_schema=False)


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
