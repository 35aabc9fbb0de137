"""The planner's optimisation model, built in ONE function from tables (PyPSA/linopy style).

:func:`build_model` is a flat sequence ``define_*_variables`` -> ``define_*_constraints`` ->
``define_objective``. Each ``define_*`` selects its subset, returns early when it is empty and
adds a whole vectorised block with a stable name. The names below are the contract used by
tests, explanations and ``docs/planner/model.md``:

Variables
    ``Assign-count``        x[a,s]  integer units of arc a = (pledge, line, hub, corridor)
                                    starting a tour in period s
    ``Line-shortfall``      u[l,t]  continuous units of line l not covered in period t
    ``Pledge-start``        y[p,s]  units of pledge p starting a tour in period s
    ``Hub-nation-present``  b[h,n]  binary: nation n has units at hub h

Constraints
    ``Line-cover``                   coverage (soft through u) of every line in every period
    ``Hub-personnel-capacity``       personnel present at a hub, relief-in-place overlap included
    ``Corridor-personnel-capacity``  personnel departing through a corridor per period
    ``Corridor-tonnage-capacity``    tonnage departing through a corridor per period
    ``Pledge-start-def``             y = sum of x over the pledge's arcs
    ``Pledge-unit-cycle``            units on tour or in recovery never exceed the pledge's units
    ``Pledge-rotation-budget``       tours started never exceed sustainable rotations x units
    ``Hub-nation-link``              x > 0 at a hub forces b = 1 for the nation (cohesion)

Readiness (arrival >= C-day + activation + notice-to-move + transit), the pledge's availability
window and the line's window are enforced by *not generating* columns that break them (column
filter ``Arrival-readiness`` / ``Pledge-availability``), which keeps the model small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from coalition.planner import sustainment
from coalition.planner.schemas import PlanOptions
from coalition.planner.tables import PlanningTables

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
    prec: "PrecedenceIndex | None" = None  # the Precedence-* blocks' (rule, scope) index
    chi_x: np.ndarray | None = None  # upper bounds of Assign-count
    sustain_index: dict = field(default_factory=dict)  # planner.sustainment blocks' indices
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

    def block_of_row(self, row: int) -> str:
        for name, b in self.con_blocks.items():
            if b.start <= row < b.stop:
                return name
        raise IndexError(row)

    def var(self, name: str) -> Block:
        return self.var_blocks.get(name, Block(name, 0, 0))

    def con(self, name: str) -> Block:
        return self.con_blocks.get(name, Block(name, 0, 0))

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


# ---------------------------------------------------------------------------------------------
# define_* blocks
# ---------------------------------------------------------------------------------------------


def define_assign_variables(m: Model) -> None:
    """``Assign-count`` x[a,s] in {0..units(p)}: units of arc a starting a tour in period s."""
    tb = m.tables
    cols = _start_columns(tb, tuple(m.options.departure_delays))
    m.x_arc, m.x_start = cols["arc"], cols["start"]
    m.x_late, m.x_required = cols["late"], cols["required"]
    m.x_arrival, m.x_departure = cols["arrival"], cols["departure"]
    m.x_tour_start, m.x_last = cols["tour_start"], cols["last"]
    m.x_tour_end, m.x_busy_end, m.x_win = cols["tour_end"], cols["busy_end"], cols["win"]
    ub = tb.pledge_units[tb.arc_pledge[m.x_arc]]
    m.chi_x = ub.astype(np.float64)
    m.add_variables("Assign-count", np.zeros(ub.size), ub, integer=True)


def define_shortfall_variables(m: Model) -> None:
    """``Line-shortfall`` u[l,t] in [0, qty(l)] for every period t of line l's window."""
    tb = m.tables
    valid = tb.line_first >= 0
    lines = np.flatnonzero(valid)
    li, t = _expand(tb.line_first[lines], tb.line_last[lines])
    m.u_line, m.u_period = lines[li], t
    m.u_days = np.array(
        [tb.days_in_period(int(l_), int(t_)) for l_, t_ in zip(m.u_line, m.u_period)], dtype=np.int64
    )
    qty = tb.line_qty[m.u_line].astype(np.float64)
    m.add_variables("Line-shortfall", np.zeros(qty.size), qty, integer=False)


