"""Stored scenarios on real SQLite and PostgreSQL: the lost-update race, immutable revisions,
replay, ownership refusals that write nothing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from api.factories import tiny_scenario
from coalition.auth.schemas import HQ, Principal, Role
from coalition.errors import NotFoundError
from coalition.scenario import store
from coalition.scenario.models import ScenarioRevision
from coalition.scenario.rules import (
    EditPledge,
    ImportDocument,
    SetAssumptions,
    SetReleasability,
    TransitionPledge,
)
from coalition.scenario.schemas import PledgeState
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade


def who(nation: str, *roles: str, name: str | None = None) -> Principal:
    return Principal(user_id=None, name=name or f"{nation.lower()}-user", nation=nation,
                     roles=frozenset(Role(r) for r in roles or ("planner",)))


HQ_A = who(HQ, name="hq-a")
HQ_B = who(HQ, name="hq-b")
GBR = who("GBR")
FRA = who("FRA")


@pytest.fixture
def db(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as s:
        row = store.create(s, scenario=tiny_scenario(), principal=store.SYSTEM, make_default=True)
        sid = row.id
    yield factory, sid
    engine.dispose()


def head(factory, sid: int) -> tuple[int, dict[str, str]]:  # type: ignore[no-untyped-def]
    with transaction(factory) as s:
        _id, rev, state = store.current_state(s, ref=sid)
        return rev, {p.id: p.state.value for p in state.scenario.pledges}


def test_concurrent_edits_one_wins_one_conflicts(db) -> None:  # type: ignore[no-untyped-def]
    """Two HQ planners, two real connections, both based on revision 1, accepting different
    pledges at the same moment: exactly one commit succeeds, the other gets a conflict naming
    the current revision, and revision 2 is written once."""
    factory, sid = db
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def accept(principal: Principal, pledge: str) -> None:
        try:
            with transaction(factory) as s:
                barrier.wait(timeout=10)
                store.edit(s, sid, 1, TransitionPledge(pledge=pledge, to=PledgeState.ACCEPTED),
                           principal)
            outcomes[pledge] = "ok"
        except store.RevisionConflict as exc:
            outcomes[pledge] = exc

    threads = [threading.Thread(target=accept, args=(HQ_A, "GBR-inf")),
               threading.Thread(target=accept, args=(HQ_B, "FRA-inf"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(map(type, outcomes.values()), key=str) == sorted(
        [str, store.RevisionConflict], key=str), outcomes
    (conflict,) = [v for v in outcomes.values() if isinstance(v, store.RevisionConflict)]
    assert conflict.current_revision == 2
    rev, states = head(factory, sid)
    assert rev == 2
    winner = next(k for k, v in outcomes.items() if v == "ok")
    loser = next(k for k in outcomes if k != winner)
    assert states[winner] == "accepted" and states[loser] == "offered"
    with transaction(factory) as s:
        assert s.scalar(select(func.count()).select_from(ScenarioRevision).where(
            ScenarioRevision.scenario_id == sid)) == 2
    # The loser reloads and retries against revision 2: now it succeeds, nothing was lost.
    with transaction(factory) as s:
        store.edit(s, sid, 2, TransitionPledge(pledge=loser, to=PledgeState.ACCEPTED), HQ_A)
    assert head(factory, sid) == (3, {"GBR-inf": "accepted", "FRA-inf": "accepted"})


def test_typed_change_without_expected_revision_is_still_atomic(db) -> None:  # type: ignore[no-untyped-def]
    factory, sid = db
    barrier = threading.Barrier(2)

    def accept(pledge: str) -> None:
        with transaction(factory) as s:
            barrier.wait(timeout=10)
            store.edit(s, sid, None, TransitionPledge(pledge=pledge, to=PledgeState.ACCEPTED), HQ_A)

    threads = [threading.Thread(target=accept, args=(p,)) for p in ("GBR-inf", "FRA-inf")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert head(factory, sid) == (3, {"GBR-inf": "accepted", "FRA-inf": "accepted"})


def test_revisions_are_immutable_in_the_database(db) -> None:  # type: ignore[no-untyped-def]
    factory, sid = db
    for statement in ("UPDATE scenario_revision SET note = 'x'", "DELETE FROM scenario_revision"):
        with pytest.raises(DBAPIError, match="immutable"):
            with transaction(factory) as s:
                s.execute(text(statement))
    # and unique on (scenario, revision)
    with pytest.raises(DBAPIError):
        with transaction(factory) as s:
            s.execute(text("INSERT INTO scenario_revision (scenario_id, revision, kind, change, "
                           "author, nation, note, created_at) VALUES "
                           f"({sid}, 1, 'x', '{{}}', 'a', 'HQ', '', CURRENT_TIMESTAMP)"))


def test_replay_rebuilds_every_revision(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Between snapshots a revision is rebuilt from its changes: every revision, rebuilt without
    a cache, equals the state the edit produced."""
    factory, sid = db
    monkeypatch.setattr(store, "SNAPSHOT_EVERY", 3)
    produced = {}
    changes = [
        (HQ_A, TransitionPledge(pledge="GBR-inf", to=PledgeState.ACCEPTED)),
        (GBR, SetReleasability(object_id="GBR-inf", releasable_to=("FRA", "HQ"))),
        (FRA, SetAssumptions(name="fra-view", assumptions=("ceasefire=2026-07-01",))),
        (HQ_A, TransitionPledge(pledge="GBR-inf", to=PledgeState.VERIFIED)),
        (GBR, EditPledge(pledge=tiny_scenario().pledges[0].model_copy(
            update={"notice_days": 5, "state": PledgeState.VERIFIED}))),
        (GBR, TransitionPledge(pledge="GBR-inf", to=PledgeState.COMMITTED)),
    ]
    for principal, change in changes:
        with transaction(factory) as s:
            result = store.edit(s, sid, None, change, principal)
            produced[result.revision] = result.state
    with transaction(factory) as s:
        snaps = {r.revision for r in store.revisions(s, scenario_id=sid) if r.snapshot is not None}
        assert snaps == {1, 3, 6}
        for rev, state in produced.items():
            assert store.state_at(s, scenario_id=sid, revision=rev) == state
        final = store.state_at(s, scenario_id=sid, revision=7)
    pledge = final.pledge("GBR-inf")
    assert pledge.state == PledgeState.COMMITTED and pledge.notice_days == 5
    assert final.markings[("pledge", "GBR-inf")].releasable_to == ("FRA", "HQ")
    assert final.assumption_sets["fra-view"].owner == "FRA"
    with transaction(factory) as s, pytest.raises(NotFoundError, match="no revision 8"):
        store.current_state(s, ref=sid, revision=8)


