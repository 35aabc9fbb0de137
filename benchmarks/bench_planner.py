"""Planner benchmark: generator instances S, M, L (sizes fixed by the planner issue).

For each instance, in a fresh subprocess (so peak memory is that run's own): model build time
(tables + matrices), solve time, objective, best bound, relative gap, peak RSS, and the greedy
baseline's objective and shortfall measured in the same run. Writes
``benchmarks/results/planner.json`` and the table in ``docs/planner/benchmarks.md``.

Targets (2-core machine): S proven optimal < 5 s; M within 1% of the bound <= 60 s on five
fresh seeds; full L (no candidate limit) within 5% <= 600 s; peak memory <= 4 GB; never worse
than greedy; zero checker violations. Every gap is against a bound of the FULL model (its
provenance is recorded); shortfall is recomputed from the unit lines by the independent checker.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("results") / "planner.json"
DOC = ROOT / "docs" / "planner" / "benchmarks.md"

INSTANCES = (
    # size, seed, time limit (s), target gap, target seconds, candidates per line (None = all)
    ("S", 1, 60.0, 1e-4, 5.0, None),
    # five fresh seeds, not used while developing the solver
    *(("M", seed, 60.0, 0.01, 60.0, None) for seed in (11, 12, 13, 14, 15)),
    ("L", 1, 600.0, 0.05, 600.0, None),  # the full model: no candidate limit
)


def _one(size: str, seed: int, limit: float, k: int | None = None) -> dict[str, object]:
    """Run one instance in this process (called in a subprocess) and return its figures."""
    import resource

    from coalition.planner.generator import generate
    from coalition.planner.schemas import PlanOptions
    from coalition.planner.service import plan_option

    t0 = time.perf_counter()
    sc = generate(size, seed)
    gen_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    opts = PlanOptions(time_limit=limit, seed=0, candidates_per_line=k)
    outcome, _ = plan_option(sc, "gen", options=opts, explain=False)
    total = time.perf_counter() - t1
    p = outcome.plan
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # the independent checker (not timed as part of the plan)
    from coalition.planner.check import check_plan, coverage_shortfall

    report = check_plan(sc, p)
    reqs = {r.id: r for r in sc.requirements_of("gen")}
    _, rec_short, _ = coverage_shortfall(p, reqs)
    return {
        "size": size,
        "seed": seed,
        "nations": len(sc.nations),
        "units": sum(x.units for x in sc.pledges),
        "pledges": len(sc.pledges),
        "hubs": len(sc.hubs),
        "lines": len(sc.requirements),
        "weeks": sc.horizon_days // 7,
        "variables": p.solve.variables,
        "constraints": p.solve.constraints,
        "nonzeros": p.solve.nonzeros,
        "generate_s": round(gen_s, 3),
        "build_s": p.solve.build_seconds,
        "solve_s": p.solve.solve_seconds,
        "total_s": round(total, 2),
        "status": p.solve.status.value,
        "objective": p.solve.objective,
        "bound": p.solve.bound,
        "gap": p.solve.gap,
        "bound_provenance": p.solve.bound_provenance,
        "phase_out_of_time": p.solve.phase_out_of_time,
        "checker_violations": len(report.violations),
        "checker_rules": report.by_rule(),
        "shortfall_unit_days": p.kpis.shortfall_unit_days,
        "shortfall_recomputed_unit_days": rec_short,
        "coverage_pct": p.kpis.coverage_pct,
        "greedy_objective": p.baseline.objective if p.baseline else None,
        "greedy_shortfall_unit_days": p.baseline.shortfall_unit_days if p.baseline else None,
        "greedy_coverage_pct": p.baseline.coverage_pct if p.baseline else None,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "load_1min": round(os.getloadavg()[0], 2),
        "solver_message": p.solve.message,
        "size_note": next((w for w in p.warnings if "max_columns" in w), None),
        "time_limit_s": limit,
        "candidates_per_line": k,
    }


def _run_subprocess(size: str, seed: int, limit: float, k: int | None) -> dict[str, object]:
    code = (
        "import json,sys; from benchmarks.bench_planner import _one; "
        f"print('RESULT'+json.dumps(_one({size!r}, {seed}, {limit}, {k!r})))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=limit * 3 + 600)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])
    return {"size": size, "seed": seed, "error": (proc.stderr or proc.stdout)[-2000:]}


def _verdicts(r: dict[str, object], target_gap: float, target_s: float) -> dict[str, object]:
    if "error" in r:
        return {"ok": False}
    gap = r["gap"] if r["gap"] is not None else 1.0
    short, gshort = r["shortfall_unit_days"], r["greedy_shortfall_unit_days"]
    return {
        "gap_target": target_gap,
        "time_target_s": target_s,
        "gap_met": gap <= target_gap + 1e-12,
        # the whole plan (build + greedy + solve + finishing) must end within the limit
        "time_met": r["total_s"] <= 1.02 * target_s,  # the issue: at most the limit + 2%
        "memory_met": r["peak_rss_mb"] <= 4096,
        "checker_met": r.get("checker_violations", 1) == 0,
        "not_worse_than_greedy_met": r["objective"] <= r["greedy_objective"] + 1e-6,
        "shortfall_not_worse_than_greedy": short <= gshort + 1e-6,
        "shortfall_strictly_better": short < gshort - 1e-6,
    }


def _markdown(rows: list[dict[str, object]], meta: dict[str, object]) -> str:
    head = (
        "| size | seed | nations (incl. host UKR) / units / hubs / weeks | vars × rows (nnz) | build s | solve s | "
        "whole plan s | status | objective | bound (provenance) | valid gap | greedy objective | "
        "shortfall u-days recomputed (greedy) | checker | peak MB | load | targets |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    body = ""
    for r in rows:
        if "error" in r:
            body += f"| {r['size']} | {r.get('seed', '')} | error: {str(r['error'])[:80]} ||||||||||||||\n"
            continue
        v = r["verdicts"]
        marks = ", ".join(
            f"{k.replace('_met', '').replace('_', ' ')} {'met' if val else 'MISSED'}"
            for k, val in v.items() if k.endswith("_met")
        )
        marks += "; shortfall " + ("better" if v["shortfall_strictly_better"] else
                                   "equal" if v["shortfall_not_worse_than_greedy"] else "WORSE")
        gap = "—" if r["gap"] is None else f"{100 * r['gap']:.3f}%"
        bound = ("— (none" + (f"; {r['phase_out_of_time']} phase out of time" if r.get("phase_out_of_time") else "")
                 + ")") if r["bound"] is None else f"{r['bound']:,.0f} ({r['bound_provenance']})"
        checker = ("0 violations" if r.get("checker_violations") == 0
                   else f"{r.get('checker_violations')} violations: {r.get('checker_rules')}")
        body += (
            f"| {r['size']} | {r['seed']} | {r['nations']} / {r['units']} / {r['hubs']} / {r['weeks']} | "
            f"{r['variables']:,} × {r['constraints']:,} ({r['nonzeros']:,}) | {r['build_s']:.2f} | "
            f"{r['solve_s']:.1f} | {r['total_s']:.1f} | {r['status']} | {r['objective']:,.0f} | {bound} | {gap} | "
            f"{r['greedy_objective']:,.0f} | {r['shortfall_recomputed_unit_days']:,.0f} "
            f"({r['greedy_shortfall_unit_days']:,.0f}) | {checker} | {r['peak_rss_mb']:,.0f} | "
            f"{r.get('load_1min', '—')} | {marks} |\n"
        )
    return (
        "# Planner benchmark\n\n"
        f"Measured {meta['when']} on {meta['machine']} ({meta['cpus']} CPUs, shared with other "
        "work), `python -m benchmarks bench_planner`. Instances from `coalition scenario generate` "
        "(seed 1); one subprocess per instance; peak memory = that process's max RSS. The greedy "
        "baseline is measured in the same run on the same model. Objective units: see "
        "[model.md](model.md) (shortfall unit-days x 1000 x priority dominates).\n\n"
        + head + body
        + "\nNotes. Every gap is against a bound of the FULL model: `full-lp` (its LP relaxation, "
        "cohesion links and still-withheld capacity rows left out, which only relaxes it, with "
        "the column upper bounds the capacity rows imply for integer plans, see "
        "[solver.md](solver.md#implied-column-bounds)) or "
        "`full-mip-dual` (HiGHS's dual bound of the full MIP); `none` means no such bound was "
        "proven in the time, and then no gap is claimed. `full-lagrangian`: column generation "
        "over chains on the full column set (L; then a subgradient ascent with every capacity "
        "row relaxed) or the restricted master (M, "
        "[solver.md](solver.md#restricted-master-and-rins-large-models-m)) stopped by the time, "
        "its Lagrangian bound (see "
        "[model.md](model.md#column-generation-the-bound-of-a-model-too-large-to-build)). No "
        "restricted or trimmed model's bound is used (L runs on the full eligible set, no "
        "candidate limit). The model is day-exact (tour length with relief in place, recovery, "
        "hub personnel and daily corridor loads including returns; see [model.md](model.md)). "
        "L (about 1.77 million columns on the full eligible set) is over "
        "`PlanOptions.max_columns` (500,000): its bound comes from column generation over ALL "
        "its columns, and its plans (and its greedy baseline) are made on a restricted model of "
        "at most 150,000 of them (the chain master's LP support, the best-priced columns, the "
        "ascent's chains, each line's earliest-arriving pledges). *shortfall recomputed* is the "
        "checker's recount from the "
        "unit lines; *checker* is `coalition plan check` on the plan. *whole plan s* is the wall "
        "time of `plan_option` (tables, model, greedy baseline, solve, interpretation, the "
        "check), which the time target applies to. *load* is the 1-minute load average of the "
        "2-core machine when the instance finished (other work ran at the same time).\n"
    )


def _other_sections() -> str:
    """The page's later ``## `` sections, written by other benchmarks (e.g. bench_precedence):
    this run rewrites only its own table and notes, never their figures."""
    if not DOC.exists():
        return ""
    parts = DOC.read_text(encoding="utf-8").split("\n## ")
    return "".join("\n## " + p for p in parts[1:])


def run() -> dict[str, object]:
    rows = []
    for size, seed, limit, gap_t, time_t, k in INSTANCES:
        if os.environ.get("BENCH_PLANNER_SIZES") and size not in os.environ["BENCH_PLANNER_SIZES"]:
            continue
        print(f"-- planner {size} (time limit {limit:g} s) ...", flush=True)
        if os.environ.get("BENCH_PLANNER_SEEDS") and str(seed) not in os.environ["BENCH_PLANNER_SEEDS"].split(","):
            continue
        r = _run_subprocess(size, seed, limit, k)
        if "error" not in r:
            r["verdicts"] = _verdicts(r, gap_t, time_t)
            print(
                f"   {size}: {r['status']} obj {r['objective']:,.0f} bound {r['bound']} gap "
                f"{r['gap']} solve {r['solve_s']} s build {r['build_s']} s peak {r['peak_rss_mb']} MB; "
                f"greedy obj {r['greedy_objective']:,.0f}; shortfall {r['shortfall_unit_days']} vs "
                f"greedy {r['greedy_shortfall_unit_days']}", flush=True,
            )
        else:
            print(f"   {size}: ERROR {r['error'][-500:]}", flush=True)
        rows.append(r)
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    # instances not run this time (BENCH_PLANNER_SIZES / _SEEDS) keep their last figures
    if RESULTS.exists() and (os.environ.get("BENCH_PLANNER_SIZES") or os.environ.get("BENCH_PLANNER_SEEDS")):
        done = {(r.get("size"), r.get("seed")) for r in rows}
        order = {(size, seed): i for i, (size, seed, *_rest) in enumerate(INSTANCES)}
        old = [r for r in json.loads(RESULTS.read_text()).get("instances", [])
               if (r.get("size"), r.get("seed")) not in done and (r.get("size"), r.get("seed")) in order
               and "checker_violations" in r]
        rows = sorted(rows + old, key=lambda r: order.get((r.get("size"), r.get("seed")), 99))
    result = {"benchmark": "planner", "meta": meta, "instances": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(_markdown(rows, meta) + _other_sections())
    return result


def rerender() -> None:
    """Recompute the verdicts and the markdown table from the saved results (no re-run)."""
    result = json.loads(RESULTS.read_text())
    targets = {size: (gap_t, time_t) for size, _, _, gap_t, time_t, _ in INSTANCES}  # per size
    for r in result["instances"]:
        if "error" not in r:
            r["verdicts"] = _verdicts(r, *targets[r["size"]])
    RESULTS.write_text(json.dumps(result, indent=2))
    DOC.write_text(_markdown(result["instances"], result["meta"]) + _other_sections())


if __name__ == "__main__":
    run()