def define_pledge_start_variables(m: Model) -> None:
    """``Pledge-start`` y[p,s]: units of pledge p starting a tour in period s (all lines)."""
    tb = m.tables
    if tb.n_pledges == 0 or m.x_arc.size == 0:
        return
    T = tb.n_periods
    p, s = np.divmod(np.arange(tb.n_pledges * T), T)
    m.y_pledge, m.y_period = p, s
    m.add_variables("Pledge-start", np.zeros(p.size), tb.pledge_units[p].astype(float), integer=False)


def define_cohesion_variables(m: Model) -> None:
    """``Hub-nation-present`` b[h,n] in {0,1} for each (hub, nation) with an arc."""
    tb = m.tables
    if not m.options.cohesion or m.x_arc.size == 0:
        return
    nat_ix = {n: i for i, n in enumerate(tb.nations)}
    arc_nation = np.array([nat_ix[tb.pledge_nation[p]] for p in tb.arc_pledge], dtype=np.int64)
    pairs = np.unique(np.stack([tb.arc_hub, arc_nation], axis=1), axis=0)
    m.b_hub, m.b_nation = pairs[:, 0], pairs[:, 1]
    m.add_variables("Hub-nation-present", np.zeros(len(pairs)), np.ones(len(pairs)), integer=True)


def define_line_cover_constraints(m: Model) -> None:
    """``Line-cover`` for each (l,t): sum_{a in A(l)} sum_{s<=t<=last(a,s)} x[a,s] + u[l,t] >= qty(l)."""
    tb = m.tables
    ub = m.var("Line-shortfall")
    if ub.size == 0:
        return
    row_of = {(int(l_), int(t_)): i for i, (l_, t_) in enumerate(zip(m.u_line, m.u_period))}
    m.cover_row = row_of
    xb = m.var("Assign-count")
    # x[a,s] covers periods s..last
    j, t = _expand(m.x_start, m.x_last)
    line = tb.arc_line[m.x_arc[j]]
    # row index of (line, t): offset of line's first row + (t - first)
    line_row0 = np.full(tb.n_lines, -1, dtype=np.int64)
    for i, (l_, t_) in enumerate(zip(m.u_line, m.u_period)):
        if line_row0[l_] < 0:
            line_row0[l_] = i
    rows_x = line_row0[line] + (t - tb.line_first[line])
    rows = np.concatenate([rows_x, np.arange(ub.size)])
    cols = np.concatenate([xb.start + j, ub.start + np.arange(ub.size)])
    vals = np.ones(rows.size)
    lo = tb.line_qty[m.u_line].astype(float)
    keys = np.stack([m.u_line, m.u_period], axis=1)
    m.add_constraints("Line-cover", rows, cols, vals, lo, np.full(lo.size, INF), keys)


def define_hub_capacity_constraints(m: Model) -> None:
    """``Hub-personnel-capacity`` for each hub h and each day d on which some unit can arrive
    at h: personnel of the units at h on day d (arrival <= d <= tour end), relief-in-place
    overlap included, <= capacity(h). Exact at day level (see :func:`_event_rows`)."""
    tb = m.tables
    xb = m.var("Assign-count")
    if xb.size == 0:
        return
    H = tb.horizon_days
    hub = tb.arc_hub[m.x_arc]
    ev, j, r = _event_rows(hub, m.x_arrival, np.minimum(m.x_tour_end, H - 1))
    pers = tb.pledge_personnel[tb.arc_pledge[m.x_arc]]
    g, day = np.divmod(ev, DAY_KEY)
    m.add_constraints(
        "Hub-personnel-capacity", r, xb.start + j, pers[j], np.full(ev.size, -INF),
        tb.hub_capacity[g], np.stack([g, day], axis=1),
    )


