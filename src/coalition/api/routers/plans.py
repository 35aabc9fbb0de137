"""Plans: queue a planner run, follow it (queue position, progress), cancel it, fetch the
(redacted) plan. Storage, scheduling and reuse are :mod:`coalition.planner.runs`'s; the
principal's view of a plan is :func:`coalition.planner.visible.visible_plan`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from coalition.api.contract import api_fields, check_service_nation
from coalition.api.deps import Context, Ctx, Paging
from coalition.api.responses import Page, PlanRunCreated, PlanRunOut, PlanView
from coalition.api.routers.common import ScenarioRef
from coalition.auth.rules import ALL, Marking
from coalition.auth.scope import restrict
from coalition.errors import InputError
from coalition.planner import naming, releasability, runs
from coalition.planner.visible import check_request, visible_plan

router = APIRouter(prefix="/api/plans", tags=["plans"])

Assumption = Annotated[str, Field(max_length=120, pattern=r"^[A-Za-z0-9_.\-]+=[A-Za-z0-9\-]+$")]


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option: str = Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    at: date | None = Field(default=None, description="date of the activation picture")
    assumptions: list[Assumption] = Field(
        default=[], max_length=20, description="NAME=VALUE, e.g. ceasefire=2026-06-01"
    )
    time_limit: float = Field(
        default=20.0, gt=0, le=600, description="solver seconds (capped by the service's setting)"
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="solver seed")


def _run_marking(run: Any) -> Marking:
    # A plan is a coalition-wide aggregate; restricted detail is redacted per reader.
    return Marking(origin=run.nation, releasable_to=(ALL,))


def start_plan(ctx: Ctx, body: PlanRequest, scenario_ref: str | None) -> tuple[runs.PlanRun, bool]:
    """Validate everything now (bad input is a 422 here, not a failed run later); queue the run
    or reuse the one with the same key."""
    from coalition.scenario import store

    scope = restrict(ctx.principal, "plan.run", _run_marking)
    sid, rev, state = store.current_state(ctx.db, ref=scenario_ref, cache=ctx.state.scenarios)
    try:
        check_request(state.scenario, body.option, body.assumptions)
    except InputError as exc:
        raise api_fields(exc, assume=body.assumptions, name="assumptions") from None
    limit = min(body.time_limit, ctx.state.settings.plan_time_limit_max)
    run, reused = runs.queue_run(
        ctx.db,
        principal=ctx.principal,
        request=runs.RunRequest(
            scenario_id=sid,
            revision=rev,
            option=body.option,
            at=body.at.isoformat() if body.at else None,
            assumptions=list(body.assumptions),
            seed=body.seed,
            options={"time_limit": limit},
        ),
    )
    if not reused:  # a reused run is another nation's row, read (marking ALL), not written
        scope.verify_written(run, str(run.id))
        ctx.audit("create", "plan", str(run.id), after=runs.summary(run))
    return run, reused


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a planner run (poll it for queue position and progress); an identical finished run is reused",
    response_model=PlanRunCreated,
    responses={200: {"model": PlanRunCreated, "description": "a finished identical run, reused"}},
)
def create_plan(ctx: Context, body: PlanRequest, background: BackgroundTasks, scenario: ScenarioRef = None) -> Any:
    run, reused = start_plan(ctx, body, scenario)
    # Dispatched after the response is sent, i.e. after the run row is committed.
    if ctx.state.runs is not None:
        background.add_task(ctx.state.runs.dispatch)
    out = {**runs.summary(run, runs.queue_position(ctx.db, run)), "reused": reused}
    return JSONResponse(out, status_code=200 if reused and run.status == "done" else 202)


@router.get(
    "",
    summary="Plan runs, pinned first, then newest first (filtered and paged in the database)",
    response_model=Page[PlanRunOut],
)
def list_plans(
    ctx: Context,
    paging: Paging,
    status_: Annotated[str | None, Query(alias="status", pattern=r"^(queued|running|done|failed|cancelled)$")] = None,
    nation: Annotated[str | None, Query(pattern=r"^([A-Z]{3}|HQ)$")] = None,
    option: Annotated[str | None, Query(max_length=64)] = None,
    pinned: Annotated[bool | None, Query(description="only pinned (true) or unpinned (false) plans")] = None,
) -> Any:
    restrict(ctx.principal, "plan.view", _run_marking)  # every run is visible (marking ALL)
    check_service_nation(ctx, nation, field="nation")
    items, total = naming.list_plans(
        ctx.db,
        ctx.principal,
        offset=paging.offset,
        limit=paging.limit,
        status=status_,
        nation=nation,
        option=option,
        pinned=pinned,
    )
    return JSONResponse({"items": items, "total": total, "offset": paging.offset, "limit": paging.limit})


def get_job(ctx: Ctx, job_id: int) -> runs.PlanRun:
    scope = restrict(ctx.principal, "plan.view", _run_marking)
    # the plan itself is stored apart (planner_run_results): read only when a reader's view of
    # it is not cached already
    run: runs.PlanRun = scope.check(runs.run_of_kind(ctx.db.get(runs.PlanRun, job_id)), str(job_id))
    return run


JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/{job_id}", summary="A plan run: status, queue position and progress", response_model=PlanRunOut)
def get_plan(ctx: Context, job_id: JobId) -> dict[str, Any]:
    run = get_job(ctx, job_id)
    return naming.labelled(ctx.principal, run, runs.queue_position(ctx.db, run))


class PlanLabel(BaseModel):
    """A plan's name and pin; a field left out is left as it is."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None,
        max_length=1000,
        description=f"trimmed, 1 to {naming.NAME_MAX} characters on one line; null removes the name. "
        "Read only by your nation and HQ",
    )
    pinned: bool | None = Field(default=None, description="pin (true) or unpin (false); pinned plans list first")


@router.patch(
    "/{job_id}",
    summary="Name or pin a plan (a planner of the plan's nation, or HQ; each change is audited)",
    response_model=PlanRunOut,
)
def label_plan(ctx: Context, job_id: JobId, body: PlanLabel) -> dict[str, Any]:
    """403 for a role that may not run plans or another nation's plan; 404 for a plan you may
    not see; 422 naming ``name`` for a bad name."""
    change = naming.Relabel(name=body.name if "name" in body.model_fields_set else naming.UNCHANGED, pinned=body.pinned)
    run = naming.relabel(ctx.db, ctx.principal, job_id, change, request_id=ctx.request_id)
    return naming.labelled(ctx.principal, run, runs.queue_position(ctx.db, run))


@router.post("/{job_id}/cancel", summary="Cancel your queued or running plan run", response_model=PlanRunOut)
def cancel_plan(ctx: Context, job_id: JobId, background: BackgroundTasks) -> dict[str, Any]:
    get_job(ctx, job_id)
    restrict(ctx.principal, "plan.run", _run_marking)
    run = runs.cancel_run(ctx.db, run_id=job_id, principal=ctx.principal)
    ctx.audit("cancel", "plan", str(job_id), after={"status": run.status})
    if ctx.state.runs is not None:  # after the commit; other processes see the stored flag
        background.add_task(ctx.state.runs.request_cancel, job_id)
    return runs.summary(run)


@router.get(
    "/{job_id}/result",
    summary="The plan of a finished run (under the releasability policy of derived data; audited)",
    response_model=PlanView,
)
def plan_result(ctx: Context, job_id: JobId) -> Any:
    run = get_job(ctx, job_id)
    body = visible_plan(ctx.db, ctx.principal, run, cache=ctx.state.scenarios)
    ctx.audit("view", "plan", str(job_id))
    return Response(releasability.encoded(body), media_type="application/json")