def test_cross_nation_upload_is_refused_as_a_whole(db) -> None:  # type: ignore[no-untyped-def]
    """A French planner's replacement of the default scenario that withdraws and edits British
    pledges, changes HQ's records and accepts its own pledge: refused, every change named, the
    stored scenario unchanged (GBR's releasability too)."""
    factory, sid = db
    with transaction(factory) as s:
        store.edit(s, sid, 1, SetReleasability(object_id="GBR-inf", releasable_to=("FRA", "HQ")),
                   GBR)
    sc = tiny_scenario()
    gbr, fra = sc.pledges
    hostile = sc.model_copy(update={
        "pledges": (gbr.model_copy(update={"state": PledgeState.WITHDRAWN, "units": 2}),
                    fra.model_copy(update={"state": PledgeState.ACCEPTED})),
        "horizon_days": 100,
    })
    with transaction(factory) as s, pytest.raises(store.ChangeRefused) as refused:
        store.upload(s, scenario=hostile, principal=FRA, expected_revision=2)
    text_ = str(refused.value)
    assert "refused as a whole" in text_
    for needle in ("'GBR-inf' → withdrawn: only GBR", "only GBR changes GBR's pledge",
                   "'FRA-inf' → accepted: accepting and verifying are headquarters",
                   "horizon_days: shared records are changed by HQ"):
        assert needle in text_, text_
    rev, states = head(factory, sid)
    assert rev == 2 and states == {"GBR-inf": "offered", "FRA-inf": "offered"}
    with transaction(factory) as s:
        marks = store.markings(s, scenario_id=sid, kind="pledge")
    assert marks["GBR-inf"].releasable_to == ("FRA", "HQ")
    # The same upload of a document changing only FRA's own pledge content is an import.
    own = sc.model_copy(update={"pledges": (gbr, fra.model_copy(update={"units": 2}))})
    with transaction(factory) as s:
        row, revision, created = store.upload(s, scenario=own, principal=FRA, expected_revision=2)
    assert (revision, created) == (3, False)
    with transaction(factory) as s:
        assert store.markings(s, scenario_id=sid, kind="pledge")["GBR-inf"].releasable_to == (
            "FRA", "HQ")  # an import keeps the markings


def test_import_needs_the_revision_and_a_stale_one_conflicts(db) -> None:  # type: ignore[no-untyped-def]
    factory, sid = db
    with transaction(factory) as s, pytest.raises(store.RevisionConflict) as exc:
        store.edit(s, sid, None, ImportDocument(scenario=tiny_scenario()), HQ_A)
    assert exc.value.current_revision == 1
    with transaction(factory) as s:
        store.edit(s, sid, 1, TransitionPledge(pledge="GBR-inf", to=PledgeState.ACCEPTED), HQ_A)
    with transaction(factory) as s, pytest.raises(store.RevisionConflict):
        store.edit(s, sid, 1, ImportDocument(scenario=tiny_scenario()), HQ_A)


def test_default_is_an_audited_hq_admin_action(db) -> None:  # type: ignore[no-untyped-def]
    from coalition.auth.models import AuditEntry

    factory, sid = db
    other = tiny_scenario("tiny-2")
    with transaction(factory) as s:
        second = store.create(s, scenario=other, principal=FRA).id
    for principal in (FRA, who(HQ, "planner"), who("GBR", "admin")):
        with transaction(factory) as s, pytest.raises(Exception, match="HQ admin"):
            store.set_default(s, scenario_id=second, principal=principal)
    with transaction(factory) as s:
        assert store.scenario_header(s, ref=None)[0] == sid
        store.set_default(s, scenario_id=second, principal=who(HQ, "admin", name="boss"),
                          request_id="r-1")
    with transaction(factory) as s:
        assert store.scenario_header(s, ref=None)[0] == second
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "default")).one()
        assert entry.user_name == "boss" and entry.after["default"] == second
