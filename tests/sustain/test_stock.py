"""Days of supply, safety stock, stock-out day and resupply, by hand."""

from __future__ import annotations

import pytest

from coalition.scenario.schemas import HostNationShare, StockOnHand, StockPolicy, SupplyClass as C
from coalition.sustain.demand import hub_ranges
from coalition.sustain.factors import load_factors
from coalition.sustain.stock import OnHand, stock_lines
from tests.sustain.builders import scenario, sustainment, ul, view

LB = 0.45359237


def _lines(sc, *units, horizon=60, **kw):  # type: ignore[no-untyped-def]
    v = view(*units, horizon=horizon)
    return {(s.hub, s.supply_class): s for s in stock_lines(sc, hub_ranges(v, sc, load_factors()), **kw)}


def test_dos_runs_out_and_policy_by_hand() -> None:
    per_day = 1000 * 1.6 * LB  # Class II, 1,000 personnel
    sc = scenario(sustainment=sustainment(
        on_hand=(StockOnHand(hub="a", supply_class="II", quantity=10 * per_day),),
        policies=(StockPolicy(supply_class="II", min_days=3, target_days=15, order_ship_days=4,
                              order_interval_days=7),),
        host_nation=(HostNationShare(supply_class="II", share=0.25),),
    ))
    s = _lines(sc, ul("u", "inf", "a", 0, 29, 1000))[("a", C.II)]
    assert s.dos_on_hand == pytest.approx(10.0)
    assert s.runs_out_day == 10  # days 0..9 are covered, day 10 is not
    assert s.safety_stock == pytest.approx(4 * per_day)
    assert s.min_stock == pytest.approx(4 * per_day)  # safety stock above the 3-day minimum
    assert s.max_stock == pytest.approx(11 * per_day)
    assert s.target_stock == pytest.approx(15 * per_day)
    assert s.below_min is False
    assert s.initial_resupply == pytest.approx(5 * per_day)
    assert s.resupply_per_day == pytest.approx(0.75 * per_day)
    assert s.resupply_total == pytest.approx(30 * 0.75 * per_day + 15 * per_day - 10 * per_day)


def test_stock_out_day_follows_changing_personnel() -> None:
    per = 1.6 * LB
    sc = scenario(sustainment=sustainment(on_hand=(StockOnHand(hub="a", supply_class="II",
                                                               quantity=(5 * 100 + 3 * 300) * per),)))
    # 100 people days 0-4, 300 from day 5: stock for 5 + 3 days -> out on day 8
    s = _lines(sc, ul("u1", "inf", "a", 0, 20, 100), ul("u2", "inf", "a", 5, 20, 200))[("a", C.II)]
    assert s.runs_out_day == 8


def test_no_record_means_zero_on_hand_and_is_flagged() -> None:
    s = _lines(scenario(), ul("u", "inf", "a", 3, 9, 100))[("a", C.I)]
    assert s.on_hand.source == "none" and s.on_hand.quantity == 0
    assert s.runs_out_day == 3 and "no on-hand record: zero assumed" in s.flags
    assert "no DOS policy for I" in s.flags and s.target_stock is None


def test_hub_policy_wins_and_conditional_host_support_needs_its_condition() -> None:
    sc = scenario(sustainment=sustainment(
        policies=(StockPolicy(supply_class="I", min_days=1, target_days=2),
                  StockPolicy(supply_class="I", hub="a", min_days=5, target_days=9)),
        host_nation=(HostNationShare(supply_class="I", share=0.5, condition="hna_signed"),),
    ))
    s = _lines(sc, ul("u", "inf", "a", 0, 9, 100))[("a", C.I)]
    assert s.policy is not None and s.policy.target_days == 9
    assert s.hns_share == 0.0
    s2 = _lines(sc, ul("u", "inf", "a", 0, 9, 100), holds={"hna_signed": True})[("a", C.I)]
    assert s2.hns_share == 0.5


def test_tracked_on_hand_overrides_scenario_and_unknown_demand_gives_no_figures() -> None:
    sc = scenario()
    got = _lines(sc, ul("u", "log", "a", 0, 9, 100), on_hand={("a", C.V): OnHand(500.0, "inventory")})
    s = got[("a", C.V)]
    assert s.on_hand.source == "inventory" and s.unknown and s.dos_on_hand is None and s.runs_out_day is None


def test_dos_min_above_target_is_a_named_error() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="DOS minimum 5 days is above the target 3 days"):
        StockPolicy(supply_class="I", min_days=5, target_days=3)
