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

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from coalition.planner import sustainment
from coalition.planner.matrix import MatrixCache
from coalition.planner.model import Model, precedence_values

PRECEDENCE_FAMILIES = ("Precedence-before-count", "Precedence-order", "Precedence-presence")


def greedy_values(
    model: Model,
    initial: np.ndarray | None = None,
    preference: np.ndarray | None = None,
    *,
    deadline: float | None = None,
    upper: np.ndarray | None = None,
) -> np.ndarray:
    """A feasible column vector of ``model`` built by the greedy rule above.

    ``initial``: a feasible vector of Assign-count values to start from (e.g. a rounded LP
    solution); the greedy then only completes it. ``preference``: a score per Assign-count
    column, higher first, tried before the (late, cost, index) order (e.g. the LP value).
    ``deadline`` (a ``time.perf_counter()`` value): no more lines are started after it; the
    plan so far is complete and feasible (what is left is shortfall). ``upper``: a cap per
    Assign-count column below its bound (e.g. 0 to keep a column out of the completion).
    """
    import time

    g = _Greedy.start(model, initial, preference, upper)
    for li in g.line_order():
        if deadline is not None and time.perf_counter() > deadline:
            break
        if model.tables.line_first[li] < 0:
            continue
        g.fill_line(li)
    return g.finish()


def _cache(model: Model) -> MatrixCache:
    """The model's matrix cache when it belongs to its matrix, else an empty one (not kept)."""
    c = model.matrix_cache
    assert model.A is not None
    return c if c is not None and c.A is model.A else MatrixCache(model.A)


def _soft_rows_open(model: Model) -> np.ndarray:
    """The row upper bounds with the soft rows open: the enablers-first rows (a violation
    variable) never stop a unit here; their variables are set from the finished plan
    (precedence_values)."""
    assert model.hi is not None
    hi = model.hi.copy()
    for fam in PRECEDENCE_FAMILIES + sustainment.SOFT_FAMILIES:
        b = model.con(fam)
        hi[b.start : b.stop] = np.inf
    return hi


def _candidate_groups(
    model: Model, preference: np.ndarray | None, chi_x: np.ndarray | None = None
) -> dict[tuple[int, int], list[int]]:
    """Candidate columns grouped by (line, start period), sorted by (late, cost, index).
    ``chi_x``: the Assign-count upper bounds; a column whose bound is 0 can take no unit, so it
    is left out (the plan is the same: rule 3 would try it and add nothing)."""
    assert model.cost is not None
    tb = model.tables
    xb = model.var("Assign-count")
    if xb.size:
        x_line = tb.arc_line[model.x_arc]
        cost_x = model.cost[xb.start : xb.stop]
        pref = np.zeros(xb.size) if preference is None else -np.asarray(preference, dtype=float)
        order = np.lexsort((np.arange(xb.size), cost_x, model.x_late, pref, model.x_start, x_line))
        if chi_x is not None:
            order = order[chi_x[order] > 0]
    else:
        x_line = np.zeros(0, np.int64)
        order = np.zeros(0, np.int64)
    groups: dict[tuple[int, int], list[int]] = {}
    for j, li, t in zip(order.tolist(), x_line[order].tolist(), model.x_start[order].tolist(), strict=True):
        groups.setdefault((li, t), []).append(j)
    return groups


