"""A hedged first wave: two-stage stochastic program, extensive form, VSS and EVPI (pure).

**Stages.** Here and now, before the politics is known, the coalition commits ``z[p,l]``
units of pledge p to requirement line l for the first wave (which fixes the hub structure: a
line sits at its hub). Then one world w happens (which pledges are active, how many units
deploy). Recourse, per world:

* committed units of an active pledge deliver: ``d[p,l,w] <= z[p,l]``;
* uncommitted units of active pledges can be re-tasked: ``r[p,l,w]``, arriving ``delay`` days
  later than they could have (the political decision and re-tasking take time);
* committed-but-undelivered units are not re-tasked: ``sum_l r[p,l,w] <= U_p - sum_l z[p,l]``;
* deployed units never exceed what deploys: ``sum_l d + sum_l r <= U_p(w)`` (0 if inactive);
* ``s[l,w]`` is the first-wave shortfall: ``sum_p d + r + s >= q_l``.

**Costs** (the planner's weights, docs/planner/model.md): shortfall ``W_S pi_l D`` per unit
short for one period of D days; lateness ``W_L pi_l`` per unit-day late (a committed unit is
late by ``L[p,l]``: its earliest arrival after the line's start; a re-tasked one by
``L[p,l] + delay``); commitment ``W_D km`` per unit (transport; a tie-breaker).

**Problems.** With N worlds of weight ``w_i`` (sampled: 1/N):

* RP, the recourse problem (extensive form, one MIP): ``min_z c z + sum_i w_i Q(z, w_i)``;
* EV: the same with the one *expected* world (units = expected units); its first stage z_EV;
  EEV = ``c z_EV + sum_i w_i Q(z_EV, w_i)``;
* WS, wait-and-see: ``sum_i w_i min_z (c z + Q(z, w_i))``.

``VSS = EEV - RP >= 0`` and ``EVPI = RP - WS >= 0`` (Birge 1982), exactly when the MIPs are
solved to optimality (``mip_rel_gap = 0``; the property tests do). The *price of hedging* is
what the hedged z costs in the nominal world beyond the nominal world's own optimum (>= 0).
Sampled worlds make RP an SAA estimate (biased low); an independent out-of-sample set
evaluates z_RP and z_EV with standard errors, giving VSS out of sample with a 95 % CI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from coalition.analysis.evaluate import Context
from coalition.analysis.sampling import World
from coalition.planner.schemas import PlanOptions


@dataclass(frozen=True, slots=True)
class HedgeData:
    """The first-wave model's data, from the planner's tables (superset of pledges)."""

    pledges: list[str]
    nations: list[str]
    units: np.ndarray  # U_p pledged
    lines: list[str]
    qty: np.ndarray
    prio: np.ndarray  # priority factors
    pair_p: np.ndarray
    pair_l: np.ndarray
    late: np.ndarray  # days late of a committed unit
    km: np.ndarray
    period_days: int


def hedge_data(ctx: Context) -> HedgeData:
    from coalition.planner.tables import build_tables

    opts = ctx.options
    tb = build_tables(ctx.scenario, ctx.option_id, active_from={p.id: 0 for p in ctx.scenario.pledges}, options=opts)
    earliest = tb.pledge_ready_day[tb.arc_pledge] + tb.corridor_transit[tb.arc_corridor]
    start = np.maximum(tb.line_start_day[tb.arc_line], 0)
    late = np.maximum(0, earliest - start).astype(float)
    km = tb.corridor_distance[tb.arc_corridor].astype(float)
    best: dict[tuple[int, int], tuple[float, float]] = {}
    for a in range(tb.n_arcs):
        key = (int(tb.arc_pledge[a]), int(tb.arc_line[a]))
        if tb.line_first[key[1]] < 0:
            continue
        cand = (late[a], km[a])
        if key not in best or cand < best[key]:
            best[key] = cand
    keys = sorted(best)
    return HedgeData(
        pledges=list(tb.pledge_id),
        nations=list(tb.pledge_nation),
        units=tb.pledge_units.astype(float),
        lines=list(tb.line_id),
        qty=tb.line_qty.astype(float),
        prio=tb.line_prio_w.astype(float),
        pair_p=np.array([k[0] for k in keys], dtype=np.int64),
        pair_l=np.array([k[1] for k in keys], dtype=np.int64),
        late=np.array([best[k][0] for k in keys]),
        km=np.array([best[k][1] for k in keys]),
        period_days=tb.period_days,
    )


def world_units(ctx: Context, data: HedgeData, world: World) -> np.ndarray:
    inp = ctx.inputs(world)
    return np.array([float(inp.units.get(p, 0)) if p in inp.active_from else 0.0 for p in data.pledges])


@dataclass(frozen=True, slots=True)
class Solved2:
    status: str
    objective: float
    z: np.ndarray
    per_world: np.ndarray  # recourse cost of each world (weighted sum = objective - c z)
    first_cost: float


class _Rows:
    """Sparse constraint rows, appended block by block (each block's row indices from 0)."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.count = 0

    def add(self, rr: np.ndarray, cc: np.ndarray, vv: np.ndarray, lo_: np.ndarray, hi_: np.ndarray) -> None:
        self.rows.append(rr + self.count)
        self.cols.append(cc)
        self.vals.append(vv)
        self.lo.append(lo_)
        self.hi.append(hi_)
        self.count += lo_.size

    def constraint(self, n: int) -> Any:
        """The rows as one scipy ``LinearConstraint`` over ``n`` columns."""
        from scipy.optimize import LinearConstraint

        A = sp.csr_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))), shape=(self.count, n)
        )
        return LinearConstraint(A, np.concatenate(self.lo), np.concatenate(self.hi))


