"""Typed values for protected storage facilities (depots).

A :class:`DepotNetwork` is the storage picture of a scenario: the item catalogue (UN hazard
classification, NEQ, gross mass, pallet footprint), lots, the depots at hubs or rear nodes with
their storehouses (potential explosion sites, PES) and exposed sites (ES) in local metres, the
stock held per storehouse, and the footnote assertions a storage plan makes.

Field-level checks live here; cross-references (a stock line naming an unknown lot) are checked by
:func:`DepotNetwork._references` which reports every problem at once. The safety rules themselves
are in :mod:`coalition.depots.rules` and their data in ``data/rulebook.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import date
from enum import StrEnum
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    import numpy as np

_V = TypeVar("_V")

Ident = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64, description="identifier"),
]
Metres = Annotated[float, Field(ge=-1_000_000, le=1_000_000, allow_inf_nan=False)]
Profile = Literal["iatg", "us-desr"]

HAZARD_DIVISIONS: tuple[str, ...] = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6")
COMPATIBILITY_GROUPS: tuple[str, ...] = tuple("ABCDEFGHJKLNS")
#: The 35 legal HD/CG codes. The rulebook holds the same table with its source; a test asserts
#: they agree (kept here too so a schema can validate without loading the rulebook).
LEGAL_CODES: dict[str, str] = {
    "1.1": "ABCDEFGJL",
    "1.2": "BCDEFGHJKL",
    "1.3": "CFGHJKL",
    "1.4": "BCDEFGS",
    "1.5": "D",
    "1.6": "N",
}


def code_problem(code: str) -> str | None:
    """Why ``code`` (e.g. '1.1D') is not a legal UN classification code, or None when it is."""
    text = code.strip().upper()
    if len(text) != 4 or text[:3] not in LEGAL_CODES:
        return (
            f"'{code}' is not a UN classification code: expected a hazard division "
            f"{'/'.join(HAZARD_DIVISIONS)} followed by a compatibility group letter, e.g. '1.1D'"
        )
    hd, cg = text[:3], text[3]
    if cg not in COMPATIBILITY_GROUPS:
        return (
            f"'{cg}' in '{code}' is not a compatibility group "
            f"(valid: {' '.join(COMPATIBILITY_GROUPS)}; I, M, O, P, Q and R are not used)"
        )
    if cg not in LEGAL_CODES[hd]:
        return (
            f"'{text}' is not one of the 35 legal codes: HD {hd} permits only "
            f"{', '.join(hd + c for c in LEGAL_CODES[hd])}"
        )
    return None


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ItemType(Frozen):
    """A catalogue entry: one kind of ammunition or explosive article, per unit."""

    id: Ident
    name: str = Field(min_length=1, max_length=200)
    code: str = Field(description="UN classification code, HD + CG, e.g. '1.2E'")
    un_number: str | None = Field(default=None, pattern=r"^(UN)?\d{4}$")
    neq_kg: float = Field(gt=0, le=100_000, allow_inf_nan=False, description="NEQ per unit, kg")
    gross_kg: float = Field(gt=0, le=200_000, allow_inf_nan=False, description="gross mass per unit")
    units_per_pallet: int = Field(default=1, ge=1, le=100_000, description="pallet footprint")
    heavy_case: bool = Field(default=False, description="heavy-case fragments (larger HD 1.1 IBD minimum)")
    illustrative: bool = True
    source: str = Field(default="", max_length=2000)

    @field_validator("code")
    @classmethod
    def _legal_code(cls, value: str) -> str:
        problem = code_problem(value)
        if problem:
            raise ValueError(problem)
        return value.strip().upper()

    @model_validator(mode="after")
    def _neq_within_gross(self) -> ItemType:
        if self.neq_kg > self.gross_kg:
            raise ValueError(
                f"NEQ per unit {self.neq_kg} kg exceeds gross mass per unit {self.gross_kg} kg "
                "(the explosive content cannot weigh more than the whole article)"
            )
        return self

    @property
    def hd(self) -> str:
        return self.code[:3]

    @property
    def cg(self) -> str:
        return self.code[3]


class Lot(Frozen):
    """A production lot of one item type; ``neq_kg`` overrides the catalogue NEQ per unit.

    Surveillance dates (all optional, ISO dates): manufacture, the last inspection or proof, the
    next one due, and shelf-life expiry. A suspended lot stays suspended until cleared; the custody
    ledger's suspension of the same lot id is the same status (see :mod:`coalition.depots.surveillance`)."""

    id: Ident
    item: Ident
    neq_kg: float | None = Field(default=None, gt=0, le=100_000, allow_inf_nan=False)
    note: str = Field(default="", max_length=500)
    manufactured: date | None = None
    last_inspected: date | None = Field(default=None, description="last inspection or proof")
    next_due: date | None = Field(default=None, description="next inspection or proof due")
    expires: date | None = Field(default=None, description="shelf-life expiry")
    suspended: bool = False
    suspension_reason: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Lot:
        if self.manufactured and self.last_inspected and self.last_inspected < self.manufactured:
            raise ValueError(
                f"lot '{self.id}': last_inspected {self.last_inspected} is before manufactured {self.manufactured}"
            )
        if self.manufactured and self.expires and self.expires < self.manufactured:
            raise ValueError(f"lot '{self.id}': expires {self.expires} is before manufactured {self.manufactured}")
        return self


