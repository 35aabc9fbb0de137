"""Enablers first in the planner (``Precedence-*`` blocks): tiny instances worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.planner.check import check_plan
from coalition.planner.schemas import PlanOptions, SolveStatus
from coalition.planner.service import plan_option
from coalition.scenario.schemas import PrecedenceRule, PrecedenceScope

from .factory import capability, pledge, requirement, scenario
from .test_check import CEASE, with_conditions

OPTS = PlanOptions(period_days=28, time_limit=10)


def caps():
    hq = capability("hq").model_copy(update={"roles": ("command",)})
    sig = capability("sig").model_copy(update={"roles": ("signals",)})
    med = capability("med").model_copy(update={"roles": ("medical",)})
    inf = capability("inf").model_copy(update={"roles": ("deterrence",)})
    return (hq, sig, med, inf)


def hq_and_inf(**kw):
    """H1 needs an HQ (pledge ready day 10 -> arrives 12) and an infantry unit (ready 0 ->
    arrives 2) on days 0..55 (two 28-day periods, one 56-day tour each)."""
    return scen(
        pledges=[pledge("PH", cap="hq", notice=10), pledge("PS", cap="sig", notice=10), pledge("PI", cap="inf")],
        requirements=[requirement("LH", cap="hq"), requirement("LS", cap="sig"), requirement("LI", cap="inf")],
        caps=caps(),
        **kw,
    )


def scen(**kw):
    return with_conditions(scenario(**kw))


def plan(sc, **kw):
    out, _ = plan_option(sc, "opt", assumptions=CEASE, options=OPTS.model_copy(update=kw))
    return out


def broken(out):
    return sorted((b.rule, b.scope) for b in out.plan.precedence.broken)


def test_infantry_that_cannot_wait_breaks_the_rules_and_each_break_is_named():
    """Only the earliest departure is offered: the infantry arrives day 2, HQ and signals day 12.
    Leaving the infantry out costs 28 d x 1000 x 2 per period (>> a break), so the plan keeps it
    and names force-hq-first, force-signals-first and hub-command-first at H1 as broken.
    Objective: lateness (12+12+2) x 10 x 2 = 520; cohesion 50 (GBR at an unled hub); distance
    3 x 100 km x 0.001 = 0.3; 3 breaks x 5000 = 15000 -> 15570.3."""
    out = plan(hq_and_inf())
    assert out.result.status == SolveStatus.OPTIMAL
    assert broken(out) == [("force-hq-first", "force"), ("force-signals-first", "force"), ("hub-command-first", "H1")]
    assert out.plan.solve.objective == pytest.approx(15570.3)
    assert check_plan(hq_and_inf(), out.plan).ok


def test_infantry_waits_for_hq_when_it_may_leave_later():
    """With departures delayed by up to 10 days the infantry arrives on day 12 with the HQ:
    10 more days late (200) is far cheaper than a break. Objective 520 + 200 + 50 + 0.3."""
    sc = hq_and_inf()
    out = plan(sc, departure_delays=(0, 10))
    assert broken(out) == []
    inf = [u for u in out.plan.unit_lines if u.capability == "inf"]
    hq = [u for u in out.plan.unit_lines if u.capability == "hq"]
    assert min(u.arrival_day for u in hq) <= min(u.arrival_day for u in inf) == 12
    assert out.plan.solve.objective == pytest.approx(770.3)
    assert check_plan(sc, out.plan).ok


def test_rules_off_or_overridden():
    """Off (option) -> no section and no penalty: 520 + 50 + 0.3. A scenario rule of the same
    id replaces the default; enabled=false drops it."""
    sc = hq_and_inf()
    off = plan(sc, precedence=False)
    assert off.plan.precedence is None
    assert off.plan.solve.objective == pytest.approx(570.3)
    assert check_plan(sc, off.plan).ok
    drop = tuple(
        PrecedenceRule(
            id=i, before_roles=("command",), after_roles=("deterrence",), scope=PrecedenceScope.FORCE, enabled=False
        )
        for i in ("force-hq-first", "force-signals-first", "hub-command-first")
    )
    sc2 = sc.model_copy(update={"sustainment": sc.sustainment.model_copy(update={"precedence": drop})})
    out = plan(sc2)
    assert out.plan.precedence.rules == ["region-medical-before-manoeuvre"]
    assert broken(out) == []
    assert out.plan.solve.objective == pytest.approx(570.3)
    assert check_plan(sc2, out.plan).ok


def test_medical_before_manoeuvre_only_where_medical_comes():
    """region-medical-before-manoeuvre has no require_present: with no medical pledge the region
    is not broken; with a medical unit arriving day 12 after the infantry (day 2) it is."""
    base = dict(caps=caps())
    no_med = scen(pledges=[pledge("PI", cap="inf")], requirements=[requirement("LI", cap="inf")], **base)
    out = plan(no_med)
    assert broken(out) == [("force-hq-first", "force"), ("force-signals-first", "force")]
    assert check_plan(no_med, out.plan).ok
    med = scen(
        pledges=[pledge("PI", cap="inf"), pledge("PM", cap="med", notice=10)],
        requirements=[requirement("LI", cap="inf"), requirement("LM", cap="med")],
        **base,
    )
    out = plan(med)
    assert ("region-medical-before-manoeuvre", "west") in broken(out)
    assert check_plan(med, out.plan).ok


def test_checker_rederives_breaks_and_the_penalty():
    """A plan hiding a break, or claiming one its unit lines do not have, fails the checker."""
    sc = hq_and_inf()
    out = plan(sc)
    sec = out.plan.precedence
    hidden = out.plan.model_copy(update={"precedence": sec.model_copy(update={"broken": sec.broken[1:]})})
    rep = check_plan(sc, hidden)
    assert "precedence" in rep.by_rule()
    fake = sec.broken[0].model_copy(update={"scope": "H9"})
    claimed = out.plan.model_copy(update={"precedence": sec.model_copy(update={"broken": [*sec.broken, fake]})})
    assert "precedence" in check_plan(sc, claimed).by_rule()
    # the objective without the penalty no longer agrees
    cheap = out.plan.model_copy(
        update={"solve": out.plan.solve.model_copy(update={"objective": out.plan.solve.objective - 5000})}
    )
    assert "objective" in check_plan(sc, cheap).by_rule()


def test_precedence_blocks_are_named_in_the_model_doc():
    from pathlib import Path

    from coalition.planner.model import build_model
    from coalition.planner.tables import build_tables

    sc = hq_and_inf()
    m = build_model(build_tables(sc, "opt", active_from={p.id: 0 for p in sc.pledges}, options=OPTS), OPTS)
    names = [n for n in list(m.var_blocks) + list(m.con_blocks) if n.startswith("Precedence-")]
    assert {"Precedence-violation", "Precedence-before-by-day", "Precedence-order", "Precedence-before-count"} <= set(
        names
    )
    text = (Path(__file__).resolve().parents[2] / "docs" / "planner" / "model.md").read_text()
    for name in names + ["define_precedence_variables", "define_precedence_constraints"]:
        assert f"{name}" in text, name


def test_plan_carries_the_medical_section_and_names_uncovered_manoeuvre_days():
    """No medical unit at all: every day the infantry is at H1 (arrival 2 .. tour end 55) is
    uncovered and named; the section has the issue's keys."""
    sc = scen(pledges=[pledge("PI", cap="inf")], requirements=[requirement("LI", cap="inf")], caps=caps())
    med = plan(sc).plan.medical
    assert med is not None
    assert {"ranges", "share_within_1h", "share_within_2h", "uncovered"} <= set(med)
    r = med["ranges"][0]
    assert {"hub", "start_day", "end_day", "role1_minutes", "role2_minutes", "role3_minutes"} <= set(r)
    assert r["role2_minutes"] is None
    unc = [u for u in med["uncovered"] if u["constrained"]]
    assert [(u["hub"], u["start_day"], u["end_day"]) for u in unc] == [("H1", 2, 55)]
    assert med["share_within_2h"] == 0.0


