"""The in-memory inventory state the projector works on: serials, lots, stock rows, manifests and
discrepancies as plain rows, the :class:`State` slice a batch of events needs (with what
changed), and the small helpers every event handler shares (moving stock, custody and safety
checks).

Pure logic: it never touches the database; :mod:`coalition.inventory.service` loads and flushes
the rows."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from coalition.errors import ConflictError
from coalition.inventory import schemas as s
from coalition.inventory.schemas import Location, Status


@dataclass
class Serial:
    serial: str
    item_type: str
    title_nation: str
    unit_value: float
    sensitive: bool
    status: str
    reason: str
    custodian: str
    location: str
    hub: str
    depot: str
    storehouse: str
    bay: str
    end_user: str
    end_user_ref: str
    manifest: str
    arrived_on: str | None
    last_counted_on: str | None
    loss_occurred_on: str | None
    loss_reported_on: str | None
    last_seq: int
    issued_by: str = ""  # the nation that issued it to an end user (it alone, or the title holder, takes it back)


@dataclass
class Lot:
    lot: str
    item_type: str
    title_nation: str
    unit_value: float
    neq_kg: float
    hazard: str
    sensitive: bool
    suspended: bool
    suspension_reason: str
    manifest: str
    quantity_registered: int
    arrived_on: str | None
    last_counted_on: str | None
    last_seq: int


@dataclass
class Stock:
    stock_key: str
    lot: str
    status: str
    reason: str
    custodian: str
    location: str
    hub: str
    depot: str
    storehouse: str
    bay: str
    end_user: str
    end_user_ref: str
    manifest: str
    quantity: int
    loss_occurred_on: str | None
    loss_reported_on: str | None
    last_seq: int


@dataclass
class Manifest:
    manifest: str
    donor: str
    origin: str
    destination: str
    status: str
    registered_seq: int
    dispatched_seq: int | None
    received_seq: int | None
    receiver: str = ""  # the consignee named on the manifest: only it signs the receipt


@dataclass
class Discrepancy:
    seq: int
    ref: str
    manifest: str
    location: str
    title_nation: str
    reason: str
    expected: int
    found: int
    status: str = "open"


def row_fields(cls: type) -> list[str]:
    return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class Event:
    """An event as the projector sees it: position, actor, type and validated payload."""

    seq: int
    time: str
    nation: str
    person: str
    type: str
    payload: s._Payload
    recorded: str = ""  # the signed commit time of its batch (when the log received it)

    @property
    def day(self) -> str:
        return self.time[:10]

    @property
    def recorded_day(self) -> str:
        """When the event reached the log (signed commit time); lateness is measured with it."""
        return (self.recorded or self.time)[:10]


#: A safety check: (storehouse location, lots arriving as (Lot, quantity)) -> problems (empty = ok)
SafetyCheck = Callable[["State", Location, list[tuple[Lot, int]]], list[str]]


@dataclass
class State:
    """The slice of the projection a batch of events needs, plus what changed."""

    serials: dict[str, Serial | None] = field(default_factory=dict)
    lots: dict[str, Lot | None] = field(default_factory=dict)
    stocks: dict[str, Stock] = field(default_factory=dict)
    manifests: dict[str, Manifest | None] = field(default_factory=dict)
    lines: dict[str, dict[str, int]] = field(default_factory=dict)  # manifest -> ref -> qty
    discrepancies: list[Discrepancy] = field(default_factory=list)
    new_lines: list[tuple[str, str, int]] = field(default_factory=list)
    dirty_serials: set[str] = field(default_factory=set)
    dirty_lots: set[str] = field(default_factory=set)
    dirty_stocks: set[str] = field(default_factory=set)
    dirty_manifests: set[str] = field(default_factory=set)
    safety: SafetyCheck | None = None  # None = no depot safety check (replay of the log)
    # the rows as loaded (kind -> key -> row tuple), so that a flush inserts new rows and
    # updates only the columns that changed; filled by coalition.inventory.service.load_state
    stored: dict[str, dict[str, tuple[Any, ...]]] = field(default_factory=dict)

    # -- access ---------------------------------------------------------------------------
    def serial(self, ref: str) -> Serial:
        row = self.serials.get(ref)
        if row is None:
            raise ConflictError(f"serial {ref} is not in the ledger (register it on a manifest first)")
        return row

    def lot(self, ref: str) -> Lot:
        row = self.lots.get(ref)
        if row is None:
            raise ConflictError(f"lot {ref} is not in the ledger (register it on a manifest first)")
        return row

    def stocks_of(self, lot: str) -> list[Stock]:
        return [st for st in self.stocks.values() if st.lot == lot]

    def stock(self, lot: str, location: str, status: str, custodian: str, end_user: str = "") -> Stock:
        key = f"{lot}|{location}|{status}|{custodian}|{end_user}"
        st = self.stocks.get(key)
        if st is None:
            loc = Location.parse(location) if location else Location()
            st = Stock(
                key,
                lot,
                status,
                "",
                custodian,
                loc.path,
                loc.hub,
                loc.depot,
                loc.storehouse,
                loc.bay,
                end_user,
                "",
                "",
                0,
                None,
                None,
                0,
            )
            self.stocks[key] = st
        return st

    def touch_serial(self, row: Serial, seq: int) -> None:
        row.last_seq = seq
        self.dirty_serials.add(row.serial)

    def touch_stock(self, row: Stock, seq: int) -> None:
        row.last_seq = seq
        self.dirty_stocks.add(row.stock_key)

    def touch_lot(self, row: Lot, seq: int) -> None:
        row.last_seq = seq
        self.dirty_lots.add(row.lot)

    def open_discrepancy(
        self,
        ev: Event,
        ref: str,
        reason: str,
        expected: int,
        found: int,
        *,
        manifest: str = "",
        location: str = "",
        title: str = "",
    ) -> None:
        self.discrepancies.append(Discrepancy(ev.seq, ref, manifest, location, title, reason, expected, found))


@dataclass
class Applied:
    """What an event did: the counterparty that must countersign it, and what it touched."""

    counterparty: str | None
    refs: set[str]


@lru_cache(maxsize=4096)
def _parts(location: str) -> tuple[str, str, str, str, str]:
    loc = Location.parse(location) if location else Location()
    return loc.path, loc.hub, loc.depot, loc.storehouse, loc.bay


def _place(row: Serial | Stock, location: str) -> None:
    row.location, row.hub, row.depot, row.storehouse, row.bay = _parts(location)


def _move_stock(
    state: State, ev: Event, src: Stock, qty: int, *, status: str, custodian: str, location: str, end_user: str = ""
) -> Stock:
    """Move ``qty`` of ``src`` to the stock row of (lot, location, status, custodian, end user);
    returns that row (marked touched: a caller may still set its manifest or end-user reference)."""
    if qty > src.quantity:
        raise ConflictError(
            f"lot {src.lot}: only {src.quantity} {src.status} at '{src.location or src.end_user}',"
            f" cannot take {qty} (quantities never go negative)"
        )
    src.quantity -= qty
    state.touch_stock(src, ev.seq)
    dst = state.stock(src.lot, location, status, custodian, end_user)
    dst.quantity += qty
    dst.manifest = dst.manifest or src.manifest
    state.touch_stock(dst, ev.seq)
    return dst


def _issued_stock(state: State, lot: str, *, end_user: str, custodian: str) -> Stock | None:
    """The non-empty stock row of ``lot`` issued to ``end_user`` in ``custodian``'s custody, if any."""
    return next(
        (
            st
            for st in state.stocks_of(lot)
            if st.status == Status.ISSUED and st.end_user == end_user and st.custodian == custodian and st.quantity
        ),
        None,
    )


