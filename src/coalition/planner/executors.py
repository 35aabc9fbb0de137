"""Where plan runs (and the other kinds of run) execute: a bounded thread pool in this process or
a Dask cluster (through the typed wrapper :mod:`coalition.compute.dask`), behind one small
:class:`Executor` protocol with cancel tokens. Pure: no database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from coalition.compute import dask

if TYPE_CHECKING:
    from distributed import Client


class Executor(Protocol):
    """Runs a pure function somewhere; ``slots`` is how many may run at once."""

    slots: int

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]: ...

    def cancel_token(self, run_id: int) -> Any: ...

    def shutdown(self) -> None: ...


class _Flag:
    """A cancel token for in-process runs."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


class LocalExecutor:
    """A bounded thread pool in this process."""

    def __init__(self, slots: int = 1) -> None:
        self.slots = max(1, slots)
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="plan")

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._pool.submit(fn, *args, **kwargs)

    def cancel_token(self, run_id: int) -> _Flag:
        return _Flag()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class DaskExecutor:
    """A ``distributed.Client``: the solve runs on a Dask worker; cancel is a Dask ``Event``
    the worker's ``should_stop`` polls. ``slots`` defaults to the cluster's worker threads."""

    def __init__(self, address: str | Client, slots: int | None = None) -> None:
        from distributed import Client

        self._own = not isinstance(address, Client)
        self.client = address if isinstance(address, Client) else dask.connect(address)
        threads = dask.total_threads(self.client) or 1
        self.slots = max(1, slots or threads)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        from concurrent.futures import Future as CFuture

        out: CFuture[Any] = CFuture()
        fut = self.client.submit(fn, *args, pure=False, **kwargs)

        def done(f: Any) -> None:
            try:
                out.set_result(f.result())
            except BaseException as exc:  # noqa: BLE001 - handed to the waiter
                out.set_exception(exc)

        dask.when_done(fut, done)
        return out

    def cancel_token(self, run_id: int) -> Any:
        return dask.event(f"coalition-plan-cancel-{run_id}-{time.time_ns()}", self.client)

    def shutdown(self) -> None:
        if self._own:
            dask.close(self.client)


def make_executor(spec: str, slots: int) -> Executor:
    """``local`` or ``dask://tcp://host:8786`` (also ``dask://`` + any scheduler address)."""
    if spec.startswith("dask://"):
        return DaskExecutor(spec[len("dask://") :], slots=None)
    if spec in ("", "local"):
        return LocalExecutor(slots)
    from coalition.errors import InputError, Problem

    raise InputError(
        [Problem(f"unknown executor {spec!r}", field="COALITION_EXECUTOR", hint="'local' or 'dask://tcp://HOST:8786'")]
    )
