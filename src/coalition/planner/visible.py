"""What a principal may see of plans and gap pictures (query functions: principal + session).

The API's routers and the dashboard's pages both call these, so the two cannot disagree:
another nation's pledge detail is redacted through the same pledge scope
(:func:`coalition.auth.scope.restrict` with the stored revision's markings).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from coalition.auth.redact import RESTRICTED, redact_plan, scrub_ids
from coalition.auth.rules import PUBLIC
from coalition.auth.schemas import Principal
from coalition.auth.scope import restrict
from coalition.errors import InputError, Problem, closest
from coalition.planner import runs
from coalition.scenario import store
from coalition.scenario.rules import ScenarioState
from coalition.scenario.schemas import Scenario


def pledge_visibility(principal: Principal, state: ScenarioState) -> tuple[set[str], set[str]]:
    """(visible, hidden) pledge ids for the principal at this revision."""
    scope = restrict(principal, "pledge.view", lambda p: state.marking("pledge", p))
    visible = {p.id for p in scope.filter(state.scenario.pledges)}
    return visible, {p.id for p in state.scenario.pledges} - visible


def check_request(scenario: Scenario, option: str, assumptions: list[str]) -> None:
    """Bad input of a plan request, every problem at once (422 before anything is queued)."""
    from coalition.conditions.engine import check_assumptions, parse_assumptions

    problems: list[Problem] = []
    if scenario.option(option) is None:
        valid = [o.id for o in scenario.force_options]
        guess = closest(option, valid)
        problems.append(Problem(f"unknown force option '{option}'", field="option",
                                hint=f"did you mean '{guess}'?" if guess else
                                "valid: " + ", ".join(valid)))
    parsed = parse_assumptions(assumptions, option="assumptions")
    problems += check_assumptions(parsed, scenario, option="assumptions")
    if problems:
        raise InputError(problems)


def visible_plan(session: Session, principal: Principal, run: runs.PlanRun,
                 cache: store.ScenarioCache | None = None) -> dict[str, Any]:
    """A finished run's plan with other nations' restricted detail redacted. The markings are
    those of the revision the run planned."""
    restrict(principal, "plan.view", lambda _r: PUBLIC)
    plan = runs.result_of(session, run)
    state = store.state_at(session, scenario_id=run.scenario_id, revision=run.revision,
                           cache=cache)
    visible, hidden = pledge_visibility(principal, state)
    nations = None if principal.is_hq else {principal.nation} | {
        p.nation for p in state.scenario.pledges if p.id in visible}
    return redact_plan(plan, visible_pledges=visible, hidden_pledges=hidden,
                       visible_nations=nations)


def redact_gaps(data: dict[str, Any], visible: set[str], hidden: set[str]) -> dict[str, Any]:
    """Aggregates stay; another nation's pledge ids and assignments are restricted."""
    out = dict(data)
    lines = []
    for line in data.get("lines", []):
        assignments = [a if a.get("pledge") in visible else
                       {**a, "pledge": RESTRICTED, "nation": RESTRICTED}
                       for a in line.get("assignments", [])]
        reasons = [{**r, "pledges": [p if p in visible else RESTRICTED for p in r.get("pledges", [])],
                    "message": scrub_ids(r.get("message", ""), hidden)}
                   for r in line.get("reasons", [])]
        lines.append({**line, "assignments": assignments, "reasons": reasons})
    out["lines"] = lines
    if "activation" in out and isinstance(out["activation"], dict):
        act = dict(out["activation"])
        if isinstance(act.get("pledges"), list):
            act["pledges"] = [p for p in act["pledges"] if p.get("pledge") in visible]
        out["activation"] = act
    out["redacted"] = True
    return out


def visible_gaps(principal: Principal, state: ScenarioState, option: str, at: str | None,
                 assume: list[str]) -> dict[str, Any]:
    """The gap picture of an option (``coalition gaps``'s pure functions), redacted."""
    from coalition.forcegen.gaps import gap_picture
    from coalition.forcegen.inputs import resolve_inputs

    restrict(principal, "gaps.view", lambda _r: PUBLIC)
    sc = state.scenario
    assumptions, engine, day = resolve_inputs(sc, assume, at, [option])
    picture = gap_picture(sc, option, day, assumptions, engine=engine)
    visible, hidden = pledge_visibility(principal, state)
    return redact_gaps(picture.to_json(explain=True), visible, hidden)


def parse_day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


__all__ = ["check_request", "pledge_visibility", "redact_gaps", "visible_gaps", "visible_plan"]
