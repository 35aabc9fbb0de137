"""Analysis front door: scenario + option + settings -> a finished run (used by the CLI).

Pure apart from the run folder it writes (records and summary files, no database). Each
function returns the summary dict that is also written as ``summary.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coalition.analysis.evaluate import ANALYSIS_MIP_GAP, Context
from coalition.analysis.montecarlo import summarise
from coalition.analysis.runner import ProgressCb, RunSpec, run_worlds, scenario_digest, write_json_atomic
from coalition.analysis.sampling import Method, enumerate_worlds, sample_worlds
from coalition.errors import InputError, Problem
from coalition.planner.schemas import PlanOptions
from coalition.scenario.schemas import Assumption, Scenario

RELEASABILITY = (
    "aggregate: fill probabilities per line, shortfall and coverage statistics are computed over "
    "every nation's pledges and name no pledge; the per-sample records (records/*.parquet) hold "
    "each nation's drawn participation share and are for the analysis owner only"
)


def analysis_warnings(ctx: Context) -> list[str]:
    out = []
    if ctx.scenario.illustrative:
        out.append("the scenario is ILLUSTRATIVE, not an official plan")
    if ctx.c_day_note and ctx.uncertainty.condition("ceasefire") is None:
        out.append(ctx.c_day_note)
    u = ctx.scenario.uncertainty
    if u is None:
        out.append("the scenario has no uncertainty: section: every condition keeps its nominal value")
    elif u.illustrative:
        out.append("the uncertainty set is ILLUSTRATIVE: its probabilities are choices, not estimates")
    unverified = [c.condition for c in (u.conditions if u else ()) if c.evidence in ("I", "U")]
    if unverified:
        out.append("figures depend on unverified probabilities (evidence I/U): " + ", ".join(unverified))
    return out


def montecarlo(
    scenario: Scenario,
    option_id: str,
    *,
    samples: int,
    seed: int = 0,
    method: Method = Method.LHS,
    quick: bool = False,
    exact: bool = False,
    assumptions: Sequence[Assumption] = (),
    assumption_texts: Sequence[str] = (),
    time_limit: float = 30.0,
    mip_gap: float = ANALYSIS_MIP_GAP,
    out: Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
    progress: ProgressCb | None = None,
    batch: int | None = None,
    stop_after: int | None = None,
) -> dict[str, Any]:
    if samples < 1 and not exact:
        raise InputError([Problem("give at least one sample", field="--samples")])
    options = PlanOptions(time_limit=time_limit, threads=1, mip_rel_gap=mip_gap)
    ctx = Context(scenario, option_id, assumptions=assumptions, options=options)
    worlds = list(enumerate_worlds(ctx.uncertainty)) if exact else sample_worlds(ctx.uncertainty, samples, method, seed)
    spec = RunSpec(
        scenario_id=scenario.id,
        scenario_digest=scenario_digest(ctx),
        option=option_id,
        samples=len(worlds),
        seed=seed,
        method="exact" if exact else method.value,
        quick=quick,
        exact=exact,
        assumptions=tuple(assumption_texts),
        time_limit=time_limit,
        mip_rel_gap=options.mip_rel_gap,
    )
    rows = run_worlds(
        ctx,
        worlds,
        quick=quick,
        folder=out,
        spec=spec if out else None,
        scheduler=scheduler,
        workers=workers,
        client=client,
        batch=batch,
        progress=progress,
        stop_after=stop_after,
    )
    complete = len(rows) == len(worlds)
    meta = {
        "kind": "montecarlo",
        "scenario": scenario.id,
        "illustrative": scenario.illustrative,
        "uncertainty_illustrative": bool(scenario.uncertainty and scenario.uncertainty.illustrative),
        "option": option_id,
        "method": spec.method,
        "seed": seed,
        "evaluation": "quick (gap picture)" if quick else "planner (MIP, model reused per worker)",
        "shortfall_unit": "units short at D+90" if quick else "unit-days over the horizon",
        "nominal_c_day": ctx.nominal_c_day.isoformat(),
        "assumptions": list(assumption_texts),
        "complete": complete,
        "warnings": analysis_warnings(ctx),
        "releasability": RELEASABILITY,
        "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    summary = summarise(rows, ctx, exact=exact, meta=meta)
    if out is not None and complete:
        write_json_atomic(out / "summary.json", summary)
    return summary


WITHDRAWAL_RELEASABILITY = (
    "rows name the withdrawn nations and, under fill_in, the nations whose units would replace "
    "them on a line: a viewer nation may see every row's aggregate figures (nations, "
    "delta_essential_coverage_pct, lines_broken) but only its own fill_in entries; the others "
    "are pledge detail of another nation"
)


def withdrawal(
    scenario: Scenario,
    option_id: str,
    *,
    k: int = 3,
    baseline: str = "nominal",
    pairs: bool = True,
    shapley_permutations: int = 20,
    seed: int = 0,
    assumptions: Sequence[Assumption] = (),
    assumption_texts: Sequence[str] = (),
    time_limit: float = 30.0,
    mip_gap: float = ANALYSIS_MIP_GAP,
    max_solves: int = 400,
    out: Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
    progress: ProgressCb | None = None,
) -> dict[str, Any]:
    from coalition.analysis.evaluate import PlannerEvaluator, all_hold_world, nominal_world
    from coalition.analysis.runner import SetSolver
    from coalition.analysis.withdrawal import SearchBudget, withdrawal_analysis

    if k < 1:
        raise InputError([Problem("k must be at least 1", field="--k")])
    if baseline not in ("nominal", "all-hold"):
        raise InputError(
            [Problem(f"unknown baseline {baseline!r}", field="--baseline", hint="valid: nominal, all-hold")]
        )
    options = PlanOptions(time_limit=time_limit, threads=1, mip_rel_gap=mip_gap)
    ctx = Context(scenario, option_id, assumptions=assumptions, options=options)
    world = nominal_world() if baseline == "nominal" else all_hold_world(ctx.uncertainty)
    evaluator = PlannerEvaluator(ctx)
    with SetSolver(ctx, world, scheduler=scheduler, workers=workers, client=client, progress=progress) as solver:
        result = withdrawal_analysis(
            evaluator,
            world,
            solver,
            k=k,
            pairs=pairs,
            shapley_permutations=shapley_permutations,
            seed=seed,
            budget=SearchBudget(max_solves=max_solves),
        )
    summary = {
        "version": 1,
        "kind": "withdrawal",
        "scenario": scenario.id,
        "illustrative": scenario.illustrative,
        "option": option_id,
        "baseline_world": baseline,
        "assumptions": list(assumption_texts),
        "k": k,
        "mip_gap": mip_gap,
        **result,
        "warnings": analysis_warnings(ctx)
        if baseline == "all-hold"
        else (
            (["the scenario is ILLUSTRATIVE, not an official plan"] if scenario.illustrative else [])
            + ([ctx.c_day_note] if ctx.c_day_note else [])
        ),
        "releasability": WITHDRAWAL_RELEASABILITY,
        "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / "summary.json", summary)
    return summary


def hedge(
    scenario: Scenario,
    option_id: str,
    *,
    samples: int = 50,
    seed: int = 0,
    method: Method = Method.LHS,
    exact: bool = False,
    out_of_sample: int = 100,
    delay: float = 30.0,
    assumptions: Sequence[Assumption] = (),
    assumption_texts: Sequence[str] = (),
    mip_gap: float = 1e-4,
    out: Path | None = None,
) -> dict[str, Any]:
    from coalition.analysis.evaluate import nominal_world
    from coalition.analysis.hedge import hedge as solve

    if samples < 1 and not exact:
        raise InputError([Problem("give at least one sample", field="--samples")])
    if delay < 0:
        raise InputError([Problem("the re-tasking delay must be 0 or more days", field="--delay")])
    options = PlanOptions(threads=1, mip_rel_gap=mip_gap)
    ctx = Context(scenario, option_id, assumptions=assumptions, options=options)
    worlds = list(enumerate_worlds(ctx.uncertainty)) if exact else sample_worlds(ctx.uncertainty, samples, method, seed)
    oos = [] if exact else sample_worlds(ctx.uncertainty, out_of_sample, Method.MC, seed + 1_000_003)
    result = solve(ctx, worlds, out_of_sample=oos, nominal=nominal_world(), delay=delay, options=options, exact=exact)
    summary = {
        "version": 1,
        "kind": "hedge",
        "scenario": scenario.id,
        "illustrative": scenario.illustrative,
        "option": option_id,
        "method": "exact" if exact else method.value,
        "seed": seed,
        "assumptions": list(assumption_texts),
        "mip_gap": mip_gap,
        **result,
        "warnings": analysis_warnings(ctx),
        "releasability": (
            "aggregate: first_wave and every cost figure; first_wave_by_nation "
            "names each nation's committed pledges (each nation sees its own rows)"
        ),
        "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / "summary.json", summary)
    return summary


def discover(
    scenario: Scenario | None,
    option_id: str | None,
    *,
    run: Path | None = None,
    threshold: float = 80.0,
    metric: str = "essential_coverage_pct",
    samples: int = 500,
    seed: int = 0,
    method: Method = Method.LHS,
    quick: bool = True,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressCb | None = None,
    max_boxes: int = 3,
) -> dict[str, Any]:
    """PRIM boxes over the records of a run folder, or of a fresh Monte Carlo run."""
    from coalition.analysis.discover import discover as prim_boxes
    from coalition.analysis.runner import read_records

    if metric not in ("essential_coverage_pct", "coverage_pct"):
        raise InputError(
            [
                Problem(
                    f"unknown metric {metric!r}", field="--metric", hint="valid: essential_coverage_pct, coverage_pct"
                )
            ]
        )
    if run is not None:
        if not (run / "spec.json").is_file():
            raise InputError(
                [
                    Problem(
                        "not a run folder (no spec.json)",
                        file=str(run),
                        field="--run",
                        hint="give the --out folder of `coalition analyse montecarlo`",
                    )
                ]
            )
        rows = read_records(run)
        source: dict[str, object] = {"run": str(run)}
    else:
        assert scenario is not None and option_id is not None
        options = PlanOptions(threads=1, mip_rel_gap=ANALYSIS_MIP_GAP, time_limit=30.0)
        ctx = Context(scenario, option_id, options=options)
        worlds = sample_worlds(ctx.uncertainty, samples, method, seed)
        rows = run_worlds(ctx, worlds, quick=quick, workers=workers, scheduler=scheduler, progress=progress)
        source = {
            "scenario": scenario.id,
            "option": option_id,
            "samples": samples,
            "method": method.value,
            "seed": seed,
            "quick": quick,
        }
    result = prim_boxes(rows, threshold=threshold, metric=metric, max_boxes=max_boxes)
    return {
        "version": 1,
        "kind": "discover",
        **source,
        **result,
        "method_note": "PRIM (Friedman & Fisher 1999), own implementation: docs/analysis.md",
        "releasability": "aggregate: boxes are stated over conditions and participation "
        "shares of the uncertainty section, not over pledges",
    }
