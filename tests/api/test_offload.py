"""No denial of service from a few bytes: YAML bombs are refused by the bounded parser, and
validation of a large legitimate upload (and a gap picture) runs in a worker process of
:class:`coalition.api.offload.CpuPool`, so ``/health/live`` is answered on a real uvicorn server
while that work is pending. The tests hold every worker with a task of their own (``api.gate``),
so the work cannot finish before the probes are answered whatever the machine's speed: nothing
here measures time. A task over the per-request time limit is stopped and answered 503 with
Retry-After."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.gate import hold
from api.harness import Service, build_service
from api.resources import assert_error
from coalition.api.offload import CpuPool


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
    srv = uvicorn.Server(uvicorn.Config(svc.app, host="127.0.0.1", port=port, log_level="warning"))
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
        resp = c.post("/api/scenarios/validate", files={"file": ("bomb.yaml", bomb(levels), "text/yaml")})
        assert resp.status_code == 200, resp.text  # the validation report itself
        (problem,) = resp.json()["problems"]
        assert problem["field"] == "max_aliases" and "limit" in problem["message"]
        err = assert_error(
            svc.client("gbr-planner").post("/api/scenarios", files={"file": ("bomb.yaml", bomb(levels), "text/yaml")}),
            422,
        )
        assert "max_aliases" in err["message"]
    deep = ("[" * 200 + "]" * 200).encode()
    err = assert_error(
        svc.client("gbr-planner").post("/api/scenarios", files={"file": ("deep.json", deep, "application/json")}), 422
    )
    assert "max_depth" in err["message"]


class HeldWorkers:
    """Every worker of the CPU pool busy with :func:`api.gate.hold` until :meth:`open`: work
    sent meanwhile waits in the pool and cannot finish, whatever the machine's speed."""

    def __init__(self, cpu: CpuPool, folder: Path) -> None:
        self.cpu, self.folder = cpu, folder
        self.gate = folder / "open"
        self.pids: list[int] = []
        self._threads = [threading.Thread(target=self._hold, args=(i,)) for i in range(cpu.workers)]

    def _hold(self, i: int) -> None:
        self.pids.append(self.cpu.call(hold, str(self.folder / f"started-{i}"), str(self.gate), 60.0, timeout=90))

    def __enter__(self) -> HeldWorkers:
        for t in self._threads:
            t.start()
        started = [self.folder / f"started-{i}" for i in range(self.cpu.workers)]
        deadline = time.monotonic() + 60
        while not all(p.exists() for p in started) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert all(p.exists() for p in started), "the CPU workers did not take the holding task"
        return self

    def open(self) -> None:
        self.gate.touch()
        for t in self._threads:
            t.join(timeout=90)

    def __exit__(self, *exc: object) -> None:
        self.open()


def _probe_while_held(
    base: str, held: HeldWorkers, clients: list[threading.Thread], answered: list, probes: int = 20
) -> list[int]:
    """Start ``clients`` (each of their requests needs the held pool; they record each answer
    in ``answered``), then ask ``/health/live`` ``probes`` times: every probe is answered while
    no client request has been."""
    for c in clients:
        c.start()
    for c in clients:  # a server that did the work itself, off the pool, would finish here
        c.join(timeout=1.0)
    codes = []
    with httpx.Client(base_url=base, timeout=30) as probe:
        for _ in range(probes):
            codes.append(probe.get("/health/live").status_code)
    early = list(answered)
    held.open()
    for c in clients:
        c.join(timeout=120)
    assert not early, f"answered while every CPU worker was held, so not by the pool: {early}"
    return codes


