"""coalition.scenario.history: which revision notes a reader may read (derived data of the
records the change touched), and the listing over a stored scenario."""

from __future__ import annotations

from api.factories import tiny_scenario
from coalition.auth.schemas import HQ, Principal, Role
from coalition.scenario.history import _may_read, _touched, visible_revisions
from coalition.scenario.rules import ScenarioState

STATE = ScenarioState(scenario=tiny_scenario("hist"))


def who(nation: str, *roles: Role) -> Principal:
    return Principal(user_id=None, name=nation.lower(), nation=nation, roles=frozenset(roles or {Role.VIEWER}))


def test_each_kind_of_change_touches_its_records() -> None:
    gbr = STATE.pledge("GBR-inf")
    assert _touched("pledge.transition", {"pledge": "GBR-inf"}, STATE) == [("pledge", gbr)]
    assert _touched("pledge.edit", {"pledge": {"id": "GBR-inf"}}, STATE) == [("pledge", gbr)]
    assert _touched("pledge.edit", {}, STATE) == [("missing", None)]
    assert _touched("release", {"object_id": "GBR-inf"}, STATE) == [("pledge", gbr)]
    assert _touched("assumptions.set", {"name": "x"}, STATE) == []
    whole = _touched("create", {}, STATE)
    assert [r.id for _k, r in whole] == ["GBR-inf", "FRA-inf"]
    assert _touched("some.future.kind", {}, STATE) == whole  # unknown: every record (never less)
    assert _touched("pledge.transition", {"pledge": "GONE"}, STATE) == [("missing", None)]


def test_a_note_is_readable_only_by_who_may_read_every_touched_record() -> None:
    gbr, fra, hq = who("GBR"), who("FRA"), who(HQ, Role.ADMIN)
    touched_gbr = _touched("pledge.edit", {"pledge": {"id": "GBR-inf"}}, STATE)
    assert not _may_read(fra, STATE, touched_gbr)
    assert _may_read(gbr, STATE, touched_gbr)
    assert not _may_read(gbr, STATE, _touched("create", {}, STATE))  # FRA's pledge too
    assert _may_read(hq, STATE, _touched("create", {}, STATE))
    assert _may_read(fra, STATE, [])  # an assumption set touches nothing restricted
    assert not _may_read(hq, STATE, [("missing", None)])  # a record gone: nobody else


def test_the_listing_withholds_note_and_author_but_keeps_the_fact(db_url: str) -> None:
    from coalition.scenario import store
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    try:
        with transaction(session_factory(engine)) as s:
            row = store.create(s, scenario=STATE.scenario, principal=store.SYSTEM)
            sid = getattr(row, "id", None) or store.scenario_header(s, ref="hist")[0]
            head = store.current_state(s, ref="hist")[2]
            (gbr_view,) = visible_revisions(s, who("GBR"), scenario_id=sid, state=head)
            (hq_view,) = visible_revisions(s, who(HQ, Role.ADMIN), scenario_id=sid, state=head)
    finally:
        engine.dispose()
    assert gbr_view["withheld"] is True and gbr_view["note"] is None and gbr_view["author"] is None
    assert (gbr_view["revision"], gbr_view["kind"], gbr_view["nation"]) == (hq_view["revision"], hq_view["kind"], HQ)
    assert hq_view["withheld"] is False and hq_view["author"] == "system"
