"""Running many worlds: Dask (``dask.distributed``) by default, a resumable run folder.

* **Engine.** Worlds are mapped over a Dask cluster with ``client.submit`` in batches. By
  default a ``LocalCluster`` of worker *processes*, one per core, one thread each (HiGHS runs
  single-threaded per task: many single-thread solves side by side use the cores better than
  one parallel solve); ``scheduler="tcp://HOST:8786"`` uses a running cluster instead.
  ``workers=0`` evaluates in this process (the serial baseline of the benchmark).
* **Expensive state once per worker.** A :class:`EvaluatorPlugin` (a Dask worker plugin) builds
  the evaluator, i.e. the planner's model, when it is registered on a worker; tasks only carry
  worlds and look the evaluator up on their worker. No global state in tasks.
* **Run folder.** ``spec.json`` (what is being run; a resume must ask for the same),
  ``records/part-<first>-<n>.parquet`` (the records of one finished batch, written atomically
  through a temporary file), and ``summary.json`` once every world is done. A run started again
  on the same folder reads the parts, skips the worlds already done and evaluates the rest:
  the records, and so the summary, are those of an uninterrupted run (each world is evaluated
  on its own, deterministically: same HiGHS seed, single thread; a world that hit the
  per-world time limit is marked ``time-limit`` and may differ between runs).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from distributed.diagnostics.plugin import WorkerPlugin
from pydantic import BaseModel, ConfigDict, Field

from coalition.analysis.evaluate import Context, make_evaluator
from coalition.analysis.montecarlo import record
from coalition.analysis.sampling import World
from coalition.compute import dask
from coalition.errors import InputError, Problem

if TYPE_CHECKING:
    from distributed import Client

ProgressCb = Callable[[int, int], None]
PLUGIN_PREFIX = "coalition-analysis-"


class RunSpec(BaseModel):
    """What a run computes. Two runs with equal specs produce equal records."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = "montecarlo"
    scenario_id: str
    scenario_digest: str = Field(description="sha256 of the scenario's JSON")
    option: str
    samples: int
    seed: int
    method: str
    quick: bool
    exact: bool
    assumptions: tuple[str, ...] = ()
    time_limit: float
    mip_rel_gap: float

    @property
    def token(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


def scenario_digest(ctx: Context) -> str:
    return hashlib.sha256(ctx.scenario.model_dump_json().encode()).hexdigest()


def machine_workers() -> int:
    """Cores this process may use (the LocalCluster's default size)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------------------------------------
# The worker side
# ---------------------------------------------------------------------------------------------


class EvaluatorPlugin(WorkerPlugin):
    """Dask worker plugin holding one evaluator (the model built once per worker)."""

    def __init__(self, token: str, ctx_args: dict[str, Any], quick: bool) -> None:
        self.name = PLUGIN_PREFIX + token
        self.ctx_args = ctx_args
        self.quick = quick
        self.ctx: Context | None = None
        self.evaluator: Any = None
        self.setup_seconds = 0.0

    def setup(self, worker: Any = None) -> None:
        t0 = time.perf_counter()
        self.ctx = Context(**self.ctx_args)
        self.evaluator = make_evaluator(self.ctx, self.quick)
        self.setup_seconds = time.perf_counter() - t0

    def teardown(self, worker: Any = None) -> None:
        self.evaluator = None

    def evaluate(self, worlds: Sequence[World]) -> list[dict[str, Any]]:
        if self.evaluator is None:
            self.setup()
        assert self.ctx is not None
        out = []
        for w in worlds:
            # CPU time of this process for the world: on a shared machine the wall time of a
            # world grows with the load, its CPU time does not (benchmark, docs/analysis.md)
            c0 = time.process_time()
            row = record(w, self.evaluator.evaluate(w), self.ctx)
            row["cpu_seconds"] = time.process_time() - c0
            out.append(row)
        return out

    def details(self, world: World, sets: Sequence[frozenset[str]], hints: Sequence[Any] | None = None) -> list[Any]:
        if self.evaluator is None:
            self.setup()
        hs = list(hints) if hints is not None else [None] * len(sets)
        return [self.evaluator.detail(world, s, h) for s, h in zip(sets, hs, strict=True)]


def evaluator_plugin(ctx: Context, quick: bool) -> EvaluatorPlugin:
    """The worker plugin of an analysis of ``ctx``. Its name is a digest of everything its
    evaluator depends on (scenario and its content, option, fixed assumptions, solve options,
    quick or full), so two plugins of one name hold the same evaluator."""
    ctx_args = {"scenario": ctx.scenario, "option_id": ctx.option_id, "assumptions": ctx.fixed, "options": ctx.options}
    token = hashlib.sha256(
        repr((ctx.scenario.id, ctx.option_id, ctx.fixed, quick, scenario_digest(ctx), repr(ctx.options))).encode()
    ).hexdigest()[:12]
    return EvaluatorPlugin(token, ctx_args, quick)


def _has_plugin(name: str, dask_worker: Any = None) -> bool:
    return dask_worker is not None and name in dask_worker.plugins


def ensure_plugin(client: Client, plugin: EvaluatorPlugin) -> bool:
    """Register ``plugin`` on the cluster unless every worker already holds one of its name
    (the same evaluator, :func:`evaluator_plugin`): on a long-lived cluster a second run of the
    same analysis reuses each worker's model instead of building it again. Workers that join
    later get it from the scheduler either way. Returns whether it registered."""
    have = dask.on_workers(client, _has_plugin, plugin.name)
    if have and all(have.values()):
        return False
    client.register_plugin(plugin, name=plugin.name)
    return True


def _detail_task(
    plugin_name: str, world: World, sets: Sequence[frozenset[str]], hints: Sequence[Any] | None = None
) -> list[Any]:
    """A Dask task: the plans of ``world`` without each withdrawn set (each with its
    :class:`~coalition.analysis.evaluate.SetHint`, if given), on this worker."""
    from distributed import get_worker

    plugin = cast(EvaluatorPlugin, get_worker().plugins[plugin_name])  # registered by run_worlds
    return plugin.details(world, sets, hints)


def _task(plugin_name: str, worlds: Sequence[World]) -> list[dict[str, Any]]:
    """A Dask task: evaluate ``worlds`` with the evaluator of this worker."""
    from distributed import get_worker

    plugin = cast(EvaluatorPlugin, get_worker().plugins[plugin_name])  # registered by run_worlds
    return plugin.evaluate(worlds)


# ---------------------------------------------------------------------------------------------
# The run folder
# ---------------------------------------------------------------------------------------------


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, payload: Any) -> None:
    def w(tmp: str) -> None:
        Path(tmp).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    _atomic_write(path, w)


def write_part(folder: Path, rows: list[dict[str, Any]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    first = min(r["sample"] for r in rows)
    path = folder / "records" / f"part-{first:07d}-{len(rows)}.parquet"
    table = pa.Table.from_pylist(rows)
    _atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    return path


def read_records(folder: Path) -> list[dict[str, Any]]:
    """Every record of the run folder's finished parts (one row per world)."""
    import pyarrow.parquet as pq

    rows: dict[int, dict[str, Any]] = {}
    for part in sorted((folder / "records").glob("part-*.parquet")):
        for r in pq.read_table(part).to_pylist():
            rows[int(r["sample"])] = r
    return [rows[k] for k in sorted(rows)]


def open_run_folder(folder: Path, spec: RunSpec) -> list[dict[str, Any]]:
    """Create the folder, or check that it holds the same run; returns the records done."""
    spec_path = folder / "spec.json"
    if spec_path.exists():
        try:
            old = RunSpec.model_validate_json(spec_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InputError(
                [
                    Problem(
                        f"the run folder's spec.json is unreadable ({exc})",
                        file=str(spec_path),
                        field="--out",
                        hint="give a new folder",
                    )
                ]
            ) from exc
        if old != spec:
            diff = [k for k in RunSpec.model_fields if getattr(old, k) != getattr(spec, k)]
            raise InputError(
                [
                    Problem(
                        f"the run folder holds a different run ({', '.join(diff)} differ)",
                        file=str(spec_path),
                        field="--out",
                        hint="give the same options to resume it, or a new folder",
                    )
                ]
            )
        return read_records(folder)
    (folder / "records").mkdir(parents=True, exist_ok=True)
    write_json_atomic(spec_path, json.loads(spec.model_dump_json()))
    return []


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def _batches(worlds: Sequence[World], size: int) -> list[list[World]]:
    return [list(worlds[i : i + size]) for i in range(0, len(worlds), size)]


#: Largest batch of worlds per task when the size is chosen automatically.
MAX_BATCH = 16


def auto_batch(n_worlds: int, workers: int) -> int:
    """Worlds per task: about 4 tasks per worker (so a slow world at the end leaves the other
    workers little idle time), at most :data:`MAX_BATCH` (a finished batch is one Parquet part,
    so this is also how much an interruption can lose), at least 1. A world of option small
    takes ~0.3 CPU s, so a task is seconds long and Dask's per-task cost (milliseconds) is
    negligible."""
    return max(1, min(MAX_BATCH, n_worlds // (4 * max(1, workers))))


def make_client(scheduler: str | None, workers: int | None) -> Client:
    """A Dask client: to ``scheduler`` if given, else to a new LocalCluster of processes."""
    if scheduler:
        try:
            return dask.connect(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise InputError(
                [
                    Problem(
                        f"cannot reach the Dask scheduler {scheduler} ({exc})",
                        field="--scheduler",
                        hint="give tcp://HOST:8786 of a running dask scheduler",
                    )
                ]
            ) from exc
    return dask.local_client(workers or machine_workers())


@dataclass(frozen=True)
class Execution:
    """Where and how worlds run: shared by every analysis that evaluates many plans.

    ``folder``: the run folder (records resume from it). ``workers=0``: in this process.
    ``client``: an existing Dask client (tests, benchmarks). ``batch``: worlds per task
    (default :func:`auto_batch`). ``stop_after``: stop after that many new batches (used to
    test resuming).
    """

    folder: Path | None = None
    scheduler: str | None = None
    workers: int | None = None
    client: Any = None
    batch: int | None = None
    progress: ProgressCb | None = None
    stop_after: int | None = None


def run_worlds(
    ctx: Context,
    worlds: Sequence[World],
    *,
    quick: bool,
    spec: RunSpec | None = None,
    execution: Execution | None = None,
) -> list[dict[str, Any]]:
    """Evaluate ``worlds`` (skipping those already in ``execution.folder``) and return every record."""
    ex = execution or Execution()
    folder, scheduler, workers, client = ex.folder, ex.scheduler, ex.workers, ex.client
    batch, progress, stop_after = ex.batch, ex.progress, ex.stop_after
    done: list[dict[str, Any]] = []
    if folder is not None:
        assert spec is not None
        done = open_run_folder(folder, spec)
    finished = {int(r["sample"]) for r in done}
    todo = [w for w in worlds if w.index not in finished]
    if batch is None:
        n_workers = (
            len(client.scheduler_info().get("workers", {}))
            if client is not None
            else workers
            if workers
            else 1
            if scheduler
            else machine_workers()
        )
        batch = auto_batch(len(todo), n_workers or 1)
    batches = _batches(todo, batch)
    if stop_after is not None:
        batches = batches[:stop_after]
    total = len(worlds)
    count = len(finished)
    if progress:
        progress(count, total)
    records = list(done)

    def finish(rows: list[dict[str, Any]]) -> None:
        nonlocal count
        if folder is not None and rows:
            write_part(folder, rows)
        records.extend(rows)
        count += len(rows)
        if progress:
            progress(count, total)

    if workers == 0 and client is None:
        plugin = evaluator_plugin(ctx, quick)
        plugin.setup()
        for b in batches:
            finish(plugin.evaluate(b))
        return sorted(records, key=lambda r: r["sample"])
    if not batches:
        return sorted(records, key=lambda r: r["sample"])
    own = client is None
    cl = client or make_client(scheduler, workers)
    try:
        plugin = evaluator_plugin(ctx, quick)
        ensure_plugin(cl, plugin)
        futures = [cl.submit(_task, plugin.name, b, pure=False) for b in batches]
        for fut in dask.as_completed(futures):
            finish(fut.result())
    finally:
        if own:
            dask.close(cl, cluster=True)
    return sorted(records, key=lambda r: r["sample"])


class SetSolver:
    """Plans for many withdrawn sets of one world, mapped over Dask (or in this process).

    Use as a context manager; ``solver(sets)`` returns one
    :class:`~coalition.analysis.evaluate.PlanDetail` per set, in order.
    """

    def __init__(
        self,
        ctx: Context,
        world: World,
        *,
        scheduler: str | None = None,
        workers: int | None = None,
        client: Any = None,
        batch: int = 1,
        progress: ProgressCb | None = None,
    ) -> None:
        self.ctx, self.world, self.batch, self.progress = ctx, world, batch, progress
        self.scheduler, self.workers, self.client = scheduler, workers, client
        self.own = False
        self.done = 0
        ctx_args = {
            "scenario": ctx.scenario,
            "option_id": ctx.option_id,
            "assumptions": ctx.fixed,
            "options": ctx.options,
        }
        token = hashlib.sha256(
            repr(("sets", ctx.scenario.id, ctx.option_id, ctx.fixed, scenario_digest(ctx), repr(ctx.options))).encode()
        ).hexdigest()[:12]
        self.plugin = EvaluatorPlugin(token, ctx_args, False)
        self.local = workers == 0 and client is None

    def __enter__(self) -> SetSolver:
        if self.local:
            self.plugin.setup()
        else:
            if self.client is None:
                self.client = make_client(self.scheduler, self.workers)
                self.own = True
            ensure_plugin(self.client, self.plugin)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.own and self.client is not None:
            dask.close(self.client, cluster=True)

    def __call__(self, sets: list[frozenset[str]], hints: Sequence[Any] | None = None) -> list[Any]:
        hs = list(hints) if hints is not None else [None] * len(sets)
        if self.local:
            out = []
            for s, h in zip(sets, hs, strict=True):
                out.append(self.plugin.evaluator.detail(self.world, s, h))
                self.done += 1
                if self.progress:
                    self.progress(self.done, 0)
            return out
        chunks = [list(range(i, min(i + self.batch, len(sets)))) for i in range(0, len(sets), self.batch)]
        futs = [
            self.client.submit(
                _detail_task, self.plugin.name, self.world, [sets[j] for j in c], [hs[j] for j in c], pure=False
            )
            for c in chunks
        ]
        results: dict[int, list[Any]] = {}
        index = {f.key: i for i, f in enumerate(futs)}
        for f in dask.as_completed(futs):
            results[index[f.key]] = f.result()
            self.done += len(results[index[f.key]])
            if self.progress:
                self.progress(self.done, 0)
        return [d for i in range(len(chunks)) for d in results[i]]
