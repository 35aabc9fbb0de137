"""API load on loopback: N concurrent keep-alive clients against GET /api/hubs, GET /api/gaps
with assumptions, and the read of a stored plan result.

The server runs in its own process (uvicorn, one worker, SQLite, the embedded default scenario)
so the load generator does not share its interpreter. Baselines measured in the same run:
``GET /health/live`` (the same stack without authentication, database or scope) and, in-process,
the cost of each step of ``GET /api/hubs`` (token lookup, scenario header, scope + JSON), and
``GET /api/me`` (authentication and the request's transaction, no scenario), which together say
where the time goes. Only 127.0.0.1 is ever contacted. Results: benchmarks/results/api.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("results") / "api.json"
CLIENTS = 8
DURATION_S = 6.0
WARMUP_S = 1.0
WORKERS = (1, 2)  # uvicorn worker processes (coalition serve --workers N)
TARGET_RPS = 500
TARGET_P99_MS = 50
TARGET_RATIO = 0.3  # /api/hubs at least this share of /health/live's rate, 1 worker
TARGET_GAPS_RPS = 300
TARGET_GAPS_P99_MS = 100
TARGET_PLAN_P99_MS = 100
GAPS_PATH = "/api/gaps?option={option}&assume=ceasefire%3D2026-06-01"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(data: Path) -> tuple[str, str, dict[str, str]]:
    """Migrate, store the default scenario, create a British viewer, store one finished plan
    (run as ``coalition plan`` runs it); return (db url, token, paths of the scenario reads)."""
    from coalition.api import create_app
    from coalition.auth import service
    from coalition.auth.schemas import HQ, Principal, Role, UserCreate
    from coalition.forcegen.inputs import resolve_inputs
    from coalition.planner import runs
    from coalition.planner.schemas import PlanOptions
    from coalition.planner.service import plan_option
    from coalition.scenario import store
    from coalition.settings import Settings
    from coalition.store.db import transaction

    url = f"sqlite:///{data / 'coalition.db'}"
    app = create_app(Settings(database_url=url, data_dir=data))
    with transaction(app.state.coalition.session_factory) as db:
        user = service.create_user(db, data=UserCreate(name="bench", nation="GBR", roles=["viewer"]))
        token = service.issue_token(db, user=user)[1]
        sid, rev, state = store.current_state(db, ref=None)
        sc = state.scenario
        option = sc.force_options[0].id
        assumptions, _engine, _day = resolve_inputs(sc, ["ceasefire=2026-06-01"], None, [option])
        outcome, _cday = plan_option(sc, option, assumptions=assumptions, options=PlanOptions(time_limit=30.0))
        hq = Principal(user_id=None, name="bench", nation=HQ, roles=frozenset({Role.PLANNER}))
        job, _reused = runs.queue_run(
            db,
            principal=hq,
            request=runs.RunRequest(
                scenario_id=sid,
                revision=rev,
                option=option,
                at=None,
                assumptions=["ceasefire=2026-06-01"],
                seed=0,
                options={"time_limit": 30.0},
            ),
        )
        db.add(runs.PlanRunResult(run_id=job.id, plan=outcome.plan.model_dump(mode="json")))
        job.status, job.progress, job.message = "done", 1.0, "done"
        job.finished_at = service.now()
        db.flush()
        paths = {"gaps": GAPS_PATH.format(option=option), "plan": f"/api/plans/{job.id}/result"}
    app.state.coalition.engine.dispose()
    return url, token, paths


def _serve(port: int, url: str, data: str, workers: int) -> None:
    """Entry point of the server process (as ``coalition serve --workers N``)."""
    import uvicorn

    os.environ["COALITION_DATABASE_URL"] = url
    os.environ["COALITION_DATA_DIR"] = data
    os.environ["COALITION_RATE_LIMIT_PER_MINUTE"] = "0"  # one token drives the whole load
    uvicorn.run(
        "coalition.api.app:create_worker_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


async def _client(port: int, request: bytes, stop: float, warm: float, lat: list[float], errors: list[int]) -> None:
    # A minimal HTTP/1.1 keep-alive client on asyncio streams: far cheaper per request than a
    # full client library, so the 2-core machine's CPU goes to the server, not the load.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (now := time.perf_counter()) < stop:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            done = time.perf_counter()
            if now >= warm:
                lat.append(done - now)
                if status != 200:
                    errors.append(status)
    finally:
        writer.close()


async def _load(port: int, path: str, token: str | None) -> dict[str, float]:
    headers = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if token:
        headers += f"Authorization: Bearer {token}\r\n"
    request = (headers + "\r\n").encode()
    start = time.perf_counter()
    warm, stop = start + WARMUP_S, start + WARMUP_S + DURATION_S
    lat: list[float] = []
    errors: list[int] = []
    await asyncio.gather(*(_client(port, request, stop, warm, lat, errors) for _ in range(CLIENTS)))
    lat.sort()
    return {
        "requests": len(lat),
        "errors": len(errors),
        "rps": round(len(lat) / DURATION_S, 1),
        "p50_ms": round(1000 * lat[len(lat) // 2], 2),
        "p99_ms": round(1000 * lat[int(len(lat) * 0.99)], 2),
        "mean_ms": round(1000 * statistics.fmean(lat), 2),
    }


def _breakdown(data: Path, url: str, token: str, n: int = 2000) -> dict[str, float]:
    """In-process cost of the steps of GET /api/hubs, microseconds per call."""
    from coalition.scenario import store as workspace
    from coalition.api.deps import Ctx
    from coalition.api.routers.common import current_scenario, scoped
    from coalition.scenario.store import ScenarioCache
    from coalition.auth import service
    from coalition.store.db import make_engine, session_factory

    engine = make_engine(url)
    factory = session_factory(engine)
    cache = ScenarioCache()

    class State:
        scenarios = cache

    out: dict[str, float] = {}
    with factory() as db:
        principal = service.authenticate(db, token=token)
        t = time.perf_counter()
        for _ in range(n):
            service.authenticate(db, token=token)
        out["token_lookup_us"] = round(1e6 * (time.perf_counter() - t) / n, 1)
        t = time.perf_counter()
        for _ in range(n):
            workspace.scenario_header(db, ref=None)
        out["scenario_header_us"] = round(1e6 * (time.perf_counter() - t) / n, 1)
        ctx = Ctx(principal=principal, db=db, request_id="bench", state=State())
        sid, sc = current_scenario(ctx, None)
        t = time.perf_counter()
        for _ in range(n):
            scope = scoped(ctx, "hub.view", sid, lambda h: h.id)
            dumped = cache.dumps(sc, "hubs")
            body = {"items": [dumped[id(h)] for h in scope.filter(sc.hubs)]}
            json.dumps(body)
        out["scope_and_json_us"] = round(1e6 * (time.perf_counter() - t) / n, 1)  # a miss
        from coalition.api.routers.scenarios import LIST_PAGES

        state = workspace.current_state(db, ref=None, cache=cache)[2]
        key = ("hub", principal.nation, principal.roles, (), 0, 50)
        LIST_PAGES.put(state, key, (b"{}", []))
        t = time.perf_counter()
        for _ in range(n):
            LIST_PAGES.get(state, key)
        out["cached_page_us"] = round(1e6 * (time.perf_counter() - t) / n, 1)  # the hot path
        out["hubs"] = len(sc.hubs)
    engine.dispose()
    return out


def _measure(data: Path, url: str, token: str, workers: int, paths: dict[str, str]) -> dict[str, dict[str, float]]:
    tmp = str(data)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", f"from benchmarks.bench_api import _serve; _serve({port}, {url!r}, {tmp!r}, {workers})"],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        time.sleep(0.5 * workers)  # let every worker finish starting
        return {
            "health_live": asyncio.run(_load(port, "/health/live", None)),
            "me": asyncio.run(_load(port, "/api/me", token)),
            "hubs": asyncio.run(_load(port, "/api/hubs", token)),
            "gaps": asyncio.run(_load(port, paths["gaps"], token)),
            "plan": asyncio.run(_load(port, paths["plan"], token)),
        }
    finally:
        server.terminate()
        server.wait(timeout=20)


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="coalition-bench-api-") as tmp:
        data = Path(tmp)
        url, token, paths = _prepare(data)
        runs = {w: _measure(data, url, token, w, paths) for w in WORKERS}
        steps = _breakdown(data, url, token)
    one = runs[1]
    baseline, me, hubs = one["health_live"], one["me"], one["hubs"]
    best = max(runs.values(), key=lambda r: r["hubs"]["rps"])["hubs"]
    result = {
        "benchmark": "api",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "setup": {
            "clients": CLIENTS,
            "duration_s": DURATION_S,
            "warmup_s": WARMUP_S,
            "server": "uvicorn (uvloop + httptools when installed), 1 worker, SQLite (WAL), embedded paris-2026",
            "client": "asyncio keep-alive, same machine",
        },
        "baseline_health_live": baseline,
        "get_api_me": me,
        "get_api_hubs": hubs,
        "get_api_gaps_with_assumptions": one["gaps"],
        "get_plan_result": one["plan"],
        "paths": paths,
        "ratio_to_baseline": round(hubs["rps"] / baseline["rps"], 3) if baseline["rps"] else None,
        "in_process_steps": steps,
        "by_workers": {str(w): r for w, r in runs.items()},
        "targets": {
            "rps": TARGET_RPS,
            "p99_ms": TARGET_P99_MS,
            "met_one_worker": hubs["rps"] >= TARGET_RPS and hubs["p99_ms"] < TARGET_P99_MS,
            "met": any(r["hubs"]["rps"] >= TARGET_RPS and r["hubs"]["p99_ms"] < TARGET_P99_MS for r in runs.values()),
            "hubs_ratio": TARGET_RATIO,
            "hubs_ratio_met": bool(baseline["rps"])
            and hubs["rps"] >= TARGET_RATIO * baseline["rps"]
            and hubs["p99_ms"] < TARGET_P99_MS,
            "gaps": {
                "rps": TARGET_GAPS_RPS,
                "p99_ms": TARGET_GAPS_P99_MS,
                "met": any(
                    r["gaps"]["rps"] >= TARGET_GAPS_RPS and r["gaps"]["p99_ms"] < TARGET_GAPS_P99_MS
                    for r in runs.values()
                ),
            },
            "plan_result": {
                "p99_ms": TARGET_PLAN_P99_MS,
                "met": any(r["plan"]["p99_ms"] < TARGET_PLAN_P99_MS for r in runs.values()),
            },
        },
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'workers':<8}{'endpoint':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for w, rr in runs.items():
        for name, key in (
            ("/health/live", "health_live"),
            ("/api/me", "me"),
            ("/api/hubs", "hubs"),
            ("gaps+assume", "gaps"),
            ("plan result", "plan"),
        ):
            r = rr[key]
            print(f"{w:<8}{name:<16}{r['rps']:>10}{r['p50_ms']:>10}{r['p99_ms']:>10}{r['errors']:>8}")
    print(f"/api/hubs vs baseline: {result['ratio_to_baseline']}x; in-process steps (us): {steps}")
    print(
        f"target >= {TARGET_RPS} req/s and p99 < {TARGET_P99_MS} ms: "
        f"{'met' if result['targets']['met'] else 'NOT met'} (best /api/hubs: {best['rps']} req/s, "
        f"p99 {best['p99_ms']} ms)"
    )
    t = result["targets"]
    print(
        f"/api/hubs >= {TARGET_RATIO}x baseline and p99 < {TARGET_P99_MS} ms (1 worker): "
        f"{'met' if t['hubs_ratio_met'] else 'NOT met'}; gaps >= {TARGET_GAPS_RPS} req/s p99 < "
        f"{TARGET_GAPS_P99_MS} ms: {'met' if t['gaps']['met'] else 'NOT met'}; plan result "
        f"p99 < {TARGET_PLAN_P99_MS} ms: {'met' if t['plan_result']['met'] else 'NOT met'}"
    )
    return result


if __name__ == "__main__":
    run()
