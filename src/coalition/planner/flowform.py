"""The solver's form of the planner MIP: the same constraints written as stock and flow
(:func:`flow_form`), and the stock values a core solution implies (:func:`stock_values`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from coalition.planner.matrix import INF, Block, Model


@dataclass(slots=True)
class FlowForm:
    """The model as the solver sees it. ``Line-cover`` and ``Pledge-unit-cycle`` are written
    over stock variables (``Line-presence``, ``Pledge-busy``) kept by flow rows: a unit enters a stock in
    its start period and leaves after its last one. Each column then has two nonzeros per
    family instead of one per period of its tour; the feasible set in the original variables is
    the same (the stocks are determined by x, y)."""

    A: sp.csc_matrix
    lo: np.ndarray
    hi: np.ndarray
    clo: np.ndarray
    chi: np.ndarray
    integer: np.ndarray
    cost: np.ndarray
    n_core: int
    stock_of: dict[str, tuple[str, Block]]  # stock variable block -> (family it replaces, rows)
    row_origin: np.ndarray  # model row of each solver row, -1 for flow/stock rows


def _flow_rows(
    key_first: np.ndarray,
    enter_row: np.ndarray,
    leave_row: np.ndarray,
    valid_leave: np.ndarray,
    cols: np.ndarray,
    coef: np.ndarray,
    n: int,
    stock0: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows S[i] - S[i-1] - sum(entering) + sum(leaving) = 0 for stock rows 0..n-1."""
    i = np.arange(n)
    prev = ~key_first
    r = [i, i[prev], enter_row, leave_row[valid_leave]]
    c = [stock0 + i, stock0 + i[prev] - 1, cols, cols[valid_leave]]
    v = [np.ones(n), -np.ones(int(prev.sum())), -coef, coef[valid_leave]]
    return np.concatenate(r), np.concatenate(c), np.concatenate(v)


