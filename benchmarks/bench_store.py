"""Stored scenarios and plan runs: list latency with 1,000 stored runs, sustained edit rate.

1. ``GET /api/plans`` (first page, 50 rows) with 1,000 stored runs whose plans are each a real
   plan JSON padded to about ``PLAN_KB`` KB (the issue reports 330–420 KB plans), through the
   app in-process (Starlette's TestClient, SQLite file, a British planner's token). Baselines in
   the same run: ``GET /api/me`` (the fixed cost of an authenticated request) and the former way
   of listing, "load every run with its plan and page in Python", timed in-process.
2. Edits on SQLite: ``SetReleasability`` by the pledging nation, one transaction (and one
   durable commit) per edit, through :func:`coalition.scenario.store.edit` with the app's
   cache, for ``EDITS`` edits; beside a bare insert rate measured on the same database: one row
   of similar size (change JSON + audit-sized row) per committed transaction.

Results: benchmarks/results/store.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("results") / "store.json"
RUNS = 1000
PLAN_KB = 350
REQUESTS = 300
EDITS = 2000
TARGET_P99_MS = 50
TARGET_EDITS_PER_S = 200


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(1000 * values[min(len(values) - 1, int(len(values) * q))], 2)


def _plans(data: Path) -> dict[str, object]:
    from fastapi.testclient import TestClient
    from sqlalchemy import insert, select

    from coalition.api import create_app
    from coalition.auth import service
    from coalition.auth.schemas import UserCreate
    from coalition.planner.runs import PlanRun, PlanRunResult, run_key, solve_task
    from coalition.scenario import store
    from coalition.settings import Settings
    from coalition.store.db import transaction

    url = f"sqlite:///{data / 'plans.db'}"
    app = create_app(Settings(database_url=url, data_dir=data))
    factory = app.state.coalition.session_factory
    with transaction(factory) as db:
        user = service.create_user(db, data=UserCreate(name="bench", nation="GBR",
                                                       roles=["planner"]))
        token = service.issue_token(db, user=user)[1]
        sid, rev, state = store.current_state(db, ref=None)
    plan = solve_task(state.scenario.model_dump(mode="json"), state.scenario.force_options[0].id,
                      ["ceasefire=2026-06-01"], None, {"time_limit": 5})
    plan.pop("_cancelled", None)
    base = len(json.dumps(plan))
    plan["padding"] = "x" * max(0, PLAN_KB * 1024 - base)
    size_kb = round(len(json.dumps(plan)) / 1024, 1)
    from coalition.auth.service import now

    t0 = time.perf_counter()
    with transaction(factory) as db:
        for i in range(RUNS):
            key = run_key(scenario_id=sid, revision=rev, option="small", at=None,
                          assumptions=[], seed=i, options={"time_limit": 5})
            run = PlanRun(scenario_id=sid, revision=rev, option="small", seed=i, assumptions=[],
                          assumptions_hash="", options={"time_limit": 5}, run_key=key,
                          status="done", progress=1.0, message="optimal",
                          requested_by="bench", nation=("GBR", "FRA", "POL")[i % 3],
                          cancel_requested=False, summary={"status": "optimal"},
                          created_at=now(), finished_at=now())
            db.add(run)
            db.flush()
            db.execute(insert(PlanRunResult), [{"run_id": run.id, "plan": plan}])
    fill_s = time.perf_counter() - t0
    client = TestClient(app, base_url="https://testserver",
                        headers={"Authorization": f"Bearer {token}"})

    def timed(path: str) -> list[float]:
        for _ in range(20):
            assert client.get(path).status_code == 200
        out = []
        for _ in range(REQUESTS):
            t = time.perf_counter()
            r = client.get(path)
            out.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
        return out

    plans = timed("/api/plans")
    me = timed("/api/me")
    filtered = timed("/api/plans?nation=FRA&status=done&offset=200&limit=50")
    naive = []
    for _ in range(5):
        t = time.perf_counter()
        with factory() as db:
            rows = db.execute(select(PlanRun, PlanRunResult.plan).join(
                PlanRunResult, PlanRunResult.run_id == PlanRun.id).order_by(
                PlanRun.id.desc())).all()
            page = [(r.id, len(p)) for r, p in rows][:50]
            assert len(page) == 50
        naive.append(time.perf_counter() - t)
    app.state.coalition.runs.shutdown()
    app.state.coalition.engine.dispose()
    return {
        "runs": RUNS, "plan_kb": size_kb, "fill_s": round(fill_s, 2),
        "GET /api/plans": {"p50_ms": _pct(plans, 0.5), "p99_ms": _pct(plans, 0.99)},
        "GET /api/plans?nation=FRA&status=done&offset=200": {
            "p50_ms": _pct(filtered, 0.5), "p99_ms": _pct(filtered, 0.99)},
        "GET /api/me (baseline)": {"p50_ms": _pct(me, 0.5), "p99_ms": _pct(me, 0.99)},
        "load all with plans, page in Python (former way, baseline)": {
            "mean_ms": round(1000 * statistics.fmean(naive), 1)},
        "target_p99_ms": TARGET_P99_MS,
        "met": _pct(plans, 0.99) < TARGET_P99_MS,
    }


def _edits(data: Path) -> dict[str, object]:
    from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, Text, insert

    from coalition.auth.schemas import Principal, Role
    from coalition.scenario import store
    from coalition.scenario.rules import SetReleasability
    from coalition.scenario.service import load_scenario
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{data / 'edits.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    scenario = load_scenario(None)
    with transaction(factory) as db:
        sid = store.create(db, scenario=scenario, principal=store.SYSTEM).id
    pledge = scenario.pledges[0]
    owner = Principal(user_id=None, name="bench", nation=pledge.nation,
                      roles=frozenset({Role.PLANNER}))
    cache = store.ScenarioCache()
    targets = (("HQ",), ("HQ", "FRA"))
    t0 = time.perf_counter()
    for i in range(EDITS):
        with transaction(factory) as db:
            result = store.edit(db, sid, None, SetReleasability(
                object_id=pledge.id, releasable_to=targets[i % 2]), owner, cache=cache)
        # a reader (the API) fills the cache with the committed revision
        cache.put(sid, result.revision, result.state)
    edit_s = time.perf_counter() - t0
    meta = MetaData()
    bare = Table("bench_bare", meta, Column("id", Integer, primary_key=True),
                 Column("kind", String(32)), Column("change", JSON), Column("note", Text))
    meta.create_all(engine)
    change = SetReleasability(object_id=pledge.id, releasable_to=targets[1]).model_dump(mode="json")
    t0 = time.perf_counter()
    for _ in range(EDITS):
        with transaction(factory) as db:
            db.execute(insert(bare), [{"kind": "release", "change": change, "note": "x" * 200},
                                      {"kind": "audit", "change": change, "note": "x" * 200}])
    bare_s = time.perf_counter() - t0
    with transaction(factory) as db:
        head = store.scenario_header(db, ref=sid)[1]
        rebuilt = store.state_at(db, scenario_id=sid, revision=head)
        assert rebuilt == cache.peek(sid, head)
    engine.dispose()
    rate = EDITS / edit_s
    return {
        "edits": EDITS, "edits_per_s": round(rate, 1),
        "bare_insert_tx_per_s (baseline: 2 rows per committed transaction)": round(EDITS / bare_s, 1),
        "ratio_to_bare": round(rate / (EDITS / bare_s), 3),
        "head_revision": head, "target_edits_per_s": TARGET_EDITS_PER_S,
        "met": rate >= TARGET_EDITS_PER_S,
    }


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="coalition-bench-store-") as tmp:
        data = Path(tmp)
        result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                  "plans": _plans(data), "edits": _edits(data),
                  "load_average_end": os.getloadavg()[0]}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    run()
