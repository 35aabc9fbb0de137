"""Legal Class V days from depot licences: the storage plan returned is legal, it is the best
dedicated plan (brute force), and what limits it is named."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings, strategies as st

from coalition.scenario.service import load_scenario
from coalition.sustain.classv import HdLimit, StorehouseLimit, best_dedicated, legal_class_v_days, storehouse_limits

MIX = {"1.1": 0.1, "1.3": 0.05, "1.4": 0.02}


def _embedded(mix=MIX):  # type: ignore[no-untyped-def]
    sc = load_scenario()
    return sc.model_copy(update={"sustainment": sc.sustainment.model_copy(update={"class_v_neq_share": mix})})


def _lim(name: str, **kg: float) -> StorehouseLimit:
    hd = {h: HdLimit(kg.get(h.replace(".", "_"), 0.0), kg.get(h.replace(".", "_"), 0.0), math.inf, None, None, None)
          for h in ("1.1", "1.2", "1.3", "1.4")}
    return StorehouseLimit("D", name, hd)


def test_vinnytsia_legal_days_are_held_by_the_returned_plan() -> None:
    sc = _embedded()
    res = legal_class_v_days(sc, "UA-VINNYTSIA", 10_000.0)  # 10 t/day gross
    assert res.days is not None and res.days > 0 and res.method == "enumeration"
    limits = {s.storehouse: s for s in storehouse_limits(sc, "UA-VINNYTSIA")}
    for hd, need in res.neq_per_day.items():
        held = sum(limits[s].hd[hd].kg for s, h in res.assignment.items() if h == hd)
        assert held >= res.days * need - 1e-6  # the plan really holds `days` of every HD
        for s, h in res.assignment.items():
            if h == hd:  # nothing above the issued licence or the layout
                assert limits[s].hd[hd].kg <= limits[s].hd[hd].issued_kg
                assert limits[s].hd[hd].kg <= limits[s].hd[hd].layout_kg
    assert res.limiting_hd in MIX and res.limiting is not None and res.raise_by


def test_legal_days_scale_inversely_with_demand() -> None:
    sc = _embedded()
    a = legal_class_v_days(sc, "UA-VINNYTSIA", 10_000.0).days
    b = legal_class_v_days(sc, "UA-VINNYTSIA", 20_000.0).days
    assert a is not None and b is not None and b == pytest.approx(a / 2)


def test_hub_without_licensed_storage_is_zero_days() -> None:
    res = legal_class_v_days(_embedded(), "UA-RIVNE", 1_000.0)  # no depot at Rivne
    assert res.days == 0.0 and res.method == "no depot at the hub"


def test_unknown_mix_or_demand_is_not_a_number() -> None:
    assert legal_class_v_days(_embedded({}), "UA-VINNYTSIA", 1000.0).days is None
    assert legal_class_v_days(_embedded(), "UA-VINNYTSIA", None).days is None


def test_issued_licence_below_layout_is_named_as_a_licensing_action() -> None:
    sc = _embedded({"1.1": 0.1})
    res = legal_class_v_days(sc, "UA-VINNYTSIA", 1_000.0)
    # VIN-ECMx: issued HD 1.1 12-15 t, the layout supports 37-48 t (VIN-SCHOOL controls)
    assert any("raise the issued HD 1.1 limit" in s for s in res.raise_by)


def test_dedicated_plan_beats_a_naive_one_by_hand() -> None:
    # s1 is the only 1.1 store; s2 is good for both: the best plan gives s2 to 1.3
    lims = [_lim("s1", **{"1_1": 100.0}), _lim("s2", **{"1_1": 100.0, "1_3": 100.0})]
    days, plan, method = best_dedicated(lims, {"1.1": 10.0, "1.3": 10.0})
    assert (days, plan, method) == (10.0, {"s1": "1.1", "s2": "1.3"}, "enumeration")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[st.sampled_from([0.0, 5.0, 50.0, 120.0])] * 3), min_size=1, max_size=5),
       st.lists(st.sampled_from([1.0, 2.0, 7.0]), min_size=3, max_size=3))
def test_enumeration_is_the_brute_force_optimum(caps, needs) -> None:  # type: ignore[no-untyped-def]
    lims = [_lim(f"s{i}", **{"1_1": a, "1_2": b, "1_3": c}) for i, (a, b, c) in enumerate(caps)]
    need = {"1.1": needs[0], "1.2": needs[1], "1.3": needs[2]}
    days, plan, _ = best_dedicated(lims, need)
    best = 0.0
    for combo in itertools.product(sorted(need), repeat=len(lims)):
        cap = {h: sum(s.hd[h].kg for s, x in zip(lims, combo, strict=True) if x == h) for h in need}
        best = max(best, min(cap[h] / need[h] for h in need))
    assert days == pytest.approx(best)
    for h in need:  # and the plan holds it
        assert sum(s.hd[h].kg for s in lims if plan.get(s.storehouse) == h) >= days * need[h] - 1e-9


def test_no_issued_licence_is_unlicensed_whatever_the_layout_allows() -> None:
    sc = _embedded()
    net = sc.depots
    depots = tuple(d.model_copy(update={"storehouses": tuple(s.model_copy(update={"licensed_neq_kg": None})
                                                             for s in d.storehouses)}) for d in net.depots)
    bare = sc.model_copy(update={"depots": net.model_copy(update={"depots": depots})})
    res = legal_class_v_days(bare, "UA-VINNYTSIA", 1_000.0)
    assert res.days == 0.0 and res.method == "no storehouse at the hub holds a licence"


def test_greedy_plan_is_legal_when_enumeration_is_too_big() -> None:
    import coalition.sustain.classv as cv

    lims = [_lim(f"s{i}", **{"1_1": 10.0 + i, "1_3": 30.0 - i, "1_4": 5.0}) for i in range(14)]
    need = {"1.1": 1.0, "1.3": 2.0, "1.4": 0.5}
    assert len(need) ** len(lims) > cv._ENUM_LIMIT
    days, plan, method = best_dedicated(lims, need)
    assert method == "greedy" and days > 0
    for h in need:
        assert sum(s.hd[h].kg for s in lims if plan.get(s.storehouse) == h) >= days * need[h] - 1e-9


def test_rear_depot_reports_days_of_the_whole_force() -> None:
    from coalition.sustain.demand import PlanView
    from coalition.sustain.service import build_report
    from tests.sustain.builders import ul

    sc = _embedded()
    # two hubs overlapping on days 5-9: the force peak is both together
    v = PlanView("paris-2026", "small", 30, (ul("a", "inf_bn", "UA-LVIV", 0, 9, 850), ul("b", "inf_bn", "UA-KYIV", 5, 19, 850)))
    j = build_report(sc, v).to_json()
    (jas,) = [d for d in j["depots"] if d["place"] == "RN-EPRZ"]
    per = next(f.per_person_day for f in sc.sustainment.factors if f.capability == "inf_bn" and f.supply_class.value == "V")
    assert jas["force_class_v_peak_kg_per_day"] == pytest.approx(2 * 850 * per)
    expect = legal_class_v_days(sc, "RN-EPRZ", 2 * 850 * per).days
    assert jas["legal_class_v_days"] == math.floor(expect * 10) / 10 and jas["depots"] == ["DEP-JAS"]


def test_class_v_target_dos_is_checked_against_the_licences() -> None:
    from coalition.sustain.demand import PlanView
    from coalition.sustain.service import build_report
    from tests.sustain.builders import ul

    sc = _embedded()
    v = PlanView("paris-2026", "small", 30, (ul("a", "inf_bn", "UA-VINNYTSIA", 0, 9, 850),
                                             ul("b", "inf_bn", "UA-LVIV", 0, 9, 850)))
    hubs = {h["hub"]: h for h in build_report(sc, v).to_json()["hubs"]}
    target = next(p.target_days for p in sc.sustainment.policies if p.supply_class.value == "V")
    assert hubs["UA-LVIV"]["class_v_target_days"] == target
    assert hubs["UA-LVIV"]["class_v_target_is_legal"] is False  # no licensed storage at Lviv
    vin = hubs["UA-VINNYTSIA"]
    assert vin["class_v_target_is_legal"] is (target <= vin["legal_class_v_days"])


def test_hd_1_1_uses_the_heavy_case_limit_when_smaller() -> None:
    """A storehouse 350 m from a house: HD 1.1 is licensable (>= 270 m) but not for heavy-case items
    (< 400 m): the Class V mix may hold them, so HD 1.1 counts as 0 there."""
    from coalition.depots.schemas import Depot, DepotNetwork

    depot = Depot.model_validate({
        "id": "D", "name": "d", "hub": "UA-LVIV",
        "storehouses": [{"id": "S", "kind": "above-ground", "x": 0, "y": 0,
                         "licensed_neq_kg": {"1.1": 5000, "1.4": 5000}}],
        "exposed_sites": [{"id": "house", "kind": "inhabited-building", "points": [[350, 0]]}],
    })
    sc = _embedded({"1.1": 0.1, "1.4": 0.05})
    sc = sc.model_copy(update={"depots": DepotNetwork(depots=(depot,))})
    (lim,) = storehouse_limits(sc, "UA-LVIV")
    assert lim.hd["1.1"].kg == 0 and lim.hd["1.1"].controlling == "house"
    assert lim.hd["1.4"].kg == 5000
    res = legal_class_v_days(sc, "UA-LVIV", 1000.0)
    assert res.days == 0 and res.limiting_hd == "1.1"
