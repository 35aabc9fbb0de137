"""The planner's 10-1-2 block (issue 15): no manoeuvre or training unit at a hub-day without
Role 1 care within 1 hour and Role 2 care within 2 hours, as HARD constraints of the MIP.

Data (:class:`MedicalData`, pure, from the scenario): each capability's medical role
(``sustainment.medical_roles``; a Role 3 also gives Role 2 and 1 care, a Role 2 also Role 1), the
constrained capabilities (roles ``deterrence`` or ``training``), the MEDEVAC pledges' bases, and
travel minutes between hubs by road and by helicopter from the one definition
:class:`coalition.sustain.medical.Travel` that the report and the checker use.

Blocks (names are the contract of ``docs/planner/model.md``):

``Medical-role<r>-cover`` for r = 1, 2, each hub h and each candidate day d:
    sum_{j constrained at h, present on d} x_j
        <= M_d ( sum_{k facility role >= r, road(h, hub_k) <= L_r, present on d} x_k
                 + sum_b q[h, r, b, d] )
    with M_d = the most constrained units that can be present (per pledge the smaller of its
    columns' upper bounds summed and its units).
``Medical-role<r>-line`` (valid inequalities, :func:`_line_cuts`): a constrained line's cover
    in a period needs whole facilities where its units are; they cut off LP plans in which a
    fraction of a facility covers a whole line (measured on a world of ``small``: LP bound
    +1.4 %, a third of the way to the best plan).
``Medical-air-reach`` q[h, r, b, d] in [0, 1]: casualties of h reach a facility by a
    helicopter of base b; ``Medical-air-facility``: q <= facilities of role >= r present on d
    with base -> h -> facility <= L_r; ``Medical-air-lift``: q <= MEDEVAC units of base b
    present on d (lift not rationed, as in the report).

A facility or a unit is present from arrival to tour end. The left side can grow only on an
arrival day of a constrained unit and the right side can shrink only on the day after a
facility's (or helicopter's) tour end, so rows on those candidate days hold the constraint on
every day (exact at day level). The block is built when ``PlanOptions.medical`` is on and the
scenario declares medical roles; otherwise the plan says that 10-1-2 was not enforced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from coalition.scenario.schemas import Scenario
from coalition.sustain.medical import (
    CONSTRAINED_ROLES,
    MEDEVAC_ROLE,
    ROLE1_MINUTES,
    ROLE2_MINUTES,
    Travel,
    medevac_bases,
)

if TYPE_CHECKING:
    from coalition.planner.matrix import Model

LIMITS = ((1, ROLE1_MINUTES), (2, ROLE2_MINUTES))
#: Add the ``Medical-role<r>-line`` rows (valid inequalities that tighten the LP, see
#: :func:`_line_cuts`); off only to measure what they buy.
LINE_CUTS = True
COVER = {1: "Medical-role1-cover", 2: "Medical-role2-cover"}
WORDS = {
    "Medical-role1-cover": "10-1-2: no Role 1 care within 1 hour of the hub on the unit's days",
    "Medical-role2-cover": "10-1-2: no Role 2 care (damage-control surgery) within 2 hours of the hub "
    "on the unit's days",
    "Medical-air-facility": "MEDEVAC bookkeeping (a facility in helicopter reach)",
    "Medical-air-lift": "MEDEVAC bookkeeping (a helicopter of the base present)",
}


@dataclass(frozen=True)
class MedicalData:
    """What the Medical-* blocks need, per table hub (index order of the tables)."""

    enforced: bool
    why_not: str
    cap_role: dict[str, int]
    constrained: frozenset[str]
    medevac: frozenset[str]
    bases: tuple[str, ...]
    pledge_base: np.ndarray  # per table pledge: index into ``bases`` (-1: none)
    road: np.ndarray  # [hub, hub] minutes casualty hub -> facility hub (inf: unknown)
    air: np.ndarray  # [base, hub, hub] minutes base -> casualty hub -> facility hub
    hub_id: tuple[str, ...]

    def nearest(self, hub: int, role: int, facility_hubs: np.ndarray) -> tuple[str, float] | None:
        """The candidate facility hub of ``facility_hubs`` nearest in time (road or air)."""
        if not facility_hubs.size:
            return None
        t = self.road[hub, facility_hubs]
        if self.air.size:
            t = np.minimum(t, self.air[:, hub, facility_hubs].min(axis=0))
        i = int(np.argmin(t))
        return self.hub_id[int(facility_hubs[i])], float(t[i])


def medical_data(scenario: Scenario, hub_id: list[str], pledge_id: list[str], enabled: bool) -> MedicalData:
    """The Medical-* data of a scenario over the tables' hubs and pledges (pure)."""
    cap_role = {m.capability: int(m.role) for m in scenario.sustainment.medical_roles}
    constrained = frozenset(c.code for c in scenario.capabilities if CONSTRAINED_ROLES & set(c.roles))
    medevac = frozenset(c.code for c in scenario.capabilities if MEDEVAC_ROLE in c.roles)
    why = ""
    if not enabled:
        why = "10-1-2 not enforced: PlanOptions.medical is off"
    elif not cap_role:
        why = "10-1-2 not enforced: the scenario declares no medical roles (sustainment.medical_roles)"
    elif not constrained:
        why = "10-1-2 not enforced: no capability has the role deterrence or training"
    travel = Travel.of(scenario)
    base_of = medevac_bases(scenario)
    bases = tuple(sorted({b for b in base_of.values() if b in travel.places}))
    bix = {b: i for i, b in enumerate(bases)}
    H = len(hub_id)
    road = np.zeros((H, H))
    for i, h in enumerate(hub_id):
        for k, f in enumerate(hub_id):
            road[i, k] = travel.road_minutes(h, f)
    air = np.full((len(bases), H, H), np.inf)
    for b, base in enumerate(bases):
        for i, h in enumerate(hub_id):
            for k, f in enumerate(hub_id):
                air[b, i, k] = travel.air_minutes(base, h, f)
    pledge_base = np.array([bix.get(base_of.get(p, ""), -1) for p in pledge_id], dtype=np.int64)
    return MedicalData(not why, why, cap_role, constrained, medevac, bases, pledge_base, road, air, tuple(hub_id))