def _world_rows(rows: _Rows, data: HedgeData, uw: np.ndarray, drs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """One world's recourse rows: ``d`` (deployed as planned), ``r`` (re-tasked) and ``s``
    (shortfall) are its columns; the first-stage ``z`` are columns ``0..K-1``."""
    d, r, s = drs
    K, L = data.pair_p.size, len(data.lines)
    k = np.arange(K)
    P = len(data.pledges)
    # d <= z
    rows.add(
        np.concatenate([k, k]),
        np.concatenate([d, k]),
        np.concatenate([np.ones(K), -np.ones(K)]),
        np.full(K, -np.inf),
        np.zeros(K),
    )
    # sum_l d + r <= U_p(w)
    rows.add(
        np.concatenate([data.pair_p, data.pair_p]),
        np.concatenate([d, r]),
        np.ones(2 * K),
        np.full(P, -np.inf),
        uw.astype(float),
    )
    # sum_l r + sum_l z <= U_p
    rows.add(
        np.concatenate([data.pair_p, data.pair_p]),
        np.concatenate([r, k]),
        np.ones(2 * K),
        np.full(P, -np.inf),
        data.units.copy(),
    )
    # cover: sum d + r + s >= q
    rows.add(
        np.concatenate([data.pair_l, data.pair_l, np.arange(L)]),
        np.concatenate([d, r, s]),
        np.ones(2 * K + L),
        data.qty.copy(),
        np.full(L, np.inf),
    )


def solve_two_stage(
    data: HedgeData,
    worlds_units: Sequence[np.ndarray],
    weights: Sequence[float],
    options: PlanOptions,
    *,
    delay: float,
    fixed_z: np.ndarray | None = None,
    time_limit: float = 60.0,
) -> Solved2:
    """The extensive form over the given worlds (or the recourse only, with ``fixed_z``)."""
    from scipy.optimize import Bounds, milp

    w = options.weights
    P, L, K = len(data.pledges), len(data.lines), data.pair_p.size
    N = len(worlds_units)
    pr = data.prio[data.pair_l]
    cz = w.distance * data.km
    n_w = 2 * K + L  # d, r, s per world
    n = K + N * n_w
    c = np.zeros(n)
    c[:K] = cz
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    hi[:K] = data.units[data.pair_p]
    if fixed_z is not None:
        lo[:K] = hi[:K] = fixed_z
    rows = _Rows()
    k = np.arange(K)
    # first stage: sum_l z[p,l] <= U_p
    rows.add(data.pair_p, k, np.ones(K), np.full(P, -np.inf), data.units.copy())
    for i, (uw, wt) in enumerate(zip(worlds_units, weights, strict=True)):
        base = K + i * n_w
        d, r, s = base + k, base + K + k, base + 2 * K + np.arange(L)
        c[d] = wt * w.lateness * pr * data.late
        c[r] = wt * w.lateness * pr * (data.late + delay)
        c[s] = wt * w.shortfall * data.prio * data.period_days
        inactive = uw[data.pair_p] <= 0
        hi[d[inactive]] = 0.0
        hi[r[inactive]] = 0.0
        hi[s] = data.qty
        _world_rows(rows, data, uw, (d, r, s))
    integrality = np.zeros(n, dtype=np.int64)
    integrality[:K] = 1
    res = milp(
        c,
        constraints=rows.constraint(n),
        integrality=integrality,
        bounds=Bounds(lo, hi),
        options={"mip_rel_gap": float(options.mip_rel_gap), "time_limit": float(time_limit), "disp": False},
    )
    if res.x is None:
        return Solved2(
            "infeasible" if res.status == 2 else "no-solution", math.nan, np.zeros(K), np.full(N, math.nan), math.nan
        )
    x = res.x
    z = np.round(x[:K])
    per = np.array([float(c[K + i * n_w : K + (i + 1) * n_w] @ x[K + i * n_w : K + (i + 1) * n_w]) for i in range(N)])
    status = "optimal" if res.status == 0 else "time-limit"
    return Solved2(status, float(res.fun), z, per, float(cz @ z))


def _evaluate(
    data: HedgeData, z: np.ndarray, units: Sequence[np.ndarray], options: PlanOptions, delay: float
) -> np.ndarray:
    """Cost of first stage z in each world (first-stage cost + recourse), one LP per world."""
    return np.array([solve_two_stage(data, [u], [1.0], options, delay=delay, fixed_z=z).objective for u in units])


def hedge(
    ctx: Context,
    worlds: Sequence[World],
    *,
    out_of_sample: Sequence[World] = (),
    nominal: World | None = None,
    delay: float = 30.0,
    options: PlanOptions | None = None,
    exact: bool = False,
) -> dict[str, Any]:
    """RP, EV/EEV, WS, VSS, EVPI and the price of hedging over ``worlds``."""
    opts = options or ctx.options
    data = hedge_data(ctx)
    units = [world_units(ctx, data, w) for w in worlds]
    wts = np.array([w.weight for w in worlds], dtype=float)
    wts = wts / wts.sum()
    rp = solve_two_stage(data, units, list(wts), opts, delay=delay)
    mean_units = np.sum([wt * u for wt, u in zip(wts, units, strict=True)], axis=0)
    ev = solve_two_stage(data, [mean_units], [1.0], opts, delay=delay)
    eev_each = _evaluate(data, ev.z, units, opts, delay)
    eev = float(wts @ eev_each)
    ws_each = np.array([solve_two_stage(data, [u], [1.0], opts, delay=delay).objective for u in units])
    ws = float(wts @ ws_each)
    rp_each = rp.first_cost + rp.per_world / np.where(wts > 0, wts, 1.0)
    out: dict[str, Any] = {
        "worlds": len(worlds),
        "exact": exact,
        "delay_days": delay,
        "objective_unit": "planner weights: W_S x priority x period-days per first-wave unit "
        "short, W_L x priority per unit-day late, W_D per unit-km",
        "rp": {"objective": round(rp.objective, 3), "status": rp.status},
        "ev": {"objective": round(ev.objective, 3), "status": ev.status},
        "eev": round(eev, 3),
        "ws": round(ws, 3),
        "vss": round(eev - rp.objective, 3),
        "evpi": round(rp.objective - ws, 3),
    }
    if nominal is not None:
        u0 = world_units(ctx, data, nominal)
        hedged_nominal = _evaluate(data, rp.z, [u0], opts, delay)[0]
        best_nominal = solve_two_stage(data, [u0], [1.0], opts, delay=delay)
        out["price_of_hedging"] = {
            "nominal_cost_of_hedged_plan": round(float(hedged_nominal), 3),
            "nominal_optimum": round(best_nominal.objective, 3),
            "price": round(float(hedged_nominal) - best_nominal.objective, 3),
        }
    if out_of_sample:
        uo = [world_units(ctx, data, w) for w in out_of_sample]
        a = _evaluate(data, rp.z, uo, opts, delay)
        b = _evaluate(data, ev.z, uo, opts, delay)
        diff = b - a
        m = len(uo)
        se = float(diff.std(ddof=1) / math.sqrt(m)) if m > 1 else math.nan
        out["out_of_sample"] = {
            "worlds": m,
            "hedged_plan_cost": {
                "mean": round(float(a.mean()), 3),
                "se": round(float(a.std(ddof=1) / math.sqrt(m)), 3) if m > 1 else None,
            },
            "ev_plan_cost": {
                "mean": round(float(b.mean()), 3),
                "se": round(float(b.std(ddof=1) / math.sqrt(m)), 3) if m > 1 else None,
            },
            "vss": {
                "mean": round(float(diff.mean()), 3),
                "se": round(se, 3),
                "ci95": [round(float(diff.mean()) - 1.96 * se, 3), round(float(diff.mean()) + 1.96 * se, 3)],
            },
            "saa_gap_estimate": {"in_sample_rp": round(rp.objective, 3), "out_of_sample_rp": round(float(a.mean()), 3)},
        }
    # the here-and-now plan, aggregated per line (releasable: no nation named)
    first = []
    for li, lid in enumerate(data.lines):
        sel = data.pair_l == li
        first.append({"line": lid, "committed_units": int(rp.z[sel].sum()), "required_units": int(data.qty[li])})
    out["first_wave"] = first
    out["first_wave_by_nation"] = [
        {
            "line": data.lines[int(data.pair_l[j])],
            "nation": data.nations[int(data.pair_p[j])],
            "pledge": data.pledges[int(data.pair_p[j])],
            "units": int(rp.z[j]),
        }
        for j in np.flatnonzero(rp.z > 0)
    ]
    out["rp_world_costs_mean"] = round(float(wts @ rp_each), 3)
    return out