# --- coalition.planner.precedence on the model itself (no solver) ---------------------------


def _model(sc):  # type: ignore[no-untyped-def]
    from coalition.planner.model import build_model
    from coalition.planner.tables import build_tables

    return build_model(build_tables(sc, "opt", active_from={p.id: 0 for p in sc.pledges}, options=OPTS), OPTS)


def _assign_only(m, caps_wanted: set[str]):  # type: ignore[no-untyped-def]
    """One unit on the earliest column of every line whose capability is in ``caps_wanted``."""
    import numpy as np

    tb = m.tables
    xb = m.var("Assign-count")
    v = np.zeros(m.n_cols)
    line = tb.arc_line[m.x_arc]
    for li in range(tb.n_lines):
        if tb.line_capability[li] not in caps_wanted:
            continue
        cols = np.flatnonzero(line == li)
        j = cols[np.argmin(m.x_arrival[cols])]
        v[xb.start + j] = 1
    return v


def test_the_index_has_one_entry_per_rule_and_scope_with_units_after():
    from coalition.planner.precedence import _precedence_index

    m = _model(hq_and_inf())
    idx = _precedence_index(m)
    pairs = set(zip((m.tables.prec_rule[g] for g in idx.rule), idx.scope, strict=True))
    assert {("force-hq-first", "force"), ("force-signals-first", "force"), ("hub-command-first", "H1")} <= pairs
    for days, after in zip(idx.days, idx.after_cols, strict=True):
        assert after.size and (days == np.unique(m.x_arrival[after])).all()  # sorted, distinct


def test_values_mark_a_rule_broken_exactly_when_an_after_unit_comes_first():
    from coalition.planner.greedy import is_feasible
    from coalition.planner.precedence import precedence_values

    m = _model(hq_and_inf())
    vb = m.var("Precedence-violation")
    names = [(m.tables.prec_rule[g], k) for g, k in zip(m.prec.rule, m.prec.scope, strict=True)]
    # the infantry alone (day 2): every rule it falls under, with no enabler at all, is broken
    # where the rule requires an enabler, and not where it only orders those that come
    only_inf = precedence_values(m, _assign_only(m, {"inf"}))
    broken = {n for q, n in enumerate(names) if only_inf[vb.start + q] > 0.5}
    assert ("force-hq-first", "force") in broken
    # enablers alone: no unit comes after them, so nothing is broken
    both = _assign_only(m, {"hq", "sig"})
    assert precedence_values(m, both)[vb.start : vb.stop].sum() == 0
    # the greedy plan's Precedence-* values are these, and the plan stays feasible with them
    from coalition.planner.greedy import greedy_values

    g = greedy_values(m)
    again = precedence_values(m, g)
    assert (again == g).all() and is_feasible(m, again)
    assert g[vb.start : vb.stop].sum() == 3  # the infantry (day 2) comes before HQ and signals (day 12)
    # a wrong claim (nothing broken) is put right
    wrong = g.copy()
    wrong[vb.start : vb.stop] = 0
    assert (precedence_values(m, wrong) == g).all()


def test_a_model_without_rules_passes_values_through():
    from coalition.planner.precedence import precedence_values

    sc = scen(pledges=[pledge("PI")], requirements=[requirement("LI")])
    m = _model(sc)
    v = _assign_only(m, {"inf"})
    assert precedence_values(m, v) is v or (precedence_values(m, v) == v).all()
