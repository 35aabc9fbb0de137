"""The diff between any two revisions (coalition.scenario.revdiff) on a real SQLite store:
records added, removed and changed per table and field, in either direction, and the canary: a
restricted value of one nation never reaches another nation's diff, not as a value, a field
name, a record key or a count."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from api.factories import tiny_scenario
from coalition.auth.schemas import HQ, Principal, Role
from coalition.errors import NotFoundError
from coalition.scenario import store
from coalition.scenario.revdiff import visible_diff
from coalition.scenario.rules import EditPledge, SetAssumptions, SetReleasability
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade

CANARY_NOTICE = 73  # a restricted value of GBR's pledge
CANARY_ID = "GBR-canary-7f3a"  # a restricted pledge GBR adds


def who(nation: str) -> Principal:
    return Principal(user_id=None, name=f"{nation.lower()}-user", nation=nation,
                     roles=frozenset({Role.PLANNER}))


GBR, FRA, HQP = who("GBR"), who("FRA"), who(HQ)


@pytest.fixture
def stored(sqlite_url: str):  # type: ignore[no-untyped-def]
    """Revisions: 1 the tiny scenario; 2 GBR changes its pledge's notice to the canary value;
    3 GBR adds a pledge (restricted); 4 FRA stores an assumption set (public); 5 GBR releases
    its first pledge to France."""
    engine = make_engine(sqlite_url)
    upgrade(engine)
    factory = session_factory(engine)
    sc = tiny_scenario()
    gbr = sc.pledges[0]
    with transaction(factory) as s:
        sid = store.create(s, scenario=sc, principal=store.SYSTEM, make_default=False).id
    steps = [
        (GBR, EditPledge(pledge=gbr.model_copy(update={"notice_days": CANARY_NOTICE}))),
        (GBR, EditPledge(pledge=gbr.model_copy(update={"id": CANARY_ID, "units": 3}))),
        (FRA, SetAssumptions(name="fra-view", assumptions=("ceasefire=2026-07-01",))),
        (GBR, SetReleasability(object_id="GBR-inf", releasable_to=("FRA", "HQ"))),
    ]
    for i, (principal, change) in enumerate(steps, start=1):
        with transaction(factory) as s:
            store.edit(s, sid, i, change, principal)
    yield factory, sid
    engine.dispose()


def diff(factory, sid: int, who_: Principal, a: int, b: int):  # type: ignore[no-untyped-def]
    with transaction(factory) as s:
        return visible_diff(s, who_, scenario_id=sid, from_revision=a, to_revision=b)


def text(d) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(asdict(d), default=str)


def records(d, table: str) -> dict[str, tuple[str, dict[str, tuple[object, object]]]]:  # type: ignore[no-untyped-def]
    for t in d.tables:
        if t.table == table:
            return {r.key: (r.what, {f.field: (f.before, f.after) for f in r.fields})
                    for r in t.records}
    return {}


def test_hq_sees_every_change_per_table_and_field_both_ways(stored) -> None:  # type: ignore[no-untyped-def]
    factory, sid = stored
    d = diff(factory, sid, HQP, 1, 5)
    pledges = records(d, "pledges")
    assert pledges["GBR-inf"][0] == "changed"
    assert pledges["GBR-inf"][1]["notice_days"] == (10, CANARY_NOTICE)
    assert pledges["GBR-inf"][1]["releasable_to"] == ('["HQ"]', '["FRA", "HQ"]')
    assert pledges[CANARY_ID][0] == "added" and ("units", (None, 3)) in pledges[CANARY_ID][1].items()
    assert "FRA-inf" not in pledges  # unchanged records are not listed
    assert records(d, "assumption_sets")["fra-view"][0] == "added"
    assert not d.partial
    back = diff(factory, sid, HQP, 5, 1)  # from a later to an earlier revision
    assert records(back, "pledges")[CANARY_ID][0] == "removed"
    assert records(back, "pledges")["GBR-inf"][1]["notice_days"] == (CANARY_NOTICE, 10)
    assert diff(factory, sid, HQP, 3, 3).count == 0


def test_canary_gbr_restricted_values_never_reach_france(stored) -> None:  # type: ignore[no-untyped-def]
    factory, sid = stored
    for a, b in [(1, 2), (1, 3), (2, 3), (1, 4), (3, 4), (4, 3), (2, 1)]:
        d = diff(factory, sid, FRA, a, b)
        body = text(d)
        assert str(CANARY_NOTICE) not in body, (a, b, body)
        assert CANARY_ID not in body and "GBR-inf" not in body, (a, b, body)
        assert "pledges" not in [t.table for t in d.tables], (a, b)
        assert d.partial  # the note is shown whatever changed: it reveals nothing
    # France's own public change is there; the counts are the same whether or not GBR changed
    # anything: revisions 1->2 (GBR only) and 3->3 (nothing) look identical to France
    assert records(diff(factory, sid, FRA, 3, 4), "assumption_sets")["fra-view"][0] == "added"
    assert diff(factory, sid, FRA, 1, 2).count == diff(factory, sid, FRA, 3, 3).count == 0
    assert text(diff(factory, sid, FRA, 1, 2)).replace('"from_revision": 1, "to_revision": 2',
                                                       "") == text(diff(factory, sid, FRA, 3, 3)
                                                                   ).replace('"from_revision": 3, "to_revision": 3', "")


def test_a_released_pledge_is_compared_only_where_every_revision_released_it(stored) -> None:  # type: ignore[no-untyped-def]
    factory, sid = stored
    # At revision 5 GBR-inf is released to France, at 1..4 it was not: its old values (the
    # canary at 2..4) stay out of France's diff of 4 -> 5 and of 1 -> 5...
    for a in (1, 2, 4):
        body = text(diff(factory, sid, FRA, a, 5))
        assert str(CANARY_NOTICE) not in body and "GBR-inf" not in body, (a, body)
    # ...while GBR sees all of its own changes.
    mine = records(diff(factory, sid, GBR, 1, 5), "pledges")
    assert mine["GBR-inf"][1]["notice_days"] == (10, CANARY_NOTICE) and CANARY_ID in mine


def test_unknown_revisions_name_the_range(stored) -> None:  # type: ignore[no-untyped-def]
    factory, sid = stored
    with pytest.raises(NotFoundError, match=r"revisions are 1\.\.5"):
        diff(factory, sid, HQP, 0, 9)
