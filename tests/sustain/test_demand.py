"""Demand per hub, day range and class: by hand on tiny plans, and the reference's worked check."""

from __future__ import annotations

import pytest

from coalition.errors import InputError
from coalition.scenario.schemas import SupplyClass as C
from coalition.sustain.demand import hub_daily_demand, hub_ranges, plan_view
from coalition.sustain.factors import load_factors
from tests.sustain.builders import scenario, ul, view

LB, GAL = 0.45359237, 3.785411784


def test_ranges_split_where_personnel_changes_and_end_day_is_included() -> None:
    v = view(ul("u1", "inf", "a", 0, 9, 1000), ul("u2", "inf", "a", 5, 14, 500), horizon=20)
    rs = hub_ranges(v, scenario(), load_factors())
    assert [(r.start_day, r.end_day, r.personnel) for r in rs] == [(0, 4, 1000), (5, 9, 1500), (10, 14, 500)]
    r = rs[1]
    assert r.demand[C.I].per_day == pytest.approx(1500 * 9.39 * LB)  # 2 UGR + 1 MRE by default
    assert r.demand[C.WATER].per_day == pytest.approx(1500 * 6.1 * GAL)  # temperate
    assert r.demand[C.III_B].per_day == pytest.approx(1500 * 20.0)
    assert "illustrative" in r.demand[C.III_B].flags
    daily = hub_daily_demand(rs, "a", C.II, 20)
    assert daily[4] == pytest.approx(1000 * 1.6 * LB) and daily[15] == 0.0


def test_climate_and_ration_cycle_change_demand() -> None:
    sc = scenario()
    arid = sc.model_copy(update={"sustainment": sc.sustainment.model_copy(
        update={"climate": "arid", "ration_cycle": "3mre"})})
    (r,) = hub_ranges(view(ul("u1", "inf", "a", 0, 0, 100)), arid, load_factors())
    assert r.demand[C.WATER].per_day == pytest.approx(100 * 7.9 * GAL)
    assert r.demand[C.I].per_day == pytest.approx(100 * 5.50 * LB)


def test_missing_capability_factor_makes_the_class_unknown_not_zero() -> None:
    v = view(ul("u1", "inf", "a", 0, 9, 100), ul("u2", "log", "a", 0, 9, 100))
    (r,) = hub_ranges(v, scenario(), load_factors())
    assert r.demand[C.III_B].per_day is None
    assert "unknown: no III(B) factor for log" in r.demand[C.III_B].flags
    assert r.demand[C.VIII].per_day is None  # no factor for anybody
    assert r.demand[C.I].per_day == pytest.approx(200 * 9.39 * LB)  # doctrinal classes still known


def test_activity_level_selects_the_factor() -> None:
    sc = scenario()
    busy = sc.model_copy(update={"sustainment": sc.sustainment.model_copy(update={"activity": "training"})})
    (r,) = hub_ranges(view(ul("u1", "inf", "a", 0, 0, 100)), busy, load_factors())
    assert r.demand[C.III_B].per_day is None  # the scenario has factors for 'static' only


def test_reference_worked_check_small_option() -> None:
    """shared/reference/sustainment-and-analysis.md §1: 10,110 personnel, 2 UGR + 1 MRE, temperate."""
    (r,) = hub_ranges(view(ul("u", "inf", "a", 0, 0, 10_110)), scenario(), load_factors())
    t = {c: r.demand[c].per_day / 1000 for c in (C.I, C.WATER, C.II, C.III_P, C.IV)}  # type: ignore[operator]
    assert round(t[C.I]) == 43 and round(t[C.WATER]) == 233 and round(t[C.II]) == 7
    assert round(t[C.III_P], 1) == 5.5 and round(t[C.IV]) == 18
    assert 300 < sum(t.values()) < 310  # "about 308 t/day before fuel and ammunition"


def test_plan_view_reads_plan_json_and_names_bad_lines() -> None:
    good = {"horizon_days": 10, "unit_lines": [
        {"uln": "X-1", "capability": "inf", "hub": "a", "personnel": 10, "arrival_day": 1, "tour_end_day": 3,
         "some_future_field": 1}]}
    assert plan_view(good).lines[0].tour_end_day == 3
    bad = {"horizon_days": 10, "unit_lines": [{"uln": "X-1", "hub": "a"}, {"uln": "X-2", "capability": "inf",
           "hub": "a", "personnel": -1, "arrival_day": 0, "tour_end_day": 1}]}
    with pytest.raises(InputError) as exc:
        plan_view(bad, file="p.json")
    assert [(p.file, p.row) for p in exc.value.problems] == [("p.json", 1), ("p.json", 2)]
    assert "lacks capability, personnel, arrival_day, tour_end_day" in exc.value.problems[0].message


def test_resupply_flows_by_group_after_host_nation_share() -> None:
    from coalition.scenario.schemas import HostNationShare
    from coalition.sustain.flows import FUEL_KG_PER_L, resupply_flows
    from tests.sustain.builders import sustainment

    sc = scenario(sustainment=sustainment(host_nation=(HostNationShare(supply_class="water", share=0.25),)))
    v = view(ul("u1", "inf", "a", 0, 9, 1000))
    ranges = hub_ranges(v, sc, load_factors())
    (f,) = resupply_flows(sc, ranges)
    (r,) = ranges
    dry = sum(r.demand[c].per_day for c in (C.I, C.II, C.III_P, C.IV, C.V, C.VI)) / 1000  # type: ignore[misc]
    assert f.dry_t is None  # VIII and IX have no factor for 'inf' in the builder: unknown, not light
    assert f.water_m3 == pytest.approx(0.75 * 1000 * 6.1 * GAL / 1000)
    assert f.fuel_m3 == pytest.approx(1000 * 20.0 / 1000) and f.tonnes is None
    full = scenario(sustainment=sustainment(factors=sc.sustainment.factors + tuple(
        type(sc.sustainment.factors[0])(capability="inf", supply_class=k, per_person_day=0.5) for k in ("VIII", "IX"))))
    (g,) = resupply_flows(full, hub_ranges(v, full, load_factors()))
    assert g.dry_t == pytest.approx(dry + 1.0)
    assert g.tonnes == pytest.approx(g.dry_t + g.water_m3 + g.fuel_m3 * FUEL_KG_PER_L)  # type: ignore[operator]
