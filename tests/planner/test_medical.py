"""10-1-2 as a hard constraint of the planner (``Medical-*`` blocks) and the checker's
independent ``Medical-10-1-2`` rule: tiny instances worked out by hand, and the attacks an
inspector would try (a plan without the constraint, a plan JSON with the Role 2 removed).

Geometry: H1 at Lviv (49.8 N, 24.0 E), H2 at Odesa (46.5 N, 30.7 E), ~600 km apart; road 50
km/h x 1.25 detour: H1 -> H2 ~ 15 h by road; helicopter 250 km/h. The Role 2 (``med``) can only
go to H1."""

from __future__ import annotations

import json

import pytest

from coalition.planner.check import check_plan
from coalition.planner.schemas import Plan, PlanOptions
from coalition.planner.service import plan_option
from coalition.scenario.schemas import MedevacPledge, MedicalRole, Speed, SpeedMode, Sustainment

from .factory import capability, corridor, hub, pledge, requirement, scenario
from .test_check import CEASE, with_conditions

OPTS = PlanOptions(period_days=28, time_limit=10)


def caps():
    inf = capability("inf").model_copy(update={"roles": ("deterrence",)})
    med = capability("med").model_copy(update={"roles": ("medical",)})
    heli = capability("heli").model_copy(update={"roles": ("medevac",)})
    return (inf, med, heli)


def sustainment(**kw) -> Sustainment:
    base = dict(speeds=(Speed(mode=SpeedMode.ROAD, kmh=50.0), Speed(mode=SpeedMode.HELICOPTER, kmh=250.0)),
                medical_roles=(MedicalRole(capability="med", role=2), MedicalRole(capability="inf", role=1)))
    base.update(kw)
    return Sustainment(**base)


def scen(pledges, requirements, *, sus=None, hubs=None, corridors=None):
    hubs = hubs or (hub("H1"), hub("H2", lat=46.5, lon=30.7))
    corridors = corridors or (corridor("C1", hub_id="H1"), corridor("C2", hub_id="H2"))
    sc = scenario(pledges=pledges, requirements=requirements, caps=caps(), hubs=hubs, corridors=corridors)
    return with_conditions(sc).model_copy(update={"sustainment": sus or sustainment()})


def plan(sc, **kw):
    out, _ = plan_option(sc, "opt", assumptions=CEASE, options=OPTS.model_copy(update=kw))
    return out


def rules(sc, p: Plan) -> dict[str, int]:
    return check_plan(sc, p).by_rule()


def two_hubs():
    """Infantry is needed at H1 and at H2 (days 0..55), a Role 2 at H1 only."""
    return scen([pledge("PI1", cap="inf"), pledge("PI2", cap="inf"), pledge("PM", cap="med")],
                [requirement("LI1", cap="inf", hub_id="H1"), requirement("LI2", cap="inf", hub_id="H2"),
                 requirement("LM", cap="med", hub_id="H1")])


def test_no_manoeuvre_unit_where_no_role2_can_reach_and_the_gap_says_why():
    sc = two_hubs()
    out = plan(sc)
    lines = {u.requirement for u in out.plan.unit_lines}
    assert lines == {"LI1", "LM"}  # H2 is 15 h from the only Role 2: no infantry there
    gap = next(g for g in out.plan.gaps if g.requirement == "LI2")
    codes = {r.code for r in gap.reasons}
    assert "Medical-role2-cover" in codes
    words = next(r.message for r in gap.reasons if r.code == "Medical-role2-cover")
    assert "H2" in words and "H1" in words and "> 120 min" in words
    assert out.plan.medical["enforced"] is True
    assert not [u for u in out.plan.medical["uncovered"] if u["constrained"]]
    assert rules(sc, out.plan) == {}


def test_a_plan_made_without_the_constraint_fails_the_checker():
    """The same instance planned with PlanOptions.medical off puts infantry at H2: the checker,
    which does not trust the plan's options, names every uncovered hub-day range."""
    sc = two_hubs()
    out = plan(sc, medical=False)
    assert {u.requirement for u in out.plan.unit_lines} == {"LI1", "LI2", "LM"}
    assert out.plan.medical["enforced"] is False
    report = check_plan(sc, out.plan)
    med = [v for v in report.violations if v.rule == "Medical-10-1-2"]
    assert med and all(v.where.startswith("H2") for v in med)
    assert "no Role 2" in med[0].message or "Role 2 at" in med[0].message


def test_hand_edited_plan_json_without_the_role2_fails_the_checker():
    sc = two_hubs()
    out = plan(sc)
    data = json.loads(out.plan.model_dump_json())
    data["unit_lines"] = [u for u in data["unit_lines"] if u["capability"] != "med"]
    edited = Plan.model_validate(data)
    by_rule = rules(sc, edited)
    assert by_rule.get("Medical-10-1-2", 0) >= 1  # infantry at H1 without its Role 2
    # the untouched plan passes
    assert rules(sc, Plan.model_validate(json.loads(out.plan.model_dump_json()))) == {}


def relief(second_notice: int):
    """Infantry at H1 on days 0..55 (one 56-day tour from day 2). Role 2 PM1 is available until
    day 30 (it serves period 0: days 2..27); PM2 can arrive on day ``second_notice + 2``."""
    return scen([pledge("PI1", cap="inf"), pledge("PM1", cap="med", available_to_day=30),
                 pledge("PM2", cap="med", notice=second_notice)],
                [requirement("LI1", cap="inf", hub_id="H1"), requirement("LM", cap="med", hub_id="H1")])


