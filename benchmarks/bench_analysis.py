"""Scenario-analysis benchmark: Monte Carlo throughput on Dask against a serial loop, model
reuse overhead, 1 -> 2 worker scaling, the 1,000-sample run, N-1 on the medium option.

Measured in one run, on the same worlds (Latin hypercube, seed 1, embedded paris-2026, option
``small``, full planner with the analysis defaults: MIP gap 2 % (``ANALYSIS_MIP_GAP``), 30 s per world):

* ``serial``: a plain loop over the first ``M`` worlds (one evaluator) in one fresh process
  started with the environment Dask's nanny gives a worker (one BLAS / OpenMP thread), its clock
  including the evaluator's set-up as a Dask run's does; run twice - before and after the Dask
  runs - so that a change of machine load shows. ``serial_default_threads``: the same loop in
  this process, with numpy's default threads (reported beside, not the baseline);
* ``dask-1`` / ``dask-2``: the same ``M`` worlds on a LocalCluster of 1 and 2 worker processes
  (the cluster is started before the clock starts, the evaluator plugin after);
* ``target``: all ``N`` worlds on the default LocalCluster (the issue's 1,000-sample run);
* per world: wall time of the solve, the greedy start and the rest (overhead), and CPU time;
* CPU: of every Dask worker process (``client.run``) and of this process (client and
  scheduler) over each run. Other helpers share the 2 cores, so wall times grow with the load;
  CPU times barely do. The *idle-machine estimate* of a run is its CPU time divided by the
  workers (``(worker CPU + client CPU) / workers``): the wall time the run would take if each
  worker had a core of its own. Both figures are reported, with the load average;
* Dask's own cost per world: worker CPU outside the evaluations + client/scheduler CPU, used to
  extrapolate throughput to a larger cluster on paper;
* N-1 over every pledging nation of the embedded scenario, option ``medium`` (2 workers).

* the same serial and 2-worker runs **after set-up**: every process's evaluator built and one
  world outside the ``M`` solved (the baseline plan paid) before the clock starts;
* ``withdrawal --option medium --k 2`` when ``COALITION_BENCH_WITHDRAWAL_K2=1`` (about 10 minutes).

Sizes: ``COALITION_BENCH_MC_SAMPLES`` (N, default 1000; 0 skips the target run),
``COALITION_BENCH_MC_PREFIX`` (M, default 80); ``COALITION_BENCH_N1=0`` skips the N-1 run. A part
not run keeps its figures from the results file, marked with the run they come from. Writes ``benchmarks/results/analysis.json`` and
``docs/analysis-benchmarks.md``. Compare the figures of one run with each other.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("results") / "analysis.json"
DOC = ROOT / "docs" / "analysis-benchmarks.md"


def _client(n: int):
    """The product's own local cluster (``coalition.compute.dask.local_client``) of ``n`` workers."""
    from coalition.compute.dask import local_client

    client = local_client(n)
    return client, client.cluster


def _worker_cpu(client) -> float:
    return float(sum(client.run(time.process_time).values()))


def _timed_run(ctx, worlds, client=None, **kw):
    from coalition.analysis.runner import Execution, run_worlds

    w0 = _worker_cpu(client) if client is not None else 0.0
    c0 = time.process_time()
    t0 = time.perf_counter()
    rows = run_worlds(ctx, worlds, quick=False, execution=Execution(client=client, **kw))
    wall = time.perf_counter() - t0
    main_cpu = time.process_time() - c0
    worker_cpu = _worker_cpu(client) - w0 if client is not None else 0.0
    return wall, rows, main_cpu, worker_cpu


def _worker_environ() -> dict[str, str]:
    """What Dask's nanny sets in each worker process before it starts
    (``distributed.nanny.pre-spawn-environ``: one OpenMP / MKL / OpenBLAS thread)."""
    import dask
    import distributed  # noqa: F401 - its import loads the distributed.* defaults into dask.config

    env = dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {}
    return {k: str(v) for k, v in env.items()}


def _serial_child(ctx_args: dict, worlds: list) -> tuple:
    """The serial loop, in a process started like a Dask worker (see ``_serial_like_a_worker``)."""
    from coalition.analysis.evaluate import Context

    wall, rows, cpu, _ = _timed_run(Context(**ctx_args), worlds, workers=0)
    return wall, rows, cpu


