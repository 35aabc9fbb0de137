"""Analyses as runs of the service: queue, follow, cancel, fetch (the API's and dashboard's
service for ``coalition.analysis``; the CLI calls :mod:`coalition.analysis.service` directly).

An analysis is a run of kind ``analysis`` in the planner's run machinery
(:mod:`coalition.planner.runs`): the same :class:`~coalition.planner.runs.PlanRun` rows, queue,
per-nation quota, executor (local threads or Dask), cancel and reuse (an identical finished
request is reused). What differs is the task (:func:`analysis_task`: the scenario document and
the request in, the summary of :mod:`coalition.analysis.service` out) and the row's summary,
which carries no figure (run rows are listed to every principal).

* :class:`AnalysisRequest` is the request (limits are the service's: bad input is a 422 before
  anything is queued, :func:`check_request`);
* :func:`queue_analysis`, :func:`get_analysis`, :func:`list_analyses`, :func:`cancel_analysis`;
* :func:`visible_result`: a finished run's summary as the reader may see it
  (:mod:`coalition.analysis.releasability`, with the pledge markings of the revision the run
  analysed); :func:`visible_xlsx` the same as an XLSX workbook.

A run's worlds are evaluated inside the task (one executor slot per analysis), so a large
Monte Carlo belongs on the CLI with a Dask cluster (``--scheduler``); the service caps a run at
:data:`MAX_SAMPLES` worlds. Cancelling stops a Monte Carlo or withdrawal run at its next
finished batch or plan; a hedge run stops when its MIP ends.
"""

from __future__ import annotations

import math
from dataclasses import replace
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from coalition.auth.rules import ALL, Marking
from coalition.auth.schemas import Principal
from coalition.auth.scope import restrict
from coalition.errors import InputError, Problem
from coalition.planner import runs
from coalition.scenario import store

KIND = "analysis"
MAX_SAMPLES = 2000

Assumption = Annotated[str, Field(max_length=120, pattern=r"^[A-Za-z0-9_.\-]+=[A-Za-z0-9\-]+$")]


class AnalysisKind(StrEnum):
    MONTECARLO = "montecarlo"
    WITHDRAWAL = "withdrawal"
    HEDGE = "hedge"
    DISCOVER = "discover"


class AnalysisRequest(BaseModel):
    """One analysis of one force option (fields a kind does not use are ignored by it)."""

    model_config = ConfigDict(extra="forbid")

    analysis: AnalysisKind = Field(description="montecarlo | withdrawal | hedge | discover")
    option: str = Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    assumptions: list[Assumption] = Field(default=[], max_length=20, description="NAME=VALUE, fixed (not drawn)")
    samples: int = Field(default=200, ge=1, le=MAX_SAMPLES, description="worlds (montecarlo, hedge, discover)")
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="seed of the experiment design")
    method: Literal["lhs", "sobol", "mc"] = "lhs"
    quick: bool = Field(
        default=False, description="gap picture instead of the planner (montecarlo); discover always evaluates quickly"
    )
    exact: bool = Field(default=False, description="enumerate every joint outcome (se = 0)")
    k: int = Field(default=3, ge=1, le=5, description="worst-k size (withdrawal)")
    baseline: Literal["nominal", "all-hold"] = "nominal"
    pairs: bool = Field(default=True, description="all N-2 pairs (withdrawal)")
    shapley: int = Field(default=20, ge=0, le=200, description="Shapley permutations (withdrawal)")
    delay: float = Field(default=30.0, ge=0, le=365, description="re-tasking delay, days (hedge)")
    threshold: float = Field(default=80.0, ge=0, le=100, description="essential coverage % of interest (discover)")
    time_limit: float = Field(
        default=30.0, gt=0, le=600, description="solver seconds per world (capped by the service)"
    )
    mip_gap: float = Field(default=1e-2, ge=0, le=0.5, description="relative MIP gap per world")


class AnalysisRun(BaseModel):
    """A queued, running or finished analysis run (no figure of the result)."""

    id: int
    analysis: str
    scenario_id: int
    revision: int
    option: str
    assumptions: list[str]
    seed: int
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float = Field(ge=0, le=1)
    message: str
    error: str | None
    requested_by: str
    nation: str
    queue_position: int | None
    cancel_requested: bool
    reused_from: int | None
    created_at: str | None
    finished_at: str | None
    request: dict[str, Any]


def _marking(run: runs.PlanRun) -> Marking:
    # like a plan run: visible to all; the result is cut down per reader when read
    return Marking(origin=run.nation, releasable_to=(ALL,))


