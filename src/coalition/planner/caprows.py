"""Capacity rows of the full model for the chain bound (planner.lagrange): hub personnel on a
day, corridor personnel and tonnage entering on a day - priced with multipliers, added to the
chain master as the master's plan breaks them (row generation).

A row is ``(kind, group, day)``: kind ``HUB`` (group a hub: the personnel at the hub on the day,
arrival <= day <= tour end), ``CORRIDOR_PERSONNEL`` / ``CORRIDOR_TONNAGE`` (group a corridor: what
enters it on the day - units departing to their hub and units leaving it the day after their
tour ends), each <= its capacity, exactly the rows of ``blocks.define_hub_capacity_constraints``
and ``blocks.define_corridor_constraints`` on that day. Any set of them holds in every plan of
the full model, so relaxing any set with multipliers ``rho >= 0`` keeps ``L`` a lower bound; the
rest are simply left out (a relaxation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from coalition.planner.colgen import Relaxation
from coalition.planner.tables import PlanningTables

HUB, CORRIDOR_PERSONNEL, CORRIDOR_TONNAGE = 0, 1, 2
KEY = 10**5  # row key: (kind * n_groups_max + group) * KEY + day (days < KEY)


@dataclass(slots=True)
class CapRows:
    """Per column of the full set (in the given order) what the capacity rows need, and the
    rows chosen so far (appended, never removed)."""

    hub: np.ndarray
    arrival: np.ndarray
    present_end: np.ndarray  # last day at the hub (capped at the horizon)
    corridor: np.ndarray
    departure: np.ndarray
    back: np.ndarray  # day it re-enters the corridor after its tour (-1: after the horizon)
    personnel: np.ndarray
    tonnage: np.ndarray
    hub_cap: np.ndarray
    corr_personnel: np.ndarray
    corr_tonnage: np.ndarray
    horizon: int
    n_groups: int  # the larger of hubs and corridors
    keys: list[int] = field(default_factory=list)  # the rows, in master order
    caps: list[float] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.keys)


def cap_rows(rel: Relaxation, tb: PlanningTables, order: np.ndarray) -> CapRows:
    """The capacity data of every column of ``rel``, in ``order`` (DualProblem's)."""
    H = int(tb.horizon_days)
    c = {k: v[order] for k, v in rel.cols.items()}
    arc = c["arc"]
    pledge = tb.arc_pledge[arc]
    ret = c["tour_end"] + 1
    return CapRows(
        hub=tb.arc_hub[arc],
        arrival=c["arrival"],
        present_end=np.minimum(c["tour_end"], H - 1),
        corridor=tb.arc_corridor[arc],
        departure=c["departure"],
        back=np.where(ret < H, ret, -1),
        personnel=tb.pledge_personnel[pledge].astype(np.float64),
        tonnage=tb.pledge_tonnage[pledge].astype(np.float64),
        hub_cap=tb.hub_capacity.astype(np.float64),
        corr_personnel=tb.corridor_personnel.astype(np.float64),
        corr_tonnage=tb.corridor_tonnage.astype(np.float64),
        horizon=H,
        n_groups=max(len(tb.hub_id), len(tb.corridor_id), 1),
    )


def _split(cr: CapRows, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kg, day = np.divmod(keys, KEY)
    kind, group = np.divmod(kg, cr.n_groups)
    return kind, group, day


def _dense(cr: CapRows, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rho on (hub, day) as prefix sums over days, and on (corridor, day) per kind."""
    n, H = cr.n_groups, cr.horizon
    hub = np.zeros((n, H + 1))
    cp = np.zeros((n, H + 1))  # last column: the "no day" slot (-1)
    ct = np.zeros((n, H + 1))
    if rho.size:
        kind, group, day = _split(cr, np.asarray(cr.keys, dtype=np.int64))
        for k, arr, d in ((HUB, hub, day + 1), (CORRIDOR_PERSONNEL, cp, day), (CORRIDOR_TONNAGE, ct, day)):
            m = kind == k
            np.add.at(arr, (group[m], d[m]), rho[m])
        hub = np.cumsum(hub, axis=1)
    return hub, cp, ct


def price(cr: CapRows, rho: np.ndarray) -> tuple[np.ndarray, float]:
    """What the rows' multipliers ``rho >= 0`` add to each column's reduced cost, and the
    constant ``-sum rho * cap`` they add to L."""
    if not rho.size:
        return np.zeros(cr.hub.size), 0.0
    hub, cp, ct = _dense(cr, rho)
    add = cr.personnel * (hub[cr.hub, cr.present_end + 1] - hub[cr.hub, cr.arrival])
    back = np.where(cr.back >= 0, cr.back, cr.horizon)  # the empty slot
    add += cr.personnel * (cp[cr.corridor, cr.departure] + cp[cr.corridor, back])
    add += cr.tonnage * (ct[cr.corridor, cr.departure] + ct[cr.corridor, back])
    return add, -float(rho @ np.asarray(cr.caps))


def _key(cr: CapRows, kind: int | np.ndarray, group: np.ndarray, day: np.ndarray) -> np.ndarray:
    key: np.ndarray = (np.asarray(kind) * cr.n_groups + group) * KEY + day
    return key


def broken(cr: CapRows, pos: np.ndarray, amount: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """Rows not chosen yet that the plan ``amount`` units of each column ``pos`` breaks, the
    worst first (at most ``limit``), as (key, capacity). Hub rows only on arrival days (the
    most at a hub is reached on one)."""
    n, H = cr.n_groups, cr.horizon
    have = np.asarray(cr.keys, dtype=np.int64)
    out_k, out_c, out_v = [], [], []
    # hub: presence intervals as differences over days
    diff = np.zeros((n, H + 1))
    np.add.at(diff, (cr.hub[pos], cr.arrival[pos]), cr.personnel[pos] * amount)
    np.add.at(diff, (cr.hub[pos], cr.present_end[pos] + 1), -cr.personnel[pos] * amount)
    load = np.cumsum(diff, axis=1)
    h, d = cr.hub[pos], cr.arrival[pos]
    over = load[h, d] - cr.hub_cap[h]
    out_k.append(_key(cr, HUB, h, d))
    out_c.append(cr.hub_cap[h])
    out_v.append(over / np.maximum(cr.hub_cap[h], 1.0))
    for kind, per, cap in (
        (CORRIDOR_PERSONNEL, cr.personnel, cr.corr_personnel),
        (CORRIDOR_TONNAGE, cr.tonnage, cr.corr_tonnage),
    ):
        c = np.concatenate([cr.corridor[pos], cr.corridor[pos]])
        day = np.concatenate([cr.departure[pos], cr.back[pos]])
        w = np.concatenate([per[pos] * amount, per[pos] * amount])
        ok = (day >= 0) & (w > 0)
        c, day, w = c[ok], day[ok], w[ok]
        keys = _key(cr, kind, c, day)
        uk, inv = np.unique(keys, return_inverse=True)
        tot = np.bincount(inv, weights=w, minlength=uk.size)
        gc = _split(cr, uk)[1]
        out_k.append(uk)
        out_c.append(cap[gc])
        out_v.append((tot - cap[gc]) / np.maximum(cap[gc], 1.0))
    keys, caps, viol = np.concatenate(out_k), np.concatenate(out_c), np.concatenate(out_v)
    keys, first = np.unique(keys, return_index=True)
    caps, viol = caps[first], viol[first]
    bad = (viol > 1e-7) & ~np.isin(keys, have)
    keys, caps, viol = keys[bad], caps[bad], viol[bad]
    top = np.argsort(-viol, kind="stable")[:limit]
    return [(int(k), float(c)) for k, c in zip(keys[top], caps[top], strict=True)]


def entries(cr: CapRows, pos: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients of columns ``pos`` in the chosen rows ``rows`` (indices into ``cr.keys``):
    (row index, index into pos, value)."""
    keys = np.asarray(cr.keys, dtype=np.int64)[rows]
    if not keys.size or not pos.size:
        z = np.zeros(0, np.int64)
        return z, z, np.zeros(0)
    order = np.argsort(keys)
    sk = keys[order]
    out_r, out_j, out_v = [], [], []
    j = np.arange(pos.size)
    # hub rows: every chosen day in [arrival, present end]
    lo = np.searchsorted(sk, _key(cr, HUB, cr.hub[pos], cr.arrival[pos]))
    hi = np.searchsorted(sk, _key(cr, HUB, cr.hub[pos], cr.present_end[pos]), side="right")
    length = np.maximum(hi - lo, 0)
    jj = np.repeat(j, length)
    off = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    out_r.append(order[np.repeat(lo, length) + off])
    out_j.append(jj)
    out_v.append(cr.personnel[pos][jj])
    for kind, per in ((CORRIDOR_PERSONNEL, cr.personnel), (CORRIDOR_TONNAGE, cr.tonnage)):
        for day in (cr.departure[pos], cr.back[pos]):
            k = _key(cr, kind, cr.corridor[pos], day)
            at = np.minimum(np.searchsorted(sk, k), sk.size - 1)
            hit = (sk[at] == k) & (day >= 0)
            out_r.append(order[at[hit]])
            out_j.append(j[hit])
            out_v.append(per[pos][hit])
    return np.concatenate(out_r), np.concatenate(out_j), np.concatenate(out_v)


def n_dense(cr: CapRows) -> int:
    """Multipliers of EVERY capacity row, one per (hub, day) and per (corridor, day) and kind."""
    return (cr.hub_cap.size + 2 * cr.corr_personnel.size) * cr.horizon


def _parts(cr: CapRows, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    nh, nc, H = cr.hub_cap.size, cr.corr_personnel.size, cr.horizon
    hub = flat[: nh * H].reshape(nh, H)
    cp = flat[nh * H : (nh + nc) * H].reshape(nc, H)
    ct = flat[(nh + nc) * H :].reshape(nc, H)
    return hub, cp, ct


def dense_price(cr: CapRows, rho: np.ndarray) -> tuple[np.ndarray, float]:
    """:func:`price` with a multiplier ``rho >= 0`` on every capacity row (:func:`n_dense`)."""
    hub, cp, ct = _parts(cr, rho)
    pre = np.zeros((hub.shape[0], cr.horizon + 1))
    np.cumsum(hub, axis=1, out=pre[:, 1:])
    add = cr.personnel * (pre[cr.hub, cr.present_end + 1] - pre[cr.hub, cr.arrival])
    has = cr.back >= 0
    back = np.where(has, cr.back, 0)
    add += cr.personnel * (cp[cr.corridor, cr.departure] + np.where(has, cp[cr.corridor, back], 0.0))
    add += cr.tonnage * (ct[cr.corridor, cr.departure] + np.where(has, ct[cr.corridor, back], 0.0))
    const = hub.sum(axis=1) @ cr.hub_cap + cp.sum(axis=1) @ cr.corr_personnel + ct.sum(axis=1) @ cr.corr_tonnage
    return add, -float(const)


def dense_slack(cr: CapRows, pos: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Load minus capacity of every capacity row (:func:`n_dense` order) for ``amount`` units
    of each column ``pos``: a subgradient of L in ``rho``."""
    nh, nc, H = cr.hub_cap.size, cr.corr_personnel.size, cr.horizon
    diff = np.zeros((nh, H + 1))
    np.add.at(diff, (cr.hub[pos], cr.arrival[pos]), cr.personnel[pos] * amount)
    np.add.at(diff, (cr.hub[pos], cr.present_end[pos] + 1), -cr.personnel[pos] * amount)
    hub = np.cumsum(diff[:, :H], axis=1) - cr.hub_cap[:, None]
    cp = np.zeros((nc, H))
    ct = np.zeros((nc, H))
    for day in (cr.departure[pos], cr.back[pos]):
        ok = day >= 0
        c, d, a = cr.corridor[pos][ok], day[ok], amount[ok]
        np.add.at(cp, (c, d), cr.personnel[pos][ok] * a)
        np.add.at(ct, (c, d), cr.tonnage[pos][ok] * a)
    cp -= cr.corr_personnel[:, None]
    ct -= cr.corr_tonnage[:, None]
    return np.concatenate([hub.ravel(), cp.ravel(), ct.ravel()])


def dense_scale(cr: CapRows) -> np.ndarray:
    """The capacity of every row (:func:`n_dense` order, at least 1): rows divided by it have
    subgradients of the order of the cover rows' (the ascent's steps are then balanced)."""
    H = cr.horizon
    caps = np.concatenate([np.repeat(cr.hub_cap, H), np.repeat(cr.corr_personnel, H), np.repeat(cr.corr_tonnage, H)])
    scale: np.ndarray = np.maximum(caps, 1.0)
    return scale
