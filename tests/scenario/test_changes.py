"""coalition.scenario.changes on real SQLite and PostgreSQL: what happened to one pledge since a
reader's revision. Only that pledge is described (fields then/now, its revisions); revisions
that changed other records are counted, never described."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.factories import tiny_scenario
from coalition.auth.schemas import HQ, Principal, Role
from coalition.scenario import store
from coalition.scenario.changes import pledge_changes
from coalition.scenario.rules import SetReleasability, TransitionPledge
from coalition.scenario.schemas import PledgeState
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade


def who(nation: str, name: str) -> Principal:
    return Principal(user_id=None, name=name, nation=nation, roles=frozenset({Role.PLANNER}))


HQ_A, GBR, FRA = who(HQ, "hq-a"), who("GBR", "gbr-user"), who("FRA", "fra-user")


@pytest.fixture
def edited(db_url: str) -> Iterator[tuple[sessionmaker[Session], int]]:
    """Revision 1 the document; 2 accepts GBR-inf; 3 accepts FRA-inf; 4 GBR releases its pledge
    to FRA; 5 verifies FRA-inf."""
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as s:
        sid = store.create(s, scenario=tiny_scenario(), principal=store.SYSTEM).id
    for principal, change in (
        (HQ_A, TransitionPledge(pledge="GBR-inf", to=PledgeState.ACCEPTED, note="accepted after review")),
        (HQ_A, TransitionPledge(pledge="FRA-inf", to=PledgeState.ACCEPTED, note="secret French detail")),
        (GBR, SetReleasability(object_id="GBR-inf", releasable_to=("FRA", "HQ"))),
        (HQ_A, TransitionPledge(pledge="FRA-inf", to=PledgeState.VERIFIED)),
    ):
        with transaction(factory) as s:
            store.edit(s, sid, None, change, principal)
    yield factory, sid
    engine.dispose()


def test_only_the_pledges_own_changes_are_described(edited: tuple[sessionmaker[Session], int]) -> None:
    factory, sid = edited
    with factory() as s:
        ch = pledge_changes(s, scenario_id=sid, pledge_id="GBR-inf", since=1)
    assert (ch.since, ch.head) == (1, 5)
    fields = {f: (then, now) for f, then, now in ch.fields}
    assert fields["state"] == ("offered", "accepted")
    assert fields["releasable_to"] == (["HQ"], ["FRA", "HQ"])
    assert [r.revision for r in ch.revisions] == [2, 4]
    assert ch.revisions[0].note == "accepted after review" and ch.revisions[0].author == "hq-a"
    assert ch.others == 2  # FRA-inf's two revisions: counted ...
    assert all("French" not in r.note for r in ch.revisions)  # ... never described


def test_nothing_changed_since_the_head(edited: tuple[sessionmaker[Session], int]) -> None:
    factory, sid = edited
    with factory() as s:
        ch = pledge_changes(s, scenario_id=sid, pledge_id="GBR-inf", since=5)
    assert ch.fields == () and ch.revisions == () and ch.others == 0


def test_a_revision_outside_the_history_is_clamped(edited: tuple[sessionmaker[Session], int]) -> None:
    factory, sid = edited
    with factory() as s:
        future = pledge_changes(s, scenario_id=sid, pledge_id="FRA-inf", since=99)
        past = pledge_changes(s, scenario_id=sid, pledge_id="FRA-inf", since=-3)
    assert (future.since, future.fields, future.revisions) == (5, (), ())
    assert past.since == 1 and [r.revision for r in past.revisions] == [3, 5]
    assert dict((f, now) for f, _then, now in past.fields)["state"] == "verified"


def test_an_unknown_pledge_has_no_fields_and_no_revisions(edited: tuple[sessionmaker[Session], int]) -> None:
    factory, sid = edited
    with factory() as s:
        ch = pledge_changes(s, scenario_id=sid, pledge_id="NOPE", since=1)
    assert ch.fields == () and ch.revisions == () and ch.others == 4
