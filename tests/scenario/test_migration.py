"""The data migration from the former api_* tables: every stored scenario, its revision
number, releasability markings and plan jobs survive, on SQLite and PostgreSQL; the downgrade
puts them back."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from api.factories import tiny_scenario
from coalition.scenario import store
from coalition.auth.schemas import HQ, Principal, Role
from coalition.scenario.rules import TransitionPledge
from coalition.scenario.schemas import PledgeState
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import downgrade, upgrade

HQ_PLANNER = Principal(user_id=None, name="hq", nation=HQ, roles=frozenset({Role.PLANNER}))
T = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _old_rows(engine: sa.Engine) -> dict:  # type: ignore[type-arg]
    meta = sa.MetaData()
    meta.reflect(engine, only=["api_scenarios", "api_markings", "api_plan_jobs"])
    sc, mk, jobs = (meta.tables[n] for n in ("api_scenarios", "api_markings", "api_plan_jobs"))
    one = tiny_scenario()
    edited = one.model_copy(update={"pledges": (
        one.pledges[0].model_copy(update={"state": PledgeState.ACCEPTED}), one.pledges[1])})
    other = tiny_scenario("other")
    docs = {1: one, 2: edited, 3: other}
    with engine.begin() as c:
        for sid, key, rev, default in ((1, "tiny", 1, False), (2, "tiny", 3, True),
                                       (3, "other", 1, False)):
            c.execute(sc.insert().values(
                id=sid, key=key, name=docs[sid].name, document=docs[sid].model_dump(mode="json"),
                revision=rev, is_default=default, origin="GBR" if sid != 3 else "FRA",
                uploaded_by="someone", created_at=T))
        c.execute(mk.insert().values(scenario_id=2, kind="pledge", object_id="GBR-inf",
                                     origin="GBR", releasable_to=["FRA", "HQ"]))
        c.execute(jobs.insert().values(
            id=7, scenario_id=2, option="small", at=None, assumptions=["ceasefire=2026-06-01"],
            time_limit_s=5.0, status="done", progress=1.0, message="optimal", error=None,
            result={"option": "small", "kpis": {"coverage_pct": 50.0},
                    "solve": {"status": "optimal"}},
            requested_by="someone", nation="GBR", created_at=T, finished_at=T))
    return docs


def test_migration_preserves_every_stored_scenario(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine, "auth@head")
        docs = _old_rows(engine)
        upgrade(engine)
        factory = session_factory(engine)
        from coalition.planner import runs

        with transaction(factory) as s:
            rows, total = store.list_stored(s)
            assert total == 3
            got = {r.id: (r.key, r.head, r.is_default) for r in rows}
            # the newest 'tiny' keeps the key (what a lookup by key found before)
            assert got == {1: ("tiny-1", 1, False), 2: ("tiny", 3, True), 3: ("other", 1, False)}
            for sid, doc in docs.items():
                _id, rev, state = store.current_state(s, ref=sid)
                assert state.scenario == doc
            _id, _rev, state = store.current_state(s, ref="tiny")
            assert state.markings[("pledge", "GBR-inf")].releasable_to == ("FRA", "HQ")
            run = s.get(runs.PlanRun, 7)
            assert run.status == "done" and run.revision == 3 and run.run_key == "migrated-7"
            assert runs.result_of(s, run)["kpis"]["coverage_pct"] == 50.0
            assert store.scenario_header(s, ref=None)[0] == 2
            # the migrated head takes new revisions; new rows get fresh ids (PG sequences)
            edit = store.edit(s, 2, 3, TransitionPledge(pledge="GBR-inf", to=PledgeState.VERIFIED),
                              HQ_PLANNER)
            assert edit.revision == 4
            assert store.create(s, scenario=tiny_scenario("new"), principal=HQ_PLANNER).id == 4
        # and back: the downgrade restores the old tables from each head revision
        downgrade(engine, "scenario@base")
        with engine.connect() as c:
            back = {r.id: (r.key, r.revision) for r in c.execute(sa.text(
                "SELECT id, key, revision FROM api_scenarios ORDER BY id"))}
            assert back == {1: ("tiny-1", 1), 2: ("tiny", 4), 3: ("other", 1), 4: ("new", 1)}
            assert c.execute(sa.text("SELECT count(*) FROM api_plan_jobs")).scalar() == 1
            assert c.execute(sa.text("SELECT releasable_to FROM api_markings")).scalar() in (
                ["FRA", "HQ"], '["FRA", "HQ"]')
    finally:
        engine.dispose()
