"""Typed values of the inventory: statuses, reason codes, locations and custody-event payloads.

Every custody event carries one of the payload models below; the projector
(:mod:`coalition.inventory.projector`) turns a validated payload into state changes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

Nation = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 3166 alpha-3")]
Ref = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
#: lot and item-type ids follow the depots catalogue's identifier rule, so the safety check can use them
CatId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]


def _location(text: str) -> str:
    parts = [p.strip() for p in text.strip().strip("/").split("/")] if text.strip() else []
    if len(parts) > 4 or any(not p for p in parts):
        raise ValueError("a location is hub/depot/storehouse/bay: at most 4 non-empty parts, e.g. UA-LVIV/LV-D1/SH-1")
    return text


LocationText = Annotated[str, Field(min_length=1, max_length=250), AfterValidator(_location)]
OptLocation = Annotated[str, Field(max_length=250), AfterValidator(_location)]
Qty = Annotated[int, Field(ge=1, le=1_000_000_000)]


class Status(StrEnum):
    """Where an item stands in its life; ``reason`` on the row says why."""

    MANIFESTED = "manifested"  # registered serial by serial before shipment, still with the donor
    IN_TRANSIT = "in_transit"  # dispatched, not yet receipted: still the dispatcher's custody
    SERVICEABLE = "serviceable"
    QUARANTINED = "quarantined"
    SUSPENDED = "suspended"  # shown for held stock of a suspended lot (the lot carries the flag)
    ISSUED = "issued"  # handed to a Ukrainian end user with an agreement / EUC reference
    LOST = "lost"
    STOLEN = "stolen"
    DESTROYED = "destroyed"
    EXPENDED = "expended"
    TRANSFERRED_OUT = "transferred_out"


#: Statuses in which the item is physically held in a coalition location.
HELD = frozenset({Status.SERVICEABLE, Status.QUARANTINED})
#: Statuses that end accountability at the coalition (terminal).
GONE = frozenset({Status.LOST, Status.STOLEN, Status.DESTROYED, Status.EXPENDED, Status.TRANSFERRED_OUT})


class Reason(StrEnum):
    """Reason codes for discrepancies and status changes (see docs/inventory.md)."""

    SHORT_SHIPPED = "short_shipped"  # on the manifest, not in the receipt
    NOT_ON_MANIFEST = "not_on_manifest"  # in the receipt, not on the manifest
    OVER_SHIPPED = "over_shipped"  # more of a lot than manifested
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    NOT_FOUND_AT_COUNT = "not_found_at_count"  # ledger says here, counter did not find it
    FOUND_AT_COUNT = "found_at_count"  # counter found it, ledger says elsewhere or unknown
    COUNT_SHORT = "count_short"
    COUNT_OVER = "count_over"
    DATA_ENTRY_ERROR = "data_entry_error"
    UNEXPLAINED = "unexplained"


class Location(BaseModel):
    """``hub/depot/storehouse/bay`` (later parts optional); outside a hub, any free-text place."""

    model_config = ConfigDict(frozen=True)

    hub: str = ""
    depot: str = ""
    storehouse: str = ""
    bay: str = ""

    @classmethod
    def parse(cls, text: str) -> Location:
        return _parse_location(text)

    @property
    def path(self) -> str:
        return "/".join(p for p in (self.hub, self.depot, self.storehouse, self.bay) if p)

    def within(self, prefix: Location) -> bool:
        mine = (self.hub, self.depot, self.storehouse, self.bay)
        theirs = (prefix.hub, prefix.depot, prefix.storehouse, prefix.bay)
        return all(t == "" or t == m for m, t in zip(mine, theirs, strict=True))


@lru_cache(maxsize=4096)  # locations repeat endlessly on the append hot path; Location is frozen
def _parse_location(text: str) -> Location:
    parts = [p.strip() for p in text.strip().strip("/").split("/")]
    if len(parts) > 4:
        raise ValueError("a location has at most 4 parts: hub/depot/storehouse/bay")
    parts += [""] * (4 - len(parts))
    return Location(hub=parts[0], depot=parts[1], storehouse=parts[2], bay=parts[3])


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ManifestSerial(_Payload):
    serial: Ref
    item_type: CatId
    unit_value: float = Field(default=0.0, ge=0, le=1e10, description="declared value, USD")
    sensitive: bool = Field(default=False, description="designated for enhanced end-use monitoring")


class ManifestLot(_Payload):
    lot: CatId
    item_type: CatId
    quantity: Qty
    unit_value: float = Field(default=0.0, ge=0, le=1e10)
    neq_kg: float = Field(default=0.0, ge=0, le=100_000, description="net explosive quantity per unit")
    hazard: str = Field(default="", pattern=r"^$|^1\.[1-6][A-LNS]$", description="e.g. '1.1D'")
    sensitive: bool = False


class LotQty(_Payload):
    lot: CatId
    quantity: Qty


class LotAt(_Payload):
    """A quantity of a lot taken from one location (``at``), or from an end user for a return."""

    lot: CatId
    quantity: Qty
    at: OptLocation = Field(default="", description="location the stock is taken from")
    end_user: str = Field(default="", max_length=120)


def _unique(values: list[str], what: str) -> list[str]:
    dup = sorted(v for v, n in Counter(values).items() if n > 1)
    if dup:
        raise ValueError(f"{what} listed twice: {', '.join(dup[:5])}")
    return values


class _Items(_Payload):
    serials: list[Ref] = Field(default_factory=list, max_length=100_000)
    lots: list[LotAt] = Field(default_factory=list, max_length=10_000)

    @field_validator("serials")
    @classmethod
    def _no_dup_serials(cls, v: list[str]) -> list[str]:
        return _unique(v, "serial")

    @model_validator(mode="after")
    def _something(self) -> _Items:
        if not self.serials and not self.lots:
            raise ValueError("name at least one serial or lot")
        return self


class ManifestPayload(_Payload):
    manifest: Ref
    origin: LocationText
    destination: LocationText
    receiver: Nation = Field(description="the consignee nation: only it signs the receipt")
    serials: list[ManifestSerial] = Field(default_factory=list, max_length=100_000)
    lots: list[ManifestLot] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _check(self) -> ManifestPayload:
        if not self.serials and not self.lots:
            raise ValueError("a manifest lists at least one serial or lot")
        _unique([s.serial for s in self.serials], "serial")
        _unique([lot.lot for lot in self.lots], "lot")
        return self


class DispatchPayload(_Payload):
    manifest: Ref
    carrier: str = Field(default="", max_length=120)


class _SerialsAndLotQuantities(_Payload):
    """Base of payloads listing serials and lot quantities: each serial and lot at most once.
    Subclasses declare ``serials`` and ``lots`` with their own size limits; the validators apply."""

    @field_validator("serials", check_fields=False)
    @classmethod
    def _no_dup(cls, v: list[str]) -> list[str]:
        return _unique(v, "serial")

    @field_validator("lots", check_fields=False)
    @classmethod
    def _no_dup_lots(cls, v: list[LotQty]) -> list[LotQty]:
        _unique([x.lot for x in v], "lot")
        return v


StorehouseId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]


class PutAway(_Payload):
    """Where a received lot quantity is stored: a storehouse of the receiving depot."""

    lot: CatId
    quantity: Qty
    storehouse: StorehouseId


class ReceiptPayload(_SerialsAndLotQuantities):
    """Receipt at ``location``, matched serial by serial against the manifest.

    ``placement`` (optional) puts the received lot quantities away into storehouses of the depot
    that ``location`` names (``hub/depot``): an accepted placement. Each lot's placed quantities
    add up to its received quantity, and each storehouse passes the safety check with what it
    gets. Left out of the encoded payload when empty, so receipts without it encode as before.
    """

    manifest: Ref
    location: LocationText
    serials: list[Ref] = Field(default_factory=list, max_length=100_000)
    lots: list[LotQty] = Field(default_factory=list, max_length=10_000)
    quarantine: list[Ref] = Field(default_factory=list, description="received but not serviceable")
    reasons: dict[str, Reason] = Field(
        default_factory=dict, description="reason code per serial/lot that differs from the manifest"
    )
    placement: list[PutAway] = Field(
        default_factory=list, max_length=10_000, description="put-away of the received lots into storehouses"
    )

    @model_validator(mode="after")
    def _placement_sums(self) -> ReceiptPayload:
        if not self.placement:
            return self
        got = {q.lot: q.quantity for q in self.lots}
        placed: dict[str, int] = {}
        for x in self.placement:
            placed[x.lot] = placed.get(x.lot, 0) + x.quantity
        wrong = sorted(lot for lot in set(got) | set(placed) if got.get(lot, 0) != placed.get(lot, 0))
        if wrong:
            raise ValueError(
                "placement must put away exactly the received quantity of each lot: "
                + ", ".join(f"{lot} received {got.get(lot, 0)}, placed {placed.get(lot, 0)}" for lot in wrong[:5])
            )
        return self

    @model_serializer(mode="wrap")
    def _omit_empty_placement(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, object]:
        out: dict[str, object] = handler(self)
        if not out.get("placement"):
            out.pop("placement", None)
        return out


class TransferPayload(_Items):
    to: LocationText


class IssuePayload(_Items):
    end_user: str = Field(min_length=1, max_length=120, description="receiving Ukrainian unit")
    reference: str = Field(min_length=1, max_length=120, description="agreement or EUC reference")
    to_nation: Nation = "UKR"


class ReturnPayload(_Items):
    to: LocationText
    from_nation: Nation = "UKR"


UNRECORDED = "unrecorded"  # the title of a count part naming items the ledger does not know


class CountPayload(_SerialsAndLotQuantities):
    """A blind stocktake of what is held at ``location`` (and below it).

    Without ``title`` (events recorded before counts were split): everything held there. With
    ``title`` set by the ledger when it splits a stocktake (``counts.split_count``): only the
    items of that title nation there, or, for ``unrecorded``, only items the ledger does not
    know. ``stocktake`` is the seq of the stocktake's first part, shared by all its parts. Both
    are left out of the encoded payload when empty, so older counts encode as before."""

    location: LocationText
    serials: list[Ref] = Field(default_factory=list, max_length=1_000_000)
    lots: list[LotQty] = Field(default_factory=list, max_length=100_000)
    title: str = Field(
        default="",
        pattern=r"^([A-Z]{3}|unrecorded)?$",
        description="set by the ledger: the title nation this part covers",
    )
    stocktake: int = Field(default=0, ge=0, description="set by the ledger: seq of the first part")

    @model_serializer(mode="wrap")
    def _omit_unsplit(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, object]:
        out: dict[str, object] = handler(self)
        if not out.get("title"):
            out.pop("title", None)
        if not out.get("stocktake"):
            out.pop("stocktake", None)
        return out


class LossPayload(_Items):
    kind: Literal["lost", "stolen"]
    occurred_on: date
    note: str = Field(default="", max_length=1000)


class DisposalPayload(_Items):
    kind: Literal["destroyed", "expended", "transferred_out"]
    note: str = Field(default="", max_length=1000)
    to: str = Field(default="", max_length=250, description="recipient when transferred out")


class SuspensionPayload(_Payload):
    lot: CatId
    suspended: bool = True
    reason: str = Field(min_length=1, max_length=200)


class CorrectionPayload(_Payload):
    """Reverse an earlier event; the right facts are then recorded as a new, ordinary event."""

    reverses: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=500)


PAYLOADS: dict[str, type[_Payload]] = {
    "manifest": ManifestPayload,
    "dispatch": DispatchPayload,
    "receipt": ReceiptPayload,
    "transfer": TransferPayload,
    "issue": IssuePayload,
    "return": ReturnPayload,
    "count": CountPayload,
    "loss": LossPayload,
    "disposal": DisposalPayload,
    "suspension": SuspensionPayload,
    "correction": CorrectionPayload,
}
EVENT_TYPES = tuple(PAYLOADS)
