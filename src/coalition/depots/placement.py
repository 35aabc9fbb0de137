"""Safe placement of an incoming consignment into a depot's storehouses.

Every rule is enforced through one exact incremental state per storehouse (:class:`_Store`):
compatibility mixing against what is already there, NEQ after aggregation against the smaller of
the issued licence and the layout's quantity-distance limit (computed by
:mod:`coalition.depots.licence`, which inverts the Q-D check exactly), and floor capacity.

Two methods share that state:

* ``first_fit`` — the baseline: lots in consignment order, each into the first storehouse (in
  depot order) that takes it, splitting a lot only when no storehouse takes all of it.
* ``optimise`` — a HiGHS MIP (through :mod:`coalition.solvers.highs`) over (mixing key ×
  storehouse) chooses which kinds of ammunition go where, maximising the lots stored, then
  minimising storehouses touched and handling distance (pallet-metres from the receipt point);
  lots are then realised exactly through the state, guided by the MIP's shares, and leftovers
  are filled. The MIP works on mixing keys rather than lot × storehouse pairs so that 10,000
  lots × 200 storehouses stays small. The better
  of the optimised and first-fit results (lexicographic: lots, touched, distance) is returned, so
  the optimiser is never worse than the baseline; the result says which won.

Whatever is not placed is reported with the rule that stops it. The returned placement always
passes :func:`coalition.depots.rules.check_depot` (tested as a property).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from coalition.depots.layout import Layout, build_layout
from coalition.depots.licence import compute_licences
from coalition.depots.mixing import MixEntry, pair
from coalition.depots.rulebook import RuleBook, load_rulebook
from coalition.depots.rules import RAW_CLASSES, StorehouseCovers, covers_for, raw_class, summarise
from coalition.depots.schemas import Catalogue, Depot, StockLine, StorehouseKind
from coalition.solvers import highs
from coalition.solvers.highs import MatrixProblem, Outcome, RunResult, SolverOptions

_TOL = 1e-7
#: Up to this many lot × storehouse pairs the MIP decides lot by lot; above it, lots are grouped.
PER_LOT_PAIRS = 20_000


@dataclass(frozen=True)
class Incoming:
    lot: str
    quantity: int


@dataclass(frozen=True)
class Placed:
    lot: str
    storehouse: str
    quantity: int
    neq_kg: float
    pallets: int


@dataclass(frozen=True)
class Refused:
    lot: str
    quantity: int
    rule: str
    reason: str


@dataclass
class PlacementResult:
    depot: str
    method: str
    placed: list[Placed]
    refused: list[Refused]
    lots_stored: float  # Σ placed/quantity over lots
    units_placed: int
    neq_placed_kg: float
    touched: int
    handling_pallet_m: float
    seconds: float
    baseline: PlacementResult | None = None
    solver_status: str = ""
    notes: list[str] = field(default_factory=list)
    #: per storehouse placed into: the rulebook records (not primary-verified) its check rests on
    flags: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def score(self) -> tuple[float, int, float]:
        return (round(self.lots_stored, 9), -self.touched, -round(self.handling_pallet_m, 6))

    def lines(self) -> list[StockLine]:
        return [StockLine.model_construct(storehouse=p.storehouse, lot=p.lot, quantity=p.quantity) for p in self.placed]

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "depot": self.depot,
            "method": self.method,
            "lots_stored": round(self.lots_stored, 4),
            "units_placed": self.units_placed,
            "neq_placed_kg": round(self.neq_placed_kg, 3),
            "storehouses_touched": self.touched,
            "handling_pallet_m": round(self.handling_pallet_m, 1),
            "seconds": round(self.seconds, 3),
            "solver_status": self.solver_status,
            "placed": [{**p.__dict__, "unverified": list(self.flags.get(p.storehouse, ()))} for p in self.placed],
            "refused": [r.__dict__ for r in self.refused],
            "notes": self.notes,
            "unverified_defaults": sorted({u for v in self.flags.values() for u in v}),
        }
        if self.baseline is not None:
            out["baseline"] = {k: v for k, v in self.baseline.as_dict().items() if k not in ("placed", "refused")}
        return out


# ---------------------------------------------------------------------------------------------
# Exact incremental state of one storehouse
# ---------------------------------------------------------------------------------------------


@dataclass
class _LotInfo:
    id: str
    cls: str  # raw class 1.1 .. 1.6, 1.4S
    neq: float  # per unit
    upp: int
    entry: MixEntry
    heavy: bool


_AS11 = ("1.1", "1.5", "1.6")
_AGG = ("1.1", "1.5", "1.6", "1.2", "1.3")  # what the HD 1.1 aggregate sums, once 1.1 is present


@dataclass(frozen=True, slots=True)
class _Held:
    """What a storehouse holds when placement starts (the check's summary row)."""

    neq: np.ndarray  # by raw class
    pallets: float
    entries: list[MixEntry]
    heavy: np.ndarray  # by raw class


@dataclass(frozen=True, slots=True)
class _Limits:
    """A storehouse's floor, Q-D limits by (HD, heavy case) and issued licence (None: unlicensed)."""

    capacity: int
    qd: dict[tuple[str, bool], float]
    issued: dict[str, float] | None
    underground: bool


class _Store:
    """One storehouse's exact state during placement. Its limits are the check's, monotone: the
    aggregated HD 1.1 total against the 1.1 limit (heavy-case if anything heavy is in it) AND each
    HD's own NEQ against its own limit (1.2 heavy-case if any 1.2 item is), each limit the smaller
    of the issued licence (none issued = unlicensed = 0) and the layout's Q-D limit."""

    def __init__(
        self,
        sid: str,
        index: int,
        held: _Held,
        limits: _Limits,
        covers: StorehouseCovers,
        distance: float,
        mix_ok: Callable[[MixEntry, MixEntry, StorehouseCovers], tuple[bool, str]],
    ) -> None:
        self.id = sid
        self.index = index
        self.n = {c: float(held.neq[j]) for j, c in enumerate(RAW_CLASSES)}
        self.hv = {c: bool(held.heavy[j]) for j, c in enumerate(RAW_CLASSES)}
        self.pallets = held.pallets
        self.entries = set(held.entries)
        self.capacity = limits.capacity
        self.qd = qd = limits.qd
        self.issued = issued = limits.issued
        self.underground = limits.underground
        self.covers = covers
        self.distance = distance
        self._mix_ok = mix_ok
        self.touched = False
        self._compat: dict[MixEntry, bool] = {}
        # the limits are constant for the storehouse: computed once (max_units runs millions of times)
        self.lim = {(hd, h): self._limit(hd, h) for hd in ("1.1", "1.2", "1.3") for h in (False, True)}
        self.lic14 = 0.0 if issued is None else issued.get("1.4", 0.0)
        self.no14 = qd.get(("1.4", False), math.inf) <= 0

    # kept for the MIP's rows
    @property
    def heavy(self) -> bool:
        return any(self.hv[c] for c in self._agg_classes()) if self._n11() > 0 else False

    def compatible(self, entry: MixEntry) -> bool:
        """Whether ``entry`` may join what is stored here (cached until a new entry arrives)."""
        ok = self._compat.get(entry)
        if ok is None:
            ok = all(self._mix_ok(e, entry, self.covers)[0] for e in self.entries)
            self._compat[entry] = ok
        return ok

    def _limit(self, hd: str, heavy: bool = False) -> float:
        if self.issued is None:
            return 0.0  # no licence recorded: unlicensed, nothing may be stored
        qd = self.qd.get((hd, heavy), self.qd.get((hd, False), math.inf))
        return min(qd, self.issued.get(hd, 0.0))

    def why_not(self, lot: _LotInfo) -> tuple[str, str] | None:
        """The rule that stops even one unit of ``lot`` going here, or None."""
        if self.issued is None:
            return "licence", f"{self.id}: no explosives limit licence recorded (unlicensed)"
        for e in self.entries:
            ok, reason = self._mix_ok(e, lot.entry, self.covers)
            if not ok:
                return "mixing", f"{self.id}: {reason}"
        if self.pallets + 1 > self.capacity + _TOL:
            return "capacity", f"{self.id}: floor full ({self.pallets:.0f}/{self.capacity} pallets)"
        if self.max_units(lot, 1) < 1:
            return "licence/qd", f"{self.id}: {self._limit_text(lot)}"
        return None

    def _limit_text(self, lot: _LotInfo) -> str:
        cls = "1.1" if self._as11(lot) else lot.cls
        if cls in ("1.4", "1.4S"):
            return f"HD 1.4 limit {self._limit('1.4'):,.0f} kg (licence ∧ quantity-distance) reached"
        parts = []
        if self._has11_after(lot):
            parts.append(f"aggregated HD 1.1 limit {self._limit('1.1', self.heavy or lot.heavy):,.1f} kg")
        if lot.cls in ("1.2", "1.3"):
            parts.append(f"HD {lot.cls} own limit {self._limit(lot.cls, lot.heavy or self.hv[lot.cls]):,.1f} kg")
        return " and ".join(parts) + " (licence ∧ quantity-distance) would be exceeded"

    def _has11_after(self, lot: _LotInfo) -> bool:
        return self._n11() > 0 or self._as11(lot)

    def _as11(self, lot: _LotInfo) -> bool:
        return lot.cls in _AS11 or (lot.cls == "1.3" and self.underground)

    def _agg_classes(self) -> tuple[str, ...]:
        return ("1.1", "1.5", "1.6", "1.2", "1.3")

    def _n11(self) -> float:
        return self.n["1.1"] + self.n["1.5"] + self.n["1.6"] + (self.n["1.3"] if self.underground else 0.0)

    def max_units(self, lot: _LotInfo, want: int) -> int:
        """Largest u ≤ want of ``lot`` this storehouse can take (mixing checked by the caller).

        Each constraint is 'base + u·neq ≤ limit' when the lot adds to it, and must already hold
        when it does not (a storehouse already in violation takes nothing)."""
        if self.issued is None:
            return 0
        u = min(want, int(math.floor(self.capacity - self.pallets + _TOL)) * lot.upp)
        if u <= 0:
            return 0
        n, hv, cls, neq = self.n, self.hv, lot.cls, lot.neq
        if n["1.1"] + n["1.5"] + n["1.6"] + (n["1.3"] if self.underground else 0.0) > 0 or self._as11(lot):
            total = n["1.1"] + n["1.5"] + n["1.6"] + n["1.2"] + n["1.3"]
            adds = cls in _AGG
            heavy = (lot.heavy and adds) or any(hv[c] and n[c] > 0 for c in _AGG)
            limit = self.lim[("1.1", heavy)]
            if adds:
                u = min(u, _units(limit - total, neq))
            elif total > limit * (1 + 1e-12) + _TOL:
                return 0
        for c in ("1.2", "1.3"):
            if n[c] > 0 or cls == c:
                heavy = (hv[c] and n[c] > 0) or (lot.heavy and cls == c)
                limit = self.lim[(c, heavy)]
                if cls == c:
                    u = min(u, _units(limit - n[c], neq))
                elif n[c] > limit * (1 + 1e-12) + _TOL:
                    return 0
        if n["1.4"] + n["1.4S"] > 0 or cls in ("1.4", "1.4S"):
            if cls in ("1.4", "1.4S"):
                u = min(u, _units(self.lic14 - n["1.4"] - n["1.4S"], neq))
            elif n["1.4"] + n["1.4S"] > self.lic14 * (1 + 1e-12) + _TOL:
                return 0
            if (n["1.4"] > 0 or cls == "1.4") and self.no14:
                return 0  # inside the HD 1.4 fixed distance: its own rule applies whatever is mixed
        return max(int(u), 0)

    def add(self, lot: _LotInfo, u: int) -> None:
        self.n[lot.cls] += lot.neq * u
        self.pallets += math.ceil(u / lot.upp - 1e-9)
        if lot.entry not in self.entries:
            self.entries.add(lot.entry)
            self._compat = {}
        if lot.heavy:
            self.hv[lot.cls] = True
        self.touched = True


def _units(room_kg: float, neq: float) -> int:
    if room_kg < -_TOL:
        return 0
    if math.isinf(room_kg) or neq <= 0:
        return 10**12
    return int(math.floor(max(room_kg, 0.0) * (1 - 1e-12) / neq + 1e-9)) if neq > 0 else 10**12


# ---------------------------------------------------------------------------------------------
# Set-up shared by both methods
# ---------------------------------------------------------------------------------------------


@dataclass
class _Problem:
    depot: Depot
    stores: list[_Store]
    lots: list[_LotInfo]
    want: list[int]
    book: RuleBook

    def fresh(self) -> list[_Store]:
        out = []
        for s in self.stores:
            c = _Store.__new__(_Store)
            c.__dict__.update(s.__dict__)
            c.n = dict(s.n)
            c.hv = dict(s.hv)
            c.entries = set(s.entries)
            c._compat = {}
            out.append(c)
        return out


def _prepare(
    depot: Depot,
    catalogue: Catalogue,
    current: Sequence[StockLine],
    consignment: Sequence[Incoming],
    book: RuleBook,
    layout: Layout | None = None,
) -> tuple[_Problem, list[Refused]]:
    layout = layout or build_layout(depot, book)
    ids = [s.id for s in depot.storehouses]
    summary = summarise(ids, current, catalogue)
    licences = compute_licences(depot, book=book, layout=layout)
    rx, ry = depot.receipt_point
    cache: dict[tuple[MixEntry, MixEntry, Hashable], tuple[bool, str]] = {}

    def mix_ok(a: MixEntry, b: MixEntry, covers: StorehouseCovers) -> tuple[bool, str]:
        if a == b or (a.cg == b.cg and a.cg != "L"):
            return True, ""
        key = (a, b, covers.key)
        if key not in cache:
            r = pair(a, b, profile=depot.profile, book=book, covers=covers)
            fn = book.footnotes.get(r.cell) if r.allowed else None
            if fn is not None and fn.counted:
                # placement cannot promise matching numbers (fuzes to rounds): a human places those
                cache[key] = (
                    False,
                    f"{a.label()} with {b.label()}: only under {fn.id} in matching numbers, "
                    "which placement does not arrange; place them by hand and assert the count",
                )
            else:
                cache[key] = (r.allowed, f"{a.label()} with {b.label()}: {r.reason}")
        return cache[key]

    stores: list[_Store] = []
    for i, sh in enumerate(depot.storehouses):
        lic = licences[i]
        qd = {(hd, False): line.q_max_kg * (1 - 1e-9) for hd, line in lic.lines.items()}
        for hd, heavy_line in (("1.1", lic.heavy_case_1_1), ("1.2", lic.heavy_case_1_2)):
            qd[(hd, True)] = (heavy_line or lic.lines[hd]).q_max_kg * (1 - 1e-9)
        stores.append(
            _Store(
                sh.id,
                i,
                _Held(summary.neq[i], float(summary.pallets[i]), summary.entries[i], summary.heavy[i]),
                _Limits(sh.capacity_pallets, qd, sh.licensed_kg(), sh.kind == StorehouseKind.UNDERGROUND),
                covers_for(depot, sh.id, summary, i),
                float(math.hypot(sh.x - rx, sh.y - ry)),
                mix_ok,
            )
        )
    lots: list[_LotInfo] = []
    want: list[int] = []
    refused: list[Refused] = []
    for inc in consignment:
        lot = catalogue.lot_by_id.get(inc.lot)
        item = catalogue.item_by_id.get(lot.item) if lot is not None else None
        if lot is None or item is None:
            refused.append(
                Refused(
                    inc.lot,
                    inc.quantity,
                    "classification",
                    f"lot '{inc.lot}' has no catalogue entry: its classification and NEQ are unknown, so it is refused",
                )
            )
            continue
        lots.append(
            _LotInfo(
                id=lot.id,
                cls=raw_class(item.hd, item.cg),
                neq=lot.neq_kg if lot.neq_kg is not None else item.neq_kg,
                upp=item.units_per_pallet,
                entry=MixEntry(item.cg, item.hd, item.id),
                heavy=item.heavy_case,
            )
        )
        want.append(inc.quantity)
    return _Problem(depot, stores, lots, want, book), refused


def _finish(
    prob: _Problem, stores: list[_Store], placed: dict[tuple[int, int], int], method: str, t0: float, status: str = ""
) -> PlacementResult:
    out: list[Placed] = []
    got = [0] * len(prob.lots)
    for (li, si), u in sorted(placed.items()):
        if u <= 0:
            continue
        lot = prob.lots[li]
        got[li] += u
        out.append(Placed(lot.id, stores[si].id, u, lot.neq * u, math.ceil(u / lot.upp - 1e-9)))
    refused: list[Refused] = []
    for li, lot in enumerate(prob.lots):
        left = prob.want[li] - got[li]
        if left > 0:
            rule, reason = _refusal(prob, stores, lot)
            refused.append(Refused(lot.id, left, rule, reason))
    lots_stored = sum(g / w for g, w in zip(got, prob.want, strict=True) if w > 0)
    dist = {s.id: s.distance for s in stores}
    return PlacementResult(
        depot=prob.depot.id,
        method=method,
        placed=out,
        refused=refused,
        lots_stored=lots_stored,
        units_placed=sum(got),
        neq_placed_kg=sum(p.neq_kg for p in out),
        touched=len({p.storehouse for p in out}),
        handling_pallet_m=sum(p.pallets * dist[p.storehouse] for p in out),
        seconds=time.perf_counter() - t0,
        solver_status=status,
    )


def _refusal(prob: _Problem, stores: list[_Store], lot: _LotInfo) -> tuple[str, str]:
    reasons = [r for s in stores if (r := s.why_not(lot)) is not None]
    if not stores:
        return "layout", "the depot has no storehouses"
    if len(reasons) < len(stores):
        return "capacity", "the remaining room was used by other lots of the consignment"
    rules = sorted({r for r, _ in reasons})
    text = "; ".join(msg for _, msg in reasons[:6]) + (f"; … {len(reasons) - 6} more" if len(reasons) > 6 else "")
    return "/".join(rules), text


def _try(stores: list[_Store], lot: _LotInfo, si: int, want: int) -> int:
    s = stores[si]
    if not s.compatible(lot.entry):
        return 0
    return s.max_units(lot, want)


# ---------------------------------------------------------------------------------------------
# Methods
# ---------------------------------------------------------------------------------------------


def first_fit(prob: _Problem) -> PlacementResult:
    t0 = time.perf_counter()
    stores = prob.fresh()
    placed: dict[tuple[int, int], int] = {}
    for li, lot in enumerate(prob.lots):
        left = prob.want[li]
        whole = next((si for si in range(len(stores)) if _try(stores, lot, si, left) >= left), None)
        order = [whole] if whole is not None else range(len(stores))
        for si in order:
            if left <= 0:
                break
            u = _try(stores, lot, si, left)
            if u > 0:
                stores[si].add(lot, u)
                placed[(li, si)] = placed.get((li, si), 0) + u
                left -= u
    return _finish(prob, stores, placed, "first-fit", t0)


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


def _put_whole_or_spill(
    prob: _Problem,
    stores: list[_Store],
    placed: dict[tuple[int, int], int],
    left: list[int],
    li: int,
    candidates: Sequence[int],
) -> None:
    """Put what is left of lot ``li`` whole into the first candidate that takes it all; failing
    that, spill it over the candidates in order, each taking what the rules allow."""
    lot = prob.lots[li]
    whole = next((si for si in candidates if _try(stores, lot, si, left[li]) >= left[li]), None)
    for si in [whole] if whole is not None else candidates:
        if left[li] <= 0:
            break
        u = _try(stores, lot, si, left[li])
        if u > 0:
            stores[si].add(lot, u)
            placed[(li, si)] = placed.get((li, si), 0) + u
            left[li] -= u


def place(
    depot: Depot,
    catalogue: Catalogue,
    current: Sequence[StockLine],
    consignment: Sequence[Incoming],
    *,
    method: str = "optimise",
    time_limit: float = 20.0,
    book: RuleBook | None = None,
    override_unsurveyed: str | None = None,
) -> PlacementResult:
    """Place ``consignment`` into ``depot``; the result carries the first-fit baseline too.

    A depot with no surveyed exposed sites is refused (nothing placed) unless
    ``override_unsurveyed`` gives the reason and who decided it; the override is logged and
    recorded in the result's notes. Lots with no catalogue entry (unknown classification or NEQ)
    are refused. The result is re-checked through the safety gate before it is returned."""
    import logging

    from coalition.depots.gate import placement_check

    book = book or load_rulebook()
    t0 = time.perf_counter()
    notes: list[str] = []
    if not depot.exposed_sites:
        if not override_unsurveyed:
            refused = [
                Refused(
                    c.lot,
                    c.quantity,
                    "survey",
                    f"depot {depot.id} records no surveyed exposed sites: it is not certified, so nothing "
                    "is placed (an explicit, logged override is needed)",
                )
                for c in consignment
            ]
            return PlacementResult(
                depot.id,
                method,
                [],
                refused,
                0.0,
                0,
                0.0,
                0,
                0.0,
                time.perf_counter() - t0,
                notes=["refused: depot not surveyed"],
            )
        note = (
            f"OVERRIDE: placed into unsurveyed depot {depot.id} without quantity-distance to "
            f"exposed sites: {override_unsurveyed}"
        )
        logging.getLogger("coalition.depots").warning(note)
        notes.append(note)
    prob, unknown = _prepare(depot, catalogue, current, consignment, book)

    def gated(res: PlacementResult) -> PlacementResult:
        """``res`` as the safety gate lets it out: a proposal the gate rejects places nothing
        (never returned unsafe; that would be a bug in the limits above, refused as such)."""
        new_errors, flags = placement_check(depot, catalogue, current, res.lines(), book=book)
        res.flags = flags
        if new_errors:
            reason = "; ".join(f.message for f in new_errors[:5]) + (
                f"; … and {len(new_errors) - 5} more" if len(new_errors) > 5 else ""
            )
            res.refused = [
                Refused(c.lot, c.quantity, "gate", f"the safety gate rejected the proposal: {reason}")
                for c in consignment
            ]
            res.placed, res.units_placed, res.neq_placed_kg, res.lots_stored = [], 0, 0.0, 0.0
        return res

    base = gated(first_fit(prob))  # the baseline is judged by the same gate as the optimiser
    if method == "first-fit":
        best = base
    else:
        opt = gated(optimise_from(prob, time_limit))
        best = opt
        if base.score() > opt.score():
            kept = "first-fit (kept: the optimiser did not improve on it)"
            best = PlacementResult(**{**base.__dict__, "method": kept})
            best.solver_status = opt.solver_status
        best.baseline = base
    best.refused = [*unknown, *best.refused]
    best.notes = [*notes, *best.notes]
    best.seconds = time.perf_counter() - t0
    return best
