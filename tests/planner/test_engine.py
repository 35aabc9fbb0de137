"""The whole-plan time budget of ``engine.make_plan`` (``--time-limit``).

No wall-clock bound is asserted: the clock the planner reads is the real one plus stalls the
test injects at a chosen point (in the tables, in one block of the model, in the file writing),
so "the machine was slow here" happens whatever the speed of the machine running the test.
Every case asserts that the plan saw the stall on that clock, names the phase that ran out of
time, claims no bound it does not have, gives no later step a deadline past the limit, and
passes the independent checker.
"""

from __future__ import annotations

import functools
import time

import pytest

import coalition.planner.engine as engine
import coalition.planner.model as model_mod
import coalition.planner.tables as tables_mod
from coalition.planner.check import check_plan
from coalition.planner.engine import PlanHooks
from coalition.planner.generator import generate
from coalition.planner.schemas import PlanOptions, SolveStatus
from coalition.planner.service import plan_option

LIMIT = 30.0


class _Clock:
    """``time.perf_counter`` plus injected stalls."""

    def __init__(self) -> None:
        self.real = time.perf_counter
        self.skew = 0.0

    def __call__(self) -> float:
        return self.real() + self.skew


@pytest.fixture()
def clock(monkeypatch):
    c = _Clock()
    monkeypatch.setattr(time, "perf_counter", c)
    return c


def _stall_after(monkeypatch, module, name: str, clock: _Clock, seconds: float) -> None:
    """The first call of ``module.name`` (on the full model) takes ``seconds`` longer."""
    real = getattr(module, name)
    calls = []

    @functools.wraps(real)
    def slow(*a, **k):
        out = real(*a, **k)
        if not calls:
            clock.skew += seconds
        calls.append(1)
        return out

    monkeypatch.setattr(module, name, slow)


def _plan(clock: _Clock, finish=None):  # type: ignore[no-untyped-def]
    sc = generate("S", 1)
    t0 = clock()
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=LIMIT), explain=True, hooks=PlanHooks(finish=finish))
    return sc, out.plan, clock() - t0


def _assert_nothing_built(sc, p, spent: float, step: str, stalled: float = 0.99 * LIMIT) -> None:  # type: ignore[no-untyped-def]
    # the stall is on the planner's own clock (so the plan saw it); no elapsed time is compared
    # with a bound, whatever the machine's speed
    # wall_seconds is reported to the millisecond (rounded), hence the half-millisecond either side
    assert p.solve.wall_seconds is not None and stalled - 5e-4 <= p.solve.wall_seconds <= spent + 5e-4 + 1e-9
    assert p.solve.status == SolveStatus.TIME_LIMIT and p.solve.best_so_far
    assert p.solve.phase_out_of_time == "build" and step in p.solve.message
    # no bound of the full model exists, so none is claimed
    assert p.solve.bound is None and p.solve.gap is None and p.solve.bound_provenance == "none"
    assert p.unit_lines == [] and p.kpis.coverage_pct == 0
    assert any("ran out while building the model" in w and "NO unit" in w for w in p.warnings)
    # every short line is a gap whose reason says why it was not determined
    assert p.gaps and all(r.code in ("not-determined", "Line-window") for g in p.gaps for r in g.reasons)
    assert p.solve.check_violations == 0 and check_plan(sc, p).ok


def test_tables_stalled_to_the_limit_give_a_plan_that_assigns_nothing(monkeypatch, clock):
    """The eligibility check takes 99% of the limit: no arc is made, the model has no
    Assign-count column, the plan says the build phase (tables) ran out."""
    _stall_after(monkeypatch, tables_mod, "eligibility_matrix", clock, 0.99 * LIMIT)
    sc, p, spent = _plan(clock)
    _assert_nothing_built(sc, p, spent, "tables")
    assert p.solve.variables > 0  # the shortfall columns: the plan is still a plan


def test_a_model_block_stalled_to_the_limit_stops_the_build(monkeypatch, clock):
    """One block of the model (hub capacity rows) takes 99% of the limit: building stops after
    it (a half-built model is never used), and the same honest empty plan comes back."""
    _stall_after(monkeypatch, model_mod, "define_hub_capacity_constraints", clock, 0.99 * LIMIT)
    sc, p, spent = _plan(clock)
    _assert_nothing_built(sc, p, spent, "define_hub_capacity_constraints")


def test_a_model_predicted_too_large_for_the_time_left_is_not_started(monkeypatch, clock):
    """When the columns alone say the model cannot be built in the time left, building is not
    started at all (the estimate is per Assign-count column)."""
    monkeypatch.setattr(engine, "BUILD_SECONDS_PER_COLUMN", 10 * LIMIT)
    called = []
    real = engine.build_model
    monkeypatch.setattr(engine, "build_model", lambda *a, **k: called.append(k) or real(*a, **k))
    sc, p, spent = _plan(clock)
    _assert_nothing_built(sc, p, spent, "needed", stalled=0.0)
    assert called == [{"assignments": False}]  # only the empty model was built


def test_file_writing_runs_inside_the_budget(monkeypatch, clock):
    """The caller's finishing step (the CLI writes the option's files there) runs inside the
    limit: the solver was given the limit minus a reserve for it (its deadline is the limit
    minus that reserve), and the step receives the checked plan after the solve."""
    seen: dict = {}
    real_solve = engine._solve

    def spy_solve(model, options, solver_limit, **kw):
        seen["solver_at"], seen["solver_limit"] = clock(), solver_limit
        return real_solve(model, options, solver_limit, **kw)

    monkeypatch.setattr(engine, "_solve", spy_solve)

    def finish(plan) -> None:  # type: ignore[no-untyped-def]
        seen["finish_at"] = clock()
        seen["plan"] = plan

    t0 = clock()
    sc, p, spent = _plan(clock, finish=finish)
    assert seen["plan"] is p and p.solve.check_violations == 0
    assert seen["solver_at"] <= seen["finish_at"]  # the step ran after the solve
    # the write reserve was kept back from the solver (the planner's own deadline arithmetic)
    lines = len(p.unit_lines)
    assert (
        seen["solver_at"] + seen["solver_limit"] <= t0 + LIMIT - (2 * lines * engine.WRITE_SECONDS_PER_UNIT_LINE) + 1e-9
    )


def test_writing_reserve_grows_with_the_plan():
    """The reserve for the check and the files is per unit line of the greedy plan."""
    small = engine.finishing_reserve(0.01, 1000, 60.0, False, unit_lines=10, writes=True)
    big = engine.finishing_reserve(0.01, 1000, 60.0, False, unit_lines=10_000, writes=True)
    no_write = engine.finishing_reserve(0.01, 1000, 60.0, False, unit_lines=10_000, writes=False)
    assert small < no_write < big