@dataclass(slots=True)
class _Greedy:
    """The greedy's working state: the plan ``v``, the row activities ``act`` against the
    bounds ``hi`` (soft rows open), and the coverage of the Line-cover rows by x only."""

    model: Model
    A: sp.csc_matrix
    chi: np.ndarray
    v: np.ndarray
    hi: np.ndarray
    act: np.ndarray
    cover: np.ndarray
    groups: dict[tuple[int, int], list[int]]
    b_index: dict[tuple[int, int], int]  # (hub, nation) -> Hub-nation-present column in its block
    nat_ix: dict[str, int]
    # first columns of the Assign-count, Pledge-start, Hub-nation-present blocks (-1: no block)
    # and the Line-cover rows
    x0: int = 0
    y0: int = -1
    b0: int = -1
    cover_rows: tuple[int, int] = (0, 0)
    # the rows one more unit on a set of columns touches and by how much: computed once per set
    # and matrix, kept on the model (Model.matrix_cache) for the next greedy run on that matrix
    delta: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    cover_delta: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def start(
        cls, model: Model, initial: np.ndarray | None, preference: np.ndarray | None, upper: np.ndarray | None = None
    ) -> _Greedy:
        tb = model.tables
        A = model.A
        assert A is not None and model.hi is not None and model.cost is not None and model.chi is not None
        v = np.zeros(model.n_cols)
        hi = _soft_rows_open(model)
        xb, yb, bb = model.var("Assign-count"), model.var("Pledge-start"), model.var("Hub-nation-present")
        chi = model.chi
        if upper is not None and xb.size:
            chi = chi.copy()
            chi[xb.start : xb.stop] = np.minimum(chi[xb.start : xb.stop], upper)
        nat_ix = {nname: i for i, nname in enumerate(tb.nations)}
        b_index = {(int(h), int(nn)): i for i, (h, nn) in enumerate(zip(model.b_hub, model.b_nation, strict=True))}
        groups = _candidate_groups(model, preference, chi[xb.start : xb.stop])
        cb = model.con("Line-cover")
        g = cls(
            model=model,
            A=A,
            chi=chi,
            v=v,
            hi=hi,
            act=np.zeros(0),
            cover=np.zeros(model.n_rows),
            groups=groups,
            b_index=b_index,
            nat_ix=nat_ix,
            x0=xb.start,
            y0=yb.start if yb.size else -1,
            b0=bb.start if bb.size else -1,
            cover_rows=(cb.start, cb.stop),
            delta=_cache(model).unit_rows,
        )
        if initial is not None and xb.size:
            g._seed(initial)
        g.act = A @ v
        if xb.size:
            g.cover[cb.start : cb.stop] = g.act[cb.start : cb.stop]  # u is still 0 here
        return g

    def _b_column(self, p: int, h: int) -> int:
        """The Hub-nation-present column of pledge ``p``'s nation at hub ``h`` (model-global)."""
        tb = self.model.tables
        return self.b0 + self.b_index[(h, self.nat_ix[tb.pledge_nation[p]])]

    def _seed(self, initial: np.ndarray) -> None:
        """Start from ``initial``'s Assign-count values (floored, within their bounds), with the
        pledge starts and hub-nation presences they imply."""
        model, tb, v = self.model, self.model.tables, self.v
        xb, yb, bb = model.var("Assign-count"), model.var("Pledge-start"), model.var("Hub-nation-present")
        x0 = np.floor(np.asarray(initial[xb.start : xb.stop], dtype=float) + 1e-6)
        v[xb.start : xb.stop] = np.clip(x0, 0, self.chi[xb.start : xb.stop])
        if yb.size:
            y = np.zeros(yb.size)
            np.add.at(y, tb.arc_pledge[model.x_arc] * tb.n_periods + model.x_start, v[xb.start : xb.stop])
            v[yb.start : yb.stop] = y
        if bb.size:
            used = v[xb.start : xb.stop] > 0.5
            for j in np.flatnonzero(used):
                p = int(tb.arc_pledge[model.x_arc[j]])
                h = int(tb.arc_hub[model.x_arc[j]])
                v[self._b_column(p, h)] = 1.0

    def line_order(self) -> list[int]:
        """Rule 1 (Role 2/3 facilities first, before the units they cover)."""
        tb = self.model.tables
        prio_rank = {"essential": 0, "important": 1, "desirable": 2}
        first = sustainment.first_lines(self.model)
        return sorted(
            range(tb.n_lines),
            key=lambda li: (
                li not in first,
                prio_rank.get(tb.line_priority[li], 3),
                int(tb.line_start_day[li]),
                tb.line_id[li],
            ),
        )

    def fill_line(self, li: int) -> None:
        """Rules 2 and 3 for line ``li``: each period, candidates in order until it is covered."""
        model, tb = self.model, self.model.tables
        need = float(tb.line_qty[li]) - 1e-9
        cover = self.cover
        for t in range(int(tb.line_first[li]), int(tb.line_last[li]) + 1):
            row = self.cover_rows[0] + model.cover_row[(li, t)]
            for j in self.groups.get((li, t), []):
                if cover[row] >= need:
                    break
                self._add_units(need, row, j)

    def _add_units(self, need: float, row: int, j: int) -> None:
        """Start units on Assign-count column ``j`` while Line-cover row ``row`` is short of
        ``need`` and no row breaks."""
        model, tb, v = self.model, self.model.tables, self.v
        xc = self.x0 + j
        if v[xc] >= self.chi[xc]:
            return  # the column is at its bound: no unit to start
        arc = model.x_arc[j]
        p = int(tb.arc_pledge[arc])
        cols = [xc]
        if self.y0 >= 0:
            cols.append(self.y0 + p * tb.n_periods + int(model.x_start[j]))
        if self.b0 >= 0:
            bc = self._b_column(p, int(tb.arc_hub[arc]))
            if v[bc] < 0.5:
                cols.append(bc)
        while self.cover[row] < need and v[xc] < self.chi[xc]:
            if not self._start_one(tuple(cols), xc):
                break
            # b is now set; later units of this arc need only x and y
            cols = cols[:2] if self.b0 >= 0 else cols

    def _col_rows(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        A = self.A
        return A.indices[A.indptr[j] : A.indptr[j + 1]], A.data[A.indptr[j] : A.indptr[j + 1]]

    def _rows_of(self, cols: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The rows one unit on ``cols`` touches and its coefficient sum in each."""
        got = self.delta.get(cols)
        if got is None:
            rws: list[np.ndarray] = []
            vls: list[np.ndarray] = []
            for c in cols:
                r, d = self._col_rows(c)
                rws.append(r)
                vls.append(d)
            touched, inv = np.unique(np.concatenate(rws), return_inverse=True)
            got = (touched, np.bincount(inv.ravel(), weights=np.concatenate(vls)))
            self.delta[cols] = got
        return got

    def _start_one(self, cols: tuple[int, ...], x_col: int) -> bool:
        """One more unit on ``cols`` (x, its pledge start, its hub-nation presence) if no row
        breaks; False when one would."""
        touched, dsum = self._rows_of(cols)
        if np.any(self.act[touched] + dsum > self.hi[touched] + 1e-7):
            return False
        self.act[touched] += dsum
        for c in cols:
            self.v[c] += 1
        # coverage rows gained by this unit
        gain = self.cover_delta.get(x_col)
        if gain is None:
            r, d = self._col_rows(x_col)
            in_cover = (r >= self.cover_rows[0]) & (r < self.cover_rows[1])
            gain = (r[in_cover], d[in_cover])
            self.cover_delta[x_col] = gain
        self.cover[gain[0]] += gain[1]
        return True

    def finish(self) -> np.ndarray:
        """Shortfall = what coverage leaves uncovered; then the soft blocks' variables."""
        model, v = self.model, self.v
        ub, cb = model.var("Line-shortfall"), model.con("Line-cover")
        if ub.size:
            qty = model.tables.line_qty[model.u_line].astype(float)
            cov = self.cover[cb.start : cb.stop]
            v[ub.start : ub.stop] = np.maximum(0.0, qty - cov)
        return sustainment.complete_values(model, precedence_values(model, v))


def objective_of(model: Model, values: np.ndarray) -> float:
    assert model.cost is not None
    return float(model.cost @ values)


def is_feasible(model: Model, values: np.ndarray, tol: float = 1e-6) -> bool:
    assert model.A is not None and model.lo is not None and model.hi is not None
    assert model.clo is not None and model.chi is not None
    act = model.A @ values
    return bool(
        np.all(act >= model.lo - tol)
        and np.all(act <= model.hi + tol)
        and np.all(values >= model.clo - tol)
        and np.all(values <= model.chi + tol)
    )


def _take_column(act: np.ndarray, A: sp.csc_matrix, j: int) -> None:
    """``act -= A[:, j]`` on the column's nonzeros only."""
    lo, hi = A.indptr[j], A.indptr[j + 1]
    np.subtract.at(act, A.indices[lo:hi], A.data[lo:hi])


#: Passes of the repair over the rows its plan breaks: removing a unit for one row (e.g. a
#: facility a capacity row cannot hold) can break another (the 10-1-2 rows that relied on it).
REPAIR_PASSES = 5


def _slices(model: Model) -> MatrixCache:
    """The model's matrix cache with the Assign-count and Pledge-start parts of the matrix cut,
    by column and by row."""
    assert model.A is not None
    c = _cache(model)
    if c.x_cols is None:
        xb, yb = model.var("Assign-count"), model.var("Pledge-start")
        c.x_cols = model.A[:, xb.start : xb.stop].tocsc()
        c.x_rows = c.x_cols.tocsr()
        if yb.size:
            c.y_cols = model.A[:, yb.start : yb.stop].tocsc()
            c.y_rows = c.y_cols.tocsr()
    return c


def _hard_rows(model: Model) -> np.ndarray:
    """Rows the repair makes hold (the others are rebuilt from x or soft for the greedy)."""
    keep = np.ones(model.n_rows, dtype=bool)
    for name in ("Pledge-start-def", "Hub-nation-link", "Line-cover", *PRECEDENCE_FAMILIES, *sustainment.SOFT_FAMILIES):
        b = model.con(name)
        keep[b.start : b.stop] = False
    return keep


@dataclass(slots=True)
class _Repair:
    """The repair's state: units per Assign-count column and the row activities of x and y."""

    model: Model
    x: np.ndarray
    act: np.ndarray
    mats: MatrixCache  # with the slices cut (_slices)
    y_of: np.ndarray | None  # Pledge-start column (in its block) of each Assign-count column

    def cut_row(self, r: int, tol: float) -> bool:
        """Remove units from row ``r``'s columns, latest start first, until it holds; True if
        any unit was removed."""
        model, x, act, mats = self.model, self.x, self.act, self.mats
        assert model.hi is not None and mats.x_rows is not None and mats.x_cols is not None
        A_x = mats.x_rows
        cols = A_x.indices[A_x.indptr[r] : A_x.indptr[r + 1]]
        if self.y_of is not None:
            # columns reaching row r through their Pledge-start
            A_y_rows = mats.y_rows
            assert A_y_rows is not None
            ys = A_y_rows.indices[A_y_rows.indptr[r] : A_y_rows.indptr[r + 1]]
            if ys.size:
                cols = np.union1d(cols, np.flatnonzero(np.isin(self.y_of, ys)))
        # removing a unit with a negative coefficient (a Role 2 a Medical row relies on) cannot help
        cols = cols[np.asarray(A_x[r, cols].todense()).ravel() >= 0] if cols.size else cols
        removed = False
        for j in sorted(cols.tolist(), key=lambda c: (-int(model.x_start[c]), -c)):
            while x[j] > 0 and act[r] > model.hi[r] + tol:
                x[j] -= 1
                removed = True
                _take_column(act, mats.x_cols, j)
                if self.y_of is not None and mats.y_cols is not None:
                    _take_column(act, mats.y_cols, int(self.y_of[j]))
            if act[r] <= model.hi[r] + tol:
                break
        return removed


def repair(
    model: Model,
    values: np.ndarray,
    tol: float = 1e-7,
    *,
    preference: np.ndarray | None = None,
    deadline: float | None = None,
) -> np.ndarray:
    """Make a plan that breaks some ``<=`` rows feasible by removing units, then complete it
    greedily (``preference``: as :func:`greedy_values`'). Units are removed from the breaking
    row's columns, latest start first; rows that break because a unit was removed (a facility
    the 10-1-2 rows relied on) are repaired in the next pass (at most REPAIR_PASSES). The
    completion starts no line after ``deadline`` (the plan is complete and feasible either way)."""
    assert model.A is not None and model.hi is not None
    xb = model.var("Assign-count")
    v = values.copy()
    if not xb.size:
        return greedy_values(model, initial=v, preference=preference, deadline=deadline)
    x = np.round(v[xb.start : xb.stop])
    mats = _slices(model)
    # rows over x only (the y and b parts are rebuilt by greedy_values from x)
    assert mats.x_cols is not None
    act = mats.x_cols @ x
    y_of = None
    if mats.y_cols is not None:
        tb = model.tables
        y_of = tb.arc_pledge[model.x_arc] * tb.n_periods + model.x_start
        y = np.zeros(model.var("Pledge-start").size)
        np.add.at(y, y_of, x)
        act = act + mats.y_cols @ y
    st = _Repair(model, x, act, mats, y_of)
    hard = _hard_rows(model)
    for _ in range(REPAIR_PASSES):
        bad = np.flatnonzero((st.act > model.hi + tol) & hard)
        if not any([st.cut_row(r, tol) for r in bad.tolist()]):
            break
    v2 = np.zeros_like(v)
    v2[xb.start : xb.stop] = st.x
    return greedy_values(model, initial=v2, preference=preference, deadline=deadline)
