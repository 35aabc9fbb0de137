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
from typing import Any

import numpy as np

from coalition.planner import sustainment
from coalition.planner.explain import confirm_by_relaxation, explain_assignments, explain_gaps
from coalition.planner.greedy import greedy_values, is_feasible, objective_of
from coalition.planner.model import Model, _start_columns, build_model, precedence_values
from coalition.planner.report import Interpretation, interpret
from coalition.planner.schemas import (
    AssignmentExplanation,
    BaselineSummary,
    GapExplanation,
    Plan,
    PlanOptions,
    PrecedenceSection,
    SolveResult,
    SolveStatus,
    SolveSummary,
    UnitLine,
)
from coalition.planner.solver import ProgressFn, Solution, solve_highs
from coalition.planner.tables import PlanningTables, build_tables
from coalition.scenario.schemas import Scenario
from coalition.solvers.highs import relative_gap

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
# The greedy baseline always gets this long, so that even a limit shorter than building the
# model returns a useful plan (the plan then says the limit was too short).
GREEDY_MIN_SECONDS = 0.5
# Handing the model to HiGHS (solver form, HighsLp, passModel) before its clock starts: measured
# ~1.7 s for M's 2.7 million nonzeros on the loaded 2-core machine.
SETUP_SECONDS_PER_NONZERO = 5e-7
EXPLAIN_SECONDS_PER_COLUMN = 2.5e-5
# Building the model (columns, rows, matrix), per Assign-count column: measured 1.1-2.5 s for
# M's 62k columns on the loaded 2-core machine (1.8e-5 .. 4e-5 s); the larger figure is used to
# decide, before starting, whether the model can be built within the limit at all.
BUILD_SECONDS_PER_COLUMN = 4e-5
# The steps after the plan is made - the independent check (coalition.planner.check) and the
# caller's finishing step (writing the files) - per unit line of the greedy plan, with a floor.
# Measured on M (about 1,000 unit lines): check 0.07 s; JSON + CSV + XLSX 0.9 s (loaded machine).
CHECK_SECONDS_PER_UNIT_LINE = 2e-4
WRITE_SECONDS_PER_UNIT_LINE = 2e-3


def column_count(tables: PlanningTables, options: PlanOptions) -> int:
    """Assign-count columns a model of ``tables`` would have (no matrix built)."""
    return int(_start_columns(tables, tuple(options.departure_delays))["arc"].size)


def finishing_reserve(
    interpret_s: float, n_cols: int, time_limit: float, explain: bool, unit_lines: int = 0, writes: bool = False
) -> float:
    """Seconds kept back from the solver for the steps after it: interpretation, explanations,
    the independent check and (``writes``) the caller's writing of the files."""
    explain_s = max(4.0 * interpret_s, EXPLAIN_SECONDS_PER_COLUMN * n_cols) if explain else 0.0
    after = 2.0 * unit_lines * (CHECK_SECONDS_PER_UNIT_LINE + (WRITE_SECONDS_PER_UNIT_LINE if writes else 0.0))
    return 2.0 * interpret_s + explain_s + after + max(0.05, 0.02 * time_limit)


def floor_reserve(time_limit: float) -> float:
    """Seconds kept back, while building, for a plan that assigns nothing (interpreted,
    checked and written): building stops when it would eat into them."""
    return max(0.05, 0.02 * time_limit)