def _corridor_rows(m: Model, name: str, per_unit: np.ndarray, per_day: np.ndarray) -> None:
    """Rows per (corridor, day): what enters the corridor that day - units departing to their
    hub and units leaving the hub at the end of their tour - within the daily capacity."""
    tb = m.tables
    xb = m.var("Assign-count")
    if xb.size == 0:
        return
    H = tb.horizon_days
    coef = per_unit[tb.arc_pledge[m.x_arc]]
    corr = tb.arc_corridor[m.x_arc]
    ret = m.x_tour_end + 1
    back = np.flatnonzero((ret < H) & (coef > 0))
    out = np.flatnonzero(coef > 0)
    col = np.concatenate([out, back])
    day = np.concatenate([m.x_departure[out], ret[back]])
    ev, j, r = _event_rows(corr[col], day, day)
    g, d = np.divmod(ev, DAY_KEY)
    m.add_constraints(
        name, r, xb.start + col[j], coef[col[j]], np.full(ev.size, -INF), per_day[g],
        np.stack([g, d], axis=1),
    )


def define_corridor_constraints(m: Model) -> None:
    """``Corridor-personnel-capacity`` / ``Corridor-tonnage-capacity`` for each corridor c and
    each day d on which a unit can enter it: personnel (tonnage) departing through c on d,
    to the hub or back from it at the end of a tour, <= the daily capacity. All of a unit
    line leaves on its departure day, so this is the daily schedule itself."""
    tb = m.tables
    _corridor_rows(m, "Corridor-personnel-capacity", tb.pledge_personnel, tb.corridor_personnel)
    _corridor_rows(m, "Corridor-tonnage-capacity", tb.pledge_tonnage, tb.corridor_tonnage)


def define_pledge_constraints(m: Model) -> None:
    """``Pledge-start-def``: y[p,s] = sum_a x[a,s]; ``Pledge-unit-cycle``: for each (p,t),
    sum_{s in (t - tour - recovery, t]} y[p,s] <= units(p); ``Pledge-rotation-budget``: for each
    p with a finite budget, sum_s y[p,s] <= rotations(p) x units(p)."""
    tb = m.tables
    yb, xb = m.var("Pledge-start"), m.var("Assign-count")
    if yb.size == 0:
        return
    T = tb.n_periods
    P = tb.n_pledges
    # Pledge-start-def
    xp = tb.arc_pledge[m.x_arc]
    rows = np.concatenate([xp * T + m.x_start, np.arange(P * T)])
    cols = np.concatenate([xb.start + np.arange(xb.size), yb.start + np.arange(P * T)])
    vals = np.concatenate([np.ones(xb.size), -np.ones(P * T)])
    keys = np.stack([m.y_pledge, m.y_period], axis=1)
    m.add_constraints("Pledge-start-def", rows, cols, vals, np.zeros(P * T), np.zeros(P * T), keys)
    # Pledge-unit-cycle: on every day d on which some unit of p can depart, the units of p
    # busy on d (departure .. tour end + return transit + recovery) <= units(p). Exact at day
    # level (_event_rows); the busy intervals then fit onto units(p) physical units.
    H = tb.horizon_days
    ev, j, r = _event_rows(xp, m.x_departure, np.minimum(m.x_busy_end, H - 1))
    g, day = np.divmod(ev, DAY_KEY)
    m.add_constraints(
        "Pledge-unit-cycle", r, xb.start + j, np.ones(j.size), np.full(ev.size, -INF),
        tb.pledge_units[g].astype(float), np.stack([g, day], axis=1),
    )
    # the same rows as a flow (for the solver's form): enter at own departure event, leave
    # at the first event after the busy interval (if that event is of the same pledge)
    enter = np.searchsorted(ev, xp * DAY_KEY + m.x_departure)
    after = np.searchsorted(ev, xp * DAY_KEY + np.minimum(m.x_busy_end, H - 1), side="right")
    same = (after < ev.size) & (np.divmod(ev[np.minimum(after, ev.size - 1)], DAY_KEY)[0] == xp)
    leave = np.where(same, after, -1)
    first = np.ones(ev.size, dtype=bool)
    first[1:] = g[1:] != g[:-1]
    m.cycle_flow = (enter, leave, first)
    # Pledge-rotation-budget: only where it can bind
    max_tours = tb.pledge_units * max_tours_per_unit(tb)
    budget = tb.pledge_rotations * tb.pledge_units
    pl = np.flatnonzero(budget < max_tours)
    if pl.size:
        sel = np.isin(m.y_pledge, pl)
        row_of = np.full(P, -1, dtype=np.int64)
        row_of[pl] = np.arange(pl.size)
        jj = np.flatnonzero(sel)
        m.add_constraints(
            "Pledge-rotation-budget",
            row_of[m.y_pledge[jj]],
            yb.start + jj,
            np.ones(jj.size),
            np.full(pl.size, -INF),
            budget[pl].astype(float),
            pl,
        )


