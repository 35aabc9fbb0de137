"""The projector: applies custody events to in-memory inventory state, enforcing the invariants.

Pure logic: it never touches the database. The service loads the rows an event batch touches
into a :class:`State`, calls :func:`apply` for each event in order (so later events in a batch see
earlier ones), and writes back what changed. Replaying the whole log through the same function
rebuilds the projection; that is how the rebuild test proves the two agree.

Invariants enforced here, on every write path (single event, bulk import, replay):
- a serial (and a lot) is registered once;
- only the custodian can dispatch, transfer, issue or dispose of an item;
- quantities never go negative (a move takes at most what the source holds);
- a suspended lot cannot be issued;
- a receipt/transfer into a storehouse passes the depot safety check (``State.safety``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from coalition.errors import ConflictError
from coalition.inventory import schemas as s
from coalition.inventory.schemas import HELD, Location, Reason, Status


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


# ------------------------------------------------------------------------------------------
def _manifest(state: State, ev: Event, p: s.ManifestPayload) -> Applied:
    if state.manifests.get(p.manifest) is not None:
        raise ConflictError(f"manifest {p.manifest} already registered")
    refs = {f"M:{p.manifest}", f"T:{ev.nation}"}
    origin = _parts(p.origin)[0]
    lines: dict[str, int] = {}
    for line in p.serials:
        old = state.serials.get(line.serial)
        if old is not None:
            raise ConflictError(
                f"serial {line.serial} already exists (registered by {old.title_nation} on manifest"
                f" {old.manifest or '?'}): a serial exists once"
            )
        row = Serial(
            line.serial,
            line.item_type,
            ev.nation,
            line.unit_value,
            line.sensitive,
            Status.MANIFESTED,
            "",
            ev.nation,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            p.manifest,
            None,
            None,
            None,
            None,
            ev.seq,
        )
        _place(row, origin)
        state.serials[line.serial] = row
        state.touch_serial(row, ev.seq)
        lines[f"S:{line.serial}"] = 1
        refs.add(f"S:{line.serial}")
    for lline in p.lots:
        if state.lots.get(lline.lot) is not None:
            raise ConflictError(f"lot {lline.lot} already exists: a lot is registered once")
        lot = Lot(
            lline.lot,
            lline.item_type,
            ev.nation,
            lline.unit_value,
            lline.neq_kg,
            lline.hazard,
            lline.sensitive,
            False,
            "",
            p.manifest,
            lline.quantity,
            None,
            None,
            ev.seq,
        )
        state.lots[lline.lot] = lot
        state.touch_lot(lot, ev.seq)
        st = state.stock(lline.lot, origin, Status.MANIFESTED, ev.nation)
        st.quantity += lline.quantity
        st.manifest = p.manifest
        state.touch_stock(st, ev.seq)
        lines[f"L:{lline.lot}"] = lline.quantity
        refs.add(f"L:{lline.lot}")
    state.manifests[p.manifest] = Manifest(
        p.manifest, ev.nation, origin, _parts(p.destination)[0], "registered", ev.seq, None, None, p.receiver
    )
    state.dirty_manifests.add(p.manifest)
    state.lines[p.manifest] = lines
    state.new_lines.extend((p.manifest, ref, qty) for ref, qty in lines.items())
    return Applied(None, refs)


def _get_manifest(state: State, ref: str) -> Manifest:
    m = state.manifests.get(ref)
    if m is None:
        raise ConflictError(f"manifest {ref} is not registered")
    return m


def _dispatch(state: State, ev: Event, p: s.DispatchPayload) -> Applied:
    m = _get_manifest(state, p.manifest)
    if m.status != "registered":
        raise ConflictError(f"manifest {p.manifest} is already {m.status}")
    refs = {f"M:{m.manifest}", f"T:{m.donor}"}
    for ref in state.lines[m.manifest]:
        kind, name = ref.split(":", 1)
        if kind == "S":
            row = state.serial(name)
            if row.status != Status.MANIFESTED:
                continue  # e.g. reported lost before dispatch
            _require_custodian(row, ev.nation, "dispatch")
            row.status = Status.IN_TRANSIT
            state.touch_serial(row, ev.seq)
        else:
            for st in state.stocks_of(name):
                if st.status == Status.MANIFESTED and st.quantity:
                    if st.custodian != ev.nation:
                        raise ConflictError(
                            f"lot {name} is in the custody of {st.custodian}; only the custodian can dispatch it"
                        )
                    _move_stock(
                        state,
                        ev,
                        st,
                        st.quantity,
                        status=Status.IN_TRANSIT,
                        custodian=st.custodian,
                        location=st.location,
                    )
        refs.add(ref)
    m.status, m.dispatched_seq = "dispatched", ev.seq
    state.dirty_manifests.add(m.manifest)
    return Applied(None, refs)


@dataclass
class _Receiving:
    """One receipt being applied: what it touched, who dispatched it, what is still in transit."""

    state: State
    ev: Event
    p: s.ReceiptPayload
    m: Manifest
    location: str
    refs: set[str]
    dispatchers: set[str] = field(default_factory=set)
    left_in_transit: bool = False
    arriving: list[tuple[Lot, int]] = field(default_factory=list)
    by_house: dict[str, list[tuple[Lot, int]]] = field(default_factory=dict)


def _receive_serials(r: _Receiving, lines: Iterable[str]) -> None:
    state, ev, p, m, location = r.state, r.ev, r.p, r.m, r.location
    received = set(p.serials)
    quarantine = set(p.quarantine)
    for ref in lines:
        kind, name = ref.split(":", 1)
        if kind != "S":
            continue
        row = state.serial(name)
        if row.status != Status.IN_TRANSIT:
            received.discard(name)
            continue
        r.dispatchers.add(row.custodian)
        r.refs.add(ref)
        if name in received:
            row.status = Status.QUARANTINED if name in quarantine else Status.SERVICEABLE
            row.reason = Reason.DAMAGED_IN_TRANSIT if name in quarantine else ""
            row.custodian = ev.nation
            _place(row, location)
            row.arrived_on = row.arrived_on or ev.day
            state.touch_serial(row, ev.seq)
            received.discard(name)
        else:
            r.left_in_transit = True
            state.open_discrepancy(
                ev,
                ref,
                p.reasons.get(name, Reason.SHORT_SHIPPED),
                1,
                0,
                manifest=m.manifest,
                location=location,
                title=row.title_nation,
            )
    for name in sorted(received):
        state.open_discrepancy(
            ev,
            f"S:{name}",
            p.reasons.get(name, Reason.NOT_ON_MANIFEST),
            0,
            1,
            manifest=m.manifest,
            location=location,
            title=m.donor,
        )


def _receive_lot(
    r: _Receiving, ref: str, lot: Lot, src: Stock, found: int, put_away: dict[str, list[tuple[str, int]]] | None
) -> None:
    """Move what was found of one lot in transit into custody (by the placement when given) and
    open a discrepancy for a short or over shipment."""
    state, ev, p, m, location = r.state, r.ev, r.p, r.m, r.location
    name = ref.split(":", 1)[1]
    before = src.quantity
    take = min(found, before)
    if take and put_away is not None:
        if found > before:
            raise ConflictError(
                f"lot {name}: {found} received but {before} in transit; an "
                "over-shipped lot cannot be put away by a placement"
            )
        for house, qty in put_away.get(name, []):
            dst = _move_stock(
                state, ev, src, qty, status=Status.SERVICEABLE, custodian=ev.nation, location=f"{location}/{house}"
            )
            dst.manifest = m.manifest
            r.by_house.setdefault(house, []).append((lot, qty))
        lot.arrived_on = lot.arrived_on or ev.day
        state.touch_lot(lot, ev.seq)
    elif take:
        dst = _move_stock(state, ev, src, take, status=Status.SERVICEABLE, custodian=ev.nation, location=location)
        dst.manifest = m.manifest
        r.arriving.append((lot, take))
        lot.arrived_on = lot.arrived_on or ev.day
        state.touch_lot(lot, ev.seq)
    if found < before:
        r.left_in_transit = True
        state.open_discrepancy(
            ev,
            ref,
            p.reasons.get(name, Reason.SHORT_SHIPPED),
            before,
            found,
            manifest=m.manifest,
            location=location,
            title=lot.title_nation,
        )
    elif found > before:
        state.open_discrepancy(
            ev,
            ref,
            p.reasons.get(name, Reason.OVER_SHIPPED),
            before,
            found,
            manifest=m.manifest,
            location=location,
            title=lot.title_nation,
        )


def _receive_lots(r: _Receiving, lines: Iterable[str], put_away: dict[str, list[tuple[str, int]]] | None) -> None:
    state = r.state
    got = {q.lot: q.quantity for q in r.p.lots}
    for ref in lines:
        kind, name = ref.split(":", 1)
        if kind != "L":
            continue
        lot = state.lot(name)
        transit = [st for st in state.stocks_of(name) if st.status == Status.IN_TRANSIT and st.quantity]
        if not transit:
            got.pop(name, None)
            continue
        src = transit[0]
        r.dispatchers.add(src.custodian)
        r.refs.add(ref)
        _receive_lot(r, ref, lot, src, got.pop(name, 0), put_away)
    for name, found in sorted(got.items()):
        state.open_discrepancy(
            r.ev,
            f"L:{name}",
            r.p.reasons.get(name, Reason.NOT_ON_MANIFEST),
            0,
            found,
            manifest=r.m.manifest,
            location=r.location,
            title=r.m.donor,
        )


def _receipt(state: State, ev: Event, p: s.ReceiptPayload) -> Applied:
    m = _get_manifest(state, p.manifest)
    if m.status not in ("dispatched", "partially_received"):
        raise ConflictError(f"manifest {p.manifest} is {m.status}: only a dispatched manifest can be receipted")
    if ev.nation != m.receiver:
        raise ConflictError(
            f"manifest {p.manifest} is consigned to {m.receiver or 'nobody'}: only the receiving"
            f" nation signs its receipt, not {ev.nation}"
        )
    location = _parts(p.location)[0]
    r = _Receiving(state, ev, p, m, location, refs={f"M:{m.manifest}", f"T:{m.donor}"})
    lines = state.lines[m.manifest]
    _receive_serials(r, lines)
    put_away = _put_away(p, location)
    _receive_lots(r, lines, put_away)
    if not r.dispatchers:
        raise ConflictError(f"manifest {p.manifest}: nothing is in transit to receipt")
    if len(r.dispatchers) > 1:
        raise ConflictError(f"manifest {p.manifest} is in the custody of several nations")
    if put_away is not None:
        unknown = sorted(set(put_away) - {x.split(":", 1)[1] for x in r.refs if x.startswith("L:")})
        if unknown:
            raise ConflictError(
                f"placement names lot(s) not received from manifest {p.manifest}: " + ", ".join(unknown)
            )
        for house, got_here in sorted(r.by_house.items()):
            _check_safety(state, f"{location}/{house}", got_here)
    else:
        _check_safety(state, location, r.arriving)
    m.status = "partially_received" if r.left_in_transit else "received"
    m.received_seq = ev.seq
    state.dirty_manifests.add(m.manifest)
    return Applied(r.dispatchers.pop(), r.refs)


def _put_away(p: s.ReceiptPayload, location: str) -> dict[str, list[tuple[str, int]]] | None:
    """The receipt's placement per lot (storehouse, quantity), or None without one. A placement
    receives into a depot (``hub/depot``), each lot into the storehouses it names."""
    if not p.placement:
        return None
    loc = Location.parse(location)
    if not loc.depot or loc.storehouse:
        raise ConflictError(
            f"a receipt with a placement is received at a depot (hub/depot), not at "
            f"'{location}': the placement names the storehouses"
        )
    out: dict[str, list[tuple[str, int]]] = {}
    for x in p.placement:
        out.setdefault(x.lot, []).append((x.storehouse, x.quantity))
    return out


def _serials_held_by_actor(
    state: State, ev: Event, names: list[str], action: str, statuses: Collection[Status] = HELD
) -> list[Serial]:
    rows = []
    for name in names:
        row = state.serial(name)
        _require_custodian(row, ev.nation, action)
        if row.status not in statuses:
            raise ConflictError(f"serial {name} is {row.status}; cannot {action} it")
        rows.append(row)
    return rows


def _transfer(state: State, ev: Event, p: s.TransferPayload) -> Applied:
    refs: set[str] = set()
    to = _parts(p.to)[0]
    for row in _serials_held_by_actor(state, ev, p.serials, "transfer"):
        _place(row, to)
        state.touch_serial(row, ev.seq)
        refs |= {f"S:{row.serial}", f"T:{row.title_nation}"}
    arriving = []
    for q in p.lots:
        lot = state.lot(q.lot)
        src = _held_stock(state, ev, q.lot, q.at, statuses=(Status.SERVICEABLE, Status.QUARANTINED))
        _move_stock(state, ev, src, q.quantity, status=src.status, custodian=ev.nation, location=to)
        arriving.append((lot, q.quantity))
        refs |= {f"L:{q.lot}", f"T:{lot.title_nation}"}
    _check_safety(state, to, arriving)
    return Applied(None, refs)


def _issue(state: State, ev: Event, p: s.IssuePayload) -> Applied:
    refs: set[str] = set()
    for row in _serials_held_by_actor(state, ev, p.serials, "issue", statuses={Status.SERVICEABLE}):
        row.status, row.custodian, row.issued_by = Status.ISSUED, p.to_nation, ev.nation
        row.end_user, row.end_user_ref = p.end_user, p.reference
        _place(row, "")
        state.touch_serial(row, ev.seq)
        refs |= {f"S:{row.serial}", f"T:{row.title_nation}"}
    for q in p.lots:
        lot = state.lot(q.lot)
        if lot.suspended:
            raise ConflictError(f"lot {q.lot} is suspended ({lot.suspension_reason}): a suspended lot cannot be issued")
        src = _held_stock(state, ev, q.lot, q.at)
        dst = _move_stock(
            state, ev, src, q.quantity, status=Status.ISSUED, custodian=p.to_nation, location="", end_user=p.end_user
        )
        if p.reference:
            dst.end_user_ref = p.reference
        refs |= {f"L:{q.lot}", f"T:{lot.title_nation}"}
    return Applied(p.to_nation, refs)


def _return(state: State, ev: Event, p: s.ReturnPayload) -> Applied:
    refs: set[str] = set()
    to = _parts(p.to)[0]
    arriving = []
    for name in p.serials:
        row = state.serial(name)
        if row.status != Status.ISSUED or row.custodian != p.from_nation:
            raise ConflictError(f"serial {name} is not issued to a {p.from_nation} unit (it is {row.status})")
        if ev.nation not in (row.issued_by, row.title_nation):
            raise ConflictError(
                f"serial {name} was issued by {row.issued_by or '?'} (title {row.title_nation}):"
                f" only they can take it back, not {ev.nation}"
            )
        row.status, row.custodian, row.end_user, row.end_user_ref = Status.SERVICEABLE, ev.nation, "", ""
        row.issued_by = ""
        _place(row, to)
        state.touch_serial(row, ev.seq)
        refs |= {f"S:{name}", f"T:{row.title_nation}"}
    for q in p.lots:
        lot = state.lot(q.lot)
        src = _issued_stock(state, q.lot, end_user=q.end_user, custodian=p.from_nation)
        if src is None:
            raise ConflictError(f"lot {q.lot}: nothing issued to end user '{q.end_user}' to return")
        _move_stock(state, ev, src, q.quantity, status=Status.SERVICEABLE, custodian=ev.nation, location=to)
        arriving.append((lot, q.quantity))
        refs |= {f"L:{q.lot}", f"T:{lot.title_nation}"}
    _check_safety(state, to, arriving)
    return Applied(p.from_nation, refs)


def _held_titles(state: State, where: Location) -> tuple[dict[str, str], dict[str, str]]:
    """Serials and lots held at or below ``where``, each with its title nation."""
    serials = {
        r.serial: r.title_nation
        for r in state.serials.values()
        if r is not None and r.status in HELD and r.location and Location.parse(r.location).within(where)
    }
    lots: dict[str, str] = {}
    for st in state.stocks.values():
        if st.status in HELD and st.quantity and st.location and Location.parse(st.location).within(where):
            lot = state.lots.get(st.lot)
            lots[st.lot] = lot.title_nation if lot else s.UNRECORDED
    return serials, lots


def split_count(state: State, p: s.CountPayload, *, stocktake: int) -> list[s.CountPayload]:
    """One blind stocktake as one count per title nation of the items concerned (held there, or
    counted there and known to the ledger), plus one ``unrecorded`` part for counted items the
    ledger does not know (or alone, when nothing at all is concerned). Each part is released, by
    the ordinary rules, only to its title nation (the unrecorded part: to none), HQ and the
    counter; applied in turn they project as one whole-location count did."""
    if p.title or p.stocktake:
        from coalition.errors import InputError, Problem

        raise InputError(
            [
                Problem(
                    "a count's title and stocktake are set by the ledger when it "
                    "splits the count per title nation; leave them out",
                    field="payload.title",
                )
            ]
        )
    held_serials, held_lots = _held_titles(state, Location.parse(p.location))
    serials: dict[str, list[str]] = {t: [] for t in held_serials.values()}
    lots: dict[str, list[s.LotQty]] = {t: [] for t in held_lots.values()}
    for name in p.serials:
        row = state.serials.get(name)
        serials.setdefault(row.title_nation if row else s.UNRECORDED, []).append(name)
    for q in p.lots:
        lot = state.lots.get(q.lot)
        lots.setdefault(lot.title_nation if lot else s.UNRECORDED, []).append(q)
    titles = sorted(set(serials) | set(lots), key=lambda t: (t == s.UNRECORDED, t)) or [s.UNRECORDED]
    return [
        s.CountPayload(
            location=p.location, serials=serials.get(t, []), lots=lots.get(t, []), title=t, stocktake=stocktake
        )
        for t in titles
    ]


def _count_part(state: State, ev: Event, p: s.CountPayload) -> Applied:
    """One title nation's part of a split count (or the part of items the ledger lacks)."""
    path = Location.parse(p.location).path
    held_serials, held_lots = _held_titles(state, Location.parse(p.location))
    for kind, names, known in (("serial", p.serials, state.serials), ("lot", [q.lot for q in p.lots], state.lots)):
        for name in names:
            row = known.get(name)
            title = row.title_nation if row else s.UNRECORDED
            if title != p.title:
                raise ConflictError(
                    f"{kind} {name} is {title}'s, not in the {p.title} part of the count"
                    " (a count part names only its own title nation's items)"
                )
    refs: set[str] = {f"T:{p.title}"} if p.title != s.UNRECORDED else set()
    counted = set(p.serials)
    for name in sorted(n for n, t in held_serials.items() if t == p.title):
        row = state.serials[name]
        assert row is not None
        refs.add(f"S:{name}")
        if name in counted:
            row.last_counted_on = ev.day
            state.touch_serial(row, ev.seq)
        else:
            state.open_discrepancy(
                ev, f"S:{name}", Reason.NOT_FOUND_AT_COUNT, 1, 0, location=row.location, title=row.title_nation
            )
    for name in sorted(counted - set(held_serials)):
        state.open_discrepancy(
            ev,
            f"S:{name}",
            Reason.FOUND_AT_COUNT,
            0,
            1,
            location=path,
            title="" if p.title == s.UNRECORDED else p.title,
        )
        refs.add(f"S:{name}")
    held: dict[str, int] = {}
    for st in state.stocks.values():
        if (
            held_lots.get(st.lot) == p.title
            and st.status in HELD
            and st.location
            and Location.parse(st.location).within(Location.parse(p.location))
        ):
            held[st.lot] = held.get(st.lot, 0) + st.quantity
    got = {q.lot: q.quantity for q in p.lots}
    for name in sorted(set(held) | set(got)):
        exp, found = held.get(name, 0), got.get(name, 0)
        if exp == 0 and found == 0:
            continue
        lot = state.lots.get(name)
        title = lot.title_nation if lot else ""
        refs.add(f"L:{name}")
        if lot is not None and found:
            lot.last_counted_on = ev.day
            state.touch_lot(lot, ev.seq)
        if found != exp:
            state.open_discrepancy(
                ev,
                f"L:{name}",
                Reason.COUNT_SHORT if found < exp else Reason.COUNT_OVER,
                exp,
                found,
                location=path,
                title=title,
            )
    return Applied(None, refs)


