"""One fill figure, explained: static fill at a date vs time-weighted coverage (pure).

The gap picture (``coalition gaps``) and the plan (``coalition plan``) answer two different
questions, so their figures differ by construction. This module computes both, under names that
say which is which, so an interface can show them side by side with their definitions
(:data:`DEFINITIONS`):

* ``static_fill`` — *at one date*: units the pledges active at that date can put on the lines,
  over the units the lines require (every line of the option, whatever its window). This is the
  gap picture's figure; ``lines_filled`` counts the lines filled completely.
* ``static_fill_plan`` — the same question asked of the plan: at the same day, units of the plan
  present on the lines whose window contains the day, over what those lines require.
* ``time_weighted_coverage`` — *over the horizon*: unit-days of the plan present on each line
  inside its window (at most the line's quantity on any day), over the unit-days the lines require
  inside the horizon. This is the plan's ``coverage_pct`` definition, computed here day by day
  from the unit lines (the plan's own KPI counts by planning period, so the two can differ by
  the rounding of partial periods).

All three are given for the whole option and per priority.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coalition.scenario.schemas import Priority, Requirement
from coalition.sustain.demand import PlanLine

DEFINITIONS: dict[str, str] = {
    "static_fill": "at one date: units the pledges active then can put on the option's lines / units required "
    "(all lines, whatever their window); the gap picture's figure",
    "lines_filled": "at one date: lines the active pledges fill completely / lines",
    "static_fill_plan": "at the same date: units of the plan present on the lines whose window contains the date "
    "(at most each line's quantity) / units those lines require",
    "time_weighted_coverage": "over the horizon: unit-days of the plan present on each line inside its window "
    "(at most its quantity per day) / unit-days required inside the horizon; the plan's "
    "coverage_pct",
}


@dataclass(frozen=True, slots=True)
class FillFigures:
    lines: int
    lines_filled: int
    static_fill: float | None
    static_fill_plan: float | None
    time_weighted_coverage: float | None

    def to_json(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {
            "lines": self.lines,
            "lines_filled": self.lines_filled,
            "static_fill": r(self.static_fill),
            "static_fill_plan": r(self.static_fill_plan),
            "time_weighted_coverage": r(self.time_weighted_coverage),
        }


@dataclass(frozen=True, slots=True)
class FillMeasures:
    at_day: int
    horizon_days: int
    total: FillFigures
    by_priority: dict[str, FillFigures]

    def to_json(self) -> dict[str, Any]:
        return {
            "at_day": self.at_day,
            "horizon_days": self.horizon_days,
            "definitions": DEFINITIONS,
            "total": self.total.to_json(),
            "by_priority": {k: v.to_json() for k, v in self.by_priority.items()},
        }


def _present(lines: Sequence[PlanLine], requirement: str, day: int) -> int:
    return sum(1 for ln in lines if ln.requirement == requirement and ln.arrival_day <= day <= ln.tour_end_day)


def _unit_days(req: Requirement, lines: Sequence[PlanLine], horizon: int) -> tuple[int, int]:
    """(covered, required) unit-days of one line inside its window and the horizon."""
    a, b = max(req.start_day, 0), min(req.end_day, horizon - 1)
    if a > b:
        return 0, 0
    delta: defaultdict[int, int] = defaultdict(int)
    for ln in lines:
        lo, hi = max(ln.arrival_day, a), min(ln.tour_end_day, b)
        if lo <= hi:
            delta[lo] += 1
            delta[hi + 1] -= 1
    covered, here, prev = 0, 0, a
    for d in sorted(delta):
        covered += min(here, req.quantity) * (d - prev)
        here += delta[d]
        prev = d
    return covered, req.quantity * (b - a + 1)


def _figures(
    reqs: Sequence[Requirement], gap_lines: dict[str, Any], plan: Sequence[PlanLine], at_day: int, horizon: int
) -> FillFigures:
    need = sum(gap_lines[r.id].required_units for r in reqs if r.id in gap_lines)
    got = sum(min(gap_lines[r.id].filled_units, gap_lines[r.id].required_units) for r in reqs if r.id in gap_lines)
    filled = sum(
        1 for r in reqs if r.id in gap_lines and gap_lines[r.id].filled_units >= gap_lines[r.id].required_units
    )
    live = [r for r in reqs if r.start_day <= at_day <= r.end_day]
    by_req: dict[str, list[PlanLine]] = defaultdict(list)
    for ln in plan:
        by_req[ln.requirement].append(ln)
    p_need = sum(r.quantity for r in live)
    p_got = sum(min(_present(by_req[r.id], r.id, at_day), r.quantity) for r in live)
    cov = req_days = 0
    for r in reqs:
        c, q = _unit_days(r, by_req[r.id], horizon)
        cov += c
        req_days += q
    return FillFigures(
        len(reqs),
        filled,
        got / need if need else None,
        p_got / p_need if p_need else None,
        cov / req_days if req_days else None,
    )


def fill_measures(
    requirements: Sequence[Requirement],
    gap_lines: Sequence[Any],
    plan_lines: Sequence[PlanLine],
    *,
    at_day: int,
    horizon_days: int,
) -> FillMeasures:
    """Both measures for one force option.

    ``requirements``: the option's lines (``Scenario.requirements_of``); ``gap_lines``: the gap
    picture's ``LineFill`` records (``GapPicture.lines``: ``line``, ``required_units``,
    ``filled_units``); ``plan_lines``: the plan's unit lines; ``at_day``: the gap picture's day
    counted from C-day.
    """
    by_line = {g.line: g for g in gap_lines}
    total = _figures(requirements, by_line, plan_lines, at_day, horizon_days)
    prio = {
        p.value: _figures([r for r in requirements if r.priority is p], by_line, plan_lines, at_day, horizon_days)
        for p in Priority
    }
    return FillMeasures(at_day, horizon_days, total, prio)
