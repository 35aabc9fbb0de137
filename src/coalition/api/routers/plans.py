"""Plans: start a planner run in the background, follow its progress, fetch the (redacted) plan."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import defer

from coalition.api.deps import Context, Ctx, Paging, page
from coalition.api.jobs import run_plan_job
from coalition.api.models import PlanJob
from coalition.api.routers.common import ScenarioRef, current_scenario
from coalition.auth.rules import ALL, Marking
from coalition.auth.scope import restrict
from coalition.auth.service import now
from coalition.errors import InputError, Problem

router = APIRouter(prefix="/api/plans", tags=["plans"])

Assumption = Annotated[str, Field(max_length=120, pattern=r"^[A-Za-z0-9_.\-]+=[A-Za-z0-9\-]+$")]


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option: str = Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    at: date | None = Field(default=None, description="date of the activation picture")
    assumptions: list[Assumption] = Field(
        default=[], max_length=20, description="NAME=VALUE, e.g. ceasefire=2026-06-01"
    )
    time_limit: float = Field(default=20.0, gt=0, le=600, description="solver seconds")


def _job_marking(job: PlanJob) -> Marking:
    # A plan is a coalition-wide aggregate; restricted detail is redacted per reader.
    return Marking(origin=job.nation, releasable_to=(ALL,))


def job_summary(job: PlanJob) -> dict[str, Any]:
    return {
        "id": job.id, "scenario_id": job.scenario_id, "option": job.option, "at": job.at,
        "assumptions": job.assumptions, "time_limit": job.time_limit_s, "status": job.status,
        "progress": round(job.progress, 3), "message": job.message, "error": job.error,
        "requested_by": job.requested_by, "nation": job.nation,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def start_plan(ctx: Ctx, body: PlanRequest, scenario_ref: str | None) -> PlanJob:
    """Validate everything now (bad input is a 422 here, not a failed job later); queue the job."""
    from coalition.conditions.engine import check_assumptions, parse_assumptions

    scope = restrict(ctx.principal, "plan.run", _job_marking)
    sid, sc = current_scenario(ctx, scenario_ref)
    problems: list[Problem] = []
    if sc.option(body.option) is None:
        from coalition.errors import closest

        valid = [o.id for o in sc.force_options]
        guess = closest(body.option, valid)
        problems.append(Problem(f"unknown force option '{body.option}'", field="option",
                                hint=f"did you mean '{guess}'?" if guess else
                                "valid: " + ", ".join(valid)))
    parsed = parse_assumptions(body.assumptions, option="assumptions")
    problems += check_assumptions(parsed, sc, option="assumptions")
    if problems:
        raise InputError(problems)
    job = PlanJob(
        scenario_id=sid, option=body.option, at=body.at.isoformat() if body.at else None,
        assumptions=list(body.assumptions), time_limit_s=body.time_limit, status="queued",
        progress=0.0, message="queued", requested_by=ctx.principal.name,
        nation=ctx.principal.nation, created_at=now(),
    )
    ctx.db.add(job)
    ctx.db.flush()
    scope.verify_written(job, str(job.id))
    ctx.audit("create", "plan", str(job.id), after=job_summary(job))
    return job


@router.post("", status_code=status.HTTP_202_ACCEPTED,
             summary="Run the planner in the background (poll the job for progress)")
def create_plan(ctx: Context, body: PlanRequest, background: BackgroundTasks,
                scenario: ScenarioRef = None) -> dict[str, Any]:
    job = start_plan(ctx, body, scenario)
    state = ctx.state
    # Runs after the response is sent, i.e. after the job row is committed.
    background.add_task(state.jobs.submit, run_plan_job, state, job.id)
    return job_summary(job)


@router.get("", summary="Plan jobs, newest first")
def list_plans(ctx: Context, paging: Paging) -> dict[str, Any]:
    scope = restrict(ctx.principal, "plan.view", _job_marking)
    jobs = scope.filter(ctx.db.scalars(select(PlanJob).order_by(PlanJob.id.desc())))
    return page([job_summary(j) for j in jobs], paging)


def get_job(ctx: Ctx, job_id: int) -> PlanJob:
    scope = restrict(ctx.principal, "plan.view", _job_marking)
    # the result (a large JSON) is loaded only when a redacted plan is not cached already
    job = ctx.db.get(PlanJob, job_id, options=[defer(PlanJob.result)])
    return scope.check(job, str(job_id))


JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/{job_id}", summary="A plan job: status and progress")
def get_plan(ctx: Context, job_id: JobId) -> dict[str, Any]:
    return job_summary(get_job(ctx, job_id))


def plan_for_reader(ctx: Ctx, job: PlanJob) -> dict[str, Any]:
    """The job's plan under the releasability policy of derived data (an audited read, whether
    for the API, the plan page, the gaps page or the map)."""
    from coalition.api import releasability

    sid, sc = current_scenario(ctx, str(job.scenario_id))
    ctx.audit("view", "plan", str(job.id))
    return releasability.plan_of_job(job, releasability.reader_view(ctx, sid, sc),
                                     app_state=ctx.state)


@router.get("/{job_id}/result", summary="The plan of a finished job (restricted detail redacted)")
def plan_result(ctx: Context, job_id: JobId) -> Any:
    job = get_job(ctx, job_id)
    if job.status != "done":
        from coalition.errors import ConflictError

        raise ConflictError(f"plan job {job_id} is {job.status}; the result exists once it is done"
                            + (f" ({job.error})" if job.error else ""))
    from coalition.api.releasability import json_answer

    return json_answer(plan_for_reader(ctx, job))