def _contain(days: np.ndarray, a: np.ndarray, e: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) pairs with days[row] in [a_j, e_j] for the columns ``cols``."""
    lo = np.searchsorted(days, a[cols], side="left")
    hi = np.searchsorted(days, e[cols], side="right") - 1
    n = np.maximum(hi - lo + 1, 0)
    j = np.repeat(np.arange(cols.size), n)
    off = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    return np.repeat(lo, n) + off, cols[j]


def _big_m(rc: np.ndarray, jc: np.ndarray, ub: np.ndarray, pledge: np.ndarray, units: np.ndarray, n: int) -> np.ndarray:
    """M of each candidate-day row: the most constrained units that can be present that day,
    per pledge the smaller of its columns' upper bounds summed and its units (a pledge never
    has more units present than it has: Pledge-unit-cycle counts every unit from departure to
    the end of its recovery, which contains its stay)."""
    P = int(units.size)
    key = rc * P + pledge[jc]
    k, inv = np.unique(key, return_inverse=True)
    s = np.bincount(inv.ravel(), weights=ub[jc])
    per = np.minimum(s, units[k % P])
    return np.bincount(k // P, weights=per, minlength=n)


#: per (hub, role): its kept candidate days, the (kept-day row, column) pairs of the road
#: facilities present on them, and per air set the q markers of those days
FacilityDays = tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]


@dataclass
class MedicalIndex:
    """Where the Medical-* rows are, for the values completion and the explanations."""

    q_rows: list[tuple[int, int]]  # per q: (air-facility row, air-lift row), model-global
    facility_lines: frozenset[int]  # lines of facility capabilities (the greedy fills them first)
    row_hub_role: dict[int, tuple[int, int]]  # model-global cover row -> (hub, role)
    # Assign-count columns the cover rows do not force to zero (see _alive); None: all
    alive: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class _Cols:
    """Per Assign-count column, what the Medical-* rows read."""

    x0: int  # model column of the first Assign-count column
    a: np.ndarray  # arrival day
    e: np.ndarray  # last day at the hub (within the horizon)
    hub: np.ndarray
    is_c: np.ndarray  # a constrained capability (deterrence, training) that stays some day
    role: np.ndarray  # medical role of its capability (0: none, or no stay)
    is_lift: np.ndarray  # a medevac pledge with a base that stays some day
    pb: np.ndarray  # medevac base of its pledge (-1: none)
    ub: np.ndarray  # upper bound of the column
    pledge: np.ndarray
    units: np.ndarray  # per pledge: its units


def _columns(m: Model, md: MedicalData) -> _Cols | None:
    """The columns' medical facts, or None when no constrained column stays a day."""
    tb = m.tables
    H = tb.horizon_days
    cap = np.array(tb.pledge_capability, dtype=object)[tb.arc_pledge[m.x_arc]]
    a = m.x_arrival.astype(np.int64)
    e = np.minimum(m.x_tour_end, H - 1).astype(np.int64)
    ok = a <= e
    is_c = np.isin(cap, list(md.constrained)) & ok
    if not is_c.any():
        return None
    role = np.array([md.cap_role.get(c, 0) for c in cap], dtype=np.int64) * ok
    pb = md.pledge_base[tb.arc_pledge[m.x_arc]] if md.pledge_base.size else np.full(cap.size, -1)
    is_lift = np.isin(cap, list(md.medevac)) & ok & (pb >= 0)
    ub = m.chi_x
    assert ub is not None  # the Assign-count bounds exist once its columns do
    return _Cols(
        x0=m.var("Assign-count").start,
        a=a,
        e=e,
        hub=tb.arc_hub[m.x_arc],
        is_c=is_c,
        role=role,
        is_lift=is_lift,
        pb=pb,
        ub=ub,
        pledge=tb.arc_pledge[m.x_arc],
        units=tb.pledge_units.astype(float),
    )