def _serial_like_a_worker(ctx_args: dict, worlds: list) -> tuple:
    """The serial baseline on equal terms with a worker: one fresh process with the thread
    settings Dask gives its workers. In this process numpy's OpenBLAS runs a thread per core,
    so a "serial" loop here took 1.36 cores (docs/analysis-benchmarks.md, sixth pass); each Dask
    worker gets one thread. The loop's clock, as in a Dask run, includes the evaluator's set-up."""
    return _in_worker_like_process(_serial_child, ctx_args, list(worlds))


def _in_worker_like_process(fn, *args) -> tuple:
    """``fn(*args)`` in one fresh process with the environment Dask gives a worker."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    env = _worker_environ()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # a spawned child reads its environment when it starts
    try:
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
            return pool.submit(fn, *args).result()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _serial_steady_child(ctx_args: dict, worlds: list, warm) -> tuple:
    """The serial loop after its set-up: the evaluator built and one world outside the
    measured ones solved (the baseline plan paid) before the clock starts."""
    from coalition.analysis.evaluate import Context
    from coalition.analysis.runner import evaluator_plugin

    plugin = evaluator_plugin(Context(**ctx_args), False)
    plugin.setup()
    plugin.evaluate([warm])
    c0, t0 = time.process_time(), time.perf_counter()
    rows = plugin.evaluate(list(worlds))
    return time.perf_counter() - t0, rows, time.process_time() - c0


def _serial_steady(ctx_args: dict, worlds: list, warm) -> tuple:
    """``_serial_steady_child`` in a fresh process started like a Dask worker."""
    return _in_worker_like_process(_serial_steady_child, ctx_args, list(worlds), warm)


def _warm_worker(name: str, world, dask_worker=None) -> bool:
    dask_worker.plugins[name].evaluate([world])
    return True


def _dask_steady(ctx, worlds: list, warm, n: int) -> tuple:
    """The Dask run after the same set-up on every worker: the plugin registered (the run
    then finds it, ``runner.ensure_plugin``) and the warm world solved on each worker."""
    from coalition.analysis.runner import ensure_plugin, evaluator_plugin

    client, cluster = _client(n)
    try:
        plugin = evaluator_plugin(ctx, False)
        ensure_plugin(client, plugin)
        client.run(_warm_worker, plugin.name, warm)
        return _timed_run(ctx, worlds, client=client)
    finally:
        client.close()
        cluster.close()


def _stats(wall: float, rows: list[dict], workers: int, main_cpu: float, worker_cpu: float, dask: bool) -> dict:
    n = len(rows)
    solve = sum(r["solve_seconds"] for r in rows)
    over = sum(r["overhead_seconds"] for r in rows)
    start = sum(r["start_seconds"] for r in rows)
    cpu = sum(r["cpu_seconds"] for r in rows)
    total_cpu = (worker_cpu + main_cpu) if dask else main_cpu
    idle = total_cpu / workers
    return {
        "worlds": n,
        "workers": workers,
        "wall_s": round(wall, 2),
        "worlds_per_s": round(n / wall, 4) if wall else None,
        "solve_s_mean": round(solve / n, 4),
        "overhead_s_mean": round(over / n, 4),
        "start_s_mean": round(start / n, 4),
        "overhead_pct_of_solve": round(100 * over / solve, 2) if solve else None,
        "overhead_with_start_pct_of_solve": round(100 * (over + start) / solve, 2) if solve else None,
        "time_limited": sum(1 for r in rows if r["status"] == "time-limit"),
        "eval_cpu_s_per_world": round(cpu / n, 4),
        "client_cpu_s": round(main_cpu, 2),
        "worker_cpu_s": round(worker_cpu, 2),
        # Dask's own CPU per world: worker CPU outside evaluations + client and scheduler
        "dask_cpu_s_per_world": round(max(0.0, worker_cpu - cpu) / n + main_cpu / n, 4) if dask else 0.0,
        "core_share_per_worker": round(total_cpu / (wall * workers), 3) if wall else None,
        "idle_estimate_s": round(idle, 2),
        "idle_worlds_per_s": round(n / idle, 4) if idle else None,
    }


def run() -> dict:
    from coalition.analysis.evaluate import ANALYSIS_MIP_GAP, Context
    from coalition.analysis.runner import Execution, machine_workers
    from coalition.analysis.sampling import Method, sample_worlds
    from coalition.analysis.service import WithdrawalSearch, withdrawal
    from coalition.planner.schemas import PlanOptions
    from coalition.scenario.service import load_scenario

    n_all = int(os.environ.get("COALITION_BENCH_MC_SAMPLES", "1000"))
    m = int(os.environ.get("COALITION_BENCH_MC_PREFIX", "80"))
    sc = load_scenario()
    gap = float(os.environ.get("COALITION_BENCH_MC_GAP", ANALYSIS_MIP_GAP))
    ctx = Context(sc, "small", options=PlanOptions(time_limit=30.0, mip_rel_gap=gap, threads=1))
    worlds = sample_worlds(ctx.uncertainty, max(n_all, m), Method.LHS, seed=1)
    prefix = worlds[:m]
    out: dict = {
        "machine": {
            "cores": machine_workers(),
            "python": platform.python_version(),
            "load_avg_at_start": os.getloadavg(),
        },
        "samples": n_all,
        "prefix": m,
        "mip_gap": gap,
    }

    ctx_args = {"scenario": sc, "option_id": "small", "options": ctx.options}

    def serial(name: str, like_a_worker: bool = True) -> list[dict]:
        if like_a_worker:
            wall, rows, cpu = _serial_like_a_worker(ctx_args, prefix)
        else:
            wall, rows, cpu, _ = _timed_run(ctx, prefix, workers=0)
        out[name] = _stats(wall, rows, 1, cpu, 0.0, dask=False)
        out[name]["load_avg"] = os.getloadavg()
        out[name]["environ"] = _worker_environ() if like_a_worker else "this process's"
        print(name, out[name], flush=True)
        return rows

    rows = serial("serial")
    serial("serial_default_threads", like_a_worker=False)
    for n in (1, 2):
        client, cluster = _client(n)
        try:
            wall, rows_n, cpu, wcpu = _timed_run(ctx, prefix, client=client)
        finally:
            client.close()
            cluster.close()
        out[f"dask_{n}"] = _stats(wall, rows_n, n, cpu, wcpu, dask=True)
        out[f"dask_{n}"]["load_avg"] = os.getloadavg()
        print(f"dask-{n}", out[f"dask_{n}"], flush=True)
        key = [(r["status"], round(r["objective"], 3)) for r in rows]
        out[f"dask_{n}"]["same_results_as_serial"] = key == [(r["status"], round(r["objective"], 3)) for r in rows_n]
    serial("serial_again")
    # throughput after set-up, both sides: the evaluator built and a world outside these solved
    # on every process before the clock (the runs above include each process's set-up)
    warm = sample_worlds(ctx.uncertainty, 1, Method.MC, seed=99)[0]
    for name in ("serial_steady", "dask_2_steady", "serial_steady_again"):
        if name.startswith("serial"):
            wall, rows_s, cpu = _serial_steady(ctx_args, prefix, warm)
            out[name] = _stats(wall, rows_s, 1, cpu, 0.0, dask=False)
        else:
            wall, rows_s, cpu, wcpu = _dask_steady(ctx, prefix, warm, 2)
            out[name] = _stats(wall, rows_s, 2, cpu, wcpu, dask=True)
        out[name]["load_avg"] = os.getloadavg()
        print(name, out[name], flush=True)
    steady = (out["serial_steady"]["wall_s"] + out["serial_steady_again"]["wall_s"]) / 2
    out["speedup_2_vs_serial_steady"] = round(steady / out["dask_2_steady"]["wall_s"], 3)
    s_wall = (out["serial"]["wall_s"] + out["serial_again"]["wall_s"]) / 2
    s_idle = (out["serial"]["idle_estimate_s"] + out["serial_again"]["idle_estimate_s"]) / 2
    out["speedup_2_vs_serial"] = round(s_wall / out["dask_2"]["wall_s"], 3)
    out["speedup_2_vs_serial_default_threads"] = round(
        out["serial_default_threads"]["wall_s"] / out["dask_2"]["wall_s"], 3
    )
    out["speedup_2_vs_serial_idle_estimate"] = round(s_idle / out["dask_2"]["idle_estimate_s"], 3)
    out["scaling_1_to_2"] = round(out["dask_1"]["wall_s"] / out["dask_2"]["wall_s"], 3)
    out["scaling_1_to_2_idle_estimate"] = round(out["dask_1"]["idle_estimate_s"] / out["dask_2"]["idle_estimate_s"], 3)
    try:
        previous = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        previous = {}
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    def kept(key: str) -> None:
        """A part not run this time keeps its last figures, marked with the run they are from."""
        if key in previous:
            out[key] = {**previous[key], "kept_from": previous[key].get("kept_from") or previous.get("run_at", "an earlier run")}

    out["run_at"] = stamp
    if n_all <= 0:
        kept("target")
    if n_all > 0:
        client, cluster = _client(machine_workers())
        try:
            wall, rows_all, cpu, wcpu = _timed_run(ctx, worlds[:n_all], client=client)
        finally:
            client.close()
            cluster.close()
        out["target"] = _stats(wall, rows_all, machine_workers(), cpu, wcpu, dask=True)
        out["target"]["load_avg"] = os.getloadavg()
        print("target", out["target"], flush=True)
    # on paper: W workers, each world costing the serial loop's CPU plus Dask's CPU on the
    # worker; one scheduler, whose CPU per world (client + scheduler process) caps the rate
    d = out.get("target") or out["dask_2"]
    cs = (out["serial"]["eval_cpu_s_per_world"] + out["serial_again"]["eval_cpu_s_per_world"]) / 2
    sched = max(d["client_cpu_s"] / d["worlds"], 1e-6)
    per = cs + max(0.0, d["dask_cpu_s_per_world"] - sched)
    out["extrapolation"] = [
        {
            "workers": w,
            "worlds_per_s": round(min(w / per, 1 / sched), 3),
            "seconds_for_1000": round(1000 / min(w / per, 1 / sched), 1),
        }
        for w in (2, 8, 32, 128, 512)
    ]
    if os.environ.get("COALITION_BENCH_N1", "1") == "0":
        kept("n_minus_1_medium")
    else:
        t0 = time.perf_counter()
        res = withdrawal(
            sc, "medium", search=WithdrawalSearch(k=1, pairs=False, shapley_permutations=0), execution=Execution(workers=2)
        )
        out["n_minus_1_medium"] = {
            "wall_s": round(time.perf_counter() - t0, 2),
            "nations": len(res["nations"]),
            "solves": res["solves"],
            "shortcuts": res["shortcuts"],
            "load_avg": os.getloadavg(),
        }
        print("N-1 medium", out["n_minus_1_medium"], flush=True)
    if not os.environ.get("COALITION_BENCH_WITHDRAWAL_K2"):
        kept("withdrawal_medium_k2")
    else:
        t0 = time.perf_counter()
        res = withdrawal(
            sc, "medium", search=WithdrawalSearch(k=2, shapley_permutations=0), execution=Execution(workers=2)
        )
        out["withdrawal_medium_k2"] = {
            "wall_s": round(time.perf_counter() - t0, 2),
            "solves": res["solves"],
            "shortcuts": res["shortcuts"],
            "worst": res["worst_k"].get("nations"),
            "worst_status": res["worst_k"].get("status"),
            "start_proven": res.get("start_proven"),
            "rows_not_optimal": sum(1 for r in res["n_1"] + res["n_2"] if r.get("status") != "optimal"),
            "rows": len(res["n_1"]) + len(res["n_2"]),
            "load_avg": os.getloadavg(),
        }
    out["machine"]["load_avg_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    _write_doc(out)
    return out


def _load(x) -> str:
    return "/".join(f"{v:.1f}" for v in x)


def _cs(o: dict) -> float:
    """Serial CPU seconds per world (mean of the two serial runs)."""
    return (o["serial"]["eval_cpu_s_per_world"] + o["serial_again"]["eval_cpu_s_per_world"]) / 2


def _dask_cost(o: dict) -> float:
    """Dask's own CPU per world (worker side + client and scheduler), from the largest run
    (where the per-worker set-up is spread over the most worlds)."""
    return (o.get("target") or o["dask_2"])["dask_cpu_s_per_world"]


def _model_speedup(o: dict, workers: int) -> float:
    """W workers on idle cores, each world costing the serial CPU plus Dask's measured CPU."""
    cs = _cs(o)
    return round(cs / ((cs + _dask_cost(o)) / workers), 3)