def _count(state: State, ev: Event, p: s.CountPayload) -> Applied:
    if p.title:
        return _count_part(state, ev, p)
    where = Location.parse(p.location)
    path = where.path
    refs: set[str] = set()
    counted = set(p.serials)
    expected = {
        r.serial: r
        for r in state.serials.values()
        if r is not None and r.status in HELD and r.location and Location.parse(r.location).within(where)
    }
    for name, row in expected.items():
        refs |= {f"S:{name}", f"T:{row.title_nation}"}
        if name in counted:
            row.last_counted_on = ev.day
            state.touch_serial(row, ev.seq)
        else:
            state.open_discrepancy(
                ev, f"S:{name}", Reason.NOT_FOUND_AT_COUNT, 1, 0, location=row.location, title=row.title_nation
            )
    for name in sorted(counted - set(expected)):
        extra = state.serials.get(name)
        state.open_discrepancy(
            ev, f"S:{name}", Reason.FOUND_AT_COUNT, 0, 1, location=path, title=extra.title_nation if extra else ""
        )
        refs.add(f"S:{name}")
        if row:
            refs.add(f"T:{row.title_nation}")
    held: dict[str, int] = {}
    for st in state.stocks.values():
        if st.status in HELD and st.location and Location.parse(st.location).within(where):
            held[st.lot] = held.get(st.lot, 0) + st.quantity
    got = {q.lot: q.quantity for q in p.lots}
    for name in sorted(set(held) | set(got)):
        exp, found = held.get(name, 0), got.get(name, 0)
        if exp == 0 and found == 0:
            continue
        lot = state.lots.get(name)
        title = lot.title_nation if lot else ""
        refs.add(f"L:{name}")
        if title:
            refs.add(f"T:{title}")
        if lot is not None and found:
            lot.last_counted_on = ev.day
            state.touch_lot(lot, ev.seq)
        if found < exp:
            state.open_discrepancy(ev, f"L:{name}", Reason.COUNT_SHORT, exp, found, location=path, title=title)
        elif found > exp:
            state.open_discrepancy(ev, f"L:{name}", Reason.COUNT_OVER, exp, found, location=path, title=title)
    return Applied(None, refs)


