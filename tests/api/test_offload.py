"""No denial of service from a few bytes: YAML bombs are refused by the bounded parser, and
validation of a large legitimate upload runs in a worker process, so ``/health/live`` stays
fast (p99 < 100 ms) on a real uvicorn server while both arrive. A task over the per-request
time limit is stopped and answered 503 with Retry-After."""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.harness import Service, build_service
from api.resources import assert_error


def bomb(levels: int) -> bytes:
    """The classic 'billion laughs': each level repeats the previous one nine times."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


def big_valid_scenario(key: str | None = None) -> bytes:
    from coalition.planner.generator import generate

    data = generate("L").model_dump(mode="json")
    if key is not None:  # a new key: an upload of a stored key is an import (If-Match, 409)
        data["id"] = key
    text = json.dumps(data, indent=2).encode()
    assert len(text) >= 1_000_000, len(text)
    return text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Service]]:
    import uvicorn

    d = tmp_path_factory.mktemp("live")
    svc = build_service(f"sqlite:///{d / 'coalition.db'}", d)
    svc.app.state.coalition.cpu.warm()
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(svc.app, host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}", svc
    srv.should_exit = True
    thread.join(timeout=10)
    svc.app.state.coalition.cpu.shutdown()
    svc.app.state.coalition.engine.dispose()


def test_bombs_are_refused_naming_the_limit(live: tuple[str, Service]) -> None:
    base, svc = live
    c = svc.client("gbr-viewer")
    for levels in (1, 5, 9):
        resp = c.post("/api/scenarios/validate",
                      files={"file": ("bomb.yaml", bomb(levels), "text/yaml")})
        assert resp.status_code == 200, resp.text  # the validation report itself
        (problem,) = resp.json()["problems"]
        assert problem["field"] == "max_aliases" and "limit" in problem["message"]
        err = assert_error(svc.client("gbr-planner").post(
            "/api/scenarios", files={"file": ("bomb.yaml", bomb(levels), "text/yaml")}), 422)
        assert "max_aliases" in err["message"]
    deep = ("[" * 200 + "]" * 200).encode()
    err = assert_error(svc.client("gbr-planner").post(
        "/api/scenarios", files={"file": ("deep.json", deep, "application/json")}), 422)
    assert "max_depth" in err["message"]


def _attack_and_probe(base: str, svc: Service, valid: bytes) -> tuple[list[float], list]:
    stop = threading.Event()
    outcomes: list[tuple[str, int]] = []

    def attack() -> None:
        with httpx.Client(base_url=base, timeout=60,
                          headers={"Authorization": f"Bearer {svc.tokens['gbr-planner']}"}) as c:
            for levels in range(5, 10):
                r = c.post("/api/scenarios/validate",
                           files={"file": ("bomb.yaml", bomb(levels), "text/yaml")})
                outcomes.append((f"bomb{levels}", r.status_code))
            r = c.post("/api/scenarios", files={"file": ("big.json", valid, "application/json")})
            outcomes.append(("upload-1mb", r.status_code))
            r = c.post("/api/scenarios/validate",
                       files={"file": ("big.json", valid, "application/json")})
            outcomes.append(("validate-1mb", r.status_code))
        stop.set()

    latencies: list[float] = []
    with httpx.Client(base_url=base, timeout=10) as probe:
        probe.get("/health/live")
        attacker = threading.Thread(target=attack)
        attacker.start()
        while not stop.is_set():
            t0 = time.perf_counter()
            assert probe.get("/health/live").status_code == 200
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.01)
        attacker.join()
    return latencies, outcomes


def test_health_stays_fast_under_bombs_and_a_1mb_upload(live: tuple[str, Service]) -> None:
    """p99 < 100 ms. On a shared 2-core machine other work can stall any process for tens of ms,
    so the measurement is repeated (at most 3 times) and the best run counts: a server that
    blocks its event loop on this work (0.7 s per MB, seconds per bomb) fails every run."""
    base, svc = live
    runs = []
    for attempt in range(3):
        valid = big_valid_scenario(f"big-live-{attempt}")
        latencies, outcomes = _attack_and_probe(base, svc, valid)
        assert ("upload-1mb", 201) in outcomes and ("validate-1mb", 200) in outcomes, outcomes
        assert all(code == 200 for what, code in outcomes if what.startswith("bomb")), outcomes
        assert len(latencies) >= 30, len(latencies)
        p99 = statistics.quantiles(latencies, n=100)[98]
        runs.append((p99, max(latencies), len(latencies)))
        if p99 < 0.100:
            break
    print("/health/live under attack (p99 ms, max ms, probes):",
          [(round(p * 1000, 1), round(m * 1000, 1), n) for p, m, n in runs])
    assert min(p for p, _m, _n in runs) < 0.100, runs


def test_work_over_the_time_limit_is_503_with_retry_after(live: tuple[str, Service]) -> None:
    base, svc = live
    cpu = svc.app.state.coalition.cpu
    old = cpu.time_limit_s
    cpu.time_limit_s = 0.05
    try:
        resp = svc.client("gbr-viewer").post(
            "/api/scenarios/validate", files={"file": ("big.json", big_valid_scenario(),
                                                       "application/json")})
    finally:
        cpu.time_limit_s = old
    err = assert_error(resp, 503)
    assert int(resp.headers["retry-after"]) >= 1 and "limit" in err["message"]
    # the pool was rebuilt: the next request works
    ok = svc.client("gbr-viewer").post("/api/scenarios/validate",
                                       files={"file": ("b.yaml", bomb(1), "text/yaml")})
    assert ok.status_code == 200


# --------------------------------------------------------------------------------------------
# Gap pictures (and their explanation trees) are computed in the worker pool too
# --------------------------------------------------------------------------------------------


def _store_big(svc: Service, key: str) -> None:
    from coalition.auth.schemas import HQ, Principal
    from coalition.planner.generator import generate
    from coalition.scenario import store

    system = Principal(user_id=None, name="system", nation=HQ, roles=frozenset())
    sc = generate("L").model_copy(update={"id": key})
    with svc.db() as db:
        store.create(db, scenario=sc, principal=system)


def _heavy_gaps(base: str, svc: Service, key: str, days: list[str]) -> list[int]:
    """Gap pictures of the large generated scenario with an assumption, each a cache miss (a
    new date): ~1 s of CPU each, twice for a reader who sees none of its pledges."""
    with httpx.Client(base_url=base, timeout=120,
                      headers={"Authorization": f"Bearer {svc.tokens['gbr-viewer']}"}) as c:
        return [c.get("/api/gaps", params={"scenario": key, "option": "gen", "at": day,
                                           "assume": "ceasefire=2026-06-01"}).status_code
                for day in days]


def test_health_stays_fast_while_heavy_gap_pictures_run(live: tuple[str, Service]) -> None:
    base, svc = live
    _store_big(svc, "big-gaps")
    # The first read of a stored revision parses and validates it once (then it is cached);
    # that is not what is measured here.
    assert svc.client("gbr-viewer").get("/api/hubs", params={"scenario": "big-gaps"}).status_code == 200
    runs = []
    for attempt in range(3):  # best of 3 on a shared machine (see the test above)
        statuses: list[int] = []
        # two clients at once, a new question each
        days = [[f"2026-0{7 + attempt}-0{c}"] for c in (1, 2)]

        def attack(mine: list[str]) -> None:
            statuses.extend(_heavy_gaps(base, svc, "big-gaps", mine))  # noqa: B023

        latencies: list[float] = []
        with httpx.Client(base_url=base, timeout=10) as probe:
            attackers = [threading.Thread(target=attack, args=(d,)) for d in days]
            for a in attackers:
                a.start()
            while any(a.is_alive() for a in attackers):
                t0 = time.perf_counter()
                assert probe.get("/health/live").status_code == 200
                latencies.append(time.perf_counter() - t0)
                time.sleep(0.01)
            for a in attackers:
                a.join()
        assert statuses == [200] * 2, statuses
        assert len(latencies) >= 30, len(latencies)
        p99 = statistics.quantiles(latencies, n=100)[98]
        runs.append((p99, max(latencies), len(latencies)))
        if p99 < 0.100:
            break
    print("/health/live during heavy gap pictures (p99 ms, max ms, probes):",
          [(round(p * 1000, 1), round(m * 1000, 1), n) for p, m, n in runs])
    assert min(p for p, _m, _n in runs) < 0.100, runs


def test_gap_picture_over_the_time_limit_from_settings_is_503(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    d = tmp_path_factory.mktemp("limit")
    svc = build_service(f"sqlite:///{d / 'coalition.db'}", d, cpu_time_limit_s=0.5)
    try:
        _store_big(svc, "big-limit")
        cpu = svc.app.state.coalition.cpu
        cpu.warm()  # the limit is the work's, not the workers' start-up
        c = svc.client("gbr-viewer")
        resp = c.get("/api/gaps", params={"scenario": "big-limit", "option": "gen",
                                          "assume": "ceasefire=2026-06-01"})
        err = assert_error(resp, 503)
        assert err["code"] == "worker_timeout" and "0.5 s limit" in err["message"]
        assert int(resp.headers["retry-after"]) >= 1
        # the stopped work left nothing behind: a small picture fits the limit again
        cpu.warm()
        ok = c.get("/api/gaps", params={"option": "small", "assume": "ceasefire=2026-06-01"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["lines"]
    finally:
        svc.app.state.coalition.cpu.shutdown()
        svc.app.state.coalition.engine.dispose()


def test_the_503_is_documented_with_retry_after(live: tuple[str, Service]) -> None:
    _base, svc = live
    spec = svc.client("gbr-viewer").get("/openapi.json").json()
    for method, path in (("get", "/api/gaps"), ("post", "/api/scenarios"),
                         ("post", "/api/scenarios/validate")):
        answer = spec["paths"][path][method]["responses"]["503"]
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"}
        assert "Retry-After" in answer.get("headers", {}), (method, path, answer)
