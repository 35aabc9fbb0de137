"""coalition.planner.visible: plan requests checked before queueing, and the gap picture under
the releasability policy (a reader never learns another nation's unreleased counts)."""

from __future__ import annotations

import pytest

from api.factories import tiny_scenario
from coalition.auth.schemas import HQ, Principal, Role
from coalition.errors import InputError
from coalition.planner.visible import check_request, parse_day, visible_gaps, visible_gaps_json
from coalition.scenario.rules import ScenarioState

STATE = ScenarioState(scenario=tiny_scenario("visible"))


def who(nation: str, *roles: Role) -> Principal:
    return Principal(user_id=None, name=nation.lower(), nation=nation, roles=frozenset(roles or {Role.VIEWER}))


def test_a_plan_request_names_every_problem_at_once() -> None:
    check_request(STATE.scenario, "small", ["ceasefire=2026-06-01"])  # valid: nothing raised
    with pytest.raises(InputError) as err:
        check_request(STATE.scenario, "smal", ["truce=2026-06-01", "ceasefire=someday"])
    # a malformed assumption does not hide the unknown option (it used to: the parser's error
    # was raised on its own)
    assert [p.field for p in err.value.problems] == ["option", "assumptions"]
    assert err.value.problems[0].hint == "did you mean 'small'?" and "someday" in err.value.problems[1].message
    with pytest.raises(InputError) as err:
        check_request(STATE.scenario, "smal", ["truce=2026-06-01"])  # well formed, unknown condition
    assert [p.field for p in err.value.problems][0] == "option" and len(err.value.problems) == 2
    assert "truce" in err.value.problems[1].message
    with pytest.raises(InputError) as err:
        check_request(STATE.scenario, "zzz-unlike", [])
    assert err.value.problems[0].hint == "valid: small"


def test_a_partial_reader_sees_fill_but_not_another_nations_pledge() -> None:
    full = visible_gaps(who(HQ, Role.ADMIN), STATE, "small", "2026-07-01", ["ceasefire=2026-06-01"])
    gbr = visible_gaps(who("GBR"), STATE, "small", "2026-07-01", ["ceasefire=2026-06-01"])
    assert [ln["line"] for ln in gbr["lines"]] == [ln["line"] for ln in full["lines"]] == ["R1", "R2"]
    assert gbr["redacted"] is True and full["redacted"] is False
    text = repr(gbr)
    assert "FRA-inf" in repr(full) and "FRA-inf" not in text and "650" not in text
    assert visible_gaps_json(who("GBR"), STATE, "small", "2026-07-01", ["ceasefire=2026-06-01"]) == visible_gaps_json(
        who("GBR"), STATE, "small", "2026-07-01", ["ceasefire=2026-06-01"]
    )


def test_bad_gap_questions_are_input_errors() -> None:
    with pytest.raises(InputError):
        visible_gaps(who("GBR"), STATE, "nope", None, [])
    assert parse_day(None) is None and parse_day("") is None and str(parse_day("2026-07-01")) == "2026-07-01"