def max_tours_per_unit(tb: PlanningTables) -> np.ndarray:
    """Most tours one unit of each pledge can start within the horizon: one per period at most
    (a tour covers its start period to the end), and successive departures of one unit are
    more than its recovery apart (it is busy from departure to tour end + transit + recovery)."""
    H = tb.horizon_days
    by_recovery = (H - 1) // (tb.pledge_recovery_days + 1) + 1
    return np.minimum(tb.n_periods, by_recovery).astype(np.float64)


def define_cohesion_constraints(m: Model) -> None:
    """``Hub-nation-link`` for each (p,h): sum_{a in (p,h)} sum_s x[a,s] <= M(p) b[h, nation(p)]."""
    tb = m.tables
    bb, xb = m.var("Hub-nation-present"), m.var("Assign-count")
    if bb.size == 0:
        return
    nat_ix = {n: i for i, n in enumerate(tb.nations)}
    pledge_nat = np.array([nat_ix[n] for n in tb.pledge_nation], dtype=np.int64)
    xp = tb.arc_pledge[m.x_arc]
    xh = tb.arc_hub[m.x_arc]
    pairs, row = np.unique(np.stack([xp, xh], axis=1), axis=0, return_inverse=True)
    row = row.ravel()
    b_index = {(int(h), int(n)): i for i, (h, n) in enumerate(zip(m.b_hub, m.b_nation))}
    bcol = np.array([b_index[(int(h), int(pledge_nat[p]))] for p, h in pairs], dtype=np.int64)
    max_tours = tb.pledge_units * max_tours_per_unit(tb)
    bigm = np.minimum(max_tours, tb.pledge_rotations * tb.pledge_units)[pairs[:, 0]]
    rows = np.concatenate([row, np.arange(len(pairs))])
    cols = np.concatenate([xb.start + np.arange(xb.size), bb.start + bcol])
    vals = np.concatenate([np.ones(xb.size), -bigm.astype(float)])
    m.add_constraints(
        "Hub-nation-link", rows, cols, vals, np.full(len(pairs), -INF), np.zeros(len(pairs)), pairs
    )


# -- enablers first (issue 15) ------------------------------------------------------------------


@dataclass(slots=True)
class PrecedenceIndex:
    """Per (rule g, scope k) of the Precedence-* blocks: the after-arrival days D_1 < .. < D_m."""

    rule: list[int] = field(default_factory=list)  # g of each (g, k)
    scope: list[str] = field(default_factory=list)  # k: "force", a hub id or a region
    days: list[np.ndarray] = field(default_factory=list)
    after_cols: list[np.ndarray] = field(default_factory=list)  # Assign-count columns
    before_cols: list[np.ndarray] = field(default_factory=list)
    require: list[bool] = field(default_factory=list)


def _precedence_index(m: Model) -> PrecedenceIndex:
    tb = m.tables
    idx = PrecedenceIndex()
    if not tb.prec_rule or not m.x_arc.size:
        return idx
    cap = np.array(tb.pledge_capability, dtype=object)[tb.arc_pledge[m.x_arc]]
    hub = tb.arc_hub[m.x_arc]
    keys = {
        "force": np.full(m.x_arc.size, "force", dtype=object),
        "hub": np.array(tb.hub_id, dtype=object)[hub],
        "region": np.array(tb.hub_region, dtype=object)[hub],
    }
    for g in range(len(tb.prec_rule)):
        key = keys[tb.prec_scope[g]]
        is_b = np.isin(cap, list(tb.prec_before[g])) if tb.prec_before[g] else np.zeros(cap.size, bool)
        is_a = np.isin(cap, list(tb.prec_after[g])) & ~is_b
        for k in sorted(set(key[is_a].tolist())):
            a = np.flatnonzero(is_a & (key == k))
            b = np.flatnonzero(is_b & (key == k))
            if not tb.prec_require[g] and not b.size:
                continue  # no before unit can come: the rule cannot be broken here
            idx.rule.append(g)
            idx.scope.append(k)
            idx.days.append(np.unique(m.x_arrival[a]))
            idx.after_cols.append(a)
            idx.before_cols.append(b)
            idx.require.append(bool(tb.prec_require[g]))
    return idx