def _held_stock(
    state: State, ev: Event, lot: str, at: str, *, statuses: Collection[Status] = (Status.SERVICEABLE,)
) -> Stock:
    loc = _parts(at)[0] if at else ""
    for st in state.stocks_of(lot):
        if st.location == loc and st.status in statuses and st.custodian == ev.nation and st.quantity:
            return st
    holders = sorted({st.custodian for st in state.stocks_of(lot) if st.location == loc and st.quantity})
    if holders and ev.nation not in holders:
        raise ConflictError(
            f"lot {lot} at '{loc}' is in the custody of {', '.join(holders)}, not {ev.nation}:"
            " only the custodian can move, issue or dispose of it"
        )
    raise ConflictError(f"lot {lot}: no {'/'.join(statuses)} stock held by {ev.nation} at '{loc}'")


def _require_custodian(row: Serial, nation: str, action: str) -> None:
    if row.custodian != nation:
        raise ConflictError(
            f"serial {row.serial} is in the custody of {row.custodian}; only the custodian can"
            f" {action} it (actor: {nation})"
        )


def _check_safety(state: State, location: str, arriving: list[tuple[Lot, int]]) -> None:
    loc = Location.parse(location)
    if state.safety is None or not arriving:
        return  # the safety check itself decides about depot-level and unmodelled locations
    problems = state.safety(state, loc, arriving)
    if problems:
        raise ConflictError(
            f"receipt into {'storehouse ' if loc.storehouse else ''}{loc.path} refused by the depot safety rules: "
            + "; ".join(problems)
        )
