"""Pledge activation at a date (pure): which pledges count, and why the others do not.

A pledge is judged in this order; the first rule that applies decides:

1. ``withdrawn``: its lifecycle state is ``withdrawn``;
2. ``expired``: it has an ``expiry_date`` and the date is after it;
3. ``not-yet``: its lifecycle state is below ``ForceGenOptions.min_state`` (default ``offered``,
   i.e. every pledge on the table counts);
4. its condition expression, evaluated three-valued at the date by the conditions engine:
   ``active`` when true, ``inactive`` when false, ``unknown`` when unknown. The deciding
   conditions (the *culprits* of the explanation tree) are named.

An overdue ``renewal_date`` does not deactivate a pledge; it adds a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from coalition.conditions.engine import ConditionEngine, Truth
from coalition.scenario.schemas import Assumption, Pledge, PledgeState, Scenario
from coalition.forcegen.schemas import (
    ActivationPicture,
    ActivationStatus,
    ForceGenOptions,
    PledgeActivation,
)

_STATE_RANK = {s: i for i, s in enumerate(PledgeState)}


def pledge_activation(
    pledge: Pledge,
    at: date,
    engine: ConditionEngine,
    *,
    options: ForceGenOptions = ForceGenOptions(),  # noqa: B008 - frozen, safe as default
) -> PledgeActivation:
    """The activation of one pledge at ``at``."""
    base = dict(
        pledge=pledge.id,
        nation=pledge.nation,
        capability=pledge.capability,
        units=pledge.units,
        personnel=pledge.units * pledge.personnel_per_unit,
        state=pledge.state,
        evidence=pledge.evidence.value,
    )
    notes: list[str] = []
    if pledge.renewal_date is not None and at > pledge.renewal_date:
        notes.append(f"renewal was due on {pledge.renewal_date.isoformat()}")
    if pledge.state is PledgeState.WITHDRAWN:
        return PledgeActivation(
            **base, status=ActivationStatus.WITHDRAWN, reason=f"{pledge.nation} withdrew the pledge",
            notes=tuple(notes),
        )
    if pledge.expiry_date is not None and at > pledge.expiry_date:
        return PledgeActivation(
            **base, status=ActivationStatus.EXPIRED,
            reason=f"the pledge expired on {pledge.expiry_date.isoformat()}", notes=tuple(notes),
        )
    if _STATE_RANK[pledge.state] < _STATE_RANK[options.min_state]:
        return PledgeActivation(
            **base, status=ActivationStatus.NOT_YET,
            reason=f"the pledge is only {pledge.state.value}; {options.min_state.value} or later counts",
            notes=tuple(notes),
        )
    verdict = engine.evaluate(pledge.condition, at)
    culprits = verdict.culprits()
    cond = pledge.condition.strip() or "true"
    if verdict.value is Truth.TRUE:
        status = ActivationStatus.ACTIVE
        reason = "unconditional" if cond == "true" else f"condition {cond} holds"
    elif verdict.value is Truth.FALSE:
        status = ActivationStatus.INACTIVE
        reason = f"condition {cond} is false: " + _because(verdict, culprits)
    else:
        status = ActivationStatus.UNKNOWN
        reason = f"condition {cond} is unknown: " + _because(verdict, culprits)
    return PledgeActivation(
        **base, status=status, reason=reason, conditions=culprits, verdict=verdict,
        notes=tuple(notes),
    )


def _because(verdict, culprits: Sequence[str]) -> str:  # type: ignore[no-untyped-def]
    """'ceasefire is false (assumed true only from ...)' for each culprit leaf."""
    leaves: dict[str, str] = {}

    def visit(v) -> None:  # type: ignore[no-untyped-def]
        key = v.condition or v.expr
        if not v.children and key in culprits and key not in leaves:
            leaves[key] = f"{key} is {v.value.value} ({v.why})"
        for c in v.children:
            visit(c)

    visit(verdict)
    return "; ".join(leaves.get(c, c) for c in culprits)


def activation(
    scenario: Scenario,
    at: date,
    assumptions: Sequence[Assumption] = (),
    *,
    options: ForceGenOptions = ForceGenOptions(),  # noqa: B008
    engine: ConditionEngine | None = None,
) -> ActivationPicture:
    """The activation picture: every pledge of the scenario at ``at``, in file order."""
    eng = engine if engine is not None else ConditionEngine(scenario, tuple(assumptions))
    return ActivationPicture(
        scenario=scenario.id,
        illustrative=scenario.illustrative,
        at=at,
        c_day=eng.c_day(),
        assumptions=tuple(eng.assumptions),
        pledges=tuple(pledge_activation(p, at, eng, options=options) for p in scenario.pledges),
        options=options,
    )


__all__ = ["activation", "pledge_activation"]
