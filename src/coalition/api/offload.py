"""CPU-bound work off the event loop: a small process pool with a per-request time limit.

Validation of an uploaded scenario (parsing, pydantic, every check) is pure Python that holds
the GIL; run inside an ``async def`` handler it stalls every other request, ``/health/live``
included (a legitimate 1 MB scenario blocked all traffic for 0.7 s). Here it runs in a separate
*process*, so neither the event loop nor the GIL is held, and a task that exceeds the time limit
can actually be stopped (a thread cannot be killed): the pool's workers are terminated and the
pool is rebuilt on next use. The caller gets :class:`WorkerTimeout` -> 503 with ``Retry-After``.

``concurrent.futures.ProcessPoolExecutor`` is the well-kept library here; what is added is only
the time limit with termination (the executor has no way to cancel a running task). Workers are
started with ``spawn`` (never ``fork`` from a threaded server) and import ``coalition`` once.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from coalition.api.app import AppState

log = logging.getLogger("coalition.api")

T = TypeVar("T")


class WorkerTimeout(Exception):
    """The work did not finish within the per-request limit (HTTP 503 + Retry-After)."""

    def __init__(self, limit_s: float, retry_after_s: int) -> None:
        super().__init__(
            f"the request took longer than the {limit_s:g} s limit for CPU work "
            "and was stopped; try again later or send a smaller document"
        )
        self.retry_after_s = retry_after_s


# One pool of worker processes per server process (keyed by its size), shared by every app
# built in it: starting a worker costs ~1 s of imports, which tests building many apps would
# otherwise pay again and again. Production runs one app per process.
_POOLS: dict[int, ProcessPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


class CpuPool:
    def __init__(self, *, workers: int = 1, time_limit_s: float = 20.0) -> None:
        self.workers = max(1, workers)
        self.time_limit_s = time_limit_s
        self._lock = _POOLS_LOCK

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            pool = _POOLS.get(self.workers)
            if pool is None:
                pool = _POOLS[self.workers] = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_die_with_parent,
                    initargs=(os.getpid(),),
                )
            return pool

    def _kill(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if _POOLS.get(self.workers) is pool:
                del _POOLS[self.workers]
        # The executor cannot cancel a running task; terminating its processes is the only way
        # to take the CPU back. (Private attribute, but stable across CPython 3.9-3.13.)
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        # start the replacement now, so the next request does not pay the workers' start-up
        try:
            self._get().submit(_ping)
        except (RuntimeError, OSError, BrokenProcessPool):  # the next request tries again
            log.warning("could not restart the CPU workers", exc_info=True)

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        limit = self.time_limit_s if timeout is None else timeout
        pool = self._get()
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(pool, fn, *args)
        except (BrokenProcessPool, RuntimeError):  # shut down under us: start afresh once
            self._kill(pool)
            pool = self._get()
            future = loop.run_in_executor(pool, fn, *args)
        try:
            return await asyncio.wait_for(future, limit)
        except TimeoutError:
            log.warning("CPU task %s over its %.1f s limit; workers restarted", getattr(fn, "__name__", fn), limit)
            self._kill(pool)
            raise WorkerTimeout(limit, retry_after_s=max(1, int(limit))) from None
        except BrokenProcessPool:
            self._kill(pool)
            raise WorkerTimeout(limit, retry_after_s=max(1, int(limit))) from None

    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """:meth:`run` for synchronous handlers (they run on a worker thread, which waits here
        without holding the GIL)."""
        limit = self.time_limit_s if timeout is None else timeout
        pool = self._get()
        try:
            future = pool.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError):  # shut down under us: start afresh once
            self._kill(pool)
            pool = self._get()
            future = pool.submit(fn, *args)
        try:
            return future.result(timeout=limit)
        except TimeoutError:
            log.warning("CPU task %s over its %.1f s limit; workers restarted", getattr(fn, "__name__", fn), limit)
            self._kill(pool)
            raise WorkerTimeout(limit, retry_after_s=max(1, int(limit))) from None
        except BrokenProcessPool:
            self._kill(pool)
            raise WorkerTimeout(limit, retry_after_s=max(1, int(limit))) from None

    def warm(self) -> None:
        """Start the workers now (imports take a second) instead of on the first upload."""
        self._get().submit(_ping).result(timeout=60)

    def shutdown(self) -> None:
        with self._lock:
            pool = _POOLS.pop(self.workers, None)
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()  # a running task would otherwise outlive the server
            pool.shutdown(wait=False, cancel_futures=True)


def _die_with_parent(parent: int) -> None:
    """Worker initializer: exit when the server process is gone (killed, or stopped without
    its shutdown running), instead of living on as an orphan."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _ping() -> bool:
    import coalition.forcegen.gaps  # noqa: F401 - the imports are the warm-up
    import coalition.planner.releasability  # noqa: F401
    import coalition.scenario.service  # noqa: F401

    return True


