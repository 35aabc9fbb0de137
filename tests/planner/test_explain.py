"""coalition.planner.explain on hand-checkable models and greedy plans (no solver): each kind
of gap gets its reason, and each unit line says why this unit."""

from __future__ import annotations

import time

import numpy as np

from coalition.planner.explain import EXCLUSION_METHOD, TIGHT_METHOD, explain_assignments, explain_gaps
from coalition.planner.greedy import greedy_values
from coalition.planner.model import build_model
from coalition.planner.report import interpret
from coalition.planner.schemas import PlanOptions
from coalition.planner.tables import build_tables

from .factory import capability, hub, pledge, requirement, scenario

OPTS = PlanOptions(period_days=28, time_limit=10)


def planned(sc, *, assignments: bool = True):  # type: ignore[no-untyped-def]
    tb = build_tables(sc, "opt", active_from={p.id: 0 for p in sc.pledges}, options=OPTS)
    m = build_model(tb, OPTS, assignments=assignments)
    return m, greedy_values(m)


def codes(expl) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.code for r in expl.reasons]


def test_a_filled_on_time_line_needs_no_explanation() -> None:
    m, v = planned(scenario(pledges=[pledge("P1")], requirements=[requirement("L1", start=2)]))
    assert explain_gaps(m, v, OPTS) == []


def test_no_pledge_of_the_capability_is_named() -> None:
    sc = scenario(
        pledges=[pledge("P1", cap="inf")],
        requirements=[requirement("L1", cap="eng")],
        caps=[capability("inf"), capability("eng")],
    )
    m, v = planned(sc)
    (g,) = explain_gaps(m, v, OPTS)
    assert g.requirement == "L1" and g.capability == "eng" and g.periods_short == [0, 1]
    assert codes(g) == ["no-eligible-pledge"] and "'eng'" in g.reasons[0].message
    assert g.reasons[0].method == EXCLUSION_METHOD and g.first_short_day == 0


def test_a_full_hub_binds_the_second_unit() -> None:
    """Room at H1 for one 100-person unit; the line wants two: one short, and the reason is the
    hub's capacity row (the tight-constraint test)."""
    sc = scenario(
        pledges=[pledge("P1", units=2, personnel=100)],
        requirements=[requirement("L1", qty=2, start=2)],
        hubs=[hub("H1", capacity=150)],
    )
    m, v = planned(sc)
    (g,) = explain_gaps(m, v, OPTS)
    assert g.shortfall_unit_periods > 0
    hub_reasons = [r for r in g.reasons if r.code == "Hub-personnel-capacity"]
    assert hub_reasons and hub_reasons[0].method == TIGHT_METHOD and hub_reasons[0].count >= 1


def test_units_that_cannot_arrive_in_time_are_late_or_short_for_readiness() -> None:
    """30 days' notice: nothing is there for the first period."""
    sc = scenario(pledges=[pledge("P1", notice=30)], requirements=[requirement("L1", start=0)])
    m, v = planned(sc)
    (g,) = explain_gaps(m, v, OPTS)
    assert "readiness" in codes(g)
    assert 0 in g.periods_short or g.late_unit_days > 0


def test_a_line_outside_the_horizon_is_line_window() -> None:
    sc = scenario(pledges=[pledge("P1")], requirements=[requirement("L1", start=100, end=120)], horizon=56)
    m, v = planned(sc)
    (g,) = explain_gaps(m, v, OPTS)
    assert codes(g) == ["Line-window"] and "outside the planning horizon" in g.reasons[0].message


def test_an_unbuilt_model_and_a_passed_deadline_say_not_determined() -> None:
    sc = scenario(
        pledges=[pledge("P1", units=2)],
        requirements=[requirement("L1", qty=2, start=2)],
        hubs=[hub("H1", capacity=150)],
    )
    m, v = planned(sc, assignments=False)
    (g,) = explain_gaps(m, v, OPTS)
    assert codes(g) == ["not-determined"] and g.reasons[0].method == "skipped: model not built"
    m, v = planned(sc)
    (g,) = explain_gaps(m, v, OPTS, deadline=time.perf_counter() - 1.0)  # already passed
    assert codes(g) == ["not-determined"] and g.reasons[0].method == "skipped: time limit"


def test_each_unit_line_says_why_this_unit_and_lists_alternatives() -> None:
    sc = scenario(
        pledges=[pledge("P1", notice=3), pledge("P2", nation_code="FRA", notice=0)],
        requirements=[requirement("L1", qty=1, start=0)],
    )
    m, v = planned(sc)
    interp = interpret(m, v, None)
    out = explain_assignments(m, v, interp.unit_columns, OPTS)
    assert [e.uln for e in out] == [u.uln for u in interp.unit_lines]
    (e,) = out
    chosen = interp.unit_lines[0]
    assert e.pledge == chosen.pledge and e.requirement == "L1"
    assert f"day {chosen.departure_day} (departure)" in e.why and "its caveats allow H1" in e.why
    assert ("on time" in e.why) == (chosen.days_late == 0)
    other = {"P1", "P2"} - {e.pledge}
    assert {a.pledge for a in e.alternatives} <= other and all(a.why_not for a in e.alternatives)
    # after the deadline no alternatives are searched, the reason is still given
    late = explain_assignments(m, v, interp.unit_columns, OPTS, deadline=time.perf_counter() - 1.0)
    assert late[0].alternatives == [] and late[0].why == e.why
    assert np.isfinite(v).all()
