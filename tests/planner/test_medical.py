"""10-1-2 as a hard constraint of the planner (``Medical-*`` blocks) and the checker's
independent ``Medical-10-1-2`` rule: tiny instances worked out by hand, and the attacks an
inspector would try (a plan without the constraint, a plan JSON with the Role 2 removed).

Geometry: H1 at Lviv (49.8 N, 24.0 E), H2 at Odesa (46.5 N, 30.7 E), ~600 km apart; road 50
km/h x 1.25 detour: H1 -> H2 ~ 15 h by road; helicopter 250 km/h. The Role 2 (``med``) can only
go to H1."""

from __future__ import annotations

import json

import numpy as np
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
    # the times rest on illustrative speeds and roles: said
    assert "medical: road speed 50 km/h [I]" in out.plan.medical["flags"]
    assert "medical: med gives Role 2 care [I]" in out.plan.medical["flags"]
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


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_small_instances_keep_10_1_2(seed):
    """Several lines of infantry and Role 2 on three hubs with random windows. Sound: every plan
    passes the day-by-day checker (no constrained hub-day uncovered). Not over-strict: when the
    optimum without the constraint happens to keep 10-1-2 (the checker says so), the constrained
    optimum is no worse - the rows forbid nothing the checker allows."""
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
    free = plan(sc, departure_delays=(0, 5), medical=False)
    assert out.result.status.value == free.result.status.value == "optimal"
    if "Medical-10-1-2" not in rules(sc, free.plan):
        assert out.plan.solve.objective <= free.plan.solve.objective + 1e-6
    assert out.plan.solve.objective >= free.plan.solve.objective - 1e-6  # a constraint never helps


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rows_forbid_nothing_the_checker_allows(seed):
    """Role 2 at H1 from day 2 to the end (essential, notice 0); infantry lines at H1 and at H4
    (~50 km away: ~75 min by road) with random windows and notice. The unconstrained optimum
    then keeps 10-1-2 by construction (the checker confirms), so the constrained optimum must
    be the same plan value: the Medical rows (big-M, candidate days, road minutes) cut off no
    plan the checker accepts."""
    import random

    rng = random.Random(100 + seed)
    hubs = (hub("H1"), hub("H4", lat=49.8, lon=24.7), hub("H2", lat=46.5, lon=30.7))
    cors = tuple(corridor(f"C{i}", hub_id=h.id) for i, h in enumerate(hubs, 1))
    pl = [pledge("PM", cap="med")]
    rq = [requirement("LM", cap="med", hub_id="H1", priority="essential")]
    for i in range(4):
        a = rng.randrange(0, 30)
        rq.append(requirement(f"LI{i}", cap="inf", hub_id=rng.choice(["H1", "H4"]), start=a,
                              end=min(55, a + rng.randrange(15, 50))))
        pl.append(pledge(f"PI{i}", cap="inf", notice=rng.randrange(0, 12)))
    sc = scen(pl, rq, hubs=hubs, corridors=cors)
    free = plan(sc, departure_delays=(0, 3), medical=False)
    assert "Medical-10-1-2" not in rules(sc, free.plan)
    out = plan(sc, departure_delays=(0, 3))
    assert out.result.status.value == free.result.status.value == "optimal"
    assert out.plan.solve.objective == pytest.approx(free.plan.solve.objective, abs=1e-6)
    assert rules(sc, out.plan) == {}


# ---------------------------------------------------------------------------------------------
# Medical-role<r>-line (valid inequalities) and the columns the cover rows force to zero
# ---------------------------------------------------------------------------------------------


def _model(sc, cuts: bool, monkeypatch, **kw):
    from coalition.planner import medical
    from coalition.planner import sustainment as sus
    from coalition.planner.model import build_model
    from coalition.planner.tables import build_tables

    opts = OPTS.model_copy(update=kw)
    monkeypatch.setattr(medical, "LINE_CUTS", cuts)
    tb = build_tables(sc, "opt", active_from={p.id: 0 for p in sc.pledges}, options=opts)
    m = build_model(sus.attach(tb, sc, opts), opts)
    monkeypatch.setattr(medical, "LINE_CUTS", True)
    return m, opts


def _random(seed):
    import random

    rng = random.Random(seed)
    hubs = (hub("H1"), hub("H2", lat=46.5, lon=30.7), hub("H3", lat=49.55, lon=26.2))
    cors = tuple(corridor(f"C{i}", hub_id=h.id) for i, h in enumerate(hubs, 1))
    pl, rq = [], []
    for i in range(4):
        a = rng.randrange(0, 30)
        rq.append(requirement(f"LI{i}", cap="inf", hub_id=rng.choice(["H1", "H2", "H3"]), start=a,
                              end=min(55, a + rng.randrange(20, 50)), qty=rng.choice([1, 2])))
        pl.append(pledge(f"PI{i}", cap="inf", notice=rng.randrange(0, 10), units=rng.choice([1, 2, 3])))
    for i in range(2):
        rq.append(requirement(f"LM{i}", cap="med", hub_id=rng.choice(["H1", "H3"]),
                              start=rng.randrange(0, 20), end=55))
        pl.append(pledge(f"PM{i}", cap="med", notice=rng.randrange(0, 15),
                         available_to_day=rng.choice([None, 40])))
    return scen(pl, rq, hubs=hubs, corridors=cors)


