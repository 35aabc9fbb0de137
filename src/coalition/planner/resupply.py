"""The planner's resupply block (issue 15): sustainment tonnage shares corridor capacity with
deployment, redeployment and rotation, day by day.

Data (:class:`ResupplyData`, pure): per (capability, hub) the tonnes per person-day a unit needs
from the rear after host-nation share (:func:`coalition.sustain.flows.tonnage_factor`, the one
definition the checker also uses: dry cargo, water at 1 t/m³, fuel at 0.845 t/m³).

The horizon is cut into segments of ``PlanOptions.resupply_segment_days``; in each segment k
every corridor c carries a constant resupply rate r[c,k] (t/day). Blocks:

``Resupply-rate``    r[c,k] in [0, tonnage capacity of c]   (variables)
``Resupply-unmet``   g[h,k] >= 0 t/day the corridors do not carry (cost ``Weights.sustainment``
                     per tonne-day: coverage >> sustainment met >> lateness)
``Resupply-cover``   for each hub h and segment k:
                     sum_{j at h present on some day of k} t_j x_j <= sum_{c into h} r[c,k] + g[h,k]
                     (the rate covers every unit present on any day of the segment: an upper
                     bound of the daily peak, equal to it when units overlap as in relief in place)
and r[c,k] is added to every ``Corridor-tonnage-capacity`` row of corridor c on a day of k, so
deployment + return + resupply <= the daily capacity on every day (on a day without
deployment the variable bound holds it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from coalition.scenario.schemas import Scenario

if TYPE_CHECKING:
    from coalition.planner.matrix import Model

WORDS = {
    "Resupply-cover": "sustainment: the resupply a hub needs is carried or counted unmet",
}


@dataclass(frozen=True)
class ResupplyData:
    enabled: bool
    tonnes: dict[tuple[str, str], float]  # (capability, hub id) -> t per person-day
    unknown: dict[str, tuple[str, ...]]  # capability -> classes with no factor (not loaded)
    flags: tuple[str, ...]


def resupply_data(
    scenario: Scenario, capabilities: list[str], hub_id: list[str], enabled: bool, holds: dict[str, bool] | None
) -> ResupplyData:
    from coalition.sustain.factors import load_factors
    from coalition.sustain.flows import tonnage_factor

    table = load_factors()
    tonnes: dict[tuple[str, str], float] = {}
    unknown: dict[str, tuple[str, ...]] = {}
    flags: set[str] = set()
    if enabled:
        for cap in sorted(set(capabilities)):
            for h in hub_id:
                f = tonnage_factor(scenario, table, cap, h, holds)
                tonnes[(cap, h)] = f.tonnes
                flags.update(f.flags)
                if f.unknown:
                    unknown[cap] = f.unknown
    return ResupplyData(enabled, tonnes, unknown, tuple(sorted(flags)))


@dataclass
class ResupplyIndex:
    seg_days: int
    r_corridor: np.ndarray
    r_segment: np.ndarray
    g_hub: np.ndarray
    g_segment: np.ndarray
    cover_rows: slice
    tonnage_rows: np.ndarray  # global Corridor-tonnage-capacity rows
    tonnage_r: np.ndarray  # the r column (global) in each of them


def _segment(k: int, S: int, H: int) -> tuple[int, int]:
    return k * S, min((k + 1) * S, H) - 1


def define_resupply(m: Model) -> None:
    tb = m.tables
    rd: ResupplyData | None = getattr(tb.sustain, "resupply", None) if tb.sustain is not None else None
    xb = m.var("Assign-count")
    if rd is None or not rd.enabled or not xb.size:
        return
    H = tb.horizon_days
    S = int(m.options.resupply_segment_days)
    K = math.ceil(H / S)
    cap = [tb.pledge_capability[p] for p in tb.arc_pledge[m.x_arc]]
    hub = tb.arc_hub[m.x_arc]
    t = np.array([rd.tonnes.get((c, tb.hub_id[h]), 0.0) for c, h in zip(cap, hub.tolist(), strict=True)])
    t = t * tb.pledge_personnel[tb.arc_pledge[m.x_arc]]
    a = m.x_arrival.astype(np.int64)
    e = np.minimum(m.x_tour_end, H - 1).astype(np.int64)
    use = np.flatnonzero((a <= e) & (t > 0))
    if not use.size:
        return
    k0, k1 = a[use] // S, e[use] // S
    n = k1 - k0 + 1
    j = np.repeat(use, n)
    k = np.repeat(k0, n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    key = hub[j] * K + k
    rows_key, row = np.unique(key, return_inverse=True)
    row = row.ravel()
    g_hub, g_seg = np.divmod(rows_key, K)
    days = np.array([_segment(int(s), S, H)[1] - _segment(int(s), S, H)[0] + 1 for s in g_seg], dtype=float)
    # r[c, k] for the corridors into the hubs of the rows
    r_c, r_k, r_row = [], [], []
    for i, (h, s) in enumerate(zip(g_hub.tolist(), g_seg.tolist(), strict=True)):
        for c in np.flatnonzero(tb.corridor_hub == h).tolist():
            r_c.append(c)
            r_k.append(s)
            r_row.append(i)
    r_c_a, r_k_a, r_row_a = (np.array(x, dtype=np.int64) for x in (r_c, r_k, r_row))
    w = m.options.weights.sustainment
    rb = m.add_variables("Resupply-rate", np.zeros(r_c_a.size), tb.corridor_tonnage[r_c_a], integer=False)
    gb = m.add_variables(
        "Resupply-unmet", np.zeros(rows_key.size), np.full(rows_key.size, np.inf), integer=False, cost=w * days
    )
    nr = rows_key.size
    blk = m.add_constraints(
        "Resupply-cover",
        np.concatenate([row, r_row_a, np.arange(nr)]),
        np.concatenate([xb.start + j, rb.start + np.arange(r_c_a.size), gb.start + np.arange(nr)]),
        np.concatenate([t[j], -np.ones(r_c_a.size), -np.ones(nr)]),
        np.full(nr, -np.inf),
        np.zeros(nr),
        np.stack([g_hub, g_seg], axis=1),
    )
    # r joins the corridor's daily tonnage rows
    tbk = m.con("Corridor-tonnage-capacity")
    t_rows = np.zeros(0, np.int64)
    t_r = np.zeros(0, np.int64)
    if tbk.size:
        keys = m.row_key[list(m.con_blocks).index("Corridor-tonnage-capacity")]
        r_of = {(int(c), int(s)): rb.start + i for i, (c, s) in enumerate(zip(r_c_a, r_k_a, strict=True))}
        pairs = [(tbk.start + i, r_of.get((int(c), int(d) // S))) for i, (c, d) in enumerate(keys)]
        pairs = [(i, c) for i, c in pairs if c is not None]
        if pairs:
            t_rows = np.array([p[0] for p in pairs], dtype=np.int64)
            t_r = np.array([p[1] for p in pairs], dtype=np.int64)
            m._rows.append(t_rows)
            m._cols.append(t_r)
            m._vals.append(np.ones(t_rows.size))
    m.sustain_index["resupply"] = ResupplyIndex(S, r_c_a, r_k_a, g_hub, g_seg, slice(blk.start, blk.stop), t_rows, t_r)


def resupply_values(m: Model, v: np.ndarray) -> np.ndarray:
    """The best r and g for the plan's x: each hub-segment's need goes to its corridors up to
    the room deployment leaves them on every day of the segment, the rest is unmet. (A corridor
    serves one hub, so this is optimal for fixed x.)"""
    idx: ResupplyIndex | None = m.sustain_index.get("resupply")
    if idx is None:
        return v
    rb, gb = m.var("Resupply-rate"), m.var("Resupply-unmet")
    out = v.copy()
    out[rb.start : rb.stop] = 0.0
    out[gb.start : gb.stop] = 0.0
    assert m.A is not None and m.chi is not None and m.hi is not None  # set once the model is complete
    act = m.A @ out
    need = np.maximum(act[idx.cover_rows], 0.0)
    room = m.chi[rb.start : rb.stop].copy()
    if idx.tonnage_rows.size:
        slack = np.maximum(m.hi[idx.tonnage_rows] - act[idx.tonnage_rows], 0.0)
        np.minimum.at(room, idx.tonnage_r - rb.start, slack)
    r_row = _r_rows(m, idx)
    r = np.zeros(room.size)
    left = need.copy()
    for i in np.argsort(r_row, kind="stable"):
        take = min(room[i], left[r_row[i]])
        r[i] = take
        left[r_row[i]] -= take
    out[rb.start : rb.stop] = r
    out[gb.start : gb.stop] = np.maximum(left, 0.0)
    return out


def _r_rows(m: Model, idx: ResupplyIndex) -> np.ndarray:
    key = {(int(h), int(s)): i for i, (h, s) in enumerate(zip(idx.g_hub, idx.g_segment, strict=True))}
    hub = m.tables.corridor_hub[idx.r_corridor]
    return np.array([key[(int(h), int(s))] for h, s in zip(hub, idx.r_segment, strict=True)], dtype=np.int64)


def resupply_section(m: Model, values: np.ndarray) -> dict[str, Any] | None:
    """The plan JSON's ``resupply`` section from the model's values."""
    idx: ResupplyIndex | None = m.sustain_index.get("resupply")
    tb = m.tables
    rd: ResupplyData | None = getattr(tb.sustain, "resupply", None) if tb.sustain is not None else None
    if rd is None or not rd.enabled:
        return None
    H, S = tb.horizon_days, int(m.options.resupply_segment_days)
    flows: list[dict[str, object]] = []
    unmet: list[dict[str, object]] = []
    unmet_tonne_days = 0.0  # summed in the order of unmet
    if idx is not None:
        rb, gb = m.var("Resupply-rate"), m.var("Resupply-unmet")
        r = values[rb.start : rb.stop]
        g = values[gb.start : gb.stop]
        assert m.A is not None
        for i in np.flatnonzero(r > 1e-9):
            c, s = int(idx.r_corridor[i]), int(idx.r_segment[i])
            a, b = _segment(s, S, H)
            flows.append(
                {
                    "corridor": tb.corridor_id[c],
                    "hub": tb.hub_id[int(tb.corridor_hub[c])],
                    "start_day": a,
                    "end_day": b,
                    "tonnes_per_day": float(r[i]),
                }
            )
        act = m.A @ values
        r_row = _r_rows(m, idx)
        dep = np.zeros(r.size)
        if idx.tonnage_rows.size:
            np.maximum.at(dep, idx.tonnage_r - rb.start, act[idx.tonnage_rows] - values[idx.tonnage_r])
        for i in np.flatnonzero(g > 1e-9):
            h, s = int(idx.g_hub[i]), int(idx.g_segment[i])
            a, b = _segment(s, S, H)
            into = np.flatnonzero(tb.corridor_hub == h)
            mine = r_row == i
            if not into.size:
                why, con = f"no corridor reaches {tb.hub_id[h]}", "no-corridor"
            else:
                cap = float(tb.corridor_tonnage[into].sum())
                used = float(dep[mine].sum())
                why = (
                    f"the corridors into {tb.hub_id[h]} ({', '.join(tb.corridor_id[c] for c in into)}) carry "
                    f"{cap:,.1f} t/day in all; on their busiest day of days {a}..{b} deployment, return "
                    f"and rotation use {used:,.1f} t/day of it; the hub needs "
                    f"{float(g[i]) + float(r[mine].sum()):,.1f} t/day, {float(g[i]):,.1f} t/day is not carried"
                )
                con = "Corridor-tonnage-capacity"
            unmet.append(
                {
                    "hub": tb.hub_id[h],
                    "start_day": a,
                    "end_day": b,
                    "tonnes_per_day": float(g[i]),
                    "reason": why,
                    "constraint": con,
                }
            )
            unmet_tonne_days += float(g[i]) * (b - a + 1)
    return {
        "segment_days": S,
        "basis": "per corridor a constant rate (t/day) per segment, covering every unit present on any "
        "day of the segment; t/day after host-nation share, water 1 t/m3, fuel 0.845 t/m3",
        "flows": flows,
        "unmet": unmet,
        "unmet_tonne_days": round(unmet_tonne_days, 3),
        "unknown_factors": {c: list(v) for c, v in sorted(rd.unknown.items())},
        "flags": list(rd.flags),
    }
