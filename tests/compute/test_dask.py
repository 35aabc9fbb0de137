"""The typed dask.distributed wrapper against a real in-process cluster (threads, so it starts
in a second) and one real process cluster for ``local_client``."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from distributed import Client, Future, LocalCluster

from coalition.compute import dask


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (
        LocalCluster(n_workers=2, threads_per_worker=2, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as cl,
    ):
        yield cl


def test_total_threads_sums_over_workers(client: Client) -> None:
    assert dask.total_threads(client) == 4


def test_as_completed_yields_every_future_once(client: Client) -> None:
    futures = [client.submit(pow, 2, k, pure=False) for k in range(6)]
    results = sorted(f.result() for f in dask.as_completed(futures))
    assert results == [1, 2, 4, 8, 16, 32]


def test_when_done_calls_back_with_the_finished_future(client: Client) -> None:
    seen: list[int] = []
    called = threading.Event()

    def back(f: Future[int]) -> None:
        seen.append(f.result())
        called.set()

    dask.when_done(client.submit(sum, [3, 4], pure=False), back)
    assert called.wait(30)
    assert seen == [7]


def test_event_is_shared_by_name(client: Client) -> None:
    a = dask.event("coalition-test-flag", client)
    b = dask.event("coalition-test-flag", client)
    assert not b.is_set()
    a.set()
    assert b.is_set()
    assert not dask.event("coalition-test-other", client).is_set()


def test_connect_to_an_existing_scheduler_and_close_leaves_it_running(client: Client) -> None:
    other = dask.connect(client.scheduler.address, timeout="10s")
    assert dask.total_threads(other) == 4
    dask.close(other, cluster=True)  # a client of an address owns no cluster: nothing else stops
    assert client.submit(len, "abc", pure=False).result() == 3


def test_local_client_starts_and_stops_its_processes() -> None:
    cl = dask.local_client(1)
    cluster = cl.cluster
    assert dask.total_threads(cl) == 1
    assert cl.submit(abs, -5, pure=False).result() == 5
    # the workers run without the statistical profiler (dask.WORKER_CONFIG), whatever this
    # process's configuration says; a restarted worker keeps it
    import dask as dask_core

    def profiling() -> object:
        return dask_core.config.get("distributed.worker.profile.enabled")

    assert profiling() is True  # Dask's default here, so the workers' False is the wrapper's doing
    assert set(cl.run(profiling).values()) == {False}
    cl.restart()
    assert set(cl.run(profiling).values()) == {False}
    dask.close(cl, cluster=True)
    assert cl.status == "closed"
    assert cluster is not None and cluster.status.name == "closed"
