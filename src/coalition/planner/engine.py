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
from coalition.planner.model import Model, _start_columns, build_model, precedence_values
from coalition.planner import sustainment
from coalition.planner.report import interpret
from coalition.planner.schemas import (
    BaselineSummary,
    Plan,
    PlanOptions,
    SolveResult,
    SolveStatus,
    SolveSummary,
)
from coalition.planner.solver import ProgressFn, relative_gap, solve_highs
from coalition.planner.tables import build_tables, trim_tables
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
# The greedy baseline always gets this long, so that even a limit shorter than building the
# model returns a useful plan (the plan then says the limit was too short).
GREEDY_MIN_SECONDS = 0.5
# Handing the model to HiGHS (solver form, HighsLp, passModel) before its clock starts: measured
# ~1.7 s for M's 2.7 million nonzeros on the loaded 2-core machine.
SETUP_SECONDS_PER_NONZERO = 5e-7
EXPLAIN_SECONDS_PER_COLUMN = 2.5e-5


def column_count(tables, options: PlanOptions) -> int:  # type: ignore[no-untyped-def]
    """Assign-count columns a model of ``tables`` would have (no matrix built)."""
    return int(_start_columns(tables, tuple(options.departure_delays))["arc"].size)


def finishing_reserve(interpret_s: float, n_cols: int, time_limit: float, explain: bool) -> float:
    """Seconds kept back from the solver for the steps after it."""
    explain_s = max(4.0 * interpret_s, EXPLAIN_SECONDS_PER_COLUMN * n_cols) if explain else 0.0
    return 2.0 * interpret_s + explain_s + max(0.05, 0.02 * time_limit)




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
        b_index = {(int(h), int(n)): i for i, (h, n) in enumerate(zip(model.b_hub, model.b_nation))}
        for j in np.flatnonzero(x > 0.5):
            p, h = int(tb.arc_pledge[model.x_arc[j]]), int(tb.arc_hub[model.x_arc[j]])
            v[bb.start + b_index[(h, nat_ix[tb.pledge_nation[p]])]] = 1.0
    if ub.size:
        cb = model.con("Line-cover")
        cover = (model.A[cb.start : cb.stop] @ v)  # u is still 0 here
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


@dataclass(slots=True)
class PlanOutcome:
    plan: Plan
    model: Model
    values: np.ndarray
    greedy: np.ndarray
    result: SolveResult
    build_seconds: float


def fit_tables(tables, options: PlanOptions):  # type: ignore[no-untyped-def]
    """The tables the model is built from, the options, and a note when they had to be trimmed.

    A full model over ``options.max_columns`` Assign-count columns is not built: per line, the
    largest number K of earliest-arriving candidates that fits is kept (the others become
    ``candidate-limit`` exclusions) and ``candidates_per_line = K`` marks the model as trimmed,
    so that no bound is claimed for it."""
    if options.candidates_per_line is not None:
        return tables, options, None
    n_full = column_count(tables, options)
    if n_full <= options.max_columns:
        return tables, options, None
    for k in (48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1):
        small = trim_tables(tables, k)
        n = column_count(small, options)
        if n <= options.max_columns:
            break
    note = (
        f"the full model has {n_full:,} Assign-count columns, more than "
        f"PlanOptions.max_columns = {options.max_columns:,}; it was solved on the {k} "
        f"earliest-arriving candidates per line ({n:,} columns; the others are listed as "
        "'candidate-limit'). No bound of the full model is known, so no gap is claimed."
    )
    return small, options.model_copy(update={"candidates_per_line": k}), note


def _solve(model: Model, options: PlanOptions, solver_limit: float, **kw):  # type: ignore[no-untyped-def]
    """The solver with ``solver_limit`` seconds; not started when even handing the model to
    HiGHS would not fit (the greedy plan is then used, and the phase named)."""
    from coalition.planner.solver import Solution

    if solver_limit < SETUP_SECONDS_PER_NONZERO * model.nnz:
        return Solution(SolveResult(
            solver="highs", status=SolveStatus.NO_SOLUTION, phase_out_of_time="build",
            message=f"not started: building took the time ({solver_limit:.2f} s left for a model "
            f"of {model.nnz:,} nonzeros)"), None)
    return solve_highs(model, options.model_copy(update={"time_limit": solver_limit}), **kw)