def _end(
    state: State, ev: Event, p: s.LossPayload | s.DisposalPayload, status: str, *, occurred_on: str | None
) -> Applied:
    refs: set[str] = set()
    allowed = {*HELD, Status.IN_TRANSIT, Status.ISSUED, Status.MANIFESTED}
    for row in _serials_held_by_actor(state, ev, p.serials, "report the loss or disposal of", statuses=allowed):
        row.status = status
        if occurred_on:
            row.loss_occurred_on, row.loss_reported_on = occurred_on, ev.recorded_day
        state.touch_serial(row, ev.seq)
        refs |= {f"S:{row.serial}", f"T:{row.title_nation}"}
    for q in p.lots:
        lot = state.lot(q.lot)
        if q.end_user:
            src = _issued_stock(state, q.lot, end_user=q.end_user, custodian=ev.nation)
            if src is None:
                raise ConflictError(f"lot {q.lot}: nothing issued to '{q.end_user}' in {ev.nation}'s custody")
        else:
            src = _held_stock(
                state, ev, q.lot, q.at, statuses=(Status.SERVICEABLE, Status.QUARANTINED, Status.IN_TRANSIT)
            )
        dst = _move_stock(
            state, ev, src, q.quantity, status=status, custodian=ev.nation, location=src.location, end_user=src.end_user
        )
        if occurred_on:
            dst.loss_occurred_on, dst.loss_reported_on = occurred_on, ev.recorded_day
        refs |= {f"L:{q.lot}", f"T:{lot.title_nation}"}
    return Applied(None, refs)


