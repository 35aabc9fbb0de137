"""The gap-picture cache of :mod:`coalition.planner.releasability`: keyed by scenario revision,
question and the reader's whole view, so no answer computed for one nation is ever served to
another, whatever the order of the requests."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from coalition.auth.rules import Marking
from coalition.auth.schemas import Principal, Role
from coalition.planner import releasability
from coalition.scenario.rules import ScenarioState
from coalition.scenario.schemas import Pledge


def _state() -> ScenarioState:
    from api.factories import tiny_scenario

    sc = tiny_scenario("cache-views")
    sc = sc.model_copy(update={"pledges": (*sc.pledges, Pledge(
        id="FRA-secret", nation="FRA", capability="inf-bn", units=3, personnel_per_unit=777,
        notice_days=5))})
    return ScenarioState(scenario=sc)


def _who(nation: str) -> Principal:
    return Principal(user_id=None, name=nation.lower(), nation=nation,
                     roles=frozenset({Role.VIEWER}))


QUESTIONS = [("small", None, []), ("small", "2026-07-01", ["ceasefire=2026-06-01"])]


@pytest.mark.parametrize("order", [("GBR", "FRA", "HQ"), ("HQ", "FRA", "GBR"),
                                   ("FRA", "HQ", "GBR")])
def test_each_view_gets_its_own_answer_whatever_the_order(order: tuple[str, ...]) -> None:
    state = _state()  # a fresh scenario object: nothing cached for it yet
    for option, at, assume in QUESTIONS:
        answers = {}
        for nation in order:
            view = releasability.reader_view(_who(nation), state)
            got = releasability.gaps_encoded(state.scenario, view, option, at, assume)
            fresh = releasability.gaps_json(state.scenario, None if view.complete else view.visible,
                                            option, at, assume)
            assert got == fresh, nation  # what an uncached computation for this view gives
            answers[nation] = json.loads(got)
        text = {n: json.dumps(a) for n, a in answers.items()}
        assert "FRA-secret" not in text["GBR"] and "777" not in text["GBR"]
        assert "GBR-inf" not in text["FRA"]
        assert "FRA-secret" in text["HQ"] and "GBR-inf" in text["HQ"]


def test_a_new_marking_is_a_new_view() -> None:
    state = _state()
    gbr = _who("GBR")
    before = releasability.gaps_encoded(state.scenario, releasability.reader_view(gbr, state),
                                        "small", None, [])
    released = ScenarioState(scenario=state.scenario, markings={
        ("pledge", "FRA-secret"): Marking(origin="FRA", releasable_to=("GBR", "HQ"))})
    after = releasability.gaps_encoded(released.scenario,
                                       releasability.reader_view(gbr, released), "small", None, [])
    assert b"FRA-secret" not in before and b"FRA-secret" in after


def test_concurrent_misses_compute_once_and_keep_views_apart() -> None:
    state = _state()
    calls: list[frozenset[str] | None] = []

    def compute(sc, visible, option, at, assume):  # type: ignore[no-untyped-def]
        calls.append(visible)
        return releasability.gaps_json(sc, visible, option, at, assume)

    views = [releasability.reader_view(_who(n), state) for n in ("GBR", "FRA")] * 8
    with ThreadPoolExecutor(8) as pool:
        out = list(pool.map(lambda v: (v.own_nation, releasability.gaps_encoded(
            state.scenario, v, "small", "2026-08-01", [], compute=compute)), views))
    assert len(calls) == 2  # one computation per view, however many asked at once
    for nation, body in out:
        assert (b"GBR-inf" in body) == (nation == "GBR")
        assert (b"FRA-secret" in body) == (nation == "FRA")
