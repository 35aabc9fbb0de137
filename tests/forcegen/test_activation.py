"""Pledge activation: lifecycle, expiry, conditions, assumptions, the picture per nation."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.conditions.engine import ConditionEngine, Truth
from coalition.forcegen.activation import activation, pledge_activation
from coalition.forcegen.schemas import ActivationStatus, ForceGenOptions
from coalition.scenario.schemas import Assumption, ConditionDef, Event, PledgeState

from .builders import pledge, scenario

AT = date(2026, 7, 1)
CONDS = (
    ConditionDef(name="ceasefire"),
    ConditionDef(name="us_backstop"),
    ConditionDef(name="parliament.GBR"),
    ConditionDef(name="backed", expression="all(ceasefire, us_backstop)"),
)


def sc(*pledges, timeline=()):
    return scenario(pledges=pledges, conditions=CONDS, timeline=timeline)


def status(p, s=None, assume=(), at=AT, **kw):
    s = s or sc(p)
    return pledge_activation(p, at, ConditionEngine(s, tuple(assume)), **kw)


def test_unconditional_is_active() -> None:
    a = status(pledge())
    assert a.status is ActivationStatus.ACTIVE and a.code == "active" and a.reason == "unconditional"
    assert a.personnel == 600


def test_condition_true_false_unknown() -> None:
    p = pledge(condition="all(ceasefire, parliament.GBR)")
    s = sc(p, timeline=(Event(on=date(2026, 5, 1), condition="parliament.GBR"),))
    assert status(p, s).status is ActivationStatus.UNKNOWN  # ceasefire unknown
    assert status(p, s).code == "unknown:ceasefire"
    on = [Assumption(condition="ceasefire", on=date(2026, 6, 1))]
    assert status(p, s, on).status is ActivationStatus.ACTIVE
    late = [Assumption(condition="ceasefire", on=date(2026, 8, 1))]
    a = status(p, s, late)
    assert a.status is ActivationStatus.INACTIVE and a.code == "inactive:ceasefire"
    assert "ceasefire is false (assumed true only from 2026-08-01" in a.reason
    assert a.verdict is not None and a.verdict.value is Truth.FALSE


def test_derived_condition_names_the_base_culprit() -> None:
    p = pledge(condition="backed")
    a = status(p, assume=[Assumption(condition="ceasefire", value=True), Assumption(condition="us_backstop", value=False)])
    assert a.status is ActivationStatus.INACTIVE
    assert a.conditions == ("us_backstop",)


def test_withdrawn_and_expired_beat_conditions() -> None:
    assert status(pledge(state="withdrawn")).status is ActivationStatus.WITHDRAWN
    a = status(pledge(expiry_date=date(2026, 6, 30)))
    assert a.status is ActivationStatus.EXPIRED and "2026-06-30" in a.reason
    assert status(pledge(expiry_date=date(2026, 7, 1))).active  # the expiry day itself counts


def test_min_state() -> None:
    opts = ForceGenOptions(min_state=PledgeState.COMMITTED)
    a = status(pledge(state="accepted"), options=opts)
    assert a.status is ActivationStatus.NOT_YET and a.code == "state:accepted"
    assert status(pledge(state="deployed"), options=opts).active


def test_renewal_overdue_is_a_note_not_a_deactivation() -> None:
    a = status(pledge(renewal_date=date(2026, 6, 1)))
    assert a.active and a.notes == ("renewal was due on 2026-06-01",)


def test_picture_by_nation_and_json() -> None:
    s = sc(
        pledge("a", nation="GBR", units=2, condition="parliament.GBR"),
        pledge("b", nation="GBR", units=1),
        pledge("c", nation="FRA", units=3, personnel_per_unit=100, condition="ceasefire"),
    )
    pic = activation(s, AT, [Assumption(condition="ceasefire", on=date(2026, 6, 1))])
    assert pic.c_day == date(2026, 6, 1) and pic.day == 30
    assert pic.active_ids() == {"b", "c"}
    rows = {n.nation: n for n in pic.by_nation()}
    assert (rows["GBR"].pledges, rows["GBR"].active_pledges, rows["GBR"].active_units) == (2, 1, 1)
    assert rows["GBR"].blocking == ("parliament.GBR",)
    assert rows["FRA"].active_personnel == 300
    js = pic.to_json()
    assert js["counts"]["active"] == 2 and js["counts"]["unknown"] == 1
    assert js["pledges"][0]["code"] == "unknown:parliament.GBR"
    assert js["pledges"][0]["evidence"] == "I"
    assert js["pledges"][0]["explanation"]["value"] == "unknown"
    assert pic.to_json(explain=False)["pledges"][0]["explanation"] is None


# -- property: assuming a condition true never deactivates a pledge that uses it positively -----

names = ["ceasefire", "us_backstop", "parliament.GBR"]
leaf = st.sampled_from(names + ["backed"])
cond = st.recursive(
    leaf,
    lambda kids: st.one_of(
        st.lists(kids, min_size=1, max_size=3).map(lambda xs: f"all({', '.join(xs)})"),
        st.lists(kids, min_size=1, max_size=3).map(lambda xs: f"any({', '.join(xs)})"),
    ),
    max_leaves=6,
)
world = st.fixed_dictionaries({n: st.sampled_from([None, True, False]) for n in names})
RANK = {ActivationStatus.INACTIVE: 0, ActivationStatus.UNKNOWN: 1, ActivationStatus.ACTIVE: 2}


@settings(max_examples=150, deadline=None)
@given(cond, world, st.sampled_from(names))
def test_assuming_true_is_monotone(text, values, name) -> None:
    timeline = tuple(
        Event(on=date(2026, 1, 1), condition=n, value=v) for n, v in values.items() if v is not None
    )
    p = pledge(condition=text)
    s = sc(p, timeline=timeline)
    before = status(p, s).status
    after = status(p, s, [Assumption(condition=name, value=True)]).status
    assert RANK[after] >= RANK[before]
    if before is ActivationStatus.ACTIVE:
        assert after is ActivationStatus.ACTIVE


# -- activation by day (the planner's active spells) ---------------------------------------------

from coalition.forcegen.activation import activation_by_day  # noqa: E402

C = date(2026, 6, 1)


def spells(p, s=None, assume=()):
    s = s or sc(p)
    act = activation_by_day(p, C, ConditionEngine(s, tuple(assume)))
    return [(x.start, x.end) for x in act.spells], act


def test_unconditional_pledge_is_one_open_spell() -> None:
    got, act = spells(pledge())
    assert got == [(0, None)] and act.active_on(10_000)


def test_expiry_ends_the_spell_on_the_expiry_day() -> None:
    got, act = spells(pledge(expiry_date=date(2026, 7, 11)))
    assert got == [(0, 40)]
    assert act.active_on(40) and not act.active_on(41)
    assert "expired" in act.spells[0].ends_because


def test_a_condition_turning_false_later_ends_the_spell_and_a_later_vote_starts_another() -> None:
    p = pledge(condition="parliament.GBR")
    s = sc(p, timeline=(
        Event(on=date(2026, 5, 1), condition="parliament.GBR", value=True),
        Event(on=date(2026, 7, 31), condition="parliament.GBR", value=False),  # day 60
        Event(on=date(2027, 1, 1), condition="parliament.GBR", value=True),  # day 214
    ))
    got, act = spells(p, s)
    assert got == [(0, 59), (214, None)]
    assert not act.active_on(60) and not act.active_on(213)
    assert "inactive:parliament.GBR" in act.spells[0].ends_because


def test_a_condition_that_becomes_true_later_starts_the_spell_then() -> None:
    p = pledge(condition="parliament.GBR")
    s = sc(p, timeline=(Event(on=date(2026, 9, 1), condition="parliament.GBR", value=True),))
    got, act = spells(p, s)
    assert got == [(92, None)]
    assert act.inactive_reason.startswith("unknown:parliament.GBR")  # no fact before the vote


def test_withdrawn_and_renewal_overdue() -> None:
    got, act = spells(pledge(state=PledgeState.WITHDRAWN))
    assert got == [] and act.inactive_reason.startswith("withdrawn")
    # an overdue renewal does not end the spell (renewal is a lifecycle event, not assumed)
    got, _ = spells(pledge(renewal_date=date(2026, 6, 15)))
    assert got == [(0, None)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-30, 400), st.booleans()), max_size=5),
       st.one_of(st.none(), st.integers(-10, 400)))
def test_spells_agree_with_the_rule_on_every_day(events, expiry) -> None:
    """Property: a day is in a spell exactly when the activation rule says active on it."""
    from datetime import timedelta

    p = pledge(condition="parliament.GBR",
               expiry_date=None if expiry is None else C + timedelta(days=expiry))
    seen: set[date] = set()
    tl = []
    for d, v in events:
        on = C + timedelta(days=d)
        if on not in seen:
            seen.add(on)
            tl.append(Event(on=on, condition="parliament.GBR", value=v))
    s = sc(p, timeline=tuple(tl))
    eng = ConditionEngine(s, ())
    act = activation_by_day(p, C, eng)
    for day in range(0, 420, 7):
        rule = pledge_activation(p, C + timedelta(days=day), eng).active
        assert act.active_on(day) == rule, day
