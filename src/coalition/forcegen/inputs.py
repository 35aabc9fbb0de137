"""Resolve the inputs of a force-generation question: assumptions, date, options (pure).

Shared by the CLI (`coalition status`, `gaps`, `plan`) and the API, so that both report the same
problems in the same words. Every problem is collected and raised at once as an
:class:`~coalition.errors.InputError`; ``field`` names the command-line option.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from coalition.conditions.engine import ConditionEngine, check_assumptions, parse_assumptions
from coalition.errors import InputError, Problem
from coalition.forcegen.gaps import check_option
from coalition.scenario.schemas import Assumption, PledgeState, Scenario


def parse_at(text: str | None, *, option: str = "--at") -> date | None:
    """Parse an ISO date option; InputError naming the option when malformed."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            [Problem(f"bad date {text!r}", field=option, hint="a date as YYYY-MM-DD, e.g. 2026-06-01")]
        ) from None


def parse_min_state(text: str) -> PledgeState:
    valid = [s.value for s in PledgeState if s is not PledgeState.WITHDRAWN]
    if text not in valid:
        raise InputError(
            [Problem(f"bad pledge state {text!r}", field="--min-state", hint="one of " + ", ".join(valid))]
        )
    return PledgeState(text)


def resolve_inputs(
    scenario: Scenario,
    assume: Sequence[str] | None,
    at: str | None,
    options: Sequence[str] = (),
) -> tuple[tuple[Assumption, ...], ConditionEngine, date]:
    """Assumptions (checked against the scenario), the engine and the date to look at.

    Every problem (bad --assume values, unknown condition names, bad --at, unknown --option) is
    reported at once.
    """
    problems: list[Problem] = []
    good: dict[str, Assumption] = {}
    for text in assume or ():
        try:
            (a,) = parse_assumptions([text])
        except InputError as err:
            problems.extend(err.problems)
            continue
        if a.condition in good:
            problems.append(
                Problem(
                    f"condition {a.condition!r} is assumed more than once",
                    field="--assume",
                    hint="give each condition at most one --assume",
                )
            )
            continue
        good[a.condition] = a
    assumptions = tuple(good.values())
    problems.extend(check_assumptions(assumptions, scenario))
    day: date | None = None
    try:
        day = parse_at(at)
    except InputError as err:
        problems.extend(err.problems)
    for o in options:
        try:
            check_option(scenario, o)
        except InputError as err:
            problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    engine = ConditionEngine(scenario, assumptions)
    if day is None:
        day = engine.c_day() or date.today()
    return assumptions, engine, day


__all__ = ["parse_at", "parse_min_state", "resolve_inputs"]
