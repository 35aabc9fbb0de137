"""The planner MIP's matrix container and the Assign-count column set.

:class:`Model` holds a MIP in matrix form, assembled block by block (``add_variables``,
``add_constraints``, ``finalize``); :func:`_start_columns` enumerates every admissible
Assign-count column with its days; :func:`_event_rows` turns day intervals into the exact
day-level rows the capacity blocks use. The blocks themselves live in
:mod:`coalition.planner.blocks` and :mod:`coalition.planner.precedence`; the assembly in
:func:`coalition.planner.model.build_model`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from coalition.planner.schemas import PlanOptions
from coalition.planner.tables import PlanningTables

if TYPE_CHECKING:
    from coalition.planner.medical import MedicalIndex
    from coalition.planner.precedence import PrecedenceIndex
    from coalition.planner.resupply import ResupplyIndex


# The planner.sustainment blocks' indices, by family (each set by the block that builds it).
SustainIndex = TypedDict(
    "SustainIndex",
    {
        "medical": "MedicalIndex",
        # hubs a facility of role >= r can be sent to, per role r (built once per model)
        "medical-candidates": "dict[int, NDArray[np.int64]]",
        "resupply": "ResupplyIndex",
    },
    total=False,
)

INF = float("inf")


@dataclass(slots=True)
class Block:
    name: str
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(slots=True)
class MatrixCache:
    """What is computed from a model's matrix alone and reused while it does not change: per
    set of columns, the rows one unit on them touches with the coefficient sums (the greedy),
    and the matrix's column and row slices (the repair). A model's shallow copies with other
    bounds (the scenario analysis' worlds) share it; users check ``A`` is their matrix."""

    A: sp.csc_matrix
    unit_rows: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # the Assign-count and Pledge-start parts of A, by column and by row (None: not yet cut)
    x_cols: sp.csc_matrix | None = None
    x_rows: sp.csr_matrix | None = None
    y_cols: sp.csc_matrix | None = None
    y_rows: sp.csr_matrix | None = None


@dataclass(slots=True)
class Model:
    """A MIP in matrix form: min c.x, row_lo <= A x <= row_hi, col_lo <= x <= col_hi."""

    tables: PlanningTables
    options: PlanOptions
    n_cols: int = 0
    col_lo: list[np.ndarray] = field(default_factory=list)
    col_hi: list[np.ndarray] = field(default_factory=list)
    col_int: list[np.ndarray] = field(default_factory=list)
    cost_parts: list[np.ndarray] = field(default_factory=list)
    var_blocks: dict[str, Block] = field(default_factory=dict)
    n_rows: int = 0
    row_lo_parts: list[np.ndarray] = field(default_factory=list)
    row_hi_parts: list[np.ndarray] = field(default_factory=list)
    con_blocks: dict[str, Block] = field(default_factory=dict)
    _rows: list[np.ndarray] = field(default_factory=list)
    _cols: list[np.ndarray] = field(default_factory=list)
    _vals: list[np.ndarray] = field(default_factory=list)
    # metadata of Assign-count columns
    x_arc: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_late: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_required: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_arrival: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_departure: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_tour_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_tour_end: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_busy_end: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_win: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cycle_flow: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # enter, leave, first
    x_last: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # last period served
    # metadata of other blocks
    u_line: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    u_period: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    u_days: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    y_pledge: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    y_period: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    b_hub: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    b_nation: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cover_row: dict[tuple[int, int], int] = field(default_factory=dict)
    rip: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # block-local hub rows, cols, vals
    prec: PrecedenceIndex | None = None  # the Precedence-* blocks' (rule, scope) index
    chi_x: np.ndarray | None = None  # upper bounds of Assign-count
    built: bool = True  # False: built without Assign-count columns (the time ran out)
    # indices into the full column set (_start_columns) when the model is restricted to them
    subset: np.ndarray | None = None
    # a bound of the FULL model found elsewhere (column generation) and its provenance
    full_bound: tuple[float, str] | None = None
    colgen_converged: bool | None = None  # column generation priced to the end (None: not used)
    # per Assign-count column: its value in the chain master's LP (a restricted model; the
    # greedy start's preference), None otherwise
    x_preference: np.ndarray | None = None
    sustain_index: SustainIndex = field(default_factory=lambda: SustainIndex())
    # row metadata: (kind-specific key) per row, for explanations
    row_key: list[np.ndarray] = field(default_factory=list)
    # final arrays
    A: sp.csc_matrix | None = None
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    clo: np.ndarray | None = None
    chi: np.ndarray | None = None
    integer: np.ndarray | None = None
    cost: np.ndarray | None = None
    keys: np.ndarray | None = None
    # what the greedy and the repair compute from the matrix alone (coalition.planner.greedy),
    # set by finalize, so the shallow copies a model's bounds are changed on share it
    matrix_cache: MatrixCache | None = None

    # -- assembly helpers ---------------------------------------------------------------------
    def add_variables(
        self, name: str, lo: np.ndarray, hi: np.ndarray, integer: bool, cost: np.ndarray | None = None
    ) -> Block:
        n = int(lo.size)
        block = Block(name, self.n_cols, self.n_cols + n)
        self.var_blocks[name] = block
        self.n_cols += n
        self.col_lo.append(lo.astype(np.float64))
        self.col_hi.append(hi.astype(np.float64))
        self.col_int.append(np.full(n, integer, dtype=bool))
        self.cost_parts.append(np.zeros(n) if cost is None else cost.astype(np.float64))
        return block

    def add_constraints(
        self,
        name: str,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        keys: np.ndarray | None = None,
    ) -> Block:
        """Add a block of rows. ``rows`` are block-local indices 0..len(lo)-1."""
        n = int(lo.size)
        block = Block(name, self.n_rows, self.n_rows + n)
        self.con_blocks[name] = block
        self._rows.append(rows.astype(np.int64) + self.n_rows)
        self._cols.append(cols.astype(np.int64))
        self._vals.append(vals.astype(np.float64))
        self.row_lo_parts.append(lo.astype(np.float64))
        self.row_hi_parts.append(hi.astype(np.float64))
        self.row_key.append(np.arange(n) if keys is None else keys)
        self.n_rows += n
        return block

    def finalize(self) -> None:
        rows = np.concatenate(self._rows) if self._rows else np.zeros(0, np.int64)
        cols = np.concatenate(self._cols) if self._cols else np.zeros(0, np.int64)
        vals = np.concatenate(self._vals) if self._vals else np.zeros(0)
        self.A = sp.csc_matrix((vals, (rows, cols)), shape=(self.n_rows, self.n_cols))
        self.A.sum_duplicates()
        self.A.sort_indices()
        self.lo = np.concatenate(self.row_lo_parts) if self.row_lo_parts else np.zeros(0)
        self.hi = np.concatenate(self.row_hi_parts) if self.row_hi_parts else np.zeros(0)
        self.clo = np.concatenate(self.col_lo)
        self.chi = np.concatenate(self.col_hi)
        self.integer = np.concatenate(self.col_int)
        self.cost = np.concatenate(self.cost_parts)
        self._rows, self._cols, self._vals = [], [], []
        self.matrix_cache = MatrixCache(self.A)

    def block_of_row(self, row: int) -> str:
        for name, b in self.con_blocks.items():
            if b.start <= row < b.stop:
                return name
        raise IndexError(row)

    def var(self, name: str) -> Block:
        b = self.var_blocks.get(name)
        return Block(name, 0, 0) if b is None else b

    def con(self, name: str) -> Block:
        b = self.con_blocks.get(name)
        return Block(name, 0, 0) if b is None else b

    @property
    def nnz(self) -> int:
        return 0 if self.A is None else int(self.A.nnz)


# ---------------------------------------------------------------------------------------------
# Column generation for Assign-count (readiness, availability, line window)
# ---------------------------------------------------------------------------------------------


def _start_columns(tb: PlanningTables, delays_opt: tuple[int, ...] = (0,)) -> dict[str, np.ndarray]:
    """Every admissible (arc, active window, start period) with its days. Vectorised.

    Days (after C-day) of a column: the unit departs at ``departure`` (>= the window's ready
    day), arrives ``transit`` days later, serves periods ``start .. last`` and leaves the hub
    after ``tour_end``; it is in theatre ``arrival .. tour_end`` (at most its tour length) and
    in use ``departure .. tour_end`` inside one active window (conditions, lifecycle, expiry,
    availability). It covers a period when it is at the hub on the period's last day of the
    line's window, having arrived by then (``docs/planner/model.md``). With
    ``delays_opt`` (``PlanOptions.departure_delays``) each column also exists departing that
    many days after its earliest possible day (so units can share a corridor's daily capacity
    by leaving on different days, at the price of lateness)."""
    D, H = tb.period_days, tb.horizon_days
    # (arc, window) pairs: every active window of the arc's pledge
    cnt = tb.pledge_win_count[tb.arc_pledge] if tb.n_arcs else np.zeros(0, np.int64)
    aw_arc = np.repeat(np.arange(tb.n_arcs), cnt)
    aw_win = np.repeat(tb.pledge_win_first[tb.arc_pledge], cnt) + (
        np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    )
    first = tb.line_first[tb.arc_line[aw_arc]]
    last = tb.line_last[tb.arc_line[aw_arc]]
    length = np.maximum(last - first + 1, 0)
    k = np.repeat(np.arange(aw_arc.size), length)
    offset = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    s = np.repeat(first, length) + offset
    arc, win = aw_arc[k], aw_win[k]
    delays = np.asarray(sorted(set(int(d) for d in delays_opt)) or [0], dtype=np.int64)
    if delays.size > 1:  # one copy of every (arc, window, period) per departure delay
        n0 = s.size
        arc, win, s = np.tile(arc, delays.size), np.tile(win, delays.size), np.tile(s, delays.size)
        delay = np.repeat(delays, n0)
    else:
        delay = np.full(s.size, int(delays[0]), dtype=np.int64)
    line = tb.arc_line[arc]
    pledge = tb.arc_pledge[arc]
    corridor = tb.arc_corridor[arc]
    transit = tb.corridor_transit[corridor]
    earliest = tb.win_ready[win] + transit  # Arrival-readiness
    line_start = np.maximum(tb.line_start_day[line], 0)
    line_end = tb.line_end_day[line]
    is_first = s == tb.line_first[line]
    tour_start = np.where(is_first, np.maximum(line_start, s * D), s * D)
    required = np.where(is_first, tour_start, s * D - tb.rip_days)
    arrival = np.maximum(earliest, required) + delay  # a later departure spreads the loads
    late = arrival - required
    departure = arrival - transit
    e_s = np.minimum(np.minimum(line_end, (s + 1) * D - 1), H - 1)  # last day of s to cover
    # last day the unit may be in theatre: its tour length, and the end of its active window
    stay = np.minimum(arrival + tb.pledge_tour_days[pledge] - 1, tb.win_end[win])
    ll = tb.line_last[line]
    e_ll = np.minimum(np.minimum(line_end, (ll + 1) * D - 1), H - 1)
    last_served = np.where(stay >= e_ll, ll, np.minimum((stay + 1) // D - 1, ll))
    tour_end = np.minimum(stay, np.minimum(line_end, (last_served + 1) * D - 1))
    ok = arrival <= e_s  # there by the end of its start period (late days are penalised)
    ok &= stay >= e_s  # Tour-covers-period: a tour shorter than what is left of s covers nothing
    ok &= departure <= tb.win_end[win]
    busy_end = tour_end + transit + tb.pledge_recovery_days[pledge]
    return {
        "arc": arc[ok],
        "win": win[ok],
        "start": s[ok],
        "late": late[ok],
        "required": required[ok],
        "arrival": arrival[ok],
        "departure": departure[ok],
        "tour_start": tour_start[ok],
        "tour_end": tour_end[ok],
        "busy_end": busy_end[ok],
        "last": last_served[ok],
    }


DAY_KEY = 10**7  # event keys: group * DAY_KEY + day (days < 10**7)


def _event_rows(group: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows for "the sum over intervals containing day d <= cap", exact at day level.

    For closed intervals [start_j, end_j] in groups (a hub, a pledge, a corridor), the largest
    per-day sum of a group is reached on the first day of some interval (between two such
    days the set of intervals containing the day can only shrink). So one row per distinct
    start day of each group is exact. Returns (event keys, interval index, row index)."""
    key = group * DAY_KEY + start
    ev = np.unique(key)
    lo = np.searchsorted(ev, key)
    hi = np.searchsorted(ev, group * DAY_KEY + end, side="right") - 1
    j, r = _expand(lo, hi)
    return ev, j, r


def _expand(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [first_i, last_i], return (i repeated, period) pairs."""
    length = np.maximum(last - first + 1, 0)
    idx = np.repeat(np.arange(first.size), length)
    off = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    return idx, np.repeat(first, length) + off


def max_tours_per_unit(tb: PlanningTables) -> np.ndarray:
    """Most tours one unit of each pledge can start within the horizon: one per period at most
    (a tour covers its start period to the end), and successive departures of one unit are
    more than its recovery apart (it is busy from departure to tour end + transit + recovery)."""
    H = tb.horizon_days
    by_recovery = (H - 1) // (tb.pledge_recovery_days + 1) + 1
    most: NDArray[np.float64] = np.minimum(tb.n_periods, by_recovery).astype(np.float64)
    return most
