"""Interpret a solution vector: unit lines, rotations, fill, KPIs (pure)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from coalition.planner.model import Model
from coalition.planner.schemas import FillCell, KPIs, NationRotation, UnitLine
from coalition.planner.tables import PlanningTables


@dataclass(slots=True)
class Interpretation:
    unit_lines: list[UnitLine]
    unit_columns: list[tuple[str, int]]  # (uln, Assign-count column) for the explanations
    rotations: list[NationRotation]
    fill: list[FillCell]
    kpis: KPIs


def _d(c_day: date | None, day: int) -> date | None:
    return None if c_day is None else c_day + timedelta(days=int(day))


def _rotations(tb: PlanningTables, presence: np.ndarray, starts: np.ndarray) -> list[NationRotation]:
    """Rotations per nation per year: tours started, average and peak deployed, generation ratio."""
    D, T = tb.period_days, tb.n_periods
    rotations: list[NationRotation] = []
    years = max(1, int(np.ceil(tb.horizon_days / 365)))
    period_year = np.minimum(np.arange(T) * D // 365, years - 1)
    for nation in sorted(set(tb.pledge_nation)):
        pl = [p for p in range(tb.n_pledges) if tb.pledge_nation[p] == nation]
        pledged = int(tb.pledge_units[pl].sum())
        for y in range(years):
            cols = period_year == y
            dep = presence[pl][:, cols].sum(axis=0)
            avg = float(dep.mean()) if dep.size else 0.0
            rotations.append(
                NationRotation(
                    nation=nation,
                    year=y + 1,
                    units_pledged=pledged,
                    tours_started=int(starts[pl][:, cols].sum()),
                    avg_deployed=round(avg, 2),
                    peak_deployed=int(dep.max()) if dep.size else 0,
                    generation_ratio=round(pledged / avg, 2) if avg > 1e-9 else None,
                )
            )
    return rotations


def _fill(model: Model, u: np.ndarray) -> list[FillCell]:
    """Fill by capability x place x period (required and filled units)."""
    tb = model.tables
    D = tb.period_days
    ub = model.var("Line-shortfall")
    cover = np.zeros(model.n_rows)
    fill: list[FillCell] = []
    q = tb.line_qty[model.u_line] if ub.size else np.zeros(0)
    cells: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0, 0])
    for k in range(ub.size):
        li, t = int(model.u_line[k]), int(model.u_period[k])
        key = (tb.line_capability[li], tb.line_place[li], t)
        cells[key][0] += int(q[k])
        cells[key][1] += int(round(q[k] - u[k]))
    for (cap, place, t), (req, got) in sorted(cells.items()):
        fill.append(FillCell(capability=cap, hub=place, period=t, start_day=t * D, required=req, filled=got))
    del cover
    return fill


def _unit_numbers(
    model: Model, x: np.ndarray, used: list[int], x_pledge: np.ndarray
) -> dict[tuple[int, int], list[int]]:
    """Physical unit numbers inside a pledge (see :func:`interpret`)."""
    tb = model.tables
    free_at: dict[int, list[int]] = {p: [-1] * int(tb.pledge_units[p]) for p in range(tb.n_pledges)}
    unit_no: dict[tuple[int, int], list[int]] = {}
    for j in sorted(used, key=lambda j: (int(model.x_departure[j]), tb.pledge_id[x_pledge[j]], j)):
        p = int(x_pledge[j])
        dep = int(model.x_departure[j])
        nums = []
        for _ in range(int(x[j])):
            slots = free_at[p]
            k = min(range(len(slots)), key=lambda i: (slots[i] >= dep, i))
            nums.append(k + 1)
            slots[k] = int(model.x_busy_end[j])
        unit_no[(j, 0)] = nums
    return unit_no


def _kpis(model: Model, x: np.ndarray, u: np.ndarray, presence: np.ndarray, unit_lines: list[UnitLine]) -> KPIs:
    """The plan's key figures: coverage, shortfall, lateness, closure, deployment, transport."""
    tb = model.tables
    T = tb.n_periods
    xb, ub = model.var("Assign-count"), model.var("Line-shortfall")
    q = tb.line_qty[model.u_line] if ub.size else np.zeros(0)
    days = model.u_days.astype(float)
    need = float((q * days).sum()) if ub.size else 0.0
    short = float((u * days).sum()) if ub.size else 0.0
    ess = np.array([tb.line_priority[li] == "essential" for li in model.u_line], dtype=bool)
    need_e = float((q * days)[ess].sum()) if ub.size else 0.0
    short_e = float((u * days)[ess].sum()) if ub.size else 0.0
    late = float((x * model.x_late).sum()) if xb.size else 0.0
    first_rot = [ul.arrival_day for ul in unit_lines if ul.rotation == 1]
    deployed = presence.sum(axis=0)
    pers = (presence * tb.pledge_personnel[:, None]).sum(axis=0) if tb.n_pledges else np.zeros(T)
    avg_dep = float(deployed.mean()) if T else 0.0
    hub_nations: dict[str, set[str]] = defaultdict(set)
    for ul in unit_lines:
        hub_nations[ul.hub].add(ul.nation)
    km = float((x * tb.corridor_distance[tb.arc_corridor[model.x_arc]]).sum()) if xb.size else 0.0
    kpis = KPIs(
        coverage_pct=round(100.0 * (1 - short / need), 2) if need else 100.0,
        essential_coverage_pct=round(100.0 * (1 - short_e / need_e), 2) if need_e else 100.0,
        shortfall_unit_periods=round(float(u.sum()), 3) if ub.size else 0.0,
        shortfall_unit_days=round(short, 2),
        late_unit_days=round(late, 2),
        days_to_close=max(first_rot) if first_rot else None,
        units_deployed_peak=int(deployed.max()) if T else 0,
        personnel_deployed_peak=int(pers.max()) if T else 0,
        generation_ratio=round(float(tb.pledge_units.sum()) / avg_dep, 2) if avg_dep > 1e-9 else None,
        nations_per_hub_avg=round(float(np.mean([len(v) for v in hub_nations.values()])), 2) if hub_nations else 0.0,
        transport_unit_km=round(km, 1),
    )
    return kpis