def check_request(scenario: Any, req: AnalysisRequest) -> None:
    """Bad input that depends on the scenario, every problem at once (422, nothing queued)."""
    from coalition.analysis.evaluate import effective_uncertainty
    from coalition.analysis.sampling import enumerate_worlds
    from coalition.conditions.engine import parse_assumptions
    from coalition.planner.visible import check_request as check_plan_request
    from coalition.scenario.uncertainty import Uncertainty

    check_plan_request(scenario, req.option, list(req.assumptions))
    if req.analysis is AnalysisKind.DISCOVER and req.assumptions:
        raise InputError(
            [
                Problem(
                    "discover takes no assumptions (it searches over the uncertain conditions)",
                    field="assumptions",
                    hint="leave assumptions empty",
                )
            ]
        )
    if req.exact and req.analysis in (AnalysisKind.MONTECARLO, AnalysisKind.HEDGE):
        u = effective_uncertainty(scenario.uncertainty or Uncertainty(), parse_assumptions(list(req.assumptions)))
        try:
            for _ in enumerate_worlds(u):
                pass
        except InputError as err:
            raise InputError([replace(p, field="exact") for p in err.problems]) from None


def _summarise(summary: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The run row's summary and message: no figure (run rows are listed to everyone)."""
    kind = str(summary.get("kind"))
    n = summary.get("samples")
    what = f"{n} world(s)" if n is not None else f"{summary.get('solves', 0)} plan(s)"
    return ({"analysis": kind, "complete": bool(summary.get("complete", True))}, f"done: {kind}, {what}")


def _json_safe(value: Any) -> Any:
    """Non-finite floats become None (PostgreSQL's JSON has no NaN); tuples become lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


class Cancelled(Exception):
    """The run's cancel token was set (raised from the progress callback)."""


def analysis_task(
    document: dict[str, Any],
    option: str,
    assumptions: list[str],
    at: str | None,
    options: dict[str, Any],
    cancel: Any = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Run one analysis (pure inputs, picklable: a thread or a Dask worker runs it)."""
    from coalition.analysis import service
    from coalition.analysis.runner import Execution
    from coalition.analysis.sampling import Method
    from coalition.conditions.engine import parse_assumptions
    from coalition.scenario.schemas import Scenario

    scenario = Scenario.model_validate(document)
    req = AnalysisRequest.model_validate(
        {
            **options["analysis"],
            "option": option,
            "assumptions": list(assumptions),
            "seed": int(options.get("seed", 0)),
            "time_limit": float(options["time_limit"]),
        }
    )
    parsed = parse_assumptions(list(req.assumptions))

    def tick(done: int, total: int) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled
        if progress is not None:
            frac = done / total if total else done / (done + 10.0)
            what = f"{done} of {total} worlds" if total else f"{done} plans solved"
            progress(runs.TaskProgress(frac, f"{req.analysis.value}: {what}"))

    texts = list(req.assumptions)
    try:
        if req.analysis is AnalysisKind.MONTECARLO:
            out = service.montecarlo(
                scenario,
                option,
                sampling=service.Sampling(req.samples, req.seed, Method(req.method), req.exact),
                quick=req.quick,
                solve=service.SolveLimits(time_limit=req.time_limit, mip_gap=req.mip_gap),
                execution=Execution(workers=0, progress=tick),
                assumptions=parsed,
                assumption_texts=texts,
            )
        elif req.analysis is AnalysisKind.WITHDRAWAL:
            out = service.withdrawal(
                scenario,
                option,
                search=service.WithdrawalSearch(
                    k=req.k, baseline=req.baseline, pairs=req.pairs, shapley_permutations=req.shapley, seed=req.seed
                ),
                solve=service.SolveLimits(time_limit=req.time_limit, mip_gap=req.mip_gap),
                execution=Execution(workers=0, progress=tick),
                assumptions=parsed,
                assumption_texts=texts,
            )
        elif req.analysis is AnalysisKind.HEDGE:
            out = service.hedge(
                scenario,
                option,
                sampling=service.Sampling(req.samples, req.seed, Method(req.method), req.exact),
                settings=service.HedgeSettings(delay=req.delay),
                assumptions=parsed,
                assumption_texts=texts,
            )
        else:
            out = service.discover(
                scenario,
                option,
                boxes=service.BoxSearch(threshold=req.threshold),
                sampling=service.Sampling(req.samples, req.seed, Method(req.method)),
                quick=True,
                execution=Execution(workers=0, progress=tick),
            )
    except Cancelled:
        return {"_cancelled": True}
    safe: dict[str, Any] = _json_safe(out)  # a dict stays a dict
    return safe


runs.register_task(KIND, runs.Task(fn=analysis_task, summarise=_summarise))


# ---------------------------------------------------------------------------------------------
# Queries and commands (principal + session)
# ---------------------------------------------------------------------------------------------


def view_of(run: runs.PlanRun, position: int | None = None) -> AnalysisRun:
    s = runs.summary(run, position)
    request = dict((run.options or {}).get("analysis") or {})
    return AnalysisRun(
        id=s["id"],
        analysis=str(request.get("analysis", "")),
        scenario_id=s["scenario_id"],
        revision=s["revision"],
        option=s["option"],
        assumptions=list(s["assumptions"] or []),
        seed=s["seed"],
        status=s["status"],
        progress=min(1.0, max(0.0, s["progress"])),
        message=s["message"],
        error=s["error"],
        requested_by=s["requested_by"],
        nation=s["nation"],
        queue_position=s["queue_position"],
        cancel_requested=s["cancel_requested"],
        reused_from=s["reused_from"],
        created_at=s["created_at"],
        finished_at=s["finished_at"],
        request={**request, "time_limit": (run.options or {}).get("time_limit")},
    )


def queue_analysis(
    session: Session,
    principal: Principal,
    req: AnalysisRequest,
    *,
    scenario_ref: str | None,
    cache: store.ScenarioCache | None,
    time_limit_max: float,
) -> tuple[runs.PlanRun, bool]:
    """Check the request (422 on bad input), then queue it or reuse the identical run."""
    scope = restrict(principal, "plan.run", _marking)
    sid, rev, state = store.current_state(session, ref=scenario_ref, cache=cache)
    check_request(state.scenario, req)
    body = req.model_dump(mode="json", exclude={"option", "assumptions", "seed", "time_limit"})
    run, reused = runs.queue_run(
        session,
        principal=principal,
        request=runs.RunRequest(
            scenario_id=sid,
            revision=rev,
            option=req.option,
            at=None,
            assumptions=list(req.assumptions),
            seed=req.seed,
            kind=KIND,
            options={"time_limit": min(req.time_limit, time_limit_max), "analysis": body},
        ),
    )
    if not reused:
        scope.verify_written(run, str(run.id))
    return run, reused


def get_analysis(session: Session, principal: Principal, run_id: int) -> runs.PlanRun:
    scope = restrict(principal, "plan.view", _marking)
    return scope.check(runs.run_of_kind(session.get(runs.PlanRun, run_id), KIND), str(run_id))


def list_analyses(
    session: Session,
    principal: Principal,
    *,
    offset: int,
    limit: int,
    status: str | None = None,
    option: str | None = None,
) -> tuple[list[AnalysisRun], int]:
    restrict(principal, "plan.view", _marking)
    items, total = runs.list_runs(session, offset=offset, limit=limit, status=status, option=option, kind=KIND)
    rows = (
        {r.id: r for r in session.query(runs.PlanRun).filter(runs.PlanRun.id.in_([i["id"] for i in items]))}
        if items
        else {}
    )
    return [view_of(rows[i["id"]], i["queue_position"]) for i in items], total


def cancel_analysis(session: Session, principal: Principal, run_id: int) -> runs.PlanRun:
    get_analysis(session, principal, run_id)
    restrict(principal, "plan.run", _marking)
    return runs.cancel_run(session, run_id=run_id, principal=principal, kind=KIND)


def visible_result(
    session: Session, principal: Principal, run: runs.PlanRun, cache: store.ScenarioCache | None = None
) -> dict[str, Any]:
    """A finished run's summary under the releasability policy, with the pledge markings of
    the revision the run analysed (409 naming the status while it is not done)."""
    from coalition.analysis.releasability import summary_for
    from coalition.planner.releasability import reader_view

    restrict(principal, "plan.view", _marking)
    stored = runs.result_of(session, run)
    state = store.state_at(session, scenario_id=run.scenario_id, revision=run.revision, cache=cache)
    return summary_for(stored, reader_view(principal, state))


def visible_xlsx(
    session: Session, principal: Principal, run: runs.PlanRun, cache: store.ScenarioCache | None = None
) -> bytes:
    """:func:`visible_result` as an XLSX workbook (every table, one sheet each)."""
    from coalition.analysis.export import workbook

    return workbook(visible_result(session, principal, run, cache))


__all__ = [
    "AnalysisKind",
    "AnalysisRequest",
    "AnalysisRun",
    "KIND",
    "MAX_SAMPLES",
    "analysis_task",
    "cancel_analysis",
    "check_request",
    "get_analysis",
    "list_analyses",
    "queue_analysis",
    "view_of",
    "visible_result",
    "visible_xlsx",
]