def _settle(model: Model, sol, greedy: np.ndarray, greedy_obj: float, options: PlanOptions,  # type: ignore[no-untyped-def]
            solver_limit: float, notes: list[str]) -> tuple[np.ndarray, SolveResult]:
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
    result = result.model_copy(update={
        "objective": objective, "bound": bound,
        "gap": relative_gap(objective, bound) if bound is not None else None,
        "bound_provenance": result.bound_provenance if bound is not None else "none",
    })
    if bound is None:
        why = ("the model was trimmed (candidates_per_line), so no bound of the full model is known"
               if options.candidates_per_line is not None
               else f"no bound of the full model was proven in time ({result.phase_out_of_time or 'lp'} "
               "phase stopped by the time limit)")
        notes.append(f"gap unknown: {why}")
    if result.status == SolveStatus.TIME_LIMIT:
        gap_txt = (
            f"gap {100 * result.gap:.2f}% to the {result.bound_provenance} bound of the full model"
            if result.gap is not None else "no bound proven yet"
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
        spells=activation.spells,
        spell_texts=activation.spell_texts,
    )
    tables, options, trimmed_note = fit_tables(tables, options)
    tables = sustainment.attach(tables, scenario, options, c_day, assumptions)  # issue 15 blocks
    model = build_model(tables, options)
    build_s = time.perf_counter() - t0

    # the greedy baseline may use half of what is left (it is the fallback plan, and the
    # solver's start); stopped early it is still a complete, feasible plan
    greedy = greedy_values(model, deadline=time.perf_counter() + max(
        GREEDY_MIN_SECONDS, 0.5 * max(0.0, deadline - time.perf_counter())))
    greedy_ok = is_feasible(model, greedy)
    greedy_obj = objective_of(model, greedy)
    # Interpreting a plan is the main finishing step: time it on the greedy plan (needed for
    # the baseline anyway) and keep that much, with margin, back from the solver.
    t_i = time.perf_counter()
    ginterp = interpret(model, greedy, c_day)
    interpret_s = time.perf_counter() - t_i
    reserve = finishing_reserve(interpret_s, model.n_cols, float(options.time_limit), explain)
    solver_limit = max(MIN_SOLVER_SECONDS, deadline - time.perf_counter() - reserve)
    sol = _solve(model, options, solver_limit, progress=progress,
                 start=greedy if (options.warm_start and greedy_ok) else None, should_stop=should_stop)
    notes = list(warnings or [])
    if trimmed_note:
        notes.append(trimmed_note)
    values, result = _settle(model, sol, greedy, greedy_obj, options, solver_limit, notes)
    best_so_far = result.status != SolveStatus.OPTIMAL
    interp = interpret(model, values, c_day)
    # explanations share what is left of the budget (assignments first: they are cheap)
    assignments = (
        explain_assignments(model, values, interp.unit_columns, options,
                            deadline=deadline - 0.3 * max(0.0, deadline - time.perf_counter()))
        if explain else []
    )
    gaps = explain_gaps(model, values, options, deadline=deadline - 0.02) if explain else []
    stopped = should_stop is not None and should_stop()
    if explain and gaps and model.n_cols <= CONFIRM_MAX_COLUMNS and not stopped:
        # optional extra evidence: only with the time left before the deadline (and not
        # after a stop request: a cancelled run must end now, not at its time limit)
        gaps = confirm_by_relaxation(model, values, gaps, options, deadline=deadline - 0.01)
    spent = time.perf_counter() - t0
    if spent > 1.02 * float(options.time_limit):
        notes.append(
            f"this plan took {spent:.2f} s, over the time limit of {options.time_limit:g} s "
            f"(+2% allowed); building the model ({build_s:.2f} s) cannot be interrupted"
        )
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
            bound_provenance=result.bound_provenance,
            phase_out_of_time=result.phase_out_of_time,
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
        precedence=_precedence_section(scenario, tables, interp.unit_lines),
        medical=_medical_section(scenario, option_id, tables, interp.unit_lines, notes),
        resupply=sustainment.resupply_section(model, values),
        assignments=assignments,
        active_pledges=sorted(activation.active_from),
        inactive_pledges=inactive,
        warnings=notes,
    )
    return PlanOutcome(plan, model, values, greedy, result, build_s)


def _precedence_section(scenario, tables, unit_lines):  # type: ignore[no-untyped-def]
    """The plan's enablers-first picture, judged on its unit lines by the sustain rule."""
    from coalition.planner.schemas import PrecedenceBreak, PrecedenceSection
    from coalition.sustain.demand import PlanLine
    from coalition.sustain.precedence import check_precedence, effective_rules

    if not tables.prec_rule and not scenario.capabilities:
        return None
    if not tables.prec_rule:
        return None
    rules = [r for r in effective_rules(scenario) if r.id in set(tables.prec_rule)]
    lines = [PlanLine(uln=u.uln, capability=u.capability, hub=u.hub, personnel=u.personnel,
                      arrival_day=u.arrival_day, tour_end_day=u.tour_end_day) for u in unit_lines]
    broken = [PrecedenceBreak(rule=v.rule, scope=v.scope, before_day=v.before_day,
                              after_day=v.after_day, after_uln=v.after_uln, message=v.message)
              for v in check_precedence(lines, scenario, rules)]
    return PrecedenceSection(rules=[r.id for r in rules], broken=broken)


def _medical_section(scenario, option_id, tables, unit_lines, notes):  # type: ignore[no-untyped-def]
    """The plan's 10-1-2 picture (report only: the planner does not yet constrain it). Bad
    medical data (a hub without coordinates...) is said in the notes; the plan still comes back."""
    from coalition.errors import InputError
    from coalition.sustain.demand import PlanLine, PlanView
    from coalition.sustain.medical import medical_picture

    lines = tuple(PlanLine(uln=u.uln, capability=u.capability, hub=u.hub, personnel=u.personnel,
                           arrival_day=u.arrival_day, tour_end_day=u.tour_end_day, pledge=u.pledge,
                           nation=u.nation, requirement=u.requirement) for u in unit_lines)
    view = PlanView(scenario=scenario.id, option=option_id, horizon_days=tables.horizon_days, lines=lines)
    try:
        pic = medical_picture(view, scenario)
    except InputError as e:
        notes.append(f"medical coverage not computed: {e}")
        return None
    out = pic.to_json()
    enforced, why_not = sustainment.medical_enforced(tables)
    out["enforced"] = enforced
    if not enforced:
        out["not_enforced_because"] = why_not
    n = sum(1 for u in pic.uncovered if u.constrained)
    if n and enforced:
        notes.append(f"medical: {n} hub-day range(s) with manoeuvre or training units lack Role 1 within "
                     "1 h or Role 2 within 2 h although 10-1-2 is a hard constraint: the plan is wrong, "
                     "run coalition plan check")
    elif n:
        notes.append(f"medical: {n} hub-day range(s) with manoeuvre or training units lack Role 1 "
                     f"within 1 h or Role 2 within 2 h (see medical.uncovered; {why_not})")
    return out
