"""The planning pipeline (pure): tables -> model -> greedy start -> solver -> plan.

Takes typed values (a scenario, the activation picture, options) and returns a typed
:class:`~coalition.planner.schemas.Plan`; never touches a database or prints. The CLI and the
benchmarks both call :func:`make_plan`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from coalition.planner.explain import confirm_by_relaxation, explain_assignments, explain_gaps
from coalition.planner.greedy import greedy_values, is_feasible, objective_of
from coalition.planner.model import Model, build_model
from coalition.planner.report import interpret
from coalition.planner.schemas import (
    BaselineSummary,
    Plan,
    PlanOptions,
    SolveResult,
    SolveStatus,
    SolveSummary,
)
from coalition.planner.solver import ProgressFn, solve_highs
from coalition.planner.tables import build_tables
from coalition.scenario.schemas import Scenario

# Re-solving the LP once per binding family is cheap on small models only.
CONFIRM_MAX_COLUMNS = 50_000

# Wall-clock budget. The solver gets the time limit minus what building took and a reserve for
# the finishing steps: interpreting the plan (timed on the greedy plan; 2x kept back) and, when
# asked for, the explanations. Measured on the generator's M instance (75k columns):
# explain_gaps 1.45 s + explain_assignments 0.07 s against 0.03 s for one interpret, so the
# explanation reserve scales with the model (2.5e-5 s per column, M: 1.9 s) rather than with
# the interpret time. Plus 2% of the limit (at least 0.05 s) for noise on a shared machine.
# confirm_by_relaxation (optional evidence) only uses the time that is left.
MIN_SOLVER_SECONDS = 0.01
EXPLAIN_SECONDS_PER_COLUMN = 2.5e-5


def finishing_reserve(interpret_s: float, n_cols: int, time_limit: float, explain: bool) -> float:
    """Seconds kept back from the solver for the steps after it."""
    explain_s = max(4.0 * interpret_s, EXPLAIN_SECONDS_PER_COLUMN * n_cols) if explain else 0.0
    return 2.0 * interpret_s + explain_s + max(0.05, 0.02 * time_limit)


@dataclass(frozen=True, slots=True)
class Activation:
    """Which pledges are active and from when (days from C-day), and why the others are not."""

    active_from: Mapping[str, int]
    inactive_reasons: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class PlanOutcome:
    plan: Plan
    model: Model
    values: np.ndarray
    greedy: np.ndarray
    result: SolveResult
    build_seconds: float


def make_plan(
    scenario: Scenario,
    option_id: str,
    *,
    activation: Activation,
    options: PlanOptions = PlanOptions(),
    c_day: date | None = None,
    c_day_assumed: bool = False,
    at: date | None = None,
    assumptions: list[str] | None = None,
    warnings: list[str] | None = None,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    explain: bool = True,
) -> PlanOutcome:
    t0 = time.perf_counter()
    # The whole plan (build, greedy, solve, finishing) must end within options.time_limit.
    deadline = t0 + float(options.time_limit)
    tables = build_tables(
        scenario,
        option_id,
        active_from=activation.active_from,
        options=options,
        inactive_reasons=activation.inactive_reasons,
    )
    model = build_model(tables, options)
    build_s = time.perf_counter() - t0

    greedy = greedy_values(model)
    greedy_ok = is_feasible(model, greedy)
    greedy_obj = objective_of(model, greedy)
    # Interpreting a plan is the main finishing step: time it on the greedy plan (needed for
    # the baseline anyway) and keep that much, with margin, back from the solver.
    t_i = time.perf_counter()
    ginterp = interpret(model, greedy, c_day)
    interpret_s = time.perf_counter() - t_i
    reserve = finishing_reserve(interpret_s, model.n_cols, float(options.time_limit), explain)
    solver_limit = max(MIN_SOLVER_SECONDS, deadline - time.perf_counter() - reserve)
    sol = solve_highs(
        model,
        options.model_copy(update={"time_limit": solver_limit}),
        progress=progress,
        start=greedy if (options.warm_start and greedy_ok) else None,
        should_stop=should_stop,
    )
    result = sol.result
    values = sol.values
    notes = list(warnings or [])
    if values is None or not is_feasible(model, values, tol=1e-5):
        # No plan from the solver in time (or numerically off): fall back to the greedy plan,
        # which satisfies every constraint by construction, and say so.
        values = greedy
        notes.append(
            f"the solver returned no plan ({result.status.value}: {result.message}); "
            "showing the greedy baseline plan instead"
        )
        result = result.model_copy(update={"objective": greedy_obj})
    elif result.objective is not None and result.objective > greedy_obj + 1e-6:
        values = greedy  # never worse than the baseline
        result = result.model_copy(update={"objective": greedy_obj})
    best_so_far = result.status != SolveStatus.OPTIMAL
    if result.status == SolveStatus.TIME_LIMIT:
        gap_txt = (
            f"gap to the bound {100 * result.gap:.2f}%" if result.gap is not None
            else "no bound proven yet"
        )
        which = " (the greedy baseline plan)" if np.array_equal(values, greedy) else ""
        notes.append(
            f"time limit of {options.time_limit:g} s reached (solver {solver_limit:.1f} s; the "
            f"rest is kept for building and finishing the plan): this is the best plan so "
            f"far{which} ({gap_txt})"
        )
    elif result.status == SolveStatus.INTERRUPTED:
        notes.append("solve interrupted: this is the best plan so far")

    interp = interpret(model, values, c_day)
    gaps = explain_gaps(model, values, options) if explain else []
    assignments = (
        explain_assignments(model, values, interp.unit_columns, options) if explain else []
    )
    stopped = should_stop is not None and should_stop()
    if explain and gaps and model.n_cols <= CONFIRM_MAX_COLUMNS and not stopped:
        # optional extra evidence: only with the time left before the deadline (and not
        # after a stop request: a cancelled run must end now, not at its time limit)
        gaps = confirm_by_relaxation(model, values, gaps, options, deadline=deadline - 0.01)
    inactive = sorted(p.id for p in scenario.pledges if p.id not in activation.active_from)
    plan = Plan(
        scenario=scenario.id,
        scenario_illustrative=scenario.illustrative,
        option=option_id,
        at=at,
        c_day=c_day,
        c_day_assumed=c_day_assumed,
        assumptions=list(assumptions or []),
        period_days=tables.period_days,
        horizon_days=tables.horizon_days,
        seed=options.seed,
        weights=options.weights,
        solve=SolveSummary(
            solver=result.solver,
            status=result.status,
            objective=None if result.objective is None else round(result.objective, 4),
            bound=None if result.bound is None else round(result.bound, 4),
            gap=None if result.gap is None else round(result.gap, 6),
            build_seconds=round(build_s, 3),
            solve_seconds=round(result.time, 3),
            best_so_far=best_so_far,
            message=result.message,
            variables=model.n_cols,
            constraints=model.n_rows,
            nonzeros=model.nnz,
        ),
        baseline=BaselineSummary(
            objective=round(greedy_obj, 4),
            shortfall_unit_days=ginterp.kpis.shortfall_unit_days,
            coverage_pct=ginterp.kpis.coverage_pct,
        ),
        kpis=interp.kpis,
        unit_lines=interp.unit_lines,
        rotations=interp.rotations,
        fill=interp.fill,
        gaps=gaps,
        assignments=assignments,
        active_pledges=sorted(activation.active_from),
        inactive_pledges=inactive,
        warnings=notes,
    )
    return PlanOutcome(plan, model, values, greedy, result, build_s)