INSTANCES = {"two-hubs": two_hubs, "relief-gap": lambda: relief(33), "relief-ok": lambda: relief(20),
             **{f"random-{s}": (lambda s=s: _random(s)) for s in range(4)}}


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_line_cuts_keep_every_plan_and_the_optimum(name, monkeypatch):
    """The cut rows are valid: the optimal plan and the greedy plan of the model WITHOUT them
    satisfy every one of them, and both models have the same optimum (the cuts only remove
    fractional LP points)."""
    from coalition.planner.greedy import greedy_values, is_feasible
    from coalition.planner.solver import solve_highs

    sc = INSTANCES[name]()
    plain, opts = _model(sc, False, monkeypatch, departure_delays=(0, 5))
    cut, _ = _model(sc, True, monkeypatch, departure_delays=(0, 5))
    assert cut.n_cols == plain.n_cols  # rows only
    tight = opts.model_copy(update={"mip_rel_gap": 1e-6})
    a = solve_highs(plain, tight, start=greedy_values(plain))
    b = solve_highs(cut, tight, start=greedy_values(cut))
    assert a.result.status.value == b.result.status.value == "optimal"
    assert is_feasible(cut, a.values) and is_feasible(cut, greedy_values(plain))
    assert b.result.objective == pytest.approx(a.result.objective, rel=1e-6, abs=1e-6)


def test_line_cuts_raise_the_lp_bound_of_the_embedded_small_option(monkeypatch):
    """On the embedded scenario's `small` option (all pledges active from C-day) the LP with
    the cut rows is measurably higher (the fractional facilities they remove are real), and
    still below a feasible plan's cost (a bound)."""
    from coalition.planner import medical
    from coalition.planner import sustainment as sus
    from coalition.planner.greedy import greedy_values, is_feasible
    from coalition.planner.model import build_model
    from coalition.planner.solver import solve_highs
    from coalition.planner.tables import build_tables
    from coalition.scenario.service import load_scenario

    sc = load_scenario()
    opts = PlanOptions(time_limit=60, threads=1)
    tb = sus.attach(build_tables(sc, "small", active_from={p.id: 0 for p in sc.pledges}, options=opts),
                    sc, opts)
    monkeypatch.setattr(medical, "LINE_CUTS", False)
    plain = build_model(tb, opts)
    monkeypatch.setattr(medical, "LINE_CUTS", True)
    cut = build_model(tb, opts)
    lp_plain = solve_highs(plain, opts, relax=True).result.objective
    lp_cut = solve_highs(cut, opts, relax=True).result.objective
    g = greedy_values(plain)
    assert is_feasible(plain, g) and is_feasible(cut, g)
    assert lp_plain * 1.005 < lp_cut <= float(cut.cost @ g)


def test_columns_forced_to_zero_are_found_and_never_used(monkeypatch):
    """two_hubs: every infantry column at H2 (15 h from the only Role 2) is dead; relief(33):
    infantry whose stay crosses the week without Role 2 (days 28..34) is dead, a first tour
    ending before it is not. No column a plan uses is ever dead."""
    from coalition.planner.greedy import greedy_values
    from coalition.planner.solver import solve_highs

    m, opts = _model(two_hubs(), True, monkeypatch)
    tb = m.tables
    alive = m.sustain_index["medical"].alive
    at_h2 = tb.arc_hub[m.x_arc] == tb.hub_id.index("H2")
    assert at_h2.any() and not alive[at_h2].any()
    assert alive[~at_h2].all()
    m2, _ = _model(relief(33), True, monkeypatch)
    tb2 = m2.tables
    alive2 = m2.sustain_index["medical"].alive
    inf = np.array([tb2.pledge_capability[p] == "inf" for p in tb2.arc_pledge[m2.x_arc]])
    crosses = inf & (m2.x_arrival <= 34) & (m2.x_tour_end >= 28)
    assert crosses.any() and not alive2[crosses].any()
    for name in sorted(INSTANCES):
        mm, oo = _model(INSTANCES[name](), True, monkeypatch, departure_delays=(0, 5))
        xb = mm.var("Assign-count")
        live = mm.sustain_index["medical"].alive
        for v in (greedy_values(mm), solve_highs(mm, oo).values):
            used = v[xb.start : xb.stop] > 0.5
            assert not (used & ~live).any(), name
