"""Analysis front door: scenario + option + settings -> a finished run (used by the CLI).

Pure apart from the run folder it writes (records and summary files, no database). Each
function returns the summary dict that is also written as ``summary.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coalition.analysis.evaluate import ANALYSIS_MIP_GAP, Context
from coalition.analysis.montecarlo import summarise
from coalition.analysis.runner import Execution, RunSpec, run_worlds, scenario_digest, write_json_atomic
from coalition.analysis.sampling import Method, enumerate_worlds, sample_worlds
from coalition.errors import InputError, Problem
from coalition.planner.schemas import PlanOptions
from coalition.scenario.schemas import Assumption, Scenario

RELEASABILITY = (
    "aggregate: fill probabilities per line, shortfall and coverage statistics are computed over "
    "every nation's pledges and name no pledge; the per-sample records (records/*.parquet) hold "
    "each nation's drawn participation share and are for the analysis owner only"
)


@dataclass(frozen=True)
class Sampling:
    """Which worlds to draw: ``samples`` by ``method`` from ``seed``, or every world (``exact``)."""

    samples: int
    seed: int = 0
    method: Method = Method.LHS
    exact: bool = False


@dataclass(frozen=True)
class SolveLimits:
    """Per-plan solver limits: seconds for the whole plan and the relative MIP gap."""

    time_limit: float = 30.0
    mip_gap: float = ANALYSIS_MIP_GAP


#: Default of ``WithdrawalSearch.stall_seconds`` (``--stall``): off. A stall of 5 CPU s makes
#: `withdrawal --option medium --k 2` ~3x cheaper, but its plans of the hard worlds were 3.6 %
#: worse than a full search's (docs/analysis-benchmarks.md), which would overstate each
#: withdrawal's damage against a baseline solved in full: a choice for the user, not a default.
STALL_SECONDS: float | None = None


@dataclass(frozen=True)
class WithdrawalSearch:
    """What the nation-withdrawal analysis looks for and its solve budget."""

    k: int = 3
    baseline: str = "nominal"
    pairs: bool = True
    shapley_permutations: int = 20
    seed: int = 0
    max_solves: int = 400
    # a withdrawn set's solve stops after this many CPU seconds without a better plan (status
    # "stalled", its gap reported); None or 0: every solve runs to the gap or the time limit
    stall_seconds: float | None = STALL_SECONDS


@dataclass(frozen=True)
class HedgeSettings:
    """The two-stage hedge: out-of-sample worlds, re-tasking delay (days), relative MIP gap."""

    out_of_sample: int = 100
    delay: float = 30.0
    mip_gap: float = 1e-4


@dataclass(frozen=True)
class BoxSearch:
    """PRIM boxes where ``metric`` falls below ``threshold`` (at most ``max_boxes``)."""

    threshold: float = 80.0
    metric: str = "essential_coverage_pct"
    max_boxes: int = 3


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
    sampling: Sampling,
    quick: bool = False,
    assumptions: Sequence[Assumption] = (),
    assumption_texts: Sequence[str] = (),
    solve: SolveLimits | None = None,
    execution: Execution | None = None,
) -> dict[str, Any]:
    """Monte Carlo over sampled worlds; ``execution.folder`` is the run folder (resumable)."""
    limits = solve or SolveLimits()
    ex = execution or Execution()
    samples, seed, method, exact = sampling.samples, sampling.seed, sampling.method, sampling.exact
    time_limit, mip_gap, out = limits.time_limit, limits.mip_gap, ex.folder
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
        spec=spec if out else None,
        execution=ex,
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
    search: WithdrawalSearch | None = None,
    assumptions: Sequence[Assumption] = (),
    assumption_texts: Sequence[str] = (),
    solve: SolveLimits | None = None,
    execution: Execution | None = None,
) -> dict[str, Any]:
    """Nation withdrawal; of ``execution`` only folder, scheduler, workers, client and progress apply."""
    from coalition.analysis.evaluate import PlannerEvaluator, all_hold_world, nominal_world
    from coalition.analysis.runner import SetSolver
    from coalition.analysis.withdrawal import SearchBudget, withdrawal_analysis

    sr = search or WithdrawalSearch()
    limits = solve or SolveLimits()
    ex = execution or Execution()
    k, baseline, seed, max_solves = sr.k, sr.baseline, sr.seed, sr.max_solves
    time_limit, mip_gap, out = limits.time_limit, limits.mip_gap, ex.folder
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
    with SetSolver(
        ctx, world, scheduler=ex.scheduler, workers=ex.workers, client=ex.client, progress=ex.progress
    ) as solver:
        result = withdrawal_analysis(
            evaluator,
            world,
            solver,
            k=k,
            pairs=sr.pairs,
            shapley_permutations=sr.shapley_permutations,
            seed=seed,
            budget=SearchBudget(max_solves=max_solves, stall_seconds=sr.stall_seconds),
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
    sampling: Sampling | None = None,
    settings: HedgeSettings | None = None,
    assumptions: Sequence[Assumption] = (),
    assumption_texts: Sequence[str] = (),
    out: Path | None = None,
) -> dict[str, Any]:
    """Two-stage hedge over ``sampling`` (default 50 LHS worlds)."""
    from coalition.analysis.evaluate import nominal_world
    from coalition.analysis.hedge import hedge as solve

    sm = sampling or Sampling(samples=50)
    hs = settings or HedgeSettings()
    samples, seed, method, exact = sm.samples, sm.seed, sm.method, sm.exact
    out_of_sample, delay, mip_gap = hs.out_of_sample, hs.delay, hs.mip_gap

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
    boxes: BoxSearch | None = None,
    sampling: Sampling | None = None,
    quick: bool = True,
    execution: Execution | None = None,
) -> dict[str, Any]:
    """PRIM boxes over the records of a run folder, or of a fresh Monte Carlo run.

    ``sampling`` (default 500 LHS worlds; ``exact`` is not used) and ``execution`` apply to a
    fresh run only.
    """
    from coalition.analysis.discover import discover as prim_boxes
    from coalition.analysis.runner import read_records

    bx = boxes or BoxSearch()
    sm = sampling or Sampling(samples=500)
    threshold, metric, max_boxes = bx.threshold, bx.metric, bx.max_boxes
    samples, seed, method = sm.samples, sm.seed, sm.method

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
        ex = replace(execution, folder=None) if execution else None  # discover keeps no run folder
        rows = run_worlds(ctx, worlds, quick=quick, execution=ex)
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