def _loss(state: State, ev: Event, p: s.LossPayload) -> Applied:
    return _end(state, ev, p, p.kind, occurred_on=p.occurred_on.isoformat())


def _disposal(state: State, ev: Event, p: s.DisposalPayload) -> Applied:
    return _end(state, ev, p, p.kind, occurred_on=None)


def _suspension(state: State, ev: Event, p: s.SuspensionPayload) -> Applied:
    lot = state.lot(p.lot)
    if ev.nation != lot.title_nation:
        raise ConflictError(
            f"lot {p.lot} is suspended and lifted by its title holder {lot.title_nation} only, not {ev.nation}"
        )
    lot.suspended, lot.suspension_reason = p.suspended, p.reason if p.suspended else ""
    state.touch_lot(lot, ev.seq)
    return Applied(None, {f"L:{p.lot}", f"T:{lot.title_nation}"})


# each handler takes the payload class of its event type (the Event was validated against it)
HANDLERS: dict[str, Callable[[State, Event, Any], Applied]] = {
    "manifest": _manifest,
    "dispatch": _dispatch,
    "receipt": _receipt,
    "transfer": _transfer,
    "issue": _issue,
    "return": _return,
    "count": _count,
    "loss": _loss,
    "disposal": _disposal,
    "suspension": _suspension,
}

__all__ = ["Applied", "Event", "HANDLERS", "State", "apply", "split_count"]


def apply(state: State, ev: Event) -> Applied:
    """Apply one event; raise :class:`ConflictError` (naming the item) if an invariant breaks."""
    if isinstance(ev.payload, s.CorrectionPayload):
        return Applied(None, {f"E:{ev.payload.reverses}"})
    return HANDLERS[ev.type](state, ev, ev.payload)
