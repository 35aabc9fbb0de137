"""The MIP-guided placement method: a HiGHS MIP (through :mod:`coalition.solvers.highs`) over
(mixing key × storehouse) chooses which kinds of ammunition go where; lots are then realised
exactly through the storehouse state of :mod:`coalition.depots.placement_state`, guided by the
MIP's shares, and leftovers are filled."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from coalition.depots.mixing import MixEntry
from coalition.depots.placement_state import (
    PlacementResult,
    _finish,
    _LotInfo,
    _Problem,
    _put_whole_or_spill,
    _Store,
    _try,
)
from coalition.solvers import highs
from coalition.solvers.highs import MatrixProblem, Outcome, RunResult, SolverOptions

#: Up to this many lot × storehouse pairs the MIP decides lot by lot; above it, lots are grouped.
PER_LOT_PAIRS = 20_000


@dataclass
class _Mip:
    """The share MIP's columns and rows, as they are added."""

    cols_lb: list[float] = field(default_factory=list)
    cols_ub: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    integ: list[int] = field(default_factory=list)
    rows_i: list[int] = field(default_factory=list)
    rows_j: list[int] = field(default_factory=list)
    vals: list[float] = field(default_factory=list)
    r_lb: list[float] = field(default_factory=list)
    r_ub: list[float] = field(default_factory=list)

    def col(self, lb: float, ub: float, c: float, is_int: bool) -> int:
        self.cols_lb.append(lb)
        self.cols_ub.append(ub)
        self.cost.append(c)
        self.integ.append(1 if is_int else 0)
        return len(self.cost) - 1

    def row(self, entries: list[tuple[int, float]], lb: float, ub: float) -> None:
        r = len(self.r_lb)
        for j, v in entries:
            self.rows_i.append(r)
            self.rows_j.append(j)
            self.vals.append(v)
        self.r_lb.append(lb)
        self.r_ub.append(ub)

    def problem(self) -> MatrixProblem:
        from scipy.sparse import coo_matrix

        n_cols, n_rows = len(self.cost), len(self.r_lb)
        A = coo_matrix(
            (
                np.asarray(self.vals, dtype=float),
                (np.asarray(self.rows_i, dtype=np.int64), np.asarray(self.rows_j, dtype=np.int64)),
            ),
            shape=(n_rows, n_cols),
        ).tocsc()
        return MatrixProblem(
            cost=np.asarray(self.cost, dtype=float),
            col_lo=np.asarray(self.cols_lb, dtype=float),
            col_hi=np.asarray(self.cols_ub, dtype=float),
            A=A,
            row_lo=np.asarray(self.r_lb, dtype=float),
            row_hi=np.asarray(self.r_ub, dtype=float),
            integer=np.asarray(self.integ, dtype=bool),
            maximize=True,
        )


@dataclass(frozen=True)
class _Keys:
    """Mixing keys over the lots, with each key's NEQ (D), pallets (P), lot count (N) and a
    representative lot."""

    per_lot: bool
    lots_of: dict[object, list[int]]
    key_list: list[object]
    D: list[float]
    P: list[int]
    N: list[int]
    rep: list[_LotInfo]


def _mip_keys(prob: _Problem) -> _Keys:
    stores, lots = prob.stores, prob.lots
    # A key groups interchangeable lots: same mixing entry, class, heavy-case flag and pallet-size
    # bucket (so the MIP can prefer small lots when floor space binds).
    # Small consignments get one key per lot: the MIP then decides lot by lot.
    per_lot = len(lots) * max(len(stores), 1) <= PER_LOT_PAIRS
    keys: dict[object, list[int]] = {}
    for li, lot in enumerate(lots):
        key = li if per_lot else (lot.entry, lot.cls, lot.heavy, _bucket(math.ceil(prob.want[li] / lot.upp)))
        keys.setdefault(key, []).append(li)
    key_list = list(keys)
    return _Keys(
        per_lot,
        keys,
        key_list,
        D=[sum(lots[li].neq * prob.want[li] for li in keys[k]) for k in key_list],
        P=[sum(math.ceil(prob.want[li] / lots[li].upp) for li in keys[k]) for k in key_list],
        N=[len(keys[k]) for k in key_list],
        rep=[lots[keys[k][0]] for k in key_list],
    )


