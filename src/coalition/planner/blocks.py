"""The planner MIP's core ``define_*`` blocks (docs/planner/model.md): assignment, shortfall,
pledge-start and cohesion variables; line cover, hub capacity, corridor, pledge cycle and
rotation, cohesion rows; the objective. Each selects its subset, returns early when it is
empty and adds a whole vectorised block with a stable name (:mod:`coalition.planner.model`).
"""

from __future__ import annotations

import numpy as np

from coalition.planner.matrix import (
    DAY_KEY,
    INF,
    Model,
    _event_rows,
    _expand,
    _start_columns,
    max_tours_per_unit,
)


def define_assign_variables(m: Model) -> None:
    """``Assign-count`` x[a,s] in {0..units(p)}: units of arc a starting a tour in period s."""
    tb = m.tables
    cols = _start_columns(tb, tuple(m.options.departure_delays))
    if m.subset is not None:  # a restricted model: these columns of the full set only
        cols = {k: v[m.subset] for k, v in cols.items()}
    m.x_arc, m.x_start = cols["arc"], cols["start"]
    m.x_late, m.x_required = cols["late"], cols["required"]
    m.x_arrival, m.x_departure = cols["arrival"], cols["departure"]
    m.x_tour_start, m.x_last = cols["tour_start"], cols["last"]
    m.x_tour_end, m.x_busy_end, m.x_win = cols["tour_end"], cols["busy_end"], cols["win"]
    ub = tb.pledge_units[tb.arc_pledge[m.x_arc]]
    m.chi_x = ub.astype(np.float64)
    m.add_variables("Assign-count", np.zeros(ub.size), ub, integer=True)


def define_no_assign_variables(m: Model) -> None:
    """An empty ``Assign-count`` block (the model of a plan that assigns nothing)."""
    m.add_variables("Assign-count", np.zeros(0), np.zeros(0), integer=True)
    m.chi_x = np.zeros(0)


def define_shortfall_variables(m: Model) -> None:
    """``Line-shortfall`` u[l,t] in [0, qty(l)] for every period t of line l's window."""
    tb = m.tables
    valid = tb.line_first >= 0
    lines = np.flatnonzero(valid)
    li, t = _expand(tb.line_first[lines], tb.line_last[lines])
    m.u_line, m.u_period = lines[li], t
    m.u_days = np.array(
        [tb.days_in_period(int(l_), int(t_)) for l_, t_ in zip(m.u_line, m.u_period, strict=True)],
        dtype=np.int64,
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
    row_of = {(int(l_), int(t_)): i for i, (l_, t_) in enumerate(zip(m.u_line, m.u_period, strict=True))}
    m.cover_row = row_of
    xb = m.var("Assign-count")
    # x[a,s] covers periods s..last
    j, t = _expand(m.x_start, m.x_last)
    line = tb.arc_line[m.x_arc[j]]
    # row index of (line, t): offset of line's first row + (t - first)
    line_row0 = np.full(tb.n_lines, -1, dtype=np.int64)
    for i, l_ in enumerate(m.u_line):  # (line, period) rows, each line's periods in order
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
        "Hub-personnel-capacity",
        r,
        xb.start + j,
        pers[j],
        np.full(ev.size, -INF),
        tb.hub_capacity[g],
        np.stack([g, day], axis=1),
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
        name,
        r,
        xb.start + col[j],
        coef[col[j]],
        np.full(ev.size, -INF),
        per_day[g],
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
        "Pledge-unit-cycle",
        r,
        xb.start + j,
        np.ones(j.size),
        np.full(ev.size, -INF),
        tb.pledge_units[g].astype(float),
        np.stack([g, day], axis=1),
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
    b_index = {(int(h), int(n)): i for i, (h, n) in enumerate(zip(m.b_hub, m.b_nation, strict=True))}
    bcol = np.array([b_index[(int(h), int(pledge_nat[p]))] for p, h in pairs], dtype=np.int64)
    max_tours = tb.pledge_units * max_tours_per_unit(tb)
    bigm = np.minimum(max_tours, tb.pledge_rotations * tb.pledge_units)[pairs[:, 0]]
    rows = np.concatenate([row, np.arange(len(pairs))])
    cols = np.concatenate([xb.start + np.arange(xb.size), bb.start + bcol])
    vals = np.concatenate([np.ones(xb.size), -bigm.astype(float)])
    m.add_constraints("Hub-nation-link", rows, cols, vals, np.full(len(pairs), -INF), np.zeros(len(pairs)), pairs)


def define_objective(m: Model) -> None:
    """min  W_S sum prio(l) days(l,t) u[l,t] + W_L sum prio(l) late(a,s) x[a,s]
    + W_C sum_{n != lead(h)} b[h,n] + W_D sum km(c) x[a,s]."""
    tb, w = m.tables, m.options.weights
    xb, ub, bb = m.var("Assign-count"), m.var("Line-shortfall"), m.var("Hub-nation-present")
    cost = np.concatenate(m.cost_parts) if m.cost_parts else np.zeros(0)
    if xb.size:
        line = tb.arc_line[m.x_arc]
        cost[xb.start : xb.stop] = (
            w.lateness * tb.line_prio_w[line] * m.x_late + w.distance * tb.corridor_distance[tb.arc_corridor[m.x_arc]]
        )
    if ub.size:
        cost[ub.start : ub.stop] = w.shortfall * tb.line_prio_w[m.u_line] * m.u_days
    if bb.size:
        is_lead = np.array(
            [tb.hub_lead[h] == tb.nations[n] for h, n in zip(m.b_hub, m.b_nation, strict=True)], dtype=bool
        )
        cost[bb.start : bb.stop] = np.where(is_lead, 0.0, w.cohesion)
    pv = m.var("Precedence-violation")
    if pv.size:
        cost[pv.start : pv.stop] = w.precedence
    # write back block-wise so finalize() picks it up
    m.cost_parts = [cost]