def define_precedence_variables(m: Model) -> None:
    """``Precedence-violation`` v[g,k] in {0,1}: rule g is broken in scope k;
    ``Precedence-before-by-day`` w[g,k,i] >= 0: before units of (g,k) arrived by day D_i;
    ``Precedence-before-present`` z[g,k] in {0,1} (rules without require_present): some before
    unit comes to scope k at all."""
    idx = _precedence_index(m)
    m.prec = idx
    n = len(idx.rule)
    if not n:
        return
    m.add_variables("Precedence-violation", np.zeros(n), np.ones(n), integer=True)
    nd = int(sum(d.size for d in idx.days))
    m.add_variables("Precedence-before-by-day", np.zeros(nd), np.full(nd, INF), integer=False)
    nz = sum(1 for r in idx.require if not r)
    if nz:
        m.add_variables("Precedence-before-present", np.zeros(nz), np.ones(nz), integer=True)


def define_precedence_constraints(m: Model) -> None:
    """``Precedence-before-count``: w[g,k,i] = w[g,k,i-1] + sum of before x arriving in (D_{i-1}, D_i];
    ``Precedence-order``: sum_{after j, A_j = D_i} x_j <= M_i (w[g,k,i] + v[g,k] + (1 - z[g,k]))
    (the z term only for rules without require_present), M_i = the after units that could arrive
    on D_i; ``Precedence-presence``: sum_{before} x <= M_b z[g,k]."""
    idx = m.prec
    if idx is None or not idx.rule:
        return
    xb, vb = m.var("Assign-count"), m.var("Precedence-violation")
    wb, zb = m.var("Precedence-before-by-day"), m.var("Precedence-before-present")
    ub = m.chi_x if m.chi_x is not None else np.zeros(0)
    cnt: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    order: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    pres: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    o_hi: list[float] = []
    p_n = c_n = o_n = 0
    w0 = 0
    z_i = 0
    for q in range(len(idx.rule)):
        days, a, b = idx.days[q], idx.after_cols[q], idx.before_cols[q]
        nd = days.size
        # before-count: row i: w_i - w_{i-1} - sum x_b (A in (D_{i-1}, D_i]) = 0
        r = [np.arange(nd), np.arange(1, nd)]
        c = [wb.start + w0 + np.arange(nd), wb.start + w0 + np.arange(nd - 1)]
        v = [np.ones(nd), -np.ones(nd - 1)]
        if b.size:
            slot = np.searchsorted(days, m.x_arrival[b], side="left")
            ok = slot < nd
            r.append(slot[ok])
            c.append(xb.start + b[ok])
            v.append(-np.ones(int(ok.sum())))
        cnt.append((np.concatenate(r) + c_n, np.concatenate(c), np.concatenate(v)))
        c_n += nd
        # order: row i
        slot_a = np.searchsorted(days, m.x_arrival[a])
        bigm = np.bincount(slot_a, weights=ub[a], minlength=nd)
        i = np.arange(nd)
        r = [slot_a, i, i]
        c = [xb.start + a, wb.start + w0 + i, np.full(nd, vb.start + q)]
        v = [np.ones(a.size), -bigm, -bigm]
        hi = np.zeros(nd)
        if not idx.require[q]:
            r.append(i)
            c.append(np.full(nd, zb.start + z_i))
            v.append(bigm)
            hi = bigm.copy()
            # presence
            nb = b.size
            pres.append((np.zeros(nb + 1, np.int64) + p_n,
                         np.concatenate([xb.start + b, [zb.start + z_i]]),
                         np.concatenate([np.ones(nb), [-float(ub[b].sum())]])))
            p_n += 1
            z_i += 1
        order.append((np.concatenate(r) + o_n, np.concatenate(c), np.concatenate(v)))
        o_hi.extend(hi.tolist())
        o_n += nd
        w0 += nd

    def cat(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], k: int) -> np.ndarray:
        return np.concatenate([p[k] for p in parts])

    m.add_constraints("Precedence-before-count", cat(cnt, 0), cat(cnt, 1), cat(cnt, 2),
                      np.zeros(c_n), np.zeros(c_n))
    m.add_constraints("Precedence-order", cat(order, 0), cat(order, 1), cat(order, 2),
                      np.full(o_n, -INF), np.array(o_hi))
    if pres:
        m.add_constraints("Precedence-presence", cat(pres, 0), cat(pres, 1), cat(pres, 2),
                          np.full(p_n, -INF), np.zeros(p_n))


