"""Resupply flows in the corridors (``Resupply-*`` blocks) and the checker's day-by-day rules:
a corridor at capacity with deployment alone is short once resupply is added, and the checker
sees it however the plan JSON is edited.

One 100-person infantry unit (catalogue lift 50 t) through corridor C1 (transit 2 d) to H1, days
0..55, 28-day resupply segments. Its daily need, by the ATP factors the scenario's defaults give
(temperate, 2 UGR + 1 MRE; no factor for III(B), V, VIII, IX in this scenario, so not loaded and
said), computed here from the tables themselves."""

from __future__ import annotations

import json

import pytest

from coalition.planner.check import check_plan
from coalition.planner.schemas import Plan, PlanOptions
from coalition.planner.service import plan_option

from .factory import corridor, pledge, requirement, scenario
from .test_check import CEASE, with_conditions

LB, GAL = 0.45359237, 3.785411784
# ATP 4-90 Table C-1 (lb/person/day): I (2 UGR + 1 MRE) 9.39, II 1.6, III(P) 1.2, IV 3.962, VI 2.06;
# ATP 5-0.2-1 Table G-27 water 6.1 gal temperate (1 kg per litre)
T_PER_PERSON = ((9.39 + 1.6 + 1.2 + 3.962 + 2.06) * LB + 6.1 * GAL) / 1000.0
NEED = 100 * T_PER_PERSON  # t/day of the unit


def scen(tonnage: float):
    return with_conditions(
        scenario(pledges=[pledge("P1")], requirements=[requirement("L1")], corridors=[corridor("C1", tonnage=tonnage)])
    )


def plan(sc, **kw):
    out, _ = plan_option(
        sc, "opt", assumptions=CEASE, options=PlanOptions(period_days=28, time_limit=10).model_copy(update=kw)
    )
    return out.plan


def test_need_is_the_atp_tonnage():
    p = plan(scen(1e6))
    flows = p.resupply["flows"]
    assert {(f["corridor"], f["start_day"], f["end_day"]) for f in flows} == {("C1", 0, 27), ("C1", 28, 55)}
    for f in flows:
        assert f["tonnes_per_day"] == pytest.approx(NEED, rel=1e-9)
    assert p.resupply["unmet"] == []
    assert set(p.resupply["unknown_factors"]["inf"]) == {"III(B)", "V", "VIII", "IX"}
    assert check_plan(scen(1e6), p).ok


def test_corridor_full_with_deployment_alone_leaves_resupply_unmet_and_named():
    """C1 carries 50 t/day: the unit's 50 t leave on day 0, so in segment 0 (days 0..27) no
    constant resupply rate fits; the need there is a named gap with its binding constraint. In
    segment 1 nothing else moves and the corridor carries it."""
    sc = scen(50.0)
    p = plan(sc)
    assert [u.departure_day for u in p.unit_lines] == [0]
    unmet = p.resupply["unmet"]
    assert len(unmet) == 1 and (unmet[0]["hub"], unmet[0]["start_day"], unmet[0]["end_day"]) == ("H1", 0, 27)
    assert unmet[0]["tonnes_per_day"] == pytest.approx(NEED, rel=1e-9)
    assert unmet[0]["constraint"] == "Corridor-tonnage-capacity"
    assert "C1" in unmet[0]["reason"] and "50.0 t/day" in unmet[0]["reason"]
    assert [(f["start_day"], f["tonnes_per_day"]) for f in p.resupply["flows"]] == [(28, pytest.approx(NEED))]
    # the objective counts the unmet tonne-days: the checker recomputes it
    assert check_plan(sc, p).ok
    # the same plan without the unmet entry is caught (the need is not covered on days 2..27)
    data = json.loads(p.model_dump_json())
    data["resupply"]["unmet"] = []
    bad = check_plan(sc, Plan.model_validate(data)).by_rule()
    assert bad.get("Resupply-cover") == 1
    # carrying it through C1 instead overloads the corridor on day 0 (deployment 50 t + resupply)
    data["resupply"]["flows"].append(
        {"corridor": "C1", "hub": "H1", "start_day": 0, "end_day": 27, "tonnes_per_day": NEED}
    )
    bad = check_plan(sc, Plan.model_validate(data))
    assert "Corridor-tonnage-daily" in bad.by_rule() and "Resupply-cover" not in bad.by_rule()
    assert any(v.where == "C1 day 0" for v in bad.violations if v.rule == "Corridor-tonnage-daily")


