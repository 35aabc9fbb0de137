"""The small typed wrapper around ``dask.distributed`` used by plan runs
(:mod:`coalition.planner.runs`) and scenario analyses (:mod:`coalition.analysis.runner`).

distributed annotates only part of its API: the constructors of ``Client``, ``LocalCluster`` and
``Event``, ``as_completed``, ``Client.nthreads``, ``Client.close`` and
``Future.add_done_callback`` have no annotations, so ``mypy --strict`` rejects every call to
them. This module is the one place those calls are made (pyproject.toml
allows untyped calls in this module only); callers get the typed functions below and
distributed's own classes as types.

distributed is slow to import, so it is imported on first use, not when this module loads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from distributed import Client, Event, Future

T = TypeVar("T")

#: ``silence_logs`` of a local cluster: only errors from the scheduler and workers (logging.ERROR).
_QUIET = 40

#: Dask settings of a local cluster's workers. The worker's statistical profiler
#: (``distributed.worker.profile``) samples every thread's stack every 10 ms. Our tasks are
#: long CPU-bound solves that nobody profiles from a dashboard (there is none), and it cost them
#: 16 % of the workers' CPU: 40 Monte Carlo worlds of ``small`` on 2 workers took 43.7 CPU s and
#: 23.7 s wall with it, 36.7-37.5 CPU s and 20.3-20.9 s without (docs/analysis-benchmarks.md).
#: A cluster of the user's (``--scheduler``) keeps its own settings.
WORKER_CONFIG: dict[str, object] = {"distributed.worker.profile.enabled": False}


def connect(address: str, *, timeout: str | None = None) -> Client:
    """A client of the scheduler at ``address`` (``tcp://host:8786``); ``timeout`` as Dask
    reads it (``"10s"``), else Dask's default. Raises ``OSError``/``TimeoutError`` when the
    scheduler cannot be reached."""
    from distributed import Client

    return Client(address) if timeout is None else Client(address, timeout=timeout)


def local_client(workers: int) -> Client:
    """A client of a new LocalCluster: ``workers`` processes of one thread each, no dashboard,
    only error logs, :data:`WORKER_CONFIG`. ``close(client, cluster=True)`` stops both."""
    import copy

    import dask
    from distributed import Client, LocalCluster

    # Each nanny hands its worker process the configuration given here, also on a restart. A
    # ``dask.config.set`` context would not do: the nanny keeps references into the global
    # configuration, which the context restores when it exits, so restarted workers profiled.
    config = copy.deepcopy(dask.config.config)
    dask.config.set(WORKER_CONFIG, config=config)
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=_QUIET,
        config=config,
    )
    return Client(cluster)


def on_workers(client: Client, fn: Callable[..., T], *args: object) -> dict[str, T]:
    """``fn(*args, dask_worker=worker)`` on every worker of the cluster, by worker address
    (Dask passes ``dask_worker`` to a function that takes it)."""
    out: dict[str, T] = client.run(fn, *args)
    return out


def total_threads(client: Client) -> int:
    """The worker threads of the cluster, summed over its workers (0 with no worker)."""
    threads: dict[str, int] = client.nthreads()
    return sum(threads.values())


def close(client: Client, *, cluster: bool = False) -> None:
    """Close ``client``; with ``cluster``, also the cluster it started (``local_client``)."""
    own = client.cluster if cluster else None
    client.close()
    if own is not None:
        own.close()


def as_completed(futures: Iterable[Future[T]]) -> Iterator[Future[T]]:
    """``futures`` in the order they finish."""
    from distributed import as_completed as completed

    done: Iterator[Future[T]] = completed(futures)
    return done


def when_done(future: Future[T], callback: Callable[[Future[T]], None]) -> None:
    """Call ``callback(future)`` once it has finished (result, error or cancellation)."""
    future.add_done_callback(callback)


def event(name: str, client: Client) -> Event:
    """The cluster-wide event ``name``: any client or worker may set it or poll ``is_set``."""
    from distributed import Event

    return Event(name, client=client)