def interpret(model: Model, values: np.ndarray, c_day: date | None) -> Interpretation:
    tb = model.tables
    T = tb.n_periods
    xb, ub = model.var("Assign-count"), model.var("Line-shortfall")
    x = np.round(values[xb.start : xb.stop]).astype(np.int64) if xb.size else np.zeros(0, np.int64)
    u = values[ub.start : ub.stop] if ub.size else np.zeros(0)

    x_line = tb.arc_line[model.x_arc]
    x_pledge = tb.arc_pledge[model.x_arc]
    # stable order: line id, start period, pledge id, column
    used: list[int] = sorted(
        np.flatnonzero(x > 0).tolist(),
        key=lambda j: (tb.line_id[x_line[j]], int(model.x_start[j]), tb.pledge_id[x_pledge[j]], j),
    )
    # rotation number on a line = rank of its start period among the line's start periods
    starts_of_line: dict[int, list[int]] = defaultdict(list)
    for j in used:
        starts_of_line[int(x_line[j])].append(int(model.x_start[j]))
    rank = {li: {s: i + 1 for i, s in enumerate(sorted(set(ss)))} for li, ss in starts_of_line.items()}

    # physical unit numbers inside a pledge: busy spells (departure .. tour end + return +
    # recovery) in departure order, each on the lowest-numbered unit free by then. The model
    # keeps the busy units of a pledge within its units on every day, so (interval graphs)
    # this never runs out of units.
    unit_no = _unit_numbers(model, x, used, x_pledge)

    unit_lines: list[UnitLine] = []
    unit_columns: list[tuple[str, int]] = []
    n = 0
    for j in used:
        li, p = int(x_line[j]), int(x_pledge[j])
        a = int(model.x_arc[j])
        c, h = int(tb.arc_corridor[a]), int(tb.arc_hub[a])
        tour_end = int(model.x_tour_end[j])
        for k in range(int(x[j])):
            n += 1
            uln = f"{tb.line_id[li]}-{n:04d}"
            ready = int(tb.win_ready[model.x_win[j]])
            unit_lines.append(
                UnitLine(
                    uln=uln,
                    nation=tb.pledge_nation[p],
                    pledge=tb.pledge_id[p],
                    unit=f"{tb.pledge_id[p]}#{unit_no[(j, 0)][k]}",
                    capability=tb.pledge_capability[p],
                    requirement=tb.line_id[li],
                    priority=tb.line_priority[li],
                    rear_node=tb.corridor_rear[c],
                    corridor=tb.corridor_id[c],
                    hub=tb.hub_id[h],
                    personnel=int(tb.pledge_personnel[p]),
                    tonnage=round(float(tb.pledge_tonnage[p]), 1),
                    ready_day=ready,
                    departure_day=int(model.x_departure[j]),
                    arrival_day=int(model.x_arrival[j]),
                    required_day=int(model.x_required[j]),
                    days_late=int(model.x_late[j]),
                    tour_start_day=int(model.x_tour_start[j]),
                    tour_end_day=tour_end,
                    rotation=rank[li][int(model.x_start[j])],
                    ready_date=_d(c_day, ready),
                    departure_date=_d(c_day, int(model.x_departure[j])),
                    arrival_date=_d(c_day, int(model.x_arrival[j])),
                    required_date=_d(c_day, int(model.x_required[j])),
                )
            )
            unit_columns.append((uln, j))

    # presence[p, t]: units of pledge p on tour in period t
    presence = np.zeros((tb.n_pledges, T))
    for j in used:
        presence[int(x_pledge[j]), int(model.x_start[j]) : int(model.x_last[j]) + 1] += x[j]
    starts = np.zeros((tb.n_pledges, T))
    for j in used:
        starts[int(x_pledge[j]), int(model.x_start[j])] += x[j]

    rotations = _rotations(tb, presence, starts)

    fill = _fill(model, u)

    kpis = _kpis(model, x, u, presence, unit_lines)
    return Interpretation(unit_lines, unit_columns, rotations, fill, kpis)
