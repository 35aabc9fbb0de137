"""The state safe placement works on: the consignment and its result, and one exact incremental
state per storehouse (:class:`_Store`) that enforces compatibility mixing, NEQ after aggregation
against the smaller of the licence and the quantity-distance limit, and floor capacity.

Both placement methods (:mod:`coalition.depots.placement` and its MIP,
:mod:`coalition.depots.placement_mip`) realise lots only through this state, so a placement
always passes the depot check."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from coalition.depots.aggregation import RAW_CLASSES, raw_class
from coalition.depots.layout import Layout, build_layout
from coalition.depots.licence import compute_licences
from coalition.depots.mixing import MixEntry, pair
from coalition.depots.rulebook import RuleBook
from coalition.depots.rules import StorehouseCovers, covers_for
from coalition.depots.schemas import Catalogue, Depot, StockLine, StorehouseKind
from coalition.depots.stock import summarise

_TOL = 1e-7


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