def precedence_values(m: Model, values: np.ndarray) -> np.ndarray:
    """Set the Precedence-* variables of ``values`` to what its Assign-count values imply
    (the smallest feasible w, z, v): used by the greedy plan and its repair."""
    idx = m.prec
    if idx is None or not idx.rule:
        return values
    v = values.copy()
    xb, vb = m.var("Assign-count"), m.var("Precedence-violation")
    wb, zb = m.var("Precedence-before-by-day"), m.var("Precedence-before-present")
    x = np.round(v[xb.start : xb.stop])
    w0 = z_i = 0
    for q in range(len(idx.rule)):
        days, a, b = idx.days[q], idx.after_cols[q], idx.before_cols[q]
        bd = m.x_arrival[b][x[b] > 0.5]
        w = np.zeros(days.size)
        if bd.size:  # units (not columns) arrived by each day
            xs = x[b][x[b] > 0.5]
            order_ = np.argsort(bd, kind="stable")
            cum = np.concatenate([[0.0], np.cumsum(xs[order_])])
            w = cum[np.searchsorted(bd[order_], days, side="right")]
        v[wb.start + w0 : wb.start + w0 + days.size] = w
        present = bool(bd.size)
        if not idx.require[q]:
            v[zb.start + z_i] = 1.0 if present else 0.0
            z_i += 1
        ad = m.x_arrival[a][x[a] > 0.5]
        broken = bool(ad.size) and (idx.require[q] or present) and (not present or bd.min() > ad.min())
        v[vb.start + q] = 1.0 if broken else 0.0
        w0 += days.size
    return v


def define_objective(m: Model) -> None:
    """min  W_S sum prio(l) days(l,t) u[l,t] + W_L sum prio(l) late(a,s) x[a,s]
          + W_C sum_{n != lead(h)} b[h,n] + W_D sum km(c) x[a,s]."""
    tb, w = m.tables, m.options.weights
    xb, ub, bb = m.var("Assign-count"), m.var("Line-shortfall"), m.var("Hub-nation-present")
    cost = np.concatenate(m.cost_parts) if m.cost_parts else np.zeros(0)
    if xb.size:
        line = tb.arc_line[m.x_arc]
        cost[xb.start : xb.stop] = (
            w.lateness * tb.line_prio_w[line] * m.x_late
            + w.distance * tb.corridor_distance[tb.arc_corridor[m.x_arc]]
        )
    if ub.size:
        cost[ub.start : ub.stop] = w.shortfall * tb.line_prio_w[m.u_line] * m.u_days
    if bb.size:
        is_lead = np.array(
            [tb.hub_lead[h] == tb.nations[n] for h, n in zip(m.b_hub, m.b_nation)], dtype=bool
        )
        cost[bb.start : bb.stop] = np.where(is_lead, 0.0, w.cohesion)
    pv = m.var("Precedence-violation")
    if pv.size:
        cost[pv.start : pv.stop] = w.precedence
    # write back block-wise so finalize() picks it up
    m.cost_parts = [cost]


