"""Planner front door: scenario + option + assumptions -> plan.

Pure apart from reading nothing: it resolves C-day and the activation picture through the
conditions engine (:mod:`coalition.conditions.engine`) and hands typed values to
:func:`coalition.planner.engine.make_plan`. No database is involved: a plan is computed, not
stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from coalition.conditions.engine import CEASEFIRE, ConditionEngine
from coalition.errors import InputError, Problem, closest
from coalition.forcegen.activation import activation_by_day, pledge_activation
from coalition.planner.engine import (
    DEFAULT_OPTIONS,
    NO_HOOKS,
    Activation,
    PlanContext,
    PlanHooks,
    PlanOutcome,
    make_plan,
)
from coalition.planner.schemas import PlanOptions
from coalition.scenario.schemas import Assumption, Scenario


@dataclass(frozen=True, slots=True)
class CDay:
    """C-day and whether it is a fact/assumption of the user or our illustrative stand-in."""

    day: date
    illustrative: bool
    why: str


def illustrative_c_day(scenario: Scenario, at: date | None) -> date:
    """A stand-in ceasefire date when none is known: ``--at`` if given, else the first day of the
    month after the scenario's last dated fact (so every known event has happened)."""
    if at is not None:
        return at
    dates = [e.on for e in scenario.timeline] + [h.on for i in scenario.instruments for h in i.history]
    last = max(dates) if dates else date(2026, 1, 1)
    return date(last.year + (last.month == 12), last.month % 12 + 1, 1)


def resolve_c_day(
    scenario: Scenario, assumptions: Sequence[Assumption], at: date | None
) -> tuple[CDay, tuple[Assumption, ...]]:
    """C-day from the assumptions or the timeline; otherwise an illustrative one, which is then
    added to the assumptions (``ceasefire=<date>``) so activation sees the same world."""
    engine = ConditionEngine(scenario, tuple(assumptions))
    known = engine.c_day(CEASEFIRE)
    if known is not None:
        src = "assumed" if any(a.condition == CEASEFIRE for a in assumptions) else "timeline"
        return CDay(known, False, f"ceasefire from the {src}: {known.isoformat()}"), tuple(assumptions)
    if any(a.condition == CEASEFIRE and a.on is None and a.value for a in assumptions):
        # ceasefire=true without a date: treat --at (or the illustrative day) as C-day
        day = illustrative_c_day(scenario, at)
        return CDay(day, True, f"ceasefire assumed true without a date; C-day taken as {day}"), tuple(assumptions)
    day = illustrative_c_day(scenario, at)
    extra = Assumption(condition=CEASEFIRE, value=True, on=day)
    rest = tuple(a for a in assumptions if a.condition != CEASEFIRE)
    why = (
        f"no ceasefire date is known or assumed; ILLUSTRATIVE C-day {day.isoformat()} assumed "
        f"(give --assume ceasefire=YYYY-MM-DD to set your own)"
    )
    return CDay(day, True, why), rest + (extra,)


def activation_for_plan(
    scenario: Scenario, assumptions: Sequence[Assumption], c_day: date, horizon_days: int
) -> Activation:
    """On which days after C-day each pledge is active (its active spells), and why not.

    Activation at a date is the force-generation rule
    (:func:`coalition.forcegen.activation.pledge_activation`: withdrawn, expired, lifecycle
    state, condition three-valued), evaluated over time by
    :func:`coalition.forcegen.activation.activation_by_day`: a pledge is usable on exactly the
    days it is active, so a condition turning false later, or an expiry, ends its spell. A
    pledge with no spell starting inside the horizon is inactive.
    """
    engine = ConditionEngine(scenario, tuple(assumptions))
    active: dict[str, int] = {}
    spells: dict[str, tuple[tuple[int, int | None], ...]] = {}
    texts: dict[str, str] = {}
    why_not: dict[str, str] = {}
    for p in sorted(scenario.pledges, key=lambda p: p.id):
        act = activation_by_day(p, c_day, engine)
        inside = [s for s in act.spells if s.start < horizon_days]
        if inside:
            active[p.id] = inside[0].start
            spells[p.id] = tuple((s.start, s.end) for s in inside)
            texts[p.id] = "; ".join(s.text(c_day) for s in inside)
        else:
            last = pledge_activation(p, c_day, engine)
            why_not[p.id] = act.inactive_reason or f"{last.code}: {last.reason}"
    return Activation(active_from=active, inactive_reasons=why_not, spells=spells, spell_texts=texts)


def check_option(scenario: Scenario, option_id: str) -> None:
    if scenario.option(option_id) is None:
        valid = [o.id for o in scenario.force_options]
        guess = closest(option_id, valid)
        hint = f"did you mean '{guess}'?" if guess else "valid: " + ", ".join(valid)
        raise InputError([Problem(f"unknown force option {option_id!r}", field="--option", hint=hint)])


def plan_option(
    scenario: Scenario,
    option_id: str,
    *,
    assumptions: Sequence[Assumption] = (),
    at: date | None = None,
    options: PlanOptions = DEFAULT_OPTIONS,
    hooks: PlanHooks = NO_HOOKS,
    explain: bool = True,
) -> tuple[PlanOutcome, CDay]:
    """Plan one force option of a scenario under assumptions. ``hooks``: solver progress, a stop
    request, and ``finish`` (e.g. writing the plan's files), which runs inside the time limit
    (``options.time_limit`` bounds the whole plan)."""
    check_option(scenario, option_id)
    cday, effective = resolve_c_day(scenario, assumptions, at)
    horizon = options.horizon_days or scenario.horizon_days
    activation = activation_for_plan(scenario, effective, cday.day, horizon)
    warnings = []
    if cday.illustrative:
        warnings.append(cday.why)
    if scenario.illustrative:
        warnings.append("the scenario is ILLUSTRATIVE, not an official plan")
    texts = [f"{a.condition}={a.on.isoformat() if a.on else str(a.value).lower()}" for a in effective]
    outcome = make_plan(
        scenario,
        option_id,
        activation=activation,
        options=options,
        context=PlanContext(
            c_day=cday.day, c_day_assumed=cday.illustrative, at=at, assumptions=texts, warnings=warnings
        ),
        hooks=hooks,
        explain=explain,
    )
    return outcome, cday