def test_a_plan_that_ignores_resupply_fails_the_checker():
    """Deployment alone fits C1 exactly; without resupply flows the hub-days are unsustained."""
    sc = scen(50.0)
    p = plan(sc, resupply=False)
    assert p.resupply is None
    by_rule = check_plan(sc, p).by_rule()
    assert by_rule == {"Resupply-cover": 1}


def test_flows_that_do_not_exist_are_refused():
    sc = scen(1e6)
    p = plan(sc)
    data = json.loads(p.model_dump_json())
    data["resupply"]["flows"][0]["corridor"] = "C9"
    rules = check_plan(sc, Plan.model_validate(data)).by_rule()
    assert rules.get("resupply-refs") == 1 and rules.get("Resupply-cover") == 1


def test_coverage_still_beats_sustainment():
    """With the corridor full on day 0 the unit still deploys (shortfall 1000 x 2 per unit-day
    >> 20 per unmet tonne-day): the plan comes back, with the unmet resupply as a gap."""
    p = plan(scen(50.0))
    assert p.kpis.coverage_pct == 100.0
    assert p.solve.objective == pytest.approx(
        20.0 * NEED * 28 + 10 * 2 * 2 + 0.001 * 100 + 50.0, rel=1e-6
    )  # unmet + late 2 d + km + cohesion


def test_the_plan_summary_says_what_resupply_cannot_be_carried():
    from rich.console import Console

    from coalition.planner.render import summary

    con = Console(record=True, width=200)
    con.print(summary(plan(scen(50.0))))
    text = " ".join(con.export_text().split())
    assert f"unmet {NEED * 28:,.1f} tonne-days (1 hub-segment(s))" in text


# --- coalition.planner.resupply on the model itself (no solver) -----------------------------


def _model(sc, **kw):  # type: ignore[no-untyped-def]
    from coalition.planner.model import build_model
    from coalition.planner.sustainment import attach
    from coalition.planner.tables import build_tables

    opts = PlanOptions(period_days=28, time_limit=10).model_copy(update=kw)
    tb = build_tables(sc, "opt", active_from={p.id: 0 for p in sc.pledges}, options=opts)
    return build_model(attach(tb, sc, opts), opts)


def test_segments_cover_the_horizon_without_overlap():
    from coalition.planner.resupply import _segment

    assert [_segment(k, 28, 56) for k in range(2)] == [(0, 27), (28, 55)]
    assert _segment(2, 28, 60) == (56, 59)  # the last segment is cut at the horizon


def test_resupply_data_is_the_atp_factor_per_capability_and_hub_or_nothing_when_off():
    from coalition.planner.resupply import resupply_data

    sc = scen(1e6)
    on = resupply_data(sc, ["inf", "inf"], ["H1"], True, None)
    assert on.tonnes == {("inf", "H1"): pytest.approx(T_PER_PERSON, rel=1e-9)}
    assert set(on.unknown["inf"]) == {"III(B)", "V", "VIII", "IX"}
    off = resupply_data(sc, ["inf"], ["H1"], False, None)
    assert (off.enabled, off.tonnes, off.unknown) == (False, {}, {})


def test_values_carry_what_the_corridor_has_room_for_and_the_rest_is_unmet():
    """The greedy plan of the 50 t/day corridor: in segment 0 the unit's own lift fills the
    corridor on day 0, so no constant rate fits and the whole need is unmet; in segment 1 the
    corridor carries all of it. The section says so, with the binding constraint."""
    from coalition.planner.greedy import greedy_values, is_feasible
    from coalition.planner.resupply import resupply_section, resupply_values

    m = _model(scen(50.0))
    v = greedy_values(m)
    again = resupply_values(m, v)
    assert is_feasible(m, again)
    sec = resupply_section(m, again)
    assert sec is not None and sec["segment_days"] == 28
    assert [(f["start_day"], f["end_day"]) for f in sec["flows"]] == [(28, 55)]
    assert sec["flows"][0]["tonnes_per_day"] == pytest.approx(NEED, rel=1e-9)
    (gap,) = sec["unmet"]
    assert (gap["hub"], gap["start_day"], gap["end_day"], gap["constraint"]) == (
        "H1",
        0,
        27,
        "Corridor-tonnage-capacity",
    )
    assert gap["tonnes_per_day"] == pytest.approx(NEED, rel=1e-9)
    assert sec["unmet_tonne_days"] == pytest.approx(NEED * 28, abs=1e-3)  # rounded to 3 places


def test_without_resupply_there_is_no_section_and_values_pass_through():
    from coalition.planner.greedy import greedy_values
    from coalition.planner.resupply import resupply_section, resupply_values

    m = _model(scen(1e6), resupply=False)
    v = greedy_values(m)
    assert resupply_section(m, v) is None and resupply_values(m, v) is v