_Triplets = tuple[np.ndarray, np.ndarray, np.ndarray]  # rows, columns, values


@dataclass(slots=True)
class _Parts:
    """The Medical-* rows as they are collected, hub by hub and role by role. q columns (air
    reach) are written as markers ``-1 - q`` until their block exists."""

    cover: dict[int, list[_Triplets]] = field(default_factory=lambda: {1: [], 2: []})
    cover_n: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0})
    cover_keys: dict[int, list[np.ndarray]] = field(default_factory=lambda: {1: [], 2: []})
    air_f: list[_Triplets] = field(default_factory=list)
    air_l: list[_Triplets] = field(default_factory=list)
    n_q: int = 0
    fac_of: dict[tuple[int, int], FacilityDays] = field(default_factory=dict)


def _hub_role_rows(md: MedicalData, c: _Cols, out: _Parts, h: int, r: int, limit: float) -> None:
    """The role-``r`` cover rows of hub ``h`` (one per kept candidate day) and their air rows."""
    a, e = c.a, c.e
    fac = np.flatnonzero(c.role >= r)
    C = np.flatnonzero(c.is_c & (c.hub == h))
    road_ok = fac[md.road[h, c.hub[fac]] <= limit]
    air_sets = _air_sets(md, fac, h, c.hub, limit, c.is_lift, c.pb)
    ends = [e[road_ok] + 1] + [e[s] + 1 for fa, lift in air_sets for s in (fa, lift)]
    days = np.unique(np.concatenate([a[C]] + ends))
    days = days[(days >= a[C].min()) & (days <= e[C].max())]
    rc, jc = _contain(days, a, e, C)
    big = _big_m(rc, jc, c.ub, c.pledge, c.units, days.size)
    keep = big > 0
    rid = np.cumsum(keep) - 1  # row of each kept day
    base = out.cover_n[r]
    parts_r = [rid[rc] + base]
    parts_c = [c.x0 + jc]
    parts_v = [np.ones(jc.size)]
    rf, jf = _contain(days, a, e, road_ok)
    sel = keep[rf]
    parts_r.append(rid[rf[sel]] + base)
    parts_c.append(c.x0 + jf[sel])
    parts_v.append(-big[rf[sel]])
    kept = np.flatnonzero(keep)
    q_sets = []
    for fa, lift in air_sets:
        # one q per kept day; local q index, offset once the variables exist
        q = out.n_q + np.arange(kept.size)
        q_sets.append(q)
        out.n_q += kept.size
        parts_r.append(rid[kept] + base)
        parts_c.append(-1 - q)  # marker: q column (resolved below)
        parts_v.append(-big[kept])
        for target, group in ((out.air_f, fa), (out.air_l, lift)):
            rr, jj = _contain(days, a, e, group)
            s2 = keep[rr]
            qr = q[rid[rr[s2]]]
            target.append(
                (
                    np.concatenate([q, qr]),
                    np.concatenate([-1 - q, c.x0 + jj[s2]]),
                    np.concatenate([np.ones(q.size), -np.ones(qr.size)]),
                )
            )
    # what covers (h, r) on each kept day: facility columns (road) and q markers (air)
    out.fac_of[(h, r)] = (days[kept], rid[rf[sel]], jf[sel], [-1 - q for q in q_sets])
    out.cover[r].append((np.concatenate(parts_r), np.concatenate(parts_c), np.concatenate(parts_v)))
    out.cover_keys[r].append(np.stack([np.full(kept.size, h), days[kept], np.full(kept.size, r)], axis=1))
    out.cover_n[r] += kept.size