@dataclass(slots=True)
class _Rows:
    """The solver rows and extra (stock) columns of a flow form as they are added."""

    n_cols: int
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    lo_parts: list[np.ndarray] = field(default_factory=list)
    hi_parts: list[np.ndarray] = field(default_factory=list)
    extra_lo: list[np.ndarray] = field(default_factory=list)
    extra_hi: list[np.ndarray] = field(default_factory=list)
    stock_of: dict[str, tuple[str, Block]] = field(default_factory=dict)
    n_rows: int = 0

    def add(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> int:
        start = self.n_rows
        self.blocks.append((rows + self.n_rows, cols, vals))
        self.lo_parts.append(lo)
        self.hi_parts.append(hi)
        self.n_rows += lo.size
        return start

    def new_stock(self, name: str, replaces: str, n: int) -> int:
        """``n`` nonnegative stock columns ``name`` standing in for the rows ``replaces``."""
        start = self.n_cols
        self.n_cols += n
        self.extra_lo.append(np.zeros(n))
        self.extra_hi.append(np.full(n, INF))
        self.stock_of[name] = (replaces, Block(name, start, start + n))
        return start


def _line_presence(m: Model, out: _Rows, keep_rows: np.ndarray) -> None:
    """``Line-cover`` over the stock ``Line-presence`` (units present per line and period), kept
    by flow rows: stock + shortfall >= qty."""
    assert m.lo is not None and m.hi is not None
    tb = m.tables
    xb, ub = m.var("Assign-count"), m.var("Line-shortfall")
    xs, xl = m.x_start, m.x_last
    cb = m.con("Line-cover")
    if not (cb.size and xb.size):
        return
    keep_rows[cb.start : cb.stop] = False
    n = cb.size
    s0 = out.new_stock("Line-presence", "Line-cover", n)
    line = tb.arc_line[m.x_arc]
    row_of = np.full(tb.n_lines, -1, dtype=np.int64)
    for k, l_ in enumerate(m.u_line):  # (line, period) rows, each line's periods in order
        if row_of[l_] < 0:
            row_of[l_] = k
    enter = row_of[line] + (xs - tb.line_first[line])
    leave = row_of[line] + (xl + 1 - tb.line_first[line])
    valid = xl + 1 <= tb.line_last[line]
    key_first = m.u_period == tb.line_first[m.u_line]
    r, c, v = _flow_rows(key_first, enter, leave, valid, xb.start + np.arange(xb.size), np.ones(xb.size), n, s0)
    out.add(r, c, v, np.zeros(n), np.zeros(n))
    i = np.arange(n)
    out.add(
        np.concatenate([i, i]),
        np.concatenate([s0 + i, ub.start + i]),
        np.ones(2 * n),
        m.lo[cb.start : cb.stop],
        m.hi[cb.start : cb.stop],
    )


def _pledge_busy(m: Model, out: _Rows, keep_rows: np.ndarray) -> None:
    """``Pledge-unit-cycle`` over the stock ``Pledge-busy`` (busy units per pledge and day),
    kept by flow rows."""
    assert m.lo is not None and m.hi is not None
    xb = m.var("Assign-count")
    pb = m.con("Pledge-unit-cycle")
    if not (pb.size and xb.size and m.cycle_flow is not None):
        return
    keep_rows[pb.start : pb.stop] = False
    n = pb.size
    s0 = out.new_stock("Pledge-busy", "Pledge-unit-cycle", n)
    enter, leave, first = m.cycle_flow
    valid = leave >= 0
    r, c, v = _flow_rows(
        first, enter, np.where(valid, leave, 0), valid, xb.start + np.arange(xb.size), np.ones(xb.size), n, s0
    )
    out.add(r, c, v, np.zeros(n), np.zeros(n))
    i = np.arange(n)
    out.add(i, s0 + i, np.ones(n), m.lo[pb.start : pb.stop], m.hi[pb.start : pb.stop])


def flow_form(m: Model, include: np.ndarray | None = None) -> FlowForm:
    """The solver's form. ``include`` masks which of the model's other rows (all but
    ``Line-cover`` and ``Pledge-unit-cycle``) are passed now; the rest can be added later
    (row generation, see :mod:`coalition.planner.solver`)."""
    assert m.A is not None and m.lo is not None and m.hi is not None
    keep_rows = np.ones(m.n_rows, dtype=bool)
    out = _Rows(n_cols=m.n_cols)
    _line_presence(m, out, keep_rows)
    _pledge_busy(m, out, keep_rows)
    # every other row unchanged
    if include is not None:
        keep_rows &= include
    rest = np.flatnonzero(keep_rows)
    origin = np.full(out.n_rows, -1, dtype=np.int64)
    if rest.size:
        sub = m.A.tocsr()[rest].tocoo()
        out.add(sub.row.astype(np.int64), sub.col.astype(np.int64), sub.data, m.lo[rest], m.hi[rest])
    blocks = out.blocks
    rows = np.concatenate([b[0] for b in blocks]) if blocks else np.zeros(0, np.int64)
    cols = np.concatenate([b[1] for b in blocks]) if blocks else np.zeros(0, np.int64)
    vals = np.concatenate([b[2] for b in blocks]) if blocks else np.zeros(0)
    F = sp.csc_matrix((vals, (rows, cols)), shape=(out.n_rows, out.n_cols))
    F.sum_duplicates()
    F.sort_indices()
    assert m.clo is not None and m.chi is not None and m.integer is not None and m.cost is not None
    k = out.n_cols - m.n_cols
    return FlowForm(
        A=F,
        lo=np.concatenate(out.lo_parts) if out.lo_parts else np.zeros(0),
        hi=np.concatenate(out.hi_parts) if out.hi_parts else np.zeros(0),
        clo=np.concatenate([m.clo, *out.extra_lo]),
        chi=np.concatenate([m.chi, *out.extra_hi]),
        integer=np.concatenate([m.integer, np.zeros(k, dtype=bool)]),
        cost=np.concatenate([m.cost, np.zeros(k)]),
        n_core=m.n_cols,
        stock_of=out.stock_of,
        row_origin=np.concatenate([origin, rest]),
    )


def stock_values(m: Model, ff: FlowForm, core: np.ndarray) -> np.ndarray:
    """Extend a core solution (x, u, y, b) with the stock values it implies."""
    assert m.A is not None
    act = m.A @ core
    full = np.zeros(ff.clo.size)
    full[: m.n_cols] = core
    for family, blk in ff.stock_of.values():
        rows = m.con(family)
        vals = act[rows.start : rows.stop].copy()
        if family == "Line-cover":
            ub = m.var("Line-shortfall")
            vals -= core[ub.start : ub.stop]
        full[blk.start : blk.stop] = vals
    return full
