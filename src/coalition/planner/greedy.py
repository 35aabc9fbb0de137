"""The greedy baseline planner: deterministic, documented, and checked against the same model.

It works on the model's own matrices, so it respects exactly the constraints the optimiser
respects (nothing is re-implemented): a plan is a column vector, feasibility is ``A v <= hi``.

Rule (see ``docs/planner/greedy.md``):

1. Lines in order of priority (essential, important, desirable), then start day, then id.
2. For each line, periods in time order; while the period is short of units, start one more
   unit *in that period* (so it covers the period and the tour after it).
3. The candidate is the admissible ``Assign-count`` column of this line and period that breaks
   no constraint, with the smallest (days late, objective cost, column index): the column index
   order is the sorted-id order of the tables, so ties are broken deterministically.
4. No look-ahead, no undo: a unit once started stays.

The result is a feasible plan of the model; shortfall variables take the uncovered amount.
"""

from __future__ import annotations

import numpy as np

from coalition.planner.model import Model


def greedy_values(model: Model) -> np.ndarray:
    """A feasible column vector of ``model`` built by the greedy rule above."""
    tb = model.tables
    A = model.A
    assert A is not None and model.hi is not None and model.cost is not None
    n = model.n_cols
    v = np.zeros(n)
    act = np.zeros(model.n_rows)
    hi = model.hi
    xb = model.var("Assign-count")
    yb = model.var("Pledge-start")
    bb = model.var("Hub-nation-present")
    ub = model.var("Line-shortfall")
    T = tb.n_periods
    nat_ix = {nname: i for i, nname in enumerate(tb.nations)}
    b_index = {(int(h), int(nn)): i for i, (h, nn) in enumerate(zip(model.b_hub, model.b_nation))}

    indptr, indices, data = A.indptr, A.indices, A.data

    def col_rows(j: int) -> tuple[np.ndarray, np.ndarray]:
        return indices[indptr[j] : indptr[j + 1]], data[indptr[j] : indptr[j + 1]]

    # candidate columns grouped by (line, start period), sorted by (late, cost, index)
    if xb.size:
        x_line = tb.arc_line[model.x_arc]
        cost_x = model.cost[xb.start : xb.stop]
        order = np.lexsort((np.arange(xb.size), cost_x, model.x_late, model.x_start, x_line))
    else:
        x_line = np.zeros(0, np.int64)
        order = np.zeros(0, np.int64)
    groups: dict[tuple[int, int], list[int]] = {}
    for j in order:
        groups.setdefault((int(x_line[j]), int(model.x_start[j])), []).append(int(j))

    cover = np.zeros(model.n_rows)  # coverage by x only, on Line-cover rows
    cb = model.con("Line-cover")

    prio_rank = {"essential": 0, "important": 1, "desirable": 2}
    lines = sorted(
        range(tb.n_lines),
        key=lambda li: (prio_rank.get(tb.line_priority[li], 3), int(tb.line_start_day[li]), tb.line_id[li]),
    )
    for li in lines:
        if tb.line_first[li] < 0:
            continue
        for t in range(int(tb.line_first[li]), int(tb.line_last[li]) + 1):
            row = cb.start + model.cover_row[(li, t)]
            for j in groups.get((li, t), []):
                if cover[row] >= tb.line_qty[li] - 1e-9:
                    break
                p = int(tb.arc_pledge[model.x_arc[j]])
                h = int(tb.arc_hub[model.x_arc[j]])
                cols = [xb.start + j]
                if yb.size:
                    cols.append(yb.start + p * T + int(model.x_start[j]))
                if bb.size:
                    bc = bb.start + b_index[(h, nat_ix[tb.pledge_nation[p]])]
                    if v[bc] < 0.5:
                        cols.append(bc)
                while cover[row] < tb.line_qty[li] - 1e-9 and v[xb.start + j] < model.chi[xb.start + j]:
                    rws: list[np.ndarray] = []
                    vls: list[np.ndarray] = []
                    for c in cols:
                        r, d = col_rows(c)
                        rws.append(r)
                        vls.append(d)
                    r_all = np.concatenate(rws)
                    d_all = np.concatenate(vls)
                    touched, inv = np.unique(r_all, return_inverse=True)
                    dsum = np.bincount(inv.ravel(), weights=d_all)
                    if np.any(act[touched] + dsum > hi[touched] + 1e-7):
                        break
                    act[touched] += dsum
                    for c in cols:
                        v[c] += 1
                    # coverage rows gained by this unit
                    r, d = col_rows(xb.start + j)
                    in_cover = (r >= cb.start) & (r < cb.stop)
                    cover[r[in_cover]] += d[in_cover]
                    # b is now set; later units of this arc need only x and y
                    cols = cols[:2] if bb.size else cols
    # shortfall = what coverage leaves uncovered
    if ub.size:
        qty = tb.line_qty[model.u_line].astype(float)
        cov = cover[cb.start : cb.stop]
        v[ub.start : ub.stop] = np.maximum(0.0, qty - cov)
    return v


def objective_of(model: Model, values: np.ndarray) -> float:
    assert model.cost is not None
    return float(model.cost @ values)


def is_feasible(model: Model, values: np.ndarray, tol: float = 1e-6) -> bool:
    assert model.A is not None and model.lo is not None and model.hi is not None
    act = model.A @ values
    return bool(
        np.all(act >= model.lo - tol)
        and np.all(act <= model.hi + tol)
        and np.all(values >= model.clo - tol)
        and np.all(values <= model.chi + tol)
    )