# --------------------------------------------------------------------------------------------
# Tasks (top-level functions: they are pickled by name into the worker)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedScenario:
    """A validated scenario as the store writes it, serialised in the worker: sending the typed
    Scenario back and dumping it here would hold the GIL for ~0.1 s per MB (pydantic-core's
    dump does not release it), which is what this module exists to avoid."""

    id: str
    name: str
    document: dict[str, Any]

    def model_dump(self, *, mode: str = "json") -> dict[str, Any]:
        assert mode == "json"
        return self.document


@dataclass(frozen=True)
class UploadReport:
    """What the handlers need of a validation report (problems, and the prepared scenario)."""

    ok: bool
    problems: list[Any]
    scenario: PreparedScenario | None

    @property
    def errors(self) -> list[Any]:
        return [p for p in self.problems if p.severity == "error"]


def validate_upload(name: str, data: bytes, keep_document: bool) -> UploadReport:
    """Validate one uploaded scenario file (in a worker process)."""
    from coalition.scenario.service import validate_path

    with tempfile.TemporaryDirectory(prefix="coalition-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        report = validate_path(path)
    sc = report.scenario
    prepared = None
    if sc is not None:
        prepared = PreparedScenario(sc.id, sc.name, sc.model_dump(mode="json") if keep_document else {})
    return UploadReport(ok=report.ok, problems=list(report.problems), scenario=prepared)


async def validate_bytes(state: AppState, name: str, data: bytes, *, keep_document: bool = True) -> UploadReport:
    """The validation report of an upload, computed off the event loop within the limit."""
    return await state.cpu.run(validate_upload, name, data, keep_document)


# --------------------------------------------------------------------------------------------
# Gap pictures (with their explanation trees) in the pool
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shipped:
    """A scenario revision pickled once in the server (``token`` names it), so a worker
    unpickles it once and keeps it; later tasks on the same revision only pass the bytes
    through the pipe (a copy), never re-serialise the model."""

    token: str
    payload: bytes


_SHIPPED: OrderedDict[int, tuple[Any, Shipped]] = OrderedDict()
_SHIPPED_LOCK = threading.Lock()


def ship(scenario: Any) -> Shipped:
    with _SHIPPED_LOCK:
        hit = _SHIPPED.get(id(scenario))
        if hit is not None and hit[0] is scenario:
            return hit[1]
    out = Shipped(uuid.uuid4().hex, pickle.dumps(scenario, protocol=pickle.HIGHEST_PROTOCOL))
    with _SHIPPED_LOCK:
        _SHIPPED[id(scenario)] = (scenario, out)
        while len(_SHIPPED) > 16:
            _SHIPPED.popitem(last=False)
    return out


_RECEIVED: OrderedDict[str, Any] = OrderedDict()  # in the worker process


def _received(shipped: Shipped) -> Any:
    sc = _RECEIVED.get(shipped.token)
    if sc is None:
        sc = _RECEIVED[shipped.token] = pickle.loads(shipped.payload)
        while len(_RECEIVED) > 8:
            _RECEIVED.popitem(last=False)
    return sc


def gaps_task(
    shipped: Shipped, visible: frozenset[str] | None, option: str, at: str | None, assume: list[str]
) -> bytes | list[Any]:
    """The encoded gap picture (in a worker process), or the input problems (an
    :class:`InputError` does not survive pickling, so its problems travel as a value)."""
    from coalition.errors import InputError
    from coalition.planner.releasability import gaps_json

    try:
        return gaps_json(_received(shipped), visible, option, at, assume)
    except InputError as exc:
        return list(exc.problems)


def gaps_compute(cpu: CpuPool) -> Callable[..., bytes]:
    """The ``compute`` of :func:`coalition.planner.releasability.gaps_encoded` that runs in
    ``cpu``'s pool within its per-request time limit (503 with Retry-After over it)."""

    def compute(scenario: Any, visible: frozenset[str] | None, option: str, at: str | None, assume: list[str]) -> bytes:
        from coalition.errors import InputError

        out = cpu.call(gaps_task, ship(scenario), visible, option, at, assume)
        if isinstance(out, list):
            raise InputError(out)
        return out

    return compute