def _stacked(parts: list[_Triplets], resolve: Callable[[np.ndarray], np.ndarray]) -> _Triplets:
    return (
        np.concatenate([p[0] for p in parts]),
        resolve(np.concatenate([p[1] for p in parts])),
        np.concatenate([p[2] for p in parts]),
    )


def _add_cover_rows(m: Model, out: _Parts, resolve: Callable[[np.ndarray], np.ndarray], idx: MedicalIndex) -> None:
    """The Medical-role<r>-cover blocks; ``idx`` learns the (hub, role) of each row."""
    for r, _ in LIMITS:
        if not out.cover_n[r]:
            continue
        rows, cols, vals = _stacked(out.cover[r], resolve)
        n = out.cover_n[r]
        blk = m.add_constraints(
            COVER[r], rows, cols, vals, np.full(n, -np.inf), np.zeros(n), np.concatenate(out.cover_keys[r])
        )
        keys = np.concatenate(out.cover_keys[r])
        for i in range(n):
            idx.row_hub_role[blk.start + i] = (int(keys[i, 0]), r)


def _add_air_rows(m: Model, out: _Parts, resolve: Callable[[np.ndarray], np.ndarray], idx: MedicalIndex) -> None:
    """The Medical-air-facility and Medical-air-lift blocks (one row of each per q)."""
    n_q = out.n_q
    fam = {}
    for name, parts in (("Medical-air-facility", out.air_f), ("Medical-air-lift", out.air_l)):
        rows, cols, vals = _stacked(parts, resolve)
        fam[name] = m.add_constraints(name, rows, cols, vals, np.full(n_q, -np.inf), np.zeros(n_q))
    f0, l0 = fam["Medical-air-facility"].start, fam["Medical-air-lift"].start
    idx.q_rows = [(f0 + i, l0 + i) for i in range(n_q)]


def define_medical(m: Model) -> None:
    """Add the Medical-* blocks to model ``m`` (see the module docstring)."""
    tb = m.tables
    md: MedicalData | None = getattr(tb.sustain, "medical", None) if tb.sustain is not None else None
    xb = m.var("Assign-count")
    if md is None or not md.enforced or not xb.size:
        return
    c = _columns(m, md)
    if c is None:
        return
    out = _Parts()
    hubs_c = np.unique(c.hub[c.is_c])
    for r, limit in LIMITS:
        for h in hubs_c.tolist():
            _hub_role_rows(md, c, out, h, r, limit)
    n_q = out.n_q
    qb = m.add_variables("Medical-air-reach", np.zeros(n_q), np.ones(n_q), integer=False) if n_q else None

    def resolve(col: np.ndarray) -> np.ndarray:
        col = col.copy()
        neg = col < 0
        if neg.any():
            assert qb is not None
            col[neg] = qb.start + (-1 - col[neg])
        return col

    idx = MedicalIndex(
        [], frozenset(int(li) for li in range(tb.n_lines) if md.cap_role.get(tb.line_capability[li], 0) >= 2), {}
    )
    _add_cover_rows(m, out, resolve, idx)
    live = _alive(m, md, c.is_c, c.a, c.e)
    if LINE_CUTS:
        _line_cuts(m, md, out.fac_of, c.is_c, c.a, c.e, live, resolve)
    if n_q:
        _add_air_rows(m, out, resolve, idx)
    idx.alive = live
    m.sustain_index["medical"] = idx