def _mip_store(m: _Mip, k: _Keys, s: _Store, si: int, f: dict[tuple[int, int], int], dist_scale: float) -> None:
    """One storehouse's columns and rows: touched, entries present, shares, mixing, capacity, NEQ."""
    rep, P, N = k.rep, k.P, k.N
    cand = [ki for ki, lot in enumerate(rep) if _try([s], lot, 0, 1) >= 1]
    if not cand:
        return
    t_col = m.col(0, 1, -1.0, True)  # Store-touched
    # Store-entry-present: one binary per mixing entry among the candidates
    y: dict[MixEntry, int] = {}
    for ki in cand:
        e = rep[ki].entry
        if e not in y:
            y[e] = m.col(0, 1, 0.0, True)
            m.row([(y[e], 1.0), (t_col, -1.0)], -math.inf, 0.0)
        dist_cost = 0.5 * P[ki] * s.distance / dist_scale
        f[(ki, si)] = m.col(0, 1, 1000.0 * N[ki] - dist_cost, False)
        m.row([(f[(ki, si)], 1.0), (y[e], -1.0)], -math.inf, 0.0)  # Store-share-needs-entry
    ents = list(y)
    for a_i, ea in enumerate(ents):  # Store-mixing: incompatible entries never together
        for eb in ents[a_i + 1 :]:
            if not s._mix_ok(ea, eb, s.covers)[0]:
                m.row([(y[ea], 1.0), (y[eb], 1.0)], -math.inf, 1.0)
    # Store-capacity
    m.row([(f[(ki, si)], float(P[ki])) for ki in cand], -math.inf, max(s.capacity - s.pallets, 0.0))
    _mip_store_neq(m, k, s, si, f, cand, y)


def _mip_store_neq(
    m: _Mip, k: _Keys, s: _Store, si: int, f: dict[tuple[int, int], int], cand: list[int], y: dict[MixEntry, int]
) -> None:
    """Store-neq rows: the aggregate limit when HD 1.1 is present, each HD's own, and 1.4's issued."""
    rep, D = k.rep, k.D
    # Store-neq: h = 1 when HD 1.1 (after conversion) is present
    as11 = [ki for ki in cand if s._as11(rep[ki])]
    big = sum(D[ki] for ki in cand) + sum(s.n.values()) + 1.0
    n11 = s._n11()
    h: int | None
    if n11 > 0 or as11:
        h = m.col(1 if n11 > 0 else 0, 1, 0.0, True)
        for e in {rep[ki].entry for ki in as11}:
            m.row([(y[e], 1.0), (h, -1.0)], -math.inf, 0.0)
    else:
        h = None
    counted = [ki for ki in cand if rep[ki].cls in ("1.1", "1.2", "1.3", "1.5", "1.6")]
    heavy_agg = s.heavy or any(rep[ki].heavy for ki in counted) or any(s.hv[c] and s.n[c] > 0 for c in ("1.2", "1.3"))
    lim11 = s._limit("1.1", heavy_agg)
    base = sum(s.n[c] for c in ("1.1", "1.5", "1.6", "1.2", "1.3"))
    if h is not None and math.isfinite(lim11):  # Store-neq-aggregate (only when 1.1 is present)
        m.row([(f[(ki, si)], D[ki]) for ki in counted] + [(h, big)], -math.inf, lim11 - base + big)
    for c in ("1.2", "1.3"):  # Store-neq-own: each HD's own limit, never relaxed by the aggregate
        ks = [ki for ki in cand if rep[ki].cls == c]
        lim = s._limit(c, s.hv[c] or any(rep[ki].heavy for ki in ks))
        if ks and math.isfinite(lim):
            m.row([(f[(ki, si)], D[ki]) for ki in ks], -math.inf, lim - s.n[c])
    k14 = [ki for ki in cand if rep[ki].cls in ("1.4", "1.4S")]
    if k14 and s.issued is not None:
        m.row([(f[(ki, si)], D[ki]) for ki in k14], -math.inf, s.issued.get("1.4", 0.0) - s.n["1.4"] - s.n["1.4S"])


