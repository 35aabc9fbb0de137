"""Planner runs in the background: a job row per run, progress written as the solver reports.

The request that starts a run only validates the input and stores a queued job; the run itself
happens on the app's single worker thread (one solve at a time keeps a 2-core machine usable),
with its own short transactions for progress and the result. The planner is called exactly as
``coalition plan`` calls it (:func:`coalition.planner.service.plan_option`).
"""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import Any

from coalition.api.models import PlanJob, StoredScenario
from coalition.auth.service import now
from coalition.store.db import transaction

log = logging.getLogger("coalition.api.jobs")

PROGRESS_EVERY_S = 0.5


def run_plan_job(state: Any, job_id: int) -> None:
    """Run one queued plan job to completion; never raises (failures are stored on the job)."""
    from coalition.conditions.engine import parse_assumptions
    from coalition.planner.schemas import PlanOptions
    from coalition.planner.service import plan_option

    factory = state.session_factory
    try:
        with transaction(factory) as db:
            job = db.get(PlanJob, job_id)
            if job is None or job.status != "queued":
                return
            job.status = "running"
            job.message = "building the model"
            row = db.get(StoredScenario, job.scenario_id)
            scenario = state.scenarios.get(row.id, row.revision, document=row.document)
            option, at_text = job.option, job.at
            assumptions = parse_assumptions(list(job.assumptions))
            limit = job.time_limit_s
        started = time.monotonic()
        last = [0.0]

        def progress(p: Any) -> None:
            t = time.monotonic()
            if t - last[0] < PROGRESS_EVERY_S:
                return
            last[0] = t
            frac = min(0.95, 0.05 + (t - started) / max(limit, 0.1))
            gap = f"{p.gap * 100:.2f}%" if p.gap is not None else "n/a"
            text = f"solving: incumbent {p.incumbent}, bound {p.bound}, gap {gap}"
            with transaction(factory) as db2:
                j = db2.get(PlanJob, job_id)
                if j is not None:
                    j.progress, j.message = frac, text

        outcome, cday = plan_option(
            scenario, option, assumptions=assumptions,
            at=date.fromisoformat(at_text) if at_text else None,
            options=PlanOptions(time_limit=limit), progress=progress,
        )
        result = outcome.plan.model_dump(mode="json")
        with transaction(factory) as db:
            job = db.get(PlanJob, job_id)
            job.status, job.progress, job.result = "done", 1.0, result
            job.message = f"{outcome.plan.solve.status}: coverage {outcome.plan.kpis.coverage_pct:.1f}%"
            job.finished_at = now()
    except Exception as exc:  # noqa: BLE001 - stored on the job, shown to the user
        log.exception("plan job %s failed", job_id)
        with transaction(factory) as db:
            job = db.get(PlanJob, job_id)
            if job is not None:
                job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
                job.message = "failed"
                job.finished_at = now()