class StockLine(Frozen):
    """How many units of a lot a storehouse holds (or receives, or releases)."""

    storehouse: Ident
    lot: Ident
    quantity: int = Field(ge=1, le=100_000_000)


class StorehouseKind(StrEnum):
    EARTH_COVERED = "earth-covered"  # earth-covered magazine (igloo): front/side/rear faces
    ABOVE_GROUND = "above-ground"  # above-ground building, traversed or not
    OPEN_STACK = "open-stack"
    CONTAINER = "container"  # ISO container used as a storehouse
    UNDERGROUND = "underground"  # underground chamber


class LicenceRecord(Frozen):
    """What the issuing authority wrote on an explosives limit licence (IATG 02.30 fields, recalled
    [U]); nothing here is computed, and what is not recorded is printed as not recorded."""

    number: str | None = Field(default=None, max_length=64)
    issued_on: date | None = None
    valid_until: date | None = None
    review_on: date | None = None
    authority: str | None = Field(default=None, max_length=200, description="issuing technical authority")
    signed_by: str | None = Field(default=None, max_length=200)
    permitted_cgs: tuple[str, ...] | None = Field(default=None, description="compatibility groups permitted")
    conditions: tuple[str, ...] = ()


class Storehouse(Frozen):
    """A potential explosion site (PES) in the depot's local frame (metres, y = north)."""

    @model_validator(mode="before")
    @classmethod
    def _needs_coordinates(cls, data: object) -> object:
        if isinstance(data, dict):
            missing = [k for k in ("x", "y") if data.get(k) is None]
            if missing:
                raise ValueError(
                    f"storehouse '{data.get('id', '?')}' has no coordinates ({' and '.join(missing)} missing): "
                    "every storehouse needs local x and y in metres for quantity-distance"
                )
        return data

    id: Ident
    name: str = Field(default="", max_length=200)
    kind: StorehouseKind
    x: Metres
    y: Metres
    orientation_deg: float = Field(
        default=0.0, ge=0, lt=360, description="bearing the front (door/headwall) faces, deg from north"
    )
    traversed: bool = False
    ecm_type: Literal["7-bar", "3-bar", "undefined"] = Field(
        default="undefined",
        description="earth-covered magazine design as an acceptor (AASTP-1 Annex 1-A); undefined = the most demanding",
    )
    capacity_pallets: int = Field(default=100, ge=0, le=1_000_000)
    licence: LicenceRecord | None = Field(default=None, description="the issued licence's administrative fields")
    licensed_neq_kg: dict[Literal["1.1", "1.2", "1.3", "1.4"], Annotated[float, Field(ge=0)]] | None = Field(
        default=None,
        description=(
            "the explosives limit licence issued for this storehouse, kg NEQ per HD "
            "(1.5/1.6 count under 1.1); an HD absent from it is not licensed; None = no licence recorded"
        ),
    )

    def licensed_kg(self) -> dict[str, float] | None:
        """The licence's limits keyed by plain HD strings (None = no licence recorded)."""
        if self.licensed_neq_kg is None:
            return None
        return {hd: kg for hd, kg in self.licensed_neq_kg.items()}


class ExposedSiteKind(StrEnum):
    INHABITED = "inhabited-building"  # IBD
    VULNERABLE = "vulnerable-building"  # VBD
    ROUTE = "public-traffic-route"  # PTRD if typed minor/low-density, else the profile's busy-route relation
    PROCESS = "process-building"  # PBD
    OTHER_PES = "other-pes"  # IMD (an explosives site outside this model)
    LOW_DENSITY = "low-density-area"  # IBD-LD: the 11.1 Q^1/3 "Blue Line", only where typed so