def _air_sets(
    md: MedicalData, fac: np.ndarray, h: int, hub: np.ndarray, limit: float, is_lift: np.ndarray, pb: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per medevac base that can serve hub ``h``: (facilities in helicopter reach of ``h`` but
    not by road, helicopters of that base), both non-empty."""
    air_sets = []
    for b in range(len(md.bases)):
        fa = fac[(md.air[b, h, hub[fac]] <= limit) & (md.road[h, hub[fac]] > limit)]
        lift = np.flatnonzero(is_lift & (pb == b))
        if fa.size and lift.size:
            air_sets.append((fa, lift))
    return air_sets


def _union(n: int, a: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Days 0..n-1 inside at least one of the intervals [a_i, e_i]."""
    cnt = np.zeros(n + 1, dtype=np.int64)
    np.add.at(cnt, np.clip(a, 0, n), 1)
    np.add.at(cnt, np.clip(e + 1, 0, n), -1)
    return np.cumsum(cnt[:n]) > 0


def _alive(m: Model, md: MedicalData, is_c: np.ndarray, a: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Assign-count columns the Medical-role<r>-cover rows do not force to zero.

    A constrained column is forced to zero when, on some day of its stay, no column with a
    positive upper bound could give its hub Role r care (by road, or by air: a facility in
    helicopter reach and a helicopter of that base both present); a facility forced to zero
    gives no care. Repeated until nothing changes (every step only drops columns the rows
    already forbid, so the result is exact for every plan of the model)."""
    tb = m.tables
    H = tb.horizon_days
    cap = np.array(tb.pledge_capability, dtype=object)[tb.arc_pledge[m.x_arc]]
    hub = tb.arc_hub[m.x_arc]
    role = np.array([md.cap_role.get(c, 0) for c in cap], dtype=np.int64)
    pb = md.pledge_base[tb.arc_pledge[m.x_arc]] if md.pledge_base.size else np.full(cap.size, -1)
    is_lift = np.isin(cap, list(md.medevac)) & (pb >= 0)
    assert m.chi_x is not None
    alive: np.ndarray = m.chi_x > 0
    present = a <= e  # a column arriving after its stay gives no care (and covers nothing)
    hubs = np.unique(hub[is_c]).tolist()
    while True:
        dead = np.zeros(alive.size, dtype=bool)
        for r, limit in LIMITS:
            fac = np.flatnonzero((role >= r) & alive & present)
            for h in hubs:
                C = np.flatnonzero(is_c & alive & (hub == h))
                if not C.size:
                    continue
                road = fac[md.road[h, hub[fac]] <= limit]
                ok = _union(H, a[road], e[road])
                for b in range(len(md.bases)):
                    fa = fac[md.air[b, h, hub[fac]] <= limit]
                    lift = np.flatnonzero(is_lift & alive & present & (pb == b))
                    ok |= _union(H, a[fa], e[fa]) & _union(H, a[lift], e[lift])
                bad = np.concatenate([[0], np.cumsum(~ok)])
                dead[C] |= bad[np.minimum(e[C], H - 1) + 1] - bad[np.clip(a[C], 0, H)] > 0
        if not (dead & alive).any():
            return alive
        alive &= ~dead


def _check_days(end_t: np.ndarray, first: int, last: int, kept_days: list[np.ndarray]) -> set[tuple[int, int]]:
    """(period, check day) of a line: each period's end day, and each kept cover day of its
    hubs (``kept_days``) within the period it falls in."""
    checks = set()
    for t_, et in zip(range(first, last + 1), end_t.tolist(), strict=True):
        checks.add((t_, int(et)))
    for days in kept_days:
        for d in days.tolist():
            k = int(np.searchsorted(end_t, d))
            if k < end_t.size:
                checks.add((first + k, int(d)))
    return checks


def _line_cuts(
    m: Model,
    md: MedicalData,
    fac_of: dict[tuple[int, int], FacilityDays],
    is_c: np.ndarray,
    a: np.ndarray,
    e: np.ndarray,
    live: np.ndarray,
    resolve: Callable[[np.ndarray], np.ndarray],
) -> None:
    """``Medical-role<r>-line``: for each constrained line l, period t, role r and check day d,
    qty(l) - u[l,t] - sum_{j covers (l,t), hub h, absent on D_h} x_j
        <= qty(l) sum_h (facilities + air reach of (h, r) on D_h),
    D_h the last candidate day of (h, r) up to d. Valid for every plan of the model: where a
    hub has no care on D_h its units present on D_h are zero (Medical-role<r>-cover), so the
    line's cover there comes from the columns subtracted; otherwise the right side is at least
    qty(l) (integer facilities; q at its largest value, see :func:`medical_values`, which
    changes no cost). It only cuts off fractional plans (a facility's fraction covering a line
    it cannot cover in whole units)."""
    tb = m.tables
    xb, ub = m.var("Assign-count"), m.var("Line-shortfall")
    line = tb.arc_line[m.x_arc]
    hub = tb.arc_hub[m.x_arc]
    D, H = tb.period_days, tb.horizon_days
    for r, _ in LIMITS:
        rows, cols, vals, his = [], [], [], []
        n = 0
        for l_ in range(tb.n_lines):
            if tb.line_capability[l_] not in md.constrained or tb.line_first[l_] < 0:
                continue
            Jl = np.flatnonzero((line == l_) & live)
            if not Jl.size or not is_c[Jl].all():
                continue
            hubs = np.unique(hub[Jl]).tolist()
            if any((h, r) not in fac_of for h in hubs):
                continue
            qty = float(tb.line_qty[l_])
            first, last = int(tb.line_first[l_]), int(tb.line_last[l_])
            end_t = np.minimum(np.minimum(tb.line_end_day[l_], (np.arange(first, last + 1) + 1) * D - 1), H - 1)
            checks = _check_days(end_t, first, last, [fac_of[(h, r)][0] for h in hubs])
            for t_, d in sorted(checks):
                J = Jl[(m.x_start[Jl] <= t_) & (m.x_last[Jl] >= t_)]
                if not J.size:
                    continue
                i = m.cover_row[(l_, t_)]
                cc, vv = [np.array([ub.start + i])], [np.array([-1.0])]
                for h in np.unique(hub[J]).tolist():
                    Jh = J[hub[J] == h]
                    kdays, frow, fcol, qsets = fac_of[(h, r)]
                    k = int(np.searchsorted(kdays, d, side="right")) - 1
                    if k < 0:
                        absent = Jh
                    else:
                        dk = kdays[k]
                        absent = Jh[(a[Jh] > dk) | (e[Jh] < dk)]
                        f = fcol[frow == k]
                        cc.append(xb.start + f)
                        vv.append(np.full(f.size, -qty))
                        for qcol in qsets:
                            cc.append(qcol[k : k + 1])
                            vv.append(np.array([-qty]))
                    cc.append(xb.start + absent)
                    vv.append(-np.ones(absent.size))
                c_ = np.concatenate(cc)
                rows.append(np.full(c_.size, n))
                cols.append(c_)
                vals.append(np.concatenate(vv))
                his.append(-qty)
                n += 1
        if n:
            m.add_constraints(
                f"Medical-role{r}-line",
                np.concatenate(rows),
                resolve(np.concatenate(cols)),
                np.concatenate(vals),
                np.full(n, -np.inf),
                np.array(his),
            )


def medical_values(m: Model, v: np.ndarray) -> np.ndarray:
    """Set every ``Medical-air-reach`` q to the most its rows allow for the plan's x (the
    coverage the helicopters give is then counted in full)."""
    qb = m.var("Medical-air-reach")
    idx = m.sustain_index.get("medical")
    if not qb.size or idx is None:
        return v
    out = v.copy()
    out[qb.start : qb.stop] = 0.0
    act = m.A @ out
    f = np.array([r[0] for r in idx.q_rows])
    lift = np.array([r[1] for r in idx.q_rows])
    out[qb.start : qb.stop] = np.clip(np.minimum(-act[f], -act[lift]), 0.0, 1.0)
    return out


def explain_medical(m: Model, line: int, role: int | None = None) -> str:
    """Human words for a constrained line blocked by 10-1-2: the nearest candidate facilities."""
    tb = m.tables
    md: MedicalData | None = getattr(tb.sustain, "medical", None)
    if md is None:
        return ""
    arcs = np.flatnonzero(tb.arc_line == line)
    hubs = sorted(set(tb.arc_hub[arcs].tolist()))
    cand_of = m.sustain_index.get("medical-candidates")
    if cand_of is None:  # hubs a facility of role >= r can be sent to (once per model)
        arc_role = (
            np.array([md.cap_role.get(c, 0) for c in tb.pledge_capability], dtype=np.int64)[tb.arc_pledge]
            if tb.n_arcs
            else np.zeros(0, np.int64)
        )
        cand_of = {r: np.unique(tb.arc_hub[arc_role >= r]) for r, _ in LIMITS}
        m.sustain_index["medical-candidates"] = cand_of
    parts = []
    for h in hubs:
        for r, limit in LIMITS:
            if role is not None and r != role:
                continue
            near = md.nearest(h, r, cand_of[r])
            if near is None:
                parts.append(f"{md.hub_id[h]}: no Role {r} facility can be deployed anywhere")
            elif near[1] > limit:
                mins = "unknown (no road speed)" if not np.isfinite(near[1]) else f"{near[1]:.0f} min"
                parts.append(f"{md.hub_id[h]}: the nearest Role {r} site is {near[0]} at {mins} (> {limit:g} min)")
    return "; ".join(parts)
