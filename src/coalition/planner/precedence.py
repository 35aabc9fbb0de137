"""The planner MIP's enablers-first blocks (issue 15, docs/planner/model.md,
``Precedence-*``): HQ, signals and medical arrive before the units they precede.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from coalition.planner.matrix import INF, Model


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
        r: list[np.ndarray] = [np.arange(nd), np.arange(1, nd)]
        c: list[np.ndarray] = [wb.start + w0 + np.arange(nd), wb.start + w0 + np.arange(nd - 1)]
        v: list[np.ndarray] = [np.ones(nd), -np.ones(nd - 1)]
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
        hi: np.ndarray = np.zeros(nd)
        if not idx.require[q]:
            r.append(i)
            c.append(np.full(nd, zb.start + z_i))
            v.append(bigm)
            hi = bigm.copy()
            # presence
            nb = b.size
            pres.append(
                (
                    np.zeros(nb + 1, np.int64) + p_n,
                    np.concatenate([xb.start + b, [zb.start + z_i]]),
                    np.concatenate([np.ones(nb), [-float(ub[b].sum())]]),
                )
            )
            p_n += 1
            z_i += 1
        order.append((np.concatenate(r) + o_n, np.concatenate(c), np.concatenate(v)))
        o_hi.extend(hi.tolist())
        o_n += nd
        w0 += nd

    def cat(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], k: int) -> np.ndarray:
        return np.concatenate([p[k] for p in parts])

    m.add_constraints("Precedence-before-count", cat(cnt, 0), cat(cnt, 1), cat(cnt, 2), np.zeros(c_n), np.zeros(c_n))
    m.add_constraints(
        "Precedence-order", cat(order, 0), cat(order, 1), cat(order, 2), np.full(o_n, -INF), np.array(o_hi)
    )
    if pres:
        m.add_constraints(
            "Precedence-presence", cat(pres, 0), cat(pres, 1), cat(pres, 2), np.full(p_n, -INF), np.zeros(p_n)
        )


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