def build_model(tables: PlanningTables, options: PlanOptions) -> Model:
    """Assemble the whole planning MIP from tables, block by block."""
    m = Model(tables=tables, options=options)
    define_assign_variables(m)
    define_shortfall_variables(m)
    define_pledge_start_variables(m)
    define_cohesion_variables(m)
    define_precedence_variables(m)
    define_line_cover_constraints(m)
    define_hub_capacity_constraints(m)
    define_corridor_constraints(m)
    define_pledge_constraints(m)
    define_cohesion_constraints(m)
    define_precedence_constraints(m)
    sustainment.define_blocks(m)  # issue 15: Medical-*, Resupply-* (planner/sustainment.py)
    define_objective(m)
    m.finalize()
    return m


# ---------------------------------------------------------------------------------------------
# The solver's form: the same constraints written as stock and flow
# ---------------------------------------------------------------------------------------------


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
    key_first: np.ndarray, enter_row: np.ndarray, leave_row: np.ndarray, valid_leave: np.ndarray,
    cols: np.ndarray, coef: np.ndarray, n: int, stock0: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows S[i] - S[i-1] - sum(entering) + sum(leaving) = 0 for stock rows 0..n-1."""
    i = np.arange(n)
    prev = ~key_first
    r = [i, i[prev], enter_row, leave_row[valid_leave]]
    c = [stock0 + i, stock0 + i[prev] - 1, cols, cols[valid_leave]]
    v = [np.ones(n), -np.ones(int(prev.sum())), -coef, coef[valid_leave]]
    return np.concatenate(r), np.concatenate(c), np.concatenate(v)


def flow_form(m: Model, include: np.ndarray | None = None) -> FlowForm:
    """The solver's form. ``include`` masks which of the model's other rows (all but
    ``Line-cover`` and ``Pledge-unit-cycle``) are passed now; the rest can be added later
    (row generation, see :mod:`coalition.planner.solver`)."""
    assert m.A is not None and m.lo is not None and m.hi is not None
    tb = m.tables
    T = tb.n_periods
    A = m.A.tocsr()
    keep_rows = np.ones(m.n_rows, dtype=bool)
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    lo_parts, hi_parts = [], []
    n_rows = 0
    n_cols = m.n_cols
    extra_lo, extra_hi = [], []
    stock_of: dict[str, tuple[str, Block]] = {}
    xb, yb, ub = m.var("Assign-count"), m.var("Line-shortfall"), m.var("Pledge-start")
    ub = m.var("Line-shortfall")
    yb = m.var("Pledge-start")

    def add(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> int:
        nonlocal n_rows
        start = n_rows
        blocks.append((rows + n_rows, cols, vals))
        lo_parts.append(lo)
        hi_parts.append(hi)
        n_rows += lo.size
        return start

    def new_stock(name: str, n: int) -> int:
        nonlocal n_cols
        start = n_cols
        n_cols += n
        extra_lo.append(np.zeros(n))
        extra_hi.append(np.full(n, INF))
        return start

    xs, xl = m.x_start, m.x_last
    cb = m.con("Line-cover")
    if cb.size and xb.size:
        keep_rows[cb.start : cb.stop] = False
        n = cb.size
        s0 = new_stock("Line-presence", n)
        stock_of["Line-presence"] = ("Line-cover", Block("Line-presence", s0, s0 + n))
        line = tb.arc_line[m.x_arc]
        row_of = np.full(tb.n_lines, -1, dtype=np.int64)
        for i, (l_, t_) in enumerate(zip(m.u_line, m.u_period)):
            if row_of[l_] < 0:
                row_of[l_] = i
        enter = row_of[line] + (xs - tb.line_first[line])
        leave = row_of[line] + (xl + 1 - tb.line_first[line])
        valid = xl + 1 <= tb.line_last[line]
        key_first = m.u_period == tb.line_first[m.u_line]
        r, c, v = _flow_rows(key_first, enter, leave, valid, xb.start + np.arange(xb.size),
                             np.ones(xb.size), n, s0)
        add(r, c, v, np.zeros(n), np.zeros(n))
        # Line-cover: stock + shortfall >= qty
        i = np.arange(n)
        add(np.concatenate([i, i]), np.concatenate([s0 + i, ub.start + i]), np.ones(2 * n),
            m.lo[cb.start : cb.stop], m.hi[cb.start : cb.stop])
    pb = m.con("Pledge-unit-cycle")
    if pb.size and xb.size and m.cycle_flow is not None:
        keep_rows[pb.start : pb.stop] = False
        n = pb.size
        s0 = new_stock("Pledge-busy", n)
        stock_of["Pledge-busy"] = ("Pledge-unit-cycle", Block("Pledge-busy", s0, s0 + n))
        enter, leave, first = m.cycle_flow
        valid = leave >= 0
        r, c, v = _flow_rows(first, enter, np.where(valid, leave, 0), valid,
                             xb.start + np.arange(xb.size), np.ones(xb.size), n, s0)
        add(r, c, v, np.zeros(n), np.zeros(n))
        i = np.arange(n)
        add(i, s0 + i, np.ones(n), m.lo[pb.start : pb.stop], m.hi[pb.start : pb.stop])
    # every other row unchanged
    if include is not None:
        keep_rows &= include
    rest = np.flatnonzero(keep_rows)
    origin = np.full(n_rows, -1, dtype=np.int64)
    if rest.size:
        sub = A[rest].tocoo()
        add(sub.row.astype(np.int64), sub.col.astype(np.int64), sub.data, m.lo[rest], m.hi[rest])
    rows = np.concatenate([b[0] for b in blocks]) if blocks else np.zeros(0, np.int64)
    cols = np.concatenate([b[1] for b in blocks]) if blocks else np.zeros(0, np.int64)
    vals = np.concatenate([b[2] for b in blocks]) if blocks else np.zeros(0)
    origin = np.concatenate([origin, rest])
    F = sp.csc_matrix((vals, (rows, cols)), shape=(n_rows, n_cols))
    F.sum_duplicates()
    F.sort_indices()
    assert m.clo is not None and m.chi is not None and m.integer is not None and m.cost is not None
    k = n_cols - m.n_cols
    return FlowForm(
        A=F,
        lo=np.concatenate(lo_parts) if lo_parts else np.zeros(0),
        hi=np.concatenate(hi_parts) if hi_parts else np.zeros(0),
        clo=np.concatenate([m.clo] + extra_lo),
        chi=np.concatenate([m.chi] + extra_hi),
        integer=np.concatenate([m.integer, np.zeros(k, dtype=bool)]),
        cost=np.concatenate([m.cost, np.zeros(k)]),
        n_core=m.n_cols,
        stock_of=stock_of,
        row_origin=origin,
    )


def stock_values(m: Model, ff: FlowForm, core: np.ndarray) -> np.ndarray:
    """Extend a core solution (x, u, y, b) with the stock values it implies."""
    assert m.A is not None
    act = m.A @ core
    full = np.zeros(ff.clo.size)
    full[: m.n_cols] = core
    for name, (family, blk) in ff.stock_of.items():
        rows = m.con(family)
        vals = act[rows.start : rows.stop].copy()
        if family == "Line-cover":
            ub = m.var("Line-shortfall")
            vals -= core[ub.start : ub.stop]
        full[blk.start : blk.stop] = vals
    return full


# Human words for each constraint family, used in explanations and docs.
FAMILY_WORDS: dict[str, str] = {
    "Line-cover": "coverage of the line",
    "Hub-personnel-capacity": "hub personnel capacity",
    "Corridor-personnel-capacity": "corridor personnel throughput",
    "Corridor-tonnage-capacity": "corridor tonnage throughput",
    "Pledge-start-def": "pledge start bookkeeping",
    "Pledge-unit-cycle": "all the pledge's units are on tour or recovering (tour then recovery)",
    "Pledge-rotation-budget": "the pledge's sustainable rotations are used up",
    "Hub-nation-link": "cohesion link",
    "Precedence-before-count": "enablers-first bookkeeping (before units arrived by a day)",
    "Precedence-order": "enablers first: HQ, signals and medical arrive before the units they precede",
    "Precedence-presence": "enablers-first bookkeeping (a before unit comes at all)",
    **sustainment.WORDS,
}