def _targets(o: dict) -> list[str]:
    """The issue's performance targets against this run's figures (met / missed, both ways of
    counting: wall time under this run's load, and the idle-machine estimate)."""
    per = _cs(o) + _dask_cost(o)  # CPU s per world on a worker, Dask included
    idle_1000 = 1000 * per / 2
    t = o.get("target")
    wall_1000 = 1000 / t["worlds_per_s"] if t and t.get("worlds_per_s") else None
    ok = lambda b: "met" if b else "**missed**"  # noqa: E731
    n1 = o["n_minus_1_medium"]["wall_s"]
    over = max(o[k]["overhead_pct_of_solve"] or 0.0 for k in ("serial", "dask_1", "dask_2", "serial_again"))
    rows = [
        "Targets of issue 14 against this run:",
        "",
        "| target | this run | verdict |",
        "|---|---|---|",
        f"| 1,000 worlds of `small` in <= 600 s on 2 cores | idle estimate {idle_1000:.0f} s"
        + (f"; wall at this run's load {wall_1000:.0f} s" if wall_1000 else "")
        + f" | idle {ok(idle_1000 <= 600)}"
        + (f", wall {ok(wall_1000 <= 600)}" if wall_1000 else "")
        + " |",
        f"| >= 1.7x a serial loop | wall {o['speedup_2_vs_serial']}x with each process's set-up, "
        + (f"{o['speedup_2_vs_serial_steady']}x after it; " if "speedup_2_vs_serial_steady" in o else "")
        + f"idle estimate {o['speedup_2_vs_serial_idle_estimate']}x, on paper {_model_speedup(o, 2)}x | "
        f"with set-up {ok(o['speedup_2_vs_serial'] >= 1.7)}"
        + (f", after set-up {ok(o['speedup_2_vs_serial_steady'] >= 1.7)}" if "speedup_2_vs_serial_steady" in o else "")
        + " |",
        f"| per-world overhead <= 10 % of the solve | at most {over} % | {ok(over <= 10)} |",
        f"| N-1 over the pledging nations, `medium`, <= 180 s | {n1} s | {ok(n1 <= 180)} |",
    ]
    w = o.get("withdrawal_medium_k2")
    if w:
        rows.append(
            f"| `withdrawal --option medium --k 2` (N-1, all pairs, worst-2) <= 300 s | {w['wall_s']} s "
            f"(default search, no --stall) | {ok(w['wall_s'] <= 300)} |"
        )
    return rows


