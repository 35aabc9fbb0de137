"""Plan runs: fair scheduling with a per-nation quota, queue positions, cancel (queued and
running, through the solver's should_stop), reuse by key, the Dask executor. Real HiGHS,
real SQLite and PostgreSQL, a real Dask LocalCluster."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from api.factories import tiny_scenario
from coalition.auth.schemas import HQ, Principal, Role
from coalition.errors import ConflictError, PermissionDeniedError
from coalition.planner import runs
from coalition.planner.generator import generate
from coalition.scenario import store
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade

CEASEFIRE = ["ceasefire=2026-06-01"]


def who(nation: str, name: str | None = None, *roles: str) -> Principal:
    return Principal(
        user_id=None,
        name=name or f"{nation.lower()}-planner",
        nation=nation,
        roles=frozenset(Role(r) for r in roles or ("planner",)),
    )


@pytest.fixture
def factory(db_url: str) -> Iterator[object]:
    engine = make_engine(db_url)
    upgrade(engine)
    f = session_factory(engine)
    with transaction(f) as s:
        store.create(s, scenario=tiny_scenario(), principal=store.SYSTEM, make_default=True)
    yield f
    engine.dispose()


def queue(  # type: ignore[no-untyped-def]  # factory: the fixture's session factory
    factory,
    principal: Principal,
    *,
    seed: int = 0,
    option: str = "small",
    key: str = "tiny",
    time_limit: float = 5.0,
) -> tuple[int, bool]:
    with transaction(factory) as s:
        sid, rev = store.scenario_header(s, ref=key)
        run, reused = runs.queue_run(
            s,
            principal=principal,
            request=runs.RunRequest(
                scenario_id=sid,
                revision=rev,
                option=option,
                at=None,
                assumptions=CEASEFIRE,
                seed=seed,
                options={"time_limit": time_limit},
            ),
        )
        return run.id, reused


def rows(factory) -> dict[int, runs.PlanRun]:  # type: ignore[no-untyped-def]
    with transaction(factory) as s:
        return {r.id: r for r in s.query(runs.PlanRun).all()}


@pytest.mark.parametrize("quota, second", [(1, "GBR"), (4, "FRA")])
def test_a_nation_cannot_hold_every_slot(factory, quota: int, second: str) -> None:  # type: ignore[no-untyped-def]
    """Four FRA runs then one GBR run, two slots. With a quota of one run per nation the GBR
    run starts at once beside the first FRA run; without it (the baseline) it waits behind
    the second FRA run. Queue positions are shown to the user while queued."""
    fra = [queue(factory, who("FRA"), seed=i)[0] for i in range(4)]
    gbr, _ = queue(factory, who("GBR"), seed=10)
    with transaction(factory) as s:
        assert [runs.queue_position(s, s.get(runs.PlanRun, i)) for i in fra + [gbr]] == [1, 2, 3, 4, 5]
    sched = runs.Scheduler(factory, runs.LocalExecutor(2), quota=quota)
    try:
        started = sched.dispatch()
        nations = [rows(factory)[i].nation for i in started]
        assert nations == ["FRA", second]
        assert sched.wait_idle(120)
    finally:
        sched.shutdown()
    done = rows(factory)
    assert {r.status for r in done.values()} == {"done"}
    order = sorted(done.values(), key=lambda r: r.started_at)
    gbr_rank = [r.id for r in order].index(gbr)
    assert gbr_rank == (1 if quota == 1 else 4)


def test_time_limit_is_capped_by_settings(factory) -> None:  # type: ignore[no-untyped-def]
    run_id, _ = queue(factory, who("GBR"), time_limit=500)
    seen = {}
    sched = runs.Scheduler(factory, runs.LocalExecutor(1), time_limit_max=2.5)
    original = runs.solve_task

    def spy(document, option, assumptions, at, options, cancel=None, progress=None):  # type: ignore[no-untyped-def]
        seen.update(options)
        return original(document, option, assumptions, at, options, cancel, progress)

    runs.solve_task = spy  # type: ignore[assignment]
    try:
        sched.dispatch()
        assert sched.wait_idle(60)
    finally:
        runs.solve_task = original  # type: ignore[assignment]
        sched.shutdown()
    assert seen["time_limit"] == 2.5 and rows(factory)[run_id].status == "done"


def test_completed_run_with_the_same_key_is_reused(factory) -> None:  # type: ignore[no-untyped-def]
    first, reused = queue(factory, who("GBR"))
    assert not reused
    again, reused = queue(factory, who("FRA"))  # identical while queued: joined, not duplicated
    assert (again, reused) == (first, True)
    sched = runs.Scheduler(factory, runs.LocalExecutor(1))
    try:
        sched.dispatch()
        assert sched.wait_idle(60)
    finally:
        sched.shutdown()
    assert queue(factory, who("POL")) == (first, True)
    other, reused = queue(factory, who("POL"), seed=7)  # another key: a new run
    assert other != first and not reused
    # An edit makes a new revision: the same request is a new run, not the old plan.
    from coalition.scenario.rules import TransitionPledge
    from coalition.scenario.schemas import PledgeState

    with transaction(factory) as s:
        sid, _ = store.scenario_header(s, ref="tiny")
        store.edit(s, sid, None, TransitionPledge(pledge="GBR-inf", to=PledgeState.WITHDRAWN), who("GBR"))
    fresh, reused = queue(factory, who("GBR"))
    assert fresh not in (first, other) and not reused
    with transaction(factory) as s:
        items, total = runs.list_runs(s, offset=0, limit=2)
        assert total == 3 and [i["id"] for i in items] == [fresh, other]
        assert "unit_lines" not in str(items)  # lists never carry plans
        plan = runs.result_of(s, s.get(runs.PlanRun, first))
        assert plan["option"] == "small"


def test_cancel_rules_and_queued_cancel(factory) -> None:  # type: ignore[no-untyped-def]
    run_id, _ = queue(factory, who("GBR", "alice"))
    for intruder in (who("GBR", "bob"), who("FRA", "alice-fr"), who(HQ, "hq-p")):
        with transaction(factory) as s, pytest.raises(PermissionDeniedError, match="alice"):
            runs.cancel_run(s, run_id=run_id, principal=intruder)
    with transaction(factory) as s:
        assert runs.cancel_run(s, run_id=run_id, principal=who("GBR", "alice")).status == "cancelled"
    with transaction(factory) as s, pytest.raises(ConflictError, match="cancelled"):
        runs.cancel_run(s, run_id=run_id, principal=who(HQ, "boss", "admin"))
    sched = runs.Scheduler(factory, runs.LocalExecutor(1))
    try:
        assert sched.dispatch() == []  # a cancelled run never starts
    finally:
        sched.shutdown()


def mid_size(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A synthetic instance between S and M: its uncancelled solve takes ~25 s on 2 cores."""
    from coalition.planner import generator

    monkeypatch.setitem(generator.SIZES, "T", generator.Size("T", 20, 200, 14, 52, 3, 3))
    return generate("T", 0)


