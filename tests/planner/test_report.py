"""coalition.planner.report.interpret: a solution vector read back as unit lines, unit numbers,
rotations, fill cells and KPIs."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from coalition.planner.greedy import greedy_values, is_feasible
from coalition.planner.model import build_model
from coalition.planner.report import interpret
from coalition.planner.schemas import PlanOptions
from coalition.planner.tables import build_tables

from .factory import pledge, requirement, scenario

OPTS = PlanOptions(period_days=28, time_limit=10)


def model_of(sc):  # type: ignore[no-untyped-def]
    return build_model(build_tables(sc, "opt", active_from={p.id: 0 for p in sc.pledges}, options=OPTS), OPTS)


def nothing_assigned(m):  # type: ignore[no-untyped-def]
    """Every Assign-count 0, every shortfall at its line's quantity (feasible, the worst plan)."""
    v = np.zeros(m.n_cols)
    ub = m.var("Line-shortfall")
    v[ub.start : ub.stop] = m.tables.line_qty[m.u_line]
    return v


def test_the_empty_plan_is_zero_coverage_with_every_cell_unfilled() -> None:
    sc = scenario(pledges=[pledge("P1", units=2)], requirements=[requirement("L1", qty=2)])
    m = model_of(sc)
    out = interpret(m, nothing_assigned(m), None)
    assert out.unit_lines == [] and out.unit_columns == []
    assert out.kpis.coverage_pct == 0.0 and out.kpis.essential_coverage_pct == 100.0  # no essential line
    assert out.kpis.days_to_close is None and out.kpis.generation_ratio is None
    assert out.kpis.units_deployed_peak == 0 and out.kpis.nations_per_hub_avg == 0.0
    assert out.fill and all(c.filled == 0 and c.required == 2 for c in out.fill)
    assert [(r.nation, r.tours_started, r.peak_deployed) for r in out.rotations] == [("GBR", 0, 0)]


def test_a_filled_line_gives_numbered_unit_lines_and_full_coverage() -> None:
    sc = scenario(pledges=[pledge("P1", units=2, tour=56)], requirements=[requirement("L1", qty=2)])
    m = model_of(sc)
    v = greedy_values(m)
    assert is_feasible(m, v)
    c_day = date(2026, 6, 1)
    out = interpret(m, v, c_day)
    assert [u.uln for u in out.unit_lines] == ["L1-0001", "L1-0002"]
    assert sorted(u.unit for u in out.unit_lines) == ["P1#1", "P1#2"]  # two physical units, not one twice
    for u in out.unit_lines:
        assert (u.requirement, u.pledge, u.nation, u.hub, u.rotation) == ("L1", "P1", "GBR", "H1", 1)
        assert u.arrival_day - u.departure_day == 2  # the corridor's transit
        assert u.arrival_date == c_day + timedelta(days=u.arrival_day)
        assert u.days_late == u.arrival_day - u.required_day
    assert [j for _, j in out.unit_columns] and all(v[j] >= 1 for _, j in out.unit_columns)
    assert out.kpis.coverage_pct == 100.0 and out.kpis.days_to_close == max(u.arrival_day for u in out.unit_lines)
    assert out.kpis.units_deployed_peak == 2 and out.kpis.personnel_deployed_peak == 200
    assert out.kpis.transport_unit_km == 200.0  # two units over the 100 km corridor
    assert all(c.filled == c.required for c in out.fill)


def test_without_c_day_there_are_no_dates() -> None:
    sc = scenario(pledges=[pledge("P1")], requirements=[requirement("L1")])
    m = model_of(sc)
    out = interpret(m, greedy_values(m), None)
    assert out.unit_lines and all(u.arrival_date is None and u.ready_date is None for u in out.unit_lines)


def test_successive_tours_are_rotations_of_the_same_unit_when_it_is_free_again() -> None:
    """Two units, 60-day tours, no recovery, one unit needed over 112 days: three rotations,
    numbered in order of their start; the third goes to unit #1 again (free by then), and no
    physical unit is ever in two places at once."""
    sc = scenario(
        pledges=[pledge("P1", units=2, tour=60, recovery=0)],
        requirements=[requirement("L1", qty=1, end=111)],
        horizon=112,
    )
    m = model_of(sc)
    out = interpret(m, greedy_values(m), None)
    rot = sorted((u.tour_start_day, u.rotation, u.unit) for u in out.unit_lines)
    assert [r for _, r, _ in rot] == [1, 2, 3]
    assert [u for _, _, u in rot] == ["P1#1", "P1#2", "P1#1"]
    assert out.kpis.coverage_pct == 100.0
    # the busy spells of one physical unit never overlap
    spells: dict[str, list[tuple[int, int]]] = {}
    for u in out.unit_lines:
        spells.setdefault(u.unit, []).append((u.departure_day, u.tour_end_day))
    for s in spells.values():
        s.sort()
        assert all(a[1] < b[0] for a, b in zip(s, s[1:], strict=False)), s