@pytest.mark.slow  # the large generated scenario
def test_health_is_answered_while_bombs_and_a_1mb_upload_wait_for_the_pool(
    live: tuple[str, Service], tmp_path: Path
) -> None:
    """The upload's validation runs in the worker pool, never on the event loop: with every
    worker held, the bombs and the 1 MB upload cannot finish, yet ``/health/live`` answers
    every probe; once the workers are free they all complete. No time is measured."""
    base, svc = live
    valid = big_valid_scenario("big-live")
    outcomes: list[tuple[str, int]] = []

    def attack() -> None:
        with httpx.Client(
            base_url=base, timeout=120, headers={"Authorization": f"Bearer {svc.tokens['gbr-planner']}"}
        ) as c:
            for levels in range(5, 10):
                r = c.post("/api/scenarios/validate", files={"file": ("bomb.yaml", bomb(levels), "text/yaml")})
                outcomes.append((f"bomb{levels}", r.status_code))
            r = c.post("/api/scenarios", files={"file": ("big.json", valid, "application/json")})
            outcomes.append(("upload-1mb", r.status_code))
            r = c.post("/api/scenarios/validate", files={"file": ("big.json", valid, "application/json")})
            outcomes.append(("validate-1mb", r.status_code))

    cpu = svc.app.state.coalition.cpu
    with HeldWorkers(cpu, tmp_path) as held:
        codes = _probe_while_held(base, held, [threading.Thread(target=attack)], outcomes)
    assert codes == [200] * len(codes)
    assert os.getpid() not in held.pids and len(held.pids) == cpu.workers  # other processes
    assert ("upload-1mb", 201) in outcomes and ("validate-1mb", 200) in outcomes, outcomes
    assert [code for what, code in outcomes if what.startswith("bomb")] == [200] * 5, outcomes


@pytest.mark.slow  # the large generated scenario
def test_work_over_the_time_limit_is_503_with_retry_after(live: tuple[str, Service]) -> None:
    base, svc = live
    cpu = svc.app.state.coalition.cpu
    old = cpu.time_limit_s
    cpu.time_limit_s = 0.05
    try:
        resp = svc.client("gbr-viewer").post(
            "/api/scenarios/validate", files={"file": ("big.json", big_valid_scenario(), "application/json")}
        )
    finally:
        cpu.time_limit_s = old
    err = assert_error(resp, 503)
    assert int(resp.headers["retry-after"]) >= 1 and "limit" in err["message"]
    # the pool was rebuilt: the next request works
    ok = svc.client("gbr-viewer").post("/api/scenarios/validate", files={"file": ("b.yaml", bomb(1), "text/yaml")})
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


def test_health_is_answered_while_gap_pictures_wait_for_the_pool(live: tuple[str, Service], tmp_path: Path) -> None:
    """Gap pictures (a cache miss each: a new date) are computed in the pool: two readers'
    requests wait behind the held workers while ``/health/live`` answers every probe."""
    base, svc = live
    statuses: list[int] = []

    def reader(day: str) -> None:
        with httpx.Client(
            base_url=base, timeout=120, headers={"Authorization": f"Bearer {svc.tokens['gbr-viewer']}"}
        ) as c:
            statuses.append(
                c.get("/api/gaps", params={"option": "small", "at": day, "assume": "ceasefire=2026-06-01"}).status_code
            )

    with HeldWorkers(svc.app.state.coalition.cpu, tmp_path) as held:
        readers = [threading.Thread(target=reader, args=(d,)) for d in ("2026-08-17", "2026-08-18")]
        codes = _probe_while_held(base, held, readers, statuses)
    assert codes == [200] * len(codes)
    assert statuses == [200, 200], statuses


@pytest.mark.slow  # the large generated scenario
def test_gap_picture_over_the_time_limit_from_settings_is_503(tmp_path_factory: pytest.TempPathFactory) -> None:
    d = tmp_path_factory.mktemp("limit")
    svc = build_service(f"sqlite:///{d / 'coalition.db'}", d, cpu_time_limit_s=0.5)
    try:
        _store_big(svc, "big-limit")
        cpu = svc.app.state.coalition.cpu
        cpu.warm()  # the limit is the work's, not the workers' start-up
        c = svc.client("gbr-viewer")
        resp = c.get("/api/gaps", params={"scenario": "big-limit", "option": "gen", "assume": "ceasefire=2026-06-01"})
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
    for method, path in (("get", "/api/gaps"), ("post", "/api/scenarios"), ("post", "/api/scenarios/validate")):
        answer = spec["paths"][path][method]["responses"]["503"]
        assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
        assert "Retry-After" in answer.get("headers", {}), (method, path, answer)


def test_a_revision_is_pickled_once_for_the_workers() -> None:
    """``ship`` keys on the object: the same revision is the same payload (the worker keeps its
    copy by token); an equal but distinct object is shipped anew, so a new revision is never
    answered from an old one."""
    from coalition.api.offload import _received, ship
    from coalition.planner.generator import generate

    one, other = generate("S", 1), generate("S", 1)
    first = ship(one)
    assert ship(one) is first
    again = ship(other)
    assert again.token != first.token
    got = _received(first)
    assert got == one and got is not one and _received(first) is got
