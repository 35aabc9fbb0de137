"""Scenario-analysis benchmark: Monte Carlo throughput on Dask against a serial loop, model
reuse overhead, 1 -> 2 worker scaling, N-1 on the medium option.

Measured in one run, on the same worlds (Latin hypercube, seed 1, embedded paris-2026, option
``small``, full planner with the analysis defaults: MIP gap 1 %, 30 s per world):

* ``serial``: a plain loop over the first ``M`` worlds in this process (one evaluator);
* ``dask-1`` / ``dask-2``: the same ``M`` worlds on a LocalCluster of 1 and 2 worker processes;
* ``target``: all ``N`` worlds on the default LocalCluster (the issue's 1,000-sample run);
* overhead per world (restricting the model, activation, reading the plan) against the solve,
  and the planner's greedy start separately;
* Dask's own cost per task: wall time x workers minus the time spent evaluating, per task,
  used to extrapolate throughput to a larger cluster on paper;
* N-1 over every pledging nation of the embedded scenario, option ``medium`` (2 workers).

Sizes: ``COALITION_BENCH_MC_SAMPLES`` (N, default 1000), ``COALITION_BENCH_MC_PREFIX`` (M,
default 40). Writes ``benchmarks/results/analysis.json`` and ``docs/analysis-benchmarks.md``.
Absolute times drift on a shared machine; compare the figures of one run with each other.
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
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    return Client(cluster), cluster


def _timed_run(ctx, worlds, **kw):
    from coalition.analysis.runner import run_worlds

    t0 = time.perf_counter()
    rows = run_worlds(ctx, worlds, quick=False, **kw)
    return time.perf_counter() - t0, rows


def _stats(wall: float, rows: list[dict], workers: int) -> dict:
    n = len(rows)
    solve = sum(r["solve_seconds"] for r in rows)
    over = sum(r["overhead_seconds"] for r in rows)
    start = sum(r["start_seconds"] for r in rows)
    busy = solve + over + start
    return {
        "worlds": n, "workers": workers, "wall_s": round(wall, 2),
        "worlds_per_s": round(n / wall, 4) if wall else None,
        "solve_s_mean": round(solve / n, 4), "overhead_s_mean": round(over / n, 4),
        "start_s_mean": round(start / n, 4),
        "overhead_pct_of_solve": round(100 * over / solve, 2) if solve else None,
        "overhead_with_start_pct_of_solve": round(100 * (over + start) / solve, 2) if solve else None,
        "time_limited": sum(1 for r in rows if r["status"] == "time-limit"),
        # Dask's own cost: wall x workers - time inside the evaluations, per world
        "dispatch_s_per_world": round(max(0.0, wall * workers - busy) / n, 4),
    }


def run() -> dict:
    from coalition.analysis.evaluate import Context
    from coalition.analysis.runner import machine_workers
    from coalition.analysis.sampling import Method, sample_worlds
    from coalition.analysis.service import withdrawal
    from coalition.planner.schemas import PlanOptions
    from coalition.scenario.service import load_scenario

    n_all = int(os.environ.get("COALITION_BENCH_MC_SAMPLES", "1000"))
    m = int(os.environ.get("COALITION_BENCH_MC_PREFIX", "40"))
    sc = load_scenario()
    ctx = Context(sc, "small", options=PlanOptions(time_limit=30.0, mip_rel_gap=1e-2, threads=1))
    worlds = sample_worlds(ctx.uncertainty, n_all, Method.LHS, seed=1)
    prefix = worlds[:m]
    out: dict = {"machine": {"cores": machine_workers(), "python": platform.python_version(),
                             "load_avg_at_start": os.getloadavg()},
                 "samples": n_all, "prefix": m}

    wall, rows = _timed_run(ctx, prefix, workers=0)
    out["serial"] = _stats(wall, rows, 1)
    print("serial", out["serial"], flush=True)
    for n in (1, 2):
        client, cluster = _client(n)
        try:
            wall, rows_n = _timed_run(ctx, prefix, client=client, batch=2)
        finally:
            client.close()
            cluster.close()
        out[f"dask_{n}"] = _stats(wall, rows_n, n)
        print(f"dask-{n}", out[f"dask_{n}"], flush=True)
        same = [r["essential_coverage_pct"] for r in rows_n] == [r["essential_coverage_pct"] for r in rows]
        out[f"dask_{n}"]["same_results_as_serial"] = same
    out["speedup_2_vs_serial"] = round(out["serial"]["wall_s"] / out["dask_2"]["wall_s"], 3)
    out["scaling_1_to_2"] = round(out["dask_1"]["wall_s"] / out["dask_2"]["wall_s"], 3)
    if n_all > m:
        client, cluster = _client(machine_workers())
        try:
            wall, rows_all = _timed_run(ctx, worlds, client=client, batch=4)
        finally:
            client.close()
            cluster.close()
        out["target"] = _stats(wall, rows_all, machine_workers())
        print("target", out["target"], flush=True)
    # paper extrapolation: W workers of this speed, dispatch cost measured on dask-2
    per = out["dask_2"]["solve_s_mean"] + out["dask_2"]["overhead_s_mean"] + out["dask_2"]["start_s_mean"]
    disp = out["dask_2"]["dispatch_s_per_world"]
    out["extrapolation"] = [
        {"workers": w, "worlds_per_s": round(w / (per + disp), 3),
         "seconds_for_1000": round(1000 * (per + disp) / w, 1)} for w in (2, 8, 32, 128)]
    t0 = time.perf_counter()
    res = withdrawal(sc, "medium", k=1, pairs=False, shapley_permutations=0, workers=2)
    out["n_minus_1_medium"] = {"wall_s": round(time.perf_counter() - t0, 2),
                               "nations": len(res["nations"]), "solves": res["solves"],
                               "shortcuts": res["shortcuts"]}
    print("N-1 medium", out["n_minus_1_medium"], flush=True)
    if os.environ.get("COALITION_BENCH_WITHDRAWAL_K2"):
        t0 = time.perf_counter()
        res = withdrawal(sc, "medium", k=2, shapley_permutations=0, workers=2)
        out["withdrawal_medium_k2"] = {"wall_s": round(time.perf_counter() - t0, 2),
                                       "solves": res["solves"], "shortcuts": res["shortcuts"],
                                       "worst": res["worst_k"].get("nations")}
    out["machine"]["load_avg_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    _write_doc(out)
    return out


def _write_doc(o: dict) -> None:
    s, d1, d2 = o["serial"], o["dask_1"], o["dask_2"]
    lines = [
        "# Scenario analysis: measured figures",
        "",
        "Written by `make bench` (`benchmarks/bench_analysis.py`); every figure below comes from",
        "one run on this machine, so compare them with each other, not with other runs.",
        f"Machine: {o['machine']['cores']} cores, load average at start {o['machine']['load_avg_at_start']}"
        + (f", at end {o['machine']['load_avg_at_end']}" if "load_avg_at_end" in o["machine"] else "") + ".",
        "A load average above the number of cores means other work shared the cores: the",
        "per-world solve time then grows with the number of workers (each gets less than a core)",
        "and 'dispatch s/world' (wall x workers - time inside evaluations) includes the time the",
        "workers waited for a core, not only Dask's own cost.",
        "",
        f"Monte Carlo, option `small`, full planner (MIP gap 1 %), the same {o['prefix']} worlds:",
        "",
        "| run | workers | wall s | worlds/s | solve s/world | overhead s/world | greedy start s/world | overhead % of solve | dispatch s/world |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in (("serial loop", s), ("Dask LocalCluster", d1), ("Dask LocalCluster", d2)):
        lines.append(f"| {name} | {r['workers']} | {r['wall_s']} | {r['worlds_per_s']} | {r['solve_s_mean']} | "
                     f"{r['overhead_s_mean']} | {r['start_s_mean']} | {r['overhead_pct_of_solve']} | {r['dispatch_s_per_world']} |")
    lines += ["", f"Speed-up of 2 workers over the serial loop: **{o['speedup_2_vs_serial']}x**; "
              f"1 -> 2 workers: **{o['scaling_1_to_2']}x**."]
    if "target" in o:
        t = o["target"]
        lines += ["", f"All {t['worlds']} worlds on {t['workers']} workers: {t['wall_s']} s "
                  f"({t['worlds_per_s']} worlds/s, {t['time_limited']} hit the per-world limit)."]
    lines += ["", "Extrapolated on paper (per-world cost and Dask dispatch cost measured above):", "",
              "| workers | worlds/s | seconds for 1,000 worlds |", "|---|---|---|"]
    for e in o["extrapolation"]:
        lines.append(f"| {e['workers']} | {e['worlds_per_s']} | {e['seconds_for_1000']} |")
    n1 = o["n_minus_1_medium"]
    lines += ["", f"N-1 over the {n1['nations']} pledging nations, option `medium` (2 workers): "
              f"{n1['wall_s']} s ({n1['solves']} plans solved, {n1['shortcuts']} by the exact shortcut)."]
    if "withdrawal_medium_k2" in o:
        w = o["withdrawal_medium_k2"]
        lines += ["", f"`withdrawal --option medium --k 2` (N-1, all pairs, worst-2): {w['wall_s']} s "
                  f"({w['solves']} plans, {w['shortcuts']} shortcuts)."]
    DOC.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