def recompute(model: Model, values: np.ndarray) -> np.ndarray:
    """The plan that the assignments alone define: x rounded, y = sum of x, b = 1 exactly
    where a nation has units at a hub, and shortfall = what the units leave uncovered.

    A time-limited MIP incumbent may carry more shortfall slack or cohesion than its
    assignments need; reporting it would misstate the plan. This never breaks a row that the
    assignments keep (shortfall and b only shrink to what the rows require)."""
    assert model.A is not None
    tb = model.tables
    xb, yb = model.var("Assign-count"), model.var("Pledge-start")
    bb, ub = model.var("Hub-nation-present"), model.var("Line-shortfall")
    v = np.zeros(model.n_cols)
    x = np.round(values[xb.start : xb.stop]) if xb.size else np.zeros(0)
    v[xb.start : xb.stop] = x
    if yb.size:
        y = np.zeros(yb.size)
        np.add.at(y, tb.arc_pledge[model.x_arc] * tb.n_periods + model.x_start, x)
        v[yb.start : yb.stop] = y
    if bb.size:
        nat_ix = {n: i for i, n in enumerate(tb.nations)}
        b_index = {(int(h), int(n)): i for i, (h, n) in enumerate(zip(model.b_hub, model.b_nation, strict=True))}
        for j in np.flatnonzero(x > 0.5):
            p, h = int(tb.arc_pledge[model.x_arc[j]]), int(tb.arc_hub[model.x_arc[j]])
            v[bb.start + b_index[(h, nat_ix[tb.pledge_nation[p]])]] = 1.0
    if ub.size:
        cb = model.con("Line-cover")
        cover = model.A[cb.start : cb.stop] @ v  # u is still 0 here
        v[ub.start : ub.stop] = np.maximum(0.0, tb.line_qty[model.u_line] - cover)
    return sustainment.complete_values(model, precedence_values(model, v))