def _mip_shares(
    prob: _Problem,
    time_limit: float,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[dict[tuple[int, int], float], str, bool]:
    """HiGHS MIP (through :mod:`coalition.solvers.highs`) over mixing keys × storehouses; returns
    the share f[key, store], the status words and whether keys are single lots."""
    stores = prob.stores
    k = _mip_keys(prob)
    m = _Mip()
    max_dist = max((s.distance for s in stores), default=1.0) or 1.0
    total_p = max(sum(k.P), 1)
    f: dict[tuple[int, int], int] = {}
    for si, s in enumerate(stores):
        _mip_store(m, k, s, si, f, max_dist * total_p)
    for ki in range(len(k.key_list)):
        js = [(f[(ki, si)], 1.0) for si in range(len(stores)) if (ki, si) in f]
        if js:
            m.row(js, -math.inf, 1.0)
    if not f:
        return {}, "nothing placeable", k.per_lot
    run = highs.solve(
        m.problem(), SolverOptions(time_limit=float(time_limit), mip_rel_gap=1e-4, threads=1), should_stop=should_stop
    )
    sol = _usable_values(run)
    if sol is None:
        return {}, _status_words(run), k.per_lot
    shares: dict[tuple[int, int], float] = {}
    for (ki, si), j in f.items():
        if sol[j] > 1e-6:
            for li in k.lots_of[k.key_list[ki]]:
                shares[(li, si)] = float(sol[j])
    return shares, _status_words(run), k.per_lot


def _usable_values(run: RunResult) -> np.ndarray | None:
    """The MIP's column values when they may guide the realisation: a proven optimum, or the best
    solution found before a time limit, another limit or an interruption. An infeasible,
    unbounded or failed run, or one stopped before any solution, guides nothing (the lots are then
    realised by the fill step alone, which is first-fit by distance)."""
    match run.outcome:
        case Outcome.OPTIMAL | Outcome.FEASIBLE | Outcome.TIME_LIMIT | Outcome.INTERRUPTED:
            return run.values  # None when stopped before the first solution
        case _:
            return None


def _status_words(run: RunResult) -> str:
    """HiGHS's own status words (as before the port), plus, when the run did not prove an
    optimum, whether its best solution was used."""
    if run.outcome is Outcome.OPTIMAL:
        return run.message
    used = "best solution found used" if _usable_values(run) is not None else "no solution used"
    return f"{run.message} ({run.outcome.value}; {used})"


def _bucket(pallets: int) -> int:
    return pallets if pallets <= 4 else 1 << math.ceil(math.log2(pallets))


def optimise_from(
    prob: _Problem, time_limit: float = 20.0, *, should_stop: Callable[[], bool] | None = None
) -> PlacementResult:
    """The MIP-guided placement; ``should_stop`` interrupts the MIP (its best solution so far,
    if any, still guides the realisation, and ``solver_status`` says so)."""
    t0 = time.perf_counter()
    shares, status, per_lot = _mip_shares(prob, time_limit, should_stop)
    stores = prob.fresh()
    placed: dict[tuple[int, int], int] = {}
    by_lot: dict[int, list[tuple[float, int]]] = {}
    for (li, si), share in shares.items():
        by_lot.setdefault(li, []).append((share, si))
    left = list(prob.want)
    # small lots first: each lot counts the same, so floor space and NEQ go furthest on small lots
    order = sorted(
        range(len(prob.lots)),
        key=lambda li: (math.ceil(prob.want[li] / prob.lots[li].upp), prob.lots[li].neq * prob.want[li]),
    )
    # 1) realise the MIP's choice.
    if per_lot:
        # lot by lot: each lot up to its share in the storehouses the MIP chose, lots the MIP places
        # fully first (so a partial share cannot crowd out a whole lot)
        def share_order(li: int) -> tuple[float, int, float]:
            total = sum(share for share, _ in by_lot.get(li, []))
            return (-min(total, 1.0), math.ceil(prob.want[li] / prob.lots[li].upp), prob.lots[li].neq * prob.want[li])

        for li in sorted(by_lot, key=share_order):
            lot = prob.lots[li]
            for share, si in sorted(by_lot[li], key=lambda t: (-t[0], stores[t[1]].distance)):
                if left[li] <= 0:
                    break
                cap = left[li] if share >= 1 - 1e-6 else min(left[li], max(1, int(share * prob.want[li] + 1e-6)))
                u = _try(stores, lot, si, cap)
                if u > 0:
                    stores[si].add(lot, u)
                    placed[(li, si)] = placed.get((li, si), 0) + u
                    left[li] -= u
    else:
        # grouped: whole lots, small first, into the group's storehouses by largest share
        for li in order:
            prefs = [si for _, si in sorted(by_lot.get(li, []), key=lambda t: (-t[0], stores[t[1]].distance))]
            _put_whole_or_spill(prob, stores, placed, left, li, prefs)
    # 2) fill what is left: already-touched storehouses first, then the nearest
    for li in order:
        if left[li] <= 0:
            continue
        cand = sorted(range(len(stores)), key=lambda si: (not stores[si].touched, stores[si].distance))
        _put_whole_or_spill(prob, stores, placed, left, li, cand)
    return _finish(prob, stores, placed, "optimised (HiGHS MIP + exact realisation)", t0, status)
