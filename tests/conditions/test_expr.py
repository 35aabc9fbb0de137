"""The condition-expression parser: syntax, errors with positions, queries, round-trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.conditions.expr import (
    AllOf,
    AnyOf,
    Const,
    ExpressionError,
    InstrumentTest,
    Name,
    Not,
    instruments,
    name_positions,
    names,
    parse,
    polarity,
)
from coalition.errors import InputError
from coalition.scenario.schemas import InstrumentState


def test_empty_means_always() -> None:
    assert parse("") == Const(True)
    assert parse("   ") == Const(True)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("ceasefire", Name("ceasefire")),
        ("parliament.GBR", Name("parliament.GBR")),
        ("true", Const(True)),
        ("false", Const(False)),
        ("not(a)", Not(Name("a"))),
        ("all(a, b)", AllOf((Name("a"), Name("b")))),
        ("any(a,b,c)", AnyOf((Name("a"), Name("b"), Name("c")))),
        ("all( a )", AllOf((Name("a"),))),
        (
            "instrument(doi-2026) >= signed",
            InstrumentTest("doi-2026", ">=", InstrumentState.SIGNED),
        ),
        ("instrument(x)>in-force", InstrumentTest("x", ">", InstrumentState.IN_FORCE)),
        ("instrument(x) == withdrawn", InstrumentTest("x", "==", InstrumentState.WITHDRAWN)),
        (
            "all(ceasefire, any(us_backstop, not(parliament.DEU)), instrument(m.1) >= ratified)",
            AllOf(
                (
                    Name("ceasefire"),
                    AnyOf((Name("us_backstop"), Not(Name("parliament.DEU")))),
                    InstrumentTest("m.1", ">=", InstrumentState.RATIFIED),
                )
            ),
        ),
    ],
)
def test_parses(text: str, tree: object) -> None:
    assert parse(text) == tree


@pytest.mark.parametrize(
    ("text", "position", "expected_words"),
    [
        ("all(", 4, "a condition name"),
        ("all(a b)", 6, "',' or ')'"),
        ("all()", 4, "a condition name"),
        ("not a", 4, "'(' after 'not'"),
        ("not(a", 5, "')' closing not("),
        ("a)", 1, "end of expression"),
        ("a b", 2, "end of expression"),
        ("Ceasefire", 0, "a condition name"),
        ("a.", 2, "a name part after '.'"),
        ("true.x", 0, "reserved word"),
        ("instrument(x) signed", 14, "a comparison"),
        ("instrument(x) >= sign", 17, "an instrument state"),
        ("instrument() >= signed", 11, "an instrument id"),
        ("instrument(x >= signed", 13, "')' after the instrument id"),
        ("any(a,)", 6, "a condition name"),
        ("all", 3, "'(' after 'all'"),
    ],
)
def test_errors_name_position_and_expectation(text: str, position: int, expected_words: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    err = info.value
    assert err.position == position
    assert expected_words in err.expected
    assert err.text == text
    # the caret sits under the failing character
    assert err.pointer().splitlines()[1] == " " * position + "^"
    # it is an input error (exit 2 at the CLI) with one located problem
    assert isinstance(err, InputError)
    problem = err.problem(file="pledges.csv", row=7, field="condition")
    assert (problem.file, problem.row, problem.field) == ("pledges.csv", 7, "condition")
    assert f"position {position}" in problem.message


def test_too_long_is_rejected() -> None:
    with pytest.raises(ExpressionError):
        parse("all(" + ", ".join(["a"] * 1000) + ")")


def test_names_and_instruments_in_order_once() -> None:
    text = "all(b, any(a, b, instrument(i2) >= signed), not(c), instrument(i1) >= ratified, a)"
    assert names(text) == ("b", "a", "c")
    assert instruments(text) == ("i2", "i1")
    assert names("") == ()
    assert name_positions("all(ab, not(cd))") == (("ab", 4), ("cd", 12))


def test_polarity() -> None:
    assert polarity("all(a, not(b))", "a") == {1}
    assert polarity("all(a, not(b))", "b") == {-1}
    assert polarity("any(a, not(not(a)))", "a") == {1}
    assert polarity("any(a, not(a))", "a") == {1, -1}
    assert polarity("b", "a") == set()


def test_positions_do_not_affect_equality() -> None:
    assert parse("all(a,b)") == parse("all(  a ,  b )")
    assert hash(parse("all(a,b)")) == hash(parse("all(  a ,  b )"))


# -- property: printing a tree and parsing it back gives the same tree ---------------------------

_names = st.from_regex(r"[a-z][a-z0-9_]{0,6}(\.[A-Za-z0-9_\-]{1,4})?", fullmatch=True).filter(
    lambda s: s.split(".")[0] not in {"true", "false", "all", "any", "not", "instrument"}
)
_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,8}", fullmatch=True)
_leaves = st.one_of(
    st.builds(Const, st.booleans()),
    st.builds(Name, _names),
    st.builds(
        InstrumentTest, _ids, st.sampled_from([">=", ">", "=="]), st.sampled_from(list(InstrumentState))
    ),
)
trees = st.recursive(
    _leaves,
    lambda kids: st.one_of(
        st.builds(Not, kids),
        st.builds(AllOf, st.lists(kids, min_size=1, max_size=4).map(tuple)),
        st.builds(AnyOf, st.lists(kids, min_size=1, max_size=4).map(tuple)),
    ),
    max_leaves=12,
)


@settings(deadline=None)
@given(trees)
def test_round_trip(tree: object) -> None:
    printed = str(tree)
    assert parse(printed) == tree
    assert str(parse(printed)) == printed


@settings(deadline=None)
@given(st.text(alphabet="ab(),. notal=>", max_size=30))
def test_garbage_never_crashes_unexpectedly(text: str) -> None:
    try:
        parse(text)
    except ExpressionError as err:
        assert 0 <= err.position <= len(text)