def _write_doc(o: dict) -> None:
    lines = [
        "# Scenario analysis: measured figures",
        "",
        "Written by `make bench` (`benchmarks/bench_analysis.py`); every figure below comes from",
        "one run on this machine, so compare them with each other, not with other runs.",
        f"Machine: {o['machine']['cores']} cores, load average (1/5/15 min) at start "
        f"{_load(o['machine']['load_avg_at_start'])}, at end {_load(o['machine']['load_avg_at_end'])}.",
        "A load average above the number of cores means other work shared the cores, so wall",
        "times are longer than on an idle machine. 'core share' is the CPU a run's processes got",
        "per worker over its wall time; 'idle estimate' is the run's CPU time divided by its",
        "workers - the wall time if each worker had a core of its own.",
        "",
        f"Monte Carlo, option `small`, full planner (MIP gap {100 * o.get('mip_gap', 0.01):g} %), "
        f"the same {o['prefix']} worlds:",
        "",
        "| run | workers | load (1 min) after | wall s | worlds/s | core share | idle estimate s | CPU s/world (evaluation) | Dask CPU s/world | solve s/world | overhead s/world | greedy start s/world | overhead % of solve | worlds at the time limit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, key in (
        ("serial loop", "serial"),
        ("serial loop, default threads", "serial_default_threads"),
        ("Dask LocalCluster", "dask_1"),
        ("Dask LocalCluster", "dask_2"),
        ("serial loop, again", "serial_again"),
        ("serial loop after set-up", "serial_steady"),
        ("Dask LocalCluster after set-up", "dask_2_steady"),
        ("serial loop after set-up, again", "serial_steady_again"),
    ):
        if key not in o:
            continue
        r = o[key]
        lines.append(
            f"| {name} | {r['workers']} | {r['load_avg'][0]:.1f} | {r['wall_s']} | {r['worlds_per_s']} | "
            f"{r['core_share_per_worker']} | {r['idle_estimate_s']} | {r['eval_cpu_s_per_world']} | "
            f"{r['dask_cpu_s_per_world']} | {r['solve_s_mean']} | {r['overhead_s_mean']} | "
            f"{r['start_s_mean']} | {r['overhead_pct_of_solve']} | {r.get('time_limited', '-')} of {r['worlds']} |"
        )
    lines += [
        "",
        f"Speed-up of 2 workers over the serial loop (mean of its two runs): wall "
        f"**{o['speedup_2_vs_serial']}x**, idle estimate **{o['speedup_2_vs_serial_idle_estimate']}x**; "
        f"1 -> 2 workers: wall **{o['scaling_1_to_2']}x**, idle estimate **{o['scaling_1_to_2_idle_estimate']}x**.",
        f"From the measured per-world costs (serial CPU {_cs(o):.3f} s/world, Dask's own CPU "
        f"{_dask_cost(o)} s/world on the largest run): on 2 idle cores 2 workers "
        f"would give **{_model_speedup(o, 2)}x** the serial loop's throughput (an estimate on paper, "
        "not a measurement).",
        "The serial loop runs in one fresh process with the thread settings Dask gives each worker "
        f"({', '.join(f'{k}={v}' for k, v in o['serial']['environ'].items())}), its clock including the "
        "evaluator's set-up as a Dask run's does. 'default threads' is the same loop in the benchmark's own "
        "process, where OpenBLAS runs a thread per core (core share above 1): against it 2 workers give "
        f"**{o['speedup_2_vs_serial_default_threads']}x** in wall time.",
        *(
            [
                "After set-up (each process's evaluator built and one other world solved before the "
                "clock starts, on both sides): 2 workers give "
                f"**{o['speedup_2_vs_serial_steady']}x** the serial loop's throughput in wall time "
                "(mean of its two runs)."
            ]
            if "speedup_2_vs_serial_steady" in o
            else []
        ),
        "Same plans as the serial loop (status and objective of every world): "
        f"1 worker {o['dask_1']['same_results_as_serial']}, 2 workers {o['dask_2']['same_results_as_serial']}.",
        "The per-world overhead (restricting the model, activation, reading the plan) is given "
        "beside the solve; the planner's greedy start (the warm start `coalition plan` also "
        "computes) separately.",
    ]
    if "target" in o:
        t = o["target"]
        lines += [
            "",
            f"All {t['worlds']} worlds on {t['workers']} workers (load after: "
            f"{_load(t['load_avg'])}): wall **{t['wall_s']} s** ({t['worlds_per_s']} worlds/s, "
            f"core share {t['core_share_per_worker']}), idle estimate **{t['idle_estimate_s']} s**; "
            f"{t['time_limited']} worlds hit the per-world limit." + _kept(t),
        ]
    lines += [
        "",
        "Extrapolated on paper for a cluster of processes (per world: the serial loop's CPU "
        "plus Dask's CPU on the worker, measured on the largest run; the scheduler's CPU "
        "per world, measured there too, caps the throughput):",
        "",
        "| workers | worlds/s | seconds for 1,000 worlds |",
        "|---|---|---|",
    ]
    for e in o["extrapolation"]:
        lines.append(f"| {e['workers']} | {e['worlds_per_s']} | {e['seconds_for_1000']} |")
    n1 = o["n_minus_1_medium"]
    lines += [
        "",
        f"N-1 over the {n1['nations']} pledging nations, option `medium` (2 workers, load after "
        f"{_load(n1['load_avg'])}): {n1['wall_s']} s ({n1['solves']} plans solved, "
        f"{n1['shortcuts']} by the exact shortcut)." + _kept(n1),
    ]
    lines += ["", *_targets(o)]
    if "withdrawal_medium_k2" in o:
        w = o["withdrawal_medium_k2"]
        lines += [
            "",
            f"`withdrawal --option medium --k 2` (N-1, all pairs, worst-2): {w['wall_s']} s "
            f"({w['solves']} plans, {w['shortcuts']} shortcuts"
            + (f", {w['start_proven']} proven from a subset's plan" if w.get("start_proven") else "")
            + (f"; {w['rows_not_optimal']} of {w['rows']} rows not proven at the gap" if "rows" in w else "")
            + (f"; worst-2 {', '.join(w['worst'] or [])}" if w.get("worst") else "")
            + (f", {w['worst_status']}" if w.get("worst_status") else "")
            + (f"; load after {_load(w['load_avg'])}" if w.get("load_avg") else "")
            + ")."
            + _kept(w),
        ]
    DOC.write_text("\n".join(lines) + "\n" + _hand_written())


def _kept(part: dict) -> str:
    """The note of a part kept from an earlier run (not run this time)."""
    return f" *(Not run this time: kept from {part['kept_from']}.)*" if part.get("kept_from") else ""


def _hand_written() -> str:
    """The page's hand-written ``## `` sections (their header says so): a run rewrites only
    the measured part above them, never those notes."""
    if not DOC.exists():
        return ""
    parts = DOC.read_text(encoding="utf-8").split("\n## ")[1:]
    return "".join("\n## " + p for p in parts if "hand-written" in p.split("\n", 1)[0])


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
