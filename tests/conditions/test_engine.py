"""The conditions engine: three-valued evaluation, assumptions, instruments, C-day, cycles."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.conditions.engine import (
    ConditionCycleError,
    ConditionEngine,
    Source,
    Truth,
    c_day,
    check_assumptions,
    evaluate,
    find_cycles,
    instrument_test,
    kleene_all,
    kleene_any,
    parse_assumption,
    parse_assumptions,
)
from coalition.conditions.expr import AllOf, AnyOf, Const, Name, Not, parse
from coalition.errors import InputError
from coalition.scenario.schemas import (
    Assumption,
    ConditionDef,
    Event,
    Instrument,
    InstrumentState,
    InstrumentStateChange,
    Scenario,
)

T, F, U = Truth.TRUE, Truth.FALSE, Truth.UNKNOWN
D = date(2026, 1, 1)


def scen(**kw) -> Scenario:
    return Scenario(id="s", name="S", **kw)


def ev(name: str, on: date, value: bool = True) -> Event:
    return Event(on=on, condition=name, value=value)


# three base conditions with fixed values: t is true, f is false, u is unknown
TFU = scen(
    conditions=(ConditionDef(name="t"), ConditionDef(name="f"), ConditionDef(name="u")),
    timeline=(ev("t", D), ev("f", D, False)),
)


def val(text: str, sc: Scenario = TFU, at: date = D, assume=()) -> Truth:
    return evaluate(text, at, sc, assume).value


# -- Kleene logic ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("t", T), ("f", F), ("u", U), ("true", T), ("false", F), ("", T),
        ("not(t)", F), ("not(f)", T), ("not(u)", U),
        ("all(t, t)", T), ("all(t, f)", F), ("all(t, u)", U), ("all(f, u)", F),
        ("any(f, f)", F), ("any(f, t)", T), ("any(f, u)", U), ("any(t, u)", T),
        ("all(u)", U), ("any(u, not(u))", U),
    ],
)
def test_operators(text: str, want: Truth) -> None:
    assert val(text) is want


def test_kleene_helpers() -> None:
    assert kleene_all([]) is T and kleene_any([]) is F
    assert ~T is F and ~F is T and ~U is U


# -- base conditions over the timeline ------------------------------------------------------------


def test_latest_event_wins_and_unknown_before_first() -> None:
    sc = scen(timeline=(ev("ceasefire", date(2026, 3, 1)), ev("ceasefire", date(2026, 5, 1), False)))
    assert val("ceasefire", sc, date(2026, 2, 28)) is U
    v = evaluate("ceasefire", date(2026, 3, 1), sc)
    assert v.value is T and v.source is Source.EVENT and v.since == date(2026, 3, 1)
    assert val("ceasefire", sc, date(2026, 5, 1)) is F


def test_events_out_of_order_in_file_are_sorted() -> None:
    sc = scen(timeline=(ev("x", date(2026, 5, 1), False), ev("x", date(2026, 3, 1))))
    assert val("x", sc, date(2026, 4, 1)) is T
    assert val("x", sc, date(2026, 6, 1)) is F


def test_undefined_name_is_unknown_with_reason() -> None:
    v = evaluate("nobody", D, scen())
    assert v.value is U and v.source is Source.NO_DATA
    assert "not defined" in v.why


# -- assumptions override the timeline ------------------------------------------------------------


def test_assumption_with_date_true_from_then_false_before() -> None:
    sc = scen(timeline=(ev("ceasefire", date(2025, 1, 1), False),))
    a = (Assumption(condition="ceasefire", on=date(2026, 6, 1)),)
    assert val("ceasefire", sc, date(2026, 5, 31), a) is F
    v = evaluate("ceasefire", date(2026, 6, 1), sc, a)
    assert v.value is T and v.source is Source.ASSUMPTION and v.since == date(2026, 6, 1)


def test_assumption_false_at_every_date_overrides_event() -> None:
    sc = scen(timeline=(ev("us_backstop", date(2026, 1, 1)),))
    assert val("us_backstop", sc, date(2026, 2, 1)) is T
    a = (Assumption(condition="us_backstop", value=False),)
    assert val("us_backstop", sc, date(2026, 2, 1), a) is F
    assert val("us_backstop", sc, date(1990, 1, 1), a) is F


def test_assumption_overrides_derived_definition() -> None:
    sc = scen(conditions=(ConditionDef(name="d", expression="false"),))
    assert val("d", sc) is F
    assert val("d", sc, assume=(Assumption(condition="d", value=True),)) is T


def test_parse_assumption_forms() -> None:
    assert parse_assumption("ceasefire=2026-06-01") == Assumption(
        condition="ceasefire", value=True, on=date(2026, 6, 1)
    )
    assert parse_assumption("us_backstop=false") == Assumption(condition="us_backstop", value=False)
    assert parse_assumption(" parliament.GBR = TRUE ") == Assumption(condition="parliament.GBR")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ceasefire", "expected NAME=VALUE"),
        ("ceasefire=", "expected NAME=VALUE"),
        ("ceasefire=soon", "not a date, true or false"),
        ("ceasefire=2026-13-01", "not a date, true or false"),
        ("Cease=true", "not a condition name"),
    ],
)
def test_parse_assumption_errors(text: str, words: str) -> None:
    with pytest.raises(InputError) as info:
        parse_assumption(text, option="--assume")
    (problem,) = info.value.problems
    assert words in problem.message and problem.field == "--assume"
    assert "true or false" in (problem.hint or "")


def test_parse_assumptions_reports_all_and_duplicates() -> None:
    with pytest.raises(InputError) as info:
        parse_assumptions(["a=maybe", "b=true", "b=false", "c"])
    assert len(info.value.problems) == 3


def test_check_assumptions_suggests_closest() -> None:
    sc = scen(conditions=(ConditionDef(name="ceasefire"),))
    problems = check_assumptions([Assumption(condition="ceasfire")], sc)
    assert len(problems) == 1 and "did you mean 'ceasefire'" in (problems[0].hint or "")
    assert check_assumptions([Assumption(condition="ceasefire")], sc) == []


# -- instruments ----------------------------------------------------------------------------------

DOI = Instrument(
    id="doi",
    kind="declaration-of-intent",
    title="Declaration of intent",
    parties=("GBR", "FRA"),
    history=(
        InstrumentStateChange(state="signed", on=date(2026, 1, 6)),
        InstrumentStateChange(state="ratified", on=date(2026, 3, 1)),
        InstrumentStateChange(state="in-force", on=date(2026, 4, 1)),
        InstrumentStateChange(state="withdrawn", on=date(2027, 1, 1)),
    ),
)


@pytest.mark.parametrize(
    ("at", "text", "want"),
    [
        (date(2026, 1, 5), "instrument(doi) >= signed", F),  # still draft
        (date(2026, 1, 5), "instrument(doi) == draft", T),
        (date(2026, 1, 6), "instrument(doi) >= signed", T),
        (date(2026, 1, 6), "instrument(doi) > signed", F),
        (date(2026, 3, 1), "instrument(doi) > signed", T),
        (date(2026, 3, 1), "instrument(doi) >= in-force", F),
        (date(2026, 4, 1), "instrument(doi) >= in-force", T),
        (date(2027, 1, 1), "instrument(doi) >= signed", F),  # withdrawn makes it false
        (date(2027, 1, 1), "instrument(doi) >= draft", F),
        (date(2027, 1, 1), "instrument(doi) == withdrawn", T),
        (date(2027, 1, 1), "instrument(doi) >= withdrawn", T),
        (date(2026, 4, 1), "instrument(doi) >= withdrawn", F),
        (date(2026, 4, 1), "instrument(nope) >= signed", U),
    ],
)
def test_instrument_states(at: date, text: str, want: Truth) -> None:
    v = evaluate(text, at, scen(instruments=(DOI,)))
    assert v.value is want


def test_instrument_test_table() -> None:
    S = InstrumentState
    assert instrument_test(S.RATIFIED, ">=", S.SIGNED)
    assert not instrument_test(S.WITHDRAWN, ">", S.DRAFT)
    assert instrument_test(S.DRAFT, "==", S.DRAFT)


# -- derived conditions and cycles ----------------------------------------------------------------


def test_derived_condition_and_explanation_tree() -> None:
    sc = scen(
        conditions=(
            ConditionDef(name="ceasefire"),
            ConditionDef(name="us_backstop"),
            ConditionDef(name="backed", expression="all(ceasefire, us_backstop)"),
        ),
        timeline=(ev("ceasefire", date(2026, 4, 20)),),
    )
    v = evaluate("backed", date(2026, 5, 1), sc, [Assumption(condition="us_backstop", value=False)])
    assert v.value is F and v.source is Source.DEFINITION
    (inner,) = v.children
    assert [c.expr for c in inner.children] == ["ceasefire", "us_backstop"]
    assert [c.source for c in inner.children] == [Source.EVENT, Source.ASSUMPTION]
    assert v.culprits() == ("us_backstop",)
    js = v.to_json()
    assert js["value"] == "false" and js["children"][0]["children"][1]["source"] == "assumption"
    assert "us_backstop = false: assumed false at every date" in v.render()


def test_culprits_of_unknown_and_not() -> None:
    assert evaluate("all(t, u, not(t))", D, TFU).culprits() == ("t",)
    assert evaluate("all(t, u)", D, TFU).culprits() == ("u",)
    assert evaluate("any(f, f)", D, TFU).culprits() == ("f",)


def test_cycles_detected_cleanly() -> None:
    defs = {"a": "all(b, x)", "b": "any(c)", "c": "not(a)", "d": "d", "e": "a"}
    assert find_cycles(defs) == [("a", "b", "c", "a"), ("d", "d")]
    sc = scen(
        conditions=(
            ConditionDef(name="a", expression="b"),
            ConditionDef(name="b", expression="all(a, c)"),
        )
    )
    with pytest.raises(ConditionCycleError) as info:
        ConditionEngine(sc)
    assert info.value.cycle == ("a", "b", "a")
    assert "a -> b -> a" in str(info.value)


def test_bad_definition_reported_as_input_error() -> None:
    sc = scen(conditions=(ConditionDef(name="a", expression="all(b"),))
    with pytest.raises(InputError) as info:
        ConditionEngine(sc)
    assert info.value.problems[0].field == "conditions[a].expression"


# -- C-day ----------------------------------------------------------------------------------------


def test_c_day_from_assumption_and_timeline() -> None:
    sc = scen(timeline=(ev("ceasefire", date(2025, 1, 1), False), ev("other", date(2024, 1, 1))))
    assert c_day(sc) is None
    assert c_day(sc, [Assumption(condition="ceasefire", on=date(2026, 6, 1))]) == date(2026, 6, 1)
    assert c_day(sc, [Assumption(condition="ceasefire", value=False)]) is None
    sc2 = scen(
        timeline=(
            ev("ceasefire", date(2026, 3, 1)),
            ev("ceasefire", date(2026, 4, 1), False),  # collapsed
            ev("ceasefire", date(2026, 7, 1)),
        )
    )
    assert c_day(sc2) == date(2026, 7, 1)
    # assumption beats the timeline
    assert c_day(sc2, [Assumption(condition="ceasefire", on=date(2026, 9, 9))]) == date(2026, 9, 9)
    # true at every date: no dated start
    assert c_day(sc2, [Assumption(condition="ceasefire", value=True)]) is None


def test_c_day_of_derived_ceasefire() -> None:
    sc = scen(
        conditions=(ConditionDef(name="ceasefire", expression="all(signed, holding)"),),
        timeline=(ev("signed", date(2026, 2, 1)), ev("holding", date(2026, 2, 10))),
    )
    assert c_day(sc) == date(2026, 2, 10)


# -- properties -----------------------------------------------------------------------------------

BASES = ("a", "b", "c")
leaves = st.one_of(st.sampled_from([Name(n) for n in BASES]), st.builds(Const, st.booleans()))
trees = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.builds(Not, kids),
        st.builds(AllOf, st.lists(kids, min_size=1, max_size=3).map(tuple)),
        st.builds(AnyOf, st.lists(kids, min_size=1, max_size=3).map(tuple)),
    ),
    max_leaves=10,
)
# a scenario in which each base condition is true, false or unknown on day D
worlds = st.tuples(*[st.sampled_from([None, True, False]) for _ in BASES]).map(
    lambda vals: scen(
        timeline=tuple(ev(n, D, v) for n, v in zip(BASES, vals, strict=True) if v is not None)
    )
)


@settings(max_examples=150, deadline=None)
@given(trees, worlds)
def test_double_negation(tree, world) -> None:
    assert evaluate(Not(Not(tree)), D, world).value is evaluate(tree, D, world).value


@settings(max_examples=150, deadline=None)
@given(trees, worlds)
def test_unknown_is_between_true_and_false(tree, world) -> None:
    """Kleene regularity: an unknown result becomes definite only by resolving unknown leaves,
    and a definite result never changes when unknowns are resolved."""
    base = evaluate(tree, D, world).value
    for value in (True, False):
        resolved = [Assumption(condition=n, value=value) for n in BASES if evaluate(n, D, world).value is U]
        got = evaluate(tree, D, world, resolved).value
        if base is not U:
            assert got is base


@settings(max_examples=200, deadline=None)
@given(trees, worlds, st.sampled_from(BASES))
def test_monotone_in_positively_used_condition(tree, world, name) -> None:
    """Assuming a condition true never lowers an expression that uses it only positively."""
    from coalition.conditions.expr import polarity

    if polarity(tree, name) - {1}:
        return  # used under a 'not': no monotonicity promised
    order = {F: 0, U: 1, T: 2}
    before = evaluate(tree, D, world).value
    after = evaluate(tree, D, world, [Assumption(condition=name, value=True)]).value
    assert order[after] >= order[before]


@settings(max_examples=100, deadline=None)
@given(trees)
def test_printed_tree_evaluates_the_same(tree) -> None:
    assert evaluate(str(tree), D, TFU.model_copy(update={"timeline": ()})).value is evaluate(
        parse(str(tree)), D, TFU.model_copy(update={"timeline": ()})
    ).value


def test_engine_reuse_is_consistent_across_dates() -> None:
    sc = scen(timeline=(ev("x", D), ev("x", D + timedelta(days=10), False)))
    eng = ConditionEngine(sc)
    assert [eng.value("x", D + timedelta(days=k)) for k in (0, 9, 10)] == [T, T, F]