RELATION_OF: dict[ExposedSiteKind, str] = {
    ExposedSiteKind.INHABITED: "IBD",
    ExposedSiteKind.VULNERABLE: "VBD",
    ExposedSiteKind.ROUTE: "PTRD",
    ExposedSiteKind.PROCESS: "PBD",
    ExposedSiteKind.OTHER_PES: "IMD",
    ExposedSiteKind.LOW_DENSITY: "IBD-LD",
}
#: traffic densities a route may carry; only these two take the reduced PTRD (verification correction 4)
REDUCED_ROUTE_DENSITIES = ("minor", "low")


class ExposedSite(Frozen):
    """Something an explosion must not harm: a point, or a polyline for a road or railway."""

    id: Ident
    name: str = Field(default="", max_length=200)
    kind: ExposedSiteKind
    points: tuple[tuple[Metres, Metres], ...] = Field(min_length=1, max_length=1000)
    density: Literal["minor", "low", "medium", "high"] | None = Field(
        default=None, description="public traffic routes: traffic density; untyped counts as busy"
    )

    @model_validator(mode="after")
    def _density_on_routes(self) -> ExposedSite:
        if self.density is not None and self.kind != ExposedSiteKind.ROUTE:
            raise ValueError(f"exposed site '{self.id}': density is only for public-traffic-route sites")
        return self

    @property
    def relation(self) -> str:
        return RELATION_OF[self.kind]

    @property
    def reduced_route(self) -> bool:
        return self.kind == ExposedSiteKind.ROUTE and self.density in REDUCED_ROUTE_DENSITIES


class Assertion(Frozen):
    """A footnote condition the plan asserts (e.g. fn1: fuzes stored with their own rounds).

    It covers only the items and lots it names: an item placed later needs its own assertion."""

    footnote: Literal["fn1", "fn2", "fn3", "fn4", "fn7"]
    storehouse: Ident | None = Field(default=None, description="None = every storehouse of the depot")
    items: tuple[Ident, ...] = Field(default=(), description="item types the assertion covers")
    lots: tuple[Ident, ...] = Field(default=(), description="lots the assertion covers")
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _scoped(self) -> Assertion:
        if not self.items and not self.lots:
            raise ValueError(
                f"assertion {self.footnote} must name the items or lots it covers "
                "(items: [...] or lots: [...]); an assertion never covers a whole storehouse"
            )
        return self

    def covers(self, item: str | None, lots: frozenset[str] = frozenset()) -> bool:
        return (item is not None and item in self.items) or bool(lots & set(self.lots))


class Depot(Frozen):
    """A protected storage facility at a hub or rear node."""

    id: Ident
    name: str = Field(min_length=1, max_length=200)
    hub: Ident = Field(description="id of the scenario hub or rear node the depot sits at")
    profile: Profile = "iatg"
    receipt_point: tuple[Metres, Metres] = (0.0, 0.0)
    storehouses: tuple[Storehouse, ...] = ()
    exposed_sites: tuple[ExposedSite, ...] = ()
    assertions: tuple[Assertion, ...] = ()
    illustrative: bool = True
    source: str = Field(default="", max_length=2000)

    def asserted(self, storehouse: str) -> frozenset[str]:
        """Footnotes asserted for anything in ``storehouse`` (for display; the check is per item)."""
        return frozenset(a.footnote for a in self.assertions if a.storehouse in (None, storehouse))

    def assertions_for(self, storehouse: str) -> tuple[Assertion, ...]:
        return tuple(a for a in self.assertions if a.storehouse in (None, storehouse))

    def storehouse(self, storehouse_id: str) -> Storehouse | None:
        return next((s for s in self.storehouses if s.id == storehouse_id), None)


