"""The independent plan checker, and the planner against it on the issue's findings.

Each finding has two tests: the planner's plan on a tiny scenario that provokes it passes the
checker (and the rule can be seen to hold), and a plan that breaks the rule - the planner's own
plan with one unit line moved - is caught by the checker under the rule's name.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from coalition.planner.check import RULES, check_plan
from coalition.planner.schemas import PlanOptions, Plan
from coalition.planner.service import plan_option
from coalition.scenario.schemas import Assumption, ConditionDef, Event

from .factory import corridor, hub, pledge, requirement, scenario

C_DAY = date(2026, 6, 1)
CEASE = (Assumption(condition="ceasefire", on=C_DAY),)
OPTS = PlanOptions(period_days=28, time_limit=10)


def with_conditions(sc, *names: str, timeline=()):
    defs = tuple(ConditionDef(name=n) for n in ("ceasefire",) + names)
    return sc.model_copy(update={"conditions": defs, "timeline": tuple(timeline)})


def run(sc, **kw) -> Plan:
    out, _ = plan_option(sc, "opt", assumptions=CEASE, options=OPTS.model_copy(update=kw))
    return out.plan


def rules(sc, plan: Plan) -> set[str]:
    return {v.rule for v in check_plan(sc, plan).violations}


def moved(plan: Plan, uln: str, **fields) -> Plan:
    lines = [u.model_copy(update=fields) if u.uln == uln else u for u in plan.unit_lines]
    return plan.model_copy(update={"unit_lines": lines})


def test_every_rule_is_named_and_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "planner" / "check.md").read_text()
    for name in RULES:
        assert f"`{name}`" in text, name


# -- expired pledge -----------------------------------------------------------------------------

def test_expired_pledge_is_not_used_after_expiry():
    """P1 expires on day 40 (C-day + 40): it may only serve a tour that ends by then. The line
    needs one unit on days 0..111; P2 (no expiry) is there too. Before activation by day, the
    planner used P1 for the whole horizon."""
    exp = C_DAY + timedelta(days=40)
    sc = with_conditions(scenario(
        pledges=[pledge("P1", units=2, tour=120, expiry_date=exp), pledge("P2", "FRA", units=1, tour=35, recovery=14)],
        requirements=[requirement("L1", qty=1, start=0, end=111)], horizon=112))
    plan = run(sc)
    assert rules(sc, plan) == set()
    for u in plan.unit_lines:
        if u.pledge == "P1":
            assert u.tour_end_day <= 40
    assert plan.unit_lines, "P2 and P1 still serve where they may"
    # the checker catches a P1 tour running past the expiry
    p1 = next((u for u in plan.unit_lines if u.pledge == "P1"), None)
    if p1 is not None:
        bad = moved(plan, p1.uln, tour_end_day=p1.tour_end_day + 30)
        assert "pledge-active" in rules(sc, bad)


def test_expired_pledge_alone_leaves_an_explained_gap():
    exp = C_DAY - timedelta(days=1)  # expired before C-day
    sc = with_conditions(scenario(pledges=[pledge("P1", expiry_date=exp)],
                                  requirements=[requirement("L1", start=0, end=55)], horizon=56))
    plan = run(sc)
    assert not plan.unit_lines and rules(sc, plan) == set()
    (gap,) = plan.gaps
    assert gap.reasons[0].code == "inactive" and "expired" in gap.reasons[0].message
    assert "P1" in plan.inactive_pledges


# -- condition turning false mid-horizon -------------------------------------------------------

def test_condition_turning_false_ends_the_pledge_spell():
    """P1 holds only while parliament.GBR is true; a vote sets it false on day 60. Its units may
    be in use only up to day 59; the explanation names the days it relies on."""
    sc = with_conditions(
        scenario(pledges=[pledge("P1", units=2, tour=200, condition="parliament.GBR")],
                 requirements=[requirement("L1", qty=1, start=0, end=167)], horizon=168),
        "parliament.GBR",
        timeline=(Event(on=C_DAY - timedelta(days=30), condition="parliament.GBR", value=True),
                  Event(on=C_DAY + timedelta(days=60), condition="parliament.GBR", value=False)))
    plan = run(sc)
    assert rules(sc, plan) == set()
    assert plan.unit_lines and all(u.tour_end_day <= 59 for u in plan.unit_lines)
    why = plan.assignments[0].why
    assert "day 59" in why and "parliament.GBR" in why
    (gap,) = plan.gaps
    assert gap.periods_short == [2, 3, 4, 5]
    # a tour running on after the vote is caught
    u = plan.unit_lines[0]
    assert "pledge-active" in rules(sc, moved(plan, u.uln, tour_end_day=100))


# -- relief in place over hub capacity ---------------------------------------------------------

def test_relief_in_place_overlap_counts_both_units_at_the_hub():
    """Hub of 130 personnel, units of 100: the outgoing and the incoming unit are both at the
    hub for the 7 relief days (200 > 130), so no relief can be planned there. (Counted as 7/28
    of a unit the old model saw 125 <= 130 and planned it.)"""
    sc = with_conditions(scenario(
        pledges=[pledge("P1", tour=35, recovery=0), pledge("P2", "FRA", tour=35, recovery=0)],
        requirements=[requirement("L1", qty=1, start=0, end=111)], hubs=[hub(capacity=130)],
        horizon=112))
    plan = run(sc)
    assert rules(sc, plan) == set()
    days = [0] * 112
    for u in plan.unit_lines:
        for d in range(u.arrival_day, min(u.tour_end_day, 111) + 1):
            days[d] += u.personnel
    assert max(days) <= 130
    # add the relief the old model planned (arriving 7 days before the outgoing unit leaves)
    assert plan.unit_lines
    u = plan.unit_lines[0]
    extra = u.model_copy(update={"uln": "X-1", "pledge": "P2", "nation": "FRA", "unit": "P2#1",
                                 "arrival_day": u.tour_end_day - 6, "departure_day": u.tour_end_day - 8,
                                 "tour_start_day": u.tour_end_day + 1, "tour_end_day": u.tour_end_day + 28,
                                 "required_day": u.tour_end_day - 6, "days_late": 0})
    bad = plan.model_copy(update={"unit_lines": list(plan.unit_lines) + [extra]})
    assert "Hub-personnel-capacity" in rules(sc, bad)


# -- recovery, tour length, sub-period tours ---------------------------------------------------

def test_recovery_is_respected_day_by_day():
    """One unit, tour 35 d, recovery 14 d, transit 2 d: after a tour ending on day 27 it is busy
    until 27 + 2 + 14 = 43, so it can relieve again from period 2 (departs day 47), not 1."""
    sc = with_conditions(scenario(pledges=[pledge("P1", units=1, tour=35, recovery=14)],
                                  requirements=[requirement("L1", qty=1, start=0, end=111)], horizon=112))
    plan = run(sc)
    assert rules(sc, plan) == set()
    spells = sorted((u.departure_day, u.tour_end_day + 2 + 14) for u in plan.unit_lines)
    assert all(b[0] > a[1] for a, b in zip(spells, spells[1:]))
    u = plan.unit_lines[-1]
    early = moved(plan, u.uln, departure_day=spells[0][1] - 3, arrival_day=spells[0][1] - 1)
    assert "Pledge-unit-cycle" in rules(sc, early) or "unit-label" in rules(sc, early)


def test_364_day_tours_stay_364_days_in_theatre():
    """A relief arrives 7 days before its period; with a 364-day tour it can then cover 12
    periods (336 + 7 = 343 days), not 13 (371 days in theatre, as before)."""
    sc = with_conditions(scenario(
        pledges=[pledge("P1", units=3, tour=364, recovery=0)],
        requirements=[requirement("L1", qty=1, start=0, end=727)], horizon=728))
    plan = run(sc)
    assert rules(sc, plan) == set()
    assert all(u.tour_end_day - u.arrival_day + 1 <= 364 for u in plan.unit_lines)
    u = plan.unit_lines[-1]
    assert "tour-length" in rules(sc, moved(plan, u.uln, tour_end_day=u.arrival_day + 370))


def test_tour_shorter_than_a_period_covers_nothing_and_says_why():
    """A 20-day tour cannot keep a unit at the hub for a 28-day period: no unit line, and the gap
    names the tour length (before, it counted as a whole period)."""
    sc = with_conditions(scenario(pledges=[pledge("P1", units=4, tour=20)],
                                  requirements=[requirement("L1", start=0, end=55)], horizon=56))
    plan = run(sc)
    assert not plan.unit_lines and rules(sc, plan) == set()
    (gap,) = plan.gaps
    assert gap.reasons[0].code == "tour-length"


def test_tour_longer_than_the_horizon_is_a_plan():
    sc = with_conditions(scenario(pledges=[pledge("P1", tour=1000)],
                                  requirements=[requirement("L1", start=0, end=55)], horizon=56))
    plan = run(sc)
    assert rules(sc, plan) == set() and plan.kpis.coverage_pct == 100.0


# -- corridors ---------------------------------------------------------------------------------

def test_corridor_daily_capacity_holds_for_departures_and_returns():
    """Corridor of 150 personnel a day, units of 100: two units may not enter it on the same day
    - neither deploying nor returning at the end of their tours."""
    sc = with_conditions(scenario(
        pledges=[pledge("P1", units=2, tour=35, recovery=0), pledge("P2", "FRA", units=2, tour=35)],
        requirements=[requirement("L1", qty=2, start=0, end=111)], corridors=[corridor(personnel=150)],
        horizon=112))
    plan = run(sc)
    assert rules(sc, plan) == set()
    per_day: dict[int, int] = {}
    for u in plan.unit_lines:
        for d in (u.departure_day, u.tour_end_day + 1):
            if d < 112:
                per_day[d] = per_day.get(d, 0) + u.personnel
    assert max(per_day.values()) <= 150
    a, b = plan.unit_lines[:2]
    same = moved(plan, b.uln, departure_day=a.departure_day, arrival_day=a.departure_day + 2)
    assert "Corridor-personnel-daily" in rules(sc, same)


def test_corridor_below_one_unit_is_an_explained_gap():
    sc = with_conditions(scenario(pledges=[pledge("P1", personnel=100)],
                                  requirements=[requirement("L1", start=0, end=55)],
                                  corridors=[corridor(personnel=60)], horizon=56))
    plan = run(sc)
    assert not plan.unit_lines and rules(sc, plan) == set()
    (gap,) = plan.gaps
    assert gap.reasons[0].code == "Corridor-personnel-capacity"
    assert "one unit exceeds the daily capacity" in gap.reasons[0].message


# -- reported figures --------------------------------------------------------------------------

def test_misreported_figures_are_caught():
    sc = with_conditions(scenario(pledges=[pledge("P1", units=1, tour=35, recovery=14)],
                                  requirements=[requirement("L1", qty=1, start=0, end=111)], horizon=112))
    plan = run(sc)
    assert rules(sc, plan) == set()
    assert plan.kpis.shortfall_basis == "per-period"
    k = plan.kpis.model_copy(update={"shortfall_unit_days": plan.kpis.shortfall_unit_days - 28})
    assert "kpi-shortfall" in rules(sc, plan.model_copy(update={"kpis": k}))
    s = plan.solve.model_copy(update={"objective": plan.solve.objective - 1000})
    assert {"objective", "solve-bound"} <= rules(sc, plan.model_copy(update={"solve": s}))
    s = plan.solve.model_copy(update={"bound_provenance": "restricted-mip"})
    assert "solve-bound" in rules(sc, plan.model_copy(update={"solve": s}))


@pytest.mark.parametrize("seed,delays", [(5, (0,)), (6, (0,)), (7, (0, 2, 5))])
def test_generated_plans_pass_the_checker(seed, delays):
    from coalition.planner.generator import generate

    sc = generate("S", seed)
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=10, departure_delays=delays),
                         explain=False)
    report = check_plan(sc, out.plan)
    assert report.ok, report.violations[:5]
    assert out.plan.solve.bound_provenance in ("full-lp", "full-mip-dual")
    assert out.plan.solve.gap is not None and out.plan.solve.gap <= 0.01


def test_tour_does_not_run_past_available_to():
    """P1 is available to day 40 only: its tour ends by then (before, only the tour's start had
    to be inside the window)."""
    sc = with_conditions(scenario(pledges=[pledge("P1", units=2, tour=120, available_to_day=40)],
                                  requirements=[requirement("L1", qty=1, start=0, end=111)], horizon=112))
    plan = run(sc)
    assert rules(sc, plan) == set()
    p1 = [u for u in plan.unit_lines if u.pledge == "P1"]
    assert p1 and all(u.tour_end_day <= 40 for u in p1)
    assert "availability" in rules(sc, moved(plan, p1[0].uln, tour_end_day=55))
