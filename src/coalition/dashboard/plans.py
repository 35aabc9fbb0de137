"""Plan downloads (XLSX, CSV) and the comparison of two plans: the reader's view of each plan
(the same as the plan page), through :mod:`coalition.planner.workbook`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from coalition.dashboard.context import PageCtx
from coalition.dashboard.routes import Page, _plan, render
from coalition.errors import NotFoundError
from coalition.planner import runs
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


@router.get("/plans/compare")
def compare_page(
    request: Request, ctx: Page, a: JobId, b: JobId, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> HTMLResponse:
    run_a, run_b = _done(ctx, a), _done(ctx, b)
    plan_a, plan_b = _plan(ctx, run_a), _plan(ctx, run_b)
    cmp = compare(plan_a, plan_b)
    pages = max(1, -(-len(cmp.changes) // CHANGES_PAGE))
    page = min(page, pages)

    def link(n: int) -> str:
        return f"/plans/compare?a={a}&b={b}&page={n}#changes"

    return render(
        request,
        ctx,
        "compare.html",
        "plan",
        a=runs.summary(run_a),
        b=runs.summary(run_b),
        plan_a=plan_a,
        plan_b=plan_b,
        cmp=cmp,
        shown=cmp.changes[(page - 1) * CHANGES_PAGE : page * CHANGES_PAGE],
        page=page,
        pages=pages,
        page_links={"prev": link(page - 1) if page > 1 else None, "next": link(page + 1) if page < pages else None},
    )