class _Memo:
    """Derived lookups cached on a frozen model. It compares equal to any other memo, so caches
    (dicts, numpy arrays) never take part in, or break, model equality. It is unhashable on
    purpose: it defines ``__eq__`` and no ``__hash__``, so Python sets ``__hash__`` to None."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Memo)

    def get(self, key: str, build: Callable[[], _V]) -> _V:
        """The value memoised under ``key`` (each key is always built by the same function)."""
        if key not in self.values:
            self.values[key] = build()
        return cast(_V, self.values[key])


class Catalogue(Frozen):
    """Item types and lots: what is needed to turn a stock line into NEQ and pallets."""

    items: tuple[ItemType, ...] = ()
    lots: tuple[Lot, ...] = ()

    @cached_property
    def _memo(self) -> _Memo:
        return _Memo()

    @property
    def item_by_id(self) -> dict[str, ItemType]:
        return self._memo.get("items", lambda: {i.id: i for i in self.items})

    @property
    def lot_by_id(self) -> dict[str, Lot]:
        return self._memo.get("lots", lambda: {lot.id: lot for lot in self.lots})

    @property
    def lot_positions(self) -> dict[str, int]:
        """Lot id → position in ``lots`` (built once per catalogue; large networks reuse it)."""
        return self._memo.get(
            "positions", lambda: {lot_id: k for k, lot_id in enumerate(map(attrgetter("id"), self.lots))}
        )

    @property
    def lot_hash_index(self) -> object:
        """A pandas Index of lot ids: its C hash table maps a million stock lines several times
        faster than a Python dict can (used by the checks for large stock tables)."""

        def build() -> object:
            import numpy as np
            import pandas as pd

            ids = np.fromiter(map(attrgetter("id"), self.lots), dtype=object, count=len(self.lots))
            return pd.Index(ids, dtype=object)

        return self._memo.get("hash_index", build)

    @property
    def lot_items(self) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """(item id → position, item position per lot, NEQ override per lot with NaN for none)."""

        def build() -> tuple[dict[str, int], np.ndarray, np.ndarray]:
            import numpy as np

            item_index = {it.id: k for k, it in enumerate(self.items)}
            lot_item = np.fromiter(
                map(item_index.__getitem__, map(attrgetter("item"), self.lots)), dtype=np.int64, count=len(self.lots)
            )
            override = np.array([lot.neq_kg for lot in self.lots], dtype=float) if self.lots else np.zeros(0)
            return item_index, lot_item, override

        return self._memo.get("lot_items", build)

    def item_of(self, lot_id: str) -> ItemType | None:
        lot = self.lot_by_id.get(lot_id)
        return None if lot is None else self.item_by_id.get(lot.item)

    def neq_per_unit(self, lot_id: str) -> float:
        lot = self.lot_by_id[lot_id]
        return lot.neq_kg if lot.neq_kg is not None else self.item_by_id[lot.item].neq_kg


class DepotNetwork(Frozen):
    """Every depot of a scenario with its catalogue and stock."""

    note: str = Field(default="", max_length=4000)
    items: tuple[ItemType, ...] = ()
    lots: tuple[Lot, ...] = ()
    depots: tuple[Depot, ...] = ()
    stock: tuple[StockLine, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> DepotNetwork:
        problems = located_reference_problems(self)
        if problems:
            from pydantic import ValidationError
            from pydantic_core import InitErrorDetails, PydanticCustomError

            raise ValidationError.from_exception_data(
                "DepotNetwork",
                [
                    InitErrorDetails(type=PydanticCustomError("reference", msg), loc=loc, input=None)
                    for loc, msg in problems
                ],
            )
        return self

    @cached_property
    def catalogue(self) -> Catalogue:
        # items and lots were validated as part of this network: no second pass over them
        return Catalogue.model_construct(items=self.items, lots=self.lots)

    def depot(self, depot_id: str) -> Depot | None:
        return next((d for d in self.depots if d.id == depot_id), None)

    def depot_of(self, storehouse_id: str) -> Depot | None:
        for depot in self.depots:
            if any(s.id == storehouse_id for s in depot.storehouses):
                return depot
        return None

    def stock_of(self, depot: Depot) -> tuple[StockLine, ...]:
        ids = {s.id for s in depot.storehouses}
        return tuple(line for line in self.stock if line.storehouse in ids)


def _duplicates(values: list[str]) -> list[str]:
    seen: set[str] = set()
    dup: list[str] = []
    for v in values:
        if v in seen and v not in dup:
            dup.append(v)
        seen.add(v)
    return dup


def reference_problems(network: DepotNetwork) -> list[str]:
    """Every broken cross-reference and duplicate id, each naming where it is."""
    return [msg for _, msg in located_reference_problems(network)]


def located_reference_problems(network: DepotNetwork) -> list[tuple[tuple[int | str, ...], str]]:
    """(location in the document, message) for every broken cross-reference and duplicate id, so
    that a reader can name the real file row (not the top of the document)."""
    out: list[tuple[tuple[int | str, ...], str]] = []

    def dups(what: str, entries: list[tuple[tuple[int | str, ...], str]]) -> None:
        seen: dict[str, tuple[int | str, ...]] = {}
        for loc, ident in entries:
            if ident in seen:
                out.append((loc, f"duplicate {what} id '{ident}' (first at {_loc_text(seen[ident])})"))
            else:
                seen[ident] = loc

    dups("item", [(("items", n, "id"), i.id) for n, i in enumerate(network.items)])
    dups("lot", [(("lots", n, "id"), lot.id) for n, lot in enumerate(network.lots)])
    dups("depot", [(("depots", n, "id"), d.id) for n, d in enumerate(network.depots)])
    dups(
        "storehouse",
        [
            (("depots", n, "storehouses", k, "id"), s.id)
            for n, d in enumerate(network.depots)
            for k, s in enumerate(d.storehouses)
        ],
    )
    items = {i.id: i for i in network.items}
    for n, lot in enumerate(network.lots):
        if lot.item not in items:
            out.append((("lots", n, "item"), f"lot '{lot.id}' names unknown item '{lot.item}'"))
        elif lot.neq_kg is not None and lot.neq_kg > items[lot.item].gross_kg:
            out.append(
                (
                    ("lots", n, "neq_kg"),
                    f"lot '{lot.id}' NEQ override {lot.neq_kg} kg exceeds the gross mass "
                    f"{items[lot.item].gross_kg} kg of item '{lot.item}'",
                )
            )
    lots = {lot.id for lot in network.lots}
    storehouses = {s.id for d in network.depots for s in d.storehouses}
    for n, line in enumerate(network.stock):
        if line.lot not in lots:
            out.append((("stock", n, "lot"), f"stock line names unknown lot '{line.lot}'"))
        if line.storehouse not in storehouses:
            out.append((("stock", n, "storehouse"), f"stock line names unknown storehouse '{line.storehouse}'"))
    for n, depot in enumerate(network.depots):
        own = {s.id for s in depot.storehouses}
        dups(
            f"exposed site (depot {depot.id})",
            [(("depots", n, "exposed_sites", k, "id"), e.id) for k, e in enumerate(depot.exposed_sites)],
        )
        out += _assertion_problems(n, depot, own, items.keys(), lots)
    if len(out) > 200:  # summarised with a count, never cut off silently
        out = out[:200] + [((), f"… and {len(out) - 200} more reference problems of the same kinds")]
    return out


def _assertion_problems(
    n: int, depot: Depot, own: AbstractSet[str], items: AbstractSet[str], lots: AbstractSet[str]
) -> list[tuple[tuple[int | str, ...], str]]:
    """Unknown storehouses, items and lots named by depot ``n``'s assertions."""
    out: list[tuple[tuple[int | str, ...], str]] = []
    for k, a in enumerate(depot.assertions):
        at = ("depots", n, "assertions", k)
        if a.storehouse is not None and a.storehouse not in own:
            out.append(((*at, "storehouse"), f"assertion {a.footnote} names unknown storehouse '{a.storehouse}'"))
        out += [
            ((*at, "items"), f"assertion {a.footnote} names unknown item '{it}'") for it in a.items if it not in items
        ]
        out += [
            ((*at, "lots"), f"assertion {a.footnote} names unknown lot '{lot_id}'")
            for lot_id in a.lots
            if lot_id not in lots
        ]
    return out


def _loc_text(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# ---------------------------------------------------------------------------------------------
# Results of the checks
# ---------------------------------------------------------------------------------------------


class Severity(StrEnum):
    ERROR = "error"  # the plan breaks a rule
    WARNING = "warning"  # allowed, but an authority should look (e.g. no licence recorded)
    INFO = "info"


class Finding(Frozen):
    """One result of a safety check, naming the rule and the values it rests on."""

    rule: str = Field(description="stable rule family: classification, mixing, licence, qd.IBD, ...")
    severity: Severity
    depot: str | None = None
    storehouse: str | None = None
    other: str | None = Field(default=None, description="the exposed site or other storehouse")
    message: str
    hd: str | None = None
    neq_kg: float | None = None
    limit_kg: float | None = None
    required_m: float | None = None
    actual_m: float | None = None
    basis: tuple[str, ...] = Field(default=(), description="rulebook record ids the result rests on")
    unverified: tuple[str, ...] = Field(
        default=(), description="rulebook record ids used that are not primary-verified: 'unverified default'"
    )

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    def flag(self) -> str:
        """The 'unverified default' note for outputs ('' when every value used is verified)."""
        if not self.unverified:
            return ""
        return "unverified default: " + ", ".join(self.unverified)


def finite_or_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
