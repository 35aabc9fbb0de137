"""Plan downloads (XLSX, CSV), the comparison of two plans (the reader's view of each plan, the
same as the plan page, through :mod:`coalition.planner.workbook`), and a plan's name and pin
(plain POST forms with CSRF, through :mod:`coalition.planner.naming`; a bad name comes back on
the plan page, inline, with the name as typed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coalition.dashboard.context import PageCtx
from coalition.dashboard.i18n import request_lang
from coalition.dashboard.page import Page, _plan, render
from coalition.dashboard.plan_page import _plan_view
from coalition.dashboard.security import check_csrf
from coalition.errors import InputError, NotFoundError
from coalition.planner import naming, runs
from coalition.planner.workbook import compare, plan_xlsx, unit_lines_csv

router = APIRouter(include_in_schema=False)
JobId = Annotated[int, Query(ge=1, le=2**31 - 1)]


def _done(ctx: PageCtx, job: int) -> runs.PlanRun:
    run = runs.get_run(ctx.db, job)
    if run is None:
        raise NotFoundError(f"plan run {job} not found")
    return run


def _download(body: bytes, name: str, media: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/plan/{job}/plan.xlsx")
def plan_workbook(ctx: Page, job: int) -> Response:
    run = _done(ctx, job)
    body = _plan(ctx, run)
    ctx.audit("export", "plan", str(run.id), note="dashboard xlsx")
    return _download(
        plan_xlsx(body),
        f"plan-{run.id}-{run.option}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@router.get("/plan/{job}/unit-lines.csv")
def plan_csv(ctx: Page, job: int) -> Response:
    run = _done(ctx, job)
    body = _plan(ctx, run)
    ctx.audit("export", "plan", str(run.id), note="dashboard csv")
    return _download(unit_lines_csv(body), f"unit-lines-{run.id}-{run.option}.csv", "text/csv; charset=utf-8")


CHANGES_PAGE = 200  # changed lines a page (every one reachable through rel=next links)


def changes_page(changes: Sequence[Any], page: int, a: int, b: int, size: int = CHANGES_PAGE) -> dict[str, Any]:
    """Page ``page`` of the changed lines of plans ``a`` and ``b`` (``size`` a page; a page past
    the last is the last; no change is one empty page) and the links to its neighbours."""
    pages = max(1, -(-len(changes) // size))
    page = min(page, pages)

    def link(n: int) -> str:
        return f"/plans/compare?a={a}&b={b}&page={n}#changes"

    return {
        "shown": changes[(page - 1) * size : page * size],
        "page": page,
        "pages": pages,
        "page_links": {"prev": link(page - 1) if page > 1 else None, "next": link(page + 1) if page < pages else None},
    }


@router.get("/plans/compare")
def compare_page(
    request: Request, ctx: Page, a: JobId, b: JobId, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> HTMLResponse:
    run_a, run_b = _done(ctx, a), _done(ctx, b)
    plan_a, plan_b = _plan(ctx, run_a), _plan(ctx, run_b)
    cmp = compare(plan_a, plan_b)
    return render(
        request,
        ctx,
        "compare.html",
        "plan",
        a=naming.labelled(ctx.principal, run_a),
        b=naming.labelled(ctx.principal, run_b),
        plan_a=plan_a,
        plan_b=plan_b,
        cmp=cmp,
        **changes_page(cmp.changes, page, a, b),
    )


PlanJob = Annotated[int, Path(ge=1, le=2**31 - 1)]
Csrf = Annotated[str, Form(max_length=200)]


@router.post("/plan/{job}/name")
def name_plan(
    request: Request, ctx: Page, job: PlanJob, name: Annotated[str, Form(max_length=1000)] = "", csrf: Csrf = ""
) -> Response:
    """Rename a plan (403/404 as the API); a bad name is the plan page again (422), inline."""
    check_csrf(request, csrf)
    try:
        naming.relabel(ctx.db, ctx.principal, job, naming.Relabel(name=name), request_id=ctx.request_id)
    except InputError:
        problem = request_lang(request).gettext(
            "A plan's name is 1 to %(n)s characters on one line, without control characters.", n=naming.NAME_MAX
        )
        return _plan_view(request, ctx, job, label={"name": name, "problem": problem}, status_code=422)
    return RedirectResponse(f"/plan?job={job}#label", status_code=303)


@router.post("/plan/{job}/pin")
def pin_plan(
    request: Request,
    ctx: Page,
    job: PlanJob,
    pinned: Annotated[str, Form(pattern=r"^(true|false)$")],
    back: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    csrf: Csrf = "",
) -> Response:
    """Pin or unpin a plan; back to the plan page it was sent from (``back``: its job)."""
    check_csrf(request, csrf)
    naming.relabel(ctx.db, ctx.principal, job, naming.Relabel(pinned=pinned == "true"), request_id=ctx.request_id)
    return RedirectResponse(f"/plan?job={back or job}#label", status_code=303)
