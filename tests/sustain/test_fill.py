"""Static fill at a date vs time-weighted coverage: by hand, and against the planner's own KPI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from coalition.scenario.schemas import Assumption, Requirement
from coalition.sustain.demand import PlanLine, plan_view
from coalition.sustain.fill import DEFINITIONS, fill_measures


@dataclass
class G:  # the three fields of forcegen's LineFill the measures read
    line: str
    required_units: int
    filled_units: int


def _req(rid: str, q: int, a: int, b: int, prio: str = "essential") -> Requirement:
    return Requirement(id=rid, option="o", capability="x", quantity=q, hub="h", start_day=a, end_day=b, priority=prio)


def _ul(rid: str, a: int, b: int) -> PlanLine:
    return PlanLine(uln=f"{rid}-{a}", capability="x", hub="h", personnel=1, arrival_day=a, tour_end_day=b, requirement=rid)


def test_by_hand() -> None:
    reqs = [_req("r1", 2, 0, 99), _req("r2", 1, 50, 99, "important")]
    gap = [G("r1", 2, 2), G("r2", 1, 0)]  # the gap picture: r1 filled, r2 not
    # the plan: one r1 unit days 0-99, a second from day 50; r2 covered days 80-99
    plan = [_ul("r1", 0, 99), _ul("r1", 50, 99), _ul("r2", 80, 99)]
    m = fill_measures(reqs, gap, plan, at_day=60, horizon_days=100)
    t = m.total
    assert (t.lines, t.lines_filled) == (2, 1)
    assert t.static_fill == pytest.approx(2 / 3)
    assert t.static_fill_plan == pytest.approx(2 / 3)  # day 60: r1 has 2 of 2, r2 0 of 1
    # unit-days: r1 needs 200, gets 100 + 50; r2 needs 50, gets 20
    assert t.time_weighted_coverage == pytest.approx((150 + 20) / 250)
    assert m.by_priority["essential"].time_weighted_coverage == pytest.approx(150 / 200)
    assert m.by_priority["desirable"].static_fill is None  # no line: no figure, not 100 %
    assert set(m.to_json()["definitions"]) == set(DEFINITIONS)


def test_presence_above_quantity_is_capped_and_outside_window_ignored() -> None:
    reqs = [_req("r", 1, 10, 19)]
    plan = [_ul("r", 0, 29), _ul("r", 0, 29)]
    m = fill_measures(reqs, [G("r", 1, 1)], plan, at_day=15, horizon_days=30)
    assert m.total.time_weighted_coverage == 1.0 and m.total.static_fill_plan == 1.0


def test_time_weighted_coverage_is_the_planners_coverage_definition() -> None:
    """The plan's coverage_pct is the same definition (counted by planning period)."""
    from coalition.forcegen.gaps import gap_picture
    from coalition.planner.schemas import PlanOptions
    from coalition.planner.service import plan_option
    from coalition.scenario.service import load_scenario

    sc = load_scenario()
    assume = [Assumption(condition="ceasefire", on=date(2026, 6, 1))]
    out, cday = plan_option(sc, "small", assumptions=assume,
                            options=PlanOptions(period_days=7, time_limit=10, horizon_days=140), explain=False)
    p = out.plan
    gap = gap_picture(sc, "small", date(2026, 9, 1), assume)
    m = fill_measures(sc.requirements_of("small"), gap.lines, plan_view(p.model_dump(mode="json")).lines,
                      at_day=(date(2026, 9, 1) - cday.day).days, horizon_days=p.horizon_days)
    # the gap picture's static figure is reproduced exactly
    assert m.total.static_fill == pytest.approx(gap.fill_rate)
    ess = [x for x in gap.lines if x.priority.value == "essential"]
    assert m.by_priority["essential"].lines_filled == sum(1 for x in ess if x.filled)
    # the plan's KPI counts by 7-day period; day by day it agrees to half a point (measured: 0.01)
    assert m.total.time_weighted_coverage == pytest.approx(p.kpis.coverage_pct / 100, abs=0.005)
    assert m.by_priority["essential"].time_weighted_coverage == pytest.approx(
        p.kpis.essential_coverage_pct / 100, abs=0.005)