def test_role2_handover_without_a_gap_lets_the_infantry_stay_day_exact():
    """PM2 arrives on day 22, before PM1 leaves (day 27): Role 2 at H1 on every day 2..55, so
    the infantry serves its whole tour."""
    sc = relief(20)
    out = plan(sc, departure_delays=(0, 5))
    inf = [u for u in out.plan.unit_lines if u.capability == "inf"]
    assert inf and max(u.tour_end_day for u in inf) == 55
    assert rules(sc, out.plan) == {}


def test_a_one_week_role2_gap_keeps_the_infantry_out_day_exact():
    """PM2 arrives on day 35: no Role 2 at H1 on days 28..34. The infantry's tour (to day 55)
    would cross that week, so it does not deploy; the gap names 10-1-2. (A rule checked per
    period would miss the week.)"""
    sc = relief(33)
    out = plan(sc)
    assert not [u for u in out.plan.unit_lines if u.capability == "inf"]
    gap = next(g for g in out.plan.gaps if g.requirement == "LI1")
    assert "Medical-role2-cover" in {r.code for r in gap.reasons}
    assert rules(sc, out.plan) == {}
    # forcing the infantry in (the constraint off) is caught on exactly that week
    forced = plan(sc, medical=False)
    med = [v for v in check_plan(sc, forced.plan).violations if v.rule == "Medical-10-1-2"]
    assert med and any("days 28..34" in v.message for v in med)


def test_a_medevac_helicopter_brings_a_far_hub_within_reach():
    """H3 is ~160 km from H1: ~4 h by road, but a helicopter based at H1 flies H1 -> H3 -> H1 in
    ~77 min. With the helicopter pledge the infantry goes to H3; without it, it does not."""
    hubs = (hub("H1"), hub("H3", lat=49.55, lon=26.2))  # ~160 km east of H1
    cors = (corridor("C1", hub_id="H1"), corridor("C3", hub_id="H3"))
    reqs = [requirement("LI3", cap="inf", hub_id="H3"), requirement("LM", cap="med", hub_id="H1"),
            requirement("LH", cap="heli", hub_id="H1", priority="essential")]
    with_heli = scen([pledge("PI", cap="inf"), pledge("PM", cap="med"), pledge("PH", cap="heli")], reqs,
                     sus=sustainment(medevac=(MedevacPledge(pledge="PH", base="H1"),)), hubs=hubs, corridors=cors)
    out = plan(with_heli)
    assert "LI3" in {u.requirement for u in out.plan.unit_lines}
    assert rules(with_heli, out.plan) == {}
    no_heli = scen([pledge("PI", cap="inf"), pledge("PM", cap="med")], reqs, hubs=hubs, corridors=cors)
    out2 = plan(no_heli)
    assert "LI3" not in {u.requirement for u in out2.plan.unit_lines}
    # removing the helicopter from the first plan breaks 10-1-2 at H3
    data = json.loads(out.plan.model_dump_json())
    data["unit_lines"] = [u for u in data["unit_lines"] if u["capability"] != "heli"]
    assert rules(with_heli, Plan.model_validate(data)).get("Medical-10-1-2", 0) >= 1


def test_no_medical_roles_in_the_scenario_means_not_enforced_and_said():
    sc = two_hubs().model_copy(update={"sustainment": Sustainment()})
    out = plan(sc)
    assert out.plan.medical is None or out.plan.medical.get("enforced") is False
    assert {u.requirement for u in out.plan.unit_lines} >= {"LI1", "LI2"}
    assert any("not enforced" in w or "medical coverage not computed" in w for w in out.plan.warnings) \
        or out.plan.medical is None


@pytest.mark.parametrize("seed", [0, 1])
def test_random_small_instances_keep_10_1_2(seed):
    """Several lines of infantry and Role 2 on three hubs with random windows: every plan passes
    the day-by-day checker (so no constrained hub-day is uncovered)."""
    import random

    rng = random.Random(seed)
    hubs = (hub("H1"), hub("H2", lat=46.5, lon=30.7), hub("H3", lat=49.55, lon=26.2))
    cors = tuple(corridor(f"C{i}", hub_id=h.id) for i, h in enumerate(hubs, 1))
    pl, rq = [], []
    for i in range(4):
        h = rng.choice(["H1", "H2", "H3"])
        a = rng.randrange(0, 30)
        rq.append(requirement(f"LI{i}", cap="inf", hub_id=h, start=a, end=min(55, a + rng.randrange(20, 50))))
        pl.append(pledge(f"PI{i}", cap="inf", notice=rng.randrange(0, 10)))
    for i in range(2):
        h = rng.choice(["H1", "H3"])
        rq.append(requirement(f"LM{i}", cap="med", hub_id=h, start=rng.randrange(0, 20), end=55))
        pl.append(pledge(f"PM{i}", cap="med", notice=rng.randrange(0, 15),
                         available_to_day=rng.choice([None, 40])))
    sc = scen(pl, rq, hubs=hubs, corridors=cors)
    out = plan(sc, departure_delays=(0, 5))
    assert rules(sc, out.plan) == {}
