"""Plan names and pins (coalition.planner.naming): who may set them, who may read a name, the
validation of a name, pinned plans first, one audit entry per change. Real SQLite and
PostgreSQL, queued runs (no solve needed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from api.factories import tiny_scenario
from coalition.audit.models import AuditEntry
from coalition.auth.schemas import HQ
from coalition.errors import InputError, NotFoundError, PermissionDeniedError
from coalition.planner import naming, runs
from coalition.scenario import store
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade
from planner.test_runs import queue, who

GBR, FRA, HQP = who("GBR"), who("FRA"), who(HQ, "hq-planner")


@pytest.fixture
def factory(db_url: str) -> Iterator[object]:
    engine = make_engine(db_url)
    upgrade(engine)
    f = session_factory(engine)
    with transaction(f) as s:
        store.create(s, scenario=tiny_scenario(), principal=store.SYSTEM, make_default=True)
    yield f
    engine.dispose()


def _relabel(factory, principal, run_id: int, **change) -> runs.PlanRun:  # type: ignore[no-untyped-def]
    with transaction(factory) as s:
        return naming.relabel(s, principal, run_id, naming.Relabel(**change), request_id="t")


def test_a_name_is_trimmed_and_read_only_by_its_nation_and_hq(factory) -> None:  # type: ignore[no-untyped-def]
    job, _ = queue(factory, GBR)
    _relabel(factory, GBR, job, name="  Op TEMPEST, Commons vote  ")
    with transaction(factory) as s:
        run = s.get(runs.PlanRun, job)
        assert run.name == "Op TEMPEST, Commons vote" and run.name_nation == "GBR"
        assert naming.name_for(GBR, run) == "Op TEMPEST, Commons vote"
        assert naming.name_for(HQP, run) == "Op TEMPEST, Commons vote"
        assert naming.name_for(FRA, run) is None  # the plan is visible, its name is not
        gbr_items, _ = naming.list_plans(s, GBR, offset=0, limit=10)
        fra_items, _ = naming.list_plans(s, FRA, offset=0, limit=10)
    assert [i["name"] for i in gbr_items] == ["Op TEMPEST, Commons vote"]
    assert [i["name"] for i in fra_items] == [None]
    assert fra_items[0]["id"] == job  # the plan itself is still listed to France


def test_hq_renaming_a_plan_hides_the_name_from_the_plans_nation(factory) -> None:  # type: ignore[no-untyped-def]
    job, _ = queue(factory, GBR)
    _relabel(factory, GBR, job, name="British draft")
    _relabel(factory, HQP, job, name="HQ: after the FRA restricted pledge")
    with transaction(factory) as s:
        run = s.get(runs.PlanRun, job)
        assert naming.name_for(GBR, run) is None and naming.name_for(HQP, run) is not None
        # HQ's entry may show GBR's old name; GBR's next entry may not show HQ's
    _relabel(factory, GBR, job, name="British again")
    with transaction(factory) as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "rename").order_by(AuditEntry.id)).all()
        befores = [(e.nation, e.before["name"]) for e in entries]
    assert befores == [("GBR", None), ("HQ", "British draft"), ("GBR", naming.WITHHELD)]


@pytest.mark.parametrize(
    "raw, problem",
    [("", "empty"), ("   ", "empty"), ("x" * 121, "121 characters"), ("two\nlines", "control character")],
)
def test_a_bad_name_is_refused_naming_the_field(factory, raw: str, problem: str) -> None:  # type: ignore[no-untyped-def]
    job, _ = queue(factory, GBR)
    with pytest.raises(InputError) as exc:
        _relabel(factory, GBR, job, name=raw, pinned=True)
    assert exc.value.problems[0].field == "name" and problem in exc.value.problems[0].message
    with transaction(factory) as s:  # nothing else changed either
        run = s.get(runs.PlanRun, job)
        assert run.name is None and run.pinned is False
    assert naming.clean_name("x" * 120) == "x" * 120


def test_only_planners_of_the_plans_nation_or_hq_may_relabel(factory) -> None:  # type: ignore[no-untyped-def]
    job, _ = queue(factory, GBR)
    for principal in (who("GBR", "gbr-depot", "depot-officer"), who("GBR", "gbr-insp", "inspector"), FRA):
        with pytest.raises(PermissionDeniedError):
            _relabel(factory, principal, job, pinned=True)
    with pytest.raises(NotFoundError):
        _relabel(factory, GBR, 9999, pinned=True)
    _relabel(factory, HQP, job, pinned=True)
    with transaction(factory) as s:
        run = s.get(runs.PlanRun, job)
        assert run.pinned and run.pinned_by == "hq-planner" and run.pinned_at is not None
        assert naming.may_relabel(GBR, run.nation) and naming.may_relabel(HQP, run.nation)
        assert not naming.may_relabel(FRA, run.nation) and not naming.may_relabel(who("GBR", "v", "viewer"), run.nation)


def test_a_run_of_another_kind_is_not_a_plan(factory) -> None:  # type: ignore[no-untyped-def]
    job, _ = queue(factory, GBR)
    with transaction(factory) as s:
        s.get(runs.PlanRun, job).kind = "analysis"
    with pytest.raises(NotFoundError):
        _relabel(factory, GBR, job, name="x")


def test_pinned_plans_list_first_and_filter(factory) -> None:  # type: ignore[no-untyped-def]
    ids = [queue(factory, GBR, seed=n)[0] for n in range(4)]
    _relabel(factory, GBR, ids[1], pinned=True)
    with transaction(factory) as s:
        items, total = naming.list_plans(s, GBR, offset=0, limit=10)
        pinned, n_pinned = naming.list_plans(s, GBR, offset=0, limit=10, pinned=True)
        unpinned, _ = naming.list_plans(s, GBR, offset=0, limit=10, pinned=False)
    assert [i["id"] for i in items] == [ids[1], ids[3], ids[2], ids[0]] and total == 4
    assert items[0]["pinned"] and items[0]["pinned_by"] == "gbr-planner"
    assert [i["id"] for i in pinned] == [ids[1]] and n_pinned == 1
    assert ids[1] not in [i["id"] for i in unpinned]
    _relabel(factory, GBR, ids[1], pinned=False)
    with transaction(factory) as s:
        items, _ = naming.list_plans(s, GBR, offset=0, limit=10)
    assert [i["id"] for i in items] == sorted(ids, reverse=True)
    assert items[-1]["pinned_by"] is None and items[-1]["pinned_at"] is None


def test_each_change_is_one_audit_entry_and_no_change_none(factory) -> None:  # type: ignore[no-untyped-def]
    job, _ = queue(factory, GBR)
    _relabel(factory, GBR, job, name="A", pinned=True)
    _relabel(factory, GBR, job, name="A", pinned=True)  # nothing changes: nothing recorded
    _relabel(factory, GBR, job, name=None, pinned=False)
    with transaction(factory) as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "plan").order_by(AuditEntry.id)).all()
        got = [(e.action, e.object_id, e.before, e.after, e.user_name) for e in entries]
        run = s.get(runs.PlanRun, job)
        assert run.name is None and run.name_nation is None and not run.pinned
    assert got == [
        ("rename", str(job), {"name": None}, {"name": "A"}, "gbr-planner"),
        ("pin", str(job), {"pinned": False}, {"pinned": True}, "gbr-planner"),
        ("rename", str(job), {"name": "A"}, {"name": None}, "gbr-planner"),
        ("unpin", str(job), {"pinned": True}, {"pinned": False}, "gbr-planner"),
    ]