@dataclass(frozen=True, slots=True)
class Activation:
    """Which pledges are active and on which days (days from C-day), and why the others are not.

    ``spells`` maps a pledge to its active spells ``(start, end)`` (``end`` None = open); a
    pledge in ``active_from`` without spells is active from that day on."""

    active_from: Mapping[str, int]
    inactive_reasons: Mapping[str, str] = field(default_factory=dict)
    spells: Mapping[str, tuple[tuple[int, int | None], ...]] = field(default_factory=dict)
    spell_texts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What frames a plan (carried into it): C-day and whether it is assumed, the as-of date,
    the assumptions as ``condition=value`` texts, and warnings to start its notes with."""

    c_day: date | None = None
    c_day_assumed: bool = False
    at: date | None = None
    assumptions: list[str] | None = None
    warnings: list[str] | None = None


@dataclass(frozen=True, slots=True)
class PlanHooks:
    """The caller's hooks into a plan run: solver progress, a stop request it polls, and
    ``finish`` (the caller's last step, e.g. writing the files; time is kept back for it)."""

    progress: ProgressFn | None = None
    should_stop: Callable[[], bool] | None = None
    finish: Callable[[Plan], object] | None = None


NO_CONTEXT = PlanContext()
NO_HOOKS = PlanHooks()
DEFAULT_OPTIONS = PlanOptions()


@dataclass(slots=True)
class PlanOutcome:
    """What :func:`coalition.plan` returns besides C-day: the ``plan``, and for inspection the
    model, the solver's values, the greedy start, the solver's result and the build time."""

    plan: Plan
    model: Model
    values: np.ndarray
    greedy: np.ndarray
    result: SolveResult
    build_seconds: float


def _solve(model: Model, options: PlanOptions, solver_limit: float, **kw: Any) -> Solution:
    """The solver with ``solver_limit`` seconds; not started when even handing the model to
    HiGHS would not fit (the greedy plan is then used, and the phase named)."""
    if solver_limit < SETUP_SECONDS_PER_NONZERO * model.nnz:
        return Solution(
            SolveResult(
                solver="highs",
                status=SolveStatus.NO_SOLUTION,
                phase_out_of_time="build",
                message=f"not started: building took the time ({solver_limit:.2f} s left for a model "
                f"of {model.nnz:,} nonzeros)",
                bound=None if model.full_bound is None else model.full_bound[0],
                bound_provenance="none" if model.full_bound is None else model.full_bound[1],
            ),
            None,
        )
    return solve_highs(model, options.model_copy(update={"time_limit": solver_limit}), **kw)


def _settle(
    model: Model,
    sol: Solution,
    greedy: np.ndarray,
    greedy_obj: float,
    options: PlanOptions,
    solver_limit: float,
    notes: list[str],
) -> tuple[np.ndarray, SolveResult]:
    """The plan to report and its result: the solver's plan recomputed from its assignments,
    else (none, infeasible or worse) the greedy plan; objective, bound and gap of that plan;
    what happened, in ``notes``."""
    result = sol.result
    values = None if sol.values is None else recompute(model, sol.values)
    if values is None or not is_feasible(model, values, tol=1e-5):
        # No plan from the solver in time (or numerically off): fall back to the greedy plan,
        # which satisfies every constraint by construction, and say so.
        values = greedy
        notes.append(
            f"the solver returned no plan ({result.status.value}: {result.message}); "
            "showing the greedy baseline plan instead"
        )
        result = result.model_copy(update={"objective": greedy_obj})
    elif objective_of(model, values) > greedy_obj + 1e-6:
        values = greedy  # never worse than the baseline
        result = result.model_copy(update={"objective": greedy_obj})
    # the objective reported is the one the returned assignments give; the gap is against a
    # bound of the full model only (the solver says which), never a restricted model's
    objective = objective_of(model, values)
    bound = result.bound
    if bound is not None:
        bound = min(bound, objective)
    result = result.model_copy(
        update={
            "objective": objective,
            "bound": bound,
            "gap": relative_gap(objective, bound) if bound is not None else None,
            "bound_provenance": result.bound_provenance if bound is not None else "none",
        }
    )
    if bound is None and model.subset is not None:
        notes.append(
            "gap unknown: column generation over the full model reached no positive "
            "bound in the time (column-generation phase out of time)"
        )
    elif bound is None:
        why = (
            "the model was trimmed (candidates_per_line), so no bound of the full model is known"
            if options.candidates_per_line is not None
            else f"no bound of the full model was proven in time ({result.phase_out_of_time or 'lp'} "
            "phase stopped by the time limit)"
        )
        notes.append(f"gap unknown: {why}")
    if result.status == SolveStatus.TIME_LIMIT:
        gap_txt = (
            f"gap {100 * result.gap:.2f}% to the {result.bound_provenance} bound of the full model"
            if result.gap is not None
            else "no bound proven yet"
        )
        if result.phase_out_of_time:
            gap_txt += f"; the time ran out in the {result.phase_out_of_time} phase"
        which = " (the greedy baseline plan)" if np.array_equal(values, greedy) else ""
        notes.append(
            f"time limit of {options.time_limit:g} s reached (solver {solver_limit:.1f} s; the "
            f"rest is kept for building and finishing the plan): this is the best plan so "
            f"far{which} ({gap_txt})"
        )
    elif result.status == SolveStatus.INTERRUPTED:
        notes.append("solve interrupted: this is the best plan so far")
    return values, result


def _build(
    scenario: Scenario,
    option_id: str,
    activation: Activation,
    options: PlanOptions,
    deadline: float,
    notes: list[str],
    should_stop: Callable[[], bool] | None = None,
    context: PlanContext = NO_CONTEXT,
) -> tuple[PlanningTables, PlanOptions, Model, str | None]:
    """Tables and model within ``deadline``. Returns (tables, options, model, step): ``step``
    is None when the full model was built, else the building step the time ran out in - the
    model is then one with no Assign-count column (a plan that assigns nothing)."""
    from coalition.planner.model import BuildOutOfTime

    t0 = time.perf_counter()
    tables = build_tables(
        scenario,
        option_id,
        active_from=activation.active_from,
        options=options,
        inactive_reasons=activation.inactive_reasons,
        spells=activation.spells,
        spell_texts=activation.spell_texts,
        deadline=deadline,
    )
    tables = sustainment.attach(tables, scenario, options, context.c_day, context.assumptions)  # issue 15
    step: str | None = "tables" if tables.out_of_time else None
    model: Model | None = None
    if step is None:
        n_full = column_count(tables, options)
        need = BUILD_SECONDS_PER_COLUMN * min(n_full, options.max_columns)
        if n_full > options.max_columns:
            # too large to build: column generation over the full set gives the bound and
            # the columns of a restricted model that plans are searched on
            if time.perf_counter() + need > deadline:
                step = _too_long(need, deadline)
            else:
                model = _column_generation(tables, options, deadline, notes, should_stop)
                if model is None:
                    step = "column generation (no master LP solved in time)"
        elif time.perf_counter() + need > deadline:
            step = _too_long(need, deadline)
        else:
            try:
                model = build_model(tables, options, deadline=deadline)
            except BuildOutOfTime as e:
                step = f"model ({e.step} done after {e.seconds:.1f} s)"
    if model is None:
        model = build_model(tables, options, assignments=False)
        notes.append(
            f"the time limit of {options.time_limit:g} s ran out while building the model "
            f"({step}; {time.perf_counter() - t0:.1f} s spent): this plan assigns NO unit and "
            "shows every line short; there is no bound of the full model and no gap. Give a "
            "longer --time-limit."
        )
    return tables, options, model, step


def _too_long(need: float, deadline: float) -> str:
    return f"model (about {need:.1f} s needed, {max(0.0, deadline - time.perf_counter()):.1f} s left)"


# Column generation over chains (models over PlanOptions.max_columns) may use this share of the
# time left after the tables; the restricted model, the greedy and the solver share the rest.
COLGEN_SHARE = 0.35
# Then the subgradient ascent on the chain bound (planner.lagrange, every capacity row relaxed
# too) from the chain master's best duals may use this share of the time left after it.
ASCENT_SHARE = 0.15
# Columns of the restricted model made after column generation (at most; and <= max_columns).
# (L: the old trimmed model's greedy used ~446k columns; 120k gave a clearly worse plan. With
# the chain master's columns first, measured on L side by side at load 6-12: 98,593 columns
# (the trim steps) gave a greedy 1.7% worse than 288,830 and a guided start 0.5% better, and
# a matrix of 5.8 M nonzeros instead of 17.9 M: region sub-MIPs, planner.lns, need it small.)
RESTRICTED_MAX_COLUMNS = 150_000


def _column_generation(
    tables: PlanningTables,
    options: PlanOptions,
    deadline: float,
    notes: list[str],
    should_stop: Callable[[], bool] | None = None,
) -> Model | None:
    """The restricted model of a model too large to build, carrying the best bound of the FULL
    model that column generation over chains and the ascent reached (``model.full_bound``);
    None when no master LP was solved in time or the restricted model could not be built in
    time (docs/planner/model.md, *Column generation*)."""
    from coalition.planner.caprows import cap_rows
    from coalition.planner.colgen import ColgenResult, relaxation, restricted_columns
    from coalition.planner.lagrange import ascent, chain_master, dual_problem
    from coalition.planner.model import BuildOutOfTime

    rel = relaxation(tables, options, grid_days=tables.period_days)
    dp = dual_problem(rel)
    until = time.perf_counter() + COLGEN_SHARE * max(0.0, deadline - time.perf_counter())
    cm = chain_master(dp, until, should_stop=should_stop, solver=(int(options.threads), int(options.seed)))
    if cm.objective is None or cm.duals is None or cm.bound is None:
        return None
    stop = time.perf_counter() + ASCENT_SHARE * max(0.0, deadline - time.perf_counter())
    if cm.converged or (should_stop is not None and should_stop()):
        stop = time.perf_counter()  # converged: its LP value stands (the ascent may add the capacity rows)
    # Polyak's target: the last chain master's value (an upper bound of the relaxation's LP
    # without the capacity rows; the ascent lifts it once the best point nears it), measured on
    # L better than the all-short plan's cost (an upper bound of the optimum, far above it):
    # from the same 14-round master's duals, 150 evaluations gave 397.9 M against 328.5 M
    target = cm.objective if cm.objective is not None and cm.objective > 0 else float(dp.qty @ dp.c_u)
    asc = ascent(dp, *cm.duals, stop, target=float(target), cap=cap_rows(rel, tables, dp.order))
    del dp
    lp_best = cm.converged and cm.bound >= asc.bound
    res = ColgenResult(
        bound=max(cm.bound, asc.bound),
        converged=cm.converged,
        lp_bound=lp_best,
        columns=cm.columns,
        values=cm.values,
        rounds=cm.rounds,
        master_objective=cm.objective,
        seconds=cm.seconds,
        message=cm.message,
        rc=cm.rc,
    )
    n_full = rel.cost.size
    cols = restricted_columns(rel, res, tables, min(RESTRICTED_MAX_COLUMNS, options.max_columns), res.rc, asc.columns)
    del rel
    try:
        model = build_model(tables, options, deadline=deadline, columns=cols)
    except BuildOutOfTime:
        return None
    at = np.minimum(np.searchsorted(cm.columns, cols), max(cm.columns.size - 1, 0))
    hit = (cm.columns[at] == cols) if cm.columns.size else np.zeros(cols.size, dtype=bool)
    model.x_preference = np.where(hit, cm.values[at] if cm.columns.size else 0.0, 0.0)
    prov = "full-lp" if lp_best else "full-lagrangian"
    # every cost is >= 0, so a bound <= 0 says nothing: reported as no bound
    useful = res.bound is not None and res.bound > 0
    model.full_bound = (float(res.bound), prov) if res.bound is not None and useful else None
    model.colgen_converged = res.converged
    if not useful:
        prov = "none: column generation and the ascent reached no positive bound in the time"
    notes.append(
        f"the full model has {n_full:,} Assign-count columns, more than PlanOptions.max_columns "
        f"= {options.max_columns:,}: column generation over chains priced all of them ({cm.rounds} "
        f"master LP(s), {cm.columns.size:,} columns in the master's chains, {cm.seconds:.1f} s; "
        f"{cm.message}; best bound {_money(cm.bound)}), then a subgradient ascent with every "
        f"capacity row relaxed ({asc.iterations} evaluation(s) over all columns, {asc.seconds:.1f} s; "
        f"best {_money(asc.bound)}) for the bound ({prov}); plans are searched on a restricted "
        f"model of {cols.size:,} of its columns (the master's LP support, the best-priced, the "
        "ascent's best chains, each line's earliest-arriving pledges), whose own bound is never "
        "reported"
    )
    return model


def _money(v: float | None) -> str:
    return "none" if v is None else f"{v:,.0f}"


@dataclass(frozen=True, slots=True)
class _Baseline:
    """The greedy plan (the fallback, and the solver's start) and the seconds the solver may
    then take."""

    values: np.ndarray
    feasible: bool
    objective: float
    interp: Interpretation
    solver_limit: float
    start: np.ndarray  # the solver's start: the greedy plan or a better LP-guided one


def _baseline(
    model: Model, c_day: date | None, limit: float, deadline: float, explain: bool, *, writes: bool
) -> _Baseline:
    """The greedy baseline may use half of what is left (it is the fallback plan, and the
    solver's start); stopped early it is still a complete, feasible plan. Interpreting a plan
    is the main finishing step: time it on the greedy plan (needed for the baseline anyway)
    and keep that much, with margin, back from the solver."""
    left = max(0.0, deadline - floor_reserve(limit) - time.perf_counter())
    greedy = greedy_values(model, deadline=time.perf_counter() + max(min(GREEDY_MIN_SECONDS, 0.01 * limit), 0.5 * left))
    greedy_ok = is_feasible(model, greedy)
    greedy_obj = objective_of(model, greedy)
    start = greedy
    if model.x_preference is not None and greedy_ok:
        # a model restricted after column generation: the greedy rule led by the chain master's
        # LP values is the solver's start when it is better (the baseline stays the plain greedy)
        guided = greedy_values(model, preference=model.x_preference, deadline=time.perf_counter() + 0.25 * left)
        if is_feasible(model, guided) and objective_of(model, guided) < greedy_obj - 1e-6:
            start = guided
    t_i = time.perf_counter()
    ginterp = interpret(model, greedy, c_day)
    interpret_s = time.perf_counter() - t_i
    reserve = finishing_reserve(
        interpret_s, model.n_cols, limit, explain, unit_lines=len(ginterp.unit_lines), writes=writes
    )
    solver_limit = max(MIN_SOLVER_SECONDS, deadline - time.perf_counter() - reserve)
    return _Baseline(greedy, greedy_ok, greedy_obj, ginterp, solver_limit, start)


def _solve_phase(
    model: Model,
    options: PlanOptions,
    hooks: PlanHooks,
    base: _Baseline,
    out_of_time: str | None,
    notes: list[str],
) -> tuple[np.ndarray, SolveResult]:
    """The plan's values and the solver's result; the greedy plan when building ran out of
    time (``out_of_time``: the step it ran out in)."""
    if out_of_time is not None:
        return base.values, SolveResult(
            solver="highs",
            status=SolveStatus.TIME_LIMIT,
            objective=base.objective,
            phase_out_of_time="build",
            message=f"solver not started: the time ran out in building ({out_of_time})",
        )
    if model.subset is not None and model.n_cols > LNS_MIN_COLUMNS and base.feasible:
        sol = _lns_solve(model, options, base, hooks)
    else:
        sol = _solve(
            model,
            options,
            base.solver_limit,
            progress=hooks.progress,
            start=base.start if (options.warm_start and base.feasible) else None,
            should_stop=hooks.should_stop,
        )
    values, result = _settle(model, sol, base.values, base.objective, options, base.solver_limit, notes)
    if model.colgen_converged is False:  # the bound is the one column generation reached
        phase = result.phase_out_of_time
        result = result.model_copy(update={"phase_out_of_time": "column-generation" + (f", {phase}" if phase else "")})
    return values, result


# Restricted models after column generation with more Assign-count columns than this (L) are
# planned by region sub-MIPs on the start plan (planner.lns) instead of solve_highs, whose LP
# over them did not finish in the time left (L, quiet machine: 256 s).
LNS_MIN_COLUMNS = 150_000


def _lns_solve(model: Model, options: PlanOptions, base: _Baseline, hooks: PlanHooks) -> Solution:
    """The start plan improved by region sub-MIPs (:func:`coalition.planner.lns.improve`) within
    the solver's time; the bound is column generation's (``model.full_bound``)."""
    from coalition.planner.lns import improve
    from coalition.planner.schemas import Progress

    t0 = time.perf_counter()
    fb = model.full_bound

    def report(obj: float) -> None:  # the live display: the gap to the FULL model's bound only
        if hooks.progress is not None:
            b = None if fb is None else min(fb[0], obj)
            gap = None if b is None else relative_gap(obj, b)
            hooks.progress(Progress(time=round(time.perf_counter() - t0, 3), incumbent=obj, bound=b, gap=gap))

    res = improve(
        model,
        base.start,
        t0 + base.solver_limit,
        threads=int(options.threads),
        seed=int(options.seed),
        should_stop=hooks.should_stop,
        report=report,
    )
    stopped = hooks.should_stop is not None and hooks.should_stop()
    status = SolveStatus.INTERRUPTED if stopped else (SolveStatus.FEASIBLE if res.done else SolveStatus.TIME_LIMIT)
    return Solution(
        SolveResult(
            solver="highs",
            status=status,
            objective=res.objective,
            bound=None if fb is None else fb[0],
            bound_provenance="none" if fb is None else fb[1],
            time=round(time.perf_counter() - t0, 4),
            phase_out_of_time=None if res.done else "region-sub-mip",
            message=f"region sub-MIPs on the start plan: {res.tried} tried, {res.kept} improved, "
            f"{res.gain:,.0f} off the objective in {res.seconds:.1f} s ({'; '.join(res.log[-24:])})",
        ),
        res.values,
    )


def _solve_summary(result: SolveResult, model: Model, build_s: float) -> SolveSummary:
    return SolveSummary(
        solver=result.solver,
        status=result.status,
        objective=None if result.objective is None else round(result.objective, 4),
        bound=None if result.bound is None else round(result.bound, 4),
        gap=None if result.gap is None else round(result.gap, 6),
        build_seconds=round(build_s, 3),
        solve_seconds=round(result.time, 3),
        best_so_far=result.status != SolveStatus.OPTIMAL,
        bound_provenance=result.bound_provenance,
        phase_out_of_time=result.phase_out_of_time,
        message=result.message,
        variables=model.n_cols,
        constraints=model.n_rows,
        nonzeros=model.nnz,
    )


def make_plan(
    scenario: Scenario,
    option_id: str,
    *,
    activation: Activation,
    options: PlanOptions = DEFAULT_OPTIONS,
    context: PlanContext = NO_CONTEXT,
    hooks: PlanHooks = NO_HOOKS,
    explain: bool = True,
) -> PlanOutcome:
    """The plan of one force option within ``options.time_limit`` seconds of wall time, from
    the tables to the independent check and ``hooks.finish`` (the caller's last step, e.g.
    writing the files; time is kept back for it). See docs/planner/solver.md, *Time budget*."""
    c_day = context.c_day
    t0 = time.perf_counter()
    limit = float(options.time_limit)
    deadline = t0 + limit
    notes = list(context.warnings or [])
    tables, options, model, out_of_time = _build(
        scenario, option_id, activation, options, deadline - floor_reserve(limit), notes, hooks.should_stop, context
    )
    build_s = time.perf_counter() - t0
    base = _baseline(model, c_day, limit, deadline, explain, writes=hooks.finish is not None)
    values, result = _solve_phase(model, options, hooks, base, out_of_time, notes)
    interp = interpret(model, values, c_day)
    assignments, gaps = _explanations(
        model, values, interp, options, deadline, explain, hooks.should_stop, built=out_of_time is None
    )
    plan = Plan(
        scenario=scenario.id,
        scenario_illustrative=scenario.illustrative,
        option=option_id,
        at=context.at,
        c_day=c_day,
        c_day_assumed=context.c_day_assumed,
        assumptions=list(context.assumptions or []),
        period_days=tables.period_days,
        horizon_days=tables.horizon_days,
        seed=options.seed,
        weights=options.weights,
        solve=_solve_summary(result, model, build_s),
        baseline=BaselineSummary(
            objective=round(base.objective, 4),
            shortfall_unit_days=base.interp.kpis.shortfall_unit_days,
            coverage_pct=base.interp.kpis.coverage_pct,
        ),
        kpis=interp.kpis,
        unit_lines=interp.unit_lines,
        rotations=interp.rotations,
        fill=interp.fill,
        gaps=gaps,
        precedence=_precedence_section(scenario, tables, interp.unit_lines),
        medical=_medical_section(scenario, option_id, tables, interp.unit_lines, notes),
        resupply=sustainment.resupply_section(model, values),
        assignments=assignments,
        active_pledges=sorted(activation.active_from),
        inactive_pledges=sorted(p.id for p in scenario.pledges if p.id not in activation.active_from),
        warnings=notes,
    )
    plan = _checked(scenario, plan, t0, limit, build_s)
    if hooks.finish is not None:
        hooks.finish(plan)
    return PlanOutcome(plan, model, values, base.values, result, build_s)


def plan_sections(
    scenario: Scenario, option_id: str, model: Model, values: np.ndarray, c_day: date | None, notes: list[str]
) -> dict[str, Any]:
    """The plan-content fields of a :class:`Plan` (KPIs, unit lines, rotations, fill, the
    enablers-first, 10-1-2 and resupply sections) for column ``values`` of ``model``, as
    :func:`make_plan` fills them - for a plan solved elsewhere, e.g. one world of the scenario
    analysis, to go through the independent checker (``coalition.planner.check``)."""
    interp = interpret(model, values, c_day)
    return {
        "kpis": interp.kpis,
        "unit_lines": interp.unit_lines,
        "rotations": interp.rotations,
        "fill": interp.fill,
        "precedence": _precedence_section(scenario, model.tables, interp.unit_lines),
        "medical": _medical_section(scenario, option_id, model.tables, interp.unit_lines, notes),
        "resupply": sustainment.resupply_section(model, values),
    }


def _explanations(
    model: Model,
    values: np.ndarray,
    interp: Interpretation,
    options: PlanOptions,
    deadline: float,
    explain: bool,
    should_stop: Callable[[], bool] | None,
    built: bool,
) -> tuple[list[AssignmentExplanation], list[GapExplanation]]:
    """Assignment and gap explanations within what is left of the budget (assignments first:
    they are cheap). A model that was not built (time ran out) gets gap reasons that say so."""
    if not explain:
        return [], []
    assignments = explain_assignments(
        model, values, interp.unit_columns, options, deadline=deadline - 0.3 * max(0.0, deadline - time.perf_counter())
    )
    gaps = explain_gaps(model, values, options, deadline=deadline - 0.02 if built else -1.0)
    stopped = should_stop is not None and should_stop()
    if built and gaps and model.n_cols <= CONFIRM_MAX_COLUMNS and not stopped:
        # optional extra evidence: only with the time left before the deadline (and not
        # after a stop request: a cancelled run must end now, not at its time limit)
        gaps = confirm_by_relaxation(model, values, gaps, options, deadline=deadline - 0.01)
    return assignments, gaps


def _checked(scenario: Scenario, plan: Plan, t0: float, limit: float, build_s: float) -> Plan:
    """The plan with the independent checker's verdict (``solve.check_violations``, rules in
    the warnings) and its wall time so far; a plan over the limit says so."""
    from coalition.planner.check import check_plan

    report = check_plan(scenario, plan)
    notes = list(plan.warnings)
    if not report.ok:
        notes.append(
            "the independent plan check found violations: "
            + ", ".join(f"{k} {n}" for k, n in report.by_rule().items())
            + " (coalition plan check)"
        )
    spent = time.perf_counter() - t0
    if spent > 1.02 * limit:
        notes.append(
            f"this plan took {spent:.2f} s, over the time limit of {limit:g} s (+2% allowed); "
            f"building the model took {build_s:.2f} s"
        )
    solve = plan.solve.model_copy(update={"check_violations": len(report.violations), "wall_seconds": round(spent, 3)})
    return plan.model_copy(update={"solve": solve, "warnings": notes})


def _precedence_section(
    scenario: Scenario, tables: PlanningTables, unit_lines: list[UnitLine]
) -> PrecedenceSection | None:
    """The plan's enablers-first picture, judged on its unit lines by the sustain rule."""
    from coalition.planner.schemas import PrecedenceBreak
    from coalition.sustain.demand import PlanLine
    from coalition.sustain.precedence import check_precedence, effective_rules

    if not tables.prec_rule and not scenario.capabilities:
        return None
    if not tables.prec_rule:
        return None
    rules = [r for r in effective_rules(scenario) if r.id in set(tables.prec_rule)]
    lines = [
        PlanLine(
            uln=u.uln,
            capability=u.capability,
            hub=u.hub,
            personnel=u.personnel,
            arrival_day=u.arrival_day,
            tour_end_day=u.tour_end_day,
        )
        for u in unit_lines
    ]
    broken = [
        PrecedenceBreak(
            rule=v.rule,
            scope=v.scope,
            before_day=v.before_day,
            after_day=v.after_day,
            after_uln=v.after_uln,
            message=v.message,
        )
        for v in check_precedence(lines, scenario, rules)
    ]
    return PrecedenceSection(rules=[r.id for r in rules], broken=broken)


def _medical_section(
    scenario: Scenario, option_id: str, tables: PlanningTables, unit_lines: list[UnitLine], notes: list[str]
) -> dict[str, Any] | None:
    """The plan's 10-1-2 picture (report only: the planner does not yet constrain it). Bad
    medical data (a hub without coordinates...) is said in the notes; the plan still comes back."""
    from coalition.errors import InputError
    from coalition.sustain.demand import PlanLine, PlanView
    from coalition.sustain.medical import medical_picture

    lines = tuple(
        PlanLine(
            uln=u.uln,
            capability=u.capability,
            hub=u.hub,
            personnel=u.personnel,
            arrival_day=u.arrival_day,
            tour_end_day=u.tour_end_day,
            pledge=u.pledge,
            nation=u.nation,
            requirement=u.requirement,
        )
        for u in unit_lines
    )
    view = PlanView(scenario=scenario.id, option=option_id, horizon_days=tables.horizon_days, lines=lines)
    try:
        pic = medical_picture(view, scenario)
    except InputError as e:
        notes.append(f"medical coverage not computed: {e}")
        return None
    out: dict[str, Any] = pic.to_json()
    enforced, why_not = sustainment.medical_enforced(tables)
    out["enforced"] = enforced
    from coalition.sustain.medical import medical_flags

    out["flags"] = medical_flags(scenario)
    if not enforced:
        out["not_enforced_because"] = why_not
    n = sum(1 for u in pic.uncovered if u.constrained)
    if n and enforced:
        notes.append(
            f"medical: {n} hub-day range(s) with manoeuvre or training units lack Role 1 within "
            "1 h or Role 2 within 2 h although 10-1-2 is a hard constraint: the plan is wrong, "
            "run coalition plan check"
        )
    elif n:
        notes.append(
            f"medical: {n} hub-day range(s) with manoeuvre or training units lack Role 1 "
            f"within 1 h or Role 2 within 2 h (see medical.uncovered; {why_not})"
        )
    return out
