"""Large-neighbourhood search on a plan of a restricted model (L, after column generation):
sub-MIPs with every row of the model over the columns of one region's hubs, the rest of the
plan fixed (docs/planner/solver.md, *Plans on L: region sub-MIPs*).

A neighbourhood frees the Assign-count columns at the hubs of one region, every other column
that shares a row with them (shortfall, pledge starts, cohesion, enablers-first, sustainment),
and keeps every row any free column is in, with the fixed columns' activity moved into the row
bounds. The rows no free column touches hold unchanged, so every plan of the sub-MIP is a plan
of the model (and, for a restricted model, of the full model); the incumbent restricted to the
free columns is a feasible start, so a sub-MIP never makes the plan worse. A candidate is kept
only when it satisfies every row of the model and lowers the objective. The sub-MIP's own bound
is never used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from coalition.planner.greedy import is_feasible
from coalition.planner.model import Model
from coalition.solvers.highs import HighsModel, MatrixProblem, SolverOptions

# a sub-MIP stops at this gap to its own bound (never reported), or after LNS_SECONDS
LNS_GAP = 0.01
LNS_SECONDS = 30.0
# none is started with less than this left
LNS_MIN_SECONDS = 3.0


@dataclass(slots=True)
class LnsResult:
    """The best plan, its objective, and what the search did."""

    values: np.ndarray
    objective: float
    tried: int = 0
    kept: int = 0
    gain: float = 0.0
    seconds: float = 0.0
    done: bool = False  # a whole pass over the neighbourhoods without improvement
    log: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SubProblem:
    """A neighbourhood's MIP: ``cols`` the model columns it frees, ``problem`` over them."""

    problem: MatrixProblem
    cols: np.ndarray


def sub_problem(model: Model, plan: np.ndarray, free_x: np.ndarray, A_csr: sp.csr_matrix | None = None) -> SubProblem:
    """The MIP over Assign-count columns ``free_x`` (bool per column of the block), the other
    columns sharing a row with them, and every row a free column is in; every other column is
    fixed at ``plan``, its activity moved into the row bounds."""
    assert model.A is not None and model.lo is not None and model.hi is not None
    assert model.clo is not None and model.chi is not None and model.cost is not None
    assert model.integer is not None
    A = model.A.tocsc()
    csr = A.tocsr() if A_csr is None else A_csr
    xb = model.var("Assign-count")
    is_x = np.zeros(model.n_cols, dtype=bool)
    is_x[xb.start : xb.stop] = True
    free = np.zeros(model.n_cols, dtype=bool)
    free[xb.start + np.flatnonzero(free_x)] = True
    rows_x = np.unique(A[:, np.flatnonzero(free)].indices)
    touched = np.unique(csr[rows_x].indices)
    free[touched[~is_x[touched]]] = True
    cols = np.flatnonzero(free)
    rows = np.unique(A[:, cols].indices)
    sub = csr[rows]
    fixed = np.where(free, 0.0, plan)
    act = sub @ fixed
    prob = MatrixProblem(
        cost=model.cost[cols],
        col_lo=model.clo[cols],
        col_hi=model.chi[cols],
        A=sp.csc_matrix(sub[:, cols]),
        row_lo=model.lo[rows] - act,
        row_hi=model.hi[rows] - act,
        integer=model.integer[cols],
    )
    return SubProblem(prob, cols)


def region_neighbourhoods(model: Model, plan: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Per region, the Assign-count columns at its hubs (bool per column), the regions whose
    lines the plan leaves shortest (by shortfall cost) first."""
    tb = model.tables
    assert model.cost is not None
    hub_of = tb.arc_hub[model.x_arc]
    region_of_hub = np.asarray(tb.hub_region, dtype=object)
    ub = model.var("Line-shortfall")
    short = np.zeros(len(set(tb.hub_region)))
    names = sorted(set(tb.hub_region))
    at = {r: i for i, r in enumerate(names)}
    if ub.size:
        cost_u = model.cost[ub.start : ub.stop] * plan[ub.start : ub.stop]
        for li, c in zip(model.u_line, cost_u, strict=True):
            place = tb.line_place[int(li)]
            region = place[len("region:") :] if place.startswith("region:") else tb.hub_region[tb.hub_id.index(place)]
            if region in at:
                short[at[region]] += float(c)
    out = []
    for i in np.argsort(-short, kind="stable"):
        g = region_of_hub[hub_of] == names[int(i)]
        if g.any():
            out.append((names[int(i)], g))
    return out


def improve(
    model: Model,
    plan: np.ndarray,
    deadline: float,
    *,
    threads: int = 1,
    seed: int = 0,
    should_stop: Callable[[], bool] | None = None,
    report: Callable[[float], None] | None = None,
) -> LnsResult:
    """Region sub-MIPs on ``plan`` (a feasible plan of ``model``) until ``deadline``, a stop
    request, or a whole pass over the regions without improvement. Never worse than ``plan``.
    ``report`` is told the best objective at the start and after every sub-MIP."""
    from coalition.planner.engine import recompute

    assert model.A is not None and model.cost is not None and model.integer is not None
    t0 = time.perf_counter()
    best = LnsResult(plan.copy(), float(model.cost @ plan))
    csr = model.A.tocsr()
    stale = 0
    hoods = region_neighbourhoods(model, plan)
    k = 0
    if report is not None:
        report(best.objective)
    while hoods and stale < len(hoods):
        left = deadline - time.perf_counter()
        if left < LNS_MIN_SECONDS or (should_stop is not None and should_stop()):
            break
        name, free_x = hoods[k % len(hoods)]
        k += 1
        sub = sub_problem(model, best.values, free_x, csr)
        hm = HighsModel(
            sub.problem,
            SolverOptions(mip_rel_gap=LNS_GAP, threads=threads, seed=seed),
            should_stop=should_stop,
            deadline=deadline,
        )
        hm.set_start(best.values[sub.cols])
        r = hm.run(time_limit=max(0.01, min(left, LNS_SECONDS)))
        best.tried += 1
        gained = 0.0
        if r.values is not None:
            cand = best.values.copy()
            v = r.values
            cand[sub.cols] = np.where(model.integer[sub.cols], np.round(v), v)
            if not is_feasible(model, cand):
                cand = recompute(model, cand)  # numerically off: the plan its assignments define
            obj = float(model.cost @ cand)
            if obj < best.objective - 1e-6 and is_feasible(model, cand):
                gained = best.objective - obj
                best.values, best.objective = cand, obj
                best.kept += 1
                best.gain += gained
        best.log.append(f"{name}: {sub.cols.size} cols, {r.outcome.value}, -{gained:,.0f}, {r.time:.1f} s")
        stale = 0 if gained > 0 else stale + 1
        if report is not None:
            report(best.objective)
    best.done = bool(hoods) and stale >= len(hoods)
    best.seconds = time.perf_counter() - t0
    return best
