"""Pledge activation at a date (pure): which pledges count, and why the others do not.

A pledge is judged in this order; the first rule that applies decides:

1. ``withdrawn``: its lifecycle state is ``withdrawn``;
2. ``expired``: it has an ``expiry_date`` and the date is after it;
3. ``not-yet``: its lifecycle state is below ``ForceGenOptions.min_state`` (default ``offered``,
   i.e. every pledge on the table counts);
4. its condition expression, evaluated three-valued at the date by the conditions engine:
   ``active`` when true, ``inactive`` when false, ``unknown`` when unknown. The deciding
   conditions (the *culprits* of the explanation tree) are named.

An overdue ``renewal_date`` does not deactivate a pledge; it adds a note. A renewal that
extends a pledge is a lifecycle event in the scenario (a new ``expiry_date`` in a new revision),
never an assumption made here.

Over time (:func:`activation_by_day`): the same rule at every day after C-day. Activation can
only change on a day some fact changes (an event, an assumption's date, an instrument change)
or on the day after ``expiry_date``, so the rule is evaluated on exactly those days and is
constant in between. The result is the pledge's *active spells*: the maximal runs of days on
which it is active, each with the reason it holds and why it ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from coalition.conditions.engine import ConditionEngine, Truth, Verdict
from coalition.forcegen.schemas import (
    ActivationPicture,
    ActivationStatus,
    ForceGenOptions,
    PledgeActivation,
)
from coalition.scenario.schemas import Assumption, Pledge, PledgeState, Scenario

_STATE_RANK = {s: i for i, s in enumerate(PledgeState)}


def pledge_activation(
    pledge: Pledge,
    at: date,
    engine: ConditionEngine,
    *,
    options: ForceGenOptions = ForceGenOptions(),  # noqa: B008 - frozen, safe as default
) -> PledgeActivation:
    """The activation of one pledge at ``at``."""
    notes: list[str] = []

    def activation(
        status: ActivationStatus, reason: str, conditions: tuple[str, ...] = (), verdict: Verdict | None = None
    ) -> PledgeActivation:
        return PledgeActivation(
            pledge=pledge.id,
            nation=pledge.nation,
            capability=pledge.capability,
            units=pledge.units,
            personnel=pledge.units * pledge.personnel_per_unit,
            state=pledge.state,
            evidence=pledge.evidence.value,
            status=status,
            reason=reason,
            conditions=conditions,
            verdict=verdict,
            notes=tuple(notes),
        )

    if pledge.renewal_date is not None and at > pledge.renewal_date:
        notes.append(f"renewal was due on {pledge.renewal_date.isoformat()}")
    if pledge.state is PledgeState.WITHDRAWN:
        return activation(ActivationStatus.WITHDRAWN, f"{pledge.nation} withdrew the pledge")
    if pledge.expiry_date is not None and at > pledge.expiry_date:
        return activation(ActivationStatus.EXPIRED, f"the pledge expired on {pledge.expiry_date.isoformat()}")
    if _STATE_RANK[pledge.state] < _STATE_RANK[options.min_state]:
        return activation(
            ActivationStatus.NOT_YET,
            f"the pledge is only {pledge.state.value}; {options.min_state.value} or later counts",
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
    return activation(status, reason, culprits, verdict)


def _because(verdict: Verdict, culprits: Sequence[str]) -> str:
    """'ceasefire is false (assumed true only from ...)' for each culprit leaf."""
    leaves: dict[str, str] = {}

    def visit(v: Verdict) -> None:
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


@dataclass(frozen=True, slots=True)
class ActiveSpell:
    """Days ``start .. end`` (after C-day, inclusive) on which a pledge is active; ``end`` None
    when it stays active after every known fact."""

    start: int
    end: int | None
    reason: str  # why it is active (the rule's reason at ``start``)
    ends_because: str = ""  # why it stops after ``end`` ("" when open)

    def text(self, c_day: date | None = None) -> str:
        def day(d: int) -> str:
            return f"day {d}" + (f" ({(c_day + timedelta(days=d)).isoformat()})" if c_day else "")

        end = "onwards (no known fact ends it)" if self.end is None else f"to {day(self.end)}"
        tail = f"; then {self.ends_because}" if self.ends_because else ""
        return f"active from {day(self.start)} {end}: {self.reason}{tail}"


@dataclass(frozen=True, slots=True)
class PledgeActivity:
    """A pledge's activation over time: its active spells, and why it is inactive otherwise."""

    pledge: str
    spells: tuple[ActiveSpell, ...]
    inactive_reason: str = ""  # "code: reason" at the first inactive checkpoint, "" if none

    def active_on(self, day: int) -> bool:
        return any(s.start <= day and (s.end is None or day <= s.end) for s in self.spells)


def activation_by_day(
    pledge: Pledge,
    c_day: date,
    engine: ConditionEngine,
    *,
    options: ForceGenOptions = ForceGenOptions(),  # noqa: B008
) -> PledgeActivity:
    """The active spells of ``pledge`` from C-day on (days after C-day).

    Evaluated with :func:`pledge_activation` at C-day, at every later date on which a fact
    changes (including events after the planning horizon) and on the day after its expiry."""
    dates = {c_day} | {d for d in engine.change_dates() if d > c_day}
    if pledge.expiry_date is not None and pledge.expiry_date >= c_day:
        dates.add(pledge.expiry_date + timedelta(days=1))
    points = sorted(dates)
    verdicts = [pledge_activation(pledge, d, engine, options=options) for d in points]
    spells: list[ActiveSpell] = []
    why_not = ""
    i = 0
    while i < len(points):
        v = verdicts[i]
        if not v.active:
            if not why_not:
                why_not = f"{v.code}: {v.reason}"
            i += 1
            continue
        j = i
        while j + 1 < len(points) and verdicts[j + 1].active:
            j += 1
        if j + 1 < len(points):
            nxt = verdicts[j + 1]
            end: int | None = (points[j + 1] - c_day).days - 1
            because = f"{nxt.code}: {nxt.reason}"
        else:
            end, because = None, ""
        spells.append(ActiveSpell((points[i] - c_day).days, end, v.reason, because))
        i = j + 1
    return PledgeActivity(pledge.id, tuple(spells), why_not)


__all__ = ["ActiveSpell", "PledgeActivity", "activation", "activation_by_day", "pledge_activation"]
