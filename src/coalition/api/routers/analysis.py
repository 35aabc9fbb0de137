"""Analyses: queue a Monte Carlo, withdrawal, hedge or discovery run, follow it, cancel it,
fetch the result as the reader may see it (JSON or XLSX). Thin: the service is
:mod:`coalition.analysis.jobs` (runs of kind ``analysis`` in the planner's run machinery) and
the releasability policy :mod:`coalition.analysis.releasability`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from coalition.analysis import jobs
from coalition.api.deps import Context, Paging
from coalition.api.routers.common import ScenarioRef

router = APIRouter(prefix="/api/analyses", tags=["analyses"])

RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOT_DONE: dict[int | str, dict[str, Any]] = {409: {"description": "The run is not done (its status is named)"}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AnalysisRunOut(jobs.AnalysisRun):
    reused: bool = False


class AnalysisRunPage(BaseModel):
    items: list[jobs.AnalysisRun]
    total: int
    offset: int
    limit: int


class DayCell(BaseModel):
    model_config = ConfigDict(extra="allow")

    p: float | None = Field(default=None, ge=0, le=1, description="fill probability (full view)")
    se: float | None = None
    band: Literal["always", "sometimes", "never"] | None = Field(
        default=None, description="redacted view: filled in every world, some, or none"
    )


class LineResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    line: str
    by_day: dict[str, DayCell]


class WithdrawalRow(BaseModel):
    model_config = ConfigDict(extra="allow")

    nations: list[str]
    lines_broken: list[str]
    delta_essential_coverage_pct: float | None = Field(default=None, description="full view only")


class AnalysisResult(BaseModel):
    """An analysis summary (docs/analysis.md); a redacted view keeps only what the reader may
    see and names the rest in ``withheld``."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["montecarlo", "withdrawal", "hedge", "discover"]
    option: str | None = None
    redacted: bool
    withheld: list[str] = []
    warnings: list[str] = []
    lines: list[LineResult] | None = Field(default=None, description="montecarlo")
    n_1: list[WithdrawalRow] | None = Field(default=None, description="withdrawal")
    n_2: list[WithdrawalRow] | None = Field(default=None, description="withdrawal")


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AnalysisRunOut,
    summary="Queue an analysis run (poll it for progress); an identical finished run is reused (200)",
)
def create_analysis(
    ctx: Context, body: jobs.AnalysisRequest, background: BackgroundTasks, scenario: ScenarioRef = None
) -> Any:
    run, reused = jobs.queue_analysis(
        ctx.db,
        ctx.principal,
        body,
        scenario_ref=scenario,
        cache=ctx.state.scenarios,
        time_limit_max=ctx.state.settings.plan_time_limit_max,
    )
    view = jobs.view_of(run)
    if not reused:
        ctx.audit("create", "analysis", str(run.id), after=view.model_dump(mode="json"))
    if ctx.state.runs is not None:  # after the response, i.e. after the row is committed
        background.add_task(ctx.state.runs.dispatch)
    from coalition.planner import runs

    out = AnalysisRunOut(**jobs.view_of(run, runs.queue_position(ctx.db, run)).model_dump(), reused=reused)
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if reused and run.status == "done" else 202)


@router.get("", response_model=AnalysisRunPage, summary="Analysis runs, newest first")
def list_analyses(
    ctx: Context,
    paging: Paging,
    status_: Annotated[str | None, Query(alias="status", pattern=r"^(queued|running|done|failed|cancelled)$")] = None,
    option: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    items, total = jobs.list_analyses(
        ctx.db, ctx.principal, offset=paging.offset, limit=paging.limit, status=status_, option=option
    )
    return AnalysisRunPage(items=items, total=total, offset=paging.offset, limit=paging.limit)


@router.get(
    "/{run_id}", response_model=jobs.AnalysisRun, summary="An analysis run: status, queue position and progress"
)
def get_analysis(ctx: Context, run_id: RunId) -> Any:
    from coalition.planner import runs

    run = jobs.get_analysis(ctx.db, ctx.principal, run_id)
    return jobs.view_of(run, runs.queue_position(ctx.db, run))


@router.post("/{run_id}/cancel", response_model=jobs.AnalysisRun, summary="Cancel your queued or running analysis run")
def cancel_analysis(ctx: Context, run_id: RunId, background: BackgroundTasks) -> Any:
    run = jobs.cancel_analysis(ctx.db, ctx.principal, run_id)
    ctx.audit("cancel", "analysis", str(run_id), after={"status": run.status})
    if ctx.state.runs is not None:
        background.add_task(ctx.state.runs.request_cancel, run_id)
    return jobs.view_of(run)


@router.get(
    "/{run_id}/result",
    response_model=AnalysisResult,
    responses=NOT_DONE,
    response_model_exclude_unset=True,
    summary="The result of a finished analysis under the releasability policy of derived data (audited)",
)
def analysis_result(ctx: Context, run_id: RunId) -> Any:
    run = jobs.get_analysis(ctx.db, ctx.principal, run_id)
    body = jobs.visible_result(ctx.db, ctx.principal, run, cache=ctx.state.scenarios)
    ctx.audit("view", "analysis", str(run_id))
    return body


@router.get(
    "/{run_id}/result.xlsx",
    responses={**NOT_DONE, 200: {"content": {XLSX: {}}, "description": "every table of the result"}},
    response_class=Response,
    summary="The result as an XLSX workbook (the same view as /result; audited)",
)
def analysis_xlsx(ctx: Context, run_id: RunId) -> Response:
    run = jobs.get_analysis(ctx.db, ctx.principal, run_id)
    data = jobs.visible_xlsx(ctx.db, ctx.principal, run, cache=ctx.state.scenarios)
    ctx.audit("view", "analysis", str(run_id), note="xlsx")
    return Response(
        data, media_type=XLSX, headers={"content-disposition": f'attachment; filename="analysis-{run_id}.xlsx"'}
    )
