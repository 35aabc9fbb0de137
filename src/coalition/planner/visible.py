"""What a principal may see of plans and gap pictures (query functions: principal + session).

The API's routers and the dashboard's pages both call these, so the two cannot disagree: both
apply the one releasability policy of derived data (:mod:`coalition.planner.releasability`),
with the pledge scope of the stored revision's markings. The callers audit the reads.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from coalition.auth.rules import PUBLIC
from coalition.auth.schemas import Principal
from coalition.auth.scope import restrict
from coalition.errors import InputError, Problem, closest
from coalition.planner import releasability, runs
from coalition.scenario import store
from coalition.scenario.rules import ScenarioState
from coalition.scenario.schemas import Scenario


def check_request(scenario: Scenario, option: str, assumptions: list[str]) -> None:
    """Bad input of a plan request, every problem at once (422 before anything is queued)."""
    from coalition.conditions.engine import check_assumptions, parse_assumptions

    problems: list[Problem] = []
    if scenario.option(option) is None:
        valid = [o.id for o in scenario.force_options]
        guess = closest(option, valid)
        problems.append(
            Problem(
                f"unknown force option '{option}'",
                field="option",
                hint=f"did you mean '{guess}'?" if guess else "valid: " + ", ".join(valid),
            )
        )
    try:
        parsed = parse_assumptions(assumptions, option="assumptions")
    except InputError as exc:  # malformed assumptions: reported beside the option's problem
        problems += exc.problems
    else:
        problems += check_assumptions(parsed, scenario, option="assumptions")
    if problems:
        raise InputError(problems)


def visible_plan(
    session: Session, principal: Principal, run: runs.PlanRun, cache: store.ScenarioCache | None = None
) -> dict[str, Any]:
    """A finished run's plan under the releasability policy, with the markings of the revision
    the run planned; cached per run and reader view (the stored plan is read only on a miss)."""
    restrict(principal, "plan.view", lambda _r: PUBLIC)
    if run.status != "done":
        runs.result_of(session, run)  # raises the 409 naming the run's status
    state = store.state_at(session, scenario_id=run.scenario_id, revision=run.revision, cache=cache)
    view = releasability.reader_view(principal, state)
    if cache is None:  # no app to cache for (one-off callers): cut down the stored plan
        return releasability.plan_for(runs.result_of(session, run), view)
    return releasability.plan_of_run(run, view, lambda: runs.result_of(session, run), owner=cache)


def visible_gaps(
    principal: Principal,
    state: ScenarioState,
    option: str,
    at: str | None,
    assume: list[str],
    *,
    compute: releasability.GapsCompute | None = None,
) -> dict[str, Any]:
    """The gap picture of an option (``coalition gaps``'s pure functions) under the
    releasability policy; problems name the shared input resolution's fields. ``compute``
    computes a cache miss (the API's runs in its worker pool); default: in this thread."""
    picture: dict[str, Any] = json.loads(visible_gaps_json(principal, state, option, at, assume, compute=compute))
    return picture


def visible_gaps_json(
    principal: Principal,
    state: ScenarioState,
    option: str,
    at: str | None,
    assume: list[str],
    *,
    compute: releasability.GapsCompute | None = None,
) -> bytes:
    """:func:`visible_gaps` as the JSON bytes the API sends (cached, encoded once)."""
    restrict(principal, "gaps.view", lambda _r: PUBLIC)
    return releasability.gaps_encoded(
        state.scenario, releasability.reader_view(principal, state), option, at, assume, compute=compute
    )


def parse_day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


__all__ = ["check_request", "visible_gaps", "visible_gaps_json", "visible_plan"]
