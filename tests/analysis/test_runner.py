"""The Dask runner: a real 2-worker LocalCluster, the run folder, resuming."""

from __future__ import annotations

import json

import pytest

from coalition.analysis.runner import Execution, read_records
from coalition.analysis.sampling import Method
from coalition.analysis.service import Sampling, montecarlo
from coalition.errors import InputError
from tests.analysis.factory import either_fills

VOLATILE = {"solve_seconds", "overhead_seconds", "start_seconds", "cpu_seconds", "timing", "computed_at"}


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _run(tmp, name, **kw):
    kw.setdefault("workers", 0)
    return montecarlo(
        either_fills(0.5, 0.8),
        "opt",
        sampling=Sampling(40, 5, Method.MC),
        execution=Execution(folder=tmp / name, batch=4, **kw),
    )


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40)
    cl = Client(cluster)
    yield cl
    cl.close()
    cluster.close()


def test_two_worker_local_cluster_equals_serial(tmp_path, client):
    serial = _run(tmp_path, "serial")
    seen = []
    dask = _run(tmp_path, "dask", client=client, progress=lambda d, t: seen.append((d, t)))
    assert _strip(serial) == _strip(dask)
    assert seen[-1] == (40, 40) and len(seen) == 11  # start + one per batch of 4
    info = client.scheduler_info()
    assert len(info["workers"]) == 2
    # both workers did work, each with its own evaluator built once
    from distributed import get_worker  # noqa: F401  (imported on the workers)

    def builds(dask_worker):
        return [
            p.evaluator.cache.builds
            for n, p in dask_worker.plugins.items()
            if n.startswith("coalition-analysis-") and p.evaluator is not None
        ]

    per_worker = client.run(builds)
    assert all(b == [1] for b in per_worker.values()), per_worker


def test_resumed_run_equals_uninterrupted(tmp_path, client):
    whole = _run(tmp_path, "whole")
    part = _run(tmp_path, "resumed", stop_after=3)
    assert part["complete"] is False and part["samples"] == 12
    assert not (tmp_path / "resumed" / "summary.json").exists()
    # resume on the cluster: only the 28 missing worlds are evaluated
    seen = []
    resumed = _run(tmp_path, "resumed", client=client, progress=lambda d, t: seen.append(d))
    assert seen[0] == 12 and seen[-1] == 40
    assert _strip(resumed) == _strip(whole)
    a = [_strip(r) for r in read_records(tmp_path / "whole")]
    b = [_strip(r) for r in read_records(tmp_path / "resumed")]
    assert a == b and len(a) == 40
    on_disk = json.loads((tmp_path / "resumed" / "summary.json").read_text())
    assert _strip(on_disk) == _strip(json.loads(json.dumps(whole)))


def test_resume_refuses_a_different_run(tmp_path):
    _run(tmp_path, "r", stop_after=1)
    with pytest.raises(InputError, match="seed differ"):
        montecarlo(
            either_fills(0.5, 0.8),
            "opt",
            sampling=Sampling(40, 6, Method.MC),
            execution=Execution(folder=tmp_path / "r", workers=0),
        )


def test_a_second_run_of_the_same_analysis_reuses_each_workers_evaluator(tmp_path, client):
    """On a long-lived cluster a repeated analysis keeps each worker's evaluator (its model
    built once), and one with other solve options gets an evaluator of its own: the plugin's
    name covers everything the evaluator depends on (runner.evaluator_plugin)."""
    from coalition.analysis.service import SolveLimits

    def evaluators(dask_worker):
        return sorted(
            (n, id(p.evaluator))
            for n, p in dask_worker.plugins.items()
            if n.startswith("coalition-analysis-") and p.evaluator is not None
        )

    first = _run(tmp_path, "first", client=client)
    before = client.run(evaluators)
    second = _run(tmp_path, "second", client=client)
    assert client.run(evaluators) == before
    assert _strip(first) == _strip(second)
    montecarlo(
        either_fills(0.5, 0.8),
        "opt",
        sampling=Sampling(8, 5, Method.MC),
        solve=SolveLimits(time_limit=20.0),
        execution=Execution(folder=tmp_path / "other", batch=4, client=client),
    )
    after = client.run(evaluators)
    for addr, kept in before.items():
        assert set(kept) < set(after[addr])  # the old evaluator is still there, a new one beside it