@pytest.mark.slow  # a mid-size solve, then cancelled
def test_cancel_a_running_solve_stops_the_solver(factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sc = mid_size(monkeypatch)
    with transaction(factory) as s:
        store.create(s, scenario=sc, principal=store.SYSTEM)
    run_id, _ = queue(factory, who("GBR", "alice"), key=sc.id, option=sc.force_options[0].id, time_limit=120)
    sched = runs.Scheduler(factory, runs.LocalExecutor(1))
    try:
        assert sched.dispatch() == [run_id]
        time.sleep(2)  # the model is being built or solved: either way it is running
        assert rows(factory)[run_id].status == "running"
        with transaction(factory) as s:
            runs.cancel_run(s, run_id=run_id, principal=who("GBR", "alice"))
        assert sched.wait_idle(60)
    finally:
        sched.shutdown()
    run = rows(factory)[run_id]
    assert run.status == "cancelled", (run.status, run.error)
    # the solver itself saw the request and stopped (not: it ran to its end, then was marked)
    assert run.message == runs.STOPPED_ON_CANCEL, run.message
    with transaction(factory) as s, pytest.raises(ConflictError, match="cancelled"):
        runs.result_of(s, s.get(runs.PlanRun, run_id))


@pytest.mark.slow  # a mid-size solve, then cancelled
def test_dask_executor_runs_and_cancels(factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from distributed import Client, LocalCluster

    sc = mid_size(monkeypatch)
    with transaction(factory) as s:
        store.create(s, scenario=sc, principal=store.SYSTEM)
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        executor = runs.DaskExecutor(client)
        assert executor.slots == 1
        a, _ = queue(factory, who("GBR"))
        b, _ = queue(factory, who("FRA"), seed=1)
        sched = runs.Scheduler(factory, executor, quota=1)
        try:
            assert sched.dispatch() == [a]
            with transaction(factory) as s:
                assert runs.queue_position(s, s.get(runs.PlanRun, b)) == 1
            assert sched.wait_idle(120)
            # A long run on the cluster, cancelled: the worker's should_stop sees the Event.
            c, _ = queue(factory, who("GBR", "alice"), key=sc.id, option=sc.force_options[0].id, time_limit=120)
            assert sched.dispatch() == [c]
            time.sleep(2)
            with transaction(factory) as s:
                runs.cancel_run(s, run_id=c, principal=who("GBR", "alice"))
            assert sched.wait_idle(60)
        finally:
            sched.shutdown()
    done = rows(factory)
    assert done[a].status == done[b].status == "done" and done[c].status == "cancelled"
    assert done[c].message == runs.STOPPED_ON_CANCEL, done[c].message  # stopped on the Event
    with transaction(factory) as s:
        assert runs.result_of(s, done[b])["option"] == "small"


def test_make_executor_from_settings() -> None:
    assert isinstance(runs.make_executor("local", 2), runs.LocalExecutor)
    from coalition.errors import InputError

    with pytest.raises(InputError, match="dask://"):
        runs.make_executor("ray://x", 1)
