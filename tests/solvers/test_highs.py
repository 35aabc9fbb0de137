"""The typed HiGHS wrapper: every outcome is a result, on real HiGHS runs."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from coalition.solvers.highs import HighsModel, MatrixProblem, Outcome, Report, SolverOptions, solve


def knapsack(n: int = 60, seed: int = 3) -> MatrixProblem:
    """max value.x, weight.x <= half the weight, x binary (a MIP HiGHS must branch on)."""
    rng = np.random.default_rng(seed)
    w = rng.integers(20, 100, n).astype(float)
    v = w + rng.integers(-5, 6, n)
    cover = sp.random(n // 2, n, density=0.3, random_state=seed, format="csc")
    cover.data[:] = 1.0
    A = sp.vstack([sp.csc_matrix(w[None, :]), cover]).tocsc()
    return MatrixProblem(
        cost=v,
        col_lo=np.zeros(n),
        col_hi=np.ones(n),
        A=A,
        row_lo=np.full(A.shape[0], -np.inf),
        row_hi=np.concatenate([[w.sum() / 2], np.full(n // 2, 3.0)]),
        integer=np.ones(n, dtype=bool),
        maximize=True,
    )


def test_optimal_lp_with_bound_and_reduced_costs():
    # min x + 2y  s.t.  x + y >= 1 ; optimum x = 1
    p = MatrixProblem(
        cost=np.array([1.0, 2.0]),
        col_lo=np.zeros(2),
        col_hi=np.full(2, np.inf),
        A=sp.csc_matrix(np.array([[1.0, 1.0]])),
        row_lo=np.array([1.0]),
        row_hi=np.array([np.inf]),
    )
    r = solve(p)
    assert r.outcome is Outcome.OPTIMAL and r.has_solution
    assert r.objective == r.bound == 1.0 and r.gap == 0.0
    assert np.allclose(r.values, [1.0, 0.0]) and r.reduced_costs is not None
    assert r.reduced_costs[1] > 0  # y prices out


def test_infeasible_is_a_result():
    p = MatrixProblem(
        cost=np.array([1.0]),
        col_lo=np.array([0.0]),
        col_hi=np.array([1.0]),
        A=sp.csc_matrix(np.array([[1.0]])),
        row_lo=np.array([2.0]),
        row_hi=np.array([np.inf]),
        integer=np.array([True]),
    )
    r = solve(p)
    assert r.outcome is Outcome.INFEASIBLE and not r.has_solution and r.objective is None


def test_optimal_mip_and_live_reports():
    seen: list[Report] = []
    r = solve(knapsack(), SolverOptions(mip_rel_gap=0.0), on_report=seen.append)
    assert r.outcome is Outcome.OPTIMAL and r.has_solution
    assert r.objective is not None and r.bound is not None and r.objective <= r.bound + 1e-6  # max
    assert np.all(np.isclose(r.values, np.round(r.values)))
    assert any(s.improving and s.incumbent is not None for s in seen)


def test_feasible_when_stopped_by_a_solution_limit():
    m = HighsModel(knapsack(120, 5), SolverOptions(mip_rel_gap=0.0, presolve=False))
    m.set_option("mip_max_improving_sols", 1)
    r = m.run()
    assert r.outcome is Outcome.FEASIBLE and r.has_solution and r.message == "Solution limit reached"
    assert r.gap is not None and r.gap > 0


def test_should_stop_interrupts_with_the_best_so_far():
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    r = solve(knapsack(150, 7), SolverOptions(mip_rel_gap=0.0, presolve=False), should_stop=stop)
    assert r.outcome is Outcome.INTERRUPTED
    assert calls["n"] > 3


def test_deadline_in_the_past_is_a_time_limit():
    import time

    r = solve(knapsack(150, 7), SolverOptions(mip_rel_gap=0.0, presolve=False), deadline=time.perf_counter() - 1)
    assert r.outcome in (Outcome.TIME_LIMIT, Outcome.NO_SOLUTION)


def test_no_banner_on_stdout(capfd):
    solve(knapsack(10, 1))
    out, _ = capfd.readouterr()
    assert out == ""


def test_row_duals_price_a_column_and_add_cols_resumes():
    """min x1 + 2 x2, x1 + x2 >= 1: optimum x1 = 1, row dual 1, so cost - A^T y = (0, 1) are
    HiGHS's reduced costs. A column x3 of cost 0.5 in the row prices at 0.5 - 1 < 0; added with
    add_cols, the re-run finds the better optimum 0.5 (column generation's loop)."""
    A = sp.csc_matrix(np.array([[1.0, 1.0]]))
    hm = HighsModel(
        MatrixProblem(
            cost=np.array([1.0, 2.0]),
            col_lo=np.zeros(2),
            col_hi=np.full(2, 5.0),
            A=A,
            row_lo=np.array([1.0]),
            row_hi=np.array([np.inf]),
        ),
        SolverOptions(method="simplex"),
    )
    r = hm.run()
    assert r.outcome is Outcome.OPTIMAL and r.row_duals is not None
    assert r.row_duals == np.array([1.0])
    assert np.allclose(np.array([1.0, 2.0]) - A.T @ r.row_duals, r.reduced_costs)
    col = sp.csc_matrix(np.array([[1.0]]))
    assert 0.5 - (col.T @ r.row_duals)[0] < 0
    hm.add_cols(np.array([0.5]), np.zeros(1), np.full(1, 5.0), col)
    r2 = hm.run()
    assert r2.outcome is Outcome.OPTIMAL and r2.objective == 0.5 and r2.values is not None
    assert np.allclose(r2.values, [0.0, 0.0, 1.0])


def _transport(seed: int, n: int = 30) -> MatrixProblem:
    """A random LP min c.x, A x >= demand, 0 <= x <= caps (HiGHS needs some iterations)."""
    rng = np.random.default_rng(seed)
    A = sp.random(n, 3 * n, density=0.2, random_state=seed, format="csc")
    A.data[:] = rng.integers(1, 5, A.nnz).astype(float)
    return MatrixProblem(
        cost=rng.integers(1, 20, 3 * n).astype(float),
        col_lo=np.zeros(3 * n),
        col_hi=rng.integers(1, 6, 3 * n).astype(float),
        A=A,
        row_lo=np.full(n, 2.0),
        row_hi=np.full(n, np.inf),
    )


def test_a_basis_starts_an_lp_of_the_same_shape_with_other_bounds():
    """The optimal basis of one LP starts another with the same rows and columns and other
    column bounds: the same optimum as a cold run, found in fewer simplex iterations; a basis
    of another shape is refused and the run is cold."""
    p = _transport(5)
    first = HighsModel(p, SolverOptions(method="simplex"))
    assert first.run().outcome is Outcome.OPTIMAL
    basis = first.basis()
    assert basis is not None and (basis.n_cols, basis.n_rows) == (90, 30)
    rng = np.random.default_rng(1)
    for _ in range(4):
        hi = np.where(rng.random(90) < 0.2, 0.0, p.col_hi)  # some columns dropped, as per world
        q = MatrixProblem(p.cost, p.col_lo, hi, p.A, p.row_lo, p.row_hi)
        cold = HighsModel(q, SolverOptions(method="simplex"))
        warm = HighsModel(q, SolverOptions(method="simplex"))
        assert warm.set_basis(basis)
        a, b = cold.run(), warm.run()
        assert a.outcome is b.outcome
        if a.outcome is Outcome.OPTIMAL:
            assert b.objective is not None and a.objective is not None
            assert abs(a.objective - b.objective) <= 1e-7 * max(1.0, abs(a.objective))
            assert b.values is not None and np.all(p.A @ b.values >= p.row_lo - 1e-6)
            assert np.all(b.values <= hi + 1e-9)
    other = HighsModel(_transport(5, n=20), SolverOptions(method="simplex"))
    assert not other.set_basis(basis)
    assert other.run().outcome is Outcome.OPTIMAL
